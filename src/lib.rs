//! logkit's native ingest core, as the Python module `logkit._core`.
//!
//! This file holds only the PyO3 bindings; the work is in the modules below. The boundary
//! is one call per block: raw bytes in, Arrow record batches (through the Arrow C stream
//! interface) and per-block counts out, with the GIL released while the block is worked on.

pub mod arrow_out;
pub mod block;
pub mod errors;
pub mod json;
pub mod lines;
pub mod normalize;
pub mod pytext;
pub mod timeparse;
pub mod tree;

use std::collections::BTreeMap;
use std::ffi::CString;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::SchemaRef;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};

use crate::arrow_out::{Columns, StreamId};
use crate::block::{BlockInput, Pipeline};
use crate::errors::CoreError;
use crate::normalize::{AliasTable, Normalizer};

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
    #[pyo3(get)]
    lines: u64,
    #[pyo3(get)]
    no_ts: u64,
    #[pyo3(get)]
    newest_ts: Option<i64>,
    reasons: BTreeMap<String, u64>,
    masked: BTreeMap<String, u64>,
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

    /// Masks per detector (no masker is plugged in from Python yet: empty).
    #[getter]
    fn masked<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (detector, count) in &self.masked {
            dict.set_item(detector, count)?;
        }
        Ok(dict)
    }

    /// Lines per recognised format (format recognition is not in the core yet: empty).
    #[getter]
    fn formats<'py>(&self, py: Python<'py>) -> Bound<'py, PyDict> {
        PyDict::new(py)
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
    /// (group, names) rows, best first.
    #[new]
    fn new(
        event_columns: Vec<(String, String)>,
        reject_columns: Vec<(String, String)>,
        aliases: AliasTable,
        table: AliasTable,
    ) -> PyResult<Core> {
        let pipeline = Pipeline {
            normalizer: Normalizer::new(&aliases, &table).map_err(to_py)?,
            events: Columns::new(&event_columns, false).map_err(to_py)?,
            rejects: Columns::new(&reject_columns, true).map_err(to_py)?,
            masker: None,
        };
        Ok(Core { pipeline })
    }

    /// One block of complete lines (the last may lack its newline).
    #[pyo3(signature = (data, source, first_line, first_offset, stream=None, max_line=None, extra_rejects=Vec::new()))]
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
        Ok(Block {
            events: Py::new(py, events)?,
            rejects: Py::new(py, rejects)?,
            lines: output.lines,
            no_ts: output.no_ts,
            newest_ts: output.newest_ts,
            reasons: output.reasons,
            masked: output.masked,
        })
    }
}

/// A format file's `[fields]` as an alias table: (group, names) rows in file order.
#[pyfunction]
fn alias_table_from_toml(text: &str) -> PyResult<AliasTable> {
    normalize::alias_table_from_toml(text).map_err(to_py)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(alias_table_from_toml, m)?)?;
    m.add_class::<Core>()?;
    m.add_class::<Block>()?;
    m.add_class::<Batches>()?;
    Ok(())
}
