"""Incident postmortems: the analysis, the HTML and Markdown reports, and `logkit report`.

Two stores: the committed sample logs, whose incident (sample_logs/README.md) the analysis must
find on its own, and `TINY`, a few minutes of logs built so each behaviour has one clear
expected answer (a file without service names, a failing span, hostile text in messages and a
broken line inside the window). The HTML report is also opened in headless Chromium, as a
reader would, with a screenshot and the browser console checked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

import logkit
from logkit.cli import cli
from logkit.errors import NotFound, TimeValueError
from logkit.postmortem import (
    AUTHOR_SECTIONS,
    SECTIONS,
    SHOWN,
    Postmortem,
    analyze,
    detect_window,
    resolve_window,
)
from logkit.report import MAX_ROWS, PLACEHOLDER, render_html, render_markdown, write_report
from logkit.sample import INCIDENT_ERROR, INCIDENT_SERVICE

from .helpers import LOGKIT, run_logkit

pytestmark = pytest.mark.xdist_group("report")

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
HOSTILE = '<script>alert("x")</script> | [click](http://example.invalid) `code`'


def sample_window() -> tuple[datetime, datetime]:
    """The incident window as sample_logs/README.md states it."""
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    start, end = re.search(r"From \*\*(\S+) to (\S+)\*\*", readme).groups()  # type: ignore[union-attr]
    return datetime.fromisoformat(start), datetime.fromisoformat(end)


def headline_window(headline: str) -> tuple[datetime, datetime]:
    """The window a headline names: `From 2026-11-01 00:37:00 to 00:46:00 UTC ...`."""
    day, start, end = re.match(r"From (\S+) (\S+) to (\S+) UTC", headline).groups()  # type: ignore[union-attr]
    return (datetime.fromisoformat(f"{day}T{start}+00:00"),
            datetime.fromisoformat(f"{day}T{end}+00:00"))  # fmt: skip


def near(expected: tuple[datetime, datetime], actual: tuple[datetime, datetime]) -> bool:
    """Both ends within a minute: a window is found in whole minutes, and its first minute is
    the first one in which a request failed."""
    return all(abs(e - a) <= timedelta(minutes=1) for e, a in zip(expected, actual, strict=True))


def _at(minute: int, second: float = 0.0) -> str:
    return f"2026-03-01T10:{minute:02d}:{second:06.3f}Z"


def tiny_logs(directory: Path) -> Path:
    """Twenty minutes of one request a minute; from 10:10 every request fails with BoomError.

    web.log names no service (so its events are labelled `web`), line 1 is broken (before the
    window) and so is the line after 10:12's request (inside it).
    """
    logs = directory / "logs"
    logs.mkdir(parents=True)
    web: list[bytes] = [b'{"broken": ']
    gateway: list[bytes] = []
    for minute in range(20):
        trace = f"{minute:02d}" + "ab" * 15
        failing = minute >= 10
        web.append(orjson.dumps({
            "timestamp": _at(minute), "level": "info", "trace_id": trace,
            "message": "request started", "user_id": f"u_{minute}",
        }))  # fmt: skip
        gateway.append(orjson.dumps({
            "timestamp": _at(minute, 0.2), "service": "gateway", "trace_id": trace,
            "level": "error" if failing else "info", "model": "m-1", "input_tokens": 10,
            "output_tokens": 5, "cost_usd": 0.01, "duration_ms": 150,
            **({"message": HOSTILE, "error_type": "BoomError"} if failing else
               {"message": "completion finished"}),
        }))  # fmt: skip
        web.append(orjson.dumps({
            "timestamp": _at(minute, 0.5), "level": "error" if failing else "info",
            "trace_id": trace, "message": "request finished", "status_code": 503 if failing
            else 200, "duration_ms": 500, "user_id": f"u_{minute}",
            **({"error_type": "UpstreamError"} if failing else {}),
        }))  # fmt: skip
        if minute == 12:
            web.append(b"not json at all")
    (logs / "web.log").write_bytes(b"\n".join(web) + b"\n")
    (logs / "gateway.log").write_bytes(b"\n".join(gateway) + b"\n")
    return logs


TINY_WINDOW = {"since": "2026-03-01T10:10:00Z", "until": "2026-03-01T10:20:00Z"}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> logkit.Store:
    directory = tmp_path_factory.mktemp("tiny")
    store = logkit.open(directory / "logkit.duckdb")
    store.ingest([str(tiny_logs(directory))])
    return store


@pytest.fixture(scope="module")
def tiny_pm(tiny: logkit.Store) -> Postmortem:
    return analyze(tiny, **TINY_WINDOW)


@pytest.fixture(scope="module")
def tiny_html(tiny_pm: Postmortem) -> str:
    return render_html(tiny_pm)


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> logkit.Store:
    store = logkit.open(tmp_path_factory.mktemp("samples") / "logkit.duckdb")
    store.ingest([str(SAMPLES)])
    return store


@pytest.fixture(scope="module")
def sample_pm(sample_store: logkit.Store) -> Postmortem:
    """The postmortem of the sample logs with no window given: it is detected."""
    return analyze(sample_store)


@pytest.fixture(scope="module")
def sample_html(sample_pm: Postmortem, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(sample_pm, tmp_path_factory.mktemp("html") / "postmortem.html")


class TestSampleIncident:
    def test_window_is_detected(self, sample_pm: Postmortem) -> None:
        """With no window given, the analysis finds the one the sample README describes, to
        the minute: logs show an incident from the first minute a request failed in it."""
        assert sample_pm.window.detected
        assert near(sample_window(), (sample_pm.window.since, sample_pm.window.until))

    def test_cause_is_the_failing_service_and_error_type(self, sample_pm: Postmortem) -> None:
        """Most failing traces failed first with the README's error in its service."""
        cause = sample_pm.summary["cause"]
        assert (INCIDENT_SERVICE, INCIDENT_ERROR) == (cause["service"], cause["error_type"])

    def test_report_names_window_service_and_error(self, sample_html: Path) -> None:
        """The page's headline says all three."""
        page = sample_html.read_text(encoding="utf-8")
        headline = re.search(r'<p class="headline">([^<]+)</p>', page).group(1)  # type: ignore[union-attr]
        assert near(sample_window(), headline_window(headline))
        assert f"{INCIDENT_ERROR} in {INCIDENT_SERVICE}" in headline

    def test_waterfall_trace_failed_the_incident_way(self, sample_pm: Postmortem) -> None:
        """The trace drawn is one that failed with the incident's error."""
        first = sample_pm.summary["trace"]["first_error"]
        assert (INCIDENT_SERVICE, INCIDENT_ERROR) == (first["service"], first["error_type"])

    def test_every_chart_is_drawn(self, sample_pm: Postmortem) -> None:
        """Timeline, latency, the waterfall and LLM usage all have data to draw."""
        assert ["timeline", "latency", "traces", "llm"] == list(sample_pm.figures())


