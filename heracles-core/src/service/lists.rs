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
//!    exactly what a new scan would return and it is used. If the log tells enough
//!    ([`net_changes`]), the cached list is patched: deleted listed entries are taken
//!    out, whole lives of entries added through this directory and deleted again are
//!    left out, and entries added or modified through this directory, or notified by the
//!    server, are read again — one search of the list's filter at each DN, for its sort
//!    keys and `entryUUID` — and put in their places or out. The list keeps each entry's
//!    `entryUUID`: a notified entry listed under another DN was renamed, and that DN is
//!    taken out. Otherwise (a branch renamed, a rename through this directory, a write
//!    that failed, too many entries to read again), or when the directory cannot tell
//!    what changed, one new scan is made (one per key, however many requests wait for
//!    it). So a cached answer is never stale.
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
//! [`net_changes`]: crate::directory::net_changes

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

use super::common::Principal;
use super::pack;
use super::Heracles;
use crate::acl::Permission;
use crate::directory::{
    net_changes, sorted_dns, sorted_matches, ByUuid, Change, Directory, Entry, Marker, Order,
    Scope, SearchRequest, SortKey,
};
use crate::dn::Dn;
use crate::error::{ErrorCode, Result};
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

/// Each listed entry's normalised sort values, packed in one buffer: per entry and key, a
/// varint of the value's length plus one (0: no value), then the value.
#[derive(Debug, Default)]
struct Keys {
    buf: Vec<u8>,
    /// Where each entry's values end in `buf`.
    ends: Vec<usize>,
}

impl Keys {
    fn push<V: AsRef<[u8]>>(&mut self, values: &[Option<V>]) {
        for v in values {
            match v {
                None => pack::put_len(&mut self.buf, 0),
                Some(v) => {
                    let v = v.as_ref();
                    pack::put_len(&mut self.buf, v.len().saturating_add(1));
                    self.buf.extend_from_slice(v);
                }
            }
        }
        self.ends.push(self.buf.len());
    }

    /// Entry `i`'s values as packed.
    fn record(&self, i: usize) -> &[u8] {
        let start = i
            .checked_sub(1)
            .and_then(|p| self.ends.get(p))
            .copied()
            .unwrap_or(0);
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.buf.get(start..end).unwrap_or_default()
    }

    fn push_record(&mut self, record: &[u8]) {
        self.buf.extend_from_slice(record);
        self.ends.push(self.buf.len());
    }

    /// Entry `i`'s values.
    fn values(&self, i: usize) -> Vec<Option<&[u8]>> {
        let mut rest = self.record(i);
        let mut out = Vec::new();
        while let Some(n) = pack::take_len(&mut rest) {
            let Some(n) = n.checked_sub(1) else {
                out.push(None);
                continue;
            };
            let (v, tail) = (rest.get(..n).unwrap_or_default(), rest.get(n..));
            out.push(Some(v));
            rest = tail.unwrap_or_default();
        }
        out
    }
}

/// The sorted DNs of a list, a set of their hashes to tell quickly whether a DN is one of
/// them, and their sort values to put an entry read again in its place.
#[derive(Debug)]
struct Sorted {
    dns: Arc<Vec<Arc<Dn>>>,
    /// Each DN's hash, in the same order.
    hashes: Vec<u64>,
    /// How many DNs have each hash.
    counts: HashMap<u64, u32>,
    /// Empty when the list has no sort keys (it then follows the directory's order, where
    /// no entry can be put in by this side).
    keys: Keys,
    /// Entries added through this directory (see [`NetChanges::added`](crate::directory::NetChanges::added)).
    added: BTreeSet<Dn>,
    /// Each entry's `entryUUID`, in the same order (0: not known), and whether every one
    /// is known: the server's notifications of renames then tell which DN was renamed.
    uuids: Vec<u128>,
    all_uuids: bool,
}

/// The `entryUUID` attribute, fetched with the sort keys.
const ENTRY_UUID: &str = "entryUUID";

/// An `entryUUID` (RFC 4122 text, any case) as a number.
fn uuid_key(text: &str) -> Option<u128> {
    let mut n: u128 = 0;
    let mut digits = 0;
    for c in text.chars().filter(|c| *c != '-') {
        n = (n << 4) | u128::from(c.to_digit(16)?);
        digits += 1;
    }
    (digits == 32 && n != 0).then_some(n)
}

fn uuid_of(e: &Entry) -> Option<u128> {
    e.first_str(ENTRY_UUID).and_then(uuid_key)
}

