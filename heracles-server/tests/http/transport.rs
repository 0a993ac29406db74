//! Transport hardening of the real binary: security headers, CORS (off by default, then
//! with listed origins), HTTPS with a self-signed certificate made by `openssl` for the
//! test, slow and idle clients (header read timeout), many connections, the connection
//! limit, oversized and deeply nested bodies, and LDAP over TLS without a trusted CA.

use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::blackbox::{call, token};
use crate::support::{command, parse, send, slapd_env, Resp, Server, JWT_SECRET};

const ADMIN_PW: &str = "Transport-admin-passw0rd-1";
const ORIGIN: &str = "https://admin.example.com";

fn assert_security_headers(r: &Resp, what: &str) {
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
    let csp = r.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp:?}");
    assert!(
        !r.headers.keys().any(|k| k.starts_with("access-control-")),
        "{what}: CORS headers while CORS is off: {:?}",
        r.headers
    );
}

#[test]
fn security_headers_on_every_answer_and_no_store_on_auth_answers() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    // Plain answers, errors, the docs page and its assets.
    let version = s.get("/api/v1/version");
    assert_eq!(version.status, 200);
    assert_security_headers(&version, "version");
    assert_eq!(
        version.header("content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
    assert_eq!(version.header("cache-control"), Some("no-store"));
    let missing = s.get("/api/v1/nothing-here");
    missing.assert_error(404, "NOT_FOUND");
    assert_security_headers(&missing, "404");
    let docs = s.get("/docs");
    assert_eq!(docs.status, 200);
    assert_security_headers(&docs, "docs");
    // The docs page keeps its own policy: Swagger UI's script, styles and the document
    // from this server.
    let csp = docs.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    let css = s.get("/docs/swagger-ui.css");
    assert_eq!(css.status, 200);
    assert_security_headers(&css, "docs asset");
    assert_eq!(css.header("cache-control"), Some("public, max-age=3600"));

    // Everything carrying tokens or identities is no-store: login (refused and granted),
    // refresh, me, logout.
    let refused = call(
        &s,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": "admin", "password": "wrong-password"})),
        &[],
    );
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert_eq!(refused.header("cache-control"), Some("no-store"));
    let login = call(
        &s,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": "admin", "password": ADMIN_PW})),
        &[],
    );
    assert_eq!(login.status, 200, "{}", login.text());
    assert_security_headers(&login, "login");
    assert_eq!(login.header("cache-control"), Some("no-store"));
    let v = login.json();
    let access = v["access_token"].as_str().unwrap().to_owned();
    let refresh = v["refresh_token"].as_str().unwrap();
    let refreshed = call(
        &s,
        "POST",
        "/api/v1/auth/refresh",
        None,
        Some(&json!({"refresh_token": refresh})),
        &[],
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.text());
    assert_eq!(refreshed.header("cache-control"), Some("no-store"));
    let me = call(&s, "GET", "/api/v1/auth/me", Some(&access), None, &[]);
    assert_eq!(me.status, 200, "{}", me.text());
    assert_security_headers(&me, "me");
    assert_eq!(me.header("cache-control"), Some("no-store"));
    let logout = call(&s, "POST", "/api/v1/auth/logout", Some(&access), None, &[]);
    assert!(
        logout.status == 204 || logout.status == 200,
        "{}",
        logout.text()
    );
    assert_security_headers(&logout, "logout");
    assert_eq!(logout.header("cache-control"), Some("no-store"));
}

fn preflight(s: &Server, path: &str, origin: &str) -> Resp {
    s.send(&format!(
        "OPTIONS {path} HTTP/1.1\r\nHost: t\r\nOrigin: {origin}\r\n\
         Access-Control-Request-Method: POST\r\n\
         Access-Control-Request-Headers: authorization, content-type\r\n\
         Connection: close\r\n\r\n"
    ))
}

#[test]
fn cors_is_off_by_default() {
    let s = Server::start(&[]);
    // The preflight is not granted: no route answers OPTIONS, and nothing says CORS.
    let r = preflight(&s, "/api/v1/users", ORIGIN);
    r.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_security_headers(&r, "preflight");
    let r = preflight(&s, "/api/v1/auth/login", ORIGIN);
    assert!(r.status >= 400, "{}", r.status);
    assert_security_headers(&r, "preflight");
    // A request naming an origin is answered, without CORS headers (the browser hides it
    // from the page).
    let r = call(
        &s,
        "GET",
        "/api/v1/version",
        None,
        None,
        &[("Origin", ORIGIN)],
    );
    assert_eq!(r.status, 200);
    assert_security_headers(&r, "GET with Origin");
    assert_eq!(r.header("vary"), None);
}

#[test]
fn cors_answers_listed_origins_only() {
    let s = Server::start_env(
        &[
            "--cors-origins",
            "https://Admin.Example.com, http://localhost:5173",
        ],
        &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)],
    );
    // A listed origin's preflight is granted, for any API path.
    for path in ["/api/v1/users", "/api/v1/auth/login", "/api/v1/users/jdoe"] {
        let r = preflight(&s, path, ORIGIN);
        assert_eq!(r.status, 204, "{path}: {}", r.text());
        assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
        let methods = r.header("access-control-allow-methods").unwrap();
        for m in ["GET", "POST", "PUT", "DELETE"] {
            assert!(methods.contains(m), "{methods}");
        }
        let headers = r.header("access-control-allow-headers").unwrap();
        assert!(headers.contains("Authorization"), "{headers}");
        assert!(headers.contains("Content-Type"), "{headers}");
        assert!(headers.contains("If-Match"), "{headers}");
        assert_eq!(r.header("access-control-max-age"), Some("600"));
        assert_eq!(r.header("access-control-allow-credentials"), None);
        assert_eq!(r.header("vary"), Some("Origin"));
        assert!(r.body.is_empty());
    }
    // Another origin's preflight is refused as without CORS, with no CORS headers; so is
    // one differing only in scheme or by a suffix.
    for other in [
        "https://evil.example.net",
        "http://admin.example.com",
        "https://admin.example.com.evil.example.net",
    ] {
        let r = preflight(&s, "/api/v1/users", other);
        r.assert_error(405, "METHOD_NOT_ALLOWED");
        assert_eq!(r.header("access-control-allow-origin"), None, "{other}");
        assert_eq!(r.header("access-control-allow-methods"), None, "{other}");
        assert_eq!(r.header("vary"), Some("Origin"));
    }
    // Real requests: the listed origin may read the answer and its useful headers.
    let login = call(
        &s,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": "admin", "password": ADMIN_PW})),
        &[("Origin", "http://localhost:5173")],
    );
    assert_eq!(login.status, 200, "{}", login.text());
    assert_eq!(
        login.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let exposed = login.header("access-control-expose-headers").unwrap();
    for h in ["ETag", "Location", "X-Request-Id", "Retry-After"] {
        assert!(exposed.contains(h), "{exposed}");
    }
    assert_eq!(login.header("vary"), Some("Origin"));
    assert_eq!(login.header("cache-control"), Some("no-store"));
    // Errors too (a browser app must be able to read the envelope).
    let r = call(
        &s,
        "GET",
        "/api/v1/users",
        None,
        None,
        &[("Origin", ORIGIN)],
    );
    r.assert_error(401, "UNAUTHENTICATED");
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    // An unlisted origin gets the answer without any CORS header.
    let r = call(
        &s,
        "GET",
        "/api/v1/version",
        None,
        None,
        &[("Origin", "https://evil.example.net")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("access-control-expose-headers"), None);
    assert_eq!(r.header("vary"), Some("Origin"));
}

/// A self-signed certificate for `localhost` and 127.0.0.1, made by the `openssl` CLI.
fn self_signed(dir: &Path) -> (String, String) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .arg("ec_paramgen_curve:prime256v1")
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        // An end-entity certificate (openssl's default CA:TRUE is refused by webpki).
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl (Debian: apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        cert.to_str().unwrap().to_owned(),
        key.to_str().unwrap().to_owned(),
    )
}

