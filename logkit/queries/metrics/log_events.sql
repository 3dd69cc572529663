-- name: logkit_log_events_total
-- type: counter
-- help: Log events stored, by service and level.
-- labels: service, level
SELECT service, level, count(*) AS value
FROM events
GROUP BY ALL
