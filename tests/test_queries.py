"""The query verbs of `Store` (logkit/query/) against a real ingested store.

Most tests read the session's `query_store` (see conftest.py for the events in it): a failed
request (TRACE_A), successful ones, worker deadlocks, failed logins and one error a day older
than the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson
import pytest

import logkit
from logkit.errors import NotFound, QueryError, StoreNotFound, TimeValueError
from logkit.fingerprint import fingerprint, fingerprint_sql, route, route_sql
from logkit.schema import trace_key
from logkit.sqlfiles import NamedQuery, load_all, parse, queries_dir, split, statement

from .conftest import (
    INCIDENT_END,
    TRACE_A,
    TRACE_B,
    TRACE_C,
    TRACE_G,
    UNICODE_USER,
)

HOSTILE = ["x' OR 1=1 --", "%", "_", "' UNION SELECT * FROM events --", "a%", "ω∑\x00"]
WINDOW = {"since": "1h", "until": INCIDENT_END}  # the incident's five minutes, not the day before


class TestTrace:
    def test_events_in_time_order_across_services(self, query_store: logkit.Store) -> None:
        """Every event of the trace, from both services, oldest first."""
        frame = query_store.trace(TRACE_A)
        assert [
            ("api", "request started"),
            ("llm-gateway", "completion started"),
            ("llm-gateway", "upstream rate limited after 3 attempts"),
            ("api", "request failed"),
        ] == list(zip(frame["service"], frame["message"], strict=True))

    def test_offset_from_first_event(self, query_store: logkit.Store) -> None:
        """offset_ms counts from the trace's first event."""
        assert [0.0, 100.0, 900.0, 950.0] == query_store.trace(TRACE_A)["offset_ms"].to_list()

    def test_frame_has_event_columns_and_attrs(self, query_store: logkit.Store) -> None:
        """The frame is the events as stored (attrs as JSON text), without the lookup key."""
        frame = query_store.trace(TRACE_B)
        assert "attrs" in frame.columns
        assert "trace_key" not in frame.columns
        assert '"cache":"job-status"' in frame.filter(frame["message"] == "cache hit")["attrs"][0]

    def test_unique_prefix_is_enough(self, query_store: logkit.Store) -> None:
        """A unique prefix finds the whole trace."""
        assert [TRACE_A] * 4 == query_store.trace("aaaa1")["trace_id"].to_list()

    def test_ambiguous_prefix_lists_candidates(self, query_store: logkit.Store) -> None:
        """A prefix shared by two traces is an error that names both."""
        with pytest.raises(QueryError) as info:
            query_store.trace("aaaa")
        assert (
            f"trace prefix 'aaaa' is ambiguous: it matches {TRACE_A}, {TRACE_B}; "
            "give more characters"
        ) == str(info.value)

    def test_not_found_says_what_to_check(self, query_store: logkit.Store) -> None:
        """An unknown id names the store and what to check."""
        with pytest.raises(NotFound) as info:
            query_store.trace("0123abcd")
        assert (
            f"no events for trace '0123abcd' in {query_store.path} (check the id, or run "
            "'logkit ingest' on the logs that contain it)"
        ) == str(info.value)

    @pytest.mark.parametrize("hostile", HOSTILE)
    def test_hostile_ids_find_nothing(self, query_store: logkit.Store, hostile: str) -> None:
        """Quotes, LIKE wildcards and odd characters are just characters of an id."""
        with pytest.raises(NotFound):
            query_store.trace(hostile)

    def test_empty_id_is_refused(self, query_store: logkit.Store) -> None:
        """An empty prefix would match every trace; it is an error instead."""
        with pytest.raises(QueryError, match="give a trace id"):
            query_store.trace("  ")


