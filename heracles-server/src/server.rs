//! Startup, the accept loop, what happens around every request, and graceful shutdown.
//!
//! Around every request ([`handle`]):
//! - `X-Request-Id`: the client's, if it is 1–128 visible ASCII characters, else a new UUID
//!   v4; echoed on the response and logged.
//! - a body declared larger than `max_body_bytes` is a 413 before routing (streamed bodies
//!   are limited while they are read, see [`crate::request`]);
//! - the handler runs under the request time limit (inside the connection's task, not
//!   a task of its own): past it, the handler is cancelled and the answer is 503 `TIMEOUT` with `Retry-After`; a panic becomes a 500;
//!   a client that disconnects cancels its handler too (a cancelled handler is like a crash
//!   between two directory operations, which the core must tolerate anyway);
//! - JSON answers get `Content-Type: application/json; charset=utf-8`;
//! - security headers on every answer: `X-Content-Type-Options: nosniff`,
//!   `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, and, unless the handler set
//!   its own (the docs page and its assets do), `Cache-Control: no-store` (so tokens and
//!   directory data are never kept by a cache) and `Content-Security-Policy:
//!   default-src 'none'; frame-ancestors 'none'`;
//! - CORS headers when `cors_origins` is set ([`crate::cors`]); a preflight from a listed
//!   origin is answered here, before routing;
//! - one log line: method, path, status, duration, request id, client address.
//!
//! In the background, expired audit events are purged at start and then every hour
//! ([`AUDIT_PURGE_INTERVAL`]); shutdown cancels that.
//!
//! Connections ([`Server::serve`]): at most `max_connections` are served at once (past
//! it, new connections wait in the kernel's listen queue, [`LISTEN_BACKLOG`] long); a client has
//! `header_read_timeout` to send each request's headers, and an idle keep-alive connection
//! is closed after the same time (slow-header attacks hold a connection for that long at
//! most); a request's head may be at most [`MAX_HEADER_BYTES`] (64 KiB, else 431); with
//! `tls_cert_file`/`tls_key_file` every connection is TLS ([`crate::tls`]),
//! and its handshake must also finish within `header_read_timeout`.
//!
//! Shutdown ([`Server::serve`]): when the shutdown future completes (SIGTERM or SIGINT in
//! the binary), the listener closes, idle connections close, in-flight requests finish (for
//! at most `shutdown_timeout`), and `serve` returns.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use heracles_core::error::{Error, ErrorCode, Result};
use http::header::{
    HeaderName, CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::config::{Config, DirectoryConfig};
use crate::cors;
use crate::error::error_reply;
use crate::handlers::system::HEALTH_TIMEOUT;
use crate::reply::Reply;
use crate::router;
use crate::state::{bootstrap, AppState};

/// The request id header.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The Content-Security-Policy of answers whose handler sets none (JSON, errors): nothing
/// may be loaded, nothing may frame them.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Largest request head (request line and headers) accepted; larger ones get hyper's
/// bare 431 and the connection is closed.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Longest request id accepted from a client.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The client's request id if it is sane: 1–128 visible ASCII characters.
pub fn sane_request_id(value: &HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_LEN
        && bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    // Visible ASCII is valid UTF-8.
    ok.then(|| String::from_utf8_lossy(bytes).into_owned())
}

/// A new random request id (UUID version 4, lower-case hex with hyphens).
///
/// The random bytes are drawn from the OS 1 KiB at a time per thread ([`RANDOM_BATCH`]),
/// not with one system call per request.
pub fn new_request_id() -> String {
    static FALLBACK: AtomicU64 = AtomicU64::new(0);
    let mut b = random_16().unwrap_or_else(|| {
        // No randomness: still unique within the process.
        let mut b = [0u8; 16];
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() & u128::from(u64::MAX));
        b[..8].copy_from_slice(&u64::try_from(nanos).unwrap_or(0).to_be_bytes());
        b[8..].copy_from_slice(&FALLBACK.fetch_add(1, Ordering::Relaxed).to_be_bytes());
        b
    });
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Request ids drawn from one read of the OS's random source.
const RANDOM_BATCH: usize = 64;

/// 16 random bytes from this thread's batch (refilled from the OS when used up); `None`
/// if the OS gives none.
fn random_16() -> Option<[u8; 16]> {
    thread_local! {
        static BATCH: std::cell::RefCell<(Vec<u8>, usize)> =
            const { std::cell::RefCell::new((Vec::new(), 0)) };
    }
    BATCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (bytes, used) = &mut *guard;
        if *used + 16 > bytes.len() {
            bytes.resize(16 * RANDOM_BATCH, 0);
            getrandom::fill(bytes).ok()?;
            *used = 0;
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(bytes.get(*used..*used + 16)?);
        // Used bytes are not kept.
        bytes.get_mut(*used..*used + 16)?.fill(0);
        *used += 16;
        Some(out)
    })
}

