//! The load itself: N workers, each on its own keep-alive connection (HTTP) or sharing the
//! raw ldap3 connections, each repeating one operation for a fixed time; latencies and
//! failures per operation.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::{Ldap, LdapConnAsync, Scope, SearchOptions};
use tokio::sync::Barrier;

use crate::http::Client;
use crate::seed::{self, BASE, PASSWORD};
use crate::Res;

/// What the server fetches for a user (every user attribute, lock state, version).
const USER_ATTRS: [&str; 3] = ["*", "pwdAccountLockedTime", "entryCSN"];
/// Every user, as the server's list asks for them.
const USERS_FILTER: &str = "(objectClass=inetOrgPerson)";
/// Page size of the raw count (the test slapd's size limit for ordinary binds is 500).
const COUNT_PAGE: i32 = 500;

/// One measured operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Raw LDAP (a): the page's 50 entries alone (a search with size limit 50).
    RawPage,
    /// Raw LDAP (b): (a) plus counting every user with a DN-only paged search.
    RawPageCount,
    /// Raw LDAP: one uid equality search.
    RawGet,
    /// `GET /users?limit=50`.
    ListPage1,
    /// `GET /users?limit=50&offset=total-50`.
    ListDeep,
    /// `GET /users/{uid}` of a random seeded user.
    GetUser,
    /// `GET /users?limit=50&filter=mail:ends:@sales.example.com`.
    ListFiltered,
    /// `POST /users` then `DELETE /users/{uid}` (two samples).
    CreateDelete,
    /// `POST /users` (kept) then `GET /users?limit=50` (two samples): the list follows a
    /// new user.
    CreateList,
    /// `POST /auth/login` as a random seeded user.
    Login,
}

impl Op {
    /// Whether it talks to the directory directly (no server).
    pub fn is_raw(self) -> bool {
        matches!(self, Op::RawPage | Op::RawPageCount | Op::RawGet)
    }

    /// Names of its samples, in order.
    pub fn labels(self, deep_offset: usize) -> Vec<String> {
        match self {
            Op::RawPage => vec!["raw LDAP (a): 50 entries, size limit 50".into()],
            Op::RawPageCount => vec!["raw LDAP (b): (a) + DN-only paged count of all".into()],
            Op::RawGet => vec!["raw LDAP: one uid search".into()],
            Op::ListPage1 => vec!["`GET /users?limit=50` (page 1)".into()],
            Op::ListDeep => vec![format!("`GET /users?limit=50&offset={deep_offset}`")],
            Op::GetUser => vec!["`GET /users/{uid}`".into()],
            Op::ListFiltered => vec![format!(
                "`GET /users?limit=50&filter={}`",
                seed::SALES_FILTER
            )],
            Op::CreateDelete => vec![
                "`POST /users` (posix, uidNumber allocated)".into(),
                "`DELETE /users/{uid}`".into(),
            ],
            Op::CreateList => vec![
                "`POST /users` (kept)".into(),
                "`GET /users?limit=50` (page 1) after it".into(),
            ],
            Op::Login => vec!["`POST /auth/login`".into()],
        }
    }
}

/// Latencies and failures of one operation at one concurrency.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Latency of each successful request, in microseconds.
    pub lat_us: Vec<u32>,
    /// Failed requests (wrong status, transport error, wrong answer).
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Sample {
    fn ok(&mut self, since: Instant) {
        let us = since.elapsed().as_micros();
        self.lat_us.push(u32::try_from(us).unwrap_or(u32::MAX));
    }

    fn fail(&mut self, what: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }

    fn merge(&mut self, other: Sample) {
        self.lat_us.extend(other.lat_us);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Successful requests per second.
    #[allow(clippy::cast_precision_loss)]
    pub fn rps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.lat_us.len() as f64 / s
        } else {
            0.0
        }
    }

    /// The `q` quantile (0–1) of the latencies, in milliseconds (sorted by `finish`).
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.lat_us.is_empty() {
            return f64::NAN;
        }
        let n = self.lat_us.len();
        let rank = ((n as f64) * q).ceil() as usize;
        let i = rank.clamp(1, n) - 1;
        f64::from(self.lat_us[i]) / 1000.0
    }

    fn finish(&mut self) {
        self.lat_us.sort_unstable();
    }
}

/// What the workers talk to.
#[derive(Debug)]
pub struct Target {
    /// The server.
    pub addr: SocketAddr,
    /// An administrator's access token.
    pub token: String,
    /// Seeded users (uids `user000000`...).
    pub users: usize,
    /// Users the list counts (seeded + the administrator).
    pub total: usize,
    /// Raw ldap3 connections bound as the server's service account (LDAP backend only),
    /// shared by the workers (ldap3 multiplexes operations on a connection).
    pub ldap: Vec<Ldap>,
    /// URL, DN and password of that account: a paged search needs a connection of its own
    /// (slapd keeps one paged-results state per connection; a second paged search on it
    /// invalidates the first one's cookie).
    pub ldap_login: Option<(String, String, String)>,
}

