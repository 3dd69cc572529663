"""Every value DuckDB can hand back is written in every row format: `logkit sql` answers any
query, and a sum of hashes is a HUGEINT beyond 64 bits, a MAP may have integer keys."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from logkit.output.render import render

HUGE = 170141183460469231731687303715884105727  # HUGEINT's largest

QUERY = f"""
SELECT {HUGE}::HUGEINT AS huge, -{HUGE}::HUGEINT AS negative,
       18446744073709551615::UBIGINT AS ubig, MAP {{1: 'one', 2: 'two'}} AS by_int,
       MAP {{{HUGE}::HUGEINT: 'far'}} AS by_huge, [{HUGE}::HUGEINT, 1] AS list,
       {{'inner': 18446744073709551616::HUGEINT}} AS nested, true AS flag
"""


@pytest.fixture
def rows() -> list[dict[str, object]]:
    """As the CLI has them (`Store(frames=False)`): DuckDB's Python values."""
    relation = duckdb.sql(QUERY)
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def written(rows: list[dict[str, object]], fmt: str) -> str:
    out = io.StringIO()
    render(rows, fmt, out=out)
    return out.getvalue()


EXPECTED = {
    "huge": HUGE,
    "negative": -HUGE,
    "ubig": 2**64 - 1,
    "by_int": {"1": "one", "2": "two"},
    "by_huge": {str(HUGE): "far"},
    "list": [HUGE, 1],
    "nested": {"inner": 2**64},
    "flag": True,
}


def test_json_and_ndjson_write_integers_beyond_64_bits_exactly(rows):
    assert [EXPECTED] == json.loads(written(rows, "json"))
    assert EXPECTED == json.loads(written(rows, "ndjson"))


def test_csv_writes_big_integers_and_int_keyed_maps(rows):
    header, line = csv.reader(io.StringIO(written(rows, "csv")))
    cells = dict(zip(header, line, strict=True))
    assert str(HUGE) == cells["huge"]
    assert EXPECTED["by_int"] == json.loads(cells["by_int"])
    assert EXPECTED["list"] == json.loads(cells["list"])


def test_a_table_shows_int_keyed_maps(rows):
    text = written([{c: rows[0][c] for c in ("by_int", "huge")}], "table")
    assert '{"1":"one","2":"two"}' in text
    assert str(HUGE) in text


def test_a_polars_frame_with_odd_map_keys_is_written_as_json():
    frame = duckdb.sql(QUERY).pl()  # what the Python API returns: HUGEINTs become Decimals
    (row,) = json.loads(written(frame, "json"))
    assert {"1": "one", "2": "two"} == row["by_int"]
    assert ["far"] == list(row["by_huge"].values())
