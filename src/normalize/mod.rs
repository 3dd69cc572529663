//! A parsed record as logkit's canonical event: the `Normalizer`, which fills the columns
//! (event.rs) from a record's keys by alias group (groups.rs; Python's
//! `normalize.ALIAS_GROUPS` is read from there), each value through its column's converter
//! (converters.rs). Which record keys feed a group is data: the alias table (today
//! normalize.BUILTIN_ALIASES, to become the format files' `[fields]` tables), and the user's
//! `[aliases]` in front of it, both handed in by Python. Each field ranks its aliases in
//! table order, user aliases first; the best-ranked alias whose value converts wins, and a
//! value that does not convert stays in `attrs`.
//! A dotted alias (`usage.prompt_tokens`) matches a literal key first, then the nested
//! value; a decimal step indexes a list, and a value read through a list is never cut out.

mod converters;
mod event;
mod groups;

use converters::convert;
pub(crate) use converters::found;
pub use converters::normalize_level;
use event::ERROR_TYPE;
pub use event::{column, field_index, Event, EventMap, Out, FIELDS};
pub use groups::{alias_groups, alias_table_from_toml, AliasTable, GROUP_NAMES};
pub(crate) use groups::{group, Conv, Keep};
use groups::{CONTEXT_OBJECTS, CONTEXT_SKIP};

use std::borrow::Cow;
use std::sync::OnceLock;

use rustc_hash::FxHashMap as HashMap;

use crate::errors::CoreError;
use crate::formats::levels::LevelTable;
use crate::json::{view, Py, Record};
use crate::pytext::ascii_digits;
use crate::tree::{obj_get, J};

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
    /// Generic's context objects (`[context]`): a record key of these names feeds the
    /// `context` steps, every name read inside it, each ranked after all of its field's own.
    contexts: Vec<String>,
    /// A key inside a context object -> the steps it can feed there (the name itself, or a
    /// dotted name's head), a range of `steps`: looked up per record, for its object's keys.
    inside: HashMap<String, (u32, u32)>,
    /// A name -> its context step as a key of the record itself (`"mdc.user_id": ...`, a
    /// context object flattened), a range of `steps`.
    flattened: HashMap<String, (u32, u32)>,
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

