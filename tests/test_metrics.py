"""Metrics export: definitions, the exposition, label guards, counters that never go backwards,
retention, the atomic textfile and overlapping runs.

Every store is a real DuckDB file under tmp_path, filled by a real ingest; promtool is the real
one (the test that needs it is skipped, saying so, when it is not installed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

import logkit
from logkit.errors import LogkitError, QueryError, StoreLocked
from logkit.export.definitions import DEFAULT_BUCKETS, load_definitions, parse_definition
from logkit.export.textfile import write_textfile

from .metrics_fixtures import (
    FIXTURE,
    NEWEST_TS,
    binary,
    isolate,
    needs,
    open_store,
    parse,
    request,
    stable,
    write_log,
)

LOGKIT = [sys.executable, "-m", "logkit"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test in its own directory, with no logkit settings from the environment."""
    isolate(tmp_path, monkeypatch)


@pytest.fixture
def fixture_store(tmp_path: Path) -> logkit.Store:
    write_log(Path("app.log"), FIXTURE)
    return open_store(tmp_path / "store")


def run_logkit(*args: str, db: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOGKIT, "--db", str(db), *args], capture_output=True, text=True, timeout=timeout
    )


EXPECTED_EXPOSITION = """\
# HELP logkit_cache_requests_total Cache lookups, by service and result (hit or miss).
# TYPE logkit_cache_requests_total counter
logkit_cache_requests_total{result="hit",service="api"} 1.0
logkit_cache_requests_total{result="miss",service="api"} 1.0
# HELP logkit_errors_total Events at level ERROR or CRITICAL, by service and error type.
# TYPE logkit_errors_total counter
logkit_errors_total{error_type="TimeoutError",service="api"} 1.0
logkit_errors_total{error_type="RateLimitError",service="llm-gateway"} 1.0
logkit_errors_total{error_type="DatabaseError",service="worker"} 1.0
# HELP logkit_http_request_duration_seconds HTTP request duration in seconds, by service and path.
# TYPE logkit_http_request_duration_seconds histogram
logkit_http_request_duration_seconds_bucket{le="0.005",path="/v1/jobs/:id",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="0.01",path="/v1/jobs/:id",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="0.025",path="/v1/jobs/:id",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="0.05",path="/v1/jobs/:id",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="0.1",path="/v1/jobs/:id",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="0.25",path="/v1/jobs/:id",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="0.5",path="/v1/jobs/:id",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="1.0",path="/v1/jobs/:id",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="2.5",path="/v1/jobs/:id",service="api"} 1.0
logkit_http_request_duration_seconds_bucket{le="5.0",path="/v1/jobs/:id",service="api"} 1.0
logkit_http_request_duration_seconds_bucket{le="10.0",path="/v1/jobs/:id",service="api"} 1.0
logkit_http_request_duration_seconds_bucket{le="+Inf",path="/v1/jobs/:id",service="api"} 1.0
logkit_http_request_duration_seconds_count{path="/v1/jobs/:id",service="api"} 1.0
logkit_http_request_duration_seconds_sum{path="/v1/jobs/:id",service="api"} 1.2
logkit_http_request_duration_seconds_bucket{le="0.005",path="/v1/users/:id/items",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="0.01",path="/v1/users/:id/items",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="0.025",path="/v1/users/:id/items",service="api"} 0.0
logkit_http_request_duration_seconds_bucket{le="0.05",path="/v1/users/:id/items",service="api"} 1.0
logkit_http_request_duration_seconds_bucket{le="0.1",path="/v1/users/:id/items",service="api"} 1.0
logkit_http_request_duration_seconds_bucket{le="0.25",path="/v1/users/:id/items",service="api"} 2.0
logkit_http_request_duration_seconds_bucket{le="0.5",path="/v1/users/:id/items",service="api"} 2.0
logkit_http_request_duration_seconds_bucket{le="1.0",path="/v1/users/:id/items",service="api"} 2.0
logkit_http_request_duration_seconds_bucket{le="2.5",path="/v1/users/:id/items",service="api"} 2.0
logkit_http_request_duration_seconds_bucket{le="5.0",path="/v1/users/:id/items",service="api"} 2.0
logkit_http_request_duration_seconds_bucket{le="10.0",path="/v1/users/:id/items",service="api"} 2.0
logkit_http_request_duration_seconds_bucket{le="+Inf",path="/v1/users/:id/items",service="api"} 2.0
logkit_http_request_duration_seconds_count{path="/v1/users/:id/items",service="api"} 2.0
logkit_http_request_duration_seconds_sum{path="/v1/users/:id/items",service="api"} 0.2225
# HELP logkit_http_requests_total HTTP requests, by service, path template and status code.
# TYPE logkit_http_requests_total counter
logkit_http_requests_total{path="/v1/jobs/:id",service="api",status_code="503"} 1.0
logkit_http_requests_total{path="/v1/users/:id/items",service="api",status_code="200"} 2.0
# HELP logkit_ingest_format_columns_total Events that got a key column, by log format and column.
# TYPE logkit_ingest_format_columns_total counter
logkit_ingest_format_columns_total{column="level",format="generic"} 10.0
logkit_ingest_format_columns_total{column="message",format="generic"} 10.0
logkit_ingest_format_columns_total{column="service",format="generic"} 10.0
logkit_ingest_format_columns_total{column="trace_id",format="generic"} 0.0
logkit_ingest_format_columns_total{column="ts",format="generic"} 10.0
# HELP logkit_ingest_format_events_total Events stored, by the log format recognised.
# TYPE logkit_ingest_format_events_total counter
logkit_ingest_format_events_total{format="generic"} 10.0
# HELP logkit_ingest_lines_total Lines read by logkit ingest, stored or rejected.
# TYPE logkit_ingest_lines_total counter
logkit_ingest_lines_total 11.0
# HELP logkit_ingest_rejected_lines_total Lines rejected (quarantined, not stored), by reason.
# TYPE logkit_ingest_rejected_lines_total counter
logkit_ingest_rejected_lines_total{reason="not_json"} 1.0
# HELP logkit_job_duration_seconds Duration of finished background jobs in seconds, by job type.
# TYPE logkit_job_duration_seconds histogram
logkit_job_duration_seconds_bucket{job_type="render",le="0.1"} 0.0
logkit_job_duration_seconds_bucket{job_type="render",le="0.5"} 0.0
logkit_job_duration_seconds_bucket{job_type="render",le="1.0"} 0.0
logkit_job_duration_seconds_bucket{job_type="render",le="5.0"} 1.0
logkit_job_duration_seconds_bucket{job_type="render",le="15.0"} 2.0
logkit_job_duration_seconds_bucket{job_type="render",le="30.0"} 2.0
logkit_job_duration_seconds_bucket{job_type="render",le="60.0"} 2.0
logkit_job_duration_seconds_bucket{job_type="render",le="120.0"} 2.0
logkit_job_duration_seconds_bucket{job_type="render",le="300.0"} 2.0
logkit_job_duration_seconds_bucket{job_type="render",le="600.0"} 2.0
logkit_job_duration_seconds_bucket{job_type="render",le="1800.0"} 2.0
logkit_job_duration_seconds_bucket{job_type="render",le="3600.0"} 2.0
logkit_job_duration_seconds_bucket{job_type="render",le="+Inf"} 2.0
logkit_job_duration_seconds_count{job_type="render"} 2.0
logkit_job_duration_seconds_sum{job_type="render"} 15.7
# HELP logkit_jobs_total Finished background jobs, by job type and outcome (success or failure).
# TYPE logkit_jobs_total counter
logkit_jobs_total{job_type="render",outcome="failure"} 1.0
logkit_jobs_total{job_type="render",outcome="success"} 1.0
# HELP logkit_last_run_duration_seconds How long the last logkit run took, in seconds.
# TYPE logkit_last_run_duration_seconds gauge
logkit_last_run_duration_seconds <varies>
# HELP logkit_last_run_success 1 if the last logkit run read every input, else 0.
# TYPE logkit_last_run_success gauge
logkit_last_run_success 1.0
# HELP logkit_last_run_timestamp_seconds When the last logkit run finished, in Unix time.
# TYPE logkit_last_run_timestamp_seconds gauge
logkit_last_run_timestamp_seconds <varies>
# HELP logkit_llm_calls_total LLM calls (events with a model and tokens or an error), by model.
# TYPE logkit_llm_calls_total counter
logkit_llm_calls_total{model="gpt-4o"} 2.0
# HELP logkit_llm_cost_usd_total LLM cost in US dollars, by model.
# TYPE logkit_llm_cost_usd_total counter
logkit_llm_cost_usd_total{model="gpt-4o"} 0.0015
# HELP logkit_llm_tokens_total LLM tokens, by model and direction (input or output).
# TYPE logkit_llm_tokens_total counter
logkit_llm_tokens_total{direction="input",model="gpt-4o"} 100.0
logkit_llm_tokens_total{direction="output",model="gpt-4o"} 50.0
# HELP logkit_log_events_total Log events stored, by service and level.
# TYPE logkit_log_events_total counter
logkit_log_events_total{level="DEBUG",service="api"} 2.0
logkit_log_events_total{level="ERROR",service="api"} 1.0
logkit_log_events_total{level="INFO",service="api"} 3.0
logkit_log_events_total{level="ERROR",service="llm-gateway"} 1.0
logkit_log_events_total{level="INFO",service="llm-gateway"} 1.0
logkit_log_events_total{level="ERROR",service="worker"} 1.0
logkit_log_events_total{level="INFO",service="worker"} 1.0
# HELP logkit_masked_values_total Values masked before storage, by detector.
# TYPE logkit_masked_values_total counter
logkit_masked_values_total{detector="email"} 1.0
# HELP logkit_series_dropped_total Label sets folded into __other__ by the series limit, by metric.
# TYPE logkit_series_dropped_total counter
logkit_series_dropped_total{metric="logkit_cache_requests_total"} 0.0
logkit_series_dropped_total{metric="logkit_errors_total"} 0.0
logkit_series_dropped_total{metric="logkit_http_request_duration_seconds"} 0.0
logkit_series_dropped_total{metric="logkit_http_requests_total"} 0.0
logkit_series_dropped_total{metric="logkit_ingest_format_columns_total"} 0.0
logkit_series_dropped_total{metric="logkit_ingest_format_events_total"} 0.0
logkit_series_dropped_total{metric="logkit_ingest_rejected_lines_total"} 0.0
logkit_series_dropped_total{metric="logkit_job_duration_seconds"} 0.0
logkit_series_dropped_total{metric="logkit_jobs_total"} 0.0
logkit_series_dropped_total{metric="logkit_llm_calls_total"} 0.0
logkit_series_dropped_total{metric="logkit_llm_cost_usd_total"} 0.0
logkit_series_dropped_total{metric="logkit_llm_tokens_total"} 0.0
logkit_series_dropped_total{metric="logkit_log_events_total"} 0.0
logkit_series_dropped_total{metric="logkit_masked_values_total"} 0.0
logkit_series_dropped_total{metric="logkit_source_lag_seconds"} 0.0
# HELP logkit_source_lag_seconds Seconds from the newest event of each source to now, by path.
# TYPE logkit_source_lag_seconds gauge
logkit_source_lag_seconds{source="app.log"} 90.5
# HELP logkit_store_events Events in the store now (pruning lowers it, unlike the counters).
# TYPE logkit_store_events gauge
logkit_store_events 10.0
# HELP logkit_store_size_bytes Size of the store file and its write-ahead log.
# TYPE logkit_store_size_bytes gauge
logkit_store_size_bytes <varies>
"""


