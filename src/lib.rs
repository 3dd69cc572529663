//! logkit's native ingest core, as the Python module `logkit._core`.
//!
//! This file holds only the PyO3 bindings (the ingest core, and the masker of `mask/` on its
//! own for `logkit mask`-like uses and the differential tests); the work is in the modules below. The boundary
//! is one call per block: raw bytes in, Arrow record batches (through the Arrow C stream
//! interface) and per-block counts out, with the GIL released while the block is worked on.

pub mod arrow_out;
pub mod block;
pub mod errors;
pub mod formats;
#[cfg(any(test, feature = "harness"))]
pub mod harness;
pub mod hex;
pub mod json;
pub mod lines;
pub mod mask;
pub mod normalize;
pub mod pyobjects;
pub mod pytext;
pub mod spans;
pub mod timeparse;
pub mod tree;

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::Arc;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::SchemaRef;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyDict, PyString};
use serde_json::Value;

use crate::arrow_out::{Columns, StreamId};
use crate::block::{BlockInput, Pipeline};
use crate::errors::CoreError;
use crate::formats::Formats;
use crate::mask::{Counts, MaskConfig, MaskError};
use crate::normalize::{AliasTable, LateField, Normalizer};

fn to_py(error: CoreError) -> PyErr {
    match error {
        CoreError::Config(message) => PyValueError::new_err(message),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

/// A table's record batches, handed to pyarrow or DuckDB through `__arrow_c_stream__`.
#[pyclass(frozen, module = "logkit._core")]
struct Batches {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

#[pymethods]
impl Batches {
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is fixed by logkit/schema.py; a consumer asking for another gets this one.
        let _ = requested_schema;
        let reader = RecordBatchIterator::new(
            self.batches.clone().into_iter().map(Ok),
            self.schema.clone(),
        );
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new(
            py,
            stream,
            Some(CString::new("arrow_array_stream").expect("no NUL")),
        )
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        let schema = FFI_ArrowSchema::try_from(self.schema.as_ref())
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        PyCapsule::new(
            py,
            schema,
            Some(CString::new("arrow_schema").expect("no NUL")),
        )
    }

    fn __len__(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// What one block became: `events` and `rejects` tables and the block's counts.
#[pyclass(frozen, module = "logkit._core")]
struct Block {
    #[pyo3(get)]
    events: Py<Batches>,
    #[pyo3(get)]
    rejects: Py<Batches>,
    /// Per trace key, its events' first and last timestamp and whether any had none
    /// (src/spans.rs).
    #[pyo3(get)]
    spans: Py<Batches>,
    #[pyo3(get)]
    lines: u64,
    #[pyo3(get)]
    no_ts: u64,
    #[pyo3(get)]
    newest_ts: Option<i64>,
    /// The private key block open after the block (`key_block_after`), for the next.
    #[pyo3(get)]
    key_open: usize,
    reasons: BTreeMap<String, u64>,
    masked: BTreeMap<String, u64>,
    formats: formats::Coverage,
}

#[pymethods]
impl Block {
    /// Rejects per reason.
    #[getter]
    fn reasons<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (reason, count) in &self.reasons {
            dict.set_item(reason, count)?;
        }
        Ok(dict)
    }

    /// Masks per detector (empty without a masker).
    #[getter]
    fn masked<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (detector, count) in &self.masked {
            dict.set_item(detector, count)?;
        }
        Ok(dict)
    }

    /// Per format ("docker/zap" for an envelope's), [events, then events with each of ts,
    /// level, message, service, trace_id], for the summary's format coverage.
    #[getter]
    fn formats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, counts) in &self.formats {
            dict.set_item(name, counts.to_vec())?;
        }
        Ok(dict)
    }
}

/// The per-line pipeline for one ingest: columns, aliases; `process` runs a block.
#[pyclass(frozen, module = "logkit._core")]
struct Core {
    pipeline: Pipeline,
}

