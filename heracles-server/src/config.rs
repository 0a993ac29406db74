//! Configuration: a TOML file, the environment and command-line flags.
//!
//! Every setting has one name used in three places:
//!
//! | where | form | example |
//! |---|---|---|
//! | TOML file (`--config FILE` or `HERACLES_CONFIG`) | `name = value` | `listen = "0.0.0.0:8000"` |
//! | environment | `HERACLES_<NAME>` | `HERACLES_LISTEN=0.0.0.0:8000` |
//! | flag | `--name-with-dashes` | `--listen 0.0.0.0:8000` |
//!
//! Flags override the environment, which overrides the file, which overrides the defaults.
//! An empty environment variable counts as unset. Unknown keys in the file are errors.
//!
//! | setting | default | meaning |
//! |---|---|---|
//! | `listen` | `127.0.0.1:8000` | address and port to listen on (port 0: any free port) |
//! | `data_dir` | `./heracles-data` | folder of the embedded directory (when no `ldap_url`) |
//! | `base_dn` | `dc=example,dc=com` | the naming context Heracles manages |
//! | `ldap_url` | — | `ldap://`, `ldaps://` or `ldapi://` URL: use that LDAP server |
//! | `bind_dn` | — | the service account's DN (LDAP mode; without it, `ldapi://` uses SASL EXTERNAL) |
//! | `bind_password_file` | — | file holding the service account's password (or `HERACLES_BIND_PASSWORD`) |
//! | `ca_file` | — | PEM file of the CA(s) of the LDAP server's certificate |
//! | `starttls` | `false` | upgrade `ldap://` with StartTLS |
//! | `ldap_connect_timeout` | `5s` | time limit for opening and binding one LDAP connection |
//! | `ldap_timeout` | `10s` | time limit of one LDAP operation, all included: the wait for a pooled connection, checking or opening one, the operation and its retry |
//! | `jwt_secret` | generated (embedded mode) | token signing secret(s), comma-separated; the first signs |
//! | `jwt_secret_file` | — | file holding the secret(s), comma- or newline-separated (instead of `jwt_secret`) |
//! | `log_format` | `text` | `text` or `json` (logs go to standard error) |
//! | `max_body_bytes` | `1MiB` | largest request body: bytes, or with `KiB`/`MiB` |
//! | `request_timeout` | `30s` | time limit of one request (`ms`, `s`, `m`; a bare number is seconds) |
//! | `shutdown_timeout` | `30s` | how long a shutdown waits for in-flight requests |
//! | `header_read_timeout` | `10s` | time a client has to send a request's headers (also how long an idle connection is kept open); slow clients are disconnected |
//! | `max_connections` | `1024` | connections served at once; past it, new connections wait in the listen queue (1024 long) until one closes |
//! | `cors_origins` | — (CORS off) | comma-separated origins (`https://admin.example.com`) allowed to call the API from a browser |
//! | `tls_cert_file` | — | PEM certificate chain: serve HTTPS instead of HTTP (with `tls_key_file`) |
//! | `tls_key_file` | — | PEM private key of `tls_cert_file` |
//! | `list_cache` | `true` | cache the sorted DNs of lists, checked against the directory's change marker (see `heracles_core::service::lists`); `false`: every list asks the directory (sort + VLV controls where offered) |
//! | `read_cache` | `16384` | entries the cache of reads holds in all (gets and list pages, checked against the directory's change marker; see `heracles_core::service::reads`); `0`: every get and page reads the directory |
//! | `user_replica` | `200000` | most users the in-memory copy of users holds (an LDAP server keeping `memberOf`; followed through the change log; see `heracles_core::service::replica`); with more users it is not made; `0`: off |
//!
//! The bind password is never a flag (flags show in `ps`): it comes from
//! `bind_password_file` (any layer) or `HERACLES_BIND_PASSWORD`; when both are given at the
//! same level, that is an error, otherwise the higher level wins as for any setting.
//!
//! The token secret, too, is best kept out of flags: `HERACLES_JWT_SECRET`, the config file
//! or `jwt_secret_file`. `jwt_secret` and `jwt_secret_file` follow the same precedence as
//! any setting; both at the same level is an error.
//!
//! In LDAP mode a `jwt_secret` is required: every instance serving the same directory must
//! sign with the same secret. In embedded mode without one, a random secret is generated on
//! the first start and kept in `<data_dir>/jwt-secret` (mode 0600).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use heracles_core::dn::Dn;

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";
/// Default folder of the embedded directory.
pub const DEFAULT_DATA_DIR: &str = "./heracles-data";
/// Default base DN.
pub const DEFAULT_BASE_DN: &str = "dc=example,dc=com";
/// Default request body limit (1 MiB, SPEC §1).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default request time limit.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time limit for opening and binding one LDAP connection.
pub const DEFAULT_LDAP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default time limit of one LDAP operation.
pub const DEFAULT_LDAP_TIMEOUT: Duration = Duration::from_secs(10);
/// Default bound on waiting for in-flight requests at shutdown.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a client has to send a request's headers.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of connections served at once.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Shortest accepted JWT secret, in bytes (HS256 wants at least its output size).
pub const MIN_SECRET_BYTES: usize = 32;

/// Largest accepted `max_body_bytes`.
const MAX_BODY_LIMIT: usize = 1024 * 1024 * 1024;
/// Longest accepted request or shutdown timeout.
const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// Largest accepted `max_connections`.
const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;
/// Largest `read_cache` accepted (entries).
const READ_CACHE_LIMIT: usize = 10_000_000;
/// Largest `user_replica` accepted (users).
const USER_REPLICA_LIMIT: usize = 100_000_000;

/// Every setting key, as written in the TOML file. The environment variable is
/// `HERACLES_` + the key in upper case, the flag `--` + the key with dashes.
pub const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "base_dn",
    "ldap_url",
    "bind_dn",
    "bind_password_file",
    "ca_file",
    "starttls",
    "ldap_connect_timeout",
    "ldap_timeout",
    "jwt_secret",
    "jwt_secret_file",
    "log_format",
    "max_body_bytes",
    "request_timeout",
    "shutdown_timeout",
    "header_read_timeout",
    "max_connections",
    "cors_origins",
    "tls_cert_file",
    "tls_key_file",
    "list_cache",
    "read_cache",
    "user_replica",
];

/// The environment variable holding the bind password itself (environment only).
pub const BIND_PASSWORD_ENV: &str = "HERACLES_BIND_PASSWORD";
/// The environment variable naming the configuration file (like `--config`).
pub const CONFIG_ENV: &str = "HERACLES_CONFIG";

