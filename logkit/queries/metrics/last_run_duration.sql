-- name: logkit_last_run_duration_seconds
-- type: gauge
-- help: How long the last logkit run took, in seconds.
SELECT (epoch_us(finished_at) - epoch_us(started_at)) / 1e6 AS value
FROM runs ORDER BY id DESC LIMIT 1
