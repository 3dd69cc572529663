"""Named queries on Apache Spark, for lakes beyond one machine.

`logkit query NAME --engine spark --lake DIR` runs `queries/NAME.sql` with Spark SQL over the
lake that `logkit archive` writes (logkit/lake/). The queries are written once, in DuckDB's
dialect; sqlglot translates them, and `translate()` rewrites the few things it renders as SQL
Spark does not have:

* `time_bucket(INTERVAL n UNIT, ts)` becomes arithmetic on `unix_micros(ts)`, counting buckets
  from DuckDB's origin (2000-01-03, a Monday), so both engines cut the same buckets;
* `epoch_us(x)` becomes `unix_micros(x)`;
* logkit's macros (`is_error(level)`, `service_label(...)`, logkit/macros.py) become the
  expressions they stand for;
* `quantile_cont(x, q)` becomes `percentile(x, q)`: both interpolate linearly between the two
  nearest ranks, so the answers agree.

Parameters stay bound: `$since` becomes Spark's named marker `:since` and the values, checked
and converted by `NamedQuery.bind` as for DuckDB, go in `args`. A query over a table the lake
does not hold (rejects, sources) is refused.

The lake is read from its manifests, like DuckDB reads it: committed files only, the partition
columns found from the paths (`basePath`), with type inference off so that a service named
`2024` stays a string. The view `events` has the store's columns, the event's own host back
under `host`. Spark runs in local mode by default (`--spark-master local[2]`); for a cluster,
pass its master URL and keep the lake where every executor sees it at the same path (a shared
file system), as the README explains. One SparkSession per master serves a whole process:
starting one takes tens of seconds.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from ..errors import LogkitError, QueryError
from ..macros import FIXED
from ..schema import EVENT_COLUMNS
from ..sqlfiles import load
from .layout import Lake

if TYPE_CHECKING:
    import polars as pl
    from pyspark.sql import SparkSession
    from sqlglot import exp

DEFAULT_MASTER = "local[2]"
# DuckDB's time_bucket counts buckets shorter than a month from 2000-01-03 00:00 UTC.
_BUCKET_ORIGIN_US = 946_857_600_000_000
_UNIT_US = {
    "MICROSECOND": 1,
    "MILLISECOND": 1_000,
    "SECOND": 1_000_000,
    "MINUTE": 60_000_000,
    "HOUR": 3_600_000_000,
    "DAY": 86_400_000_000,
    "WEEK": 604_800_000_000,
}
LAKE_TABLES = {"events"}


def _interval_us(interval: exp.Expression) -> int:
    from sqlglot import exp

    if isinstance(interval, exp.Interval) and interval.unit is not None:
        unit = interval.unit.name.upper().removesuffix("S")
        try:
            return int(float(interval.this.name) * _UNIT_US[unit])
        except (KeyError, ValueError):
            pass
    raise QueryError(
        f"time_bucket({interval.sql('duckdb')}, ...) has no Spark translation: use an "
        "interval of microseconds to weeks"
    )


def _expand(call: exp.Anonymous) -> exp.Expression:
    """A call of one of logkit's DuckDB macros (`is_error(level)`), as the expression it
    stands for, from the macro's own definition (logkit/macros.py)."""
    from sqlglot import exp

    params, body = FIXED[call.name.lower()]
    if len(call.expressions) != len(params):
        raise QueryError(f"{call.name}() takes {len(params)} argument(s): {', '.join(params)}")
    args: dict[str, exp.Expression] = dict(zip(params, call.expressions, strict=True))
    tree: exp.Expression = exp.maybe_parse(body, dialect="duckdb")

    def substitute(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in args:
            return args[node.name].copy()
        return node

    # A macro may call another (is_llm_call calls is_error).
    return exp.Paren(this=tree.transform(substitute).transform(_rewrite))


def _rewrite(node: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    if isinstance(node, exp.DateBin):
        width = _interval_us(node.this)
        micros = f"UNIX_MICROS({node.expression.sql('spark')})"
        return exp.maybe_parse(
            f"TIMESTAMP_MICROS({micros} - PMOD({micros} - {_BUCKET_ORIGIN_US}, {width}))",
            dialect="spark",
        )
    if isinstance(node, exp.Anonymous) and node.name.lower() in FIXED:
        return _expand(node)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch_us":
        return exp.Anonymous(this="UNIX_MICROS", expressions=node.expressions)
    if isinstance(node, exp.PercentileCont) and node.expression is not None:
        return exp.Anonymous(this="PERCENTILE", expressions=[node.this, node.expression])
    return node


def translate(sql: str) -> str:
    """A named query's SQL, from DuckDB's dialect to Spark SQL.

    Examples:
        >>> print(translate("SELECT epoch_us(max(ts)) AS last FROM events WHERE ts >= $since"))
        SELECT UNIX_MICROS(MAX(ts)) AS last FROM events WHERE ts >= :since
    """
    import sqlglot

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise QueryError(f"cannot translate the query for Spark: {exc}") from None
    return tree.transform(_rewrite).sql(dialect="spark")


def tables(sql: str) -> set[str]:
    """The tables a query reads (its own CTEs aside)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table)} - ctes


@functools.cache
def session(master: str = DEFAULT_MASTER) -> SparkSession:
    """The SparkSession for `master`, started once per process."""
    try:
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError:
        raise LogkitError(
            "--engine spark needs pyspark and sqlglot: pip install 'logkit[lake]'"
        ) from None
    builder = (
        SparkSession.builder.master(master)
        .appName("logkit")
        # Every timestamp in the lake is UTC, and so are DuckDB's answers (logkit/query/reading.py).
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if master.startswith("local"):
        # One machine: no web UI, and a handful of shuffle partitions rather than 200.
        builder = builder.config("spark.ui.enabled", "false").config(
            "spark.sql.shuffle.partitions", str(os.cpu_count() or 2)
        )
    try:
        spark = builder.getOrCreate()
    except (PySparkException, OSError) as exc:
        raise LogkitError(
            f"Spark did not start at {master} (Java 17 or later must be on PATH or in "
            f"JAVA_HOME): {str(exc).splitlines()[0]}"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def register_lake(spark: SparkSession, lake_dir: str | os.PathLike[str]) -> None:
    """Make `events` in `spark` the lake's events, with the store's columns."""
    lake = Lake(lake_dir)
    files = [str(path) for paths in lake.files_by_date().values() for path in paths]
    if not files:
        raise LogkitError(
            f"no archived events in a lake at {lake.root} (write some with "
            f"'logkit archive --to {lake_dir}')"
        )
    spark.read.option("basePath", str(lake.root)).parquet(*files).createOrReplaceTempView(
        "lake_files"
    )
    columns = ", ".join(
        "event_host AS host" if name == "host" else name for name, _ in EVENT_COLUMNS
    )
    spark.sql(f"CREATE OR REPLACE TEMP VIEW events AS SELECT {columns} FROM lake_files")


def run_query(
    lake_dir: str | os.PathLike[str],
    name: str,
    params: dict[str, object] | None = None,
    *,
    master: str = DEFAULT_MASTER,
) -> pl.DataFrame:
    """Run the named query `name` on Spark over the lake; the same frame DuckDB would give.

    Examples:
        >>> run_query("/srv/lake", "status_code_mix", {"since": "7d"})  # doctest: +SKIP
        shape: (11, 4)
        columns: service, status_code, responses, share
    """
    import polars as pl

    named = load(name)
    bound = named.bind(params or {})
    missing = sorted(tables(named.sql) - LAKE_TABLES)
    if missing:
        raise QueryError(
            f"query {name!r} reads {', '.join(missing)}, which a lake does not hold (it has "
            "events only); run it without --engine spark"
        )
    sql = translate(named.sql)
    spark = session(master)
    register_lake(spark, lake_dir)
    from pyspark.errors import PySparkException

    try:
        table = spark.sql(sql, args=bound).toArrow()
    except PySparkException as exc:
        raise QueryError(f"query {name!r} failed on Spark: {str(exc).splitlines()[0]}") from None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)  # from a table (a Series comes from one column)
    return frame
