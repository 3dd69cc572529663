"""The native core's log formats (src/formats/) against the golden outputs of the Python
pipeline it replaced, with the formats a run knows (recognised per record, or one forced).

For every input here the core must give what the Python pipeline gave (tests/golden_core.py):
the same events column by column, rejects and counts, the per-format coverage included. The
inputs: every format file's [[samples]] lines, alone and all in one block; every real program's
fixture in tests/real/formats; `logkit sample` output; files that interleave formats; formats
a user adds in logkit.toml or a formats directory; lines at the edges of what an envelope
holds. Lines that are not one record each ([partial] parts, [explode] lines) are compared
here as they come in these inputs, and on their own in tests/test_core_lines_not_records.py.
"""

from __future__ import annotations

import datetime
import itertools
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logkit.core import FormatSettings
from logkit.formats import load_formats
from logkit.normalize import split_path

from . import golden_core
from .test_core_diff import _VALUES, EXAMPLES, MASK_CONFIGS, _dump, every_format

core = pytest.importorskip(
    "logkit.core", reason="the native core is not built", exc_type=ImportError
)

REAL_FORMATS = Path(__file__).resolve().parent / "real" / "formats"
# Real programs' output captured after the Python pipeline was gone has no golden output: its
# formats' samples and tests/test_real_format_fixtures.py hold it.
FIXTURES_AFTER_THE_PORT = {"celery.ndjson", "rust_tracing.ndjson"}
FIXTURES = sorted(
    p.name
    for p in REAL_FORMATS.iterdir()
    if p.suffix in (".ndjson", ".log") and p.name not in FIXTURES_AFTER_THE_PORT
)
ALL = FormatSettings()
FORMATS = load_formats()
# Formats written after the Python pipeline was gone have no golden output to be held to:
# their samples' expected columns (tests/test_formats.py) are their oracle. That they change
# nothing in how the other formats' inputs read is checked here (recognition runs with all).
AFTER_THE_PORT = {
    "aws-apigateway", "aws-cloudtrail", "aws-cloudtrail-file", "aws-cloudwatch-logs",
    "aws-lambda-platform", "aws-waf", "azure-resource-log", "celery", "clickhouse", "cloudflare",
    "cloudflare-workers", "datadog", "dotnet-json", "echo", "elasticsearch-hit", "envoy", "falco",
    "firelens", "flog", "fluent-bit", "gcp-logentry", "gelf", "grafana", "hclog", "json-logging",
    "k8s-audit", "k8s-event", "klog", "kong", "logback-json", "mongodb", "monolog", "mysql-json",
    "nestjs", "otel-clickhouse", "postgres-jsonlog", "quarkus", "semantic-logger",
    "serilog-json", "sidekiq", "syslog", "tracing-json", "tracing-json-flat",
    "tracing-span-close", "vector",
}  # fmt: skip
PORTED = {name: spec for name, spec in FORMATS.items() if name not in AFTER_THE_PORT}
# Samples a ported format gained since, the same way: nginx-json's template of $time_local
# and $request whole; generic's Go initialisms, its nginx variable names and MDC, and an
# access line's request in the message; its context objects (apex/log, log4rs, express-winston,
# go-chi httplog); gcp's protobuf Timestamp object; serilog-clef's PascalCase properties
# (Serilog.AspNetCore's request logging); generic's LLM spellings (Bedrock, Gemini, `llm`) and
# PascalCase names.
SAMPLES_AFTER_THE_PORT = {"nginx-json#1", "gcp#1", "serilog-clef#2"} | {
    f"generic#{n}" for n in range(2, 13)
}


def native(formats: FormatSettings = ALL, aliases: Any = None, masker: Any = None) -> Any:
    if formats is ALL and aliases is None and masker is None:
        return every_format()
    return core.Core(aliases, formats=formats, masker=masker)


def assert_same(data: bytes, formats: FormatSettings = ALL, aliases: Any = None) -> Any:
    """The core's result for a block, held to the golden one."""
    return golden_core.block(data, formats=formats, aliases=aliases)


