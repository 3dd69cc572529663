"""The pseudonym key file of a store (`logkit keygen`): where it is, and making one.

Ingest reads it (logkit/ingest/run.py, `mask_key`) to pseudonymise `[mask] fields`; it lives beside
the store, so a store and its key travel together and nothing else needs configuring.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import LogkitError, output_error


def key_path(store_path: Path) -> Path:
    """The pseudonym key file of a store: beside it, named after it."""
    return store_path.with_name(store_path.name + ".key")


def store_files(store_path: Path) -> dict[tuple[int, int], str]:
    """The store's own files that exist, by (device, inode), each with what it is: never log
    input (its key, read as a rejected line, was kept unmasked in `rejects`)."""
    named = {
        store_path: "database",
        store_path.with_name(store_path.name + ".wal"): "write-ahead log",
        key_path(store_path): "pseudonym key",
        store_path.with_name(store_path.name + ".lock"): "lock file",
        store_path.with_name(store_path.name + ".readers"): "lock file",
    }
    found = {}
    for path, what in named.items():
        try:
            info = path.stat()
        except OSError:
            continue
        found[info.st_dev, info.st_ino] = what
    return found


def keygen(store_path: Path, *, force: bool = False) -> Path:
    """Create the pseudonym key file beside the store (mode 0600) and return its path; an
    existing one is replaced only with `force` (old pseudonyms then stop matching)."""
    import secrets  # here, not at the top: every command imports this module (store.py)

    path = key_path(store_path)
    if path.exists() and not force:
        raise LogkitError(f"{path} exists; pass --force to replace it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        os.chmod(path, 0o600)
    except OSError as exc:
        raise output_error(path, exc) from exc
    return path
