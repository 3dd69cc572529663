-- name: logkit_ingest_lines_total
-- type: counter
-- help: Lines read by logkit ingest, stored or rejected.
-- fresh: true
-- A total the store keeps (the counters table), so it is read as it is, not folded.
SELECT value FROM counters WHERE name = 'lines'
