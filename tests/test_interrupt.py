"""Ctrl-C, SIGTERM and SIGKILL during an ingest.

Real `logkit ingest` processes, signalled as a terminal does (the whole process group) or as
`kill` does (the process), while their input is still coming: a writer the test controls pipes
a named stream (`--name`) into stdin as fast as the run reads it and holds its last part back
until the run has been signalled, so the run cannot have ended first, however fast it is. One
signal stops the run within seconds with exit 128 + the signal, says what it stored, prints no
traceback from any process and leaves no process behind; the rerun, piping the whole stream
again, then completes the store to what an uninterrupted run makes. The native core runs every
block in the process itself (the signal is handled as the block under way ends: ~0.04 s for a
2 MB block, 0.11 s at most, on this 2-core machine), so it starts no process at all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from logkit.ingest.commit import COMMIT_ROWS
from logkit.sample import generate

from .helpers import run_logkit
from .test_faults import digest

pytestmark = [
    pytest.mark.xdist_group("interrupt"),
    pytest.mark.skipif(sys.platform != "linux", reason="reads /proc"),
]

STOP_SECONDS = 5.0  # "a second or two", with room for a loaded test machine
NAME = "app"  # the piped stream's name: its checkpoint lets a rerun read on
LINES = 240_000
HELD = 0.1  # the share of the stream held back until the run has been signalled


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A stream whose part before the held-back tail is more lines than one transaction
    holds (COMMIT_ROWS), so the run commits before it waits for the tail."""
    [log] = generate(tmp_path_factory.mktemp("logs"), lines=LINES, seed=3, files=1,
                     malformed=0.001)  # fmt: skip
    assert LINES * (1 - HELD) > COMMIT_ROWS
    return log.read_bytes()


@pytest.fixture(scope="module")
def clean(stream: bytes, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The store an uninterrupted run makes."""
    db = tmp_path_factory.mktemp("clean") / "s.duckdb"
    run_logkit("ingest", "-q", "--name", NAME, "-", db=db, input=stream)
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


def reading_stdin(pid: int) -> bool:
    """Whether the process's main thread is blocked in read(0, ...): waiting for input."""
    try:
        return Path(f"/proc/{pid}/syscall").read_text().startswith("0 0x0 ")
    except OSError:
        return False


# `python -m logkit`, able to show where it is stuck: SIGUSR1 prints every thread's stack.
LOGKIT_DIAGNOSABLE = [
    sys.executable, "-c",
    "import faulthandler, signal, sys\n"
    "faulthandler.register(signal.SIGUSR1, all_threads=True)\n"
    "sys.argv[0] = 'logkit'\n"
    "from logkit.cli import main\n"
    "main()\n",
]  # fmt: skip


class Feeder(threading.Thread):
    """Pipes `data` into a run's stdin as fast as the run reads it, except its last `held`
    bytes, which wait for `release()`; `abort()` instead drops them. The pipe is the test's
    own (not Popen's), so that nothing else writes to or closes it."""

    def __init__(self, data: bytes, held: int) -> None:
        super().__init__(daemon=True)
        self.data, self.hold_at = data, len(data) - held
        self.stdin, self._write = os.pipe()
        self.written = 0
        self._go = threading.Event()
        self._aborted = False

    def run(self) -> None:
        try:
            self._send(self.hold_at)
            self._go.wait()
            if not self._aborted:
                self._send(len(self.data))
        except BrokenPipeError:
            pass  # the run has gone: what it had not read is the rerun's
        finally:
            os.close(self._write)

    def _send(self, end: int) -> None:
        while self.written < end:
            chunk = self.data[self.written : min(end, self.written + (1 << 20))]
            self.written += os.write(self._write, chunk)

    def release(self) -> None:
        self._go.set()

    def abort(self) -> None:
        self._aborted = True
        self._go.set()


def start(*args: str, db: Path, feeder: Feeder) -> subprocess.Popen[bytes]:
    """`logkit ARGS` reading the feeder's pipe, as the leader of its own process group, as a
    shell starts a job."""
    proc = subprocess.Popen([*LOGKIT_DIAGNOSABLE, "--db", str(db), *args], stdin=feeder.stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    os.close(feeder.stdin)  # the run's now
    feeder.start()
    return proc


def wait_for_commits(proc: subprocess.Popen[bytes], db: Path) -> set[int]:
    """Until the run has committed blocks (its WAL holds a commit: the rows of a transaction
    that fills a row group go to the store file, the WAL only says where); returns the run's
    processes then. The run cannot end meanwhile: the feeder holds the end of its input."""
    wal = Path(f"{db}.wal")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1].decode()
        family = descendants(proc.pid)
        if wal.exists() and wal.stat().st_size > 0:
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


def rerun(stream: bytes, db: Path) -> None:
    """The whole stream piped again under its name: the run reads on from its checkpoint."""
    run_logkit("ingest", "-q", "--name", NAME, "-", db=db, input=stream)


@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["ctrl-c", "kill", "kill-group"],
)
def test_one_signal_stops_the_run_cleanly_and_a_rerun_completes_it(
    stream: bytes, clean: dict, tmp_path: Path, signum: int, group: bool
) -> None:
    db = tmp_path / "s.duckdb"
    feeder = Feeder(stream, int(len(stream) * HELD))
    proc = start("ingest", "--name", NAME, "-", db=db, feeder=feeder)
    family = wait_for_commits(proc, db)
    seconds, stderr = stop(proc, signum, group=group)
    feeder.abort()
    name = signal.Signals(signum).name
    assert (128 + signum, "Traceback" not in stderr) == (proc.returncode, True), stderr
    assert f"interrupted by {name}: this run stored " in stderr, stderr
    assert "nothing half-done was kept, so a rerun reads on from there" in stderr
    assert seconds < STOP_SECONDS, f"{seconds:.1f} s to stop"
    assert set() == gone(family)
    rerun(stream, db)
    assert clean == digest(db)


