-- name: tables
-- The tables and views of the database itself (not of databases attached to it).
-- params:
SELECT table_name FROM duckdb_tables()
WHERE database_name = current_database() AND NOT internal
UNION ALL
SELECT view_name FROM duckdb_views()
WHERE database_name = current_database() AND NOT internal
ORDER BY 1
