"""A progress line on stderr for long ingests: bytes, lines/s and, for files, an ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


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
        elapsed = max(now - self.started, 1e-6)
        rate = lines / elapsed
        text = f"{_size(done)}"
        if total:
            fraction = min(done / total, 1.0)
            bar = "#" * int(fraction * 20)
            eta = (elapsed / fraction - elapsed) if fraction > 0 else 0
            text = f"[{bar:<20}] {fraction:4.0%} {_size(done)}/{_size(total)} ETA {eta:4.0f}s"
        self.stream.write(f"\r{text}  {lines:,} lines  {rate:,.0f} lines/s ")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