class TestExposition:
    def test_fixture_store_exports_exactly_this_text(self, fixture_store: logkit.Store) -> None:
        """Names, help, labels, values and order, for a store holding one of everything."""
        result = fixture_store.export(ingest=["app.log"], now=NEWEST_TS + 90.5)
        assert EXPECTED_EXPOSITION == stable(result.text)

    @needs("promtool")
    def test_exposition_passes_promtool_check_metrics(self, fixture_store: logkit.Store) -> None:
        """promtool's linter finds nothing to complain about."""
        promtool = str(binary("promtool"))
        text = fixture_store.export(ingest=["app.log"]).text
        proc = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, text=True
        )
        assert (0, "") == (proc.returncode, proc.stdout + proc.stderr)

    def test_no_sample_carries_a_timestamp(self, fixture_store: logkit.Store) -> None:
        """node_exporter drops a textfile with timestamps, so every sample is `name value`."""
        text = fixture_store.export(ingest=["app.log"]).text
        samples = [line for line in text.splitlines() if line and not line.startswith("#")]

        def fields_after_name(line: str) -> list[str]:
            return (line.rpartition("}")[2] if "}" in line else line.partition(" ")[2]).split()

        assert [] == [line for line in samples if len(fields_after_name(line)) != 1]


class TestDefinitions:
    def test_header_gives_name_type_help_labels_and_query(self) -> None:
        """The comment header describes the metric; the rest of the file is its query."""
        definition = parse_definition(
            "-- name: app_logins_total\n"
            "-- type: counter\n"
            "-- help: Logins, by service.\n"
            "-- labels: service\n"
            "-- Prose comments are allowed.\n"
            "SELECT service, count(*) AS value FROM events GROUP BY ALL;\n"
        )
        assert (
            "app_logins_total", "counter", "Logins, by service.", ("service",),
            "SELECT service, count(*) AS value FROM events GROUP BY ALL", False,
        ) == (
            definition.name, definition.type, definition.help, definition.labels,
            definition.sql, definition.fresh,
        )  # fmt: skip

    def test_histogram_has_default_buckets_unless_it_names_its_own(self) -> None:
        """`buckets:` overrides the latency buckets every Prometheus client library uses."""
        base = "-- name: x_seconds\n-- type: histogram\n-- help: X.\n"
        default = parse_definition(base + "SELECT 1 AS value")
        custom = parse_definition(base + "-- buckets: 1, 10, 100\nSELECT 1 AS value")
        assert (DEFAULT_BUCKETS, (1.0, 10.0, 100.0)) == (default.buckets, custom.buckets)

    @pytest.mark.parametrize(
        ("header", "message"),
        [
            ("-- name: x\n-- type: counter\n-- help: X.\n",
             "x.sql: a counter's name ends in _total: x_total"),
            ("-- name: x_total\n-- type: counter\n-- help: X.\n-- label: service\n",
             "x.sql: unknown header 'label' (expected name, type, help, labels, buckets, fresh)"),
            ("-- name: x_total\n-- type: counter\n-- help: X.\n-- labels: user_id\n",
             "x.sql: label 'user_id' is not allowed: labels must have few values and never"
             " carry ids (allowed: column, detector, direction, error_type, format, http_method,"
             " job_type, level, model, outcome, path, reason, result, service, source,"
             " status_code)"),
            ("-- name: x_seconds\n-- type: histogram\n-- help: X.\n-- buckets: 5, 1\n",
             "x.sql: buckets must increase"),
            ("-- name: x_total\n-- type: summary\n-- help: X.\n",
             "x.sql: type 'summary' is not one of counter, gauge, histogram"),
            ("-- name: x_total\n-- type: counter\n", "x.sql: missing '-- help:' header"),
        ],
    )  # fmt: skip
    def test_a_bad_definition_is_refused_with_the_fix(self, header: str, message: str) -> None:
        """Errors name the file and say what is wrong."""
        with pytest.raises(QueryError) as info:
            parse_definition(header + "SELECT 1 AS value", origin="x.sql")
        assert message == str(info.value)

    def test_builtin_definitions_are_the_documented_metrics(self) -> None:
        """Every file in queries/metrics/ loads, and they are the metrics the README lists."""
        names = [d.name for d in load_definitions()]
        assert [
            "logkit_cache_requests_total",
            "logkit_errors_total",
            "logkit_http_request_duration_seconds",
            "logkit_http_requests_total",
            "logkit_ingest_format_columns_total",
            "logkit_ingest_format_events_total",
            "logkit_ingest_lines_total",
            "logkit_ingest_rejected_lines_total",
            "logkit_job_duration_seconds",
            "logkit_jobs_total",
            "logkit_last_run_duration_seconds",
            "logkit_last_run_success",
            "logkit_last_run_timestamp_seconds",
            "logkit_llm_calls_total",
            "logkit_llm_cost_usd_total",
            "logkit_llm_tokens_total",
            "logkit_log_events_total",
            "logkit_masked_values_total",
            "logkit_source_lag_seconds",
            "logkit_store_events",
        ] == names

    def test_a_user_adds_a_metric_by_adding_a_file(self, fixture_store: logkit.Store) -> None:
        """A directory of extra definitions: no Python needed."""
        extra = Path("my_metrics")
        extra.mkdir()
        (extra / "slow.sql").write_text(
            "-- name: app_slow_requests_total\n-- type: counter\n"
            "-- help: Requests slower than a second.\n-- labels: service\n"
            "SELECT service, count(*) AS value FROM events WHERE duration_ms > 1000 GROUP BY ALL\n"
        )
        samples = parse(fixture_store.export(ingest=["app.log"], definitions=extra).text)
        assert 1.0 == samples['app_slow_requests_total{service="api"}']

    def test_a_definition_whose_query_fails_names_its_file(
        self, fixture_store: logkit.Store
    ) -> None:
        """A typo in a user's SQL is reported against that file."""
        extra = Path("my_metrics")
        extra.mkdir()
        (extra / "typo.sql").write_text(
            "-- name: app_typo_total\n-- type: counter\n-- help: Typo.\n"
            "SELECT count(*) AS valu FROM events\n"
        )
        with pytest.raises(QueryError, match=r"^metric definition my_metrics/typo.sql: "):
            fixture_store.export(ingest=["app.log"], definitions=extra)


