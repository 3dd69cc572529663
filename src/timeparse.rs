//! Timestamps as microseconds since the epoch (UTC), read as logkit always read them:
//! `datetime.fromisoformat` of Python 3.11 (ported below from CPython's
//! `_datetimemodule.c`, byte for byte, quirks included: the separator may be any one byte,
//! a fraction is cut at microseconds, `Z` may only end the string), epoch numbers told
//! apart by magnitude, and a second chance for padded or lower-case ISO text.

use crate::json::Py;
use crate::lines::py_isspace;
use crate::pytext::{py_float, py_int};

// The range datetime can represent (years 1..9999); anything outside is not a log time.
const MIN_TS: i128 = -62_135_596_800_000_000;
const MAX_TS: i128 = 253_402_300_799_999_999;

fn in_range(us: i128) -> Option<i64> {
    (MIN_TS..=MAX_TS).contains(&us).then_some(us as i64)
}

/// `parse_ts`: a JSON value as microseconds since the epoch, or None.
pub fn parse_ts(value: Py<'_>) -> Option<i64> {
    match value {
        Py::Str(s) => parse_ts_str(s),
        Py::Int(n, _) => ts_from_int(n?),
        Py::Float(f) => ts_from_float(f),
        _ => None,
    }
}

pub fn parse_ts_str(s: &str) -> Option<i64> {
    // Dates first; digits-only text must not reach fromisoformat (a basic-format date).
    if s.chars().nth(4) == Some('-') && s.chars().nth(9).is_some() {
        return match fromisoformat(s.as_bytes()) {
            Some(us) => in_range(us),
            None => ts_from_text(s),
        };
    }
    ts_from_text(s)
}

pub fn ts_from_int(n: i128) -> Option<i64> {
    let size = n.unsigned_abs();
    let us = if size < 100_000_000_000 {
        n * 1_000_000
    } else if size < 100_000_000_000_000 {
        n * 1_000
    } else if size < 100_000_000_000_000_000 {
        n
    } else {
        // Floor, like truncating the digits of a fraction.
        n.div_euclid(1_000)
    };
    in_range(us)
}

pub fn ts_from_float(f: f64) -> Option<i64> {
    if !f.is_finite() {
        return None;
    }
    let size = f.abs();
    // Python's round(): half to even.
    let us = if size < 1e11 {
        (f * 1e6).round_ties_even()
    } else if size < 1e14 {
        (f * 1e3).round_ties_even()
    } else if size < 1e17 {
        f.round_ties_even()
    } else {
        (f / 1e3).round_ties_even()
    };
    if us.abs() > 1e30 {
        return None;
    }
    in_range(us as i128)
}

