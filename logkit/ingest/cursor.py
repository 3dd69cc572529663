"""What the reading side of a run hands the committer (ingest/commit.py): a source being read
with its checkpoint, and each block the core parsed. Apart from commit.py, which loads DuckDB's
Python layer, so that a run's reading and its core start before it loads."""

from __future__ import annotations

from dataclasses import dataclass

from ..core import ChunkResult
from .blocks import Block
from .checkpoints import Checkpoint
from .sources import Source
from .summary import SourceReport


@dataclass
class Cursor:
    """A source being read, with the checkpoint its committed blocks advance."""

    source: Source
    checkpoint: Checkpoint
    report: SourceReport
    head: bytes


# A block the core parsed, as the run hands it to be stored (no cursor: unnamed stdin's).
Record = tuple[Cursor | None, ChunkResult, Block]
