"""What a stream's first bytes say it is: lines ended by bare CRs, text in UTF-16 or UTF-32,
or an archive or a compression logkit does not read (refused by name rather than read as
lines of binary)."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable


def cr_only(prefix: bytes) -> bool:
    """Whether a stream that begins with `prefix` ends its lines with a bare CR: a CR, and no
    LF at all. A CR as the very last byte may be the first half of a CRLF not yet written."""
    return b"\n" not in prefix and b"\r" in prefix[:-1]


# Byte order marks of the encodings that are not UTF-8, UTF-32's first (its LE mark begins
# with UTF-16LE's).
_WIDE_MARKS = (
    (b"\xff\xfe\x00\x00", "UTF-32LE"), (b"\x00\x00\xfe\xff", "UTF-32BE"),
    (b"\xff\xfe", "UTF-16LE"), (b"\xfe\xff", "UTF-16BE"),
)  # fmt: skip


# Archives and compressions logkit does not read, by their first bytes: read as lines they
# gave a rejected line per stretch of binary (a tar's first and last record were lost to
# its header and padding), so such an input is refused, saying how to get its lines out. Each
# is told by a header that checks itself (a checksum, or fields that must hold), so no line of
# a log, nor a short run of stray bytes, is taken for one.
_PIPE_IT = "{tool} -dc {name} | logkit ingest --name {stem} -"
_EXTRACT = "extract it ({tool}) and ingest the directory"


def _le(data: bytes) -> int:
    return int.from_bytes(data, "little")


def _xz(head: bytes) -> bool:
    # Magic, two stream flag bytes (the first zero, the second's high nibble zero), their CRC32.
    return (
        len(head) >= 12 and head[:6] == b"\xfd7zXZ\x00" and head[6] == 0 and head[7] < 16
        and zlib.crc32(head[6:8]) == _le(head[8:12])
    )  # fmt: skip


def _bzip2(head: bytes) -> bool:
    # Magic, a block size digit, and the first block's magic (pi's digits in BCD).
    return head[:3] == b"BZh" and head[3:4] in b"123456789" and head[4:10] == b"1AY&SY"


def _zip(head: bytes) -> bool:
    # A local file header: version needed, a known compression method, its name in the head.
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        return False
    name_length = _le(head[26:28])
    return (
        _le(head[4:6]) <= 63
        and _le(head[8:10]) in (0, 8, 9, 12, 14, 93, 95)
        and (0 < name_length and 30 + name_length <= len(head))
    )


def _7z(head: bytes) -> bool:
    # Signature, version, and the start header's CRC32 of the 20 bytes after it.
    return (
        len(head) >= 32
        and head[:6] == b"7z\xbc\xaf\x27\x1c"
        and (zlib.crc32(head[12:32]) == _le(head[8:12]))
    )


_CONTAINERS: tuple[tuple[Callable[[bytes], bool], str, str, str], ...] = (
    (_xz, "xz-compressed", _PIPE_IT, "xz"),
    (_bzip2, "bzip2-compressed", _PIPE_IT, "bzip2"),
    (_zip, "a zip archive", _EXTRACT, "unzip"),
    (_7z, "a 7-Zip archive", _EXTRACT, "7z x"),
)


def unreadable_container(prefix: bytes, name: str) -> str | None:
    """Why the stream starting with `prefix` (as decompressed) is not lines of a log but an
    archive or a compression logkit does not read, with what to do instead; else None."""
    import shlex

    found = [(what, how, tool) for test, what, how, tool in _CONTAINERS if test(prefix)]
    if _tar_header(prefix[:512]):
        found.append(("a tar archive", _EXTRACT, "tar -xf"))
    if not found:
        return None
    what, how, tool = found[0]
    base = os.path.basename(name)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    todo = how.format(tool=tool, name=shlex.quote(name), stem=shlex.quote(stem))
    return f"{name}: {what}, which logkit does not read as lines: {todo}"


def _tar_header(block: bytes) -> bool:
    """Whether `block` is a tar header: `ustar` at 257 and its checksum right (the sum of its
    bytes, the checksum's own eight counted as spaces), so no log line is taken for one."""
    if len(block) < 512 or block[257:262] != b"ustar":
        return False
    try:
        recorded = int(block[148:156].strip(b" \x00") or b"x", 8)
    except ValueError:
        return False
    return recorded == sum(block[:148]) + 8 * 32 + sum(block[156:512])


def wide_encoding(prefix: bytes) -> str | None:
    """UTF-16 or UTF-32 (what Windows PowerShell's `>` writes), told by a byte order mark or,
    without one, by a NUL beside each byte of ASCII text: the encoding's name, else None."""
    for mark, name in _WIDE_MARKS:
        if prefix.startswith(mark):
            return name
    sample = prefix[:64]
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 8 and not odd.strip(b"\x00") and b"\x00" not in even:
        return "UTF-16LE"
    if len(sample) >= 8 and not even.strip(b"\x00") and b"\x00" not in odd:
        return "UTF-16BE"
    return None
