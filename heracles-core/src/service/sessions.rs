//! Login sessions: `heraclesSession` entries under `ou=sessions,ou=heracles`.
//!
//! A session is created at login and named by a random id (the JWT `sid` claim). It holds
//! the subject's DN, when it was issued and when it expires, and the SHA-256 (lower-case
//! hex) of the id (`jti`) of the only refresh token still valid — never a token itself.
//! Because the state lives in the directory, every server instance sees the same sessions:
//! a logout (revocation) on one instance is honoured by all of them.
//!
//! - [`SessionsService::rotate`] spends a refresh token: one modify deletes the stored hash
//!   value and adds the next one, so of two concurrent refreshes with the same token only
//!   one can win (the same compare-and-swap as the id counters). Presenting a spent token —
//!   or losing that race — is treated as token theft: the whole session is revoked.
//! - [`SessionsService::is_active`] is asked on every authenticated request; its answer is
//!   cached per [`Heracles`] value for at most [`ACTIVE_CACHE_TTL`], so a revocation made
//!   elsewhere takes effect within that delay (a revocation made through this value at once).
//!   Past [`ACTIVE_REFRESH_AFTER`], one request reads it again while the others keep the
//!   cached answer, so its expiry does not send every concurrent request to the directory.
//! - Expired sessions are deleted by [`SessionsService::purge_expired`].
//!
//! This is an internal API of the fronts (it takes no principal): the REST server calls it
//! after checking credentials or tokens itself.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::{Container, Heracles};
use crate::directory::{Entry, Modification, Scope, SearchRequest};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;
use crate::schema::syntax::{format_generalized_time, parse_generalized_time, Instant as GTime};

/// How long an [`SessionsService::is_active`] answer may be reused.
pub const ACTIVE_CACHE_TTL: Duration = Duration::from_secs(1);
/// Age after which one request reads a cached answer again while the others keep using it
/// until [`ACTIVE_CACHE_TTL`] (so expiry never sends every concurrent request of a session
/// to the directory at once).
pub const ACTIVE_REFRESH_AFTER: Duration = Duration::from_millis(600);

/// Entries kept in the activity cache before stale ones are swept.
const CACHE_SWEEP_AT: usize = 4096;

const CLASS: &str = "heraclesSession";
const ID: &str = "heraclesSessionId";
const SUBJECT: &str = "heraclesSubjectDN";
const ISSUED: &str = "heraclesIssuedAt";
const EXPIRES: &str = "heraclesExpiresAt";
const HASH: &str = "heraclesRefreshTokenHash";
const REVOKED: &str = "heraclesRevoked";

/// A session as created or rotated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its id (32 lower-case hex digits; URL- and DN-safe): the JWT `sid` claim.
    pub id: String,
    /// The user it is for.
    pub subject_dn: Dn,
    /// When it was created (seconds since the Unix epoch).
    pub issued_at: u64,
    /// When it ends (seconds since the Unix epoch); each rotation moves it forward.
    pub expires_at: u64,
    /// The id of the refresh token now valid (the JWT `jti` claim of that token).
    pub refresh_jti: String,
}

/// What the activity cache remembers of a session.
#[derive(Debug, Clone, Copy)]
struct Cached {
    /// When the answer was read (taken before asking the directory).
    fetched: Instant,
    /// `None`: no such session, or revoked (both are final).
    expires_at: Option<u64>,
    /// A request is reading it again (see [`ACTIVE_REFRESH_AFTER`]).
    refreshing: bool,
}

/// What the activity cache answers.
enum Lookup {
    /// Fresh: use it.
    Fresh(Option<u64>),
    /// Still valid, and this caller is the one to read it again (others keep using it).
    Refresh(Option<u64>),
    /// Nothing valid.
    Miss,
}

/// The per-instance activity cache (one per [`Heracles`] value and its clones).
#[derive(Debug, Default)]
pub(crate) struct ActivityCache(Mutex<HashMap<String, Cached>>);

