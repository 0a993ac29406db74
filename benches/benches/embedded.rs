//! The embedded directory next to slapd (through `LdapDirectory`), measured in one run.
//!
//! `cargo bench -p heracles-benches --bench embedded` (`-- --users N`, default 100000):
//! generates N users (inetOrgPerson + posixAccount), bulk-loads them into an embedded
//! directory and into a throwaway slapd (`ldap/test-slapd.sh`, `slapadd`), then measures
//! loading the embedded directory from its own data folder, equality lookups by uid, a
//! substring search over all users, and memory per entry — each next to slapd, as ratios.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::cast_precision_loss, clippy::too_many_lines)]

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use heracles_core::directory::{
    Directory, EmbeddedDirectory, LdapConfig, LdapDirectory, Scope, SearchRequest,
};
use heracles_core::dn::Dn;
use heracles_core::filter::Filter;

/// Stops the benchmark's slapd when main ends, also on a failed assertion.
struct StopOnDrop(PathBuf, PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg(self.0.join("ldap/test-slapd.sh"))
            .arg("stop")
            .arg(&self.1)
            .status();
    }
}

fn users_ldif(path: &Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        writeln!(
            f,
            "dn: uid=user{i:06},ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\n\
             objectClass: posixAccount\nuid: user{i:06}\ncn: User Number {i}\nsn: Number{i}\n\
             givenName: User\nmail: user{i:06}@example.com\nuidNumber: {}\ngidNumber: 10000\n\
             homeDirectory: /home/user{i:06}\nloginShell: /bin/bash\n",
            10_000 + i
        )
        .unwrap();
        if (i + 1) % 20_000 == 0 {
            eprintln!("  generated {} / {n} users", i + 1);
        }
    }
}

fn base_ldif() -> &'static str {
    "dn: dc=example,dc=com\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: example\n\n\
     dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n"
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path).map_or(0, |rd| {
        rd.filter_map(Result::ok)
            .filter_map(|e| e.metadata().ok())
            .filter(std::fs::Metadata::is_file)
            .map(|m| m.len())
            .sum()
    })
}

fn env_file(path: &Path) -> std::collections::HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect()
}

async fn lookups(dir: &dyn Directory, n: usize, rounds: usize) -> Duration {
    let people = Dn::parse("ou=people,dc=example,dc=com").unwrap();
    let t = Instant::now();
    for r in 0..rounds {
        let i = (r * 7919) % n;
        let found = dir
            .search(&SearchRequest::new(
                people.clone(),
                Scope::One,
                Filter::eq("uid", format!("user{i:06}")),
            ))
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
    }
    t.elapsed() / u32::try_from(rounds).unwrap()
}

