-- name: dropped_series
-- Per metric, the label sets the cardinality guard folded into __other__.
-- params:
SELECT metric, count(*) FILTER (WHERE NOT admitted) FROM metric_series GROUP BY metric
