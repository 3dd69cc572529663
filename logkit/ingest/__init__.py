"""An ingest run: sources → blocks of complete lines → the native core → the store.

logkit reads each source in blocks of complete lines and hands each to the native core
(logkit/core.py), which parses, normalises and masks its lines on all cores but one, in this
process, and returns Arrow tables. Each block is stored as it comes, in a transaction that
commits with its source's checkpoint and the counters, so a run killed at any moment and rerun
stores exactly what an uninterrupted run would. The core parses up to eight blocks ahead of
the one being stored (one, from a pipe), and no more: nine blocks in flight bound memory
whatever the input size. A file is read on a thread of its own (ahead.py), so the thread that
stores blocks only stores them.

The parts, from the run down:

    run.py          the run (`ingest`): which sources, from which checkpoints, block by block
    commit.py       the write path: the open transaction, its spool, the counters
    blocks.py       a source cut into blocks of complete lines
    ahead.py        a file's blocks read on a thread of their own, ahead of storing
    summary.py      what a run read and stored, per source
    rotation.py     which checkpoint each source continues (rotated, copied, compressed)
    sources.py      one input stream (file, stdin), read so that a change under it is seen
    streams.py      gzip and zstd, checked member by member, and their damage
    checkpoints.py  how far a stream is stored, and its fingerprints; loaded and saved
"""

from .run import format_settings, ingest, mask_key
from .summary import IngestSummary, SourceReport

__all__ = ["IngestSummary", "SourceReport", "format_settings", "ingest", "mask_key"]
