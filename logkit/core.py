"""The native ingest core (`logkit._core`, the Rust crate in src/) behind `process_chunk`'s shape.

The core takes a whole block of raw lines and returns Arrow tables and the block's counts;
nothing per line crosses into Python. What it is told comes from here, so that there is one
source for each: the columns from logkit/schema.py (events) and pipeline.REJECT_SCHEMA, and the
alias table from the generic log format's file (logkit/formats/generic.toml).

Experimental (LOGKIT_CORE=1, see ingest.core_refusal): the core reads every record as the
generic format, the one `--log-format generic` forces; the per-record recognition of the other
formats (logkit/formats) is the Python pipeline's only.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import _core
from .errors import ConfigError, CoreBugWarning
from .formats import COVERAGE, GENERIC, read_format_file
from .normalize import ALIAS_GROUPS, BUILTIN_ALIASES
from .pipeline import REJECT_SCHEMA, ChunkResult, FormatSettings, make_masker
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


def late_table() -> list[tuple[str, list[str], list[str], bool]]:
    """The generic format's `[fields_last]` as (group, paths, patterns, keep) rows: what is read
    after every other alias (an error type found in a stack trace)."""
    if not GENERIC_FORMAT.is_file():
        return []
    spec = read_format_file(GENERIC_FORMAT)
    options = [fs for fs in spec.fields if fs.pattern or fs.keep or fs.default is not None
               or fs.nanos or fs.template]  # fmt: skip
    if (
        options
        or spec.levels
        or spec.inner
        or any(fs.default is not None or fs.nanos or fs.template for fs in spec.fields_last)
    ):
        # What the core does not read: refused rather than read differently.
        raise ConfigError(f"{GENERIC_FORMAT}: options the native core does not read")
    return [
        (fs.group, list(fs.paths), [p.pattern for p in fs.pattern], fs.keep)
        for fs in spec.fields_last
    ]


def check_alias_groups() -> None:
    """Refuse a core whose alias groups are not normalize.ALIAS_GROUPS: the same names, each
    feeding the same columns, keeping the original the same way. A group is code on both sides
    (its converter), so this is where they are held to one list: a group added in Python and
    not ported is a refusal naming it, not `[aliases]` read differently."""
    python = {(g, field, bool(keep)) for g, rows in ALIAS_GROUPS.items() for field, _, keep in rows}
    native = set(_core.alias_groups())
    if python != native:
        differ = sorted({g for g, _, _ in python ^ native})
        raise ConfigError(
            "the native core's alias groups differ from logkit/normalize.py's: " + ", ".join(differ)
        )


def builtin_table() -> list[tuple[str, list[str]]]:
    """The built-in alias table: the generic format file's fields, else normalize.py's table."""
    if GENERIC_FORMAT.is_file():
        try:
            return _core.alias_table_from_toml(GENERIC_FORMAT.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ConfigError(f"{GENERIC_FORMAT}: {exc}") from None
    return _table(BUILTIN_ALIASES)


def native_masker(
    mask_table: dict[str, Any],
    key: bytes | None,
    aliases: dict[str, list[str]] | None = None,
    formats: FormatSettings | None = None,
) -> Any:
    """The native masker (src/mask/, `_core.Masker`) a `[mask]` table asks for: the one
    `pipeline.make_masker` builds, which the core takes as is."""
    return make_masker(mask_table, key, aliases, formats).native


class Core:
    """One ingest's per-line pipeline in native code: parse, normalise, quarantine."""

    def __init__(
        self,
        aliases: Mapping[str, Iterable[str] | str] | None = None,
        *,
        max_line: int | None = None,
        masker: Any = None,
    ) -> None:
        """`masker`: a native masker (`native_masker`) that masks every block."""
        self.max_line = max_line
        rejects = [(f.name, _TYPE_NAMES[f.type]) for f in REJECT_SCHEMA]
        check_alias_groups()
        try:
            user, table = _table((aliases or {}).items()), builtin_table()
            self._core = _core.Core(list(EVENT_COLUMNS), rejects, user, table, late_table(), masker)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    def process_chunk(
        self,
        source: str,
        data: bytes,
        first_line: int,
        first_offset: int,
        extra_rejects: Sequence[tuple[int, int, str, bytes]] = (),
        in_key: int = 0,
        *,
        stream: Any = None,
        max_line: int | None = None,
    ) -> ChunkResult:
        """`pipeline.process_chunk`, every record read as the generic log format
        (`--log-format generic`): the same result from the core. `in_key`: a private key
        block open before the block (its bytes so far), for a masked core."""
        if max_line is None:
            max_line = self.max_line
        block = self._core.process(
            data, source, first_line, first_offset, stream, max_line, list(extra_rejects), in_key
        )
        bugs = block.reasons.get("internal_error", 0)
        if bugs:
            warnings.warn(
                f"the native core failed on a block of {source} from line {first_line}; its"
                f" {bugs} lines are quarantined as internal_error (a bug: please report it)",
                CoreBugWarning,
                stacklevel=2,
            )
        events = pa.table(block.events)
        return ChunkResult(
            events=events,
            rejects=pa.table(block.rejects),
            lines=block.lines,
            no_ts=block.no_ts,
            newest_ts=block.newest_ts,
            reasons=Counter(block.reasons),
            masked=Counter(block.masked),
            formats=_coverage(events),
        )


def _coverage(events: pa.Table) -> dict[str, list[int]]:
    # The per-format counts of the summary (formats.Recognizer.take_counts): every event is
    # the generic format's.
    if not events.num_rows:
        return {}
    n = events.num_rows
    return {GENERIC: [n, *(n - events.column(c).null_count for c in COVERAGE)]}
