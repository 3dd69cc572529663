"""One trace across services: its events in time order, its waterfall and summary.

The path `logkit trace` takes (`trace_report`) is kept free of polars and of the duckdb
package's Python layer (see reading.py); `trace()` gives the same events as a DataFrame.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from .. import tracespans
from ..engine import duckdb
from ..errors import NotFound, QueryError
from ..macros import ERROR_LEVELS
from ..schema import trace_key
from ..sqlfiles import statement
from .reading import COLUMNS, as_frame, connection, optional_time

if TYPE_CHECKING:
    import polars as pl

    from ..handles import Readable

_FETCH_COLUMNS = ", ".join("epoch_us(ts) AS ts" if name == "ts" else name for name in COLUMNS)


def _trace_sql(select: str, *, windowed: bool) -> str:
    """A trace's events: by trace_key (crc32 of the id, see schema.py), then trace_id.

    `windowed`: only events from `$first` to `$last` (microseconds), the trace's span in
    `trace_spans` (see tracespans.py). DuckDB's zone maps on `ts` then skip all but a few row
    groups (7 of 90 on a ten-million-event store: 3 MB read instead of 41). Without it the
    4-byte trace_key column is read whole. MATERIALIZED keeps DuckDB from pushing the trace_id
    comparison (which settles crc32 collisions) into the same scan, where it would read the
    32-byte ids of every row the other filters leave.
    """
    window = " AND ts >= make_timestamptz($first) AND ts <= make_timestamptz($last)"
    return f"""
        WITH bucket AS MATERIALIZED (
            SELECT * FROM events WHERE trace_key = $trace_key{window if windowed else ""})
        SELECT {select} FROM bucket WHERE trace_id = $trace_id
        ORDER BY ts NULLS LAST, source, line
    """


_CANDIDATES_SHOWN = 5
_HEX = re.compile(r"[0-9a-fA-F-]+")


def _hex_cases(trace_id: str) -> dict[str, str]:
    """`trace_id` in lower and in upper case when it is hex (else as given)."""
    if _HEX.fullmatch(trace_id):
        return {"lower": trace_id.lower(), "upper": trace_id.upper()}
    return {"lower": trace_id, "upper": trace_id}


@dataclass
class TraceReport:
    """One trace's events in time order, with what the CLI shows around them.

    `events` are dicts with every event column (`ts` an aware UTC datetime, `attrs` a dict)
    plus `offset_ms`, the time since the trace's first event.
    """

    trace_id: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first_error(self) -> int | None:
        """Index of the first ERROR/CRITICAL event, else of the first 5xx status."""
        tests: tuple[Callable[[dict[str, Any]], bool], ...] = (
            lambda e: e["level"] in ERROR_LEVELS,
            lambda e: (e["status_code"] or 0) >= 500,
        )
        for test in tests:
            for index, event in enumerate(self.events):
                if test(event):
                    return index
        return None

    @property
    def total_ms(self) -> float:
        offsets = [e["offset_ms"] for e in self.events if e["offset_ms"] is not None]
        return max(offsets, default=0.0)

    def waterfall(self) -> list[dict[str, Any]]:
        """Per service, in order of first appearance: when it was seen and what it reported."""
        rows: dict[str | None, dict[str, Any]] = {}
        for event in self.events:
            offset = event["offset_ms"]
            row = rows.setdefault(
                event["service"],
                {"service": event["service"], "first_ms": offset, "last_ms": offset,
                 "events": 0, "errors": 0, "reported_ms": None},
            )  # fmt: skip
            if offset is not None:
                row["first_ms"] = offset if row["first_ms"] is None else row["first_ms"]
                row["last_ms"] = offset
            row["events"] += 1
            row["errors"] += event["level"] in ERROR_LEVELS
            if event["duration_ms"] is not None:
                row["reported_ms"] = max(row["reported_ms"] or 0.0, event["duration_ms"])
        return list(rows.values())

    def summary(self) -> dict[str, Any]:
        """Services, events, total time, outcome and the first error."""
        first = self.first_error
        error = self.events[first] if first is not None else None
        statuses = [e["status_code"] for e in self.events if e["status_code"] is not None]
        return {
            "trace_id": self.trace_id,
            "start": self.events[0]["ts"] if self.events else None,
            "services": len({e["service"] for e in self.events}),
            "events": len(self.events),
            "total_ms": self.total_ms,
            "outcome": "error" if error else "ok",
            "status_code": statuses[-1] if statuses else None,
            "first_error": None
            if error is None
            else {
                "offset_ms": error["offset_ms"],
                "service": error["service"],
                "level": error["level"],
                "error_type": error["error_type"],
                "message": error["message"],
            },
        }


def resolve_trace(store: Readable, con: duckdb.DuckDBPyConnection, trace_id: str) -> str:
    """The one trace id that starts with `trace_id`."""
    # Hex ids are one number however they are typed: a prefix in upper case (as some
    # tools print ids) finds the stored lower-case id, and the other way round.
    rows = con.execute(
        statement("answers/trace_candidates"),
        {"prefix": trace_id, **_hex_cases(trace_id), "limit": _CANDIDATES_SHOWN + 1},
    ).fetchall()
    if not rows:
        raise NotFound(
            f"no events for trace {trace_id!r} in {store.path} (check the id, or run "
            "'logkit ingest' on the logs that contain it)"
        )
    if len(rows) > 1:
        shown = ", ".join(r[0] for r in rows[:_CANDIDATES_SHOWN])
        more = " and more" if len(rows) > _CANDIDATES_SHOWN else ""
        raise QueryError(
            f"trace prefix {trace_id!r} is ambiguous: it matches {shown}{more}; "
            "give more characters"
        )
    return str(rows[0][0])


def check_trace_id(trace_id: str) -> str:
    # A number is a trace id too (Datadog's are decimal): taken as its text.
    trace_id = "" if trace_id is None else str(trace_id).strip()
    if not trace_id:
        raise QueryError("give a trace id, or a unique prefix of one")
    # An X-Ray id (or X-Amzn-Trace-Id header) is stored as the W3C id AWS maps it to. Both
    # are at least 35 characters (a W3C id is 32): only then is normalize.py, 17 ms of
    # `logkit trace`'s start-up, imported.
    if len(trace_id) < 35:
        return trace_id
    from ..normalize import xray_trace

    return xray_trace(trace_id) or trace_id


def trace_plan(
    store: Readable,
    con: duckdb.DuckDBPyConnection,
    select: str,
    trace_id: str,
    *,
    spans: bool = True,
) -> tuple[str, dict[str, Any]] | None:
    """The query for a trace's events and its parameters; None when the store holds no
    event under the id's key at all (trace_spans covers every stored event). `spans`
    False: without the window, for an id a full scan has just found."""
    key = trace_key(trace_id)
    params: dict[str, Any] = {"trace_key": key, "trace_id": trace_id}
    if not spans or store.lake is not None:  # the spans cover the store, not a lake
        return _trace_sql(select, windowed=False), params
    span = tracespans.window(con, key)
    if span is None:
        return None
    first, last, untimed = span
    if untimed or first is None:  # events without a timestamp fall outside any window
        return _trace_sql(select, windowed=False), params
    return _trace_sql(select, windowed=True), {**params, "first": first, "last": last}


def trace_report(store: Readable, trace_id: str) -> TraceReport:
    """`Store.trace_report`: the events as plain values, without polars (`logkit trace`)."""
    trace_id = check_trace_id(trace_id)
    # Lean: execute() and fetchall() are all this needs, and the 0.1 s the duckdb
    # package's Python layer takes to load is 40% of the time `logkit trace` has.
    with connection(store, lean=True) as con:

        def fetch(trace_id: str, spans: bool = True) -> list[tuple[Any, ...]]:
            plan = trace_plan(store, con, _FETCH_COLUMNS, trace_id, spans=spans)
            return con.execute(*plan).fetchall() if plan else []

        # The exact id first: it is what people paste, and an equality predicate is the
        # cheapest lookup there is. Only when that finds nothing is it taken as a prefix.
        rows = fetch(trace_id)
        if not rows and _hex_cases(trace_id)["lower"] != trace_id:
            rows = fetch(trace_id := trace_id.lower())
        if not rows:
            trace_id = resolve_trace(store, con, trace_id)
            rows = fetch(trace_id, spans=False)
    names = COLUMNS
    first_us = next((row[0] for row in rows if row[0] is not None), None)
    events = []
    for row in rows:
        event = dict(zip(names, row, strict=True))
        us = event["ts"]
        event["ts"] = optional_time(us)
        event["attrs"] = orjson.loads(event["attrs"]) if event["attrs"] else {}
        event["offset_ms"] = None if us is None else (us - first_us) / 1000
        events.append(event)
    return TraceReport(trace_id=trace_id, events=events)


def trace(store: Readable, trace_id: str) -> pl.DataFrame:
    """`Store.trace`: the events as a DataFrame, with `offset_ms`."""
    trace_id = check_trace_id(trace_id)
    select = f"{', '.join(COLUMNS)}, (epoch_us(ts) - min(epoch_us(ts)) OVER ()) / 1000 AS offset_ms"
    with connection(store) as con:
        plan = trace_plan(store, con, select, trace_id)
        if plan is None or (frame := as_frame(con, *plan)).is_empty():
            trace_id = resolve_trace(store, con, trace_id)
            plan = trace_plan(store, con, select, trace_id, spans=False)
            assert plan is not None  # always, without spans
            frame = as_frame(con, *plan)
    return frame


def waterfall(report: TraceReport) -> pl.DataFrame:
    """`Store.trace_waterfall`: the report's waterfall rows as a DataFrame."""
    import polars as pl

    return pl.DataFrame(
        report.waterfall(),
        schema={"service": pl.String, "first_ms": pl.Float64, "last_ms": pl.Float64,
                "events": pl.Int64, "errors": pl.Int64, "reported_ms": pl.Float64},
    )  # fmt: skip
