"""A two-service shop for tests/test_real_logs.py: FastAPI under uvicorn, JSON logs via structlog.

The same module runs as both services. ``orders`` serves ``GET /order`` and charges each order
through ``payments``' ``POST /charge``, passing the W3C ``traceparent`` header on, so the two
logs share trace ids the way instrumented services do.

Logging is set up the way structlog's documentation recommends for production JSON, and the way
most FastAPI services copy it: structlog's own events and every stdlib logger (uvicorn's startup
and access lines, httpx's request lines) go through one `ProcessorFormatter` into one file,
with ISO timestamps in UTC, the level, the logger name, context variables (the trace) and
``dict_tracebacks`` (structured stack frames, with their local variables) for exceptions.

The app logs what real apps log and should not: the request headers (``Authorization``
included) and the customer's email; uvicorn's access line carries the raw query string.

Error paths, chosen by quantity so the test knows how many to expect:

* ``qty == 13``: payments raises `AcquirerTimeout` (caused by a `TimeoutError`); its middleware
  logs the exception and answers 500; orders logs ``charge failed`` with ``error_type`` and its
  own traceback, and answers 502.
* ``qty > 50``: payments declines with 402 and a warning; orders passes the 402 on.

Run: ``python tests/real/shop.py --service orders --port 8001 --log orders.log
--payments http://127.0.0.1:8002``.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from typing import Any

import httpx
import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

log = structlog.get_logger("shop")


class AcquirerTimeout(Exception):
    """The card acquirer did not answer in time."""


def configure_logging(service: str, path: str) -> None:
    def add_service(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
        event.setdefault("service", service)
        return event

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_service,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.FileHandler(path)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.dict_tracebacks,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)


def parse_traceparent(header: str | None) -> tuple[str, str | None]:
    """(trace id, parent span id) from a W3C traceparent, or a new trace when there is none."""
    parts = (header or "").split("-")
    if len(parts) == 4 and len(parts[1]) == 32 and len(parts[2]) == 16:
        return parts[1], parts[2]
    return os.urandom(16).hex(), None


def create_app(service: str, payments: str | None) -> FastAPI:
    app = FastAPI()
    client = httpx.AsyncClient(timeout=10)

    @app.middleware("http")
    async def request_context(request: Request, call_next: Any) -> Any:
        trace_id, parent = parse_traceparent(request.headers.get("traceparent"))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            trace_id=trace_id, span_id=os.urandom(8).hex(), parent_span_id=parent
        )
        started = time.perf_counter()
        fields = {"method": request.method, "path": request.url.path}
        try:
            response = await call_next(request)
        except Exception:
            log.exception("request failed", **fields, status_code=500,
                          duration_ms=(time.perf_counter() - started) * 1000)  # fmt: skip
            return JSONResponse({"detail": "internal error"}, status_code=500)
        log.info("request finished", **fields, status_code=response.status_code,
                 duration_ms=(time.perf_counter() - started) * 1000)  # fmt: skip
        return response

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/order")
    async def order(request: Request, item: str, qty: int, email: str | None = None) -> Any:
        log.info("order received", item=item, qty=qty, email=email, headers=dict(request.headers))
        context = structlog.contextvars.get_contextvars()
        traceparent = f"00-{context['trace_id']}-{context['span_id']}-01"
        try:
            response = await client.post(
                f"{payments}/charge",
                json={"item": item, "qty": qty, "email": email},
                headers={"traceparent": traceparent},
            )
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            if status == 402:
                log.warning("payment declined", item=item, upstream_status=status)
                return JSONResponse({"detail": "payment declined"}, status_code=402)
            log.exception("charge failed", error_type=type(exc).__name__, upstream_status=status)
            return JSONResponse({"detail": "payment service failed"}, status_code=502)
        log.info("order placed", item=item, qty=qty, charge_id=response.json()["charge_id"])
        return {"status": "placed", "charge_id": response.json()["charge_id"]}

    @app.post("/charge")
    async def charge(body: dict[str, Any]) -> Any:
        qty = int(body["qty"])
        if qty == 13:
            try:
                raise TimeoutError("no answer within 2.0s")
            except TimeoutError as exc:
                raise AcquirerTimeout(f"acquirer timed out charging {body['item']}") from exc
        if qty > 50:
            log.warning("card declined", item=body["item"], qty=qty, customer=body["email"])
            return JSONResponse({"detail": "declined"}, status_code=402)
        charge_id = "ch_" + os.urandom(6).hex()
        log.info("charged", charge_id=charge_id, amount_cents=qty * 1250, customer=body["email"])
        return {"charge_id": charge_id}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--payments", help="base URL of the payments instance (for orders)")
    args = parser.parse_args()
    configure_logging(args.service, args.log)
    app = create_app(args.service, args.payments)
    # log_config=None: uvicorn's own loggers propagate to the JSON handler set up above.
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None)


if __name__ == "__main__":
    main()
