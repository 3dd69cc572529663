//! Where in time each trace of a block lies, for the store's `trace_spans`
//! (logkit/tracespans.py): per trace key, the first and last timestamp of the block's events
//! filed under it, and whether any had none.
//!
//! Gathered as events are kept, on the thread that makes them. Taken in Python from each
//! block's Arrow columns instead, the (trace_key, ts) pairs were selected and copied on the
//! core's thread (0.06 us a line, ~2% of that thread, the run's longest chain), and DuckDB
//! grouped every event's pair again at each commit, on the thread that stores; now it groups
//! a row per trace and block.

use std::sync::{Arc, OnceLock};

use arrow_array::builder::{BooleanBuilder, TimestampMicrosecondBuilder, UInt32Builder};
use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    first: Option<i64>,
    last: Option<i64>,
    untimed: bool,
}

impl Span {
    fn widen(&mut self, other: Span) {
        self.first = earliest(self.first, other.first);
        self.last = self.last.max(other.last);
        self.untimed |= other.untimed;
    }
}

/// The earlier of two timestamps, a missing one not counting (as SQL's `min`).
fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The spans of a block's traces so far, by trace key.
#[derive(Debug, Default)]
pub struct Spans(FxHashMap<u32, Span>);

impl Spans {
    /// An event of trace `key` at `ts` (microseconds since the epoch; None: untimed).
    pub fn add(&mut self, key: u32, ts: Option<i64>) {
        let span = Span {
            first: ts,
            last: ts,
            untimed: ts.is_none(),
        };
        self.0
            .entry(key)
            .and_modify(|known| known.widen(span))
            .or_insert(span);
    }

    /// `other`'s spans joined to these.
    pub fn merge(&mut self, other: Spans) {
        if self.0.is_empty() {
            self.0 = other.0;
            return;
        }
        for (key, span) in other.0 {
            self.0
                .entry(key)
                .and_modify(|known| known.widen(span))
                .or_insert(span);
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One row per trace, in no order: (trace_key, first_ts, last_ts, untimed).
    pub fn batch(&self) -> RecordBatch {
        let n = self.0.len();
        let mut keys = UInt32Builder::with_capacity(n);
        let mut firsts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
        let mut lasts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
        let mut untimed = BooleanBuilder::with_capacity(n);
        for (key, span) in &self.0 {
            keys.append_value(*key);
            firsts.append_option(span.first);
            lasts.append_option(span.last);
            untimed.append_value(span.untimed);
        }
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(keys.finish()),
                Arc::new(firsts.finish()),
                Arc::new(lasts.finish()),
                Arc::new(untimed.finish()),
            ],
        )
        .expect("columns as the schema says")
    }
}

/// The spans' columns, as `trace_spans` has them.
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
            Arc::new(Schema::new(vec![
                Field::new("trace_key", DataType::UInt32, false),
                Field::new("first_ts", ts.clone(), true),
                Field::new("last_ts", ts, true),
                Field::new("untimed", DataType::Boolean, false),
            ]))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, BooleanArray, TimestampMicrosecondArray, UInt32Array};

    fn rows(spans: &Spans) -> Vec<(u32, Option<i64>, Option<i64>, bool)> {
        let batch = spans.batch();
        let column = |i: usize| batch.column(i).clone();
        let keys = column(0);
        let keys = keys.as_any().downcast_ref::<UInt32Array>().unwrap();
        let firsts = column(1);
        let firsts = firsts
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        let lasts = column(2);
        let lasts = lasts
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .unwrap();
        let untimed = column(3);
        let untimed = untimed.as_any().downcast_ref::<BooleanArray>().unwrap();
        let value = |a: &TimestampMicrosecondArray, i: usize| (!a.is_null(i)).then(|| a.value(i));
        let mut out: Vec<_> = (0..batch.num_rows())
            .map(|i| {
                (
                    keys.value(i),
                    value(firsts, i),
                    value(lasts, i),
                    untimed.value(i),
                )
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_trace_spans_from_its_first_to_its_last_timed_event() {
        let mut spans = Spans::default();
        for (key, ts) in [(7, Some(30)), (7, Some(10)), (9, Some(5)), (7, Some(20))] {
            spans.add(key, ts);
        }
        assert_eq!(
            rows(&spans),
            [(7, Some(10), Some(30), false), (9, Some(5), Some(5), false)]
        );
    }

    #[test]
    fn an_untimed_event_marks_its_trace_and_leaves_its_times_alone() {
        let mut spans = Spans::default();
        spans.add(1, None);
        spans.add(2, Some(4));
        spans.add(2, None);
        assert_eq!(
            rows(&spans),
            [(1, None, None, true), (2, Some(4), Some(4), true)]
        );
    }

    #[test]
    fn merged_spans_are_those_of_all_the_events_added_to_either() {
        let (mut a, mut b, mut both) = (Spans::default(), Spans::default(), Spans::default());
        for (key, ts) in [(1, Some(8)), (2, None), (3, Some(1))] {
            a.add(key, ts);
            both.add(key, ts);
        }
        for (key, ts) in [(1, Some(2)), (2, Some(6)), (4, Some(9))] {
            b.add(key, ts);
            both.add(key, ts);
        }
        a.merge(b);
        assert_eq!(rows(&a), rows(&both));
        assert_eq!(a.len(), 4);
    }
}
