//! The embedded directory's storage: entries, the DN order and the equality indexes in one
//! data file (`data.redb`, a copy-on-write B-tree database), read through the kernel's page
//! cache rather than held in the process's memory.
//!
//! # Tables
//!
//! - `entries`: id (`u64`, never reused) → the entry, encoded as in `log.rs` (`dn nattrs
//!   (name nvalues value*)*`).
//! - `dns`: the DN's *order key* → id. The order key is every RDN's normalised form from the
//!   root down, each followed by a zero byte (bytes 0 and 1 inside an RDN are escaped as
//!   `1 1` and `1 2`): a DN's key is a prefix of its descendants' keys, so parents sort
//!   before their children and a subtree is one contiguous range.
//! - `index` (a multimap): attribute (canonical, lower-case) `0` normalised value (under the
//!   attribute's equality rule) → the ids holding it, so `(uid=jdoe)` does not scan. A
//!   key's id count is stored with it: sizing a candidate set costs nothing.
//! - `meta`: the next id.
//!
//! Each write is one transaction, durable (fsynced) when it commits; readers see a
//! consistent snapshot of the last commit, whatever is being written meanwhile.

use std::collections::{HashMap, HashSet};
use std::ops::{Bound, Deref};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use redb::{
    MultimapTable, MultimapTableDefinition, MultimapValue, ReadOnlyMultimapTable, ReadOnlyTable,
    ReadableDatabase, ReadableMultimapTable, ReadableTable, Table, TableDefinition,
    WriteTransaction,
};

use super::log::{decode_entry_record, encode_entry};
use super::rules::Rules;
use crate::directory::{Change, Entry};
use crate::dn::Dn;
use crate::error::{Error, ErrorCode, Result};

/// Internal id of an entry.
pub(super) type Id = u64;

const ENTRIES: TableDefinition<Id, &[u8]> = TableDefinition::new("entries");
const DNS: TableDefinition<&[u8], Id> = TableDefinition::new("dns");
const INDEX: MultimapTableDefinition<&[u8], Id> = MultimapTableDefinition::new("index");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT_ID: &str = "next_id";

/// The data file's name in the data folder.
pub(super) const DATA_FILE: &str = "data.redb";

/// Memory the database may use to cache pages of the data file (the rest of the file is
/// read through the kernel's page cache, which is not the process's memory).
const CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Encoded bytes of the decoded entries a [`Snapshot`] keeps (a group with thousands of
/// members costs far more to decode than to look up).
const DECODED_BYTES: usize = 16 * 1024 * 1024;

/// Entries smaller than this (encoded) are not kept decoded: a person decodes in a few
/// microseconds, and random reads of people would push out the groups that are read again
/// and again (every read of a user looks up its groups).
const DECODED_MIN: usize = 2048;

/// Attributes with an equality index (lower-case canonical names, sorted).
pub(super) const INDEXED: &[&str] = &[
    "cn",
    "dhcphwaddress",
    "entryuuid",
    "gidnumber",
    "heraclesassignmentid",
    "heracleseventid",
    "heraclespolicyname",
    "heraclesrefreshtokenhash",
    "heraclesrequestid",
    "heraclessessionid",
    "heraclessettingkey",
    "heraclessubjectdn",
    "heraclestemplatename",
    "iphostnumber",
    "machwaddress",
    "mail",
    "member",
    "memberuid",
    "objectclass",
    "ou",
    "relativedomainname",
    "sshpublickey",
    "sudohost",
    "sudouser",
    "uid",
    "uidnumber",
    "uniquemember",
    "zonename",
];

/// The index name of an attribute as stored (entries carry the schema's names, see
/// `ops::add`), if it is indexed.
fn indexed_name(attr: &str) -> Option<&'static str> {
    let mut buf = [0u8; 32];
    let bytes = attr.as_bytes();
    let lower = buf.get_mut(..bytes.len())?;
    for (d, s) in lower.iter_mut().zip(bytes) {
        *d = s.to_ascii_lowercase();
    }
    let key = std::str::from_utf8(lower).ok()?;
    INDEXED
        .binary_search(&key)
        .ok()
        .and_then(|i| INDEXED.get(i).copied())
}