def samples() -> list[tuple[str, bytes]]:
    return [
        (f"{spec.name}#{i}", sample["line"].encode() + b"\n")
        for spec in PORTED.values()
        for i, sample in enumerate(spec.samples)
        if f"{spec.name}#{i}" not in SAMPLES_AFTER_THE_PORT
    ]


@pytest.mark.parametrize("name,line", samples(), ids=[name for name, _ in samples()])
def test_every_format_files_sample_reads_the_same(name, line):
    result = assert_same(line)
    # An OTLP/JSON sample line holds two records: an event each.
    many = 2 if name.startswith("otlp-json") else 1
    assert sum(counts[0] for counts in result.formats.values()) == many


def test_all_samples_in_one_block_are_each_recognised_as_alone():
    data = b"".join(line for _, line in samples())
    result = assert_same(data)
    assert len(result.formats) > 25


@pytest.mark.parametrize("name", FIXTURES)
def test_every_real_programs_fixture_reads_the_same(name):
    data = (REAL_FORMATS / name).read_bytes()
    result = assert_same(data)
    assert result.events.num_rows > 0 or name == "otel_otlp_json.ndjson"


def test_a_file_interleaving_every_real_program_reads_the_same():
    per_file = [(REAL_FORMATS / n).read_bytes().splitlines(True) for n in FIXTURES]
    mixed = b"".join(line for group in itertools.zip_longest(*per_file) for line in group if line)
    result = assert_same(mixed)
    # Envelopes name their inner records' formats: docker/structlog, cri/structlog...
    assert {"docker/structlog", "cri/structlog", "journald/generic"} <= set(result.formats)
    assert len(result.formats) > 20


@pytest.mark.parametrize("forced", sorted(PORTED))
def test_a_forced_format_reads_every_line_the_same(forced):
    # --log-format NAME: every record (inner ones too) read by that format.
    formats = FormatSettings(forced=forced)
    per_file = [(REAL_FORMATS / n).read_bytes().splitlines(True) for n in FIXTURES]
    data = b"".join(b"".join(lines[:3]) for lines in per_file)
    assert_same(data, formats)


@pytest.mark.parametrize("seed", [0, 5])
def test_logkit_sample_output_reads_the_same(seed):
    for data in golden_core.sample(lines=600, seed=seed):
        assert assert_same(data).events.num_rows > 0


USER_FORMAT = {
    "description": "an in-house logger",
    "match": {"keys": ["when", "sev", "what"], "shapes": {"when": "integer"}, "priority": 5},
    "fields": {
        "ts_ms": "when",
        "level": {"from": "sev", "default": "notice"},
        "message": ["what", {"from": "tmpl", "template": "tmpl"}],
        "trace_id": {"from": "ctx.trace", "pattern": "^t-(?P<value>[0-9a-f]+)$"},
        "duration_ns": "took",
    },
    "levels": {"numbers": {"1": "DEBUG", "9": "CRITICAL"}, "words": {"meh": "WARNING"}},
}
USER_LINES = [
    b'{"when": 1795341662123, "sev": 9, "what": "boom", "ctx": {"trace": "t-abc", "x": 1}}',
    b'{"when": 1795341662123, "sev": "meh", "what": null, "tmpl": "hi {who}", "who": "al"}',
    b'{"when": 1795341662123, "sev": null, "what": "default level", "took": 1500000}',
    b'{"when": "1795341662123", "sev": 1, "what": "a string when: not this format"}',
    b'{"msg": "generic", "level": "info", "ctx": {"trace": "t-abc"}}',
]


def test_a_format_added_in_logkit_toml_reads_the_same():
    formats = FormatSettings(tables={"inhouse": USER_FORMAT})
    result = assert_same(b"\n".join(USER_LINES) + b"\n", formats)
    assert result.formats["inhouse"][0] == 3


def test_a_format_from_a_formats_dir_and_aliases_read_the_same(tmp_path):
    (tmp_path / "zap.toml").write_text(  # replaces the built-in zap
        'name = "zap"\n[match]\nkeys = ["ts", "msg", "caller"]\n[fields]\nts_ms = "ts"\n'
        'service = "caller"\n',
        encoding="utf-8",
    )
    formats = FormatSettings(formats_dir=str(tmp_path))
    aliases = {"message": ["what"], "service": ["svc"], "trace_id": ["caller"]}
    data = b"".join(
        line for n in ("go_zap.ndjson", "caddy.ndjson", "structlog.ndjson")
        for line in (REAL_FORMATS / n).read_bytes().splitlines(True)
    )  # fmt: skip
    data += b"\n".join(USER_LINES) + b"\n"
    result = assert_same(data, formats, aliases)
    assert result.formats["zap"][0] > 0


