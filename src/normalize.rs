//! A parsed record as logkit's canonical event.
//!
//! What is code here is what each kind of column accepts (the converters) and which column
//! an alias *group* feeds (`GROUPS`; Python's `normalize.ALIAS_GROUPS` is read from here).
//! Which record keys feed a group is data: the alias table (today
//! normalize.BUILTIN_ALIASES, to become the format files' `[fields]` tables), and the user's
//! `[aliases]` in front of it, both handed in by Python. Each field ranks its aliases in
//! table order, user aliases first; the best-ranked alias whose value converts wins, and a
//! value that does not convert stays in `attrs`.
//! A dotted alias (`usage.prompt_tokens`) matches a literal key first, then the nested
//! value; a decimal step indexes a list, and a value read through a list is never cut out.

use rustc_hash::FxHashMap as HashMap;

use std::borrow::Cow;
use std::sync::OnceLock;

use serde_json::Value;

use crate::errors::CoreError;
use crate::formats::levels::LevelTable;
use crate::json::{view, Py, Record};
use crate::lines::py_isspace;
use crate::pytext::{ascii_digits, py_float};
use crate::timeparse::parse_ts;
use crate::tree::{from_value, obj_get, to_value, J};

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

const ERROR_TYPE: usize = column("error_type");

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

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Conv {
    Ts,
    /// An epoch number in a known unit, to microseconds: (multiply, divide).
    Epoch(i128, i128),
    Level,
    Text,
    Message,
    Ident,
    /// A trace or span id a format names: an id of zeros only is none (`trace_ident`).
    TraceIdent,
    /// A level read by the format's own spellings and scales first (`Normalizer::levels`).
    FormatLevel,
    TraceparentTrace,
    TraceparentSpan,
    /// An AWS X-Ray trace id or `X-Amzn-Trace-Id` header, as the W3C trace id.
    XrayTrace,
    Count,
    Status,
    Cost,
    /// Milliseconds for an alias whose unitless numbers are in a unit: (multiply, divide).
    Duration(f64, f64),
    HttpMethod,
    Path,
    CacheHit,
}

/// Whether the original value also stays in attrs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Keep {
    No,
    /// When it differs from the canonical value.
    IfDifferent,
    /// Always (a value read through a list).
    Always,
}

/// What an `[aliases]` group name feeds: (field, converter, keep) rows.
pub(crate) fn group(name: &str) -> Option<&'static [(&'static str, Conv, Keep)]> {
    use Conv::*;
    use Keep::*;
    Some(match name {
        "ts" => &[("ts", Ts, No)],
        // Epoch numbers in a known unit (zap's float seconds, journald's µs strings).
        "ts_s" => &[("ts", Epoch(1_000_000, 1), No)],
        "ts_ms" => &[("ts", Epoch(1_000, 1), No)],
        "ts_us" => &[("ts", Epoch(1, 1), No)],
        "ts_ns" => &[("ts", Epoch(1, 1_000), No)],
        "level" => &[("level", Level, IfDifferent)],
        "service" => &[("service", Text, No)],
        "logger" => &[("logger", Text, No)],
        "message" => &[("message", Message, No)],
        "trace_id" => &[("trace_id", Ident, No)],
        "span_id" => &[("span_id", Ident, No)],
        // Version and flags have no column, so the header itself always stays in attrs.
        "traceparent" => &[
            ("trace_id", TraceparentTrace, IfDifferent),
            ("span_id", TraceparentSpan, IfDifferent),
        ],
        // An X-Ray id or header: the original stays in attrs (the header has more than the id).
        "xray_trace" => &[("trace_id", XrayTrace, IfDifferent)],
        "request_id" => &[("request_id", Ident, No)],
        "user_id" => &[("user_id", Ident, No)],
        "job_id" => &[("job_id", Ident, No)],
        "batch_id" => &[("batch_id", Ident, No)],
        "duration_ms" => &[("duration_ms", Duration(1.0, 1.0), No)],
        "duration_s" => &[("duration_ms", Duration(1e3, 1.0), No)],
        "duration_us" => &[("duration_ms", Duration(1.0, 1e3), No)],
        "duration_ns" => &[("duration_ms", Duration(1.0, 1e6), No)],
        "status_code" => &[("status_code", Status, No)],
        "error_type" => &[("error_type", Text, No)],
        "http_method" => &[("http_method", HttpMethod, No)],
        "path" => &[("path", Path, IfDifferent)],
        "job_type" => &[("job_type", Text, No)],
        "model" => &[("model", Text, No)],
        "input_tokens" => &[("input_tokens", Count, No)],
        "output_tokens" => &[("output_tokens", Count, No)],
        "cost_usd" => &[("cost_usd", Cost, No)],
        "cache_hit" => &[("cache_hit", CacheHit, No)],
        "host" => &[("host", Text, No)],
        _ => return None,
    })
}

