"""Per-line cost of masking, logkit/mask.py against the native masker (src/mask/, Rust).

    python bench/mask_core.py [--events 50000] [--lines 200000]

Generates lines with `logkit sample` (with its planted secrets), then times in this process:
`mask_event` on the normalised events (every event, not only those the prefilter flags), and
`needs_masking` on the raw lines. The native figures are taken inside the core (events parsed
beforehand; lines copied beforehand; the best of three), so they are what the ingest core pays
per line, without Python's call overhead; the per-call figure through the binding is shown
beside. The machine is shared: figures vary by 2x from run to run.
Needs the native core, `logkit._core` (built with the package).
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGKIT, run

from logkit import _core
from logkit.mask import Masker
from logkit.normalize import Normalizer


def lines_of(count: int, work: Path) -> list[bytes]:
    run([*LOGKIT, "sample", "--lines", str(count), "--out", str(work), "--seed", "3"])
    return [line for path in sorted(work.iterdir()) for line in path.read_bytes().splitlines()]


def per_line(seconds: float, n: int) -> str:
    return f"{seconds / n * 1e6:7.2f} µs/line"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="logkit-mask-core-"))
    try:
        lines = lines_of(args.lines, work)
        normalize = Normalizer()
        events = [normalize(orjson.loads(line)) for line in lines[: args.events]]
        texts = [json.dumps(event) for event in events]

        py, rs = Masker(), _core.Masker("{}")
        copies = [copy.deepcopy(event) for event in events]
        started = time.perf_counter()
        for event in copies:
            py.mask_event(event)
        py_events = time.perf_counter() - started
        rs_events = min(rs.time_mask_events(texts) for _ in range(3))
        print(f"mask_event, {len(events):,} sample events")
        print(f"  logkit/mask.py   {per_line(py_events, len(events))}")
        ratio = py_events / rs_events
        print(f"  native (core)    {per_line(rs_events, len(events))}  ({ratio:.0f}x)")

        started = time.perf_counter()
        py_flagged = sum(py.needs_masking(line) for line in lines)
        py_lines = time.perf_counter() - started
        rs_flagged = rs.count_needs_masking(lines)
        rs_lines = min(rs.time_needs_masking(lines) for _ in range(3))
        started = time.perf_counter()
        sum(rs.needs_masking(line) for line in lines)
        rs_calls = time.perf_counter() - started
        print(f"needs_masking, {len(lines):,} raw lines")
        print(f"  logkit/mask.py   {per_line(py_lines, len(lines))}  ({py_flagged:,} flagged)")
        print(
            f"  native (core)    {per_line(rs_lines, len(lines))}  ({rs_flagged:,} flagged, "
            f"{py_lines / rs_lines:.0f}x)"
        )
        print(f"  native per call  {per_line(rs_calls, len(lines))}  (through the binding)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