#[pymethods]
impl Core {
    /// `event_columns`/`reject_columns`: (name, DuckDB type) as logkit/schema.py lists them;
    /// `aliases`: the user's `[aliases]`, `table`: the built-in alias table, both as
    /// (group, names) rows, best first; `late`: the format's `[fields_last]` as (group,
    /// paths, patterns, keep) rows; `masker`: a `Masker` to mask every block with;
    /// `formats`: the log formats as logkit/core.py's `format_data` writes them (JSON),
    /// recognised per record (without: every record is read by `table` and `late`).
    #[new]
    #[pyo3(signature = (event_columns, reject_columns, aliases, table, late=Vec::new(), masker=None, formats=None))]
    fn new(
        event_columns: Vec<(String, String)>,
        reject_columns: Vec<(String, String)>,
        aliases: AliasTable,
        table: AliasTable,
        late: Vec<(String, Vec<String>, Vec<String>, bool)>,
        masker: Option<PyRef<'_, PyMasker>>,
        formats: Option<&str>,
    ) -> PyResult<Core> {
        let late: Vec<LateField> = late
            .into_iter()
            .map(|(group, paths, patterns, keep)| LateField {
                group,
                paths,
                patterns,
                keep,
            })
            .collect();
        let masker = masker.map(|m| m.inner.clone() as Arc<dyn block::EventMasker>);
        let pipeline = Pipeline {
            formats: match formats {
                None => {
                    Formats::plain(Normalizer::with_late(&aliases, &table, &late).map_err(to_py)?)
                }
                Some(data) => Formats::new(
                    &formats::spec::from_json(data).map_err(to_py)?,
                    &aliases,
                    &table,
                )
                .map_err(to_py)?,
            },
            events: Columns::new(&event_columns, false).map_err(to_py)?,
            rejects: Columns::new(&reject_columns, true).map_err(to_py)?,
            masker,
        };
        Ok(Core { pipeline })
    }

    /// One block of complete lines (the last may lack its newline).
    #[pyo3(signature = (data, source, first_line, first_offset, stream=None, max_line=None, extra_rejects=Vec::new(), in_key=0))]
    #[allow(clippy::too_many_arguments)]
    fn process(
        &self,
        py: Python<'_>,
        data: &[u8],
        source: &str,
        first_line: i64,
        first_offset: i64,
        stream: Option<Bound<'_, PyAny>>,
        max_line: Option<usize>,
        extra_rejects: Vec<(i64, i64, String, Vec<u8>)>,
        in_key: usize,
    ) -> PyResult<Block> {
        let stream = match stream {
            None => StreamId::None,
            Some(value) => match value.extract::<i64>() {
                Ok(id) => StreamId::Int(id),
                Err(_) => StreamId::Str(value.extract::<String>()?),
            },
        };
        let input = BlockInput {
            data,
            source,
            stream,
            first_line,
            first_offset,
            max_line,
            extra_rejects,
            in_key,
        };
        let output = py
            .allow_threads(|| self.pipeline.process(&input))
            .map_err(to_py)?;
        let events = Batches {
            schema: self.pipeline.events.schema.clone(),
            batches: output.events,
        };
        let rejects = Batches {
            schema: self.pipeline.rejects.schema.clone(),
            batches: vec![output.rejects],
        };
        let spans = Batches {
            schema: spans::schema(),
            batches: vec![output.spans],
        };
        Ok(Block {
            events: Py::new(py, events)?,
            rejects: Py::new(py, rejects)?,
            spans: Py::new(py, spans)?,
            lines: output.lines,
            no_ts: output.no_ts,
            newest_ts: output.newest_ts,
            key_open: output.key_open,
            reasons: output.reasons,
            masked: output.masked,
            formats: output.formats,
        })
    }

    /// Whether any format splits lines into parts ([partial]): then the reader asks
    /// `unfinished` where each block may end.
    #[getter]
    fn splits(&self) -> bool {
        self.pipeline.formats.splits()
    }

    /// Where a block of `chunk`'s lines (complete lines) may end so that no sequence of parts
    /// is cut: `len(chunk)` when they leave none open, else the start of the earliest sequence
    /// open or crossing that place, 0 when there is none but the first line
    /// (`formats::partial::unfinished`): the reader keeps the lines from there out of the
    /// block and its checkpoint.
    fn unfinished(&self, py: Python<'_>, chunk: &[u8]) -> usize {
        let formats = &self.pipeline.formats;
        py.allow_threads(|| {
            let mut decisions = formats.decisions();
            block::guarded(
                || {
                    let cut =
                        formats::partial::unfinished(chunk, formats::partial::WINDOW, |raw| {
                            formats.part_of_line(raw, &mut decisions)
                        });
                    formats.keep_decisions(decisions);
                    cut
                },
                // A bug in the scan holds nothing back: the parts are then stored as they are.
                || chunk.len(),
            )
        })
    }
}

