"""How people see it: colour (`--color`, `NO_COLOR`), the pager, the terminal's size.

What the global options decide (`configure`) is kept in `SETTINGS`, read when text goes out:
`emit` writes text meant for people, styled only where colour is wanted and paged when it is
longer than the terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO

import click

from .text import is_terminal


class Settings:
    """What the global options decide: `--color auto|always|never` and `--no-pager`."""

    color = "auto"
    pager = True


SETTINGS = Settings()


def configure(*, color: str | None = None, pager: bool | None = None) -> None:
    if color is not None:
        SETTINGS.color = color
    if pager is not None:
        SETTINGS.pager = pager


def use_color(out: TextIO) -> bool:
    """Colour when asked (`--color always`), never when told (`--color never`, or `NO_COLOR`
    set, as no-color.org asks), else only on a terminal."""
    if SETTINGS.color != "auto":
        return SETTINGS.color == "always"
    return not os.environ.get("NO_COLOR") and is_terminal(out)


def terminal_size() -> tuple[int, int]:
    """(columns, lines) to fit in: `COLUMNS` and `LINES` if set, else the terminal's, else
    80 x 24 (as for a pipe). shutil.get_terminal_size's rules, without importing shutil
    on `logkit trace`'s path."""
    size = (80, 24)
    with contextlib.suppress(AttributeError, ValueError, OSError):
        columns, lines = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
        if columns > 0 and lines > 0:  # a new pseudo-terminal may say 0 x 0
            size = (columns, lines)
    sizes = []
    for name, fallback in (("COLUMNS", size[0]), ("LINES", size[1])):
        try:
            value = int(os.environ.get(name, ""))
        except ValueError:
            value = 0
        sizes.append(value if value > 0 else fallback)
    return sizes[0], sizes[1]


def terminal_width() -> int:
    """Columns to fit in: `COLUMNS` if set, else the terminal's, else 80 (as for a pipe)."""
    return max(40, terminal_size()[0])


def emit(text: str, *, out: TextIO | None = None) -> None:
    """Write text meant for people (it may carry click styles): styles kept only where colour
    is wanted, and paged when it is longer than the terminal (see `page`)."""
    out = out or sys.stdout
    if not use_color(out):
        text = click.unstyle(text)
    if out is sys.stdout and page(text):
        return
    out.write(text)


def page(text: str) -> bool:
    """Show `text` through a pager when stdout is a terminal and it has more lines than the
    terminal: `$LOGKIT_PAGER`, else `$PAGER`, else `less -FRX` (as git: quit if it fits, keep
    colours, leave the text on screen). False when not paged (the caller writes it)."""
    if not SETTINGS.pager or not is_terminal(sys.stdout):
        return False
    if text.count("\n") < terminal_size()[1]:
        return False
    command = os.environ.get("LOGKIT_PAGER") or os.environ.get("PAGER") or "less -FRX"
    if command.strip() in ("", "cat"):
        return False
    import shlex
    import subprocess

    env = {"LESS": "FRX", "LV": "-c", **os.environ}
    sys.stdout.flush()
    try:
        pager = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, env=env)
    except (OSError, ValueError):  # no such pager: the text goes out as it is
        return False
    assert pager.stdin is not None
    try:
        pager.stdin.write(text.encode("utf-8", "replace"))
        pager.stdin.close()
    except BrokenPipeError:  # quit before the end ('q' in less)
        pass
    while True:
        try:
            pager.wait()
            break
        except KeyboardInterrupt:  # Ctrl-C is the pager's to handle (less stays open)
            continue
    return True
