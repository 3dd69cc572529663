"""Where lines come from: paths, globs, directories and stdin; plain, gzip and zstd.

A *source* is one stream of bytes. Files are recognised as compressed by their magic bytes, so a
rotated `app.log.2.gz` and a misnamed `app.log` holding gzip both read correctly (streams.py).
Which checkpoint a source continues is rotation.py's.

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
import io
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, BinaryIO

from ..errors import InputError
from .checkpoints import Checkpoint
from .sniff import cr_only, unreadable_container
from .streams import DamagedStream, Members, Verifier, open_stream

HEAD_BYTES = 1024
TAIL_BYTES = 256
CR_PROBE_BYTES = 64 * 1024
STDIN = "-"

# What a directory contributes: log-ish names, their rotations and compressed forms. A
# rotation's suffix is digits and separators: logrotate's app.log.1 and app.log-20261122,
# Python's TimedRotatingFileHandler's app.log.2026-11-22 (and _10-00-00 for shorter
# intervals), logrotate's `dateformat -%Y-%m-%d-%s`. DOTALL: a name may hold a newline.
_LOG_NAME = re.compile(
    r"(?P<base>.*\.(?:log|json|jsonl|ndjson))(?P<rotation>(?:[-._]\d+)*)(?:\.(?:gz|zst))?"
    r"|.*\.(?:gz|zst)",
    re.IGNORECASE | re.DOTALL,
)
_DIGITS = re.compile(r"\d+")


def _rotation_key(path: str) -> tuple[str, str, int, tuple[int, ...]]:
    """Oldest first within a log's rotations, the live file last, so that a directory is read
    in the order it was written: app.log.3.gz, app.log.2, app.log.1, app.log; and
    app.log.2026-11-21, app.log.2026-11-22, app.log (a numbered rotation counts down to the
    newest, a dated one up)."""
    directory, name = os.path.split(path)
    match = _LOG_NAME.fullmatch(name)
    if match is None or match.group("base") is None:
        return (directory, name, 1, ())
    rotation = match.group("rotation")
    if not rotation:
        return (directory, match.group("base"), 1, ())
    numbers = tuple(int(n) for n in _DIGITS.findall(rotation))
    if len(numbers) == 1 and rotation.startswith(".") and numbers[0] < 1000:
        numbers = (-numbers[0],)
    return (directory, match.group("base"), 0, numbers)


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


def without_store_files(
    names: list[str], store_files: Mapping[tuple[int, int], str]
) -> tuple[list[str], list[str]]:
    """`names` less the store's own files (`keyfile.store_files`, matched by device and inode,
    whatever the name or glob that reached them), and a sentence for each one left out."""
    kept, left_out = [], []
    for name in names:
        try:
            info = os.stat(name) if name != STDIN else None
        except OSError:
            info = None
        what = store_files.get((info.st_dev, info.st_ino)) if info is not None else None
        if what is None:
            kept.append(name)
        else:
            left_out.append(f"{name}: the store's own {what}, not a log: not read")
    return kept, left_out


class Source:
    """One input stream, opened once, with what is needed to match it to a checkpoint."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.is_stdin = name == STDIN
        regular = False  # a regular file, which can be read twice and at any offset
        self.named = False  # stdin given a name (see `name_stdin`)
        # A named pipe, a character device or a process substitution's /dev/fd/N: read once,
        # whole, like stdin. Its size says nothing and what it gave cannot be read again, so
        # it has no checkpoint to continue, and its last line without a newline is complete.
        self.piped = False
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
            self.piped = not regular
            self.dev, self.ino = st.st_dev, st.st_ino
            self.stream, self.kind = open_stream(fh)
            self.size = st.st_size if self.kind == "plain" and regular else None
            self.file_size, self.mtime_ns = st.st_size, st.st_mtime_ns
        if self.compressed and not regular:
            # A pipe (stdin, or a named one) is spooled to a temporary file (compressed, so
            # ~10x smaller than its lines), so that each member can be checked before its lines
            # are read, as a file's are.
            assert isinstance(self.stream, Members)
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
        self._verifier = Verifier(fh.fileno(), self.kind) if self.compressed else None
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
        refused = unreadable_container(prefix, "-" if self.is_stdin else name)
        if refused is not None:
            self.close()
            raise InputError(refused)
        self.cr_only = cr_only(prefix)

    @property
    def compressed(self) -> bool:
        return self.kind != "plain"

    @property
    def may_wait(self) -> bool:
        """Whether a read may wait for a writer (plain stdin, a named pipe), as a file's or a
        spooled archive's never does."""
        return self.kind == "plain" and self._fd is None

    @property
    def rereadable(self) -> bool:
        """Whether what was read can be read again by offset (`rereader`): a plain file."""
        return self._fd is not None

    @property
    def final(self) -> bool:
        """Whether the stream can never grow, so a last line without newline is complete.

        A named stdin stream is piped again, grown, like a file that grows: its last line
        without a newline waits for the next run (unless compressed, which cannot be cut
        mid-line and still be read)."""
        return (self.is_stdin and not self.named) or self.piped or self.compressed

    @property
    def resumable(self) -> bool:
        """Whether the stream may continue a checkpoint and keep one: a file (plain or
        compressed, renamed or not) or stdin given a name."""
        return self.named or not (self.is_stdin or self.piped)

    def name_stdin(self, name: str) -> None:
        """Make stdin the stream called `name`, which has a checkpoint of its own."""
        assert self.is_stdin
        self.name, self.named = name, True

    def _lf(self, data: bytes) -> bytes:
        return _lf(data, self.cr_only)

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
        """Why `data`, just read at `start`, may not be the opened file's bytes ('' if it is)
        (`_changed`); a head read short when the file was opened is extended here."""
        assert self._fd is not None
        why, self.head = _changed(self._fd, self.head, start, data)
        return why

    def rereader(self) -> Reread:
        """The plain file's bytes, to be read again by offset after the source is closed (a
        transaction that DuckDB refused is stored again from them, see ingest/commit.py)."""
        assert self._fd is not None
        return Reread(self.name, os.dup(self._fd), self.head, self.cr_only)

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


