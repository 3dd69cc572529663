"""Prometheus metrics derived from the store, written for node_exporter's textfile collector.

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

**Counters never go backwards**, across runs, restarts and pruning, because counters and
histograms over `events` are not recomputed: each export *folds* only the events added since the
last one into running totals kept in the store (`metric_values`), and pruning moves what the
deleted events contributed from the 'folded' part of a total to its 'pruned' part, in the same
transaction as the DELETE. See `MetricSet.fold` for how new events are told apart. Sums are kept
as DECIMAL(38, 9): moving a value between parts is then exact, where doubles could leave a total a
rounding error lower than before, which Prometheus would read as a counter reset.

**Labels never carry identifiers.** Label names come from a short list of low-cardinality
columns (`ALLOWED_LABELS`); a `path` label is always reduced to its template (`path_template`,
a SQL macro of every connection, logkit/macros.py: numbers, UUIDs, hex ids and masked values
become `:id`); a label set holding a masked value, a pseudonym or a very long value is never
exported as itself. The cardinality
guard admits at most `max_series` label sets per metric; the rest are added into one series
whose labels are all `__other__`, and `logkit_series_dropped_total{metric}` counts them.
Admission is sticky (recorded in `metric_series`): a series that was folded into `__other__`
stays there, so neither it nor `__other__` ever decreases.

**The file** is written whole or not at all: a temp file in the same directory (a dot name
without `.prom`, which node_exporter ignores), fsync, chmod 0644, rename, fsync of the
directory. There are no timestamps in the exposition: node_exporter refuses files with them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import durable
from ..errors import LogkitError, QueryError, StoreNotFound
from ..sqlfiles import statement

if TYPE_CHECKING:
    from ..config import Config
    from ..engine import duckdb
    from ..ingest import IngestSummary
    from ..store import WriteSession
    from .retention import PruneResult

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
OTHER = "__other__"
MAX_LABEL_CHARS = 200
DEFAULT_MAX_SERIES = 500

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# `[MASKED:email]` placeholders and `email:9f2c41d0b7e3` pseudonyms (see logkit/mask.py).
_MASKED = re.compile(r"\[MASKED:|[a-z0-9_]+:[0-9a-f]{12}")
# Values outside DECIMAL(38, 9); such an observation is junk, not a measurement.
_VALUE_OK = "value IS NOT NULL AND isfinite(CAST(value AS DOUBLE)) AND abs(value) < 1e20"


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
    from ..sqlfiles import split

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
    from ..sqlfiles import queries_dir

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
        origin="logkit/metrics.py",
    ),
    Definition(
        "logkit_store_size_bytes",
        "gauge",
        "Size of the store file and its write-ahead log.",
        "",
        fresh=True,
        origin="logkit/metrics.py",
    ),
)


# -- label sets --------------------------------------------------------------------------------


def label_key(values: Sequence[Any]) -> str:
    """A label set as stored: a JSON array of strings (NULL becomes "", an absent label)."""
    return json.dumps(["" if v is None else str(v) for v in values], ensure_ascii=False)


def other_key(labels: Sequence[str]) -> str:
    return label_key([OTHER] * len(labels))


def safe_label_set(key: str) -> bool:
    """False for a label set that must never be exported as itself."""
    return not any(len(v) > MAX_LABEL_CHARS or _MASKED.search(v) for v in json.loads(key))


# -- the running totals ------------------------------------------------------------------------


@dataclass
class Family:
    """One metric's samples, ready for exposition.

    `samples` maps label values to a number, or for a histogram to
    `(cumulative bucket counts in bucket order, count, sum)`.
    """

    name: str
    type: str
    help: str
    labels: tuple[str, ...]
    samples: dict[tuple[str, ...], Any] = field(default_factory=dict)
    buckets: tuple[float, ...] = ()


def _add_values(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str, str, str, Any]]) -> None:
    """Add to `metric_values`, one statement for all rows (each key at most once)."""
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    con.execute(
        statement("export/add_values"),
        {
            "m": list(columns[0]),
            "l": list(columns[1]),
            "s": list(columns[2]),
            "p": list(columns[3]),
            "v": [str(v) for v in columns[4]],
        },
    )


def _forget(con: duckdb.DuckDBPyConnection, metric: str, parts: Sequence[str]) -> None:
    """Delete what the store keeps of `metric`: its running totals ("values"), the cardinality
    guard's decisions ("series"), how far it has folded ("fold")."""
    for part in parts:
        con.execute(statement(f"export/forget_{part}"), {"m": metric})


