"""Ingest: exactly-once, incremental, rotation-aware, and nothing lost — on real files."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import zstandard

import logkit
from logkit.errors import InputError, StoreLocked

from .helpers import (
    LOGKIT,
    append,
    ingest_stored,
    lines,
    messages,
    query,
    record,
    run_logkit,
    write,
)


@pytest.fixture
def store(tmp_path: Path) -> logkit.Store:
    return logkit.open(tmp_path / "store" / "logkit.duckdb")


def count(store: logkit.Store) -> int:
    return query(store.path, "SELECT count(*) FROM events")[0][0]


def distinct_messages(store: logkit.Store) -> int:
    return query(store.path, "SELECT count(DISTINCT message) FROM events")[0][0]


class TestExactlyOnce:
    def test_ingesting_the_same_file_twice_adds_nothing(self, store, tmp_path):
        """A rerun over unchanged input stores no new rows."""
        log = write(tmp_path / "app.log", lines(0, 50))
        first = store.ingest([str(log)])
        second = store.ingest([str(log)])
        assert (first.events, second.events) == (50, 0)
        assert count(store) == 50

    def test_appended_lines_are_added_by_the_next_run(self, store, tmp_path):
        """Only what was appended since the last run is read."""
        log = write(tmp_path / "app.log", lines(0, 10))
        store.ingest([str(log)])
        append(log, lines(10, 15))
        summary = store.ingest([str(log)])
        assert summary.lines == 5
        assert 15 == count(store) == distinct_messages(store)

    def test_a_last_line_without_newline_waits_for_the_next_run(self, store, tmp_path):
        """A writer caught mid-line: the partial line is neither stored nor rejected yet."""
        log = write(tmp_path / "app.log", lines(0, 3) + lines(3, 4)[:20])
        summary = store.ingest([str(log)])
        assert (summary.events, summary.rejects) == (3, 0)
        append(log, lines(3, 4)[20:])
        store.ingest([str(log)])
        assert 4 == count(store) == distinct_messages(store)

    def test_rows_record_their_file_and_line_number(self, store, tmp_path):
        """Every event says where it came from, 1-based."""
        log = write(tmp_path / "app.log", lines(0, 3))
        store.ingest([str(log)])
        assert [(str(log), 1), (str(log), 2), (str(log), 3)] == query(
            store.path, "SELECT source, line FROM events ORDER BY line"
        )

    def test_stdin_is_read_to_the_end(self, tmp_path):
        """'-' reads stdin; its last line needs no newline, since stdin cannot grow later."""
        db = tmp_path / "s.duckdb"
        run_logkit("ingest", "-", db=db, input=lines(0, 4) + lines(4, 5).rstrip(b"\n"))
        assert query(db, "SELECT count(*) FROM events")[0][0] == 5

    def test_stdin_without_a_name_is_stored_whole_on_every_run(self, tmp_path):
        """Unnamed stdin has no checkpoint to compare with: piped twice, stored twice."""
        db = tmp_path / "s.duckdb"
        for _ in range(2):
            run_logkit("ingest", "-", db=db, input=lines(0, 5))
        assert [("<stdin>", None, 10, 5)] == query(
            db, "SELECT source, stream, count(*), count(DISTINCT message) FROM events GROUP BY ALL"
        )

    def test_named_stdin_piped_again_stores_only_its_new_lines(self, tmp_path):
        """--name gives piped input a checkpoint: the same stream again adds nothing, grown it
        adds what is new; the name is its source. Like a growing file's, its last line without
        a newline waits until it is complete."""
        db = tmp_path / "s.duckdb"
        partial = lines(150, 151)[:30]
        stored = []
        for data in (lines(0, 100), lines(0, 100), lines(0, 150) + partial, lines(0, 151)):
            out = run_logkit("ingest", "--name", "web", "--format", "json", "-", db=db, input=data)
            stored.append(json.loads(out.stdout)["events"])
        assert [100, 0, 50, 1] == stored
        assert [("web", 1, 151, 151)] == query(
            db, "SELECT source, stream, count(*), count(DISTINCT message) FROM events GROUP BY ALL"
        )
        assert [(1, "web", 151)] == query(db, "SELECT id, path, lines FROM sources")

    def test_a_named_stream_is_found_again_under_its_masked_name(self, tmp_path):
        """A stream named after an address is stored under the masked name, like a file's name,
        and piping it again still finds its checkpoint by that name."""
        db = tmp_path / "s.duckdb"
        for data in (lines(0, 10), lines(0, 15)):
            run_logkit("ingest", "--name", "ops@example.com", "-", db=db, input=data)
        assert [("[MASKED:email]", 15, 15)] == query(
            db, "SELECT source, count(*), count(DISTINCT message) FROM events GROUP BY ALL"
        )
        assert [("[MASKED:email]", 15)] == query(db, "SELECT path, lines FROM sources")

    def test_another_stream_under_a_used_name_is_stored_whole(self, tmp_path):
        """Piped under the same name, a stream that begins like the stored one (its first KiB)
        but then differs is a new stream of that name: all its lines are stored, those read to
        compare it included, under a stream id of their own."""
        db = tmp_path / "s.duckdb"
        run_logkit("ingest", "--name", "web", "-", db=db, input=lines(0, 100))
        for other in (lines(0, 20) + lines(1000, 1100), lines(0, 20) + lines(2000, 2005)):
            run_logkit("ingest", "--name", "web", "-", db=db, input=other)
        assert [(1, 100, 100), (2, 120, 120), (3, 25, 25)] == query(
            db, "SELECT stream, count(*), count(DISTINCT line) FROM events GROUP BY ALL ORDER BY 1"
        )

    def test_a_name_is_only_for_piped_input(self, tmp_path):
        log = write(tmp_path / "app.log", lines(0, 3))
        failed = run_logkit("ingest", "--name", "web", str(log), db=tmp_path / "s.duckdb",
                            check=False)  # fmt: skip
        assert (2, "Error: --name names piped input: give '-' among the inputs") == (
            failed.returncode,
            failed.stderr.decode().splitlines()[-1],
        )

    def test_compressed_files_are_recognised_by_their_magic_bytes(self, store, tmp_path):
        """gzip and zstd are read whatever the file is called."""
        gz = write(tmp_path / "a.log.gz", lines(0, 5))
        shutil.move(gz, tmp_path / "misnamed.log")
        (tmp_path / "b.zst").write_bytes(zstandard.ZstdCompressor().compress(lines(5, 9)))
        summary = store.ingest([str(tmp_path / "misnamed.log"), str(tmp_path / "b.zst")])
        assert 9 == summary.events == distinct_messages(store)

    def test_a_directory_is_searched_for_logs_and_their_rotations(self, store, tmp_path):
        """Log-like names and rotations are read; other files are not."""
        write(tmp_path / "d" / "app.log", lines(0, 1))
        write(tmp_path / "d" / "app.log.1", lines(1, 2))
        write(tmp_path / "d" / "app.log.2.gz", lines(2, 3))
        write(tmp_path / "d" / "sub" / "x.jsonl", lines(3, 4))
        write(tmp_path / "d" / "y.ndjson", lines(4, 5))
        write(tmp_path / "d" / "z.json", lines(5, 6))
        write(tmp_path / "d" / "README.md", b"# not a log\n")
        summary = store.ingest([str(tmp_path / "d")])
        assert (summary.events, summary.rejects) == (6, 0)

    def test_rotations_in_a_directory_are_read_oldest_first(self, store, tmp_path):
        """app.log.2.gz, then app.log.1, then app.log: the order they were written."""
        write(tmp_path / "d" / "app.log", lines(2, 3))
        write(tmp_path / "d" / "app.log.1", lines(1, 2))
        write(tmp_path / "d" / "app.log.2.gz", lines(0, 1))
        summary = store.ingest([str(tmp_path / "d")])
        assert [Path(s.path).name for s in summary.sources] == [
            "app.log.2.gz",
            "app.log.1",
            "app.log",
        ]

    def test_dated_rotations_are_read_oldest_first_and_the_live_file_last(self, store, tmp_path):
        """Python's TimedRotatingFileHandler and logrotate's dateext name rotations by date."""
        write(tmp_path / "d" / "api.log", lines(4, 5))
        write(tmp_path / "d" / "api.log.2026-11-22", lines(2, 3))
        write(tmp_path / "d" / "api.log.2026-11-21", lines(1, 2))
        write(tmp_path / "d" / "api.log.2026-11-22_10-00-00.gz", lines(3, 4))
        write(tmp_path / "d" / "worker.log-20261121", lines(5, 6))
        write(tmp_path / "d" / "worker.log", lines(6, 7))
        summary = store.ingest([str(tmp_path / "d")])
        assert [Path(s.path).name for s in summary.sources] == [
            "api.log.2026-11-21",
            "api.log.2026-11-22",
            "api.log.2026-11-22_10-00-00.gz",
            "api.log",
            "worker.log-20261121",
            "worker.log",
        ]

    def test_a_log_whose_name_holds_a_newline_is_found_in_its_directory(self, store, tmp_path):
        write(tmp_path / "d" / "odd\nname.log", lines(0, 2))
        assert store.ingest([str(tmp_path / "d")]).events == 2

    def test_a_glob_selects_files(self, store, tmp_path):
        write(tmp_path / "a.log", lines(0, 2))
        write(tmp_path / "b.log", lines(2, 3))
        assert store.ingest([str(tmp_path / "*.log")]).events == 3

    def test_a_missing_input_is_a_clear_error(self, store, tmp_path):
        with pytest.raises(InputError, match="no such file, directory or matching glob"):
            store.ingest([str(tmp_path / "nope.log")])


class TestRotation:
    def test_rename_rotation_loses_and_duplicates_nothing(self, store, tmp_path):
        """app.log renamed to app.log.1 (with lines appended since the last run), new app.log."""
        log = write(tmp_path / "d" / "app.log", lines(0, 100))
        store.ingest([str(tmp_path / "d")])
        append(log, lines(100, 110))
        log.rename(tmp_path / "d" / "app.log.1")
        write(tmp_path / "d" / "app.log", lines(110, 115))
        store.ingest([str(tmp_path / "d")])
        assert 115 == count(store) == distinct_messages(store)

    def test_every_row_names_the_stream_generation_it_came_from(self, store, tmp_path):
        """After a rename rotation both generations of app.log have a line 1 read as app.log:
        `(source, line)` is two records, `(stream, line)` one. `stream` is the id of the
        checkpoint the row was read under, which names where that generation is now."""
        d = tmp_path / "d"
        log = write(d / "app.log", lines(0, 3) + b"not json\n")
        store.ingest([str(d)])
        log.rename(d / "app.log.1")
        write(d / "app.log", lines(3, 6) + b"not json\n")
        store.ingest([str(d)])
        rows = """
            SELECT count(*), count(DISTINCT (source, line)), count(DISTINCT (stream, line)),
                   list(DISTINCT s.path ORDER BY s.path)
            FROM {table} JOIN sources s ON s.id = stream
        """
        both = [str(d / "app.log"), str(d / "app.log.1")]
        assert [(6, 3, 6, both), (2, 1, 2, both)] == [
            query(store.path, rows.format(table=table))[0] for table in ("events", "rejects")
        ]
        first = "SELECT s.path FROM events JOIN sources s ON s.id = stream WHERE message = ?"
        assert [(str(d / "app.log.1"),)] == query(store.path, first, ["request 0 done"])

    def test_a_rotated_file_compressed_later_is_recognised(self, store, tmp_path):
        """app.log.1 becomes app.log.2.gz (new inode, compressed): its content is known."""
        d = tmp_path / "d"
        write(d / "app.log.1", lines(0, 40))
        store.ingest([str(d)])
        data = (d / "app.log.1").read_bytes()
        (d / "app.log.1").unlink()
        write(d / "app.log.2.gz", data)
        write(d / "app.log", lines(40, 45))
        store.ingest([str(d)])
        assert 45 == count(store) == distinct_messages(store)

    def test_a_compressed_file_read_to_its_end_is_not_decompressed_again(self, store, tmp_path):
        """Rotated .gz files never change: a cron run recognises them by size and mtime."""
        gz = write(tmp_path / "app.log.1.gz", lines(0, 50))
        store.ingest([str(gz)])
        assert ["unchanged"] == [s.status for s in store.ingest([str(gz)]).sources]
        write(gz, lines(0, 50) + lines(50, 60))  # rewritten: a new size, read again
        summary = store.ingest([str(gz)])
        assert (["resumed"], 10) == ([s.status for s in summary.sources], summary.events)

    def test_copytruncate_loses_and_duplicates_nothing(self, store, tmp_path):
        """The copy holds the old content plus what came since; the original starts afresh."""
        d = tmp_path / "d"
        log = write(d / "app.log", lines(0, 30))
        store.ingest([str(d)])
        append(log, lines(30, 35))
        shutil.copyfile(log, d / "app.log.1")
        os.truncate(log, 0)
        append(log, lines(35, 40))
        store.ingest([str(d)])
        assert 40 == count(store) == distinct_messages(store)

    def test_a_file_truncated_and_regrown_past_the_old_offset_is_read_afresh(self, store, tmp_path):
        """Same inode, new content longer than the old offset: all of it is new."""
        log = write(tmp_path / "app.log", lines(0, 10))
        store.ingest([str(log)])
        ino = log.stat().st_ino
        with open(log, "r+b") as fh:
            fh.truncate(0)
            fh.write(lines(10, 40, extra_field="x" * 50))
        assert ino == log.stat().st_ino
        store.ingest([str(log)])
        assert 40 == count(store) == distinct_messages(store)

    def test_an_inode_reused_by_a_new_file_is_read_afresh(self, store, tmp_path):
        """A checkpoint whose inode now holds other content does not apply."""
        log = write(tmp_path / "app.log", lines(0, 5))
        store.ingest([str(log)])
        with open(log, "r+b") as fh:  # same inode, different file as far as content goes
            fh.write(lines(5, 10))
        store.ingest([str(log)])
        assert 10 == count(store) == distinct_messages(store)

    def test_two_files_that_begin_with_the_same_line_are_both_read(self, store, tmp_path):
        """A shared first line does not make the second file look already read."""
        first = lines(0, 1)
        a = write(tmp_path / "a.log", first + lines(1, 3))
        store.ingest([str(a)])
        b = write(tmp_path / "b.log", first + lines(3, 6))
        summary = store.ingest([str(a), str(b)])
        assert summary.events == 4
        assert count(store) == 7

    def test_a_single_line_file_and_its_longer_twin_are_both_read(self, store, tmp_path):
        """Both present in one run: the checkpoint goes to its own inode, not the twin."""
        first = lines(0, 1)
        a = write(tmp_path / "a.log", first)
        store.ingest([str(a)])
        b = write(tmp_path / "b.log", first + lines(1, 3))
        store.ingest([str(a), str(b)])
        assert count(store) == 4

    def test_an_empty_files_checkpoint_is_not_taken_by_another_file(self, store, tmp_path):
        """An empty file has no content to be recognised by: a new file is new, not it."""
        store.ingest([str(write(tmp_path / "empty.log", b""))])
        summary = store.ingest([str(write(tmp_path / "b.log", lines(0, 3)))])
        assert [("new", 3)] == [(s.status, s.events) for s in summary.sources]
        assert 2 == query(store.path, "SELECT count(*) FROM sources")[0][0]


# One line of each kind that cannot become an event, and the reason it is quarantined under.
BAD_LINES = {
    b'{"a": 1, "b": ': "invalid_json",
    b'{"msg": "caf\xe9"}': "invalid_utf8",
    b'{"msg": "a\x00b"}': "nul_byte",
    b"[1, 2, 3]": "not_object",
    b'"just a string"': "not_object",
    b"42": "not_object",
    b"": "blank_line",
    b"   ": "blank_line",
    b"Traceback (most recent call last):": "not_json",
    b'  File "/app/main.py", line 42, in handler': "not_json",
    b"[" * 2000 + b"]" * 2000: "too_deep",
}


class TestBadInput:
    @pytest.mark.parametrize(("raw", "reason"), BAD_LINES.items(), ids=list(BAD_LINES.values()))
    def test_each_bad_line_is_quarantined_with_its_reason(self, store, tmp_path, raw, reason):
        """The line is in `rejects` with file, line number and byte offset; good lines stay."""
        log = write(tmp_path / "bad.log", lines(0, 1) + raw + b"\n" + lines(1, 2))
        summary = store.ingest([str(log)])
        assert (2, {reason: 1}) == (summary.events, dict(summary.rejected))
        first_len = len(lines(0, 1))
        assert [(str(log), 2, first_len, reason)] == query(
            store.path, "SELECT source, line, byte_offset, reason FROM rejects"
        )

    def test_a_bom_and_crlf_endings_are_accepted(self, store, tmp_path):
        log = write(tmp_path / "a.log", b"\xef\xbb\xbf" + lines(0, 1).replace(b"\n", b"\r\n"))
        append(log, lines(1, 2).replace(b"\n", b"\r\n"))
        assert (store.ingest([str(log)]).events, count(store) - 2) == (2, 0)

    def test_records_without_a_timestamp_are_kept_and_counted(self, store, tmp_path):
        log = write(tmp_path / "a.log", b'{"msg": "no time"}\n' + lines(0, 1))
        summary = store.ingest([str(log)])
        assert (summary.events, summary.no_ts) == (2, 1)
        assert query(store.path, "SELECT epoch_us(ts), message FROM events WHERE ts IS NULL") == [
            (None, "no time")
        ]

    def test_duplicate_keys_keep_the_last_value(self, store, tmp_path):
        log = write(tmp_path / "a.log", b'{"msg": "first", "msg": "second"}\n')
        store.ingest([str(log)])
        assert messages(store.path) == ["second"]

    def test_numbers_beyond_64_bits_are_kept_exactly(self, store, tmp_path):
        log = write(tmp_path / "a.log", b'{"msg": "big", "n": 123456789012345678901234567890}\n')
        store.ingest([str(log)])
        assert query(store.path, "SELECT attrs->>'n' FROM events") == [
            ("123456789012345678901234567890",)
        ]

    def test_nan_and_infinity_are_kept_as_strings(self, store, tmp_path):
        log = write(tmp_path / "a.log", b'{"msg": "x", "a": NaN, "b": -Infinity}\n')
        store.ingest([str(log)])
        assert query(store.path, "SELECT attrs->>'a', attrs->>'b' FROM events") == [
            ("NaN", "-Infinity")
        ]

    def test_a_10_mb_line_is_stored(self, store, tmp_path):
        """Long but valid: accepted whole."""
        big = "x" * (10 * 1024 * 1024)
        log = write(tmp_path / "a.log", lines(0, 1, blob=big) + lines(1, 2))
        assert store.ingest([str(log)]).events == 2
        assert [(len(big),)] == query(store.path, "SELECT length(attrs->>'blob') FROM events "
                                      "WHERE attrs->>'blob' IS NOT NULL")  # fmt: skip

    def test_a_line_over_the_limit_is_quarantined_and_the_rest_read(self, tmp_path):
        """Lines beyond [ingest] max_line_bytes are cut into the quarantine, not buffered."""
        (tmp_path / "logkit.toml").write_text(
            "[ingest]\nmax_line_bytes = 1000\nbatch_bytes = 256\n"
        )
        store = logkit.open(tmp_path / "s.duckdb", config_path=tmp_path / "logkit.toml")
        log = write(tmp_path / "a.log", lines(0, 1) + lines(1, 2, blob="y" * 5000) + lines(2, 4))
        summary = store.ingest([str(log)])
        assert (summary.events, dict(summary.rejected)) == (3, {"line_too_long": 1})
        ((line, reason, raw),) = query(store.path, "SELECT line, reason, raw FROM rejects")
        assert (2, "line_too_long") == (line, reason)
        assert 1000 < len(raw) <= 2048
        assert lines(1, 2, blob="y" * 5000).decode().startswith(raw)
        assert [r[0] for r in query(store.path, "SELECT line FROM events ORDER BY 1")] == [1, 3, 4]

    def test_a_gzip_file_cut_short_keeps_what_it_has(self, store, tmp_path):
        """The lines before the cut are stored; the cut is quarantined as truncated_stream."""
        gz = write(tmp_path / "a.log.gz", lines(0, 2000))
        data = gz.read_bytes()
        gz.write_bytes(data[: len(data) // 2])
        summary = store.ingest([str(gz)])
        assert summary.events > 100
        assert dict(summary.rejected) == {"truncated_stream": 1}

    def test_an_empty_file_is_fine(self, store, tmp_path):
        log = write(tmp_path / "empty.log", b"")
        summary = store.ingest([str(log)])
        assert (summary.lines, summary.rejects) == (0, 0)


def _flip(path: Path, at: int) -> None:
    """Change one bit of the file at byte `at` (negative: from the end)."""
    data = bytearray(path.read_bytes())
    data[at] ^= 0x10
    path.write_bytes(bytes(data))


def _configured(tmp_path: Path, ingest: str) -> logkit.Store:
    (tmp_path / "logkit.toml").write_text("[ingest]\n" + ingest)
    return logkit.open(tmp_path / "s.duckdb", config_path=tmp_path / "logkit.toml")


def _rejects(store: logkit.Store) -> list[tuple[int, int, str]]:
    return query(store.path, "SELECT line, byte_offset, reason FROM rejects ORDER BY line")


class TestDamagedCompressedFiles:
    """A compressed file that ends badly keeps every line before the damage; a corrupt one
    gives no line that its checksum has not vouched for."""

    @pytest.mark.parametrize("tool", ["gzip", "zstd"])
    def test_five_lines_cut_by_four_bytes_are_five_events_and_one_reject(
        self, store, tmp_path, tool
    ):
        """Written by the real command-line tool (zstd's writes a frame checksum), then cut."""
        log = write(tmp_path / "a.log", lines(0, 5))
        subprocess.run([tool, "-q", "-k", str(log)], check=True)
        packed = log.with_name(log.name + (".gz" if tool == "gzip" else ".zst"))
        packed.write_bytes(packed.read_bytes()[:-4])
        summary = store.ingest([str(packed)])
        assert (5, [(6, len(lines(0, 5)), "truncated_stream")]) == (summary.events, _rejects(store))
        assert [s.damage is not None for s in summary.sources] == [True]

    def test_a_complete_member_followed_by_garbage_keeps_the_member(self, store, tmp_path):
        gz = write(tmp_path / "a.log.gz", lines(0, 5))
        append(gz, b"\x00garbage")
        summary = store.ingest([str(gz)])
        assert (5, [(6, len(lines(0, 5)), "corrupt_stream")]) == (summary.events, _rejects(store))

    def test_a_gzip_file_corrupted_in_the_middle_stores_none_of_its_altered_records(
        self, store, tmp_path
    ):
        """One bit flipped: no event comes from the member that fails its CRC."""
        gz = write(tmp_path / "a.log.gz", lines(0, 3000))
        _flip(gz, gz.stat().st_size // 2)
        summary = store.ingest([str(gz)])
        assert (0, [(1, 0, "corrupt_stream")]) == (summary.events, _rejects(store))
        (raw,) = query(store.path, "SELECT raw FROM rejects")[0]
        assert raw.startswith("gzip member 1 (at byte 0 of the file) is corrupt: ")

    def test_a_member_is_checked_before_any_of_its_lines_is_stored(self, tmp_path):
        """A 3 MB member (two blocks of lines) whose stored CRC is wrong: its first block, read
        long before the CRC, is not stored either."""
        store = _configured(tmp_path, "batch_bytes = 262144\n")
        gz = write(tmp_path / "a.log.gz", lines(0, 20_000))
        _flip(gz, -8)  # the CRC32 in the trailer
        summary = store.ingest([str(gz)])
        assert (0, [(1, 0, "corrupt_stream")]) == (summary.events, _rejects(store))

    def test_members_before_a_corrupt_one_are_stored_and_nothing_after_it(self, store, tmp_path):
        """Three gzip members (as `gzip -c >>` appends them); the second is corrupt."""
        parts = [lines(0, 100), lines(100, 200), lines(200, 300)]
        members = [gzip.compress(part) for part in parts]
        bad = bytearray(members[1])
        bad[len(bad) // 2] ^= 0x10
        gz = tmp_path / "a.log.gz"
        gz.write_bytes(members[0] + bytes(bad) + members[2])
        summary = store.ingest([str(gz)])
        assert (100, [(101, len(parts[0]), "corrupt_stream")]) == (
            summary.events,
            _rejects(store),
        )
        assert (
            f"gzip member 2 (at byte {len(members[0]):,} of the file)" in summary.sources[0].damage
        )

    def test_compressed_stdin_is_checked_like_a_file(self, tmp_path):
        """Piped in, the members before a corrupt one are stored and none of the corrupt one."""
        members = [gzip.compress(lines(0, 3000)), bytearray(gzip.compress(lines(3000, 6000)))]
        members[1][-8] ^= 0x10  # its CRC
        db = tmp_path / "s.duckdb"
        proc = run_logkit("ingest", "-", db=db, input=b"".join(members), check=False)
        assert (3, [(3001, len(lines(0, 3000)), "corrupt_stream")], 3000) == (
            proc.returncode,
            query(db, "SELECT line, byte_offset, reason FROM rejects"),
            query(db, "SELECT count(*) FROM events")[0][0],
        )

    @pytest.mark.parametrize("name", ["a.log.gz", "a.log"])
    def test_a_named_pipe_is_read_like_stdin(self, tmp_path, name):
        """A FIFO (as `<(zcat ...)` gives) cannot be read twice nor at an offset: a compressed
        one is spooled and checked, a plain one read as it comes, CRs and all."""
        data = lines(0, 50).replace(b"\n", b"\r")
        data = gzip.compress(data) if name.endswith(".gz") else data
        fifo = tmp_path / name
        os.mkfifo(fifo)
        writer = subprocess.Popen(["sh", "-c", 'cat > "$0"', str(fifo)], stdin=subprocess.PIPE)
        writer.stdin.write(data)  # type: ignore[union-attr]
        writer.stdin.close()  # type: ignore[union-attr]
        proc = run_logkit("ingest", "--format", "json", str(fifo), db=tmp_path / "s.duckdb")
        writer.wait()
        assert 50 == json.loads(proc.stdout)["events"]

    def test_a_named_pipe_is_stored_whole_on_every_run_its_last_line_included(self, tmp_path):
        """What a pipe gave cannot be read again, so nothing may wait for a next run: its last
        line needs no newline, it keeps no checkpoint (no row in sources, no stream), and no
        checkpoint is matched to it: not the one an empty file left, which once made a pipe
        count as read already."""
        db = tmp_path / "s.duckdb"
        run_logkit("ingest", str(write(tmp_path / "empty.log", b"")), db=db)
        fifo = tmp_path / "app.fifo"
        os.mkfifo(fifo)
        for _ in range(2):
            writer = subprocess.Popen(["sh", "-c", 'cat > "$0"', str(fifo)], stdin=subprocess.PIPE)
            writer.stdin.write(lines(0, 4) + lines(4, 5).rstrip(b"\n"))  # type: ignore[union-attr]
            writer.stdin.close()  # type: ignore[union-attr]
            run_logkit("ingest", str(fifo), db=db)
            writer.wait()
        assert [(str(fifo), None, 10, 5)] == query(
            db, "SELECT source, stream, count(*), count(DISTINCT message) FROM events GROUP BY ALL"
        )
        assert [(str(tmp_path / "empty.log"),)] == query(db, "SELECT path FROM sources")

    def test_a_zstd_frame_that_fails_its_checksum_is_not_stored(self, store, tmp_path):
        log = write(tmp_path / "a.log", lines(0, 3000))
        subprocess.run(["zstd", "-q", str(log)], check=True)
        zst = tmp_path / "a.log.zst"
        _flip(zst, -2)  # in the frame's content checksum
        summary = store.ingest([str(zst)])
        assert (0, [(1, 0, "corrupt_stream")]) == (summary.events, _rejects(store))

    def test_a_damaged_input_exits_3_and_the_summary_says_which(self, tmp_path):
        logs = tmp_path / "logs"
        write(logs / "good.log", lines(0, 10))
        gz = write(logs / "bad.log.gz", lines(10, 3000))
        _flip(gz, gz.stat().st_size // 2)
        db = tmp_path / "s.duckdb"
        text = run_logkit("ingest", str(logs), db=db, check=False)
        assert 3 == text.returncode
        assert f"  damaged   {gz}: corrupt_stream from line 1 (byte 0): gzip member 1" in (
            text.stderr.decode()
        )
        assert f"Error: 1 input(s) damaged: {gz}; " in text.stderr.decode()
        again = run_logkit("ingest", "--format", "json", str(logs), db=db, check=False)
        assert (0, 0) == (again.returncode, json.loads(again.stdout)["damaged_inputs"])
        gz.unlink()
        write(logs / "bad2.log.gz", b"")
        _flip(logs / "bad2.log.gz", -1)
        proc = run_logkit("ingest", "--format", "json", str(logs), db=db, check=False)
        summary = json.loads(proc.stdout)
        assert (3, 1) == (proc.returncode, summary["damaged_inputs"])

    def test_export_ingest_of_a_damaged_input_writes_the_metrics_and_exits_3(self, tmp_path):
        """The cron form says what `logkit ingest` says: stored, but an input was damaged."""
        log = write(tmp_path / "logs" / "good.log", lines(0, 10))
        gz = write(tmp_path / "logs" / "bad.log.gz", lines(10, 3000))
        _flip(gz, gz.stat().st_size // 2)
        prom = tmp_path / "logkit.prom"
        proc = run_logkit("export", "--ingest", str(log.parent), "--textfile", str(prom),
                          db=tmp_path / "s.duckdb", check=False)  # fmt: skip
        assert 3 == proc.returncode
        assert f"Error: 1 input(s) damaged: {gz}; " in proc.stderr.decode()
        # Everything readable was stored: the damage is a reject, the run a success.
        text = prom.read_text()
        assert 'logkit_ingest_rejected_lines_total{reason="corrupt_stream"} 1.0' in text
        assert "logkit_last_run_success 1.0" in text


class TestOddFiles:
    @pytest.mark.parametrize(
        ("name", "make", "says"),
        [
            ("logs.tar.gz", ["tar", "-czf"], "a tar archive, which logkit does not read as lines:"
             " extract it (tar -xf) and ingest the directory"),
            ("logs.tar", ["tar", "-cf"], "a tar archive"),
            ("logs.zip", ["zip", "-q"], "a zip archive"),
            ("a.log.xz", ["xz", "-kc"], "xz-compressed, which logkit does not read as lines:"
             " xz -dc {path} | logkit ingest --name a.log -"),
            ("a.log.bz2", ["bzip2", "-kc"], "bzip2-compressed"),
        ],
    )  # fmt: skip
    def test_an_archive_or_other_compression_is_refused_saying_how_to_read_it(
        self, store, tmp_path, name, make, says
    ):
        """Read as lines, a tar lost its first and last record to its header and padding, and
        a zip or an xz file filled `rejects` with binary; they are refused, nothing stored."""
        if shutil.which(make[0]) is None:
            pytest.skip(f"no {make[0]} here")
        write(tmp_path / "a.log", lines(0, 20))
        path = tmp_path / name
        if make[0] in ("xz", "bzip2"):
            path.write_bytes(subprocess.run([*make, "a.log"], cwd=tmp_path, check=True,
                                            capture_output=True).stdout)  # fmt: skip
        else:
            subprocess.run([*make, name, "a.log"], cwd=tmp_path, check=True)
        summary = store.ingest([str(path), str(write(tmp_path / "b.log", lines(20, 25)))])
        (refused,) = summary.errors
        assert f"{path}: {says.format(path=path)}" in refused.error
        assert (5, 0) == (summary.events, summary.rejects)

    def test_a_log_with_ustar_where_a_tar_has_it_is_read(self, store, tmp_path):
        """A tar is told by its header's checksum too, not the magic word alone."""
        line = b'{"msg": "' + b"a" * 248 + b"ustar" + b"b" * 300 + b'"}\n'
        assert line[257:262] == b"ustar"
        assert 2 == store.ingest([str(write(tmp_path / "a.log", line * 2))]).events

    @pytest.mark.parametrize("batch_bytes", [256, 2 * 1024 * 1024])
    def test_max_line_bytes_holds_wherever_the_line_sits(self, tmp_path, batch_bytes):
        """A 20 KB line over a 10 KB limit is quarantined whether or not it crosses a block."""
        store = _configured(tmp_path, f"max_line_bytes = 10000\nbatch_bytes = {batch_bytes}\n")
        long = lines(1, 2, blob="y" * 20_000)
        log = write(tmp_path / "a.log", lines(0, 1) + long + lines(2, 4))
        summary = store.ingest([str(log)])
        assert (3, [(2, len(lines(0, 1)), "line_too_long")]) == (summary.events, _rejects(store))
        (raw,) = query(store.path, "SELECT raw FROM rejects")[0]
        assert long.decode().startswith(raw) and 1000 < len(raw) <= 2048

    def test_cr_only_line_endings_are_lines_across_blocks_and_runs(self, tmp_path):
        """Old Mac OS endings: each CR ends a line; offsets are the file's, and a rerun reads
        only what was appended."""
        store = _configured(tmp_path, "batch_bytes = 300\n")
        cr = lambda data: data.replace(b"\n", b"\r")  # noqa: E731
        log = write(tmp_path / "mac.log", cr(lines(0, 10) + b"not json\n" + lines(10, 20)))
        first = store.ingest([str(log)])
        append(log, cr(lines(20, 30)) + b'{"half": ')
        second = store.ingest([str(log)])
        third = store.ingest([str(log)])
        assert (20, 10, 0) == (first.events, second.events, third.events)
        assert 30 == count(store) == distinct_messages(store)
        assert [(11, len(lines(0, 10)), "not_json")] == _rejects(store)
        assert list(range(1, 11)) + list(range(12, 32)) == [
            n for (n,) in query(store.path, "SELECT line FROM events ORDER BY line")
        ]

    def test_a_cr_only_file_rotated_and_compressed_is_read_once(self, store, tmp_path):
        """logrotate's compressed copy beside the original, then alone: recognised by content,
        CRs and all, so nothing is stored twice."""
        logs = tmp_path / "logs"
        write(logs / "app.log.1", lines(0, 100).replace(b"\n", b"\r"))
        first = store.ingest([str(logs)])
        write(logs / "app.log.2.gz", (logs / "app.log.1").read_bytes())
        beside = store.ingest([str(logs)])
        (logs / "app.log.1").unlink()
        alone = store.ingest([str(logs)])
        assert (100, 0, ["copy"], 0) == (
            first.events,
            beside.events,
            [s.status for s in beside.sources if s.path.endswith(".gz")],
            alone.events,
        )
        assert 100 == count(store) == distinct_messages(store)

    def test_an_input_that_yields_nothing_ends_with_a_warning(self, tmp_path):
        """An empty directory, one without log files, a binary file: warned on stderr and in
        the JSON summary, not a quiet '0 events'."""
        (tmp_path / "empty").mkdir()
        write(tmp_path / "other" / "notes.txt", b"hello\n")
        binary = write(tmp_path / "blob.log", bytes(range(256)) * 20)
        no_newline = write(tmp_path / "one.log", bytes(range(14, 256)) * 4)  # no CR, no LF
        db = tmp_path / "s.duckdb"
        args = [str(tmp_path / "empty"), str(tmp_path / "other"), str(binary), str(no_newline)]
        text = run_logkit("ingest", *args, db=db)
        as_json = run_logkit("ingest", "--format", "json", *args, db=tmp_path / "t.duckdb")
        warnings = json.loads(as_json.stdout)["warnings"]
        assert [
            f"{tmp_path / 'empty'}: no log files in this directory",
            f"{tmp_path / 'other'}: no log files in this directory",
            f"{no_newline}: 968 bytes and not one newline: read as an unfinished line that waits"
            " for its end (is it a log file?)",
            f"{binary}: no events, all 20 line(s) rejected (is it a log file?)",
        ] == [w.split(" (looked")[0] for w in warnings]
        assert [f"Warning: {w}" for w in warnings] == [
            line for line in text.stderr.decode().splitlines() if line.startswith("Warning")
        ]
        assert "1 other file ignored" in warnings[1]
        again = run_logkit("ingest", "--format", "json", str(no_newline), db=db)
        assert [warnings[2]] == json.loads(again.stdout)["warnings"]

    def test_the_store_s_own_files_are_never_read_as_logs(self, tmp_path):
        """A glob over the store's directory (`logkit ingest 'data/*'`) reached its key file,
        whose one line went to `rejects` as it was: the pseudonym key, unmasked, on disk."""
        db = tmp_path / "data" / "s.duckdb"
        log = write(tmp_path / "data" / "app.log", b'{"message": "hi"}\n')
        run_logkit("ingest", str(log), db=db)
        key = Path(run_logkit("keygen", db=db).stdout.decode().strip())
        proc = run_logkit("ingest", "--format", "json", str(tmp_path / "data" / "*"), db=db)
        warned = json.loads(proc.stdout)["warnings"]
        assert f"{key}: the store's own pseudonym key, not a log: not read" in warned
        assert f"{db}: the store's own database, not a log: not read" in warned
        secret = key.read_text().strip()
        assert [] == query(db, "SELECT raw FROM rejects WHERE raw LIKE $k", {"k": f"%{secret}%"})
        refused = run_logkit("mask", str(key), db=db, check=False)
        assert (1, b"") == (refused.returncode, refused.stdout)
        assert "the store's own pseudonym key" in refused.stderr.decode()

    @pytest.mark.parametrize(
        ("codec", "named"),
        [("utf-16", "UTF-16LE"), ("utf-16-be", "UTF-16BE"), ("utf-16-le", "UTF-16LE"),
         ("utf-32", "UTF-32LE")],
    )  # fmt: skip
    def test_a_utf16_file_is_named_as_such_with_how_to_convert_it(self, tmp_path, codec, named):
        """What Windows PowerShell's `>` writes: every line is quarantined (nul_byte), and the
        warning says why and what to run, rather than asking whether it is a log file."""
        lines = [json.dumps({"level": "info", "msg": f"m{i}"}) for i in range(3)]
        log = write(tmp_path / "win.log", ("\r\n".join(lines) + "\r\n").encode(codec))
        summary, events, _ = ingest_stored(tmp_path / "s.duckdb", log)
        assert ([], {"nul_byte": 3}) == (events, summary["rejected_by_reason"])
        assert [
            f"{log}: no events, all 3 line(s) rejected: it is {named} text, and logkit reads"
            f" UTF-8 (convert it first: iconv -f {named} -t UTF-8)"
        ] == summary["warnings"]


class TestConcurrency:
    def test_store_and_wal_are_readable_by_their_owner_only(self, store, tmp_path):
        store.ingest([str(write(tmp_path / "a.log", lines(0, 5)))])
        for path in store.path.parent.iterdir():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name

    def test_a_second_writer_gets_a_clear_message(self, store, tmp_path):
        with store.writer():
            other = logkit.open(store.path)
            with pytest.raises(StoreLocked, match=r"another logkit process \(pid \d+\)"):
                other.ingest([str(write(tmp_path / "a.log", lines(0, 1)))])

    def test_a_second_writer_can_wait(self, store, tmp_path):
        """--wait: the second writer proceeds once the first is done."""
        log = write(tmp_path / "a.log", lines(0, 3))
        holder = subprocess.Popen(
            [*LOGKIT[:1], "-c", "import logkit, time, sys\n"
             f"s = logkit.open({str(store.path)!r})\n"
             "with s.writer():\n    print('held', flush=True)\n    time.sleep(1.5)\n"],
            stdout=subprocess.PIPE,
        )  # fmt: skip
        assert holder.stdout.readline() == b"held\n"
        proc = run_logkit("--wait", "20", "ingest", str(log), db=store.path, check=False)
        holder.wait()
        assert proc.returncode == 0, proc.stderr
        assert count(store) == 3

    def test_sigkill_then_rerun_stores_exactly_what_one_run_would(self, tmp_path):
        """Killed mid-ingest at any moment, a rerun leaves the uninterrupted result."""
        data = tmp_path / "logs"
        for i in range(3):
            write(data / f"s{i}.log", lines(i * 40_000, (i + 1) * 40_000, pad="p" * 200))
        write(data / "old.log.1.gz", lines(200_000, 230_000))
        clean_db, killed_db = tmp_path / "clean.duckdb", tmp_path / "killed.duckdb"
        run_logkit("ingest", str(data), db=clean_db)
        proc = subprocess.Popen([*LOGKIT, "--db", str(killed_db), "ingest", "-q", str(data)])
        time.sleep(1.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        run_logkit("ingest", str(data), db=killed_db)
        digest = "SELECT count(*), bit_xor(hash(source, line, message)) FROM events"
        assert query(clean_db, digest) == query(killed_db, digest)
        assert query(killed_db, "SELECT count(*) FROM events")[0][0] == 150_000


def test_record_helper_is_distinct_per_number():
    assert record(1)["message"] != record(2)["message"]


class TestReadersDuringIngest:
    def test_queries_get_answers_while_a_writer_runs(self, tmp_path):
        """A reader waits for the writer's batch to end, never errors, and sees progress."""
        data = tmp_path / "logs"
        for i in range(2):
            write(data / f"s{i}.log", lines(i * 15_000, (i + 1) * 15_000, pad="p" * 300))
        db = tmp_path / "s.duckdb"
        run_logkit("ingest", str(write(tmp_path / "first.log", lines(0, 1))), db=db)
        cfg = tmp_path / "logkit.toml"
        cfg.write_text("[ingest]\nbatch_bytes = 500000\n")
        writer = subprocess.Popen(
            [*LOGKIT, "--db", str(db), "--config", str(cfg), "ingest", "-q", str(data)]
        )
        store = logkit.open(db)
        seen = []
        try:
            while writer.poll() is None:
                with store.reader() as con:
                    seen.append(con.execute("SELECT count(*) FROM events").fetchone()[0])
                time.sleep(0.05)
        finally:
            writer.wait()
        assert 0 == writer.returncode
        assert len(seen) >= 2
        assert seen == sorted(seen)
        assert 30_001 == count(store)


class TestFormatsTheCoreCannotRead:
    # A format whose pattern looks ahead, which the core's `regex` crate cannot read.
    LOOKAHEAD = b'[formats.odd]\nmatch = { keys = ["x"], patterns = { x = "^(?=a)" } }\n'

    @pytest.mark.parametrize("command", [["ingest"], ["formats"], ["formats", "detect"]])
    def test_a_format_the_core_cannot_read_is_a_config_error_naming_its_pattern(
        self, tmp_path, command
    ):
        """The core applies every format; one it cannot compile is refused as the formats
        load, whatever the command, with the pattern and why: nothing is read or stored."""
        write(tmp_path / "logkit.toml", self.LOOKAHEAD)
        log = write(tmp_path / "app.log", b'{"x": "abc", "message": "hi"}\n')
        args = command if command == ["formats"] else [*command, str(log)]
        db = tmp_path / "s.duckdb"
        proc = run_logkit(*args, db=db, check=False)
        message = 'Error: a log format uses what logkit cannot read: pattern "^(?=a)"'
        assert (1, True) == (proc.returncode, proc.stderr.decode().startswith(message))
        assert "look-around" in proc.stderr.decode()
        assert not db.exists() or [(0,)] == query(db, "SELECT count(*) FROM events")


def test_the_core_parses_a_run_s_first_block_before_its_imports_and_a_new_store_are_made(
    tmp_path,
):
    """The core's thread is a run's longest: it starts on the first block while the storing
    thread loads DuckDB's Python layer and makes a new store (ingest/run.py), so nothing it
    needs, nor anything before it, may load that or open the store. A plain file's ingest
    never loads pyarrow (nor numpy): the core's tables go to DuckDB as Arrow C streams."""
    log = write(tmp_path / "app.log", lines(0, 20))
    db = tmp_path / "s.duckdb"
    script = (
        "import os, sys\n"
        "import logkit.core\n"
        f"db, seen = {str(db)!r}, []\n"
        "parse = logkit.core.Core.process_block\n"
        "def spy(*args, **kwargs):\n"
        "    seen.append((sorted({'pyarrow', 'duckdb'} & set(sys.modules)), os.path.exists(db)))\n"
        "    return parse(*args, **kwargs)\n"
        "logkit.core.Core.process_block = spy\n"
        "from logkit.cli import main\n"
        f"sys.argv = ['logkit', '--db', db, 'ingest', '-q', {str(log)!r}]\n"
        "main()\n"
        "print(seen[0], sorted({'pyarrow', 'duckdb'} & set(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    assert proc.stdout.decode().split("\n")[0] == "([], False) ['duckdb']"
    assert count(logkit.open(db)) == 20
