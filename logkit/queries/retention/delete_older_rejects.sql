-- name: delete_older_rejects
-- Delete the rejects older than $cutoff (count_older.sql counts them).
-- params: cutoff
DELETE FROM rejects WHERE ingested_at < $cutoff
