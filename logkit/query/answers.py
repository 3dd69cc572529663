"""The on-call questions, as `Store` methods: trace, user, errors, search, stats, sql, query.

`Answers` is a mixin (`class Store(Answers)`) so that store.py keeps connections and writing,
and this module keeps the questions. Every method opens a short read-only connection with
`self.reader()` (which waits while an ingest finishes a batch), runs one or two queries and
returns a polars DataFrame; the CLI renders the same frames.

Rules that hold throughout:

* Every value a user gives is a bound parameter (`$trace_id`). Only fixed fragments chosen by
  this module (column names from a whitelist, the fingerprint rules) are put into SQL text.
  Substring and prefix matching use `contains()` and `starts_with()` rather than LIKE, so `%`
  and `_` in a user's text match themselves.
* An error is an event at level ERROR or CRITICAL: `is_error(level)` (logkit/macros.py).
* `logkit trace` is the command that must answer in a blink, so its path avoids polars and
  pyarrow altogether: `trace_report()` fetches plain tuples (timestamps as epoch microseconds,
  because DuckDB's Python conversion of TIMESTAMPTZ values needs pytz) and the waterfall and
  summary are computed from those few rows in Python. polars is imported inside the methods
  that return frames, and the CLI, which only prints, sets `frames = False` to get `Rows`
  instead: importing polars and pyarrow costs more CPU than most of the queries.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from .. import tracespans
from ..engine import duckdb
from ..errors import NotFound, QueryError
from ..macros import ERROR_LEVELS
from ..schema import EVENT_COLUMNS, JsonText, trace_key
from ..sqlfiles import statement
from ..timeparse import from_us

if TYPE_CHECKING:
    from pathlib import Path

    import polars as pl

    from ..config import Config

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ERRORS_BY = ("type", "service", "fingerprint", "endpoint")
STATS_BY = ("service", "path", "job_type", "model")
# trace_key is the store's lookup aid (crc32 of trace_id), not part of an event.
COLUMNS = [name for name, _ in EVENT_COLUMNS if name != "trace_key"]
_FETCH_COLUMNS = ", ".join("epoch_us(ts) AS ts" if name == "ts" else name for name in COLUMNS)


def _trace_sql(select: str, *, windowed: bool) -> str:
    """A trace's events: by trace_key (crc32 of the id, see schema.py), then trace_id.

    `windowed`: only events from `$first` to `$last` (microseconds), the trace's span in
    `trace_spans` (see tracespans.py). DuckDB's zone maps on `ts` then skip all but a few row
    groups (7 of 90 on a ten-million-event store: 3 MB read instead of 41). Without it the
    4-byte trace_key column is read whole. MATERIALIZED keeps DuckDB from pushing the trace_id
    comparison (which settles crc32 collisions) into the same scan, where it would read the
    32-byte ids of every row the other filters leave.
    """
    window = " AND ts >= make_timestamptz($first) AND ts <= make_timestamptz($last)"
    return f"""
        WITH bucket AS MATERIALIZED (
            SELECT * FROM events WHERE trace_key = $trace_key{window if windowed else ""})
        SELECT {select} FROM bucket WHERE trace_id = $trace_id
        ORDER BY ts NULLS LAST, source, line
    """


_CANDIDATES_SHOWN = 5
_HEX = re.compile(r"[0-9a-fA-F-]+")
_USER_COLUMNS = "ts, trace_id, service, level, error_type, status_code, duration_ms"


def _hex_cases(trace_id: str) -> dict[str, str]:
    """`trace_id` in lower and in upper case when it is hex (else as given)."""
    if _HEX.fullmatch(trace_id):
        return {"lower": trace_id.lower(), "upper": trace_id.upper()}
    return {"lower": trace_id, "upper": trace_id}


def _from_us(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


def _time_conditions(since: Any, until: Any, conditions: list[str], params: dict[str, Any]) -> None:
    """Add `ts` bounds (half-open: since <= ts < until) for the given --since/--until."""
    from ..timeparse import time_range

    start, end = time_range(since, until)
    if start is not None:
        conditions.append("ts >= $since")
        params["since"] = start
    if end is not None:
        conditions.append("ts < $until")
        params["until"] = end


def _where(conditions: list[str]) -> str:
    # Why most answers' SQL is built here and not kept in queries/: its shape follows the
    # options given. The column grouped by (--by), the one searched (--field) and how
    # (--regex), the columns a trace is fetched with and whether its time window applies
    # are SQL text, not values DuckDB could bind; one fixed file per combination would
    # repeat the same query many times over. Values are still always bound.
    return "WHERE " + " AND ".join(conditions) if conditions else ""


def _check_choice(value: str, choices: tuple[str, ...], option: str) -> None:
    if value not in choices:
        raise QueryError(f"{option} must be one of {', '.join(choices)}, not {value!r}")


def _sql_error(exc: duckdb.Error) -> QueryError:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, duckdb.PermissionException) or "disabled by configuration" in text:
        return QueryError(
            f"logkit sql reads only the store: files, extensions and other databases are "
            f"off limits ({first})"
        )
    if "read-only" in text or "configuration has been locked" in text:
        return QueryError(f"logkit sql is read-only ({first})")
    return QueryError(text)


@dataclass
class Rows:
    """An answer as plain Python values: what the query methods return when `frames` is
    False. Timestamps are aware UTC datetimes. It has the few DataFrame methods the CLI uses."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    #: How many rows the answer has in all, when a limit kept some back (None: all shown).
    total: int | None = None

    def to_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def is_empty(self) -> bool:
        return not self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def drop(self, column: str) -> Rows:
        keep = [i for i, name in enumerate(self.columns) if name != column]
        rows = [tuple(r[i] for i in keep) for r in self.rows]
        return Rows([self.columns[i] for i in keep], rows, self.total)


