-- name: record_folds
-- The metrics $m (with their definitions' fingerprints $f) have folded the $n events with
-- rowid < $w.
-- params: m, f, w, n
INSERT OR REPLACE INTO metric_folds SELECT unnest($m), unnest($f), $w, $n
