"""The Parquet log lake: `logkit archive` writes it, `--lake DIR` reads it beside the store.

One DuckDB file serves one machine. A lake is a directory of Parquet files that many hosts
write into (a shared or synced directory; object storage through the same layout) and that any
engine reads: DuckDB here, Spark for what no single machine should run (logkit/lake/spark.py).

    DIR/date=2026-11-01/service=api/host=web-1/part-web-1-20261108T031500Z-1a2b3c4d-00000.parquet
    DIR/_manifest/host=web-1/20261108T031500Z-1a2b3c4d.json

**Layout.** Hive partitions: the event's UTC date, its service, and the host that archived it
(`--host`, else this machine's name). As Hive expects, partition columns are not repeated in
the files, so the event's own `host` field (the machine that logged it, which need not be the
one that archived it) is stored as `event_host`. A null service is Hive's
`__HIVE_DEFAULT_PARTITION__`, and ASCII other than letters, digits, `.`, `_` and `-` is
percent-escaped, which DuckDB, Spark and Trino all decode. Files are zstd-compressed.

**Sort order.** Within a file, rows are sorted by `trace_key` (crc32 of the trace id, see
logkit/schema.py), then `ts`, in row groups of `ROW_GROUP_ROWS` rows. A trace lookup has no time
to narrow it, so it is the lookup that needs the row groups: sorted this way their trace_key
min/max ranges are disjoint, and a lookup reads one row group per file instead of every one. A
time lookup is narrowed by the date partition first (a day is a few files), which sorting
cannot improve on much. bench/lake.py, on 2M events over 30 days (120 files of ~17k rows): a
trace lookup read 120 of 180 row groups sorted this way, 180 of 180 sorted by `ts`; a
ten-minute window read 6 and 5. At the issue's 50M events from 3 hosts a file holds ~140k rows,
and one group of 16k a file is ~89 % of the row groups skipped.

**Writing is idempotent and crash-safe.** A batch is one run's events: those with
`ts < cutoff` the lake does not have yet. The store records the batch as 'writing' before any
file exists; each file is written under a dot name (which Spark, Hive and the `*.parquet` glob
ignore), checked, fsynced and renamed into place; the batch's manifest, written the same way,
is the lake's commit; then the store marks the batch 'archived'. A run killed before the
manifest leaves files the next run deletes (it finds them by batch id, which is in every file
name); killed after it, the next run completes the mark. Which events a batch took is kept as a
watermark, the cutoff and the store's next rowid: rows are only ever appended, so an event that
arrives later with an old timestamp has a higher rowid and goes with the next batch. A cutoff
never goes back.

**Pruning** (`--prune`) is retention's own: `retention.prune_before` folds every event into the
exported counters, moves what the deleted ones contributed to the 'pruned' part and deletes, so
every total stays put. The batch is marked 'pruned' in the same transaction as that delete.

**Many hosts.** Each host writes only under its own `host=` partitions and its own
`_manifest/host=NAME/`, and every file name carries the host and a batch id with 32 random bits,
so nothing one host writes can clash with another's.

**Reading.** With a lake, a store's read-only connection gets a TEMP VIEW named `events`
(DuckDB resolves temporary objects first) over the store's own events (less those an
unpruned batch copied) and the lake's files, so every query in logkit/answers.py runs over
both unchanged. The files come from the manifests, not a glob, so a batch half written by a
killed run is never read. The lake side is one branch per ISO week of dates, each bounded by
constant times: for a query with `--since`/`--until` DuckDB drops the weeks outside the window
before opening a file (partition pruning on date), and within a week, the ts statistics skip
the other days' row groups. A branch per date would prune finer but cost ~8 ms a branch to
plan and run, which a trace lookup (no time to prune by) pays for every one: measured on 30
days, 354 ms per lookup with a branch per date against 124 ms with one per week, and a one-day
window took 42 ms against 59 ms. Within the files a lookup opens, the trace_key statistics skip
row groups.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import orjson

from .. import durable, migrations
from ..engine import connect, duckdb
from ..errors import LogkitError, StoreWriteError
from ..schema import EVENT_COLUMNS, STREAM_COLUMN
from ..sqlfiles import sql_literal, statement
from ..timeparse import EPOCH, from_us, to_us

if TYPE_CHECKING:
    from ..config import Config
    from ..export.metrics import MetricSet
    from ..export.retention import PruneResult
    from ..store import WriteSession

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
MANIFEST_DIR = "_manifest"
FORMAT_VERSION = 1
# Rows per row group. A trace lookup decodes one group per file, so smaller groups read less;
# larger ones cost less to plan. bench/lake.py (2M events, files of ~17k rows): 8k to 122k made
# lakes of the same size (81 MB), lookups took 453 ms at 8k and 298-325 ms from 16k up; at 16k a
# lookup decodes at most 16k rows of each file, where DuckDB's default would decode up to 122k.
ROW_GROUP_ROWS = 16_384
SORT_ORDER = "trace_key NULLS LAST, ts NULLS LAST"
DAY_US = 86_400_000_000
# The columns of a lake file, in order: every event column but `service` (the partition says
# it), with the event's own host as `event_host` (`host` in the path is the archiving host).
FILE_COLUMNS = ["event_host" if name == "host" else name for name, _ in EVENT_COLUMNS]
FILE_COLUMNS.remove("service")
_HIVE_TYPES = "{'date': DATE, 'service': VARCHAR, 'host': VARCHAR}"
_MAX_FILES_PER_BRANCH = 65_536  # for numbering the lake's rows (see events_sql)


# -- names ---------------------------------------------------------------------------------


def partition_value(value: str | None) -> str:
    """`value` as a Hive path segment: `api`, `a%2Fb`, or HIVE_NULL for null (and, as Hive and
    Spark have it, for the empty string). Non-ASCII stays as it is: Spark un-escapes `%XX`
    byte by byte, which would garble UTF-8."""
    if not value:
        return HIVE_NULL
    return "".join(
        ch if not ch.isascii() or ch.isalnum() or ch in "._-" else f"%{ord(ch):02X}" for ch in value
    )


def _token(host: str) -> str:
    """`host` as it appears in file names: letters, digits, `.` and `-`."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", host)[:64] or "_"


