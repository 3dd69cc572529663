"""Secrets where a line-by-line look at values does not reach: id columns, a private key printed
over many lines (across the blocks ingest cuts, across runs), and the names of the files
themselves. Each test ingests real files into a real store and looks at everything it keeps."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pytest

import logkit
from logkit.core import Core
from logkit.mask import Masker, key_block_lines

from .helpers import append, query, run_logkit, write
from .test_masking_e2e import store_bytes, table_text

BODY = [
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi3ZeHkLW7g1VhlAqlFdqQ0k4R",
    "nKXpPeb3cNtIvXkzS1ZQ8CkH2KPZ8oc1gHp4w6LQ6lAqeYxS1qx3fTqoxAqr7Wc",
    "Zk9QmC3u5yXq0nL8pW2rT6vB1dF4gH7jK0mN3oP6qR9sU2tV5wX8yZ1aB4cD7eF",
    "0123456789",  # a body line that alone is a JSON number
]
PEM_LINES = ["-----BEGIN RSA PRIVATE KEY-----", *BODY, "-----END RSA PRIVATE KEY-----"]


def record(n: int, **extra: object) -> bytes:
    return orjson.dumps({"ts": f"2026-11-22T10:00:{n:02d}Z", "msg": f"event {n}", **extra}) + b"\n"


def pem_log(before: int = 2, after: int = 2) -> bytes:
    """JSON records, a key printed as plain text (as `print(key)` would), more records."""
    return (
        b"".join(record(n) for n in range(before))
        + b"loading the signing key:\n"
        + "".join(line + "\n" for line in PEM_LINES).encode()
        + b"".join(record(n) for n in range(before, before + after))
    )


def leaked_key(text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return [line for line in BODY if line in text]


# --- 1. trace and span ids -----------------------------------------------------------------------


def test_a_card_or_ssn_in_an_id_column_is_masked_in_the_store(tmp_path):
    """trace_id/span_id skip the scan only when they have an id's shape."""
    log = write(
        tmp_path / "app.log",
        record(1, trace_id="4111-1111-1111-1111", span_id="078-05-1120")
        + record(2, trace_id="4bf92f3577b34da6a3ce929d0e0e4736", span_id="4111111111111111"),
    )
    db = tmp_path / "s.duckdb"
    logkit.open(db).ingest([str(log)])
    assert [
        ("[MASKED:card]", "[MASKED:ssn]"),
        ("4bf92f3577b34da6a3ce929d0e0e4736", "4111111111111111"),  # ids, left whole
    ] == query(db, "SELECT trace_id, span_id FROM events ORDER BY line")
    text = table_text(db) + store_bytes(db).decode("latin-1")
    assert "4111-1111-1111-1111" not in text and "078-05-1120" not in text


# --- 2. private keys over several lines ----------------------------------------------------------


def test_a_private_key_printed_over_several_lines_is_masked_whole(tmp_path):
    log = write(tmp_path / "app.log", pem_log())
    db = tmp_path / "s.duckdb"
    summary = logkit.open(db).ingest([str(log)])
    assert (4, 7) == (summary.events, summary.rejects)
    assert [] == leaked_key(table_text(db)) + leaked_key(store_bytes(db))
    assert [
        "loading the signing key:",
        *["[MASKED:private_key]"] * 6,
    ] == [raw for (raw,) in query(db, "SELECT raw FROM rejects ORDER BY line")]
    # The records after the key are events, as before it.
    assert ["event 0", "event 1", "event 2", "event 3"] == [
        m for (m,) in query(db, "SELECT message FROM events ORDER BY line")
    ]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_key_is_masked_across_the_blocks_ingest_cuts(tmp_path, workers):
    """Blocks of ~100 bytes: the key's lines reach the workers in different blocks; stdin, so
    that two workers run even for a small input."""
    config = write(
        tmp_path / "logkit.toml", f"[ingest]\nbatch_bytes = 100\nworkers = {workers}\n".encode()
    )
    db = tmp_path / "s.duckdb"
    run_logkit("--config", str(config), "ingest", "-q", "-", db=db, input=pem_log())
    assert (4, 7) == query(db, "SELECT (SELECT count(*) FROM events), count(*) FROM rejects")[0]
    assert [] == leaked_key(table_text(db)) + leaked_key(store_bytes(db))


