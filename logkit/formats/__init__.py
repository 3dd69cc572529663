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

[explode]                    # one line holds many records (an OTLP/JSON export request)
path = "resourceLogs[].scopeLogs[].logRecords[]"   # each item of the innermost list is a record
inherit = { resource = "resourceLogs[].resource" }  # a value of an enclosing item, added to each
decode = { attributes = "keyvalues", body = "anyvalue" }  # OTLP's typed values made plain

[partial]                    # a writer split a long line into parts (Docker's 16 KiB, CRI's P)
text = "log"                 # the field whose texts are joined
by = "stream"                # parts are joined per value of this field (stdout and stderr apart)
continues = { from = "logtag", pattern = '^P' }   # a part whose text goes on in a later part

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
check per record. When several formats match, the most specific (most conditions) wins. A
record whose keys decide its format costs one lookup and one call of the format's compiled plan
(bench/chunk_ab.py measures the whole pipeline stage against an older tree).

Two things make a line other than one record, each raised as a signal the pipeline handles
(`Records`, `Held`, `Joined`), so the path of an ordinary record pays one attribute check:
an `[explode]` format makes one event per item of its records (all from the same line, told
apart by ``attrs.line_index``); a `[partial]` format's record that `continues` is held until
the part that ends it, then the parts' texts are joined into the last part's record, which is
normalised as one. The reader keeps an unfinished sequence out of a block and its checkpoint
(`PartialScan`), so a joined record is whole in one block and stored once.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
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

__all__ = ["COVERAGE", "FORMATS_DIR", "FormatSpec", "Held", "Joined", "Recognizer", "Records",
           "load_formats", "parse_spec"]  # fmt: skip

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
                  "explode", "partial", "samples"})  # fmt: skip
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
class ExplodeSpec:
    """[explode]: the nested lists whose innermost items are the records of a line."""

    lists: tuple[tuple[str, ...], ...]  # the path of each list within the item above it
    # (column name in each record, the enclosing item's level, path within that item)
    inherit: tuple[tuple[str, int, tuple[str, ...]], ...] = ()
    decode: tuple[tuple[tuple[str, ...], str], ...] = ()  # (path in the record, encoding)


@dataclass
class PartialSpec:
    """[partial]: how a record that is one part of a longer one is told and joined."""

    text: str
    by: str | None
    continues_from: str
    continues: re.Pattern[str]


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
    explode: ExplodeSpec | None = None
    partial: PartialSpec | None = None
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
            _refuse_unknown(entry, _FIELD_OPTIONS, f"{where}.{group}", "option")
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


# The typed-value encodings [explode] decode may name (OTLP/JSON's AnyValue and its lists of
# {key, value}, which OTLP's traces and metrics share: an encoding, not a format).
DECODINGS = ("anyvalue", "keyvalues")


def _explode_spec(table: Any, where: str) -> ExplodeSpec | None:
    if table is None:
        return None
    where = f"{where}: [explode]"
    if not isinstance(table, dict) or set(table) - {"path", "inherit", "decode"}:
        raise ConfigError(f"{where} takes path, inherit and decode")
    path = table.get("path")
    if not isinstance(path, str) or not path.endswith("[]"):
        raise ConfigError(f"{where}: path names nested lists, each step ending in [] "
                          "(\"resourceLogs[].scopeLogs[].logRecords[]\")")  # fmt: skip
    steps = path[:-2].split("[].")
    lists = tuple(tuple(split_path(step)) for step in steps)
    inherit = []
    for column, source in dict(table.get("inherit", {})).items():
        parts = source.split("[].") if isinstance(source, str) else []
        level = len(parts) - 2
        if (
            level < 0
            or level >= len(lists) - 1
            or [tuple(split_path(p)) for p in parts[:-1]] != list(lists[: level + 1])
        ):
            raise ConfigError(
                f"{where}: inherit {column} = {source!r}: name a field of an enclosing item,"
                f' as a path that begins like {path!r} ("{steps[0]}[].resource")'
            )
        inherit.append((column, level, tuple(split_path(parts[-1]))))
    decode = []
    for at, kind in dict(table.get("decode", {})).items():
        if kind not in DECODINGS:
            raise ConfigError(f"{where}: decode {at} = {kind!r}; use one of {', '.join(DECODINGS)}")
        decode.append((tuple(split_path(at)), kind))
    return ExplodeSpec(lists, tuple(inherit), tuple(decode))


