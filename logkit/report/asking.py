"""What a postmortem asks of a store: three of its public questions, as a notebook asks them.

`Store.postmortem` hands itself to `analyze`. Naming what the analysis uses here, rather than
importing store.py, keeps the report below Store (the layers in pyproject.toml); mypy checks
that `Store` has it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import polars as pl

    from ..query.summaries import Overview
    from ..query.trace import TraceReport


class Asking(Protocol):
    """A store the postmortem reads through `sql`, `overview` and `trace_report`."""

    @property
    def path(self) -> Path: ...

    def sql(self, query: str, params: dict[str, object] | None = None) -> pl.DataFrame: ...

    def overview(self) -> Overview: ...

    def trace_report(self, trace_id: str) -> TraceReport: ...
