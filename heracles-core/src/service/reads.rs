//! A never-stale cache of reads: what a read-only request read from the directory (a
//! user's entry for `GET /users/{uid}`, the entries of a list's page) is kept under the
//! directory's change marker and used again while no change since may have altered it.
//!
//! Each cached read remembers the request, the DNs it returned (or, for a read by DN, was
//! asked for) and the marker it was read under. When it is asked for again, the changes
//! logged since that marker are checked with [`Change::may_change_entries`]: a write to one
//! of those entries (through Heracles, or notified by the server's change watch for any
//! client, including the server's own overlays and password policy), a new entry that may
//! match, a write of a membership attribute when the read includes DN-valued attributes
//! (`memberOf`), a delete through Heracles (referential integrity), a rename, or anything
//! the log no longer holds makes it read again. Otherwise the cached entries are exactly
//! what the directory would return, with no round trip.
//!
//! Only markers backed by a change log are used ([`Marker::is_logged`]): an LDAP server's
//! `contextCSN` alone (before the change watch is live, or without syncprov) would cost a
//! round trip of its own, so reads then go to the directory (and the cache tries again a
//! second later). Writes never read through this cache: they read the entry they change
//! from the directory.
//!
//! The cache holds at most [`Heracles::set_read_cache`] entries in all (default
//! [`DEFAULT_READ_CACHE`]); reads that were not used since the last eviction pass go first.
//!
//! ```
//! use std::sync::Arc;
//! use heracles_core::directory::{Directory, EmbeddedDirectory, Modification};
//! use heracles_core::dn::Dn;
//! use heracles_core::service::{Heracles, Principal};
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let folder = tempfile::tempdir().unwrap();
//! let base = Dn::parse("dc=example,dc=com")?;
//! let dir = Arc::new(EmbeddedDirectory::open(folder.path(), &base)?);
//! let h = Heracles::new(dir.clone(), base.clone());
//! h.bootstrap(Some("An-admin-passw0rd")).await?;
//! let admin = Principal::system(&base);
//! let body = serde_json::json!({"uid": "jdoe", "cn": "Jane Doe", "sn": "Doe"});
//! let jdoe = h.users().create(&admin, body.as_object().unwrap()).await?;
//! h.users().get(&admin, "jdoe").await?;
//! let (hits, misses) = h.read_cache_counts();
//! h.users().get(&admin, "jdoe").await?; // from the cache
//! assert_eq!(h.read_cache_counts(), (hits + 2, misses)); // the entry and its groups
//! // Any program's write through the directory is seen by the next read.
//! dir.modify(&jdoe.dn, &[Modification::replace("cn", ["Jane Smith"])]).await?;
//! assert_eq!(h.users().get(&admin, "jdoe").await?.cn, "Jane Smith");
//! # Ok::<(), heracles_core::Error>(()) }).unwrap();
//! ```
//!
//! [`Change::may_change_entries`]: crate::directory::Change::may_change_entries
//! [`Marker::is_logged`]: crate::directory::Marker::is_logged
//! [`Heracles::set_read_cache`]: super::Heracles::set_read_cache

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::lists::Fresh;
use super::pack::{put_bytes, put_len, take_bytes, take_len};
use super::Heracles;
use crate::directory::{Entry, Marker, Scope, SearchRequest};
use crate::dn::Dn;
use crate::error::Result;
use crate::filter::Filter;

/// How many entries the cache holds in all by default (a cached get of a user takes about
/// 3 KiB: its values packed in one buffer — see [`Packed`] —, its DN and the request).
pub const DEFAULT_READ_CACHE: usize = 16_384;

/// Where a read goes: to the directory (writes, and what they check), or through the
/// cache (read-only requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// Straight to the directory.
    Directory,
    /// Through the cache of reads.
    Cached,
}

/// How long reads skip the cache after the directory offered no logged marker.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// An entry as the cache keeps it: its attributes in one buffer (a name, then its values,
/// each with its length), a fraction of what an [`Entry`]'s map of vectors takes.
#[derive(Debug)]
struct Packed {
    dn: Dn,
    attrs: Box<[u8]>,
}

impl Packed {
    fn new(e: &Entry) -> Packed {
        let mut buf = Vec::new();
        for a in e.attrs.iter() {
            put_bytes(&mut buf, a.name().as_bytes());
            put_len(&mut buf, a.values().len());
            for v in a.values() {
                put_bytes(&mut buf, v);
            }
        }
        Packed {
            dn: e.dn.clone(),
            attrs: buf.into_boxed_slice(),
        }
    }

