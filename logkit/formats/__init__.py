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
# record = "jsonPayload"     # or the other record itself, an object (instead of inner)

[explode]                    # one line holds many records (an OTLP/JSON export request)
path = "resourceLogs[].scopeLogs[].logRecords[]"   # each item of the innermost list is a record
inherit = { resource = "resourceLogs[].resource" }  # a value of an enclosing item (or of the
                             # line's record: a field beside the first list), added to each
decode = { attributes = "keyvalues", body = "anyvalue" }  # OTLP's typed values made plain
# With an [envelope] too, each record's inner text is read as the record it holds (CloudWatch
# Logs payloads: each event's message an application's own line).

[partial]                    # a writer split a long line into parts (Docker's 16 KiB, CRI's P)
text = "log"                 # the field whose texts are joined
by = "stream"                # parts are joined per value of this field (stdout and stderr apart)
continues = { from = "logtag", pattern = '^P' }   # a part whose text goes on in a later part

[context]                    # built-in generic's alone: objects loggers nest context in
objects = ["fields", "mdc"]  # each [fields] name is read inside them too, after the record's own
skip = ["message"]           # columns not read there (a nested "name" is not the logger)

[[samples]]                  # checked by tests/test_formats.py for every format file
line = '{"ts": 1795341662.5, "level": "info", "msg": "hi"}'
expect = { ts = "2026-11-22T10:01:02.5Z", level = "INFO", message = "hi" }
```

The columns a format does not name fall back on the `generic` format's names (generic.toml),
whose ``[fields]`` are also the names `[aliases]` in logkit.toml extends. A record no format
claims is normalised by `generic` alone.

This module reads and checks the files (`load_formats`), with the error messages a user sees;
the native core (src/formats/) recognises each record's format and applies it, from the loaded
specs handed over as data (`core.format_data`). Recognition is per record (a file may mix
formats); when several formats match, the most specific (most conditions) wins. Lines that are
not one record each are the core's too: an `[explode]` line makes an event per record it holds
(told apart by ``attrs.line_index``), and the parts of a `[partial]` line are joined into the
last part's record, normalised as one; the reader keeps an unfinished sequence out of a block
and its checkpoint (the core's `unfinished` scan), so a joined record is stored once.

A format whose patterns the core cannot compile (Rust's regex syntax has no look-around or
backreferences) is refused as the formats load (errors.FormatUnsupported).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import _core
from ..errors import ConfigError, FormatUnsupported
from ..normalize import ALIAS_GROUPS, split_path

__all__ = ["COVERAGE", "FORMATS_DIR", "FormatSpec", "load_formats", "parse_spec"]

FORMATS_DIR = Path(__file__).parent
GENERIC = "generic"
#: The columns whose share of events the ingest summary reports per format.
COVERAGE = ("ts", "level", "message", "service", "trace_id")

# The value shapes [match.shapes] may name.
_SHAPES = ("number", "integer", "string", "object", "array", "boolean")
_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
_TOP = frozenset({"name", "description", "match", "fields", "fields_last", "levels", "envelope",
                  "explode", "partial", "context", "samples"})  # fmt: skip
_MATCH = frozenset({"keys", "any", "shapes", "equals", "patterns", "priority"})
_FIELD_OPTIONS = frozenset({"from", "pattern", "keep", "default", "nanos", "template"})


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
    # (column name in each record, the enclosing item's level: 0 the line's record, k the
    # k-th list's item; path within that item)
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
    inner: str | None = None  # [envelope] inner: the path of text holding a record
    inner_record: str | None = None  # [envelope] record: the path of the record, an object
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
        # Level 0 is the line's own record (a field beside the first list), k the item of
        # the k-th list that encloses the record.
        parts = source.split("[].") if isinstance(source, str) else []
        level = len(parts) - 1
        if (
            level < 0
            or level >= len(lists)
            or [tuple(split_path(p)) for p in parts[:-1]] != list(lists[:level])
        ):
            raise ConfigError(
                f"{where}: inherit {column} = {source!r}: name a field of the line's record"
                f" or of an enclosing item, as a path that begins like {path!r}"
                f' ("{steps[0]}[].resource"), or a field beside {steps[0]!r}'
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
        if shape not in _SHAPES:
            raise ConfigError(
                f"{where}: [match.shapes] {path} = {shape!r}; use one of {', '.join(_SHAPES)}"
            )
    levels = dict(data.get("levels", {}))
    _check_levels(levels, where)
    envelope = data.get("envelope", {})
    if not isinstance(envelope, dict):
        raise ConfigError(f"{where}: [envelope] is a table (inner = PATH or record = PATH)")
    _refuse_unknown(envelope, {"inner", "record"}, f"{where}: [envelope]", "key")
    if len(envelope) > 1:
        raise ConfigError(f"{where}: [envelope] takes inner or record, not both")
    if "context" in data and origin != str(GENERIC_FORMAT):
        # The built-in generic file's names are every format's fallback (the core's alias
        # table), and so are its context objects: another file's would never be read.
        raise ConfigError(f"{where}: only the built-in generic format takes [context]")
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
        inner=envelope.get("inner"),
        inner_record=envelope.get("record"),
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


# Each format file's TOML as last read, by path, size and modification time (as Python's own
# bytecode cache checks its sources): reading the 72 built-in files was half of what a
# `Core()` costs (33 -> 20 ms), paid again by every Store a notebook or a test opens. A spec
# may share the TOML's values: nothing changes a spec once made.
_READ: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def read_format_file(path: Path) -> FormatSpec:
    try:
        stat = path.stat()
        version = (stat.st_size, stat.st_mtime_ns)
        kept = _READ.get(path)
        if kept is not None and kept[0] == version:
            data = kept[1]
        else:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            _READ[path] = (version, data)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read format file {path}: {exc}") from None
    return parse_spec(data, str(path))


def load_formats(
    user: Mapping[str, Any] | None = None,
    formats_dir: str | Path | None = None,
    *,
    check: bool = True,
) -> dict[str, FormatSpec]:
    """Every known format by name: the built-in files, then a formats directory's files, then
    logkit.toml's `[formats.NAME]` tables; a later one of the same name replaces the earlier.
    `check`: refuse what the core cannot read (`check_formats`), for a caller that does not
    hand them to the core at once."""
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
    if check:
        check_formats(specs)  # the core applies them: what it cannot read is an error now
    return specs


def field_names(specs: Mapping[str, FormatSpec], columns: Iterable[str]) -> dict[str, list[str]]:
    """Per column, the record keys any format reads it from (a nested path's last step): for
    the masking prefilter, which must find a pseudonymised column's value in the raw line."""
    wanted = set(columns)
    names: dict[str, list[str]] = {column: [] for column in wanted}
    for spec in specs.values():
        for fs in (*spec.fields, *spec.fields_last):
            for column, _ in ALIAS_GROUPS[fs.group]:
                if column in wanted:
                    names[column] += [split_path(path)[-1] for path in fs.paths]
    return {column: list(dict.fromkeys(found)) for column, found in names.items()}


def known(specs: Mapping[str, FormatSpec]) -> Iterable[FormatSpec]:
    """Formats in the order `logkit formats` lists them: generic last."""
    return sorted(specs.values(), key=lambda s: (s.name == GENERIC, s.name))


# -- the loaded formats as the native core reads them (src/formats/spec.rs) --------------

# The generic format's file: its [fields] are the built-in alias table, read by the core itself.
GENERIC_FORMAT = FORMATS_DIR / "generic.toml"


def _field(fs: Any) -> dict[str, Any]:
    return {
        "group": fs.group,
        "paths": list(fs.paths),
        "pattern": [p.pattern for p in fs.pattern],
        "keep": fs.keep,
        "default": fs.default,
        "nanos": fs.nanos,
        "template": fs.template,
    }


def spec_data(spec: FormatSpec) -> dict[str, Any]:
    """A loaded format as the core reads it (src/formats/spec.rs): the FormatSpec's data,
    patterns as their Python source (the core translates the few places Python's regex
    syntax differs, and refuses one it cannot read)."""
    explode = spec.explode
    partial = spec.partial
    return {
        "name": spec.name,
        "keys": list(spec.keys),
        "any_keys": list(spec.any_keys),
        "shapes": list(spec.shapes.items()),
        "equals": list(spec.equals.items()),
        "patterns": [(path, p.pattern) for path, p in spec.patterns.items()],
        "priority": spec.priority,
        "fields": [_field(fs) for fs in spec.fields],
        "fields_last": [_field(fs) for fs in spec.fields_last],
        "levels": spec.levels or None,
        "inner": spec.inner,
        "record": spec.inner_record,
        "explode": None
        if explode is None
        else {
            "lists": [list(steps) for steps in explode.lists],
            "inherit": [[c, level, list(path)] for c, level, path in explode.inherit],
            "decode": [[list(path), kind] for path, kind in explode.decode],
        },
        "partial": None
        if partial is None
        else {
            "text": partial.text,
            "by": partial.by,
            "continues_from": partial.continues_from,
            "continues": partial.continues.pattern,
        },
    }


def specs_json(specs: Mapping[str, FormatSpec], forced: str | None) -> str:
    """Loaded log formats (`load_formats`: built-in, `formats_dir`, logkit.toml's) as the JSON
    the core compiles, with the one `--log-format` forces."""
    data = {"formats": [spec_data(spec) for spec in specs.values()], "forced": forced}
    return json.dumps(data, default=_not_json)


def _not_json(value: Any) -> Any:
    # A TOML date or time in a format's table (`equals = { d = 1979-05-27 }`): no JSON value
    # equals it, and the core is told nothing it would read differently.
    raise ValueError(f"a {type(value).__name__} value ({value}) is not one the core reads")


def check_formats(specs: Mapping[str, FormatSpec]) -> None:
    """FormatUnsupported where the core cannot read these formats as they are written (a
    pattern the `regex` crate cannot compile, such as a look-around; a TOML date)."""
    try:
        _core.check_formats(specs_json(specs, None), builtin_table())
    except ValueError as exc:
        raise FormatUnsupported(str(exc)) from None


def builtin_table() -> list[tuple[str, list[str]]]:
    """The built-in alias table: the generic format file's fields, as the core reads them."""
    try:
        return _core.alias_table_from_toml(GENERIC_FORMAT.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{GENERIC_FORMAT}: {exc}") from None
