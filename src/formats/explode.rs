//! `[explode]`: one line that holds many records, each an event of that line (an OTLP/JSON
//! export request: `resourceLogs[].scopeLogs[].logRecords[]`). The port of formats.py's
//! `exploded`: each item of the innermost list is a record, with what it inherits from the
//! items enclosing it (its resource, its scope) and OTLP's typed values made plain.

use std::borrow::Cow;

use crate::errors::CoreError;
use crate::json::{view, Py};
use crate::normalize::{lookup, split_path};
use crate::tree::{obj_get, Obj, J};

/// Python refuses to read an int of more digits than this (`sys.get_int_max_str_digits`):
/// such an `intValue` stays the text it is.
const PY_INT_MAX_DIGITS: usize = 4300;

/// The typed-value encodings `decode` may name: OTLP/JSON's AnyValue, and its lists of
/// `{key, value}` (an encoding OTLP's traces and metrics share, not a format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoding {
    AnyValue,
    KeyValues,
}

impl Decoding {
    pub fn named(name: &str) -> Option<Decoding> {
        match name {
            "anyvalue" => Some(Decoding::AnyValue),
            "keyvalues" => Some(Decoding::KeyValues),
            _ => None,
        }
    }

    fn apply<'a>(self, value: J<'a>) -> J<'a> {
        match self {
            Decoding::AnyValue => any_value(value),
            Decoding::KeyValues => key_values(value),
        }
    }
}

/// A format's `[explode]` table, checked.
#[derive(Debug, Clone)]
pub struct ExplodeSpec {
    /// The path of each list within the item above it (the record, for the first).
    lists: Vec<Vec<String>>,
    /// (column of each record, the enclosing item's level, path within that item). Level 0
    /// is the line's own record (a field beside the first list), k the k-th list's item.
    inherit: Vec<(String, usize, Vec<String>)>,
    /// (path in each record, its encoding).
    decode: Vec<(Vec<String>, Decoding)>,
}

impl ExplodeSpec {
    /// From the table's `path`, `inherit` and `decode` entries (in the file's order);
    /// `origin` names the format for the messages, as formats.py's `_explode_spec` does.
    pub fn new(
        origin: &str,
        path: &str,
        inherit: &[(String, String)],
        decode: &[(String, String)],
    ) -> Result<ExplodeSpec, CoreError> {
        let at = format!("{origin}: [explode]");
        let Some(steps) = path.strip_suffix("[]") else {
            return Err(CoreError::Config(format!(
                "{at}: path names nested lists, each step ending in [] \
                 (\"resourceLogs[].scopeLogs[].logRecords[]\")"
            )));
        };
        let steps: Vec<&str> = steps.split("[].").collect();
        let lists: Vec<Vec<String>> = steps.iter().map(|s| split_path(s)).collect();
        let mut inherited = Vec::with_capacity(inherit.len());
        for (column, source) in inherit {
            let parts: Vec<&str> = source.split("[].").collect();
            let level = parts.len() - 1;
            let fits = level < lists.len()
                && parts[..level]
                    .iter()
                    .map(|p| split_path(p))
                    .eq(lists[..level].iter().cloned());
            if !fits {
                return Err(CoreError::Config(format!(
                    "{at}: inherit {column} = {source:?}: name a field of the line's record or \
                     of an enclosing item, as a path that begins like {path:?} \
                     (\"{}[].resource\"), or a field beside {:?}",
                    steps[0], steps[0]
                )));
            }
            let within = split_path(parts[level]);
            inherited.push((column.clone(), level, within));
        }
        let mut decoded = Vec::with_capacity(decode.len());
        for (place, kind) in decode {
            let Some(decoding) = Decoding::named(kind) else {
                return Err(CoreError::Config(format!(
                    "{at}: decode {place} = {kind:?}; use one of anyvalue, keyvalues"
                )));
            };
            decoded.push((split_path(place), decoding));
        }
        Ok(ExplodeSpec {
            lists,
            inherit: inherited,
            decode: decoded,
        })
    }