class TestCharts:
    def test_latency_lines_differ_by_more_than_colour(self, sample_pm: Postmortem) -> None:
        """p95 and p99 run together in the sample incident: each line has its own marker
        and dash, so the one drawn on top cannot hide the other (or vanish in grey print)."""
        (ax,) = sample_pm.latency_figure().axes
        styles = {
            line.get_label(): (line.get_marker(), line.get_linestyle()) for line in ax.get_lines()
        }
        styles = [styles[name] for name in ("p50", "p95", "p99")]
        assert 3 == len(set(styles))
        assert len({marker for marker, _ in styles}) == 3

    def test_time_axes_read_as_times(self, sample_pm: Postmortem) -> None:
        """Tick labels are clock times (`00:40`) under a `time (UTC)` label, and the
        day is written once beside them, not `01 00:40` on every tick."""
        fig = sample_pm.timeline_figure()
        fig.canvas.draw()
        bottom = fig.axes[-1]
        labels = [t.get_text() for t in bottom.get_xticklabels() if t.get_text()]
        assert labels and all(re.fullmatch(r"\d\d:\d\d", label) for label in labels), labels
        assert "time (UTC)" == bottom.get_xlabel()
        assert "2026-Nov-01" == bottom.xaxis.get_major_formatter().get_offset()


