"""Ctrl-C, SIGTERM and SIGKILL during an ingest that runs on the worker pool.

Real `logkit ingest` processes on an input past INLINE_BYTES (so the forkserver pool runs),
signalled as a terminal does (the whole process group) or as `kill` does (the process). One
signal stops the run within seconds with exit 128 + the signal, says what it stored, prints
no traceback from any process and leaves no process behind; the rerun then completes the store
to what an uninterrupted run makes. A SIGKILL leaves no worker printing BrokenPipeError.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logkit.ingest import INLINE_BYTES
from logkit.sample import generate

from .helpers import run_logkit
from .test_faults import digest

pytestmark = [
    pytest.mark.xdist_group("interrupt"),
    pytest.mark.skipif(sys.platform != "linux", reason="reads /proc"),
]

STOP_SECONDS = 5.0  # "a second or two", with room for a loaded test machine


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Just past INLINE_BYTES of logs, so that ingest starts its worker pool."""
    logs = tmp_path_factory.mktemp("big") / "logs"
    generate(logs, lines=95_000, seed=3, files=2, malformed=0.001)
    assert sum(p.stat().st_size for p in logs.iterdir()) > INLINE_BYTES
    return logs


@pytest.fixture(scope="module")
def clean(big: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The store an uninterrupted run makes."""
    db = tmp_path_factory.mktemp("clean") / "s.duckdb"
    run_logkit("ingest", "-q", str(big), db=db)
    return digest(db)


def _processes() -> dict[int, tuple[int, str]]:
    """Every live process: pid -> (parent pid, state)."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(name)] = (int(stat[1]), stat[0])
    return found


def descendants(pid: int) -> set[int]:
    table = _processes()
    family, grew = {pid}, True
    while grew:
        new = {p for p, (parent, _) in table.items() if parent in family} - family
        family |= new
        grew = bool(new)
    return family - {pid}


def alive(pids: set[int]) -> set[int]:
    table = _processes()
    return {p for p in pids if p in table and table[p][1] != "Z"}


# `python -m logkit`, able to show where it is stuck: SIGUSR1 prints every thread's stack.
LOGKIT_DIAGNOSABLE = [
    sys.executable, "-c",
    "import faulthandler, signal, sys\n"
    "faulthandler.register(signal.SIGUSR1, all_threads=True)\n"
    "sys.argv[0] = 'logkit'\n"
    "from logkit.cli import main\n"
    "main()\n",
]  # fmt: skip


def start(*args: str, db: Path, stdin: int | None = None) -> subprocess.Popen[bytes]:
    """`logkit ARGS` as the leader of its own process group, as a shell starts a job."""
    return subprocess.Popen([*LOGKIT_DIAGNOSABLE, "--db", str(db), *args], stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip


def wait_for_commits(proc: subprocess.Popen[bytes], db: Path) -> set[int]:
    """Until the run has committed blocks (its WAL has grown) with the pool running; returns
    the run's processes then."""
    wal = Path(f"{db}.wal")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        family = descendants(proc.pid)
        if wal.exists() and wal.stat().st_size > 1 << 20 and len(family) >= 3:
            return family
        time.sleep(0.05)
    raise AssertionError("the run committed nothing in 120 s")


def stop(proc: subprocess.Popen[bytes], signum: int, *, group: bool) -> tuple[float, str]:
    """Send the signal; (seconds until the process exited, its stderr)."""
    sent = time.monotonic()
    if group:
        os.killpg(proc.pid, signum)
    else:
        os.kill(proc.pid, signum)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGUSR1)
        time.sleep(1)
        for pid in descendants(proc.pid) | {proc.pid}:
            os.kill(pid, signal.SIGKILL)
        _, err = proc.communicate()
        raise AssertionError(f"still running 60 s after {signum!r}:\n{err.decode()}") from None
    return time.monotonic() - sent, err.decode()


def gone(pids: set[int], within: float = STOP_SECONDS) -> set[int]:
    """The processes of `pids` still alive after `within` seconds."""
    deadline = time.monotonic() + within
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive(pids)


@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["ctrl-c", "kill", "kill-group"],
)
def test_one_signal_stops_the_run_cleanly_and_a_rerun_completes_it(
    big: Path, clean: dict, tmp_path: Path, signum: int, group: bool
) -> None:
    db = tmp_path / "s.duckdb"
    proc = start("ingest", str(big), db=db)
    family = wait_for_commits(proc, db)
    seconds, stderr = stop(proc, signum, group=group)
    name = signal.Signals(signum).name
    assert (128 + signum, "Traceback" not in stderr) == (proc.returncode, True), stderr
    assert f"interrupted by {name}: this run stored " in stderr, stderr
    assert "nothing half-done was kept, so a rerun reads on from there" in stderr
    assert seconds < STOP_SECONDS, f"{seconds:.1f} s to stop"
    assert set() == gone(family)
    run_logkit("ingest", "-q", str(big), db=db)
    assert clean == digest(db)


def test_what_the_message_says_was_stored_is_in_the_store(big: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    proc = start("ingest", str(big), db=db)
    wait_for_commits(proc, db)
    _, stderr = stop(proc, signal.SIGINT, group=True)
    said = stderr.partition("this run stored ")[2].partition(" lines")[0]
    stored = run_logkit("sql", "SELECT sum(value)::BIGINT AS n FROM counters WHERE name = 'lines'",
                        db=db).stdout  # fmt: skip
    assert f'{{"n":{said.replace(",", "")}}}\n'.encode() == stored
    assert int(said.replace(",", "")) > 0


def test_ctrl_c_while_waiting_for_stdin(tmp_path: Path) -> None:
    """Piped input runs on the pool whatever its size; a read that waits is interrupted too."""
    db = tmp_path / "s.duckdb"
    proc = start("ingest", "-", db=db, stdin=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(b'{"message": "one", "level": "info"}\n')
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    while len(descendants(proc.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    family = descendants(proc.pid)
    seconds, stderr = stop(proc, signal.SIGINT, group=True)
    assert (130, "Traceback" not in stderr) == (proc.returncode, True), stderr
    assert seconds < STOP_SECONDS, f"{seconds:.1f} s to stop"
    assert set() == gone(family)


def test_after_sigkill_no_worker_prints_a_traceback_or_stays(
    big: Path, clean: dict, tmp_path: Path
) -> None:
    db = tmp_path / "s.duckdb"
    proc = start("ingest", str(big), db=db)
    family = wait_for_commits(proc, db)
    os.kill(proc.pid, signal.SIGKILL)
    # stderr is shared with the workers: it ends when the last of them has gone.
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        leftover = alive(family)
        for pid in leftover:
            os.kill(pid, signal.SIGKILL)
    assert set() == leftover
    assert "Traceback" not in err.decode() and "BrokenPipe" not in err.decode(), err.decode()
    assert set() == gone(family)
    run_logkit("ingest", "-q", str(big), db=db)
    assert clean == digest(db)