    /// From the table as logkit/formats has already read and checked it (`ExplodeSpec`:
    /// each list's path, inherit as (column, level, path), decode as (path, encoding)).
    pub fn compiled(
        lists: Vec<Vec<String>>,
        inherit: Vec<(String, usize, Vec<String>)>,
        decode: &[(Vec<String>, String)],
    ) -> Result<ExplodeSpec, CoreError> {
        let bad = |what: String| CoreError::Config(format!("[explode]: {what}"));
        if lists.is_empty() {
            return Err(bad("no lists".into()));
        }
        if inherit.iter().any(|(_, level, _)| *level >= lists.len()) {
            return Err(bad("inherit from an item that encloses no record".into()));
        }
        let decode = decode
            .iter()
            .map(|(path, kind)| match Decoding::named(kind) {
                Some(decoding) if !path.is_empty() => Ok((path.clone(), decoding)),
                _ => Err(bad(format!("decode {path:?} = {kind:?}"))),
            })
            .collect::<Result<_, _>>()?;
        Ok(ExplodeSpec {
            lists,
            inherit,
            decode,
        })
    }

    /// The records one line holds, in the line's order (maybe none): each item of the
    /// innermost list that is an object, with what it inherits and its values decoded.
    pub fn records<'a>(&self, record: &Obj<'a>) -> Vec<Obj<'a>> {
        let mut out = Vec::new();
        if let Some(J::Arr(items)) = lookup_in(record, &self.lists[0]) {
            self.walk(items, 0, &mut vec![record], &mut out);
        }
        out
    }

    fn walk<'o, 'a>(
        &self,
        items: &'o [J<'a>],
        level: usize,
        // The line's record, then the item of each list above `items`.
        enclosing: &mut Vec<&'o Obj<'a>>,
        out: &mut Vec<Obj<'a>>,
    ) {
        let last = self.lists.len() - 1;
        for item in items {
            let J::Obj(item) = item else { continue };
            if level < last {
                if let Some(J::Arr(inner)) = lookup_in(item, &self.lists[level + 1]) {
                    enclosing.push(item);
                    self.walk(inner, level + 1, enclosing, out);
                    enclosing.pop();
                }
                continue;
            }
            let mut one = item.clone();
            for (column, at, path) in &self.inherit {
                // An absent or null value is not inherited, nor one the record has itself.
                let value = match path.split_first() {
                    Some(_) => lookup_in(enclosing[*at], path),
                    None => None,
                };
                if let Some(value) = value {
                    if !matches!(value, J::Null) && !one.iter().any(|(k, _)| k == column) {
                        one.push((Cow::Owned(column.clone()), value.clone()));
                    }
                }
            }
            for (path, decoding) in &self.decode {
                decode_at(&mut one, path, *decoding);
            }
            out.push(one);
        }
    }
}

/// The value at `path` inside a record, or None.
fn lookup_in<'o, 'a>(record: &'o Obj<'a>, path: &[String]) -> Option<&'o J<'a>> {
    let (first, rest) = path.split_first()?;
    lookup(obj_get(record, first), rest)
}

/// Decode the value at `path` (through objects only) in place, when it is there.
fn decode_at(record: &mut Obj<'_>, path: &[String], decoding: Decoding) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(place) = record.iter().position(|(k, _)| k == first) else {
        return;
    };
    if rest.is_empty() {
        let value = std::mem::replace(&mut record[place].1, J::Null);
        record[place].1 = decoding.apply(value);
    } else if let J::Obj(inner) = &mut record[place].1 {
        decode_at(inner, rest, decoding);
    }
}

/// Python's truth value of a JSON value (`x or default`).
fn truthy(value: &J<'_>) -> bool {
    match value {
        J::Null | J::Bool(false) => false,
        J::Bool(true) => true,
        J::Num(_) => match view(value) {
            Py::Int(Some(n), _) => n != 0,
            Py::Int(None, _) => true,
            Py::Float(f) => f != 0.0,
            _ => true,
        },
        J::Str(s) => !s.is_empty(),
        J::Arr(items) => !items.is_empty(),
        J::Obj(pairs) => !pairs.is_empty(),
    }
}

