-- name: logkit_llm_tokens_total
-- type: counter
-- help: LLM tokens, by model and direction (input or output).
-- labels: model, direction
SELECT model, 'input' AS direction, input_tokens AS value
FROM events WHERE model IS NOT NULL AND input_tokens IS NOT NULL
UNION ALL
SELECT model, 'output' AS direction, output_tokens AS value
FROM events WHERE model IS NOT NULL AND output_tokens IS NOT NULL
