"""logkit: turn structured JSON logs into answers.

>>> import logkit
>>> store = logkit.open("logkit.duckdb")   # doctest: +SKIP
>>> store.errors(since="1h")               # doctest: +SKIP
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("logkit")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from .errors import LogkitError
    from .store import Store, open

__all__ = ["LogkitError", "Store", "__version__", "open"]


def __getattr__(name: str) -> Any:
    # Imported on first use: ingest worker processes import logkit.pipeline, and must not pay
    # for DuckDB and the query layer they never use.
    if name in ("Store", "open"):
        from . import store

        return getattr(store, name)
    if name == "LogkitError":
        from .errors import LogkitError

        return LogkitError
    raise AttributeError(f"module 'logkit' has no attribute {name!r}")
