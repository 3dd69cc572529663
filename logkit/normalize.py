"""Turn one parsed JSON log record into logkit's canonical event.

Every log line passes through `Normalizer.__call__`, so this module is written for speed first:

* All alias knowledge is compiled once, in `Normalizer.__init__`, into a dict from record key to
  the fields it can feed (with, for dotted aliases such as ``usage.prompt_tokens``, the path
  below that key). Each field ranks its aliases in the order of the lists below, user aliases
  first; the best-ranked alias whose value converts wins, and a value that does not convert
  (``status: "ok"``, a dict as ``trace_id``) is passed over and stays in ``attrs``.
* Lines from one source nearly always carry the same keys in the same order, so the work of
  matching keys to aliases and ranking them is done once per key tuple (a "shape") and cached
  as a plan: for each field, the steps that can fill it, best first. A record then costs one
  tuple and one dict lookup plus a short loop over the fields it has.
* Timestamps go through `datetime.fromisoformat`, which in Python 3.11 accepts ``Z``, ``+0000``,
  ``+05:30``, a space separator, a comma before the fraction (logging's asctime) and truncates
  fractions past microseconds. Regexes are used only for duration strings such as ``"1m2.5s"``.
* ``attrs`` is the record itself with the consumed keys removed: the caller's top-level dict is
  mutated and reused rather than copied. Nested dicts are never mutated; when a dotted alias
  consumes a leaf, the dicts on its path are copied first.

Nothing here raises on a record: a value that cannot be a canonical column stays in ``attrs``
under its original key, so a bad record is still an event.

Values are checked with ``type(x) is int`` rather than ``isinstance``: records come from orjson,
which only builds exact builtin types, and it keeps ``True`` from passing as a status code.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = [
    "ALIAS_GROUPS",
    "BUILTIN_ALIASES",
    "CANONICAL_FIELDS",
    "Normalizer",
    "normalize_level",
    "parse_ts",
]

#: Columns of the canonical event, in store order; every event also carries ``attrs``.
CANONICAL_FIELDS: tuple[str, ...] = (
    "ts",
    "level",
    "service",
    "logger",
    "message",
    "trace_id",
    "span_id",
    "request_id",
    "user_id",
    "job_id",
    "batch_id",
    "duration_ms",
    "status_code",
    "error_type",
    "http_method",
    "path",
    "job_type",
    "model",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "cache_hit",
    "host",
)

_INT64_MAX = 2**63 - 1

# --- timestamps --------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
# The range datetime can represent (years 1..9999); anything outside is not a real log time.
_MIN_TS = -62_135_596_800_000_000
_MAX_TS = 253_402_300_799_999_999


def parse_ts(value: Any) -> int | None:
    """Return `value` as microseconds since the Unix epoch (UTC), or None if it is not a time.

    Accepts RFC 3339 / ISO 8601 strings (naive means UTC; ``Z``, ``+0000`` and ``+05:30`` offsets;
    any fraction, truncated to microseconds), logging's asctime ``2026-11-22 10:01:02,123``, and
    epoch numbers or numeric strings told apart by magnitude: below 1e11 seconds, below 1e14
    milliseconds, below 1e17 microseconds, otherwise nanoseconds.

    >>> parse_ts("2026-11-22T10:01:02.5Z")
    1795341662500000
    >>> parse_ts(1795341662500)
    1795341662500000
    """
    cls = type(value)
    if cls is str:
        # Dates ("2026-...") first: they are the common case, and fromisoformat would also read a
        # digits-only epoch string as a basic-format date, so numbers must not get there at all.
        if len(value) >= 10 and value[4] == "-":
            try:
                dt = _fromisoformat(value)
            except ValueError:
                return _ts_from_text(value)
            # _ts_from_datetime, inlined: this is the most common path of the hottest field.
            delta = dt - (_EPOCH_NAIVE if dt.tzinfo is None else _EPOCH)
            us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
            return us if _MIN_TS <= us <= _MAX_TS else None
        return _ts_from_text(value)
    if cls is int:
        return _ts_from_int(value)
    if cls is float:
        return _ts_from_float(value)
    return None


_fromisoformat = datetime.fromisoformat


def _ts_from_datetime(dt: datetime) -> int | None:
    # Exact integer arithmetic: dt.timestamp() goes through a float, and through local time when
    # dt is naive.
    delta = dt - (_EPOCH_NAIVE if dt.tzinfo is None else _EPOCH)
    us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return us if _MIN_TS <= us <= _MAX_TS else None


def _ts_from_int(n: int) -> int | None:
    size = abs(n)
    if size < 100_000_000_000:
        us = n * 1_000_000
    elif size < 100_000_000_000_000:
        us = n * 1_000
    elif size < 100_000_000_000_000_000:
        us = n
    else:
        # Floor, like truncating the digits of a fraction: .9999995 s is still the µs before.
        us = n // 1_000
    return us if _MIN_TS <= us <= _MAX_TS else None


def _ts_from_float(f: float) -> int | None:
    if not math.isfinite(f):
        return None
    size = abs(f)
    # Round rather than truncate: 1795341662.123456 is stored as ...123455999 in binary.
    if size < 1e11:
        us = round(f * 1e6)
    elif size < 1e14:
        us = round(f * 1e3)
    elif size < 1e17:
        us = round(f)
    else:
        us = round(f / 1e3)
    return us if _MIN_TS <= us <= _MAX_TS else None


def _ts_from_text(s: str) -> int | None:
    """The slow path of `parse_ts` for strings: epoch numbers and ISO forms that need tidying."""
    try:
        return _ts_from_int(int(s))
    except ValueError:
        pass
    try:
        return _ts_from_float(float(s))
    except ValueError:
        pass
    dt = _iso_fallback(s)
    return None if dt is None else _ts_from_datetime(dt)


def _iso_fallback(s: str) -> datetime | None:
    """Second chance for ISO strings fromisoformat rejects: padding, 't'/'z', a ' UTC' suffix."""
    text = s.strip().upper()
    if text.endswith("UTC"):
        text = text[:-3].rstrip() + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


# --- levels ------------------------------------------------------------------------------------

_LEVEL_WORDS = {
    # silly and http: winston's npm levels.
    "DEBUG": ("debug", "trace", "verbose", "silly"),
    "INFO": ("info", "information", "informational", "notice", "http"),
    "WARNING": ("warn", "warning"),
    "ERROR": ("err", "error"),
    "CRITICAL": ("fatal", "critical", "crit", "panic", "emerg", "emergency", "alert"),
}
_LEVEL_BY_WORD = {word: level for level, words in _LEVEL_WORDS.items() for word in words}
# The exact spellings seen in practice, so the common case is one dict lookup with no .lower().
_LEVEL_BY_SPELLING = {
    spelling: level
    for word, level in _LEVEL_BY_WORD.items()
    for spelling in (word, word.upper(), word.title())
}
_LEVEL_BY_NUMBER = {
    # syslog severities
    0: "CRITICAL",
    1: "CRITICAL",
    2: "CRITICAL",
    3: "ERROR",
    4: "WARNING",
    5: "INFO",
    6: "INFO",
    7: "DEBUG",
    # bunyan / pino
    10: "DEBUG",
    20: "DEBUG",
    30: "INFO",
    40: "WARNING",
    50: "ERROR",
    60: "CRITICAL",
}


def normalize_level(value: Any) -> str | None:
    """Return DEBUG, INFO, WARNING, ERROR or CRITICAL for a level spelling, or None.

    Words are matched case-insensitively (``warn``, ``Information``, ``FATAL``); numbers are
    syslog severities 0-7 or bunyan/pino levels 10-60, as ints or numeric strings.

    >>> normalize_level("warn"), normalize_level(50), normalize_level("3")
    ('WARNING', 'ERROR', 'ERROR')
    """
    cls = type(value)
    if cls is str:
        level = _LEVEL_BY_SPELLING.get(value)
        if level is not None:
            return level
        word = value.strip().lower()
        level = _LEVEL_BY_WORD.get(word)
        if level is None and 0 < len(word) <= 2 and word.isascii() and word.isdigit():
            level = _LEVEL_BY_NUMBER.get(int(word))
        return level
    if cls is int:
        return _LEVEL_BY_NUMBER.get(value)
    if cls is float and value.is_integer():
        return _LEVEL_BY_NUMBER.get(int(value))
    return None


# --- value conversions: each returns the canonical value or None, and never raises ------------


def _message(value: Any) -> str | None:
    return value if type(value) is str else None


def _text(value: Any) -> str | None:
    # An empty service or model name says nothing; it stays in attrs as it was.
    return value if type(value) is str and value else None


def _ident(value: Any) -> str | None:
    cls = type(value)
    if cls is str:
        return value or None
    if cls is int:
        # Datadog trace ids are unsigned 64-bit ints; as text they fit any size.
        return str(value)
    return None


_HEX = frozenset("0123456789abcdefABCDEF-")


def trace_ident(value: Any) -> str | None:
    """A trace or span id: an id of zeros only is the W3C and OTel way of saying "none"."""
    ident = _ident(value)
    return ident if ident is not None and ident.strip("0-") else None


def _epoch(unit: str) -> Callable[[Any], int | None]:
    """A converter to microseconds for a time given as an epoch number in `unit`, whatever its
    size (`parse_ts` tells units apart by magnitude, which a time near 1970 defeats); a date
    string is still read as one."""
    multiplier, divisor = {"s": (1_000_000, 1), "ms": (1_000, 1), "us": (1, 1), "ns": (1, 1_000)}[
        unit
    ]

    def convert(value: Any) -> int | None:
        cls = type(value)
        if cls is str:
            if len(value) >= 10 and value[4] == "-":
                return parse_ts(value)
            number = _number(value)
            if number is None:
                return None
            if value.isascii() and value.isdigit():
                value, cls = int(value), int
            else:
                value, cls = number, float
        if cls is int:
            us = value * multiplier // divisor
        elif cls is float and math.isfinite(value):
            us = round(value * multiplier / divisor)
        else:
            return None
        return us if _MIN_TS <= us <= _MAX_TS else None

    return convert


def _traceparent(value: Any) -> tuple[str, str] | None:
    """Split a W3C ``traceparent`` (``00-<32 hex>-<16 hex>-<2 hex>``) into trace and span ids."""
    if type(value) is not str or len(value) != 55:
        return None
    parts = value.split("-")
    if [len(part) for part in parts] != [2, 32, 16, 2] or not _HEX.issuperset(value):
        return None
    return parts[1], parts[2]


def _traceparent_trace(value: Any) -> str | None:
    parts = _traceparent(value)
    return parts[0] if parts and parts[0].strip("0") else None


def _traceparent_span(value: Any) -> str | None:
    parts = _traceparent(value)
    return parts[1] if parts and parts[1].strip("0") else None


def _count(value: Any) -> int | None:
    cls = type(value)
    if cls is int:
        return value if 0 <= value <= _INT64_MAX else None
    if cls is float:
        return int(value) if value.is_integer() and 0 <= value <= _INT64_MAX else None
    if cls is str and 0 < len(value) <= 19 and value.isascii() and value.isdigit():
        number = int(value)
        return number if number <= _INT64_MAX else None
    return None


def _status(value: Any) -> int | None:
    cls = type(value)
    if cls is int:
        return value if 100 <= value <= 599 else None
    if cls is str:
        # "ok", "failed", "200 OK": words stay in attrs.
        return (
            int(value)
            if len(value) == 3 and value.isascii() and value.isdigit() and value[0] in "12345"
            else None
        )
    if cls is float and value.is_integer() and 100 <= value <= 599:
        return int(value)
    return None


def _number(value: Any) -> float | None:
    """A finite float from an int, float or numeric string (not a bool), else None."""
    cls = type(value)
    if cls is float:
        return value if math.isfinite(value) else None
    if cls is int:
        return float(value) if -_INT64_MAX <= value <= _INT64_MAX else None
    if cls is str and len(value) <= 64:
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _cost(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number >= 0 else None


# Milliseconds per unit as (multiply by, divide by): dividing by an exact 1e6 keeps
# 1727390100 ns at 1727.3901 ms, where multiplying by the inexact 1e-6 gives 1727.3900999999998.
_DURATION_UNITS = {
    "ns": (1.0, 1e6),
    "us": (1.0, 1e3),
    "µs": (1.0, 1e3),  # micro sign
    "μs": (1.0, 1e3),  # Greek mu, which Go prints
    "ms": (1.0, 1.0),
    "s": (1e3, 1.0),
    "sec": (1e3, 1.0),
    "m": (60e3, 1.0),
    "min": (60e3, 1.0),
    "h": (3600e3, 1.0),
}
_DURATION_PART = r"(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|µs|μs|ms|sec|s|min|m|h)"
_DURATION_STRING = re.compile(rf"(?:{_DURATION_PART}\s*)+")
_DURATION_PARTS = re.compile(_DURATION_PART)


def _duration(unit: str) -> Callable[[Any], float | None]:
    """A converter to milliseconds for an alias whose unitless numbers are in `unit`."""
    multiplier, divisor = _DURATION_UNITS[unit]

    def convert(value: Any) -> float | None:
        cls = type(value)
        if cls is float or cls is int:
            number = _number(value)
        elif cls is str:
            number = _number(value)
            if number is None:
                return _duration_string(value)
        else:
            return None
        if number is None or number < 0:
            return None
        number = number * multiplier / divisor
        # 1e308 seconds is a finite number but not a finite number of milliseconds.
        return number if number != math.inf else None

    return convert


def _duration_string(value: str) -> float | None:
    """Milliseconds in ``"12ms"``, ``"1.5s"``, ``"250µs"``, ``"3m"`` or Go's ``"1m2.5s"``."""
    text = value.strip()
    if len(text) > 64 or not _DURATION_STRING.fullmatch(text):
        return None
    total = 0.0
    for number, unit in _DURATION_PARTS.findall(text):
        multiplier, divisor = _DURATION_UNITS[unit]
        total += float(number) * multiplier / divisor
    return total if math.isfinite(total) else None


