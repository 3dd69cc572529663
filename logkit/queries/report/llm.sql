-- name: llm
-- Per model: LLM calls, failures, tokens and cost in the window and in the baseline.
-- params: since, until, baseline, services
SELECT model,
    count(*) FILTER (WHERE ts >= $since) AS calls,
    count(*) FILTER (WHERE ts >= $since AND is_error(level)) AS failed,
    coalesce(sum(input_tokens) FILTER (WHERE ts >= $since), 0)::BIGINT AS input_tokens,
    coalesce(sum(output_tokens) FILTER (WHERE ts >= $since), 0)::BIGINT AS output_tokens,
    round(coalesce(sum(cost_usd) FILTER (WHERE ts >= $since), 0), 6) AS cost_usd,
    count(*) FILTER (WHERE ts < $since) AS baseline_calls,
    count(*) FILTER (WHERE ts < $since AND is_error(level)) AS baseline_failed,
    round(coalesce(sum(cost_usd) FILTER (WHERE ts < $since), 0), 6) AS baseline_cost_usd
FROM events
WHERE ts >= $baseline AND ts < $until
  AND is_llm_call(model, input_tokens, output_tokens, cost_usd, level)
  AND ($services IS NULL OR list_contains($services, service_label(service, source)))
GROUP BY model
ORDER BY cost_usd DESC, calls DESC, model
