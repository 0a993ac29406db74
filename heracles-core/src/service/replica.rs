//! A copy of every user in memory, kept exactly in step with the directory, so that
//! `GET /users/{uid}` is answered without a round trip however many users there are.
//!
//! The [cache of reads](super::reads) keeps what was read, and a read is cached only once
//! it has been made: with gets spread over 100 000 users, most of them miss. On an LDAP
//! server that keeps `memberOf` (slapd's memberof overlay), the first get of a user starts
//! one paged search, in the background, for every `inetOrgPerson` below the base with the
//! attributes a get reads and its `entryUUID`, and keeps them packed (about 0.8 KiB a user
//! with the indexes). Until it is done, gets go through the cache of reads.
//!
//! The copy stands at a [`Marker`] of the directory's change log. A get that finds the log
//! further on first brings the copy up to date: each change logged since says which
//! entries it may have changed, and only those are read again, in one fetch:
//! - a write through Heracles or an entry the server notified (any client's add, modify,
//!   delete or rename, the password policy's lock-outs) reads that entry again, when it
//!   is in the copy or may now be a user; a notified entry's `entryUUID` names the entry
//!   it was before a rename, whose old DN is read again too (found gone, even when the
//!   entry was deleted or moved on before the copy read it);
//! - a write through Heracles that failed or timed out ([`Change::Attempted`]) reads that
//!   entry again, and its members' side if it was a group;
//! - a change of a group's members (through Heracles, or notified) reads again the users
//!   whose `memberOf` it changes: the group's members now that do not list it, and the
//!   users that list it but are no longer members (slapd's memberof rewrites `memberOf`
//!   in the same operation, without a notification of its own);
//! - a delete reads again the users whose `memberOf` names the deleted entry;
//! - a rename through Heracles, a rename of a branch, a change of which too little is
//!   known, or changes the log no longer holds: the copy is made again from scratch (at
//!   most once every [`BUILDS_APART`]), and gets use the cache of reads meanwhile.
//!
//! Entries read again outside the base never enter the copy. A user whose entry holds
//! DN-valued attributes other than `memberOf` (`manager`, `seeAlso`, ...) is kept, but its
//! gets read the directory: slapd's refint rewrites those later, in the background, and
//! unnotified. So do a get whose uid matches several users (the directory reports the
//! clash), a user of a class the schema does not know, and — while any user has a uid
//! without a normal form — a get of a uid the copy does not hold. The lists' keep-up task
//! brings the copy up to date four times a second, so that a busy spell of writes does not
//! push what it needs out of the log. `memberOf` values computed at search time (slapd's
//! dynlist) are not followed.
//!
//! The copy is off until [`Heracles::set_user_replica`] says how many users it may hold at
//! most: a long-running server turns it on (`heracles-server`'s `user_replica`, default
//! [`DEFAULT_USER_REPLICA`]), a short script that reads a few users would only pay for
//! copying them all. With more users below the base it is not made, and gets use the
//! cache of reads alone (tried again after [`RETRY_TOO_MANY`]; after an error of the
//! directory, after [`RETRY_AFTER`]). The embedded directory, whose searches are in memory
//! already, keeps no `memberOf` and gets no copy:
//!
//! ```
//! use std::sync::Arc;
//! use heracles_core::directory::EmbeddedDirectory;
//! use heracles_core::dn::Dn;
//! use heracles_core::service::replica::{ReplicaStats, DEFAULT_USER_REPLICA};
//! use heracles_core::service::{Heracles, Principal};
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let folder = tempfile::tempdir().unwrap();
//! let base = Dn::parse("dc=example,dc=com")?;
//! let h = Heracles::new(Arc::new(EmbeddedDirectory::open(folder.path(), &base)?), base.clone());
//! h.set_user_replica(DEFAULT_USER_REPLICA); // as the server does
//! h.bootstrap(Some("An-admin-passw0rd")).await?;
//! let admin = Principal::system(&base);
//! let body = serde_json::json!({"uid": "jdoe", "cn": "Jane Doe", "sn": "Doe"});
//! h.users().create(&admin, body.as_object().unwrap()).await?;
//! assert_eq!(h.users().get(&admin, "jdoe").await?.uid, "jdoe");
//! assert_eq!(h.user_replica_stats(), ReplicaStats::default()); // nothing copied here
//! # Ok::<(), heracles_core::Error>(()) }).unwrap();
//! ```
//!
//! On slapd, `cargo run -p heracles-examples --example paging` (with `HERACLES_LDAP_URL` &
//! co.) shows the copy made, 100 gets answered from it, and one entry read again after a
//! change.
//!
//! [`Heracles::set_user_replica`]: super::Heracles::set_user_replica

use std::collections::hash_map::{Entry as Slot, RandomState};
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::pack::{put_len, take_len};
use super::version::CSN;
use super::Heracles;
use crate::directory::{
    is_dn_valued, is_membership, may_hold_members, Change, Entry, Marker, Scope, SearchRequest,
};
use crate::dn::Dn;
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;
use crate::schema::Schema;

