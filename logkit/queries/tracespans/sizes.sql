-- name: sizes
-- Rows of trace_spans, and how many of them were sorted at the last compaction.
-- params: key
SELECT (SELECT count(*) FROM trace_spans), (SELECT value FROM logkit_meta WHERE key = $key)
