"""Stopping a run on SIGINT (Ctrl-C) or SIGTERM.

`logkit ingest` runs under `stop_on_signals()`: the first signal raises `Interrupted` in the
main thread, wherever it is (waiting for a worker, reading stdin, inside a DuckDB statement;
a block on the native core, which runs with the GIL released, first ends), so the transaction
under way rolls back, the worker pool (if any) ends and the run says what it had stored before
exiting 128 + the signal's number. DuckDB turns an exception raised inside a
statement into `RuntimeError('Query interrupted')`, so the signal is also kept here
(`received`) for the code that reports it. A second signal while the run winds down exits at
once, as a kill would; the store is safe from that too, only the summary is lost.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from types import FrameType

from .errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: list[int] = []
_deferring: list[bool] = []


def received() -> int | None:
    """The signal that stopped the run under `stop_on_signals()`, if one did."""
    return _received[0] if _received else None


def _handle(signum: int, _frame: FrameType | None) -> None:
    if _received:
        os._exit(128 + signum)
    _received.append(signum)
    if not _deferring:
        raise Interrupted(signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A signal that arrives in the block takes effect as it ends: for work that must not be
    cut in the middle, such as starting the worker pool (a worker half-sent its arguments
    would print a traceback, and a pool half-made has nobody to end it)."""
    _deferring.append(True)
    try:
        yield
    finally:
        _deferring.pop()
    if _received and not _deferring:
        raise Interrupted(_received[0])


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Interrupted` for the duration of the block."""
    _received.clear()
    previous = {signum: signal.signal(signum, _handle) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
