"""How the query modules read a store, and the shape their answers come in.

Every answer opens a short read-only connection with `store.reader()` (which waits while an
ingest finishes a batch), runs one or two queries and returns a polars DataFrame; the CLI
renders the same answers as `Rows`. Rules that hold across logkit/query/:

* Every value a user gives is a bound parameter (`$trace_id`). Only fixed fragments chosen by
  these modules (column names from a whitelist, the fingerprint rules) are put into SQL text.
  Substring and prefix matching use `contains()` and `starts_with()` rather than LIKE, so `%`
  and `_` in a user's text match themselves.
* An error is an event at level ERROR or CRITICAL: `is_error(level)` (logkit/macros.py).
* `logkit trace` is the command that must answer in a blink, so its path avoids polars and
  pyarrow altogether: `trace_report()` (trace.py) fetches plain tuples (timestamps as epoch
  microseconds, because DuckDB's Python conversion of TIMESTAMPTZ values needs pytz) and the
  waterfall and summary are computed from those few rows in Python. polars is imported inside
  the functions that return frames, and the CLI, which only prints, sets the store's
  `frames = False` to get `Rows` instead: importing polars and pyarrow costs more CPU than most
  of the queries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from ..engine import damaged_hint, duckdb
from ..errors import QueryError
from ..schema import EVENT_COLUMNS, JsonText
from ..timeparse import from_us, time_range

if TYPE_CHECKING:
    import polars as pl

    from ..handles import Readable

# trace_key is the store's lookup aid (crc32 of trace_id), not part of an event.
COLUMNS = [name for name, _ in EVENT_COLUMNS if name != "trace_key"]


def optional_time(us: int | None) -> datetime | None:
    """Epoch microseconds (as the trace and overview queries fetch them) as a UTC time."""
    return None if us is None else from_us(us)


def time_conditions(since: Any, until: Any, conditions: list[str], params: dict[str, Any]) -> None:
    """Add `ts` bounds (half-open: since <= ts < until) for the given --since/--until."""

    start, end = time_range(since, until)
    if start is not None:
        conditions.append("ts >= $since")
        params["since"] = start
    if end is not None:
        conditions.append("ts < $until")
        params["until"] = end


def where_clause(conditions: list[str]) -> str:
    # Why most answers' SQL is built here and not kept in queries/: its shape follows the
    # options given. The column grouped by (--by), the one searched (--field) and how
    # (--regex), the columns a trace is fetched with and whether its time window applies
    # are SQL text, not values DuckDB could bind; one fixed file per combination would
    # repeat the same query many times over. Values are still always bound.
    return "WHERE " + " AND ".join(conditions) if conditions else ""


def check_choice(value: str, choices: tuple[str, ...], option: str) -> None:
    if value not in choices:
        raise QueryError(f"{option} must be one of {', '.join(choices)}, not {value!r}")


def sql_error(exc: duckdb.Error) -> QueryError:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, duckdb.PermissionException) or "disabled by configuration" in text:
        return QueryError(
            f"logkit sql reads only the store: files, extensions and other databases are "
            f"off limits ({first})"
        )
    if "read-only" in text or "configuration has been locked" in text:
        return QueryError(f"logkit sql is read-only ({first})")
    return QueryError(text + damaged_hint(exc))


@dataclass
class Rows:
    """An answer as plain Python values: what the query methods return when `frames` is
    False. Timestamps are aware UTC datetimes. It has the few DataFrame methods the CLI uses."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    #: How many rows the answer has in all, when a limit kept some back (None: all shown).
    total: int | None = None

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def is_empty(self) -> bool:
        return not self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def drop(self, column: str) -> Rows:
        keep = [i for i, name in enumerate(self.columns) if name != column]
        rows = [tuple(r[i] for i in keep) for r in self.rows]
        return Rows([self.columns[i] for i in keep], rows, self.total)


def as_answer(rows: Rows) -> pl.DataFrame:
    # `Rows` stands in for a DataFrame where the store's `frames` is False: it has the few
    # methods the CLI uses. The public signatures promise DataFrames, which notebooks get.
    return cast("pl.DataFrame", rows)


