"""One ingest run (`ingest`): the sources named, each from the checkpoint it continues, read
block by block through the native core into the committer; what the run is told (memory, the
WAL size, the log formats, the pseudonym key) and what it says when a signal stops it."""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import os
import signal
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import interrupt, tracespans
from .._core import Block as CoreBlock
from ..core import ChunkResult, Core, FormatSettings, make_masker
from ..errors import InputError, Interrupted, LogkitError
from ..handles import Session as WriteSession  # store.py's, as seen from below Store
from ..keyfile import key_path, store_files
from ..mask import KEY_BLOCK_BYTES, Masker, key_block_after
from . import rotation, sniff
from . import sources as src
from .ahead import read_ahead
from .blocks import Block, Joins, LineBlocker
from .checkpoints import Checkpoint, fingerprint, load_checkpoints, save_checkpoints
from .cursor import Cursor, Record
from .summary import IngestSummary, SourceReport

# Ingest only appends, so DuckDB needs little more than the rows not yet checkpointed, and the
# rest of the process (the core, the blocks ahead) shares a 400 MB budget with it. The rare
# write that needs more (a checkpoint pins every long string of its row group) gets it for that
# write only (WriteSession.run and .checkpoint). At 96 MB, DuckDB held ~30 MB more late in a
# long run than at 64 MB, which stored 9M lines into a 1M-line store without one retry, in no
# more time (in process: peak 361 -> 331 MB at eight blocks ahead, 394 -> 364 at sixteen);
# twenty 15 MB lines in a row still ingest (retried up to 1 GB; 950 MB peak).
INGEST_MEMORY_MB = 64
# The WAL size at which ingest checkpoints, done by logkit so that a checkpoint short of memory
# can be retried (see logkit/store.py). DuckDB's default is 16 MB, but each checkpoint rewrites
# the row group it ends in, so fewer cost less: at 1M lines 21 checkpoints took 8.1 s, 6 took
# 2.7 s; the run 29 -> 25 s at the same peak PSS. Since the events go to the store file, not
# the WAL (see commit.py), the WAL holds trace spans and rejects, and a checkpoint's memory
# grows with it: the peak RSS of a long run was its last checkpoint's (9M lines into a 1M-line
# store: 268 -> 359 MB during it); at 32 MB that run peaked at 351 MB against 363 (one pair of
# runs, the same 36.7 s).
CHECKPOINT_WAL_BYTES = 32 * 1024 * 1024
# DuckDB's threads while ingest writes. A block's INSERT (an Arrow scan of ~5k rows into an
# ordered insert) spread over two threads cost 22-28% more CPU than on one, in no less time
# (`python bench/insert_paths.py`), and the second competed with the core for a core: 1M
# lines in process 7.2 -> 6.5 s. A transaction's one INSERT of the blocks' stream (commit.py)
# on two threads, insertion order given up, fared worse still: 1M lines 3.3 -> 4.4 s.
INGEST_DUCKDB_THREADS = 1
# DuckDB's freed blocks kept for its next ones while ingest writes: each row group it writes
# out was otherwise handed back to the system and faulted in again, zeroed, for the next
# (1M lines: 293k -> 214k page faults, 1.16 -> 0.94 s of system time).
INGEST_BLOCK_CACHE_MB = 64
# DuckDB's memory for the run's last transaction, whose trace spans' compaction (a GROUP BY
# and sort of every span recorded, ~1.8M rows at 10M events) was a long run's peak: 64 MB let
# it grow the process by ~70 MB, 32 by ~38, 0.06 s slower (it spills; with too little, it
# is retried with more, as every write is).
FINISH_MEMORY_MB = 32
# Blocks the core may have parsed, or be parsing, beyond the one being stored: each holds its
# raw bytes, then its Arrow rows (~2 MB each for a 2 MB block, and what the core's allocator
# keeps of them for ~10 ms once freed) until its turn. Enough for the core to go on while the
# storing thread compresses a row group (~150-200 ms, in the INSERT as a block fills one) or
# commits (~100 ms): the two threads are about even, so each such pause the core cannot fill
# leaves a core idle. 1M lines, CLI, alternating: eight 4.96-5.13 s, sixteen 4.44-4.59 s at the
# same peak RSS once DuckDB has 64 MB (above); twenty-four no faster (+48 MB, an earlier
# session; again this session, +21 MB).
CORE_AHEAD = 16


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
    # A store not there yet is made by the run's first transaction, once its core has
    # started (~0.1 s: two connections, the migrations): it has nothing to count or to read
    # checkpoints from, and the session's lock keeps another writer from making it meanwhile.
    before = _stored(session) if session.exists else (0, 0, 0)
    try:
        with (
            session.memory_limit(INGEST_MEMORY_MB),
            session.manual_checkpoints(CHECKPOINT_WAL_BYTES),
            session.threads(INGEST_DUCKDB_THREADS),
            session.block_cache(INGEST_BLOCK_CACHE_MB),
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
    names, left_out = src.without_store_files(
        src.expand(inputs, empty=summary.warnings), store_files(store.path)
    )
    summary.warnings.extend(left_out)
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
                masker=masker.native if masker is not None else None, formats=formats,
                stream=True)  # fmt: skip
    # Where a block may end, by the core's own scan of its lines.
    joins: Joins | None = core if core.splits else None
    checkpoints: list[Checkpoint] = []
    if session.exists:
        with session.transaction() as con:
            checkpoints = load_checkpoints(con)
            if masker is not None:
                _mask_checkpoint_paths(con, masker, checkpoints)
    # (Every stored checkpoint has an id: only unnamed stdin's, never saved, has none.)
    next_id = max((cp.id for cp in checkpoints if cp.id is not None), default=0) + 1

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
    assigned = rotation.assign_checkpoints(opened, checkpoints)
    for index, source in enumerate(opened):
        if source.is_stdin and stdin_name:
            # Piped input under a name: stored once, however often it is piped again grown.
            source.name_stdin(stdin_name)
            named = rotation.named_checkpoint(source, checkpoints, stored_name(stdin_name))
            if named is not None:
                assigned[index] = named
    copies = rotation.compressed_copies(opened, assigned)
    # A cron run over a directory of rotated logs should cost what is new, not what is there.
    todo: list[tuple[src.Source, Checkpoint | None]] = []
    moved: list[Checkpoint] = []
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
    counted: Counter[tuple[str, str]] = Counter()  # masks in file names, for the committer
    # One thread: it takes a source's blocks in order (see `_KeyBlock`); the core has its own pool.
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="logkit-core")

    def handed(cur: Cursor, parsed: Future[Parsed], block: Block) -> Generator[Record]:
        nonlocal done_bytes
        yield _parsed(summary, cur, parsed, block)
        done_bytes += block.end_offset - block.first_offset
        if progress:
            progress(done_bytes, summary.lines, total_bytes or None)

    def records() -> Generator[Record]:
        """Every source's blocks, parsed, as the committer takes them (inside DuckDB's
        INSERT, which reads them as it stores them)."""
        nonlocal next_id
        for source, cp in todo:
            status = "resumed" if cp else "new"
            if cp is None:
                cp = Checkpoint(None, source.name, source.dev, source.ino)
                if source.resumable:
                    cp.id, next_id = next_id, next_id + 1
            cp.path, cp.dev, cp.ino = source.name, source.dev, source.ino
            report = SourceReport(source.name, status)
            summary.sources.append(report)
            head = source.peek_prefix(src.HEAD_BYTES)
            report.encoding = sniff.wide_encoding(head)
            tail = source.skip_to(cp.byte_offset) if cp.byte_offset else b""
            if source.changed:
                # Truncated or rewritten since the checkpoint was matched: nothing of it is
                # read now, and the checkpoint stays as it was for the next run.
                report.status, report.changed = "changed", source.changed
                source.close()
                continue
            if cp.byte_offset and fingerprint(tail) != (cp.tail_len, cp.tail_hash):
                # A compressed stream (or named stdin) whose head matched but whose content
                # then differs: a different stream after all. Start it afresh under a
                # checkpoint of its own (stdin: with what was read of it read again).
                if source.is_stdin:
                    source.rewind()
                else:
                    source.close()
                    source = src.Source(source.name)
                head = source.peek_prefix(src.HEAD_BYTES)
                cp = Checkpoint(next_id, source.name, source.dev, source.ino)
                next_id += 1
                report.status, tail = "new", b""
            source.drop_spool()
            cur = Cursor(source, cp, report, head)
            blocker = LineBlocker(source, cp.lines, cp.byte_offset, tail, joins)
            label = "<stdin>" if source.is_stdin and not source.named else source.name
            keys = None  # the private key block open before the next block, if followed
            if masker is not None:
                label = _masked_name(masker, label, counted, summary)
                if masker.masks_key_blocks:
                    keys = _KeyBlock(_key_open_at(source, cp.byte_offset))
            cp.path = label
            # The core works ahead (on every core, the GIL released) while the blocks before
            # are stored: DuckDB's insert of a block runs on one thread, and with one block
            # ahead the two still waited on each other, the core's slices for a thread the
            # insert held, the insert for the core's next block.
            blocks = blocker.blocks(settings.batch_bytes, settings.max_line_bytes)
            # A plain file's blocks can be read again, so a transaction need not spool them.
            rereadable = source.rereadable and src.Reread.available()
            reread = source.rereader() if rereadable else None
            # Unnamed stdin has no checkpoint id: its rows' stream is NULL.
            parsing = _submitted(worker, core, keys, label, cp.id, blocks, reread)
            ahead: deque[Submitted] = deque()
            reading: contextlib.AbstractContextManager[Iterator[Submitted]]
            if source.may_wait:
                # From a pipe that pauses, the blocks parsed before the pause are stored, all
                # but the last, rather than held for the blocks to come.
                reading, limit = contextlib.nullcontext(parsing), 1
            else:
                # The reader holds one more, submitted, while it waits to hand it over.
                reading, limit = read_ahead(parsing, CORE_AHEAD - 1), 0
            with reading as submitted:
                for item in submitted:
                    ahead.append(item)
                    if len(ahead) > limit:
                        yield from handed(cur, *ahead.popleft())
            while ahead:
                yield from handed(cur, *ahead.popleft())
            if source.changed:
                # Read up to where it changed (see sources.py); the rest is the next
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

    stored = records()
    committer = None
    try:
        # The first block parsed starts the reading and the core on their threads; the
        # committer's DuckDB layer (~0.1 s of imports, on this thread) loads while they
        # work. Before, the core waited for them: its thread is a run's longest.
        first = next(stored, None)
        from .commit import Committer

        committer = Committer(session, counted)
        committer.store(itertools.chain(() if first is None else (first,), stored))
    except BaseException as exc:
        if committer is not None:
            committer.abort(exc)
        raise
    finally:
        stored.close()  # the reader thread of the source it stopped in ends
        # A signal is handled in this thread while the core finishes its block (~50 ms).
        worker.shutdown(wait=True, cancel_futures=True)
        if committer is not None:
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
        save_checkpoints(con, moved)
        tracespans.compact(con)

    with session.memory_limit(FINISH_MEMORY_MB):
        session.run(finish)
    for report in summary.sources:
        # (A damaged stream says so itself.)
        if report.status == "new" and report.lines and not report.events and not report.damage:
            why = (
                f": it is {report.encoding} text, and logkit reads UTF-8 (convert it first:"
                f" iconv -f {report.encoding} -t UTF-8)"
                if report.encoding
                else " (is it a log file?)"
            )
            summary.warnings.append(
                f"{report.path}: no events, all {report.lines:,} line(s) rejected{why}"
            )
    if summary.errors and not (summary.lines or summary.events):
        raise LogkitError("; ".join(s.error or s.path for s in summary.errors))
    return summary


