"""What a postmortem found about one window: the `Postmortem` object, and how it says it.

`analyze()` (logkit/report/analysis.py) fills a `Postmortem`: a polars DataFrame per section,
a `summary` dict of scalars and the counts behind cut-short tables. The object puts them in
words (`headline`, `facts`, `drafts` for the author's sections) and draws them
(`*_figure()`, logkit/report/charts.py). notebooks/incident_postmortem.ipynb displays these
objects and logkit/report/render.py renders the same objects to HTML or Markdown, so there is
one analysis, not two copies that drift apart. `SECTIONS` is the outline both follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from . import charts
from .window import Window
from .words import clip, duration, format_rate, format_time, plural

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.figure import Figure

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


class Cause(TypedDict):
    """Where most failing traces failed first: the likely cause."""

    service: str
    error_type: str | None
    traces: int


class FirstError(TypedDict):
    """The window's first error (queries/report/first_error.sql)."""

    ts: datetime
    service: str
    error_type: str | None
    message: str | None
    trace_id: str | None


class Summary(TypedDict, total=False):
    """A postmortem's scalars: counts and rates in the window and the baseline, the window,
    the likely cause, the first error and the worst trace (as `TraceReport.summary()` says).
    Empty until `analyze()` fills it."""

    events: int
    errors: int
    baseline_events: int
    baseline_errors: int
    traces: int
    error_rate: float | None
    baseline_error_rate: float | None
    window: Window
    since: datetime
    until: datetime
    detected: bool
    baseline_since: datetime
    failing_traces: int
    affected_users: int
    services_with_errors: list[str]
    first_error: FirstError | None
    cause: Cause | None
    trace: Mapping[str, object] | None
    rejected_lines: int


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
    summary: Summary = field(default_factory=Summary)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    trace_id: str | None = None
    latency_of: str = "requests"
    totals: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pl.DataFrame:
        # The frames read as attributes: pm.timeline, pm.error_groups.
        frames: dict[str, pl.DataFrame] = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(name)

    def __dir__(self) -> Iterable[str]:
        return [*super().__dir__(), *self.frames]

    def __repr__(self) -> str:
        errors = self.summary.get("errors")
        counted = "" if errors is None else ", " + plural(errors, "error")
        return f"<Postmortem {self.window}{counted}>"

    # -- words -----------------------------------------------------------------------------

    def headline(self) -> str:
        """The postmortem in one sentence."""
        s = self.summary
        text = (
            f"From {self.window} the error rate was {format_rate(s['error_rate'])} "
            f"({plural(s['errors'], 'error')} in {plural(s['events'], 'event')}) against "
            f"{format_rate(s['baseline_error_rate'])} in the {duration(self.window.length)} "
            f"before; {s['failing_traces']:,} of {plural(s['traces'], 'trace')} failed, for "
            f"{plural(s['affected_users'], 'user')}."
        )
        cause = s["cause"]
        if cause:
            text += (
                f" Most failed first with {cause['error_type'] or 'an error'} in "
                f"{cause['service']} ({plural(cause['traces'], 'trace')})."
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
                 f"{first['service']}: {clip(first['message'] or '', 160)}")
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
            f"{s['failing_traces']:,} of {plural(s['traces'], 'trace')} failed, for "
            f"{plural(s['affected_users'], 'user')}"
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
        draw = {
            "timeline": self.timeline_figure,
            "latency": self.latency_figure,
            "traces": self.waterfall_figure,
            "llm": self.llm_figure,
        }
        return {name: fig for name, chart in draw.items() if (fig := chart()) is not None}

    @property
    def _axis(self) -> charts.TimeAxis:
        """The x axis of the charts over time: baseline, window and aftermath, in buckets."""
        return charts.TimeAxis(self.window, self.bucket)

    def service_colors(self) -> dict[str, str]:
        """One colour per service, the same in every chart (the busiest first)."""
        return charts.service_colors(self.timeline)

    def timeline_figure(self) -> Figure | None:
        """Error rate, errors by service and events by service per bucket."""
        return charts.timeline_figure(
            self.timeline,
            self._axis,
            baseline_rate=self.summary["baseline_error_rate"],
            colors=self.service_colors(),
        )

    def latency_figure(self) -> Figure | None:
        """p50/p95/p99 duration per bucket."""
        return charts.latency_figure(self.latency, self._axis, of=self.latency_of)

    def waterfall_figure(self) -> Figure | None:
        """The worst trace: per service, when it was seen (solid), how long before its last
        event it said it was busy (pale), and each event (errors as red crosses)."""
        return charts.waterfall_figure(
            self.waterfall,
            self.trace_events,
            colors=self.service_colors(),
            trace_id=self.trace_id,
            summary=self.summary.get("trace") or {},
        )

    def llm_figure(self) -> Figure | None:
        """Tokens and cost per bucket by model."""
        return charts.llm_figure(self.llm_timeline, self._axis)
