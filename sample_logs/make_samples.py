"""Regenerate the committed sample logs: ``python sample_logs/make_samples.py [OUT_DIR]``.

The samples are `logkit.sample.generate` output reshaped the way real log directories look,
plus hand-written edge cases:

* ``api.log.1.gz`` + ``api.log`` and ``worker.log.1.gz`` + ``worker.log``: each service's file
  rotated (size-based, as Python's RotatingFileHandler does) with the older part gzipped;
* ``llm-gateway.json`` and ``billing.log``: the other two services, plain;
* ``malformed.log``: every kind of broken or odd line an ingester must survive, one table of
  `MALFORMED` below, each entry with the outcome an ingester should reach;
* ``CANARIES.txt``: every fake secret planted anywhere here, one per line;
* ``README.md``: what each file holds, with the numbers counted from the files themselves.

One complete request is given the memorable trace id `TRACE` so the docs can show it. Running
the script again rewrites the same bytes (the test suite checks that), so the samples can be
changed here and regenerated rather than edited by hand.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import orjson

from logkit.sample import (
    CANARIES,
    INCIDENT_ERROR,
    INCIDENT_MODEL,
    INCIDENT_SERVICE,
    generate,
    incident_window,
)

HERE = Path(__file__).resolve().parent
LINES = 1800
SEED = 20261101
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"  # the W3C Trace Context example id
ROTATED_SHARE = 0.5  # the older part of api.log and worker.log that went to *.log.1.gz

# The log files and what each holds.
LOG_FILES = {
    "api.log.1.gz": "api (FastAPI), older part, rotated and gzipped",
    "api.log": "api (FastAPI): `timestamp` RFC 3339 ms, `level`, `message`, `trace_id`",
    "worker.log.1.gz": "worker (Celery), older part, rotated and gzipped",
    "worker.log": "worker (Celery): `ts` epoch seconds, `severity`, `msg`, `correlation_id`",
    "llm-gateway.json": "llm-gateway (ECS): `@timestamp` µs, `log.level`, `traceId`, usage, cost",
    "billing.log": "billing (Node, pino): `time` epoch ms, numeric `level`, `traceparent`",
}

# Canaries that only the hand-written malformed lines carry.
MALFORMED_CANARIES = ("trunc-pw-Canary-3308", "stdout-tok-Canary-6120")

_API = '"logger":"app.debug","host":"api-7d9f8b6c4-x2k4p"'
_PROMPT = (
    "Write a friendly product description for a handmade ceramic mug, 350 ml, glazed in "
    "speckled blue, dishwasher safe; mention the gift box and keep it under 80 words. "
)

# (kind, expected outcome, raw lines without their line ending). Byte strings, because some
# of these are exactly the bytes no JSON encoder would write.
MALFORMED: list[tuple[str, str, list[bytes]]] = [
    (
        "utf8_bom",
        "accepted (BOM stripped)",
        [
            b'\xef\xbb\xbf{"timestamp":"2026-11-01T00:50:00.000Z","level":"info",'
            b'"message":"log file opened by a Windows tool: starts with a BOM",'
            + _API.encode()
            + b"}"
        ],
    ),
    (
        "truncated_json",
        "rejected",
        [
            b'{"timestamp":"2026-11-01T00:50:01.000Z","level":"debug","message":"login attempt",'
            b'"request":{"body":{"email":"ops@example.net","password":"trunc-pw-Canary-3308',
            b'{"timestamp":"2026-11-01T00:50:02.000Z","level":"info","mess',
        ],
    ),
    (
        "invalid_utf8",
        "rejected",
        [
            b'{"timestamp":"2026-11-01T00:50:03.000Z","level":"info","message":"caf\xe9 prompt '
            b'in latin-1"}',
            b'{"timestamp":"2026-11-01T00:50:04.000Z","level":"info","message":"\xff\xfe\xfd"}',
        ],
    ),
    (
        "nul_bytes",
        "rejected",
        [
            b'{"timestamp":"2026-11-01T00:50:05.000Z","level":"info","message":"a\x00b"}',
            b"\x00" * 64,  # what a crash leaves in a preallocated log file
        ],
    ),
    (
        "not_an_object",
        "rejected",
        [
            b'[{"timestamp":"2026-11-01T00:50:06.000Z","message":"batched by mistake"}]',
            b"1793494206",
            b'"request finished"',
            b"null",
            b"true",
        ],
    ),
    ("blank", "skipped (no event)", [b"", b"   \t"]),
    (
        "plain_text",
        "rejected",
        [
            b"Traceback (most recent call last):",
            b'  File "/app/api/main.py", line 42, in <module>',
            b"    app = create_app(settings)",
            b'  File "/app/api/factory.py", line 17, in create_app',
            b'    model = settings["default_model"]',
            b"KeyError: 'default_model'",
            b"DEBUG:httpx:Request headers: {'authorization': 'Bearer stdout-tok-Canary-6120'}",
            b"INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
        ],
    ),
    (
        "very_long_line",
        "accepted (a 200 KB JSON object)",
        [
            b'{"timestamp":"2026-11-01T00:50:10.000Z","level":"info","message":"prompt received",'
            + _API.encode()
            + b',"prompt":"'
            + (_PROMPT * 1200).encode()
            + b'"}'
        ],
    ),
    (
        "deep_nesting_1000",
        "accepted (orjson parses up to 1024 levels)",
        [
            b'{"timestamp":"2026-11-01T00:50:11.000Z","level":"info","message":"deep",'
            b'"payload":' + b'{"a":' * 999 + b"1" + b"}" * 999 + b"}"
        ],
    ),
    (
        "deep_nesting_2000",
        "rejected (beyond orjson's 1024 levels)",
        [
            b'{"timestamp":"2026-11-01T00:50:12.000Z","level":"info","message":"deeper",'
            b'"payload":' + b"[" * 2000 + b"]" * 2000 + b"}"
        ],
    ),
    (
        "duplicate_keys",
        "accepted (last value wins: level error)",
        [
            b'{"timestamp":"2026-11-01T00:50:13.000Z","level":"info","level":"error",'
            b'"message":"duplicate keys",' + _API.encode() + b"}"
        ],
    ),
    (
        "crlf_line_ending",
        "accepted (CR stripped)",
        [
            b'{"timestamp":"2026-11-01T00:50:14.000Z","level":"warning","message":"written on '
            b'Windows",' + _API.encode() + b"}\r",
            b'{"timestamp":"2026-11-01T00:50:15.000Z","level":"info","message":"CRLF again",'
            + _API.encode()
            + b"}\r",
        ],
    ),
    (
        "nan_infinity",
        "rejected (not JSON; Python's json would accept them)",
        [
            b'{"timestamp":"2026-11-01T00:50:16.000Z","level":"info","message":"score",'
            b'"score":NaN}',
            b'{"timestamp":"2026-11-01T00:50:17.000Z","level":"info","message":"ratio",'
            b'"ratio":-Infinity}',
        ],
    ),
    (
        "integer_beyond_64_bits",
        "accepted (orjson reads it as a float)",
        [
            b'{"timestamp":"2026-11-01T00:50:18.000Z","level":"info","message":"counter wrapped",'
            b'"tokens":123456789012345678901234567890}'
        ],
    ),
    (
        "no_timestamp",
        "accepted with an empty ts",
        [b'{"level":"info","message":"no timestamp at all","service":"api","user_id":"u_10042"}'],
    ),
    (
        "no_final_newline",
        "accepted",
        [
            b'{"timestamp":"2026-11-01T00:50:19.000Z","level":"info","message":"last line, '
            b'no newline after it",' + _API.encode() + b"}"
        ],
    ),
]


def malformed_log() -> bytes:
    """The bytes of malformed.log: MALFORMED's lines, the very last without a newline."""
    lines = [line for _, _, group in MALFORMED for line in group]
    return b"\n".join(lines)


