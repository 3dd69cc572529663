-- name: oldest
-- The time of the oldest event or reject, in microseconds (a TIMESTAMPTZ would need pytz).
-- params:
SELECT least((SELECT epoch_us(min(ts)) FROM events),
    (SELECT epoch_us(min(ingested_at)) FROM rejects))
