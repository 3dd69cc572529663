//! logkit's native ingest core, as the Python module `logkit._core`.
//!
//! This file holds only the PyO3 bindings of the ingest core (the masker of `mask/` on its own,
//! for `logkit mask`-like uses, is bound in pymasker.rs); the work is in the modules below.
//! The boundary is one call per block: raw bytes in, Arrow record batches (through the Arrow
//! C stream interface) and per-block counts out, with the GIL released while the block is
//! worked on.

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
mod pybatches;
mod pymasker;
pub mod pyobjects;
pub mod pytext;
pub mod spans;
pub mod syslog;
pub mod timeparse;
pub mod tree;

use std::collections::BTreeMap;
use std::sync::Arc;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::arrow_out::{Columns, StreamId};
use crate::block::{BlockInput, Pipeline};
use crate::errors::CoreError;
use crate::formats::Formats;
use crate::normalize::{AliasTable, LateField, Normalizer};
use crate::pybatches::{Batches, Stream};
use crate::pymasker::PyMasker;

fn to_py(error: CoreError) -> PyErr {
    match error {
        CoreError::Config(message) => PyValueError::new_err(message),
        other => PyRuntimeError::new_err(other.to_string()),
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
        let events = Batches::new(self.pipeline.events.schema.clone(), output.events);
        let rejects = Batches::new(self.pipeline.rejects.schema.clone(), vec![output.rejects]);
        let spans = Batches::new(spans::schema(), vec![output.spans]);
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
    m.add_class::<Stream>()?;
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
