"""What an ingest's per-line work is told and gives back: the log formats a run knows, the
masker its `[mask]` table asks for, the reject table's columns and a block's result.

The work itself is the native core's (logkit/core.py, the Rust crate in src/): it takes a block
of complete lines and returns Arrow tables of events and rejects and the block's counts, with
nothing per line in Python. This module is what the rest of logkit hands it and gets back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

TOO_LONG_KEEP = 64 * 1024  # prefix of an over-long line kept for the (masked) quarantine
REJECT_SCHEMA = pa.schema(
    [("source", pa.string()), ("line", pa.int64()), ("byte_offset", pa.int64()),
     ("reason", pa.string()), ("raw", pa.string())]
)  # fmt: skip


@dataclass(frozen=True)
class FormatSettings:
    """Which log formats a run knows beyond the built-in ones, and the one it may force:
    logkit.toml's `[formats.NAME]` tables, `[ingest] formats_dir`, `ingest --log-format`."""

    tables: dict[str, Any] = field(default_factory=dict)
    formats_dir: str | None = None
    forced: str | None = None


@dataclass
class ChunkResult:
    """What one block of lines became."""

    events: pa.Table
    rejects: pa.Table
    lines: int
    no_ts: int = 0
    newest_ts: int | None = None
    reasons: Counter[str] = field(default_factory=Counter)
    masked: Counter[str] = field(default_factory=Counter)
    # Per log format: [events, events with ts, level, message, service, trace_id].
    formats: dict[str, list[int]] = field(default_factory=dict)


def make_masker(
    mask_table: dict[str, Any],
    key: bytes | None,
    aliases: dict[str, list[str]] | None = None,
    formats: FormatSettings | None = None,
) -> Any:
    """The Masker (logkit/mask.py, native) a `[mask]` table asks for; `aliases` and the log
    formats tell it where `fields` may come from. MaskConfigError or MaskKeyMissing (both
    ConfigErrors) when the table or the key will not do."""
    from .mask import Masker

    sources = mask_field_sources(mask_table, aliases, formats)
    return Masker.from_config(mask_table, key, field_aliases=sources)


def mask_field_sources(
    mask_table: dict[str, Any],
    aliases: dict[str, list[str]] | None = None,
    formats: FormatSettings | None = None,
) -> dict[str, list[str]] | None:
    """Per field of `[mask] fields`, the record keys it may come from (`aliases`, the log
    formats' names for it); None without `fields`."""
    from .formats import field_names, load_formats
    from .normalize import field_sources

    fields = mask_table.get("fields") or ()
    if not fields:
        return None
    sources = field_sources(aliases, fields)
    settings = formats or FormatSettings()
    specs = load_formats(settings.tables, settings.formats_dir)
    for field_name, names in field_names(specs, fields).items():
        sources[field_name] = list(dict.fromkeys([*sources[field_name], *names]))
    return sources
