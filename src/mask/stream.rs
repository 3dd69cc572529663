//! `logkit mask`: whole blocks of NDJSON lines in, the same lines masked out, in one call.
//!
//! Each line is what `Masker.mask_json_line` made of it in the Python masker: a JSON object or
//! array is masked as a whole record and written back compact as orjson writes it; any other
//! line (text, invalid JSON, a JSON scalar, NaN) is masked as text, its invalid UTF-8 shown as
//! `\xNN` (Python's backslashreplace). One difference, for speed: a record the prefilter finds
//! nothing to mask in is written as it came rather than rewritten compact (the same values;
//! integers beyond 64 bits, which orjson read as floats, stay exact either way). Lines inside a private key block printed over several
//! lines become `KEY_LINE`. A block's lines are masked on every core; nothing per line crosses
//! into Python.

use std::sync::Mutex;

use memchr::memchr_iter;
use rayon::prelude::*;
use serde_json::Value;

use super::key_blocks::{key_block_lines, KEY_LINE};
use super::pyvalue::dump;
use super::{Counts, Masker};

/// orjson writes at most this many levels of nesting: a deeper record is masked as text, as
/// logkit/mask.py did when orjson refused to write it back.
const DEEPEST_WRITTEN: usize = 255;
/// Lines are masked in parallel in pieces of about this many bytes.
const PIECE_BYTES: usize = 256 * 1024;
/// How many pieces' output buffers are kept for the next block (see `SPARE`).
const SPARE_PIECES: usize = 32;

/// Output buffers of blocks masked before, kept for the next: freed, their pages would be given
/// back to the system and faulted in (and zeroed) again for every block, which cost as much as
/// masking them.
static SPARE: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

fn spare_buffer(capacity: usize) -> Vec<u8> {
    let mut buffer = SPARE
        .lock()
        .ok()
        .and_then(|mut spare| spare.pop())
        .unwrap_or_default();
    buffer.clear();
    buffer.reserve(capacity);
    buffer
}

impl Masker {
    /// The masked form of `data` (complete lines, the last may lack its newline; every line
    /// out ends with one), and the key block state after it. `in_key`: the state of a private
    /// key block before `data` (see `key_block_lines`), or None not to follow key blocks.
    pub fn mask_ndjson(
        &self,
        data: &[u8],
        in_key: Option<usize>,
        counts: &mut Counts,
    ) -> (Vec<u8>, usize) {
        let (pieces, still) = self.mask_ndjson_pieces(data, in_key, counts);
        let out = pieces.concat();
        Masker::recycle_pieces(pieces);
        (out, still)
    }

    /// `mask_ndjson` as the pieces it was masked in, in order (for a caller that copies them
    /// out once, into a Python bytes object).
    pub fn mask_ndjson_pieces(
        &self,
        data: &[u8],
        in_key: Option<usize>,
        counts: &mut Counts,
    ) -> (Vec<Vec<u8>>, usize) {
        let lines = split_lines(data);
        let (key_lines, still) = match in_key {
            Some(inside) if self.masks_key_blocks() => key_block_lines(&lines, inside),
            _ => (Vec::new(), 0),
        };
        let mut inside_key = vec![false; lines.len()];
        for index in key_lines {
            inside_key[index] = true;
        }
        // Pieces of whole lines, each masked on its own thread with its own counts.
        let mut pieces: Vec<(usize, usize)> = Vec::new();
        let (mut start, mut bytes) = (0, 0);
        for (index, line) in lines.iter().enumerate() {
            bytes += line.len() + 1;
            if bytes >= PIECE_BYTES {
                pieces.push((start, index + 1));
                (start, bytes) = (index + 1, 0);
            }
        }
        if start < lines.len() {
            pieces.push((start, lines.len()));
        }
        let done: Vec<(Vec<u8>, Counts)> = pieces
            .into_par_iter()
            .map(|(first, end)| {
                let mut out = spare_buffer(data.len() / lines.len().max(1) * (end - first));
                let mut piece_counts = Counts::default();
                for index in first..end {
                    if inside_key[index] {
                        out.extend_from_slice(KEY_LINE.as_bytes());
                        out.push(b'\n');
                    } else {
                        self.mask_json_line(lines[index], &mut out, &mut piece_counts);
                    }
                }
                (out, piece_counts)
            })
            .collect();
        let mut out = Vec::with_capacity(done.len());
        for (piece, piece_counts) in done {
            out.push(piece);
            for (name, n) in piece_counts {
                *counts.entry(name).or_default() += n;
            }
        }
        (out, still)
    }

    /// Hands the pieces of `mask_ndjson_pieces` back once they are copied out, for the next
    /// block to write into.
    pub fn recycle_pieces(pieces: Vec<Vec<u8>>) {
        if let Ok(mut spare) = SPARE.lock() {
            for piece in pieces {
                if spare.len() < SPARE_PIECES && piece.capacity() <= 4 * PIECE_BYTES {
                    spare.push(piece);
                }
            }
        }
    }

    /// One line (without its newline) masked, with a newline, onto `out`.
    fn mask_json_line(&self, line: &[u8], out: &mut Vec<u8>, counts: &mut Counts) {
        let mut end = line.len();
        while end > 0 && matches!(line[end - 1], b'\r' | b'\n') {
            end -= 1;
        }
        let body = &line[..end];
        if !self.enabled() {
            out.extend_from_slice(body);
            out.push(b'\n');
            return;
        }
        if looks_like_record(body) && !self.needs_masking(body) && std::str::from_utf8(body).is_ok()
        {
            // Most records hold nothing to mask, which the prefilter tells from the raw bytes
            // at a fraction of the cost of parsing, walking and writing them (its promise holds
            // for a record as for the event made of it: it looks at every byte). Such a line
            // is written as it came; had it been read, it would be the same values.
            out.extend_from_slice(body);
        } else if let Some(mut value) = record(body) {
            self.mask_top(&mut value, counts);
            out.extend_from_slice(dump(&value).as_bytes());
        } else {
            let masked = match std::str::from_utf8(body) {
                Ok(text) => self.mask_text(text, counts),
                Err(_) => self.mask_text(&backslash_replace(body), counts),
            };
            out.extend_from_slice(masked.as_bytes());
        }
        out.push(b'\n');
    }
}

