//! Events and rejects as Arrow record batches, with the columns logkit/schema.py names.
//!
//! The column list is not written down here: Python hands it over (EVENT_COLUMNS and the
//! reject schema) when it builds the core, and each name is mapped to what fills it, so a
//! column added to schema.py fails loudly here until the core knows how to fill it.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder, UInt32Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::errors::CoreError;
use crate::normalize::{field_index, Out, FIELDS};

/// What fills a column.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fill {
    Field(usize),
    Attrs,
    TraceKey,
    Source,
    Line,
    ByteOffset,
    Reason,
    Raw,
    Stream,
}

/// The Arrow type of a column type named as in schema.py (DuckDB's names).
fn arrow_type(type_: &str) -> Option<DataType> {
    Some(match type_ {
        "TIMESTAMPTZ" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        "VARCHAR" | "JSON" => DataType::Utf8,
        "DOUBLE" => DataType::Float64,
        "INTEGER" => DataType::Int32,
        "UINTEGER" => DataType::UInt32,
        "BIGINT" => DataType::Int64,
        "BOOLEAN" => DataType::Boolean,
        _ => return None,
    })
}

/// A stream id as the `stream` column holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamId {
    None,
    Int(i64),
    Str(String),
}

/// A table's columns: Arrow schema and what fills each column.
#[derive(Debug, Clone)]
pub struct Columns {
    pub schema: SchemaRef,
    fills: Vec<Fill>,
}

impl Columns {
    /// Columns named and typed as in schema.py; `rejects` says which table this is.
    pub fn new(columns: &[(String, String)], rejects: bool) -> Result<Columns, CoreError> {
        let mut fields = Vec::with_capacity(columns.len());
        let mut fills = Vec::with_capacity(columns.len());
        for (name, type_) in columns {
            let unknown = || CoreError::Schema {
                name: name.clone(),
                type_: type_.clone(),
            };
            let data_type = arrow_type(type_).ok_or_else(unknown)?;
            let fill = match (name.as_str(), rejects) {
                ("source", _) => Fill::Source,
                ("line", _) => Fill::Line,
                ("stream", _) => Fill::Stream,
                ("attrs", false) => Fill::Attrs,
                ("trace_key", false) => Fill::TraceKey,
                ("byte_offset", true) => Fill::ByteOffset,
                ("reason", true) => Fill::Reason,
                ("raw", true) => Fill::Raw,
                (other, false) => Fill::Field(field_index(other).ok_or_else(unknown)?),
                _ => return Err(unknown()),
            };
            // Each fill writes one Arrow type; anything else is a schema the core cannot fill.
            let expected = match fill {
                Fill::Field(i) => Some(field_type(FIELDS[i])),
                Fill::Attrs | Fill::Source | Fill::Reason | Fill::Raw => Some(DataType::Utf8),
                Fill::TraceKey => Some(DataType::UInt32),
                Fill::Line | Fill::ByteOffset => Some(DataType::Int64),
                Fill::Stream => None, // int or text, as the schema says
            };
            if let Some(expected) = expected {
                if expected != data_type {
                    return Err(unknown());
                }
            } else if !matches!(
                data_type,
                DataType::Int64 | DataType::Int32 | DataType::Utf8
            ) {
                return Err(unknown());
            }
            let mut field = Field::new(name, data_type, true);
            if type_ == "JSON" {
                // Arrow's JSON extension type: DuckDB then takes the text as its JSON type as
                // it is, instead of casting (parsing) each value, 5% of the insert's CPU. The
                // core writes attrs itself, always valid JSON.
                field = field.with_metadata(HashMap::from([
                    ("ARROW:extension:name".to_string(), "arrow.json".to_string()),
                    ("ARROW:extension:metadata".to_string(), String::new()),
                ]));
            }
            fields.push(field);
            fills.push(fill);
        }
        Ok(Columns {
            schema: Arc::new(Schema::new(fields)),
            fills,
        })
    }
}

fn field_type(field: &str) -> DataType {
    match field {
        "ts" => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        "duration_ms" | "cost_usd" => DataType::Float64,
        "status_code" => DataType::Int32,
        "input_tokens" | "output_tokens" => DataType::Int64,
        "cache_hit" => DataType::Boolean,
        _ => DataType::Utf8,
    }
}

/// One event, ready for its row.
pub struct EventRow<'a> {
    pub fields: [Option<Out<'a>>; FIELDS.len()],
    /// Where its attrs text is in the `attrs` of its `EventRows`.
    pub attrs: Range<usize>,
    pub trace_key: Option<u32>,
    pub line: i64,
}

/// A run of events, ready for their batch. Each row's attrs text is written into one buffer
/// for all (a String per row cost an allocation, its growth and its free per line, and its
/// copy into the batch read memory long since evicted), and the bytes of each canonical
/// field's text are added up as rows come (counted when the batch was built, the rows were
/// read twice from memory out of cache: a fifth of that function's own time).
#[derive(Default)]
pub struct EventRows<'a> {
    pub rows: Vec<EventRow<'a>>,
    attrs: String,
    bytes: [usize; FIELDS.len()],
}

