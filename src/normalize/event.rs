//! The canonical event: its columns (`FIELDS`), their values (`Out`), and the event as the
//! masker's map of columns and back.

use std::borrow::Cow;

use serde_json::Value;

use crate::json::{view, Py, Record};
use crate::tree::{from_value, to_value, J};

/// The canonical columns, in store order.
pub const FIELDS: [&str; 23] = [
    "ts",
    "level",
    "service",
    "logger",
    "message",
    "trace_id",
    "span_id",
    "request_id",
    "user_id",
    "job_id",
    "batch_id",
    "duration_ms",
    "status_code",
    "error_type",
    "http_method",
    "path",
    "job_type",
    "model",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "cache_hit",
    "host",
];

/// A canonical column's place in `FIELDS`, at compile time (a name not there fails the build).
pub const fn column(name: &str) -> usize {
    let mut i = 0;
    loop {
        let (a, b) = (FIELDS[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
}

pub(super) const ERROR_TYPE: usize = column("error_type");

pub fn field_index(name: &str) -> Option<usize> {
    FIELDS.iter().position(|f| *f == name)
}

/// A canonical value, typed as its Arrow column is. A string borrows the line's text where
/// the column holds it as written (most string columns): as a `String`, each was allocated,
/// copied, copied again into its Arrow column and freed.
#[derive(Debug, Clone, PartialEq)]
pub enum Out<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Out<'_> {
    pub fn into_owned(self) -> Out<'static> {
        match self {
            Out::Str(s) => Out::Str(Cow::Owned(s.into_owned())),
            Out::Int(i) => Out::Int(i),
            Out::Float(f) => Out::Float(f),
            Out::Bool(b) => Out::Bool(b),
        }
    }
}

pub struct Event<'a> {
    pub fields: [Option<Out<'a>>; FIELDS.len()],
    pub attrs: Record<'a>,
}

/// The event as the masker sees it (serde_json, as src/mask/ works on it).
pub type EventMap = serde_json::Map<String, Value>;

impl<'a> Event<'a> {
    /// The event as a map of columns: the canonical columns in store order,
    /// then `attrs` (what the masker works on). Columns without a value are left out rather
    /// than null (the masker passes nulls by, and `from_map` reads either as none): most of an
    /// event's 23 columns are empty, each a key to allocate and hash for nothing.
    pub fn into_map(self) -> EventMap {
        let mut map = EventMap::new();
        for (name, value) in FIELDS.iter().zip(self.fields) {
            let value = match value {
                None => continue,
                Some(Out::Str(s)) => Value::String(s.into_owned()),
                Some(Out::Int(i)) => Value::from(i),
                Some(Out::Float(f)) => {
                    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
                }
                Some(Out::Bool(b)) => Value::Bool(b),
            };
            map.insert((*name).to_string(), value);
        }
        map.insert("attrs".to_string(), to_value(J::Obj(self.attrs)));
        map
    }

    /// Back from `into_map` (after masking, which changes strings only). The entries are
    /// taken in the map's order (into_map's: the columns, then `attrs`), each put at its
    /// column by name: removing them one by one by name shifted the rest of the map each
    /// time (6% of a masked block's time, in perf).
    pub fn from_map(map: EventMap) -> Event<'static> {
        let mut fields: [Option<Out>; FIELDS.len()] = Default::default();
        let mut attrs = None;
        let mut next = 0; // the columns come in store order: each is looked for after the last
        for (name, value) in map {
            if name == "attrs" {
                attrs = Some(from_value(value));
                continue;
            }
            let column = match FIELDS[next..].iter().position(|field| *field == name) {
                Some(at) => next + at,
                None => match FIELDS.iter().position(|field| *field == name) {
                    Some(column) => column,
                    None => continue,
                },
            };
            next = column + 1;
            fields[column] = match value {
                Value::Null => None,
                Value::String(s) => Some(Out::Str(Cow::Owned(s))),
                Value::Bool(b) => Some(Out::Bool(b)),
                Value::Number(n) => match view(&J::Num(n.as_str().into())) {
                    Py::Int(Some(i), _) => i64::try_from(i).ok().map(Out::Int),
                    Py::Float(f) => Some(Out::Float(f)),
                    _ => None,
                },
                other => Some(Out::Str(Cow::Owned(other.to_string()))),
            };
        }
        let attrs = match attrs {
            Some(J::Obj(attrs)) => attrs,
            _ => Record::new(),
        };
        Event { fields, attrs }
    }
}
