//! The utilities of the package: `Dn`, `Filter`, `hash_password`, `verify_password` —
//! each a thin skin over the core's `dn`, `filter` and `password` modules.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::{is_attribute_description, AllowList, Clause, Filter, Op};
use heracles_core::password::{self, Scheme};
use heracles_core::schema::Schema;
use heracles_core::{Error, ErrorCode};
use pyo3::basic::CompareOp;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::errors::{to_py_err, IntoPyResult};

/// A distinguished name (RFC 4514): parsed, escaped by construction, compared by its
/// normalised form.
#[pyclass(frozen, name = "Dn", module = "heracles._heracles")]
#[derive(Debug, Clone)]
pub struct PyDn {
    dn: Dn,
}

impl PyDn {
    /// Its text (RFC 4514, as written by the core).
    pub fn text(&self) -> String {
        self.dn.to_string()
    }
}

/// A `Dn` or a `str` holding one.
fn dn_arg(obj: &Bound<'_, PyAny>) -> PyResult<Dn> {
    if let Ok(d) = obj.cast::<PyDn>() {
        return Ok(d.get().dn.clone());
    }
    let text: String = obj.extract()?;
    Dn::parse(&text).py_err(obj.py())
}

#[pymethods]
impl PyDn {
    #[new]
    fn new(py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<Self> {
        let _ = py;
        Ok(PyDn { dn: dn_arg(text)? })
    }

    /// The first RDN as text (`uid=jdoe`), `None` for the empty DN.
    #[getter]
    fn rdn(&self) -> Option<String> {
        self.dn.rdn().map(Rdn::to_string)
    }

    /// The attribute of the first RDN (`uid`).
    #[getter]
    fn rdn_attr(&self) -> Option<String> {
        self.dn.rdn().map(|r| r.attr().to_owned())
    }

    /// The value of the first RDN, unescaped (`j,doe`).
    #[getter]
    fn rdn_value(&self) -> Option<String> {
        self.dn.rdn().map(|r| r.value().to_owned())
    }

    /// The DN one level up; `None` for the empty DN.
    #[getter]
    fn parent(&self) -> Option<PyDn> {
        self.dn.parent().map(|dn| PyDn { dn })
    }

    /// Every RDN as text, first (leftmost) first.
    #[getter]
    fn rdns(&self) -> Vec<String> {
        self.dn.rdns().iter().map(Rdn::to_string).collect()
    }

    /// The normalised form equality and hashing use.
    #[getter]
    fn normalized(&self) -> String {
        self.dn.normalized()
    }

    /// The DN of the child `attr=value` (the value is escaped as needed).
    fn child(&self, py: Python<'_>, attr: &str, value: &str) -> PyResult<PyDn> {
        let rdn = Rdn::new(attr, value).py_err(py)?;
        Ok(PyDn {
            dn: self.dn.checked_child(rdn).py_err(py)?,
        })
    }

    /// Whether this DN is below `other` (not equal to it).
    fn is_descendant_of(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.dn.is_descendant_of(&dn_arg(other)?))
    }

    fn __str__(&self) -> String {
        self.dn.to_string()
    }

    fn __repr__(&self) -> String {
        format!("Dn({:?})", self.dn.to_string())
    }

    fn __len__(&self) -> usize {
        self.dn.len()
    }

    fn __hash__(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.dn.hash(&mut h);
        h.finish()
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let py = other.py();
        let Ok(other) = other.cast::<PyDn>() else {
            return py.NotImplemented();
        };
        let eq = self.dn == other.get().dn;
        match op {
            CompareOp::Eq => eq
                .into_pyobject(py)
                .map_or_else(|_| py.None(), |b| b.to_owned().into_any().unbind()),
            CompareOp::Ne => (!eq)
                .into_pyobject(py)
                .map_or_else(|_| py.None(), |b| b.to_owned().into_any().unbind()),
            _ => py.NotImplemented(),
        }
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let cls = slf.get_type();
        let args = PyTuple::new(py, [slf.get().dn.to_string()])?;
        PyTuple::new(py, [cls.into_any(), args.into_any()])
    }
}

/// What a [`PyFilter`] holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// An `attr:op:value` clause of the list API.
    Clause {
        attr: String,
        op: Op,
        value: Option<String>,
    },
    /// An RFC 4515 filter.
    Ldap(Filter),
}

/// A filter: an `attr:op:value` clause (what lists take), or an RFC 4515 filter.
#[pyclass(frozen, name = "Filter", module = "heracles._heracles")]
#[derive(Debug, Clone)]
pub struct PyFilter {
    kind: Kind,
}

impl PyFilter {
    /// Its text: the clause, or the RFC 4515 string.
    pub fn text(&self) -> String {
        match &self.kind {
            Kind::Clause { attr, op, value } => match value {
                Some(v) => format!("{attr}:{op}:{v}"),
                None => format!("{attr}:{op}"),
            },
            Kind::Ldap(f) => f.to_string(),
        }
    }

    fn clause(py: Python<'_>, text: &str) -> PyResult<PyFilter> {
        let c = Clause::parse(text).py_err(py)?;
        Ok(PyFilter {
            kind: Kind::Clause {
                attr: c.attr.to_owned(),
                op: c.op,
                value: c.value.map(str::to_owned),
            },
        })
    }

    fn build(py: Python<'_>, attr: &str, op: Op, value: Option<&str>) -> PyResult<PyFilter> {
        if !is_attribute_description(attr) {
            return Err(to_py_err(
                py,
                &Error::new(
                    ErrorCode::InvalidFilter,
                    format!("'{attr}' is not an attribute name"),
                )
                .with_detail("attribute", attr),
            ));
        }
        let text = match value {
            Some(v) => format!("{attr}:{op}:{v}"),
            None => format!("{attr}:{op}"),
        };
        Self::clause(py, &text)
    }
}

