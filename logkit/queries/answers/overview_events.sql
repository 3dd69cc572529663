-- name: overview_events
-- Events, the first and last timestamp (microseconds) and errors in the store.
-- params:
SELECT count(*), epoch_us(min(ts)), epoch_us(max(ts)), count(*) FILTER (WHERE is_error(level))
FROM events
