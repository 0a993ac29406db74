//! How lists page (SPEC §1) without reading every entry: a never-stale cache of sorted DNs.
//!
//! A list needs the position of its page among all matches in order, and their number.
//! Reading every match's attributes for that is O(n) per request. Instead:
//!
//! 1. The directory's **change marker** is read ([`Directory::change_marker`]: on an LDAP
//!    server with syncprov, the position in a log of the changes its persistent search is
//!    told about — no round trip —, or its `contextCSN` until that search is live; the
//!    embedded directory's change counter).
//! 2. The **sorted DNs** of the search — every match's DN in list order, found by a scan
//!    that reads only DNs and sort keys ([`sorted_dns`]) — are cached per (base, scope,
//!    filter, sort) with the marker they were scanned under. A later marker is checked
//!    against them ([`Marker::changed_since`], [`Change::may_affect`]): if nothing that
//!    changed since can change which entries match or their order — an audit event or a
//!    session written by a login does not change a list of users —, the cached list is
//!    exactly what a new scan would return and it is used; if the only such changes are
//!    deletes of listed entries, and whole lives of entries added through this directory
//!    and deleted again ([`net_removals`]), the list without those deleted is used;
//!    otherwise, or when the
//!    directory cannot tell what changed, one new scan is made (one per key, however many
//!    requests wait for it). So a cached answer is never stale.
//! 3. The page is cut out of the list — after dropping the DNs the caller may not read,
//!    unless its ACL allows the whole base ([`CompiledAcl::allows_subtree`]) — and only
//!    the page's entries are read ([`Directory::fetch`], one search on LDAP), or taken
//!    from the cache of reads when none of them changed since (see [`reads`]).
//!
//! So a page costs one directory operation whatever its offset, and `total` costs nothing
//! once the list is cached. Without a marker (an LDAP server without syncprov) or
//! with the cache turned off ([`Heracles::set_list_cache`]), lists use
//! [`Directory::search_window`] — the sort and VLV controls where the server offers them —
//! for callers that may read everything, and an uncached scan of DNs for the others.
//!
//! The cache holds at most [`MAX_LISTS`] lists; the least recently used goes first. The
//! change log keeps the last few thousand changes only, so a task checks the cached lists
//! (and the posix-only groups' index) against it every 250 ms: a busy spell of logins
//! does not push out what a list not asked for meanwhile needs. (The task needs the Tokio
//! runtime's time driver, as `#[tokio::main]` and `Builder::enable_all` give it; without
//! it the task stops at its first sleep — Tokio reports that as a panic of the task — and
//! lists work as before, rescanning after such spells.)
//!
//! [`CompiledAcl::allows_subtree`]: crate::acl::CompiledAcl::allows_subtree
//! [`reads`]: super::reads
//! [`Heracles::set_list_cache`]: super::Heracles::set_list_cache
//! [`Marker::changed_since`]: crate::directory::Marker::changed_since
//! [`Change::may_affect`]: crate::directory::Change::may_affect
//! [`net_removals`]: crate::directory::net_removals

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use super::common::Principal;
use super::Heracles;
use crate::acl::Permission;
use crate::directory::{
    net_removals, sorted_dns, Change, Directory, Entry, Marker, Scope, SearchRequest, SortKey,
};
use crate::dn::Dn;
use crate::error::Result;
use crate::page::{Page, PageRequest};
use crate::schema::Schema;

/// Most lists the cache holds.
pub const MAX_LISTS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    base: String,
    scope: Scope,
    filter: String,
    sort: Vec<SortKey>,
}

impl Key {
    fn of(req: &SearchRequest) -> Key {
        Key {
            base: req.base.normalized(),
            scope: req.scope,
            filter: req.filter.to_string(),
            sort: req.sort.clone(),
        }
    }
}

