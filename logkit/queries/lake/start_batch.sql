-- name: start_batch
-- A batch about to be written: 'writing' until its manifest is committed.
-- params: lake, batch, host, cutoff, next_rowid
INSERT INTO lake_batches (lake, batch_id, host, state, cutoff, next_rowid, started_at)
VALUES ($lake, $batch, $host, 'writing', $cutoff, $next_rowid, now())