class TestTraceReport:
    def test_first_error_is_the_earliest_error_event(self, query_store: logkit.Store) -> None:
        """The gateway's rate limit, not the api's later failure, is where it went wrong."""
        report = query_store.trace_report(TRACE_A)
        assert report.first_error is not None
        assert (
            "upstream rate limited after 3 attempts" == report.events[report.first_error]["message"]
        )

    def test_events_have_parsed_attrs_and_aware_times(self, query_store: logkit.Store) -> None:
        """Machine formats get attrs as an object and ts as a UTC datetime."""
        event = query_store.trace_report(TRACE_B).events[1]
        assert {"cache": "job-status"} == {k: event["attrs"][k] for k in ("cache",)}
        assert datetime(2026, 3, 1, 10, 1, 0, 10000, tzinfo=UTC) == event["ts"]

    def test_waterfall_per_service(self, query_store: logkit.Store) -> None:
        """First and last appearance, events, errors and longest reported duration."""
        assert [
            {"service": "api", "first_ms": 0.0, "last_ms": 950.0, "events": 2, "errors": 1,
             "reported_ms": 950.0},
            {"service": "llm-gateway", "first_ms": 100.0, "last_ms": 900.0, "events": 2,
             "errors": 1, "reported_ms": 800.0},
        ] == query_store.trace_waterfall(TRACE_A).to_dicts()  # fmt: skip

    def test_summary_of_a_failed_trace(self, query_store: logkit.Store) -> None:
        """Services, events, total time, outcome, last status and the first error."""
        summary = query_store.trace_summary(TRACE_A)
        assert {
            "trace_id": TRACE_A,
            "start": datetime(2026, 3, 1, 10, tzinfo=UTC),
            "services": 2,
            "events": 4,
            "total_ms": 950.0,
            "outcome": "error",
            "status_code": 503,
            "first_error": {
                "offset_ms": 900.0,
                "service": "llm-gateway",
                "level": "ERROR",
                "error_type": "RateLimitError",
                "message": "upstream rate limited after 3 attempts",
            },
        } == summary

    def test_summary_of_a_good_trace(self, query_store: logkit.Store) -> None:
        """No error: outcome ok, with the final status."""
        summary = query_store.trace_summary(TRACE_B)
        assert ("ok", 200, None) == (
            summary["outcome"],
            summary["status_code"],
            summary["first_error"],
        )


class TestUser:
    def test_one_row_per_trace_across_services(self, query_store: logkit.Store) -> None:
        """u_1's two requests, each summarised over every service in its trace."""
        frame = query_store.user("u_1")
        assert [
            (TRACE_A, "POST /v1/generate/text", "api, llm-gateway", 4, 2, "RateLimitError", 503),
            (TRACE_B, "GET /v1/jobs/0a5d6baa9455", "api, llm-gateway", 4, 0, None, 200),
        ] == frame.select(
            "trace_id", "activity", "services", "events", "errors", "first_error", "status_code"
        ).rows()

    def test_time_window(self, query_store: logkit.Store) -> None:
        """--since/--until keep the user's events in the window (u_2's old failure is out)."""
        assert 3 == len(query_store.user("u_2"))
        assert [TRACE_D_PREFIX, TRACE_C] == [
            t if t == TRACE_C else t[:8] for t in query_store.user("u_2", **WINDOW)["trace_id"]
        ]

    def test_unicode_id(self, query_store: logkit.Store) -> None:
        """A non-ASCII user id is found as it is."""
        assert ["GET /healthz"] == query_store.user(UNICODE_USER)["activity"].to_list()

    @pytest.mark.parametrize("hostile", HOSTILE)
    def test_hostile_ids_find_nothing(self, query_store: logkit.Store, hostile: str) -> None:
        """An injected OR or a wildcard matches no user."""
        assert query_store.user(hostile).is_empty()


TRACE_D_PREFIX = "cccc4444"