/// The command line. Every option is optional: what is not given comes from the
/// environment, the file or the defaults.
#[derive(Debug, Clone, Default, Parser)]
#[command(
    name = "heracles-server",
    version,
    about = "The Heracles REST server: manage an LDAP directory over HTTP (API under /api/v1, docs at /docs)",
    after_help = "Every option can also be set in the environment as HERACLES_<NAME> (e.g. \
HERACLES_LISTEN, HERACLES_LDAP_URL) or in the TOML file given by --config as `name = value` \
(e.g. ldap_url = \"ldaps://ldap.example.com\"). Flags override the environment, which overrides \
the file. The LDAP bind password comes from --bind-password-file or HERACLES_BIND_PASSWORD. \
Without --ldap-url, an embedded directory is kept in --data-dir."
)]
pub struct Args {
    /// TOML configuration file [env: HERACLES_CONFIG]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port [default: 127.0.0.1:8000]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// Folder of the embedded directory (used without --ldap-url) [default: ./heracles-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Base DN managed by Heracles [default: dc=example,dc=com]
    #[arg(long, value_name = "DN")]
    pub base_dn: Option<String>,
    /// URL of an LDAP server (ldap://, ldaps://, ldapi://); switches to LDAP mode
    #[arg(long, value_name = "URL")]
    pub ldap_url: Option<String>,
    /// DN of the service account binding to the LDAP server
    #[arg(long, value_name = "DN")]
    pub bind_dn: Option<String>,
    /// File holding the service account's password (or set HERACLES_BIND_PASSWORD)
    #[arg(long, value_name = "FILE")]
    pub bind_password_file: Option<String>,
    /// PEM file of the CA(s) that signed the LDAP server's certificate
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<String>,
    /// Upgrade ldap:// connections with StartTLS [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub starttls: Option<String>,
    /// Time limit for opening and binding one LDAP connection [default: 5s]
    #[arg(long, value_name = "DURATION")]
    pub ldap_connect_timeout: Option<String>,
    /// Time limit of one LDAP operation, including the wait for a pooled connection
    /// [default: 10s]
    #[arg(long, value_name = "DURATION")]
    pub ldap_timeout: Option<String>,
    /// Token signing secret(s), comma-separated, at least 32 bytes each; the first signs.
    /// Visible in the process list: prefer HERACLES_JWT_SECRET or --jwt-secret-file
    /// [default: generated and kept in the data folder, embedded mode only]
    #[arg(long, value_name = "SECRET[,SECRET...]")]
    pub jwt_secret: Option<String>,
    /// File holding the token signing secret(s), comma- or newline-separated
    #[arg(long, value_name = "FILE")]
    pub jwt_secret_file: Option<String>,
    /// Log format on standard error: text or json [default: text]
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Largest request body, in bytes or with KiB/MiB [default: 1MiB]
    #[arg(long, value_name = "SIZE")]
    pub max_body_bytes: Option<String>,
    /// Time limit of one request, e.g. 30s or 500ms [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// How long a shutdown waits for in-flight requests [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub shutdown_timeout: Option<String>,
    /// Time a client has to send a request's headers; also how long an idle connection
    /// stays open [default: 10s]
    #[arg(long, value_name = "DURATION")]
    pub header_read_timeout: Option<String>,
    /// Connections served at once; more wait in the listen queue [default: 1024]
    #[arg(long, value_name = "N")]
    pub max_connections: Option<String>,
    /// Origins allowed to call the API from a browser (CORS), comma-separated, e.g.
    /// `https://admin.example.com` [default: none, CORS off]
    #[arg(long, value_name = "ORIGIN[,ORIGIN...]")]
    pub cors_origins: Option<String>,
    /// PEM certificate chain: serve HTTPS (needs --tls-key-file)
    #[arg(long, value_name = "FILE")]
    pub tls_cert_file: Option<String>,
    /// PEM private key of --tls-cert-file
    #[arg(long, value_name = "FILE")]
    pub tls_key_file: Option<String>,
    /// Cache the sorted DNs of lists (never stale: checked against the directory's change
    /// marker) [default: true]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub list_cache: Option<String>,
    /// Entries the cache of reads holds (gets and list pages; never stale: checked
    /// against the directory's change marker); 0 turns it off [default: 16384]
    #[arg(long, value_name = "ENTRIES")]
    pub read_cache: Option<String>,
    /// Most users the in-memory copy of users holds (gets answered without a round trip;
    /// followed through the change log); 0 turns it off [default: 200000]
    #[arg(long, value_name = "USERS")]
    pub user_replica: Option<String>,
}

impl Args {
    fn get(&self, key: &str) -> Option<&String> {
        match key {
            "listen" => self.listen.as_ref(),
            "data_dir" => self.data_dir.as_ref(),
            "base_dn" => self.base_dn.as_ref(),
            "ldap_url" => self.ldap_url.as_ref(),
            "bind_dn" => self.bind_dn.as_ref(),
            "bind_password_file" => self.bind_password_file.as_ref(),
            "ca_file" => self.ca_file.as_ref(),
            "starttls" => self.starttls.as_ref(),
            "ldap_connect_timeout" => self.ldap_connect_timeout.as_ref(),
            "ldap_timeout" => self.ldap_timeout.as_ref(),
            "jwt_secret" => self.jwt_secret.as_ref(),
            "jwt_secret_file" => self.jwt_secret_file.as_ref(),
            "log_format" => self.log_format.as_ref(),
            "max_body_bytes" => self.max_body_bytes.as_ref(),
            "request_timeout" => self.request_timeout.as_ref(),
            "shutdown_timeout" => self.shutdown_timeout.as_ref(),
            "header_read_timeout" => self.header_read_timeout.as_ref(),
            "max_connections" => self.max_connections.as_ref(),
            "cors_origins" => self.cors_origins.as_ref(),
            "tls_cert_file" => self.tls_cert_file.as_ref(),
            "tls_key_file" => self.tls_key_file.as_ref(),
            "list_cache" => self.list_cache.as_ref(),
            "read_cache" => self.read_cache.as_ref(),
            "user_replica" => self.user_replica.as_ref(),
            _ => None,
        }
    }
}

