-- name: add_values
-- Add to the running totals, one row per (metric, label set, sample, part) of the lists
-- $m, $l, $s, $p and $v (each key at most once).
-- params: m, l, s, p, v
INSERT INTO metric_values
SELECT unnest($m), unnest($l), unnest($s), unnest($p), CAST(unnest($v) AS DECIMAL(38, 9))
ON CONFLICT (metric, labels, sample, part) DO UPDATE SET value = value + excluded.value