/// Compile the formats of `data` (`format_data`'s JSON) with the built-in alias `table`:
/// a ValueError says why the core cannot read them as Python does.
#[pyfunction]
fn check_formats(data: &str, table: AliasTable) -> PyResult<()> {
    let data = formats::spec::from_json(data).map_err(to_py)?;
    Formats::new(&data, &Vec::new(), &table).map_err(to_py)?;
    Ok(())
}

/// JSON of any depth the pipeline accepts (serde's own limit is 128 levels).
fn parse<T: serde::de::DeserializeOwned>(text: &str) -> PyResult<T> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    T::deserialize(&mut deserializer).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn merge(into: &mut Counts, from: &Counts) {
    for (name, n) in from {
        *into.entry(name.clone()).or_default() += n;
    }
}

fn mask_error(e: MaskError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn strings(table: &serde_json::Map<String, Value>, name: &str) -> PyResult<Vec<String>> {
    match table.get(name) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    PyValueError::new_err(format!("[mask] {name} must be a list of strings"))
                })
            })
            .collect(),
        Some(_) => Err(PyValueError::new_err(format!(
            "[mask] {name} must be a list of strings"
        ))),
    }
}

/// The native masker: `Masker(table_json, key=None, field_aliases_json=None)`.
#[pyclass(name = "Masker", module = "logkit._core")]
struct PyMasker {
    inner: Arc<mask::Masker>,
    counts: Counts,
}