/// A configuration that cannot be used; the message says which setting, from where, and
/// why. The binary prints it and exits with status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Where a setting's value came from; error messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl Source {
    /// Precedence: flags over the environment over the file over defaults.
    fn rank(&self) -> u8 {
        match self {
            Source::Default => 0,
            Source::File(_) => 1,
            Source::Env(_) => 2,
            Source::Flag(_) => 3,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("the default"),
            Source::File(p) => write!(f, "the config file {}", p.display()),
            Source::Env(v) => write!(f, "the environment variable {v}"),
            Source::Flag(flag) => write!(f, "the flag {flag}"),
        }
    }
}

/// The environment variable of a setting key.
pub fn env_name(key: &str) -> String {
    format!("HERACLES_{}", key.to_ascii_uppercase())
}

/// The flag of a setting key.
pub fn flag_name(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

/// A raw value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Raw {
    value: String,
    source: Source,
}

/// One layer of raw settings (file, environment or flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Layer(BTreeMap<&'static str, Raw>);

impl Layer {
    fn set(&mut self, key: &'static str, value: String, source: Source) {
        self.0.insert(key, Raw { value, source });
    }

    /// `self` with every value of `higher` on top.
    fn overlay(mut self, higher: Layer) -> Layer {
        self.0.extend(higher.0);
        self
    }

    fn get(&self, key: &str) -> Option<&Raw> {
        self.0.get(key)
    }
}

fn known_key(key: &str) -> Option<&'static str> {
    KEYS.iter().copied().find(|k| *k == key)
}

/// Reads the TOML file into a layer. Strings, integers, booleans and (for `jwt_secret`)
/// arrays of strings are accepted.
fn file_layer(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    file_layer_from_str(path, &text)
}

fn file_layer_from_str(path: &Path, text: &str) -> Result<Layer, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        ConfigError(format!(
            "the config file {} is not valid TOML: {}",
            path.display(),
            e.to_string().trim_end()
        ))
    })?;
    let mut layer = Layer::default();
    for (name, value) in table {
        let Some(key) = known_key(&name) else {
            let hint = if name == "bind_password" {
                " (the password is never read from the config file: use bind_password_file \
                 or HERACLES_BIND_PASSWORD)"
            } else {
                ""
            };
            return Err(ConfigError(format!(
                "unknown setting '{name}' in the config file {}{hint}; known settings: {}",
                path.display(),
                KEYS.join(", ")
            )));
        };
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) if key == "jwt_secret" => {
                let mut parts = Vec::new();
                for item in items {
                    match item {
                        toml::Value::String(s) => parts.push(s),
                        _ => {
                            return Err(ConfigError(format!(
                                "jwt_secret in the config file {} must be a string or a list \
                                 of strings",
                                path.display()
                            )))
                        }
                    }
                }
                parts.join(",")
            }
            other => {
                return Err(ConfigError(format!(
                    "{key} in the config file {} must be a string, number or boolean, got {}",
                    path.display(),
                    other.type_str()
                )))
            }
        };
        layer.set(key, text, Source::File(path.to_owned()));
    }
    Ok(layer)
}

fn env_layer(env: &dyn Fn(&str) -> Option<String>) -> Layer {
    let mut layer = Layer::default();
    for key in KEYS {
        let name = env_name(key);
        if let Some(v) = env(&name).filter(|v| !v.is_empty()) {
            layer.set(key, v, Source::Env(name));
        }
    }
    layer
}

fn flag_layer(args: &Args) -> Layer {
    let mut layer = Layer::default();
    for key in KEYS {
        if let Some(v) = args.get(key) {
            layer.set(key, v.clone(), Source::Flag(flag_name(key)));
        }
    }
    layer
}

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line.
    Json,
}

/// How the service account binds to the LDAP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LdapBind {
    /// Simple bind with a DN and password.
    Simple {
        /// The service account.
        dn: Dn,
        /// Its password.
        password: Secret,
    },
    /// SASL EXTERNAL over `ldapi://` (the process's own identity).
    SaslExternal,
}

/// The LDAP server to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapSettings {
    /// Server URL.
    pub url: String,
    /// Service account.
    pub bind: LdapBind,
    /// CA file for TLS.
    pub ca_file: Option<PathBuf>,
    /// Upgrade `ldap://` with StartTLS.
    pub starttls: bool,
    /// Time limit for opening and binding one connection.
    pub connect_timeout: Duration,
    /// Time limit of one operation.
    pub operation_timeout: Duration,
}

/// Which directory backs the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectoryConfig {
    /// The embedded directory, persisted in this folder.
    Embedded {
        /// The data folder.
        data_dir: PathBuf,
    },
    /// An LDAP server.
    Ldap(LdapSettings),
}

/// The HTTPS listener's certificate and key (PEM files, read when the server starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Base DN.
    pub base_dn: Dn,
    /// The directory backend.
    pub directory: DirectoryConfig,
    /// Configured token secrets, the first signs (empty: generated, embedded mode only).
    pub jwt_secrets: Vec<Secret>,
    /// Log format.
    pub log_format: LogFormat,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Time limit of one request.
    pub request_timeout: Duration,
    /// Bound on waiting for in-flight requests at shutdown.
    pub shutdown_timeout: Duration,
    /// Time a client has to send a request's headers (and longest idle time of a
    /// connection between requests).
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Origins allowed by CORS, as browsers send them (`scheme://host[:port]`, lower case);
    /// empty: CORS is off.
    pub cors_origins: Vec<String>,
    /// HTTPS instead of HTTP.
    pub tls: Option<TlsFiles>,
    /// Whether lists cache their sorted DNs.
    pub list_cache: bool,
    /// Entries the cache of reads holds (0: off).
    pub read_cache: usize,
    /// Users the copy of users may hold (0: off).
    pub user_replica: usize,
}

impl Config {
    /// Loads the configuration: the file (from `--config` or `HERACLES_CONFIG`), then the
    /// environment (read through `env`, so tests can pass their own), then the flags.
    pub fn load(args: &Args, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let config_path = args
            .config
            .clone()
            .or_else(|| env(CONFIG_ENV).filter(|v| !v.is_empty()).map(PathBuf::from));
        let file = match &config_path {
            Some(path) => file_layer(path)?,
            None => Layer::default(),
        };
        let merged = file.overlay(env_layer(env)).overlay(flag_layer(args));
        let env_password = env(BIND_PASSWORD_ENV)
            .filter(|v| !v.is_empty())
            .map(|v| Raw {
                value: v,
                source: Source::Env(BIND_PASSWORD_ENV.to_owned()),
            });
        validate(&merged, env_password)
    }

