"""Where in time each trace lies: what lets `logkit trace` read a few row groups, not all.

Trace ids are random, so neither insertion order nor zone maps narrow a search for one, and
scanning even the 4-byte `trace_key` column reads 40 MB for ten million events (~0.07 s of the
0.25 s `logkit trace` has). Events do arrive roughly in time order, though, so DuckDB's zone
maps on `ts` skip almost every row group once a query knows *when* the trace happened. That is
what `trace_spans` records: per trace key, the first and last timestamp of its events, and
whether any had none.

Each ingest transaction appends a row per trace key it stored, in the same transaction as the
events (so the rows always cover every event). Appended rows are in no useful order; when
they outnumber a quarter of the sorted part, `compact` rewrites the table merged and sorted
by key, so that zone maps on `trace_key` find a key's row in one row group. Rows for deleted
events are harmless (they only widen a window) and go when a prune deletes their events.
"""

from __future__ import annotations

from datetime import datetime

from .engine import duckdb
from .sqlfiles import statement

CREATE = (
    "CREATE TABLE IF NOT EXISTS trace_spans (trace_key UINTEGER NOT NULL, first_ts TIMESTAMPTZ,"
    " last_ts TIMESTAMPTZ, untimed BOOLEAN NOT NULL)"
)
_SPANS_OF = """
    SELECT trace_key, min(ts), max(ts), bool_or(ts IS NULL) FROM {source}
    WHERE trace_key IS NOT NULL GROUP BY trace_key
"""
# The same from spans gathered already (the core's per block, src/spans.rs).
_SPANS_FROM = """
    SELECT trace_key, min(first_ts), max(last_ts), bool_or(untimed) FROM {source}
    GROUP BY trace_key
"""
# Rows in the sorted prefix of trace_spans, as of the last compaction.
_SORTED_KEY = "trace_spans_sorted"


def record(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Append the spans of the events in `source` (a table or registered Arrow name).

    Built here rather than kept in queries/: the table it reads is a name, which DuckDB
    does not bind."""
    con.execute(f"INSERT INTO trace_spans {_SPANS_OF.format(source=source)}")


def record_spans(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Append `source`'s spans, (trace_key, first_ts, last_ts, untimed) rows as the core
    gathers them per block: one row per trace key of them all."""
    con.execute(f"INSERT INTO trace_spans {_SPANS_FROM.format(source=source)}")


def compact(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Merge and sort the table once the unsorted rows outnumber a quarter of the sorted
    ones (so each row is rewritten a bounded number of times); True if it did."""
    row = con.execute(statement("tracespans/sizes"), {"key": _SORTED_KEY}).fetchone()
    total, sorted_rows = (row[0], int(row[1] or 0)) if row else (0, 0)
    if not force and (total - sorted_rows) * 4 <= max(sorted_rows, 10_000):
        return False
    con.execute(statement("tracespans/merge"))
    con.execute(statement("tracespans/all_sorted"), {"key": _SORTED_KEY})
    return True


def backfill(con: duckdb.DuckDBPyConnection) -> None:
    """The spans of every event already stored (a store from before this table)."""
    con.execute(CREATE)
    record(con, "events")
    compact(con, force=True)


def window(con: duckdb.DuckDBPyConnection, key: int) -> tuple[int | None, int | None, bool] | None:
    """(first, last) microseconds since the epoch (None when no event has a timestamp) and
    whether some events lack one, over every event filed under `key`; None when no event is."""
    row = con.execute(statement("tracespans/window"), {"key": key}).fetchone()
    if not row or not row[3]:
        return None
    return row[0], row[1], bool(row[2])


def forget_before(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> None:
    """Drop the spans whose events a prune of everything before `cutoff` deletes."""
    # Old spans are mostly in the sorted part: counted out of it first.
    con.execute(statement("tracespans/sorted_out"), {"cutoff": cutoff, "key": _SORTED_KEY})
    con.execute(statement("tracespans/forget_before"), {"cutoff": cutoff})