/// Every group `group` knows, sorted: the groups a format's `[fields]` and logkit.toml's
/// `[aliases]` may name (`alias_groups` hands them to Python, as normalize.ALIAS_GROUPS).
pub const GROUP_NAMES: [&str; 32] = [
    "batch_id",
    "cache_hit",
    "cost_usd",
    "duration_ms",
    "duration_ns",
    "duration_s",
    "duration_us",
    "error_type",
    "host",
    "http_method",
    "input_tokens",
    "job_id",
    "job_type",
    "level",
    "logger",
    "message",
    "model",
    "output_tokens",
    "path",
    "request_id",
    "service",
    "span_id",
    "status_code",
    "trace_id",
    "traceparent",
    "ts",
    "ts_ms",
    "ts_ns",
    "ts_s",
    "ts_us",
    "user_id",
    "xray_trace",
];

/// Every alias group as (group, field, keep) rows, `keep` true when the original value can
/// stay in attrs: Python's normalize.ALIAS_GROUPS, which checks the names formats give.
pub fn alias_groups() -> Vec<(&'static str, &'static str, bool)> {
    let mut rows = Vec::new();
    for name in GROUP_NAMES {
        for &(field, _, keep) in group(name).expect("GROUP_NAMES are groups") {
            rows.push((name, field, keep != Keep::No));
        }
    }
    rows
}

/// An alias table: (group, record keys) rows, best first; a group may appear more than once.
pub type AliasTable = Vec<(String, Vec<String>)>;

/// The alias table of a format file (logkit/formats/*.toml): its `[fields]` rows whose value
/// is a record key or a list of them, in file order (which is rank order).
///
/// Only the plain forms are read: a row written as a table (`{ from = ..., pattern = ... }`),
/// `[match]` and the rest of the formats engine are not in the core; the generic format's
/// `[fields_last]` comes from logkit/core.py as `LateField` rows (Python reads the file).
pub fn alias_table_from_toml(text: &str) -> Result<AliasTable, CoreError> {
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| CoreError::Config(format!("format file: {e}")))?;
    let Some(toml::Value::Table(fields)) = doc.get("fields") else {
        return Err(CoreError::Config(
            "format file has no [fields] table".into(),
        ));
    };
    let mut table = AliasTable::new();
    for (name, value) in fields {
        let names = match value {
            toml::Value::String(key) => vec![key.clone()],
            toml::Value::Array(keys) => keys
                .iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect(),
            _ => continue,
        };
        table.push((name.clone(), names));
    }
    Ok(table)
}

/// A format file's `[fields_last]` row: a group filled from `paths` after every other alias
/// of its column, claiming no key; with `patterns`, from the part of a string the first
/// matching one captures (its group `value`, else the whole match), as logkit/formats reads
/// `{ from = [...], pattern = [...], keep = true }`.
pub struct LateField {
    pub group: String,
    pub paths: Vec<String>,
    pub patterns: Vec<String>,
    pub keep: bool,
}

