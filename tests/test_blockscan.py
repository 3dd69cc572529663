"""The block scan: Hyperscan finds, in a whole block, every line needs_masking would mask.

What it must never do is let through a line that `Masker.needs_masking` sends to masking: it
may flag more (its patterns have no lookarounds), or leave a non-ASCII line to needs_masking.
"""

from __future__ import annotations

import functools
import gzip
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logkit import blockscan
from logkit.blockscan import BlockScanner
from logkit.mask import SENSITIVE_KEYS, Masker
from logkit.pipeline import build_stages, process_chunk

from .test_mask import KEY, LINES_TO_MASK, ORDINARY_LINES, line, realistic_line

pytestmark = pytest.mark.skipif(blockscan.hyperscan is None, reason="Hyperscan not installed")

SAMPLE_LOGS = Path(__file__).resolve().parent.parent / "sample_logs"

CONFIGS = {
    "default": ({}, None),
    "pseudonyms": ({"mode": "pseudonymize"}, KEY),
    "extra keys": ({"keys": ["Session-Ref", "x_internal_pin"]}, None),
    "no ipv6, no api keys": ({"disable": ["ipv6", "api_key"]}, None),
    "no key rules": ({"disable": ["key"]}, None),
}


def scanner_for(masker: Masker) -> BlockScanner:
    scanner = BlockScanner.for_masker(masker)
    assert scanner is not None
    return scanner


@functools.cache
def configured(config: str) -> tuple[Masker, BlockScanner]:
    """A masker built from CONFIGS and its scanner, compiled once (~0.6 s each)."""
    masker = Masker.from_config(*CONFIGS[config])
    return masker, scanner_for(masker)


def sent_on(scanner: BlockScanner, lines: list[bytes]) -> list[bool]:
    """Per line: does the scan send it to masking, or leave it to needs_masking?"""
    flagged = scanner.flagged(b"".join(raw + b"\n" for raw in lines), lines)
    return [i in flagged or (scanner.names and not raw.isascii()) for i, raw in enumerate(lines)]


def misses(config: str, lines: list[bytes]) -> list[bytes]:
    """Lines needs_masking would mask that the scan lets through."""
    masker, scanner = configured(config)
    sent = sent_on(scanner, lines)
    return [raw for raw, s in zip(lines, sent, strict=True) if masker.needs_masking(raw) and not s]


@pytest.mark.parametrize("config", CONFIGS)
def test_every_line_with_something_to_mask_is_sent_on(config):
    assert misses(config, LINES_TO_MASK) == []


def test_ordinary_lines_are_let_through():
    _, scanner = configured("default")
    assert sent_on(scanner, ORDINARY_LINES) == [False] * len(ORDINARY_LINES)


def test_most_realistic_lines_are_let_through():
    rng = random.Random(1)
    lines = [realistic_line(rng) for _ in range(2000)]
    sent = sent_on(configured("default")[1], lines)
    assert sum(sent) / len(lines) < 0.1


def test_a_match_is_charged_to_its_own_line_in_a_block():
    lines = [line(message="hello"), line(ip="10.0.0.1"), b"", line(message="x"), b'{"pwd":1}']
    assert sent_on(configured("default")[1], lines) == [False, True, False, False, True]


def test_a_non_ascii_line_is_left_to_needs_masking_when_it_looks_for_names():
    kelvin = '{"TO\u212aEN":"x"}'.encode()  # lowercases to "token"; no byte pattern sees it
    _, scanner = configured("default")
    assert scanner.flagged(kelvin + b"\n", [kelvin]) == set()
    assert sent_on(scanner, [kelvin]) == [True]


def test_fields_with_aliases_are_looked_for():
    masker = Masker.from_config(
        {"fields": ["user_id"]}, KEY, field_aliases={"user_id": ["userId", "user.id"]}
    )
    lines = [line(userId="u1"), line(user={"id": 1}), line(message="hello")]
    assert sent_on(scanner_for(masker), lines) == [True, True, False]


