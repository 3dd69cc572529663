"""How writers and readers share one DuckDB file.

DuckDB lets one process open a file read-write, or any number open it read-only, never both.
logkit keeps the writer's hold short and makes queries wait rather than fail:

* `WriterLock` (an flock on `<store>.lock`) admits one writing logkit at a time for a whole run.
  The kernel drops it when its holder dies, SIGKILL included, so there are no stale locks.
* Readers take a shared flock on `<store>.readers` while they open the file and query it. The
  writer checks that lock after each commit (one non-blocking syscall): if a reader is waiting,
  it closes its connection, lets the readers through, then carries on. A writer therefore holds
  the file for at most one batch while someone wants to read.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import StoreLocked, StoreWriteError


def _open_lockfile(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)


class WriterLock:
    """Exclusive right to write the store, held for one run."""

    def __init__(self, store_path: Path) -> None:
        self.path = store_path.with_name(store_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self, wait: float = 0.0) -> None:
        try:
            fd = _open_lockfile(self.path)
        except OSError as exc:
            # A read-only file system or directory: say so, as a failed write to the store would.
            store = self.path.with_name(self.path.name.removesuffix(".lock"))
            raise StoreWriteError(f"cannot write {store}: {exc.strerror}") from exc
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                    os.close(fd)
                    hint = "retry later" if wait == 0 else f"still busy after {wait:g}s"
                    raise StoreLocked(
                        f"another logkit process (pid {holder}) is writing to "
                        f"{self.path.name.removesuffix('.lock')}; {hint}, or pass --wait SECONDS"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def readers_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".readers")


@contextlib.contextmanager
def reading(store_path: Path) -> Iterator[None]:
    """Announce a reader for as long as the block runs."""
    try:
        fd = _open_lockfile(readers_path(store_path))
    except OSError:
        # A read-only directory: nobody can be writing there either.
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def readers_waiting(store_path: Path) -> bool:
    """True when a reader holds or wants the store (the writer should step aside)."""
    try:
        fd = _open_lockfile(readers_path(store_path))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def wait_for_readers(store_path: Path) -> None:
    """Block until current readers are done; called with the store closed."""
    fd = _open_lockfile(readers_path(store_path))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    finally:
        os.close(fd)
