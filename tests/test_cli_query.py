"""The query commands as people run them: output formats, messages and exit codes.

Output is checked through click's CliRunner (not a terminal, so styles are dropped and the
default format is ndjson); errors and exit codes through a real `python -m logkit` process,
because the conversion of LogkitError into `Error: ...` lives in `logkit.cli.main`.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

import logkit
from logkit.cli import cli
from logkit.commands.query import COMMANDS

from .conftest import INCIDENT_END, TRACE_A, TRACE_B, write_incident
from .helpers import run_logkit

WINDOW = ["--since", "1h", "--until", INCIDENT_END]


def invoke(store: logkit.Store, *args: str, columns: int = 80) -> Result:
    result = CliRunner().invoke(
        cli, ["--db", str(store.path), *args], catch_exceptions=False,
        env={"COLUMNS": str(columns)},
    )  # fmt: skip
    assert 0 == result.exit_code, result.output
    return result


def ndjson(text: str) -> list[dict]:
    return [orjson.loads(line) for line in text.splitlines()]


class TestTrace:
    def test_table_has_waterfall_events_and_summary(self, query_store: logkit.Store) -> None:
        """The table: a bar per service, the events, the first error marked, a summary."""
        lines = invoke(
            query_store, "trace", TRACE_A, "--format", "table", columns=200
        ).output.splitlines()
        assert f"trace {TRACE_A}  started 2026-03-01 10:00:00.000+00:00" == lines[0]
        bars = {line.split()[0]: line[line.index("|") :] for line in lines if "|" in line}
        assert {200} == {len(line) for line in lines if "|" in line}  # the width there is
        n = len(bars["api"]) - 2
        # llm-gateway is seen from 100 ms to 900 ms of 950; its reported 800 ms end at its
        # last event, so no earlier busy time.
        start, end = round(100 / 950 * (n - 1)), round(900 / 950 * (n - 1))
        assert {
            "api": "|" + "█" * n + "|",
            "llm-gateway": "|" + " " * start + "█" * (end - start + 1) + " " * (n - 1 - end) + "|",
        } == bars
        marked = [line for line in lines if line.startswith(">> ")]
        assert 1 == len(marked)
        assert "llm-gateway  ERROR  upstream rate limited after 3 attempts" in marked[0]
        assert (
            "2 services · 4 events · 950 ms · outcome: ERROR: RateLimitError in llm-gateway "
            "at +900 ms: upstream rate limited after 3 attempts (status 503)"
        ) == lines[-1]

    def test_summary_of_a_good_trace(self, query_store: logkit.Store) -> None:
        """A trace without errors ends 'ok' with its status."""
        last = invoke(query_store, "trace", TRACE_B, "--format", "table", columns=200)
        last = last.output.splitlines()[-1]
        assert "2 services · 4 events · 300 ms · outcome: ok (status 200)" == last

    def test_ndjson_gives_full_events_with_attrs(self, query_store: logkit.Store) -> None:
        """Machine formats carry every column, attrs as an object, and the offset."""
        events = ndjson(invoke(query_store, "trace", TRACE_B, "--format", "ndjson").output)
        assert [0.0, 10.0, 20.0, 300.0] == [e["offset_ms"] for e in events]
        assert "job-status" == events[1]["attrs"]["cache"]
        assert "2026-03-01T10:01:00.010000+00:00" == events[1]["ts"]

    def test_piped_default_is_ndjson(self, query_store: logkit.Store) -> None:
        """Without --format and off a terminal, one JSON object per line."""
        assert 4 == len(ndjson(invoke(query_store, "trace", "aaaa1").output))

    def test_csv(self, query_store: logkit.Store) -> None:
        """CSV has a header and one row per event, attrs as JSON text."""
        rows = list(csv.DictReader(io.StringIO(invoke(query_store, "trace", TRACE_A,
                                                      "--format", "csv").output)))  # fmt: skip
        assert 4 == len(rows)
        assert "{}" == rows[0]["attrs"] or rows[0]["attrs"].startswith("{")

    def test_not_found_exits_1_with_the_fix(self, query_store: logkit.Store) -> None:
        """No such trace: exit 1, and the message says what to check."""
        proc = run_logkit("trace", "nope", db=query_store.path, check=False)
        assert (1, "") == (proc.returncode, proc.stdout.decode())
        assert (
            f"Error: no events for trace 'nope' in {query_store.path} (check the id, or run "
            "'logkit ingest' on the logs that contain it)\n"
        ) == proc.stderr.decode()

    def test_ambiguous_prefix_exits_1(self, query_store: logkit.Store) -> None:
        """A prefix of two traces: exit 1, naming both."""
        proc = run_logkit("trace", "aaaa", db=query_store.path, check=False)
        assert 1 == proc.returncode
        assert f"matches {TRACE_A}, {TRACE_B};" in proc.stderr.decode()

    def test_hostile_id_is_not_found(self, query_store: logkit.Store) -> None:
        """An injection attempt is just an id nobody has."""
        proc = run_logkit("trace", "x' OR 1=1 --", db=query_store.path, check=False)
        assert 1 == proc.returncode
        assert proc.stderr.decode().startswith('Error: no events for trace "x\' OR 1=1 --"')

    def test_starts_without_the_heavy_imports(self, query_store: logkit.Store) -> None:
        """`logkit trace` has 0.25 s: it loads DuckDB's engine but neither the duckdb package's
        Python layer (~0.1 s) nor polars or pyarrow (engine.py)."""
        loaded = {m.split(".")[0] for m in modules_after_trace(query_store)}
        assert set() == {"duckdb", "polars", "pyarrow"} & loaded

    def test_starts_without_the_ingest_side(self, query_store: logkit.Store) -> None:
        """`logkit trace` only reads: none of the ingest's modules (its pipeline, log formats,
        native core, normalize.py's 17 ms) is imported for it."""
        ingest = {"ingest", "pipeline", "formats", "core", "_core", "normalize", "sources", "mask"}
        loaded = {m.split(".")[1] for m in modules_after_trace(query_store) if "." in m}
        assert set() == ingest & loaded


