"""The `logkit` command: a thin front end to `logkit.Store`.

Each command parses its options, calls one Store method and renders the answer. Errors raised
on purpose are `LogkitError`s; `main` turns them into `Error: ...` and exit status 1 (3: stored,
but an input was damaged) here, in one place, so no command needs its own try/except.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any, NoReturn

import click

from .commands.options import Context, accept_group_options, group_options
from .errors import Interrupted, LogkitError

# The command line does no linear algebra, but pyarrow loads numpy, whose OpenBLAS starts a
# thread per core that spins for a while (0.1 CPU s a command, taken from an ingest's core).
# Set before anything imports pyarrow; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@group_options
@click.version_option(None, "-V", "--version", package_name="logkit", prog_name="logkit")
@click.pass_context
def cli(ctx: click.Context, /, **options: Any) -> None:
    """Turn structured JSON logs into answers.

    Ingest NDJSON logs (plain, gzip, zstd, stdin) into an embedded DuckDB store with secrets
    masked, then ask it: trace, user, errors, search, stats, sql, query; export Prometheus
    metrics. With no command, shows an overview of the store.

    \b
    Examples:
      logkit ingest sample_logs/ && logkit errors --by endpoint
      logkit trace 7248245e
    """
    ctx.obj = Context(**options)
    ctx.obj.configure_output()
    if ctx.invoked_subcommand is None:
        from .commands.query import show_overview

        show_overview(ctx.obj)


def _register() -> None:
    from .commands import export, formats, ingest, lake, query, report

    for module in (ingest, formats, export, report, lake, query):
        for command in module.COMMANDS:
            accept_group_options(command)
            cli.add_command(command)


_register()


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort as exc:
        # click turns a KeyboardInterrupt into Abort; a signal that stopped a run has its say.
        if isinstance(exc.__cause__, Interrupted):
            stopped = exc.__cause__
            _exit(str(stopped), 128 + stopped.signum)
        _exit("Aborted!", 1)
    except click.ClickException as exc:  # usage errors (exit 2) with click's usage lines
        said = io.StringIO()
        exc.show(file=said)
        _exit(said.getvalue(), exc.exit_code)
    except LogkitError as exc:
        _exit(f"Error: {exc}", exc.exit_code)
    except BrokenPipeError:
        # `logkit ... | head` closed the pipe: not an error worth a traceback.
        sys.stderr.close()
        sys.exit(0)
    except OSError as exc:
        # What the system refused (a directory that cannot be made, a full disk) where no
        # LogkitError names it yet: the file and the system's reason, not a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        _exit(f"Error: {where}{exc.strerror or exc}", 1)
    except KeyboardInterrupt:
        sys.exit(130)


def _exit(message: str, code: int) -> NoReturn:
    """Where every error becomes what people read: on stderr, with control characters shown
    escaped, since messages quote file names and stored values that anyone may have chosen."""
    from .output import escape_control

    if message:
        click.echo(escape_control(message.removesuffix("\n")), err=True)
    sys.exit(code)
