"""Named SQL queries kept in `queries/*.sql`, aiosql style.

Each file holds one query under a comment header::

    -- name: slowest_traces
    -- The slowest traces: time from first to last event, with services and outcome.
    -- params: since=, until=, limit:int=20
    SELECT ...
    WHERE ($since IS NULL OR ts >= $since) ...
    LIMIT $limit

The first line names the query (it must match the file name); the comment lines after it are
its description, except `-- params:`, which declares the `$name` parameters the SQL binds.
A parameter is `name` (required), `name=default` or `name=` (optional, NULL when not given),
optionally typed as `name:int`, `name:float`, `name:time` or `name:str`. Without a type,
`since` and `until` are times (relative like `2h` or ISO 8601, see logkit/timeparse.py), a
default that reads as a number makes a number, and anything else is a string. Values are
always bound, never pasted into the SQL (`sql_literal` is for text logkit itself makes:
paths, patterns).

Where the files are: `logkit/queries/`, in a checkout and inside an installed wheel (the
top-level `queries/` of a checkout is a symlink to it: maturin packs the files of the package
directory and does not follow a symlinked directory into it).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import QueryError

_FIELD = re.compile(r"--\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PARAM = re.compile(r"^([A-Za-z_]\w*)(?::(int|float|time|str))?(?:(=)(.*))?$")
_BOUND = re.compile(r"\$([A-Za-z_]\w*)")
TIME_PARAMS = ("since", "until")


def sql_literal(value: str | os.PathLike[str]) -> str:
    """A SQL string literal, for text logkit made (a path, a regex of its own), where DuckDB
    binds no parameters (COPY's target, ATTACH, a view's definition, an expression built once).
    Every value a user gives is a bound parameter instead."""
    return "'" + str(value).replace("'", "''") + "'"


@dataclass
class Param:
    name: str
    type: str = "str"
    required: bool = True
    default: str | None = None


@dataclass
class NamedQuery:
    name: str
    description: str
    sql: str
    params: list[Param] = field(default_factory=list)
    path: Path | None = None

    def bind(self, values: dict[str, Any]) -> dict[str, Any]:
        """Check and convert user values (strings from `-p key=value`, or Python objects)."""
        from .timeparse import parse_time

        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            takes = ", ".join(known) or "no parameters"
            raise QueryError(
                f"query {self.name!r} has no parameter {unknown[0]!r} (it takes: {takes})"
            )
        raw: dict[str, Any] = {}
        for param in self.params:
            value = values.get(param.name, param.default)
            if value is None and param.required:
                raise QueryError(
                    f"query {self.name!r} needs a value for {param.name!r}: "
                    f"pass -p {param.name}=VALUE"
                )
            raw[param.name] = value
        # `until` first: a relative `since` counts back from it.
        bound: dict[str, Any] = {}
        order = sorted(self.params, key=lambda p: p.name != "until")
        for param in order:
            value = raw[param.name]
            if value is None or not isinstance(value, str):
                bound[param.name] = value
            elif param.type == "time":
                anchor = bound.get("until") if param.name != "until" else None
                bound[param.name] = parse_time(value, anchor=anchor, option=param.name)
            elif param.type in ("int", "float"):
                try:
                    bound[param.name] = int(value) if param.type == "int" else float(value)
                except ValueError:
                    raise QueryError(
                        f"parameter {param.name!r} of query {self.name!r} must be "
                        f"{'an integer' if param.type == 'int' else 'a number'}, got {value!r}"
                    ) from None
            else:
                bound[param.name] = value
        return {p.name: bound[p.name] for p in self.params}


def _infer_type(name: str, default: str | None) -> str:
    if name in TIME_PARAMS:
        return "time"
    if default:
        for kind, convert in (("int", int), ("float", float)):
            try:
                convert(default)
                return kind
            except ValueError:
                pass
    return "str"


def parse_params(text: str, *, where: str) -> list[Param]:
    params = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        match = _PARAM.match(item)
        if not match:
            raise QueryError(f"{where}: cannot read parameter {item!r} in '-- params:'")
        name, type_, has_default, default = match.groups()
        default = default.strip() if has_default else None
        params.append(
            Param(
                name=name,
                type=type_ or _infer_type(name, default),
                required=not has_default,
                default=default or None,
            )
        )
    return params


@dataclass
class SqlFile:
    """A SQL file split into its header and its SQL: the one reader of the header of every
    SQL file logkit has (named queries here, metric definitions in logkit/export/definitions.py)."""

    #: The `-- key: value` lines (key in lower case), in order.
    fields: list[tuple[str, str]]
    #: The other comment lines of the header, without their `--`.
    prose: list[str]
    sql: str


def split(text: str, *, keys: Iterable[str] | None = None) -> SqlFile:
    """The header is the comment lines the file starts with (blank lines among them are
    passed over), the SQL is the rest, without a final `;`. A comment line `-- key: value`
    is a field when `key` is one of `keys` (any key when None), else prose."""
    known = None if keys is None else set(keys)
    fields: list[tuple[str, str]] = []
    prose: list[str] = []
    lines = text.splitlines()
    body = len(lines)
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            body = number
            break
        match = _FIELD.fullmatch(stripped)
        key = match.group(1).lower() if match else None
        if match and key and (known is None or key in known):
            fields.append((key, match.group(2)))
        else:
            prose.append(stripped[2:].strip())
    return SqlFile(fields, prose, "\n".join(lines[body:]).strip().rstrip(";").strip())


def parse(text: str, *, path: Path | None = None) -> NamedQuery:
    """Read one query file's text."""
    where = str(path) if path else "query"
    lines = text.splitlines()
    first = split(lines[0], keys=["name"]).fields if lines else []
    name = first[0][1] if first else ""
    if not _IDENTIFIER.fullmatch(name):
        raise QueryError(f"{where}: the first line must be '-- name: QUERY_NAME'")
    header = split("\n".join(lines[1:]), keys=["params"])
    description = header.prose
    params: list[Param] = []
    for _, value in header.fields:
        params = parse_params(value, where=where)
    sql = header.sql
    used = set(_BOUND.findall(sql))
    declared = {p.name for p in params}
    if used != declared:
        raise QueryError(
            f"{where}: '-- params:' declares {sorted(declared)} but the SQL binds {sorted(used)}"
        )
    return NamedQuery(
        name=name,
        description=" ".join(d for d in description if d),
        sql=sql,
        params=params,
        path=path,
    )


