"""Small helpers shared by the tests: writing log files and reading a store back."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import orjson

LOGKIT = [sys.executable, "-m", "logkit"]
ROOT = Path(__file__).resolve().parent.parent


def record(n: int, **extra: Any) -> dict[str, Any]:
    """A plausible log record numbered n (distinct content per n)."""
    return {
        "timestamp": f"2026-11-22T10:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z",
        "level": "info",
        "service": "api",
        "message": f"request {n} done",
        "trace_id": f"{n:032x}",
        **extra,
    }


def lines(start: int, stop: int, **extra: Any) -> bytes:
    return b"".join(orjson.dumps(record(n, **extra)) + b"\n" for n in range(start, stop))


def write(path: Path, data: bytes, *, mode: str = "wb") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        with gzip.open(path, mode) as fh:
            fh.write(data)
    else:
        with open(path, mode) as fh:
            fh.write(data)
    return path


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def query(db: Path, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def messages(db: Path) -> list[str]:
    return [r[0] for r in query(db, "SELECT message FROM events ORDER BY message")]


def run_logkit(*args: str, db: Path, input: bytes | None = None, env: dict[str, str] | None = None,
               check: bool = True) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [*LOGKIT, "--db", str(db), *args], input=input, capture_output=True, env=full_env
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"logkit {args} failed: {proc.stderr.decode()}")
    if b"CoreBugWarning" in proc.stderr:
        # A panic in the native core, which the run survived (logkit.errors.CoreBugWarning).
        raise AssertionError(f"logkit {args} met a bug in the core: {proc.stderr.decode()}")
    return proc


def ingest_stored(db: Path, logs: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    """`logkit ingest ARGS --format json LOGS` into the store `db`: the summary without its
    timings, the events and the rejects."""
    proc = run_logkit("ingest", *args, "--format", "json", str(logs), db=db, env=env)
    summary = json.loads(proc.stdout)
    for volatile in ("seconds", "lines_per_second"):
        summary.pop(volatile)
    events = query(db, "SELECT * EXCLUDE (attrs), attrs::VARCHAR FROM events ORDER BY ALL")
    rejects = query(db, "SELECT * EXCLUDE (ingested_at) FROM rejects ORDER BY ALL")
    return summary, events, rejects


def after_make_demo(root: Path) -> Path:
    """A clone with sample_logs/ and the store `make demo` writes (`logkit --db
    demo/logkit.duckdb ingest sample_logs/`, run from the clone's root)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sample_logs").symlink_to(ROOT / "sample_logs")
    (root / "demo").mkdir()
    subprocess.run([*LOGKIT, "--db", "demo/logkit.duckdb", "ingest", "sample_logs/"],
                   cwd=root, check=True, capture_output=True)  # fmt: skip
    return root
