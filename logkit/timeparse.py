"""`--since` / `--until` values: relative ages (`15m`, `2h`, `7d`) and ISO 8601 times.

A relative value counts back from `--until` when that is given, else from now, so a
postmortem on last month's logs reads naturally: `--until 2026-10-03T14:00Z --since 2h`.
Absolute values without a zone are taken as UTC, like the timestamps in the store. Every
result is an aware UTC `datetime`, which DuckDB binds as a TIMESTAMPTZ parameter. Also here:
the conversions to and from the microseconds since the epoch that queries fetch (`epoch_us`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from .errors import TimeValueError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def to_us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# One or more number+unit pairs: `90s`, `2h`, `1h30m`, `1.5d`.
_RELATIVE = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")

TOO_FAR = "give a shorter age, or an ISO 8601 time such as 2020-01-01"
ACCEPTED = (
    "use a relative age such as 30s, 15m, 2h, 7d, 1w or 1h30m, "
    "or an ISO 8601 time such as 2026-11-01, 2026-11-01T12:00:00Z or 2026-11-01 12:00+02:00"
)


def parse_relative(value: str, option: str = "time") -> timedelta | None:
    """`2h` → timedelta(hours=2); None when `value` is not a relative age."""
    text = value.strip().lower()
    if not _RELATIVE.fullmatch(text):
        return None
    delta = timedelta()
    try:
        for number, unit in _PART.findall(text):
            delta += timedelta(**{UNITS[unit]: float(number)})
    except OverflowError:  # past timedelta's 999,999,999 days, so before the year 1 too
        raise _too_far(value, option) from None
    return delta


def count_back(anchor: datetime, delta: timedelta, value: str, option: str = "time") -> datetime:
    """`anchor - delta`, or a clear error when that is before the year 1 (where Python's
    datetime ends; an age that long is a typo, not a wish for everything)."""
    try:
        return anchor - delta
    except OverflowError:
        raise _too_far(value, option) from None


def _too_far(value: str, option: str) -> TimeValueError:
    return TimeValueError(f"{option} {value!r} reaches back before the year 1: {TOO_FAR}")


def parse_absolute(value: str) -> datetime | None:
    """An ISO 8601 date or time as aware UTC; None when `value` is not one."""
    text = value.strip()
    if text.lower() == "now":
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_time(
    value: str | datetime | date | None,
    *,
    anchor: datetime | None = None,
    option: str = "time",
) -> datetime | None:
    """One time value: relative ones count back from `anchor` (default: now).

    Examples:
        >>> parse_time("2h", anchor=datetime(2026, 11, 1, 12, tzinfo=UTC))
        datetime.datetime(2026, 11, 1, 10, 0, tzinfo=datetime.timezone.utc)
        >>> parse_time("2026-11-01T12:00:00+02:00")
        datetime.datetime(2026, 11, 1, 10, 0, tzinfo=datetime.timezone.utc)
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):  # a day: its start, UTC (as "2026-11-01" reads)
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        raise TimeValueError(
            f"cannot read {option} value {value!r} ({type(value).__name__}): give a datetime,"
            f" a date or text; {ACCEPTED}"
        )
    delta = parse_relative(value, option)
    if delta is not None:
        return count_back(anchor or datetime.now(UTC), delta, value, option)
    moment = parse_absolute(value)
    if moment is None:
        raise TimeValueError(f"cannot read {option} value {value!r}: {ACCEPTED}")
    return moment


def time_range(
    since: str | datetime | date | None = None, until: str | datetime | date | None = None
) -> tuple[datetime | None, datetime | None]:
    """`(since, until)` as aware UTC datetimes; a relative `since` counts back from `until`."""
    end = parse_time(until, option="--until")
    start = parse_time(since, anchor=end, option="--since")
    if start is not None and end is not None and start > end:
        raise TimeValueError(
            f"--since ({start:%Y-%m-%d %H:%M:%S}) is after --until ({end:%Y-%m-%d %H:%M:%S}); "
            "swap them"
        )
    return start, end
