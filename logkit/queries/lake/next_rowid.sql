-- name: next_rowid
-- The rowid after the store's last event: a batch takes the events below it.
-- params:
SELECT coalesce(max(rowid) + 1, 0) FROM events