class TestWindow:
    def test_detected_from_failing_requests(self, tiny: logkit.Store) -> None:
        """The failing minutes, whole: 10:10 up to 10:20."""
        window = detect_window(tiny)
        expected = (
            datetime(2026, 3, 1, 10, 10, tzinfo=UTC),
            datetime(2026, 3, 1, 10, 20, tzinfo=UTC),
        )
        assert expected == (window.since, window.until)

    def test_baseline_is_the_same_length_just_before(self, tiny_pm: Postmortem) -> None:
        """Ten minutes of window, ten of baseline before it."""
        assert datetime(2026, 3, 1, 10, 0, tzinfo=UTC) == tiny_pm.window.baseline_since

    def test_no_errors_no_window(self, tmp_path: Path) -> None:
        """A store without errors has no incident to find, and says what to do."""
        logs = tmp_path / "logs"
        logs.mkdir()
        (logs / "ok.log").write_bytes(orjson.dumps({"timestamp": _at(0), "message": "ok"}))
        store = logkit.open(tmp_path / "logkit.duckdb")
        store.ingest([str(logs)])
        with pytest.raises(NotFound) as info:
            detect_window(store)
        expected = (
            f"no errors in {store.path}, so no incident window to find; give --since and --until"
        )
        assert expected == str(info.value)

    def test_until_needs_since(self, tiny: logkit.Store) -> None:
        """--until alone is ambiguous: the message says both or neither."""
        with pytest.raises(TimeValueError) as info:
            resolve_window(tiny, until="2026-03-01T10:20:00Z")
        assert "give --since with --until (or neither, to detect the incident window)" == str(
            info.value
        )

    def test_empty_window_says_what_the_store_holds(self, tiny: logkit.Store) -> None:
        """A window with no events names the span the store does hold."""
        with pytest.raises(NotFound) as info:
            analyze(tiny, since="2025-01-01T00:00:00Z", until="2025-01-01T01:00:00Z")
        expected = (
            f"no events between 2025-01-01T00:00:00Z and 2025-01-01T01:00:00Z in {tiny.path}"
            " (check --since/--until; it holds 2026-03-01T10:00:00Z to 2026-03-01T10:19:00Z)"
        )
        assert expected == str(info.value)


# One record from the far future and one from a mis-scaled epoch (a timestamp in
# the wrong unit lands in 2181): outliers every real store ends up holding.
OUTLIERS = [
    {"timestamp": "9999-12-31T23:59:00Z", "level": "error", "service": "api",
     "message": "clock gone wild", "trace_id": "f" * 32},
    {"timestamp": "2181-06-01T00:00:00Z", "level": "info", "service": "worker",
     "message": "epoch in the wrong unit"},
]  # fmt: skip
MEMORY_LIMIT = 4 << 30  # far below what a minute-by-minute array to the year 9999 takes


@pytest.fixture(scope="module")
def outlier_store(
    sample_store: logkit.Store, tmp_path_factory: pytest.TempPathFactory
) -> logkit.Store:
    """The sample logs and the two outliers, in one store."""
    directory = tmp_path_factory.mktemp("outliers")
    shutil.copy(sample_store.path, directory / "logkit.duckdb")
    logs = directory / "outliers.log"
    logs.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in OUTLIERS))
    store = logkit.open(directory / "logkit.duckdb")
    store.ingest([str(logs)])
    return store


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


