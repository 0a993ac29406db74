//! Fault injection against the real binary (issue 9): a private slapd killed and restarted
//! under a mixed load, the server itself killed with SIGKILL under write load on the
//! embedded directory, and a stalled slapd (SIGSTOP). Each scenario has its own slapd
//! (`ldap/test-slapd.sh` in a temporary folder) so stopping it disturbs no other test.
// One scenario reads best as one function.
#![allow(clippy::too_many_lines)]

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{parse, read_env_file, Resp, Server, JWT_SECRET};

const ADMIN_PW: &str = "Faults-admin-passw0rd-1";

/// A private slapd in a temporary folder; stopped on drop.
struct OwnSlapd {
    dir: PathBuf,
    env: HashMap<String, String>,
    _tmp: tempfile::TempDir,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("ldap")
        .join("test-slapd.sh")
}

fn run_script(action: &str, dir: &Path) {
    let out = Command::new("sh")
        .arg(script())
        .arg(action)
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "test-slapd.sh {action} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sends a signal to a process by pid with the shell's built-in `kill`.
fn signal(sig: &str, pid: u32) {
    let ok = Command::new("sh")
        .args(["-c", &format!("kill {sig} {pid}")])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

impl OwnSlapd {
    fn start() -> OwnSlapd {
        // Short path: the ldapi socket path must stay under ~107 bytes.
        let tmp = tempfile::Builder::new().prefix("hx-").tempdir().unwrap();
        let dir = tmp.path().join("s");
        run_script("start", &dir);
        let env = read_env_file(&dir.join("env"));
        OwnSlapd {
            dir,
            env,
            _tmp: tmp,
        }
    }

    fn pid(&self) -> u32 {
        let pid: u32 = self.env["SLAPD_PID"].parse().unwrap();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(
            String::from_utf8_lossy(&cmdline).contains("slapd"),
            "SLAPD_PID {pid} is not a slapd"
        );
        pid
    }

    /// SIGKILL, and wait until the process is gone.
    fn kill(&self) {
        let pid = self.pid();
        signal("-KILL", pid);
        let t = Instant::now();
        while Path::new(&format!("/proc/{pid}/cmdline")).exists()
            && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty())
        {
            assert!(t.elapsed() < Duration::from_secs(5), "slapd {pid} lives on");
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts the same instance again (same config, data and ports).
    fn restart(&mut self) {
        run_script("restart", &self.dir);
        self.env = read_env_file(&self.dir.join("env"));
    }

    /// The server binary on this slapd, with short time limits.
    fn server(&self, request_timeout: &str, ldap_timeout: &str) -> Server {
        let e = &self.env;
        let args = [
            "--ldap-url",
            &e["LDAP_URI"],
            "--base-dn",
            &e["BASE_DN"],
            "--bind-dn",
            &e["SERVICE_DN"],
            "--jwt-secret",
            JWT_SECRET,
            "--request-timeout",
            request_timeout,
            "--ldap-timeout",
            ldap_timeout,
            "--ldap-connect-timeout",
            ldap_timeout,
        ];
        Server::start_env(
            &args,
            &[
                ("HERACLES_BIND_PASSWORD", &e["SERVICE_PW"]),
                ("HERACLES_ADMIN_PASSWORD", ADMIN_PW),
            ],
        )
    }
}

impl Drop for OwnSlapd {
    fn drop(&mut self) {
        // A stopped slapd must be resumed to exit on SIGTERM.
        if let Some(pid) = self.env.get("SLAPD_PID") {
            let _ = Command::new("sh")
                .args(["-c", &format!("kill -CONT {pid}")])
                .status();
        }
        let _ = Command::new("sh")
            .arg(script())
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}

/// One request over a fresh connection; an I/O error (the server is gone) is an `Err`.
fn try_call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<Resp> {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    if let Some(t) = token {
        write!(raw, "Authorization: Bearer {t}\r\n").unwrap();
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    if !body.is_empty() {
        raw.push_str("Content-Type: application/json\r\n");
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT") {
        write!(raw, "Content-Length: {}\r\n", body.len()).unwrap();
    }
    raw.push_str("\r\n");
    raw.push_str(&body);
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.write_all(raw.as_bytes())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "no complete response",
        ));
    }
    Ok(parse(&buf, false))
}

fn call(addr: SocketAddr, method: &str, path: &str, token: &str, body: Option<&Value>) -> Resp {
    try_call(addr, method, path, Some(token), body).unwrap()
}

fn login(addr: SocketAddr) -> String {
    let r = try_call(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"username": "admin", "password": ADMIN_PW})),
    )
    .unwrap();
    assert_eq!(r.status, 200, "login: {}", r.text());
    r.json()["access_token"].as_str().unwrap().to_owned()
}

