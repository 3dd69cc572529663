-- name: forget_batch
-- A batch that never got its manifest: its files are gone, and so is its record.
-- params: lake, batch
DELETE FROM lake_batches WHERE lake = $lake AND batch_id = $batch
