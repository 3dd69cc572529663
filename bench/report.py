"""Postmortem speed: `logkit report` on a large store, and the notebook on sample_logs/.

    python bench/report.py [EVENTS] [--dir DIR] [--repeat N]     (default 1,000,000 events)

Builds a store of EVENTS lines with `logkit sample` + `logkit ingest` (kept in DIR and reused
when DIR is given, else in a temporary directory; the same build as bench/queries.py), then
measures as the median wall time of separate processes (start-up, analysis, charts and the
file written, all included):

  * `logkit report` for a one-hour window around the generated incident, as HTML;
  * the same as Markdown to stdout (no charts: the analysis alone);
  * `logkit report` with no window, so the incident window is detected over the whole store;

and, once, notebooks/incident_postmortem.ipynb executed headless with nbclient (kernel
start-up included) on a store ingested from sample_logs/. Targets (issue 6): the report within
10 s on a 10M-event store; the notebook within 30 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from logkit.sample import incident_window

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import LOGKIT, ROOT, run

from queries import build


def timed(cmd: list[str], repeat: int) -> tuple[float, float, int]:
    """Median wall seconds and CPU seconds (user + system, threads included) over `repeat`
    runs, and the largest peak RSS seen. CPU time says what wall time would be on an idle
    machine, where other work inflates the wall time."""
    times, cpus, peaks = [], [], []
    for _ in range(repeat):
        before = _children_cpu()
        secs, rss, _ = run(cmd)
        cpus.append(_children_cpu() - before)
        times.append(secs)
        peaks.append(rss)
    return statistics.median(times), statistics.median(cpus), max(peaks)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def notebook_seconds(directory: Path) -> float:
    """Ingest sample_logs/, then run the postmortem notebook on it, window detected."""
    import nbformat
    from nbclient import NotebookClient

    db = directory / "samples.duckdb"
    if not db.exists():
        run([*LOGKIT, "--db", str(db), "ingest", "-q", str(ROOT / "sample_logs")])
    book = nbformat.read(ROOT / "notebooks" / "incident_postmortem.ipynb", as_version=4)
    book.cells.insert(
        1 + next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", [])),
        nbformat.v4.new_code_cell(f"store_path = {str(db)!r}"),
    )
    start = time.perf_counter()
    NotebookClient(book, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(directory)}}).execute()  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--dir", type=Path, help="keep (and reuse) the logs and store here")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    directory = args.dir or Path(tempfile.mkdtemp(prefix="logkit-bench-report-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        db, files = build(directory, args.events)
        begin, _ = incident_window(args.events)
        since = begin - timedelta(minutes=25)
        window = ["--since", since.isoformat(), "--until", (since + timedelta(hours=1)).isoformat()]
        base = [*LOGKIT, "--db", str(db), "report"]
        html = directory / "postmortem.html"
        results = {
            "report, 1 h window, HTML": timed([*base, *window, "-o", str(html)], args.repeat),
            "report, 1 h window, Markdown": timed([*base, *window, "--format", "md"], args.repeat),
            "report, window detected, HTML": timed([*base, "-o", str(html)], args.repeat),
        }
        print(f"\nstore: {args.events:,} events in {len(files)} files, "
              f"{db.stat().st_size / 1e6:,.0f} MB; window {window[1]} + 1 h")  # fmt: skip
        print(f"\n{'median of ' + str(args.repeat):34} {'wall s':>8} {'CPU s':>8} {'peak RSS':>10}")
        for label, (secs, cpu, rss) in results.items():
            print(f"{label:34} {secs:8.2f} {cpu:8.2f} {rss / 1e6:7,.0f} MB")
        notebook = notebook_seconds(directory)
        print(f"{'postmortem notebook, sample_logs':34} {notebook:8.2f}")
        print(f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on "
              f"{os.cpu_count()} CPUs)\n")  # fmt: skip
        report = results["report, 1 h window, HTML"][0]
        for name, ok, value in (
            (f"report <= 10 s at {args.events:,} events", report <= 10, f"{report:.2f} s"),
            ("notebook <= 30 s", notebook <= 30, f"{notebook:.2f} s"),
        ):
            print(f"{'PASS' if ok else 'FAIL'}  {name:36} {value}")
    finally:
        if args.dir is None:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
