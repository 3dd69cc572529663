-- name: folded_elsewhere
-- The metrics with running totals that are not among the definitions $d given now.
-- params: d
SELECT metric FROM metric_folds WHERE NOT list_contains($d, metric) ORDER BY metric
