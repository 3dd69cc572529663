-- name: logkit_job_duration_seconds
-- type: histogram
-- help: Duration of finished background jobs in seconds, by job type.
-- labels: job_type
-- buckets: 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600
-- A job's last line carries its duration (Celery's "Task succeeded in 12.3s" or "failed").
SELECT job_type, duration_ms / 1000.0 AS value
FROM events
WHERE job_type IS NOT NULL AND duration_ms IS NOT NULL
