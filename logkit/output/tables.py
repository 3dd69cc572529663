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

import contextlib
import csv
import functools
import io
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol, TextIO

import click
import orjson

from .macros import ERROR_LEVELS
from .schema import JsonText

# Every --format value logkit knows: one vocabulary across commands, a name for each form.
# A command takes those it can write (logkit/commands/options.py): rows go out as a table,
# json, ndjson or csv (`render`), what a change did as text or json, a postmortem as html or md.
FORMATS = ("table", "text", "json", "ndjson", "csv", "html", "md")
ROW_FORMATS = ("table", "json", "ndjson", "csv")
SUMMARY_FORMATS = ("text", "json")
REPORT_FORMATS = ("html", "md")
# str subclasses (JsonText) go to _json_default, which writes a JSON column as its JSON.
_JSON_OPTIONS = orjson.OPT_PASSTHROUGH_SUBCLASS
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Frame(Protocol):
    """Rows that know their columns: a polars DataFrame, or `logkit.answers.Rows`."""

    @property
    def columns(self) -> list[str]: ...
    def to_dicts(self) -> list[dict[str, object]]: ...
    def __len__(self) -> int: ...


#: What `render` takes: a frame, or rows as dicts (their keys the columns, in order of first
#: appearance). A cell is whatever DuckDB or the caller put there, told apart by isinstance.
Table = Frame | Sequence[Mapping[str, object]]


class Trace(Protocol):
    """A trace to show: `logkit.answers.TraceReport`, which gives its events, waterfall rows
    and summary as dicts of mixed values read by key (hence `Any` for their values)."""

    @property
    def trace_id(self) -> str: ...
    @property
    def events(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def first_error(self) -> int | None: ...
    def summary(self) -> Mapping[str, Any]: ...
    def waterfall(self) -> Sequence[Mapping[str, Any]]: ...


def default_format() -> str:
    return "table" if sys.stdout.isatty() else "ndjson"


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


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, float):
        # Whole numbers (lags in seconds, sums) in full rather than as 1.8478e+06.
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"
    if isinstance(value, dict | list):
        value = orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS).decode()
    return escape_control(str(value)).replace("\n", "\\n").replace("\t", "\\t")


