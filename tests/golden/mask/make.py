"""Write tests/golden/mask/corpus.json.gz: masking inputs and what the masker made of them.

The corpus was first written (commit "golden masking corpus") from logkit/mask.py, the Python
masker, while it still existed, and checked to agree with the native one; it keeps that
comparison as a regression test (tests/test_mask_golden.py) now that only the native masker is
left. Run it again only after a deliberate change of what masking does, and say why in the
commit:

    PYTHONPATH=. python tests/golden/mask/make.py

Inputs: every string of tests/test_mask.py, the boundary cases of the old differential test,
sample_logs/, `logkit sample --seed 7` output with its planted secrets, and a fixed draw of the
Hypothesis generators of tests/test_mask_properties.py; each run through eight `[mask]` tables.
Events are stored as the normaliser made them then, so a later normaliser does not move them.
"""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CORPUS = HERE / "corpus.json.gz"
KEY = b"differential-test-key-000000000"

# (id, [mask] table, field aliases).
CONFIGS: list[tuple[str, dict[str, Any], dict[str, list[str]] | None]] = [
    ("placeholder", {}, None),
    ("pseudonymize", {"mode": "pseudonymize"}, None),
    ("some_pseudonyms", {"pseudonymize": ["email", "card", "key", "ipv6", "phone"]}, None),
    (
        "custom",
        {
            "detectors": {
                "order_ref": r"ORD-\d{6}",
                "tenant": r"tenant/(?P<value>\w+)",
                "caps": r"[A-Z]{4,}",
            },
            "pseudonymize": ["tenant"],
        },
        None,
    ),
    (
        "fields",
        {"fields": ["user_id", "customer", "message"], "allow_keys": ["session_id"]},
        {"user_id": ["userId", "user.id"], "customer": [], "message": ["msg"]},
    ),
    ("keys", {"keys": ["Tax-ID", "pin"], "allow_keys": ["password"], "disable": ["ipv4"]}, None),
    ("no_key_rule", {"disable": ["key", "card"]}, None),
    (
        "odd_names",
        {
            "keys": ["Straße", "x y", "pin:code", "K", "tok"],
            "allow_keys": ["api_key", "Ünïcode"],
            "fields": ["user_id", "Kunde"],
            "mode": "pseudonymize",
            "detectors": {"maybe": r"id=(?P<value>\d+)?x", "dots": r"\.\.\."},
        },
        {"user_id": ["uid", "user.id"], "Kunde": ["kunde.nr"]},
    ),
]


def draw(strategy: Any, n: int) -> list[Any]:
    """`n` values of a Hypothesis strategy, the same on every run (derandomized)."""
    from hypothesis import HealthCheck, Phase, given, settings

    found: list[Any] = []

    @settings(
        max_examples=n, derandomize=True, database=None, phases=[Phase.generate],
        deadline=None, suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found[:n]


def generated_lines() -> list[bytes]:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [sys.executable, "-m", "logkit", "sample", "--lines", "1500", "--out", out,
             "--seed", "7", "--malformed", "0.02"],
            check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        return [line for p in sorted(Path(out).iterdir()) for line in p.read_bytes().splitlines()]


def inputs() -> dict[str, Any]:
    """The corpus's inputs (built with the old differential test's helpers)."""
    sys.path.insert(0, str(ROOT))
    from tests import test_mask_core_diff as diff

    generated = generated_lines()
    sample = diff.sample_log_lines()
    texts = [
        *diff.TEST_MASK_STRINGS,
        *(line.decode("utf-8", "backslashreplace") for line in sample),
        *(line.decode("utf-8", "backslashreplace") for line in generated[:1500]),
        *draw(diff.agreed_text, 300),
        *draw(diff.shapes, 300),
    ]
    events = [
        {"ts": 1795341662123000, "level": "INFO", "message": s,
         "attrs": {"m": s, s: 1, "n": [s, {"password": s}]}}
        for s in diff.TEST_MASK_STRINGS
    ]  # fmt: skip
    events += diff.EXTRA_EVENTS
    events += diff.events_of(sample) + diff.events_of(generated)
    import hypothesis.strategies as st

    for record, message in draw(st.tuples(diff.agreed_records, diff.agreed_text), 300):
        events.append({"message": message, "user_id": message, "attrs": record})
    records = [raw.decode() for raw in diff.LINES_TO_MASK + diff.ORDINARY_LINES]
    return {"texts": texts, "events": [json.dumps(e) for e in events], "records": records}


def key_block_cases() -> list[dict[str, Any]]:
    import hypothesis.strategies as st

    from logkit.mask import key_block_after, key_block_lines
    from tests.test_mask_core_diff import KEY_BLOCK_PIECES

    cases = []
    pieces = st.lists(st.sampled_from(KEY_BLOCK_PIECES), max_size=30)
    for lines, inside in draw(st.tuples(pieces, st.sampled_from([0, 1, 40_000, 65_536])), 300):
        masked, still = key_block_lines(lines, inside)
        data = b"\n".join(lines) + b"\n"
        cases.append({
            "lines": [KEY_BLOCK_PIECES.index(line) for line in lines], "inside": inside,
            "masked": sorted(masked), "still": still, "after": key_block_after(data, inside),
        })  # fmt: skip
    return cases


def masked_by(masker: Any, corpus: dict[str, Any]) -> dict[str, Any]:
    """What `masker` (logkit.mask.Masker's interface) makes of the corpus: outputs that
    differ from their input, by index, and the counts of each kind of input."""
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
    from logkit.mask import Masker

    corpus = inputs()
    corpus["configs"] = CONFIGS
    corpus["key"] = base64.b64encode(KEY).decode()
    corpus["expected"] = {
        name: masked_by(Masker.from_config(table, KEY, field_aliases=aliases), corpus)
        for name, table, aliases in CONFIGS
    }
    from tests.test_mask_core_diff import KEY_BLOCK_PIECES

    corpus["key_block_pieces"] = [base64.b64encode(p).decode() for p in KEY_BLOCK_PIECES]
    corpus["key_blocks"] = key_block_cases()
    data = json.dumps(corpus, ensure_ascii=False, indent=0).encode()
    CORPUS.write_bytes(gzip.compress(data, mtime=0))
    print(f"{CORPUS}: {len(data):,} bytes, {CORPUS.stat().st_size:,} compressed")


if __name__ == "__main__":
    main()
