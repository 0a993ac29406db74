//! Memory the server gives back: the working memory of an Argon2 password hash (19 MiB for
//! the hashes Heracles writes) is returned to the operating system when the hash is done,
//! so neither the bootstrap's hash of the administrator's password nor a burst of logins
//! on the embedded directory (each verifies an Argon2 hash in the server; the memory is
//! reused during the burst) leaves the idle server larger (README, Performance). Linux only: resident memory is read from `/proc`.

#![cfg(target_os = "linux")]

use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::Server;

const ADMIN_PW: &str = "Admin-passw0rd-for-memory";
const MIB: u64 = 1024;

/// `VmRSS` of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap_or_else(|| panic!("no VmRSS in {status}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Resident memory once the server has settled after its last request.
fn settled_rss_kib(s: &Server) -> u64 {
    thread::sleep(Duration::from_millis(300));
    rss_kib(s.pid())
}

fn login(s: &Server) -> u16 {
    let body = json!({"username": "admin", "password": ADMIN_PW}).to_string();
    s.send(&format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
    .status
}

#[test]
fn argon2_working_memory_is_returned_after_the_bootstrap_and_after_logins() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // First start: the bootstrap hashes the administrator's password with Argon2.
    let env = [("HERACLES_ADMIN_PASSWORD", ADMIN_PW)];
    let mut first = Server::try_start_in(&data, &[], &env).unwrap();
    let first_rss = settled_rss_kib(&first);
    first.sigterm();
    assert_eq!(first.wait(Duration::from_secs(20)).code(), Some(0));
    // A start on the existing folder hashes nothing: the reference.
    let s = Server::try_start_in(&data, &[], &[]).unwrap();
    let idle_rss = settled_rss_kib(&s);
    // Kept, the hash's memory would be 19 MiB more (the data loaded makes a second start
    // a little larger than a first one otherwise).
    assert!(
        first_rss < idle_rss + 8 * MIB,
        "first start {first_rss} KiB, second start {idle_rss} KiB"
    );

    // 24 logins, 4 at a time: each verifies the Argon2 hash in the server.
    let s = &s;
    thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(move || {
                for _ in 0..6 {
                    assert_eq!(login(s), 200, "{}", s.stderr());
                }
            });
        }
    });
    // During a burst the memory is kept for the next hash, then given back once no hash
    // has finished for a second (heracles_core::password).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let after_rss = settled_rss_kib(s);
        if after_rss < idle_rss + 10 * MIB {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "idle {idle_rss} KiB, 5 s after the logins {after_rss} KiB"
        );
    }
}
