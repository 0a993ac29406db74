//! The end-to-end load benchmark of `heracles-server` (issue 8), next to raw LDAP.
//!
//! ```sh
//! cargo run --release -p heracles-benches --bin load -- [--users 10000,100000] [--seconds 5]
//!     [--connections 1,16,64] [--backend slapd,embedded] [--ops LIST] [--smoke]
//! ```
//!
//! For each user count it generates that many users and their groups (LDIF, the layout
//! Heracles writes, see `seed.rs`), and for each backend:
//!
//! - **slapd**: starts the project's throwaway slapd (`ldap/test-slapd.sh`) seeded offline
//!   (`SEED_LDIF`, slapadd), and `heracles-server` against it as its service account;
//! - **embedded**: loads the same entries into an embedded directory folder (its LDIF
//!   import) and starts `heracles-server` on that folder (the server's default backend).
//!
//! It logs in as the bootstrap administrator and, at each concurrency (one keep-alive
//! connection per worker, each repeating one operation for `--seconds`), measures the HTTP
//! operations — list page 1, a deep page, get one user, a filtered list, create + delete,
//! create (kept) + page 1, login — and, on slapd, the raw LDAP work with ldap3 as the
//! limit: (a) the page's 50 entries alone, (b) that plus a DN-only paged count of every
//! user, and one uid search.
//! It prints one markdown table per backend and user count (requests/s, p50/p99 latency,
//! ratios to raw LDAP, deep page vs page 1, errors), the server's idle and peak RSS, and the
//! issue's targets. Progress goes to standard error, tables to standard output.
//!
//! Every process it starts is stopped by its PID and every folder removed, also on errors
//! and on SIGINT/SIGTERM. Any failed request makes the run say so loudly and exit 1.
//!
//! Settings it changes through the API before measuring, as an administrator of a big
//! directory would: `uid_range`/`gid_range` (100k users do not fit the default range), and
//! `login_throttle.address_failures` (every worker logs in from 127.0.0.1, and an attempt
//! in flight counts as a failure until it succeeds: 64 concurrent logins would exceed the
//! default 30 per address).

mod drive;
mod http;
mod procs;
mod seed;

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

use drive::{Op, Sample, Target};
use http::Client;
use seed::{Seed, BASE};

/// The error type of the benchmark (it is a program, not a test: no panics).
pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The bootstrap administrator's password (a test fixture).
const ADMIN_PASSWORD: &str = "Admin-Passw0rd-1";
/// The token secret of the LDAP-backed server (a test fixture).
const JWT_SECRET: &str = "load-benchmark-token-secret-not-for-production-use";

const USAGE: &str = "usage: load [--users N,N...] [--seconds S] [--connections C,C...]
            [--backend slapd,embedded] [--ops OP,OP...] [--ldap-connections N]
            [--server PATH] [--read-cache ENTRIES] [--user-replica USERS] [--smoke]

  --users            seeded user counts (default 10000,100000)
  --seconds          duration of each measurement (default 5; fractions allowed)
  --connections      concurrent connections (default 1,16,64)
  --backend          slapd, embedded or both (default slapd,embedded)
  --ops              subset of: raw-page raw-count raw-get page1 deep get filtered
                     create-delete create-list login (default: all; raw-* only on
                     slapd)
  --ldap-connections raw ldap3 connections, bound as the server's service account
                     (default 8, the server's pool size)
  --server           the heracles-server binary (default: built with cargo in the same
                     profile as this program)
  --read-cache       the server's `read_cache` setting (default: the server's, 16384);
                     0 measures every get and page reading the directory
  --user-replica     the server's `user_replica` setting (default: the server's, 200000);
                     0 measures gets without the copy of users
  --smoke            a tiny run that checks everything works: 300 users, 0.3 s,
                     connections 1,4, both backends (flags given after it override)";

#[derive(Debug, Clone)]
struct Options {
    users: Vec<usize>,
    seconds: f64,
    connections: Vec<usize>,
    backends: Vec<Backend>,
    ops: Vec<Op>,
    ldap_connections: usize,
    server: Option<PathBuf>,
    read_cache: Option<usize>,
    user_replica: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Slapd,
    Embedded,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Slapd => "slapd",
            Backend::Embedded => "embedded",
        }
    }
}

