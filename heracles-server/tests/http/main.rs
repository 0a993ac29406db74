//! HTTP tests of the real `heracles-server` binary on an ephemeral port: the embedded
//! directory by default, an unreachable LDAP server (a socket that never answers) for
//! timeouts and shutdown, and the project's slapd (`HERACLES_TEST_SLAPD_ENV`, set by
//! `scripts/test.sh`) for LDAP mode.
// Test support code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod acl;
mod audit;
mod auth;
mod blackbox;
mod dhcp;
mod dns;
mod faults;
mod injection;
mod jwt_attacks;
mod memory;
mod resources;
mod sudo;
mod support;
mod systems;
mod transport;

use std::thread;
use std::time::{Duration, Instant};

use support::{blackhole, command, send, slapd_env, Server, JWT_SECRET};

const JSON: &str = "application/json; charset=utf-8";

#[test]
fn health_version_and_openapi() {
    let s = Server::start(&[]);
    let r = s.get("/api/v1/health");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some(JSON));
    let v = r.json();
    assert_eq!(v["status"], "healthy");
    assert_eq!(v["services"]["ldap"], "connected");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));

    let r = s.get("/api/v1/version");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(JSON));
    assert_eq!(r.json()["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r.json()["api_version"], "v1");

    let r = s.get("/openapi.json");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some(JSON));
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/api/v1/health",
        "/api/v1/version",
        "/openapi.json",
        "/docs",
    ] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["Error"].is_object());
    assert!(doc["components"]["schemas"]["Pagination"].is_object());

    // HEAD is answered by the GET route, without a body.
    let r = s.send("HEAD /api/v1/version HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
}

#[test]
fn docs_page_and_its_assets_are_served_from_the_binary() {
    let s = Server::start(&[]);
    let r = s.get("/docs");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.header("content-security-policy").is_some());
    let html = r.text();
    let mut assets = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for part in html.split(attr).skip(1) {
            let url = part.split('"').next().unwrap();
            if url.starts_with("docs/") {
                assets.push(url.to_owned());
            }
        }
    }
    assert!(
        assets.contains(&"docs/swagger-ui.css".to_owned()),
        "{assets:?}"
    );
    assert!(
        assets.contains(&"docs/swagger-ui-bundle.js".to_owned()),
        "{assets:?}"
    );
    assert!(!html.contains("://"), "no absolute (CDN) URL in the page");
    for asset in &assets {
        // Relative to /docs, "docs/x" is /docs/x.
        let r = s.get(&format!("/{asset}"));
        assert_eq!(r.status, 200, "{asset}");
        assert!(r.body.len() > 100, "{asset}");
        let ct = r.header("content-type").unwrap();
        assert!(
            ct.starts_with("text/css") || ct.starts_with("text/javascript"),
            "{asset}: {ct}"
        );
    }
    let init = s.get("/docs/heracles-docs.js").text();
    assert!(init.contains("openapi.json"));
    s.get("/docs/nope.js").assert_error(404, "NOT_FOUND");
}

