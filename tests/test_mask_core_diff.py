"""The native masker (src/mask/, Rust) against logkit/mask.py on the same inputs: identical
masked text, events and counts, in placeholder and pseudonym modes, with custom detectors,
fields, allowed and extra keys, disabled detectors.

Inputs: every string written in tests/test_mask.py (its parametrised values, catalogues and
lines), the lines of sample_logs/, `logkit sample` output with its planted secrets, and
Hypothesis-generated text and records (the generators of tests/test_mask_properties.py). The
raw-line prefilter is held to its promise instead of to Python's answers: a line it lets
through is one that the Python masker leaves unchanged.

The native masker is `logkit._core.Masker` (built with the package); skipped where the core
is not built.
"""

from __future__ import annotations

import ast
import copy
import gzip
import json
import os
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logkit.mask import Masker
from logkit.normalize import Normalizer

from .test_mask import JWT, LINES_TO_MASK, NOT_MASKED, ORDINARY_LINES, PEM
from .test_mask_properties import records, text

core = pytest.importorskip("logkit._core", reason="the native core is not built")

ROOT = Path(__file__).resolve().parent.parent
KEY = b"differential-test-key-000000000"

# (id, [mask] table, field aliases): each is run by both maskers.
CONFIGS: list[tuple[str, dict[str, Any], dict[str, list[str]] | None]] = [
    ("placeholder", {}, None),
    ("pseudonymize", {"mode": "pseudonymize"}, None),
    ("some_pseudonyms", {"pseudonymize": ["email", "card", "key", "ipv6", "phone"]}, None),
    (
        "custom",
        {
            "detectors": {
                "order_ref": r"ORD-\d{6}",
                "tenant": r"tenant/(?P<value>\w+)",
                "caps": r"[A-Z]{4,}",
            },
            "pseudonymize": ["tenant"],
        },
        None,
    ),
    (
        "fields",
        {"fields": ["user_id", "customer", "message"], "allow_keys": ["session_id"]},
        {"user_id": ["userId", "user.id"], "customer": [], "message": ["msg"]},
    ),
    ("keys", {"keys": ["Tax-ID", "pin"], "allow_keys": ["password"], "disable": ["ipv4"]}, None),
    ("no_key_rule", {"disable": ["key", "card"]}, None),
    (
        "odd_names",
        {
            "keys": ["Straße", "x y", "pin:code", "K", "tok"],
            "allow_keys": ["api_key", "Ünïcode"],
            "fields": ["user_id", "Kunde"],
            "mode": "pseudonymize",
            "detectors": {"maybe": r"id=(?P<value>\d+)?x", "dots": r"\.\.\."},
        },
        {"user_id": ["uid", "user.id"], "Kunde": ["kunde.nr"]},
    ),
]
IDS = [config[0] for config in CONFIGS]


class Pair:
    """The two maskers built from one configuration."""

    def __init__(self, table: dict[str, Any], aliases: dict[str, list[str]] | None) -> None:
        self.py = Masker.from_config(table, KEY, field_aliases=aliases)
        self.rs = core.Masker(
            json.dumps(table), KEY, None if aliases is None else json.dumps(aliases)
        )

    def text(self, value: str) -> tuple[str, str]:
        return self.py.mask_text(value), self.rs.mask_text(value)

    def event(self, event: dict[str, Any]) -> tuple[str, str]:
        """Both masked events as JSON text with keys in their order (renames included)."""
        expected = self.py.mask_event(copy.deepcopy(event))
        got = json.loads(self.rs.mask_event(json.dumps(event)))
        return json.dumps(expected), json.dumps(got)

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        return Counter(self.py.counts), Counter(self.rs.counts)


@pytest.fixture(params=CONFIGS, ids=IDS)
def pair(request: pytest.FixtureRequest) -> Pair:
    _, table, aliases = request.param
    return Pair(table, aliases)


def assert_same_text(pair: Pair, values: list[str]) -> None:
    for value in values:
        expected, got = pair.text(value)
        assert expected == got, value
    assert pair.counts()[0] == pair.counts()[1]


