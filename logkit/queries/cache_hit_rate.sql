-- name: cache_hit_rate
-- Cache lookups, hits and hit rate per service and cache (the event's `cache` attribute,
-- where it has one).
-- params: since=, until=
SELECT
    service,
    json_extract_string(attrs, '$.cache') AS cache,
    count(*) AS lookups,
    count(*) FILTER (WHERE cache_hit) AS hits,
    round(hits / count(*), 4) AS hit_rate
FROM events
WHERE cache_hit IS NOT NULL
  AND ($since IS NULL OR ts >= $since)
  AND ($until IS NULL OR ts < $until)
GROUP BY ALL
ORDER BY lookups DESC
