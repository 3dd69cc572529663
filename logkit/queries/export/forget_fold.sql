-- name: forget_fold
-- How far metric $m had folded, gone.
-- params: m
DELETE FROM metric_folds WHERE metric = $m
