"""The native core against golden outputs: what the Python per-line pipeline made of the same
inputs, kept now that only the core is left (as tests/golden/mask/ keeps the Python masker's).

tests/golden/core/corpus.json.gz holds cases, each an input (a block of lines and the settings
it ran with: aliases, log formats, a `[mask]` table, where the block starts), what the Python
pipeline (`pipeline.process_chunk`) gave for it (events column by column, `attrs` as their JSON
text; rejects; the block's counts), and which test asked. It also holds the stores of whole
ingests (summary, events, rejects), the reader's cuts of blocks of split lines (where a block
may end, `PartialScan.unfinished`) and the records `[explode]` made of OTLP/JSON lines.
tests/golden/core/make.py wrote it by running the differential tests (tests/test_core_diff.py,
test_core_formats_diff.py, test_core_lines_not_records.py) with the Python pipeline beside the
core, every output checked equal to the core's as it was recorded.

A test asks for a case by its input (`block`, `ingest`, `cuts`, `records`): an input the corpus
does not hold fails, naming it. The inputs themselves are kept only where they came from a
generator: `logkit sample` output (`sample`) and a fixed sample of each Hypothesis test's
draws, which tests/test_core_golden.py replays.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "golden" / "core" / "corpus.json.gz"
MASK_KEY = b"differential-test-key-000000000"


@dataclass
class Recorder:
    """Set by tests/golden/core/make.py while it records: what the Python pipeline gives for
    an input of each kind (`python`), and the cases recorded so far."""

    python: dict[str, Callable[..., Any]]
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    samples: dict[str, list[str]] = field(default_factory=dict)
    generated: bool = False  # the test running is a Hypothesis one


RECORDING: Recorder | None = None
# Set by tests/golden/core/revise.py: the core's output for each block case whose golden one
# it no longer equals, by the case's key, collected instead of failing.
REVISING: dict[str, Any] | None = None


@cache
def corpus() -> dict[str, Any]:
    return json.loads(gzip.decompress(CORPUS.read_bytes()))


def _bytes_out(data: bytes) -> str:
    return base64.b64encode(data).decode()


def bytes_in(text: str) -> bytes:
    return base64.b64decode(text)


def _key(kind: str, settings: dict[str, Any], data: bytes) -> str:
    text = json.dumps([kind, settings], sort_keys=True, default=repr).encode()
    return hashlib.sha256(text + b"\0" + data).hexdigest()


def _node() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]


def _case(
    kind: str, settings: dict[str, Any], data: bytes, got: Any, python: Any, keep: bool = False
) -> Any:
    """The golden output for this input: recorded from Python (`python()`, checked equal to
    `got`, the core's) while recording; looked up in the corpus otherwise."""
    key = _key(kind, settings, data)
    if RECORDING is None:
        case = corpus()["cases"].get(key)
        if case is None:
            pytest.fail(
                f"no golden {kind} output for this input ({len(data)} bytes, settings"
                f" {json.dumps(settings, default=repr)[:300]}): the golden corpus holds what the"
                " Python pipeline made of the differential tests' inputs; a changed input has"
                " none (see tests/golden/core/make.py)"
            )
        return case["expected"]
    expected = python()
    digest = hashlib.sha256(data).hexdigest()
    if RECORDING.generated or keep:  # replayed; the others are asked for by their input
        RECORDING.inputs[digest] = _bytes_out(data)
    if key in RECORDING.cases and not RECORDING.cases[key]["generated"]:
        return expected  # a fixed test's input a Hypothesis draw met again: the test keeps it
    RECORDING.cases[key] = {
        "kind": kind,
        "node": _node(),
        "generated": RECORDING.generated,
        "settings": settings,
        "input": digest,
        "expected": expected,
    }
    return expected


# --- blocks ------------------------------------------------------------------------------------


def settings_of(
    *,
    aliases: Any = None,
    formats: Any = None,
    mask: dict[str, Any] | None = None,
    first_line: int = 1,
    in_key: int = 0,
) -> dict[str, Any]:
    """A block's settings as data: a formats directory by its files' contents."""
    from logkit.core import FormatSettings

    formats = formats or FormatSettings()
    files = None
    if formats.formats_dir is not None:
        files = {p.name: p.read_text() for p in sorted(Path(formats.formats_dir).glob("*.toml"))}
    return {
        "aliases": aliases,
        "tables": formats.tables,
        "formats_dir": files,
        "forced": formats.forced,
        "mask": mask,
        "first_line": first_line,
        "in_key": in_key,
    }


def core_block(data: bytes, settings: dict[str, Any], tmp: Path | None = None) -> Any:
    """The core's ChunkResult for a block (source "src", first byte at offset 100)."""
    import tempfile

    from logkit import core
    from logkit.core import FormatSettings

    formats_dir = None
    if settings["formats_dir"] is not None:
        formats_dir = tmp or Path(tempfile.mkdtemp(prefix="golden-formats-"))
        for name, text in settings["formats_dir"].items():
            (formats_dir / name).write_text(text)
    formats = FormatSettings(settings["tables"], str(formats_dir) if formats_dir else None,
                             settings["forced"])  # fmt: skip
    masker = None
    if settings["mask"] is not None:
        masker = core.native_masker(settings["mask"], MASK_KEY, settings["aliases"], formats)
    native = core.Core(settings["aliases"], formats=formats, masker=masker)
    return native.process_chunk("src", data, settings["first_line"], 100, (), settings["in_key"])


def outputs(result: Any) -> dict[str, Any]:
    """A ChunkResult as data: events column by column (times as microseconds), rejects, counts."""
    import pyarrow as pa

    table = pa.table(result.events)
    events = {}
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64())
        events[name] = column.to_pylist()
    return {
        "events": events,
        "rejects": pa.table(result.rejects).to_pylist(),
        "lines": result.lines,
        "no_ts": result.no_ts,
        "newest_ts": result.newest_ts,
        "reasons": dict(sorted(result.reasons.items())),
        "formats": dict(sorted(result.formats.items())),
        "masked": dict(sorted(result.masked.items())),
    }


