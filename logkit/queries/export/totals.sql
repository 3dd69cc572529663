-- name: totals
-- Every metric's running totals per label set and sample, its parts added up.
-- params:
SELECT metric, labels, sample, sum(value) FROM metric_values GROUP BY ALL
