"""`Store`: the one object the CLI and notebooks drive.

A store is one DuckDB file (default `./logkit.duckdb`, or `$LOGKIT_DB`). `Store` owns the
connections to it: short-lived read-only ones for queries, and a `WriteSession` for ingest and
export that holds the writer lock for the run but steps aside for readers between batches (both
made in logkit/session.py, the layer below this one). Everything a user can ask of a store is a
method here, a short one that hands the store to the module doing the work: the questions to
logkit/query/, the metrics to logkit/export/, the lake to logkit/lake/, an ingest to
logkit/ingest/. Those modules see the store through logkit/handles.py and never import this
one. The query methods return polars DataFrames (polars is imported lazily so that `logkit
trace` starts fast).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import keyfile, locks, masking, migrations
from .config import Config, find_config, load_config
from .engine import damaged_hint, duckdb
from .errors import LogkitError, QueryError, StoreNotFound
from .lake.reading import attach, lake_only_reader
from .query import named, search, summaries, trace, user
from .session import WriteSession, read_only, writing

# logkit.export and logkit.lake.archive are imported by the methods that use them: `logkit
# trace` and ingest need neither (~20 ms of a trace's 0.18 s).

if TYPE_CHECKING:
    from datetime import datetime

    import polars as pl

    from .detect import Detected
    from .export.exporting import ExportResult
    from .export.retention import PruneResult
    from .export.totals import MetricSet
    from .ingest import IngestSummary
    from .lake.archive import ArchiveResult
    from .query.trace import TraceReport
    from .report import Postmortem, Report

DEFAULT_DB = "logkit.duckdb"


def default_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    return Path(db or os.environ.get("LOGKIT_DB") or DEFAULT_DB)


class Store:
    """A logkit store.

    Its verbs are short: each delegates to the module that does the work (logkit/query/,
    logkit/export/, logkit/lake/, logkit/ingest/, ...), handing it the store.

    Examples:
        >>> import logkit
        >>> store = logkit.open("logkit.duckdb")      # doctest: +SKIP
        >>> store.ingest(["sample_logs/"]).events     # doctest: +SKIP
        4711
        >>> store.trace("4bf92f35")                   # doctest: +SKIP
        shape: (9, 12) ...
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        config: Config | None = None,
        config_path: str | os.PathLike[str] | None = None,
        wait: float = 0.0,
        lake: str | os.PathLike[str] | None = None,
    ) -> None:
        self.path = default_db_path(path)
        self.config = config or load_config(find_config(config_path, self.path))
        self.wait = wait
        # A Parquet lake read together with the store (logkit/lake/), or None.
        self.lake: str | os.PathLike[str] | None = lake

    #: Query methods return polars DataFrames; False makes them return plain `Rows`
    #: (logkit/query/reading.py), which is all the CLI needs to print.
    frames: bool = True

    def __repr__(self) -> str:
        return f"<Store {str(self.path)!r}>"

    # -- connections -------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.exists()

    def writer(self, *, lean: bool = False) -> AbstractContextManager[WriteSession]:
        """Hold the store for writing for the duration of the block (see logkit/session.py);
        `lean` as for `reader`."""
        return writing(self, self.wait, lean=lean)

    @contextlib.contextmanager
    def reader(
        self, *, lean: bool = False, store_only: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection, waiting (not failing) while a writer finishes a batch.

        With a lake, `events` on it is the store's events and the lake's together, unless
        `store_only`. `lean`: the caller only executes SQL and fetches rows, so the duckdb
        package's Python layer need not be loaded (see engine.py); a lake needs it whatever
        the caller does.
        """
        lake = None if store_only else self.lake
        lean = lean and lake is None
        if lake is not None and not self.path.exists():
            with lake_only_reader(lake) as con:
                yield con
            return
        if not self.path.exists():
            raise StoreNotFound(
                f"no store at {self.path} (run 'logkit ingest PATH' first, or pass --db)"
            )
        with locks.reading(self.path):
            con = read_only(self.path, lean=lean, wait=self.wait)
            try:
                if migrations.check_version(con, str(self.path)):
                    con.close()
                    self._upgrade()
                    con = read_only(self.path, lean=lean, wait=self.wait)
                if lake is not None:
                    attach(con, lake)
                yield con
            except duckdb.Error as exc:
                # The file failing under a question (a damaged block, a read error), wherever
                # in the question's SQL DuckDB meets it: the store's error, not a traceback.
                if isinstance(exc, duckdb.IOException) or damaged_hint(exc):
                    first = str(exc).strip().splitlines()[0] + damaged_hint(exc)
                    raise LogkitError(f"cannot read {self.path}: {first}") from exc
                raise
            finally:
                con.close()

    def _upgrade(self) -> None:
        with self.writer() as session:
            _ = session.con  # connecting applies the migrations

    # -- verbs -------------------------------------------------------------------------

    def ingest(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        mask: bool = True,
        progress: Any = None,
        stdin_name: str | None = None,
        log_format: str | None = None,
    ) -> IngestSummary:
        """Read logs into the store, exactly once; returns what was read and stored.

        '-' is stdin: read to its end and stored whole every time, unless `stdin_name` names
        it, making it a stream with a checkpoint like a file's: piped again (the same, or
        grown), only what is new is stored, with the name as its `source`. Each record's log
        format is recognised on its own (see `logkit formats`); `log_format` names one to apply
        to every record instead. `paths`: one path (a file, a directory, a glob) or several.
        """
        # Here, not at the top: ingest loads the pipeline, the log formats and the native core,
        # which the questions (`logkit trace` must start fast) never use.
        from .ingest import ingest

        # Lean: the run loads DuckDB's Python layer itself (ingest/commit.py), once its core
        # has started.
        with self.writer(lean=True) as session:
            return ingest(
                session, _path_list(paths), mask=mask, progress=progress, stdin_name=stdin_name,
                log_format=log_format,
            )  # fmt: skip

    def spark_query(
        self, name: str, params: dict[str, Any] | None = None, *, master: str | None = None
    ) -> pl.DataFrame:
        """Run the named query `name` on Apache Spark over the lake alone (the store file is
        not read): the frame `query` gives on DuckDB. `master`: where Spark runs (default
        local[2]). See logkit/lake/spark.py; needs logkit[lake]."""
        from .lake.spark import DEFAULT_MASTER, run_query  # pyspark and sqlglot: only here

        if self.lake is None:
            raise QueryError("a query on Spark reads a lake: open the store with lake=DIR")
        return run_query(self.lake, name, params, master=master or DEFAULT_MASTER)

    def postmortem(
        self,
        *,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        trace_id: str | None = None,
        services: Sequence[str] | None = None,
    ) -> Postmortem:
        """The incident postmortem of `[since, until)` (detected when both are None); see
        `logkit.postmortem.analyze`, and logkit/report/render.py to render it."""
        from .report import analyze  # charts and analysis: only for a postmortem

        return analyze(self, since=since, until=until, trace_id=trace_id, services=services)

    def report(
        self,
        output: str | os.PathLike[str] | None = None,
        fmt: str | None = None,
        *,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        trace_id: str | None = None,
        services: Sequence[str] | None = None,
    ) -> Report:
        """The postmortem of `[since, until)` rendered as `fmt` (html, or md when `output`
        ends in .md): written to `output` (default postmortem.html; a Markdown file gets its
        charts beside it), or, as Markdown with no output or "-", returned as text without
        charts. Raises `LogkitError` when a report with charts is asked for without matplotlib."""
        from .report import report

        return report(
            lambda: self.postmortem(since=since, until=until, trace_id=trace_id, services=services),
            output,
            fmt,
        )

    def formats(self) -> list[dict[str, str]]:
        """The log formats this store's config knows, and where each is defined."""
        from .detect import catalogue  # the log formats' engine: only when asked about them

        return catalogue(self.config)

    def detect_formats(
        self, path: str, *, lines: int = 10, log_format: str | None = None
    ) -> list[Detected]:
        """Which format each of the first `lines` lines of `path` is, and what its columns
        would get, as an ingest into this store would read them (no store file needed)."""
        from .detect import detect  # as for `formats`

        return detect(self.config, path, lines=lines, log_format=log_format)

    def mask(
        self, paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
    ) -> Iterator[bytes]:
        """The logs at `paths` ('-' is stdin; one path or several) masked as ingest would
        store them, as blocks of NDJSON, without storing anything: for sharing logs (`logkit
        mask`)."""
        return masking.mask_stream(self, _path_list(paths))

    def keygen(self, *, force: bool = False) -> Path:
        """Create the store's pseudonym key file (see `[mask] pseudonymize`); its path."""
        return keyfile.keygen(self.path, force=force)

    # -- questions (logkit/query/) -----------------------------------------------------

    def trace_report(self, trace_id: str) -> TraceReport:
        """Every event of the trace (`trace_id` or a unique prefix of it), in time order."""
        return trace.trace_report(self, trace_id)

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
        return trace.trace(self, trace_id)

    def trace_waterfall(self, trace_id: str) -> pl.DataFrame:
        """Per service: first and last appearance (ms from the trace's start), events,
        errors and the longest duration it reported."""
        return trace.waterfall(self.trace_report(trace_id))

    def trace_summary(self, trace_id: str) -> dict[str, Any]:
        """Services, events, total time, outcome (`ok`/`error`) and the first error."""
        return self.trace_report(trace_id).summary()

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
        # A number is a user id too (many services' are integers): taken as its text.
        user_id = "" if user_id is None else str(user_id)
        if not user_id.strip():
            raise QueryError("give a user id")
        stored = masking.stored_user_id(self, user_id)
        return user.timeline(self, stored, since=since, until=until)

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
        return summaries.errors(self, since=since, until=until, service=service, by=by, limit=limit)

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
        return search.search(
            self, text, regex=regex, field=field, since=since, until=until, level=level,
            limit=limit,
        )  # fmt: skip

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
        return summaries.stats(self, by=by, since=since, until=until)

    def sql(self, query: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        """Run read-only SQL against the store (tables: events, rejects, sources, ...).

        The SQL can read the store and nothing else: writes, COPY, ATTACH, reading files
        and installing extensions fail with `QueryError`. `params` bind `$name` parameters.

        Examples:
            >>> store.sql("SELECT service, count(*) AS n FROM events GROUP BY 1")  # doctest: +SKIP
        """
        return named.sql(self, query, params)

    def query(self, name: str, **params: Any) -> pl.DataFrame:
        """Run the named query `queries/<name>.sql` with its parameters bound.

        Values may be strings as typed on the command line (`since="2h"`, `limit="5"`) or
        Python values; see `list_queries()` for names and parameters.

        Examples:
            >>> store.query("slowest_traces", since="1h", limit=5)  # doctest: +SKIP
        """
        return named.query(self, name, params)

    def query_limit(self, name: str, params: dict[str, Any]) -> int | None:
        """The number of rows the named query `name` stops at with `params` (its `limit`
        parameter, given or default); None when it has no limit."""
        return named.limit_of(name, params)

    def list_queries(self) -> pl.DataFrame:
        """The named queries: name, description and parameters (`name=default`)."""
        return named.list_queries(self)

    def overview(self) -> dict[str, Any]:
        """What is in the store: events, time span, services, errors, rejects, sources."""
        return summaries.overview(self)

    # -- metrics (logkit/export/) ------------------------------------------------------

    def metric_set(
        self, definitions: str | os.PathLike[str] | Iterable[Any] | None = None
    ) -> MetricSet:
        """The metric definitions (built-in, then those in `definitions` directories), with
        this store's series limit."""
        from .export import exporting

        return exporting.metric_set(self, definitions)

    def export(
        self,
        textfile: str | os.PathLike[str] | None = None,
        *,
        ingest: Iterable[str] = (),
        definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
        mask: bool = True,
        now: float | None = None,
    ) -> ExportResult:
        """One cron run: ingest what is new, apply retention, write every metric atomically.

        Holds the writer lock throughout, so an overlapping run fails fast with `StoreLocked`
        (or waits, with `Store(wait=...)`) and neither store nor file is ever half-updated. If
        an input cannot be read the metrics are still written, with
        `logkit_last_run_success 0`, and then `LogkitError` is raised.

        Examples:
            >>> store.export("/var/lib/prometheus/node-exporter/logkit.prom",
            ...              ingest=["/var/log/app/*.log"])            # doctest: +SKIP
            >>> print(store.export().text)                             # doctest: +SKIP
            # HELP logkit_errors_total Events at level ERROR or CRITICAL, by service and type.
            ...
        """
        from .export import exporting

        return exporting.export(
            self, textfile, ingest=ingest, definitions=definitions, mask=mask, now=now
        )

    def metrics_text(
        self,
        *,
        definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
        now: float | None = None,
    ) -> str:
        """The exposition text of what the store holds; it writes nothing.

        Counters and histograms are the running totals as the last `export()` left them
        (events stored since are counted by the next export, which folds them in); gauges
        are computed now. Read on a read-only connection, over the store's own events (never
        a lake's), so it can run beside an ingest or an export.

        Examples:
            >>> store.export()                     # doctest: +SKIP
            >>> print(store.metrics_text())        # doctest: +SKIP
            # HELP logkit_errors_total Events at level ERROR or CRITICAL, by service and type.
            ...
        """
        from .export import exporting

        return exporting.metrics_text(self, definitions=definitions, now=now)

    def prune(
        self,
        older_than: str,
        *,
        compact: bool = False,
        definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
        dry_run: bool = False,
    ) -> PruneResult:
        """Delete events and rejects older than `older_than` ("30d"); counters carry on.

        Freed space is reused by later ingests; `compact=True` also rewrites the file so it
        shrinks (slow: it copies every remaining event). `dry_run=True` only counts what
        would be deleted, on a read-only connection.
        """
        from .export import exporting

        return exporting.prune(
            self, older_than, compact=compact, definitions=definitions, dry_run=dry_run
        )

    # -- the lake (logkit/lake/) -------------------------------------------------------

    def archive(
        self,
        to: str | os.PathLike[str],
        *,
        older_than: str | None = None,
        prune: bool = False,
        host: str | None = None,
        definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
    ) -> ArchiveResult:
        """Copy events older than `older_than` ("7d"; default: all) into the lake at `to`.

        Safe to rerun and to kill: a rerun adds only what the lake lacks. `prune=True` then
        deletes the archived events from the store, the exported counters carrying on as with
        `prune()`. `host` is the partition this store writes under (default: the host name).

        Examples:
            >>> store.archive("/srv/lake", older_than="7d", prune=True)  # doctest: +SKIP
            ArchiveResult(lake='/srv/lake', host='web-1', events=1204711, files=21, ...)
        """
        from .lake import archive as archiving

        return archiving.archive_store(
            self, to, older_than=older_than, prune=prune, host=host, definitions=definitions
        )


def _path_list(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    # One path given bare, not in a list: iterated, "logs/" was the paths "l", "o"... "/",
    # the root directory last.
    if isinstance(paths, str | os.PathLike):
        return [os.fspath(paths)]
    return [os.fspath(path) for path in paths]


def open(path: str | os.PathLike[str] | None = None, **kwargs: Any) -> Store:
    """Open (or name, for a later ingest) the store at `path`; see `Store`."""
    return Store(path, **kwargs)