#[pymethods]
impl PyFilter {
    /// Parses `attr:op:value` (`cn:contains:john`, `mail:present`), or an RFC 4515 filter
    /// when the text starts with `(`.
    #[staticmethod]
    fn parse(py: Python<'_>, text: &str) -> PyResult<PyFilter> {
        if text.trim_start().starts_with('(') {
            return Ok(PyFilter {
                kind: Kind::Ldap(Filter::parse(text).py_err(py)?),
            });
        }
        Self::clause(py, text)
    }

    /// `attr:eq:value`.
    #[staticmethod]
    fn eq(py: Python<'_>, attr: &str, value: &str) -> PyResult<PyFilter> {
        Self::build(py, attr, Op::Eq, Some(value))
    }

    /// `attr:contains:value`.
    #[staticmethod]
    fn contains(py: Python<'_>, attr: &str, value: &str) -> PyResult<PyFilter> {
        Self::build(py, attr, Op::Contains, Some(value))
    }

    /// `attr:starts:value`.
    #[staticmethod]
    fn starts(py: Python<'_>, attr: &str, value: &str) -> PyResult<PyFilter> {
        Self::build(py, attr, Op::Starts, Some(value))
    }

    /// `attr:ends:value`.
    #[staticmethod]
    fn ends(py: Python<'_>, attr: &str, value: &str) -> PyResult<PyFilter> {
        Self::build(py, attr, Op::Ends, Some(value))
    }

    /// `attr:present`.
    #[staticmethod]
    fn present(py: Python<'_>, attr: &str) -> PyResult<PyFilter> {
        Self::build(py, attr, Op::Present, None)
    }

    /// The attribute of a clause (`None` for an RFC 4515 filter).
    #[getter]
    fn attribute(&self) -> Option<String> {
        match &self.kind {
            Kind::Clause { attr, .. } => Some(attr.clone()),
            Kind::Ldap(_) => None,
        }
    }

    /// The operator of a clause: `eq`, `contains`, `starts`, `ends` or `present`.
    #[getter]
    fn op(&self) -> Option<&'static str> {
        match &self.kind {
            Kind::Clause { op, .. } => Some(op.as_str()),
            Kind::Ldap(_) => None,
        }
    }

    /// The value of a clause (`None` for `present` and RFC 4515 filters).
    #[getter]
    fn value(&self) -> Option<String> {
        match &self.kind {
            Kind::Clause { value, .. } => value.clone(),
            Kind::Ldap(_) => None,
        }
    }

    /// Whether this is an `attr:op:value` clause (what lists accept).
    #[getter]
    fn is_clause(&self) -> bool {
        matches!(self.kind, Kind::Clause { .. })
    }

    /// The RFC 4515 form, values escaped. A substring operator on an attribute the schema
    /// gives no substring rule is an `InvalidFilterError`, as in lists.
    fn to_ldap(&self, py: Python<'_>) -> PyResult<String> {
        match &self.kind {
            Kind::Ldap(f) => Ok(f.to_string()),
            Kind::Clause { attr, op, value } => {
                let schema = Schema::builtin();
                let substring = schema.attribute(attr).is_none() || schema.has_substr(attr);
                let allow = AllowList::new([(attr.as_str(), attr.as_str(), substring)]);
                let clause = Clause {
                    attr,
                    op: *op,
                    value: value.as_deref(),
                };
                Ok(clause.to_filter(&allow).py_err(py)?.to_string())
            }
        }
    }

    fn __str__(&self) -> String {
        self.text()
    }

    fn __repr__(&self) -> String {
        format!("Filter.parse({:?})", self.text())
    }

    fn __hash__(&self) -> u64 {
        let mut h = DefaultHasher::new();
        self.text().hash(&mut h);
        h.finish()
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> Py<PyAny> {
        let py = other.py();
        let Ok(other) = other.cast::<PyFilter>() else {
            return py.NotImplemented();
        };
        let eq = self.kind == other.get().kind;
        match op {
            CompareOp::Eq => eq
                .into_pyobject(py)
                .map_or_else(|_| py.None(), |b| b.to_owned().into_any().unbind()),
            CompareOp::Ne => (!eq)
                .into_pyobject(py)
                .map_or_else(|_| py.None(), |b| b.to_owned().into_any().unbind()),
            _ => py.NotImplemented(),
        }
    }
}

/// Hashes a password in a scheme slapd verifies on bind (`argon2`, `ssha512`, `ssha256`,
/// `ssha`, `crypt`; the LDAP prefix `{ARGON2}` works too). Releases the GIL while hashing.
#[pyfunction]
#[pyo3(signature = (password, scheme = "argon2"))]
pub fn hash_password(py: Python<'_>, password: &str, scheme: &str) -> PyResult<String> {
    let scheme: Scheme = scheme.parse().py_err(py)?;
    let password = password.to_owned();
    py.detach(move || password::hash(&password, scheme))
        .py_err(py)
}

/// Whether `password` matches the stored value `hashed` (any scheme the core knows, or a
/// plain value). Releases the GIL while verifying.
#[pyfunction]
pub fn verify_password(py: Python<'_>, password: &str, hashed: &str) -> PyResult<bool> {
    let password = password.to_owned();
    let hashed = hashed.to_owned();
    py.detach(move || password::verify(&password, hashed.as_bytes()))
        .py_err(py)
}
