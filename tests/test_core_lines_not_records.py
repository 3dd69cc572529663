"""The native core on lines that are not one record each: the CRI text line read into its
envelope record (before any format sees it), OTLP/JSON export lines whose records `[explode]`
takes out (logkit/formats/otlp-json.toml), and the parts of split lines `[partial]` joins
(docker.toml, cri.toml). As in tests/test_core_diff.py, the golden outputs of the Python
pipeline it replaced are the specification (tests/golden_core.py): the same bytes must give
the same records, events, rejects, counts and block cuts (see tests/test_lines_not_records.py
for what is promised). Generated inputs are held to what holds for any input."""

from __future__ import annotations

import functools
import json
import tomllib
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from logkit.formats import FORMATS_DIR

from . import golden_core
from .test_core_diff import EXAMPLES, assert_same, every_format

core = pytest.importorskip(
    "logkit.core", reason="the native core is not built", exc_type=ImportError
)
from logkit import _core  # noqa: E402  (after the skip: built with the core)

REAL = Path(__file__).parent / "real" / "formats"
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
def test_cri_like_lines_are_each_an_event_or_a_reject(lines):
    """A CRI line is a record {time, stream, logtag, log} before a format sees it; a line
    only shaped like one is read as any other line: each is one event or one reject."""
    from .test_core_diff import accounted, generic

    data = b"".join(
        time.encode() + sep + stream + sep + tag + sep + content.replace(b"\n", b" ") + b"\n"
        for time, stream, tag, content, sep in lines
    )
    accounted(data, generic(data))


def test_the_real_cri_log_reads_the_same():
    assert_same((REAL / "cri.log").read_bytes())


# -- [explode]: the records of an OTLP/JSON line -----------------------------------------------


def native_records(line: bytes) -> list[str] | None:
    return _core.exploded_records(
        OTLP_TABLE["path"],
        list(OTLP_TABLE.get("inherit", {}).items()),
        list(OTLP_TABLE.get("decode", {}).items()),
        line,
    )


def assert_same_records(line: bytes) -> list[str] | None:
    return golden_core.records(line, native_records)


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
def test_generated_export_lines_give_records(resource_logs, spaced):
    """Export lines as an exporter writes them and as it should not: items that are no
    objects, lists that are not lists, AnyValues of every kind, nested and malformed,
    key-value lists with keys twice or not text. Each line is a record, so each gives a list
    of records (none, where it holds none), each a JSON object."""
    line = {"resourceLogs": resource_logs}
    text = orjson.dumps(line) if not spaced else json.dumps(line).encode()
    records = native_records(text)
    assert records is not None
    assert all(type(json.loads(record)) is dict for record in records)
    event(f"records: {min(len(records), 3)}")


# -- through the core's record path: events, rejects and counts ------------------------------
# Joined parts and exploded lines as the core makes them (src/formats/partial.rs, explode.rs,
# their place in src/block.rs), against what the Python pipeline made of the same lines with
# every format known (golden_core), and whole ingests: small blocks and runs cut anywhere.

DOCKER_PART = 16 * 1024
CRI_PART = 8192


