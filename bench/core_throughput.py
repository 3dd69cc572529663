"""The native core's throughput, in one process, on the blocks an ingest cuts.

`python bench/core_throughput.py [LINES]` (default 200k lines of `logkit sample`, 2 MB blocks as
the ingest cuts them): lines/s of the core (all cores, GIL released), of the core with each
block's events inserted into a DuckDB table (`INSERT INTO events SELECT * FROM batch`, the batch
read through the Arrow C stream interface), and DuckDB's `read_json` baseline on the same file.
(The Python per-line pipeline it was once compared with is gone.) Needs the core built in
release mode (`pip install -e .`).
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
        core = Core()

        def native() -> None:
            for block in blocks:
                core.process_chunk("bench", block, 1, 0)

        con = duckdb.connect()
        empty = core.process_chunk("bench", b"", 1, 0).events  # noqa: F841  (read by name)
        con.execute("CREATE TABLE events AS SELECT * FROM empty")

        def native_into_duckdb() -> None:
            for block in blocks:
                batch = core._core.process(block, "bench", 1, 0).events  # noqa: F841
                con.execute("INSERT INTO events SELECT * FROM batch")

        def baseline() -> None:
            duckdb.connect().execute(READ_JSON_BASELINE, [str(path)])

        timed("core", n, native)
        timed("core + DuckDB insert", n, native_into_duckdb)
        timed("DuckDB read_json baseline", n, baseline)
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == n


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