class TestOutliers:
    def test_far_off_timestamps_leave_the_detected_window_as_it_was(
        self, outlier_store: logkit.Store, sample_pm: Postmortem
    ) -> None:
        """The window is the sample incident's, found from the minutes that hold requests."""
        window = detect_window(outlier_store)
        assert (sample_pm.window.since, sample_pm.window.until) == (window.since, window.until)

    def test_report_finishes_quickly_in_bounded_memory(
        self, outlier_store: logkit.Store, tmp_path: Path
    ) -> None:
        """The whole `logkit report`, window detected, under a 4 GB address-space limit."""
        out = tmp_path / "pm.html"
        started = time.monotonic()
        command = [*LOGKIT, "--db", str(outlier_store.path), "report", "-o", str(out)]
        proc = subprocess.run(command, capture_output=True, timeout=120, preexec_fn=_limit_memory)
        assert 0 == proc.returncode, proc.stderr.decode()[-2000:]
        assert time.monotonic() - started < 60
        said = proc.stderr.decode().partition("postmortem of ")[2]
        assert near(sample_window(), headline_window(f"From {said}"))
        page = out.read_text(encoding="utf-8")
        assert "9999" not in re.sub(r"data:image/png;base64,[^\"]*", "", page)

    def test_a_window_of_centuries_draws_a_bounded_number_of_bars(
        self, outlier_store: logkit.Store
    ) -> None:
        """Buckets grow past a day so a window of 200 years is still some 150 bars a chart."""
        pm = analyze(outlier_store, since="1990-01-01T00:00:00Z", until="2190-01-01T00:00:00Z")
        span = pm.window.aftermath_until - pm.window.baseline_since
        assert span / pm.bucket <= 160
        assert ["timeline", "latency", "traces", "llm"] == list(pm.figures())

    def test_a_window_whose_baseline_would_reach_before_the_year_1_is_refused(
        self, outlier_store: logkit.Store
    ) -> None:
        with pytest.raises(TimeValueError) as info:
            resolve_window(outlier_store, since="2000-01-01T00:00:00Z", until="9999-12-31T00:00Z")
        assert str(info.value).endswith("reaches past the year 1 or 9999; give a narrower window")


class TestAnalysis:
    def test_summary_against_baseline(self, tiny_pm: Postmortem) -> None:
        """Counts in the window and in the baseline, side by side."""
        s = tiny_pm.summary
        assert (30, 20, 30, 0) == (
            s["events"], s["errors"], s["baseline_events"], s["baseline_errors"]
        )  # fmt: skip
        assert (10, 10, 10) == (s["traces"], s["failing_traces"], s["affected_users"])

    def test_events_without_service_take_their_file_name(self, tiny_pm: Postmortem) -> None:
        """web.log's events count under `web`."""
        assert ["gateway", "web"] == sorted(tiny_pm.services["service"].to_list())

    def test_cause_is_where_traces_failed_first(self, tiny_pm: Postmortem) -> None:
        """The gateway errs before the web tier answers 503: the gateway is the cause."""
        cause = tiny_pm.summary["cause"]
        assert {"service": "gateway", "error_type": "BoomError", "traces": 10} == cause

    def test_error_groups_count_the_baseline(self, tiny_pm: Postmortem) -> None:
        """Each group has its window count and the baseline's (0: new in this window)."""
        groups = tiny_pm.error_groups.select("service", "error_type", "count", "baseline")
        assert [("gateway", "BoomError", 10, 0), ("web", "UpstreamError", 10, 0)] == sorted(
            groups.rows()
        )

    def test_rejected_lines_inside_the_window(self, tiny_pm: Postmortem) -> None:
        """Only the broken line between the window's lines, not the one before it."""
        lines = tiny_pm.rejected_lines
        assert ["not json at all"] == lines["raw"].to_list()
        assert 1 == tiny_pm.summary["rejected_lines"]

    def test_users_of_failing_traces(self, tiny_pm: Postmortem) -> None:
        """Every user whose request failed in the window, one failed trace each."""
        users = tiny_pm.users
        assert [f"u_{m}" for m in range(10, 20)] == sorted(users["user_id"].to_list())
        assert {1} == set(users["failed_traces"].to_list())

    def test_llm_calls_against_baseline(self, tiny_pm: Postmortem) -> None:
        """Calls, failures and cost per model in the window and before it."""
        row = tiny_pm.llm.row(0, named=True)
        assert ("m-1", 10, 10, 10, 0) == (
            row["model"], row["calls"], row["failed"], row["baseline_calls"],
            row["baseline_failed"],
        )  # fmt: skip

    def test_service_filter(self, tiny: logkit.Store) -> None:
        """Only the gateway's events count, but its traces keep their users."""
        pm = analyze(tiny, services=["gateway"], **TINY_WINDOW)
        assert (10, 10, 10) == (
            pm.summary["events"], pm.summary["errors"], pm.summary["affected_users"]
        )  # fmt: skip
        assert ["gateway"] == pm.services["service"].to_list()

    def test_chosen_trace_is_drawn(self, tiny: logkit.Store) -> None:
        """trace_id (a prefix will do) picks the waterfall's trace."""
        pm = analyze(tiny, trace_id="03abab", **TINY_WINDOW)
        assert "03" + "ab" * 15 == pm.trace_id
        assert ["web", "gateway"] == pm.waterfall["service"].to_list()


