"""Writing the simulated lines: in time order, per file, some made malformed on the way.

Requests are simulated in start-time order but their lines end later (a render job runs for
minutes), so each file's lines gather in a buffer that is sorted by time and written up to a
watermark, the start of the newest request, since nothing simulated later can be older. Each
file is thus in time order, memory stays bounded, and writes are large.

Malformed lines draw from a generator of their own (geometric gaps between them, so good lines
cost no draw): switching them on changes only the lines they replace.
"""

from __future__ import annotations

import gzip as gzip_module
import io
import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from operator import itemgetter
from pathlib import Path

_TS = itemgetter(0)
_LINE = itemgetter(1)

_PLAIN_TEXT = (
    "Traceback (most recent call last):\n",
    '  File "/app/worker/main.py", line 12, in <module>\n',
    "ModuleNotFoundError: No module named 'pillow_avif'\n",
    "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)\n",
    "[2026-11-01 00:00:00,000: WARNING/MainProcess] celery@worker-0 ready.\n",
    "npm WARN config production Use `--omit=dev` instead.\n",
)

MALFORMED_KINDS = (
    "truncated",
    "invalid_utf8",
    "nul_byte",
    "json_array",
    "json_number",
    "json_string",
    "blank",
    "plain_text",
    "nan_literal",
    "infinity_literal",
    "deep_nesting",
)
"""Kinds of broken lines `generate(malformed=...)` writes; every one fails orjson.loads or
is not a JSON object."""


def _corrupt(line: str, kind: str, u: float) -> str:
    """Turn one good line (ending in a newline) into a broken line of `kind`; `u` in [0, 1)."""
    body = line[:-1]
    cut = 1 + int(u * (len(body) - 2))
    if kind == "truncated":
        return body[:cut] + "\n"
    if kind == "invalid_utf8":
        # Lone surrogates become the raw bytes 0xff 0xfe when the chunk is encoded.
        return body[:cut] + "\udcff\udcfe" + body[cut:] + "\n"
    if kind == "nul_byte":
        return body[:cut] + "\x00" + body[cut:] + "\n"
    if kind == "json_array":
        return "[" + body + "]\n"
    if kind == "json_number":
        return f"{len(body)}\n"
    if kind == "json_string":
        return '"' + body[:cut].replace("\\", "").replace('"', "'") + '"\n'
    if kind == "blank":
        return "\n"
    if kind == "plain_text":
        return _PLAIN_TEXT[int(u * len(_PLAIN_TEXT))]
    if kind == "nan_literal":
        return body[:-1] + ',"score":NaN}\n'
    if kind == "infinity_literal":
        return body[:-1] + ',"ratio":-Infinity}\n'
    if kind == "deep_nesting":
        return '{"payload":' + "[" * 2000 + "]" * 2000 + "}\n"
    raise ValueError(f"unknown malformed kind {kind!r}")


# Decimals are assembled from these tables: formatting a float costs several times more.


class Writer:
    """Writes buffered lines in time order, after corrupting the ones chosen to be malformed."""

    def __init__(self, paths: list[Path], *, gzip: bool, malformed: float, seed: int):
        self.raw = [open(path, "wb") for path in paths]  # noqa: SIM115 - closed in close()
        self.out: Sequence[io.BufferedIOBase] = self.raw
        if gzip:
            # mtime=0 and a fixed name keep the gzip header, hence the bytes, reproducible.
            self.out = [
                gzip_module.GzipFile(
                    filename=path.name.removesuffix(".gz"),
                    mode="wb",
                    compresslevel=1,
                    fileobj=raw,
                    mtime=0,
                )
                for path, raw in zip(paths, self.raw, strict=True)
            ]
        self.malformed = malformed
        self.bad_random = random.Random(f"{seed}:malformed").random
        self.index = 0  # lines written so far, over all files
        self.next_bad = self.skip(0)

    def skip(self, index: int) -> int:
        """Index of the next malformed line: geometric gaps, so good lines cost no draw."""
        if self.malformed <= 0:
            return -1
        if self.malformed >= 1:
            return index
        return index + int(math.log(1.0 - self.bad_random()) / math.log(1.0 - self.malformed))

    def write(self, buffers: list[list[tuple[int, str]]], watermark: int | None) -> int:
        """Write every buffered line up to `watermark` (all of them if None); return the count."""
        count = 0
        for out, buffer in zip(self.out, buffers, strict=True):
            buffer.sort(key=_TS)  # stable: lines of the same microsecond keep their order
            cut = len(buffer) if watermark is None else bisect_right(buffer, watermark, key=_TS)
            ready = list(map(_LINE, buffer[:cut]))
            del buffer[:cut]
            while 0 <= self.next_bad < self.index + len(ready):
                at = self.next_bad - self.index
                kind = MALFORMED_KINDS[int(self.bad_random() * len(MALFORMED_KINDS))]
                ready[at] = _corrupt(ready[at], kind, self.bad_random())
                self.next_bad = self.skip(self.next_bad + 1)
            self.index += len(ready)
            count += len(ready)
            # Invalid UTF-8 in malformed lines travels as lone surrogates until this encode.
            out.write("".join(ready).encode("utf-8", "surrogateescape"))
        return count

    def close(self) -> None:
        for out in self.out:
            out.close()
        for raw in self.raw:
            raw.close()
