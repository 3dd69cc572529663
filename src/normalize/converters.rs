//! The converters: what each kind of column accepts, each returning the canonical value or
//! None (the value then stays in attrs).

use std::borrow::Cow;

use crate::json::{view, Py};
use crate::lines::py_isspace;
use crate::pytext::{ascii_digits, py_float};
use crate::timeparse::parse_ts;

use super::event::Out;
use super::groups::Conv;

const INT64_MAX: i128 = i64::MAX as i128;
/// 2**63 as a float: the first float above INT64_MAX (which no float equals).
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

pub(super) fn convert(conv: Conv, value: Py<'_>) -> Option<Out<'_>> {
    match conv {
        Conv::Ts => parse_ts(value).map(Out::Int),
        Conv::Epoch(multiply, divide) => epoch(value, multiply, divide).map(Out::Int),
        Conv::Level | Conv::FormatLevel => normalize_level(value).map(|l| Out::Str(l.into())),
        Conv::Text => match value {
            Py::Str(s) if !s.is_empty() => Some(Out::Str(s.into())),
            _ => None,
        },
        Conv::Message => match value {
            Py::Str(s) => Some(Out::Str(s.into())),
            _ => None,
        },
        Conv::Ident => match value {
            Py::Str(s) if !s.is_empty() => Some(Out::Str(s.into())),
            // Datadog trace ids are unsigned 64-bit ints; as text they fit any size.
            Py::Int(_, digits) => Some(Out::Str(digits.into())),
            _ => None,
        },
        Conv::TraceIdent => convert(Conv::Ident, value)
            .filter(|id| matches!(id, Out::Str(s) if s.chars().any(|c| c != '0' && c != '-'))),
        // An id of zeros only is the W3C's way of saying "none".
        Conv::TraceparentTrace => traceparent(value)
            .filter(|(t, _)| t.bytes().any(|b| b != b'0'))
            .map(|(t, _)| Out::Str(t.into())),
        Conv::TraceparentSpan => traceparent(value)
            .filter(|(_, s)| s.bytes().any(|b| b != b'0'))
            .map(|(_, s)| Out::Str(s.into())),
        Conv::XrayTrace => xray_trace(value).map(|id| Out::Str(id.into())),
        Conv::Count => count(value).map(Out::Int),
        Conv::Status => status(value).map(|s| Out::Int(i64::from(s))),
        Conv::Cost => number(value).filter(|n| *n >= 0.0).map(Out::Float),
        Conv::Duration(multiply, divide) => duration(value, multiply, divide).map(Out::Float),
        Conv::HttpMethod => match value {
            Py::Str(s)
                if (1..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphabetic()) =>
            {
                // Most methods are written upper case already: no copy then.
                Some(Out::Str(if s.bytes().any(|b| b.is_ascii_lowercase()) {
                    s.to_ascii_uppercase().into()
                } else {
                    s.into()
                }))
            }
            _ => None,
        },
        Conv::Path => match value {
            Py::Str(s) => path(s).map(|p| Out::Str(p.into())),
            _ => None,
        },
        Conv::CacheHit => cache_hit(value).map(Out::Bool),
    }
}

fn level_word(word: &str) -> Option<&'static str> {
    Some(match word {
        // silly and http: winston's npm levels; dbug, trce, eror: log15's four letters (Geth,
        // go-ethereum's forks); log: NestJS's and consola's INFO; fine, finer, finest and
        // severe: java.util.logging's names.
        "debug" | "trace" | "verbose" | "silly" | "dbug" | "trce" | "fine" | "finer" | "finest" => {
            "DEBUG"
        }
        "info" | "information" | "informational" | "notice" | "http" | "log" => "INFO",
        "warn" | "warning" => "WARNING",
        "err" | "error" | "eror" | "severe" => "ERROR",
        "fatal" | "critical" | "crit" | "panic" | "emerg" | "emergency" | "alert" => "CRITICAL",
        _ => return None,
    })
}

