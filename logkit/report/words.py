"""How a postmortem says times, lengths, rates and counts to people.

The analysis (its headline and facts), the charts and the rendered report write the same
numbers the same way: these small helpers are the one place that decides how.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta


def iso(moment: datetime) -> str:
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


def format_rate(rate: float | None) -> str:
    """A rate as a percentage: `0.42%`, `11.0%`; `n/a` when there is none."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "n/a"
    return f"{100 * rate:.2f}%" if rate < 0.1 else f"{100 * rate:.1f}%"


def format_time(moment: datetime) -> str:
    """`2026-11-01 00:36:48.202` (UTC), without `.000` on whole seconds."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return text.removesuffix(".000")


def plural(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
