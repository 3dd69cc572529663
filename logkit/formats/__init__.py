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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..errors import ConfigError
from ..normalize import (
    ALIAS_GROUPS,
    BUILTIN_ALIASES,
    CANONICAL_FIELDS,
    Converter,
    Normalizer,
    _lookup,
    normalize_level,
    split_path,
)

__all__ = ["COVERAGE", "FORMATS_DIR", "FormatSpec", "Recognizer", "load_formats", "parse_spec"]

FORMATS_DIR = Path(__file__).parent
GENERIC = "generic"
#: The columns whose share of events the ingest summary reports per format.
COVERAGE = ("ts", "level", "message", "service", "trace_id")

_SHAPES: dict[str, Callable[[Any], bool]] = {
    "number": lambda v: type(v) is int or type(v) is float,
    "integer": lambda v: type(v) is int,
    "string": lambda v: type(v) is str,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "boolean": lambda v: type(v) is bool,
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
        if shape not in _SHAPES:
            raise ConfigError(
                f"{where}: [match.shapes] {path} = {shape!r}; use one of {', '.join(_SHAPES)}"
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

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        original = record if not self.post else dict(record)
        event = self.normalizer(record)
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


def _getter(path: str, keys: frozenset[str]) -> Callable[[dict[str, Any]], Any] | None:
    """How to read `path` from records with these keys: the literal key (a dotted one too)
    when present, else the nested value under its first step; None when neither can exist."""
    if path in keys:
        return lambda r: r.get(path)
    head, *rest = split_path(path)
    if not rest or head not in keys:
        return None
    steps = tuple(rest)
    return lambda r: _lookup(r.get(head), steps)


class _Signature:
    """A format's [match]: what a record's keys decide (once per shape) and, for that shape,
    the checks its values need (per record)."""

    def __init__(self, compiled: _Compiled) -> None:
        spec = compiled.spec
        self.compiled = compiled
        self.keys = spec.keys
        self.any_keys = spec.any_keys
        tests: list[tuple[str, Callable[[Any], bool]]] = []
        for path, shape in spec.shapes.items():
            tests.append((path, _SHAPES[shape]))
        for path, literal in spec.equals.items():
            # type() too: 0 == False and 1 == 1.0 would otherwise pass.
            tests.append((path, lambda v, x=literal: type(v) is type(x) and v == x))
        for path, pattern in spec.patterns.items():
            tests.append((path, lambda v, p=pattern: type(v) is str and p.search(v) is not None))
        self.tests = tests
        conditions = len(spec.keys) + len(tests) + bool(spec.any_keys)
        self.rank = (spec.priority, conditions)

    def checks_for(
        self, keys: frozenset[str]
    ) -> tuple[Callable[[dict[str, Any]], bool], ...] | None:
        """The per-record checks for records with these keys, or None if they cannot match."""
        checks: list[Callable[[dict[str, Any]], bool]] = []
        for path in self.keys:
            if path in keys:
                continue
            get = _getter(path, keys)
            if get is None:
                return None
            checks.append(lambda r, g=get: g(r) is not None)
        if self.any_keys:
            getters = []
            for path in self.any_keys:
                if path in keys:
                    getters = []
                    break
                get = _getter(path, keys)
                if get is not None:
                    getters.append(get)
            else:
                if not getters:
                    return None
                checks.append(lambda r, gs=tuple(getters): any(g(r) is not None for g in gs))
        for path, test in self.tests:
            get = _getter(path, keys)
            if get is None:
                return None
            checks.append(lambda r, g=get, t=test: t(g(r)))
        return tuple(checks)


class Recognizer:
    """The Normalize stage's engine: record → canonical event, by the record's format.

    `counts` holds, per format name, [events, then events with each `COVERAGE` column]; the
    pipeline takes it per block (`take_counts`). `last` is the format of the latest record.
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
        self.counts: dict[str, list[int]] = {}
        self.last = GENERIC

    def _decide(self, shape: tuple[str, ...]) -> Any:
        """The formats records of this shape may be, best first, ending with one that needs no
        value check (or generic): a _Compiled when the keys alone decide."""
        keys = frozenset(shape)
        candidates: list[tuple[_Compiled, tuple[Callable[[dict[str, Any]], bool], ...]]] = []
        for signature in self._signatures:
            checks = signature.checks_for(keys)
            if checks is not None:
                candidates.append((signature.compiled, checks))
                if not checks:
                    break
        else:
            candidates.append((self.generic, ()))
        decision: Any = candidates[0][0] if not candidates[0][1] else tuple(candidates)
        if len(self._decisions) >= _MAX_SHAPES:
            self._decisions.clear()
        self._decisions[shape] = decision
        return decision

    def recognise(self, record: dict[str, Any]) -> _Compiled:
        if self.forced is not None:
            return self.forced
        shape = tuple(record)
        decision = self._decisions.get(shape)
        if decision is None:
            decision = self._decide(shape)
        if type(decision) is _Compiled:
            return decision
        for compiled, checks in decision:
            for check in checks:
                if not check(record):
                    break
            else:
                return compiled
        return self.generic  # unreachable: the last candidate has no checks

    def __call__(self, record: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        fmt = self.recognise(record)
        if fmt.inner is not None and depth < _MAX_DEPTH:
            event = self._unwrap(fmt, record, depth)
        else:
            event = fmt(record)
            self.last = fmt.name
        if depth == 0:
            counts = self.counts.get(self.last)
            if counts is None:
                counts = self.counts[self.last] = [0] * (1 + len(COVERAGE))
            counts[0] += 1
            # COVERAGE spelt out: this runs for every line.
            counts[1] += event["ts"] is not None
            counts[2] += event["level"] is not None
            counts[3] += event["message"] is not None
            counts[4] += event["service"] is not None
            counts[5] += event["trace_id"] is not None
        return event

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

    def take_counts(self) -> dict[str, list[int]]:
        counts, self.counts = self.counts, {}
        return counts


def known(specs: Mapping[str, FormatSpec]) -> Iterable[FormatSpec]:
    """Formats in the order `logkit formats` lists them: generic last."""
    return sorted(specs.values(), key=lambda s: (s.name == GENERIC, s.name))