def assert_same_events(pair: Pair, events: list[dict[str, Any]]) -> None:
    for event in events:
        expected, got = pair.event(event)
        assert expected == got, event
    assert pair.counts()[0] == pair.counts()[1]


def strings_of(path: Path) -> list[str]:
    """Every string constant in a Python file: the values tests/test_mask.py pins down."""
    tree = ast.parse(path.read_text())
    found = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    return sorted(set(found))


# Where the Python patterns backtrack or look around, each choice once: two %40 in one local
# part, a phone's last group with and without its ")", labels and top-level domains, IPv4 tails
# of IPv6, zones, scheme runs, token lengths at their limits, quotes and escapes of text pairs.
BOUNDARY_CASES = [
    "a%40b.com%40c.org",
    "x a%40b.com@c.org y",
    "+12345678901234(5)6",
    "+1234567890123(4)5",
    "+1 2 3 4 5 6 7 8 9 0 1 2 3 (4)5",
    "+1(2)3(4)5(6)7(8)9(0)1(2)3(4)5",
    "+12345678",
    "+1234567",
    "+1-(234)-567-8901",
    "1 4111 1111 1111 1111",
    "4111 1111 1111 1111 1",
    "12 4111-1111-1111-1111-111 9",
    "bob@a.b.c1",
    "bob@ex.com.x1",
    "bob@ex.co-",
    "a.b@c.d",
    "::1.2.3.4",
    "::ffff:1.2.3.4567",
    "1::2:3.4.5.6",
    "fe80::1%",
    "fe80::1%eth0%x",
    "::1:",
    "a::1",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8:9",
    "2001:db8::1x",
    "12345::1",
    "Basic dXNlcjpwYXNz==",
    "Basic dXNlcjpwYXNz=",
    "Basic YWJj=",
    "Bearer 1234567",
    "Bearer abcdefghijklmnopqrst",
    "BEARER abc1defg",
    "xBearer abcdefgh1",
    "sk-" + "a" * 20 + "-",
    "ghp_" + "a" * 30 + "_",
    "AIza" + "a" * 35,
    "AIza" + "a" * 36,
    "xoxb-" + "1" * 10,
    "123-45-6789-1",
    "123-45-6789-a",
    "1-415-555-2671",
    "1 (415) 555-2671",
    "(415)555-2671",
    "415-555-2671.5",
    "10.0.0.1.",
    "10.0.0.1.2",
    "0.0.0.0",
    'password="a\\"b" x',
    "token: 'abc",
    '\\"token\\": \\"x\\"',
    "api-key = [1,2",
    "pass=x&key=&sig=;",
    "?auth=1#",
    "Cookie: a=b\r\nX: y",
    "session_idx=1 session_=2 x_session_id: 3",
    "postgres://u:p@h:5/x@y",
    "s3://a:b@c d@e",
    "9ab://u:p@h",
    "x1://u:p@h",
    "-----BEGIN PRIVATE KEY BLOCK-----abc",
    "eyJabcdefgh.ij.",
    "eyJabcdefg.ij.k",
    "PWD=/home/ann OLDPWD=~/src/x-1.2 pwd=hunter2 PWD=~ PWD=/a b",
    '{"PWD": "/home/ann", "db_pwd": "/x", "PWD": "/srv/ü", "passwd": "/etc"}',
]

TEST_MASK_STRINGS = [
    *BOUNDARY_CASES,
    *strings_of(ROOT / "tests" / "test_mask.py"),
    f"token {JWT} sent",
    f"key:\n{PEM}\ndone",
    "key " + PEM[:80],
    orjson.dumps({"cert": PEM}).decode(),
    "1234 " * 2000,
]


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


# Python's masker stops where its recursion limit does, which depends on the stack it runs on
# (498 levels in a plain process, fewer under pytest); the core stops at 498. Deeper records
# are compared by outcome in test_deep_nesting_fails_closed_in_both.
SHALLOW = 400


