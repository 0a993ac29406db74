//! Python bindings of Heracles: the compiled module `heracles._heracles`.
//!
//! The Python package `heracles` (in `python/heracles/`) is the API people use; this module
//! is its engine, kept thin and generic:
//!
//! - [`Core`]: one directory (embedded or LDAP) with a tokio runtime, and the principal
//!   calls act as. `Core.call("users.get", {"uid": "jdoe"})` runs one core operation
//!   ([`ops`]) with the GIL released (`py.detach`) and answers the JSON the REST server
//!   would answer, as Python objects ([`convert`]).
//! - `Dn`, `Filter`, `hash_password`, `verify_password` ([`util`]).
//! - Core errors become the package's exception classes in one place ([`errors`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use heracles_core::acl::CompiledAcl;
use heracles_core::directory::{EmbeddedDirectory, LdapConfig, LdapDirectory};
use heracles_core::dn::Dn;
use heracles_core::error::{Error, ErrorCode, Result};
use heracles_core::page::PageRequest;
use heracles_core::service::{BootstrapReport, Heracles, ListQuery, Principal};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

mod convert;
mod errors;
mod ops;
mod util;

use errors::IntoPyResult;
use ops::{Answer, Args};

/// A directory and the runtime its calls run on; shared by every `Core` of one
/// `open`/`connect` (and by the clients of `as_user`).
#[derive(Debug)]
struct Shared {
    h: Heracles,
    rt: tokio::runtime::Runtime,
    /// `embedded:<folder>` or the LDAP URL.
    target: String,
}

/// Who the calls of a `Core` act as.
#[derive(Debug, Clone)]
enum Acting {
    /// A fixed principal: the directory's owner (embedded), or a service account.
    Fixed(Principal),
    /// A user: its principal is taken from the core's ACL cache at each call, so changes
    /// to its assignments and groups apply as they do on the server.
    User(Dn),
}

impl Acting {
    async fn principal(&self, h: &Heracles) -> Result<Principal> {
        match self {
            Acting::Fixed(p) => Ok(p.clone()),
            Acting::User(dn) => h.principal(dn).await,
        }
    }
}

/// The embedded directories open in this process, by folder: opening one folder twice
/// shares it (two writers on one folder would corrupt it).
static EMBEDDED: Mutex<Vec<(PathBuf, Weak<Shared>)>> = Mutex::new(Vec::new());

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("heracles")
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the runtime: {e}")))
}

fn invalid_config(message: String) -> Error {
    Error::new(ErrorCode::InvalidConfig, message)
}

/// Opens (or joins) the embedded directory in `folder`.
fn open_shared(folder: &Path, base: &Dn) -> Result<Arc<Shared>> {
    std::fs::create_dir_all(folder).map_err(|e| {
        invalid_config(format!(
            "cannot create the data folder '{}': {e}",
            folder.display()
        ))
    })?;
    let folder = folder.canonicalize().map_err(|e| {
        invalid_config(format!(
            "cannot open the data folder '{}': {e}",
            folder.display()
        ))
    })?;
    let mut open = EMBEDDED.lock().unwrap_or_else(PoisonError::into_inner);
    open.retain(|(_, w)| w.strong_count() > 0);
    if let Some(shared) = open
        .iter()
        .find(|(p, _)| *p == folder)
        .and_then(|(_, w)| w.upgrade())
    {
        if shared.h.base() != base {
            return Err(invalid_config(format!(
                "'{}' is already open with the base DN '{}'",
                folder.display(),
                shared.h.base()
            )));
        }
        return Ok(shared);
    }
    let dir = EmbeddedDirectory::open(&folder, base)?;
    let shared = Arc::new(Shared {
        h: Heracles::new(Arc::new(dir), base.clone()),
        rt: runtime()?,
        target: format!("embedded:{}", folder.display()),
    });
    open.push((folder, Arc::downgrade(&shared)));
    Ok(shared)
}

/// One client's handle on a directory: what `heracles.Client` wraps.
#[pyclass(frozen, module = "heracles._heracles")]
#[derive(Debug)]
struct Core {
    /// `None` once closed.
    shared: Mutex<Option<Arc<Shared>>>,
    acting: Acting,
}

impl Core {
    fn new(shared: Arc<Shared>, acting: Acting) -> Self {
        Core {
            shared: Mutex::new(Some(shared)),
            acting,
        }
    }

