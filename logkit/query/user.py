"""A user's timeline: one row per trace they touched, across every service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .reading import connection, result, time_conditions, where_clause

if TYPE_CHECKING:
    import polars as pl

    from ..handles import Readable

_USER_COLUMNS = "ts, trace_id, service, level, error_type, status_code, duration_ms"


def timeline(
    store: Readable, user_id: str, *, since: Any = None, until: Any = None
) -> pl.DataFrame:
    """`Store.user`, given `user_id` as the store keeps it (Store looks up a pseudonym)."""
    conditions = ["user_id = $user_id"]
    params: dict[str, Any] = {"user_id": user_id}
    time_conditions(since, until, conditions, params)
    where = where_clause(conditions)
    with connection(store) as con:
        # In two steps. DuckDB reads a column only for the rows that pass a filter like
        # `user_id = $x`, but applies an IN list or a join after reading every column it
        # needs from every row. So first the trace keys of the user's own events (4 bytes
        # each), then one query with those keys as literals.
        keys = con.execute(
            f"SELECT DISTINCT trace_key FROM events {where} AND trace_key IS NOT NULL",
            params,
        ).fetchall()
        return result(store, con, _user_sql(where, [k for (k,) in keys]), params)


def _user_sql(where: str, keys: list[int]) -> str:
    """The timeline query, given the trace keys of the user's events."""
    # Integers computed here (crc32 values), not user text: safe as literals, and a literal
    # IN list alone in the scan's filter is what an index on trace_key can serve. As in
    # _trace_sql, comparing trace ids waits for the MATERIALIZED step.
    in_keys = ", ".join(str(int(k)) for k in sorted(set(keys))) or "NULL"
    return f"""
        WITH mine AS MATERIALIZED (
            -- The user's own events: one pass, wide columns are cheap for so few rows.
            SELECT coalesce(trace_id, '#' || rowid) AS grp,
                {_USER_COLUMNS}, http_method, path, job_type, message
            FROM events {where}
        ),
        own AS (
            SELECT grp,
                coalesce(
                    arg_min(coalesce(http_method || ' ', '') || path, ts)
                        FILTER (WHERE path IS NOT NULL),
                    arg_min('job ' || job_type, ts) FILTER (WHERE job_type IS NOT NULL),
                    arg_min(message, ts) FILTER (WHERE message IS NOT NULL)
                ) AS activity
            FROM mine
            GROUP BY grp
        ),
        bucket AS MATERIALIZED (
            SELECT {_USER_COLUMNS} FROM events WHERE trace_key IN ({in_keys})
        ),
        related AS (
            -- Every event of the user's traces, from any service (narrow columns only),
            -- and the user's events that have no trace.
            SELECT trace_id AS grp, {_USER_COLUMNS}
            FROM bucket WHERE trace_id IN (SELECT trace_id FROM mine)
            UNION ALL
            SELECT grp, {_USER_COLUMNS} FROM mine WHERE trace_id IS NULL
        )
        SELECT
            min(ts) AS start,
            any_value(trace_id) AS trace_id,
            any_value(activity) AS activity,
            string_agg(DISTINCT service, ', ' ORDER BY service) AS services,
            count(*) AS events,
            count(*) FILTER (WHERE is_error(level)) AS errors,
            arg_min(coalesce(error_type, level), ts) FILTER (WHERE is_error(level)) AS first_error,
            arg_max(status_code, ts) FILTER (WHERE status_code IS NOT NULL) AS status_code,
            max(duration_ms) AS duration_ms,
            max(ts) AS end
        FROM related LEFT JOIN own USING (grp)
        GROUP BY grp
        ORDER BY start NULLS LAST, trace_id
    """
