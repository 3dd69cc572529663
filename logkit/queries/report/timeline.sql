-- name: timeline
-- Events and errors per bucket of $bucket_s seconds and service label, from the baseline to
-- the end of the aftermath.
-- params: baseline, after, bucket_s, services
SELECT time_bucket(to_seconds($bucket_s), ts, $baseline) AS bucket,
    service_label(service, source) AS service,
    count(*) AS events, count(*) FILTER (WHERE is_error(level)) AS errors
FROM events WHERE ts >= $baseline AND ts < $after
  AND ($services IS NULL OR list_contains($services, service_label(service, source)))
GROUP BY ALL ORDER BY bucket, service
