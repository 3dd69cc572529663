//! One line of JSON as a record, and a record written back as `attrs` text.
//!
//! The semantics are those logkit's Python reader had (orjson, falling back on the standard
//! library), kept as stored data depends on them: a record is accepted when either accepts
//! it (see `tree.rs` for what that means and the tree it is read into).
//! `view` gives a value as the Python type it would have been.

use crate::lines::{classify, trim_line, Reason};
use crate::syslog::syslog_record;
use crate::tree::{parse_reusing, run_ends, ParseError, J};

/// orjson writes at most this many levels; deeper records are written by the standard
/// library's `json.dumps`, which separates items with ", " and keys with ": ".
const ORJSON_WRITE_DEPTH: usize = 254;

pub type Record<'a> = crate::tree::Obj<'a>;

/// A raw line (BOM and a final CR allowed) as a JSON object, or the reason it is not one.
pub fn parse_record(raw: &[u8]) -> Result<Record<'_>, Reason> {
    parse_record_reusing(raw, None)
}

/// `parse_record`, the record made in `spare`'s room if given (a record done with).
pub fn parse_record_reusing<'a>(
    raw: &'a [u8],
    spare: Option<Record<'a>>,
) -> Result<Record<'a>, Reason> {
    let raw = trim_line(raw);
    // A line the reader takes as a Kubernetes (CRI) line is never JSON (it starts with a
    // date), and Python looks for one before the NUL and UTF-8 checks of a refused line.
    if let Some(record) = cri_record(raw).or_else(|| syslog_record(raw)) {
        return Ok(record);
    }
    // A NUL byte is in no JSON value (no string holds a control byte as it is, and it is not
    // space): only a line that is not one is looked through for it, ahead of every other
    // reason, as `classify` does.
    let Ok(text) = std::str::from_utf8(raw) else {
        return Err(classify(raw, false));
    };
    match parse_reusing(text, spare) {
        Ok(J::Obj(record)) => Ok(record),
        Ok(_) => Err(Reason::NotObject),
        // orjson stops at the 1025th level unless a syntax error comes first.
        Err(ParseError::Depth) => Err(classify(raw, true)),
        Err(ParseError::Syntax) => Err(classify(raw, false)),
    }
}

/// A Kubernetes (CRI) container log line, `<RFC 3339 time> <stdout|stderr> <P|F>[:tags]
/// <content>`, as a record (the time `\d{4}-\d\d-\d\dT[0-9:.]+(?:Z|[+-]\d\d:\d\d)`); the
/// content is decoded as UTF-8 with replacement characters.
fn cri_record(raw: &[u8]) -> Option<Record<'_>> {
    if raw.len() < 4 || !raw[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digits = |b: &[u8]| b.iter().all(u8::is_ascii_digit);
    let space = memchr::memchr(b' ', raw)?;
    let time = &raw[..space];
    if time.len() < 11 || !digits(&time[..4]) || time[4] != b'-' || !digits(&time[5..7]) {
        return None;
    }
    if time[7] != b'-' || !digits(&time[8..10]) || time[10] != b'T' {
        return None;
    }
    let clock = &time[11..];
    let zone_at = if clock.ends_with(b"Z") {
        clock.len() - 1
    } else {
        let at = clock.len().checked_sub(6)?;
        let zone = &clock[at..];
        if !matches!(zone[0], b'+' | b'-') || !digits(&zone[1..3]) || zone[3] != b':' {
            return None;
        }
        if !digits(&zone[4..6]) {
            return None;
        }
        at
    };
    let body = &clock[..zone_at];
    if body.is_empty()
        || !body
            .iter()
            .all(|&b| b.is_ascii_digit() || b == b':' || b == b'.')
    {
        return None;
    }
    let rest = &raw[space + 1..];
    let (stream, rest) = if let Some(rest) = rest.strip_prefix(b"stdout ") {
        ("stdout", rest)
    } else {
        ("stderr", rest.strip_prefix(b"stderr ")?)
    };
    if !matches!(rest.first(), Some(b'P' | b'F')) {
        return None;
    }
    let tag_end = memchr::memchr(b' ', rest)?;
    let (tag, content) = (&rest[..tag_end], &rest[tag_end + 1..]);
    Some(vec![
        (
            "time".into(),
            J::Str(std::str::from_utf8(time).ok()?.into()),
        ),
        ("stream".into(), J::Str(stream.into())),
        (
            "logtag".into(),
            J::Str(std::str::from_utf8(tag).ok()?.into()),
        ),
        ("log".into(), J::Str(String::from_utf8_lossy(content))),
    ])
}

