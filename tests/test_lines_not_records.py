"""Lines that are not one record each: an OTLP/JSON export line holds many log records
([explode] in logkit/formats/otlp-json.toml), and a line a container runtime split into parts
(Docker's json-file driver at 16 KiB, CRI's `P` lines: [partial] in docker.toml and cri.toml)
is one record again once joined. Both on the real programs' output (tests/real/formats,
PRODUCED.md) and on big generated lines made by the same rules, through real ingest runs into
real stores: across blocks, across runs, per stream, masked whole, each stored once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import logkit

from .helpers import append, query, run_logkit, write

REAL = Path(__file__).parent / "real" / "formats"
DOCKER_PART = 16 * 1024  # dockerd's logger.Copier cuts lines at this many bytes
CRI_PART = 8192  # conmon's buffer, as in cri.log


def ingest(tmp_path: Path, *paths: Path, config: str = "", name: str = "s.duckdb") -> object:
    toml = tmp_path / "logkit.toml"
    toml.write_text(config)
    return logkit.open(tmp_path / name, config_path=toml).ingest([str(p) for p in paths])


def rows(tmp_path: Path, sql: str, name: str = "s.duckdb") -> list[tuple]:
    return query(tmp_path / name, sql)


def big_record(n: int, size: int) -> bytes:
    """An app's JSON line of about `size` bytes (no newline), told apart by `n`."""
    filler = ("lorem ipsum dolor sit amet " * (size // 27 + 1))[:size]
    return json.dumps(
        {"timestamp": f"2026-11-22T10:01:{n % 60:02d}Z", "level": "info", "event": f"big {n}",
         "trace_id": f"{n:032x}", "prompt": filler}, separators=(",", ":"),
    ).encode()  # fmt: skip


def docker_entries(content: bytes, stream: str, time: str) -> list[bytes]:
    """The json-file driver's entries for one line the container wrote: cut every 16 KiB,
    the parts without the newline, the last with it (PRODUCED.md, docker_json_file)."""
    text = content + b"\n"
    parts = [text[i : i + DOCKER_PART] for i in range(0, len(text), DOCKER_PART)]
    return [
        json.dumps({"log": part.decode(), "stream": stream, "time": time},
                   separators=(",", ":")).encode() + b"\n"
        for part in parts
    ]  # fmt: skip


def cri_lines(content: bytes, stream: str, time: str) -> list[bytes]:
    """The CRI lines for one line the container wrote: P parts of 8 KiB, then the F rest."""
    parts = [content[i : i + CRI_PART] for i in range(0, len(content), CRI_PART)] or [b""]
    return [
        f"{time} {stream} {'F' if i == len(parts) - 1 else 'P'} ".encode() + part + b"\n"
        for i, part in enumerate(parts)
    ]


def interleaved(first: list[bytes], second: list[bytes]) -> bytes:
    """Two streams' entries taken in turn, as stdout's and stderr's copiers write them."""
    out = []
    for i in range(max(len(first), len(second))):
        out += first[i : i + 1] + second[i : i + 1]
    return b"".join(out)


class TestOtlpJson:
    def test_each_log_record_of_an_export_line_is_an_event(self, tmp_path):
        """The OTLP JSON file exporter's 2 lines hold 6 records: 6 events, each with its
        resource's service and its scope's name, its own time, level, body and ids; the
        events of one line share its source, line and stream and are told apart by
        attrs.line_index (generic read them as 2 events with no columns)."""
        summary = ingest(tmp_path, REAL / "otel_otlp_json.ndjson")
        found = rows(
            tmp_path,
            "SELECT line, attrs->>'line_index', service, logger, level, message, trace_id,"
            " span_id IS NOT NULL, status_code, error_type, input_tokens FROM events"
            " ORDER BY line, (attrs->>'line_index')::int",
        )
        trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        assert (2, 6, 0) == (summary.lines, summary.events, summary.rejects)
        assert [
            (1, "0", "checkout", "checkout", "DEBUG", "config loaded", None, False, None, None,
             None),
            (1, "1", "checkout", "checkout", "INFO", "request handled", trace, True, 200, None,
             None),
            (1, "2", "checkout", "checkout", "WARNING", "slow request", trace, True, None, None,
             None),
            (1, "3", "checkout", "checkout", "ERROR", "payment failed", trace, True, None,
             "PaymentDeclined", None),
            (1, "4", "checkout", "checkout", "INFO", "llm call", trace, True, None, None, 412),
            (2, "0", "checkout", "checkout", "CRITICAL", "shutting down", None, False, None,
             None, None),
        ] == found  # fmt: skip
        assert [(6,)] == rows(
            tmp_path, "SELECT count(DISTINCT (stream, line, attrs->>'line_index')) FROM events"
        )

    def test_the_events_of_a_line_are_stored_once_across_runs(self, tmp_path):
        """A line's records commit with the line: a rerun over the grown file adds only the
        new line's records."""
        log = tmp_path / "otlp.ndjson"
        lines = (REAL / "otel_otlp_json.ndjson").read_bytes().splitlines(keepends=True)
        write(log, lines[0])
        first = ingest(tmp_path, log)
        append(log, lines[1])
        second = ingest(tmp_path, log)
        assert (5, 1) == (first.events, second.events)
        assert [(6,)] == rows(tmp_path, "SELECT count(*) FROM events")

    def test_an_export_line_with_no_records_is_quarantined_not_dropped(self, tmp_path):
        log = write(tmp_path / "o.ndjson", b'{"resourceLogs":[{"scopeLogs":[]}]}\n')
        summary = ingest(tmp_path, log)
        assert (0, {"no_records": 1}) == (summary.events, dict(summary.rejected))

    def test_an_export_of_no_records_split_by_docker_is_quarantined_at_its_first_part(
        self, tmp_path
    ):
        """An export line of no records that dockerd cut in two: one no_records reject at
        the first part's line, its whole text kept (the joined line used to vanish: two lines
        read, no event, no reject)."""
        empty = json.dumps({"resourceLogs": [{"scopeLogs": []}], "pad": "x" * DOCKER_PART})
        entries = docker_entries(empty.encode(), "stdout", "2026-11-22T10:01:00Z")
        log = write(tmp_path / "c.log", b"".join(entries))
        summary = ingest(tmp_path, log)
        assert (2, 0, {"no_records": 1}) == (summary.lines, summary.events,
                                             dict(summary.rejected))  # fmt: skip
        assert [(1, "no_records")] == rows(tmp_path, "SELECT line, reason FROM rejects")

    def test_an_export_a_container_wrote_is_split_joined_and_exploded(self, tmp_path):
        """The OTLP JSON file exporter writing to a container's stdout: the export lines in
        Docker's json-file entries, the first (~5 KB) repeated into one line past 16 KiB so
        dockerd cuts it. Each record is an event (docker/otlp-json), the joined line's at its
        first part's line, with the container's stream in attrs.envelope."""
        export = (REAL / "otel_otlp_json.ndjson").read_bytes().splitlines()
        batch = json.loads(export[0])
        batch["resourceLogs"] *= 4  # 4 x 5 records, ~22 KB on one line
        big = json.dumps(batch, separators=(",", ":")).encode()
        entries = docker_entries(big, "stdout", "2026-11-22T10:01:00Z")
        entries += docker_entries(export[1], "stdout", "2026-11-22T10:01:01Z")
        log = write(tmp_path / "c.log", b"".join(entries))
        summary = ingest(tmp_path, log, config="[ingest]\nbatch_bytes = 4096\n")
        assert (len(entries), 21, {"docker/otlp-json": 21}) == (
            summary.lines,
            summary.events,
            {name: counts["events"] for name, counts in summary.format_coverage().items()},
        )
        assert [
            (1, 20, 20, "checkout", "stdout"),
            (len(entries), 1, 1, "checkout", "stdout"),
        ] == rows(
            tmp_path,
            "SELECT line, count(*), count(DISTINCT attrs->>'line_index'), any_value(service),"
            " any_value(attrs->'envelope'->>'stream') FROM events GROUP BY line ORDER BY line",
        )


class TestDockerPartials:
    def test_the_real_split_line_is_one_event(self, tmp_path):
        """docker_json_file.ndjson's lines 8 and 9 are one ~20 KB line dockerd cut at 16 KiB:
        one event, at line 8, read as the structlog record it is, its prompt whole."""
        summary = ingest(tmp_path, REAL / "docker_json_file.ndjson")
        [(line, message, prompt)] = rows(
            tmp_path,
            "SELECT line, message, length(attrs->>'prompt') FROM events WHERE line >= 8"
            " AND line <= 9",
        )
        assert (10, 9, 8, "llm call") == (summary.lines, summary.events, line, message)
        assert prompt > DOCKER_PART

    def test_big_lines_split_on_both_streams_are_joined_per_stream_across_blocks(self, tmp_path):
        """Two ~100 KB records, one on stdout and one on stderr, their 16 KiB entries
        interleaved, read in 4 KiB blocks: each is one event with its whole content, and what
        is stored is what one block of the whole file stores."""
        out = docker_entries(big_record(1, 100_000), "stdout", "2026-11-22T10:01:01Z")
        err = docker_entries(big_record(2, 70_000), "stderr", "2026-11-22T10:01:02Z")
        small = docker_entries(b'{"level":"info","event":"small"}', "stdout",
                               "2026-11-22T10:01:03Z")  # fmt: skip
        log = write(tmp_path / "c.log", interleaved(out, err) + small[0])
        stored = []
        for name, block in (("small.duckdb", 4096), ("whole.duckdb", 1 << 24)):
            summary = ingest(tmp_path, log, config=f"[ingest]\nbatch_bytes = {block}\n",
                             name=name)  # fmt: skip
            assert (len(out) + len(err) + 1, 3) == (summary.lines, summary.events)
            stored.append(rows(
                tmp_path, "SELECT line, message, length(attrs->>'prompt'), attrs->'envelope'"
                "->>'stream' FROM events ORDER BY line", name=name,
            ))  # fmt: skip
        assert stored[0] == stored[1]
        assert [(1, "big 1", 100_000, "stdout"), (2, "big 2", 70_000, "stderr"),
                (len(out) + len(err) + 1, "small", None, "stdout")] == stored[0]  # fmt: skip

    def test_a_run_that_stops_between_parts_stores_the_line_once_when_it_ends(self, tmp_path):
        """The file ends between two parts of a line (the container is writing it): the run
        stores what came before and waits; the next run, once the last part is there, stores
        the joined line at its first part's line, and nothing twice."""
        head = docker_entries(
            b'{"level":"info","event":"before"}', "stdout", "2026-11-22T10:01:00Z"
        )
        parts = docker_entries(big_record(3, 40_000), "stdout", "2026-11-22T10:01:01Z")
        log = write(tmp_path / "c.log", head[0] + b"".join(parts[:-1]))
        first = ingest(tmp_path, log)
        append(log, parts[-1])
        second = ingest(tmp_path, log)
        assert (1, 1) == (first.events, second.events)
        assert any("parts of a split line" in w for w in first.warnings)
        assert [(1, "before", None), (2, "big 3", 40_000)] == rows(
            tmp_path, "SELECT line, message, length(attrs->>'prompt') FROM events ORDER BY line"
        )

    def test_parts_longer_than_max_line_bytes_are_let_go_whole_and_once(self, tmp_path):
        """The reader holds parts only up to max_line_bytes: beyond it, what it holds is
        stored as one event and the rest as another; every byte is stored, none twice."""
        text = "".join(f"{n:07d} " for n in range(8000))  # 64 KB of plain text
        log = write(
            tmp_path / "c.log",
            b"".join(docker_entries(text.encode(), "stdout", "2026-11-22T10:01:00Z")),
        )
        summary = ingest(
            tmp_path, log, config="[ingest]\nbatch_bytes = 4096\nmax_line_bytes = 40000\n"
        )
        stored = rows(tmp_path, "SELECT message FROM events ORDER BY line")
        assert (4, 0) == (summary.lines, summary.rejects)
        assert 1 < len(stored) and text == "".join(message for (message,) in stored)

    def test_a_secret_cut_in_two_by_the_split_is_masked(self, tmp_path):
        """A bearer token that the 16 KiB cut splits is masked in the joined event, though
        the entry holding its second half has nothing a detector would recognise."""
        head = " Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0."
        # The cut falls before the token's signature: the second entry holds only that.
        text = ("x" * (DOCKER_PART - len(head)) + head + "c2lnbmF0dXJlc2VjcmV0 done").encode()
        log = write(
            tmp_path / "c.log", b"".join(docker_entries(text, "stderr", "2026-11-22T10:01:00Z"))
        )
        ingest(tmp_path, log)
        dump = str(rows(tmp_path, "SELECT * FROM events"))
        assert (1, False) == (len(rows(tmp_path, "SELECT * FROM events")), "c2lnbmF0dXJl" in dump)


class TestCriPartials:
    def test_the_real_p_lines_are_joined_and_an_unended_one_waits(self, tmp_path):
        """cri.log: lines 7 (P, 8192 bytes) and 8 (F) are one record, stored at line 7 as the
        structlog record it is; line 9 is a P the process never ended (it exited without a
        newline): it waits for its end, as a last line without its newline does."""
        summary = ingest(tmp_path, REAL / "cri.log")
        assert (8, 7) == (summary.lines, summary.events)
        assert [(7, "llm call", "INFO")] == rows(
            tmp_path, "SELECT line, message, level FROM events WHERE line >= 7"
        )

    def test_a_compressed_stream_that_ends_mid_line_stores_the_parts_it_has(self, tmp_path):
        """A .gz copy cannot grow: its unended P line is its last record, stored as it is."""
        log = write(tmp_path / "cri.log.gz", (REAL / "cri.log").read_bytes())
        summary = ingest(tmp_path, log)
        assert (9, 8) == (summary.lines, summary.events)
        assert [(9, "shutting down (no newline at exit)")] == rows(
            tmp_path, "SELECT line, message FROM events WHERE line = 9"
        )

    @pytest.mark.parametrize("block", [1024, 9000, 1 << 21])
    def test_long_lines_are_whole_whatever_the_blocks_and_runs(self, tmp_path, block):
        """Records of 30-50 KB in 8 KiB P parts, stdout and stderr interleaved, read in blocks
        smaller and larger than a part, and in two runs cut at every 17th line of the file:
        the store holds each record once, whole, at its first part's line."""
        lines: list[bytes] = []
        expected = []
        for n in range(6):
            out = cri_lines(big_record(n, 30_000 + n * 4000), "stdout",
                            f"2026-11-22T10:01:0{n}.000000001Z")  # fmt: skip
            err = cri_lines(f"stderr line {n}".encode(), "stderr",
                            f"2026-11-22T10:01:0{n}.000000002Z")  # fmt: skip
            expected += [(len(lines) + 1, f"big {n}"), (len(lines) + 2, f"stderr line {n}")]
            lines += interleaved(out, err).splitlines(keepends=True)
        config = f"[ingest]\nbatch_bytes = {block}\n"
        for cut in range(5, len(lines), 17):
            name = f"run{cut}.duckdb"
            log = write(tmp_path / f"cri{cut}.log", b"".join(lines[:cut]))
            ingest(tmp_path, log, config=config, name=name)
            append(log, b"".join(lines[cut:]))
            ingest(tmp_path, log, config=config, name=name)
            stored = rows(tmp_path, "SELECT line, message FROM events ORDER BY line", name=name)
            assert expected == stored, cut


def test_formats_detect_shows_each_record_of_a_line_and_marks_parts(tmp_path):
    """`logkit formats detect` shows what ingest would store: a row per record of an OTLP
    line, under the line's number, and the parts of a split line as such, the joined record
    at the part that ends it."""

    def detect(path: Path) -> list[tuple]:
        proc = run_logkit("formats", "detect", str(path), "--format", "ndjson", db=tmp_path / "s")
        rows = [json.loads(line) for line in proc.stdout.splitlines()]
        return [(r["line"], r["format"], r.get("message")) for r in rows]

    part = "(part of a split line: its event is at the part that ends it)"
    otlp = detect(REAL / "otel_otlp_json.ndjson")
    assert [(1, "otlp-json")] * 5 + [(2, "otlp-json")] == [row[:2] for row in otlp]
    assert [(7, part, None), (8, "cri/structlog", "llm call"), (9, part, None)] == detect(
        REAL / "cri.log"
    )[-3:]