fn level_number(n: i128) -> Option<&'static str> {
    Some(match n {
        0..=2 => "CRITICAL", // syslog severities
        3 => "ERROR",
        4 => "WARNING",
        5 | 6 => "INFO",
        7 => "DEBUG",
        10 | 20 => "DEBUG", // bunyan / pino
        30 => "INFO",
        40 => "WARNING",
        50 => "ERROR",
        60 => "CRITICAL",
        _ => return None,
    })
}

/// DEBUG, INFO, WARNING, ERROR or CRITICAL for a level spelling, or None.
pub fn normalize_level(value: Py<'_>) -> Option<&'static str> {
    match value {
        Py::Str(s) => {
            let word = s.trim_matches(py_isspace);
            let word = if word.bytes().any(|b| b.is_ascii_uppercase()) || !word.is_ascii() {
                Cow::Owned(word.to_lowercase())
            } else {
                Cow::Borrowed(word)
            };
            if let Some(level) = level_word(&word) {
                return Some(level);
            }
            let chars = word.chars().count();
            if (1..=2).contains(&chars) && ascii_digits(&word) {
                return level_number(word.parse().ok()?);
            }
            None
        }
        Py::Int(n, _) => level_number(n?),
        Py::Float(f) if f.is_finite() && f.fract() == 0.0 => {
            (f.abs() < 1e30).then(|| level_number(f as i128)).flatten()
        }
        _ => None,
    }
}

/// logkit/formats' `_found`: the part of a string (or of a list's first item) the first
/// matching pattern captures, its group `value` if it has one, else the whole match.
pub(crate) fn found<'v>(value: Py<'v>, patterns: &[regex::Regex]) -> Option<&'v str> {
    let value = match value {
        Py::List(items) if !items.is_empty() => view(&items[0]),
        other => other,
    };
    let Py::Str(text) = value else { return None };
    for pattern in patterns {
        // Found first, captured only where found: `captures` allocates its slots before it
        // searches, and these patterns (an access line in any message, a type in any stack)
        // mostly find nothing: that allocation was a twentieth of the core's time.
        let Some(whole) = pattern.find(text) else {
            continue;
        };
        if !pattern.capture_names().any(|name| name == Some("value")) {
            return Some(whole.as_str());
        }
        // The same leftmost match, from where it starts (so `\b` and `^` see what is before).
        let caps = pattern.captures_at(text, whole.start())?;
        return caps.name("value").map(|m| m.as_str());
    }
    None
}

/// An epoch number of any size in a known unit (`ts_s`, `ts_ms`, ...), to
/// microseconds (a date string is still read as one).
fn epoch(value: Py<'_>, multiply: i128, divide: i128) -> Option<i64> {
    let in_range = |us: i128| (MIN_TS..=MAX_TS).contains(&us).then_some(us as i64);
    let float = |f: f64| {
        let us = (f * multiply as f64 / divide as f64).round_ties_even();
        // Python's round() gives an int of any size; beyond the range either way.
        (us.is_finite() && us.abs() < 1e20)
            .then(|| in_range(us as i128))
            .flatten()
    };
    match value {
        Py::Str(s) => {
            if s.chars().count() >= 10 && s.chars().nth(4) == Some('-') {
                return parse_ts(value);
            }
            let number = number(value)?;
            if ascii_digits(s) {
                let n = s.parse::<i128>().ok()?;
                in_range(n.checked_mul(multiply)?.div_euclid(divide))
            } else {
                float(number)
            }
        }
        Py::Int(n, _) => in_range(n?.checked_mul(multiply)?.div_euclid(divide)),
        Py::Float(f) if f.is_finite() => float(f),
        _ => None,
    }
}

/// The bounds of a stored time (years 1 to 9999), in microseconds.
const MIN_TS: i128 = -62_135_596_800_000_000;
const MAX_TS: i128 = 253_402_300_799_999_999;

