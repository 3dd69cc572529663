//! Log formats as data, in the core: which format a record is and what it makes.
//!
//! Python reads and checks the format files (and logkit.toml's `[formats.NAME]`, a
//! `formats_dir`) and hands the specs over as JSON (`spec`); here each is compiled into a
//! normalizer with its own rows in front of the generic names (`fields`), its `[match]` into
//! a signature (`recognise`), decided once per record shape and checked per record by value.
//! A record no format claims is read by `generic`; `--log-format NAME` forces one format
//! for every record, inner records included. Envelopes unwrap (`envelope`).
//!
//! Two kinds of line are not one record: `[explode]` (a line of many records, `explode`)
//! makes an event per record; a record of a `[partial]` format (a writer's split line,
//! `partial`) is a `Part` whose event is made once the block's parts are known (src/block.rs
//! joins them, and `event_whole` reads what they make).

pub mod envelope;
pub mod explode;
pub mod fields;
pub mod levels;
pub mod partial;
pub mod recognise;
pub mod spec;

use crate::errors::CoreError;
use crate::json::Record;
use crate::normalize::{AliasTable, Event, Normalizer, Out};
use crate::tree::J;
use explode::ExplodeSpec;
use fields::Compiled;
use partial::{PartKey, PartialSpec};
use recognise::{Decision, Decisions, Signature};
use spec::{python_regex, FormatsData};
use std::sync::{Arc, Mutex};

/// A record inside an envelope inside an envelope is unwrapped; deeper ones are not.
const MAX_DEPTH: usize = 2;
/// The columns whose share of events the ingest summary reports per format
/// (logkit/formats' COVERAGE), and their places in an event's fields (FIELDS' order).
pub const COVERAGE: [&str; 5] = ["ts", "level", "message", "service", "trace_id"];
const COVERAGE_FIELDS: [usize; 5] = [0, 1, 4, 2, 5];

/// Where an envelope holds its inner record (a path): as JSON text (`[envelope] inner`), or
/// as the object itself (`[envelope] record`: an exported Cloud Logging entry's jsonPayload).
enum Inner {
    Text(String),
    Object(String),
}

/// What a format does beyond normalising a record.
struct Special {
    inner: Option<Inner>,
    partial: Option<PartialSpec>,
    explode: Option<ExplodeSpec>,
}

impl Special {
    fn any(&self) -> bool {
        self.inner.is_some() || self.partial.is_some() || self.explode.is_some()
    }
}