class TestLabels:
    def test_path_label_is_the_path_template(self, tmp_path: Path) -> None:
        """Numbers, UUIDs, hex ids, long tokens and masked values become `:id`; words stay."""
        paths = [
            "/v1/users/12345/items",
            "/v1/jobs/550e8400-e29b-41d4-a716-446655440000",
            "/v1/assets/ast_0a1b2c3d4e/render",
            "/v1/blobs/9f86d081884c7d65",
            "/v2/oauth2/callback",
            "/v1/users/[MASKED:email]/profile",
            "/healthz",
        ]
        write_log(Path("a.log"), [request(i, path=p) for i, p in enumerate(paths)])
        samples = parse(open_store(tmp_path / "s").export(ingest=["a.log"]).text)
        found = sorted(
            key.split('path="')[1].split('"')[0]
            for key in samples
            if key.startswith("logkit_http_requests_total{")
        )
        assert [
            "/healthz",
            "/v1/assets/:id/render",
            "/v1/blobs/:id",
            "/v1/jobs/:id",
            "/v1/users/:id/items",
            "/v1/users/:id/profile",
            "/v2/oauth2/callback",
        ] == found

    def test_masked_values_and_pseudonyms_never_become_labels(self, tmp_path: Path) -> None:
        """A label set holding `[MASKED:...]` or `detector:<12 hex>` folds into __other__."""
        records = [
            {**request(0), "service": "api"},
            {**request(1), "service": "[MASKED:email]"},
            {**request(2), "service": "email:9f2c41d0b7e3"},
        ]
        write_log(Path("a.log"), records)
        text = open_store(tmp_path / "s").export(ingest=["a.log"]).text
        samples = parse(text)
        assert ("MASKED" not in text.replace("logkit_masked_values_total", ""), 2.0, 1.0) == (
            "9f2c41d0b7e3" not in text and "MASKED" not in text.split("# HELP logkit_masked")[0],
            samples['logkit_log_events_total{level="__other__",service="__other__"}'],
            samples['logkit_log_events_total{level="INFO",service="api"}'],
        )

    def test_cardinality_guard_folds_extra_series_into_other(self, tmp_path: Path) -> None:
        """Beyond max_series label sets, the rest add up in one __other__ series, counted."""
        store = open_store(tmp_path / "s", config="[metrics]\nmax_series = 3\n")
        records = [request(i, service=f"svc{i % 5}") for i in range(10)]
        write_log(Path("a.log"), records)
        samples = parse(store.export(ingest=["a.log"]).text)
        events = {k: v for k, v in samples.items() if k.startswith("logkit_log_events_total")}
        assert (4, 10.0, 4.0, 2.0) == (
            len(events),
            sum(events.values()),
            events['logkit_log_events_total{level="__other__",service="__other__"}'],
            samples['logkit_series_dropped_total{metric="logkit_log_events_total"}'],
        )

    def test_a_folded_series_stays_folded(self, tmp_path: Path) -> None:
        """Admission is for good: a series once in __other__ never leaves it (nor goes back)."""
        store = open_store(tmp_path / "s", config="[metrics]\nmax_series = 1\n")
        write_log(Path("a.log"), [request(0, service="small"), request(1, service="big")])
        first = parse(store.export(ingest=["a.log"]).text)
        write_log(Path("a.log"), [request(i, service="big") for i in range(50)], append=True)
        second = parse(store.export(ingest=["a.log"]).text)
        key = 'logkit_log_events_total{{level="{0}",service="{0}"}}'
        # "big" and "small" weigh the same at first; ties admit the first name in order.
        assert (1.0, 1.0, 1.0, 51.0) == (
            first['logkit_log_events_total{level="INFO",service="big"}'],
            first[key.format("__other__")],
            second[key.format("__other__")],
            second['logkit_log_events_total{level="INFO",service="big"}'],
        )