impl<'a> EventRows<'a> {
    /// Room for `rows` rows and `attrs` bytes of their attrs text.
    pub fn with_capacity(rows: usize, attrs: usize) -> EventRows<'a> {
        EventRows {
            rows: Vec::with_capacity(rows),
            attrs: String::with_capacity(attrs),
            bytes: [0; FIELDS.len()],
        }
    }

    /// A row of `fields`, its attrs text what `attrs` appends to the string it is given.
    pub fn push(
        &mut self,
        fields: [Option<Out<'a>>; FIELDS.len()],
        attrs: impl FnOnce(&mut String),
        trace_key: Option<u32>,
        line: i64,
    ) {
        for (total, value) in self.bytes.iter_mut().zip(&fields) {
            if let Some(Out::Str(s)) = value {
                *total += s.len();
            }
        }
        let start = self.attrs.len();
        attrs(&mut self.attrs);
        self.rows.push(EventRow {
            fields,
            attrs: start..self.attrs.len(),
            trace_key,
            line,
        });
    }

    /// `other`'s rows, to be put among these (their attrs text and sizes are taken over).
    pub fn adopt(&mut self, other: EventRows<'a>) -> Vec<EventRow<'a>> {
        let shift = self.attrs.len();
        self.attrs.push_str(&other.attrs);
        for (total, more) in self.bytes.iter_mut().zip(other.bytes) {
            *total += more;
        }
        let mut rows = other.rows;
        for row in &mut rows {
            row.attrs = row.attrs.start + shift..row.attrs.end + shift;
        }
        rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// One rejected line.
pub struct RejectRow {
    pub line: i64,
    pub byte_offset: i64,
    pub reason: std::borrow::Cow<'static, str>,
    pub raw: String,
}

/// The block-wide values every row of a block shares.
pub struct Shared<'a> {
    pub source: &'a str,
    pub stream: &'a StreamId,
}

pub fn events_batch(
    columns: &Columns,
    events: &EventRows<'_>,
    shared: &Shared<'_>,
) -> Result<RecordBatch, CoreError> {
    let rows = &events.rows;
    let n = rows.len();
    let mut fields = field_arrays(columns, events).into_iter();
    batch(columns, |fill, field| match fill {
        Fill::Field(_) => fields.next().expect("an array per canonical column"),
        Fill::Attrs => {
            let mut b = StringBuilder::with_capacity(n, events.attrs.len());
            rows.iter()
                .for_each(|r| b.append_value(&events.attrs[r.attrs.clone()]));
            Arc::new(b.finish())
        }
        Fill::TraceKey => {
            let mut b = UInt32Builder::with_capacity(n);
            rows.iter().for_each(|r| b.append_option(r.trace_key));
            Arc::new(b.finish())
        }
        Fill::Line => {
            let mut b = Int64Builder::with_capacity(n);
            rows.iter().for_each(|r| b.append_value(r.line));
            Arc::new(b.finish())
        }
        Fill::Source => repeat_str(shared.source, n),
        Fill::Stream => stream_array(field.data_type(), shared.stream, n),
        Fill::ByteOffset | Fill::Reason | Fill::Raw => unreachable!("reject columns"),
    })
}

pub fn rejects_batch(
    columns: &Columns,
    rows: &[RejectRow],
    shared: &Shared<'_>,
) -> Result<RecordBatch, CoreError> {
    let n = rows.len();
    batch(columns, |fill, field| match fill {
        Fill::Source => repeat_str(shared.source, n),
        Fill::Line | Fill::ByteOffset => {
            let mut b = Int64Builder::with_capacity(n);
            for r in rows {
                b.append_value(if fill == Fill::Line {
                    r.line
                } else {
                    r.byte_offset
                });
            }
            Arc::new(b.finish())
        }
        Fill::Reason | Fill::Raw => {
            let mut b = StringBuilder::new();
            for r in rows {
                b.append_value(if fill == Fill::Reason {
                    r.reason.as_ref()
                } else {
                    r.raw.as_str()
                });
            }
            Arc::new(b.finish())
        }
        Fill::Stream => stream_array(field.data_type(), shared.stream, n),
        _ => unreachable!("event columns"),
    })
}

/// A batch of `columns`, each column's array made by `array` from what fills it and its field.
fn batch(
    columns: &Columns,
    mut array: impl FnMut(Fill, &Field) -> ArrayRef,
) -> Result<RecordBatch, CoreError> {
    let arrays = (columns.fills.iter().zip(columns.schema.fields()))
        .map(|(fill, field)| array(*fill, field))
        .collect();
    Ok(RecordBatch::try_new(columns.schema.clone(), arrays)?)
}

fn repeat_str(value: &str, n: usize) -> ArrayRef {
    let mut b = StringBuilder::with_capacity(n, value.len() * n);
    (0..n).for_each(|_| b.append_value(value));
    Arc::new(b.finish())
}

fn stream_array(data_type: &DataType, stream: &StreamId, n: usize) -> ArrayRef {
    match data_type {
        DataType::Utf8 => {
            let mut b = StringBuilder::with_capacity(n, 0);
            for _ in 0..n {
                match stream {
                    StreamId::Str(s) => b.append_value(s),
                    StreamId::Int(i) => b.append_value(i.to_string()),
                    StreamId::None => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        DataType::Int32 => {
            let mut b = Int32Builder::with_capacity(n);
            let value = match stream {
                StreamId::Int(i) => i32::try_from(*i).ok(),
                _ => None,
            };
            (0..n).for_each(|_| b.append_option(value));
            Arc::new(b.finish())
        }
        _ => {
            let mut b = Int64Builder::with_capacity(n);
            let value = match stream {
                StreamId::Int(i) => Some(*i),
                _ => None,
            };
            (0..n).for_each(|_| b.append_option(value));
            Arc::new(b.finish())
        }
    }
}

/// The canonical fields' columns, in the order `columns` has them, filled a row at a time:
/// filled a column at a time, every row (600 bytes) and every line a row's strings borrow
/// from was read again for each column and had fallen out of cache by then. Builders get
/// their whole size up front: grown as they filled, they copied their buffers over and over
/// and faulted in fresh pages each time (a tenth of an unmasked block's time).
fn field_arrays(columns: &Columns, events: &EventRows<'_>) -> Vec<ArrayRef> {
    let (rows, bytes) = (&events.rows, &events.bytes);
    let mut builders: Vec<(usize, FieldBuilder)> = (columns.fills.iter())
        .zip(columns.schema.fields())
        .filter_map(|(fill, field)| match fill {
            Fill::Field(i) => Some((
                *i,
                FieldBuilder::new(field.data_type(), rows.len(), bytes[*i]),
            )),
            _ => None,
        })
        .collect();
    for row in rows.iter() {
        for (i, builder) in builders.iter_mut() {
            builder.append(row.fields[*i].as_ref());
        }
    }
    builders.into_iter().map(|(_, b)| b.finish()).collect()
}

/// A canonical field's column being filled: a missing field or a value of another kind
/// than the column's is null.
enum FieldBuilder {
    Ts(TimestampMicrosecondBuilder),
    Float(Float64Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Bool(BooleanBuilder),
    Str(StringBuilder),
}

impl FieldBuilder {
    fn new(data_type: &DataType, rows: usize, bytes: usize) -> FieldBuilder {
        match data_type {
            DataType::Timestamp(..) => FieldBuilder::Ts(
                TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            ),
            DataType::Float64 => FieldBuilder::Float(Float64Builder::with_capacity(rows)),
            DataType::Int32 => FieldBuilder::Int32(Int32Builder::with_capacity(rows)),
            DataType::Int64 => FieldBuilder::Int64(Int64Builder::with_capacity(rows)),
            DataType::Boolean => FieldBuilder::Bool(BooleanBuilder::with_capacity(rows)),
            _ => FieldBuilder::Str(StringBuilder::with_capacity(rows, bytes)),
        }
    }

    fn append(&mut self, value: Option<&Out<'_>>) {
        match self {
            FieldBuilder::Ts(b) => b.append_option(value.and_then(as_int)),
            FieldBuilder::Float(b) => b.append_option(match value {
                Some(Out::Float(f)) => Some(*f),
                _ => None,
            }),
            FieldBuilder::Int32(b) => {
                b.append_option(value.and_then(as_int).and_then(|i| i32::try_from(i).ok()))
            }
            FieldBuilder::Int64(b) => b.append_option(value.and_then(as_int)),
            FieldBuilder::Bool(b) => b.append_option(match value {
                Some(Out::Bool(x)) => Some(*x),
                _ => None,
            }),
            FieldBuilder::Str(b) => match value {
                Some(Out::Str(s)) => b.append_value(s),
                _ => b.append_null(),
            },
        }
    }

    fn finish(mut self) -> ArrayRef {
        match &mut self {
            FieldBuilder::Ts(b) => Arc::new(b.finish()),
            FieldBuilder::Float(b) => Arc::new(b.finish()),
            FieldBuilder::Int32(b) => Arc::new(b.finish()),
            FieldBuilder::Int64(b) => Arc::new(b.finish()),
            FieldBuilder::Bool(b) => Arc::new(b.finish()),
            FieldBuilder::Str(b) => Arc::new(b.finish()),
        }
    }
}

fn as_int(v: &Out<'_>) -> Option<i64> {
    match v {
        Out::Int(i) => Some(*i),
        _ => None,
    }
}
