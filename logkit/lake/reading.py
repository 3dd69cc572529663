"""Reading the lake with the store: the `events` view over both, and what a query read.

See the package docstring (logkit/lake/__init__.py, "Reading") for how the view is built.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from .. import migrations
from ..engine import connect, duckdb
from ..errors import LogkitError
from ..schema import EVENT_COLUMNS, STREAM_COLUMN
from ..sqlfiles import sql_literal
from .layout import Lake
from .marks import Mark, last_mark

_HIVE_TYPES = "{'date': DATE, 'service': VARCHAR, 'host': VARCHAR}"
_MAX_FILES_PER_BRANCH = 65_536  # for numbering the lake's rows (see events_sql)

# -- reading -------------------------------------------------------------------------------


def _ts_literal(date: str) -> str:
    return f"TIMESTAMPTZ '{date} 00:00:00+00'"


def events_sql(lake: Lake, *, store: str, mark: Mark | None) -> str | None:
    """The definition of the `events` view over `store` (a table) and the lake; None when the
    lake holds nothing yet."""
    batches = lake.batches()
    by_date = lake.files_by_date(batches)
    if not by_date:
        return None
    columns = [name for name, _ in EVENT_COLUMNS]
    own = (
        f"WHERE NOT {mark.copied}"
        if mark is not None and any(b.id == mark.batch_id for b in batches)
        else ""
    )
    # A view has no rowid, and a query may use it to tell events apart (query/user.py groups a
    # user's id-less events by it), so the view has a `rowid` column: the store's own rowid,
    # and below zero for the lake's events, numbered by branch, file and row within the file.
    # The lake's files do not hold the store's `stream` ids (see schema.py): NULL there.
    branches = [f"SELECT {', '.join(columns)}, {STREAM_COLUMN[0]}, rowid FROM {store} {own}"]
    from_files = ", ".join("event_host AS host" if c == "host" else c for c in columns)
    from_files += f", NULL::{STREAM_COLUMN[1]} AS {STREAM_COLUMN[0]}"
    weeks: dict[tuple[int, int], list[str]] = {}
    for date in by_date:
        weeks.setdefault(datetime.fromisoformat(date).isocalendar()[:2], []).append(date)
    for number, dates in enumerate(weeks.values()):
        paths = [path for date in dates for path in by_date[date]]
        end = (datetime.fromisoformat(dates[-1]) + timedelta(days=1)).date().isoformat()
        files = "[" + ", ".join(sql_literal(p) for p in paths) + "]"
        rowid = (
            f"-1 - (({number} * {_MAX_FILES_PER_BRANCH} + list_position({files}, filename) - 1)"
            " * 2147483648 + file_row_number)"
        )
        branches.append(
            f"SELECT {from_files}, {rowid} AS rowid FROM read_parquet({files},"
            f" hive_partitioning = true, hive_types = {_HIVE_TYPES})"
            # Constant bounds: DuckDB drops a branch they contradict without opening a file.
            f" WHERE ts >= {_ts_literal(dates[0])} AND ts < {_ts_literal(end)}"
        )
    return "\nUNION ALL\n".join(branches)


def attach(con: duckdb.DuckDBPyConnection, lake_dir: str | os.PathLike[str]) -> None:
    """Make `events` in `con` (a store connection) the store's events and the lake's together."""
    lake = Lake(lake_dir)
    if not lake.root.is_dir():
        raise LogkitError(
            f"no lake at {lake.root} (write one with 'logkit archive --to {lake_dir}')"
        )
    row = con.execute("SELECT current_database()").fetchone()
    catalog = str(row[0] if row else "").replace('"', '""')
    sql = events_sql(lake, store=f'"{catalog}".main.events', mark=last_mark(con, lake))
    if sql is None:
        return
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS {sql}")
    # Reading the lake must survive the lock-down of `logkit sql` and named queries, which
    # switches off access to files (logkit/query/reading.py): this directory, and only it,
    # stays readable.
    con.execute(f"SET allowed_directories = [{sql_literal(str(lake.root) + os.sep)}]")


@contextlib.contextmanager
def lake_only_reader(lake_dir: str | os.PathLike[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A reader for a machine with a lake and no store: an empty in-memory store beside it."""
    con = connect(":memory:")
    try:
        migrations.migrate(con, ":memory:")
        attach(con, lake_dir)
        yield con
    finally:
        con.close()


@dataclass(frozen=True)
class ScanProfile:
    """What a query read from the lake, from DuckDB's profile of it (bench/lake.py, tests)."""

    files: int
    row_groups_read: int
    row_groups: int
    rows_read: int


def profile_scans(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> ScanProfile:
    """Run `sql` under EXPLAIN ANALYZE and add up its Parquet scans."""
    row = con.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params).fetchone()
    totals = [0, 0, 0, 0]
    stack = list(orjson.loads(row[1])["operator"]) if row else []
    while stack:
        node = stack.pop()
        stack.extend(node.get("children", ()))
        if node.get("extra_info", {}).get("Function") == "READ_PARQUET":
            totals[0] += int(node["extra_info"].get("Total Files Read", 0))
            totals[1] += node.get("row_groups_scanned", 0)
            totals[2] += node.get("total_row_groups_to_scan", 0)
            totals[3] += node.get("rows_scanned", 0)
    return ScanProfile(*totals)
