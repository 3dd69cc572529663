"""Where an ingest's wall time goes: the main process's waits and DuckDB's share.

    python bench/ingest_phases.py PATH... [--no-mask]

Runs `Store.ingest` in this process on a fresh store and times, by wrapping them, the calls the
main process spends its time in: waiting for worker results, the INSERTs of each transaction,
the checkpoints, and each transaction as a whole (inserts, checkpoint saves, counters, COMMIT
and any checkpoint it triggers). Also the main process's own CPU time; the workers' is what the
wall time leaves. Wrapping adds a few microseconds per call, on a few hundred calls.
"""

from __future__ import annotations

import argparse
import multiprocessing.pool
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import logkit
from logkit import ingest as ingest_module
from logkit import store as store_module

spent: Counter[str] = Counter()
calls: Counter[str] = Counter()


def timed(owner: Any, name: str, label: str) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start
            calls[label] += 1

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--no-mask", action="store_true")
    args = parser.parse_args()
    timed(multiprocessing.pool.ApplyResult, "get", "waiting for workers")
    timed(ingest_module._Committer, "_write", "inserts and checkpoint saves")
    timed(store_module.WriteSession, "checkpoint", "checkpoints")
    timed(store_module.WriteSession, "run", "transactions, checkpoints included")
    with tempfile.TemporaryDirectory(prefix="logkit-bench-phases-") as tmp:
        store = logkit.open(Path(tmp) / "s.duckdb")
        before, start = os.times(), time.perf_counter()
        summary = store.ingest(args.paths, mask=not args.no_mask)
        wall, after = time.perf_counter() - start, os.times()
    cpu = (after.user - before.user) + (after.system - before.system)
    print(f"{summary.lines:,} lines in {wall:.1f} s ({summary.lines / wall:,.0f} lines/s);"
          f" main process CPU {cpu:.1f} s")  # fmt: skip
    for label, seconds in spent.most_common():
        print(f"  {label:38} {seconds:6.1f} s  {seconds / wall:4.0%}  in {calls[label]} calls")


if __name__ == "__main__":
    main()