def _letters(number: int) -> str:
    """A number in letters (`BC`): fingerprints fold digits, so messages differ by letters."""
    return "".join(chr(65 + int(d)) for d in str(number))


def many_error_types(directory: Path, kinds: int) -> logkit.Store:
    """A store whose window (10:00 to 10:10) has `kinds` error groups, one error each, in
    traces of their own."""
    logs = directory / "logs"
    logs.mkdir()
    lines = [
        orjson.dumps({"timestamp": _at(minute), "service": "api", "level": "info",
                      "message": "ok", "trace_id": f"{minute:032x}"})
        for minute in range(10)
    ] + [
        orjson.dumps({"timestamp": _at(10 + kind % 10, kind), "service": "api",
                      "level": "error", "error_type": f"Kind{kind}Error",
                      "message": f"failure of kind {_letters(kind)}", "trace_id": f"e{kind:031x}"})
        for kind in range(kinds)
    ]  # fmt: skip
    (logs / "api.log").write_bytes(b"\n".join(lines) + b"\n")
    store = logkit.open(directory / "logkit.duckdb")
    store.ingest([str(logs)])
    return store


class TestCompleteLists:
    """Every table shows all its rows or says how many it stands for."""

    def test_every_failing_trace_is_listed(self, sample_pm: Postmortem) -> None:
        """The sample incident has 22 failing traces (more than the 20 the report used to
        keep): the frame and the report's table hold all 22, under the summary's `22 of 69`."""
        failed = sample_pm.summary["failing_traces"]
        assert failed > SHOWN
        assert failed == sample_pm.failing.height
        text = render_markdown(sample_pm)
        assert f"- **Failing traces:** {failed} of {sample_pm.summary['traces']}" in text
        table = text.split("**Failing traces, slowest first**\n\n")[1].split("\n\n")[0]
        assert failed == len(table.splitlines()) - 2

    def test_slowest_traces_say_of_how_many(self, sample_pm: Postmortem) -> None:
        """The 20 slowest are the 20 slowest of every trace in the window."""
        traces = sample_pm.summary["traces"]
        assert f"**Slowest traces** · **showing {SHOWN} of {traces}**" in render_markdown(sample_pm)

    def test_more_error_groups_than_shown(self, tmp_path: Path) -> None:
        """55 kinds of error: 55 groups and failing traces in the frames, 50 rows of each in
        the page, marked as such."""
        pm = analyze(many_error_types(tmp_path, 55), since=_at(10), until=_at(20))
        assert 55 == pm.error_groups.height == pm.summary["failing_traces"] == pm.failing.height
        page = render_html(pm)
        assert f'Error groups <span class="more">· showing {MAX_ROWS} of 55</span>' in page
        assert f'slowest first <span class="more">· showing {MAX_ROWS} of 55</span>' in page

    def test_complete_tables_carry_no_mark(self, tiny_pm: Postmortem) -> None:
        """Ten failing traces: all ten rows, no `showing`."""
        text = render_markdown(tiny_pm)
        assert "showing" not in text
        table = text.split("**Failing traces, slowest first**")[1].split("\n\n")[1]
        assert 10 == len(table.splitlines()) - 2


class TestLabelsMatchValues:
    def test_where_traces_failed_first_is_timed_by_their_first_errors(
        self, sample_pm: Postmortem
    ) -> None:
        """The first failure of the likeliest cause is the summary's first error (00:37:46),
        not the start of its trace (00:37:28); the last is the last error of its kind."""
        causes = sample_pm.causes
        first = sample_pm.summary["first_error"]
        assert first["ts"] == causes["first_failure"].min()
        assert (causes["first_failure"] >= first["ts"]).all()
        top = causes.row(0, named=True)
        groups = sample_pm.error_groups.filter(
            (sample_pm.error_groups["service"] == top["service"])
            & (sample_pm.error_groups["error_type"] == top["error_type"])
        )
        assert (groups["first_seen"].min(), groups["last_seen"].max()) == (
            top["first_failure"], top["last_failure"]
        )  # fmt: skip

    def test_users_are_timed_by_when_their_requests_failed(self, tiny_pm: Postmortem) -> None:
        """u_10's request started at 10:10:00 and failed at 10:10:00.2 (the gateway's error)."""
        row = tiny_pm.users.filter(tiny_pm.users["user_id"] == "u_10").row(0, named=True)
        expected = datetime(2026, 3, 1, 10, 10, 0, 200000, tzinfo=UTC)
        assert (expected, expected) == (row["first_failure"], row["last_failure"])

    def test_report_headers_say_failed(self, sample_html: Path) -> None:
        page = sample_html.read_text(encoding="utf-8")
        assert "<th>first failed</th><th>last failed</th>" in page


