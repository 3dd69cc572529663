-- name: sources_lag
-- Ingest health: every input logkit has read, how much, the newest event it held and how
-- far behind now that is (lag_s, in seconds), and when it was last read.
-- params:
SELECT
    path,
    lines,
    events,
    rejects,
    newest_ts,
    CAST(epoch(now() - newest_ts) AS BIGINT) AS lag_s,
    updated_at AS last_read,
    CAST(epoch(now() - updated_at) AS BIGINT) AS since_last_read_s
FROM sources
ORDER BY lag_s DESC NULLS FIRST, path
