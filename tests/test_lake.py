"""The Parquet lake (logkit/lake/): archive's layout, idempotence, crash safety and pruning,
and the query verbs answering over the store and the lake together.

Every test ingests real NDJSON into a real store and archives it into a real directory. The
events span three days, four services (one of them null, one with a name that needs escaping),
traces that cross services, and one event without a timestamp.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import polars as pl
import pytest
from click.testing import CliRunner

import logkit
from logkit.cli import cli
from logkit.errors import LogkitError, QueryError
from logkit.lake import archive as lakes
from logkit.lake.layout import HIVE_NULL, ROW_GROUP_ROWS, Lake, partition_value
from logkit.lake.reading import profile_scans
from logkit.schema import trace_key

from .helpers import LOGKIT, run_logkit

DAY0 = datetime(2020, 3, 1, tzinfo=UTC)  # a Sunday, long enough ago for any --older-than
SERVICES = ["api", "worker", None, "a/b c"]
DAYS = 3
TRACES_PER_DAY = 40
# With a timestamp: the requests' events and a daily login without any id; one more has none.
EVENTS = DAYS * TRACES_PER_DAY * len(SERVICES) + DAYS


def trace_id(day: int, n: int) -> str:
    """32 hex digits; the first 8 are unique to the trace, the rest look random."""
    return f"{day:04x}{n:04x}{(day * 1000 + n) * 2_654_435_761 % 16**24:024x}"


def records(days: range, traces: int = TRACES_PER_DAY, *, tag: str = "") -> list[dict[str, Any]]:
    """`traces` requests a day, each logged once by every service, 10 ms apart."""
    out = []
    for day in days:
        for n in range(traces):
            start = DAY0 + timedelta(days=day, seconds=n * 2017 % 86_000)
            for k, service in enumerate(SERVICES):
                record: dict[str, Any] = {
                    "timestamp": (start + timedelta(milliseconds=10 * k)).isoformat(),
                    "level": "error" if (n + k) % 7 == 0 else "info",
                    "message": f"{tag}step {k} of request {n}",
                    "trace_id": trace_id(day, n),
                    "user_id": f"u_{n % 5}",
                    "host": f"pod-{k}",
                    "duration_ms": 10 + n * (k + 1) % 90,
                    "status_code": 500 if (n + k) % 7 == 0 else 200,
                    "path": f"/v1/items/{n}",
                    "model": "gpt-4o" if k == 2 else None,
                    "input_tokens": 100 + n if k == 2 else None,
                }
                if service is not None:
                    record["service"] = service
                out.append(record)
    return out


def ingest(store: logkit.Store, rows: list[dict[str, Any]], name: str = "app.log") -> None:
    path = store.path.parent / "logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as fh:
        fh.write(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    store.ingest([str(path)])


def make_store(directory: Path, *, timeless: bool = True) -> logkit.Store:
    store = logkit.Store(directory / "logkit.duckdb")
    logins = [
        {"timestamp": (DAY0 + timedelta(days=day, hours=5)).isoformat(), "level": "info",
         "service": "api", "message": "login", "user_id": "u_3"}
        for day in range(DAYS)
    ]  # fmt: skip
    extra = [{"level": "info", "service": "api", "message": "no time at all"}] if timeless else []
    ingest(store, [*records(range(DAYS)), *logins, *extra])
    return store


def archive(
    store: logkit.Store,
    lake_dir: Path,
    *,
    before_day: int = DAYS,
    host: str = "h1",
    prune: bool = False,
    row_group_rows: int = ROW_GROUP_ROWS,
) -> lakes.ArchiveResult:
    """Archive events before DAY0 + `before_day` days, as `logkit archive` would."""
    metrics = store.metric_set() if prune else None
    with store.writer() as session:
        return lakes.archive(
            session,
            Lake(lake_dir),
            cutoff=DAY0 + timedelta(days=before_day),
            host=host,
            metrics=metrics,
            row_group_rows=row_group_rows,
        )


def lake_rows(lake_dir: Path, columns: str = "trace_id, service, message") -> list[tuple]:
    """Every row of every finished file in the lake, read as any engine would: by glob."""
    pattern = str(lake_dir / "date=*" / "*" / "*" / "*.parquet")
    return duckdb.sql(
        f"SELECT {columns} FROM read_parquet('{pattern}', hive_partitioning = true,"
        " hive_types = {'service': VARCHAR}) ORDER BY ALL"
    ).fetchall()


def store_rows(
    store: logkit.Store, columns: str = "trace_id, service, message", where: str = "true"
) -> list[tuple]:
    with store.reader() as con:
        return con.execute(f"SELECT {columns} FROM events WHERE {where} ORDER BY ALL").fetchall()


def timed_rows(store: logkit.Store) -> list[tuple]:
    """The store's events that have a timestamp: what an archive can take."""
    return store_rows(store, where="ts IS NOT NULL")


