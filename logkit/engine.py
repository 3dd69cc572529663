"""DuckDB as logkit loads it: the engine first, the package around it only when needed.

`import duckdb` takes ~0.1 s, most of it Python that running SQL does not need:
importlib.metadata (for `duckdb.__version__`) and the relational API. The whole of
`logkit trace`, start-up included, has 0.25 s, so logkit imports the compiled module the
package is built on (`_duckdb`: connect, execute and fetch, the connection and exception
types; ~0.02 s) and loads the package only for a connection that may need its Python layer:
`con.sql()` and relations, scans of Arrow tables and polars frames, `.pl()`. The classes are the
same objects under either name, so `except engine.duckdb.IOException` catches what
`duckdb.IOException` names.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import StoreOutOfMemory, StoreWriteError

try:
    import _duckdb as duckdb
except ImportError:  # a DuckDB that no longer ships its engine under this name
    import duckdb  # type: ignore[no-redef]

__all__ = ["connect", "damaged_hint", "duckdb", "write_error"]


def connect(database: str, *, lean: bool = False, **kwargs: Any) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect`, with logkit's macros (logkit/macros.py); `lean` for a caller that
    only executes SQL and fetches rows."""
    if not lean:
        import duckdb as package  # noqa: F401  (sets up con.sql(), Arrow scans, .pl())
    from .macros import create_sql

    con = duckdb.connect(database, **kwargs)
    con.execute(create_sql())
    return con


def _is_out_of_memory(exc: Exception) -> bool:
    text = str(exc)
    # A failed checkpoint arrives as a FatalException whose text names the allocation.
    return isinstance(exc, duckdb.OutOfMemoryException) or any(
        words in text for words in ("failed to pin block", "Out of Memory", "could not allocate")
    )


# Below this much free space on the store's disk, a failed write is put down to the disk.
LOW_DISK_BYTES = 64 * 2**20


def _free_bytes(path: Path) -> int | None:
    try:
        st = os.statvfs(Path(path).parent)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def write_error(path: Path, exc: Exception) -> StoreWriteError:
    """DuckDB's (or the file system's) error on writing the store, as the store's error."""
    text = str(exc)
    if "Read-only" in text or "read-only" in text or "Permission denied" in text:
        return StoreWriteError(f"cannot write {path}: {text.splitlines()[0]}")
    full = "No space left" in text or "disk is full" in text.lower()
    # DuckDB caps its spill files by the disk's free space: a full disk can come back as a
    # block it could not offload, or as whatever failed first, with the disk nearly full.
    free = _free_bytes(path)
    low = free is not None and free < LOW_DISK_BYTES
    if full or low:
        # The space left when it is the store's disk that is full (a spool may be elsewhere).
        room = f" ({free / 2**20:.1f} MB free)" if low and free is not None else ""
        return StoreWriteError(f"cannot write {path}: disk full{room}; free some space and rerun")
    if _is_out_of_memory(exc):
        return StoreOutOfMemory(
            f"cannot write {path}: DuckDB ran out of memory: {text.splitlines()[0]}",
            invalidated=isinstance(exc, duckdb.FatalException),
        )
    return StoreWriteError(f"cannot write {path}: {text.splitlines()[0]}{damaged_hint(exc)}")


def damaged_hint(exc: Exception) -> str:
    """What to do about a store DuckDB finds damaged (its blocks' checksums are wrong)."""
    if "Corrupt database file" not in str(exc):
        return ""
    return (
        "; the store file is damaged: restore it from a copy, or ingest the logs again into a"
        " new store (--db)"
    )