def counters_of(samples: dict[str, float]) -> dict[str, float]:
    """The counter and histogram samples (the ones that must never decrease)."""
    return {
        k: v
        for k, v in samples.items()
        if k.split("{")[0].endswith(("_total", "_bucket", "_count", "_sum"))
    }


def decreased(before: dict[str, float], after: dict[str, float]) -> list[str]:
    return [k for k, v in before.items() if after.get(k, 0.0) < v]


class TestCounters:
    def test_counters_carry_on_across_runs(self, tmp_path: Path) -> None:
        """Each run adds what is new; nothing is counted twice and nothing goes down."""
        store = open_store(tmp_path / "s")
        write_log(Path("a.log"), [request(i) for i in range(5)])
        first = parse(store.export(ingest=["a.log"]).text)
        second = parse(open_store(tmp_path / "s").export(ingest=["a.log"]).text)
        write_log(Path("a.log"), [request(i, status=500) for i in range(3)], append=True)
        third = parse(open_store(tmp_path / "s").export(ingest=["a.log"]).text)
        assert ([], [], 5.0, 5.0, 8.0) == (
            decreased(counters_of(first), second),
            decreased(counters_of(second), third),
            first['logkit_http_request_duration_seconds_count{path="/v1/items",service="api"}'],
            second['logkit_http_request_duration_seconds_count{path="/v1/items",service="api"}'],
            third['logkit_http_request_duration_seconds_count{path="/v1/items",service="api"}'],
        )

    def test_prune_leaves_every_counter_exactly_where_it_was(self, tmp_path: Path) -> None:
        """Deleting old events lowers logkit_store_events, and no counter or bucket moves."""
        store = open_store(tmp_path / "s")
        old = [request(i, ts=f"2020-01-01T00:00:{i:02d}Z", duration_ms=300) for i in range(6)]
        write_log(Path("a.log"), [*old, *FIXTURE])
        before = parse(store.export(ingest=["a.log"]).text)
        result = store.prune("30d")
        after = parse(store.export().text)
        assert (6, 16.0, 10.0, counters_of(before)) == (
            result.events,
            before["logkit_store_events"],
            after["logkit_store_events"],
            counters_of(after),
        )

    def test_counters_keep_growing_after_a_prune(self, tmp_path: Path) -> None:
        """New events after a prune add to the totals that were there before it."""
        store = open_store(tmp_path / "s")
        old = [request(i, ts=f"2020-01-01T00:00:{i:02d}Z") for i in range(4)]
        write_log(Path("a.log"), old)
        store.export(ingest=["a.log"])
        store.prune("30d")
        write_log(Path("a.log"), [request(i) for i in range(3)], append=True)
        samples = parse(store.export(ingest=["a.log"]).text)
        assert (7.0, 3.0) == (
            samples['logkit_http_requests_total{path="/v1/items",service="api",status_code="200"}'],
            samples["logkit_store_events"],
        )

    def test_retention_setting_prunes_at_each_export(self, tmp_path: Path) -> None:
        """`retention = "30d"` in logkit.toml: old events go, counters stay."""
        store = open_store(tmp_path / "s", config='retention = "30d"\n')
        old = [request(i, ts=f"2020-01-01T00:00:{i:02d}Z") for i in range(4)]
        write_log(Path("a.log"), [*old, request(9)])
        result = store.export(ingest=["a.log"])
        samples = parse(result.text)
        assert (4, 1.0, 5.0) == (
            result.pruned.events if result.pruned else 0,
            samples["logkit_store_events"],
            samples['logkit_log_events_total{level="INFO",service="api"}'],
        )

    def test_retention_waits_for_an_hour_of_old_events_before_pruning(self, tmp_path: Path) -> None:
        """Not a delete and a checkpoint every minute for one minute's worth of old events."""
        from datetime import UTC, datetime, timedelta

        def ago(delta: timedelta) -> str:
            return (datetime.now(UTC) - delta).strftime("%Y-%m-%dT%H:%M:%SZ")

        store = open_store(tmp_path / "s", config='retention = "30d"\n')
        write_log(Path("a.log"), [request(0, ts=ago(timedelta(days=30, minutes=5)))])
        first = store.export(ingest=["a.log"])
        write_log(Path("a.log"), [request(0, ts=ago(timedelta(days=30, hours=2)))], append=True)
        second = store.export(ingest=["a.log"])
        assert (None, 2) == (first.pruned, second.pruned.events if second.pruned else 0)

    def test_histogram_buckets_are_cumulative(self, tmp_path: Path) -> None:
        """Each bucket counts every observation at or below its bound; +Inf equals _count."""
        durations = [3, 8, 40, 40, 90, 600, 20000]  # ms; the last is above every bound
        write_log(Path("a.log"), [request(i, duration_ms=d) for i, d in enumerate(durations)])
        samples = parse(open_store(tmp_path / "s").export(ingest=["a.log"]).text)
        prefix = "logkit_http_request_duration_seconds"
        labels = 'path="/v1/items",service="api"'
        bounds = [*(repr(float(b)) for b in DEFAULT_BUCKETS), "+Inf"]
        buckets = [samples[f'{prefix}_bucket{{le="{b}",{labels}}}'] for b in bounds]
        assert ([1.0, 2.0, 2.0, 4.0, 5.0, 5.0, 5.0, 6.0, 6.0, 6.0, 6.0, 7.0], 7.0, 20.781) == (
            buckets,
            samples[f"{prefix}_count{{{labels}}}"],
            round(samples[f"{prefix}_sum{{{labels}}}"], 6),
        )

    def test_sums_are_exact(self, tmp_path: Path) -> None:
        """Costs add up as decimals: 0.1 + 0.2 is 0.3, whatever order the folds ran in."""
        store = open_store(tmp_path / "s")
        llm = {"timestamp": "2026-11-22T10:00:00Z", "service": "llm", "model": "m",
               "usage": {"prompt_tokens": 1}, "message": "done"}  # fmt: skip
        write_log(Path("a.log"), [{**llm, "cost_usd": 0.1}])
        store.export(ingest=["a.log"])
        write_log(Path("a.log"), [{**llm, "cost_usd": 0.2}], append=True)
        samples = parse(store.export(ingest=["a.log"]).text)
        assert 0.3 == samples['logkit_llm_cost_usd_total{model="m"}']

    def test_renumbered_rows_are_detected_and_the_totals_recomputed(self, tmp_path: Path) -> None:
        """If the rows below the watermark are not the ones folded, fold them all again."""
        store = open_store(tmp_path / "s")
        write_log(Path("a.log"), [request(i) for i in range(5)])
        before = store.export(ingest=["a.log"]).text
        con = duckdb.connect(str(store.path))
        # What a vacuum that carried unfolded rows below the watermark would look like.
        con.execute("UPDATE metric_folds SET folded_rows = folded_rows - 2")
        con.close()
        assert counters_of(parse(before)) == counters_of(parse(store.export().text))

    def test_a_recomputed_total_never_comes_out_lower(self, tmp_path: Path) -> None:
        """A definition summing doubles itself may round lower in one sum than in two."""
        store = open_store(tmp_path / "s")
        extra = Path("defs")
        extra.mkdir()
        (extra / "c.sql").write_text(
            "-- name: app_cost_usd_total\n-- type: counter\n-- help: C.\n"
            "SELECT sum(cost_usd) AS value FROM events\n"
        )
        llm = {"timestamp": "2026-11-22T10:00:00Z", "message": "x", "cost_usd": 6e-10}
        write_log(Path("a.log"), [llm])
        store.export(ingest=["a.log"], definitions=extra)
        write_log(Path("a.log"), [llm], append=True)
        before = parse(store.export(ingest=["a.log"], definitions=extra).text)
        con = duckdb.connect(str(store.path))
        con.execute("UPDATE metric_folds SET folded_rows = folded_rows - 1")  # force a recompute
        con.close()
        after = parse(store.export(definitions=extra).text)
        # Rounded to 9 places: 0.000000001 per run, but 0.0000000012 -> 0.000000001 at once.
        assert (2e-9, 2e-9) == (before["app_cost_usd_total"], after["app_cost_usd_total"])

    def test_a_changed_definition_starts_its_totals_again(self, tmp_path: Path) -> None:
        """New buckets or a new query mean a new series of values (Prometheus sees a reset)."""
        store = open_store(tmp_path / "s")
        write_log(Path("a.log"), [request(i) for i in range(3)])
        extra = Path("defs")
        extra.mkdir()
        body = "-- name: app_requests_total\n-- type: counter\n-- help: R.\n"
        (extra / "r.sql").write_text(body + "SELECT count(*) AS value FROM events\n")
        first = parse(store.export(ingest=["a.log"], definitions=extra).text)
        (extra / "r.sql").write_text(body + "SELECT 10 * count(*) AS value FROM events\n")
        second = parse(store.export(definitions=extra).text)
        assert (3.0, 30.0) == (first["app_requests_total"], second["app_requests_total"])

    def test_compact_shrinks_the_file_and_keeps_the_counters(self, tmp_path: Path) -> None:
        """--compact returns deleted rows' space to the file system."""
        store = open_store(tmp_path / "s")
        write_log(Path("a.log"), [request(1)])
        store.export(ingest=["a.log"])
        con = duckdb.connect(str(store.path))
        # 200k old events, quicker to make in SQL than to ingest; incompressible messages.
        con.execute(
            "INSERT INTO events (ts, level, service, message, path, status_code, duration_ms)"
            " SELECT TIMESTAMPTZ '2020-01-01' + INTERVAL (range) SECOND, 'INFO', 'api',"
            " md5(range::VARCHAR) || md5((range + 1)::VARCHAR), '/v1/items', 200, 5"
            " FROM range(200000)"
        )
        con.close()
        before = parse(store.export().text)
        result = store.prune("30d", compact=True)
        after = parse(store.export().text)
        assert (200000, True, counters_of(before), 1.0) == (
            result.events,
            result.size_after < result.size_before / 2,
            counters_of(after),
            after["logkit_store_events"],
        )


