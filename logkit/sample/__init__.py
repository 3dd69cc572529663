"""Deterministic generator of realistic NDJSON logs from an AI-content platform.

`generate()` simulates a small platform and writes what its services would log, each in its
own dialect, as real services do:

* ``api`` (FastAPI + structlog): ``timestamp`` RFC 3339 with milliseconds, ``level`` in lower
  case, ``service``, ``message``, ``trace_id``, ``duration_ms``, errors as ``error_type`` +
  ``exc_info``.
* ``worker`` (Celery): ``ts`` as epoch seconds (float), ``severity``, ``app``, ``msg``,
  ``correlation_id``, ``job_id``/``batch_id``/``job_type``, ``elapsed`` as ``"12.345s"``,
  errors as ``exc_type`` + ``stack``.
* ``llm-gateway`` (ECS style): ``@timestamp`` with microseconds, nested ``log.level`` and
  ``service.name``, ``traceId``/``spanId``, ``model``, ``usage`` (OpenAI spelling
  ``prompt_tokens``/``completion_tokens`` or Anthropic spelling ``input_tokens``/``output_tokens``),
  ``cost_usd``, ``event.duration`` in nanoseconds, errors as ``error.type`` + ``error.stack_trace``.
* ``billing`` (Node, pino): numeric ``level`` (30 = info), ``time`` as epoch milliseconds,
  ``service`` (a pino base binding), ``msg``, a W3C ``traceparent``, camelCase ids, errors as
  ``err.type`` + ``err.stack``.

One request is one trace: the api logs "request started", looks the prompt up in its cache,
calls the llm-gateway (which logs model, tokens and cost), may enqueue a Celery job (which the
worker logs), billing records the usage, and the api logs "request finished" with
``status_code`` and ``duration_ms``. All carry the same 32-hex trace id, each under its own
key. About 1-3 % of lines are warnings or errors (TimeoutError, RateLimitError,
ValidationError, DatabaseError) with stack traces, and a 10-minute incident (see
`incident_window`) makes the llm-gateway fail gpt-4o calls with RateLimitError (upstream 429)
while the api answers 503 slowly.

The package, one module per part:

* `plan`: the services, the files they go to, the time span and the incident window;
* `platform`: the simulation, request by request, line by line (f-strings, for speed:
  benchmarks ask for 1M-20M lines, at >= 300k lines/s on one core);
* `vocabulary`: stack traces, models, paths, and numbers and times as text, fast;
* `canaries`: the fake secrets planted in about 1.5 % of lines;
* `writer`: the lines written to each file in time order, some made malformed on the way.

Every value comes from one `random.Random(seed)` and a fixed default start, so the same
arguments give byte-identical files. Malformed lines and secrets draw from generators of
their own, so switching them on changes only the lines they touch.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path

from ..errors import OutputError
from .canaries import CANARIES
from .plan import (
    DEFAULT_START,
    INCIDENT_ERROR,
    INCIDENT_MODEL,
    INCIDENT_SERVICE,
    SERVICES,
    incident_window,
    output_names,
)
from .platform import Platform
from .writer import MALFORMED_KINDS, Writer

__all__ = [
    "CANARIES",
    "DEFAULT_START",
    "INCIDENT_ERROR",
    "INCIDENT_MODEL",
    "INCIDENT_SERVICE",
    "MALFORMED_KINDS",
    "SERVICES",
    "generate",
    "incident_window",
    "output_names",
]


def generate(
    out_dir: Path,
    *,
    lines: int,
    seed: int = 0,
    files: int = 3,
    gzip: bool = False,
    start: datetime | None = None,
    malformed: float = 0.0,
    secrets: bool = True,
) -> list[Path]:
    """Write `lines` NDJSON log lines split over `files` files in `out_dir`; return their paths.

    The output depends only on the arguments: the same call writes the same bytes. `start`
    (default `DEFAULT_START`, 2026-11-01T00:00:00Z) is when the simulated traffic begins; it
    runs for about max(1 hour, lines / 100 seconds). `malformed` is the fraction of lines
    replaced by broken ones (`MALFORMED_KINDS`); `secrets` plants the fake secrets of
    `CANARIES` in about 1.5 % of lines. With `gzip`, files are ``*.log.gz`` at level 1.

    Examples:
        >>> import tempfile
        >>> paths = generate(Path(tempfile.mkdtemp()), lines=1000, files=3)
        >>> [p.name for p in paths]
        ['api.log', 'worker.log', 'llm-gateway.log']
    """
    if lines < 0:
        raise ValueError(f"lines must not be negative, got {lines}")
    if not 0.0 <= malformed <= 1.0:
        raise ValueError(f"malformed must be a fraction between 0 and 1, got {malformed}")
    out_dir = Path(out_dir)
    paths = [out_dir / name for name in output_names(files, gzip=gzip)]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        return _write(paths, lines, seed, files, gzip, start, malformed, secrets)
    except OSError as exc:
        raise OutputError(f"cannot write {exc.filename or out_dir}: {exc.strerror or exc}") from exc


def _write(
    paths: list[Path], lines: int, seed: int, files: int, gzip: bool, start: datetime | None,
    malformed: float, secrets: bool,
) -> list[Path]:  # fmt: skip
    begin = start or DEFAULT_START
    if begin.tzinfo is None:
        begin = begin.replace(tzinfo=UTC)
    start_us = round(begin.timestamp() * 1_000_000)
    platform = Platform(seed=seed, files=files, start_us=start_us, lines=lines, secrets=secrets)
    writer = Writer(paths, gzip=gzip, malformed=malformed, seed=seed)
    # The simulation makes no reference cycles, and collecting its millions of short-lived
    # dicts would cost a fifth of the run time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        platform.run(start_us, lines, lambda watermark: writer.write(platform.buffers, watermark))
    finally:
        if collecting:
            gc.enable()
        writer.close()
    return paths