@dataclass
class TraceReport:
    """One trace's events in time order, with what the CLI shows around them.

    `events` are dicts with every event column (`ts` an aware UTC datetime, `attrs` a dict)
    plus `offset_ms`, the time since the trace's first event.
    """

    trace_id: str
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def first_error(self) -> int | None:
        """Index of the first ERROR/CRITICAL event, else of the first 5xx status."""
        for test in (
            lambda e: e["level"] in ERROR_LEVELS,
            lambda e: (e["status_code"] or 0) >= 500,
        ):
            for index, event in enumerate(self.events):
                if test(event):
                    return index
        return None

    @property
    def total_ms(self) -> float:
        offsets = [e["offset_ms"] for e in self.events if e["offset_ms"] is not None]
        return max(offsets, default=0.0)

    def waterfall(self) -> list[dict[str, Any]]:
        """Per service, in order of first appearance: when it was seen and what it reported."""
        rows: dict[str | None, dict[str, Any]] = {}
        for event in self.events:
            offset = event["offset_ms"]
            row = rows.setdefault(
                event["service"],
                {"service": event["service"], "first_ms": offset, "last_ms": offset,
                 "events": 0, "errors": 0, "reported_ms": None},
            )  # fmt: skip
            if offset is not None:
                row["first_ms"] = offset if row["first_ms"] is None else row["first_ms"]
                row["last_ms"] = offset
            row["events"] += 1
            row["errors"] += event["level"] in ERROR_LEVELS
            if event["duration_ms"] is not None:
                row["reported_ms"] = max(row["reported_ms"] or 0.0, event["duration_ms"])
        return list(rows.values())

    def summary(self) -> dict[str, Any]:
        """Services, events, total time, outcome and the first error."""
        first = self.first_error
        error = self.events[first] if first is not None else None
        statuses = [e["status_code"] for e in self.events if e["status_code"] is not None]
        return {
            "trace_id": self.trace_id,
            "start": self.events[0]["ts"] if self.events else None,
            "services": len({e["service"] for e in self.events}),
            "events": len(self.events),
            "total_ms": self.total_ms,
            "outcome": "error" if error else "ok",
            "status_code": statuses[-1] if statuses else None,
            "first_error": None
            if error is None
            else {
                "offset_ms": error["offset_ms"],
                "service": error["service"],
                "level": error["level"],
                "error_type": error["error_type"],
                "message": error["message"],
            },
        }