class TestMetricsText:
    """`metrics_text()` reads what the store holds; `export()` is what changes it."""

    STATE = ("runs", "metric_values", "metric_series", "metric_folds", "events")

    def state(self, store: logkit.Store) -> dict[str, list[tuple[object, ...]]]:
        with store.reader() as con:
            return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                    for t in self.STATE}  # fmt: skip

    def test_metrics_text_writes_nothing(self, tmp_path: Path) -> None:
        """No run row, no fold of the events stored since, no label set recorded."""
        store = open_store(tmp_path / "s")
        write_log(Path("a.log"), [request(i) for i in range(3)])
        store.export(ingest=["a.log"])
        write_log(Path("a.log"), [request(i, status=500) for i in range(2)], append=True)
        store.ingest(["a.log"])
        before = self.state(store)
        store.metrics_text()
        assert before == self.state(store)

    def test_metrics_text_shows_the_totals_the_last_export_left(self, tmp_path: Path) -> None:
        """Events ingested since the last export count once the next export folds them in."""
        store = open_store(tmp_path / "s")
        write_log(Path("a.log"), [request(i) for i in range(3)])
        exported = parse(store.export(ingest=["a.log"], now=NEWEST_TS).text)
        write_log(Path("a.log"), [request(i) for i in range(2)], append=True)
        store.ingest(["a.log"])
        stored = parse(store.metrics_text(now=NEWEST_TS))
        after = parse(store.export(now=NEWEST_TS).text)
        key = 'logkit_http_requests_total{path="/v1/items",service="api",status_code="200"}'

        def over_events(samples: dict[str, float]) -> dict[str, float]:
            # Fresh counters (logkit_ingest_*) read the store's own totals at each reading.
            return {k: v for k, v in counters_of(samples).items()
                    if not k.startswith("logkit_ingest_")}  # fmt: skip

        assert (3.0, 3.0, 5.0, over_events(exported), 5.0, 5.0) == (
            exported[key],
            stored[key],
            after[key],
            over_events(stored),
            stored["logkit_ingest_lines_total"],
            stored["logkit_store_events"],  # a gauge: computed now
        )


