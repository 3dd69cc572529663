-- name: latency
-- p50, p95 and p99 of durations per bucket: of requests (events with a status code) when
-- $requests_only, else of every event with a duration.
-- params: baseline, after, bucket_s, requests_only, services
SELECT time_bucket(to_seconds($bucket_s), ts, $baseline) AS bucket, count(*) AS requests,
    quantile_cont(duration_ms, 0.5) AS p50_ms,
    quantile_cont(duration_ms, 0.95) AS p95_ms,
    quantile_cont(duration_ms, 0.99) AS p99_ms
FROM events
WHERE ts >= $baseline AND ts < $after AND duration_ms IS NOT NULL
  AND (NOT $requests_only OR status_code IS NOT NULL)
  AND ($services IS NULL OR list_contains($services, service_label(service, source)))
GROUP BY 1 ORDER BY 1