/// `data` split at newlines; no line after a final newline.
fn split_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::with_capacity(data.len() / 128 + 1);
    let mut start = 0;
    for newline in memchr_iter(b'\n', data) {
        lines.push(&data[start..newline]);
        start = newline + 1;
    }
    if start < data.len() {
        lines.push(&data[start..]);
    }
    lines
}

/// Whether the line starts as a JSON object or array does.
fn looks_like_record(body: &[u8]) -> bool {
    let first = body
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
    matches!(first, Some(b'{' | b'['))
}

/// The line as a record to mask: a JSON object or array that orjson would have read and
/// written back (nested at most `DEEPEST_WRITTEN` levels).
fn record(body: &[u8]) -> Option<Value> {
    if !looks_like_record(body) || nesting(body) > DEEPEST_WRITTEN {
        return None;
    }
    // Bounded by the check above, so the parser's own recursion limit is not needed.
    let mut parser = serde_json::Deserializer::from_slice(body);
    parser.disable_recursion_limit();
    let value: Value = serde::Deserialize::deserialize(&mut parser).ok()?;
    parser.end().ok()?;
    Some(value)
}

/// How deeply brackets nest in `body`, outside strings (stops counting past the limit).
fn nesting(body: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > deepest {
                    deepest = depth;
                    if deepest > DEEPEST_WRITTEN {
                        return deepest;
                    }
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Python's `bytes.decode("utf-8", errors="backslashreplace")`: each byte of an invalid
/// sequence as `\xNN`.
fn backslash_replace(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(error) => {
                let (valid, rest) = bytes.split_at(error.valid_up_to());
                out.push_str(std::str::from_utf8(valid).expect("checked valid"));
                let bad = error.error_len().unwrap_or(rest.len());
                for byte in &rest[..bad] {
                    out.push_str(&format!("\\x{byte:02x}"));
                }
                bytes = &rest[bad..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::MaskConfig;

    fn masked(data: &[u8]) -> String {
        let masker = Masker::from_config(&MaskConfig::default()).unwrap();
        let mut counts = Counts::default();
        String::from_utf8(masker.mask_ndjson(data, Some(0), &mut counts).0).unwrap()
    }

    #[test]
    fn records_are_written_compact_and_text_is_masked_as_text() {
        assert_eq!(
            "{\"password\":\"[MASKED:key]\",\"n\":[1,2.5]}\n\
             [\"[MASKED:email]\"]\n\
             login password=[MASKED:key]\n\
             42\n\n",
            masked(
                b"{\"password\": \"a\", \"n\": [1, 2.50]}\r\n[\"bob@example.com\"]\n\
                  login password=x\n42\n\n"
            )
        );
    }

    #[test]
    fn a_record_with_nothing_to_mask_is_written_as_it_came() {
        let line = "{\"m\": \"ok\",  \"n\": 1.50, \"big\": 123456789012345678901234567890}\n";
        assert_eq!(line, masked(line.as_bytes()));
    }

    #[test]
    fn invalid_utf8_is_shown_as_python_shows_it() {
        assert_eq!(
            "bad \\xff\\xfe [MASKED:email]\n",
            masked(b"bad \xff\xfe bob@example.com")
        );
    }

    #[test]
    fn a_record_deeper_than_orjson_writes_is_masked_as_text() {
        let deep = format!("{}\"bob@example.com\"{}", "[".repeat(300), "]".repeat(300));
        let expected = format!("{}\"[MASKED:email]\"{}\n", "[".repeat(300), "]".repeat(300));
        assert_eq!(expected, masked(deep.as_bytes()));
        assert_eq!(2, nesting(b"[{\"a\": \"[[[[\"}]"));
    }

    #[test]
    fn key_blocks_are_followed_across_blocks() {
        let masker = Masker::from_config(&MaskConfig::default()).unwrap();
        let mut counts = Counts::default();
        let (first, open) = masker.mask_ndjson(
            b"x\n-----BEGIN RSA PRIVATE KEY-----\nMIIE\n",
            Some(0),
            &mut counts,
        );
        let (second, after) = masker.mask_ndjson(
            b"MIIF\n-----END RSA PRIVATE KEY-----\nok\n",
            Some(open),
            &mut counts,
        );
        assert_eq!(
            "x\n[MASKED:private_key]\n[MASKED:private_key]\n",
            String::from_utf8(first).unwrap()
        );
        assert_eq!(
            "[MASKED:private_key]\n[MASKED:private_key]\nok\n",
            String::from_utf8(second).unwrap()
        );
        assert_eq!(0, after);
    }

    #[test]
    fn many_pieces_keep_their_order_and_counts() {
        let line = b"{\"m\": \"to bob@example.com\"}\n";
        let data: Vec<u8> = line
            .iter()
            .copied()
            .cycle()
            .take(line.len() * 30_000)
            .collect();
        let masker = Masker::from_config(&MaskConfig::default()).unwrap();
        let mut counts = Counts::default();
        let (out, _) = masker.mask_ndjson(&data, Some(0), &mut counts);
        let expected = "{\"m\":\"to [MASKED:email]\"}\n".repeat(30_000);
        assert_eq!(expected, String::from_utf8(out).unwrap());
        assert_eq!(Some(&30_000), counts.get("email"));
    }
}
