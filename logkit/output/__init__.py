"""One output layer for every reading command: `--format table|json|ndjson|csv`.

Log content is untrusted, so rendering is defensive: control characters and ANSI escapes in
any value are shown escaped wherever a person reads them (a log line must not be able to clear
the screen, move the cursor, retitle the window or plant an OSC-8 link), and CSV cells that a
spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) are prefixed with a quote.

What reaches a terminal goes through `for_terminal` (via `write`, `render`, `render_json`):
every format, json, ndjson and csv included. Tables and text meant for people (the trace view,
summaries, error messages) are escaped wherever they go. Machine formats written to a pipe or a
file are left exact: the escaping is decided by `isatty`, in logkit/output/text.py.

The modules: `text` (values made inert, widths, durations), `terminal` (colour, pager, size),
`tables` (tables that fit the terminal), `render` (the formats), `trace` (the trace view).
"""

from .render import (
    FORMATS,
    REPORT_FORMATS,
    ROW_FORMATS,
    SUMMARY_FORMATS,
    default_format,
    render,
    render_json,
)
from .tables import Frame, Layout, Table, fit_lines, layout, notices, rows_of, table
from .terminal import (
    SETTINGS,
    Settings,
    configure,
    emit,
    terminal_size,
    terminal_width,
    use_color,
)
from .text import (
    csv_safe,
    cut,
    display_width,
    escape_control,
    for_terminal,
    format_ms,
    is_terminal,
    write,
)
from .trace import BAR_WIDTH, Trace, render_trace, trace_lines, waterfall_bar

__all__ = [
    "BAR_WIDTH",
    "FORMATS",
    "REPORT_FORMATS",
    "ROW_FORMATS",
    "SETTINGS",
    "SUMMARY_FORMATS",
    "Frame",
    "Layout",
    "Settings",
    "Table",
    "Trace",
    "configure",
    "csv_safe",
    "cut",
    "default_format",
    "display_width",
    "emit",
    "escape_control",
    "fit_lines",
    "for_terminal",
    "format_ms",
    "is_terminal",
    "layout",
    "notices",
    "render",
    "render_json",
    "render_trace",
    "rows_of",
    "table",
    "terminal_size",
    "terminal_width",
    "trace_lines",
    "use_color",
    "waterfall_bar",
    "write",
]
