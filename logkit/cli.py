"""The `logkit` command: a thin front end to `logkit.Store`.

Each command parses its options, calls one Store method and renders the answer. Errors raised
on purpose are `LogkitError`s; `main` turns them into `Error: ...` and exit status 1 (3: stored,
but an input was damaged) here, in one place, so no command needs its own try/except.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .errors import Interrupted, LogkitError
from .store import Store


class Context:
    """What the group's options give every command."""

    def __init__(
        self, db: str | None, config: str | None, wait: float, lake: str | None = None
    ) -> None:
        self.db, self.config, self.wait, self.lake = db, config, wait, lake

    def store(self) -> Store:
        return Store(self.db, config_path=self.config, wait=self.wait, lake=self.lake)


# The group's options, each also accepted after the command name (`logkit errors --db X`):
# (declaration, settings on the group, help). After the command they override the group's.
GLOBAL_OPTIONS: list[tuple[str, dict[str, Any], str]] = [
    ("--db", {"envvar": "LOGKIT_DB", "metavar": "PATH"},
     "Store file (default: $LOGKIT_DB, else ./logkit.duckdb)."),
    ("--config", {"metavar": "PATH"},
     "logkit.toml (default: ./logkit.toml, else beside the store)."),
    ("--wait", {"type": float, "default": 0.0, "metavar": "SECONDS"},
     "If another logkit is writing, wait this long for it instead of failing."),
    ("--lake", {"envvar": "LOGKIT_LAKE", "metavar": "DIR"},
     "Also answer from this Parquet lake ('logkit archive' writes it)."),
    ("--color", {"type": click.Choice(["auto", "always", "never"]), "default": "auto"},
     "Colours: auto (on a terminal, unless $NO_COLOR is set), always or never."),
    ("--no-pager", {"is_flag": True, "default": False},
     "Do not page long output ($LOGKIT_PAGER, else $PAGER, else less -FRX) on a terminal."),
]  # fmt: skip


def _group_options(func: Any) -> Any:
    for decl, settings, text in reversed(GLOBAL_OPTIONS):
        func = click.option(decl, help=text, **settings)(func)
    return func


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@_group_options
@click.version_option(None, "-V", "--version", package_name="logkit", prog_name="logkit")
@click.pass_context
def cli(
    ctx: click.Context, db: str | None, config: str | None, wait: float, lake: str | None,
    color: str, no_pager: bool,
) -> None:  # fmt: skip
    """Turn structured JSON logs into answers.

    Ingest NDJSON logs (plain, gzip, zstd, stdin) into an embedded DuckDB store with secrets
    masked, then ask it: trace, user, errors, search, stats, sql, query; export Prometheus
    metrics. With no command, shows an overview of the store.

    \b
    Examples:
      logkit ingest sample_logs/ && logkit errors --by endpoint
      logkit trace 7248245e
    """
    from .output import configure

    configure(color=color, pager=not no_pager)
    ctx.obj = Context(db, config, wait, lake)
    if ctx.invoked_subcommand is None:
        from .commands.query import show_overview

        show_overview(ctx.obj)


def _set_after_command(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A group option given after the command name: it overrides the group's."""
    if value is None or (param.name == "no_pager" and not value):
        return
    if param.name in ("color", "no_pager"):
        from .output import configure

        configure(**({"color": value} if param.name == "color" else {"pager": False}))
        return
    setattr(ctx.ensure_object(Context), param.name, value)  # type: ignore[arg-type]


def _accept_group_options(command: click.Command) -> None:
    """Give `command` each group option it does not have itself (export and prune have their
    own --db and --wait, query its --lake), so it may come after the command name."""
    own = {opt for param in command.params for opt in getattr(param, "opts", ())}
    for decl, settings, text in GLOBAL_OPTIONS:
        if decl in own:
            continue
        settings = {k: v for k, v in settings.items() if k not in ("envvar", "default")}
        command.params.append(
            click.Option([decl], help=text, expose_value=False, callback=_set_after_command,
                         **settings)
        )  # fmt: skip


def _register() -> None:
    from .commands import export, formats, ingest, lake, query, report

    for module in (ingest, formats, export, report, lake, query):
        for command in module.COMMANDS:
            _accept_group_options(command)
            cli.add_command(command)


_register()


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort as exc:
        # click turns a KeyboardInterrupt into Abort; a signal that stopped a run has its say.
        if isinstance(exc.__cause__, Interrupted):
            stopped = exc.__cause__
            if str(stopped):
                click.echo(str(stopped), err=True)
            sys.exit(128 + stopped.signum)
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
