"""The incident window: given (`--since`/`--until`), or found in the store's error rate.

With no window given, `detect_window` finds one: the span of whole minutes in which the share
of failing requests (traces, counted at their first event, and events without a trace) rises
furthest above the rest of the store, by the likelihood-ratio scan statistic for a binomial
rate. Counting a request at its start keeps the slow failures that end after the incident
inside it, and the scan needs no threshold to tune.

Every number in the window is set against a baseline: the span of the same length just before
it. The charts reach a little past the window (the aftermath) to show the recovery, in
buckets (`chart_bucket`) sized so the whole span draws in about `MAX_BARS` bars.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ..errors import NotFound, TimeValueError
from ..sqlfiles import statement
from ..timeparse import time_range
from .words import duration, iso

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Numbers = npt.NDArray[np.float64]

    from .asking import Asking

BUCKETS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400)
MAX_BARS = 150  # buckets per chart (baseline, window, aftermath): per minute up to 1 h windows
MAX_INCIDENT_MINUTES = 12 * 60  # the longest window detect_window considers
MIN_EVIDENCE = 10.0  # log-likelihood ratio below which a rise is noise, not an incident


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
        end = f"{self.until:%H:%M:%S}" if f"{self.until:%Y-%m-%d}" == day else iso(self.until)
        return f"{day} {self.since:%H:%M:%S} to {end} UTC ({duration(self.length)})"

    @property
    def aftermath_until(self) -> datetime:
        """The end of the charts: a quarter of the window's length past it (in whole
        minutes), to show the recovery, or that there was none."""
        return self.until + timedelta(minutes=math.ceil(self.length.total_seconds() / 240))


def detect_window(store: Asking, *, services: Sequence[str] | None = None) -> Window:
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


def _scan(
    minutes: npt.NDArray[np.int64], n: Numbers, e: Numbers
) -> tuple[float, tuple[int, int] | None]:
    """Kulldorff's scan statistic over spans of whole minutes: (best ratio, (first minute,
    minute after the last)). `minutes` are the ascending minutes that had requests, `n` and
    `e` their requests and failures; a span runs from one of them to another at most
    MAX_INCIDENT_MINUTES later, so the work grows with the minutes that exist, not with the
    time between the first and the last."""
    import numpy as np

    def loglik(events: Numbers, trials: Numbers) -> Numbers:
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
    store: Asking,
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
        _ = window.baseline_since, window.aftermath_until + 2 * chart_bucket(window)
    except OverflowError:
        raise TimeValueError(
            f"the window {iso(start)} to {iso(end)} with its baseline before it and its "
            "aftermath after it reaches past the year 1 or 9999; give a narrower window"
        ) from None
    return window


def chart_bucket(window: Window) -> timedelta:
    """The smallest whole bucket that draws the window and its baseline in MAX_BARS bars."""
    seconds = 2.25 * window.length.total_seconds() / MAX_BARS
    if seconds > BUCKETS[-1]:
        # Whole days past the largest bucket: a window of years still draws MAX_BARS bars.
        return timedelta(days=math.ceil(seconds / BUCKETS[-1]))
    return timedelta(seconds=next(b for b in BUCKETS if b >= seconds))
