-- name: failing_trace_ids
-- The traces with an error in the window; with $services, those that passed through one of
-- them in the window.
-- params: since, until, services
SELECT DISTINCT trace_id FROM events
WHERE is_error(level) AND trace_id IS NOT NULL AND ts >= $since AND ts < $until
  AND ($services IS NULL OR trace_id IN (
      SELECT trace_id FROM events WHERE ts >= $since AND ts < $until
        AND list_contains($services, service_label(service, source))))