/// Whether `attr` (canonical, lower-case) has an equality index.
pub(super) fn is_indexed(attr: &str) -> bool {
    INDEXED.binary_search(&attr).is_ok()
}

/// A storage failure as the directory reports it.
pub(super) fn db_error(e: impl Into<redb::Error>) -> Error {
    let e: redb::Error = e.into();
    Error::new(
        ErrorCode::Internal,
        format!("the embedded directory's data file failed: {e}"),
    )
}

/// The order key of `dn` (see the module docs).
pub(super) fn order_key(dn: &Dn) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for rdn in dn.rdns().iter().rev() {
        for b in rdn.normalized().bytes() {
            match b {
                0 => out.extend_from_slice(&[1, 1]),
                1 => out.extend_from_slice(&[1, 2]),
                b => out.push(b),
            }
        }
        out.push(0);
    }
    out
}

/// The number of RDNs of the DN whose order key this is.
pub(super) fn key_depth(key: &[u8]) -> usize {
    key.split(|&b| b == 0).count().saturating_sub(1)
}

/// The exclusive end of the keys that extend `key`, a key ending in a zero byte (an order
/// key: the DN's subtree; an index key with no value: the attribute's keys).
fn prefix_end(key: &[u8]) -> Vec<u8> {
    let mut end = key.to_vec();
    match end.last_mut() {
        Some(last) => *last = 1,
        None => end.push(0xff),
    }
    end
}

/// The index key of a normalised value of `attr`.
fn index_key(attr: &str, value: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(attr.len() + 1 + value.len());
    k.extend_from_slice(attr.as_bytes());
    k.push(0);
    k.extend_from_slice(value);
    k
}

fn decode(bytes: &[u8], id: Id) -> Result<Entry> {
    decode_entry_record(bytes).ok_or_else(|| {
        Error::new(
            ErrorCode::Internal,
            format!("the embedded directory's data file holds an undecodable entry (id {id})"),
        )
    })
}

/// Candidate ids: the ids an index holds for one key (sized without reading them), or a
/// list computed for one search (a union, a scan of index keys).
pub(super) enum Ids<'s> {
    Posting(Box<MultimapValue<'s, Id>>),
    List(Vec<Id>),
}

impl std::fmt::Debug for Ids<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ids::Posting(p) => write!(f, "Posting({} ids)", p.len()),
            Ids::List(v) => write!(f, "List({v:?})"),
        }
    }
}

impl<'s> Ids<'s> {
    /// No ids.
    pub(super) fn none() -> Self {
        Ids::List(Vec::new())
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Ids::Posting(p) => usize::try_from(p.len()).unwrap_or(usize::MAX),
            Ids::List(v) => v.len(),
        }
    }

    /// The ids, in increasing order.
    pub(super) fn into_iter(self) -> Box<dyn Iterator<Item = Result<Id>> + 's> {
        match self {
            Ids::Posting(p) => Box::new(p.map(|r| r.map(|g| g.value()).map_err(db_error))),
            Ids::List(v) => Box::new(v.into_iter().map(Ok)),
        }
    }

    /// The ids, in increasing order, in a list.
    pub(super) fn collect(self) -> Result<Vec<Id>> {
        self.into_iter().collect()
    }
}

/// The tables of one transaction: a read snapshot ([`ReadTables`]) or a write in progress
/// ([`WriteTables`]).
pub(super) struct Tables<D, E, I> {
    dns: D,
    entries: E,
    index: I,
}

impl<D, E, I> std::fmt::Debug for Tables<D, E, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tables")
    }
}

