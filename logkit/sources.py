"""Where lines come from: paths, globs, directories and stdin; plain, gzip and zstd; checkpoints.

A *source* is one stream of bytes. Files are recognised as compressed by their magic bytes, so a
rotated `app.log.2.gz` and a misnamed `app.log` holding gzip both read correctly.

Exactly-once reading rests on `Checkpoint`: how far into a stream logkit has stored everything,
plus two fingerprints — a hash of the stream's first bytes and a hash of the bytes just before
the checkpoint offset. A file is the continuation of a checkpoint only when both still match,
which tells apart the cases that inode or path alone get wrong:

* rename rotation (`app.log` → `app.log.1`, maybe later `.2.gz`): same content, found again
  under the new name (and, once compressed, under a new inode);
* copytruncate: the copy carries the old content, the truncated original starts afresh;
* a file truncated and regrown past the old offset, or an inode reused by a new file: the
  fingerprints differ, so it is read from the start;
* two files that begin with the same line: the head covers up to 1 KiB, not one line, and a
  checkpoint whose inode is among the inputs is given to that inode first.

Checkpoints are matched when a run starts, but a file is read later, after the files before it,
and may be truncated or rewritten in between or while it is read (logrotate's copytruncate
runs whenever cron says). So a plain file is read with `os.pread` at explicit offsets, never
through a buffered stream (whose read-ahead would hold the old generation's bytes and go on
with the new one's), and every read is checked *after* it returns: the file must still be at
least as long as what was read (a truncation shows as size < offset) and still begin with the
head it had when opened (a rewrite shows as another head; bytes read inside the head must
agree with it). A read that fails the check is dropped and the stream ends there
(`Source.changed` says why): the blocks read before it were the opened generation's bytes at
their offsets and are stored, with a checkpoint whose fingerprints are that generation's. The
next run finds the rest of the old content in the copy (`app.log.1`) by those fingerprints and
reads the truncated file afresh, so no line is stored twice and none is spliced from two
generations. A block read and checked before a truncation stays valid: its bytes were the
file's, and are the copy's. A file found changed before anything of it was read is left whole
for the next run. What cannot be told apart: a file truncated and regrown to the same first KiB
between a read and its check (the fingerprints have the same blind spot).

Compressed files are written whole by rotation and never rewritten in place; a replaced one is
a new inode, and the run reads the one it opened. stdin has no checkpoint unless named
(`ingest --name`): then its checkpoint is the newest under that name whose head it begins with
(`named_checkpoint`), and as stdin cannot seek, what is read up to the checkpoint's offset is
spooled, to be read again if the tail there does not match (`rewind`).
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import io
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .errors import InputError

HEAD_BYTES = 1024
TAIL_BYTES = 256
STDIN = "-"

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# What a directory contributes: log-ish names, their rotations (app.log.1, app.log.2.gz,
# app.log-20261122) and compressed forms.
_LOG_NAME = re.compile(
    r".*\.(log|json|jsonl|ndjson)(\.\d+|-\d{8,10})?(\.(gz|zst))?$|.*\.(gz|zst)$", re.IGNORECASE
)
_ROTATION = re.compile(r"\.(\d+)(?:\.(?:gz|zst))?$")


@dataclass
class Checkpoint:
    """How far a stream has been stored, and how to recognise that stream again."""

    id: int | None
    path: str
    dev: int
    ino: int
    head_len: int = 0
    head_hash: str = ""
    tail_len: int = 0
    tail_hash: str = ""
    byte_offset: int = 0
    lines: int = 0
    events: int = 0
    rejects: int = 0
    newest_ts: int | None = None  # microseconds since the epoch
    # For a compressed file read to its end: its size and mtime then. Rotated .gz files never
    # change, so a cron run skips them without decompressing them up to their offset again.
    eof_size: int | None = None
    eof_mtime_ns: int | None = None
    extra: dict[str, object] = field(default_factory=dict)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _rotation_key(path: str) -> tuple[str, str, int]:
    # Oldest rotation first (app.log.3.gz, app.log.2, app.log.1, app.log), so a directory is
    # read in the order it was written.
    match = _ROTATION.search(path)
    index = int(match.group(1)) if match else 0
    base = path[: match.start()] if match else path
    return (os.path.dirname(path), base, -index)


def expand(inputs: Iterable[str]) -> list[str]:
    """Turn PATH|GLOB|DIR|- arguments into an ordered list of files (and '-' for stdin)."""
    found: list[str] = []
    for arg in inputs:
        if arg == STDIN:
            found.append(STDIN)
            continue
        path = Path(arg)
        if path.is_dir():
            files = [str(p) for p in path.rglob("*") if p.is_file() and _LOG_NAME.fullmatch(p.name)]
            found.extend(sorted(files, key=_rotation_key))
        elif path.exists():
            found.append(str(path))
        else:
            matches = [p for p in glob.glob(arg, recursive=True) if os.path.isfile(p)]
            if not matches:
                raise InputError(f"no such file, directory or matching glob: {arg!r}")
            found.extend(sorted(matches, key=_rotation_key))
    seen: set[str] = set()
    unique = []
    for item in found:
        key = item if item == STDIN else os.path.realpath(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def open_stream(raw: BinaryIO) -> tuple[BinaryIO, str]:
    """Wrap a binary file in the decompressor its first bytes call for."""
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    magic = buffered.peek(4)[:4]
    if magic.startswith(GZIP_MAGIC):
        return gzip.GzipFile(fileobj=buffered, mode="rb"), "gzip"  # type: ignore[return-value]
    if magic.startswith(ZSTD_MAGIC):
        return io.BufferedReader(_ZstdFrames(buffered)), "zstd"  # type: ignore[return-value]
    return buffered, "plain"


class _ZstdFrames(io.RawIOBase):
    """zstd frames one after another; raises EOFError if the last one is cut short.

    zstandard's `stream_reader` ends a cut-short frame with a plain short read, so a truncated
    `.zst` would pass for a whole one and its cut last line for a complete line. Like
    `gzip.GzipFile`, this reader says the stream ended early.
    """

    def __init__(self, raw: BinaryIO) -> None:
        import zstandard

        self._raw = raw
        self._new = zstandard.ZstdDecompressor().decompressobj
        self._frame = self._new()
        self._open = False  # a frame has begun and not yet ended
        self._out = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out:
            data = self._raw.read(1 << 16)
            if not data:
                if self._open:
                    raise EOFError("zstd stream ends before the end of its last frame")
                return 0
            parts = []
            while data:
                self._open = True
                parts.append(self._frame.decompress(data))
                if not self._frame.eof:
                    break
                data, self._frame, self._open = self._frame.unused_data, self._new(), False
            self._out = memoryview(b"".join(parts))
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


class Source:
    """One input stream, opened once, with what is needed to match it to a checkpoint."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_stdin = name == STDIN
        self.named = False  # stdin given a name (see `name_stdin`)
        # What skip_to read of stdin, to be read again if the stream turns out not to continue
        # its checkpoint (stdin cannot seek back).
        self._spool: BinaryIO | None = None
        self._replay: BinaryIO | None = None
        if self.is_stdin:
            self.dev, self.ino, self.size = 0, 0, None
            self.file_size, self.mtime_ns = 0, 0
            self.stream, self.kind = open_stream(sys.stdin.buffer)  # type: ignore[arg-type]
        else:
            try:
                fh = open(name, "rb")  # noqa: SIM115 - closed by Source.close
            except OSError as exc:
                raise InputError(f"cannot read {name}: {exc.strerror}") from exc
            st = os.fstat(fh.fileno())
            self.dev, self.ino = st.st_dev, st.st_ino
            self.stream, self.kind = open_stream(fh)
            self.size = st.st_size if self.kind == "plain" else None
            self.file_size, self.mtime_ns = st.st_size, st.st_mtime_ns
        self.position = 0
        self._truncated = ""
        # Bytes read ahead for fingerprinting, replayed to the line reader.
        self._pending = b""
        # A plain file is read with os.pread at explicit offsets, never through the buffered
        # stream (whose read-ahead would hold bytes of a generation since truncated), and
        # each read is checked against the head the file had when it was opened.
        self._fd: int | None = None
        self.head = b""
        self.changed = ""  # why reading stopped early: 'truncated' or 'rewritten'
        if self.kind == "plain" and not self.is_stdin:
            self._fd = self.stream.fileno()
            self.head = os.pread(self._fd, HEAD_BYTES, 0)

    @property
    def compressed(self) -> bool:
        return self.kind != "plain"

    @property
    def final(self) -> bool:
        """Whether the stream can never grow, so a last line without newline is complete.

        A named stdin stream is piped again, grown, like a file that grows: its last line
        without a newline waits for the next run (unless compressed, which cannot be cut
        mid-line and still be read)."""
        return (self.is_stdin and not self.named) or self.compressed

    def name_stdin(self, name: str) -> None:
        """Make stdin the stream called `name`, which has a checkpoint of its own."""
        assert self.is_stdin
        self.name, self.named = name, True

    def _read(self, n: int) -> bytes:
        if not self.compressed:
            return self.stream.read(n)
        if self._truncated:
            raise TruncatedStream(self._truncated)
        # read1 in pieces, so that when a compressed stream turns out to be cut short, what
        # was decompressed before the cut is returned rather than lost with the exception.
        parts: list[bytes] = []
        size = 0
        while size < n:
            try:
                part = self.stream.read1(min(n - size, 1 << 18))  # type: ignore[attr-defined]
            except Exception as exc:  # gzip: EOFError/BadGzipFile; zstd: ZstdError
                self._truncated = str(exc) or "compressed stream ends early"
                if not parts:
                    raise TruncatedStream(self._truncated) from exc
                break
            if not part:
                break
            parts.append(part)
            size += len(part)
        return b"".join(parts)

    def peek_prefix(self, n: int) -> bytes:
        """The stream's first n bytes (fewer if shorter), without consuming them."""
        if self._fd is not None:
            return self.head[:n] if n <= HEAD_BYTES else os.pread(self._fd, n, 0)
        while len(self._pending) < n:
            try:
                chunk = self._read(n - len(self._pending))
            except TruncatedStream:
                break
            if not chunk:
                break
            self._pending += chunk
        return self._pending[:n]

    def read(self, n: int) -> bytes:
        if self._fd is not None:
            return self._pread(n)
        if self._replay is not None:
            replayed = self._replay.read(n)
            if replayed:
                self.position += len(replayed)
                return replayed
            self._replay.close()
            self._replay = None
        if self._pending:
            data, self._pending = self._pending[:n], self._pending[n:]
            if len(data) < n:
                data += self._read(n - len(data))
        else:
            data = self._read(n)
        self.position += len(data)
        return data

    def skip_to(self, offset: int) -> bytes:
        """Advance to `offset`, returning the TAIL_BYTES before it (for the tail fingerprint)."""
        if self._fd is not None:
            tail_start = max(0, offset - TAIL_BYTES)
            tail = os.pread(self._fd, offset - tail_start, tail_start)
            self.changed = self._check(tail_start, tail)
            if len(tail) < offset - tail_start:
                self.changed = self.changed or "truncated"
            self.position = offset
            return tail
        tail = b""
        if self.is_stdin:
            self._spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115
        while self.position < offset:
            chunk = self.read(min(1 << 20, offset - self.position))
            if not chunk:
                break
            if self._spool is not None:
                self._spool.write(chunk)
            tail = (tail + chunk)[-TAIL_BYTES:]
        return tail

    def rewind(self) -> None:
        """Read stdin again from its start: what `skip_to` passed over, then the rest."""
        assert self.is_stdin and self._spool is not None
        self._spool.seek(0)
        self._replay, self._spool = self._spool, None
        self.position = 0

    def drop_spool(self) -> None:
        """`skip_to` landed on the checkpoint: what it passed over is not needed again."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def _pread(self, n: int) -> bytes:
        """The next n bytes of a plain file, or nothing once it has changed under the reader
        (then `changed` says how): what is returned was verifiably the opened generation's."""
        assert self._fd is not None
        if self.changed:
            return b""
        data = os.pread(self._fd, n, self.position)
        self.changed = self._check(self.position, data)
        if self.changed:
            return b""
        self.position += len(data)
        return data

    def _check(self, start: int, data: bytes) -> str:
        """Why `data`, just read at `start`, may not be the opened file's bytes ('' if it is).

        Checked after the read, so a truncation or rewrite at any moment before this check is
        seen: the file is now shorter than what was read, or its head (the first HEAD_BYTES,
        as first read) differs. A head read short when the file was opened is extended here,
        and bytes read inside it must agree with it.
        """
        assert self._fd is not None
        if os.fstat(self._fd).st_size < start + len(data):
            return "truncated"
        now = os.pread(self._fd, HEAD_BYTES, 0)
        if not now.startswith(self.head):
            return "truncated" if len(now) < len(self.head) else "rewritten"
        overlap = now[start : start + len(data)]
        if data[: len(overlap)] != overlap:
            return "rewritten"
        self.head = now
        return ""

    def unchanged_since(self, cp: Checkpoint) -> bool:
        """Whether this source holds nothing beyond `cp` (without reading it)."""
        if self.compressed:
            return (self.file_size, self.mtime_ns) == (cp.eof_size, cp.eof_mtime_ns)
        return self.size is not None and self.size == cp.byte_offset

    def unread_bytes(self, cp: Checkpoint | None) -> int:
        """About how much is left to read (compressed: the file's own size)."""
        if self.compressed or cp is None:
            return self.file_size
        return max(0, (self.size or 0) - cp.byte_offset)

    def close(self) -> None:
        for spool in (self._spool, self._replay):
            if spool is not None:
                spool.close()
        if not self.is_stdin:
            self.stream.close()


