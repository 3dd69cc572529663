"""`logkit mask` throughput on the sample logs, against reading the same bytes and, optionally,
against an older tree's `logkit mask` (the Python masker's, before the native one).

    python bench/mask_stream.py [MB] [--repeat N] [--old TREE] [--generated]
                                   (default 100 MB, 3 repeats; `make bench` runs this)

The input is sample_logs/ (the .gz files decompressed, CANARIES.txt and the docs left out)
repeated to about MB megabytes in one file: real lines with real secrets, ~20% of them with
something to mask. Repeated, its values are all seen before after the first copy, which a
masker that remembers clean values (both do) profits from; `--generated` takes MB of `logkit
sample --seed 7` output instead, whose ids, times and planted secrets do not repeat.
Each command runs N times in turn, its output to /dev/null:
  * `cat FILE`: the floor, reading the bytes and writing them on;
  * `logkit mask FILE` of this tree;
  * with --old, `logkit mask FILE` run from TREE (e.g. a checkout of 2707e8e).
Reported per command: the median wall time and MB/s, and the CPU seconds the process used
(user + system, from getrusage: on a machine other work keeps busy, CPU time is steadier than
wall time). The target (issue 16): `logkit mask` >= 100 MB/s.
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGKIT, ROOT


def sample_bytes() -> bytes:
    parts = []
    for path in sorted((ROOT / "sample_logs").iterdir()):
        if path.suffix in (".md", ".py", ".txt"):
            continue
        data = path.read_bytes()
        parts.append(gzip.decompress(data) if path.suffix == ".gz" else data)
    return b"".join(p if p.endswith(b"\n") else p + b"\n" for p in parts)


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run, its output to /dev/null."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mb", nargs="?", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--old", help="an older logkit tree to run `logkit mask` from")
    parser.add_argument("--generated", action="store_true", help="`logkit sample` output")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="logkit-bench-mask-"))
    try:
        log = work / "sample.ndjson"
        if args.generated:
            lines = str(args.mb * 1_000_000 // 420)  # ~420 bytes a line
            subprocess.run(
                [*LOGKIT, "sample", "--lines", lines, "--out", str(work / "gen"), "--files", "1",
                 "--seed", "7"],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            (generated,) = (work / "gen").iterdir()
            generated.rename(log)
        else:
            sample = sample_bytes()
            with log.open("wb") as out:
                for _ in range(max(1, args.mb * 1_000_000 // len(sample))):
                    out.write(sample)
        size = log.stat().st_size
        db = str(work / "none.duckdb")  # never created: `logkit mask` needs no store
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        commands = {"cat": (["cat", str(log)], env)}
        commands["logkit mask"] = ([*LOGKIT, "--db", db, "mask", str(log)], env)
        if args.old:
            old_env = {**os.environ, "PYTHONPATH": str(Path(args.old).resolve())}
            commands["logkit mask (old tree)"] = ([*LOGKIT, "--db", db, "mask", str(log)], old_env)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, (cmd, cmd_env) in commands.items():
                runs[name].append(timed(cmd, cmd_env))
        what = "`logkit sample` output" if args.generated else "sample_logs/ lines"
        print(f"input: {size / 1e6:,.0f} MB of {what}, {args.repeat} runs each")
        print(f"  {'command':<24} {'wall s':>8} {'MB/s':>8} {'CPU s':>7} {'MB/CPU s':>9}")
        speeds = {}
        for name, times in runs.items():
            wall = statistics.median(t for t, _ in times)
            cpu = statistics.median(c for _, c in times)
            speeds[name] = size / 1e6 / wall
            print(
                f"  {name:<24} {wall:8.2f} {speeds[name]:8.1f} {cpu:7.2f} "
                f"{size / 1e6 / max(cpu, 1e-9):9.1f}"
            )
        print(f"logkit mask / cat: {speeds['logkit mask'] / speeds['cat']:.3f}x")
        if args.old:
            old = speeds["logkit mask (old tree)"]
            print(f"logkit mask / old tree's: {speeds['logkit mask'] / old:.1f}x")
        target = "met" if speeds["logkit mask"] >= 100 else "NOT met"
        print(f"target logkit mask >= 100 MB/s: {target}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
