-- name: totals
-- Events, errors and traces in the window [since, until), and events and errors in the
-- baseline [baseline, since) before it.
-- params: since, until, baseline, services
SELECT
    count(*) FILTER (WHERE ts >= $since) AS events,
    count(*) FILTER (WHERE ts >= $since AND is_error(level)) AS errors,
    count(*) FILTER (WHERE ts < $since) AS baseline_events,
    count(*) FILTER (WHERE ts < $since AND is_error(level)) AS baseline_errors,
    count(DISTINCT trace_id) FILTER (WHERE ts >= $since) AS traces
FROM events WHERE ts >= $baseline AND ts < $until
  AND ($services IS NULL OR list_contains($services, service_label(service, source)))