fn user_body(uid: &str) -> Value {
    json!({"uid": uid, "cn": format!("Fault {uid}"), "sn": "Fault"})
}

/// A 503 in the SPEC envelope with `Retry-After`: the directory is unreachable, timed out,
/// or a change was refused because its audit event could not be written there.
fn assert_unavailable(r: &Resp, what: &str) {
    assert_eq!(r.status, 503, "{what}: {}", r.text());
    assert!(
        r.header("retry-after")
            .is_some_and(|v| v.parse::<u64>().is_ok_and(|n| n > 0)),
        "{what}: 503 without Retry-After: {:?}",
        r.headers
    );
    let code = r.json()["error"]["code"].as_str().unwrap_or("").to_owned();
    assert!(
        matches!(
            code.as_str(),
            "DIRECTORY_UNAVAILABLE" | "TIMEOUT" | "AUDIT_UNAVAILABLE"
        ),
        "{what}: 503 with code {code:?}"
    );
}

/// What one request of the load saw.
#[derive(Debug)]
struct Sample {
    what: String,
    start: Instant,
    took: Duration,
    status: u16,
}

/// The state a worker keeps of its own users.
#[derive(Default)]
struct Mine {
    /// Created (201) and not deleted.
    live: Vec<String>,
    /// A create or delete whose outcome is unknown (503): not checked afterwards.
    unsure: HashSet<String>,
}

