"""The store's connections: the writer's `WriteSession`, and the read-only connection.

The layer under `Store` (logkit/store.py). An ingest, an export or an archive writes through a
`WriteSession`: it holds the writer lock for the run, connects lazily, commits in batches under
a small memory limit (a write that runs out is rolled back and run again with more), checkpoints
when told to, and steps aside for readers between batches (see logkit/locks.py). The modules
that write see it through logkit/handles.py's `Session`. A new store file is built here too,
whole or not at all.
"""

from __future__ import annotations

import contextlib
import glob
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from . import durable, locks, migrations
from .engine import connect, damaged_hint, duckdb, write_error
from .errors import LogkitError, StoreOutOfMemory, StoreWriteError
from .handles import StoreFiles

T = TypeVar("T")

READ_WAIT_SECONDS = 60.0
# Enough for DuckDB to sort and aggregate comfortably while keeping logkit's peak RSS bounded
# whatever the input size.
WRITER_MEMORY_MB = 160
WRITER_CONFIG = {"memory_limit": f"{WRITER_MEMORY_MB}MB", "threads": 2}
# DuckDB refuses work beyond its memory limit. A write that ran out is rolled back and run
# again with twice the memory, at most this many times (64 MB grows to 1 GB at most): rare
# writes (a run of 15 MB lines, a checkpoint of their row group) get what they need, while
# everyday ones keep the small limit that bounds logkit's RSS.
MEMORY_DOUBLINGS = 4
# With manual checkpoints DuckDB must never checkpoint by itself (a checkpoint it starts
# inside a COMMIT and fails invalidates the database with the transaction already durable).
_NEVER = "1TB"


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    # DuckDB draws a progress bar on long statements; logkit has its own, and cron has none.
    # Inside Jupyter DuckDB refuses the setting (it wants ipywidgets); no bar is drawn there.
    with contextlib.suppress(duckdb.InvalidInputException):
        con.execute("SET enable_progress_bar = false")
    return con


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set" in text)


def _connect_waiting(
    path: Path, deadline: float, *, lean: bool = False, **kwargs: object
) -> duckdb.DuckDBPyConnection:
    """`connect`, trying again while another process has the file (it is brief) until
    `deadline` (time.monotonic()); any other error, or one past the deadline, is raised."""
    while True:
        try:
            return _quiet(connect(str(path), lean=lean, **kwargs))
        except duckdb.IOException as exc:
            if _is_lock_conflict(exc) and time.monotonic() < deadline:
                time.sleep(0.02)
                continue
            raise