class TestErrors:
    def test_by_type_in_a_window(self, query_store: logkit.Store) -> None:
        """Counts per error type, most frequent first (ties: most recent first)."""
        frame = query_store.errors(**WINDOW)
        assert [
            ("DatabaseError", 2, "worker"),
            ("AuthError", 2, "api"),
            ("RateLimitError", 2, "api, llm-gateway"),
        ] == frame.select("error_type", "count", "services").rows()

    def test_window_excludes_older_errors(self, query_store: logkit.Store) -> None:
        """The day-old TimeoutError counts only without the window."""
        assert "TimeoutError" in query_store.errors()["error_type"].to_list()
        assert "TimeoutError" not in query_store.errors(**WINDOW)["error_type"].to_list()

    def test_first_last_seen_and_example(self, query_store: logkit.Store) -> None:
        """Each group says when it was first and last seen, and gives a trace to look at."""
        row = query_store.errors(by="type", **WINDOW).row(0, named=True)
        assert (
            datetime(2026, 3, 1, 10, 4, tzinfo=UTC),
            datetime(2026, 3, 1, 10, 4, 10, tzinfo=UTC),
            TRACE_G,
        ) == (row["first_seen"], row["last_seen"], row["example_trace"])

    def test_by_fingerprint_groups_variable_parts(self, query_store: logkit.Store) -> None:
        """Row numbers, masked emails and attempt counts do not split a kind of error."""
        frame = query_store.errors(by="fingerprint", **WINDOW)
        assert {
            ("worker", "DatabaseError", "deadlock detected on row <n>", 2),
            ("api", "AuthError", "login failed for <masked>", 2),
            ("llm-gateway", "RateLimitError", "upstream rate limited after <n> attempts", 1),
            ("api", "RateLimitError", "request failed", 1),
        } == set(frame.select("service", "error_type", "fingerprint", "count").rows())

    def test_by_endpoint(self, query_store: logkit.Store) -> None:
        """Method and route, else job type, else model."""
        frame = query_store.errors(by="endpoint", **WINDOW)
        assert {
            ("POST /v1/auth/login", 2),
            ("job render_image", 2),
            ("POST /v1/generate/text", 1),
            ("model gpt-4o", 1),
        } == set(frame.select("endpoint", "count").rows())

    def test_by_service_and_service_filter(self, query_store: logkit.Store) -> None:
        """--by service counts per service; --service keeps one."""
        assert {("api", 3), ("worker", 2), ("llm-gateway", 1)} == set(
            query_store.errors(by="service", **WINDOW).select("service", "count").rows()
        )
        assert [("RateLimitError", 1)] == query_store.errors(service="llm-gateway").select(
            "error_type", "count"
        ).rows()

    def test_limit(self, query_store: logkit.Store) -> None:
        """--limit keeps the most frequent groups."""
        assert 1 == len(query_store.errors(limit=1))

    def test_unknown_grouping(self, query_store: logkit.Store) -> None:
        """A bad --by is an error that lists the choices."""
        with pytest.raises(QueryError) as info:
            query_store.errors(by="colour")
        assert "--by must be one of type, service, fingerprint, endpoint, not 'colour'" == str(
            info.value
        )

    def test_bad_time(self, query_store: logkit.Store) -> None:
        """A bad --since is a TimeValueError, not a DuckDB error."""
        with pytest.raises(TimeValueError):
            query_store.errors(since="last week")

    @pytest.mark.parametrize("hostile", HOSTILE)
    def test_hostile_service(self, query_store: logkit.Store, hostile: str) -> None:
        """A hostile --service matches nothing."""
        assert query_store.errors(service=hostile).is_empty()


