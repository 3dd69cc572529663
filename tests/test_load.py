"""Load: queries in a loop while ingest and export write the same store, for a while.

One thread appends real-looking logs (`logkit sample` output, fed in slices, with a rename
rotation half-way), two run the writers as cron would (`logkit --wait ... ingest` and
`logkit --wait ... export --ingest`, each in a loop), two run the on-call engineer's queries
(`logkit trace`, `logkit errors`) in a loop. All are real processes on one store.

What must hold: every query answers — exit 0, or exit 1 with the documented not-found message
for a trace not (yet) stored, never a lock error; an answer never shrinks (a trace's events,
the error counts, the exported counters); every writer run succeeds; and at the end, after a
last ingest, the store holds exactly what one clean ingest of the same files holds.

`LOGKIT_LOAD_SECONDS` sets how long the writers and readers run (default 20; 60 or more for a
longer soak).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

import logkit
from logkit.sample import generate

from .helpers import LOGKIT, append, run_logkit
from .metrics_fixtures import parse
from .test_faults import digest
from .test_metrics import counters_of, decreased

SECONDS = float(os.environ.get("LOGKIT_LOAD_SECONDS") or 20)
NEVER_LOGGED = "feedfacefeedfacefeedfacefeedface"


def not_found(trace_id: str, db: Path) -> str:
    return (
        f"Error: no events for trace {trace_id!r} in {db} (check the id, or run 'logkit"
        " ingest' on the logs that contain it)\n"
    )


class Loop(threading.Thread):
    """Runs `step` until stopped, keeping what each run returned."""

    def __init__(self, step: Callable[[], Any], stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.step, self.stop = step, stop
        self.results: list[Any] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.results.append(self.step())
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc


def _trace_ids(data: bytes) -> list[str]:
    ids = []
    for line in data.splitlines():
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        value = record.get("trace_id") if isinstance(record, dict) else None
        if isinstance(value, str):
            ids.append(value)
    return ids


@pytest.mark.xdist_group("faults")
def test_queries_answer_while_ingest_and_export_write_and_nothing_is_lost(tmp_path):
    source = tmp_path / "source"
    files = generate(source, lines=12_000, seed=21, files=3, malformed=0.002)
    logs, db, prom = tmp_path / "logs", tmp_path / "s.duckdb", tmp_path / "logkit.prom"
    logs.mkdir()
    # A tenth of every file is there from the start; the rest arrives while everything runs.
    slices = {}
    for path in files:
        chunks = path.read_bytes().splitlines(keepends=True)
        step = max(1, len(chunks) // 40)
        slices[path.name] = [b"".join(chunks[i : i + step]) for i in range(0, len(chunks), step)]
        (logs / path.name).write_bytes(b"".join(slices[path.name][:4]))
    run_logkit("ingest", "-q", str(logs), db=db)
    written: list[str] = _trace_ids(b"".join((logs / p.name).read_bytes() for p in files))
    rng = random.Random(7)
    stop, feeding_done = threading.Event(), threading.Event()

    def feed() -> None:
        """Append the next slice of each file every so often; rotate api.log half-way."""
        rounds = max(len(s) for s in slices.values())
        for index in range(4, rounds):
            for name, parts in slices.items():
                if index < len(parts):
                    append(logs / name, parts[index])
                    written.extend(_trace_ids(parts[index]))
            if index == rounds // 2:
                (logs / "api.log").rename(logs / "api.log.1")
                (logs / "api.log").write_bytes(b"")
            time.sleep(SECONDS * 0.6 / rounds)
        feeding_done.set()

    latency: dict[str, list[float]] = {"trace": [], "errors": []}

    def cli(*args: str) -> tuple[int, str, str]:
        started = time.monotonic()
        proc = subprocess.run([*LOGKIT, "--db", str(db), *args], capture_output=True, text=True)
        if args[0] in latency:
            latency[args[0]].append(time.monotonic() - started)
        return proc.returncode, proc.stdout, proc.stderr

    def query_trace() -> tuple[Any, ...]:
        trace_id = NEVER_LOGGED if rng.random() < 0.1 else rng.choice(written)
        code, out, err = cli("trace", trace_id, "--format", "ndjson")
        return trace_id, code, len(out.splitlines()), err

    def query_errors() -> tuple[Any, ...]:
        code, out, err = cli("errors", "--format", "ndjson")
        return code, sum(json.loads(line)["count"] for line in out.splitlines()), err

    def export() -> tuple[Any, ...]:
        code, _, err = cli("--wait", "300", "export", "--ingest", str(logs),
                           "--textfile", str(prom))  # fmt: skip
        return code, err, counters_of(parse(prom.read_text())) if code == 0 else {}

    feeder = threading.Thread(target=feed, daemon=True)
    loops = {
        "ingest": Loop(lambda: cli("--wait", "300", "ingest", "-q", str(logs)), stop),
        "export": Loop(export, stop),
        "trace": Loop(query_trace, stop),
        "errors": Loop(query_errors, stop),
    }
    feeder.start()
    for loop in loops.values():
        loop.start()
    time.sleep(SECONDS)
    feeding_done.wait(timeout=SECONDS)
    stop.set()
    for loop in loops.values():
        loop.join(timeout=600)
    feeder.join()
    assert feeding_done.is_set()
    assert {name: None for name in loops} == {name: loop.error for name, loop in loops.items()}

    # Every query answered, and no answer shrank.
    traces = loops["trace"].results
    bad_traces = [r for r in traces if r[1] != 0 and (r[1], r[3]) != (1, not_found(r[0], db))]
    assert [] == bad_traces
    assert [] == [r for r in traces if r[0] == NEVER_LOGGED and r[1] != 1]
    shrank, seen = [], {}
    for trace_id, _, events, _ in traces:
        if events < seen.get(trace_id, 0):
            shrank.append((trace_id, seen[trace_id], events))
        seen[trace_id] = max(events, seen.get(trace_id, 0))
    assert [] == shrank
    errors = loops["errors"].results
    assert [] == [r for r in errors if (r[0], r[2]) != (0, "")]
    totals = [r[1] for r in errors]
    assert totals == sorted(totals)

    # Every writer run succeeded; exported counters never went down.
    assert [] == [r for r in loops["ingest"].results if (r[0], r[2]) != (0, "")]
    exports = loops["export"].results
    assert [] == [r[:2] for r in exports if r[:2] != (0, "")]
    down = [decreased(a[2], b[2]) for a, b in itertools.pairwise(exports)]
    assert [] == [d for d in down if d]

    # Enough happened to mean something.
    counts = {name: len(loop.results) for name, loop in loops.items()}
    slowest = {name: round(max(times), 2) for name, times in latency.items()}
    print(f"runs: {counts}; slowest query seconds: {slowest}")
    # (A machine busy with other work may manage only a run or two of each writer.)
    assert counts["ingest"] >= 1 and counts["export"] >= 1, counts
    assert counts["trace"] >= 3 and counts["errors"] >= 3, counts
    assert any(r[1] == 0 for r in traces), "no trace was ever found"

    # Nothing lost, nothing twice: one more ingest, then the same as one clean run.
    run_logkit("ingest", "-q", str(logs), db=db)
    clean = tmp_path / "clean.duckdb"
    logkit.open(clean).ingest([str(logs)])
    assert digest(clean, content_only=True) == digest(db, content_only=True)
