//! Private keys printed over several lines (`key_block_lines` in logkit/mask.py).
//!
//! A PEM key printed as text arrives one line at a time: the `private_key` detector masks its
//! BEGIN line, but each base64 line after it is a line of its own that no detector can tell
//! from any other base64. So lines are followed in order: from a line that opens a key block
//! and does not close it, every line up to and including the one with `-----END` is masked
//! whole, as `KEY_LINE`. A block ends early at a line that starts a JSON object (the key was
//! cut short and the application went on logging), or `KEY_BLOCK_BYTES` after its BEGIN line.
//! The state (bytes since the BEGIN line, 0 outside a block) carries from one block of lines
//! to the next: the caller passes it with each block.

use std::sync::OnceLock;

use memchr::memmem;
use regex::bytes::Regex;

/// What a line inside a private key block becomes.
pub const KEY_LINE: &str = "[MASKED:private_key]";
/// In every BEGIN line: a block of lines without it opens no key (one search).
pub const KEY_MARK: &[u8] = b"PRIVATE KEY";
/// How far from its BEGIN line a key block may reach: no PEM key is this long (RSA-16384 is
/// 12 KB); it bounds what a key cut short masks in a log of plain text.
pub const KEY_BLOCK_BYTES: usize = 64 * 1024;
const KEY_END: &[u8] = b"-----END";
const BOM: &[u8] = b"\xef\xbb\xbf";

fn key_begin() -> &'static Regex {
    static BEGIN: OnceLock<Regex> = OnceLock::new();
    BEGIN.get_or_init(|| {
        Regex::new(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----").expect("compiles")
    })
}

// The searchers for KEY_MARK and KEY_END, built once: `memmem::find` builds one per call, and
// a block with a key in it looks at every one of its lines (half a percent of a masked
// ingest's time went to building them).
fn mark_finder() -> &'static memmem::Finder<'static> {
    static MARK: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    MARK.get_or_init(|| memmem::Finder::new(KEY_MARK))
}

fn end_finder() -> &'static memmem::Finder<'static> {
    static END: OnceLock<memmem::Finder<'static>> = OnceLock::new();
    END.get_or_init(|| memmem::Finder::new(KEY_END))
}

/// Whether a key block begins on this line and does not end on it.
fn opens_key(line: &[u8]) -> bool {
    if mark_finder().find(line).is_none() {
        return false;
    }
    match key_begin().find_iter(line).last() {
        Some(begin) => end_finder().find(&line[begin.end()..]).is_none(),
        None => false,
    }
}

/// Whether the line starts a JSON object (after a BOM and blanks).
fn json_record(line: &[u8]) -> bool {
    let start = line.strip_prefix(BOM).unwrap_or(line);
    start.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\r')) == Some(&b'{')
}

/// The indexes of the `lines` (in order, without newlines) inside a private key block, and the
/// state after the last: 0, or the bytes of the open block so far, from its BEGIN line on.
/// `inside` is the state before the first line.
pub fn key_block_lines(lines: &[&[u8]], mut inside: usize) -> (Vec<usize>, usize) {
    let mut masked = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        inside = follow(line, index, inside, &mut masked);
    }
    (masked, inside)
}

/// `key_block_lines` of the lines of `data` (each line's offset in `data` and its bytes, as
/// `lines::split_lines` gives them): outside a key block, on at once to the line of the next
/// KEY_MARK, found by one search of the rest of the block rather than one of each line (each
/// line's own search was 1% of a masked block's time).
pub fn key_block_lines_of(
    data: &[u8],
    lines: &[(usize, &[u8])],
    mut inside: usize,
) -> (Vec<usize>, usize) {
    let mut masked = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        if inside == 0 {
            // Only a line with the mark in it opens a block; the mark holds no newline.
            let Some(at) = mark_finder().find(&data[lines[index].0..]) else {
                break;
            };
            let at = lines[index].0 + at;
            while index + 1 < lines.len() && lines[index + 1].0 <= at {
                index += 1;
            }
        }
        inside = follow(lines[index].1, index, inside, &mut masked);
        index += 1;
    }
    (masked, inside)
}

