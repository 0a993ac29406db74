//! Which groups a user is in, with as few searches as the directory allows.
//!
//! A user's groups are the `groupOfNames` groups holding its DN as a `member` and the
//! `posixGroup` groups holding its uid as a `memberUid`. Where the directory keeps
//! `memberOf` (slapd's memberof overlay; probed, see `groups.rs`), the first kind comes with
//! the user's entry. The second kind — posix groups that are not also `groupOfNames`
//! ("posix-only"; mixed groups have both attributes and are in `memberOf`) — is few and
//! small in most directories, so an index of them (uid → group names) is kept under the
//! directory's change marker, like the lists' sorted DNs: never stale, rebuilt by one
//! search after a change that may touch a posix group. A directory whose posix-only groups hold more than
//! [`MAX_INDEXED`] `memberUid` values in all is not indexed: each user's posix-only groups
//! are then searched for (`memberUid` is indexed by slapd's default configuration).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use super::lists::Fresh;
use super::Heracles;
use crate::directory::{Change, Entry, Marker, Scope, SearchRequest};
use crate::dn::Dn;
use crate::error::Result;
use crate::filter::Filter;

/// Most `memberUid` values (over every posix-only group) the index holds.
pub const MAX_INDEXED: usize = 20_000;

/// uid → names of the posix-only groups listing it (each list sorted).
type Index = HashMap<String, Vec<String>>;

/// The index and the DNs of the groups it was made of (`None`: too many values).
#[derive(Debug)]
struct Indexed {
    index: Option<Arc<Index>>,
    groups: HashSet<Dn>,
}

/// The index of posix-only groups (one per [`Heracles`]).
#[derive(Debug, Default)]
pub(crate) struct PosixOnlyIndex {
    slot: Mutex<Option<Arc<Fresh<Indexed>>>>,
}

impl PosixOnlyIndex {
    /// The slot at `marker`: the current one if of the same epoch (and not `stale`).
    fn slot(&self, marker: &Marker, stale: Option<&Arc<Fresh<Indexed>>>) -> Arc<Fresh<Indexed>> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        match &*slot {
            Some(s) if s.same_epoch(marker) && !stale.is_some_and(|st| Arc::ptr_eq(s, st)) => {
                Arc::clone(s)
            }
            _ => {
                let s = Arc::new(Fresh::new(marker.clone()));
                *slot = Some(Arc::clone(&s));
                s
            }
        }
    }
}

/// The search the index is made of.
fn query(h: &Heracles) -> SearchRequest {
    SearchRequest::new(h.base().clone(), Scope::Subtree, posix_only())
        .attributes(["cn", "memberUid"])
}

/// Whether the index made of `indexed` still holds at `marker` (if so, it is known to
/// hold there from now on).
fn holds_at(h: &Heracles, slot: &Fresh<Indexed>, indexed: &Indexed, marker: &Marker) -> bool {
    let query = query(h);
    let listed = |dn: &Dn| indexed.index.is_none() || indexed.groups.contains(dn);
    // The index holds the groups' values, not only which groups match: any write to
    // one of them counts.
    slot.holds_at(marker, |c: &Change| {
        c.may_change_entries(&query, &listed, h.schema())
    })
}

/// Checks the index against `marker` while no request asks for it (see
/// `lists::keep_up`).
pub(crate) fn keep_up(h: &Heracles, marker: &Marker) {
    let slot = h
        .inner
        .posix_only
        .slot
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(slot) = slot {
        if let Some(indexed) = slot.value() {
            holds_at(h, &slot, &indexed, marker);
        }
    }
}

/// The filter of posix-only groups.
fn posix_only() -> Filter {
    Filter::and([
        Filter::eq("objectClass", "posixGroup"),
        Filter::not(Filter::eq("objectClass", "groupOfNames")),
    ])
}

/// The index under the current marker; `None` when the directory has no marker or too
/// many values to index.
async fn index(h: &Heracles) -> Result<Option<Arc<Index>>> {
    if !h.list_cache().enabled() {
        return Ok(None);
    }
    let Some(marker) = h.directory().change_marker(h.base()).await? else {
        return Ok(None);
    };
    let query = query(h);
    let mut stale = None;
    for _ in 0..3 {
        let slot = h.inner.posix_only.slot(&marker, stale.as_ref());
        let indexed = slot.get(|| build(h, &query)).await?;
        if holds_at(h, &slot, &indexed, &marker) {
            return Ok(indexed.index.clone());
        }
        stale = Some(slot);
    }
    Ok(build(h, &query).await?.index)
}

/// Builds the index from one search.
async fn build(h: &Heracles, query: &SearchRequest) -> Result<Indexed> {
    let groups = h.directory().search(query).await?;
    let dns = groups.iter().map(|g| g.dn.clone()).collect();
    let values: usize = groups.iter().map(|g| g.strs("memberUid").len()).sum();
    if values > MAX_INDEXED {
        return Ok(Indexed {
            index: None,
            groups: dns,
        });
    }
    let mut index = Index::new();
    for g in &groups {
        let Some(cn) = g.first_str("cn") else {
            continue;
        };
        for uid in g.strs("memberUid") {
            let names = index.entry(uid.to_owned()).or_default();
            if !names.iter().any(|n| n == cn) {
                names.push(cn.to_owned());
            }
        }
    }
    for names in index.values_mut() {
        names.sort_by_key(|n| n.to_lowercase());
    }
    Ok(Indexed {
        index: Some(Arc::new(index)),
        groups: dns,
    })
}

