//! Configuration of [`LdapDirectory`](super::LdapDirectory).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::dn::Dn;

/// How the pooled connections authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum Bind {
    /// No bind (anonymous); only for read-only use.
    Anonymous,
    /// Simple bind with a DN and password (use TLS unless on loopback or ldapi).
    Simple {
        /// The service account's DN.
        dn: Dn,
        /// Its password.
        password: String,
    },
    /// SASL EXTERNAL: the identity of the transport (ldapi peer credentials, or a TLS client
    /// certificate).
    SaslExternal,
}

impl fmt::Debug for Bind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bind::Anonymous => f.write_str("Anonymous"),
            Bind::Simple { dn, .. } => f
                .debug_struct("Simple")
                .field("dn", &dn.to_string())
                .field("password", &"<redacted>")
                .finish(),
            Bind::SaslExternal => f.write_str("SaslExternal"),
        }
    }
}

/// Everything [`LdapDirectory`](super::LdapDirectory) needs to reach a server.
///
/// URLs: `ldap://host:port` (plain, or StartTLS with [`LdapConfig::starttls`]),
/// `ldaps://host:port` and `ldapi://%2Fpath%2Fto%2Fsocket`.
#[derive(Debug, Clone)]
pub struct LdapConfig {
    /// Server URL.
    pub url: String,
    /// How pooled connections bind.
    pub bind: Bind,
    /// Upgrade `ldap://` connections with StartTLS.
    pub starttls: bool,
    /// PEM file of the CA(s) that signed the server certificate; without it the system's
    /// trust store is used.
    pub ca_file: Option<PathBuf>,
    /// Connections kept open for the service account (default 8). Each carries up to four
    /// operations at once; an operation that needs a connection alone (a search of more
    /// than one page) may open up to as many again while all are busy, closed once idle
    /// for `health_check_after`.
    pub pool_size: usize,
    /// Time limit for opening and binding a connection (default 5 s).
    pub connect_timeout: Duration,
    /// Time limit for one operation, all included: waiting for a free pooled connection,
    /// probing idle ones, opening a new one, the operation and its one retry (default 10 s).
    pub operation_timeout: Duration,
    /// A pooled connection idle for longer than this is probed (WhoAmI) before reuse
    /// (default 5 s); a connection whose server went away is always replaced.
    pub health_check_after: Duration,
    /// Page size of the paged-results control for searches (default 500).
    pub page_size: u32,
}

impl LdapConfig {
    /// A configuration with a simple bind and the defaults above.
    pub fn simple(url: &str, bind_dn: &str, password: &str) -> Self {
        let bind = match Dn::parse(bind_dn) {
            Ok(dn) => Bind::Simple {
                dn,
                password: password.to_owned(),
            },
            // An unparsable bind DN surfaces as INVALID_DN at connect time.
            Err(_) => Bind::Simple {
                dn: Dn::root(),
                password: password.to_owned(),
            },
        };
        Self::new(url, bind)
    }

    /// A configuration with the given bind and the defaults above.
    pub fn new(url: &str, bind: Bind) -> Self {
        LdapConfig {
            url: url.to_owned(),
            bind,
            starttls: false,
            ca_file: None,
            pool_size: 8,
            connect_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(10),
            health_check_after: Duration::from_secs(5),
            page_size: 500,
        }
    }

    /// Builder: use StartTLS.
    #[must_use]
    pub fn with_starttls(mut self, on: bool) -> Self {
        self.starttls = on;
        self
    }

    /// Builder: trust this CA file.
    #[must_use]
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Builder: pool size.
    #[must_use]
    pub fn with_pool_size(mut self, n: usize) -> Self {
        self.pool_size = n.max(1);
        self
    }

    /// Builder: operation timeout.
    #[must_use]
    pub fn with_operation_timeout(mut self, d: Duration) -> Self {
        self.operation_timeout = d;
        self
    }

    /// Builder: connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Builder: page size for searches.
    #[must_use]
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 100_000);
        self
    }
}
