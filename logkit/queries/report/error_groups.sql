-- name: error_groups
-- Errors in the window grouped by service label, type and fingerprint, with first and last
-- seen, an example, and how many of the same the baseline had.
-- params: since, until, baseline, services
SELECT service_label(service, source) AS service, error_type,
    error_fingerprint(message) AS fingerprint,
    count(*) FILTER (WHERE ts >= $since) AS count,
    count(*) FILTER (WHERE ts < $since) AS baseline,
    min(ts) FILTER (WHERE ts >= $since) AS first_seen,
    max(ts) FILTER (WHERE ts >= $since) AS last_seen,
    arg_max(trace_id, ts) FILTER (WHERE ts >= $since AND trace_id IS NOT NULL)
        AS example_trace,
    arg_max(message, ts) FILTER (WHERE ts >= $since) AS example
FROM events
WHERE ts >= $baseline AND ts < $until AND is_error(level)
  AND ($services IS NULL OR list_contains($services, service_label(service, source)))
GROUP BY ALL
HAVING count > 0
ORDER BY count DESC, first_seen
