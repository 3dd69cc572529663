"""Which checkpoint each source continues: by inode and fingerprints, then by fingerprints
alone (a rotated file renamed, copied or compressed), a named stdin stream by its name; and
which compressed files are copies of a plain file this run reads under its checkpoint.

Exactly-once reading rests on `Checkpoint` (checkpoints.py): a file is the continuation of a
checkpoint only when both its fingerprints still match, which tells apart the cases that inode
or path alone get wrong:

* rename rotation (`app.log` → `app.log.1`, maybe later `.2.gz`): same content, found again
  under the new name (and, once compressed, under a new inode);
* copytruncate: the copy carries the old content, the truncated original starts afresh;
* a file truncated and regrown past the old offset, or an inode reused by a new file: the
  fingerprints differ, so it is read from the start;
* two files that begin with the same line: the head covers up to 1 KiB, not one line, and a
  checkpoint whose inode is among the inputs is given to that inode first.
"""

from __future__ import annotations

import io
import os

from .checkpoints import Checkpoint, digest
from .sources import HEAD_BYTES, Source
from .streams import DamagedStream


def _matches(source: Source, cp: Checkpoint) -> bool:
    if source.size is not None and source.size < cp.byte_offset:
        return False
    head = source.peek_prefix(cp.head_len)
    if len(head) != cp.head_len or digest(head) != cp.head_hash:
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
    return digest(tail) == cp.tail_hash


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
            if i in assigned or not source.resumable:
                continue
            candidates = [
                cp
                for cp in checkpoints
                if id(cp) not in taken
                and (not same_inode or (cp.dev, cp.ino) == (source.dev, source.ino))
                # Nothing read, nothing to recognise: an empty file's checkpoint is its own.
                and (same_inode or cp.byte_offset > 0)
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
        and digest(head[: cp.head_len]) == cp.head_hash
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
        and source.resumable
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
