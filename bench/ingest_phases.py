"""Where an ingest's time goes, in wall and CPU seconds: the core, DuckDB's inserts, commits.

    python bench/ingest_phases.py PATH... [--no-mask] [--repeat N]

Runs `Store.ingest` in this process on a fresh store and times, by wrapping them, the calls the
run spends its time in: the native core (`Core.process_chunk`, on every core with the GIL
released), reading (`Source.read`), the INSERTs of each block (`ingest._insert`), the spool
that keeps a transaction's rows for a retry (`_Spool.write`), each commit (`_Committer.flush`:
trace spans, checkpoint saves, counters, COMMIT, and the WAL checkpoint it may trigger) and
the WAL checkpoints (`WriteSession.checkpoint`, also counted in the commit that triggered it).
CPU seconds are the whole process's (every thread's) during the call: on a machine shared
with other work they move less than wall seconds. Wrapping adds a few microseconds per call.
Since the sixth session a file is read on a reader thread and the spool written on a thread
of its own: "reading" is then that thread's time, not the storing thread's, and "spool" only
the handing over of each table (its writing is not timed).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import logkit
from logkit import core as core_module
from logkit import store as store_module

try:
    from logkit.ingest import commit as commit_module
    from logkit.ingest import sources as sources_module
except ImportError:  # a tree before logkit/ingest/ was a package: ingest.py, sources.py
    from logkit import ingest as commit_module  # type: ignore[no-redef]
    from logkit import sources as sources_module  # type: ignore[no-redef]

wall: Counter[str] = Counter()
cpu: Counter[str] = Counter()
calls: Counter[str] = Counter()


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def timed(owner: Any, name: str, label: str) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, start_cpu = time.perf_counter(), _cpu()
        try:
            return inner(*args, **kwargs)
        finally:
            wall[label] += time.perf_counter() - start
            cpu[label] += _cpu() - start_cpu
            calls[label] += 1

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--no-mask", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    # An ingest calls process_block, and makes tables of its block on the storing thread.
    core_call = "process_block" if hasattr(core_module.Core, "process_block") else "process_chunk"
    timed(core_module.Core, core_call, "core")
    if hasattr(core_module.ChunkResult, "of"):
        timed(core_module.ChunkResult, "of", "tables of the core's blocks")
    timed(sources_module.Source, "read", "reading")
    committer = getattr(commit_module, "Committer", None) or commit_module._Committer
    if hasattr(commit_module, "_Spool"):
        timed(commit_module, "_insert", "inserts")
        timed(commit_module._Spool, "write", "spool")
        timed(committer, "flush", "commits (checkpoints included)")
    else:  # the tree before: a block's rows were inserted when its transaction committed
        timed(committer, "flush", "transactions (checkpoints included)")
    timed(store_module.WriteSession, "checkpoint", "checkpoints")
    for _ in range(args.repeat):
        wall.clear(), cpu.clear(), calls.clear()
        with tempfile.TemporaryDirectory(prefix="logkit-bench-phases-") as tmp:
            store = logkit.open(Path(tmp) / "s.duckdb")
            start, start_cpu = time.perf_counter(), _cpu()
            summary = store.ingest(args.paths, mask=not args.no_mask)
            total, total_cpu = time.perf_counter() - start, _cpu() - start_cpu
        print(f"{summary.lines:,} lines in {total:.2f} s ({summary.lines / total:,.0f} lines/s),"
              f" CPU {total_cpu:.2f} s; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        for label, seconds in wall.most_common():
            print(f"  {label:32} {seconds:6.2f} s {seconds / total:4.0%}"
                  f"  CPU {cpu[label]:6.2f} s {cpu[label] / total_cpu:4.0%}"
                  f"  in {calls[label]} calls")  # fmt: skip


if __name__ == "__main__":
    main()
