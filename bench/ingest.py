"""Ingest throughput and memory, against DuckDB's own NDJSON reader on the same file.

    python bench/ingest.py [LINES] [--repeat N]   (default 1,000,000 lines, 3 repeats;
                                                     `make bench` runs this)

Generates LINES lines with `logkit sample` (one file), then in the same run measures, N times
in turn (the medians are reported: on a noisy machine one run of each can be 15% off):
  * DuckDB `read_json(..., format='newline_delimited', columns={...})` into a table: the
    baseline, which parses but neither normalises, masks, quarantines nor checkpoints;
  * `logkit ingest` with default masking;
  * `logkit ingest --no-mask`.
Reports lines/s, MB/s, peak RSS (the highest of the runs), and the ratios that the targets are
stated in (logkit >= 0.34x DuckDB, 0.5x where the store allows; masked >= 0.85x unmasked, also
each run's; peak RSS <= 400 MB). The timed runs are not sampled (see bench/common.py); one
more masked run, untimed, samples the peak PSS of the process tree.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGKIT, READ_JSON_BASELINE, mb, run, run_sampled

DUCKDB_SCRIPT = f"""
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute({READ_JSON_BASELINE!r}, [sys.argv[1]])
con.close()
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lines", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lines = args.lines
    work = Path(tempfile.mkdtemp(prefix="logkit-bench-"))
    try:
        run([*LOGKIT, "sample", "--lines", str(lines), "--out", str(work / "logs"), "--files", "1"])
        (log,) = sorted((work / "logs").iterdir())
        size = log.stat().st_size
        db = str(work / "run.duckdb")
        commands = {
            "duckdb read_json": [sys.executable, "-c", DUCKDB_SCRIPT, str(log), db],
            "logkit ingest": [*LOGKIT, "--db", db, "ingest", "-q", str(log)],
            "logkit ingest --no-mask": [*LOGKIT, "--db", db, "ingest", "-q", "--no-mask", str(log)],
        }
        runs: dict[str, list[tuple[float, int]]] = {label: [] for label in commands}
        ratios = []
        for _ in range(args.repeat):
            for label, command in commands.items():
                for leftover in work.glob("run.duckdb*"):
                    leftover.unlink()
                secs, rss, _ = run(command)
                runs[label].append((secs, rss))
            ratios.append(runs["logkit ingest --no-mask"][-1][0] / runs["logkit ingest"][-1][0])
        results = {
            label: (statistics.median(s for s, _ in r), max(m for _, m in r))
            for label, r in runs.items()
        }
        for leftover in work.glob("run.duckdb*"):
            leftover.unlink()
        _, pss, _ = run_sampled(commands["logkit ingest"])
        print(f"input: {lines:,} lines, {mb(size)} ({log.name}); median of {args.repeat} runs")
        print(f"{'':28} {'seconds':>8} {'lines/s':>10} {'MB/s':>7} {'peak RSS':>9}")
        for label, (secs, rss) in results.items():
            rate, mbps = lines / secs, size / secs / 1e6
            print(f"{label:28} {secs:8.2f} {rate:10,.0f} {mbps:7.1f} {mb(rss):>9}")
        base = results["duckdb read_json"][0]
        masked, unmasked = results["logkit ingest"][0], results["logkit ingest --no-mask"][0]
        pairs = zip(runs["duckdb read_json"], runs["logkit ingest"], strict=True)
        each = ", ".join(f"{b / m:.2f}" for (b, _), (m, _) in pairs)
        print(f"logkit / duckdb throughput:   {base / masked:.2f}x  (target >= 0.34x; {each})")
        each = ", ".join(f"{r:.2f}" for r in ratios)
        ratio = unmasked / masked
        print(f"masked / unmasked throughput: {ratio:.2f}x  (target >= 0.85x; {each})")
        peak = mb(results["logkit ingest"][1])
        print(f"peak RSS logkit ingest:       {peak}  (target <= 400 MB; peak PSS {mb(pss)})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
