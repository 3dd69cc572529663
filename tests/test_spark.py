"""Named queries on Apache Spark (logkit/lake/spark.py) give DuckDB's answers over the same lake.

The lake is written by three simulated hosts: three stores, each ingesting its own sample logs
(a different seed and day each) and archiving with its own --host. Spark runs in local mode,
started once for the module (it takes tens of seconds); the translation tests need no Spark.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import logkit
from logkit.cli import cli
from logkit.errors import QueryError
from logkit.lake.archive import archive
from logkit.lake.layout import Lake
from logkit.sample import generate

spark_module = pytest.importorskip("logkit.lake.spark")
pytest.importorskip("pyspark")
pytest.importorskip("sqlglot")

pytestmark = pytest.mark.xdist_group("spark")

START = datetime(2020, 11, 2, tzinfo=UTC)  # long enough ago to be archived whatever the clock


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hosts")
    for number, host in enumerate(("web-1", "web-2", "worker-1")):
        logs = generate(
            root / host / "logs",
            lines=1500,
            seed=number,
            files=3,
            start=START + timedelta(days=number),
        )
        store = logkit.Store(root / host / "logkit.duckdb")
        store.ingest([str(p) for p in logs])
        with store.writer() as session:
            archive(session, Lake(root / "lake"), cutoff=START + timedelta(days=30), host=host)
    return root / "lake"


@pytest.fixture(scope="module")
def spark(lake: Path) -> Iterator[object]:
    # Only the JVM's start-up matters here: C1 alone and the serial collector start it
    # faster, and these queries are too small for the optimising compiler to pay off.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        yield spark_module.session(spark_module.DEFAULT_MASTER)


def duckdb_answer(lake: Path, name: str, params: dict[str, str]) -> pl.DataFrame:
    """The same query by DuckDB, over the lake alone (no store on this machine)."""
    return logkit.Store(lake.parent / "no-store.duckdb", lake=lake).query(name, **params)


WINDOW = {
    "since": (START + timedelta(days=1)).isoformat(),
    "until": (START + timedelta(days=1, minutes=30)).isoformat(),
}


class TestSameAnswers:
    @pytest.mark.parametrize(
        ("name", "params"),
        [
            ("slowest_traces", {"limit": "1000"}),
            ("error_rate_per_minute", {**WINDOW, "service": "api"}),
            ("top_users_by_errors", {"limit": "1000"}),
            ("status_code_mix", {}),
            ("tokens_cost_by_model", {}),
        ],
        ids=["trace", "errors-per-minute", "errors-by-user", "status-codes", "llm-stats"],
    )
    def test_spark_answers_as_duckdb(
        self, lake: Path, spark: object, name: str, params: dict[str, str]
    ) -> None:
        """Same rows, same order, same types; floats equal to the last few bits."""
        expected = duckdb_answer(lake, name, params)
        actual = spark_module.run_query(lake, name, params)
        assert expected.height > 0
        assert_frame_equal(expected, actual, check_exact=False, rel_tol=1e-9)

    def test_the_lake_holds_every_host(self, lake: Path, spark: object) -> None:
        """All three hosts' partitions are read."""
        spark_module.register_lake(spark, lake)
        assert [("web-1",), ("web-2",), ("worker-1",)] == [
            tuple(r) for r in spark.sql(  # type: ignore[attr-defined]
                "SELECT DISTINCT host FROM lake_files ORDER BY host"
            ).collect()
        ]  # fmt: skip

    def test_query_engine_spark_on_the_command_line(self, lake: Path, spark: object) -> None:
        """`logkit query NAME --engine spark --lake DIR` prints what DuckDB would."""
        no_store = str(lake.parent / "no-store.duckdb")
        args = ["--db", no_store, "query", "status_code_mix", "--lake", str(lake)]
        args += ["--format", "csv"]
        runner = CliRunner()
        duck = runner.invoke(cli, [*args, "--engine", "duckdb"], catch_exceptions=False)
        on_spark = runner.invoke(cli, [*args, "--engine", "spark"], catch_exceptions=False)
        assert (0, duck.stdout) == (on_spark.exit_code, on_spark.stdout)


class TestTranslate:
    def test_time_bucket_counts_from_duckdb_s_origin(self) -> None:
        """time_bucket becomes integer arithmetic on unix_micros, from 2000-01-03."""
        assert (
            "SELECT TIMESTAMP_MICROS(UNIX_MICROS(ts) - PMOD(UNIX_MICROS(ts)"
            " - 946857600000000, 300000000)) AS m FROM events"
        ) == spark_module.translate("SELECT time_bucket(INTERVAL 5 MINUTE, ts) AS m FROM events")

    def test_epoch_us_and_quantile_cont_have_spark_names(self) -> None:
        """epoch_us is unix_micros; quantile_cont is percentile (both interpolate)."""
        assert "SELECT UNIX_MICROS(MAX(ts)), PERCENTILE(d, 0.95) FROM events" == (
            spark_module.translate("SELECT epoch_us(max(ts)), quantile_cont(d, 0.95) FROM events")
        )

    def test_parameters_stay_bound(self) -> None:
        """$name becomes Spark's :name marker; no value is pasted into the SQL."""
        assert "SELECT * FROM events WHERE ts >= :since" == spark_module.translate(
            "SELECT * FROM events WHERE ts >= $since"
        )

    def test_logkit_macros_become_what_they_stand_for(self) -> None:
        """is_error(level), a DuckDB macro of logkit's, is spelled out for Spark."""
        assert (
            "SELECT COUNT(*) FILTER(WHERE (lvl IN ('ERROR', 'CRITICAL'))) FROM events"
        ) == spark_module.translate("SELECT count(*) FILTER (WHERE is_error(lvl)) FROM events")

    def test_a_month_bucket_is_refused(self) -> None:
        """Calendar intervals have no fixed length to count in."""
        with pytest.raises(QueryError, match="no Spark translation"):
            spark_module.translate("SELECT time_bucket(INTERVAL 1 MONTH, ts) FROM events")

    def test_a_query_over_other_tables_is_refused_before_spark_starts(self, tmp_path: Path) -> None:
        """rejects and sources are the store's, not the lake's."""
        with pytest.raises(QueryError, match="reads rejects, which a lake does not hold"):
            spark_module.run_query(tmp_path, "rejects_by_reason")
