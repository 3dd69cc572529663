//! Python's `float(str)` and `int(str)`, which the converters (normalize/converters.rs) follow for
//! numeric strings: surrounding whitespace, a sign, `_` between digits, `inf`/`nan`.
//! Only ASCII digits are read (Python also reads other scripts' decimal digits; no log
//! writes those as numbers).

use crate::lines::py_isspace;

/// Python's `float(text)`, or None where it raises ValueError.
pub fn py_float(text: &str) -> Option<f64> {
    let s = text.trim_matches(py_isspace);
    let (sign, body) = match s.as_bytes().first() {
        Some(b'-') => (-1.0, &s[1..]),
        Some(b'+') => (1.0, &s[1..]),
        _ => (1.0, s),
    };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(sign * f64::INFINITY);
    }
    if lower == "nan" {
        return Some(f64::NAN);
    }
    let clean = decimal_literal(body)?;
    let value: f64 = clean.parse().ok()?;
    Some(sign * value)
}

/// `digits [. [digits]] | . digits` then an optional exponent, with `_` only between two
/// digits, as Python's float grammar has it; the literal without its underscores.
fn decimal_literal(body: &str) -> Option<String> {
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    let int_digits = digit_part(bytes, &mut i, &mut out);
    let mut frac_digits = 0;
    if bytes.get(i) == Some(&b'.') {
        out.push('.');
        i += 1;
        frac_digits = digit_part(bytes, &mut i, &mut out);
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        out.push('e');
        i += 1;
        if let Some(&sign @ (b'+' | b'-')) = bytes.get(i) {
            out.push(sign as char);
            i += 1;
        }
        if digit_part(bytes, &mut i, &mut out) == 0 {
            return None;
        }
    }
    (i == bytes.len()).then_some(out)
}

/// Digits with single underscores between them; how many digits were read.
fn digit_part(bytes: &[u8], i: &mut usize, out: &mut String) -> usize {
    let mut count = 0;
    while *i < bytes.len() {
        let b = bytes[*i];
        if b.is_ascii_digit() {
            out.push(b as char);
            count += 1;
            *i += 1;
        } else if b == b'_' && count > 0 && bytes.get(*i + 1).is_some_and(|n| n.is_ascii_digit()) {
            *i += 1;
        } else {
            break;
        }
    }
    count
}

/// Python's `int(text)`: Ok(Some(n)) when it fits 128 bits, Ok(None) for a valid int beyond
/// that (too far from any time or count to matter), Err(()) where Python raises ValueError.
#[allow(clippy::result_unit_err)]
pub fn py_int(text: &str) -> Result<Option<i128>, ()> {
    let s = text.trim_matches(py_isspace);
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut digits = String::with_capacity(body.len());
    if digit_part(bytes, &mut i, &mut digits) == 0 || i != bytes.len() {
        return Err(());
    }
    if digits.len() > 4300 {
        return Err(());
    }
    Ok(digits
        .parse::<i128>()
        .ok()
        .map(|n| if negative { -n } else { n }))
}

/// Python's `str.isdigit()` for an ASCII string that is not empty.
pub fn ascii_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_as_python_reads_them() {
        assert_eq!(Some(1000.5), py_float(" 1_000.5\n"));
        assert_eq!(Some(0.5), py_float(".5"));
        assert_eq!(Some(5.0), py_float("5."));
        assert_eq!(Some(-1e5), py_float("-1E+5"));
        assert!(py_float("-inf").unwrap().is_infinite());
        assert!(py_float("NaN").unwrap().is_nan());
        for bad in [
            "", ".", "1__0", "_1", "1_", "e5", "1e", "0x10", "1.2.3", "in f",
        ] {
            assert_eq!(None, py_float(bad), "{bad}");
        }
    }

    #[test]
    fn ints_read_as_python_reads_them() {
        assert_eq!(Ok(Some(-12)), py_int(" -0_12 "));
        assert_eq!(Ok(None), py_int(&"9".repeat(50)));
        assert_eq!(Err(()), py_int("1.0"));
        assert_eq!(Err(()), py_int(&"9".repeat(4301)));
    }
}