    fn shared(&self) -> PyResult<Arc<Shared>> {
        self.shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| PyValueError::new_err("the client is closed"))
    }

    /// Runs `f` on the runtime with the GIL released.
    fn run<T, F, Fut>(&self, py: Python<'_>, f: F) -> PyResult<T>
    where
        T: Send,
        F: FnOnce(Arc<Shared>, Acting) -> Fut + Send,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let shared = self.shared()?;
        let acting = self.acting.clone();
        py.detach(move || {
            let rt_owner = Arc::clone(&shared);
            rt_owner.rt.block_on(f(shared, acting))
        })
        .py_err(py)
    }
}

fn answer_to_py(py: Python<'_>, answer: Answer) -> PyResult<Py<PyAny>> {
    Ok(match answer {
        Answer::Unit => py.None(),
        Answer::Value(v) | Answer::Page(v) => convert::to_py(py, &v)?.unbind(),
        Answer::Object(v, etag) => {
            let value = convert::to_py(py, &v)?;
            PyTuple::new(py, [value, etag.into_pyobject(py)?.into_any()])?
                .into_any()
                .unbind()
        }
    })
}

fn report_dict(py: Python<'_>, report: BootstrapReport) -> PyResult<Bound<'_, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("created", report.created.len())?;
    dict.set_item("admin_created", report.admin_created)?;
    dict.set_item("admin_dn", report.admin_dn.map(|d| d.to_string()))?;
    dict.set_item("generated_password", report.generated_password)?;
    Ok(dict)
}

