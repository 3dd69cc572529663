"""Metric definitions: which Prometheus metrics the store exports, and how each is computed.

**Definitions.** Each `queries/metrics/*.sql` file is one metric: a header, then a query.

    -- name: logkit_http_requests_total
    -- type: counter
    -- help: HTTP requests, by service, path template and status code.
    -- labels: service, path, status_code
    SELECT service, path, status_code, count(*) AS value
    FROM events WHERE path IS NOT NULL AND status_code IS NOT NULL GROUP BY ALL

A counter's query returns its label columns and `value`, and logkit adds `value` up per label
set, so it may return one row per event (`cost_usd AS value`) or rows already grouped. A
histogram's query returns one row per observation (`duration_ms / 1000 AS value`) and logkit
counts the buckets (`buckets:` overrides `DEFAULT_BUCKETS`). Gauges, and counters marked
`fresh: true` (read from totals the store already keeps, such as the `counters` table), are
computed afresh at each export and may use `$now` (Unix seconds). A user adds a metric by adding
a file (`logkit export --definitions DIR`); no Python.


Labels come from a short list of low-cardinality columns (`ALLOWED_LABELS`): never ids,
messages, hosts or anything masking touches (see totals.py for what guards the values).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import QueryError
from ..sqlfiles import queries_dir, split

TYPES = ("counter", "gauge", "histogram")
HEADER_KEYS = ("name", "type", "help", "labels", "buckets", "fresh")
# The buckets of Prometheus' client libraries: request latencies in seconds.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Columns (and values derived from them) with few distinct values. Ids, messages, hosts and
# anything masking touches are deliberately absent.
ALLOWED_LABELS = frozenset(
    {
        "service", "level", "error_type", "path", "http_method", "status_code", "job_type",
        "outcome", "model", "direction", "result", "reason", "detector", "source",
        # A log format's name and a canonical column's (logkit/formats: a few dozen, known).
        "format", "column",
    }
)  # fmt: skip

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# `[MASKED:email]` placeholders and `email:9f2c41d0b7e3` pseudonyms (see logkit/mask.py).

# -- definitions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """One metric: its header and its query."""

    name: str
    type: str
    help: str
    sql: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    fresh: bool = False
    origin: str = "<string>"

    @property
    def folded(self) -> bool:
        """True for counters and histograms over events, kept as running totals."""
        return self.type != "gauge" and not self.fresh

    @property
    def fingerprint(self) -> str:
        """Changes when the definition does; its totals then start again from the store."""
        text = "\0".join([self.type, ",".join(self.labels), repr(self.buckets), self.sql])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_definition(text: str, *, origin: str = "<string>") -> Definition:
    """Read one definition file's text; errors name the file and say what to fix."""
    parts = split(text)
    header: dict[str, str] = {}
    for key, value in parts.fields:
        if key not in HEADER_KEYS:
            raise QueryError(
                f"{origin}: unknown header {key!r} (expected {', '.join(HEADER_KEYS)})"
            )
        header[key] = value
    sql = parts.sql

    def fail(problem: str) -> QueryError:
        return QueryError(f"{origin}: {problem}")

    for key in ("name", "type", "help"):
        if not header.get(key):
            raise fail(f"missing '-- {key}:' header")
    if not sql:
        raise fail("no query after the header")
    name, type_ = header["name"], header["type"].lower()
    if not _METRIC_NAME.fullmatch(name):
        raise fail(f"{name!r} is not a valid Prometheus metric name")
    if type_ not in TYPES:
        raise fail(f"type {type_!r} is not one of {', '.join(TYPES)}")
    if type_ == "counter" and not name.endswith("_total"):
        raise fail(f"a counter's name ends in _total: {name}_total")
    if type_ != "counter" and name.endswith("_total"):
        raise fail(f"only counters end in _total, and {name} is a {type_}")
    labels = tuple(x.strip() for x in header.get("labels", "").split(",") if x.strip())
    for label in labels:
        if not _LABEL_NAME.fullmatch(label) or label.startswith("__") or label == "le":
            raise fail(f"{label!r} cannot be a label name")
        if label not in ALLOWED_LABELS:
            raise fail(
                f"label {label!r} is not allowed: labels must have few values and never carry"
                f" ids (allowed: {', '.join(sorted(ALLOWED_LABELS))})"
            )
    if len(set(labels)) != len(labels):
        raise fail("a label is listed twice")
    buckets: tuple[float, ...] = ()
    if type_ == "histogram":
        text = header.get("buckets", "")
        try:
            buckets = tuple(float(b) for b in text.split(",") if b.strip()) or DEFAULT_BUCKETS
        except ValueError:
            raise fail(f"buckets are numbers: {text!r}") from None
        if any(b != b or b in (float("inf"), float("-inf")) for b in buckets):
            raise fail("buckets are finite numbers (+Inf is always added)")
        if list(buckets) != sorted(set(buckets)):
            raise fail("buckets must increase")
    elif "buckets" in header:
        raise fail("only histograms have buckets")
    fresh = header.get("fresh", "false").lower() in ("true", "yes", "1")
    if fresh and type_ == "histogram":
        raise fail("a histogram is folded from events; it cannot be fresh")
    return Definition(
        name=name,
        type=type_,
        help=header["help"],
        sql=sql,
        labels=labels,
        buckets=buckets,
        fresh=fresh or type_ == "gauge",
        origin=origin,
    )


def definitions_dir() -> Path:
    """The built-in definitions: `queries/metrics/` (see logkit/sqlfiles.py)."""
    return queries_dir() / "metrics"


def load_definitions(
    extra: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None = None,
) -> list[Definition]:
    """The built-in definitions, then those in `extra` directories (same name: replaced)."""
    if extra is None:
        extra_dirs: list[Path] = []
    elif isinstance(extra, str | os.PathLike):
        extra_dirs = [Path(extra)]
    else:
        extra_dirs = [Path(e) for e in extra]
    found: dict[str, Definition] = {}
    for directory in [definitions_dir(), *extra_dirs]:
        if not directory.is_dir():
            raise QueryError(f"metric definitions directory {str(directory)!r} does not exist")
        seen: dict[str, Path] = {}
        for path in sorted(directory.glob("*.sql")):
            definition = parse_definition(path.read_text(encoding="utf-8"), origin=str(path))
            if definition.name in seen:
                first = seen[definition.name]
                raise QueryError(f"{path}: metric {definition.name} is already defined in {first}")
            seen[definition.name] = path
            found[definition.name] = definition
    reserved = set(found) & {d.name for d in BUILTINS}
    if reserved:
        raise QueryError(f"{found[min(reserved)].origin}: {min(reserved)} is logkit's own metric")
    return sorted(found.values(), key=lambda d: d.name)


# Computed in Python rather than SQL; listed so documentation and name checks know them.
BUILTINS = (
    Definition(
        "logkit_series_dropped_total",
        "counter",
        "Label sets folded into __other__ by the series limit, by metric.",
        "",
        ("metric",),
        fresh=True,
        origin="logkit/export/totals.py",
    ),
    Definition(
        "logkit_store_size_bytes",
        "gauge",
        "Size of the store file and its write-ahead log.",
        "",
        fresh=True,
        origin="logkit/export/totals.py",
    ),
)
