//! The lines of `[partial]` formats in a block (src/formats/partial.rs), once every slice has
//! read its lines: the sequences of parts are known only then, since one may span slices.
//! Each record they make (a line that is no part of a longer one, a sequence's parts joined,
//! a sequence the block leaves open) is read again from its raw lines and made events, at
//! the place of the line that ends it (open ones at the block's end), as process_chunk
//! keeps them; the slices do that work in parallel, each for the records that end in it.

use std::borrow::Cow;

use rayon::prelude::*;

use super::{pool, Pipeline, RejectRow, Slice};
use crate::formats::partial::{groups, insert_at, Group, Place};
use crate::formats::recognise::Decisions;
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
        let mut decisions = Decisions::default();
        let mut events = Vec::new();
        let mut rejects = Vec::new();
        for group in groups {
            let mut made = Slice::new(1);
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
                Made::One(event, format) => self.keep(&mut made, event, &format, &whole, line),
                Made::Many(many) => self.keep_all(&mut made, many, &whole, line, byte_offset),
                Made::Part(..) => unreachable!("a whole record is no part"),
            }
            slice.no_ts += made.no_ts;
            slice.newest = slice.newest.max(made.newest);
            for (detector, count) in made.masked {
                *slice.masked.entry(detector).or_insert(0) += count;
            }
            for (name, counts) in made.formats {
                let total = slice.formats.entry(name).or_default();
                for (total, count) in total.iter_mut().zip(counts) {
                    *total += count;
                }
            }
            events.push((group.at.event, made.events));
            rejects.push((group.at.reject, made.rejects));
        }
        insert_at(&mut slice.events, events);
        insert_at::<RejectRow>(&mut slice.rejects, rejects);
    }
}