#[derive(Debug, Clone)]
struct Step {
    field: usize,
    rank: usize,
    path: Option<Vec<String>>,
    conv: Conv,
    keep: Keep,
    passthrough: bool,
    /// Index into `Normalizer::patterns`: the value is what they find in it.
    pattern: Option<usize>,
}

pub struct Normalizer {
    /// Record key -> the steps it can feed, a range of `steps`.
    keys: HashMap<String, (u32, u32)>,
    steps: Vec<Step>,
    patterns: Vec<Vec<regex::Regex>>,
    /// A format's own level spellings and scales (`Conv::FormatLevel`).
    levels: Option<LevelTable>,
}

/// One way a format fills a column, best first (its `extra` and `late` steps):
/// (field index, record key or dotted path, converter, keep, index into the patterns).
pub(crate) type Row = (usize, String, Conv, Keep, Option<usize>);

/// What `Normalizer::plan` makes of a record's keys.
pub type Plan = Vec<(usize, u32)>;

impl Normalizer {
    /// `user` are the `[aliases]` of logkit.toml (tried first; a key named there is taken
    /// from every other group's built-in aliases), `builtin` the alias table.
    pub fn new(user: &AliasTable, builtin: &AliasTable) -> Result<Normalizer, CoreError> {
        Normalizer::with_late(user, builtin, &[])
    }

