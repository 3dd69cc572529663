-- name: pruned_rows
-- $n folded events are about to be deleted: every fold covers that many fewer.
-- params: n
UPDATE metric_folds SET folded_rows = folded_rows - $n