def _json_default(value: object) -> object:
    if isinstance(value, JsonText):  # written as the JSON it holds
        return orjson.Fragment(str(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def rows_of(data: Table) -> tuple[list[str], Sequence[Mapping[str, object]]]:
    """Columns and rows of a polars DataFrame or a sequence of dicts."""
    if not isinstance(data, Sequence):  # a frame
        return list(data.columns), data.to_dicts()
    rows = list(data)
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns, rows


# -- how people see it: colour, pager, width ------------------------------------------


class Settings:
    """What the global options decide: `--color auto|always|never` and `--no-pager`."""

    color = "auto"
    pager = True


SETTINGS = Settings()


def configure(*, color: str | None = None, pager: bool | None = None) -> None:
    if color is not None:
        SETTINGS.color = color
    if pager is not None:
        SETTINGS.pager = pager


def use_color(out: TextIO) -> bool:
    """Colour when asked (`--color always`), never when told (`--color never`, or `NO_COLOR`
    set, as no-color.org asks), else only on a terminal."""
    if SETTINGS.color != "auto":
        return SETTINGS.color == "always"
    return not os.environ.get("NO_COLOR") and is_terminal(out)


def terminal_size() -> tuple[int, int]:
    """(columns, lines) to fit in: `COLUMNS` and `LINES` if set, else the terminal's, else
    80 x 24 (as for a pipe). shutil.get_terminal_size's rules, without importing shutil
    on `logkit trace`'s path."""
    size = (80, 24)
    with contextlib.suppress(AttributeError, ValueError, OSError):
        columns, lines = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
        if columns > 0 and lines > 0:  # a new pseudo-terminal may say 0 x 0
            size = (columns, lines)
    sizes = []
    for name, fallback in (("COLUMNS", size[0]), ("LINES", size[1])):
        try:
            value = int(os.environ.get(name, ""))
        except ValueError:
            value = 0
        sizes.append(value if value > 0 else fallback)
    return sizes[0], sizes[1]


def terminal_width() -> int:
    """Columns to fit in: `COLUMNS` if set, else the terminal's, else 80 (as for a pipe)."""
    return max(40, terminal_size()[0])


def emit(text: str, *, out: TextIO | None = None) -> None:
    """Write text meant for people (it may carry click styles): styles kept only where colour
    is wanted, and paged when it is longer than the terminal (see `_page`)."""
    out = out or sys.stdout
    if not use_color(out):
        text = click.unstyle(text)
    if out is sys.stdout and _page(text):
        return
    out.write(text)


def _page(text: str) -> bool:
    """Show `text` through a pager when stdout is a terminal and it has more lines than the
    terminal: `$LOGKIT_PAGER`, else `$PAGER`, else `less -FRX` (as git: quit if it fits, keep
    colours, leave the text on screen). False when not paged (the caller writes it)."""
    if not SETTINGS.pager or not is_terminal(sys.stdout):
        return False
    if text.count("\n") < terminal_size()[1]:
        return False
    command = os.environ.get("LOGKIT_PAGER") or os.environ.get("PAGER") or "less -FRX"
    if command.strip() in ("", "cat"):
        return False
    import shlex
    import subprocess

    env = {"LESS": "FRX", "LV": "-c", **os.environ}
    sys.stdout.flush()
    try:
        pager = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, env=env)
    except (OSError, ValueError):  # no such pager: the text goes out as it is
        return False
    assert pager.stdin is not None
    try:
        pager.stdin.write(text.encode("utf-8", "replace"))
        pager.stdin.close()
    except BrokenPipeError:  # quit before the end ('q' in less)
        pass
    while True:
        try:
            pager.wait()
            break
        except KeyboardInterrupt:  # Ctrl-C is the pager's to handle (less stays open)
            continue
    return True


# -- tables that fit -------------------------------------------------------------------

#: Columns shown as ids: cut to their first characters and an ellipsis, which is still a
#: prefix `logkit trace` and `logkit user` accept.
_ID_COLUMNS = {"trace_id", "example_trace", "user_id", "span_id", "request_id"}
_ID_MIN = 9  # 8 characters and "…"
#: Free text: these get what width is left, and are cut last.
_TEXT_COLUMNS = {"message", "example", "description", "activity", "fingerprint", "raw",
                 "error", "first_error", "attrs", "params", "endpoint", "path"}  # fmt: skip
_TEXT_MIN = 24
#: Which columns go first when a table is too wide (lower goes first; default 50; the first
#: column and free text stay).
_PRIORITY = {
    "cache_hits": 10, "max_ms": 12, "end": 14, "first_seen": 16, "output_tokens": 18,
    "input_tokens": 20, "services": 22, "p99_ms": 24, "cache_hit_rate": 26, "events": 45,
    "errors": 46, "status_code": 48, "level": 55, "example_trace": 60, "trace_id": 60,
    "user_id": 30,
    "cost_usd": 40, "p50_ms": 35, "count": 95, "last_seen": 52, "start": 80, "ts": 85,
}  # fmt: skip
_COUNTS = {"count", "events", "errors", "rejects", "lines", "n", "cache_hits", "files", "sources"}
_NO_SERVICE = "(none)"


def _human(name: str, value: object) -> tuple[str, bool]:
    """A table cell for people, and whether it is a number (right-aligned): durations in
    ms/s, rates in %, money in $, big counts in k/M; no service is `(none)` everywhere."""
    key = name.lower()
    if value is None:
        return (_NO_SERVICE if key in ("service", "services") else ""), False
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, datetime):  # every time in logkit is UTC
            return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}", False
        return _cell(value), False
    if key.endswith("_ms") or key == "duration":
        return format_ms(value), True
    if key.endswith("_rate"):
        return f"{value:.1%}", True
    if key.endswith("_usd"):
        return (f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}"), True
    if isinstance(value, int) and (key in _COUNTS or key.endswith(("_tokens", "_count"))):
        return _count(value), True
    return _cell(value), True


_HEADERS = {"status_code": "status", "cost_usd": "cost"}


def _header(name: str) -> str:
    """A column's name in a table: values in ms show their unit, so the name need not."""
    if name in _HEADERS:
        return _HEADERS[name]
    return name[:-3] if name.endswith("_ms") and len(name) > 3 else name


def _count(n: int) -> str:
    if abs(n) < 100_000:
        return f"{n:,}"
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            scaled = n / size
            return f"{scaled:.0f}{unit}" if abs(scaled) >= 100 else f"{scaled:.3g}{unit}"
    return str(n)


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


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * max(0, width - display_width(text))
    return space + text if right else text + space


class Layout:
    """A table laid out for `width` columns: the lines, and what did not fit."""

    def __init__(self, lines: list[str], hidden: list[str]) -> None:
        self.lines, self.hidden = lines, hidden


