-- name: tokens_cost_by_model
-- LLM calls per model: calls, errors, input and output tokens, total cost and cost per
-- call, and the p95 latency.
-- params: since=, until=
SELECT
    model,
    count(*) AS calls,
    count(*) FILTER (WHERE is_error(level)) AS errors,
    sum(input_tokens)::BIGINT AS input_tokens,
    sum(output_tokens)::BIGINT AS output_tokens,
    round(sum(cost_usd), 6) AS cost_usd,
    round(sum(cost_usd) / count(cost_usd), 6) AS cost_per_call_usd,
    quantile_cont(duration_ms, 0.95) AS p95_ms
FROM events
WHERE model IS NOT NULL
  AND ($since IS NULL OR ts >= $since)
  AND ($until IS NULL OR ts < $until)
GROUP BY model
ORDER BY cost_usd DESC NULLS LAST, model
