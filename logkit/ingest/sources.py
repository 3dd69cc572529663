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

import contextlib
import glob
import hashlib
import io
import os
import re
import shutil
import stat
import sys
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO, Protocol

from .errors import InputError

HEAD_BYTES = 1024
TAIL_BYTES = 256
CR_PROBE_BYTES = 64 * 1024
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


def cr_only(prefix: bytes) -> bool:
    """Whether a stream that begins with `prefix` ends its lines with a bare CR: a CR, and no
    LF at all. A CR as the very last byte may be the first half of a CRLF not yet written."""
    return b"\n" not in prefix and b"\r" in prefix[:-1]


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _rotation_key(path: str) -> tuple[str, str, int]:
    # Oldest rotation first (app.log.3.gz, app.log.2, app.log.1, app.log), so a directory is
    # read in the order it was written.
    match = _ROTATION.search(path)
    index = int(match.group(1)) if match else 0
    base = path[: match.start()] if match else path
    return (os.path.dirname(path), base, -index)


def expand(inputs: Iterable[str], *, empty: list[str] | None = None) -> list[str]:
    """Turn PATH|GLOB|DIR|- arguments into an ordered list of files (and '-' for stdin).

    A directory without a log file in it adds a sentence saying so to `empty`."""
    found: list[str] = []
    for arg in inputs:
        if arg == STDIN:
            found.append(STDIN)
            continue
        path = Path(arg)
        if path.is_dir():
            every = [p for p in path.rglob("*") if p.is_file()]
            files = [str(p) for p in every if _LOG_NAME.fullmatch(p.name)]
            if not files and empty is not None:
                n = len(every)
                others = f"; {n:,} other file{'s' * (n != 1)} ignored" if n else ""
                empty.append(
                    f"{arg}: no log files in this directory (looked for *.log, *.json, *.jsonl,"
                    f" *.ndjson, their rotations and .gz/.zst files{others})"
                )
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


def open_stream(raw: BinaryIO) -> tuple[io.BufferedIOBase | _Members, str]:
    """Wrap a binary file in the decompressor its first bytes call for: a plain stream is
    an io.BufferedReader, a compressed one `_Members`."""
    # (BinaryIO does not declare the readinto a BufferedReader needs; every raw stream given
    # here, a file, stdin's buffer or a BytesIO in tests, has it.)
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[type-var]
    magic = buffered.peek(4)[:4]
    if magic.startswith(GZIP_MAGIC):
        return _Members(buffered, "gzip"), "gzip"
    if magic.startswith(ZSTD_MAGIC):
        return _Members(buffered, "zstd"), "zstd"
    return buffered, "plain"


class DamagedStream(Exception):
    """A compressed stream that cannot be read to its end; `reason` names the reject."""

    reason = "damaged_stream"

    def __init__(self, message: str, at: int) -> None:
        super().__init__(message)
        self.at = at  # the offset, in the decompressed stream, from which nothing is trusted


class TruncatedStream(DamagedStream):
    """A compressed stream ended before its end marker (e.g. a gzip file cut short)."""

    reason = "truncated_stream"


class CorruptStream(DamagedStream):
    """A compressed stream holds bytes that fail to decode or to match their checksum."""

    reason = "corrupt_stream"


# Compressed bytes decoded per step. Small, so that one step's output stays small even from a
# gzip bomb (deflate expands at most ~1000x: 16 MB).
_COMPRESSED_CHUNK = 1 << 14


class _Raw(Protocol):
    """What `_Members` reads compressed bytes from: a binary file, or `_Pread`."""

    def read(self, n: int, /) -> bytes: ...
    def close(self) -> None: ...


class _Decompressor(Protocol):
    """One member's decoder: zlib's decompressobj or zstandard's."""

    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, /) -> bytes: ...


