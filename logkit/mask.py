"""Masking: secrets and personal data out of every event before it is stored.

The masker is native: `logkit._core.Masker` (the Rust crate's src/mask/), which ingest, `logkit
mask`, `logkit user` and this module's `Masker` all use. What stays in Python is what is not per
line: reading the ``[mask]`` table of logkit.toml (`Masker.from_config`, its errors in
logkit/errors.py), and the `Masker` interface for Python values. The rules, as they are:

Two kinds of rule, both applied to every event:

* **Key rules.** A value whose key is sensitive is masked whole, whatever it is: a string, a
  number, a whole dict or list (`None` and booleans are kept: they carry no secret). A key is
  sensitive when its *normalised name* (lowercased, with ``-``, ``_`` and ``.`` removed, so
  ``X-Api-Key``, ``API.KEY`` and ``api_key`` are all ``apikey``) **ends with** one of
  `SENSITIVE_KEYS`, so ``db_password``, ``x-auth-token`` and ``aws_secret_access_key`` are
  covered without listing them. ``input_tokens`` is not: it ends in ``tokens``. The same rule
  runs over text, for ``password=hunter2``, ``"api_key": "..."``, ``Authorization: Bearer ...``
  and ``?token=abc`` inside messages and raw lines (a bare value ends at a space, unless it is
  a card, an IBAN or a phone number printed in groups, masked whole); in ``name=value`` form
  after ``?`` or ``&`` the generic names in `PARAM_NAMES` (``key``, ``sig``, ...) count too.
  Values masked because of their key are counted as detector ``key``.
  ``session_id`` is masked: a live session id is a bearer credential, like the cookie it came
  from. Where it is only a correlation id, ``allow_keys = ["session_id"]`` keeps it.
* **Value detectors**, over every string (message, attrs at any depth, dict keys too, stack
  traces, URLs): see `BUILTIN_DETECTORS`. Each was written to leave alone what logs are made
  of: trace/span ids, UUIDs, hex digests, timestamps, durations, versions, ports, status codes,
  file paths and line numbers. Choices worth knowing:

  - ``card``: 13-19 digits in one run or grouped as cards are printed (4-4-4-4 with single
    spaces or dashes, Amex 4-6-5), a Luhn check, and a first digit 2-6 (the major networks:
    Mastercard 2/5, Amex/JCB/Diners 3, Visa 4, Discover/UnionPay 6). The first-digit rule is
    what keeps epoch timestamps in ms/µs/ns (``1732270862123456789`` starts with 1 until 2033)
    from being masked one time in ten. A card must stand alone: digits glued to letters (a hex
    id) are not a card. A JSON integer in ``attrs`` that passes is a card too.
  - ``ipv4``: four dotted numbers 0-255 without leading zeros. ``1.2.3.4`` is therefore an
    address even when it was meant as a version; ``v1.2.3.4``, ``1.2.3.4.5`` and
    ``1.2.3.256`` are not.
  - ``ipv6``: a candidate with ``::`` or eight groups, then checked as an IPv6 address; a zone
    (``fe80::1%eth0``) goes with it. Clock times (``10:01:02``) and MAC addresses are not
    addresses.
  - ``phone``: ``+`` and 8-15 digits (E.164, spaces/dots/dashes/brackets allowed), or the US
    forms ``(415) 555-2671``, ``415-555-2671``, ``415.555.2671``. A bare run of digits is never
    a phone: it is far more often an id or an epoch time.
  - ``auth``: the credential after ``Bearer`` (8+ characters with a digit, or 20+) or ``Basic``
    (valid base64 of ``user:pass``), so "Basic auth failed" is left as it is.
  - ``api_key``: ``sk-`` (incl. ``sk-proj-``, ``sk-ant-``), Stripe ``sk_live_``/``rk_test_``,
    GitHub ``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_``/``github_pat_``, GitLab ``glpat-``,
    Slack ``xox[abprs]-``, Google ``AIza``, ``ya29.`` and ``GOCSPX-``, and the prefixes of the
    AI and SaaS services a platform calls (README, Masking); ``aws_key``: ``AKIA``/``ASIA``
    access key ids.
  - ``iban``: a country's code, check digits and its exact length (in one run or in groups of
    four), passing the mod 97 check; uppercase, standing alone.

* **Placeholders and pseudonyms.** A masked value becomes ``[MASKED:<detector>]``. In
  pseudonym mode (globally, or for the detectors listed in ``pseudonymize``) it becomes
  ``<detector>:<12 hex>``, the start of HMAC-SHA-256 over the value with the store's key, so
  the same value gets the same pseudonym in every run and file and can still be counted and
  joined on. The HMAC covers the value only (emails lowercased, digits only for cards, phones
  and SSNs, IBANs without spaces), not the prefix, so one address gets one pseudonym whichever
  rule found it.
  ``fields`` are pseudonymised whole (``user_id:3fa1c2d4e5b6``); `Masker.pseudonym` computes the
  same thing for ``logkit user RAW_ID``.

Properties the tests pin down:

* **Fail closed.** A value that cannot be walked (nested deeper than 498 levels) is replaced
  whole by ``[MASKED:error]`` and counted as ``error``; it is never stored as it came.
* **Idempotent.** Placeholders and pseudonyms are recognised and left alone, so masking masked
  output changes nothing and counts nothing. A string is masked until nothing changes, because
  masking one thing can give its neighbour the boundary it lacked.
* **Skipping is safe.** `Masker.needs_masking` answers False only for raw lines where
  `mask_event` would change nothing (checked with generated lines, through the real
  normaliser too).

Where the time goes: `needs_masking` runs on every line, a prefilter over the raw bytes
(src/mask/prefilter.rs: literal searches and a few small automata) that answers False for most
lines; a string that passes meets cheap gates before the combined detector regex, validation
(Luhn, IPv6, base64) runs on candidates only, and clean values that repeat are remembered. Trace
and span ids of an id shape (hex of 8 to 64 digits, decimal ones included; a UUID; a W3C
traceparent) are not scanned: an all-digit span id would pass for a card one time in twenty. So
a card number written as one run of digits in those two columns stays (it has an id's shape);
any other value there, a card in groups or an SSN, is scanned like every string.

Other choices: dict keys are scanned like values (an address used as a key is masked; keys
that collide after masking become ``k``, ``k~2``...); integers in ``attrs`` are checked as
cards, numeric canonical columns (``ts``, token counts) never are; ``Bearer``/``Basic`` are
matched as HTTP writes them (capitalised or upper case), a lowercase ``authorization: bearer
x`` is caught by the key rule instead.

Beyond one value at a time: a private key printed as text over several lines is followed from
line to line (`key_block_lines`, below), and ingest masks the names of the files it reads with
`mask_text` (logkit/ingest/run.py).

Custom detectors (``[mask.detectors]``) are regexes in the syntax of Rust's ``regex`` crate
(Python's without lookarounds and backreferences), which runs in linear time, so no pattern can
hang an ingest: the whole match is masked, or only the group named ``value`` when the pattern
has one. They run after the built-in ones, on the text between placeholders. Because a regex
written for decoded strings cannot be checked safely against raw JSON bytes (escapes, anchors),
configuring one makes `needs_masking` answer True for every line: correct, but slower. So does
``fields`` unless the caller passes the field's aliases.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TypeGuard

import orjson

from . import _core
from .errors import MaskConfigError, MaskKeyMissing

__all__ = [
    "BUILTIN_DETECTORS",
    "KEY_BLOCK_BYTES",
    "KEY_LINE",
    "KEY_MARK",
    "PARAM_NAMES",
    "SENSITIVE_KEYS",
    "MaskKeyMissing",
    "Masker",
    "key_block_after",
    "key_block_lines",
    "normalise_key",
]

#: Normalised key names whose values are masked; a key matches when its normalised name ends
#: with one of these.
SENSITIVE_KEYS: frozenset[str] = frozenset(_core.SENSITIVE_KEYS)
#: Names too generic to be sensitive as keys, but credentials as query or form parameters
#: (``?key=...``, ``&sig=...``); matched only right after ``?``, ``&``, ``;`` or at the start.
PARAM_NAMES: tuple[str, ...] = tuple(_core.PARAM_NAMES)
#: Built-in detector names, in priority order (earlier wins where two start at the same place).
BUILTIN_DETECTORS: tuple[str, ...] = tuple(_core.BUILTIN_DETECTORS)

# A private key printed as text (not inside a JSON string) arrives one line at a time: the
# private_key detector masks its BEGIN line, but each base64 line after it is a line of its own
# that no detector can tell from any other base64. So lines are followed in order: from a line
# that opens a key block and does not close it, every line up to and including the one with
# ``-----END`` is masked whole, as `KEY_LINE`. A block ends early at a line that starts a JSON
# object (the key was cut short and the application went on logging), or KEY_BLOCK_BYTES after
# its BEGIN line. The state (bytes since the BEGIN line, 0 outside a block) carries from one
# block of lines to the next: ingest passes it with each block, and finds it again before a
# checkpoint by looking back KEY_BLOCK_BYTES (see logkit/ingest/run.py).

#: What a line inside a private key block becomes.
KEY_LINE: str = _core.KEY_LINE
#: In every BEGIN line: a block of lines without it opens no key (one bytes.find).
KEY_MARK: bytes = _core.KEY_MARK
#: How far from its BEGIN line a key block may reach (no PEM key is this long).
KEY_BLOCK_BYTES: int = _core.KEY_BLOCK_BYTES

_CONFIG_KEYS = (
    "enabled",
    "mode",
    "keys",
    "allow_keys",
    "disable",
    "detectors",
    "pseudonymize",
    "fields",
)
_SURROGATES = re.compile("([\ud800-\udfff]+)")
# Python values nested deeper than this are cut before they are handed over as JSON; the
# native masker masks anything below 498 levels as [MASKED:error] anyway.
_HANDED_DEPTH = 600
_DEEP_RECURSION_LIMIT = 4000


def normalise_key(name: str) -> str:
    """The form key rules compare: lowercased, without ``-``, ``_`` and ``.``.

    >>> normalise_key("X-Api-Key")
    'xapikey'
    """
    return name.lower().replace("-", "").replace("_", "").replace(".", "")


def key_block_lines(lines: list[bytes], inside: int = 0) -> tuple[set[int], int]:
    """The indexes of the `lines` (in order, without newlines) inside a private key block, and
    the state after the last: 0, or the bytes of the open block so far, from its BEGIN line on.
    `inside` is the state before the first line."""
    masked, still = _core.key_block_lines(lines, inside)
    return set(masked), still


def key_block_after(data: bytes, inside: int = 0) -> int:
    """The state `key_block_lines` leaves after `data` (whole lines)."""
    return _core.key_block_after(data, inside)


class Masker:
    """Masks events, text and raw JSON lines; counts what it masked in `counts`.

    Build it with `Masker.from_config` from the ``[mask]`` table of logkit.toml, or directly::

        masker = Masker(mode="pseudonymize", fields=["user_id"], key=b"...")
        masker.mask_event(event)      # in place, returns the event
        masker.counts                 # Counter({'email': 3, 'key': 1, 'user_id': 40})

    `field_aliases` maps a field in ``fields`` to the record keys it may come from (the
    normaliser's aliases); with it, `needs_masking` can still skip lines without the field.
    The work is done by `native` (a `logkit._core.Masker`), which the ingest core takes as is.
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        mode: str = "placeholder",
        keys: Iterable[str] = (),
        allow_keys: Iterable[str] = (),
        disable: Iterable[str] = (),
        detectors: Mapping[str, str | re.Pattern[str]] | None = None,
        pseudonymize: Iterable[str] = (),
        fields: Iterable[str] = (),
        key: bytes | None = None,
        field_aliases: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        table: dict[str, object] = {"enabled": bool(enabled)}
        if enabled:
            table.update(
                mode=mode,
                keys=list(keys),
                allow_keys=list(allow_keys),
                disable=list(disable),
                pseudonymize=list(pseudonymize),
                fields=list(fields),
                detectors={
                    name: pattern.pattern if isinstance(pattern, re.Pattern) else pattern
                    for name, pattern in (detectors or {}).items()
                },
            )
        aliases = None
        if field_aliases is not None:
            aliases = {name: list(names) for name, names in field_aliases.items()}
        try:
            self.native = _core.Masker(
                json.dumps(table, default=_not_json), key or None,
                None if aliases is None else json.dumps(aliases),
            )  # fmt: skip
        except ValueError as exc:
            if str(exc) == MaskKeyMissing.MESSAGE:
                raise MaskKeyMissing() from None
            raise MaskConfigError(str(exc)) from None
        self.enabled = bool(enabled)
        self._counts: Counter[str] = Counter()

    @classmethod
    def from_config(
        cls,
        table: Mapping[str, object],
        key: bytes | None,
        *,
        field_aliases: Mapping[str, Iterable[str]] | None = None,
    ) -> Masker:
        """A Masker from the ``[mask]`` table of logkit.toml; `MaskConfigError` (a ValueError
        too) on anything invalid, `MaskKeyMissing` when pseudonyms are asked for without a key.

        Keys: ``enabled`` (bool), ``mode`` ("placeholder" | "pseudonymize"), ``keys`` (extra
        sensitive key names), ``allow_keys`` (keys never masked by name), ``disable`` (built-in
        detectors to switch off), ``detectors`` (name = regex), ``pseudonymize`` (detectors that
        use pseudonyms in placeholder mode), ``fields`` (fields pseudonymised whole).
        """
        for name in table:
            if name not in _CONFIG_KEYS:
                raise MaskConfigError(
                    f"[mask] unknown setting {name!r}; known settings: {', '.join(_CONFIG_KEYS)}"
                )
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise MaskConfigError(f"[mask] enabled must be true or false, not {enabled!r}")
        detectors = table.get("detectors", {})
        if not isinstance(detectors, Mapping) or not all(
            isinstance(v, str) for v in detectors.values()
        ):
            raise MaskConfigError('[mask] detectors must be a table of name = "regex"')
        if not enabled:
            # A switched-off masker needs no key and validates nothing more.
            return cls(enabled=False)
        lists: dict[str, list[str]] = {}
        for name in ("keys", "allow_keys", "disable", "pseudonymize", "fields"):
            value = table.get(name, [])
            if not _is_strings(value):
                raise MaskConfigError(f"[mask] {name} must be a list of strings")
            lists[name] = value
        mode = table.get("mode", "placeholder")
        if not isinstance(mode, str):
            # The core's words for a mode it does not know.
            raise MaskConfigError(
                f"[mask] mode must be 'placeholder' or 'pseudonymize', not {mode!r}"
            )
        return cls(
            mode=mode,
            keys=lists["keys"],
            allow_keys=lists["allow_keys"],
            disable=lists["disable"],
            detectors=detectors,
            pseudonymize=lists["pseudonymize"],
            fields=lists["fields"],
            key=key,
            field_aliases=field_aliases,
        )

    @property
    def counts(self) -> Counter[str]:
        """Values masked per detector (and per field of ``fields``) since the last clear()."""
        native = self.native.counts
        if native:
            self._counts.update(native)
            self.native.clear_counts()
        return self._counts

    @property
    def always(self) -> bool:
        """Whether every line is masked: `needs_masking` cannot rule a line out."""
        return self.native.always

    @property
    def masks_key_blocks(self) -> bool:
        """Whether private keys printed over several lines are masked (`key_block_lines`):
        unless masking or the ``private_key`` detector is switched off."""
        return self.native.masks_key_blocks

    def needs_masking(self, raw: bytes) -> bool:
        """False only if nothing in this raw JSON line can be masked; cheap enough for every line.

        Conservative for the event the normaliser makes from the line, as long as the
        normaliser only moves, renames, cuts and changes the case of values.
        """
        return self.native.needs_masking(raw)

    def mask_event(self, event: dict[str, object]) -> dict[str, object]:
        """Mask a canonical event in place and return it.

        String columns get the value detectors (or are pseudonymised whole if listed in
        ``fields``); ``attrs`` gets key rules and value detectors at every depth, dict keys
        included. A dict key that a detector changes is renamed; if two keys collide after
        masking, the later ones get ``~2``, ``~3``... so no value is lost.
        """
        if not self.enabled or self.native.mask_event_dict(event):
            return event
        # What JSON does not hold (a date, a str subclass, ints as keys...): through JSON text.
        text, exact = _to_json(event)
        masked = self.native.mask_event(text)
        # Only strings and attrs are ever masked, and columns never renamed: setting those keeps
        # the caller's dict (as promised) and its numbers as they were (orjson wrote inf as null).
        for name, value in (json.loads(masked) if exact else orjson.loads(masked)).items():
            if name == "attrs" or type(event[name]) is str:
                event[name] = value
        return event

    def mask_text(self, text: str) -> str:
        """Mask free text: value detectors plus sensitive ``name=value`` / ``"name": value``.

        For raw lines that are not (or not valid) JSON, such as rejected or truncated lines.
        """
        try:
            return self.native.mask_text(text)
        except UnicodeEncodeError:
            # Lone surrogates (a file name that is not UTF-8) are no text the core takes: the
            # pieces between them are masked, each surrogate is a boundary.
            pieces = _SURROGATES.split(text)
            return "".join(
                piece if index % 2 else self.native.mask_text(piece)
                for index, piece in enumerate(pieces)
            )

    def mask_json_line(self, line: bytes) -> bytes:
        """Mask one NDJSON line for ``logkit mask``; always returns one line ending in ``\\n``.

        A JSON object or array is masked by key and value rules and written back compact (one
        with nothing to mask, as the prefilter tells, as it came); any other line is masked as
        text.
        """
        body = line.rstrip(b"\r\n")
        return self.mask_ndjson(body)[0] if body else b"\n"

    def mask_ndjson(self, data: bytes, in_key: int | None = None) -> tuple[bytes, int]:
        """Complete lines masked as `mask_json_line` masks each, in one call on every core,
        and the private key block state after them: lines inside a key block are `KEY_LINE`.
        `in_key` is the state before `data` (None: key blocks are not followed)."""
        return self.native.mask_ndjson(data, None if not self.masks_key_blocks else in_key)

    def pseudonym(self, field_or_detector: str, value: str) -> str:
        """The pseudonym stored for `value` under this field or detector, e.g. for a lookup.

        >>> Masker(key=b"k").pseudonym("user_id", "42")  # doctest: +SKIP
        'user_id:0a7fb1d6b2c4'
        """
        try:
            return self.native.pseudonym(field_or_detector, value)
        except ValueError:
            raise MaskKeyMissing() from None


def _is_strings(value: object) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _not_json(value: object) -> dict[str, str]:
    # A TOML date or time where a string belongs: handed over as something that is not one,
    # so the native masker refuses it with the setting's name.
    return {"not a string": repr(value)}


def _to_json(event: dict[str, object]) -> tuple[str, bool]:
    """The event as JSON for the native masker, and whether it needed the exact writer (ints
    beyond 64 bits, which orjson neither writes nor reads back)."""
    try:
        return orjson.dumps(event).decode(), False
    except (TypeError, orjson.JSONEncodeError):
        pass
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _DEEP_RECURSION_LIMIT))
    try:
        return json.dumps(_cut_deep(event, 0), ensure_ascii=False, default=str), True
    finally:
        sys.setrecursionlimit(limit)


def _cut_deep(value: object, depth: int) -> object:
    """`value` with what lies deeper than the native masker walks replaced by a stand-in: it
    masks the container holding it as [MASKED:error] either way, and a Python value nested
    thousands deep cannot be written as JSON."""
    if depth > _HANDED_DEPTH:
        return "[MASKED:error]"
    if isinstance(value, dict):
        return {k: _cut_deep(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_cut_deep(v, depth + 1) for v in value]
    return value