def _mask_checkpoint_paths(con: Any, masker: Masker, checkpoints: list[Checkpoint]) -> None:
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


def _masked_name(
    masker: Masker, name: str, counted: Counter[tuple[str, str]], summary: IngestSummary
) -> str:
    """A file's name as the store keeps it (events, rejects, checkpoint, metric label): masked
    like any text, since a file may be named after an address or hold a token. Checkpoints are
    matched by content and inode, never by name, so nothing needs the real one back."""
    masked = masker.mask_text(name)
    for detector, count in masker.counts.items():
        counted["masked", detector] += count
        summary.masked[detector] += count
    masker.counts.clear()
    return masked


class _KeyBlock:
    """The bytes of a private key block open before a source's next block (0: none), carried
    from block to block on the core's one thread, which takes a source's blocks in order: the
    core gives it back with each block (`ChunkResult.key_open`), off the thread that stores
    them."""

    def __init__(self, open_bytes: int) -> None:
        self.open = open_bytes


# A block as the core gives it, with the private key block open before it.
Parsed = tuple[CoreBlock, int]
# A block handed to the core's thread, and its parse to come.
Submitted = tuple[Future[Parsed], Block]


def _submitted(
    worker: ThreadPoolExecutor, core: Core, keys: _KeyBlock | None, label: str,
    stream: int | None, blocks: Iterator[Block], reread: src.Reread | None,
) -> Iterator[Submitted]:  # fmt: skip
    """A source's blocks as they are read, each handed to the core's thread."""
    for block in blocks:
        job = (label, stream, block.data, block.first_line, block.first_offset, block.rejects)
        if reread is not None:
            block.remake = functools.partial(
                _remake, core, reread, label, stream, len(block.data), block.first_line,
                block.first_offset, block.rejects,
            )  # fmt: skip
        # The block waits for its commit without its bytes (a transaction's worth of raw
        # blocks would double what a run holds).
        block.data = b""
        yield worker.submit(_parse, core, keys, *job), block