fn dn_hash(dn: &Dn) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(dn)
}

/// An entry read again: its DN, its sort values and its `entryUUID`.
type Found = (Dn, Vec<Option<Vec<u8>>>, Option<u128>);

/// An entry read again, with its normalised DN.
type Placed = (Dn, Vec<Option<Vec<u8>>>, Option<u128>, String);

impl Sorted {
    /// The matches of a scan ([`sorted_matches`]), in order.
    fn scanned(schema: &Schema, req: &SearchRequest, matches: Vec<Entry>) -> Sorted {
        let order = Order::new(schema, &req.sort);
        let mut keys = Keys::default();
        if !req.sort.is_empty() {
            for e in &matches {
                keys.push(&order.values(e));
            }
        }
        let uuids: Vec<u128> = matches.iter().map(|e| uuid_of(e).unwrap_or(0)).collect();
        let dns: Vec<Arc<Dn>> = matches.into_iter().map(|e| Arc::new(e.dn)).collect();
        let hashes: Vec<u64> = dns.iter().map(|dn| dn_hash(dn)).collect();
        let mut counts: HashMap<u64, u32> = HashMap::with_capacity(hashes.len());
        for h in &hashes {
            *counts.entry(*h).or_default() += 1;
        }
        Sorted {
            hashes,
            counts,
            dns: Arc::new(dns),
            keys,
            added: BTreeSet::new(),
            all_uuids: uuids.iter().all(|u| *u != 0),
            uuids,
        }
    }

    /// The listed DN of the entry with this `entryUUID`.
    fn with_uuid(&self, uuid: &str) -> Option<Dn> {
        let key = uuid_key(uuid)?;
        let at = self.uuids.iter().position(|u| *u == key)?;
        self.dns.get(at).map(|dn| (**dn).clone())
    }

    /// Whether `dn` is (or, rarely, has the hash of) one of the DNs.
    fn lists(&self, dn: &Dn) -> bool {
        self.counts.contains_key(&dn_hash(dn))
    }

    /// Whether listed entry `i` comes before the entry `new`.
    fn before(&self, order: &Order<'_>, i: usize, new: &Placed) -> bool {
        let ord = order.compare(&self.keys.values(i), &new.1).then_with(|| {
            self.dns.get(i).map_or(std::cmp::Ordering::Greater, |dn| {
                dn.normalized().cmp(&new.3)
            })
        });
        ord == std::cmp::Ordering::Less
    }

    /// The list without the DNs in `gone`, with the entries in `new` (and their sort
    /// values) in their places.
    fn patched(
        &self,
        order: &Order<'_>,
        gone: &HashSet<Dn>,
        new: Vec<Found>,
        added: BTreeSet<Dn>,
    ) -> Sorted {
        let mut new: Vec<Placed> = new
            .into_iter()
            .map(|(dn, values, uuid)| {
                let norm = dn.normalized();
                (dn, values, uuid, norm)
            })
            .collect();
        new.sort_by(|a, b| order.compare(&a.1, &b.1).then_with(|| a.3.cmp(&b.3)));
        // Where each new entry goes among the listed ones (a binary search each).
        let places: Vec<usize> = new
            .iter()
            .map(|n| {
                let (mut lo, mut hi) = (0, self.dns.len());
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if self.before(order, mid, n) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                lo
            })
            .collect();
        let gone_hashes: HashSet<u64> = gone.iter().map(dn_hash).collect();
        let with_keys = self.keys.ends.len() == self.dns.len();
        let size = self.dns.len() + new.len();
        let mut out = Sorted {
            dns: Arc::new(Vec::new()),
            hashes: Vec::with_capacity(size),
            counts: self.counts.clone(),
            keys: Keys::default(),
            added,
            uuids: Vec::with_capacity(size),
            all_uuids: self.all_uuids,
        };
        out.keys.ends.reserve(size);
        out.keys.buf.reserve(self.keys.buf.len());
        let mut dns = Vec::with_capacity(size);
        let mut next = new.into_iter().zip(places).peekable();
        for (i, (dn, &h)) in self.dns.iter().zip(&self.hashes).enumerate() {
            while let Some(((dn, values, uuid, _), _)) = next.next_if(|(_, at)| *at <= i) {
                dns.push(out.put(dn, &values, uuid));
            }
            if gone_hashes.contains(&h) && gone.contains(&**dn) {
                if let Some(n) = out.counts.get_mut(&h) {
                    *n -= 1;
                    if *n == 0 {
                        out.counts.remove(&h);
                    }
                }
                continue;
            }
            if with_keys {
                out.keys.push_record(self.keys.record(i));
            }
            out.hashes.push(h);
            out.uuids.push(self.uuids.get(i).copied().unwrap_or(0));
            dns.push(Arc::clone(dn));
        }
        for ((dn, values, uuid, _), _) in next {
            dns.push(out.put(dn, &values, uuid));
        }
        out.dns = Arc::new(dns);
        out
    }

