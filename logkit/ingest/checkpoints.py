"""A checkpoint: how far into a stream logkit has stored everything, plus two fingerprints
(the stream's first bytes, the bytes just before the offset) by which the stream is known
again (see rotation.py); loaded from and saved to the store's `sources` table."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


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


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def fingerprint(data: bytes) -> tuple[int, str]:
    return len(data), digest(data)


def load_checkpoints(con: Any) -> list[Checkpoint]:
    rows = con.execute(
        "SELECT id, path, dev, ino, head_len, head_hash, tail_len, tail_hash, byte_offset, lines,"
        " events, rejects, epoch_us(newest_ts), eof_size, eof_mtime_ns FROM sources"
    ).fetchall()
    return [Checkpoint(*row) for row in rows]


_CHECKPOINT_COLUMNS = (
    "id", "path", "dev", "ino", "head_len", "head_hash", "tail_len", "tail_hash", "byte_offset",
    "lines", "events", "rejects", "eof_size", "eof_mtime_ns",
)  # fmt: skip
_SAVE_CHECKPOINTS = f"""
    INSERT INTO sources ({", ".join(_CHECKPOINT_COLUMNS)}, newest_ts, first_seen, updated_at)
    VALUES {{rows}}
    ON CONFLICT (id) DO UPDATE SET
      {", ".join(f"{c} = excluded.{c}" for c in _CHECKPOINT_COLUMNS[1:])},
      newest_ts = excluded.newest_ts, updated_at = now()
"""


# Checkpoints upserted by one statement: each statement costs ~4 ms inside a run's
# transaction, which made a directory of 3,000 small files take 11 s to save alone.
_SAVED_AT_ONCE = 500


def save_checkpoints(con: Any, cps: Sequence[Checkpoint]) -> None:
    for start in range(0, len(cps), _SAVED_AT_ONCE):
        rows: list[str] = []
        params: dict[str, Any] = {}
        for i, cp in enumerate(cps[start : start + _SAVED_AT_ONCE]):
            params |= {f"{column}_{i}": getattr(cp, column) for column in _CHECKPOINT_COLUMNS}
            params[f"newest_ts_{i}"] = cp.newest_ts
            values = ", ".join(f"${column}_{i}" for column in _CHECKPOINT_COLUMNS)
            rows.append(f"({values}, make_timestamptz($newest_ts_{i}), now(), now())")
        con.execute(_SAVE_CHECKPOINTS.format(rows=", ".join(rows)), params)
