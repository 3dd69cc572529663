-- name: first_error
-- The window's first error.
-- params: since, until, services
SELECT ts, service_label(service, source) AS service, error_type, message, trace_id
FROM events
WHERE ts >= $since AND ts < $until AND is_error(level)
  AND ($services IS NULL OR list_contains($services, service_label(service, source)))
ORDER BY ts, source, line LIMIT 1
