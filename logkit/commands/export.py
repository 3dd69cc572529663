"""Commands for the cron job beside node_exporter: export, prune."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ..output import render_json, write
from .ingest import damaged
from .options import Context, definitions_option, maintenance_options, pass_context

if TYPE_CHECKING:
    from ..export.retention import PruneResult


def _note_forgotten(names: list[str]) -> None:
    for name in names:
        click.echo(
            f"note: {name} was not among the --definitions given to this prune, so its totals"
            " start again; give every export and prune the same --definitions",
            err=True,
        )


@click.command()
@click.argument("inputs", nargs=-1, metavar="[PATH]...")
@click.option(
    "--textfile",
    type=click.Path(dir_okay=False),
    metavar="PATH.prom",
    help="Write the metrics here, atomically (node_exporter's textfile directory).",
)
@click.option(
    "--ingest",
    is_flag=True,
    help="First ingest what is new in the PATHs (files, globs, directories), as 'logkit ingest'.",
)
@click.option("--stdout", is_flag=True, help="Print the metrics instead of writing a file.")
@definitions_option
@click.option("--no-mask", is_flag=True, help="Ingest unmasked (only for logs you trust).")
@pass_context
def export(
    obj: Context,
    inputs: tuple[str, ...],
    textfile: str | None,
    ingest: bool,
    stdout: bool,
    definitions: str | None,
    no_mask: bool,
) -> None:
    """Write Prometheus metrics for node_exporter's textfile collector.

    One run for cron: ingests what is new in the PATHs (with --ingest), applies the
    retention setting, then replaces PATH.prom atomically. Counters are totals since the
    store was created and never go backwards, across runs and pruning. A second run while one
    is going exits at once with a message (or waits, with --wait). Prints nothing on success.

    Exit status as 'logkit ingest': 3 when what could be read was stored (and the metrics
    written) but a compressed input was damaged.

    \b
    Example (cron, every minute):
      logkit --db /var/lib/logkit/logkit.duckdb export --ingest '/var/log/app/*.log' \\
        --textfile /var/lib/prometheus/node-exporter/logkit.prom
    """
    if inputs and not ingest:
        raise click.UsageError("to read the PATHs first, give --ingest")
    if ingest and not inputs:
        raise click.UsageError("--ingest needs at least one PATH, GLOB or DIR")
    if not textfile and not stdout:
        raise click.UsageError("give --textfile PATH.prom or --stdout")
    if textfile and not textfile.endswith(".prom"):
        raise click.UsageError(
            f"--textfile {textfile!r}: node_exporter only reads files ending in .prom"
        )
    result = obj.store().export(
        None if stdout else textfile,
        ingest=inputs,
        definitions=definitions,
        mask=not no_mask,
    )
    if stdout:
        write(result.text)  # label values are log text
    if result.pruned:
        _note_forgotten(result.pruned.forgotten)
    if result.ingested and result.ingested.damaged:
        raise damaged(result.ingested)


@click.command()
@click.option(
    "--older-than",
    required=True,
    metavar="AGE",
    help="Delete events older than this age: 30d, 12h, 2w.",
)
@click.option(
    "--compact", is_flag=True, help="Also rewrite the file so it shrinks (slow on big stores)."
)
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted; change nothing.")
@maintenance_options
@pass_context
def prune(
    obj: Context,
    older_than: str,
    compact: bool,
    dry_run: bool,
    definitions: str | None,
    fmt: str,
) -> None:
    """Delete old events and rejects; the exported counters carry on unchanged.

    Deleted rows' space is reused by later ingests; --compact also gives it back to the file
    system. Events without a timestamp are kept. Set `retention = "30d"` in logkit.toml to
    prune at every export instead.

    \b
    Examples:
      logkit prune --older-than 30d --dry-run    # what would go, nothing deleted
      logkit prune --older-than 30d --compact
    """
    store = obj.store()
    if dry_run and compact:
        raise click.UsageError("--dry-run changes nothing: leave out --compact")
    result = store.prune(older_than, compact=compact, definitions=definitions, dry_run=dry_run)
    if fmt == "json":
        render_json(result.to_dict())
        return
    click.echo(_prune_text(result))
    _note_forgotten(result.forgotten)


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def _prune_text(result: PruneResult) -> str:
    """What a prune did to the store, sizes measured the same way before and after (file and
    WAL), with the space DuckDB keeps inside the file for later ingests said as such."""
    older = f"older than {result.cutoff:%Y-%m-%d %H:%M:%S} UTC"
    what = f"{result.events:,} events and {result.rejects:,} rejects {older}"
    if result.dry_run:
        return (
            f"would delete {what} (dry run: nothing deleted); store {_mb(result.size_before)}"
            " on disk"
        )
    sizes = f"store {_mb(result.size_before)} -> {_mb(result.size_after)} on disk"
    if result.compacted:
        return f"deleted {what}; {sizes} (compacted)"
    free = (
        f"; {_mb(result.free_after)} of it free inside the file, reused by later ingests"
        if result.free_after
        else ""
    )
    grew = (
        " (DuckDB does not shrink its file in place; --compact gives space back)"
        if result.size_after >= result.size_before and (result.events or result.rejects)
        else ""
    )
    return f"deleted {what}; {sizes}{free}{grew}"


COMMANDS = [export, prune]
