"""Incident postmortems: one analysis, shown by the notebook and rendered by `logkit report`.

`analyze(store, since=..., until=...)` asks the store what a postmortem needs to know about one
incident window `[since, until)` and returns a `Postmortem`: a polars DataFrame per section, a
`summary` dict of scalars, and `*_figure()` methods that draw the charts.
notebooks/incident_postmortem.ipynb displays these objects and logkit/report.py renders the
same objects to HTML or Markdown, so there is one analysis, not two copies that drift apart.

Choices worth knowing:

* Every number in the window is set against a baseline: the span of the same length just
  before it. "5 % errors" means little; "5 % against 0.4 % in the ten minutes before" is the
  postmortem's first sentence.
* The analysis reads the store through `Store.sql()` (bound parameters on the locked-down
  read-only connection) and `Store.trace()`. Its queries are files, `queries/report/*.sql`;
  the service label, "is an error" and the error fingerprint are macros (logkit/macros.py),
  and the `services=` filter is a bound list (NULL: every service).
* Many services do not log their own name (structlog, Celery and pino records in the sample
  logs carry none), and a timeline "by service" that is 80 % `(none)` shows nothing. Events
  without a `service` are labelled by the file they came from, up to its first dot
  (`service_label`): `api.log` and `api.log.1.gz` both become `api`. `services=` filters on
  that label too.
* A trace fails when one of its events is an error (level ERROR or CRITICAL, as everywhere
  in logkit); its first error says where it failed. The service and error type that most
  failing traces failed with first is the likely cause (`summary["cause"]`), which beats
  counting errors: a rate-limited gateway call makes the api log an error too, later.
* With no window given, `detect_window` finds one: the span of whole minutes in which the
  share of failing requests (traces, counted at their first event, and events without a
  trace) rises furthest above the rest of the store, by the likelihood-ratio scan statistic
  for a binomial rate. Counting a request at its start keeps the slow failures that end
  after the incident inside it, and the scan needs no threshold to tune.
* Charts are matplotlib figures made with its object API (`matplotlib.figure.Figure`), not
  pyplot: there is no global backend or figure state, so drawing one neither opens a window
  in the CLI nor switches a notebook's inline backend, and `savefig` renders PNG with Agg.
  matplotlib because the charts must be static, readable and self-contained: a PNG needs no
  JavaScript, no network and no browser to draw it, prints, and pastes into an incident doc.
  It is imported only when a chart is drawn.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .errors import LogkitError, NotFound, TimeValueError
from .macros import ERROR_LEVELS
from .output import format_ms
from .sqlfiles import statement
from .timeparse import time_range

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.figure import Figure

    from .store import Store

BUCKETS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400)
MAX_BARS = 150  # buckets per chart (baseline, window, aftermath): per minute up to 1 h windows
MAX_INCIDENT_MINUTES = 12 * 60  # the longest window detect_window considers
MIN_EVIDENCE = 10.0  # log-likelihood ratio below which a rise is noise, not an incident
SHOWN = 20  # the slowest traces and the first rejected lines kept
TOP_SERVICES = 8  # the rest are drawn together as "other"
# Sections the analysis cannot write: left in every report as placeholders for the author.
AUTHOR_SECTIONS = ("impact", "root_cause", "action_items")

SECTIONS: dict[str, tuple[str, str]] = {
    "summary": (
        "Summary",
        "What happened, how bad it was, and against what: every rate is compared with the "
        "same length of time just before the window (the baseline).",
    ),
    "impact": (
        "Impact",
        "For the author: who and what was affected, for how long, and how it was noticed.",
    ),
    "root_cause": (
        "Root cause",
        "For the author: why it happened, beyond the error the logs show, and what ended it.",
    ),
    "action_items": (
        "Action items",
        "For the author: what will be done so it does not happen again or is caught sooner, "
        "each with an owner.",
    ),
    "timeline": (
        "Timeline",
        "Error rate, errors and events per minute by service, over the baseline and the "
        "window (shaded).",
    ),
    "errors": (
        "Error groups",
        "Errors grouped by fingerprint (the message with its numbers, ids and quoted values "
        "replaced), with first and last seen, an example trace, and how many of the same the "
        "baseline had.",
    ),
    "latency": (
        "Latency",
        "p50, p95 and p99 of request durations over time (events with both a status code and "
        "a duration; any event with a duration when there are none).",
    ),
    "traces": (
        "Slowest and failing traces",
        "Requests that failed in the window and those that took longest; the waterfall "
        "shows the worst one service by service, errors in red.",
    ),
    "users": (
        "Affected users",
        "Users whose requests failed in the window, with ids as stored (masked or "
        "pseudonymised when the store is configured so).",
    ),
    "llm": (
        "LLM tokens and cost",
        "LLM calls per model in the window against the baseline: calls, failures, tokens and cost.",
    ),
    "rejects": (
        "Rejected lines",
        "Lines quarantined at ingest between the first and last line each file logged in "
        "the window: a hint of logging trouble.",
    ),
}


@dataclass(frozen=True)
class Window:
    """The incident window `[since, until)` (aware UTC) and whether it was detected."""

    since: datetime
    until: datetime
    detected: bool = False

    @property
    def length(self) -> timedelta:
        return self.until - self.since

    @property
    def baseline_since(self) -> datetime:
        """The start of the baseline: the same length of time just before the window."""
        return self.since - self.length

    def __str__(self) -> str:
        day = f"{self.since:%Y-%m-%d}"
        end = f"{self.until:%H:%M:%S}" if f"{self.until:%Y-%m-%d}" == day else _iso(self.until)
        return f"{day} {self.since:%H:%M:%S} to {end} UTC ({duration(self.length)})"

    @property
    def aftermath_until(self) -> datetime:
        """The end of the charts: a quarter of the window's length past it (in whole
        minutes), to show the recovery, or that there was none."""
        return self.until + timedelta(minutes=math.ceil(self.length.total_seconds() / 240))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(delta: timedelta) -> str:
    """A window's length for people: `10 min`, `1 h 30 min`, `2 d 4 h`, `45 s`."""
    rest = round(delta.total_seconds())
    parts = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {unit}")
    return " ".join(parts[:2]) or "0 s"


