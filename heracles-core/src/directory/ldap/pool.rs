//! A small pool of bound ldap3 connections, shared by concurrent operations.
//!
//! ldap3 has no pool. This one keeps up to `pool_size` connections (and briefly up to as
//! many again, see [`choose`]), each bound as the service account when it is opened. LDAP carries several operations on one connection
//! at once (each has its own message id), and ldap3 supports that through clones of one
//! handle, so a connection is lent to up to `share` operations together: a new operation
//! takes an idle connection first, opens a new one while fewer than `pool_size` are open,
//! and otherwise shares the least busy one. Sharing matters for the directory's own cost:
//! slapd reads several requests in one wake-up of a busy connection, where one request per
//! connection costs it a wake-up each (measured in README "Where the time goes").
//!
//! Some operations leave state on their connection and get it alone ([`Loan`]): a paged
//! search (slapd keeps one paging state per connection; a second paged search on it makes
//! the first one's cookie "invalid or old"), and a sorted window (sssvlv keeps its sorted
//! list until the connection closes, so that connection is taken out of the pool and
//! closed). The password-check pool binds its connections as users, which changes their
//! identity, so it lends each to one operation at a time (`share` 1).
//!
//! A connection lent again after it was idle is checked first: one whose driver task ended
//! (the server closed it) is dropped, and one idle for longer than `health_check_after` is
//! probed with a WhoAmI and replaced if the probe fails. A connection that failed
//! mid-operation is never lent again (operations already running on it finish or fail on
//! their own), so after the server comes back the next operation simply opens a fresh one:
//! reconnection needs no step.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use ldap3::exop::WhoAmI;
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings};
use rustls::ClientConfig;
use tokio::sync::{Notify, Semaphore, SemaphorePermit};
use tokio::time::{timeout, timeout_at};

use super::config::{Bind, LdapConfig};
use super::convert::map_error;
use crate::error::{Error, ErrorCode, LdapOperation, Result};

/// One open connection and the operations it carries.
struct Slot {
    id: u64,
    ldap: Ldap,
    /// Operations running on it now.
    busy: usize,
    /// When it last became idle (or was opened).
    since: Instant,
}

#[derive(Default)]
struct Slots {
    open: Vec<Slot>,
    /// Connections being opened for operations (counted against `pool_size`).
    opening: usize,
    next_id: u64,
}

/// The pool.
pub(super) struct Pool {
    config: LdapConfig,
    tls: Option<Arc<ClientConfig>>,
    /// Most operations on one connection at once.
    share: usize,
    slots: Mutex<Slots>,
    /// One per operation that may run at once: `pool_size` × `share`.
    permits: Semaphore,
    /// Told when a loan ends or a connection is opened (or fails to open).
    freed: Notify,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("url", &self.config.url)
            .field("size", &self.config.pool_size)
            .field("share", &self.share)
            .field("idle", &self.idle_count())
            .finish_non_exhaustive()
    }
}

/// How an operation uses its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Loan {
    /// With up to `share` operations at once.
    Shared,
    /// Alone while it runs (it keeps state on the connection); the connection stays pooled.
    Alone,
    /// Alone, and taken out of the pool: the caller closes it.
    Taken,
}

/// A connection on loan from the pool, for one operation; the loan ends when dropped, and
/// the connection is lent no more if it was marked broken.
pub(super) struct Conn<'a> {
    pub(super) ldap: Ldap,
    pool: &'a Pool,
    /// The slot lent from; `None` for a connection taken out of the pool.
    id: Option<u64>,
    /// Operations' worth of the slot this loan holds (`share` for one alone).
    weight: usize,
    broken: bool,
    _permit: SemaphorePermit<'a>,
}

impl Conn<'_> {
    /// Keeps this connection out of the pool.
    pub(super) fn discard(&mut self) {
        self.broken = true;
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id else {
            return;
        };
        {
            let mut slots = self.pool.lock();
            if let Some(i) = slots.open.iter().position(|s| s.id == id) {
                if self.broken || self.ldap.is_closed() {
                    slots.open.swap_remove(i);
                } else {
                    let slot = &mut slots.open[i];
                    slot.busy = slot.busy.saturating_sub(self.weight);
                    if slot.busy == 0 {
                        slot.since = Instant::now();
                    }
                }
            }
        }
        self.pool.freed.notify_waiters();
    }
}