class TestAuthorSections:
    """Impact, root cause and action items: the analysis cannot write them, so every report
    leaves them to the author, with what the logs suggest."""

    def test_html_has_a_box_to_write_in(self, sample_html: Path, sample_pm: Postmortem) -> None:
        page = sample_html.read_text(encoding="utf-8")
        for name in AUTHOR_SECTIONS:
            title = SECTIONS[name][0]
            body = page.split(f'<section id="{name}"><h2>{title}</h2>')[1].split("</section>")[0]
            assert f"<!-- {title}: for the author to write -->" in body
            assert '<div class="author-text" contenteditable="true">' in body
            assert PLACEHOLDER in body
        cause = sample_pm.summary["cause"]
        root = page.split('<section id="root_cause">')[1].split("</section>")[0]
        assert f"failed first with {cause['error_type']} in {cause['service']}" in root

    def test_markdown_has_each_with_a_placeholder(self, tiny_pm: Postmortem) -> None:
        text = render_markdown(tiny_pm)
        for name in AUTHOR_SECTIONS:
            section = text.split(f"## {SECTIONS[name][0]}\n")[1].split("\n## ")[0]
            assert f"_{PLACEHOLDER}_" in section
        actions = text.split("## Action items\n")[1].split("\n## ")[0]
        assert f"- [ ] _{PLACEHOLDER}_ (what, who, by when)" in actions
        impact = text.split("## Impact\n")[1].split("\n## ")[0]
        assert "From the logs: 10 of 10 traces failed, for 10 users" in impact


class TestHtml:
    def test_self_contained(self, sample_html: Path) -> None:
        """Charts inline as PNG data, no scripts, no links out, a CSP that forbids them."""
        page = sample_html.read_text(encoding="utf-8")
        assert 4 == page.count('<img src="data:image/png;base64,')
        assert "default-src 'none'; img-src data:; style-src 'unsafe-inline'" in page
        for outside in ("<script", "<link", 'src="http', "@import", "url("):
            assert outside not in page

    def test_every_section(self, sample_html: Path) -> None:
        """A section element and heading per postmortem section, in order."""
        page = sample_html.read_text(encoding="utf-8")
        found = re.findall(r'<section id="(\w+)"><h2>([^<]+)</h2>', page)
        assert [(name, title) for name, (title, _) in SECTIONS.items()] == found

    def test_log_content_is_escaped(self, tiny_html: str) -> None:
        """A message with markup shows as text; no tag or link gets through."""
        page = tiny_html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
        assert "<script" not in page and 'href="http' not in page


class TestMarkdown:
    def test_every_section(self, tiny_pm: Postmortem) -> None:
        """A heading per section, and the headline quoted under the title."""
        text = render_markdown(tiny_pm)
        headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
        assert [title for title, _ in SECTIONS.values()] == headings
        assert f"> {tiny_pm.headline()}" in text

    def test_log_content_is_escaped(self, tiny_pm: Postmortem) -> None:
        """Table cells cannot break the table, open a link or inject HTML."""
        text = render_markdown(tiny_pm)
        assert (
            r'\<script\>alert("x")\</script\> \| \[click\](http://example.invalid) \`code\`' in text
        )

    def test_file_gets_its_charts_beside_it(self, tiny_pm: Postmortem, tmp_path: Path) -> None:
        """pm.md links pm_charts/NAME.png, and the PNGs are there."""
        text = write_report(tiny_pm, tmp_path / "pm.md", "md").read_text(encoding="utf-8")
        links = re.findall(r"\]\((pm_charts/\w+\.png)\)", text)
        assert ["pm_charts/timeline.png", "pm_charts/latency.png", "pm_charts/traces.png",
                "pm_charts/llm.png"] == links  # fmt: skip
        for link in links:
            assert (tmp_path / link).read_bytes().startswith(b"\x89PNG")


