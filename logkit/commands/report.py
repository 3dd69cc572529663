"""`logkit report`: an incident postmortem as one HTML page or as Markdown.

The analysis is logkit/postmortem.py (the same the postmortem notebook shows) and the
rendering logkit/report.py; this command only reads the options and says what it wrote.
"""

from __future__ import annotations

import click

from ..output import REPORT_FORMATS
from .options import Context, format_option, pass_context, time_options


@click.command()
@time_options
@click.option("--trace", "trace_id", metavar="ID",
              help="Draw this trace's waterfall (default: the slowest of those that failed "
              "the way most did).")  # fmt: skip
@click.option("--service", "services", multiple=True, metavar="NAME",
              help="Only these services' events, and traces through them; repeatable.")  # fmt: skip
@click.option("-o", "--output", metavar="PATH",
              help="Write here (default: postmortem.html; Markdown goes to stdout).")  # fmt: skip
@format_option(REPORT_FORMATS, default=None,
               help="html (the default, or md when PATH ends in .md) or md.")  # fmt: skip
@pass_context
def report(
    obj: Context,
    since: str | None,
    until: str | None,
    trace_id: str | None,
    services: tuple[str, ...],
    output: str | None,
    fmt: str | None,
) -> None:
    """Write an incident postmortem for the window [--since, --until).

    Summary against the same length of time before the window, a timeline per service,
    error groups, latency p50/p95/p99, failing and slowest traces with a waterfall of the
    worst, affected users, LLM tokens and cost, and rejected lines; Impact, Root cause and
    Action items are left for the author to write. HTML is one self-contained file (charts
    inline, viewable offline); Markdown is for an incident document, its charts written
    beside it (pm.md gets pm_charts/*.png).

    Without --since and --until the incident window is detected: the span of whole minutes
    where the share of failing requests rose furthest above the rest of the store. A
    --since alone runs until now.

    \b
    Examples:
      logkit report --since 2026-11-01T00:36Z --until 2026-11-01T00:46Z -o pm.html
      logkit report -o pm.md                 # window detected; charts in pm_charts/
      logkit report --format md > pm.md      # Markdown without charts
    """
    from ..postmortem import require_matplotlib
    from ..report import render_markdown, write_report

    fmt = fmt or ("md" if output and output.endswith(".md") else "html")
    to_stdout = fmt == "md" and output in (None, "-")
    if not to_stdout:  # Markdown on stdout comes without charts
        require_matplotlib()
    pm = obj.store().postmortem(since=since, until=until, trace_id=trace_id, services=services)
    detected = " (detected)" if pm.window.detected else ""
    if to_stdout:
        click.echo(render_markdown(pm), nl=False)
        click.echo(f"postmortem of {pm.window}{detected}", err=True)
        return
    path = write_report(pm, output or "postmortem.html", fmt)
    click.echo(f"wrote {path}: postmortem of {pm.window}{detected}", err=True)


COMMANDS = [report]
