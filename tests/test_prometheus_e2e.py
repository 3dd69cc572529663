"""End to end: logs → logkit export → node_exporter → a real Prometheus → PromQL answers.

Prometheus scrapes node_exporter every second while the test feeds the same traffic every two
seconds (20 API requests: 18 answered in 30 ms, 2 in 700 ms) and exports after each batch, with
a `logkit prune` half way that deletes old events. Then, through Prometheus' HTTP API:

* `rate()` of the request counter is the 10 requests per second that were fed (within 25 %:
  Prometheus extrapolates over a window of one-second scrapes of two-second steps);
* `histogram_quantile(0.95, ...)` over the duration histogram is 0.75 s: 90 % of requests fall
  at or below the 0.05 bucket and 10 % in (0.5, 1], so the 95th percentile is halfway through
  that bucket, exactly, because every batch has the same mix;
* no counter ever decreased (no `resets()`), although the prune lowered the event count.

Takes about 35 s. Skipped, saying why, when the Debian packages are not installed.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

import logkit

from .metrics_fixtures import (
    Server,
    binary,
    http_get,
    isolate,
    needs,
    open_store,
    request,
    start_node_exporter,
    start_server,
    write_log,
)

pytestmark = [
    pytest.mark.xdist_group("prometheus"),
    needs("prometheus", "prometheus-node-exporter"),
]

BATCHES = 14  # one every PERIOD seconds
PERIOD = 2.0
FAST, SLOW = 18, 2  # requests per batch at 30 ms and at 700 ms
WINDOW = "20s"


def batch(n: int) -> list[dict[str, object]]:
    return [request(n, duration_ms=30) for _ in range(FAST)] + [
        request(n, duration_ms=700) for _ in range(SLOW)
    ]


class Prometheus:
    def __init__(self, server: Server) -> None:
        self.server = server

    def query(self, promql: str, at: float) -> list[dict[str, object]]:
        params = urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"})
        answer = json.loads(http_get(f"{self.server.url}/api/v1/query?{params}"))
        assert "success" == answer["status"], answer
        return answer["data"]["result"]

    def scalar(self, promql: str, at: float) -> float:
        result = self.query(promql, at)
        assert 1 == len(result), (promql, result)
        return float(result[0]["value"][1])  # type: ignore[index]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Path, Prometheus]]:
    """node_exporter reading tmp_path/textfile, and Prometheus scraping it every second."""
    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir()
    node = start_node_exporter(textfile_dir, tmp_path / "node_exporter.log")
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: node\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{node.port}']}}]\n"
    )
    prometheus = None
    try:
        prometheus = start_server(
            "prometheus",
            lambda port: [
                str(binary("prometheus")),
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            "/-/ready",
            tmp_path / "prometheus.log",
        )
        yield textfile_dir, Prometheus(prometheus)
    finally:
        if prometheus is not None:
            prometheus.stop()
        node.stop()


def test_prometheus_computes_rates_and_quantiles_from_the_exports(
    stack: tuple[Path, Prometheus], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    textfile_dir, prometheus = stack
    isolate(tmp_path, monkeypatch)
    store: logkit.Store = open_store(tmp_path / "store")
    textfile = textfile_dir / "logkit.prom"
    old = [
        {"ts": 1577836800 + i, "level": "info", "service": "api", "message": "boot"}
        for i in range(30)
    ]  # fmt: skip  (2020: pruned half way)
    write_log(Path("app.log"), [*old, *batch(0)])
    store.export(textfile, ingest=["app.log"])
    start = time.monotonic()
    exported = []  # when each batch reached the file
    for n in range(1, BATCHES + 1):
        time.sleep(max(0.0, start + n * PERIOD - time.monotonic()))
        write_log(Path("app.log"), batch(n), append=True)
        store.export(textfile, ingest=["app.log"])
        exported.append(time.time())
        if n == BATCHES // 2:
            assert 30 == store.prune("30d").events
            store.export(textfile)
    end = time.time()
    time.sleep(2.5)  # let the last export be scraped
    # What was fed in the window, which is 10/s unless a loaded machine slowed the exports.
    seconds = float(WINDOW.removesuffix("s"))
    fed_rate = sum(1 for t in exported if t > end - seconds) * (FAST + SLOW) / seconds

    api = 'service="api"'
    rate = prometheus.scalar(f"sum(rate(logkit_http_requests_total{{{api}}}[{WINDOW}]))", end)
    p95 = prometheus.scalar(
        "histogram_quantile(0.95, sum by (le)"
        f" (rate(logkit_http_request_duration_seconds_bucket{{{api}}}[{WINDOW}])))",
        end,
    )
    resets = prometheus.query(
        "resets({__name__=~'logkit_.*_total|logkit_.*_bucket|logkit_.*_count'}[60s]) > 0", end
    )
    now = time.time()  # the last export has been scraped by now
    events_now = prometheus.scalar("logkit_store_events", now)
    events_total = prometheus.scalar(f"sum(logkit_log_events_total{{{api}}})", now)
    gauge_drops = prometheus.scalar("resets(logkit_store_events[60s])", now)
    fed = (BATCHES + 1) * (FAST + SLOW)
    assert (True, 0.75, [], float(fed), float(fed), 1.0) == (
        abs(rate - fed_rate) < 0.25 * fed_rate,
        round(p95, 6),
        resets,  # no counter ever went down...
        events_now,
        events_total - 30,  # ...and the counter kept the 30 pruned events
        gauge_drops,  # while the prune did lower the number of events stored
    )
