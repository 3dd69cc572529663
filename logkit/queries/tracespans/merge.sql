-- name: merge
-- Rewrite trace_spans with one row per trace key, sorted by key, so that zone maps on
-- trace_key find a key's row in one row group.
-- params:
CREATE OR REPLACE TABLE trace_spans AS
SELECT trace_key, min(first_ts) AS first_ts, max(last_ts) AS last_ts,
    bool_or(untimed) AS untimed
FROM trace_spans GROUP BY trace_key ORDER BY trace_key
