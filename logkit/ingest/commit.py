"""The write path: blocks are stored as they come in one open transaction, which commits with
its sources' checkpoints and the counters, so that a run killed at any moment and rerun stores
exactly what an uninterrupted run would (`Committer`). If DuckDB runs out of memory, which
rolls the transaction back, it is stored again with more: a plain file's blocks made again from
the file, other streams' rows (compressed, piped) from a spool file they wait in (`_Spool`)."""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from .. import locks, tracespans
from .._core import Batches, Stream
from ..core import ChunkResult
from ..engine import write_error
from ..errors import InputError, StoreOutOfMemory, StoreWriteError
from ..formats import COVERAGE
from ..handles import Session as WriteSession  # store.py's, as seen from below Store
from .blocks import Block
from .checkpoints import Checkpoint, fingerprint, save_checkpoints
from .cursor import Cursor, Record

if TYPE_CHECKING:
    import pyarrow as pa

    from .sources import Source

_NONE: Iterator[Record] = iter(())


def add_counters(con: Any, counts: Mapping[tuple[str, str], float]) -> None:
    """Add to the store's monotonic totals (exported as Prometheus counters), keyed by
    (counter, label), in one statement: a statement per counter cost ~10 ms a block."""
    # A format's column that no event got is recorded as 0: a source that comes out untimed
    # must show as a series at 0, not as no series.
    rows = [
        (name, label, float(value))
        for (name, label), value in counts.items()
        if value or name == "format_columns"
    ]
    if rows:
        names, labels, values = (list(column) for column in zip(*rows, strict=True))
        con.execute(
            "INSERT INTO counters SELECT unnest($names), unnest($labels), unnest($values)"
            " ON CONFLICT (name, label) DO UPDATE SET value = value + excluded.value",
            {"names": names, "labels": labels, "values": values},
        )


# DuckDB writes the rows a transaction appends straight into the store file, compressed, each
# time they fill a row group ("optimistic writes"): the COMMIT then logs where they are rather
# than the rows, and a checkpoint has nothing of them left to write. So each block's rows are
# inserted as the block comes, one INSERT a transaction reading them as a stream (memory stays
# a block of Arrow, DuckDB's part-filled row group aside), and a transaction commits once its
# events have filled a row group and the next is half full. Committed sooner, the rows went
# through the WAL and were written again by the checkpoint: 20 transactions of 16 MB cost
# 4.9-5.1 CPU s of DuckDB's at 1M lines, these 6 cost 3.8-4.2 (see bench/RESULTS.md).
ROW_GROUP_ROWS = 122_880  # DuckDB's row group
# The part-filled row group a commit leaves is at least half full, so two in a row hold more
# than a row group: a checkpoint's vacuum, which merges a run of row groups that fits in fewer,
# then never rewrites them (commits at 1 or 2 row groups left it 0.4-1.4 s of merging per
# 400k rows).
COMMIT_ROWS = ROW_GROUP_ROWS * 3 // 2
# Except where less than a row group of the file is left: those rows then wait for the end,
# with this transaction. Committed alone, a transaction of fewer rows than a row group is
# appended to the table through the WAL, and the run's last checkpoint writes it out again
# (1M lines: the last 78k rows' commit 0.11 s, the WAL checkpoint at the close ~0.1 s more,
# on the one thread left working after the core has finished).
# At the latest, a transaction commits this long after it began: a kill loses at most that much
# work (the rerun redoes it). A reader waiting for the store (locks.readers_waiting) has the
# transaction under way committed after the block being stored, and the writer steps aside.
COMMIT_SECONDS = 10.0
# DuckDB keeps the rows of the row group being filled in memory until it is full: rows so long
# that this much of them fills no row group commit by bytes (a row group of sample lines is
# ~44 MB of Arrow), which bounds DuckDB's memory as the old 16 MB transactions did. The
# transaction's rows wait in a file meanwhile (_Spool), not in memory.
COMMIT_BYTES = 64 * 1024 * 1024
# The rejects of the blocks an INSERT reads wait in memory until it ends (it holds the
# connection): a run of rejected lines commits at this many bytes of them.
REJECTS_BYTES = 16 * 1024 * 1024