class TestCommand:
    """Output through click's CliRunner; the error exit through a real process, because
    `logkit.cli.main` is where a LogkitError becomes `Error: ...`."""

    def test_writes_html_and_says_so(self, tiny: logkit.Store, tmp_path: Path) -> None:
        """`logkit report -o FILE` writes the page and names the window on stderr."""
        out = tmp_path / "pm.html"
        result = invoke(tiny, "report", *_window_args(), "-o", str(out))
        assert (
            f"wrote {out}: postmortem of 2026-03-01 10:10:00 to 10:20:00 UTC (10 min)\n"
            == result.stderr
        )
        assert out.read_text(encoding="utf-8").startswith("<!doctype html>")

    def test_markdown_to_stdout(self, tiny: logkit.Store) -> None:
        """--format md without -o prints Markdown, the window detected when not given."""
        result = invoke(tiny, "report", "--format", "md")
        assert result.stdout.startswith(
            "# Postmortem: 2026-03-01 10:10:00 to 10:20:00 UTC (10 min)\n"
        )
        assert (
            "postmortem of 2026-03-01 10:10:00 to 10:20:00 UTC (10 min) (detected)\n"
            == result.stderr
        )

    def test_until_alone_is_an_error(self, tiny: logkit.Store) -> None:
        """Exit 1 with the fix in the message."""
        proc = run_logkit("report", "--until", "2026-03-01T10:20Z", db=tiny.path, check=False)
        assert 1 == proc.returncode
        assert (
            "Error: give --since with --until (or neither, to detect the incident window)\n"
            == proc.stderr.decode()
        )


def invoke(store: logkit.Store, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--db", str(store.path), *args], catch_exceptions=False)
    assert 0 == result.exit_code, result.output
    return result


def _window_args() -> list[str]:
    return ["--since", TINY_WINDOW["since"], "--until", TINY_WINDOW["until"]]


# -- in a browser --------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
]  # fmt: skip
CHART_BLUE = (0x1E, 0x88, 0xE5)  # the first service's colour in every chart


def open_in_chromium(page: Path, tmp_path: Path) -> tuple[str, Path, list[str]]:
    """Load the page headless: its DOM, a screenshot, and the console messages."""
    shot = tmp_path / "page.png"
    proc = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1280,2400", f"--screenshot={shot}", "--dump-dom", page.as_uri()],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    console = [
        line
        for line in proc.stderr.decode(errors="replace").splitlines()
        if ":CONSOLE" in line or "Uncaught" in line
    ]
    return proc.stdout.decode(), shot, console


# Measures the laid-out page: the caption of every table wider than its box, and whether the
# page itself is wider than the window. The report forbids scripts (its CSP), so the test
# loads a copy without the policy and with this script, and reads the answer from the DOM.
OVERFLOW_PROBE = """<script>
const wide = [...document.querySelectorAll(".scroll")]
  .filter((box) => box.scrollWidth > box.clientWidth + 1)
  .map((box) => box.querySelector("caption").textContent);
if (document.documentElement.scrollWidth > window.innerWidth) wide.push("the page");
document.body.setAttribute("data-overflow", JSON.stringify(wide));
</script>"""


def overflowing(page: Path, tmp_path: Path, width: int) -> list[str]:
    """What overflows sideways when `page` is shown in a window `width` pixels wide."""
    probe = tmp_path / f"probe-{page.name}"
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page.read_text())
    probe.write_text(text.replace("</body>", OVERFLOW_PROBE + "</body>"))
    proc = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         f"--window-size={width},900", "--dump-dom", probe.as_uri()],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    found = re.search(r'data-overflow="([^"]*)"', proc.stdout.decode())
    assert found, "the probe did not run"
    return orjson.loads(found.group(1).replace("&quot;", '"'))