    /// Loads from the real process environment.
    pub fn from_process(args: &Args) -> Result<Config, ConfigError> {
        Self::load(args, &|name| std::env::var(name).ok())
    }

    /// A short description of the directory in use, for the startup line.
    pub fn describe_directory(&self) -> String {
        match &self.directory {
            DirectoryConfig::Embedded { data_dir } => {
                format!("embedded directory in {}", data_dir.display())
            }
            DirectoryConfig::Ldap(l) => format!("LDAP directory at {}", l.url),
        }
    }
}

fn bad(key: &str, raw: &Raw, why: impl fmt::Display) -> ConfigError {
    ConfigError(format!(
        "invalid {key} '{}' (from {}): {why}",
        raw.value, raw.source
    ))
}

fn parse_bool(key: &str, raw: &Raw) -> Result<bool, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(bad(key, raw, "expected true or false")),
    }
}

/// Parses a size: bytes, or a number with `B`, `KiB`/`K`/`KB`, `MiB`/`M`/`MB` (all powers
/// of 1024).
pub fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1024,
        "m" | "mb" | "mib" => 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// Parses a duration: a number with `ms`, `s`, `m` or `h`; a bare number is seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "" | "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        _ => None,
    }
}

fn parse_timeout(key: &str, raw: Option<&Raw>, default: Duration) -> Result<Duration, ConfigError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    let d = parse_duration(&raw.value).ok_or_else(|| {
        bad(
            key,
            raw,
            "expected a duration such as 30s, 500ms or 2m (a bare number is seconds)",
        )
    })?;
    if d.is_zero() || d > MAX_TIMEOUT {
        return Err(bad(key, raw, "must be more than 0 and at most 1h"));
    }
    Ok(d)
}

fn nonempty(raw: Option<&Raw>) -> Option<&Raw> {
    raw.filter(|r| !r.value.trim().is_empty())
}

fn validate(m: &Layer, env_password: Option<Raw>) -> Result<Config, ConfigError> {
    let listen = match m.get("listen") {
        None => DEFAULT_LISTEN.parse().map_err(|_| {
            ConfigError(format!(
                "the default listen address {DEFAULT_LISTEN} is invalid"
            ))
        })?,
        Some(raw) => raw.value.trim().parse::<SocketAddr>().map_err(|_| {
            bad(
                "listen",
                raw,
                "expected IP:PORT, e.g. 127.0.0.1:8000, 0.0.0.0:8000 or [::1]:8000",
            )
        })?,
    };
    let base_dn = match m.get("base_dn") {
        None => Dn::parse(DEFAULT_BASE_DN)
            .map_err(|e| ConfigError(format!("the default base DN is invalid: {e}")))?,
        Some(raw) => {
            let dn = Dn::parse(raw.value.trim()).map_err(|e| bad("base_dn", raw, e.message()))?;
            if dn.is_root() {
                return Err(bad("base_dn", raw, "the base DN cannot be empty"));
            }
            dn
        }
    };
    let directory = match nonempty(m.get("ldap_url")) {
        None => DirectoryConfig::Embedded {
            data_dir: m.get("data_dir").map_or_else(
                || PathBuf::from(DEFAULT_DATA_DIR),
                |r| PathBuf::from(r.value.trim()),
            ),
        },
        Some(url) => DirectoryConfig::Ldap(ldap_settings(m, url, env_password)?),
    };
    let jwt_secrets = jwt_secrets(m)?;
    if jwt_secrets.is_empty() && matches!(directory, DirectoryConfig::Ldap(_)) {
        return Err(ConfigError(
            "jwt_secret is required in LDAP mode (every instance serving the directory must \
             sign tokens with the same secret): set HERACLES_JWT_SECRET, jwt_secret in the \
             config file, or --jwt-secret-file"
                .to_owned(),
        ));
    }
    let log_format = match m.get("log_format") {
        None => LogFormat::Text,
        Some(raw) => match raw.value.trim().to_ascii_lowercase().as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => return Err(bad("log_format", raw, "expected text or json")),
        },
    };
    let max_body_bytes = match m.get("max_body_bytes") {
        None => DEFAULT_MAX_BODY_BYTES,
        Some(raw) => match parse_size(&raw.value) {
            Some(n) if (1..=MAX_BODY_LIMIT).contains(&n) => n,
            Some(_) => return Err(bad("max_body_bytes", raw, "must be between 1 and 1GiB")),
            None => {
                return Err(bad(
                    "max_body_bytes",
                    raw,
                    "expected a number of bytes, e.g. 1048576, 64KiB or 1MiB",
                ))
            }
        },
    };
    Ok(Config {
        listen,
        base_dn,
        directory,
        jwt_secrets,
        log_format,
        max_body_bytes,
        request_timeout: parse_timeout(
            "request_timeout",
            m.get("request_timeout"),
            DEFAULT_REQUEST_TIMEOUT,
        )?,
        shutdown_timeout: parse_timeout(
            "shutdown_timeout",
            m.get("shutdown_timeout"),
            DEFAULT_SHUTDOWN_TIMEOUT,
        )?,
        header_read_timeout: parse_timeout(
            "header_read_timeout",
            m.get("header_read_timeout"),
            DEFAULT_HEADER_READ_TIMEOUT,
        )?,
        max_connections: max_connections(m.get("max_connections"))?,
        cors_origins: match nonempty(m.get("cors_origins")) {
            None => Vec::new(),
            Some(raw) => cors_origins(raw)?,
        },
        tls: tls_files(m)?,
        list_cache: m
            .get("list_cache")
            .map_or(Ok(true), |raw| parse_bool("list_cache", raw))?,
        read_cache: read_cache(m.get("read_cache"))?,
        user_replica: user_replica(m.get("user_replica"))?,
    })
}

/// Parses `read_cache`: a number of entries (0 turns the cache off).
fn read_cache(raw: Option<&Raw>) -> Result<usize, ConfigError> {
    size_or_off(
        raw,
        "read_cache",
        heracles_core::service::reads::DEFAULT_READ_CACHE,
        READ_CACHE_LIMIT,
        "entries",
    )
}

/// Parses `user_replica`: a number of users (0 turns the copy off).
fn user_replica(raw: Option<&Raw>) -> Result<usize, ConfigError> {
    size_or_off(
        raw,
        "user_replica",
        heracles_core::service::replica::DEFAULT_USER_REPLICA,
        USER_REPLICA_LIMIT,
        "users",
    )
}

