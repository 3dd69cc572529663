"""A small store for the metrics tests, and ways to read an exposition back."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

import logkit

T = "2026-11-22T10:00:"


def _at(second: float) -> str:
    return f"{T}{second:06.3f}Z"


# One of everything the built-in metrics count, plus a secret and a malformed line.
FIXTURE: list[dict[str, Any] | str] = [
    {
        "timestamp": _at(0),
        "level": "info",
        "service": "api",
        "message": "request finished",
        "method": "GET",
        "path": "/v1/users/12345/items",
        "status_code": 200,
        "duration_ms": 42.5,
    },
    {
        "timestamp": _at(1),
        "level": "info",
        "service": "api",
        "message": "request finished",
        "method": "GET",
        "path": "/v1/users/777/items",
        "status_code": 200,
        "duration_ms": 180,
    },
    {
        "timestamp": _at(2),
        "level": "error",
        "service": "api",
        "message": "request failed",
        "method": "POST",
        "path": "/v1/jobs/550e8400-e29b-41d4-a716-446655440000",
        "status_code": 503,
        "duration_ms": 1200,
        "error_type": "TimeoutError",
    },
    {
        "timestamp": _at(3),
        "level": "debug",
        "service": "api",
        "message": "cache hit",
        "cache_hit": True,
    },
    {
        "timestamp": _at(4),
        "level": "debug",
        "service": "api",
        "message": "cache miss",
        "cache_hit": False,
    },
    {
        "timestamp": _at(5),
        "level": "info",
        "service": "llm-gateway",
        "message": "completion finished",
        "model": "gpt-4o",
        "usage": {"prompt_tokens": 100, "completion_tokens": 50},
        "cost_usd": 0.0015,
    },
    {
        "timestamp": _at(6),
        "level": "error",
        "service": "llm-gateway",
        "message": "completion failed",
        "model": "gpt-4o",
        "error_type": "RateLimitError",
    },
    {
        "timestamp": _at(7),
        "level": "info",
        "service": "worker",
        "message": "Task succeeded",
        "job_type": "render",
        "elapsed": "12.5s",
    },
    {
        "timestamp": _at(8),
        "level": "error",
        "service": "worker",
        "message": "Task failed",
        "job_type": "render",
        "elapsed": "3.2s",
        "error_type": "DatabaseError",
    },
    {
        "timestamp": _at(9),
        "level": "info",
        "service": "api",
        "message": "welcome mail sent to jane@example.com",
    },
    "not json",
]
NEWEST_TS = 1795341609.0  # 2026-11-22T10:00:09Z, the newest event above


def ndjson(records: list[dict[str, Any] | str]) -> bytes:
    return b"".join(
        (r.encode() if isinstance(r, str) else orjson.dumps(r)) + b"\n" for r in records
    )


def write_log(path: Path, records: list[dict[str, Any] | str], *, append: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab" if append else "wb") as fh:
        fh.write(ndjson(records))
    return path


def request(second: float, *, service: str = "api", path: str = "/v1/items", status: int = 200,
            duration_ms: float = 30.0, ts: str | None = None) -> dict[str, Any]:  # fmt: skip
    """One finished HTTP request."""
    return {
        "timestamp": ts or _at(second % 60),
        "level": "info" if status < 500 else "error",
        "service": service,
        "message": "request finished",
        "method": "GET",
        "path": path,
        "status_code": status,
        "duration_ms": duration_ms,
    }


def open_store(directory: Path, *, config: str | None = None) -> logkit.Store:
    directory.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (directory / "logkit.toml").write_text(config)
    return logkit.open(directory / "logkit.duckdb")


def parse(text: str) -> dict[str, float]:
    """Every sample of an exposition as {'name{a="x",b="y"}': value}, labels sorted."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return out


# Values that depend on the clock or on DuckDB's file layout, blanked for literal comparison.
_VOLATILE = re.compile(
    r"^(logkit_last_run_timestamp_seconds|logkit_last_run_duration_seconds"
    r"|logkit_store_size_bytes) .*$",
    re.MULTILINE,
)


def stable(text: str) -> str:
    return _VOLATILE.sub(r"\1 <varies>", text)


def binary(name: str) -> str | None:
    return shutil.which(name)


def needs(*programs: str) -> pytest.MarkDecorator:
    """Skip, saying what to install, when one of `programs` is not on PATH."""
    missing = [p for p in programs if binary(p) is None]
    return pytest.mark.skipif(
        bool(missing),
        reason=f"{', '.join(missing)} not installed (Debian packages; see scripts/system-deps.sh)",
    )


def isolate(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Work in `directory`, with no logkit settings from the environment."""
    monkeypatch.chdir(directory)
    for name in ("LOGKIT_DB", "LOGKIT_CONFIG", "LOGKIT_MASK_KEY"):
        monkeypatch.delenv(name, raising=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- the real programs -------------------------------------------------------------------------


def http_get(url: str, *, timeout: float = 5.0) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode("utf-8")


class Server:
    """A program listening on 127.0.0.1, started for one test and always stopped after it."""

    def __init__(self, name: str, argv: list[str], port: int, log: Path) -> None:
        self.name, self.port, self.log = name, port, log
        self.url = f"http://127.0.0.1:{port}"
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str, *, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                http_get(self.url + path, timeout=1.0)
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]


def start_server(name: str, make_argv: Any, ready_path: str, log: Path) -> Server:
    """Start on a free port, retrying if another process took the port in between."""
    last = ""
    for _ in range(3):
        port = free_port()
        server = Server(name, make_argv(port), port, log)
        if server.wait_ready(ready_path):
            return server
        server.stop()
        last = server.output()
    raise RuntimeError(f"{name} did not start:\n{last}")


def start_node_exporter(textfile_dir: Path, log: Path) -> Server:
    """node_exporter with only the textfile collector, on 127.0.0.1."""
    exe = binary("prometheus-node-exporter")
    assert exe is not None
    return start_server(
        "prometheus-node-exporter",
        lambda port: [
            exe,
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={textfile_dir}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        "/metrics",
        log,
    )
