"""The notebooks, executed headless as a reader would run them (nbclient + ipykernel).

getting_started.ipynb ingests the committed sample_logs/ into a store in tmp_path; the
postmortem notebook then analyses that store with its incident window left to detection. Any
cell error fails the test (nbclient raises it), and every chart must come out as a PNG.
Parameters are passed the papermill way: a cell tagged `injected-parameters` after the one
tagged `parameters`. The notebooks in the repository are never written to.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

import logkit
from logkit.postmortem import SECTIONS
from logkit.sample import INCIDENT_ERROR, INCIDENT_SERVICE

from .test_report import headline_window, near, sample_window

pytestmark = pytest.mark.xdist_group("notebooks")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "python3"
POSTMORTEM_CHARTS = 4  # timeline, latency, waterfall, LLM usage


@pytest.fixture(scope="module")
def kernel() -> str:
    """The python3 kernel, run by this interpreter (the venv's, where logkit is installed).

    jupyter_client starts a spec whose command is plain `python` with sys.executable, and
    with no spec installed at all it falls back to ipykernel's own for sys.executable.
    """
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:  # pragma: no cover - depends on the environment
        pytest.fail(f"no {KERNEL!r} kernel: run {sys.executable} -m ipykernel install --sys-prefix")
    assert spec.argv[0] in ("python", "python3", sys.executable), spec.argv
    return KERNEL


def execute(name: str, kernel: str, cwd: Path, **parameters: object) -> nbformat.NotebookNode:
    """Run notebooks/NAME with `parameters` injected; raises on the first failing cell."""
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    tagged = [
        i for i, cell in enumerate(book.cells) if "parameters" in cell.metadata.get("tags", [])
    ]
    injected = nbformat.v4.new_code_cell(
        "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
    )
    injected.metadata["tags"] = ["injected-parameters"]
    book.cells.insert(tagged[0] + 1, injected)
    client = NotebookClient(
        book, kernel_name=kernel, timeout=120, resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return book


def outputs(book: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in book.cells if cell.cell_type == "code" for out in cell.outputs]


def pngs(book: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for out in outputs(book))


def printed(book: nbformat.NotebookNode) -> str:
    return "".join(out.get("text", "") for out in outputs(book) if out["output_type"] == "stream")


@pytest.fixture(scope="module")
def getting_started(
    kernel: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[nbformat.NotebookNode, Path]:
    """getting_started.ipynb run on sample_logs/: the executed notebook and its store."""
    cwd = tmp_path_factory.mktemp("getting_started")
    store = cwd / "logkit.duckdb"
    book = execute("getting_started.ipynb", kernel, cwd, logs=str(ROOT / "sample_logs"),
                   store_path=str(store))  # fmt: skip
    return book, store


class TestGettingStarted:
    def test_runs_and_draws_its_chart(self, getting_started: tuple) -> None:
        """Every cell runs; the errors-per-minute chart comes out as a PNG."""
        book, _ = getting_started
        assert 1 == pngs(book)

    def test_ingests_the_sample_logs(self, getting_started: tuple) -> None:
        """The store it builds holds every sample service."""
        _, store = getting_started
        services = logkit.open(store).overview()["services"]
        assert {"api", "worker", "llm-gateway", "billing"} <= set(services)


@pytest.fixture(scope="module")
def postmortem(
    getting_started: tuple, kernel: str, tmp_path_factory: pytest.TempPathFactory
) -> nbformat.NotebookNode:
    """The postmortem notebook on the sample store, its window left to detection."""
    _, store = getting_started
    return execute("incident_postmortem.ipynb", kernel, tmp_path_factory.mktemp("pm"),
                   store_path=str(store))  # fmt: skip


class TestPostmortem:
    def test_runs_and_draws_every_chart(self, postmortem: nbformat.NotebookNode) -> None:
        """Every cell runs; timeline, latency, waterfall and LLM charts are PNGs."""
        assert POSTMORTEM_CHARTS == pngs(postmortem)

    def test_finds_the_sample_incident(self, postmortem: nbformat.NotebookNode) -> None:
        """The headline names the README's window (to the minute), service and error type."""
        headline = printed(postmortem)
        assert near(sample_window(), headline_window(headline))
        assert f"{INCIDENT_ERROR} in {INCIDENT_SERVICE}" in headline


class TestNotebookFiles:
    @pytest.mark.parametrize("name", ["getting_started.ipynb", "incident_postmortem.ipynb"])
    def test_stored_without_outputs(self, name: str) -> None:
        """Committed clean: no outputs or execution counts to go stale or leak data."""
        book = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(book)
        code = [cell for cell in book.cells if cell.cell_type == "code"]
        assert [] == [cell.outputs for cell in code if cell.outputs]
        assert {None} == {cell.execution_count for cell in code}

    def test_postmortem_parameters(self) -> None:
        """One cell tagged `parameters` (papermill's convention) sets each parameter."""
        book = nbformat.read(NOTEBOOKS / "incident_postmortem.ipynb", as_version=4)
        cells = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
        assert 1 == len(cells)
        names = [line.split(" = ")[0] for line in cells[0].source.splitlines()]
        assert ["store_path", "since", "until", "trace_id", "services"] == names

    def test_postmortem_sections_have_prose(self) -> None:
        """A heading per postmortem section, each with a line of prose under it."""
        book = nbformat.read(NOTEBOOKS / "incident_postmortem.ipynb", as_version=4)
        headings = {}
        for cell in book.cells:
            if cell.cell_type == "markdown" and cell.source.startswith("## "):
                title, _, prose = cell.source[3:].partition("\n")
                headings[title] = prose.strip()
        expected = [title for title, _ in SECTIONS.values()]
        assert expected == [title for title in headings if title in expected]
        assert all(headings[title] for title in expected)
