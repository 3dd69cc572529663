"""The native core on the inputs Hypothesis drew for the differential tests while the Python
pipeline lived: a fixed sample of each test's draws, kept in the golden corpus with what the
Python pipeline made of them (tests/golden_core.py), replayed here. The tests that drew them now
hold new draws to what holds for any input."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from logkit.core import FormatSettings

from . import golden_core

core = pytest.importorskip(
    "logkit.core", reason="the native core is not built", exc_type=ImportError
)


def _draws() -> dict[str, list[tuple[str, Any]]]:
    by_node: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for key, case in golden_core.corpus()["cases"].items():
        if case["generated"]:
            by_node[case["node"].split("::")[-1]].append((key, case))
    return dict(sorted(by_node.items()))


DRAWS = _draws()


def test_the_corpus_holds_draws_of_every_generated_test():
    assert len(DRAWS) >= 10 and all(len(cases) >= 10 for cases in DRAWS.values())


@pytest.mark.parametrize("test", sorted(DRAWS))
def test_drawn_inputs_give_what_the_python_pipeline_gave(test, tmp_path):
    inputs = golden_core.corpus()["inputs"]
    native = core.Core(formats=FormatSettings())
    for key, case in DRAWS[test]:
        data = golden_core.bytes_in(inputs[case["input"]])
        expected, kind = case["expected"], case["kind"]
        if kind == "block":
            actual = golden_core.core_block(data, case["settings"])
            golden_core.check_block(key, data, expected, actual)
        elif kind == "cuts":
            lines = data.splitlines(keepends=True)
            got = [native.unfinished(b"".join(lines[:n])) for n in case["settings"]["prefixes"]]
            assert expected == got
        else:
            from .test_core_lines_not_records import native_records

            assert kind == "records"
            assert expected == native_records(data), data[:300]
