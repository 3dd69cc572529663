-- name: services
-- Per service label: events, errors and error rate in the window and in the baseline.
-- params: since, until, baseline, services
SELECT service, events, errors,
    round(errors / nullif(events, 0), 4) AS error_rate,
    baseline_events, baseline_errors,
    round(baseline_errors / nullif(baseline_events, 0), 4) AS baseline_error_rate
FROM (
    SELECT service_label(service, source) AS service,
        count(*) FILTER (WHERE ts >= $since) AS events,
        count(*) FILTER (WHERE ts >= $since AND is_error(level)) AS errors,
        count(*) FILTER (WHERE ts < $since) AS baseline_events,
        count(*) FILTER (WHERE ts < $since AND is_error(level)) AS baseline_errors
    FROM events WHERE ts >= $baseline AND ts < $until
      AND ($services IS NULL OR list_contains($services, service_label(service, source)))
    GROUP BY 1
)
ORDER BY errors DESC, events DESC, service
