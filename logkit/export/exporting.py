"""What `Store.export`, `Store.metrics_text` and `Store.prune` do: one cron run, a read of
what the last one left, and retention on demand."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LogkitError, StoreNotFound
from ..sqlfiles import statement
from . import retention
from .definitions import load_definitions
from .textfile import exposition, write_textfile
from .totals import MetricSet

if TYPE_CHECKING:
    from ..engine import duckdb
    from ..handles import Writable
    from ..ingest import IngestSummary
    from .retention import PruneResult


@dataclass
class ExportResult:
    """What one export did."""

    text: str
    textfile: Path | None = None
    ingested: IngestSummary | None = None
    pruned: PruneResult | None = None
    seconds: float = 0.0
    success: bool = True


def _record_run(
    con: duckdb.DuckDBPyConnection, started: float, success: bool, summary: IngestSummary | None
) -> None:
    con.execute(
        statement("export/record_run"),
        {
            "started": started,
            "finished": time.time(),
            "success": success,
            "lines": summary.lines if summary else 0,
            "events": summary.events if summary else 0,
            "rejects": summary.rejects if summary else 0,
        },
    )


def require_store(store: Writable) -> None:
    if not store.path.exists():
        raise StoreNotFound(
            f"no store at {store.path} (run 'logkit ingest PATH' first, or pass --db)"
        )


def metric_set(
    store: Writable, definitions: str | os.PathLike[str] | Iterable[Any] | None = None
) -> MetricSet:
    return MetricSet(load_definitions(definitions), max_series=store.config.max_series)


def export(
    store: Writable,
    textfile: str | os.PathLike[str] | None = None,
    *,
    ingest: Iterable[str] = (),
    definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
    mask: bool = True,
    now: float | None = None,
) -> ExportResult:
    """`Store.export`: one cron run (ingest, fold, retention, the textfile)."""
    started = time.time()
    metrics = metric_set(store, definitions)
    # A typo in the setting fails now, before any work.
    keep = retention.parse_retention(store.config.retention, where=store.config.path)
    inputs = list(ingest)
    if not inputs:
        require_store(store)
    summary = None
    failure: str | None = None
    pruned = None
    with store.writer() as session:
        if inputs:
            # Here, not at the top: ingest loads the pipeline and the native core, which
            # `logkit trace` (importing this module through store.py) must not pay for.
            from ..ingest import ingest as run_ingest
            from ..ingest.summary import named_error

            try:
                summary = run_ingest(session, inputs, mask=mask)
            except LogkitError as exc:
                failure = str(exc)
            else:
                if summary.errors:
                    failure = "; ".join(named_error(s.path, s.error) for s in summary.errors)
        with session.transaction() as con:
            metrics.fold(con)
        if keep is not None:
            pruned = retention.apply_retention(session, metrics, keep)
        with session.transaction() as con:
            _record_run(con, started, failure is None, summary)
            families = metrics.families(
                con, store_path=store.path, now=time.time() if now is None else now
            )
        text = exposition(families)
        written = write_textfile(textfile, text) if textfile is not None else None
    result = ExportResult(
        text, written, summary, pruned, time.time() - started, success=failure is None
    )
    if failure is not None:
        where = f"; metrics were written to {written}" if written else ""
        raise LogkitError(f"{failure}{where} with logkit_last_run_success 0")
    return result


def metrics_text(
    store: Writable,
    *,
    definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
    now: float | None = None,
) -> str:
    """`Store.metrics_text`: the exposition of the stored totals, on a read-only connection."""
    metrics = metric_set(store, definitions)
    with store.reader(store_only=True) as con:
        families = metrics.families(
            con, store_path=store.path, now=time.time() if now is None else now, record=False
        )
    return exposition(families)


def prune(
    store: Writable,
    older_than: str,
    *,
    compact: bool = False,
    definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
    dry_run: bool = False,
) -> PruneResult:
    """`Store.prune`: retention on demand (`dry_run`: only counted)."""
    age = retention.parse_age(older_than)
    if dry_run:
        require_store(store)
        with store.reader() as con:
            return retention.preview(con, store.path, age)
    metrics = metric_set(store, definitions)
    require_store(store)
    with store.writer() as session:
        return retention.prune(session, metrics, age, compact=compact)
