"""Revise the golden corpus's block cases (and whole ingests' stores) after a deliberate
change of what the core does,
from the core, within named columns only (make.py's rule: never rerun the core over every case
to make the tests pass). Run by (the rest of the arguments go to pytest)

    PYTHONPATH=. python tests/golden/core/revise.py --columns http_method,path [--apply] [...]

It runs the differential tests and the replay of the corpus's draws with every block case the
core no longer equals collected rather than failed, then shows each difference: the columns
that moved (old -> new, with the line), the `attrs` keys that left or changed, and the counts.
A case may be revised only if its rejects and counts are unchanged (but those named, such as
`masked`) and its events
differ only in the named columns (`attrs` among them, or only keys leaving it for those
columns) and in the formats' coverage counts; otherwise nothing is written. `--apply` writes the
corpus; without it the run only reports. Say in the commit which change moved which cases.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests import golden_core  # noqa: E402
from tests.golden.core.make import FILES  # noqa: E402

FIXED = ("rejects", "lines", "no_ts", "newest_ts", "reasons", "masked")


def _attrs_change(old: str | None, new: str | None) -> str:
    """What left or changed in one event's attrs (top-level keys)."""
    before = json.loads(old) if old else {}
    after = json.loads(new) if new else {}
    left = sorted(k for k in before if k not in after)
    changed = sorted(k for k in after if k in before and before[k] != after[k])
    added = sorted(k for k in after if k not in before)
    return f"left {left} changed {changed} added {added}"


def differences(old: dict[str, Any], new: dict[str, Any], allowed: set[str]) -> list[str]:
    """Each difference as a sentence, those outside `allowed` marked FORBIDDEN."""
    said = []
    for part in FIXED:
        if old[part] != new[part]:
            mark = "" if part in allowed else "FORBIDDEN "
            said.append(f"{mark}{part}: {old[part]!r} -> {new[part]!r}")
    if list(old["events"]) != list(new["events"]):
        return [*said, "FORBIDDEN event columns differ"]
    lines = new["events"].get("line", [])
    for name, want in old["events"].items():
        have = new["events"][name]
        if len(want) != len(have):
            said.append(f"FORBIDDEN {name}: {len(want)} events -> {len(have)}")
            continue
        for i, (w, g) in enumerate(zip(want, have, strict=True)):
            if w == g or golden_core._both_nan(w, g):
                continue
            where = f"event {i} (line {lines[i] if i < len(lines) else '?'})"
            if name == "attrs":
                change = _attrs_change(w, g)
                # Keys leaving attrs for an allowed column; anything else only if allowed.
                only_left = change.endswith("changed [] added []")
                mark = "" if "attrs" in allowed or only_left else "FORBIDDEN "
                said.append(f"{mark}attrs {where}: {change}")
            else:
                mark = "" if name in allowed else "FORBIDDEN "
                said.append(f"{mark}{name} {where}: {str(w)[:80]!r} -> {str(g)[:80]!r}")
    if old["formats"] != new["formats"]:
        for name in sorted({*old["formats"], *new["formats"]}):
            w, g = old["formats"].get(name), new["formats"].get(name)
            if w != g:
                same_events = w is not None and g is not None and w[0] == g[0]
                mark = "" if same_events else "FORBIDDEN "
                said.append(f"{mark}formats[{name}]: {w} -> {g}")
    return said


def _event_columns(kind: str) -> list[str]:
    """The columns of a whole ingest's event rows (tests/helpers.py `ingest_stored`, and
    test_core_lines_not_records.py `_ingest` for `stored`, without `source`)."""
    from logkit.schema import EVENT_COLUMNS

    own = [name for name, _ in EVENT_COLUMNS if name not in ("attrs", "source", "line")]
    return [*own, *(["source"] if kind == "ingest" else []), "line", "stream", "attrs"]


def whole_differences(kind: str, old: Any, new: Any, allowed: set[str]) -> list[str]:
    """A whole ingest's differences (summary, event rows, rejects), those outside `allowed`
    marked FORBIDDEN: events may differ in allowed columns, the summary in the formats'
    coverage of allowed columns (their events counts the same)."""
    columns = _event_columns(kind)
    said: list[str] = []

    def walk(path: list[Any], w: Any, g: Any) -> None:
        if w == g or golden_core._both_nan(w, g):
            return
        if isinstance(w, dict) and isinstance(g, dict) and set(w) == set(g):
            for k in w:
                walk([*path, k], w[k], g[k])
            return
        if isinstance(w, list) and isinstance(g, list) and len(w) == len(g):
            for i, (a, b) in enumerate(zip(w, g, strict=True)):
                walk([*path, i], a, b)
            return
        where = "/".join(map(str, path))
        ok = False
        if path[:1] == [1] and len(path) == 3:  # an event row's value
            column = columns[path[2]]
            where = f"{column} event {path[1]}"
            ok = column in allowed
            if column == "attrs":
                change = _attrs_change(w, g)
                ok = ok or change.endswith("changed [] added []")
                said.append(f"{'' if ok else 'FORBIDDEN '}attrs {where}: {change}")
                return
        elif path and path[-1] in allowed:
            # A format's coverage: the summary's `formats`, or a run's `format_coverage()`.
            ok = path[:2] == [0, "formats"] or (kind == "stored" and path[2:3] == [4])
        said.append(f"{'' if ok else 'FORBIDDEN '}{where}: {str(w)[:80]!r} -> {str(g)[:80]!r}")

    walk([], old, new)
    return said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--columns", required=True, help="event columns allowed to move")
    parser.add_argument("--apply", action="store_true", help="write the corpus")
    args, pytest_args = parser.parse_known_args()
    allowed = set(args.columns.split(","))
    golden_core.REVISING = {}
    options = ["-q", "-p", "no:xdist", "-p", "no:cacheprovider", "--hypothesis-seed=0"]
    code = pytest.main([*options, *FILES, "tests/test_core_golden.py", *pytest_args])
    corpus = golden_core.corpus()
    revised = golden_core.REVISING
    forbidden = 0
    tally: Counter[str] = Counter()
    for key, new in revised.items():
        case = corpus["cases"][key]
        if case["kind"] in ("ingest", "stored"):
            said = whole_differences(case["kind"], case["expected"], new, allowed)
        else:
            said = differences(case["expected"], new, allowed)
        forbidden += sum(s.startswith("FORBIDDEN") for s in said)
        tally.update(s.split(" ", 1)[0] for s in said)
        print(f"\n{case['node']} [{key[:12]}]")
        for sentence in said[:40]:
            print(f"  {sentence}")
        if len(said) > 40:
            print(f"  ... {len(said) - 40} more")
    print(f"\n{len(revised)} cases differ; differences by kind: {dict(tally)}")
    if code != 0:
        sys.exit(f"tests failed other than by a block case's output ({code}): nothing written")
    if forbidden:
        sys.exit(f"{forbidden} differences outside --columns: nothing written")
    if args.apply and revised:
        for key, new in revised.items():
            corpus["cases"][key]["expected"] = new
            corpus["cases"][key]["revised"] = args.columns
        data = json.dumps(corpus, ensure_ascii=False, indent=0).encode()
        golden_core.CORPUS.write_bytes(gzip.compress(data, mtime=0))
        print(f"{golden_core.CORPUS}: {len(revised)} cases revised")


if __name__ == "__main__":
    main()
