"""Retention: delete old events and rejects without the exported counters noticing.

`logkit prune --older-than 30d`, or `retention = "30d"` in logkit.toml for every export (which
prunes once there is an hour's worth to delete, not every minute), deletes events whose `ts` is
older than the cutoff (events without a timestamp are kept: their age is unknown) and rejects
quarantined before it. In the same transaction as the DELETE, what the
deleted events contributed to each counter and histogram moves from its 'folded' part to its
'pruned' part (`MetricSet.move_pruned`), so every exported total stays exactly where it was.

Space: a CHECKPOINT right after the delete frees the deleted rows' blocks inside the file, and
later ingests reuse them, so a store under retention stops growing (measured: deleting 3M of
10M events freed 92 MB of 321 MB, and the next 100k events went into freed blocks without the
file growing). DuckDB never shrinks the file in place; `compact=True` (`--compact`) rewrites it
into a new file and renames that over the store, which returns the space to the file system
but copies every remaining event (23 s for 7M events on 2 cores), so it is for an occasional
manual prune, not for every export.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .. import durable, tracespans
from ..errors import ConfigError, LogkitError, StoreWriteError
from ..sqlfiles import sql_literal, statement
from ..timeparse import count_back, parse_relative
from .totals import store_size

RETENTION_SLACK = timedelta(hours=1)

if TYPE_CHECKING:
    from ..engine import duckdb
    from ..handles import Session
    from .totals import MetricSet


@dataclass
class PruneResult:
    """What a prune deleted, and the store's size on disk before and after."""

    cutoff: datetime
    events: int = 0
    rejects: int = 0
    size_before: int = 0
    size_after: int = 0
    compacted: bool = False
    forgotten: list[str] = field(default_factory=list)
    #: Bytes free inside the file after the prune: DuckDB's own, reused by later ingests.
    free_after: int = 0
    #: Only counted (`--dry-run`): nothing was deleted or written.
    dry_run: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "events": self.events,
            "rejects": self.rejects,
            "size_before": self.size_before,
            "size_after": self.size_after,
            "free_after": self.free_after,
            "compacted": self.compacted,
            "dry_run": self.dry_run,
            "forgotten_metrics": self.forgotten,
        }


def parse_age(value: str, *, what: str = "--older-than") -> timedelta:
    """`30d` → 30 days; an age, not a date, so that a cron line means the same every day."""
    delta = parse_relative(value, what) if isinstance(value, str) else None
    if delta is None or delta <= timedelta(0):
        raise LogkitError(
            f"cannot read {what} value {value!r}: use an age such as 30d, 12h, 2w or 1d12h"
        )
    # Refused now, with the option's name, rather than when a cutoff is counted back from it.
    count_back(datetime.now(UTC), delta, value, what)
    return delta


