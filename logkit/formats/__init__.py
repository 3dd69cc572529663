"""Log formats as data: recognise each record's format and normalise it by that format.

A format is a TOML file (this directory holds the built-in ones, one per format; users add or
override them in logkit.toml's ``[formats.NAME]`` tables or in an ``[ingest] formats_dir``).
This module is the engine that applies them; it knows no format by name, only the file
language, which is kept small and declarative so that a native core can read the same files:

```toml
name = "zap"
description = "Uber's zap, production JSON encoder"

[match]                      # how a record is recognised (all of it must hold)
keys = ["ts", "level", "msg", "caller"]     # keys (dotted paths: nested) that must be present
any = ["stacktrace", "logger"]              # at least one of these present
shapes = { ts = "number" }                  # value shapes: number integer string object
                                            #   array boolean
equals = { v = 0 }                          # literal values
patterns = { level = '^[a-z]+$' }           # string values a regex finds something in
priority = 0                                # breaks a tie between equally specific formats

[fields]                     # column (or a unit group: ts_s, duration_ns...) = where it comes from
ts_s = "ts"                                 # one path
message = ["msg", "message"]                # paths, first present (and convertible) wins
trace_id = { from = "trace", pattern = 'traces/(?P<value>[0-9a-f]+)$' }  # found inside a value
level = [{ from = "@l", default = "Information" }]   # a default when absent
ts_s = { from = "seconds", nanos = "nanos" }          # seconds plus a nanoseconds field
message = { from = "@m", template = "@mt" }           # else the template, properties filled in

[fields_last]                # as [fields], but tried after the generic names (last resorts)
error_type = { from = "stack", pattern = [...], keep = true }  # keep: the value stays in attrs

[levels]                     # level spellings and numeric scales, before the generic ones
words = { dpanic = "CRITICAL" }
numbers = { 10 = "DEBUG" }                  # exact numbers
scale = [[1, "DEBUG"], [9, "INFO"]]         # a number >= threshold: the last such level
offsets = { INFO = 0, ERROR = 8 }           # "ERROR+4" is 8 + 4 on the scale

[envelope]
inner = "log"                # a string holding another record (JSON: parsed, recognised, and
                             # normalised by its own format; the envelope fills what it lacks)

[[samples]]                  # checked by tests/test_formats.py for every format file
line = '{"ts": 1795341662.5, "level": "info", "msg": "hi"}'
expect = { ts = "2026-11-22T10:01:02.5Z", level = "INFO", message = "hi" }
```

The columns a format does not name fall back on the `generic` format's names (generic.toml),
whose ``[fields]`` are also the names `[aliases]` in logkit.toml extends. A record no format
claims is normalised by `generic` alone.

Recognition is per record (a file may mix formats) and cheap: which formats a record's keys
allow is decided once per shape (the tuple of its keys) and cached, as `Normalizer` caches its
plans; only formats whose signature looks at values (`shapes`, `equals`, nested `keys`) cost a
check per record. When several formats match, the most specific (most conditions) wins.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow.compute as pc

from ..errors import ConfigError
from ..normalize import (
    ALIAS_GROUPS,
    BUILTIN_ALIASES,
    CANONICAL_FIELDS,
    Converter,
    Normalizer,
    _ident,
    _lookup,
    normalize_level,
    split_path,
    trace_ident,
)

__all__ = ["COVERAGE", "FORMATS_DIR", "FormatSpec", "Recognizer", "load_formats", "parse_spec"]

FORMATS_DIR = Path(__file__).parent
GENERIC = "generic"
#: The columns whose share of events the ingest summary reports per format.
COVERAGE = ("ts", "level", "message", "service", "trace_id")

# The value shapes [match.shapes] may name, as the types a JSON parser makes for them.
_TYPES_OF = {
    "number": (int, float),
    "integer": (int,),
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
}
_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
_TOP = frozenset({"name", "description", "match", "fields", "fields_last", "levels", "envelope",
                  "samples"})  # fmt: skip
_MATCH = frozenset({"keys", "any", "shapes", "equals", "patterns", "priority"})
_FIELD_OPTIONS = frozenset({"from", "pattern", "keep", "default", "nanos", "template"})
# A record inside an envelope inside an envelope is unwrapped; deeper ones are not.
_MAX_DEPTH = 2
# The decisions cache is cleared when full, like Normalizer's plans.
_MAX_SHAPES = 1024


# -- the file language ----------------------------------------------------------------------


@dataclass
class FieldSpec:
    """One way a format fills a column group: from `paths`, with the options of the file."""

    group: str
    paths: tuple[str, ...]
    pattern: tuple[re.Pattern[str], ...] = ()
    keep: bool = False
    default: Any = None
    nanos: str | None = None
    template: str | None = None


@dataclass
class FormatSpec:
    """A parsed format file (or `[formats.NAME]` table): data only, checked, not yet compiled."""

    name: str
    description: str
    origin: str
    keys: tuple[str, ...] = ()
    any_keys: tuple[str, ...] = ()
    shapes: dict[str, str] = field(default_factory=dict)
    equals: dict[str, Any] = field(default_factory=dict)
    patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)
    priority: int = 0
    fields: list[FieldSpec] = field(default_factory=list)
    fields_last: list[FieldSpec] = field(default_factory=list)
    levels: dict[str, Any] = field(default_factory=dict)
    inner: str | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def matchable(self) -> bool:
        return bool(self.keys or self.any_keys or self.shapes or self.equals or self.patterns)


def _paths(value: Any, where: str) -> tuple[str, ...]:
    paths = (value,) if isinstance(value, str) else value
    if not isinstance(paths, list | tuple) or not all(isinstance(p, str) and p for p in paths):
        raise ConfigError(f"{where}: expected a field name or a list of field names")
    return tuple(paths)


def _field_specs(table: Any, where: str) -> list[FieldSpec]:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table of column = source field(s)")
    specs = []
    for group, value in table.items():
        if group not in ALIAS_GROUPS:
            known = ", ".join(sorted(ALIAS_GROUPS))
            raise ConfigError(f"{where}: no column {group!r}; use one of: {known}")
        entries = value if isinstance(value, list) else [value]
        plain = [e for e in entries if isinstance(e, str)]
        if len(plain) == len(entries):
            specs.append(FieldSpec(group, _paths(plain, f"{where}.{group}")))
            continue
        for entry in entries:
            if isinstance(entry, str):
                specs.append(FieldSpec(group, (entry,)))
                continue
            if not isinstance(entry, dict) or "from" not in entry:
                raise ConfigError(f"{where}.{group}: a table needs 'from'")
            unknown = set(entry) - _FIELD_OPTIONS
            if unknown:
                raise ConfigError(
                    f"{where}.{group}: unknown option(s) {', '.join(sorted(unknown))};"
                    f" expected {', '.join(sorted(_FIELD_OPTIONS))}"
                )
            patterns = entry.get("pattern", ())
            patterns = (patterns,) if isinstance(patterns, str) else tuple(patterns)
            try:
                compiled = tuple(re.compile(p) for p in patterns)
            except (re.error, TypeError) as exc:
                raise ConfigError(f"{where}.{group}: bad pattern: {exc}") from None
            specs.append(
                FieldSpec(
                    group,
                    _paths(entry["from"], f"{where}.{group}.from"),
                    pattern=compiled,
                    keep=bool(entry.get("keep", False)),
                    default=entry.get("default"),
                    nanos=entry.get("nanos"),
                    template=entry.get("template"),
                )
            )
    return specs


def parse_spec(data: Mapping[str, Any], origin: str, name: str | None = None) -> FormatSpec:
    """Check a format's table (a file's content, or `[formats.NAME]`) and return its spec."""
    name = name or data.get("name")
    where = f"{origin}: format {name!r}" if name else origin
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{origin}: a format needs a name")
    unknown = set(data) - _TOP
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))};"
            f" expected {', '.join(sorted(_TOP))}"
        )
    match = data.get("match", {})
    if not isinstance(match, dict) or set(match) - _MATCH:
        raise ConfigError(f"{where}: [match] takes {', '.join(sorted(_MATCH))}")
    try:
        patterns = {path: re.compile(p) for path, p in match.get("patterns", {}).items()}
    except (re.error, TypeError) as exc:
        raise ConfigError(f"{where}: [match.patterns]: {exc}") from None
    shapes = dict(match.get("shapes", {}))
    for path, shape in shapes.items():
        if shape not in _TYPES_OF:
            raise ConfigError(
                f"{where}: [match.shapes] {path} = {shape!r}; use one of {', '.join(_TYPES_OF)}"
            )
    levels = dict(data.get("levels", {}))
    _check_levels(levels, where)
    envelope = data.get("envelope", {})
    samples = data.get("samples", [])
    if not isinstance(samples, list) or not all(
        isinstance(s, dict) and isinstance(s.get("line"), str) for s in samples
    ):
        raise ConfigError(f"{where}: each [[samples]] needs a line")
    return FormatSpec(
        name=name,
        description=str(data.get("description", "")),
        origin=origin,
        keys=_paths(match.get("keys", []), f"{where}: [match] keys"),
        any_keys=_paths(match.get("any", []), f"{where}: [match] any"),
        shapes=shapes,
        equals=dict(match.get("equals", {})),
        patterns=patterns,
        priority=int(match.get("priority", 0)),
        fields=_field_specs(data.get("fields", {}), f"{where}: [fields]"),
        fields_last=_field_specs(data.get("fields_last", {}), f"{where}: [fields_last]"),
        levels=levels,
        inner=envelope.get("inner") if isinstance(envelope, dict) else None,
        samples=samples,
    )


def _check_levels(levels: dict[str, Any], where: str) -> None:
    unknown = set(levels) - {"words", "numbers", "scale", "offsets"}
    if unknown:
        raise ConfigError(f"{where}: [levels] takes words, numbers, scale and offsets")
    named = [*levels.get("words", {}).values(), *levels.get("numbers", {}).values()]
    named += [level for _, level in levels.get("scale", [])]
    bad = sorted({str(level) for level in named} - _LEVELS)
    if bad:
        raise ConfigError(
            f"{where}: [levels] {', '.join(bad)}: use one of {', '.join(sorted(_LEVELS))}"
        )


def read_format_file(path: Path) -> FormatSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read format file {path}: {exc}") from None
    return parse_spec(data, str(path))


def load_formats(
    user: Mapping[str, Any] | None = None, formats_dir: str | Path | None = None
) -> dict[str, FormatSpec]:
    """Every known format by name: the built-in files, then a formats directory's files, then
    logkit.toml's `[formats.NAME]` tables; a later one of the same name replaces the earlier."""
    specs: dict[str, FormatSpec] = {}
    for path in sorted(FORMATS_DIR.glob("*.toml")):
        spec = read_format_file(path)
        specs[spec.name] = spec
    if formats_dir:
        directory = Path(formats_dir)
        if not directory.is_dir():
            raise ConfigError(f"[ingest] formats_dir {str(directory)!r} is not a directory")
        for path in sorted(directory.glob("*.toml")):
            spec = read_format_file(path)
            specs[spec.name] = spec
    for name, table in (user or {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"[formats.{name}] must be a table")
        specs[name] = parse_spec(table, "logkit.toml [formats]", name)
    if GENERIC not in specs:
        raise ConfigError("the generic format is missing")
    return specs


# -- compiling a format ---------------------------------------------------------------------


def _found(value: Any, patterns: tuple[re.Pattern[str], ...]) -> Any:
    """The part of `value` the first matching pattern captures (group 'value', else the whole
    match), or None. A list (an HTTP header's values, as Caddy logs them) is read by its first."""
    if type(value) is list and value:
        value = value[0]
    if type(value) is not str:
        return None
    for pattern in patterns:
        match = pattern.search(value)
        if match is not None:
            return match.group("value") if "value" in pattern.groupindex else match.group(0)
    return None


def _with_pattern(convert: Converter, patterns: tuple[re.Pattern[str], ...]) -> Converter:
    def found_then_convert(value: Any) -> Any:
        part = _found(value, patterns)
        return None if part is None else convert(part)

    return found_then_convert


_LEVEL_OFFSET = re.compile(r"([A-Za-z]+)\s*([+-]\s*\d+)")


def _level_converter(levels: dict[str, Any]) -> Converter:
    """The generic level reading with a format's own spellings and scales in front."""
    words = {str(k).lower(): v for k, v in levels.get("words", {}).items()}
    numbers = {int(k): v for k, v in levels.get("numbers", {}).items()}
    scale = sorted((int(n), level) for n, level in levels.get("scale", []))
    offsets = {str(k).lower(): int(v) for k, v in levels.get("offsets", {}).items()}

    def on_scale(number: int) -> str | None:
        if number in numbers:
            return numbers[number]
        found = None
        for threshold, level in scale:
            if number < threshold:
                break
            found = level
        return found

    def convert(value: Any) -> str | None:
        cls = type(value)
        if cls is str:
            text = value.strip()
            level = words.get(text.lower())
            if level is not None:
                return level
            if offsets:
                match = _LEVEL_OFFSET.fullmatch(text)
                if match and match[1].lower() in offsets:
                    return on_scale(offsets[match[1].lower()] + int(match[2].replace(" ", "")))
            if (numbers or scale) and text.lstrip("-").isdigit() and text.isascii():
                return on_scale(int(text)) or normalize_level(value)
        elif (numbers or scale) and (cls is int or (cls is float and value.is_integer())):
            level = on_scale(int(value))
            if level is not None:
                return level
        return normalize_level(value)

    return convert


_TEMPLATE_HOLE = re.compile(r"\{([@$]?)([A-Za-z0-9_]+)(?:[,:][^}]*)?\}")


def _render(template: str, record: dict[str, Any]) -> str:
    """A message template (Serilog's ``{Name}``, ``{@Obj}``, ``{N:000}``) with the record's
    properties filled in; a hole with no property stays as written."""

    def fill(match: re.Match[str]) -> str:
        value = record.get(match[2])
        if value is None:
            return match[0]
        return value if type(value) is str else orjson.dumps(value).decode()

    return (
        _TEMPLATE_HOLE.sub(fill, template.replace("{{", "\x00").replace("}}", "\x01"))
        .replace("\x00", "{")
        .replace("\x01", "}")
    )


class _Compiled:
    """A format made ready to run: its Normalizer and the few steps a plan cannot express."""

    def __init__(self, spec: FormatSpec, aliases: Mapping[str, Any] | None,
                 generic: FormatSpec | None) -> None:  # fmt: skip
        self.spec = spec
        self.name = spec.name
        level = _level_converter(spec.levels) if spec.levels else None
        extra: list[tuple[str, str, Converter, bool]] = []
        late: list[tuple[str, str, Converter, bool]] = []
        self.post: list[tuple[str, FieldSpec, Converter]] = []
        last = spec.fields_last + (generic.fields_last if generic and generic is not spec else [])
        if spec.name == GENERIC:
            # Generic's plain [fields] are the built-in aliases themselves (BUILTIN_ALIASES).
            own = [s for s in spec.fields if s.pattern or s.keep or s.default is not None
                   or s.nanos or s.template]  # fmt: skip
        else:
            own = spec.fields
        for specs, into in ((own, extra), (last, late)):
            for fs in specs:
                for column, convert, keep in ALIAS_GROUPS[fs.group]:
                    if column == "level" and level is not None:
                        convert = level
                    elif convert is _ident and column in ("trace_id", "span_id"):
                        convert = trace_ident  # an all-zero id is no id
                    if fs.pattern:
                        convert = _with_pattern(convert, fs.pattern)
                    for path in fs.paths:
                        into.append((column, path, convert, keep or fs.keep))
                    if fs.default is not None or fs.nanos or fs.template:
                        self.post.append((column, fs, convert))
        if level is not None and not any(fs.group == "level" for fs in spec.fields):
            # The format's level spellings also read the generic level names.
            names = dict(BUILTIN_ALIASES).get("level", ())
            extra += [("level", name, level, True) for name in names]
        self.normalizer = Normalizer(aliases, extra=extra, late=late)
        self.inner = spec.inner
        # What the Recognizer calls: the Normalizer itself unless there are post steps.
        self.run = self.normalizer if not self.post else self._with_post

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.run(record)

    def _with_post(self, record: dict[str, Any], plan: Any = None) -> dict[str, Any]:
        original = dict(record)
        event = self.normalizer(record, plan)
        for column, fs, convert in self.post:
            if fs.nanos and event[column] is not None:
                nanos = (
                    original.get(fs.nanos)
                    if fs.nanos in original
                    else _lookup(original, tuple(split_path(fs.nanos)))
                )
                if type(nanos) is int and 0 <= nanos < 1_000_000_000:
                    event[column] += nanos // 1000
                    event["attrs"].pop(fs.nanos, None)
            if event[column] is None and fs.template:
                template = original.get(fs.template)
                if type(template) is str:
                    event[column] = _render(template, original)
            if event[column] is None and fs.default is not None:
                event[column] = convert(fs.default)
        return event


# -- recognition ----------------------------------------------------------------------------


# What a per-record check looks at: (key, path below it or None, kind, argument).
_Check = tuple[str, tuple[str, ...] | None, int, Any]
_PRESENT, _TYPES, _EQUALS, _PATTERN = range(4)


def _where(path: str, keys: frozenset[str]) -> tuple[str, tuple[str, ...] | None] | None:
    """Where `path` is in records with these keys: the literal key (a dotted one too) when
    present, else the nested value under its first step; None when neither can exist."""
    if path in keys:
        return path, None
    head, *rest = split_path(path)
    if not rest or head not in keys:
        return None
    return head, tuple(rest)


def _passes(record: dict[str, Any], checks: tuple[_Check, ...]) -> bool:
    """Whether a record's values pass its candidate format's checks (one call per format)."""
    for key, path, kind, argument in checks:
        value = record.get(key) if path is None else _lookup(record.get(key), path)
        if kind == _TYPES:
            if type(value) not in argument:
                return False
        elif kind == _PRESENT:
            if value is None:
                return False
        elif kind == _EQUALS:
            # type() too: 0 == False and 1 == 1.0 would otherwise pass.
            if type(value) is not type(argument) or value != argument:
                return False
        elif type(value) is not str or argument.search(value) is None:
            return False
    return True


class _Signature:
    """A format's [match]: what a record's keys decide (once per shape) and, for that shape,
    the checks its values need (per record)."""

    def __init__(self, compiled: _Compiled) -> None:
        spec = compiled.spec
        self.compiled = compiled
        self.keys = spec.keys
        self.any_keys = spec.any_keys
        tests: list[tuple[str, int, Any]] = []
        for path, shape in spec.shapes.items():
            tests.append((path, _TYPES, _TYPES_OF[shape]))
        for path, literal in spec.equals.items():
            tests.append((path, _EQUALS, literal))
        for path, pattern in spec.patterns.items():
            tests.append((path, _PATTERN, pattern))
        self.tests = tests
        conditions = len(spec.keys) + len(tests) + bool(spec.any_keys)
        self.rank = (spec.priority, conditions)

    def checks_for(self, keys: frozenset[str]) -> tuple[_Check, ...] | None:
        """The per-record checks for records with these keys, or None if they cannot match."""
        checks: list[_Check] = []
        for path in self.keys:
            if path in keys:
                continue
            where = _where(path, keys)
            if where is None:
                return None
            checks.append((*where, _PRESENT, None))
        if self.any_keys and not any(path in keys for path in self.any_keys):
            nested = [w for w in (_where(p, keys) for p in self.any_keys) if w is not None]
            if not nested:
                return None
            if len(nested) > 1:
                # Rare enough (several nested alternatives, none top-level) to keep it simple:
                # the first that can exist must be present.
                nested = nested[:1]
            checks.append((*nested[0], _PRESENT, None))
        for path, kind, argument in self.tests:
            where = _where(path, keys)
            if where is None:
                return None
            checks.append((*where, kind, argument))
        return tuple(checks)


class Recognizer:
    """The Normalize stage's engine: record → canonical event, by the record's format.

    `take_counts` gives, per format name, [events, then events with each `COVERAGE` column];
    the pipeline takes them per block. `last` is the format of the latest record.
    """

    def __init__(
        self,
        specs: Mapping[str, FormatSpec] | None = None,
        aliases: Mapping[str, Any] | None = None,
        forced: str | None = None,
    ) -> None:
        specs = specs if specs is not None else load_formats()
        generic = specs[GENERIC]
        self.formats = {name: _Compiled(spec, aliases, generic) for name, spec in specs.items()}
        if forced is not None and forced not in self.formats:
            raise ConfigError(
                f"no log format {forced!r}; known: {', '.join(sorted(self.formats))}"
                " (see 'logkit formats')"
            )
        self.generic = self.formats[GENERIC]
        self.forced = self.formats[forced] if forced else None
        signatures = [_Signature(c) for c in self.formats.values() if c.spec.matchable]
        # Most specific first: a bunyan record also has everything a pino one has.
        signatures.sort(key=lambda s: (-s.rank[0], -s.rank[1], s.compiled.name))
        self._signatures = signatures
        self._decisions: dict[tuple[str, ...], Any] = {}
        self.last = GENERIC
        self._runs: list[tuple[str, int]] = []  # (format, index of its first event)
        self._run: str | None = None
        self._seen = 0
        self._dropped: list[int] = []

    def _decide(self, shape: tuple[str, ...]) -> Any:
        """The formats records of this shape may be, best first, ending with one that needs no
        value check (or generic), as a list; or, when the keys alone decide, a tuple of the
        format and its plan for the shape."""
        keys = frozenset(shape)
        candidates: list[tuple[_Compiled, tuple[_Check, ...], Any]] = []
        for signature in self._signatures:
            checks = signature.checks_for(keys)
            if checks is not None:
                fmt = signature.compiled
                candidates.append((fmt, checks, fmt.normalizer.plan_for(shape)))
                if not checks:
                    break
        else:
            candidates.append((self.generic, (), self.generic.normalizer.plan_for(shape)))
        fmt, checks, plan = candidates[0]
        decision: Any = (fmt, plan) if not checks else candidates
        if len(self._decisions) >= _MAX_SHAPES:
            self._decisions.clear()
        self._decisions[shape] = decision
        return decision

    def recognise(self, record: dict[str, Any], shape: tuple[str, ...] | None = None) -> _Compiled:
        """The format of `record` (`shape` is ``tuple(record)``, if the caller has it)."""
        if self.forced is not None:
            return self.forced
        if shape is None:
            shape = tuple(record)
        decision = self._decisions.get(shape)
        if decision is None:
            decision = self._decide(shape)
        if type(decision) is tuple:
            return decision[0]
        return self._check(decision, record)[0]

    def _check(self, decision: Any, record: dict[str, Any]) -> tuple[_Compiled, Any]:
        """The first candidate whose checks the record passes, and its plan."""
        for fmt, checks, plan in decision:
            if not checks or _passes(record, checks):
                return fmt, plan
        return self.generic, None  # unreachable: the last candidate has no checks

    def __call__(self, record: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        # The hot path of every line: recognise inlined, the shape built once for both
        # the recognition and the format's plan.
        fmt = self.forced
        plan = None
        if fmt is None:
            shape = tuple(record)
            decision = self._decisions.get(shape)
            if decision is None:
                decision = self._decide(shape)
            if type(decision) is tuple:
                fmt, plan = decision
            else:
                fmt, plan = self._check(decision, record)
        if fmt.inner is not None and depth < _MAX_DEPTH:
            event = self._unwrap(fmt, record, depth)
            if depth:
                return event
        else:
            event = fmt.run(record, plan)
            self.last = fmt.name
            if depth:
                return event
        # Which format each event had is kept as runs of one format (a block of lines is
        # mostly one run); the coverage of each is counted from the block's columns at its
        # end (take_counts), not here per line.
        if self.last != self._run:
            self._run = self.last
            self._runs.append((self.last, self._seen))
        self._seen += 1
        return event

    def dropped(self) -> None:
        """The latest event was rejected after all (not stored): leave it out of the counts."""
        self._dropped.append(self._seen - 1)

    def take_counts(self, events: Any) -> dict[str, list[int]]:
        """Per format (envelope/inner pairs too), [events, then events with each COVERAGE
        column], for the events made since the last take; `events` are those events in order
        (an Arrow table, or a list of event dicts), less any `dropped`."""
        runs, seen, dropped = self._runs, self._seen, set(self._dropped)
        self._runs, self._seen, self._dropped, self._run = [], 0, [], None
        if not runs:
            return {}
        names = list(dict.fromkeys(name for name, _ in runs))
        codes: list[int] = []
        for (name, start), end in zip(runs, [s for _, s in runs[1:]] + [seen], strict=True):
            codes.extend([names.index(name)] * (end - start))
        if dropped:
            codes = [code for position, code in enumerate(codes) if position not in dropped]
            names = [name for code, name in enumerate(names) if code in set(codes)]
            remap = {code: index for index, code in enumerate(sorted(set(codes)))}
            codes = [remap[code] for code in codes]
        counts = {name: [0] * (1 + len(COVERAGE)) for name in names}
        totals = [counts[name] for name in names]
        if len(names) == 1 and not isinstance(events, list):
            # The common case, one format in the block: Arrow has counted the nulls already.
            totals[0][:] = [len(codes)] + [len(codes) - events.column(c).null_count
                                           for c in COVERAGE]  # fmt: skip
            return counts
        if isinstance(events, list):
            columns = [[e[c] is not None for e in events] for c in COVERAGE]
        else:
            columns = [pc.is_valid(events.column(c)).to_pylist() for c in COVERAGE]
        for code in codes:
            totals[code][0] += 1
        for index, column in enumerate(columns, start=1):
            for code, present in zip(codes, column, strict=False):
                totals[code][index] += present
        return counts

    def _unwrap(self, fmt: _Compiled, record: dict[str, Any], depth: int) -> dict[str, Any]:
        """An envelope: its inner record, when it is JSON, normalised by its own format, with
        the envelope's columns filling what the inner record lacks; the envelope itself (less
        the inner text) is kept in attrs as "envelope"."""
        head, *rest = split_path(fmt.inner or "")
        inner = record.get(head) if not rest else _lookup(record.get(head), tuple(rest))
        if type(inner) is list and inner and all(type(b) is int and 0 <= b < 256 for b in inner):
            # journald writes a MESSAGE that is not valid UTF-8 as an array of bytes.
            inner = bytes(inner).decode("utf-8", errors="replace")
            if not rest:
                record[head] = inner
        parsed = None
        if type(inner) is str and inner.lstrip()[:1] == "{":
            try:
                parsed = orjson.loads(inner)
            except orjson.JSONDecodeError:
                parsed = None
        if type(parsed) is not dict:
            self.last = fmt.name
            return fmt(record)
        envelope = dict(record)
        if not rest:
            del envelope[head]
        event = self(parsed, depth + 1)
        inner_name = self.last
        outer = fmt(dict(envelope))
        for column in CANONICAL_FIELDS:
            if event[column] is None and outer[column] is not None:
                event[column] = outer[column]
        attrs = event["attrs"]
        if "envelope" in attrs:
            attrs = {**attrs, "envelope~inner": attrs.pop("envelope")}
        attrs["envelope"] = envelope
        event["attrs"] = attrs
        self.last = f"{fmt.name}/{inner_name}"
        return event


def field_names(specs: Mapping[str, FormatSpec], columns: Iterable[str]) -> dict[str, list[str]]:
    """Per column, the record keys any format reads it from (a nested path's last step): for
    the masking prefilter, which must find a pseudonymised column's value in the raw line."""
    wanted = set(columns)
    names: dict[str, list[str]] = {column: [] for column in wanted}
    for spec in specs.values():
        for fs in (*spec.fields, *spec.fields_last):
            for column, _, _ in ALIAS_GROUPS[fs.group]:
                if column in wanted:
                    names[column] += [split_path(path)[-1] for path in fs.paths]
    return {column: list(dict.fromkeys(found)) for column, found in names.items()}


def known(specs: Mapping[str, FormatSpec]) -> Iterable[FormatSpec]:
    """Formats in the order `logkit formats` lists them: generic last."""
    return sorted(specs.values(), key=lambda s: (s.name == GENERIC, s.name))