EDGE_LINES = [
    # envelopes: inner text orjson does not read as a record stays the message
    b'{"log": "{\\"msg\\": NaN}\\n", "stream": "stdout", "time": "2026-11-22T10:01:02Z"}',
    b'{"log": "{\\"msg\\": \\"\\\\ud800\\"}\\n", "stream": "stdout",'
    b' "time": "2026-11-22T10:01:02Z"}',
    b'{"log": "{\\"n\\": 123456789012345678901, \\"msg\\": \\"big\\"}\\n", "stream": "stderr",'
    b' "time": "2026-11-22T10:01:02Z"}',
    b'{"log": "  {\\"msg\\": 1e400}\\n", "stream": "stdout", "time": "x"}',
    b'{"log": "[1, 2]\\n", "stream": "stdout", "time": "2026-11-22T10:01:02Z"}',
    b'{"log": 5, "stream": "stdout", "time": "2026-11-22T10:01:02Z"}',
    # an envelope in an envelope in an envelope; an inner record with its own "envelope"
    b'{"log": "{\\"log\\": \\"{\\\\\\"log\\\\\\": \\\\\\"{}\\\\\\", \\\\\\"stream\\\\\\": 1,'
    b' \\\\\\"time\\\\\\": 2}\\", \\"stream\\": \\"in\\", \\"time\\": 3}\\n", "stream": "out",'
    b' "time": "2026-11-22T10:01:02Z"}',
    b'{"log": "{\\"msg\\": \\"m\\", \\"envelope\\": 1, \\"envelope~inner\\": 2}\\n",'
    b' "stream": "stdout", "time": "2026-11-22T10:01:02Z"}',
    # journald: MESSAGE as bytes, JSON inside, not bytes after all
    b'{"__REALTIME_TIMESTAMP": "1795341662000000", "MESSAGE": [123, 34, 97, 34, 58, 49, 125]}',
    b'{"__REALTIME_TIMESTAMP": "1795341662000000", "MESSAGE": [104, 256]}',
    b'{"__REALTIME_TIMESTAMP": "1795341662000000", "MESSAGE": [], "PRIORITY": 9}',
    b'{"__REALTIME_TIMESTAMP": 1795341662, "MESSAGE": "{\\"level\\": \\"warn\\", \\"ts\\": 1}"}',
    # levels: slog offsets, logback numbers, otel scales
    b'{"time": "2026-11-22T10:01:02Z", "level": "ERROR+4", "msg": "m"}',
    b'{"time": "2026-11-22T10:01:02Z", "level": "DEBUG-2", "msg": "m"}',
    b'{"@timestamp": "2026-11-22T10:01:02Z", "level": "X", "level_value": 40000,'
    b' "logger_name": "l", "thread_name": "t", "message": "m", "@version": "1"}',
    b'{"body": "b", "severity_number": 23, "severity_text": null, "trace_id": "0x0000"}',
    b'{"body": "b", "severity_text": "", "severity_number": "17", "span_id": 5}',
    # templates, defaults, nanos
    b'{"@t": "2026-11-22T10:01:02Z", "@mt": "{A} {B:0.0} {{C}} {D} {@E}", "A": null,'
    b' "B": 1.5, "E": [1, {"x": true}]}',
    b'{"@t": "2026-11-22T10:01:02Z", "@m": 5, "@mt": 7, "@l": "Warning"}',
    b'{"timestampSeconds": 1795341662, "timestampNanos": 999999999, "severity": "ERROR",'
    b' "httpRequest": {"latency": "0.042s"}, "logging.googleapis.com/trace":'
    b' "projects/p/traces/4bf92f3577b34da6a3ce929d0e0e4736"}',
    b'{"timestampSeconds": 1795341662, "timestampNanos": 1000000000, "message": "m",'
    b' "logging.googleapis.com/spanId": "00f067aa0ba902b7"}',
    # shapes that tell formats apart by value
    b'{"level": 30, "time": 1795341662000, "msg": "pino"}',
    b'{"level": "30", "time": 1795341662000, "msg": "not pino"}',
    b'{"v": 0, "level": 30, "name": "app", "hostname": "h", "pid": 1, "time": "t", "msg": "b"}',
    b'{"v": false, "level": 30, "name": "app", "hostname": "h", "pid": 1, "time": "t"}',
    b'{"ts": 1795341662.5, "level": "info", "msg": "z", "caller": "a.go:1"}',
    b'{"ts": "1795341662.5", "level": "info", "msg": "z", "caller": "a.go:1"}',
    b'{"request": {"headers": {"Traceparent": ["00-4bf92f3577b34da6a3ce929d0e0e4736-'
    b'00f067aa0ba902b7-01"]}, "uri": "/a?b"}, "status": 200, "duration": 0.5, "msg": "x",'
    b' "ts": 1795341662.5, "level": "info", "logger": "http.log.access"}',
    # Python's \\s holds \\x1c-\\x1f (the error type pattern: spaces, then the type)
    b'{"msg": "m", "stack": "\\u001c\\u001fTypeError: x\\n \\u001e at f (a.js:1:1)"}',
    b'{"usage": {"prompt_tokens": 3, "completion_tokens": 4}, "model": "m",'
    b' "object": "chat.completion\\n", "id": "x"}',
]