impl Target {
    /// Offset of the deepest full page.
    pub fn deep_offset(&self) -> usize {
        self.total.saturating_sub(50)
    }
}

/// Opens `n` connections bound as `dn`.
pub async fn ldap_connections(url: &str, dn: &str, password: &str, n: usize) -> Res<Vec<Ldap>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let (conn, mut ldap) = LdapConnAsync::new(url).await?;
        ldap3::drive!(conn);
        ldap.simple_bind(dn, password).await?.success()?;
        out.push(ldap);
    }
    Ok(out)
}

/// A small, fast, deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        usize::try_from(r % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Distinguishes the users each run creates.
static RUN: AtomicU64 = AtomicU64::new(0);

/// Runs `op` with `conns` concurrent workers for `duration`; one sample per label.
pub async fn run(
    op: Op,
    target: &Arc<Target>,
    conns: usize,
    duration: Duration,
) -> Res<Vec<Sample>> {
    let labels = op.labels(target.deep_offset()).len();
    let barrier = Arc::new(Barrier::new(conns + 1));
    let run_id = RUN.fetch_add(1, Ordering::Relaxed);
    let mut tasks = Vec::with_capacity(conns);
    for w in 0..conns {
        let target = target.clone();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            Box::pin(worker(op, &target, w, run_id, labels, &barrier, duration)).await
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut merged = vec![Sample::default(); labels];
    let mut failure = None;
    for t in tasks {
        match t.await {
            Ok(Ok(samples)) => {
                for (m, s) in merged.iter_mut().zip(samples) {
                    m.merge(s);
                }
            }
            Ok(Err(e)) => failure = Some(e.to_string()),
            Err(e) => failure = Some(e.to_string()),
        }
    }
    let elapsed = started.elapsed();
    if let Some(e) = failure {
        return Err(format!("a worker could not run: {e}").into());
    }
    for m in &mut merged {
        m.elapsed = elapsed;
        m.finish();
    }
    Ok(merged)
}

/// What one worker holds.
struct Worker<'a> {
    op: Op,
    target: &'a Target,
    index: usize,
    run_id: u64,
    client: Option<Client>,
    ldap: Option<Ldap>,
    rng: Rng,
    iteration: u64,
    paths: Paths,
}

/// The request paths of the list operations.
struct Paths {
    page1: String,
    deep: String,
    filtered: String,
}

async fn worker(
    op: Op,
    target: &Target,
    index: usize,
    run_id: u64,
    labels: usize,
    barrier: &Barrier,
    duration: Duration,
) -> Res<Vec<Sample>> {
    let mut samples = vec![Sample::default(); labels];
    // Connect before the clock starts.
    let client = if op.is_raw() {
        None
    } else {
        Some(Client::connect(target.addr).await?)
    };
    let mut own = None;
    let ldap = if op == Op::RawPageCount {
        let (url, dn, pw) = target
            .ldap_login
            .as_ref()
            .ok_or("raw operations need the LDAP backend")?;
        let conn = ldap_connections(url, dn, pw, 1).await?.pop();
        own.clone_from(&conn);
        conn
    } else if op.is_raw() {
        let conn = target.ldap.get(index % target.ldap.len().max(1)).cloned();
        Some(conn.ok_or("no raw LDAP connection (raw operations need the LDAP backend)")?)
    } else {
        None
    };
    let mut w = Worker {
        op,
        target,
        index,
        run_id,
        client,
        ldap,
        rng: Rng::new((run_id << 16) ^ (index as u64) ^ 0x5EED),
        iteration: 0,
        paths: Paths {
            page1: "/api/v1/users?limit=50".to_owned(),
            deep: format!("/api/v1/users?limit=50&offset={}", target.deep_offset()),
            filtered: format!(
                "/api/v1/users?limit=50&filter={}",
                seed::SALES_FILTER.replace(':', "%3A").replace('@', "%40")
            ),
        },
    };
    barrier.wait().await;
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline {
        w.iteration += 1;
        Box::pin(w.step(&mut samples)).await?;
    }
    if let Some(mut conn) = own {
        let _ = conn.unbind().await;
    }
    Ok(samples)
}