/// A TLS client trusting exactly the certificates in `ca_pem`.
fn tls_client(ca_pem: &Path) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_pem).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// One request over TLS; the handshake's error if it fails.
fn send_tls(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    name: &str,
    raw: &str,
) -> Result<Resp, std::io::Error> {
    let server_name = rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap();
    let conn = rustls::ClientConnection::new(config, server_name).unwrap();
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(raw.as_bytes())?;
    let mut buf = Vec::new();
    match tls.read_to_end(&mut buf) {
        Ok(_) => {}
        // The server closed without close_notify after a complete answer.
        Err(e) if e.kind() == ErrorKind::UnexpectedEof && !buf.is_empty() => {}
        Err(e) => return Err(e),
    }
    Ok(parse(&buf, false))
}

#[test]
fn https_listener_with_a_self_signed_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let s = Server::start(&["--tls-cert-file", &cert, "--tls-key-file", &key]);
    let client = tls_client(Path::new(&cert));
    let get = "GET /api/v1/version HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    for name in ["localhost", "127.0.0.1"] {
        let r = send_tls(s.addr, client.clone(), name, get).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["version"], env!("CARGO_PKG_VERSION"));
        assert_security_headers(&r, "https");
    }
    // A client that does not trust the certificate refuses the server.
    let other_dir = tempfile::tempdir().unwrap();
    let (other_cert, _) = self_signed(other_dir.path());
    let e = send_tls(s.addr, tls_client(Path::new(&other_cert)), "localhost", get).unwrap_err();
    assert!(e.to_string().contains("certificate"), "{e}");
    // Plain HTTP on the HTTPS port gets no HTTP answer, and the server stays up.
    let mut plain = TcpStream::connect(s.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    plain.write_all(get.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = plain.read_to_end(&mut buf);
    assert!(
        !buf.starts_with(b"HTTP/"),
        "plain HTTP answered: {}",
        String::from_utf8_lossy(&buf)
    );
    let r = send_tls(s.addr, client, "localhost", get).unwrap();
    assert_eq!(r.status, 200);

    // Unusable files: the server does not start (exit 2) and says which setting.
    let data = dir.path().join("d");
    let cases: &[(&[&str], &str)] = &[
        (&["--tls-cert-file", &cert], "tls_key_file"),
        (
            &["--tls-cert-file", &key, "--tls-key-file", &key],
            "no PEM certificate",
        ),
        (
            &["--tls-cert-file", &cert, "--tls-key-file", &other_cert],
            "tls_key_file",
        ),
        (
            &[
                "--tls-cert-file",
                "/nonexistent/cert.pem",
                "--tls-key-file",
                &key,
            ],
            "tls_cert_file",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec![
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        let out = command(&all, &[]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// Whether the server closed `s` (EOF or reset), waiting at most `wait` for it.
fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            // An answer (a 408, say) before closing is fine: read on.
            Ok(n) if n > 0 => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // EOF, or a reset.
            Ok(_) | Err(_) => return true,
        }
    }
}

#[test]
fn slow_and_idle_clients_are_cut_off_while_others_are_served() {
    let s = Server::start(&["--header-read-timeout", "1s"]);
    let addr = s.addr;
    // A slowloris: one byte of a never-ending header every 100 ms.
    let slow = thread::spawn(move || {
        let mut c = TcpStream::connect(addr).unwrap();
        let started = Instant::now();
        let head = b"GET /api/v1/version HTTP/1.1\r\nHost: t\r\nX-Slow: ";
        let mut sent = 0;
        while started.elapsed() < Duration::from_secs(8) {
            let byte = head.get(sent).copied().unwrap_or(b'a');
            if c.write_all(&[byte]).is_err() || closed_within(&mut c, Duration::from_millis(100)) {
                return Some(started.elapsed());
            }
            sent += 1;
        }
        None
    });
    // An idle connection that sends nothing at all.
    let mut idle = TcpStream::connect(addr).unwrap();
    let idle_started = Instant::now();
    // Meanwhile, other clients are answered promptly.
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let t = Instant::now();
        let r = s.get("/api/v1/version");
        assert_eq!(r.status, 200);
        worst = worst.max(t.elapsed());
        thread::sleep(Duration::from_millis(50));
    }
    assert!(worst < Duration::from_secs(1), "slowest answer {worst:?}");
    assert!(closed_within(&mut idle, Duration::from_secs(5)));
    let idle_lasted = idle_started.elapsed();
    let slow_lasted = slow
        .join()
        .unwrap()
        .expect("the slow client was never cut off");
    for (what, lasted) in [("idle", idle_lasted), ("slow", slow_lasted)] {
        assert!(
            lasted >= Duration::from_millis(900) && lasted < Duration::from_secs(4),
            "{what} connection closed after {lasted:?} (timeout 1s)"
        );
    }
    // Still serving.
    assert_eq!(s.get("/api/v1/health").status, 200);
}

#[test]
fn hundreds_of_idle_connections_do_not_starve_a_request() {
    // A header timeout longer than opening 500 connections can take on a busy machine.
    let s = Server::start(&["--header-read-timeout", "60s"]);
    let mut held = Vec::new();
    for i in 0..500 {
        let mut c = TcpStream::connect(s.addr).unwrap();
        if i % 2 == 0 {
            // Half of them have started a request and stalled.
            c.write_all(b"GET /api/v1/version HTTP/1.1\r\nHost: t\r\n")
                .unwrap();
        }
        held.push(c);
    }
    let t = Instant::now();
    let r = s.get("/api/v1/version");
    let took = t.elapsed();
    assert_eq!(r.status, 200);
    assert!(took < Duration::from_secs(2), "answered after {took:?}");
    // And a request on one of the stalled connections is still completed.
    held[0].write_all(b"Connection: close\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    held[0]
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    held[0].read_to_end(&mut buf).unwrap();
    assert_eq!(parse(&buf, false).status, 200);
    drop(held);
    assert_eq!(s.get("/api/v1/health").status, 200);
}

#[test]
fn the_connection_limit_queues_new_connections_until_one_closes() {
    let s = Server::start(&["--max-connections", "4", "--header-read-timeout", "1s"]);
    // Warm up (the first request opens the directory's caches).
    assert_eq!(s.get("/api/v1/version").status, 200);
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(100));
    // A fifth connection waits in the listen queue until the header read timeout closes
    // the idle ones, then it is served.
    let t = Instant::now();
    let r = send(
        s.addr,
        b"GET /api/v1/version HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let waited = t.elapsed();
    assert_eq!(r.status, 200);
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(5),
        "served after {waited:?}"
    );
    drop(held);
}

#[test]
fn connections_over_the_limit_wait_in_a_long_listen_queue() {
    let s = Server::start(&["--max-connections", "2", "--header-read-timeout", "60s"]);
    let busy: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    thread::sleep(Duration::from_millis(100));
    // The server accepts no more; 300 connections (more than the usual backlog of 128)
    // are still completed by the kernel at once: none is dropped and retried a second
    // later.
    // (A dropped SYN is retried after 1 s: the 900 ms bound fails it.)
    let mut queued = Vec::new();
    for i in 0..300 {
        let c = TcpStream::connect_timeout(&s.addr, Duration::from_millis(900))
            .unwrap_or_else(|e| panic!("connection {i} over the limit was not queued: {e}"));
        queued.push(c);
    }
    // Once the busy and queued clients go away, the server serves again.
    drop(busy);
    drop(queued);
    let t = Instant::now();
    let r = s.get("/api/v1/version");
    assert_eq!(r.status, 200);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

fn post_raw(s: &Server, path: &str, body: &str) -> Resp {
    s.send(&format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
}

#[test]
fn deep_nesting_oversized_bodies_and_headers_are_clean_errors() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    let admin = token(&s, "admin", ADMIN_PW);
    let deep = "[".repeat(100_000);
    let t = Instant::now();
    // Typed bodies refuse a nested array where they expect a string or an object before
    // descending into it.
    for body in [deep.clone(), format!("{{\"username\": {deep}")] {
        let r = post_raw(&s, "/api/v1/auth/login", &body);
        assert_eq!(r.status, 400, "{}", r.text());
        let code = r.json()["error"]["code"].clone();
        assert!(
            code == "INVALID_JSON" || code == "VALIDATION_FAILED",
            "{code}"
        );
    }
    // Bodies read as free-form JSON objects (users' attributes) hit serde_json's nesting
    // limit (128): 400, not a stack overflow; arrays and objects alike, cut off (malformed:
    // INVALID_JSON) or complete (well-formed but too deep: VALIDATION_FAILED).
    let users = |body: &str| {
        s.send(&format!(
            "POST /api/v1/users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {admin}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ))
    };
    let objects = "{\"a\":".repeat(100_000);
    let cases = [
        (
            format!("{{\"uid\": \"deep\", \"description\": {deep}"),
            "INVALID_JSON",
        ),
        (
            format!("{{\"uid\": \"deep\", \"description\": {objects}"),
            "INVALID_JSON",
        ),
        (
            format!(
                "{{\"uid\": \"deep\", \"description\": {deep}{}}}",
                "]".repeat(100_000)
            ),
            "VALIDATION_FAILED",
        ),
        (
            format!(
                "{{\"uid\": \"deep\", \"description\": {objects}1{}}}",
                "}".repeat(100_000)
            ),
            "VALIDATION_FAILED",
        ),
    ];
    for (body, code) in &cases {
        let v = users(body).assert_error(400, code);
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("recursion limit"),
            "{v}"
        );
    }
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());

    // Over the 1 MiB default: declared, and streamed (chunked, no length).
    let big = format!("\"{}\"", "x".repeat(1024 * 1024 + 10));
    post_raw(&s, "/api/v1/auth/login", &big).assert_error(413, "PAYLOAD_TOO_LARGE");
    let mut chunked = String::from(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    );
    let piece = "y".repeat(64 * 1024);
    for _ in 0..20 {
        write!(chunked, "{:x}\r\n{piece}\r\n", piece.len()).unwrap();
    }
    chunked.push_str("0\r\n\r\n");
    s.send(&chunked).assert_error(413, "PAYLOAD_TOO_LARGE");
    // Headers: 64 KiB at most (hyper's bare 431, then the connection closes).
    let r = s.send(&format!(
        "GET /api/v1/version HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "h".repeat(60 * 1024)
    ));
    assert_eq!(r.status, 200);
    let r = s.send(&format!(
        "GET /api/v1/version HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "h".repeat(100 * 1024)
    ));
    assert_eq!(r.status, 431);
    // Still serving, and the process did not die.
    assert_eq!(s.get("/api/v1/health").status, 200);
    let ok = call(&s, "GET", "/api/v1/auth/me", Some(&admin), None, &[]);
    assert_eq!(ok.status, 200, "{}", ok.text());
}

#[test]
fn ldap_over_tls_without_a_trusted_ca_is_refused() {
    let env = slapd_env();
    let ldaps = env["LDAPS_URI"].as_str();
    let ca = env["TLS_CA"].as_str();
    let base = [
        ("HERACLES_BIND_DN", env["SERVICE_DN"].as_str()),
        ("HERACLES_BIND_PASSWORD", env["SERVICE_PW"].as_str()),
        ("HERACLES_BASE_DN", env["BASE_DN"].as_str()),
        ("HERACLES_JWT_SECRET", JWT_SECRET),
    ];
    // Without ca_file the slapd's certificate (signed by the test's own CA) is not
    // trusted: health says why.
    let s = Server::start_env(&["--ldap-url", ldaps], &base);
    let r = s.get("/api/v1/health");
    assert_eq!(r.status, 503, "{}", r.text());
    let log = s.stderr();
    assert!(log.contains("TLS certificate was refused"), "{log}");
    assert!(log.contains("ca_file"), "{log}");
    drop(s);
    // With it, the same URL works.
    let s = Server::start_env(&["--ldap-url", ldaps, "--ca-file", ca], &base);
    let r = s.get("/api/v1/health");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["services"]["ldap"], "connected");
}
