"""process_chunk over the same lines with two checkouts of logkit, alternating (A B A B ...),
each in its own process (the code under test is imported per checkout): the cost of a change
on the common path. Usage:

    python bench/process_chunk_ab.py LOGFILE A_DIR B_DIR [ROUNDS]

Each run times process_chunk over the file in 2 MB blocks of complete lines (as the reader
hands them to workers), with the default stages and masking as ingest builds them, in CPU
seconds of the process (on a shared machine, wall time measures the neighbours); best and
median of the rounds per checkout are printed.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

CHILD = r"""
import sys, time
from logkit.config import load_config
from logkit.pipeline import build_stages, make_masker, process_chunk, FormatSettings
data = open(sys.argv[1], "rb").read()
blocks, start = [], 0
while start < len(data):
    end = data.rfind(b"\n", start, start + 2 * 1024 * 1024) + 1 or len(data)
    blocks.append(data[start:end])
    start = end
config = load_config(None)
masker = make_masker(config.mask, b"k" * 32, config.aliases, FormatSettings())
stages = build_stages(config.aliases, masker, FormatSettings())
t = time.process_time()
n = 0
for block in blocks:
    n += process_chunk(stages, masker, "f", block, 1, 0).events.num_rows
print(time.process_time() - t, n)
"""


def run(checkout: str, log: str) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": checkout}
    out = subprocess.run([sys.executable, "-c", CHILD, log], env=env, capture_output=True,
                         text=True, check=True).stdout.split()  # fmt: skip
    return float(out[0]), int(out[1])


def main() -> None:
    log, a, b = sys.argv[1:4]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    times: dict[str, list[float]] = {a: [], b: []}
    for _ in range(rounds):
        for checkout in (a, b):
            seconds, events = run(checkout, log)
            times[checkout].append(seconds)
            print(f"{checkout}: {seconds:.3f} s CPU, {events} events", flush=True)
    for checkout, values in times.items():
        print(f"{checkout}: best {min(values):.3f} s, median {statistics.median(values):.3f} s")


if __name__ == "__main__":
    main()
