//! The change marker without a round trip: the server tells us about every change.
//!
//! [`Directory::change_marker`] must change with every write, so that the lists' cache is
//! never stale. Reading `contextCSN` does that, at the cost of one search per list request,
//! and says nothing of *what* changed. Instead, where the server offers the content
//! synchronization control (RFC 4533; slapd's syncprov overlay), one **persistent search**
//! per naming context (refreshAndPersist, on a connection of its own, asking only for
//! `objectClass`, `hasSubordinates` and `entryUUID`) is told of each change as it commits,
//! and logs it in a [`ChangeLog`]: the entry's DN, object classes, whether it is a leaf
//! and its entryUUID (which follows it through renames), or that it was deleted. The
//! marker is the log's position, and caches ask the log whether what changed since they
//! were filled can matter to them ([`Marker::changed_since`]):
//!
//! - The search starts from a cookie made of the current `contextCSN`, so the server sends
//!   no initial content; the watch is trusted ("live") only once the server says its
//!   refresh phase is done (an intermediate Sync Info message), and each time it goes
//!   live the marker takes a new epoch, so nothing cached before can match it.
//! - Writes through this directory are logged as soon as they return (before their
//!   notification arrives), with the attributes they wrote, so a client reads its own
//!   writes.
//! - The connection is probed every [`PROBE_EVERY`]; when the search ends, the connection
//!   breaks or a probe fails, the watch stops being live and the marker falls back to
//!   reading `contextCSN` until a new watch is live (tried again after [`RETRY_AFTER`]).
//!
//! So a change made through another client (another Heracles instance, `ldapmodify`) is
//! seen as soon as the server's notification arrives — on a local network, well under a
//! millisecond after the change committed.
//!
//! [`Directory::change_marker`]: crate::directory::Directory::change_marker
//! [`ChangeLog`]: crate::directory::ChangeLog
//! [`Marker::changed_since`]: crate::directory::Marker::changed_since

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ldap3::controls::{MakeCritical, RawControl, RefreshMode, SyncRequest};
use ldap3::exop::WhoAmI;
use ldap3::Ldap;
use tokio::time::timeout;

use super::controls::{decode_sync_state, SyncEntryState, SYNC_STATE_OID};
use super::convert::entry_from_result;
use crate::directory::{Change, ChangeLog, Marker};
use crate::dn::Dn;

/// The content synchronization request control (RFC 4533).
pub(super) const SYNC_REQUEST_OID: &str = "1.3.6.1.4.1.4203.1.9.1.1";

/// How often the watch's connection is probed (a WhoAmI on it).
pub(super) const PROBE_EVERY: Duration = Duration::from_secs(5);
/// How long after a failed or ended watch a new one is tried.
pub(super) const RETRY_AFTER: Duration = Duration::from_secs(10);

/// The watch of one naming context.
#[derive(Debug, Default)]
pub(super) struct Watch {
    /// Changes seen: notifications and writes through this directory.
    log: Arc<ChangeLog>,
    /// Incremented each time a persistent search goes live.
    epoch: AtomicU64,
    live: AtomicBool,
    /// A persistent search is running (live or still in its refresh phase).
    running: AtomicBool,
    /// When the last one was started.
    started: Mutex<Option<Instant>>,
}

impl Watch {
    /// The marker, while the watch is live.
    pub(super) fn marker(&self) -> Option<Marker> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        let epoch = self.epoch.load(Ordering::Acquire);
        let marker = Marker::logged(format!("watch:{epoch}"), &self.log);
        // Still live after reading the log: every change seen so far is in it.
        if !self.live.load(Ordering::Acquire) || self.epoch.load(Ordering::Acquire) != epoch {
            return None;
        }
        Some(marker)
    }

    /// Logs a change.
    pub(super) fn changed(&self, change: Change) {
        self.log.record(change);
    }

    /// Whether a new persistent search should be started now (and if so, records that one
    /// is being started).
    pub(super) fn should_start(&self) -> bool {
        if self.running.load(Ordering::Acquire) {
            return false;
        }
        let mut started = self.started.lock().unwrap_or_else(PoisonError::into_inner);
        if started.is_some_and(|t| t.elapsed() < RETRY_AFTER) {
            return false;
        }
        if self.running.swap(true, Ordering::AcqRel) {
            return false;
        }
        *started = Some(Instant::now());
        true
    }

    fn go_live(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.live.store(true, Ordering::Release);
    }

    /// Records that the watch is not running (it could not start, or it ended).
    pub(super) fn stop(&self) {
        self.live.store(false, Ordering::Release);
        self.running.store(false, Ordering::Release);
    }

    /// Whether the watch is live (for tests and diagnostics).
    pub(super) fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }
}

