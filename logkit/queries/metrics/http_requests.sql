-- name: logkit_http_requests_total
-- type: counter
-- help: HTTP requests, by service, path template and status code.
-- labels: service, path, status_code
-- The path label is always reduced to its template (/users/123 becomes /users/:id).
SELECT service, path, status_code, count(*) AS value
FROM events
WHERE path IS NOT NULL AND status_code IS NOT NULL
GROUP BY ALL