def test_a_key_still_being_written_at_a_run_stays_masked_in_the_next(tmp_path):
    """A run reads the BEGIN line and half the body; the next goes on from its checkpoint."""
    head, tail = pem_log().split(BODY[2].encode())
    log = write(tmp_path / "app.log", head)
    db = tmp_path / "s.duckdb"
    logkit.open(db).ingest([str(log)])
    append(log, BODY[2].encode() + tail)
    logkit.open(db).ingest([str(log)])
    assert [] == leaked_key(table_text(db)) + leaked_key(store_bytes(db))
    assert 4 == query(db, "SELECT count(*) FROM events")[0][0]


@pytest.mark.parametrize("cut_line", [3, 40, 66, 90])
def test_two_runs_store_what_one_run_stores_around_a_key_cut_short(tmp_path, cut_line):
    """A key cut short in a text log, then 100 lines of 1 KB: the run that goes on from a
    checkpoint inside the block (or just past its limit) masks what one run masks."""
    lines = [b"x" * 1023 + b"\n"] * 100
    data = record(0) + PEM_LINES[0].encode() + b"\n" + BODY[0].encode() + b"\n" + b"".join(lines)
    data += record(1)
    cut = sum(len(line) + 1 for line in data.split(b"\n")[:cut_line])

    def rejects(db: Path) -> list[tuple[int, str]]:
        return query(db, "SELECT line, raw FROM rejects ORDER BY line")

    whole = tmp_path / "whole.duckdb"
    logkit.open(whole).ingest([str(write(tmp_path / "a" / "app.log", data))])
    split = tmp_path / "split.duckdb"
    log = write(tmp_path / "b" / "app.log", data[:cut])
    logkit.open(split).ingest([str(log)])
    append(log, data[cut:])
    logkit.open(split).ingest([str(log)])
    assert rejects(whole) == rejects(split)
    assert [] == leaked_key(table_text(split))


def test_logkit_mask_masks_a_multi_line_key_whole(tmp_path):
    log = write(tmp_path / "app.log", pem_log())
    out = run_logkit("mask", str(log), db=tmp_path / "none.duckdb").stdout.decode()
    assert [] == leaked_key(out)
    assert [
        *(record(n).decode().rstrip() for n in range(2)),
        "loading the signing key:",
        *["[MASKED:private_key]"] * 6,
        *(record(n).decode().rstrip() for n in range(2, 4)),
    ] == out.splitlines()


def test_logkit_mask_follows_a_key_across_the_blocks_it_reads(tmp_path):
    """`logkit mask` masks a block of lines at a time (logkit/masking.py): a key that starts in
    one block and ends in the next is masked whole, and no line is lost or doubled."""
    from logkit.masking import READ_BYTES

    filler = record(0, pad="x" * 200)
    before = READ_BYTES // len(filler)  # the key's BEGIN line in the first block, its end not
    log = write(tmp_path / "big.log", filler * before + pem_log(0, 3))
    out = run_logkit("mask", str(log), db=tmp_path / "none.duckdb").stdout.decode().splitlines()
    assert [] == leaked_key("\n".join(out))
    assert [filler.decode().rstrip()] * before + [
        "loading the signing key:",
        *["[MASKED:private_key]"] * 6,
        *(record(n).decode().rstrip() for n in range(3)),
    ] == out


