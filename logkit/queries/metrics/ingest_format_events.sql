-- name: logkit_ingest_format_events_total
-- type: counter
-- help: Events stored, by the log format recognised.
-- labels: format
-- fresh: true
-- A total the store keeps (the counters table), so it is read as it is, not folded.
SELECT label AS format, value FROM counters WHERE name = 'format_events'
