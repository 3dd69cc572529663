"""A progress line on stderr for long ingests: bytes, lines/s and, for files, an ETA.

The line is redrawn in place with a carriage return, so it must never be wider than the
terminal: a line that wraps leaves a new line behind at every redraw. It is fitted to the
width each time (a window may be resized mid-ingest), giving way in order: the bar, then the
rate, then the ETA. Sizes are in MB of 10^6 bytes, as in the ingest summary.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


def size_text(n: float) -> str:
    """Bytes in decimal units (kB, MB, GB: 10^3, 10^6, 10^9), the summary's units."""
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _width(stream: TextIO) -> int:
    """Columns of the terminal `stream` is on (else $COLUMNS, else 80)."""
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        columns = 0
    if columns <= 0:
        try:
            columns = int(os.environ.get("COLUMNS", "80"))
        except ValueError:
            columns = 80
    return max(columns, 20)


def progress_line(done: int, lines: int, total: int | None, elapsed: float, width: int) -> str:
    """The progress text in at most `width - 1` columns (the last one is left free: some
    terminals wrap when a line fills it)."""
    room = width - 1
    rate = f"{lines / max(elapsed, 1e-6):,.0f} lines/s"
    count = f"{lines:,} lines"
    if not total:
        parts = [size_text(done), count, rate]
        while len("  ".join(parts)) > room and len(parts) > 1:
            parts.pop()
        return "  ".join(parts)[:room]
    fraction = min(done / total, 1.0)
    eta = (elapsed / fraction - elapsed) if fraction > 0 else 0.0
    sizes = f"{size_text(done)}/{size_text(total)}"
    for parts in (
        [f"{fraction:4.0%}", sizes, f"ETA {eta:4.0f}s", count, rate],
        [f"{fraction:4.0%}", sizes, f"ETA {eta:4.0f}s", count],
        [f"{fraction:4.0%}", sizes, f"ETA {eta:4.0f}s"],
        [f"{fraction:4.0%}", f"ETA {eta:4.0f}s"],
        [f"{fraction:4.0%}"],
    ):
        text = "  ".join(parts)
        bar = min(30, room - len(text) - 3)  # "[" + bar + "] "
        if bar >= 10:
            filled = "#" * int(fraction * bar)
            return f"[{filled:<{bar}}] {text}"
        if len(text) <= room:
            return text
    return f"{fraction:4.0%}"[:room]


class Progress:
    """Call with (bytes done, lines done, total bytes or None); redraws at most 5 times a second."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, lines: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        text = progress_line(done, lines, total, now - self.started, _width(self.stream))
        # \r to the line's start, the text, then erase what a longer earlier line left.
        self.stream.write(f"\r{text}\x1b[K")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
