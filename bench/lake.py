"""The Parquet lake: archive throughput against ingest, and trace lookups over the lake.

    python bench/lake.py [EVENTS] [--work DIR] [--keep]     (default 6,000,000 events)

Builds a lake of EVENTS events over 30 daily partitions written by 3 hosts, as the issue
describes (it asks for 50M; on a shared 2-core machine use what fits, at least 5M):

  1. `logkit sample` writes each host's logs for each of 30 days (`start` shifted a day at a
     time, a different seed for each), and `logkit ingest` puts each host's into its own store;
  2. on host 1's store, before anything is pruned, the row-group size and the sort order are
     compared: each variant is archived into a lake of its own and measured for a trace lookup
     (row groups read, median time in-process) and a ten-minute window;
  3. `logkit archive --to LAKE --host hN` for each host (throughput against ingest's,
     target >= 0.5x), then `logkit archive --prune` (the prune alone);
  4. `logkit --lake LAKE trace ID` for 15 trace ids from the lake, each a fresh process as on
     the command line: median wall time (target within 1 s) and the row groups read, and
     `logkit --lake LAKE errors` over one day (files opened, against all). `--lookups-only`
     repeats this step on what a `--keep` run left in --work.

Prints a Markdown report. The generated logs are kept in --work (default a temp dir, removed
unless --keep) so that a rerun with the same --work skips generating them.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import LOGKIT, mb, run

import logkit
from logkit.lake import archive as lakes
from logkit.lake.layout import SORT_ORDER, Lake
from logkit.lake.reading import profile_scans
from logkit.sample import generate
from logkit.schema import trace_key

DAYS = 30
HOSTS = 3
# The 30 days before today (archive takes nothing newer than now): the start of each day's
# sample traffic. Sample days would otherwise start at DEFAULT_START, which may be recent.
FIRST_DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
    days=DAYS + 1
)
TRACE_SQL = "SELECT * FROM events WHERE trace_key = $k AND trace_id = $t"
VARIANTS = [  # (row group rows, sort order)
    (8_192, SORT_ORDER),
    (16_384, SORT_ORDER),
    (32_768, SORT_ORDER),
    (122_880, SORT_ORDER),
    (16_384, "ts NULLS LAST"),
]


def make_logs(work: Path, events: int) -> list[Path]:
    """Each host's log directory: DAYS days of sample traffic, one `generate` per day."""
    per_run = events // (HOSTS * DAYS)
    hosts = []
    for host in range(HOSTS):
        directory = work / "logs" / f"h{host + 1}"
        done = directory / ".done"
        stamp = f"{FIRST_DAY.isoformat()} {per_run}"
        if not done.exists() or done.read_text() != stamp:
            shutil.rmtree(directory, ignore_errors=True)
            for day in range(DAYS):
                generate(
                    directory / f"day{day:02d}",
                    lines=per_run,
                    seed=host * 1000 + day,
                    files=3,
                    start=FIRST_DAY + timedelta(days=day),
                )
            done.write_text(stamp)
        hosts.append(directory)
    return hosts


def sample_traces(lake_dir: Path, count: int) -> list[str]:
    import duckdb

    files = [str(p) for paths in Lake(lake_dir).files_by_date().values() for p in paths]
    rows = duckdb.sql(
        f"SELECT trace_id FROM read_parquet({files!r}) WHERE trace_id IS NOT NULL"
        f" USING SAMPLE {count * 20} ROWS"
    ).fetchall()
    random.Random(1).shuffle(rows)
    return sorted({r[0] for r in rows})[:count]