def test_the_store_api_masks_a_stream_and_makes_its_key(tmp_path):
    """`Store.mask` and `Store.keygen`, which the CLI goes through, without a database."""
    store = logkit.open(tmp_path / "none.duckdb")
    log = write(tmp_path / "a.log", record(1, email="bob@example.com"))
    assert b'{"ts":"2026-11-22T10:00:01Z","msg":"event 1","email":"[MASKED:email]"}\n' == (
        b"".join(store.mask([str(log)]))
    )
    key = store.keygen()
    assert (key, 0o600, 65) == (
        tmp_path / "none.duckdb.key",
        key.stat().st_mode & 0o777,
        len(key.read_text()),
    )
    with pytest.raises(logkit.LogkitError, match="exists; pass --force"):
        store.keygen()
    before = key.read_text()
    assert (key, True) == (store.keygen(force=True), key.read_text() != before)
    assert not (tmp_path / "none.duckdb").exists()


def test_the_cut_last_line_of_a_stream_inside_a_key_is_masked():
    """A compressed file cut short in the middle of a key: the reader quarantines the partial
    last line (`truncated_stream`) with the block; it lies inside the key."""
    masker = Masker()
    data = "".join(line + "\n" for line in PEM_LINES[:3]).encode()
    cut = (4, len(data), "truncated_stream", BODY[2][:40].encode())
    result = Core({}, masker=masker.native).process_chunk("a.log.gz", data, 1, 0, [cut])
    assert ["[MASKED:private_key]"] * 4 == pa.table(result.rejects).column("raw").to_pylist()


def test_a_key_is_kept_when_the_private_key_detector_is_switched_off(tmp_path):
    config = write(tmp_path / "logkit.toml", b'[mask]\ndisable = ["private_key"]\n')
    db = tmp_path / "s.duckdb"
    run_logkit("--config", str(config), "ingest", "-q", str(write(tmp_path / "a.log", pem_log())),
               db=db)  # fmt: skip
    assert BODY == leaked_key(table_text(db))


class TestKeyBlockLines:
    """Which lines `key_block_lines` masks, given the lines and the state before them (0, or the
    bytes of an open block so far)."""

    def lines(self, *text: str) -> list[bytes]:
        return [t.encode() for t in text]

    def test_begin_to_end(self):
        lines = self.lines("x", PEM_LINES[0], "AAAA", PEM_LINES[-1], "y")
        assert ({2, 3}, 0) == key_block_lines(lines)

    def test_a_block_open_before_the_first_line_goes_on_to_its_end(self):
        assert ({0, 1}, 0) == key_block_lines(self.lines("AAAA", PEM_LINES[-1], "y"), 100)

    def test_a_block_without_its_end_stays_open(self):
        begin = PEM_LINES[0]
        assert ({1}, len(begin) + 1 + 5) == key_block_lines(self.lines(begin, "AAAA"))

    def test_a_json_record_ends_a_key_cut_short(self):
        lines = self.lines(PEM_LINES[0], "AAAA", '{"msg": "next"}', "text")
        assert ({1}, 0) == key_block_lines(lines)

    def test_a_key_cut_short_in_plain_text_masks_at_most_its_limit(self):
        """A text log after a cut key is masked for KEY_BLOCK_BYTES, not to its end."""
        line = "x" * 1023  # 1 KB with its newline
        masked, state = key_block_lines(self.lines(PEM_LINES[0], *[line] * 100))
        assert (set(range(1, 64)), 0) == (masked, state)  # the BEGIN line counts too

    def test_a_key_whole_on_one_line_opens_no_block(self):
        """In a JSON string its newlines are escapes: the detector masks it in place."""
        one = orjson.dumps({"k": "\n".join(PEM_LINES)}).decode()
        assert (set(), 0) == key_block_lines(self.lines(one, "AAAA"))

    def test_a_public_key_or_certificate_opens_no_block(self):
        lines = self.lines("-----BEGIN PUBLIC KEY-----", "AAAA", "-----BEGIN CERTIFICATE-----")
        assert (set(), 0) == key_block_lines(lines)


# --- 3. file names ------------------------------------------------------------------------------


