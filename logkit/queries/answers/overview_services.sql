-- name: overview_services
-- Events per service, most first.
-- params:
SELECT service, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC, 1