#[pymethods]
impl PyMasker {
    #[new]
    #[pyo3(signature = (table_json, key=None, field_aliases_json=None))]
    fn new(
        table_json: &str,
        key: Option<Vec<u8>>,
        field_aliases_json: Option<&str>,
    ) -> PyResult<Self> {
        let table: serde_json::Map<String, Value> =
            serde_json::from_str(table_json).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let detectors = match table.get("detectors") {
            None => Vec::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| v.as_str().map(|p| (k.clone(), p.to_string())))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    PyValueError::new_err("[mask] detectors must be a table of name = \"regex\"")
                })?,
            Some(_) => {
                return Err(PyValueError::new_err(
                    "[mask] detectors must be a table of name = \"regex\"",
                ))
            }
        };
        let field_aliases: Option<BTreeMap<String, Vec<String>>> = match field_aliases_json {
            None => None,
            Some(text) => {
                Some(serde_json::from_str(text).map_err(|e| PyValueError::new_err(e.to_string()))?)
            }
        };
        let config = MaskConfig {
            enabled: table
                .get("enabled")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            mode: table
                .get("mode")
                .and_then(Value::as_str)
                .unwrap_or("placeholder")
                .to_string(),
            keys: strings(&table, "keys")?,
            allow_keys: strings(&table, "allow_keys")?,
            disable: strings(&table, "disable")?,
            detectors,
            pseudonymize: strings(&table, "pseudonymize")?,
            fields: strings(&table, "fields")?,
            key,
            field_aliases,
        };
        let inner = Arc::new(mask::Masker::from_config(&config).map_err(mask_error)?);
        Ok(PyMasker {
            inner,
            counts: Counts::default(),
        })
    }

    /// Mask a normalised event given as JSON; returns the masked event as JSON.
    fn mask_event(&mut self, py: Python<'_>, event_json: &str) -> PyResult<String> {
        let mut event: serde_json::Map<String, Value> = parse(event_json)?;
        let mut counts = Counts::default();
        py.allow_threads(|| self.inner.mask_event(&mut event, &mut counts));
        merge(&mut self.counts, &counts);
        serde_json::to_string(&event).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    /// Mask a Python event (a dict of columns) in place, as `mask_event` masks its JSON text:
    /// only its str columns and `attrs` can change, and only those are handed over. False,
    /// with nothing done, for an event holding what JSON does not (the caller then goes
    /// through JSON text).
    fn mask_event_dict(&mut self, py: Python<'_>, event: &Bound<'_, PyDict>) -> PyResult<bool> {
        let mut columns = serde_json::Map::new();
        for (k, v) in event.iter() {
            let Some(name) = k
                .downcast_exact::<PyString>()
                .ok()
                .and_then(|k| k.to_str().ok())
            else {
                return Ok(false);
            };
            if name == "attrs" || v.downcast_exact::<PyString>().is_ok() {
                match pyobjects::to_value(&v, 0) {
                    Some(value) => columns.insert(name.to_string(), value),
                    None => return Ok(false),
                };
            }
        }
        let attrs = columns.get("attrs").cloned();
        let mut counts = Counts::default();
        let inner = &self.inner;
        py.allow_threads(|| inner.mask_event(&mut columns, &mut counts));
        merge(&mut self.counts, &counts);
        for (name, value) in &columns {
            let changed = match value {
                _ if name == "attrs" => attrs.as_ref() != Some(value),
                Value::String(s) => match event.get_item(name)? {
                    Some(old) => old.downcast_exact::<PyString>()?.to_str()? != s,
                    None => true,
                },
                _ => true,
            };
            if changed {
                event.set_item(name, pyobjects::to_py(py, value)?)?;
            }
        }
        Ok(true)
    }

    /// Mask any JSON value as a whole record (`logkit mask`); returns JSON.
    fn mask_record(&mut self, record_json: &str) -> PyResult<String> {
        let mut value: Value = parse(record_json)?;
        let mut counts = Counts::default();
        self.inner.mask_top(&mut value, &mut counts);
        merge(&mut self.counts, &counts);
        serde_json::to_string(&value).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    fn mask_text(&mut self, text: &str) -> String {
        let mut counts = Counts::default();
        let out = self.inner.mask_text(text, &mut counts);
        merge(&mut self.counts, &counts);
        out
    }

    /// Complete NDJSON lines masked as `logkit mask` writes them, on every core with the GIL
    /// released; `in_key`: the private key block state before them (None: not followed).
    /// Returns the masked bytes and the state after them.
    #[pyo3(signature = (data, in_key=None))]
    fn mask_ndjson<'py>(
        &mut self,
        py: Python<'py>,
        data: &[u8],
        in_key: Option<usize>,
    ) -> PyResult<(Bound<'py, PyBytes>, usize)> {
        let mut counts = Counts::default();
        let inner = &self.inner;
        let (pieces, still) =
            py.allow_threads(|| inner.mask_ndjson_pieces(data, in_key, &mut counts));
        merge(&mut self.counts, &counts);
        let total = pieces.iter().map(Vec::len).sum();
        let out = PyBytes::new_with(py, total, |buffer| {
            let mut at = 0;
            for piece in &pieces {
                buffer[at..at + piece.len()].copy_from_slice(piece);
                at += piece.len();
            }
            Ok(())
        })?;
        mask::Masker::recycle_pieces(pieces);
        Ok((out, still))
    }

    fn needs_masking(&self, raw: &[u8]) -> bool {
        self.inner.needs_masking(raw)
    }

    /// needs_masking over many lines at once (for timing without per-call overhead).
    fn count_needs_masking(&self, py: Python<'_>, lines: Vec<Vec<u8>>) -> usize {
        py.allow_threads(|| lines.iter().filter(|l| self.inner.needs_masking(l)).count())
    }

    /// mask_event over many events at once (for timing); returns the masked events as JSON.
    fn mask_events(&mut self, py: Python<'_>, events_json: Vec<String>) -> PyResult<Vec<String>> {
        let mut counts = Counts::default();
        let inner = &self.inner;
        let out = py.allow_threads(|| {
            events_json
                .iter()
                .map(|text| {
                    let mut event: serde_json::Map<String, Value> =
                        serde_json::from_str(text).map_err(|e| e.to_string())?;
                    inner.mask_event(&mut event, &mut counts);
                    serde_json::to_string(&event).map_err(|e| e.to_string())
                })
                .collect::<Result<Vec<String>, String>>()
        });
        merge(&mut self.counts, &counts);
        out.map_err(PyValueError::new_err)
    }

    /// Seconds spent by needs_masking over the lines, copied beforehand (for timing it alone).
    fn time_needs_masking(&self, py: Python<'_>, lines: Vec<Vec<u8>>) -> f64 {
        let inner = &self.inner;
        py.allow_threads(|| {
            let started = std::time::Instant::now();
            let flagged = lines.iter().filter(|l| inner.needs_masking(l)).count();
            std::hint::black_box(flagged);
            started.elapsed().as_secs_f64()
        })
    }

    /// Seconds spent masking the events, parsed beforehand (for timing the masking alone).
    fn time_mask_events(&self, py: Python<'_>, events_json: Vec<String>) -> PyResult<f64> {
        let mut events = events_json
            .iter()
            .map(|text| parse::<serde_json::Map<String, Value>>(text))
            .collect::<PyResult<Vec<_>>>()?;
        let inner = &self.inner;
        Ok(py.allow_threads(|| {
            let mut counts = Counts::default();
            let started = std::time::Instant::now();
            for event in events.iter_mut() {
                inner.mask_event(event, &mut counts);
            }
            started.elapsed().as_secs_f64()
        }))
    }

    fn pseudonym(&self, name: &str, value: &str) -> PyResult<String> {
        self.inner.pseudonym(name, value).map_err(mask_error)
    }

    #[getter]
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, n) in &self.counts {
            dict.set_item(name, n)?;
        }
        Ok(dict)
    }

    fn clear_counts(&mut self) {
        self.counts.clear();
    }

    #[getter]
    fn always(&self) -> bool {
        self.inner.always()
    }

    #[getter]
    fn masks_key_blocks(&self) -> bool {
        self.inner.masks_key_blocks()
    }
}

