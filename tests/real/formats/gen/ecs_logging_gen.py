"""ecs-logging's StdlibFormatter on the stdlib logging module. Dotted `extra` keys are ECS field
names and come out nested (trace.id, http.request.method, event.duration in nanoseconds)."""

import logging
import sys

import ecs_logging
from _scenario import MODEL, SPAN_ID, TRACE_ID, fail

handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(ecs_logging.StdlibFormatter())
log = logging.getLogger("checkout")
log.addHandler(handler)
log.setLevel(logging.DEBUG)

ctx = {"service.name": "checkout", "trace.id": TRACE_ID, "span.id": SPAN_ID}
log.debug("config loaded", extra={"service.name": "checkout", "labels": {"workers": 2}})
log.info("server started on 127.0.0.1:8080", extra={"service.name": "checkout"})
log.info(
    "request handled",
    extra={
        **ctx,
        "http.request.method": "GET",
        "url.path": "/cart",
        "http.response.status_code": 200,
        "event.duration": 12_500_000,
    },
)
log.warning(
    "slow request",
    extra={
        **ctx,
        "http.request.method": "POST",
        "url.path": "/checkout",
        "event.duration": 2_512_000_000,
    },
)
try:
    fail()
except Exception:
    log.exception("payment failed", extra=ctx)
log.info(
    "llm call",
    extra={
        **ctx,
        "gen_ai.request.model": MODEL,
        "gen_ai.usage.input_tokens": 412,
        "gen_ai.usage.output_tokens": 88,
    },
)
log.critical("shutting down", extra={"service.name": "checkout"})
