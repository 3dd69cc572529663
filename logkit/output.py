"""One output layer for every reading command: `--format table|json|ndjson|csv`.

Log content is untrusted, so rendering is defensive: control characters and ANSI escapes in
any value are shown escaped wherever a person reads them (a log line must not be able to clear
the screen, move the cursor, retitle the window or plant an OSC-8 link), and CSV cells that a
spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) are prefixed with a quote.

What reaches a terminal goes through `for_terminal` (via `write`, `render`, `render_json`):
every format, json, ndjson and csv included. Tables and text meant for people (the trace view,
summaries, error messages) are escaped wherever they go. Machine formats written to a pipe or a
file are left exact: the escaping is decided by `isatty`, in this one module.
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


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def write(text: str, *, out: Any = None, json: bool = False) -> None:
    """Write `text` to `out` (stdout): made inert if `out` is a terminal, else exact."""
    out = out or sys.stdout
    out.write(for_terminal(text, json=json) if is_terminal(out) else text)


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
        # Whole numbers (lags in seconds, sums) in full rather than as 1.8478e+06.
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
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
    columns = [_cell(c) for c in columns]  # names may come from SQL or attrs
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
    """Write rows (a DataFrame or dicts) to `out` (stdout) in the chosen format; on a terminal,
    made inert (see `for_terminal`)."""
    out = out or sys.stdout
    terminal = is_terminal(out)
    columns, rows = rows_of(data)
    if fmt in ("json", "ndjson"):
        inert = functools.partial(for_terminal, json=True) if terminal else _same
        if fmt == "json":
            text = orjson.dumps(rows, default=_json_default, option=orjson.OPT_INDENT_2).decode()
            out.write(inert(text) + "\n")
        else:
            for row in rows:
                out.write(inert(orjson.dumps(row, default=_json_default).decode()) + "\n")
    elif fmt == "csv":
        # Cell by cell, not the whole text: a CSV line ends in \r\n, and a quoted cell may
        # hold a newline or a tab.
        cell = escape_control if terminal else _same
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow([cell(c) for c in columns])
        for row in rows:
            writer.writerow([csv_safe(_csv_value(row.get(c), cell)) for c in columns])
        out.write(buf.getvalue())
    else:
        out.write(table(columns, rows) + "\n" if rows else "(no rows)\n")


def _same(text: str) -> str:
    return text


def _csv_value(value: Any, cell: Callable[[str], str] = _same) -> Any:
    if isinstance(value, dict | list):
        return cell(orjson.dumps(value).decode())
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return cell(value)
    return "" if value is None else value


def render_json(value: Any, *, out: Any = None) -> None:
    text = orjson.dumps(value, default=_json_default, option=orjson.OPT_INDENT_2).decode()
    write(text + "\n", out=out, json=True)


# -- trace: waterfall, events, summary -----------------------------------------------------

BAR_WIDTH = 40
_SEEN, _REPORTED = "█", "░"


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


def waterfall_bar(
    first: float | None,
    last: float | None,
    reported: float | None,
    total: float,
    width: int = BAR_WIDTH,
) -> str:
    """`█` where a service was seen in the logs, `░` for the time its reported duration
    says it was busy before its last event."""
    if first is None or last is None:
        return " " * width

    def col(ms: float) -> int:
        return 0 if total <= 0 else max(0, min(width - 1, round(ms / total * (width - 1))))

    start, end = col(first), col(last)
    busy = col(max(0.0, last - reported)) if reported else start
    busy = min(busy, start)
    before, after = " " * busy, " " * (width - 1 - end)
    return before + _REPORTED * (start - busy) + _SEEN * (end - start + 1) + after


def _offset(ms: float | None) -> str:
    return "" if ms is None else "+" + format_ms(ms)


def trace_lines(report: Any) -> list[str]:
    """The table form of a `TraceReport`: waterfall, events (first error marked `>>`),
    summary. Lines may carry click styles; click.echo drops them off a terminal."""
    summary = report.summary()
    total = summary["total_ms"]
    start = summary["start"]
    lines = [
        click.style(f"trace {escape_control(report.trace_id)}", bold=True)
        + (f"  started {_cell(start)}" if start else "")
    ]
    waterfall = [
        {
            "service": row["service"] or "(none)",
            "first": _offset(row["first_ms"]),
            "last": _offset(row["last_ms"]),
            "events": row["events"],
            "errors": row["errors"] or "",
            "reported": format_ms(row["reported_ms"]),
            f"0 … {format_ms(total)}": "|"
            + waterfall_bar(row["first_ms"], row["last_ms"], row["reported_ms"], total)
            + "|",
        }
        for row in report.waterfall()
    ]
    lines += ["", *table(list(waterfall[0]), waterfall).splitlines()] if waterfall else []
    lines.append(f"{_SEEN} seen in the logs   {_REPORTED} busy, by its reported duration")

    events = [
        {
            "offset": _offset(e["offset_ms"]),
            "service": e["service"],
            "level": e["level"],
            "message": e["message"],
            "duration": format_ms(e["duration_ms"]),
            "status": e["status_code"],
            "error": e["error_type"],
        }
        for e in report.events
    ]
    columns = ["offset", "service", "level", "message", "duration", "status"]
    if any(e["error"] for e in events):
        columns.append("error")
    first_error = report.first_error
    rendered = table(columns, events, max_width=60).splitlines()
    lines.append("")
    for number, line in enumerate(rendered):
        index = number - 2  # after the header and its rule
        if index == first_error:
            lines.append(click.style(">> " + line, fg="red", bold=True))
        elif index >= 0 and events[index]["level"] in ("ERROR", "CRITICAL"):
            lines.append(click.style("   " + line, fg="red"))
        elif index >= 0 and events[index]["level"] == "WARNING":
            lines.append(click.style("   " + line, fg="yellow"))
        else:
            lines.append("   " + line)

    parts = [
        f"{summary['services']} service{'s' * (summary['services'] != 1)}",
        f"{summary['events']} event{'s' * (summary['events'] != 1)}",
        format_ms(total),
    ]
    status = f" (status {summary['status_code']})" if summary["status_code"] else ""
    error = summary["first_error"]
    if error is None:
        outcome = click.style("ok", fg="green") + status
    else:
        what = error["error_type"] or error["level"] or "error"
        outcome = (
            click.style("ERROR", fg="red", bold=True)
            + f": {_cell(what)} in {_cell(error['service'] or '(none)')}"
            + f" at {_offset(error['offset_ms'])}: {_cell(error['message'])}{status}"
        )
    lines += ["", " · ".join(parts) + " · outcome: " + outcome]
    return lines


def render_trace(report: Any, fmt: str, *, out: Any = None) -> None:
    """A trace as text (table) or as its full events, attrs included (json/ndjson/csv)."""
    if fmt != "table":
        render(report.events, fmt, out=out)
        return
    for line in trace_lines(report):
        click.echo(line, file=out)
