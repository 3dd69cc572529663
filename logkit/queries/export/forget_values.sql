-- name: forget_values
-- The running totals of metric $m, gone.
-- params: m
DELETE FROM metric_values WHERE metric = $m
