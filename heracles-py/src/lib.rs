//! Python bindings of Heracles: the compiled module `heracles._heracles`.
//!
//! The Python package (`import heracles`) arrives with the Python issue; today the module
//! exposes the version and the DN / filter utilities of the core.

use pyo3::prelude::*;

/// The version of the Heracles core this module was built from.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The compiled module.
#[pymodule]
fn _heracles(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
