"""Faults: SIGKILL at random moments, overlapping runs, a full disk, a read-only store, old and
new store versions — each followed by the run that must repair it, on real files and stores.

The yardstick is always an uninterrupted run over the same input: a store that went through a
fault and a rerun must hold the same events and rejects (count, and a hash of every row summed
over the table, so order does not matter and a duplicate is not cancelled out as with XOR) and
the same totals. When files were rotated between the fault and the rerun, a line's file name,
line number and stream (the checkpoint it was read under) depend on when it was read, so those
runs are compared on content (every column but the file name and the position in it).

Kill moments are random: `LOGKIT_FAULT_SEED=N` replays a failing run (the seed is in every
failure message). Half are spread over the writer's progress (the size of its write-ahead log),
so that a loaded machine still sees kills in the middle of the work, not only before it starts
or after it ends; half over the run's time, which also lands them inside a transaction.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

import logkit
from logkit.ingest import rotation
from logkit.ingest import sources as src
from logkit.ingest.checkpoints import Checkpoint, load_checkpoints
from logkit.migrations import MIGRATIONS, migrate
from logkit.sample import generate

from .helpers import LOGKIT, append, lines, query, run_logkit, write
from .metrics_fixtures import parse
from .test_metrics import counters_of, decreased

pytestmark = pytest.mark.xdist_group("faults")

SEED = int(os.environ.get("LOGKIT_FAULT_SEED") or random.SystemRandom().randrange(1 << 31))
KILLS = 20
# Small blocks, each its own commit (ingest groups blocks into a transaction per second or
# 100k rows, which on an input this small would be one or two): a kill then lands between any
# two of some twenty commits, or inside one. The code that runs is logkit's own; only the
# grouping thresholds differ, as if the input were much larger.
CONFIG = "[ingest]\nbatch_bytes = 32768\n"
EVERY_BLOCK_COMMITS = (
    "import sys\n"
    "import logkit.ingest.commit as commit\n"
    "assert hasattr(commit, 'COMMIT_ROWS') and hasattr(commit, 'COMMIT_SECONDS')\n"
    "commit.COMMIT_ROWS, commit.COMMIT_SECONDS = 1, 0.0\n"
    "from logkit.cli import main\n"
    "sys.argv[0] = 'logkit'\n"
    "main()\n"
)

EVENTS = "SELECT count(*), sum(hash(e)::HUGEINT) FROM (SELECT {columns} FROM events) AS e"
REJECTS = "SELECT count(*), sum(hash(r)::HUGEINT) FROM (SELECT {columns} FROM rejects) AS r"


def digest(db: Path, *, content_only: bool = False) -> dict[str, Any]:
    """Events and rejects as (count, order-independent hash), and the ingest counters."""
    # Runs in other directories are compared by file name.
    name = "REPLACE (parse_filename(source) AS source)"
    events = "* EXCLUDE (source, line, stream)" if content_only else f"* {name}"
    rejects = "reason, raw" if content_only else f"* EXCLUDE (ingested_at) {name}"
    return {
        "events": query(db, EVENTS.format(columns=events))[0],
        "rejects": query(db, REJECTS.format(columns=rejects))[0],
        "counters": query(db, "SELECT name, label, value FROM counters ORDER BY ALL"),
    }


def run_killed_when(
    cmd: list[str], wal: Path, kill: Callable[[int | None], bool], jitter: float = 0.0
) -> int:
    """Run cmd, passing the size of the store's write-ahead log (None while there is none) to
    `kill` every 2 ms; SIGKILL the run `jitter` seconds after `kill` says so. Returns the exit
    status, once checked: a clean end or the kill, and no traceback."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        while proc.poll() is None:
            try:
                size: int | None = wal.stat().st_size
            except FileNotFoundError:  # not yet, or folded into the store already
                size = None
            if kill(size):
                time.sleep(jitter)
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        status = proc.wait()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    assert status in (0, -signal.SIGKILL), stderr
    assert "Traceback" not in stderr, stderr
    return status


def run_until(
    cmd: list[str], db: Path, threshold: float, jitter: float = 0.0, seconds: float = 1e9
) -> tuple[int, int]:
    """Run cmd; SIGKILL it once the store's write-ahead log reaches `threshold` bytes (plus
    `jitter` seconds), or after `seconds`. Returns (exit status, the largest WAL seen).

    The WAL grows by each commit and is folded into the store file when the run ends, so its
    size measures how far the run has got."""
    peak = 0
    deadline = time.monotonic() + seconds

    def kill(size: int | None) -> bool:
        nonlocal peak
        peak = max(peak, size or 0)
        return (size or 0) >= threshold or time.monotonic() >= deadline

    status = run_killed_when(cmd, db.with_name(db.name + ".wal"), kill, jitter)
    return status, peak


