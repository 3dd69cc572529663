"""structlog configured for JSON in production, as its docs show: add_log_level, an ISO UTC
TimeStamper, dict_tracebacks, JSONRenderer. The message is under "event"."""

import structlog
from _scenario import MODEL, SPAN_ID, TRACE_ID, fail

structlog.configure(
    processors=[
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.dict_tracebacks,
        structlog.processors.JSONRenderer(),
    ],
)
log = structlog.get_logger().bind(service="checkout")
log.debug("config loaded", workers=2)
log.info("server started", port=8080)
req = log.bind(trace_id=TRACE_ID, span_id=SPAN_ID, request_id="req-1")
req.info("request handled", method="GET", path="/cart", status_code=200, duration_ms=12.5)
req.warning("slow request", method="POST", path="/checkout", duration_ms=2512.0)
try:
    fail()
except Exception:
    req.exception("payment failed")
log.info("llm call", trace_id=TRACE_ID, model=MODEL,
         usage={"prompt_tokens": 412, "completion_tokens": 88})  # fmt: skip
log.critical("shutting down")