pub fn is_int_text(text: &str) -> bool {
    !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

/// A JSON value seen as the Python object the old pipeline had: converters decide on these
/// types, as Python's did on `type(x)`.
#[derive(Debug, Clone, Copy)]
pub enum Py<'a> {
    None,
    Bool(bool),
    /// An int: its value when it fits 128 bits (any int beyond that is out of every range a
    /// converter accepts), and its digits.
    Int(Option<i128>, &'a str),
    Float(f64),
    Str(&'a str),
    List(&'a [J<'a>]),
    Dict(&'a Record<'a>),
}

pub fn view<'a>(value: &'a J<'a>) -> Py<'a> {
    match value {
        J::Null => Py::None,
        J::Bool(b) => Py::Bool(*b),
        J::Str(s) => Py::Str(s),
        J::Arr(items) => Py::List(items),
        J::Obj(pairs) => Py::Dict(pairs),
        J::Num(text) => number_view(text),
    }
}

fn number_view(text: &str) -> Py<'_> {
    if is_int_text(text) {
        let text = if text == "-0" { "0" } else { text };
        return Py::Int(text.parse::<i128>().ok(), text);
    }
    let f: f64 = text.parse().unwrap_or(f64::NAN);
    if f.is_infinite() {
        // The standard library reads 1e400 as inf, which is kept as text.
        return Py::Str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    }
    Py::Float(f)
}

// --- writing ------------------------------------------------------------------------------

/// A record as `attrs` text: orjson's compact form, or the standard
/// library's (", " and ": ") for a record orjson cannot write (an int beyond 64 bits, more
/// than 254 levels).
pub fn dumps_record(record: &Record<'_>) -> String {
    let mut out = String::with_capacity(256);
    write_record(record, &mut out);
    out
}

/// `dumps_record`'s text appended to `out`.
pub fn write_record(record: &Record<'_>, out: &mut String) {
    let start = out.len();
    if write_map(record, out, Style::Orjson, 1).is_ok() {
        return;
    }
    out.truncate(start);
    let _ = write_map(record, out, Style::Python, 1);
}

/// One value as orjson.dumps writes it (logkit/formats renders a message template's
/// properties so), or in the standard library's style where orjson cannot write it.
pub fn dumps_value(value: &J<'_>) -> String {
    let mut out = String::new();
    if write_value(value, &mut out, Style::Orjson, 1).is_ok() {
        return out;
    }
    out.clear();
    let _ = write_value(value, &mut out, Style::Python, 1);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Orjson,
    Python,
}

/// orjson cannot write this value; the caller starts again in the Python style.
struct Unwritable;

fn write_value(
    value: &J<'_>,
    out: &mut String,
    style: Style,
    depth: usize,
) -> Result<(), Unwritable> {
    match value {
        J::Null => out.push_str("null"),
        J::Bool(true) => out.push_str("true"),
        J::Bool(false) => out.push_str("false"),
        J::Str(s) => write_str(s, out),
        J::Num(n) => write_number(n, out, style)?,
        J::Arr(items) => {
            if style == Style::Orjson && depth > ORJSON_WRITE_DEPTH {
                return Err(Unwritable);
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(if style == Style::Python { ", " } else { "," });
                }
                write_value(item, out, style, depth + 1)?;
            }
            out.push(']');
        }
        J::Obj(map) => write_map(map, out, style, depth)?,
    }
    Ok(())
}

