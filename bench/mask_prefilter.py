"""What masking costs a worker per line, with the prefilter line by line or over whole blocks.

    python bench/mask_prefilter.py [LINES] [--repeat N]     (default 200,000 lines, 5 repeats)

Generates LINES lines with `logkit sample` (one file per service), then times in this process
the worker's whole job (`process_chunk`: parse, normalise, mask, Arrow) over 2 MB blocks of
each file, three ways, alternating: unmasked; masked with `Masker.needs_masking` on every line;
masked with the Hyperscan block scan (logkit/blockscan.py) deciding which lines are masked.
Reports the median µs per line and masked/unmasked as a throughput ratio (issue 3's target:
masking costs at most 30%, >= 0.7x). It also checks that both masked ways give the same rows.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGKIT, blocks_of, run

from logkit.blockscan import BlockScanner
from logkit.pipeline import build_stages, make_masker, process_chunk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lines", nargs="?", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="logkit-prefilter-"))
    try:
        run([*LOGKIT, "sample", "--lines", str(args.lines), "--out", str(work)])
        masker = make_masker({}, None, {})
        scanner = BlockScanner.for_masker(masker)
        if scanner is None:
            sys.exit("Hyperscan is not installed: there is no block scan to measure")
        plain, masked = build_stages({}, None), build_stages({}, masker)
        ways = {
            "unmasked": lambda b: process_chunk(plain, None, "x", b, 1, 0),
            "masked, line by line": lambda b: process_chunk(masked, masker, "x", b, 1, 0),
            "masked, block scan": lambda b: process_chunk(
                masked, masker, "x", b, 1, 0, scanner=scanner
            ),
        }
        print(f"{'µs per line':24}" + "".join(f"{w:>22}" for w in ways))
        for path in sorted(work.iterdir()):
            blocks = blocks_of(path)
            lines = sum(b.count(b"\n") for b in blocks)
            by_line = [ways["masked, line by line"](b) for b in blocks]
            scanned = [ways["masked, block scan"](b) for b in blocks]
            for a, b in zip(by_line, scanned, strict=True):
                assert a.events.equals(b.events) and a.rejects.equals(b.rejects), path.name
            times: dict[str, list[float]] = {way: [] for way in ways}
            for _ in range(args.repeat):
                for way, fn in ways.items():
                    start = time.perf_counter()
                    for block in blocks:
                        fn(block)
                    times[way].append((time.perf_counter() - start) / lines * 1e6)
            median = {way: statistics.median(t) for way, t in times.items()}
            print(f"{path.name:24}" + "".join(f"{median[w]:22.2f}" for w in ways))
            base = median["unmasked"]
            print(
                f"{'  masked/unmasked':24}{'':22}{base / median['masked, line by line']:21.2f}x"
                f"{base / median['masked, block scan']:21.2f}x"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
