-- name: logkit_store_events
-- type: gauge
-- help: Events in the store now (pruning lowers it, unlike the counters).
SELECT count(*) AS value FROM events
