"""The catalogue of troublemakers: one file per kind of bad input, through `logkit ingest`.

Every file in `CASES` sits between two good lines (so its neighbours are seen to survive) and
states its outcome: how many events, and which rejects by reason. All of them are ingested by
one real `logkit ingest` of one directory, and each test then reads its own file's rows back.
Value-level promises (what a 10 MB line, deep nesting, huge numbers or NaN become; every
timestamp form) have tests of their own below the table. A file deleted while it is being read
gets its own run.

tests/test_ingest.py checks the same reasons line by line through the Python API; this file
checks them end to end, as a user meets them.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import zstandard

from logkit.sample import generate

from .helpers import LOGKIT, lines, query, run_logkit, write

GOOD_BEFORE = b'{"timestamp": "2026-11-22T10:00:00Z", "level": "info", "msg": "before"}\n'
GOOD_AFTER = b'{"timestamp": "2026-11-22T10:00:01Z", "level": "info", "msg": "after"}\n'
TEN_MB = 10 * 1024 * 1024


def deep(levels: int) -> bytes:
    """A record whose value nests `levels` deep in all (the record itself is level 1)."""
    inner = b"[" * (levels - 1) + b"1" + b"]" * (levels - 1)
    return b'{"msg": "deep", "n": ' + inner + b"}"


@dataclass
class Case:
    """One troublemaker: the lines between the good ones, and what becomes of them."""

    middle: bytes
    events: int  # of the middle lines
    rejects: dict[str, int] = field(default_factory=dict)
    surround: bool = True  # between GOOD_BEFORE and GOOD_AFTER

    def content(self) -> bytes:
        if not self.surround:
            return self.middle
        return GOOD_BEFORE + self.middle + GOOD_AFTER


def _gzip_cut(data: bytes) -> bytes:
    packed = gzip.compress(data)
    return packed[: len(packed) * 2 // 3]


def _zstd_cut(data: bytes) -> bytes:
    packed = zstandard.ZstdCompressor().compress(data)
    return packed[: len(packed) * 2 // 3]


def _zstd(data: bytes) -> bytes:
    """As the zstd command line writes it: with the frame's content checksum."""
    return zstandard.ZstdCompressor(write_checksum=True).compress(data)


def _flip(packed: bytes, at: int) -> bytes:
    """One bit changed at byte `at` (negative: from the end)."""
    damaged = bytearray(packed)
    damaged[at] ^= 0x10
    return bytes(damaged)


CASES: dict[str, Case] = {
    # Lines that cannot be JSON objects: quarantined, the lines around them stored.
    "truncated_json.log": Case(b'{"msg": "cut off", "user": {"id": 4\n', 0, {"invalid_json": 1}),
    "invalid_utf8.log": Case(b'{"msg": "caf\xe9 cr\xe8me"}\n', 0, {"invalid_utf8": 1}),
    "nul_byte.log": Case(b'{"msg": "a\x00b"}\n', 0, {"nul_byte": 1}),
    "non_object.log": Case(b'[1, 2]\n"a string"\n42\ntrue\nnull\n', 0, {"not_object": 5}),
    "plain_text.log": Case(
        b'Traceback (most recent call last):\n  File "app.py", line 1\n', 0, {"not_json": 2}
    ),
    "blank_lines.log": Case(b"\n   \n\t\n", 0, {"blank_line": 3}),
    "nesting_2000_deep.log": Case(deep(2000) + b"\n", 0, {"too_deep": 1}),
    # Odd but valid: stored as events.
    "escaped_nul.log": Case(b'{"msg": "a\\u0000b"}\n', 1),
    "lone_surrogate.log": Case(b'{"msg": "broken \\ud800 string"}\n', 1),
    "bom.log": Case(
        b"\xef\xbb\xbf" + GOOD_BEFORE + b"\xef\xbb\xbf" + GOOD_AFTER, 2, surround=False
    ),
    "crlf.log": Case((GOOD_BEFORE + GOOD_AFTER).replace(b"\n", b"\r\n"), 2, surround=False),
    "duplicate_keys.log": Case(b'{"msg": "first", "msg": "second", "n": 1, "n": 2}\n', 1),
    "big_numbers.log": Case(
        b'{"msg": "big", "n": 123456789012345678901234567890, "neg": -99999999999999999999,'
        b' "status": 99999999999999999999, "duration_ms": 1e400}\n',
        1,
    ),
    "nan_infinity.log": Case(
        b'{"msg": "nan", "a": NaN, "b": Infinity, "c": -Infinity, "duration_ms": NaN}\n', 1
    ),
    "nesting_1000_deep.log": Case(deep(1000) + b"\n", 1),
    "ten_mb_line.log": Case(
        orjson.dumps({"msg": "huge", "blob": "x" * TEN_MB}) + b"\n", 1, surround=False
    ),
    "empty.log": Case(b"", 0, surround=False),
    # A writer caught mid-line: the partial last line waits for the next run (test_ingest.py
    # shows it stored once complete).
    "partial_last_line.log": Case(GOOD_BEFORE + b'{"msg": "half wri', 1, surround=False),
    # A compressed file cut short: what came before the cut is stored, the cut quarantined.
    "cut_short.log.gz": Case(
        _gzip_cut(lines(0, 3000)), -1, {"truncated_stream": 1}, surround=False
    ),
    "cut_short.log.zst": Case(
        _zstd_cut(lines(0, 3000)), -1, {"truncated_stream": 1}, surround=False
    ),
    # A small file cut in its end marker: every line is complete, so every line is stored.
    "cut_by_4.log.gz": Case(gzip.compress(lines(0, 5))[:-4], 5, {"truncated_stream": 1}, False),
    "cut_by_4.log.zst": Case(_zstd(lines(0, 5))[:-4], 5, {"truncated_stream": 1}, False),
    # Whole, then bytes that are not gzip: the whole part is stored, the rest quarantined.
    "garbage_after.log.gz": Case(
        gzip.compress(lines(0, 5)) + b"not gzip", 5, {"corrupt_stream": 1}, False
    ),
    "zero_padded.log.gz": Case(gzip.compress(lines(0, 5)) + bytes(512), 5, surround=False),
    # Corrupt inside: its CRC (checksum) fails, so none of its lines can be trusted.
    "corrupt_middle.log.gz": Case(
        _flip(gzip.compress(lines(0, 3000)), 8000), 0, {"corrupt_stream": 1}, False
    ),
    "corrupt_middle.log.zst": Case(
        _flip(_zstd(lines(0, 3000)), 8000), 0, {"corrupt_stream": 1}, False
    ),
    # Old Mac OS line endings (a bare CR): lines like any others.
    "cr_only.log": Case((GOOD_BEFORE + GOOD_AFTER).replace(b"\n", b"\r"), 2, surround=False),
}
# The inputs the run reports as damaged (exit status 3).
DAMAGED = sorted(
    n for n, c in CASES.items() if {"truncated_stream", "corrupt_stream"} & {*c.rejects}
)