def _lf(data: bytes, cr_only: bool) -> bytes:
    # CR for LF, byte for byte: offsets, checkpoints and fingerprints stay those of the file.
    return data.replace(b"\r", b"\n") if cr_only else data


def _changed(fd: int, head: bytes, start: int, data: bytes) -> tuple[str, bytes]:
    """Why `data`, just read at `start` of the file open as `fd`, may not be the opened file's
    bytes ('' if it is), and the head as it now stands.

    Checked after the read, so a truncation or rewrite at any moment before this check is
    seen: the file is now shorter than what was read, or its head (the first HEAD_BYTES, as
    first read) differs. Bytes read inside the head must agree with it.
    """
    if os.fstat(fd).st_size < start + len(data):
        return "truncated", head
    now = os.pread(fd, HEAD_BYTES, 0)
    if not now.startswith(head):
        return ("truncated" if len(now) < len(head) else "rewritten"), head
    overlap = now[start : start + len(data)]
    if data[: len(overlap)] != overlap:
        return "rewritten", head
    return "", now


class Reread:
    """A plain file's bytes by offset, checked as its reader checks them, on a descriptor of
    its own (closed with the last reference: blocks of a transaction not yet committed keep
    it, after the run has closed the source)."""

    # Descriptors held at once, at most: a transaction over a directory of small files keeps
    # one per file until it commits, and a process may have no more than 1024 (a common
    # limit); the files beyond go through the spool instead (`available`, ingest/run.py).
    MAX_OPEN = 256
    _open = 0
    _lock = threading.Lock()

    def __init__(self, name: str, fd: int, head: bytes, cr_only: bool) -> None:
        self.name, self.fd, self.head, self.cr_only = name, fd, head, cr_only
        with Reread._lock:
            Reread._open += 1
        weakref.finalize(self, Reread._close, fd)

    @staticmethod
    def _close(fd: int) -> None:
        os.close(fd)
        with Reread._lock:
            Reread._open -= 1

    @classmethod
    def available(cls) -> bool:
        """Whether one more may be held."""
        return cls._open < cls.MAX_OPEN

    def read(self, offset: int, length: int) -> bytes:
        """The `length` bytes at `offset`, as the reader gave them; InputError if the file no
        longer holds them (truncated or rewritten since)."""
        data = os.pread(self.fd, length, offset)
        why = "truncated" if len(data) < length else ""
        if not why:
            why, self.head = _changed(self.fd, self.head, offset, data)
        if why:
            raise InputError(f"{self.name}: {why} while it was being stored")
        return _lf(data, self.cr_only)