def queries_dir() -> Path:
    """`logkit/queries/` in a wheel, else the checkout's top-level `queries/`."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "queries", package.parent / "queries"):
        if candidate.is_dir():
            return candidate
    return package / "queries"


def load_all(directory: Path | None = None) -> dict[str, NamedQuery]:
    """Every `*.sql` directly in `directory` (sub-folders are not named queries: metrics/ has
    the metric definitions, the others logkit's own statements, see `statement`)."""
    directory = directory or queries_dir()
    found: dict[str, NamedQuery] = {}
    for path in sorted(directory.glob("*.sql")):
        query = parse(path.read_text(encoding="utf-8"), path=path)
        if query.name != path.stem:
            raise QueryError(f"{path}: named {query.name!r}, but the file is {path.name}")
        found[query.name] = query
    return found


@functools.cache
def statement(name: str) -> str:
    """The SQL of `queries/AREA/NAME.sql` (`name` is "AREA/NAME"): a fixed statement of
    logkit's own, with a named query's header (`-- name:`, what it does, `-- params:` for
    the `$names` it binds). Read once per process."""
    path = queries_dir() / f"{name}.sql"
    query = parse(path.read_text(encoding="utf-8"), path=path)
    if query.name != path.stem:
        raise QueryError(f"{path}: named {query.name!r}, but the file is {path.name}")
    return query.sql


def load(name: str, directory: Path | None = None) -> NamedQuery:
    """The query called `name`, with a did-you-mean when there is none."""
    import difflib

    directory = directory or queries_dir()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise QueryError(f"no query named {name!r} (see 'logkit query --list')")
    path = directory / f"{name}.sql"
    if not path.is_file():
        names = [p.stem for p in directory.glob("*.sql")]
        close = difflib.get_close_matches(name, names, n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise QueryError(f"no query named {name!r} ({hint}see 'logkit query --list')")
    return parse(path.read_text(encoding="utf-8"), path=path)
