"""What every command shares: the typed context and the options declared once.

The group's options (`--db`, `--config`, `--wait`, `--lake`, `--color`, `--no-pager`) fill a
`Context` that each command receives with `@pass_context`; each is also accepted after the
command name (`logkit export --db X`), where it overrides the group's. `--format` takes one
vocabulary across commands (`logkit.output.FORMATS`): each command names the formats it can
write, and any other name of the vocabulary is refused with what the command does write.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..output import FORMATS, ROW_FORMATS, SUMMARY_FORMATS, configure, default_format

if TYPE_CHECKING:
    from ..store import Store

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Context:
    """What the group's options give every command."""

    db: str | None = None
    config: str | None = None
    wait: float = 0.0
    lake: str | None = None
    color: str = "auto"
    no_pager: bool = False

    def configure_output(self) -> None:
        # Colour and paging are decided where the output is written (logkit/output/).
        configure(color=self.color, pager=not self.no_pager)

    def override(self, name: str, value: object) -> None:
        """A group option given again after the command name."""
        setattr(self, name, value)
        if name in ("color", "no_pager"):
            self.configure_output()

    def store(self, *, frames: bool = True) -> Store:
        """The store the options name. `frames=False`: answers in plain rows, so that printing
        needs no polars (see logkit/query/reading.py)."""
        # Here, not at the top: commands that open no store (`logkit sample`, `--help`) need
        # not load it and the layers below it.
        from ..store import Store

        store = Store(self.db, config_path=self.config, wait=self.wait, lake=self.lake)
        store.frames = frames
        return store


pass_context = click.make_pass_decorator(Context)


# The group's options: (declaration, settings on the group, help). Each is a field of Context.
# (The settings are click.option's keyword arguments, of as many types: hence Any.)
GROUP_OPTIONS: list[tuple[str, dict[str, Any], str]] = [
    ("--db", {"envvar": "LOGKIT_DB", "metavar": "PATH"},
     "Store file (default: $LOGKIT_DB, else ./logkit.duckdb)."),
    ("--config", {"metavar": "PATH"},
     "logkit.toml (default: ./logkit.toml, else beside the store)."),
    ("--wait", {"type": click.FloatRange(min=0), "default": 0.0, "metavar": "SECONDS"},
     "If another logkit is writing, wait this long for it instead of failing."),
    ("--lake", {"envvar": "LOGKIT_LAKE", "metavar": "DIR"},
     "Also answer from this Parquet lake ('logkit archive' writes it)."),
    ("--color", {"type": click.Choice(["auto", "always", "never"]), "default": "auto"},
     "Colours: auto (on a terminal, unless $NO_COLOR is set), always or never."),
    ("--no-pager", {"is_flag": True, "default": False},
     "Do not page long output ($LOGKIT_PAGER, else $PAGER, else less -FRX) on a terminal."),
]  # fmt: skip


def group_options(func: F) -> F:
    """The group's options, with their defaults and environment variables."""
    for decl, settings, text in reversed(GROUP_OPTIONS):
        func = click.option(decl, help=text, **settings)(func)
    return func


def _set_after_command(ctx: click.Context, param: click.Parameter, value: object) -> None:
    if value is None or (param.name == "no_pager" and not value):
        return  # not given after the command: the group's value stands
    assert param.name is not None  # every group option has one
    ctx.ensure_object(Context).override(param.name, value)


def accept_group_options(command: click.Command) -> None:
    """Let each group option also come after `command`'s name (without the group's default,
    which would override what was given before the name)."""
    own = {opt for param in command.params for opt in getattr(param, "opts", ())}
    assert not own & {decl for decl, _, _ in GROUP_OPTIONS}, f"{command.name} redeclares them"
    for decl, settings, text in GROUP_OPTIONS:
        settings = {k: v for k, v in settings.items() if k not in ("envvar", "default")}
        command.params.append(
            click.Option([decl], help=text, expose_value=False, callback=_set_after_command,
                         **settings)
        )  # fmt: skip


# -- --format ------------------------------------------------------------------------------


class FormatChoice(click.Choice[str]):
    """A `--format` value: one of the vocabulary that this command can write.

    Help and completion show the command's own formats; a name it cannot write is refused by
    saying what it does write.
    """

    def get_invalid_choice_message(self, value: object, ctx: click.Context | None) -> str:
        writes = f"{_command_name(ctx)} writes {_either(self.choices)}"
        if value in FORMATS:
            return f"{writes}, not {value}"
        return f"{value!r} is not one of logkit's formats ({', '.join(FORMATS)}); {writes}"


def _either(names: Sequence[str]) -> str:
    return " or ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} or {names[-1]}"


def _command_name(ctx: click.Context | None) -> str:
    names = []
    while ctx is not None and ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(["logkit", *reversed(names)])


def format_option(
    formats: Sequence[str], *, default: str | Callable[[], str] | None, help: str
) -> Callable[[F], F]:
    """`--format`, taking `formats` of the vocabulary; `default` may be decided when run."""
    unknown = set(formats) - set(FORMATS)
    assert not unknown, f"not in logkit.output.FORMATS: {unknown}"
    return click.option(
        "--format", "fmt", type=FormatChoice(list(formats)), default=default, help=help
    )


# Rows (every reading command): a table on a terminal, ndjson when piped.
output_options = format_option(
    ROW_FORMATS,
    default=default_format,
    help="Output format (default: table on a terminal, ndjson when piped).",
)
# What a command that changes the store did: a summary for people, or JSON.
summary_format_option = format_option(SUMMARY_FORMATS, default="text", help="Summary format.")


# -- other options more than one command takes ---------------------------------------------


def time_options(func: F) -> F:
    """`--since` and `--until`; a relative --since counts back from --until when given."""
    func = click.option(
        "--until", metavar="TIME", help="End: an age such as 30m, or an ISO 8601 time."
    )(func)
    return click.option(
        "--since",
        metavar="TIME",
        help="Start: an age such as 15m, 2h, 7d (back from --until if given, else now), "
        "or an ISO 8601 time such as 2026-11-01T12:00Z.",
    )(func)


def _params(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    parsed = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", ctx, param)
        parsed[key.strip()] = rest
    return parsed


param_option = functools.partial(
    click.option,
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_params,
    help="A bound parameter ($KEY in the SQL); repeatable.",
)

definitions_option = click.option(
    "--definitions",
    type=click.Path(file_okay=False, exists=True),
    metavar="DIR",
    help="Extra metric definitions (*.sql), added to the built-in ones.",
)


def maintenance_options(command: F) -> F:
    """--definitions and --format: what the commands that delete or move the store's events
    (and so must keep the exported counters whole) all take."""
    return definitions_option(summary_format_option(command))
