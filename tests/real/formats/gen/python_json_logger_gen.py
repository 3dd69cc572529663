"""python-json-logger's JsonFormatter on the stdlib logging module, configured as its README
shows: the format string names the LogRecord attributes to keep; `extra` adds fields."""

import logging
import sys

from _scenario import MODEL, TRACE_ID, fail
from pythonjsonlogger.json import JsonFormatter

handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
log = logging.getLogger("checkout")
log.addHandler(handler)
log.setLevel(logging.DEBUG)

log.debug("config loaded", extra={"workers": 2})
log.info("server started on 127.0.0.1:8080")
ctx = {"trace_id": TRACE_ID, "request_id": "req-1"}
log.info("request handled", extra={**ctx, "method": "GET", "path": "/cart", "status_code": 200,
                                   "duration_ms": 12.5})  # fmt: skip
log.warning("slow request", extra={**ctx, "method": "POST", "path": "/checkout",
                                   "duration_ms": 2512.0})  # fmt: skip
try:
    fail()
except Exception:
    log.exception("payment failed", extra=ctx)
log.info("llm call", extra={"trace_id": TRACE_ID, "model": MODEL,
                            "usage": {"prompt_tokens": 412, "completion_tokens": 88}})  # fmt: skip
log.critical("shutting down")
