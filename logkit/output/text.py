"""Values as text people can read safely: control characters escaped, widths counted.

Log content is untrusted, so rendering is defensive: control characters and ANSI escapes in
any value are shown escaped wherever a person reads them (a log line must not be able to clear
the screen, move the cursor, retitle the window or plant an OSC-8 link), and CSV cells that a
spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) are prefixed with a quote.
`for_terminal` decides, by `isatty`, what reaches a terminal; machine formats written to a
pipe or a file are left exact.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from datetime import date, datetime
from typing import TextIO

import orjson

from ..schema import JsonText

# str subclasses (JsonText) go to json_default, which writes a JSON column as its JSON.
# Non-string keys: DuckDB's MAPs may have integer (or date...) keys, written as strings.
JSON_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_NON_STR_KEYS
# orjson's integers: an int outside this range it refuses (its error, not `default`'s).
_INT_RANGE = range(-(2**63), 2**64)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_control(text: str) -> str:
    """Show control characters as escapes: `\\x1b[31m` stays visible, inert text.

    C0 but tab and newline, DEL, C1 (U+0080-U+009F: U+009B is a CSI on its own), and the
    line separators and bidirectional overrides that make text read other than it is.
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def for_terminal(text: str, *, json: bool = False) -> str:
    """`text` made inert for a terminal. For JSON (`json=True`) as ``\\u`` escapes, so it stays
    valid JSON with the same values: orjson already escapes C0, and the rest (DEL, C1, U+2028...)
    only occurs inside strings."""
    if json:
        return _CONTROL.sub(_json_escape, text)
    return escape_control(text)


def is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def write(text: str, *, out: TextIO | None = None, json: bool = False) -> None:
    """Write `text` to `out` (stdout): made inert if `out` is a terminal, else exact."""
    out = out or sys.stdout
    out.write(for_terminal(text, json=json) if is_terminal(out) else text)


def csv_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, float):
        # Whole numbers (lags in seconds, sums) in full rather than as 1.8478e+06.
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    if isinstance(value, dict | list):
        value = to_json(value)
    return escape_control(str(value)).replace("\n", "\\n").replace("\t", "\\t")


def to_json(value: object, option: int = 0) -> str:
    """`value` as JSON (`json_default` for what JSON has no type for). Integers beyond 64 bits,
    which orjson refuses (DuckDB's HUGEINT: `sum(hash(...))`), are written exactly, and map
    keys of any type as strings."""
    try:
        return orjson.dumps(value, default=json_default, option=JSON_OPTIONS | option).decode()
    except TypeError:
        pass  # a value orjson refuses before asking `default`: made writable, then written
    return orjson.dumps(_exact(value), default=json_default, option=JSON_OPTIONS | option).decode()


def _exact(value: object) -> object:
    """`value` with its integers beyond orjson's range as JSON numbers it writes as they are,
    and its map keys as strings (a polars frame's HUGEINT key is a Decimal)."""
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT_RANGE:
        return orjson.Fragment(str(value))
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else str(k)): _exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(v) for v in value]
    return value


def json_default(value: object) -> object:
    if isinstance(value, JsonText):  # written as the JSON it holds
        return orjson.Fragment(str(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide (CJK) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(_char_width(c) for c in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cut(text: str, width: int) -> str:
    """`text` in at most `width` columns, an ellipsis marking a cut."""
    if display_width(text) <= width:
        return text
    if text.isascii():
        return text[: max(0, width - 1)] + "…"
    out, used = [], 0
    for char in text:
        w = _char_width(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"


def pad(text: str, width: int, right: bool) -> str:
    space = " " * max(0, width - display_width(text))
    return space + text if right else text + space


def format_ms(ms: float | None) -> str:
    """A duration for people: `0.4 ms`, `12 ms`, `1.52 s`, `2m 05.0s`, `3h 07m`, `2d 04h 00m`."""
    if ms is None:
        return ""
    if ms == 0:
        return "0 ms"
    if abs(ms) < 10:
        return f"{ms:.1f} ms"
    if abs(ms) < 1000:
        return f"{ms:.0f} ms"
    if abs(ms) < 60_000:
        return f"{ms / 1000:.2f} s"
    if abs(ms) < 3_600_000:
        minutes, rest = divmod(ms, 60_000)
        return f"{int(minutes)}m {rest / 1000:04.1f}s"
    minutes = int(ms // 60_000)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h {minutes:02d}m"