impl ActivityCache {
    fn lookup(&self, id: &str) -> Lookup {
        let Ok(mut map) = self.0.lock() else {
            return Lookup::Miss;
        };
        let Some(c) = map.get_mut(id) else {
            return Lookup::Miss;
        };
        let age = c.fetched.elapsed();
        if age >= ACTIVE_CACHE_TTL {
            return Lookup::Miss;
        }
        // A final answer (gone or revoked) never needs reading again.
        if age >= ACTIVE_REFRESH_AFTER && c.expires_at.is_some() && !c.refreshing {
            c.refreshing = true;
            return Lookup::Refresh(c.expires_at);
        }
        Lookup::Fresh(c.expires_at)
    }

    fn put_read_at(&self, id: &str, expires_at: Option<u64>, fetched: Instant) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= CACHE_SWEEP_AT {
                map.retain(|_, c| c.fetched.elapsed() < ACTIVE_CACHE_TTL);
            }
            // A revocation this instance recorded meanwhile wins over an older read.
            if let Some(c) = map.get(id) {
                if c.expires_at.is_none() && c.fetched > fetched {
                    return;
                }
            }
            map.insert(
                id.to_owned(),
                Cached {
                    fetched,
                    expires_at,
                    refreshing: false,
                },
            );
        }
    }

    fn put(&self, id: &str, expires_at: Option<u64>) {
        self.put_read_at(id, expires_at, Instant::now());
    }

    fn end_refresh(&self, id: &str) {
        if let Ok(mut map) = self.0.lock() {
            if let Some(c) = map.get_mut(id) {
                c.refreshing = false;
            }
        }
    }
}

/// Clears a session's `refreshing` mark when its refresh ends without storing an answer.
struct RefreshMark<'a>(&'a ActivityCache, &'a str);

impl Drop for RefreshMark<'_> {
    fn drop(&mut self) {
        self.0.end_refresh(self.1);
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// 16 random bytes as 32 lower-case hex digits.
pub fn random_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::internal(format!("no randomness for a session id: {e}")))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The stored form of a refresh token id: SHA-256, lower-case hex.
pub fn jti_hash(jti: &str) -> String {
    hex(&Sha256::digest(jti.as_bytes()))
}

fn gtime(secs: u64) -> String {
    format_generalized_time(GTime {
        secs: i64::try_from(secs).unwrap_or(i64::MAX),
        nanos: 0,
    })
}

fn parse_gtime(value: &str) -> Option<u64> {
    parse_generalized_time(value.as_bytes()).and_then(|t| u64::try_from(t.secs).ok())
}

fn unauthenticated(message: &str) -> Error {
    Error::new(ErrorCode::Unauthenticated, message)
}

/// Session operations; get one with [`Heracles::sessions`].
#[derive(Debug, Clone, Copy)]
pub struct SessionsService<'a> {
    h: &'a Heracles,
}

impl<'a> SessionsService<'a> {
    pub(super) fn new(h: &'a Heracles) -> Self {
        SessionsService { h }
    }

    fn container(self) -> Result<Dn> {
        self.h.container(Container::Sessions)
    }

    fn dn(self, id: &str) -> Result<Dn> {
        Ok(self.container()?.child(Rdn::new(ID, id)?))
    }

    /// Opens a session for `subject_dn`, valid for the refresh token lifetime of the
    /// settings; the answer carries the id of its first refresh token.
    pub async fn create(self, subject_dn: &Dn) -> Result<Session> {
        let ttl = self
            .h
            .settings()
            .effective()
            .await?
            .refresh_token_ttl_seconds;
        self.create_with_ttl(subject_dn, ttl).await
    }

