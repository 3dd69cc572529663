"""logkit: turn structured JSON logs into answers.

>>> import logkit
>>> store = logkit.open("logkit.duckdb")   # doctest: +SKIP
>>> store.errors(since="1h")               # doctest: +SKIP
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("logkit")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

from .errors import LogkitError
from .store import Store, open

__all__ = ["LogkitError", "Store", "__version__", "open"]
