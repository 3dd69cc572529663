"""logkit: turn structured JSON logs into answers.

>>> import logkit
>>> store = logkit.open("logkit.duckdb")   # doctest: +SKIP
>>> store.errors(since="1h")               # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .errors import LogkitError
    from .store import Store, open

    __version__: str

__all__ = ["LogkitError", "Store", "__version__", "open"]


def __getattr__(name: str) -> object:
    # Imported on first use: `logkit trace` must start fast, and `logkit mask` never needs
    # DuckDB or the query layer.
    if name in ("Store", "open"):
        from . import store

        return getattr(store, name)
    if name == "LogkitError":
        from .errors import LogkitError

        return LogkitError
    if name == "__version__":
        # importlib.metadata costs a fifth of `logkit trace`'s start-up: only on demand.
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("logkit")
        except PackageNotFoundError:  # running from a source tree
            return "0.0.0"
    raise AttributeError(f"module 'logkit' has no attribute {name!r}")
