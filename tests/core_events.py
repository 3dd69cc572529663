"""Records through the native core, for the tests of what normalisation makes of a record.

The core is the only normaliser (src/normalize/, src/formats/); these helpers write each
record as a JSON line, run it through `core.Core.process_chunk` as an ingest would (the generic
format forced unless a format is named, so the alias table alone decides) and give the event
back as a dict: the canonical columns in store order (the time in microseconds since the
epoch), then `attrs` parsed. A record the core would quarantine raises `Rejected`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from typing import Any

from logkit import core
from logkit.core import FormatSettings
from logkit.schema import EVENT_COLUMNS

# The event's own columns: not where it was stored (source, line) nor the trace id's hash.
CANONICAL_FIELDS = tuple(
    name for name, _ in EVENT_COLUMNS if name not in ("trace_key", "attrs", "source", "line")
)


class Rejected(Exception):
    """The core quarantined the record; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def _native(aliases: str, forced: str | None) -> core.Core:
    return core.Core(json.loads(aliases) or None, formats=FormatSettings(forced=forced))


def shared_core(forced: str | None = "generic") -> core.Core:
    """One core for a whole test run (built-in aliases; the generic format forced unless
    `forced` is None, every format then), as an ingest keeps one for all its blocks: building
    one, every format compiled, was most of a property test's example."""
    return _native("{}", forced)


def line_of(record: Any) -> bytes:
    """A record as a JSON line (NaN and Infinity, which the core reads, written as such)."""
    return json.dumps(record).encode()


class Records(Exception):
    """One line made other than one event (`events`: each record of an `[explode]` line)."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(events)} events")
        self.events = events


def block(native: core.Core, lines: Iterable[bytes]) -> tuple[list[Any], dict[str, list[int]]]:
    """Lines as one block through `native`: per line, its events (a list; empty for a part of a
    split line whose event is at its first part) or what it was rejected for; and the counts
    per format."""
    import pyarrow as pa

    lines = list(lines)
    result = native.process_chunk("test", b"".join(line + b"\n" for line in lines), 1, 0)
    table = pa.table(result.events)
    ts = table.schema.get_field_index("ts")
    table = table.set_column(ts, "ts", table.column(ts).cast(pa.int64()))
    made: list[Any] = [[] for _ in lines]
    for row in table.to_pylist():
        event = {name: row[name] for name in CANONICAL_FIELDS}
        event["attrs"] = json.loads(row["attrs"])
        made[row["line"] - 1].append(event)
    for row in pa.table(result.rejects).to_pylist():
        made[row["line"] - 1] = Rejected(row["reason"])
    return made, result.formats


def events(
    lines: Iterable[bytes], aliases: dict[str, Any] | None = None, forced: str | None = "generic"
) -> list[dict[str, Any] | Rejected]:
    """Each line's one event (or what it was rejected for), in order: one block."""
    native = _native(json.dumps(aliases or {}, sort_keys=True), forced)
    made, _ = block(native, lines)
    return [m if isinstance(m, Rejected) else m[0] for m in made]


class Recognizer:
    """Records through the core with every format known (`specs`, loaded, else the built-in
    ones), or one `forced`: the event of each (`Records` for a line of many), the format that
    made it as `last`."""

    def __init__(
        self, specs: Any = None, aliases: dict[str, Any] | None = None, forced: str | None = None
    ) -> None:
        self.native = core.Core(aliases, formats=FormatSettings(forced=forced), specs=specs)
        self.last: str | None = None

    def __call__(self, record: Any) -> dict[str, Any]:
        return self.line(line_of(record))

    def line(self, raw: bytes) -> dict[str, Any]:
        [made], formats = block(self.native, [raw])
        if isinstance(made, Rejected):
            raise made
        self.last = next(iter(formats), None)
        if len(made) != 1:
            raise Records(made)
        event: dict[str, Any] = made[0]
        return event


def normalize(record: dict[str, Any], **aliases: Any) -> dict[str, Any]:
    """The event of one record (the generic format, `aliases` from logkit.toml)."""
    [event] = events([line_of(record)], aliases)
    if isinstance(event, Rejected):
        raise event
    return event


class Normalizer:
    """`normalize` with [aliases] fixed; a bad alias table is refused (ConfigError) at once,
    as an ingest refuses it."""

    def __init__(self, aliases: dict[str, Any] | None = None) -> None:
        self.aliases = aliases or {}
        _native(json.dumps(self.aliases, sort_keys=True), "generic")

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        return normalize(record, **self.aliases)

    def many(self, records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each record's event, all in one block (a block a record cost a test thousands)."""
        made = events([line_of(record) for record in records], self.aliases)
        for event in made:
            if isinstance(event, Rejected):
                raise event
        return made  # type: ignore[return-value]


def parse_ts(value: Any) -> int | None:
    """What the core makes of a record's `ts`: microseconds since the epoch, or None."""
    ts: int | None = normalize({"ts": value})["ts"]
    return ts


def normalize_level(value: Any) -> str | None:
    """What the core makes of a record's `level`: a canonical level, or None."""
    level: str | None = normalize({"level": value})["level"]
    return level
