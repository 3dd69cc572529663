"""No secret reaches disk: the canaries planted in sample_logs/ and in generated logs are found
nowhere in the store after ingest — not in any table dumped as text, not in the raw bytes of the
DuckDB file or its WAL, not in the quarantine."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

import logkit

from .helpers import LOGKIT, write

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
CANARIES = [c for c in (SAMPLES / "CANARIES.txt").read_text().splitlines() if c.strip()]


def _logs_only(tmp_path: Path) -> Path:
    """sample_logs/ without CANARIES.txt (the list itself is not a log)."""
    logs = tmp_path / "logs"
    shutil.copytree(SAMPLES, logs, ignore=shutil.ignore_patterns("CANARIES.txt", "*.md", "*.py"))
    return logs


def table_text(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        parts = []
        for name in names:
            rows = con.execute(f'SELECT COLUMNS(*)::VARCHAR FROM "{name}"').fetchall()
            parts.append(f"{name}\n" + "\n".join(map(repr, rows)))
        return "\n".join(parts)
    finally:
        con.close()


def store_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())


def leaked(text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        return [c for c in CANARIES if c.encode() in text]
    return [c for c in CANARIES if c in text]


def _ingest_samples(tmp: Path) -> Path:
    db = tmp / "store" / "logkit.duckdb"
    summary = logkit.open(db).ingest([str(_logs_only(tmp))])
    assert summary.rejects > 0 and summary.masked  # the samples do exercise both paths
    return db


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _ingest_samples(tmp_path_factory.mktemp("canaries"))


def test_the_canary_list_is_not_empty():
    """Guards the guard: an empty list would make every test below pass vacuously."""
    assert len(CANARIES) >= 20


def test_no_canary_in_any_table_of_the_sample_store(sample_store):
    assert [] == leaked(table_text(sample_store))


def test_no_canary_in_the_raw_bytes_of_the_store_and_its_wal(sample_store):
    assert [] == leaked(store_bytes(sample_store))


def test_no_canary_in_a_wal_left_by_a_killed_ingest(tmp_path):
    """Killed before its WAL is folded into the file: the WAL on disk must be clean too."""
    from logkit.sample import generate

    generate(tmp_path / "gen", lines=60_000, seed=3, files=2)
    db = tmp_path / "s.duckdb"
    wal = db.with_name(db.name + ".wal")
    cfg = write(tmp_path / "logkit.toml", b"[ingest]\nbatch_bytes = 200000\n")
    proc = subprocess.Popen(
        [*LOGKIT, "--db", str(db), "--config", str(cfg), "ingest", "-q", str(tmp_path / "gen")]
    )
    deadline = time.monotonic() + 60
    while not (wal.exists() and wal.stat().st_size > 100_000) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.wait()
    assert wal.exists(), "the ingest finished before a WAL could be caught"
    planted = {
        c for p in (tmp_path / "gen").iterdir() for c in CANARIES if c.encode() in p.read_bytes()
    }
    assert planted
    assert [] == [c for c in planted if c.encode() in wal.read_bytes() + db.read_bytes()]


def test_canaries_in_malformed_lines_are_masked_in_the_quarantine(tmp_path):
    """A secret inside a line that is not valid JSON is masked before the line is kept."""
    card, email = "4111 1111 1111 1111", "maria.garcia@example.com"
    log = write(
        tmp_path / "bad.log",
        f'{{"msg": "pay {card}", "password": "hunter2-canary", "user": "{email}"\n'.encode()
        + b"Traceback: password=hunter2-canary2 for "
        + email.encode()
        + b"\n",
    )
    db = tmp_path / "s.duckdb"
    summary = logkit.open(db).ingest([str(log)])
    assert 2 == summary.rejects
    text = table_text(db) + store_bytes(db).decode("latin-1")
    for secret in (card, email, "hunter2-canary", "hunter2-canary2"):
        assert secret not in text


def test_no_canary_from_generated_logs_reaches_the_store(tmp_path):
    """logkit sample plants secrets in ~1% of lines; none survive ingest."""
    from logkit.sample import generate

    generate(tmp_path / "gen", lines=20_000, seed=7, files=3, malformed=0.01)
    planted = set()
    for path in (tmp_path / "gen").iterdir():
        data = path.read_bytes()
        planted |= {c for c in CANARIES if c.encode() in data}
    db = tmp_path / "s.duckdb"
    logkit.open(db).ingest([str(tmp_path / "gen")])
    assert planted, "the generator planted none of the known canaries"
    assert [] == [c for c in planted if c.encode() in store_bytes(db)]