def parquet_files(lake_dir: Path) -> list[Path]:
    return sorted(lake_dir.glob("date=*/*/*/*.parquet"))


def copy_store(template: logkit.Store, directory: Path) -> logkit.Store:
    """A fresh copy of a store built once per module: ingesting is the slow part."""
    shutil.copytree(template.path.parent, directory, dirs_exist_ok=True)
    return logkit.Store(directory / template.path.name)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> logkit.Store:
    return make_store(tmp_path_factory.mktemp("template"))


@pytest.fixture
def store(template: logkit.Store, tmp_path: Path) -> logkit.Store:
    return copy_store(template, tmp_path)


@pytest.fixture(scope="module")
def busy_template(tmp_path_factory: pytest.TempPathFactory) -> logkit.Store:
    """One service's busy day: 10,000 one-event traces, enough for several row groups (DuckDB
    writes at least 2,048 rows to a group)."""
    store = logkit.Store(tmp_path_factory.mktemp("busy") / "busy.duckdb")
    ingest(store, [
        {"timestamp": (DAY0 + timedelta(seconds=n * 8)).isoformat(), "service": "api",
         "message": f"request {n}", "trace_id": f"{n * 7919:032x}"}
        for n in range(10_000)
    ], name="busy.log")  # fmt: skip
    return store


@pytest.fixture
def busy_store(busy_template: logkit.Store, tmp_path: Path) -> logkit.Store:
    return copy_store(busy_template, tmp_path)


@pytest.fixture(scope="module")
def shared_lake(
    template: logkit.Store, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[logkit.Store]]:
    """Three hosts' stores (the same events, as if replayed on each) archived into one lake."""
    root = tmp_path_factory.mktemp("hosts")
    stores = [copy_store(template, root / name) for name in ("a", "b", "c")]
    for name, store in zip("abc", stores, strict=True):
        archive(store, root / "lake", host=f"host-{name}")
    return root / "lake", stores