def events_in(db: Path) -> int:
    """Events stored; a run killed before its first migration committed stored none."""
    if not db.exists():
        return 0
    tables = query(db, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'events'")
    return query(db, "SELECT count(*) FROM events")[0][0] if tables[0][0] else 0


def ingest_cmd(db: Path, config: Path, logs: Path) -> list[str]:
    return [sys.executable, "-c", EVERY_BLOCK_COMMITS, "--db", str(db), "--config", str(config),
            "ingest", "-q", str(logs)]  # fmt: skip


# -- what happens to the files between a killed run and its rerun --------------------------------


def _shift_rotations(logs: Path) -> None:
    """app.log.N.gz → app.log.N+1.gz, oldest first, as logrotate does."""
    for n in sorted((int(p.name.split(".")[2]) for p in logs.glob("api.log.*.gz")), reverse=True):
        (logs / f"api.log.{n}.gz").rename(logs / f"api.log.{n + 1}.gz")


def rerun_as_is(logs: Path, extra: bytes) -> None:
    """Nothing changes: the rerun sees what the killed run saw."""


def appended(logs: Path, extra: bytes) -> None:
    append(logs / "api.log", extra)


def renamed(logs: Path, extra: bytes) -> None:
    """Rename rotation: api.log becomes api.log.1, a new api.log starts."""
    _shift_rotations(logs)
    (logs / "api.log").rename(logs / "api.log.1")
    write(logs / "api.log", extra)


def compressed(logs: Path, extra: bytes) -> None:
    """Rotation with compression: api.log becomes api.log.1.gz (a new inode, other bytes)."""
    _shift_rotations(logs)
    write(logs / "api.log.1.gz", (logs / "api.log").read_bytes())
    (logs / "api.log").unlink()
    write(logs / "api.log", extra)


def copytruncated(logs: Path, extra: bytes) -> None:
    """copytruncate: a copy keeps the content, the original is truncated and written on."""
    _shift_rotations(logs)
    shutil.copyfile(logs / "api.log", logs / "api.log.1")
    os.truncate(logs / "api.log", 0)
    append(logs / "api.log", extra)


CHANGES: list[Callable[[Path, bytes], None]] = [
    rerun_as_is, appended, renamed, compressed, copytruncated,
]  # fmt: skip


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Logs for the kill tests (three services, a gzip rotation, 1 % malformed lines), the
    lines written after a kill, and the uninterrupted runs they are compared with."""
    base = tmp_path_factory.mktemp("corpus")
    logs = base / "logs"
    generate(logs, lines=1_500, seed=3, files=3, malformed=0.01)
    (old,) = generate(base / "old", lines=400, seed=4, files=1, malformed=0.01)
    write(logs / "api.log.1.gz", old.read_bytes())
    (later,) = generate(base / "later", lines=300, seed=5, files=1, malformed=0.01)
    config = base / "logkit.toml"
    config.write_text(CONFIG)

    clean = base / "clean.duckdb"
    started = time.monotonic()
    _, peak = run_until(ingest_cmd(clean, config, logs), clean, threshold=float("inf"))
    took = time.monotonic() - started
    grown = base / "grown"
    shutil.copytree(logs, grown / "logs")
    appended(grown / "logs", later.read_bytes())
    grown_db = grown / "s.duckdb"
    logkit.open(grown_db, config_path=config).ingest([str(grown / "logs")])
    return {
        "logs": logs,
        "config": config,
        "later": later.read_bytes(),
        "peak": peak,
        "seconds": took,
        "clean": digest(clean),
        "grown": digest(grown_db, content_only=True),
        "total": events_in(clean),
    }


class TestSigkill:
    @pytest.mark.parametrize("kill", range(KILLS))
    def test_ingest_killed_at_a_random_moment_then_rerun_equals_an_uninterrupted_run(
        self, corpus, tmp_path, kill
    ):
        """Killed at some point of the run (the 20 cases cover it evenly: the even ones by
        how much it has written, right after a commit, the odd ones by time, often inside
        one), the files then changed (nothing, an append, a rename, a compressing or a
        copytruncate rotation), a rerun leaves what uninterrupted runs leave."""
        rng = random.Random(SEED + kill)
        change = CHANGES[kill % len(CHANGES)]
        fraction = (kill + rng.random()) / KILLS
        logs = tmp_path / "logs"
        shutil.copytree(corpus["logs"], logs)
        db = tmp_path / "s.duckdb"
        by_size = kill % 2 == 0
        status, _ = run_until(
            ingest_cmd(db, corpus["config"], logs),
            db,
            threshold=fraction * corpus["peak"] if by_size else float("inf"),
            jitter=rng.random() * 0.02,
            seconds=1e9 if by_size else fraction * corpus["seconds"],
        )
        stored = events_in(db)
        change(logs, corpus["later"])
        summary = logkit.open(db, config_path=corpus["config"]).ingest([str(logs)])
        expected = corpus["clean"] if change is rerun_as_is else corpus["grown"]
        actual = digest(db, content_only=change is not rerun_as_is)
        where = (
            f"LOGKIT_FAULT_SEED={SEED}: killed at {fraction:.2f} of the run's"
            f" {'writes' if by_size else 'time'} (exit {status},"
            f" {stored} events stored), then {change.__name__}"
        )
        assert ([], expected) == (summary.errors, actual), where

    def test_killed_export_leaves_the_old_or_the_new_file_and_no_counter_decreases(
        self, corpus, tmp_path
    ):
        """6 rounds of: new lines, `logkit export --ingest` killed at a random moment while the
        .prom file is read over and over, then a complete export. Every version of the file
        read is whole, and no counter is ever lower than in the one before."""
        rng = random.Random(SEED + 1)
        logs = tmp_path / "logs"
        shutil.copytree(corpus["logs"], logs)
        db, prom = tmp_path / "s.duckdb", tmp_path / "logkit.prom"
        store = logkit.open(db, config_path=corpus["config"])
        baseline = counters_of(parse(store.export(prom, ingest=[str(logs)]).text))
        last_family = prom.read_text().splitlines()[-1].split()[0]
        export = [*LOGKIT, "--db", str(db), "--config", str(corpus["config"]), "export",
                  "--ingest", str(logs), "--textfile", str(prom)]  # fmt: skip
        pieces = corpus["later"].splitlines(keepends=True)
        per = len(pieces) // 8
        seen: list[str] = []
        problems: list[str] = []
        took = 0.0
        for round_ in range(6):
            append(logs / "api.log", b"".join(pieces[round_ * per : (round_ + 1) * per]))
            if round_ == 3:
                renamed(logs, b"".join(pieces[6 * per :]))
            reader = _Reader(prom, baseline, last_family)
            reader.start()
            started = time.monotonic()
            if round_ == 0:  # uninterrupted: how long an export takes here
                status, _ = run_until(export, db, threshold=float("inf"))
                took = time.monotonic() - started
            else:
                # Most of a run is start-up; the writes come in its second half.
                moment = (0.3 + rng.random() * 0.8) * took
                status = _kill_after(export, moment)
            reader.stop()
            seen.extend(reader.texts)
            problems.extend(f"round {round_} (exit {status}): {p}" for p in reader.problems)
            current = counters_of(parse(store.export(prom, ingest=[str(logs)]).text))
            problems.extend(f"round {round_}: {k} went down" for k in decreased(baseline, current))
            baseline = current
        assert [] == problems, f"LOGKIT_FAULT_SEED={SEED}"
        assert len(seen) >= 6
        clean = logkit.open(tmp_path / "clean" / "s.duckdb")
        assert baseline == counters_of(parse(clean.export(ingest=[str(logs)]).text))


class TestCopytruncateDuringRuns:
    """logrotate's copytruncate runs whenever cron says, also while logkit is reading."""

    MAX_ROUNDS = 2 * KILLS
    # web.log sorts after api.log, so it is opened with the run and read after api.log: a
    # rotation in a run's first part lands between its opening and its reading.
    FILES = ("api.log", "web.log")
    LINES = 600  # per file per round: ~85 KB, three blocks of 32 KB, each its own commit

    @staticmethod
    def _copytruncate(logs: Path, name: str, new: bytes) -> None:
        """web.log.N → web.log.N+1, web.log copied to web.log.1, truncated, written on."""
        rotated = sorted(logs.glob(f"{name}.*"), key=lambda p: int(p.suffix[1:]), reverse=True)
        for path in rotated:
            path.rename(logs / f"{name}.{int(path.suffix[1:]) + 1}")
        shutil.copyfile(logs / name, logs / f"{name}.1")
        os.truncate(logs / name, 0)
        append(logs / name, new)

    @staticmethod
    def _round(
        cmd: list[str], wal: Path, rotate: Callable[[], None], *, rotate_after: float,
        kill_after: float, jitter: float,
    ) -> tuple[int, int]:  # fmt: skip
        """Run `cmd`; rotate once it has written `rotate_after` bytes to the store's write-ahead
        log, and SIGKILL it once `kill_after` (`jitter` seconds after: inside a transaction or not).
        Both wait for its first commit, when every input is open. Returns the exit status and
        how much the run wrote to the log (which a killed run leaves for the next to replay:
        what is there when a run starts is not its own)."""
        rotated = False
        start = wal.stat().st_size if wal.exists() else 0
        wrote = 0

        def kill(size: int | None) -> bool:
            nonlocal rotated, wrote
            if size is not None:  # (none: folded into the store at the end)
                wrote = max(wrote, size - start)
            if wrote > 0 and not rotated and wrote >= rotate_after:
                rotate()
                rotated = True
            return wrote > 0 and wrote >= kill_after

        status = run_killed_when(cmd, wal, kill, jitter)
        if not rotated:
            rotate()  # the run ended first: rotated between runs
        return status, wrote

    def test_copytruncate_during_runs_killed_at_random_equals_one_clean_run(self, tmp_path):
        """Rounds of: lines appended to api.log and web.log, then a run during which web.log
        is copytruncated (its old content copied to web.log.1, older copies shifted, new lines
        written to it) and which is SIGKILLed at a random point of its work, until 20 runs
        have been killed. After one last run the store holds every line once, as one run over
        the final files does: compared by content (the multiset of events and of rejects,
        without file names, line numbers and streams, which depend on when a line was read)."""
        rng = random.Random(SEED + 3)
        logs, db = tmp_path / "logs", tmp_path / "s.duckdb"
        config = write(tmp_path / "logkit.toml", CONFIG.encode())
        cmd = ingest_cmd(db, config, logs)
        wal = db.with_name(db.name + ".wal")
        written = 0

        def batch(service: str) -> bytes:
            nonlocal written
            written += self.LINES + 1
            first = written - self.LINES - 1
            return lines(first, first + self.LINES, service=service) + b"not json\n"

        def unread() -> int:
            stored = "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM rejects)"
            return written - (query(db, stored)[0][0] if db.exists() else 0)

        for name in self.FILES:
            write(logs / name, b"")
        per_line = 0.0  # log bytes written per line stored, from the first (whole) run
        kills = rounds = 0
        while kills < KILLS and rounds < self.MAX_ROUNDS:
            rounds += 1
            for name in self.FILES:
                append(logs / name, batch(name.split(".")[0]))
            rotate = lambda: self._copytruncate(logs, "web.log", batch("web"))  # noqa: E731
            # The run's work: what is not stored yet, and the lines the rotation adds.
            work = (unread() + self.LINES) * per_line
            kill_after = (0.05 + 0.9 * rng.random()) * work if per_line else float("inf")
            status, wrote = self._round(
                cmd, wal, rotate, rotate_after=rng.random() * work, kill_after=kill_after,
                jitter=rng.random() * 0.01,
            )  # fmt: skip
            kills += status == -signal.SIGKILL
            per_line = per_line or wrote / (written - unread())
        assert kills >= KILLS, f"LOGKIT_FAULT_SEED={SEED}: {kills} kills in {rounds} rounds"
        summary = logkit.open(db, config_path=config).ingest([str(logs)])
        clean = tmp_path / "clean.duckdb"
        logkit.open(clean, config_path=config).ingest([str(logs)])
        assert ([], digest(clean, content_only=True)) == (
            summary.errors,
            digest(db, content_only=True),
        ), f"LOGKIT_FAULT_SEED={SEED}: {kills} kills in {rounds} rounds"


def _kill_after(cmd: list[str], seconds: float) -> int:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    _, stderr = proc.communicate()
    assert b"Traceback" not in stderr, stderr.decode()
    return proc.returncode


class _Reader(threading.Thread):
    """Reads the .prom file as fast as it can, as node_exporter might, and checks each version."""

    def __init__(self, prom: Path, baseline: dict[str, float], last_family: str) -> None:
        super().__init__(daemon=True)
        self.prom, self.baseline, self.last_family = prom, baseline, last_family
        self.texts: list[str] = []
        self.problems: list[str] = []
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.001):
            text = self.prom.read_text()
            if self.texts and text == self.texts[-1]:
                continue
            self.texts.append(text)
            last = text.splitlines()[-1] if text.endswith("\n") else "<no final newline>"
            if not last.startswith(self.last_family + " "):
                self.problems.append(f"an incomplete file, ending {text[-80:]!r}")
                continue
            self.problems.extend(f"{k} went down" for k in decreased(self.baseline, parse(text)))

    def stop(self) -> None:
        self._done.set()
        self.join()


