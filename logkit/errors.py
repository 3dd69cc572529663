"""Every error logkit raises on purpose.

The CLI turns any `LogkitError` into `Error: <message>` and its `exit_code` (1; 3 for a damaged
input) in one place (`logkit.cli.main`), so messages here are written for the person at the
terminal: say what went wrong and, where the fix is known, what to do.
"""

from __future__ import annotations

from pathlib import Path


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


class NotAStore(LogkitError):
    """The file is a DuckDB database that logkit did not make; logkit leaves it alone."""


class StoreWriteError(LogkitError):
    """The store could not be written (disk full, read-only file system, permissions)."""


class StoreOutOfMemory(StoreWriteError):
    """DuckDB ran out of memory while writing. `invalidated`: the error was fatal, so DuckDB
    closed the database without saying whether the statement's COMMIT landed."""

    def __init__(self, message: str, *, invalidated: bool = False) -> None:
        super().__init__(message)
        self.invalidated = invalidated


class OutputError(LogkitError):
    """A file logkit was asked to write (a report, a key) cannot be written."""


class Interrupted(KeyboardInterrupt):
    """A signal stopped the run (a KeyboardInterrupt, so nothing that catches Exception keeps
    going); the CLI prints the message and exits 128 + `signum` (130 for SIGINT, 143 for
    SIGTERM)."""

    def __init__(self, signum: int, message: str = "") -> None:
        super().__init__(message)
        self.signum = signum


class ConfigError(LogkitError):
    """logkit.toml is invalid."""


class FormatUnsupported(ConfigError):
    """A log format (a file of a formats_dir, a `[formats.NAME]` table) uses what the native
    core that applies formats cannot read: a regex with look-around or a backreference (Rust's
    regex syntax), a TOML date where a JSON value is compared."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"a log format uses what logkit cannot read: {detail} (format patterns are Rust"
            " regexes: no look-around or backreferences)"
        )


class MaskConfigError(ConfigError, ValueError):
    """The `[mask]` table of logkit.toml (or the settings of a `logkit.mask.Masker`) is invalid.
    A ValueError too, as the masker's settings errors always were."""


class MaskKeyMissing(ConfigError):
    """Pseudonyms were asked for but no key was given."""

    MESSAGE = "pseudonym mode needs a key: set $LOGKIT_MASK_KEY or create one with 'logkit keygen'"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class InputError(LogkitError):
    """An input path, glob or stream cannot be read."""


class QueryError(LogkitError):
    """A query, its name or its parameters are invalid."""


class NotFound(LogkitError):
    """A lookup (trace, user) matched nothing."""


class TimeValueError(LogkitError):
    """A --since/--until value could not be understood."""


class CoreBugWarning(RuntimeWarning):
    """The native core (src/) panicked on a block: a bug. Its lines were kept, quarantined as
    `internal_error` rejects, and the run went on; the warning says so on stderr. The test
    suite turns it into an error (pyproject.toml's filterwarnings, tests/helpers.run_logkit),
    so no test passes over such a block."""


def output_error(path: Path, exc: OSError) -> OutputError:
    """`cannot write PATH: why` for a file the user named, naming a directory that is missing
    (or is a file) rather than echoing the system's word for it."""
    if not path.parent.is_dir():
        return OutputError(f"cannot write {path}: there is no directory {path.parent}")
    return OutputError(f"cannot write {exc.filename or path}: {exc.strerror or exc}")
