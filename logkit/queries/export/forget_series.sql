-- name: forget_series
-- The cardinality guard's decisions for metric $m, gone.
-- params: m
DELETE FROM metric_series WHERE metric = $m
