-- name: finish_batch
-- A batch whose manifest is committed: archived, with what it holds and how many of the
-- store's events it covers (to tell later whether the store renumbered them).
-- params: lake, batch, covered, events, files, bytes
UPDATE lake_batches SET state = 'archived', covered_rows = $covered,
    events = $events, files = $files, bytes = $bytes, finished_at = now()
WHERE lake = $lake AND batch_id = $batch
