-- name: forget_before
-- Drop the spans of events that a prune of everything before $cutoff deletes.
-- params: cutoff
DELETE FROM trace_spans WHERE NOT untimed AND last_ts < $cutoff