class _Members:
    """gzip members or zstd frames one after another, decompressed as they come.

    Not gzip.GzipFile or zstandard's stream_reader: at a cut or a bad byte both raise, or stop,
    without returning what they decoded before it, so a short file cut by a few bytes lost
    every line. Here every byte decoded before the damage is returned first, and only then does
    `read` raise a `DamagedStream` saying where it is. Zero bytes after the last member are
    padding (as `gzip -d` treats them); any other trailing byte is a corrupt stream.

    Each member's end is recorded in `ends` (decompressed offsets): the checksum (gzip's CRC32
    and length, zstd's optional content checksum) has been verified up to there.
    """

    def __init__(self, raw: _Raw, kind: str) -> None:
        self._raw = raw
        self.kind = kind
        self._unit = "member" if kind == "gzip" else "frame"
        self._dec: _Decompressor | None = None  # the member being decoded, if one has begun
        self._in = b""  # compressed bytes read and not yet decoded
        self._out = b""
        self._damage: DamagedStream | None = None
        self.read_in = 0  # compressed bytes read from `raw`
        self.produced = 0  # decompressed bytes decoded
        self.ends: list[int] = []
        self._member_at = 0  # where, in the compressed file, the member being decoded begins
        self._foreign = False  # it does not even begin as a member does (trailing garbage)

    def _new(self) -> _Decompressor:
        if self.kind == "gzip":
            return zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer, both checked
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj()

    def _where(self) -> str:
        index = len(self.ends) + 1
        return f"{self.kind} {self._unit} {index} (at byte {self._member_at:,} of the file)"

    def fill(self) -> bool:
        """Decode until some output is ready: False at the clean end of the stream."""
        while not self._out:
            if self._damage is not None:
                raise self._damage
            if not self._in:
                self._in = self._raw.read(_COMPRESSED_CHUNK)
                self.read_in += len(self._in)
                if not self._in:
                    if self._dec is None:
                        return False
                    self._damage = TruncatedStream(
                        f"{self._where()} is cut short: the file ends before its end marker",
                        self.produced,
                    )
                    continue
            if self._dec is None:
                if not self._in.strip(b"\0"):
                    self._in = b""  # padding, as long as only zeros follow
                    continue
                self._dec = self._new()
                self._member_at = self.read_in - len(self._in)
                self._foreign = not _starts_member(self._in, self.kind)
            self._decode()
        return True

    def _decode(self) -> None:
        dec = self._dec
        assert dec is not None  # fill() begins a member before it decodes
        try:
            out = dec.decompress(self._in)
        except Exception as exc:  # zlib.error, zstandard.ZstdError
            start = self.ends[-1] if self.ends else 0
            what = f"{self._where()} is corrupt: {exc}"
            if self.ends and self._foreign:
                what = (
                    f"the bytes after {self.kind} {self._unit} {len(self.ends)}, from byte"
                    f" {self._member_at:,} of the file, are not {self.kind}: {exc}"
                )
            self._damage = CorruptStream(what, start)
            self._in = b""
            return
        self._in = dec.unused_data if dec.eof else b""
        self._out = out
        self.produced += len(out)
        if dec.eof:
            self.ends.append(self.produced)
            self._dec = None

    def read(self, n: int = -1) -> bytes:
        if not self.fill():
            return b""
        if n < 0 or n >= len(self._out):
            data, self._out = self._out, b""
        else:
            data, self._out = self._out[:n], self._out[n:]
        return data

    def skip(self) -> bool:
        """Decode and drop the next output: False at the clean end of the stream."""
        if not self.fill():
            return False
        self._out = b""
        return True

    def close(self) -> None:
        self._raw.close()


def _starts_member(data: bytes, kind: str) -> bool:
    if kind == "gzip":
        return data.startswith(GZIP_MAGIC)
    # A zstd frame, or a skippable frame (magic 0x184D2A50 to 0x184D2A5F, little-endian).
    return data.startswith(ZSTD_MAGIC) or (data[1:4] == b"\x2a\x4d\x18" and data[0] >> 4 == 5)


class _Pread:
    """A file read from its start with pread, leaving the file's own offset alone."""

    def __init__(self, fd: int) -> None:
        self._fd, self._at = fd, 0

    def read(self, n: int) -> bytes:
        data = os.pread(self._fd, n, self._at)
        self._at += len(data)
        return data

    def close(self) -> None:
        pass