/// A value computed from the directory under a marker, kept while later markers say
/// nothing changed that matters to it (the lists' sorted DNs, the index of posix-only
/// groups).
#[derive(Debug)]
pub(crate) struct Fresh<T> {
    /// The latest marker the value is known to hold at.
    checked: Mutex<Marker>,
    value: OnceCell<Arc<T>>,
}

impl<T> Fresh<T> {
    /// A value to be computed after `marker` was read.
    pub(crate) fn new(marker: Marker) -> Self {
        Fresh {
            checked: Mutex::new(marker),
            value: OnceCell::new(),
        }
    }

    fn checked(&self) -> std::sync::MutexGuard<'_, Marker> {
        self.checked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `marker` is of the same epoch as the value (else it cannot be checked).
    pub(crate) fn same_epoch(&self, marker: &Marker) -> bool {
        self.checked().epoch() == marker.epoch()
    }

    /// The value, computed by `init` once.
    pub(crate) async fn get<F, Fut>(&self, init: F) -> Result<Arc<T>>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let v = self
            .value
            .get_or_try_init(|| async { init().await.map(Arc::new) })
            .await?;
        Ok(Arc::clone(v))
    }

    /// A value computed at `marker`.
    pub(crate) fn ready(marker: Marker, value: T) -> Self {
        Fresh {
            checked: Mutex::new(marker),
            value: OnceCell::new_with(Some(Arc::new(value))),
        }
    }

    /// The value, if computed.
    pub(crate) fn value(&self) -> Option<Arc<T>> {
        self.value.get().cloned()
    }

    /// The changes between the latest marker the value is known to hold at and `marker`
    /// (none if that is `marker` or later); `None` if they cannot be told.
    fn changes_at(&self, marker: &Marker) -> Option<Vec<Arc<Change>>> {
        let checked = self.checked().clone();
        if checked.epoch() == marker.epoch() && marker.seq() <= checked.seq() {
            // Checked up to a later change already (or the same state).
            return Some(Vec::new());
        }
        marker.changes_since(&checked)
    }

    /// Records that the value holds at `marker`.
    fn advance(&self, marker: &Marker) {
        let mut c = self.checked();
        if c.epoch() == marker.epoch() && c.seq() < marker.seq() {
            *c = marker.clone();
        }
    }

    /// Whether the value (computed) still holds at `marker`, given what may affect it;
    /// if so it is known to hold there from now on.
    pub(crate) fn holds_at(&self, marker: &Marker, affects: impl Fn(&Change) -> bool) -> bool {
        let holds = self
            .changes_at(marker)
            .is_some_and(|changes| !changes.iter().any(|c| affects(c)));
        if holds {
            self.advance(marker);
        }
        holds
    }
}

/// The sorted DNs of a list, and a set of their hashes to tell quickly whether a DN is
/// one of them.
#[derive(Debug)]
struct Sorted {
    dns: Arc<Vec<Dn>>,
    hashes: HashSet<u64>,
}

fn dn_hash(dn: &Dn) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(dn)
}

impl Sorted {
    fn new(dns: Vec<Dn>) -> Sorted {
        let hashes = dns.iter().map(dn_hash).collect();
        Sorted {
            dns: Arc::new(dns),
            hashes,
        }
    }

    /// Whether `dn` is (or, rarely, has the hash of) one of the DNs.
    fn lists(&self, dn: &Dn) -> bool {
        self.hashes.contains(&dn_hash(dn))
    }
}

#[derive(Debug)]
struct Slot {
    fresh: Fresh<Sorted>,
    used: AtomicU64,
    /// The search whose sorted DNs these are.
    req: SearchRequest,
}

/// The cache of sorted DNs (one per [`Heracles`]).
#[derive(Debug)]
pub(crate) struct ListCache {
    enabled: AtomicBool,
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
    clock: AtomicU64,
    /// Scans made (cache misses), for tests and diagnostics.
    scans: AtomicU64,
    /// Whether the task keeping the lists checked against the change log runs.
    keeping: AtomicBool,
}

