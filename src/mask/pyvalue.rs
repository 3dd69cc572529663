//! JSON values as the Python masker saw them: `str(value)` of a number (what a number under a
//! sensitive key or in `fields` is pseudonymised as), and orjson's sorted compact dump (what a
//! dict or list is pseudonymised as). Numbers arrive as their JSON text (serde_json's
//! arbitrary_precision), so ints and floats are told apart as Python's parser tells them.

use crate::json::{format_float, write_str};
use serde_json::Value;

pub fn is_int_text(text: &str) -> bool {
    !text.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

/// The digits of a JSON integer without its sign, if the number is an integer.
pub fn int_digits(text: &str) -> Option<&str> {
    is_int_text(text).then(|| text.trim_start_matches('-'))
}

/// `str(x)` for the number a JSON number text reads as in Python.
pub fn number_str(text: &str) -> String {
    if is_int_text(text) {
        return if text == "-0" {
            "0".to_string()
        } else {
            text.to_string()
        };
    }
    let f: f64 = text.parse().unwrap_or(f64::NAN);
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    format_float(f, true)
}

/// `_dump_sorted`: `orjson.dumps(value, option=OPT_SORT_KEYS)`, compact, keys sorted at every
/// level; what orjson refuses (an int beyond 64 bits, nesting beyond 255 levels) the same way,
/// ints with all their digits, as logkit/mask.py's `_dump_sorted_slowly` writes it.
pub fn dump_sorted(value: &Value) -> String {
    let mut out = String::new();
    write(value, true, &mut out);
    out
}

/// `orjson.dumps(value)`: compact, keys in their order (how `logkit mask` writes a record).
pub fn dump(value: &Value) -> String {
    let mut out = String::new();
    write(value, false, &mut out);
    out
}

fn write(value: &Value, sort: bool, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let text = n.as_str();
            if is_int_text(text) {
                out.push_str(if text == "-0" { "0" } else { text });
            } else {
                let f: f64 = text.parse().unwrap_or(f64::NAN);
                if f.is_finite() {
                    out.push_str(&format_float(f, false));
                } else {
                    out.push_str("null");
                }
            }
        }
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, sort, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if sort {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write(v, sort, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_python_prints_them() {
        assert_eq!("42", number_str("42"));
        assert_eq!("0", number_str("-0"));
        assert_eq!("4.5", number_str("4.50"));
        assert_eq!("100000.0", number_str("1e5"));
        assert_eq!("1e+16", number_str("1e16"));
        assert_eq!("1.5e-05", number_str("0.000015"));
    }

    #[test]
    fn sorted_dumps_as_orjson_writes_them() {
        let value: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[1,{"z":1.5e-5,"y":"\u0001é"}],"c":null}}"#)
                .unwrap();
        assert_eq!(
            r#"{"a":{"c":null,"d":[1,{"y":"\u0001é","z":0.000015}]},"b":1}"#,
            dump_sorted(&value)
        );
    }

    #[test]
    fn ints_beyond_64_bits_are_written_with_all_their_digits() {
        // Not Python's repr (mask.py's fallback once), which escapes the code points its
        // Unicode database has not assigned: U+18D09 in Python 3.11.
        let value: Value =
            serde_json::from_str("[-10000000000000000000, \"\u{18d09}\", {\"b\": 1, \"a\": -0}]")
                .unwrap();
        assert_eq!(
            "[-10000000000000000000,\"\u{18d09}\",{\"a\":0,\"b\":1}]",
            dump_sorted(&value)
        );
    }
}
