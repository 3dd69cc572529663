-- name: logkit_jobs_total
-- type: counter
-- help: Finished background jobs, by job type and outcome (success or failure).
-- labels: job_type, outcome
SELECT
  job_type,
  CASE WHEN is_error(level) OR error_type IS NOT NULL
       THEN 'failure' ELSE 'success' END AS outcome,
  count(*) AS value
FROM events
WHERE job_type IS NOT NULL AND duration_ms IS NOT NULL
GROUP BY ALL