/// What a record makes (`Formats::event`). `One` is every ordinary line's: kept unboxed, as
/// the `Result` it replaces was, rather than an allocation per line.
#[allow(clippy::large_enum_variant)]
pub enum Made<'a> {
    One(Event<'a>, FormatName),
    /// The events of an `[explode]` line, in its order, each with `attrs.line_index` (none:
    /// a line that holds no records).
    Many(Vec<(Event<'a>, FormatName)>),
    /// A record of a `[partial]` format (not inside an envelope): its sequence and whether it
    /// continues. Its event waits until the block's parts are known: it may be one part of a
    /// longer record (`partial::groups`, then `Formats::joined` and `event_whole`): the
    /// record is handed back for that.
    Part(PartKey, bool, Record<'a>),
}

/// Which format made an event, as the coverage counts name it ("docker/zap" for an inner
/// record's format inside an envelope's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatName {
    Of(usize),
    Enveloped(String),
}

pub struct Formats {
    compiled: Vec<Compiled>,
    special: Vec<Special>,
    signatures: Vec<Signature>,
    generic: usize,
    forced: Option<usize>,
    /// The shapes earlier runs of records decided, for the next (see `decisions`).
    decided: Mutex<Vec<Decisions>>,
}

impl Formats {
    /// The formats Python loaded; `user`: logkit.toml's `[aliases]`, `builtin`: the
    /// built-in alias table (generic.toml's plain `[fields]`).
    pub fn new(
        data: &FormatsData,
        user: &AliasTable,
        builtin: &AliasTable,
    ) -> Result<Formats, CoreError> {
        let names: Vec<String> = data.formats.iter().map(|f| f.name.clone()).collect();
        let generic = names
            .iter()
            .position(|n| n == "generic")
            .ok_or_else(|| CoreError::Config("the generic format is missing".into()))?;
        let mut compiled = Vec::with_capacity(names.len());
        let mut special = Vec::with_capacity(names.len());
        let mut signatures = Vec::new();
        for (index, spec) in data.formats.iter().enumerate() {
            compiled.push(fields::compile(
                spec,
                &data.formats[generic],
                user,
                builtin,
            )?);
            let partial = match &spec.partial {
                None => None,
                Some(p) => Some(PartialSpec {
                    text: p.text.clone(),
                    by: p.by.clone(),
                    continues_from: p.continues_from.clone(),
                    continues: python_regex(&p.continues)?,
                }),
            };
            let explode = match &spec.explode {
                None => None,
                Some(e) => Some(ExplodeSpec::compiled(
                    e.lists.clone(),
                    e.inherit.clone(),
                    &e.decode,
                )?),
            };
            special.push(Special {
                inner: match (&spec.inner, &spec.record) {
                    (Some(path), _) => Some(Inner::Text(path.clone())),
                    (None, Some(path)) => Some(Inner::Object(path.clone())),
                    (None, None) => None,
                },
                partial,
                explode,
            });
            if spec.matchable() {
                signatures.push(Signature::new(index, spec)?);
            }
        }
        let forced = match &data.forced {
            None => None,
            Some(name) => Some(
                names
                    .iter()
                    .position(|n| n == name)
                    .ok_or_else(|| CoreError::Config(format!("no log format {name:?}")))?,
            ),
        };
        Ok(Formats {
            signatures: recognise::ordered(signatures, &names),
            compiled,
            special,
            generic,
            forced,
            decided: Mutex::default(),
        })
    }

    /// Decisions for a run of records (a slice of a block), with the shapes decided before:
    /// each slice began with none, and deciding every shape again (its candidates' checks,
    /// their normalizer plans) was 2% of a block's time. Given back by `keep_decisions`.
    pub fn decisions(&self) -> Decisions {
        let taken = self.decided.lock().map(|mut kept| kept.pop());
        taken.ok().flatten().unwrap_or_default()
    }

    /// Decisions a run is done with, for the next run (one per run at once, at most).
    pub fn keep_decisions(&self, decisions: Decisions) {
        if let Ok(mut kept) = self.decided.lock() {
            kept.push(decisions);
        }
    }

    /// One format, `generic`, read by this normalizer, forced: the core before formats.
    pub fn plain(normalizer: Normalizer) -> Formats {
        Formats {
            compiled: vec![Compiled::plain("generic", normalizer)],
            special: vec![Special {
                inner: None,
                partial: None,
                explode: None,
            }],
            signatures: Vec::new(),
            generic: 0,
            forced: Some(0),
            decided: Mutex::default(),
        }
    }

    /// Whether any format splits lines into parts (the reader then asks `part_of_line`
    /// where a block may end).
    pub fn splits(&self) -> bool {
        match self.forced {
            Some(forced) => self.special[forced].partial.is_some(),
            None => self.special.iter().any(|s| s.partial.is_some()),
        }
    }

    /// For a raw line that is a record of a `[partial]` format: its sequence and whether it
    /// continues (what `partial::unfinished` asks of a line); None for any other line.
    pub fn part_of_line(&self, raw: &[u8], decisions: &mut Decisions) -> Option<(PartKey, bool)> {
        let record = crate::json::parse_record(raw).ok()?;
        let format = self.format_of(&record, decisions);
        let spec = self.special[format].partial.as_ref()?;
        Some(spec.part_of(&self.compiled[format].name, &record))
    }

    /// The parts of one sequence (`key`'s format's `[partial]`) as the one record they make.
    pub fn joined<'a>(&self, key: &PartKey, parts: Vec<Record<'a>>) -> Option<Record<'a>> {
        let format = self.compiled.iter().position(|c| c.name == key.0)?;
        Some(self.special[format].partial.as_ref()?.joined(parts))
    }

    pub fn name<'s>(&'s self, name: &'s FormatName) -> &'s str {
        match name {
            FormatName::Of(index) => &self.compiled[*index].name,
            FormatName::Enveloped(name) => name,
        }
    }

    fn format_of(&self, record: &Record<'_>, decisions: &mut Decisions) -> usize {
        self.decided(record, decisions).0
    }

    /// The format of a record, and the decision of its shape with the candidate it took
    /// (none when forced).
    fn decided(
        &self,
        record: &Record<'_>,
        decisions: &mut Decisions,
    ) -> (usize, Option<(Arc<Decision>, usize)>) {
        match self.forced {
            Some(forced) => (forced, None),
            None => {
                let decision = decisions.get(record, &self.signatures, self.generic);
                let (format, candidate) = decision.format(record);
                (format, Some((decision, candidate)))
            }
        }
    }

    /// What a record of a line makes by its format, with the
    /// format's name.
    pub fn event<'a>(&self, record: Record<'a>, decisions: &mut Decisions) -> Made<'a> {
        self.made(record, decisions, 0, false)
    }

    /// What a whole record makes: one joined from parts, or a line of a `[partial]` format
    /// that is no part of a longer one: never a
    /// `Part`.
    pub fn event_whole<'a>(&self, record: Record<'a>, decisions: &mut Decisions) -> Made<'a> {
        self.made(record, decisions, 0, true)
    }

    fn made<'a>(
        &self,
        mut record: Record<'a>,
        decisions: &mut Decisions,
        depth: usize,
        whole: bool,
    ) -> Made<'a> {
        let (format, decision) = self.decided(&record, decisions);
        let special = &self.special[format];
        if !special.any() || depth >= MAX_DEPTH {
            // The record is normalised as it is: its shape's plan applies.
            let plan = decision
                .as_ref()
                .and_then(|(d, candidate)| d.plan(*candidate));
            let event = self.compiled[format].run_planned(record, plan);
            return Made::One(event, FormatName::Of(format));
        }
        if let Some(spec) = &special.partial {
            if depth == 0 && !whole {
                let (key, continues) = spec.part_of(&self.compiled[format].name, &record);
                return Made::Part(key, continues, record);
            }
        }
        if let Some(spec) = &special.explode {
            return Made::Many(self.exploded(format, spec, &record, decisions, depth));
        }
        match &special.inner {
            Some(inner) => self.unwrap(format, inner, &mut record, decisions, depth),
            None => Made::One(self.compiled[format].run(record), FormatName::Of(format)),
        }
    }

    /// One event per record of the line, by the exploding format's fields (not recognised
    /// one by one), or, where the format has an `[envelope]` too, by the record its inner
    /// text holds (a CloudWatch Logs payload's events, each an application's own line). Each
    /// has its place among the line's events as `attrs.line_index`: (stream, line,
    /// line_index) is one record.
    fn exploded<'a>(
        &self,
        format: usize,
        spec: &ExplodeSpec,
        record: &Record<'a>,
        decisions: &mut Decisions,
        depth: usize,
    ) -> Vec<(Event<'a>, FormatName)> {
        let fmt = &self.compiled[format];
        let mut events = Vec::new();
        for mut one in spec.records(record) {
            match &self.special[format].inner {
                None => events.push((fmt.run(one), FormatName::Of(format))),
                Some(inner) => match self.unwrap(format, inner, &mut one, decisions, depth) {
                    Made::One(event, name) => events.push((event, name)),
                    Made::Many(many) => events.extend(many),
                    Made::Part(..) => unreachable!("parts are read at depth 0 only"),
                },
            }
        }
        for (index, (event, _)) in events.iter_mut().enumerate() {
            let at = J::Num(std::borrow::Cow::Owned(index.to_string()));
            match event.attrs.iter().position(|(k, _)| k == "line_index") {
                Some(place) => event.attrs[place].1 = at,
                None => event.attrs.push(("line_index".into(), at)),
            }
        }
        events
    }

    /// An envelope's event: its inner record's, when the inner text is a JSON object (or
    /// the inner value is one, for `[envelope] record`).
    fn unwrap<'a>(
        &self,
        format: usize,
        inner: &Inner,
        record: &mut Record<'a>,
        decisions: &mut Decisions,
        depth: usize,
    ) -> Made<'a> {
        let fmt = &self.compiled[format];
        let (parsed, inner) = match inner {
            Inner::Text(path) => {
                let text = envelope::inner_text(record, path);
                (text.as_deref().and_then(envelope::inner_record), path)
            }
            Inner::Object(path) => (envelope::inner_object(record, path), path),
        };
        let record = std::mem::take(record);
        let Some(parsed) = parsed else {
            return Made::One(fmt.run(record), FormatName::Of(format));
        };
        let mut shell = record;
        let steps = crate::normalize::split_path(inner);
        if steps.len() == 1 {
            shell.retain(|(k, _)| k != inner);
        }
        let made = self.made(parsed, decisions, depth + 1, false);
        let outer = fmt.run(shell.clone());
        let enveloped = |(event, inner_name): (Event<'a>, FormatName)| {
            let name = format!("{}/{}", fmt.name, self.name(&inner_name));
            let outer = Event {
                fields: outer.fields.clone(),
                attrs: Vec::new(),
            };
            let event = envelope::enveloped(event, outer, shell.clone());
            (event, FormatName::Enveloped(name))
        };
        match made {
            Made::One(event, inner_name) => {
                let (event, name) = enveloped((event, inner_name));
                Made::One(event, name)
            }
            // A line of many records inside the envelope (an OTLP/JSON export a container
            // wrote to stdout): each event gets what the envelope gives, as one record would.
            Made::Many(events) => Made::Many(events.into_iter().map(enveloped).collect()),
            Made::Part(..) => unreachable!("parts are read at depth 0 only"),
        }
    }
}