const ALL_OPS: [(&str, Op); 10] = [
    ("raw-page", Op::RawPage),
    ("raw-count", Op::RawPageCount),
    ("raw-get", Op::RawGet),
    ("page1", Op::ListPage1),
    ("deep", Op::ListDeep),
    ("get", Op::GetUser),
    ("filtered", Op::ListFiltered),
    ("create-delete", Op::CreateDelete),
    ("create-list", Op::CreateList),
    ("login", Op::Login),
];

fn list<T: std::str::FromStr>(flag: &str, v: &str) -> Res<Vec<T>> {
    v.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .replace('_', "")
                .parse()
                .map_err(|_| format!("{flag}: cannot read {s:?}").into())
        })
        .collect()
}

fn parse_args(args: &[String]) -> Res<Option<Options>> {
    let mut o = Options {
        users: vec![10_000, 100_000],
        seconds: 5.0,
        connections: vec![1, 16, 64],
        backends: vec![Backend::Slapd, Backend::Embedded],
        ops: ALL_OPS.iter().map(|(_, op)| *op).collect(),
        ldap_connections: 8,
        server: None,
        read_cache: None,
        user_replica: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "--smoke" => {
                o.users = vec![300];
                o.seconds = 0.3;
                o.connections = vec![1, 4];
                o.backends = vec![Backend::Slapd, Backend::Embedded];
            }
            "--users" => o.users = list(flag, &value()?)?,
            "--seconds" => {
                o.seconds = value()?
                    .parse()
                    .map_err(|_| format!("{flag}: not a number"))?;
            }
            "--connections" => o.connections = list(flag, &value()?)?,
            "--ldap-connections" => {
                o.ldap_connections = value()?
                    .parse()
                    .map_err(|_| format!("{flag}: not a number"))?;
            }
            "--server" => o.server = Some(PathBuf::from(value()?)),
            "--read-cache" => {
                o.read_cache = Some(
                    value()?
                        .parse()
                        .map_err(|_| format!("{flag}: not a number of entries"))?,
                );
            }
            "--user-replica" => {
                o.user_replica = Some(
                    value()?
                        .parse()
                        .map_err(|_| format!("{flag}: not a number of users"))?,
                );
            }
            "--backend" => {
                o.backends = value()?
                    .split(',')
                    .map(|b| match b.trim() {
                        "slapd" => Ok(Backend::Slapd),
                        "embedded" => Ok(Backend::Embedded),
                        other => Err(format!("--backend: unknown backend {other:?}")),
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--ops" => {
                o.ops = value()?
                    .split(',')
                    .map(|name| {
                        ALL_OPS
                            .iter()
                            .find(|(n, _)| *n == name.trim())
                            .map(|(_, op)| *op)
                            .ok_or_else(|| format!("--ops: unknown operation {name:?}\n{USAGE}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            // `cargo test --benches` style probes: nothing to do.
            "--bench" | "--test" | "--list" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
        }
    }
    if o.users.is_empty() || o.users.contains(&0) {
        return Err("--users: at least one count, each at least 1".into());
    }
    if o.connections.is_empty() || o.connections.contains(&0) {
        return Err("--connections: at least one value, each at least 1".into());
    }
    if !(o.seconds > 0.0 && o.seconds.is_finite()) {
        return Err("--seconds must be positive".into());
    }
    if o.backends.is_empty() || o.ops.is_empty() || o.ldap_connections == 0 {
        return Err(format!("nothing to measure\n{USAGE}").into());
    }
    Ok(Some(o))
}

/// The project's root (where `ldap/test-slapd.sh` is).
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The server binary: the given one, or built now by cargo in this program's profile.
fn server_binary(given: Option<&PathBuf>) -> Res<PathBuf> {
    if let Some(p) = given {
        if !p.is_file() {
            return Err(format!("--server {}: no such file", p.display()).into());
        }
        return Ok(p.clone());
    }
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or("cannot tell where this program lives")?
        .to_owned();
    let release = dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "==> building heracles-server ({}) with cargo",
        if release { "release" } else { "debug" }
    );
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "--quiet", "--locked", "-p", "heracles-server"])
        .current_dir(project_root());
    if release {
        cmd.arg("--release");
    }
    let status = cmd.status().map_err(|e| {
        format!("cannot run cargo ({e}); build heracles-server yourself and pass --server PATH")
    })?;
    if !status.success() {
        return Err("cargo build -p heracles-server failed".into());
    }
    let bin = dir.join("heracles-server");
    if !bin.is_file() {
        return Err(format!("{} was not built", bin.display()).into());
    }
    Ok(bin)
}

/// One measured row.
#[derive(Debug)]
struct Row {
    op: Op,
    part: usize,
    label: String,
    conns: usize,
    sample: Sample,
    /// Not measured: no request succeeded at this lower concurrency.
    skipped: Option<usize>,
}

/// Everything measured on one backend with one user count.
/// The longest wait for slapd to finish what a row left it (see `procs::settle`).
const SETTLE_MAX: Duration = Duration::from_secs(300);

#[derive(Debug)]
struct RunResult {
    backend: Backend,
    users: usize,
    groups: usize,
    sales: usize,
    total: usize,
    seed_secs: f64,
    idle_kib: u64,
    peak_kib: u64,
    logged_5xx: usize,
    rows: Vec<Row>,
    /// How long slapd was left busy by a row (more than a second): (row, connections, s).
    settled: Vec<(String, usize, f64)>,
    /// What the server logged of its copy of users (made, with its size and time).
    replica_log: Vec<String>,
}

impl RunResult {
    fn find(&self, op: Op, part: usize, conns: usize) -> Option<&Sample> {
        self.rows
            .iter()
            .find(|r| r.op == op && r.part == part && r.conns == conns)
            .map(|r| &r.sample)
    }

    fn errors(&self) -> u64 {
        self.rows.iter().map(|r| r.sample.errors).sum()
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = real_main(&args);
    // Whatever happened: nothing started here stays behind.
    procs::cleanup_all();
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("load: error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs everything; `Ok(false)` when requests failed.
fn real_main(args: &[String]) -> Res<bool> {
    let Some(opts) = parse_args(args)? else {
        return Ok(true);
    };
    procs::on_signal_cleanup()?;
    let bin = server_binary(opts.server.as_ref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let root = project_root();
    println!("{}", machine());
    let mut results = Vec::new();
    for &n in &opts.users {
        let (tmp, _tmp_guard) = procs::temp_folder("run")?;
        eprintln!("==> {n} users: generating the seed LDIF");
        let seed = seed::write_ldif(&tmp.join("seed.ldif"), n)?;
        for &backend in &opts.backends {
            eprintln!("==> {n} users on {}", backend.name());
            let r = run_backend(&runtime, &opts, backend, &seed, &root, &bin, &tmp)?;
            println!("{}", table(&r, &opts));
            results.push(r);
        }
    }
    println!("{}", summary(&results, &opts));
    println!("Load average after the run: {}", load_average());
    let errors: u64 = results.iter().map(RunResult::errors).sum();
    let logged: usize = results.iter().map(|r| r.logged_5xx).sum();
    if errors > 0 || logged > 0 {
        let banner = "!".repeat(78);
        eprintln!(
            "\n{banner}\n!!! THIS RUN HAD {errors} FAILED REQUESTS ({logged} server errors \
             in the access logs): its numbers are NOT valid\n{banner}"
        );
        println!(
            "\n**THIS RUN HAD {errors} FAILED REQUESTS ({logged} logged server errors): \
             its numbers are not valid.**"
        );
        return Ok(false);
    }
    Ok(true)
}

#[allow(clippy::too_many_lines)]
fn run_backend(
    rt: &tokio::runtime::Runtime,
    opts: &Options,
    backend: Backend,
    seed: &Seed,
    root: &Path,
    bin: &Path,
    tmp: &Path,
) -> Res<RunResult> {
    let work = tmp.join(format!("server-{}", backend.name()));
    std::fs::create_dir_all(&work)?;
    let seeding = Instant::now();
    let mut args: Vec<String> = ["--listen", "127.0.0.1:0", "--base-dn", BASE]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    if let Some(n) = opts.read_cache {
        args.extend(["--read-cache".into(), n.to_string()]);
    }
    if let Some(n) = opts.user_replica {
        args.extend(["--user-replica".into(), n.to_string()]);
    }
    let mut env = vec![("HERACLES_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned())];
    let mut slapd = None;
    let mut slapd_pid: Option<u32> = None;
    let mut raw_login = None;
    match backend {
        Backend::Slapd => {
            let s = procs::Slapd::start(root, &tmp.join("slapd"), &seed.ldif)?;
            slapd_pid = s.get("SLAPD_PID")?.parse().ok();
            let (url, dn, pw) = (
                s.get("LDAP_URI")?.to_owned(),
                s.get("SERVICE_DN")?.to_owned(),
                s.get("SERVICE_PW")?.to_owned(),
            );
            // The id counters, as Heracles would have left them after creating the seed.
            let (next_uid, next_gid) = seed.next_ids();
            rt.block_on(set_counters(&url, &dn, &pw, next_uid, next_gid))?;
            args.extend([
                "--ldap-url".into(),
                url.clone(),
                "--bind-dn".into(),
                dn.clone(),
            ]);
            env.push(("HERACLES_BIND_PASSWORD", pw.clone()));
            env.push(("HERACLES_JWT_SECRET", JWT_SECRET.to_owned()));
            raw_login = Some((url, dn, pw));
            slapd = Some(s);
        }
        Backend::Embedded => {
            let data = tmp.join("embedded-data");
            seed::load_embedded(&data, seed)?;
            args.extend(["--data-dir".into(), data.display().to_string()]);
        }
    }
    let seed_secs = seeding.elapsed().as_secs_f64();
    let started = Instant::now();
    let server = procs::Server::start(bin, &args, &env, &work)?;
    let (idle_kib, _) = server.memory_kib();
    eprintln!(
        "    server: pid {} listening on {} after {:.1} s; idle RSS {:.1} MB",
        server.pid,
        server.addr,
        started.elapsed().as_secs_f64(),
        mb(idle_kib)
    );
    let duration = Duration::from_secs_f64(opts.seconds);
    let ops: Vec<Op> = opts
        .ops
        .iter()
        .copied()
        .filter(|op| backend == Backend::Slapd || !op.is_raw())
        .collect();
    let rows = rt.block_on(async {
        let mut admin = Client::connect(server.addr).await?;
        let token = login(&mut admin, "admin", ADMIN_PASSWORD).await?;
        for (key, value) in [
            (
                "login_throttle",
                r#"{"account_failures": 5, "account_window_seconds": 900,
                    "address_failures": 1000000, "address_window_seconds": 60}"#,
            ),
            ("uid_range", r#"{"min": 10000, "max": 2000000000}"#),
            ("gid_range", r#"{"min": 10000, "max": 2000000000}"#),
        ] {
            let body = format!("{{\"value\": {value}}}");
            let r = admin
                .send("PUT", &format!("/api/v1/settings/{key}"), Some(&token), Some(&body))
                .await?;
            if r.status != 200 {
                return Err(format!("PUT /settings/{key}: {}", r.summary()).into());
            }
        }
        let r = admin
            .send("GET", "/api/v1/users?limit=50", Some(&token), None)
            .await?;
        let total = r.json()?["pagination"]["total"]
            .as_u64()
            .and_then(|t| usize::try_from(t).ok())
            .ok_or_else(|| format!("GET /users: no total in {}", r.summary()))?;
        if total != seed.users + 1 {
            return Err(format!(
                "GET /users counts {total} users; expected {} seeded + the administrator",
                seed.users
            )
            .into());
        }
        let ldap = match &raw_login {
            Some((url, dn, pw)) => {
                drive::ldap_connections(url, dn, pw, opts.ldap_connections).await?
            }
            None => Vec::new(),
        };
        let target = Arc::new(Target {
            addr: server.addr,
            token,
            users: seed.users,
            total,
            ldap,
            ldap_login: raw_login.clone(),
        });
        // Warm-up: each operation briefly on one connection (not recorded).
        let warm = duration.mul_f64(0.2).min(Duration::from_millis(500));
        for &op in &ops {
            drive::run(op, &target, 1, warm).await?;
        }
        let mut settled = Vec::new();
        // Rows that write leave slapd work to finish in the background (refint after
        // deletes): each next row starts once slapd is idle again, and the wait is reported.
        let settle = |after: String, conns: usize| async move {
            let pid = slapd_pid?;
            let waited = procs::settle(pid, &after, SETTLE_MAX).await;
            (waited >= Duration::from_secs(1)).then_some((after, conns, waited.as_secs_f64()))
        };
        if let Some(s) = settle("the warm-up".into(), 1).await {
            settled.push(s);
        }
        let mut rows = Vec::new();
        // An operation none of whose requests succeeded is not run again at a higher
        // concurrency (100 000 users listed at once by 64 connections would only pile up
        // memory and time-outs): its rows say so instead.
        let mut failed_at: Vec<(Op, usize)> = Vec::new();
        for &conns in &opts.connections {
            for &op in &ops {
                let labels = op.labels(target.deep_offset());
                if let Some(&(_, at)) = failed_at.iter().find(|(o, _)| *o == op) {
                    for (part, label) in labels.into_iter().enumerate() {
                        eprintln!("    {conns:>3} conns  {label:<58} skipped: nothing succeeded at {at}");
                        rows.push(Row {
                            op,
                            part,
                            label,
                            conns,
                            sample: Sample::default(),
                            skipped: Some(at),
                        });
                    }
                    continue;
                }
                let samples = drive::run(op, &target, conns, duration).await?;
                if samples.iter().any(|s| s.lat_us.is_empty() && s.errors > 0) {
                    failed_at.push((op, conns));
                }
                if matches!(op, Op::CreateDelete | Op::CreateList | Op::Login) {
                    if let Some(s) = settle(labels.join(" + "), conns).await {
                        settled.push(s);
                    }
                }
                for (part, (sample, label)) in samples.into_iter().zip(labels).enumerate() {
                    eprintln!(
                        "    {conns:>3} conns  {label:<58} {:>9.1}/s  p50 {:>8.2} ms  p99 {:>8.2} ms{}",
                        sample.rps(),
                        sample.quantile_ms(0.5),
                        sample.quantile_ms(0.99),
                        if sample.errors > 0 {
                            format!("  {} ERRORS: {}", sample.errors, sample.first_error.clone().unwrap_or_default())
                        } else {
                            String::new()
                        }
                    );
                    rows.push(Row {
                        op,
                        part,
                        label,
                        conns,
                        sample,
                        skipped: None,
                    });
                }
            }
        }
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>((rows, total, settled))
    })?;
    let (rows, total, settled) = rows;
    let (_, peak_kib) = server.memory_kib();
    let logged_5xx = server.logged_server_errors();
    let replica_log = server.logged("copy of users:");
    drop(server);
    drop(slapd);
    Ok(RunResult {
        backend,
        users: seed.users,
        groups: seed.groups,
        sales: seed.sales_users(),
        total,
        seed_secs,
        idle_kib,
        peak_kib,
        logged_5xx,
        rows,
        settled,
        replica_log,
    })
}

async fn login(c: &mut Client, user: &str, password: &str) -> Res<String> {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    let r = c
        .send("POST", "/api/v1/auth/login", None, Some(&body))
        .await?;
    if r.status != 200 {
        return Err(format!("login as {user}: {}", r.summary()).into());
    }
    r.json()?["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "login: no access_token".into())
}

async fn set_counters(url: &str, dn: &str, pw: &str, next_uid: usize, next_gid: usize) -> Res<()> {
    let mut conns = drive::ldap_connections(url, dn, pw, 1).await?;
    let l = conns.first_mut().ok_or("no connection")?;
    let counters = format!("cn=counters,ou=heracles,{BASE}");
    l.modify(
        &counters,
        vec![
            ldap3::Mod::Replace(
                "heraclesNextUidNumber".to_owned(),
                HashSet::from([next_uid.to_string()]),
            ),
            ldap3::Mod::Replace(
                "heraclesNextGidNumber".to_owned(),
                HashSet::from([next_gid.to_string()]),
            ),
        ],
    )
    .await?
    .success()?;
    l.unbind().await?;
    Ok(())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// What the numbers were measured on: CPU, cores, memory, slapd, the load before.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0.0, |kb| mb(kb) / 1_073.741_824);
    let slapd = ["slapd", "/usr/sbin/slapd"]
        .iter()
        .find_map(|bin| Command::new(bin).arg("-VV").output().ok())
        .map_or_else(
            || "not found".into(),
            |o| {
                let text = String::from_utf8_lossy(&o.stderr).into_owned();
                text.split_whitespace()
                    .skip_while(|w| *w != "slapd")
                    .nth(1)
                    .unwrap_or("unknown")
                    .to_owned()
            },
        );
    format!(
        "Machine: {model}, {cores} cores, {mem_gib:.0} GiB RAM; slapd {slapd}; \
         load average before the run: {}",
        load_average()
    )
}

#[allow(clippy::cast_precision_loss)]
fn mb(kib: u64) -> f64 {
    (kib * 1024) as f64 / 1e6
}

/// A ratio with two significant digits at least (0.0031×, 0.24×, 1.5×).
fn times(x: f64) -> String {
    if x >= 0.095 || x == 0.0 {
        format!("{x:.2}×")
    } else if x >= 0.0095 {
        format!("{x:.3}×")
    } else {
        format!("{x:.4}×")
    }
}

fn ratio(a: Option<&Sample>, b: Option<&Sample>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b.rps() > 0.0 => Some(a.rps() / b.rps()),
        _ => None,
    }
}

/// The "compared with" column of a row.
fn compared(r: &RunResult, row: &Row) -> String {
    if row.sample.lat_us.is_empty() {
        return String::new(); // nothing succeeded: nothing to compare
    }
    let c = row.conns;
    let raw_a = r.find(Op::RawPage, 0, c);
    let raw_b = r.find(Op::RawPageCount, 0, c);
    let page1 = r.find(Op::ListPage1, 0, c);
    match row.op {
        Op::ListPage1 | Op::ListDeep => {
            let mut parts = Vec::new();
            if let Some(x) = ratio(Some(&row.sample), raw_a) {
                parts.push(format!("{} (a)", times(x)));
            }
            if let Some(x) = ratio(Some(&row.sample), raw_b) {
                parts.push(format!("{} (b)", times(x)));
            }
            if row.op == Op::ListDeep {
                if let Some(x) = ratio(page1, Some(&row.sample)) {
                    parts.push(format!("costs {} page 1", times(x)));
                }
            }
            parts.join(" · ")
        }
        Op::GetUser => ratio(Some(&row.sample), r.find(Op::RawGet, 0, c))
            .map(|x| format!("{} raw uid search", times(x)))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn ms(x: f64) -> String {
    if x.is_nan() {
        "—".into()
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn rate(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

fn table(r: &RunResult, opts: &Options) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n#### {} — {} users, {} groups ({} listed users, {} match the filter; seeded in {:.1} s)\n",
        r.backend.name(),
        r.users,
        r.groups,
        r.total,
        r.sales,
        r.seed_secs
    );
    let _ = writeln!(
        s,
        "| operation | conns | req/s | p50 ms | p99 ms | compared with | errors |\n|---|---:|---:|---:|---:|---|---:|"
    );
    let mut rows: Vec<&Row> = r.rows.iter().collect();
    // Grouped by operation (in the order measured), then by connections.
    let order = |row: &Row| {
        ALL_OPS
            .iter()
            .position(|(_, op)| *op == row.op)
            .unwrap_or(0)
    };
    rows.sort_by_key(|row| (order(row), row.part, row.conns));
    for row in rows {
        if let Some(at) = row.skipped {
            let _ = writeln!(
                s,
                "| {} | {} | — | — | — | not run: no request succeeded at {at} connections | — |",
                row.label, row.conns
            );
            continue;
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.conns,
            rate(row.sample.rps()),
            ms(row.sample.quantile_ms(0.5)),
            ms(row.sample.quantile_ms(0.99)),
            compared(r, row),
            if row.sample.errors > 0 {
                format!("**{}**", row.sample.errors)
            } else {
                "0".into()
            }
        );
    }
    let _ = writeln!(
        s,
        "\nServer RSS: idle {:.1} MB (after start, before any request), peak {:.1} MB (VmHWM). \
         {} s per measurement; raw LDAP: (a) and uid searches share {} ldap3 connections, \
         (b) has one per connection of the row (a paged search needs its own). \
         The server's cache of reads: {}; its copy of users: {}.",
        mb(r.idle_kib),
        mb(r.peak_kib),
        opts.seconds,
        opts.ldap_connections,
        match opts.read_cache {
            None => "its default size".to_owned(),
            Some(0) => "off (`--read-cache 0`)".to_owned(),
            Some(n) => format!("{n} entries"),
        },
        match opts.user_replica {
            None => "its default size".to_owned(),
            Some(0) => "off (`--user-replica 0`)".to_owned(),
            Some(n) => format!("at most {n} users"),
        }
    );
    if !r.replica_log.is_empty() {
        let _ = writeln!(
            s,
            "\nThe server's log of its copy of users: `{}`.",
            r.replica_log.join("`; `")
        );
    }
    if !r.settled.is_empty() {
        let waits: Vec<String> = r
            .settled
            .iter()
            .map(|(after, conns, secs)| format!("{secs:.0} s after {after} at {conns}"))
            .collect();
        let _ = writeln!(
            s,
            "\nslapd kept working after rows that write (after deletes, its refint overlay \
             scans every entry for each one, in the background); each next row started once \
             it was idle again: {}.",
            waits.join("; ")
        );
    }
    for row in &r.rows {
        if let Some(e) = &row.sample.first_error {
            let _ = writeln!(
                s,
                "\n**{} failed {} times at {} connections**; first: `{}`",
                row.label, row.sample.errors, row.conns, e
            );
        }
    }
    s
}

/// The concurrency the targets are stated at (16), or the nearest one measured.
fn target_conns(opts: &Options) -> usize {
    opts.connections
        .iter()
        .copied()
        .min_by_key(|c| c.abs_diff(16))
        .unwrap_or(1)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn summary(results: &[RunResult], opts: &Options) -> String {
    let conns = target_conns(opts);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n#### Targets (issue 8), at {conns} connections unless said otherwise\n\n| backend | users | target | measured | |\n|---|---:|---|---:|---|"
    );
    for run in results {
        let backend = run.backend.name();
        let users = run.users;
        let mut line = |target: &str, measured: String, ok: bool| {
            let _ = writeln!(
                out,
                "| {backend} | {users} | {target} | {measured} | {} |",
                verdict(ok)
            );
        };
        // A ratio of two measured operations; "no request succeeded" when one of them
        // never did (`None`: not measured in this run).
        let compare = |first: Op, second: Op| -> Option<Result<f64, ()>> {
            let (x, y) = (run.find(first, 0, conns)?, run.find(second, 0, conns)?);
            if x.lat_us.is_empty() || y.lat_us.is_empty() {
                return Some(Err(()));
            }
            Some(Ok(x.rps() / y.rps()))
        };
        let none = || "no request succeeded".to_owned();
        match compare(Op::ListPage1, Op::RawPage) {
            Some(Ok(x)) => line("list page 1 ≥ 0.8× raw (a)", times(x), x >= 0.8),
            Some(Err(())) => line("list page 1 ≥ 0.8× raw (a)", none(), false),
            None => {}
        }
        match compare(Op::GetUser, Op::RawGet) {
            Some(Ok(x)) => line("get one ≥ 0.8× raw uid search", times(x), x >= 0.8),
            Some(Err(())) => line("get one ≥ 0.8× raw uid search", none(), false),
            None => {}
        }
        // The cost of one request: p50 latency on one connection (no queueing), when
        // measured; else the throughput ratio at the targets' concurrency.
        let deep_target = "deep page ≤ 2× the cost of page 1";
        match (run.find(Op::ListPage1, 0, 1), run.find(Op::ListDeep, 0, 1)) {
            (Some(p1), Some(deep)) if !p1.lat_us.is_empty() && !deep.lat_us.is_empty() => {
                let x = deep.quantile_ms(0.5) / p1.quantile_ms(0.5);
                line(
                    &format!("{deep_target} (p50, 1 connection)"),
                    times(x),
                    x <= 2.0,
                );
            }
            _ => match compare(Op::ListPage1, Op::ListDeep) {
                Some(Ok(x)) => line(deep_target, times(x), x <= 2.0),
                Some(Err(())) => line(deep_target, none(), false),
                None => {}
            },
        }
        if let Some(get) = run.find(Op::GetUser, 0, conns) {
            if get.lat_us.is_empty() {
                line("p99 of get user ≤ 5 ms", none(), false);
            } else {
                let p99 = get.quantile_ms(0.99);
                line(
                    "p99 of get user ≤ 5 ms",
                    format!("{} ms", ms(p99)),
                    p99 <= 5.0,
                );
            }
        }
        let idle = mb(run.idle_kib);
        line(
            "server idle RSS ≤ 30 MB",
            format!("{idle:.1} MB"),
            idle <= 30.0,
        );
    }
    out
}