def _http_method(value: Any) -> str | None:
    # "svc.Method" in gRPC logs is not an HTTP verb; leave it in attrs.
    if type(value) is str and 0 < len(value) <= 16 and value.isascii() and value.isalpha():
        return value.upper()
    return None


def _path(value: Any) -> str | None:
    if type(value) is not str or not value:
        return None
    if "?" not in value and "#" not in value and "://" not in value:
        return value
    if "://" in value:
        # A full URL: the path starts at the first slash after the host.
        start = value.find("/", value.index("://") + 3)
        value = value[start:] if start >= 0 else "/"
    end = len(value)
    for mark in "?#":
        found = value.find(mark, 0, end)
        if found >= 0:
            end = found
    # "?page=2" alone has no path; it stays in attrs.
    return value[:end] or None


_CACHE_WORDS = {"hit": True, "miss": False, "true": True, "false": False, "1": True, "0": False}


def _cache_hit(value: Any) -> bool | None:
    cls = type(value)
    if cls is bool:
        return value
    if cls is str:
        return _CACHE_WORDS.get(value.lower()) if len(value) <= 5 else None
    if cls is int and (value == 0 or value == 1):
        return value == 1
    return None


# --- aliases -----------------------------------------------------------------------------------

Converter = Callable[[Any], Any]
# A group is what a `[aliases]` entry in logkit.toml can name: a canonical field, or a field with
# a unit (duration_s) or a composite header (traceparent). Each group feeds one or more fields;
# `keep` means the original value also stays in attrs whenever it differs from the canonical one.
ALIAS_GROUPS: dict[str, tuple[tuple[str, Converter, bool], ...]] = {
    "ts": (("ts", parse_ts, False),),
    # Epoch numbers in a known unit (zap's float seconds, journald's µs strings).
    "ts_s": (("ts", _epoch("s"), False),),
    "ts_ms": (("ts", _epoch("ms"), False),),
    "ts_us": (("ts", _epoch("us"), False),),
    "ts_ns": (("ts", _epoch("ns"), False),),
    "level": (("level", normalize_level, True),),
    "service": (("service", _text, False),),
    "logger": (("logger", _text, False),),
    "message": (("message", _message, False),),
    # Formats swap in trace_ident (all zeros: no id); the generic names pass any string
    # through, which keeps the hottest columns free of a call.
    "trace_id": (("trace_id", _ident, False),),
    "span_id": (("span_id", _ident, False),),
    # Version and flags have no column, so the header itself always stays in attrs.
    "traceparent": (
        ("trace_id", _traceparent_trace, True),
        ("span_id", _traceparent_span, True),
    ),
    "request_id": (("request_id", _ident, False),),
    "user_id": (("user_id", _ident, False),),
    "job_id": (("job_id", _ident, False),),
    "batch_id": (("batch_id", _ident, False),),
    "duration_ms": (("duration_ms", _duration("ms"), False),),
    "duration_s": (("duration_ms", _duration("s"), False),),
    "duration_us": (("duration_ms", _duration("us"), False),),
    "duration_ns": (("duration_ms", _duration("ns"), False),),
    "status_code": (("status_code", _status, False),),
    "error_type": (("error_type", _text, False),),
    "http_method": (("http_method", _http_method, False),),
    "path": (("path", _path, True),),
    "job_type": (("job_type", _text, False),),
    "model": (("model", _text, False),),
    "input_tokens": (("input_tokens", _count, False),),
    "output_tokens": (("output_tokens", _count, False),),
    "cost_usd": (("cost_usd", _cost, False),),
    "cache_hit": (("cache_hit", _cache_hit, False),),
    "host": (("host", _text, False),),
}

