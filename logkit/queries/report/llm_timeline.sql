-- name: llm_timeline
-- Per bucket of $bucket_s seconds and model: tokens, cost and failed LLM calls.
-- params: baseline, after, bucket_s, services
SELECT time_bucket(to_seconds($bucket_s), ts, $baseline) AS bucket, model,
    coalesce(sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)), 0)::BIGINT AS tokens,
    coalesce(sum(cost_usd), 0) AS cost_usd,
    count(*) FILTER (WHERE is_error(level)) AS failed
FROM events
WHERE ts >= $baseline AND ts < $after
  AND is_llm_call(model, input_tokens, output_tokens, cost_usd, level)
  AND ($services IS NULL OR list_contains($services, service_label(service, source)))
GROUP BY ALL ORDER BY bucket, model
