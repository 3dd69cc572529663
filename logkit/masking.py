"""Masking without a store: whole streams for sharing (`logkit mask`), and the pseudonym key
(`logkit keygen`).

`Store.mask` and `Store.keygen` delegate here: both take the store's settings (its `[mask]`
table, aliases and log formats; its key file beside it) but never open its database, so they
work where no store exists yet. The masking itself is the native masker's, a block of lines
at a time (`Masker.mask_ndjson`): nothing per line runs in Python.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DamagedInput, LogkitError, output_error

if TYPE_CHECKING:
    from .store import Store

#: How much of an input is read and masked at a time: enough for the core to mask it on every
#: core, little enough that output starts at once and memory stays small.
READ_BYTES = 4 << 20


def key_path(store_path: Path) -> Path:
    """The pseudonym key file of a store: beside it, named after it."""
    return store_path.with_name(store_path.name + ".key")


def mask_stream(store: Store, inputs: Iterable[str]) -> Iterator[bytes]:
    """The `inputs` (paths, globs, '-' for stdin; stdin if none) masked as an ingest would
    store them, as blocks of NDJSON lines: each JSON object or array written back compact,
    any other line masked as text, private keys printed over several lines masked whole.
    Asked for by name, masking happens even where the store's config switches it off.

    DamagedInput for a compressed input cut short or corrupt, after its lines before it."""
    from .ingest import format_settings, mask_key
    from .pipeline import make_masker
    from .sources import DamagedStream, Source, expand

    config = store.config
    table = {**config.mask, "enabled": True}
    masker = make_masker(table, mask_key(store.path), config.aliases, format_settings(config))
    for name in expand(list(inputs) or ["-"]):
        source = Source(name)
        try:
            carry = b""
            in_key = 0  # bytes of a private key block printed over several lines, open
            while block := source.read(READ_BYTES):
                data = carry + block
                cut = data.rfind(b"\n") + 1
                carry = data[cut:]
                if cut:
                    masked, in_key = masker.mask_ndjson(data[:cut], in_key)
                    yield masked
            if carry:
                yield masker.mask_ndjson(carry, in_key)[0]
        except DamagedStream as exc:
            raise DamagedInput(f"{name}: {exc}; the lines before it were written") from None
        finally:
            source.close()


def keygen(store_path: Path, *, force: bool = False) -> Path:
    """Create the pseudonym key file beside the store (mode 0600) and return its path; an
    existing one is replaced only with `force` (old pseudonyms then stop matching)."""
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
