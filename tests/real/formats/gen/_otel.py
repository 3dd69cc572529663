"""The OpenTelemetry Python SDK's logging bridge (LoggingHandler on the stdlib logger) feeding
one exporter, with the scenario's records emitted inside a span whose parent came in as the
scenario's W3C traceparent, so every record carries that trace id (the span id is the SDK's)."""

import logging

from _scenario import MODEL, TRACEPARENT, fail
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator


def run(exporter, processor=SimpleLogRecordProcessor) -> None:
    resource = Resource.create(
        {
            "service.name": "checkout",
            "service.version": "1.4.2",
            "deployment.environment.name": "test",
        }
    )
    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(processor(exporter))
    tracer = TracerProvider(resource=resource).get_tracer("checkout")
    log = logging.getLogger("checkout")
    log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))
    log.setLevel(logging.DEBUG)

    log.debug("config loaded", extra={"app.workers": 2})
    parent = TraceContextTextMapPropagator().extract({"traceparent": TRACEPARENT})
    with tracer.start_as_current_span("POST /checkout", context=parent):
        log.info(
            "request handled",
            extra={
                "http.request.method": "GET",
                "url.path": "/cart",
                "http.response.status_code": 200,
                "duration_ms": 12.5,
            },
        )
        log.warning(
            "slow request",
            extra={"http.request.method": "POST", "url.path": "/checkout", "duration_ms": 2512.0},
        )
        try:
            fail()
        except Exception:
            log.exception("payment failed")
        log.info(
            "llm call",
            extra={
                "gen_ai.request.model": MODEL,
                "gen_ai.system": "openai",
                "gen_ai.usage.input_tokens": 412,
                "gen_ai.usage.output_tokens": 88,
            },
        )
    provider.force_flush()  # with a batching processor, the span's records are one batch
    log.critical("shutting down")
    provider.shutdown()