# Each supported form of one moment, 2026-11-22T10:01:02.123456Z, or of its millisecond.
MOMENT_US = 1795341662123456
MOMENT_MS = 1795341662123000
SUPPORTED = {
    "2026-11-22T10:01:02.123456Z": MOMENT_US,
    "2026-11-22T10:01:02.123456+00:00": MOMENT_US,
    "2026-11-22T15:31:02.123456+05:30": MOMENT_US,
    "2026-11-22T05:01:02.123456-0500": MOMENT_US,
    "2026-11-22T10:01:02.123456": MOMENT_US,  # naive: UTC
    "2026-11-22 10:01:02.123456Z": MOMENT_US,
    "2026-11-22T10:01:02.123456789Z": MOMENT_US,  # nanoseconds truncate
    "2026-11-22T10:01:02.123Z": MOMENT_MS,
    "2026-11-22 10:01:02,123": MOMENT_MS,  # Python logging's asctime
    "2026-11-22t10:01:02.123456z": MOMENT_US,
    "2026-11-22 10:01:02.123456 UTC": MOMENT_US,
    1795341662: 1795341662000000,  # epoch seconds
    1795341662.123456: MOMENT_US,
    1795341662123: MOMENT_MS,  # epoch milliseconds (pino)
    1795341662123456: MOMENT_US,  # epoch microseconds
    1795341662123456789: MOMENT_US,  # epoch nanoseconds
    "1795341662123": MOMENT_MS,
    # RFC 2822 / HTTP dates (JavaScript's toUTCString(), Go's RFC1123Z): read since the port.
    "Sun, 22 Nov 2026 10:01:02 +0000": 1795341662000000,
    "Sun, 22 Nov 2026 10:01:02 GMT": 1795341662000000,
    "2026/11/22 10:01:02.123456": MOMENT_US,  # Go's log package; year first only
}
UNSUPPORTED = [
    "22/11/2026 10:01:02",
    "Nov 22 10:01:02",  # syslog: no year
    "Sun, 22 Nov 2026 10:01:02 MST",  # a zone by its abbreviation: ambiguous
    "2026-11-22T25:01:02Z",
    "yesterday",
    "",
]


