-- name: logkit_http_request_duration_seconds
-- type: histogram
-- help: HTTP request duration in seconds, by service and path.
-- labels: service, path
SELECT service, path, duration_ms / 1000.0 AS value
FROM events
WHERE path IS NOT NULL AND status_code IS NOT NULL AND duration_ms IS NOT NULL