def variant_figures(lake_dir: Path, traces: list[str]) -> dict[str, float]:
    """Trace lookups (`trace_report`, as `logkit trace` runs it) and a one-hour window over a
    lake alone, in this process."""
    reading = logkit.Store(lake_dir.parent / "no-store.duckdb", lake=lake_dir)
    times, groups = [], []
    for trace in traces:
        start = time.perf_counter()
        reading.trace_report(trace)  # opens a reader and reads the manifests, as the CLI does
        times.append(time.perf_counter() - start)
    with reading.reader() as con:
        for trace in traces:
            params = {"k": trace_key(trace), "t": trace}
            scans = profile_scans(con, TRACE_SQL, params)
            groups.append(scans.row_groups_read)
        # Each day's traffic lasts about an hour from midnight (sample.generate).
        start = FIRST_DAY + timedelta(days=DAYS // 2, minutes=20)
        window = profile_scans(
            con,
            "SELECT count(*), max(duration_ms) FROM events WHERE ts >= $a AND ts < $b",
            {"a": start, "b": start + timedelta(minutes=10)},
        )
    size = sum(p.stat().st_size for p in lake_dir.rglob("*.parquet"))
    return {
        "groups": statistics.median(groups),
        "total": scans.row_groups,
        "ms": statistics.median(times) * 1000,
        "window_groups": window.row_groups_read,
        "mb": size / 1e6,
    }


def ingest_hosts(work: Path, logs: list[Path]) -> tuple[list[logkit.Store], float]:
    stores, seconds = [], 0.0
    for number, directory in enumerate(logs, start=1):
        db = work / "stores" / f"h{number}.duckdb"
        secs, _, _ = run([*LOGKIT, "--db", str(db), "ingest", "-q", str(directory)])
        seconds += secs
        stores.append(logkit.Store(db))
    return stores, seconds


def compare_variants(store: logkit.Store, work: Path) -> list[str]:
    """Step 2: each row-group size and sort order archived from `store` into its own lake."""
    lines = [
        "| row group rows | sort | trace: row groups read / total | trace_report median ms"
        " | 10-minute window: row groups read | lake MB |",
        "|---|---|---|---|---|---|",
    ]
    traces: list[str] = []
    for rows, order in VARIANTS:
        lake_dir = work / "variants" / f"rg{rows}-{order.split()[0]}" / "lake"
        lakes.SORT_ORDER = order
        with store.writer() as session:
            lakes.archive(session, Lake(lake_dir), cutoff=datetime.now(UTC), host="h1",
                          row_group_rows=rows)  # fmt: skip
        traces = traces or sample_traces(lake_dir, 15)
        f = variant_figures(lake_dir, traces)
        lines.append(
            f"| {rows:,} | {order.split()[0]} | {f['groups']:.0f} / {f['total']:,} | "
            f"{f['ms']:.0f} | {f['window_groups']:,} / {f['total']:,} | {f['mb']:.0f} |"
        )
        print(lines[-1], file=sys.stderr)
    lakes.SORT_ORDER = VARIANTS[0][1]
    return lines


def archive_hosts(stores: list[logkit.Store], lake_dir: Path) -> tuple[float, float]:
    """Step 3: `logkit archive` for each host, then `logkit archive --prune`."""
    archive_s = prune_s = 0.0
    for number, store in enumerate(stores, start=1):
        command = [*LOGKIT, "--db", str(store.path), "archive", "--to", str(lake_dir),
                   "--host", f"h{number}"]  # fmt: skip
        archive_s += run(command)[0]
        prune_s += run([*command, "--prune"])[0]
    return archive_s, prune_s


def lookups(store: logkit.Store, lake_dir: Path) -> list[str]:
    """Step 4: trace lookups and a day's errors from the command line, over store and lake."""
    files = list(lake_dir.rglob("*.parquet"))
    traces = sample_traces(lake_dir, 15)
    base = [*LOGKIT, "--db", str(store.path), "--lake", str(lake_dir)]
    walls = [run([*base, "trace", trace, "--format", "json"])[0] for trace in traces]
    print(f"trace lookups {walls}", file=sys.stderr)
    start_up = statistics.median(run([*LOGKIT, "--version"])[0] for _ in range(5))
    with logkit.Store(store.path, lake=lake_dir).reader() as con:
        scans = [profile_scans(con, TRACE_SQL, {"k": trace_key(t), "t": t}) for t in traces]
        day = FIRST_DAY + timedelta(days=DAYS // 2)
        window = profile_scans(
            con,
            "SELECT count(*) FROM events WHERE ts >= $a AND ts < $b",
            {"a": day, "b": day + timedelta(days=1)},
        )
    errors_s = run([*base, "errors", "--since", day.isoformat(), "--until",
                    (day + timedelta(days=1)).isoformat()])[0]  # fmt: skip
    read = statistics.median(s.row_groups_read for s in scans)
    total = scans[0].row_groups
    return [
        f"| `logkit --lake trace ID`, median of {len(walls)} | "
        f"{statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}) | "
        "<= 1 s |",
        f"| of which starting Python and logkit (`logkit --version`) | {start_up:.2f} s | |",
        f"| trace: row groups read | {read:.0f} of {total:,} "
        f"({1 - read / total:.1%} skipped), in {len(files)} files | |",
        f"| one day's window: files opened | {window.files} of {len(files)} | |",
        f"| `logkit --lake errors` over one day | {errors_s:.2f} s | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("events", nargs="?", type=int, default=6_000_000)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--skip-variants", action="store_true", help="Skip step 2.")
    parser.add_argument(
        "--lookups-only", action="store_true", help="Only step 4, on what a --keep run left."
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="logkit-lake-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    table = ["| measure | value | target |", "|---|---|---|"]
    try:
        if args.lookups_only:
            stores = [logkit.Store(p) for p in sorted((work / "stores").glob("h*.duckdb"))]
            print("\n".join([*table, *lookups(stores[0], work / "lake")]))
            return
        started = time.perf_counter()
        logs = make_logs(work, args.events)
        print(f"logs ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for stale in ("stores", "lake", "variants"):
            shutil.rmtree(work / stale, ignore_errors=True)
        stores, ingest_s = ingest_hosts(work, logs)
        events = sum(s.overview()["events"] for s in stores)
        print(f"ingested {events:,} events in {ingest_s:.0f} s", file=sys.stderr)
        report = []
        if not args.skip_variants:
            per_host = stores[0].overview()["events"]
            report += [f"Row-group size, sort order ({per_host:,} events of host 1):", ""]
            report += [*compare_variants(stores[0], work), ""]
        store_size = sum(s.path.stat().st_size for s in stores)
        archive_s, prune_s = archive_hosts(stores, work / "lake")
        print(f"archive {archive_s:.0f} s, then prune {prune_s:.0f} s", file=sys.stderr)
        files = list((work / "lake").rglob("*.parquet"))
        archived = sum(b.events for b in Lake(work / "lake").batches())
        assert archived == events, f"archived {archived:,} of {events:,} events"
        report += [
            f"Lake: {events:,} events, {DAYS} days, {HOSTS} hosts, {len(files)} files, "
            f"{mb(sum(p.stat().st_size for p in files))} (stores before pruning: "
            f"{mb(store_size)})",
            "",
            *table,
            f"| ingest | {events / ingest_s:,.0f} events/s ({ingest_s:.0f} s) | |",
            f"| archive | {events / archive_s:,.0f} events/s ({archive_s:.0f} s) | "
            f"{ingest_s / archive_s:.2f}x ingest (>= 0.5x) |",
            f"| archive --prune afterwards (the prune alone) | {prune_s:.0f} s | |",
            *lookups(stores[0], work / "lake"),
        ]
        print("\n".join(report))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
