-- name: window
-- The first and last timestamp (microseconds) of the events filed under trace key $key,
-- whether some lack one, and how many span rows there are.
-- params: key
SELECT epoch_us(min(first_ts)), epoch_us(max(last_ts)), bool_or(untimed), count(*)
FROM trace_spans WHERE trace_key = $key
