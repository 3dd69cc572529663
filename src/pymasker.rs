//! The masker on its own, as `logkit._core.Masker`: what logkit/mask.py drives for `logkit
//! mask`, `logkit user RAW_ID` (pseudonyms) and the masking helpers of the Python API, one
//! event, record or text at a time, with the masks counted per detector.

use std::collections::BTreeMap;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use serde_json::Value;

use crate::mask::{self, Counts, MaskConfig, MaskError};
use crate::pyobjects;

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
pub(crate) struct PyMasker {
    pub(crate) inner: Arc<mask::Masker>,
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
