-- name: folds
-- How far each metric has folded: its definition's fingerprint, the events with
-- rowid < next_rowid, folded_rows of them.
-- params:
SELECT metric, fingerprint, next_rowid, folded_rows FROM metric_folds
