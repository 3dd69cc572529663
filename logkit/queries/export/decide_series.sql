-- name: decide_series
-- Record, for good, whether each new label set $k of metric $m is admitted ($a).
-- params: m, k, a
INSERT INTO metric_series SELECT $m, unnest($k), unnest($a)
