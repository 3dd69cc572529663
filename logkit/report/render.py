"""Render a `Postmortem` (logkit/report/findings.py) as one self-contained HTML page or as
Markdown.

`sections()` turns the analysis into a neutral outline (titles, prose, key figures, tables of
display strings, charts as PNG bytes); `render_html` and `render_markdown` are two small
walkers over it, so the choice of what a postmortem shows is made once.

The HTML page must open anywhere, years later, offline, attached to a ticket: the charts are
PNG `data:` URIs, the CSS is inline, fonts are the reader's own, and there is no JavaScript.
A Content-Security-Policy that allows nothing else makes that a rule the browser enforces
rather than a habit. Log content is untrusted: every value is HTML-escaped (Markdown-escaped
for Markdown) with control characters shown as escapes, so a log line cannot add markup, a
script or a link to the report.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import output_error
from ..output import REPORT_FORMATS, escape_control, format_ms
from .charts import figure_png, require_matplotlib
from .findings import AUTHOR_SECTIONS, SECTIONS
from .words import format_rate, format_time

if TYPE_CHECKING:
    import polars as pl

    from .findings import Postmortem

MAX_CELL = 160  # characters of a message shown in a table cell
MAX_ROWS = 50  # rows a table shows; a longer one says so ("showing 50 of 120")
# What an author's section holds until the author writes it: easy to find in the file.
PLACEHOLDER = "To be written."

# What each section's tables show: (frame, caption, {column: header}).
TABLES: dict[str, list[tuple[str, str, dict[str, str]]]] = {
    "summary": [
        ("services", "By service (events without a service are named after their file)",
         {"service": "service", "events": "events", "errors": "errors",
          "error_rate": "error rate", "baseline_error_rate": "baseline error rate"}),
    ],
    "errors": [
        ("causes", "Where failing traces failed first (when the first and the last of them "
         "logged their first error)",
         {"service": "service", "error_type": "error type", "traces": "traces",
          "first_failure": "first failed", "last_failure": "last failed",
          "example_trace": "example trace", "example": "first error"}),
        ("error_groups", "Error groups",
         {"service": "service", "error_type": "error type", "fingerprint": "fingerprint",
          "count": "count", "baseline": "baseline", "first_seen": "first seen",
          "last_seen": "last seen", "example_trace": "example trace"}),
    ],
    "traces": [
        ("trace_events", "Events of the trace drawn above",
         {"offset_ms": "offset", "label": "service", "level": "level", "message": "message",
          "duration_ms": "duration", "status_code": "status", "error_type": "error"}),
        ("failing", "Failing traces, slowest first",
         {"trace_id": "trace", "start": "start", "span_ms": "span", "services": "services",
          "error_service": "failed in", "error_type": "error type",
          "status_code": "status"}),
        ("slowest", "Slowest traces",
         {"trace_id": "trace", "start": "start", "span_ms": "span", "services": "services",
          "events": "events", "errors": "errors", "status_code": "status"}),
    ],
    "users": [
        ("users", "Users whose requests failed (when the first and the last of their "
         "requests failed)",
         {"user_id": "user", "failed_traces": "failed traces", "first_failure": "first failed",
          "last_failure": "last failed", "errors": "error types",
          "example_trace": "example trace"}),
    ],
    "llm": [
        ("llm", "LLM calls by model",
         {"model": "model", "calls": "calls", "failed": "failed",
          "input_tokens": "input tokens", "output_tokens": "output tokens",
          "cost_usd": "cost", "baseline_calls": "baseline calls",
          "baseline_failed": "baseline failed", "baseline_cost_usd": "baseline cost"}),
    ],
    "rejects": [
        ("rejects", "Rejected lines by reason",
         {"reason": "reason", "lines": "lines", "files": "files", "first_at": "first at"}),
        ("rejected_lines", "The first rejected lines",
         {"source": "file", "line": "line", "reason": "reason", "raw": "line as read"}),
    ],
}  # fmt: skip
CHART_ALT = {
    "timeline": "Error rate, errors and events per minute by service, the window shaded",
    "latency": "Latency p50, p95 and p99 over time, the window shaded",
    "traces": "Waterfall of the worst trace: each service's span and events, errors in red",
    "llm": "LLM tokens and cost per minute by model, the window shaded",
}


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    total: int  # rows the table stands for; more than shown when it was cut

    @property
    def shown(self) -> str:
        """`showing 20 of 22` when rows were left out, else empty."""
        if self.total <= len(self.rows):
            return ""
        return f"showing {len(self.rows):,} of {self.total:,}"


@dataclass
class Section:
    name: str
    title: str
    prose: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    chart: bytes | None = None
    note: str = ""
    # An author's section: what the logs suggest (may be empty); its text is the author's.
    draft: str | None = None


# -- the outline ---------------------------------------------------------------------------


def sections(pm: Postmortem, *, charts: bool = True) -> Iterator[Section]:
    """The report's sections in order, with display strings and (if `charts`) PNG charts."""
    figures = pm.figures() if charts else {}
    drafts = pm.drafts()
    for name, (title, prose) in SECTIONS.items():
        section = Section(name, title, prose)
        if name in AUTHOR_SECTIONS:
            section.draft = drafts.get(name, "")
            yield section
            continue
        if name == "summary":
            section.facts = pm.facts()
        if name == "traces" and pm.trace_id:
            section.note = f"The waterfall shows trace {pm.trace_id}."
        if name == "latency" and pm.latency_of != "requests" and pm.latency.height:
            section.note = "No event has a status code; these are all events with a duration."
        for frame_name, caption, columns in TABLES.get(name, []):
            frame = pm.frames[frame_name]
            if frame.height:
                total = max(pm.totals.get(frame_name, 0), frame.height)
                section.tables.append(_table(frame, caption, columns, limit=MAX_ROWS, total=total))
        if name in figures:
            section.chart = figure_png(figures[name])
        elif name in CHART_ALT and not charts:
            section.note = "The chart is left out here: write the report to a file to get it."
        if not section.tables and section.chart is None and not section.facts:
            section.note = section.note or "Nothing to show in this window."
        yield section