/// How many users the server's copy holds at most by default (its `user_replica` setting):
/// about 160 MiB at 0.8 KiB a user.
pub const DEFAULT_USER_REPLICA: usize = 200_000;

/// The class every user has (the filter of a user's get).
const PERSON: &str = "inetOrgPerson";
/// Kept with each user to follow renames made by other clients.
const UUID: &str = "entryUUID";
const MEMBER_OF: &str = "memberOf";
/// The attributes a user's get reads (`Users::get`).
pub(crate) const GET_ATTRS: [&str; 4] = ["*", "pwdAccountLockedTime", CSN, MEMBER_OF];
/// How long after an attempt that failed (the directory's error) the copy is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(60);
/// How long after finding more users than it may hold the copy is tried again.
pub const RETRY_TOO_MANY: Duration = Duration::from_secs(600);
/// The least time between the starts of two builds: a directory whose changes keep
/// asking for the copy to be made again (renames, more changes than the log holds while
/// it is made) gets the cache of reads meanwhile, not one full search after another.
pub const BUILDS_APART: Duration = Duration::from_secs(30);

/// How an attempt to make the copy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Built {
    Made,
    /// No logged marker yet (the change watch is not live).
    Unlogged,
    /// More users than it may hold, or one it cannot follow (no entryUUID).
    TooMany,
}

/// What the copy of users has done so far ([`Heracles::user_replica_stats`]).
///
/// [`Heracles::user_replica_stats`]: super::Heracles::user_replica_stats
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplicaStats {
    /// Users in the copy now (0 while it is not made).
    pub users: usize,
    /// Gets it answered.
    pub answered: u64,
    /// Entries read again to keep it up to date.
    pub reread: u64,
    /// Times it was made from scratch.
    pub builds: u64,
}

/// The ids of the users under one hash.
#[derive(Debug)]
enum Ids {
    One(u32),
    Many(Vec<u32>),
}

/// Users by the hash of a key; each use checks the key itself, so a collision costs a
/// comparison, never a wrong answer.
#[derive(Debug, Default)]
struct Index(HashMap<u64, Ids>);

impl Index {
    fn add(&mut self, key: u64, id: u32) {
        match self.0.entry(key) {
            Slot::Vacant(v) => {
                v.insert(Ids::One(id));
            }
            Slot::Occupied(mut o) => match o.get_mut() {
                Ids::One(x) if *x == id => {}
                Ids::One(x) => {
                    let first = *x;
                    *o.get_mut() = Ids::Many(vec![first, id]);
                }
                // A record's keys are deduplicated and it is added once: no search of a
                // large group's bucket.
                Ids::Many(v) => v.push(id),
            },
        }
    }

    fn remove(&mut self, key: u64, id: u32) {
        let Slot::Occupied(mut o) = self.0.entry(key) else {
            return;
        };
        match o.get_mut() {
            Ids::One(x) if *x == id => {
                o.remove();
            }
            Ids::One(_) => {}
            Ids::Many(v) => {
                v.retain(|&i| i != id);
                match v.as_slice() {
                    [] => {
                        o.remove();
                    }
                    [one] => {
                        let one = *one;
                        *o.get_mut() = Ids::One(one);
                    }
                    _ => {}
                }
            }
        }
    }

    fn get(&self, key: u64) -> &[u32] {
        match self.0.get(&key) {
            None => &[],
            Some(Ids::One(x)) => std::slice::from_ref(x),
            Some(Ids::Many(v)) => v,
        }
    }
}

/// One user: its DN and its attributes packed in one buffer (for each attribute: the
/// index of its name, the count of values, each value with its length).
#[derive(Debug)]
struct Rec {
    dn: Box<str>,
    /// The DN's normal form.
    norm: Box<str>,
    /// It holds DN-valued attributes other than `memberOf`: its gets read the directory.
    ask: bool,
    attrs: Box<[u8]>,
}

/// Attributes unpacked: (name index, values).
type Unpacked<'a> = Vec<(u16, Vec<&'a [u8]>)>;

/// The attributes of a packed buffer.
fn unpack(mut rest: &[u8]) -> Option<Unpacked<'_>> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (name, tail) = rest.split_first_chunk::<2>()?;
        rest = tail;
        let count = take_len(&mut rest)?;
        let mut values = Vec::with_capacity(count.min(rest.len()));
        for _ in 0..count {
            let len = take_len(&mut rest)?;
            let (v, tail) = (rest.get(..len)?, rest.get(len..)?);
            values.push(v);
            rest = tail;
        }
        out.push((u16::from_le_bytes(*name), values));
    }
    Some(out)
}

/// Why an entry cannot be kept: the copy is then made again, or given up.
#[derive(Debug)]
struct Unkept;

