"""Cutting a source into blocks of complete lines, the unit the native core takes and a
transaction stores (with where its source then stands)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .._core import count_lines
from .sources import TAIL_BYTES, Source
from .streams import CorruptStream, DamagedStream

if TYPE_CHECKING:
    from ..core import ChunkResult

TOO_LONG_KEEP = 64 * 1024  # prefix of an over-long line kept for the (masked) quarantine


@dataclass
class Block:
    """Complete lines of one source, and where the source stands once they are stored."""

    data: bytes
    first_line: int
    first_offset: int
    rejects: list[tuple[int, int, str, bytes]]
    end_line: int  # lines consumed once this block commits
    end_offset: int  # bytes consumed once this block commits
    tail: bytes  # the TAIL_BYTES consumed last, for the checkpoint's fingerprint
    eof: bool = False  # the last block: the stream has been read to its end
    # Its rows made again from the source, given the private key block open before it (the
    # parse's `in_key`), for a source that can be read again (a plain file): then a
    # transaction's blocks need no spool (see ingest/commit.py).
    remake: Callable[[int], ChunkResult] | None = None


class Joins(Protocol):
    """Where a block of complete lines must end so that no sequence of parts of a split line
    is cut (the native core's scan, `Core.unfinished`)."""

    def unfinished(self, chunk: bytes) -> int: ...


class LineBlocker:
    """Cuts a source into blocks of complete lines, from its checkpoint on.

    A partial last line waits for the next run unless the stream is final (stdin, compressed),
    where it is the last record. A line longer than `max_line` is not buffered: its first bytes
    go to the quarantine and the rest is skipped up to its newline.

    With a `joins` scan (formats that split long lines into parts), the lines from the first
    part of a sequence that a block would leave open are held out of it, and out of its
    checkpoint, until the part that ends the sequence arrives, as an unfinished last line is:
    a joined record is then in one block and stored once, whatever the blocks and runs. Held
    parts longer than `max_line` in all are let go: the parts a block holds are one event.
    """

    def __init__(
        self, source: Source, lines: int, offset: int, tail: bytes = b"",
        joins: Joins | None = None,
    ) -> None:  # fmt: skip
        self.joins = joins
        self.source = source
        self.lines = lines
        self.offset = offset
        self.tail = tail
        self.rejects: list[tuple[int, int, str, bytes]] = []
        self.waiting = 0  # at the end: lines held as parts of a split line whose end is to come
        # (reason, line, byte offset, what) of the damage that ended a compressed stream
        self.damage: tuple[str, int, int, str] | None = None

    def _consumed(self, data: bytes) -> None:
        self.tail = (self.tail + data[-TAIL_BYTES:])[-TAIL_BYTES:]

    def _block(self, data: bytes = b"") -> Block:
        block = Block(
            data=data,
            first_line=self.lines + 1,
            first_offset=self.offset,
            rejects=self.rejects,
            end_line=self.lines
            + count_lines(data)
            + (0 if data.endswith(b"\n") or not data else 1),
            end_offset=self.offset + len(data),
            tail=b"",
        )
        self._consumed(data)
        block.tail = self.tail
        self.lines, self.offset, self.rejects = block.end_line, block.end_offset, []
        return block

    def _reject_long(self, prefix: bytes, length: int) -> None:
        self.rejects.append((self.lines + 1, self.offset, "line_too_long", prefix[:TOO_LONG_KEEP]))
        self.lines += 1
        self.offset += length

    def blocks(self, block_size: int, max_line: int) -> Iterator[Block]:
        carry = b""
        held = b""  # complete lines held back: a split line's parts so far (see joins)
        long_prefix: bytes | None = None  # set while skipping an over-long line
        long_len = 0
        while True:
            try:
                block = self.source.read(block_size)
            except DamagedStream as damage:
                if held:
                    yield self._block(held)  # the stream ends here: parts as they are
                    held = b""
                partial, length = (
                    (long_prefix, long_len) if long_prefix is not None else (carry, len(carry))
                )
                raw = partial[:TOO_LONG_KEEP]
                if isinstance(damage, CorruptStream):
                    # Nothing from the damage on is read: the reject says where and why, with
                    # the start of the line it cuts, if any.
                    raw = f"{damage}; nothing from here on is stored\n".encode() + raw
                self.damage = (damage.reason, self.lines + 1, self.offset, str(damage))
                self.rejects.append((self.lines + 1, self.offset, damage.reason, raw))
                if length:
                    self.lines += 1
                    self.offset += length
                last = self._block()
                last.eof = True
                yield last
                return
            if not block:
                break
            if long_prefix is not None:
                nl = block.find(b"\n")
                if nl < 0:
                    long_len += len(block)
                    self._consumed(block)
                    continue
                long_len += nl + 1
                self._consumed(block[: nl + 1])
                self._reject_long(long_prefix, long_len)
                long_prefix = None
                block = block[nl + 1 :]
            data = held + carry + block if held or carry else block
            held = b""
            nl = data.rfind(b"\n")
            if nl < 0:
                chunk, carry = b"", data
            else:
                chunk, carry = data[: nl + 1], data[nl + 1 :]
            if self.joins is not None and chunk:
                cut = self.joins.unfinished(chunk)
                if len(chunk) - cut <= max_line:
                    chunk, held = chunk[:cut], chunk[cut:]
            if chunk or self.rejects:
                yield self._block(chunk)
            if len(carry) > max_line:
                if held:
                    yield self._block(held)  # parts before an over-long line go as they are
                    held = b""
                long_prefix, long_len = carry[:TOO_LONG_KEEP], len(carry)
                self._consumed(carry)
                carry = b""
        if long_prefix is not None and self.source.final:
            self._reject_long(long_prefix, long_len)
        # Always a last block, empty or not: its commit records that the end was reached.
        self.waiting = 0 if self.source.final else held.count(b"\n")
        last = self._block(held + carry if self.source.final else b"")
        last.eof = True
        yield last