/// (1) slapd killed for 5 s in the middle of a 60 s mixed load, then restarted.
#[test]
fn slapd_killed_and_restarted_under_mixed_load() {
    const RUN: Duration = Duration::from_secs(60);
    const KILL_AT: Duration = Duration::from_secs(20);
    const OUTAGE: Duration = Duration::from_secs(5);
    const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
    const SLACK: Duration = Duration::from_secs(1);
    const WORKERS: usize = 4;

    let mut slapd = OwnSlapd::start();
    let server = slapd.server("3s", "1500ms");
    let addr = server.addr;
    let token = Arc::new(login(addr));
    let started = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (token, samples, stop, seq) =
            (token.clone(), samples.clone(), stop.clone(), seq.clone());
        workers.push(thread::spawn(move || {
            let mut mine = Mine::default();
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                // POST, GET, list, GET, DELETE (when there is something to delete), ...
                let op = n % 5;
                let t = Instant::now();
                let (what, r) = match op {
                    0 | 3 if mine.live.len() > 1 => {
                        let uid = mine.live[n % mine.live.len()].clone();
                        let r = call(addr, "GET", &format!("/api/v1/users/{uid}"), &token, None);
                        if r.status != 503 {
                            assert_eq!(r.status, 200, "GET {uid}: {}", r.text());
                            assert_eq!(r.json()["uid"], uid.as_str());
                        }
                        (format!("GET {uid}"), r)
                    }
                    2 => {
                        let r = call(addr, "GET", "/api/v1/users?limit=20", &token, None);
                        if r.status != 503 {
                            assert_eq!(r.status, 200, "list: {}", r.text());
                            assert!(r.json()["data"].is_array(), "{}", r.text());
                        }
                        ("list".to_owned(), r)
                    }
                    4 if mine.live.len() > 3 => {
                        let uid = mine.live.remove(0);
                        let r = call(
                            addr,
                            "DELETE",
                            &format!("/api/v1/users/{uid}"),
                            &token,
                            None,
                        );
                        if r.status == 503 {
                            mine.unsure.insert(uid.clone());
                        } else {
                            assert_eq!(r.status, 204, "DELETE {uid}: {}", r.text());
                        }
                        (format!("DELETE {uid}"), r)
                    }
                    _ => {
                        let uid = format!("f{w}u{}", seq.fetch_add(1, Ordering::Relaxed));
                        let r = call(
                            addr,
                            "POST",
                            "/api/v1/users",
                            &token,
                            Some(&user_body(&uid)),
                        );
                        if r.status == 503 {
                            mine.unsure.insert(uid.clone());
                        } else {
                            assert_eq!(r.status, 201, "POST {uid}: {}", r.text());
                            mine.live.push(uid.clone());
                        }
                        (format!("POST {uid}"), r)
                    }
                };
                if r.status == 503 {
                    assert_unavailable(&r, &what);
                }
                samples.lock().unwrap().push(Sample {
                    what,
                    start: t,
                    took: t.elapsed(),
                    status: r.status,
                });
                // A steady load, not a CPU burner: the other tests of the binary run meanwhile.
                thread::sleep(Duration::from_millis(5));
            }
            mine
        }));
    }

    // The outage.
    thread::sleep(KILL_AT.saturating_sub(started.elapsed()));
    let killed = Instant::now();
    slapd.kill();
    thread::sleep(OUTAGE.saturating_sub(killed.elapsed()));
    slapd.restart();
    let back = Instant::now();
    // Recovery without a server restart: a directory request succeeds within 2 s.
    let recovered = loop {
        let r = call(addr, "GET", "/api/v1/users?limit=1", &token, None);
        if r.status == 200 {
            break back.elapsed();
        }
        assert_unavailable(&r, "probe after restart");
        assert!(
            back.elapsed() < Duration::from_secs(2),
            "no success {:?} after slapd was back: {}",
            back.elapsed(),
            r.text()
        );
        thread::sleep(Duration::from_millis(20));
    };
    thread::sleep(RUN.saturating_sub(started.elapsed()));
    stop.store(true, Ordering::Relaxed);
    let mut all = Mine::default();
    for w in workers {
        let m = w.join().unwrap();
        all.live.extend(m.live);
        all.unsure.extend(m.unsure);
    }
    let samples = samples.lock().unwrap();

    // No request took longer than the request time limit (plus slack).
    let slowest = samples.iter().max_by_key(|s| s.took).unwrap();
    assert!(
        slowest.took < REQUEST_TIMEOUT + SLACK,
        "{} took {:?}",
        slowest.what,
        slowest.took
    );
    // 503s only around the outage: from the kill (in-flight requests included) until 2 s
    // after slapd was back.
    let unavailable: Vec<&Sample> = samples.iter().filter(|s| s.status == 503).collect();
    for s in &unavailable {
        assert!(
            s.start + s.took >= killed && s.start <= back + Duration::from_secs(2),
            "{} answered 503 outside the outage ({:?} after the kill)",
            s.what,
            s.start.saturating_duration_since(killed)
        );
    }
    assert!(!unavailable.is_empty(), "the outage was not seen at all");
    let during = samples
        .iter()
        .filter(|s| s.start >= killed + Duration::from_millis(200) && s.start + s.took <= back)
        .count();
    assert!(during > 0, "no request ran during the outage");
    let ok = samples.iter().filter(|s| s.status < 300).count();
    eprintln!(
        "slapd outage: {} requests, {} ok, {} answered 503, {during} during the outage, \
         slowest {:?} ({}), recovered {recovered:?} after slapd was back",
        samples.len(),
        ok,
        unavailable.len(),
        slowest.took,
        slowest.what
    );
    assert!(ok > 100, "too few successful requests: {ok}");

    // Every create that got a 201 (and was not deleted) is in the directory.
    for uid in &all.live {
        let r = call(addr, "GET", &format!("/api/v1/users/{uid}"), &token, None);
        assert_eq!(
            r.status,
            200,
            "acknowledged user {uid} is missing: {}",
            r.text()
        );
    }
    // And directly in slapd, independent of the server.
    let e = &slapd.env;
    let out = Command::new("ldapsearch")
        .args([
            "-x",
            "-LLL",
            "-H",
            &e["LDAP_URI"],
            "-D",
            &e["ADMIN_DN"],
            "-w",
            &e["ADMIN_PW"],
            "-b",
            &e["BASE_DN"],
            "(&(objectClass=inetOrgPerson)(uid=f*))",
            "uid",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let found: HashSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("uid: "))
        .collect();
    for uid in &all.live {
        assert!(found.contains(uid.as_str()), "{uid} not in slapd");
    }
    // Nothing the test deleted with a 204 came back, nothing unknown appeared.
    for uid in &found {
        assert!(
            all.live.iter().any(|u| u == uid) || all.unsure.contains(*uid),
            "{uid} is in slapd but was deleted (or never acknowledged)"
        );
    }
}

