"""`logkit trace` start-up and answer time, two checkouts against the same store, alternating.

    python bench/trace_startup.py OLD_CHECKOUT OLD_STORE NEW_CHECKOUT NEW_STORE TRACE_ID [-n 15]

For "no slower than before" checks on a machine that is not idle: each round runs the old
checkout's `logkit trace ID` and then the new one's (each with its checkout first on
PYTHONPATH, compiled bytecode kept out of the trees), so load that comes and goes falls on both;
the medians of wall and CPU time (user + system of the child) and their ratio are printed. The
stores are separate copies of one store because a newer logkit migrates what it opens, which an
older one may then refuse. The first run of each is a warm-up (and the new one's migration).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(checkout: Path, store: Path, trace_id: str) -> tuple[float, float]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "PYTHONPATH": str(checkout),
        "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / f"pyc-{checkout.name}"),
    }
    cmd = [sys.executable, "-m", "logkit", "--db", str(store), "trace", trace_id, "--format",
           "table"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # In the checkout: `python -m` puts the working directory first on sys.path, before
    # PYTHONPATH, so from inside another checkout that one's logkit would run.
    subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=checkout)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("old_store", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("new_store", type=Path)
    parser.add_argument("trace_id")
    parser.add_argument("-n", type=int, default=15)
    args = parser.parse_args()
    run(args.old, args.old_store, args.trace_id)  # warm-up
    run(args.new, args.new_store, args.trace_id)  # warm-up (and migration)
    old: list[tuple[float, float]] = []
    new: list[tuple[float, float]] = []
    for _ in range(args.n):
        old.append(run(args.old, args.old_store, args.trace_id))
        new.append(run(args.new, args.new_store, args.trace_id))
    load = os.getloadavg()[0]
    print(f"{'median of ' + str(args.n):16} {'wall s':>8} {'CPU s':>8}   (load {load:.1f})")
    for label, runs in (("old", old), ("new", new)):
        print(f"{label:16} {statistics.median(w for w, _ in runs):8.3f}"
              f" {statistics.median(c for _, c in runs):8.3f}")  # fmt: skip
    ratio_wall = statistics.median(w for w, _ in new) / statistics.median(w for w, _ in old)
    ratio_cpu = statistics.median(c for _, c in new) / statistics.median(c for _, c in old)
    print(f"{'new / old':16} {ratio_wall:8.2f}x {ratio_cpu:7.2f}x")


if __name__ == "__main__":
    main()
