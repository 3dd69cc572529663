"""`logkit formats`: the log formats logkit knows, and which one each line of a file is.

`detect` is the command to run before trusting a new source: it needs no store, reads the first
lines of a file the way ingest would (formats from logkit.toml included), and shows per line the
format recognised and what each canonical column would get.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import click

from ..output import output_options, render

pass_context = click.make_pass_decorator(object)


def _config(obj: Any) -> Any:
    from ..config import find_config, load_config

    return load_config(find_config(obj.config, Path(obj.db) if obj.db else None))


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
    if ctx.invoked_subcommand is not None:
        return
    from ..formats import known, load_formats
    from ..ingest import format_settings

    settings = format_settings(_config(ctx.obj))
    specs = load_formats(settings.tables, settings.formats_dir)
    rows = [
        {"name": s.name, "description": s.description, "defined_in": _where(s.origin)}
        for s in known(specs)
    ]
    render(rows, fmt)


def _where(origin: str) -> str:
    from ..formats import FORMATS_DIR

    path = Path(origin)
    if path.parent == FORMATS_DIR:
        return f"built-in ({path.name})"
    return origin


@formats.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-n", "--lines", "count", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many lines to look at.")  # fmt: skip
@click.option("--log-format", metavar="NAME", help="Apply this format instead of recognising.")
@output_options
@click.pass_obj
def detect(obj: Any, path: str, count: int, log_format: str | None, fmt: str) -> None:
    """Show, without a store, which format each of the first lines of PATH matches and what
    each canonical column would get (values as stored, before masking).

    Example: logkit formats detect /var/log/app/api.log -n 20
    """
    from ..ingest import format_settings
    from ..pipeline import Reject, parse_json
    from ..sources import Source

    config = _config(obj)
    recognizer = format_settings(config, log_format).recognizer(config.aliases)
    source = Source(path)
    rows = []
    try:
        data = b""
        while data.count(b"\n") < count and (block := source.read(1 << 16)):
            data += block
    finally:
        source.close()
    for number, raw in enumerate(itertools.islice(data.split(b"\n"), count), start=1):
        if not raw.strip() and number > data.count(b"\n"):
            break
        try:
            event = recognizer(parse_json(raw))
        except Reject as reject:
            rows.append({"line": number, "format": f"(rejected: {reject.reason})"})
            continue
        columns = {k: v for k, v in event.items() if k != "attrs" and v is not None}
        if "ts" in columns:
            columns["ts"] = _show("ts", columns["ts"])
        row = {"line": number, "format": recognizer.last, **columns}
        if fmt == "table":
            shown = ", ".join(f"{k}={_show(k, v)}" for k, v in columns.items())
            row = {"line": number, "format": recognizer.last, "columns": shown}
        rows.append(row)
    render(rows, fmt)


def _show(column: str, value: Any) -> str:
    if column == "ts" and type(value) is int:
        from datetime import UTC, datetime, timedelta

        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)
        return moment.isoformat().replace("+00:00", "Z")
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


COMMANDS = [formats]
