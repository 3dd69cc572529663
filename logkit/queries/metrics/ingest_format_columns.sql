-- name: logkit_ingest_format_columns_total
-- type: counter
-- help: Events that got a key column, by log format and column.
-- labels: format, column
-- fresh: true
-- Divided by logkit_ingest_format_events_total, this is the share of a format's events that
-- got each column; a source whose lines come out untimed shows as ts at 0.
SELECT split_part(label, '|', 1) AS format, split_part(label, '|', 2) AS "column", value
FROM counters WHERE name = 'format_columns'