/// Per format name, [events, then events with each COVERAGE column] (a block's counts, as
/// `Block.formats` gives them).
pub type Coverage = std::collections::BTreeMap<String, [u64; 1 + COVERAGE.len()]>;

/// Count an event (after masking, as stored) for its format.
pub fn count(coverage: &mut Coverage, name: &str, fields: &[Option<Out<'_>>]) {
    let counts = match coverage.get_mut(name) {
        Some(counts) => counts,
        None => coverage.entry(name.to_string()).or_default(),
    };
    counts[0] += 1;
    for (slot, field) in counts[1..].iter_mut().zip(COVERAGE_FIELDS) {
        *slot += u64::from(fields[field].is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_record;
    use crate::normalize::FIELDS;

    const DATA: &str = r#"{"formats": [
        {"name": "generic", "fields": [], "fields_last": []},
        {"name": "zap", "keys": ["ts", "msg"], "shapes": [["ts", "number"]],
         "fields": [{"group": "ts_s", "paths": ["ts"]}]},
        {"name": "docker", "keys": ["log", "stream", "time"], "inner": "log",
         "fields": [{"group": "message", "paths": ["log"],
                     "pattern": ["(?s)^(?P<value>.*?)\\r?\\n?$"]}],
         "partial": {"text": "log", "by": "stream", "continues_from": "log",
                     "continues": "[^\\n]\\Z"}},
        {"name": "otlp", "keys": ["resourceLogs"],
         "explode": {"lists": [["resourceLogs"], ["logRecords"]]}}
    ], "forced": null}"#;

    fn formats(forced: Option<&str>) -> Formats {
        let mut data = spec::from_json(DATA).unwrap();
        data.forced = forced.map(str::to_string);
        let builtin = vec![
            ("ts".to_string(), vec!["ts".to_string(), "time".to_string()]),
            ("message".to_string(), vec!["msg".to_string()]),
        ];
        Formats::new(&data, &Vec::new(), &builtin).unwrap()
    }

    /// What a record makes: its format's name, "part" (with "+" when it continues), or the
    /// names of a line of many records.
    fn named(f: &Formats, made: Made<'_>) -> String {
        match made {
            Made::One(_, name) => f.name(&name).to_string(),
            Made::Part(_, continues, _) => format!("part{}", if continues { "+" } else { "" }),
            Made::Many(events) => events
                .iter()
                .map(|(_, name)| f.name(name).to_string())
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    fn name_of(f: &Formats, line: &[u8]) -> String {
        named(
            f,
            f.event(parse_record(line).unwrap(), &mut Decisions::default()),
        )
    }

    /// As a whole record (a [partial] format's line that is no part of a longer one).
    fn whole_name_of(f: &Formats, line: &[u8]) -> String {
        named(
            f,
            f.event_whole(parse_record(line).unwrap(), &mut Decisions::default()),
        )
    }

    #[test]
    fn records_are_recognised_by_keys_then_values_and_envelopes_name_both() {
        let f = formats(None);
        assert_eq!("zap", name_of(&f, br#"{"ts": 1.5, "msg": "m"}"#));
        // The same keys, a value of another shape: not zap.
        assert_eq!("generic", name_of(&f, br#"{"ts": "1.5", "msg": "m"}"#));
        let inner = br#"{"log": "{\"ts\": 1, \"msg\": \"in\"}\n", "stream": "s", "time": "t"}"#;
        assert_eq!("part", name_of(&f, inner));
        assert_eq!("docker/zap", whole_name_of(&f, inner));
        let text = br#"{"log": "plain\n", "stream": "s", "time": "t"}"#;
        assert_eq!("docker", whole_name_of(&f, text));
        // Forced: every record, the inner one too, by the forced format.
        let forced = formats(Some("zap"));
        assert_eq!("zap", name_of(&forced, inner));
    }

    #[test]
    fn a_part_of_a_split_line_and_a_line_of_many_records_say_so() {
        let f = formats(None);
        let part = br#"{"log": "{\"ts\": 1, ", "stream": "s", "time": "t"}"#;
        assert_eq!("part+", name_of(&f, part));
        let many = br#"{"resourceLogs": [{"logRecords": [{}, {}]}]}"#;
        assert_eq!("otlp,otlp", name_of(&f, many));
        // Inside an envelope, a line of many records too.
        let wrapped = br#"{"log": "{\"resourceLogs\": [{\"logRecords\": [{}]}]}\n", "stream": "s", "time": "t"}"#;
        assert_eq!("docker/otlp", whole_name_of(&f, wrapped));
    }

    #[test]
    fn coverage_counts_each_event_for_its_format() {
        let mut coverage = Coverage::new();
        let mut fields: [Option<Out>; FIELDS.len()] = Default::default();
        count(&mut coverage, "zap", &fields);
        fields[0] = Some(Out::Int(1));
        fields[4] = Some(Out::Str("m".into()));
        count(&mut coverage, "zap", &fields);
        assert_eq!(Some(&[2, 1, 0, 1, 0, 0]), coverage.get("zap"));
        assert_eq!(COVERAGE, COVERAGE_FIELDS.map(|i| FIELDS[i]));
    }
}
