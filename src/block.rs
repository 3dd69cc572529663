//! One block of lines through the whole per-line pipeline: parse, normalise, write attrs,
//! quarantine, in parallel over slices of the block, each slice one Arrow batch.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use arrow_array::RecordBatch;
use rayon::prelude::*;

use crate::arrow_out::{
    events_batch, rejects_batch, Columns, EventRows, RejectRow, Shared, StreamId,
};
use crate::errors::CoreError;
use crate::formats::partial::{Deferred, Place, Seen};
use crate::formats::{count, Coverage, FormatName, Formats, Made};
use crate::json::{parse_record_reusing, write_record, Record};
use crate::lines::{split_lines, Reason};
use crate::normalize::{Event, EventMap, Out};
use crate::spans::Spans;

// Every line allocates its record's keys and values; mimalloc's thread-local free lists make
// that about a fifth cheaper than the C library's allocator when the block's slices run on
// several threads at once.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How much of a rejected line the quarantine keeps, in characters (pipeline.RAW_KEEP_CHARS).
pub const RAW_KEEP_CHARS: usize = 2048;
/// Stack for the threads that parse: serde_json descends once per level of nesting, and
/// 1024 levels (orjson's limit, which the core keeps) need more than the default 2 MB in a
/// debug build. Only touched pages are ever committed.
pub const STACK_BYTES: usize = 64 << 20;
/// Lines per parallel slice (and per events batch), about: small enough to spread a 2 MB block
/// over the cores, large enough that a batch's fixed costs do not show.
const SLICE_LINES: usize = 2048;

/// Lines per slice of a block of `lines` on `threads` threads: slices of one size, about
/// SLICE_LINES, a multiple of the threads in number when there are more than threads. Cut at
/// SLICE_LINES exactly, a 2 MB block (~5,600 lines) was 2048 + 2048 + 1500 lines, which two
/// threads finish in the time of 3,500 lines rather than 2,800.
fn slice_len(lines: usize, threads: usize) -> usize {
    let threads = threads.max(1);
    let mut slices = lines.div_ceil(SLICE_LINES).max(1);
    if slices > threads {
        slices -= slices % threads;
    }
    lines.div_ceil(slices).max(1)
}

/// A block as Python hands it over.
pub struct BlockInput<'a> {
    pub data: &'a [u8],
    pub source: &'a str,
    pub stream: StreamId,
    pub first_line: i64,
    pub first_offset: i64,
    /// Longer lines are rejected as `line_too_long` (the reader normally cuts them first).
    pub max_line: Option<usize>,
    /// Lines the reader already refused: (line, byte offset, reason, raw prefix).
    pub extra_rejects: Vec<(i64, i64, String, Vec<u8>)>,
    /// A private key block open before the block: its bytes so far (0: none); see
    /// `mask::key_block_lines`. Only a masker that masks key blocks looks at it.
    pub in_key: usize,
}

/// What a block became.
pub struct BlockOutput {
    pub events: Vec<RecordBatch>,
    pub rejects: RecordBatch,
    pub lines: u64,
    pub no_ts: u64,
    pub newest_ts: Option<i64>,
    pub reasons: BTreeMap<String, u64>,
    pub masked: Counts,
    /// Per format, its events and how many have each coverage column.
    pub formats: Coverage,
    /// The private key block open after the block's lines (0: none), as
    /// `mask::key_block_after` gives it, for the next block's `in_key`: found in the pass the
    /// core makes anyway (the reader's own search of each block for it was 2% of a masked
    /// ingest's CPU). Always 0 without a masker that masks key blocks.
    pub key_open: usize,
    /// Per trace key, its events' first and last timestamp (`spans::Spans::batch`).
    pub spans: RecordBatch,
}

// The lines of `[partial]` formats, joined once the whole block has been read (a sequence's
// parts may be in several slices).
mod parts;

/// Masks per detector.
pub type Counts = BTreeMap<String, u64>;