class Answers:
    """The query verbs of `logkit.Store` (see the module docstring)."""

    if TYPE_CHECKING:
        path: Path
        config: Config
        lake: Path | None

        def reader(
            self, *, lean: bool = False, store_only: bool = False
        ) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]: ...

    # -- helpers -----------------------------------------------------------------------

    #: Query methods return polars DataFrames; False makes them return `Rows`.
    frames: bool = True

    def _answer(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        with self._reader() as con:
            return self._result(con, sql, params)

    def _result(
        self, con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None
    ) -> Any:
        return _frame(con, sql, params) if self.frames else _rows(con, sql, params)

    def _limited(self, sql: str, count_sql: str, params: dict[str, Any]) -> Any:
        """`sql`'s answer under `LIMIT $limit`; as `Rows`, with `total` set when the limit
        kept rows back (one row more is fetched to tell, and only then are they counted), so
        the CLI can say so."""
        if self.frames:
            return self._answer(sql, params)
        limit = params["limit"]
        with self._reader() as con:
            rows = _rows(con, sql, {**params, "limit": limit + 1})
            if len(rows.rows) > limit:
                counted = {k: v for k, v in params.items() if k != "limit"}
                rows.rows = rows.rows[:limit]
                rows.total = con.execute(count_sql, counted).fetchall()[0][0]
        return rows

    @contextlib.contextmanager
    def _reader(self, *, lean: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """`self.reader()`, set up for answering.

        (`Store.reader()` has already switched DuckDB's progress bar off: it would corrupt
        `--format ndjson | jq`.) The session time zone is UTC, like every timestamp in the
        store: DuckDB buckets TIMESTAMPTZ values (time_bucket, date_trunc) and hands them to
        polars in the session's zone, which would otherwise be the local one.
        """
        with self.reader(lean=lean) as con:
            con.execute("SET TimeZone = 'UTC'")
            yield con

    @contextlib.contextmanager
    def _locked_reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A reader for SQL someone else wrote: no files, no extensions, no other databases.

        The connection is already read-only; this also switches off DuckDB's access to
        anything outside the attached store (COPY, ATTACH, read_csv, INSTALL/LOAD) and locks
        the configuration so the SQL cannot switch it back on.
        """
        with self._reader() as con:
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            yield con

    # -- trace -------------------------------------------------------------------------

    def _resolve_trace(self, con: duckdb.DuckDBPyConnection, trace_id: str) -> str:
        """The one trace id that starts with `trace_id`."""
        # Hex ids are one number however they are typed: a prefix in upper case (as some
        # tools print ids) finds the stored lower-case id, and the other way round.
        rows = con.execute(
            statement("answers/trace_candidates"),
            {"prefix": trace_id, **_hex_cases(trace_id), "limit": _CANDIDATES_SHOWN + 1},
        ).fetchall()
        if not rows:
            raise NotFound(
                f"no events for trace {trace_id!r} in {self.path} (check the id, or run "
                "'logkit ingest' on the logs that contain it)"
            )
        if len(rows) > 1:
            shown = ", ".join(r[0] for r in rows[:_CANDIDATES_SHOWN])
            more = " and more" if len(rows) > _CANDIDATES_SHOWN else ""
            raise QueryError(
                f"trace prefix {trace_id!r} is ambiguous: it matches {shown}{more}; "
                "give more characters"
            )
        return str(rows[0][0])

    @staticmethod
    def _check_trace_id(trace_id: str) -> str:
        trace_id = trace_id.strip()
        if not trace_id:
            raise QueryError("give a trace id, or a unique prefix of one")
        # An X-Ray id (or X-Amzn-Trace-Id header) is stored as the W3C id AWS maps it to.
        from ..normalize import xray_trace

        return xray_trace(trace_id) or trace_id

    def _trace_plan(
        self, con: duckdb.DuckDBPyConnection, select: str, trace_id: str, *, spans: bool = True
    ) -> tuple[str, dict[str, Any]] | None:
        """The query for a trace's events and its parameters; None when the store holds no
        event under the id's key at all (trace_spans covers every stored event). `spans`
        False: without the window, for an id a full scan has just found."""
        key = trace_key(trace_id)
        params: dict[str, Any] = {"trace_key": key, "trace_id": trace_id}
        if not spans or self.lake is not None:  # the spans cover the store, not a lake
            return _trace_sql(select, windowed=False), params
        span = tracespans.window(con, key)
        if span is None:
            return None
        first, last, untimed = span
        if untimed or first is None:  # events without a timestamp fall outside any window
            return _trace_sql(select, windowed=False), params
        return _trace_sql(select, windowed=True), {**params, "first": first, "last": last}

    def trace_report(self, trace_id: str) -> TraceReport:
        """Every event of the trace (`trace_id` or a unique prefix of it), in time order."""
        trace_id = self._check_trace_id(trace_id)
        # Lean: execute() and fetchall() are all this needs, and the 0.1 s the duckdb
        # package's Python layer takes to load is 40% of the time `logkit trace` has.
        with self._reader(lean=True) as con:

            def fetch(trace_id: str, spans: bool = True) -> list[tuple[Any, ...]]:
                plan = self._trace_plan(con, _FETCH_COLUMNS, trace_id, spans=spans)
                return con.execute(*plan).fetchall() if plan else []

            # The exact id first: it is what people paste, and an equality predicate is the
            # cheapest lookup there is. Only when that finds nothing is it taken as a prefix.
            rows = fetch(trace_id)
            if not rows and _hex_cases(trace_id)["lower"] != trace_id:
                rows = fetch(trace_id := trace_id.lower())
            if not rows:
                trace_id = self._resolve_trace(con, trace_id)
                rows = fetch(trace_id, spans=False)
        names = COLUMNS
        first_us = next((row[0] for row in rows if row[0] is not None), None)
        events = []
        for row in rows:
            event = dict(zip(names, row, strict=True))
            us = event["ts"]
            event["ts"] = _from_us(us)
            event["attrs"] = orjson.loads(event["attrs"]) if event["attrs"] else {}
            event["offset_ms"] = None if us is None else (us - first_us) / 1000
            events.append(event)
        return TraceReport(trace_id=trace_id, events=events)

    def trace(self, trace_id: str) -> pl.DataFrame:
        """Every event of a trace across services, in time order, with `offset_ms`.

        `trace_id` may be a unique prefix. Raises `NotFound` when no event has it, and
        `QueryError` when a prefix matches several traces.

        Examples:
            >>> store.trace("4bf92f35")  # doctest: +SKIP
            shape: (9, 27)
            ┌──────────────────────────┬───────┬─────────────┬───┬───────────┐
            │ ts                       ┆ level ┆ service     ┆ … ┆ offset_ms │
            ╞══════════════════════════╪═══════╪═════════════╪═══╪═══════════╡
            │ 2026-11-01 00:00:17.750 … ┆ INFO  ┆ api         ┆ … ┆ 0.0       │
        """
        trace_id = self._check_trace_id(trace_id)
        select = (
            f"{', '.join(COLUMNS)}, (epoch_us(ts) - min(epoch_us(ts)) OVER ()) / 1000 AS offset_ms"
        )
        with self._reader() as con:
            plan = self._trace_plan(con, select, trace_id)
            if plan is None or (frame := _frame(con, *plan)).is_empty():
                trace_id = self._resolve_trace(con, trace_id)
                plan = self._trace_plan(con, select, trace_id, spans=False)
                assert plan is not None  # always, without spans
                frame = _frame(con, *plan)
        return frame

    def trace_waterfall(self, trace_id: str) -> pl.DataFrame:
        """Per service: first and last appearance (ms from the trace's start), events,
        errors and the longest duration it reported."""
        import polars as pl

        return pl.DataFrame(
            self.trace_report(trace_id).waterfall(),
            schema={"service": pl.String, "first_ms": pl.Float64, "last_ms": pl.Float64,
                    "events": pl.Int64, "errors": pl.Int64, "reported_ms": pl.Float64},
        )  # fmt: skip

    def trace_summary(self, trace_id: str) -> dict[str, Any]:
        """Services, events, total time, outcome (`ok`/`error`) and the first error."""
        return self.trace_report(trace_id).summary()

    # -- user --------------------------------------------------------------------------

    def user(self, user_id: str, *, since: Any = None, until: Any = None) -> pl.DataFrame:
        """A user's timeline: one row per trace they touched, across every service.

        The user's events pick the traces; each row then summarises the whole trace (other
        services rarely log the user id). Each of the user's events without a trace id gets
        a row of its own. `user_id` may be the raw id even when the store pseudonymises user
        ids (`[mask] fields = ["user_id"]`): it is looked up by its pseudonym.

        Examples:
            >>> store.user("u_10335", since="7d")  # doctest: +SKIP
            shape: (14, 10)
            columns: start, trace_id, activity, services, events, errors, first_error,
                     status_code, duration_ms, end
        """
        conditions = ["user_id = $user_id"]
        params: dict[str, Any] = {"user_id": self._stored_user_id(user_id)}
        _time_conditions(since, until, conditions, params)
        where = _where(conditions)
        with self._reader() as con:
            # In two steps. DuckDB reads a column only for the rows that pass a filter like
            # `user_id = $x`, but applies an IN list or a join after reading every column it
            # needs from every row. So first the trace keys of the user's own events (4 bytes
            # each), then one query with those keys as literals.
            keys = con.execute(
                f"SELECT DISTINCT trace_key FROM events {where} AND trace_key IS NOT NULL",
                params,
            ).fetchall()
            return self._result(con, _user_sql(where, [k for (k,) in keys]), params)

    def _stored_user_id(self, user_id: str) -> str:
        """How `user_id` is stored: its pseudonym when the store pseudonymises user ids
        (`[mask] fields`), since people type the id they see in a ticket."""
        mask = self.config.mask
        if (
            "user_id" not in mask.get("fields", ())
            or not mask.get("enabled", True)
            or user_id.startswith("user_id:")  # already a pseudonym, copied from an answer
        ):
            return user_id
        from ..ingest import make_masker, mask_key

        key = mask_key(self.path)
        if key is None:
            return user_id
        return str(make_masker(mask, key).pseudonym("user_id", user_id))

    # -- errors ------------------------------------------------------------------------

    def errors(
        self,
        *,
        since: Any = None,
        until: Any = None,
        service: str | None = None,
        by: str = "type",
        limit: int = 20,
    ) -> pl.DataFrame:
        """Errors grouped `by` type, service, fingerprint or endpoint, most frequent first.

        Each group has its count, first and last seen, and an example trace id to hand to
        `trace()`. The fingerprint is the message with numbers, ids, hex, uuids, quoted and
        masked values replaced by placeholders (see logkit/fingerprint.py).

        Examples:
            >>> store.errors(since="1h", by="fingerprint")  # doctest: +SKIP
            shape: (6, 8)
            columns: service, error_type, fingerprint, count, first_seen, last_seen,
                     example_trace, example
        """
        _check_choice(by, ERRORS_BY, "--by")
        conditions = ["is_error(level)"]
        params: dict[str, Any] = {"limit": int(limit)}
        _time_conditions(since, until, conditions, params)
        if service is not None:
            conditions.append("service = $service")
            params["service"] = service
        keys = {
            "type": ["coalesce(error_type, '(none)') AS error_type"],
            "service": ["service"],
            "fingerprint": [
                "service",
                "error_type",
                "error_fingerprint(message) AS fingerprint",
            ],
            "endpoint": [
                "coalesce(coalesce(http_method || ' ', '') || "
                "path_template(path), 'job ' || job_type, 'model ' || model, '(none)')"
                " AS endpoint"
            ],
        }[by]
        # The fingerprint and service groupings already name the service.
        services = (
            "string_agg(DISTINCT service, ', ' ORDER BY service) AS services,"
            if by in ("type", "endpoint")
            else ""
        )
        # The example trace and its message come from one event: the latest with a trace id
        # (else the latest), picked once as a struct, so they cannot come from two events.
        groups = f"""
            SELECT {", ".join(keys)},
                count(*) AS count,
                {services}
                min(ts) AS first_seen,
                max(ts) AS last_seen,
                arg_max({{'trace': trace_id, 'message': message}},
                        (trace_id IS NOT NULL, ts, source, line)) AS example_event
            FROM events
            {_where(conditions)}
            GROUP BY ALL
        """
        sql = f"""
            SELECT * EXCLUDE (example_event),
                example_event.trace AS example_trace, example_event.message AS example
            FROM ({groups})
            ORDER BY count DESC, last_seen DESC
            LIMIT $limit
        """
        return self._limited(sql, f"SELECT count(*) FROM ({groups})", params)

    # -- search ------------------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        regex: bool = False,
        field: str | None = None,
        since: Any = None,
        until: Any = None,
        level: str | None = None,
        limit: int = 100,
    ) -> pl.DataFrame:
        """Events whose message or attrs contain `text`, newest first.

        Plain text matches case-insensitively and literally (`%`, `_` and `.` are just
        characters); `regex=True` takes an RE2 regular expression (`(?i)` for case-insensitive).
        `field` limits the search to one column (`path`, `error_type`, ...) or one attrs key
        (`exc_info`, or a dotted path such as `err.stack`). `level` keeps events at that level
        or above.

        Examples:
            >>> store.search("timeout", level="warning", since="1h")  # doctest: +SKIP
            shape: (23, 7)
            columns: ts, level, service, trace_id, user_id, message, attrs
        """
        if not text:
            raise QueryError("give some text to search for")
        conditions: list[str] = []
        params: dict[str, Any] = {"limit": int(limit)}
        _time_conditions(since, until, conditions, params)
        if level is not None:
            wanted = level.upper()
            _check_choice(wanted, LEVELS, "--level")
            at_least = ", ".join(f"'{lv}'" for lv in LEVELS[LEVELS.index(wanted) :])
            conditions.append(f"level IN ({at_least})")
        if field is None:
            targets = ["message", "CAST(attrs AS VARCHAR)"]
        elif field in COLUMNS and field != "attrs":
            targets = [f"CAST({field} AS VARCHAR)"]
        else:
            key = field.removeprefix("attrs.")
            # An empty step (`a..b`, `.a`, `a.`) is not a JSON path DuckDB can follow.
            if not key or "" in key.split("."):
                raise QueryError(
                    f"--field {field!r} is not a column or an attrs key: name one such as "
                    "path, err.stack or attrs.err.stack (keys separated by single dots)"
                )
            params["json_path"] = "$" + "".join(
                '."' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
                for part in key.split(".")
            )
            targets = ["json_extract_string(attrs, $json_path)"]
        if regex:
            params["pattern"] = text
            matches = [f"regexp_matches({t}, $pattern)" for t in targets]
        else:
            params["needle"] = text.lower()
            matches = [f"contains(lower({t}), $needle)" for t in targets]
        conditions.append("(" + " OR ".join(matches) + ")")
        sql = f"""
            SELECT ts, level, service, trace_id, user_id, message, attrs
            FROM events {_where(conditions)}
            ORDER BY ts DESC NULLS LAST, source, line
            LIMIT $limit
        """
        try:
            return self._limited(sql, f"SELECT count(*) FROM events {_where(conditions)}", params)
        except duckdb.InvalidInputException as exc:
            if regex:
                raise QueryError(f"invalid regular expression {text!r}: {exc}") from exc
            raise

    # -- stats -------------------------------------------------------------------------

    def stats(self, *, by: str = "service", since: Any = None, until: Any = None) -> pl.DataFrame:
        """Per group: events, errors, error rate, p50/p95/p99/max duration (ms), tokens,
        cost and cache hit rate. `by` is service, path (ids folded into `{id}`), job_type
        or model.

        Examples:
            >>> store.stats(by="model")  # doctest: +SKIP
            shape: (3, 13)
            columns: model, events, errors, error_rate, p50_ms, p95_ms, p99_ms, max_ms,
                     input_tokens, output_tokens, cost_usd, cache_hits, cache_hit_rate
        """
        _check_choice(by, STATS_BY, "--by")
        conditions: list[str] = []
        params: dict[str, Any] = {}
        _time_conditions(since, until, conditions, params)
        key = "path_template(path) AS path" if by == "path" else by
        if by != "service":
            conditions.append(f"{by} IS NOT NULL")
        # Exact percentiles, computed together: one sort per group instead of three (a
        # third less time over ten million rows than three quantile_cont calls).
        sql = f"""
            SELECT {by}, events, errors, error_rate,
                q[1] AS p50_ms, q[2] AS p95_ms, q[3] AS p99_ms, max_ms,
                input_tokens, output_tokens, cost_usd, cache_hits, cache_hit_rate
            FROM (
                SELECT {key},
                    count(*) AS events,
                    count(*) FILTER (WHERE is_error(level)) AS errors,
                    round(errors / count(*), 4) AS error_rate,
                    quantile_cont(duration_ms, [0.5, 0.95, 0.99]) AS q,
                    max(duration_ms) AS max_ms,
                    sum(input_tokens)::BIGINT AS input_tokens,
                    sum(output_tokens)::BIGINT AS output_tokens,
                    round(sum(cost_usd), 6) AS cost_usd,
                    count(*) FILTER (WHERE cache_hit) AS cache_hits,
                    round(cache_hits / nullif(count(cache_hit), 0), 4) AS cache_hit_rate
                FROM events {_where(conditions)}
                GROUP BY ALL
            )
            ORDER BY events DESC
        """
        return self._answer(sql, params)

    # -- sql and named queries ---------------------------------------------------------

    def sql(self, query: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        """Run read-only SQL against the store (tables: events, rejects, sources, ...).

        The SQL can read the store and nothing else: writes, COPY, ATTACH, reading files
        and installing extensions fail with `QueryError`. `params` bind `$name` parameters.

        Examples:
            >>> store.sql("SELECT service, count(*) AS n FROM events GROUP BY 1")  # doctest: +SKIP
        """
        with self._locked_reader() as con:
            try:
                return self._result(con, query, params)
            except duckdb.Error as exc:
                raise _sql_error(exc) from exc

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        """Run the named query `queries/<name>.sql` with its parameters bound.

        Values may be strings as typed on the command line (`since="2h"`, `limit="5"`) or
        Python values; see `list_queries()` for names and parameters.

        Examples:
            >>> store.query("slowest_traces", since="1h", limit=5)  # doctest: +SKIP
        """
        from ..sqlfiles import load

        named = load(name)
        bound = named.bind(params)
        with self._locked_reader() as con:
            try:
                return self._result(con, named.sql, bound)
            except duckdb.Error as exc:
                raise QueryError(f"query {name!r} failed: {str(exc).splitlines()[0]}") from exc

    def list_queries(self) -> pl.DataFrame:
        """The named queries: name, description and parameters (`name=default`)."""
        from ..sqlfiles import load_all

        rows = [
            {
                "name": q.name,
                "description": q.description,
                "params": ", ".join(
                    p.name if p.required else f"{p.name}={p.default or ''}" for p in q.params
                ),
            }
            for q in load_all().values()
        ]
        if not self.frames:
            return Rows(["name", "description", "params"], [tuple(r.values()) for r in rows])
        import polars as pl

        return pl.DataFrame(rows, schema={"name": pl.String, "description": pl.String,
                                          "params": pl.String})  # fmt: skip

    # -- overview ----------------------------------------------------------------------

    def overview(self) -> dict[str, Any]:
        """What is in the store: events, time span, services, errors, rejects, sources."""
        with self._reader() as con:
            events, first, last, errors = con.execute(
                statement("answers/overview_events")
            ).fetchall()[0]
            services = con.execute(statement("answers/overview_services")).fetchall()
            rejects = con.execute(statement("answers/overview_rejects")).fetchall()[0][0]
            sources, updated = con.execute(statement("answers/overview_sources")).fetchall()[0]
        return {
            "path": str(self.path),
            "events": events,
            "first": _from_us(first),
            "last": _from_us(last),
            "errors": errors,
            "services": dict(services),
            "rejects": rejects,
            "sources": sources,
            "last_ingest": _from_us(updated),
        }


def _user_sql(where: str, keys: list[int]) -> str:
    """The timeline query, given the trace keys of the user's events."""
    # Integers computed here (crc32 values), not user text: safe as literals, and a literal
    # IN list alone in the scan's filter is what an index on trace_key can serve. As in
    # _trace_sql, comparing trace ids waits for the MATERIALIZED step.
    in_keys = ", ".join(str(int(k)) for k in sorted(set(keys))) or "NULL"
    return f"""
        WITH mine AS MATERIALIZED (
            -- The user's own events: one pass, wide columns are cheap for so few rows.
            SELECT coalesce(trace_id, '#' || rowid) AS grp,
                {_USER_COLUMNS}, http_method, path, job_type, message
            FROM events {where}
        ),
        own AS (
            SELECT grp,
                coalesce(
                    arg_min(coalesce(http_method || ' ', '') || path, ts)
                        FILTER (WHERE path IS NOT NULL),
                    arg_min('job ' || job_type, ts) FILTER (WHERE job_type IS NOT NULL),
                    arg_min(message, ts) FILTER (WHERE message IS NOT NULL)
                ) AS activity
            FROM mine
            GROUP BY grp
        ),
        bucket AS MATERIALIZED (
            SELECT {_USER_COLUMNS} FROM events WHERE trace_key IN ({in_keys})
        ),
        related AS (
            -- Every event of the user's traces, from any service (narrow columns only),
            -- and the user's events that have no trace.
            SELECT trace_id AS grp, {_USER_COLUMNS}
            FROM bucket WHERE trace_id IN (SELECT trace_id FROM mine)
            UNION ALL
            SELECT grp, {_USER_COLUMNS} FROM mine WHERE trace_id IS NULL
        )
        SELECT
            min(ts) AS start,
            any_value(trace_id) AS trace_id,
            any_value(activity) AS activity,
            string_agg(DISTINCT service, ', ' ORDER BY service) AS services,
            count(*) AS events,
            count(*) FILTER (WHERE is_error(level)) AS errors,
            arg_min(coalesce(error_type, level), ts) FILTER (WHERE is_error(level)) AS first_error,
            arg_max(status_code, ts) FILTER (WHERE status_code IS NOT NULL) AS status_code,
            max(duration_ms) AS duration_ms,
            max(ts) AS end
        FROM related LEFT JOIN own USING (grp)
        GROUP BY grp
        ORDER BY start NULLS LAST, trace_id
    """


def _relation(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None
) -> duckdb.DuckDBPyRelation | None:
    # DuckDB 2 refuses a new relation while an execute() result is unread (a fetchone()
    # elsewhere on this connection leaves one); finish it first.
    con.complete()
    return con.sql(sql, params=params or None)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None) -> Rows:
    """The result as Python values, without polars or pyarrow."""
    relation = _relation(con, sql, params)
    if relation is None:
        return Rows([], [])
    columns = list(relation.columns)
    zoned = [str(t) == "TIMESTAMP WITH TIME ZONE" for t in relation.types]
    if any(zoned):
        # DuckDB's Python conversion of TIMESTAMPTZ values needs pytz; as UTC wall-clock
        # TIMESTAMPs they convert without it, and get their zone back below.
        relation = relation.project(
            ", ".join(
                f"timezone('UTC', {_quote(c)}) AS {_quote(c)}" if z else _quote(c)
                for c, z in zip(columns, zoned, strict=True)
            )
        )
    rows = relation.fetchall()
    # JSON columns (attrs, attrs->'$.x') come back as text; marked, so that --format json
    # shows them as the JSON they are, not as strings holding JSON.
    json_columns = {i: str(t) == "JSON[]" for i, t in enumerate(relation.types)
                    if str(t) in ("JSON", "JSON[]")}  # fmt: skip
    if json_columns and rows:
        rows = [list(row) for row in rows]
        for row in rows:
            for i, is_list in json_columns.items():
                if row[i] is not None:
                    row[i] = (
                        [None if v is None else JsonText(v) for v in row[i]]
                        if is_list
                        else JsonText(row[i])
                    )
        rows = [tuple(row) for row in rows]
    if any(zoned):
        rows = [
            tuple(
                v.replace(tzinfo=UTC) if z and v is not None else v
                for v, z in zip(row, zoned, strict=True)
            )
            for row in rows
        ]
    return Rows(columns, rows)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None) -> pl.DataFrame:
    import polars as pl

    relation = _relation(con, sql, params)
    if relation is None:  # a statement without a result (SET, CREATE TEMP ...)
        return pl.DataFrame()
    try:
        return relation.pl()
    except pl.exceptions.PolarsError as exc:
        hint = "; turn INTERVAL values into seconds with epoch(x)" if "interval" in str(exc) else ""
        raise QueryError(
            f"cannot make a table of the result: {str(exc).splitlines()[0]}{hint}"
        ) from exc
