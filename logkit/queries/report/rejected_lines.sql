-- name: rejected_lines
-- The first $shown rejected lines within the spans (reject_spans.sql), with their text.
-- params: sources, first_lines, last_lines, shown
SELECT source, line, reason, left(raw, 300) AS raw
FROM rejects JOIN (SELECT unnest($sources::VARCHAR[]) AS source,
    unnest($first_lines::BIGINT[]) AS first_line, unnest($last_lines::BIGINT[]) AS last_line)
    USING (source)
WHERE line BETWEEN first_line AND last_line
ORDER BY source, line LIMIT $shown
