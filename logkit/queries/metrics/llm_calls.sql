-- name: logkit_llm_calls_total
-- type: counter
-- help: LLM calls (events with a model and tokens or an error), by model.
-- labels: model
SELECT model, count(*) AS value
FROM events
WHERE model IS NOT NULL
  AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR error_type IS NOT NULL)
GROUP BY ALL