    /// [`SessionsService::create`] with an explicit lifetime in seconds.
    pub async fn create_with_ttl(self, subject_dn: &Dn, ttl_seconds: u64) -> Result<Session> {
        let id = random_id()?;
        let refresh_jti = random_id()?;
        let issued_at = now_secs();
        let expires_at = issued_at.saturating_add(ttl_seconds);
        let entry = Entry::new(self.dn(&id)?)
            .with("objectClass", ["top", CLASS])
            .with(ID, [id.as_str()])
            .with(SUBJECT, [subject_dn.to_string()])
            .with(ISSUED, [gtime(issued_at)])
            .with(EXPIRES, [gtime(expires_at)])
            .with(HASH, [jti_hash(&refresh_jti)]);
        self.h.directory().add(&entry).await.map_err(|e| {
            if e.code() == ErrorCode::ParentNotFound {
                e.with_message(format!(
                    "the sessions container '{}' is missing (run the bootstrap)",
                    self.container().map(|d| d.to_string()).unwrap_or_default()
                ))
            } else {
                e
            }
        })?;
        self.h.sessions_cache().put(&id, Some(expires_at));
        Ok(Session {
            id,
            subject_dn: subject_dn.clone(),
            issued_at,
            expires_at,
            refresh_jti,
        })
    }

    async fn load(self, id: &str) -> Result<Option<Entry>> {
        let Ok(dn) = self.dn(id) else {
            return Ok(None); // not even a valid RDN value: no such session
        };
        self.h
            .directory()
            .get(&dn, &[SUBJECT, ISSUED, EXPIRES, HASH, REVOKED])
            .await
    }

    /// Spends the refresh token `presented_jti` of session `id` and returns the session
    /// with the id of the next refresh token (and its end moved to now + the refresh token
    /// lifetime of the settings).
    ///
    /// Fails with `UNAUTHENTICATED` when the session does not exist, is revoked or has
    /// expired, and when `presented_jti` is not the token now valid — a spent token
    /// presented again, or a concurrent refresh with the same token that lost the race: then
    /// the session is revoked, so both of its tokens stop working everywhere.
    pub async fn rotate(self, id: &str, presented_jti: &str) -> Result<Session> {
        let ttl = self
            .h
            .settings()
            .effective()
            .await?
            .refresh_token_ttl_seconds;
        self.rotate_with_ttl(id, presented_jti, ttl).await
    }