/// The watches, one per naming context.
#[derive(Debug, Default)]
pub(super) struct Watches(Mutex<HashMap<String, Arc<Watch>>>);

impl Watches {
    pub(super) fn of(&self, context: &Dn) -> Arc<Watch> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(context.normalized()).or_default())
    }

    /// Logs a write through this directory as a change of every context (a context that
    /// does not hold the entry finds it out of its caches' scopes).
    pub(super) fn changed(&self, change: &Change) {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for w in map.values() {
            w.changed(change.clone());
        }
    }

    /// Whether any watch is live.
    pub(super) fn any_live(&self) -> bool {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.values().any(|w| w.is_live())
    }
}

/// Runs the persistent search of `context` on `ldap` (a connection of its own), from the
/// state `csns` (the context's `contextCSN` values), counting changes into `watch` until
/// the search or the connection ends. Meant to be spawned.
pub(super) async fn run(mut ldap: Ldap, context: String, csns: Vec<String>, watch: Arc<Watch>) {
    let cookie = format!("rid=000,csn={}", csns.join(";"));
    let control: RawControl = SyncRequest {
        mode: RefreshMode::RefreshAndPersist,
        cookie: Some(cookie.into_bytes()),
        reload_hint: false,
    }
    .critical()
    .into();
    let mut probe = ldap.clone();
    let search = ldap
        .with_controls(control)
        .streaming_search(
            &context,
            ldap3::Scope::Subtree,
            "(objectClass=*)",
            vec!["objectClass", "hasSubordinates", "entryUUID"],
        )
        .await;
    let mut stream = match search {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(error = %e, context, "change watch refused");
            watch.stop();
            return;
        }
    };
    // The probe: a WhoAmI on the same connection every few seconds; closing the connection
    // ends the search below.
    let prober = {
        let watch = Arc::clone(&watch);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_EVERY).await;
                let ok = matches!(
                    timeout(PROBE_EVERY, probe.extended(WhoAmI)).await,
                    Ok(Ok(res)) if res.1.rc == 0
                );
                if !ok {
                    tracing::debug!("change watch probe failed");
                    watch.live.store(false, Ordering::Release);
                    let _ = probe.unbind().await;
                    return;
                }
            }
        })
    };
    loop {
        match stream.next().await {
            Ok(Some(item)) if item.is_intermediate() => {
                // Sync Info: the refresh phase is over (the only intermediate message of
                // a sync search); from now on every change is notified.
                if !watch.live.load(Ordering::Acquire) {
                    watch.go_live();
                }
            }
            Ok(Some(item)) => watch.changed(notified(item)),
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(error = %e, "change watch ended");
                break;
            }
        }
    }
    let res = stream.finish().await;
    tracing::debug!(rc = res.rc, text = res.text, "change watch search ended");
    watch.stop();
    prober.abort();
    let _ = stream.ldap_handle().unbind().await;
}

/// What a notification (an entry of the persistent search) says changed.
fn notified(item: ldap3::ResultEntry) -> Change {
    let state = item
        .1
        .iter()
        .find(|c| c.1.ctype == SYNC_STATE_OID)
        .and_then(|c| c.1.val.as_deref())
        .map(decode_sync_state);
    let Ok(entry) = entry_from_result(item) else {
        return Change::Unknown;
    };
    match state {
        // The server's overlays (refint, memberof) may have changed other entries with
        // it, and do not notify those writes.
        Some(Ok(SyncEntryState::Delete)) => Change::Deleted {
            dn: entry.dn,
            cascade: true,
        },
        Some(Ok(SyncEntryState::Add | SyncEntryState::Modify)) => {
            let classes: Vec<String> = entry
                .strs("objectClass")
                .into_iter()
                .map(str::to_owned)
                .collect();
            if classes.is_empty() {
                return Change::Unknown;
            }
            let leaf = entry
                .first_str("hasSubordinates")
                .is_some_and(|v| v.eq_ignore_ascii_case("FALSE"));
            let uuid = entry.first_str("entryUUID").map(str::to_ascii_lowercase);
            Change::Entry {
                dn: entry.dn,
                classes,
                leaf,
                uuid,
            }
        }
        _ => Change::Unknown,
    }
}