/// What a new operation gets.
enum Pick {
    /// A slot's connection; `stale` if it was idle past the health-check age.
    Lent { id: u64, ldap: Ldap, stale: bool },
    /// An idle connection removed from the pool.
    Taken { ldap: Ldap, stale: bool },
    /// Nothing suitable: open a new connection.
    Open,
    /// Every connection is full and no more may be opened: wait for a loan to end.
    Wait,
}

/// Counts a connection being opened until the opening ends, however it ends (the caller's
/// timeout may drop it midway).
struct Opening<'a>(&'a Pool);

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        {
            let mut slots = self.0.lock();
            slots.opening = slots.opening.saturating_sub(1);
        }
        self.0.freed.notify_waiters();
    }
}

impl Pool {
    /// A pool lending each connection to up to `share` operations at once.
    pub(super) fn new(config: LdapConfig, tls: Option<Arc<ClientConfig>>, share: usize) -> Self {
        let share = share.max(1);
        let permits = Semaphore::new(config.pool_size.max(1).saturating_mul(share));
        Pool {
            config,
            tls,
            share,
            slots: Mutex::new(Slots::default()),
            permits,
            freed: Notify::new(),
        }
    }

    pub(super) fn config(&self) -> &LdapConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Open connections that carry no operation now.
    pub(super) fn idle_count(&self) -> usize {
        let mut slots = self.lock();
        slots
            .open
            .iter_mut()
            .map(|s| s.busy == 0 && !s.ldap.is_closed())
            .filter(|idle| *idle)
            .count()
    }

