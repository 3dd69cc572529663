-- name: logkit_errors_total
-- type: counter
-- help: Events at level ERROR or CRITICAL, by service and error type.
-- labels: service, error_type
SELECT service, error_type, count(*) AS value
FROM events
WHERE is_error(level)
GROUP BY ALL