#: Built-in aliases as (group, names) pairs, best first: the `generic` format's fields, read from
#: logkit/formats/generic.toml. A dotted name matches both a literal key ("log.level") and the
#: nested value ({"log": {"level": ...}}).
BUILTIN_ALIASES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (group, tuple(names))
    for group, names in tomllib.loads(
        (Path(__file__).parent / "formats" / "generic.toml").read_text(encoding="utf-8")
    )["fields"].items()
)

# Converters that return any non-empty string unchanged: the hot loop does that check inline
# rather than paying for a call on the most common kind of value.
_PASSTHROUGH = frozenset({_text, _ident, _message})

# `keep` for a value that stays in attrs whatever the canonical value (read through a list).
_ALWAYS = 2

# The order fields are filled in, fixed so that a record always gives the same event: the error
# type first, as it may be read (and kept) from text another column consumes (Google Cloud
# appends the traceback to the message).
_PLAN_ORDER = ("error_type", *(f for f in CANONICAL_FIELDS if f != "error_type"))

# One way to fill a field: (key, path below the key or None, converter, keep, passthrough).
_Step = tuple[str, tuple[str, ...] | None, Converter, bool, bool]
# The (field, *step) rows a record shape can use, each field's best first.
_Plan = tuple[tuple[str, str, tuple[str, ...] | None, Converter, bool, bool], ...]
# Records of one source mostly share their keys, so plans are cached per key tuple ("shape").
# The cache is cleared when full: a stream of ever-new shapes costs a plan per record (about
# two normalisations' worth), never unbounded memory.
_MAX_PLANS = 1024


