//! The lines of `[partial]` formats in a block (src/formats/partial.rs), once every slice has
//! read its lines: the sequences of parts are known only then, since one may span slices.
//! Each record they make (a line that is no part of a longer one, a sequence's parts joined,
//! a sequence the block leaves open) is made events from the records the slices read, at
//! the place of the line that ends it (open ones at the block's end), as one slice over the
//! whole block would; the slices do that work in parallel, each for the records that end in it.

use std::borrow::Cow;

use rayon::prelude::*;

use super::{pool, Pipeline, RejectRow, Slice};
use crate::formats::partial::{groups, insert_at, Group, Place};
use crate::formats::Made;
use crate::json::Record;

impl Pipeline {
    /// Make the events of the block's `[partial]` lines and put them in their places.
    pub(super) fn join_parts(
        &self,
        input: &super::BlockInput<'_>,
        lines: &[(usize, &[u8])],
        slices: &mut [Slice<'_>],
    ) {
        let last = slices.len() - 1;
        let end = Place {
            slice: last,
            event: slices[last].events.len(),
            reject: slices[last].rejects.len(),
        };
        let parts = slices
            .iter_mut()
            .flat_map(|slice| std::mem::take(&mut slice.parts))
            .collect::<Vec<_>>();
        let mut per_slice: Vec<Vec<Group<Record<'_>>>> =
            slices.iter().map(|_| Vec::new()).collect();
        for group in groups(parts, end) {
            per_slice[group.at.slice].push(group);
        }
        pool().install(|| {
            slices
                .par_iter_mut()
                .zip(per_slice)
                .for_each(|(slice, groups)| self.fill(input, lines, slice, groups));
        });
    }

    /// The events (and `no_records` rejects) of the records that end in this slice.
    fn fill<'a>(
        &self,
        input: &super::BlockInput<'_>,
        lines: &[(usize, &[u8])],
        slice: &mut Slice<'a>,
        groups: Vec<Group<Record<'a>>>,
    ) {
        let mut decisions = self.formats.decisions();
        let mut events = Vec::new();
        let mut rejects = Vec::new();
        for group in groups {
            let mut made = Slice::new(1, 0);
            let raws: Vec<&[u8]> = group.lines.iter().map(|&i| lines[i].1).collect();
            // The block's own bytes for a line alone; the parts' lines joined for a sequence
            // (what masking's prefilter looks at: a secret the split cut in two is whole).
            let whole: Cow<'_, [u8]> = match raws.as_slice() {
                [one] => Cow::Borrowed(one),
                many => Cow::Owned(many.join(&b"\n"[..])),
            };
            let first = group.lines[0];
            let line = input.first_line + first as i64;
            let byte_offset = input.first_offset + lines[first].0 as i64;
            let mut records = group.records;
            let record = match records.len() {
                1 => records.pop(),
                _ => self.formats.joined(&group.key, records),
            };
            let Some(record) = record else { continue };
            match self.formats.event_whole(record, &mut decisions) {
                Made::One(event, format) => {
                    self.keep(&mut made, event, &format, (&whole, None), line)
                }
                Made::Many(many) => {
                    self.keep_all(&mut made, many, (&whole, None), line, byte_offset)
                }
                Made::Part(..) => unreachable!("a whole record is no part"),
            }
            slice.no_ts += made.no_ts;
            slice.newest = slice.newest.max(made.newest);
            slice.spans.merge(made.spans);
            for (detector, count) in made.masked {
                *slice.masked.entry(detector).or_insert(0) += count;
            }
            for (name, counts) in made.formats {
                let total = slice.formats.entry(name).or_default();
                for (total, count) in total.iter_mut().zip(counts) {
                    *total += count;
                }
            }
            events.push((group.at.event, slice.events.adopt(made.events)));
            rejects.push((group.at.reject, made.rejects));
        }
        self.formats.keep_decisions(decisions);
        insert_at(&mut slice.events.rows, events);
        insert_at::<RejectRow>(&mut slice.rejects, rejects);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{pool, slice_len, tests::input, SLICE_LINES};
    use super::*;
    use crate::arrow_out::Columns;
    use crate::formats::{spec, Formats};
    use arrow_array::{Array, Int64Array, StringArray};