impl Default for ListCache {
    fn default() -> Self {
        ListCache {
            enabled: AtomicBool::new(true),
            slots: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
            scans: AtomicU64::new(0),
            keeping: AtomicBool::new(false),
        }
    }
}

impl ListCache {
    pub(crate) fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
        if !on {
            self.lock().clear();
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    pub(crate) fn scans(&self) -> u64 {
        self.scans.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The slot for `req` at `marker`: the cached one if of the same epoch (and not
    /// `stale`), else a new one.
    fn slot(&self, req: &SearchRequest, marker: &Marker, stale: Option<&Arc<Slot>>) -> Arc<Slot> {
        let key = Key::of(req);
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.lock();
        if let Some(s) = slots
            .get(&key)
            .filter(|s| s.fresh.same_epoch(marker) && !stale.is_some_and(|st| Arc::ptr_eq(s, st)))
        {
            s.used.store(now, Ordering::Relaxed);
            return Arc::clone(s);
        }
        // Lists of another epoch will not be asked for again.
        slots.retain(|_, s| s.fresh.same_epoch(marker));
        while slots.len() >= MAX_LISTS {
            let oldest = slots
                .iter()
                .min_by_key(|(_, s)| s.used.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => slots.remove(&k),
                None => break,
            };
        }
        let slot = Arc::new(Slot {
            fresh: Fresh::new(marker.clone()),
            used: AtomicU64::new(now),
            req: req.clone(),
        });
        slots.insert(key, Arc::clone(&slot));
        slot
    }

    /// Puts `fresh` in the place of `old` (unless another request replaced it already).
    fn replace(&self, old: &Arc<Slot>, fresh: Fresh<Sorted>) {
        let key = Key::of(&old.req);
        let mut slots = self.lock();
        if slots.get(&key).is_some_and(|s| Arc::ptr_eq(s, old)) {
            slots.insert(
                key,
                Arc::new(Slot {
                    fresh,
                    used: AtomicU64::new(old.used.load(Ordering::Relaxed)),
                    req: old.req.clone(),
                }),
            );
        }
    }

    /// The sorted DNs of `slot` (computed as `sorted`) at `marker`, if the changes since
    /// they were last checked tell what they are without a scan: unchanged, or without
    /// deleted entries (the slot is then replaced by one holding the list without them).
    fn check(
        &self,
        slot: &Arc<Slot>,
        sorted: &Sorted,
        marker: &Marker,
        schema: &Schema,
    ) -> Option<Arc<Vec<Dn>>> {
        let listed = |dn: &Dn| sorted.lists(dn);
        let removed = net_removals(&slot.fresh.changes_at(marker)?, &slot.req, &listed, schema)?;
        if removed.is_empty() {
            slot.fresh.advance(marker);
            return Some(Arc::clone(&sorted.dns));
        }
        // Only listed entries were deleted: the list without them, no scan.
        let kept: Vec<Dn> = sorted
            .dns
            .iter()
            .filter(|d| !removed.contains(*d))
            .cloned()
            .collect();
        let patched = Sorted::new(kept);
        let dns = Arc::clone(&patched.dns);
        self.replace(slot, Fresh::ready(marker.clone(), patched));
        Some(dns)
    }

    /// Checks every computed list against `marker` (see [`ListCache::check`]), so that
    /// lists not asked for while many changes were logged are still known to hold once
    /// the log has dropped those changes.
    fn keep_up(&self, marker: &Marker, schema: &Schema) {
        let slots: Vec<Arc<Slot>> = self.lock().values().cloned().collect();
        for slot in slots {
            if let Some(sorted) = slot.fresh.value() {
                let _ = self.check(&slot, &sorted, marker, schema);
            }
        }
    }

    /// The sorted DNs of `req` at `marker` (scanned again only when something changed
    /// that may change them).
    async fn sorted(
        &self,
        dir: &dyn Directory,
        schema: &Schema,
        req: &SearchRequest,
        marker: &Marker,
    ) -> Result<Arc<Vec<Dn>>> {
        let mut stale = None;
        // A slot made here (scanned after `marker` was read) holds at `marker`; one made
        // meanwhile by another request, under an older marker, may not: a few rounds.
        for _ in 0..3 {
            let slot = self.slot(req, marker, stale.as_ref());
            let sorted = slot
                .fresh
                .get(|| async {
                    self.scans.fetch_add(1, Ordering::Relaxed);
                    sorted_dns(dir, req).await.map(Sorted::new)
                })
                .await?;
            if let Some(dns) = self.check(&slot, &sorted, marker, schema) {
                return Ok(dns);
            }
            stale = Some(slot);
        }
        self.scans.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(sorted_dns(dir, req).await?))
    }
}

/// One page of `req` (sorted by its keys; `req.attributes` are read of the page's entries)
/// with only the entries `visible_to` may read listed and counted.
pub(crate) async fn page(
    h: &Heracles,
    visible_to: (&Principal, Permission),
    req: &SearchRequest,
    page: PageRequest,
) -> Result<Page<Entry>> {
    let dir = h.directory();
    let (p, read) = visible_to;
    let everything = p.acl().allows_subtree(read, &req.base);
    let cache = h.list_cache();
    let marker = if cache.enabled() {
        dir.change_marker(&req.base).await?
    } else {
        None
    };
    if marker.as_ref().is_some_and(Marker::is_logged) {
        keep_up(h);
    }
    let dns = match &marker {
        Some(m) => cache.sorted(dir, h.schema(), req, m).await?,
        None if everything => {
            let w = dir.search_window(req, page.offset(), page.limit()).await?;
            return Ok(Page::new(w.entries, w.total, page));
        }
        None => Arc::new(sorted_dns(dir, req).await?),
    };
    let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let take = page.limit() as usize;
    let (wanted, total): (Vec<Dn>, usize) = if everything {
        let end = skip.saturating_add(take).min(dns.len());
        let wanted = dns.get(skip.min(end)..end).unwrap_or_default().to_vec();
        (wanted, dns.len())
    } else {
        let mut total = 0usize;
        let mut wanted = Vec::with_capacity(take);
        for dn in dns.iter().filter(|dn| p.allows(read, dn)) {
            if total >= skip && wanted.len() < take {
                wanted.push(dn.clone());
            }
            total += 1;
        }
        (wanted, total)
    };
    // Read under the marker the list was checked at: a page's entries changed since are
    // read again (see the `reads` module).
    let entries = super::reads::fetch(h, marker.as_ref(), &wanted, &req.attributes).await?;
    Ok(Page::new(entries, total as u64, page))
}

/// How often the lists are checked against the change log while no request asks for them.
const KEEP_UP_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// Starts (once per [`Heracles`], on a Tokio runtime) the task that checks the cached
/// lists and the posix-only groups' index against the change log every
/// [`KEEP_UP_EVERY`]: the log keeps the last few thousand changes, and a busy minute of
/// logins (a session and an audit event each) would otherwise push out what a list not
/// asked for meanwhile needs to be checked, and cost it a scan. The task ends with the
/// last clone of the [`Heracles`].
pub(crate) fn keep_up(h: &Heracles) {
    let cache = h.list_cache();
    if cache.keeping.load(Ordering::Relaxed) {
        return;
    }
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if cache.keeping.swap(true, Ordering::Relaxed) {
        return;
    }
    let weak = Arc::downgrade(&h.inner);
    rt.spawn(async move {
        loop {
            tokio::time::sleep(KEEP_UP_EVERY).await;
            let Some(inner) = weak.upgrade() else { break };
            let h = Heracles { inner };
            let marker = match h.directory().change_marker(h.base()).await {
                Ok(Some(m)) if m.is_logged() => m,
                _ => continue,
            };
            h.list_cache().keep_up(&marker, h.schema());
            super::memberships::keep_up(&h, &marker);
            super::replica::keep_up(&h, &marker).await;
        }
    });
}