def test_edge_lines_of_envelopes_levels_templates_and_shapes_read_the_same():
    data = b"\n".join(EDGE_LINES) + b"\n"
    assert data.count(b"\n") == len(EDGE_LINES)
    assert_same(data)


@pytest.mark.parametrize("config", ["placeholder", "pseudonymize", "fields"])
def test_masked_formats_read_the_same(config):
    # Masking stays after normalisation: the native masker on the core's events, with
    # `fields` found where each format reads them, as the Python masker on Python's.
    table = MASK_CONFIGS[config]
    data = b"".join((REAL_FORMATS / n).read_bytes() for n in FIXTURES)
    data += b"\n".join(EDGE_LINES[:12]) + b"\n"
    golden_core.block(data, mask=table)


def test_lines_that_are_not_one_record_are_the_cores_own_work():
    # [partial]: a Docker entry cut at 16 KiB (no newline at the end of its log) joined with
    # the entry that ends it, a CRI P line whose end never comes (one event at the block's
    # end); [explode]: an OTLP/JSON line, an event per record. No block goes back to Python.
    part = b'{"log": "{\\"msg\\": \\"long", "stream": "stdout", "time": "2026-11-22T10:01:02Z"}'
    end = b'{"log": " line\\"}\\n", "stream": "stdout", "time": "2026-11-22T10:01:03Z"}'
    cri_part = b'2026-11-22T10:01:02.5Z stdout P {"msg": '
    otlp = (REAL_FORMATS / "otel_otlp_json.ndjson").read_bytes().splitlines()[0]
    data = b"\n".join([b'{"msg": "before"}', part, end, cri_part, otlp]) + b"\n"
    result = assert_same(data)
    assert {"generic": 1, "docker/generic": 1, "otlp-json": 5, "cri": 1} == {
        name: counts[0] for name, counts in result.formats.items()
    }


def test_a_format_the_core_cannot_read_is_refused_as_the_formats_load():
    from logkit.errors import FormatUnsupported

    lookahead = {"match": {"keys": ["x"], "patterns": {"x": "^(?=a)"}}}
    with pytest.raises(FormatUnsupported, match=r"\(\?=a\)"):
        load_formats({"odd": lookahead})
    # A TOML date (logkit.toml's `equals = { d = 1979-05-27 }`) has no JSON value to equal.
    dated = {"match": {"keys": ["x"], "equals": {"d": datetime.date(1979, 5, 27)}}}
    with pytest.raises(FormatUnsupported, match="date"):
        native(FormatSettings(tables={"dated": dated}))
    assert "generic" in load_formats()


