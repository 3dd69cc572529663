"""Masking: secrets and personal data out of every event before it is stored.

Two kinds of rule, both applied to every event:

* **Key rules.** A value whose key is sensitive is masked whole, whatever it is: a string, a
  number, a whole dict or list (`None` and booleans are kept: they carry no secret). A key is
  sensitive when its *normalised name* (lowercased, with ``-``, ``_`` and ``.`` removed, so
  ``X-Api-Key``, ``API.KEY`` and ``api_key`` are all ``apikey``) **ends with** one of
  `SENSITIVE_KEYS`, so ``db_password``, ``x-auth-token`` and ``aws_secret_access_key`` are
  covered without listing them. ``input_tokens`` is not: it ends in ``tokens``. The same rule
  runs over text, for ``password=hunter2``, ``"api_key": "..."``, ``Authorization: Bearer ...``
  and ``?token=abc`` inside messages and raw lines; in ``name=value`` form after ``?`` or ``&``
  the generic names in `PARAM_NAMES` (``key``, ``sig``, ...) count too. Values masked because of
  their key are counted as detector ``key``.
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
  - ``ipv6``: a candidate with ``::`` or eight groups, then checked by `ipaddress`; a zone
    (``fe80::1%eth0``) goes with it. Clock times (``10:01:02``) and MAC addresses are not
    addresses.
  - ``phone``: ``+`` and 8-15 digits (E.164, spaces/dots/dashes/brackets allowed), or the US
    forms ``(415) 555-2671``, ``415-555-2671``, ``415.555.2671``. A bare run of digits is never
    a phone: it is far more often an id or an epoch time.
  - ``auth``: the credential after ``Bearer`` (8+ characters with a digit, or 20+) or ``Basic``
    (valid base64 of ``user:pass``), so "Basic auth failed" is left as it is.
  - ``api_key``: ``sk-`` (incl. ``sk-proj-``, ``sk-ant-``), Stripe ``sk_live_``/``rk_test_``,
    GitHub ``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_``/``github_pat_``, GitLab ``glpat-``,
    Slack ``xox[abprs]-``, Google ``AIza``; ``aws_key``: ``AKIA``/``ASIA`` access key ids.

* **Placeholders and pseudonyms.** A masked value becomes ``[MASKED:<detector>]``. In
  pseudonym mode (globally, or for the detectors listed in ``pseudonymize``) it becomes
  ``<detector>:<12 hex>``, the start of HMAC-SHA-256 over the value with the store's key, so
  the same value gets the same pseudonym in every run and file and can still be counted and
  joined on. The HMAC covers the value only (emails lowercased, digits only for cards, phones
  and SSNs), not the prefix, so one address gets one pseudonym whichever rule found it.
  ``fields`` are pseudonymised whole (``user_id:3fa1c2d4e5b6``); `Masker.pseudonym` computes the
  same thing for ``logkit user RAW_ID``. A number is pseudonymised as ``str()`` prints it, a
  dict or list as its compact JSON with keys sorted (ints with all their digits).

Properties the tests pin down:

* **Fail closed.** If a detector raises on a value (a custom pattern, a RecursionError on deep
  nesting), the value is replaced whole by ``[MASKED:error]`` and counted as ``error``; it is
  never stored as it came. A dict key that fails becomes ``[MASKED:error]`` too.
* **Idempotent.** Placeholders and pseudonyms are recognised and left alone, so masking masked
  output changes nothing and counts nothing. A string is masked until nothing changes, because
  masking one thing can give its neighbour the boundary it lacked.
* **Skipping is safe.** `Masker.needs_masking` answers False only for raw lines where
  `mask_event` would change nothing (checked with generated lines, through the real
  normaliser too).

Where the time goes. `needs_masking` runs on every line, so it is built from what CPython does
fastest (see the comment above `_RARE`); most lines are answered by two translations, a find
and five regexes that each start with a literal. Inside `mask_event` a string first meets
cheap *gates* (necessary conditions only) and only strings that pass them are scanned by the
combined detector regex; validation (Luhn, `ipaddress`, base64) runs on candidates only, and
clean values that repeat (service, logger, host) are remembered. Trace and span ids of an id
shape (hex of 8 to 64 digits, decimal ones included; a UUID; a W3C traceparent) are not scanned:
an all-digit span id would pass for a card one time in twenty. So a card number written as one
run of digits in those two columns stays (it has an id's shape); any other value there, a card
in groups or an SSN, is scanned like every string.

Other choices: dict keys are scanned like values (an address used as a key is masked; keys
that collide after masking become ``k``, ``k~2``...); integers in ``attrs`` are checked as
cards, numeric canonical columns (``ts``, token counts) never are; ``Bearer``/``Basic`` are
matched as HTTP writes them (capitalised or upper case), a lowercase ``authorization: bearer
x`` is caught by the key rule instead.

Beyond one value at a time: a private key printed as text over several lines is followed from
line to line (`key_block_lines`, below), and ingest masks the names of the files it reads with
`mask_text` (logkit/ingest.py).

Custom detectors (``[mask.detectors]``) are plain regexes: the whole match is masked, or only the
group named ``value`` when the pattern has one. They run after the built-in ones, on the text
between placeholders. Because a regex written for decoded strings cannot be checked safely
against raw JSON bytes (escapes, anchors), configuring one makes `needs_masking` answer True for
every line: correct, but slower. So does ``fields`` unless the caller passes the field's aliases.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from .errors import LogkitError

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


class MaskKeyMissing(LogkitError):
    """Pseudonyms were asked for but no key was given."""

    def __init__(self) -> None:
        super().__init__(
            "pseudonym mode needs a key: set $LOGKIT_MASK_KEY or create one with 'logkit keygen'"
        )


#: Normalised key names whose values are masked; a key matches when its normalised name ends
#: with one of these.
SENSITIVE_KEYS: frozenset[str] = frozenset(
    {
        "password", "passwords", "passwd", "pwd", "passphrase", "passwordhash",
        "secret", "secrets", "secretkey", "secretaccesskey",
        "token", "apikey", "apikeys", "privatekey", "credential", "credentials", "signature",
        "jwt", "otp",
        "authorization", "cookie", "cookies", "session", "sessionid", "sessid",
        "creditcard", "cardnumber", "ccnumber", "cvv", "cvc", "ssn",
    }
)  # fmt: skip

#: Names too generic to be sensitive as keys, but credentials as query or form parameters
#: (``?key=...``, ``&sig=...``); matched only right after ``?``, ``&``, ``;`` or at the start.
PARAM_NAMES: tuple[str, ...] = ("key", "sig", "auth", "pass")

#: Built-in detector names, in priority order (earlier wins where two start at the same place).
BUILTIN_DETECTORS: tuple[str, ...] = (
    "key",
    "private_key",
    "url_creds",
    "jwt",
    "auth",
    "aws_key",
    "api_key",
    "email",
    "ssn",
    "phone",
    "ipv4",
    "card",
    "ipv6",
)

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
_MODES = ("placeholder", "pseudonymize")
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_ERROR = "error"
_HEX_CHARS = 12
_CACHE_LIMIT = 65_536
_SHORTEST_MATCH = 3  # "::1"; nothing shorter can be masked by a built-in detector
_MAX_ROUNDS = 8  # see _mask_str; two are enough for anything seen so far

_SEP = "[-_.]*"  # what normalisation removes, allowed anywhere inside a key in text
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
_COOKIE_WORDS = ("cookie", "cookies")
# PWD, OLDPWD: in an environment dump these are working directories, not passwords. A value
# under such a name that is an absolute path (of plain path characters) is left as it is; any
# other value, and every value under password/passwd, is still masked.
_DIR_WORDS = ("pwd",)
_PATH_VALUE = re.compile(r"~?(?:/[\w.@+~-]*)+")
_JSON_LITERALS = ("null", "true", "false")


def normalise_key(name: str) -> str:
    """The form key rules compare: lowercased, without ``-``, ``_`` and ``.``.

    >>> normalise_key("X-Api-Key")
    'xapikey'
    """
    return name.lower().replace("-", "").replace("_", "").replace(".", "")


def _luhn(digits: str) -> bool:
    total = 0
    double = False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if double:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        double = not double
    return total % 10 == 0


def _card_layout(groups: list[int]) -> bool:
    """Group lengths as cards are written: one run, 4-4-4-4 (the last group 1-4 digits, a fifth
    of 1-3 for 19 digits), or Amex/Diners 4-6-5 and 4-6-4."""
    if len(groups) == 1:
        return True
    if groups in ([4, 6, 5], [4, 6, 4]):
        return True
    if len(groups) == 5:
        return groups[:4] == [4, 4, 4, 4] and groups[4] <= 3
    return len(groups) == 4 and groups[:3] == [4, 4, 4] and groups[3] <= 4


def _is_card_number(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and _luhn(digits)


def _trie(words: Iterable[str], sep: str = _SEP) -> str:
    """One regex for a set of words, `sep` allowed between any two letters.

    A trie rather than an alternation of words, so the regex engine tests one letter per
    position instead of every word.
    """
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def branches(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + tail(child) for ch, child in sorted(node.items()) if ch]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    def tail(child: dict[str, Any]) -> str:
        if not any(child):
            return ""
        rest = sep + branches(child)
        return f"(?:{rest})?" if "" in child else rest

    return branches(root)


# --- the detectors -----------------------------------------------------------------------------
#
# Each built-in detector is one named group of the combined regex; group names inside a
# detector start with its name. Boundaries are explicit lookarounds (re.ASCII everywhere):
# a detector never starts or ends in the middle of a word or number.

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_AUTH_SCHEMES = r"(?i:bearer|basic|token|digest|negotiate|ntlm|bot|apikey|aws4-hmac-sha256)"

_PATTERNS: dict[str, str] = {
    "private_key": r"""
        -----BEGIN[A-Z0-9 ]*PRIVATE\ KEY(?:\ BLOCK)?-----
        (?s:.*?-----END[A-Z0-9 ]*PRIVATE\ KEY(?:\ BLOCK)?-----|.*)   # truncated: to the end
    """,
    "url_creds": r"""
        (?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://
        (?P<url_creds_v>[^\s/?#@:"'<>\[\]]*:[^\s/?#"'<>]*)@
    """,
    "jwt": r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
    "auth": r"""
        (?<![A-Za-z0-9_-])(?P<auth_scheme>Bearer|BEARER|Basic|BASIC)\ +
        (?P<auth_v>[A-Za-z0-9._~+/-]+=*)
    """,
    "aws_key": r"(?<![A-Za-z0-9])A[KS]IA[A-Z0-9]{16}(?![A-Za-z0-9])",
    "api_key": r"""
        (?<![A-Za-z0-9_-])
        (?:sk-[A-Za-z0-9_-]{20,}
          |gh[pousr]_[A-Za-z0-9]{30,}
          |github_pat_[A-Za-z0-9_]{30,}
          |xox[abprs]-[A-Za-z0-9-]{10,}
          |AIza[0-9A-Za-z_-]{35}
          |glpat-[A-Za-z0-9_-]{20,}
          |[sr]k_(?:live|test)_[A-Za-z0-9]{16,})
        (?![A-Za-z0-9_-])
    """,
    "email": r"""
        (?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+(?:@|%40)(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}
        (?![A-Za-z0-9-])
    """,
    "ssn": r"""
        (?<![A-Za-z0-9_.-])(?!000|666|9)[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}
        (?![A-Za-z0-9_]|-[0-9])
    """,
    "phone": r"""
        (?<![A-Za-z0-9_+])\+[1-9](?:[ .-]?\(?[0-9]\)?){7,14}(?![0-9])
      | (?<![A-Za-z0-9_.+-])(?:1[ .-])?
        (?:\([2-9][0-9]{2}\)\ ?[2-9][0-9]{2}[-. ]
          |[2-9][0-9]{2}-[2-9][0-9]{2}-
          |[2-9][0-9]{2}\.[2-9][0-9]{2}\.)
        [0-9]{4}(?![A-Za-z0-9_]|[.-][0-9])
    """,
    "ipv4": rf"""
        (?<![A-Za-z0-9_.])(?:{_OCTET}\.){{3}}{_OCTET}(?![A-Za-z0-9_]|\.[0-9])
    """,
    # A maximal run of digit groups; `_on_card` finds the card, if any, among whole groups.
    "card": r"(?<![A-Za-z0-9_])(?<![0-9][ -])[0-9](?:[ -]?[0-9]){12}(?:[ -]?[0-9])*+",
    "ipv6": r"""
        (?<![A-Za-z0-9_:.%])
        (?=[0-9A-Fa-f:]*::|(?:[0-9A-Fa-f]{1,4}:){7})
        (?:[0-9A-Fa-f:]*:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|[0-9A-Fa-f:]{2,})
        (?:%[0-9A-Za-z_.-]+)?
    """,
}

# The gate: a necessary condition for each detector, cheap to test, so a string that cannot
# hold anything to mask skips the combined regex. Every alternative starts with a literal
# character: the regex engine then jumps between the few places where one occurs. (One
# alternative that starts with a class or a repeat makes it try every position, ten times
# slower.) Cards are gated separately (they start with a digit), and so are text pairs such as
# password=..., which are found on the reversed lowercased string, where they start at = or :.
_GATES: dict[str, str] = {
    "private_key": r"-----BEGIN",
    "url_creds": r"://[^/?#@\s]*@",
    "jwt": r"eyJ",
    "auth": r"B(?:earer|EARER|asic|ASIC) ",
    "aws_key": r"A[KS]IA",
    "api_key": r"""sk-|sk_live_|sk_test_|rk_live_|rk_test_|gh[pousr]_|github_pat_|glpat-
        |xox[abprs]-|AIza""",
    # %40: an address percent-encoded in a URL (?email=jane%40example.com) is the same address.
    # Two alternatives rather than (?:@|%40): a gate whose every alternative starts with a
    # literal lets the regex engine skip to the positions where one could match (~2x faster).
    "email": r"@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2}|%40(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2}",
    "ssn": r"-(?<=[0-9]{3}-)[0-9]{2}-[0-9]{4}",
    "phone": r"""\+[1-9]|\([2-9][0-9]{2}\)
        |-(?<=[2-9][0-9]{2}-)[2-9][0-9]{2}-[0-9]{4}|\.(?<=[2-9][0-9]{2}\.)[2-9][0-9]{2}\.[0-9]{4}""",
    "ipv4": r"\.(?<=[0-9]\.)[0-9]{1,3}\.[0-9]{1,3}\.[0-9]",
    "ipv6": r":(?::|(?<=[0-9A-Fa-f]:)[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:)",
}
_CARD_GATE = re.compile(r"[2-6](?:[ -]?[0-9]){12}")


# --- the raw-line prefilter ----------------------------------------------------------------------
#
# `needs_masking` runs on every line, so it is built from the cheapest things CPython offers:
# bytes.translate, bytes.find with long needles, and regexes that start with a literal (which
# the regex engine finds with a fast scan before trying a match). A regex that starts with a
# character class, or an alternation of many literals, costs several times more per byte.
#
# 1. Rare bytes. Deleting every byte except \ @ + ( = J B A x leaves nothing for most lines;
#    each byte that remains sends the line to the regexes for the telltales that contain it
#    (\u escapes, emails, URL credentials, eyJ, BEGIN, Bearer, AKIA, xoxb-, +1..., (415)).
# 2. Digit shapes. With digits turned into 0 and spaces into -, a card, SSN or US phone is a
#    fixed shape (0000-0000-0000-0, 0-00-0000, 0-000-0000) and an IPv4 address or dotted phone
#    is .0.0.0 or .000.0000; runs of 13 zeros are checked for a card-like first digit.
# 3. Names. The line lowercased, without - _ . (what key normalisation removes), reversed: a
#    sensitive name then starts right after a ':' or '=' (``":drowssap"``), so one regex that
#    starts with a literal finds JSON keys, text pairs and, on the same colons, IPv6 addresses.

_RARE = b"\\@+(=JBAx%"
_NOT_RARE = bytes(sorted(set(range(256)) - set(_RARE)))
_SHAPES = bytes.maketrans(b"0123456789 ", b"0000000000-")
_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
_THIRTEEN = b"0" * 13

# Per detector: (rare byte that must be in the line, regex to confirm). The regexes for one
# rare byte that start with the same literal are joined into one.
_RAW_RARE: dict[str, tuple[tuple[bytes, bytes], ...]] = {
    "private_key": ((b"B", rb"BEGIN"),),
    "url_creds": (
        (b"@", rb"//[^/?#@\s\"]*@"),
        (b"\\", rb"\\/\\/[^/?#@\s\"]*@"),  # JSON may escape slashes
    ),
    "jwt": ((b"J", rb"eyJ"),),
    "auth": ((b"B", rb"B(?:earer|EARER|asic|ASIC) "),),
    "aws_key": ((b"A", rb"A[KS]IA"),),
    "api_key": ((b"A", rb"AIza"), (b"x", rb"xox[abprs]-")),
    "email": (
        (b"@", rb"@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2}"),
        (b"%", rb"%40(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2}"),
    ),
    "phone": ((b"+", rb"\+[1-9](?:[ .()-]{0,3}[0-9]){7}"), (b"(", rb"\([0-9]{3}\)")),
}
# Card runs (after a find of 13 zeros), dash/space shapes, dot shapes.
# A card's digits never follow a letter, except the one ending an escape (\n4111...).
_RAW_CARD_RUN = re.compile(rb"(?:(?<![0-9A-Za-z_])|(?<=\\[bfnrt]))[2-6][0-9]{12,18}(?![0-9])")


def _card_run(raw: bytes, shapes: bytes, pos: int) -> int:
    """Where the first card-like run of digits in `raw` from `pos` starts, or -1.

    Such a run is a whole run of digits (13 zeros in `shapes`), so only where each run of 13
    or more starts is the regex tried: far cheaper than a search, which would try it at every
    byte of a line (epoch milliseconds put a 13-digit run in many lines).
    """
    pos = shapes.find(_THIRTEEN, pos)
    while pos >= 0:
        if _RAW_CARD_RUN.match(raw, pos) is not None:
            return pos
        pos = shapes.find(_THIRTEEN, pos + 13)  # past this run, or into a run 26+ long
    return -1


# Each starts at a dash and ends where the digits do. A UUID (8-4-4-4-12) never fits.
_RAW_DASH_SHAPES = re.compile(
    rb"-(?:00-0000|000-0000|0000-0000-0{1,4}|000000-0{4,5})(?![0-9A-Za-z_])"
)
_RAW_DOT_SHAPES = re.compile(rb"\.(?:0{1,3}\.0{1,3}\.0|000\.0000)")
# API keys whose prefixes hold no rare byte; each regex starts with a literal.
_RAW_SK = re.compile(rb"k(?:(?<=sk)-|(?<=[sr]k)_(?:live|test)_)")
_RAW_GH = re.compile(rb"g(?:h[pousr]_|ithub_pat_|lpat-)")


# The same checks as patterns for Hyperscan, which scans a whole block of lines at once (see
# logkit/blockscan.py): each is written forwards over the raw bytes and matches wherever its
# check above would, and maybe more (Hyperscan has no lookarounds: a boundary is a byte other
# than a newline, or the line's end, ^ and $ in multi-line mode); none can match across a
# newline. (pattern, caseless). The name checks assume an ASCII line: the scanner leaves any
# other line to `needs_masking`, whose lowercasing of non-ASCII text no byte pattern follows.
_HS_CARD = rb"(?:^|[^0-9A-Za-z_\n]|\\[bfnrt])[2-6][0-9]{12,18}(?:[^0-9\n]|$)"
_HS_DASH_SHAPES = (
    rb"[- ](?:[0-9]{2}[- ][0-9]{4}|[0-9]{3}[- ][0-9]{4}|[0-9]{4}[- ][0-9]{4}[- ][0-9]{1,4}"
    rb"|[0-9]{6}[- ][0-9]{4,5})(?:[^0-9A-Za-z_\n]|$)"
)
_HS_DOT_SHAPES = rb"\.(?:[0-9]{1,3}\.[0-9]{1,3}\.[0-9]|[0-9]{3}\.[0-9]{4})"
_HS_API_KEYS = rb"sk-|[sr]k_(?:live|test)_|gh[pousr]_|github_pat_|glpat-"
_HS_SEP = rb"[-_.]*"  # what key normalisation deletes, so it may sit between any two bytes
# A name's tail before its ':' (the reversed alternatives of _raw_colon, forwards): quotes,
# escapes, blanks and the t of an escaped tab, in any order (a superset).
_HS_COLON_TAIL = rb"""[-_.\\"' \t\rt]*:"""
_HS_EQUALS_TAIL = rb"""[-_.\\"' t]*="""
_HS_HEX_GROUP = rb"(?:[0-9a-f][-_.]*){1,4}"
# Compiling grows with the names (31 built in: 0.6 s; 51: 1.2 s; 231: 6 s), and a scan has to
# earn its compile back; past this many, lines take needs_masking.
_HS_MAX_NAMES = 40


def _hs_spread(word: str) -> bytes:
    """`word` as a raw line may spell it before key normalisation: - _ . anywhere in it."""
    return b"".join(re.escape(char.encode()) + _HS_SEP for char in word)


def _block_patterns(
    rare: list[bytes],
    *,
    digit_shapes: bool,
    api_key: bool,
    names: list[str],
    ipv6: bool,
    equals: bool,
) -> list[tuple[bytes, bool]] | None:
    """needs_masking's checks as Hyperscan patterns, or None if a name is not ASCII or there
    are too many names to compile quickly."""
    if len(names) > _HS_MAX_NAMES or not all(name.isascii() for name in names):
        return None
    patterns = [(pattern, False) for pattern in rare]
    if digit_shapes:
        patterns += [(_HS_CARD, False), (_HS_DASH_SHAPES, False), (_HS_DOT_SHAPES, False)]
    if api_key:
        patterns.append((_HS_API_KEYS, False))
    if names:
        spread = b"(?:" + b"|".join(_hs_spread(name) for name in names) + b")"
        patterns.append((spread + _HS_COLON_TAIL, True))
        if equals:
            params = b"|".join(_hs_spread(param) for param in PARAM_NAMES)
            patterns.append((spread + _HS_EQUALS_TAIL, True))
            patterns.append((rb'[?&;"]' + _HS_SEP + b"(?:" + params + b")=", True))
    if ipv6:
        patterns.append((b":" + _HS_SEP + b":", False))
        hexes = b":" + _HS_SEP + (_HS_HEX_GROUP + b":" + _HS_SEP) * 3
        patterns.append((hexes, True))
    return patterns


class Masker:
    """Masks events, text and raw JSON lines; counts what it masked in `counts`.

    Build it with `Masker.from_config` from the ``[mask]`` table of logkit.toml, or directly::

        masker = Masker(mode="pseudonymize", fields=["user_id"], key=b"...")
        masker.mask_event(event)      # in place, returns the event
        masker.counts                 # Counter({'email': 3, 'key': 1, 'user_id': 40})

    `field_aliases` maps a field in ``fields`` to the record keys it may come from (the
    normaliser's aliases); with it, `needs_masking` can still skip lines without the field.
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        mode: str = "placeholder",
        keys: Iterable[str] = (),
        allow_keys: Iterable[str] = (),
        disable: Iterable[str] = (),
        detectors: Mapping[str, Any] | None = None,
        pseudonymize: Iterable[str] = (),
        fields: Iterable[str] = (),
        key: bytes | None = None,
        field_aliases: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"[mask] mode must be 'placeholder' or 'pseudonymize', not {mode!r}")
        disabled = set(disable)
        for name in disabled:
            if name not in BUILTIN_DETECTORS:
                raise ValueError(
                    f"[mask] disable: unknown detector {name!r}; "
                    f"built-in detectors are {', '.join(BUILTIN_DETECTORS)}"
                )
        self.enabled = bool(enabled)
        self.counts: Counter[str] = Counter()
        self._enabled_builtins = tuple(d for d in BUILTIN_DETECTORS if d not in disabled)
        self._custom = [(name, _compile_custom(name, p)) for name, p in (detectors or {}).items()]
        # A custom pattern may match a single character; the built-in ones need three.
        self._shortest = 1 if self._custom else _SHORTEST_MATCH
        names = set(BUILTIN_DETECTORS) | {name for name, _ in self._custom}
        self._fields = frozenset(fields)
        pseudo = set(names) if mode == "pseudonymize" else set(pseudonymize)
        for name in pseudo - names:
            raise ValueError(f"[mask] pseudonymize: unknown detector {name!r}")
        self._pseudo = frozenset(pseudo)
        if (self._pseudo or self._fields) and not key:
            raise MaskKeyMissing()
        self._key = key or None

        self._words = frozenset(SENSITIVE_KEYS | {normalise_key(k) for k in keys})
        self._words_tuple = tuple(sorted(self._words))
        self._allow = frozenset(normalise_key(k) for k in allow_keys)
        self._key_rule = "key" in self._enabled_builtins
        self._sensitive_cache: dict[str, bool] = {}
        self._pseudonym_cache: dict[str, str] = {}
        self._clean: set[str] = set()

        prefixes = sorted(self._pseudo | self._fields, key=len, reverse=True)
        protect = r"\[MASKED:[a-z0-9_]+\](?:~[0-9]+)?"
        if prefixes:
            alts = "|".join(re.escape(p) for p in prefixes)
            protect += rf"|(?<![A-Za-z0-9_])(?:{alts}):[0-9a-f]{{{_HEX_CHARS}}}(?![A-Za-z0-9_])"
        self._protect = re.compile(protect, re.ASCII)
        # needs_masking cannot see through custom regexes, nor find fields without aliases.
        self._always = bool(self._custom) or (bool(self._fields) and field_aliases is None)
        self._build_regexes(_raw_field_names(self._fields, field_aliases or {}))

    @classmethod
    def from_config(
        cls,
        table: Mapping[str, Any],
        key: bytes | None,
        *,
        field_aliases: Mapping[str, Iterable[str]] | None = None,
    ) -> Masker:
        """A Masker from the ``[mask]`` table of logkit.toml; ValueError on anything invalid.

        Keys: ``enabled`` (bool), ``mode`` ("placeholder" | "pseudonymize"), ``keys`` (extra
        sensitive key names), ``allow_keys`` (keys never masked by name), ``disable`` (built-in
        detectors to switch off), ``detectors`` (name = regex), ``pseudonymize`` (detectors that
        use pseudonyms in placeholder mode), ``fields`` (fields pseudonymised whole).
        """
        for name in table:
            if name not in _CONFIG_KEYS:
                raise ValueError(
                    f"[mask] unknown setting {name!r}; known settings: {', '.join(_CONFIG_KEYS)}"
                )
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError(f"[mask] enabled must be true or false, not {enabled!r}")
        mode = table.get("mode", "placeholder")
        lists = {
            name: _str_list(table, name)
            for name in ("keys", "allow_keys", "disable", "pseudonymize", "fields")
        }
        detectors = table.get("detectors", {})
        if not isinstance(detectors, Mapping) or not all(
            isinstance(v, str) for v in detectors.values()
        ):
            raise ValueError('[mask] detectors must be a table of name = "regex"')
        if not enabled:
            # A switched-off masker needs no key and validates nothing more.
            return cls(enabled=False)
        return cls(
            enabled=True,
            mode=mode,
            detectors=detectors,
            key=key,
            field_aliases=field_aliases,
            **lists,
        )

    # --- public entry points -------------------------------------------------------------------

    def mask_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Mask a canonical event in place and return it.

        String columns get the value detectors (or are pseudonymised whole if listed in
        ``fields``); ``attrs`` gets key rules and value detectors at every depth, dict keys
        included. A dict key that a detector changes is renamed; if two keys collide after
        masking, the later ones get ``~2``, ``~3``... so no value is lost.
        """
        if not self.enabled:
            return event
        fields = self._fields
        # Most strings of a line sent here are values seen before and known to be clean
        # (service, logger, host, messages): they are passed over without a call.
        clean = self._clean
        shortest = self._shortest
        for name, value in event.items():
            if type(value) is not str:
                if value is not None and name == "attrs":
                    event[name] = self._mask_top(value)
            elif name in fields:
                event[name] = self._field(name, value)
            elif value in clean or len(value) < shortest:
                continue
            elif name in _ID_COLUMNS and _ID_SHAPE.fullmatch(value):
                continue  # an all-digit span id is a valid card number one time in twenty
            elif name == "attrs":
                event[name] = self._mask_top(value)
            else:
                event[name] = self._mask_str(value)
        return event

    def mask_text(self, text: str) -> str:
        """Mask free text: value detectors plus sensitive ``name=value`` / ``"name": value``.

        For raw lines that are not (or not valid) JSON, such as rejected or truncated lines.
        """
        if not self.enabled:
            return text
        return self._mask_str(text)

    def mask_json_line(self, line: bytes) -> bytes:
        """Mask one NDJSON line for ``logkit mask``; always returns one line ending in ``\\n``.

        A JSON object or array is masked by key and value rules and written back compact; any
        other line is masked as text.
        """
        body = line.rstrip(b"\r\n")
        if self.enabled:
            try:
                doc = orjson.loads(body)
            except orjson.JSONDecodeError:
                doc = None
            if isinstance(doc, (dict, list)):
                try:
                    return orjson.dumps(self._mask_top(doc)) + b"\n"
                except orjson.JSONEncodeError:
                    pass  # nested deeper than orjson writes: mask it as text instead
            text = body.decode("utf-8", errors="backslashreplace")
            body = self._mask_str(text).encode()
        return body + b"\n"

    def needs_masking(self, raw: bytes) -> bool:
        """False only if nothing in this raw JSON line can be masked; cheap enough for every line.

        Conservative for the event the normaliser makes from the line, as long as the
        normaliser only moves, renames, cuts and changes the case of values.
        """
        if not self.enabled:
            return False
        if self._always:
            return True
        rare = raw.translate(None, _NOT_RARE)
        if rare:
            checks = self._raw_rare
            for byte in set(rare):
                for pattern in checks.get(byte, ()):
                    if pattern.search(raw) is not None:
                        return True
        if self._digit_shapes:
            shapes = raw.translate(_SHAPES)
            if _card_run(raw, shapes, 0) >= 0:
                return True
            if _RAW_DASH_SHAPES.search(shapes) is not None:
                return True
            if _RAW_DOT_SHAPES.search(shapes) is not None:
                return True
        if self._api_key and (_RAW_SK.search(raw) is not None or _RAW_GH.search(raw) is not None):
            return True
        if self._raw_colon is None:
            return False
        # str.lower is needed beyond ASCII: it turns the Kelvin sign into 'k', as in key names.
        if raw.isascii():
            names = raw.translate(_LOWER, b"-_.")[::-1]
        else:
            names = raw.decode("utf-8", "replace").lower().encode().translate(None, b"-_.")[::-1]
        if self._raw_colon.search(names) is not None:
            return True
        return (
            b"=" in rare
            and self._raw_equals is not None
            and (self._raw_equals.search(names) is not None)
        )

    @property
    def masks_key_blocks(self) -> bool:
        """Whether private keys printed over several lines are masked (`key_block_lines`):
        unless masking or the ``private_key`` detector is switched off."""
        return self.enabled and "private_key" in self._builtins

    @property
    def always(self) -> bool:
        """Whether every line is masked: `needs_masking` cannot rule a line out."""
        return self._always

    def pseudonym(self, field_or_detector: str, value: str) -> str:
        """The pseudonym stored for `value` under this field or detector, e.g. for a lookup.

        >>> Masker(key=b"k").pseudonym("user_id", "42")  # doctest: +SKIP
        'user_id:0a7fb1d6b2c4'
        """
        if not self._key:
            raise MaskKeyMissing()
        return f"{field_or_detector}:{self._hmac(_canonical(field_or_detector, value))}"

    # --- structures ----------------------------------------------------------------------------

    def _mask_top(self, value: Any) -> Any:
        """attrs, or a whole record: like any value, plus ``fields`` among its top-level keys."""
        if type(value) is dict:
            return self._dict(value, self._fields)
        return self._value(value)

    def _value(self, value: Any) -> Any:
        cls = type(value)
        if cls is str:
            return self._mask_str(value) if len(value) >= self._shortest else value
        if cls is dict:
            return self._dict(value)
        if cls is list:
            return self._list(value)
        if cls is int and (value >= 10**12 or value <= -(10**12)) and "card" in self._builtins:
            digits = str(abs(value))
            if _is_card_number(digits):
                return self._replace("card", digits)
        return value

    def _dict(self, d: dict[str, Any], fields: frozenset[str] = frozenset()) -> dict[str, Any]:
        renamed: dict[str, str] = {}
        # The caches are read inline, as in mask_event: this runs for every key of every line
        # sent to masking, and most keys and values are in them (12-17% of mask_event).
        clean = self._clean
        shortest = self._shortest
        key_rule = self._key_rule
        sensitive = self._sensitive_cache
        for k, v in d.items():
            try:
                if k in fields:
                    new = v if v is None else self._field(k, v)
                elif (
                    key_rule
                    and type(k) is str
                    and (sensitive[k] if k in sensitive else self._is_sensitive(k))
                    and not _working_dir(k, v)
                ):
                    new = self._by_key(v)
                elif type(v) is str:
                    new = v if v in clean or len(v) < shortest else self._mask_str(v)
                else:
                    new = self._value(v)
            except Exception:  # RecursionError on deep nesting, a failing custom detector
                new = self._error()
            if new is not v:
                d[k] = new
            if type(k) is str and len(k) >= shortest and k not in clean:
                masked_key = self._mask_str(k)
                if masked_key != k:
                    renamed[k] = masked_key
        return _rename_keys(d, renamed) if renamed else d

    def _list(self, items: list[Any]) -> list[Any]:
        for i, v in enumerate(items):
            try:
                new = self._value(v)
            except Exception:
                new = self._error()
            if new is not v:
                items[i] = new
        return items

    def _is_sensitive(self, key: str) -> bool:
        cached = self._sensitive_cache.get(key)
        if cached is None:
            name = normalise_key(key)
            cached = name.endswith(self._words_tuple) and name not in self._allow
            if len(self._sensitive_cache) >= _CACHE_LIMIT:
                self._sensitive_cache.clear()
            self._sensitive_cache[key] = cached
        return cached

    def _by_key(self, value: Any) -> Any:
        """A value under a sensitive key: masked whole, except None and booleans."""
        if value is None or type(value) is bool:
            return value
        if type(value) is str:
            text = value
        elif type(value) in (dict, list):
            text = _dump_sorted(value)
        else:
            text = str(value)
        return self._replace("key", text)

    def _field(self, name: str, value: Any) -> Any:
        """A value listed in ``fields``: pseudonymised whole, unless it already is."""
        if type(value) is str:
            if value.startswith(f"{name}:") and self._protect.fullmatch(value):
                return value
            text = value
        elif type(value) in (dict, list):
            text = _dump_sorted(value)
        else:
            text = str(value)
        self.counts[name] += 1
        return f"{name}:{self._hmac(text)}"

    # --- strings -------------------------------------------------------------------------------

    def _mask_str(self, s: str) -> str:
        """Value detectors over one string; the whole string becomes [MASKED:error] on failure.

        Repeated until nothing changes: masking one thing can give its neighbour the boundary
        it lacked ("bob@example.com+14155552671": the phone starts after a letter until the
        address before it is a placeholder). Each round turns more of the text into
        placeholders, which are never masked again, so this ends; the rounds after the first
        run only for strings that had something to mask.
        """
        if s in self._clean:
            return s
        original = s
        try:
            for _ in range(_MAX_ROUNDS):
                masked = s
                if self._may_match(masked):
                    masked = self._scan(masked)
                if self._custom:
                    masked = self._scan_custom(masked)
                if masked == s:
                    break
                s = masked
                # A value masked whole ("203.0.113.9") is now one placeholder, which nothing
                # masks again: no second round (it cost as much as the first).
                if self._protect.fullmatch(s) is not None:
                    break
        except Exception:
            return self._error()
        if s is original:
            # Field values repeat (service, logger, host, paths): remember the clean ones.
            if len(self._clean) >= _CACHE_LIMIT:
                self._clean.clear()
            self._clean.add(s)
        return s

    def _may_match(self, s: str) -> bool:
        """The gates: False if no built-in detector can match anywhere in `s`."""
        if self._gate.search(s) is not None:
            return True
        if len(s) >= 13 and self._card and _CARD_GATE.search(s) is not None:
            return True
        return (
            self._kv_gate is not None
            and ("=" in s or ":" in s)
            and (self._kv_gate.search(s.lower()[::-1]) is not None)
        )

    def _scan(self, s: str) -> str:
        rx = self._combined
        m = rx.search(s)
        if m is None:
            return s
        handlers = self._handlers
        pieces: list[str] = []
        pos = 0
        while m is not None:
            hit = handlers[m.lastgroup](s, m)  # type: ignore[index]
            if hit is None:  # a candidate that failed validation
                m = rx.search(s, m.start() + 1)
                continue
            start, end, replacement = hit
            pieces.append(s[pos:start])
            pieces.append(replacement)
            pos = end
            m = rx.search(s, end)
        if not pieces:
            return s
        pieces.append(s[pos:])
        return "".join(pieces)

    def _scan_custom(self, s: str) -> str:
        for name, pattern in self._custom:
            pieces: list[str] = []
            pos = 0
            # Only the text between placeholders is searched, so a custom pattern can neither
            # re-mask a placeholder nor match across one.
            for start, end in self._unprotected(s):
                for m in pattern.finditer(s[start:end]):
                    span = _value_span(m)
                    if span[0] == span[1]:
                        continue
                    pieces.append(s[pos : start + span[0]])
                    found = s[start + span[0] : start + span[1]]
                    pieces.append(self._replace(name, found))
                    pos = start + span[1]
            if pieces:
                pieces.append(s[pos:])
                s = "".join(pieces)
        return s

    def _unprotected(self, s: str) -> list[tuple[int, int]]:
        spans = []
        pos = 0
        for m in self._protect.finditer(s):
            if m.start() > pos:
                spans.append((pos, m.start()))
            pos = m.end()
        if pos < len(s):
            spans.append((pos, len(s)))
        return spans

    # --- replacements --------------------------------------------------------------------------

    def _replace(self, detector: str, value: str) -> str:
        if self._is_masked(value):
            return value
        self.counts[detector] += 1
        if detector in self._pseudo:
            return f"{detector}:{self._hmac(_canonical(detector, value))}"
        return f"[MASKED:{detector}]"

    def _is_masked(self, value: str) -> bool:
        return (value.startswith("[MASKED:") or value[-13:-12] == ":") and (
            self._protect.fullmatch(value) is not None
        )

    def _error(self) -> str:
        self.counts[_ERROR] += 1
        return f"[MASKED:{_ERROR}]"

    def _hmac(self, text: str) -> str:
        cached = self._pseudonym_cache.get(text)
        if cached is None:
            assert self._key is not None
            digest = hmac.digest(self._key, text.encode("utf-8", "surrogatepass"), "sha256")
            cached = digest.hex()[:_HEX_CHARS]
            if len(self._pseudonym_cache) >= _CACHE_LIMIT:
                self._pseudonym_cache.clear()
            self._pseudonym_cache[text] = cached
        return cached

    # --- detector handlers: (text, match) -> (start, end, replacement), or None to skip ------

    def _on_protect(self, s: str, m: re.Match[str]) -> tuple[int, int, str]:
        return m.start(), m.end(), m.group()

    def _on_whole(self, s: str, m: re.Match[str]) -> tuple[int, int, str]:
        name = m.lastgroup
        assert name is not None
        return m.start(), m.end(), self._replace(name, m.group())

    def _on_url_creds(self, s: str, m: re.Match[str]) -> tuple[int, int, str]:
        start, end = m.span("url_creds_v")
        return start, end, self._replace("url_creds", s[start:end])

    def _on_auth(self, s: str, m: re.Match[str]) -> tuple[int, int, str] | None:
        credential = m.group("auth_v")
        if m.group("auth_scheme").lower() == "basic":
            try:
                ok = b":" in base64.b64decode(credential, validate=True)
            except (binascii.Error, ValueError):
                ok = False
        else:
            ok = len(credential) >= 20 or (
                len(credential) >= 8 and any(c.isdigit() for c in credential)
            )
        if not ok:
            return None
        start, end = m.span("auth_v")
        return start, end, self._replace("auth", credential)

    def _on_phone(self, s: str, m: re.Match[str]) -> tuple[int, int, str] | None:
        text = m.group()
        if text.startswith("+") and not 8 <= sum(c.isdigit() for c in text) <= 15:
            return None
        return m.start(), m.end(), self._replace("phone", text)

    def _on_card(self, s: str, m: re.Match[str]) -> tuple[int, int, str] | None:
        end = m.end()
        if end < len(s) and (s[end].isalnum() or s[end] == "_"):
            return None  # digits glued to letters: part of an id, not a card
        run = m.group()
        groups = [g.span() for g in _DIGIT_GROUP.finditer(run)]
        pieces: list[str] = []
        pos = 0
        i = 0
        while i < len(groups):
            # The longest run of whole groups starting here that is laid out like a card (at
            # most five groups: a long run of numbers must not cost quadratic time).
            for j in range(min(len(groups), i + 5), i, -1):
                window = groups[i:j]
                if not _card_layout([stop - start for start, stop in window]):
                    continue
                first, last = window[0][0], window[-1][1]
                if _is_card_number(_NOT_DIGIT.sub("", run[first:last])):
                    pieces.append(run[pos:first])
                    pieces.append(self._replace("card", run[first:last]))
                    pos = last
                    i = j
                    break
            else:
                i += 1
        if not pieces:
            return None
        pieces.append(run[pos:])
        return m.start(), end, "".join(pieces)

    def _on_ipv6(self, s: str, m: re.Match[str]) -> tuple[int, int, str] | None:
        text = m.group()
        for candidate in (text, text.rstrip(":")):
            if any(c in _HEX_DIGITS for c in candidate):
                try:
                    ipaddress.IPv6Address(candidate)
                except ValueError:
                    continue
                start = m.start()
                end = start + len(candidate)
                if end < len(s) and (s[end].isalnum() or s[end] == "_"):
                    return None
                return start, end, self._replace("ipv6", candidate)
        return None

    def _on_kv(self, s: str, m: re.Match[str]) -> tuple[int, int, str] | None:
        """``name: value`` / ``name=value`` / ``"name": "value"`` with a sensitive name."""
        start = m.start("kv_key")
        while start and s[start - 1] in _KEY_CHARS:
            start -= 1
        name = normalise_key(s[start : m.end("kv_key")])
        if name in self._allow:
            return None
        if name.endswith(_DIR_WORDS):
            span = _text_value_span(s, m.end(), False, self._protect)
            if span is not None and _PATH_VALUE.fullmatch(s, span[0], span[1]):
                return None
        cookie = name.endswith(_COOKIE_WORDS)
        return self._mask_text_value(s, m.end(), cookie, m.group("kv_q") or "")

    def _on_kvp(self, s: str, m: re.Match[str]) -> tuple[int, int, str] | None:
        return self._mask_text_value(s, m.end(), False, "")

    def _mask_text_value(
        self, s: str, start: int, to_line_end: bool, quote: str
    ) -> tuple[int, int, str] | None:
        """Mask the value starting at `start`: quoted, a JSON object/array, or a bare token.

        After a quoted name (JSON), a bare or structured value is replaced by a quoted
        placeholder, so JSON text stays JSON.
        """
        span = _text_value_span(s, start, to_line_end, self._protect)
        if span is None:
            return None
        vstart, vend, quoted = span
        replacement = self._replace("key", s[vstart:vend])
        if quote and not quoted and replacement != s[vstart:vend]:
            replacement = f"{quote}{replacement}{quote}"
        return vstart, vend, replacement

    # --- compilation ---------------------------------------------------------------------------

    def _build_regexes(self, raw_fields: list[str]) -> None:
        enabled = self._enabled_builtins
        self._builtins = frozenset(enabled)
        words = _trie(self._words)
        params = "|".join(PARAM_NAMES)
        kv = (
            rf"(?P<kv_key>(?i:{words})){_SEP}"
            r"""(?P<kv_q>\\*["'])?[ \t]*[:=][ \t]*(?=[^\s,;&<>)\]}])"""
        )
        kvp = rf"(?:(?<=[?&;])|^)(?i:{params})=(?=[^\s&\#;])"

        parts = [rf"(?P<protect>{self._protect.pattern})"]
        gates = []
        raw_rare = [(b"\\", rb"\\u")]  # an escape could hide anything
        for name in enabled:
            if name == "key":
                parts.append(rf"(?P<kv>{kv})|(?P<kvp>{kvp})")
            else:
                parts.append(f"(?P<{name}>{_PATTERNS[name]})")
                if name in _GATES:
                    gates.append(_GATES[name])
                raw_rare.extend(_RAW_RARE.get(name, ()))
        self._combined = re.compile("|".join(parts), re.ASCII | re.VERBOSE)
        # With every detector disabled the gate must match nothing.
        self._gate = re.compile("|".join(gates) or "(?!)", re.ASCII | re.VERBOSE)
        self._card = "card" in enabled
        self._kv_gate = None
        if self._key_rule:
            # Text pairs, on the string lowercased and reversed: "password=x" is "x=drowssap".
            reversed_words = _trie(w[::-1] for w in self._words)
            reversed_params = "|".join(p[::-1] for p in PARAM_NAMES)
            # Alternatives that each start with a literal, ":" or "=", not with [:=]: the regex
            # engine then skips to those characters instead of trying every position.
            before_value = rf"""[ \t]*(?:["']\\*)?{_SEP}"""
            self._kv_gate = re.compile(
                rf":{before_value}{reversed_words}|={before_value}{reversed_words}"
                rf"|=(?:{reversed_params})(?:[?&;]|\Z)",
                re.ASCII,
            )
        grouped: dict[tuple[bytes, bytes], list[bytes]] = {}
        for byte, pattern in raw_rare:
            grouped.setdefault((byte, pattern[:1]), []).append(pattern)
        self._raw_rare: dict[int, list[re.Pattern[bytes]]] = {}
        for (byte, _), patterns in grouped.items():
            self._raw_rare.setdefault(byte[0], []).append(re.compile(b"|".join(patterns)))
        self._digit_shapes = bool({"card", "ssn", "phone", "ipv4"} & set(enabled))
        self._api_key = "api_key" in enabled

        # Over the reversed, lowercased line without - _ . (see needs_masking).
        names = sorted(self._words) if self._key_rule else []
        names += raw_fields
        colon = []
        if names:
            # Reversed byte by byte, as the line is: latin-1 maps each byte to one character.
            reversed_names = _trie(
                (name.encode()[::-1].decode("latin-1") for name in names), sep=""
            )
            # Each alternative starts with a literal: "name": in JSON, name: in text, 'name':
            # in Python reprs, and whitespace before the colon (JSON allows spaces, tabs and
            # CRs; t\ is an escaped tab, reversed).
            colon.append(
                rf"""(?:"\\*{reversed_names}|{reversed_names}|'{reversed_names}"""
                rf"""|(?: |\t|\r|t\\)(?:[ \t\r]|t\\)*(?:"\\*|')?{reversed_names})"""
            )
        if "ipv6" in enabled:
            # "::" (reversed, still "::"), or three more groups: an address without "::".
            colon.append(":|[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:")
        pattern = f":(?:{'|'.join(colon)})"
        self._raw_colon = re.compile(pattern.encode("latin-1")) if colon else None
        self._raw_equals = None
        if self._key_rule:
            reversed_params = "|".join(p[::-1] for p in PARAM_NAMES)
            pattern = rf"""=(?:[ \\"'t]*{reversed_names}|(?:{reversed_params})[?&;"])"""
            self._raw_equals = re.compile(pattern.encode("latin-1"))
        #: Whether needs_masking looks for names in the line (see logkit/blockscan.py).
        self.names_in_raw = self._raw_colon is not None
        self.block_patterns = _block_patterns(
            [pattern for _, pattern in raw_rare],
            digit_shapes=self._digit_shapes,
            api_key=self._api_key,
            names=names,
            ipv6="ipv6" in enabled,
            equals=self._raw_equals is not None,
        )

        handlers = {name: self._on_whole for name in enabled}
        handlers.update(
            protect=self._on_protect,
            kv=self._on_kv,
            kvp=self._on_kvp,
            url_creds=self._on_url_creds,
            auth=self._on_auth,
            phone=self._on_phone,
            card=self._on_card,
            ipv6=self._on_ipv6,
        )
        self._handlers = handlers


# --- private keys printed over several lines --------------------------------------------------
#
# A PEM key printed as text (not inside a JSON string) arrives one line at a time: the
# private_key detector masks its BEGIN line, but each base64 line after it is a line of its own
# that no detector can tell from any other base64. So lines are followed in order: from a line
# that opens a key block and does not close it, every line up to and including the one with
# ``-----END`` is masked whole, as `KEY_LINE`. A block ends early at a line that starts a JSON
# object (the key was cut short and the application went on logging), or KEY_BLOCK_BYTES after
# its BEGIN line; anything else inside it is masked, which fails closed when the END line never
# comes. The state (bytes since the BEGIN line, 0 outside a block) carries from one block of
# lines to the next: ingest passes it with each block, and finds it again before a checkpoint
# by looking back KEY_BLOCK_BYTES (see logkit/ingest.py), which gives what one run would.

#: What a line inside a private key block becomes.
KEY_LINE = "[MASKED:private_key]"
#: In every BEGIN line: a block of lines without it opens no key (one bytes.find).
KEY_MARK = b"PRIVATE KEY"
#: How far from its BEGIN line a key block may reach. No PEM key is this long (RSA-16384 is
#: 12 KB); it bounds what a key cut short masks in a log of plain text.
KEY_BLOCK_BYTES = 64 * 1024
_KEY_BEGIN = re.compile(rb"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_KEY_END = b"-----END"
_BOM = b"\xef\xbb\xbf"


def _opens_key(line: bytes) -> bool:
    """Whether a key block begins on this line and does not end on it."""
    if KEY_MARK not in line:
        return False
    ends = [begin.end() for begin in _KEY_BEGIN.finditer(line)]
    return bool(ends) and line.find(_KEY_END, ends[-1]) < 0


def _json_record(line: bytes) -> bool:
    start = line[3:] if line.startswith(_BOM) else line
    return start.lstrip(b" \t\r").startswith(b"{")


def key_block_lines(lines: list[bytes], inside: int = 0) -> tuple[set[int], int]:
    """The indexes of the `lines` (in order, without newlines) inside a private key block, and
    the state after the last: 0, or the bytes of the open block so far, from its BEGIN line on.
    `inside` is the state before the first line."""
    masked: set[int] = set()
    for index, line in enumerate(lines):
        if inside:
            inside += len(line) + 1
            end = line.find(_KEY_END)
            if end >= 0:
                masked.add(index)
                # Another block may open after this one closes, on the same line.
                inside = len(line) + 1 if _opens_key(line[end:]) else 0
                continue
            if inside <= KEY_BLOCK_BYTES and not _json_record(line):
                masked.add(index)
                continue
            inside = 0  # the block ended before this line, which is read as any other
        if _opens_key(line):
            inside = len(line) + 1
    return masked, inside


def key_block_after(data: bytes, inside: int = 0) -> int:
    """The state `key_block_lines` leaves after `data` (whole lines), cheaply: most blocks of
    lines hold no key, which one bytes.find tells."""
    if not inside and KEY_MARK not in data:
        return 0
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # after the last newline: no line
    return key_block_lines(lines, inside)[1]


# --- helpers -----------------------------------------------------------------------------------

_DIGIT_GROUP = re.compile(r"[0-9]+")
_ID_COLUMNS = frozenset({"trace_id", "span_id"})
# What trace and span ids look like, and nothing else: hex of 8 to 64 digits (W3C/OpenTelemetry
# 32 and 16, B3, X-Ray's parts, Datadog's decimal ids, digests), a UUID, a W3C traceparent.
# Hex with dashes anywhere else (4111-1111-1111-1111, 078-05-1120) is not an id: it is scanned.
_ID_SHAPE = re.compile(
    r"[0-9a-fA-F]{8,64}"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{2}-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-fA-F]{2}"
)
_NOT_DIGIT = re.compile(r"[^0-9]")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_JSON_TOKEN = re.compile(r'["\\{}\[\]]')
_BARE_VALUE = re.compile(rf"(?:{_AUTH_SCHEMES}[ \t]+)?[^\s,;&\"'<>)\]}}]+", re.ASCII)
_LINE_VALUE = re.compile(r"[^\r\n\"]+")


def _working_dir(key: str, value: Any) -> bool:
    """Whether `value` under the sensitive `key` is a working directory (PWD=/home/ann)."""
    return (
        type(value) is str
        and normalise_key(key).endswith(_DIR_WORDS)
        and _PATH_VALUE.fullmatch(value) is not None
    )


def _text_value_span(
    s: str, start: int, to_line_end: bool, protect: re.Pattern[str]
) -> tuple[int, int, bool] | None:
    """(start, end, quoted) of the value of a textual ``name=value`` pair starting at `start`.

    None for a JSON literal (null/true/false: nothing to hide). A quoted value's span is what
    is inside the quotes; an unterminated value runs to the end of the text.
    """
    if start >= len(s):
        return None
    done = protect.match(s, start)
    if done is not None:
        return done.start(), done.end(), True
    ch = s[start]
    if ch == "\\" or ch == '"':
        quote_end = start
        while quote_end < len(s) and s[quote_end] == "\\":
            quote_end += 1
        if quote_end < len(s) and s[quote_end] == '"':
            quote = s[start : quote_end + 1]
            inner = quote_end + 1
            if quote == '"':
                end = _json_string_end(s, inner)
            else:  # \"...\" : JSON inside a JSON string
                end = s.find(quote, inner)
                end = len(s) if end < 0 else end
            return inner, end, True
    elif ch == "'":
        end = s.find("'", start + 1)
        return start + 1, len(s) if end < 0 else end, True
    elif ch in "{[":
        return start, _json_value_end(s, start), False
    m = (_LINE_VALUE if to_line_end else _BARE_VALUE).match(s, start)
    if m is None or m.group() in _JSON_LITERALS:
        return None
    return m.start(), m.end(), False


def _json_string_end(s: str, i: int) -> int:
    """Index of the closing quote of a JSON string whose content starts at i (or len(s))."""
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == '"':
            return i
        i += 2 if ch == "\\" else 1
    return n


def _json_value_end(s: str, i: int) -> int:
    """End of the JSON object/array starting at i; the end of the text if it never closes."""
    depth = 0
    n = len(s)
    while i < n:
        m = _JSON_TOKEN.search(s, i)
        if m is None:
            return n
        ch = m.group()
        i = m.end()
        if ch == '"':
            i = _json_string_end(s, i) + 1
        elif ch == "\\":
            i += 1
        elif ch in "{[":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return i
    return n


def _rename_keys(d: dict[str, Any], renamed: dict[str, str]) -> dict[str, Any]:
    """`d` with keys renamed, in order; a name taken already gets ``~2``, ``~3``..."""
    out: dict[str, Any] = {}
    suffixes: dict[str, int] = {}  # the next ~n to try per name, so many collisions stay cheap
    for k, v in d.items():
        new = renamed.get(k, k)
        if new in out:
            n = suffixes.get(new, 2)
            while f"{new}~{n}" in out:
                n += 1
            suffixes[new] = n + 1
            new = f"{new}~{n}"
        out[new] = v
    return out


def _value_span(m: Any) -> tuple[int, int]:
    """The part of a custom detector's match to mask: group 'value' if it has one."""
    groups = getattr(getattr(m, "re", None), "groupindex", {})
    if "value" in groups and m.group("value") is not None:
        return m.span("value")
    return m.span()


def _compile_custom(name: str, pattern: Any) -> Any:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"[mask.detectors] {name!r}: a detector name is lowercase letters, digits and _"
        )
    if name in BUILTIN_DETECTORS or name == _ERROR:
        raise ValueError(f"[mask.detectors] {name!r} is a built-in detector name")
    if not isinstance(pattern, str):
        return pattern  # a compiled pattern, or anything with finditer()
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(f"[mask.detectors] {name!r}: invalid regex: {error}") from None


def _str_list(table: Mapping[str, Any], name: str) -> list[str]:
    value = table.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"[mask] {name} must be a list of strings")
    return value


def _raw_field_names(fields: frozenset[str], aliases: Mapping[str, Iterable[str]]) -> list[str]:
    """Normalised names that announce a field in a raw line; for a dotted alias, its last part
    (``user.id`` arrives as ``{"user": {"id": ...}}``)."""
    names = set()
    for field in fields:
        for name in (field, *aliases.get(field, ())):
            names.add(normalise_key(name.rsplit(".", 1)[-1]))
    return sorted(names)


def _dump_sorted(value: Any) -> str:
    """A dict or list as the text it is pseudonymised as: compact JSON, keys sorted at every
    level, as orjson writes it."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except (TypeError, orjson.JSONEncodeError):
        # What orjson refuses (an int beyond 64 bits, nesting beyond 255 levels) is written the
        # same way here, ints with all their digits. Not repr(): its quotes and True/None are
        # not JSON, and it escapes the code points Python's Unicode database has not assigned
        # (U+18D09 in 3.11), which each Python version assigns more of, so a pseudonym would
        # change with the Python version and the native masker (src/mask/pyvalue.rs) could not
        # give the same one.
        return _dump_sorted_slowly(value)


def _dump_sorted_slowly(value: Any) -> str:
    # A loop, not recursion: the value may nest deeper than Python's stack allows.
    out: list[str] = []
    todo: list[Any] = [value]  # values, and text to write as 1-tuples (JSON has no tuples)
    while todo:
        item = todo.pop()
        cls = type(item)
        if cls is tuple:
            out.append(item[0])
        elif cls is dict:
            # Pushed last first: "{", then each sorted key with its value, then "}".
            pairs = sorted(item.items(), key=lambda pair: pair[0])
            todo.append(("}",))
            for i in range(len(pairs) - 1, -1, -1):
                key, v = pairs[i]
                todo += [v, (("," if i else "") + orjson.dumps(key).decode() + ":",)]
            todo.append(("{",))
        elif cls is list:
            todo.append(("]",))
            for i in range(len(item) - 1, -1, -1):
                todo += [item[i], ("," if i else "",)]
            todo.append(("[",))
        elif cls is int:
            out.append(str(item))
        else:
            out.append(orjson.dumps(item).decode())
    return "".join(out)


def _canonical(detector: str, value: str) -> str:
    """The form of a value that is pseudonymised, so one address/number gets one pseudonym."""
    if detector == "email":
        return value.lower().replace("%40", "@")
    if detector in ("card", "phone", "ssn"):
        return _NOT_DIGIT.sub("", value)
    if detector == "ipv6":
        try:
            return str(ipaddress.IPv6Address(value))
        except ValueError:
            return value
    return value
