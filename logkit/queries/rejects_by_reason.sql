-- name: rejects_by_reason
-- Ingest health: lines quarantined in `rejects`, by reason, with where the last one came
-- from (see them with: logkit sql "SELECT * FROM rejects WHERE reason = '...'").
-- params: limit=50
SELECT
    reason,
    count(*) AS lines,
    count(DISTINCT source) AS sources,
    min(ingested_at) AS first_ingested,
    max(ingested_at) AS last_ingested,
    arg_max(source || ':' || line, ingested_at) AS last_at
FROM rejects
GROUP BY reason
ORDER BY lines DESC, reason
LIMIT $limit
