-- name: sorted_out
-- Before forget_before.sql: count the spans it drops out of the sorted part ($key in
-- logkit_meta). Old spans are mostly there, and rows appended later must not be weighed
-- against a sorted part that is gone (counting some that were appended instead only
-- compacts a little early).
-- params: cutoff, key
UPDATE logkit_meta SET value = CAST(greatest(CAST(value AS BIGINT) - (
    SELECT count(*) FROM trace_spans WHERE NOT untimed AND last_ts < $cutoff), 0) AS VARCHAR)
WHERE key = $key
