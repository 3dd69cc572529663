//! Private keys printed over several lines (`key_block_lines` in logkit/mask.py).
//!
//! A PEM key printed as text arrives one line at a time: the `private_key` detector masks its
//! BEGIN line, but each base64 line after it is a line of its own that no detector can tell
//! from any other base64. So lines are followed in order: from a line that opens a key block
//! and does not close it, every line up to and including the one with `-----END` is masked
//! whole, as `KEY_LINE`. A line that starts a JSON object ends the block early (the key was cut
//! short and the application went on logging). The state carries from one block of lines to
//! the next: the caller passes `inside` with each block.

use std::sync::OnceLock;

use memchr::memmem;
use regex::bytes::Regex;

/// What a line inside a private key block becomes.
pub const KEY_LINE: &str = "[MASKED:private_key]";
/// In every BEGIN line: a block of lines without it opens no key (one search).
pub const KEY_MARK: &[u8] = b"PRIVATE KEY";
const KEY_END: &[u8] = b"-----END";
const BOM: &[u8] = b"\xef\xbb\xbf";

fn key_begin() -> &'static Regex {
    static BEGIN: OnceLock<Regex> = OnceLock::new();
    BEGIN.get_or_init(|| Regex::new(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----").expect("compiles"))
}

/// Whether a key block begins on this line and does not end on it.
fn opens_key(line: &[u8]) -> bool {
    if memmem::find(line, KEY_MARK).is_none() {
        return false;
    }
    match key_begin().find_iter(line).last() {
        Some(begin) => memmem::find(&line[begin.end()..], KEY_END).is_none(),
        None => false,
    }
}

/// 1 if `line` closes the key block (masked), -1 if it is a JSON record (not masked), else 0.
fn ends_key(line: &[u8]) -> i8 {
    if memmem::find(line, KEY_END).is_some() {
        return 1;
    }
    let start = line.strip_prefix(BOM).unwrap_or(line);
    let first = start.iter().find(|b| !matches!(b, b' ' | b'\t' | b'\r'));
    if first == Some(&b'{') {
        -1
    } else {
        0
    }
}

/// The indexes of the `lines` (in order, without newlines) inside a private key block, and
/// whether a block is still open after the last; `inside`: one was open before the first.
pub fn key_block_lines(lines: &[&[u8]], mut inside: bool) -> (Vec<usize>, bool) {
    let mut masked = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if inside {
            let ends = ends_key(line);
            if ends >= 0 {
                masked.push(index);
            }
            if ends == 0 {
                continue;
            }
            if ends > 0 {
                // Another block may open after this one closes, on the same line.
                let tail = &line[memmem::find(line, KEY_END).unwrap_or(0)..];
                inside = opens_key(tail);
                continue;
            }
        }
        inside = opens_key(line);
    }
    (masked, inside)
}

/// Whether a key block is open after `data` (whole lines), cheaply: most blocks hold no key.
pub fn key_block_after(data: &[u8], inside: bool) -> bool {
    if !inside && memmem::find(data, KEY_MARK).is_none() {
        return false;
    }
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    key_block_lines(&lines, inside).1
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
        assert_eq!((vec![1, 2], false), key_block_lines(&lines, false));
    }

    #[test]
    fn a_json_record_ends_a_cut_key_and_state_carries_over() {
        let lines: Vec<&[u8]> = vec![b"MIIE", b"  {\"level\": \"info\"}"];
        assert_eq!((vec![0], false), key_block_lines(&lines, true));
        assert!(key_block_after(b"x\n-----BEGIN PRIVATE KEY-----\nMIIE", false));
        assert!(!key_block_after(b"-----BEGIN PRIVATE KEY----- x -----END PRIVATE KEY-----", false));
    }
}