/// The names of the posix-only groups listing each of `uids` (in that order): from the
/// index, else one search for all of them.
pub(crate) async fn posix_only_groups(h: &Heracles, uids: &[&str]) -> Result<Vec<Vec<String>>> {
    if uids.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(index) = index(h).await? {
        return Ok(uids
            .iter()
            .map(|u| index.get(*u).cloned().unwrap_or_default())
            .collect());
    }
    let clauses: Vec<Filter> = uids.iter().map(|u| Filter::eq("memberUid", *u)).collect();
    let groups = h
        .directory()
        .search(
            &SearchRequest::new(
                h.base().clone(),
                Scope::Subtree,
                Filter::and([posix_only(), Filter::or(clauses)]),
            )
            .attributes(["cn", "memberUid"]),
        )
        .await?;
    let mut at: HashMap<&str, Vec<usize>> = HashMap::with_capacity(uids.len());
    for (i, u) in uids.iter().enumerate() {
        at.entry(*u).or_default().push(i);
    }
    let mut out: Vec<Vec<String>> = vec![Vec::new(); uids.len()];
    for g in &groups {
        let Some(cn) = g.first_str("cn") else {
            continue;
        };
        // memberUid matches exactly (caseExactIA5Match).
        for i in g
            .strs("memberUid")
            .iter()
            .filter_map(|u| at.get(u))
            .flatten()
        {
            if let Some(list) = out.get_mut(*i).filter(|l| !l.iter().any(|n| n == cn)) {
                list.push(cn.to_owned());
            }
        }
    }
    for list in &mut out {
        list.sort_by_key(|n| n.to_lowercase());
    }
    Ok(out)
}

/// Most `memberOf` values [`GroupNames`] remembers (it starts again when full).
const MAX_NAMES: usize = 8192;

/// `memberOf` value → the group's name if it lies below the base: a pure function of the
/// value (for one base), remembered so that the DNs repeated on every member (a
/// department's group) are parsed once, not once per listed user.
#[derive(Debug, Default)]
pub(crate) struct GroupNames(Mutex<HashMap<Vec<u8>, Option<String>>>);

impl GroupNames {
    fn name(&self, value: &[u8], base: &Dn) -> Option<String> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = map.get(value) {
            return n.clone();
        }
        let name = std::str::from_utf8(value)
            .ok()
            .and_then(|v| Dn::parse(v).ok())
            .filter(|g| g.is_descendant_of(base))
            .and_then(|g| g.rdn().and_then(|r| r.value_of("cn")).map(str::to_owned));
        if map.len() >= MAX_NAMES {
            map.clear();
        }
        map.insert(value.to_vec(), name.clone());
        name
    }
}

/// The names of the groups in the `memberOf` values of `e` (taken out of it) that lie
/// below the base, sorted.
pub(crate) fn member_of_names(h: &Heracles, e: &mut Entry) -> Vec<String> {
    let names = &h.inner.group_names;
    let mut names: Vec<String> = e
        .attrs
        .remove("memberOf")
        .unwrap_or_default()
        .iter()
        .filter_map(|v| names.name(v, h.base()))
        .collect();
    names.sort_by_key(|n| n.to_lowercase());
    names
}

/// `a` and `b` merged (both sorted by lower-case name), without duplicates.
pub(crate) fn merge(mut a: Vec<String>, b: Vec<String>) -> Vec<String> {
    for n in b {
        if !a.contains(&n) {
            a.push(n);
        }
    }
    a.sort_by_key(|n| n.to_lowercase());
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_are_remembered_and_the_same_as_parsed() {
        let names = GroupNames::default();
        let base = Dn::parse("dc=example,dc=com").unwrap();
        let cases: [(&[u8], Option<&str>); 5] = [
            (b"cn=Team1,ou=groups,dc=example,dc=com", Some("Team1")),
            (b"CN=dept 2 , OU=Groups, DC=Example, DC=com", Some("dept 2")),
            (b"cn=x,dc=other", None),
            (b"ou=groups,dc=example,dc=com", None),
            (b"not a dn", None),
        ];
        for round in 0..2 {
            for (value, want) in cases {
                assert_eq!(names.name(value, &base).as_deref(), want, "round {round}");
            }
        }
        assert_eq!(names.0.lock().unwrap().len(), cases.len());
        for i in 0..MAX_NAMES + 10 {
            let v = format!("cn=g{i},dc=example,dc=com");
            assert_eq!(names.name(v.as_bytes(), &base), Some(format!("g{i}")));
        }
        assert!(names.0.lock().unwrap().len() <= MAX_NAMES);
    }
}