def _remake(
    core: Core, reread: src.Reread, label: str, stream: int | None, length: int,
    first_line: int, first_offset: int, rejects: list[tuple[int, int, str, bytes]],
    in_key: int,
) -> ChunkResult:  # fmt: skip
    """A block's rows made again from its file, as `_parse` made them (the same bytes, the
    same key block open before them)."""
    data = reread.read(first_offset, length)
    return core.process_chunk(label, data, first_line, first_offset, rejects, in_key, stream=stream)


def _parse(
    core: Core, keys: _KeyBlock | None, label: str, stream: int | None, data: bytes,
    first_line: int, first_offset: int, rejects: list[tuple[int, int, str, bytes]],
) -> Parsed:  # fmt: skip
    """A block through the core (on the core's thread), with the key block open before it;
    the core finds the one open after it in its own pass over the block. Counted by the
    thread that takes it (`_parsed`)."""
    in_key = keys.open if keys is not None else 0
    block = core.process_block(
        label, data, first_line, first_offset, rejects, in_key, stream=stream
    )
    if keys is not None:
        keys.open = block.key_open
    return block, in_key


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
    assert isinstance(source.stream, io.BufferedReader)  # a plain file (not compressed)
    data = os.pread(source.stream.fileno(), offset - start, start)
    if start:
        data = data[data.find(b"\n") + 1 :]  # from the start of a line
    return key_block_after(data)


def _parsed(summary: IngestSummary, cur: Cursor, parsed: Future[Parsed], block: Block) -> Record:
    """A block once the core has parsed it, counted in the run's summary."""
    result = ChunkResult.of(*parsed.result())
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
    # Unnamed stdin has no checkpoint: its rows are committed without one.
    return None if cur.checkpoint.id is None else cur, result, block