    /// `new`, then the `late` rows after every other alias of their columns.
    pub fn with_late(
        user: &AliasTable,
        builtin: &AliasTable,
        late: &[LateField],
    ) -> Result<Normalizer, CoreError> {
        let mut patterns = Vec::new();
        let mut rows = Vec::new();
        for row in late {
            let groups = group(&row.group).ok_or_else(|| {
                CoreError::Config(format!("[fields_last] has no column '{}'", row.group))
            })?;
            let pattern = if row.patterns.is_empty() {
                None
            } else {
                let compiled = row
                    .patterns
                    .iter()
                    .map(|p| regex::Regex::new(p))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| CoreError::Config(format!("[fields_last] bad pattern: {e}")))?;
                patterns.push(compiled);
                Some(patterns.len() - 1)
            };
            for &(field, conv, keep) in groups {
                let keep = if row.keep { Keep::IfDifferent } else { keep };
                let field = field_index(field).expect("a canonical field");
                for path in &row.paths {
                    rows.push((field, path.clone(), conv, keep, pattern));
                }
            }
        }
        Normalizer::build(user, Vec::new(), builtin, rows, patterns, None)
    }

    /// A format's normalizer: per column, the user's
    /// `[aliases]` first (a key named there is taken from every other group), then the
    /// format's `extra` rows (which take their keys from the built-in groups), then the
    /// `builtin` table, then the `late` rows, which claim nothing.
    pub(crate) fn build(
        user: &AliasTable,
        extra: Vec<Row>,
        builtin: &AliasTable,
        late: Vec<Row>,
        patterns: Vec<Vec<regex::Regex>>,
        levels: Option<LevelTable>,
    ) -> Result<Normalizer, CoreError> {
        type Entry = (String, Conv, Keep, Option<usize>);
        let mut ordered: Vec<Vec<Entry>> = vec![Vec::new(); FIELDS.len()];
        let mut claimed = std::collections::HashSet::new();
        for (name, names) in user {
            if group(name).is_none() {
                return Err(CoreError::Config(format!(
                    "[aliases] has no column '{name}'; use one of: {}",
                    GROUP_NAMES.join(", ")
                )));
            }
            if names.iter().any(String::is_empty) {
                return Err(CoreError::Config(format!(
                    "[aliases] {name} must be a list of non-empty field names"
                )));
            }
            claimed.extend(names.iter().cloned());
        }
        let add = |ordered: &mut Vec<Vec<Entry>>,
                   table: &AliasTable,
                   from_user: bool,
                   claimed: &std::collections::HashSet<String>|
         -> Result<(), CoreError> {
            for (name, names) in table {
                let rows = group(name).ok_or_else(|| {
                    CoreError::Config(format!("the alias table names no column '{name}'"))
                })?;
                for &(field, conv, keep) in rows {
                    let list = &mut ordered[field_index(field).expect("a canonical field")];
                    for alias in names {
                        let seen = list.iter().any(|(known, ..)| known == alias);
                        if seen || (!from_user && claimed.contains(alias)) {
                            continue;
                        }
                        list.push((alias.clone(), conv, keep, None));
                    }
                }
            }
            Ok(())
        };
        add(&mut ordered, user, true, &claimed)?;
        let extra: Vec<Row> = extra
            .into_iter()
            .filter(|row| !claimed.contains(&row.1))
            .collect();
        for (field, name, conv, keep, pattern) in &extra {
            let list = &mut ordered[*field];
            if !list.iter().any(|(known, ..)| known == name) {
                list.push((name.clone(), *conv, *keep, *pattern));
            }
        }
        claimed.extend(extra.into_iter().map(|row| row.1));
        add(&mut ordered, builtin, false, &claimed)?;
        for (field, name, conv, keep, pattern) in late {
            ordered[field].push((name, conv, keep, pattern));
        }
        let mut steps: HashMap<String, Vec<Step>> = HashMap::default();
        for (field, names) in ordered.into_iter().enumerate() {
            for (rank, (name, conv, keep, pattern)) in names.into_iter().enumerate() {
                let passthrough =
                    pattern.is_none() && matches!(conv, Conv::Text | Conv::Ident | Conv::Message);
                let nested_path = split_path(&name);
                // A literal "usage.prompt_tokens" key beats the nested form of the same alias.
                let literal = Step {
                    field,
                    rank: 2 * rank,
                    path: None,
                    conv,
                    keep,
                    passthrough,
                    pattern,
                };
                steps.entry(name.clone()).or_default().push(literal);
                let (head, path) = match nested_path.split_first() {
                    Some((head, path)) => (head.clone(), path.to_vec()),
                    None => (String::new(), Vec::new()),
                };
                if !path.is_empty() && !head.is_empty() && path.iter().all(|p| !p.is_empty()) {
                    // A value inside a list is read but never cut out: the list stays whole.
                    let through_list = path.iter().any(|p| ascii_digits(p));
                    let keep = if through_list { Keep::Always } else { keep };
                    let nested = Step {
                        field,
                        rank: 2 * rank + 1,
                        path: Some(path),
                        conv,
                        keep,
                        passthrough,
                        pattern,
                    };
                    steps.entry(head).or_default().push(nested);
                }
            }
        }
        let mut keys = HashMap::default();
        let mut flat = Vec::new();
        for (key, steps) in steps {
            let start = flat.len() as u32;
            flat.extend(steps);
            keys.insert(key, (start, flat.len() as u32));
        }
        Ok(Normalizer {
            keys,
            steps: flat,
            patterns,
            levels,
        })
    }

    /// The steps a record's keys can feed, as (the key's place, the step's index), each
    /// field's best first: they depend on the keys only, so records of one shape share them
    /// (`normalize_planned`).
    pub fn plan(&self, record: &Record<'_>) -> Plan {
        let mut plan: Plan = Vec::with_capacity(16);
        for (index, (key, _)) in record.iter().enumerate() {
            if let Some(&(start, end)) = self.keys.get(key.as_ref()) {
                plan.extend((start..end).map(|step| (index, step)));
            }
        }
        // The error type before every other field, as it may be read (and kept) from text
        // another column consumes.
        plan.sort_by_key(|&(_, step)| {
            let step = &self.steps[step as usize];
            (step.field != ERROR_TYPE, step.field, step.rank)
        });
        plan
    }

    /// The canonical event for `record`; the record, minus what went into columns, is attrs.
    pub fn normalize<'a>(&self, record: Record<'a>) -> Event<'a> {
        self.normalize_planned(record, None)
    }

    /// `normalize`, with the plan of the record's shape kept in `kept` once made: looking up
    /// each key's steps and sorting them was a third of normalising a line.
    pub fn normalize_planned<'a>(
        &self,
        mut record: Record<'a>,
        kept: Option<&OnceLock<Plan>>,
    ) -> Event<'a> {
        let made;
        let plan = match kept {
            Some(kept) => kept.get_or_init(|| self.plan(&record)),
            None => {
                made = self.plan(&record);
                &made
            }
        };
        let mut fields: [Option<Out>; FIELDS.len()] = Default::default();
        // Top-level keys consumed (by their place in the record), and nested leaves.
        let mut consumed = vec![false; record.len()];
        let mut any_consumed = false;
        let mut nested: Vec<(usize, &[String])> = Vec::new();
        {
            for &(index, step) in plan {
                let step = &self.steps[step as usize];
                let value = &record[index].1;
                if fields[step.field].is_some() || consumed[index] {
                    continue; // a better-ranked step filled it, or an earlier one took the key
                }
                let read = match &step.path {
                    None => Some(value),
                    Some(path) => lookup(Some(value), path),
                };
                let raw = read.map_or(Py::None, view);
                let converted = match read {
                    // Text taken as it is (most string columns), made here: returned from
                    // `step_value` (in memory, 24 bytes), it was read back at once in wider
                    // loads than it had been written in, which the processor cannot forward
                    // from the stores (a third of this function's own time, in perf).
                    Some(J::Str(Cow::Borrowed(text)))
                        if step.passthrough && step.pattern.is_none() && !text.is_empty() =>
                    {
                        Some(Out::Str(Cow::Borrowed(*text)))
                    }
                    // The line's own text: the column may borrow it, it outlives the event.
                    Some(J::Str(Cow::Borrowed(text))) => self.step_value(step, Py::Str(text)),
                    // Anything else lives in the record, which becomes attrs: the column copies.
                    _ => self.step_value(step, raw).map(Out::into_owned),
                };
                let Some(converted) = converted else { continue };
                let remove = match step.keep {
                    Keep::Always => false,
                    Keep::No => true,
                    Keep::IfDifferent => py_equal(&converted, raw),
                };
                if remove {
                    match &step.path {
                        None => {
                            consumed[index] = true;
                            any_consumed = true;
                        }
                        Some(path) => nested.push((index, path)),
                    }
                }
                fields[step.field] = Some(converted);
            }
        }
        if !nested.is_empty() {
            // Leaves first, by place: a dict they leave empty goes with the consumed keys.
            let mut leaves: Vec<(usize, &[String])> = nested;
            leaves.sort_by_key(|(index, _)| *index);
            let mut at = 0;
            for (index, (_, value)) in record.iter_mut().enumerate() {
                while at < leaves.len() && leaves[at].0 == index {
                    if let J::Obj(inner) = value {
                        remove_leaf(inner, leaves[at].1);
                        if inner.is_empty() {
                            consumed[index] = true;
                            any_consumed = true;
                        }
                    }
                    at += 1;
                }
            }
        }
        if any_consumed {
            let mut index = 0;
            record.retain(|_| {
                index += 1;
                !consumed[index - 1]
            });
        }
        Event {
            fields,
            attrs: record,
        }
    }
}