def _partial_spec(table: Any, where: str) -> PartialSpec | None:
    if table is None:
        return None
    where = f"{where}: [partial]"
    continues = table.get("continues") if isinstance(table, dict) else None
    if (
        not isinstance(table, dict)
        or set(table) - {"text", "by", "continues"}
        or not isinstance(table.get("text"), str)
        or not isinstance(continues, dict)
        or set(continues) != {"from", "pattern"}
    ):
        raise ConfigError(
            f"{where} takes text (the field joined), by (the field parts are joined per) and"
            " continues = { from = FIELD, pattern = REGEX }"
        )
    try:
        pattern = re.compile(continues["pattern"])
    except (re.error, TypeError) as exc:
        raise ConfigError(f"{where}: bad pattern: {exc}") from None
    return PartialSpec(table["text"], table.get("by"), str(continues["from"]), pattern)


def _refuse_unknown(
    given: Mapping[str, Any], allowed: Iterable[str], where: str, noun: str
) -> None:
    """A format file's table may name only what the engine reads: a typo is an error, not a
    setting silently ignored."""
    unknown = set(given) - set(allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown {noun}(s) {', '.join(sorted(unknown))};"
            f" expected {', '.join(sorted(allowed))}"
        )


def parse_spec(data: Mapping[str, Any], origin: str, name: str | None = None) -> FormatSpec:
    """Check a format's table (a file's content, or `[formats.NAME]`) and return its spec."""
    name = name or data.get("name")
    where = f"{origin}: format {name!r}" if name else origin
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{origin}: a format needs a name")
    _refuse_unknown(data, _TOP, where, "key")
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
        explode=_explode_spec(data.get("explode"), where),
        partial=_partial_spec(data.get("partial"), where),
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
        # One check on the path of every record: does this format do more than normalise it?
        self.special = bool(spec.inner or spec.explode or spec.partial)
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


# -- lines that are not one record -----------------------------------------------------------


class Records(Exception):
    """A line of an [explode] format: its events, in the line's order (maybe none)."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        super().__init__(len(events))
        self.events = events


class Held(Exception):
    """This record is a part that continues: no event yet; `key` is its sequence's."""

    def __init__(self, key: tuple[str, str | None]) -> None:
        super().__init__(key)
        self.key = key


class Joined(Exception):
    """This record ended a sequence of parts: `events` are the joined record's (one, or those
    of a line of many records that was split)."""

    def __init__(self, key: tuple[str, str | None], events: list[dict[str, Any]]) -> None:
        super().__init__(key)
        self.key = key
        self.events = events


_DECIMAL = re.compile(r"-?[0-9]+")
_INT_MAX_DIGITS = 4300  # the most digits int() reads (sys.get_int_max_str_digits)


def _any_value(value: Any) -> Any:
    """An OTLP/JSON AnyValue ({"stringValue": "x"}, {"intValue": "42"}, arrays, key-value
    lists) as the plain value it holds; anything else as it is."""
    if type(value) is not dict or len(value) > 1:
        return value
    if not value:
        return None
    ((kind, inner),) = value.items()
    if kind == "intValue" and type(inner) is str:
        # 64-bit integers are decimal strings in OTLP/JSON; other text ("--5", digits of
        # other scripts, more than Python reads as an int) stays the text it is.
        if _DECIMAL.fullmatch(inner) and len(inner.lstrip("-")) <= _INT_MAX_DIGITS:
            return int(inner)
        return inner
    if kind == "arrayValue" and type(inner) is dict:
        values = inner.get("values") or []
        if type(values) is not list:
            return value  # not a list of values: as it was written
        return [_any_value(item) for item in values]
    if kind == "kvlistValue" and type(inner) is dict:
        return _key_values(inner.get("values") or [])
    if kind in ("stringValue", "boolValue", "doubleValue", "intValue", "bytesValue"):
        return inner
    return value