/// One line of `key_block_lines`: the state after it, its index added to `masked` if inside.
fn follow(line: &[u8], index: usize, mut inside: usize, masked: &mut Vec<usize>) -> usize {
    if inside > 0 {
        inside += line.len() + 1;
        if let Some(end) = end_finder().find(line) {
            masked.push(index);
            // Another block may open after this one closes, on the same line.
            return if opens_key(&line[end..]) {
                line.len() + 1
            } else {
                0
            };
        }
        if inside <= KEY_BLOCK_BYTES && !json_record(line) {
            masked.push(index);
            return inside;
        }
        // The block ended before this line, which is read as any other.
    }
    if opens_key(line) {
        line.len() + 1
    } else {
        0
    }
}

/// The state `key_block_lines` leaves after `data` (whole lines), cheaply: most blocks of
/// lines hold no key, which one search tells.
pub fn key_block_after(data: &[u8], inside: usize) -> usize {
    if inside == 0 && mark_finder().find(data).is_none() {
        return 0;
    }
    key_block_lines_of(data, &crate::lines::split_lines(data), inside).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_of_a_key_are_masked_up_to_its_end() {
        let lines: Vec<&[u8]> = vec![
            b"key follows -----BEGIN RSA PRIVATE KEY-----",
            b"MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi3",
            b"-----END RSA PRIVATE KEY-----",
            b"after",
        ];
        assert_eq!((vec![1, 2], 0), key_block_lines(&lines, 0));
    }

    #[test]
    fn a_json_record_ends_a_cut_key_and_state_carries_over() {
        let lines: Vec<&[u8]> = vec![b"MIIE", b"  {\"level\": \"info\"}"];
        assert_eq!((vec![0], 0), key_block_lines(&lines, 10));
        assert_eq!(
            28 + 5,
            key_block_after(b"x\n-----BEGIN PRIVATE KEY-----\nMIIE\n", 0)
        );
        assert_eq!(
            0,
            key_block_after(
                b"-----BEGIN PRIVATE KEY----- x -----END PRIVATE KEY-----",
                0
            )
        );
    }

    #[test]
    fn the_lines_of_a_block_are_followed_as_each_line_is() {
        // Every mix of these lines (keys opened, closed, cut short, reopened on the line
        // that closes one, marks in lines that open nothing), from every state.
        let kinds: [&[u8]; 8] = [
            b"{\"msg\": \"plain\"}",
            b"-----BEGIN RSA PRIVATE KEY-----",
            b"MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi3",
            b"-----END RSA PRIVATE KEY----- -----BEGIN PRIVATE KEY-----",
            b"-----END PRIVATE KEY-----",
            b"a PRIVATE KEY mention",
            b"",
            b"  {\"level\": \"info\"}",
        ];
        for seed in 0..4000u32 {
            let mut x = seed.wrapping_mul(2654435761) | 1;
            let mut data = Vec::new();
            for _ in 0..(seed % 13) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                data.extend_from_slice(kinds[(x % 8) as usize]);
                data.push(b'\n');
            }
            if seed % 3 == 0 {
                data.pop(); // the last line without its newline
            }
            let lines = crate::lines::split_lines(&data);
            let raws: Vec<&[u8]> = lines.iter().map(|&(_, raw)| raw).collect();
            for inside in [0, 1, 40, KEY_BLOCK_BYTES] {
                assert_eq!(
                    key_block_lines(&raws, inside),
                    key_block_lines_of(&data, &lines, inside),
                    "{:?} from {inside}",
                    String::from_utf8_lossy(&data)
                );
            }
        }
    }

    #[test]
    fn a_block_ends_64_kb_after_its_begin_line() {
        let base64 = [b'A'; 1000];
        let mut lines: Vec<&[u8]> = vec![b"-----BEGIN PRIVATE KEY-----"];
        lines.extend(std::iter::repeat_n(&base64[..], 70));
        let (masked, state) = key_block_lines(&lines, 0);
        assert_eq!((1..=65).collect::<Vec<_>>(), masked);
        assert_eq!(0, state);
    }
}
