-- name: traces
-- Per trace of $traces: its span in the window, services, events, errors, first error
-- (when, service, type, message), last status code and users.
-- params: since, until, traces
SELECT trace_id,
    min(ts) AS start,
    min(ts) FILTER (WHERE is_error(level)) AS failed_at,
    round((epoch_us(max(ts)) - epoch_us(min(ts))) / 1000, 3) AS span_ms,
    max(duration_ms) AS longest_reported_ms,
    string_agg(DISTINCT service_label(service, source), ', '
        ORDER BY service_label(service, source)) AS services,
    count(*) AS events,
    count(*) FILTER (WHERE is_error(level)) AS errors,
    arg_min(service_label(service, source), ts) FILTER (WHERE is_error(level)) AS error_service,
    arg_min(error_type, ts) FILTER (WHERE is_error(level)) AS error_type,
    arg_min(message, ts) FILTER (WHERE is_error(level)) AS first_error,
    arg_max(status_code, ts) FILTER (WHERE status_code IS NOT NULL) AS status_code,
    list(DISTINCT user_id) FILTER (WHERE user_id IS NOT NULL) AS users
FROM events
WHERE ts >= $since AND ts < $until AND trace_id IN (SELECT unnest($traces::VARCHAR[]))
GROUP BY trace_id