def test_file_names_are_masked_in_every_table_and_the_lag_metric(tmp_path):
    logs = tmp_path / "logs"
    by_email = write(logs / "jane.doe@example.com.log", record(1) + b"not json\n")
    by_token = write(logs / "api_key=sk-live-0123456789abcdefghij" / "app.log", record(2))
    db = tmp_path / "s.duckdb"
    logkit.open(db).ingest([str(logs)])
    secrets = ["jane.doe", "sk-live-0123456789abcdefghij"]
    stored = table_text(db) + store_bytes(db).decode("latin-1")
    metrics = run_logkit("export", "--stdout", db=db).stdout.decode()
    assert [] == [s for s in secrets if s in stored + metrics]
    # A label set holding a masked value is never exported as itself (logkit/export/totals.py).
    assert 'logkit_source_lag_seconds{source="__other__"}' in metrics
    # The value of a text pair runs to a blank: the rest of the path goes with it.
    assert {str(logs) + "/[MASKED:email]", str(logs) + "/api_key=[MASKED:key]"} == {
        path for (path,) in query(db, "SELECT path FROM sources")
    }
    # Matched by content, not name: a second run reads nothing again, and goes on after an
    # append under the masked checkpoint.
    append(by_email, record(3))
    summary = logkit.open(db).ingest([str(logs)])
    assert (1, ["resumed", "unchanged"]) == (
        summary.events,
        sorted(s.status for s in summary.sources),
    )
    assert by_token.exists()


def test_file_names_are_kept_as_they_are_with_no_mask(tmp_path):
    log = write(tmp_path / "jane.doe@example.com.log", record(1) + b"not json\n")
    db = tmp_path / "s.duckdb"
    run_logkit("ingest", "-q", "--no-mask", str(log), db=db)
    assert [(str(log),)] * 3 == query(
        db,
        "SELECT source FROM events UNION ALL SELECT source FROM rejects"
        " UNION ALL SELECT path FROM sources",
    )


def test_a_masked_file_name_is_counted(tmp_path):
    log = write(tmp_path / "jane.doe@example.com.log", record(1))
    summary = logkit.open(tmp_path / "s.duckdb").ingest([str(log)])
    assert 1 == summary.masked["email"]


def test_names_stored_unmasked_before_are_masked_by_the_next_masked_run(tmp_path):
    """A checkpoint written by --no-mask (or an older logkit) for a file that never changes
    again (a rotated .gz) would keep its name in the lag metric for good."""
    log = write(tmp_path / "jane.doe@example.com.log.1.gz", record(1))
    db = tmp_path / "s.duckdb"
    run_logkit("ingest", "-q", "--no-mask", str(log), db=db)
    summary = logkit.open(db).ingest([str(log)])
    assert ["unchanged"] == [s.status for s in summary.sources]
    assert [(str(tmp_path / "[MASKED:email]"),)] == query(db, "SELECT path FROM sources")


def test_logkit_user_finds_a_pseudonymised_user_by_the_id_people_type(tmp_path):
    """`[mask] fields = ["user_id"]`: ids are stored as pseudonyms (the native masker's HMAC),
    and `logkit user RAW_ID` / `store.user` apply the same HMAC to what they are given."""
    db = tmp_path / "s.duckdb"
    write(tmp_path / "logkit.toml", b'[mask]\nfields = ["user_id"]\n')
    run_logkit("keygen", db=db)
    log = write(
        tmp_path / "a.log",
        b"".join(record(n, user_id="u_42" if n % 2 else "u_7") for n in range(6)),
    )
    run_logkit("--config", str(tmp_path / "logkit.toml"), "ingest", "-q", str(log), db=db)
    store = logkit.open(db, config_path=tmp_path / "logkit.toml")
    found = store.user("u_42", since="2020-01-01")
    assert (3, True) == (len(found), "u_42" not in table_text(db))
    cli = run_logkit(
        "--config", str(tmp_path / "logkit.toml"), "user", "u_42", "--since", "2020-01-01",
        "--format", "ndjson", db=db,
    )  # fmt: skip
    assert 3 == len(cli.stdout.splitlines())