def free_bytes(con: duckdb.DuckDBPyConnection) -> int:
    """Bytes of free blocks inside the store file (deleted rows' space, after a checkpoint),
    which DuckDB fills before it grows the file."""
    row = con.execute(statement("retention/free_bytes")).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def count_older(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> tuple[int, int]:
    """(events, rejects) older than `cutoff`: what a prune to it deletes."""
    row = con.execute(statement("retention/count_older"), {"cutoff": cutoff}).fetchone()
    return (row[0], row[1]) if row else (0, 0)


def preview(con: duckdb.DuckDBPyConnection, path: Path, age: timedelta) -> PruneResult:
    """`logkit prune --dry-run`: what a prune would delete, on a read-only connection."""
    size = store_size(path)
    result = PruneResult(cutoff=datetime.now(UTC) - age, size_before=size, size_after=size,
                         dry_run=True)  # fmt: skip
    result.events, result.rejects = count_older(con, result.cutoff)
    result.free_after = free_bytes(con)
    return result


def prune_before(session: Session, metrics: MetricSet, cutoff: datetime) -> PruneResult:
    """Delete what is older than `cutoff`, keeping every exported total unchanged."""
    path = session.store.path
    result = PruneResult(cutoff=cutoff, size_before=store_size(path))
    params = {"cutoff": cutoff}
    with session.transaction() as con:
        metrics.fold(con)  # every event must be in the totals before any is deleted
        result.events, result.rejects = count_older(con, cutoff)
        if result.events:
            result.forgotten = metrics.move_pruned(con, "ts < $cutoff", params, result.events)
            con.execute(statement("retention/delete_older_events"), params)
            tracespans.forget_before(con, cutoff)
        if result.rejects:
            con.execute(statement("retention/delete_older_rejects"), params)
    if result.events or result.rejects:
        # Frees the deleted rows' blocks for reuse. It may also renumber rowids (vacuum), so
        # the fold after it re-bases the watermark while no new event can have arrived.
        session.checkpoint()
        with session.transaction() as con:
            metrics.fold(con)
    result.size_after = store_size(path)
    with session.transaction() as con:
        result.free_after = free_bytes(con)
    return result


def parse_retention(retention: str | None, *, where: object = "logkit.toml") -> timedelta | None:
    """The `retention` setting of logkit.toml, or None when there is none."""
    if retention is None:
        return None
    try:
        return parse_age(retention, what="retention")
    except LogkitError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def apply_retention(
    session: Session, metrics: MetricSet, retention: timedelta
) -> PruneResult | None:
    """The `retention` setting, applied by each export; None when there was nothing to delete.

    A prune costs a delete and a checkpoint (about a second on a 10M-event store), too much to
    pay every minute for a minute's worth of old events, so an export prunes only once the
    oldest event or reject is `RETENTION_SLACK` (at most an hour) past the cutoff.
    """
    cutoff = datetime.now(UTC) - retention
    slack = min(RETENTION_SLACK, retention / 100)
    with session.transaction() as con:
        row = con.execute(statement("retention/oldest")).fetchone()
    oldest = row[0] if row else None
    if oldest is None or oldest >= (cutoff - slack).timestamp() * 1e6:
        return None
    result = prune_before(session, metrics, cutoff)
    return result if result.events or result.rejects else None


def prune(
    session: Session, metrics: MetricSet, age: timedelta, *, compact: bool = False
) -> PruneResult:
    """`logkit prune`: delete events and rejects older than `age`, optionally compact."""
    result = prune_before(session, metrics, datetime.now(UTC) - age)
    if compact:
        compact_store(session, metrics)
        result.compacted = True
        result.size_after = store_size(session.store.path)
        with session.transaction() as con:
            result.free_after = free_bytes(con)
    return result


def compact_store(session: Session, metrics: MetricSet) -> None:
    """Rewrite the store into a fresh file and rename it into place (the writer lock is held)."""
    path = session.store.path
    tmp = path.with_name(f".{path.name}.compact")
    leftovers = (tmp, tmp.with_name(tmp.name + ".wal"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    con = session.con
    row = con.execute("SELECT current_database()").fetchone()
    name = str(row[0] if row else "").replace('"', '""')
    try:
        con.execute(f"ATTACH {sql_literal(tmp)} AS logkit_compact")
        try:
            con.execute(f'COPY FROM DATABASE "{name}" TO logkit_compact')
        finally:
            con.execute("DETACH logkit_compact")
    except Exception as exc:
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        raise StoreWriteError(f"cannot compact {path}: {str(exc).splitlines()[0]}") from exc
    session.close()  # closing checkpoints: nothing of the old file is left only in its WAL
    if path.with_name(path.name + ".wal").exists():
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        raise StoreWriteError(f"cannot compact {path}: its write-ahead log was not checkpointed")
    os.chmod(tmp, 0o600)
    durable.replace(tmp, path)
    # The copy numbered the rows afresh; every one of them is folded, so re-base the watermark.
    with session.transaction() as con:
        metrics.fold(con)
