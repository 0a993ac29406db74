//! The processes and folders the benchmark creates, and their cleanup.
//!
//! Everything started or created is registered here first; a [`Guard`] undoes its one
//! action when dropped (normal end, `?` error, panic), and [`cleanup_all`] undoes whatever
//! is still registered (on SIGINT/SIGTERM, from the signal thread). Processes are stopped
//! by their own PID only: the server by SIGTERM to its PID (then SIGKILL to the same child
//! if it does not exit), slapd through `ldap/test-slapd.sh stop DIR` (its PID file).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::Res;

/// Something to undo.
enum Action {
    /// A child process (the server): SIGTERM, wait, SIGKILL.
    Process(Child),
    /// A slapd started by the project's script in this folder.
    Slapd { script: PathBuf, dir: PathBuf },
    /// A folder to remove.
    Folder(PathBuf),
}

static REGISTRY: Mutex<Vec<(u64, Action)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Undoes its action when dropped.
#[derive(Debug)]
pub struct Guard(u64);

impl Drop for Guard {
    fn drop(&mut self) {
        let action = {
            let mut r = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
            r.iter()
                .position(|(id, _)| *id == self.0)
                .map(|i| r.remove(i).1)
        };
        if let Some(a) = action {
            perform(a);
        }
    }
}

fn register(action: Action) -> Guard {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    REGISTRY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((id, action));
    Guard(id)
}

/// Undoes everything still registered, newest first.
pub fn cleanup_all() {
    let all = std::mem::take(&mut *REGISTRY.lock().unwrap_or_else(PoisonError::into_inner));
    for (_, a) in all.into_iter().rev() {
        perform(a);
    }
}

fn perform(action: Action) {
    match action {
        Action::Process(mut child) => stop_child(&mut child),
        Action::Slapd { script, dir } => {
            let out = Command::new("sh")
                .arg(&script)
                .arg("stop")
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output();
            match out {
                Ok(o) if o.status.success() => {}
                Ok(o) => eprintln!(
                    "load: stopping slapd in {} failed: {}",
                    dir.display(),
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
                Err(e) => eprintln!("load: cannot run {}: {e}", script.display()),
            }
        }
        Action::Folder(path) => {
            if let Err(e) = std::fs::remove_dir_all(&path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    eprintln!("load: cannot remove {}: {e}", path.display());
                }
            }
        }
    }
}

fn stop_child(child: &mut Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    // SIGTERM to this PID: the server finishes in-flight requests and exits.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .stderr(Stdio::null())
        .status();
    let until = Instant::now() + Duration::from_secs(15);
    while Instant::now() < until {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("load: pid {} ignored SIGTERM; killing it", child.id());
    let _ = child.kill();
    let _ = child.wait();
}

/// Installs the SIGINT/SIGTERM handler: undo everything, exit 130.
pub fn on_signal_cleanup() -> Res<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Register the handlers now, not when the thread first runs.
    let (mut int, mut term) = rt.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    })?;
    std::thread::spawn(move || {
        rt.block_on(async {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        });
        eprintln!("\nload: interrupted; stopping what it started");
        cleanup_all();
        std::process::exit(130);
    });
    Ok(())
}

/// A fresh folder below the system's temporary folder, removed when the guard drops.
/// Short, so that slapd's ldapi socket path stays under its ~107-byte limit.
pub fn temp_folder(tag: &str) -> Res<(PathBuf, Guard)> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for i in 0..100u32 {
        let p = base.join(format!(
            "hx-load-{tag}-{}-{:x}",
            std::process::id(),
            nanos.wrapping_add(i)
        ));
        match std::fs::create_dir(&p) {
            Ok(()) => {
                let guard = register(Action::Folder(p.clone()));
                return Ok((p, guard));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("cannot create {}: {e}", p.display()).into()),
        }
    }
    Err("cannot create a temporary folder".into())
}

/// The project's throwaway slapd, seeded offline.
#[derive(Debug)]
pub struct Slapd {
    /// `KEY='value'` lines of `DIR/env`.
    pub env: HashMap<String, String>,
    _guard: Guard,
}