def _run(con: duckdb.DuckDBPyConnection, definition: Definition, sql: str, params: Any = None):
    try:
        return con.execute(sql, params).fetchall()
    except Exception as exc:  # duckdb.Error, without importing duckdb at module load
        if not type(exc).__module__.startswith(("duckdb", "_duckdb")):
            raise
        first = str(exc).splitlines()[0]
        raise QueryError(f"metric definition {definition.origin}: {first}") from exc


class MetricSet:
    """The definitions of one export, and what they do to the store's running totals."""

    def __init__(self, definitions: Sequence[Definition], *, max_series: int = DEFAULT_MAX_SERIES):
        if max_series < 1:
            raise LogkitError(f"[metrics] max_series must be at least 1, not {max_series}")
        self.definitions = list(definitions)
        self.max_series = max_series

    @property
    def folded(self) -> list[Definition]:
        return [d for d in self.definitions if d.folded]

    # -- reading a definition over some events ---------------------------------------------

    @staticmethod
    def _label_exprs(definition: Definition) -> list[str]:
        exprs = []
        for label in definition.labels:
            expr = f'CAST("{label}" AS VARCHAR)'
            if label == "path":
                expr = f"path_template({expr})"
            exprs.append(f'{expr} AS "{label}"')
        return exprs

    def _over_events(
        self, con: duckdb.DuckDBPyConnection, definition: Definition, where: str, params: Any
    ) -> dict[str, dict[str, Decimal]]:
        """What the events matching `where` contribute: {label key: {sample: value}}.

        Built here, not kept in queries/: it wraps the definition's own query, and its labels
        and buckets are columns and numbers of the SQL."""
        # The definition's `events` is a view of just those rows; NOT MATERIALIZED keeps DuckDB
        # from copying every column of them before the definition's query even starts.
        events = f"WITH events AS NOT MATERIALIZED (SELECT * FROM main.events WHERE {where}) "
        if definition.type == "histogram":
            parts = [f"count(*) FILTER (WHERE value <= {b!r})" for b in definition.buckets]
            parts.append("count(*)")
        else:
            parts = []
        parts.append("sum(CAST(value AS DECIMAL(38, 9)))")
        # Aggregate by the raw label values first and template the few groups after: the path
        # regexes over every one of 10M rows took 40 s, over the distinct paths a fraction of 1.
        raw = [f'"{label}"' for label in definition.labels]
        inner = ", ".join([*raw, *(f"{p} AS v{i}" for i, p in enumerate(parts))])
        outer = ", ".join(
            [*self._label_exprs(definition), *(f"sum(v{i})" for i in range(len(parts)))]
        )
        sql = (
            f"{events}SELECT {outer} FROM (SELECT {inner} FROM ({definition.sql}) AS d"
            f" WHERE {_VALUE_OK} GROUP BY ALL) AS g GROUP BY ALL"
        )
        width = len(definition.labels)
        names = [*(_le(b) for b in definition.buckets), "count", "sum"]
        out: dict[str, dict[str, Decimal]] = {}
        for row in _run(con, definition, sql, params):
            if row[-1] is None:
                continue  # no rows at all: sum() over nothing
            samples = out.setdefault(label_key(row[:width]), {})
            if definition.type == "histogram":
                for name, value in zip(names, row[width:], strict=True):
                    samples[name] = samples.get(name, Decimal(0)) + Decimal(value)
            else:
                samples[""] = samples.get("", Decimal(0)) + Decimal(row[-1])
        return out

    # -- the cardinality guard ---------------------------------------------------------------

    def admit(
        self,
        con: duckdb.DuckDBPyConnection,
        definition: Definition,
        weights: dict[str, float],
        *,
        record: bool = True,
    ) -> dict[str, str]:
        """Map each label set to itself (admitted) or to the `__other__` one, for good.

        `record` False (a read-only connection): new label sets are judged as an export
        would judge them, but not recorded; the next export decides them for good."""
        if not definition.labels or not weights:
            return {key: key for key in weights}
        keys = list(weights)
        known = dict(
            con.execute(
                statement("export/known_series"), {"m": definition.name, "k": keys}
            ).fetchall()
        )
        # Heaviest first, so that when room runs out it is the small series that fold.
        new = sorted((k for k in keys if k not in known), key=lambda k: (-weights[k], k))
        if new:
            row = con.execute(
                statement("export/admitted_series"), {"m": definition.name}
            ).fetchone()
            room = self.max_series - (row[0] if row else 0)
            for key in new:
                known[key] = (
                    room > 0 and key != other_key(definition.labels) and (safe_label_set(key))
                )
                room -= known[key]
            if record:
                con.execute(
                    statement("export/decide_series"),
                    {"m": definition.name, "k": new, "a": [known[k] for k in new]},
                )
        other = other_key(definition.labels)
        return {key: key if known[key] else other for key in keys}

    def _guarded(
        self,
        con: duckdb.DuckDBPyConnection,
        definition: Definition,
        contributions: dict[str, dict[str, Decimal]],
    ) -> dict[str, dict[str, Decimal]]:
        weights = {k: float(s.get("count", s.get(""))) for k, s in contributions.items()}
        mapping = self.admit(con, definition, weights)
        out: dict[str, dict[str, Decimal]] = {}
        for key, samples in contributions.items():
            target = out.setdefault(mapping[key], {})
            for sample, value in samples.items():
                target[sample] = target.get(sample, Decimal(0)) + value
        return out

    # -- folding -------------------------------------------------------------------------------

    def fold(self, con: duckdb.DuckDBPyConnection) -> None:
        """Bring every folded definition's totals up to date with the events in the store.

        How new events are told apart: by DuckDB's `rowid`, with a check. Events are only ever
        appended (by ingest) or deleted (by prune), and appended rows get rowids above every
        existing one, so "rowid >= the watermark of the last fold" selects exactly the new
        ones, and a fold costs what is new (2 ms for the scan on a 10M-event store, against
        ~200 ms per definition for a full GROUP BY; `bench/export.py`). But rowids are
        positions, not identities: when a checkpoint vacuums row groups with deleted rows, the
        rows after them are renumbered downwards (measured with DuckDB 2.0), which could carry
        new rows below the watermark. Renumbering never moves a row up, so counting the rows
        below the watermark detects it exactly: if that count is not what the last fold
        recorded, the 'folded' part is recomputed from all events (seconds, rare: prune itself
        re-bases the watermark right after its checkpoint), while the 'pruned' part, which
        holds what deleted events contributed, is kept, and no total may come out lower than
        before. A sequence column filled by ingest would need no check (see issue 5's notes).
        """
        folded = self.folded
        if not folded:
            return
        row = con.execute(statement("export/events_extent")).fetchone()
        high, total = row if row else (0, 0)
        states = {
            metric: (fingerprint, next_rowid, rows)
            for metric, fingerprint, next_rowid, rows in con.execute(
                statement("export/folds")
            ).fetchall()
        }
        marks = sorted({s[1] for s in states.values()})
        below: dict[int, int] = {}
        if marks:
            # Built here: one count per watermark, and how many there are varies.
            counts = ", ".join(f"count(*) FILTER (WHERE rowid < {int(m)})" for m in marks)
            found = con.execute(f"SELECT {counts} FROM events").fetchone() or ()
            below = dict(zip(marks, found, strict=True))
        moved: list[Definition] = []  # whose watermark moves
        for definition in folded:
            state = states.get(definition.name)
            start = 0
            before: dict[tuple[str, str], Decimal] = {}
            if state is None or state[0] != definition.fingerprint:
                # New or changed: start from the events in the store (Prometheus sees a reset).
                _forget(con, definition.name, ("values", "series"))
            elif below[state[1]] != state[2]:
                before = self._totals(con, definition.name)
                con.execute(statement("export/forget_folded_part"), {"m": definition.name})
            else:
                start = state[1]
            if start < high:
                contributions = self._over_events(
                    con, definition, "rowid >= $lo AND rowid < $hi", {"lo": start, "hi": high}
                )
                guarded = self._guarded(con, definition, contributions)
                _add_values(
                    con,
                    [
                        (definition.name, key, sample, "folded", value)
                        for key, samples in guarded.items()
                        for sample, value in samples.items()
                    ],
                )
            if before:
                # A definition that sums doubles itself (`sum(x) AS value`) can come out a
                # rounding error lower when summed in another order; a counter must not.
                after = self._totals(con, definition.name)
                _add_values(
                    con,
                    [
                        (definition.name, labels, sample, "pruned", old - after.get(key, 0))
                        for key, old in before.items()
                        if after.get(key, 0) < old
                        for labels, sample in [key]
                    ],
                )
            if state != (definition.fingerprint, high, total):
                moved.append(definition)
        if moved:
            con.execute(
                statement("export/record_folds"),
                {
                    "m": [d.name for d in moved],
                    "f": [d.fingerprint for d in moved],
                    "w": high,
                    "n": total,
                },
            )

    @staticmethod
    def _totals(con: duckdb.DuckDBPyConnection, metric: str) -> dict[tuple[str, str], Decimal]:
        rows = con.execute(statement("export/totals_of"), {"m": metric}).fetchall()
        return {(labels, sample): value for labels, sample, value in rows}

    def move_pruned(
        self, con: duckdb.DuckDBPyConnection, where: str, params: Any, deleted: int
    ) -> list[str]:
        """Before events matching `where` are deleted: move their share to the 'pruned' part.

        Call right after `fold` in the same transaction, then delete. Returns the metrics whose
        totals had to be forgotten: folded by an earlier export with definitions not given now,
        they cannot account for the deleted events and start again from the store.
        """
        for definition in self.folded:
            contributions = self._over_events(con, definition, where, params)
            moved = self._guarded(con, definition, contributions)
            rows = []
            for key, samples in moved.items():
                for sample, value in samples.items():
                    rows.append((definition.name, key, sample, "folded", -value))
                    rows.append((definition.name, key, sample, "pruned", value))
            _add_values(con, rows)
        con.execute(statement("export/pruned_rows"), {"n": deleted})
        defined = [d.name for d in self.folded]
        forgotten = [
            name
            for (name,) in con.execute(
                statement("export/folded_elsewhere"), {"d": defined}
            ).fetchall()
        ]
        for part in ("values", "series", "fold"):
            for name in forgotten:
                _forget(con, name, (part,))
        return forgotten

    # -- reading everything out ----------------------------------------------------------------

    def families(
        self,
        con: duckdb.DuckDBPyConnection,
        *,
        store_path: Path,
        now: float,
        record: bool = True,
    ) -> list[Family]:
        """Every metric's current samples; call after `fold` in the same transaction.

        `record` False: on a read-only connection, without a fold: the running totals as the
        last export left them (those of definitions it folded as they are now), gauges now.
        """
        totals: dict[str, dict[str, dict[str, Decimal]]] = {}
        for metric, labels, sample, value in con.execute(statement("export/totals")).fetchall():
            totals.setdefault(metric, {}).setdefault(labels, {})[sample] = value
        if not record:
            # Totals folded under another definition of the metric are not this one's: the
            # next export starts them again (see `fold`).
            folded_as = dict(con.execute(statement("export/fingerprints")).fetchall())
            for definition in self.folded:
                if folded_as.get(definition.name) != definition.fingerprint:
                    totals.pop(definition.name, None)
        out = []
        for definition in self.definitions:
            family = Family(
                definition.name,
                definition.type,
                definition.help,
                definition.labels,
                buckets=definition.buckets,
            )
            if definition.folded:
                series = totals.get(definition.name, {})
            else:
                series = self._fresh(con, definition, now, record=record)
            for key, samples in series.items():
                values = tuple(json.loads(key))
                if definition.type == "histogram":
                    counts = [int(samples.get(_le(b), 0)) for b in definition.buckets]
                    family.samples[values] = (
                        counts,
                        int(samples.get("count", 0)),
                        float(samples.get("sum", 0)),
                    )
                else:
                    family.samples[values] = float(samples[""])
            out.append(family)
        out.extend(self._builtins(con, store_path))
        return sorted(out, key=lambda f: f.name)

    def _fresh(
        self, con: duckdb.DuckDBPyConnection, definition: Definition, now: float, *, record: bool
    ) -> dict[str, dict[str, Decimal]]:
        # Built here as `_over_events` is: around the definition's query, by its labels.
        labels = self._label_exprs(definition)
        group = ", ".join([*labels, ""]) if labels else ""
        # Rows of a gauge with the same labels (and those folded into __other__) keep the
        # largest value: the one to alert on, for a lag or a size.
        combine = "max" if definition.type == "gauge" else "sum"
        sql = (
            f"SELECT {group}{combine}(CAST(value AS DOUBLE)) FROM ({definition.sql}) AS d"
            f" WHERE value IS NOT NULL AND isfinite(CAST(value AS DOUBLE)) GROUP BY ALL"
        )
        params = {"now": now} if "$now" in definition.sql else None
        width = len(definition.labels)
        rows = {
            label_key(row[:width]): row[-1]
            for row in _run(con, definition, sql, params)
            if row[-1] is not None
        }
        mapping = self.admit(con, definition, rows, record=record)
        out: dict[str, dict[str, Decimal]] = {}
        for key, value in rows.items():
            target = out.setdefault(mapping[key], {})
            previous = target.get("")
            value = Decimal(repr(value))
            if previous is None:
                target[""] = value
            else:
                target[""] = max(previous, value) if combine == "max" else previous + value
        return out

    def _builtins(self, con: duckdb.DuckDBPyConnection, store_path: Path) -> list[Family]:
        dropped_def, size_def = BUILTINS
        dropped = Family(dropped_def.name, "counter", dropped_def.help, ("metric",))
        counts = dict(con.execute(statement("export/dropped_series")).fetchall())
        for definition in self.definitions:
            if definition.labels:  # a metric without labels has one series: none to drop
                dropped.samples[(definition.name,)] = float(counts.get(definition.name, 0))
        from .retention import store_size

        size = Family(size_def.name, "gauge", size_def.help, ())
        size.samples[()] = float(store_size(store_path))
        return [dropped, size]


