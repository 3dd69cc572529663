"""No secret reaches disk: the canaries planted in sample_logs/ and in generated logs are found
nowhere in the store after ingest — not in any table dumped as text, not in the raw bytes of the
DuckDB file or its WAL, not in the quarantine."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import duckdb
import orjson
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


# Tokens of the services an AI platform calls, and a cloud connection string: each in a
# message, under an ordinary key and inside a line that is not JSON.
SERVICE_SECRETS = [
    "hf_Qm7fRt2LpXw9KcZs4VbN8yHd3JgE6aUo1T",
    "r8_Xk2Lm9Pq4Rs7Tv1Wy3Za5Bc8De0Fg6Hj2Kl4Np",
    "gsk_" + "Ab3Cd5Ef7Gh9Jk2Lm4Np6Qr8St1Uv3Wx5Yz7aB9cD2eF4gH6jK",
    "pypi-AgEIcHlwaS5vcmcCJDk1ZmE4N2M0LWJhY2QtNDk4Yi1hYWQ4LTQxYjE0ZDM3MmRhYQ",
    "SG.Zx1Cv2Bn3Mq4Wr5Et6Yu7I.Op8As9Df0Gh1Jk2Lz3Xc4Vb5Nm6Qw7Er8Ty9Ui0Op1As2D",
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
]


def test_service_tokens_and_connection_strings_never_reach_disk(tmp_path):
    hf, r8, gsk, pypi, sendgrid, account_key = SERVICE_SECRETS
    connection = (
        "DefaultEndpointsProtocol=https;AccountName=media;"
        f"AccountKey={account_key};EndpointSuffix=core.windows.net"
    )
    lines = [
        {"msg": f"calling inference with {hf}", "replicate": r8},
        {"msg": "llm", "config": {"providers": [{"name": "groq", "key": gsk}]}},
        {"msg": f"upload with {pypi} then mail via {sendgrid}"},
        {"msg": f"blob client from {connection}"},
        {"msg": "startup", "storage": {"connection_string": connection}},
    ]
    on_disk = stored(tmp_path, lines, f"not json: {hf} {gsk} AccountKey={account_key}")
    assert [] == [secret for secret in SERVICE_SECRETS if secret in on_disk]


def stored(tmp_path: Path, records: list[dict[str, Any]], text_line: str) -> str:
    """What a store keeps, its tables as text and its files' bytes, after an ingest of
    `records` and one line that is not JSON (each an event, the line a reject)."""
    text = b"".join(orjson.dumps(record) + b"\n" for record in records)
    db = tmp_path / "s.duckdb"
    summary = logkit.open(db).ingest(
        [str(write(tmp_path / "app.log", text + text_line.encode() + b"\n"))]
    )
    assert (len(records), 1) == (summary.events, summary.rejects)
    return table_text(db) + store_bytes(db).decode("latin-1")


def test_bank_account_numbers_never_reach_disk(tmp_path):
    """IBANs in a payout service's messages, attrs and a line that is not JSON, in one run and
    in groups; and an account number under an `iban` key, whatever its shape."""
    ibans = ["DE89370400440532013000", "GB29 NWBK 6016 1331 9268 19", "FR1420041010050500013M02606"]
    lines = [
        {"msg": f"payout sent to {ibans[0]}", "service": "billing"},
        {"msg": "payout", "payout": {"account": ibans[1], "amount": 12.5}},
        {"msg": "kyc", "customer": {"iban": "XX00 NOT A REAL ONE"}},
    ]
    on_disk = stored(tmp_path, lines, f"not json: refund to {ibans[2]}")
    secrets = [*ibans, ibans[1].replace(" ", ""), "XX00 NOT A REAL ONE"]
    assert [] == [secret for secret in secrets if secret in on_disk]
    assert "[MASKED:iban]" in on_disk


def test_secrets_named_by_list_elements_never_reach_disk(tmp_path):
    """The line prefilter lets such lines through to the masker: a name, a quote, a comma."""
    lines = [
        {"msg": "request", "scope": {"headers": [["authorization", "Basic dXNlcjpwYXNz"]]}},
        {"msg": "request", "rawHeaders": ["Host", "a.io", "X-Api-Key", "k3y-canary-77"]},
        {"msg": "started", "argv": ["worker", "--password", "hunter2-canary-88"]},
    ]
    log = write(tmp_path / "app.log", b"".join(orjson.dumps(line) + b"\n" for line in lines))
    db = tmp_path / "s.duckdb"
    assert 3 == logkit.open(db).ingest([str(log)]).events
    on_disk = table_text(db) + store_bytes(db).decode("latin-1")
    secrets = ["dXNlcjpwYXNz", "k3y-canary-77", "hunter2-canary-88"]
    assert [] == [secret for secret in secrets if secret in on_disk]
