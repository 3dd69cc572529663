"""Rows out in the format asked for: `--format table|json|ndjson|csv`, one vocabulary.

`render` writes rows (a polars DataFrame or dicts) as a table that fits (logkit/output/tables.py),
JSON, NDJSON or CSV; `render_json` writes one value as JSON. On a terminal every format is
made inert (logkit/output/text.py); to a pipe or a file machine formats are exact.
"""

from __future__ import annotations

import csv
import functools
import io
import sys
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

import click
import orjson

from .tables import Table, layout, notices, rows_of, wrap
from .terminal import emit, page, terminal_width
from .text import csv_safe, escape_control, for_terminal, is_terminal, to_json, write

# Every --format value logkit knows: one vocabulary across commands, a name for each form.
# A command takes those it can write (logkit/commands/options.py): rows go out as a table,
# json, ndjson or csv (`render`), what a change did as text or json, a postmortem as html or md.
FORMATS = ("table", "text", "json", "ndjson", "csv", "html", "md")
ROW_FORMATS = ("table", "json", "ndjson", "csv")
SUMMARY_FORMATS = ("text", "json")
REPORT_FORMATS = ("html", "md")


def default_format() -> str:
    return "table" if sys.stdout.isatty() else "ndjson"


def render(data: Table, fmt: str, *, out: TextIO | None = None, notice: str | None = None) -> None:
    """Write rows (a DataFrame or dicts) to `out` (stdout) in the chosen format; on a terminal,
    made inert (see `for_terminal`). A limit that kept rows back is announced: under the
    table, or on stderr beside a machine format."""
    out = out or sys.stdout
    terminal = is_terminal(out)
    columns, rows = rows_of(data)
    buf = io.StringIO()
    if fmt in ("json", "ndjson"):
        inert = functools.partial(for_terminal, json=True) if terminal else _same
        if fmt == "json":
            buf.write(inert(to_json(rows, orjson.OPT_INDENT_2)) + "\n")
        else:
            for row in rows:
                buf.write(inert(to_json(row)) + "\n")
    elif fmt == "csv":
        # Cell by cell, not the whole text: a CSV line ends in \r\n, and a quoted cell may
        # hold a newline or a tab.
        cell = escape_control if terminal else _same
        writer = csv.writer(buf)
        writer.writerow([cell(c) for c in columns])
        for row in rows:
            writer.writerow([csv_safe(_csv_value(row.get(c), cell)) for c in columns])
    else:
        if rows:
            shaped = layout(columns, rows)
            shaped.lines[0] = click.style(shaped.lines[0], bold=True)
            buf.write("\n".join(shaped.lines) + "\n")
            for said in notices(data, shaped.hidden, notice):
                for line in wrap(f"({said})", terminal_width()):
                    buf.write(click.style(line, dim=True) + "\n")
        else:
            buf.write("(no rows)\n")
    if fmt != "table":
        for said in notices(data, notice=notice):
            click.echo(f"note: {said}", err=True)
    if fmt == "table":
        emit(buf.getvalue(), out=out)
    elif out is sys.stdout and terminal and page(buf.getvalue()):
        pass
    else:
        out.write(buf.getvalue())


def _same(text: str) -> str:
    return text


def _csv_value(value: object, cell: Callable[[str], str] = _same) -> object:
    if isinstance(value, dict | list):
        return cell(to_json(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return cell(value)
    return "" if value is None else value


def render_json(value: object, *, out: TextIO | None = None) -> None:
    write(to_json(value, orjson.OPT_INDENT_2) + "\n", out=out, json=True)