impl Slapd {
    /// A value of its env file.
    pub fn get(&self, key: &str) -> Res<&str> {
        self.env
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| format!("{key} missing from the slapd env file").into())
    }

    /// `ldap/test-slapd.sh start DIR` with `SEED_LDIF`, printing the elapsed time while
    /// slapadd loads it.
    pub fn start(root: &Path, dir: &Path, seed: &Path) -> Res<Slapd> {
        let script = root.join("ldap/test-slapd.sh");
        let log = dir.with_extension("start.log");
        let guard = register(Action::Slapd {
            script: script.clone(),
            dir: dir.to_owned(),
        });
        let out = std::fs::File::create(&log)?;
        let mut child = Command::new("sh")
            .arg(&script)
            .arg("start")
            .arg(dir)
            .env("SEED_LDIF", seed)
            .env("TLS", "0")
            // Sorting contexts for many connections (ENVIRONMENT pitfall 10).
            .env("SSSVLV_MAX", "256")
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()?;
        let started = Instant::now();
        let mut next_note = Duration::from_secs(3);
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break s;
            }
            if started.elapsed() >= next_note {
                eprintln!(
                    "    slapd: slapadd + start running for {:.0} s",
                    started.elapsed().as_secs_f64()
                );
                next_note += Duration::from_secs(3);
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        if !status.success() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!("test-slapd.sh start failed:\n{text}").into());
        }
        eprintln!(
            "    slapd: seeded and started in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let env = std::fs::read_to_string(dir.join("env"))?
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        Ok(Slapd { env, _guard: guard })
    }
}

/// A running `heracles-server`.
#[derive(Debug)]
pub struct Server {
    /// Its process id.
    pub pid: u32,
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Its standard error (the access log).
    pub log: PathBuf,
    _guard: Guard,
}

impl Server {
    /// Starts the binary with these arguments and environment (every other `HERACLES_*`
    /// variable of this process removed) and waits for its "listening on" line.
    pub fn start(
        bin: &Path,
        args: &[String],
        env: &[(&str, String)],
        workdir: &Path,
    ) -> Res<Server> {
        let log = workdir.join("server.log");
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(workdir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("HERACLES_") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take();
        let guard = register(Action::Process(child));
        let (tx, rx) = mpsc::channel();
        if let Some(out) = stdout {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    // Once nobody listens any more, keep draining the pipe.
                    let _ = tx.send(line);
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("the server did not start within 300 s".into());
            }
            match rx.recv_timeout(left.min(Duration::from_millis(500))) {
                Ok(line) => {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr = rest.split_whitespace().next().unwrap_or_default();
                        let addr = addr.parse().map_err(|e| {
                            format!("cannot read the server address from {line:?}: {e}")
                        })?;
                        return Ok(Server {
                            pid,
                            addr,
                            log,
                            _guard: guard,
                        });
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if !Path::new(&format!("/proc/{pid}")).exists() {
                        break;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!("the server exited before listening:\n{}", tail.join("\n")).into())
    }

    /// `VmRSS` and `VmHWM` of the server, in KiB.
    pub fn memory_kib(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// Counts the access log's lines with a 5xx status (the server's own view of errors).
    /// The server's log lines holding `needle`, from it on.
    pub fn logged(&self, needle: &str) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.find(needle).map(|at| l[at..].to_owned()))
            .collect()
    }

    pub fn logged_server_errors(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("status=5"))
            .count()
    }
}

/// CPU time of process `pid` so far (user + system, in clock ticks), `None` if it is gone.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces) and its closing ')':
    // utime and stime are the 12th and 13th of them (fields 14 and 15 of the line).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Waits until slapd (`pid`) is idle — under 5% of a core over half a second — for at most
/// `max`, printing how it goes every 5 s, and returns how long it waited. Work a row leaves
/// slapd to finish in the background (its refint overlay scans every entry for each delete,
/// after the delete has returned) would otherwise be measured in the rows after it.
pub async fn settle(pid: u32, after: &str, max: Duration) -> Duration {
    const WINDOW: Duration = Duration::from_millis(500);
    // Clock ticks are 1/100 s on Linux: 5% of a core over the window is 2.5 ticks.
    const IDLE_TICKS: u64 = 2;
    let started = Instant::now();
    let mut next_note = Duration::from_secs(5);
    while started.elapsed() < max {
        let Some(before) = cpu_ticks(pid) else {
            break;
        };
        tokio::time::sleep(WINDOW).await;
        let Some(now) = cpu_ticks(pid) else {
            break;
        };
        let used = now.saturating_sub(before);
        if used <= IDLE_TICKS {
            break;
        }
        if started.elapsed() >= next_note {
            eprintln!(
                "    slapd still busy after {after}: {:.0} s so far ({}% of a core)",
                started.elapsed().as_secs_f64(),
                used * 2
            );
            next_note += Duration::from_secs(5);
        }
    }
    started.elapsed()
}
