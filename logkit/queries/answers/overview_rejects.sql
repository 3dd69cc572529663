-- name: overview_rejects
-- Lines quarantined by ingest.
-- params:
SELECT count(*) FROM rejects