class _Verifier:
    """How far a compressed file's decompressed bytes may be trusted, found ahead of reading.

    A gzip member's CRC (a zstd frame's checksum) is only known at its end, and lines read
    before it would be stored before a corrupt member is found out. So before the reader hands
    out a member's bytes, this pass decodes the member on its own (zlib runs ~100x faster than
    parsing its lines) and checks it. A member that fails is not read at all: the stream
    stops where it begins. A cut-short last member cannot be checked; what it decodes to up to
    the cut is handed out, then the cut.
    """

    def __init__(self, fd: int, kind: str) -> None:
        self._members = _Members(_Pread(fd), kind)
        self.good = 0  # decompressed bytes verified
        self.damage: DamagedStream | None = None
        self._done = False

    def allow(self, want: int) -> int:
        """Verify up to `want` bytes if possible; returns how far the stream may be read."""
        members = self._members
        while self.good < want and not self._done:
            try:
                more = members.skip()
            except CorruptStream as exc:
                self.damage, self._done = exc, True
                break
            except TruncatedStream as exc:
                self.good, self.damage, self._done = exc.at, exc, True
                break
            if not more:
                self.good, self._done = members.produced, True
                break
            if members.ends:
                self.good = members.ends[-1]
        return self.good


class Source:
    """One input stream, opened once, with what is needed to match it to a checkpoint."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_stdin = name == STDIN
        regular = False  # a regular file, which can be read twice and at any offset
        self.named = False  # stdin given a name (see `name_stdin`)
        # What skip_to read of stdin, to be read again if the stream turns out not to continue
        # its checkpoint (stdin cannot seek back).
        self._spool: IO[bytes] | None = None
        self._replay: IO[bytes] | None = None
        if self.is_stdin:
            self.dev, self.ino, self.size = 0, 0, None
            self.file_size, self.mtime_ns = 0, 0
            self.stream, self.kind = open_stream(sys.stdin.buffer)
        else:
            try:
                fh: BinaryIO = open(name, "rb")  # noqa: SIM115 - closed by Source.close
            except OSError as exc:
                raise InputError(f"cannot read {name}: {exc.strerror}") from exc
            st = os.fstat(fh.fileno())
            regular = stat.S_ISREG(st.st_mode)
            self.dev, self.ino = st.st_dev, st.st_ino
            self.stream, self.kind = open_stream(fh)
            self.size = st.st_size if self.kind == "plain" else None
            self.file_size, self.mtime_ns = st.st_size, st.st_mtime_ns
        if self.compressed and not regular:
            # A pipe (stdin, or a named one) is spooled to a temporary file (compressed, so
            # ~10x smaller than its lines), so that each member can be checked before its lines
            # are read, as a file's are.
            assert isinstance(self.stream, _Members)
            piped = self.stream._raw
            assert isinstance(piped, io.BufferedReader)  # as open_stream wraps it
            fh = tempfile.TemporaryFile()  # noqa: SIM115 - closed by Source.close
            shutil.copyfileobj(piped, fh, 1 << 20)
            if not self.is_stdin:
                piped.close()
            fh.seek(0)
            self.stream, self.kind = open_stream(fh)
        self.position = 0
        # Bytes read ahead for fingerprinting, replayed to the line reader.
        self._pending = b""
        # A compressed stream's members are checked before the line reader gets their bytes.
        self._verifier = _Verifier(fh.fileno(), self.kind) if self.compressed else None
        # A plain file is read with os.pread at explicit offsets, never through the buffered
        # stream (whose read-ahead would hold bytes of a generation since truncated), and
        # each read is checked against the head the file had when it was opened. (A named
        # pipe cannot be read at an offset; it cannot be truncated under its reader either.)
        self._fd: int | None = None
        self.head = b""
        self.changed = ""  # why reading stopped early: 'truncated' or 'rewritten'
        if self.kind == "plain" and regular:
            assert isinstance(self.stream, io.BufferedReader)
            self._fd = self.stream.fileno()
            self.head = os.pread(self._fd, HEAD_BYTES, 0)
        # Decided once, on the stream's start (the same bytes every run, while it is the same
        # stream), before anything moves the file's offset.
        if self._fd is not None:
            prefix = os.pread(self._fd, CR_PROBE_BYTES, 0)
        else:
            prefix = self.peek_prefix(CR_PROBE_BYTES)
        self.cr_only = cr_only(prefix)

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

    def _lf(self, data: bytes) -> bytes:
        # CR for LF, byte for byte: offsets, checkpoints and fingerprints stay those of the file.
        return data.replace(b"\r", b"\n") if self.cr_only else data

    def _read(self, n: int) -> bytes:
        if not self.compressed:
            return self.stream.read(n)
        # In pieces, so that when a compressed stream turns out to be damaged, what was
        # decompressed before the damage is returned; the reader raises it on the next call.
        parts: list[bytes] = []
        size = 0
        while size < n:
            try:
                part = self.stream.read(n - size)
            except DamagedStream:
                if not parts:
                    raise
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
            except DamagedStream:
                break
            if not chunk:
                break
            self._pending += chunk
        return self._pending[:n]

    def read(self, n: int) -> bytes:
        """The next n bytes or fewer (b"" at the end); raises a `DamagedStream` at damage."""
        if self._fd is not None:
            return self._lf(self._pread(n))
        if self._replay is not None:
            replayed = self._replay.read(n)
            if replayed:
                self.position += len(replayed)
                return replayed  # translated when it was first read
            self._replay.close()
            self._replay = None
        if self._verifier is not None:
            allowed = self._verifier.allow(self.position + n) - self.position
            if allowed <= 0 and self._verifier.damage is not None:
                raise self._verifier.damage
            n = max(0, min(n, allowed))
        if self._pending:
            data, self._pending = self._pending[:n], self._pending[n:]
            if len(data) < n:
                with contextlib.suppress(DamagedStream):  # raised again by the next read
                    data += self._read(n - len(data))
        else:
            data = self._read(n)
        self.position += len(data)
        return self._lf(data)

    def skip_to(self, offset: int) -> bytes:
        """Advance to `offset`, returning the TAIL_BYTES before it (for the tail fingerprint)."""
        if self._fd is not None:
            tail_start = max(0, offset - TAIL_BYTES)
            tail = os.pread(self._fd, offset - tail_start, tail_start)
            self.changed = self._check(tail_start, tail)
            if len(tail) < offset - tail_start:
                self.changed = self.changed or "truncated"
            tail = self._lf(tail)
            self.position = offset
            return tail
        tail = b""
        if self.is_stdin:
            self._spool = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115
        while self.position < offset:
            try:
                chunk = self.read(min(1 << 20, offset - self.position))
            except DamagedStream:
                break  # damaged before the offset: not the stream the checkpoint is of
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
        if not self.is_stdin or self.compressed:  # stdin's spool, not stdin itself
            self.stream.close()


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
    assert isinstance(source.stream, io.BufferedReader)  # not compressed
    tail = source._lf(os.pread(source.stream.fileno(), cp.tail_len, cp.byte_offset - cp.tail_len))
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


def named_checkpoint(
    source: Source, checkpoints: list[Checkpoint], stored_name: str
) -> Checkpoint | None:
    """The checkpoint a named stdin stream may continue: the newest of those under its name
    (`stored_name`, the name as checkpoints keep it: masked when masking is on) whose head it
    begins with (a name's older streams are rarely piped again: a restarted
    pod's new log is). Whether it goes on past that checkpoint's tail is known only once stdin
    is read up to it (`Source.skip_to`; `rewind` if not)."""
    head = source.peek_prefix(HEAD_BYTES)
    candidates = [
        cp
        for cp in checkpoints
        if is_named(cp)
        and cp.path == stored_name
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
    assert isinstance(original.stream, io.BufferedReader)  # a plain file
    fd, offset = original.stream.fileno(), 0
    try:
        while data := probe.read(1 << 20):
            # (Both read CR-only content with CRs as newlines: the same bytes either way.)
            if original._lf(os.pread(fd, len(data), offset)) != data:
                return False
            offset += len(data)
    except DamagedStream:
        return False  # read as a file of its own, with its damage quarantined
    finally:
        probe.close()
    return offset > 0


def iter_blocks(source: Source, block_size: int) -> Iterator[bytes]:
    while True:
        data = source.read(block_size)
        if not data:
            return
        yield data