/// What the pipeline needs of a masker: src/mask/'s `Masker` (the masking work) fills it. Lines the masker's prefilter passes over are not
/// looked at again; a rejected line is masked whole before it is cut for the quarantine.
pub trait EventMasker: Send + Sync {
    fn needs_masking(&self, raw: &[u8]) -> bool;
    /// `needs_masking` of each line, in order.
    fn needs_masking_all(&self, raws: &[&[u8]]) -> Vec<bool> {
        raws.iter().map(|raw| self.needs_masking(raw)).collect()
    }
    /// Mask the event as `Event::into_map` gives it (columns, then `attrs`), in place.
    fn mask_event(&self, event: &mut EventMap, counts: &mut Counts);
    /// The event `mask_event` makes of this one, through `into_map` and `from_map` (a masker
    /// that can mask the event as it is does so without the copies).
    fn mask<'e>(&self, event: Event<'e>, counts: &mut Counts) -> Event<'e> {
        let mut map = event.into_map();
        self.mask_event(&mut map, counts);
        Event::from_map(map)
    }
    fn mask_text(&self, text: &str, counts: &mut Counts) -> String;
    /// Whether a rejected line inside a private key block is stored as `KEY_LINE` only.
    fn masks_key_blocks(&self) -> bool {
        false
    }
}

impl EventMasker for crate::mask::Masker {
    fn needs_masking(&self, raw: &[u8]) -> bool {
        crate::mask::Masker::needs_masking(self, raw)
    }

    fn needs_masking_all(&self, raws: &[&[u8]]) -> Vec<bool> {
        crate::mask::Masker::needs_masking_all(self, raws)
    }

    fn mask_event(&self, event: &mut EventMap, counts: &mut Counts) {
        crate::mask::Masker::mask_event(self, event, counts)
    }

    fn mask<'e>(&self, mut event: Event<'e>, counts: &mut Counts) -> Event<'e> {
        self.mask_columns_and_attrs(&mut event.fields, &mut event.attrs, counts);
        event
    }

    fn mask_text(&self, text: &str, counts: &mut Counts) -> String {
        crate::mask::Masker::mask_text(self, text, counts)
    }

    fn masks_key_blocks(&self) -> bool {
        crate::mask::Masker::masks_key_blocks(self)
    }
}

pub struct Pipeline {
    pub formats: Formats,
    pub events: Columns,
    pub rejects: Columns,
    pub masker: Option<std::sync::Arc<dyn EventMasker>>,
}

/// The pool's threads on a machine of `cores`: one fewer, at least one. The ingest's storing
/// thread needs a core to itself (DuckDB runs the ingest's INSERT on the thread that calls it,
/// and the run waits for it): with a thread per core here, it got about two thirds of one, and a 1M-
/// line ingest on 2 cores took 7% longer (bench/RESULTS.md, fifth session).
fn pool_threads(cores: usize) -> usize {
    cores.saturating_sub(1).max(1)
}

fn pool() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        rayon::ThreadPoolBuilder::new()
            .num_threads(pool_threads(cores))
            .stack_size(STACK_BYTES)
            .thread_name(|i| format!("logkit-core-{i}"))
            .build()
            .expect("a thread pool")
    })
}

struct Slice<'a> {
    events: EventRows<'a>,
    rejects: Vec<RejectRow>,
    no_ts: u64,
    newest: Option<i64>,
    masked: Counts,
    formats: Coverage,
    spans: Spans,
    /// The slice's lines of `[partial]` formats, whose events wait for `join_parts`.
    parts: Vec<Deferred<Record<'a>>>,
    /// The last event's attrs, for the next line's record to be parsed into (emptied): a
    /// record's own vector allocated and freed per line cost 1-1.5% of the CPU per line.
    spare: Option<Record<'a>>,
}