#[test]
fn unknown_routes_wrong_methods_and_bad_paths() {
    let s = Server::start(&[]);
    let v = s.get("/api/v1/nothing-here").assert_error(404, "NOT_FOUND");
    assert_eq!(v["error"]["details"]["path"], "/api/v1/nothing-here");
    s.get("/").assert_error(404, "NOT_FOUND");
    s.get("/api/v1/health/").assert_error(404, "NOT_FOUND");

    let r = s.send("DELETE /api/v1/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    let v = r.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    assert_eq!(v["error"]["details"]["method"], "DELETE");

    // A path parameter that is not UTF-8 once decoded.
    let v = s.get("/docs/%ff%fe").assert_error(400, "BAD_REQUEST");
    assert_eq!(v["error"]["details"]["parameter"], "file");
}

#[test]
fn request_ids_are_echoed_or_generated() {
    let s = Server::start(&[]);
    let r = s.send(
        "GET /api/v1/version HTTP/1.1\r\nHost: t\r\nX-Request-Id: client-id_42.x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.header("x-request-id"), Some("client-id_42.x"));
    // Errors carry it too.
    let r = s
        .send("GET /nope HTTP/1.1\r\nHost: t\r\nX-Request-Id: err-id\r\nConnection: close\r\n\r\n");
    assert_eq!(r.header("x-request-id"), Some("err-id"));

    let is_uuid = |id: &str| {
        id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4 && id.as_bytes()[14] == b'4'
    };
    let generated = s.get("/api/v1/version");
    let id = generated.header("x-request-id").unwrap();
    assert!(is_uuid(id), "{id}");
    assert_ne!(s.get("/api/v1/version").header("x-request-id"), Some(id));
    // Insane ids are replaced: too long, or not visible ASCII.
    let long = "x".repeat(129);
    for bad in [long.as_str(), "has space"] {
        let r = s.send(&format!(
            "GET /api/v1/version HTTP/1.1\r\nHost: t\r\nX-Request-Id: {bad}\r\nConnection: close\r\n\r\n"
        ));
        assert!(is_uuid(r.header("x-request-id").unwrap()), "{bad}");
    }
    // The access log names the request id.
    thread::sleep(Duration::from_millis(100));
    let log = s.stderr();
    assert!(log.contains("request_id=client-id_42.x"), "{log}");
    assert!(log.contains("status=200"), "{log}");
}

#[test]
fn bodies_over_the_limit_are_refused_before_routing() {
    let s = Server::start(&["--max-body-bytes", "1KiB"]);
    // Declared over the limit: 413 without reading it (even on a route without a body).
    let r = s.send(
        "POST /api/v1/version HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: 2048\r\nConnection: close\r\n\r\n",
    );
    let v = r.assert_error(413, "PAYLOAD_TOO_LARGE");
    assert_eq!(v["error"]["details"]["max_body_bytes"], 1024);
    assert!(r.header("x-request-id").is_some());
    // Under the limit it is routed as usual.
    let r = s.send(
        "POST /api/v1/version HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    r.assert_error(405, "METHOD_NOT_ALLOWED");
}

#[test]
fn bodies_need_json_content_type_and_valid_json() {
    let s = Server::start(&[]);
    let body = r#"{"username":"admin","password":"x"}"#;
    let r = s.send(&format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    r.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    let broken = r#"{"username": "admin", "password": "#;
    let r = s.send(&format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{broken}",
        broken.len()
    ));
    r.assert_error(400, "INVALID_JSON");
}

#[test]
fn json_logs() {
    let s = Server::start(&["--log-format", "json"]);
    let r = s.get("/api/v1/version");
    let id = r.header("x-request-id").unwrap().to_owned();
    thread::sleep(Duration::from_millis(100));
    let log = s.stderr();
    let line = log
        .lines()
        .find(|l| l.contains(&id))
        .unwrap_or_else(|| panic!("no log line for {id}: {log}"));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["status"], 200);
    assert_eq!(v["method"], "GET");
    assert_eq!(v["path"], "/api/v1/version");
    assert!(v["duration_ms"].is_string() || v["duration_ms"].is_number());
}

#[test]
fn invalid_configuration_exits_2_with_a_clear_message() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let cases: &[Case] = &[
        (
            &["--listen", "nowhere"],
            &[],
            "invalid listen 'nowhere' (from the flag --listen)",
        ),
        (&[], &[("HERACLES_BASE_DN", "not a dn")], "HERACLES_BASE_DN"),
        (&["--request-timeout", "0"], &[], "request_timeout"),
        (
            &["--ldap-url", "ldap://127.0.0.1:9"],
            &[],
            "service account",
        ),
        (&["--no-such-flag"], &[], "--no-such-flag"),
    ];
    for (args, env, expected) in cases {
        let mut all = vec!["--data-dir", data.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = command(&all, env).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} {env:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let out = command(&["--help"], &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--listen",
        "--ldap-url",
        "--bind-password-file",
        "HERACLES_",
        "--config",
    ] {
        assert!(help.contains(needle), "{needle} not in --help:\n{help}");
    }
}

#[test]
fn config_file_env_and_flags_in_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("heracles.toml");
    std::fs::write(&file, "max_body_bytes = 100\nlog_format = \"text\"\n").unwrap();
    let s = Server::start_env(
        &["--config", file.to_str().unwrap()],
        &[("HERACLES_MAX_BODY_BYTES", "200")],
    );
    // The environment (200) overrides the file (100).
    let r = s.send(
        "POST /api/v1/version HTTP/1.1\r\nHost: t\r\nContent-Length: 150\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 405, "{}", r.text());
    let r = s.send(
        "POST /api/v1/version HTTP/1.1\r\nHost: t\r\nContent-Length: 250\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 413);
    drop(s);
    // And a flag overrides both.
    let s = Server::start_env(
        &[
            "--config",
            file.to_str().unwrap(),
            "--max-body-bytes",
            "300",
        ],
        &[("HERACLES_MAX_BODY_BYTES", "200")],
    );
    let r = s.send(
        "POST /api/v1/version HTTP/1.1\r\nHost: t\r\nContent-Length: 250\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 405, "{}", r.text());
}

#[test]
fn embedded_secret_is_kept_private_and_the_data_dir_is_exclusive() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut s = Server::try_start_in(&data, &[], &[]).unwrap();
    let secret_path = data.join("jwt-secret");
    let first = std::fs::read_to_string(&secret_path).unwrap();
    assert_eq!(first.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A second instance on the same folder is refused while the first runs.
    let failed = Server::try_start_in(&data, &[], &[])
        .err()
        .expect("second start must fail");
    assert_eq!(failed.status.code(), Some(2), "{}", failed.stderr);
    assert!(failed.stderr.contains("in use"), "{}", failed.stderr);
    // An idle server stops at once on SIGTERM, with status 0.
    s.sigterm();
    let status = s.wait(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "{}", s.stderr());
    // The secret survives restarts.
    let s = Server::try_start_in(&data, &[], &[]).unwrap();
    assert_eq!(std::fs::read_to_string(&secret_path).unwrap(), first);
    assert_eq!(s.get("/api/v1/health").status, 200);
}

fn unreachable_ldap_args(addr: std::net::SocketAddr) -> Vec<String> {
    vec![
        "--ldap-url".into(),
        format!("ldap://{addr}"),
        "--bind-dn".into(),
        "cn=svc,dc=example,dc=com".into(),
        "--jwt-secret".into(),
        JWT_SECRET.into(),
    ]
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_then_exits_0() {
    let ldap = blackhole();
    let args = unreachable_ldap_args(ldap);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut s = Server::start_env(&args, &[("HERACLES_BIND_PASSWORD", "pw")]);
    // The health check waits up to 2 s for the hanging directory: a slow request.
    let addr = s.addr;
    let started = Instant::now();
    let slow = thread::spawn(move || {
        send(
            addr,
            b"GET /api/v1/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
    });
    thread::sleep(Duration::from_millis(500));
    s.sigterm();
    // New connections are refused soon after the signal.
    thread::sleep(Duration::from_millis(300));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the server still accepts connections after SIGTERM"
    );
    let r = slow.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json()["status"], "degraded");
    assert_eq!(r.json()["services"]["ldap"], "unreachable");
    assert_eq!(r.header("retry-after"), Some("5"));
    let status = s.wait(Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", s.stderr());
}

#[test]
fn request_time_limit_answers_503_with_retry_after() {
    let ldap = blackhole();
    let mut args = unreachable_ldap_args(ldap);
    args.extend(["--request-timeout".to_owned(), "500ms".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let s = Server::start_env(&args, &[("HERACLES_BIND_PASSWORD", "pw")]);
    let started = Instant::now();
    let r = s.get("/api/v1/health");
    let took = started.elapsed();
    let v = r.assert_error(503, "TIMEOUT");
    assert_eq!(r.header("retry-after"), Some("5"));
    assert_eq!(v["error"]["details"]["timeout_ms"], 500);
    assert!(took < Duration::from_millis(1800), "{took:?}");
    // Fast routes are unaffected.
    assert_eq!(s.get("/api/v1/version").status, 200);
}

#[test]
fn ldap_mode_on_the_project_slapd() {
    let env = slapd_env();
    let url = env["LDAP_URI"].clone();
    let base = env["BASE_DN"].clone();
    let dn = env["SERVICE_DN"].clone();
    let s = Server::start_env(
        &[
            "--ldap-url",
            &url,
            "--base-dn",
            &base,
            "--bind-dn",
            &dn,
            "--jwt-secret",
            JWT_SECRET,
        ],
        &[("HERACLES_BIND_PASSWORD", &env["SERVICE_PW"])],
    );
    let r = s.get("/api/v1/health");
    assert_eq!(r.status, 200, "{}\n{}", r.text(), s.stderr());
    assert_eq!(r.json()["status"], "healthy");
    assert_eq!(r.json()["services"]["ldap"], "connected");

    // Credentials the directory refuses are a configuration error: status 2.
    let dir = tempfile::tempdir().unwrap();
    let failed = Server::try_start_in(
        dir.path(),
        &[
            "--ldap-url",
            &url,
            "--base-dn",
            &base,
            "--bind-dn",
            &dn,
            "--jwt-secret",
            JWT_SECRET,
        ],
        &[("HERACLES_BIND_PASSWORD", "definitely-wrong")],
    )
    .err()
    .expect("a wrong service password must stop the start");
    assert_eq!(failed.status.code(), Some(2), "{}", failed.stderr);
    assert!(failed.stderr.contains("credentials"), "{}", failed.stderr);
}
