//! A JSON record inside a syslog line, as a record of its parts: what rsyslog and syslog-ng
//! write to files (`/var/log/syslog`, `/var/log/messages`) when an application logs JSON
//! through syslog. The `syslog` format (formats/syslog.toml) unwraps the record as Docker's
//! and CRI's are.
//!
//! Three headers are read, and only before a JSON object (a text message is no JSON record:
//! such a line is rejected as `not_json`, as before):
//! * RFC 3164, the traditional file format: `Dec  7 10:00:00 host app[123]: {...}`, with or
//!   without `<PRI>` (its time has no year: the inner record's own time is the event's);
//! * the same with an RFC 3339 time (rsyslog's `RSYSLOG_FileFormat`, Debian's default);
//! * RFC 5424: `<PRI>1 TIME HOST APP PROCID MSGID SD {...}`.

use std::borrow::Cow;

use crate::json::Record;
use crate::tree::J;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The line as `{syslog, time, host, app, pid, msgid, log}` (absent parts left out; `syslog`
/// names the header: rfc3164, rfc3339 or rfc5424), or None when it is no syslog line holding
/// a JSON object.
pub fn syslog_record(raw: &[u8]) -> Option<Record<'_>> {
    // JSON lines, nearly every line read, leave at once.
    if !matches!(raw.first(), Some(b'<' | b'A'..=b'Z' | b'0'..=b'9')) {
        return None;
    }
    let text = std::str::from_utf8(raw).ok()?;
    let (pri, rest) = match text.strip_prefix('<') {
        Some(after) => {
            let end = after.find('>')?;
            let digits = &after[..end];
            if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            (true, &after[end + 1..])
        }
        None => (false, text),
    };
    match rest.strip_prefix("1 ") {
        Some(rest) if pri => rfc5424(rest),
        _ => bsd(rest),
    }
}

/// `TIME HOST TAG[PID]: {...}`, TIME traditional (`Mmm dd hh:mm:ss`) or RFC 3339.
fn bsd(line: &str) -> Option<Record<'_>> {
    let (time, kind, rest) = if traditional_time(line) {
        (&line[..15], "rfc3164", line.get(15..)?.strip_prefix(' ')?)
    } else {
        let (time, rest) = line.split_once(' ')?;
        if !rfc3339(time) {
            return None;
        }
        (time, "rfc3339", rest)
    };
    let (host, rest) = rest.split_once(' ')?;
    let (tag, content) = rest.split_once(": ")?;
    if host.is_empty() || tag.is_empty() || tag.contains(' ') || !content.starts_with('{') {
        return None;
    }
    let (app, pid) = match tag.strip_suffix(']').and_then(|t| t.split_once('[')) {
        Some((app, pid)) if !app.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) => {
            (app, Some(pid))
        }
        _ => (tag, None),
    };
    Some(record(
        kind,
        [Some(time), Some(host), Some(app), pid, None],
        content,
    ))
}

/// `TIME HOST APP PROCID MSGID SD {...}` after `<PRI>1 `; `-` is a part left out.
fn rfc5424<'a>(line: &'a str) -> Option<Record<'a>> {
    let mut parts = line.splitn(6, ' ');
    let (time, host, app, procid, msgid) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let rest = parts.next()?;
    if !(time == "-" || rfc3339(time)) {
        return None;
    }
    // Structured data: `-`, or elements in brackets, before the message.
    let content = match rest.strip_prefix("- ") {
        Some(content) => content,
        None if rest.starts_with('[') => {
            let at = rest.find("] {").or_else(|| rest.find("] \u{feff}{"))?;
            &rest[at + 2..]
        }
        None => return None,
    };
    let content = content.strip_prefix('\u{feff}').unwrap_or(content);
    if !content.starts_with('{') {
        return None;
    }
    let given = |part: &'a str| (part != "-").then_some(part);
    Some(record(
        "rfc5424",
        [
            given(time),
            given(host),
            given(app),
            given(procid),
            given(msgid),
        ],
        content,
    ))
}

/// The parts' names, in a record's order.
const PARTS: [&str; 5] = ["time", "host", "app", "pid", "msgid"];

fn record<'a>(kind: &'static str, parts: [Option<&'a str>; 5], content: &'a str) -> Record<'a> {
    let mut made: Record<'a> = vec![("syslog".into(), J::Str(Cow::Borrowed(kind)))];
    for (name, part) in PARTS.into_iter().zip(parts) {
        if let Some(part) = part {
            made.push((name.into(), J::Str(Cow::Borrowed(part))));
        }
    }
    made.push(("log".into(), J::Str(Cow::Borrowed(content))));
    made
}

