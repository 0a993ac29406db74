//! The state shared by every request: configuration, the directory, the core services over
//! it ([`Heracles`]), token keys, the failed-login counters and the pre-rendered OpenAPI
//! document; and the [`bootstrap`] hook run at every start.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use heracles_core::directory::{Bind, Directory, EmbeddedDirectory, LdapConfig, LdapDirectory};
use heracles_core::error::{Error, ErrorCode, Result};
use heracles_core::service::{BootstrapReport, Heracles};

use crate::auth::{Throttle, Tokens};
use crate::config::{Config, DirectoryConfig, LdapBind, Secret, MIN_SECRET_BYTES};
use crate::{openapi, router};

/// The environment variable with the bootstrap administrator's password.
pub const ADMIN_PASSWORD_ENV: &str = "HERACLES_ADMIN_PASSWORD";

/// How long the bootstrap may take at startup before it continues in the background.
pub const BOOTSTRAP_WAIT: Duration = Duration::from_secs(5);
/// Delay between bootstrap attempts while the directory is unreachable.
pub const BOOTSTRAP_RETRY: Duration = Duration::from_secs(5);
/// Least time between two purges of expired sessions by one instance.
pub const SESSION_PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// Name of the file keeping the generated token secret in the data folder.
pub const JWT_SECRET_FILE: &str = "jwt-secret";

/// Which kind of directory is in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// The embedded directory in this folder.
    Embedded(PathBuf),
    /// The LDAP server at this URL.
    Ldap(String),
}

/// Shared by every request (behind an `Arc`).
pub struct AppState {
    config: Config,
    directory: Arc<dyn Directory>,
    heracles: Heracles,
    backend: Backend,
    jwt_secrets: Vec<Secret>,
    openapi_json: Bytes,
    tokens: Tokens,
    throttle: Throttle,
    last_purge: AtomicU64,
}

impl fmt::Debug for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("backend", &self.backend)
            .field("jwt_secrets", &self.jwt_secrets.len())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Opens the directory the configuration names and assembles the state.
    ///
    /// Embedded mode opens (creating) the data folder, which stays locked by this process,
    /// and reads or generates the token secret. LDAP mode prepares the connection pool
    /// without contacting the server (the server checks it at startup, see
    /// [`crate::server`]).
    pub fn open(config: Config) -> Result<AppState> {
        let (directory, backend, jwt_secrets): (Arc<dyn Directory>, _, _) = match &config.directory
        {
            DirectoryConfig::Embedded { data_dir } => {
                let dir = EmbeddedDirectory::open(data_dir, &config.base_dn)?;
                let secrets = if config.jwt_secrets.is_empty() {
                    vec![load_or_create_secret(data_dir)?]
                } else {
                    config.jwt_secrets.clone()
                };
                (Arc::new(dir), Backend::Embedded(data_dir.clone()), secrets)
            }
            DirectoryConfig::Ldap(l) => {
                let bind = match &l.bind {
                    LdapBind::Simple { dn, password } => Bind::Simple {
                        dn: dn.clone(),
                        password: password.expose().to_owned(),
                    },
                    LdapBind::SaslExternal => Bind::SaslExternal,
                };
                let mut ldap = LdapConfig::new(&l.url, bind)
                    .with_starttls(l.starttls)
                    .with_connect_timeout(l.connect_timeout)
                    .with_operation_timeout(l.operation_timeout);
                if let Some(ca) = &l.ca_file {
                    ldap = ldap.with_ca_file(ca);
                }
                let dir = LdapDirectory::new(ldap)?;
                (
                    Arc::new(dir),
                    Backend::Ldap(l.url.clone()),
                    config.jwt_secrets.clone(),
                )
            }
        };
        Self::with_directory(config, directory, backend, jwt_secrets)
    }

    /// The state over an already opened directory (tests, embedding the server).
    pub fn with_directory(
        config: Config,
        directory: Arc<dyn Directory>,
        backend: Backend,
        jwt_secrets: Vec<Secret>,
    ) -> Result<AppState> {
        if jwt_secrets.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                "no token signing secret is configured",
            ));
        }
        let openapi_json = openapi::render(router::ROUTES)?;
        let tokens = Tokens::new(&jwt_secrets)?;
        let heracles = Heracles::new(directory.clone(), config.base_dn.clone());
        heracles.set_list_cache(config.list_cache);
        heracles.set_read_cache(config.read_cache);
        heracles.set_user_replica(config.user_replica);
        Ok(AppState {
            config,
            directory,
            heracles,
            backend,
            jwt_secrets,
            openapi_json,
            tokens,
            throttle: Throttle::default(),
            last_purge: AtomicU64::new(0),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The directory.
    pub fn directory(&self) -> &Arc<dyn Directory> {
        &self.directory
    }

    /// The core services over the directory.
    pub fn heracles(&self) -> &Heracles {
        &self.heracles
    }

    /// Which directory is in use.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Token secrets; the first signs, all verify.
    pub fn jwt_secrets(&self) -> &[Secret] {
        &self.jwt_secrets
    }

    /// The OpenAPI document, serialised once at startup.
    pub fn openapi_json(&self) -> &Bytes {
        &self.openapi_json
    }

    /// Token signing and verification.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Failed-login counters of this instance.
    pub fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// Deletes expired sessions, at most once per [`SESSION_PURGE_INTERVAL`] per instance,
    /// in the background (called on logins).
    pub fn maybe_purge_sessions(&self) {
        let now = heracles_core::service::sessions::now_secs();
        let last = self.last_purge.load(Ordering::Relaxed);
        if now.saturating_sub(last) < SESSION_PURGE_INTERVAL.as_secs() {
            return;
        }
        if self
            .last_purge
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let h = self.heracles.clone();
        tokio::spawn(async move {
            match h.sessions().purge_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "purged expired sessions"),
                Err(e) => {
                    tracing::warn!(code = %e.code(), error = %e.message(), "purging expired sessions failed");
                }
            }
        });
    }
}