def big_record(n: int, size: int) -> bytes:
    filler = ("lorem ipsum dolor sit amet " * (size // 27 + 1))[:size]
    return orjson.dumps(
        {"timestamp": f"2026-11-22T10:01:{n % 60:02d}Z", "level": "info", "event": f"big {n}",
         "trace_id": f"{n:032x}", "prompt": filler}
    )  # fmt: skip


def docker_entries(content: bytes, stream: str, time: str, part: int = DOCKER_PART) -> list[bytes]:
    """dockerd's json-file entries for one line: cut every `part` bytes, the last part with
    the newline (tests/test_lines_not_records.py)."""
    text = content + b"\n"
    return [
        orjson.dumps({"log": text[i : i + part].decode(errors="replace"), "stream": stream,
                      "time": time}) + b"\n"
        for i in range(0, len(text), part)
    ]  # fmt: skip


def cri_lines(content: bytes, stream: str, time: str, part: int = CRI_PART) -> list[bytes]:
    parts = [content[i : i + part] for i in range(0, len(content), part)] or [b""]
    return [
        f"{time} {stream} {'F' if i == len(parts) - 1 else 'P'} ".encode() + p + b"\n"
        for i, p in enumerate(parts)
    ]


def interleaved(*streams: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for i in range(max(len(s) for s in streams)):
        for s in streams:
            out += s[i : i + 1]
    return out


def assert_same_block(data: bytes, masked: dict[str, Any] | None = None) -> Any:
    """One block through the core (every format known), held to the golden result."""
    return golden_core.block(data, mask=masked)


OTLP_LINES = (REAL / "otel_otlp_json.ndjson").read_bytes().splitlines()


def _otlp_in_docker() -> bytes:
    batch = orjson.loads(OTLP_LINES[0])
    batch["resourceLogs"] *= 4  # ~22 KB: dockerd cuts it
    entries = docker_entries(orjson.dumps(batch), "stdout", "2026-11-22T10:01:00Z")
    entries += docker_entries(OTLP_LINES[1], "stderr", "2026-11-22T10:01:01Z")
    entries += docker_entries(b'{"resourceLogs":[]}', "stdout", "2026-11-22T10:01:02Z")
    return b"".join(entries)


def _split_both_streams() -> bytes:
    out = docker_entries(big_record(1, 100_000), "stdout", "2026-11-22T10:01:01Z")
    err = docker_entries(big_record(2, 40_000), "stderr", "2026-11-22T10:01:02Z")
    small = docker_entries(b'{"level":"info","event":"small"}', "stdout", "2026-11-22T10:01:03Z")
    return b"".join(interleaved(out, err) + small)


def _cri_long_lines() -> bytes:
    lines: list[bytes] = []
    for n in range(4):
        out = cri_lines(big_record(n, 20_000 + n * 4000), "stdout", f"2026-11-22T10:01:0{n}Z")
        err = cri_lines(f"stderr line {n}".encode(), "stderr", f"2026-11-22T10:01:0{n}Z")
        lines += interleaved(out, err)
    return b"".join(lines)


def _secret_cut_in_two() -> bytes:
    head = " Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0."
    text = ("x" * (DOCKER_PART - len(head)) + head + "c2lnbmF0dXJlc2VjcmV0 done").encode()
    return b"".join(docker_entries(text, "stderr", "2026-11-22T10:01:00Z"))


CASES = {
    "docker_json_file": (REAL / "docker_json_file.ndjson").read_bytes(),
    "cri": (REAL / "cri.log").read_bytes(),
    "otlp": (REAL / "otel_otlp_json.ndjson").read_bytes(),
    "otlp_in_docker": _otlp_in_docker(),
    "split_both_streams": _split_both_streams(),
    "cri_long_lines": _cri_long_lines(),
    "secret_cut_in_two": _secret_cut_in_two(),
    "mixed": b"".join(
        (REAL / name).read_bytes() for name in ("cri.log", "docker_json_file.ndjson")
    ).replace(b"(no newline at exit)", b"(no newline at exit)\n"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_block_gives_the_same_events_rejects_and_counts(name):
    """Each case as one block: parts joined within it, the parts whose end is not in it
    (cri.log's last P line) one event at its end, export lines exploded."""
    result = assert_same_block(CASES[name])
    assert result.events.num_rows > 0


@pytest.mark.parametrize("name", ["docker_json_file", "otlp_in_docker", "secret_cut_in_two"])
def test_one_masked_block_gives_the_same_events(name):
    """Masked: a joined record is masked on all the bytes of its parts."""
    assert_same_block(CASES[name], {})


@st.composite
def _split_lines(draw: Any) -> bytes:
    """Lines as runtimes split them: contents of several streams, cut into parts of a few
    bytes (Docker's or CRI's framing), interleaved, some sequences never ended."""
    kind = draw(st.sampled_from(["docker", "cri"]))
    streams: list[list[bytes]] = []
    names = st.sampled_from(["stdout", "stderr"])
    for stream in draw(st.lists(names, min_size=1, max_size=3)):
        entries: list[bytes] = []
        for _ in range(draw(st.integers(1, 3))):
            content = draw(st.one_of(
                st.text(max_size=20).map(str.encode),
                st.sampled_from([b'{"level":"warn","msg":"inner","n":1}', b"",
                                 OTLP_LINES[1], b'{"resourceLogs":[]}', b"x\rY"]),
            ))  # fmt: skip
            part = draw(st.integers(1, 12))
            made = (docker_entries if kind == "docker" else cri_lines)(
                content.replace(b"\n", b" "), stream, "2026-11-22T10:01:02Z", part
            )
            entries += made
        if draw(st.booleans()):
            entries = entries[: draw(st.integers(0, len(entries)))]  # cut short
        streams.append(entries)
    return b"".join(interleaved(*streams))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_split_lines())
def test_generated_split_lines_are_accounted_for(data):
    """Runtimes' framing is JSON or CRI text: no line is rejected but an export line of no
    records; every event is at a line that begins a sequence; nothing meets a bug."""
    result = every_format().process_chunk("src", data, 1, 100)
    assert set(result.reasons) <= {"no_records"}
    lines = data.count(b"\n")
    assert set(pa.table(result.events).column("line").to_pylist()) <= set(range(1, lines + 1))


@functools.cache
def _masked_core() -> core.Core:
    from logkit.core import FormatSettings, native_masker

    masker = native_masker({}, None, None, FormatSettings())
    return core.Core(formats=FormatSettings(), masker=masker)


def blocks_as_the_reader_cuts(native: Any, data: bytes, cuts: list[int]) -> list[Any]:
    """The events and rejects of `data` read in blocks that each end where the core's scan
    says a block of its lines may end (tried after the lines `cuts` pick)."""
    lines = [line + b"\n" for line in data.split(b"\n")[:-1]]  # a CR is not a line's end
    rows: list[Any] = []
    start = 0  # in lines
    for cut in [*sorted({c % (len(lines) + 1) for c in cuts}), len(lines)]:
        if cut <= start:
            continue
        chunk = b"".join(lines[start:cut])
        end = native.unfinished(chunk) if cut < len(lines) else len(chunk)
        taken = chunk[:end].count(b"\n")
        if not taken:
            continue
        offset = 100 + len(b"".join(lines[:start]))
        result = native.process_chunk("src", b"".join(lines[start : start + taken]), start + 1,
                                      offset)  # fmt: skip
        rows += pa.table(result.events).to_pylist() + pa.table(result.rejects).to_pylist()
        start += taken
    assert start == len(lines)
    return rows


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_split_lines(), st.lists(st.integers(0, 10_000), max_size=4), st.booleans())
def test_blocks_cut_where_the_scan_says_give_what_one_block_gives(data, cuts, masked):
    """Where a block of complete lines may end so that no sequence is cut (Core.unfinished,
    which the reader asks): blocks cut there give the events and rejects one block gives,
    whatever the streams interleaved."""
    native = _masked_core() if masked else every_format()
    assert native.splits
    whole = native.process_chunk("src", data, 1, 100)
    expected = pa.table(whole.events).to_pylist() + pa.table(whole.rejects).to_pylist()
    rows = blocks_as_the_reader_cuts(native, data, cuts)
    key = lambda row: json.dumps(row, sort_keys=True, default=str)  # noqa: E731
    assert sorted(expected, key=key) == sorted(rows, key=key)


def test_a_cut_before_an_open_sequence_does_not_split_a_closed_one():
    """Found by the test above with two streams: stderr's parts are lines 2 and 4, stdout's
    open sequence begins at line 3. A block of these lines may not end before line 3, which
    would leave stderr's first part in one block and its end in the next (two events): it
    ends before line 2, and the same lines read in any blocks give the events of one."""
    from logkit.core import FormatSettings

    entries = [(b"\\n", b"stdout"), (b"00", b"stderr"), (b"0", b"stdout"), (b"\\n", b"stderr")]
    data = b"".join(
        b'{"log":"%s","stream":"%s","time":"2026-11-22T10:01:02Z"}\n' % entry for entry in entries
    )
    native = core.Core(formats=FormatSettings())
    lines = data.splitlines(keepends=True)
    cut = native.unfinished(data)
    assert cut == len(b"".join(lines[:1]))
    whole = native.process_chunk("src", data, 1, 100)
    for cuts in ([1], [2], [3], [1, 2, 3]):
        rows = blocks_as_the_reader_cuts(native, data, cuts)
        assert pa.table(whole.events).to_pylist() + pa.table(whole.rejects).to_pylist() == rows


def test_a_record_of_one_stream_around_the_start_of_anothers_open_one_is_stored_once(tmp_path):
    """The file ends, for a first run, with stderr's parts on lines 2 and 4 around the first
    part of stdout's sequence (line 3), whose end a second run finds: each record is stored
    once, whole, at its first part's line (the reader held lines 2-4 back, not 3-4)."""
    from .helpers import query

    entries = [(b"\\n", b"stdout"), (b"00", b"stderr"), (b"0", b"stdout"), (b"\\n", b"stderr"),
               (b"\\n", b"stdout")]  # fmt: skip
    lines = [b'{"log":"%s","stream":"%s","time":"2026-11-22T10:01:02Z"}\n' % e for e in entries]
    summaries, _, rejects = _ingest(tmp_path, "core", [b"".join(lines[:4]), lines[4]], "")
    assert [(1, 1), (4, 2)] == [(lines, events) for lines, events, *_ in summaries]
    assert "its last 3 line(s) are parts of a split line" in summaries[0][-1][0]
    stored = query(tmp_path / "core" / "s.duckdb",
                   "SELECT line, message, attrs->>'stream' FROM events ORDER BY line")  # fmt: skip
    assert [(1, "", "stdout"), (2, "00", "stderr"), (3, "0", "stdout")] == stored
    assert not rejects


def _ingest(tmp_path: Path, mode: str, runs: list[bytes], config: str) -> Any:
    import logkit

    from .helpers import append, query

    base = tmp_path / mode
    base.mkdir(exist_ok=True)
    toml = base / "logkit.toml"
    toml.write_text(config)
    log = base / "c.log"
    log.write_bytes(b"")
    summaries = []
    for data in runs:
        append(log, data)
        summary = logkit.open(base / "s.duckdb", config_path=toml).ingest([str(log)])
        summaries.append(
            (
                summary.lines,
                summary.events,
                summary.rejects,
                dict(summary.rejected),
                summary.format_coverage(),
                [w.replace(str(base), "DIR") for w in summary.warnings],
            )
        )
    events = query(base / "s.duckdb", "SELECT * EXCLUDE (attrs, source), attrs::VARCHAR"
                   " FROM events ORDER BY line, attrs->>'line_index'")  # fmt: skip
    rejects = query(base / "s.duckdb", "SELECT line, byte_offset, reason, raw FROM rejects"
                    " ORDER BY line")  # fmt: skip
    return summaries, events, rejects


def assert_same_ingests(tmp_path: Path, runs: list[bytes], config: str) -> Any:
    """Ingests of `runs` by the core, held to what the Python pipeline stored."""
    stored = golden_core.stored(runs, config, _ingest(tmp_path, "core", runs, config))
    for *_, warnings in stored[0]:
        assert not any("native core" in w for w in warnings), warnings
    return stored


@pytest.mark.parametrize("block", [1024, 9000, 1 << 21])
@pytest.mark.parametrize("name", ["cri", "docker_json_file", "otlp_in_docker", "split_both_streams",
                                  "cri_long_lines"])  # fmt: skip
def test_ingests_store_the_same_whatever_the_blocks(tmp_path, name, block):
    """The reader holds a block's unfinished sequence back (the core's scan says where), so
    what is stored is the same in blocks smaller and larger than a part."""
    _, events, _ = assert_same_ingests(
        tmp_path, [CASES[name]], f"[ingest]\nbatch_bytes = {block}\n"
    )
    assert events


@pytest.mark.parametrize("name", ["cri_long_lines", "split_both_streams", "otlp_in_docker"])
def test_ingests_store_the_same_across_runs(tmp_path, name):
    """The file grows between runs, cut in the middle of sequences: each record is stored
    once, whole, at its first part's line, by both."""
    lines = CASES[name].splitlines(keepends=True)
    for cut in range(3, len(lines), max(1, len(lines) // 4)):
        where = tmp_path / str(cut)
        where.mkdir()
        runs = [b"".join(lines[:cut]), b"".join(lines[cut:])]
        assert_same_ingests(where, runs, "[ingest]\nbatch_bytes = 4096\n")


def test_parts_beyond_max_line_bytes_are_let_go_the_same(tmp_path):
    text = "".join(f"{n:07d} " for n in range(8000))
    data = b"".join(docker_entries(text.encode(), "stdout", "2026-11-22T10:01:00Z"))
    config = "[ingest]\nbatch_bytes = 4096\nmax_line_bytes = 40000\n"
    _, events, _ = assert_same_ingests(tmp_path, [data], config)
    assert len(events) > 1


@pytest.mark.parametrize("kind", ["docker", "cri"])
def test_sequences_across_the_cores_parallel_slices_give_the_same_events(kind):
    """The core reads a block in slices of 2048 lines at once; a sequence whose parts lie in
    two slices (another stream's lines between them), one over three slices, and one still
    open at the block's end are joined as in one pass."""
    split = docker_entries if kind == "docker" else cri_lines
    lines: list[bytes] = []
    crossing = 0
    for n in range(5000):
        content = orjson.dumps({"level": "info", "msg": f"line {n}", "n": n})
        if n == 4000:
            content = orjson.dumps({"msg": "long", "pad": "x" * 12_000})  # > 2048 parts
        parts = split(content, "stdout", "2026-11-22T10:01:02Z", 5)
        # A sequence whose last part is the next slice's first line (its end is the first
        # of its stream there), others across slice ends, one over three slices.
        if len(lines) + len(parts) == 2048 or (len(lines) + 2) % 2048 < 4 or n == 4000:
            other = split(b'{"msg": "between"}', "stderr", "2026-11-22T10:01:02Z")
            lines += parts[:3] + other + parts[3:]
            crossing += 1
        else:
            lines += split(content, "stderr" if n % 3 else "stdout", "2026-11-22T10:01:02Z")
    lines += split(b'{"msg": "never ended"}', "stdout", "2026-11-22T10:01:03Z", 5)[:-1]
    assert len(lines) > 3 * 2048 and crossing >= 3
    result = assert_same_block(b"".join(lines))
    assert result.events.num_rows == 5001 + crossing


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_cores_scan_cuts_the_cases_where_the_readers_scan_does(name):
    """At every line of each case (100 KB records whose parts span more than the scan's
    64 KiB window, interleaved streams, a sequence never ended)."""
    lines = CASES[name].splitlines(keepends=True)
    golden_core.cuts(CASES[name], list(range(len(lines) + 1)))
