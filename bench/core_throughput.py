"""The native core's throughput, in one process, on the blocks an ingest cuts.

`python bench/core_throughput.py [LINES]` (default 200k lines of `logkit sample`, 2 MB blocks as
the ingest cuts them): lines/s of the core (all cores, GIL released), of the core with each
block's events inserted into a DuckDB table (`INSERT INTO events SELECT * FROM batch`, the batch
read through the Arrow C stream interface), and DuckDB's `read_json` baseline on the same file.
(The Python per-line pipeline it was once compared with is gone.) Needs the core built in
release mode (`pip install -e .`).

`python bench/core_throughput.py --old OLD.so [LINES] [--passes N] [--source DIR]`: the core
alone, this build against another build of `logkit._core` (a copy of its .so) loaded into the
same process, unmasked and masked (the default `[mask]`), passes alternating between the two
so that both see the same load; CPU seconds are the process's (every thread's), per line. With
`--source`, the lines are the files of DIR (sample_logs/) repeated to LINES instead of
`logkit sample`'s.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import resource
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import READ_JSON_BASELINE, blocks_of

from logkit import core as core_module
from logkit import mask as mask_module
from logkit.core import Core, native_masker
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


def load_core(path: Path):
    """Another build of `logkit._core`, from its .so, beside the one imported."""
    spec = importlib.util.spec_from_file_location("logkit_old._core", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module.Block, "key_open"):
        module = _with_key_open(module)
    return module


def _with_key_open(module):
    """A build from before blocks gave back the key block open after them (`key_open`), as
    logkit.core reads blocks now: each of its blocks says none is open (the A/B's blocks are
    read one by one from the start, no state carried)."""

    class Block:
        key_open = 0

        def __init__(self, block) -> None:
            self._block = block

        def __getattr__(self, name: str):
            return getattr(self._block, name)

    class Core:
        def __init__(self, *args) -> None:
            self._core = module.Core(*args)

        def process(self, *args) -> Block:
            return Block(self._core.process(*args))

        def __getattr__(self, name: str):
            return getattr(self._core, name)

    names = {name: getattr(module, name) for name in dir(module) if not name.startswith("__")}
    return types.SimpleNamespace(**{**names, "Core": Core})


def built_with(module, masked: bool) -> Core:
    """A Core (and its masker) built by `module` rather than the imported `logkit._core`:
    logkit.core and logkit.mask call their module's `_core`, swapped for the while."""
    saved = core_module._core, mask_module._core
    core_module._core = mask_module._core = module
    try:
        return Core(masker=native_masker({}, b"bench-key" * 4) if masked else None)
    finally:
        core_module._core, mask_module._core = saved


def source_lines(directory: Path, lines: int, into: Path) -> Path:
    """The files of `directory` (gzip read as such) as one file, repeated up to `lines`."""
    data = b""
    for path in sorted(directory.glob("*.log*")) + sorted(directory.glob("*.json")):
        raw = path.read_bytes()
        data += gzip.decompress(raw) if path.suffix == ".gz" else raw
    data = b"".join(line + b"\n" for line in data.splitlines() if line)
    count = data.count(b"\n")
    out = into / "lines.log"
    out.write_bytes(data * (lines // count) + b"".join(data.splitlines(True)[: lines % count]))
    return out


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def compare(old_path: Path, lines: int, passes: int, source: Path | None) -> None:
    old = load_core(old_path)
    with tempfile.TemporaryDirectory() as tmp:
        if source is None:
            (path,) = generate(Path(tmp), lines=lines, seed=0, files=1)
        else:
            path = source_lines(source, lines, Path(tmp))
        blocks = blocks_of(path)
        n = sum(block.count(b"\n") for block in blocks)
        print(f"{n:,} lines, {path.stat().st_size / 1e6:.1f} MB, {len(blocks)} blocks;"
              f" {passes} passes each, alternating")  # fmt: skip
        results = {}
        for masked in (False, True):
            cores = {"old": built_with(old, masked), "new": built_with(core_module._core, masked)}
            for core in cores.values():  # warm: the thread pool, the masker's caches
                core.process_chunk("bench", blocks[0], 1, 0)
            runs = {name: [] for name in cores}
            for _ in range(passes):
                for name, core in cores.items():
                    wall, used = time.perf_counter(), cpu()
                    for block in blocks:
                        core.process_chunk("bench", block, 1, 0)
                    runs[name].append((time.perf_counter() - wall, cpu() - used))
            for name, each in runs.items():
                wall = statistics.median(w for w, _ in each)
                used = statistics.median(c for _, c in each)
                results[name, masked] = used
                label = f"core {name}, {'masked' if masked else 'unmasked'}"
                print(f"{label:<22} {used / n * 1e6:6.2f} us CPU/line {n / wall:>12,.0f} lines/s"
                      f"  (wall {wall:.2f} s, CPU {used:.2f} s)")  # fmt: skip
        for name in ("old", "new"):
            ratio = results[name, False] / results[name, True]
            print(f"{name}: masked/unmasked throughput by CPU {ratio:.2f}x")
        print(f"new/old CPU per line: unmasked {results['new', False] / results['old', False]:.2f},"
              f" masked {results['new', True] / results['old', True]:.2f}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("lines", nargs="?", type=int, default=200_000)
    parser.add_argument("--old", type=Path, help="another build's _core .so: compare the core")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--source", type=Path, help="lines from these files (sample_logs/)")
    args = parser.parse_args()
    if args.old:
        compare(args.old, args.lines, args.passes, args.source)
    else:
        main(args.lines)
