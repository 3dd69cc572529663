"""The postmortem analysis under the name the notebooks and the README use.

`from logkit.postmortem import analyze` is how notebooks/incident_postmortem.ipynb starts; the
code lives in logkit/report/ (window, analysis, findings, charts, render), which see.
"""

from .report import (
    AUTHOR_SECTIONS,
    SECTIONS,
    SHOWN,
    Postmortem,
    Window,
    analyze,
    detect_window,
    duration,
    figure_png,
    format_rate,
    format_time,
    require_matplotlib,
    resolve_window,
)

__all__ = [
    "AUTHOR_SECTIONS",
    "SECTIONS",
    "SHOWN",
    "Postmortem",
    "Window",
    "analyze",
    "detect_window",
    "duration",
    "figure_png",
    "format_rate",
    "format_time",
    "require_matplotlib",
    "resolve_window",
]
