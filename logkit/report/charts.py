"""The postmortem's charts: matplotlib figures drawn from the analysis's frames.

Charts are matplotlib figures made with its object API (`matplotlib.figure.Figure`), not
pyplot: there is no global backend or figure state, so drawing one neither opens a window in
the CLI nor switches a notebook's inline backend, and `savefig` renders PNG with Agg.
matplotlib because the charts must be static, readable and self-contained: a PNG needs no
JavaScript, no network and no browser to draw it, prints, and pastes into an incident doc.
It is imported only when a chart is drawn.

The charts over time share one x axis (`TimeAxis`): the baseline, the window (shaded) and its
aftermath, in buckets of the same size; a service keeps its colour in every chart.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ..errors import LogkitError
from ..output import format_ms
from ..output.text import escape_control
from .window import Window
from .words import clip, format_rate

if TYPE_CHECKING:
    import polars as pl
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

TOP_SERVICES = 8  # the rest are drawn together as "other"
ERROR_RED = "#c62828"
OTHER_GREY = "#9e9e9e"
# No red: red means errors and the incident window in every chart.
_PALETTE = ("#1e88e5", "#fb8c00", "#43a047", "#8e24aa", "#00acc1", "#6d4c41", "#fdd835",
            "#3949ab", "#7cb342", "#5e35b1")  # fmt: skip


def _figure(
    rows: int, *, height: float, ratios: Sequence[float] | None = None, left: float = 0.9
) -> tuple[Figure, list[Axes]]:
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
    """Log text as a chart label: matplotlib reads `$...$` as mathematics, and a control
    character has no glyph (a NUL in a service name printed a font warning on the user's
    terminal): shown as its escape, as everywhere else; a tab too (no glyph either), where
    the terminal's escaping keeps it."""
    return escape_control(text).replace("\t", "\\t").replace("$", r"\$")


def _time_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(tz=UTC, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    ax.set_xlabel("time (UTC)")


def _ms_formatter() -> FuncFormatter:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: format_ms(value))


def _count_formatter() -> FuncFormatter:
    from matplotlib.ticker import FuncFormatter

    def count(value: float, _pos: int) -> str:
        for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{value / size:g}{unit}"
        return f"{value:g}"

    return FuncFormatter(count)


def _usd_formatter() -> FuncFormatter:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: f"${value:,.2f}" if value >= 1 else f"${value:.3g}")


def _bucket_label(bucket: timedelta) -> str:
    minutes = bucket.total_seconds() / 60
    if minutes < 60:
        return "minute" if minutes == 1 else f"{minutes:g} minutes"
    return "hour" if minutes == 60 else f"{minutes / 60:g} hours"


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


