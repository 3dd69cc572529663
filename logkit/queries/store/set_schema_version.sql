-- name: set_schema_version
-- The store has had $v migrations.
-- params: v
INSERT OR REPLACE INTO logkit_meta VALUES ('schema_version', $v)