def _key_values(value: Any) -> Any:
    """A list of {"key": K, "value": AnyValue} (K text) as an object {K: value}; else as it
    is."""
    if type(value) is not list or not all(
        type(kv) is dict and type(kv.get("key")) is str for kv in value
    ):
        return value
    return {kv["key"]: _any_value(kv.get("value")) for kv in value}


_DECODE = {"anyvalue": _any_value, "keyvalues": _key_values}


def _copied(value: Any) -> Any:
    """A copy deep enough that normalising one record cannot change its siblings' values."""
    if type(value) is dict:
        return {k: _copied(v) for k, v in value.items()}
    if type(value) is list:
        return [_copied(v) for v in value]
    return value


def _decode_at(record: dict[str, Any], path: tuple[str, ...], decode: Any) -> None:
    node: Any = record
    for step in path[:-1]:
        node = node.get(step) if type(node) is dict else None
    if type(node) is dict and path[-1] in node:
        node[path[-1]] = decode(node[path[-1]])


def exploded(spec: ExplodeSpec, record: dict[str, Any]) -> list[dict[str, Any]]:
    """The records one line of an [explode] format holds, each with what it inherits from the
    items enclosing it and its typed values decoded."""
    records: list[dict[str, Any]] = []
    last = len(spec.lists) - 1

    def walk(node: Any, level: int, enclosing: list[dict[str, Any]]) -> None:
        items = _lookup(node, spec.lists[level])
        if type(items) is not list:
            return
        for item in items:
            if type(item) is not dict:
                continue
            if level < last:
                walk(item, level + 1, [*enclosing, item])
                continue
            one = dict(item)
            for column, at, path in spec.inherit:
                value = _lookup(enclosing[at], path)
                if value is not None and column not in one:
                    one[column] = _copied(value)
            for path, kind in spec.decode:
                _decode_at(one, path, _DECODE[kind])
            records.append(one)

    walk(record, 0, [])
    return records


