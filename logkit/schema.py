"""The canonical event columns, shared by the store's schema and the ingest workers.

Kept apart from logkit/migrations.py so that worker processes, which build Arrow batches with
these columns, need not import DuckDB.
"""

from __future__ import annotations

import zlib

# The canonical event columns, in table order; the ingest pipeline builds Arrow batches with
# exactly these names and types (see logkit/core.py).
EVENT_COLUMNS: list[tuple[str, str]] = [
    ("ts", "TIMESTAMPTZ"),
    ("level", "VARCHAR"),
    ("service", "VARCHAR"),
    ("logger", "VARCHAR"),
    ("message", "VARCHAR"),
    ("trace_id", "VARCHAR"),
    # crc32 of trace_id (see trace_key()). A trace is the on-call engineer's first question and
    # trace ids are random, so zone maps on the id cannot narrow a search for one; comparing
    # this 4-byte key is ~20x cheaper than 32-byte strings, and unlike an ART index it costs no
    # memory and almost nothing at insert time. trace_spans (tracespans.py) then says when the
    # trace happened, so only that time's row groups are read.
    ("trace_key", "UINTEGER"),
    ("span_id", "VARCHAR"),
    ("request_id", "VARCHAR"),
    ("user_id", "VARCHAR"),
    ("job_id", "VARCHAR"),
    ("batch_id", "VARCHAR"),
    ("duration_ms", "DOUBLE"),
    ("status_code", "INTEGER"),
    ("error_type", "VARCHAR"),
    ("http_method", "VARCHAR"),
    ("path", "VARCHAR"),
    ("job_type", "VARCHAR"),
    ("model", "VARCHAR"),
    ("input_tokens", "BIGINT"),
    ("output_tokens", "BIGINT"),
    ("cost_usd", "DOUBLE"),
    ("cache_hit", "BOOLEAN"),
    ("host", "VARCHAR"),
    ("attrs", "JSON"),
    ("source", "VARCHAR"),
    ("line", "BIGINT"),
]

# The columns of a block's rejects as the core builds them (logkit/core.py): the store's
# rejects table holds these, then when it was ingested and the stream (migrations.py).
REJECT_COLUMNS: list[tuple[str, str]] = [
    ("source", "VARCHAR"),
    ("line", "BIGINT"),
    ("byte_offset", "BIGINT"),
    ("reason", "VARCHAR"),
    ("raw", "VARCHAR"),
]

# The store's events table has one column more, at its end: the stream (checkpoint id) a row
# was read from (see m006_stream in logkit/migrations.py). The core builds it for an ingest
# (`Core(stream=True)`), each block's id given with the block; the lake's files do not hold it
# (the ids are the store's own).
STREAM_COLUMN = ("stream", "BIGINT")


def trace_key(trace_id: str) -> int:
    """The bucket a trace id is filed under: stable across versions, unlike DuckDB's hash()."""
    return zlib.crc32(trace_id.encode("utf-8", "surrogatepass"))


class JsonText(str):
    """A JSON column's value (attrs, attrs->'$.x'): its text, which JSON output writes as the
    JSON it is (an object, not a string holding one) and tables and CSV show as text. Kept as
    text, not parsed: parsing costs time, and nesting deeper than a JSON writer allows (logs
    may hold anything) would stop the output."""

    __slots__ = ()