def records_of(lines: list[bytes]) -> list[tuple[bytes, dict[str, Any]]]:
    """The lines that are JSON objects the pipeline accepts, with their records."""
    found = []
    for raw in lines:
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict) and depth(record) < SHALLOW:
            found.append((raw, record))
    return found


def events_of(lines: list[bytes]) -> list[dict[str, Any]]:
    """The canonical events the ingest pipeline builds from the lines that are JSON objects."""
    normalize = Normalizer()
    return [normalize(record) for _, record in records_of(lines)]


@pytest.fixture(scope="module")
def generated_lines(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """`logkit sample` output (with its planted secrets and malformed lines), via the CLI."""
    out = tmp_path_factory.mktemp("sample")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "logkit",
            "sample",
            "--lines",
            "6000",
            "--out",
            str(out),
            "--seed",
            "7",
            "--malformed",
            "0.02",
        ],
        check=True,
        cwd=ROOT,
    )
    return [line for path in sorted(out.iterdir()) for line in path.read_bytes().splitlines()]


# --- the cases of tests/test_mask.py ------------------------------------------------------------


EXTRA_EVENTS: list[dict[str, Any]] = [
    {
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span_id": "4111111111111111",
        "attrs": {},
    },
    {"trace_id": "4111-1111-1111-1111", "span_id": "078-05-1120", "attrs": None},
    {
        "user_id": "42",
        "message": "hi bob@example.com",
        "attrs": {"customer": 42, "account": {"id": 1}},
    },
    {
        "message": "x",
        "attrs": {"n": 4111111111111111, "m": 4111111111111112, "f": 4111111111111111.0},
    },
    {
        "message": "x",
        "attrs": {"cvv": 123, "pin_otp": 4.5, "token": None, "has_password": True, "big": 1e16},
    },
    {
        "message": "x",
        "attrs": {"bob@example.com": 1, "ann@example.com": 2, "[MASKED:email]": 3, "n": 4},
    },
    {
        "message": "x",
        "attrs": {
            "session": {"id": "abc", "user": {"b": 1.5e-5, "a": "\u0001é"}},
            "secrets": [1, 2],
        },
    },
    {"message": "x", "attrs": [{"customer": 7}, "10.0.0.1"]},
    {"message": "x", "attrs": 4111111111111111},
    {"message": "x", "attrs": {"PWD": "/home/ann", "OLDPWD": "x", "pwd": 5, "passwd": "/etc"}},
    {"message": "x", "attrs": "to bob@example.com"},
]


def test_every_string_of_the_mask_tests_masks_the_same(pair):
    assert_same_text(pair, TEST_MASK_STRINGS)


def test_the_mask_tests_as_events_mask_the_same(pair):
    events = [
        {
            "ts": 1795341662123000,
            "level": "INFO",
            "message": s,
            "attrs": {"m": s, s: 1, "n": [s, {"password": s}]},
        }
        for s in TEST_MASK_STRINGS
    ]
    events += EXTRA_EVENTS
    assert_same_events(pair, events)


def test_raw_json_lines_of_the_mask_tests_as_records(pair):
    for raw in LINES_TO_MASK + ORDINARY_LINES:
        record = orjson.loads(raw)
        expected = pair.py.mask_json_line(raw).decode().rstrip("\n")
        got = pair.rs.mask_record(json.dumps(record))
        assert json.loads(expected) == json.loads(got), raw
    assert pair.counts()[0] == pair.counts()[1]


@pytest.mark.parametrize("text", NOT_MASKED)
def test_the_not_masked_catalogue_stays_in_both(text):
    pair = Pair({}, None)
    assert (text, text) == pair.text(text)


