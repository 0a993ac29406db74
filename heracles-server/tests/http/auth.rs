//! Authentication over HTTP (SPEC §2): login, throttling, refresh rotation and reuse
//! detection, logout, token checks, `/auth/me`, password changes, and sessions shared by
//! two instances on one slapd.

use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use heracles_core::directory::{Directory, EmbeddedDirectory, LdapConfig, LdapDirectory};
use heracles_core::dn::Dn;
use heracles_core::service::{Heracles, Principal};
use heracles_server::auth::{TokenType, Tokens};
use heracles_server::config::Secret;
use serde_json::{json, Value};

use crate::support::{slapd_env, Resp, Server, JWT_SECRET};

const ADMIN_PW: &str = "Admin-passw0rd-for-tests";
const JDOE_PW: &str = "Jdoe-passw0rd-0001";
const BASE: &str = "dc=example,dc=com";

fn post(s: &Server, path: &str, body: &Value, token: Option<&str>) -> Resp {
    let b = body.to_string();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    s.send(&format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n{auth}Connection: close\r\n\r\n{b}",
        b.len()
    ))
}

fn post_empty(s: &Server, path: &str, token: &str) -> Resp {
    s.send(&format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    ))
}

fn get(s: &Server, path: &str, token: &str) -> Resp {
    s.send(&format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    ))
}

fn login(s: &Server, username: &str, password: &str) -> Resp {
    post(
        s,
        "/api/v1/auth/login",
        &json!({"username": username, "password": password}),
        None,
    )
}

/// Logs in and answers (access token, refresh token).
fn tokens(s: &Server, username: &str, password: &str) -> (String, String) {
    let r = login(s, username, password);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    (
        v["access_token"].as_str().unwrap().to_owned(),
        v["refresh_token"].as_str().unwrap().to_owned(),
    )
}

fn assert_unauthenticated(r: &Resp) {
    r.assert_error(401, "UNAUTHENTICATED");
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge:?}");
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Creates a user through the core (the users routes are not part of this work).
async fn create_user(h: &Heracles, uid: &str, password: &str) {
    let admin = Principal::system(h.base());
    let body = json!({
        "uid": uid, "cn": "John Doe", "sn": "Doe",
        "mail": format!("{uid}@example.com"), "userPassword": password
    });
    h.users()
        .create(&admin, body.as_object().unwrap())
        .await
        .unwrap();
}

/// A data folder holding the bootstrap administrator, `jdoe`, and the locked `locked`.
fn prepared_data(folder: &Path) {
    let base = Dn::parse(BASE).unwrap();
    let dir = EmbeddedDirectory::open(folder, &base).unwrap();
    let h = Heracles::new(Arc::new(dir), base);
    block_on(async {
        h.bootstrap(Some(ADMIN_PW)).await.unwrap();
        create_user(&h, "jdoe", JDOE_PW).await;
        create_user(&h, "locked", JDOE_PW).await;
        h.users()
            .lock(&Principal::system(h.base()), "locked")
            .await
            .unwrap();
    });
}

fn start_prepared(args: &[&str]) -> (tempfile::TempDir, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    prepared_data(&data);
    let s = Server::try_start_in(&data, args, &[]).unwrap();
    (tmp, s)
}