@pytest.mark.parametrize("mask", [(), ("--no-mask",)], ids=["masked", "unmasked"])
def test_an_ingest_of_every_real_program_with_logkit_core_stores_what_python_stores(tmp_path, mask):
    # End to end, the core against what the Python pipeline stored (golden_core): every real
    # program's output, Docker's and CRI's split lines and the OTLP/JSON file included; same
    # summary (per-format coverage, masks), events and rejects.
    from .helpers import write

    logs = tmp_path / "logs"
    for name in FIXTURES:
        write(logs / f"{Path(name).stem}.log", (REAL_FORMATS / name).read_bytes())
    summary, _, _ = golden_core.ingest(tmp_path, logs, *mask)
    assert not [w for w in summary["warnings"] if "native core" in w]
    assert {"docker/structlog", "cri/structlog", "otlp-json"} <= set(summary["formats"])


# --- generated records --------------------------------------------------------------------

# Every name a format's [match] or [fields] looks at, and the steps of the dotted ones, so
# that generated records reach every signature, check and field option.
_NAMES = sorted(
    {
        name
        for spec in FORMATS.values()
        for name in (
            *spec.keys, *spec.any_keys, *spec.shapes, *spec.equals, *spec.patterns,
            *(p for fs in (*spec.fields, *spec.fields_last) for p in fs.paths),
            *(fs.nanos for fs in spec.fields if fs.nanos),
            *(fs.template for fs in spec.fields if fs.template),
        )
    }
)  # fmt: skip
_STEPS = sorted({step for name in _NAMES for step in split_path(name)})
_FORMAT_KEYS = st.one_of(st.sampled_from(_NAMES), st.sampled_from(_STEPS), st.text(max_size=3))
_INNER = st.sampled_from(
    [
        '{"level":"error","ts":1795341662.5,"msg":"db down","caller":"main.go:9"}\n',
        '{"event": "e", "level": "info", "timestamp": "2026-11-22T10:01:02Z"}\n',
        '{"msg": "x", "envelope": {"a": 1}}\n',
        '{"log": "{\\"msg\\": 1}\\n", "stream": "s", "time": 1}\n',
        "plain text\n",
        "{not json\n",
    ]
)
_FORMAT_SPELLINGS = [
    "ERROR+4", "WARN-1", "Information", "dpanic", "success", 30, 40000, "17", 9, 0,
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "0x" + "ab" * 16, "0" * 32,
    "projects/p/traces/4bf92f3577b34da6a3ce929d0e0e4736", "1-5759e988-bd862e3fe1be46a994272793",
    "0.042s", 1795341662, 999_999_999, "{A} and {B:0}", "chat.completion", "message",
    [104, 105], "stdout", "F", "P",
]  # fmt: skip
_FORMAT_VALUES = st.one_of(_VALUES, _INNER, st.sampled_from(_FORMAT_SPELLINGS))
_FORMAT_RECORDS = st.recursive(
    st.dictionaries(_FORMAT_KEYS, _FORMAT_VALUES, max_size=8),
    lambda inner: st.dictionaries(_FORMAT_KEYS, st.one_of(_FORMAT_VALUES, inner), max_size=6),
    max_leaves=12,
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_FORMAT_RECORDS, st.integers(0, 2)), min_size=1, max_size=12))
def test_generated_records_of_format_shapes_are_accounted_for(records):
    """Any record, whatever formats it looks like: its line makes events (one, or one per
    record of an [explode] line), a reject, or joins a split line's parts (whose event is at
    the first part's line); nothing meets a bug of the core and the counts add up."""
    data = b"\n".join(_dump(record, style) for record, style in records) + b"\n"
    result = native().process_chunk("src", data, 1, 100)
    rejected = pa.table(result.rejects).column("line").to_pylist()
    made = set(pa.table(result.events).column("line").to_pylist())
    lines = set(range(1, len(records) + 1))
    assert (len(records), set(), set()) == (
        result.lines, set(rejected) & made, (made | set(rejected)) - lines)  # fmt: skip
    assert len(rejected) == len(set(rejected))
    assert "internal_error" not in result.reasons
    assert sum(counts[0] for counts in result.formats.values()) == result.events.num_rows