class TestTextfile:
    def test_textfile_is_world_readable_and_no_temp_file_is_left(
        self, fixture_store: logkit.Store
    ) -> None:
        """Mode 0644 whatever the umask, so node_exporter's user can read it."""
        out = Path("textfiles")
        out.mkdir()
        fixture_store.export(out / "logkit.prom", ingest=["app.log"])
        assert (["logkit.prom"], 0o644) == (
            sorted(p.name for p in out.iterdir()),
            (out / "logkit.prom").stat().st_mode & 0o777,
        )

    def test_readers_only_ever_see_a_whole_file(self, tmp_path: Path) -> None:
        """While the file is replaced again and again, every read is one complete version."""
        target = tmp_path / "m.prom"
        versions = {f"# version {n}\n" + ("x 1\n" * 20000) + "# end\n" for n in range(20)}
        write_textfile(target, next(iter(versions)))
        seen: list[str] = []
        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                seen.append(target.read_text())

        reader = threading.Thread(target=read)
        reader.start()
        try:
            for text in versions:
                write_textfile(target, text)
        finally:
            stop.set()
            reader.join(10)
        assert (True, set()) == (len(seen) > 0, {s[:20] for s in seen if s not in versions})

    def test_missing_directory_says_what_to_do(self, tmp_path: Path) -> None:
        with pytest.raises(LogkitError) as info:
            write_textfile(tmp_path / "nope" / "m.prom", "")
        assert (
            f"cannot write {tmp_path}/nope/m.prom: directory {tmp_path}/nope does not exist"
            " (create it, or point --textfile at node_exporter's --collector.textfile.directory)"
        ) == str(info.value)


