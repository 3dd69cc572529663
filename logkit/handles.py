"""What the modules below `Store` see of it: Protocols that `Store` and `WriteSession` satisfy.

The query, export, lake and ingest modules work on a store's connections, and store.py imports
them (its verbs delegate to them), so they cannot import store.py back without an import cycle.
Each takes the part of the store it uses, named here instead; mypy checks that `Store`
(logkit/store.py) and `WriteSession` (logkit/session.py) have it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from .config import Config
    from .engine import duckdb

T = TypeVar("T")


class StoreFiles(Protocol):
    """A store's file and settings: enough to find its key, its WAL, its config."""

    @property
    def path(self) -> Path: ...

    @property
    def config(self) -> Config: ...


class Readable(StoreFiles, Protocol):
    """A store the query modules answer from."""

    #: Answers as polars DataFrames (True) or as plain `Rows` (see logkit/query/reading.py).
    @property
    def frames(self) -> bool: ...

    #: A Parquet lake read together with the store, or None (see logkit/lake/).
    @property
    def lake(self) -> str | os.PathLike[str] | None: ...

    def reader(
        self, *, lean: bool = False, store_only: bool = False
    ) -> AbstractContextManager[duckdb.DuckDBPyConnection]: ...


class Session(Protocol):
    """A writer's hold on the store for one run (logkit/session.py's `WriteSession`)."""

    @property
    def store(self) -> StoreFiles: ...

    @property
    def exists(self) -> bool: ...

    @property
    def con(self) -> duckdb.DuckDBPyConnection: ...

    def transaction(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]: ...

    def run(self, body: Callable[[duckdb.DuckDBPyConnection], T]) -> T: ...

    def checkpoint(self, *, required: bool = True) -> None: ...

    def memory_limit(self, mb: int) -> AbstractContextManager[None]: ...

    def manual_checkpoints(self, wal_bytes: int) -> AbstractContextManager[None]: ...

    def threads(self, n: int) -> AbstractContextManager[None]: ...

    def block_cache(self, mb: int) -> AbstractContextManager[None]: ...

    def step_aside_if_wanted(self) -> None: ...

    def close(self) -> None: ...


class Writable(Readable, Protocol):
    """A store the export and lake modules write to."""

    def writer(self) -> AbstractContextManager[Session]: ...