/// The tables as of one committed state.
pub(super) type ReadTables = Tables<
    ReadOnlyTable<&'static [u8], Id>,
    ReadOnlyTable<Id, &'static [u8]>,
    ReadOnlyMultimapTable<&'static [u8], Id>,
>;

/// The tables inside a write transaction (reads see its own writes).
pub(super) type WriteTables<'t> = Tables<
    Table<'t, &'static [u8], Id>,
    Table<'t, Id, &'static [u8]>,
    MultimapTable<'t, &'static [u8], Id>,
>;

/// What the directory's checks read (the same over a snapshot and inside a write).
pub(super) trait View {
    /// The entry at `dn`.
    fn get(&self, dn: &Dn) -> Result<Option<Arc<Entry>>>;
    /// Whether an entry exists at `dn`.
    fn contains(&self, dn: &Dn) -> Result<bool>;
    /// Whether `dn` has at least one child.
    fn has_children(&self, dn: &Dn) -> Result<bool>;
    /// The entries of `base`'s subtree (itself first), in DN order.
    fn subtree_entries(&self, base: &Dn) -> Result<Vec<Arc<Entry>>>;
}

impl<D, E, I> Tables<D, E, I>
where
    D: ReadableTable<&'static [u8], Id>,
    E: ReadableTable<Id, &'static [u8]>,
    I: ReadableMultimapTable<&'static [u8], Id>,
{
    /// Number of entries.
    pub(super) fn len(&self) -> Result<usize> {
        let n = redb::ReadableTableMetadata::len(&self.dns).map_err(db_error)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// The first entry in DN order (the highest one).
    pub(super) fn first(&self) -> Result<Option<Arc<Entry>>> {
        match self.dns.first().map_err(db_error)? {
            Some((_, id)) => self.by_id(id.value()),
            None => Ok(None),
        }
    }

    pub(super) fn id_of(&self, dn: &Dn) -> Result<Option<Id>> {
        let key = order_key(dn);
        Ok(self
            .dns
            .get(key.as_slice())
            .map_err(db_error)?
            .map(|g| g.value()))
    }

    pub(super) fn by_id(&self, id: Id) -> Result<Option<Arc<Entry>>> {
        match self.entries.get(id).map_err(db_error)? {
            Some(bytes) => Ok(Some(Arc::new(decode(bytes.value(), id)?))),
            None => Ok(None),
        }
    }

    /// The ids of `base`'s subtree (itself first) in DN order, with each one's depth (its
    /// DN's number of RDNs); stops when `each` returns `false`.
    pub(super) fn for_subtree(
        &self,
        base: &Dn,
        mut each: impl FnMut(usize, Id) -> Result<bool>,
    ) -> Result<()> {
        let start = order_key(base);
        let end = prefix_end(&start);
        let range = self
            .dns
            .range::<&[u8]>((
                Bound::Included(start.as_slice()),
                Bound::Excluded(end.as_slice()),
            ))
            .map_err(db_error)?;
        for item in range {
            let (key, id) = item.map_err(db_error)?;
            if !each(key_depth(key.value()), id.value())? {
                break;
            }
        }
        Ok(())
    }

    /// Ids whose `attr` holds a value with normalised form `key`, if `attr` is indexed (an
    /// indexed attribute no entry holds yet answers nothing, not a scan).
    pub(super) fn lookup(&self, attr: &str, key: &[u8]) -> Result<Option<Ids<'_>>> {
        if !is_indexed(attr) {
            return Ok(None);
        }
        let k = index_key(attr, key);
        let posting = self.index.get(k.as_slice()).map_err(db_error)?;
        Ok(Some(Ids::Posting(Box::new(posting))))
    }

    /// Whether entry `id` holds a value of the indexed `attr` with normalised form `key`.
    pub(super) fn holds(&self, attr: &str, key: &[u8], id: Id) -> Result<bool> {
        let k = index_key(attr, key);
        for held in self.index.get(k.as_slice()).map_err(db_error)? {
            let held = held.map_err(db_error)?.value();
            if held >= id {
                return Ok(held == id);
            }
        }
        Ok(false)
    }

    /// Ids whose `attr` holds a value whose normalised form satisfies `pred`, by scanning
    /// the index's keys instead of the entries; `None` if `attr` is not indexed.
    pub(super) fn scan_keys(
        &self,
        attr: &str,
        pred: impl Fn(&[u8]) -> bool,
    ) -> Result<Option<Ids<'_>>> {
        if !is_indexed(attr) {
            return Ok(None);
        }
        let start = index_key(attr, b"");
        let end = prefix_end(&start);
        let mut ids: Vec<Id> = Vec::new();
        let range = self
            .index
            .range::<&[u8]>((
                Bound::Included(start.as_slice()),
                Bound::Excluded(end.as_slice()),
            ))
            .map_err(db_error)?;
        for item in range {
            let (key, values) = item.map_err(db_error)?;
            let value = key.value().get(start.len()..).unwrap_or_default();
            if pred(value) {
                for id in values {
                    ids.push(id.map_err(db_error)?.value());
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(Some(Ids::List(ids)))
    }

    /// Every entry in DN order (parents before children), to `each` until it fails.
    pub(super) fn for_each(&self, mut each: impl FnMut(&Entry) -> Result<()>) -> Result<()> {
        for item in self.dns.iter().map_err(db_error)? {
            let (_, id) = item.map_err(db_error)?;
            if let Some(e) = self.by_id(id.value())? {
                each(&e)?;
            }
        }
        Ok(())
    }
}

impl<D, E, I> View for Tables<D, E, I>
where
    D: ReadableTable<&'static [u8], Id>,
    E: ReadableTable<Id, &'static [u8]>,
    I: ReadableMultimapTable<&'static [u8], Id>,
{
    fn get(&self, dn: &Dn) -> Result<Option<Arc<Entry>>> {
        match self.id_of(dn)? {
            Some(id) => self.by_id(id),
            None => Ok(None),
        }
    }

    fn contains(&self, dn: &Dn) -> Result<bool> {
        Ok(self.id_of(dn)?.is_some())
    }

    fn has_children(&self, dn: &Dn) -> Result<bool> {
        let key = order_key(dn);
        let end = prefix_end(&key);
        let mut range = self
            .dns
            .range::<&[u8]>((
                Bound::Excluded(key.as_slice()),
                Bound::Excluded(end.as_slice()),
            ))
            .map_err(db_error)?;
        Ok(range.next().transpose().map_err(db_error)?.is_some())
    }

    fn subtree_entries(&self, base: &Dn) -> Result<Vec<Arc<Entry>>> {
        let mut out = Vec::new();
        self.for_subtree(base, |_, id| {
            if let Some(e) = self.by_id(id)? {
                out.push(e);
            }
            Ok(true)
        })?;
        Ok(out)
    }
}

impl WriteTables<'_> {
    /// The index keys of `entry`'s values.
    fn index_keys(rules: &Rules, entry: &Entry) -> HashSet<Vec<u8>> {
        let mut keys = HashSet::new();
        for attr in entry.attrs.iter() {
            // Stored entries carry the schema's names (see ops::add), so no alias lookup.
            let Some(name) = indexed_name(attr.name()) else {
                continue;
            };
            for v in attr.values() {
                keys.insert(index_key(name, &rules.eq_key(attr.name(), v)));
            }
        }
        keys
    }

    /// Moves `id` in the index from the keys of `old` to those of `new`, touching only the
    /// keys that differ (a member added to a group of thousands is one insert, not a
    /// rewrite of every member's key).
    fn reindex(
        &mut self,
        rules: &Rules,
        id: Id,
        old: Option<&Entry>,
        new: Option<&Entry>,
    ) -> Result<()> {
        let old = old.map(|e| Self::index_keys(rules, e)).unwrap_or_default();
        let new = new.map(|e| Self::index_keys(rules, e)).unwrap_or_default();
        for key in old.difference(&new) {
            self.index.remove(key.as_slice(), id).map_err(db_error)?;
        }
        for key in new.difference(&old) {
            self.index.insert(key.as_slice(), id).map_err(db_error)?;
        }
        Ok(())
    }

    fn next_id(meta: &mut Table<'_, &'static str, u64>) -> Result<Id> {
        let id = meta
            .get(NEXT_ID)
            .map_err(db_error)?
            .map_or(0, |g| g.value());
        meta.insert(NEXT_ID, id + 1).map_err(db_error)?;
        Ok(id)
    }

    /// Creates or replaces the entry at its DN; returns the change, for the change log,
    /// and the entry's id.
    pub(super) fn put(
        &mut self,
        rules: &Rules,
        meta: &mut Table<'_, &'static str, u64>,
        entry: &Entry,
    ) -> Result<(Change, Id)> {
        let key = order_key(&entry.dn);
        let mut bytes = Vec::with_capacity(512);
        encode_entry(&mut bytes, entry);
        let existing = self
            .dns
            .get(key.as_slice())
            .map_err(db_error)?
            .map(|g| g.value());
        let (id, old) = if let Some(id) = existing {
            (id, self.by_id(id)?)
        } else {
            let id = Self::next_id(meta)?;
            self.dns.insert(key.as_slice(), id).map_err(db_error)?;
            (id, None)
        };
        let change = match &old {
            Some(old) => Change::Written {
                dn: entry.dn.clone(),
                classes: None,
                attributes: changed_attributes(old, entry),
            },
            None => Change::added(entry),
        };
        self.entries
            .insert(id, bytes.as_slice())
            .map_err(db_error)?;
        self.reindex(rules, id, old.as_deref(), Some(entry))?;
        Ok((change, id))
    }

    /// Removes the entry at `dn` (if any); returns the change, for the change log, and the
    /// id the entry had.
    pub(super) fn remove(&mut self, rules: &Rules, dn: &Dn) -> Result<(Change, Option<Id>)> {
        let key = order_key(dn);
        let id = self
            .dns
            .remove(key.as_slice())
            .map_err(db_error)?
            .map(|g| g.value());
        if let Some(id) = id {
            if let Some(old) = self.by_id(id)? {
                self.reindex(rules, id, Some(&old), None)?;
            }
            self.entries.remove(id).map_err(db_error)?;
        }
        // No cascade: whatever else a delete changes is put in the same batch.
        let change = Change::Deleted {
            dn: dn.clone(),
            cascade: false,
        };
        Ok((change, id))
    }
}

/// The attributes whose values differ between two versions of an entry.
fn changed_attributes(old: &Entry, new: &Entry) -> Vec<String> {
    let mut out: Vec<String> = new
        .attrs
        .iter()
        .filter(|a| old.attrs.get(a.name()) != Some(a.values()))
        .map(|a| a.name().to_owned())
        .collect();
    out.extend(
        old.attrs
            .iter()
            .filter(|a| !new.attrs.contains(a.name()))
            .map(|a| a.name().to_owned()),
    );
    out
}

/// Entries a snapshot decoded, by id: each with its encoded size and whether it was read
/// again since the cache was last full.
#[derive(Debug, Default, Clone)]
struct Decoded {
    entries: HashMap<Id, Kept>,
    bytes: usize,
}

#[derive(Debug, Clone)]
struct Kept {
    entry: Arc<Entry>,
    size: usize,
    used: bool,
}

impl Decoded {
    fn get(&mut self, id: Id) -> Option<Arc<Entry>> {
        let kept = self.entries.get_mut(&id)?;
        kept.used = true;
        Some(Arc::clone(&kept.entry))
    }

    /// Keeps `entry` (`size` bytes encoded) within `budget`: when full, the entries not
    /// read again since it was last full go first (a group read with every user's read
    /// stays; the ones read once go), then, if that is not enough, all. Returns what it
    /// dropped, to be freed once the lock is released.
    fn insert(&mut self, id: Id, entry: Arc<Entry>, size: usize, budget: usize) -> Vec<Kept> {
        let mut evicted = Vec::new();
        if self.bytes + size > budget {
            evicted.extend(
                self.entries
                    .extract_if(|_, k| !std::mem::take(&mut k.used))
                    .map(|(_, k)| k),
            );
            self.bytes = self.entries.values().map(|k| k.size).sum();
            if self.bytes + size > budget {
                evicted.extend(self.entries.drain().map(|(_, k)| k));
                self.bytes = 0;
            }
        }
        self.bytes += size;
        let kept = Kept {
            entry,
            size,
            used: false,
        };
        if let Some(old) = self.entries.insert(id, kept) {
            self.bytes = self.bytes.saturating_sub(old.size);
            evicted.push(old);
        }
        evicted
    }

    /// Forgets the entry `id` (a commit changed it).
    fn forget(&mut self, id: Id) {
        if let Some(k) = self.entries.remove(&id) {
            self.bytes = self.bytes.saturating_sub(k.size);
        }
    }
}

/// The tables as of one commit, shared by the reads until the next, with the entries
/// decoded from them so far (at most [`DECODED_BYTES`] of them, encoded).
pub(super) struct Snapshot {
    tables: ReadTables,
    decoded: Mutex<Decoded>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Snapshot")
    }
}