class TruncatedStream(Exception):
    """A compressed stream ended before its end marker (e.g. a gzip file cut short)."""


def fingerprint(data: bytes) -> tuple[int, str]:
    return len(data), _digest(data)


def _matches(source: Source, cp: Checkpoint) -> bool:
    if source.size is not None and source.size < cp.byte_offset:
        return False
    head = source.peek_prefix(cp.head_len)
    if len(head) != cp.head_len or _digest(head) != cp.head_hash:
        return False
    if cp.tail_len == 0:
        return True
    if source.compressed:
        # Checked later, while skipping to the offset (the stream has to be read anyway).
        return True
    # From the file that was opened, not by name: since then the name may have been rotated
    # away to another file, or deleted.
    tail = os.pread(source.stream.fileno(), cp.tail_len, cp.byte_offset - cp.tail_len)
    return _digest(tail) == cp.tail_hash


def assign_checkpoints(
    sources: list[Source], checkpoints: list[Checkpoint]
) -> dict[int, Checkpoint]:
    """Pair each source with the checkpoint it continues, if any (by list index).

    Same inode and matching fingerprints first, then matching fingerprints alone (a rotated file
    that was copied or compressed); each checkpoint goes to at most one source.
    """
    assigned: dict[int, Checkpoint] = {}
    # A named stdin stream's checkpoint is its name's alone (see `named_checkpoint`).
    taken: set[int] = {id(cp) for cp in checkpoints if is_named(cp)}
    for same_inode in (True, False):
        for i, source in enumerate(sources):
            if i in assigned or source.is_stdin:
                continue
            candidates = [
                cp
                for cp in checkpoints
                if id(cp) not in taken
                and (not same_inode or (cp.dev, cp.ino) == (source.dev, source.ino))
                and _matches(source, cp)
            ]
            if candidates:
                best = max(candidates, key=lambda cp: cp.byte_offset)
                assigned[i] = best
                taken.add(id(best))
    return assigned


