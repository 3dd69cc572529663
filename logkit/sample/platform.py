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

Design, for speed (benchmarks ask for 1M-20M lines, at >= 300k lines/s on one core):

* Every value comes from one `random.Random(seed)` and a fixed default start, so the same
  arguments give byte-identical files. Malformed lines and secrets draw from generators of
  their own, so switching them on changes only the lines they touch.
* Each frequent line is an f-string that looks like the line it writes, at the place it
  happens: half the cost of a dict dumped by orjson. Timestamps reuse a per-second prefix
  instead of calling strftime for every line.
* Requests are simulated in start-time order but their lines end later (a render job runs for
  minutes), so each file's lines gather in a buffer that is sorted by time and written up to a
  watermark, the start of the newest request, since nothing simulated later can be older. Each
  file is thus in time order, memory stays bounded, and writes are large.
"""

from __future__ import annotations

import gc
import gzip as gzip_module
import io
import math
import random
import time
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

import orjson

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

DEFAULT_START = datetime(2026, 11, 1, tzinfo=UTC)
SERVICES = ("api", "worker", "llm-gateway", "billing")

INCIDENT_SERVICE = "llm-gateway"
INCIDENT_ERROR = "RateLimitError"
INCIDENT_MODEL = "gpt-4o"

# Lines written per request, measured: sets the arrival rate so a run spans the time promised.
_LINES_PER_REQUEST = 5.1
_CHUNK = 65_536  # lines buffered before a sort-and-write: bounds memory to some tens of MB
_SECRET_RATE = 0.085  # per request: about 1.5 % of lines then carry a fake secret

_TS = itemgetter(0)
_LINE = itemgetter(1)


def output_names(files: int, *, gzip: bool = False) -> list[str]:
    """Names of the files `generate` writes, in order.

    Up to four files hold the services round-robin (three files put billing into ``api.log``);
    more files add replicas (``api-1.log``, ``worker-1.log``, ...).
    """
    if files < 1:
        raise ValueError(f"files must be at least 1, got {files}")
    suffix = ".log.gz" if gzip else ".log"
    names = []
    for k in range(files):
        replica = k // len(SERVICES)
        names.append(f"{SERVICES[k % len(SERVICES)]}{f'-{replica}' if replica else ''}{suffix}")
    return names


def _span_seconds(lines: int) -> int:
    return max(3600, lines // 100)


def incident_window(lines: int, *, start: datetime | None = None) -> tuple[datetime, datetime]:
    """The [begin, end) of the rate-limit incident in a run of `lines` lines.

    It begins at 60 % of the simulated span, on a whole minute, and lasts ten minutes. In it the
    llm-gateway fails most gpt-4o calls with RateLimitError and the api answers 503 slowly.

    Examples:
        >>> [moment.isoformat() for moment in incident_window(3000)]
        ['2026-11-01T00:36:00+00:00', '2026-11-01T00:46:00+00:00']
    """
    begin = start or DEFAULT_START
    offset = round(_span_seconds(lines) * 0.6 / 60) * 60
    return begin + timedelta(seconds=offset), begin + timedelta(seconds=offset + 600)


# ---------------------------------------------------------------------------------------------
# Canary secrets: fake, recognisable, and each listed here so tests can prove none is stored.

_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJ1XzEwMDQyIiwibmFtZSI6IkNhbmFyeSBVc2VyIiwiaWF0IjoxNzkzNDkxMjAwfQ."
    "umOHsa817xQiEGqltX0L8dJ8tDFIEYKhR1enGK3MO-s"
)
_PEM_BODY = (
    "u3gUIZe3NthZlkoh3AHo2z1arpRkFGUPfprKngv88L82IWhoSwpjvaDuZ0t808Lk",
    "lCFfRVShUjtYXDREaJS4mfGDduSUPvafGFbQNwVjpN+/0mslOu0Viv+QKMz5aq21",
    "n1+ygTyBNACJfvqegAQqfpGENp5RxU4e+wXlakodKX6UxbSUrn+DMT7dBA97huix",
)
_PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(_PEM_BODY) + "\n-----END RSA PRIVATE KEY-----\n"
)

_C = {
    "email": "maria.garcia@example.com",
    "email2": "j.smith+studio@example.org",
    "card_visa": "4111 1111 1111 1111",
    "card_mc": "5500-0000-0000-0004",
    "card_plain": "4242424242424242",
    "jwt": _JWT,
    "bearer": "tok_live_8f3kQ2mZ7xV1pL9sR4tY",
    "basic": "YWRtaW46Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5",
    "aws_key": "AKIAZ7CANARYQ4XW5T6E",
    "aws_secret": "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",
    "openai": "sk-proj-Xc9vB2nM4qL7wE1rT5yU8iO3pA6sD0fG",
    "anthropic": "sk-ant-api03-Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0LzXcVbNm-canaryAA",
    "github": "ghp_1a2B3c4D5e6F7g8H9i0J1k2L3m4N5o6P7q8R",
    "slack": "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    "google": "AIzaSyD-canary0123456789abcdefghijklmno",
    "url_password": "Pg-S3cret-Canary-77",
    "query_token": "qp_tok_7Hk2Lm9Np4Rs6Tv8",
    "ssn": "219-09-9999",
    "phone": "+1-415-555-0132",
    "phone2": "(415) 555-0199",
    "ipv4": "198.51.100.23",
    "ipv6": "2001:db8:85a3::8a2e:370:7334",
    # Values no pattern recognises: only the key they sit under marks them secret.
    "password": "hunter2-Canary!",
    "api_key": "prov-key-Canary-5521",
    "authorization": "Token canary-auth-9931",
    "cookie": "sess-Canary-4410c",
}

CANARIES: tuple[str, ...] = (*_C.values(), *_PEM_BODY)
"""Every fake secret `generate(secrets=True)` plants, each a substring that must never be stored."""


def _secret_events(c: dict[str, str]) -> list[tuple[str, str, dict[str, object]]]:
    """(service, message, extra fields) of each secret-carrying line, planted in rotation."""
    return [
        (
            "api",
            "incoming request headers",
            {
                "headers": {
                    "authorization": f"Bearer {c['jwt']}",
                    "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6)",
                }
            },
        ),
        (
            "api",
            "login attempt",
            {"request": {"body": {"user": {"email": c["email"], "password": c["password"]}}}},
        ),
        ("api", f"password reset email sent to {c['email']}", {}),
        ("billing", f"charge declined for card {c['card_visa']}", {"reason": "insufficient_funds"}),
        (
            "llm-gateway",
            "provider config loaded",
            {
                "config": {
                    "providers": [
                        {"name": "openai", "api_key": c["openai"]},
                        {"name": "anthropic", "api_key": c["api_key"]},
                    ]
                }
            },
        ),
        (
            "worker",
            "s3 client configured",
            {"aws": {"aws_access_key_id": c["aws_key"], "aws_secret_access_key": c["aws_secret"]}},
        ),
        (
            "api",
            f"outbound webhook sent with header Authorization: Basic {c['basic']}",
            {"webhook": "https://hooks.example.net/render-done"},
        ),
        (
            "worker",
            "connecting to database",
            {"dsn": f"postgresql://content_app:{c['url_password']}@db-primary.internal/content"},
        ),
        (
            "api",
            "redirecting to signed asset url",
            {
                "location": "https://cdn.example.com/renders/ast_9f2c.mp4"
                f"?token={c['query_token']}&expires=1793494800"
            },
        ),
        ("api", f"kyc verification submitted ssn={c['ssn']}", {"kyc": {"ssn": c["ssn"]}}),
        ("billing", f"sms receipt sent to {c['phone']}", {"fallbackPhone": c["phone2"]}),
        (
            "api",
            f"login from new device {c['ipv4']} via {c['ipv6']}",
            {"forwarded_for": f"{c['ipv4']}, {c['ipv6']}"},
        ),
        (
            "api",
            "upstream call failed",
            {
                "request": {
                    "headers": {
                        "authorization": c["authorization"],
                        "cookie": f"session={c['cookie']}; theme=dark",
                    }
                }
            },
        ),
        (
            "worker",
            "cloning template repository",
            {"repo_url": f"https://x-access-token:{c['github']}@github.com/acme/templates.git"},
        ),
        (
            "worker",
            "slack alert posted",
            {"slack": {"bot_token": c["slack"], "channel": "#render"}},
        ),
        (
            "llm-gateway",
            f"vertex fallback enabled key={c['google']} using {c['anthropic']} as primary",
            {},
        ),
        ("worker", "loaded asset signing key", {"signing": {"private_key": _PEM}}),
        (
            "billing",
            "payment methods synced",
            {"cards": [c["card_mc"], c["card_plain"]], "owner": c["email2"]},
        ),
        (
            "api",
            "incoming request headers",
            {"headers": {"authorization": f"Bearer {c['bearer']}", "accept": "application/json"}},
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Stack traces, rendered once.


def _traceback(*frames: tuple[str, int, str, str], error: str) -> str:
    """A Python traceback as `logging` renders exc_info: (file, line, function, code) frames."""
    lines = ["Traceback (most recent call last):"]
    for file, number, function, code in frames:
        lines.append(f'  File "{file}", line {number}, in {function}\n    {code}')
    lines.append(error)
    return "\n".join(lines)


_SITE = "/usr/local/lib/python3.12/site-packages"
_API_CALL = ("/app/api/routes/generate.py", 88, "create", "result = await llm.complete(body)")
# Keyed by "service.ErrorType"; rendered once, since errors repeat.
_PY_TRACES = {
    "api.TimeoutError": _traceback(
        _API_CALL,
        ("/app/api/clients/llm.py", 142, "complete", "resp = await self._client.post(url)"),
        (f"{_SITE}/httpx/_client.py", 1859, "post", "return await self.request("),
        error="TimeoutError: llm-gateway did not answer within 30.0s",
    ),
    "api.RateLimitError": _traceback(
        _API_CALL,
        ("/app/api/clients/llm.py", 139, "complete", "raise RateLimitError.from_response(resp)"),
        error="api.errors.RateLimitError: llm-gateway: upstream rate limited (429) after 3 tries",
    ),
    "api.DatabaseError": _traceback(
        ("/app/api/routes/generate.py", 97, "create", "await usage.record(request, result)"),
        (f"{_SITE}/psycopg/cursor.py", 732, "execute", "raise ex.with_traceback(None)"),
        error="psycopg.errors.DatabaseError: connection pool exhausted (timeout 5.0s)",
    ),
    "llm-gateway.TimeoutError": _traceback(
        ("/app/gateway/router.py", 57, "complete", "return await provider.complete(req)"),
        (f"{_SITE}/httpx/_transports/default.py", 118, "map_httpcore_exceptions", "raise mapped"),
        error="TimeoutError: provider did not answer within 30.0s (httpx.ReadTimeout)",
    ),
    "llm-gateway.RateLimitError": _traceback(
        ("/app/gateway/providers/openai.py", 211, "complete", "r = await self.client.create(**q)"),
        (f"{_SITE}/openai/_base_client.py", 1630, "_request", "raise self._make_status_error(r)"),
        error="openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached"
        " for gpt-4o on tokens per min (TPM)', 'code': 'rate_limit_exceeded'}}",
    ),
    "worker.DatabaseError": _traceback(
        ("/app/worker/tasks/render.py", 64, "render", "asset = repo.save_asset(job_id, result)"),
        ("/app/worker/repo.py", 31, "save_asset", "cur.execute(INSERT_ASSET, params)"),
        (f"{_SITE}/psycopg/cursor.py", 732, "execute", "raise ex.with_traceback(None)"),
        error="psycopg.errors.DatabaseError: could not serialize access due to concurrent update",
    ),
}
_NODE_TRACE = (
    "StripeConnectionError: An error occurred with our connection to Stripe. Request was retried"
    " 2 times.\n    at StripeClient._request (/app/node_modules/stripe/cjs/RequestSender.js:231:19)"
    "\n    at async recordUsage (/app/src/usage.js:48:5)\n    at async /app/src/routes.js:77:7"
)

_GATEWAY_SERVICE = '{"name":"llm-gateway","version":"2.8.1"}'
_MODELS = (
    # model, provider, $ per 1M input tokens, $ per 1M output tokens, ms per output token
    ("gpt-4o", "openai", 2.50, 10.00, 11.0),
    ("claude-sonnet", "anthropic", 3.00, 15.00, 14.0),
    ("llama-3-70b", "vllm", 0.59, 0.79, 8.0),
)
# Weighted tables picked with int(random() * len): cheaper than random.choices per call.
_TEXT_MODELS = (0,) * 10 + (1,) * 7 + (2,) * 3
_TEXT_PATHS = ("/v1/chat/completions",) * 3 + ("/v1/generate/text", "/v1/generate/caption")
_AGENTS = (
    "python-httpx/0.27.2",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0",
    "okhttp/4.12.0",
    "acme-sdk-js/3.4.1",
)
_RENDER = (
    # job_type, task, queue, min seconds, extra seconds, api path
    ("render_image", "tasks.render_image", "render", 3.0, 17.0, "/v1/images/generations"),
    ("render_video", "tasks.render_video", "render-gpu", 30.0, 210.0, "/v1/videos"),
)
_BATCH_TYPES = ("summarize_document", "moderate_content", "caption_image")
_BEAT_TASKS = ("tasks.cleanup_expired_assets", "tasks.refresh_model_quotas", "tasks.reindex_search")

_PLAIN_TEXT = (
    "Traceback (most recent call last):\n",
    '  File "/app/worker/main.py", line 12, in <module>\n',
    "ModuleNotFoundError: No module named 'pillow_avif'\n",
    "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)\n",
    "[2026-11-01 00:00:00,000: WARNING/MainProcess] celery@worker-0 ready.\n",
    "npm WARN config production Use `--omit=dev` instead.\n",
)

MALFORMED_KINDS = (
    "truncated",
    "invalid_utf8",
    "nul_byte",
    "json_array",
    "json_number",
    "json_string",
    "blank",
    "plain_text",
    "nan_literal",
    "infinity_literal",
    "deep_nesting",
)
"""Kinds of broken lines `generate(malformed=...)` writes; every one fails orjson.loads or
is not a JSON object."""


def _corrupt(line: str, kind: str, u: float) -> str:
    """Turn one good line (ending in a newline) into a broken line of `kind`; `u` in [0, 1)."""
    body = line[:-1]
    cut = 1 + int(u * (len(body) - 2))
    if kind == "truncated":
        return body[:cut] + "\n"
    if kind == "invalid_utf8":
        # Lone surrogates become the raw bytes 0xff 0xfe when the chunk is encoded.
        return body[:cut] + "\udcff\udcfe" + body[cut:] + "\n"
    if kind == "nul_byte":
        return body[:cut] + "\x00" + body[cut:] + "\n"
    if kind == "json_array":
        return "[" + body + "]\n"
    if kind == "json_number":
        return f"{len(body)}\n"
    if kind == "json_string":
        return '"' + body[:cut].replace("\\", "").replace('"', "'") + '"\n'
    if kind == "blank":
        return "\n"
    if kind == "plain_text":
        return _PLAIN_TEXT[int(u * len(_PLAIN_TEXT))]
    if kind == "nan_literal":
        return body[:-1] + ',"score":NaN}\n'
    if kind == "infinity_literal":
        return body[:-1] + ',"ratio":-Infinity}\n'
    if kind == "deep_nesting":
        return '{"payload":' + "[" * 2000 + "]" * 2000 + "}\n"
    raise ValueError(f"unknown malformed kind {kind!r}")


# Decimals are assembled from these tables: formatting a float costs several times more.
_FRAC3 = tuple(f".{n:03d}" for n in range(1000))
_DIGITS3 = tuple(f"{n:03d}" for n in range(1000))


def _fixed3(n: int) -> str:
    """n / 1000 with three decimals (n >= 0): milliseconds from microseconds, say."""
    return f"{n // 1000}{_FRAC3[n % 1000]}"


def _fixed6(n: int) -> str:
    """n / 1e6 with six decimals (n >= 0): seconds from microseconds, dollars from micro-dollars."""
    return f"{n // 1_000_000}{_FRAC3[n // 1000 % 1000]}{_DIGITS3[n % 1000]}"


def _clock() -> tuple[Callable[[int], str], Callable[[int], str]]:
    """Formatters of microsecond timestamps that compute each second's prefix only once."""
    seconds: dict[int, str] = {}
    days: dict[int, str] = {}
    millis = tuple(f"{frac}Z" for frac in _FRAC3)
    two = tuple(f"{n:02d}" for n in range(60))

    def prefix(sec: int) -> str:
        # strftime(gmtime()) costs ten times this; a second is new every few lines.
        if len(seconds) > 100_000:
            seconds.clear()
        day, rest = divmod(sec, 86_400)
        date = days.get(day) or days.setdefault(day, time.strftime("%Y-%m-%d", time.gmtime(sec)))
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        text = seconds[sec] = f"{date}T{two[hour]}:{two[minute]}:{two[second]}"
        return text

    def ms(us: int) -> str:
        """RFC 3339 with milliseconds, as Python's logging formatters write it."""
        sec, frac = divmod(us, 1_000_000)
        return (seconds.get(sec) or prefix(sec)) + millis[frac // 1000]

    def micro(us: int) -> str:
        """RFC 3339 with microseconds, as ECS loggers write it."""
        sec, frac = divmod(us, 1_000_000)
        return f"{seconds.get(sec) or prefix(sec)}{_FRAC3[frac // 1000]}{_DIGITS3[frac % 1000]}Z"

    return ms, micro


def _json(record: Mapping[str, object]) -> str:
    """One NDJSON line for the rarer, richer records, where orjson's escaping is worth it."""
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE).decode()