/// `Mmm dd hh:mm:ss` (the day padded with a space or a zero) and a space after it.
fn traditional_time(line: &str) -> bool {
    let b = line.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    b.len() > 15
        && MONTHS.iter().any(|m| line.starts_with(m))
        && b[3] == b' '
        && (b[4] == b' ' || digit(4))
        && digit(5)
        && b[6] == b' '
        && digit(7)
        && digit(8)
        && b[9] == b':'
        && digit(10)
        && digit(11)
        && b[12] == b':'
        && digit(13)
        && digit(14)
        && b[15] == b' '
}

/// `YYYY-MM-DDThh:mm:ss[.f](Z|±hh:mm)`.
fn rfc3339(time: &str) -> bool {
    let b = time.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || b[10] != b'T'
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut zone = &time[19..];
    if let Some(fraction) = zone.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return false;
        }
        zone = &fraction[end..];
    }
    zone == "Z"
        || (zone.len() == 6
            && matches!(zone.as_bytes()[0], b'+' | b'-')
            && zone.as_bytes()[3] == b':'
            && zone[1..3]
                .bytes()
                .chain(zone[4..6].bytes())
                .all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> Option<Vec<(String, String)>> {
        syslog_record(line.as_bytes()).map(|record| {
            record
                .into_iter()
                .map(|(k, v)| match v {
                    J::Str(s) => (k.into_owned(), s.into_owned()),
                    _ => panic!("not text"),
                })
                .collect()
        })
    }

    fn want(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn a_traditional_line_with_or_without_its_priority() {
        let expected = want(&[
            ("syslog", "rfc3164"),
            ("time", "Dec  7 10:00:00"),
            ("host", "web-1"),
            ("app", "api"),
            ("pid", "812"),
            ("log", r#"{"level":"info","msg":"up"}"#),
        ]);
        let line = r#"Dec  7 10:00:00 web-1 api[812]: {"level":"info","msg":"up"}"#;
        assert_eq!(expected, parts(line));
        assert_eq!(expected, parts(&format!("<134>{line}")));
        assert_eq!(
            want(&[
                ("syslog", "rfc3164"),
                ("time", "Nov 17 09:05:01"),
                ("host", "h"),
                ("app", "cron.daily"),
                ("log", "{}"),
            ]),
            parts("Nov 17 09:05:01 h cron.daily: {}")
        );
    }

    #[test]
    fn an_rfc3339_line_as_rsyslog_writes_it() {
        assert_eq!(
            want(&[
                ("syslog", "rfc3339"),
                ("time", "2026-12-07T10:00:00.123456+01:00"),
                ("host", "web-1"),
                ("app", "api"),
                ("pid", "9"),
                ("log", r#"{"a":1}"#),
            ]),
            parts(r#"2026-12-07T10:00:00.123456+01:00 web-1 api[9]: {"a":1}"#)
        );
    }

    #[test]
    fn an_rfc5424_line_with_or_without_structured_data() {
        let expected = want(&[
            ("syslog", "rfc5424"),
            ("time", "2026-12-07T10:00:00.5Z"),
            ("host", "web-1"),
            ("app", "api"),
            ("pid", "812"),
            ("msgid", "REQ"),
            ("log", r#"{"msg":"x"}"#),
        ]);
        assert_eq!(
            expected,
            parts(r#"<165>1 2026-12-07T10:00:00.5Z web-1 api 812 REQ - {"msg":"x"}"#)
        );
        assert_eq!(
            expected,
            parts(
                "<165>1 2026-12-07T10:00:00.5Z web-1 api 812 REQ [origin ip=\"10.0.0.1\"] \u{feff}{\"msg\":\"x\"}"
            )
        );
        assert_eq!(
            want(&[("syslog", "rfc5424"), ("app", "api"), ("log", "{}")]),
            parts("<14>1 - - api - - - {}")
        );
    }

    #[test]
    fn anything_else_is_no_syslog_record() {
        for line in [
            r#"{"a":1}"#,
            "Dec  7 10:00:00 web-1 api[812]: plain text",
            "Dec  7 10:00:00 web-1 api[812] {}",
            "Dec 7 10:00:00 web-1 api: {}",
            "Foo  7 10:00:00 web-1 api: {}",
            "2026-12-07T10:00:00 web-1 api: {}",
            "2026-12-07T10:00:00Z stdout F {}",
            "<1234>Dec  7 10:00:00 h a: {}",
            "<165>1 yesterday web-1 api 812 REQ - {}",
            "<165>1 2026-12-07T10:00:00Z web-1 api 812 REQ text {}",
            "2026 is a year",
        ] {
            assert_eq!(None, parts(line), "{line}");
        }
    }
}