impl Worker<'_> {
    /// One request (two for create + delete), recorded in `samples`.
    async fn step(&mut self, samples: &mut [Sample]) -> Res<()> {
        let t = self.target;
        let token = Some(t.token.as_str());
        let since = Instant::now();
        let Some(first) = samples.first_mut() else {
            return Err("no sample to record in".into());
        };
        match (self.op, self.client.as_mut(), self.ldap.as_mut()) {
            (Op::RawPage, _, Some(conn)) => match raw_page(conn).await {
                Ok(n) if n == 50.min(t.total) => first.ok(since),
                Ok(n) => first.fail(format!("raw page: {n} entries")),
                Err(e) => first.fail(format!("raw page: {e}")),
            },
            (Op::RawPageCount, _, Some(conn)) => {
                let counted = match raw_page(conn).await {
                    Ok(_) => raw_count(conn).await,
                    Err(e) => Err(e),
                };
                match counted {
                    Ok(n) if n >= t.total => first.ok(since),
                    Ok(n) => first.fail(format!("raw count: {n} < {}", t.total)),
                    Err(e) => first.fail(format!("raw count: {e}")),
                }
            }
            (Op::RawGet, _, Some(conn)) => {
                let uid = seed::uid(self.rng.below(t.users));
                match raw_get(conn, &uid).await {
                    Ok(1) => first.ok(since),
                    Ok(n) => first.fail(format!("raw get {uid}: {n} entries")),
                    Err(e) => first.fail(format!("raw get {uid}: {e}")),
                }
            }
            (Op::ListPage1 | Op::ListDeep | Op::ListFiltered, Some(client), _) => {
                let path = match self.op {
                    Op::ListPage1 => &self.paths.page1,
                    Op::ListDeep => &self.paths.deep,
                    _ => &self.paths.filtered,
                };
                let answer = client.send("GET", path, token, None).await;
                expect(answer, 200, since, first);
            }
            (Op::GetUser, Some(client), _) => {
                let path = format!("/api/v1/users/{}", seed::uid(self.rng.below(t.users)));
                expect(
                    client.send("GET", &path, token, None).await,
                    200,
                    since,
                    first,
                );
            }
            (Op::CreateDelete | Op::CreateList, Some(client), _) => {
                let uid = format!("bench{}-{}-{}", self.run_id, self.index, self.iteration);
                let body = format!(
                    "{{\"uid\":\"{uid}\",\"cn\":\"Bench User\",\"sn\":\"User\",\
                     \"givenName\":\"Bench\",\"mail\":\"{uid}@example.com\",\
                     \"posix\":{{\"uidNumber\":null}}}}"
                );
                let created = client
                    .send("POST", "/api/v1/users", token, Some(&body))
                    .await;
                if expect(created, 201, since, first) {
                    let since = Instant::now();
                    let (answer, status) = if self.op == Op::CreateList {
                        let page1 = client.send("GET", &self.paths.page1, token, None).await;
                        (page1, 200)
                    } else {
                        let path = format!("/api/v1/users/{uid}");
                        (client.send("DELETE", &path, token, None).await, 204)
                    };
                    let second = samples.get_mut(1).ok_or("no second sample")?;
                    expect(answer, status, since, second);
                }
            }
            (Op::Login, Some(client), _) => {
                let body = format!(
                    "{{\"username\":\"{}\",\"password\":\"{PASSWORD}\"}}",
                    seed::uid(self.rng.below(t.users))
                );
                let answer = client
                    .send("POST", "/api/v1/auth/login", None, Some(&body))
                    .await;
                expect(answer, 200, since, first);
            }
            _ => return Err("operation and connection do not match".into()),
        }
        Ok(())
    }
}

/// Records the answer: a success if it has `status`.
fn expect(r: Res<crate::http::Response>, status: u16, since: Instant, sample: &mut Sample) -> bool {
    match r {
        Ok(r) if r.status == status => {
            sample.ok(since);
            true
        }
        Ok(r) => {
            sample.fail(r.summary());
            false
        }
        Err(e) => {
            sample.fail(format!("transport: {e}"));
            false
        }
    }
}

async fn raw_page(l: &mut Ldap) -> Res<usize> {
    let r = l
        .with_search_options(SearchOptions::new().sizelimit(50))
        .search(BASE, Scope::Subtree, USERS_FILTER, USER_ATTRS.to_vec())
        .await?;
    match r.1.rc {
        // 4: sizeLimitExceeded, the expected end of a size-limited search.
        0 | 4 => Ok(r.0.len()),
        _ => Err(format!("result code {}: {}", r.1.rc, r.1.text).into()),
    }
}

async fn raw_count(l: &mut Ldap) -> Res<usize> {
    let adapters: Vec<Box<dyn Adapter<'_, &str, Vec<&str>>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(COUNT_PAGE)),
    ];
    let mut stream = l
        .streaming_search_with(adapters, BASE, Scope::Subtree, USERS_FILTER, vec!["1.1"])
        .await?;
    let mut n = 0;
    while stream.next().await?.is_some() {
        n += 1;
    }
    stream.finish().await.success()?;
    Ok(n)
}

async fn raw_get(l: &mut Ldap, uid: &str) -> Res<usize> {
    let filter = format!("(&(objectClass=inetOrgPerson)(uid={uid}))");
    let r = l
        .search(BASE, Scope::Subtree, &filter, USER_ATTRS.to_vec())
        .await?;
    r.1.success()?;
    Ok(r.0.len())
}
