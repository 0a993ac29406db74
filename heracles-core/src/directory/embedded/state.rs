//! The in-memory state of the embedded directory: entries in DN order plus equality
//! indexes.
//!
//! Entries live in a slab addressed by a small integer id; `by_dn` maps DNs to ids in the
//! hierarchical order of [`Dn`]'s `Ord` (root first, a subtree is one contiguous range), so
//! subtree and one-level scopes and the "has children?" test are range scans. Equality
//! indexes map an attribute's normalised value (under its equality rule) to the ids holding
//! it, so `(uid=jdoe)` does not scan.

use std::borrow::Borrow;
use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use super::rules::Rules;
use crate::directory::{Change, ChangeLog, Entry, Marker};
use crate::dn::Dn;

/// Internal id of an entry.
pub(super) type Id = u32;

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

/// Candidate ids, in increasing order: a set borrowed from an index, or a list computed
/// for one search (a union, a scan of index keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Ids<'s> {
    Set(&'s BTreeSet<Id>),
    One(Id),
    List(Vec<Id>),
}

impl Ids<'_> {
    /// No ids.
    pub(super) fn none() -> Self {
        Ids::List(Vec::new())
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Ids::Set(s) => s.len(),
            Ids::One(_) => 1,
            Ids::List(v) => v.len(),
        }
    }

    /// The ids, in increasing order.
    pub(super) fn iter(&self) -> impl Iterator<Item = Id> + '_ {
        let (set, list) = match self {
            Ids::Set(s) => (Some(s.iter().copied()), None),
            Ids::One(id) => (None, Some(std::slice::from_ref(id).iter().copied())),
            Ids::List(v) => (None, Some(v.iter().copied())),
        };
        set.into_iter().flatten().chain(list.into_iter().flatten())
    }
}

/// The ids holding one index key: most keys (a uid, a mail address, an entryUUID) belong
/// to one entry, kept inline rather than in a set of one.
#[derive(Debug)]
enum Posting {
    One(Id),
    Many(BTreeSet<Id>),
}

impl Posting {
    fn ids(&self) -> Ids<'_> {
        match self {
            Posting::One(id) => Ids::One(*id),
            Posting::Many(set) => Ids::Set(set),
        }
    }

    fn contains(&self, id: Id) -> bool {
        match self {
            Posting::One(one) => *one == id,
            Posting::Many(set) => set.contains(&id),
        }
    }

    fn insert(&mut self, id: Id) {
        match self {
            Posting::One(one) if *one == id => {}
            Posting::One(one) => *self = Posting::Many(BTreeSet::from([*one, id])),
            Posting::Many(set) => {
                set.insert(id);
            }
        }
    }

    /// Removes `id`; `false` when no id is left.
    fn remove(&mut self, id: Id) -> bool {
        match self {
            Posting::One(one) => *one != id,
            Posting::Many(set) => {
                set.remove(&id);
                match set.len() {
                    0 => false,
                    1 => {
                        if let Some(&last) = set.first() {
                            *self = Posting::One(last);
                        }
                        true
                    }
                    _ => true,
                }
            }
        }
    }
}

/// An entry in the DN order: keyed by the entry's own DN (no second copy of it).
#[derive(Debug)]
struct Slot {
    entry: Arc<Entry>,
    id: Id,
}

impl Borrow<Dn> for Slot {
    fn borrow(&self) -> &Dn {
        &self.entry.dn
    }
}

impl PartialEq for Slot {
    fn eq(&self, other: &Self) -> bool {
        self.entry.dn == other.entry.dn
    }
}

impl Eq for Slot {}

impl PartialOrd for Slot {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Slot {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.entry.dn.cmp(&other.entry.dn)
    }
}

/// The directory's contents.
#[derive(Debug, Default)]
pub(super) struct State {
    /// Entries by id (shared with `by_dn`).
    slab: Vec<Option<Arc<Entry>>>,
    free: Vec<Id>,
    by_dn: BTreeSet<Slot>,
    /// attribute (canonical, lower-case) -> normalised value -> ids
    index: HashMap<&'static str, HashMap<Box<[u8]>, Posting>>,
    /// Every change once the directory is open (`None` while it loads): the directory's
    /// change marker is its position.
    changes: Option<Arc<ChangeLog>>,
}

impl State {
    /// Starts logging changes (once loaded); returns the log.
    pub(super) fn log_changes(&mut self) -> Arc<ChangeLog> {
        Arc::clone(self.changes.get_or_insert_with(Arc::default))
    }

    /// The current state, `None` before [`State::log_changes`].
    pub(super) fn marker(&self) -> Option<Marker> {
        self.changes
            .as_ref()
            .map(|log| Marker::logged("embedded", log))
    }

    fn record(&self, change: impl FnOnce() -> Change) {
        if let Some(log) = &self.changes {
            log.record(change());
        }
    }