class TestSearch:
    def test_plain_text_ignores_case(self, query_store: logkit.Store) -> None:
        """Plain text is a case-insensitive substring of the message."""
        assert ["upstream rate limited after 3 attempts"] == query_store.search("RATE LIMITED")[
            "message"
        ].to_list()

    def test_searches_attrs(self, query_store: logkit.Store) -> None:
        """Text in attrs (here the cache name) is found too."""
        assert {"cache hit", "cache miss"} == set(query_store.search("job-status")["message"])

    def test_regex(self, query_store: logkit.Store) -> None:
        """--regex takes an RE2 expression."""
        assert 2 == len(query_store.search(r"row \d+$", regex=True))

    def test_invalid_regex(self, query_store: logkit.Store) -> None:
        """An invalid expression is a QueryError that quotes it."""
        with pytest.raises(QueryError, match=r"^invalid regular expression '\(unclosed'"):
            query_store.search("(unclosed", regex=True)

    def test_field_column(self, query_store: logkit.Store) -> None:
        """--field limits the search to one column."""
        assert 2 == len(query_store.search("login", field="path"))
        assert 0 == len(query_store.search("login", field="error_type"))

    def test_field_attrs_key(self, query_store: logkit.Store) -> None:
        """--field may name an attrs key."""
        assert ["cache hit"] == query_store.search("job", field="cache", **WINDOW)[
            "message"
        ].to_list()[-1:]

    def test_level_and_above(self, query_store: logkit.Store) -> None:
        """--level keeps events at that level or above."""
        assert {"ERROR"} == set(query_store.search("request", level="warning")["level"])

    def test_newest_first(self, query_store: logkit.Store) -> None:
        """Results come newest first."""
        times = query_store.search("deadlock")["ts"].to_list()
        assert sorted(times, reverse=True) == times

    @pytest.mark.parametrize("hostile", ["%", "x' OR 1=1 --", "ω∑"])
    def test_hostile_text(self, query_store: logkit.Store, hostile: str) -> None:
        """Wildcards and quotes are literal text, which no event contains."""
        assert query_store.search(hostile).is_empty()

    def test_underscore_is_literal(self, query_store: logkit.Store) -> None:
        """'_' matches an underscore, not any character (no message has one)."""
        assert query_store.search("_", field="message").is_empty()


class TestStats:
    def test_by_service(self, query_store: logkit.Store) -> None:
        """Events, errors, error rate and duration percentiles per service."""
        row = query_store.stats(**WINDOW).filter(service="api").row(0, named=True)
        assert {
            "events": 11,
            "errors": 3,
            "error_rate": round(3 / 11, 4),
            "p50_ms": 350.0,
            "max_ms": 950.0,
            "cache_hit_rate": 0.5,
        } == {k: row[k] for k in ("events", "errors", "error_rate", "p50_ms", "max_ms",
                                  "cache_hit_rate")}  # fmt: skip

    def test_by_model_tokens_and_cost(self, query_store: logkit.Store) -> None:
        """LLM calls: tokens and cost by model."""
        frame = query_store.stats(by="model").sort("model")
        assert [("claude-sonnet", 200, 50, 0.004), ("gpt-4o", 100, 0, 0.001)] == frame.select(
            "model", "input_tokens", "output_tokens", "cost_usd"
        ).rows()

    def test_by_path_folds_ids(self, query_store: logkit.Store) -> None:
        """Two job ids, one route."""
        frame = query_store.stats(by="path")
        assert 4 == frame.filter(path="/v1/jobs/:id")["events"].item()

    def test_by_job_type(self, query_store: logkit.Store) -> None:
        """Only events with a job type, grouped by it."""
        assert [("render_image", 3, 2)] == query_store.stats(by="job_type").select(
            "job_type", "events", "errors"
        ).rows()