def _le(bound: float) -> str:
    from prometheus_client.utils import floatToGoString

    return floatToGoString(bound)


# -- exposition --------------------------------------------------------------------------------


class StoreCollector:
    """A prometheus_client collector over one snapshot of the store's metrics.

    The snapshot is taken inside the export's transaction (`MetricSet.families`); collecting
    from it needs no connection, so the registry can render it after the store is released.
    """

    def __init__(self, families: Sequence[Family]) -> None:
        self.families = families

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        kinds = {
            "counter": CounterMetricFamily,
            "gauge": GaugeMetricFamily,
            "histogram": HistogramMetricFamily,
        }
        for family in self.families:
            metric = kinds[family.type](family.name, family.help, labels=list(family.labels))
            for values in sorted(family.samples):
                sample = family.samples[values]
                if family.type == "histogram":
                    counts, count, total = sample
                    buckets = [(_le(b), c) for b, c in zip(family.buckets, counts, strict=True)]
                    metric.add_metric(list(values), [*buckets, ("+Inf", count)], sum_value=total)
                else:
                    metric.add_metric(list(values), sample)
            yield metric


def exposition(families: Sequence[Family]) -> str:
    """The Prometheus text format (0.0.4) for `families`, from a private registry."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(families))
    return generate_latest(registry).decode("utf-8")


def write_textfile(path: str | os.PathLike[str], text: str) -> Path:
    """Replace `path` with `text` atomically: readers see the old file or the new, whole."""
    target = Path(path)
    directory = target.parent
    if not directory.is_dir():
        raise LogkitError(
            f"cannot write {target}: directory {directory} does not exist (create it, or point"
            " --textfile at node_exporter's --collector.textfile.directory)"
        )
    import tempfile  # here, not at the top: every command imports this module (engine.py)

    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise LogkitError(f"cannot write {target}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            # Readable by node_exporter's user whatever the umask (logkit writes under 077).
            os.fchmod(fh.fileno(), 0o644)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise LogkitError(f"cannot write {target}: {exc.strerror}") from exc
    with contextlib.suppress(OSError):
        durable.fsync(directory, directory=True)
    return target


# -- the Store verbs ---------------------------------------------------------------------------


@dataclass
class ExportResult:
    """What one export did."""

    text: str
    textfile: Path | None = None
    ingested: IngestSummary | None = None
    pruned: PruneResult | None = None
    seconds: float = 0.0
    success: bool = True


def _record_run(
    con: duckdb.DuckDBPyConnection, started: float, success: bool, summary: Any
) -> None:
    con.execute(
        statement("export/record_run"),
        {
            "started": started,
            "finished": time.time(),
            "success": success,
            "lines": summary.lines if summary else 0,
            "events": summary.events if summary else 0,
            "rejects": summary.rejects if summary else 0,
        },
    )


class Exporting:
    """Store verbs for metrics: `export`, `metrics_text`, `prune` (mixed into `Store`)."""

    if TYPE_CHECKING:
        path: Path
        config: Config

        def writer(self) -> contextlib.AbstractContextManager[WriteSession]: ...

        def reader(
            self, *, lean: bool = False, store_only: bool = False
        ) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]: ...

    def _require_store(self) -> None:
        if not self.path.exists():
            raise StoreNotFound(
                f"no store at {self.path} (run 'logkit ingest PATH' first, or pass --db)"
            )

    def metric_set(
        self, definitions: str | os.PathLike[str] | Iterable[Any] | None = None
    ) -> MetricSet:
        return MetricSet(load_definitions(definitions), max_series=self.config.max_series)

    def export(
        self,
        textfile: str | os.PathLike[str] | None = None,
        *,
        ingest: Iterable[str] = (),
        definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
        mask: bool = True,
        now: float | None = None,
    ) -> ExportResult:
        """One cron run: ingest what is new, apply retention, write every metric atomically.

        Holds the writer lock throughout, so an overlapping run fails fast with `StoreLocked`
        (or waits, with `Store(wait=...)`) and neither store nor file is ever half-updated. If
        an input cannot be read the metrics are still written, with
        `logkit_last_run_success 0`, and then `LogkitError` is raised.

        Examples:
            >>> store.export("/var/lib/prometheus/node-exporter/logkit.prom",
            ...              ingest=["/var/log/app/*.log"])            # doctest: +SKIP
            >>> print(store.export().text)                             # doctest: +SKIP
            # HELP logkit_errors_total Events at level ERROR or CRITICAL, by service and type.
            ...
        """
        from .retention import apply_retention, parse_retention

        started = time.time()
        metrics = self.metric_set(definitions)
        # A typo in the setting fails now, before any work.
        retention = parse_retention(self.config.retention, where=self.config.path)
        inputs = list(ingest)
        if not inputs:
            self._require_store()
        summary = None
        failure: str | None = None
        pruned = None
        with self.writer() as session:
            if inputs:
                from ..ingest import ingest as run_ingest

                try:
                    summary = run_ingest(session, inputs, mask=mask)
                except LogkitError as exc:
                    failure = str(exc)
                else:
                    if summary.errors:
                        failure = "; ".join(f"{s.path}: {s.error}" for s in summary.errors)
            with session.transaction() as con:
                metrics.fold(con)
            if retention is not None:
                pruned = apply_retention(session, metrics, retention)
            with session.transaction() as con:
                _record_run(con, started, failure is None, summary)
                families = metrics.families(
                    con, store_path=self.path, now=time.time() if now is None else now
                )
            text = exposition(families)
            written = write_textfile(textfile, text) if textfile is not None else None
        result = ExportResult(
            text, written, summary, pruned, time.time() - started, success=failure is None
        )
        if failure is not None:
            where = f"; metrics were written to {written}" if written else ""
            raise LogkitError(f"{failure}{where} with logkit_last_run_success 0")
        return result

    def metrics_text(
        self,
        *,
        definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
        now: float | None = None,
    ) -> str:
        """The exposition text of what the store holds; it writes nothing.

        Counters and histograms are the running totals as the last `export()` left them
        (events stored since are counted by the next export, which folds them in); gauges
        are computed now. Read on a read-only connection, over the store's own events (never
        a lake's), so it can run beside an ingest or an export.

        Examples:
            >>> store.export()                     # doctest: +SKIP
            >>> print(store.metrics_text())        # doctest: +SKIP
            # HELP logkit_errors_total Events at level ERROR or CRITICAL, by service and type.
            ...
        """
        metrics = self.metric_set(definitions)
        with self.reader(store_only=True) as con:
            families = metrics.families(
                con, store_path=self.path, now=time.time() if now is None else now, record=False
            )
        return exposition(families)

    def prune(
        self,
        older_than: str,
        *,
        compact: bool = False,
        definitions: str | os.PathLike[str] | Iterable[Any] | None = None,
        dry_run: bool = False,
    ) -> PruneResult:
        """Delete events and rejects older than `older_than` ("30d"); counters carry on.

        Freed space is reused by later ingests; `compact=True` also rewrites the file so it
        shrinks (slow: it copies every remaining event). `dry_run=True` only counts what
        would be deleted, on a read-only connection.
        """
        from .retention import parse_age, preview, prune

        age = parse_age(older_than)
        if dry_run:
            self._require_store()
            with self.reader() as con:
                return preview(con, self.path, age)
        metrics = self.metric_set(definitions)
        self._require_store()
        with self.writer() as session:
            return prune(session, metrics, age, compact=compact)