    /// The entry again (`None` only if the buffer were not one [`Packed::new`] wrote).
    fn entry(&self) -> Option<Entry> {
        let mut e = Entry::new(self.dn.clone());
        let mut rest: &[u8] = &self.attrs;
        while !rest.is_empty() {
            let name = String::from_utf8(take_bytes(&mut rest)?.to_vec()).ok()?;
            let n = take_len(&mut rest)?;
            let mut values = Vec::with_capacity(n.min(rest.len()));
            for _ in 0..n {
                values.push(take_bytes(&mut rest)?.to_vec());
            }
            e.attrs.push_values(name, values);
        }
        Some(e)
    }
}

/// The entries of one read.
#[derive(Debug)]
struct Packs(Vec<Packed>);

impl Packs {
    fn new(entries: &[Entry]) -> Packs {
        Packs(entries.iter().map(Packed::new).collect())
    }

    fn entries(&self) -> Option<Vec<Entry>> {
        self.0.iter().map(Packed::entry).collect()
    }
}

#[derive(Debug)]
struct Slot {
    /// The entries, and the latest marker they are known to hold at.
    fresh: Fresh<Packs>,
    /// The request the changes are checked against.
    req: SearchRequest,
    /// The DNs returned (a search) or asked for (a read by DN).
    dns: Vec<Dn>,
    /// Used since the last eviction pass.
    used: AtomicBool,
}

impl Slot {
    fn size(&self) -> usize {
        self.dns.len().max(1)
    }
}

#[derive(Debug, Default)]
struct Slots {
    map: HashMap<Arc<str>, Arc<Slot>>,
    /// Keys in the order they were cached (the eviction pass walks it).
    order: VecDeque<Arc<str>>,
    /// Entries (or DNs asked for) held in all.
    held: usize,
}