class TestSql:
    def test_select(self, query_store: logkit.Store) -> None:
        """Plain SQL over the events table."""
        frame = query_store.sql("SELECT count(*) AS n FROM events WHERE service = 'worker'")
        assert [{"n": 3}] == frame.to_dicts()

    def test_bound_parameters(self, query_store: logkit.Store) -> None:
        """$name parameters are bound, so a hostile value is just a value."""
        frame = query_store.sql(
            "SELECT count(*) AS n FROM events WHERE user_id = $u", {"u": "x' OR 1=1 --"}
        )
        assert [{"n": 0}] == frame.to_dicts()

    @pytest.mark.parametrize(
        "statement",
        [
            "CREATE TABLE t (x INTEGER)",
            "INSERT INTO events (message) VALUES ('x')",
            "DELETE FROM events",
            "DROP TABLE events",
            "SET lock_configuration = false",
        ],
    )
    def test_cannot_write(self, query_store: logkit.Store, statement: str) -> None:
        """Writes and configuration changes fail as read-only."""
        with pytest.raises(QueryError, match=r"^logkit sql is read-only \("):
            query_store.sql(statement)

    @pytest.mark.parametrize(
        "statement",
        [
            "COPY events TO '{tmp}/out.csv'",
            "ATTACH '{tmp}/other.duckdb' AS other",
            "SELECT * FROM read_csv('/etc/passwd')",
            "SELECT * FROM read_text('/etc/hostname')",
            "SELECT * FROM glob('/etc/*')",
            "INSTALL httpfs",
            "LOAD httpfs",
            "SET enable_external_access = true",
        ],
    )
    def test_cannot_reach_outside_the_store(
        self, query_store: logkit.Store, statement: str, tmp_path: Path
    ) -> None:
        """Files, other databases and extensions are off limits, with a clear message."""
        with pytest.raises(QueryError) as info:
            query_store.sql(statement.format(tmp=tmp_path))
        assert str(info.value).startswith(
            ("logkit sql reads only the store: ", "logkit sql is read-only (")
        )
        assert [] == list(tmp_path.iterdir())

    def test_logkit_macros_are_there_on_the_locked_down_connection(
        self, query_store: logkit.Store
    ) -> None:
        """is_error(level) and the other macros of logkit/macros.py, for anyone's SQL."""
        frame = query_store.sql(
            "SELECT is_error('ERROR') AS e, is_error('CRITICAL') AS c, is_error('WARNING') AS w,"
            " is_error(NULL) AS n, service_label(NULL, '/var/log/api.log.1.gz') AS s,"
            " path_template('/v1/jobs/0a5d6baa9455') AS p,"
            " error_fingerprint('user u_1 failed 3 times') AS f"
        )
        assert [
            {"e": True, "c": True, "w": False, "n": None, "s": "api", "p": "/v1/jobs/:id",
             "f": "user <id> failed <n> times"}
        ] == frame.to_dicts()  # fmt: skip

    def test_syntax_error(self, query_store: logkit.Store) -> None:
        """DuckDB's own message comes through as a QueryError."""
        with pytest.raises(QueryError, match="syntax error"):
            query_store.sql("SELEC 1")

    def test_statement_without_result(self, query_store: logkit.Store) -> None:
        """A statement with no rows gives an empty frame."""
        assert query_store.sql("CREATE TEMP TABLE scratch (x INTEGER)").is_empty()


