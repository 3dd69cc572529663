-- name: top_users_by_errors
-- The users who met the most errors, with how many traces failed for them and the most
-- common error type. Errors are counted on the user's own events (those carrying user_id).
-- params: since=, until=, limit=20
SELECT
    user_id,
    count(*) AS errors,
    count(DISTINCT trace_id) AS failed_traces,
    mode(error_type) AS top_error_type,
    min(ts) AS first_seen,
    max(ts) AS last_seen,
    arg_max(trace_id, ts) FILTER (WHERE trace_id IS NOT NULL) AS example_trace
FROM events
WHERE user_id IS NOT NULL
  AND is_error(level)
  AND ($since IS NULL OR ts >= $since)
  AND ($until IS NULL OR ts < $until)
GROUP BY user_id
ORDER BY errors DESC, user_id
LIMIT $limit