/// A cache's size: a number of `what` from 0 (off) to `limit`; `default` when not given.
fn size_or_off(
    raw: Option<&Raw>,
    key: &str,
    default: usize,
    limit: usize,
    what: &str,
) -> Result<usize, ConfigError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    match raw.value.trim().parse::<usize>() {
        Ok(n) if n <= limit => Ok(n),
        _ => Err(bad(
            key,
            raw,
            format!("expected a number of {what} between 0 (off) and {limit}"),
        )),
    }
}

fn max_connections(raw: Option<&Raw>) -> Result<usize, ConfigError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_MAX_CONNECTIONS);
    };
    match raw.value.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_CONNECTIONS_LIMIT).contains(&n) => Ok(n),
        _ => Err(bad(
            "max_connections",
            raw,
            "expected a whole number between 1 and 1000000",
        )),
    }
}

/// Parses `cors_origins`: a comma-separated list of `http(s)://host[:port]` origins (no
/// path, no wildcard), kept in the lower-case form browsers send in `Origin`.
fn cors_origins(raw: &Raw) -> Result<Vec<String>, ConfigError> {
    let mut origins = Vec::new();
    for part in raw
        .value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        if part == "*" || part.eq_ignore_ascii_case("null") {
            return Err(bad(
                "cors_origins",
                raw,
                format!("'{part}' is not accepted: list each allowed origin, e.g. https://admin.example.com"),
            ));
        }
        let origin = part.to_ascii_lowercase();
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let valid = host.is_some_and(|h| {
            !h.is_empty()
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        });
        if !valid {
            return Err(bad(
                "cors_origins",
                raw,
                format!(
                    "'{part}' is not an origin: expected http(s)://host or http(s)://host:port, \
                     without a path or trailing slash"
                ),
            ));
        }
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

/// `tls_cert_file` and `tls_key_file`: both or neither.
fn tls_files(m: &Layer) -> Result<Option<TlsFiles>, ConfigError> {
    match (
        nonempty(m.get("tls_cert_file")),
        nonempty(m.get("tls_key_file")),
    ) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => Ok(Some(TlsFiles {
            cert_file: PathBuf::from(cert.value.trim()),
            key_file: PathBuf::from(key.value.trim()),
        })),
        (Some(raw), None) => Err(ConfigError(format!(
            "tls_cert_file is set (from {}) but not tls_key_file: HTTPS needs both",
            raw.source
        ))),
        (None, Some(raw)) => Err(ConfigError(format!(
            "tls_key_file is set (from {}) but not tls_cert_file: HTTPS needs both",
            raw.source
        ))),
    }
}

/// The configured token secrets (none: not configured).
fn jwt_secrets(m: &Layer) -> Result<Vec<Secret>, ConfigError> {
    let mut jwt_secrets = Vec::new();
    if let Some(raw) = jwt_secret(m)? {
        for part in raw.value.split([',', '\n']).map(str::trim) {
            if part.is_empty() && raw.value.contains('\n') {
                continue; // blank lines and the final newline of a file
            }
            if part.len() < MIN_SECRET_BYTES {
                return Err(ConfigError(format!(
                    "invalid jwt_secret (from {}): every secret must be at least \
                     {MIN_SECRET_BYTES} bytes long",
                    raw.source
                )));
            }
            jwt_secrets.push(Secret::new(part));
        }
    }
    Ok(jwt_secrets)
}

fn ldap_settings(
    m: &Layer,
    url: &Raw,
    env_password: Option<Raw>,
) -> Result<LdapSettings, ConfigError> {
    let url_text = url.value.trim().to_owned();
    let scheme = url_text
        .split_once("://")
        .map(|(s, _)| s.to_ascii_lowercase());
    if !matches!(scheme.as_deref(), Some("ldap" | "ldaps" | "ldapi")) {
        return Err(bad(
            "ldap_url",
            url,
            "expected a URL starting with ldap://, ldaps:// or ldapi://",
        ));
    }
    let starttls = match m.get("starttls") {
        None => false,
        Some(raw) => parse_bool("starttls", raw)?,
    };
    if starttls && scheme.as_deref() != Some("ldap") {
        return Err(ConfigError(format!(
            "starttls only applies to ldap:// URLs, not '{url_text}'"
        )));
    }
    let password = bind_password(m.get("bind_password_file"), env_password)?;
    let bind = match (nonempty(m.get("bind_dn")), password) {
        (Some(raw), Some(password)) => LdapBind::Simple {
            dn: Dn::parse(raw.value.trim()).map_err(|e| bad("bind_dn", raw, e.message()))?,
            password,
        },
        (Some(raw), None) => {
            return Err(ConfigError(format!(
                "bind_dn is set (from {}) but no password: set HERACLES_BIND_PASSWORD or \
                 bind_password_file",
                raw.source
            )))
        }
        (None, Some(_)) => {
            return Err(ConfigError(
                "a bind password is set but no bind_dn: set HERACLES_BIND_DN or --bind-dn"
                    .to_owned(),
            ))
        }
        (None, None) if scheme.as_deref() == Some("ldapi") => LdapBind::SaslExternal,
        (None, None) => {
            return Err(ConfigError(format!(
                "LDAP mode ({url_text}) needs a service account: set bind_dn and a password \
                 (HERACLES_BIND_DN and HERACLES_BIND_PASSWORD, or --bind-dn and \
                 --bind-password-file); only ldapi:// works without one (SASL EXTERNAL)"
            )))
        }
    };
    let ca_file = nonempty(m.get("ca_file")).map(|r| PathBuf::from(r.value.trim()));
    Ok(LdapSettings {
        url: url_text,
        bind,
        ca_file,
        starttls,
        connect_timeout: parse_timeout(
            "ldap_connect_timeout",
            m.get("ldap_connect_timeout"),
            DEFAULT_LDAP_CONNECT_TIMEOUT,
        )?,
        operation_timeout: parse_timeout(
            "ldap_timeout",
            m.get("ldap_timeout"),
            DEFAULT_LDAP_TIMEOUT,
        )?,
    })
}