def assert_outputs(data: bytes, expected: dict[str, Any], actual: Any) -> None:
    """The core's result equals the golden one: each column's values (NaN equal to NaN), the
    rejects and the counts; a difference names the column, the event and its line."""
    got = _through_json(outputs(actual))
    assert list(expected["events"]) == list(got["events"]), "event columns"
    for name, want in expected["events"].items():
        have = got["events"][name]
        assert len(want) == len(have), (name, len(want), len(have))
        for i, (w, g) in enumerate(zip(want, have, strict=True)):
            if not (w == g or _both_nan(w, g)):
                line = got["events"]["line"][i]
                raw = data.split(b"\n")[line - 1][:300] if isinstance(line, int) else None
                raise AssertionError((name, i, w, g, raw))
    for part in ("rejects", "lines", "no_ts", "newest_ts", "reasons", "formats", "masked"):
        assert expected[part] == got[part], part


def check_block(key: str, data: bytes, expected: dict[str, Any], actual: Any) -> None:
    """`assert_outputs`, or while revising, the core's output kept for the case if it differs."""
    try:
        assert_outputs(data, expected, actual)
    except AssertionError:
        if REVISING is None:
            raise
        REVISING[key] = _through_json(outputs(actual))


def _through_json(value: Any) -> Any:
    """`value` as the corpus holds it (tuples as lists, keys as text)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        return json.loads(json.dumps(value, default=str))
    finally:
        sys.setrecursionlimit(limit)


def _both_nan(a: Any, b: Any) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def block(data: bytes, keep_input: bool = False, **given: Any) -> Any:
    """The core's result for a block, checked against the golden one; returned for the test's
    own assertions. `given`: see `settings_of`. `keep_input`: the corpus keeps the input too,
    for `kept_blocks` to replay (an input no test can make again, such as a real program's
    output with the times it ran at)."""
    settings = settings_of(**given)
    actual = core_block(data, settings)
    expected = _case("block", settings, data, actual, lambda: _through_json(
        outputs(RECORDING.python["block"](data, settings))), keep_input)  # type: ignore[union-attr]  # fmt: skip
    check_block(_key("block", settings, data), data, expected, actual)
    return actual


def kept_blocks(test: str) -> list[Any]:
    """The core's results for the blocks a test recorded with their inputs (`keep_input`),
    each checked against its golden output; `test`: the test's name with its parameters."""
    inputs = corpus()["inputs"]
    results = []
    for key, case in corpus()["cases"].items():
        if case["kind"] == "block" and case["node"].endswith("::" + test):
            data = bytes_in(inputs[case["input"]])
            results.append(core_block(data, case["settings"]))
            check_block(key, data, case["expected"], results[-1])
    return results


