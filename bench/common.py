"""Shared by the benchmarks: run a command and time it; sample the memory of its process tree.

`run` times a command alone and gives its peak RSS as the kernel kept it (`wait4`'s
`ru_maxrss`: the largest process of the tree, at no cost to the run). `run_sampled` gives the
peak proportional set size (PSS) of the whole tree instead, summed over the process and its
descendants every 20 ms from /proc (private pages plus each process's share of the pages it
shares, so a library mapped by several processes counts once). The sampling costs about a fifth
of a core (each smaps_rollup walks the process's page tables): on this 2-core machine it slowed
a 1M-line ingest by ~10%, so its wall times are not compared with anything.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOGKIT = [sys.executable, "-m", "logkit"]

# The baseline the ingest targets are stated against: DuckDB's own reader, given the columns
# (it parses, but neither normalises, masks, quarantines nor checkpoints). Bound: the file.
READ_JSON_BASELINE = """CREATE TABLE t AS SELECT * FROM read_json(?, format='newline_delimited',
  ignore_errors=true, columns={timestamp: 'VARCHAR', ts: 'VARCHAR', level: 'VARCHAR',
  service: 'VARCHAR', message: 'VARCHAR', msg: 'VARCHAR', trace_id: 'VARCHAR',
  user_id: 'VARCHAR', duration_ms: 'DOUBLE', status_code: 'INTEGER'})"""
BLOCK_BYTES = 2 * 1024 * 1024  # what the ingest hands a worker at a time
# Commands are timed as an installed logkit runs: with compiled bytecode (pip writes it; the
# PYTHONDONTWRITEBYTECODE this machine's shells set would have every module of an editable
# install compiled again on every run, 0.07-0.1 s), kept out of the source tree.
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": str(Path(tempfile.gettempdir()) / "logkit-bench-pycache"),
}


def blocks_of(path: Path) -> list[bytes]:
    """The file in blocks of complete lines of about BLOCK_BYTES, as the ingest cuts it."""
    data = path.read_bytes()
    out, start = [], 0
    while start < len(data):
        end = data.rfind(b"\n", start, start + BLOCK_BYTES) + 1 or len(data)
        out.append(data[start:end])
        start = end
    return out


def core_blocks(path: Path, *, stream: bool = False) -> list[Any]:
    """The file's blocks as the native core makes them (unmasked events, as the core's Arrow
    tables: `pa.table(block)` makes a pyarrow one), with each block's first line and offset
    as the ingest gives them; `stream`: with the store's `stream` column (id 1). Imported
    here, not at the top: most scripts only run commands."""
    from logkit.core import Core

    core, tables, first_line, offset = Core(stream=stream), [], 1, 0
    for data in blocks_of(path):
        events = core.process_chunk(
            path.name, data, first_line, offset, stream=1 if stream else None
        ).events
        tables.append(events)
        first_line += data.count(b"\n")
        offset += len(data)
    return tables


def _tree_pss(pid: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return total


def run(cmd: list[str], **kwargs: object) -> tuple[float, int, subprocess.CompletedProcess[bytes]]:
    """Run cmd (in ENV unless `env` is given); return (wall seconds, peak RSS bytes of its
    largest process, the completed process). Output goes through files, not pipes, so that
    the child is reaped by `wait4`, which reports its resource usage."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        kwargs.setdefault("env", ENV)
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, **kwargs)  # type: ignore[call-overload]
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(cmd, proc.returncode, out.read(), err.read())
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024, result


def run_sampled(
    cmd: list[str], **kwargs: object
) -> tuple[float, int, subprocess.CompletedProcess[bytes]]:
    """Run cmd; return (wall seconds, peak tree PSS bytes, the completed process). The wall
    seconds include the sampling's toll (see above): for memory, not for speed."""
    peak = 0
    start = time.perf_counter()
    kwargs.setdefault("env", ENV)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_pss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.decode()[-2000:]}")
    return elapsed, peak, result


def median_time(cmd: list[str], repeat: int = 7, **kwargs: object) -> float:
    kwargs.setdefault("env", ENV)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"