fn ts_from_text(s: &str) -> Option<i64> {
    match py_int(s) {
        Ok(Some(n)) => return ts_from_int(n),
        Ok(None) => return None,
        Err(()) => {}
    }
    if let Some(f) = py_float(s) {
        return ts_from_float(f);
    }
    iso_fallback(s)
        .or_else(|| common_log(s))
        .or_else(|| http_date(s))
        .or_else(|| year_first_slashes(s))
        .and_then(in_range)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The Common Log Format's time, as nginx's `$time_local`, Apache's `%t` (brackets and all),
/// API Gateway's `requestTime` and HAProxy (with milliseconds) write it:
/// `07/Dec/2026:10:01:02 +0000`, read as the ISO text it stands for.
fn common_log(s: &str) -> Option<i128> {
    let text = s.trim_matches(py_isspace);
    let text = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    let (date, rest) = text.split_once(':')?;
    let mut parts = date.split('/');
    let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    if parts.next().is_some() || day.len() != 2 || year.len() != 4 {
        return None;
    }
    let (time, offset) = match rest.split_once(' ') {
        Some((time, zone)) => {
            let (sign, digits) = zone.split_at_checked(1)?;
            if !matches!(sign, "+" | "-") || digits.len() != 4 {
                return None;
            }
            (time, format!("{sign}{}:{}", &digits[..2], &digits[2..]))
        }
        None => (rest, String::new()),
    };
    fromisoformat(format!("{year}-{month:02}-{day}T{time}{offset}").as_bytes())
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// An HTTP date, as JavaScript's `toUTCString()`, Go's RFC 1123 layouts and HTTP headers
/// write it: `Mon, 07 Dec 2026 10:01:02 GMT`, or with a `+0000` offset (RFC 2822), the
/// weekday optional; read as the ISO text it stands for. A zone named otherwise (`MST`) is
/// ambiguous: no time.
fn http_date(s: &str) -> Option<i128> {
    let text = s.trim_matches(py_isspace);
    let text = match text.split_once(", ") {
        Some((weekday, rest)) if WEEKDAYS.contains(&weekday) => rest,
        Some(_) => return None,
        None => text,
    };
    let mut parts = text.split(' ');
    let (day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if parts.next().is_some()
        || !(1..=2).contains(&day.len())
        || !digits(day)
        || year.len() != 4
        || !digits(year)
    {
        return None;
    }
    let offset = match zone {
        "GMT" | "UTC" | "UT" | "Z" => "+00:00".to_string(),
        _ => {
            let (sign, hhmm) = zone.split_at_checked(1)?;
            if !matches!(sign, "+" | "-") || hhmm.len() != 4 || !digits(hhmm) {
                return None;
            }
            format!("{sign}{}:{}", &hhmm[..2], &hhmm[2..])
        }
    };
    fromisoformat(format!("{year}-{month:02}-{day:0>2}T{time}{offset}").as_bytes())
}

/// Go's standard `log` layout (`2026/12/07 10:01:02.123456`, also Beego's and Gin's):
/// ISO text with slashes in the date. Year first only: `07/12/2026` could be either order.
fn year_first_slashes(s: &str) -> Option<i128> {
    let text = s.trim_matches(py_isspace);
    let b = text.as_bytes();
    if b.len() < 10 || b[4] != b'/' || b[7] != b'/' {
        return None;
    }
    let dashed = format!("{}-{}-{}", &text[..4], &text[5..7], &text[8..]);
    iso_fallback(&dashed)
}

/// A second chance for ISO text fromisoformat refuses: padding, 't'/'z', a ' UTC' suffix.
fn iso_fallback(s: &str) -> Option<i128> {
    let mut text = s.trim_matches(py_isspace).to_uppercase();
    if text.ends_with("UTC") {
        text.truncate(text.len() - 3);
        let kept = text.trim_end_matches(py_isspace).len();
        text.truncate(kept);
        text.push_str("+00:00");
    }
    fromisoformat(text.as_bytes())
}

// --- datetime.fromisoformat (CPython 3.11) -----------------------------------------------

/// The byte at `i`, or 0 past the end (C reads the string's terminating NUL there).
fn at(s: &[u8], i: usize) -> u8 {
    s.get(i).copied().unwrap_or(0)
}

fn parse_digits(s: &[u8], p: &mut usize, n: usize) -> Option<i64> {
    let mut value = 0i64;
    for _ in 0..n {
        let c = at(s, *p);
        if !c.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(c - b'0');
        *p += 1;
    }
    Some(value)
}

fn find_separator(s: &[u8]) -> usize {
    let len = s.len();
    if len == 7 {
        return 7;
    }
    if at(s, 4) == b'-' {
        if at(s, 5) == b'W' {
            if len < 8 {
                return usize::MAX;
            }
            if len > 8 && at(s, 8) == b'-' {
                if len == 9 {
                    return usize::MAX;
                }
                if len > 10 && at(s, 10).is_ascii_digit() {
                    return 8;
                }
                return 10;
            }
            return 8;
        }
        return 10;
    }
    if at(s, 4) == b'W' {
        let mut idx = 7;
        while idx < len && at(s, idx).is_ascii_digit() {
            idx += 1;
        }
        if idx < 9 {
            return idx;
        }
        return if idx % 2 == 0 { 7 } else { 8 };
    }
    8
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days from 1970-01-01 to the proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A date given as days since the epoch, for an ISO week date; None outside years 1..9999.
fn iso_week_date(year: i64, week: i64, day: i64) -> Option<i64> {
    if !(1..53).contains(&week) {
        let mut out_of_range = true;
        if week == 53 {
            // Weekday of 1 January, Monday = 0 (CPython: (ymd_to_ord + 6) % 7).
            let first = (days_from_civil(year, 1, 1) + 3).rem_euclid(7);
            if first == 3 || (first == 2 && is_leap(year)) {
                out_of_range = false;
            }
        }
        if out_of_range {
            return None;
        }
    }
    if !(1..8).contains(&day) {
        return None;
    }
    let jan4 = days_from_civil(year, 1, 4);
    let week1_monday = jan4 - (jan4 + 3).rem_euclid(7);
    Some(week1_monday + (week - 1) * 7 + day - 1)
}

/// `parse_isoformat_date`: the date as days since the epoch.
fn parse_date(s: &[u8], len: usize) -> Option<i64> {
    let mut p = 0;
    let year = parse_digits(s, &mut p, 4)?;
    let uses_separator = at(s, p) == b'-';
    if uses_separator {
        p += 1;
    }
    if at(s, p) == b'W' {
        p += 1;
        let week = parse_digits(s, &mut p, 2)?;
        let day = if p < len {
            if uses_separator {
                if at(s, p) != b'-' {
                    return None;
                }
                p += 1;
            }
            parse_digits(s, &mut p, 1)?
        } else {
            1
        };
        let days = iso_week_date(year, week, day)?;
        // The resulting year must be one datetime can hold.
        let first = days_from_civil(1, 1, 1);
        let last = days_from_civil(9999, 12, 31);
        return (first..=last).contains(&days).then_some(days);
    }
    let month = parse_digits(s, &mut p, 2)?;
    if uses_separator {
        if at(s, p) != b'-' {
            return None;
        }
        p += 1;
    }
    let day = parse_digits(s, &mut p, 2)?;
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `parse_hh_mm_ss_ff` over `s[start..end]`: (h, m, s, µs) and whether something other than
/// the end of the string follows (C's `*p != '\0'`), or None for a parse error.
fn parse_hms(s: &[u8], start: usize, end: usize) -> Option<([i64; 4], bool)> {
    let mut vals = [0i64; 4];
    let mut p = start;
    let mut has_separator = true;
    let mut fraction = false;
    for (i, val) in vals.iter_mut().take(3).enumerate() {
        *val = parse_digits(s, &mut p, 2)?;
        let c = at(s, p);
        p += 1;
        if i == 0 {
            has_separator = c == b':';
        }
        if p >= end {
            return Some((vals, c != 0));
        } else if has_separator && c == b':' {
            continue;
        } else if c == b'.' || c == b',' {
            fraction = true;
            break;
        } else if !has_separator {
            p -= 1;
        } else {
            return None;
        }
    }
    if !fraction {
        // Three fields read and more follows: C goes on to read it as the fraction.
    }
    let remains = end.saturating_sub(p);
    let to_parse = remains.min(6);
    let mut micro = parse_digits(s, &mut p, to_parse)?;
    if to_parse < 6 {
        micro *= [100_000, 10_000, 1_000, 100, 10][to_parse - 1];
    }
    vals[3] = micro;
    while at(s, p).is_ascii_digit() {
        p += 1;
    }
    Some((vals, at(s, p) != 0))
}

/// `datetime.fromisoformat(s)` as microseconds since the epoch (naive read as UTC).
pub fn fromisoformat(s: &[u8]) -> Option<i128> {
    let len = s.len();
    // Python counts characters; every valid string is ASCII up to the separator, and a
    // shorter one fails later anyway, so bytes and characters agree where it matters.
    if std::str::from_utf8(s).map_or(true, |t| t.chars().count() < 7) {
        return None;
    }
    let separator = find_separator(s);
    if separator == usize::MAX {
        return None;
    }
    let days = parse_date(s, separator)?;
    let mut time = [0i64; 4];
    let mut offset_us = 0i64;
    if len > separator {
        let start = separator + 1;
        let end = len;
        let mut tz = start;
        loop {
            let c = at(s, tz);
            if c == b'Z' || c == b'+' || c == b'-' {
                break;
            }
            tz += 1;
            if tz >= end {
                break;
            }
        }
        let (vals, more) = parse_hms(s, start, tz)?;
        time = vals;
        if tz >= end {
            if more {
                return None;
            }
        } else if at(s, tz) == b'Z' {
            if at(s, tz + 1) != 0 {
                return None;
            }
        } else {
            let sign = if at(s, tz) == b'-' { -1 } else { 1 };
            let (tzv, tz_more) = parse_hms(s, tz + 1, end)?;
            if tz_more {
                return None;
            }
            let seconds = tzv[0] * 3600 + tzv[1] * 60 + tzv[2];
            offset_us = sign * (seconds * 1_000_000 + tzv[3]);
            if offset_us.abs() >= 86_400_000_000 {
                return None;
            }
        }
    }
    let [hour, minute, second, micro] = time;
    if hour > 23 || minute > 59 || second > 59 || micro > 999_999 {
        return None;
    }
    let local = (days as i128 * 86_400 + (hour * 3600 + minute * 60 + second) as i128) * 1_000_000
        + micro as i128;
    Some(local - offset_us as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_log_formats_time_is_read() {
        let t = parse_ts_str("2026-11-22T10:01:02Z");
        assert!(t.is_some());
        assert_eq!(t, parse_ts_str("22/Nov/2026:10:01:02 +0000"));
        assert_eq!(t, parse_ts_str("[22/Nov/2026:11:01:02 +0100]"));
        assert_eq!(
            t.map(|us| us + 123_000),
            parse_ts_str("22/Nov/2026:10:01:02.123 +0000")
        );
        assert!(parse_ts_str("22/Nov/2026:10:01:02").is_some()); // no offset: UTC, as ISO text
        for bad in [
            "22/Foo/2026:10:01:02 +0000",
            "2/Nov/2026:10:01:02 +0000",
            "22/Nov/2026:10:01:02 0000",
            "22/Nov/2026:25:01:02 +0000",
            "22/Nov/2026",
        ] {
            assert_eq!(None, parse_ts_str(bad), "{bad}");
        }
    }

    #[test]
    fn gos_log_layout_is_read_year_first_only() {
        let us = |s: &str| ts_from_text(s);
        assert_eq!(
            us("2026/12/07 10:01:02.123456"),
            us("2026-12-07T10:01:02.123456Z")
        );
        assert_eq!(us("2026/12/07 10:01:02"), us("2026-12-07T10:01:02Z"));
        assert_eq!(us("2026/12/07"), us("2026-12-07"));
        assert_eq!(us("07/12/2026 10:01:02"), None);
        assert_eq!(us("2026/12/7 10:01:02"), None);
        assert_eq!(us("2026/1a/07 10:01:02"), None);
    }

    #[test]
    fn an_http_date_is_read() {
        let t = parse_ts_str("2026-11-22T10:01:02Z");
        assert!(t.is_some());
        for good in [
            "Sun, 22 Nov 2026 10:01:02 GMT",
            "22 Nov 2026 10:01:02 UTC",
            "Sun, 22 Nov 2026 11:01:02 +0100",
            "Sun, 22 Nov 2026 05:01:02 -0500",
        ] {
            assert_eq!(t, parse_ts_str(good), "{good}");
        }
        assert_eq!(
            parse_ts_str("2026-11-02T10:01:02Z"),
            parse_ts_str("Mon, 2 Nov 2026 10:01:02 GMT")
        );
        for bad in [
            "Sun, 22 Nov 2026 10:01:02 MST",
            "Sun 22 Nov 2026 10:01:02 GMT",
            "Fun, 22 Nov 2026 10:01:02 GMT",
            "Sun, 22 Nov 26 10:01:02 GMT",
            "Sun, 22 Nov 2026 10:01 GMT extra",
            "Sun, 32 Nov 2026 10:01:02 GMT",
        ] {
            assert_eq!(None, parse_ts_str(bad), "{bad}");
        }
    }

    fn iso(s: &str) -> Option<i128> {
        fromisoformat(s.as_bytes())
    }

    #[test]
    fn fromisoformat_reads_what_python_311_reads() {
        let base = iso("2026-11-22").unwrap();
        let h10 = base + 10 * 3_600_000_000;
        assert_eq!(Some(1_795_305_600_000_000), iso("2026-11-22"));
        assert_eq!(Some(h10), iso("2026-11-22T10Z"));
        assert_eq!(Some(h10), iso("2026-11-22T1000"));
        assert_eq!(Some(h10), iso("20261122T100000Z"));
        assert_eq!(Some(h10), iso("2026-11-22T10:00:00.+00:00"));
        assert_eq!(Some(h10 + 123_000), iso("2026-11-22 10:00:00,123"));
        assert_eq!(Some(h10 + 123_456), iso("2026-11-22T10:00:00.1234567891"));
        assert_eq!(
            Some(h10 - 5 * 3_600_000_000 - 1_800_000_000),
            iso("2026-11-22T10:00:00+0530")
        );
        assert_eq!(
            Some(h10 - 6 * 3_600_000_000 - 39 * 60_000_000),
            iso("2026-11-22T10:00:00+05:99")
        );
        assert_eq!(Some(h10), iso("2026-11-22T10:00:00Z\0abc"));
        assert_eq!(iso("2026-11-16T10:00"), iso("2026-W47-1T10:00"));
        assert_eq!(iso("2026-11-16"), iso("2026W471"));
        for bad in [
            "2026-11-22T24:00:00",
            "2026-11-22T10:00:00.",
            "2026-11-22T10:0000",
            "2026-11-22X",
            "2026-11-2210",
            "2026-11-22T10:00:00 ",
            "2026-11-22T10:00:00Z ",
            "0000-01-01",
            "2026-11-22T10:00:00+",
            "2026-11-22T10:00:00.123+",
            "2026-11-22T10:00:00+24:00",
            "2026-02-29",
        ] {
            assert_eq!(None, iso(bad), "{bad}");
        }
    }

    #[test]
    fn epoch_numbers_are_told_apart_by_magnitude() {
        assert_eq!(Some(1_795_341_662_000_000), ts_from_int(1_795_341_662));
        assert_eq!(Some(1_795_341_662_500_000), ts_from_int(1_795_341_662_500));
        assert_eq!(
            Some(1_795_341_662_123_456),
            ts_from_float(1_795_341_662.123456)
        );
        assert_eq!(
            Some(1_795_341_662_500_000),
            parse_ts_str("2026-11-22T10:01:02.5Z")
        );
        assert_eq!(
            Some(1_795_341_662_000_000),
            parse_ts_str(" 2026-11-22t10:01:02 utc")
        );
    }
}