    /// Counts a new DN with its sort values, and returns it to be listed.
    fn put(&mut self, dn: Dn, values: &[Option<Vec<u8>>], uuid: Option<u128>) -> Arc<Dn> {
        let h = dn_hash(&dn);
        *self.counts.entry(h).or_default() += 1;
        self.hashes.push(h);
        self.keys.push(values);
        self.all_uuids &= uuid.is_some();
        self.uuids.push(uuid.unwrap_or(0));
        Arc::new(dn)
    }
}

/// Most entries a list reads again to follow changes, instead of a new scan.
const MAX_REREADS: usize = 64;

/// Most entries added through this directory a list remembers (see
/// [`NetChanges::added`](crate::directory::NetChanges::added)); past that it forgets them, and their notifications make it
/// scan again.
const MAX_ADDED: usize = 256;

/// Reads `dn` again for `req`: its sort values and `entryUUID` if it is one of `req`'s
/// matches.
async fn reread(
    dir: &dyn Directory,
    req: &SearchRequest,
    order: &Order<'_>,
    dn: &Dn,
) -> Result<Option<Found>> {
    if !req.scope.includes(&req.base, dn) {
        return Ok(None);
    }
    let mut attrs: Vec<&str> = req.sort.iter().map(|k| k.attr.as_str()).collect();
    attrs.push(ENTRY_UUID);
    let one = SearchRequest::new(dn.clone(), Scope::Base, req.filter.clone()).attributes(attrs);
    match dir.search(&one).await {
        Ok(found) => Ok(found
            .first()
            .map(|e| (dn.clone(), order.values(e), uuid_of(e)))),
        Err(e) if e.code() == ErrorCode::EntryNotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[derive(Debug)]
struct Slot {
    fresh: Fresh<Sorted>,
    used: AtomicU64,
    /// The search whose sorted DNs these are.
    req: SearchRequest,
    /// Held while the list is patched: requests arriving meanwhile wait for that patch
    /// instead of each making its own.
    patching: tokio::sync::Mutex<()>,
}

/// What [`ListCache::check`] found.
enum Checked {
    /// The sorted DNs at the marker.
    Holds(Arc<Vec<Arc<Dn>>>),
    /// Another request patched the list meanwhile: check its new slot.
    Replaced,
    /// The changes do not tell: scan.
    Stale,
}

/// The cache of sorted DNs (one per [`Heracles`]).
#[derive(Debug)]
pub(crate) struct ListCache {
    enabled: AtomicBool,
    slots: Mutex<HashMap<Key, Arc<Slot>>>,
    clock: AtomicU64,
    /// Scans made (cache misses), for tests and diagnostics.
    scans: AtomicU64,
    /// Lists patched from the change log and entries read again, instead of scanned.
    patches: AtomicU64,
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
            patches: AtomicU64::new(0),
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

    pub(crate) fn patches(&self) -> u64 {
        self.patches.load(Ordering::Relaxed)
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
            patching: tokio::sync::Mutex::new(()),
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
                    patching: tokio::sync::Mutex::new(()),
                }),
            );
        }
    }

    /// Whether `slot` is still the cache's slot for its search.
    fn is_current(&self, slot: &Arc<Slot>) -> bool {
        self.lock()
            .get(&Key::of(&slot.req))
            .is_some_and(|s| Arc::ptr_eq(s, slot))
    }

    /// The sorted DNs of `slot` (computed as `sorted`) at `marker`, if the changes since
    /// they were last checked tell what they are without a scan: unchanged, or with
    /// deleted entries taken out and the few entries that changed read again and put in
    /// their places (the slot is then replaced by one holding the patched list).
    async fn check(
        &self,
        dir: &dyn Directory,
        slot: &Arc<Slot>,
        sorted: &Sorted,
        marker: &Marker,
        schema: &Schema,
    ) -> Result<Checked> {
        let Some(changes) = slot.fresh.changes_at(marker) else {
            return Ok(Checked::Stale);
        };
        let listed = |dn: &Dn| sorted.lists(dn);
        let with_uuid = |uuid: &str| sorted.with_uuid(uuid);
        let by_uuid: Option<ByUuid<'_>> = sorted.all_uuids.then_some(&with_uuid);
        let Some(mut net) =
            net_changes(&changes, &slot.req, &listed, &sorted.added, by_uuid, schema)
        else {
            return Ok(Checked::Stale);
        };
        if net.is_empty() && net.added == sorted.added {
            slot.fresh.advance(marker);
            return Ok(Checked::Holds(Arc::clone(&sorted.dns)));
        }
        if !net.reread.is_empty() && (slot.req.sort.is_empty() || net.reread.len() > MAX_REREADS) {
            return Ok(Checked::Stale);
        }
        // One patch at a time: whoever waited for it checks the patched list instead.
        let _patching = slot.patching.lock().await;
        if !self.is_current(slot) {
            return Ok(Checked::Replaced);
        }
        let order = Order::new(schema, &slot.req.sort);
        let mut found = Vec::new();
        for dn in &net.reread {
            if let Some(one) = reread(dir, &slot.req, &order, dn).await? {
                found.push(one);
            }
        }
        if net.added.len() > MAX_ADDED {
            net.added.clear();
        }
        let mut gone = net.removed;
        gone.extend(net.reread);
        let patched = sorted.patched(&order, &gone, found, net.added);
        let dns = Arc::clone(&patched.dns);
        self.patches.fetch_add(1, Ordering::Relaxed);
        self.replace(slot, Fresh::ready(marker.clone(), patched));
        Ok(Checked::Holds(dns))
    }

    /// Checks every computed list against `marker` (see [`ListCache::check`]), so that
    /// lists not asked for while many changes were logged are still known to hold once
    /// the log has dropped those changes.
    async fn keep_up(&self, dir: &dyn Directory, marker: &Marker, schema: &Schema) {
        let slots: Vec<Arc<Slot>> = self.lock().values().cloned().collect();
        for slot in slots {
            if let Some(sorted) = slot.fresh.value() {
                // A list that cannot be checked now is scanned again when asked for.
                let _ = self.check(dir, &slot, &sorted, marker, schema).await;
            }
        }
    }

    /// The sorted DNs of `req` at `marker` (scanned again only when something changed
    /// that the log does not tell enough of).
    async fn sorted(
        &self,
        dir: &dyn Directory,
        schema: &Schema,
        req: &SearchRequest,
        marker: &Marker,
    ) -> Result<Arc<Vec<Arc<Dn>>>> {
        let mut stale = None;
        // A slot made here (scanned after `marker` was read) holds at `marker`; one made
        // meanwhile by another request, under an older marker, may not: a few rounds
        // (and a few more for slots other requests patched meanwhile).
        let (mut rounds, mut replaced) = (0, 0);
        while rounds < 3 && replaced < 8 {
            let slot = self.slot(req, marker, stale.as_ref());
            let sorted = slot
                .fresh
                .get(|| async {
                    self.scans.fetch_add(1, Ordering::Relaxed);
                    let matches = sorted_matches(dir, req, &[ENTRY_UUID]).await?;
                    Ok(Sorted::scanned(schema, req, matches))
                })
                .await?;
            match self.check(dir, &slot, &sorted, marker, schema).await? {
                Checked::Holds(dns) => return Ok(dns),
                Checked::Replaced => replaced += 1,
                Checked::Stale => {
                    stale = Some(slot);
                    rounds += 1;
                }
            }
        }
        self.scans.fetch_add(1, Ordering::Relaxed);
        Ok(Arc::new(
            sorted_dns(dir, req)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect(),
        ))
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
        None => Arc::new(
            sorted_dns(dir, req)
                .await?
                .into_iter()
                .map(Arc::new)
                .collect(),
        ),
    };
    let skip = usize::try_from(page.offset()).unwrap_or(usize::MAX);
    let take = page.limit() as usize;
    let (wanted, total): (Vec<Dn>, usize) = if everything {
        let end = skip.saturating_add(take).min(dns.len());
        let wanted = dns
            .get(skip.min(end)..end)
            .unwrap_or_default()
            .iter()
            .map(|dn| (**dn).clone())
            .collect();
        (wanted, dns.len())
    } else {
        let mut total = 0usize;
        let mut wanted = Vec::with_capacity(take);
        for dn in dns.iter().filter(|dn| p.allows(read, dn)) {
            if total >= skip && wanted.len() < take {
                wanted.push((**dn).clone());
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
            h.list_cache()
                .keep_up(h.directory(), &marker, h.schema())
                .await;
            super::memberships::keep_up(&h, &marker);
            super::replica::keep_up(&h, &marker).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet};
    use std::sync::Arc;

    use super::{Order, Sorted};
    use crate::directory::{sort_entries, Entry, Scope, SearchRequest, SortKey};
    use crate::dn::Dn;
    use crate::filter::Filter;
    use crate::schema::Schema;

    fn person(uid: &str, cn: Option<&str>, number: &str) -> Entry {
        let mut e =
            Entry::new(Dn::parse(&format!("uid={uid},ou=people,dc=example,dc=com")).unwrap())
                .with("uid", [uid])
                .with("uidNumber", [number]);
        if let Some(cn) = cn {
            e.set("cn", [cn]);
        }
        e
    }

    fn dns(v: &[Entry]) -> Vec<Arc<Dn>> {
        v.iter().map(|e| Arc::new(e.dn.clone())).collect()
    }

    #[test]
    fn entry_uuids_are_numbers() {
        let key = super::uuid_key("6BA7B810-9dad-11d1-80b4-00c04fd430c8");
        assert_eq!(key, Some(0x6ba7_b810_9dad_11d1_80b4_00c0_4fd4_30c8));
        assert_eq!(key, super::uuid_key("6ba7b8109dad11d180b400c04fd430c8"));
        for bad in ["", "6ba7b810", "6ba7b810-9dad-11d1-80b4-00c04fd430cg", "0"] {
            assert_eq!(super::uuid_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_patched_list_is_the_list_a_scan_would_give() {
        let schema = Schema::builtin();
        let before: Vec<Entry> = [
            ("a", Some("Zoe"), "5"),
            ("b", Some("adam"), "12"),
            ("c", None, "7"),
            ("d", Some("adam"), "3"),
            ("e", Some("Mia"), "40"),
        ]
        .into_iter()
        .map(|(u, cn, n)| person(u, cn, n))
        .collect();
        // Deleted: b; modified: e (cn now "Bea"), a (now out of the matches); added: f
        // (ties with d), g (no cn: last ascending, first descending).
        let e2 = person("e", Some("Bea"), "40");
        let f = person("f", Some("ADAM"), "1");
        let g = person("g", None, "99");
        let after: Vec<Entry> = vec![
            before[2].clone(),
            before[3].clone(),
            e2.clone(),
            f.clone(),
            g.clone(),
        ];
        for keys in [
            vec![SortKey::asc("cn")],
            vec![SortKey::desc("cn"), SortKey::asc("uidNumber")],
            vec![SortKey::desc("uidNumber")],
        ] {
            let req = SearchRequest::new(
                Dn::parse("dc=example,dc=com").unwrap(),
                Scope::Subtree,
                Filter::present("uid"),
            )
            .sort(keys.clone());
            let order = Order::new(&schema, &req.sort);
            let mut scanned = before.clone();
            sort_entries(&schema, &mut scanned, &keys);
            let list = Sorted::scanned(&schema, &req, scanned);
            let gone: HashSet<Dn> = [&before[0], &before[1], &before[4], &f, &g]
                .into_iter()
                .map(|e| e.dn.clone())
                .collect();
            let new = [&e2, &f, &g]
                .into_iter()
                .map(|e| (e.dn.clone(), order.values(e), None))
                .collect();
            let patched = list.patched(&order, &gone, new, BTreeSet::new());
            let mut expect = after.clone();
            sort_entries(&schema, &mut expect, &keys);
            assert_eq!(*patched.dns, dns(&expect), "{keys:?}");
            // Its keys and hashes follow: patched again, it is still right.
            assert!(patched.lists(&f.dn) && !patched.lists(&before[0].dn));
            let again = patched.patched(
                &order,
                &HashSet::from([f.dn.clone()]),
                vec![(before[0].dn.clone(), order.values(&before[0]), None)],
                BTreeSet::new(),
            );
            let mut expect2: Vec<Entry> = expect.into_iter().filter(|e| e.dn != f.dn).collect();
            expect2.push(before[0].clone());
            sort_entries(&schema, &mut expect2, &keys);
            assert_eq!(*again.dns, dns(&expect2), "{keys:?}");
        }
    }
}
