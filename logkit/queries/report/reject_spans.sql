-- name: reject_spans
-- The first and last line each file logged in the window: the rejected lines between them
-- are the window's (rejects have no time of their own: they could not be read).
-- params: since, until, services
SELECT source, min(line) AS first_line, max(line) AS last_line FROM events
WHERE ts >= $since AND ts < $until
  AND ($services IS NULL OR list_contains($services, service_label(service, source)))
GROUP BY source
