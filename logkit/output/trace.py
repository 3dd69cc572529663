"""The trace view: a waterfall of the services a request passed through, its events (the
first error marked), and a line that says how it ended.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TextIO

import click

from ..macros import ERROR_LEVELS
from .render import render
from .tables import NO_SERVICE, layout, notices, wrap
from .terminal import emit, terminal_width
from .text import cell_text, cut, display_width, escape_control, format_ms, pad

BAR_WIDTH = 40
_SEEN, _REPORTED = "█", "░"


class Trace(Protocol):
    """A trace to show: `logkit.query.trace.TraceReport`, which gives its events, waterfall rows
    and summary as dicts of mixed values read by key (hence `Any` for their values)."""

    @property
    def trace_id(self) -> str: ...
    @property
    def events(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def first_error(self) -> int | None: ...
    def summary(self) -> Mapping[str, Any]: ...
    def waterfall(self) -> Sequence[Mapping[str, Any]]: ...


def waterfall_bar(
    first: float | None,
    last: float | None,
    reported: float | None,
    total: float,
    width: int = BAR_WIDTH,
) -> str:
    """`█` where a service was seen in the logs, `░` for the time its reported duration
    says it was busy before its last event."""
    if first is None or last is None:
        return " " * width

    def col(ms: float) -> int:
        return 0 if total <= 0 else max(0, min(width - 1, round(ms / total * (width - 1))))

    start, end = col(first), col(last)
    busy = col(max(0.0, last - reported)) if reported else start
    busy = min(busy, start)
    before, after = " " * busy, " " * (width - 1 - end)
    return before + _REPORTED * (start - busy) + _SEEN * (end - start + 1) + after


def _offset(ms: float | None) -> str:
    return "" if ms is None else "+" + format_ms(ms)


def trace_lines(report: Trace) -> list[str]:
    """The table form of a `TraceReport`: waterfall, events (first error marked `>>`),
    summary. Lines may carry click styles; click.echo drops them off a terminal."""
    summary = report.summary()
    total = summary["total_ms"]
    start = summary["start"]
    width = terminal_width()
    title = cut(f"trace {escape_control(report.trace_id)}", width)
    started = f"  started {cell_text(start)}" if start else ""
    lines = [click.style(title, bold=True) + cut(started, width - display_width(title))]
    waterfall = [
        {
            "service": row["service"] or NO_SERVICE,
            "first": _offset(row["first_ms"]),
            "last": _offset(row["last_ms"]),
            "events": row["events"],
            "errors": row["errors"] or "",
            "reported": format_ms(row["reported_ms"]),
        }
        for row in report.waterfall()
    ]
    if waterfall:
        # The bar takes the width the other columns leave (at least 10 columns): the whole
        # terminal's worth of time resolution.
        scale = f"0 … {format_ms(total)}"
        columns = list(waterfall[0])
        left = layout(columns, waterfall, width - 14, raw=True).lines
        used = max(display_width(line) for line in left)
        bar = max(10, width - used - 4, len(scale) - 2)
        bars = [
            "|"
            + waterfall_bar(row["first_ms"], row["last_ms"], row["reported_ms"], total, bar)
            + "|"
            for row in report.waterfall()
        ]
        lines += ["", pad(left[0], used, False) + "  " + scale, pad(left[1], used, False)
                  + "  " + "-" * (bar + 2)]  # fmt: skip
        lines += [pad(row, used, False) + "  " + b for row, b in zip(left[2:], bars, strict=True)]
    lines.append(f"{_SEEN} seen in the logs   {_REPORTED} busy, by its reported duration")

    events = [
        {
            "offset": _offset(e["offset_ms"]),
            "service": e["service"] or NO_SERVICE,
            "level": e["level"],
            "message": e["message"],
            "duration": format_ms(e["duration_ms"]),
            "status": e["status_code"],
            "error": e["error_type"],
        }
        for e in report.events
    ]
    columns = ["offset", "service", "level", "message", "duration", "status"]
    if any(e["error"] for e in events):
        columns.append("error")
    first_error = report.first_error
    shaped = layout(columns, events, width - 3, max_width=60, raw=True)
    lines.append("")
    for number, line in enumerate(shaped.lines):
        index = number - 2  # after the header and its rule
        if index == first_error:
            lines.append(click.style(">> " + line, fg="red", bold=True))
        elif index >= 0 and events[index]["level"] in ERROR_LEVELS:
            lines.append(click.style("   " + line, fg="red"))
        elif index >= 0 and events[index]["level"] == "WARNING":
            lines.append(click.style("   " + line, fg="yellow"))
        else:
            lines.append("   " + line)
    for notice in notices(None, shaped.hidden):
        lines += ["   " + line for line in wrap(f"({notice})", width - 3)]

    parts = [
        f"{summary['services']} service{'s' * (summary['services'] != 1)}",
        f"{summary['events']} event{'s' * (summary['events'] != 1)}",
        format_ms(total),
    ]
    status = f" (status {summary['status_code']})" if summary["status_code"] else ""
    error = summary["first_error"]
    if error is None:
        outcome = click.style("ok", fg="green") + status
    else:
        what = error["error_type"] or error["level"] or "error"
        outcome = (
            click.style("ERROR", fg="red", bold=True)
            + f": {cell_text(what)} in {cell_text(error['service'] or '(none)')}"
            + f" at {_offset(error['offset_ms'])}: {cell_text(error['message'])}{status}"
        )
    counts = " · ".join(parts)
    if display_width(click.unstyle(f"{counts} · outcome: {outcome}")) <= width:
        lines += ["", f"{counts} · outcome: {outcome}"]
    else:  # the outcome on a line of its own, its message cut to the width
        lines += ["", counts, _cut_styled(f"outcome: {outcome}", width)]
    return lines


def _cut_styled(text: str, width: int) -> str:
    """`text`, which may carry click styles, cut to `width` visible columns."""
    plain = click.unstyle(text)
    if display_width(plain) <= width:
        return text
    return cut(plain, width)  # a cut line loses its colours rather than a closing code


def render_trace(report: Trace, fmt: str, *, out: TextIO | None = None) -> None:
    """A trace as text (table) or as its full events, attrs included (json/ndjson/csv)."""
    if fmt != "table":
        render(report.events, fmt, out=out)
        return
    emit("\n".join(trace_lines(report)) + "\n", out=out)
