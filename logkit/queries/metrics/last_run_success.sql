-- name: logkit_last_run_success
-- type: gauge
-- help: 1 if the last logkit run read every input, else 0.
SELECT CAST(success AS INTEGER) AS value FROM runs ORDER BY id DESC LIMIT 1
