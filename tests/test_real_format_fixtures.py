"""tests/real/formats: output captured from real programs for issue 15's format definitions.

These tests keep the fixtures what PRODUCED.md says they are: every file is documented there
(program, version, command), each line is what its format says (a JSON object, or a CRI line),
and logkit stores every line as an event, none rejected. What logkit extracts from each is for
the format definitions' own tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import logkit

FORMATS = Path(__file__).parent / "real" / "formats"
NDJSON = sorted(FORMATS.glob("*.ndjson"))
# <RFC 3339 time> <stream> <P|F> <content>, as the kubelet reads container logs.
CRI_LINE = re.compile(
    rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) (stdout|stderr) [PF] "
)


def documented() -> set[str]:
    """The file names in PRODUCED.md's section headings (`## a.ndjson, b.ndjson` or
    `## Go libraries (go_zap, ...)`, whose files are go_zap.ndjson...)."""
    names = set()
    for heading in re.findall(r"^## (.+)$", (FORMATS / "PRODUCED.md").read_text(), re.M):
        names.update(re.findall(r"[\w.-]+\.(?:ndjson|log)", heading))
        inside = re.search(r"\(([^)]*)\)", heading)
        if inside and "." not in inside.group(1):
            names.update(f"{n.strip()}.ndjson" for n in inside.group(1).split(","))
    return names


def test_every_fixture_says_how_it_was_produced():
    files = {p.name for p in FORMATS.iterdir() if p.is_file() and p.name != "PRODUCED.md"}
    assert len(files) >= 20
    assert files == documented()


def test_every_ndjson_line_is_a_json_object():
    not_objects = [
        (path.name, number)
        for path in NDJSON
        for number, line in enumerate(path.read_bytes().splitlines(), 1)
        if not isinstance(json.loads(line), dict)
    ]
    assert [] == not_objects


def test_cri_lines_follow_the_cri_format():
    lines = (FORMATS / "cri.log").read_bytes().splitlines()
    assert len(lines) >= 5
    assert [] == [line[:60] for line in lines if not CRI_LINE.match(line)]
    assert {b"P", b"F"} == {line.split(b" ", 3)[2] for line in lines}


def test_every_line_is_stored_as_an_event(tmp_path):
    (tmp_path / "logkit.toml").write_text("")
    store = logkit.open(tmp_path / "logkit.duckdb", config_path=tmp_path / "logkit.toml")
    summary = store.ingest([str(p) for p in NDJSON])
    written = sum(len(p.read_bytes().splitlines()) for p in NDJSON)
    assert (written, written, 0) == (summary.lines, summary.events, sum(summary.rejected.values()))
