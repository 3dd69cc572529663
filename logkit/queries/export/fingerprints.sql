-- name: fingerprints
-- The definition (its fingerprint) each metric's running totals were folded under.
-- params:
SELECT metric, fingerprint FROM metric_folds
