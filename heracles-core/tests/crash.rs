//! Crash safety of the embedded directory: a child process writes in a loop and reports each
//! acknowledged write; the parent kills it with SIGKILL at random moments, reopens the data
//! folder, and checks that every acknowledged write survived and the directory is consistent.
//!
//! A separate test binary (`harness = false`) because it re-executes itself as the writer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use heracles_core::directory::{
    Directory, EmbeddedDirectory, Entry, Modification, Scope, SearchRequest,
};
use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::Filter;

const KILLS: usize = 24;
const WRITER_ENV: &str = "HERACLES_CRASH_WRITER_DIR";

fn base() -> Dn {
    Dn::parse("dc=example,dc=com").unwrap()
}

fn item(n: u64) -> Dn {
    base().child(Rdn::new("cn", &format!("w{n:06}")).unwrap())
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// Writer mode: add entries w<start>, w<start+1>, ... and, every few, modify an older one;
/// print "ack N" after each acknowledged write.
fn writer(folder: &Path) {
    rt().block_on(async {
        let dir = EmbeddedDirectory::open(folder, &base()).unwrap();
        if dir.get(&base(), &[]).await.unwrap().is_none() {
            dir.add(
                &Entry::new(base())
                    .with("objectClass", ["dcObject", "organization"])
                    .with("dc", ["example"])
                    .with("o", ["example"]),
            )
            .await
            .unwrap();
        }
        let existing = dir
            .search(
                &SearchRequest::new(base(), Scope::One, Filter::present("cn")).attributes(["1.1"]),
            )
            .await
            .unwrap()
            .len() as u64;
        let mut out = std::io::stdout().lock();
        let mut n = existing;
        loop {
            let dn = item(n);
            dir.add(
                &Entry::new(dn)
                    .with("objectClass", ["organizationalRole"])
                    .with("cn", [format!("w{n:06}")])
                    .with("description", ["v0"]),
            )
            .await
            .unwrap();
            writeln!(out, "ack {n}").unwrap();
            out.flush().unwrap();
            if n.is_multiple_of(3) {
                dir.modify(&item(n), &[Modification::replace("description", ["v1"])])
                    .await
                    .unwrap();
                writeln!(out, "mod {n}").unwrap();
                out.flush().unwrap();
            }
            if n % 50 == 49 {
                dir.compact().unwrap();
            }
            n += 1;
        }
    });
}

fn check(folder: &Path, acked: u64, modified: &[u64]) -> u64 {
    rt().block_on(async {
        let dir = EmbeddedDirectory::open(folder, &base()).unwrap();
        let found = dir
            .search(&SearchRequest::new(
                base(),
                Scope::One,
                Filter::present("cn"),
            ))
            .await
            .unwrap();
        let mut names: Vec<String> = found
            .iter()
            .map(|e| e.first_str("cn").unwrap().to_owned())
            .collect();
        names.sort();
        let count = names.len() as u64;
        // Writes are sequential: what survived is a prefix, at least everything acknowledged,
        // at most one write further (done but not yet acknowledged when the kill came).
        assert!(
            count >= acked,
            "acknowledged {acked} entries, found {count}"
        );
        assert!(
            count <= acked + 1,
            "found {count} entries, only {acked} were attempted"
        );
        for (i, name) in names.iter().enumerate() {
            assert_eq!(name, &format!("w{i:06}"), "gap in the surviving entries");
        }
        for m in modified {
            let e = dir.get(&item(*m), &[]).await.unwrap().unwrap();
            assert_eq!(
                e.first_str("description"),
                Some("v1"),
                "acknowledged modify of {m} lost"
            );
        }
        // Every index agrees with a scan.
        for i in (0..count).step_by(7) {
            let hit = dir
                .search(&SearchRequest::new(
                    base(),
                    Scope::One,
                    Filter::eq("cn", format!("W{i:06}")),
                ))
                .await
                .unwrap();
            assert_eq!(hit.len(), 1, "index lookup of w{i:06}");
        }
        count
    })
}

fn pseudo_random(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn main() {
    if let Some(folder) = std::env::var_os(WRITER_ENV) {
        writer(Path::new(&folder));
        return;
    }
    let started = Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("data");
    let exe = std::env::current_exe().unwrap();
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("running 1 test (seed {seed})");
    let mut acked_total = 0u64;
    let mut modified: Vec<u64> = Vec::new();
    for round in 0..KILLS {
        let mut child = Command::new(&exe)
            .env(WRITER_ENV, &folder)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Let it write for a random while (at least one write), then SIGKILL.
        let wait = Duration::from_millis(20 + pseudo_random(&mut seed) % 180);
        let t = Instant::now();
        let mut got_one = false;
        while t.elapsed() < wait || !got_one {
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(line) => {
                    got_one = true;
                    if let Some(n) = line.strip_prefix("ack ") {
                        acked_total = acked_total.max(n.parse::<u64>().unwrap() + 1);
                    } else if let Some(n) = line.strip_prefix("mod ") {
                        modified.push(n.parse().unwrap());
                    }
                }
                Err(e) => panic!("writer produced nothing for 10 s: {e}"),
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Drain what it acknowledged before dying.
        reader.join().unwrap();
        while let Ok(line) = rx.try_recv() {
            if let Some(n) = line.strip_prefix("ack ") {
                acked_total = acked_total.max(n.parse::<u64>().unwrap() + 1);
            } else if let Some(n) = line.strip_prefix("mod ") {
                modified.push(n.parse().unwrap());
            }
        }
        let count = check(&folder, acked_total, &modified);
        println!(
            "round {round:2}: killed after {wait:?}; {acked_total} acknowledged, {count} present"
        );
        // An unacknowledged but completed write counts from now on.
        acked_total = count;
    }
    assert!(acked_total > KILLS as u64);
    println!(
        "test crash::sigkill_during_writes ... ok ({KILLS} kills, {acked_total} entries, {:.1}s)",
        started.elapsed().as_secs_f64()
    );
    println!("\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}