def test_deep_nesting_fails_closed_in_both():
    """Python stops at its recursion limit, the core at the depth a plain Python process
    reaches: under pytest the stack is deeper, so only the outcome is compared here."""
    deep: Any = "bob@example.com"
    for _ in range(1000):
        deep = [deep]
    event = {"message": "x", "attrs": {"deep": deep, "ok": "fine"}}
    for masker in (Pair({}, None).py, None):
        if masker is None:
            rs = core.Masker("{}")
            event_json = '{"message": "x", "attrs": {"deep": ' + "[" * 1000 + '"bob@example.com"'
            event_json += "]" * 1000 + ', "ok": "fine"}}'
            masked = orjson.loads(rs.mask_event(event_json))
            counts = rs.counts
        else:
            masked = masker.mask_event(event)
            counts = masker.counts
        node = masked["attrs"]["deep"]
        while isinstance(node, list):
            node = node[0]
        assert ("[MASKED:error]", "fine", 1) == (node, masked["attrs"]["ok"], counts["error"])


# --- real and generated logs ---------------------------------------------------------------------


def test_sample_logs_mask_the_same(pair):
    lines = sample_log_lines()
    assert_same_text(pair, [line.decode("utf-8", "backslashreplace") for line in lines])
    assert_same_events(pair, events_of(lines))


def test_generated_logs_with_secrets_mask_the_same(pair, generated_lines):
    assert_same_events(pair, events_of(generated_lines))
    assert_same_text(
        pair, [line.decode("utf-8", "backslashreplace") for line in generated_lines[:1500]]
    )


def test_a_line_the_native_prefilter_skips_has_nothing_to_mask(pair, generated_lines):
    """needs_masking's promise, checked against the Python masker on real and generated lines."""
    lines = records_of(sample_log_lines() + generated_lines + LINES_TO_MASK + ORDINARY_LINES)
    skipped = 0
    normalize = Normalizer()
    for raw, record in lines:
        if pair.rs.needs_masking(raw):
            continue
        skipped += 1
        event = normalize(record)
        assert event == pair.py.mask_event(copy.deepcopy(event)), raw
    # Lines skipped as often as Python skips them, unless `message` is a field (every line has one).
    assert pair.rs.always or "message" in pair.py._fields or skipped > len(lines) // 2
    for raw in LINES_TO_MASK:
        assert pair.rs.needs_masking(raw) or not pair.py.needs_masking(raw), raw


def test_no_canary_survives_the_native_masker(generated_lines):
    """Every secret planted in sample_logs/ and in `logkit sample` output is gone after the core
    masks the lines as ingest does: lines inside a private key block whole, JSON records as
    events (through the normaliser), anything else as text."""
    from logkit.sample import CANARIES as GENERATED

    canaries = [c for c in (ROOT / "sample_logs" / "CANARIES.txt").read_text().splitlines() if c]
    canaries += [c for c in GENERATED if c]
    rs = core.Masker("{}")
    normalize = Normalizer()
    lines = sample_log_lines() + generated_lines
    inside_key, _ = core.key_block_lines(lines, 0)
    inside_key = set(inside_key)
    out = []
    for index, raw in enumerate(lines):
        if index in inside_key:
            out.append("[MASKED:private_key]")
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            record = None
        if isinstance(record, dict) and depth(record) < SHALLOW:
            out.append(rs.mask_event(json.dumps(normalize(record))))
        else:
            out.append(rs.mask_text(raw.decode("utf-8", "backslashreplace")))
    text = "\n".join(out)
    planted = [c for c in canaries if c.encode() in b"\n".join(lines)]
    assert len(planted) >= 20
    assert [] == [c for c in planted if c in text]


# --- generated text and records -----------------------------------------------------------------

PAIRS = {name: Pair(table, aliases) for name, table, aliases in CONFIGS}


def assigned(value: Any) -> Any:
    """`value` with characters unassigned in Python 3.11's Unicode 14 replaced by "?".

    The core's character classes come from a newer Unicode, where some of them are letters
    (U+31350 is a CJK ideograph since Unicode 15): a card right before one is part of a word
    there and not in Python 3.11. Which one is right is the newer database; the difference is
    only the version of it, so generated values keep to characters both agree on.
    """
    if isinstance(value, str):
        return "".join("?" if unicodedata.category(c) == "Cn" else c for c in value)
    if isinstance(value, list):
        return [assigned(v) for v in value]
    if isinstance(value, dict):
        return {assigned(k): assigned(v) for k, v in value.items()}
    return value


