-- name: slowest_trace_ids
-- The $shown traces with the longest time from first to last event in the window; with
-- $services, among those that passed through one of them in the window.
-- params: since, until, shown, services
SELECT trace_id FROM events
WHERE trace_id IS NOT NULL AND ts >= $since AND ts < $until
  AND ($services IS NULL OR trace_id IN (
      SELECT trace_id FROM events WHERE ts >= $since AND ts < $until
        AND list_contains($services, service_label(service, source))))
GROUP BY trace_id
ORDER BY epoch_us(max(ts)) - epoch_us(min(ts)) DESC, trace_id LIMIT $shown
