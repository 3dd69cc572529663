"""The documentation tells the truth: every command has help, and the README's CLI reference
is what `--help` prints today."""

from __future__ import annotations

import os
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


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_help_shows_an_example(name):
    assert "Example" in cli.commands[name].help, f"logkit {name} --help has no example"


def test_shell_completion_works_as_the_readme_says(tmp_path):
    """`_LOGKIT_COMPLETE=bash_source logkit` (the README's line) and a completion it gives."""
    assert 'eval "$(_LOGKIT_COMPLETE=bash_source logkit)"' in (ROOT / "README.md").read_text()
    script = Path(sys.executable).parent / "logkit"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    source = subprocess.run([script], env={**env, "_LOGKIT_COMPLETE": "bash_source"},
                            capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert "_logkit_completion()" in source.stdout
    words = {"_LOGKIT_COMPLETE": "bash_complete", "COMP_WORDS": "logkit err", "COMP_CWORD": "1"}
    done = subprocess.run([script], env={**env, **words}, capture_output=True, text=True,
                          cwd=tmp_path)  # fmt: skip
    assert "plain,errors" in done.stdout.splitlines()


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
