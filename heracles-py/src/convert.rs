//! Python objects <-> JSON values: the one shape in which arguments enter the core and
//! answers leave it (the same JSON the REST server reads and writes).
//!
//! In: `None`, `bool`, `int`, `float` (finite), `str`, `dict` with `str` keys, `list` and
//! `tuple`, and the module's own [`PyDn`] and [`PyFilter`] (as their text). Anything else
//! is a `TypeError` naming the type; nesting deeper than [`MAX_DEPTH`] (a cycle) is a
//! `ValueError`.
//!
//! Out: JSON objects become `dict`, arrays `list`, numbers `int` (or `float`).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::util::{PyDn, PyFilter};

/// Deepest nesting accepted from Python (answers are never deeper than a few levels).
pub const MAX_DEPTH: usize = 64;

/// A JSON value as a Python object.
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => number(py, n)?,
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => object(py, map)?.into_any(),
    })
}

/// A JSON object as a `dict`.
pub fn object<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    for (k, v) in map {
        dict.set_item(PyString::new(py, k), to_py(py, v)?)?;
    }
    Ok(dict)
}

fn number<'py>(py: Python<'py>, n: &Number) -> PyResult<Bound<'py, PyAny>> {
    if let Some(i) = n.as_i64() {
        return Ok(i.into_pyobject(py)?.into_any());
    }
    if let Some(u) = n.as_u64() {
        return Ok(u.into_pyobject(py)?.into_any());
    }
    Ok(PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any())
}

/// A Python object as a JSON value (see the module docs for what is accepted).
pub fn from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    from_py_at(obj, 0)
}

/// A Python `dict` (or `None`: empty) as a JSON object.
pub fn map_from_py(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Map<String, Value>> {
    match obj {
        None => Ok(Map::new()),
        Some(o) if o.is_none() => Ok(Map::new()),
        Some(o) => match from_py(o)? {
            Value::Object(m) => Ok(m),
            _ => Err(PyTypeError::new_err(format!(
                "expected a dict, got {}",
                type_name(o)
            ))),
        },
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

fn from_py_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "value nested deeper than {MAX_DEPTH} levels (a cycle?)"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    // bool before int: True is an int in Python.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyValueError::new_err(format!(
            "integer {obj} is out of range"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let x = f.value();
        return Number::from_f64(x).map(Value::Number).ok_or_else(|| {
            PyValueError::new_err(format!("{x} cannot be sent: only finite numbers can"))
        });
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let key = k.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!("dict keys must be str, got {}", type_name(&k)))
            })?;
            map.insert(key.to_cow()?.into_owned(), from_py_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l
            .iter()
            .map(|item| from_py_at(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t
            .iter()
            .map(|item| from_py_at(&item, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Ok(dn) = obj.cast::<PyDn>() {
        return Ok(Value::String(dn.get().text()));
    }
    if let Ok(f) = obj.cast::<PyFilter>() {
        return Ok(Value::String(f.get().text()));
    }
    Err(PyTypeError::new_err(format!(
        "cannot send a {} to the directory: use str, int, float, bool, None, list or dict",
        type_name(obj)
    )))
}