/// The indexes of the lines inside a private key block, and the state after them.
#[pyfunction]
#[pyo3(signature = (lines, inside=0))]
fn key_block_lines(lines: Vec<Bound<'_, PyBytes>>, inside: usize) -> (Vec<usize>, usize) {
    // Borrowed, not copied: a Vec<u8> is extracted from bytes one int at a time (0.1 s for
    // a block of 2 MB).
    let refs: Vec<&[u8]> = lines.iter().map(|line| line.as_bytes()).collect();
    mask::key_block_lines(&refs, inside)
}

/// The key block state after whole lines of data.
#[pyfunction]
#[pyo3(signature = (data, inside=0))]
fn key_block_after(data: &[u8], inside: usize) -> usize {
    mask::key_block_after(data, inside)
}

/// How many newlines a block holds: the reader's line count, without the GIL (CPython's
/// `bytes.count` holds it, and takes 0.12 s a million lines on the thread that stores them).
#[pyfunction]
fn count_lines(py: Python<'_>, data: &[u8]) -> usize {
    py.allow_threads(|| lines::count_newlines(data))
}

#[pyfunction]
fn normalise_key(name: &str) -> String {
    mask::normalise_key(name)
}

/// A format file's `[fields]` as an alias table: (group, names) rows in file order.
#[pyfunction]
fn alias_table_from_toml(text: &str) -> PyResult<AliasTable> {
    normalize::alias_table_from_toml(text).map_err(to_py)
}

/// The records one line of an `[explode]` format holds, each as `attrs` text would write it,
/// or None for a line that is no record (formats.py's `exploded`: the differential tests).
#[pyfunction]
fn exploded_records(
    path: &str,
    inherit: Vec<(String, String)>,
    decode: Vec<(String, String)>,
    line: &[u8],
) -> PyResult<Option<Vec<String>>> {
    let spec =
        formats::explode::ExplodeSpec::new("[explode]", path, &inherit, &decode).map_err(to_py)?;
    Ok(json::parse_record(line).ok().map(|record| {
        spec.records(&record)
            .iter()
            .map(json::dumps_record)
            .collect()
    }))
}

/// The alias groups the normaliser converts, as (group, field, keep) rows.
#[pyfunction]
fn alias_groups() -> Vec<(&'static str, &'static str, bool)> {
    normalize::alias_groups()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(alias_table_from_toml, m)?)?;
    m.add_function(wrap_pyfunction!(alias_groups, m)?)?;
    m.add_function(wrap_pyfunction!(check_formats, m)?)?;
    m.add_class::<Core>()?;
    m.add_class::<Block>()?;
    m.add_class::<Batches>()?;
    m.add_class::<PyMasker>()?;
    m.add_function(wrap_pyfunction!(key_block_lines, m)?)?;
    m.add_function(wrap_pyfunction!(key_block_after, m)?)?;
    m.add_function(wrap_pyfunction!(normalise_key, m)?)?;
    m.add_function(wrap_pyfunction!(count_lines, m)?)?;
    // The masker's vocabulary, for logkit/mask.py to name in its API and messages.
    m.add("BUILTIN_DETECTORS", mask::BUILTIN_DETECTORS.to_vec())?;
    m.add("SENSITIVE_KEYS", mask::SENSITIVE_KEYS.to_vec())?;
    m.add("PARAM_NAMES", mask::PARAM_NAMES.to_vec())?;
    m.add("KEY_LINE", mask::KEY_LINE)?;
    m.add("KEY_MARK", PyBytes::new(m.py(), mask::KEY_MARK))?;
    m.add("KEY_BLOCK_BYTES", mask::KEY_BLOCK_BYTES)?;
    m.add_function(wrap_pyfunction!(exploded_records, m)?)?;
    Ok(())
}