def modules_after_trace(store: logkit.Store) -> list[str]:
    """The modules (logkit's, and the top-level ones) a `logkit trace` run has imported."""
    script = (
        "import sys\n"
        "from logkit.cli import main\n"
        f"sys.argv = ['logkit', '--db', {str(store.path)!r}, 'trace', {TRACE_A!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(*(m for m in sys.modules if '.' not in m or m.startswith('logkit.')),"
        " file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    assert TRACE_A in proc.stdout.decode()
    return proc.stderr.decode().split()


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> logkit.Store:
    """One event whose message carries terminal escapes and whose type is a CSV formula."""
    logs = tmp_path_factory.mktemp("hostile") / "logs"
    logs.mkdir()
    record = {"timestamp": "2026-03-01T10:00:00Z", "level": "error", "service": "api",
              "trace_id": "feedc0de", "message": "boom \x1b[2J\x1b]0;pwned\x07 done",
              "error_type": "=HYPERLINK(\"http://x\")"}  # fmt: skip
    (logs / "a.log").write_bytes(orjson.dumps(record) + b"\n")
    store = logkit.open(logs.parent / "logkit.duckdb")
    store.ingest([str(logs)])
    return store


class TestUntrustedContent:
    def test_control_characters_shown_escaped(self, hostile_store: logkit.Store) -> None:
        """ANSI escapes in a message cannot clear the screen or retitle the window."""
        output = invoke(hostile_store, "trace", "feedc0de", "--format", "table", columns=200).output
        assert "\x1b" not in output and "\x07" not in output
        assert "boom \\x1b[2J\\x1b]0;pwned\\x07 done" in output

    def test_csv_formulas_neutralised(self, hostile_store: logkit.Store) -> None:
        """A cell a spreadsheet would run as a formula is prefixed with a quote."""
        output = invoke(hostile_store, "trace", "feedc0de", "--format", "csv").output
        assert "'=HYPERLINK" in output


class TestOtherCommands:
    def test_user(self, query_store: logkit.Store) -> None:
        """The user's traces, one per line."""
        rows = ndjson(invoke(query_store, "user", "u_1", "--format", "ndjson").output)
        assert [TRACE_A, TRACE_B] == [r["trace_id"] for r in rows]

    def test_unknown_user_exits_1(self, query_store: logkit.Store) -> None:
        """No events for the user: exit 1 with a message, not an empty table."""
        proc = run_logkit("user", "nobody", "--since", "1h", db=query_store.path, check=False)
        assert 1 == proc.returncode
        assert (
            f"Error: no events for user 'nobody' in that time window in {query_store.path} "
            "(check the id)\n"
        ) == proc.stderr.decode()

    def test_errors_by_fingerprint(self, query_store: logkit.Store) -> None:
        """--by fingerprint in JSON: the groups with counts."""
        rows = orjson.loads(
            invoke(query_store, "errors", "--by", "fingerprint", *WINDOW, "--format",
                   "json").output
        )  # fmt: skip
        assert {
            "deadlock detected on row <n>": 2,
            "login failed for <masked>": 2,
            "upstream rate limited after <n> attempts": 1,
            "request failed": 1,
        } == {r["fingerprint"]: r["count"] for r in rows}

    def test_bad_time_value_exits_1(self, query_store: logkit.Store) -> None:
        """A bad --since is a message with the accepted forms."""
        proc = run_logkit("errors", "--since", "yesterday", db=query_store.path, check=False)
        assert 1 == proc.returncode
        assert proc.stderr.decode().startswith(
            "Error: cannot read --since value 'yesterday': use a relative age such as 30s"
        )

    def test_search_table_leaves_attrs_out(self, query_store: logkit.Store) -> None:
        """The table is readable; attrs are in the machine formats."""
        output = invoke(query_store, "search", "deadlock", "--format", "table", columns=200).output
        assert "attrs" not in output.splitlines()[0]
        assert 2 + 2 == len(output.splitlines())

    def test_stats_csv(self, query_store: logkit.Store) -> None:
        """stats --by model as CSV."""
        rows = list(csv.DictReader(io.StringIO(
            invoke(query_store, "stats", "--by", "model", "--format", "csv").output)))  # fmt: skip
        assert {"gpt-4o", "claude-sonnet"} == {r["model"] for r in rows}

    def test_sql(self, query_store: logkit.Store) -> None:
        """sql with a bound parameter."""
        output = invoke(
            query_store, "sql", "SELECT count(*) AS n FROM events WHERE service = $s",
            "-p", "s=worker", "--format", "ndjson",
        ).output  # fmt: skip
        assert [{"n": 3}] == ndjson(output)

    def test_sql_cannot_read_files(self, query_store: logkit.Store) -> None:
        """Reading a file outside the store: exit 1 with a clear message."""
        proc = run_logkit(
            "sql", "SELECT * FROM read_csv('/etc/passwd')", db=query_store.path, check=False
        )
        assert 1 == proc.returncode
        assert proc.stderr.decode().startswith(
            "Error: logkit sql reads only the store: files, extensions and other databases are "
            "off limits"
        )

    @pytest.mark.parametrize("query", ["", "  \n "])
    def test_sql_without_sql_says_so(self, query_store: logkit.Store, query: str) -> None:
        """Not a silent exit 0 with nothing printed."""
        proc = run_logkit("sql", query, db=query_store.path, check=False)
        expected = "Error: give some SQL to run, such as 'SELECT count(*) FROM events'\n"
        assert (1, expected) == (proc.returncode, proc.stderr.decode())

    def test_query_list(self, query_store: logkit.Store) -> None:
        """--list names the top-level queries only."""
        names = [r["name"] for r in ndjson(invoke(query_store, "query", "--list").output)]
        assert "slowest_traces" in names
        assert not any("metric" in name for name in names)

    def test_query_with_params(self, query_store: logkit.Store) -> None:
        """-p values are bound."""
        rows = ndjson(invoke(query_store, "query", "slowest_traces", "-p", "limit=2").stdout)
        assert 2 == len(rows)

    def test_param_without_equals_is_a_usage_error(self, query_store: logkit.Store) -> None:
        """-p needs KEY=VALUE (click's usage error, exit 2)."""
        result = CliRunner().invoke(
            cli, ["--db", str(query_store.path), "query", "slowest_traces", "-p", "limit"]
        )
        assert 2 == result.exit_code
        assert "expected KEY=VALUE, got 'limit'" in result.output

    def test_every_command_has_help(self) -> None:
        """Each command explains itself in --help."""
        assert all(command.help and command.help.strip() for command in COMMANDS)


class TestOverview:
    def test_overview_of_a_store(self, query_store: logkit.Store) -> None:
        """`logkit` alone: events, span, services, errors."""
        lines = invoke(query_store, columns=200).output.splitlines()
        assert (
            f"{query_store.path}: 18 events from 2026-02-28 10:00:00 to 2026-03-01 10:04:20 UTC"
            " (1d 00h 04m)"
        ) == lines[0]
        assert "services: api 12 · llm-gateway 3 · worker 3" == lines[1]
        assert lines[2].startswith("errors: 7 (38.9%) · rejected lines: 0 · sources: 3")

    def test_command_without_a_store(self, tmp_path: Path) -> None:
        """A query command without a store: exit 1, how to make one, nothing created."""
        proc = run_logkit("errors", db=tmp_path / "none.duckdb", check=False)
        assert 1 == proc.returncode
        assert (
            f"Error: no store at {tmp_path / 'none.duckdb'} (run 'logkit ingest PATH' first, "
            "or pass --db)\n"
        ) == proc.stderr.decode()
        assert [] == list(tmp_path.iterdir())

    def test_no_store_gives_a_hint(self, tmp_path: Path) -> None:
        """Without a store: how to make one, exit 0, no traceback, nothing created."""
        proc = run_logkit(db=tmp_path / "none.duckdb")
        out = proc.stdout.decode()
        assert out.startswith(f"No store at {tmp_path / 'none.duckdb'} yet.")
        assert "logkit ingest" in out and "Traceback" not in proc.stderr.decode()
        assert [] == list(tmp_path.iterdir())


def test_fixture_logs_ingest_cleanly(tmp_path: Path) -> None:
    """The shared fixture's logs are all stored: no line rejected."""
    summary = logkit.open(tmp_path / "s.duckdb").ingest([str(write_incident(tmp_path))])
    assert (18, 0) == (summary.events, summary.rejects)
