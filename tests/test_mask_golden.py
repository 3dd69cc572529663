"""The masker against its golden corpus: what logkit/mask.py, the Python masker the native one
was proven equal to, made of every input, kept now that only the native masker is left.

tests/golden/mask/corpus.json.gz holds the inputs (every string of tests/test_mask.py and the
boundary cases where the Python patterns backtracked or looked around, the lines of sample_logs/,
`logkit sample --seed 7` output with its planted secrets, a fixed draw of Hypothesis-generated
text, shapes and records), eight `[mask]` tables (placeholders, pseudonyms, custom detectors,
fields with aliases, extra and allowed keys, disabled detectors, odd names), and per table the
masked outputs and counts, and the private key blocks followed over generated lines. Written
by tests/golden/mask/make.py from the Python masker (and checked equal to the native one then).

Beside it, what holds for any input: the prefilter's promise on real and generated lines, no
planted secret left, deep nesting failing closed, no input that panics.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logkit.mask import Masker, key_block_after, key_block_lines

from .core_events import Normalizer
from .test_mask import LINES_TO_MASK, ORDINARY_LINES
from .test_mask_properties import records, text

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "golden" / "mask" / "corpus.json.gz"


@cache
def corpus() -> dict[str, Any]:
    return json.loads(gzip.decompress(CORPUS.read_bytes()))


def configs() -> list[tuple[str, dict[str, Any], dict[str, list[str]] | None]]:
    return [tuple(config) for config in corpus()["configs"]]  # type: ignore[misc]


IDS = [name for name, _, _ in configs()]


def masker_for(name: str) -> Masker:
    _, table, aliases = next(config for config in configs() if config[0] == name)
    return Masker.from_config(table, base64.b64decode(corpus()["key"]), field_aliases=aliases)


def differences(name: str, kind: str, mask: Any) -> tuple[list[Any], dict[str, int]]:
    """(input, expected, got) where the masker differs from the corpus, and its counts."""
    masker = masker_for(name)
    expected = corpus()["expected"][name][kind]
    wrong = []
    for index, value in enumerate(corpus()[kind]):
        want = expected.get(str(index), value)
        got = mask(masker, value)
        if got != want:
            wrong.append((value[:300], want[:300], got[:300]))
    return wrong, dict(sorted(masker.counts.items()))


@pytest.mark.parametrize("name", IDS)
def test_texts_mask_as_the_golden_corpus_says(name):
    wrong, counts = differences(name, "texts", Masker.mask_text)
    assert ([], corpus()["expected"][name]["texts_counts"]) == (wrong[:5], counts)


@pytest.mark.parametrize("name", IDS)
def test_events_mask_as_the_golden_corpus_says(name):
    """Events as Python values, through `Masker.mask_event` (JSON to the core and back)."""

    def mask(masker: Masker, value: str) -> str:
        return json.dumps(masker.mask_event(json.loads(value)))

    wrong, counts = differences(name, "events", mask)
    assert ([], corpus()["expected"][name]["events_counts"]) == (wrong[:5], counts)


@pytest.mark.parametrize("name", IDS)
def test_raw_lines_mask_as_the_golden_corpus_says(name):
    """`logkit mask`'s lines, one at a time and as one block: a line with something to mask
    byte for byte as the corpus says; one the prefilter finds nothing in is written as it came
    (the Python masker rewrote it compact: the same values)."""
    masker = masker_for(name)
    expected = corpus()["expected"][name]["records"]
    lines = corpus()["records"]
    got = [masker.mask_json_line(line.encode()).decode().rstrip("\n") for line in lines]
    want = [expected.get(str(i), line) for i, line in enumerate(lines)]
    assert dict(sorted(masker.counts.items())) == corpus()["expected"][name]["records_counts"]
    clean = [not masker.needs_masking(line.encode()) for line in lines]
    assert [] == [
        (line, w, g)
        for line, w, g, skip in zip(lines, want, got, clean, strict=True)
        if ((g != line or json.loads(g) != json.loads(w)) if skip else g != w)
    ]
    block, _ = masker.mask_ndjson("\n".join(lines).encode(), 0)
    assert "".join(g + "\n" for g in got) == block.decode()


def test_private_key_blocks_are_followed_as_the_golden_corpus_says():
    pieces = [base64.b64decode(p) for p in corpus()["key_block_pieces"]]
    for case in corpus()["key_blocks"]:
        lines = [pieces[i] for i in case["lines"]]
        masked, still = key_block_lines(lines, case["inside"])
        after = key_block_after(b"\n".join(lines) + b"\n", case["inside"])
        assert (case["masked"], case["still"], case["after"]) == (sorted(masked), still, after)


# --- what holds for any input ------------------------------------------------------------------


def sample_log_lines() -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted((ROOT / "sample_logs").iterdir()):
        if path.suffix in (".md", ".py", ".txt"):
            continue
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        lines.extend(data.splitlines())
    return lines


def depth(value: Any) -> int:
    """How deeply containers nest in `value` (without recursion: some lines nest 1000 deep)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in node)
    return deepest