/// The copy itself.
#[derive(Debug)]
struct Mirror {
    /// The directory's state the copy is exact at.
    marker: Marker,
    names: Vec<Box<str>>,
    name_ids: HashMap<Box<str>, u16>,
    recs: Vec<Option<Rec>>,
    free: Vec<u32>,
    live: usize,
    by_dn: Index,
    by_uid: Index,
    by_uuid: Index,
    /// Users by the groups their `memberOf` names.
    member_of: Index,
    /// Users with a uid value that has no normal form: a uid found nowhere in the index
    /// may still be theirs, so "no such user" is not answered from the copy.
    unindexed: usize,
    hasher: RandomState,
}

/// The keys a user is indexed under.
struct Keys {
    dn: u64,
    uids: Vec<u64>,
    uuids: Vec<u64>,
    groups: Vec<u64>,
    /// A uid value had no normal form.
    unindexed: bool,
}

/// The normal form of a DN given as text (`None` if it is not one).
fn norm_dn(value: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(value).ok()?;
    Dn::parse(s).ok().map(|d| d.normalized())
}

/// The normal form of a value under one attribute's equality (`None`: it has none).
type Norm<'a> = &'a dyn Fn(&[u8]) -> Option<Vec<u8>>;

/// A uid's normal form (`caseIgnoreMatch`, as the directory compares it).
fn norm_uid(schema: &Schema, value: &[u8]) -> Option<Vec<u8>> {
    schema.normalize_value("uid", value).ok()
}

/// An entryUUID's normal form: lower case.
const NORM_UUID: Norm<'static> = &|value| Some(value.to_ascii_lowercase());

/// A `memberOf` value's normal form: the group's normalised DN.
fn norm_group(value: &[u8]) -> Option<Vec<u8>> {
    norm_dn(value).map(String::into_bytes)
}

impl Mirror {
    fn new(marker: Marker) -> Mirror {
        Mirror {
            marker,
            names: Vec::new(),
            name_ids: HashMap::new(),
            recs: Vec::new(),
            free: Vec::new(),
            live: 0,
            by_dn: Index::default(),
            by_uid: Index::default(),
            by_uuid: Index::default(),
            member_of: Index::default(),
            unindexed: 0,
            hasher: RandomState::new(),
        }
    }

    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The copy holds the directory's state at `marker` or a later one.
    fn current_at(&self, marker: &Marker) -> bool {
        self.marker.epoch() == marker.epoch() && self.marker.seq() >= marker.seq()
    }

    fn name_id(&mut self, name: &str) -> Option<u16> {
        if let Some(&i) = self.name_ids.get(name) {
            return Some(i);
        }
        let i = u16::try_from(self.names.len()).ok()?;
        self.names.push(name.into());
        self.name_ids.insert(name.into(), i);
        Some(i)
    }

    fn rec(&self, id: u32) -> Option<&Rec> {
        self.recs.get(id as usize)?.as_ref()
    }