class _Instance:
    """One running copy of a service: its host name and the buffer of the file it writes to."""

    __slots__ = ("emit", "host")

    def __init__(self, host: str, buffer: list[tuple[int, str]]):
        self.host = host
        self.emit = buffer.append  # takes (ts_us, line)


#: What an LLM call used: (model, prompt tokens, completion tokens, cost in dollars as text).
_Usage = tuple[str, int, int, str]


class _Request(NamedTuple):
    api: _Instance
    start: int
    method: str
    path: str
    trace: str
    span: str
    request: str
    user: str


# tuple.__new__ skips the NamedTuple's Python-level __new__, a tenth of a request's cost.
_new_request = partial(tuple.__new__, _Request)

_HOSTS = {
    "api": "api-7d9f8b6c4-",
    "worker": "celery@worker-",
    "llm-gateway": "llm-gateway-5b8c7-",
    "billing": "billing-6f4d9c-",
}
_PODS = ("x2k4p", "q7m1z", "b9r3t", "h5n8w", "c4v6j", "m2p7s", "t8k1d", "w3f9g")


class _Platform:
    """Simulates requests and appends their lines as (ts_us, text) to the file buffers.

    The frequent lines are f-strings that look like the line they write: that costs half as
    much as building a dict for orjson, and every value put in them is an id, a number or a
    fixed word, so nothing needs escaping. Rare lines (errors, secrets) are dicts for orjson.
    The hot paths stay flat (few helper calls, local names) since every call costs time.
    """

    def __init__(self, *, seed: int, files: int, start_us: int, lines: int, secrets: bool):
        self.rnd = random.Random(seed)
        self.random = self.rnd.random
        self.bits = self.rnd.getrandbits
        self.secret_random = random.Random(f"{seed}:secrets").random if secrets else None
        self.secret_events = _secret_events(_C)
        self.secret_next = 0
        self.ms, self.micro = _clock()
        self.buffers: list[list[tuple[int, str]]] = [[] for _ in range(files)]
        self.instances: dict[str, list[_Instance]] = {service: [] for service in SERVICES}
        for k in range(max(files, len(SERVICES))):
            service, replica = SERVICES[k % len(SERVICES)], k // len(SERVICES)
            pod = str(replica) if service == "worker" else _PODS[replica % len(_PODS)]
            self.instances[service].append(
                _Instance(_HOSTS[service] + pod, self.buffers[k % files])
            )
        if all(len(found) == 1 for found in self.instances.values()):
            # One instance per service: picking is a C-level dict lookup.
            # (An instance attribute over the method: mypy takes it for a method assigned.)
            self.pick = {service: found[0] for service, found in self.instances.items()}.__getitem__  # type: ignore[method-assign, assignment]
        span_us = _span_seconds(lines) * 1_000_000
        self.gap_us = span_us * _LINES_PER_REQUEST / max(lines, 1)
        begin, end = incident_window(lines, start=datetime.fromtimestamp(start_us / 1e6, UTC))
        self.incident = (round(begin.timestamp() * 1e6), round(end.timestamp() * 1e6))
        # Kinds of request per 100 arrivals.
        self.kinds = (
            (self.text_request,) * 48
            + (self.render_request,) * 17
            + (self.poll_request,) * 12
            + (self.batch_request,) * 3
            + (self.health_check,) * 14
            + (self.beat_task,) * 3
            + (self.login_request,) * 3
        )

    def pick(self, service: str) -> _Instance:
        """The instance of `service` that handles this request (replicas share the load)."""
        found = self.instances[service]
        return found[int(self.random() * len(found))]

    # -- the LLM call shared by api requests and batch jobs ----------------------------------

    def llm_call(
        self, us: int, trace: str, parent: str, model_index: int, caller: str
    ) -> tuple[str | None, int, _Usage | None]:
        """Log one llm-gateway call; return (error type or None, end time, usage or None)."""
        rnd = self.random
        gw = self.pick("llm-gateway")
        model, provider, price_in, price_out, ms_per_token = _MODELS[model_index]
        span = self.bits(64).to_bytes(8).hex()
        roll = rnd()
        incident = self.incident[0] <= us < self.incident[1]
        if roll < 0.85 and incident and model == INCIDENT_MODEL:
            return self.rate_limited(us, gw, trace, span, parent, model, caller)
        if roll < 0.02:
            return self.llm_failed(us, gw, trace, span, parent, model_index, caller, roll)
        prompt = int(60 * math.exp(rnd() * 4))
        completion = int(20 * math.exp(rnd() * 4.3))
        total_ms = 250 + rnd() * 450 + completion * ms_per_token * (0.8 + rnd() * 0.4)
        if incident:
            total_ms *= 1.6  # the healthy providers slow down as traffic shifts to them
        if provider == "anthropic":
            usage = f'{{"input_tokens":{prompt},"output_tokens":{completion}}}'
        else:
            usage = (
                f'{{"prompt_tokens":{prompt},"completion_tokens":{completion},'
                f'"total_tokens":{prompt + completion}}}'
            )
        cost = _fixed6(int(prompt * price_in + completion * price_out + 0.5))  # micro-dollars
        end = us + int(total_ms * 1000)
        gw.emit((end, (
            f'{{"@timestamp":"{self.micro(end)}","log":{{"level":"info","logger":'
            f'"gateway.providers.{provider}"}},"service":{_GATEWAY_SERVICE},'
            f'"host":{{"name":"{gw.host}"}},"message":"completion finished","traceId":"{trace}",'
            f'"spanId":"{span}","parentSpanId":"{parent}","model":"{model}",'
            f'"provider":"{provider}","caller":"{caller}","usage":{usage},"cost_usd":{cost},'
            f'"event":{{"duration":{int(total_ms * 1_000_000)},"outcome":"success"}}}}\n'
        )))  # fmt: skip
        return None, end, (model, prompt, completion, cost)

    def gateway_error(
        self, us: int, gw: _Instance, level: str, message: str, **fields: object
    ) -> None:
        head: dict[str, object] = {
            "@timestamp": self.micro(us),
            "log": {"level": level, "logger": fields.pop("logger")},
            "service": {"name": "llm-gateway", "version": "2.8.1"},
            "host": {"name": gw.host},
            "message": message,
        }
        gw.emit((us, _json(head | fields)))

    def rate_limited(
        self, us: int, gw: _Instance, trace: str, span: str, parent: str, model: str, caller: str
    ) -> tuple[str, int, None]:
        """The incident: the provider answers 429, the gateway retries, then gives up."""
        total_ms = 8000 + self.random() * 22000
        status = {"response": {"status_code": 429}}
        for attempt, share in ((1, 0.12), (2, 0.4)):
            self.gateway_error(
                us + int(total_ms * share * 1000), gw, "warn",
                f"upstream returned 429, retrying ({attempt}/3)", logger="gateway.retry",
                traceId=trace, spanId=span, model=model, provider="openai", http=status,
            )  # fmt: skip
        end = us + int(total_ms * 1000)
        error = {
            "type": "RateLimitError",
            "message": "Rate limit reached for gpt-4o on tokens per min (TPM)",
            "stack_trace": _PY_TRACES["llm-gateway.RateLimitError"],
        }
        self.gateway_error(
            end, gw, "error", "completion failed", logger="gateway.providers.openai",
            traceId=trace, spanId=span, parentSpanId=parent, model=model, provider="openai",
            caller=caller, http=status, error=error,
            event={"duration": int(total_ms * 1_000_000), "outcome": "failure"},
        )  # fmt: skip
        return "RateLimitError", end, None

    def llm_failed(
        self,
        us: int,
        gw: _Instance,
        trace: str,
        span: str,
        parent: str,
        model_index: int,
        caller: str,
        roll: float,
    ) -> tuple[str, int, None]:
        """A rare failure outside the incident: a timeout or a stray 429."""
        model, provider = _MODELS[model_index][:2]
        error, status = ("TimeoutError", 504) if roll < 0.012 else ("RateLimitError", 429)
        total_ms = 30000.0 if status == 504 else 400 + self.random() * 600
        end = us + int(total_ms * 1000)
        detail = {
            "type": error,
            "message": f"upstream {provider} answered {status}",
            "stack_trace": _PY_TRACES["llm-gateway." + error],
        }
        self.gateway_error(
            end, gw, "error", "completion failed", logger=f"gateway.providers.{provider}",
            traceId=trace, spanId=span, parentSpanId=parent, model=model, provider=provider,
            caller=caller, http={"response": {"status_code": status}}, error=detail,
            event={"duration": int(total_ms * 1_000_000), "outcome": "failure"},
        )  # fmt: skip
        return error, end, None

    def record_usage(self, us: int, trace: str, user: str, request: str, usage: _Usage) -> None:
        bill = self.pick("billing")
        model, prompt, completion, cost = usage
        traceparent = f"00-{trace}-{self.bits(64).to_bytes(8).hex()}-01"
        if self.random() < 0.002:
            err = {"type": "StripeConnectionError", "message": "connect ECONNRESET"}
            err["stack"] = _NODE_TRACE
            record: dict[str, object] = {
                "level": 50, "time": us // 1000, "pid": 1, "hostname": bill.host
            }  # fmt: skip
            record.update(service="billing", traceparent=traceparent, userId=user)
            record.update(requestId=request, err=err, msg="usage recording failed")
            return bill.emit((us, _json(record)))
        bill.emit((us, (
            f'{{"level":30,"time":{us // 1000},"pid":1,"hostname":"{bill.host}",'
            f'"service":"billing","traceparent":"{traceparent}","userId":"{user}",'
            f'"requestId":"{request}",'
            f'"model":"{model}","tokens":{{"input":{prompt},"output":{completion}}},'
            f'"amountUsd":{cost},"responseTime":{int(2 + self.random() * 15)},'
            f'"msg":"usage recorded"}}\n'
        )))  # fmt: skip

    # -- the api's side of a request -----------------------------------------------------------

    def start_request(self, us: int, method: str, path: str) -> _Request:
        api = self.pick("api")
        # Squaring skews traffic toward a few heavy users, as real usage is.
        n = int(self.random() ** 2 * 5000)
        user = f"u_{10000 + n}"
        ids = self.bits(240).to_bytes(30).hex()  # one draw for three ids: 32, 16, 12 hex digits
        trace, span, request = ids[:32], ids[32:48], f"req_{ids[48:]}"
        api.emit((us, (
            f'{{"timestamp":"{self.ms(us)}","level":"info","service":"api",'
            f'"logger":"app.middleware","message":"request started","trace_id":"{trace}",'
            f'"span_id":"{span}",'
            f'"request_id":"{request}","user_id":"{user}","method":"{method}","path":"{path}",'
            f'"client_ip":"203.0.113.{n % 254 + 1}","user_agent":"{_AGENTS[n % len(_AGENTS)]}",'
            f'"host":"{api.host}"}}\n'
        )))  # fmt: skip
        return _new_request((api, us, method, path, trace, span, request, user))

    def finish_request(self, r: _Request, end: int, status: int, error: str | None = None) -> None:
        api, start, method, path, trace, span, request, user = r
        if error is not None:
            record: dict[str, object] = {
                "timestamp": self.ms(end),
                "level": "error",
                "service": "api",
            }
            record.update(logger="app.middleware", message="request failed", trace_id=trace)
            record["span_id"] = span
            record.update(request_id=request, user_id=user, method=method, path=path)
            record.update(status_code=status, duration_ms=(end - start) / 1000)
            record.update(error_type=error, exc_info=_PY_TRACES["api." + error], host=api.host)
            return api.emit((end, _json(record)))
        api.emit((end, (
            f'{{"timestamp":"{self.ms(end)}","level":"{"info" if status < 400 else "warning"}",'
            f'"service":"api","logger":"app.middleware","message":"request finished",'
            f'"trace_id":"{trace}",'
            f'"span_id":"{span}","request_id":"{request}","user_id":"{user}",'
            f'"method":"{method}","path":"{path}","status_code":{status},'
            f'"duration_ms":{_fixed3(end - start)},"host":"{api.host}"}}\n'
        )))  # fmt: skip

    def cache_lookup(self, r: _Request, us: int, cache: str, hit: bool) -> None:
        r.api.emit((us, (
            f'{{"timestamp":"{self.ms(us)}","level":"debug","service":"api","logger":"app.cache",'
            f'"message":"cache {"hit" if hit else "miss"}","trace_id":"{r.trace}",'
            f'"request_id":"{r.request}","cache":"{cache}",'
            f'"cache_hit":{"true" if hit else "false"},"host":"{r.api.host}"}}\n'
        )))  # fmt: skip

    def api_event(
        self, r: _Request, us: int, level: str, logger: str, message: str, **fields: object
    ) -> None:
        record: dict[str, object] = {
            "timestamp": self.ms(us),
            "level": level,
            "service": "api",
            "logger": logger,
        }
        record["message"] = message
        record.update(trace_id=r.trace, request_id=r.request, **fields, host=r.api.host)
        r.api.emit((us, _json(record)))

    def validation_failed(self, r: _Request) -> None:
        errors = [{"loc": ["body", "max_tokens"], "msg": "Input should be <= 4096"}]
        self.api_event(
            r, r.start + 900, "warning", "app.validation", "request validation failed",
            error_type="ValidationError", errors=errors,
        )  # fmt: skip
        self.finish_request(r, r.start + 1400, 422)

    # -- the worker's side -------------------------------------------------------------------

    def run_job(
        self,
        us: int,
        trace: str,
        user: str | None,
        job: str,
        batch: str | None,
        job_type: str,
        task: str,
        queue: str,
        runtime_ms: int,
    ) -> None:
        rnd = self.random
        wk = self.pick("worker")
        ids = (
            f'"task":"{task}","job_id":"{job}",'
            + (f'"batch_id":"{batch}",' if batch is not None else "")
            + f'"job_type":"{job_type}","correlation_id":"{trace}","hostname":"{wk.host}"'
        )
        t = us + 20_000 + int(rnd() * 2_000_000)  # waiting in the queue
        wk.emit((t, (
            f'{{"ts":{_fixed6(t)},"severity":"INFO","app":"worker",'
            f'"logger":"celery.worker.strategy",'
            f'"msg":"Task received","queue":"{queue}",{ids}}}\n'
        )))  # fmt: skip
        t += 1000 + int(rnd() * 20_000)
        wk.emit((t, (
            f'{{"ts":{_fixed6(t)},"severity":"INFO","app":"worker","logger":"celery.app.trace",'
            f'"msg":"Task started","attempt":1,{ids}}}\n'
        )))  # fmt: skip
        if job_type in _BATCH_TYPES:
            span = self.bits(64).to_bytes(8).hex()
            error, end, usage = self.llm_call(t + 5000, trace, span, 2, "worker")
            if error is None:
                # A call that did not fail has its usage; a batch job its user (a beat
                # task, which has none, is not a batch job).
                assert usage is not None and user is not None
                self.record_usage(end + 800, trace, user, job, usage)
                runtime_ms += (end - t) // 1000
        end = t + runtime_ms * 1000
        elapsed = f"{_fixed3(runtime_ms)}s"
        if rnd() < 0.03:
            record: dict[str, object] = {"ts": end / 1e6, "severity": "ERROR", "app": "worker"}
            record["logger"] = "celery.app.trace"
            record.update(msg="Task failed", elapsed=elapsed, exc_type="DatabaseError")
            record["exc_message"] = "could not serialize access due to concurrent update"
            record["stack"] = _PY_TRACES["worker.DatabaseError"]
            wk.emit((end, _json(record)[:-2] + "," + ids + "}\n"))
            return
        wk.emit((end, (
            f'{{"ts":{_fixed6(end)},"severity":"INFO","app":"worker","logger":"celery.app.trace",'
            f'"msg":"Task succeeded","elapsed":"{elapsed}",'
            f'"result":{{"asset_id":"ast_{self.bits(40).to_bytes(5).hex()}"}},{ids}}}\n'
        )))  # fmt: skip
        if job_type.startswith("render"):
            bill = self.pick("billing")
            span = self.bits(64).to_bytes(8).hex()
            t = end + 4000
            bill.emit((t, (
                f'{{"level":30,"time":{t // 1000},"pid":1,"hostname":"{bill.host}",'
                f'"service":"billing","traceparent":"00-{trace}-{span}-01",'
                f'"userId":"{user}","jobId":"{job}","renderSeconds":{_fixed3(runtime_ms)},'
                f'"amountUsd":{_fixed6(runtime_ms * 21 // 10)},"msg":"render minutes charged"}}\n'
            )))  # fmt: skip

    # -- kinds of traffic --------------------------------------------------------------------

    def text_request(self, us: int) -> None:
        rnd = self.random
        r = self.start_request(us, "POST", _TEXT_PATHS[int(rnd() * len(_TEXT_PATHS))])
        if rnd() < 0.01:
            return self.validation_failed(r)
        t = us + 300 + int(rnd() * 1500)
        hit = rnd() < 0.22
        self.cache_lookup(r, t, "prompt", hit)
        if hit:
            return self.finish_request(r, t + 2000 + int(rnd() * 6000), 200)
        model = _TEXT_MODELS[int(rnd() * len(_TEXT_MODELS))]
        error, end, usage = self.llm_call(t + 1500, r.trace, r.span, model, "api")
        end += 2000 + int(rnd() * 8000)
        if error is not None:
            return self.finish_request(r, end, 504 if error == "TimeoutError" else 503, error)
        assert usage is not None  # the call did not fail
        self.record_usage(end - 1500, r.trace, r.user, r.request, usage)
        if rnd() < 0.005:
            return self.finish_request(r, end, 500, "DatabaseError")
        self.finish_request(r, end, 200)

    def render_request(self, us: int) -> None:
        rnd = self.random
        job_type, task, queue, base_s, extra_s, path = _RENDER[0 if rnd() < 0.7 else 1]
        r = self.start_request(us, "POST", path)
        if rnd() < 0.01:
            return self.validation_failed(r)
        # A model rewrites the prompt before rendering: the cheap one, or gpt-4o for some.
        model = 0 if rnd() < 0.33 else 2
        error, t, usage = self.llm_call(us + 2500, r.trace, r.span, model, "api")
        if error is not None:
            return self.finish_request(r, t + 3000, 504 if error == "TimeoutError" else 503, error)
        assert usage is not None  # the call did not fail
        self.record_usage(t + 1200, r.trace, r.user, r.request, usage)
        h = self.bits(128).to_bytes(16).hex()  # a version-4 UUID, cheaper than uuid.UUID
        job = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"
        t += 2000 + int(rnd() * 3000)
        self.api_event(
            r, t, "info", "app.jobs", "job enqueued", user_id=r.user, job_id=job,
            job_type=job_type, queue=queue,
        )  # fmt: skip
        self.finish_request(r, t + 1500, 202)
        runtime_ms = int((base_s + rnd() * extra_s) * 1000)
        self.run_job(t, r.trace, r.user, job, None, job_type, task, queue, runtime_ms)

    def poll_request(self, us: int) -> None:
        rnd = self.random
        r = self.start_request(us, "GET", f"/v1/jobs/{self.bits(48).to_bytes(6).hex()}")
        hit = rnd() < 0.6
        t = us + 200 + int(rnd() * 800)
        self.cache_lookup(r, t, "job-status", hit)
        end = t + (800 if hit else 4000 + int(rnd() * 20_000))
        self.finish_request(r, end, 404 if rnd() < 0.02 else 200)

    def batch_request(self, us: int) -> None:
        rnd = self.random
        r = self.start_request(us, "POST", "/v1/batches")
        batch = f"bat_{self.bits(48).to_bytes(6).hex()}"
        job_type = _BATCH_TYPES[int(rnd() * len(_BATCH_TYPES))]
        size = 2 + int(rnd() * 5)
        t = us + 3000 + int(rnd() * 4000)
        self.api_event(
            r, t, "info", "app.jobs", "batch accepted", user_id=r.user, batch_id=batch,
            job_type=job_type, items=size,
        )  # fmt: skip
        self.finish_request(r, t + 900, 202)
        for i in range(size):
            job, task = f"{batch}-{i:03d}", f"tasks.{job_type}"
            self.run_job(
                t, r.trace, r.user, job, batch, job_type, task, "batch", 200 + int(rnd() * 2000)
            )

    def health_check(self, us: int) -> None:
        # Probes carry no trace: uvicorn's access logger writes them.
        api = self.pick("api")
        api.emit((us, (
            f'{{"timestamp":"{self.ms(us)}","level":"info","service":"api",'
            f'"logger":"uvicorn.access","message":"GET /healthz 200","method":"GET",'
            f'"path":"/healthz","status_code":200,'
            f'"duration_ms":{_fixed3(200 + int(self.random() * 1000))},"client_ip":"10.42.0.1",'
            f'"user_agent":"kube-probe/1.31","host":"{api.host}"}}\n'
        )))  # fmt: skip

    def beat_task(self, us: int) -> None:
        rnd = self.random
        task = _BEAT_TASKS[int(rnd() * len(_BEAT_TASKS))]
        wk = self.pick("worker")
        trace = self.bits(128).to_bytes(16).hex()
        wk.emit((us, (
            f'{{"ts":{_fixed6(us)},"severity":"DEBUG","app":"worker","logger":"celery.beat",'
            f'"msg":"Scheduler: Sending due task {task}","task":"{task}",'
            f'"correlation_id":"{trace}","hostname":"{wk.host}"}}\n'
        )))  # fmt: skip
        job = f"beat-{self.bits(48).to_bytes(6).hex()}"
        self.run_job(
            us, trace, None, job, None, "maintenance", task, "default", 500 + int(rnd() * 5000)
        )

    def login_request(self, us: int) -> None:
        r = self.start_request(us, "POST", "/v1/auth/login")
        end = us + 40_000 + int(self.random() * 80_000)  # password hashing is slow on purpose
        self.finish_request(r, end, 401 if self.random() < 0.05 else 200)

    def plant_secret(self, us: int) -> None:
        """Add one line carrying a fake secret, taking the canary templates in turn."""
        service, message, extra = self.secret_events[self.secret_next % len(self.secret_events)]
        self.secret_next += 1
        inst = self.pick(service)
        trace = self.bits(128).to_bytes(16).hex()
        t = us + 500
        record: dict[str, object]
        if service == "api":
            record = {"timestamp": self.ms(t), "level": "debug", "service": "api"}
            record["logger"] = "app.debug"
            record.update(message=message, trace_id=trace, **extra, host=inst.host)
        elif service == "worker":
            record = {"ts": t / 1e6, "severity": "DEBUG", "app": "worker"}
            record["logger"] = "worker.setup"
            record.update(msg=message, correlation_id=trace, **extra, hostname=inst.host)
        elif service == "llm-gateway":
            record = {"@timestamp": self.micro(t), "log": {"level": "debug", "logger": "setup"}}
            record.update(service={"name": "llm-gateway", "version": "2.8.1"})
            record.update(host={"name": inst.host}, message=message, traceId=trace, **extra)
        else:
            span = self.bits(64).to_bytes(8).hex()
            record = {"level": 20, "time": t // 1000, "pid": 1, "hostname": inst.host}
            record.update(service="billing", traceparent=f"00-{trace}-{span}-01", **extra)
            record["msg"] = message
        inst.emit((t, _json(record)))

    # -- the main loop -----------------------------------------------------------------------

    def run(self, start_us: int, lines: int, write: Callable[[int | None], int]) -> None:
        """Simulate arrivals until exactly `lines` lines exist, writing them as buffers fill."""
        rnd = self.random
        kinds = self.kinds
        secret = self.secret_random
        gap = self.gap_us
        inc_begin, inc_end = self.incident
        written = pending = 0
        marks: list[int] = []
        buffers = self.buffers
        # Counting buffered lines costs as much as a line, so it is done every 16 arrivals
        # (which write far fewer than 2000 lines), and after each one only near the end.
        near_end = lines < 2000
        countdown = 16
        us = start_us
        while written + pending < lines:
            if near_end:
                marks = [len(buffer) for buffer in buffers]
            # Exponential inter-arrival times; clients retry harder during the incident.
            step = -math.log(1.0 - rnd()) * gap
            us += int(step * 0.7) if inc_begin <= us < inc_end else int(step)
            kinds[int(rnd() * 100)](us)
            if secret is not None and secret() < _SECRET_RATE:
                self.plant_secret(us)
            countdown -= 1
            if countdown and not near_end:
                continue
            countdown = 16
            pending = sum(map(len, buffers))
            near_end = lines - written - pending < 2000
            if pending >= _CHUNK and not near_end:
                written += write(us)
                pending = sum(map(len, buffers))
        if written + pending > lines:
            self.cut_short(marks, written + pending - lines)
        write(None)

    def cut_short(self, marks: list[int], excess: int) -> None:
        """Drop the last `excess` lines (in time) of the newest request: the run ended first."""
        fresh = [
            (buffer[i][0], f, i)
            for f, buffer in enumerate(self.buffers)
            for i in range(marks[f], len(buffer))
        ]
        fresh.sort(reverse=True)
        # Deleting from the highest index down keeps the other indexes valid.
        for _, f, i in sorted(fresh[:excess], key=itemgetter(1, 2), reverse=True):
            del self.buffers[f][i]


class _Writer:
    """Writes buffered lines in time order, after corrupting the ones chosen to be malformed."""

    def __init__(self, paths: list[Path], *, gzip: bool, malformed: float, seed: int):
        self.raw = [open(path, "wb") for path in paths]  # noqa: SIM115 - closed in close()
        self.out: Sequence[io.BufferedIOBase] = self.raw
        if gzip:
            # mtime=0 and a fixed name keep the gzip header, hence the bytes, reproducible.
            self.out = [
                gzip_module.GzipFile(
                    filename=path.name.removesuffix(".gz"),
                    mode="wb",
                    compresslevel=1,
                    fileobj=raw,
                    mtime=0,
                )
                for path, raw in zip(paths, self.raw, strict=True)
            ]
        self.malformed = malformed
        self.bad_random = random.Random(f"{seed}:malformed").random
        self.index = 0  # lines written so far, over all files
        self.next_bad = self.skip(0)

    def skip(self, index: int) -> int:
        """Index of the next malformed line: geometric gaps, so good lines cost no draw."""
        if self.malformed <= 0:
            return -1
        if self.malformed >= 1:
            return index
        return index + int(math.log(1.0 - self.bad_random()) / math.log(1.0 - self.malformed))

    def write(self, buffers: list[list[tuple[int, str]]], watermark: int | None) -> int:
        """Write every buffered line up to `watermark` (all of them if None); return the count."""
        count = 0
        for out, buffer in zip(self.out, buffers, strict=True):
            buffer.sort(key=_TS)  # stable: lines of the same microsecond keep their order
            cut = len(buffer) if watermark is None else bisect_right(buffer, watermark, key=_TS)
            ready = list(map(_LINE, buffer[:cut]))
            del buffer[:cut]
            while 0 <= self.next_bad < self.index + len(ready):
                at = self.next_bad - self.index
                kind = MALFORMED_KINDS[int(self.bad_random() * len(MALFORMED_KINDS))]
                ready[at] = _corrupt(ready[at], kind, self.bad_random())
                self.next_bad = self.skip(self.next_bad + 1)
            self.index += len(ready)
            count += len(ready)
            # Invalid UTF-8 in malformed lines travels as lone surrogates until this encode.
            out.write("".join(ready).encode("utf-8", "surrogateescape"))
        return count

    def close(self) -> None:
        for out in self.out:
            out.close()
        for raw in self.raw:
            raw.close()


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
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / name for name in output_names(files, gzip=gzip)]
    begin = start or DEFAULT_START
    if begin.tzinfo is None:
        begin = begin.replace(tzinfo=UTC)
    start_us = round(begin.timestamp() * 1_000_000)
    platform = _Platform(seed=seed, files=files, start_us=start_us, lines=lines, secrets=secrets)
    writer = _Writer(paths, gzip=gzip, malformed=malformed, seed=seed)
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
