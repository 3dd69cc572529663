"""What a cron run of `logkit export` costs on a big store.

    python bench/export.py [EVENTS] [--new 10000] [--runs 5] [--dir DIR]

Builds a store of EVENTS events (default 1,000,000; the issue's figure is 10,000,000) with
`logkit sample` and `logkit ingest`, runs the first export (which folds every event once), then
times the whole process as cron runs it, `logkit --db STORE export --ingest ... --textfile
OUT.prom`, with NEW fresh lines appended to a live log before each run (target: median < 2 s
on 10M events with 10k new lines) and with nothing new (target: median < 1 s). Two ways:

* `--ingest live/`: the live log only, its older lines already stored;
* `--ingest base/ live/`: every file the store was built from as well, as a cron line with
  one glob over a log directory does (each run re-checks them: all are unchanged).

A run costs what is new, not the store's size: each export folds only the events past the
watermark of the last one (see `MetricSet.fold`). `--dir` keeps the store between
invocations, so a 10M store is built once.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGKIT, mb, run


def build(work: Path, events: int) -> Path:
    """A store of about `events` events (sample logs carry a few malformed lines)."""
    db = work / "logkit.duckdb"
    marker = work / f"built-{events}"
    if marker.exists():
        return db
    for directory in ("base", "live"):
        shutil.rmtree(work / directory, ignore_errors=True)
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    run([*LOGKIT, "sample", "--lines", str(events), "--out", str(work / "base"), "--files", "4"])
    secs, _, _ = run([*LOGKIT, "--db", str(db), "ingest", "-q", str(work / "base")])
    print(f"built {events:,} events in {time.perf_counter() - started:.0f}s (ingest {secs:.0f}s)")
    (work / "live").mkdir()
    (work / "live" / "app.log").touch()
    marker.touch()
    return db


def append_new(work: Path, lines: int, seed: int) -> None:
    fresh = work / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    run([*LOGKIT, "sample", "--lines", str(lines), "--out", str(fresh), "--files", "1",
         "--seed", str(seed)])  # fmt: skip
    (source,) = fresh.iterdir()
    with open(work / "live" / "app.log", "ab") as out:
        out.write(source.read_bytes())


def timings(label: str, runs: list[float], target: str) -> str:
    each = ", ".join(f"{s:.2f}" for s in runs)
    return f"  {label:<22} median {statistics.median(runs):5.2f}s  ({each}; target {target})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000, help="lines appended before a run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="keep the store here between invocations")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="logkit-bench-export-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        db = build(work, args.events)
        prom = work / "logkit.prom"
        export = [*LOGKIT, "--db", str(db), "export", "--textfile", str(prom), "--ingest"]
        first, rss, _ = run([*export, str(work / "live")])
        print(f"first export (folds every event not yet folded): {first:.2f}s, RSS {mb(rss)}")
        seed = int(time.time())
        for inputs in ([work / "live"], [work / "base", work / "live"]):
            command = [*export, *(str(i) for i in inputs)]
            with_new, nothing_new, peaks = [], [], []
            for _ in range(args.runs):
                seed += 1
                append_new(work, args.new, seed)
                secs, rss, _ = run(command)
                with_new.append(secs)
                peaks.append(rss)
            for _ in range(args.runs):
                secs, rss, _ = run(command)
                nothing_new.append(secs)
                peaks.append(rss)
            print(" ".join(command))
            print(timings(f"{args.new:,} new lines:", with_new, "< 2 s on 10M events"))
            print(timings("nothing new:", nothing_new, "< 1 s on 10M events"))
            print(f"  peak RSS of a run: {mb(max(peaks))}")
        events = next(
            float(line.split()[1])
            for line in prom.read_text().splitlines()
            if line.startswith("logkit_store_events ")
        )
        print(f"store: {events:,.0f} events, {mb(db.stat().st_size)}")
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