    /// The values of the attribute named `name` in any case.
    fn values_ci<'a>(&self, rec: &'a Rec, name: &str) -> Vec<&'a [u8]> {
        let wanted: Vec<u16> = self
            .name_ids
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, &i)| i)
            .collect();
        unpack(&rec.attrs)
            .unwrap_or_default()
            .into_iter()
            .filter(|(n, _)| wanted.contains(n))
            .flat_map(|(_, v)| v)
            .collect()
    }

    /// The normal forms of a user's values of `attr` under `norm`, and whether a value
    /// had none.
    fn normal_values(&self, rec: &Rec, attr: &str, norm: Norm<'_>) -> (Vec<Vec<u8>>, bool) {
        let mut missed = false;
        let values = self
            .values_ci(rec, attr)
            .into_iter()
            .filter_map(|v| {
                let n = norm(v);
                missed |= n.is_none();
                n
            })
            .collect();
        (values, missed)
    }

    /// The keys a user (at the DN of normal form `dn`) is indexed under: DN, uids,
    /// entryUUID, groups of `memberOf`; each list without repeats.
    fn keys(&self, rec: &Rec, dn: &str, schema: &Schema) -> Keys {
        let hashed = |attr: &str, norm: Norm<'_>| {
            let (values, missed) = self.normal_values(rec, attr, norm);
            let mut keys: Vec<u64> = values.iter().map(|v| self.hash(v)).collect();
            keys.sort_unstable();
            keys.dedup();
            (keys, missed)
        };
        let (uids, unindexed) = hashed("uid", &|v| norm_uid(schema, v));
        Keys {
            dn: self.hash(dn.as_bytes()),
            uids,
            uuids: hashed(UUID, NORM_UUID).0,
            groups: hashed(MEMBER_OF, &norm_group).0,
            unindexed,
        }
    }

    /// The users `index` holds under `key` whose `attr` has a value of that normal form
    /// under `norm` (the index's hashes checked against the values themselves).
    fn lookup(&self, index: &Index, attr: &str, key: &[u8], norm: Norm<'_>) -> Vec<u32> {
        index
            .get(self.hash(key))
            .iter()
            .copied()
            .filter(|&id| {
                self.rec(id).is_some_and(|r| {
                    self.normal_values(r, attr, norm)
                        .0
                        .iter()
                        .any(|v| v.as_slice() == key)
                })
            })
            .collect()
    }

    /// The users whose entryUUID is `uuid` (lower case).
    fn by_uuid(&self, uuid: &[u8]) -> Vec<u32> {
        self.lookup(&self.by_uuid, UUID, uuid, NORM_UUID)
    }

    /// Keeps `e` (in place of the entry at its DN, and of the one with its entryUUID: a
    /// rename by another client). `ask`: its gets read the directory whatever it holds
    /// (the schema cannot tell whether it is a user).
    fn insert(&mut self, e: &Entry, ask: bool, schema: &Schema) -> std::result::Result<(), Unkept> {
        let Some(uuid) = e.get(UUID).first() else {
            return Err(Unkept);
        };
        let uuid = uuid.to_ascii_lowercase();
        let dn = e.dn.normalized();
        if let Some(old) = self.find_dn(&dn) {
            self.remove(old, schema);
        }
        for id in self.by_uuid(&uuid) {
            self.remove(id, schema);
        }
        let mut buf = Vec::new();
        let mut ask = ask;
        for a in e.attrs.iter() {
            let name = a.name();
            if !name.eq_ignore_ascii_case(MEMBER_OF)
                && !a.values().is_empty()
                && is_dn_valued(name, schema)
            {
                ask = true;
            }
            let i = self.name_id(name).ok_or(Unkept)?;
            buf.extend_from_slice(&i.to_le_bytes());
            put_len(&mut buf, a.values().len());
            for v in a.values() {
                put_len(&mut buf, v.len());
                buf.extend_from_slice(v);
            }
        }
        let rec = Rec {
            dn: e.dn.to_string().into(),
            norm: dn.as_str().into(),
            ask,
            attrs: buf.into_boxed_slice(),
        };
        let keys = self.keys(&rec, &dn, schema);
        let id = if let Some(id) = self.free.pop() {
            id
        } else {
            let id = u32::try_from(self.recs.len()).map_err(|_| Unkept)?;
            self.recs.push(None);
            id
        };
        if let Some(slot) = self.recs.get_mut(id as usize) {
            *slot = Some(rec);
        }
        self.live += 1;
        self.index(&keys, id, true);
        Ok(())
    }

    /// Adds (or removes) a user's keys.
    fn index(&mut self, keys: &Keys, id: u32, add: bool) {
        let indexes = [
            (&mut self.by_dn, std::slice::from_ref(&keys.dn)),
            (&mut self.by_uid, keys.uids.as_slice()),
            (&mut self.by_uuid, keys.uuids.as_slice()),
            (&mut self.member_of, keys.groups.as_slice()),
        ];
        for (index, ks) in indexes {
            for &k in ks {
                if add {
                    index.add(k, id);
                } else {
                    index.remove(k, id);
                }
            }
        }
        if keys.unindexed {
            if add {
                self.unindexed += 1;
            } else {
                self.unindexed = self.unindexed.saturating_sub(1);
            }
        }
    }

    fn remove(&mut self, id: u32, schema: &Schema) {
        let Some(rec) = self.recs.get_mut(id as usize).and_then(Option::take) else {
            return;
        };
        let keys = self.keys(&rec, &rec.norm, schema);
        self.index(&keys, id, false);
        self.free.push(id);
        self.live -= 1;
    }

    /// The user at the DN of normal form `norm`.
    fn find_dn(&self, norm: &str) -> Option<u32> {
        self.by_dn
            .get(self.hash(norm.as_bytes()))
            .iter()
            .copied()
            .find(|&id| self.rec(id).is_some_and(|r| &*r.norm == norm))
    }

    /// The users whose `memberOf` names the group of normal form `group`.
    fn holders(&self, group: &str) -> Vec<u32> {
        self.lookup(&self.member_of, MEMBER_OF, group.as_bytes(), &norm_group)
    }

    /// The users whose uid has the normal form `uid`.
    fn by_uid(&self, uid: &[u8], schema: &Schema) -> Vec<u32> {
        self.lookup(&self.by_uid, "uid", uid, &|v| norm_uid(schema, v))
    }

    /// A user's entry as a get reads it (without the entryUUID kept for renames).
    fn entry(&self, id: u32) -> Option<Entry> {
        let rec = self.rec(id)?;
        let mut e = Entry::new(Dn::parse(&rec.dn).ok()?);
        for (name, values) in unpack(&rec.attrs)? {
            let name = self.names.get(usize::from(name))?;
            if name.eq_ignore_ascii_case(UUID) {
                continue;
            }
            e.attrs.push_values(
                name.to_string(),
                values.into_iter().map(<[u8]>::to_vec).collect(),
            );
        }
        Some(e)
    }

    fn dn_of(&self, id: u32) -> Option<Dn> {
        self.rec(id).and_then(|r| Dn::parse(&r.dn).ok())
    }

    /// What `changes` (logged since the copy's marker) need read again.
    fn plan(&self, changes: &[std::sync::Arc<Change>], schema: &Schema) -> Plan {
        let mut reread = Reread::default();
        for c in changes {
            match &**c {
                Change::Unknown => return Plan::Rebuild,
                Change::Entry {
                    dn,
                    classes,
                    leaf,
                    uuid,
                } => {
                    if !leaf {
                        return Plan::Rebuild;
                    }
                    if may_be_person(classes, schema) || self.find_dn(&dn.normalized()).is_some() {
                        reread.entry(dn);
                    }
                    // Renamed by another client: notified under its new DN only; the old
                    // one is read again too (and found gone), even if the entry is deleted
                    // or moved again before the copy reads it.
                    if let Some(uuid) = uuid {
                        for id in self.by_uuid(uuid.as_bytes()) {
                            if let Some(d) = self.dn_of(id) {
                                reread.entry(&d);
                            }
                        }
                    }
                    if may_hold_members(classes, schema) {
                        reread.group(dn);
                    }
                }
                // Maybe added, deleted or modified: whatever it is now, and whatever a
                // group's add or delete did to its members' `memberOf`.
                Change::Attempted { dn } => {
                    reread.entry(dn);
                    reread.group(dn);
                }
                Change::Written {
                    dn,
                    classes,
                    attributes,
                } => {
                    let may_be = match classes {
                        Some(c) => may_be_person(c, schema),
                        None => attributes
                            .iter()
                            .any(|a| a.eq_ignore_ascii_case("objectClass")),
                    };
                    if may_be || self.find_dn(&dn.normalized()).is_some() {
                        reread.entry(dn);
                    }
                    if attributes.iter().any(|a| is_membership(a, schema)) {
                        reread.group(dn);
                    }
                }
                Change::Deleted { dn, .. } => {
                    if self.find_dn(&dn.normalized()).is_some() {
                        reread.entry(dn);
                    }
                    for id in self.holders(&dn.normalized()) {
                        if let Some(d) = self.dn_of(id) {
                            reread.entry(&d);
                        }
                    }
                }
            }
        }
        Plan::Reread(reread)
    }
}