# -- overlapping runs ---------------------------------------------------------------------------


def _hold(db: Path, how: str) -> subprocess.Popen[bytes]:
    """A process holding the store (as writer or reader) until killed."""
    code = (
        "import logkit, sys, time\n"
        f"store = logkit.open({str(db)!r})\n"
        f"hold = store.{how}()\n"  # referenced, or collecting it would let go of the store
        "held = hold.__enter__()\n"
        + ("held.con.execute('SELECT 1')\n" if how == "writer" else "")
        + "print('held', flush=True)\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None and b"held\n" == proc.stdout.readline()
    return proc


class TestOverlappingRuns:
    def test_a_writer_killed_with_sigkill_releases_the_store(self, tmp_path):
        """While it lives the next run is refused with its pid; once killed, the next run
        proceeds at once, without --wait."""
        db = tmp_path / "s.duckdb"
        log = write(tmp_path / "a.log", lines(0, 10))
        run_logkit("ingest", str(log), db=db)
        holder = _hold(db, "writer")
        refused = run_logkit("ingest", str(log), db=db, check=False)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert (1, f"pid {holder.pid}") == (
            refused.returncode,
            refused.stderr.decode().split("(")[1].split(")")[0],
        )
        append(log, lines(10, 15))
        assert 0 == run_logkit("ingest", str(log), db=db).returncode
        assert 15 == events_in(db)

    def test_a_reader_killed_with_sigkill_lets_the_waiting_writer_through(self, tmp_path):
        """The writer waits for a reader rather than failing, and goes on when the reader dies."""
        db = tmp_path / "s.duckdb"
        log = write(tmp_path / "a.log", lines(0, 10))
        run_logkit("ingest", str(log), db=db)
        reader = _hold(db, "reader")
        append(log, lines(10, 20))
        writer = subprocess.Popen([*LOGKIT, "--db", str(db), "ingest", "-q", str(log)],
                                  stderr=subprocess.PIPE)  # fmt: skip
        time.sleep(1.0)
        waited = writer.poll() is None
        reader.send_signal(signal.SIGKILL)
        reader.wait()
        _, stderr = writer.communicate(timeout=60)
        assert (True, 0, b"") == (waited, writer.returncode, stderr)
        assert 20 == events_in(db)

    def test_50_cron_runs_with_rotations_and_a_kill_end_with_a_clean_runs_totals(self, tmp_path):
        """Every minute: lines appended, now and then a rotation (rename, then compress), one
        run killed; each export's counters are at least the last one's, and the last export
        equals one clean export over all the files."""
        rng = random.Random(SEED + 2)
        logs, db, prom = tmp_path / "logs", tmp_path / "s.duckdb", tmp_path / "logkit.prom"
        write(logs / "api.log", b"")
        write(logs / "worker.log", b"")
        previous: dict[str, float] = {}
        problems = []
        kill_at = rng.randrange(10, 45)
        n = bad = 0
        for minute in range(50):
            batch = rng.randrange(5, 60)
            append(logs / "api.log", lines(n, n + batch, service="api"))
            append(logs / "worker.log", lines(n + batch, n + batch + 5, service="worker",
                                               level="error", error_type="Deadlock"))  # fmt: skip
            if minute % 7 == 3:
                append(logs / "api.log", b"not json at all\n")
                bad += 1
            n += batch + 5
            if minute % 10 == 9:  # logrotate, delaycompress: .1 is compressed a day later
                if (logs / "api.log.1").exists():
                    _shift_rotations(logs)
                    write(logs / "api.log.2.gz", (logs / "api.log.1").read_bytes())
                    (logs / "api.log.1").unlink()
                (logs / "api.log").rename(logs / "api.log.1")
                write(logs / "api.log", b"")
            if minute == kill_at:
                cmd = [*LOGKIT, "--db", str(db), "export", "--ingest", str(logs),
                       "--textfile", str(prom)]  # fmt: skip
                _kill_after(cmd, rng.random() * 1.5)
                continue
            current = counters_of(parse(logkit.open(db).export(prom, ingest=[str(logs)]).text))
            problems.extend(f"minute {minute}: {k} went down" for k in decreased(previous, current))
            previous = current
        clean = logkit.open(tmp_path / "clean.duckdb").export(ingest=[str(logs)])
        assert [] == problems, f"LOGKIT_FAULT_SEED={SEED}"
        assert counters_of(parse(clean.text)) == previous
        assert n + bad == previous["logkit_ingest_lines_total"]


# -- rotation while a run is starting -------------------------------------------------------


class TestRotationRaces:
    def _checkpoints(self, db: Path) -> list[Checkpoint]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return load_checkpoints(con)
        finally:
            con.close()

    @pytest.mark.parametrize("fate", ["rotated", "deleted"])
    def test_a_file_whose_name_goes_after_it_was_opened_keeps_its_checkpoint(self, tmp_path, fate):
        """The tail fingerprint is read from the open file, not from whatever now has its name
        (a new file after a rotation, or nothing)."""
        log = write(tmp_path / "app.log", lines(0, 50))
        logkit.open(tmp_path / "s.duckdb").ingest([str(log)])
        (checkpoint,) = self._checkpoints(tmp_path / "s.duckdb")
        source = src.Source(str(log))
        if fate == "rotated":
            log.rename(tmp_path / "app.log.1")
            write(log, lines(50, 60))
        else:
            log.unlink()
        try:
            assert {0: checkpoint} == rotation.assign_checkpoints([source], [checkpoint])
        finally:
            source.close()

    @staticmethod
    def _during(
        store: logkit.Store, inputs: list[str], after_lines: int, action: Callable[[], None]
    ) -> Any:
        """Ingest `inputs`, doing `action` once the run has read `after_lines` lines."""
        done = False

        def progress(_bytes: int, lines_read: int, _total: int | None) -> None:
            nonlocal done
            if not done and lines_read >= after_lines:
                done = True
                action()

        summary = store.ingest(inputs, progress=progress)
        assert done
        return summary

    @classmethod
    def _copytruncate_during(
        cls, store: logkit.Store, inputs: list[str], log: Path, new: bytes, after_lines: int
    ) -> Any:
        """`log` (opened by the run already) copied to `log`.1, truncated and written on with
        `new` once the run has read `after_lines` lines."""

        def rotate() -> None:
            shutil.copyfile(log, log.with_name(log.name + ".1"))
            os.truncate(log, 0)
            append(log, new)

        return cls._during(store, inputs, after_lines, rotate)

    @pytest.mark.parametrize("before", ["new", "resumed"])
    @pytest.mark.parametrize("during", ["another_file", "this_file"])
    def test_a_copytruncate_while_a_run_is_active_stores_each_line_once(
        self, tmp_path, before, during
    ):
        """b.log is opened with the run, then copied to b.log.1, truncated and written on
        while the run reads a.log, or b.log itself. The run reads none of b.log's new bytes as
        if they were the old ones (the read-ahead of the old head, then new bytes from its
        offset on, one line spliced); the next run finds the rest of the old content in the
        copy and the new from the start: every line once, no reject."""
        logs = tmp_path / "logs"
        config = write(tmp_path / "logkit.toml", b"[ingest]\nbatch_bytes = 4096\n")
        store = logkit.open(tmp_path / "s.duckdb", config_path=config)
        write(logs / "a.log", lines(0, 300, service="a"))
        log = write(logs / "b.log", lines(1000, 1100, service="b"))
        if before == "resumed":
            store.ingest([str(log)])
        # Longer than the core reads ahead of what is stored (CORE_AHEAD blocks of 4 KB), so
        # that b.log is still being read when it is rotated 40 lines in.
        append(log, lines(1100, 1900, service="b"))
        new = lines(2000, 3200, service="b")  # longer than the old content: read past it
        after = 1 if during == "another_file" else 300 + 40
        summary = self._copytruncate_during(store, [str(logs / "a.log"), str(log)], log, new, after)
        assert ["changed"] == [s.status for s in summary.sources if s.path == str(log)]
        store.ingest([str(logs)])
        numbers = [*range(300), *range(1000, 1900), *range(2000, 3200)]
        assert (sorted(f"request {n} done" for n in numbers), []) == (
            sorted(m for (m,) in query(store.path, "SELECT message FROM events")),
            query(store.path, "SELECT reason, raw FROM rejects"),
        )

    @pytest.mark.parametrize("during", ["another_file", "this_file"])
    def test_a_file_appended_to_while_a_run_is_active_is_not_taken_for_changed(
        self, tmp_path, during
    ):
        """The checks against truncation let a file grow: b.log, one short line when opened
        (a head shorter than a KiB), is written on while the run reads a.log or b.log itself;
        the run reads it as 'new', and with the next run every line is stored once."""
        logs = tmp_path / "logs"
        config = write(tmp_path / "logkit.toml", b"[ingest]\nbatch_bytes = 4096\n")
        store = logkit.open(tmp_path / "s.duckdb", config_path=config)
        write(logs / "a.log", lines(0, 300, service="a"))
        log = write(logs / "b.log", lines(1000, 1001, service="b"))
        if during == "this_file":
            append(log, lines(1001, 1100, service="b"))
        after = 1 if during == "another_file" else 300 + 40
        grow = lambda: append(log, lines(2000, 2300, service="b"))  # noqa: E731
        summary = self._during(store, [str(logs / "a.log"), str(log)], after, grow)
        assert ["new"] == [s.status for s in summary.sources if s.path == str(log)]
        store.ingest([str(logs)])
        numbers = [*range(300), *range(1000, 1001 if during == "another_file" else 1100)]
        numbers += range(2000, 2300)
        assert sorted(f"request {n} done" for n in numbers) == sorted(
            m for (m,) in query(store.path, "SELECT message FROM events")
        )

    def test_a_compressed_copy_beside_its_original_adds_nothing(self, tmp_path):
        """app.log.1 was read; app.log.2.gz, the same lines, appears before app.log.1 goes
        (logrotate's compress step); then app.log.1 goes."""
        logs = tmp_path / "logs"
        write(logs / "app.log.1", lines(0, 100))
        store = logkit.open(tmp_path / "s.duckdb")
        store.ingest([str(logs)])
        write(logs / "app.log.2.gz", (logs / "app.log.1").read_bytes())
        summary = store.ingest([str(logs)])
        assert (0, ["copy"]) == (
            summary.events,
            [s.status for s in summary.sources if s.path.endswith(".gz")],
        )
        (logs / "app.log.1").unlink()
        assert 0 == store.ingest([str(logs)]).events
        stored = "SELECT count(*), count(DISTINCT line) FROM events"
        assert [(100, 100)] == query(store.path, stored)

    def test_a_copy_made_while_the_original_grows_adds_what_is_new_once(self, tmp_path):
        """Compressed mid-read: the copy's lines come from the original, read to its end."""
        logs = tmp_path / "logs"
        write(logs / "app.log", lines(0, 50))
        store = logkit.open(tmp_path / "s.duckdb")
        store.ingest([str(logs)])
        append(logs / "app.log", lines(50, 80))
        write(logs / "app.log.1.gz", (logs / "app.log").read_bytes())
        assert 30 == store.ingest([str(logs)]).events
        assert [(80, 80)] == query(store.path, "SELECT count(*), count(DISTINCT line) FROM events")

    def test_a_compressed_file_that_only_begins_like_a_read_one_is_read(self, tmp_path):
        """Same first lines, then its own: not a copy, so every line of it is stored."""
        logs = tmp_path / "logs"
        write(logs / "app.log.1", lines(0, 100))
        store = logkit.open(tmp_path / "s.duckdb")
        store.ingest([str(logs)])
        write(logs / "other.log.gz", lines(0, 100) + lines(500, 520))
        assert 120 == store.ingest([str(logs)]).events


# -- a full disk, a read-only store ---------------------------------------------------------------


def _mount(target: Path, options: str) -> None:
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True, text=True)  # fmt: skip
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {proc.stderr.strip()}")