impl Slice<'_> {
    /// A slice of `lines` lines of `bytes` bytes (about what their attrs text takes at most).
    fn new<'a>(lines: usize, bytes: usize) -> Slice<'a> {
        Slice {
            events: EventRows::with_capacity(lines, bytes),
            rejects: Vec::new(),
            no_ts: 0,
            newest: None,
            masked: Counts::new(),
            formats: Coverage::new(),
            spans: Spans::default(),
            parts: Vec::new(),
            spare: None,
        }
    }
}

impl Pipeline {
    /// Run a block; a panic anywhere in it turns its lines into `internal_error` rejects
    /// rather than aborting the run or losing them.
    pub fn process(&self, input: &BlockInput<'_>) -> Result<BlockOutput, CoreError> {
        guarded(
            || self.process_unguarded(input),
            || self.all_rejected(input),
        )
    }

    fn process_unguarded<'d>(&self, input: &BlockInput<'d>) -> Result<BlockOutput, CoreError> {
        let lines = split_lines(input.data);
        // The lines inside a private key block (in order, over the whole block: a block may
        // span slices): their rejects keep no text.
        let (key_lines, key_open) = self.key_lines(input, &lines);
        let size = slice_len(lines.len(), pool().current_num_threads());
        let run = |(k, slice): (usize, &[(usize, &'d [u8])])| {
            self.slice(input, (k, k * size), slice, &key_lines)
        };
        let mut slices: Vec<Slice> = if lines.len() <= size {
            pool().install(|| vec![run((0, &lines))])
        } else {
            pool().install(|| lines.par_chunks(size).enumerate().map(run).collect())
        };
        if slices.iter().any(|slice| !slice.parts.is_empty()) {
            self.join_parts(input, &lines, &mut slices);
        }
        let shared = Shared {
            source: input.source,
            stream: &input.stream,
        };
        // Each slice's events batch is built on the pool too: built one after another on the
        // calling thread, they were the one serial stage of a block (a tenth of its work). Its
        // rows are dropped there as well: freed on the calling thread, they were a twentieth
        // of the block's time (mimalloc's free) in series.
        let mut events = pool().install(|| {
            slices
                .par_iter_mut()
                .filter(|slice| !slice.events.is_empty())
                .map(|slice| {
                    events_batch(&self.events, &std::mem::take(&mut slice.events), &shared)
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        if events.is_empty() {
            events.push(events_batch(&self.events, &EventRows::default(), &shared)?);
        }
        let mut rejects = Vec::new();
        let mut no_ts = 0;
        let mut newest: Option<i64> = None;
        let mut masked = Counts::new();
        let mut formats = Coverage::new();
        let mut spans = Spans::default();
        for slice in slices {
            spans.merge(slice.spans);
            rejects.extend(slice.rejects);
            no_ts += slice.no_ts;
            newest = newest.max(slice.newest);
            for (detector, count) in slice.masked {
                *masked.entry(detector).or_insert(0) += count;
            }
            for (name, counts) in slice.formats {
                let total = formats.entry(name).or_default();
                for (total, count) in total.iter_mut().zip(counts) {
                    *total += count;
                }
            }
        }
        for (line, offset, reason, raw) in &input.extra_rejects {
            // After the last line: a stream cut short inside a key block keeps no text.
            let raw = if key_open > 0 {
                crate::mask::KEY_LINE.to_string()
            } else {
                self.quarantine_text(raw, &mut masked)
            };
            rejects.push(RejectRow {
                line: *line,
                byte_offset: *offset,
                reason: reason_name(reason),
                raw,
            });
        }
        let mut reasons = BTreeMap::new();
        for reject in &rejects {
            *reasons.entry(reject.reason.to_string()).or_insert(0) += 1;
        }
        Ok(BlockOutput {
            events,
            rejects: rejects_batch(&self.rejects, &rejects, &shared)?,
            lines: (lines.len() + input.extra_rejects.len()) as u64,
            no_ts,
            newest_ts: newest,
            reasons,
            masked,
            formats,
            key_open,
            spans: spans.batch(),
        })
    }

    /// The indexes of the block's lines inside a private key block, and the state after them
    /// (see `mask::key_block_lines`); none without a masker that masks key blocks.
    fn key_lines(&self, input: &BlockInput<'_>, lines: &[(usize, &[u8])]) -> (Vec<usize>, usize) {
        match &self.masker {
            Some(masker)
                if masker.masks_key_blocks()
                    && (input.in_key > 0
                        || memchr::memmem::find(input.data, crate::mask::KEY_MARK).is_some()) =>
            {
                crate::mask::key_block_lines_of(input.data, lines, input.in_key)
            }
            _ => (Vec::new(), 0),
        }
    }

    /// The lines of a slice; `at`: the slice's index and the index in the block of its first
    /// line. `key_lines`: the indexes in the block of the lines inside a private key block,
    /// sorted.
    fn slice<'d>(
        &self,
        input: &BlockInput<'_>,
        (k, first): (usize, usize),
        lines: &[(usize, &'d [u8])],
        key_lines: &[usize],
    ) -> Slice<'d> {
        let bytes = lines.iter().map(|(_, raw)| raw.len()).sum();
        let mut out = Slice::new(lines.len(), bytes);
        let mut seen = Seen::default();
        let mut decisions = self.formats.decisions();
        // The prefilter's answers for the slice's lines, asked all at once (it is faster so);
        // a line that becomes no event (a reject) is asked for nothing.
        let needs: Vec<bool> = match &self.masker {
            Some(masker) => {
                let raws: Vec<&[u8]> = lines.iter().map(|&(_, raw)| raw).collect();
                masker.needs_masking_all(&raws)
            }
            None => Vec::new(),
        };
        for (index, &(start, raw)) in lines.iter().enumerate() {
            let needs = needs.get(index).copied();
            let line = input.first_line + (first + index) as i64;
            let byte_offset = input.first_offset + start as i64;
            #[cfg(test)]
            assert!(raw != tests::PANIC_LINE, "a bug met on line {line}");
            let parsed = match input.max_line {
                Some(max) if raw.len() > max => Err(Reason::LineTooLong),
                _ => parse_record_reusing(raw, out.spare.take()),
            };
            match parsed {
                Ok(record) => match self.formats.event(record, &mut decisions) {
                    Made::One(event, format) => {
                        self.keep(&mut out, event, &format, (raw, needs), line)
                    }
                    Made::Many(events) => {
                        self.keep_all(&mut out, events, (raw, needs), line, byte_offset)
                    }
                    Made::Part(key, continues, record) if seen.alone(&key, continues) => {
                        match self.formats.event_whole(record, &mut decisions) {
                            Made::One(event, format) => {
                                self.keep(&mut out, event, &format, (raw, needs), line)
                            }
                            Made::Many(events) => {
                                self.keep_all(&mut out, events, (raw, needs), line, byte_offset)
                            }
                            Made::Part(..) => unreachable!("a whole record is no part"),
                        }
                    }
                    Made::Part(key, continues, record) => out.parts.push(Deferred {
                        line: first + index,
                        key,
                        continues,
                        at: Place {
                            slice: k,
                            event: out.events.len(),
                            reject: out.rejects.len(),
                        },
                        record,
                    }),
                },
                Err(reason) => {
                    let raw = if key_lines.binary_search(&(first + index)).is_ok() {
                        crate::mask::KEY_LINE.to_string()
                    } else {
                        self.quarantine_text(raw, &mut out.masked)
                    };
                    out.rejects.push(RejectRow {
                        line,
                        byte_offset,
                        reason: Cow::Borrowed(reason.as_str()),
                        raw,
                    })
                }
            }
        }
        self.formats.keep_decisions(decisions);
        out
    }

    /// An event of the line `raw` (or of the parts joined into `raw`), masked when the
    /// masker's prefilter finds anything in those bytes (`needs`: its answer, if asked
    /// already), counted, and made a row.
    fn keep<'d>(
        &self,
        out: &mut Slice<'d>,
        mut event: Event<'d>,
        format: &FormatName,
        (raw, needs): (&[u8], Option<bool>),
        line: i64,
    ) {
        if let Some(masker) = &self.masker {
            if needs.unwrap_or_else(|| masker.needs_masking(raw)) {
                event = masker.mask(event, &mut out.masked);
            }
        }
        let ts = match &event.fields[0] {
            Some(Out::Int(us)) => Some(*us),
            _ => None,
        };
        match ts {
            None => out.no_ts += 1,
            Some(us) => out.newest = out.newest.max(Some(us)),
        }
        let trace_key = match &event.fields[5] {
            Some(Out::Str(id)) => Some(crc32fast::hash(id.as_bytes())),
            _ => None,
        };
        if let Some(key) = trace_key {
            out.spans.add(key, ts);
        }
        count(&mut out.formats, self.formats.name(format), &event.fields);
        let attrs = &event.attrs;
        out.events.push(
            event.fields,
            |text| write_record(attrs, text),
            trace_key,
            line,
        );
        // Only room for a record's keys (a format's inner record may leave attrs without).
        if event.attrs.capacity() >= 16 {
            out.spare = Some(event.attrs);
        }
    }

    /// The events of a line of many records, each kept; a line that holds none is
    /// quarantined as `no_records`, not dropped unseen.
    fn keep_all<'d>(
        &self,
        out: &mut Slice<'d>,
        events: Vec<(Event<'d>, FormatName)>,
        (raw, needs): (&[u8], Option<bool>),
        line: i64,
        byte_offset: i64,
    ) {
        if events.is_empty() {
            let text = self.quarantine_text(raw, &mut out.masked);
            out.rejects.push(RejectRow {
                line,
                byte_offset,
                reason: Cow::Borrowed("no_records"),
                raw: text,
            });
        }
        for (event, format) in events {
            self.keep(out, event, &format, (raw, needs), line);
        }
    }

    fn all_rejected(&self, input: &BlockInput<'_>) -> Result<BlockOutput, CoreError> {
        let lines = split_lines(input.data);
        let mut masked = Counts::new();
        // Masked like any reject; should the masker be what panicked, a line it panics on
        // again is stored empty rather than unmasked (fail closed).
        let mut text = |raw: &[u8]| {
            let mut counts = Counts::new();
            let text = guarded(|| self.quarantine_text(raw, &mut counts), String::new);
            for (detector, count) in counts {
                *masked.entry(detector).or_insert(0) += count;
            }
            text
        };
        let mut rejects: Vec<RejectRow> = Vec::with_capacity(lines.len());
        for (index, &(start, raw)) in lines.iter().enumerate() {
            rejects.push(RejectRow {
                line: input.first_line + index as i64,
                byte_offset: input.first_offset + start as i64,
                reason: Cow::Borrowed(Reason::InternalError.as_str()),
                raw: text(raw),
            });
        }
        for (line, offset, _, raw) in &input.extra_rejects {
            rejects.push(RejectRow {
                line: *line,
                byte_offset: *offset,
                reason: Cow::Borrowed(Reason::InternalError.as_str()),
                raw: text(raw),
            });
        }
        let shared = Shared {
            source: input.source,
            stream: &input.stream,
        };
        let mut reasons = BTreeMap::new();
        reasons.insert(
            Reason::InternalError.as_str().to_string(),
            rejects.len() as u64,
        );
        Ok(BlockOutput {
            events: vec![events_batch(&self.events, &EventRows::default(), &shared)?],
            rejects: rejects_batch(&self.rejects, &rejects, &shared)?,
            lines: rejects.len() as u64,
            no_ts: 0,
            newest_ts: None,
            reasons,
            masked,
            formats: Coverage::new(),
            // The next block still needs it; should this be what panicked, no key is open.
            key_open: guarded(|| self.key_lines(input, &lines).1, || 0),
            spans: Spans::default().batch(),
        })
    }
}

/// Run `work`; if it panics, `fallback` says what the block becomes instead.
pub fn guarded<T>(work: impl FnOnce() -> T, fallback: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(_) => fallback(),
    }
}

fn reason_name(reason: &str) -> Cow<'static, str> {
    match reason {
        "line_too_long" => Cow::Borrowed(Reason::LineTooLong.as_str()),
        other => Cow::Owned(other.to_string()),
    }
}

impl Pipeline {
    /// A rejected line as quarantine text (`pipeline.mask_raw`): decoded, masked whole, then
    /// cut; masking before the cut, since a cut could split a secret into a part no detector
    /// recognises.
    fn quarantine_text(&self, raw: &[u8], counts: &mut Counts) -> String {
        match &self.masker {
            None => quarantine_text(raw),
            Some(masker) => {
                let text = decode_escaped(raw, usize::MAX);
                cut(masker.mask_text(&text, counts))
            }
        }
    }
}

fn cut(mut text: String) -> String {
    if let Some((at, _)) = text.char_indices().nth(RAW_KEEP_CHARS) {
        text.truncate(at);
    }
    text
}

/// A rejected line as quarantine text: invalid UTF-8 as `\xNN` escapes (Python's
/// backslashreplace), NUL as `\x00`, cut to RAW_KEEP_CHARS characters.
pub fn quarantine_text(raw: &[u8]) -> String {
    decode_escaped(raw, RAW_KEEP_CHARS)
}

/// `raw` decoded as Python's backslashreplace does, NUL as `\x00`, up to `keep` characters.
fn decode_escaped(raw: &[u8], keep: usize) -> String {
    let mut text = String::with_capacity(raw.len().min(keep.saturating_mul(4)));
    let mut chars = 0;
    'outer: for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if chars >= keep {
                break 'outer;
            }
            if c == '\0' {
                // "\x00" is four characters, and the cut counts them as such.
                for e in "\\x00".chars() {
                    if chars >= keep {
                        break 'outer;
                    }
                    text.push(e);
                    chars += 1;
                }
            } else {
                text.push(c);
                chars += 1;
            }
        }
        for byte in chunk.invalid() {
            let escaped = format!("\\x{byte:02x}");
            for e in escaped.chars() {
                if chars >= keep {
                    break 'outer;
                }
                text.push(e);
                chars += 1;
            }
        }
    }
    text
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::normalize::Normalizer;
    use arrow_array::Array;

    #[test]
    fn the_pool_leaves_one_core_to_the_storing_thread() {
        assert_eq!(pool_threads(1), 1);
        assert_eq!(pool_threads(2), 1);
        assert_eq!(pool_threads(8), 7);
        assert_eq!(pool_threads(0), 1);
    }

    /// A line the test build panics on, to see what a bug in the core does to a block.
    pub const PANIC_LINE: &[u8] = b"{\"panic\": \"for a test\"}";

    fn pipeline() -> Pipeline {
        let columns = |names: &[(&str, &str)]| {
            names
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect::<Vec<_>>()
        };
        let events = columns(&[
            ("ts", "TIMESTAMPTZ"),
            ("message", "VARCHAR"),
            ("attrs", "JSON"),
            ("line", "BIGINT"),
        ]);
        let rejects = columns(&[
            ("line", "BIGINT"),
            ("byte_offset", "BIGINT"),
            ("reason", "VARCHAR"),
            ("raw", "VARCHAR"),
        ]);
        Pipeline {
            formats: Formats::plain(
                Normalizer::new(
                    &Vec::new(),
                    &vec![
                        ("ts".into(), vec!["ts".into()]),
                        ("message".into(), vec!["msg".into()]),
                    ],
                )
                .unwrap(),
            ),
            events: Columns::new(&events, false).unwrap(),
            rejects: Columns::new(&rejects, true).unwrap(),
            masker: None,
        }
    }

    /// Masks the word "secret" wherever it is, counting each as detector "word".
    struct WordMasker;

    impl EventMasker for WordMasker {
        fn needs_masking(&self, raw: &[u8]) -> bool {
            memchr::memmem::find(raw, b"secret").is_some()
        }
        fn mask_event(&self, event: &mut EventMap, counts: &mut Counts) {
            let text = serde_json::Value::Object(std::mem::take(event)).to_string();
            let masked = self.mask_text(&text, counts);
            match serde_json::from_str(&masked).unwrap() {
                serde_json::Value::Object(map) => *event = map,
                _ => unreachable!(),
            }
        }
        fn mask_text(&self, text: &str, counts: &mut Counts) -> String {
            let n = text.matches("secret").count() as u64;
            if n > 0 {
                *counts.entry("word".into()).or_insert(0) += n;
            }
            text.replace("secret", "[MASKED]")
        }
    }

    #[test]
    fn a_masker_sees_the_lines_its_prefilter_picks_and_every_reject() {
        let mut p = pipeline();
        p.masker = Some(std::sync::Arc::new(WordMasker));
        let long = format!("not json {}secret", "x".repeat(RAW_KEEP_CHARS));
        let data = block(&[
            b"{\"msg\": \"a secret\", \"ts\": 1, \"k\": {\"secret\": 2}}",
            b"{\"msg\": \"plain\"}",
            long.as_bytes(),
        ]);
        let input = input(&data);
        let out = p.process(&input).unwrap();
        let batch = &out.events[0];
        let strings = |i: usize| {
            let array = batch
                .column(i)
                .as_any()
                .downcast_ref::<arrow_array::StringArray>()
                .unwrap();
            (0..array.len())
                .map(|r| array.value(r).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(vec!["a [MASKED]", "plain"], strings(1));
        assert_eq!(vec![r#"{"k":{"[MASKED]":2}}"#, "{}"], strings(2));
        let ts = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow_array::TimestampMicrosecondArray>()
            .unwrap();
        assert_eq!(1_000_000, ts.value(0));
        // The reject is masked before it is cut: the secret past the cut is still counted.
        let raw = out
            .rejects
            .column(3)
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .unwrap();
        assert_eq!(RAW_KEEP_CHARS, raw.value(0).chars().count());
        assert_eq!(Some(&3), out.masked.get("word"));
    }

    #[test]
    fn rejected_lines_of_a_private_key_block_keep_no_text_across_blocks() {
        let mut p = pipeline();
        let config = crate::mask::MaskConfig::default();
        p.masker = Some(std::sync::Arc::new(
            crate::mask::Masker::from_config(&config).unwrap(),
        ));
        let run = |data: &[u8], in_key: usize| {
            let input = BlockInput {
                extra_rejects: vec![(9, 9, "line_too_long".into(), b"tail".to_vec())],
                in_key,
                ..input(data)
            };
            let out = p.process(&input).unwrap();
            let raw = out
                .rejects
                .column(3)
                .as_any()
                .downcast_ref::<arrow_array::StringArray>()
                .unwrap()
                .clone();
            (0..raw.len())
                .map(|r| raw.value(r).to_string())
                .collect::<Vec<_>>()
        };
        let first = block(&[
            b"-----BEGIN RSA PRIVATE KEY-----",
            b"MIIEowIBAAKCAQEA0Z3VS5JJ",
        ]);
        let key = crate::mask::KEY_LINE;
        // Open at the end of the block: the reader's rejects after it keep no text either.
        assert_eq!(vec![key, key, key], run(&first, 0));
        let open = crate::mask::key_block_after(&first, 0);
        assert_eq!(open, p.process(&input(&first)).unwrap().key_open);
        let second = block(&[
            b"aGVsbG8gd29ybGQ=",
            b"-----END RSA PRIVATE KEY-----",
            b"after",
        ]);
        assert_eq!(vec![key, key, "after", "tail"], run(&second, open));
        // Without the state carried over, the body is text like any other reject.
        assert_eq!("aGVsbG8gd29ybGQ=", run(&second, 0)[0]);
    }

    /// A block from line 1 at offset 0 of source "s", nothing refused before it: what most
    /// tests feed the pipeline (they change single fields with `..input(data)`).
    pub(crate) fn input(data: &[u8]) -> BlockInput<'_> {
        BlockInput {
            data,
            source: "s",
            stream: StreamId::None,
            first_line: 1,
            first_offset: 0,
            max_line: None,
            extra_rejects: Vec::new(),
            in_key: 0,
        }
    }

    fn block(lines: &[&[u8]]) -> Vec<u8> {
        let mut data = lines.join(&b"\n"[..]);
        data.push(b'\n');
        data
    }

    #[test]
    fn a_blocks_slices_are_one_size_and_a_multiple_of_the_threads() {
        // A 2 MB block of ~370-byte lines: two slices on two threads, not 2048+2048+1484.
        assert_eq!(2790, slice_len(5580, 2));
        assert_eq!(1860, slice_len(5580, 3));
        assert_eq!(1860, slice_len(5580, 4)); // three: no thread idle for want of a slice
        assert_eq!(2048, slice_len(4 * 2048, 2));
        // Fewer lines than a slice: one slice of them all.
        assert_eq!(100, slice_len(100, 2));
        assert_eq!(1, slice_len(0, 2));
    }

    #[test]
    fn a_panic_in_a_parallel_block_quarantines_all_its_lines_as_internal_error() {
        let mut lines: Vec<&[u8]> = vec![b"{\"msg\": \"ok\"}"; 3 * SLICE_LINES];
        lines[SLICE_LINES + 5] = PANIC_LINE;
        let data = block(&lines);
        let input = BlockInput {
            first_line: 10,
            extra_rejects: vec![(99, 5, "line_too_long".into(), b"x".to_vec())],
            ..input(&data)
        };
        let out = pipeline().process(&input).unwrap();
        assert_eq!(0, out.events.iter().map(|b| b.num_rows()).sum::<usize>());
        assert_eq!(3 * SLICE_LINES + 1, out.rejects.num_rows());
        assert_eq!(
            Some(&(3 * SLICE_LINES as u64 + 1)),
            out.reasons.get("internal_error")
        );
        assert_eq!(3 * SLICE_LINES as u64 + 1, out.lines);
    }

    #[test]
    fn a_parallel_block_keeps_its_lines_in_order() {
        let owned: Vec<Vec<u8>> = (0..3 * SLICE_LINES + 7)
            .map(|i| {
                if i % 1000 == 3 {
                    b"oops".to_vec()
                } else {
                    format!("{{\"msg\": \"{i}\"}}").into_bytes()
                }
            })
            .collect();
        let lines: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let data = block(&lines);
        let input = input(&data);
        let out = pipeline().process(&input).unwrap();
        let mut seen = Vec::new();
        for batch in &out.events {
            let line = batch
                .column(3)
                .as_any()
                .downcast_ref::<arrow_array::Int64Array>()
                .unwrap();
            seen.extend(line.values().iter().copied());
        }
        let expected: Vec<i64> = (1..=owned.len() as i64)
            .filter(|l| (l - 1) % 1000 != 3)
            .collect();
        assert_eq!(expected, seen);
        assert_eq!(Some(&7), out.reasons.get("not_json"));
    }

    #[test]
    fn a_panic_becomes_the_fallback() {
        let result = guarded(|| -> u32 { panic!("a bug") }, || 7);
        assert_eq!(7, result);
    }

    #[test]
    fn quarantine_text_escapes_like_backslashreplace() {
        assert_eq!("caf\\xe9 \\x00x", quarantine_text(b"caf\xe9 \x00x"));
        assert_eq!(
            RAW_KEEP_CHARS,
            quarantine_text(&[b'a'; 5000]).chars().count()
        );
    }
}
