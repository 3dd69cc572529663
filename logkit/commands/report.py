"""`logkit report`: an incident postmortem as one HTML page or as Markdown.

The analysis and rendering are logkit/report/ (the same analysis the postmortem notebook
shows), through `Store.report`; this command only reads the options and says what it wrote.
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
    done = obj.store().report(
        output, fmt, since=since, until=until, trace_id=trace_id, services=services
    )
    window = done.postmortem.window
    about = f"postmortem of {window}{' (detected)' if window.detected else ''}"
    if done.text is not None:  # Markdown on stdout, without charts
        click.echo(done.text, nl=False)
        click.echo(about, err=True)
    else:
        click.echo(f"wrote {done.path}: {about}", err=True)


COMMANDS = [report]
