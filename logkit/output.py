"""One output layer for every reading command: `--format table|json|ndjson|csv`.

Log content is untrusted, so rendering is defensive: on a terminal, control characters and ANSI
escapes in any value are shown escaped (a log line must not be able to move the cursor or
retitle the window), and CSV cells that a spreadsheet would run as a formula (`=`, `+`, `-`,
`@` first) are prefixed with a quote.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

import click
import orjson

FORMATS = ("table", "json", "ndjson", "csv")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def default_format() -> str:
    return "table" if sys.stdout.isatty() else "ndjson"


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--format` to a command (table on a terminal, ndjson when piped)."""

    @click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help="Output format (default: table on a terminal, ndjson when piped).",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, fmt: str | None, **kwargs: Any) -> Any:
        return func(*args, fmt=fmt or default_format(), **kwargs)

    return wrapper


def escape_control(text: str) -> str:
    """Show control characters as escapes: `\\x1b[31m` stays visible, inert text."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict | list):
        value = orjson.dumps(value).decode()
    return escape_control(str(value)).replace("\n", "\\n").replace("\t", "\\t")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def rows_of(data: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows of a polars DataFrame or a sequence of dicts."""
    if hasattr(data, "to_dicts"):
        return list(data.columns), data.to_dicts()
    rows = list(data)
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns, rows


def table(columns: Sequence[str], rows: Iterable[dict[str, Any]], max_width: int = 80) -> str:
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [
        min(max_width, max([len(c)] + [len(r[i]) for r in cells])) for i, c in enumerate(columns)
    ]

    def fit(text: str, width: int) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    lines = [
        "  ".join(fit(c, w).ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(fit(v, w).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip()
        for r in cells
    ]
    return "\n".join(lines)


def render(data: Any, fmt: str, *, out: Any = None) -> None:
    """Write rows (a DataFrame or dicts) to `out` (stdout) in the chosen format."""
    out = out or click.get_text_stream("stdout")
    columns, rows = rows_of(data)
    if fmt == "json":
        out.write(orjson.dumps(rows, default=_json_default, option=orjson.OPT_INDENT_2).decode())
        out.write("\n")
    elif fmt == "ndjson":
        for row in rows:
            out.write(orjson.dumps(row, default=_json_default).decode() + "\n")
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_safe(_csv_value(row.get(c))) for c in columns])
        out.write(buf.getvalue())
    else:
        out.write(table(columns, rows) + "\n" if rows else "(no rows)\n")


def _csv_value(value: Any) -> Any:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else value


def render_json(value: Any, *, out: Any = None) -> None:
    out = out or click.get_text_stream("stdout")
    out.write(orjson.dumps(value, default=_json_default, option=orjson.OPT_INDENT_2).decode())
    out.write("\n")