    /// A healthy, bound connection for one operation by `deadline`, lent as `loan` says:
    /// waiting for a free slot, probing an idle connection and opening a new one all count.
    pub(super) async fn get_by(
        &self,
        deadline: tokio::time::Instant,
        loan: Loan,
    ) -> Result<Conn<'_>> {
        match timeout_at(deadline, self.get_unbounded(loan)).await {
            Ok(got) => got,
            Err(_) => Err(
                Error::timeout(LdapOperation::Connect, self.config.operation_timeout)
                    .with_message("no directory connection was ready in time"),
            ),
        }
    }

    /// Chooses under the lock (see [`choose`]).
    fn pick(&self, loan: Loan) -> Pick {
        let mut slots = self.lock();
        slots.open.retain_mut(|s| !s.ldap.is_closed());
        // Connections beyond the pool's size (opened for operations alone while every
        // pooled one was busy) are closed once idle for the health-check age.
        let mut surplus = slots.open.len().saturating_sub(self.config.pool_size);
        if surplus > 0 {
            let old = self.config.health_check_after;
            slots.open.retain(|s| {
                let close = surplus > 0 && s.busy == 0 && s.since.elapsed() >= old;
                surplus -= usize::from(close);
                !close
            });
        }
        let busy: Vec<usize> = slots.open.iter().map(|s| s.busy).collect();
        let stale_after = self.config.health_check_after;
        let room = self.config.pool_size.saturating_sub(slots.opening);
        let weight = self.weight(loan);
        match choose(&busy, room, self.share, weight, loan == Loan::Taken) {
            Choice::Take(i) => {
                let slot = slots.open.swap_remove(i);
                Pick::Taken {
                    stale: slot.since.elapsed() >= stale_after,
                    ldap: slot.ldap,
                }
            }
            Choice::Lend(i) => {
                let slot = &mut slots.open[i];
                let idle = slot.busy == 0;
                slot.busy += weight;
                Pick::Lent {
                    id: slot.id,
                    ldap: slot.ldap.clone(),
                    stale: idle && slot.since.elapsed() >= stale_after,
                }
            }
            Choice::Open => {
                slots.opening += 1;
                Pick::Open
            }
            Choice::Wait => Pick::Wait,
        }
    }

    /// Ends the loan of slot `id` without an operation (its probe failed): it leaves the pool.
    fn drop_slot(&self, id: u64) {
        self.lock().open.retain(|s| s.id != id);
    }

    /// Operations' worth of a slot a loan holds.
    fn weight(&self, loan: Loan) -> usize {
        match loan {
            Loan::Shared => 1,
            Loan::Alone | Loan::Taken => self.share,
        }
    }

    async fn get_unbounded(&self, loan: Loan) -> Result<Conn<'_>> {
        let wait = self.config.operation_timeout;
        let weight = self.weight(loan);
        let many = u32::try_from(weight).unwrap_or(u32::MAX);
        let permit = match timeout(wait, self.permits.acquire_many(many)).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(Error::internal("the connection pool is closed")),
            Err(_) => {
                return Err(Error::timeout(LdapOperation::Connect, wait)
                    .with_message("no pooled directory connection became free in time"))
            }
        };
        loop {
            // Registered before looking, so that a loan ending meanwhile is not missed.
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            match self.pick(loan) {
                Pick::Wait => freed.await,
                Pick::Lent {
                    id,
                    mut ldap,
                    stale,
                } => {
                    if stale && !self.probe(&mut ldap).await {
                        self.drop_slot(id);
                        continue;
                    }
                    return Ok(Conn {
                        ldap,
                        pool: self,
                        id: Some(id),
                        weight,
                        broken: false,
                        _permit: permit,
                    });
                }
                Pick::Taken { mut ldap, stale } => {
                    if stale && !self.probe(&mut ldap).await {
                        continue;
                    }
                    return Ok(Conn {
                        ldap,
                        pool: self,
                        id: None,
                        weight,
                        broken: false,
                        _permit: permit,
                    });
                }
                Pick::Open => {
                    let opening = Opening(self);
                    let ldap = self.open(&self.config.bind).await?;
                    let id = if loan == Loan::Taken {
                        None
                    } else {
                        let mut slots = self.lock();
                        let id = slots.next_id;
                        slots.next_id += 1;
                        slots.open.push(Slot {
                            id,
                            ldap: ldap.clone(),
                            busy: weight,
                            since: Instant::now(),
                        });
                        Some(id)
                    };
                    drop(opening);
                    return Ok(Conn {
                        ldap,
                        pool: self,
                        id,
                        weight,
                        broken: false,
                        _permit: permit,
                    });
                }
            }
        }
    }

    async fn probe(&self, ldap: &mut Ldap) -> bool {
        let limit = self.config.connect_timeout;
        matches!(
            timeout(limit, ldap.extended(WhoAmI)).await,
            Ok(Ok(res)) if res.1.rc == 0
        )
    }

    /// Opens a new connection and binds it as `bind` (not pooled by itself), within
    /// `connect_timeout` for the TCP connect, TLS and the bind together.
    pub(super) async fn open(&self, bind: &Bind) -> Result<Ldap> {
        let limit = self.config.connect_timeout;
        match timeout(limit, self.open_unbounded(bind)).await {
            Ok(opened) => opened,
            Err(_) => Err(Error::timeout(LdapOperation::Connect, limit)
                .with_detail("url", self.config.url.as_str())),
        }
    }

    async fn open_unbounded(&self, bind: &Bind) -> Result<Ldap> {
        let cfg = &self.config;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(cfg.connect_timeout)
            .set_starttls(cfg.starttls);
        if let Some(tls) = &self.tls {
            settings = settings.set_config(Arc::clone(tls));
        }
        let url = cfg.url.as_str();
        let limit = cfg.connect_timeout;
        let (conn, mut ldap) = match timeout(limit, LdapConnAsync::with_settings(settings, url))
            .await
        {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                let (err, _) = map_error(LdapOperation::Connect, "", e);
                return Err(err.with_detail("url", url));
            }
            Err(_) => {
                return Err(Error::timeout(LdapOperation::Connect, limit).with_detail("url", url))
            }
        };
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "directory connection ended");
            }
        });
        let bound = match bind {
            Bind::Anonymous => return Ok(ldap),
            Bind::Simple { dn, password } => {
                if dn.is_root() {
                    return Err(Error::new(
                        ErrorCode::InvalidConfig,
                        "the bind DN is empty or invalid",
                    ));
                }
                timeout(limit, ldap.simple_bind(&dn.to_string(), password)).await
            }
            Bind::SaslExternal => timeout(limit, ldap.sasl_external_bind()).await,
        };
        match bound {
            Ok(Ok(res)) => match res.success() {
                Ok(_) => Ok(ldap),
                Err(e) => Err(map_error(LdapOperation::Connect, "", e).0),
            },
            Ok(Err(e)) => Err(map_error(LdapOperation::Connect, "", e).0),
            Err(_) => Err(Error::timeout(LdapOperation::Connect, limit)),
        }
    }
}

