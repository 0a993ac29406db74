//! # heracles-server
//!
//! The REST server of Heracles: a thin HTTP skin over `heracles-core` (SPEC §1–3). It parses
//! requests, calls the core, and renders answers; business rules live in the core.
//!
//! Built on hyper 1 (HTTP/1.1) and tokio. The pieces:
//!
//! - [`config`]: settings from a TOML file, `HERACLES_*` environment variables and flags
//!   (flags > environment > file > defaults), validated up front.
//! - [`state`]: [`state::AppState`], shared by every request (the directory — embedded or
//!   LDAP — behind `Arc<dyn Directory>`, token secrets, the OpenAPI document), and the
//!   [`state::bootstrap`] hook run at every start.
//! - [`router`]: the one route table, [`router::ROUTES`]; dispatch and the OpenAPI document
//!   ([`openapi`]) are both built from it.
//! - [`request`] / [`reply`]: what handlers get and give back; the shared JSON body parsing
//!   (415, 413, 400 `INVALID_JSON`).
//! - [`error`]: [`error::status_of`], the only `ErrorCode` → HTTP status mapping, and the
//!   error envelope.
//! - [`server`]: request ids, time limits, security headers, the access log, the accept
//!   loop (connection limit, header read timeout, optional HTTPS via [`tls`]) and graceful
//!   shutdown; [`cors`]: cross-origin requests, off unless origins are configured.
//! - [`auth`]: JWTs (HS256, several secrets) and the failed-login throttle; the router's
//!   bearer check uses it, and the `/auth` handlers.
//! - [`handlers`]: auth, health, version, the OpenAPI document and the `/docs` page.
//!
//! Run it with `cargo run --release -p heracles-server` (embedded directory in
//! `./heracles-data`, API at <http://127.0.0.1:8000/api/v1>, docs at
//! <http://127.0.0.1:8000/docs>); `heracles-server --help` lists every setting.
//!
//! Embedding it in-process (e.g. in a test):
//!
//! ```no_run
//! use heracles_server::config::{Args, Config};
//! use heracles_server::server::Server;
//!
//! # async fn demo() -> heracles_core::Result<()> {
//! let args = Args {
//!     listen: Some("127.0.0.1:0".into()),
//!     data_dir: Some("/tmp/heracles-demo".into()),
//!     ..Args::default()
//! };
//! let config = Config::load(&args, &|_| None).expect("valid configuration");
//! let server = Server::start(config).await?;
//! println!("listening on {}", server.local_addr());
//! server.serve(async { /* resolve to shut down */ }).await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod config;
pub mod cors;
pub mod error;
pub mod handlers;
pub mod openapi;
pub mod reply;
pub mod request;
pub mod router;
pub mod server;
pub mod state;
pub mod tls;

use config::LogFormat;

/// Lower-case hex of some bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Sends `tracing` events (level INFO and above) to standard error, as text or JSON lines.
/// Does nothing if a subscriber is already installed.
pub fn init_logging(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_target(false);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    // Already installed (tests, embedding): keep the existing subscriber.
    drop(result);
}
