"""How many mypy --strict errors each module of logkit/ still has, its override set aside.

pyproject.toml relaxes, per module, the strict checks a module still being reworked fails, and
says "left: N" beside each. This counts N again (after a merge, say): it runs mypy with
pyproject's [tool.mypy] settings and the overrides for other packages (pyarrow's), but none of
logkit's own, and prints the errors per module.

    .venv/bin/python scripts/mypy_left.py [MYPY OPTIONS]
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _ini_value(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def config_without_logkit_overrides() -> str:
    """pyproject's mypy settings as an ini file, without the overrides of logkit modules."""
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    lines = ["[mypy]"]
    lines += [f"{k} = {_ini_value(v)}" for k, v in mypy.items() if k not in ("overrides", "files")]
    for override in mypy.get("overrides", []):
        modules = override["module"]
        modules = [modules] if isinstance(modules, str) else modules
        if any(m.startswith("logkit") for m in modules):
            continue
        settings = {k: v for k, v in override.items() if k != "module"}
        for module in modules:
            lines.append(f"[mypy-{module}]")
            lines += [f"{k} = {_ini_value(v)}" for k, v in settings.items()]
    return "\n".join(lines) + "\n"


def main() -> int:
    with tempfile.NamedTemporaryFile("w", suffix=".ini") as ini:
        ini.write(config_without_logkit_overrides())
        ini.flush()
        run = subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", ini.name, *sys.argv[1:], "logkit"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    if not re.search(r"^(Found \d+ errors? in|Success: no issues)", run.stdout, re.MULTILINE):
        sys.stderr.write(run.stdout + run.stderr)  # mypy did not run to the end
        return 2
    counts = collections.Counter(
        match.group(1)
        for line in run.stdout.splitlines()
        if (match := re.match(r"(logkit/[^:]+):\d+: error:", line))
    )
    for path, n in counts.most_common():
        print(f"{n:4d}  {path}")
    print(f"{sum(counts.values()):4d}  in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
