"""loguru with serialize=True: each line is {"text": ..., "record": {...}}."""

import sys

from _scenario import MODEL, SPAN_ID, TRACE_ID, fail
from loguru import logger

logger.remove()
logger.add(sys.stdout, serialize=True, level="DEBUG")

log = logger.bind(service="checkout")
log.debug("config loaded", workers=2)
log.info("server started on 127.0.0.1:8080")
req = log.bind(trace_id=TRACE_ID, span_id=SPAN_ID, request_id="req-1")
req.info("request handled", method="GET", path="/cart", status_code=200, duration_ms=12.5)
req.warning("slow request", method="POST", path="/checkout", duration_ms=2512.0)
try:
    fail()
except Exception:
    req.exception("payment failed")
log.bind(trace_id=TRACE_ID).info(
    "llm call", model=MODEL, usage={"prompt_tokens": 412, "completion_tokens": 88}, cost_usd=0.00042
)
log.critical("shutting down")