# -- the window ----------------------------------------------------------------------------


def detect_window(store: Store, *, services: Sequence[str] | None = None) -> Window:
    """The span of whole minutes where the share of failing requests rose most.

    Requests are traces, counted in the minute of their first event, and events without a
    trace; a request fails when it has an error. Among spans of up to 12 hours, the one with
    the largest log-likelihood ratio of "a higher failure rate inside than outside" over "one
    rate throughout" wins. Raises `NotFound` when no span stands out.
    """
    frame = store.sql(
        statement("report/request_minutes"), {"services": list(services) if services else None}
    )
    where = f" for {', '.join(services)}" if services else ""
    if frame.is_empty() or frame["failed"].sum() == 0:
        raise NotFound(
            f"no errors{where} in {store.path}, so no incident window to find; "
            "give --since and --until"
        )
    # Only the minutes that have requests: an empty minute adds nothing inside or outside a
    # span, and one record dated 9999 must not make a minute-by-minute array up to it.
    minutes = frame["minute"].to_numpy()
    n = frame["requests"].to_numpy().astype(float)
    e = frame["failed"].to_numpy().astype(float)
    best, span = _scan(minutes, n, e)
    if best < MIN_EVIDENCE or span is None:
        raise NotFound(
            f"the error rate{where} in {store.path} never rises clearly above its usual "
            "level, so there is no incident window to find; give --since and --until"
        )
    start, stop = span
    return Window(
        datetime.fromtimestamp(start * 60, UTC),
        datetime.fromtimestamp(stop * 60, UTC),
        detected=True,
    )


