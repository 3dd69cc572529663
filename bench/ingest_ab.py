"""`logkit ingest` of the same file by two checkouts, alternating: wall, CPU and peak RSS.

    python bench/ingest_ab.py OLD_CHECKOUT NEW_CHECKOUT [--lines N | --file PATH] [--pairs 4]
                              [-- INGEST OPTIONS]

For "is this change faster" checks on a machine that is not idle: each round ingests the file
into a fresh store with the old checkout and then the new one (each run in its checkout, with
it first on PYTHONPATH and compiled bytecode kept out of the trees), so load that comes and goes
falls on both. Prints each run and the medians of wall time, CPU (user + system of the child,
every thread) and the peak RSS, and the new/old ratios. A checkout's native core is the
`logkit/_core.abi3.so` in it (copy a build there for an older tree).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ENV, LOGKIT


def ingest(checkout: Path, log: Path, store: Path, options: list[str]) -> tuple[float, float, int]:
    for leftover in store.parent.glob(store.name + "*"):
        leftover.unlink()
    env = {
        **ENV,
        "PYTHONPATH": str(checkout),
        "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / f"pyc-{checkout.name}"),
    }
    cmd = [*LOGKIT, "--db", str(store), "ingest", "-q", *options, str(log)]
    start = time.perf_counter()
    # In the checkout: `python -m` puts the working directory first on sys.path.
    proc = subprocess.Popen(cmd, env=env, cwd=checkout)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{checkout}: ingest failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--file", type=Path, help="ingest this file instead of sample lines")
    parser.add_argument("--pairs", type=int, default=4)
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.options = argv[split + 1 :]  # logkit ingest's own options
    with tempfile.TemporaryDirectory(prefix="logkit-ab-") as tmp:
        work = Path(tmp)
        log = args.file
        if log is None:
            subprocess.run([*LOGKIT, "sample", "--lines", str(args.lines), "--out",
                            str(work / "logs"), "--files", "1"], check=True, env=ENV)  # fmt: skip
            (log,) = sorted((work / "logs").iterdir())
        runs: dict[Path, list[tuple[float, float, int]]] = {args.old: [], args.new: []}
        for _ in range(args.pairs):
            for checkout in runs:
                result = ingest(checkout.resolve(), log, work / "ab.duckdb", args.options)
                runs[checkout].append(result)
                wall, cpu, rss = result
                print(f"{checkout}: wall {wall:.2f} s, CPU {cpu:.2f} s, RSS {rss >> 20} MB")
        medians = {
            checkout: [statistics.median(r[i] for r in each) for i in range(3)]
            for checkout, each in runs.items()
        }
        for checkout, (wall, cpu, rss) in medians.items():
            print(f"median {checkout}: wall {wall:.2f} s, CPU {cpu:.2f} s, RSS {int(rss) >> 20} MB")
        (ow, oc, orss), (nw, nc, nrss) = medians[args.old], medians[args.new]
        print(f"new/old: wall {nw / ow:.2f}, CPU {nc / oc:.2f}, RSS {nrss / orss:.2f}")


if __name__ == "__main__":
    main()
