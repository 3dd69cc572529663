"""logkit.toml: the one optional settings file.

Looked up as `--config PATH`, else `$LOGKIT_CONFIG`, else `./logkit.toml`, else `logkit.toml`
beside the store. Every table is optional; unknown top-level tables are an error rather than
silently ignored, because a misspelt `[mask]` would otherwise mean secrets stored unmasked.

```toml
retention = "30d"            # applied by each `logkit export` run

[aliases]                    # extra source field names per canonical column (generic format)
trace_id = ["x_trace"]

[formats.myapp]              # a log format of your own (the language: logkit/formats)
match = { keys = ["when", "sev", "text"] }
fields = { ts = "when", level = "sev", message = "text" }

[mask]                       # see logkit/mask.py
mode = "pseudonymize"
fields = ["user_id"]

[ingest]
formats_dir = "formats"      # more format files (*.toml), relative to this file
max_line_bytes = 16_777_216

[metrics]
max_series = 500
```
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

_TABLES = {"retention", "aliases", "formats", "mask", "ingest", "metrics"}


@dataclass(frozen=True)
class IngestSettings:
    max_line_bytes: int = 16 * 1024 * 1024
    # Read and ignored: the native core uses every core in logkit's own process (this set
    # the Python pipeline's worker processes, which are gone; older logkit.toml files keep it).
    workers: int = 0
    # The core reads a 2 MB block in a tenth of a second or less (what a signal waits for), and
    # blocks are committed many to a transaction anyway.
    batch_bytes: int = 2 * 1024 * 1024
    # A directory of log format files (*.toml, see logkit/formats), beside the built-in ones.
    formats_dir: str | None = None


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    retention: str | None = None
    aliases: dict[str, list[str]] = field(default_factory=dict)
    # [formats.NAME] tables: log formats added or overridden (the format file language).
    # These two are TOML as read (hence Any): logkit/formats and logkit/mask check them.
    formats: dict[str, Any] = field(default_factory=dict)
    mask: dict[str, Any] = field(default_factory=dict)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    max_series: int = 500


def find_config(explicit: str | os.PathLike[str] | None, db_path: Path | None) -> Path | None:
    """The config file that applies, or None when there is none."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"config file {str(path)!r} does not exist")
        return path
    env = os.environ.get("LOGKIT_CONFIG")
    if env:
        return find_config(env, None)
    for candidate in (Path("logkit.toml"), db_path.parent / "logkit.toml" if db_path else None):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    unknown = sorted(set(data) - _TABLES)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)};"
            f" expected {', '.join(sorted(_TABLES))}"
        )
    aliases = data.get("aliases", {})
    if not isinstance(aliases, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in aliases.values()
    ):
        raise ConfigError(f"{path}: [aliases] maps a column name to a list of field names")
    formats = data.get("formats", {})
    if not isinstance(formats, dict) or not all(isinstance(v, dict) for v in formats.values()):
        raise ConfigError(f"{path}: [formats.NAME] tables each describe one log format")
    ingest = IngestSettings(**_settings(path, "ingest", data, _INGEST_TYPES))
    metrics = _settings(path, "metrics", data, {"max_series": (int, 1)})
    retention = data.get("retention")
    if retention is not None and not isinstance(retention, str):
        raise ConfigError(f'{path}: retention is a duration such as "30d"')
    return Config(
        path=path,
        retention=retention,
        aliases=aliases,
        formats=formats,
        mask=dict(data.get("mask", {})),
        ingest=ingest,
        max_series=metrics.get("max_series", 500),
    )


# Each setting's type and, for numbers, its least value: a batch of 0 bytes read nothing and
# called the file one unfinished line; a max_line_bytes of "big" stopped ingest in a traceback.
_INGEST_TYPES: dict[str, tuple[type, int | None]] = {
    "max_line_bytes": (int, 1),
    "workers": (int, 0),
    "batch_bytes": (int, 1),
    "formats_dir": (str, None),
}


def _settings(
    path: Path, name: str, data: dict[str, Any], types: dict[str, tuple[type, int | None]]
) -> dict[str, Any]:
    """The `[name]` table, each setting checked against `types`."""
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] is a table of settings, not {table!r}")
    unknown = sorted(set(table) - set(types))
    if unknown:
        raise ConfigError(
            f"{path}: [{name}] unknown setting(s) {', '.join(unknown)};"
            f" expected {', '.join(sorted(types))}"
        )
    for key, value in table.items():
        kind, least = types[key]
        # TOML's true is no number of bytes, though Python's bool is an int.
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"{path}: [{name}] {key} must be {_KINDS[kind]}, not {value!r}")
        if least is not None and isinstance(value, int) and value < least:
            raise ConfigError(f"{path}: [{name}] {key} must be at least {least}, not {value}")
    return dict(table)


_KINDS = {int: "a whole number", str: "text"}
