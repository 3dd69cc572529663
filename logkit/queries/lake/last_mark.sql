-- name: last_mark
-- The store's record of its latest finished batch into the lake $lake (lake.Mark).
-- params: lake
SELECT batch_id, state, epoch_us(cutoff), next_rowid, covered_rows FROM lake_batches
WHERE lake = $lake AND state <> 'writing'
ORDER BY started_at DESC, batch_id DESC
LIMIT 1