/// `classes` may make an entry a user (a class unknown to the schema may).
fn may_be_person(classes: &[String], schema: &Schema) -> bool {
    classes
        .iter()
        .any(|c| schema.object_class(c).is_none() || schema.is_subclass_of(c, PERSON))
}

/// Whether an entry read is a user: `None` when the schema cannot tell.
fn is_person(e: &Entry, schema: &Schema) -> Option<bool> {
    let classes = e.strs("objectClass");
    if classes.iter().any(|c| schema.object_class(c).is_none()) {
        return None;
    }
    Some(classes.iter().any(|c| schema.is_subclass_of(c, PERSON)))
}

/// Entries and groups to read again.
#[derive(Debug, Default)]
struct Reread {
    entries: Vec<Dn>,
    seen: HashSet<String>,
    groups: Vec<Dn>,
    groups_seen: HashSet<String>,
}

impl Reread {
    fn entry(&mut self, dn: &Dn) {
        if self.seen.insert(dn.normalized()) {
            self.entries.push(dn.clone());
        }
    }

    fn group(&mut self, dn: &Dn) {
        if self.groups_seen.insert(dn.normalized()) {
            self.groups.push(dn.clone());
        }
    }
}

#[derive(Debug)]
enum Plan {
    Rebuild,
    Reread(Reread),
}

/// The copy of users (one per [`Heracles`]).
#[derive(Debug)]
pub(crate) struct Replica {
    limit: AtomicUsize,
    mirror: RwLock<Option<Mirror>>,
    /// Held while the copy is brought up to date or put in place once made.
    turn: tokio::sync::Mutex<()>,
    building: AtomicBool,
    /// The copy is not made again before this.
    not_before: Mutex<Option<Instant>>,
    answered: AtomicU64,
    reread: AtomicU64,
    builds: AtomicU64,
}

impl Default for Replica {
    fn default() -> Self {
        Replica {
            limit: AtomicUsize::new(0),
            mirror: RwLock::new(None),
            turn: tokio::sync::Mutex::new(()),
            building: AtomicBool::new(false),
            not_before: Mutex::new(None),
            answered: AtomicU64::new(0),
            reread: AtomicU64::new(0),
            builds: AtomicU64::new(0),
        }
    }
}

