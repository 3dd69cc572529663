-- name: events_extent
-- The rowid after the last event, and how many events there are.
-- params:
SELECT coalesce(max(rowid) + 1, 0), count(*) FROM events