class TestOverlappingRuns:
    def test_a_second_export_exits_at_once_with_a_clear_message(
        self, fixture_store: logkit.Store
    ) -> None:
        """While another run holds the store, export fails fast: exit 1 and why."""
        fixture_store.export(ingest=["app.log"])
        with fixture_store.writer():
            started = time.monotonic()
            proc = run_logkit("export", "--stdout", db=fixture_store.path)
            elapsed = time.monotonic() - started
        assert (
            1,
            f"Error: another logkit process (pid {os.getpid()}) is writing to logkit.duckdb;"
            " retry later, or pass --wait SECONDS\n",
            True,
        ) == (proc.returncode, proc.stderr, elapsed < 10)

    def test_an_export_in_process_raises_store_locked(self, fixture_store: logkit.Store) -> None:
        fixture_store.export(ingest=["app.log"])
        with fixture_store.writer(), pytest.raises(StoreLocked):
            logkit.open(fixture_store.path).export()

    def test_wait_waits_for_the_other_run_to_finish(self, fixture_store: logkit.Store) -> None:
        """With --wait, the second run starts when the first releases the store."""
        fixture_store.export(ingest=["app.log"])
        released = threading.Event()

        def hold() -> None:
            with fixture_store.writer():
                released.wait(1.0)

        holder = threading.Thread(target=hold)
        holder.start()
        time.sleep(0.2)
        proc = run_logkit("export", "--stdout", "--wait", "30", db=fixture_store.path)
        holder.join()
        assert (0, "") == (proc.returncode, proc.stderr)


