"""Putting a finished file in place so that a crash leaves the old one or the new one.

The store, the textfile exposition and the lake's Parquet files and manifests are all written
under a temporary name beside their target, then renamed: the rename is atomic, and the two
fsyncs make it survive a power cut too (the data before the name, the directory after it).
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync(path: str | os.PathLike[str], *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(tmp: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Rename a fully written `tmp` over `target`, durably."""
    fsync(tmp)
    os.replace(tmp, target)
    fsync(Path(target).parent, directory=True)
