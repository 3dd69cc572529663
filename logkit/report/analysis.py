"""The analysis behind a postmortem: the store's answers about one incident window.

`analyze(store, since=..., until=...)` asks the store what a postmortem needs to know about
the window `[since, until)` (found by logkit/report/window.py when not given) and returns a
`Postmortem` (logkit/report/findings.py): a polars DataFrame per section and a `summary` dict
of scalars.

Choices worth knowing:

* The analysis reads the store through `Store.sql()` (bound parameters on the locked-down
  read-only connection) and `Store.trace_report()`. Its queries are files,
  `queries/report/*.sql`; the service label, "is an error" and the error fingerprint are
  macros (logkit/macros.py), and the `services=` filter is a bound list (NULL: every service).
* Many services do not log their own name (structlog, Celery and pino records in the sample
  logs carry none), and a timeline "by service" that is 80 % `(none)` shows nothing. Events
  without a `service` are labelled by the file they came from, up to its first dot
  (`service_label`): `api.log` and `api.log.1.gz` both become `api`. `services=` filters on
  that label too.
* A trace fails when one of its events is an error (level ERROR or CRITICAL, as everywhere
  in logkit); its first error says where it failed. The service and error type that most
  failing traces failed with first is the likely cause (`summary["cause"]`), which beats
  counting errors: a rate-limited gateway call makes the api log an error too, later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, cast

from ..errors import NotFound
from ..macros import ERROR_LEVELS
from ..sqlfiles import statement
from .findings import FirstError, Postmortem, Summary
from .window import Window, chart_bucket, resolve_window
from .words import iso

if TYPE_CHECKING:
    import polars as pl

    from .asking import Asking


SHOWN = 20  # the slowest traces and the first rejected lines kept


def analyze(
    store: Asking,
    *,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    trace_id: str | None = None,
    services: Sequence[str] | None = None,
) -> Postmortem:
    """Analyse the incident window `[since, until)` (detected when both are None).

    `services` limits events to those services (by label, see the module docstring) and
    traces to those that passed through them. `trace_id` (or a unique prefix) picks the trace
    drawn as a waterfall; by default it is the slowest of the traces that failed the way
    most did.

    Examples:
        >>> pm = analyze(store, since="2026-11-01T00:36Z", until="2026-11-01T00:46Z")
        ... # doctest: +SKIP
        >>> pm.headline()  # doctest: +SKIP
        'From 2026-11-01 00:36:00 to 00:46:00 UTC (10 min) the error rate was 11.0% ...'
        >>> pm.error_groups  # doctest: +SKIP
        shape: (6, 9)
        columns: service, error_type, fingerprint, count, baseline, first_seen, last_seen,
                 example_trace, example
    """
    services = tuple(services) if services else None
    window = resolve_window(store, since, until, services=services)
    return _Analysis(store, window, services).run(trace_id)


class _Analysis:
    """The queries behind `analyze`, sharing the window's bound parameters."""

    def __init__(self, store: Asking, window: Window, services: tuple[str, ...] | None) -> None:
        self.store, self.window, self.services = store, window, services
        self.bucket = chart_bucket(window)
        self.params: dict[str, object] = {
            "since": window.since,
            "until": window.until,
            "baseline": window.baseline_since,
            "after": window.aftermath_until,
            # The service labels to keep to (logkit/macros.py), or None for all.
            "services": list(services) if services else None,
        }

    def sql(self, name: str, **extra: object) -> pl.DataFrame:
        """The answer of `queries/report/NAME.sql`, given the parameters it binds."""
        sql = statement(f"report/{name}")
        used = {k: v for k, v in {**self.params, **extra}.items() if f"${k}" in sql}
        return self.store.sql(sql, used or None)

    def run(self, trace_id: str | None) -> Postmortem:
        pm = Postmortem(
            store_path=str(self.store.path),
            window=self.window,
            services_filter=self.services,
            bucket=self.bucket,
        )
        f = pm.frames
        totals = self.totals()
        if not totals["events"]:
            raise self.no_events()
        f["services"] = self.service_table()
        f["timeline"] = self.timeline()
        f["latency"], pm.latency_of = self.latency()
        f["error_groups"] = self.error_groups()
        failing = self.failing()
        f["causes"] = _causes(failing)
        f["failing"] = failing.sort(["span_ms", "trace_id"], descending=[True, False])
        f["slowest"] = self.slowest()
        f["users"] = _users(failing)
        f["llm"], f["llm_timeline"] = self.llm(), self.llm_timeline()
        f["rejects"], f["rejected_lines"] = self.rejects()
        worst = trace_id or _worst(failing, f["causes"], f["slowest"])
        f["trace_events"], f["waterfall"], trace = self.trace(worst)
        pm.trace_id = str(trace["trace_id"]) if trace else None
        rejected = int(f["rejects"]["lines"].sum()) if f["rejects"].height else 0
        pm.totals = {"slowest": totals["traces"], "rejected_lines": rejected}
        cause = f["causes"].row(0, named=True) if not f["causes"].is_empty() else None
        pm.summary = {
            **totals,
            "window": self.window,
            "since": self.window.since,
            "until": self.window.until,
            "detected": self.window.detected,
            "baseline_since": self.window.baseline_since,
            "failing_traces": failing.height,
            "affected_users": f["users"].height,
            "services_with_errors": [
                s for s, n in f["services"].select("service", "errors").iter_rows() if n
            ],
            "first_error": self.first_error(),
            "cause": None
            if cause is None
            else {
                "service": cause["service"],
                "error_type": cause["error_type"],
                "traces": cause["traces"],
            },
            "trace": trace,
            "rejected_lines": rejected,
        }
        return pm

    def no_events(self) -> NotFound:
        info = self.store.overview()
        held = f"; it holds {iso(info['first'])} to {iso(info['last'])}" if info["first"] else ""
        where = f" for {', '.join(self.services)}" if self.services else ""
        return NotFound(
            f"no events{where} between {iso(self.window.since)} and {iso(self.window.until)}"
            f" in {self.store.path} (check --since/--until{held})"
        )

    def totals(self) -> Summary:
        row = self.sql("totals").row(0, named=True)
        events, errors = row["events"], row["errors"]
        baseline_events, baseline_errors = row["baseline_events"], row["baseline_errors"]
        return {
            "events": events,
            "errors": errors,
            "baseline_events": baseline_events,
            "baseline_errors": baseline_errors,
            "traces": row["traces"],
            "error_rate": errors / events if events else None,
            "baseline_error_rate": baseline_errors / baseline_events if baseline_events else None,
        }

    def service_table(self) -> pl.DataFrame:
        return self.sql("services")

    def timeline(self) -> pl.DataFrame:
        return self.sql("timeline", bucket_s=int(self.bucket.total_seconds()))

    def latency(self) -> tuple[pl.DataFrame, str]:
        """Durations of requests (events with a status code), else of any event with one."""
        frame = self._latency(requests_only=True)
        if not frame.is_empty():
            return frame, "requests"
        return self._latency(requests_only=False), "events with a duration"

    def _latency(self, *, requests_only: bool) -> pl.DataFrame:
        return self.sql(
            "latency", bucket_s=int(self.bucket.total_seconds()), requests_only=requests_only
        )

    def error_groups(self) -> pl.DataFrame:
        return self.sql("error_groups")

    def failing(self) -> pl.DataFrame:
        """Every trace with an error in the window, with where it failed first."""
        # The failing traces first, then the costly aggregates for those alone: a few
        # thousand traces rather than every trace of the hour.
        return self._traces("failing_trace_ids").sort(["start", "trace_id"])

    def slowest(self) -> pl.DataFrame:
        """The traces with the longest time from first to last event in the window."""
        return self._traces("slowest_trace_ids", shown=SHOWN).sort(
            ["span_ms", "trace_id"], descending=[True, False]
        )

    def _traces(self, chosen: str, **extra: object) -> pl.DataFrame:
        """Per trace the `chosen` query names: its span in the window, services, events,
        errors, first error (when, service, type, message), last status and users."""
        traces = self.sql(chosen, **extra)["trace_id"].to_list()
        return self.sql("traces", traces=traces)

    def first_error(self) -> FirstError | None:
        frame = self.sql("first_error")
        return cast("FirstError", frame.row(0, named=True)) if frame.height else None

    def llm(self) -> pl.DataFrame:
        return self.sql("llm")

    def llm_timeline(self) -> pl.DataFrame:
        return self.sql("llm_timeline", bucket_s=int(self.bucket.total_seconds()))

    def rejects(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Rejected lines lie between the first and last line each file logged in the window
        (rejects have no time of their own: they could not be read)."""
        spans = self.sql("reject_spans")
        within = {
            "sources": spans["source"].to_list(),
            "first_lines": spans["first_line"].to_list(),
            "last_lines": spans["last_line"].to_list(),
        }
        return self.sql("rejects_by_reason", **within), self.sql(
            "rejected_lines", **within, shown=SHOWN
        )

    def trace(
        self, trace_id: str | None
    ) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, object] | None]:
        """The trace's events (with their service label and `is_error`), a waterfall row per
        label, and its summary."""
        import polars as pl

        if trace_id is None:
            columns = {"offset_ms": pl.Float64, "label": pl.String, "level": pl.String,
                       "message": pl.String, "duration_ms": pl.Float64,
                       "status_code": pl.Int32, "error_type": pl.String}  # fmt: skip
            return pl.DataFrame(schema=columns), pl.DataFrame(), None
        # One lookup gives both the events and the summary the CLI prints for the trace.
        report = self.store.trace_report(trace_id)
        events = pl.DataFrame(
            [{k: v for k, v in event.items() if k != "attrs"} for event in report.events],
            infer_schema_length=None,
        )
        label = pl.coalesce(
            pl.col("service"),
            pl.col("source").str.extract(r"([^/\\]*)$", 1).str.split(".").list.first(),
            pl.lit("(none)"),
        )
        events = events.with_columns(
            label.alias("label"),
            pl.col("level").is_in(ERROR_LEVELS).fill_null(False).alias("is_error"),
        )
        waterfall = (
            events.group_by("label", maintain_order=True)
            .agg(
                pl.col("offset_ms").min().alias("first_ms"),
                pl.col("offset_ms").max().alias("last_ms"),
                pl.len().alias("events"),
                pl.col("is_error").sum().alias("errors"),
                pl.col("duration_ms").max().alias("reported_ms"),
            )
            .rename({"label": "service"})
        )
        summary = report.summary()
        errors = events.filter(pl.col("is_error"))
        if summary["first_error"] is not None and errors.height:
            summary["first_error"]["service"] = errors["label"][0]
        return events, waterfall, summary


def _causes(failing: pl.DataFrame) -> pl.DataFrame:
    """Failing traces by the service and error type of their first error, most first, with
    the time of the first and of the last such first error (`first_failure`,
    `last_failure`): when the traces failed, not when they started, which can be long before."""
    import polars as pl

    if failing.is_empty():
        return pl.DataFrame(
            schema={"service": pl.String, "error_type": pl.String, "traces": pl.UInt32}
        )
    return (
        failing.group_by("error_service", "error_type")
        .agg(
            pl.len().alias("traces"),
            pl.col("failed_at").min().alias("first_failure"),
            pl.col("failed_at").max().alias("last_failure"),
            pl.col("trace_id").sort_by("failed_at").first().alias("example_trace"),
            pl.col("first_error").sort_by("failed_at").first().alias("example"),
        )
        .rename({"error_service": "service"})
        .sort(["traces", "first_failure"], descending=[True, False])
    )


def _users(failing: pl.DataFrame) -> pl.DataFrame:
    """Users of failing traces: how many failed for them, when (the first errors of the
    first and the last of them), and with what."""
    import polars as pl

    schema = {"user_id": pl.String, "failed_traces": pl.UInt32}
    if failing.is_empty():
        return pl.DataFrame(schema=schema)
    return (
        failing.explode("users")
        .drop_nulls("users")
        .group_by(pl.col("users").alias("user_id"))
        .agg(
            pl.len().alias("failed_traces"),
            pl.col("failed_at").min().alias("first_failure"),
            pl.col("failed_at").max().alias("last_failure"),
            pl.col("error_type").drop_nulls().unique().sort().str.join(", ").alias("errors"),
            pl.col("trace_id").sort_by("failed_at").first().alias("example_trace"),
        )
        .sort(["failed_traces", "first_failure", "user_id"], descending=[True, False, False])
    )


def _worst(failing: pl.DataFrame, causes: pl.DataFrame, slowest: pl.DataFrame) -> str | None:
    """The slowest trace that failed the way most did, else the slowest trace."""
    if causes.height:
        cause = causes.row(0, named=True)
        failing = failing.filter(
            failing["error_service"].eq_missing(cause["service"])
            & failing["error_type"].eq_missing(cause["error_type"])
        )
    for frame in (failing, slowest):
        if frame.height:
            return str(frame.sort("span_ms", descending=True)["trace_id"][0])
    return None
