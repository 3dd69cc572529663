"""Writes entries in the systemd Journal Export Format (binary-safe: a field whose value has a
newline or non-UTF-8 bytes is written as NAME, newline, 64-bit little-endian length, the bytes,
newline), the format systemd-journal-remote reads. gen/journald.sh stores them with
systemd-journal-remote and reads them back with `journalctl -o json`, so the JSON is
journalctl's own. Fixed times (2026-11-01T09:00:00Z onwards), a fixed boot id, fake host `vm`."""

import json
import struct
import sys

BOOT_ID = "0f7b2d3c4e5f40718293a4b5c6d7e8f9"
T0 = 1_793_523_600_000_000  # 2026-11-01T09:00:00Z in microseconds
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"

base = {"_BOOT_ID": BOOT_ID, "_HOSTNAME": "vm", "_MACHINE_ID": "5d1c9a0e7b3f4c2a8e6d0b1f2a3c4d5e",
        "_TRANSPORT": "stdout", "_UID": "998", "_GID": "998", "_COMM": "checkout",
        "_SYSTEMD_UNIT": "checkout.service", "SYSLOG_IDENTIFIER": "checkout", "_PID": "4242",
        "SYSLOG_FACILITY": "3"}  # fmt: skip

entries = [
    {"PRIORITY": "6", "MESSAGE": "server started on 127.0.0.1:8080"},
    # An app that writes JSON lines to stdout under systemd: the JSON is the MESSAGE.
    {
        "PRIORITY": "6",
        "MESSAGE": json.dumps(
            {
                "level": "info",
                "msg": "request handled",
                "trace_id": TRACE_ID,
                "method": "GET",
                "path": "/cart",
                "status": 200,
                "duration_ms": 12.5,
            }
        ),
    },
    {"PRIORITY": "4", "MESSAGE": "slow request: POST /checkout took 2.512s"},
    {
        "PRIORITY": "3",
        "MESSAGE": "payment failed\nTraceback (most recent call last):\n"
        '  File "/srv/checkout/pay.py", line 20, in charge\n'
        "PaymentDeclined: card declined for amount 250",
    },
    # Bytes that are not UTF-8 (Latin-1 "café" and a raw 0xff): journalctl gives a byte array.
    {"PRIORITY": "5", "MESSAGE": b"caf\xe9 \xff order note from legacy client"},
    # A message logged through sd_journal_send (native protocol) with structured fields.
    {
        "PRIORITY": "2",
        "MESSAGE": "database connection lost",
        "_TRANSPORT": "journal",
        "CODE_FILE": "db.c",
        "CODE_LINE": "118",
        "CODE_FUNC": "db_reconnect",
        "ERRNO": "111",
        "TRACE_ID": TRACE_ID,
    },
    # A kernel line: no unit, no identifier but "kernel".
    {
        "PRIORITY": "4",
        "MESSAGE": "TCP: request_sock_TCP: Possible SYN flooding on port 8080.",
        "_TRANSPORT": "kernel",
        "SYSLOG_IDENTIFIER": "kernel",
        "SYSLOG_FACILITY": "0",
        "_SYSTEMD_UNIT": None,
        "_PID": None,
        "_UID": None,
        "_GID": None,
        "_COMM": None,
    },
]


def field(name: str, value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    try:
        text_ok = b"\n" not in data and data.decode("utf-8") is not None
    except UnicodeDecodeError:
        text_ok = False
    if text_ok:
        return name.encode() + b"=" + data + b"\n"
    return name.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"


out = sys.stdout.buffer
for i, entry in enumerate(entries):
    fields = {**base, **entry}
    realtime = T0 + i * 1_250_000 + 317
    out.write(field("__REALTIME_TIMESTAMP", str(realtime)))
    out.write(field("__MONOTONIC_TIMESTAMP", str(5_000_000 + i * 1_250_000)))
    for name, value in fields.items():
        if value is not None:
            out.write(field(name, value))
    out.write(b"\n")