def records_of(lines: list[bytes]) -> list[tuple[bytes, dict[str, Any]]]:
    """The lines that are JSON objects the pipeline accepts, with their records."""
    found = []
    for raw in lines:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict) and depth(record) < 400:
            found.append((raw, record))
    return found


@pytest.fixture(scope="module")
def generated_lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """`logkit sample` output (with its planted secrets and malformed lines), via the CLI."""
    out = tmp_path_factory.mktemp("sample")
    subprocess.run(
        [sys.executable, "-m", "logkit", "sample", "--lines", "6000", "--out", str(out),
         "--seed", "7", "--malformed", "0.02"],
        check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return [line for path in sorted(out.iterdir()) for line in path.read_bytes().splitlines()]


@pytest.mark.parametrize("name", IDS)
def test_a_line_the_prefilter_skips_has_nothing_to_mask(name, generated_lines):
    """needs_masking's promise on real and generated lines, for every configuration."""
    masker = masker_for(name)
    lines = records_of(sample_log_lines() + generated_lines + LINES_TO_MASK + ORDINARY_LINES)
    skipped = [(raw, record) for raw, record in lines if not masker.needs_masking(raw)]
    events = Normalizer().many(record for _, record in skipped)
    for (raw, _), event in zip(skipped, events, strict=True):
        assert event == masker.mask_event(copy.deepcopy(event)), raw
        # `logkit mask` writes such a line as it came: the whole record would stay as it is.
        assert orjson.loads(raw) == orjson.loads(masker.native.mask_record(raw.decode())), raw
    # Most lines are skipped, unless every line is masked (custom detectors, `message` a field).
    assert masker.always or name == "fields" or len(skipped) > len(lines) // 2
    if name == "placeholder":  # the lines test_mask.py says the default masker must look at
        assert all(masker.needs_masking(raw) for raw in LINES_TO_MASK)


def test_no_canary_survives_masking(generated_lines):
    """Every secret planted in sample_logs/ and in `logkit sample` output is gone after the
    lines are masked as ingest does: lines inside a private key block whole, JSON records as
    events (through the normaliser), anything else as text; and as `logkit mask` does."""
    from logkit.sample import CANARIES as GENERATED

    canaries = [c for c in (ROOT / "sample_logs" / "CANARIES.txt").read_text().splitlines() if c]
    canaries += [c for c in GENERATED if c]
    masker = Masker()
    lines = sample_log_lines() + generated_lines
    inside_key, _ = key_block_lines(lines, 0)
    out, records = [], []
    for index, raw in enumerate(lines):
        if index in inside_key:
            out.append("[MASKED:private_key]")
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            record = None
        if isinstance(record, dict) and depth(record) < 400:
            records.append(record)
        else:
            out.append(masker.mask_text(raw.decode("utf-8", "backslashreplace")))
    out += [json.dumps(masker.mask_event(event)) for event in Normalizer().many(records)]
    text = "\n".join(out)
    streamed = masker.mask_ndjson(b"\n".join(lines) + b"\n", 0)[0].decode()
    planted = [c for c in canaries if c.encode() in b"\n".join(lines)]
    assert len(planted) >= 20
    assert ([], []) == ([c for c in planted if c in text], [c for c in planted if c in streamed])


def test_deep_nesting_fails_closed():
    deep: Any = "bob@example.com"
    for _ in range(1000):
        deep = [deep]
    masker = Masker()
    masked = masker.mask_event({"message": "x", "attrs": {"deep": deep, "ok": "fine"}})
    node = masked["attrs"]["deep"]
    while isinstance(node, list):
        node = node[0]
    assert ("[MASKED:error]", "fine", 1) == (node, masked["attrs"]["ok"], masker.counts["error"])


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MASKERS = {name: masker_for(name) for name in IDS}


@SETTINGS
@given(st.sampled_from(IDS), records)
def test_a_generated_line_the_prefilter_skips_has_nothing_to_mask(name, record):
    masker = MASKERS[name]
    normalize = Normalizer()
    for raw in (
        orjson.dumps(record),
        json.dumps(record).encode(),
        json.dumps(record, ensure_ascii=False).encode(),
    ):
        if not masker.needs_masking(raw):
            event = normalize(orjson.loads(raw))
            assert event == masker.mask_event(copy.deepcopy(event)), raw


@SETTINGS
@given(st.sampled_from(IDS), records)
def test_a_generated_record_the_prefilter_skips_would_not_change(name, record):
    """What lets `logkit mask` write such a line as it came: masking the whole record (at any
    depth, `fields` among its top-level keys) changes nothing."""
    masker = MASKERS[name]
    for raw in (orjson.dumps(record), json.dumps(record, ensure_ascii=False).encode()):
        if not masker.needs_masking(raw):
            assert orjson.loads(raw) == orjson.loads(masker.native.mask_record(raw.decode())), raw


@SETTINGS
@given(st.binary(max_size=200), text)
def test_any_bytes_and_text_are_taken_without_a_panic(raw, value):
    """Arbitrary bytes for the prefilter and `logkit mask` (not even UTF-8), any text."""
    for masker in MASKERS.values():
        masker.needs_masking(raw)
        masker.mask_ndjson(raw, 0)
        assert masker.mask_text(value) == masker.mask_text(masker.mask_text(value))