/// A plan's mark of a context object (no step has this index).
const CONTEXT_OBJECT: u32 = u32::MAX;

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
        // Generic's [context] rows (alias_table_from_toml) are no groups: taken out here.
        let (mut contexts, mut skip) = (Vec::new(), Vec::new());
        let mut groups = AliasTable::new();
        for (name, names) in builtin {
            match name.as_str() {
                CONTEXT_OBJECTS => contexts.clone_from(names),
                CONTEXT_SKIP => skip.clone_from(names),
                _ => groups.push((name.clone(), names.clone())),
            }
        }
        let builtin = &groups;
        let mut ordered: Vec<Vec<Entry>> = vec![Vec::new(); FIELDS.len()];
        // Per field, the names it has: generic's context objects make lists of hundreds, and
        // a scan of the list for each name was a tenth of a second of every run's start-up.
        let mut named: Vec<std::collections::HashSet<String>> =
            vec![std::collections::HashSet::new(); FIELDS.len()];
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
                   named: &mut Vec<std::collections::HashSet<String>>,
                   table: &AliasTable,
                   from_user: bool,
                   claimed: &std::collections::HashSet<String>|
         -> Result<(), CoreError> {
            for (name, names) in table {
                let rows = group(name).ok_or_else(|| {
                    CoreError::Config(format!("the alias table names no column '{name}'"))
                })?;
                for &(field, conv, keep) in rows {
                    let at = field_index(field).expect("a canonical field");
                    for alias in names {
                        if (!from_user && claimed.contains(alias)) || named[at].contains(alias) {
                            continue;
                        }
                        named[at].insert(alias.clone());
                        ordered[at].push((alias.clone(), conv, keep, None));
                    }
                }
            }
            Ok(())
        };
        add(&mut ordered, &mut named, user, true, &claimed)?;
        let extra: Vec<Row> = extra
            .into_iter()
            .filter(|row| !claimed.contains(&row.1))
            .collect();
        for (field, name, conv, keep, pattern) in &extra {
            if named[*field].insert(name.clone()) {
                ordered[*field].push((name.clone(), *conv, *keep, *pattern));
            }
        }
        claimed.extend(extra.into_iter().map(|row| row.1));
        add(&mut ordered, &mut named, builtin, false, &claimed)?;
        // Where each field's last resorts start: its context steps rank before them.
        let own: Vec<usize> = ordered.iter().map(Vec::len).collect();
        let skipped: Vec<usize> = skip
            .iter()
            .filter_map(|name| group(name))
            .flat_map(|rows| rows.iter().filter_map(|(field, ..)| field_index(field)))
            .collect();
        for (field, name, conv, keep, pattern) in late {
            ordered[field].push((name, conv, keep, pattern));
        }
        let mut steps: HashMap<String, Vec<Step>> = HashMap::default();
        let mut context: HashMap<String, Vec<Step>> = HashMap::default();
        let mut flattened: HashMap<String, Vec<Step>> = HashMap::default();
        for (field, names) in ordered.into_iter().enumerate() {
            let n = own[field];
            for (place, (name, conv, keep, pattern)) in names.into_iter().enumerate() {
                // Ranks: the field's own names, its context steps, its last resorts.
                let rank = if place < n { place } else { place + n };
                let in_context = !contexts.is_empty() && place < n && !skipped.contains(&field);
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
                if in_context {
                    // The name as a key inside a context object, or after its name and a dot.
                    let step = Step {
                        rank: 2 * (n + place),
                        ..literal.clone()
                    };
                    let inside = Step {
                        path: Some(vec![name.clone()]),
                        ..step.clone()
                    };
                    context.entry(name.clone()).or_default().push(inside);
                    flattened.entry(name.clone()).or_default().push(step);
                }
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
                    if in_context {
                        let step = Step {
                            rank: 2 * (n + place) + 1,
                            path: Some(nested_path.clone()),
                            ..nested.clone()
                        };
                        context.entry(head.clone()).or_default().push(step);
                    }
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
        let mut flat_names = HashMap::default();
        for (name, steps) in flattened {
            let start = flat.len() as u32;
            flat.extend(steps);
            flat_names.insert(name, (start, flat.len() as u32));
        }
        let mut inside = HashMap::default();
        for (key, steps) in context {
            let start = flat.len() as u32;
            flat.extend(steps);
            inside.insert(key, (start, flat.len() as u32));
        }
        Ok(Normalizer {
            keys,
            contexts,
            inside,
            flattened: flat_names,
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
            if self.contexts.iter().any(|object| object == key.as_ref()) {
                // Its keys are the record's own, not its shape's: looked up per record
                // (`normalize_planned`), marked here.
                plan.push((index, CONTEXT_OBJECT));
            } else if let Some((object, name)) = key.split_once('.') {
                if self.contexts.iter().any(|o| o == object) {
                    if let Some(&(start, end)) = self.flattened.get(name) {
                        plan.extend((start..end).map(|step| (index, step)));
                    }
                }
            }
        }
        // The error type before every other field, as it may be read (and kept) from text
        // another column consumes.
        self.sort(&mut plan);
        plan
    }

    /// Steps in the order they are tried (context objects' marks last).
    fn sort(&self, plan: &mut Plan) {
        plan.sort_by_key(|&(_, step)| match self.steps.get(step as usize) {
            Some(step) => (step.field != ERROR_TYPE, step.field, step.rank),
            None => (true, usize::MAX, 0),
        });
    }

    /// `plan` with the steps the keys inside the record's context objects feed; None when
    /// it has no context object.
    fn with_context(&self, plan: &Plan, record: &Record<'_>) -> Option<Plan> {
        if !matches!(plan.last(), Some(&(_, CONTEXT_OBJECT))) {
            return None;
        }
        let mut all: Plan = plan
            .iter()
            .copied()
            .filter(|&(_, step)| step != CONTEXT_OBJECT)
            .collect();
        for &(index, step) in plan.iter().rev() {
            if step != CONTEXT_OBJECT {
                break;
            }
            if let J::Obj(inner) = &record[index].1 {
                for (key, _) in inner.iter() {
                    if let Some(&(start, end)) = self.inside.get(key.as_ref()) {
                        all.extend((start..end).map(|step| (index, step)));
                    }
                }
            }
        }
        self.sort(&mut all);
        Some(all)
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
        let mut plan = match kept {
            Some(kept) => kept.get_or_init(|| self.plan(&record)),
            None => {
                made = self.plan(&record);
                &made
            }
        };
        let with_context = self.with_context(plan, &record);
        if let Some(all) = &with_context {
            plan = all;
        }
        let mut fields: [Option<Out>; FIELDS.len()] = Default::default();
        // Top-level keys consumed (by their place in the record), and nested leaves.
        let mut consumed = vec![false; record.len()];
        let mut any_consumed = false;
        let mut nested: Vec<(usize, &[String])> = Vec::new();
        {
            for &(index, step) in plan {
                let step = &self.steps[step as usize];
                let value = &record[index].1;
                // A pattern that keeps its text reads a part of it: it may read a text another
                // column took (an access line's request, inside the message).
                let reads_part = step.pattern.is_some() && !matches!(step.keep, Keep::No);
                if fields[step.field].is_some() || (consumed[index] && !reads_part) {
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
    fn a_context_object_is_read_after_every_name_of_the_record_itself() {
        let text = r#"
            [fields]
            message = ["message"]
            user_id = ["user_id", "userId"]
            [context]
            objects = ["fields", "mdc"]
            skip = ["message"]
        "#;
        let table = alias_table_from_toml(text).unwrap();
        let names = |row: &[&str]| row.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            table[2..],
            [
                (CONTEXT_OBJECTS.to_string(), names(&["fields", "mdc"])),
                (CONTEXT_SKIP.to_string(), names(&["message"])),
            ]
        );
        let n = Normalizer::new(&Vec::new(), &table).unwrap();
        let user = field_index("user_id").unwrap();
        let line =
            br#"{"message": "m", "mdc": {"userId": "u1", "k": 1}, "fields": {"message": "x"}}"#;
        let event = n.normalize(parse_record(line).unwrap());
        assert_eq!(Some(Out::Str("u1".into())), event.fields[user]);
        // A skipped column is not read inside: the object's message stays in attrs.
        assert_eq!(
            r#"{"mdc":{"k":1},"fields":{"message":"x"}}"#,
            dumps_record(&event.attrs)
        );
        let line = br#"{"userId": "top", "fields": {"user_id": "in"}}"#;
        let event = n.normalize(parse_record(line).unwrap());
        assert_eq!(Some(Out::Str("top".into())), event.fields[user]);
        // A context object flattened into the record's keys.
        let line = br#"{"mdc.userId": "flat", "k": 1}"#;
        let event = n.normalize(parse_record(line).unwrap());
        assert_eq!(Some(Out::Str("flat".into())), event.fields[user]);
        assert_eq!(r#"{"k":1}"#, dumps_record(&event.attrs));
        // The better name wins in any object.
        let line = br#"{"mdc": {"userId": "worse"}, "fields": {"user_id": "better"}}"#;
        let event = n.normalize(parse_record(line).unwrap());
        assert_eq!(Some(Out::Str("better".into())), event.fields[user]);
    }

    #[test]
    fn a_context_table_that_names_no_column_is_a_config_error() {
        let text = "[fields]\nts = \"t\"\n[context]\nobjects = [\"mdc\"]\nskip = [\"colour\"]\n";
        assert!(alias_table_from_toml(text).is_err());
        let text = "[fields]\nts = \"t\"\n[context]\nobjects = [\"\"]\n";
        assert!(alias_table_from_toml(text).is_err());
    }

    #[test]
    fn an_unknown_group_is_a_config_error() {
        assert!(Normalizer::new(&table(&[("colour", &["c"])]), &Vec::new()).is_err());
    }

    #[test]
    fn every_group_name_is_a_group() {
        assert!(GROUP_NAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(alias_groups().contains(&("xray_trace", "trace_id", true)));
    }
}