def _table(
    frame: pl.DataFrame, caption: str, columns: dict[str, str], *, limit: int, total: int
) -> Table:
    present = [c for c in columns if c in frame.columns]
    shown = frame.head(limit)
    rows = [
        [_cell(column, row[column]) for column in present] for row in shown.iter_rows(named=True)
    ]
    return Table(caption, [columns[c] for c in present], rows, total)


def _cell(column: str, value: object) -> str:
    """A value as display text (not yet escaped)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, float):
        if column.endswith("_ms"):
            return format_ms(value)
        if column.endswith("rate"):
            return format_rate(value)
        if "cost" in column:
            return f"${value:,.4f}"
        return f"{value:,.6g}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}" if column not in ("status_code", "line") else str(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return _clip(str(value))


def _clip(text: str) -> str:
    text = " ".join(text.split("\n", 1)[0].split()) if "\n" in text else text
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _title(pm: Postmortem) -> str:
    return f"Postmortem: {pm.window}"


# -- HTML ----------------------------------------------------------------------------------

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_CSS = """
:root { color-scheme: light; --ink: #1c1f24; --muted: #5f6670; --line: #e3e6ea; --red: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
header h1 { margin: 0 0 4px; font-size: 26px; }
.meta, .note, caption, footer { color: var(--muted); font-size: 13px; }
.headline { font-size: 17px; border-left: 4px solid var(--red); padding: 8px 14px;
            background: #fdf3f3; margin: 16px 0; }
nav { margin: 10px 0 0; font-size: 13px; }
nav a { color: var(--muted); margin-right: 12px; text-decoration: none; }
section { border-top: 1px solid var(--line); margin-top: 28px; padding-top: 8px; }
h2 { font-size: 20px; margin: 8px 0 4px; }
.prose { margin: 0 0 12px; color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px;
           margin: 8px 0 16px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
figure { margin: 8px 0 16px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
.scroll { overflow-x: auto; margin: 6px 0 16px; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
caption { text-align: left; padding: 4px 0; }
caption .more { color: var(--ink); font-weight: 600; }
/* Tables fit the page: text wraps between words, and a cell with a word too long for any
   column (an id, a URL, a blob) may break it anywhere; headers, numbers and times keep
   their words whole. */
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
         vertical-align: top; overflow-wrap: break-word; }
td.long { overflow-wrap: anywhere; }
th { background: #f1f3f5; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.id { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
        overflow-wrap: anywhere; min-width: 10em; }
@media (min-width: 1200px) { td.id { min-width: 20em; } }  /* a 32-digit trace id whole */
.author-text { border: 1px dashed #b0b6bf; border-radius: 4px; padding: 4px 14px;
               margin: 8px 0 16px; min-height: 3em; }
.author-text:focus { outline: 2px solid #1e88e5; }
.draft { color: var(--muted); }
.placeholder { color: var(--muted); font-style: italic; }
code { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
footer { margin-top: 32px; }
@media print { body { background: #fff; } main { padding: 0; } section { break-inside: avoid; } }
"""
_NUMERIC = re.compile(r"^[-+$]?[\d,.]+(?:\s?(?:%|ms|s))?$|^n/a$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?$")
_ID = re.compile(r"^[0-9a-fA-F-]{16,}$")  # trace ids, span ids, UUIDs
LONG_WORD = 24  # characters of a word past which it may break anywhere


def _h(text: str) -> str:
    """Log text as inert HTML: control characters shown as escapes, markup escaped."""
    return html.escape(escape_control(text), quote=True)


def render_html(pm: Postmortem) -> str:
    """The postmortem as one self-contained HTML page (charts inline, no network needed)."""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(_title(pm))}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<header><h1>Incident postmortem</h1>",
        f'<p class="meta">{_h(_meta(pm))}</p>',
        f'<p class="headline">{_h(pm.headline())}</p>',
        "<nav>"
        + "".join(f'<a href="#{name}">{_h(title)}</a>' for name, (title, _) in SECTIONS.items())
        + "</nav></header>",
    ]
    for section in sections(pm):
        parts.append(f'<section id="{section.name}"><h2>{_h(section.title)}</h2>')
        parts.append(f'<p class="prose">{_h(section.prose)}</p>')
        if section.draft is not None:
            parts.append(_html_author(section))
            parts.append("</section>")
            continue
        if section.facts:
            parts.append('<dl class="facts">')
            parts += [f"<dt>{_h(k)}</dt><dd>{_h(v)}</dd>" for k, v in section.facts]
            parts.append("</dl>")
        if section.chart is not None:
            data = base64.b64encode(section.chart).decode("ascii")
            parts.append(
                f'<figure><img src="data:image/png;base64,{data}" '
                f'alt="{_h(CHART_ALT[section.name])}"></figure>'
            )
        if section.note:
            parts.append(f'<p class="note">{_h(section.note)}</p>')
        parts += [_html_table(table) for table in section.tables]
        parts.append("</section>")
    parts.append(f"<footer>{_h(_footer())}</footer></main></body></html>")
    return "\n".join(parts) + "\n"


def _html_author(section: Section) -> str:
    """An author's section: a box to write in (in the browser, then print or save the page;
    or in the file, where the comment marks it), with what the logs suggest as a start."""
    draft = f'<p class="draft">From the logs: {_h(section.draft)}</p>' if section.draft else ""
    if section.name == "action_items":
        body = f'<ol><li class="placeholder">{_h(PLACEHOLDER)} (what, who, by when)</li></ol>'
    else:
        body = f'<p class="placeholder">{_h(PLACEHOLDER)}</p>'
    return (
        f"<!-- {_h(section.title)}: for the author to write -->"
        f'<div class="author-text" contenteditable="true">{draft}{body}</div>'
    )


def _html_table(table: Table) -> str:
    more = f' <span class="more">· {_h(table.shown)}</span>' if table.shown else ""
    head = "".join(f"<th>{_h(h)}</th>" for h in table.headers)
    body = "".join(
        "<tr>" + "".join(f"<td{_cell_class(v)}>{_h(v)}</td>" for v in row) + "</tr>"
        for row in table.rows
    )
    return (
        f'<div class="scroll"><table><caption>{_h(table.caption)}{more}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _cell_class(text: str) -> str:
    # Ids first: a decimal trace id looks like a number but must be free to wrap.
    if _ID.match(text):
        return ' class="id"'
    if _NUMERIC.match(text):
        return ' class="num"'
    if _TIME.match(text):
        return ' class="time"'
    return ' class="long"' if any(len(word) > LONG_WORD for word in text.split()) else ""


def _meta(pm: Postmortem) -> str:
    return f"Store {pm.store_path} · generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"


def _footer() -> str:
    return (
        f"Made by logkit {__version__} (logkit report). Times are UTC. An error is an event "
        "at level ERROR or CRITICAL; a trace failed when one of its events is an error."
    )


# -- Markdown ------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def _md(text: str) -> str:
    """Log text as inert Markdown: no markup, links, HTML or table breaks."""
    return _MD_SPECIAL.sub(r"\\\1", escape_control(text)).replace("\n", " ")


def render_markdown(pm: Postmortem, *, charts_dir: str | Path | None = None) -> str:
    """The postmortem as Markdown for an incident document.

    With `charts_dir`, the charts are written there as PNG files and linked by the directory's
    name (so keep them beside the Markdown file); without it the text comes without charts.
    """
    directory = Path(charts_dir) if charts_dir is not None else None
    lines = [f"# {_md(_title(pm))}", "", f"_{_md(_meta(pm))}_", "", f"> {_md(pm.headline())}"]
    for section in sections(pm, charts=directory is not None):
        lines += ["", f"## {_md(section.title)}", "", _md(section.prose), ""]
        if section.draft is not None:
            lines += _md_author(section)
            continue
        lines += [f"- **{_md(k)}:** {_md(v)}" for k, v in section.facts]
        if section.facts:
            lines.append("")
        if section.chart is not None and directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            (directory / f"{section.name}.png").write_bytes(section.chart)
            lines += [f"![{_md(CHART_ALT[section.name])}]({directory.name}/{section.name}.png)", ""]
        if section.note:
            lines += [f"_{_md(section.note)}_", ""]
        for table in section.tables:
            lines += _md_table(table)
    lines += ["", f"_{_md(_footer())}_"]
    return "\n".join(lines).rstrip() + "\n"


def _md_author(section: Section) -> list[str]:
    lines = [f"From the logs: {_md(section.draft)}", ""] if section.draft else []
    if section.name == "action_items":
        return [*lines, f"- [ ] _{_md(PLACEHOLDER)}_ (what, who, by when)", ""]
    return [*lines, f"_{_md(PLACEHOLDER)}_", ""]


def _md_table(table: Table) -> list[str]:
    more = f" · **{_md(table.shown)}**" if table.shown else ""
    return [
        f"**{_md(table.caption)}**{more}",
        "",
        "| " + " | ".join(_md(h) for h in table.headers) + " |",
        "|"
        + "|".join(
            "---:" if _numeric_column(table, i) else "---" for i in range(len(table.headers))
        )
        + "|",
        *("| " + " | ".join(_md(v) for v in row) + " |" for row in table.rows),
        "",
    ]


def _numeric_column(table: Table, index: int) -> bool:
    values = [row[index] for row in table.rows if row[index]]
    return bool(values) and all(_NUMERIC.match(v) for v in values)


# -- files ---------------------------------------------------------------------------------


def write_report(pm: Postmortem, path: str | os.PathLike[str], fmt: str = "html") -> Path:
    """Write the report to `path`; a Markdown file gets its charts in `<stem>_charts/`."""
    if fmt not in REPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(REPORT_FORMATS)}, not {fmt!r}")
    target = Path(path)
    try:
        if fmt == "html":
            text = render_html(pm)
        else:
            text = render_markdown(pm, charts_dir=target.with_name(f"{target.stem}_charts"))
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise output_error(target, exc) from exc
    return target


@dataclass(frozen=True)
class Report:
    """A postmortem rendered: written to `path`, or, as Markdown for stdout, its `text`."""

    postmortem: Postmortem
    path: Path | None = None
    text: str | None = None


def report(
    analyse: Callable[[], Postmortem], path: str | os.PathLike[str] | None, fmt: str | None = None
) -> Report:
    """The postmortem `analyse()` makes, as `fmt` (html, or md when `path` ends in .md):
    written to `path` (default postmortem.html; a Markdown file gets its charts beside it), or,
    as Markdown with no path or "-", returned as text without charts. Fails for want of
    matplotlib before the analysis, which takes a while, when charts are to be drawn."""
    fmt = fmt or ("md" if path is not None and os.fspath(path).endswith(".md") else "html")
    to_text = fmt == "md" and path in (None, "-")
    if not to_text:
        require_matplotlib()
    pm = analyse()
    if to_text:
        return Report(pm, text=render_markdown(pm))
    return Report(pm, path=write_report(pm, path or "postmortem.html", fmt))