#[pymethods]
impl Core {
    /// Opens the embedded directory in `data_dir` (created when missing) and runs the core's
    /// bootstrap (idempotent). Answers the core and the bootstrap report.
    #[staticmethod]
    #[pyo3(signature = (data_dir, base_dn, admin_password = None))]
    fn open_embedded<'py>(
        py: Python<'py>,
        data_dir: PathBuf,
        base_dn: &str,
        admin_password: Option<String>,
    ) -> PyResult<(Core, Bound<'py, PyDict>)> {
        let base = Dn::parse(base_dn).py_err(py)?;
        let (shared, report) = py
            .detach(move || -> Result<_> {
                let shared = open_shared(&data_dir, &base)?;
                let report = shared
                    .rt
                    .block_on(shared.h.bootstrap(admin_password.as_deref()))?;
                Ok((shared, report))
            })
            .py_err(py)?;
        let dict = report_dict(py, report)?;
        // The owner of the folder owns the directory: the core's system principal.
        let owner = Principal::system(shared.h.base());
        Ok((Core::new(shared, Acting::Fixed(owner)), dict))
    }

    /// Connects to an LDAP server (simple bind as `bind_dn`), checks the bind, and reads the
    /// stored settings. Acts as the bind identity: a user entry acts with its own ACL, any
    /// other account (a service account) as the directory's owner.
    #[staticmethod]
    #[pyo3(signature = (url, bind_dn, password, base_dn, ca_file = None, starttls = false, timeout = 10.0))]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
        url: &str,
        bind_dn: &str,
        password: &str,
        base_dn: &str,
        ca_file: Option<PathBuf>,
        starttls: bool,
        timeout: f64,
    ) -> PyResult<Core> {
        let base = Dn::parse(base_dn).py_err(py)?;
        let bind = Dn::parse(bind_dn).py_err(py)?;
        if !(timeout.is_finite() && timeout > 0.0) {
            return Err(PyValueError::new_err(
                "timeout must be a positive number of seconds",
            ));
        }
        let mut config = LdapConfig::simple(url, bind_dn, password);
        config.ca_file = ca_file;
        config.starttls = starttls;
        config.operation_timeout = Duration::from_secs_f64(timeout);
        config.connect_timeout = Duration::from_secs_f64(timeout.min(5.0));
        let url = url.to_owned();
        let (shared, acting) = py
            .detach(move || -> Result<_> {
                let rt = runtime()?;
                let (h, acting) = rt.block_on(async {
                    let dir = LdapDirectory::connect(config).await?;
                    let h = Heracles::new(Arc::new(dir), base);
                    h.attach().await?;
                    let entry = h.directory().get(&bind, &["objectClass"]).await?;
                    let is_user =
                        entry.is_some_and(|e| e.has_value("objectClass", "inetOrgPerson"));
                    let acting = if is_user {
                        Acting::User(bind)
                    } else {
                        let acl = Arc::new(CompiledAcl::allow_all(bind.clone()));
                        Acting::Fixed(Principal::with_acl(bind, None, acl))
                    };
                    Ok::<_, Error>((h, acting))
                })?;
                Ok((Arc::new(Shared { h, rt, target: url }), acting))
            })
            .py_err(py)?;
        Ok(Core::new(shared, acting))
    }

    /// Runs the core's bootstrap on this directory (idempotent): creates whatever part of
    /// the tree is missing and, while no administrator exists, `uid=admin` with
    /// `admin_password` (or a generated one, in the report).
    #[pyo3(signature = (admin_password = None))]
    fn bootstrap<'py>(
        &self,
        py: Python<'py>,
        admin_password: Option<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let report = self.run(py, move |shared, _| async move {
            shared.h.bootstrap(admin_password.as_deref()).await
        })?;
        report_dict(py, report)
    }

    /// Runs the operation `op` (see `OPERATIONS`) with its arguments; answers `None`, a
    /// value, `(object, etag)` for single objects, or a page `{"data", "pagination"}`.
    #[pyo3(signature = (op, args = None))]
    fn call(
        &self,
        py: Python<'_>,
        op: String,
        args: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let args = Args::new(convert::map_from_py(args)?);
        let answer = self.run(py, move |shared, acting| async move {
            let p = acting.principal(&shared.h).await?;
            ops::dispatch(&shared.h, &p, &op, &args).await
        })?;
        answer_to_py(py, answer)
    }

    /// A core acting as the user `user` (a uid or a DN), with its ACL; shares this one's
    /// directory.
    fn as_user(&self, py: Python<'_>, user: String) -> PyResult<Core> {
        let shared = self.shared()?;
        let dn = self.run(py, move |shared, _| async move {
            let h = &shared.h;
            if user.contains('=') {
                let dn = Dn::parse(&user)?;
                match h.directory().get(&dn, &["objectClass"]).await? {
                    Some(e) if e.has_value("objectClass", "inetOrgPerson") => Ok(dn),
                    _ => Err(
                        Error::new(ErrorCode::UserNotFound, format!("User '{dn}' not found"))
                            .with_detail("dn", dn.to_string()),
                    ),
                }
            } else {
                Ok(h.users().get(&Principal::system(h.base()), &user).await?.dn)
            }
        })?;
        Ok(Core::new(shared, Acting::User(dn)))
    }

    /// Who calls act as: `{"dn", "uid", "admin"}`.
    fn principal<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = self.run(py, |shared, acting| async move {
            acting.principal(&shared.h).await
        })?;
        let dict = PyDict::new(py);
        dict.set_item("dn", p.dn.to_string())?;
        dict.set_item("uid", p.uid)?;
        dict.set_item("admin", p.admin)?;
        Ok(dict)
    }

    /// Where the directory is: `embedded:<folder>` or the LDAP URL.
    #[getter]
    fn target(&self) -> PyResult<String> {
        Ok(self.shared()?.target.clone())
    }

    /// The base DN.
    #[getter]
    fn base_dn(&self) -> PyResult<String> {
        Ok(self.shared()?.h.base().to_string())
    }

    /// Whether `close` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// Lets go of the directory: its connections (LDAP) or files (embedded) close when the
    /// last core using them is closed or dropped. Idempotent.
    fn close(&self, py: Python<'_>) {
        let taken = self
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Dropping the last reference stops the runtime: do it without the GIL.
        py.detach(move || drop(taken));
    }

    /// Benchmark support: lists every user the same way `users.iter(page_size=limit)` does,
    /// from Rust only (no conversion to Python). Answers `(seconds, users)`.
    fn _bench_list_users(&self, py: Python<'_>, limit: i64) -> PyResult<(f64, usize)> {
        self.run(py, move |shared, acting| async move {
            let p = acting.principal(&shared.h).await?;
            let started = Instant::now();
            let mut seen = 0usize;
            let mut offset = 0i64;
            loop {
                let q = ListQuery {
                    page: PageRequest::new(limit, offset)?,
                    ..ListQuery::default()
                };
                let page = shared.h.users().list(&p, &q).await?;
                seen += page.data.len();
                if !page.pagination.has_more || page.data.is_empty() {
                    break;
                }
                offset += i64::try_from(page.data.len()).unwrap_or(i64::MAX);
            }
            Ok((started.elapsed().as_secs_f64(), seen))
        })
    }
}

/// The version of the Heracles core this module was built from.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The compiled module.
#[pymodule]
fn _heracles(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(version, m)?)?;
    m.add_function(wrap_pyfunction!(util::hash_password, m)?)?;
    m.add_function(wrap_pyfunction!(util::verify_password, m)?)?;
    m.add_class::<Core>()?;
    m.add_class::<util::PyDn>()?;
    m.add_class::<util::PyFilter>()?;
    m.add("OPERATIONS", ops::OPERATIONS.to_vec())?;
    Ok(())
}
