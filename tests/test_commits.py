"""How an ingest's transactions are grouped: rows stored as blocks come, committed by row groups.

A transaction's blocks are inserted as they come and commit once they fill a row group and
half the next (logkit/ingest/commit.py, COMMIT_ROWS): DuckDB writes such a transaction's rows to the
store file itself, and its WAL only says where. A reader that wants the store meanwhile has
the transaction under way committed after the next block, and the writer steps aside for it.
Real stores and real runs; a kill and a reader in separate processes.
"""

from __future__ import annotations

import gc
import gzip
import os
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import logkit
from logkit import locks
from logkit.core import Core
from logkit.errors import InputError, StoreOutOfMemory, StoreWriteError
from logkit.ingest import commit as commit_module
from logkit.ingest import run as ingest_module  # INGEST_MEMORY_MB is read there
from logkit.ingest.blocks import Block
from logkit.ingest.commit import COMMIT_ROWS, ROW_GROUP_ROWS, Committer
from logkit.session import WRITER_CONFIG

from .helpers import LOGKIT, lines, query, run_logkit, write
from .test_faults import digest, run_killed_when
from .test_interrupt import reading_stdin
from .test_memory import SMALL_MB, long_lines, out_of_memory  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

# One transaction's worth, and a second that fills a row group but not COMMIT_ROWS: it
# commits only at the end, ~60k lines after its row group has gone to the store file.
LINES = COMMIT_ROWS + 180_000
BLOCK = "[ingest]\nbatch_bytes = 32768\n"  # many blocks per transaction in a few MB


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("logs") / "app.log", lines(0, LINES))


