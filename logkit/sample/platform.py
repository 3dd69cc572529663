"""The simulated platform: requests as they happen, each service logging them its own way.

`Platform.run` draws arrivals (exponential gaps; clients retry harder during the incident),
plays each request through the services it touches and appends their lines as (ts_us, text)
to the buffer of the file each service writes to; `write` (logkit/sample/writer.py) takes
them out in time order whenever enough have gathered.

For speed (benchmarks ask for 1M-20M lines, at >= 300k lines/s on one core): each frequent
line is an f-string that looks like the line it writes, at the place it happens, half the
cost of a dict dumped by orjson; timestamps reuse a per-second prefix (`clock`). Every value
comes from one `random.Random(seed)`, and planted secrets from a generator of their own, so
switching them on changes only the lines they touch.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import NamedTuple

from .canaries import secret_events
from .plan import INCIDENT_MODEL, LINES_PER_REQUEST, SERVICES, incident_window, span_seconds
from .vocabulary import (
    AGENTS,
    BATCH_TYPES,
    BEAT_TASKS,
    GATEWAY_SERVICE,
    MODELS,
    NODE_TRACE,
    PY_TRACES,
    RENDER,
    TEXT_MODELS,
    TEXT_PATHS,
    clock,
    fixed3,
    fixed6,
    json_line,
)

_CHUNK = 65_536  # lines buffered before a sort-and-write: bounds memory to some tens of MB
_SECRET_RATE = 0.085  # per request: about 1.5 % of lines then carry a fake secret


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


class Platform:
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
        self.secret_events = secret_events()
        self.secret_next = 0
        self.ms, self.micro = clock()
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
        span_us = span_seconds(lines) * 1_000_000
        self.gap_us = span_us * LINES_PER_REQUEST / max(lines, 1)
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
        model, provider, price_in, price_out, ms_per_token = MODELS[model_index]
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
        cost = fixed6(int(prompt * price_in + completion * price_out + 0.5))  # micro-dollars
        end = us + int(total_ms * 1000)
        gw.emit((end, (
            f'{{"@timestamp":"{self.micro(end)}","log":{{"level":"info","logger":'
            f'"gateway.providers.{provider}"}},"service":{GATEWAY_SERVICE},'
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
        gw.emit((us, json_line(head | fields)))

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
            "stack_trace": PY_TRACES["llm-gateway.RateLimitError"],
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
        model, provider = MODELS[model_index][:2]
        error, status = ("TimeoutError", 504) if roll < 0.012 else ("RateLimitError", 429)
        total_ms = 30000.0 if status == 504 else 400 + self.random() * 600
        end = us + int(total_ms * 1000)
        detail = {
            "type": error,
            "message": f"upstream {provider} answered {status}",
            "stack_trace": PY_TRACES["llm-gateway." + error],
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
            err["stack"] = NODE_TRACE
            record: dict[str, object] = {
                "level": 50, "time": us // 1000, "pid": 1, "hostname": bill.host
            }  # fmt: skip
            record.update(service="billing", traceparent=traceparent, userId=user)
            record.update(requestId=request, err=err, msg="usage recording failed")
            return bill.emit((us, json_line(record)))
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
            f'"client_ip":"203.0.113.{n % 254 + 1}","user_agent":"{AGENTS[n % len(AGENTS)]}",'
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
            record.update(error_type=error, exc_info=PY_TRACES["api." + error], host=api.host)
            return api.emit((end, json_line(record)))
        api.emit((end, (
            f'{{"timestamp":"{self.ms(end)}","level":"{"info" if status < 400 else "warning"}",'
            f'"service":"api","logger":"app.middleware","message":"request finished",'
            f'"trace_id":"{trace}",'
            f'"span_id":"{span}","request_id":"{request}","user_id":"{user}",'
            f'"method":"{method}","path":"{path}","status_code":{status},'
            f'"duration_ms":{fixed3(end - start)},"host":"{api.host}"}}\n'
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
        r.api.emit((us, json_line(record)))

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
            f'{{"ts":{fixed6(t)},"severity":"INFO","app":"worker",'
            f'"logger":"celery.worker.strategy",'
            f'"msg":"Task received","queue":"{queue}",{ids}}}\n'
        )))  # fmt: skip
        t += 1000 + int(rnd() * 20_000)
        wk.emit((t, (
            f'{{"ts":{fixed6(t)},"severity":"INFO","app":"worker","logger":"celery.app.trace",'
            f'"msg":"Task started","attempt":1,{ids}}}\n'
        )))  # fmt: skip
        if job_type in BATCH_TYPES:
            span = self.bits(64).to_bytes(8).hex()
            error, end, usage = self.llm_call(t + 5000, trace, span, 2, "worker")
            if error is None:
                # A call that did not fail has its usage; a batch job its user (a beat
                # task, which has none, is not a batch job).
                assert usage is not None and user is not None
                self.record_usage(end + 800, trace, user, job, usage)
                runtime_ms += (end - t) // 1000
        end = t + runtime_ms * 1000
        elapsed = f"{fixed3(runtime_ms)}s"
        if rnd() < 0.03:
            record: dict[str, object] = {"ts": end / 1e6, "severity": "ERROR", "app": "worker"}
            record["logger"] = "celery.app.trace"
            record.update(msg="Task failed", elapsed=elapsed, exc_type="DatabaseError")
            record["exc_message"] = "could not serialize access due to concurrent update"
            record["stack"] = PY_TRACES["worker.DatabaseError"]
            wk.emit((end, json_line(record)[:-2] + "," + ids + "}\n"))
            return
        wk.emit((end, (
            f'{{"ts":{fixed6(end)},"severity":"INFO","app":"worker","logger":"celery.app.trace",'
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
                f'"userId":"{user}","jobId":"{job}","renderSeconds":{fixed3(runtime_ms)},'
                f'"amountUsd":{fixed6(runtime_ms * 21 // 10)},"msg":"render minutes charged"}}\n'
            )))  # fmt: skip

    # -- kinds of traffic --------------------------------------------------------------------

    def text_request(self, us: int) -> None:
        rnd = self.random
        r = self.start_request(us, "POST", TEXT_PATHS[int(rnd() * len(TEXT_PATHS))])
        if rnd() < 0.01:
            return self.validation_failed(r)
        t = us + 300 + int(rnd() * 1500)
        hit = rnd() < 0.22
        self.cache_lookup(r, t, "prompt", hit)
        if hit:
            return self.finish_request(r, t + 2000 + int(rnd() * 6000), 200)
        model = TEXT_MODELS[int(rnd() * len(TEXT_MODELS))]
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
        job_type, task, queue, base_s, extra_s, path = RENDER[0 if rnd() < 0.7 else 1]
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
        job_type = BATCH_TYPES[int(rnd() * len(BATCH_TYPES))]
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
            f'"duration_ms":{fixed3(200 + int(self.random() * 1000))},"client_ip":"10.42.0.1",'
            f'"user_agent":"kube-probe/1.31","host":"{api.host}"}}\n'
        )))  # fmt: skip

    def beat_task(self, us: int) -> None:
        rnd = self.random
        task = BEAT_TASKS[int(rnd() * len(BEAT_TASKS))]
        wk = self.pick("worker")
        trace = self.bits(128).to_bytes(16).hex()
        wk.emit((us, (
            f'{{"ts":{fixed6(us)},"severity":"DEBUG","app":"worker","logger":"celery.beat",'
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
        inst.emit((t, json_line(record)))

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