def _scan(minutes: Any, n: Any, e: Any) -> tuple[float, tuple[int, int] | None]:
    """Kulldorff's scan statistic over spans of whole minutes: (best ratio, (first minute,
    minute after the last)). `minutes` are the ascending minutes that had requests, `n` and
    `e` their requests and failures; a span runs from one of them to another at most
    MAX_INCIDENT_MINUTES later, so the work grows with the minutes that exist, not with the
    time between the first and the last."""
    import numpy as np

    def loglik(events: Any, trials: Any) -> Any:
        rate = np.divide(events, trials, out=np.zeros_like(trials), where=trials > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            hits = np.where(events > 0, events * np.log(np.where(rate > 0, rate, 1)), 0)
            misses = trials - events
            return hits + np.where(misses > 0, misses * np.log(np.where(rate < 1, 1 - rate, 1)), 0)

    cn, ce = np.concatenate([[0], np.cumsum(n)]), np.concatenate([[0], np.cumsum(e)])
    total_n, total_e = cn[-1], ce[-1]
    null = loglik(np.array([total_e]), np.array([total_n]))[0]
    best, span = 0.0, None
    # For each start i, the spans end after minute k for i <= k < ends[i] (within 12 hours).
    ends = np.searchsorted(minutes, minutes + MAX_INCIDENT_MINUTES, side="left")
    for i in range(len(n)):
        j = np.arange(i + 1, ends[i] + 1)
        n_in, e_in = cn[j] - cn[i], ce[j] - ce[i]
        n_out, e_out = total_n - n_in, total_e - e_in
        ratio = loglik(e_in, n_in) + loglik(e_out, n_out) - null
        # Only a rise counts, and only from a minute that had a failure (a span starting on
        # a quiet minute is the same incident with a worse start).
        higher = e_in * np.maximum(n_out, 1) > e_out * np.maximum(n_in, 1)
        ratio = np.where(higher & (e[i] > 0) & (e[j - 1] > 0), ratio, -1.0)
        k = int(np.argmax(ratio))
        if ratio[k] > best:
            best, span = float(ratio[k]), (int(minutes[i]), int(minutes[j[k] - 1]) + 1)
    return best, span


def resolve_window(
    store: Store,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    *,
    services: Sequence[str] | None = None,
) -> Window:
    """The window from --since/--until (`until` defaults to now), or detected without both."""
    if since is None and until is None:
        return detect_window(store, services=services)
    if since is None:
        raise TimeValueError(
            "give --since with --until (or neither, to detect the incident window)"
        )
    start, end = time_range(since, until)
    end = end or datetime.now(UTC)
    if start is None or start >= end:
        raise TimeValueError("--since must be before --until")
    window = Window(start, end)
    try:  # the charts reach from the baseline to a bucket past the aftermath
        _ = window.baseline_since, window.aftermath_until + 2 * _bucket(window)
    except OverflowError:
        raise TimeValueError(
            f"the window {_iso(start)} to {_iso(end)} with its baseline before it and its "
            "aftermath after it reaches past the year 1 or 9999; give a narrower window"
        ) from None
    return window


# -- the analysis --------------------------------------------------------------------------


def _bucket(window: Window) -> timedelta:
    """The smallest whole bucket that draws the window and its baseline in MAX_BARS bars."""
    seconds = 2.25 * window.length.total_seconds() / MAX_BARS
    if seconds > BUCKETS[-1]:
        # Whole days past the largest bucket: a window of years still draws MAX_BARS bars.
        return timedelta(days=math.ceil(seconds / BUCKETS[-1]))
    return timedelta(seconds=next(b for b in BUCKETS if b >= seconds))


@dataclass(repr=False)
class Postmortem:
    """Everything a postmortem shows about one window; made by `analyze()`.

    Frames (polars DataFrames, times as UTC datetimes, durations in ms):

    * `services`: per service, events, errors and error rate in the window and the baseline;
    * `timeline`: per bucket and service, events and errors, over baseline and window;
    * `error_groups`: errors by service, error type and fingerprint, with `baseline` counts;
    * `latency`: per bucket, requests and p50/p95/p99 duration;
    * `failing` (every trace with an error in the window, slowest first), `causes` (failing
      traces by where they failed first, with when the first and the last of them did) and
      `slowest` (the `SHOWN` slowest traces);
    * `trace_events` and `waterfall`: the worst trace (or the one asked for);
    * `users`: users whose traces failed; `llm`, `llm_timeline`: calls, tokens and cost by
      model; `rejects` (by reason) and `rejected_lines` (the first `SHOWN`).

    `totals` holds how many rows a frame cut short stands for (`slowest`: the traces of the
    window; `rejected_lines`: the lines), so every table can say "showing 20 of 69".
    """

    store_path: str
    window: Window
    services_filter: tuple[str, ...] | None
    bucket: timedelta
    summary: dict[str, Any] = field(default_factory=dict)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    trace_id: str | None = None
    latency_of: str = "requests"
    totals: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pl.DataFrame:
        # The frames read as attributes: pm.timeline, pm.error_groups.
        frames = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(name)

    def __dir__(self) -> Iterable[str]:
        return [*super().__dir__(), *self.frames]

    def __repr__(self) -> str:
        errors = self.summary.get("errors")
        counted = "" if errors is None else ", " + _count(errors, "error")
        return f"<Postmortem {self.window}{counted}>"

    # -- words -----------------------------------------------------------------------------

    def headline(self) -> str:
        """The postmortem in one sentence."""
        s = self.summary
        text = (
            f"From {self.window} the error rate was {format_rate(s['error_rate'])} "
            f"({_count(s['errors'], 'error')} in {_count(s['events'], 'event')}) against "
            f"{format_rate(s['baseline_error_rate'])} in the {duration(self.window.length)} "
            f"before; {s['failing_traces']:,} of {_count(s['traces'], 'trace')} failed, for "
            f"{_count(s['affected_users'], 'user')}."
        )
        cause = s["cause"]
        if cause:
            text += (
                f" Most failed first with {cause['error_type'] or 'an error'} in "
                f"{cause['service']} ({_count(cause['traces'], 'trace')})."
            )
        return text

    def facts(self) -> list[tuple[str, str]]:
        """The summary as (label, text) pairs, for people."""
        s, window = self.summary, self.window
        rate, baseline = format_rate(s["error_rate"]), format_rate(s["baseline_error_rate"])
        facts = [
            ("Window", f"{window}{' · detected from the error rate' if window.detected else ''}"),
            ("Baseline", f"the {duration(window.length)} before it, from "
                         f"{format_time(window.baseline_since)}"),
            ("Events", f"{s['events']:,} (baseline {s['baseline_events']:,})"),
            ("Errors", f"{s['errors']:,} (baseline {s['baseline_errors']:,})"),
            ("Error rate", f"{rate} against {baseline}"),
            ("Failing traces", f"{s['failing_traces']:,} of {s['traces']:,}"),
            ("Affected users", f"{s['affected_users']:,}"),
            ("Services with errors", ", ".join(s["services_with_errors"]) or "none"),
        ]  # fmt: skip
        cause = s["cause"]
        if cause:
            facts.append(
                ("Likely cause", f"{cause['error_type'] or '(no error type)'} in "
                 f"{cause['service']} (first error of {cause['traces']:,} failing traces)")
            )  # fmt: skip
        first = s["first_error"]
        if first:
            facts.append(
                ("First error", f"{format_time(first['ts'])} {first['error_type'] or 'error'} in "
                 f"{first['service']}: {_clip(first['message'] or '', 160)}")
            )  # fmt: skip
        if self.services_filter:
            facts.append(("Services", ", ".join(self.services_filter)))
        if s["rejected_lines"]:
            facts.append(("Rejected lines", f"{s['rejected_lines']:,}"))
        return facts

    def drafts(self) -> dict[str, str]:
        """What the logs say towards each author's section (`AUTHOR_SECTIONS`), as a first
        line for the author to keep, correct or delete; empty where they say nothing."""
        s = self.summary
        failing = self.frames.get("failing")
        impact = (
            f"{s['failing_traces']:,} of {_count(s['traces'], 'trace')} failed, for "
            f"{_count(s['affected_users'], 'user')}"
        )
        if failing is not None and failing.height:
            first, last = failing["failed_at"].min(), failing["failed_at"].max()
            impact += f", from {format_time(first)} to {format_time(last)} UTC"  # type: ignore[arg-type]
        impact += f"; error rate {format_rate(s['error_rate'])} against "
        impact += f"{format_rate(s['baseline_error_rate'])} before."
        cause, first_error = s["cause"], s["first_error"]
        root = ""
        if cause:
            root = (
                f"{cause['traces']:,} of {s['failing_traces']:,} failing traces failed first "
                f"with {cause['error_type'] or 'an error'} in {cause['service']}"
            )
            if first_error:
                root += f"; the first error was at {format_time(first_error['ts'])} UTC"
            root += "."
        return {"impact": impact, "root_cause": root, "action_items": ""}

    # -- charts ----------------------------------------------------------------------------

    def figures(self) -> dict[str, Figure]:
        """Every chart that has something to show, by section name."""
        charts = {
            "timeline": self.timeline_figure,
            "latency": self.latency_figure,
            "traces": self.waterfall_figure,
            "llm": self.llm_figure,
        }
        return {name: fig for name, draw in charts.items() if (fig := draw()) is not None}

    def service_colors(self) -> dict[str, str]:
        """One colour per service, the same in every chart (the busiest first)."""
        return _colors(_top(self.timeline, "service", "events"))

    def timeline_figure(self) -> Figure | None:
        """Error rate, errors by service and events by service per bucket."""
        import polars as pl

        frame = self.timeline
        if frame.is_empty():
            return None
        fig, (rate_ax, err_ax, ev_ax) = _figure(3, height=7.2, ratios=(1, 1.2, 1.2))
        totals = _complete(frame.group_by("bucket").agg(pl.sum("events", "errors")), self)
        rate = (totals["errors"] / totals["events"]).fill_nan(None) * 100
        rate_ax.plot(self._centres(totals), rate.to_list(), color=ERROR_RED, marker="o",
                     markersize=2.5, linewidth=1.4, label="error rate")  # fmt: skip
        baseline = self.summary["baseline_error_rate"]
        if baseline is not None:
            rate_ax.axhline(100 * baseline, color="#555", linestyle="--", linewidth=1,
                            label=f"baseline {format_rate(baseline)}")  # fmt: skip
        rate_ax.set_ylabel("error rate %")
        rate_ax.legend(loc="upper left", fontsize=8, frameon=False)
        colors = self.service_colors()
        top = [name for name in colors if name != "other"]
        for ax, column in ((err_ax, "errors"), (ev_ax, "events")):
            self._stacked_bars(ax, frame, "service", column, colors)
            ax.set_ylabel(f"{column} / {_bucket_label(self.bucket)}")
        ev_ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=min(5, len(top) + 1))
        for ax in (rate_ax, err_ax, ev_ax):
            self._mark_window(ax)
        _time_axis(ev_ax)
        rate_ax.set_title(f"Events and errors per {_bucket_label(self.bucket)}, by service")
        return fig

    def latency_figure(self) -> Figure | None:
        """p50/p95/p99 duration per bucket."""
        frame = self.latency
        if frame.is_empty():
            return None
        fig, (ax,) = _figure(1, height=3.4)
        # p95 and p99 often run together: a marker and a dash of their own keep each one
        # visible where it lies on another (and in black and white).
        for column, color, marker, style in (("p50_ms", "#1e88e5", "o", "-"),
                                             ("p95_ms", "#fb8c00", "s", "--"),
                                             ("p99_ms", ERROR_RED, "^", ":")):  # fmt: skip
            ax.plot(self._centres(frame), frame[column].to_list(), color=color, linewidth=1.6,
                    linestyle=style, marker=marker, markersize=5, markerfacecolor="none",
                    markeredgewidth=1.2, label=column.removesuffix("_ms"))  # fmt: skip
        high, low = frame["p99_ms"].max(), frame["p50_ms"].min()
        if isinstance(high, float) and isinstance(low, float) and low > 0 and high / low > 30:
            ax.set_yscale("log")
        ax.yaxis.set_major_formatter(_ms_formatter())
        ax.set_ylabel("duration")
        ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=3)
        ax.set_title(f"Latency of {self.latency_of} per {_bucket_label(self.bucket)}")
        self._mark_window(ax)
        _time_axis(ax)
        return fig

    def waterfall_figure(self) -> Figure | None:
        """The worst trace: per service, when it was seen (solid), how long before its last
        event it said it was busy (pale), and each event (errors as red crosses)."""
        rows = self.waterfall
        if rows.is_empty():
            return None
        events = self.trace_events
        longest = max(len(name) for name in rows["service"].to_list())
        left = min(3.5, 0.3 + 0.085 * longest)  # inches for the service names
        fig, (ax,) = _figure(1, height=1.3 + 0.5 * rows.height, left=left)
        colors = self.service_colors()
        for y, row in enumerate(rows.iter_rows(named=True)):
            first, last, busy = row["first_ms"], row["last_ms"], row["reported_ms"]
            color = colors.get(row["service"], OTHER_GREY)
            if busy:
                start = max(0.0, last - busy)
                ax.barh(y, last - start, left=start, height=0.5, color=color, alpha=0.3)
            ax.barh(y, max(last - first, 0.0), left=first, height=0.5, color=color)
            mine = events.filter(events["label"] == row["service"])
            for is_error, marker, mcolor in ((False, "|", "#222"), (True, "x", ERROR_RED)):
                shown = mine.filter(mine["is_error"] == is_error)
                ax.plot(shown["offset_ms"].to_list(), [y] * shown.height, marker, color=mcolor,
                        markersize=10, markeredgewidth=2, zorder=3)  # fmt: skip
        ax.set_yticks(range(rows.height), [_safe(n) for n in rows["service"].to_list()])
        ax.set_ylim(rows.height - 0.4, -0.6)
        ax.xaxis.set_major_formatter(_ms_formatter())
        ax.set_xlabel("time since the trace's first event")
        s = self.summary.get("trace") or {}
        title = f"Trace {self.trace_id} · {format_ms(s.get('total_ms'))} · {s.get('outcome', '')}"
        first = s.get("first_error")
        if first:
            title += f": {first['error_type'] or 'error'} in {first['service'] or '(none)'}"
        ax.set_title(_safe(_clip(title, 110)), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        return fig

    def llm_figure(self) -> Figure | None:
        """Tokens and cost per bucket by model."""
        frame = self.llm_timeline
        if frame.is_empty():
            return None
        fig, (tok_ax, cost_ax) = _figure(2, height=4.8)
        colors = _colors(_top(frame, "model", "tokens"))
        self._stacked_bars(tok_ax, frame, "model", "tokens", colors)
        self._stacked_bars(cost_ax, frame, "model", "cost_usd", colors)
        tok_ax.set_ylabel(f"tokens / {_bucket_label(self.bucket)}")
        tok_ax.yaxis.set_major_formatter(_count_formatter())
        cost_ax.set_ylabel(f"USD / {_bucket_label(self.bucket)}")
        cost_ax.yaxis.set_major_formatter(_usd_formatter())
        tok_ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=min(5, len(colors)))
        tok_ax.set_title("LLM tokens and cost by model")
        for ax in (tok_ax, cost_ax):
            self._mark_window(ax)
        _time_axis(cost_ax)
        return fig

    def _centres(self, frame: pl.DataFrame) -> list[datetime]:
        return [t + self.bucket / 2 for t in frame["bucket"].to_list()]

    def _stacked_bars(
        self, ax: Any, frame: pl.DataFrame, key: str, column: str, colors: dict[str, str]
    ) -> None:
        """One bar per bucket, stacked by `key` in the order of `colors`; the rest as other."""
        import matplotlib.dates as mdates
        import polars as pl

        named = [name for name in colors if name != "other"]
        group = pl.when(pl.col(key).is_in(named)).then(pl.col(key)).otherwise(pl.lit(None))
        sums = frame.group_by("bucket", group.alias("group")).agg(pl.col(column).sum())
        grid = _complete(sums.head(0).drop("group"), self)["bucket"].to_list()
        edges = mdates.date2num([*grid, grid[-1] + self.bucket])
        bottom = [0.0] * len(grid)
        for name in [*named, None]:
            part = sums.filter(pl.col("group").eq_missing(name)).drop("group")
            if part.is_empty():
                continue
            values = _complete(part, self)[column].fill_null(0).cast(pl.Float64).to_list()
            top = [a + b for a, b in zip(bottom, values, strict=True)]
            # One filled step outline per series: bars drawn as stairs are one artist rather
            # than a rectangle per bucket, which keeps a 120-bucket chart quick to draw.
            label = name or "other"
            ax.stairs(top, edges, baseline=bottom, fill=True, linewidth=0, label=_safe(label),
                      color=colors.get(label, OTHER_GREY))  # fmt: skip
            bottom = top

    def _mark_window(self, ax: Any) -> None:
        ax.axvspan(self.window.since, self.window.until, color=ERROR_RED, alpha=0.07, linewidth=0)
        for edge in (self.window.since, self.window.until):
            ax.axvline(edge, color=ERROR_RED, linewidth=0.8, alpha=0.6)
        ax.set_xlim(self.window.baseline_since, self.window.aftermath_until)
        ax.grid(axis="y", alpha=0.3)