@dataclass(frozen=True)
class TimeAxis:
    """The x axis of the charts over time: from the baseline through the window to its
    aftermath, in buckets of `bucket`."""

    window: Window
    bucket: timedelta

    @property
    def per(self) -> str:
        """The bucket as a unit: `minute`, `5 minutes`, `hour`."""
        return _bucket_label(self.bucket)

    def centres(self, frame: pl.DataFrame) -> list[datetime]:
        # matplotlib's type hints leave out the datetimes its unit converters take, hence
        # the `type: ignore[arg-type]` where these are drawn (and where the window is).
        return [t + self.bucket / 2 for t in frame["bucket"].to_list()]

    def complete(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Every bucket of the baseline and the window, empty ones too (as nulls)."""
        import polars as pl

        grid = pl.DataFrame(
            {
                "bucket": pl.datetime_range(
                    self.window.baseline_since, self.window.aftermath_until, self.bucket,
                    closed="left", time_zone="UTC", time_unit="us", eager=True,
                )
            }
        )  # fmt: skip
        return grid.join(frame, on="bucket", how="left")

    def stacked_bars(
        self, ax: Axes, frame: pl.DataFrame, key: str, column: str, colors: Mapping[str, str]
    ) -> None:
        """One bar per bucket, stacked by `key` in the order of `colors`; the rest as other."""
        import matplotlib.dates as mdates
        import polars as pl

        named = [name for name in colors if name != "other"]
        group = pl.when(pl.col(key).is_in(named)).then(pl.col(key)).otherwise(pl.lit(None))
        sums = frame.group_by("bucket", group.alias("group")).agg(pl.col(column).sum())
        grid = self.complete(sums.head(0).drop("group"))["bucket"].to_list()
        edges = mdates.date2num([*grid, grid[-1] + self.bucket])
        bottom = [0.0] * len(grid)
        for name in [*named, None]:
            part = sums.filter(pl.col("group").eq_missing(name)).drop("group")
            if part.is_empty():
                continue
            values = self.complete(part)[column].fill_null(0).cast(pl.Float64).to_list()
            top = [a + b for a, b in zip(bottom, values, strict=True)]
            # One filled step outline per series: bars drawn as stairs are one artist rather
            # than a rectangle per bucket, which keeps a 120-bucket chart quick to draw.
            label = name or "other"
            ax.stairs(top, edges, baseline=bottom, fill=True, linewidth=0, label=_safe(label),
                      color=colors.get(label, OTHER_GREY))  # fmt: skip
            bottom = top

    def mark_window(self, ax: Axes) -> None:
        window = self.window
        ax.axvspan(window.since, window.until, color=ERROR_RED, alpha=0.07, linewidth=0)  # type: ignore[arg-type]
        for edge in (window.since, window.until):
            ax.axvline(edge, color=ERROR_RED, linewidth=0.8, alpha=0.6)  # type: ignore[arg-type]
        ax.set_xlim(window.baseline_since, window.aftermath_until)  # type: ignore[arg-type]
        ax.grid(axis="y", alpha=0.3)


def service_colors(timeline: pl.DataFrame) -> dict[str, str]:
    """One colour per service, the same in every chart (the busiest first)."""
    return _colors(_top(timeline, "service", "events"))


def timeline_figure(
    frame: pl.DataFrame, axis: TimeAxis, *, baseline_rate: float | None,
    colors: Mapping[str, str],
) -> Figure | None:  # fmt: skip
    """Error rate, errors by service and events by service per bucket."""
    import polars as pl

    if frame.is_empty():
        return None
    fig, (rate_ax, err_ax, ev_ax) = _figure(3, height=7.2, ratios=(1, 1.2, 1.2))
    totals = axis.complete(frame.group_by("bucket").agg(pl.sum("events", "errors")))
    rate = (totals["errors"] / totals["events"]).fill_nan(None) * 100
    rate_ax.plot(axis.centres(totals), rate.to_list(), color=ERROR_RED, marker="o",  # type: ignore[arg-type]
                 markersize=2.5, linewidth=1.4, label="error rate")  # fmt: skip
    if baseline_rate is not None:
        rate_ax.axhline(100 * baseline_rate, color="#555", linestyle="--", linewidth=1,
                        label=f"baseline {format_rate(baseline_rate)}")  # fmt: skip
    rate_ax.set_ylabel("error rate %")
    rate_ax.legend(loc="upper left", fontsize=8, frameon=False)
    top = [name for name in colors if name != "other"]
    for ax, column in ((err_ax, "errors"), (ev_ax, "events")):
        axis.stacked_bars(ax, frame, "service", column, colors)
        ax.set_ylabel(f"{column} / {axis.per}")
    ev_ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=min(5, len(top) + 1))
    for ax in (rate_ax, err_ax, ev_ax):
        axis.mark_window(ax)
    _time_axis(ev_ax)
    rate_ax.set_title(f"Events and errors per {axis.per}, by service")
    return fig


def latency_figure(frame: pl.DataFrame, axis: TimeAxis, *, of: str) -> Figure | None:
    """p50/p95/p99 duration per bucket, of `of` (requests, or events with a duration)."""
    if frame.is_empty():
        return None
    fig, (ax,) = _figure(1, height=3.4)
    # p95 and p99 often run together: a marker and a dash of their own keep each one
    # visible where it lies on another (and in black and white).
    for column, color, marker, style in (("p50_ms", "#1e88e5", "o", "-"),
                                         ("p95_ms", "#fb8c00", "s", "--"),
                                         ("p99_ms", ERROR_RED, "^", ":")):  # fmt: skip
        ax.plot(axis.centres(frame), frame[column].to_list(), color=color, linewidth=1.6,  # type: ignore[arg-type]
                linestyle=style, marker=marker, markersize=5, markerfacecolor="none",
                markeredgewidth=1.2, label=column.removesuffix("_ms"))  # fmt: skip
    high, low = frame["p99_ms"].max(), frame["p50_ms"].min()
    if isinstance(high, float) and isinstance(low, float) and low > 0 and high / low > 30:
        ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_ms_formatter())
    ax.set_ylabel("duration")
    ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=3)
    ax.set_title(f"Latency of {of} per {axis.per}")
    axis.mark_window(ax)
    _time_axis(ax)
    return fig


def waterfall_figure(
    rows: pl.DataFrame, events: pl.DataFrame, *, colors: Mapping[str, str],
    trace_id: str | None, summary: Mapping[str, object],
) -> Figure | None:  # fmt: skip
    """The trace `trace_id`: per service, when it was seen (solid), how long before its last
    event it said it was busy (pale), and each event (errors as red crosses). `rows` is its
    waterfall, `events` its events (with `label` and `is_error`), `summary` what
    `TraceReport.summary()` says of it."""
    if rows.is_empty():
        return None
    longest = max(len(name) for name in rows["service"].to_list())
    left = min(3.5, 0.3 + 0.085 * longest)  # inches for the service names
    fig, (ax,) = _figure(1, height=1.3 + 0.5 * rows.height, left=left)
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
    total = summary.get("total_ms")
    title = f"Trace {trace_id} · {format_ms(total if isinstance(total, float | int) else None)}"
    title += f" · {summary.get('outcome', '')}"
    first = summary.get("first_error")
    if isinstance(first, Mapping) and first:
        title += f": {first['error_type'] or 'error'} in {first['service'] or '(none)'}"
    ax.set_title(_safe(clip(title, 110)), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return fig


def llm_figure(frame: pl.DataFrame, axis: TimeAxis) -> Figure | None:
    """Tokens and cost per bucket by model."""
    if frame.is_empty():
        return None
    fig, (tok_ax, cost_ax) = _figure(2, height=4.8)
    colors = _colors(_top(frame, "model", "tokens"))
    axis.stacked_bars(tok_ax, frame, "model", "tokens", colors)
    axis.stacked_bars(cost_ax, frame, "model", "cost_usd", colors)
    tok_ax.set_ylabel(f"tokens / {axis.per}")
    tok_ax.yaxis.set_major_formatter(_count_formatter())
    cost_ax.set_ylabel(f"USD / {axis.per}")
    cost_ax.yaxis.set_major_formatter(_usd_formatter())
    tok_ax.legend(loc="upper left", fontsize=8, frameon=False, ncol=min(5, len(colors)))
    tok_ax.set_title("LLM tokens and cost by model")
    for ax in (tok_ax, cost_ax):
        axis.mark_window(ax)
    _time_axis(cost_ax)
    return fig