def is_named(cp: Checkpoint) -> bool:
    """Whether `cp` is a named stdin stream's: its path is the name, it has no file identity."""
    return (cp.dev, cp.ino) == (0, 0)


def named_checkpoint(source: Source, checkpoints: list[Checkpoint]) -> Checkpoint | None:
    """The checkpoint a named stdin stream may continue: the newest of those under its name
    whose head it begins with (a name's older streams are rarely piped again: a restarted
    pod's new log is). Whether it goes on past that checkpoint's tail is known only once stdin
    is read up to it (`Source.skip_to`; `rewind` if not)."""
    head = source.peek_prefix(HEAD_BYTES)
    candidates = [
        cp
        for cp in checkpoints
        if is_named(cp)
        and cp.path == source.name
        and len(head) >= cp.head_len
        and _digest(head[: cp.head_len]) == cp.head_hash
    ]
    return max(candidates, key=lambda cp: cp.id or 0, default=None)


def compressed_copies(sources: list[Source], assigned: dict[int, Checkpoint]) -> set[int]:
    """The compressed sources, among those without a checkpoint, that are copies of a plain
    file this run reads under its checkpoint (by list index).

    logrotate compresses a rotated file (app.log.1 to app.log.2.gz) before it deletes it, so a
    run can find both. The copy's lines are the plain file's, stored under its checkpoint;
    read again they would be stored twice. Once the plain file is gone, the copy takes the
    checkpoint over by its fingerprints and goes on from its offset (nothing, for a copy).

    A copy holds nothing but the plain file's bytes: its whole content is compared with the
    start of the plain file (which this run reads to its end), so a compressed file that
    merely begins like it is not taken for one.
    """
    plain = [
        (cp, sources[i])
        for i, cp in assigned.items()
        if not sources[i].compressed and not sources[i].is_stdin and cp.byte_offset
    ]
    return {
        i
        for i, source in enumerate(sources)
        if i not in assigned
        and source.compressed
        and not source.is_stdin
        and any(_matches(source, cp) and _is_copy(source.name, file) for cp, file in plain)
    }


def _is_copy(name: str, original: Source) -> bool:
    """Whether the stream at `name` decompresses to a non-empty start of `original`."""
    probe = Source(name)
    fd, offset = original.stream.fileno(), 0
    try:
        while data := probe.read(1 << 20):
            if os.pread(fd, len(data), offset) != data:
                return False
            offset += len(data)
    except TruncatedStream:
        return False  # read as a file of its own, with its truncation quarantined
    finally:
        probe.close()
    return offset > 0


def iter_blocks(source: Source, block_size: int) -> Iterator[bytes]:
    while True:
        data = source.read(block_size)
        if not data:
            return
        yield data
