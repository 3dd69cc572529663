"""The benchmarks that reach into logkit's internals still run against them.

Figures are not checked here (bench/RESULTS.md holds them, taken by hand): each script runs on
a few thousand lines and must finish and print its table. Three of them had stopped at an
import or an attribute since the core's tables became its own (`_core.Batches`), and nothing
said so until a benchmark was wanted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import logkit

from .helpers import lines, write

BENCH = Path(__file__).resolve().parent.parent / "bench"


def bench(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / args[0]), *args[1:]],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_store_floor_benchmark_prints_every_way_of_storing_the_rows():
    out = bench("ingest_floor.py", "2000", "--repeat", "1")
    for row in ("read_json", "all columns", "1 thread, ordered", "all threads", "SQL:"):
        assert row in out


def test_the_per_column_benchmark_prints_each_column_and_attrs_methods():
    out = bench("store_columns.py", "2000")
    assert "+ trace_id" in out and "attrs zstd" in out


def test_the_insert_paths_benchmark_runs_every_path():
    out = bench("insert_paths.py", "2000")
    assert out.count("insert wall") >= 6


@pytest.mark.parametrize("args", [["2000"], ["--old", "{core}", "2000", "--passes", "1"]])
def test_the_core_benchmark_runs_alone_and_against_another_build(args):
    core = next(Path(logkit.__file__).parent.glob("_core*.so"))
    out = bench("core_throughput.py", *(a.format(core=core) for a in args))
    assert "lines/s" in out


def test_the_phase_benchmark_times_each_phase(tmp_path):
    log = write(tmp_path / "app.log", lines(0, 2000))
    out = bench("ingest_phases.py", str(log), "--repeat", "1")
    assert "reading" in out