def _rotate(data: bytes) -> tuple[bytes, bytes]:
    """Split a log at the first line end past ROTATED_SHARE of its size: (older, current)."""
    cut = data.index(b"\n", int(len(data) * ROTATED_SHARE)) + 1
    return data[:cut], data[cut:]


def _records(data: bytes) -> list[dict]:
    return [orjson.loads(line) for line in data.splitlines()]


def _api_start(record: dict) -> str | None:
    if record.get("message") == "request started" and record["path"].startswith("/v1/images"):
        return record["timestamp"]
    return None


def _pick_trace(api: bytes, worker: bytes, after: str, incident: tuple[datetime, datetime]):
    """The id of the first image request after `after`, outside the incident, that crossed
    all four services and whose render job succeeded: a whole, quiet trace to show off."""
    succeeded = {r["correlation_id"] for r in _records(worker) if r.get("msg") == "Task succeeded"}
    begin, end = (moment.strftime("%Y-%m-%dT%H:%M:%S") for moment in incident)
    for record in _records(api):
        started = _api_start(record)
        quiet = started and started > after and not begin <= started < end
        if quiet and record["trace_id"] in succeeded:
            return record["trace_id"]
    raise RuntimeError("no complete image request in the sample; change SEED")


def build(out_dir: Path) -> dict[str, bytes]:
    """Write every sample file into `out_dir`; return {name: bytes written}."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = generate(Path(tmp), lines=LINES, seed=SEED, files=4)
        logs = {path.name: path.read_bytes() for path in paths}
    incident = incident_window(LINES)
    # The showcase trace must lie wholly in the plain (not rotated) files.
    api_rotated = _records(_rotate(logs["api.log"])[0])[-1]["timestamp"]
    worker_rotated = datetime.fromtimestamp(_records(_rotate(logs["worker.log"])[0])[-1]["ts"], UTC)
    after = max(api_rotated, worker_rotated.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z")
    chosen = _pick_trace(logs["api.log"], logs["worker.log"], after, incident).encode()
    swap = {name: data.replace(chosen, TRACE.encode()) for name, data in logs.items()}
    api_old, api_new = _rotate(swap["api.log"])
    worker_old, worker_new = _rotate(swap["worker.log"])
    files = {
        # mtime=0 keeps the gzip header, hence the file, the same on every run.
        "api.log.1.gz": gzip.compress(api_old, compresslevel=9, mtime=0),
        "api.log": api_new,
        "worker.log.1.gz": gzip.compress(worker_old, compresslevel=9, mtime=0),
        "worker.log": worker_new,
        "llm-gateway.json": swap["llm-gateway.log"],
        "billing.log": swap["billing.log"],
        "malformed.log": malformed_log(),
    }
    canaries = (*CANARIES, *MALFORMED_CANARIES)
    _check_canaries(files, canaries)
    files["CANARIES.txt"] = "".join(f"{canary}\n" for canary in canaries).encode()
    files["README.md"] = readme(files, incident).encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out_dir / name).write_bytes(data)
    return files


def _plain(files: dict[str, bytes], name: str) -> bytes:
    return gzip.decompress(files[name]) if name.endswith(".gz") else files[name]


def _check_canaries(files: dict[str, bytes], canaries: tuple[str, ...]) -> None:
    """Every canary must be planted somewhere, or a masking test would pass vacuously."""
    text = b"".join(_plain(files, name) for name in files)
    missing = [canary for canary in canaries if canary.encode() not in text]
    if missing:
        raise RuntimeError(f"canaries not planted in the samples: {missing}")


def _line_count(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def _moment(record: dict) -> str:
    """When a record happened, RFC 3339 to the millisecond, whichever way its service says it."""
    for key in ("timestamp", "@timestamp"):
        if key in record:
            return record[key][:23] + "Z"
    seconds = record["ts"] if "ts" in record else record["time"] / 1000
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"


def _time_range(data: bytes) -> str:
    records = _records(data)
    return f"{_moment(records[0])[:19]}Z .. {_moment(records[-1])[:19]}Z"


def readme(files: dict[str, bytes], incident: tuple[datetime, datetime]) -> str:
    """README.md, with every number counted from `files`."""
    logs = list(LOG_FILES)
    rows = "\n".join(
        f"| `{name}` | {_line_count(_plain(files, name))} | {_time_range(_plain(files, name))} "
        f"| {LOG_FILES[name]} |"
        for name in logs
    )
    trace_lines = sorted(
        (_moment(record), name, record)
        for name in logs
        for line in _plain(files, name).splitlines()
        if TRACE.encode() in line
        for record in [orjson.loads(line)]
    )
    trace_rows = "\n".join(
        f"| {moment[11:]} | `{name}` | {_trace_summary(record)} |"
        for moment, name, record in trace_lines
    )
    number = 1
    kind_rows = []
    for kind, outcome, group in MALFORMED:
        first, last = number, number + len(group) - 1
        where = f"{first}" if first == last else f"{first}-{last}"
        kind_rows.append(f"| {kind} | {len(group)} | {where} | {outcome} |")
        number = last + 1
    begin, end = (moment.strftime("%Y-%m-%dT%H:%M:%SZ") for moment in incident)
    incident_lines = _incident_counts(files, incident)
    return _README.format(
        lines=LINES,
        seed=SEED,
        rows=rows,
        trace=TRACE,
        trace_rows=trace_rows,
        trace_count=len(trace_lines),
        begin=begin,
        end=end,
        service=INCIDENT_SERVICE,
        error=INCIDENT_ERROR,
        model=INCIDENT_MODEL,
        gateway_errors=incident_lines["gateway"],
        api_503=incident_lines["api"],
        kind_rows="\n".join(kind_rows),
        malformed_lines=_line_count(files["malformed.log"]),
        canaries=len(CANARIES) + len(MALFORMED_CANARIES),
    )


def _trace_summary(record: dict) -> str:
    message = record.get("message") or record.get("msg")
    extra = [
        f"{key}={record[key]}"
        for key in ("path", "status_code", "duration_ms", "model", "cost_usd", "job_type")
        if key in record
    ]
    extra += [f"elapsed={record['elapsed']}"] if "elapsed" in record else []
    return " ".join([f"**{message}**", *extra])


def _incident_counts(files: dict[str, bytes], incident: tuple[datetime, datetime]) -> dict:
    begin, end = (moment.strftime("%Y-%m-%dT%H:%M:%S") for moment in incident)
    gateway = sum(
        1
        for record in _records(files["llm-gateway.json"])
        if begin <= record["@timestamp"] < end
        and record.get("error", {}).get("type") == INCIDENT_ERROR
    )
    api = sum(
        1
        for name in ("api.log.1.gz", "api.log")
        for record in _records(_plain(files, name))
        if begin <= record.get("timestamp", "") < end and record.get("status_code") == 503
    )
    return {"gateway": gateway, "api": api}


_README = """\
# Sample logs

