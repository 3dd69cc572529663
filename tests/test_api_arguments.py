"""What a notebook hands the Store: one path without a list, a day as a `date`, a trace id
that is a number. Each is read as meant, or refused with a LogkitError that says why, never
an AttributeError from deep inside."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import logkit
from logkit.errors import QueryError, TimeValueError
from logkit.timeparse import parse_time

LINES = [
    b'{"ts":"2026-03-01T10:00:00Z","level":"error","message":"boom","trace_id":"123",'
    b'"user_id":10335}',
    b'{"ts":"2026-03-02T10:00:00Z","level":"info","message":"ok","trace_id":"456"}',
]


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    directory.mkdir()
    (directory / "app.log").write_bytes(b"\n".join(LINES) + b"\n")
    return directory


@pytest.mark.parametrize("bare", [str, Path])
def test_one_path_need_not_be_in_a_list(tmp_path, logs, bare):
    """Iterated, "logs/" was the paths "l", "o", ... and "/": the root directory."""
    store = logkit.open(tmp_path / "logkit.duckdb")
    summary = store.ingest(bare(logs))
    assert (2, 2) == (summary.lines, summary.events)
    assert [b"boom", b"ok"] == sorted(
        line.split(b'"message":"')[1].split(b'"')[0]
        for block in store.mask(bare(logs / "app.log"))
        for line in block.splitlines()
    )


def test_a_date_is_its_day_from_midnight_utc():
    assert datetime(2026, 3, 2, tzinfo=UTC) == parse_time(date(2026, 3, 2))


def test_a_date_bounds_a_question(tmp_path, logs):
    store = logkit.open(tmp_path / "logkit.duckdb")
    store.ingest([logs])
    assert ["ok"] == store.search("o", since=date(2026, 3, 2))["message"].to_list()


@pytest.mark.parametrize("value", [5, 1.5, b"2h", ["2h"]])
def test_a_time_of_another_type_is_a_clear_error(value):
    with pytest.raises(TimeValueError, match="give a datetime, a date or text"):
        parse_time(value, option="--since")


def test_a_trace_id_given_as_a_number_is_its_text(tmp_path, logs):
    store = logkit.open(tmp_path / "logkit.duckdb")
    store.ingest([logs])
    assert ["boom"] == store.trace(123)["message"].to_list()
    with pytest.raises(QueryError, match="give a trace id"):
        store.trace(None)  # type: ignore[arg-type]


def test_a_user_id_given_as_a_number_is_its_text(tmp_path, logs):
    store = logkit.open(tmp_path / "logkit.duckdb")
    store.ingest([logs])
    assert ["123"] == store.user(10335)["trace_id"].to_list()  # type: ignore[arg-type]
    for missing in (None, "", "  "):
        with pytest.raises(QueryError, match="give a user id"):
            store.user(missing)  # type: ignore[arg-type]


def test_search_text_must_be_text(tmp_path, logs):
    store = logkit.open(tmp_path / "logkit.duckdb")
    store.ingest([logs])
    with pytest.raises(QueryError, match="must be a str, not bytes"):
        store.search(b"boom")  # type: ignore[arg-type]
