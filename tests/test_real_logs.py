"""Real logs from real software: logkit on what FastAPI, Caddy, node_exporter, bunyan and winston
write.

Each program runs for real on 127.0.0.1 (free ports, a bounded load, always stopped afterwards),
logs the way it does in production, and its logs are ingested into a store of their own. Then,
for every program:

* every line it wrote is an event, none is rejected, none lacks a timestamp;
* each event's level and timestamp are what its line said, checked line by line against the raw
  file parsed here (independently of logkit), and all fall inside the test's run window;
* the secrets its requests carried (a bearer token, a cookie, an email) were really written to
  the log, and are in no table of the store nor in the bytes of the DuckDB file after CHECKPOINT.
  The text dump is the decisive check: DuckDB compresses strings (FSST), and with masking
  switched off the byte scan of the shop's store finds neither the token nor the email while the
  dump finds both. The byte scan only adds what the tables don't show and DuckDB left plain.

And for each program the answers that matter for it: traces across the two FastAPI services,
Caddy's nested access-log fields, node_exporter's scrape, bunyan's numeric levels and `err`,
winston's `stack`.

Where a program's field names need configuration, the test configures them the documented way, in
the store's logkit.toml under `[aliases]`, as a user would. Where logkit itself should do better,
a strict xfail says what and why: it starts passing, and so failing, once logkit is fixed.

What the programs need beyond the venv comes from scripts/real-logs-deps.sh (Debian's caddy,
prometheus-node-exporter, node-bunyan and node-winston; nothing from npm, which these machines
cannot reach), run once per session when something is missing; the Python ones (fastapi, uvicorn,
structlog, httpx) from the `dev` extra. A missing one skips the tests that need it, saying which;
on CI (`$CI` set) it fails them, so CI can't pass by running nothing. About 20 s when everything is
installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import duckdb
import pytest

import logkit
from logkit.ingest import IngestSummary

from .helpers import query
from .metrics_fixtures import free_port, http_get, start_server

pytestmark = pytest.mark.xdist_group("real_logs")

REAL = Path(__file__).parent / "real"
REPO = REAL.parent.parent
# Where Debian installs Node.js modules (node-bunyan, node-winston).
NODE_MODULES = Path("/usr/share/nodejs")

# What the requests carry. Distinctive, so finding one anywhere in a store means it leaked.
TOKEN = "tok_5f0c1e9a2b7d48e3a6c1"
COOKIE = "c00kie5ecret9q7w"
SESSION = "s3ss10n8set4by2caddy"  # Caddy sends it back in a Set-Cookie response header
EMAIL = "jane.roe.7731@example.com"
EMAIL_IN_URL = "jane.roe.7731%40example.com"  # how clients put it in a query string

# Every spelling of a level these programs write, and what logkit should make of it.
LEVELS = {"debug": "DEBUG", "info": "INFO", "warn": "WARNING", "warning": "WARNING",
          "error": "ERROR", 30: "INFO", 40: "WARNING", 50: "ERROR", 60: "CRITICAL"}  # fmt: skip
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MASKED = "[MASKED:key]"


# -- what the programs need ----------------------------------------------------------------------


def unavailable(reason: str) -> NoReturn:
    """Skip; on CI fail instead: there the suite installs everything, so this is a bug."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the real-logs tests)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def real_deps() -> None:
    """Install what is missing, once per session; nothing to do when everything is there."""
    node = shutil.which("node") and all(
        (NODE_MODULES / library / "package.json").is_file() for library in ("bunyan", "winston")
    )
    if not (shutil.which("caddy") and shutil.which("prometheus-node-exporter") and node):
        subprocess.run(["bash", REPO / "scripts" / "real-logs-deps.sh"], check=False, timeout=900)


def need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        unavailable(f"{program} is not installed (scripts/real-logs-deps.sh installs it)")
    return path


def need_python(*modules: str) -> None:
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            unavailable(f"{module} is not installed (pip install -e '.[dev]')")


# -- one program's run, ingested -------------------------------------------------------------