A small, committed slice of what `logkit` is for: the logs of an AI-content platform (an api,
a Celery worker, an LLM gateway and a billing service), each service writing JSON in its own
dialect, with one incident, planted secrets and a file of broken lines.

Everything here is written by `make_samples.py` (`python sample_logs/make_samples.py`):
{lines} lines from `logkit.sample.generate(lines={lines}, seed={seed}, files=4)`, reshaped
into rotated files, plus the hand-written `malformed.log`. Change the script, not the files;
`tests/test_sample.py` fails when they drift apart.

## Files

| file | lines | time range | what |
| --- | --- | --- | --- |
{rows}
| `malformed.log` | {malformed_lines} | - | broken and odd lines, see below |
| `CANARIES.txt` | {canaries} | - | every planted fake secret, one per line (not a log) |

How the services spell the same things:

* **api** (FastAPI, structlog): `timestamp` `2026-11-01T00:36:12.345Z`, `level` `info`,
  `service` `api`, `message`, `trace_id`, `request_id`, `user_id`, `method`, `path`,
  `status_code`, `duration_ms`; errors as `error_type` + `exc_info` (a Python traceback).
* **worker** (Celery): `ts` `1793493372.345678` (epoch seconds), `severity` `INFO`, `app`
  `worker`, `msg`, `correlation_id`, `job_id`, `batch_id`, `job_type`, `elapsed` `"12.345s"`;
  errors as `exc_type` + `stack`.
