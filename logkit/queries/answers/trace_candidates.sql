-- name: trace_candidates
-- The trace ids starting with $prefix, or with it in lower or upper case ($lower, $upper:
-- a hex id is one number however it is typed), at most $limit.
-- params: prefix, lower, upper, limit
SELECT DISTINCT trace_id FROM events
WHERE starts_with(trace_id, $prefix) OR starts_with(trace_id, $lower)
   OR starts_with(trace_id, $upper)
ORDER BY trace_id LIMIT $limit
