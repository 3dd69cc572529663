-- name: error_rate_per_minute
-- Events, errors and error rate per minute and service: when did it start, and where?
-- params: since=, until=, service=
SELECT
    time_bucket(INTERVAL 1 MINUTE, ts) AS minute,
    service,
    count(*) AS events,
    count(*) FILTER (WHERE is_error(level)) AS errors,
    round(errors / count(*), 4) AS error_rate
FROM events
WHERE ts IS NOT NULL
  AND ($since IS NULL OR ts >= $since)
  AND ($until IS NULL OR ts < $until)
  AND ($service IS NULL OR service = $service)
GROUP BY ALL
ORDER BY minute, service NULLS FIRST
