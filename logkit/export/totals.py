"""The running totals behind the exported counters and histograms, and the guard on their labels.

**Counters never go backwards**, across runs, restarts and pruning, because counters and
histograms over `events` are not recomputed: each export *folds* only the events added since the
last one into running totals kept in the store (`metric_values`), and pruning moves what the
deleted events contributed from the 'folded' part of a total to its 'pruned' part, in the same
transaction as the DELETE. See `MetricSet.fold` for how new events are told apart. Sums are kept
as DECIMAL(38, 9): moving a value between parts is then exact, where doubles could leave a total a
rounding error lower than before, which Prometheus would read as a counter reset.

**Labels never carry identifiers.** Label names come from a short list of low-cardinality
columns (`ALLOWED_LABELS`, definitions.py); a `path` label is always reduced to its template
(`path_template`, a SQL macro of every connection, logkit/macros.py: numbers, UUIDs, hex ids
and masked values become `:id`); a label set holding a masked value, a pseudonym or a very long
value is never exported as itself. The cardinality guard admits at most `max_series` label sets
per metric; the rest are added into one series whose labels are all `__other__`, and
`logkit_series_dropped_total{metric}` counts them. Admission is sticky (recorded in
`metric_series`): a series that was folded into `__other__` stays there, so neither it nor
`__other__` ever decreases.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LogkitError, QueryError
from ..sqlfiles import statement
from .definitions import BUILTINS, Definition

if TYPE_CHECKING:
    from ..engine import duckdb

OTHER = "__other__"
MAX_LABEL_CHARS = 200
DEFAULT_MAX_SERIES = 500

# `[MASKED:email]` placeholders and `email:9f2c41d0b7e3` pseudonyms (see logkit/mask.py).
_MASKED = re.compile(r"\[MASKED:|[a-z0-9_]+:[0-9a-f]{12}")
# Values outside DECIMAL(38, 9); such an observation is junk, not a measurement.
_VALUE_OK = "value IS NOT NULL AND isfinite(CAST(value AS DOUBLE)) AND abs(value) < 1e20"


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


def _run(
    con: duckdb.DuckDBPyConnection, definition: Definition, sql: str, params: Any = None
) -> list[tuple[Any, ...]]:
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
        names = [*(le(b) for b in definition.buckets), "count", "sum"]
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
        weights = {
            k: float(s["count"] if "count" in s else s[""]) for k, s in contributions.items()
        }
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
                    counts = [int(samples.get(le(b), 0)) for b in definition.buckets]
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
        size = Family(size_def.name, "gauge", size_def.help, ())
        size.samples[()] = float(store_size(store_path))
        return [dropped, size]


def le(bound: float) -> str:
    from prometheus_client.utils import floatToGoString

    return str(floatToGoString(bound))


def store_size(path: Path) -> int:
    """Bytes on disk of the store file and its write-ahead log."""
    total = 0
    for part in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(OSError):
            total += part.stat().st_size
    return total
