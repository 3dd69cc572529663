"""DuckDB's memory: ingest runs under a small limit, and the rare write that needs more (long
lines, the checkpoint of their row group) gets more for that write only, stored exactly once.

Real stores and real out-of-memory errors: the limit is lowered until DuckDB refuses, never
simulated.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import logkit
from logkit import session as session_module
from logkit.errors import StoreOutOfMemory
from logkit.ingest import run as ingest_module  # INGEST_MEMORY_MB is read there

from .helpers import lines, query, write

SMALL_MB = 24  # below what a checkpoint of three 6 MB strings needs


@pytest.fixture
def out_of_memory(monkeypatch) -> list[StoreOutOfMemory]:
    """Every out-of-memory error DuckDB raised during the test, retried or not."""
    seen: list[StoreOutOfMemory] = []
    make = session_module.write_error

    def recording(path: Path, exc: Exception):
        error = make(path, exc)
        if isinstance(error, StoreOutOfMemory):
            seen.append(error)
        return error

    monkeypatch.setattr(session_module, "write_error", recording)
    return seen


def long_lines(count: int, size: int) -> bytes:
    """Lines with `size` bytes of random hex each: nothing for DuckDB to compress away."""
    return b"".join(
        lines(n, n + 1, blob=os.urandom(size // 2).hex()) + lines(100 + n, 101 + n)
        for n in range(count)
    )


def memory_limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_long_lines_beyond_the_memory_limit_are_stored_exactly_once(
    tmp_path, monkeypatch, out_of_memory
):
    """DuckDB refuses at the small limit; the write is retried with more and lands once."""
    monkeypatch.setattr(ingest_module, "INGEST_MEMORY_MB", SMALL_MB)
    log = write(tmp_path / "big.log", long_lines(3, 6 * 1024 * 1024))
    store = logkit.open(tmp_path / "s.duckdb")
    summary = store.ingest([str(log)])
    assert out_of_memory, f"no write ran out of memory at {SMALL_MB} MB: the test proves nothing"
    assert (summary.events, summary.rejects) == (6, 0)
    assert query(store.path, "SELECT count(*), count(DISTINCT line) FROM events") == [(6, 6)]
    assert query(store.path, "SELECT lines, events FROM sources") == [(6, 6)]
    assert query(store.path, "SELECT value FROM counters WHERE name = 'lines'") == [(6,)]
    assert store.ingest([str(log)]).events == 0


def test_ingest_checkpoints_before_it_returns(tmp_path):
    """Nothing is left in the WAL for a reader (or the next writer) to replay; and it is
    logkit's own checkpoint that empties it (looked at before the connection closes, on which
    DuckDB would checkpoint anyway), since DuckDB's automatic one is off while ingesting."""
    log = write(tmp_path / "a.log", lines(0, 500))
    store = logkit.open(tmp_path / "s.duckdb")
    wal = Path(f"{store.path}.wal")
    with store.writer() as session:
        ingest_module.ingest(session, [str(log)])
        assert not wal.exists() or wal.stat().st_size == 0
    assert not wal.exists() or wal.stat().st_size == 0


# A writer that dies with rows in the WAL: DuckDB's checkpoints off, and none on the way out.
_DIE_WITH_A_WAL = """
import os, sys, duckdb
con = duckdb.connect(sys.argv[1], config={"checkpoint_threshold": "1TB"})
for n in range(4):
    con.execute(
        "INSERT INTO rejects (source, line, byte_offset, reason, raw) VALUES ('x', ?, 0, 't', ?)",
        [n, os.urandom(6 * 1024 * 1024).hex()],
    )
os._exit(0)
"""


def test_a_wal_too_big_to_replay_within_the_limit_is_replayed_with_more(tmp_path, out_of_memory):
    """Connecting replays the WAL a killed writer left; short of memory for that, the session
    connects again with twice as much, then checkpoints."""
    store = logkit.open(tmp_path / "s.duckdb")
    with store.writer() as session:
        session.checkpoint()  # creates the store
    subprocess.run([sys.executable, "-c", _DIE_WITH_A_WAL, str(store.path)], check=True)
    wal = Path(f"{store.path}.wal")
    assert wal.stat().st_size > 40 * 1024 * 1024
    with store.writer() as session, session.memory_limit(16):
        session.checkpoint()
        assert any("replaying WAL" in str(error) for error in out_of_memory), (
            f"the WAL replayed within 16 MB: the test proves nothing ({out_of_memory})"
        )
        assert session.con.execute("SELECT count(*) FROM rejects").fetchone() == (4,)
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_checkpoint_out_of_memory_reconnects_with_more_and_restores_the_limit(
    tmp_path, out_of_memory
):
    """DuckDB gives up on the database after a failed checkpoint; the WAL is whole, so the
    session reopens it (replaying the WAL) with twice the memory and checkpoints again."""
    store = logkit.open(tmp_path / "s.duckdb")
    blob = os.urandom(6 * 1024 * 1024).hex()  # 4 x 12 MB in the WAL
    with store.writer() as session, session.manual_checkpoints(1 << 40):
        for n in range(4):
            with session.transaction() as con:
                con.execute(
                    "INSERT INTO rejects (source, line, byte_offset, reason, raw)"
                    " VALUES ('x', $n, 0, 'test', $raw)",
                    {"n": n, "raw": blob},
                )
        with session.memory_limit(SMALL_MB):
            small = memory_limit(session.con)
            session.checkpoint()
            assert out_of_memory and out_of_memory[0].invalidated
            assert memory_limit(session.con) == small
        assert session.con.execute("SELECT count(*) FROM rejects").fetchone() == (4,)
    wal = Path(f"{store.path}.wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert query(store.path, "SELECT count(*), min(length(raw)) FROM rejects") == [(4, len(blob))]


def test_a_write_that_never_fits_is_a_clear_error_and_the_rerun_completes(tmp_path, monkeypatch):
    """No more doublings allowed: the run stops with a message naming memory, the store
    still opens, and a rerun with room stores everything once."""
    monkeypatch.setattr(ingest_module, "INGEST_MEMORY_MB", SMALL_MB)
    monkeypatch.setattr(session_module, "MEMORY_DOUBLINGS", 0)
    log = write(tmp_path / "big.log", long_lines(3, 6 * 1024 * 1024))
    store = logkit.open(tmp_path / "s.duckdb")
    with pytest.raises(StoreOutOfMemory, match="out of memory"):
        store.ingest([str(log)])
    monkeypatch.undo()
    stored = count_events(store)  # the transactions before the one that did not fit
    assert stored < 6
    assert stored + store.ingest([str(log)]).events == 6
    assert query(store.path, "SELECT count(*), count(DISTINCT line) FROM events") == [(6, 6)]


def count_events(store: logkit.Store) -> int:
    return query(store.path, "SELECT count(*) FROM events")[0][0]


def test_a_block_cache_lasts_until_the_connection_closes_and_its_end_raises_nothing(tmp_path):
    """DuckDB cannot lower `block_allocator_memory` (ingest's block cache): leaving the block
    keeps the cache on the open connection without an error; a new connection has none."""
    store = logkit.open(tmp_path / "s.duckdb")

    def cache(con) -> str:
        return con.execute("SELECT current_setting('block_allocator_memory')").fetchone()[0]

    with store.writer() as session:
        none = cache(session.con)
        with session.block_cache(64):
            during = cache(session.con)
            session.close()  # a reconnection (stepping aside, an error) keeps the setting
            assert cache(session.con) == during
        assert cache(session.con) == during
        session.close()
        assert cache(session.con) == none
    assert (none, during) == ("0 bytes", "61.0 MiB")
