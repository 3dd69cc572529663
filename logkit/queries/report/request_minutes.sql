-- name: request_minutes
-- Requests and failed requests per minute, for detect_window (logkit/report/window.py): a
-- request is a trace, counted in the minute of its first event, or an event without a trace;
-- it failed when it has an error.
-- params: services
WITH requests AS (
    SELECT min(ts) AS start, bool_or(is_error(level)) AS failed
    FROM events
    WHERE trace_id IS NOT NULL AND ts IS NOT NULL
      AND ($services IS NULL OR list_contains($services, service_label(service, source)))
    GROUP BY trace_id
    UNION ALL
    SELECT ts, is_error(level) FROM events
    WHERE trace_id IS NULL AND ts IS NOT NULL
      AND ($services IS NULL OR list_contains($services, service_label(service, source)))
)
SELECT epoch(time_bucket(INTERVAL 1 MINUTE, start))::BIGINT // 60 AS minute,
    count(*) AS requests, count(*) FILTER (WHERE failed) AS failed
FROM requests GROUP BY 1 ORDER BY 1
