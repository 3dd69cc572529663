//! Log formats as data, in the core: the port of logkit/formats' `Recognizer`.
//!
//! Python reads and checks the format files (and logkit.toml's `[formats.NAME]`, a
//! `formats_dir`) and hands the specs over as JSON (`spec`); here each is compiled into a
//! normalizer with its own rows in front of the generic names (`fields`), its `[match]` into
//! a signature (`recognise`), decided once per record shape and checked per record by value.
//! A record no format claims is read by `generic`; `--log-format NAME` forces one format
//! for every record, inner records included. Envelopes unwrap (`envelope`).
//!
//! Two kinds of line are not one record, and their engines are not here yet: `[partial]`
//! (a writer's split line, joined from parts) and `[explode]` (a line of many records). A
//! record that needs either is `Unported`, and the block it is in is run by the Python
//! pipeline instead (logkit/core.py), so that no line is read differently.

pub mod envelope;
pub mod fields;
pub mod levels;
pub mod recognise;
pub mod spec;

use crate::errors::CoreError;
use crate::json::Record;
use crate::normalize::{AliasTable, Event, Normalizer, Out};
use crate::tree::{obj_get, J};
use fields::Compiled;
use recognise::{Decisions, Signature};
use spec::{python_regex, ExplodeSpec, FormatsData, PartialSpec};

/// A record inside an envelope inside an envelope is unwrapped; deeper ones are not.
const MAX_DEPTH: usize = 2;
/// The columns whose share of events the ingest summary reports per format
/// (logkit/formats' COVERAGE), and their places in an event's fields (FIELDS' order).
pub const COVERAGE: [&str; 5] = ["ts", "level", "message", "service", "trace_id"];
const COVERAGE_FIELDS: [usize; 5] = [0, 1, 4, 2, 5];

/// What a format does beyond normalising a record.
struct Special {
    inner: Option<String>,
    partial: Option<(PartialSpec, regex::Regex)>,
    /// Parsed, to hang src/formats/explode.rs on.
    explode: Option<ExplodeSpec>,
}

impl Special {
    fn any(&self) -> bool {
        self.inner.is_some() || self.partial.is_some() || self.explode.is_some()
    }
}

/// A feature of the format data the core does not run yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unported {
    /// A `[partial]` record that continues in a later line.
    Partial,
    /// An `[explode]` record: one line, many events.
    Explode,
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
                Some(p) => Some((p.clone(), python_regex(&p.continues)?)),
            };
            special.push(Special {
                inner: spec.inner.clone(),
                partial,
                explode: spec.explode.clone(),
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
        })
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
        }
    }

    pub fn name<'s>(&'s self, name: &'s FormatName) -> &'s str {
        match name {
            FormatName::Of(index) => &self.compiled[*index].name,
            FormatName::Enveloped(name) => name,
        }
    }

    fn format_of(&self, record: &Record<'_>, decisions: &mut Decisions) -> usize {
        match self.forced {
            Some(forced) => forced,
            None => decisions
                .get(record, &self.signatures, self.generic)
                .format(record),
        }
    }

    /// The event of a record by its format (`Recognizer.__call__`), and the format's name.
    pub fn event<'a>(
        &self,
        mut record: Record<'a>,
        decisions: &mut Decisions,
        depth: usize,
    ) -> Result<(Event<'a>, FormatName), Unported> {
        let format = self.format_of(&record, decisions);
        let special = &self.special[format];
        if !special.any() || depth >= MAX_DEPTH {
            return Ok((self.compiled[format].run(record), FormatName::Of(format)));
        }
        if let Some((spec, continues)) = &special.partial {
            if depth == 0 {
                partial_hook(spec, continues, &record)?;
            }
        }
        if let Some(spec) = &special.explode {
            return Err(explode_hook(spec, &record));
        }
        match &special.inner {
            Some(inner) => self.unwrap(format, inner, &mut record, decisions, depth),
            None => Ok((self.compiled[format].run(record), FormatName::Of(format))),
        }
    }

    /// An envelope's event: its inner record's, when the inner text is a JSON object.
    fn unwrap<'a>(
        &self,
        format: usize,
        inner: &str,
        record: &mut Record<'a>,
        decisions: &mut Decisions,
        depth: usize,
    ) -> Result<(Event<'a>, FormatName), Unported> {
        let fmt = &self.compiled[format];
        let parsed = envelope::inner_text(record, inner)
            .as_deref()
            .and_then(envelope::inner_record);
        let record = std::mem::take(record);
        let Some(parsed) = parsed else {
            return Ok((fmt.run(record), FormatName::Of(format)));
        };
        let mut shell = record;
        let steps = crate::normalize::split_path(inner);
        if steps.len() == 1 {
            shell.retain(|(k, _)| k != inner);
        }
        let (event, inner_name) = self.event(parsed, decisions, depth + 1)?;
        let outer = fmt.run(shell.clone());
        let name = format!("{}/{}", fmt.name, self.name(&inner_name));
        Ok((
            envelope::enveloped(event, outer, shell),
            FormatName::Enveloped(name),
        ))
    }
}