agreed_text = text.map(assigned)
agreed_records = records.map(assigned)
# MASK_DIFF_EXAMPLES=5000 for a longer hunt.
EXAMPLES = int(os.environ.get("MASK_DIFF_EXAMPLES", "300"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@SETTINGS
@given(st.sampled_from(IDS), agreed_text)
def test_generated_text_masks_the_same(name, value):
    pair = PAIRS[name]
    expected, got = pair.text(value)
    assert expected == got
    assert pair.counts()[0] == pair.counts()[1]


# Digits, separators and the letters detectors start with, packed densely: the boundaries of
# cards, phones, SSNs, addresses and text pairs, where lookarounds became explicit checks.
shapes = st.lists(
    st.one_of(
        st.text(alphabet="0123456789 -.:()+/@%_=\"'\\[]~#?&;\n\tabcdefxABCDEFKIS", max_size=40),
        st.sampled_from(
            [
                "4111",
                "1111",
                "415",
                "555",
                "2671",
                "::",
                "%40",
                "eyJ",
                "Bearer ",
                "Basic ",
                "AKIA",
                "sk-",
                "://",
            ]
        ),
        st.sampled_from(
            [
                "password",
                "token",
                "key",
                "[MASKED:email]",
                "email:0123456789ab",
                "ORD-123456",
                "\u00e9",
                "\u212a",
            ]
        ),
    ),
    max_size=12,
).map("".join)


@SETTINGS
@given(st.sampled_from(IDS), shapes)
def test_generated_shapes_mask_the_same(name, value):
    pair = PAIRS[name]
    expected, got = pair.text(value)
    assert expected == got
    assert pair.counts()[0] == pair.counts()[1]


@SETTINGS
@given(st.sampled_from(IDS), agreed_records, agreed_text)
def test_generated_events_mask_the_same(name, record, message):
    pair = PAIRS[name]
    expected, got = pair.event({"message": message, "user_id": message, "attrs": record})
    assert expected == got
    assert pair.counts()[0] == pair.counts()[1]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(IDS), records)
def test_a_generated_line_the_native_prefilter_skips_has_nothing_to_mask(name, record):
    pair = PAIRS[name]
    normalize = Normalizer()
    for raw in (
        orjson.dumps(record),
        json.dumps(record).encode(),
        json.dumps(record, ensure_ascii=False).encode(),
    ):
        if not pair.rs.needs_masking(raw):
            event = normalize(orjson.loads(raw))
            assert event == pair.py.mask_event(copy.deepcopy(event)), raw


KEY_BLOCK_PIECES = [
    b"x",
    b"-----BEGIN RSA PRIVATE KEY-----",
    b"MIIE" * 4000,
    b"-----END RSA PRIVATE KEY-----",
    b'{"a": 1}',
    b"\xef\xbb\xbf \t{",
    b"a -----END x -----BEGIN PRIVATE KEY-----",
    b"-----BEGIN PRIVATE KEY----- -----END PRIVATE KEY-----",
]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.text(max_size=200).map(assigned))
def test_any_bytes_and_text_are_taken_without_a_panic(raw, value):
    """Arbitrary bytes for the prefilter (not even UTF-8), any text for the masker."""
    for pair in PAIRS.values():
        pair.rs.needs_masking(raw)
        expected, got = pair.text(value)
        assert expected == got


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(KEY_BLOCK_PIECES), max_size=30),
    st.sampled_from([0, 1, 40_000, 65_536]),
)
def test_private_key_blocks_are_followed_the_same(lines, inside):
    from logkit.mask import key_block_after, key_block_lines

    masked, still = key_block_lines(lines, inside)
    native, native_still = core.key_block_lines(lines, inside)
    assert (sorted(masked), still) == (sorted(native), native_still)
    data = b"\n".join(lines) + b"\n"
    assert key_block_after(data, inside) == core.key_block_after(data, inside)