@dataclass
class Run:
    """What one program wrote and what logkit made of it."""

    store: logkit.Store
    summary: IngestSummary
    logs: list[Path]
    started: float  # epoch seconds, before the program started
    finished: float  # after it stopped
    ts_key: str  # where its lines keep the time
    secrets: tuple[str, ...] = ()

    def records(self) -> Iterator[tuple[tuple[str, int], dict[str, Any]]]:
        """((source, line number), parsed line) for every line; floats read exactly."""
        for log in self.logs:
            with open(log, "rb") as fh:
                for number, line in enumerate(fh, 1):
                    yield (str(log), number), json.loads(line, parse_float=Decimal)

    def raw_text(self) -> str:
        return "".join(log.read_text(encoding="utf-8") for log in self.logs)

    def rows(self, columns: str, where: str = "true") -> dict[tuple[str, int], tuple[Any, ...]]:
        """(source, line) -> the event's `columns`, for the events matching `where`."""
        sql = f"SELECT source, line, {columns} FROM events WHERE {where}"
        return {(r[0], r[1]): r[2:] for r in query(self.store.path, sql)}


def ingest(directory: Path, logs: list[Path], *, config: str = "", **run: Any) -> Run:
    """Ingest `logs` into a new store in `directory`, with `config` as its logkit.toml."""
    (directory / "logkit.toml").write_text(config)
    store = logkit.open(directory / "logkit.duckdb", config_path=directory / "logkit.toml")
    return Run(store=store, summary=store.ingest([str(log) for log in logs]), logs=logs, **run)


def without_config(run: Run, directory: Path) -> Path:
    """The same logs in a new store with an empty logkit.toml: what logkit knows by itself."""
    again = ingest(directory, run.logs, started=run.started, finished=run.finished,
                   ts_key=run.ts_key)  # fmt: skip
    return again.store.path


def expected_ts(value: Any) -> int:
    """Microseconds since the epoch, for the forms these programs write: ISO 8601 text
    (structlog, node_exporter, bunyan, winston) and float epoch seconds (Caddy)."""
    if isinstance(value, str):
        return (datetime.fromisoformat(value) - EPOCH) // timedelta(microseconds=1)
    return round(value * 1_000_000)


def stored_text(db: Path) -> str:
    """Every row of every table in the store, as text."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return "\n".join(
            str(con.execute(f'SELECT CAST(COLUMNS(*) AS VARCHAR) FROM "{t}"').fetchall())
            for t in tables
        )
    finally:
        con.close()


def stored_bytes(db: Path) -> bytes:
    """The store's files as they lie on disk, once everything is checkpointed into the file."""
    con = duckdb.connect(str(db))
    con.execute("CHECKPOINT")
    con.close()
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")) if p.is_file())


def lines_in(path: Path) -> int:
    return path.read_bytes().count(b"\n")


# -- the programs ------------------------------------------------------------------------------

ORDERS = 200


def trace_id(i: int) -> str:
    return f"7ea1{i:028x}"