/// Where `[partial]` joining goes (src/formats/partial.rs): a record whose `continues`
/// field says the line goes on is a part to hold until the one that ends it. Until that
/// is ported, such a record is `Unported`; a record that ends no held sequence (a whole
/// line) reads as any other.
fn partial_hook(
    spec: &PartialSpec,
    continues: &regex::Regex,
    record: &Record<'_>,
) -> Result<(), Unported> {
    match obj_get(record, &spec.continues_from) {
        Some(J::Str(flag)) if continues.is_match(flag) => Err(Unported::Partial),
        _ => Ok(()),
    }
}

/// Where `[explode]` goes (src/formats/explode.rs): one event per record the line holds.
fn explode_hook(_spec: &ExplodeSpec, _record: &Record<'_>) -> Unported {
    Unported::Explode
}

/// Per format name, [events, then events with each COVERAGE column] (the counts
/// `Recognizer.take_counts` gives per block).
pub type Coverage = std::collections::BTreeMap<String, [u64; 1 + COVERAGE.len()]>;

/// Count an event (after masking, as stored) for its format.
pub fn count(coverage: &mut Coverage, name: &str, fields: &[Option<Out>]) {
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

    fn name_of(f: &Formats, line: &[u8]) -> Result<String, Unported> {
        let record = parse_record(line).unwrap();
        let (_, name) = f.event(record, &mut Decisions::default(), 0)?;
        Ok(f.name(&name).to_string())
    }

    #[test]
    fn records_are_recognised_by_keys_then_values_and_envelopes_name_both() {
        let f = formats(None);
        assert_eq!("zap", name_of(&f, br#"{"ts": 1.5, "msg": "m"}"#).unwrap());
        // The same keys, a value of another shape: not zap.
        assert_eq!(
            "generic",
            name_of(&f, br#"{"ts": "1.5", "msg": "m"}"#).unwrap()
        );
        let inner = br#"{"log": "{\"ts\": 1, \"msg\": \"in\"}\n", "stream": "s", "time": "t"}"#;
        assert_eq!("docker/zap", name_of(&f, inner).unwrap());
        let text = br#"{"log": "plain\n", "stream": "s", "time": "t"}"#;
        assert_eq!("docker", name_of(&f, text).unwrap());
        // Forced: every record, the inner one too, by the forced format.
        let forced = formats(Some("zap"));
        assert_eq!("zap", name_of(&forced, inner).unwrap());
    }

    #[test]
    fn a_part_of_a_split_line_and_a_line_of_many_records_are_not_ported_yet() {
        let f = formats(None);
        let part = br#"{"log": "{\"ts\": 1, ", "stream": "s", "time": "t"}"#;
        assert_eq!(Err(Unported::Partial), name_of(&f, part));
        let many = br#"{"resourceLogs": [{"logRecords": [{}, {}]}]}"#;
        assert_eq!(Err(Unported::Explode), name_of(&f, many));
        // Inside an envelope, a line of many records too (parts are joined outside only).
        let wrapped = br#"{"log": "{\"resourceLogs\": []}\n", "stream": "s", "time": "t"}"#;
        assert_eq!(Err(Unported::Explode), name_of(&f, wrapped));
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