def analyze(
    store: Store,
    *,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    trace_id: str | None = None,
    services: Sequence[str] | None = None,
) -> Postmortem:
    """Analyse the incident window `[since, until)` (detected when both are None).

    `services` limits events to those services (by label, see the module docstring) and
    traces to those that passed through them. `trace_id` (or a unique prefix) picks the trace
    drawn as a waterfall; by default it is the slowest of the traces that failed the way
    most did.

    Examples:
        >>> pm = analyze(store, since="2026-11-01T00:36Z", until="2026-11-01T00:46Z")
        ... # doctest: +SKIP
        >>> pm.headline()  # doctest: +SKIP
        'From 2026-11-01 00:36:00 to 00:46:00 UTC (10 min) the error rate was 11.0% ...'
        >>> pm.error_groups  # doctest: +SKIP
        shape: (6, 9)
        columns: service, error_type, fingerprint, count, baseline, first_seen, last_seen,
                 example_trace, example
    """
    services = tuple(services) if services else None
    window = resolve_window(store, since, until, services=services)
    return _Analysis(store, window, services).run(trace_id)


class _Analysis:
    """The queries behind `analyze`, sharing the window's bound parameters."""

    def __init__(self, store: Store, window: Window, services: tuple[str, ...] | None) -> None:
        self.store, self.window, self.services = store, window, services
        self.bucket = _bucket(window)
        self.params: dict[str, Any] = {
            "since": window.since,
            "until": window.until,
            "baseline": window.baseline_since,
            "after": window.aftermath_until,
            # The service labels to keep to (logkit/macros.py), or None for all.
            "services": list(services) if services else None,
        }

    def sql(self, name: str, **extra: Any) -> pl.DataFrame:
        """The answer of `queries/report/NAME.sql`, given the parameters it binds."""
        sql = statement(f"report/{name}")
        used = {k: v for k, v in {**self.params, **extra}.items() if f"${k}" in sql}
        return self.store.sql(sql, used or None)

    def run(self, trace_id: str | None) -> Postmortem:
        pm = Postmortem(
            store_path=str(self.store.path),
            window=self.window,
            services_filter=self.services,
            bucket=self.bucket,
        )
        f = pm.frames
        totals = self.totals()
        if not totals["events"]:
            raise self.no_events()
        f["services"] = self.service_table()
        f["timeline"] = self.timeline()
        f["latency"], pm.latency_of = self.latency()
        f["error_groups"] = self.error_groups()
        failing = self.failing()
        f["causes"] = _causes(failing)
        f["failing"] = failing.sort(["span_ms", "trace_id"], descending=[True, False])
        f["slowest"] = self.slowest()
        f["users"] = _users(failing)
        f["llm"], f["llm_timeline"] = self.llm(), self.llm_timeline()
        f["rejects"], f["rejected_lines"] = self.rejects()
        worst = trace_id or _worst(failing, f["causes"], f["slowest"])
        f["trace_events"], f["waterfall"], trace = self.trace(worst)
        pm.trace_id = trace["trace_id"] if trace else None
        rejected = int(f["rejects"]["lines"].sum()) if f["rejects"].height else 0
        pm.totals = {"slowest": totals["traces"], "rejected_lines": rejected}
        cause = f["causes"].row(0, named=True) if not f["causes"].is_empty() else None
        pm.summary = {
            **totals,
            "window": self.window,
            "since": self.window.since,
            "until": self.window.until,
            "detected": self.window.detected,
            "baseline_since": self.window.baseline_since,
            "failing_traces": failing.height,
            "affected_users": f["users"].height,
            "services_with_errors": [
                s for s, n in f["services"].select("service", "errors").iter_rows() if n
            ],
            "first_error": self.first_error(),
            "cause": None
            if cause is None
            else {
                "service": cause["service"],
                "error_type": cause["error_type"],
                "traces": cause["traces"],
            },
            "trace": trace,
            "rejected_lines": rejected,
        }
        return pm

    def no_events(self) -> NotFound:
        info = self.store.overview()
        held = f"; it holds {_iso(info['first'])} to {_iso(info['last'])}" if info["first"] else ""
        where = f" for {', '.join(self.services)}" if self.services else ""
        return NotFound(
            f"no events{where} between {_iso(self.window.since)} and {_iso(self.window.until)}"
            f" in {self.store.path} (check --since/--until{held})"
        )

    def totals(self) -> dict[str, Any]:
        row = self.sql("totals").row(0, named=True)
        row["error_rate"] = row["errors"] / row["events"] if row["events"] else None
        row["baseline_error_rate"] = (
            row["baseline_errors"] / row["baseline_events"] if row["baseline_events"] else None
        )
        return row

    def service_table(self) -> pl.DataFrame:
        return self.sql("services")

    def timeline(self) -> pl.DataFrame:
        return self.sql("timeline", bucket_s=int(self.bucket.total_seconds()))

    def latency(self) -> tuple[pl.DataFrame, str]:
        """Durations of requests (events with a status code), else of any event with one."""
        frame = self._latency(requests_only=True)
        if not frame.is_empty():
            return frame, "requests"
        return self._latency(requests_only=False), "events with a duration"

    def _latency(self, *, requests_only: bool) -> pl.DataFrame:
        return self.sql(
            "latency", bucket_s=int(self.bucket.total_seconds()), requests_only=requests_only
        )

    def error_groups(self) -> pl.DataFrame:
        return self.sql("error_groups")

    def failing(self) -> pl.DataFrame:
        """Every trace with an error in the window, with where it failed first."""
        # The failing traces first, then the costly aggregates for those alone: a few
        # thousand traces rather than every trace of the hour.
        return self._traces("failing_trace_ids").sort(["start", "trace_id"])

    def slowest(self) -> pl.DataFrame:
        """The traces with the longest time from first to last event in the window."""
        return self._traces("slowest_trace_ids", shown=SHOWN).sort(
            ["span_ms", "trace_id"], descending=[True, False]
        )

    def _traces(self, chosen: str, **extra: Any) -> pl.DataFrame:
        """Per trace the `chosen` query names: its span in the window, services, events,
        errors, first error (when, service, type, message), last status and users."""
        traces = self.sql(chosen, **extra)["trace_id"].to_list()
        return self.sql("traces", traces=traces)

    def first_error(self) -> dict[str, Any] | None:
        frame = self.sql("first_error")
        return frame.row(0, named=True) if frame.height else None

    def llm(self) -> pl.DataFrame:
        return self.sql("llm")

    def llm_timeline(self) -> pl.DataFrame:
        return self.sql("llm_timeline", bucket_s=int(self.bucket.total_seconds()))

    def rejects(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Rejected lines lie between the first and last line each file logged in the window
        (rejects have no time of their own: they could not be read)."""
        spans = self.sql("reject_spans")
        within = {
            "sources": spans["source"].to_list(),
            "first_lines": spans["first_line"].to_list(),
            "last_lines": spans["last_line"].to_list(),
        }
        return self.sql("rejects_by_reason", **within), self.sql(
            "rejected_lines", **within, shown=SHOWN
        )

    def trace(self, trace_id: str | None) -> tuple[pl.DataFrame, pl.DataFrame, dict | None]:
        """The trace's events (with their service label and `is_error`), a waterfall row per
        label, and its summary."""
        import polars as pl

        if trace_id is None:
            columns = {"offset_ms": pl.Float64, "label": pl.String, "level": pl.String,
                       "message": pl.String, "duration_ms": pl.Float64,
                       "status_code": pl.Int32, "error_type": pl.String}  # fmt: skip
            return pl.DataFrame(schema=columns), pl.DataFrame(), None
        # One lookup gives both the events and the summary the CLI prints for the trace.
        report = self.store.trace_report(trace_id)
        events = pl.DataFrame(
            [{k: v for k, v in event.items() if k != "attrs"} for event in report.events],
            infer_schema_length=None,
        )
        label = pl.coalesce(
            pl.col("service"),
            pl.col("source").str.extract(r"([^/\\]*)$", 1).str.split(".").list.first(),
            pl.lit("(none)"),
        )
        events = events.with_columns(
            label.alias("label"),
            pl.col("level").is_in(ERROR_LEVELS).fill_null(False).alias("is_error"),
        )
        waterfall = (
            events.group_by("label", maintain_order=True)
            .agg(
                pl.col("offset_ms").min().alias("first_ms"),
                pl.col("offset_ms").max().alias("last_ms"),
                pl.len().alias("events"),
                pl.col("is_error").sum().alias("errors"),
                pl.col("duration_ms").max().alias("reported_ms"),
            )
            .rename({"label": "service"})
        )
        summary = report.summary()
        errors = events.filter(pl.col("is_error"))
        if summary["first_error"] is not None and errors.height:
            summary["first_error"]["service"] = errors["label"][0]
        return events, waterfall, summary


def _causes(failing: pl.DataFrame) -> pl.DataFrame:
    """Failing traces by the service and error type of their first error, most first, with
    the time of the first and of the last such first error (`first_failure`,
    `last_failure`): when the traces failed, not when they started, which can be long before."""
    import polars as pl

    if failing.is_empty():
        return pl.DataFrame(
            schema={"service": pl.String, "error_type": pl.String, "traces": pl.UInt32}
        )
    return (
        failing.group_by("error_service", "error_type")
        .agg(
            pl.len().alias("traces"),
            pl.col("failed_at").min().alias("first_failure"),
            pl.col("failed_at").max().alias("last_failure"),
            pl.col("trace_id").sort_by("failed_at").first().alias("example_trace"),
            pl.col("first_error").sort_by("failed_at").first().alias("example"),
        )
        .rename({"error_service": "service"})
        .sort(["traces", "first_failure"], descending=[True, False])
    )


def _users(failing: pl.DataFrame) -> pl.DataFrame:
    """Users of failing traces: how many failed for them, when (the first errors of the
    first and the last of them), and with what."""
    import polars as pl

    schema = {"user_id": pl.String, "failed_traces": pl.UInt32}
    if failing.is_empty():
        return pl.DataFrame(schema=schema)
    return (
        failing.explode("users")
        .drop_nulls("users")
        .group_by(pl.col("users").alias("user_id"))
        .agg(
            pl.len().alias("failed_traces"),
            pl.col("failed_at").min().alias("first_failure"),
            pl.col("failed_at").max().alias("last_failure"),
            pl.col("error_type").drop_nulls().unique().sort().str.join(", ").alias("errors"),
            pl.col("trace_id").sort_by("failed_at").first().alias("example_trace"),
        )
        .sort(["failed_traces", "first_failure", "user_id"], descending=[True, False, False])
    )


def _worst(failing: pl.DataFrame, causes: pl.DataFrame, slowest: pl.DataFrame) -> str | None:
    """The slowest trace that failed the way most did, else the slowest trace."""
    if causes.height:
        cause = causes.row(0, named=True)
        failing = failing.filter(
            failing["error_service"].eq_missing(cause["service"])
            & failing["error_type"].eq_missing(cause["error_type"])
        )
    for frame in (failing, slowest):
        if frame.height:
            return str(frame.sort("span_ms", descending=True)["trace_id"][0])
    return None


# -- drawing helpers -----------------------------------------------------------------------

ERROR_RED = "#c62828"
OTHER_GREY = "#9e9e9e"
# No red: red means errors and the incident window in every chart.
_PALETTE = ("#1e88e5", "#fb8c00", "#43a047", "#8e24aa", "#00acc1", "#6d4c41", "#fdd835",
            "#3949ab", "#7cb342", "#5e35b1")  # fmt: skip


def _figure(
    rows: int, *, height: float, ratios: Sequence[float] | None = None, left: float = 0.9
) -> Any:
    """A 10-inch-wide figure of `rows` axes sharing x, with fixed margins (`left` in inches):
    matplotlib's constrained layout would cost a second full draw of every chart."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, height))
    fig.subplots_adjust(left=left / 10, right=0.985, top=1 - 0.4 / height,
                        bottom=0.55 / height, hspace=0.18)  # fmt: skip
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": ratios} if ratios else None)  # fmt: skip
    for ax in axes[:, 0]:
        ax.spines[["top", "right"]].set_visible(False)
    return fig, list(axes[:, 0])


def _colors(names: Iterable[str]) -> dict[str, str]:
    colors = {
        name: OTHER_GREY if name == "(none)" else _PALETTE[i % len(_PALETTE)]
        for i, name in enumerate(names)
    }
    return {**colors, "other": OTHER_GREY}


def _top(frame: pl.DataFrame, key: str, column: str) -> list[str]:
    """The TOP_SERVICES values of `key` with the largest sum of `column`, largest first."""
    import polars as pl

    totals = (
        frame.group_by(key).agg(pl.col(column).sum()).sort([column, key], descending=[True, False])
    )
    return totals[key].to_list()[:TOP_SERVICES]


def _safe(text: str) -> str:
    """Log text as a chart label: matplotlib reads `$...$` as mathematics."""
    return text.replace("$", r"\$")


def _complete(frame: pl.DataFrame, pm: Postmortem) -> pl.DataFrame:
    """Every bucket of the baseline and the window, empty ones too (as nulls)."""
    import polars as pl

    grid = pl.DataFrame(
        {
            "bucket": pl.datetime_range(
                pm.window.baseline_since, pm.window.aftermath_until, pm.bucket, closed="left",
                time_zone="UTC", time_unit="us", eager=True,
            )
        }
    )  # fmt: skip
    return grid.join(frame, on="bucket", how="left")


def _time_axis(ax: Any) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(tz=UTC, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    ax.set_xlabel("time (UTC)")


def _ms_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: format_ms(value))


def _count_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    def count(value: float, _pos: int) -> str:
        for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{value / size:g}{unit}"
        return f"{value:g}"

    return FuncFormatter(count)


def _usd_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: f"${value:,.2f}" if value >= 1 else f"${value:.3g}")


def _bucket_label(bucket: timedelta) -> str:
    minutes = bucket.total_seconds() / 60
    if minutes < 60:
        return "minute" if minutes == 1 else f"{minutes:g} minutes"
    return "hour" if minutes == 60 else f"{minutes / 60:g} hours"


def format_rate(rate: float | None) -> str:
    """A rate as a percentage: `0.42%`, `11.0%`; `n/a` when there is none."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "n/a"
    return f"{100 * rate:.2f}%" if rate < 0.1 else f"{100 * rate:.1f}%"


def format_time(moment: datetime) -> str:
    """`2026-11-01 00:36:48.202` (UTC), without `.000` on whole seconds."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return text.removesuffix(".000")


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def figure_png(fig: Figure, *, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (matplotlib's Agg renderer)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def require_matplotlib() -> None:
    """Fail with the fix when the charting library is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise LogkitError(
            "postmortems draw their charts with matplotlib, which is not installed: "
            "pip install 'logkit[notebooks]'"
        ) from exc
