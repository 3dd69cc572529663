-- name: unfinished_batches
-- The batches a killed run left 'writing', oldest first.
-- params: lake
SELECT batch_id, host, next_rowid, epoch_us(cutoff) FROM lake_batches
WHERE lake = $lake AND state = 'writing'
ORDER BY started_at
