-- name: mark_pruned
-- The lake's archived batches are now only in the lake: their events left the store.
-- params: lake
UPDATE lake_batches SET state = 'pruned' WHERE lake = $lake AND state = 'archived'