/// Creates what the directory needs before the API is usable: the SPEC §4 tree and, while
/// no administrator exists, the bootstrap administrator `uid=admin`, whose password is
/// `HERACLES_ADMIN_PASSWORD` or, when that is unset, generated and printed once on standard
/// output. Runs at every start, after the directory is open and before requests are
/// accepted.
///
/// A directory that cannot be reached (or does not answer within [`BOOTSTRAP_WAIT`]) does
/// not stop the start: the server starts degraded and the bootstrap is retried in the
/// background every [`BOOTSTRAP_RETRY`] until it succeeds. Any other failure (e.g. an
/// administrator password the password policy refuses) stops the start.
pub async fn bootstrap(state: &AppState) -> Result<()> {
    let password = std::env::var(ADMIN_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty());
    let h = state.heracles().clone();
    match tokio::time::timeout(BOOTSTRAP_WAIT, h.bootstrap(password.as_deref())).await {
        Ok(Ok(report)) => {
            announce(&report);
            Ok(())
        }
        Ok(Err(e)) if retryable(&e) => {
            tracing::warn!(code = %e.code(), error = %e.message(), "bootstrap failed; retrying in the background");
            retry_in_background(h, password);
            Ok(())
        }
        Ok(Err(e)) if e.code() == ErrorCode::ValidationFailed => Err(e
            .with_code(ErrorCode::InvalidConfig)
            .with_detail("setting", ADMIN_PASSWORD_ENV)),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            tracing::warn!(
                wait_ms = BOOTSTRAP_WAIT.as_millis(),
                "the directory did not finish the bootstrap in time; retrying in the background"
            );
            retry_in_background(h, password);
            Ok(())
        }
    }
}

fn retryable(e: &Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::DirectoryUnavailable | ErrorCode::Timeout
    )
}

fn retry_in_background(h: Heracles, password: Option<String>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(BOOTSTRAP_RETRY).await;
            match h.bootstrap(password.as_deref()).await {
                Ok(report) => {
                    announce(&report);
                    tracing::info!("bootstrap done");
                    return;
                }
                Err(e) if retryable(&e) => {
                    tracing::debug!(code = %e.code(), "bootstrap: the directory is still unreachable");
                }
                Err(e) => {
                    tracing::error!(code = %e.code(), error = %e.message(), "bootstrap failed");
                    return;
                }
            }
        }
    });
}

/// Logs what the bootstrap created and prints a generated administrator password once.
fn announce(report: &BootstrapReport) {
    if !report.created.is_empty() {
        tracing::info!(
            entries = report.created.len(),
            "bootstrap created missing entries"
        );
    }
    if report.admin_created {
        let dn = report
            .admin_dn
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        if let Some(pw) = &report.generated_password {
            println!(
                "heracles-server: created the administrator {dn} (login 'admin') with the \
                 generated password: {pw}\nheracles-server: it is shown only this once; \
                 set {ADMIN_PASSWORD_ENV} on the first start to choose it instead"
            );
        } else {
            tracing::info!(admin = %dn, "created the administrator with the password from {ADMIN_PASSWORD_ENV}");
        }
    }
}

/// Hex digits of the generated secret (32 random bytes).
fn random_secret() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::internal(format!("no randomness for the token secret: {e}")))?;
    Ok(crate::hex(&bytes))
}

/// Reads `<data_dir>/jwt-secret`, or creates it (mode 0600) with a random secret.
pub fn load_or_create_secret(data_dir: &Path) -> Result<Secret> {
    let path = data_dir.join(JWT_SECRET_FILE);
    let io_err = |what: &str, e: std::io::Error| {
        Error::new(
            ErrorCode::InvalidConfig,
            format!(
                "cannot {what} the token secret file {}: {e}",
                path.display()
            ),
        )
    };
    match fs::read_to_string(&path) {
        Ok(text) => {
            let secret = text.trim();
            if secret.len() < MIN_SECRET_BYTES {
                return Err(Error::new(
                    ErrorCode::InvalidConfig,
                    format!(
                        "the token secret in {} is shorter than {MIN_SECRET_BYTES} bytes; \
                         delete the file to generate a new one (this logs everyone out)",
                        path.display()
                    ),
                ));
            }
            return Ok(Secret::new(secret));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("read", e)),
    }
    let secret = random_secret()?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(|e| io_err("create", e))?;
    file.write_all(secret.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(|e| io_err("write", e))?;
    tracing::info!(file = %path.display(), "generated a new token signing secret");
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_secret(dir.path()).unwrap();
        assert_eq!(a.expose().len(), 64);
        let b = load_or_create_secret(dir.path()).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(JWT_SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(dir.path().join(JWT_SECRET_FILE), "short\n").unwrap();
        let e = load_or_create_secret(dir.path()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidConfig);
    }
}
