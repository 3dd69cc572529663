-- name: delete_older_events
-- Delete the events older than $cutoff (count_older.sql counts them).
-- params: cutoff
DELETE FROM events WHERE ts < $cutoff
