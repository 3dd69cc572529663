"""The textfile as the real node_exporter serves it.

`prometheus-node-exporter` runs on 127.0.0.1 with only its textfile collector, pointed at the
directory `logkit export` writes to, and is scraped over HTTP as Prometheus would. Skipped,
saying why, when the Debian package is not installed (scripts/system-deps.sh installs it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import logkit

from .metrics_fixtures import (
    FIXTURE,
    Server,
    http_get,
    isolate,
    needs,
    open_store,
    parse,
    request,
    start_node_exporter,
    write_log,
)

pytestmark = [pytest.mark.xdist_group("prometheus"), needs("prometheus-node-exporter")]


@pytest.fixture
def textfile_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "textfile"
    directory.mkdir()
    return directory


@pytest.fixture
def node_exporter(tmp_path: Path, textfile_dir: Path) -> Iterator[Server]:
    server = start_node_exporter(textfile_dir, tmp_path / "node_exporter.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> logkit.Store:
    isolate(tmp_path, monkeypatch)
    return open_store(tmp_path / "store")


def test_node_exporter_serves_the_logkit_metrics(
    node_exporter: Server, textfile_dir: Path, store: logkit.Store
) -> None:
    """The exported values come through unchanged, and node_exporter reports no error."""
    write_log(Path("app.log"), FIXTURE)
    store.export(textfile_dir / "logkit.prom", ingest=["app.log"])
    samples = parse(http_get(node_exporter.url + "/metrics"))
    assert {
        "node_textfile_scrape_error": 0.0,
        "logkit_store_events": 10.0,
        'logkit_log_events_total{level="INFO",service="api"}': 3.0,
        'logkit_http_requests_total{path="/v1/users/:id/items",service="api",status_code="200"}': (
            2.0
        ),
        'logkit_http_request_duration_seconds_bucket{le="0.25",path="/v1/users/:id/items",'
        'service="api"}': 2.0,
        'logkit_llm_tokens_total{direction="input",model="gpt-4o"}': 100.0,
        'logkit_ingest_rejected_lines_total{reason="not_json"}': 1.0,
        "logkit_last_run_success": 1.0,
    } == {
        key: samples.get(key)
        for key in (
            "node_textfile_scrape_error",
            "logkit_store_events",
            'logkit_log_events_total{level="INFO",service="api"}',
            'logkit_http_requests_total{path="/v1/users/:id/items",service="api",'
            'status_code="200"}',
            'logkit_http_request_duration_seconds_bucket{le="0.25",path="/v1/users/:id/items",'
            'service="api"}',
            'logkit_llm_tokens_total{direction="input",model="gpt-4o"}',
            'logkit_ingest_rejected_lines_total{reason="not_json"}',
            "logkit_last_run_success",
        )
    }


def test_no_scrape_sees_a_partial_file_while_exports_run(
    node_exporter: Server, textfile_dir: Path, store: logkit.Store
) -> None:
    """Exports replace the file again and again while node_exporter is scraped non-stop.

    Every scrape must parse, report `node_textfile_scrape_error 0`, and be one whole export:
    its log event counters add up to its event count, which a torn file would not do.
    """
    write_log(Path("app.log"), [request(i) for i in range(50)])
    store.export(textfile_dir / "logkit.prom", ingest=["app.log"])
    problems: list[str] = []
    counts: list[float] = []
    stop = threading.Event()

    def scrape() -> None:
        for _ in range(5000):  # bounded, in case the exports hang
            if stop.is_set():
                return
            try:
                samples = parse(http_get(node_exporter.url + "/metrics"))
            except Exception as exc:  # a parse error is exactly what this test looks for
                problems.append(f"scrape failed: {exc}")
                continue
            events = sum(v for k, v in samples.items() if k.startswith("logkit_log_events_total{"))
            if samples.get("node_textfile_scrape_error") != 0.0:
                problems.append(
                    f"node_textfile_scrape_error {samples.get('node_textfile_scrape_error')}"
                )
            elif events != samples.get("logkit_store_events"):
                problems.append(
                    f"torn: {events} events counted, {samples.get('logkit_store_events')} stored"
                )
            counts.append(events)

    scraper = threading.Thread(target=scrape)
    scraper.start()
    try:
        for run in range(1, 16):
            write_log(
                Path("app.log"), [request(i, status=200 + run) for i in range(40)], append=True
            )
            store.export(textfile_dir / "logkit.prom", ingest=["app.log"])
    finally:
        stop.set()
        scraper.join(30)
    final = parse(http_get(node_exporter.url + "/metrics"))
    assert ([], True, True, 650.0) == (
        problems,
        len(counts) >= 30,
        counts == sorted(counts),  # and the counters never went backwards
        final["logkit_store_events"],
    )
