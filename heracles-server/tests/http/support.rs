//! Starting the real `heracles-server` binary and talking HTTP/1.1 to it over a plain
//! `TcpStream` (every request says `Connection: close`, so a response ends at EOF).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_heracles-server");

/// A secret long enough for the server (LDAP mode needs one).
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// The server binary with an environment free of the caller's `HERACLES_*` settings
/// (`scripts/test.sh` exports some for the examples).
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HERACLES_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// A running server, killed on drop if still running.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
    tmp: Option<tempfile::TempDir>,
}

/// How a start that should fail ended.
#[derive(Debug)]
pub struct Failed {
    pub status: ExitStatus,
    pub stderr: String,
}

impl Server {
    /// Starts the server on an ephemeral port with a fresh data folder.
    pub fn start(args: &[&str]) -> Server {
        Self::start_env(args, &[])
    }

    /// Like [`Server::start`] with extra environment variables.
    pub fn start_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let mut s = Self::try_start_in(&data, args, env).unwrap_or_else(|f| {
            panic!("the server did not start: {f:?}");
        });
        s.tmp = Some(tmp);
        s
    }

    /// Starts the server with `data_dir`, returning how it failed if it exits instead.
    pub fn try_start_in(
        data_dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Server, Failed> {
        let data = data_dir.to_str().unwrap();
        let mut all = vec!["--listen", "127.0.0.1:0", "--data-dir", data];
        all.extend_from_slice(args);
        let mut child = command(&all, env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn heracles-server");
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let stderr = stderr.clone();
            let pipe = child.stderr.take().unwrap();
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut s = stderr.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
            });
        }
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            // Nothing yet, or stdout closed: the exit check below decides.
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(50)) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let url = rest.split_whitespace().next().unwrap();
                    let addr = url
                        .strip_prefix("http://")
                        .or_else(|| url.strip_prefix("https://"))
                        .unwrap_or_else(|| panic!("not a URL: {line}"))
                        .parse()
                        .unwrap();
                    return Ok(Server {
                        child: Some(child),
                        addr,
                        stderr,
                        tmp: None,
                    });
                }
            }
            if let Some(status) = child.try_wait().unwrap() {
                // Let the stderr reader catch up.
                thread::sleep(Duration::from_millis(100));
                let stderr = stderr.lock().unwrap().clone();
                return Err(Failed { status, stderr });
            }
            assert!(
                Instant::now() < deadline,
                "the server printed no address within 60 s"
            );
        }
    }

    /// What the server logged so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends SIGTERM (to our own child, by pid).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {limit:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send(&format!(
            "GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        ))
    }

    pub fn send(&self, raw: &str) -> Resp {
        send(self.addr, raw.as_bytes())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts the SPEC envelope with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        let v = self.json();
        assert_eq!(v["error"]["code"], code, "{v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{v}"
        );
        v
    }
}

/// Sends raw bytes and reads the response until the server closes.
pub fn send(addr: SocketAddr, raw: &[u8]) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(raw).unwrap();
    let mut buf = Vec::new();
    // The server may close before reading an unsent body: a reset after the answer is fine.
    let mut chunk = [0u8; 16384];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if !buf.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => break,
            // A signal (e.g. another test's child exiting) interrupted the read: read again.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("reading the response: {e}"),
        }
    }
    parse(&buf, raw.starts_with(b"HEAD "))
}

/// Parses a whole HTTP/1.1 response (head and body up to `Content-Length`).
pub fn parse(buf: &[u8], head_request: bool) -> Resp {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(buf)));
    let head = std::str::from_utf8(&buf[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = HashMap::new();
    for line in lines {
        let (k, v) = line.split_once(':').unwrap();
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    let mut body = buf[end + 4..].to_vec();
    if head_request {
        assert!(body.is_empty(), "a body in the answer to HEAD");
    } else if let Some(len) = headers.get("content-length") {
        let len: usize = len.parse().unwrap();
        assert!(body.len() >= len, "short body");
        body.truncate(len);
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// A TCP server that accepts connections and never answers: an LDAP server that hangs.
pub fn blackhole() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().map_while(Result::ok) {
            held.push(stream);
        }
    });
    addr
}

/// The keys of the env file written by `ldap/test-slapd.sh start DIR`.
pub fn slapd_env() -> HashMap<String, String> {
    let path = std::env::var_os("HERACLES_TEST_SLAPD_ENV").unwrap_or_else(|| {
        panic!(
            "HERACLES_TEST_SLAPD_ENV is not set: the LDAP-mode server tests need the project's \
             slapd. Run them with scripts/test.sh (see README.md), or start one with \
             `ldap/test-slapd.sh start DIR` and export HERACLES_TEST_SLAPD_ENV=DIR/env"
        )
    });
    read_env_file(Path::new(&path))
}

/// The keys of an env file written by `ldap/test-slapd.sh start DIR` (`KEY='value'` lines).
pub fn read_env_file(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(v);
            (k.trim().to_owned(), v.to_owned())
        })
        .collect()
}