    const DATA: &str = r#"{"formats": [
        {"name": "generic", "fields": [{"group": "message", "paths": ["msg"]}], "fields_last": []},
        {"name": "docker", "keys": ["log", "stream", "time"], "inner": "log",
         "fields": [{"group": "message", "paths": ["log"],
                     "pattern": ["(?s)^(?P<value>.*?)\\r?\\n?$"]}],
         "partial": {"text": "log", "by": "stream", "continues_from": "log",
                     "continues": "[^\\n]\\Z"}},
        {"name": "otlp", "keys": ["resourceLogs"],
         "explode": {"lists": [["resourceLogs"], ["logRecords"]]},
         "fields": [{"group": "message", "paths": ["body"]}]}
    ], "forced": null}"#;

    fn pipeline() -> Pipeline {
        let columns = |names: &[(&str, &str)]| {
            names
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect::<Vec<_>>()
        };
        let events = columns(&[("message", "VARCHAR"), ("line", "BIGINT")]);
        let rejects = columns(&[("line", "BIGINT"), ("reason", "VARCHAR")]);
        let builtin = vec![("message".to_string(), vec!["msg".to_string()])];
        Pipeline {
            formats: Formats::new(&spec::from_json(DATA).unwrap(), &Vec::new(), &builtin).unwrap(),
            events: Columns::new(&events, false).unwrap(),
            rejects: Columns::new(&rejects, true).unwrap(),
            masker: None,
        }
    }

    fn entry(log: &str, stream: &str) -> String {
        let log = serde_json::Value::String(log.to_string());
        format!(r#"{{"log":{log},"stream":"{stream}","time":"t"}}"#)
    }

    #[test]
    fn parts_in_several_slices_are_one_event_at_the_first_parts_line() {
        let mut lines: Vec<String> = (0..3 * SLICE_LINES)
            .map(|n| entry(&format!("line {n}\n"), "stdout"))
            .collect();
        // Where the second slice starts, as the block cuts these lines on this machine.
        let edge = slice_len(lines.len() + 2, pool().current_num_threads());
        // A sequence over the first two slices, the other stream between its parts; its end
        // is the second slice's first line of its stream.
        let at = edge - 3;
        lines[at] = entry("{\"msg\": \"jo", "stdout");
        lines[at + 1] = entry("whole on stderr\n", "stderr");
        lines[at + 2] = entry("ined\"", "stdout");
        lines[edge] = entry("}\n", "stdout");
        lines[edge + 1] = r#"{"resourceLogs": [{"logRecords": []}]}"#.to_string();
        lines[edge + 2] =
            r#"{"resourceLogs": [{"logRecords": [{"body": "a"}, {"body": "b"}]}]}"#.to_string();
        lines.push(entry("never ", "stdout"));
        lines.push(entry("ended", "stdout"));
        let data = lines.join("\n") + "\n";
        let input = input(data.as_bytes());
        let out = pipeline().process(&input).unwrap();
        let mut events: Vec<(i64, String)> = Vec::new();
        for batch in &out.events {
            let message = batch
                .column(0)
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap();
            let line = batch
                .column(1)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap();
            for row in 0..batch.num_rows() {
                events.push((line.value(row), message.value(row).to_string()));
            }
        }
        // Every line is an event but the parts, the export of none, and the two of many.
        assert_eq!(lines.len() - 5 + 2, events.len());
        let first = (at + 1) as i64;
        let joined = events.iter().position(|(_, m)| m == "joined").unwrap();
        // At the place of its last part: after the stderr line between its parts.
        assert_eq!(
            (first, "joined"),
            (events[joined].0, events[joined].1.as_str())
        );
        assert_eq!("whole on stderr", events[joined - 1].1);
        assert_eq!(format!("line {}", at - 1), events[joined - 2].1);
        let line = (edge + 3) as i64;
        assert_eq!(
            vec![(line, "a".to_string()), (line, "b".to_string())],
            events[joined + 1..joined + 3]
        );
        // The sequence still open at the block's end: one event of its parts, last.
        let last = (lines.len() - 1) as i64;
        assert_eq!((last, "never ended".to_string()), events[events.len() - 1]);
        assert_eq!(1, out.rejects.num_rows());
        assert_eq!(Some(&1), out.reasons.get("no_records"));
        assert_eq!(Some(&2), out.formats.get("otlp").map(|c| &c[0]));
        assert_eq!(
            (edge + 2) as i64,
            out.rejects
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .value(0)
        );
    }
}