fn take<'a>(pairs: &mut Obj<'a>, key: &str) -> J<'a> {
    match pairs.iter().position(|(k, _)| k == key) {
        Some(place) => std::mem::replace(&mut pairs[place].1, J::Null),
        None => J::Null,
    }
}

/// An OTLP/JSON AnyValue (`{"stringValue": "x"}`, `{"intValue": "42"}`, arrays, key-value
/// lists) as the plain value it holds; anything else as it is (formats.py `_any_value`).
pub fn any_value(value: J<'_>) -> J<'_> {
    let J::Obj(mut pairs) = value else {
        return value;
    };
    if pairs.is_empty() {
        return J::Null;
    }
    if pairs.len() > 1 {
        return J::Obj(pairs);
    }
    match (pairs[0].0.as_ref(), &pairs[0].1) {
        // 64-bit integers are decimal strings in OTLP/JSON; other text stays text.
        ("intValue", J::Str(text)) => match int_text(text) {
            Some(digits) => J::Num(Cow::Owned(digits)),
            None => take(&mut pairs, "intValue"),
        },
        ("arrayValue", J::Obj(_)) => {
            let J::Obj(mut inner) = take(&mut pairs, "arrayValue") else {
                unreachable!("matched an object")
            };
            match take(&mut inner, "values") {
                J::Arr(items) => J::Arr(items.into_iter().map(any_value).collect()),
                values if !truthy(&values) => J::Arr(Vec::new()),
                // Not a list of values: the AnyValue stays as it was written.
                values => {
                    restore(&mut inner, "values", values);
                    J::Obj(vec![(pairs.remove(0).0, J::Obj(inner))])
                }
            }
        }
        ("kvlistValue", J::Obj(_)) => {
            let J::Obj(mut inner) = take(&mut pairs, "kvlistValue") else {
                unreachable!("matched an object")
            };
            let values = take(&mut inner, "values");
            if truthy(&values) {
                key_values(values)
            } else {
                J::Obj(Vec::new())
            }
        }
        ("stringValue" | "boolValue" | "doubleValue" | "intValue" | "bytesValue", _) => {
            pairs.remove(0).1
        }
        _ => J::Obj(pairs),
    }
}

/// Put back a value `take` took (it left a null at its place).
fn restore<'a>(pairs: &mut Obj<'a>, key: &str, value: J<'a>) {
    if let Some(place) = pairs.iter().position(|(k, _)| k == key) {
        pairs[place].1 = value;
    }
}

/// `-?[0-9]+` of at most PY_INT_MAX_DIGITS digits as Python's `str(int(text))`.
fn int_text(text: &str) -> Option<String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > PY_INT_MAX_DIGITS {
        return None;
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some("0".to_string());
    }
    let sign = if digits.len() < text.len() { "-" } else { "" };
    Some(format!("{sign}{significant}"))
}