def sample(lines: int, seed: int) -> list[bytes]:
    """`logkit sample` output (two files, 2% malformed lines) as it was when the corpus was
    recorded: the tests' input, kept with it, whatever the generator writes now."""
    key = _key("sample", {"lines": lines, "seed": seed}, b"")
    if RECORDING is None:
        inputs = corpus()["inputs"]
        return [bytes_in(inputs[digest]) for digest in corpus()["samples"][key]]
    import tempfile

    from logkit.sample import generate

    out = Path(tempfile.mkdtemp(prefix="golden-sample-"))
    files = [p.read_bytes() for p in generate(out, lines=lines, seed=seed, files=2, malformed=0.02)]
    digests = []
    for data in files:
        digests.append(hashlib.sha256(data).hexdigest())
        RECORDING.inputs[digests[-1]] = _bytes_out(data)
    RECORDING.samples[key] = digests
    return files


# --- whole ingests, scans, exploded records ---------------------------------------------------


def ingest(tmp_path: Path, logs: Path, *args: str) -> Any:
    """`logkit ingest ARGS --format json LOGS` into a new store: the summary (without timings),
    events and rejects, checked against what the Python pipeline stored (paths under
    `tmp_path` written TMP, those in the checkout ROOT)."""
    from .helpers import ingest_stored

    actual = _tmp_free(ingest_stored(tmp_path / "core.duckdb", logs, *args), tmp_path)
    data = json.dumps([str(logs.relative_to(tmp_path)) if logs.is_relative_to(tmp_path)
                       else logs.name, args]).encode()  # fmt: skip
    expected = _case("ingest", {}, data, actual, lambda: _tmp_free(
        RECORDING.python["ingest"](tmp_path, logs, *args), tmp_path))  # type: ignore[union-attr]  # fmt: skip
    check_whole("ingest", data, expected, _as_recorded(actual))
    return actual


# Summary fields added since the corpus was recorded, and the value they have wherever the
# recorded inputs go: compared as absent there, so a value other than that still fails.
SOURCE_FIELDS_SINCE = {"encoding": None}


def _as_recorded(ingested: Any) -> Any:
    summary, events, rejects = ingested
    sources = [
        {k: v for k, v in source.items() if k not in SOURCE_FIELDS_SINCE
         or v != SOURCE_FIELDS_SINCE[k]}
        for source in summary["sources"]
    ]  # fmt: skip
    return [{**summary, "sources": sources}, events, rejects]


def _tmp_free(value: Any, tmp_path: Path) -> Any:
    # Only the checkout's sample_logs/ stands for ROOT: the real programs' fixtures hold paths
    # of the machine they were recorded on (/work/main/.venv/...), which a checkout at that
    # path must not rewrite.
    text = json.dumps(value, default=str).replace(str(tmp_path), "TMP")
    text = text.replace(f"{ROOT}/sample_logs", "ROOT/sample_logs")
    return json.loads(text)


def stored(runs: list[bytes], config: str, actual: Any) -> Any:
    """What ingests of `runs` (appended to one file between runs, under logkit.toml `config`)
    stored (`actual`), checked against what the Python pipeline's stored."""
    data = config.encode() + b"\0" + b"\0".join(runs)
    actual = _through_json(actual)
    expected = _case("stored", {}, data, actual, lambda: _through_json(
        RECORDING.python["stored"](runs, config)))  # type: ignore[union-attr]  # fmt: skip
    check_whole("stored", data, expected, actual)
    return actual


def check_whole(kind: str, data: bytes, expected: Any, actual: Any) -> None:
    """A whole ingest's store as recorded, or while revising, kept for the case if it differs."""
    if expected == actual or RECORDING is not None:
        return
    if REVISING is None:
        assert expected == actual
    REVISING[_key(kind, {}, data)] = _through_json(actual)


def cuts(data: bytes, prefixes: list[int]) -> list[int]:
    """Where the reader may end a block made of the first n lines of `data`, for each n of
    `prefixes` (the core's `unfinished`), checked against the Python scan's."""
    from logkit import core
    from logkit.core import FormatSettings

    native = core.Core(formats=FormatSettings())
    lines = data.splitlines(keepends=True)
    actual = [native.unfinished(b"".join(lines[:n])) for n in prefixes]
    expected = _case("cuts", {"prefixes": prefixes}, data, actual,
                     lambda: RECORDING.python["cuts"](data, prefixes))  # type: ignore[union-attr]  # fmt: skip
    assert expected == actual
    return actual


def records(line: bytes, native: Callable[[bytes], Any]) -> Any:
    """The records `[explode]` takes out of an OTLP/JSON line (`native`), checked against the
    Python formats' (None: the line is no record)."""
    actual = native(line)
    expected = _case("records", {}, line, actual,
                     lambda: RECORDING.python["records"](line))  # type: ignore[union-attr]  # fmt: skip
    assert expected == actual, line[:300]
    return actual
