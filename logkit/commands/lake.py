"""`logkit archive`: copy (and with --prune, move) old events into a Parquet lake many hosts
share (logkit/lake/). `logkit query --engine spark` (commands/query.py) reads the lake too.
"""

from __future__ import annotations

import click

from ..output import render_json
from .export import _note_forgotten
from .options import Context, maintenance_options, pass_context


@click.command()
@click.option(
    "--to",
    "to",
    required=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="The lake directory (created if need be); many hosts may archive into one.",
)
@click.option(
    "--older-than",
    metavar="AGE",
    help="Only events older than this age: 7d, 12h, 2w (default: every event with a time).",
)
@click.option(
    "--prune",
    is_flag=True,
    help="Then delete the archived events from the store; exported counters carry on.",
)
@click.option("--host", metavar="NAME", help="Write under host=NAME (default: this host's name).")
@maintenance_options
@pass_context
def archive(
    obj: Context,
    to: str,
    older_than: str | None,
    prune: bool,
    host: str | None,
    definitions: str | None,
    fmt: str,
) -> None:
    """Copy events into a Parquet lake that DuckDB and Spark can query.

    Writes DIR/date=YYYY-MM-DD/service=NAME/host=NAME/part-*.parquet (zstd, sorted for fast
    trace lookups) and one manifest per run. Safe to rerun and to interrupt: a run adds only
    what the lake lacks, and a killed run's leftovers are cleaned up by the next. Events
    without a timestamp stay in the store. --prune then deletes the archived events, and
    rejects older than the cutoff, as 'logkit prune' would.

    Ask the store and the lake together with: logkit --lake DIR trace ID

    \b
    Example (cron, daily):
      logkit archive --to /srv/logkit-lake --older-than 7d --prune
    """
    if definitions and not prune:
        raise click.UsageError("--definitions only matters with --prune")
    result = obj.store().archive(
        to, older_than=older_than, prune=prune, host=host, definitions=definitions
    )
    for batch in result.recovered:
        click.echo(f"note: finished batch {batch}, which an interrupted run left", err=True)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if fmt == "json":
        render_json(result.to_dict())
    else:
        older = f"older than {result.cutoff:%Y-%m-%d %H:%M:%S} UTC"
        if result.events:
            click.echo(
                f"archived {result.events:,} events {older} to {result.lake} as host "
                f"{result.host}: {result.files} files, {result.bytes / 1e6:.1f} MB, "
                f"{len(result.dates)} days, in {result.seconds:.1f} s"
            )
        else:
            click.echo(f"nothing new to archive {older}")
        if result.pruned is not None:
            click.echo(
                f"pruned {result.pruned.events:,} events and {result.pruned.rejects:,} rejects "
                "from the store"
            )
    if result.pruned is not None:
        _note_forgotten(result.pruned.forgotten)


COMMANDS = [archive]
