"""Compressed streams read as far as they can be trusted: gzip members and zstd frames one
after another (`Members`), each checked before its bytes are handed out (`Verifier`), and
where one cannot be read to its end, the `DamagedStream` that says from where nothing is."""

from __future__ import annotations

import io
import os
import zlib
from typing import BinaryIO, Protocol

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def open_stream(raw: BinaryIO) -> tuple[io.BufferedIOBase | Members, str]:
    """Wrap a binary file in the decompressor its first bytes call for: a plain stream is
    an io.BufferedReader, a compressed one `Members`."""
    # (BinaryIO does not declare the readinto a BufferedReader needs; every raw stream given
    # here, a file, stdin's buffer or a BytesIO in tests, has it.)
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[type-var]
    magic = buffered.peek(4)[:4]
    if magic.startswith(GZIP_MAGIC):
        return Members(buffered, "gzip"), "gzip"
    if magic.startswith(ZSTD_MAGIC):
        return Members(buffered, "zstd"), "zstd"
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
    """What `Members` reads compressed bytes from: a binary file, or `_Pread`."""

    def read(self, n: int, /) -> bytes: ...
    def close(self) -> None: ...


class _Decompressor(Protocol):
    """One member's decoder: zlib's decompressobj or zstandard's."""

    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, /) -> bytes: ...


class Members:
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


class Verifier:
    """How far a compressed file's decompressed bytes may be trusted, found ahead of reading.

    A gzip member's CRC (a zstd frame's checksum) is only known at its end, and lines read
    before it would be stored before a corrupt member is found out. So before the reader hands
    out a member's bytes, this pass decodes the member on its own (zlib runs ~100x faster than
    parsing its lines) and checks it. A member that fails is not read at all: the stream
    stops where it begins. A cut-short last member cannot be checked; what it decodes to up to
    the cut is handed out, then the cut.
    """

    def __init__(self, fd: int, kind: str) -> None:
        self._members = Members(_Pread(fd), kind)
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