fn traceparent(value: Py<'_>) -> Option<(&str, &str)> {
    match value {
        Py::Str(s) => crate::hex::traceparent(s),
        _ => None,
    }
}

/// A trace id from AWS X-Ray (as normalize.xray_trace in Python, for queries): a bare X-Ray
/// id (`1-5759e988-bd862e3fe1be46a994272793`) or
/// the one `Root=` of an `X-Amzn-Trace-Id` header, as the 32-hex W3C id AWS maps it to (its
/// time and random parts, lower case); an id of zeros only is none.
fn xray_trace(value: Py<'_>) -> Option<String> {
    let Py::Str(s) = value else { return None };
    // Python's len: code points.
    if !(35..=256).contains(&s.chars().count()) {
        return None;
    }
    let mut text = s;
    if s.contains('=') {
        let mut roots = s
            .split(';')
            .map(|f| f.trim_matches(py_isspace))
            .filter_map(|f| f.strip_prefix("Root="));
        text = match (roots.next(), roots.next()) {
            (Some(root), None) => root.trim_matches(py_isspace),
            _ => "",
        };
    }
    // 35 code points of which the id's are hex: a non-ASCII one never is, so 35 ASCII bytes.
    let b = text.as_bytes();
    if b.len() != 35 || !text.is_ascii() || &b[..2] != b"1-" || b[10] != b'-' {
        return None;
    }
    let ident = format!("{}{}", &text[2..10], &text[11..]).to_ascii_lowercase();
    let hex = crate::hex::all_hex(ident.as_bytes());
    (hex && ident.bytes().any(|c| c != b'0')).then_some(ident)
}

fn count(value: Py<'_>) -> Option<i64> {
    match value {
        Py::Int(n, _) => n.filter(|n| (0..=INT64_MAX).contains(n)).map(|n| n as i64),
        Py::Float(f) => (f.fract() == 0.0 && (0.0..TWO_63).contains(&f)).then_some(f as i64),
        Py::Str(s) if (1..=19).contains(&s.len()) && ascii_digits(s) => s
            .parse::<i128>()
            .ok()
            .filter(|n| *n <= INT64_MAX)
            .map(|n| n as i64),
        _ => None,
    }
}

fn status(value: Py<'_>) -> Option<i32> {
    match value {
        Py::Int(n, _) => n.filter(|n| (100..=599).contains(n)).map(|n| n as i32),
        // "ok", "failed", "200 OK": words stay in attrs.
        Py::Str(s)
            if s.len() == 3 && ascii_digits(s) && (b'1'..=b'5').contains(&s.as_bytes()[0]) =>
        {
            s.parse().ok()
        }
        Py::Float(f) if f.fract() == 0.0 && (100.0..=599.0).contains(&f) => Some(f as i32),
        _ => None,
    }
}

/// A finite float from an int, float or numeric string (not a bool), else None.
fn number(value: Py<'_>) -> Option<f64> {
    match value {
        Py::Float(f) => f.is_finite().then_some(f),
        Py::Int(n, _) => n
            .filter(|n| (-INT64_MAX..=INT64_MAX).contains(n))
            .map(|n| n as i64 as f64),
        Py::Str(s) if s.chars().count() <= 64 => py_float(s).filter(|f| f.is_finite()),
        _ => None,
    }
}

fn duration(value: Py<'_>, multiply: f64, divide: f64) -> Option<f64> {
    let n = match value {
        Py::Float(_) | Py::Int(..) => number(value),
        Py::Str(s) => match number(value) {
            Some(n) => Some(n),
            None => return duration_string(s),
        },
        _ => return None,
    };
    let n = n.filter(|n| *n >= 0.0)?;
    let ms = n * multiply / divide;
    // 1e308 seconds is a finite number but not a finite number of milliseconds.
    (ms != f64::INFINITY).then_some(ms)
}

