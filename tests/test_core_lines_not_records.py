"""The native core against the Python pipeline on lines that are not one record each: the CRI
text line read into its envelope record (before any format sees it), OTLP/JSON export lines
whose records `[explode]` takes out (logkit/formats/otlp-json.toml), and the parts of split
lines `[partial]` joins (docker.toml, cri.toml). As tests/test_core_diff.py, the Python
pipeline is the specification: the same bytes must give the same records, events, rejects
and counts (see tests/test_lines_not_records.py for what is promised)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from logkit.formats import FORMATS_DIR, exploded, load_formats
from logkit.pipeline import Reject, _dumps, parse_json

from .test_core_diff import EXAMPLES, assert_same

core = pytest.importorskip(
    "logkit.core", reason="the native core is not built", exc_type=ImportError
)
from logkit import _core  # noqa: E402  (after the skip: built with the core)

REAL = Path(__file__).parent / "real" / "formats"
OTLP = load_formats()["otlp-json"].explode
OTLP_TABLE = tomllib.loads((FORMATS_DIR / "otlp-json.toml").read_text())["explode"]


# -- the CRI text line -------------------------------------------------------------------------

_CRI_TIMES = st.one_of(
    st.sampled_from(["2026-11-22T10:01:02.123456789Z", "2026-11-22T10:01:02+05:30",
                     "2026-11-22T10:01:02.5-00:00", "2026-11-22T10:01Z", "2026-11-22TZ",
                     "2026-11-22T10:01:02", "2026-11-22 10:01:02Z", "2026-11-22T10:01:02+0530",
                     "20261-11-22T10:01:02Z", "2026-11-22T10:01:02+05:30Z", "2026"]),
    st.text(alphabet="0123456789-:.TZ+", min_size=4, max_size=30).map(lambda t: "2026" + t),
)  # fmt: skip
_CRI_TAGS = st.one_of(
    st.sampled_from([b"P", b"F", b"P:x", b"F:a:b", b"X", b"p", b"", b"P\xff", b"F\xc3\xa9"]),
    st.binary(max_size=4).map(lambda b: b"P" + b.replace(b" ", b"").replace(b"\n", b"")),
)
_CRI_CONTENT = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b'{"level":"info","msg":"up"}', b"2026 is a year", b"", b" ", b"\x00",
                     b'{"log": "nested"}\r', b"\xef\xbb\xbf{}", b"-1", b"[1]"]),
)  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            _CRI_TIMES,
            st.sampled_from([b"stdout", b"stderr", b"stdin", b"STDOUT", b""]),
            _CRI_TAGS,
            _CRI_CONTENT,
            st.sampled_from([b" ", b"  ", b"\t"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_cri_like_lines_read_the_same(lines):
    """A CRI line is a record {time, stream, logtag, log} before a format sees it (its
    content's invalid UTF-8 replaced, a NUL kept); a line only shaped like one is read as
    any other line: text that begins like a number is not_json, not not_object."""
    data = b"".join(
        time.encode() + sep + stream + sep + tag + sep + content.replace(b"\n", b" ") + b"\n"
        for time, stream, tag, content, sep in lines
    )
    assert_same(data)


def test_the_real_cri_log_reads_the_same():
    assert_same((REAL / "cri.log").read_bytes())


# -- [explode]: the records of an OTLP/JSON line -----------------------------------------------


def python_records(line: bytes) -> list[str] | None:
    try:
        record = parse_json(line)
    except Reject:
        return None
    return [_dumps(one) for one in exploded(OTLP, record)]  # type: ignore[arg-type]


def native_records(line: bytes) -> list[str] | None:
    return _core.exploded_records(
        OTLP_TABLE["path"],
        list(OTLP_TABLE.get("inherit", {}).items()),
        list(OTLP_TABLE.get("decode", {}).items()),
        line,
    )


def assert_same_records(line: bytes) -> list[str] | None:
    expected = python_records(line)
    assert expected == native_records(line), line[:300]
    return expected


def test_the_real_export_lines_give_the_same_records():
    lines = (REAL / "otel_otlp_json.ndjson").read_bytes().splitlines()
    assert [5, 1] == [len(assert_same_records(line) or ()) for line in lines]


_TEXT = st.text(max_size=6)
# Mapped so that one_of(x, _JUNK) picks junk one time in two, not six in seven (one_of
# flattens a one_of inside it into its own alternatives).
_JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), _TEXT, st.just([]), st.just({})
).map(lambda value: value)
_INT_TEXT = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["-0", "007", "--5", "+5", "\u0663", "1e3", "", "-", " 1", "9" * 4301]),
)


def _any_values(inner: Any) -> Any:
    return st.one_of(
        st.builds(lambda v: {"arrayValue": {"values": v}}, st.one_of(st.lists(inner, max_size=3),
                                                                    _JUNK)),
        st.builds(lambda v: {"kvlistValue": {"values": v}}, st.one_of(st.lists(_kv(inner),
                                                                               max_size=3), _JUNK)),
        st.builds(lambda v: {"arrayValue": v}, _JUNK),
        st.dictionaries(st.sampled_from(["stringValue", "intValue", "otherValue"]), inner,
                        min_size=2, max_size=2),
    )  # fmt: skip


def _kv(value: Any) -> Any:
    return st.one_of(
        st.fixed_dictionaries({"key": st.one_of(_TEXT, st.sampled_from(["a", "b"])),
                               "value": value}),
        st.fixed_dictionaries({"key": st.one_of(st.sampled_from(["a", "b"]), st.integers(0, 2))}),
        _JUNK,
    )  # fmt: skip


_SCALAR_VALUES = st.one_of(
    st.builds(lambda v: {"stringValue": v}, st.one_of(_TEXT, _JUNK)),
    st.builds(lambda v: {"intValue": v}, st.one_of(_INT_TEXT, st.integers(-5, 5))),
    st.builds(lambda v: {"boolValue": v}, st.booleans()),
    st.builds(lambda v: {"doubleValue": v}, st.floats(allow_nan=False, allow_infinity=False)),
    st.builds(lambda v: {"bytesValue": v}, _TEXT),
    st.just({}),
    _JUNK,
)
_ANY_VALUE = st.recursive(_SCALAR_VALUES, _any_values, max_leaves=6)
_KEY_VALUES = st.one_of(st.lists(_kv(_ANY_VALUE), max_size=4), _JUNK)
_LOG_RECORD = st.fixed_dictionaries(
    {"body": _ANY_VALUE, "attributes": _KEY_VALUES},
    optional={"timeUnixNano": _INT_TEXT, "resource": _JUNK, "scope": _JUNK, "line_index": _JUNK},
)


@st.composite
def _export_lines(draw: Any) -> Any:
    """`resourceLogs` as an exporter writes it, with junk one time in five at every level
    (drawn level by level: nested strategies would mostly stop short of the records)."""

    def maybe(value: Any) -> Any:
        return draw(_JUNK) if draw(st.integers(0, 4)) == 0 else value

    def some() -> range:
        return range(draw(st.integers(0, 3)))

    resource_logs = []
    for _ in some():
        scope_logs = []
        for _ in some():
            records = [maybe(draw(_LOG_RECORD)) for _ in some()]
            scope = maybe({"name": draw(_TEXT)})
            scope_logs.append(maybe({"scope": scope, "logRecords": maybe(records)}))
        resource = maybe({"attributes": draw(_KEY_VALUES)})
        resource_logs.append(maybe({"resource": resource, "scopeLogs": maybe(scope_logs)}))
    return maybe(resource_logs)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_export_lines(), st.booleans())
def test_generated_export_lines_give_the_same_records(resource_logs, spaced):
    """Export lines as an exporter writes them and as it should not: items that are no
    objects, lists that are not lists, AnyValues of every kind, nested and malformed,
    key-value lists with keys twice or not text."""
    line = {"resourceLogs": resource_logs}
    text = orjson.dumps(line) if not spaced else _dumps(line).encode()
    records = assert_same_records(text)
    event(f"records: {min(len(records or ()), 3)}")