/// (2) The server killed with SIGKILL under write load on the embedded directory, twice,
/// and restarted on the same data folder: it starts, and every acknowledged create is
/// there.
#[test]
fn server_killed_under_write_load_keeps_acknowledged_writes() {
    const WRITERS: usize = 4;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let env = [("HERACLES_ADMIN_PASSWORD", ADMIN_PW)];
    let mut acked: Vec<String> = Vec::new();
    let mut in_flight: Vec<String> = Vec::new();
    for round in 0..2 {
        let mut server = Server::try_start_in(&data, &[], &env)
            .unwrap_or_else(|f| panic!("restart {round} on the same data failed: {f:?}"));
        let addr = server.addr;
        let token = Arc::new(login(addr));
        // Everything acknowledged before is still there after the kill.
        for uid in &acked {
            let r = call(addr, "GET", &format!("/api/v1/users/{uid}"), &token, None);
            assert_eq!(r.status, 200, "acknowledged {uid} lost: {}", r.text());
        }
        let seq = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (token, seq) = (token.clone(), seq.clone());
                thread::spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let uid = format!("k{round}w{w}n{}", seq.fetch_add(1, Ordering::Relaxed));
                        match try_call(
                            addr,
                            "POST",
                            "/api/v1/users",
                            Some(&token),
                            Some(&user_body(&uid)),
                        ) {
                            Ok(r) => {
                                assert_eq!(r.status, 201, "POST {uid}: {}", r.text());
                                mine.push(uid);
                            }
                            // The server is gone: this create was never acknowledged.
                            Err(_) => return (mine, uid),
                        }
                    }
                })
            })
            .collect();
        // Let the writers get going, then kill mid-way.
        let t = Instant::now();
        while seq.load(Ordering::Relaxed) < 50 {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "the writers do not progress"
            );
            thread::sleep(Duration::from_millis(10));
        }
        thread::sleep(Duration::from_millis(1500));
        signal("-KILL", server.pid());
        let status = server.wait(Duration::from_secs(10));
        assert!(!status.success(), "{status:?}");
        let before = acked.len();
        for w in writers {
            let (mine, cut) = w.join().unwrap();
            acked.extend(mine);
            in_flight.push(cut);
        }
        eprintln!(
            "round {round}: {} creates acknowledged before SIGKILL ({} attempted)",
            acked.len() - before,
            seq.load(Ordering::Relaxed)
        );
        assert!(acked.len() - before >= 50, "too few writes before the kill");
    }
    let server = Server::try_start_in(&data, &[], &env)
        .unwrap_or_else(|f| panic!("restart after the last kill failed: {f:?}"));
    let addr = server.addr;
    let token = login(addr);
    for uid in &acked {
        let r = call(addr, "GET", &format!("/api/v1/users/{uid}"), &token, None);
        assert_eq!(r.status, 200, "acknowledged {uid} lost: {}", r.text());
    }
    // A create cut by the kill is there completely or not at all.
    for uid in &in_flight {
        let r = call(addr, "GET", &format!("/api/v1/users/{uid}"), &token, None);
        match r.status {
            200 => assert_eq!(r.json()["cn"], format!("Fault {uid}"), "{}", r.text()),
            404 => {}
            _ => panic!("GET {uid} (cut by the kill): {}", r.text()),
        }
    }
    // The list agrees, and the directory takes writes again.
    let r = call(addr, "GET", "/api/v1/users?limit=1", &token, None);
    assert_eq!(r.status, 200, "{}", r.text());
    let total = r.json()["pagination"]["total"].as_u64().unwrap();
    assert!(
        total >= acked.len() as u64,
        "total {total} < {}",
        acked.len()
    );
    let r = call(
        addr,
        "POST",
        "/api/v1/users",
        &token,
        Some(&user_body("afterkill")),
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

/// Threads and open file descriptors of a process.
fn threads_and_fds(pid: u32) -> (usize, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let threads = status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    (threads, fds)
}

/// Whether every thread of `pid` is stopped (state T).
fn all_stopped(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(Result::ok)
        .all(|task| {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('T'))
        })
}