class TestCommands:
    def test_export_needs_a_textfile_or_stdout(self, tmp_path: Path) -> None:
        proc = run_logkit("export", db=tmp_path / "s.duckdb")
        assert (2, "Error: give --textfile PATH.prom or --stdout") == (
            proc.returncode,
            proc.stderr.strip().splitlines()[-1],
        )

    def test_ingest_takes_several_paths_as_a_shell_glob_gives_them(self, tmp_path: Path) -> None:
        """`export --ingest /var/log/app/*.log --textfile ...` reads every expanded path."""
        write_log(Path("a.log"), [request(0)])
        write_log(Path("b.log"), [request(1), request(2)])
        proc = run_logkit(
            "export", "--ingest", "a.log", "b.log", "--stdout", db=tmp_path / "s.duckdb"
        )
        assert (0, 3.0) == (proc.returncode, parse(proc.stdout)["logkit_store_events"])

    def test_db_may_follow_the_command_name(self, tmp_path: Path) -> None:
        """`logkit export --db PATH ...` as well as `logkit --db PATH export ...`."""
        write_log(Path("a.log"), [request(0)])
        proc = subprocess.run(
            [*LOGKIT, "export", "--db", "here.duckdb", "--ingest", "a.log", "--stdout"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (0, 1.0, True) == (
            proc.returncode,
            parse(proc.stdout)["logkit_store_events"],
            Path("here.duckdb").exists(),
        )

    def test_paths_without_ingest_are_refused(self, tmp_path: Path) -> None:
        proc = run_logkit("export", "a.log", "--stdout", db=tmp_path / "s.duckdb")
        assert (2, "Error: to read the PATHs first, give --ingest") == (
            proc.returncode,
            proc.stderr.strip().splitlines()[-1],
        )

    def test_textfile_must_end_in_prom(self, tmp_path: Path) -> None:
        """node_exporter ignores other names; say so rather than write a file nobody reads."""
        proc = run_logkit("export", "--textfile", "m.txt", db=tmp_path / "s.duckdb")
        assert (2, "Error: --textfile 'm.txt': node_exporter only reads files ending in .prom") == (
            proc.returncode,
            proc.stderr.strip().splitlines()[-1],
        )

    def test_export_writes_the_textfile_and_prints_nothing(
        self, fixture_store: logkit.Store
    ) -> None:
        """Quiet on success, as a cron job should be."""
        proc = run_logkit(
            "export", "--ingest", "app.log", "--textfile", "logkit.prom", db=fixture_store.path
        )
        assert (0, "", "", True) == (
            proc.returncode,
            proc.stdout,
            proc.stderr,
            "logkit_store_events 10.0" in Path("logkit.prom").read_text(),
        )

    def test_an_unreadable_input_still_writes_metrics_saying_so(
        self, fixture_store: logkit.Store
    ) -> None:
        """The file is written with logkit_last_run_success 0, then the run exits 1."""
        proc = run_logkit(
            "export", "--ingest", "missing.log", "--textfile", "logkit.prom", db=fixture_store.path
        )
        samples = parse(Path("logkit.prom").read_text())
        assert (1, 0.0, True) == (
            proc.returncode,
            samples["logkit_last_run_success"],
            proc.stderr.startswith("Error: ") and "logkit_last_run_success 0" in proc.stderr,
        )

    def test_export_without_a_store_says_how_to_make_one(self, tmp_path: Path) -> None:
        proc = run_logkit("export", "--stdout", db=Path("nowhere.duckdb"))
        assert (
            1,
            "Error: no store at nowhere.duckdb (run 'logkit ingest PATH' first, or pass --db)\n",
            False,
        ) == (proc.returncode, proc.stderr, Path("nowhere.duckdb").exists())

    def test_a_retention_typo_is_reported_before_any_work(self, tmp_path: Path) -> None:
        """The setting is read first, so a bad one neither ingests nor writes anything."""
        store = open_store(tmp_path / "s", config='retention = "30 days"\n')
        write_log(Path("a.log"), [request(0)])
        proc = run_logkit("export", "--ingest", "a.log", "--stdout", db=store.path)
        assert (
            1,
            f"Error: {tmp_path}/s/logkit.toml: cannot read retention value '30 days': use an age"
            " such as 30d, 12h, 2w or 1d12h\n",
            False,
        ) == (proc.returncode, proc.stderr, store.path.exists())

    def test_prune_reports_what_it_deleted(self, tmp_path: Path) -> None:
        store = open_store(tmp_path / "s")
        old = [request(i, ts=f"2020-01-01T00:00:{i:02d}Z") for i in range(3)]
        write_log(Path("a.log"), [*old, request(1), "not json"])
        store.export(ingest=["a.log"])
        proc = run_logkit("prune", "--older-than", "30d", "--format", "json", db=store.path)
        import json

        report = json.loads(proc.stdout)
        assert (0, 3, 0) == (proc.returncode, report["events"], report["rejects"])

    def test_prune_without_a_metrics_definition_says_its_totals_restart(
        self, tmp_path: Path
    ) -> None:
        """Totals a prune cannot account for are dropped, and the prune says so."""
        store = open_store(tmp_path / "s")
        extra = Path("defs")
        extra.mkdir()
        (extra / "r.sql").write_text(
            "-- name: app_requests_total\n-- type: counter\n-- help: R.\n"
            "SELECT count(*) AS value FROM events\n"
        )
        old = [request(i, ts=f"2020-01-01T00:00:{i:02d}Z") for i in range(3)]
        write_log(Path("a.log"), [*old, request(1)])
        store.export(ingest=["a.log"], definitions=extra)
        proc = run_logkit("prune", "--older-than", "30d", db=store.path)
        after = parse(store.export(definitions=extra).text)
        assert (
            "note: app_requests_total was not among the --definitions given to this prune, so"
            " its totals start again; give every export and prune the same --definitions\n",
            1.0,
        ) == (proc.stderr, after["app_requests_total"])

    def test_prune_refuses_an_age_it_cannot_read(self, tmp_path: Path) -> None:
        proc = run_logkit("prune", "--older-than", "yesterday", db=tmp_path / "s.duckdb")
        assert (
            1,
            "Error: cannot read --older-than value 'yesterday': use an age such as 30d, 12h,"
            " 2w or 1d12h",
        ) == (proc.returncode, proc.stderr.strip())