# Tables given to the spool's thread and not yet written, at most: if the disk (or the spool's
# thread, on a busy machine) is slow, the run waits for it rather than holding more blocks.
SPOOL_WAITING = 2
# How often the spool's thread, while no table comes, looks whether the spool was closed. The
# wake-up that `close` sends through the queue can be lost: a signal raises its exception in
# the main thread wherever it is, inside the queue's own code too, and a run stopped by Ctrl-C
# then waited for this thread forever (once in CI, in ~1 of 6 runs of its test here).
SPOOL_POLL_SECONDS = 0.05


class _Spool:
    """A transaction's rows in a temporary file beside the store, as Arrow IPC streams, so that
    they can be stored again if DuckDB runs out of memory (which rolls the transaction back):
    a transaction is now a row group or more, too much to keep in memory for a rare retry.
    Only for streams that cannot be read again by offset (`Block.remake`).

    Written on a thread of its own, in the order given: the thread that stores blocks, one of
    the two a run keeps busy, spent 0.3-0.4 s of every million lines serialising and writing
    them. A write's error (the disk is full) is raised by the next call."""

    def __init__(self, store: Path) -> None:
        self.store = store
        # Unnamed (O_TMPFILE) and unbuffered: nothing is left behind by a kill, and what was
        # written can be read back by offset.
        try:
            self.file = tempfile.TemporaryFile(dir=store.parent, buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise write_error(store, exc) from exc
        # pyarrow loads only here: a spool is for piped and compressed input alone.
        import pyarrow as pa

        self.pa = pa
        self.sink = pa.PythonFile(self.file, mode="w")
        self.parts: list[tuple[int, int]] = []
        self.error: Exception | None = None
        self.pending: queue.Queue[Batches | None] = queue.Queue(maxsize=SPOOL_WAITING)
        self.closed = threading.Event()
        self.writer = threading.Thread(target=self._write_all, name="logkit-spool", daemon=True)
        self.writer.start()

    def write(self, table: Batches) -> None:
        self._raise()
        self.pending.put(table)

    def _write_all(self) -> None:
        while True:
            try:
                table = self.pending.get(timeout=SPOOL_POLL_SECONDS)
            except queue.Empty:
                if self.closed.is_set():
                    return
                continue
            if table is None:
                self.pending.task_done()
                return
            if self.error is None and not self.closed.is_set():
                start = self.file.tell()
                try:
                    arrow = self.pa.table(table)
                    with self.pa.ipc.new_stream(self.sink, arrow.schema) as writer:
                        writer.write_table(arrow)
                except Exception as exc:  # raised by the caller's next call
                    self.error = exc
                else:
                    self.parts.append((start, self.file.tell() - start))
            self.pending.task_done()

    def _raise(self) -> None:
        if isinstance(self.error, OSError):  # beside the store: its disk is full too
            raise write_error(self.store, self.error) from self.error
        if self.error is not None:
            raise self.error

    def settle(self) -> None:
        """Wait until every table given is written (raising its error, if any)."""
        self.pending.join()
        self._raise()

    def tables(self) -> Iterator[pa.Table]:
        self.settle()
        for start, length in self.parts:
            data = os.pread(self.file.fileno(), length, start)
            yield self.pa.ipc.open_stream(self.pa.py_buffer(data)).read_all()

    def clear(self) -> None:
        self.settle()
        # Written over, not truncated: the next transaction reuses the pages the kernel already
        # holds for the file, where a truncated file had each page freed, allocated and zeroed
        # again (a third of the spool's time; `parts` says which bytes are this transaction's).
        self.file.seek(0)
        self.parts = []

    def close(self) -> None:
        """Stop the thread (tables still waiting are not written: nothing reads them now)."""
        self.closed.set()
        with contextlib.suppress(queue.Full):
            self.pending.put_nowait(None)  # wakes the thread at once, as a rule
        self.writer.join()
        self.file.close()


class Committer:
    """Stores blocks as they come in one open transaction, which commits with the checkpoints
    of the blocks it holds and the counters (see COMMIT_ROWS)."""

    def __init__(
        self, session: WriteSession, counted: Counter[tuple[str, str]] | None = None
    ) -> None:
        """`counted`: counters the run adds to as it reads (masks in file names), booked
        with the next block stored."""
        self.session = session
        self.counted: Counter[tuple[str, str]] = Counter() if counted is None else counted
        self.counts: Counter[tuple[str, str]] = Counter()
        self.txn: contextlib.ExitStack | None = None  # the open transaction
        self.con: Any = None
        self.spool: _Spool | None = None
        # Per source, its last block in the transaction (its checkpoint is saved as it leaves it).
        self.last: dict[int, tuple[Cursor, Block]] = {}
        self.spans: list[Batches] = []  # each block's trace spans (ChunkResult.spans)
        # How to make again the rows of the transaction's blocks that are not in the spool.
        self.remakes: list[Callable[[], ChunkResult]] = []
        self.added = self.events = 0
        self.read = 0  # bytes of their sources the transaction's blocks hold
        self.rest: int | None = None  # rows left in the last block's file (`_rows_left`)
        self.unwritten = 0  # bytes of the row group being filled
        self.since = 0.0
        self.failed = False  # DuckDB ran out of memory: the transaction is to be stored again
        self.rejects: list[Batches] = []  # of the blocks in the INSERT under way
        self.rejects_held = 0  # their bytes
        self.stopped: BaseException | None = None  # what stopped the blocks an INSERT read

    def store(self, records: Iterator[Record]) -> None:
        """Store a run's blocks as the core parses them, and commit the last transaction."""
        for cur, result, block in records:
            self.add(cur, result, block, records)
        self.flush()

    def add(
        self, cur: Cursor | None, result: ChunkResult, block: Block, more: Iterator[Record] = _NONE
    ) -> None:
        """Store a block the core parsed with the store's `stream` column (`Core(stream=)`),
        and in the same INSERT the blocks `more` gives after it while the transaction has
        room: a statement a block cost ~0.3 CPU s per 1M lines (binding, planning, starting a
        scan and the insert again every 2 MB), on the thread that stores, the run's longest
        chain. `more` is read as DuckDB takes the rows, on this thread."""
        self._book(cur, result, block)
        if not self.failed:
            try:
                self._in_transaction(lambda con: self._insert_from(con, result, more))
            except StoreOutOfMemory as error:
                if error.invalidated:
                    raise
                self.failed = True  # rolled back: flush() stores the whole transaction again
        if self.failed or self._due():
            self.flush()

    def _insert_from(self, con: Any, first: ChunkResult, more: Iterator[Record]) -> None:
        # Read as DuckDB asks for the rows, on this thread (a pyarrow reader over them was
        # scanned through a dataset scanner, which read 16 blocks ahead on threads of its own:
        # 16 more blocks held, and the Python that makes them off this thread).
        stream = Stream(first.events, self._tables(first, more))
        try:
            _insert(con, stream, None)
        except duckdb.Error:
            # The error of the Python that `more` runs (a file that cannot be read, Ctrl-C) is
            # DuckDB's to it, its type and traceback lost: raise the original.
            stopped, self.stopped = self.stopped, None
            if stopped is not None:
                raise stopped from None
            raise
        rejects, self.rejects, self.rejects_held = self.rejects, [], 0
        for table in rejects:
            _insert(con, None, table)

    def _tables(self, first: ChunkResult, more: Iterator[Record]) -> Iterator[Batches]:
        try:
            yield first.events
            while not self._due():
                record = next(more, None)
                if record is None:
                    return
                self._book(*record)
                yield record[1].events
        except BaseException as exc:
            self.stopped = exc
            raise

    def _book(self, cur: Cursor | None, result: ChunkResult, block: Block) -> None:
        """What the transaction keeps of a block: how to store it again, its spans, rejects
        (inserted after its events: the INSERT holds the connection), checkpoint, counts."""
        events, rejects = result.events, result.rejects
        if not self.added:
            self.since = time.monotonic()
        if block.remake is not None:
            # Made again from its file if DuckDB refuses the transaction: writing every row
            # to the spool cost ~0.4 CPU s a million lines (its thread, the page cache, the
            # kernel's writeback), on a run that has two cores for everything.
            self.remakes.append(functools.partial(block.remake, result.in_key))
        else:
            if self.spool is None:
                self.spool = _Spool(self.session.store.path)
            for table in (events, rejects):
                if table.num_rows:
                    self.spool.write(table)
        if result.spans is not None:
            self.spans.append(result.spans)
        if rejects.num_rows:
            self.rejects.append(rejects)
            self.rejects_held += rejects.nbytes
        self.added += 1
        size = events.nbytes + rejects.nbytes
        if (self.events + events.num_rows) // ROW_GROUP_ROWS > self.events // ROW_GROUP_ROWS:
            # A row group filled: DuckDB has written it out; what is left is this block's part
            # in the next.
            left = (self.events + events.num_rows) % ROW_GROUP_ROWS
            self.unwritten = size * left // max(events.num_rows, 1)
        else:
            self.unwritten += size
        self.events += events.num_rows
        self.read += block.end_offset - block.first_offset
        self.rest = None if cur is None else _rows_left(cur.source, block, self.events, self.read)
        if cur is not None:
            _advance(cur, result, block)
            self.last[id(cur)] = (cur, block)
        if self.counted:
            self.counts.update(self.counted)
            self.counted.clear()
        self.counts["lines", ""] += result.lines
        for name, counts in (("rejects", result.reasons), ("masked", result.masked)):
            for label, value in counts.items():
                self.counts[name, label] += value
        for fmt, per_column in result.formats.items():
            # logkit_ingest_format_events_total and _format_columns_total (queries/metrics).
            self.counts["format_events", fmt] += per_column[0]
            for column, value in zip(COVERAGE, per_column[1:], strict=True):
                self.counts["format_columns", f"{fmt}|{column}"] += value

    def _due(self) -> bool:
        return (
            (
                self.events >= COMMIT_ROWS
                and self.events % ROW_GROUP_ROWS >= ROW_GROUP_ROWS // 2
                and (self.rest is None or self.rest >= ROW_GROUP_ROWS)
            )
            or self.unwritten >= COMMIT_BYTES
            or self.rejects_held >= REJECTS_BYTES
            or time.monotonic() - self.since >= COMMIT_SECONDS
            or locks.readers_waiting(self.session.store.path)
        )

    def _in_transaction(self, work: Callable[[Any], None]) -> None:
        """`work(con)` in the open transaction (begun if none is); an error rolls it back."""
        if self.txn is None:
            txn = contextlib.ExitStack()
            self.con = txn.enter_context(self.session.transaction())
            self.txn = txn
        try:
            work(self.con)
        except BaseException:
            txn, self.txn = self.txn, None
            # The transaction's own handling: ROLLBACK, and DuckDB's error as the store's.
            if not txn.__exit__(*sys.exc_info()):
                raise

    def flush(self) -> None:
        """Commit the transaction: its rows are in, its checkpoints and counters go with them.
        After an out-of-memory rollback, the whole transaction again from the spool, with
        more memory as it needs (`WriteSession.run`)."""
        if not self.added:
            return
        if not self.failed:
            try:
                self._in_transaction(self._finish)
                txn, self.txn = self.txn, None
                assert txn is not None
                txn.close()  # COMMIT
            except StoreOutOfMemory as error:
                if error.invalidated:
                    raise  # DuckDB cannot say whether the COMMIT landed: no retry
                self.failed = True
        if self.failed:
            self.session.run(self._again)
        if self.spool is not None:
            self.spool.clear()
        self.last, self.spans, self.counts, self.remakes = {}, [], Counter(), []
        self.rejects, self.stopped = [], None
        self.added = self.events = self.unwritten = self.rejects_held = self.read = 0
        self.failed = False

    def _again(self, con: Any) -> None:
        if self.spool is not None:
            for table in self.spool.tables():
                if "reason" in table.column_names:
                    _insert(con, None, table)
                else:
                    _insert(con, table, None)
        for remake in self.remakes:
            try:
                result = remake()
            except InputError as exc:
                # Nothing of the transaction is stored, nor its checkpoints: the next run
                # reads it again from where the store stops (in the rotated copy, if any).
                raise StoreWriteError(
                    f"cannot write {self.session.store.path}: DuckDB ran out of memory, and"
                    f" storing the refused rows again failed: {exc}; rerun to store the rest"
                ) from exc
            _insert(con, result.events, result.rejects)
        self._finish(con)

    def _finish(self, con: Any) -> None:
        if any(spans.num_rows for spans in self.spans):
            con.register("_spans", Batches.concat(self.spans))
            tracespans.record_spans(con, "_spans")
            con.unregister("_spans")
        save_checkpoints(con, [_stop_at(cur, block) for cur, block in self.last.values()])
        add_counters(con, self.counts)

    def abort(self, exc: BaseException) -> None:
        """Roll back the open transaction, if any: `exc` stopped the run."""
        if self.txn is not None:
            txn, self.txn = self.txn, None
            with contextlib.suppress(Exception):
                txn.__exit__(type(exc), exc, exc.__traceback__)

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


def _insert(
    con: Any,
    events: Batches | Stream | pa.Table | None,
    rejects: Batches | pa.Table | None,
) -> None:
    # Each table is read by its local name, which DuckDB looks up in this frame (a
    # replacement scan): 5-10% less CPU a block than a relation's insert_into, which binds the
    # statement once more first. Not registered views: a view dropped inside the transaction
    # kept its Arrow table (the core's buffers) until DuckDB cleaned up its catalog after the
    # commit, a transaction's worth of blocks (~70 MB at 184k rows).
    if isinstance(events, Stream) or (events is not None and events.num_rows):
        block_events = events  # noqa: F841  (read by name)
        con.execute("INSERT INTO events SELECT * FROM block_events")
    if rejects is not None and rejects.num_rows:
        # In the table's column order, `ingested_at` as its default (the transaction's start).
        block_rejects = rejects  # noqa: F841  (read by name)
        con.execute(
            "INSERT INTO rejects SELECT source, line, byte_offset, reason, raw, now(), stream"
            " FROM block_rejects"
        )


def _rows_left(source: Source, block: Block, events: int, read: int) -> int | None:
    """The rows still to come in `block`'s file after it, at the transaction's bytes a row so
    far (`events` rows from `read` bytes); None where that is not known: a stream (piped,
    decompressed), or a file read past the size it had when opened (it is growing)."""
    if source.compressed or source.is_stdin:
        return None
    left = source.file_size - block.end_offset
    return None if left < 0 else left * events // max(read, 1)


def _advance(cur: Cursor, result: ChunkResult, block: Block) -> None:
    """Move the source's checkpoint past a block (saved by the transaction that stores it)."""
    cp = cur.checkpoint
    cp.byte_offset, cp.lines = block.end_offset, block.end_line
    cp.events += result.events.num_rows
    cp.rejects += result.rejects.num_rows
    if result.newest_ts is not None and (cp.newest_ts is None or result.newest_ts > cp.newest_ts):
        cp.newest_ts = result.newest_ts


def _stop_at(cur: Cursor, block: Block) -> Checkpoint:
    """The checkpoint with the fingerprints of where it stops: after `block`, the last of its
    source's blocks in the transaction."""
    cp = cur.checkpoint
    cp.head_len = min(cp.byte_offset, len(cur.head))
    cp.head_hash = fingerprint(cur.head[: cp.head_len])[1]
    cp.tail_len, cp.tail_hash = fingerprint(block.tail)
    source = cur.source
    if source.compressed and block.eof and not source.is_stdin:
        cp.eof_size, cp.eof_mtime_ns = source.file_size, source.mtime_ns
    else:
        cp.eof_size = cp.eof_mtime_ns = None
    return cp
