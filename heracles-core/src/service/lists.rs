//! How lists page (SPEC §1) without reading every entry: a never-stale cache of sorted DNs.
//!
//! A list needs the position of its page among all matches in order, and their number.
//! Reading every match's attributes for that is O(n) per request. Instead:
//!
//! 1. The directory's **change marker** is read ([`Directory::change_marker`]: on an LDAP
//!    server with syncprov, a count of the changes its persistent search is told about —
//!    no round trip —, or its `contextCSN` until that search is live; the embedded
//!    directory's change counter). It changes with every write to the database.
//! 2. The **sorted DNs** of the search — every match's DN in list order, found by a scan
//!    that reads only DNs and sort keys ([`sorted_dns`]) — are cached per (base, scope,
//!    filter, sort) under that marker. While the marker stays the same the cached list is
//!    exactly what a new scan would return, so a cached answer is never stale; a new
//!    marker makes a new scan (one per key, however many requests wait for it).
//! 3. The page is cut out of the list — after dropping the DNs the caller may not read,
//!    unless its ACL allows the whole base ([`CompiledAcl::allows_subtree`]) — and only
//!    the page's entries are read ([`Directory::fetch`], one search on LDAP).
//!
//! So a page costs one directory operation whatever its offset, and `total` costs nothing
//! once the list is cached. Without a marker (an LDAP server without syncprov) or
//! with the cache turned off ([`Heracles::set_list_cache`]), lists use
//! [`Directory::search_window`] — the sort and VLV controls where the server offers them —
//! for callers that may read everything, and an uncached scan of DNs for the others.
//!
//! The cache holds at most [`MAX_LISTS`] lists; the least recently used goes first.
//!
//! [`CompiledAcl::allows_subtree`]: crate::acl::CompiledAcl::allows_subtree
//! [`Heracles::set_list_cache`]: super::Heracles::set_list_cache

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use super::common::Principal;
use super::Heracles;
use crate::acl::Permission;
use crate::directory::{sorted_dns, Directory, Entry, Scope, SearchRequest, SortKey};
use crate::dn::Dn;
use crate::error::Result;
use crate::page::{Page, PageRequest};

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

#[derive(Debug)]
struct Slot {
    marker: String,
    dns: OnceCell<Arc<Vec<Dn>>>,
    used: AtomicU64,
}

/// The cache of sorted DNs (one per [`Heracles`]).
#[derive(Debug)]
pub(crate) struct ListCache {
    enabled: AtomicBool,
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
    clock: AtomicU64,
    /// Scans made (cache misses), for tests and diagnostics.
    scans: AtomicU64,
}

impl Default for ListCache {
    fn default() -> Self {
        ListCache {
            enabled: AtomicBool::new(true),
            slots: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
            scans: AtomicU64::new(0),
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

    /// The slot for `req` under `marker`, replacing one of another marker.
    fn slot(&self, req: &SearchRequest, marker: &str) -> Arc<Slot> {
        let key = Key::of(req);
        let now = self.clock.fetch_add(1, Ordering::Relaxed);
        let mut slots = self.lock();
        if let Some(s) = slots.get(&key).filter(|s| s.marker == marker) {
            s.used.store(now, Ordering::Relaxed);
            return Arc::clone(s);
        }
        // Lists of an older marker of the same base will not be asked for again.
        slots.retain(|k, s| s.marker == marker || k.base != key.base);
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
            marker: marker.to_owned(),
            dns: OnceCell::new(),
            used: AtomicU64::new(now),
        });
        slots.insert(key, Arc::clone(&slot));
        slot
    }

    /// The sorted DNs of `req` under `marker` (scanned once per marker).
    async fn sorted(
        &self,
        dir: &dyn Directory,
        req: &SearchRequest,
        marker: &str,
    ) -> Result<Arc<Vec<Dn>>> {
        let slot = self.slot(req, marker);
        let dns = slot
            .dns
            .get_or_try_init(|| async {
                self.scans.fetch_add(1, Ordering::Relaxed);
                sorted_dns(dir, req).await.map(Arc::new)
            })
            .await?;
        Ok(Arc::clone(dns))
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
    let dns = match marker {
        Some(m) => cache.sorted(dir, req, &m).await?,
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
    let entries = dir.fetch(&wanted, &req.attributes).await?;
    Ok(Page::new(entries, total as u64, page))
}
