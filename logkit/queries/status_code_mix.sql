-- name: status_code_mix
-- HTTP status codes per service: how many responses of each, and their share of the
-- service's responses.
-- params: since=, until=, service=
SELECT
    service,
    status_code,
    count(*) AS responses,
    round(count(*) / sum(count(*)) OVER (PARTITION BY service), 4) AS share
FROM events
WHERE status_code IS NOT NULL
  AND ($since IS NULL OR ts >= $since)
  AND ($until IS NULL OR ts < $until)
  AND ($service IS NULL OR service = $service)
GROUP BY service, status_code
ORDER BY service NULLS FIRST, status_code
