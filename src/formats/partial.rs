//! `[partial]`: a writer split one long line into parts (Docker's json-file driver at 16 KiB,
//! whose parts' `log` lacks the newline; CRI's `P` lines up to the `F` one): which line is a
//! part of which sequence, the joining of a sequence's parts, and where a block may end.
//!
//! Parts are joined per sequence, a sequence being a format and the value of its `by` field
//! (stdout's and stderr's parts interleave). Joining happens inside one block: the reader
//! never lets a block end inside a sequence (`unfinished` says where to cut, and the lines
//! after the cut stay out of the block and out of its checkpoint, as an unfinished last line
//! does), so a joined record is in one block and stored once, whatever the blocks and runs.

use std::borrow::Cow;

use regex::Regex;

use crate::errors::CoreError;
use crate::formats::spec::python_regex;
use crate::json::{dumps_record, format_float, view, Py};
use crate::tree::{obj_get, Obj, J};

/// A sequence of parts: the format's name and its `by` field's value as text (None: absent).
pub type PartKey = (String, Option<String>);

/// How far back from a block's end `unfinished` reads lines when no sequence crosses the cut
/// found so far: a stream's last line decides whether it is open.
pub const WINDOW: usize = 64 * 1024;

/// A format's `[partial]` table, checked.
#[derive(Debug, Clone)]
pub struct PartialSpec {
    /// The field whose texts are joined.
    pub text: String,
    /// The field parts are joined per.
    pub by: Option<String>,
    /// The field the `continues` pattern reads.
    pub continues_from: String,
    /// Found in a part that goes on in a later part.
    pub continues: Regex,
}

impl PartialSpec {
    pub fn new(
        origin: &str,
        text: &str,
        by: Option<&str>,
        continues_from: &str,
        pattern: &str,
    ) -> Result<PartialSpec, CoreError> {
        let continues = python_regex(pattern)
            .map_err(|e| CoreError::Config(format!("{origin}: [partial]: bad pattern: {e}")))?;
        Ok(PartialSpec {
            text: text.to_string(),
            by: by.map(str::to_string),
            continues_from: continues_from.to_string(),
            continues,
        })
    }

    /// The sequence a record of format `format` belongs to, and whether it continues.
    pub fn part_of(&self, format: &str, record: &Obj<'_>) -> (PartKey, bool) {
        let by = self
            .by
            .as_deref()
            .and_then(|name| obj_get(record, name))
            .and_then(python_str);
        let continues = match obj_get(record, &self.continues_from) {
            Some(J::Str(flag)) => self.continues.is_match(flag),
            _ => false,
        };
        ((format.to_string(), by), continues)
    }

    /// The parts of one long line as one record: the last part's (the one that says the
    /// line is complete), with the texts of all parts joined in order (parts whose text is
    /// not a string add nothing).
    pub fn joined<'a>(&self, mut parts: Vec<Obj<'a>>) -> Obj<'a> {
        let mut text = String::new();
        for part in &parts {
            if let Some(J::Str(piece)) = obj_get(part, &self.text) {
                text.push_str(piece);
            }
        }
        let mut record = parts.pop().unwrap_or_default();
        let joined = J::Str(Cow::Owned(text));
        match record.iter().position(|(k, _)| *k == self.text) {
            Some(place) => record[place].1 = joined,
            None => record.push((Cow::Owned(self.text.clone()), joined)),
        }
        record
    }
}

/// A value as Python's `str()` writes it, for a `by` key; None for null (Python's None,
/// which is no value, as an absent field is).
fn python_str(value: &J<'_>) -> Option<String> {
    Some(match value {
        J::Null => return None,
        J::Str(s) => s.to_string(),
        J::Bool(true) => "True".to_string(),
        J::Bool(false) => "False".to_string(),
        J::Num(_) => match view(value) {
            Py::Int(_, digits) => digits.to_string(),
            Py::Float(f) => format_float(f, true),
            Py::Str(s) => s.to_string(),
            _ => unreachable!("a number is an int, a float or an infinity"),
        },
        // A list or an object as a stream name: any text that tells them apart will do.
        other => dumps_record(&vec![(Cow::Borrowed(""), other.clone())]),
    })
}

/// What one part did to its sequence (`Joiner::feed`).
#[derive(Debug, PartialEq, Eq)]
pub enum Step<T> {
    /// It continues: held until the part that ends its sequence.
    Held,
    /// It ends no open sequence: an ordinary record.
    Alone(T),
    /// It ended a sequence: all its parts, in order, this one last.
    Joined(Vec<T>),
}

