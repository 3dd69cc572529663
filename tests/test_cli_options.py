"""What every command shares: one `--format` vocabulary, the group's options after any command
name, and the Store methods the thin commands call (logkit/commands/options.py).

Usage errors are checked through a real `python -m logkit` process, as people meet them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import orjson
import pytest

import logkit
from logkit.cli import cli
from logkit.detect import Detected
from logkit.errors import QueryError
from logkit.output import FORMATS

from .helpers import run_logkit, write


def _commands(group: click.Group = cli) -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield name, command
        if isinstance(command, click.Group):
            yield from ((f"{name} {sub}", c) for sub, c in _commands(command))


def _usage_error(*args: str, db: Path) -> tuple[int, str]:
    proc = run_logkit(*args, db=db, check=False)
    return proc.returncode, proc.stderr.decode().strip().splitlines()[-1]


class TestFormatVocabulary:
    def test_every_format_option_takes_names_of_the_one_vocabulary(self) -> None:
        """Each command's --format accepts only names from logkit.output.FORMATS, and together
        they use every name of it."""
        used: set[str] = set()
        for name, command in _commands():
            for param in command.params:
                if "--format" in getattr(param, "opts", ()):
                    choices = set(param.type.choices)  # type: ignore[attr-defined]
                    assert choices <= set(FORMATS), name
                    used |= choices
        assert set(FORMATS) == used

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["ingest", "-", "--format", "csv"], "logkit ingest writes text or json, not csv"),
            (["errors", "--format", "text"],
             "logkit errors writes table, json, ndjson or csv, not text"),
            (["report", "--format", "table"], "logkit report writes html or md, not table"),
            (["formats", "detect", "README.md", "--format", "html"],
             "logkit formats detect writes table, json, ndjson or csv, not html"),
        ],
    )  # fmt: skip
    def test_a_format_the_command_cannot_write_is_refused_with_what_it_writes(
        self, tmp_path: Path, args: list[str], message: str
    ) -> None:
        """A name of the vocabulary that this command cannot write: exit 2, saying what it
        does write."""
        assert (2, f"Error: Invalid value for '--format': {message}") == _usage_error(
            *args, db=tmp_path / "s.duckdb"
        )
        assert not (tmp_path / "s.duckdb").exists()

    def test_a_name_outside_the_vocabulary_is_refused_with_both_lists(self, tmp_path: Path) -> None:
        """An unknown name: what logkit knows and what this command writes."""
        assert (
            2,
            "Error: Invalid value for '--format': 'xml' is not one of logkit's formats (table,"
            " text, json, ndjson, csv, html, md); logkit prune writes text or json",
        ) == _usage_error("prune", "--older-than", "1d", "--format", "xml", db=tmp_path / "s")

    def test_a_summary_still_comes_as_json(self, tmp_path: Path) -> None:
        """The values each command took before are taken still: ingest --format json."""
        log = write(tmp_path / "a.log", b'{"level": "info", "message": "hi"}\n')
        proc = run_logkit("ingest", str(log), "--format", "json", db=tmp_path / "s.duckdb")
        assert 1 == orjson.loads(proc.stdout)["events"]


class TestStoreOptions:
    def test_wait_is_never_negative_before_or_after_the_command(self, tmp_path: Path) -> None:
        """--wait is declared once: the same check wherever it is given."""
        db = tmp_path / "s.duckdb"
        before = _usage_error("--wait", "-1", "errors", db=db)
        after = _usage_error("errors", "--wait", "-1", db=db)
        assert (2, 2) == (before[0], after[0])
        assert "-1.0 is not in the range x>=0" in before[1]
        assert before[1] == after[1]

    def test_lake_after_export_is_the_group_s(self, tmp_path: Path) -> None:
        """Every command takes every group option after its name, export's --lake too."""
        log = write(tmp_path / "a.log", b'{"level": "info", "message": "hi"}\n')
        proc = run_logkit(
            "export", "--ingest", str(log), "--stdout", "--wait", "5", "--lake",
            str(tmp_path / "lake"), db=tmp_path / "s.duckdb",
        )  # fmt: skip
        assert b"logkit_store_events 1.0" in proc.stdout


class TestStoreVerbs:
    def test_spark_query_without_a_lake_says_what_it_needs(self, tmp_path: Path) -> None:
        """A Spark query reads a lake: refused, before Spark starts, when there is none."""
        with pytest.raises(QueryError, match="a query on Spark reads a lake"):
            logkit.open(tmp_path / "s.duckdb").spark_query("status_code_mix")

    def test_formats_lists_built_in_formats_and_config_ones(self, tmp_path: Path) -> None:
        """The catalogue names where each format is defined, the logkit.toml beside the store
        included; no store file is made."""
        (tmp_path / "logkit.toml").write_text(
            '[formats.mine]\ndescription = "ours"\nmatch = { keys = ["kind"] }\n'
            'fields = { message = "text" }\n'
        )
        rows = {r["name"]: r for r in logkit.open(tmp_path / "s.duckdb").formats()}
        assert "built-in (generic.toml)" == rows["generic"]["defined_in"]
        assert ("ours", "logkit.toml [formats]") == (
            rows["mine"]["description"],
            rows["mine"]["defined_in"],
        )
        assert not (tmp_path / "s.duckdb").exists()

    def test_detect_formats_gives_each_line_s_verdict(self, tmp_path: Path) -> None:
        """A recognised line gives its columns, a bad one why it made no event."""
        log = write(
            tmp_path / "a.log",
            b'{"time": "2026-03-01T10:00:00Z", "level": "warn", "msg": "slow"}\nnot json\n',
        )
        found = logkit.open(tmp_path / "s.duckdb").detect_formats(str(log))
        assert 2 == len(found)
        assert Detected(2, "(rejected: not_json)") == found[1]
        assert ("2026-03-01T10:00:00Z", "WARNING", "slow") == (
            found[0].columns["ts"],  # type: ignore[index]
            found[0].columns["level"],  # type: ignore[index]
            found[0].columns["message"],  # type: ignore[index]
        )


class TestErrorMessages:
    def test_a_usage_error_shows_control_characters_escaped(self, tmp_path: Path) -> None:
        """click's usage errors go out where logkit's own do, escaped the same way: an argument
        quoted back cannot retitle the terminal."""
        proc = run_logkit("errors", "extra\x1b]0;pwned\x07", db=tmp_path / "s", check=False)
        assert (2, "Error: Got unexpected extra argument (extra\\x1b]0;pwned\\x07)") == (
            proc.returncode,
            proc.stderr.decode().strip().splitlines()[-1],
        )
        assert proc.stderr.decode().startswith("Usage: ")
