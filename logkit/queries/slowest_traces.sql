-- name: slowest_traces
-- The slowest traces: time from first to last event, the longest duration any service
-- reported, the services involved, events, errors and the final status code.
-- params: since=, until=, limit=20
SELECT
    trace_id,
    min(ts) AS start,
    round((epoch_us(max(ts)) - epoch_us(min(ts))) / 1000, 3) AS span_ms,
    max(duration_ms) AS longest_reported_ms,
    string_agg(DISTINCT service, ', ' ORDER BY service) AS services,
    count(*) AS events,
    count(*) FILTER (WHERE is_error(level)) AS errors,
    arg_max(status_code, ts) FILTER (WHERE status_code IS NOT NULL) AS status_code
FROM events
WHERE trace_id IS NOT NULL
  AND ($since IS NULL OR ts >= $since)
  AND ($until IS NULL OR ts < $until)
GROUP BY trace_id
ORDER BY span_ms DESC, trace_id
LIMIT $limit
