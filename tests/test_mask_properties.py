"""Properties of masking that must hold for any input, checked with generated text and JSON.

The generators splice real-looking secrets, near misses (dates, versions, ids, lone separators)
and placeholders into random text, because the interesting failures are at the boundaries:
a detector that re-fires on its own output, or a prefilter that says "nothing here" too early.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logkit.mask import Masker

from .core_events import Normalizer

KEY = b"property-test-key-0000000000000"

PIECES = [
    # secrets
    "bob@example.com",
    "4111 1111 1111 1111",
    "4111111111111111",
    "5500-0000-0000-0004",
    "378282246310005",
    "123-45-6789",
    "+14155552671",
    "+44 20 7946 0958",
    "(415) 555-2671",
    "415-555-2671",
    "415.555.2671",
    "10.0.0.1",
    "192.168.1.254:8080",
    "::1",
    "fe80::1%eth0",
    "2001:db8::8a2e:370:7334",
    "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
    "Bearer abcdef123456",
    "Basic dXNlcjpwYXNz",
    "AKIAIOSFODNN7EXAMPLE",
    "DE89370400440532013000",
    "GB29 NWBK 6016 1331 9268 19",
    "iban",
    "sk-proj-abcdefghijklmnopqrstuvwx",
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "xoxb-123456789012-abcdef",
    "postgres://u:p@db/x",
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----",
    "?token=abc&page=2",
    "&sig=x",
    # names and separators that build text pairs
    "password",
    "api_key",
    "X-Api-Key",
    "Set-Cookie",
    "session",
    "token",
    "tokens",
    "key",
    "=",
    ":",
    ": ",
    '"',
    "'",
    "\\",
    '\\"',
    "{",
    "}",
    "[",
    "]",
    ",",
    " ",
    "-",
    ".",
    "/",
    "@",
    "+",
    "(",
    "\n",
    "\t",
    # near misses
    "2026-11-22T10:01:02.123Z",
    "10:01:02",
    "12.5ms",
    "1.2.3",
    "v1.2.3.4",
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "123e4567-e89b-12d3-a456-426614174000",
    "1732270862123456789",
    "4111111111111112",
    "std::vector",
    "celery@worker-1",
    "0",
    "7",
    "42",
    "255",
    # earlier output
    "[MASKED:email]",
    "[MASKED:key]",
    "email:0123456789ab",
    "key:abcdefabcdef",
]

# Characters the detectors and the prefilter care about, to build near misses piece by piece.
TELLING = "0123456789 -.:@+()=\"'\\abcdefkpsxyzmowrdABEGIJKNSTZ_/?&;%[]{}\n\t"
text = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=3), st.text(alphabet=TELLING, max_size=20)),
    max_size=10,
).map("".join)
keys = st.one_of(
    st.sampled_from(["password", "api_key", "X-Api-Key", "token", "user", "tokens", "n"]),
    # names the normaliser turns into canonical columns
    st.sampled_from(["message", "msg", "level", "user_id", "trace_id", "path", "url", "host"]),
    text,
)
leaves = st.one_of(
    text,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([4111111111111111, 4111111111111112, 1732270862123456789]),
    st.floats(allow_nan=False, allow_infinity=False),
)
json_values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=12,
)
records = st.dictionaries(keys, json_values, max_size=6)

maskers = st.sampled_from(
    [
        Masker(),
        Masker(mode="pseudonymize", key=KEY),
        Masker(pseudonymize=["email", "card", "key"], key=KEY),
    ]
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(maskers, text)
def test_masking_text_twice_changes_nothing(masker, value):
    """Placeholders and pseudonyms are never detected again."""
    once = masker.mask_text(value)
    assert once == masker.mask_text(once)


@SETTINGS
@given(maskers, records)
def test_masking_an_event_twice_changes_nothing(masker, record):
    """The same for whole events: keys, values, nesting and renamed keys."""
    once = masker.mask_event({"message": "x", "attrs": record})
    assert once == masker.mask_event(copy.deepcopy(once))


@SETTINGS
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", max_size=200))
def test_lowercase_words_are_never_touched(value):
    """Text with nothing any detector looks for comes out as it went in, and counts nothing."""
    masker = Masker()
    assert (value, 0) == (masker.mask_text(value), masker.counts.total())


def encodings(record: dict[str, Any]) -> list[bytes]:
    """The same record as different loggers write it: compact, spaced, with \\u escapes."""
    return [
        orjson.dumps(record),
        json.dumps(record, ensure_ascii=False).encode(),
        json.dumps(record).encode(),
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_a_line_the_prefilter_skips_has_nothing_to_mask(record):
    """needs_masking(raw) == False promises that mask_event would leave the event unchanged."""
    masker = Masker()
    for raw in encodings(record):
        if not masker.needs_masking(raw):
            parsed = orjson.loads(raw)
            event = {"attrs": parsed}
            assert {"attrs": parsed} == masker.mask_event(copy.deepcopy(event)), raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_a_skipped_line_has_nothing_to_mask_after_normalising(record):
    """The same promise for the event the ingest pipeline really builds from the line."""
    masker = Masker()
    normalize = Normalizer()
    for raw in encodings(record):
        if not masker.needs_masking(raw):
            event = normalize(orjson.loads(raw))
            assert event == masker.mask_event(copy.deepcopy(event)), raw