    /// [`SessionsService::rotate`] with an explicit lifetime in seconds.
    pub async fn rotate_with_ttl(
        &self,
        id: &str,
        presented_jti: &str,
        ttl_seconds: u64,
    ) -> Result<Session> {
        let Some(entry) = self.load(id).await? else {
            return Err(unauthenticated(
                "the session does not exist (logged out or expired)",
            ));
        };
        let now = now_secs();
        if is_revoked(&entry) {
            return Err(unauthenticated("the session has been revoked"));
        }
        let expires = entry.first_str(EXPIRES).and_then(parse_gtime).unwrap_or(0);
        if expires <= now {
            return Err(unauthenticated("the session has expired"));
        }
        let subject_dn = entry
            .first_str(SUBJECT)
            .map(Dn::parse)
            .transpose()?
            .ok_or_else(|| Error::internal(format!("session '{id}' has no subject")))?;
        let issued_at = entry.first_str(ISSUED).and_then(parse_gtime).unwrap_or(0);
        let presented = jti_hash(presented_jti);
        let stored = entry.first_str(HASH).map(str::to_owned);
        if stored.as_deref() != Some(presented.as_str()) {
            self.revoke(id).await?;
            tracing::warn!(session = id, subject = %subject_dn, "a spent refresh token was presented again: session revoked");
            return Err(unauthenticated(
                "this refresh token was already used: the session is revoked",
            ));
        }
        let next_jti = random_id()?;
        let expires_at = now.saturating_add(ttl_seconds);
        let change = [
            Modification::delete(HASH, [presented.as_str()]),
            Modification::add(HASH, [jti_hash(&next_jti)]),
            Modification::replace(EXPIRES, [gtime(expires_at)]),
        ];
        match self.h.directory().modify(&entry.dn, &change).await {
            Ok(()) => {}
            // Someone spent the same token first: a reuse.
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::NoSuchAttribute
                        | ErrorCode::ConstraintViolation
                        | ErrorCode::ValueAlreadyExists
                ) =>
            {
                self.revoke(id).await?;
                tracing::warn!(session = id, subject = %subject_dn, "concurrent refreshes with one refresh token: session revoked");
                return Err(unauthenticated(
                    "this refresh token was already used: the session is revoked",
                ));
            }
            Err(e) if e.code() == ErrorCode::EntryNotFound => {
                return Err(unauthenticated(
                    "the session does not exist (logged out or expired)",
                ));
            }
            Err(e) => return Err(e),
        }
        self.h.sessions_cache().put(id, Some(expires_at));
        Ok(Session {
            id: id.to_owned(),
            subject_dn,
            issued_at,
            expires_at,
            refresh_jti: next_jti,
        })
    }

    /// Revokes a session (logout): both of its tokens stop working on every instance.
    /// Revoking a session that does not exist (any more) is not an error.
    pub async fn revoke(self, id: &str) -> Result<()> {
        self.h.sessions_cache().put(id, None);
        let Ok(dn) = self.dn(id) else {
            return Ok(());
        };
        let change = [
            Modification::replace(REVOKED, ["TRUE"]),
            Modification::delete_all(HASH),
        ];
        match self.h.directory().modify(&dn, &change).await {
            Ok(()) => Ok(()),
            // No refresh hash any more (revoked before): mark it only.
            Err(e) if e.code() == ErrorCode::NoSuchAttribute => {
                match self
                    .h
                    .directory()
                    .modify(&dn, &[Modification::replace(REVOKED, ["TRUE"])])
                    .await
                {
                    Err(e) if e.code() != ErrorCode::EntryNotFound => Err(e),
                    _ => Ok(()),
                }
            }
            Err(e) if e.code() == ErrorCode::EntryNotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Revokes every session of `subject_dn` (for a locked, deleted or re-keyed account);
    /// returns how many were revoked.
    pub async fn revoke_all(self, subject_dn: &Dn) -> Result<usize> {
        let found = self
            .h
            .directory()
            .search(
                &SearchRequest::new(
                    self.container()?,
                    Scope::One,
                    Filter::and([
                        Filter::eq("objectClass", CLASS),
                        Filter::eq(SUBJECT, subject_dn.to_string()),
                    ]),
                )
                .attributes([ID, REVOKED]),
            )
            .await;
        let found = match found {
            Ok(f) => f,
            // No `ou=sessions` yet: nobody has a session.
            Err(e) if e.code() == ErrorCode::EntryNotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut n = 0;
        for e in found {
            if is_revoked(&e) {
                continue;
            }
            if let Some(id) = e.first_str(ID) {
                self.revoke(id).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Whether session `id` exists, is not revoked and has not expired. The directory is
    /// asked at most once per [`ACTIVE_CACHE_TTL`] per session and [`Heracles`] value.
    pub async fn is_active(self, id: &str) -> Result<bool> {
        let now = now_secs();
        let active = |e: Option<u64>| e.is_some_and(|e| e > now);
        match self.h.sessions_cache().lookup(id) {
            Lookup::Fresh(e) => Ok(active(e)),
            Lookup::Refresh(e) => {
                let _mark = RefreshMark(self.h.sessions_cache(), id);
                match self.read_activity(id).await {
                    Ok(fresh) => Ok(active(fresh)),
                    Err(err) => {
                        // What is cached is still within its bound: keep answering it.
                        tracing::debug!(code = %err.code(), "refreshing a session's state failed; still using the cached one");
                        Ok(active(e))
                    }
                }
            }
            Lookup::Miss => Ok(active(self.read_activity(id).await?)),
        }
    }

    /// Reads whether session `id` is usable (its end, `None` when gone or revoked) and
    /// caches the answer.
    async fn read_activity(self, id: &str) -> Result<Option<u64>> {
        let fetched = Instant::now();
        let entry = self.load(id).await?;
        let expires_at = entry
            .filter(|e| !is_revoked(e))
            .map(|e| e.first_str(EXPIRES).and_then(parse_gtime).unwrap_or(0));
        self.h.sessions_cache().put_read_at(id, expires_at, fetched);
        Ok(expires_at)
    }

    /// The session `id` as stored (`None`: no such session), whatever its state.
    pub async fn get(self, id: &str) -> Result<Option<StoredSession>> {
        let Some(e) = self.load(id).await? else {
            return Ok(None);
        };
        Ok(Some(StoredSession {
            id: id.to_owned(),
            subject_dn: e.first_str(SUBJECT).map(Dn::parse).transpose()?,
            issued_at: e.first_str(ISSUED).and_then(parse_gtime),
            expires_at: e.first_str(EXPIRES).and_then(parse_gtime),
            refresh_hash: e.first_str(HASH).map(str::to_owned),
            revoked: is_revoked(&e),
        }))
    }

    /// Deletes every session that has expired; returns how many.
    pub async fn purge_expired(self) -> Result<usize> {
        let found = self
            .h
            .directory()
            .search(
                &SearchRequest::new(
                    self.container()?,
                    Scope::One,
                    Filter::and([
                        Filter::eq("objectClass", CLASS),
                        Filter::le(EXPIRES, gtime(now_secs())),
                    ]),
                )
                .attributes(["1.1"]),
            )
            .await?;
        let mut n = 0;
        for e in found {
            match self.h.directory().delete(&e.dn).await {
                Ok(()) => n += 1,
                // Purged by another instance meanwhile.
                Err(err) if err.code() == ErrorCode::EntryNotFound => {}
                Err(err) => return Err(err),
            }
        }
        Ok(n)
    }
}

/// A session entry as stored (see [`SessionsService::get`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// Its id.
    pub id: String,
    /// The user it is for.
    pub subject_dn: Option<Dn>,
    /// Creation time (Unix seconds).
    pub issued_at: Option<u64>,
    /// End (Unix seconds).
    pub expires_at: Option<u64>,
    /// SHA-256 (hex) of the refresh token id now valid; none once revoked.
    pub refresh_hash: Option<String>,
    /// Whether it has been revoked.
    pub revoked: bool,
}

fn is_revoked(e: &Entry) -> bool {
    e.first_str(REVOKED)
        .is_some_and(|v| v.eq_ignore_ascii_case("TRUE"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::directory::EmbeddedDirectory;

    /// A bootstrapped embedded directory.
    fn fixture() -> (tempfile::TempDir, Heracles) {
        let folder = tempfile::tempdir().unwrap();
        let base = Dn::parse("dc=example,dc=com").unwrap();
        let dir = EmbeddedDirectory::open(folder.path(), &base).unwrap();
        let h = Heracles::new(Arc::new(dir), base);
        block_on(h.bootstrap(Some("An-admin-passw0rd"))).unwrap();
        (folder, h)
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    #[allow(clippy::many_single_char_names)]
    fn create_rotate_reuse_revoke_purge() {
        let (_dir, h) = fixture();
        block_on(async {
            let subject = h.base().child(Rdn::new("uid", "jdoe").unwrap());
            let s = h.sessions().create(&subject).await.unwrap();
            assert_eq!(s.id.len(), 32);
            assert!(s.expires_at > s.issued_at);
            let stored = h.sessions().get(&s.id).await.unwrap().unwrap();
            assert_eq!(stored.refresh_hash, Some(jti_hash(&s.refresh_jti)));
            assert_ne!(stored.refresh_hash.as_deref(), Some(s.refresh_jti.as_str()));
            assert!(h.sessions().is_active(&s.id).await.unwrap());

            let r = h.sessions().rotate(&s.id, &s.refresh_jti).await.unwrap();
            assert_ne!(r.refresh_jti, s.refresh_jti);
            // The spent token again: the session dies.
            let e = h
                .sessions()
                .rotate(&s.id, &s.refresh_jti)
                .await
                .unwrap_err();
            assert_eq!(e.code(), ErrorCode::Unauthenticated);
            assert!(!h.sessions().is_active(&s.id).await.unwrap());
            let e = h
                .sessions()
                .rotate(&s.id, &r.refresh_jti)
                .await
                .unwrap_err();
            assert_eq!(e.code(), ErrorCode::Unauthenticated);
            assert!(h.sessions().get(&s.id).await.unwrap().unwrap().revoked);

            // Logout.
            let s2 = h.sessions().create(&subject).await.unwrap();
            h.sessions().revoke(&s2.id).await.unwrap();
            assert!(!h.sessions().is_active(&s2.id).await.unwrap());
            h.sessions().revoke(&s2.id).await.unwrap();
            h.sessions().revoke("no-such-session").await.unwrap();
            assert!(!h.sessions().is_active("no-such-session").await.unwrap());
            assert!(!h.sessions().is_active("a,b=c").await.unwrap());

            // Expiry and purge.
            let s3 = h.sessions().create_with_ttl(&subject, 0).await.unwrap();
            assert!(!h.sessions().is_active(&s3.id).await.unwrap());
            let e = h
                .sessions()
                .rotate(&s3.id, &s3.refresh_jti)
                .await
                .unwrap_err();
            assert_eq!(e.code(), ErrorCode::Unauthenticated);
            let n = h.sessions().purge_expired().await.unwrap();
            assert_eq!(n, 1);
            assert!(h.sessions().get(&s3.id).await.unwrap().is_none());
            assert!(h.sessions().get(&s.id).await.unwrap().is_some());

            // Revoke all of a subject.
            let a = h.sessions().create(&subject).await.unwrap();
            let b = h.sessions().create(&subject).await.unwrap();
            assert_eq!(h.sessions().revoke_all(&subject).await.unwrap(), 2);
            assert!(!h.sessions().is_active(&a.id).await.unwrap());
            assert!(!h.sessions().is_active(&b.id).await.unwrap());
        });
    }

    #[test]
    fn concurrent_refreshes_with_one_token_cannot_both_win() {
        let (_dir, h) = fixture();
        block_on(async {
            let subject = h.base().child(Rdn::new("uid", "jdoe").unwrap());
            let s = h.sessions().create(&subject).await.unwrap();
            let (a, b) = tokio::join!(
                h.sessions().rotate(&s.id, &s.refresh_jti),
                h.sessions().rotate(&s.id, &s.refresh_jti)
            );
            assert!(!(a.is_ok() && b.is_ok()), "both refreshes won");
        });
    }

    #[test]
    fn a_revocation_elsewhere_is_seen_within_the_cache_ttl() {
        let (_dir, h) = fixture();
        block_on(async {
            let subject = h.base().child(Rdn::new("uid", "jdoe").unwrap());
            // Another instance: same directory, own cache.
            let other = Heracles::new(h.inner.dir.clone(), h.base().clone());
            let s = h.sessions().create(&subject).await.unwrap();
            assert!(other.sessions().is_active(&s.id).await.unwrap());
            h.sessions().revoke(&s.id).await.unwrap();
            tokio::time::sleep(ACTIVE_CACHE_TTL + Duration::from_millis(50)).await;
            assert!(!other.sessions().is_active(&s.id).await.unwrap());
        });
    }

    #[test]
    fn times_round_trip() {
        let t = 1_764_800_000;
        assert_eq!(parse_gtime(&gtime(t)), Some(t));
        assert!(gtime(t).ends_with('Z'));
    }
}
