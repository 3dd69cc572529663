"""Peak memory (PSS of the process tree, sampled every 20 ms) of one command, and its wall
time (slowed by the sampling: see bench/common.py).

    python bench/peak.py -- logkit --db /tmp/s.duckdb ingest -q /var/log/app

For runs too big for bench/ingest.py's repeats: a 9M-line directory, a 5 GB file.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import mb, run_sampled


def main() -> None:
    cmd = sys.argv[1:]
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    if not cmd:
        raise SystemExit(__doc__)
    seconds, peak, _ = run_sampled(cmd)
    print(f"{seconds:.1f} s, peak PSS {mb(peak)}: {' '.join(cmd)}")


if __name__ == "__main__":
    main()
