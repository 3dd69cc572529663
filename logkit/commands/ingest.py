"""Commands that put logs in: ingest, sample, mask, keygen."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import DamagedInput, LogkitError
from ..output import escape_control, for_terminal, is_terminal, render_json
from .options import Context, pass_context, summary_format_option

if TYPE_CHECKING:
    from ..ingest import IngestSummary


def _summary_text(summary: IngestSummary) -> str:
    data = summary.to_dict()
    lines = [
        f"read {data['lines']:,} lines ({data['bytes'] / 1e6:.1f} MB) in {data['seconds']:.2f}s: "
        f"{data['events']:,} events stored, {data['rejects']:,} rejected"
        + (
            f", {data['events_without_ts']:,} without timestamp"
            if data["events_without_ts"]
            else ""
        )
    ]
    for reason, count in data["rejected_by_reason"].items():
        lines.append(f"  rejected  {reason:<18} {count:,}")
    for detector, count in data["masked_by_detector"].items():
        lines.append(f"  masked    {detector:<18} {count:,}")
    for source in data["sources"]:
        if source["status"] == "error":
            lines.append(f"  error     {source['error']}")  # it names its file
        elif source["status"] == "changed":
            lines.append(
                f"  changed   {source['path']}: {source['changed']} while read;"
                " the rest is left for the next run"
            )
        if source["damage"]:
            lines.append(f"  damaged   {source['path']}: {source['damage']}")
    width = max(map(len, data["formats"]), default=0)
    for name, shares in data["formats"].items():
        covered = "  ".join(
            f"{column} {shares[column]:.0%}" for column in shares if column != "events"
        )
        lines.append(f"  format    {name:<{width}}  {shares['events']:,} events: {covered}")
        if not shares["ts"]:
            lines.append(
                f"  warning   no {name} event has a timestamp (check 'logkit formats detect FILE')"
            )
    # For people, wherever it goes: file names are anyone's choosing.
    return escape_control("\n".join(lines))


@click.command()
@click.argument("inputs", nargs=-1, metavar="[PATH|GLOB|DIR|-]...")
@click.option("--no-mask", is_flag=True, help="Store values unmasked (only for logs you trust).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no summary.")
@summary_format_option
@click.option("--name", "stdin_name", metavar="NAME",
              help="Name piped input ('-'): it gets a checkpoint, so piping it again (the same "
                   "or grown) stores only new lines; NAME is its source.")  # fmt: skip
# Not --format: that has long been the summary's format (text|json).
@click.option("--log-format", metavar="NAME",
              help="Read every record as this log format instead of recognising each"
              " (see 'logkit formats').")  # fmt: skip
@pass_context
def ingest(
    obj: Context, inputs: tuple[str, ...], no_mask: bool, quiet: bool, fmt: str,
    stdin_name: str | None, log_format: str | None,
) -> None:  # fmt: skip
    """Read NDJSON logs into the store, exactly once.

    Inputs are files (plain, gzip or zstd, told apart by their first bytes), globs, directories
    (searched recursively for *.log, *.json, *.jsonl, *.ndjson and rotations such as app.log.1,
    app.log.2.gz or app.log.2026-11-22, oldest first) or '-' for stdin. Rerunning adds only
    what is new; rotated files are recognised by content. Bad lines are quarantined in the
    'rejects' table with their file, line number and reason. Each record's log format (zap,
    pino, ECS, Docker's json-file...) is recognised on its own; the summary says per format how
    many events it matched and the share that got ts, level, message, service and trace_id.

    Exit status: 0 when all was read; 1 when an input could not be read; 3 when what could be
    read was stored but a compressed input was damaged (cut short or corrupt: see the summary).

    stdin ('-') has no checkpoint: it is read to its end and stored whole on every run, unless
    --name gives it one (then, as for a file, a last line without newline waits). A named pipe,
    or a process substitution such as <(kubectl logs POD), is read as unnamed stdin is.

    \b
    Examples:
      logkit ingest sample_logs/
      logkit ingest '/var/log/app/*.log' /var/log/app/worker.log.2.gz
      kubectl logs deploy/api | logkit ingest - --name api-pod
    """
    from ..interrupt import stop_on_signals
    from ..progress import Progress

    if not inputs:
        raise click.UsageError("give at least one PATH, GLOB, DIR or '-' for stdin")
    if stdin_name is not None and "-" not in inputs:
        raise click.UsageError("--name names piped input: give '-' among the inputs")
    if stdin_name is not None and not stdin_name.strip():
        raise click.UsageError("--name needs a non-empty NAME")
    store = obj.store()
    progress = Progress() if sys.stderr.isatty() and not quiet else None
    try:
        with stop_on_signals():
            summary = store.ingest(
                inputs, mask=not no_mask, progress=progress, stdin_name=stdin_name,
                log_format=log_format,
            )  # fmt: skip
    finally:
        if progress:
            progress.close()
    if fmt == "json":
        render_json(summary.to_dict())
    elif not quiet:
        click.echo(_summary_text(summary), err=not sys.stdout.isatty())
    for warning in summary.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if summary.errors:
        raise LogkitError(f"{len(summary.errors)} input(s) could not be read (see above)")
    if summary.damaged:
        raise damaged(summary)


def damaged(summary: IngestSummary) -> DamagedInput:
    """What a run that stored everything it could, but read a damaged input, ends with
    (exit status 3): `logkit ingest`'s, and `logkit export --ingest`'s once the metrics are
    written."""
    return DamagedInput(
        f"{len(summary.damaged)} input(s) damaged: "
        + ", ".join(s.path for s in summary.damaged)
        + "; the lines before the damage are stored, the damage is quarantined (see the"
        " rejects table)"
    )


@click.command()
@click.option("--lines", type=click.IntRange(min=0), required=True, help="How many lines.")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Directory.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same bytes.")
@click.option("--files", type=click.IntRange(min=1), default=3, show_default=True,
              help="How many files (services are spread over them).")  # fmt: skip
@click.option("--gzip", "use_gzip", is_flag=True, help="Write .gz files.")
@click.option("--malformed", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Fraction of malformed lines to inject.")  # fmt: skip
def sample(lines: int, out: str, seed: int, files: int, use_gzip: bool, malformed: float) -> None:
    """Generate deterministic JSON logs shaped like an AI-content platform's.

    Example: logkit sample --lines 100000 --out sample_logs
    """
    from ..sample import generate

    for path in generate(
        Path(out), lines=lines, seed=seed, files=files, gzip=use_gzip, malformed=malformed
    ):
        click.echo(str(path))


@click.command()
@click.argument("inputs", nargs=-1, metavar="[PATH|-]...")
@pass_context
def mask(obj: Context, inputs: tuple[str, ...]) -> None:
    """Write masked NDJSON to stdout: a sanitiser for sharing logs, no store needed.

    Reads the PATHs (or stdin) and writes every line with secrets masked as an ingest would
    store them; pseudonyms use the store's key when there is one.

    \b
    Examples:
      logkit mask /var/log/app/api.log > api.shareable.log
      zcat api.log.2.gz | logkit mask | less
    """
    store = obj.store()
    out = sys.stdout.buffer
    terminal = is_terminal(sys.stdout)
    try:
        for block in store.mask(inputs):
            if terminal:  # masked lines are valid UTF-8: the masker writes them so
                lines = block.decode().splitlines(keepends=True)
                block = "".join(for_terminal(line, json=True) for line in lines).encode()
            out.write(block)
    finally:
        out.flush()  # what was masked before a damaged input is written


@click.command()
@click.option(
    "--force", is_flag=True, help="Replace an existing key (old pseudonyms stop matching)."
)
@pass_context
def keygen(obj: Context, force: bool) -> None:
    """Create the pseudonym key file beside the store (mode 0600).

    With a key, pseudonymised values ([mask] pseudonymize) stay the same across runs and
    hosts that share it, and cannot be recomputed by anyone without it.

    Example: logkit --db /var/lib/logkit/logkit.duckdb keygen
    """
    store = obj.store()
    click.echo(str(store.keygen(force=force)))


COMMANDS = [ingest, sample, mask, keygen]
