"""What the simulated services say, and how they write numbers and times, fast.

Stack traces are rendered once (errors repeat); models, paths, user agents and job kinds are
fixed tables, the weighted ones picked with `int(random() * len(table))`, cheaper than
`random.choices` per call. Numbers and timestamps are assembled from precomputed pieces:
formatting a float or calling strftime for every line would cost several times more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import orjson


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
PY_TRACES = {
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
NODE_TRACE = (
    "StripeConnectionError: An error occurred with our connection to Stripe. Request was retried"
    " 2 times.\n    at StripeClient._request (/app/node_modules/stripe/cjs/RequestSender.js:231:19)"
    "\n    at async recordUsage (/app/src/usage.js:48:5)\n    at async /app/src/routes.js:77:7"
)

GATEWAY_SERVICE = '{"name":"llm-gateway","version":"2.8.1"}'
MODELS = (
    # model, provider, $ per 1M input tokens, $ per 1M output tokens, ms per output token
    ("gpt-4o", "openai", 2.50, 10.00, 11.0),
    ("claude-sonnet", "anthropic", 3.00, 15.00, 14.0),
    ("llama-3-70b", "vllm", 0.59, 0.79, 8.0),
)
# Weighted tables picked with int(random() * len): cheaper than random.choices per call.
TEXT_MODELS = (0,) * 10 + (1,) * 7 + (2,) * 3
TEXT_PATHS = ("/v1/chat/completions",) * 3 + ("/v1/generate/text", "/v1/generate/caption")
AGENTS = (
    "python-httpx/0.27.2",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0",
    "okhttp/4.12.0",
    "acme-sdk-js/3.4.1",
)
RENDER = (
    # job_type, task, queue, min seconds, extra seconds, api path
    ("render_image", "tasks.render_image", "render", 3.0, 17.0, "/v1/images/generations"),
    ("render_video", "tasks.render_video", "render-gpu", 30.0, 210.0, "/v1/videos"),
)
BATCH_TYPES = ("summarize_document", "moderate_content", "caption_image")
BEAT_TASKS = ("tasks.cleanup_expired_assets", "tasks.refresh_model_quotas", "tasks.reindex_search")


# Decimals are assembled from these tables: formatting a float costs several times more.
_FRAC3 = tuple(f".{n:03d}" for n in range(1000))
_DIGITS3 = tuple(f"{n:03d}" for n in range(1000))


def fixed3(n: int) -> str:
    """n / 1000 with three decimals (n >= 0): milliseconds from microseconds, say."""
    return f"{n // 1000}{_FRAC3[n % 1000]}"


def fixed6(n: int) -> str:
    """n / 1e6 with six decimals (n >= 0): seconds from microseconds, dollars from micro-dollars."""
    return f"{n // 1_000_000}{_FRAC3[n // 1000 % 1000]}{_DIGITS3[n % 1000]}"


def clock() -> tuple[Callable[[int], str], Callable[[int], str]]:
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


def json_line(record: Mapping[str, object]) -> str:
    """One NDJSON line for the rarer, richer records, where orjson's escaping is worth it."""
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE).decode()
