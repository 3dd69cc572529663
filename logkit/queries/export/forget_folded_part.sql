-- name: forget_folded_part
-- What the events still in the store contributed to metric $m, to be folded again; what
-- deleted events contributed (the 'pruned' part) stays.
-- params: m
DELETE FROM metric_values WHERE metric = $m AND part = 'folded'
