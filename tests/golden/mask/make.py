"""Rewrite the expected outputs of tests/golden/mask/corpus.json.gz with the current masker.

The corpus was first written (commit dd1266e, "Golden masking corpus") from logkit/mask.py's
Python masker while it still existed, and checked then to agree with the native masker on every
output and count; tests/test_mask_golden.py holds the native masker to it. Its inputs are fixed
(they were drawn from tests/test_mask.py, sample_logs/, `logkit sample --seed 7` and a fixed
draw of Hypothesis generators; see that commit for how). Run this only after a deliberate
change of what masking does, and say in the commit which outputs changed and why:

    PYTHONPATH=. python tests/golden/mask/make.py
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

from logkit.mask import Masker, key_block_after, key_block_lines

CORPUS = Path(__file__).resolve().parent / "corpus.json.gz"


def masked_by(masker: Masker, corpus: dict[str, Any]) -> dict[str, Any]:
    """What `masker` makes of the corpus: outputs that differ from their input, by index, and
    the counts of each kind of input."""
    out: dict[str, Any] = {}
    for kind in ("texts", "events", "records"):
        changed: dict[str, str] = {}
        for index, value in enumerate(corpus[kind]):
            if kind == "texts":
                got = masker.mask_text(value)
            elif kind == "events":
                got = json.dumps(masker.mask_event(json.loads(value)))
            else:
                got = masker.mask_json_line(value.encode()).decode().rstrip("\n")
            if got != value:
                changed[str(index)] = got
        out[kind] = changed
        out[f"{kind}_counts"] = dict(sorted(Counter(masker.counts).items()))
        masker.counts.clear()
    return out


def main() -> None:
    corpus = json.loads(gzip.decompress(CORPUS.read_bytes()))
    key = base64.b64decode(corpus["key"])
    corpus["expected"] = {
        name: masked_by(Masker.from_config(table, key, field_aliases=aliases), corpus)
        for name, table, aliases in corpus["configs"]
    }
    pieces = [base64.b64decode(p) for p in corpus["key_block_pieces"]]
    for case in corpus["key_blocks"]:
        lines = [pieces[i] for i in case["lines"]]
        masked, case["still"] = key_block_lines(lines, case["inside"])
        case["masked"] = sorted(masked)
        case["after"] = key_block_after(b"\n".join(lines) + b"\n", case["inside"])
    data = json.dumps(corpus, ensure_ascii=False, indent=0).encode()
    CORPUS.write_bytes(gzip.compress(data, mtime=0))
    print(f"{CORPUS}: {len(data):,} bytes, {CORPUS.stat().st_size:,} compressed")


if __name__ == "__main__":
    main()