@contextlib.contextmanager
def connection(store: Readable, *, lean: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """`store.reader()`, set up for answering.

    (`Store.reader()` has already switched DuckDB's progress bar off: it would corrupt
    `--format ndjson | jq`.) The session time zone is UTC, like every timestamp in the
    store: DuckDB buckets TIMESTAMPTZ values (time_bucket, date_trunc) and hands them to
    polars in the session's zone, which would otherwise be the local one.
    """
    with store.reader(lean=lean) as con:
        con.execute("SET TimeZone = 'UTC'")
        yield con


@contextlib.contextmanager
def locked(store: Readable) -> Iterator[duckdb.DuckDBPyConnection]:
    """A reader for SQL someone else wrote: no files, no extensions, no other databases.

    The connection is already read-only; this also switches off DuckDB's access to
    anything outside the attached store (COPY, ATTACH, read_csv, INSTALL/LOAD) and locks
    the configuration so the SQL cannot switch it back on.
    """
    with connection(store) as con:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield con


def answer(store: Readable, sql: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """`sql`'s answer on a connection of its own."""
    with connection(store) as con:
        return result(store, con, sql, params)


def result(
    store: Readable, con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None
) -> pl.DataFrame:
    """`sql`'s answer on `con`: a DataFrame, or `Rows` when the store's `frames` is False."""
    return as_frame(con, sql, params) if store.frames else as_answer(as_rows(con, sql, params))


def limited(store: Readable, sql: str, count_sql: str, params: dict[str, Any]) -> pl.DataFrame:
    """`sql`'s answer under `LIMIT $limit`; as `Rows`, with `total` set when the limit
    kept rows back (one row more is fetched to tell, and only then are they counted), so
    the CLI can say so."""
    if store.frames:
        return answer(store, sql, params)
    limit = params["limit"]
    with connection(store) as con:
        found = as_rows(con, sql, {**params, "limit": limit + 1})
        if len(found.rows) > limit:
            counted = {k: v for k, v in params.items() if k != "limit"}
            found.rows = found.rows[:limit]
            found.total = con.execute(count_sql, counted).fetchall()[0][0]
    return as_answer(found)


def _relation(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None) -> Any:
    # Any: DuckDB's stubs give `con.sql()` the type DuckDBPyRelation without defining it.
    # DuckDB 2 refuses a new relation while an execute() result is unread (a fetchone()
    # elsewhere on this connection leaves one); finish it first.
    con.complete()
    return con.sql(sql, params=params or None)


def as_rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None) -> Rows:
    """The result as Python values, without polars or pyarrow."""
    relation = _relation(con, sql, params)
    if relation is None:
        return Rows([], [])
    columns = list(relation.columns)
    zoned = [str(t) == "TIMESTAMP WITH TIME ZONE" for t in relation.types]
    if any(zoned):
        # DuckDB's Python conversion of TIMESTAMPTZ values needs pytz; as UTC wall-clock
        # TIMESTAMPs they convert without it, and get their zone back below.
        relation = relation.project(
            ", ".join(
                f"timezone('UTC', {quote(c)}) AS {quote(c)}" if z else quote(c)
                for c, z in zip(columns, zoned, strict=True)
            )
        )
    rows = relation.fetchall()
    # JSON columns (attrs, attrs->'$.x') come back as text; marked, so that --format json
    # shows them as the JSON they are, not as strings holding JSON.
    json_columns = {i: str(t) == "JSON[]" for i, t in enumerate(relation.types)
                    if str(t) in ("JSON", "JSON[]")}  # fmt: skip
    if json_columns and rows:
        rows = [list(row) for row in rows]
        for row in rows:
            for i, is_list in json_columns.items():
                if row[i] is not None:
                    row[i] = (
                        [None if v is None else JsonText(v) for v in row[i]]
                        if is_list
                        else JsonText(row[i])
                    )
        rows = [tuple(row) for row in rows]
    if any(zoned):
        rows = [
            tuple(
                v.replace(tzinfo=UTC) if z and v is not None else v
                for v, z in zip(row, zoned, strict=True)
            )
            for row in rows
        ]
    return Rows(columns, rows)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def as_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None
) -> pl.DataFrame:
    import polars as pl

    relation = _relation(con, sql, params)
    if relation is None:  # a statement without a result (SET, CREATE TEMP ...)
        return pl.DataFrame()
    try:
        frame: pl.DataFrame = relation.pl()
        return frame
    except pl.exceptions.PolarsError as exc:
        hint = "; turn INTERVAL values into seconds with epoch(x)" if "interval" in str(exc) else ""
        raise QueryError(
            f"cannot make a table of the result: {str(exc).splitlines()[0]}{hint}"
        ) from exc