/// (3) slapd stalled (SIGSTOP) under concurrent requests: each ends with a 503 `TIMEOUT`
/// and `Retry-After` within the LDAP time limits alone (the request time limit is set far
/// higher, so it cannot be what ends them: one LDAP operation, pool wait, probes of stale
/// pooled connections and connection set-up included, takes at most `ldap_timeout`, and the
/// first that fails ends the request; before the fix in the core's pool, 1–2 s and more);
/// after SIGCONT
/// the server serves normally, and its threads and open descriptors return to their level
/// from before the stall.
#[test]
fn stalled_slapd_times_out_and_leaks_nothing() {
    // `ldap_timeout`.
    const LDAP_BOUND: Duration = Duration::from_secs(1);
    const SLACK: Duration = Duration::from_millis(900);
    const CLIENTS: usize = 8;
    let slapd = OwnSlapd::start();
    let server = slapd.server("10s", "1s");
    let (addr, pid) = (server.addr, server.pid());
    let token = Arc::new(login(addr));
    for i in 0..4 {
        let r = call(
            addr,
            "POST",
            "/api/v1/users",
            &token,
            Some(&user_body(&format!("s{i}"))),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    // A mixed round of requests from CLIENTS threads at once; answers (what, took, response).
    let round = |tag: &'static str| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let token = token.clone();
                thread::spawn(move || {
                    let mut out = Vec::new();
                    for (method, path, body) in [
                        ("GET", format!("/api/v1/users/s{}", c % 4), None),
                        ("GET", "/api/v1/users?limit=10".to_owned(), None),
                        (
                            "POST",
                            "/api/v1/users".to_owned(),
                            Some(user_body(&format!("{tag}{c}"))),
                        ),
                    ] {
                        let t = Instant::now();
                        let r = call(addr, method, &path, &token, body.as_ref());
                        out.push((format!("{method} {path}"), t.elapsed(), r));
                    }
                    out
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect::<Vec<_>>()
    };
    // Warm up (fills the LDAP connection pool), then the baseline. The pooled connections
    // then idle past the pool's 5 s health-check age, so the stall also meets the probes of
    // stale connections (which used to add `ldap_connect_timeout` per idle connection).
    for r in round("w") {
        assert!(r.2.status < 300, "{}: {}", r.0, r.2.text());
    }
    thread::sleep(Duration::from_millis(5500));
    let before = threads_and_fds(pid);

    let slapd_pid = slapd.pid();
    signal("-STOP", slapd_pid);
    let t = Instant::now();
    while !all_stopped(slapd_pid) {
        assert!(t.elapsed() < Duration::from_secs(5), "slapd did not stop");
        thread::sleep(Duration::from_millis(10));
    }
    let stalled = round("x");
    let during = threads_and_fds(pid);
    signal("-CONT", slapd_pid);
    let mut slowest = Duration::ZERO;
    for (what, took, r) in &stalled {
        assert_unavailable(r, what);
        assert_eq!(r.json()["error"]["code"], "TIMEOUT", "{what}");
        assert!(*took < LDAP_BOUND + SLACK, "{what} took {took:?}");
        slowest = slowest.max(*took);
    }

    // Serving normally again (the stalled work slapd now catches up on may take a moment).
    let resumed = Instant::now();
    loop {
        let r = call(addr, "GET", "/api/v1/users/s0", &token, None);
        if r.status == 200 {
            break;
        }
        assert_unavailable(&r, "after SIGCONT");
        assert!(
            resumed.elapsed() < Duration::from_secs(5),
            "not serving {:?} after SIGCONT",
            resumed.elapsed()
        );
        thread::sleep(Duration::from_millis(50));
    }
    let recovered = resumed.elapsed();
    for r in round("y") {
        assert!(r.2.status < 300, "{}: {}", r.0, r.2.text());
    }
    // No leak: threads and descriptors settle back (a blocking-pool thread may idle for a
    // while before it exits, hence the wait).
    let settle = Instant::now();
    let after = loop {
        let now = threads_and_fds(pid);
        if (now.0 <= before.0 + 2 && now.1 <= before.1 + 4)
            || settle.elapsed() > Duration::from_secs(15)
        {
            break now;
        }
        thread::sleep(Duration::from_millis(200));
    };
    eprintln!(
        "stall: {} requests all 503, slowest {slowest:?}; serving {recovered:?} after SIGCONT; \
         threads/fds before {before:?}, during {during:?}, after {after:?} ({:?} to settle)",
        stalled.len(),
        settle.elapsed()
    );
    assert!(after.0 <= before.0 + 2, "threads: {before:?} -> {after:?}");
    assert!(after.1 <= before.1 + 4, "open fds: {before:?} -> {after:?}");
}
