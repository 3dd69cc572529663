-- name: logkit_masked_values_total
-- type: counter
-- help: Values masked before storage, by detector.
-- labels: detector
-- fresh: true
SELECT label AS detector, value FROM counters WHERE name = 'masked'
