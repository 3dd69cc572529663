"""The lake on disk: Hive partition names, a batch's files and manifest, the directory.

See the package docstring (logkit/lake/__init__.py) for the layout and why it is so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from .. import durable
from ..errors import LogkitError
from ..schema import EVENT_COLUMNS
from ..timeparse import EPOCH

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
MANIFEST_DIR = "_manifest"
FORMAT_VERSION = 1
# Rows per row group. A trace lookup decodes one group per file, so smaller groups read less;
# larger ones cost less to plan. bench/lake.py (2M events, files of ~17k rows): 8k to 122k made
# lakes of the same size (81 MB), lookups took 453 ms at 8k and 298-325 ms from 16k up; at 16k a
# lookup decodes at most 16k rows of each file, where DuckDB's default would decode up to 122k.
ROW_GROUP_ROWS = 16_384
SORT_ORDER = "trace_key NULLS LAST, ts NULLS LAST"
DAY_US = 86_400_000_000
# The columns of a lake file, in order: every event column but `service` (the partition says
# it), with the event's own host as `event_host` (`host` in the path is the archiving host).
FILE_COLUMNS = ["event_host" if name == "host" else name for name, _ in EVENT_COLUMNS]
FILE_COLUMNS.remove("service")


# -- names ---------------------------------------------------------------------------------


# A path segment holds at most 255 bytes (NAME_MAX); `service=` and the rest fit beside this.
SEGMENT_VALUE_BYTES = 200


def partition_value(value: str | None) -> str:
    """`value` as a Hive path segment: `api`, `a%2Fb`, or HIVE_NULL for null (and, as Hive and
    Spark have it, for the empty string). Non-ASCII stays as it is: Spark un-escapes `%XX`
    byte by byte, which would garble UTF-8.

    A value longer than SEGMENT_VALUE_BYTES so written (a message misread as a service) is cut
    there and ends `~` and 8 hex digits of its whole (`~` is escaped in any value, so the mark
    is the cut's alone): no directory could hold it whole, and one such event must not stop
    every archive. Distinct long values stay distinct; the lake reads the cut one back."""
    if not value:
        return HIVE_NULL
    parts = [
        ch if not ch.isascii() or ch.isalnum() or ch in "._-" else f"%{ord(ch):02X}" for ch in value
    ]
    segment = "".join(parts)
    if len(segment.encode()) <= SEGMENT_VALUE_BYTES:
        return segment
    import hashlib  # here, not at the top: every command imports this module (engine.py)

    kept, size = [], 0
    for part in parts:  # whole escapes and characters only
        size += len(part.encode())
        if size > SEGMENT_VALUE_BYTES - 9:
            break
        kept.append(part)
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return "".join(kept) + "~" + digest


def token(host: str) -> str:
    """`host` as it appears in file names: letters, digits, `.` and `-`."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", host)[:64] or "_"


def default_host() -> str:
    """The host partition this machine writes under: its host name."""
    import socket  # here, not at the top: every command imports this module (engine.py)

    return socket.gethostname() or "localhost"


def new_batch_id(now: datetime | None = None) -> str:
    """Sortable by time, and unique: a second's timestamp and 32 random bits."""
    import secrets  # here, not at the top: every command imports this module (engine.py)

    return f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"


def partition_date(day: int) -> str:
    return (EPOCH + timedelta(days=day)).date().isoformat()


# -- the lake on disk ----------------------------------------------------------------------


@dataclass(frozen=True)
class LakeFile:
    """One Parquet file of a batch: where it is (relative to the lake) and what it holds."""

    path: str
    date: str
    service: str | None
    rows: int
    bytes: int


@dataclass
class Batch:
    """What one `logkit archive` run added to the lake: its manifest."""

    id: str
    host: str
    cutoff: datetime
    created: datetime
    events: int
    files: list[LakeFile] = field(default_factory=list)
    store: str | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "format": FORMAT_VERSION,
                "batch": self.id,
                "host": self.host,
                "cutoff": self.cutoff.isoformat(),
                "created": self.created.isoformat(),
                "events": self.events,
                "store": self.store,
                "files": [f.__dict__ for f in self.files],
            },
            option=orjson.OPT_INDENT_2,
        )

    @classmethod
    def from_json(cls, data: bytes, *, where: Path) -> Batch:
        try:
            raw = orjson.loads(data)
            if raw.get("format") != FORMAT_VERSION:
                raise LogkitError(
                    f"{where} is lake format {raw.get('format')!r}; this logkit reads format "
                    f"{FORMAT_VERSION} (upgrade logkit)"
                )
            return cls(
                id=raw["batch"],
                host=raw["host"],
                cutoff=datetime.fromisoformat(raw["cutoff"]),
                created=datetime.fromisoformat(raw["created"]),
                events=raw["events"],
                store=raw.get("store"),
                files=[LakeFile(**f) for f in raw["files"]],
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise LogkitError(f"cannot read the lake manifest {where}: {exc}") from None


class Lake:
    """A lake directory: its manifests, its files, and the batches in them."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        # Resolved, because the store keys its batches by this path and DuckDB's
        # allowed_directories compares the paths it opens against it.
        self.root = Path(root).expanduser().resolve()

    def __repr__(self) -> str:
        return f"<Lake {str(self.root)!r}>"

    @property
    def key(self) -> str:
        return str(self.root)

    def manifest_path(self, host: str, batch_id: str) -> Path:
        return self.root / MANIFEST_DIR / f"host={partition_value(host)}" / f"{batch_id}.json"

    def batches(self) -> list[Batch]:
        """Every committed batch, from every host, oldest first."""
        found = [
            Batch.from_json(path.read_bytes(), where=path)
            for path in (self.root / MANIFEST_DIR).glob("host=*/*.json")
        ]
        return sorted(found, key=lambda b: (b.created, b.host, b.id))

    def files_by_date(self, batches: Iterable[Batch] | None = None) -> dict[str, list[Path]]:
        """The committed files, by partition date."""
        dates: dict[str, list[Path]] = {}
        for batch in self.batches() if batches is None else batches:
            for f in batch.files:
                dates.setdefault(f.date, []).append(self.root / f.path)
        return dict(sorted(dates.items()))

    def commit(self, batch: Batch) -> Path:
        """Write the batch's manifest whole or not at all: this makes the batch part of the lake."""
        path = self.manifest_path(batch.host, batch.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(batch.to_json())
        durable.replace(tmp, path)
        return path

    def read_manifest(self, host: str, batch_id: str) -> Batch | None:
        path = self.manifest_path(host, batch_id)
        return Batch.from_json(path.read_bytes(), where=path) if path.exists() else None

    def remove_batch(self, host: str, batch_id: str) -> int:
        """Delete the files (finished or not) of a batch that was never committed."""
        pattern = f"date=*/service=*/host={partition_value(host)}/*-{batch_id}-*"
        removed = 0
        for path in self.root.glob(pattern):
            path.unlink(missing_ok=True)
            removed += 1
        return removed
