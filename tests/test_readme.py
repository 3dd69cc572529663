"""The README's examples answer on the sample logs, as it says they do.

Each line of the shell block under "Using it" runs, as written, from a clone after `make demo`
(the demo store built the way the Makefile builds it) with `LOGKIT_DB=demo/logkit.duckdb`, and
must give at least one row: a line of output, or of the file it writes (`-o`, `--textfile`).
The Python API block runs statement by statement in the same place, and every value it shows
must hold something; the polars frame printed under it is the one the store gives.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .helpers import LOGKIT

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def block(heading: str, language: str, nth: int = 0) -> str:
    """The `nth` fenced block in `language` of the README section under `heading`."""
    section = README.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)[nth]


COMMANDS = [line for line in block("## Using it", "sh").splitlines() if line.startswith("logkit ")]


def after_make_demo(root: Path) -> Path:
    """A clone with sample_logs/ and the store `make demo` writes (`logkit --db
    demo/logkit.duckdb ingest sample_logs/`, run from the clone's root)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "sample_logs").symlink_to(ROOT / "sample_logs")
    (root / "demo").mkdir()
    subprocess.run([*LOGKIT, "--db", "demo/logkit.duckdb", "ingest", "sample_logs/"],
                   cwd=root, check=True, capture_output=True)  # fmt: skip
    return root


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return after_make_demo(tmp_path_factory.mktemp("clone"))


def test_the_examples_are_found() -> None:
    """The README has the examples this file runs (so none is skipped by a changed heading)."""
    assert len(COMMANDS) >= 10
    assert any(c.startswith("logkit errors --since 2026-11-01T") for c in COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_cli_example_answers_on_the_sample_logs(command: str, demo: Path) -> None:
    args = shlex.split(command, comments=True)
    env = {**os.environ, "LOGKIT_DB": "demo/logkit.duckdb"}
    proc = subprocess.run([*LOGKIT, *args[1:]], cwd=demo, env=env, capture_output=True,
                          timeout=120)  # fmt: skip
    assert 0 == proc.returncode, proc.stderr.decode()[-2000:]
    written = [args[i + 1] for i, arg in enumerate(args) if arg in ("-o", "--textfile")]
    if written:
        rows = (demo / written[0]).read_text(encoding="utf-8").splitlines()
    elif args[1] == "ingest":  # the summary, on whichever stream it goes
        rows = (proc.stdout + proc.stderr).decode().splitlines()
    else:
        rows = proc.stdout.decode().splitlines()
    assert [row for row in rows if row.strip()], f"{command!r} gave nothing"


def holds_something(value: Any) -> bool:
    if value is None:
        return False
    if hasattr(value, "height"):  # a polars DataFrame
        return value.height > 0
    if isinstance(value, (dict, list, tuple, str)):
        return len(value) > 0
    return True


def test_every_python_example_answers_on_the_sample_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Statement by statement: each value shown holds rows, keys or a result."""
    monkeypatch.chdir(after_make_demo(tmp_path / "clone"))
    monkeypatch.delenv("LOGKIT_DB", raising=False)
    namespace: dict[str, Any] = {}
    empty = []
    for statement in ast.parse(block("## Python API", "python")).body:
        code = ast.unparse(statement)
        if isinstance(statement, ast.Expr):
            if not holds_something(eval(code, namespace)):  # the README's own code
                empty.append(code)
        else:
            exec(code, namespace)  # the README's own code
    assert [] == empty


def test_the_frame_shown_is_the_stores(demo: Path, tmp_path: Path) -> None:
    """The polars output printed in the README is what the demo store gives."""
    import logkit

    shutil.copy(demo / "demo" / "logkit.duckdb", tmp_path / "logkit.duckdb")
    store = logkit.open(tmp_path / "logkit.duckdb")
    shown = block("## Python API", "python", nth=1)
    expression, _, printed = shown.partition("\n")
    frame = eval(expression.removeprefix(">>> "), {"store": store})
    assert printed.strip() == str(frame)