class Normalizer:
    """Map a parsed JSON record to the canonical event dict (see `CANONICAL_FIELDS`).

    `aliases` maps a group name (a canonical field, ``duration_s``/``_us``/``_ns`` or
    ``traceparent``) to extra record keys, tried before the built-in ones; a key named there is
    taken away from any other field's built-in aliases. Raises ConfigError for an unknown group.
    `extra` are a format's own (field, record key, converter, keep) steps, best first (see
    logkit/formats): they rank after `aliases` and before the built-in ones, and claim their
    keys the same way. `late` steps rank after the built-in ones and claim nothing (the
    generic format's last resorts, such as an error type read from a stack trace).

    Calling the normalizer mutates the record it is given: the record, minus the keys that went
    into canonical columns, becomes the event's ``attrs``.

    >>> Normalizer({"trace_id": ["x_trace"]})({"msg": "hi", "x_trace": "abc", "pid": 7})["attrs"]
    {'pid': 7}
    """

    def __init__(
        self,
        aliases: Mapping[str, Iterable[str] | str] | None = None,
        extra: Iterable[tuple[str, str, Converter, bool]] = (),
        late: Iterable[tuple[str, str, Converter, bool]] = (),
    ) -> None:
        # Record key -> every (field, rank, step) it can feed; lower rank is better.
        steps: dict[str, list[tuple[str, int, _Step]]] = {}
        for field, names in _ordered_aliases(aliases or {}, extra, late).items():
            for rank, (name, convert, keep) in enumerate(names):
                passthrough = convert in _PASSTHROUGH
                # A literal "usage.prompt_tokens" key beats the nested form of the same alias.
                step = (name, None, convert, keep, passthrough)
                steps.setdefault(name, []).append((field, 2 * rank, step))
                head, *path = split_path(name)
                if path and head and all(path):
                    # A value inside a list is read but never cut out: the list (a traceback,
                    # say) stays whole in attrs.
                    through_list = any(part.isdigit() for part in path)
                    step = (
                        head,
                        tuple(path),
                        convert,
                        _ALWAYS if through_list else keep,
                        passthrough,
                    )
                    steps.setdefault(head, []).append((field, 2 * rank + 1, step))
        self._steps = {key: tuple(feeds) for key, feeds in steps.items()}
        self._keys = frozenset(self._steps)
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._blank: dict[str, Any] = dict.fromkeys((*CANONICAL_FIELDS, "attrs"))

    def __call__(self, record: dict[str, Any], plan: _Plan | None = None) -> dict[str, Any]:
        """Return the canonical event for `record`; the record itself becomes its ``attrs``.

        `plan` is `plan_for(tuple(record))` when the caller keeps it (logkit/formats does,
        in its own per-shape cache).
        """
        event = self._blank.copy()
        if plan is None:
            shape = tuple(record)
            plan = self._plans.get(shape)
            if plan is None:
                plan = self._plan(shape)
        get = record.get
        nested: list[tuple[str, tuple[str, ...]]] | None = None  # leaves consumed from dicts
        for field, key, path, convert, keep, passthrough in plan:
            if event[field] is not None:
                continue  # a better-ranked step filled it
            # get, not []: a key an earlier field consumed reads as None and is skipped.
            raw = get(key) if path is None else _lookup(get(key), path)
            # Most values are already the string the column wants: skip the call for them.
            value = raw if passthrough and type(raw) is str and raw else convert(raw)
            if value is None:
                continue
            event[field] = value
            if keep is not _ALWAYS and (not keep or value == raw):
                if path is None:
                    del record[key]
                elif nested is None:
                    nested = [(key, path)]
                else:
                    nested.append((key, path))
        if nested:
            _remove_leaves(record, nested)
        event["attrs"] = record
        return event

    def plan_for(self, shape: tuple[str, ...]) -> _Plan:
        """The (cached) plan for records with these keys."""
        plan = self._plans.get(shape)
        return plan if plan is not None else self._plan(shape)

    def _plan(self, shape: tuple[str, ...]) -> _Plan:
        """Work out, for records with these keys, which steps can fill each field, best first."""
        ranked: dict[str, list[tuple[int, _Step]]] = {}
        for key in self._keys.intersection(shape):
            for field, rank, step in self._steps[key]:
                ranked.setdefault(field, []).append((rank, step))
        plan = tuple(
            (field, *step)
            for field in _PLAN_ORDER
            if field in ranked
            for _, step in sorted(ranked[field], key=itemgetter(0))
        )
        if len(self._plans) >= _MAX_PLANS:
            self._plans.clear()
        self._plans[shape] = plan
        return plan