def _timestamps() -> bytes:
    rows = [{"timestamp": value, "msg": f"supported {i}"} for i, value in enumerate(SUPPORTED)]
    rows += [{"timestamp": value, "msg": f"unsupported {i}"} for i, value in enumerate(UNSUPPORTED)]
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every case file in one directory, read by one `logkit ingest`."""
    base = tmp_path_factory.mktemp("catalogue")
    logs = base / "logs"
    for name, case in CASES.items():
        (logs / name).parent.mkdir(parents=True, exist_ok=True)
        (logs / name).write_bytes(case.content())
    write(logs / "timestamps.log", _timestamps())
    db = base / "catalogue.duckdb"
    proc = run_logkit("ingest", "--format", "json", str(logs), db=db, check=False)
    return {
        "db": db, "logs": logs, "summary": json.loads(proc.stdout), "stderr": proc.stderr,
        "status": proc.returncode,
    }  # fmt: skip


def rows(ingested: dict[str, Any], name: str, sql: str) -> list[tuple[Any, ...]]:
    """`sql` over the events of one case file, which it names `{t}`."""
    source = str(ingested["logs"] / name)
    table = "(SELECT * FROM events WHERE source = $1) AS e"
    return query(ingested["db"], sql.format(t=table), [source])


def messages(ingested: dict[str, Any], name: str) -> list[str]:
    return [m for (m,) in rows(ingested, name, "SELECT message FROM {t}") if m]


def middle(found: list[str]) -> list[str]:
    """The messages of a case's own lines, without its good neighbours'."""
    return [m for m in found if m not in ("before", "after")]


def reasons(ingested: dict[str, Any], name: str) -> dict[str, int]:
    source = str(ingested["logs"] / name)
    return dict(
        query(ingested["db"],
              "SELECT reason, count(*) FROM rejects WHERE source = $1 GROUP BY reason", [source])
    )  # fmt: skip


class TestCatalogue:
    def test_one_run_reads_every_file_without_error(self, ingested):
        """The run reads every file, reports no unreadable input, and exits 3 because some
        compressed ones are damaged: those, and only those, it names."""
        sources = ingested["summary"]["sources"]
        statuses = {Path(s["path"]).name: s["status"] for s in sources}
        damaged = sorted(Path(s["path"]).name for s in sources if s["damage"])
        assert ({name: "new" for name in [*CASES, "timestamps.log"]}, DAMAGED) == (
            statuses,
            damaged,
        )
        stderr = ingested["stderr"].decode()
        assert (3, len(DAMAGED)) == (ingested["status"], ingested["summary"]["damaged_inputs"])
        assert stderr.startswith(f"Error: {len(DAMAGED)} input(s) damaged: ")
        assert stderr.count("\n") == 1
        assert [] == ingested["summary"]["warnings"]

    @pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.events >= 0])
    def test_each_troublemaker_gives_its_stated_outcome(self, ingested, name):
        """Its own lines become the stated events and rejects; good neighbours are stored."""
        case = CASES[name]
        neighbours = 2 if case.surround else 0
        (events,) = rows(ingested, name, "SELECT count(*) FROM {t}")[0]
        assert (case.events + neighbours, case.rejects) == (events, reasons(ingested, name))
        if case.surround:
            found = messages(ingested, name)
            assert ["before", "after"] == [m for m in found if m not in middle(found)]

    @pytest.mark.parametrize("name", ["cut_short.log.gz", "cut_short.log.zst"])
    def test_a_compressed_file_cut_short_keeps_the_lines_before_the_cut(self, ingested, name):
        """Lines 1..k stored whole and in order, then one truncated_stream reject at k + 1."""
        found = rows(ingested, name, "SELECT line, message FROM {t} ORDER BY line")
        expected = [(n + 1, f"request {n} done") for n in range(len(found))]
        source = str(ingested["logs"] / name)
        ((line, reason),) = query(
            ingested["db"], "SELECT line, reason FROM rejects WHERE source = $1", [source]
        )
        assert (expected, len(found) + 1, "truncated_stream") == (found, line, reason)
        assert 0 < len(found) < 3000

    @pytest.mark.parametrize(
        ("name", "line", "byte", "reason"),
        [
            ("garbage_after.log.gz", 6, len(lines(0, 5)), "corrupt_stream"),
            ("corrupt_middle.log.gz", 1, 0, "corrupt_stream"),
            ("corrupt_middle.log.zst", 1, 0, "corrupt_stream"),
            ("cut_by_4.log.gz", 6, len(lines(0, 5)), "truncated_stream"),
        ],
    )
    def test_a_damaged_file_says_from_which_line_and_byte(self, ingested, name, line, byte, reason):
        """The reject sits where the damage begins, and the summary says the same."""
        source = str(ingested["logs"] / name)
        sql = "SELECT line, byte_offset, reason FROM rejects WHERE source = $1"
        found = query(ingested["db"], sql, [source])
        (damage,) = [s["damage"] for s in ingested["summary"]["sources"] if s["path"] == source]
        assert ([(line, byte, reason)], f"{reason} from line {line:,} (byte {byte:,}): ") == (
            found,
            damage[: damage.index(": ") + 2],
        )


class TestValuesKept:
    def test_a_10_mb_line_is_stored_whole(self, ingested):
        assert [(TEN_MB,)] == rows(ingested, "ten_mb_line.log",
                                   "SELECT length(attrs->>'blob') FROM {t}")  # fmt: skip

    def test_1000_deep_nesting_is_stored_to_its_innermost_value(self, ingested):
        path = "$.n" + "[0]" * 999
        assert [("1",)] == rows(
            ingested,
            "nesting_1000_deep.log",
            f"SELECT attrs->>'{path}' FROM {{t}} WHERE message = 'deep'",
        )

    def test_duplicate_keys_keep_the_last_value(self, ingested):
        assert [("second", "2")] == rows(
            ingested,
            "duplicate_keys.log",
            "SELECT message, attrs->>'n' FROM {t} WHERE message NOT IN ('before', 'after')",
        )

    def test_numbers_beyond_64_bits_are_kept_exactly_in_attrs(self, ingested):
        """Not rounded to a double, and never forced into a column that cannot hold them."""
        assert [
            ("123456789012345678901234567890", "-99999999999999999999", "99999999999999999999",
             None, None, "Infinity")
        ] == rows(
            ingested,
            "big_numbers.log",
            "SELECT attrs->>'n', attrs->>'neg', attrs->>'status', status_code, duration_ms,"
            " attrs->>'duration_ms' FROM {t} WHERE message = 'big'",
        )  # fmt: skip

    def test_nan_and_infinity_are_kept_as_strings(self, ingested):
        assert [("NaN", "Infinity", "-Infinity", None, "NaN")] == rows(
            ingested,
            "nan_infinity.log",
            "SELECT attrs->>'a', attrs->>'b', attrs->>'c', duration_ms, attrs->>'duration_ms'"
            " FROM {t} WHERE message = 'nan'",
        )

    def test_escaped_nul_and_lone_surrogate_are_stored_as_text(self, ingested):
        """\\u0000 is a character like any other; a lone \\ud800 becomes U+FFFD."""
        assert (["a\x00b"], ["broken \ufffd string"]) == (
            middle(messages(ingested, "escaped_nul.log")),
            middle(messages(ingested, "lone_surrogate.log")),
        )

    def test_bom_and_crlf_leave_no_trace_in_the_values(self, ingested):
        assert (["before", "after"], ["before", "after"]) == (
            messages(ingested, "bom.log"),
            messages(ingested, "crlf.log"),
        )


class TestTimestamps:
    def test_every_supported_form_gives_the_same_microsecond(self, ingested):
        stored = dict(rows(ingested, "timestamps.log",
                           "SELECT message, epoch_us(ts) FROM {t}"))  # fmt: skip
        assert {f"supported {i}": us for i, us in enumerate(SUPPORTED.values())} == {
            m: us for m, us in stored.items() if m.startswith("supported")
        }

    def test_an_unsupported_form_is_stored_without_ts_and_kept_in_attrs(self, ingested):
        stored = rows(ingested, "timestamps.log",
                      "SELECT message, ts, attrs->>'timestamp' FROM {t}"
                      " WHERE message LIKE 'unsupported%' ORDER BY line")  # fmt: skip
        assert [(f"unsupported {i}", None, v) for i, v in enumerate(UNSUPPORTED)] == stored


@pytest.mark.xdist_group("faults")
def test_a_file_deleted_mid_ingest_is_read_to_its_end(tmp_path):
    """On Linux an open file outlives its name: the run reads both files whole (the one being
    read and the one not reached yet), exits 0, and a rerun finds nothing new."""
    logs = tmp_path / "logs"
    first, second = generate(logs, lines=5_000, seed=11, files=2)
    config = tmp_path / "logkit.toml"
    config.write_text("[ingest]\nbatch_bytes = 32768\n")  # many commits: a long run
    expected = len(first.read_bytes().splitlines()) + len(second.read_bytes().splitlines())
    db = tmp_path / "s.duckdb"
    proc = subprocess.Popen(
        [*LOGKIT, "--db", str(db), "--config", str(config), "ingest", "--format", "json",
         str(logs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    wal = db.with_name(db.name + ".wal")
    # Well past creating the schema: the files are open and blocks are being stored.
    while proc.poll() is None and (not wal.exists() or wal.stat().st_size < 100_000):
        time.sleep(0.005)
    running = proc.poll() is None
    first.unlink()
    second.unlink()
    out, err = proc.communicate(timeout=120)
    summary = json.loads(out)
    assert (True, 0, b"", expected) == (running, proc.returncode, err, summary["events"])
    assert expected == query(db, "SELECT count(*) FROM events")[0][0]
    again = run_logkit("ingest", "--format", "json", str(logs), db=db, check=False)
    assert (0, 0) == (again.returncode, json.loads(again.stdout)["lines"])
