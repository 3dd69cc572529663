"""--since / --until values: relative ages, ISO 8601 times, and the errors people see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from logkit.errors import TimeValueError
from logkit.timeparse import parse_relative, parse_time, time_range

NOON = datetime(2026, 11, 1, 12, tzinfo=UTC)


class TestRelative:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("30s", timedelta(seconds=30)),
            ("15m", timedelta(minutes=15)),
            ("2h", timedelta(hours=2)),
            ("7d", timedelta(days=7)),
            ("1w", timedelta(weeks=1)),
            ("1h30m", timedelta(hours=1, minutes=30)),
            ("1.5d", timedelta(hours=36)),
            (" 2H ", timedelta(hours=2)),
        ],
    )
    def test_units(self, text: str, expected: timedelta) -> None:
        """Each unit, combinations, decimals, case and surrounding spaces."""
        assert expected == parse_relative(text)

    def test_counts_back_from_the_anchor(self) -> None:
        """A relative value is the anchor minus the age."""
        assert datetime(2026, 11, 1, 10, tzinfo=UTC) == parse_time("2h", anchor=NOON)

    def test_counts_back_from_now_without_an_anchor(self) -> None:
        """With no anchor, relative values count back from now."""
        before = datetime.now(UTC)
        moment = parse_time("15m")
        after = datetime.now(UTC)
        assert moment is not None
        assert before - timedelta(minutes=15) <= moment <= after - timedelta(minutes=15)

    def test_not_relative(self) -> None:
        """Things that are not an age are not taken for one."""
        assert [None, None, None] == [parse_relative(t) for t in ("2", "h", "2 hours")]


class TestAbsolute:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC)),
            ("2026-11-01T12:00:00Z", NOON),
            ("2026-11-01T12:00", NOON),
            ("2026-11-01 14:00+02:00", NOON),
            ("2026-11-01T12:00:00.250Z", NOON + timedelta(milliseconds=250)),
        ],
    )
    def test_iso_8601(self, text: str, expected: datetime) -> None:
        """Dates, times with Z, with an offset (converted to UTC) and without one (UTC)."""
        assert expected == parse_time(text)

    def test_result_is_aware_utc(self) -> None:
        """Every result carries UTC, so DuckDB binds it as a TIMESTAMPTZ."""
        moment = parse_time("2026-11-01T14:00+02:00")
        assert moment is not None
        assert timedelta(0) == moment.utcoffset()

    def test_datetime_passes_through(self) -> None:
        """Python callers may pass a datetime; a naive one is UTC."""
        assert NOON == parse_time(datetime(2026, 11, 1, 12))

    def test_none_is_none(self) -> None:
        """No value, no bound."""
        assert parse_time(None) is None


class TestErrors:
    def test_bad_value_shows_accepted_forms(self) -> None:
        """The message names the option, repeats the value and shows what would work."""
        with pytest.raises(TimeValueError) as info:
            time_range("yesterday")
        assert (
            "cannot read --since value 'yesterday': use a relative age such as 30s, 15m, 2h, 7d, "
            "1w or 1h30m, or an ISO 8601 time such as 2026-11-01, 2026-11-01T12:00:00Z or "
            "2026-11-01 12:00+02:00"
        ) == str(info.value)

    def test_bad_until_is_named(self) -> None:
        """A bad --until says --until."""
        with pytest.raises(TimeValueError, match=r"^cannot read --until value '3x'"):
            time_range(None, "3x")

    def test_since_after_until(self) -> None:
        """An inverted window is refused rather than silently empty."""
        with pytest.raises(TimeValueError) as info:
            time_range("2026-11-02", "2026-11-01")
        assert (
            "--since (2026-11-02 00:00:00) is after --until (2026-11-01 00:00:00); swap them"
        ) == str(info.value)


class TestRange:
    def test_relative_since_counts_back_from_until(self) -> None:
        """A postmortem window: two hours before a given --until."""
        assert (datetime(2026, 11, 1, 10, tzinfo=UTC), NOON) == time_range(
            "2h", "2026-11-01T12:00Z"
        )

    def test_open_ended(self) -> None:
        """Either bound may be missing."""
        assert (None, NOON) == time_range(None, "2026-11-01T12:00Z")
        assert (None, None) == time_range()
