"""A file that mixes formats, built from real programs' output: each line is recognised on its
own, as it would be in a file of its own kind (a service's lines beside its framework's, several
containers' logs concatenated)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from .helpers import query, run_logkit, write

REAL_FORMATS = Path(__file__).parent / "real" / "formats"
# One record per line, each a different format (PRODUCED.md says how each was written).
FILES = (
    "go_zap.ndjson",
    "structlog.ndjson",
    "node_bunyan.ndjson",
    "java_logback_logstash.ndjson",
    "caddy_access.ndjson",
    "go_logrus.ndjson",
)
COLUMNS = ("ts", "level", "service", "logger", "message", "trace_id", "duration_ms",
           "status_code", "error_type", "attrs")  # fmt: skip


def stored(db: Path) -> list[tuple[object, ...]]:
    return sorted(
        query(db, f"SELECT {', '.join(COLUMNS)} FROM events"),
        key=repr,
    )


def test_interleaved_real_formats_give_what_each_file_gives_alone(tmp_path):
    missing = [name for name in FILES if not (REAL_FORMATS / name).exists()]
    if missing:
        pytest.skip(f"real-program fixtures absent: {missing}")
    per_file = [(REAL_FORMATS / name).read_bytes().splitlines(keepends=True) for name in FILES]
    # Round robin: no two neighbouring lines come from the same program.
    mixed = [line for group in itertools.zip_longest(*per_file) for line in group if line]
    mixed_log = write(tmp_path / "mixed" / "all.log", b"".join(mixed))

    alone_db, mixed_db = tmp_path / "alone.duckdb", tmp_path / "mixed.duckdb"
    alone_formats: dict[str, int] = {}
    for name in FILES:
        log = write(tmp_path / "alone" / name.replace(".ndjson", ".log"),
                    (REAL_FORMATS / name).read_bytes())  # fmt: skip
        out = run_logkit("ingest", "--no-mask", "--format", "json", str(log), db=alone_db)
        for fmt, shares in json.loads(out.stdout)["formats"].items():
            alone_formats[fmt] = alone_formats.get(fmt, 0) + shares["events"]
    out = run_logkit("ingest", "--no-mask", "--format", "json", str(mixed_log), db=mixed_db)
    mixed_formats = {fmt: s["events"] for fmt, s in json.loads(out.stdout)["formats"].items()}

    assert len(mixed_formats) >= len(FILES) - 1  # caddy's and zap's may share a name
    assert alone_formats == mixed_formats
    assert stored(alone_db) == stored(mixed_db)