/// What a new operation gets, in [`choose`]'s terms.
#[derive(Debug, PartialEq, Eq)]
enum Choice {
    /// Share (or use) open connection `i`.
    Lend(usize),
    /// Take idle connection `i` out of the pool.
    Take(usize),
    /// Open a new connection.
    Open,
    /// Wait for a loan to end.
    Wait,
}

/// The pool's policy, given how many operations' worth each open connection carries
/// (`busy`), how many connections the pool may have open (`room`: its size less those being
/// opened), how many operations share one connection at most, and the new loan's worth
/// (`weight`: 1, or `share` for an operation alone): an idle connection first; then a new
/// one while there is room; then the least busy connection with room for the loan. A
/// connection taken out of the pool (`take`) must be idle, or new. With no room left and
/// no connection able to carry the loan, a shared operation waits (connections being
/// opened or operations ending make room), while one alone gets a new connection beyond
/// the pool's size: it would otherwise wait for a connection to become wholly idle, which
/// under steady load may never happen. Every running operation holds its weight of
/// `size × share` permits, so there are at most twice `size` connections; the surplus is
/// closed once idle for the health-check age.
fn choose(busy: &[usize], room: usize, share: usize, weight: usize, take: bool) -> Choice {
    let best = busy
        .iter()
        .enumerate()
        .filter(|(_, b)| **b + weight <= share)
        .min_by_key(|(_, b)| **b);
    let can_open = busy.len() < room;
    match best {
        Some((i, 0)) if take => Choice::Take(i),
        Some((i, &b)) if !take && (b == 0 || !can_open) => Choice::Lend(i),
        None if !take && weight < share && !can_open => Choice::Wait,
        _ => Choice::Open,
    }
}

#[cfg(test)]
mod tests {
    use super::{choose, Choice};

    #[test]
    fn idle_connections_first_then_new_ones_then_sharing() {
        // Nothing open: open one.
        assert_eq!(choose(&[], 2, 4, 1, false), Choice::Open);
        // An idle connection is used before anything else.
        assert_eq!(choose(&[1, 0], 2, 4, 1, false), Choice::Lend(1));
        // All busy and room for more: a new connection.
        assert_eq!(choose(&[1], 2, 4, 1, false), Choice::Open);
        // All busy, no room: the least busy one is shared.
        assert_eq!(choose(&[3, 1], 2, 4, 1, false), Choice::Lend(1));
        // ...but never past `share`: the full one is skipped.
        assert_eq!(choose(&[4, 2], 2, 4, 1, false), Choice::Lend(1));
        // Share 1 (the password-check pool): a busy connection is never lent again.
        assert_eq!(choose(&[1, 0], 2, 1, 1, false), Choice::Lend(1));
        assert_eq!(choose(&[1], 2, 1, 1, false), Choice::Open);
        // Connections being opened count against the room (room 1 here: one of 2 opening).
        assert_eq!(choose(&[1], 1, 4, 1, false), Choice::Lend(0));
    }

    #[test]
    fn an_operation_alone_gets_an_idle_or_new_connection() {
        // Weight 4 of share 4: only an idle connection can carry it...
        assert_eq!(choose(&[1, 0], 2, 4, 4, false), Choice::Lend(1));
        assert_eq!(choose(&[1], 2, 4, 4, false), Choice::Open);
        // ...and with no room, a busy one is still not shared with it.
        assert_eq!(choose(&[1, 2], 2, 4, 4, false), Choice::Open);
        // A connection carrying one alone is full for everyone else.
        assert_eq!(choose(&[4, 1], 2, 4, 1, false), Choice::Lend(1));
        assert_eq!(choose(&[4], 1, 4, 1, false), Choice::Wait);
        // A shared operation with every connection full waits when none may be opened.
        assert_eq!(choose(&[4, 4], 2, 4, 1, false), Choice::Wait);
        assert_eq!(choose(&[4], 2, 4, 1, false), Choice::Open);
    }

    #[test]
    fn a_taken_connection_is_idle_or_new() {
        assert_eq!(choose(&[2, 0], 2, 4, 4, true), Choice::Take(1));
        assert_eq!(choose(&[2, 1], 2, 4, 4, true), Choice::Open);
        assert_eq!(choose(&[], 2, 4, 4, true), Choice::Open);
    }
}