def layout(
    columns: Sequence[str], rows: Iterable[Mapping[str, object]], width: int | None = None,
    *, max_width: int = 80, raw: bool = False,
) -> Layout:  # fmt: skip
    """Lay out rows in `width` columns (default: the terminal's).

    Columns that cannot fit even at their narrowest go first, least useful first
    (`_PRIORITY`; their names are in `hidden`, for a notice). Then what is left gives way in
    this order: free text to 60 columns, ids to 8 characters and an ellipsis (still a prefix
    `logkit trace` takes), free text (messages) down to `_TEXT_MIN`. Numbers are in human
    units and right-aligned, the header of a column in ms without the unit its values now
    carry. `raw`: cells as they are, for the trace view, whose cells are already text.
    """
    width = width or terminal_width()
    rows = list(rows)
    names = list(columns)
    headers = [_cell(c if raw else _header(c)) for c in names]  # names may be anyone's
    cells: list[list[str]] = []
    numeric = [False] * len(names)
    for row in rows:
        texts = []
        for i, name in enumerate(names):
            if raw:
                text, number = _cell(row.get(name)), isinstance(row.get(name), int | float)
            else:
                text, number = _human(name, row.get(name))
            numeric[i] = numeric[i] or number
            texts.append(text)
        cells.append(texts)
    natural = [
        min(max_width if names[i] not in _TEXT_COLUMNS else 10**6,
            max([display_width(headers[i])] + [display_width(r[i]) for r in cells]))
        for i in range(len(names))
    ]  # fmt: skip
    longest = [max([0] + [display_width(r[i]) for r in cells]) for i in range(len(names))]
    is_text = [n in _TEXT_COLUMNS or longest[i] > 40 for i, n in enumerate(names)]
    is_id = [n in _ID_COLUMNS for n in names]
    least = [
        min(natural[i], _ID_MIN if is_id[i] else _TEXT_MIN if is_text[i] else natural[i])
        for i in range(len(names))
    ]
    shown = list(range(len(names)))

    def total(widths: list[int]) -> int:
        return sum(widths[i] for i in shown) + 2 * (len(shown) - 1)

    # Which columns fit, each at its narrowest: the least useful go first (never the first
    # column, nor free text, which is cut instead).
    hidden: list[str] = []
    droppable = sorted(
        (i for i in shown[1:] if not is_text[i]),
        key=lambda i: (_PRIORITY.get(names[i], 50), -i),
    )
    for i in droppable:
        if total(least) <= width:
            break
        shown.remove(i)
        hidden.append(names[i])
    # How wide: as wide as the values, then giving way: free text to 60 columns, ids to their
    # prefix, free text to its narrowest, free text to 8, then anything.
    widths = list(natural)
    steps = [(is_text, [min(n, 60) for n in natural]), (is_id, least), (is_text, least),
             (is_text, [8] * len(names)), ([True] * len(names), [4] * len(names))]  # fmt: skip
    for kind, floor in steps:
        for i in sorted(shown, key=lambda i: -widths[i]):  # the widest gives way first
            over = total(widths) - width
            if over <= 0:
                break
            if kind[i] and widths[i] > floor[i]:
                widths[i] = max(floor[i], widths[i] - over)

    def line(values: list[str]) -> str:
        return "  ".join(
            _pad(cut(values[i], widths[i]), widths[i], numeric[i]) for i in shown
        ).rstrip()

    lines = [line(headers), "  ".join("-" * widths[i] for i in shown)]
    lines += [line(r) for r in cells]
    return Layout(lines, hidden)


def table(
    columns: Sequence[str], rows: Iterable[Mapping[str, object]], max_width: int = 80,
    width: int | None = None,
) -> str:  # fmt: skip
    """Rows as a text table that fits `width` (default: the terminal's); see `layout`."""
    return "\n".join(layout(columns, rows, width, max_width=max_width).lines)


def notices(data: Table | None, hidden: Sequence[str] = (), notice: str | None = None) -> list[str]:
    """What a table or a list leaves out, said: rows past a limit, columns past the width."""
    said = [notice] if notice else []
    total = getattr(data, "total", None)
    if total is not None and data is not None:
        said.append(f"showing {len(data):,} of {total:,}; --limit N for more")
    if hidden:
        said.append(
            f"not shown at {terminal_width()} columns: {', '.join(hidden)};"
            " a wider terminal or --format csv shows them"
        )
    return said


def fit_lines(lines: Iterable[str], width: int | None = None) -> list[str]:
    """Lines of prose (they may carry click styles) wrapped to the terminal's width; a
    wrapped line loses its styles rather than have them counted as text."""
    width = width or terminal_width()
    fitted = []
    for line in lines:
        plain = click.unstyle(line)
        fitted += [line] if display_width(plain) <= width else _wrap(plain, width)
    return fitted


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


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
            text = orjson.dumps(
                rows, default=_json_default, option=_JSON_OPTIONS | orjson.OPT_INDENT_2
            ).decode()
            buf.write(inert(text) + "\n")
        else:
            for row in rows:
                buf.write(
                    inert(orjson.dumps(row, default=_json_default, option=_JSON_OPTIONS).decode())
                    + "\n"
                )
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
                for line in _wrap(f"({said})", terminal_width()):
                    buf.write(click.style(line, dim=True) + "\n")
        else:
            buf.write("(no rows)\n")
    if fmt != "table":
        for said in notices(data, notice=notice):
            click.echo(f"note: {said}", err=True)
    if fmt == "table":
        emit(buf.getvalue(), out=out)
    elif out is sys.stdout and terminal and _page(buf.getvalue()):
        pass
    else:
        out.write(buf.getvalue())