async fn substring(dir: &dyn Directory) -> (Duration, usize) {
    let people = Dn::parse("ou=people,dc=example,dc=com").unwrap();
    let t = Instant::now();
    let found = dir
        .search(
            &SearchRequest::new(people, Scope::One, Filter::contains("cn", "ber 12"))
                .attributes(["uid"]),
        )
        .await
        .unwrap();
    (t.elapsed(), found.len())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure-open") {
        let folder = PathBuf::from(&args[i + 1]);
        let rss0 = rss_bytes();
        let t = Instant::now();
        let dir =
            EmbeddedDirectory::open(&folder, &Dn::parse("dc=example,dc=com").unwrap()).unwrap();
        let took = t.elapsed();
        let rss = rss_bytes().saturating_sub(rss0);
        println!("{} {rss}", took.as_micros());
        drop(dir);
        return;
    }
    let n: usize = args
        .iter()
        .position(|a| a == "--users")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    if args.iter().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` probes: nothing to list
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let tmp = tempfile::Builder::new()
        .prefix("hx-bench-")
        .tempdir()
        .unwrap();
    let ldif = tmp.path().join("users.ldif");
    eprintln!("generating {n} users");
    std::fs::write(tmp.path().join("base.ldif"), base_ldif()).unwrap();
    users_ldif(&ldif, n);

    // ---- embedded: bulk import, then measure a cold open of its folder -----------------
    let folder = tmp.path().join("embedded");
    let base = Dn::parse("dc=example,dc=com").unwrap();
    {
        let dir = EmbeddedDirectory::open(&folder, &base).unwrap();
        dir.import_ldif(base_ldif().as_bytes(), |_| {}).unwrap();
        let t = Instant::now();
        let file = std::fs::File::open(&ldif).unwrap();
        dir.import_ldif(BufReader::new(file), |done| {
            if done % 20_000 == 0 {
                eprintln!("  embedded: imported {done} / {n}");
            }
        })
        .unwrap();
        eprintln!("  embedded: import took {:.2?}", t.elapsed());
        dir.compact().unwrap();
    }
    // Open the folder in a fresh process, so its time and memory are those of a cold start.
    let out = Command::new(std::env::current_exe().unwrap())
        .arg("--measure-open")
        .arg(&folder)
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let mut parts = line.split_whitespace().map(|x| x.parse::<u64>().unwrap());
    let (open_micros, rss) = (parts.next().unwrap(), parts.next().unwrap());
    let open_time = Duration::from_micros(open_micros);
    let emb = EmbeddedDirectory::open(&folder, &base).unwrap();
    let emb_disk = dir_size(&folder);

    // ---- slapd: the project's throwaway server, loaded offline with slapadd ------------
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let sdir = tmp.path().join("slapd");
    eprintln!("starting slapd with {n} users (slapadd)");
    let t = Instant::now();
    let ok = Command::new("sh")
        .arg(root.join("ldap/test-slapd.sh"))
        .args(["start"])
        .arg(&sdir)
        .env("SEED_LDIF", &ldif)
        .env("TLS", "0")
        .status()
        .unwrap()
        .success();
    assert!(ok, "test-slapd.sh start failed");
    let slapd_load = t.elapsed();
    let _stop = StopOnDrop(root.clone(), sdir.clone());
    let env = env_file(&sdir.join("env"));
    let slapd_disk = dir_size(&sdir.join("data"));
    // The comparable operation: slapd starting on its existing data (mdb maps the file).
    let t = Instant::now();
    let ok = Command::new("sh")
        .arg(root.join("ldap/test-slapd.sh"))
        .arg("restart")
        .arg(&sdir)
        .status()
        .unwrap()
        .success();
    assert!(ok, "test-slapd.sh restart failed");
    let slapd_restart = t.elapsed();
    let env = {
        let _ = env;
        env_file(&sdir.join("env"))
    };

    rt.block_on(async {
        let ldap = LdapDirectory::connect(LdapConfig::simple(
            &env["LDAP_URI"],
            &env["SERVICE_DN"],
            &env["SERVICE_PW"],
        ))
        .await
        .unwrap();
        let rounds = 2000;
        eprintln!("measuring {rounds} lookups by uid on each");
        let emb_lookup = lookups(&emb, n, rounds).await;
        let ldap_lookup = lookups(&ldap, n, rounds).await;
        let (emb_sub, emb_hits) = substring(&emb).await;
        let (ldap_sub, ldap_hits) = substring(&ldap).await;
        let slapd_rss = std::fs::read_to_string(format!("/proc/{}/status", env["SLAPD_PID"]))
            .ok()
            .and_then(|st| {
                st.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<u64>().ok())
            })
            .unwrap_or(0)
            * 1024;
        assert_eq!(emb_hits, ldap_hits, "both backends find the same entries");

        println!("\n== embedded directory vs slapd, {n} users, this run ==");
        println!(
            "load        embedded open of its folder {open_time:>10.2?}   slapd restart on its data {slapd_restart:>10.2?}   ratio {:.2}  (target: embedded ≤ 2 s; slapadd of the LDIF took {slapd_load:.2?})",
            open_time.as_secs_f64() / slapd_restart.as_secs_f64()
        );
        println!(
            "uid lookup  embedded {emb_lookup:>10.2?}   slapd {ldap_lookup:>10.2?}   ratio {:.3}  (target: embedded ≤ 50 µs)",
            emb_lookup.as_secs_f64() / ldap_lookup.as_secs_f64()
        );
        println!(
            "substring   embedded {emb_sub:>10.2?}   slapd {ldap_sub:>10.2?}   ratio {:.2}  ({emb_hits} matches of (cn=*ber 12*))",
            emb_sub.as_secs_f64() / ldap_sub.as_secs_f64()
        );
        println!(
            "memory      embedded {:.0} B/entry resident, {:.0} B/entry on disk   slapd {:.0} B/entry resident (whole process, after the searches), {:.0} B/entry on disk (mdb)",
            rss as f64 / n as f64,
            emb_disk as f64 / n as f64,
            slapd_rss as f64 / n as f64,
            slapd_disk as f64 / n as f64
        );
    });
}
