"""The `logkit` command: a thin front end to `logkit.Store`.

Each command parses its options, calls one Store method and renders the answer. Errors raised
on purpose are `LogkitError`s; `main` turns them into `Error: ...` and exit status 1 (3: stored,
but an input was damaged) here, in one place, so no command needs its own try/except.
"""

from __future__ import annotations

import sys

import click

from .errors import LogkitError
from .store import Store


class Context:
    """What the group's options give every command."""

    def __init__(
        self, db: str | None, config: str | None, wait: float, lake: str | None = None
    ) -> None:
        self.db, self.config, self.wait, self.lake = db, config, wait, lake

    def store(self) -> Store:
        return Store(self.db, config_path=self.config, wait=self.wait, lake=self.lake)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="LOGKIT_DB",
    metavar="PATH",
    help="Store file (default: $LOGKIT_DB, else ./logkit.duckdb).",
)
@click.option(
    "--config", metavar="PATH", help="logkit.toml (default: ./logkit.toml, else beside the store)."
)
@click.option(
    "--wait",
    type=float,
    default=0.0,
    metavar="SECONDS",
    help="If another logkit is writing, wait this long for it instead of failing.",
)
@click.option(
    "--lake",
    envvar="LOGKIT_LAKE",
    metavar="DIR",
    help="Also answer from this Parquet lake ('logkit archive' writes it).",
)
@click.version_option(package_name="logkit", prog_name="logkit")
@click.pass_context
def cli(
    ctx: click.Context, db: str | None, config: str | None, wait: float, lake: str | None
) -> None:
    """Turn structured JSON logs into answers.

    Ingest NDJSON logs (plain, gzip, zstd, stdin) into an embedded DuckDB store with secrets
    masked, then ask it: trace, user, errors, search, stats, sql, query; export Prometheus
    metrics. With no command, shows an overview of the store.
    """
    ctx.obj = Context(db, config, wait, lake)
    if ctx.invoked_subcommand is None:
        from .commands.query import show_overview

        show_overview(ctx.obj)


def _register() -> None:
    from .commands import export, ingest, lake, query, report

    for module in (ingest, export, report, lake, query):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LogkitError as exc:
        from .output import escape_control

        # Messages quote file names and stored values, which anyone may have chosen.
        click.echo(f"Error: {escape_control(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        # `logkit ... | head` closed the pipe: not an error worth a traceback.
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
