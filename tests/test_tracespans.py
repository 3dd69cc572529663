"""`trace_spans`: when each trace happened, so a trace lookup reads a few row groups.

The promise that makes the window safe: every stored event with a trace id lies inside a span
of its key (or its span says some events have no timestamp). Checked after first runs, appends,
compactions and prunes, against real DuckDB stores.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

import logkit
from logkit import tracespans
from logkit.engine import connect

from .helpers import append, lines, query, record, write

UNCOVERED = """
    SELECT count(*) FROM events e WHERE trace_key IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM trace_spans s WHERE s.trace_key = e.trace_key
        AND (e.ts BETWEEN s.first_ts AND s.last_ts OR (e.ts IS NULL AND s.untimed)))
"""


def uncovered(db: Path) -> int:
    return query(db, UNCOVERED)[0][0]


def test_every_event_lies_in_a_span_of_its_key_across_runs(tmp_path: Path) -> None:
    log = write(tmp_path / "app.log", lines(0, 300))
    store = logkit.open(tmp_path / "logkit.duckdb")
    store.ingest([str(log)])
    # The same traces again, an hour later, from another service: their spans widen.
    later = [
        record(n, timestamp=f"2026-11-22T11:{n % 60:02d}:00Z", service="worker")
        for n in range(0, 300, 3)
    ]
    append(log, b"".join(orjson.dumps(r) + b"\n" for r in later))
    store.ingest([str(log)])
    assert 0 == uncovered(store.path)
    events = store.trace(f"{3:032x}")
    assert ["api", "worker"] == events["service"].to_list()


def test_events_without_a_timestamp_are_part_of_their_trace(tmp_path: Path) -> None:
    trace = "ab" * 16
    records = [
        {"timestamp": "2026-11-22T10:00:00Z", "message": "start", "trace_id": trace},
        {"message": "no clock here", "trace_id": trace},
        {"timestamp": "2026-11-22T10:00:02Z", "message": "end", "trace_id": trace},
    ]
    log = write(tmp_path / "app.log", b"".join(orjson.dumps(r) + b"\n" for r in records))
    store = logkit.open(tmp_path / "logkit.duckdb")
    store.ingest([str(log)])
    assert [(True,)] == query(store.path, "SELECT untimed FROM trace_spans")
    assert ["start", "end", "no clock here"] == [
        e["message"] for e in store.trace_report(trace).events
    ]
    assert ["start", "end", "no clock here"] == store.trace(trace)["message"].to_list()


def test_appended_spans_are_merged_and_sorted_once_they_outnumber_a_quarter(
    tmp_path: Path,
) -> None:
    """A run that adds 3,000 traces to an empty table compacts it: one row per key, in key
    order (what lets zone maps find a key's row in one row group)."""
    log = write(tmp_path / "app.log", lines(0, 3000))
    store = logkit.open(tmp_path / "logkit.duckdb")
    store.ingest([str(log)])
    keys = [row[0] for row in query(store.path, "SELECT trace_key FROM trace_spans")]
    assert (3000, sorted(keys)) == (len(set(keys)), keys)
    sorted_rows = "SELECT value FROM logkit_meta WHERE key = 'trace_spans_sorted'"
    assert [("3000",)] == query(store.path, sorted_rows)
    # A few more traces stay appended, unsorted, until they are many.
    append(log, lines(3000, 3100))
    store.ingest([str(log)])
    assert (3100, [("3000",)]) == (
        query(store.path, "SELECT count(*) FROM trace_spans")[0][0],
        query(store.path, sorted_rows),
    )
    assert 0 == uncovered(store.path)
    assert ["request 3050 done"] == store.trace(f"{3050:032x}")["message"].to_list()


def test_compacting_merges_the_rows_of_one_key(tmp_path: Path) -> None:
    db = tmp_path / "spans.duckdb"
    con = connect(str(db))
    con.execute("CREATE TABLE logkit_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(tracespans.CREATE)
    con.execute(
        "INSERT INTO trace_spans VALUES (7, '2026-01-01 10:00Z', '2026-01-01 10:01Z', false),"
        " (7, '2026-01-01 09:00Z', '2026-01-01 09:30Z', true), (3, NULL, NULL, true)"
    )
    assert tracespans.compact(con, force=True)
    assert [(3, None, None, True), (7, 1767258000000000, 1767261660000000, True)] == (
        con.execute(
            "SELECT trace_key, epoch_us(first_ts), epoch_us(last_ts), untimed FROM trace_spans"
        ).fetchall()
    )
    assert (1767258000000000, 1767261660000000, True) == tracespans.window(con, 7)
    assert tracespans.window(con, 8) is None
    con.close()


def test_a_prune_forgets_the_spans_of_the_events_it_deletes(tmp_path: Path) -> None:
    old = [record(n, timestamp=f"2024-01-01T10:00:{n:02d}Z") for n in range(5)]
    new = [record(n) for n in range(5, 10)]
    log = write(tmp_path / "app.log", b"".join(orjson.dumps(r) + b"\n" for r in old + new))
    store = logkit.open(tmp_path / "logkit.duckdb")
    store.ingest([str(log)])
    store.prune("30d")
    assert 5 == query(store.path, "SELECT count(*) FROM trace_spans")[0][0]
    assert 0 == uncovered(store.path)
    assert ["request 7 done"] == store.trace(f"{7:032x}")["message"].to_list()


def test_a_prune_counts_the_spans_it_forgets_out_of_the_sorted_part(tmp_path: Path) -> None:
    """So that what is appended after a prune is weighed against what is left (compacted once
    it outnumbers a quarter of that), not against the table as it was before the prune."""
    con = connect(str(tmp_path / "spans.duckdb"))
    con.execute("CREATE TABLE logkit_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(tracespans.CREATE)
    day = "TIMESTAMPTZ '2024-01-01 00:00Z' + to_hours(CAST(k AS BIGINT))"
    spans = f"SELECT k, {day}, {day}, false FROM range($a, $b) t(k)"
    con.execute(f"INSERT INTO trace_spans {spans}", {"a": 0, "b": 100_000})
    assert tracespans.compact(con, force=True)
    # A prune deletes the 80,000 oldest; 20,000 sorted rows are left.
    tracespans.forget_before(con, datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=80_000))
    assert [("20000",)] == con.execute(
        "SELECT value FROM logkit_meta WHERE key = 'trace_spans_sorted'"
    ).fetchall()
    # 6,000 appended rows outnumber a quarter of those (not of the 100,000 there were).
    con.execute(f"INSERT INTO trace_spans {spans}", {"a": 100_000, "b": 106_000})
    assert tracespans.compact(con)
    con.close()


def test_an_event_joined_from_a_split_line_lies_in_a_span_of_its_key(tmp_path: Path) -> None:
    """Docker splits a long line into parts, joined into one event after the block's other
    lines (the core's `[partial]` pass): its trace has a span like any other's."""
    trace = "cd" * 16
    inner = (
        orjson.dumps(
            {"timestamp": "2026-11-22T10:00:05Z", "message": "x" * 40, "trace_id": trace}
        ).decode()
        + "\n"
    )
    cut = len(inner) // 2
    parts = [
        {"log": inner[:cut], "stream": "stdout", "time": "2026-11-22T10:00:05.000000001Z"},
        {"log": inner[cut:], "stream": "stdout", "time": "2026-11-22T10:00:05.000000002Z"},
    ]
    log = write(tmp_path / "app.log", b"".join(orjson.dumps(p) + b"\n" for p in parts))
    store = logkit.open(tmp_path / "logkit.duckdb")
    store.ingest([str(log)])
    assert [(1,)] == query(store.path, "SELECT count(*) FROM events")
    assert 0 == uncovered(store.path)
    assert [(False,)] == query(store.path, "SELECT untimed FROM trace_spans")
