"""The documentation tells the truth: every command has help, and the README's CLI reference
is what `--help` prints today."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest

from logkit.cli import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_text(name):
    command = cli.commands[name]
    assert command.help, f"logkit {name} has no help text"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"logkit {name} {param.opts[0]} has no help text"


def test_the_readme_cli_reference_matches_help():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cli_reference.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert 0 == proc.returncode, proc.stderr


def test_the_readme_shows_the_two_setup_commands_on_its_first_screen():
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:25])
    assert "make demo" in first_screen and "make test" in first_screen
