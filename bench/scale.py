"""The cost curve: ingest throughput, memory, store size and query times as the store grows.

    python bench/scale.py [SIZES] [--dir DIR] [--repeat N]     (default SIZES: 1M,10M,20M)

One store grows through the sizes, as a long-lived store does under cron: for `1M,10M,20M` it
ingests 1M lines, then 9M more, then 10M more (each step new `logkit sample` logs, seeded and
dated after the previous step's, written in-process before the step and not timed). After each
step it reports

  * the step's ingest: seconds, lines/s, MB/s, peak RSS (the kernel's `ru_maxrss`, not
    sampled, so that the timing is the run's alone: see bench/common.py);
  * the store against the raw logs read so far: bytes on disk (file + WAL) and the ratio;
  * the median wall time (process start-up included) of `logkit trace ID` for one failed trace
    picked at the first size and looked up at every size, `logkit errors --since 1h` over the
    newest hour and `logkit stats`.

Targets (issue 7): peak memory under 400 MB at every size; trace time grows less than 2x from the
first size to the last. 20M sample lines are about 7 GB of logs: give --dir a disk with room for
a step's logs and the store (a step's logs are deleted once ingested, unless --keep-logs).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGKIT, mb, median_time, run

from logkit.export.retention import store_size
from logkit.sample import DEFAULT_START, generate

MEMORY_TARGET = 400e6
TRACE_GROWTH_TARGET = 2.0


def parse_size(text: str) -> int:
    """'1M' → 1_000_000, '250k' → 250_000, '5000' → 5000."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


# A failed trace that spans services, and the newest event's time (for `errors --since 1h`).
PICK = (
    "SELECT (SELECT trace_id FROM events WHERE level = 'ERROR' AND trace_id IS NOT NULL"
    " GROUP BY trace_id HAVING count(DISTINCT source) > 1 ORDER BY hash(trace_id) LIMIT 1)"
    " AS trace_id, strftime(max(ts) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') AS newest"
    " FROM events"
)


def pick(base: list[str]) -> tuple[str, str]:
    """Asked through `logkit sql`, as a user would."""
    out = subprocess.run([*base, "sql", "--format", "ndjson", PICK], capture_output=True,
                         check=True).stdout  # fmt: skip
    row = json.loads(out)
    return row["trace_id"], row["newest"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="?", default="1M,10M,20M")
    parser.add_argument("--dir", type=Path, help="work here (kept) instead of a temp directory")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query timing")
    parser.add_argument("--files", type=int, default=4, help="log files per step")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    if sizes != sorted(sizes) or sizes[0] <= 0:
        parser.error("sizes must be positive and increasing, e.g. 1M,10M,20M")

    work = args.dir or Path(tempfile.mkdtemp(prefix="logkit-bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "logkit.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    base = [*LOGKIT, "--db", str(db)]
    rows: list[dict[str, float]] = []
    trace_id = ""
    raw_total = 0
    start = DEFAULT_START
    done = 0
    try:
        for step, size in enumerate(sizes):
            lines = size - done
            logs = work / f"logs-{step}"
            shutil.rmtree(logs, ignore_errors=True)
            began = time.perf_counter()
            files = generate(logs, lines=lines, seed=step, files=args.files, start=start)
            made = time.perf_counter() - began
            # Each step's traffic begins after the previous step's ends (see generate()).
            start += timedelta(seconds=max(3600, lines / 100) + 60)
            raw = sum(f.stat().st_size for f in files)
            raw_total += raw
            print(f"[{size:,}] generated {lines:,} lines ({mb(raw)}) in {made:.0f}s", flush=True)

            secs, memory, _ = run([*base, "ingest", "-q", str(logs)])
            done = size
            if not args.keep_logs:
                shutil.rmtree(logs, ignore_errors=True)
            first, end = pick(base)
            trace_id = trace_id or first
            trace = median_time([*base, "trace", trace_id, "--format", "ndjson"], args.repeat)
            errors = median_time(
                [*base, "errors", "--since", "1h", "--until", end, "--format", "ndjson"],
                args.repeat,
            )
            stats = median_time([*base, "stats", "--format", "ndjson"], args.repeat)
            on_disk = store_size(db)
            row = {
                "events": size, "step_lines": lines, "seconds": secs, "lines_s": lines / secs,
                "mb_s": raw / secs / 1e6, "memory": memory, "raw": raw_total, "store": on_disk,
                "trace": trace, "errors": errors, "stats": stats,
            }  # fmt: skip
            rows.append(row)
            print(
                f"[{size:,}] ingest {secs:.1f}s {row['lines_s']:,.0f} lines/s"
                f" peak memory {mb(memory)};"
                f" store {mb(on_disk)} for {mb(raw_total)} raw; trace {trace:.3f}s"
                f" errors {errors:.3f}s stats {stats:.3f}s",
                flush=True,
            )
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    report(rows, trace_id)


def report(rows: list[dict[str, float]], trace_id: str) -> None:
    print(f"\ntrace looked up at every size: {trace_id}")
    header = (
        f"{'events':>11} {'step lines/s':>12} {'MB/s':>6} {'peak RSS':>9} {'raw':>9}"
        f" {'store':>9} {'ratio':>6} {'trace s':>8} {'errors s':>8} {'stats s':>8}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['events']:>11,} {r['lines_s']:>12,.0f} {r['mb_s']:>6.1f} {mb(r['memory']):>9}"
            f" {mb(r['raw']):>9} {mb(r['store']):>9} {r['raw'] / r['store']:>5.1f}x"
            f" {r['trace']:>8.3f} {r['errors']:>8.3f} {r['stats']:>8.3f}"
        )
    peak = max(r["memory"] for r in rows)
    growth = rows[-1]["trace"] / rows[0]["trace"]
    print()
    print(
        f"{'PASS' if peak < MEMORY_TARGET else 'FAIL'}  peak memory < 400 MB at every size:"
        f" {mb(peak)}"
    )
    print(
        f"{'PASS' if growth < TRACE_GROWTH_TARGET else 'FAIL'}  trace time grows < 2x from"
        f" {rows[0]['events']:,} to {rows[-1]['events']:,}: {growth:.2f}x"
    )


if __name__ == "__main__":
    main()