class TestNamedQueries:
    def test_every_shipped_query_runs(self, query_store: logkit.Store) -> None:
        """Each queries/*.sql runs on a real store with its defaults."""
        for name in load_all():
            query_store.query(name)

    def test_list_has_names_descriptions_and_params(self, query_store: logkit.Store) -> None:
        """--list shows each top-level query (not metrics/) with its parameters."""
        frame = query_store.list_queries()
        row = frame.filter(name="slowest_traces").row(0, named=True)
        assert "since=, until=, limit=20" == row["params"]
        assert row["description"].startswith("The slowest traces")
        assert {
            "slowest_traces", "error_rate_per_minute", "top_users_by_errors", "status_code_mix",
            "cache_hit_rate", "tokens_cost_by_model", "rejects_by_reason", "sources_lag",
        } <= set(frame["name"])  # fmt: skip

    def test_parameters_are_bound_and_typed(self, query_store: logkit.Store) -> None:
        """String values from -p are converted: times parsed, limits made integers."""
        frame = query_store.query("slowest_traces", limit="1", since="1h", until=INCIDENT_END)
        assert [TRACE_G] == frame["trace_id"].to_list()

    def test_the_limit_a_query_stops_at(self, query_store: logkit.Store) -> None:
        """The `limit` a named query runs under: given, else its default; None without one."""
        assert 20 == query_store.query_limit("slowest_traces", {})
        assert 5 == query_store.query_limit("slowest_traces", {"limit": "5"})
        assert query_store.query_limit("status_code_mix", {}) is None

    def test_hostile_parameter(self, query_store: logkit.Store) -> None:
        """A hostile service value finds no rows."""
        assert query_store.query("status_code_mix", service="x' OR 1=1 --").is_empty()

    def test_unknown_name_suggests(self, query_store: logkit.Store) -> None:
        """A misspelt name gets a did-you-mean."""
        with pytest.raises(QueryError) as info:
            query_store.query("slowest_trace")
        assert (
            "no query named 'slowest_trace' (did you mean slowest_traces? see "
            "'logkit query --list')"
        ) == str(info.value)

    def test_path_like_name_is_refused(self, query_store: logkit.Store) -> None:
        """Names are names, not paths into the file system."""
        with pytest.raises(QueryError, match=r"no query named '\.\./metrics/x'"):
            query_store.query("../metrics/x")

    def test_unknown_parameter(self, query_store: logkit.Store) -> None:
        """An unknown -p key names the ones the query takes."""
        with pytest.raises(QueryError) as info:
            query_store.query("slowest_traces", colour="red")
        assert (
            "query 'slowest_traces' has no parameter 'colour' (it takes: since, until, limit)"
            == str(info.value)
        )

    def test_bad_integer(self, query_store: logkit.Store) -> None:
        """A non-integer limit is refused before DuckDB sees it."""
        with pytest.raises(QueryError, match="must be an integer, got 'many'"):
            query_store.query("slowest_traces", limit="many")


class TestQueryFiles:
    def test_header(self) -> None:
        """Name, description lines and typed parameters with defaults."""
        query = parse(
            "-- name: q\n-- Line one.\n-- Line two.\n-- params: who, since=, n:int=5\n"
            "SELECT $who, $since, $n;\n"
        )
        assert ("q", "Line one. Line two.", "SELECT $who, $since, $n") == (
            query.name,
            query.description,
            query.sql,
        )
        assert [("who", "str", True, None), ("since", "time", False, None),
                ("n", "int", False, "5")] == [
            (p.name, p.type, p.required, p.default) for p in query.params
        ]  # fmt: skip

    def test_required_parameter(self) -> None:
        """A parameter without a default must be given."""
        query = parse("-- name: q\n-- params: who\nSELECT $who")
        with pytest.raises(QueryError, match="needs a value for 'who': pass -p who=VALUE"):
            query.bind({})

    def test_declared_and_bound_parameters_agree(self) -> None:
        """A $name the header does not declare is caught when the file is read."""
        with pytest.raises(QueryError, match="declares \\['a'\\] but the SQL binds \\['b'\\]"):
            parse("-- name: q\n-- params: a\nSELECT $b")

    def test_logkit_s_own_statements_are_one_named_statement_a_file(self) -> None:
        """queries/AREA/NAME.sql (metrics/ aside): header read, named as the file, and one
        statement (DuckDB binds parameters only in one)."""
        import duckdb as package

        root = queries_dir()
        names = sorted(
            str(p.relative_to(root))[: -len(".sql")]
            for p in root.glob("*/*.sql")
            if p.parent.name != "metrics"
        )
        counts = {n: len(package.connect().extract_statements(statement(n))) for n in names}
        assert (True, {n: 1 for n in names}) == (len(names) > 40, counts)

    def test_a_metric_header_line_is_read_as_a_named_query_s(self) -> None:
        """One header reader: `-- key: value` lines, blank lines passed over, the rest prose."""
        parts = split(
            "-- name: x\n\n-- A line: of prose\n-- type: gauge\nSELECT 1;\n", keys=["name", "type"]
        )
        assert ([("name", "x"), ("type", "gauge")], ["A line: of prose"], "SELECT 1") == (
            parts.fields,
            parts.prose,
            parts.sql,
        )

    def test_missing_name_line(self) -> None:
        """The first line must name the query."""
        with pytest.raises(QueryError, match="first line must be '-- name: QUERY_NAME'"):
            parse("SELECT 1")

    def test_relative_since_counts_back_from_until(self) -> None:
        """In a named query too, since=2h counts back from the given until."""
        query = NamedQuery(name="q", description="", sql="", params=parse(
            "-- name: q\n-- params: since=, until=\nSELECT $since, $until").params)  # fmt: skip
        assert {
            "since": datetime(2026, 3, 1, 8, tzinfo=UTC),
            "until": datetime(2026, 3, 1, 10, tzinfo=UTC),
        } == query.bind({"since": "2h", "until": "2026-03-01T10:00Z"})


