"""Mistakes a new user makes get `Error: ...` and exit 1, never a traceback.

Each case runs the real `python -m logkit` process (the one place that turns a LogkitError into
a message is `logkit.cli.main`) against real stores and files: ages too long to count back,
JSON paths with empty steps, reports and keys written where no file can be, a Markdown report
without the charting library, and a DuckDB database that logkit did not make.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import duckdb
import pytest

import logkit
from logkit.cli import cli, main

from .helpers import run_logkit

TOO_FAR = "give a shorter age, or an ISO 8601 time such as 2020-01-01"


def error(proc: subprocess.CompletedProcess[bytes]) -> tuple[int, str]:
    return proc.returncode, proc.stderr.decode()


class TestAgesTooLong:
    @pytest.mark.parametrize("command", [["errors"], ["search", "timeout"], ["stats"]])
    @pytest.mark.parametrize("age", ["99999999d", "99999999w", "99999999999h"])
    def test_a_since_before_the_year_1_is_a_clear_error(self, query_store, command, age):
        proc = run_logkit(*command, "--since", age, db=query_store.path, check=False)
        expected = f"Error: --since '{age}' reaches back before the year 1: {TOO_FAR}\n"
        assert (1, expected) == error(proc)

    def test_an_age_past_what_python_counts_is_a_clear_error(self, query_store):
        proc = run_logkit("errors", "--since", "9999999999999d", db=query_store.path, check=False)
        expected = f"Error: --since '9999999999999d' reaches back before the year 1: {TOO_FAR}\n"
        assert (1, expected) == error(proc)

    def test_prune_older_than_before_the_year_1_is_a_clear_error(self, query_store, tmp_path):
        db = tmp_path / "copy.duckdb"
        shutil.copy(query_store.path, db)
        proc = run_logkit("prune", "--older-than", "99999999h", db=db, check=False)
        expected = f"Error: --older-than '99999999h' reaches back before the year 1: {TOO_FAR}\n"
        assert (1, expected) == error(proc)

    def test_a_long_age_that_fits_still_answers(self, query_store):
        """700,000 days back from 2026 is the year 109: allowed, and it covers everything."""
        proc = run_logkit("errors", "--since", "700000d", "--format", "ndjson",
                          db=query_store.path)  # fmt: skip
        assert proc.stdout.count(b"\n") >= 3


class TestFieldPaths:
    @pytest.mark.parametrize("field", ["attrs.a..b", ".a", "a.", "attrs."])
    def test_a_path_with_an_empty_step_is_a_clear_error(self, query_store, field):
        proc = run_logkit("search", "x", "--field", field, db=query_store.path, check=False)
        expected = (
            f"Error: --field {field!r} is not a column or an attrs key: name one such as "
            "path, err.stack or attrs.err.stack (keys separated by single dots)\n"
        )
        assert (1, expected) == error(proc)

    @pytest.mark.parametrize("field", ['attrs.a"b', "attrs.a\\b", "attrs.*", "attrs.$", "a]b"])
    def test_odd_characters_in_a_key_are_just_a_key(self, query_store, field):
        proc = run_logkit("search", "x", "--field", field, db=query_store.path)
        assert (0, b"") == (proc.returncode, proc.stderr)


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory on a read-only file system (root may write through file modes)."""
    target = tmp_path / "ro"
    target.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {proc.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


REPORT_WINDOW = ["--since", "2026-03-01T10:00:00Z", "--until", "2026-03-01T10:05:00Z"]


class TestFilesThatCannotBeWritten:
    def test_an_archive_under_a_file(self, query_store, tmp_path):
        (tmp_path / "file").write_text("")
        lake = tmp_path / "file" / "lake"
        proc = run_logkit("archive", "--to", str(lake), db=query_store.path, check=False)
        assert (1, f"Error: cannot write {lake}: Not a directory\n") == error(proc)

    def test_any_other_refusal_of_the_system_names_the_file(self, monkeypatch, capsys):
        """The CLI's last net: an OSError no LogkitError named is still one line."""

        @click.command("fill-disk")
        def fill_disk() -> None:
            raise OSError(errno.ENOSPC, "No space left on device", "/data/x.parquet")

        monkeypatch.setattr(sys, "argv", ["logkit", "fill-disk"])
        cli.add_command(fill_disk)
        try:
            with pytest.raises(SystemExit) as exited:
                main()
        finally:
            cli.commands.pop("fill-disk")
        assert 1 == exited.value.code
        assert "Error: /data/x.parquet: No space left on device\n" == capsys.readouterr().err

    def test_sample_logs_under_a_file(self, tmp_path):
        (tmp_path / "file").write_text("")
        out = tmp_path / "file" / "logs"
        proc = run_logkit("sample", "--lines", "10", "--out", str(out), db=tmp_path / "s.duckdb",
                          check=False)  # fmt: skip
        assert (1, f"Error: cannot write {out}: Not a directory\n") == error(proc)

    def test_a_report_into_a_missing_directory(self, query_store, tmp_path):
        out = tmp_path / "nowhere" / "pm.html"
        proc = run_logkit("report", *REPORT_WINDOW, "-o", str(out), db=query_store.path,
                          check=False)  # fmt: skip
        expected = f"Error: cannot write {out}: there is no directory {out.parent}\n"
        assert (1, expected) == error(proc)

    def test_a_markdown_report_whose_directory_is_a_file(self, query_store, tmp_path):
        (tmp_path / "file").write_text("")
        out = tmp_path / "file" / "pm.md"
        proc = run_logkit("report", *REPORT_WINDOW, "-o", str(out), db=query_store.path,
                          check=False)  # fmt: skip
        expected = f"Error: cannot write {out}: there is no directory {out.parent}\n"
        assert (1, expected) == error(proc)

    def test_a_report_into_a_read_only_directory(self, query_store, read_only_dir):
        out = read_only_dir / "pm.html"
        proc = run_logkit("report", *REPORT_WINDOW, "-o", str(out), db=query_store.path,
                          check=False)  # fmt: skip
        assert (1, f"Error: cannot write {out}: Read-only file system\n") == error(proc)

    def test_keygen_in_a_read_only_directory(self, read_only_dir):
        db = read_only_dir / "s.duckdb"
        proc = run_logkit("keygen", db=db, check=False)
        assert (1, f"Error: cannot write {db}.key: Read-only file system\n") == error(proc)

    def test_keygen_where_the_directory_is_a_file(self, tmp_path):
        (tmp_path / "file").write_text("")
        db = tmp_path / "file" / "s.duckdb"
        proc = run_logkit("keygen", db=db, check=False)
        expected = f"Error: cannot write {db}.key: there is no directory {db.parent}\n"
        assert (1, expected) == error(proc)


def run_without_matplotlib(*args: str, db: Path) -> subprocess.CompletedProcess[bytes]:
    """`logkit ARGS` in a Python where `import matplotlib` fails, as where it is not installed."""
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"  # makes every import of it raise ImportError
        "from logkit.cli import main\n"
        f"sys.argv = ['logkit', '--db', {str(db)!r}, *{list(args)!r}]\n"
        "main()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True)


class TestMaskSettings:
    """The masker's errors (logkit/errors.py) reach the user as messages from every command
    that masks."""

    @pytest.mark.parametrize("command", [["mask"], ["ingest", "-q"]])
    @pytest.mark.parametrize(
        ("table", "message"),
        [
            ('mode = "hash"', "[mask] mode must be 'placeholder' or 'pseudonymize', not 'hash'"),
            ('detectors = { ref = "(" }', "[mask.detectors] 'ref': invalid regex"),
            (
                'mode = "pseudonymize"',
                "pseudonym mode needs a key: set $LOGKIT_MASK_KEY or create one with"
                " 'logkit keygen'",
            ),
        ],
    )
    def test_a_bad_mask_table_is_a_clear_error(self, tmp_path, command, table, message):
        config = tmp_path / "logkit.toml"
        config.write_text(f"[mask]\n{table}\n")
        log = tmp_path / "a.log"
        log.write_bytes(b'{"msg": "hi"}\n')
        db = tmp_path / "s.duckdb"
        proc = run_logkit(
            "--config", str(config), *command, str(log), db=db, check=False,
            env={"LOGKIT_MASK_KEY": ""},
        )  # fmt: skip
        code, stderr = error(proc)
        assert (1, True) == (code, stderr.startswith(f"Error: {message}"))
        if command == ["mask"]:
            assert not db.exists()  # `logkit mask` needs no store, and makes none


class TestWithoutMatplotlib:
    def test_markdown_to_stdout_needs_no_charting_library(self, query_store):
        proc = run_without_matplotlib("report", *REPORT_WINDOW, "--format", "md",
                                      db=query_store.path)  # fmt: skip
        assert 0 == proc.returncode, proc.stderr.decode()
        assert proc.stdout.startswith(b"# Postmortem: 2026-03-01 10:00:00 to 10:05:00 UTC")

    def test_a_report_with_charts_says_what_to_install(self, query_store, tmp_path):
        proc = run_without_matplotlib("report", *REPORT_WINDOW, "-o", str(tmp_path / "pm.html"),
                                      db=query_store.path)  # fmt: skip
        expected = (
            "Error: postmortems draw their charts with matplotlib, which is not installed: "
            "pip install 'logkit[notebooks]'\n"
        )
        assert (1, expected) == error(proc)


# -- a DuckDB database logkit did not make ----------------------------------------------------


def foreign_database(path: Path) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE invoices (id INTEGER, total DECIMAL(10, 2))")
    con.execute("INSERT INTO invoices VALUES (1, 9.99), (2, 120.00)")
    con.execute("CREATE VIEW big AS SELECT * FROM invoices WHERE total > 100")
    con.close()
    return path


def tables(path: Path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views()"
            " WHERE NOT internal ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    return [name for (name,) in rows]


FOREIGN = (
    "is not a logkit store (a DuckDB database with other tables: big, invoices); logkit "
    "leaves it as it is: pass --db with a logkit store or a new file name\n"
)
READ_COMMANDS = [
    ["errors"], ["search", "x"], ["stats"], ["trace", "abc"], ["user", "u1"],
    ["sql", "SELECT 1"], ["query", "slowest_traces"], [], ["report"],
]  # fmt: skip

WRITE_COMMANDS = [
    ["ingest", "LOG"], ["export", "--textfile", "PROM"], ["prune", "--older-than", "1d"],
]  # fmt: skip


class TestNotAStore:
    @pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0] if c else "overview")
    def test_a_read_command_refuses_and_adds_nothing(self, tmp_path, command):
        db = foreign_database(tmp_path / "theirs.duckdb")
        proc = run_logkit(*command, db=db, check=False)
        assert (1, f"Error: {db} {FOREIGN}") == error(proc)
        assert ["big", "invoices"] == tables(db)

    @pytest.mark.parametrize("command", WRITE_COMMANDS, ids=lambda c: c[0])
    def test_a_writing_command_refuses_and_adds_nothing(self, tmp_path, command):
        db = foreign_database(tmp_path / "theirs.duckdb")
        log = tmp_path / "a.log"
        log.write_text('{"message": "hello", "level": "info"}\n')
        args = [{"LOG": str(log), "PROM": str(tmp_path / "m.prom")}.get(a, a) for a in command]
        proc = run_logkit(*args, db=db, check=False)
        assert (1, f"Error: {db} {FOREIGN}") == error(proc)
        assert ["big", "invoices"] == tables(db)

    def test_the_python_api_refuses_too(self, tmp_path):
        db = foreign_database(tmp_path / "theirs.duckdb")
        with pytest.raises(logkit.errors.NotAStore):
            logkit.open(db).errors()
        with pytest.raises(logkit.errors.NotAStore):
            logkit.open(db).ingest([])
        assert ["big", "invoices"] == tables(db)

    def test_an_empty_database_is_read_as_no_store_and_written_as_a_new_one(self, tmp_path):
        db = tmp_path / "empty.duckdb"
        duckdb.connect(str(db)).close()
        proc = run_logkit("errors", db=db, check=False)
        expected = (
            f"Error: {db} is not a logkit store (an empty DuckDB database): run 'logkit ingest "
            "PATH' into it first, or pass the --db of a store\n"
        )
        assert ((1, expected), []) == (error(proc), tables(db))
        log = tmp_path / "a.log"
        log.write_text('{"message": "hello", "level": "info"}\n')
        run_logkit("ingest", str(log), db=db)
        assert b'{"n":1}\n' == run_logkit("sql", "SELECT count(*) AS n FROM events", db=db).stdout

    def test_an_empty_file_becomes_a_store(self, tmp_path):
        """`--db "$(mktemp)"`: a file of no bytes is no database yet."""
        db = tmp_path / "made-by-mktemp"
        db.write_bytes(b"")
        log = tmp_path / "a.log"
        log.write_text('{"message": "hello", "level": "info"}\n')
        run_logkit("ingest", str(log), db=db)
        assert b'{"n":1}\n' == run_logkit("sql", "SELECT count(*) AS n FROM events", db=db).stdout