/// The sequences open in one block, in the order they were opened (the order `flush` gives
/// them in, as formats.py's `_open` dict keeps them).
#[derive(Debug)]
pub struct Joiner<T> {
    open: Vec<(PartKey, Vec<T>)>,
}

impl<T> Default for Joiner<T> {
    fn default() -> Self {
        Joiner { open: Vec::new() }
    }
}

impl<T> Joiner<T> {
    /// The next part of the block, in the block's order.
    pub fn feed(&mut self, key: PartKey, continues: bool, part: T) -> Step<T> {
        let place = self.open.iter().position(|(k, _)| *k == key);
        if continues {
            match place {
                Some(at) => self.open[at].1.push(part),
                None => self.open.push((key, vec![part])),
            }
            return Step::Held;
        }
        match place {
            Some(at) => {
                let (_, mut parts) = self.open.remove(at);
                parts.push(part);
                Step::Joined(parts)
            }
            None => Step::Alone(part),
        }
    }

    /// The sequences still open at the block's end (the stream ended mid-line), each with the
    /// parts it has: each is one event all the same.
    pub fn flush(&mut self) -> Vec<(PartKey, Vec<T>)> {
        std::mem::take(&mut self.open)
    }

    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

/// Where an event (or a reject) goes in a block's output: its slice, and the number of
/// events (rejects) of that slice before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub slice: usize,
    pub event: usize,
    pub reject: usize,
}

/// A line of a `[partial]` format, as a slice of the block met it, with its `record`: its
/// events wait until the block's parts are all known (a sequence may span slices).
#[derive(Debug)]
pub struct Deferred<R> {
    /// The line's index in the block.
    pub line: usize,
    pub key: PartKey,
    pub continues: bool,
    /// Where its events would go, were it a line of its own.
    pub at: Place,
    pub record: R,
}

/// The lines that make one record (one line, or a sequence's parts, in order) with their
/// records, their sequence, and where its events go.
#[derive(Debug, PartialEq, Eq)]
pub struct Group<R> {
    pub key: PartKey,
    pub lines: Vec<usize>,
    pub records: Vec<R>,
    pub at: Place,
}

/// What one slice of a block knows of its `[partial]` lines' sequences: enough to tell a
/// line that is certainly a record of its own (most of them: a Docker log is all `[partial]`
/// lines, few of them parts) from one whose sequence may have begun in an earlier slice.
#[derive(Debug, Default)]
pub struct Seen {
    /// Per sequence met in the slice: whether it is open after the slice's last part of it.
    keys: Vec<(PartKey, bool)>,
}

impl Seen {
    /// Whether this part ends nothing and continues in nothing, as far as the slice can
    /// tell: an earlier part of its sequence in this slice ended it, and none opened it
    /// again. Such a line needs no place among the block's sequences (`groups` would make
    /// it a record of its own); any other is deferred to them.
    pub fn alone(&mut self, key: &PartKey, continues: bool) -> bool {
        match self.keys.iter_mut().find(|(k, _)| k == key) {
            Some((_, open)) if !*open && !continues => true,
            Some((_, open)) => {
                *open = continues;
                false
            }
            None => {
                self.keys.push((key.clone(), continues));
                false
            }
        }
    }
}

/// The records a block's `[partial]` lines make, in the order their events go: a line that
/// ends no sequence is one; a sequence's parts are one at the place of the part that ends it;
/// the sequences still open at the block's end (`end`: the place after its last event) are
/// one each there, in the order they were opened, as formats.py's `flush` gives them.
pub fn groups<R>(parts: impl IntoIterator<Item = Deferred<R>>, end: Place) -> Vec<Group<R>> {
    let mut joiner: Joiner<(usize, R)> = Joiner::default();
    let mut out = Vec::new();
    let group = |key, parts: Vec<(usize, R)>, at| {
        let (lines, records) = parts.into_iter().unzip();
        Group {
            key,
            lines,
            records,
            at,
        }
    };
    for part in parts {
        let (key, at) = (part.key.clone(), part.at);
        match joiner.feed(part.key, part.continues, (part.line, part.record)) {
            Step::Held => {}
            Step::Alone(one) => out.push(group(key, vec![one], at)),
            Step::Joined(all) => out.push(group(key, all, at)),
        }
    }
    for (key, all) in joiner.flush() {
        out.push(group(key, all, end));
    }
    out
}

