-- name: schema_version
-- How many migrations the store has had (logkit/migrations.py).
-- params:
SELECT value FROM logkit_meta WHERE key = 'schema_version'
