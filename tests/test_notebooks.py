"""The notebooks, executed headless as a reader would run them (nbclient + ipykernel).

As shipped: after `make demo` (a store built from sample_logs/ at demo/logkit.duckdb, the way
the Makefile builds it), each notebook is run unchanged from notebooks/, as Jupyter runs it,
and must find that store; then with `$LOGKIT_DB` naming another store and no demo store.
Parameters are passed the papermill way: a cell tagged `injected-parameters` after the one
tagged `parameters`. Any cell error fails the test (nbclient raises it), and every chart must
come out as a PNG. The notebooks in the repository are never written to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient

import logkit
from logkit.postmortem import SECTIONS
from logkit.sample import INCIDENT_ERROR, INCIDENT_SERVICE

from .helpers import LOGKIT
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


def execute(
    name: str, kernel: str, cwd: Path, *, logkit_db: Path | None = None, **parameters: object
) -> nbformat.NotebookNode:
    """Run notebooks/NAME in `cwd`, with `$LOGKIT_DB` set only when given, and `parameters`
    injected (none: the notebook as shipped); raises on the first failing cell."""
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    if parameters:
        tagged = [
            i for i, cell in enumerate(book.cells) if "parameters" in cell.metadata.get("tags", [])
        ]
        injected = nbformat.v4.new_code_cell(
            "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
        )
        injected.metadata["tags"] = ["injected-parameters"]
        book.cells.insert(tagged[0] + 1, injected)
    env = {k: v for k, v in os.environ.items() if k != "LOGKIT_DB"}
    if logkit_db is not None:
        env["LOGKIT_DB"] = str(logkit_db)
    client = NotebookClient(
        book, kernel_name=kernel, timeout=120, resources={"metadata": {"path": str(cwd)}}
    )
    client.execute(env=env)
    return book


def outputs(book: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in book.cells if cell.cell_type == "code" for out in cell.outputs]


def pngs(book: nbformat.NotebookNode) -> int:
    return sum("image/png" in out.get("data", {}) for out in outputs(book))


def printed(book: nbformat.NotebookNode) -> str:
    return "".join(out.get("text", "") for out in outputs(book) if out["output_type"] == "stream")


def shown(book: nbformat.NotebookNode) -> str:
    """Everything the reader sees as text: printed lines and displayed values."""
    return printed(book) + "".join(
        out.get("data", {}).get("text/plain", "") for out in outputs(book)
    )


def events(store: Path) -> int:
    return logkit.open(store).overview()["events"]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone after `make demo`: sample_logs/, an empty notebooks/ to run in, and the demo
    store built as the Makefile builds it (`logkit --db demo/logkit.duckdb ingest sample_logs/`
    from the clone's root)."""
    root = tmp_path_factory.mktemp("checkout")
    (root / "notebooks").mkdir()
    (root / "sample_logs").symlink_to(ROOT / "sample_logs")
    (root / "demo").mkdir()
    subprocess.run([*LOGKIT, "--db", "demo/logkit.duckdb", "ingest", "sample_logs/"],
                   cwd=root, check=True, capture_output=True)  # fmt: skip
    return root


@pytest.fixture(scope="module")
def getting_started(checkout: Path, kernel: str) -> nbformat.NotebookNode:
    return execute("getting_started.ipynb", kernel, checkout / "notebooks")