@pytest.fixture(scope="module")
def wide_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report whose tables hold what widens them: 64-digit trace ids, a long service name,
    an error type of 40 letters and a message that is one 150-character word."""
    directory = tmp_path_factory.mktemp("wide")
    logs = directory / "logs"
    logs.mkdir()
    records = []
    for minute in range(20):
        failing = minute >= 10
        records.append({
            "timestamp": _at(minute), "service": "checkout-payments-gateway-eu-west-1",
            "trace_id": f"{minute:064x}", "user_id": f"user-{minute:040d}",
            "level": "error" if failing else "info", "status_code": 502 if failing else 200,
            "duration_ms": 120, "message": "https://example.invalid/" + "x" * 126
            if failing else "ok", **({"error_type": "VeryLongUpstreamProviderRejectionError"}
                                     if failing else {}),
        })  # fmt: skip
    (logs / "wide.log").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    store = logkit.open(directory / "logkit.duckdb")
    store.ingest([str(logs)])
    pm = analyze(store, **TINY_WINDOW)
    return write_report(pm, directory / "wide.html")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (scripts/system-deps.sh)")
class TestLayout:
    """At 1400 px, the width of a laptop's browser window, every table fits the page."""

    @pytest.mark.parametrize("report", ["sample_html", "wide_html"])
    def test_no_table_overflows_at_1400_px(
        self, report: str, request: pytest.FixtureRequest, tmp_path: Path
    ) -> None:
        assert [] == overflowing(request.getfixturevalue(report), tmp_path, 1400)

    def test_the_probe_sees_an_overflow(self, tiny_html: str, tmp_path: Path) -> None:
        """The check above can fail: a table cell that will not wrap is found."""
        page = tmp_path / "wide.html"
        cell = '<td style="white-space: nowrap">' + "wide " * 400 + "</td>"
        page.write_text(tiny_html.replace("<td", cell + "<td", 1))
        caption = "By service (events without a service are named after their file)"
        assert [caption] == overflowing(page, tmp_path, 1400)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (scripts/system-deps.sh)")
class TestInChromium:
    def test_page_shows_sections_and_charts(self, sample_html: Path, tmp_path: Path) -> None:
        """Every section and all four charts are in the rendered page, with no console
        errors, and the screenshot shows the page with the charts drawn."""
        import matplotlib.image

        dom, shot, console = open_in_chromium(sample_html, tmp_path)
        assert [] == console
        for name, (title, _) in SECTIONS.items():
            assert f'<section id="{name}"><h2>{title}</h2>' in dom
        assert 4 == len(re.findall(r'<img src="data:image/png;base64,[^"]{1000,}"', dom))
        pixels = (matplotlib.image.imread(shot)[:, :, :3] * 255).round().astype(int)
        assert (2400, 1280) == pixels.shape[:2]
        assert len({tuple(p) for p in pixels.reshape(-1, 3)[::97]}) > 50  # not blank
        blue = (abs(pixels - CHART_BLUE).max(axis=2) <= 8).sum()
        assert blue > 2000  # the timeline's bars are on screen

    def test_console_errors_are_caught(self, tiny_html: str, tmp_path: Path) -> None:
        """The check above can fail: a script slipped into the page is refused by the
        page's own policy, and the refusal reaches the console lines collected."""
        page = tmp_path / "bad.html"
        page.write_text(tiny_html.replace("</main>", "<script>1</script></main>"))
        _, _, console = open_in_chromium(page, tmp_path)
        assert any("Content Security Policy" in line for line in console), console


def test_control_characters_in_names_are_drawn_as_escapes_without_warnings(tmp_path):
    """A service name with a NUL, an escape sequence and a tab: no font warning reaches the user's
    terminal, and the chart labels show the escapes."""
    pytest.importorskip("matplotlib")
    lines = [
        orjson.dumps({"timestamp": _at(minute), "service": "api\x00\x1b[31m\tb", "level": "error",
                      "message": "boom", "error_type": "BoomError", "trace_id": f"t{minute}"})
        for minute in range(12, 16)
    ]  # fmt: skip
    (tmp_path / "odd.log").write_bytes(b"\n".join(lines) + b"\n")
    store = logkit.open(tmp_path / "logkit.duckdb")
    store.ingest([str(tmp_path / "odd.log")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        html = render_html(analyze(store, **TINY_WINDOW))
    assert [] == [str(w.message) for w in caught]
    assert "<img" in html
