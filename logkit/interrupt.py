"""Stopping a run on SIGINT (Ctrl-C) or SIGTERM.

`logkit ingest` runs under `stop_on_signals()`: the first signal raises `Interrupted` in the
main thread, wherever it is (reading stdin, inside a DuckDB statement; a block on the native
core, which runs with the GIL released, first ends), so the transaction under way rolls back
and the run says what it had stored before exiting 128 + the signal's number. DuckDB turns an
exception raised inside a statement into `RuntimeError('Query interrupted')`, so the signal is
also kept here (`received`) for the code that reports it. A second signal while the run winds
down exits at once, as a kill would; the store is safe from that too, only the summary is lost.
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


def received() -> int | None:
    """The signal that stopped the run under `stop_on_signals()`, if one did."""
    return _received[0] if _received else None


def _handle(signum: int, _frame: FrameType | None) -> None:
    if _received:
        os._exit(128 + signum)
    _received.append(signum)
    raise Interrupted(signum)


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