/// How often a running server deletes the audit events past their retention (setting
/// `audit_retention_days`); the first purge runs when it starts serving.
pub const AUDIT_PURGE_INTERVAL: Duration = Duration::from_secs(3600);

/// Purges expired audit events now and then every [`AUDIT_PURGE_INTERVAL`], until the
/// returned guard is dropped (which cancels it, whatever it is doing: a purge cut short is
/// finished by the next one).
fn spawn_audit_purge(state: Arc<AppState>) -> AbortOnDrop<()> {
    AbortOnDrop(tokio::spawn(async move {
        let mut tick = tokio::time::interval(AUDIT_PURGE_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match state.heracles().audit().purge(SystemTime::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(events = n, "purged audit events past their retention"),
                Err(e) => {
                    tracing::warn!(code = %e.code(), error = %e.message(), "purging expired audit events failed; retrying at the next interval");
                }
            }
        }
    }))
}

/// Cancels the task when dropped (the client went away, or the time limit passed).
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs a future and turns a panic while polling it into an error (the panic's message),
/// so a handler's bug answers 500 instead of tearing down the connection.
struct CatchPanic<F>(std::pin::Pin<Box<F>>);

impl<F: Future> Future for CatchPanic<F> {
    type Output = std::result::Result<F::Output, String>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_owned());
                std::task::Poll::Ready(Err(format!("the handler panicked: {message}")))
            }
        }
    }
}

/// Serves one request: request id, time limit, dispatch, common headers, log line.
pub async fn handle<B>(
    state: Arc<AppState>,
    req: Request<B>,
    remote: Option<SocketAddr>,
) -> Response<Full<Bytes>>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<crate::request::BoxError>,
{
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(sane_request_id)
        .unwrap_or_else(new_request_id);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let cors_on = !state.config().cors_origins.is_empty();
    let origin = cors::allowed_origin(&state.config().cors_origins, req.headers());
    if let Some(origin) = origin
        .clone()
        .filter(|_| cors::is_preflight(&method, req.headers()))
    {
        let mut response = finish(cors::preflight(origin), &request_id);
        cors::decorate(response.headers_mut(), cors_on, None);
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let duration_ms = format_args!("{elapsed_ms:.3}");
        let remote = remote.map(|a| a.to_string()).unwrap_or_default();
        tracing::info!(%method, %path, status = 204, %duration_ms, request_id = %request_id, %remote, "request (CORS preflight)");
        return response;
    }
    let mut req = req.map(|b| b.map_err(Into::into).boxed_unsync());
    if let Some(addr) = remote {
        req.extensions_mut()
            .insert(crate::request::ClientAddr(addr));
    }
    let limit = state.config().request_timeout;
    // The handler runs inside this future (no task of its own: spawning one per request
    // cost a task, a cross-task wake-up and often a cross-thread hand-off). Dropping it —
    // time limit passed, client gone — cancels the handler just the same.
    let handler = CatchPanic(Box::pin(router::dispatch(state, req, request_id.clone())));
    let reply = match tokio::time::timeout(limit, handler).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(panic)) => {
            tracing::error!(request_id = %request_id, error = %panic, "the request handler failed");
            error_reply(&Error::internal(
                "the request failed unexpectedly; the server log has the details",
            ))
        }
        Err(_) => error_reply(
            &Error::new(
                ErrorCode::Timeout,
                format!(
                    "the request did not complete within {} ms",
                    limit.as_millis()
                ),
            )
            .with_detail(
                "timeout_ms",
                u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
            ),
        ),
    };
    let mut response = finish(reply, &request_id);
    cors::decorate(response.headers_mut(), cors_on, origin);
    let status = response.status().as_u16();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let duration_ms = format_args!("{elapsed_ms:.3}");
    let remote = remote.map(|a| a.to_string()).unwrap_or_default();
    if status >= 500 {
        tracing::warn!(%method, %path, status, %duration_ms, request_id = %request_id, %remote, "request");
    } else {
        tracing::info!(%method, %path, status, %duration_ms, request_id = %request_id, %remote, "request");
    }
    response
}

