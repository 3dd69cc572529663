"""Log text cannot drive the terminal it is shown on: escape sequences from logs (clear screen, set
title, OSC-8 links, C1 controls, a bare CR) come out as visible, inert escapes on a terminal, in
every format and every command that prints log text, while the same output to a pipe stays
exact. The CLI decides by isatty, so the terminal here is a real pseudo-terminal."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
import tty
from pathlib import Path

import orjson
import pytest

from .helpers import LOGKIT, run_logkit, write

HOSTILE = (
    "\x1b[2J\x1b[H"  # clear the screen, cursor home
    "\x1b]0;owned\x07"  # set the window title
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"  # an OSC-8 link
    "\x9b31m"  # CSI as one C1 character
    "\rover\x7f\x00"  # CR back to the line start, DEL, NUL
)
TRACE = "abc" + HOSTILE
# What must never reach a terminal raw: C0 but tab and newline, DEL, C1. (A CSV line ends in
# CRLF, so a CR before LF is allowed; logkit's own colours in the trace view, SGR sequences, are
# too: HOSTILE holds none.)
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_OWN_STYLE = re.compile("\x1b\\[[0-9;]*m")


def raw_controls(out: bytes) -> list[str]:
    text = _OWN_STYLE.sub("", out.decode("utf-8", "replace").replace("\r\n", "\n"))
    return _RAW_CONTROL.findall(text)


def on_terminal(*args: str, db: Path, env: dict[str, str] | None = None) -> tuple[bytes, bytes]:
    """(stdout, stderr) of logkit run with its stdout on a pseudo-terminal in raw mode, so the
    bytes read are the bytes written. No pager (unless `env` names one): what is checked here
    is what logkit writes, not what less makes of it."""
    master, slave = os.openpty()
    tty.setraw(slave)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [*LOGKIT, "--db", str(db), *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=err,
            env={**os.environ, "LOGKIT_PAGER": "cat", **(env or {})},
        )  # fmt: skip
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: every end of the terminal is closed, the program is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=120)
        os.close(master)
        err.seek(0)
        return b"".join(chunks), err.read()


def hostile_log(path: Path) -> Path:
    return write(
        path,
        b"".join(
            orjson.dumps(
                {
                    "ts": f"2026-11-22T10:00:0{n}Z",
                    "level": "error",
                    "service": "api" + HOSTILE,
                    "msg": "failed " + HOSTILE,
                    "error_type": "Boom" + HOSTILE,
                    "trace_id": TRACE,
                    "user_id": "u1",
                    "duration_ms": 12,
                    "extra": {HOSTILE: HOSTILE},
                }
            )
            + b"\n"
            for n in range(3)
        )
        + b"not json "
        + HOSTILE.encode()
        + b"\n",
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("terminal")
    db = tmp / "s.duckdb"
    run_logkit("ingest", "-q", str(hostile_log(tmp / "app.log")), db=db)
    return db


COMMANDS = {
    **{f"search {fmt}": ["search", "failed", "--format", fmt] for fmt in ("table", "json",
                                                                          "ndjson", "csv")},
    "sql csv": ["sql", "SELECT message, service, attrs FROM events", "--format", "csv"],
    "sql rejects": ["sql", "SELECT raw FROM rejects", "--format", "ndjson"],
    "trace": ["trace", "abc"],
    "trace csv": ["trace", "abc", "--format", "csv"],
    "errors": ["errors", "--by", "fingerprint", "--format", "csv"],
    "user": ["user", "u1", "--format", "json"],
    "stats": ["stats", "--format", "csv"],
    "export": ["export", "--stdout"],
}  # fmt: skip


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_log_text_is_inert_on_a_terminal(store, command):
    out, err = on_terminal(*COMMANDS[command], db=store)
    assert b"" == err
    assert [] == raw_controls(out)
    assert "\\x1b" in out.decode() or "\\u001b" in out.decode()  # shown, not dropped


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_machine_formats_to_a_pipe_stay_exact(store, fmt):
    out = run_logkit("sql", "SELECT message FROM events LIMIT 1", "--format", fmt, db=store).stdout
    if fmt == "csv":
        assert "failed " + HOSTILE in out.decode()
    else:
        assert {"message": "failed " + HOSTILE} in orjson.loads(
            out if fmt == "json" else b"[" + out.rstrip().replace(b"\n", b",") + b"]"
        )


def test_json_on_a_terminal_is_still_the_same_json(store):
    out, _ = on_terminal("sql", "SELECT message FROM events LIMIT 1", "--format", "json", db=store)
    assert [{"message": "failed " + HOSTILE}] == orjson.loads(out)


def test_logkit_mask_is_inert_on_a_terminal_and_exact_to_a_pipe(tmp_path):
    log = hostile_log(tmp_path / "app.log")
    out, _ = on_terminal("mask", str(log), db=tmp_path / "none.duckdb")
    assert [] == raw_controls(out)
    piped = run_logkit("mask", str(log), db=tmp_path / "none.duckdb").stdout
    assert HOSTILE.encode() in piped  # the text line, as it was
    assert orjson.loads(out.splitlines()[0]) == orjson.loads(piped.splitlines()[0])


def test_file_names_in_the_ingest_summary_and_errors_are_inert(tmp_path):
    """A file that cannot be read (a socket), named to retitle the window, beside a log."""
    short = Path(tempfile.mkdtemp(dir="/tmp"))  # a socket's path must be short
    try:
        hostile_log(short / "app.log")
        sock = socket.socket(socket.AF_UNIX)
        unreadable = short / "\x1b]0;owned\x07.log"
        sock.bind(str(unreadable))
        out, err = on_terminal(
            "ingest", str(short / "app.log"), str(unreadable), db=tmp_path / "s.duckdb"
        )
        sock.close()
    finally:
        for p in short.iterdir():
            p.unlink()
        short.rmdir()
    assert "\\x1b]0;owned\\x07.log" in out.decode()  # the summary's error line
    assert b"Error: 1 input(s) could not be read" in err
    assert [] == raw_controls(out) + raw_controls(err)


def test_markdown_report_is_inert_on_a_terminal(store):
    """(logkit/report/render.py escapes every value itself; this keeps it so.)"""
    pytest.importorskip("matplotlib")
    out, _ = on_terminal("report", "--format", "md", db=store)
    assert [] == raw_controls(out)
