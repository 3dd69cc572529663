-- name: known_series
-- Which of the label sets $k the cardinality guard has already decided for metric $m, and
-- how (admitted, or folded into __other__).
-- params: m, k
SELECT labels, admitted FROM metric_series WHERE metric = $m AND labels IN (SELECT unnest($k))