def in_duckdb(expression: str, values: list[str]) -> list[str]:
    """`expression` (over the parameter $v) evaluated by DuckDB for each value."""
    con = duckdb.connect()
    return [con.execute(f"SELECT {expression}", {"v": v}).fetchall()[0][0] for v in values]


class TestFingerprint:
    @pytest.mark.parametrize(
        ("message", "expected"),
        [
            ("user u_10335 not found after 3 retries", "user <id> not found after <n> retries"),
            ("no such key 'abc' in 9f2c41d0b7e3aa01", "no such key <str> in <hex>"),
            ('bad value "x y" for field', "bad value <str> for field"),
            ("login failed for [MASKED:email]", "login failed for <masked>"),
            ("login failed for [MASKED:email]~2", "login failed for <masked>"),
            ("login failed for email:9f2c41d0b7e3", "login failed for <masked>"),
            ("job 550e8400-e29b-41d4-a716-446655440000 lost", "job <uuid> lost"),
            ("segfault at 0xDEADBEEF", "segfault at <hex>"),
            ("took 30.5s", "took <n>s"),
            ("first line\nTraceback (most recent call last): ...", "first line"),
        ],
    )
    def test_variable_parts_become_placeholders(self, message: str, expected: str) -> None:
        """Numbers, ids, hex, uuids, quoted and masked values are replaced."""
        assert expected == fingerprint(message)

    def test_sql_and_python_agree(self) -> None:
        """The DuckDB expression computes exactly what the Python function does."""
        messages = [
            "user u_10335 not found after 3 retries",
            "no such key 'abc' in 9f2c41d0b7e3aa01 (req_f7c14da5e709)",
            "login failed for [MASKED:email] and email:9f2c41d0b7e3",
            'job 550e8400-e29b-41d4-a716-446655440000 at 0xff: "quoted" 12.5%',
            "ünïcødé 42\nsecond line",
            "x" * 500,
        ]
        assert [fingerprint(m) for m in messages] == in_duckdb(fingerprint_sql("$v"), messages)


class TestRoute:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("/v1/jobs/0a5d6baa9455", "/v1/jobs/:id"),
            ("/v1/users/42/files/550e8400-e29b-41d4-a716-446655440000", "/v1/users/:id/files/:id"),
            ("/v1/items?page=2", "/v1/items"),
            ("/healthz", "/healthz"),
            ("/v1/x/user_id:0a7fb1d6b2c4", "/v1/x/:id"),
        ],
    )
    def test_id_segments_folded(self, path: str, expected: str) -> None:
        """Numbers, hex, uuids and pseudonyms in a path become :id; words and versions stay."""
        assert expected == route(path)

    def test_sql_and_python_agree(self) -> None:
        """The DuckDB expression computes exactly what the Python function does."""
        paths = ["/v1/jobs/0a5d6baa9455", "/a/1/2/b", "/v1/a/b1/c123", "/x/a@b.c", "/", ""]
        assert [route(p) for p in paths] == in_duckdb(route_sql("$v"), paths)