def order(i: int) -> tuple[dict[str, Any], dict[str, str], int]:
    """Query, headers and expected status of the i-th order: every 20th times out at the
    acquirer (502), every 20th is declined (402); every 2nd carries the bearer token, every 3rd
    the email; every 25th comes without a traceparent, so the orders service starts a trace."""
    qty = 13 if i % 20 == 7 else 99 if i % 20 == 11 else i % 5 + 1
    params: dict[str, Any] = {"item": f"sku-{i % 7}", "qty": qty}
    headers = {}
    if i % 3 == 0:
        params["email"] = EMAIL
    if i % 2 == 0:
        headers["Authorization"] = f"Bearer {TOKEN}"
    if i % 25:
        headers["traceparent"] = f"00-{trace_id(i)}-c11e{i:012x}-01"
    return params, headers, 502 if qty == 13 else 402 if qty == 99 else 200


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Two instances of tests/real/shop.py (orders → payments) under a load of ORDERS orders."""
    need_python("fastapi", "uvicorn", "structlog", "httpx")
    import httpx

    directory = tmp_path_factory.mktemp("shop")

    def log(name: str, port: int) -> Path:
        # One file per port: if start_server has to retry on another port, the failed
        # attempt's lines (a bind error) stay out of what is counted.
        return directory / f"{name}-{port}.log"

    def argv(name: str, *extra: str) -> Any:
        shop = [sys.executable, str(REAL / "shop.py"), "--service", name]
        return lambda port: [*shop, "--port", str(port), "--log", str(log(name, port)), *extra]

    started = time.time()
    payments = start_server("payments", argv("payments"), "/healthz", directory / "payments.out")
    try:
        orders = start_server(
            "orders", argv("orders", "--payments", payments.url), "/healthz", directory / "o.out"
        )
        try:
            with httpx.Client(base_url=orders.url, timeout=20) as client:

                def send(i: int) -> int:
                    params, headers, _ = order(i)
                    return client.get("/order", params=params, headers=headers).status_code

                with ThreadPoolExecutor(4) as pool:
                    statuses = list(pool.map(send, range(ORDERS)))
        finally:
            orders.stop()
    finally:
        payments.stop()
    assert [order(i)[2] for i in range(ORDERS)] == statuses
    return ingest(
        directory,
        [log("orders", orders.port), log("payments", payments.port)],
        started=started,
        finished=time.time(),
        ts_key="timestamp",
        secrets=(TOKEN, EMAIL),
    )


CADDY_PATHS = [("/", 200), ("/login", 200), ("/missing", 404), ("/broken", 503), ("/search", 200)]
CADDY_REQUESTS = CADDY_PATHS * 8
CADDY_CONFIG = """\
# Caddy logs `duration` in seconds; a bare duration is read as milliseconds otherwise.
[aliases]
duration_s = ["duration"]
"""


@pytest.fixture(scope="module")
def caddy(tmp_path_factory: pytest.TempPathFactory, real_deps: None) -> Run:
    """tests/real/Caddyfile: a proxy and the app behind it, each with a JSON access log, and
    Caddy's own log (stderr); requests carry the bearer token, a session cookie and the email."""
    need_python("httpx")
    import httpx

    exe = need("caddy")
    directory = tmp_path_factory.mktemp("caddy")
    home = directory / "home"  # Caddy keeps state under $HOME and XDG dirs: not the real ones

    def argv(port: int) -> list[str]:
        env = {"CADDY_PROXY_PORT": port, "CADDY_APP_PORT": free_port(), "CADDY_LOG_DIR": directory,
               "CADDY_DATA": home / "data", "CADDY_SESSION": SESSION, "HOME": home,
               "XDG_CONFIG_HOME": home / "config", "XDG_DATA_HOME": home / "share"}  # fmt: skip
        caddyfile = str(REAL / "Caddyfile")
        variables = [f"{name}={value}" for name, value in env.items()]
        return ["env", *variables, exe, "run", "--config", caddyfile, "--adapter", "caddyfile"]

    started = time.time()
    server = start_server("caddy", argv, "/", directory / "caddy.log")
    try:
        headers = {"Authorization": f"Bearer {TOKEN}", "Cookie": f"session={COOKIE}; theme=dark"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=20) as client:
            search = {"q": "tea", "email": EMAIL}
            statuses = [
                client.get(path, params=search if path == "/search" else {}).status_code
                for path, _ in CADDY_REQUESTS
            ]
    finally:
        server.stop()
    assert [status for _, status in CADDY_REQUESTS] == statuses
    logs = [directory / "proxy-access.log", directory / "app-access.log", server.log]
    return ingest(
        directory,
        logs,
        config=CADDY_CONFIG,
        started=started,
        finished=time.time(),
        ts_key="ts",
        secrets=(TOKEN, COOKIE, SESSION),
    )


NODE_EXPORTER_CONFIG = """\
# node_exporter (like most Go programs) names durations in seconds `*_seconds`.
[aliases]
duration_s = ["duration_seconds"]
"""