impl Deref for Snapshot {
    type Target = ReadTables;

    fn deref(&self) -> &ReadTables {
        &self.tables
    }
}

impl Snapshot {
    /// The snapshot after a commit: it keeps what `previous` decoded, except the entries
    /// the commit `touched`.
    pub(super) fn after(tables: ReadTables, previous: Option<&Snapshot>, touched: &[Id]) -> Self {
        let mut decoded = previous.map_or_else(Decoded::default, |p| {
            p.decoded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        });
        for id in touched {
            decoded.forget(*id);
        }
        Snapshot {
            tables,
            decoded: Mutex::new(decoded),
        }
    }

    /// The tables.
    pub(super) fn tables(&self) -> &ReadTables {
        &self.tables
    }

    /// The entry with id `id`; a big one is decoded once per snapshot while there is room.
    pub(super) fn entry(&self, id: Id) -> Result<Option<Arc<Entry>>> {
        let lock = || self.decoded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = lock().get(id) {
            return Ok(Some(e));
        }
        let Some(bytes) = self.tables.entries.get(id).map_err(db_error)? else {
            return Ok(None);
        };
        let size = bytes.value().len();
        let e = Arc::new(decode(bytes.value(), id)?);
        if !(DECODED_MIN..=DECODED_BYTES).contains(&size) {
            return Ok(Some(e));
        }
        let evicted = lock().insert(id, Arc::clone(&e), size, DECODED_BYTES);
        // Freed here, after the lock is released, so that other reads do not wait for it.
        drop(evicted);
        Ok(Some(e))
    }