class TestAsShippedAfterMakeDemo:
    """The notebooks run unchanged from notebooks/ with no $LOGKIT_DB: the demo store."""

    def test_getting_started_opens_the_demo_store(
        self, getting_started: nbformat.NotebookNode, checkout: Path
    ) -> None:
        """It reads the store `make demo` wrote, where the sample logs already are, says
        so in words, draws its chart, and leaves no store of its own in notebooks/."""
        text = printed(getting_started)
        assert f"store: {checkout / 'demo' / 'logkit.duckdb'}\n" in text
        assert "nothing new in ../sample_logs: the store holds all of it already\n" in text
        assert 1 == pngs(getting_started)
        assert [] == list((checkout / "notebooks").iterdir())

    def test_getting_started_shows_no_raw_repr(
        self, getting_started: nbformat.NotebookNode
    ) -> None:
        """The ingest cell shows words and a table of files, not `IngestSummary(...)`."""
        text = shown(getting_started)
        assert "IngestSummary(" not in text and "SourceReport(" not in text
        assert "│ file" in text and "unchanged" in text

    def test_postmortem_finds_the_sample_incident(self, checkout: Path, kernel: str) -> None:
        """Every chart drawn; the headline names the README's window, service and error."""
        book = execute("incident_postmortem.ipynb", kernel, checkout / "notebooks")
        text = printed(book)
        assert f"store: {checkout / 'demo' / 'logkit.duckdb'}\n" in text
        assert POSTMORTEM_CHARTS == pngs(book)
        headline = text.splitlines()[1]
        assert near(sample_window(), headline_window(headline))
        assert f"{INCIDENT_ERROR} in {INCIDENT_SERVICE}" in headline


@pytest.fixture(scope="module")
def elsewhere(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A clone without a demo store (its notebooks/ to run in) and a store of the sample
    logs somewhere else, for $LOGKIT_DB."""
    root = tmp_path_factory.mktemp("elsewhere")
    (root / "notebooks").mkdir()
    (root / "sample_logs").symlink_to(ROOT / "sample_logs")
    store = tmp_path_factory.mktemp("mine") / "mine.duckdb"
    shutil.copy(checkout / "demo" / "logkit.duckdb", store)
    return root / "notebooks", store


class TestWithLogkitDb:
    def test_postmortem_analyses_the_store_it_names(
        self, elsewhere: tuple[Path, Path], kernel: str
    ) -> None:
        cwd, store = elsewhere
        book = execute("incident_postmortem.ipynb", kernel, cwd, logkit_db=store)
        text = printed(book)
        assert text.startswith(f"store: {store}\n")
        assert near(sample_window(), headline_window(text.splitlines()[1]))

    def test_getting_started_ingests_nothing_into_it(
        self, elsewhere: tuple[Path, Path], kernel: str
    ) -> None:
        """$LOGKIT_DB is the reader's own store: the sample logs stay out of it."""
        cwd, store = elsewhere
        before = events(store)
        book = execute("getting_started.ipynb", kernel, cwd, logkit_db=store)
        assert printed(book).startswith(f"store: {store}\nnothing ingested: set logs to ingest\n")
        assert before == events(store)
        assert 1 == pngs(book)


class TestParameters:
    """The papermill way: parameters override both $LOGKIT_DB and the demo store."""

    def test_getting_started_ingests_the_logs_given_into_the_store_given(
        self, checkout: Path, kernel: str, tmp_path: Path
    ) -> None:
        store = tmp_path / "new.duckdb"
        book = execute("getting_started.ipynb", kernel, checkout / "notebooks",
                       logkit_db=checkout / "demo" / "logkit.duckdb",
                       logs=str(ROOT / "sample_logs"), store_path=str(store))  # fmt: skip
        assert {"api", "worker", "llm-gateway", "billing"} <= set(
            logkit.open(store).overview()["services"]
        )
        assert f"events stored, {logkit.open(store).overview()['rejects']} rejected" in printed(
            book
        )

    def test_postmortem_window_given(self, checkout: Path, kernel: str) -> None:
        """The README's window, given, is the headline's to the second."""
        since, until = sample_window()
        book = execute("incident_postmortem.ipynb", kernel, checkout / "notebooks",
                       store_path=str(checkout / "demo" / "logkit.duckdb"),
                       since=since.isoformat(), until=until.isoformat())  # fmt: skip
        assert (since, until) == headline_window(printed(book).splitlines()[1])


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
