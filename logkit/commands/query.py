"""Commands that ask the store: trace, user, errors, search, stats, sql, query; the overview.

Each parses its options, calls one `Store` method (logkit/query/) and renders the answer
with logkit/output/. polars is never imported here: `logkit trace` must start fast, and
the other commands get it through the Store methods that need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..errors import NotFound, StoreNotFound
from ..output import emit, fit_lines, render, render_trace
from ..query.choices import ERRORS_BY, LEVELS, STATS_BY
from .options import Context, output_options, param_option, pass_context, time_options

if TYPE_CHECKING:
    from ..store import Store


@click.command()
@click.argument("trace_id")
@output_options
@pass_context
def trace(obj: Context, trace_id: str, fmt: str) -> None:
    """Every event of one trace across services, in time order.

    TRACE_ID may be a unique prefix. The table shows a waterfall per service (when it first
    and last appears, and the durations it reported), the events with their offset from the
    first one, the first error marked '>>', and a summary line. --format json, ndjson or csv
    gives the full events, attrs included.

    Example: logkit trace 4bf92f35
    """
    render_trace(obj.store(frames=False).trace_report(trace_id), fmt)


@click.command()
@click.argument("user_id")
@time_options
@output_options
@pass_context
def user(obj: Context, user_id: str, since: str | None, until: str | None, fmt: str) -> None:
    """A user's timeline: each trace they touched, what it did, its errors and status.

    Example: logkit user u_10335 --since 7d
    """
    store = obj.store(frames=False)
    frame = store.user(user_id, since=since, until=until)
    if frame.is_empty():
        window = " in that time window" if since or until else ""
        raise NotFound(f"no events for user {user_id!r}{window} in {store.path} (check the id)")
    render(frame, fmt)


@click.command()
@time_options
@click.option("--service", metavar="NAME", help="Only this service's errors.")
@click.option("--by", type=click.Choice(ERRORS_BY),
              default="type", show_default=True, help="How to group the errors.")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Most groups to show.")  # fmt: skip
@output_options
@pass_context
def errors(obj: Context, /, fmt: str, **options: Any) -> None:
    """Errors (level ERROR or CRITICAL) grouped, most frequent first.

    Each group has its count, first and last seen and an example trace id. --by fingerprint
    groups one kind of error whatever its variable parts (numbers, ids, hex, uuids, quoted and
    masked values); --by endpoint groups by method and route, job type or model.

    Example: logkit errors --since 1h --by fingerprint
    """
    render(obj.store(frames=False).errors(**options), fmt)


@click.command()
@click.argument("text")
@click.option("--regex", is_flag=True, help="TEXT is an RE2 regular expression.")
@click.option("--field", metavar="NAME", help="Search one column or attrs key (err.stack).")
@click.option("--level", type=click.Choice([level.lower() for level in LEVELS],
              case_sensitive=False), help="Only events at this level or above.")  # fmt: skip
@time_options
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="Most events to show.")  # fmt: skip
@output_options
@pass_context
def search(obj: Context, /, text: str, fmt: str, **options: Any) -> None:
    """Events whose message or attrs contain TEXT, newest first.

    Plain TEXT matches literally and ignores case; --regex takes an RE2 expression (prefix
    it with (?i) to ignore case). Tables leave attrs out; other formats include them.

    Example: logkit search timeout --level warning --since 2h
    """
    frame = obj.store(frames=False).search(text, **options)
    render(frame.drop("attrs") if fmt == "table" else frame, fmt)


@click.command()
@click.option("--by", type=click.Choice(STATS_BY),
              default="service", show_default=True, help="How to group the events.")  # fmt: skip
@time_options
@output_options
@pass_context
def stats(obj: Context, /, fmt: str, **options: Any) -> None:
    """Per group: events, error rate, p50/p95/p99/max duration (ms), tokens, cost, cache
    hit rate. Paths have their id segments folded into :id.

    Example: logkit stats --by model --since 24h
    """
    render(obj.store(frames=False).stats(**options), fmt)


@click.command()
@click.argument("query")
@param_option()
@output_options
@pass_context
def sql(obj: Context, query: str, params: dict[str, str], fmt: str) -> None:
    """Run read-only SQL against the store.

    Tables: events, rejects, sources, counters, runs. The SQL cannot write, attach other
    databases, read files or load extensions.

    Example: logkit sql "SELECT service, count(*) FROM events GROUP BY ALL"
    """
    render(obj.store(frames=False).sql(query, params or None), fmt)


# The same as logkit.lake.spark.DEFAULT_MASTER, without importing pyspark to print --help.
DEFAULT_MASTER = "local[2]"


@click.command()
@click.argument("name", required=False)
@param_option()
@click.option("--list", "list_", is_flag=True, help="List the named queries.")
@output_options
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="Run on DuckDB here, or on Apache Spark over --lake.",
)
@click.option(
    "--spark-master",
    metavar="URL",
    default=DEFAULT_MASTER,
    show_default=True,
    help="Where Spark runs: local[N], spark://HOST:7077, yarn, k8s://...",
)
@pass_context
def query(
    obj: Context,
    name: str | None,
    params: dict[str, str],
    list_: bool,
    fmt: str,
    engine: str,
    spark_master: str,
) -> None:
    """Run a named query from queries/NAME.sql with its parameters bound.

    Example: logkit query slowest_traces -p since=1h -p limit=5

    With --engine spark it runs on Apache Spark SQL over the lake alone, translated from
    DuckDB's dialect (install logkit[lake]).

    \b
    Example: logkit query status_code_mix --engine spark --lake /srv/logkit-lake
    """
    store = obj.store(frames=False)
    if list_ or not name:
        render(store.list_queries(), fmt)
        return
    if engine == "spark":
        if store.lake is None:  # said before Spark takes its tens of seconds to start
            raise click.UsageError("--engine spark reads a lake: give --lake DIR")
        rows = store.spark_query(name, params, master=spark_master)
    else:
        rows = store.query(name, **params)
    render(rows, fmt, notice=_limit_notice(store, name, params, len(rows)))


def _limit_notice(store: Store, name: str, params: dict[str, str], shown: int) -> str | None:
    """A named query with a `limit` parameter that its answer reached: more rows may exist."""
    limit = store.query_limit(name, params)
    if limit is None or shown != limit or shown == 0:
        return None
    return f"showing the first {shown:,}; -p limit=N for more"


def show_overview(obj: Context) -> None:
    """What `logkit` alone prints: the store at a glance, or how to make one."""
    store = obj.store(frames=False)
    try:
        info = store.overview()
    except StoreNotFound:
        click.echo(
            f"No store at {store.path} yet. Put some logs in it first:\n\n"
            "  logkit ingest /var/log/app/          # files, globs, directories, '-' for stdin\n"
            "  logkit sample --lines 100000 --out sample_logs && logkit ingest sample_logs\n\n"
            "Then ask: logkit errors --since 1h, logkit trace ID, logkit stats.\n"
            "Use --db PATH (or $LOGKIT_DB) for a store elsewhere; 'logkit --help' lists every "
            "command."
        )
        return
    emit("\n".join(fit_lines(overview_lines(info))) + "\n")


def overview_lines(info: dict[str, Any]) -> list[str]:
    from ..output import escape_control, format_ms

    events = info["events"]
    lines = [click.style(info["path"], bold=True) + f": {events:,} events"]
    if info["first"] is not None:
        span = (info["last"] - info["first"]).total_seconds() * 1000
        lines[0] += (
            f" from {info['first']:%Y-%m-%d %H:%M:%S} to {info['last']:%Y-%m-%d %H:%M:%S} UTC"
            f" ({format_ms(span)})"
        )
    services = " · ".join(
        f"{escape_control(name) if name is not None else '(none)'} {count:,}"
        for name, count in info["services"].items()
    )
    rate = f" ({info['errors'] / events:.1%})" if events else ""
    last = info["last_ingest"]
    lines += [
        f"services: {services or '-'}",
        f"errors: {info['errors']:,}{rate} · rejected lines: {info['rejects']:,}"
        f" · sources: {info['sources']:,}"
        + (f", last ingest {last:%Y-%m-%d %H:%M} UTC" if last else ""),
        "",
        "next: logkit errors --since 1h · logkit trace ID · logkit stats · logkit --help",
    ]
    return lines


COMMANDS = [trace, user, errors, search, stats, sql, query]