class TestOverview:
    def test_counts_span_and_services(self, query_store: logkit.Store) -> None:
        """Events, first and last time, errors, services, rejects and sources."""
        info = query_store.overview()
        assert {
            "events": 18,
            "first": datetime(2026, 2, 28, 10, tzinfo=UTC),
            "last": datetime(2026, 3, 1, 10, 4, 20, tzinfo=UTC),
            "errors": 7,
            "services": {"api": 12, "llm-gateway": 3, "worker": 3},
            "rejects": 0,
            "sources": 3,
        } == {k: v for k, v in info.items() if k not in ("path", "last_ingest")}

    def test_no_store(self, tmp_path: Path) -> None:
        """Asking a store that does not exist says how to make one."""
        with pytest.raises(StoreNotFound, match="run 'logkit ingest PATH' first"):
            logkit.open(tmp_path / "none.duckdb").overview()


# Two trace ids with the same crc32, so the same trace_key (found by a birthday search).
COLLIDING = ("88acdba534112296134be9bb0f783b0c", "d9a0f0bb44804377d83453aa90e6cd95")


@pytest.fixture(scope="module")
def collision_store(tmp_path_factory: pytest.TempPathFactory) -> logkit.Store:
    """Two traces filed under one trace_key, one event each, by different users."""
    directory = tmp_path_factory.mktemp("collision")
    (directory / "logs").mkdir()
    records = [
        {"timestamp": "2026-03-01T10:00:00Z", "level": "info", "service": "api",
         "message": f"request {n}", "trace_id": trace_id, "user_id": f"u_{n}"}
        for n, trace_id in enumerate(COLLIDING)
    ]  # fmt: skip
    (directory / "logs" / "a.log").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    store = logkit.open(directory / "logkit.duckdb")
    store.ingest([str(directory / "logs")])
    return store


class TestTraceKeyCollisions:
    def test_the_ids_collide(self) -> None:
        """The premise: both ids have one crc32."""
        assert trace_key(COLLIDING[0]) == trace_key(COLLIDING[1])

    def test_trace_keeps_to_its_id(self, collision_store: logkit.Store) -> None:
        """A lookup by trace_key compares the ids too."""
        assert ["request 0"] == collision_store.trace(COLLIDING[0])["message"].to_list()
        assert ["request 1"] == [
            e["message"] for e in collision_store.trace_report(COLLIDING[1]).events
        ]

    def test_user_keeps_to_their_traces(self, collision_store: logkit.Store) -> None:
        """A user's timeline does not pick up the other trace under the same key."""
        assert [(COLLIDING[1], 1)] == collision_store.user("u_1").select(
            "trace_id", "events"
        ).rows()


class TestRows:
    @pytest.fixture
    def rows_store(self, query_store: logkit.Store) -> logkit.Store:
        store = logkit.open(query_store.path)
        store.frames = False
        return store

    @pytest.mark.parametrize(
        ("method", "kwargs"),
        [
            ("errors", {"by": "fingerprint"}),
            ("stats", {"by": "path"}),
            ("user", {"user_id": "u_1"}),
            ("search", {"text": "request"}),
            ("query", {"name": "slowest_traces"}),
            ("sql", {"query": "SELECT ts, attrs, [1, 2] AS l FROM events ORDER BY ts LIMIT 3"}),
        ],
    )
    def test_rows_and_frames_agree(
        self, query_store: logkit.Store, rows_store: logkit.Store, method: str, kwargs: dict
    ) -> None:
        """Without polars (frames=False, as the CLI asks) the answer is the same."""
        frame = getattr(query_store, method)(**kwargs)
        rows = getattr(rows_store, method)(**kwargs)
        assert (frame.columns, frame.to_dicts()) == (rows.columns, rows.to_dicts())

    def test_timestamps_are_aware_utc(self, rows_store: logkit.Store) -> None:
        """TIMESTAMPTZ values come back as UTC datetimes (without pytz)."""
        (row,) = rows_store.sql("SELECT min(ts) AS first FROM events").to_dicts()
        assert datetime(2026, 2, 28, 10, tzinfo=UTC) == row["first"]
        assert row["first"].utcoffset() is not None