def split_path(name: str) -> list[str]:
    """A dotted field name's steps; a quoted step may hold dots, as OpenTelemetry's attribute
    names do: ``attributes."http.request.method"``."""
    if '"' not in name:
        return name.split(".")
    steps = []
    for quoted, plain in re.findall(r'"([^"]*)"\.?|([^."]+)\.?', name):
        steps.append(quoted or plain)
    return steps


def _lookup(node: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` inside `node`, or None when any step is missing.

    A decimal step indexes a list: structlog's `dict_tracebacks` logs the exception chain as a
    list, raised exception first (`exception.0.exc_type`).
    """
    for name in path:
        if type(node) is dict:
            node = node.get(name)
        elif type(node) is list and name.isdigit() and int(name) < len(node):
            node = node[int(name)]
        else:
            return None
    return node


def field_sources(
    aliases: Mapping[str, Iterable[str] | str] | None, fields: Iterable[str]
) -> dict[str, list[str]]:
    """The record keys each of `fields` may be read from (built-in and configured aliases).

    Fields that are not canonical columns are record keys themselves.
    """
    ordered = _ordered_aliases(aliases or {})
    return {f: [name for name, _, _ in ordered[f]] if f in ordered else [f] for f in fields}


def _ordered_aliases(
    aliases: Mapping[str, Iterable[str] | str],
    extra: Iterable[tuple[str, str, Converter, bool]] = (),
    late: Iterable[tuple[str, str, Converter, bool]] = (),
) -> dict[str, list[tuple[str, Converter, bool]]]:
    """Per canonical field, its (alias, converter, keep) list, best first: user aliases, then a
    format's `extra` steps, then the built-in (generic) aliases."""
    ordered: dict[str, list[tuple[str, Converter, bool]]] = {f: [] for f in CANONICAL_FIELDS}
    claimed: set[str] = set()
    user = []
    for group, names in aliases.items():
        if group not in ALIAS_GROUPS:
            known = ", ".join(sorted(ALIAS_GROUPS))
            raise ConfigError(f"[aliases] has no column {group!r}; use one of: {known}")
        names = (names,) if isinstance(names, str) else tuple(names)
        if not all(isinstance(name, str) and name for name in names):
            raise ConfigError(f"[aliases] {group} must be a list of non-empty field names")
        user.append((group, names))
        claimed.update(names)

    def add(groups: Iterable[tuple[str, Iterable[str]]], from_user: bool) -> None:
        for group, names in groups:
            for field, convert, keep in ALIAS_GROUPS[group]:
                seen = {name for name, _, _ in ordered[field]}
                for name in names:
                    # A key the user named belongs to the user's group alone.
                    if name in seen or (not from_user and name in claimed):
                        continue
                    ordered[field].append((name, convert, keep))
                    seen.add(name)

    add(user, True)
    format_steps = [step for step in extra if step[1] not in claimed]
    for field, name, convert, keep in format_steps:
        if name not in {known for known, _, _ in ordered[field]}:
            ordered[field].append((name, convert, keep))
    claimed.update(name for _, name, _, _ in format_steps)
    add(BUILTIN_ALIASES, False)
    for field, name, convert, keep in late:
        ordered[field].append((name, convert, keep))
    return ordered


def _remove_leaves(record: dict[str, Any], taken: list[tuple[str, tuple[str, ...]]]) -> None:
    """Drop the nested leaves dotted aliases consumed, and the dicts that leaves empty.

    The nested dicts may still be referenced by the caller, so each one that loses a leaf is
    rebuilt (once, however many leaves it loses) rather than edited in place.
    """
    # The consumed paths as a trie: name -> None for a consumed leaf, else the trie below it.
    trie: dict[str, Any] = {}
    for key, path in taken:
        node = trie.setdefault(key, {})
        for name in path[:-1]:
            node = node.setdefault(name, {})
        node[path[-1]] = None
    for key, leaves in trie.items():
        remaining = _without(record[key], leaves)
        if remaining:
            record[key] = remaining
        else:
            del record[key]


def _without(node: dict[str, Any], leaves: dict[str, Any]) -> dict[str, Any]:
    """A copy of `node` without the consumed `leaves` (a trie, see `_remove_leaves`)."""
    kept = {}
    for name, value in node.items():
        if name in leaves:
            below = leaves[name]
            # A consumed leaf is never a dict (no converter takes one), so `below` is the trie
            # for a dict whenever it is not None.
            if below is None:
                continue
            value = _without(value, below)
            if not value:
                continue
        kept[name] = value
    return kept
