-- name: overview_sources
-- Inputs read, and when the last was updated (microseconds).
-- params:
SELECT count(*), epoch_us(max(updated_at)) FROM sources
