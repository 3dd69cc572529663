"""Fixtures shared across test files.

`query_store` is one small store, built once per session by a real ingest of the NDJSON in
`INCIDENT` (three services, seven traces, errors worth grouping, one event a day older than
the rest), for the tests of the query verbs and their commands. Those tests only read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import logkit

T0 = "2026-03-01T10:00:"  # + seconds; every event but one falls in the five minutes after it

TRACE_A = "aaaa1111" + "0" * 23 + "1"  # failed: the llm-gateway was rate limited
TRACE_B = "aaaa2222" + "0" * 23 + "2"  # ok, with a cache hit
TRACE_C = "bbbb3333" + "0" * 23 + "3"  # worker deadlock
TRACE_D = "cccc4444" + "0" * 23 + "4"  # ok, with a cache miss
TRACE_E = "dddd5555" + "0" * 23 + "5"  # a day earlier: timed out
TRACE_F = "eeee6666" + "0" * 23 + "6"  # a user id in unicode
TRACE_G = "ffff7777" + "0" * 23 + "7"  # another worker deadlock, then success
UNICODE_USER = "ünïcødé-üser"


def _at(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"2026-03-01T10:{int(minutes):02d}:{rest:06.3f}Z"


def _api(**fields: Any) -> dict[str, Any]:
    return {"service": "api", "logger": "app.middleware", **fields}


INCIDENT: dict[str, list[dict[str, Any]]] = {
    "api.log": [
        _api(timestamp=_at(0), level="info", message="request started", trace_id=TRACE_A,
             user_id="u_1", method="POST", path="/v1/generate/text"),
        _api(timestamp=_at(0.95), level="error", message="request failed", trace_id=TRACE_A,
             user_id="u_1", method="POST", path="/v1/generate/text", status_code=503,
             duration_ms=950, error_type="RateLimitError"),
        _api(timestamp=_at(60), level="info", message="request started", trace_id=TRACE_B,
             user_id="u_1", method="GET", path="/v1/jobs/0a5d6baa9455"),
        _api(timestamp=_at(60.01), level="debug", message="cache hit", trace_id=TRACE_B,
             cache_hit=True, cache="job-status"),
        _api(timestamp=_at(60.3), level="info", message="request finished", trace_id=TRACE_B,
             user_id="u_1", method="GET", path="/v1/jobs/0a5d6baa9455", status_code=200,
             duration_ms=300),
        _api(timestamp=_at(120), level="info", message="request started", trace_id=TRACE_D,
             user_id="u_2", method="GET", path="/v1/jobs/77aa88bb99cc"),
        _api(timestamp=_at(120.005), level="debug", message="cache miss", trace_id=TRACE_D,
             cache_hit=False, cache="job-status"),
        _api(timestamp=_at(120.1), level="info", message="request finished", trace_id=TRACE_D,
             user_id="u_2", method="GET", path="/v1/jobs/77aa88bb99cc", status_code=200,
             duration_ms=100),
        _api(timestamp=_at(180), level="error", message="login failed for alice@example.com",
             user_id="u_3", method="POST", path="/v1/auth/login", status_code=401,
             error_type="AuthError"),
        _api(timestamp=_at(181), level="error", message="login failed for [MASKED:email]",
             user_id="u_4", method="POST", path="/v1/auth/login", status_code=401,
             error_type="AuthError"),
        _api(timestamp=_at(200), level="info", message="request finished", trace_id=TRACE_F,
             user_id=UNICODE_USER, method="GET", path="/healthz", status_code=200,
             duration_ms=400),
        _api(timestamp="2026-02-28T10:00:00.000Z", level="error", message="request failed",
             trace_id=TRACE_E, user_id="u_2", method="POST", path="/v1/generate/text",
             status_code=504, duration_ms=30000, error_type="TimeoutError"),
    ],
    "llm-gateway.log": [
        {"timestamp": _at(0.1), "level": "info", "service": "llm-gateway",
         "message": "completion started", "trace_id": TRACE_A, "model": "gpt-4o"},
        {"timestamp": _at(0.9), "level": "error", "service": "llm-gateway",
         "message": "upstream rate limited after 3 attempts", "trace_id": TRACE_A,
         "model": "gpt-4o", "error_type": "RateLimitError", "status_code": 429,
         "duration_ms": 800, "input_tokens": 100, "output_tokens": 0, "cost_usd": 0.001},
        {"timestamp": _at(60.02), "level": "info", "service": "llm-gateway",
         "message": "completion finished", "trace_id": TRACE_B, "model": "claude-sonnet",
         "duration_ms": 250, "input_tokens": 200, "output_tokens": 50, "cost_usd": 0.004},
    ],
    "worker.log": [
        {"timestamp": _at(240), "level": "error", "service": "worker",
         "message": "deadlock detected on row 4711", "trace_id": TRACE_C, "user_id": "u_2",
         "job_type": "render_image", "error_type": "DatabaseError"},
        {"timestamp": _at(250), "level": "error", "service": "worker",
         "message": "deadlock detected on row 815", "trace_id": TRACE_G,
         "job_type": "render_image", "error_type": "DatabaseError"},
        {"timestamp": _at(260), "level": "info", "service": "worker", "message": "job finished",
         "trace_id": TRACE_G, "job_type": "render_image", "duration_ms": 2000},
    ],
}  # fmt: skip

# For --until: just after the last event, so a relative --since counts back from the incident.
INCIDENT_END = "2026-03-01T10:05:00Z"


def write_incident(directory: Path) -> Path:
    logs = directory / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for name, records in INCIDENT.items():
        (logs / name).write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return logs


@pytest.fixture(scope="session")
def query_store(tmp_path_factory: pytest.TempPathFactory) -> logkit.Store:
    """The INCIDENT logs, ingested (masking on, as by default) into a store; read-only use."""
    directory = tmp_path_factory.mktemp("query_store")
    store = logkit.open(directory / "logkit.duckdb")
    store.ingest([str(write_incident(directory))])
    return store
