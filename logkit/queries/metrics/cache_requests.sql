-- name: logkit_cache_requests_total
-- type: counter
-- help: Cache lookups, by service and result (hit or miss).
-- labels: service, result
SELECT service, CASE WHEN cache_hit THEN 'hit' ELSE 'miss' END AS result, count(*) AS value
FROM events
WHERE cache_hit IS NOT NULL
GROUP BY ALL
