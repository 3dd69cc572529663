"""Incident postmortems: one analysis, shown by the notebook and rendered by `logkit report`.

The layers, each a module:

* `window`: the incident window `[since, until)`, given or found in the error rate, and
  its baseline (the same length just before it);
* `analysis`: `analyze(store, ...)`, the store's answers about the window (queries in
  `queries/report/*.sql`), made into a `Postmortem`;
* `findings`: the `Postmortem` object (a frame per section, a summary) and how it says
  what it found (headline, facts, drafts for the author), in `SECTIONS`;
* `charts`: its matplotlib figures; `render`: the report as HTML or Markdown;
* `words`: how times, rates and counts are written for people, in all of them.

`logkit.postmortem` is the notebooks' name for the same API (`from logkit.postmortem import
analyze`).
"""

from .analysis import SHOWN, analyze
from .charts import figure_png, require_matplotlib
from .findings import AUTHOR_SECTIONS, SECTIONS, Postmortem
from .render import (
    MAX_ROWS,
    PLACEHOLDER,
    Report,
    render_html,
    render_markdown,
    report,
    sections,
    write_report,
)
from .window import Window, detect_window, resolve_window
from .words import duration, format_rate, format_time

__all__ = [
    "AUTHOR_SECTIONS",
    "MAX_ROWS",
    "PLACEHOLDER",
    "SECTIONS",
    "SHOWN",
    "Postmortem",
    "Report",
    "Window",
    "analyze",
    "detect_window",
    "duration",
    "figure_png",
    "format_rate",
    "format_time",
    "render_html",
    "render_markdown",
    "report",
    "require_matplotlib",
    "resolve_window",
    "sections",
    "write_report",
]