def default_host() -> str:
    """The host partition this machine writes under: its host name."""
    import socket  # here, not at the top: every command imports this module (engine.py)

    return socket.gethostname() or "localhost"


def new_batch_id(now: datetime | None = None) -> str:
    """Sortable by time, and unique: a second's timestamp and 32 random bits."""
    import secrets  # here, not at the top: every command imports this module (engine.py)

    return f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def _date(day: int) -> str:
    return (EPOCH + timedelta(days=day)).date().isoformat()


# -- the lake on disk ----------------------------------------------------------------------


@dataclass(frozen=True)
class LakeFile:
    """One Parquet file of a batch: where it is (relative to the lake) and what it holds."""

    path: str
    date: str
    service: str | None
    rows: int
    bytes: int


@dataclass
class Batch:
    """What one `logkit archive` run added to the lake: its manifest."""

    id: str
    host: str
    cutoff: datetime
    created: datetime
    events: int
    files: list[LakeFile] = field(default_factory=list)
    store: str | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "format": FORMAT_VERSION,
                "batch": self.id,
                "host": self.host,
                "cutoff": self.cutoff.isoformat(),
                "created": self.created.isoformat(),
                "events": self.events,
                "store": self.store,
                "files": [f.__dict__ for f in self.files],
            },
            option=orjson.OPT_INDENT_2,
        )

    @classmethod
    def from_json(cls, data: bytes, *, where: Path) -> Batch:
        try:
            raw = orjson.loads(data)
            if raw.get("format") != FORMAT_VERSION:
                raise LogkitError(
                    f"{where} is lake format {raw.get('format')!r}; this logkit reads format "
                    f"{FORMAT_VERSION} (upgrade logkit)"
                )
            return cls(
                id=raw["batch"],
                host=raw["host"],
                cutoff=datetime.fromisoformat(raw["cutoff"]),
                created=datetime.fromisoformat(raw["created"]),
                events=raw["events"],
                store=raw.get("store"),
                files=[LakeFile(**f) for f in raw["files"]],
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise LogkitError(f"cannot read the lake manifest {where}: {exc}") from None


class Lake:
    """A lake directory: its manifests, its files, and the batches in them."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        # Resolved, because the store keys its batches by this path and DuckDB's
        # allowed_directories compares the paths it opens against it.
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"<Lake {str(self.root)!r}>"

    @property
    def key(self) -> str:
        return str(self.root)

    def manifest_path(self, host: str, batch_id: str) -> Path:
        return self.root / MANIFEST_DIR / f"host={partition_value(host)}" / f"{batch_id}.json"

    def batches(self) -> list[Batch]:
        """Every committed batch, from every host, oldest first."""
        found = [
            Batch.from_json(path.read_bytes(), where=path)
            for path in (self.root / MANIFEST_DIR).glob("host=*/*.json")
        ]
        return sorted(found, key=lambda b: (b.created, b.host, b.id))

    def files_by_date(self, batches: Iterable[Batch] | None = None) -> dict[str, list[Path]]:
        """The committed files, by partition date."""
        dates: dict[str, list[Path]] = {}
        for batch in self.batches() if batches is None else batches:
            for f in batch.files:
                dates.setdefault(f.date, []).append(self.root / f.path)
        return dict(sorted(dates.items()))

    def commit(self, batch: Batch) -> Path:
        """Write the batch's manifest whole or not at all: this makes the batch part of the lake."""
        path = self.manifest_path(batch.host, batch.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(batch.to_json())
        durable.replace(tmp, path)
        return path

    def read_manifest(self, host: str, batch_id: str) -> Batch | None:
        path = self.manifest_path(host, batch_id)
        return Batch.from_json(path.read_bytes(), where=path) if path.exists() else None

    def remove_batch(self, host: str, batch_id: str) -> int:
        """Delete the files (finished or not) of a batch that was never committed."""
        pattern = f"date=*/service=*/host={partition_value(host)}/*-{batch_id}-*"
        removed = 0
        for path in self.root.glob(pattern):
            path.unlink(missing_ok=True)
            removed += 1
        return removed


# -- archiving -----------------------------------------------------------------------------


@dataclass
class ArchiveResult:
    """What one `logkit archive` run did."""

    lake: str
    host: str
    cutoff: datetime
    batch_id: str | None = None
    events: int = 0
    files: int = 0
    bytes: int = 0
    dates: list[str] = field(default_factory=list)
    seconds: float = 0.0
    recovered: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pruned: PruneResult | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "lake": self.lake,
            "host": self.host,
            "cutoff": self.cutoff.isoformat(),
            "batch": self.batch_id,
            "events": self.events,
            "files": self.files,
            "bytes": self.bytes,
            "dates": self.dates,
            "seconds": round(self.seconds, 3),
            "recovered": self.recovered,
            "warnings": self.warnings,
            "pruned": None if self.pruned is None else self.pruned.to_dict(),
        }


@dataclass(frozen=True)
class Mark:
    """The store's record of its latest finished batch into one lake (table lake_batches)."""

    batch_id: str
    state: str  # 'archived' (its events are still in the store too) or 'pruned'
    cutoff_us: int
    next_rowid: int
    covered_rows: int | None

    @property
    def copied(self) -> str:
        """SQL true for the store's events this lake already holds; bound-free, from numbers."""
        if self.state != "archived":
            return "false"
        # `ts IS NOT NULL` first, so that an event without a time is false here, not NULL.
        return (
            f"(ts IS NOT NULL AND epoch_us(ts) < {int(self.cutoff_us)}"
            f" AND rowid < {int(self.next_rowid)})"
        )


def last_mark(con: duckdb.DuckDBPyConnection, lake: Lake) -> Mark | None:
    row = con.execute(statement("lake/last_mark"), {"lake": lake.key}).fetchone()
    return Mark(*row) if row else None


# The queries below that are built here, not kept in queries/lake/, take `Mark.copied`: what
# the lake holds is a predicate made of the last mark's numbers, and it must be SQL text
# because the view reading store and lake together (events_sql) holds it, where DuckDB binds
# no parameters. COPY's target, a path, is not bound by DuckDB either.
def _count(con: duckdb.DuckDBPyConnection, where: str, params: dict[str, Any] | None = None) -> int:
    row = con.execute(f"SELECT count(*) FROM events WHERE {where}", params).fetchone()
    return int(row[0]) if row else 0


class _MarkingSession:
    """The write session as `retention.prune_before` sees it, with one addition: its first
    transaction, the one that deletes the events, also marks this lake's batches 'pruned', so
    the mark commits with the delete or not at all."""

    def __init__(self, session: WriteSession, lake: Lake) -> None:
        self._session = session
        self._lake = lake
        self._marked = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._session.transaction() as con:
            if not self._marked:
                con.execute(statement("lake/mark_pruned"), {"lake": self._lake.key})
                self._marked = True
            yield con


def _recover(session: WriteSession, lake: Lake) -> list[str]:
    """Finish what a killed run left: complete a committed batch's mark, delete the files of
    one that never got its manifest."""
    with session.transaction() as con:
        pending = con.execute(statement("lake/unfinished_batches"), {"lake": lake.key}).fetchall()
    for batch_id, host, next_rowid, cutoff_us in pending:
        batch = lake.read_manifest(host, batch_id)
        with session.transaction() as con:
            if batch is None:
                lake.remove_batch(host, batch_id)
                con.execute(statement("lake/forget_batch"), {"lake": lake.key, "batch": batch_id})
                continue
            _finish(con, lake, batch, Mark(batch_id, "archived", cutoff_us, next_rowid, None))
    return [row[0] for row in pending]


def _finish(con: duckdb.DuckDBPyConnection, lake: Lake, batch: Batch, mark: Mark) -> None:
    """Record a batch whose manifest is committed as archived (`mark` says what it copied)."""
    con.execute(
        statement("lake/finish_batch"),
        {
            "covered": _count(con, mark.copied),
            "events": batch.events,
            "files": len(batch.files),
            "bytes": sum(f.bytes for f in batch.files),
            "lake": lake.key,
            "batch": mark.batch_id,
        },
    )


def _write_files(
    session: WriteSession,
    lake: Lake,
    batch: Batch,
    parts: list[tuple[int, str | None, int]],
    where: str,
    params: dict[str, Any],
    row_group_rows: int,
) -> None:
    """One file per (date, service): sorted, written under a dot name, checked, renamed."""
    select = ", ".join("host AS event_host" if c == "event_host" else c for c in FILE_COLUMNS)
    host_dir = f"host={partition_value(batch.host)}"
    directories = set()
    for number, (day, service, expected) in enumerate(parts):
        date = _date(day)
        relative = f"date={date}/service={partition_value(service)}/{host_dir}"
        directory = lake.root / relative
        directory.mkdir(parents=True, exist_ok=True)
        directories.add(directory)
        name = f"part-{_token(batch.host)}-{batch.id}-{number:05d}.parquet"
        tmp = directory / f".{name}.tmp"
        low = EPOCH + timedelta(days=day)
        row = session.con.execute(
            f"COPY (SELECT {select} FROM events WHERE {where}"
            " AND ts >= $low AND ts < $high_ts AND service IS NOT DISTINCT FROM $service"
            f" ORDER BY {SORT_ORDER}) TO {sql_literal(tmp)}"
            f" (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {int(row_group_rows)})",
            {**params, "low": low, "high_ts": low + timedelta(days=1), "service": service},
        ).fetchone()
        written = row[0] if row else None
        if written != expected:
            raise StoreWriteError(
                f"archive of {date} {service!r}: wrote {written} events, expected {expected}"
            )
        durable.fsync(tmp)
        os.replace(tmp, directory / name)
        batch.files.append(
            LakeFile(
                f"{relative}/{name}", date, service, expected, (directory / name).stat().st_size
            )
        )
        # Readers waiting for the store get in between files (the writer lock stays held).
        session.step_aside_if_wanted()
    for directory in directories:
        durable.fsync(directory, directory=True)


def archive(
    session: WriteSession,
    lake: Lake,
    *,
    cutoff: datetime,
    host: str,
    metrics: MetricSet | None = None,
    row_group_rows: int = ROW_GROUP_ROWS,
) -> ArchiveResult:
    """Copy the store's events with `ts < cutoff` that the lake lacks into it as one batch;
    with `metrics`, then prune them from the store (see the module docstring)."""
    started = time.monotonic()
    if not host:
        raise LogkitError("--host must not be empty")
    result = ArchiveResult(lake=lake.key, host=host, cutoff=cutoff)
    lake.root.mkdir(parents=True, exist_ok=True)
    # Settle any deleted rows now: the connection may close between files (to let readers
    # in), and the checkpoint that closing makes must not renumber rowids mid-run.
    session.checkpoint()
    result.recovered = _recover(session, lake)
    batch: Batch | None = None
    with session.transaction() as con:
        mark = last_mark(con, lake)
        if mark is not None:
            # Never back: an event that arrived since with a timestamp before the last
            # cutoff is not in the lake yet, and goes now.
            cutoff = result.cutoff = max(cutoff, from_us(mark.cutoff_us))
            if mark.state == "archived" and mark.covered_rows != _count(con, mark.copied):
                result.warnings.append(
                    "the store lost or renumbered events the last archive had copied (a prune "
                    "or compaction since?), so events that arrived since with timestamps before "
                    f"{from_us(mark.cutoff_us):%Y-%m-%d %H:%M:%S} UTC may be missed; archiving "
                    "with --prune every time avoids this"
                )
        row = con.execute(statement("lake/next_rowid")).fetchone()
        params: dict[str, Any] = {"cutoff": cutoff, "next_rowid": row[0] if row else 0}
        where = f"ts < $cutoff AND rowid < $next_rowid AND NOT {mark.copied if mark else 'false'}"
        parts = con.execute(
            f"SELECT epoch_us(ts) // {DAY_US} AS day, service, count(*) FROM events"
            f" WHERE {where} GROUP BY ALL ORDER BY day, service NULLS FIRST",
            params,
        ).fetchall()
        if parts:
            batch = Batch(
                id=new_batch_id(),
                host=host,
                cutoff=cutoff,
                created=datetime.now(UTC),
                events=sum(p[2] for p in parts),
                store=str(session.store.path.resolve()),
            )
            con.execute(
                statement("lake/start_batch"),
                {"lake": lake.key, "batch": batch.id, "host": host, **params},
            )
    if batch is not None:
        _write_files(session, lake, batch, parts, where, params, row_group_rows)
        lake.commit(batch)
        with session.transaction() as con:
            copied = Mark(batch.id, "archived", to_us(cutoff), params["next_rowid"], None)
            _finish(con, lake, batch, copied)
        result.batch_id = batch.id
        result.events = batch.events
        result.files = len(batch.files)
        result.bytes = sum(f.bytes for f in batch.files)
        result.dates = sorted({f.date for f in batch.files})
    if metrics is not None and (batch is not None or (mark and mark.state == "archived")):
        from ..export.retention import prune_before

        prune_cutoff = cutoff if batch is not None else from_us(cast(Mark, mark).cutoff_us)
        marking = cast("WriteSession", _MarkingSession(session, lake))
        result.pruned = prune_before(marking, metrics, prune_cutoff)
    result.seconds = time.monotonic() - started
    return result


class Archiving:
    """Store verbs for the lake: `archive` (mixed into `Store`)."""

    if TYPE_CHECKING:
        path: Path
        config: Config

        def writer(self) -> contextlib.AbstractContextManager[WriteSession]: ...
        def metric_set(self, definitions: Any = None) -> MetricSet: ...
        def _require_store(self) -> None: ...

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
        from ..export.retention import parse_age

        cutoff = datetime.now(UTC)
        if older_than is not None:
            cutoff -= parse_age(older_than)
        metrics = self.metric_set(definitions) if prune else None
        self._require_store()
        with self.writer() as session:
            return archive(
                session, Lake(to), cutoff=cutoff, host=host or default_host(), metrics=metrics
            )


# -- reading -------------------------------------------------------------------------------


def _ts_literal(date: str) -> str:
    return f"TIMESTAMPTZ '{date} 00:00:00+00'"


def events_sql(lake: Lake, *, store: str, mark: Mark | None) -> str | None:
    """The definition of the `events` view over `store` (a table) and the lake; None when the
    lake holds nothing yet."""
    batches = lake.batches()
    by_date = lake.files_by_date(batches)
    if not by_date:
        return None
    columns = [name for name, _ in EVENT_COLUMNS]
    own = (
        f"WHERE NOT {mark.copied}"
        if mark is not None and any(b.id == mark.batch_id for b in batches)
        else ""
    )
    # A view has no rowid, and a query may use it to tell events apart (answers.py groups a
    # user's id-less events by it), so the view has a `rowid` column: the store's own rowid,
    # and below zero for the lake's events, numbered by branch, file and row within the file.
    # The lake's files do not hold the store's `stream` ids (see schema.py): NULL there.
    branches = [f"SELECT {', '.join(columns)}, {STREAM_COLUMN[0]}, rowid FROM {store} {own}"]
    from_files = ", ".join("event_host AS host" if c == "host" else c for c in columns)
    from_files += f", NULL::{STREAM_COLUMN[1]} AS {STREAM_COLUMN[0]}"
    weeks: dict[tuple[int, int], list[str]] = {}
    for date in by_date:
        weeks.setdefault(datetime.fromisoformat(date).isocalendar()[:2], []).append(date)
    for number, dates in enumerate(weeks.values()):
        paths = [path for date in dates for path in by_date[date]]
        end = (datetime.fromisoformat(dates[-1]) + timedelta(days=1)).date().isoformat()
        files = "[" + ", ".join(sql_literal(p) for p in paths) + "]"
        rowid = (
            f"-1 - (({number} * {_MAX_FILES_PER_BRANCH} + list_position({files}, filename) - 1)"
            " * 2147483648 + file_row_number)"
        )
        branches.append(
            f"SELECT {from_files}, {rowid} AS rowid FROM read_parquet({files},"
            f" hive_partitioning = true, hive_types = {_HIVE_TYPES})"
            # Constant bounds: DuckDB drops a branch they contradict without opening a file.
            f" WHERE ts >= {_ts_literal(dates[0])} AND ts < {_ts_literal(end)}"
        )
    return "\nUNION ALL\n".join(branches)


def attach(con: duckdb.DuckDBPyConnection, lake_dir: str | os.PathLike[str]) -> None:
    """Make `events` in `con` (a store connection) the store's events and the lake's together."""
    lake = Lake(lake_dir)
    if not lake.root.is_dir():
        raise LogkitError(
            f"no lake at {lake.root} (write one with 'logkit archive --to {lake_dir}')"
        )
    row = con.execute("SELECT current_database()").fetchone()
    catalog = str(row[0] if row else "").replace('"', '""')
    sql = events_sql(lake, store=f'"{catalog}".main.events', mark=last_mark(con, lake))
    if sql is None:
        return
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS {sql}")
    # Reading the lake must survive the lock-down of `logkit sql` and named queries, which
    # switches off access to files (answers.py): this directory, and only it, stays readable.
    con.execute(f"SET allowed_directories = [{sql_literal(str(lake.root) + os.sep)}]")


@contextlib.contextmanager
def lake_only_reader(lake_dir: str | os.PathLike[str]) -> Iterator[duckdb.DuckDBPyConnection]:
    """A reader for a machine with a lake and no store: an empty in-memory store beside it."""
    con = connect(":memory:")
    try:
        migrations.migrate(con, ":memory:")
        attach(con, lake_dir)
        yield con
    finally:
        con.close()


@dataclass(frozen=True)
class ScanProfile:
    """What a query read from the lake, from DuckDB's profile of it (bench/lake.py, tests)."""

    files: int
    row_groups_read: int
    row_groups: int
    rows_read: int


def profile_scans(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
) -> ScanProfile:
    """Run `sql` under EXPLAIN ANALYZE and add up its Parquet scans."""
    row = con.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params).fetchone()
    totals = [0, 0, 0, 0]
    stack = list(orjson.loads(row[1])["operator"]) if row else []
    while stack:
        node = stack.pop()
        stack.extend(node.get("children", ()))
        if node.get("extra_info", {}).get("Function") == "READ_PARQUET":
            totals[0] += int(node["extra_info"].get("Total Files Read", 0))
            totals[1] += node.get("row_groups_scanned", 0)
            totals[2] += node.get("total_row_groups_to_scan", 0)
            totals[3] += node.get("rows_scanned", 0)
    return ScanProfile(*totals)
