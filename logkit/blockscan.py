"""The masking prefilter for a whole block of lines at once, with Hyperscan.

`Masker.needs_masking` decides per line whether anything in it could be masked, at ~5 µs a
line of CPython (bytes.translate and regexes, ten checks): about as much as parsing the line,
on every line of a masked ingest. Hyperscan runs the same checks, written as one database of
patterns (`Masker.block_patterns`), over a block of a few MB in one call and reports where
they match, at ~2 µs a line including the callbacks.

A pattern matching a line only sends it to `Masker.mask_event`, which finds what to mask on
its own; so the patterns may match more than `needs_masking` would (they have no lookarounds),
but never less. The name checks follow key normalisation's lowercasing for ASCII only, so a
line with other bytes that no pattern matched is left to `needs_masking` (when it looks for
names at all: `BlockScanner.names`).

Hyperscan is optional (an x86-64 library): without it, or for a masker whose checks it cannot
express, `BlockScanner.for_masker` returns None and every line takes `needs_masking`.
"""

from __future__ import annotations

import bisect
import contextlib
import ctypes
import itertools
import operator
from typing import Any

try:
    import hyperscan
except ImportError:  # not installed, or no build for this machine
    hyperscan = None


class BlockScanner:
    """Finds the lines of a block that may hold something to mask."""

    def __init__(self, database: Any, names: bool) -> None:
        self._db = database
        #: Whether a non-ASCII line that no pattern matched is left to `needs_masking`.
        self.names = names

    @classmethod
    def for_masker(cls, masker: Any) -> BlockScanner | None:
        """The scanner for this masker's checks (compiled: ~0.6 s), or None if it has none."""
        patterns = masker.block_patterns
        if hyperscan is None or not masker.enabled or masker.always or not patterns:
            return None
        database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        try:
            database.compile(
                expressions=[pattern for pattern, _ in patterns],
                ids=list(range(len(patterns))),
                elements=len(patterns),
                flags=[
                    hyperscan.HS_FLAG_MULTILINE | (hyperscan.HS_FLAG_CASELESS if caseless else 0)
                    for _, caseless in patterns
                ],
            )
        except hyperscan.error:
            # Beyond Hyperscan's limits (thousands of configured key names, say): the lines
            # take needs_masking, as they would without Hyperscan.
            return None
        return cls(database, names=masker.names_in_raw)

    @classmethod
    def compiled(cls, masker: Any) -> bytes | None:
        """`for_masker(masker)`, compiled and saved as bytes, for a process that only hands
        the scanner on to its workers.

        Hyperscan's compiler leaves ~10 MB of freed heap that glibc keeps; the ingest's main
        process would hold it for the whole run, so it is given back.
        """
        scanner = cls.for_masker(masker)
        if scanner is None:
            return None
        assert hyperscan is not None
        data = bytes(hyperscan.dumpb(scanner._db))
        del scanner
        with contextlib.suppress(OSError, AttributeError):  # not glibc
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        return data

    @classmethod
    def from_bytes(cls, masker: Any, data: bytes) -> BlockScanner:
        """The scanner `compiled` saved, for the same masker configuration (in a worker,
        which loads it instead of compiling again)."""
        assert hyperscan is not None
        database = hyperscan.loadb(data, hyperscan.HS_MODE_BLOCK)
        database.scratch = hyperscan.Scratch(database)  # compile() allocates it, loadb() not
        return cls(database, names=masker.names_in_raw)

    def flagged(self, data: bytes, lines: list[bytes]) -> set[int]:
        """The indexes in `lines` (`data` split at newlines) of the lines a pattern matched."""
        ends: list[int] = []
        append = ends.append

        def on_match(_id: int, _start: int, end: int, _flags: int, _context: Any) -> None:
            append(end)

        self._db.scan(data, match_event_handler=on_match)
        if not ends:
            return set()
        # Where each line starts; a match ending at `end` lies in the line holding byte end-1
        # (no pattern matches a newline, so it lies in that line whole).
        starts = list(
            itertools.accumulate(map(operator.add, map(len, lines), itertools.repeat(1)), initial=0)
        )
        return {bisect.bisect_right(starts, end - 1) - 1 for end in ends}