    /// The entry at `dn`.
    pub(super) fn entry_at(&self, dn: &Dn) -> Result<Option<Arc<Entry>>> {
        match self.tables.id_of(dn)? {
            Some(id) => self.entry(id),
            None => Ok(None),
        }
    }
}

/// The open data file.
#[derive(Debug)]
pub(super) struct Store {
    db: redb::Database,
}

/// A write in progress: its tables and the transaction they belong to.
pub(super) struct Write {
    txn: WriteTransaction,
}

impl Store {
    /// Opens (creating if needed) the data file in `folder`.
    pub(super) fn open(folder: &Path) -> Result<Store> {
        let path = folder.join(DATA_FILE);
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => Error::new(
                    ErrorCode::InvalidConfig,
                    format!(
                        "the data folder '{}' is in use by another process",
                        folder.display()
                    ),
                )
                .with_detail("path", folder.display().to_string()),
                e => Error::new(
                    ErrorCode::Internal,
                    format!("cannot open the data file '{}': {e}", path.display()),
                )
                .with_detail("path", path.display().to_string()),
            })?;
        let store = Store { db };
        // Create the tables, so that read transactions find them.
        let w = store.begin()?;
        w.with_tables(|_, _| Ok(()))?;
        w.commit()?;
        Ok(store)
    }

    /// The tables as of the last commit.
    pub(super) fn read(&self) -> Result<ReadTables> {
        let txn = self.db.begin_read().map_err(db_error)?;
        Ok(Tables {
            dns: txn.open_table(DNS).map_err(db_error)?,
            entries: txn.open_table(ENTRIES).map_err(db_error)?,
            index: txn.open_multimap_table(INDEX).map_err(db_error)?,
        })
    }

    /// Starts a write (writes are serialised: this waits for the one in progress).
    pub(super) fn begin(&self) -> Result<Write> {
        let txn = self.db.begin_write().map_err(db_error)?;
        Ok(Write { txn })
    }

    /// Gives back the data file's unused space (fails while reads are in progress).
    pub(super) fn compact(&mut self) -> Result<()> {
        self.db.compact().map(|_| ()).map_err(db_error)
    }
}