/// `items` with each of `inserts` (place, items), places ascending, put before the item that
/// was at that place (a place past the end: at the end).
pub fn insert_at<T>(items: &mut Vec<T>, inserts: Vec<(usize, Vec<T>)>) {
    if inserts.is_empty() {
        return;
    }
    let old = std::mem::take(items);
    let mut old = old.into_iter().enumerate().peekable();
    for (place, new) in inserts {
        while let Some((_, item)) = old.next_if(|(at, _)| *at < place) {
            items.push(item);
        }
        items.extend(new);
    }
    items.extend(old.map(|(_, item)| item));
}

/// Where a block of `chunk`'s lines (complete lines) may end: the offset of the last line
/// before which every sequence of parts is whole and from which none continues one begun
/// before it; `chunk.len()` when the lines leave no sequence open, 0 when no line but the
/// first is such a place (the reader then holds all, up to `max_line_bytes`). `part` says,
/// for a line, its sequence and whether it continues, or None for a line that is no part
/// (not a record, or of a format that does not split lines).
///
/// A cut before an open sequence's first part can split another stream's sequence that has
/// already ended (its first part before the cut, its last after): the cut then goes back to
/// that sequence's first part, and so on. Read back from the end, one pass finds it: a
/// continuing part whose sequence's last part is at or after the cut found so far moves the
/// cut to itself, and the cut only moves back, over lines already read.
///
/// It reads lines back from the end, so its cost is per block, not per line: one line for a
/// log no `[partial]` format reads, up to `window` bytes of lines in one that is (a stream's
/// last line decides whether it is open), further while a sequence that ends at or after the
/// cut may have parts before it. A sequence whose parts are further apart than that,
/// interleaved with another stream's lines, is not seen.
pub fn unfinished(
    chunk: &[u8],
    window: usize,
    mut part: impl FnMut(&[u8]) -> Option<(PartKey, bool)>,
) -> usize {
    let mut cut = chunk.len();
    // Per sequence met: where the last part is of its earliest sequence read so far
    // (`chunk.len()` for one still open at the end). Its earlier parts, if it has any, are
    // the next continuing parts read back, up to its next part that ends nothing.
    let mut last: Vec<(PartKey, usize)> = Vec::new();
    // Whether a sequence not yet read back to its start ends at or after the cut: then the
    // lines before may hold its first part, which the cut must not fall after.
    let spans = |last: &[(PartKey, usize)], cut: usize| last.iter().any(|(_, at)| *at >= cut);
    // The newline that ends the last line.
    let Some(mut end) = chunk.len().checked_sub(1) else {
        return cut;
    };
    loop {
        let start = memchr::memrchr(b'\n', &chunk[..end]).map_or(0, |at| at + 1);
        match part(&chunk[start..end]) {
            None => {
                if !spans(&last, cut) {
                    break;
                }
            }
            Some((key, continues)) => {
                let place = last.iter().position(|(k, _)| *k == key);
                if continues {
                    let ends = match place {
                        Some(at) => last[at].1,
                        None => {
                            last.push((key, chunk.len()));
                            chunk.len()
                        }
                    };
                    if ends >= cut {
                        cut = start;
                    }
                } else {
                    // It ends a sequence before the one read so far (or is alone).
                    match place {
                        Some(at) => last[at].1 = start,
                        None => last.push((key, start)),
                    }
                }
            }
        }
        if !spans(&last, cut) && chunk.len() - start > window {
            break;
        }
        match start.checked_sub(1) {
            Some(before) => end = before,
            None => break,
        }
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::test_object as record;

    fn docker() -> PartialSpec {
        PartialSpec::new("docker", "log", Some("stream"), "log", "[^\\n]\\Z").unwrap()
    }

    fn cri() -> PartialSpec {
        PartialSpec::new("cri", "log", Some("stream"), "logtag", "^P").unwrap()
    }

    fn key(format: &str, by: Option<&str>) -> PartKey {
        (format.to_string(), by.map(str::to_string))
    }

    #[test]
    fn a_docker_entry_without_its_newline_continues() {
        let spec = docker();
        let part = |line: &str| spec.part_of("docker", &record(line));
        assert_eq!(
            (key("docker", Some("stdout")), true),
            part(r#"{"log":"abc","stream":"stdout"}"#)
        );
        assert_eq!(
            (key("docker", Some("stderr")), false),
            part(r#"{"log":"abc\n","stream":"stderr"}"#)
        );
        // Python's \Z is the very end: a newline before it does not count.
        assert_eq!(
            (key("docker", None), false),
            part(r#"{"log":"abc\n","stream":null}"#)
        );
        assert_eq!((key("docker", None), false), part(r#"{"log":""}"#));
        assert_eq!((key("docker", None), false), part(r#"{"log":5}"#));
    }

    #[test]
    fn a_by_value_that_is_no_text_is_keyed_as_python_writes_it() {
        let spec = cri();
        let by = |line: &str| spec.part_of("cri", &record(line)).0 .1;
        assert_eq!(Some("1".to_string()), by(r#"{"stream":1}"#));
        assert_eq!(Some("0".to_string()), by(r#"{"stream":-0}"#));
        assert_eq!(Some("1e+16".to_string()), by(r#"{"stream":1e16}"#));
        assert_eq!(Some("True".to_string()), by(r#"{"stream":true}"#));
        assert_eq!(Some("NaN".to_string()), by(r#"{"stream":NaN}"#));
        assert_eq!(None, by(r#"{"other":1}"#));
    }

    #[test]
    fn the_parts_texts_are_joined_into_the_last_parts_record() {
        let spec = docker();
        let parts = vec![
            record(r#"{"log":"{\"a\":","stream":"stdout","time":"t1"}"#),
            record(r#"{"log":5,"stream":"stdout","time":"t2"}"#),
            record(r#"{"stream":"stdout","log":"1}\n","time":"t3"}"#),
        ];
        assert_eq!(
            r#"{"stream":"stdout","log":"{\"a\":1}\n","time":"t3"}"#,
            dumps_record(&spec.joined(parts))
        );
        let without = vec![record(r#"{"log":"a"}"#), record(r#"{"stream":"x"}"#)];
        assert_eq!(
            r#"{"stream":"x","log":"a"}"#,
            dumps_record(&spec.joined(without))
        );
    }

    #[test]
    fn parts_are_joined_per_sequence_and_the_open_ones_flushed_in_their_order() {
        let mut joiner = Joiner::default();
        let out = key("cri", Some("stdout"));
        let err = key("cri", Some("stderr"));
        assert_eq!(Step::Alone(0), joiner.feed(out.clone(), false, 0));
        assert_eq!(Step::Held, joiner.feed(out.clone(), true, 1));
        assert_eq!(Step::Held, joiner.feed(err.clone(), true, 2));
        assert_eq!(Step::Held, joiner.feed(out.clone(), true, 3));
        assert_eq!(Step::Joined(vec![2, 4]), joiner.feed(err.clone(), false, 4));
        assert_eq!(Step::Held, joiner.feed(err.clone(), true, 5));
        assert_eq!(Step::Alone(6), joiner.feed(key("docker", None), false, 6));
        assert_eq!(vec![(out, vec![1, 3]), (err, vec![5])], joiner.flush());
        assert!(joiner.is_empty());
    }

    /// Lines "K+" (K's sequence continues), "K." (K's part that ends it), "-" (no part).
    fn scan(lines: &[&str], window: usize) -> usize {
        let chunk: String = lines.iter().map(|l| format!("{l}\n")).collect();
        unfinished(chunk.as_bytes(), window, |raw| {
            let text = std::str::from_utf8(raw).unwrap();
            let (name, flag) = text.split_at(1);
            (!flag.is_empty()).then(|| (key(name, None), flag == "+"))
        })
    }

    fn offset_of(lines: &[&str], index: usize) -> usize {
        lines[..index].iter().map(|l| l.len() + 1).sum()
    }

    #[test]
    fn a_block_is_cut_before_the_first_part_of_the_earliest_open_sequence() {
        let lines = ["a.", "a+", "b+", "a+", "b.", "-"];
        assert_eq!(offset_of(&lines, 6), scan(&lines, WINDOW));
        let lines = ["a.", "a+", "b+", "a+", "b."];
        assert_eq!(offset_of(&lines, 1), scan(&lines, WINDOW));
        let lines = ["b+", "a.", "b+"];
        assert_eq!(0, scan(&lines, WINDOW));
        let lines = ["a.", "b.", "a."];
        assert_eq!(offset_of(&lines, 3), scan(&lines, WINDOW));
        assert_eq!(0, scan(&[], WINDOW));
    }

    #[test]
    fn a_cut_moves_before_a_closed_sequence_it_would_split() {
        // b's parts are lines 1 and 3; a's open sequence begins at 2: a cut before 2 would
        // leave b's first part in one block and its end in the next.
        let lines = ["a.", "b+", "a+", "b."];
        assert_eq!(offset_of(&lines, 1), scan(&lines, WINDOW));
        // Each move can split another closed sequence: the cut goes back until none is split.
        let lines = ["a.", "c+", "b+", "c.", "a+", "b.", "a+"];
        assert_eq!(offset_of(&lines, 1), scan(&lines, WINDOW));
        // A closed sequence the cut does not split stays whole before it.
        let lines = ["b+", "b.", "a+", "b+", "b."];
        assert_eq!(offset_of(&lines, 2), scan(&lines, WINDOW));
        // No line before which every sequence is whole but the first: nothing may go.
        let lines = ["a+", "b+", "a.", "a+", "b.", "b+", "a.", "b+"];
        assert_eq!(0, scan(&lines, WINDOW));
        // A closed sequence the cut splits is followed back past the window.
        let lines = ["b+", "-", "-", "-", "a.", "a+", "b."];
        assert_eq!(0, scan(&lines, 3));
    }

    #[test]
    fn the_scan_stops_past_its_window_unless_a_sequence_is_still_open() {
        // Past the window with nothing open: an older open sequence of another stream is
        // not seen (the window's limit).
        let lines = ["b+", "a.", "a.", "a."];
        assert_eq!(offset_of(&lines, 4), scan(&lines, 3));
        assert_eq!(0, scan(&lines, WINDOW));
        // An open sequence is followed back to its first part, however far.
        let lines = ["a.", "a+", "a+", "a+", "a+"];
        assert_eq!(offset_of(&lines, 1), scan(&lines, 3));
    }

    #[test]
    fn a_sequences_record_goes_where_its_last_part_is_and_open_ones_at_the_end() {
        let at = |slice, event| Place {
            slice,
            event,
            reject: 0,
        };
        let out = key("cri", Some("stdout"));
        let err = key("cri", Some("stderr"));
        let part = |line, key: &PartKey, continues, place| Deferred {
            line,
            key: key.clone(),
            continues,
            at: place,
            record: line * 10,
        };
        let parts = vec![
            part(0, &out, true, at(0, 0)),
            part(1, &err, false, at(0, 0)),
            part(4, &err, true, at(0, 2)),
            part(5, &out, false, at(1, 0)),
            part(6, &err, true, at(1, 0)),
        ];
        let end = at(1, 3);
        assert_eq!(
            vec![
                Group {
                    key: err.clone(),
                    lines: vec![1],
                    records: vec![10],
                    at: at(0, 0)
                },
                Group {
                    key: out.clone(),
                    lines: vec![0, 5],
                    records: vec![0, 50],
                    at: at(1, 0)
                },
                Group {
                    key: err.clone(),
                    lines: vec![4, 6],
                    records: vec![40, 60],
                    at: end
                },
            ],
            groups(parts, end)
        );
    }

    #[test]
    fn a_part_is_alone_once_its_slice_has_seen_its_sequence_closed() {
        let mut seen = Seen::default();
        let out = key("docker", Some("stdout"));
        let err = key("docker", Some("stderr"));
        // The first of a sequence in a slice may end one an earlier slice began.
        assert!(!seen.alone(&out, false));
        assert!(seen.alone(&out, false));
        assert!(!seen.alone(&err, true));
        assert!(seen.alone(&out, false));
        assert!(!seen.alone(&err, false)); // ends err's sequence
        assert!(seen.alone(&err, false));
        assert!(!seen.alone(&out, true));
        assert!(!seen.alone(&out, true));
        assert!(!seen.alone(&out, false));
        assert!(seen.alone(&out, false));
    }

    #[test]
    fn inserted_items_go_before_the_item_at_their_place() {
        let mut items = vec!['a', 'b', 'c'];
        insert_at(
            &mut items,
            vec![(0, vec!['x']), (2, vec!['y', 'z']), (9, vec!['!'])],
        );
        assert_eq!(vec!['x', 'a', 'b', 'y', 'z', 'c', '!'], items);
        let mut none: Vec<char> = Vec::new();
        insert_at(&mut none, vec![(0, vec!['x'])]);
        assert_eq!(vec!['x'], none);
    }

    #[test]
    fn a_bad_continues_pattern_is_refused() {
        assert!(PartialSpec::new("x", "log", None, "log", "(").is_err());
    }
}