class TestLayout:
    def test_files_are_partitioned_by_date_service_and_archiving_host(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """date=/service=/host=, one file per date and service, named for host and batch."""
        result = archive(store, tmp_path / "lake", host="web-1")
        assert (
            sorted(
                f"date=2020-03-0{d}/service={s}/host=web-1"
                for d in (1, 2, 3)
                for s in ("api", "worker", HIVE_NULL, "a%2Fb%20c")
            ),
            [f"part-web-1-{result.batch_id}"] * 12,
        ) == (
            sorted(str(p.parent.relative_to(tmp_path / "lake")) for p in parquet_files(
                tmp_path / "lake")),
            [p.name.rsplit("-", 1)[0] for p in parquet_files(tmp_path / "lake")],
        )  # fmt: skip

    def test_partition_values_read_back_as_they_were(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """Escaped and null services come back unchanged through hive partitioning."""
        archive(store, tmp_path / "lake")
        assert store_rows(store, "DISTINCT service") == lake_rows(
            tmp_path / "lake", "DISTINCT service"
        )

    @pytest.mark.parametrize(
        ("value", "segment"),
        [("api", "api"), ("a/b c", "a%2Fb%20c"), ("x=1%", "x%3D1%25"), (None, HIVE_NULL),
         ("", HIVE_NULL), ("dienst-ü", "dienst-ü"), ("..", "..")],
    )  # fmt: skip
    def test_partition_value_escapes_like_hive(self, value: str | None, segment: str) -> None:
        """ASCII punctuation is %XX, null and empty are Hive's default partition, and
        non-ASCII stays (Spark un-escapes byte by byte)."""
        assert segment == partition_value(value)

    def test_a_service_too_long_for_a_directory_is_cut_and_told_apart(self) -> None:
        """No file system holds a 300-byte path segment; the cut keeps long names distinct."""
        a, b = partition_value("s" * 300), partition_value("s" * 299 + "t")
        assert a != b and len(f"service={a}".encode()) < 255
        assert a.startswith("s" * 191) and a[191] == "~" and len(a) == 200
        escaped = partition_value("/ü" * 100)  # never cut inside an escape or a character
        assert escaped.rsplit("~", 1)[0] == "%2Fü" * 38  # 190 of the 191 bytes before "~"

    def test_an_event_with_an_absurd_service_is_archived_with_the_rest(
        self, tmp_path: Path
    ) -> None:
        store = logkit.open(tmp_path / "s.duckdb")
        log = tmp_path / "a.log"
        log.write_text(
            '{"ts": "2020-03-01T10:00:00Z", "service": "' + "x" * 400 + '", "msg": "a"}\n'
            '{"ts": "2020-03-01T10:00:00Z", "service": "api", "msg": "b"}\n'
        )
        store.ingest([str(log)])
        assert 2 == archive(store, tmp_path / "lake").events
        assert [("api",), ("x" * 191 + "~" + partition_value("x" * 400)[-8:],)] == lake_rows(
            tmp_path / "lake", "service"
        )

    def test_files_are_zstd_and_sorted_by_trace_key(
        self, busy_store: logkit.Store, tmp_path: Path
    ) -> None:
        """Row groups' trace_key ranges follow one another without overlapping."""
        archive(busy_store, tmp_path / "lake", row_group_rows=2048)
        metadata = duckdb.sql(
            "SELECT compression, stats_min_value::UBIGINT, stats_max_value::UBIGINT"
            f" FROM parquet_metadata('{tmp_path / 'lake'}/date=*/*/*/*.parquet')"
            " WHERE path_in_schema = 'trace_key' ORDER BY row_group_id"
        ).fetchall()
        assert ({"ZSTD"}, 5, True) == (
            {row[0] for row in metadata},
            len(metadata),
            all(a[2] < b[1] for a, b in itertools.pairwise(metadata)),
        )

    def test_the_event_host_is_kept_beside_the_archiving_host(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """`host` in the path is who archived; the event's own host is `event_host`."""
        archive(store, tmp_path / "lake", host="archiver")
        assert [("archiver", "pod-0"), ("archiver", "pod-1")] == lake_rows(
            tmp_path / "lake", "DISTINCT host, event_host"
        )[:2]

    def test_events_without_a_timestamp_stay_in_the_store(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """An event of unknown age is never archived, and never pruned."""
        result = archive(store, tmp_path / "lake", prune=True)
        assert (EVENTS, [(None, "api", "no time at all")]) == (
            result.events,
            store_rows(store),
        )

    def test_manifest_lists_the_batch_files(self, store: logkit.Store, tmp_path: Path) -> None:
        """One JSON per batch under _manifest/host=NAME/, naming every file and its rows."""
        result = archive(store, tmp_path / "lake", host="web-1")
        manifest = orjson.loads(
            (tmp_path / "lake" / "_manifest" / "host=web-1" / f"{result.batch_id}.json")
            .read_bytes()
        )  # fmt: skip
        assert (EVENTS, sorted(str(p.relative_to(tmp_path / "lake")) for p in parquet_files(
            tmp_path / "lake")), "web-1") == (
            sum(f["rows"] for f in manifest["files"]),
            sorted(f["path"] for f in manifest["files"]),
            manifest["host"],
        )  # fmt: skip


class TestIdempotence:
    def test_a_rerun_adds_nothing(self, store: logkit.Store, tmp_path: Path) -> None:
        """Archiving again with the same cutoff finds nothing new and writes nothing."""
        archive(store, tmp_path / "lake")
        again = archive(store, tmp_path / "lake")
        assert (0, None, 12, timed_rows(store)) == (
            again.events,
            again.batch_id,
            len(parquet_files(tmp_path / "lake")),
            lake_rows(tmp_path / "lake"),
        )

    def test_a_later_cutoff_adds_only_the_newer_events(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """Two days, then the third: every event once."""
        first = archive(store, tmp_path / "lake", before_day=2)
        second = archive(store, tmp_path / "lake", before_day=3)
        assert (2 * EVENTS // 3, EVENTS // 3, timed_rows(store)) == (
            first.events,
            second.events,
            lake_rows(tmp_path / "lake"),
        )

    def test_late_events_go_with_the_next_batch(self, store: logkit.Store, tmp_path: Path) -> None:
        """Events ingested after an archive with timestamps before its cutoff are not lost."""
        archive(store, tmp_path / "lake")
        ingest(store, records(range(1), traces=2, tag="late "), name="late.log")
        again = archive(store, tmp_path / "lake")
        assert (8, timed_rows(store)) == (again.events, lake_rows(tmp_path / "lake"))

    def test_the_cutoff_never_goes_back(self, store: logkit.Store, tmp_path: Path) -> None:
        """A smaller cutoff after a larger one takes the larger, and copies nothing twice."""
        archive(store, tmp_path / "lake", before_day=3)
        again = archive(store, tmp_path / "lake", before_day=1)
        assert (DAY0 + timedelta(days=3), 0, timed_rows(store)) == (
            again.cutoff,
            again.events,
            lake_rows(tmp_path / "lake"),
        )

    def test_a_run_killed_before_its_manifest_leaves_nothing_behind(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """Files of a batch without a manifest are deleted by the next run, which archives
        their events again, once."""
        first = archive(store, tmp_path / "lake")
        # The state a kill between the last rename and the manifest leaves: files in place,
        # no manifest, the batch 'writing' in the store.
        Lake(tmp_path / "lake").manifest_path("h1", str(first.batch_id)).unlink()
        with store.writer() as session, session.transaction() as con:
            con.execute("UPDATE lake_batches SET state = 'writing'")
        second = archive(store, tmp_path / "lake")
        assert ([first.batch_id], EVENTS, timed_rows(store), 12) == (
            second.recovered,
            second.events,
            lake_rows(tmp_path / "lake"),
            len(parquet_files(tmp_path / "lake")),
        )

    def test_a_run_killed_after_its_manifest_is_completed_not_repeated(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """A committed batch the store still marks 'writing' is marked done, not redone."""
        first = archive(store, tmp_path / "lake")
        with store.writer() as session, session.transaction() as con:
            con.execute("UPDATE lake_batches SET state = 'writing', covered_rows = NULL")
        second = archive(store, tmp_path / "lake")
        assert ([first.batch_id], 0, timed_rows(store)) == (
            second.recovered,
            second.events,
            lake_rows(tmp_path / "lake"),
        )

    def test_unfinished_files_have_dot_names_no_reader_lists(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """A file being written is `.part-...parquet.tmp`: hidden from Spark, Hive and globs."""
        directory = tmp_path / "lake" / "date=2020-03-01" / "service=api" / "host=h1"
        directory.mkdir(parents=True)
        (directory / ".part-h1-20200301T000000Z-00000000-00000.parquet.tmp").write_bytes(b"PAR")
        archive(store, tmp_path / "lake")
        assert timed_rows(store) == lake_rows(tmp_path / "lake")

    def test_a_killed_archive_loses_and_duplicates_nothing(self, tmp_path: Path) -> None:
        """SIGKILL in the middle of `logkit archive`, then a rerun: every event exactly once."""
        store = logkit.Store(tmp_path / "logkit.duckdb")
        ingest(store, records(range(12), traces=60))
        proc = subprocess.Popen(
            [*LOGKIT, "--db", str(store.path), "archive", "--to", str(tmp_path / "lake"),
             "--host", "h1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not list((tmp_path / "lake").glob("date=*/*/*/*")) and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        run_logkit("archive", "--to", str(tmp_path / "lake"), "--host", "h1", db=store.path)
        assert store_rows(store) == lake_rows(tmp_path / "lake")


class TestPrune:
    def test_prune_deletes_the_archived_events(self, store: logkit.Store, tmp_path: Path) -> None:
        """After --prune the store keeps what is newer than the cutoff, and the lake the rest."""
        before = store_rows(store)
        result = archive(store, tmp_path / "lake", before_day=2, prune=True)
        assert (2 * EVENTS // 3, EVENTS // 3 + 1, sorted(before, key=repr)) == (
            result.pruned.events if result.pruned else None,
            len(store_rows(store)),
            sorted(store_rows(store) + lake_rows(tmp_path / "lake"), key=repr),
        )

    def test_prune_leaves_every_exported_counter_where_it_was(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """Counters and histograms over the pruned events stay exactly as they were."""

        def counters(text: str) -> dict[str, str]:
            return dict(
                line.rsplit(" ", 1)
                for line in text.splitlines()
                if line and not line.startswith("#")
                and line.split("{")[0].endswith(("_total", "_bucket", "_count", "_sum"))
            )  # fmt: skip

        before = counters(store.export().text)
        result = archive(store, tmp_path / "lake", prune=True)
        assert (EVENTS, before) == (
            result.pruned.events if result.pruned else None,
            counters(store.export().text),
        )

    def test_prune_after_a_copy_deletes_what_was_copied(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """archive, then archive --prune with nothing new: the copies leave the store."""
        archive(store, tmp_path / "lake")
        result = archive(store, tmp_path / "lake", prune=True)
        with store.reader() as con:
            states = con.execute("SELECT DISTINCT state FROM lake_batches").fetchall()
        assert (0, EVENTS, 1, [("pruned",)]) == (
            result.events,
            result.pruned.events if result.pruned else None,
            len(store_rows(store)),
            states,
        )


def answers(store: logkit.Store) -> dict[str, pl.DataFrame]:
    """Every query verb, over whatever the store reads."""
    return {
        "trace": store.trace(trace_id(1, 7)),
        "trace_prefix": store.trace(trace_id(2, 3)[:8]),
        "user": store.user("u_3", since="2020-03-01", until="2020-03-03"),
        "errors": store.errors(by="fingerprint", limit=50),
        "errors_window": store.errors(since="2020-03-02", until="2020-03-03"),
        "stats": store.stats(by="path"),
        "search": store.search("step 3", limit=500),
        "query": store.query("status_code_mix"),
        "sql": store.sql("SELECT count(*) AS n, count(DISTINCT trace_id) AS t FROM events"),
        "slowest": store.query("slowest_traces", limit=500),
    }


class TestReading:
    @pytest.mark.parametrize("prune", [False, True], ids=["copied", "moved"])
    def test_answers_over_store_and_lake_are_the_store_s_before(
        self, store: logkit.Store, tmp_path: Path, prune: bool
    ) -> None:
        """Copied or moved, the events are counted once: every verb answers as before."""
        before = answers(store)
        archive(store, tmp_path / "lake", before_day=2, prune=prune)
        after = answers(logkit.Store(store.path, lake=tmp_path / "lake"))
        assert {k: v.sort(v.columns).to_dicts() for k, v in before.items()} == {
            k: v.sort(v.columns).to_dicts() for k, v in after.items()
        }

    def test_a_lake_alone_answers_without_a_store(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """On a machine with only the lake, --lake without a store reads the lake."""
        before = store.trace(trace_id(0, 3))
        archive(store, tmp_path / "lake")
        alone = logkit.Store(tmp_path / "none.duckdb", lake=tmp_path / "lake")
        assert (before.to_dicts(), False) == (
            alone.trace(trace_id(0, 3)).to_dicts(),
            (tmp_path / "none.duckdb").exists(),
        )

    def test_since_and_until_skip_the_other_weeks_files(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """A window opens the files of its ISO week only (2020-03-01 is a Sunday, the 2nd and
        3rd are the next week): partition pruning on date."""
        archive(store, tmp_path / "lake")
        reading = logkit.Store(store.path, lake=tmp_path / "lake")
        with reading.reader() as con:
            day = profile_scans(
                con,
                "SELECT count(*) FROM events WHERE ts >= $since AND ts < $until",
                {"since": DAY0 + timedelta(hours=1), "until": DAY0 + timedelta(hours=2)},
            )
            everything = profile_scans(con, "SELECT count(*) FROM events")
        assert (4, 12) == (day.files, everything.files)

    def test_a_trace_lookup_reads_one_row_group_of_the_file(
        self, busy_store: logkit.Store, tmp_path: Path
    ) -> None:
        """trace_key statistics skip every other row group."""
        archive(busy_store, tmp_path / "lake", row_group_rows=2048, prune=True)
        reading = logkit.Store(busy_store.path, lake=tmp_path / "lake")
        trace = f"{5000 * 7919:032x}"
        with reading.reader() as con:
            scans = profile_scans(
                con,
                "SELECT * FROM events WHERE trace_key = $k AND trace_id = $t",
                {"k": trace_key(trace), "t": trace},
            )
        assert (1, 1, 5, 1) == (
            scans.files,
            scans.row_groups_read,
            scans.row_groups,
            reading.trace(trace).height,
        )

    def test_sql_reads_the_lake_but_no_other_file(
        self, store: logkit.Store, tmp_path: Path
    ) -> None:
        """`logkit sql` stays locked down: the lake is readable, nothing else."""
        archive(store, tmp_path / "lake", prune=True)
        outside = tmp_path / "outside.parquet"
        duckdb.sql(f"COPY (SELECT 1 AS x) TO '{outside}'")
        reading = logkit.Store(store.path, lake=tmp_path / "lake")
        with pytest.raises(QueryError, match="off limits"):
            reading.sql(f"SELECT * FROM read_parquet('{outside}')")
        assert [EVENTS + 1] == reading.sql("SELECT count(*) AS n FROM events")["n"].to_list()

    def test_a_missing_lake_is_an_error_with_the_fix(self, store: logkit.Store) -> None:
        """--lake naming no directory says how to make one."""
        with pytest.raises(LogkitError, match=r"no lake at .*logkit archive --to"):
            logkit.Store(store.path, lake=store.path.parent / "nope").errors()


class TestManyHosts:
    def test_three_hosts_share_one_lake_without_clashing(
        self, shared_lake: tuple[Path, list[logkit.Store]]
    ) -> None:
        """Each host writes under its own partitions and manifest; all events are there."""
        lake_dir, _ = shared_lake
        files = parquet_files(lake_dir)
        assert (
            {"host=host-a", "host=host-b", "host=host-c"},
            36,
            36,
            3 * EVENTS,
            ["host=host-a", "host=host-b", "host=host-c"],
        ) == (
            {p.parent.name for p in files},
            len(files),
            len({p.name for p in files}),
            len(lake_rows(lake_dir)),
            sorted(p.name for p in (lake_dir / "_manifest").iterdir()),
        )

    def test_a_trace_is_found_across_hosts(
        self, shared_lake: tuple[Path, list[logkit.Store]]
    ) -> None:
        """The same trace archived by three hosts comes back whole, from every host."""
        lake_dir, stores = shared_lake
        reading = logkit.Store(stores[0].path, lake=lake_dir)
        assert 3 * len(SERVICES) == reading.trace(trace_id(2, 5)).height


def invoke(store: logkit.Store, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(store.path), *args], catch_exceptions=False)
    assert 0 == result.exit_code, result.output
    return result.stdout


class TestCommand:
    def test_archive_prints_what_it_did(self, store: logkit.Store, tmp_path: Path) -> None:
        """The summary names the events, lake, host and files, then what was pruned."""
        lines = invoke(
            store, "archive", "--to", str(tmp_path / "lake"), "--older-than", "1d", "--prune",
            "--host", "web-1",
        ).splitlines()  # fmt: skip
        assert (
            f"archived {EVENTS} events older than",
            f"to {tmp_path / 'lake'} as host web-1: 12 files,",
            f"pruned {EVENTS} events and 0 rejects from the store",
        ) == (
            lines[0][: len(f"archived {EVENTS} events older than")],
            lines[0].split(" UTC ")[1].split(" MB")[0].rsplit(" ", 1)[0],
            lines[1],
        )

    def test_archive_json_summary(self, store: logkit.Store, tmp_path: Path) -> None:
        """--format json gives the result's fields, the prune's among them."""
        summary = orjson.loads(
            invoke(store, "archive", "--to", str(tmp_path / "lake"), "--format", "json")
        )
        assert (EVENTS, 12, ["2020-03-01", "2020-03-02", "2020-03-03"], None) == (
            summary["events"], summary["files"], summary["dates"], summary["pruned"]
        )  # fmt: skip

    def test_lake_option_answers_from_the_lake(self, store: logkit.Store, tmp_path: Path) -> None:
        """`logkit --lake DIR trace ID` finds a trace that only the lake holds."""
        invoke(store, "archive", "--to", str(tmp_path / "lake"), "--prune")
        out = invoke(
            store, "--lake", str(tmp_path / "lake"), "trace", trace_id(1, 2), "--format", "ndjson"
        )
        assert [trace_id(1, 2)] * 4 == [orjson.loads(line)["trace_id"] for line in out.splitlines()]

    def test_query_takes_lake_after_its_name(self, store: logkit.Store, tmp_path: Path) -> None:
        """`logkit query NAME --lake DIR` is the same as `logkit --lake DIR query NAME`."""
        archive(store, tmp_path / "lake", prune=True)
        after = invoke(
            store, "query", "status_code_mix", "--lake", str(tmp_path / "lake"), "--format", "csv"
        )
        before = invoke(
            store, "--lake", str(tmp_path / "lake"), "query", "status_code_mix", "--format", "csv"
        )
        assert (before, True) == (after, "500" in after)

    def test_spark_engine_needs_a_lake(self, store: logkit.Store) -> None:
        """--engine spark without --lake says what to add (before starting any Spark)."""
        result = CliRunner().invoke(
            cli, ["--db", str(store.path), "query", "status_code_mix", "--engine", "spark"]
        )
        assert (2, "Error: --engine spark reads a lake: give --lake DIR") == (
            result.exit_code,
            result.output.strip().splitlines()[-1],
        )
