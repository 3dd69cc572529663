-- name: admitted_series
-- How many label sets of metric $m are exported as themselves.
-- params: m
SELECT count(*) FROM metric_series WHERE metric = $m AND admitted