@pytest.fixture(scope="module")
def node_exporter(tmp_path_factory: pytest.TempPathFactory, real_deps: None) -> Run:
    """prometheus-node-exporter with its default collectors, logging JSON at debug level to
    stderr, scraped once, then stopped."""
    exe = need("prometheus-node-exporter")
    directory = tmp_path_factory.mktemp("node_exporter")
    started = time.time()
    server = start_server(
        "prometheus-node-exporter",
        lambda port: [
            exe,
            "--log.format=json",
            "--log.level=debug",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        "/",
        directory / "node_exporter.log",
    )
    try:
        assert "node_cpu_seconds_total" in http_get(server.url + "/metrics")
    finally:
        server.stop()
    return ingest(
        directory,
        [server.log],
        config=NODE_EXPORTER_CONFIG,
        started=started,
        finished=time.time(),
        ts_key="ts",
    )


def node(library: str, ts_key: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """tests/real/node/app.js: a Node HTTP server logging its requests with `library`, as
    Debian packages it (node-bunyan, node-winston)."""
    exe = need("node")
    if not (NODE_MODULES / library / "package.json").is_file():
        unavailable(f"node-{library} is not installed (scripts/real-logs-deps.sh installs it)")
    directory = tmp_path_factory.mktemp(library)
    log = directory / f"{library}.log"
    started = time.time()
    # Debian's node finds its packages' modules by itself, a node from elsewhere does not.
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    subprocess.run(
        [exe, str(REAL / "node" / "app.js"), library, str(log), TOKEN, COOKIE, EMAIL],
        check=True,
        timeout=60,
        capture_output=True,
        env=env,
    )
    return ingest(
        directory,
        [log],
        started=started,
        finished=time.time(),
        ts_key=ts_key,
        secrets=(TOKEN, COOKIE, EMAIL),
    )


@pytest.fixture(scope="module")
def bunyan(tmp_path_factory: pytest.TempPathFactory, real_deps: None) -> Run:
    return node("bunyan", "time", tmp_path_factory)


@pytest.fixture(scope="module")
def winston(tmp_path_factory: pytest.TempPathFactory, real_deps: None) -> Run:
    return node("winston", "timestamp", tmp_path_factory)


PROGRAMS = ["shop", "caddy", "node_exporter", "bunyan", "winston"]
WITH_SECRETS = ["shop", "caddy", "bunyan", "winston"]


# -- what holds for every program --------------------------------------------------------------


@pytest.mark.parametrize("program", PROGRAMS)
class TestEveryProgram:
    def test_every_line_is_an_event_and_none_is_rejected(self, program, request):
        """Well-formed logs: as many events as lines written, no reject, every one timed."""
        run: Run = request.getfixturevalue(program)
        written = sum(lines_in(log) for log in run.logs)
        summary = run.summary
        assert written == summary.lines
        assert (written, 0, 0) == (summary.events, summary.rejects, summary.no_ts)
        assert [(written, 0)] == query(
            run.store.path, "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM rejects)"
        )

    def test_each_level_is_the_one_its_line_gave(self, program, request):
        """Words and bunyan's numbers alike become DEBUG/INFO/WARNING/ERROR; none is lost."""
        run: Run = request.getfixturevalue(program)
        expected = {key: (LEVELS[record["level"]],) for key, record in run.records()}
        assert expected == run.rows("level")

    def test_each_timestamp_is_the_one_its_line_gave(self, program, request):
        """ISO text, epoch ms and float epoch seconds all land on the right microsecond."""
        run: Run = request.getfixturevalue(program)
        stored = run.rows("epoch_us(ts)")
        # Float seconds (Caddy) are exact here but go through a binary float in logkit.
        wrong = [
            (key, expected_ts(record[run.ts_key]), stored[key][0])
            for key, record in run.records()
            if abs(expected_ts(record[run.ts_key]) - stored[key][0]) > 1
        ]
        assert [] == wrong

    def test_timestamps_fall_inside_the_run(self, program, request):
        """Read in UTC whatever the zone: nothing before the program started or after it
        stopped (give or take a second of clock resolution)."""
        run: Run = request.getfixturevalue(program)
        sql = "SELECT min(epoch_us(ts)), max(epoch_us(ts)) FROM events"
        [(first, last)] = query(run.store.path, sql)
        assert run.started - 1 <= first / 1e6 <= last / 1e6 <= run.finished + 1


@pytest.mark.parametrize("program", WITH_SECRETS)
def test_secrets_are_in_no_table_and_not_in_the_file(program, request):
    """The token, cookies and email the program logged are stored nowhere, in any table or
    in the bytes of the checkpointed DuckDB file."""
    run: Run = request.getfixturevalue(program)
    raw = run.raw_text()
    assert [] == [s for s in run.secrets if s not in raw], "the program did not log them"
    text, data = stored_text(run.store.path), stored_bytes(run.store.path)
    assert [] == [s for s in run.secrets if s in text or s.encode() in data]


@pytest.mark.parametrize("program", ["shop", "caddy"])
def test_an_email_percent_encoded_in_a_url_is_masked_too(program, request):
    """`?email=jane.roe.7731%40example.com` is the same personal data as the decoded form."""
    run: Run = request.getfixturevalue(program)
    assert EMAIL_IN_URL in run.raw_text()
    assert EMAIL_IN_URL not in stored_text(run.store.path)


# -- FastAPI + structlog: traces across two services -------------------------------------------


class TestShop:
    def test_each_order_is_one_trace_across_both_services(self, shop):
        """Every order's trace has events from orders and from payments, including the
        traces the orders service started itself."""
        frame = shop.store.sql(
            "SELECT trace_id, list(DISTINCT service ORDER BY service) AS services FROM events"
            " WHERE trace_id IN (SELECT trace_id FROM events WHERE message = 'order received')"
            " GROUP BY trace_id"
        )
        assert ORDERS == frame.height
        assert {("orders", "payments")} == {tuple(s) for s in frame["services"]}
        sent = {trace_id(i) for i in range(ORDERS) if i % 25}
        assert sent <= set(frame["trace_id"])

    def test_a_trace_tells_one_order_in_order(self, shop):
        """store.trace() interleaves the two services' lines by time, as the order happened."""
        frame = shop.store.trace(trace_id(1)).filter(logger="shop")
        assert [
            ("orders", "order received"),
            ("payments", "charged"),
            ("payments", "request finished"),
            ("orders", "order placed"),
            ("orders", "request finished"),
        ] == frame.select("service", "message").rows()
        assert Counter({"orders": 5, "payments": 3}) == Counter(
            shop.store.trace(trace_id(1))["service"]
        )

    def test_a_failed_charge_leads_from_the_payments_error_to_the_502(self, shop):
        """The trace's summary: an error, two services, first seen in payments; then the
        payments error, the orders error it caused, and the status each service answered."""
        summary = shop.store.trace_summary(trace_id(7))
        assert ("error", 2) == (summary["outcome"], summary["services"])
        first = summary["first_error"]
        assert ("payments", "ERROR", "request failed") == (
            first["service"],
            first["level"],
            first["message"],
        )
        frame = shop.store.trace(trace_id(7))
        errors = frame.filter(level="ERROR")
        assert [("payments", "request failed"), ("orders", "charge failed")] == errors.select(
            "service", "message"
        ).rows()
        assert "HTTPStatusError" == errors["error_type"][-1]
        answers = frame.drop_nulls("status_code").select("service", "message", "status_code")
        assert [
            ("payments", "request failed", 500),
            ("orders", "request finished", 502),
        ] == answers.rows()

    def test_errors_keep_their_stack_trace(self, shop):
        """structlog's dict_tracebacks survive in attrs: the frames, the cause chain."""
        attrs = dict(
            query(
                shop.store.path,
                "SELECT service, attrs FROM events WHERE trace_id = ? AND level = 'ERROR'",
                [trace_id(7)],
            )
        )
        orders, payments = (json.loads(attrs[s])["exception"] for s in ("orders", "payments"))
        assert "order" in [frame["name"] for frame in orders[0]["frames"]]
        assert ["AcquirerTimeout", "TimeoutError"] == [e["exc_type"] for e in payments]

    def test_errors_by_type_count_the_failed_charges(self, shop):
        """One failed charge in 20 orders: 10 HTTPStatusErrors in orders."""
        frame = shop.store.errors(by="type", service="orders")
        assert [("HTTPStatusError", 10)] == frame.select("error_type", "count").rows()

    def test_stats_count_every_line_and_error_per_service(self, shop):
        """Per service: its file's lines, its 10 errors, and its requests' durations."""
        frame = shop.store.stats(by="service").sort("service")
        lines = [lines_in(log) for log in shop.logs]
        assert [("orders", lines[0], 10), ("payments", lines[1], 10)] == frame.select(
            "service", "events", "errors"
        ).rows()
        assert all(0 < p50 < 10_000 for p50 in frame["p50_ms"])

    def test_an_exception_logged_by_structlog_gives_its_error_type(self, shop):
        """payments logs `log.exception(...)` without an error_type field of its own."""
        frame = shop.store.errors(by="type", service="payments")
        assert [("AcquirerTimeout", 10)] == frame.select("error_type", "count").rows()


# -- Caddy: nested access logs ------------------------------------------------------------------


class TestCaddy:
    def test_access_log_fields_fill_the_columns(self, caddy):
        """request.method, request.uri (without its query), status, and duration in seconds
        (the configured alias) become columns; 4xx and 5xx are errors, as Caddy says."""
        expected = {}
        for key, record in caddy.records():
            if record.get("msg") == "handled request":
                request = record["request"]
                expected[key] = (
                    request["method"],
                    request["uri"].split("?")[0],
                    record["status"],
                    float(record["duration"] * 1000),
                    "ERROR" if record["status"] >= 400 else "INFO",
                )
        assert len(expected) >= 2 * len(CADDY_REQUESTS)  # and the readiness check's
        actual = caddy.rows(
            "http_method, path, status_code, duration_ms, level", "message = 'handled request'"
        )
        assert expected == {k: (*v[:3], pytest.approx(v[3]), v[4]) for k, v in actual.items()}

    def test_credentials_in_headers_are_masked_whole(self, caddy):
        """Authorization, Cookie and Set-Cookie keep their place in the nested headers, each
        value list replaced by one placeholder."""
        rows = query(
            caddy.store.path,
            "SELECT attrs->'$.request.headers' AS h, attrs->'$.resp_headers' AS r FROM events"
            " WHERE message = 'handled request' AND path = '/login'",
        )
        assert 16 == len(rows)
        for request_headers, response_headers in rows:
            sent, received = json.loads(request_headers), json.loads(response_headers)
            assert (MASKED, MASKED, MASKED) == (
                sent["Authorization"],
                sent["Cookie"],
                received["Set-Cookie"],
            )

    def test_errors_by_endpoint_name_the_failing_routes(self, caddy):
        """/missing and /broken, each requested 8 times and logged by proxy and app."""
        frame = caddy.store.errors(by="endpoint")
        assert {("GET /missing", 16), ("GET /broken", 16)} == set(
            frame.select("endpoint", "count").rows()
        )


# -- node_exporter -----------------------------------------------------------------------------


class TestNodeExporter:
    def test_the_scrape_is_timed_collector_by_collector(self, node_exporter):
        """At debug level each collector reports on the scrape with its duration in seconds,
        which the configured alias turns into milliseconds."""
        expected = {
            key: pytest.approx(float(record["duration_seconds"] * 1000))
            for key, record in node_exporter.records()
            if "duration_seconds" in record
        }
        assert len(expected) >= 10
        actual = node_exporter.rows("duration_ms", "duration_ms IS NOT NULL")
        assert expected == {key: duration for key, (duration,) in actual.items()}

    def test_go_kit_fields_stay_in_attrs(self, node_exporter):
        """`caller` has no column: it is kept, as is every field logkit has no column for."""
        [(without_caller,)] = query(
            node_exporter.store.path,
            "SELECT count(*) FROM events WHERE attrs->>'$.caller' IS NULL",
        )
        assert 0 == without_caller

    def test_durations_in_seconds_need_no_configuration(self, node_exporter, tmp_path):
        """The same log in a store without [aliases]."""
        [(timed,)] = query(
            without_config(node_exporter, tmp_path), "SELECT count(duration_ms) FROM events"
        )
        assert timed >= 10


# -- Node.js: bunyan and winston ---------------------------------------------------------------

# What tests/real/node/app.js logs of its five requests: (req_id, method, path, status).
NODE_REQUESTS = [
    ("req-1", "GET", "/items", 200),
    ("req-2", "GET", "/items", 200),
    ("req-3", "GET", "/missing", 404),
    ("req-4", "GET", "/fail", 500),
    ("req-5", "GET", "/items/42", 200),
]


def completed_requests(run: Run) -> list[tuple[Any, ...]]:
    """Each 'request completed' event's request columns, and whether its duration is the
    line's `latency` (milliseconds, as restify's audit logger writes it)."""
    latency = {key: record["latency"] for key, record in run.records() if "latency" in record}
    rows = run.rows(
        "request_id, http_method, path, status_code, duration_ms",
        "message = 'request completed'",
    )
    return [
        (*row[:4], row[4] == pytest.approx(float(latency[key])))
        for key, row in sorted(rows.items())
    ]


class TestBunyan:
    def test_numeric_levels_become_words(self, bunyan):
        """30, 40 and 50 are INFO, WARNING and ERROR; the number stays in attrs."""
        assert {(30, "INFO"), (40, "WARNING"), (50, "ERROR")} == set(
            query(bunyan.store.path, "SELECT CAST(attrs->>'$.level' AS INT), level FROM events")
        )

    def test_request_fields_fill_the_columns(self, bunyan):
        """req_id, the `req` and `res` serializers' method, url and statusCode, and latency in
        ms: no configuration needed."""
        assert [(*r, True) for r in NODE_REQUESTS] == completed_requests(bunyan)

    def test_an_error_keeps_its_stack(self, bunyan):
        """bunyan's `err` serializer: the message is the call's, err.stack stays in attrs."""
        frame = bunyan.store.sql(
            "SELECT request_id, message, attrs->>'$.err.stack' AS stack FROM events"
            " WHERE level = 'ERROR'"
        )
        [(request_id, message, stack)] = frame.rows()
        assert ("req-4", "request failed") == (request_id, message)
        assert stack.startswith("TypeError: price is not a number")

    def test_err_name_is_the_error_type(self, bunyan):
        assert [("req-4", "TypeError")] == query(
            bunyan.store.path, "SELECT request_id, error_type FROM events WHERE level = 'ERROR'"
        )

    def test_name_is_the_service(self, bunyan):
        assert [("node-shop",)] == query(bunyan.store.path, "SELECT DISTINCT service FROM events")


class TestWinston:
    def test_service_and_request_fields_fill_the_columns(self, winston):
        """defaultMeta's service, and the request fields the app logs, with no configuration."""
        assert [("node-shop",)] == query(winston.store.path, "SELECT DISTINCT service FROM events")
        assert [(*r, True) for r in NODE_REQUESTS] == completed_requests(winston)

    def test_an_error_keeps_its_message_and_stack(self, winston):
        """format.errors({stack: true}): the error's message is the record's, its stack is
        kept in attrs."""
        frame = winston.store.sql(
            "SELECT request_id, message, attrs->>'$.stack' AS stack FROM events"
            " WHERE level = 'ERROR'"
        )
        [(request_id, message, stack)] = frame.rows()
        assert ("req-4", "price is not a number: undefined") == (request_id, message)
        assert stack.startswith("TypeError: price is not a number")

    def test_the_error_type_is_read_from_the_stack(self, winston):
        assert [("TypeError",)] == query(
            winston.store.path, "SELECT error_type FROM events WHERE level = 'ERROR'"
        )
