"""What an ingest run read and stored: the summary `ingest()` returns, a report per source."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..formats import COVERAGE


def named_error(path: str, error: str | None) -> str:
    """An input's error naming its file once: most say it already ("cannot read app.log: ...")."""
    if not error:
        return path
    return error if path in error else f"{path}: {error}"


@dataclass
class SourceReport:
    path: str
    # new | resumed | unchanged | copy (of a file read under its checkpoint) | error | changed
    # (truncated or rewritten while this run read it: what was read before is stored, the rest
    # is left for the next run, which finds the old content, if copied, by its fingerprints)
    status: str
    lines: int = 0
    events: int = 0
    rejects: int = 0
    error: str | None = None
    # A compressed stream that could not be read to its end: what, and from which line and
    # byte of its content nothing was stored (the reject truncated_stream or corrupt_stream).
    damage: str | None = None
    changed: str | None = None  # how it changed under the reader: truncated | rewritten
    encoding: str | None = None  # UTF-16 or UTF-32, which logkit does not read (sources.py)


@dataclass
class IngestSummary:
    """What a run read and stored."""

    lines: int = 0
    events: int = 0
    no_ts: int = 0
    bytes: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    masked: Counter[str] = field(default_factory=Counter)
    sources: list[SourceReport] = field(default_factory=list)
    seconds: float = 0.0
    # Inputs that gave nothing: a directory without log files, a file without one event.
    warnings: list[str] = field(default_factory=list)
    # Per log format: [events, then events with each of formats.COVERAGE].
    formats: dict[str, list[int]] = field(default_factory=dict)

    @property
    def rejects(self) -> int:
        return sum(self.rejected.values())

    @property
    def errors(self) -> list[SourceReport]:
        return [s for s in self.sources if s.status == "error"]

    @property
    def damaged(self) -> list[SourceReport]:
        return [s for s in self.sources if s.damage]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "events": self.events,
            "events_without_ts": self.no_ts,
            "rejects": self.rejects,
            "rejected_by_reason": dict(sorted(self.rejected.items())),
            "masked_by_detector": dict(sorted(self.masked.items())),
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "lines_per_second": round(self.lines / self.seconds) if self.seconds else None,
            "sources": [
                {**s.__dict__, "error": s.error and named_error(s.path, s.error)}
                for s in self.sources
            ],
            "damaged_inputs": len(self.damaged),
            "warnings": self.warnings,
            "formats": self.format_coverage(),
        }

    def format_coverage(self) -> dict[str, dict[str, Any]]:
        """Per log format, most events first: how many events it matched and the share of
        them (0..1) that got each key column."""
        return {
            name: {
                "events": counts[0],
                **{
                    column: round(n / counts[0], 4)
                    for column, n in zip(COVERAGE, counts[1:], strict=True)
                },
            }
            for name, counts in sorted(self.formats.items(), key=lambda kv: (-kv[1][0], kv[0]))
            if counts[0]
        }
