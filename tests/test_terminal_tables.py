"""Every command is readable on any terminal: tables fit 80 and 200 columns, what a table or a
limit leaves out is said, JSON columns are JSON, colours and the pager follow the conventions
(NO_COLOR, --color, less -FRX only on a terminal), group options work after the command name.

Tables are rendered on the committed sample_logs/ (the store `make demo` builds), in-process
through click's runner with `COLUMNS` set, and on a real pseudo-terminal where isatty matters.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import logkit
from logkit.cli import cli
from logkit.output import display_width
from logkit.progress import Progress, progress_line, size_text

from .helpers import LOGKIT, run_logkit, write
from .test_terminal_output import on_terminal

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """sample_logs/ ingested; with a trace that failed and the busiest user."""
    db = tmp_path_factory.mktemp("sample") / "logkit.duckdb"
    store = logkit.open(db)
    store.ingest([str(SAMPLES)])
    store.frames = False
    trace = store.sql(
        "SELECT trace_id FROM events WHERE level = 'ERROR' AND trace_id IS NOT NULL"
        " ORDER BY ts LIMIT 1"
    ).rows[0][0]
    user = store.sql(
        "SELECT user_id FROM events WHERE user_id IS NOT NULL GROUP BY 1"
        " ORDER BY count(*) DESC, 1 LIMIT 1"
    ).rows[0][0]
    return {"db": str(db), "trace": trace, "user": user}


def show(sample: dict[str, str], *args: str, columns: int = 80) -> str:
    """What `logkit ARGS` prints, in colour, at `columns` wide."""
    result = CliRunner().invoke(
        cli, ["--db", sample["db"], "--color", "always", *args], env={"COLUMNS": str(columns)},
        catch_exceptions=False,
    )  # fmt: skip
    assert 0 == result.exit_code, result.output
    return result.stdout


def plain(text: str) -> list[str]:
    return _ANSI.sub("", text).splitlines()


TABLES = {
    "overview": [],
    "trace": ["trace", "{trace}"],
    "user": ["user", "{user}"],
    "errors": ["errors"],
    "errors by endpoint": ["errors", "--by", "endpoint"],
    "errors by fingerprint": ["errors", "--by", "fingerprint"],
    "errors by service": ["errors", "--by", "service"],
    "search": ["search", "request"],
    "stats": ["stats"],
    "stats by model": ["stats", "--by", "model"],
    "stats by path": ["stats", "--by", "path"],
    "sql": ["sql", "SELECT * FROM events LIMIT 20"],
    "query list": ["query", "--list"],
    "query": ["query", "slowest_traces", "-p", "limit=5"],
}


class TestTablesFitTheTerminal:
    @pytest.mark.parametrize("columns", [80, 200])
    @pytest.mark.parametrize("name", sorted(TABLES))
    def test_no_line_is_wider_than_the_terminal(self, sample, name, columns):
        args = [a.format(**sample) for a in TABLES[name]]
        if args:
            args += ["--format", "table"]
        lines = plain(show(sample, *args, columns=columns))
        assert len(lines) > 2
        assert [] == [line for line in lines if display_width(line) > columns]

    def test_the_waterfall_bar_uses_the_width_there_is(self, sample):
        """At 200 columns the bar is as long as the line allows, not a fixed 40."""
        for columns in (80, 200):
            lines = plain(show(sample, "trace", sample["trace"], "--format", "table",
                               columns=columns))  # fmt: skip
            bars = [line for line in lines if line.endswith("|") and "|" in line[:-1]]
            assert bars and {columns} == {len(line) for line in bars}

    def test_ids_are_whole_when_there_is_room_and_a_usable_prefix_when_not(self, sample):
        wide = plain(show(sample, "errors", "--format", "table", columns=200))
        narrow = plain(show(sample, "errors", "--format", "table", columns=80))
        whole = re.findall(r"\b[0-9a-f]{32}\b", "\n".join(wide[2:]))
        cut = re.findall(r"\b([0-9a-f]{8,31})…", "\n".join(narrow[2:]))
        assert whole and cut
        # The shortened id is a prefix `logkit trace` takes.
        out = show(sample, "trace", cut[0], "--format", "ndjson")
        assert orjson.loads(out.splitlines()[0])["trace_id"].startswith(cut[0])

    def test_columns_that_do_not_fit_are_named(self, sample):
        lines = plain(show(sample, "errors", "--format", "table", columns=80))
        notice = " ".join(line for line in lines if not line.startswith(("-", " ")))
        assert re.search(r"\(not shown at 80 columns: first_seen, services[;,].* a wider terminal",
                         notice)  # fmt: skip
        assert "first_seen" not in lines[0]
        wide = plain(show(sample, "errors", "--format", "table", columns=200))
        assert "first_seen" in wide[0] and "not shown" not in "\n".join(wide)

    def test_numbers_in_human_units_right_aligned(self, sample):
        lines = plain(show(sample, "stats", "--format", "table", columns=200))
        header, rows = lines[0], lines[2:]
        api = next(row for row in rows if row.startswith("api "))
        assert re.search(r"\d\.\d%", api)  # error_rate 0.0249 -> 2.5%
        assert re.search(r"\d+(\.\d+)? (ms|s)\b", api)  # p50 in ms or s, not 905.702
        gateway = next(row for row in rows if row.startswith("llm-gateway "))
        assert re.search(r"\$\d+\.\d{2}", gateway)
        assert re.search(r"\b\d+(\.\d+)?k\b", gateway)  # 141,108 input tokens -> 141k
        end = header.index("events") + len("events")  # right-aligned under the header's end
        assert all(row[end - 1].isdigit() and row[end] == " " for row in rows)

    def test_no_service_is_shown_as_none_everywhere(self, sample):
        for args in (["stats"], ["errors", "--by", "service"], ["errors"]):
            lines = plain(show(sample, *args, "--format", "table", columns=200))
            assert any(line.startswith("(none) ") for line in lines[2:]), args
        overview = plain(show(sample, columns=200))
        assert "(none) 9" in next(line for line in overview if line.startswith("services:"))


class TestWhatIsLeftOutIsSaid:
    def test_search_says_it_stopped_at_its_limit(self, sample):
        db = Path(sample["db"])
        total = orjson.loads(run_logkit("sql", "SELECT count(*) AS n FROM events WHERE"
                             " contains(lower(message), 'request') OR contains(lower("
                             "CAST(attrs AS VARCHAR)), 'request')", "--format", "json",
                             db=db).stdout)[0]["n"]  # fmt: skip
        assert total > 100
        notice = f"showing 100 of {total:,}; --limit N for more"
        table = plain(show(sample, "search", "request", "--format", "table", columns=200))
        assert f"({notice})" == table[-1]
        piped = run_logkit("search", "request", "--format", "ndjson", db=db)
        assert 100 == len(piped.stdout.splitlines())
        assert f"note: {notice}\n" == piped.stderr.decode()
        everything = run_logkit("search", "request", "--limit", "10000", db=db)
        assert total == len(everything.stdout.splitlines())
        assert b"" == everything.stderr

    def test_errors_says_how_many_groups_its_limit_left_out(self, sample):
        lines = plain(show(sample, "errors", "--limit", "2", "--format", "table", columns=200))
        assert re.fullmatch(r"\(showing 2 of \d+; --limit N for more\)", lines[-1])

    def test_a_named_query_says_when_its_limit_was_reached(self, sample):
        lines = plain(show(sample, "query", "slowest_traces", "-p", "limit=3", "--format",
                           "table", columns=200))  # fmt: skip
        assert "(showing the first 3; -p limit=N for more)" == lines[-1]
        assert 2 + 3 + 1 == len(lines)
        everything = plain(show(sample, "query", "slowest_traces", "-p", "limit=100000",
                                "--format", "table", columns=200))  # fmt: skip
        assert not any("showing" in line for line in everything)


class TestJsonColumns:
    @pytest.mark.parametrize(
        "args",
        [["search", "request"], ["sql", "SELECT attrs FROM events WHERE attrs IS NOT NULL"],
         ["trace", "{trace}"]],
    )  # fmt: skip
    @pytest.mark.parametrize("fmt", ["json", "ndjson"])
    def test_attrs_are_objects(self, sample, args, fmt):
        out = show(sample, *[a.format(**sample) for a in args], "--format", fmt)
        rows = orjson.loads(out) if fmt == "json" else [orjson.loads(x) for x in out.splitlines()]
        assert rows and all(isinstance(row["attrs"], dict) for row in rows)

    def test_any_json_column_is_json(self, sample):
        query = (
            "SELECT attrs->'$.client_ip' AS ip, [attrs] AS l FROM events"
            " WHERE attrs->>'$.client_ip' IS NOT NULL LIMIT 1"
        )
        row = orjson.loads(show(sample, "sql", query, "--format", "json"))[0]
        assert "[MASKED:ipv4]" == row["ip"]  # the JSON string, not '"[MASKED:ipv4]"'
        assert isinstance(row["l"][0], dict)
        cells = next(csv.DictReader(io.StringIO(show(sample, "sql", query, "--format", "csv"))))
        assert isinstance(orjson.loads(cells["l"])[0], dict)  # JSON text of the JSON list

    def test_csv_keeps_attrs_as_json_text(self, sample):
        out = show(sample, "search", "request", "--limit", "3", "--format", "csv")
        rows = list(csv.DictReader(io.StringIO(out)))
        assert 3 == len(rows)
        assert all(isinstance(orjson.loads(row["attrs"]), dict) for row in rows)


class TestColourAndPager:
    def test_colour_on_a_terminal_unless_no_color_or_never(self, sample):
        db = Path(sample["db"])
        args = ("errors", "--format", "table")
        assert b"\x1b[1m" in on_terminal(*args, db=db)[0]
        assert b"\x1b[" not in on_terminal(*args, db=db, env={"NO_COLOR": "1"})[0]
        assert b"\x1b[" not in on_terminal(*args, "--color", "never", db=db)[0]
        assert b"\x1b[1m" in on_terminal(*args, "--color", "always", db=db,
                                         env={"NO_COLOR": "1"})[0]  # fmt: skip
        assert b"\x1b[" not in run_logkit(*args, db=db).stdout
        assert b"\x1b[1m" in run_logkit("--color", "always", *args, db=db).stdout

    def test_long_output_is_paged_on_a_terminal_only(self, sample, tmp_path):
        db = Path(sample["db"])
        paged = tmp_path / "paged.txt"
        pager = {"LOGKIT_PAGER": f"sh -c 'cat > {paged}'", "LINES": "10"}
        out, _ = on_terminal("search", "request", "--format", "table", db=db, env=pager)
        assert b"" == out and "showing 100 of" in paged.read_text()
        paged.unlink()
        out, _ = on_terminal("search", "request", "--format", "table", "--no-pager", db=db,
                             env=pager)  # fmt: skip
        assert not paged.exists() and b"showing 100 of" in out
        # $PAGER when $LOGKIT_PAGER is not set.
        env = {"LOGKIT_PAGER": "", "PAGER": pager["LOGKIT_PAGER"], "LINES": "10"}
        on_terminal("search", "request", "--format", "table", db=db, env=env)
        assert paged.exists()
        paged.unlink()
        # Short output, or output to a pipe, is never paged.
        on_terminal("errors", "--limit", "1", "--format", "table", db=db, env=pager)
        run_logkit("search", "request", "--format", "table", db=db, env=pager)
        assert not paged.exists()


class TestOptions:
    def test_dash_capital_v_is_version(self, tmp_path):
        out = run_logkit("-V", db=tmp_path / "none.duckdb").stdout.decode()
        assert out.startswith("logkit, version ")

    def test_group_options_after_the_command_name(self, sample, tmp_path):
        proc = subprocess.run(
            [*LOGKIT, "errors", "--db", sample["db"], "--wait", "1", "--format", "json"],
            capture_output=True, cwd=tmp_path, env={**os.environ, "LOGKIT_DB": ""},
        )  # fmt: skip
        assert 0 == proc.returncode, proc.stderr
        assert orjson.loads(proc.stdout)
        # After the command it wins over the one before it.
        proc = subprocess.run(
            [*LOGKIT, "--db", str(tmp_path / "none.duckdb"), "stats", "--db", sample["db"],
             "--format", "json"], capture_output=True,
        )  # fmt: skip
        assert 0 == proc.returncode, proc.stderr


class TestPrune:
    @pytest.fixture
    def old_and_new(self, tmp_path: Path) -> Path:
        log = write(tmp_path / "app.log", orjson.dumps({"ts": "2020-01-01T00:00:00Z",
                    "level": "info", "message": "old"}) + b"\n" + orjson.dumps({
                    "level": "info", "message": "no time"}) + b"\n")  # fmt: skip
        db = tmp_path / "logkit.duckdb"
        run_logkit("ingest", "-q", str(log), db=db)
        return db

    def test_dry_run_says_what_would_go_and_writes_nothing(self, old_and_new):
        db = old_and_new
        before = (db.read_bytes(), db.stat().st_mtime_ns)
        out = run_logkit("prune", "--older-than", "30d", "--dry-run", db=db).stdout.decode()
        assert out.startswith("would delete 1 events and 0 rejects older than ")
        assert "(dry run: nothing deleted)" in out
        assert before == (db.read_bytes(), db.stat().st_mtime_ns)
        assert not Path(f"{db}.wal").exists()
        result = orjson.loads(run_logkit("prune", "--older-than", "30d", "--dry-run",
                                         "--format", "json", db=db).stdout)  # fmt: skip
        assert (1, True) == (result["events"], result["dry_run"])

    def test_sizes_are_measured_alike_and_kept_space_is_said(self, old_and_new):
        db = old_and_new

        def on_disk() -> int:
            wal = Path(f"{db}.wal")
            return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

        before = on_disk()
        result = orjson.loads(run_logkit("prune", "--older-than", "30d", "--format", "json",
                                         db=db).stdout)  # fmt: skip
        assert (1, before, on_disk()) == (result["events"], result["size_before"],
                                          result["size_after"])  # fmt: skip
        assert result["free_after"] >= 0
        text = run_logkit("prune", "--older-than", "1d", db=db).stdout.decode()
        assert text.startswith("deleted 0 events and 0 rejects older than ")
        assert re.search(r"store \d+\.\d MB -> \d+\.\d MB on disk", text)


class TestTraceIds:
    def test_hex_ids_in_upper_case_find_the_trace(self, sample):
        trace = sample["trace"]
        for typed in (trace.upper(), trace[:8].upper()):
            out = show(sample, "trace", typed, "--format", "ndjson")
            assert {trace} == {orjson.loads(x)["trace_id"] for x in out.splitlines()}


class TestErrorsExample:
    def test_example_trace_and_message_come_from_one_event(self, tmp_path):
        """The latest error of the group has no trace id: the example is the latest that has
        one, trace and message together, not one event's trace with another's message."""
        records = [
            {"ts": "2026-11-01T10:00:00Z", "level": "error", "service": "api", "method": "GET",
             "path": "/v1/a", "trace_id": "ab" * 16, "message": "upstream timed out"},
            {"ts": "2026-11-01T10:00:05Z", "level": "error", "service": "api", "method": "GET",
             "path": "/v1/a", "message": "connection reset"},
        ]  # fmt: skip
        log = write(tmp_path / "app.log", b"".join(orjson.dumps(r) + b"\n" for r in records))
        db = tmp_path / "logkit.duckdb"
        run_logkit("ingest", "-q", str(log), db=db)
        for by in ("endpoint", "type", "service"):
            rows = orjson.loads(run_logkit("errors", "--by", by, "--format", "json",
                                           db=db).stdout)  # fmt: skip
            assert [("ab" * 16, "upstream timed out")] == [
                (r["example_trace"], r["example"]) for r in rows
            ], by


class TestProgress:
    @pytest.mark.parametrize("width", [20, 40, 60, 80, 120, 200])
    @pytest.mark.parametrize("total", [None, 5_300_000_000])
    def test_the_progress_line_never_fills_the_terminal(self, width, total):
        text = progress_line(1_234_567_890, 12_345_678, total, 61.3, width)
        assert len(text) < width

    def test_a_redraw_at_80_columns_leaves_no_new_line(self, monkeypatch):
        monkeypatch.setenv("COLUMNS", "80")
        out = io.StringIO()  # not a terminal: its width is $COLUMNS
        progress = Progress(out)
        for n in range(1, 4):
            progress.last = 0.0
            progress(n * 400_000_000, n * 4_000_000, 5_300_000_000)
        draws = out.getvalue().split("\r")[1:]
        assert 3 == len(draws)
        assert all(len(d.removesuffix("\x1b[K")) < 80 for d in draws)
        assert "1.2 GB/5.3 GB" in draws[-1]

    def test_sizes_in_the_units_of_the_summary(self):
        """The summary says bytes / 10^6 as MB; so does the bar."""
        assert ("5.3 MB", "1.0 GB", "999 B") == (
            size_text(5_300_000),
            size_text(1_000_000_000),
            size_text(999),
        )