/// The token secret(s) as one raw value: `jwt_secret`, or the contents of
/// `jwt_secret_file`, whichever has the higher precedence; both at one level is an error.
fn jwt_secret(m: &Layer) -> Result<Option<Raw>, ConfigError> {
    let read = |raw: &Raw| -> Result<Raw, ConfigError> {
        let text = std::fs::read_to_string(raw.value.trim())
            .map_err(|e| bad("jwt_secret_file", raw, format!("cannot read it: {e}")))?;
        if text.trim().is_empty() {
            return Err(bad("jwt_secret_file", raw, "the file is empty"));
        }
        Ok(Raw {
            value: text,
            source: raw.source.clone(),
        })
    };
    match (
        nonempty(m.get("jwt_secret")),
        nonempty(m.get("jwt_secret_file")),
    ) {
        (None, None) => Ok(None),
        (Some(v), None) => Ok(Some(v.clone())),
        (None, Some(f)) => read(f).map(Some),
        (Some(v), Some(f)) => match v.source.rank().cmp(&f.source.rank()) {
            std::cmp::Ordering::Greater => Ok(Some(v.clone())),
            std::cmp::Ordering::Less => read(f).map(Some),
            std::cmp::Ordering::Equal => Err(ConfigError(format!(
                "both jwt_secret (from {}) and jwt_secret_file (from {}) are set: give one",
                v.source, f.source
            ))),
        },
    }
}

