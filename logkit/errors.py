"""Every error logkit raises on purpose.

The CLI turns any `LogkitError` into `Error: <message>` and its `exit_code` (1; 3 for a damaged
input) in one place (`logkit.cli.main`), so messages here are written for the person at the
terminal: say what went wrong and, where the fix is known, what to do.
"""


class LogkitError(Exception):
    """Base class: a problem the user can act on, shown without a traceback."""

    exit_code = 1


class DamagedInput(LogkitError):
    """A run stored what it could, but an input was damaged (a compressed file cut short or
    corrupt): exit status 3, so that cron and scripts notice."""

    exit_code = 3


class StoreNotFound(LogkitError):
    """The store file does not exist yet."""


class StoreLocked(LogkitError):
    """Another logkit process is writing to the store."""


class StoreVersionError(LogkitError):
    """The store was written by a newer logkit than this one."""


class StoreWriteError(LogkitError):
    """The store could not be written (disk full, read-only file system, permissions)."""


class StoreOutOfMemory(StoreWriteError):
    """DuckDB ran out of memory while writing. `invalidated`: the error was fatal, so DuckDB
    closed the database without saying whether the statement's COMMIT landed."""

    def __init__(self, message: str, *, invalidated: bool = False) -> None:
        super().__init__(message)
        self.invalidated = invalidated


class ConfigError(LogkitError):
    """logkit.toml is invalid."""


class InputError(LogkitError):
    """An input path, glob or stream cannot be read."""


class QueryError(LogkitError):
    """A query, its name or its parameters are invalid."""


class NotFound(LogkitError):
    """A lookup (trace, user) matched nothing."""


class TimeValueError(LogkitError):
    """A --since/--until value could not be understood."""
