"""How a block's rows go into DuckDB: CPU, wall time, and what stays held of them.

    python bench/insert_paths.py [LINES]     (default 300,000 lines of a `logkit sample` file)

Each way of inserting runs in a process of its own, which stores all blocks in one transaction
of a fresh store, as an ingest's transaction does, the core making each block's Arrow rows
just before its insert (as an ingest's blocks come) and the script dropping them after it:
  * `register` + INSERT + `unregister` per block (logkit before 26d045a);
  * `from_arrow(...).insert_into` per block (logkit now);
  * several blocks per INSERT (a table of 24 blocks, all blocks);
  * the same with `preserve_insertion_order = false`, under which DuckDB spreads an INSERT
    over its threads;
  * one block per INSERT on DuckDB's two threads (logkit's writer connection) against one
    (logkit while ingesting), and with attrs as a plain string column, which DuckDB casts to
    its JSON type (parsing each value), against the core's Arrow JSON extension type.
"insert CPU" counts the inserts and the COMMIT only; "core arena" is the resident part of the
core allocator's 1 GiB arenas after the commit: the blocks' Arrow buffers live there until
nothing holds them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import blocks_of

from logkit.core import Core
from logkit.migrations import migrate
from logkit.sample import generate

Insert = Callable[[duckdb.DuckDBPyConnection, list[pa.Table]], None]


def arena_mb() -> int:
    """Resident MB of the 1 GiB mappings: mimalloc's arenas (the core's allocator)."""
    size, total = 0, 0
    with open("/proc/self/smaps") as fh:
        for line in fh:
            head = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
            if head:
                size = int(head.group(2), 16) - int(head.group(1), 16)
            elif line.startswith("Rss:") and size == 1 << 30:
                total += int(line.split()[1])
    return total >> 10


def registered(con: duckdb.DuckDBPyConnection, group: list[pa.Table]) -> None:
    for table in group:
        con.register("_events", table)
        con.execute("INSERT INTO events SELECT * FROM _events")
        con.unregister("_events")


def relation(con: duckdb.DuckDBPyConnection, group: list[pa.Table]) -> None:
    for table in group:
        con.from_arrow(table).insert_into("events")


def one_insert(con: duckdb.DuckDBPyConnection, group: list[pa.Table]) -> None:
    con.from_arrow(pa.concat_tables(group)).insert_into("events")


def plain_attrs(table: pa.Table) -> pa.Table:
    """`table` with attrs as a plain string column (the core's before it typed them JSON)."""
    index = table.column_names.index("attrs")
    column = table.column(index)
    chunks = [
        chunk.storage if isinstance(chunk, pa.ExtensionArray) else chunk for chunk in column.chunks
    ]
    return table.set_column(index, "attrs", pa.chunked_array(chunks, type=pa.string()))


def measure(
    data: list[bytes], insert: Insert, per: int, ordered: bool, threads: int, plain: bool
) -> str:
    tmp = tempfile.mkdtemp(prefix="logkit-bench-insert-")
    path = os.path.join(tmp, "s.duckdb")
    con = duckdb.connect(path)
    core = Core(stream=True)
    try:
        migrate(con, path)
        con.execute("SET memory_limit = '96MB'")
        con.execute(f"SET threads = {threads}")
        if not ordered:
            con.execute("SET preserve_insertion_order = false")
        wall = cpu = 0.0
        con.execute("BEGIN")
        for at in range(0, len(data), per):
            group = []
            for block in data[at : at + per]:
                events = pa.table(core.process_chunk("app.log", block, 1, 0, stream=1).events)
                group.append(plain_attrs(events) if plain else events)
            start, used = time.perf_counter(), time.process_time()
            insert(con, group)
            wall, cpu = wall + time.perf_counter() - start, cpu + time.process_time() - used
            del group
        start, used = time.perf_counter(), time.process_time()
        con.execute("COMMIT")
        wall, cpu = wall + time.perf_counter() - start, cpu + time.process_time() - used
        return f"insert wall {wall:5.2f} s  insert CPU {cpu:5.2f} s  core arena {arena_mb():4d} MB"
    finally:
        con.close()
        shutil.rmtree(tmp)


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    way = int(sys.argv[2]) if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory(prefix="logkit-bench-insert-") as tmp:
        generate(Path(tmp), lines=lines, seed=7, files=1)
        [log] = Path(tmp).iterdir()
        data = blocks_of(log)
    # (name, insert, blocks per insert, ordered, DuckDB's threads, attrs a plain string)
    ways: list[tuple[str, Insert, int, bool, int, bool]] = [
        ("register, insert, unregister", registered, 1, True, 2, False),
        ("from_arrow().insert_into", relation, 1, True, 2, False),
        ("24 blocks per insert", one_insert, 24, True, 2, False),
        ("all blocks in one insert", one_insert, len(data), True, 2, False),
        ("24 per insert, order free", one_insert, 24, False, 2, False),
        ("all in one, order free", one_insert, len(data), False, 2, False),
        ("insert_into, attrs plain", relation, 1, True, 2, True),
        ("insert_into, 1 thread", relation, 1, True, 1, False),
    ]
    if way is None:
        print(f"{lines:,} lines in {len(data)} blocks, one transaction")
        for index in range(len(ways)):
            subprocess.run([sys.executable, __file__, str(lines), str(index)], check=True)
        return
    name, insert, per, ordered, threads, plain = ways[way]
    print(f"{name:30s} {measure(data, insert, per, ordered, threads, plain)}", flush=True)


if __name__ == "__main__":
    main()
