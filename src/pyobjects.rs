//! Python values to JSON values and back, for the masker's entry that masks a Python event in
//! place (what logkit/mask.py hands it): cheaper than writing the event as JSON text for
//! the core to parse, and parsing what the core writes back.
//!
//! Only what JSON holds converts (None, bools, ints, floats, str, dicts with str keys, lists and
//! tuples, at most `DEEPEST` levels); anything else is refused (`None`), and the caller masks
//! the event through JSON text instead. Numbers keep their exact value: ints as their digits,
//! floats as the shortest text that reads back as the same float. NaN and infinities become
//! null, as orjson writes them.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::json::is_int_text;

/// Deeper than this a value is refused: the JSON path cuts it (logkit/mask.py).
const DEEPEST: usize = 600;

/// The JSON value of a Python value, or None for one that JSON does not hold.
pub fn to_value(obj: &Bound<'_, PyAny>, depth: usize) -> Option<Value> {
    if depth > DEEPEST {
        return None;
    }
    if obj.is_none() {
        return Some(Value::Null);
    }
    if let Ok(s) = obj.downcast_exact::<PyString>() {
        return s.to_str().ok().map(|s| Value::String(s.to_string()));
    }
    if let Ok(b) = obj.downcast_exact::<PyBool>() {
        return Some(Value::Bool(b.is_true()));
    }
    if obj.downcast_exact::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Some(Value::Number(i.into()));
        }
        let digits = obj.str().ok()?;
        return digits
            .to_str()
            .ok()?
            .parse::<Number>()
            .ok()
            .map(Value::Number);
    }
    if let Ok(f) = obj.downcast_exact::<PyFloat>() {
        return Some(Number::from_f64(f.value()).map_or(Value::Null, Value::Number));
    }
    if let Ok(dict) = obj.downcast_exact::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = k
                .downcast_exact::<PyString>()
                .ok()?
                .to_str()
                .ok()?
                .to_string();
            map.insert(key, to_value(&v, depth + 1)?);
        }
        return Some(Value::Object(map));
    }
    if let Ok(list) = obj.downcast_exact::<PyList>() {
        let items = list.iter().map(|v| to_value(&v, depth + 1));
        return items.collect::<Option<Vec<_>>>().map(Value::Array);
    }
    if let Ok(tuple) = obj.downcast_exact::<PyTuple>() {
        let items = tuple.iter().map(|v| to_value(&v, depth + 1));
        return items.collect::<Option<Vec<_>>>().map(Value::Array);
    }
    None
}

/// The Python value of a JSON value: ints as int (any size), other numbers as float.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            let text = n.as_str();
            if is_int_text(text) {
                match text.parse::<i64>() {
                    Ok(i) => i.into_pyobject(py)?.into_any(),
                    Err(_) => py.get_type::<PyInt>().call1((text,))?,
                }
            } else {
                text.parse::<f64>()
                    .unwrap_or(f64::NAN)
                    .into_pyobject(py)?
                    .into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}
