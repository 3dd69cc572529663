"""The native ingest core (`logkit._core`, the Rust crate in src/) behind `process_chunk`'s shape.

The core takes a whole block of raw lines and returns Arrow tables and the block's counts;
nothing per line crosses into Python. What it is told comes from here, so that there is one
source for each: the columns from logkit/schema.py (events) and pipeline.REJECT_SCHEMA, and the
alias table from logkit/normalize.py (BUILTIN_ALIASES, which the format files will supply).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import _core
from .errors import ConfigError
from .normalize import BUILTIN_ALIASES
from .pipeline import REJECT_SCHEMA, ChunkResult
from .schema import EVENT_COLUMNS

# The generic format's file (logkit/formats/), where the format files exist: its [fields] are the
# built-in alias table, read by the core itself.
GENERIC_FORMAT = Path(__file__).resolve().parent / "formats" / "generic.toml"

# Arrow types of the reject table as the DuckDB type names schema.py uses for events.
_TYPE_NAMES = {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.int32(): "INTEGER"}


def _table(rows: Iterable[tuple[str, Iterable[str] | str]]) -> list[tuple[str, list[str]]]:
    table = []
    for group, names in rows:
        names = [names] if isinstance(names, str) else list(names)
        if not all(isinstance(name, str) and name for name in names):
            raise ConfigError(f"[aliases] {group} must be a list of non-empty field names")
        table.append((group, names))
    return table


def builtin_table() -> list[tuple[str, list[str]]]:
    """The built-in alias table: the generic format file's fields, else normalize.py's table."""
    if GENERIC_FORMAT.is_file():
        try:
            return _core.alias_table_from_toml(GENERIC_FORMAT.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{GENERIC_FORMAT}: {exc}") from None
    return _table(BUILTIN_ALIASES)


class Core:
    """One ingest's per-line pipeline in native code: parse, normalise, quarantine."""

    def __init__(self, aliases: Mapping[str, Iterable[str] | str] | None = None) -> None:
        rejects = [(f.name, _TYPE_NAMES[f.type]) for f in REJECT_SCHEMA]
        try:
            user, table = _table((aliases or {}).items()), builtin_table()
            self._core = _core.Core(list(EVENT_COLUMNS), rejects, user, table)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def process_chunk(
        self,
        source: str,
        data: bytes,
        first_line: int,
        first_offset: int,
        extra_rejects: Sequence[tuple[int, int, str, bytes]] = (),
        *,
        stream: Any = None,
        max_line: int | None = None,
    ) -> ChunkResult:
        """`pipeline.process_chunk` without masking: the same result from the core."""
        block = self._core.process(
            data, source, first_line, first_offset, stream, max_line, list(extra_rejects)
        )
        return ChunkResult(
            events=pa.table(block.events),
            rejects=pa.table(block.rejects),
            lines=block.lines,
            no_ts=block.no_ts,
            newest_ts=block.newest_ts,
            reasons=Counter(block.reasons),
            masked=Counter(block.masked),
        )
