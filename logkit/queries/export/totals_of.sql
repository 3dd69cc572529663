-- name: totals_of
-- Metric $m's running totals per label set and sample, its parts added up.
-- params: m
SELECT labels, sample, sum(value) FROM metric_values WHERE metric = $m GROUP BY ALL
