"""Tables that fit the terminal: rows laid out in its width, what does not fit said.

Numbers are shown in human units and right-aligned, ids cut to a prefix `logkit trace`
still takes, free text cut last; columns that cannot fit go, least useful first, and a notice
under the table names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

import click

from .terminal import terminal_width
from .text import cell_text, cut, display_width, format_ms, pad


class Frame(Protocol):
    """Rows that know their columns: a polars DataFrame, or `logkit.query.reading.Rows`."""

    @property
    def columns(self) -> list[str]: ...
    def to_dicts(self) -> list[dict[str, object]]: ...
    def __len__(self) -> int: ...


#: What `render` takes: a frame, or rows as dicts (their keys the columns, in order of first
#: appearance). A cell is whatever DuckDB or the caller put there, told apart by isinstance.
Table = Frame | Sequence[Mapping[str, object]]


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
NO_SERVICE = "(none)"


def _human(name: str, value: object) -> tuple[str, bool]:
    """A table cell for people, and whether it is a number (right-aligned): durations in
    ms/s, rates in %, money in $, big counts in k/M; no service is `(none)` everywhere."""
    key = name.lower()
    if value is None:
        return (NO_SERVICE if key in ("service", "services") else ""), False
    if isinstance(value, bool) or not isinstance(value, int | float):
        if isinstance(value, datetime):  # every time in logkit is UTC
            return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}", False
        return cell_text(value), False
    if key.endswith("_ms") or key == "duration":
        return format_ms(value), True
    if key.endswith("_rate"):
        return f"{value:.1%}", True
    if key.endswith("_usd"):
        return (f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4f}"), True
    if isinstance(value, int) and (key in _COUNTS or key.endswith(("_tokens", "_count"))):
        return _count(value), True
    return cell_text(value), True


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
    headers = [cell_text(c if raw else _header(c)) for c in names]  # names may be anyone's
    cells: list[list[str]] = []
    numeric = [False] * len(names)
    for row in rows:
        texts = []
        for i, name in enumerate(names):
            if raw:
                text, number = cell_text(row.get(name)), isinstance(row.get(name), int | float)
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
            pad(cut(values[i], widths[i]), widths[i], numeric[i]) for i in shown
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
        fitted += [line] if display_width(plain) <= width else wrap(plain, width)
    return fitted


def wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]
