//! Core errors -> Python exceptions, in one place.
//!
//! Every `heracles_core::Error` crossing into Python becomes an instance of
//! `heracles.HeraclesError` (or the subclass its code maps to), built by the package's
//! `heracles._errors._from_core(code, message, details)`; the mapping from codes to classes
//! lives there, beside the classes. Should the package not be importable (the compiled
//! module used on its own), the error is a `RuntimeError` with the same text.

use heracles_core::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyAny;

use crate::convert;

static FROM_CORE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The Python exception of a core error.
pub fn to_py_err(py: Python<'_>, e: &Error) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let factory = FROM_CORE.import(py, "heracles._errors", "_from_core")?;
        let details = convert::object(py, e.details())?;
        let exc = factory.call1((e.code().as_str(), e.message(), details))?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|_| PyRuntimeError::new_err(e.to_string()))
}

/// `Result<T, heracles_core::Error>` -> `PyResult<T>`.
pub trait IntoPyResult<T> {
    /// Converts the error, if any.
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for heracles_core::Result<T> {
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py_err(py, &e))
    }
}
