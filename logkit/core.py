"""The native ingest core (`logkit._core`, the Rust crate in src/): every ingest's per-line work.

The core takes a whole block of raw lines and returns Arrow tables and the block's counts;
nothing per line crosses into Python. What it is told comes from here, so that there is one
source for each: the columns from logkit/schema.py, and the alias table from the generic log
format's file (logkit/formats/generic.toml).

The core recognises each record's log format and normalises it by that format's data; Python
stays the one reader of the format files (`load_formats`, with logkit.toml's formats and their
error messages) and hands the loaded specs over as JSON (`_specs_json`); a format the core
cannot compile is refused as they load (FormatUnsupported). Lines that are not one record each
are the core's too: an `[explode]` line is an event per record it holds, and the parts of a
line a writer split (`[partial]`) are joined within a block; where a block may end so that no
sequence of parts is cut (`Core.unfinished`, which the reader asks) is the core's scan as well.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import _core
from .errors import ConfigError, CoreBugWarning
from .formats import (
    GENERIC_FORMAT,
    FormatSpec,
    builtin_table,
    check_formats,
    field_names,
    load_formats,
    read_format_file,
    specs_json,
)
from .schema import EVENT_COLUMNS, REJECT_COLUMNS, STREAM_COLUMN

if TYPE_CHECKING:
    from .mask import Masker

# What the core is told and gives back (the ingest's blocks, logkit/ingest/): the log formats
# a run knows, a block's result, the masker.


@dataclass(frozen=True)
class FormatSettings:
    """Which log formats a run knows beyond the built-in ones, and the one it may force:
    logkit.toml's `[formats.NAME]` tables, `[ingest] formats_dir`, `ingest --log-format`."""

    tables: dict[str, Any] = field(default_factory=dict)
    formats_dir: str | None = None
    forced: str | None = None


@dataclass
class ChunkResult:
    """What one block of lines became. Its tables are the core's (`_core.Batches`): DuckDB
    reads them by name, `pa.table(x)` makes them pyarrow's; an ingest never loads pyarrow."""

    events: _core.Batches
    rejects: _core.Batches
    lines: int
    no_ts: int = 0
    newest_ts: int | None = None
    reasons: Counter[str] = field(default_factory=Counter)
    masked: Counter[str] = field(default_factory=Counter)
    # Per log format: [events, events with ts, level, message, service, trace_id].
    formats: dict[str, list[int]] = field(default_factory=dict)
    in_key: int = 0  # the private key block open before the block, as it was parsed
    # The private key block open after the block (`key_block_after`; 0 without a masker
    # that follows them): the next block's `in_key`.
    key_open: int = 0
    # Per trace key, its events' first and last ts and whether any had none (src/spans.rs).
    spans: _core.Batches | None = None

    @classmethod
    def of(cls, block: _core.Block, in_key: int = 0) -> ChunkResult:
        return cls(
            events=block.events,
            rejects=block.rejects,
            lines=block.lines,
            no_ts=block.no_ts,
            newest_ts=block.newest_ts,
            reasons=Counter(block.reasons),
            masked=Counter(block.masked),
            formats=dict(block.formats),
            in_key=in_key,
            key_open=block.key_open,
            spans=block.spans,
        )


def make_masker(
    mask_table: dict[str, Any],
    key: bytes | None,
    aliases: dict[str, list[str]] | None = None,
    formats: FormatSettings | None = None,
) -> Masker:
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
        or spec.inner_record
        or any(fs.default is not None or fs.nanos or fs.template for fs in spec.fields_last)
    ):
        # What the core does not read: refused rather than read differently.
        raise ConfigError(f"{GENERIC_FORMAT}: options the native core does not read")
    return [
        (fs.group, list(fs.paths), [p.pattern for p in fs.pattern], fs.keep)
        for fs in spec.fields_last
    ]


def native_masker(
    mask_table: dict[str, Any],
    key: bytes | None,
    aliases: dict[str, list[str]] | None = None,
    formats: FormatSettings | None = None,
) -> Any:
    """The native masker (src/mask/, `_core.Masker`) a `[mask]` table asks for: the one
    `make_masker` builds, which the core takes as is."""
    return make_masker(mask_table, key, aliases, formats).native


class Core:
    """One ingest's per-line pipeline in native code: parse, normalise, quarantine."""

    def __init__(
        self,
        aliases: Mapping[str, Iterable[str] | str] | None = None,
        *,
        max_line: int | None = None,
        masker: Any = None,
        formats: FormatSettings | None = None,
        specs: Mapping[str, FormatSpec] | None = None,
        stream: bool = False,
    ) -> None:
        """`masker`: a native masker (`native_masker`) that masks every block; `formats`: the
        log formats known and forced; `specs`: the formats known, loaded already, instead of
        those `formats` names (a format the core cannot read is FormatUnsupported); `stream`:
        events and rejects end with the store's `stream` column, each block's
        `process_chunk(stream=)`."""
        self.max_line = max_line
        self.formats = formats or FormatSettings()
        events = list(EVENT_COLUMNS)
        rejects = list(REJECT_COLUMNS)
        if stream:
            events.append(STREAM_COLUMN)
            rejects.append(STREAM_COLUMN)
        try:
            user, table = _table((aliases or {}).items()), builtin_table()
            if specs is None:
                # Not checked apart (`check_formats`): the core compiles them here anyway, and
                # compiling every format's patterns twice was a third of a run's start-up.
                specs = load_formats(self.formats.tables, self.formats.formats_dir, check=False)
            forced = self.formats.forced
            if forced is not None and forced not in specs:
                raise ConfigError(
                    f"no log format {forced!r}; known: {', '.join(sorted(specs))}"
                    " (see 'logkit formats')"
                )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        try:
            data = specs_json(specs, forced)
            self._core = _core.Core(events, rejects, user, table, [], masker, data)
        except ValueError as exc:
            # A format the core cannot read is named as such by the check, run only now;
            # otherwise the core refused the aliases.
            check_formats(specs)
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
        """What the block `data` (complete lines; the last may lack its newline) becomes:
        its events, rejects and counts. `extra_rejects`: lines the reader already refused
        (too long), as (line, offset, reason, raw prefix), quarantined (masked) with the
        rest; `in_key`: a private key block open before the block (its bytes so far), for a
        masked core (the result's `key_open`: the one open after it); a line longer than
        `max_line` bytes is quarantined as line_too_long."""
        block = self.process_block(
            source, data, first_line, first_offset, extra_rejects, in_key,
            stream=stream, max_line=max_line,
        )  # fmt: skip
        return ChunkResult.of(block, in_key)

    def process_block(
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
    ) -> _core.Block:
        """`process_chunk`, the block as the core gives it (`ChunkResult.of` counts it): no
        Python object is made of it here."""
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
                stacklevel=3,
            )
        return block

    @property
    def splits(self) -> bool:
        """Whether a format splits lines into parts ([partial]): then the reader asks
        `unfinished` where each block may end."""
        return self._core.splits

    def unfinished(self, chunk: bytes) -> int:
        """The offset in `chunk` (complete lines) of the first part of the earliest sequence
        of parts it leaves open; len(chunk) when it leaves none."""
        return self._core.unfinished(chunk)