impl Write {
    /// Runs `f` over the write's tables (and the metadata table, for new ids).
    pub(super) fn with_tables<T>(
        &self,
        f: impl FnOnce(&mut WriteTables<'_>, &mut Table<'_, &'static str, u64>) -> Result<T>,
    ) -> Result<T> {
        let mut tables = Tables {
            dns: self.txn.open_table(DNS).map_err(db_error)?,
            entries: self.txn.open_table(ENTRIES).map_err(db_error)?,
            index: self.txn.open_multimap_table(INDEX).map_err(db_error)?,
        };
        let mut meta = self.txn.open_table(META).map_err(db_error)?;
        f(&mut tables, &mut meta)
    }

    /// Abandons the write.
    pub(super) fn abort(self) -> Result<()> {
        self.txn.abort().map_err(db_error)
    }

    /// Makes the write durable and visible to new reads.
    pub(super) fn commit(self) -> Result<()> {
        self.txn.commit().map_err(db_error)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{key_depth, order_key, Store, View};
    use crate::directory::embedded::rules::Rules;
    use crate::directory::Entry;
    use crate::dn::Dn;
    use crate::schema::Schema;

    fn person(uid: &str, mail: &str) -> Entry {
        Entry::new(Dn::parse(&format!("uid={uid},dc=example,dc=com")).unwrap())
            .with("objectClass", ["inetOrgPerson"])
            .with("uid", [uid])
            .with("cn", [uid])
            .with("sn", [uid])
            .with("mail", [mail])
    }

    #[test]
    fn order_keys_put_parents_first_and_subtrees_together() {
        let k = |s: &str| order_key(&Dn::parse(s).unwrap());
        let base = k("dc=example,dc=com");
        let child = k("ou=a,dc=example,dc=com");
        let grandchild = k("cn=x,ou=a,dc=example,dc=com");
        let sibling = k("ou=ab,dc=example,dc=com");
        assert!(child.starts_with(&base) && grandchild.starts_with(&child));
        assert!(base < child && child < grandchild && grandchild < sibling);
        assert!(!sibling.starts_with(&child));
        assert_eq!(key_depth(&grandchild), 4);
        // Normalised: case and spacing do not change the key.
        assert_eq!(k("OU=A, DC=Example,dc=COM"), child);
    }

    #[test]
    fn postings_follow_puts_replacements_and_removals() {
        let folder = tempfile::tempdir().unwrap();
        let store = Store::open(folder.path()).unwrap();
        let rules = Rules::new(Arc::new(Schema::builtin()));
        let ids = |key: &[u8]| -> Vec<u64> {
            let st = store.read().unwrap();
            st.lookup("mail", key).unwrap().unwrap().collect().unwrap()
        };
        let write =
            |f: &dyn Fn(&mut super::WriteTables<'_>, &mut redb::Table<'_, &'static str, u64>)| {
                let w = store.begin().unwrap();
                w.with_tables(|t, m| {
                    f(t, m);
                    Ok(())
                })
                .unwrap();
                w.commit().unwrap();
            };
        write(&|t, m| {
            t.put(&rules, m, &person("a", "shared@example.com"))
                .unwrap();
        });
        assert_eq!(ids(b"shared@example.com"), [0]);
        // Same normalised key (caseIgnoreIA5Match): one key, two ids.
        write(&|t, m| {
            t.put(&rules, m, &person("b", "SHARED@example.com"))
                .unwrap();
        });
        assert_eq!(ids(b"shared@example.com"), [0, 1]);
        assert!(store
            .read()
            .unwrap()
            .holds("mail", b"shared@example.com", 1)
            .unwrap());
        // Replacing an entry moves its id from the old key to the new one.
        write(&|t, m| {
            t.put(&rules, m, &person("a", "other@example.com")).unwrap();
        });
        assert_eq!(ids(b"shared@example.com"), [1]);
        assert_eq!(ids(b"other@example.com"), [0]);
        assert!(!store
            .read()
            .unwrap()
            .holds("mail", b"shared@example.com", 0)
            .unwrap());
        let b = Dn::parse("uid=b,dc=example,dc=com").unwrap();
        write(&|t, _| {
            t.remove(&rules, &b).unwrap();
        });
        assert!(ids(b"shared@example.com").is_empty());
        let st = store.read().unwrap();
        assert_eq!(st.len().unwrap(), 1);
        let a = Dn::parse("uid=a,dc=example,dc=com").unwrap();
        assert_eq!(st.id_of(&a).unwrap(), Some(0));
        assert_eq!(
            st.get(&a)
                .unwrap()
                .and_then(|e| e.first_str("mail").map(str::to_owned)),
            Some("other@example.com".to_owned())
        );
        assert!(!st.has_children(&a).unwrap());
    }

    #[test]
    fn an_index_no_entry_uses_yet_answers_nothing_rather_than_a_scan() {
        let folder = tempfile::tempdir().unwrap();
        let store = Store::open(folder.path()).unwrap();
        let st = store.read().unwrap();
        // Indexed, but no value yet: an empty candidate list (a scan would be O(entries)).
        assert_eq!(
            st.lookup("member", b"uid=x,dc=example,dc=com")
                .unwrap()
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            st.scan_keys("memberuid", |_| true).unwrap().unwrap().len(),
            0
        );
        // Not indexed: the caller must scan.
        assert!(st.lookup("description", b"x").unwrap().is_none());
        assert!(st.scan_keys("description", |_| true).unwrap().is_none());
    }

    #[test]
    fn decoded_entries_read_again_outlive_those_read_once() {
        let e = |uid: &str| Arc::new(person(uid, "x@example.com"));
        let mut d = super::Decoded::default();
        assert!(d.insert(1, e("a"), 40, 100).is_empty());
        assert!(d.insert(2, e("b"), 40, 100).is_empty());
        assert!(d.get(1).is_some());
        // Full: `b` was not read again, `a` was.
        let evicted = d.insert(3, e("c"), 40, 100);
        assert_eq!(evicted.len(), 1);
        assert!(d.get(2).is_none());
        assert!(d.get(1).is_some() && d.bytes == 80);
        // Full again: `a` was read since; `c` was not.
        d.insert(4, e("d"), 40, 100);
        assert!(d.get(1).is_some() && d.get(3).is_none() && d.get(4).is_some());
        // Nothing unread to drop and still full: all go.
        assert_eq!(d.insert(5, e("e"), 90, 100).len(), 2);
        assert_eq!((d.entries.len(), d.bytes), (1, 90));
        d.forget(5);
        assert_eq!((d.entries.len(), d.bytes), (0, 0));
    }
}
