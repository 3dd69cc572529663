-- name: logkit_source_lag_seconds
-- type: gauge
-- help: Seconds from the newest event of each source to now, by path.
-- labels: source
-- app.log.1, app.log.2.gz and app.log-20261101 are app.log rotated: one source, one lag.
SELECT
  regexp_replace(path, '(\.[0-9]+|-[0-9]{8,10})?(\.gz|\.zst)?$', '') AS source,
  $now - max(epoch_us(newest_ts)) / 1e6 AS value
FROM sources
WHERE newest_ts IS NOT NULL
GROUP BY 1
