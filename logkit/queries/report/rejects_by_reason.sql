-- name: rejects_by_reason
-- The rejected lines within the spans (reject_spans.sql), by reason.
-- params: sources, first_lines, last_lines
SELECT reason, count(*) AS lines, count(DISTINCT source) AS files,
    arg_min(source || ':' || line, line) AS first_at
FROM rejects JOIN (SELECT unnest($sources::VARCHAR[]) AS source,
    unnest($first_lines::BIGINT[]) AS first_line, unnest($last_lines::BIGINT[]) AS last_line)
    USING (source)
WHERE line BETWEEN first_line AND last_line
GROUP BY reason ORDER BY lines DESC, reason