impl Normalizer {
    /// What a step makes of the value it reads, borrowing from that value where it can.
    fn step_value<'v>(&self, step: &Step, raw: Py<'v>) -> Option<Out<'v>> {
        match step.pattern {
            Some(p) => found(raw, &self.patterns[p])
                .and_then(|part| self.convert(step.conv, Py::Str(part))),
            None => match raw {
                Py::Str(s) if step.passthrough && !s.is_empty() => Some(Out::Str(Cow::Borrowed(s))),
                _ => self.convert(step.conv, raw),
            },
        }
    }

    /// `convert`, with the format's level table for `Conv::FormatLevel`.
    pub(crate) fn convert<'v>(&self, conv: Conv, value: Py<'v>) -> Option<Out<'v>> {
        match (conv, &self.levels) {
            (Conv::FormatLevel, Some(levels)) => {
                levels.level(value).map(|level| Out::Str(Cow::Owned(level)))
            }
            _ => convert(conv, value),
        }
    }
}

/// Python's `value == raw` for a canonical value and the record's value it came from
/// (`True == 1` and `1 == 1.0` included): equal, the value leaves attrs even when kept.
fn py_equal(value: &Out<'_>, raw: Py<'_>) -> bool {
    match (value, raw) {
        (Out::Str(a), Py::Str(b)) => a.as_ref() == b,
        (Out::Int(a), Py::Int(Some(b), _)) => i128::from(*a) == b,
        (Out::Int(a), Py::Float(b)) => (*a as f64) == b && b.fract() == 0.0,
        (Out::Int(a), Py::Bool(b)) => *a == i64::from(b),
        (Out::Float(a), Py::Float(b)) => *a == b,
        (Out::Float(a), Py::Int(Some(b), _)) => *a == b as f64 && a.fract() == 0.0,
        (Out::Bool(a), Py::Bool(b)) => *a == b,
        (Out::Bool(a), Py::Int(Some(b), _)) => i128::from(*a) == b,
        _ => false,
    }
}