def _joined(spec: PartialSpec, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The parts of one long line as one record: the last part's (the one that says the line
    is complete), with the texts of all parts joined in order."""
    record = dict(parts[-1])
    record[spec.text] = "".join(
        text for text in (part.get(spec.text) for part in parts) if type(text) is str
    )
    return record


# -- recognition ----------------------------------------------------------------------------


# What a per-record check looks at: (key, path below it or None, kind, argument).
_Check = tuple[str, tuple[str, ...] | None, int, Any]
_PRESENT, _TYPES, _EQUALS, _PATTERN, _ANY = range(5)  # _ANY: one of (key, path) alternatives


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
        if kind == _ANY:
            if all(_lookup(record.get(head), below) is None for head, below in argument):
                return False
            continue
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
            if len(nested) == 1:
                checks.append((*nested[0], _PRESENT, None))
            else:  # one of several nested values must be present
                checks.append(("", None, _ANY, tuple(nested)))
        for path, kind, argument in self.tests:
            where = _where(path, keys)
            if where is None:
                return None
            checks.append((*where, kind, argument))
        return tuple(checks)


class _Special(list):  # type: ignore[type-arg]
    """A shape's candidates when one explodes, joins parts or is an envelope:
    `Recognizer._call` takes them."""

    __slots__ = ()


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
        # Parts held until the one that ends them, per (format, `by` value).
        self._open: dict[tuple[str, str | None], list[dict[str, Any]]] = {}

    def _decide(self, shape: tuple[str, ...]) -> Any:
        """What records of this shape are: when the keys alone decide a plain format (not an
        envelope, nor one that explodes or joins parts), a tuple (name, the function to run,
        its plan), so that such a record costs one lookup and one call; otherwise the
        candidates (checks, name, run, plan, format), best first, ending with one that needs
        no value check (or generic): a list, or a `_Special` when one of them is not plain."""
        keys = frozenset(shape)
        candidates: list[tuple[tuple[_Check, ...], str, Any, Any, _Compiled]] = []
        for signature in self._signatures:
            checks = signature.checks_for(keys)
            if checks is not None:
                candidates.append(self._candidate(signature.compiled, checks, shape))
                if not checks:
                    break
        else:
            candidates.append(self._candidate(self.generic, (), shape))
        checks, name, run, plan = candidates[0][:4]
        decision: Any = candidates
        if any(candidate[4].special for candidate in candidates):
            decision = _Special(candidates)
        elif not checks:
            decision = (name, run, plan)
        if len(self._decisions) >= _MAX_SHAPES:
            self._decisions.clear()
        self._decisions[shape] = decision
        return decision

    @staticmethod
    def _candidate(fmt: _Compiled, checks: tuple[_Check, ...], shape: tuple[str, ...]) -> Any:
        plan = fmt.normalizer.plan_for(shape)
        # A format with no post steps runs the plan itself: one call per record.
        return checks, fmt.name, plan if fmt.run is fmt.normalizer else fmt.run, plan, fmt

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
            return self.formats[decision[0]]
        return self._check(decision, record)[0]

    def _check(self, decision: Any, record: dict[str, Any]) -> tuple[_Compiled, Any]:
        """The first candidate whose checks the record passes, and its plan."""
        for checks, _, _, plan, fmt in decision:
            if not checks or _passes(record, checks):
                return fmt, plan
        return self.generic, None  # unreachable: the last candidate has no checks

    def __call__(
        self, record: dict[str, Any], depth: int = 0, whole: bool = False
    ) -> dict[str, Any]:
        """The record's event; raises `Records` for a line of many, `Held` and `Joined` for the
        parts of a split one (`whole`: a joined record, whose parts are done with)."""
        # The hot path of every line. Which format each event had is kept as runs of one
        # format (a block of lines is mostly one run); the coverage of each is counted from
        # the block's columns at its end (take_counts), not here per line.
        decision = self._decisions.get(tuple(record)) if self.forced is None else None
        kind = type(decision)
        if kind is tuple and not depth:
            name, run, plan = decision
        elif kind is list and not depth:  # told apart by their values
            for candidate in decision:
                if not candidate[0] or _passes(record, candidate[0]):
                    break
            _, name, run, plan, _ = candidate
        else:
            return self._call(record, depth, decision, whole)
        event = run(record, plan)
        self.last = name
        if name != self._run:
            self._run = name
            self._runs.append((name, self._seen))
        self._seen += 1
        return event

    def _call(
        self, record: dict[str, Any], depth: int, decision: Any, whole: bool
    ) -> dict[str, Any]:
        """`__call__` for the rest: a new shape, a format that explodes, joins parts or is an
        envelope, a forced format, a record inside an envelope."""
        fmt = self.forced
        plan = None
        if fmt is None:
            if decision is None:
                decision = self._decide(tuple(record))
            if type(decision) is tuple:
                fmt, plan = self.formats[decision[0]], decision[2]
            else:
                fmt, plan = self._check(decision, record)
        if fmt.special and depth < _MAX_DEPTH:
            if fmt.spec.partial is not None and not depth and not whole:
                self._part(fmt, record)  # returns for a record that is no part
            if fmt.spec.explode is not None:
                raise Records(self._explode(fmt, record, depth))
            if fmt.inner is not None:
                event = self._unwrap(fmt, record, depth)
            else:
                event = fmt.run(record, plan)
                self.last = fmt.name
            if depth:
                return event
        else:
            event = fmt.run(record, plan)
            self.last = fmt.name
            if depth:
                return event
        if self.last != self._run:
            self._run = self.last
            self._runs.append((self.last, self._seen))
        self._seen += 1
        return event

    def _count(self, name: str) -> None:
        if name != self._run:
            self._run = name
            self._runs.append((name, self._seen))
        self._seen += 1

    def _explode(self, fmt: _Compiled, record: dict[str, Any], depth: int) -> list[dict[str, Any]]:
        """One event per record of the line, by the exploding format's [fields], each with its
        place in the line as attrs.line_index: (stream, line, line_index) is one record."""
        events = []
        for index, one in enumerate(exploded(fmt.spec.explode, record)):  # type: ignore[arg-type]
            event = fmt(one)
            event["attrs"]["line_index"] = index
            if not depth:  # (inside an envelope, the envelope counts them)
                self._count(fmt.name)
            events.append(event)
        self.last = fmt.name
        return events

    def part_of(
        self, fmt: _Compiled, record: dict[str, Any]
    ) -> tuple[tuple[str, str | None], bool] | None:
        """For a record of a [partial] format: its sequence's key, and whether it continues."""
        spec = fmt.spec.partial
        if spec is None:
            return None
        by = record.get(spec.by) if spec.by else None
        key = (fmt.name, by if by is None or type(by) is str else str(by))
        flag = record.get(spec.continues_from)
        return key, type(flag) is str and spec.continues.search(flag) is not None

    def _part(self, fmt: _Compiled, record: dict[str, Any]) -> None:
        """Hold a part that continues; join the held parts when this one ends them."""
        key, continues = self.part_of(fmt, record)  # type: ignore[misc]
        if continues:
            self._open.setdefault(key, []).append(record)
            raise Held(key)
        parts = self._open.pop(key, None)
        if parts:
            parts.append(record)
            raise Joined(key, self._whole(key, parts))

    def _whole(
        self, key: tuple[str, str | None], parts: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The events of the record the parts make: one, or the many a joined line holds."""
        spec = self.formats[key[0]].spec.partial
        assert spec is not None
        try:
            return [self(_joined(spec, parts), 0, True)]
        except Records as many:
            return many.events

    def flush(self) -> list[tuple[tuple[str, str | None], list[dict[str, Any]]]]:
        """The sequences of parts still open (their end did not come: a stream that ended
        mid-line), each as the events of the parts it has."""
        opened, self._open = self._open, {}
        return [(key, self._whole(key, parts)) for key, parts in opened.items()]

    def dropped(self, back: int = 0) -> None:
        """The latest event (or the one `back` before it) was rejected after all (not
        stored): leave it out of the counts."""
        self._dropped.append(self._seen - 1 - back)

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
        if not isinstance(events, list):
            # A block that mixes formats (an app's lines and its framework's): Arrow counts
            # each format's share, rather than a Python loop over every event and column.
            mixed = pa.chunked_array([pa.array(codes, pa.int32())])
            valid = [pc.is_valid(events.column(c)) for c in COVERAGE]
            for code, total in enumerate(totals):
                mine = pc.equal(mixed, code)
                total[0] = pc.sum(mine).as_py() or 0
                for index, column in enumerate(valid, start=1):
                    total[index] = pc.sum(pc.and_(mine, column)).as_py() or 0
            return counts
        columns = [[e[c] is not None for e in events] for c in COVERAGE]
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
        try:
            event = self(parsed, depth + 1)
        except Records as many:
            # A line of many records inside the envelope (an OTLP/JSON export a container
            # wrote to stdout): each event gets what the envelope gives, as one record would.
            name = f"{fmt.name}/{self.last}"
            outer = fmt(dict(envelope))
            events = [_enveloped(event, outer, envelope) for event in many.events]
            if not depth:
                for _ in events:
                    self._count(name)
            self.last = name
            raise Records(events) from None
        inner_name = self.last
        outer = fmt(dict(envelope))
        event = _enveloped(event, outer, envelope)
        self.last = f"{fmt.name}/{inner_name}"
        return event


def _enveloped(
    event: dict[str, Any], outer: dict[str, Any], envelope: dict[str, Any]
) -> dict[str, Any]:
    """An inner record's event with the envelope's columns filling what it lacks, and the
    envelope itself in attrs."""
    for column in CANONICAL_FIELDS:
        if event[column] is None and outer[column] is not None:
            event[column] = outer[column]
    attrs = event["attrs"]
    if "envelope" in attrs:
        attrs = {**attrs, "envelope~inner": attrs.pop("envelope")}
    attrs["envelope"] = envelope
    event["attrs"] = attrs
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
