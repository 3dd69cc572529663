"""One ingest run: sources → blocks of lines → the native core (on every core) → store.

logkit reads each source in blocks of complete lines and hands each to the native core
(logkit/core.py), which parses, normalises and masks its lines on every core, in this process,
and returns Arrow tables. Each block is stored as it comes, in a transaction that commits with
its source's checkpoint and the counters (see _Committer), so a run killed at any moment and
rerun stores exactly what an uninterrupted run would. One block is in flight at a time, which
bounds memory whatever the input size.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from . import interrupt, locks, tracespans
from . import sources as src
from .core import Core
from .engine import write_error
from .errors import InputError, Interrupted, LogkitError, StoreOutOfMemory
from .formats import COVERAGE
from .handles import Session as WriteSession  # store.py's, as seen from below Store
from .keyfile import key_path
from .mask import KEY_BLOCK_BYTES, key_block_after
from .pipeline import TOO_LONG_KEEP, ChunkResult, FormatSettings, make_masker
from .schema import STREAM_COLUMN

# Ingest only appends, so DuckDB needs little more than the rows not yet checkpointed, and the
# rest of the process (the core, the block in flight) shares a 400 MB budget with it. The
# rare write that needs more (a checkpoint pins every long string of its row group) gets it
# for that write only (WriteSession.run and .checkpoint).
INGEST_MEMORY_MB = 96
# The WAL size at which ingest checkpoints, done by logkit so that a checkpoint short of memory
# can be retried (see logkit/store.py). DuckDB's default is 16 MB, but each checkpoint rewrites
# the row group it ends in, so fewer cost less: at 1M lines 21 checkpoints took 8.1 s, 6 took
# 2.7 s; the run 29 -> 25 s at the same peak PSS.
CHECKPOINT_WAL_BYTES = 64 * 1024 * 1024


@dataclass
class SourceReport:
    path: str
    # new | resumed | unchanged | copy (of a file read under its checkpoint) | error | changed
    # (truncated or rewritten while this run read it: what was read before is stored, the rest
    # is left for the next run, which finds the old content, if copied, by its fingerprints)
    status: str
    lines: int = 0
    events: int = 0
    rejects: int = 0
    error: str | None = None
    # A compressed stream that could not be read to its end: what, and from which line and
    # byte of its content nothing was stored (the reject truncated_stream or corrupt_stream).
    damage: str | None = None
    changed: str | None = None  # how it changed under the reader: truncated | rewritten


@dataclass
class IngestSummary:
    """What a run read and stored."""

    lines: int = 0
    events: int = 0
    no_ts: int = 0
    bytes: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    masked: Counter[str] = field(default_factory=Counter)
    sources: list[SourceReport] = field(default_factory=list)
    seconds: float = 0.0
    # Inputs that gave nothing: a directory without log files, a file without one event.
    warnings: list[str] = field(default_factory=list)
    # Per log format: [events, then events with each of formats.COVERAGE].
    formats: dict[str, list[int]] = field(default_factory=dict)

    @property
    def rejects(self) -> int:
        return sum(self.rejected.values())

    @property
    def errors(self) -> list[SourceReport]:
        return [s for s in self.sources if s.status == "error"]

    @property
    def damaged(self) -> list[SourceReport]:
        return [s for s in self.sources if s.damage]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "events": self.events,
            "events_without_ts": self.no_ts,
            "rejects": self.rejects,
            "rejected_by_reason": dict(sorted(self.rejected.items())),
            "masked_by_detector": dict(sorted(self.masked.items())),
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "lines_per_second": round(self.lines / self.seconds) if self.seconds else None,
            "sources": [s.__dict__ for s in self.sources],
            "damaged_inputs": len(self.damaged),
            "warnings": self.warnings,
            "formats": self.format_coverage(),
        }

    def format_coverage(self) -> dict[str, dict[str, Any]]:
        """Per log format, most events first: how many events it matched and the share of
        them (0..1) that got each key column."""
        return {
            name: {
                "events": counts[0],
                **{
                    column: round(n / counts[0], 4)
                    for column, n in zip(COVERAGE, counts[1:], strict=True)
                },
            }
            for name, counts in sorted(self.formats.items(), key=lambda kv: (-kv[1][0], kv[0]))
            if counts[0]
        }


# -- the reading side ---------------------------------------------------------------------


@dataclass
class Block:
    """Complete lines of one source, and where the source stands once they are stored."""

    data: bytes
    first_line: int
    first_offset: int
    rejects: list[tuple[int, int, str, bytes]]
    end_line: int  # lines consumed once this block commits
    end_offset: int  # bytes consumed once this block commits
    tail: bytes  # the TAIL_BYTES consumed last, for the checkpoint's fingerprint
    eof: bool = False  # the last block: the stream has been read to its end


class Joins(Protocol):
    """Where a block of complete lines must end so that no sequence of parts of a split line
    is cut (the native core's scan, `Core.unfinished`)."""

    def unfinished(self, chunk: bytes) -> int: ...


class LineBlocker:
    """Cuts a source into blocks of complete lines, from its checkpoint on.

    A partial last line waits for the next run unless the stream is final (stdin, compressed),
    where it is the last record. A line longer than `max_line` is not buffered: its first bytes
    go to the quarantine and the rest is skipped up to its newline.

    With a `joins` scan (formats that split long lines into parts), the lines from the first
    part of a sequence that a block would leave open are held out of it, and out of its
    checkpoint, until the part that ends the sequence arrives, as an unfinished last line is:
    a joined record is then in one block and stored once, whatever the blocks and runs. Held
    parts longer than `max_line` in all are let go: the parts a block holds are one event.
    """

    def __init__(
        self, source: src.Source, lines: int, offset: int, tail: bytes = b"",
        joins: Joins | None = None,
    ) -> None:  # fmt: skip
        self.joins = joins
        self.source = source
        self.lines = lines
        self.offset = offset
        self.tail = tail
        self.rejects: list[tuple[int, int, str, bytes]] = []
        self.waiting = 0  # at the end: lines held as parts of a split line whose end is to come
        # (reason, line, byte offset, what) of the damage that ended a compressed stream
        self.damage: tuple[str, int, int, str] | None = None

    def _consumed(self, data: bytes) -> None:
        self.tail = (self.tail + data[-src.TAIL_BYTES :])[-src.TAIL_BYTES :]

    def _block(self, data: bytes = b"") -> Block:
        block = Block(
            data=data,
            first_line=self.lines + 1,
            first_offset=self.offset,
            rejects=self.rejects,
            end_line=self.lines
            + data.count(b"\n")
            + (0 if data.endswith(b"\n") or not data else 1),
            end_offset=self.offset + len(data),
            tail=b"",
        )
        self._consumed(data)
        block.tail = self.tail
        self.lines, self.offset, self.rejects = block.end_line, block.end_offset, []
        return block

    def _reject_long(self, prefix: bytes, length: int) -> None:
        self.rejects.append((self.lines + 1, self.offset, "line_too_long", prefix[:TOO_LONG_KEEP]))
        self.lines += 1
        self.offset += length

    def blocks(self, block_size: int, max_line: int) -> Iterator[Block]:
        carry = b""
        held = b""  # complete lines held back: a split line's parts so far (see joins)
        long_prefix: bytes | None = None  # set while skipping an over-long line
        long_len = 0
        while True:
            try:
                block = self.source.read(block_size)
            except src.DamagedStream as damage:
                if held:
                    yield self._block(held)  # the stream ends here: parts as they are
                    held = b""
                partial, length = (
                    (long_prefix, long_len) if long_prefix is not None else (carry, len(carry))
                )
                raw = partial[:TOO_LONG_KEEP]
                if isinstance(damage, src.CorruptStream):
                    # Nothing from the damage on is read: the reject says where and why, with
                    # the start of the line it cuts, if any.
                    raw = f"{damage}; nothing from here on is stored\n".encode() + raw
                self.damage = (damage.reason, self.lines + 1, self.offset, str(damage))
                self.rejects.append((self.lines + 1, self.offset, damage.reason, raw))
                if length:
                    self.lines += 1
                    self.offset += length
                last = self._block()
                last.eof = True
                yield last
                return
            if not block:
                break
            if long_prefix is not None:
                nl = block.find(b"\n")
                if nl < 0:
                    long_len += len(block)
                    self._consumed(block)
                    continue
                long_len += nl + 1
                self._consumed(block[: nl + 1])
                self._reject_long(long_prefix, long_len)
                long_prefix = None
                block = block[nl + 1 :]
            data = held + carry + block if held or carry else block
            held = b""
            nl = data.rfind(b"\n")
            if nl < 0:
                chunk, carry = b"", data
            else:
                chunk, carry = data[: nl + 1], data[nl + 1 :]
            if self.joins is not None and chunk:
                cut = self.joins.unfinished(chunk)
                if len(chunk) - cut <= max_line:
                    chunk, held = chunk[:cut], chunk[cut:]
            if chunk or self.rejects:
                yield self._block(chunk)
            if len(carry) > max_line:
                if held:
                    yield self._block(held)  # parts before an over-long line go as they are
                    held = b""
                long_prefix, long_len = carry[:TOO_LONG_KEEP], len(carry)
                self._consumed(carry)
                carry = b""
        if long_prefix is not None and self.source.final:
            self._reject_long(long_prefix, long_len)
        # Always a last block, empty or not: its commit records that the end was reached.
        self.waiting = 0 if self.source.final else held.count(b"\n")
        last = self._block(held + carry if self.source.final else b"")
        last.eof = True
        yield last


@dataclass
class _Cursor:
    """A source being read, with the checkpoint its committed blocks advance."""

    source: src.Source
    checkpoint: src.Checkpoint
    report: SourceReport
    head: bytes


# -- the run ------------------------------------------------------------------------------


def _load_checkpoints(con: Any) -> list[src.Checkpoint]:
    rows = con.execute(
        "SELECT id, path, dev, ino, head_len, head_hash, tail_len, tail_hash, byte_offset, lines,"
        " events, rejects, epoch_us(newest_ts), eof_size, eof_mtime_ns FROM sources"
    ).fetchall()
    return [src.Checkpoint(*row) for row in rows]


_CHECKPOINT_COLUMNS = (
    "id", "path", "dev", "ino", "head_len", "head_hash", "tail_len", "tail_hash", "byte_offset",
    "lines", "events", "rejects", "eof_size", "eof_mtime_ns",
)  # fmt: skip
_SAVE_CHECKPOINT = f"""
    INSERT INTO sources ({", ".join(_CHECKPOINT_COLUMNS)}, newest_ts, first_seen, updated_at)
    VALUES ({", ".join("$" + c for c in _CHECKPOINT_COLUMNS)}, make_timestamptz($newest_ts),
            now(), now())
    ON CONFLICT (id) DO UPDATE SET
      {", ".join(f"{c} = excluded.{c}" for c in _CHECKPOINT_COLUMNS[1:])},
      newest_ts = excluded.newest_ts, updated_at = now()
"""


def _save_checkpoint(con: Any, cp: src.Checkpoint) -> None:
    params = {column: getattr(cp, column) for column in _CHECKPOINT_COLUMNS}
    con.execute(_SAVE_CHECKPOINT, {**params, "newest_ts": cp.newest_ts})


def add_counters(con: Any, counts: dict[tuple[str, str], float]) -> None:
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
# inserted as the block comes (memory stays one block of Arrow, DuckDB's part-filled row group
# aside), and a transaction commits once its events have filled a row group and the next
# is half full. Committed sooner, the rows went through the WAL and were written again by the
# checkpoint: 20 transactions of 16 MB cost 4.9-5.1 CPU s of DuckDB's at 1M lines, these
# 6 cost 3.8-4.2 (see bench/RESULTS.md).
ROW_GROUP_ROWS = 122_880  # DuckDB's row group
# The part-filled row group a commit leaves is at least half full, so two in a row hold more
# than a row group: a checkpoint's vacuum, which merges a run of row groups that fits in fewer,
# then never rewrites them (commits at 1 or 2 row groups left it 0.4-1.4 s of merging per
# 400k rows).
COMMIT_ROWS = ROW_GROUP_ROWS * 3 // 2
# At the latest, a transaction commits this long after it began: a kill loses at most that much
# work (the rerun redoes it). A reader waiting for the store (locks.readers_waiting) has the
# transaction under way committed after the block being stored, and the writer steps aside.
COMMIT_SECONDS = 10.0
# DuckDB keeps the rows of the row group being filled in memory until it is full: rows so long
# that this much of them fills no row group commit by bytes (a row group of sample lines is
# ~44 MB of Arrow), which bounds DuckDB's memory as the old 16 MB transactions did. The
# transaction's rows wait in a file meanwhile (_Spool), not in memory.
COMMIT_BYTES = 64 * 1024 * 1024


class _Spool:
    """A transaction's rows in a temporary file beside the store, as Arrow IPC streams, so that
    they can be stored again if DuckDB runs out of memory (which rolls the transaction back):
    a transaction is now a row group or more, too much to keep in memory for a rare retry."""

    def __init__(self, store: Path) -> None:
        self.store = store
        # Unnamed (O_TMPFILE) and unbuffered: nothing is left behind by a kill, and what was
        # written can be read back by offset.
        try:
            self.file = tempfile.TemporaryFile(dir=store.parent, buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise write_error(store, exc) from exc
        self.sink = pa.PythonFile(self.file, mode="w")
        self.parts: list[tuple[int, int]] = []

    def write(self, table: pa.Table) -> None:
        start = self.file.tell()
        try:
            with pa.ipc.new_stream(self.sink, table.schema) as writer:
                writer.write_table(table)
        except OSError as exc:  # beside the store: its disk is full too
            raise write_error(self.store, exc) from exc
        self.parts.append((start, self.file.tell() - start))

    def tables(self) -> Iterator[pa.Table]:
        for start, length in self.parts:
            data = os.pread(self.file.fileno(), length, start)
            yield pa.ipc.open_stream(pa.py_buffer(data)).read_all()

    def clear(self) -> None:
        self.file.seek(0)
        self.file.truncate()
        self.parts = []

    def close(self) -> None:
        self.file.close()


class _Committer:
    """Stores blocks as they come in one open transaction, which commits with the checkpoints
    of the blocks it holds and the counters (see COMMIT_ROWS)."""

    def __init__(self, session: WriteSession) -> None:
        self.session = session
        self.counts: Counter[tuple[str, str]] = Counter()
        self.txn: contextlib.ExitStack | None = None  # the open transaction
        self.con: Any = None
        self.spool: _Spool | None = None
        # Per source, its last block in the transaction (its checkpoint is saved as it leaves it).
        self.last: dict[int, tuple[_Cursor, Block]] = {}
        self.spans: list[pa.Table] = []  # (trace_key, ts) of each block's events
        self.added = self.events = 0
        self.unwritten = 0  # bytes of the row group being filled
        self.since = 0.0
        self.failed = False  # DuckDB ran out of memory: the transaction is to be stored again

    def add(self, cur: _Cursor | None, result: ChunkResult, block: Block) -> None:
        events = _with_stream(result.events, cur)
        rejects = _with_stream(result.rejects, cur)
        if not self.added:
            self.since = time.monotonic()
            if self.spool is None:
                self.spool = _Spool(self.session.store.path)
        assert self.spool is not None
        for table in (events, rejects):
            if table.num_rows:
                self.spool.write(table)
        self.spans.append(result.events.select(["trace_key", "ts"]))
        if not self.failed:
            try:
                self._in_transaction(lambda con: _insert(con, events, rejects))
            except StoreOutOfMemory as error:
                if error.invalidated:
                    raise
                self.failed = True  # rolled back: flush() stores the whole transaction again
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
        if cur is not None:
            _advance(cur, result, block)
            self.last[id(cur)] = (cur, block)
        self.counts["lines", ""] += result.lines
        for name, counts in (("rejects", result.reasons), ("masked", result.masked)):
            for label, value in counts.items():
                self.counts[name, label] += value
        for fmt, counts in result.formats.items():
            # logkit_ingest_format_events_total and _format_columns_total (queries/metrics).
            self.counts["format_events", fmt] += counts[0]
            for column, value in zip(COVERAGE, counts[1:], strict=True):
                self.counts["format_columns", f"{fmt}|{column}"] += value
        if self.failed or self._due():
            self.flush()

    def _due(self) -> bool:
        return (
            (self.events >= COMMIT_ROWS and self.events % ROW_GROUP_ROWS >= ROW_GROUP_ROWS // 2)
            or self.unwritten >= COMMIT_BYTES
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
        assert self.spool is not None
        self.spool.clear()
        self.last, self.spans, self.counts = {}, [], Counter()
        self.added = self.events = self.unwritten = 0
        self.failed = False

    def _again(self, con: Any) -> None:
        assert self.spool is not None
        for table in self.spool.tables():
            if "reason" in table.column_names:
                _insert(con, None, table)
            else:
                _insert(con, table, None)
        self._finish(con)

    def _finish(self, con: Any) -> None:
        spans = pa.concat_tables(self.spans)
        if spans.num_rows:
            con.register("_spans", spans)
            tracespans.record(con, "_spans")
            con.unregister("_spans")
        for cur, block in self.last.values():
            _save_checkpoint(con, _stop_at(cur, block))
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


def _insert(con: Any, events: pa.Table | None, rejects: pa.Table | None) -> None:
    if events is not None and events.num_rows:
        con.register("_events", events)
        con.execute("INSERT INTO events SELECT * FROM _events")
        con.unregister("_events")
    if rejects is not None and rejects.num_rows:
        con.register("_rejects", rejects)
        con.execute(
            "INSERT INTO rejects (source, line, byte_offset, reason, raw, stream)"
            " SELECT source, line, byte_offset, reason, raw, stream FROM _rejects"
        )
        con.unregister("_rejects")


def _with_stream(table: pa.Table, cur: _Cursor | None) -> pa.Table:
    """A block's rows with the stream they were read from (its checkpoint's id) as the last
    column; NULL for unnamed stdin, which has no checkpoint."""
    stream = None if cur is None else cur.checkpoint.id
    column = pa.repeat(pa.scalar(stream, pa.int64()), table.num_rows)
    return table.append_column(STREAM_COLUMN[0], column)


def _advance(cur: _Cursor, result: ChunkResult, block: Block) -> None:
    """Move the source's checkpoint past a block (saved by the transaction that stores it)."""
    cp = cur.checkpoint
    cp.byte_offset, cp.lines = block.end_offset, block.end_line
    cp.events += result.events.num_rows
    cp.rejects += result.rejects.num_rows
    if result.newest_ts is not None and (cp.newest_ts is None or result.newest_ts > cp.newest_ts):
        cp.newest_ts = result.newest_ts


def _stop_at(cur: _Cursor, block: Block) -> src.Checkpoint:
    """The checkpoint with the fingerprints of where it stops: after `block`, the last of its
    source's blocks in the transaction."""
    cp = cur.checkpoint
    cp.head_len = min(cp.byte_offset, len(cur.head))
    cp.head_hash = src.fingerprint(cur.head[: cp.head_len])[1]
    cp.tail_len, cp.tail_hash = src.fingerprint(block.tail)
    source = cur.source
    if source.compressed and block.eof and not source.is_stdin:
        cp.eof_size, cp.eof_mtime_ns = source.file_size, source.mtime_ns
    else:
        cp.eof_size = cp.eof_mtime_ns = None
    return cp


def format_settings(config: Any, forced: str | None = None) -> FormatSettings:
    """The log formats logkit.toml adds (`[formats.NAME]`, `[ingest] formats_dir`), and the
    one `--log-format` forces."""
    formats_dir = config.ingest.formats_dir
    if formats_dir and config.path is not None:
        # A relative directory is beside the logkit.toml that names it.
        formats_dir = str(config.path.parent / formats_dir)
    return FormatSettings(tables=dict(config.formats), formats_dir=formats_dir, forced=forced)


def mask_key(store_path: Path) -> bytes | None:
    """The pseudonym key: $LOGKIT_MASK_KEY, else the key file beside the store."""
    env = os.environ.get("LOGKIT_MASK_KEY")
    if env:
        return env.encode()
    with contextlib.suppress(FileNotFoundError):
        return key_path(store_path).read_bytes().strip()
    return None


def ingest(
    session: WriteSession,
    inputs: list[str],
    *,
    mask: bool = True,
    progress: Callable[[int, int, int | None], None] | None = None,
    stdin_name: str | None = None,
    log_format: str | None = None,
) -> IngestSummary:
    """Read `inputs` into the store; `stdin_name` makes '-' a named stream with a checkpoint;
    `log_format` names the log format every record is read as (else each is recognised)."""
    before = _stored(session)
    try:
        with (
            session.memory_limit(INGEST_MEMORY_MB),
            session.manual_checkpoints(CHECKPOINT_WAL_BYTES),
        ):
            return _ingest(
                session, inputs, mask=mask, progress=progress, stdin_name=stdin_name,
                log_format=log_format,
            )  # fmt: skip
    except BaseException as exc:
        signum = interrupt.received() or (
            signal.SIGINT if isinstance(exc, KeyboardInterrupt) else None
        )
        if signum is None:
            raise
        raise Interrupted(signum, _interrupted_message(session, before, signum)) from None


def _stored(session: WriteSession) -> tuple[int, int, int]:
    """(lines, events, rejects) the store holds from all runs, as its counters say."""
    with session.transaction() as con:
        row = con.execute(
            "SELECT (SELECT coalesce(sum(value), 0) FROM counters WHERE name = 'lines'),"
            " (SELECT count(*) FROM events),"
            " (SELECT coalesce(sum(value), 0) FROM counters WHERE name = 'rejects')"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _interrupted_message(session: WriteSession, before: tuple[int, int, int], signum: int) -> str:
    """What the run stored before the signal: the committed transactions (the one under way
    was rolled back, and the checkpoints went with it, so the next run reads on from there)."""
    name = signal.Signals(signum).name
    try:
        lines, events, rejects = (a - b for a, b in zip(_stored(session), before, strict=True))
    except Exception:  # the store cannot be asked now; the message is all that is lost
        return f"interrupted by {name}; nothing half-done was kept, so a rerun reads on from there"
    return (
        f"interrupted by {name}: this run stored {lines:,} lines ({events:,} events, "
        f"{rejects:,} rejected) before it; nothing half-done was kept, so a rerun reads on "
        "from there"
    )


def _ingest(
    session: WriteSession,
    inputs: list[str],
    *,
    mask: bool,
    progress: Callable[[int, int, int | None], None] | None,
    stdin_name: str | None = None,
    log_format: str | None = None,
) -> IngestSummary:
    store = session.store
    settings = store.config.ingest
    started = time.monotonic()
    summary = IngestSummary()
    names = src.expand(inputs, empty=summary.warnings)
    if stdin_name is not None and (not stdin_name or src.STDIN not in names):
        raise InputError("a stream name is for piped input: give a non-empty name and '-'")
    mask_table = store.config.mask if mask and store.config.mask.get("enabled", True) else None
    key = mask_key(store.path)
    masker = None
    formats = format_settings(store.config, log_format)
    if mask_table is not None:
        # Fail now, before anything is read, on a bad [mask] table or key.
        masker = make_masker(mask_table, key, store.config.aliases, formats)
    # The same for a bad format file, a format the core cannot read, an unknown --log-format.
    core = Core(store.config.aliases, max_line=settings.max_line_bytes,
                masker=masker.native if masker is not None else None, formats=formats)  # fmt: skip
    # Where a block may end, by the core's own scan of its lines.
    joins: Joins | None = core if core.splits else None
    with session.transaction() as con:
        checkpoints = _load_checkpoints(con)
        if masker is not None:
            _mask_checkpoint_paths(con, masker, checkpoints)
    next_id = max((cp.id for cp in checkpoints), default=0) + 1

    def stored_name(name: str) -> str:
        """A name as checkpoints keep it: masked like any text (see `_masked_name`)."""
        if masker is None:
            return name
        masked = masker.mask_text(name)
        masker.counts.clear()  # counted when the rows that carry it are stored
        return masked

    opened: list[src.Source] = []
    for name in names:
        try:
            opened.append(src.Source(name))
        except InputError as exc:
            summary.sources.append(SourceReport(name, "error", error=str(exc)))
    assigned = src.assign_checkpoints(opened, checkpoints)
    for index, source in enumerate(opened):
        if source.is_stdin and stdin_name:
            # Piped input under a name: stored once, however often it is piped again grown.
            source.name_stdin(stdin_name)
            named = src.named_checkpoint(source, checkpoints, stored_name(stdin_name))
            if named is not None:
                assigned[index] = named
    copies = src.compressed_copies(opened, assigned)
    # A cron run over a directory of rotated logs should cost what is new, not what is there.
    todo: list[tuple[src.Source, src.Checkpoint | None]] = []
    moved: list[src.Checkpoint] = []
    for index, source in enumerate(opened):
        cp = assigned.get(index)
        if index in copies:
            summary.sources.append(SourceReport(source.name, "copy"))
            source.close()
        elif cp is not None and not source.is_stdin and source.unchanged_since(cp):
            summary.sources.append(SourceReport(source.name, "unchanged"))
            name = stored_name(source.name)
            if (cp.path, cp.dev, cp.ino) != (name, source.dev, source.ino):
                # Rotated since it was read: its rows' stream names where it is now.
                cp.path, cp.dev, cp.ino = name, source.dev, source.ino
                moved.append(cp)
            source.close()
        else:
            todo.append((source, cp))
    total_bytes = sum(source.unread_bytes(cp) for source, cp in todo)
    done_bytes = 0
    committer = _Committer(session)
    try:
        for source, cp in todo:
            status = "resumed" if cp else "new"
            if cp is None:
                cp = src.Checkpoint(None, source.name, source.dev, source.ino)
                if not source.is_stdin or source.named:
                    cp.id, next_id = next_id, next_id + 1
            cp.path, cp.dev, cp.ino = source.name, source.dev, source.ino
            report = SourceReport(source.name, status)
            summary.sources.append(report)
            head = source.peek_prefix(src.HEAD_BYTES)
            tail = source.skip_to(cp.byte_offset) if cp.byte_offset else b""
            if source.changed:
                # Truncated or rewritten since the checkpoint was matched: nothing of it is
                # read now, and the checkpoint stays as it was for the next run.
                report.status, report.changed = "changed", source.changed
                source.close()
                continue
            if cp.byte_offset and src.fingerprint(tail) != (cp.tail_len, cp.tail_hash):
                # A compressed stream (or named stdin) whose head matched but whose content
                # then differs: a different stream after all. Start it afresh under a
                # checkpoint of its own (stdin: with what was read of it read again).
                if source.is_stdin:
                    source.rewind()
                else:
                    source.close()
                    source = src.Source(source.name)
                head = source.peek_prefix(src.HEAD_BYTES)
                cp = src.Checkpoint(next_id, source.name, source.dev, source.ino)
                next_id += 1
                report.status, tail = "new", b""
            source.drop_spool()
            cur = _Cursor(source, cp, report, head)
            blocker = LineBlocker(source, cp.lines, cp.byte_offset, tail, joins)
            label = "<stdin>" if source.is_stdin and not source.named else source.name
            in_key = 0  # bytes of a private key block open before the next block
            if masker is not None:
                label = _masked_name(masker, label, committer, summary)
                if masker.masks_key_blocks:
                    in_key = _key_open_at(source, cp.byte_offset)
            cp.path = label
            for block in blocker.blocks(settings.batch_bytes, settings.max_line_bytes):
                job = (label, block.data, block.first_line, block.first_offset, block.rejects,
                       in_key)  # fmt: skip
                if masker is not None and masker.masks_key_blocks:
                    in_key = key_block_after(block.data, in_key)
                # The block waits for its commit without its bytes (a transaction's worth of
                # raw blocks would double what a run holds).
                block.data = b""
                # On every core, the GIL released; a signal is handled as the block ends.
                result = core.process_chunk(*job)
                done_bytes += _record(committer, summary, cur, result, block)
                if progress:
                    progress(done_bytes, summary.lines, total_bytes or None)
            if source.changed:
                # Read up to where it changed (see logkit/sources.py); the rest is the next
                # run's.
                report.status, report.changed = "changed", source.changed
            elif blocker.damage is not None:
                reason, line, offset, what = blocker.damage
                report.damage = f"{reason} from line {line:,} (byte {offset:,}): {what}"
            elif blocker.waiting:
                summary.warnings.append(
                    f"{source.name}: its last {blocker.waiting:,} line(s) are parts of a split"
                    " line whose end has not come: stored, joined, when it does"
                )
            elif not blocker.lines and source.size:  # every run, until a line ends
                summary.warnings.append(
                    f"{source.name}: {source.size:,} bytes and not one newline: read as an"
                    " unfinished line that waits for its end (is it a log file?)"
                )
            source.close()
        committer.flush()
    except BaseException as exc:
        committer.abort(exc)
        raise
    finally:
        committer.close()
        for source in opened:
            with contextlib.suppress(Exception):
                source.close()
    summary.bytes = done_bytes
    summary.seconds = time.monotonic() - started

    def finish(con: Any) -> None:
        con.execute(
            "INSERT INTO runs VALUES ((SELECT coalesce(max(id), 0) + 1 FROM runs), 'ingest',"
            " to_timestamp($started), now(), true, $lines, $events, $rejects)",
            {
                "started": datetime.now(UTC).timestamp() - summary.seconds,
                "lines": summary.lines, "events": summary.events, "rejects": summary.rejects,
            },
        )  # fmt: skip
        for cp in moved:
            _save_checkpoint(con, cp)
        tracespans.compact(con)

    session.run(finish)
    for report in summary.sources:
        # (A damaged stream says so itself.)
        if report.status == "new" and report.lines and not report.events and not report.damage:
            summary.warnings.append(
                f"{report.path}: no events, all {report.lines:,} line(s) rejected"
                " (is it a log file?)"
            )
    if summary.errors and not (summary.lines or summary.events):
        raise LogkitError("; ".join(s.error or s.path for s in summary.errors))
    return summary


def _mask_checkpoint_paths(con: Any, masker: Any, checkpoints: list[src.Checkpoint]) -> None:
    """Mask the names that checkpoints saved by an older logkit, or by a run with --no-mask,
    hold as they were: a rotated file never read again would keep its name in the lag metric.
    (Masking what is masked changes nothing, so this writes only those.)"""
    for cp in checkpoints:
        masked = masker.mask_text(cp.path)
        if masked != cp.path:
            cp.path = masked
            con.execute(
                "UPDATE sources SET path = $path WHERE id = $id", {"path": masked, "id": cp.id}
            )
    masker.counts.clear()  # not values this run stores


def _masked_name(masker: Any, name: str, committer: _Committer, summary: IngestSummary) -> str:
    """A file's name as the store keeps it (events, rejects, checkpoint, metric label): masked
    like any text, since a file may be named after an address or hold a token. Checkpoints are
    matched by content and inode, never by name, so nothing needs the real one back."""
    masked = masker.mask_text(name)
    for detector, count in masker.counts.items():
        committer.counts["masked", detector] += count
        summary.masked[detector] += count
    masker.counts.clear()
    return masked


def _key_open_at(source: src.Source, offset: int) -> int:
    """The private key block open at `offset` of a plain file, as `key_block_after` gives it.

    A block open where a checkpoint stops must stay open when the next run goes on from there
    (a key being printed while a run read it, a run killed mid-key). It is found again in the
    bytes before the offset rather than kept in the checkpoint: a block ends KEY_BLOCK_BYTES
    after its BEGIN line at the latest, so looking back that far finds what one run would. (A
    compressed file is not looked back into: it is resumed only after a run killed mid-file.)
    """
    if not offset or source.compressed or source.is_stdin:
        return 0
    start = max(0, offset - KEY_BLOCK_BYTES)
    data = os.pread(source.stream.fileno(), offset - start, start)
    if start:
        data = data[data.find(b"\n") + 1 :]  # from the start of a line
    return key_block_after(data)


def _record(
    committer: _Committer, summary: IngestSummary, cur: _Cursor, result: ChunkResult, block: Block
) -> int:
    # Unnamed stdin has no checkpoint: its rows are committed without one.
    committer.add(None if cur.checkpoint.id is None else cur, result, block)
    summary.lines += result.lines
    summary.events += result.events.num_rows
    summary.no_ts += result.no_ts
    summary.rejected.update(result.reasons)
    summary.masked.update(result.masked)
    for name, counts in result.formats.items():
        total = summary.formats.setdefault(name, [0] * len(counts))
        for index, value in enumerate(counts):
            total[index] += value
    cur.report.lines += result.lines
    cur.report.events += result.events.num_rows
    cur.report.rejects += result.rejects.num_rows
    return block.end_offset - block.first_offset