/// A dotted field name's steps (as normalize.split_path in Python, which checks format
/// files); a quoted step may hold dots,
/// as OpenTelemetry's attribute names do: `attributes."http.request.method"`.
pub fn split_path(name: &str) -> Vec<String> {
    if !name.contains('"') {
        return name.split('.').map(str::to_string).collect();
    }
    static STEP: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let step =
        STEP.get_or_init(|| regex::Regex::new(r#""([^"]*)"\.?|([^."]+)\.?"#).expect("a regex"));
    step.captures_iter(name)
        .map(|c| {
            let quoted = c.get(1).map_or("", |m| m.as_str());
            let plain = c.get(2).map_or("", |m| m.as_str());
            if quoted.is_empty() { plain } else { quoted }.to_string()
        })
        .collect()
}

/// The value at `path` inside `node`, or None when any step is missing.
pub(crate) fn lookup<'o, 'a>(node: Option<&'o J<'a>>, path: &[String]) -> Option<&'o J<'a>> {
    let mut node = node?;
    for name in path {
        node = match node {
            J::Obj(map) => obj_get(map, name)?,
            J::Arr(items) if ascii_digits(name) => items.get(name.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Drop a consumed leaf, and each dict on its path that this leaves empty.
fn remove_leaf(map: &mut Record<'_>, path: &[String]) {
    let Some((name, rest)) = path.split_first() else {
        return;
    };
    let Some(place) = map.iter().position(|(k, _)| k == name) else {
        return;
    };
    if rest.is_empty() {
        map.remove(place);
        return;
    }
    if let J::Obj(inner) = &mut map[place].1 {
        remove_leaf(inner, rest);
        if inner.is_empty() {
            map.remove(place);
        }
    }
}

// --- converters: each returns the canonical value or None --------------------------------

const INT64_MAX: i128 = i64::MAX as i128;
/// 2**63 as a float: the first float above INT64_MAX (which no float equals).
const TWO_63: f64 = 9_223_372_036_854_775_808.0;

fn convert(conv: Conv, value: Py<'_>) -> Option<Out<'_>> {
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
        // silly and http: winston's npm levels.
        "debug" | "trace" | "verbose" | "silly" => "DEBUG",
        "info" | "information" | "informational" | "notice" | "http" => "INFO",
        "warn" | "warning" => "WARNING",
        "err" | "error" => "ERROR",
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
        if let Some(caps) = pattern.captures(text) {
            if pattern.capture_names().any(|name| name == Some("value")) {
                return caps.name("value").map(|m| m.as_str());
            }
            return caps.get(0).map(|m| m.as_str());
        }
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
    use crate::json::{dumps_record, parse_record};

    fn table(rows: &[(&str, &[&str])]) -> AliasTable {
        rows.iter()
            .map(|(g, names)| (g.to_string(), names.iter().map(|n| n.to_string()).collect()))
            .collect()
    }

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
    fn a_late_field_reads_what_its_pattern_finds_and_keeps_the_text() {
        let late = [LateField {
            group: "error_type".into(),
            paths: vec!["stack".into()],
            patterns: vec![r"\A\s*(?P<value>[A-Za-z_$][\w$.]*)(?::[^\n]*)?\r?\n\s+at ".into()],
            keep: true,
        }];
        let builtin = table(&[("error_type", &["error_type"])]);
        let n = Normalizer::with_late(&Vec::new(), &builtin, &late).unwrap();
        let line = br#"{"stack": "TypeError: x\n    at f", "n": 1}"#;
        let event = n.normalize(parse_record(line).unwrap());
        let at = field_index("error_type").unwrap();
        assert_eq!(Some(Out::Str("TypeError".into())), event.fields[at]);
        assert_eq!(
            r#"{"stack":"TypeError: x\n    at f","n":1}"#,
            dumps_record(&event.attrs)
        );
        // A named error type ranks first.
        let line = br#"{"stack": "TypeError: x\n    at f", "error_type": "E"}"#;
        let event = n.normalize(parse_record(line).unwrap());
        assert_eq!(Some(Out::Str("E".into())), event.fields[at]);
    }

    #[test]
    fn the_best_ranked_alias_that_converts_wins_and_the_rest_stays_in_attrs() {
        let builtin = table(&[
            ("status_code", &["status_code", "status", "response.status"]),
            ("level", &["level"]),
            ("message", &["msg"]),
        ]);
        let n = Normalizer::new(&table(&[("message", &["text"])]), &builtin).unwrap();
        let record = parse_record(
            br#"{"status":"ok","response":{"status":503,"x":1},"level":"warn","text":"hi","msg":"m"}"#,
        )
        .unwrap();
        let event = n.normalize(record);
        assert_eq!(
            Some(Out::Int(503)),
            event.fields[field_index("status_code").unwrap()]
        );
        assert_eq!(Some(Out::Str("WARNING".into())), event.fields[1]);
        assert_eq!(Some(Out::Str("hi".into())), event.fields[4]);
        assert_eq!(
            r#"{"status":"ok","response":{"x":1},"level":"warn","msg":"m"}"#,
            dumps_record(&event.attrs)
        );
    }

    #[test]
    fn a_format_files_fields_are_an_alias_table_in_file_order() {
        let text = r#"
            name = "generic"
            [fields]
            ts = ["timestamp", "ts"]
            # a comment between rows
            level = "severity"
            trace_id = [
                "trace_id", "traceId",
            ]
            span_id = { from = "x", keep = true }
            [fields_last]
            error_type = { from = ["stack"] }
        "#;
        assert_eq!(
            table(&[
                ("ts", &["timestamp", "ts"]),
                ("level", &["severity"]),
                ("trace_id", &["trace_id", "traceId"]),
            ]),
            alias_table_from_toml(text).unwrap()
        );
        assert!(alias_table_from_toml("name = 1").is_err());
    }

    #[test]
    fn an_unknown_group_is_a_config_error() {
        assert!(Normalizer::new(&table(&[("colour", &["c"])]), &Vec::new()).is_err());
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
    fn every_group_name_is_a_group() {
        assert!(GROUP_NAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(alias_groups().contains(&("xray_trace", "trace_id", true)));
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