/// (multiply, divide) to milliseconds for a duration unit.
fn unit_factor(unit: &str) -> (f64, f64) {
    match unit {
        "ns" => (1.0, 1e6),
        "us" | "µs" | "μs" => (1.0, 1e3),
        "ms" => (1.0, 1.0),
        "s" | "sec" => (1e3, 1.0),
        "m" | "min" => (60e3, 1.0),
        _ => (3600e3, 1.0), // h
    }
}

/// Milliseconds in "12ms", "1.5s", "250µs", "3m" or Go's "1m2.5s" (parts in any number,
/// whitespace allowed around the units).
fn duration_string(value: &str) -> Option<f64> {
    let text = value.trim_matches(py_isspace);
    if text.chars().count() > 64 || text.is_empty() {
        return None;
    }
    // Units are tried in this order, which decides what a text means: "ms" before "m",
    // "sec"/"s" before "min".
    const UNITS: [&str; 10] = ["ns", "us", "µs", "μs", "ms", "sec", "s", "min", "m", "h"];
    let mut rest = text;
    let mut total = 0.0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut len = digits;
        if rest.as_bytes().get(len) == Some(&b'.') {
            let frac = rest[len + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if digits == 0 && frac == 0 {
                return None;
            }
            len += 1 + frac;
        } else if digits == 0 {
            return None;
        }
        let number: f64 = rest[..len].parse().ok()?;
        rest = rest[len..].trim_start_matches(py_isspace);
        let unit = UNITS.iter().find(|u| rest.starts_with(*u))?;
        let after = &rest[unit.len()..];
        // The unit must end the part: what follows is space, the end or the next number.
        let next = after.trim_start_matches(py_isspace);
        if !(next.is_empty() || next.starts_with(|c: char| c.is_ascii_digit() || c == '.')) {
            return None;
        }
        let (multiply, divide) = unit_factor(unit);
        total += number * multiply / divide;
        rest = next;
    }
    total.is_finite().then_some(total)
}

fn path(value: &str) -> Option<&str> {
    if value.is_empty() {
        return None;
    }
    let mut value = value;
    if let Some(scheme) = value.find("://") {
        // A full URL: the path starts at the first slash after the host.
        value = match value[scheme + 3..].find('/') {
            Some(slash) => &value[scheme + 3 + slash..],
            None => "/",
        };
    }
    let end = value.find(['?', '#']).unwrap_or(value.len());
    // "?page=2" alone has no path; it stays in attrs.
    let path = &value[..end];
    (!path.is_empty()).then_some(path)
}

