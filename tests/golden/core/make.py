"""Record tests/golden/core/corpus.json.gz: what the Python per-line pipeline made of the
differential tests' inputs (see tests/golden_core.py for what the corpus holds).

Run against the Python pipeline (`pipeline.process_chunk`, `PartialScan`, `formats.exploded`,
`LOGKIT_CORE=0`) as it was at commit 7d14abc, its last, with the tests of e73b586, by

    PYTHONPATH=. python tests/golden/core/make.py [--add] [PYTEST OPTIONS]

(`--add -k EXPR`: record only the tests selected, their cases replacing theirs in the corpus;
the ingest, real-program and key-block cases were recorded so, from the same tree), which runs
tests/test_core_diff.py, test_core_formats_diff.py and test_core_lines_not_records.py with each
output recorded from the Python pipeline and checked equal to the core's. It CANNOT be rerun
after that pipeline's deletion (the commit after the corpus's): the corpus is the Python
pipeline's word, kept. After a deliberate change of what the core does, change the expected
outputs of the cases it touches in the corpus by hand (or from the core, saying so in the
commit: tests/golden/core/revise.py does it within named columns), never by rerunning the
core over every case to make the tests pass.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from tests import golden_core  # noqa: E402

FILES = ["tests/test_core_diff.py", "tests/test_core_formats_diff.py",
         "tests/test_core_lines_not_records.py"]  # fmt: skip
# Hypothesis draws kept per test: enough to say something, few enough to stay small.
DRAWS = 40


def python_block(data: bytes, settings: dict[str, Any]) -> Any:
    from logkit.pipeline import FormatSettings, build_stages, make_masker, process_chunk

    formats_dir = None
    if settings["formats_dir"] is not None:
        formats_dir = tempfile.mkdtemp(prefix="golden-formats-")
        for name, text in settings["formats_dir"].items():
            Path(formats_dir, name).write_text(text)
    formats = FormatSettings(settings["tables"], formats_dir, settings["forced"])
    aliases = settings["aliases"]
    masker = None
    if settings["mask"] is not None:
        masker = make_masker(settings["mask"], golden_core.MASK_KEY, aliases, formats)
    stages = build_stages(aliases, masker, formats)
    return process_chunk(
        stages, masker, "src", data, settings["first_line"], 100, (), settings["in_key"]
    )


def python_ingest(tmp_path: Path, logs: Path, *args: str) -> Any:
    from tests.helpers import ingest_stored

    return ingest_stored(tmp_path / "python.duckdb", logs, *args, env={"LOGKIT_CORE": "0"})


def python_stored(runs: list[bytes], config: str) -> Any:
    from tests.test_core_lines_not_records import _ingest

    os.environ["LOGKIT_CORE"] = "0"
    try:
        return _ingest(Path(tempfile.mkdtemp(prefix="golden-")), "python", runs, config)
    finally:
        del os.environ["LOGKIT_CORE"]


def python_cuts(data: bytes, prefixes: list[int]) -> list[int]:
    from logkit.pipeline import FormatSettings, PartialScan

    scan = PartialScan.of(FormatSettings(), None)
    assert scan is not None
    lines = data.splitlines(keepends=True)
    return [scan.unfinished(b"".join(lines[:n])) for n in prefixes]


def python_records(line: bytes) -> list[str] | None:
    from logkit.formats import exploded, load_formats
    from logkit.pipeline import Reject, _dumps, parse_json

    try:
        record = parse_json(line)
    except Reject:
        return None
    explode = load_formats()["otlp-json"].explode
    return [_dumps(one) for one in exploded(explode, record)]  # type: ignore[arg-type]


class Plugin:
    """Tells the recorder whether the running test is a Hypothesis one (its draws sampled)."""

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: Any) -> Any:
        assert golden_core.RECORDING is not None
        golden_core.RECORDING.generated = hasattr(item.obj, "hypothesis")
        yield


def sampled(cases: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every case of a test with fixed inputs; DRAWS of each Hypothesis test's, evenly."""
    by_node: dict[str, list[str]] = {}
    for key, case in cases.items():
        if case["generated"]:
            by_node.setdefault(case["node"], []).append(key)
    dropped = set()
    for keys in by_node.values():
        step = len(keys) / DRAWS
        kept = {keys[int(i * step)] for i in range(min(DRAWS, len(keys)))}
        dropped |= set(keys) - kept
    return {key: case for key, case in cases.items() if key not in dropped}


def main() -> None:
    python = {"block": python_block, "ingest": python_ingest, "stored": python_stored,
              "cuts": python_cuts, "records": python_records}  # fmt: skip
    golden_core.RECORDING = golden_core.Recorder(python=python)
    options = ["-q", "-p", "no:xdist", "-p", "no:cacheprovider", "--hypothesis-seed=0"]
    add = "--add" in sys.argv
    given = [arg for arg in sys.argv[1:] if arg != "--add"]
    code = pytest.main([*options, *FILES, *given], plugins=[Plugin()])
    if code != 0:
        sys.exit(f"the differential tests failed ({code}): nothing recorded")
    cases = sampled(golden_core.RECORDING.cases)
    inputs, samples = golden_core.RECORDING.inputs, golden_core.RECORDING.samples
    old: dict[str, Any] = {}
    if add:
        old = json.loads(gzip.decompress(golden_core.CORPUS.read_bytes()))
        nodes = {case["node"] for case in cases.values()}
        cases = {**{k: c for k, c in old["cases"].items() if c["node"] not in nodes}, **cases}
        inputs, samples = {**old["inputs"], **inputs}, {**old["samples"], **samples}
    used = {case["input"] for case in cases.values()} | {d for ds in samples.values() for d in ds}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                            capture_output=True).stdout.strip()  # fmt: skip
    corpus = {
        "recorded_at": f"{old['recorded_at']}; added {commit}" if add else commit,
        "inputs": {k: v for k, v in inputs.items() if k in used},
        "samples": samples,
        "cases": cases,
    }
    data = json.dumps(corpus, ensure_ascii=False, indent=0).encode()
    golden_core.CORPUS.write_bytes(gzip.compress(data, mtime=0))
    size = golden_core.CORPUS.stat().st_size
    print(f"{golden_core.CORPUS}: {len(cases)} cases, {len(data):,} bytes, {size:,} compressed")


if __name__ == "__main__":
    main()
