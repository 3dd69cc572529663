-- name: logkit_ingest_rejected_lines_total
-- type: counter
-- help: Lines rejected (quarantined, not stored), by reason.
-- labels: reason
-- fresh: true
SELECT label AS reason, value FROM counters WHERE name = 'rejects'
