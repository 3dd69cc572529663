"""Archiving: copy the store's older events into the lake as one batch, crash-safely, and
prune them from the store (see the package docstring, logkit/lake/__init__.py)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from .. import durable
from ..engine import duckdb
from ..errors import LogkitError, StoreWriteError
from ..export.exporting import metric_set, require_store
from ..export.retention import parse_age, prune_before
from ..sqlfiles import sql_literal, statement
from ..timeparse import EPOCH, from_us, to_us
from .layout import (
    DAY_US,
    FILE_COLUMNS,
    ROW_GROUP_ROWS,
    SORT_ORDER,
    Batch,
    Lake,
    LakeFile,
    default_host,
    new_batch_id,
    partition_date,
    partition_value,
    token,
)
from .marks import Mark, last_mark

if TYPE_CHECKING:
    from ..export.retention import PruneResult
    from ..export.totals import MetricSet
    from ..handles import Session, Writable

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

    def __init__(self, session: Session, lake: Lake) -> None:
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


def _recover(session: Session, lake: Lake) -> list[str]:
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
    session: Session,
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
        date = partition_date(day)
        relative = f"date={date}/service={partition_value(service)}/{host_dir}"
        directory = lake.root / relative
        directory.mkdir(parents=True, exist_ok=True)
        directories.add(directory)
        name = f"part-{token(batch.host)}-{batch.id}-{number:05d}.parquet"
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
    session: Session,
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
    try:
        lake.root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LogkitError(f"cannot write {lake.root}: {exc.strerror or exc}") from exc
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
        prune_cutoff = cutoff if batch is not None else from_us(cast(Mark, mark).cutoff_us)
        marking = cast("Session", _MarkingSession(session, lake))
        result.pruned = prune_before(marking, metrics, prune_cutoff)
    result.seconds = time.monotonic() - started
    return result


def archive_store(
    store: Writable,
    to: str | os.PathLike[str],
    *,
    older_than: str | None = None,
    prune: bool = False,
    host: str | None = None,
    definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
) -> ArchiveResult:
    """`Store.archive`: one archive run into the lake at `to`."""
    cutoff = datetime.now(UTC)
    if older_than is not None:
        cutoff -= parse_age(older_than)
    metrics = metric_set(store, definitions) if prune else None
    require_store(store)
    with store.writer() as session:
        return archive(
            session, Lake(to), cutoff=cutoff, host=host or default_host(), metrics=metrics
        )