def _same(text: str) -> str:
    return text


def _csv_value(value: object, cell: Callable[[str], str] = _same) -> object:
    if isinstance(value, dict | list):
        return cell(orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS).decode())
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return cell(value)
    return "" if value is None else value


def render_json(value: object, *, out: TextIO | None = None) -> None:
    text = orjson.dumps(
        value, default=_json_default, option=_JSON_OPTIONS | orjson.OPT_INDENT_2
    ).decode()
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


def trace_lines(report: Trace) -> list[str]:
    """The table form of a `TraceReport`: waterfall, events (first error marked `>>`),
    summary. Lines may carry click styles; click.echo drops them off a terminal."""
    summary = report.summary()
    total = summary["total_ms"]
    start = summary["start"]
    width = terminal_width()
    title = cut(f"trace {escape_control(report.trace_id)}", width)
    started = f"  started {_cell(start)}" if start else ""
    lines = [click.style(title, bold=True) + cut(started, width - display_width(title))]
    waterfall = [
        {
            "service": row["service"] or _NO_SERVICE,
            "first": _offset(row["first_ms"]),
            "last": _offset(row["last_ms"]),
            "events": row["events"],
            "errors": row["errors"] or "",
            "reported": format_ms(row["reported_ms"]),
        }
        for row in report.waterfall()
    ]
    if waterfall:
        # The bar takes the width the other columns leave (at least 10 columns): the whole
        # terminal's worth of time resolution.
        scale = f"0 … {format_ms(total)}"
        columns = list(waterfall[0])
        left = layout(columns, waterfall, width - 14, raw=True).lines
        used = max(display_width(line) for line in left)
        bar = max(10, width - used - 4, len(scale) - 2)
        bars = [
            "|"
            + waterfall_bar(row["first_ms"], row["last_ms"], row["reported_ms"], total, bar)
            + "|"
            for row in report.waterfall()
        ]
        lines += ["", _pad(left[0], used, False) + "  " + scale, _pad(left[1], used, False)
                  + "  " + "-" * (bar + 2)]  # fmt: skip
        lines += [_pad(row, used, False) + "  " + b for row, b in zip(left[2:], bars, strict=True)]
    lines.append(f"{_SEEN} seen in the logs   {_REPORTED} busy, by its reported duration")

    events = [
        {
            "offset": _offset(e["offset_ms"]),
            "service": e["service"] or _NO_SERVICE,
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
    shaped = layout(columns, events, width - 3, max_width=60, raw=True)
    lines.append("")
    for number, line in enumerate(shaped.lines):
        index = number - 2  # after the header and its rule
        if index == first_error:
            lines.append(click.style(">> " + line, fg="red", bold=True))
        elif index >= 0 and events[index]["level"] in ERROR_LEVELS:
            lines.append(click.style("   " + line, fg="red"))
        elif index >= 0 and events[index]["level"] == "WARNING":
            lines.append(click.style("   " + line, fg="yellow"))
        else:
            lines.append("   " + line)
    for notice in notices(None, shaped.hidden):
        lines += ["   " + line for line in _wrap(f"({notice})", width - 3)]

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
    counts = " · ".join(parts)
    if display_width(click.unstyle(f"{counts} · outcome: {outcome}")) <= width:
        lines += ["", f"{counts} · outcome: {outcome}"]
    else:  # the outcome on a line of its own, its message cut to the width
        lines += ["", counts, _cut_styled(f"outcome: {outcome}", width)]
    return lines


def _cut_styled(text: str, width: int) -> str:
    """`text`, which may carry click styles, cut to `width` visible columns."""
    plain = click.unstyle(text)
    if display_width(plain) <= width:
        return text
    return cut(plain, width)  # a cut line loses its colours rather than a closing code


def render_trace(report: Trace, fmt: str, *, out: TextIO | None = None) -> None:
    """A trace as text (table) or as its full events, attrs included (json/ndjson/csv)."""
    if fmt != "table":
        render(report.events, fmt, out=out)
        return
    emit("\n".join(trace_lines(report)) + "\n", out=out)