/// A list of `{"key": K, "value": AnyValue}` (every K text) as an object `{K: value}`, a
/// key given twice keeping its first place and its last value; anything else as it is.
pub fn key_values(value: J<'_>) -> J<'_> {
    let J::Arr(items) = value else {
        return value;
    };
    let all_pairs = items.iter().all(|kv| match kv {
        J::Obj(pairs) => matches!(obj_get(pairs, "key"), Some(J::Str(_))),
        _ => false,
    });
    if !all_pairs {
        return J::Arr(items);
    }
    let mut out: Obj<'_> = Vec::with_capacity(items.len());
    for kv in items {
        let J::Obj(mut pairs) = kv else {
            unreachable!("checked above")
        };
        let J::Str(key) = take(&mut pairs, "key") else {
            unreachable!("checked above")
        };
        let decoded = any_value(take(&mut pairs, "value"));
        match out.iter().position(|(k, _)| *k == key) {
            Some(place) => out[place].1 = decoded,
            None => out.push((key, decoded)),
        }
    }
    J::Obj(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::dumps_record;
    use crate::tree::parse;
    use crate::tree::test_object as record;

    fn value(text: &str) -> J<'_> {
        parse(text).unwrap()
    }

    fn text(value: J<'_>) -> String {
        dumps_record(&vec![("v".into(), value)])
    }

    fn otlp() -> ExplodeSpec {
        let pairs = |items: &[(&str, &str)]| {
            items
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        ExplodeSpec::new(
            "otlp-json",
            "resourceLogs[].scopeLogs[].logRecords[]",
            &pairs(&[
                ("resource", "resourceLogs[].resource"),
                ("scope", "resourceLogs[].scopeLogs[].scope"),
            ]),
            &pairs(&[
                ("attributes", "keyvalues"),
                ("body", "anyvalue"),
                ("resource.attributes", "keyvalues"),
            ]),
        )
        .unwrap()
    }

    #[test]
    fn each_record_of_an_export_line_inherits_its_resource_and_scope() {
        let line = r#"{"resourceLogs":[
            {"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},
             "scopeLogs":[{"scope":{"name":"s1"},"logRecords":[{"body":{"stringValue":"one"}},
                                                             7,
                                                             {"body":{"intValue":"2"},"scope":"own"}]},
                          {"logRecords":[{"body":{}}]}]},
            {"scopeLogs":[{"scope":null,"logRecords":[{"attributes":[{"key":"k","value":{"boolValue":true}}]}]}]},
            {"scopeLogs":{"not":"a list"}}]}"#;
        let line = line.replace(['\n', ' '], "");
        let records = otlp().records(&record(&line));
        let written: Vec<String> = records.iter().map(dumps_record).collect();
        assert_eq!(
            vec![
                r#"{"body":"one","resource":{"attributes":{"service.name":"a"}},"scope":{"name":"s1"}}"#,
                r#"{"body":2,"scope":"own","resource":{"attributes":{"service.name":"a"}}}"#,
                r#"{"body":null,"resource":{"attributes":{"service.name":"a"}}}"#,
                r#"{"attributes":{"k":true}}"#,
            ],
            written
        );
    }

    #[test]
    fn a_field_beside_the_first_list_is_inherited_from_the_line() {
        let inherit = [
            ("group".to_string(), "logGroup".to_string()),
            ("owner".to_string(), "owner".to_string()),
        ];
        let spec = ExplodeSpec::new("cloudwatch", "logEvents[]", &inherit, &[]).unwrap();
        let line = r#"{"logGroup":"/aws/lambda/f","owner":null,"logEvents":[{"message":"a"},{"message":"b","group":"own"}]}"#;
        let written: Vec<String> = spec
            .records(&record(line))
            .iter()
            .map(dumps_record)
            .collect();
        assert_eq!(
            vec![
                r#"{"message":"a","group":"/aws/lambda/f"}"#,
                r#"{"message":"b","group":"own"}"#,
            ],
            written
        );
    }

    #[test]
    fn a_line_with_no_list_where_the_path_goes_holds_no_records() {
        let spec = otlp();
        assert!(spec
            .records(&record(r#"{"resourceLogs":[{"scopeLogs":[]}]}"#))
            .is_empty());
        assert!(spec
            .records(&record(r#"{"resourceLogs":{"a":1}}"#))
            .is_empty());
        assert!(spec.records(&record(r#"{"other":1}"#)).is_empty());
    }

    #[test]
    fn any_values_are_the_plain_values_they_hold() {
        let cases = [
            (r#"{"stringValue":"x"}"#, r#""x""#),
            (r#"{"intValue":"42"}"#, "42"),
            (r#"{"intValue":"-007"}"#, "-7"),
            (r#"{"intValue":"-0"}"#, "0"),
            (r#"{"intValue":"--5"}"#, r#""--5""#),
            (r#"{"intValue":"+5"}"#, r#""+5""#),
            (r#"{"intValue":"٣"}"#, r#""٣""#),
            (r#"{"intValue":5}"#, "5"),
            (r#"{"doubleValue":1.5}"#, "1.5"),
            (r#"{"boolValue":false}"#, "false"),
            (r#"{"bytesValue":"AAE="}"#, r#""AAE=""#),
            (
                r#"{"arrayValue":{"values":[{"intValue":"1"},{"stringValue":"b"}]}}"#,
                r#"[1,"b"]"#,
            ),
            (r#"{"arrayValue":{}}"#, "[]"),
            (r#"{"arrayValue":{"values":0}}"#, "[]"),
            (
                r#"{"arrayValue":{"values":"ab"}}"#,
                r#"{"arrayValue":{"values":"ab"}}"#,
            ),
            (
                r#"{"kvlistValue":{"values":[{"key":"a","value":{"intValue":"1"}}]}}"#,
                r#"{"a":1}"#,
            ),
            (r#"{"kvlistValue":{"values":null}}"#, "{}"),
            (r#"{"kvlistValue":{"values":5}}"#, "5"),
            (r#"{}"#, "null"),
            (r#"{"a":1,"b":2}"#, r#"{"a":1,"b":2}"#),
            (r#"{"otherValue":1}"#, r#"{"otherValue":1}"#),
            (r#""plain""#, r#""plain""#),
        ];
        for (given, expected) in cases {
            assert_eq!(
                format!("{{\"v\":{expected}}}"),
                text(any_value(value(given))),
                "{given}"
            );
        }
        let huge = format!(r#"{{"intValue":"{}"}}"#, "9".repeat(PY_INT_MAX_DIGITS + 1));
        assert!(matches!(any_value(value(&huge)), J::Str(_)));
        let big = format!(r#"{{"intValue":"-{}"}}"#, "9".repeat(PY_INT_MAX_DIGITS));
        assert!(matches!(any_value(value(&big)), J::Num(_)));
    }

    #[test]
    fn key_values_become_an_object_and_anything_else_stays() {
        let kv = r#"[{"key":"a","value":{"intValue":"1"}},{"key":"b"},{"key":"a","value":{"stringValue":"x"}}]"#;
        assert_eq!(r#"{"v":{"a":"x","b":null}}"#, text(key_values(value(kv))));
        for same in [
            r#"[{"key":1,"value":{}}]"#,
            r#"[{"value":{}}]"#,
            r#"[1]"#,
            r#"{"key":"a"}"#,
        ] {
            assert_eq!(format!("{{\"v\":{same}}}"), text(key_values(value(same))));
        }
        assert_eq!(r#"{"v":{}}"#, text(key_values(value("[]"))));
    }

    #[test]
    fn a_bad_explode_table_is_refused_with_the_python_message() {
        let bad = |path: &str, inherit: &[(&str, &str)], decode: &[(&str, &str)]| {
            let own = |items: &[(&str, &str)]| {
                items
                    .iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect::<Vec<_>>()
            };
            match ExplodeSpec::new("f.toml: format 'x'", path, &own(inherit), &own(decode)) {
                Err(CoreError::Config(message)) => message,
                _ => panic!("accepted"),
            }
        };
        assert!(bad("a.b", &[], &[]).contains("each step ending in []"));
        assert!(bad("a[].b[]", &[("r", "b[].r")], &[]).contains("inherit r = \"b[].r\""));
        assert!(bad("a[].b[]", &[("r", "a[].b[].r")], &[]).contains("enclosing item"));
        assert!(bad("a[]", &[], &[("x", "base64")]).contains("use one of anyvalue, keyvalues"));
        assert!(ExplodeSpec::new("f", "a[].b[]", &[("r".into(), "a[].r".into())], &[]).is_ok());
        assert!(ExplodeSpec::new("f", "a[].b[]", &[("r".into(), "r".into())], &[]).is_ok());
    }
}