fn write_map(
    map: &Record<'_>,
    out: &mut String,
    style: Style,
    depth: usize,
) -> Result<(), Unwritable> {
    if style == Style::Orjson && depth > ORJSON_WRITE_DEPTH {
        return Err(Unwritable);
    }
    out.push('{');
    for (i, (key, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push_str(if style == Style::Python { ", " } else { "," });
        }
        write_str(key, out);
        out.push_str(if style == Style::Python { ": " } else { ":" });
        write_value(item, out, style, depth + 1)?;
    }
    out.push('}');
    Ok(())
}

/// A JSON string literal: short escapes, other control bytes as \u00XX, the rest (non-ASCII
/// too) as is. The masker's value writer (mask::pyvalue) shares it so both escape alike.
pub(crate) fn write_str(s: &str, out: &mut String) {
    let bytes = s.as_bytes();
    if !needs_escape(bytes) {
        // Most strings (keys above all, most of them shorter than a word): one pass over
        // their words and a copy, not a look at each byte of their last word.
        out.reserve(bytes.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    out.push('"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Eight bytes at a time past those that need no escape (as the parser reads them).
        if let Some(chunk) = bytes.get(i..i + 8) {
            let ends = run_ends(u64::from_le_bytes(chunk.try_into().expect("eight bytes")));
            if ends == 0 {
                i += 8;
                continue;
            }
            // Straight to the byte to escape: byte by byte, each of the bytes before it
            // looked at its own eight again.
            i += ends.trailing_zeros() as usize / 8;
        }
        let byte = bytes[i];
        let escape: Option<&str> = match byte {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => Some(""),
            _ => None,
        };
        if let Some(escape) = escape {
            out.push_str(&s[start..i]);
            if escape.is_empty() {
                out.push_str(&format!("\\u{byte:04x}"));
            } else {
                out.push_str(escape);
            }
            start = i + 1;
        }
        i += 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether any byte of `bytes` is one `write_str` escapes: a word at a time, the last
/// bytes in a word of their own padded with bytes that need none.
fn needs_escape(bytes: &[u8]) -> bool {
    let mut words = bytes.chunks_exact(8);
    let mut ends = 0;
    for word in &mut words {
        ends |= run_ends(u64::from_le_bytes(word.try_into().expect("eight bytes")));
    }
    let mut last = [b' '; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    ends |= run_ends(u64::from_le_bytes(last));
    ends != 0
}

fn write_number(text: &str, out: &mut String, style: Style) -> Result<(), Unwritable> {
    match number_view(text) {
        Py::Int(value, digits) => {
            let fits = matches!(value, Some(v) if v >= i64::MIN as i128 && v <= u64::MAX as i128);
            if !fits && style == Style::Orjson {
                return Err(Unwritable);
            }
            out.push_str(digits);
        }
        Py::Float(f) => out.push_str(&format_float(f, style == Style::Python)),
        Py::Str(s) => write_str(s, out),
        _ => unreachable!("a number is an int, a float or an infinity"),
    }
    Ok(())
}

/// A finite float as orjson writes it (`python == false`) or as Python's `repr` does: the
/// shortest digits that read back the same, in positional notation for decimal exponents
/// from -5 (orjson) or -4 (Python) up to 15, else as `1.5e+16` / `1.5e-7` (Python pads the
/// exponent to two digits: `1.5e-07`).
pub fn format_float(f: f64, python: bool) -> String {
    if f != 0.0 {
        let mut buffer = ryu::Buffer::new();
        let shortest = buffer.format_finite(f.abs());
        // ryu's positional text with the exponent in range is already the answer (its
        // digits as they stand, no zeros to trim or add): the common case, without the
        // rebuilding `spelled` does and its four allocations (most of this function's time).
        let low = if python { -4 } else { -5 };
        if positional_exponent(shortest).is_some_and(|e| (low..16).contains(&e)) {
            let sign = if f.is_sign_negative() { "-" } else { "" };
            let mut out = String::with_capacity(sign.len() + shortest.len());
            out.push_str(sign);
            out.push_str(shortest);
            return out;
        }
    }
    spelled(f, python)
}

/// The decimal exponent of ryu's text when it is positional ("123.45" 2, "0.0012" -3), None
/// when it is scientific ("1e16").
fn positional_exponent(text: &str) -> Option<i32> {
    if text.contains('e') {
        return None;
    }
    let (int, frac) = text.split_once('.')?;
    if int != "0" {
        return Some(int.len() as i32 - 1);
    }
    let zeros = frac.len() - frac.trim_start_matches('0').len();
    Some(-(zeros as i32) - 1)
}

/// `format_float` from ryu's digits, whatever form ryu gives them in.
fn spelled(f: f64, python: bool) -> String {
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0.0");
    }
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(f.abs());
    let (mantissa, exp) = match shortest.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (shortest, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int_part}{frac_part}");
    let leading = all.len() - all.trim_start_matches('0').len();
    let digits = all.trim_start_matches('0').trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    // value = 0.<digits> x 10^k
    let k = int_part.len() as i32 - leading as i32 + exp;
    let e = k - 1;
    let low = if python { -4 } else { -5 };
    let body = if (low..16).contains(&e) {
        let n = digits.len() as i32;
        if k <= 0 {
            format!("0.{}{digits}", "0".repeat((-k) as usize))
        } else if k >= n {
            format!("{digits}{}.0", "0".repeat((k - n) as usize))
        } else {
            format!("{}.{}", &digits[..k as usize], &digits[k as usize..])
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if e < 0 { '-' } else { '+' };
        if python {
            format!("{mantissa}e{exp_sign}{:02}", e.abs())
        } else {
            format!("{mantissa}e{exp_sign}{}", e.abs())
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nul_byte_is_the_reason_before_any_other() {
        for line in [
            &b"{\"a\": \"x\x00y\"}"[..],
            b"{\"a\": 1}\x00",
            b"\x00{\"a\": 1}",
            b"[1,\x00 2]",
            b"\"x\x00\"",
            b"{\"a\": \"\xff\x00\"}",
            b"\x00",
            &[b'['; 1100],
        ] {
            let mut line = line.to_vec();
            line.push(0);
            assert_eq!(Some(Reason::NulByte), parse_record(&line).err(), "{line:?}");
        }
        assert_eq!(
            Some(Reason::InvalidUtf8),
            parse_record(b"{\"a\": \"\xff\"}").err()
        );
        assert_eq!(Some(Reason::NotObject), parse_record(b"[1]").err());
        assert_eq!(Some(Reason::TooDeep), parse_record(&[b'['; 1100]).err());
    }

    #[test]
    fn a_kubernetes_cri_line_is_a_record_of_its_parts() {
        let record =
            parse_record(b"2026-11-22T10:00:00.5+01:00 stderr P:x {\"a\": \xff}\r").unwrap();
        let texts: Vec<(&str, &str)> = record
            .iter()
            .map(|(k, v)| match v {
                J::Str(s) => (k.as_ref(), s.as_ref()),
                _ => panic!("not text"),
            })
            .collect();
        let want = [
            ("time", "2026-11-22T10:00:00.5+01:00"),
            ("stream", "stderr"),
            ("logtag", "P:x"),
            ("log", "{\"a\": \u{fffd}}"),
        ];
        assert_eq!(want.to_vec(), texts);
        for line in [
            &b"2026-11-22T10:00:00 stdout F no zone"[..],
            b"2026-11-22T10:00:00Z stdin F x",
            b"2026-11-22T10:00:00Z stdout X x",
            b"2026-11-22T10:00:00Z stdout F",
            b"2026 is a year",
        ] {
            assert_eq!(
                Err(Reason::NotJson),
                parse_record(line).map(|_| ()),
                "{line:?}"
            );
        }
    }

    fn attrs(line: &str) -> String {
        dumps_record(&parse_record(line.as_bytes()).unwrap())
    }

    #[test]
    fn floats_are_written_as_orjson_and_python_write_them() {
        let cases = [
            (1e16, "1e+16", "1e+16"),
            (1e15, "1000000000000000.0", "1000000000000000.0"),
            (1e-5, "0.00001", "1e-05"),
            (1.5e-7, "1.5e-7", "1.5e-07"),
            (0.0001, "0.0001", "0.0001"),
            (-0.0, "-0.0", "-0.0"),
            (123.0, "123.0", "123.0"),
            (5e-324, "5e-324", "5e-324"),
        ];
        for (f, orjson, python) in cases {
            assert_eq!(orjson, format_float(f, false), "{f}");
            assert_eq!(python, format_float(f, true), "{f}");
        }
    }

    #[test]
    fn ryus_positional_text_is_taken_as_the_rebuilt_text_would_be() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut values = vec![
            1.466, 100.0, 0.0001, 0.00001, 1e15, 1e16, 123.0, 5e-324, 0.1,
        ];
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(f64::from_bits(x)); // any magnitude
            values.push((x % 10_000_000) as f64 / 10f64.powi((x % 23) as i32)); // decimals
            values.push((x % 100_000) as f64 * 10f64.powi((x % 19) as i32)); // big ones
        }
        for f in values.into_iter().filter(|f| f.is_finite()) {
            for f in [f, -f] {
                for python in [false, true] {
                    assert_eq!(spelled(f, python), format_float(f, python), "{f:e}");
                }
            }
        }
    }

    #[test]
    fn strings_are_escaped_like_serde_json_wherever_the_escape_falls() {
        // Each byte that needs an escape, at each place of strings long enough to be read
        // eight bytes at a time, among characters beyond ASCII.
        for special in [
            '"', '\\', '\n', '\r', '\t', '\u{8}', '\u{c}', '\u{1}', '\u{1f}',
        ] {
            for len in 0..40 {
                for at in 0..=len {
                    let mut chars: Vec<char> =
                        "ab\u{e9}cd\u{1f600}ef".chars().cycle().take(len).collect();
                    chars.insert(at, special);
                    let s: String = chars.into_iter().collect();
                    let mut out = String::new();
                    write_str(&s, &mut out);
                    assert_eq!(serde_json::to_string(&s).unwrap(), out, "{s:?}");
                }
            }
        }
    }

    #[test]
    fn python_extras_become_strings_and_replacement_characters() {
        assert_eq!(
            r#"{"a":"NaN","b":["Infinity","-Infinity"],"c":"x�y","d":"😀"}"#,
            attrs(
                r#"{"a": NaN, "b": [Infinity, -Infinity], "c": "x\ud800y", "d": "\ud83d\ude00"}"#
            )
        );
        assert_eq!(r#"{"a":"Infinity"}"#, attrs(r#"{"a": 1e400}"#));
        assert_eq!(Err(Reason::InvalidJson), parse_record(br#"{NaN: 1}"#));
    }

    #[test]
    fn an_int_beyond_64_bits_is_kept_and_written_the_standard_librarys_way() {
        assert_eq!(
            r#"{"n": 123456789012345678901234567890, "f": 1e-05}"#,
            attrs(r#"{"n":123456789012345678901234567890,"f":1e-5}"#)
        );
        assert_eq!(
            r#"{"n":18446744073709551615,"z":0}"#,
            attrs(r#"{"n":18446744073709551615,"z":-0}"#)
        );
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_in_the_first_place() {
        assert_eq!(r#"{"a":3,"b":2}"#, attrs(r#"{"a":1,"b":2,"a":3}"#));
    }

    #[test]
    fn depth_is_limited_where_orjson_limits_it() {
        // 1024 levels need more stack than a test thread's 2 MB in a debug build; the core
        // runs lines on threads with `crate::block::STACK_BYTES`.
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn(deep_lines)
            .unwrap()
            .join()
            .unwrap();
    }

    fn deep_lines() {
        let deep = |n: usize| format!("{{\"n\":{}1{}}}", "[".repeat(n - 1), "]".repeat(n - 1));
        assert!(parse_record(deep(1024).as_bytes()).is_ok());
        assert_eq!(Err(Reason::TooDeep), parse_record(deep(1025).as_bytes()));
        let broken = format!("{{\"n\":x{}", "[".repeat(2000));
        assert_eq!(Err(Reason::InvalidJson), parse_record(broken.as_bytes()));
        assert!(attrs(&deep(300)).starts_with("{\"n\": [[["));
    }
}
