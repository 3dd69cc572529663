"""The log formats a store's config knows, and which one each line of a file is.

What `logkit formats` and `logkit formats detect` show (through `Store.formats` and
`Store.detect_formats`). Detection is the check to run before trusting a new source: it needs
no store file, reads the first lines of a file the way ingest would (formats from logkit.toml
included), and says per line the format recognised and what each canonical column would get.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Config
    from .core import Core


def catalogue(config: Config) -> list[dict[str, str]]:
    """Each format `config` knows: its name, description and where it is defined."""
    from .formats import known, load_formats
    from .ingest import format_settings

    settings = format_settings(config)
    specs = load_formats(settings.tables, settings.formats_dir)
    return [
        {"name": s.name, "description": s.description, "defined_in": _where(s.origin)}
        for s in known(specs)
    ]


def _where(origin: str) -> str:
    from .formats import FORMATS_DIR

    path = Path(origin)
    if path.parent == FORMATS_DIR:
        return f"built-in ({path.name})"
    return origin


@dataclass
class Detected:
    """One line's verdict: the format that made an event of it and the event's canonical
    columns (values as stored, before masking; the time in ISO 8601), or, with `columns` None,
    why it made no event (`format` then says so in parentheses)."""

    line: int
    format: str
    columns: dict[str, object] | None = None

    def columns_text(self) -> str:
        """The columns on one line for people (`logkit formats detect`'s table)."""
        return ", ".join(f"{k}={show(k, v)}" for k, v in (self.columns or {}).items())


# The event table's columns that are not the record's: where it was stored, the trace's hash.
_NOT_CANONICAL = frozenset({"attrs", "trace_key", "source", "line"})


def detect(
    config: Config, path: str, *, lines: int = 10, log_format: str | None = None
) -> list[Detected]:
    """What the first `lines` lines of `path` ('-': stdin) become, one verdict per event
    (a line may make several, or none yet), as the native core makes them in an ingest."""
    from .core import Core
    from .ingest import format_settings
    from .ingest.sources import Source

    core = Core(config.aliases, formats=format_settings(config, log_format))
    source = Source(path)
    try:
        data = b""
        while data.count(b"\n") < lines and (block := source.read(1 << 16)):
            data += block
    finally:
        source.close()
    found = []
    before = _Verdicts(core, b"")
    head = b""
    for number, raw in enumerate(itertools.islice(data.split(b"\n"), lines), start=1):
        if not raw.strip() and number > data.count(b"\n"):
            break
        head += raw + b"\n"
        # The lines so far as one block: a line's events are what it adds to them (a split
        # line's part that ends it turns the parts before it, stored so far as they were,
        # into the joined record).
        after = _Verdicts(core, head)
        if number in after.rejected:
            found.append(Detected(number, f"(rejected: {after.rejected[number]})"))
        elif core.splits and core.unfinished(raw + b"\n") == 0:
            found.append(
                Detected(number, "(part of a split line: its event is at the part that ends it)")
            )
        else:
            name = next((n for n, c in after.formats.items() if c > before.formats.get(n, 0)), "")
            made = [e for e in after.events if e[0] == number or e not in before.events]
            for _, event in made:
                columns = {k: v for k, v in event.items() if v is not None}
                if "ts" in columns:
                    columns["ts"] = show("ts", columns["ts"])
                found.append(Detected(number, name, columns))
        before = after
    return found


class _Verdicts:
    """What the core makes of a block of lines: its events as (line, canonical columns; the
    time in microseconds), the reason of each line it rejected, and how many events each
    format made."""

    def __init__(self, core: Core, data: bytes) -> None:
        import pyarrow as pa

        result = core.process_chunk("detect", data, 1, 0)
        table = pa.table(result.events)
        ts = table.schema.get_field_index("ts")
        table = table.set_column(ts, "ts", table.column(ts).cast(pa.int64()))
        self.events: list[tuple[int, dict[str, object]]] = [
            (row["line"], {k: v for k, v in row.items() if k not in _NOT_CANONICAL})
            for row in table.to_pylist()
        ]
        self.rejected = {r["line"]: r["reason"] for r in pa.table(result.rejects).to_pylist()}
        self.formats = {name: counts[0] for name, counts in result.formats.items()}


def show(column: str, value: object) -> str:
    """A column's value for people: the time in ISO 8601, anything longer than 40 cut."""
    if column == "ts" and type(value) is int:
        from datetime import UTC, datetime, timedelta

        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)
        return moment.isoformat().replace("+00:00", "Z")
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"