fn cache_hit(value: Py<'_>) -> Option<bool> {
    match value {
        Py::Bool(b) => Some(b),
        Py::Str(s) if s.chars().count() <= 5 => match s.to_lowercase().as_str() {
            "hit" | "true" | "1" => Some(true),
            "miss" | "false" | "0" => Some(false),
            _ => None,
        },
        Py::Int(Some(n), _) if n == 0 || n == 1 => Some(n == 1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_aliases_read_numbers_in_their_unit_at_any_size() {
        let us = |v: &str, m, d| {
            let j = crate::tree::parse(v).unwrap();
            epoch(view(&j), m, d)
        };
        assert_eq!(Some(1_500_000), us("1.5", 1_000_000, 1));
        assert_eq!(Some(1_500_000), us("\"1.5\"", 1_000_000, 1));
        assert_eq!(Some(-2), us("-1999", 1, 1_000)); // floor division, as Python's //
        assert_eq!(Some(42), us("\"42\"", 1, 1));
        assert_eq!(
            Some(1_795_341_662_000_000),
            us("\"2026-11-22T10:01:02Z\"", 1, 1)
        );
        assert_eq!(None, us("1e300", 1_000_000, 1));
        assert_eq!(None, us("true", 1, 1));
    }

    #[test]
    fn an_xray_trace_id_is_the_w3c_id_aws_maps_it_to() {
        let w3c = Some("5759e988bd862e3fe1be46a994272793".to_string());
        let id = |s: &str| xray_trace(Py::Str(s));
        assert_eq!(w3c, id("1-5759e988-bd862e3fe1be46a994272793"));
        assert_eq!(w3c, id("1-5759E988-BD862E3FE1BE46A994272793"));
        assert_eq!(
            w3c,
            id("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
        );
        assert_eq!(
            w3c,
            id("Self=1-x; Root= 1-5759e988-bd862e3fe1be46a994272793 ;Sampled=1")
        );
        // Two roots, none, a wrong version, a dash in the id, all zeros, not ASCII.
        assert_eq!(
            None,
            id("Root=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272793")
        );
        assert_eq!(
            None,
            id("Parent=53995c3f42cd8ad8;Sampled=1;Lineage=abcdefabcdef")
        );
        assert_eq!(None, id("2-5759e988-bd862e3fe1be46a994272793"));
        assert_eq!(None, id("1-5759e988-bd862e3fe1be46a99427279-"));
        assert_eq!(None, id("1-00000000-000000000000000000000000"));
        assert_eq!(None, id("1-5759e988-bd862e3fe1be46a99427279é"));
        assert_eq!(None, xray_trace(Py::Int(Some(1), "1")));
    }

    #[test]
    fn a_pattern_gives_its_value_group_else_its_whole_match_from_the_first_that_finds() {
        let patterns = |ps: &[&str]| -> Vec<regex::Regex> {
            ps.iter().map(|p| regex::Regex::new(p).unwrap()).collect()
        };
        let value = patterns(&[r"\bid=(?P<value>\d+)"]);
        // `\b` sees the byte before the match: "xid=1" is no match, "id=2" is.
        assert_eq!(Some("2"), found(Py::Str("xid=1 id=2"), &value));
        assert_eq!(None, found(Py::Str("xid=1"), &value));
        let whole = patterns(&[r"^panic", r"[A-Z]\w+Error\b"]);
        assert_eq!(
            Some("KeyError"),
            found(Py::Str("raise KeyError: 'x'"), &whole)
        );
        // A value group that takes no part in the match: no value, not the whole match.
        let optional = patterns(&[r"err(?::(?P<value>\w+))?"]);
        assert_eq!(None, found(Py::Str("err"), &optional));
        assert_eq!(Some("io"), found(Py::Str("err:io"), &optional));
        let j = crate::tree::parse(r#"["GET /a HTTP/1.1", "x"]"#).unwrap();
        assert_eq!(
            Some("/a"),
            found(view(&j), &patterns(&[r"GET (?P<value>\S+) HTTP"]))
        );
    }

    #[test]
    fn loggers_level_words_are_the_five_levels() {
        for (words, level) in [
            (
                &["dbug", "TRCE", "Verbose", "silly", "FINE", "finest"][..],
                "DEBUG",
            ),
            (&["log", "INFO", "notice", "Information"][..], "INFO"),
            (&["warn", "WARNING"][..], "WARNING"),
            (&["eror", "ERR", "SEVERE", "Error"][..], "ERROR"),
            (&["crit", "FATAL", "emerg", "panic"][..], "CRITICAL"),
        ] {
            for word in words {
                assert_eq!(Some(level), normalize_level(Py::Str(word)), "{word}");
            }
        }
        assert_eq!(None, normalize_level(Py::Str("logged")));
    }

    #[test]
    fn durations_read_units() {
        assert_eq!(Some(62_500.0), duration_string("1m2.5s"));
        assert_eq!(Some(0.25), duration_string("250 µs"));
        assert_eq!(None, duration_string("1msec"));
        assert_eq!(None, duration_string("ms"));
        assert_eq!(
            Some(1727.3901),
            duration(Py::Int(Some(1_727_390_100), "1727390100"), 1.0, 1e6)
        );
    }
}