/// The cache of reads (one per [`Heracles`]).
#[derive(Debug)]
pub(crate) struct ReadCache {
    capacity: AtomicUsize,
    slots: Mutex<Slots>,
    /// When the directory last had no logged marker.
    unlogged: Mutex<Option<Instant>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for ReadCache {
    fn default() -> Self {
        ReadCache {
            capacity: AtomicUsize::new(DEFAULT_READ_CACHE),
            slots: Mutex::new(Slots::default()),
            unlogged: Mutex::new(None),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl ReadCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_capacity(&self, entries: usize) {
        self.capacity.store(entries, Ordering::Relaxed);
        let mut slots = self.lock();
        Self::evict(&mut slots, entries);
    }

    /// (hits, misses) so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The marker to read under, if the cache is on and the directory has a logged one.
    async fn marker(&self, h: &Heracles, base: &Dn) -> Result<Option<Marker>> {
        if self.capacity.load(Ordering::Relaxed) == 0 {
            return Ok(None);
        }
        {
            let mut unlogged = self.unlogged.lock().unwrap_or_else(PoisonError::into_inner);
            match *unlogged {
                Some(at) if at.elapsed() < RETRY_AFTER => return Ok(None),
                Some(_) => *unlogged = None,
                None => {}
            }
        }
        match h.directory().change_marker(base).await? {
            Some(m) if m.is_logged() => Ok(Some(m)),
            _ => {
                *self.unlogged.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(Instant::now());
                Ok(None)
            }
        }
    }

    /// The cached entries of `key`, if they still hold at `marker`.
    fn get(&self, h: &Heracles, key: &str, marker: &Marker) -> Option<Vec<Entry>> {
        let slot = self.lock().map.get(key).cloned()?;
        let listed = |dn: &Dn| slot.dns.iter().any(|d| d == dn);
        if slot.fresh.holds_at(marker, |c| {
            c.may_change_entries(&slot.req, &listed, h.schema())
        }) {
            if let Some(entries) = slot.fresh.value().and_then(|p| p.entries()) {
                slot.used.store(true, Ordering::Relaxed);
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Some(entries);
            }
        }
        let mut slots = self.lock();
        if slots.map.get(key).is_some_and(|s| Arc::ptr_eq(s, &slot)) {
            slots.map.remove(key);
            slots.held = slots.held.saturating_sub(slot.size());
        }
        None
    }

    /// Caches `entries`, read for `req` (returning or asked for `dns`) after `marker`.
    fn put(&self, key: &str, req: SearchRequest, dns: Vec<Dn>, marker: Marker, entries: &[Entry]) {
        let capacity = self.capacity.load(Ordering::Relaxed);
        let slot = Arc::new(Slot {
            fresh: Fresh::ready(marker, Packs::new(entries)),
            req,
            dns,
            used: AtomicBool::new(false),
        });
        if slot.size() > capacity {
            return;
        }
        let mut slots = self.lock();
        let size = slot.size();
        let key: Arc<str> = Arc::from(key);
        if let Some(old) = slots.map.insert(Arc::clone(&key), slot) {
            slots.held = slots.held.saturating_sub(old.size());
        } else {
            slots.order.push_back(key);
        }
        slots.held += size;
        Self::evict(&mut slots, capacity);
    }

    /// Drops reads until at most `capacity` entries are held: the oldest first, but one
    /// used since the last pass gets another round.
    fn evict(slots: &mut Slots, capacity: usize) {
        let mut turns = slots.order.len().saturating_mul(2);
        while slots.held > capacity && turns > 0 {
            turns -= 1;
            let Some(key) = slots.order.pop_front() else {
                break;
            };
            match slots.map.get(&key) {
                Some(s) if s.used.swap(false, Ordering::Relaxed) => slots.order.push_back(key),
                Some(s) => {
                    let size = s.size();
                    slots.map.remove(&key);
                    slots.held = slots.held.saturating_sub(size);
                }
                // Dropped as stale already.
                None => {}
            }
        }
        // Keys of reads dropped as stale are removed here, lazily.
        if slots.order.len() > slots.map.len().saturating_mul(2) + 64 {
            let Slots { map, order, .. } = slots;
            order.retain(|k| map.contains_key(k));
        }
    }
}

/// The key of a search.
fn search_key(req: &SearchRequest) -> String {
    format!(
        "s\u{0}{}\u{0}{:?}\u{0}{}\u{0}{}\u{0}{:?}\u{0}{:?}",
        req.base.normalized(),
        req.scope,
        req.filter,
        req.attributes.join(","),
        req.size_limit,
        req.sort,
    )
}

/// What `req` returns, from the cache when nothing that may change it changed since it
/// was read (see the [module docs](self)). For read-only requests only.
pub(crate) async fn search(h: &Heracles, req: &SearchRequest) -> Result<Vec<Entry>> {
    let cache = h.read_cache();
    let Some(marker) = cache.marker(h, &req.base).await? else {
        return h.directory().search(req).await;
    };
    let key = search_key(req);
    if let Some(hit) = cache.get(h, &key, &marker) {
        return Ok(hit);
    }
    cache.misses.fetch_add(1, Ordering::Relaxed);
    let found = h.directory().search(req).await?;
    let dns = found.iter().map(|e| e.dn.clone()).collect();
    cache.put(&key, req.clone(), dns, marker, &found);
    Ok(found)
}

/// The entries of `dns` (those that exist, in that order) with `attributes`, from the
/// cache when none of them changed since they were read, or `marker` (read by the caller
/// before it chose `dns`) is not logged.
pub(crate) async fn fetch(
    h: &Heracles,
    marker: Option<&Marker>,
    dns: &[Dn],
    attributes: &[String],
) -> Result<Vec<Entry>> {
    let cache = h.read_cache();
    let marker = match marker {
        Some(m) if m.is_logged() && cache.capacity.load(Ordering::Relaxed) > 0 => m,
        _ => return h.directory().fetch(dns, attributes).await,
    };
    let mut key = String::from("f\u{0}");
    key.push_str(&attributes.join(","));
    for dn in dns {
        key.push('\u{0}');
        key.push_str(&dn.normalized());
    }
    if let Some(hit) = cache.get(h, &key, marker) {
        return Ok(hit);
    }
    cache.misses.fetch_add(1, Ordering::Relaxed);
    let found = h.directory().fetch(dns, attributes).await?;
    // A read by DN matches no other entry: only changes to these DNs (and those through
    // which overlays rewrite DN-valued attributes) count.
    let mut req = SearchRequest::new(h.base().clone(), Scope::Subtree, Filter::or([]));
    req.attributes = attributes.to_vec();
    cache.put(&key, req, dns.to_vec(), marker.clone(), &found);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_entries_come_back_the_same() {
        let e = Entry::new(Dn::parse("uid=jdoe,ou=people,dc=example,dc=com").unwrap())
            .with("objectClass", ["top", "inetOrgPerson"])
            .with("cn", ["Jane Doe"])
            .with("jpegPhoto", [vec![0u8, 255, 1, 0]])
            .with("description", [""]);
        let packed = Packed::new(&e);
        assert_eq!(packed.entry().unwrap(), e);
        let none = Entry::new(Dn::parse("dc=example,dc=com").unwrap());
        assert_eq!(Packed::new(&none).entry().unwrap(), none);
        // A buffer cut short is refused, not misread.
        let cut = Packed {
            dn: e.dn.clone(),
            attrs: packed.attrs[..packed.attrs.len() - 1].into(),
        };
        assert!(cut.entry().is_none());
    }
}
