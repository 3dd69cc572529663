-- name: count_older
-- The events and the rejects older than $cutoff: what a prune to it deletes.
-- params: cutoff
SELECT (SELECT count(*) FROM events WHERE ts < $cutoff),
    (SELECT count(*) FROM rejects WHERE ingested_at < $cutoff)
