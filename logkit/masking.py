"""Masking outside an ingest: whole streams for sharing (`logkit mask`), and one value as the
store keeps it (a user id typed in a question).

`Store.mask` and `Store.user` use it: both take the store's settings (its `[mask]` table,
aliases and log formats; its key file beside it, logkit/keyfile.py) but never open its
database, so `logkit mask` works where no store exists yet. The masking itself is the native
masker's, a block of lines at a time (`Masker.mask_ndjson`): nothing per line runs in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from .errors import DamagedInput, InputError
from .keyfile import store_files

if TYPE_CHECKING:
    from .handles import StoreFiles

#: How much of an input is read and masked at a time: enough for the core to mask it on every
#: core, little enough that output starts at once and memory stays small.
READ_BYTES = 4 << 20


def mask_stream(store: StoreFiles, inputs: Iterable[str]) -> Iterator[bytes]:
    """The `inputs` (paths, globs, '-' for stdin; stdin if none) masked as an ingest would
    store them, as blocks of NDJSON lines: each JSON object or array written back compact,
    any other line masked as text, private keys printed over several lines masked whole.
    Asked for by name, masking happens even where the store's config switches it off.

    DamagedInput for a compressed input cut short or corrupt, after its lines before it."""
    # Here, not at the top: the ingest modules load the native core, which the questions
    # that import this module (`Store.user`) must not pay for.
    from .core import make_masker
    from .ingest import format_settings, mask_key
    from .ingest.sources import Source, expand, without_store_files
    from .ingest.streams import DamagedStream

    config = store.config
    table = {**config.mask, "enabled": True}
    masker = make_masker(table, mask_key(store.path), config.aliases, format_settings(config))
    # Not the store's own files: its pseudonym key would go to stdout as a line of text.
    names, left_out = without_store_files(expand(list(inputs) or ["-"]), store_files(store.path))
    if left_out:
        raise InputError("; ".join(left_out))
    for name in names:
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


def stored_user_id(store: StoreFiles, user_id: str) -> str:
    """How `user_id` is stored: its pseudonym when the store pseudonymises user ids
    (`[mask] fields`), since people type the id they see in a ticket."""
    mask = store.config.mask
    if (
        "user_id" not in mask.get("fields", ())
        or not mask.get("enabled", True)
        or user_id.startswith("user_id:")  # already a pseudonym, copied from an answer
    ):
        return user_id
    # Here, not at the top: only a store that pseudonymises user ids needs the masker.
    from .core import make_masker
    from .ingest import mask_key

    key = mask_key(store.path)
    if key is None:
        return user_id
    return str(make_masker(mask, key).pseudonym("user_id", user_id))
