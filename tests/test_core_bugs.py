"""A bug in the native core fails the test that met it (issue 16).

The core catches a panic per block and quarantines the block's lines as `internal_error`
rejects, so a run survives it; logkit/core.py then warns (logkit.errors.CoreBugWarning).
pyproject.toml's filterwarnings turns that warning into an error in every test, and
tests/helpers.run_logkit fails a CLI run whose stderr shows it. The extension has no way to
panic on purpose, so what is checked here is that wiring, with the suite's own settings.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_core_bug_warning_fails_a_test_under_the_suites_settings(tmp_path):
    (tmp_path / "test_met_a_bug.py").write_text(
        "import warnings\n"
        "from logkit.errors import CoreBugWarning\n"
        "def test_ingest():\n"
        "    warnings.warn('lines quarantined as internal_error', CoreBugWarning)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider",
         "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout
    assert "1 failed" in proc.stdout
    assert "CoreBugWarning: lines quarantined as internal_error" in proc.stdout


def test_the_fuzz_harness_builds_the_columns_ingest_stores():
    """src/harness.rs (the proptest's and the fuzz target's pipeline) carries its own copy of
    the event and reject columns, having no Python to ask: held to schema.py."""
    from logkit.schema import EVENT_COLUMNS, REJECT_COLUMNS

    text = (ROOT / "src" / "harness.rs").read_text()

    def table(name: str) -> list[tuple[str, str]]:
        body = re.search(rf"const {name}: \[\(&str, &str\); \d+\] = \[(.*?)\];", text, re.S)
        assert body is not None, name
        return re.findall(r'\("(\w+)", "(\w+)"\)', body.group(1))

    assert list(EVENT_COLUMNS) == table("EVENT_COLUMNS")
    assert REJECT_COLUMNS == table("REJECT_COLUMNS")
