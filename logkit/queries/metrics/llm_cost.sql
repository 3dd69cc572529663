-- name: logkit_llm_cost_usd_total
-- type: counter
-- help: LLM cost in US dollars, by model.
-- labels: model
-- One row per event: logkit adds the values exactly (DECIMAL), so the total never drifts.
SELECT model, cost_usd AS value
FROM events
WHERE model IS NOT NULL AND cost_usd IS NOT NULL
