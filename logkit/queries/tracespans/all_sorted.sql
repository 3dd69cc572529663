-- name: all_sorted
-- After a merge: every row of trace_spans is in the sorted part ($key in logkit_meta).
-- params: key
INSERT OR REPLACE INTO logkit_meta
VALUES ($key, CAST((SELECT count(*) FROM trace_spans) AS VARCHAR))
