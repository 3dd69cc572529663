"""What each events column costs DuckDB to store, and what each compression method costs `attrs`.

    python bench/store_columns.py [LINES] [--file PATH]   (default 1,000,000 `logkit sample` lines)

Turns the lines into the core's blocks first (untimed, unmasked), then stores them the way
ingest does (DuckDB on one thread, a block per INSERT, a commit every COMMIT_ROWS rows, 96 MB,
then a checkpoint), into a fresh table per measurement, and reports the CPU seconds of each
store and the file it leaves:

  * `line` alone: what the statements and commits cost with next to no data;
  * `line` and one column, for every column: the column's own cost is the difference;
  * `line` and `attrs` under each compression method DuckDB offers for it (`USING
    COMPRESSION`), beside DuckDB's own choice.

The CPU is this process's (user + system), so run it on an otherwise quiet machine; each
figure is one run (repeat the script to see the spread).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import core_blocks

from logkit.ingest.commit import COMMIT_ROWS
from logkit.ingest.run import INGEST_MEMORY_MB
from logkit.sample import generate
from logkit.schema import EVENT_COLUMNS, STREAM_COLUMN

TYPES = dict([*EVENT_COLUMNS, STREAM_COLUMN])
METHODS = ["", "dict_fsst", "zstd", "uncompressed"]  # "": DuckDB's own choice


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def store(tables: list[pa.Table], columns: list[str], compression: str = "") -> tuple[float, int]:
    """CPU seconds to store `columns` of the blocks, and the file's size."""
    with tempfile.TemporaryDirectory(prefix="logkit-bench-columns-") as tmp:
        path = os.path.join(tmp, "s.duckdb")
        con = duckdb.connect(path, config={"threads": 1, "memory_limit": f"{INGEST_MEMORY_MB}MB"})
        using = f" USING COMPRESSION {compression}" if compression else ""
        ddl = ", ".join(f'"{c}" {TYPES[c]}' + (using if c != "line" else "") for c in columns)
        con.execute(f"CREATE TABLE t ({ddl})")
        start, rows = _cpu(), 0
        con.execute("BEGIN")
        for table in tables:
            block = table.select(columns)  # noqa: F841  (read by name)
            con.execute("INSERT INTO t SELECT * FROM block")
            rows += table.num_rows
            if rows >= COMMIT_ROWS:
                con.execute("COMMIT")
                con.execute("BEGIN")
                rows = 0
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        con.close()
        return _cpu() - start, os.path.getsize(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, help="these lines instead of `logkit sample`'s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="logkit-bench-columns-") as tmp:
        log = args.file or generate(Path(tmp), lines=args.lines, seed=7, files=1)[0]
        tables = [pa.table(block) for block in core_blocks(log, stream=True)]
    rows = sum(t.num_rows for t in tables)
    print(f"{rows:,} events in {len(tables)} blocks")
    base, size = store(tables, ["line"])
    print(f"{'line alone':24} {base:5.2f} CPU s {size / 1e6:6.1f} MB")
    for column in tables[0].column_names:
        if column != "line":
            cpu, size = store(tables, ["line", column])
            print(f"{'+ ' + column:24} {cpu - base:+5.2f} CPU s {size / 1e6:6.1f} MB")
    for method in METHODS:
        cpu, size = store(tables, ["line", "attrs"], method)
        label = f"attrs {method or '(DuckDB chooses)'}"
        print(f"{label:24} {cpu - base:+5.2f} CPU s {size / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