impl Replica {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Option<Mirror>> {
        self.mirror.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Option<Mirror>> {
        self.mirror.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_limit(&self, users: usize) {
        self.limit.store(users, Ordering::Relaxed);
        let mut m = self.write();
        if m.as_ref().is_some_and(|m| m.live > users) {
            *m = None;
        }
    }

    pub(crate) fn stats(&self) -> ReplicaStats {
        ReplicaStats {
            users: self.read().as_ref().map_or(0, |m| m.live),
            answered: self.answered.load(Ordering::Relaxed),
            reread: self.reread.load(Ordering::Relaxed),
            builds: self.builds.load(Ordering::Relaxed),
        }
    }

    fn not_before(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.not_before
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts making the copy in the background, unless it is being made or may not be
    /// made yet (see [`BUILDS_APART`], [`RETRY_AFTER`], [`RETRY_TOO_MANY`]).
    fn start_build(&self, h: &Heracles) {
        if self.limit.load(Ordering::Relaxed) == 0 {
            return;
        }
        if self.not_before().is_some_and(|at| Instant::now() < at) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.building.swap(true, Ordering::AcqRel) {
            return;
        }
        let started = Instant::now();
        let h = h.clone();
        rt.spawn(async move {
            let r = h.replica();
            let next = match r.build(&h).await {
                Ok(Built::Made) => started + BUILDS_APART,
                Ok(Built::Unlogged) => Instant::now() + Duration::from_secs(1),
                Ok(Built::TooMany) => Instant::now() + RETRY_TOO_MANY,
                Err(_) => Instant::now() + RETRY_AFTER,
            };
            *r.not_before() = Some(next);
            r.building.store(false, Ordering::Release);
        });
    }

    /// Makes the copy (see [`Built`]).
    async fn build(&self, h: &Heracles) -> Result<Built> {
        *self.write() = None;
        let Some(marker) = logged_marker(h).await? else {
            return Ok(Built::Unlogged);
        };
        let limit = self.limit.load(Ordering::Relaxed);
        let schema = h.schema();
        let started = Instant::now();
        let mut mirror = Mirror::new(marker);
        let mut attrs: Vec<String> = GET_ATTRS.iter().map(|&a| a.to_owned()).collect();
        attrs.push(UUID.to_owned());
        let req = SearchRequest::new(
            h.base().clone(),
            Scope::Subtree,
            Filter::eq("objectClass", PERSON),
        )
        .attributes(attrs);
        let mut kept = true;
        let outcome = h
            .directory()
            .search_each(&req, &mut |e| {
                if mirror.live >= limit || mirror.insert(&e, false, schema).is_err() {
                    kept = false;
                    return Err(Error::new(
                        ErrorCode::SizeLimitExceeded,
                        "the copy of users cannot hold every user",
                    ));
                }
                Ok(())
            })
            .await;
        if !kept {
            tracing::info!(
                limit,
                "copy of users: not made (more users than user_replica, or one without entryUUID)"
            );
            return Ok(Built::TooMany);
        }
        if let Err(e) = outcome {
            tracing::warn!(code = %e.code(), error = %e.message(), "copy of users: not made");
            return Err(e);
        }
        // Grown by doubling while reading: give back the spare room.
        mirror.recs.shrink_to_fit();
        for index in [
            &mut mirror.by_dn,
            &mut mirror.by_uid,
            &mut mirror.by_uuid,
            &mut mirror.member_of,
        ] {
            index.0.shrink_to_fit();
        }
        self.builds.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            users = mirror.live,
            ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "copy of users: made"
        );
        let _turn = self.turn.lock().await;
        *self.write() = Some(mirror);
        super::lists::keep_up(h);
        Ok(Built::Made)
    }

    /// For a group whose members changed: its members now that do not list it in
    /// `memberOf`, and the users that list it but are no longer members, are to be read
    /// again. `Ok(false)` when the copy is gone meanwhile.
    async fn members_changed(&self, h: &Heracles, g: &Dn, reread: &mut Reread) -> Result<bool> {
        let now: HashSet<String> = match h.directory().get(g, &["member", "uniqueMember"]).await? {
            Some(e) => e
                .get("member")
                .iter()
                .chain(e.get("uniqueMember"))
                .filter_map(|v| norm_dn(v))
                .collect(),
            None => HashSet::new(),
        };
        let group = g.normalized();
        let holders: Vec<(String, Dn)> = {
            let guard = self.read();
            let Some(m) = guard.as_ref() else {
                return Ok(false);
            };
            m.holders(&group)
                .into_iter()
                .filter_map(|id| m.dn_of(id))
                .map(|d| (d.normalized(), d))
                .collect()
        };
        let held: HashSet<&str> = holders.iter().map(|(n, _)| n.as_str()).collect();
        for (n, d) in &holders {
            if !now.contains(n) {
                reread.entry(d);
            }
        }
        for n in &now {
            if !held.contains(n.as_str()) {
                if let Ok(d) = Dn::parse(n) {
                    reread.entry(&d);
                }
            }
        }
        Ok(true)
    }

    /// Brings the copy up to `to` (after any other task doing so): `Ok(false)` when it
    /// cannot be used now (not made, being made, to be made again).
    async fn catch_up(&self, h: &Heracles, to: &Marker) -> Result<bool> {
        let turn = self.turn.lock().await;
        let schema = h.schema();
        let mut to = to.clone();
        let epoch = self.read().as_ref().map(|m| m.marker.epoch().to_owned());
        if epoch.as_deref().is_some_and(|e| e != to.epoch()) {
            // A caller's marker of another epoch (the change watch restarted between its
            // read and now): the directory's current one says whether the copy is lost.
            match logged_marker(h).await? {
                Some(now) if Some(now.epoch()) == epoch.as_deref() => to = now,
                _ => {}
            }
        }
        let plan = {
            let guard = self.read();
            let Some(m) = guard.as_ref() else {
                return Ok(false);
            };
            if m.current_at(&to) {
                return Ok(true);
            }
            match to.changes_since(&m.marker) {
                Some(changes) => m.plan(&changes, schema),
                None => Plan::Rebuild,
            }
        };
        let mut reread = match plan {
            Plan::Rebuild => {
                *self.write() = None;
                drop(turn);
                self.start_build(h);
                return Ok(false);
            }
            Plan::Reread(r) => r,
        };
        for g in std::mem::take(&mut reread.groups) {
            if !self.members_changed(h, &g, &mut reread).await? {
                return Ok(false);
            }
        }
        let found = if reread.entries.is_empty() {
            Vec::new()
        } else {
            let mut attrs: Vec<String> = GET_ATTRS.iter().map(|&a| a.to_owned()).collect();
            attrs.push(UUID.to_owned());
            h.directory().fetch(&reread.entries, &attrs).await?
        };
        self.reread.fetch_add(found.len() as u64, Ordering::Relaxed);
        let limit = self.limit.load(Ordering::Relaxed);
        let mut guard = self.write();
        let Some(m) = guard.as_mut() else {
            return Ok(false);
        };
        for dn in &reread.entries {
            if let Some(id) = m.find_dn(&dn.normalized()) {
                m.remove(id, schema);
            }
        }
        for e in found
            .iter()
            .filter(|e| e.dn.is_descendant_or_self(h.base()))
        {
            // A class the schema does not know may make it a user or not: kept, but its
            // gets read the directory.
            let kept = match is_person(e, schema) {
                Some(true) => m.insert(e, false, schema).is_ok(),
                Some(false) => true,
                None => m.insert(e, true, schema).is_ok(),
            };
            if !kept || m.live > limit {
                *guard = None;
                drop(guard);
                drop(turn);
                self.start_build(h);
                return Ok(false);
            }
        }
        m.marker = to;
        Ok(true)
    }
}

/// The directory's marker below the base, if it is backed by a change log.
async fn logged_marker(h: &Heracles) -> Result<Option<Marker>> {
    Ok(h.directory()
        .change_marker(h.base())
        .await?
        .filter(Marker::is_logged))
}

/// The users whose uid is `uid`, as a user's get reads them (see [`GET_ATTRS`]), from the
/// copy — `None` when the copy cannot answer: it is off, not made yet (or being made
/// again), could not be brought up to date, or the uid is that of several users or of one
/// whose gets read the directory (see the [module docs](self)).
pub(crate) async fn users_by_uid(h: &Heracles, uid: &str) -> Option<Vec<Entry>> {
    let r = h.replica();
    if r.limit.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let key = h.schema().normalize_value("uid", uid.as_bytes()).ok()?;
    let marker = logged_marker(h).await.ok()??;
    for _ in 0..2 {
        {
            let guard = r.read();
            match guard.as_ref() {
                None => {
                    drop(guard);
                    r.start_build(h);
                    return None;
                }
                Some(m) if m.current_at(&marker) => {
                    let ids = m.by_uid(&key, h.schema());
                    let found = match ids.as_slice() {
                        [] if m.unindexed == 0 => Vec::new(),
                        [id] if m.rec(*id).is_some_and(|rec| !rec.ask) => vec![m.entry(*id)?],
                        _ => return None,
                    };
                    r.answered.fetch_add(1, Ordering::Relaxed);
                    return Some(found);
                }
                Some(_) => {}
            }
        }
        if !r.catch_up(h, &marker).await.unwrap_or(false) {
            return None;
        }
    }
    None
}

/// Brings the copy up to `marker` if it is made (the lists' keep-up task).
pub(crate) async fn keep_up(h: &Heracles, marker: &Marker) {
    let behind = h
        .replica()
        .read()
        .as_ref()
        .is_some_and(|m| !m.current_at(marker));
    if behind {
        let _ = h.replica().catch_up(h, marker).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: &str, uuid: &str, groups: &[&str]) -> Entry {
        Entry::new(Dn::parse(&format!("uid={uid},ou=people,dc=example,dc=com")).unwrap())
            .with(
                "objectClass",
                ["top", "person", "organizationalPerson", PERSON],
            )
            .with("uid", [uid])
            .with("cn", [format!("User {uid}")])
            .with("jpegPhoto", [vec![0u8, 255, 1, 0]])
            .with(UUID, [uuid])
            .with(MEMBER_OF, groups)
    }

    #[test]
    fn the_copy_finds_users_and_follows_renames() {
        let schema = Schema::builtin();
        let log = std::sync::Arc::new(crate::directory::ChangeLog::default());
        let mut m = Mirror::new(Marker::logged("t", &log));
        let devs = "cn=devs,ou=groups,dc=example,dc=com";
        let a = user("Alice", "0000-a", &[devs]);
        let b = user("bob", "0000-b", &[]);
        m.insert(&a, false, &schema).unwrap();
        m.insert(&b, false, &schema).unwrap();
        assert_eq!(m.live, 2);
        let key = |u: &str| schema.normalize_value("uid", u.as_bytes()).unwrap();
        let ids = m.by_uid(&key("ALICE"), &schema);
        assert_eq!(ids.len(), 1);
        let mut want = a.clone();
        want.attrs.remove(UUID);
        assert_eq!(m.entry(ids[0]).unwrap(), want);
        assert!(m.by_uid(&key("carol"), &schema).is_empty());
        assert_eq!(m.holders(&Dn::parse(devs).unwrap().normalized()), ids);
        // Renamed by another client: the same entryUUID under a new DN replaces it.
        let mut moved = user("alice2", "0000-A", &[]);
        moved.dn = Dn::parse("uid=alice2,ou=staff,dc=example,dc=com").unwrap();
        m.insert(&moved, false, &schema).unwrap();
        assert_eq!(m.live, 2);
        assert!(m.by_uid(&key("alice"), &schema).is_empty());
        assert_eq!(m.by_uid(&key("alice2"), &schema).len(), 1);
        assert!(m.holders(&Dn::parse(devs).unwrap().normalized()).is_empty());
        // Written again at its DN: one record still, the slot reused.
        m.insert(&b, false, &schema).unwrap();
        assert_eq!((m.live, m.recs.len()), (2, 2));
        // An entry without entryUUID cannot be followed through renames.
        let mut no_uuid = user("dave", "x", &[]);
        no_uuid.attrs.remove(UUID);
        assert!(m.insert(&no_uuid, false, &schema).is_err());
    }

    #[test]
    fn changes_say_what_to_read_again() {
        let schema = Schema::builtin();
        let log = std::sync::Arc::new(crate::directory::ChangeLog::default());
        let mut m = Mirror::new(Marker::logged("t", &log));
        let devs = Dn::parse("cn=devs,ou=groups,dc=example,dc=com").unwrap();
        let a = user("alice", "a", &[&devs.to_string()]);
        m.insert(&a, false, &schema).unwrap();
        let session = Dn::parse("cn=s1,ou=sessions,ou=heracles,dc=example,dc=com").unwrap();
        let changes = |cs: Vec<Change>| cs.into_iter().map(std::sync::Arc::new).collect::<Vec<_>>();
        let plan = |cs: Vec<Change>| match m.plan(&changes(cs), &schema) {
            Plan::Rebuild => None,
            Plan::Reread(r) => Some((r.entries, r.groups)),
        };
        // A session added and an audit event: nothing to read.
        assert_eq!(
            plan(vec![Change::Written {
                dn: session.clone(),
                classes: Some(vec!["top".into(), "device".into()]),
                attributes: vec!["cn".into()],
            }]),
            Some((vec![], vec![]))
        );
        // The user modified: it; a new person: it.
        let bob = Dn::parse("uid=bob,ou=people,dc=example,dc=com").unwrap();
        assert_eq!(
            plan(vec![
                Change::Written {
                    dn: a.dn.clone(),
                    classes: None,
                    attributes: vec!["description".into()],
                },
                Change::Entry {
                    dn: bob.clone(),
                    classes: vec![PERSON.into()],
                    leaf: true,
                    uuid: Some("b".into()),
                },
            ]),
            Some((vec![a.dn.clone(), bob], vec![]))
        );
        // A group's members written: the group; the group deleted: its holders.
        assert_eq!(
            plan(vec![Change::Written {
                dn: devs.clone(),
                classes: None,
                attributes: vec!["member".into()],
            }]),
            Some((vec![], vec![devs.clone()]))
        );
        assert_eq!(
            plan(vec![Change::Deleted {
                dn: devs.clone(),
                cascade: true,
            }]),
            Some((vec![a.dn.clone()], vec![]))
        );
        // A branch, or a change not known: made again.
        assert_eq!(plan(vec![Change::Unknown]), None);
        assert_eq!(
            plan(vec![Change::Entry {
                dn: Dn::parse("ou=people,dc=example,dc=com").unwrap(),
                classes: vec!["organizationalUnit".into()],
                leaf: false,
                uuid: None,
            }]),
            None
        );
        // Renamed by another client, then deleted before the copy read it: the old DN is
        // read again as well (and found gone).
        let moved = Dn::parse("uid=alice,ou=gone,dc=example,dc=com").unwrap();
        assert_eq!(
            plan(vec![
                Change::Entry {
                    dn: moved.clone(),
                    classes: vec![PERSON.into()],
                    leaf: true,
                    uuid: Some("a".into()),
                },
                Change::Deleted {
                    dn: moved.clone(),
                    cascade: false,
                },
            ]),
            Some((vec![moved, a.dn.clone()], vec![]))
        );
        // A write that failed or timed out: the entry, and its members' side.
        assert_eq!(
            plan(vec![Change::Attempted { dn: devs.clone() }]),
            Some((vec![devs.clone()], vec![devs.clone()]))
        );
    }
}