    pub(super) fn len(&self) -> usize {
        self.by_dn.len()
    }

    /// The first DN in hierarchical order (the highest entry).
    pub(super) fn first_dn(&self) -> Option<&Dn> {
        self.by_dn.first().map(|s| &s.entry.dn)
    }

    pub(super) fn id_of(&self, dn: &Dn) -> Option<Id> {
        self.by_dn.get(dn).map(|s| s.id)
    }

    pub(super) fn get(&self, dn: &Dn) -> Option<&Arc<Entry>> {
        self.by_dn.get(dn).map(|s| &s.entry)
    }

    pub(super) fn by_id(&self, id: Id) -> Option<&Arc<Entry>> {
        self.slab.get(id as usize).and_then(Option::as_ref)
    }

    pub(super) fn contains(&self, dn: &Dn) -> bool {
        self.by_dn.contains(dn)
    }

    /// Whether `dn` has at least one child.
    pub(super) fn has_children(&self, dn: &Dn) -> bool {
        self.by_dn
            .range::<Dn, _>((Bound::Excluded(dn), Bound::Unbounded))
            .next()
            .is_some_and(|next| next.entry.dn.is_descendant_of(dn))
    }

    /// `base` and everything below it, in DN order.
    pub(super) fn subtree<'a>(&'a self, base: &'a Dn) -> impl Iterator<Item = (&'a Dn, Id)> + 'a {
        self.by_dn
            .range::<Dn, _>((Bound::Included(base), Bound::Unbounded))
            .take_while(move |s| s.entry.dn.is_descendant_or_self(base))
            .map(|s| (&s.entry.dn, s.id))
    }

    /// Every entry, in DN order (parents before children).
    pub(super) fn iter(&self) -> impl ExactSizeIterator<Item = &Entry> + '_ {
        self.by_dn.iter().map(|s| s.entry.as_ref())
    }

    /// Ids whose `attr` holds a value with normalised form `key`, if `attr` is indexed (an
    /// indexed attribute no entry holds yet has an empty index: nothing matches). The set
    /// is borrowed from the index: sizing it costs nothing, whatever it holds.
    pub(super) fn lookup(&self, attr: &str, key: &[u8]) -> Option<Ids<'_>> {
        let Some(idx) = self.index.get(attr) else {
            return Self::is_indexed(attr).then(Ids::none);
        };
        Some(idx.get(key).map_or_else(Ids::none, Posting::ids))
    }

    /// Whether entry `id` holds a value of the indexed `attr` with normalised form `key`.
    pub(super) fn holds(&self, attr: &str, key: &[u8], id: Id) -> bool {
        self.index
            .get(attr)
            .and_then(|idx| idx.get(key))
            .is_some_and(|p| p.contains(id))
    }

    /// Ids whose `attr` holds a value whose normalised form satisfies `pred`, by scanning
    /// the index's keys instead of the entries; `None` if `attr` is not indexed.
    pub(super) fn scan_keys(&self, attr: &str, pred: impl Fn(&[u8]) -> bool) -> Option<Ids<'_>> {
        let Some(idx) = self.index.get(attr) else {
            return Self::is_indexed(attr).then(Ids::none);
        };
        let mut ids: Vec<Id> = Vec::new();
        for (_, p) in idx.iter().filter(|(k, _)| pred(k)) {
            match p {
                Posting::One(id) => ids.push(*id),
                Posting::Many(set) => ids.extend(set.iter().copied()),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Some(Ids::List(ids))
    }

    pub(super) fn is_indexed(attr: &str) -> bool {
        INDEXED.binary_search(&attr).is_ok()
    }

    /// A state holding `entries` (in DN order, as snapshots store them): the DN map is
    /// built in one pass instead of one insertion per entry.
    pub(super) fn load(rules: &Rules, entries: Vec<Entry>) -> State {
        let mut st = State::default();
        let mut slots = Vec::with_capacity(entries.len());
        st.slab.reserve_exact(entries.len());
        for e in entries {
            let id = Id::try_from(st.slab.len()).unwrap_or(Id::MAX);
            st.index_entry(rules, id, &e, true);
            let entry = Arc::new(e);
            slots.push(Slot {
                entry: Arc::clone(&entry),
                id,
            });
            st.slab.push(Some(entry));
        }
        st.by_dn = slots.into_iter().collect();
        // Grown by doubling while loading: give back the spare room.
        for map in st.index.values_mut() {
            map.shrink_to_fit();
        }
        st
    }

    fn index_entry(&mut self, rules: &Rules, id: Id, entry: &Entry, add: bool) {
        for attr in entry.attrs.iter() {
            // Stored entries carry the schema's names (see ops::add), so no alias lookup.
            let Some(name) = indexed_name(attr.name()) else {
                continue;
            };
            for v in attr.values() {
                let key = rules.eq_key(attr.name(), v);
                let map = self.index.entry(name).or_default();
                if add {
                    match map.get_mut(key.as_slice()) {
                        Some(p) => p.insert(id),
                        None => {
                            map.insert(key.into_boxed_slice(), Posting::One(id));
                        }
                    }
                } else if let Some(p) = map.get_mut(key.as_slice()) {
                    if !p.remove(id) {
                        map.remove(key.as_slice());
                    }
                }
            }
        }
    }

    /// Creates or replaces the entry at its DN.
    pub(super) fn put(&mut self, rules: &Rules, mut entry: Entry) {
        entry.attrs.shrink_to_fit();
        self.record(|| match self.get(&entry.dn) {
            Some(old) => Change::Written {
                dn: entry.dn.clone(),
                classes: None,
                attributes: changed_attributes(old, &entry),
            },
            None => Change::added(&entry),
        });
        if let Some(id) = self.id_of(&entry.dn) {
            if let Some(old) = self.by_id(id).cloned() {
                self.index_entry(rules, id, &old, false);
            }
            self.index_entry(rules, id, &entry, true);
            let entry = Arc::new(entry);
            self.by_dn.replace(Slot {
                entry: Arc::clone(&entry),
                id,
            });
            if let Some(slot) = self.slab.get_mut(id as usize) {
                *slot = Some(entry);
            }
            return;
        }
        let id = if let Some(id) = self.free.pop() {
            id
        } else {
            self.slab.push(None);
            Id::try_from(self.slab.len() - 1).unwrap_or(Id::MAX)
        };
        self.index_entry(rules, id, &entry, true);
        let entry = Arc::new(entry);
        self.by_dn.insert(Slot {
            entry: Arc::clone(&entry),
            id,
        });
        if let Some(slot) = self.slab.get_mut(id as usize) {
            *slot = Some(entry);
        }
    }

    /// Removes the entry at `dn` (if any).
    pub(super) fn remove(&mut self, rules: &Rules, dn: &Dn) {
        // No cascade: whatever else a delete changes is put in the same batch.
        self.record(|| Change::Deleted {
            dn: dn.clone(),
            cascade: false,
        });
        let Some(Slot { id, .. }) = self.by_dn.take(dn) else {
            return;
        };
        if let Some(old) = self.slab.get_mut(id as usize).and_then(Option::take) {
            self.index_entry(rules, id, &old, false);
        }
        self.free.push(id);
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Ids, State};
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
    fn postings_follow_puts_replacements_and_removals() {
        let rules = Rules::new(Arc::new(Schema::builtin()));
        let mut st = State::default();
        let ids = |st: &State, key: &[u8]| -> Vec<u32> {
            st.lookup("mail", key).unwrap().iter().collect()
        };
        st.put(&rules, person("a", "shared@example.com"));
        assert_eq!(ids(&st, b"shared@example.com"), [0]);
        // Same normalised key (caseIgnoreIA5Match): one key, two ids.
        st.put(&rules, person("b", "SHARED@example.com"));
        assert_eq!(ids(&st, b"shared@example.com"), [0, 1]);
        assert!(st.holds("mail", b"shared@example.com", 1));
        // Replacing an entry moves its id from the old key to the new one.
        st.put(&rules, person("a", "other@example.com"));
        assert_eq!(ids(&st, b"shared@example.com"), [1]);
        assert_eq!(ids(&st, b"other@example.com"), [0]);
        assert!(!st.holds("mail", b"shared@example.com", 0));
        st.remove(&rules, &Dn::parse("uid=b,dc=example,dc=com").unwrap());
        assert_eq!(st.lookup("mail", b"shared@example.com"), Some(Ids::none()));
        // The DN order holds what the ids do.
        assert_eq!(st.len(), 1);
        let a = Dn::parse("uid=a,dc=example,dc=com").unwrap();
        assert_eq!(st.id_of(&a), Some(0));
        assert_eq!(
            st.get(&a).and_then(|e| e.first_str("mail")),
            Some("other@example.com")
        );
        // A freed id is reused.
        st.put(&rules, person("c", "c@example.com"));
        assert_eq!(ids(&st, b"c@example.com"), [1]);
    }

    #[test]
    fn an_index_no_entry_uses_yet_answers_nothing_rather_than_a_scan() {
        let st = State::default();
        // Indexed, but no value yet: an empty candidate list (a scan would be O(entries)).
        assert_eq!(
            st.lookup("member", b"uid=x,dc=example,dc=com"),
            Some(Ids::none())
        );
        assert_eq!(st.scan_keys("memberuid", |_| true), Some(Ids::none()));
        // Not indexed: the caller must scan.
        assert_eq!(st.lookup("description", b"x"), None);
        assert_eq!(st.scan_keys("description", |_| true), None);
    }
}