@pytest.fixture(scope="module")
def clean(log: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    db = tmp_path_factory.mktemp("clean") / "s.duckdb"
    run_logkit("ingest", "-q", str(log), db=db)
    return digest(db)


def killed(db: Path, log: Path, kill: Callable[[int | None], bool], jitter: float = 0.0) -> int:
    """Events in the store after a run killed when `kill` says (opening it replays the WAL),
    checked against the checkpoint: every line is an event, so they cover the same lines."""
    status = run_killed_when([*LOGKIT, "--db", str(db), "ingest", "-q", str(log)],
                             db.with_name(db.name + ".wal"), kill, jitter)  # fmt: skip
    assert status == -9, "the run ended before it was killed: the test proves nothing"
    con = duckdb.connect(str(db), read_only=True)
    try:
        [(events,)] = con.execute("SELECT count(*) FROM events").fetchall()
        [(checkpoint,)] = con.execute("SELECT lines FROM sources").fetchall()
    finally:
        con.close()
    assert checkpoint == events
    return events


def test_a_transaction_of_row_groups_leaves_its_rows_in_the_store_file_not_the_wal(
    tmp_path, log, clean
):
    """Killed once its first transaction has committed: the WAL is a fraction of the rows it
    commits (it says where they are in the store file), reopening the store finds them all,
    and a rerun stores the rest exactly once."""
    db = tmp_path / "s.duckdb"
    # Killed a tenth of a second after the WAL appears: its commit has landed (not cut
    # mid-write), and the next is ~180k lines away.
    events = killed(db, log, bool, jitter=0.1)
    wal_bytes = db.with_name(db.name + ".wal").stat().st_size
    assert COMMIT_ROWS <= events < LINES
    # The rows as the WAL would log them take ~100 bytes each.
    assert wal_bytes < events * 5, f"{wal_bytes:,} bytes of WAL for {events:,} rows"
    run_logkit("ingest", "-q", str(log), db=db)
    assert digest(db) == clean


def test_a_kill_after_a_transaction_wrote_a_row_group_loses_it_and_the_rerun_stores_it_once(
    tmp_path, log, clean
):
    """Killed once the second transaction has written a row group to the store file, before
    it commits: those rows are not in the store (the file's new blocks belong to nothing), and
    a rerun stores them exactly once."""
    db = tmp_path / "s.duckdb"
    committed: list[int] = []  # the store file's size once the first transaction committed

    def kill(wal: int | None) -> bool:
        if not wal:
            return False
        size = db.stat().st_size
        if not committed:
            committed.append(size)
        return size > committed[0] + (1 << 20)

    events = killed(db, log, kill)
    assert COMMIT_ROWS <= events < COMMIT_ROWS + ROW_GROUP_ROWS
    run_logkit("ingest", "-q", str(log), db=db)
    assert digest(db) == clean


def _commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The events each transaction of an in-process run commits, as they commit."""
    committed: list[int] = []
    flush = Committer.flush

    def counted(self: Committer) -> None:
        if self.added:
            committed.append(self.events)
        flush(self)

    monkeypatch.setattr(Committer, "flush", counted)
    return committed


def test_a_files_last_rows_short_of_a_row_group_commit_with_the_transaction_before_them(
    tmp_path, monkeypatch
):
    """Committed alone, the rows that end a file (fewer than a row group) went through the WAL
    and were written again by the run's last checkpoint; held with the transaction before
    them, they go to the store file once, in one commit."""
    committed = _commits(monkeypatch)
    log = write(tmp_path / "app.log", lines(0, COMMIT_ROWS + 60_000))
    summary = logkit.open(tmp_path / "s.duckdb").ingest([str(log)])
    assert summary.events == COMMIT_ROWS + 60_000
    assert committed == [COMMIT_ROWS + 60_000]


def test_a_file_with_a_row_group_or_more_left_commits_at_the_usual_size(
    tmp_path, monkeypatch, log, clean
):
    """Only the last rows wait: where a row group or more of the file is still to come, the
    transaction commits once it fills a row group and half the next, as always."""
    committed = _commits(monkeypatch)
    logkit.open(tmp_path / "s.duckdb").ingest([str(log)])
    assert len(committed) == 2 and sum(committed) == LINES
    assert COMMIT_ROWS <= committed[0] < COMMIT_ROWS + ROW_GROUP_ROWS // 2
    assert digest(tmp_path / "s.duckdb") == clean


def test_the_rows_left_are_known_only_for_a_plain_file_within_its_size(tmp_path):
    """What decides that a file's last rows wait: the rest of a plain file at the rows a byte
    read so far; not known for a stream, nor for a file read past the size it had when opened
    (it grows as it is read: its commits stay as usual, not held to the 10 s limit)."""
    plain = ingest_module.src.Source(str(write(tmp_path / "app.log", b"x\n" * 1000)))
    compressed = ingest_module.src.Source(str(write(tmp_path / "app.log.gz", b"x\n" * 1000)))
    try:
        block = Block(b"", 1, 0, [], 401, 800, b"")
        assert commit_module._rows_left(plain, block, 400, 800) == 600
        assert commit_module._rows_left(plain, block, 200, 800) == 300
        assert commit_module._rows_left(compressed, block, 400, 800) is None
        grown = Block(b"", 1, 0, [], 1_101, 2_200, b"")
        assert commit_module._rows_left(plain, grown, 1_100, 2_200) is None
        end = Block(b"", 1, 0, [], 1_001, 2_000, b"")
        assert commit_module._rows_left(plain, end, 1_000, 2_000) == 0
    finally:
        plain.close()
        compressed.close()


def _send(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def test_a_reader_gets_in_after_the_next_block_not_at_the_end_of_the_transaction(tmp_path):
    """A run with a transaction open (and set never to commit by time) reads a pipe that
    stalls; a reader comes, then one more block: the run commits what it holds and steps
    aside, and the reader sees those rows while the run is still going."""
    (tmp_path / "logkit.toml").write_text(BLOCK)
    db = tmp_path / "s.duckdb"
    first, second, rest = lines(0, 20_000), lines(20_000, 21_000), lines(21_000, 30_000)
    script = (
        "import sys\n"
        "import logkit.ingest.commit as commit\n"
        "commit.COMMIT_SECONDS = 3600.0\n"
        "from logkit.cli import main\n"
        "sys.argv[0] = 'logkit'\n"
        "main()\n"
    )
    stdin, feed = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "--db", str(db), "--config", str(tmp_path / "logkit.toml"),
         "ingest", "-q", "--name", "app", "-"],
        stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    os.close(stdin)
    seen: list[tuple[int, bool]] = []

    def read() -> None:
        with logkit.open(db).reader() as con:
            [(events,)] = con.execute("SELECT count(*) FROM events").fetchall()
            seen.append((events, proc.poll() is None))

    reader = threading.Thread(target=read, daemon=True)
    try:
        _send(feed, first)
        deadline = time.monotonic() + 60
        while not (db.exists() and reading_stdin(proc.pid)):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.05)
        reader.start()
        while not locks.readers_waiting(db):
            assert reader.is_alive() and time.monotonic() < deadline
            time.sleep(0.01)
        _send(feed, second)  # the block that lets the reader in
        reader.join(timeout=30)
        _send(feed, rest)
    finally:
        os.close(feed)
        _, err = proc.communicate(timeout=120)
        reader.join(timeout=60)
    assert proc.returncode == 0, err.decode()
    [(events, running)] = seen
    assert running, "the reader got in only once the run had ended"
    assert 19_000 <= events < 30_000
    assert query(db, "SELECT count(*) FROM events") == [(30_000,)]


def _spooled(monkeypatch) -> list[int]:
    """Rows each spool write is given, from now on."""
    seen: list[int] = []
    write = commit_module._Spool.write

    def recording(self, table: Any) -> None:
        seen.append(table.num_rows)
        write(self, table)

    monkeypatch.setattr(commit_module._Spool, "write", recording)
    return seen


def test_a_transaction_out_of_memory_is_stored_again_whole_from_its_file(
    tmp_path,
    monkeypatch,
    out_of_memory,  # noqa: F811 (the fixture)
):
    """DuckDB refuses a block at a small memory limit, rolling back the transaction and the
    blocks before it: all of them, events and rejects, are made again from the file (no
    spool) and stored with more memory, each once, with the checkpoint that covers them."""
    monkeypatch.setattr(ingest_module, "INGEST_MEMORY_MB", SMALL_MB)
    spooled = _spooled(monkeypatch)
    (tmp_path / "logkit.toml").write_text(BLOCK)
    log = write(tmp_path / "app.log", lines(0, 2_000) + b"not json\n" + long_lines(3, 6 << 20))
    store = logkit.open(tmp_path / "s.duckdb", config_path=tmp_path / "logkit.toml")
    summary = store.ingest([str(log)])
    assert out_of_memory, f"no write ran out of memory at {SMALL_MB} MB: the test proves nothing"
    assert spooled == [], "a plain file's rows went to the spool"
    assert (summary.events, summary.rejects) == (2_006, 1)
    assert query(store.path, "SELECT count(*), count(DISTINCT line) FROM events") == [(2_006,) * 2]
    assert query(store.path, "SELECT line, reason FROM rejects") == [(2_001, "not_json")]
    assert query(store.path, "SELECT lines, events, rejects FROM sources") == [(2_007, 2_006, 1)]
    assert store.ingest([str(log)]).events == 0


def test_a_compressed_transaction_out_of_memory_is_stored_again_from_its_spool(
    tmp_path,
    monkeypatch,
    out_of_memory,  # noqa: F811 (the fixture)
):
    """A stream that cannot be read again by offset (compressed here; stdin alike) keeps its
    transaction's rows in the spool, and a refused transaction is stored again from there."""
    monkeypatch.setattr(ingest_module, "INGEST_MEMORY_MB", SMALL_MB)
    spooled = _spooled(monkeypatch)
    (tmp_path / "logkit.toml").write_text(BLOCK)
    data = lines(0, 2_000) + b"not json\n" + long_lines(3, 6 << 20)
    log = tmp_path / "app.log.gz"
    log.write_bytes(gzip.compress(data, compresslevel=1))
    store = logkit.open(tmp_path / "s.duckdb", config_path=tmp_path / "logkit.toml")
    summary = store.ingest([str(log)])
    assert out_of_memory, f"no write ran out of memory at {SMALL_MB} MB: the test proves nothing"
    assert sum(spooled) == 2_007
    assert (summary.events, summary.rejects) == (2_006, 1)
    assert query(store.path, "SELECT count(*), count(DISTINCT line) FROM events") == [(2_006,) * 2]
    assert query(store.path, "SELECT line, reason FROM rejects") == [(2_001, "not_json")]


def test_a_refused_transaction_whose_file_changed_since_is_a_clear_error_and_stores_nothing(
    tmp_path,
):
    """Made again from a file truncated since its blocks were read, a refused transaction
    cannot be stored whole: the run stops with the store's error and stores none of it, nor
    its checkpoint, so the next run reads those lines again (from the rotated copy)."""
    log = write(tmp_path / "app.log", lines(0, 100))
    source = ingest_module.src.Source(str(log))
    reread = source.rereader()
    source.close()
    core = Core(stream=True)
    data = log.read_bytes()
    result = core.process_chunk("app.log", data, 1, 0, stream=1)
    block = Block(b"", 1, 0, [], 100, len(data), b"")
    block.remake = lambda in_key: ingest_module._remake(
        core, reread, "app.log", 1, len(data), 1, 0, [], in_key
    )
    with logkit.open(tmp_path / "s.duckdb").writer() as session:
        committer = Committer(session)
        committer.add(None, result, block)
        log.write_bytes(data[:-50])  # copytruncate, and the writer goes on in the copy
        # As DuckDB refusing the next block does: the transaction rolled back, to be redone.
        committer.abort(StoreOutOfMemory("refused"))
        committer.failed = True
        with pytest.raises(StoreWriteError, match="truncated while it was being stored"):
            committer.flush()
        committer.close()
    assert query(tmp_path / "s.duckdb", "SELECT count(*) FROM events") == [(0,)]


def test_a_transaction_over_many_files_holds_few_descriptors_and_none_after(tmp_path, monkeypatch):
    """Each plain file of an open transaction keeps a descriptor for a retry until the commit;
    beyond Reread.MAX_OPEN of them, the files' rows go to the spool instead (a directory of
    small files would otherwise exhaust the process's descriptors), and the run leaves none
    open."""
    # Another test's transaction may still hold one, in a reference cycle (a traceback's
    # frames) that the collector frees at any moment, this test's run too: free it first.
    gc.collect()
    before = ingest_module.src.Reread._open
    monkeypatch.setattr(ingest_module.src.Reread, "MAX_OPEN", before + 2)
    spooled = _spooled(monkeypatch)
    held: list[int] = []
    book = Committer._book

    def counting(self, cur, result, block) -> None:
        held.append(ingest_module.src.Reread._open)
        book(self, cur, result, block)

    monkeypatch.setattr(Committer, "_book", counting)
    logs = tmp_path / "logs"
    for n in range(6):
        write(logs / f"job-{n}.log", lines(n * 10, n * 10 + 10))
    summary = logkit.open(tmp_path / "s.duckdb").ingest([str(logs)])
    assert summary.events == 60
    assert max(held) == before + 2, "more descriptors held than MAX_OPEN"
    assert sum(spooled) == 40  # the four files beyond the first two, in the one transaction
    assert ingest_module.src.Reread._open == before
    assert query(tmp_path / "s.duckdb", "SELECT count(DISTINCT line || source) FROM events") == [
        (60,)
    ]


def test_a_file_read_again_gives_its_bytes_only_while_it_still_holds_them(tmp_path):
    """What a refused transaction is made again from: the file's bytes at each block's
    offset, checked as the reader checks them (still as long, the same head)."""
    log = write(tmp_path / "app.log", lines(0, 50))
    data = log.read_bytes()
    source = ingest_module.src.Source(str(log))
    reread = source.rereader()
    source.close()  # the run closes its sources; the transaction's blocks outlive them
    assert reread.read(100, 200) == data[100:300]
    log.write_bytes(b"x" + data[1:])  # rewritten in place: another head
    with pytest.raises(InputError, match="rewritten"):
        reread.read(100, 200)
    log.write_bytes(data[:250])
    with pytest.raises(InputError, match="truncated"):
        reread.read(100, 200)


def test_a_cleared_spool_gives_back_only_what_was_written_after(tmp_path):
    """The spool is written over from its start by the next transaction, not truncated: a
    retry reads back that transaction's tables, never the longer last one's left beyond them."""
    spool = commit_module._Spool(tmp_path / "s.duckdb")
    long = pa.table({"line": list(range(10_000)), "text": ["x" * 40] * 10_000})
    short = pa.table({"line": [7, 8], "text": ["a", "b"]})
    for _ in range(3):
        spool.write(long)
    spool.clear()
    spool.write(short)
    spool.write(short)
    try:
        assert [t.to_pylist() for t in spool.tables()] == [short.to_pylist()] * 2
    finally:
        spool.close()


def test_a_spool_write_that_fails_is_the_store_s_clear_error_at_the_next_call(tmp_path):
    """The spool writes on a thread of its own: a full disk there is raised, as the one clear
    error, by the next thing the run asks of the spool, never lost."""
    spool = commit_module._Spool(tmp_path / "s.duckdb")
    full = open("/dev/full", "wb", buffering=0)  # noqa: SIM115  (every write: ENOSPC)
    spool.file, spool.sink = full, pa.PythonFile(full, mode="w")
    try:
        spool.write(pa.table({"line": [1, 2, 3]}))
        with pytest.raises(StoreWriteError, match="disk full; free some space and rerun"):
            spool.settle()
        with pytest.raises(StoreWriteError, match="disk full"):
            spool.write(pa.table({"line": [4]}))
    finally:
        spool.close()


def test_a_spool_closes_even_when_its_thread_missed_the_wake_up(tmp_path):
    """Ctrl-C raises in the main thread wherever it is, inside a queue's own code too, and can
    leave an item queued without the wake-up that goes with it: closing must not wait for a
    wake-up that never comes (a run stopped by Ctrl-C once hung here in CI)."""
    spool = commit_module._Spool(tmp_path / "s.duckdb")
    time.sleep(0.2)  # the thread waits for a table
    spool.pending.not_empty.notify = lambda n=1: None  # every wake-up from now on is lost
    closing = threading.Thread(target=spool.close, daemon=True)
    closing.start()
    closing.join(timeout=10)
    assert not closing.is_alive()
    assert not spool.writer.is_alive()


def test_a_transaction_holds_none_of_the_blocks_it_has_stored(tmp_path):
    """Blocks inserted into the open transaction are DuckDB's: the committer keeps only their
    trace spans (tables of their own, 12 bytes a row), not the blocks until the commit. (A
    view registered for each insert kept its table until DuckDB cleaned its catalog after the
    commit, and the spans selected from a block kept the whole block: a transaction's worth,
    ~70 MB.)"""
    core = Core(stream=True)
    data = lines(0, 2_000) + b"not json: %s\n" % (b"x" * 200) * 500
    blocks = 8
    tables: list[weakref.ref[object]] = []
    with logkit.open(tmp_path / "s.duckdb").writer() as session:
        committer = Committer(session)
        for n in range(blocks):
            result = core.process_chunk("app.log", data, n * 2_500 + 1, n * len(data))
            assert result.events.num_rows and result.rejects.num_rows
            tables += [weakref.ref(result.events), weakref.ref(result.rejects)]
            committer.add(None, result, Block(b"", 1, 0, [], 2_500, len(data), b""))
            del result
        assert committer.spool is not None
        committer.spool.settle()  # the spool's thread holds a block only until it is written
        gc.collect()
        # DuckDB keeps what its last statement scanned until the next one: the last block's.
        held = sum(table() is not None for table in tables[:-2])
        committer.flush()
        committer.close()
    assert held == 0, f"{held} of the {len(tables) - 2} earlier tables held before the commit"
    with duckdb.connect(str(tmp_path / "s.duckdb"), read_only=True) as con:
        stored = "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM rejects)"
        assert con.execute(stored).fetchone() == (blocks * 2_000, blocks * 500)


def test_ingest_inserts_on_one_duckdb_thread_and_gives_the_session_its_threads_back(
    tmp_path, monkeypatch
):
    """DuckDB spread a block's INSERT over two threads for more CPU and no less time, its
    second thread taking a core from the native core: ingest writes on one
    (INGEST_DUCKDB_THREADS), and the session's later writes have their threads back."""
    seen: list[int] = []
    insert = commit_module._insert

    def recording(con, events, rejects):
        [(threads,)] = con.execute("SELECT current_setting('threads')").fetchall()
        seen.append(threads)
        insert(con, events, rejects)

    monkeypatch.setattr(commit_module, "_insert", recording)
    log = write(tmp_path / "a.log", lines(0, 500))
    with logkit.open(tmp_path / "s.duckdb").writer() as session:
        ingest_module.ingest(session, [str(log)])
        after = session.con.execute("SELECT current_setting('threads')").fetchall()
    assert seen and set(seen) == {1}
    assert after == [(WRITER_CONFIG["threads"],)]


def _parsed_blocks(count: int, rejected: int = 0) -> list[tuple[None, object, Block]]:
    """`count` blocks of 1,000 lines (and `rejected` lines that are not JSON), parsed."""
    core = Core(stream=True)
    out = []
    for n in range(count):
        data = lines(n * 1_000, n * 1_000 + 1_000) + b"not json\n" * rejected
        first = n * (1_000 + rejected) + 1
        result = core.process_chunk("app.log", data, first, n * len(data))
        out.append((None, result, Block(b"", first, 0, [], first + 1_000 + rejected, 0, b"")))
    return out


def test_a_transactions_blocks_go_in_through_one_insert_in_order_rejects_after(
    tmp_path, monkeypatch
):
    """A statement a block cost ~0.3 CPU s per 1M lines on the thread that stores: the
    blocks a transaction takes go through one INSERT, which reads them as they come, and
    their rejected lines after it, every row stored once, in the order read."""
    statements: list[str] = []
    insert = commit_module._insert

    def recording(con, events, rejects) -> None:
        statements.append("events" if events is not None else "rejects")
        insert(con, events, rejects)

    monkeypatch.setattr(commit_module, "_insert", recording)
    with logkit.open(tmp_path / "s.duckdb").writer() as session:
        committer = Committer(session)
        committer.store(iter(_parsed_blocks(6, rejected=2)))
        committer.close()
    assert statements == ["events"] + ["rejects"] * 6
    events = query(tmp_path / "s.duckdb", "SELECT line FROM events ORDER BY rowid")
    assert [line for (line,) in events] == [
        n * 1_002 + 1 + k for n in range(6) for k in range(1_000)
    ]
    assert query(tmp_path / "s.duckdb", "SELECT count(*) FROM rejects") == [(12,)]


def test_an_error_while_the_insert_reads_the_blocks_is_raised_as_itself_storing_nothing(
    tmp_path,
):
    """The run's reading happens inside DuckDB's INSERT (it pulls the blocks): a file that
    cannot be read, or Ctrl-C, stops it with its own error, not DuckDB's report of it, and
    the transaction is rolled back."""
    blocks = _parsed_blocks(3)

    def failing():
        yield from blocks[:2]
        raise InputError("app.log: cannot read")

    with logkit.open(tmp_path / "s.duckdb").writer() as session:
        committer = Committer(session)
        records = failing()
        with pytest.raises(InputError, match="cannot read"):
            try:
                committer.store(records)
            except BaseException as exc:
                committer.abort(exc)
                raise
        committer.close()
    assert query(tmp_path / "s.duckdb", "SELECT count(*) FROM events") == [(0,)]