def _remount(target: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(target)], check=True)


def _fill(path: Path) -> None:
    """Write zeros to `path` until its file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 65536):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB file system of its own, unmounted after the test whatever happens."""
    target = tmp_path / "tmpfs"
    target.mkdir()
    _mount(target, "size=4m,mode=0755")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


@pytest.fixture(scope="module")
def big_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 6 MB of logs: more than a 4 MB file system can take once stored."""
    logs = tmp_path_factory.mktemp("big") / "logs"
    generate(logs, lines=16_000, seed=7, files=2, malformed=0.005)
    return logs


class TestDiskFull:
    def test_a_full_disk_is_a_clear_error_and_a_rerun_with_space_completes(
        self, tmpfs, big_logs, tmp_path
    ):
        db = tmpfs / "s.duckdb"
        full = run_logkit("ingest", "-q", str(big_logs), db=db, check=False)
        assert 1 == full.returncode
        assert re.fullmatch(
            rf"Error: cannot write {re.escape(str(db))}: disk full \([0-9.]+ MB free\);"
            r" free some space and rerun\n",
            full.stderr.decode(),
        )
        still_full = run_logkit("sql", "SELECT count(*) AS n FROM events", db=db, check=False)
        assert 0 == still_full.returncode, still_full.stderr
        _remount(tmpfs, "size=256m")
        run_logkit("ingest", "-q", str(big_logs), db=db)
        clean = tmp_path / "clean.duckdb"
        run_logkit("ingest", "-q", str(big_logs), db=clean)
        assert digest(clean) == digest(db)

    def test_a_transaction_spilled_to_a_full_disk_says_the_disk_is_full(self, tmpfs, tmp_path):
        """DuckDB spills a large transaction to a temporary file beside the store, capped by
        the free space: the full disk comes back as "failed to offload data block"."""
        generate(tmp_path / "logs", lines=100_000, seed=3, files=1)
        db = tmpfs / "s.duckdb"
        full = run_logkit("ingest", "-q", str(tmp_path / "logs"), db=db, check=False)
        assert 1 == full.returncode
        assert full.stderr.decode().startswith(f"Error: cannot write {db}: disk full (")

    def test_export_to_a_full_disk_keeps_the_old_textfile(self, tmpfs, tmp_path):
        """No new file can be written: the old one stays whole, no temp file is left over."""
        db, prom = tmp_path / "s.duckdb", tmpfs / "logkit.prom"
        log = write(tmp_path / "a.log", lines(0, 20))
        run_logkit("export", "--ingest", str(log), "--textfile", str(prom), db=db)
        old = prom.read_text()
        _fill(tmpfs / "filler")
        append(log, lines(20, 30))
        failed = run_logkit("export", "--ingest", str(log), "--textfile", str(prom), db=db,
                            check=False)  # fmt: skip
        assert (1, f"Error: cannot write {prom}: No space left on device\n", old) == (
            failed.returncode,
            failed.stderr.decode(),
            prom.read_text(),
        )
        assert ["filler", "logkit.prom"] == sorted(p.name for p in tmpfs.iterdir())
        (tmpfs / "filler").unlink()
        run_logkit("export", "--ingest", str(log), "--textfile", str(prom), db=db)
        assert 30 == parse(prom.read_text())["logkit_ingest_lines_total"]


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@contextlib.contextmanager
def run_as_nobody() -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """Runs `logkit ARGS` as user nobody, whom the clone, its venv or the Python they were
    made with may shut out (a clone in `mktemp -d`'s 0700 directory, a pyenv under /root):
    the interpreter's installation and every directory on `sys.path` are bind-mounted,
    read-only, in a world-readable directory of their own and the run is pointed there.
    Cleaned up with umount and rmdir only, so nothing behind a mount is ever deleted."""
    view = Path(tempfile.mkdtemp(prefix="logkit-view-", dir="/tmp"))
    view.chmod(0o755)
    base = Path(sys.base_prefix)
    sources = [base] + [Path(p) for p in sys.path if p and Path(p).is_dir()]
    targets: list[Path] = []
    try:
        for n, source in enumerate(dict.fromkeys(sources)):
            target = view / f"m{n}"
            target.mkdir()
            targets.append(target)
            proc = subprocess.run(["mount", "--bind", "-o", "ro", str(source), str(target)],
                                  capture_output=True, text=True)  # fmt: skip
            if proc.returncode != 0:
                pytest.skip(f"cannot bind-mount {source} for user nobody: {proc.stderr.strip()}")
        python = targets[0] / Path(os.path.realpath(sys.executable)).relative_to(base)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(t) for t in targets[1:]),
               "LD_LIBRARY_PATH": str(targets[0] / "lib"), "PYTHONNOUSERSITE": "1"}  # fmt: skip

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*NOBODY, str(python), "-m", "logkit", *args],
                                  capture_output=True, text=True, env=env)  # fmt: skip

        yield run
    finally:
        for target in reversed(targets):
            subprocess.run(["umount", str(target)], capture_output=True, check=False)
            with contextlib.suppress(OSError):
                target.rmdir()
        with contextlib.suppress(OSError):
            view.rmdir()


class TestReadOnly:
    def test_a_read_only_file_system_is_a_clear_error_queries_answer_and_a_rerun_completes(
        self, tmpfs, tmp_path
    ):
        db = tmpfs / "s.duckdb"
        log = write(tmp_path / "a.log", lines(0, 10, level="error", error_type="Boom"))
        run_logkit("ingest", str(log), db=db)
        append(log, lines(10, 20))
        _remount(tmpfs, "ro")
        message = f"Error: cannot write {db}: Read-only file system\n"
        ingest = run_logkit("ingest", str(log), db=db, check=False)
        export = run_logkit("export", "--textfile", str(tmp_path / "m.prom"), db=db, check=False)
        errors = run_logkit("errors", "--format", "ndjson", db=db, check=False)
        assert [(1, message), (1, message), (0, "")] == [
            (p.returncode, p.stderr.decode()) for p in (ingest, export, errors)
        ]
        assert b'"count":10' in errors.stdout
        _remount(tmpfs, "rw")
        run_logkit("ingest", str(log), db=db)
        assert 20 == events_in(db)

    @pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
    def test_a_store_its_user_cannot_write_is_a_clear_error(self, tmp_path):
        """chmod 0400 and a read-only directory, for a user other than root (root may write
        anyway): a clear error; queries still answer."""
        top = Path(tempfile.mkdtemp(prefix="logkit-ro-", dir="/tmp"))
        try:
            top.chmod(0o755)
            db = top / "s.duckdb"
            log = write(top / "a.log", lines(0, 10))
            log.chmod(0o644)
            run_logkit("ingest", str(log), db=db)
            for path in top.iterdir():
                os.chown(path, 65534, 65534)
            db.chmod(0o400)
            top.chmod(0o555)
            with run_as_nobody() as as_nobody:
                ingest = as_nobody("--db", str(db), "ingest", str(log))
                count = as_nobody("--db", str(db), "sql", "SELECT count(*) AS n FROM events")
            denied = (
                f'Error: cannot write {db}: IO Error: Cannot open file "{db}": Permission denied\n'
            )
            assert (1, denied) == (
                ingest.returncode,
                ingest.stderr,
            )
            assert (0, '{"n":10}\n') == (count.returncode, count.stdout)
        finally:
            top.chmod(0o755)
            shutil.rmtree(top)


# -- store versions -------------------------------------------------------------------------------


def _old_store(path: Path, version: int, donor: Path) -> None:
    """A store as a logkit with only MIGRATIONS[:version] wrote it, holding the donor's rows in
    every table that existed then (columns that existed then)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE logkit_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        for number, migration in enumerate(MIGRATIONS[:version], 1):
            migration(con)
            con.execute("INSERT OR REPLACE INTO logkit_meta VALUES ('schema_version', $v)",
                        {"v": number})  # fmt: skip
        con.execute(f"ATTACH '{donor}' AS donor (READ_ONLY)")
        tables = con.execute(
            "SELECT table_name, list(column_name ORDER BY ordinal_position)"
            " FROM information_schema.columns WHERE table_catalog = current_database()"
            " AND table_name <> 'logkit_meta' GROUP BY ALL"
        ).fetchall()
        for table, columns in tables:
            names = ", ".join(f'"{c}"' for c in columns)
            con.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM donor.{table}")
        con.execute("DETACH donor")
    finally:
        con.close()


def _version(db: Path) -> int:
    return int(query(db, "SELECT value FROM logkit_meta WHERE key = 'schema_version'")[0][0])


@pytest.fixture(scope="module")
def donor(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A log, and a store that read it with this logkit (rows for the old stores to hold)."""
    base = tmp_path_factory.mktemp("donor")
    log = write(base / "app.log", lines(0, 40, level="error", error_type="Boom"))
    logkit.open(base / "donor.duckdb").export(ingest=[str(log)])
    return log, base / "donor.duckdb"


OLD_VERSIONS = range(1, len(MIGRATIONS))


class TestStoreVersions:
    @pytest.mark.parametrize("version", OLD_VERSIONS)
    def test_an_old_store_is_migrated_by_the_next_run_and_keeps_its_checkpoints(
        self, donor, tmp_path, version
    ):
        """Its rows answer, its checkpoints hold (only the appended lines are read), and
        export works on it."""
        log, donor_db = donor
        db = tmp_path / "old.duckdb"
        _old_store(db, version, donor_db)
        copy = write(tmp_path / "app.log", log.read_bytes())  # the same file, moved
        append(copy, lines(40, 45, level="error", error_type="Boom"))
        store = logkit.open(db)
        summary = store.ingest([str(copy)])
        assert (len(MIGRATIONS), 5) == (_version(db), summary.events)
        text = store.export().text
        assert 45 == parse(text)['logkit_errors_total{error_type="Boom",service="api"}']

    @pytest.mark.parametrize("version", OLD_VERSIONS)
    def test_an_old_store_answers_a_query_command(self, donor, tmp_path, version):
        """A read-only command upgrades it first (briefly as a writer), then answers."""
        _, donor_db = donor
        db = tmp_path / "old.duckdb"
        _old_store(db, version, donor_db)
        trace = run_logkit("trace", f"{7:032x}", "--format", "ndjson", db=db)
        (event,) = map(json.loads, trace.stdout.splitlines())
        assert ("request 7 done", len(MIGRATIONS)) == (event["message"], _version(db))

    def test_a_new_store_keeps_attrs_in_zstd_and_an_old_one_keeps_its_events(self, donor, tmp_path):
        """m007: a column's compression is fixed when its table is made, so only a store
        without events has its events table made again (same columns, same order)."""
        log, donor_db = donor
        new, old = tmp_path / "new.duckdb", tmp_path / "old.duckdb"
        logkit.open(new).ingest([str(log)])
        _old_store(old, len(MIGRATIONS) - 1, donor_db)
        logkit.open(old).ingest([str(log)])  # migrated; nothing new to read
        ddl = "SELECT sql FROM duckdb_tables() WHERE table_name = 'events'"
        columns = "SELECT list(column_name ORDER BY column_index) FROM duckdb_columns()" \
                  " WHERE table_name = 'events'"  # fmt: skip
        compressed = "SELECT DISTINCT compression FROM pragma_storage_info('events')" \
                     " WHERE column_name = 'attrs' AND segment_type = 'JSON'"  # fmt: skip
        assert "attrs JSON USING COMPRESSION ZSTD" in query(new, ddl)[0][0]
        assert [("ZSTD",)] == query(new, compressed)
        assert "USING COMPRESSION" not in query(old, ddl)[0][0]
        assert query(old, columns) == query(new, columns)
        assert [(40,)] == query(old, "SELECT count(*) FROM events")

    def test_a_store_from_a_newer_logkit_is_refused_and_left_alone(self, donor, tmp_path):
        log, donor_db = donor
        db = tmp_path / "new.duckdb"
        shutil.copyfile(donor_db, db)
        newer = len(MIGRATIONS) + 1
        con = duckdb.connect(str(db))
        con.execute("UPDATE logkit_meta SET value = $v WHERE key = 'schema_version'", {"v": newer})
        con.close()
        before = digest(db)
        message = (
            f"Error: {db} was written by a newer logkit (schema {newer}, this logkit knows"
            f" {len(MIGRATIONS)}); upgrade logkit to read it\n"
        )
        runs = [
            run_logkit("ingest", str(log), db=db, check=False),
            run_logkit("trace", f"{7:032x}", db=db, check=False),
            run_logkit("export", "--stdout", db=db, check=False),
        ]
        assert [(1, message)] * 3 == [(p.returncode, p.stderr.decode()) for p in runs]
        assert (before, newer) == (digest(db), _version(db))

    def test_a_failing_migration_leaves_the_store_at_its_old_version(
        self, donor, tmp_path, monkeypatch
    ):
        """The lacking migrations apply in one transaction: all of them or none."""
        _, donor_db = donor
        db = tmp_path / "old.duckdb"
        _old_store(db, 1, donor_db)

        def broken(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("CREATE TABLE half_done (x INTEGER)")
            raise duckdb.ConversionException("broken migration")

        monkeypatch.setattr("logkit.migrations.MIGRATIONS", [*MIGRATIONS[:-1], broken])
        con = duckdb.connect(str(db))
        try:
            with pytest.raises(duckdb.ConversionException):
                migrate(con, str(db))
        finally:
            con.close()
        tables = {t for (t,) in query(db, "SELECT table_name FROM duckdb_tables()")}
        assert (1, set()) == (_version(db), tables & {"half_done", "metric_values"})


class TestStoreCreation:
    def test_a_store_is_built_under_a_temporary_name_and_renamed_whole(self, tmp_path):
        """A run killed while DuckDB writes a new file's header leaves only a temporary file,
        which the next run removes; the store itself is absent or complete."""
        db = tmp_path / "s.duckdb"
        leftover = tmp_path / ".s.duckdb.creating-4242"
        leftover.write_bytes(b"DUCK" + b"\0" * 100)  # a header cut short
        log = write(tmp_path / "app.log", lines(0, 3))
        assert 3 == logkit.open(db).ingest([str(log)]).events
        assert (len(MIGRATIONS), []) == (
            _version(db),
            sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".s.duckdb")),
        )
        assert 0o600 == db.stat().st_mode & 0o777
