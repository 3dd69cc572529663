"""The ingest pipeline: raw line → record → canonical event → masked event.

A stage is a callable `(raw: bytes, value) -> value`: it gets the raw line (for cheap checks on
bytes) and the previous stage's output. The default pipeline is a plain list, and the runner is a
loop. A line that cannot become an event raises `Reject(reason)`; the runner records it, with
its source, line number and byte offset, in the quarantine (`rejects`), masked like everything
else. The Normalize stage may also signal that a line is not one record (logkit/formats):
`Records` (a line of many: each an event of that line), `Held` (a part of a split line: no event
yet) and `Joined` (the part that ends one: the event of the whole, at its first part's line).

Stages run per line, which is the one place where Python's per-line overhead adds up; the work
is batched (`process_chunk` takes a block of complete lines and returns one Arrow table) so
that worker processes can run it on every core and DuckDB ingests columns, not rows.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import operator
import os
import re
import select
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from .formats import Held, Joined, Records
from .mask import KEY_LINE, KEY_MARK, key_block_lines
from .schema import EVENT_COLUMNS, trace_key

Stage = Callable[[bytes, Any], Any]

RAW_KEEP_CHARS = 2048  # how much of a rejected line the quarantine keeps
TOO_LONG_KEEP = 64 * 1024  # prefix of an over-long line kept for the (masked) quarantine
BOM = b"\xef\xbb\xbf"

_ARROW_TYPES = {
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "DOUBLE": pa.float64(),
    "INTEGER": pa.int32(),
    "UINTEGER": pa.uint32(),
    "BIGINT": pa.int64(),
    "BOOLEAN": pa.bool_(),
}
EVENT_SCHEMA = pa.schema([(name, _ARROW_TYPES[type_]) for name, type_ in EVENT_COLUMNS])
REJECT_SCHEMA = pa.schema(
    [("source", pa.string()), ("line", pa.int64()), ("byte_offset", pa.int64()),
     ("reason", pa.string()), ("raw", pa.string())]
)  # fmt: skip

# Numbers orjson would silently turn into floats (beyond 64 bits) are parsed exactly instead.
# Found as a run of 20 digits: with every digit made a 0 that is one `find`, several times
# cheaper on every line than the regex `\d{20}`.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_TWENTY_DIGITS = b"0" * 20
# A `\ud800` escape without its pair: valid JSON syntax (JavaScript's JSON.stringify writes it
# for a broken string), but not text that UTF-8, Arrow or DuckDB can hold.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# `<RFC 3339 time> <stdout|stderr> <P|F>[:more tags] <content>`, as the kubelet writes
# /var/log/pods/*/*/N.log (P: a partial line the runtime split, F: the full line or its end).
_CRI_LINE = re.compile(
    rb"(\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([PF][^ ]*) (.*)", re.S
)


class Reject(Exception):
    """This line cannot become an event; `reason` is a short stable identifier."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _exact(value: Any) -> Any:
    """Make stdlib-parsed values storable as JSON: NaN and Infinity (not JSON) become strings.

    Huge ints stay ints; `_dumps` writes them exactly. Lone surrogates, which orjson refuses
    and the standard library lets through, become U+FFFD as a UTF-8 decoder would make them.
    """
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, dict):
        return {_exact(k): _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


def _classify(raw: bytes, error: Exception) -> str:
    if b"\x00" in raw:
        return "nul_byte"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_utf8"
    stripped = text.strip()
    if not stripped:
        return "blank_line"
    if stripped[0] not in "{[":
        # Valid JSON that is not an object never gets here (parse_json says not_object): a
        # line that only begins like a number ("2026 is a year") is plain text.
        if stripped[0] == '"' or stripped in ("true", "false", "null"):
            return "not_object"
        return "not_json"
    if "recursion" in str(error) or "depth" in str(error):
        return "too_deep"
    return "invalid_json"


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return False
    return True


def parse_json(raw: bytes, _: Any = None) -> dict[str, Any]:
    """Stage 1: bytes → dict, or Reject. Tolerates a BOM and a CR before the newline."""
    if raw.startswith(BOM):
        raw = raw[3:]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    try:
        value = orjson.loads(raw)
        if raw.translate(_DIGITS_AS_ZERO).find(_TWENTY_DIGITS) >= 0:
            raise ValueError("exact integers needed")
    except (orjson.JSONDecodeError, ValueError) as error:
        if raw[:4].isdigit():
            cri = _CRI_LINE.fullmatch(raw)
            # A tag that is not UTF-8 makes it no CRI line (the runtime writes ASCII tags).
            if cri is not None and _utf8(cri[3]):
                # A Kubernetes (CRI) container log line: a text envelope, made a record for the
                # `cri` log format to unwrap (its content is often a JSON record).
                time, stream, tag, content = cri.groups()
                return {
                    "time": time.decode(),
                    "stream": stream.decode(),
                    "logtag": tag.decode(),
                    "log": content.decode("utf-8", "replace"),
                }
        # orjson refuses NaN/Infinity and rounds huge ints; the standard library accepts both.
        # Slow, but only for the rare line that needs it.
        try:
            if b"\x00" in raw:
                raise
            value = _exact(json.loads(raw.decode("utf-8")))
        except (ValueError, RecursionError):
            raise Reject(_classify(raw, error)) from None
    if not isinstance(value, dict):
        raise Reject("not_object")
    return value


@dataclass(frozen=True)
class FormatSettings:
    """Which log formats a run knows beyond the built-in ones, and the one it may force:
    logkit.toml's `[formats.NAME]` tables, `[ingest] formats_dir`, `ingest --log-format`."""

    tables: dict[str, Any] = field(default_factory=dict)
    formats_dir: str | None = None
    forced: str | None = None

    def recognizer(self, aliases: dict[str, list[str]] | None) -> Any:
        from .formats import Recognizer, load_formats

        specs = load_formats(self.tables, self.formats_dir)
        return Recognizer(specs, aliases, self.forced)


class Normalize:
    """Stage 2: record → canonical event, by the record's log format (see logkit/formats).

    `counts` are, per format, the events it matched and how many got each key column; the
    pipeline takes them per block (`take_counts`) for the ingest summary.
    """

    def __init__(
        self, aliases: dict[str, list[str]] | None = None, formats: FormatSettings | None = None
    ) -> None:
        self._recognizer = (formats or FormatSettings()).recognizer(aliases)

    def __call__(self, raw: bytes, record: dict[str, Any]) -> dict[str, Any]:
        return self._recognizer(record)

    def take_counts(self, events: Any) -> dict[str, list[int]]:
        return self._recognizer.take_counts(events)

    def dropped(self, back: int = 0) -> None:
        self._recognizer.dropped(back)

    def flush(self) -> list[tuple[Any, list[dict[str, Any]]]]:
        return self._recognizer.flush()


class PartialScan:
    """Where a block of lines must end so that the parts of a split line ([partial] formats:
    Docker's 16 KiB entries, CRI's P lines) are never in two blocks (see LineBlocker).

    It reads lines back from a block's end, parsing and recognising them, so its cost is per
    block, not per line: one line for a log that no [partial] format reads (it stops at the
    first line of another format unless a sequence is open), up to `WINDOW` bytes of lines in
    a log that one does (a stream's last line decides whether it is open). A sequence whose
    parts are further apart than that, interleaved with another stream's lines, is not seen.
    """

    WINDOW = 64 * 1024

    def __init__(self, recognizer: Any) -> None:
        self.recognizer = recognizer

    @classmethod
    def of(
        cls, formats: FormatSettings, aliases: dict[str, list[str]] | None
    ) -> PartialScan | None:
        """A scan for these formats, or None when none of them splits lines."""
        recognizer = formats.recognizer(aliases)
        if recognizer.forced is not None:
            splits = recognizer.forced.spec.partial is not None
        else:
            splits = any(fmt.spec.partial for fmt in recognizer.formats.values())
        return cls(recognizer) if splits else None

    def _part(self, raw: bytes) -> tuple[Any, bool] | None:
        try:
            record = parse_json(raw)
        except Reject:
            return None
        return self.recognizer.part_of(self.recognizer.recognise(record), record)

    def unfinished(self, chunk: bytes) -> int:
        """The offset in `chunk` (complete lines) of the first part of the earliest sequence
        its lines leave open; len(chunk) when they leave none."""
        cut = len(chunk)
        closed: set[Any] = set()
        extending: set[Any] = set()  # open, and their first part not yet found
        end = len(chunk) - 1  # the newline that ends the last line
        while end >= 0:
            start = chunk.rfind(b"\n", 0, end) + 1
            part = self._part(chunk[start:end])
            if part is None:
                if not extending:
                    break
            else:
                key, continues = part
                if key in extending:
                    if continues:
                        cut = start
                    else:
                        extending.discard(key)
                        closed.add(key)
                elif key not in closed:
                    if continues:
                        extending.add(key)
                        cut = start
                    else:
                        closed.add(key)
            if not extending and len(chunk) - start > self.WINDOW:
                break
            end = start - 1
        return cut


class Mask:
    """Stage 3: mask secrets in the event (the native masker, logkit/mask.py); skipped when
    the raw bytes hold nothing to mask (its prefilter)."""

    def __init__(self, masker: Any) -> None:
        self.masker = masker

    def __call__(self, raw: bytes, event: dict[str, Any]) -> dict[str, Any]:
        if self.masker.needs_masking(raw):
            return self.masker.mask_event(event)
        return event


def build_stages(
    aliases: dict[str, list[str]] | None, masker: Any | None, formats: FormatSettings | None = None
) -> list[Stage]:
    stages: list[Stage] = [parse_json, Normalize(aliases, formats)]
    if masker is not None:
        stages.append(Mask(masker))
    return stages


@dataclass
class ChunkResult:
    """What one block of lines became."""

    events: pa.Table
    rejects: pa.Table
    lines: int
    no_ts: int = 0
    newest_ts: int | None = None
    reasons: Counter[str] = field(default_factory=Counter)
    masked: Counter[str] = field(default_factory=Counter)
    # Per log format: [events, events with ts, level, message, service, trace_id].
    formats: dict[str, list[int]] = field(default_factory=dict)


def mask_raw(raw: bytes, masker: Any | None) -> str:
    """A rejected line as text fit for the quarantine: decoded, masked whole, then cut."""
    text = raw.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")
    if masker is not None:
        # Mask before cutting: a cut could split a secret into a part no detector recognises.
        text = masker.mask_text(text)
    return text[:RAW_KEEP_CHARS]


# orjson parses up to 1024 levels of nesting but writes only 255; the standard library's writer
# recurses once per level, so it gets the head room a 1024-deep record needs.
_DEEP_RECURSION_LIMIT = 4000


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        pass
    # Deeper than orjson writes, or ints beyond 64 bits: the standard library writes both.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _DEEP_RECURSION_LIMIT))
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except RecursionError:
        raise Reject("too_deep") from None
    finally:
        sys.setrecursionlimit(limit)


_ROW = operator.itemgetter(*EVENT_SCHEMA.names)
# A block's events become Arrow columns this many at a time: a whole 2 MB block's dicts (and
# their transposed tuples) at once is ~25 MB a worker's allocator then keeps.
ARROW_EVERY = 1024


def to_arrow(events: list[dict[str, Any]]) -> pa.Table:
    """Events as one Arrow table. Transposing tuples beats `Table.from_pylist` about 3x."""
    if not events:
        return EVENT_SCHEMA.empty_table()
    columns = zip(*map(_ROW, events), strict=True)
    arrays = [pa.array(col, type=f.type) for col, f in zip(columns, EVENT_SCHEMA, strict=True)]
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def process_chunk(
    stages: Sequence[Stage],
    masker: Any | None,
    source: str,
    data: bytes,
    first_line: int,
    first_offset: int,
    extra_rejects: Sequence[tuple[int, int, str, bytes]] = (),
    in_key: int = 0,
    max_line: int | None = None,
) -> ChunkResult:
    """Run the stages over every line of `data` (complete lines; the last may lack its newline).

    `extra_rejects` are lines the reader already refused (too long), as (line, offset, reason,
    raw prefix); they are masked and quarantined like the rest. `in_key`: the lines before
    `data` left a private key block open (its bytes so far; see `key_block_lines` in
    logkit/mask.py); its lines are quarantined as `KEY_LINE`. A line longer than `max_line`
    bytes is quarantined as `line_too_long` with its (masked) start, wherever it sits in the
    block. Parts of a split line whose end is not in the block (the stream ended mid-line) are
    one event at its end.
    """
    events: list[dict[str, Any]] = []
    converted: list[pa.Table] = []
    rejects: list[dict[str, Any]] = []
    reasons: Counter[str] = Counter()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    offset = first_offset
    line_no = first_line
    no_ts = 0
    newest = None
    key_lines: set[int] = set()
    key_open = 0  # after the last line: the reader's rejects (a stream cut short) go there
    if masker is not None and masker.masks_key_blocks and (in_key or KEY_MARK in data):
        key_lines, key_open = key_block_lines(lines, in_key)
    normalize = next((stage for stage in stages if isinstance(stage, Normalize)), None)
    # What runs on an event made otherwise than from its own line (joined from parts, one of a
    # line's many): the stages after Normalize, masking checked on all the bytes it came from.
    after = stages[stages.index(normalize) + 1 :] if normalize is not None else []
    # Parts held until the one that ends them: (first line, its offset, raw parts) per sequence.
    held: dict[Any, tuple[int, int, list[bytes]]] = {}

    def take(value: dict[str, Any], line: int) -> None:
        """Add a normalised event (its attrs already JSON text) to the block's events."""
        nonlocal events, no_ts, newest
        trace_id = value["trace_id"]
        value["trace_key"] = trace_key(trace_id) if trace_id is not None else None
        value["source"] = source
        value["line"] = line
        ts = value["ts"]
        if ts is None:
            no_ts += 1
        elif newest is None or ts > newest:
            newest = ts
        events.append(value)
        if len(events) == ARROW_EVERY:
            converted.append(to_arrow(events))
            events = []

    def keep(value: dict[str, Any], raw: bytes, line: int, off: int, back: int = 0) -> None:
        """Store an event of the rare kinds (above), or quarantine it, as the loop does."""
        try:
            for stage in after:
                value = stage(raw, value)
            value["attrs"] = _dumps(value["attrs"])
        except Reject as reject:
            assert normalize is not None
            normalize.dropped(back)
            reasons[reject.reason] += 1
            rejects.append(
                {"source": source, "line": line, "byte_offset": off, "reason": reject.reason,
                 "raw": mask_raw(raw[:TOO_LONG_KEEP], masker)}
            )  # fmt: skip
            return
        take(value, line)

    def keep_all(made: list[dict[str, Any]], raw: bytes, line: int, off: int) -> None:
        """The events of one line, or of one line joined from parts: each kept, as `keep`
        does; a line that holds no records (an OTLP export of none) is quarantined, not
        dropped unseen."""
        if not made:
            reasons["no_records"] += 1
            rejects.append(
                {"source": source, "line": line, "byte_offset": off, "reason": "no_records",
                 "raw": mask_raw(raw[:TOO_LONG_KEEP], masker)}
            )  # fmt: skip
        for position, event in enumerate(made):
            keep(event, raw, line, off, back=len(made) - 1 - position)

    for index, raw in enumerate(lines):
        try:
            if max_line is not None and len(raw) > max_line:
                raise Reject("line_too_long")
            value: Any = raw
            for stage in stages:
                value = stage(raw, value)
            value["attrs"] = _dumps(value["attrs"])
        except Reject as reject:
            if type(value) is dict and normalize is not None:
                normalize.dropped()  # an event after all, but not one that is stored
            reasons[reject.reason] += 1
            kept = KEY_LINE if index in key_lines else mask_raw(raw[:TOO_LONG_KEEP], masker)
            rejects.append(
                {"source": source, "line": line_no, "byte_offset": offset,
                 "reason": reject.reason, "raw": kept}
            )  # fmt: skip
        except Records as many:
            # One line, many records: each an event with this line's number (attrs.line_index
            # tells them apart); a line that holds none is quarantined, not dropped unseen.
            keep_all(many.events, raw, line_no, offset)
        except Held as part:
            held.setdefault(part.key, (line_no, offset, []))[2].append(raw)
        except Joined as joined:
            # The event of a record split over lines has its first part's line and offset.
            first, first_offset, parts = held.pop(joined.key, (line_no, offset, []))
            keep_all(joined.events, b"\n".join([*parts, raw]), first, first_offset)
        else:
            take(value, line_no)
        offset += len(raw) + 1
        line_no += 1
    if normalize is not None and held:
        # Parts whose end is not in the block: the stream ended mid-line (the reader keeps an
        # unfinished sequence out of a block while its file may still grow).
        for key, made in normalize.flush():
            first, first_offset, parts = held.pop(key)
            keep_all(made, b"\n".join(parts), first, first_offset)
    for line, off, reason, raw in extra_rejects:
        reasons[reason] += 1
        rejects.append(
            {"source": source, "line": line, "byte_offset": off, "reason": reason,
             "raw": KEY_LINE if key_open else mask_raw(raw, masker)}
        )  # fmt: skip
    masked: Counter[str] = Counter()
    if masker is not None:
        masked.update(masker.counts)
        masker.counts.clear()
    converted.append(to_arrow(events))
    table = pa.concat_tables(converted)
    formats = normalize.take_counts(table) if normalize is not None else {}
    return ChunkResult(
        events=table,
        rejects=pa.Table.from_pylist(rejects, schema=REJECT_SCHEMA),
        lines=len(lines) + len(extra_rejects),
        no_ts=no_ts,
        newest_ts=newest,
        reasons=reasons,
        masked=masked,
        formats=formats,
    )


# -- worker processes ----------------------------------------------------------------------
# Each ingest worker builds its stages once (initializer) and then runs blocks of lines. This
# module imports neither DuckDB nor polars, which keeps every worker's memory small.

_worker: dict[str, Any] = {}


def make_masker(
    mask_table: dict[str, Any],
    key: bytes | None,
    aliases: dict[str, list[str]] | None = None,
    formats: FormatSettings | None = None,
) -> Any:
    """The Masker (logkit/mask.py, native) a `[mask]` table asks for; `aliases` and the log
    formats tell it where `fields` may come from. MaskConfigError or MaskKeyMissing (both
    ConfigErrors) when the table or the key will not do."""
    from .mask import Masker

    sources = mask_field_sources(mask_table, aliases, formats)
    return Masker.from_config(mask_table, key, field_aliases=sources)


def mask_field_sources(
    mask_table: dict[str, Any],
    aliases: dict[str, list[str]] | None = None,
    formats: FormatSettings | None = None,
) -> dict[str, list[str]] | None:
    """Per field of `[mask] fields`, the record keys it may come from (`aliases`, the log
    formats' names for it); None without `fields`."""
    from .formats import field_names, load_formats
    from .normalize import field_sources

    fields = mask_table.get("fields") or ()
    if not fields:
        return None
    sources = field_sources(aliases, fields)
    settings = formats or FormatSettings()
    specs = load_formats(settings.tables, settings.formats_dir)
    for field_name, names in field_names(specs, fields).items():
        sources[field_name] = list(dict.fromkeys([*sources[field_name], *names]))
    return sources


def init_worker(
    aliases: dict[str, list[str]],
    mask_table: dict[str, Any] | None,
    key: bytes | None,
    formats: FormatSettings | None = None,
    max_line: int | None = None,
) -> None:
    """Build a worker's stages; lines longer than `max_line` bytes are quarantined."""
    masker = make_masker(mask_table, key, aliases, formats) if mask_table is not None else None
    _worker["masker"] = masker
    _worker["stages"] = build_stages(aliases, masker, formats)
    _worker["max_line"] = max_line


def init_pool_worker(*initargs: Any) -> None:
    """`init_worker` in a process of the pool, which has no other use for Arrow's memory, and
    leaves signals to the main process."""
    # The main process stops the run on Ctrl-C; a worker would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Killed, the main process leaves a worker with nobody to send its result to: it ends at
    # once (below), or dies of the broken pipe quietly instead of printing BrokenPipeError.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _die_with_main_process()
    # Arrow's default allocator (mimalloc) keeps the pages of every block's buffers once they
    # are freed; the C library's returns them (a worker's PSS ~60 -> ~55 MB).
    pa.set_memory_pool(pa.system_memory_pool())
    init_worker(*initargs)


def _die_with_main_process() -> None:
    """End this worker as soon as the main process is gone, however it went (SIGKILL, OOM).

    Its parent is the pool's forkserver, not the main process, and that server outlives the
    main process for as long as any worker holds its pipe, so PR_SET_PDEATHSIG would never
    fire: a thread waits on the main process's pidfd instead (Linux 5.3; elsewhere it polls).
    """
    parent = multiprocessing.parent_process()
    if parent is None or parent.pid is None:
        return
    pid = parent.pid
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(0)
    except (AttributeError, OSError):
        pidfd = None

    def watch() -> None:
        if pidfd is not None:
            poller = select.poll()  # not select(): the descriptor may be past FD_SETSIZE
            poller.register(pidfd, select.POLLIN)
            poller.poll()
        else:
            while _alive(pid):
                time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="logkit-watch-main", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def run_job(
    job: tuple[str, bytes, int, int, list[tuple[int, int, str, bytes]], int],
) -> ChunkResult:
    """One block of lines in a worker: (source, data, first line, first offset, rejects,
    the bytes of a private key block open before it, 0 for none)."""
    return process_chunk(_worker["stages"], _worker["masker"], *job, max_line=_worker["max_line"])