/// Turns a reply into a response with the common headers.
fn finish(reply: Reply, request_id: &str) -> Response<Full<Bytes>> {
    let (status, mut headers, body) = reply.into_parts();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert(X_REQUEST_ID.clone(), v);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// A started server: the directory is open and the port is bound.
pub struct Server {
    state: Arc<AppState>,
    listener: TcpListener,
    local_addr: SocketAddr,
    tls: Option<TlsAcceptor>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("https", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Opens the directory, runs the bootstrap hook and binds the listening socket.
    ///
    /// In LDAP mode the server is asked for its health first: credentials it refuses are
    /// an `INVALID_CONFIG` error; a server that cannot be reached only logs a warning (the
    /// server starts degraded, `/api/v1/health` says so, and connections are retried on
    /// each request). With `tls_cert_file`/`tls_key_file`, files that cannot be used are an
    /// `INVALID_CONFIG` error too.
    pub async fn start(config: Config) -> Result<Server> {
        let listen = config.listen;
        let ldap = matches!(config.directory, DirectoryConfig::Ldap(_));
        let tls = config.tls.as_ref().map(crate::tls::acceptor).transpose()?;
        let state = Arc::new(AppState::open(config)?);
        if ldap {
            match tokio::time::timeout(HEALTH_TIMEOUT, state.directory().health()).await {
                Ok(Ok(())) => tracing::info!("connected to the LDAP directory"),
                Ok(Err(e))
                    if matches!(
                        e.code(),
                        ErrorCode::InvalidConfig
                            | ErrorCode::InvalidCredentials
                            | ErrorCode::InvalidDn
                    ) =>
                {
                    return Err(e.with_code(ErrorCode::InvalidConfig));
                }
                Ok(Err(e)) => tracing::warn!(
                    code = %e.code(),
                    error = %e.message(),
                    "the LDAP directory is not reachable; starting degraded"
                ),
                Err(_) => {
                    tracing::warn!("the LDAP directory did not answer in time; starting degraded");
                }
            }
        }
        bootstrap(&state).await?;
        let listener = bind(listen).map_err(|e| {
            Error::internal(format!("cannot listen on {listen}: {e}"))
                .with_detail("listen", listen.to_string())
        })?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| Error::internal(format!("cannot read the listening address: {e}")))?;
        Ok(Server {
            state,
            listener,
            local_addr,
            tls,
        })
    }

    /// The address actually listened on (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Whether the listener speaks HTTPS.
    pub fn is_https(&self) -> bool {
        self.tls.is_some()
    }

    /// The base URL of the listener (`http://ADDR` or `https://ADDR`).
    pub fn url(&self) -> String {
        let scheme = if self.is_https() { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Serves until `shutdown` completes, then drains in-flight requests (bounded by
    /// `shutdown_timeout`).
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let Server {
            state,
            listener,
            tls,
            ..
        } = self;
        let header_timeout = state.config().header_read_timeout;
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .max_header_size(MAX_HEADER_BYTES)
            .keep_alive(true);
        let slots = Arc::new(Semaphore::new(state.config().max_connections));
        let graceful = GracefulShutdown::new();
        let purge = spawn_audit_purge(state.clone());
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            // A free connection slot first, then the next connection: at the limit, new
            // connections wait in the listen queue.
            let next = async {
                let slot = slots.clone().acquire_owned().await;
                (slot, listener.accept().await)
            };
            tokio::select! {
                (slot, accepted) = next => match (slot, accepted) {
                    (Ok(slot), Ok((stream, remote))) => {
                        if let Err(e) = stream.set_nodelay(true) {
                            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                        }
                        let conn = Connection {
                            state: state.clone(),
                            builder: builder.clone(),
                            watcher: graceful.watcher(),
                            remote,
                        };
                        let tls = tls.clone();
                        tokio::spawn(async move {
                            conn.run(stream, tls, header_timeout).await;
                            drop(slot);
                        });
                    }
                    (Err(_), _) => break, // the semaphore is never closed
                    (_, Err(e)) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        drop(purge);
        let bound = state.config().shutdown_timeout;
        tracing::info!(
            timeout_ms = bound.as_millis(),
            "shutting down: no new connections, waiting for in-flight requests"
        );
        if tokio::time::timeout(bound, graceful.shutdown())
            .await
            .is_ok()
        {
            tracing::info!("all connections closed");
        } else {
            tracing::warn!(
                "in-flight requests did not finish within the shutdown timeout; closing anyway"
            );
        }
    }
}

/// Length of the listen queue: connections the kernel completes while the server is at
/// `max_connections` (or busy) wait there. The usual default, 128, made a burst of
/// connections overflow it and their clients retry after a second; the kernel caps this
/// at `net.core.somaxconn` (4096 on current Linux).
pub const LISTEN_BACKLOG: u32 = 1024;

/// A listening socket with address reuse (a restarted server binds again at once) and a
/// [`LISTEN_BACKLOG`]-long queue.
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// One accepted connection, served in its own task.
struct Connection {
    state: Arc<AppState>,
    builder: http1::Builder,
    watcher: Watcher,
    remote: SocketAddr,
}

impl Connection {
    /// The TLS handshake (when HTTPS is on, within `handshake_timeout`), then HTTP/1.1
    /// until the connection closes.
    async fn run(self, stream: TcpStream, tls: Option<TlsAcceptor>, handshake_timeout: Duration) {
        let Some(acceptor) = tls else {
            self.serve(stream).await;
            return;
        };
        let remote = self.remote;
        match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => self.serve(stream).await,
            Ok(Err(e)) => tracing::debug!(error = %e, %remote, "TLS handshake failed"),
            Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
        }
    }

    async fn serve<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            state,
            builder,
            watcher,
            remote,
        } = self;
        let service = service_fn(move |req: Request<Incoming>| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(handle(state, req, Some(remote)).await) }
        });
        let conn = builder.serve_connection(TokioIo::new(io), service);
        if let Err(e) = watcher.watch(conn).await {
            tracing::debug!(error = %e, %remote, "connection ended with an error");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        let ok = |s: &str| sane_request_id(&HeaderValue::from_str(s).unwrap());
        assert_eq!(ok("abc-123_X.y:z").as_deref(), Some("abc-123_X.y:z"));
        assert_eq!(ok(&"a".repeat(128)).map(|s| s.len()), Some(128));
        assert_eq!(ok(&"a".repeat(129)), None);
        assert_eq!(ok("has space"), None);
        assert_eq!(ok(""), None);
        assert_eq!(
            sane_request_id(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()),
            None
        );
        let id = new_request_id();
        assert_eq!(id.len(), 36);
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(new_request_id(), id);
        // Across refills of the random batch: all distinct, all version 4.
        let ids: std::collections::HashSet<String> =
            (0..3 * RANDOM_BATCH).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 3 * RANDOM_BATCH);
        assert!(ids
            .iter()
            .all(|i| i.len() == 36 && i.as_bytes()[14] == b'4'));
    }
}