#[test]
fn bootstrap_admin_logs_in_and_me_lists_every_permission() {
    let s = Server::start_env(&[], &[("HERACLES_ADMIN_PASSWORD", ADMIN_PW)]);
    let r = login(&s, "admin", ADMIN_PW);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 1800);
    assert_eq!(v["user"]["uid"], "admin");
    assert_eq!(v["user"]["dn"], "uid=admin,ou=people,dc=example,dc=com");
    assert!(v["user"]["cn"].is_string());
    let access = v["access_token"].as_str().unwrap();
    assert_ne!(access, v["refresh_token"].as_str().unwrap());

    let r = get(&s, "/api/v1/auth/me", access);
    assert_eq!(r.status, 200, "{}", r.text());
    let me = r.json();
    assert_eq!(me["uid"], "admin");
    assert_eq!(me["dn"], "uid=admin,ou=people,dc=example,dc=com");
    assert_eq!(me["admin"], true);
    let perms: Vec<&str> = me["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(perms.len(), 55);
    for p in ["user:read", "settings:write", "audit:read", "acl:manage"] {
        assert!(perms.contains(&p), "{p}");
    }
    // A full DN works as the username; the password was not printed.
    let r = login(&s, "uid=admin,ou=people,dc=example,dc=com", ADMIN_PW);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!s.stderr().contains(ADMIN_PW));
    // The routes are documented.
    let doc = s.get("/openapi.json").json();
    for (method, path) in [
        ("post", "/api/v1/auth/login"),
        ("post", "/api/v1/auth/refresh"),
        ("post", "/api/v1/auth/logout"),
        ("get", "/api/v1/auth/me"),
        ("post", "/api/v1/users/{uid}/password"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    assert!(doc["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"].is_object());
}

#[test]
fn a_generated_admin_password_is_printed_once_and_works() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = crate::support::command(
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // Read stdout until the address line; the password line comes before it.
    let mut child = out;
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    let mut password = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("generated password: ").nth(1) {
            password = Some(rest.trim().to_owned());
        }
        if line.contains("listening on") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let password = password.expect("a generated password line");
    assert!(password.len() >= 12);
    // A restart does not print it again, and it logs in.
    let s = Server::try_start_in(&data, &[], &[]).unwrap();
    let r = login(&s, "admin", &password);
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn failed_logins_look_alike_and_are_throttled() {
    let (_tmp, s) = start_prepared(&[]);
    let wrong = login(&s, "jdoe", "Not-the-passw0rd");
    let unknown = login(&s, "nobody", "Not-the-passw0rd");
    let locked = login(&s, "locked", JDOE_PW);
    let bad_dn = login(&s, "uid=jdoe,ou=nowhere,dc=example,dc=com", JDOE_PW);
    let empty = login(&s, "jdoe", "");
    for r in [&wrong, &unknown, &locked, &bad_dn, &empty] {
        r.assert_error(401, "INVALID_CREDENTIALS");
        assert_eq!(r.body, wrong.body, "{}", r.text());
    }
    // jdoe has 3 failures (wrong, bad_dn — a uid= DN counts for that uid —, empty); 2 more
    // are allowed (default: 5 per 15 min).
    for _ in 0..2 {
        login(&s, "JDOE", "Not-the-passw0rd").assert_error(401, "INVALID_CREDENTIALS");
    }
    let r = login(&s, "jdoe", "Not-the-passw0rd");
    let v = r.assert_error(429, "RATE_LIMITED");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((800..=900).contains(&retry), "{retry}");
    assert_eq!(v["error"]["details"]["retry_after"], retry);
    // Even the right password, and the DN form of the same account.
    login(&s, "jdoe", JDOE_PW).assert_error(429, "RATE_LIMITED");
    login(&s, "uid=jdoe,ou=people,dc=example,dc=com", JDOE_PW).assert_error(429, "RATE_LIMITED");
    // Other accounts are unaffected.
    let r = login(&s, "admin", ADMIN_PW);
    assert_eq!(r.status, 200, "{}", r.text());
    // Malformed bodies are 400s, not failures.
    let r = post(&s, "/api/v1/auth/login", &json!({"username": "jdoe"}), None);
    r.assert_error(400, "VALIDATION_FAILED");
}

#[test]
fn failures_take_as_long_for_unknown_users_as_for_wrong_passwords() {
    let (_tmp, s) = start_prepared(&[]);
    for user in ["jdoe", "nobody", "locked"] {
        let started = Instant::now();
        login(&s, user, "Not-the-passw0rd").assert_error(401, "INVALID_CREDENTIALS");
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(250), "{user}: {took:?}");
    }
}

#[test]
fn other_spellings_of_a_locked_out_account_are_throttled_too() {
    let (_tmp, s) = start_prepared(&[]);
    // A full-width spelling names the same account for the directory (NFKC): it logs in.
    let fullwidth = "\u{ff4a}\u{ff44}\u{ff4f}\u{ff45}";
    let r = login(&s, fullwidth, JDOE_PW);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["user"]["uid"], "jdoe");
    // Five failures, each under another spelling of jdoe.
    for name in [
        "jdoe",
        fullwidth,
        "J\u{ff24}OE",
        " jdoe ",
        "UID=\u{ff2a}doe , OU=people,dc=example,dc=com",
    ] {
        login(&s, name, "Not-the-passw0rd").assert_error(401, "INVALID_CREDENTIALS");
    }
    // Every spelling is now refused, even with the right password; X-Forwarded-For
    // changes nothing (the client address is the connection's).
    for name in [
        "jdoe",
        fullwidth,
        "jDo\u{ff45}",
        "uid=jdoe,ou=people,dc=example,dc=com",
    ] {
        login(&s, name, JDOE_PW).assert_error(429, "RATE_LIMITED");
    }
    let body = json!({"username": "j\u{ff44}oe", "password": JDOE_PW}).to_string();
    let r = s.send(&format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         X-Forwarded-For: 10.9.8.7\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    r.assert_error(429, "RATE_LIMITED");
    // A name the directory tells apart (a zero-width space) is another (unknown) account.
    login(&s, "jdoe\u{200b}", JDOE_PW).assert_error(401, "INVALID_CREDENTIALS");
}

#[test]
fn concurrent_attempts_cannot_slip_past_the_account_limit() {
    let (_tmp, s) = start_prepared(&[]);
    let s = Arc::new(s);
    let workers: Vec<_> = (0..20)
        .map(|_| {
            let s = s.clone();
            thread::spawn(move || login(&s, "jdoe", "Not-the-passw0rd").status)
        })
        .collect();
    let statuses: Vec<u16> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let failures = statuses.iter().filter(|s| **s == 401).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((failures, limited), (5, 15), "{statuses:?}");
}

#[test]
fn failures_from_one_address_are_throttled() {
    let (_tmp, s) = start_prepared(&[]);
    // 30 failures (default: 30 per minute per address), each for another account.
    let s = Arc::new(s);
    let workers: Vec<_> = (0..30)
        .map(|i| {
            let s = s.clone();
            thread::spawn(move || login(&s, &format!("nobody{i}"), "Not-the-passw0rd"))
        })
        .collect();
    for w in workers {
        w.join().unwrap().assert_error(401, "INVALID_CREDENTIALS");
    }
    let r = login(&s, "admin", ADMIN_PW);
    let v = r.assert_error(429, "RATE_LIMITED");
    assert_eq!(v["error"]["details"]["limit"], "client address");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
}

#[test]
fn refresh_rotates_and_reuse_revokes_the_session() {
    let (_tmp, s) = start_prepared(&[]);
    let (access1, refresh1) = tokens(&s, "jdoe", JDOE_PW);
    let r = post(
        &s,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": refresh1}),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    let access2 = v["access_token"].as_str().unwrap().to_owned();
    let refresh2 = v["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 1800);
    assert_ne!(refresh1, refresh2);
    // Both access tokens of the live session work.
    assert_eq!(get(&s, "/api/v1/auth/me", &access1).status, 200);
    assert_eq!(get(&s, "/api/v1/auth/me", &access2).status, 200);
    // An access token is not a refresh token, nor the reverse.
    post(
        &s,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": access2}),
        None,
    )
    .assert_error(401, "UNAUTHENTICATED");
    assert_unauthenticated(&get(&s, "/api/v1/auth/me", &refresh2));
    // Reuse of the spent refresh token: 401, and the whole session is revoked.
    post(
        &s,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": refresh1}),
        None,
    )
    .assert_error(401, "UNAUTHENTICATED");
    assert_unauthenticated(&get(&s, "/api/v1/auth/me", &access2));
    assert_unauthenticated(&get(&s, "/api/v1/auth/me", &access1));
    post(
        &s,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": refresh2}),
        None,
    )
    .assert_error(401, "UNAUTHENTICATED");
    // Another login is a new session.
    let (access3, _) = tokens(&s, "jdoe", JDOE_PW);
    assert_eq!(get(&s, "/api/v1/auth/me", &access3).status, 200);
}

#[test]
fn logout_and_bad_tokens_are_refused() {
    let (_tmp, s) = start_prepared(&["--jwt-secret", JWT_SECRET]);
    let (access, refresh) = tokens(&s, "jdoe", JDOE_PW);
    let me = get(&s, "/api/v1/auth/me", &access);
    assert_eq!(me.status, 200, "{}", me.text());

    // No token at all.
    let r = s.get("/api/v1/auth/me");
    r.assert_error(401, "UNAUTHENTICATED");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"heracles\"")
    );
    // Garbage, other schemes.
    assert_unauthenticated(&get(&s, "/api/v1/auth/me", "garbage"));
    let r = s.send(&format!(
        "GET /api/v1/auth/me HTTP/1.1\r\nHost: t\r\nAuthorization: Basic {access}\r\nConnection: close\r\n\r\n"
    ));
    assert_unauthenticated(&r);

    // Tokens made with the same secret but wrong in one way each.
    let t = Tokens::new(&[Secret::new(JWT_SECRET)]).unwrap();
    let claims = t.verify(&access, TokenType::Access).unwrap();
    let dn = Dn::parse(&claims.sub).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let forge = |typ, sid: &str, iat, ttl| {
        t.issue(typ, &dn, "jdoe", sid, "some-jti", iat, ttl)
            .unwrap()
    };
    // The same session, correctly signed: accepted (the check is not on the jti).
    assert_eq!(
        get(
            &s,
            "/api/v1/auth/me",
            &forge(TokenType::Access, &claims.sid, now, 60)
        )
        .status,
        200
    );
    let expired = forge(TokenType::Access, &claims.sid, now - 120, 60);
    let r = get(&s, "/api/v1/auth/me", &expired);
    assert_unauthenticated(&r);
    assert!(r.text().contains("expired"), "{}", r.text());
    let immature = forge(TokenType::Access, &claims.sid, now + 120, 600);
    assert_unauthenticated(&get(&s, "/api/v1/auth/me", &immature));
    let unknown_session = forge(
        TokenType::Access,
        "0123456789abcdef0123456789abcdef",
        now,
        60,
    );
    assert_unauthenticated(&get(&s, "/api/v1/auth/me", &unknown_session));
    // alg none, with the claims of a valid token.
    let payload = access.split('.').nth(1).unwrap();
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
    assert_unauthenticated(&get(&s, "/api/v1/auth/me", &none));
    // Signed with a secret the server does not know.
    let other = Tokens::new(&[Secret::new("another-secret-another-secret-0123456")]).unwrap();
    let foreign = other
        .issue(TokenType::Access, &dn, "jdoe", &claims.sid, "j", now, 60)
        .unwrap();
    assert_unauthenticated(&get(&s, "/api/v1/auth/me", &foreign));

    // Logout: 204, then both tokens of the session are refused.
    let r = post_empty(&s, "/api/v1/auth/logout", &access);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_unauthenticated(&get(&s, "/api/v1/auth/me", &access));
    post(
        &s,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": refresh}),
        None,
    )
    .assert_error(401, "UNAUTHENTICATED");
    assert_unauthenticated(&post_empty(&s, "/api/v1/auth/logout", &access));
}

#[test]
fn old_secrets_still_verify_after_rotation() {
    let old = JWT_SECRET;
    let new = "a-new-secret-a-new-secret-a-new-secret-99";
    let (_tmp, s) = start_prepared(&["--jwt-secret", &format!("{new},{old}")]);
    let (access, _) = tokens(&s, "jdoe", JDOE_PW);
    let signer_new = Tokens::new(&[Secret::new(new)]).unwrap();
    let claims = signer_new.verify(&access, TokenType::Access).unwrap();
    let signer_old = Tokens::new(&[Secret::new(old)]).unwrap();
    assert!(signer_old.verify(&access, TokenType::Access).is_err());
    let dn = Dn::parse(&claims.sub).unwrap();
    let by_old = signer_old
        .issue(
            TokenType::Access,
            &dn,
            "jdoe",
            &claims.sid,
            "j",
            claims.iat,
            60,
        )
        .unwrap();
    assert_eq!(get(&s, "/api/v1/auth/me", &by_old).status, 200);
}

#[test]
fn a_user_changes_its_own_password_and_nothing_else() {
    let (_tmp, s) = start_prepared(&[]);
    let (access, _) = tokens(&s, "jdoe", JDOE_PW);
    let me = get(&s, "/api/v1/auth/me", &access);
    assert_eq!(me.status, 200, "{}", me.text());
    let me = me.json();
    assert_eq!(me["uid"], "jdoe");
    assert_eq!(me["cn"], "John Doe");
    assert_eq!(me["mail"], "jdoe@example.com");
    assert_eq!(me["admin"], false);
    // The implicit `self` policy: reading and writing its own entry.
    assert_eq!(me["permissions"], json!(["user:read", "user:write"]));

    let path = "/api/v1/users/jdoe/password";
    let new_pw = "Jdoe-new-passw0rd-2";
    // Without the current password, with a wrong one, with a weak new one.
    post(&s, path, &json!({"new_password": new_pw}), Some(&access))
        .assert_error(400, "VALIDATION_FAILED");
    post(
        &s,
        path,
        &json!({"current_password": "wrong-Passw0rd", "new_password": new_pw}),
        Some(&access),
    )
    .assert_error(401, "INVALID_CREDENTIALS");
    let r = post(
        &s,
        path,
        &json!({"current_password": JDOE_PW, "new_password": "short"}),
        Some(&access),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    post(
        &s,
        path,
        &json!({"current_password": JDOE_PW, "new_password": new_pw, "x": 1}),
        Some(&access),
    )
    .assert_error(400, "VALIDATION_FAILED");
    // Without a token.
    post(
        &s,
        path,
        &json!({"current_password": JDOE_PW, "new_password": new_pw}),
        None,
    )
    .assert_error(401, "UNAUTHENTICATED");
    let r = post(
        &s,
        path,
        &json!({"current_password": JDOE_PW, "new_password": new_pw}),
        Some(&access),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    login(&s, "jdoe", JDOE_PW).assert_error(401, "INVALID_CREDENTIALS");
    assert_eq!(login(&s, "jdoe", new_pw).status, 200);

    // Someone else's password is for administrators only.
    let r = post(
        &s,
        "/api/v1/users/admin/password",
        &json!({"new_password": "Hijacked-passw0rd-1"}),
        Some(&access),
    );
    let v = r.assert_error(403, "ACL_DENIED");
    assert!(v["error"]["details"]["permission"].is_string());
    assert_eq!(login(&s, "admin", ADMIN_PW).status, 200);
    // The administrator may set it without the current one.
    let (admin, _) = tokens(&s, "admin", ADMIN_PW);
    let r = post(
        &s,
        path,
        &json!({"new_password": "Reset-by-admin-passw0rd"}),
        Some(&admin),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(login(&s, "jdoe", "Reset-by-admin-passw0rd").status, 200);
    post(
        &s,
        "/api/v1/users/nobody/password",
        &json!({"new_password": "Reset-by-admin-passw0rd"}),
        Some(&admin),
    )
    .assert_error(404, "USER_NOT_FOUND");
}

/// A user on the project's slapd, created through the core with the service account.
fn slapd_user(env: &std::collections::HashMap<String, String>) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let uid = format!("auth{}x{nanos}", std::process::id());
    let base = Dn::parse(&env["BASE_DN"]).unwrap();
    let config = LdapConfig::simple(&env["LDAP_URI"], &env["SERVICE_DN"], &env["SERVICE_PW"]);
    block_on(async {
        let dir: Arc<dyn Directory> = Arc::new(LdapDirectory::connect(config).await.unwrap());
        let h = Heracles::new(dir, base);
        h.bootstrap(None).await.unwrap();
        create_user(&h, &uid, JDOE_PW).await;
    });
    uid
}

#[test]
fn logout_on_one_instance_is_honoured_by_another_within_a_second() {
    let env = slapd_env();
    let uid = slapd_user(&env);
    let args = [
        "--ldap-url",
        &env["LDAP_URI"],
        "--base-dn",
        &env["BASE_DN"],
        "--bind-dn",
        &env["SERVICE_DN"],
        "--jwt-secret",
        JWT_SECRET,
    ];
    let pw_env = [("HERACLES_BIND_PASSWORD", env["SERVICE_PW"].as_str())];
    let a = Server::start_env(&args, &pw_env);
    let b = Server::start_env(&args, &pw_env);

    // Log in on A; the token works on both.
    let (access, refresh) = tokens(&a, &uid, JDOE_PW);
    assert_eq!(get(&a, "/api/v1/auth/me", &access).status, 200);
    let r = get(&b, "/api/v1/auth/me", &access);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["uid"], uid.as_str());

    // Refresh on B, reuse of the spent token on A: the session dies everywhere.
    let r = post(
        &b,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": refresh}),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let access2 = r.json()["access_token"].as_str().unwrap().to_owned();
    post(
        &a,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": refresh}),
        None,
    )
    .assert_error(401, "UNAUTHENTICATED");
    thread::sleep(Duration::from_millis(1100));
    assert_unauthenticated(&get(&b, "/api/v1/auth/me", &access2));

    // Two concurrent refreshes with one token, one per instance: at most one wins.
    let (_, refresh) = tokens(&a, &uid, JDOE_PW);
    let (a, b) = (Arc::new(a), Arc::new(b));
    let racers: Vec<_> = [a.clone(), b.clone(), a.clone(), b.clone()]
        .into_iter()
        .map(|s| {
            let body = json!({ "refresh_token": refresh });
            thread::spawn(move || post(&s, "/api/v1/auth/refresh", &body, None).status)
        })
        .collect();
    let statuses: Vec<u16> = racers.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 401)),
        "{statuses:?}"
    );

    // A fresh session: used on A (so A has it cached), logged out on B.
    let (access, refresh) = tokens(&a, &uid, JDOE_PW);
    assert_eq!(get(&a, "/api/v1/auth/me", &access).status, 200);
    assert_eq!(post_empty(&b, "/api/v1/auth/logout", &access).status, 204);
    let started = Instant::now();
    loop {
        let r = get(&a, "/api/v1/auth/me", &access);
        if r.status == 401 {
            assert_unauthenticated(&r);
            break;
        }
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "A still accepts the token {:?} after the logout on B",
            started.elapsed()
        );
        thread::sleep(Duration::from_millis(50));
    }
    post(
        &a,
        "/api/v1/auth/refresh",
        &json!({"refresh_token": refresh}),
        None,
    )
    .assert_error(401, "UNAUTHENTICATED");
}
