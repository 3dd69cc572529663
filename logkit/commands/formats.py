"""`logkit formats`: the log formats logkit knows, and which one each line of a file is.

`detect` is the command to run before trusting a new source: it needs no store, reads the first
lines of a file the way ingest would (formats from logkit.toml included), and shows per line the
format recognised and what each canonical column would get (logkit/detect.py).
"""

from __future__ import annotations

import click

from ..output import render
from .options import Context, output_options, pass_context


@click.group(invoke_without_command=True)
@output_options
@click.pass_context
def formats(ctx: click.Context, fmt: str) -> None:
    """List the known log formats and where each is defined.

    Built-in formats are files in logkit/formats/; logkit.toml adds or overrides them in
    [formats.NAME] tables and in [ingest] formats_dir. Each record is recognised on its own;
    'ingest --log-format NAME' forces one.

    \b
    Examples:
      logkit formats
      logkit formats detect /var/log/app/api.log -n 20
    """
    if ctx.invoked_subcommand is None:
        render(ctx.ensure_object(Context).store().formats(), fmt)


@formats.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-n", "--lines", "count", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many lines to look at.")  # fmt: skip
@click.option("--log-format", metavar="NAME", help="Apply this format instead of recognising.")
@output_options
@pass_context
def detect(obj: Context, path: str, count: int, log_format: str | None, fmt: str) -> None:
    """Show, without a store, which format each of the first lines of PATH matches and what
    each canonical column would get (values as stored, before masking).

    Example: logkit formats detect /var/log/app/api.log -n 20
    """
    rows = []
    for found in obj.store().detect_formats(path, lines=count, log_format=log_format):
        row: dict[str, object] = {"line": found.line, "format": found.format}
        if found.columns is not None and fmt == "table":
            row["columns"] = found.columns_text()
        elif found.columns is not None:
            row.update(found.columns)
        rows.append(row)
    render(rows, fmt)


COMMANDS = [formats]
