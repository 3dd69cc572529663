"""google-cloud-logging's StructuredLogHandler: one JSON object per line on stdout, the form
Cloud Run, GKE and Cloud Functions' logging agents read. Trace, span and httpRequest are passed
as the documented `extra` keys (trace, span_id, trace_sampled, http_request); json_fields adds
fields to the payload. The project id is fake."""

import logging
import sys

from _scenario import MODEL, SPAN_ID, TRACE_ID, fail
from google.cloud.logging.handlers import StructuredLogHandler

PROJECT = "fake-project-123"
handler = StructuredLogHandler(stream=sys.stdout, project_id=PROJECT, labels={"env": "test"})
log = logging.getLogger("checkout")
log.addHandler(handler)
log.setLevel(logging.DEBUG)
log.propagate = False

trace = {"trace": f"projects/{PROJECT}/traces/{TRACE_ID}", "span_id": SPAN_ID,
         "trace_sampled": True}  # fmt: skip
log.debug("config loaded", extra={"json_fields": {"workers": 2}})
log.info("server started on 127.0.0.1:8080")
log.info("request handled", extra={**trace, "http_request": {
    "requestMethod": "GET", "requestUrl": "http://127.0.0.1:8080/cart?page=2", "status": 200,
    "latency": "0.012500s", "userAgent": "curl/7.88.1", "remoteIp": "127.0.0.1"}})  # fmt: skip
log.warning("slow request", extra={**trace, "http_request": {
    "requestMethod": "POST", "requestUrl": "http://127.0.0.1:8080/checkout", "status": 200,
    "latency": "2.512s"}})  # fmt: skip
try:
    fail()
except Exception:
    log.exception("payment failed", extra=trace)
log.info("llm call", extra={**trace, "json_fields": {
    "model": MODEL, "usage": {"prompt_tokens": 412, "completion_tokens": 88}}})  # fmt: skip
log.critical("shutting down")
