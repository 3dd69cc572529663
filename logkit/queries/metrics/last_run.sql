-- name: logkit_last_run_timestamp_seconds
-- type: gauge
-- help: When the last logkit run finished, in Unix time.
SELECT epoch_us(finished_at) / 1e6 AS value FROM runs ORDER BY id DESC LIMIT 1
