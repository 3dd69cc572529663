"""How fast can the store take rows at all? The floor under bench/ingest.py's 0.5x target.

    python bench/ingest_floor.py [LINES] [--repeat N]     (default 1,000,000 lines, 3 repeats)

Generates LINES lines with `logkit sample` (one file), turns them into logkit's event rows with
the ingest pipeline (untimed, unmasked), then times in this one process, alternating:
  * DuckDB `read_json(..., columns={...})` of the file into a table: bench/ingest.py's baseline;
  * inserting logkit's rows, already normalised and in memory as Arrow, into a fresh store's
    `events` table in one statement (no WAL: DuckDB writes row groups straight to the file),
    closed (so the data is on disk, as the baseline's is);
  * the same rows cut to the baseline's columns (ts, level, service, message, trace_id,
    user_id, duration_ms, status_code), to show what the table's width costs;
  * the same rows as one stream of the ingest's blocks (an Arrow C stream, so memory stays a
    block), in one INSERT: on one DuckDB thread, as ingest stores them; and on every thread
    with insertion order given up, which a stream lets DuckDB spread over its threads;
  * the part of a normaliser written in DuckDB SQL that any such design needs, without the
    conversions themselves: every line (in memory) has its alias keys pulled out by one
    `from_json` and its attrs rebuilt without them by `json_merge_patch` (a key per column).
No reading, splitting, parsing, normalising, masking, checkpoints or commits per block: any
ingest into this schema does at least the second line's work, so its ratio to the baseline
bounds what `logkit ingest` can reach; storing plus the SQL line, run one after the other,
bounds an ingest that normalises in DuckDB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGKIT, READ_JSON_BASELINE, core_blocks, run

from logkit._core import Stream
from logkit.migrations import migrate
from logkit.normalize import BUILTIN_ALIASES

NARROW = ["ts", "level", "service", "message", "trace_id", "user_id", "duration_ms", "status_code"]
ROWS_PER_BATCH = 8192


def events_of(parts: list[Any]) -> pa.Table:
    # Batches of the size the ingest commits in, so that DuckDB scans them on every core.
    table = pa.concat_tables(pa.table(part) for part in parts)
    table = table.combine_chunks().drop_columns(["stream"])
    return pa.Table.from_batches(table.to_batches(max_chunksize=ROWS_PER_BATCH))


def alias_sql() -> tuple[str, dict[str, str]]:
    """One from_json over every built-in alias key, and the attrs rebuilt without them."""
    # Once each as DuckDB compares a struct's names, without case (`requestURL`, `requestUrl`).
    names = (name for _, names in BUILTIN_ALIASES for name in names)
    keys = list({name.lower(): name for name in names}.values())
    struct = "{" + ", ".join(f'"{key}": "JSON"' for key in keys) + "}"
    # A line gives up about one key per column, so the patch removes each group's first alias.
    first = dict.fromkeys(names[0] for _, names in BUILTIN_ALIASES)
    patch = "{" + ", ".join(f'"{key}": null' for key in first) + "}"
    return (
        "SELECT count(s) + sum(length(attrs)) FROM (SELECT from_json(line, $struct) AS s,"
        " json_merge_patch(line, $patch) AS attrs FROM lines)",
        {"struct": struct, "patch": patch},
    )


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lines", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="logkit-floor-"))
    try:
        run(
            [
                *LOGKIT,
                "sample",
                "--lines",
                str(args.lines),
                "--out",
                str(work / "logs"),
                "--files",
                "1",
            ]
        )
        (log,) = sorted((work / "logs").iterdir())
        parts = core_blocks(log, stream=True)
        rows = events_of(parts)
        narrow = rows.select(NARROW)
        text = pa.table({"line": pa.array(log.read_bytes().decode().splitlines(), pa.string())})
        text = pa.Table.from_batches(text.to_batches(max_chunksize=ROWS_PER_BATCH))
        sql, params = alias_sql()

        def in_sql() -> None:
            con = duckdb.connect()
            con.register("lines", text)
            con.execute(sql, params).fetchall()
            con.close()

        def baseline() -> None:
            con = duckdb.connect(str(work / "b.duckdb"))
            con.execute(READ_JSON_BASELINE, [str(log)])
            con.close()

        def store(table: pa.Table, columns: list[str] | None) -> None:
            path = work / "s.duckdb"
            con = duckdb.connect(str(path))
            migrate(con, str(path))
            names = ", ".join(columns or table.column_names)
            con.register("rows", table)
            con.execute(f"INSERT INTO events ({names}) SELECT {names} FROM rows")
            con.close()

        def streamed(threads: int, ordered: bool) -> None:
            path = work / "s.duckdb"
            con = duckdb.connect(str(path))
            migrate(con, str(path))
            con.execute(f"SET threads = {threads}")
            con.execute(f"SET preserve_insertion_order = {str(ordered).lower()}")
            # The core's blocks read one by one as DuckDB asks, as ingest's INSERT reads them.
            stream = Stream(parts[0], iter(parts))  # noqa: F841
            con.execute("INSERT INTO events SELECT * FROM stream")
            con.close()

        times: dict[str, list[float]] = {
            "baseline": [], "wide": [], "narrow": [], "stream1": [], "streamN": [], "sql": []
        }  # fmt: skip
        for _ in range(args.repeat):
            for label, fn in (
                ("baseline", baseline),
                ("wide", lambda: store(rows, None)),
                ("narrow", lambda: store(narrow, NARROW)),
                ("stream1", lambda: streamed(1, True)),
                ("streamN", lambda: streamed(os.cpu_count() or 1, False)),
                ("sql", in_sql),
            ):
                for leftover in work.glob("*.duckdb*"):
                    leftover.unlink()
                times[label].append(timed(fn))
        base = statistics.median(times["baseline"])
        print(f"input: {args.lines:,} lines; {rows.num_rows:,} events; median of {args.repeat}")
        for label, text in (
            ("baseline", "duckdb read_json, 10 columns"),
            ("wide", "insert logkit's rows, all columns"),
            ("narrow", f"insert logkit's rows, {len(NARROW)} columns"),
            ("stream1", "stream of blocks, 1 thread, ordered"),
            ("streamN", "stream of blocks, all threads, unordered"),
            ("sql", "SQL: alias keys out, attrs rebuilt"),
        ):
            secs = statistics.median(times[label])
            print(
                f"{text:40} {secs:6.2f} s {args.lines / secs:10,.0f} lines/s"
                f"   {base / secs:5.2f}x baseline"
            )
        both = statistics.median(times["wide"]) + statistics.median(times["sql"])
        print(
            f"{'storing + SQL, one after the other':40} {both:6.2f} s {args.lines / both:10,.0f}"
            f" lines/s   {base / both:5.2f}x baseline"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
