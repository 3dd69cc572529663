"""What Python knows of normalisation, now that the native core does it (src/normalize/):
the alias groups and the built-in alias table as data, the key names a field may come from, and
the one converter a query needs (a user-typed X-Ray trace id).

The alias groups are the core's own list (`_core.alias_groups()`: each group, the columns it
feeds and whether the original stays in attrs), so that there is one; the built-in aliases
are the generic format's `[fields]` (logkit/formats/generic.toml), which the core reads too.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import _core
from .errors import ConfigError

#: What a `[aliases]` entry in logkit.toml (or a format's `[fields]`) can name: a canonical
#: column, or a column with a unit (duration_s) or a composite header (traceparent), each as
#: the (column, keep) pairs it feeds: `keep`, the original value also stays in attrs.
ALIAS_GROUPS: dict[str, tuple[tuple[str, bool], ...]] = {}
for _group, _column, _keep in _core.alias_groups():
    ALIAS_GROUPS[_group] = (*ALIAS_GROUPS.get(_group, ()), (_column, _keep))

#: Built-in aliases as (group, names) pairs, best first: the `generic` format's fields. A dotted
#: name matches both a literal key ("log.level") and the nested value ({"log": {"level": ...}}).
BUILTIN_ALIASES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (group, tuple(names))
    for group, names in tomllib.loads(
        (Path(__file__).parent / "formats" / "generic.toml").read_text(encoding="utf-8")
    )["fields"].items()
)

_HEX = frozenset("0123456789abcdefABCDEF-")


def split_path(name: str) -> list[str]:
    """A dotted field name's steps; a quoted step may hold dots, as OpenTelemetry's attribute
    names do: ``attributes."http.request.method"``."""
    if '"' not in name:
        return name.split(".")
    steps = []
    for quoted, plain in re.findall(r'"([^"]*)"\.?|([^."]+)\.?', name):
        steps.append(quoted or plain)
    return steps


def field_sources(
    aliases: Mapping[str, Iterable[str] | str] | None, fields: Iterable[str]
) -> dict[str, list[str]]:
    """The record keys each of `fields` may be read from (built-in and configured aliases),
    best first: the user's aliases, then the built-in ones not claimed by a user's group.

    Fields that are not canonical columns are record keys themselves.
    """
    ordered: dict[str, list[str]] = {c: [] for rows in ALIAS_GROUPS.values() for c, _ in rows}
    claimed: set[str] = set()
    user: list[tuple[str, tuple[str, ...]]] = []
    for group, given in (aliases or {}).items():
        if group not in ALIAS_GROUPS:
            valid = ", ".join(sorted(ALIAS_GROUPS))
            raise ConfigError(f"[aliases] has no column {group!r}; use one of: {valid}")
        names = (given,) if isinstance(given, str) else tuple(given)
        if not all(isinstance(name, str) and name for name in names):
            raise ConfigError(f"[aliases] {group} must be a list of non-empty field names")
        user.append((group, names))
        claimed.update(names)
    for from_user, groups in ((True, user), (False, BUILTIN_ALIASES)):
        for group, names in groups:
            for column, _ in ALIAS_GROUPS[group]:
                known = ordered[column]
                # A key the user named belongs to the user's group alone.
                known += [n for n in names if n not in known and (from_user or n not in claimed)]
    return {f: ordered.get(f, [f]) for f in fields}


def xray_trace(value: Any) -> str | None:
    """An AWS X-Ray trace id, bare (``1-5759e988-bd862e3fe1be46a994272793``) or as the
    ``X-Amzn-Trace-Id`` header's ``Root=`` (``Root=1-...;Parent=...;Sampled=1``), as the W3C
    trace id AWS maps it to: its time and random parts as one 32-hex id
    (``5759e988bd862e3fe1be46a994272793``), which joins with the same trace's W3C ids.

    The core converts `xray_trace` aliases the same way (src/normalize/converters.rs); this
    one reads a trace id a user types (`logkit trace`)."""
    if type(value) is not str or not 35 <= len(value) <= 256:
        return None
    text = value
    if "=" in value:
        roots = [f.strip()[5:] for f in value.split(";") if f.strip().startswith("Root=")]
        text = roots[0].strip() if len(roots) == 1 else ""
    if len(text) != 35 or text[:2] != "1-" or text[10] != "-":
        return None
    ident = (text[2:10] + text[11:]).lower()
    return ident if _HEX.issuperset(ident) and "-" not in ident and ident.strip("0") else None