@pytest.mark.parametrize(
    "table",
    [
        {"detectors": {"order_ref": r"ORD-\d{6}"}},  # needs_masking cannot see through it
        {"keys": ["pa\u00dfwort"]},  # a name only Unicode lowercasing finds
        {"keys": [f"internal_secret_{i}" for i in range(40)]},  # too many names to compile
        {"enabled": False},
    ],
)
def test_no_scanner_where_it_cannot_stand_in_for_needs_masking(table):
    assert BlockScanner.for_masker(Masker.from_config(table, None)) is None


def test_a_compiled_scan_loads_in_another_process_as_it_was():
    masker, scanner = configured("default")
    compiled = BlockScanner.compiled(masker)
    assert compiled is not None
    loaded = BlockScanner.from_bytes(masker, compiled)
    assert sent_on(loaded, LINES_TO_MASK) == sent_on(scanner, LINES_TO_MASK)


def test_no_scanner_when_hyperscan_cannot_compile_the_patterns(monkeypatch):
    masker = Masker()
    monkeypatch.setattr(masker, "block_patterns", [(rb"(?<=a)b", False)])  # no lookbehinds
    assert BlockScanner.for_masker(masker) is None


def test_no_scanner_without_hyperscan(monkeypatch):
    monkeypatch.setattr(blockscan, "hyperscan", None)
    assert BlockScanner.for_masker(Masker()) is None


# Pieces of lines that come close to what needs_masking looks for, in any case and with the
# separators key normalisation removes anywhere in them.
_NAMES = sorted(SENSITIVE_KEYS)
_TAILS = ['":', '" :', '\\":', "':", ":", " \t:", "=", '"=', " = ", "\\t:", "-:", "_="]
_PIECES = [
    "10.0.0.1", "::1", "fe80::1", "2001:db8:0:0:1:0:0:1", "a:b:c:d", "4111111111111111",
    "4111 1111 1111 1111", "5500-0000-0000-0004", "123-45-6789", "(415) 555-2671",
    "415.555.2671", "+44 20 7946 0958", "bob@example.com", "jane%40example.com", "eyJhbGc",
    "Bearer abc", "Basic YWxh", "AKIAIOSFODNN7", "sk-proj-x", "sk_live_x", "rk_test_x",
    "ghp_x", "github_pat_x", "glpat-x", "xoxb-1", "AIzaSy", "-----BEGIN", "://u:p@h",
    "?key=", "&sig=", ";auth=", '"pass=', "\\u0040", "\\/\\/u:p@h", "\u212a", "\u00e9",
    "1795341662123", "2026-11-22T10:01:02Z", "v2.10.4", "12:30:45",
]  # fmt: skip


@st.composite
def near_misses(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["name", "piece", "text"]))
        if kind == "name":
            name = draw(st.sampled_from(_NAMES))
            spelled = "".join(
                draw(st.sampled_from([c, c.upper()])) + draw(st.sampled_from(["", "", "-", "_."]))
                for c in name
            )
            parts.append(spelled + draw(st.sampled_from(_TAILS)))
        elif kind == "piece":
            parts.append(draw(st.sampled_from(_PIECES)))
        else:
            parts.append(draw(st.text(alphabet='abc019 :="\\-_.@+()', max_size=12)))
    return "".join(parts).encode()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(near_misses(), min_size=1, max_size=5), st.sampled_from(sorted(CONFIGS)))
def test_the_scan_never_lets_through_what_needs_masking_would_mask(lines, config):
    assert misses(config, lines) == []


def _sample_blocks() -> list[tuple[str, bytes]]:
    blocks = []
    for path in sorted(SAMPLE_LOGS.iterdir()):
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        blocks.append((path.name, data))
    return blocks


@pytest.mark.parametrize("name,data", _sample_blocks())
def test_a_block_masks_the_same_with_the_scan_as_line_by_line(name, data):
    """The sample logs (their canaries, malformed lines and all) give the same rows."""
    masker, scanner = configured("default")
    stages = build_stages(None, masker)
    by_line = process_chunk(stages, masker, name, data, 1, 0)
    scanned = process_chunk(stages, masker, name, data, 1, 0, scanner=scanner)
    assert scanned.events.equals(by_line.events)
    assert scanned.rejects.equals(by_line.rejects)
    assert scanned.masked == by_line.masked