/// The bind password from `bind_password_file` or `HERACLES_BIND_PASSWORD`, whichever has
/// the higher precedence; both at the same level is an error.
fn bind_password(file: Option<&Raw>, env: Option<Raw>) -> Result<Option<Secret>, ConfigError> {
    let from_file = |raw: &Raw| -> Result<Secret, ConfigError> {
        let text = std::fs::read_to_string(raw.value.trim())
            .map_err(|e| bad("bind_password_file", raw, format!("cannot read it: {e}")))?;
        let pw = text.trim_end_matches(['\r', '\n']);
        if pw.is_empty() {
            return Err(bad("bind_password_file", raw, "the file is empty"));
        }
        Ok(Secret::new(pw))
    };
    match (nonempty(file), env) {
        (None, None) => Ok(None),
        (None, Some(env)) => Ok(Some(Secret::new(env.value))),
        (Some(file), None) => from_file(file).map(Some),
        (Some(file), Some(env)) => match file.source.rank().cmp(&env.source.rank()) {
            std::cmp::Ordering::Greater => from_file(file).map(Some),
            std::cmp::Ordering::Less => Ok(Some(Secret::new(env.value))),
            std::cmp::Ordering::Equal => Err(ConfigError(format!(
                "both {BIND_PASSWORD_ENV} and HERACLES_BIND_PASSWORD_FILE are set: set only one"
            ))),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::Write;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn args(list: &[&str]) -> Args {
        let mut argv = vec!["heracles-server"];
        argv.extend_from_slice(list);
        Args::try_parse_from(argv).unwrap()
    }

    fn config_file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn defaults() {
        let c = Config::load(&args(&[]), &env_of(&[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(
            c.directory,
            DirectoryConfig::Embedded {
                data_dir: PathBuf::from("./heracles-data")
            }
        );
        assert_eq!(c.base_dn.to_string(), "dc=example,dc=com");
        assert_eq!(c.max_body_bytes, 1024 * 1024);
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.log_format, LogFormat::Text);
        assert!(c.jwt_secrets.is_empty());
        assert!(c.list_cache);
        assert_eq!(
            c.read_cache,
            heracles_core::service::reads::DEFAULT_READ_CACHE
        );
    }

    #[test]
    fn read_cache_size() {
        let load = |v: &str| {
            let flag = format!("--read-cache={v}");
            Config::load(&args(&[flag.as_str()]), &env_of(&[]))
        };
        assert_eq!(load("0").unwrap().read_cache, 0);
        assert_eq!(load(" 500 ").unwrap().read_cache, 500);
        for bad in ["-1", "lots", "10000001"] {
            let err = load(bad).map(|c| c.read_cache).unwrap_err().to_string();
            assert!(err.contains("read_cache"), "{bad}: {err}");
        }
        let env = env_of(&[("HERACLES_READ_CACHE", "64")]);
        assert_eq!(Config::load(&args(&[]), &env).unwrap().read_cache, 64);
    }

    #[test]
    fn user_replica_size() {
        let load = |v: &str| {
            let flag = format!("--user-replica={v}");
            Config::load(&args(&[flag.as_str()]), &env_of(&[]))
        };
        assert_eq!(
            Config::load(&args(&[]), &env_of(&[])).unwrap().user_replica,
            heracles_core::service::replica::DEFAULT_USER_REPLICA
        );
        assert_eq!(load("0").unwrap().user_replica, 0);
        assert_eq!(load("5000").unwrap().user_replica, 5000);
        for bad in ["-1", "all", "100000001"] {
            let err = load(bad).map(|c| c.user_replica).unwrap_err().to_string();
            assert!(err.contains("user_replica"), "{bad}: {err}");
        }
        let env = env_of(&[("HERACLES_USER_REPLICA", "7")]);
        assert_eq!(Config::load(&args(&[]), &env).unwrap().user_replica, 7);
    }

    #[test]
    fn file_then_env_then_flag() {
        let f = config_file(
            "listen = \"127.0.0.1:1111\"\nbase_dn = \"dc=file,dc=org\"\nmax_body_bytes = 2048\n\
             request_timeout = 7\nlog_format = \"json\"\n",
        );
        let path = f.path().to_str().unwrap();
        // File only.
        let c = Config::load(&args(&["--config", path]), &env_of(&[])).unwrap();
        assert_eq!(c.listen.port(), 1111);
        assert_eq!(c.base_dn.to_string(), "dc=file,dc=org");
        assert_eq!(c.max_body_bytes, 2048);
        assert_eq!(c.request_timeout, Duration::from_secs(7));
        assert_eq!(c.log_format, LogFormat::Json);
        // Environment over file.
        let env = env_of(&[
            ("HERACLES_LISTEN", "127.0.0.1:2222"),
            ("HERACLES_MAX_BODY_BYTES", "4KiB"),
        ]);
        let c = Config::load(&args(&["--config", path]), &env).unwrap();
        assert_eq!(c.listen.port(), 2222);
        assert_eq!(c.max_body_bytes, 4096);
        assert_eq!(c.base_dn.to_string(), "dc=file,dc=org");
        // Flag over environment over file.
        let c = Config::load(
            &args(&["--config", path, "--listen", "127.0.0.1:3333"]),
            &env,
        )
        .unwrap();
        assert_eq!(c.listen.port(), 3333);
        assert_eq!(c.max_body_bytes, 4096);
        // The file named by the environment.
        let env = env_of(&[("HERACLES_CONFIG", path)]);
        let c = Config::load(&args(&[]), &env).unwrap();
        assert_eq!(c.listen.port(), 1111);
        // An empty environment variable is unset.
        let env = env_of(&[("HERACLES_CONFIG", path), ("HERACLES_LISTEN", "")]);
        assert_eq!(Config::load(&args(&[]), &env).unwrap().listen.port(), 1111);
    }

    #[test]
    fn ldap_mode_and_password_precedence() {
        let pwfile = config_file("from-file\n");
        let pw_path = pwfile.path().to_str().unwrap();
        let secret = "s".repeat(32);
        let base = [
            ("HERACLES_LDAP_URL", "ldap://127.0.0.1:389"),
            ("HERACLES_BIND_DN", "cn=svc,dc=example,dc=com"),
            ("HERACLES_JWT_SECRET", secret.as_str()),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all: Vec<(&str, &str)> = base.to_vec();
            all.extend_from_slice(extra);
            env_of(&all)
        };
        let password = |c: Config| match c.directory {
            DirectoryConfig::Ldap(LdapSettings {
                bind: LdapBind::Simple { password, .. },
                ..
            }) => password.expose().to_owned(),
            other => panic!("{other:?}"),
        };
        let c = Config::load(&args(&[]), &with(&[("HERACLES_BIND_PASSWORD", "from-env")])).unwrap();
        assert_eq!(password(c), "from-env");
        // A flag naming a file beats the environment's password.
        let c = Config::load(
            &args(&["--bind-password-file", pw_path]),
            &with(&[("HERACLES_BIND_PASSWORD", "from-env")]),
        )
        .unwrap();
        assert_eq!(password(c), "from-file");
        // Both in the environment: ambiguous.
        let env = {
            let mut all: Vec<(&str, &str)> = base.to_vec();
            all.push(("HERACLES_BIND_PASSWORD", "x"));
            all.push(("HERACLES_BIND_PASSWORD_FILE", pw_path));
            env_of(&all)
        };
        let e = Config::load(&args(&[]), &env).unwrap_err();
        assert!(e.0.contains("set only one"), "{e}");
        // No password at all.
        let e = Config::load(&args(&[]), &with(&[])).unwrap_err();
        assert!(e.0.contains("no password"), "{e}");
        // The password never shows in Debug output.
        let c = Config::load(
            &args(&[]),
            &with(&[("HERACLES_BIND_PASSWORD", "hunter2-pw")]),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2-pw"));
        assert!(!format!("{c:?}").contains(&secret));
        // LDAP mode needs a JWT secret.
        let e = Config::load(
            &args(&[]),
            &env_of(&[
                ("HERACLES_LDAP_URL", "ldap://127.0.0.1:389"),
                ("HERACLES_BIND_DN", "cn=svc,dc=example,dc=com"),
                ("HERACLES_BIND_PASSWORD", "pw"),
            ]),
        )
        .unwrap_err();
        assert!(e.0.contains("jwt_secret is required"), "{e}");
        // ldapi without a bind DN: SASL EXTERNAL.
        let c = Config::load(
            &args(&["--ldap-url", "ldapi://%2Frun%2Fslapd%2Fldapi"]),
            &env_of(&[("HERACLES_JWT_SECRET", secret.as_str())]),
        )
        .unwrap();
        assert!(matches!(
            c.directory,
            DirectoryConfig::Ldap(LdapSettings {
                bind: LdapBind::SaslExternal,
                ..
            })
        ));
    }

    #[test]
    fn ldap_timeouts() {
        let secret = "t".repeat(32);
        let url = ["--ldap-url", "ldapi://%2Frun%2Fslapd%2Fldapi"];
        let timeouts = |c: Config| match c.directory {
            DirectoryConfig::Ldap(l) => (l.connect_timeout, l.operation_timeout),
            other @ DirectoryConfig::Embedded { .. } => panic!("{other:?}"),
        };
        let c = Config::load(
            &args(&url),
            &env_of(&[("HERACLES_JWT_SECRET", secret.as_str())]),
        )
        .unwrap();
        assert_eq!(
            timeouts(c),
            (DEFAULT_LDAP_CONNECT_TIMEOUT, DEFAULT_LDAP_TIMEOUT)
        );
        let mut flags = url.to_vec();
        flags.extend_from_slice(&["--ldap-connect-timeout", "2s"]);
        let c = Config::load(
            &args(&flags),
            &env_of(&[
                ("HERACLES_JWT_SECRET", secret.as_str()),
                ("HERACLES_LDAP_TIMEOUT", "1500ms"),
            ]),
        )
        .unwrap();
        assert_eq!(
            timeouts(c),
            (Duration::from_secs(2), Duration::from_millis(1500))
        );
        let err = Config::load(
            &args(&url),
            &env_of(&[
                ("HERACLES_JWT_SECRET", secret.as_str()),
                ("HERACLES_LDAP_TIMEOUT", "0s"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("ldap_timeout"), "{err}");
    }

    #[test]
    fn jwt_secret_from_a_file() {
        let (first, second) = ("c".repeat(32), "d".repeat(33));
        let file = config_file(&format!("{first}\n{second}\n\n"));
        let path = file.path().to_str().unwrap();
        let c = Config::load(&args(&["--jwt-secret-file", path]), &env_of(&[])).unwrap();
        let got: Vec<&str> = c.jwt_secrets.iter().map(Secret::expose).collect();
        assert_eq!(got, [first.as_str(), second.as_str()]);
        // The flag (higher level) beats the environment's secret.
        let env_secret = "e".repeat(32);
        let c = Config::load(
            &args(&["--jwt-secret-file", path]),
            &env_of(&[("HERACLES_JWT_SECRET", env_secret.as_str())]),
        )
        .unwrap();
        assert_eq!(c.jwt_secrets[0].expose(), first);
        // Both at one level: an error naming both.
        let e = Config::load(
            &args(&[]),
            &env_of(&[
                ("HERACLES_JWT_SECRET", env_secret.as_str()),
                ("HERACLES_JWT_SECRET_FILE", path),
            ]),
        )
        .unwrap_err();
        assert!(e.0.contains("both jwt_secret"), "{e}");
        // A missing or empty file is an error, and short secrets in it too.
        let e = Config::load(
            &args(&["--jwt-secret-file", "/nonexistent/jwt"]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert!(e.0.contains("cannot read it"), "{e}");
        let empty = config_file("\n");
        let e = Config::load(
            &args(&["--jwt-secret-file", empty.path().to_str().unwrap()]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert!(e.0.contains("empty"), "{e}");
        let short = config_file("short\n");
        let e = Config::load(
            &args(&["--jwt-secret-file", short.path().to_str().unwrap()]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert!(e.0.contains("at least 32 bytes"), "{e}");
    }

    #[test]
    fn secrets_and_flags() {
        let first = "a".repeat(32);
        let second = "b".repeat(40);
        let config = Config::load(
            &args(&["--jwt-secret", &format!("{first}, {second}"), "--starttls"]),
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(config.jwt_secrets.len(), 2);
        assert_eq!(config.jwt_secrets[0].expose(), first);
        let err = Config::load(&args(&["--jwt-secret", "short"]), &env_of(&[])).unwrap_err();
        assert!(err.0.contains("at least 32 bytes"), "{err}");
        // A list in the file.
        let file = config_file(&format!("jwt_secret = [\"{first}\", \"{second}\"]\n"));
        let config = Config::load(
            &args(&["--config", file.path().to_str().unwrap()]),
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(config.jwt_secrets[1].expose(), second);
    }

    #[test]
    fn errors_name_the_setting_and_its_source() {
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
        let cases: &[Case] = &[
            (
                &["--listen", "nowhere"],
                &[],
                "invalid listen 'nowhere' (from the flag --listen)",
            ),
            (
                &[],
                &[("HERACLES_LISTEN", "1.2.3.4")],
                "the environment variable HERACLES_LISTEN",
            ),
            (&["--base-dn", "not a dn"], &[], "invalid base_dn"),
            (&["--log-format", "xml"], &[], "expected text or json"),
            (&["--max-body-bytes", "0"], &[], "between 1 and 1GiB"),
            (&["--max-body-bytes", "lots"], &[], "invalid max_body_bytes"),
            (&["--request-timeout", "0"], &[], "more than 0"),
            (
                &["--request-timeout", "5 parsecs"],
                &[],
                "expected a duration",
            ),
            (
                &["--ldap-url", "http://x"],
                &[],
                "ldap://, ldaps:// or ldapi://",
            ),
            (
                &["--config", "/nonexistent/heracles.toml"],
                &[],
                "cannot read the config file",
            ),
        ];
        for (flags, env, expected) in cases {
            let e = Config::load(&args(flags), &env_of(env)).unwrap_err();
            assert!(e.0.contains(expected), "{flags:?} {env:?}: {e}");
        }
    }

    #[test]
    fn file_errors() {
        let f = config_file("lisen = \"x\"\n");
        let e = Config::load(
            &args(&["--config", f.path().to_str().unwrap()]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert!(e.0.contains("unknown setting 'lisen'"), "{e}");
        let f = config_file("bind_password = \"x\"\n");
        let e = Config::load(
            &args(&["--config", f.path().to_str().unwrap()]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert!(e.0.contains("never read from the config file"), "{e}");
        let f = config_file("listen = [1, 2]\n");
        let e = Config::load(
            &args(&["--config", f.path().to_str().unwrap()]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert!(e.0.contains("must be a string"), "{e}");
        let f = config_file("listen = \n");
        let e = Config::load(
            &args(&["--config", f.path().to_str().unwrap()]),
            &env_of(&[]),
        )
        .unwrap_err();
        assert!(e.0.contains("not valid TOML"), "{e}");
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("1MiB"), Some(1_048_576));
        assert_eq!(parse_size("64 KiB"), Some(65_536));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("1.5MiB"), None);
        assert_eq!(parse_size("99999999999999999999"), None);
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("15"), Some(Duration::from_secs(15)));
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("1d"), None);
    }

    #[test]
    fn transport_settings() {
        let c = Config::load(&args(&[]), &env_of(&[])).unwrap();
        assert_eq!(c.header_read_timeout, Duration::from_secs(10));
        assert_eq!(c.max_connections, 1024);
        assert!(c.cors_origins.is_empty());
        assert_eq!(c.tls, None);
        let c = Config::load(
            &args(&[
                "--header-read-timeout",
                "500ms",
                "--max-connections",
                "7",
                "--cors-origins",
                "https://Admin.Example.com, http://localhost:5173,https://admin.example.com",
                "--tls-cert-file",
                "cert.pem",
                "--tls-key-file",
                "key.pem",
            ]),
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(c.header_read_timeout, Duration::from_millis(500));
        assert_eq!(c.max_connections, 7);
        assert_eq!(
            c.cors_origins,
            ["https://admin.example.com", "http://localhost:5173"]
        );
        assert_eq!(
            c.tls,
            Some(TlsFiles {
                cert_file: PathBuf::from("cert.pem"),
                key_file: PathBuf::from("key.pem"),
            })
        );
        let f = config_file("cors_origins = \"https://a.example\"\nmax_connections = 12\n");
        let c = Config::load(
            &args(&["--config", f.path().to_str().unwrap()]),
            &env_of(&[]),
        )
        .unwrap();
        assert_eq!(c.cors_origins, ["https://a.example"]);
        assert_eq!(c.max_connections, 12);
        let cases: &[(&[&str], &str)] = &[
            (&["--cors-origins", "*"], "list each allowed origin"),
            (&["--cors-origins", "null"], "list each allowed origin"),
            (&["--cors-origins", "admin.example.com"], "is not an origin"),
            (
                &["--cors-origins", "https://a.example/"],
                "is not an origin",
            ),
            (&["--cors-origins", "ftp://a.example"], "is not an origin"),
            (&["--max-connections", "0"], "between 1 and 1000000"),
            (&["--max-connections", "many"], "between 1 and 1000000"),
            (&["--header-read-timeout", "0"], "more than 0"),
            (&["--tls-cert-file", "c.pem"], "not tls_key_file"),
            (&["--tls-key-file", "k.pem"], "not tls_cert_file"),
        ];
        for (flags, expected) in cases {
            let e = Config::load(&args(flags), &env_of(&[])).unwrap_err();
            assert!(e.0.contains(expected), "{flags:?}: {e}");
        }
    }

    #[test]
    fn every_key_has_a_flag() {
        // The clap definition and KEYS must not drift: each key's flag parses.
        for key in KEYS {
            let flag = flag_name(key);
            let a = Args::try_parse_from(["heracles-server", flag.as_str(), "v"]).unwrap();
            assert_eq!(a.get(key).map(String::as_str), Some("v"), "{key}");
        }
    }
}
