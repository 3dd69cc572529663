"""The store's record of its batches into a lake (table lake_batches), as readers of store
and lake together need it: kept apart from archive.py, which imports the export package, so
that `logkit trace` and ingest, which read through logkit/lake/reading.py, do not."""

from __future__ import annotations

from dataclasses import dataclass

from ..engine import duckdb
from ..sqlfiles import statement
from .layout import Lake


@dataclass(frozen=True)
class Mark:
    """The store's record of its latest finished batch into one lake (table lake_batches)."""

    batch_id: str
    state: str  # 'archived' (its events are still in the store too) or 'pruned'
    cutoff_us: int
    next_rowid: int
    covered_rows: int | None

    @property
    def copied(self) -> str:
        """SQL true for the store's events this lake already holds; bound-free, from numbers."""
        if self.state != "archived":
            return "false"
        # `ts IS NOT NULL` first, so that an event without a time is false here, not NULL.
        return (
            f"(ts IS NOT NULL AND epoch_us(ts) < {int(self.cutoff_us)}"
            f" AND rowid < {int(self.next_rowid)})"
        )


def last_mark(con: duckdb.DuckDBPyConnection, lake: Lake) -> Mark | None:
    row = con.execute(statement("lake/last_mark"), {"lake": lake.key}).fetchone()
    return Mark(*row) if row else None