DAMAGED = (
    "; the store file is damaged: restore it from a copy, or ingest the logs again into a new"
    " store (--db)\n"
)


def damaged_copy(store: Path, tmp_path: Path) -> Path:
    """The store with one byte of each of its blocks flipped (after DuckDB's three 4 KB
    headers, blocks of 256 KB, each checked by a checksum when read)."""
    data = bytearray(store.read_bytes())
    for at in range(3 * 4096 + 100, len(data), 256 * 1024):
        data[at] ^= 0xFF
    db = tmp_path / "damaged.duckdb"
    db.write_bytes(bytes(data))
    return db


class TestDamagedStore:
    @pytest.mark.parametrize("command", READ_COMMANDS + WRITE_COMMANDS,
                             ids=lambda c: c[0] if c else "overview")  # fmt: skip
    def test_every_command_says_the_store_is_damaged_in_one_line(
        self, query_store, tmp_path, command
    ):
        db = damaged_copy(query_store.path, tmp_path)
        log = tmp_path / "a.log"
        log.write_text('{"message": "hello", "level": "info"}\n')
        args = [{"LOG": str(log), "PROM": str(tmp_path / "m.prom")}.get(a, a) for a in command]
        code, said = error(run_logkit(*args, db=db, check=False))
        assert 1 == code
        assert said.startswith((f"Error: cannot read {db}: ", f"Error: cannot open {db}: ",
                                f"Error: cannot write {db}: "))  # fmt: skip
        assert said.endswith(DAMAGED)
        assert 1 == said.count("\n")
