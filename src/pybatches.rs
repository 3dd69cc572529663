//! The core's tables as Python sees them: Arrow record batches behind the Arrow C stream
//! interface (PyCapsule), which DuckDB scans by name and pyarrow reads with `pa.table(x)`.
//!
//! An ingest stores blocks through these alone: with them it never loads pyarrow (and the
//! numpy it brings), a tenth of a second of CPU, a fifth of a small file's whole ingest.

use std::ffi::CString;
use std::sync::Arc;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use arrow_schema::ffi::FFI_ArrowSchema;
use arrow_schema::{ArrowError, SchemaRef};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyIterator};

fn stream_capsule<'py>(
    py: Python<'py>,
    reader: Box<dyn RecordBatchReader + Send>,
) -> PyResult<Bound<'py, PyCapsule>> {
    let stream = FFI_ArrowArrayStream::new(reader);
    PyCapsule::new(
        py,
        stream,
        Some(CString::new("arrow_array_stream").expect("no NUL")),
    )
}

fn schema_capsule<'py>(py: Python<'py>, schema: &SchemaRef) -> PyResult<Bound<'py, PyCapsule>> {
    let schema = FFI_ArrowSchema::try_from(schema.as_ref())
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    PyCapsule::new(
        py,
        schema,
        Some(CString::new("arrow_schema").expect("no NUL")),
    )
}

/// A table's record batches. Weakly referenced by a test that no block outlives its storing.
#[pyclass(frozen, weakref, module = "logkit._core")]
pub struct Batches {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl Batches {
    pub fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Batches {
        Batches { schema, batches }
    }
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
        stream_capsule(py, Box::new(reader))
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &self.schema)
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }

    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The bytes its buffers hold (what the store's budgets count).
    #[getter]
    fn nbytes(&self) -> usize {
        self.batches
            .iter()
            .map(RecordBatch::get_array_memory_size)
            .sum()
    }

    /// The batches of `parts` (one schema, at least one table) as one table.
    #[staticmethod]
    fn concat(parts: Vec<PyRef<'_, Batches>>) -> PyResult<Batches> {
        let schema = match parts.first() {
            Some(first) => first.schema.clone(),
            None => return Err(PyValueError::new_err("no tables to concatenate")),
        };
        let mut batches = Vec::new();
        for part in &parts {
            if part.schema != schema {
                return Err(PyValueError::new_err("tables of different schemas"));
            }
            batches.extend(part.batches.iter().cloned());
        }
        Ok(Batches::new(schema, batches))
    }
}

/// The batches of tables a Python iterator gives, read as the consumer asks for them: DuckDB
/// takes a transaction's blocks in one INSERT while the run still makes them. Every stream
/// exported reads on from the one iterator (DuckDB exports one to bind its statement).
#[pyclass(frozen, module = "logkit._core")]
pub struct Stream {
    schema: SchemaRef,
    tables: Arc<Py<PyIterator>>,
}

#[pymethods]
impl Stream {
    /// `tables`: an iterator of `Batches` of `like`'s schema.
    #[new]
    fn new(like: &Batches, tables: &Bound<'_, PyAny>) -> PyResult<Stream> {
        Ok(Stream {
            schema: like.schema.clone(),
            tables: Arc::new(tables.try_iter()?.unbind()),
        })
    }

    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let reader = PyTables {
            schema: self.schema.clone(),
            tables: Some(self.tables.clone()),
            pending: Vec::new().into_iter(),
        };
        stream_capsule(py, Box::new(reader))
    }

    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &self.schema)
    }
}

/// `Stream`'s reader: the next table taken from the iterator (with the GIL) when the last
/// one's batches are used up.
struct PyTables {
    schema: SchemaRef,
    tables: Option<Arc<Py<PyIterator>>>,
    pending: std::vec::IntoIter<RecordBatch>,
}

impl PyTables {
    /// The next table's batches; None at the end. A Python error ends the stream with its
    /// text (the iterator's owner keeps the exception itself: logkit/ingest/commit.py).
    fn next_table(&mut self) -> Option<Result<Vec<RecordBatch>, ArrowError>> {
        let tables = self.tables.as_ref()?;
        let next = Python::with_gil(|py| {
            let item = tables.bind(py).clone().next()?;
            Some(item.and_then(|table| {
                let table = table.downcast::<Batches>().map_err(PyErr::from)?.get();
                if table.schema != self.schema {
                    return Err(PyValueError::new_err("a table of another schema"));
                }
                Ok(table.batches.clone())
            }))
        });
        match next {
            None => {
                self.end();
                None
            }
            Some(Ok(batches)) => Some(Ok(batches)),
            Some(Err(error)) => {
                self.end();
                Some(Err(ArrowError::ExternalError(Box::new(error))))
            }
        }
    }

    fn end(&mut self) {
        if let Some(tables) = self.tables.take() {
            // The last reference drops a Python object: with the GIL (DuckDB may drop the
            // stream on a thread of its own).
            Python::with_gil(|_| drop(tables));
        }
    }
}

impl Iterator for PyTables {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(batch) = self.pending.next() {
                return Some(Ok(batch));
            }
            match self.next_table()? {
                Ok(batches) => self.pending = batches.into_iter(),
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

impl RecordBatchReader for PyTables {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl Drop for PyTables {
    fn drop(&mut self) {
        self.end();
    }
}