* **llm-gateway** (ECS): `@timestamp` `2026-11-01T00:36:12.345678Z`, nested `log.level`,
  `service.name` and `host.name`, `traceId` + `spanId`, `event.duration` in nanoseconds;
  errors as `error.type` + `error.stack_trace`.
* **billing** (Node, pino): `time` `1793493372345` (epoch ms), numeric `level` (30 info, 50
  error), `service` `billing`, `msg`, `traceparent` `00-<trace>-<span>-01`, `userId`,
  `responseTime` (ms); errors as `err.type` + `err.stack`.

LLM calls carry `model` (gpt-4o, claude-sonnet, llama-3-70b), `usage` as
`prompt_tokens`/`completion_tokens` (OpenAI, vLLM) or `input_tokens`/`output_tokens`
(Anthropic), and `cost_usd`. The api logs prompt- and job-cache lookups as `cache hit` /
`cache miss` with `cache_hit` true/false. Health probes (`GET /healthz`) carry no trace.

## One request across four services

Trace `{trace}` is an image request ({trace_count} lines; `logkit trace 4bf92f35`):

| time | file | line |
| --- | --- | --- |
{trace_rows}

## The incident

From **{begin} to {end}** (ten minutes) the upstream provider
rate-limits `{model}`: the **{service}** retries and then fails those calls with **{error}**
(HTTP 429 upstream; {gateway_errors} failed calls in `llm-gateway.json`), and the api answers
**503** after 8-30 s ({api_503} requests). Other models keep working, slower. Outside the
window errors are rare: timeouts, stray 429s, ValidationError 422s, DatabaseError in tasks.

## malformed.log

Line numbers are 1-based; the expected outcome is what an ingester that parses with orjson
should do. Rejected lines go to quarantine with their file and line number.

| kind | lines | line numbers | expected |
| --- | --- | --- | --- |
{kind_rows}

## Planted secrets

About 1.5 % of the generated lines carry a fake secret: emails, card numbers (Luhn-valid test
numbers), a JWT, Bearer and Basic credentials, an AWS key pair, `sk-`/`sk-ant-`/`ghp_`/`xoxb-`/
`AIza` keys, a PEM private key inside a JSON string, a password in a database URL, a `token=`
query parameter, an SSN, phone numbers, IPv4 and IPv6 addresses, and values that only their
key marks as secret (`password`, `api_key`, `authorization`, `cookie`, nested deep). Two more
sit in `malformed.log` (in a truncated line and in a plain-text line). `CANARIES.txt` lists
every one; none of them may ever reach the store.
"""


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
