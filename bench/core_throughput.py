"""The native core against the Python per-line pipeline, in one process, on the same blocks.

`python bench/core_throughput.py [LINES]` (default 200k lines of `logkit sample`, 2 MB blocks as
the ingest cuts them): lines/s of `pipeline.process_chunk` (unmasked, one process: what one
ingest worker does), of the core (all cores, GIL released), of the core with each block's
events inserted into a DuckDB table (`INSERT INTO events SELECT * FROM batch`, the batch read
through the Arrow C stream interface), and DuckDB's `read_json` baseline on the same file.
Needs the core built in release mode (`pip install -e .`).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import READ_JSON_BASELINE, blocks_of

from logkit.core import Core
from logkit.pipeline import EVENT_SCHEMA, build_stages, process_chunk
from logkit.sample import generate


def timed(label: str, lines: int, run) -> float:
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.2f} s  {lines / seconds:>12,.0f} lines/s")
    return seconds


def main(lines: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (path,) = generate(Path(tmp), lines=lines, seed=0, files=1)
        blocks = blocks_of(path)
        n = sum(block.count(b"\n") for block in blocks)
        print(f"{n:,} lines, {path.stat().st_size / 1e6:.1f} MB, {len(blocks)} blocks")
        stages = build_stages(None, None)
        core = Core()

        def python() -> None:
            for block in blocks:
                process_chunk(stages, None, "bench", block, 1, 0)

        def native() -> None:
            for block in blocks:
                core.process_chunk("bench", block, 1, 0)

        con = duckdb.connect()
        empty = EVENT_SCHEMA.empty_table()  # noqa: F841  (read by DuckDB by name)
        con.execute("CREATE TABLE events AS SELECT * FROM empty")

        def native_into_duckdb() -> None:
            for block in blocks:
                batch = core._core.process(block, "bench", 1, 0).events  # noqa: F841
                con.execute("INSERT INTO events SELECT * FROM batch")

        def baseline() -> None:
            duckdb.connect().execute(READ_JSON_BASELINE, [str(path)])

        py = timed("python process_chunk (1 process)", n, python)
        rust = timed("core", n, native)
        timed("core + DuckDB insert", n, native_into_duckdb)
        timed("DuckDB read_json baseline", n, baseline)
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == n
        print(f"core / python: {py / rust:.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
