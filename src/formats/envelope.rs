//! Envelopes: a record that carries another record as text (`[envelope] inner`: Docker's
//! `log`, journald's `MESSAGE`, a CRI line's content) or as an object (`[envelope] record`: an
//! exported Cloud Logging entry's `jsonPayload`, a search index's `_source`). When the text is
//! a JSON object, or the value is one, it is normalised by its own format, the envelope's
//! columns fill what it lacks, and the envelope itself (less the inner record) is kept in
//! attrs as "envelope".

use std::borrow::Cow;

use crate::json::{format_float, is_int_text, Record};
use crate::normalize::{lookup, split_path, Event};
use crate::tree::{obj_get, parse, J};

/// The inner text at `inner` (a path), with journald's byte array (a MESSAGE that is not
/// valid UTF-8) decoded as UTF-8 with replacement characters, written back when top-level.
pub fn inner_text(record: &mut Record<'_>, inner: &str) -> Option<String> {
    let steps = split_path(inner);
    match value_at(record, &steps) {
        Some(J::Str(text)) => Some(text.to_string()),
        Some(J::Arr(items)) if !items.is_empty() => {
            let bytes: Option<Vec<u8>> = items
                .iter()
                .map(|b| match b {
                    // "-0" is the int 0 too.
                    J::Num(n) if is_int_text(n) => n.parse::<i16>().ok()?.try_into().ok(),
                    _ => None,
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes?).into_owned();
            if let [head] = steps.as_slice() {
                if let Some(slot) = record.iter_mut().find(|(k, _)| k == head) {
                    slot.1 = J::Str(Cow::Owned(text.clone()));
                }
            }
            Some(text)
        }
        _ => None,
    }
}

/// The inner record when `inner` holds it as an object rather than as text.
pub fn inner_object(record: &Record<'_>, inner: &str) -> Option<Record<'static>> {
    match value_at(record, &split_path(inner)) {
        Some(J::Obj(map)) => owned_record(map.clone()),
        _ => None,
    }
}

/// The value at a path's steps in a record, if there is one.
fn value_at<'r, 'a>(record: &'r Record<'a>, steps: &[String]) -> Option<&'r J<'a>> {
    let (head, rest) = steps.split_first()?;
    lookup(obj_get(record, head), rest)
}

/// The inner text as a record, read as orjson reads it (the Python engine's reader): no
/// NaN or Infinity, no lone surrogate, no number beyond a double, and an integer beyond
/// 64 bits as a float. Anything else is no record: the text is the envelope's message.
pub fn inner_record(text: &str) -> Option<Record<'static>> {
    if !text
        .trim_start_matches(crate::lines::py_isspace)
        .starts_with('{')
        || !orjson_reads(text)
    {
        return None;
    }
    match parse(text).ok()? {
        J::Obj(record) => owned_record(record),
        _ => None,
    }
}

/// Whether orjson would read this (what the tree's reader accepts beyond orjson:
/// NaN/Infinity outside strings and lone surrogate escapes inside them).
fn orjson_reads(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut at = 0;
    let hex = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    while at < bytes.len() {
        let b = bytes[at];
        if in_string {
            match b {
                b'"' => in_string = false,
                b'\\' if bytes.get(at + 1) == Some(&b'u') => {
                    if let Some(unit) = hex(at + 2) {
                        if (0xDC00..0xE000).contains(&unit) {
                            return false;
                        }
                        if (0xD800..0xDC00).contains(&unit) {
                            let low = (bytes.get(at + 6..at + 8) == Some(b"\\u"))
                                .then(|| hex(at + 8))
                                .flatten();
                            if !low.is_some_and(|l| (0xDC00..0xE000).contains(&l)) {
                                return false;
                            }
                            at += 6;
                        }
                    }
                    at += 5;
                }
                b'\\' => at += 1,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'N' | b'I' => return false,
                _ => {}
            }
        }
        at += 1;
    }
    true
}

fn owned_record(record: Record<'_>) -> Option<Record<'static>> {
    record
        .into_iter()
        .map(|(k, v)| Some((Cow::Owned(k.into_owned()), owned(v)?)))
        .collect()
}

fn owned(value: J<'_>) -> Option<J<'static>> {
    Some(match value {
        J::Null => J::Null,
        J::Bool(b) => J::Bool(b),
        J::Str(s) => J::Str(Cow::Owned(s.into_owned())),
        J::Num(n) => J::Num(Cow::Owned(orjson_number(&n)?)),
        J::Arr(items) => J::Arr(items.into_iter().map(owned).collect::<Option<_>>()?),
        J::Obj(map) => J::Obj(owned_record(map)?),
    })
}

/// A number as orjson reads it: an integer beyond 64 bits is a float, a float beyond a
/// double is an error.
fn orjson_number(text: &str) -> Option<String> {
    if is_int_text(text) {
        let fits = text
            .parse::<i128>()
            .is_ok_and(|n| n >= i128::from(i64::MIN) && n <= i128::from(u64::MAX));
        if fits {
            return Some(text.to_string());
        }
    }
    let f: f64 = text.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    // orjson's float text has a '.' or an exponent, so it reads back as the same float.
    Some(if is_int_text(text) {
        format_float(f, false)
    } else {
        text.to_string()
    })
}

/// The inner record's event with the envelope's columns filling what it lacks, and the
/// envelope itself in attrs (an inner "envelope" moves to "envelope~inner").
pub fn enveloped<'a>(mut event: Event<'a>, outer: Event<'a>, envelope: Record<'a>) -> Event<'a> {
    for (mine, theirs) in event.fields.iter_mut().zip(outer.fields) {
        if mine.is_none() {
            *mine = theirs;
        }
    }
    let attrs = &mut event.attrs;
    match attrs.iter().position(|(k, _)| k == "envelope") {
        Some(at) => {
            let old = std::mem::replace(&mut attrs[at].1, J::Obj(envelope));
            match attrs.iter().position(|(k, _)| k == "envelope~inner") {
                Some(inner) => attrs[inner].1 = old,
                None => attrs.push((Cow::Borrowed("envelope~inner"), old)),
            }
        }
        None => attrs.push((Cow::Borrowed("envelope"), J::Obj(envelope))),
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inner_object_is_the_record_and_text_is_not() {
        let record = crate::json::parse_record(
            br#"{"jsonPayload": {"event": "hi", "n": 1}, "textPayload": "{\"a\": 1}", "nested": {"_source": {"b": 2}}}"#,
        )
        .unwrap();
        let inner = inner_object(&record, "jsonPayload").unwrap();
        assert_eq!(r#"{"event":"hi","n":1}"#, crate::json::dumps_record(&inner));
        assert!(inner_object(&record, "textPayload").is_none());
        assert!(inner_object(&record, "missing").is_none());
        let nested = inner_object(&record, "nested._source").unwrap();
        assert_eq!(r#"{"b":2}"#, crate::json::dumps_record(&nested));
    }

    #[test]
    fn the_inner_text_is_a_record_only_where_orjson_reads_one() {
        assert!(inner_record(r#" {"a": 1}"#).is_some());
        assert!(inner_record(r#"{"a": NaN}"#).is_none());
        assert!(inner_record(r#"{"a": "\ud800"}"#).is_none());
        assert!(inner_record(r#"{"a": "\ud83d\ude00", "N": "I"}"#).is_some());
        assert!(inner_record(r#"{"a": 1e400}"#).is_none());
        assert!(inner_record("[1]").is_none());
        let big = inner_record(r#"{"a": 123456789012345678901, "b": 18446744073709551615}"#);
        let big = big.unwrap();
        assert_eq!(
            crate::json::dumps_record(&big),
            r#"{"a":1.2345678901234568e+20,"b":18446744073709551615}"#
        );
    }
}