def read_only(path: Path, *, lean: bool, wait: float) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the store at `path`, waiting while a writer has it."""
    deadline = time.monotonic() + max(READ_WAIT_SECONDS, wait)
    try:
        return _connect_waiting(path, deadline, lean=lean, read_only=True)
    except duckdb.Error as exc:  # the file's (IOException), or its contents' (a checksum)
        raise LogkitError(f"cannot open {path}: {exc}{damaged_hint(exc)}") from exc


def _create(path: Path) -> None:
    """Build a new store beside `path` and rename it into place once complete.

    DuckDB writes a new file's header in several steps; a run killed among them would leave a
    file no later run can open. Built under a temporary name, the store at `path` is either
    absent or whole. Called with the writer lock held, so a leftover temporary file is a
    killed run's and is removed.
    """
    for stale in path.parent.glob(f".{glob.escape(path.name)}.creating-*"):
        stale.unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.creating-{os.getpid()}")
    try:
        con = connect(str(tmp), lean=True, config=WRITER_CONFIG)  # SQL alone
        try:
            migrations.migrate(con, str(path))
            con.execute("CHECKPOINT")
        finally:
            con.close()
        durable.replace(tmp, path)
    except (duckdb.Error, OSError) as exc:
        raise write_error(path, exc) from exc
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)


def _is_there(path: Path) -> bool:
    """Whether the store at `path` exists: an empty file (`mktemp`'s) is no database yet,
    and becomes the store as a missing one does."""
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def _connect_rw(path: Path, settings: dict[str, str], lean: bool) -> duckdb.DuckDBPyConnection:
    # Created owner-only, and so is the WAL DuckDB creates beside it later: the umask stays
    # tight for the whole write session (see `writing`).
    if not _is_there(path):
        _create(path)
    deadline = time.monotonic() + READ_WAIT_SECONDS
    try:
        con = _connect_waiting(path, deadline, lean=lean, config={**WRITER_CONFIG, **settings})
    except duckdb.Error as exc:  # replaying the WAL may also run out of memory
        raise write_error(path, exc) from exc
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)
    try:
        migrations.migrate(con, str(path))
    except duckdb.Error as exc:
        con.close()
        raise write_error(path, exc) from exc
    except LogkitError:
        con.close()
        raise
    return con


@contextlib.contextmanager
def writing(store: StoreFiles, wait: float, *, lean: bool = False) -> Iterator[WriteSession]:
    """Hold `store` for writing for the duration of the block (`Store.writer`); `lean`: the
    session's connection is `engine.connect`'s lean one."""
    store.path.parent.mkdir(parents=True, exist_ok=True)
    old_umask = os.umask(0o077)
    lock = locks.WriterLock(store.path)
    try:
        lock.acquire(wait)
        session = WriteSession(store, lean=lean)
        try:
            yield session
        finally:
            session.close()
    finally:
        lock.release()
        os.umask(old_umask)


class WriteSession:
    """A writer's hold on the store for one run: lazy connection, batched commits."""

    def __init__(self, store: StoreFiles, *, lean: bool = False) -> None:
        self.store = store
        self.lean = lean
        self._con: duckdb.DuckDBPyConnection | None = None
        self._memory_mb = WRITER_MEMORY_MB
        self._threads = WRITER_CONFIG["threads"]
        self._block_cache_mb = 0
        self._checkpoint_wal: int | None = None  # manual checkpoints at this WAL size

    def _settings(self) -> dict[str, str]:
        settings = {"memory_limit": f"{self._memory_mb}MB", "threads": str(self._threads)}
        if self._checkpoint_wal is not None:
            settings["checkpoint_threshold"] = _NEVER
        if self._block_cache_mb:
            settings["block_allocator_memory"] = f"{self._block_cache_mb}MB"
        return settings

    @property
    def exists(self) -> bool:
        """Whether the store is there (else the first connection makes it: `_connect_rw`)."""
        return self._con is not None or _is_there(self.store.path)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            # Given at connect, the settings also govern replaying the WAL.
            self._con = _connect_rw(self.store.path, self._settings(), self.lean)
        return self._con

    def _apply(self) -> None:
        if self._con is not None:
            for name, value in self._settings().items():
                # Lowering the limit fails while DuckDB cannot yet free that much; it is
                # applied again at the next connection.
                with contextlib.suppress(duckdb.Error):
                    self._con.execute(f"SET {name} = '{value}'")
            if self._checkpoint_wal is None:
                self._con.execute("RESET checkpoint_threshold")  # DuckDB's own again

    def memory_limit(self, mb: int) -> contextlib.AbstractContextManager[None]:
        """DuckDB's memory limit for a part of the session (kept across reconnections)."""
        return self._for_a_while("_memory_mb", mb)

    def threads(self, n: int) -> contextlib.AbstractContextManager[None]:
        """DuckDB's threads for a part of the session (kept across reconnections)."""
        return self._for_a_while("_threads", n)

    def block_cache(self, mb: int) -> contextlib.AbstractContextManager[None]:
        """Keep up to `mb` of DuckDB's freed blocks for reuse rather than hand them back to the
        system, for a part of the session. DuckDB cannot lower it again: the connection keeps
        it until it closes (a write session's ends with its command or `Store` call)."""
        return self._for_a_while("_block_cache_mb", mb)

    @contextlib.contextmanager
    def _for_a_while(self, attribute: str, value: int) -> Iterator[None]:
        previous = getattr(self, attribute)
        setattr(self, attribute, value)
        self._apply()
        try:
            yield
        finally:
            setattr(self, attribute, previous)
            self._apply()

    @contextlib.contextmanager
    def manual_checkpoints(self, wal_bytes: int) -> Iterator[None]:
        """Checkpoint when logkit says so: after a commit that brings the WAL to `wal_bytes`,
        and on leaving the block, each with room to grow its memory (see `checkpoint`; these
        are not `required`, as DuckDB's own are not)."""
        self._checkpoint_wal = wal_bytes
        self._apply()
        try:
            yield
            self.checkpoint(required=False)
        finally:
            self._checkpoint_wal = None
            self._apply()

    @contextlib.contextmanager
    def _more_memory(self) -> Iterator[Callable[[StoreWriteError], None]]:
        """Doubles the memory limit each time the callable is given an out-of-memory error
        (anything else, or one doubling too many, is raised); restores it on leaving."""
        base = self._memory_mb
        doublings = 0

        def grow(error: StoreWriteError) -> None:
            nonlocal doublings
            if not isinstance(error, StoreOutOfMemory) or doublings == MEMORY_DOUBLINGS:
                raise error
            doublings += 1
            self._memory_mb = base << doublings
            self._apply()

        try:
            yield grow
        finally:
            if self._memory_mb != base:
                self._memory_mb = base
                self._apply()

    def run(self, body: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`body(con)` in one transaction. If DuckDB runs out of memory, the transaction is
        rolled back and `body` runs again with more (so it must be safe to run twice)."""
        with self._more_memory() as grow:
            while True:
                try:
                    with self.transaction() as con:
                        return body(con)
                except StoreOutOfMemory as error:
                    if error.invalidated:
                        raise  # DuckDB cannot say whether the COMMIT landed: no retry
                    grow(error)

    def checkpoint(self, *, required: bool = True) -> None:
        """Write the WAL into the store file. A checkpoint that runs out of memory leaves
        DuckDB unusable but the WAL whole: reconnect, replaying it, with more memory.

        Not `required`: any other failure (a full disk) only closes the connection. The WAL
        keeps the committed work and the next connection replays it, as when DuckDB's own
        checkpoint on closing fails.
        """
        with self._more_memory() as grow:
            while True:
                error: StoreWriteError
                try:
                    self.con.execute("CHECKPOINT")
                    return
                except duckdb.Error as exc:
                    self.close()
                    error = write_error(self.store.path, exc)
                except StoreWriteError as exc:  # reconnecting (replaying the WAL) failed
                    error = exc
                if not (required or isinstance(error, StoreOutOfMemory)):
                    return
                grow(error)

    def _checkpoint_if_due(self) -> None:
        if self._checkpoint_wal is not None:
            try:
                wal = os.stat(f"{self.store.path}.wal").st_size
            except FileNotFoundError:
                return
            if wal >= self._checkpoint_wal:
                self.checkpoint(required=False)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One atomic unit: rows, checkpoints and counters commit together or not at all."""
        con = self.con
        try:
            con.execute("BEGIN TRANSACTION")
            yield con
            con.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            self.close()
            raise write_error(self.store.path, exc) from exc
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        try:
            self._checkpoint_if_due()
        except StoreOutOfMemory as error:
            # The transaction has landed: `run` must not take this for its own failure and
            # run it again.
            raise StoreWriteError(str(error)) from error
        self.step_aside_if_wanted()

    def step_aside_if_wanted(self) -> None:
        """Let waiting readers in: close, wait for them, reopen lazily on the next write."""
        if self._con is not None and locks.readers_waiting(self.store.path):
            self.close()
            locks.wait_for_readers(self.store.path)

    def close(self) -> None:
        if self._con is not None:
            with contextlib.suppress(duckdb.Error):
                self._con.close()
            self._con = None
