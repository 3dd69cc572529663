-- name: record_run
-- One export run: when it started and finished (Unix seconds), whether it succeeded, and
-- what it ingested.
-- params: started, finished, success, lines, events, rejects
INSERT INTO runs VALUES ((SELECT coalesce(max(id), 0) + 1 FROM runs), 'export',
    to_timestamp($started), to_timestamp($finished), $success, $lines, $events, $rejects)