def test_ctrl_c_while_a_file_is_read_ahead_stops_its_reader_too(
    stream: bytes, tmp_path: Path
) -> None:
    """A file is read on a thread of its own, ahead of the thread that stores its blocks: the
    signal stops both as promptly as a pipe's run, and the rerun completes the store."""
    log = tmp_path / "app.log"
    log.write_bytes(stream * 4)  # long enough to be read still after the first commit
    db = tmp_path / "s.duckdb"
    proc = subprocess.Popen([*LOGKIT_DIAGNOSABLE, "--db", str(db), "ingest", str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    family = wait_for_commits(proc, db)
    seconds, stderr = stop(proc, signal.SIGINT, group=True)
    assert (130, "Traceback" not in stderr) == (proc.returncode, True), stderr
    assert "interrupted by SIGINT: this run stored " in stderr, stderr
    assert seconds < STOP_SECONDS, f"{seconds:.1f} s to stop"
    assert set() == gone(family)
    run_logkit("ingest", "-q", str(log), db=db)
    clean = tmp_path / "clean.duckdb"
    run_logkit("ingest", "-q", str(log), db=clean)
    assert digest(clean) == digest(db)


def test_the_core_runs_without_worker_processes(stream: bytes, clean: dict, tmp_path: Path) -> None:
    """An ingest runs on the native core, in logkit's own process, even for piped input;
    released, the run completes."""
    db = tmp_path / "s.duckdb"
    feeder = Feeder(stream, int(len(stream) * HELD))
    proc = start("ingest", "-q", "--name", NAME, "-", db=db, feeder=feeder)
    assert set() == wait_for_commits(proc, db)
    feeder.release()
    _, err = proc.communicate(timeout=120)
    assert (0, b"") == (proc.returncode, err)
    assert clean == digest(db)


def test_what_the_message_says_was_stored_is_in_the_store(stream: bytes, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    feeder = Feeder(stream, int(len(stream) * HELD))
    proc = start("ingest", "--name", NAME, "-", db=db, feeder=feeder)
    wait_for_commits(proc, db)
    _, stderr = stop(proc, signal.SIGINT, group=True)
    feeder.abort()
    said = stderr.partition("this run stored ")[2].partition(" lines")[0]
    stored = run_logkit("sql", "SELECT sum(value)::BIGINT AS n FROM counters WHERE name = 'lines'",
                        db=db).stdout  # fmt: skip
    assert f'{{"n":{said.replace(",", "")}}}\n'.encode() == stored
    assert int(said.replace(",", "")) > 0


def test_ctrl_c_while_waiting_for_stdin(tmp_path: Path) -> None:
    """A run blocked reading its input is interrupted too."""
    db = tmp_path / "s.duckdb"
    line = b'{"message": "one", "level": "info"}\n'
    feeder = Feeder(line, len(line) // 2)  # half a line, then nothing
    proc = start("ingest", "-", db=db, feeder=feeder)
    deadline = time.monotonic() + 60
    while not reading_stdin(proc.pid) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1].decode()
        time.sleep(0.05)
    assert reading_stdin(proc.pid)
    family = descendants(proc.pid)
    seconds, stderr = stop(proc, signal.SIGINT, group=True)
    feeder.abort()
    assert (130, "Traceback" not in stderr) == (proc.returncode, True), stderr
    assert seconds < STOP_SECONDS, f"{seconds:.1f} s to stop"
    assert set() == gone(family)


def test_after_sigkill_nothing_stays_or_prints_a_traceback(
    stream: bytes, clean: dict, tmp_path: Path
) -> None:
    db = tmp_path / "s.duckdb"
    feeder = Feeder(stream, int(len(stream) * HELD))
    proc = start("ingest", "--name", NAME, "-", db=db, feeder=feeder)
    family = wait_for_commits(proc, db)
    os.kill(proc.pid, signal.SIGKILL)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        feeder.abort()
        leftover = alive(family)
        for pid in leftover:
            os.kill(pid, signal.SIGKILL)
    assert set() == leftover
    assert "Traceback" not in err.decode() and "BrokenPipe" not in err.decode(), err.decode()
    assert set() == gone(family)
    rerun(stream, db)
    assert clean == digest(db)
