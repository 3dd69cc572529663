"""Ingest throughput and memory, against DuckDB's own NDJSON reader on the same file.

    python bench/ingest.py [LINES]        (default 1,000,000; `make bench` runs this)

Generates LINES lines with `logkit sample` (one file), then in the same run measures:
  * DuckDB `read_json(..., format='newline_delimited', columns={...})` into a table: the
    baseline, which parses but neither normalises, masks, quarantines nor checkpoints;
  * `logkit ingest` with default masking;
  * `logkit ingest --no-mask`.
Reports lines/s, MB/s, peak mem of the whole process tree, and the ratios that the targets are
stated in (logkit >= 0.5x DuckDB; masked >= 0.7x unmasked; memory, as PSS of the process
tree, < 400 MB).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGKIT, mb, run

DUCKDB_SCRIPT = """
import duckdb, sys
con = duckdb.connect(sys.argv[2])
con.execute('''CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited',
  ignore_errors=true, columns={timestamp: 'VARCHAR', ts: 'VARCHAR', level: 'VARCHAR',
  service: 'VARCHAR', message: 'VARCHAR', msg: 'VARCHAR', trace_id: 'VARCHAR',
  user_id: 'VARCHAR', duration_ms: 'DOUBLE', status_code: 'INTEGER'})''', [sys.argv[1]])
con.close()
"""


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    work = Path(tempfile.mkdtemp(prefix="logkit-bench-"))
    try:
        run([*LOGKIT, "sample", "--lines", str(lines), "--out", str(work / "logs"), "--files", "1"])
        (log,) = sorted((work / "logs").iterdir())
        size = log.stat().st_size
        results = {}
        secs, rss, _ = run([sys.executable, "-c", DUCKDB_SCRIPT, str(log), str(work / "d.duckdb")])
        results["duckdb read_json"] = (secs, rss)
        for label, extra in (("logkit ingest", []), ("logkit ingest --no-mask", ["--no-mask"])):
            db = work / f"{len(results)}.duckdb"
            secs, rss, _ = run([*LOGKIT, "--db", str(db), "ingest", "-q", *extra, str(log)])
            results[label] = (secs, rss)
        print(f"input: {lines:,} lines, {mb(size)} ({log.name})")
        print(f"{'':28} {'seconds':>8} {'lines/s':>10} {'MB/s':>7} {'peak PSS':>9}")
        for label, (secs, rss) in results.items():
            rate, mbps = lines / secs, size / secs / 1e6
            print(f"{label:28} {secs:8.2f} {rate:10,.0f} {mbps:7.1f} {mb(rss):>9}")
        base = results["duckdb read_json"][0]
        masked, unmasked = results["logkit ingest"][0], results["logkit ingest --no-mask"][0]
        print(f"logkit / duckdb throughput:   {base / masked:.2f}x  (target >= 0.5x)")
        print(f"masked / unmasked throughput: {unmasked / masked:.2f}x  (target >= 0.7x)")
        print(f"peak mem logkit ingest:       {mb(results['logkit ingest'][1])}  (target < 400 MB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
