//! What changed in the directory: markers and a log of changes, so that what was computed
//! from the directory (the lists' sorted DNs, the index of posix groups) is reused while
//! nothing that could change it has changed — and never longer.
//!
//! A [`Marker`] names a state of the directory. Two markers of the same
//! [epoch](Marker::epoch) and [sequence number](Marker::seq) name the same state. Between two
//! markers of the same epoch, a directory that keeps a [`ChangeLog`] can tell *what* changed
//! ([`Marker::changed_since`]): each [`Change`] says as much as is known of one change —
//! the entry's DN and object classes as the server notified them, or the attributes a write
//! through this directory modified — and [`Change::may_affect`] decides, conservatively,
//! whether a search could now return other entries than before. A change that may not be
//! logged (the log holds the last [`LOG_CAPACITY`]) counts as affecting everything, and
//! so does a change of which too little is known ([`Change::Unknown`]).
//!
//! So a user list is not scanned again because a login wrote an audit event and a session
//! (entries of other classes, below another branch), while a new user — added here or by
//! any other client — is in the next page.
//!
//! ```
//! use std::sync::Arc;
//! use heracles_core::directory::{Change, ChangeLog, Marker, Scope, SearchRequest};
//! use heracles_core::dn::Dn;
//! use heracles_core::filter::Filter;
//! use heracles_core::schema::Schema;
//!
//! let schema = Schema::builtin();
//! let log = Arc::new(ChangeLog::default());
//! let before = Marker::logged("watch:1", &log);
//! let people = SearchRequest::new(
//!     Dn::parse("dc=example,dc=com")?,
//!     Scope::Subtree,
//!     Filter::eq("objectClass", "inetOrgPerson"),
//! );
//! // An audit event is added: not a person.
//! log.record(Change::Entry {
//!     dn: Dn::parse("heraclesEventId=1,ou=audit,ou=heracles,dc=example,dc=com")?,
//!     classes: vec!["top".into(), "device".into()],
//!     leaf: true,
//!     uuid: None,
//! });
//! let after = Marker::logged("watch:1", &log);
//! let listed = |_: &Dn| false; // the list had none of these DNs
//! assert!(!after.changed_since(&before, |c| c.may_affect(&people, &listed, &schema)));
//! // A person is added.
//! log.record(Change::Entry {
//!     dn: Dn::parse("uid=new,ou=people,dc=example,dc=com")?,
//!     classes: vec!["inetOrgPerson".into()],
//!     leaf: true,
//!     uuid: None,
//! });
//! let later = Marker::logged("watch:1", &log);
//! assert!(later.changed_since(&before, |c| c.may_affect(&people, &listed, &schema)));
//! # Ok::<(), heracles_core::Error>(())
//! ```

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use super::tri::Tri;
use super::{Entry, SearchRequest};
use crate::dn::Dn;
use crate::filter::Filter;
use crate::schema::Schema;

/// How many changes a [`ChangeLog`] keeps; a state older than that counts as changed.
pub const LOG_CAPACITY: usize = 4096;

/// The DN syntax, and the name-and-optional-UID syntax of `uniqueMember`: attributes whose
/// values the server's overlays keep in step with other entries (slapd's memberof and
/// refint maintain `memberOf` and members when groups and entries change).
const DN_SYNTAXES: [&str; 2] = [
    "1.3.6.1.4.1.1466.115.121.1.12",
    "1.3.6.1.4.1.1466.115.121.1.34",
];

/// One change to the directory, with as much as is known of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An entry was added, or changed in a way not known (a server's notification): its
    /// DN and object classes now. `leaf`: it has no entries below it, so no other entry
    /// moved with it (a renamed branch moves its whole subtree).
    Entry {
        /// The entry's DN.
        dn: Dn,
        /// Its object classes (as stored: superclasses may be left out).
        classes: Vec<String>,
        /// It has no subordinates.
        leaf: bool,
        /// Its `entryUUID` (lower case), when the server sent it: an entry renamed by
        /// another client is notified under its new DN only, and this tells which entry
        /// it was before.
        uuid: Option<String>,
    },
    /// An entry written through this directory: added (with these attributes) or modified
    /// (these attributes, nothing else; its DN unchanged). `classes` are its object classes
    /// when added.
    Written {
        /// The entry's DN.
        dn: Dn,
        /// Its object classes, when the write added it; `None` for a modification.
        classes: Option<Vec<String>>,
        /// The attributes added or modified.
        attributes: Vec<String>,
    },
    /// A leaf entry was deleted. `cascade`: the server may have changed other entries with
    /// it (a delete through this directory: slapd's refint removes the DN from groups).
    Deleted {
        /// The entry's DN.
        dn: Dn,
        /// Other entries' DN-valued attributes may have changed with it.
        cascade: bool,
    },
    /// A write through this directory to this entry that failed or timed out: it may
    /// have been made (an add, a delete, a modification), or not. Counts as a change of
    /// unknown kind to the entry (lists scan again); only what is at that DN, and what the
    /// server's overlays may have changed with it, can differ.
    Attempted {
        /// The entry's DN.
        dn: Dn,
    },
    /// Anything may have changed (a rename through this directory, a notification that
    /// could not be read).
    Unknown,
}

impl Change {
    /// Whether `req`'s matches (which entries, in which order) may differ after this
    /// change. `listed` tells whether a DN was among the matches before (a change to a
    /// matching entry counts unless it is known to leave the filter's and sort keys'
    /// attributes alone). Errs towards `true`: whatever is not known may have changed.
    pub fn may_affect(
        &self,
        req: &SearchRequest,
        listed: &dyn Fn(&Dn) -> bool,
        schema: &Schema,
    ) -> bool {
        match self {
            Change::Unknown | Change::Attempted { .. } => true,
            Change::Deleted { dn, cascade } => {
                listed(dn) || (*cascade && mentions_dn_valued(req, schema))
            }
            // The notification of a modification may be that of a rename (from anywhere:
            // a listed entry moved out of the scope is notified under its new DN), so the
            // scope does not clear it; its classes, which a rename keeps, do.
            // A group's change (by another client) also changes its members' `memberOf`,
            // unnotified.
            Change::Entry {
                dn, classes, leaf, ..
            } => {
                !leaf
                    || listed(dn)
                    || classes_match(&req.filter, classes, schema) != Tri::False
                    || (may_hold_members(classes, schema) && mentions_dn_valued(req, schema))
            }
            Change::Written {
                dn,
                classes,
                attributes,
            } => {
                // The server's overlays may have changed other entries' DN-valued
                // attributes (`memberOf` of a group's members).
                if attributes.iter().any(|a| is_dn_valued(a, schema))
                    && mentions_dn_valued(req, schema)
                {
                    return true;
                }
                if let Some(classes) = classes {
                    return listed(dn)
                        || (in_scope(dn, req)
                            && classes_match(&req.filter, classes, schema) != Tri::False);
                }
                let filter_attrs = filter_attributes(&req.filter);
                let touches =
                    |used: &str| attributes.iter().any(|a| same_or_subtype(a, used, schema));
                if listed(dn) {
                    // A match stays one and keeps its place unless the filter's or the
                    // sort keys' attributes changed.
                    filter_attrs.iter().any(|a| touches(a))
                        || req.sort.iter().any(|k| touches(&k.attr))
                } else {
                    in_scope(dn, req) && filter_attrs.iter().any(|a| touches(a))
                }
            }
        }
    }
}

impl Change {
    /// Whether what `req` returns — which entries, and what they hold of
    /// `req.attributes` — may differ after this change: [`Change::may_affect`], and also
    /// any write to a listed entry, and changes through which the server's overlays may
    /// rewrite the DN-valued attributes `req` reads: a write of a membership attribute
    /// (`member`, `uniqueMember`, `memberOf`: slapd's memberof keeps the other side in
    /// step), a delete through this directory (refint removes the DN from other entries).
    /// Other writes leave other entries alone (refint acts on deletes and renames only, and
    /// a rename is [`Change::Unknown`]). `listed` tells whether a DN is one that `req`
    /// returned (or, for a read by DN, was asked for). Errs towards `true`.
    pub fn may_change_entries(
        &self,
        req: &SearchRequest,
        listed: &dyn Fn(&Dn) -> bool,
        schema: &Schema,
    ) -> bool {
        match self {
            Change::Written { dn, .. } if listed(dn) => true,
            Change::Written { attributes, .. }
                if attributes.iter().any(|a| is_membership(a, schema))
                    && reads_dn_valued(req, schema) =>
            {
                true
            }
            Change::Deleted { cascade: true, .. } if reads_dn_valued(req, schema) => true,
            // A group changed by another client: slapd's memberof rewrites its members'
            // `memberOf`, and the server does not notify those writes.
            Change::Entry { classes, .. }
                if may_hold_members(classes, schema) && uses_member_of(req, schema) =>
            {
                true
            }
            _ => self.may_affect(req, listed, schema),
        }
    }
}

impl Change {
    /// `entry` added through this directory.
    pub fn added(entry: &Entry) -> Change {
        Change::Written {
            dn: entry.dn.clone(),
            classes: Some(
                entry
                    .strs("objectClass")
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            ),
            attributes: entry.attrs.iter().map(|a| a.name().to_owned()).collect(),
        }
    }

    /// For a change that [may affect](Change::may_affect) `req`: the listed entry it only
    /// took out of the matches — a deleted entry, with nothing else changed with it that
    /// `req` could see — so that the matches after it are those before without that DN.
    /// `None` when the change may have done more.
    pub fn removed_from(
        &self,
        req: &SearchRequest,
        listed: &dyn Fn(&Dn) -> bool,
        schema: &Schema,
    ) -> Option<&Dn> {
        match self {
            Change::Deleted { dn, cascade }
                if listed(dn) && !(*cascade && mentions_dn_valued(req, schema)) =>
            {
                Some(dn)
            }
            _ => None,
        }
    }
}

impl Change {
    /// The entry the change is about, if one.
    pub(crate) fn dn(&self) -> Option<&Dn> {
        match self {
            Change::Entry { dn, .. }
            | Change::Written { dn, .. }
            | Change::Deleted { dn, .. }
            | Change::Attempted { dn } => Some(dn),
            Change::Unknown => None,
        }
    }
}

/// The listed DN of the entry with an `entryUUID` (lower case), for [`net_changes`].
pub type ByUuid<'a> = &'a dyn Fn(&str) -> Option<Dn>;

/// What a list's changes did to its matches, as far as the log tells (see
/// [`net_changes`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetChanges {
    /// Listed entries that are no longer among the matches.
    pub removed: HashSet<Dn>,
    /// Entries that may have come in, gone out or moved in the order: reading each again
    /// (a search of the list's request at that DN) tells what the matches are now.
    pub reread: BTreeSet<Dn>,
    /// Entries added through this directory whose later notifications (the server's
    /// echo of the add, other clients' modifications) are of that entry: pass them to
    /// the next call as `added`.
    pub added: BTreeSet<Dn>,
}

impl NetChanges {
    /// Nothing changed the matches.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.reread.is_empty()
    }
}

/// What `changes` (oldest first) did to `req`'s matches, as far as they tell: the
/// matches now are those before without the DNs in `removed`, and with each DN in
/// `reread` in or out as reading it again says. `None` when the changes may have done
/// more than that (a rename, a change not known, a failed write...): the matches must be
/// found again. `added` are the DNs a previous call returned as added.
///
/// Each change that [may affect](Change::may_affect) `req` must be one of:
/// - a delete of a listed entry ([`Change::removed_from`]);
/// - part of the whole life of an entry added through this directory and deleted again
///   since (a user created and deleted): it was not among the matches before and is not
///   now. That holds when its first logged change is that add (so no other entry was
///   renamed to its DN before), its last is a delete, and it stayed a leaf;
/// - a change of one entry known by its DN, which reading that DN again settles: an add
///   through this directory; or a modification through this directory, or a server's
///   notification of a leaf, of an entry that was listed, or added through this
///   directory, and is not deleted since. A notification for any other DN may be that
///   of a rename by another client, with the old DN still listed; a write that may or
///   may not have been made ([`Change::Attempted`]) may have met such an entry.
///
/// When the list knows every listed entry's `entryUUID` (`by_uuid` gives the listed DN
/// of the entry with an entryUUID), a notification that carries one is settled too: the
/// entry is read again at its DN, and if it was listed under another DN (a rename), that
/// DN is taken out.
///
/// Only the first applies when `req` sees a DN-valued attribute, which the server's
/// overlays may have changed in other entries with any of these.
pub fn net_changes(
    changes: &[Arc<Change>],
    req: &SearchRequest,
    listed: &dyn Fn(&Dn) -> bool,
    added: &BTreeSet<Dn>,
    by_uuid: Option<ByUuid<'_>>,
    schema: &Schema,
) -> Option<NetChanges> {
    let dn_valued = mentions_dn_valued(req, schema);
    let lived = if dn_valued {
        HashSet::new()
    } else {
        whole_lives(changes, listed)
    };
    let mut net = NetChanges {
        added: added.clone(),
        ..NetChanges::default()
    };
    // DNs deleted (or moved with a branch) since: whatever is there now is another entry.
    let mut vacated: HashSet<&Dn> = HashSet::new();
    for c in changes {
        let dn = c.dn();
        if c.may_affect(req, listed, schema) && !dn.is_some_and(|dn| lived.contains(dn)) {
            if let Some(gone) = c.removed_from(req, listed, schema) {
                net.removed.insert(gone.clone());
            } else {
                let dn = dn?;
                let known = net.added.contains(dn) || (listed(dn) && !vacated.contains(dn));
                let settles = match (&**c, by_uuid) {
                    (
                        Change::Entry {
                            leaf: true,
                            uuid: Some(uuid),
                            ..
                        },
                        Some(by_uuid),
                    ) => {
                        if let Some(before) = by_uuid(uuid).filter(|before| before != dn) {
                            net.removed.insert(before);
                        }
                        true
                    }
                    (
                        Change::Written {
                            classes: Some(_), ..
                        },
                        _,
                    ) => true,
                    (
                        Change::Written { classes: None, .. } | Change::Entry { leaf: true, .. },
                        _,
                    ) => known,
                    _ => false,
                };
                if dn_valued || !settles {
                    return None;
                }
                net.reread.insert(dn.clone());
                if matches!(
                    &**c,
                    Change::Written {
                        classes: Some(_),
                        ..
                    }
                ) {
                    net.added.insert(dn.clone());
                }
            }
        }
        if let Some(dn) = dn.filter(|_| {
            matches!(
                &**c,
                Change::Deleted { .. }
                    | Change::Entry { leaf: false, .. }
                    | Change::Attempted { .. }
            )
        }) {
            net.added.remove(dn);
            vacated.insert(dn);
        }
    }
    Some(net)
}

/// The DNs whose whole life `changes` hold: added through this directory (not listed
/// before), a leaf all along, and deleted again.
fn whole_lives<'c>(changes: &'c [Arc<Change>], listed: &dyn Fn(&Dn) -> bool) -> HashSet<&'c Dn> {
    // Per DN: (whether its life so far can be left out, whether its last change is a
    // delete).
    let mut life: HashMap<&Dn, (bool, bool)> = HashMap::new();
    for c in changes {
        let Some(dn) = c.dn() else { continue };
        let state = life.entry(dn).or_insert_with(|| {
            (
                matches!(
                    &**c,
                    Change::Written {
                        classes: Some(_),
                        ..
                    }
                ) && !listed(dn),
                false,
            )
        });
        // A write that may or may not have been made (an add refused because the entry
        // existed) leaves its life unknown.
        if matches!(
            &**c,
            Change::Entry { leaf: false, .. } | Change::Attempted { .. }
        ) {
            state.0 = false;
        }
        state.1 = matches!(&**c, Change::Deleted { .. });
    }
    life.into_iter()
        .filter(|(_, (whole, deleted))| *whole && *deleted)
        .map(|(dn, _)| dn)
        .collect()
}

/// `dn` is in the scope of `req`.
fn in_scope(dn: &Dn, req: &SearchRequest) -> bool {
    req.scope.includes(&req.base, dn)
}

/// An attribute description without its options (`cn;lang-en` → `cn`).
fn bare(attr: &str) -> &str {
    attr.split(';').next().unwrap_or(attr)
}

/// Whether a change to `changed` can change what a filter or sort key on `used` sees:
/// the same type, or `changed` is a subtype of `used` (a filter on `name` sees `cn`).
/// A type unknown to the schema may be anything: yes.
fn same_or_subtype(changed: &str, used: &str, schema: &Schema) -> bool {
    let (changed, used) = (bare(changed), bare(used));
    if changed.eq_ignore_ascii_case(used) {
        return true;
    }
    match (schema.attribute(changed), schema.attribute(used)) {
        (Some(_), Some(_)) => schema.is_subtype_of(changed, used),
        _ => true,
    }
}

/// `attr` holds DNs (or is unknown to the schema).
pub(crate) fn is_dn_valued(attr: &str, schema: &Schema) -> bool {
    let attr = bare(attr);
    if schema.attribute(attr).is_none() {
        return true;
    }
    schema
        .effective_syntax(attr)
        .is_some_and(|s| DN_SYNTAXES.contains(&s))
}

/// The filter or the sort keys use a DN-valued attribute (or one unknown to the schema),
/// or match on the DN itself.
fn mentions_dn_valued(req: &SearchRequest, schema: &Schema) -> bool {
    if has_dn_match(&req.filter) {
        return true;
    }
    filter_attributes(&req.filter)
        .into_iter()
        .chain(req.sort.iter().map(|k| k.attr.as_str()))
        .any(|a| is_dn_valued(a, schema))
}

/// The membership attributes slapd's memberof overlay keeps in step on both sides (or an
/// attribute unknown to the schema, which may be one).
pub(crate) fn is_membership(attr: &str, schema: &Schema) -> bool {
    ["member", "uniqueMember", "memberOf"]
        .iter()
        .any(|m| same_or_subtype(attr, m, schema))
}

/// `member` and `uniqueMember`.
const MEMBER_OIDS: [&str; 2] = ["2.5.4.31", "2.5.4.50"];

/// An entry of these object classes may hold `member` or `uniqueMember` values (a class
/// unknown to the schema may).
pub(crate) fn may_hold_members(classes: &[String], schema: &Schema) -> bool {
    classes.iter().any(|c| {
        schema.object_class(c).is_none()
            || schema
                .must(c)
                .into_iter()
                .chain(schema.may(c))
                .any(|a| MEMBER_OIDS.contains(&a.oid.as_str()))
    })
}

/// `req` reads `memberOf` (by name, or all operational attributes with `+`), or its filter
/// or sort keys use it (or an attribute unknown to the schema, which may be it).
fn uses_member_of(req: &SearchRequest, schema: &Schema) -> bool {
    let is_member_of = |a: &str| same_or_subtype("memberOf", a, schema);
    req.attributes
        .iter()
        .any(|a| a == "+" || (a != "*" && a != "1.1" && is_member_of(a)))
        || has_dn_match(&req.filter)
        || filter_attributes(&req.filter)
            .into_iter()
            .chain(req.sort.iter().map(|k| k.attr.as_str()))
            .any(is_member_of)
}

/// `req` reads DN-valued attributes: all user attributes (`*`, or none named), all
/// operational ones (`+`), or a DN-valued (or unknown) attribute by name; or its filter or
/// sort keys use one.
fn reads_dn_valued(req: &SearchRequest, schema: &Schema) -> bool {
    req.attributes.is_empty()
        || req
            .attributes
            .iter()
            .any(|a| a == "*" || a == "+" || (a != "1.1" && is_dn_valued(a, schema)))
        || mentions_dn_valued(req, schema)
}

/// An extensible match with `:dn` or without an attribute (it may match any attribute).
fn has_dn_match(f: &Filter) -> bool {
    match f {
        Filter::And(fs) | Filter::Or(fs) => fs.iter().any(has_dn_match),
        Filter::Not(f) => has_dn_match(f),
        Filter::Extensible {
            attr,
            dn_attributes,
            ..
        } => *dn_attributes || attr.is_none(),
        _ => false,
    }
}

/// The attributes a filter looks at (`objectClass` included). An extensible match without
/// an attribute is reported as `objectClass`-free; [`has_dn_match`] covers it.
fn filter_attributes(f: &Filter) -> Vec<&str> {
    fn walk<'a>(f: &'a Filter, out: &mut Vec<&'a str>) {
        match f {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().for_each(|f| walk(f, out)),
            Filter::Not(f) => walk(f, out),
            Filter::Equality { attr, .. }
            | Filter::Substrings { attr, .. }
            | Filter::GreaterOrEqual { attr, .. }
            | Filter::LessOrEqual { attr, .. }
            | Filter::Present { attr }
            | Filter::Approx { attr, .. } => out.push(attr),
            Filter::Extensible { attr, .. } => {
                if let Some(a) = attr {
                    out.push(a);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(f, &mut out);
    out
}

/// Whether an entry of these object classes can match `f`, knowing nothing else of it:
/// `objectClass` equality and presence are decided (superclasses included, as a server
/// matches them), everything else is [`Tri::Undefined`].
fn classes_match(f: &Filter, classes: &[String], schema: &Schema) -> Tri {
    match f {
        Filter::And(fs) => Tri::all(fs.iter().map(|f| classes_match(f, classes, schema))),
        Filter::Or(fs) => Tri::any(fs.iter().map(|f| classes_match(f, classes, schema))),
        Filter::Not(f) => classes_match(f, classes, schema).not(),
        Filter::Present { attr } if is_object_class(attr) => Tri::True,
        Filter::Equality { attr, value } if is_object_class(attr) => {
            let Ok(wanted) = std::str::from_utf8(value) else {
                return Tri::Undefined;
            };
            if schema.object_class(wanted).is_none() {
                return Tri::Undefined;
            }
            let mut out = Tri::False;
            for c in classes {
                if schema.object_class(c).is_none() {
                    out = Tri::Undefined;
                } else if schema.is_subclass_of(c, wanted) {
                    return Tri::True;
                }
            }
            out
        }
        _ => Tri::Undefined,
    }
}

fn is_object_class(attr: &str) -> bool {
    attr.eq_ignore_ascii_case("objectClass") || attr == "2.5.4.0"
}

/// The last [`LOG_CAPACITY`] changes of a directory, numbered from 1.
#[derive(Debug, Default)]
pub struct ChangeLog(Mutex<Log>);

#[derive(Debug, Default)]
struct Log {
    /// The number of the last change recorded.
    seq: u64,
    /// The last changes, the newest last (change `seq - len + 1` first).
    changes: VecDeque<Arc<Change>>,
}

impl ChangeLog {
    /// Records a change; returns its number.
    pub fn record(&self, change: Change) -> u64 {
        let mut log = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if log.changes.len() >= LOG_CAPACITY {
            log.changes.pop_front();
        }
        log.changes.push_back(Arc::new(change));
        log.seq += 1;
        log.seq
    }

    /// The number of the last change recorded (0: none yet).
    pub fn seq(&self) -> u64 {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).seq
    }

    /// The changes after number `after` up to number `upto`, oldest first; `None` if some
    /// of them are no longer kept (or `upto` is not recorded yet).
    pub fn between(&self, after: u64, upto: u64) -> Option<Vec<Arc<Change>>> {
        let log = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if upto < after || upto > log.seq {
            return None;
        }
        let first_kept = log.seq + 1 - log.changes.len() as u64;
        if after + 1 < first_kept {
            return None;
        }
        let skip = usize::try_from(after + 1 - first_kept).ok()?;
        let take = usize::try_from(upto - after).ok()?;
        Some(log.changes.iter().skip(skip).take(take).cloned().collect())
    }
}

/// A state of the directory (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Marker {
    epoch: String,
    seq: u64,
    log: Option<Arc<ChangeLog>>,
}

impl Marker {
    /// A marker without a log: any other value of `epoch` is another state, and nothing is
    /// known of what changed in between (an LDAP server's `contextCSN`).
    pub fn opaque(epoch: impl Into<String>) -> Marker {
        Marker {
            epoch: epoch.into(),
            seq: 0,
            log: None,
        }
    }

    /// The current state of `log` in `epoch`.
    pub fn logged(epoch: impl Into<String>, log: &Arc<ChangeLog>) -> Marker {
        Marker {
            epoch: epoch.into(),
            seq: log.seq(),
            log: Some(Arc::clone(log)),
        }
    }

    /// Whether the marker has a log of the changes of its epoch (else only its equality
    /// with another marker tells anything).
    pub fn is_logged(&self) -> bool {
        self.log.is_some()
    }

    /// The epoch: markers of different epochs cannot be compared by their changes.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The number of the last change of the epoch's log (0 without a log).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The changes between `earlier` and this marker, oldest first (none for the same
    /// state); `None` when they cannot be told (another epoch, no log, changes no longer
    /// logged, `earlier` is not earlier).
    pub fn changes_since(&self, earlier: &Marker) -> Option<Vec<Arc<Change>>> {
        if self.epoch != earlier.epoch {
            return None;
        }
        if self.seq == earlier.seq {
            return Some(Vec::new());
        }
        self.log.as_ref()?.between(earlier.seq, self.seq)
    }

    /// Whether anything changed between `earlier` and this marker that `affects` says may
    /// matter — `true` when that cannot be told (another epoch, no log, changes no longer
    /// logged, `earlier` is not earlier).
    pub fn changed_since(&self, earlier: &Marker, affects: impl Fn(&Change) -> bool) -> bool {
        match self.changes_since(earlier) {
            Some(changes) => changes.iter().any(|c| affects(c)),
            None => true,
        }
    }
}

/// The same state: the same epoch and change number.
impl PartialEq for Marker {
    fn eq(&self, other: &Marker) -> bool {
        self.epoch == other.epoch && self.seq == other.seq
    }
}

impl Eq for Marker {}

impl std::fmt::Display for Marker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.log.is_some() {
            write!(f, "{}:{}", self.epoch, self.seq)
        } else {
            f.write_str(&self.epoch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{Scope, SortKey};

    fn dn(s: &str) -> Dn {
        Dn::parse(s).unwrap()
    }

    fn people() -> SearchRequest {
        SearchRequest::new(
            dn("dc=example,dc=com"),
            Scope::Subtree,
            Filter::eq("objectClass", "inetOrgPerson"),
        )
        .sort([SortKey::asc("uid")])
    }

    fn entry(d: &str, classes: &[&str], leaf: bool) -> Change {
        Change::Entry {
            dn: dn(d),
            classes: classes.iter().map(|c| (*c).to_owned()).collect(),
            leaf,
            uuid: None,
        }
    }

    fn modified(d: &str, attrs: &[&str]) -> Change {
        Change::Written {
            dn: dn(d),
            classes: None,
            attributes: attrs.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    const JDOE: &str = "uid=jdoe,ou=people,dc=example,dc=com";

    fn affects(c: &Change, req: &SearchRequest) -> bool {
        let listed = |d: &Dn| d == &dn(JDOE);
        c.may_affect(req, &listed, &Schema::builtin())
    }

    /// A get of jdoe as the users service reads it, and a read of the same search's
    /// `cn` only.
    fn get_jdoe(attrs: &[&str]) -> SearchRequest {
        SearchRequest::new(
            dn("dc=example,dc=com"),
            Scope::Subtree,
            Filter::and([
                Filter::eq("objectClass", "inetOrgPerson"),
                Filter::eq("uid", "jdoe"),
            ]),
        )
        .attributes(attrs.iter().copied())
    }

    fn changes_entries(c: &Change, req: &SearchRequest) -> bool {
        let listed = |d: &Dn| d == &dn(JDOE);
        c.may_change_entries(req, &listed, &Schema::builtin())
    }

    #[test]
    fn what_changes_a_cached_read() {
        let full = get_jdoe(&["*", "memberOf"]);
        let cn = get_jdoe(&["cn"]);
        // Any write to the entry read, even of attributes no filter uses.
        let description = modified(JDOE, &["description"]);
        assert!(!affects(&description, &full));
        assert!(changes_entries(&description, &full));
        assert!(changes_entries(&description, &cn));
        // A login's session (a DN-valued attribute, but no membership) and audit event.
        let session = Change::Written {
            dn: dn("heraclesSessionId=1,ou=sessions,ou=heracles,dc=example,dc=com"),
            classes: Some(vec!["heraclesSession".into()]),
            attributes: vec!["heraclesSessionId".into(), "heraclesSubjectDN".into()],
        };
        assert!(!changes_entries(&session, &full));
        assert!(!changes_entries(
            &entry(
                "heraclesEventId=1,ou=audit,ou=heracles,dc=example,dc=com",
                &["heraclesAuditEvent"],
                true
            ),
            &full
        ));
        // A group's members written here: memberOf of others changes.
        let member = modified("cn=g,ou=groups,dc=example,dc=com", &["member"]);
        assert!(changes_entries(&member, &full));
        assert!(!changes_entries(&member, &cn));
        // A group notified: its members' memberOf may have changed, unnotified; a posix
        // group holds no member DNs.
        let group = entry("cn=g,ou=groups,dc=example,dc=com", &["groupOfNames"], true);
        assert!(changes_entries(&group, &full));
        assert!(!changes_entries(&group, &cn));
        let posix = entry("cn=p,ou=groups,dc=example,dc=com", &["posixGroup"], true);
        assert!(!changes_entries(&posix, &full));
        // Another user's entry: may now hold the same uid (a search is read again).
        let other = entry(
            "uid=x,ou=people,dc=example,dc=com",
            &["inetOrgPerson"],
            true,
        );
        assert!(changes_entries(&other, &cn));
        // Deletes: of the entry; with refint's cascade, of anything for DN-valued reads.
        let gone = Change::Deleted {
            dn: dn("uid=x,ou=people,dc=example,dc=com"),
            cascade: true,
        };
        assert!(changes_entries(&gone, &full));
        assert!(!changes_entries(&gone, &cn));
    }

    #[test]
    fn an_entry_added_and_deleted_since_leaves_the_list() {
        const NEW: &str = "uid=new,ou=people,dc=example,dc=com";
        let schema = Schema::builtin();
        let s = people();
        let listed = |d: &Dn| d == &dn(JDOE);
        let removed = |changes: Vec<Change>| {
            let changes: Vec<Arc<Change>> = changes.into_iter().map(Arc::new).collect();
            net_changes(&changes, &s, &listed, &BTreeSet::new(), None, &schema)
                .filter(|n| n.reread.is_empty())
                .map(|n| n.removed)
        };
        let add = Change::Written {
            dn: dn(NEW),
            classes: Some(vec!["inetOrgPerson".into()]),
            attributes: vec!["objectClass".into(), "uid".into(), "cn".into()],
        };
        let del = |d: &str| Change::Deleted {
            dn: dn(d),
            cascade: true,
        };
        let notified = entry(NEW, &["inetOrgPerson"], true);
        // Added here, notified, deleted here, notified: nothing to do.
        assert_eq!(
            removed(vec![add.clone(), notified.clone(), del(NEW), del(NEW)]),
            Some(HashSet::new())
        );
        // With a listed entry deleted meanwhile: that one only.
        assert_eq!(
            removed(vec![add.clone(), del(JDOE), del(NEW)]),
            Some(HashSet::from([dn(JDOE)]))
        );
        // A branch, or a list that sees DN-valued attributes: scan.
        let changes: Vec<Arc<Change>> =
            [add.clone(), entry(NEW, &["inetOrgPerson"], false), del(NEW)]
                .into_iter()
                .map(Arc::new)
                .collect();
        assert_eq!(
            net_changes(&changes, &s, &listed, &BTreeSet::new(), None, &schema),
            None
        );
        let by_group = SearchRequest::new(
            dn("dc=example,dc=com"),
            Scope::Subtree,
            Filter::present("memberOf"),
        );
        let changes: Vec<Arc<Change>> = vec![Arc::new(add), Arc::new(del(NEW))];
        assert_eq!(
            net_changes(
                &changes,
                &by_group,
                &listed,
                &BTreeSet::new(),
                None,
                &schema
            ),
            None
        );
    }

    #[test]
    fn entries_added_or_changed_here_are_read_again_others_scanned() {
        const NEW: &str = "uid=new,ou=people,dc=example,dc=com";
        const OTHER: &str = "uid=other,ou=people,dc=example,dc=com";
        let schema = Schema::builtin();
        let s = people();
        let listed = |d: &Dn| d == &dn(JDOE);
        let net = |changes: &[Change], added: &BTreeSet<Dn>| {
            let changes: Vec<Arc<Change>> = changes.iter().cloned().map(Arc::new).collect();
            net_changes(&changes, &s, &listed, added, None, &schema)
        };
        let reread = |changes: &[Change]| {
            net(changes, &BTreeSet::new()).map(|n| n.reread.into_iter().collect::<Vec<_>>())
        };
        let add = |d: &str| Change::Written {
            dn: dn(d),
            classes: Some(vec!["inetOrgPerson".into()]),
            attributes: vec!["objectClass".into(), "uid".into(), "cn".into()],
        };
        let notified = |d: &str| entry(d, &["inetOrgPerson"], true);
        let del = |d: &str| Change::Deleted {
            dn: dn(d),
            cascade: true,
        };
        // Added here and kept (logged before it is sent and once done), then its
        // notification: read once again.
        assert_eq!(
            reread(&[add(NEW), add(NEW), notified(NEW)]),
            Some(vec![dn(NEW)])
        );
        let first = net(&[add(NEW)], &BTreeSet::new()).unwrap();
        assert_eq!(first.added, BTreeSet::from([dn(NEW)]));
        // Its notification after the list followed the add: still that entry.
        assert_eq!(
            net(&[notified(NEW)], &first.added).map(|n| n.reread.len()),
            Some(1)
        );
        // A listed entry modified here, or notified: read again.
        assert_eq!(reread(&[modified(JDOE, &["uid"])]), Some(vec![dn(JDOE)]));
        assert_eq!(reread(&[notified(JDOE)]), Some(vec![dn(JDOE)]));
        // A notification for a DN neither listed nor added here may be the new DN of a
        // listed entry renamed by another client; so may one for a DN deleted since, or
        // a modification here of a DN not listed; a write that may or may not have been
        // made, and a change not known, say too little: scan.
        assert_eq!(reread(&[notified(OTHER)]), None);
        assert_eq!(reread(&[del(JDOE), notified(JDOE)]), None);
        assert_eq!(reread(&[add(NEW), del(NEW), notified(NEW)]), None);
        assert_eq!(reread(&[modified(OTHER, &["objectClass"])]), None);
        assert_eq!(reread(&[add(NEW), Change::Attempted { dn: dn(NEW) }]), None);
        assert_eq!(reread(&[Change::Unknown]), None);
        // With every listed entry's entryUUID known, a notification that carries one is
        // settled: a listed entry renamed by another client (its old DN taken out), or a
        // new entry.
        let uuid_of = |u: &str| (u == "jdoe-uuid").then(|| dn(JDOE));
        let with_uuid = |d: &str, uuid: &str| Change::Entry {
            dn: dn(d),
            classes: vec!["inetOrgPerson".into()],
            leaf: true,
            uuid: Some(uuid.into()),
        };
        let by_uuid = |changes: &[Change]| {
            let changes: Vec<Arc<Change>> = changes.iter().cloned().map(Arc::new).collect();
            net_changes(
                &changes,
                &s,
                &listed,
                &BTreeSet::new(),
                Some(&uuid_of),
                &schema,
            )
            .map(|n| (n.removed, n.reread.into_iter().collect::<Vec<_>>()))
        };
        assert_eq!(
            by_uuid(&[with_uuid(OTHER, "jdoe-uuid")]),
            Some((HashSet::from([dn(JDOE)]), vec![dn(OTHER)]))
        );
        assert_eq!(
            by_uuid(&[with_uuid(OTHER, "new-uuid")]),
            Some((HashSet::new(), vec![dn(OTHER)]))
        );
        assert_eq!(
            by_uuid(&[with_uuid(JDOE, "jdoe-uuid")]),
            Some((HashSet::new(), vec![dn(JDOE)]))
        );
        // Renamed twice: the first new DN is read again too (and found empty).
        assert_eq!(
            by_uuid(&[with_uuid(NEW, "jdoe-uuid"), with_uuid(OTHER, "jdoe-uuid")]),
            Some((HashSet::from([dn(JDOE)]), vec![dn(NEW), dn(OTHER)]))
        );
        // Without them, or a branch: scan.
        assert_eq!(reread(&[with_uuid(OTHER, "jdoe-uuid")]), None);
        let branch = Change::Entry {
            dn: dn(OTHER),
            classes: vec!["inetOrgPerson".into()],
            leaf: false,
            uuid: Some("jdoe-uuid".into()),
        };
        assert_eq!(by_uuid(&[branch]), None);
        // A deleted entry is forgotten as added.
        let gone = net(&[del(NEW)], &first.added).unwrap();
        assert!(gone.added.is_empty() && gone.is_empty());
        // Logins (a session, an audit event) do not count as added.
        let session = Change::Written {
            dn: dn("heraclesSessionId=1,ou=sessions,ou=heracles,dc=example,dc=com"),
            classes: Some(vec!["heraclesSession".into()]),
            attributes: vec!["heraclesSessionId".into()],
        };
        let n = net(&[session], &BTreeSet::new()).unwrap();
        assert!(n.is_empty() && n.added.is_empty());
    }

    #[test]
    fn a_list_filtered_on_member_of_sees_notified_groups() {
        let by_group = SearchRequest::new(
            dn("dc=example,dc=com"),
            Scope::Subtree,
            Filter::and([
                Filter::eq("objectClass", "inetOrgPerson"),
                Filter::eq("memberOf", "cn=g,ou=groups,dc=example,dc=com"),
            ]),
        );
        let group = entry("cn=g,ou=groups,dc=example,dc=com", &["groupOfNames"], true);
        assert!(affects(&group, &by_group));
        assert!(!affects(&group, &people()));
    }

    #[test]
    fn entries_of_other_classes_do_not_affect_a_list() {
        let s = people();
        assert!(!affects(
            &entry(
                "cn=s1,ou=sessions,ou=heracles,dc=example,dc=com",
                &["top", "device"],
                true
            ),
            &s
        ));
        // A subclass matches (as on a server), a superclass alone does not.
        assert!(affects(
            &entry("uid=b,dc=example,dc=com", &["inetOrgPerson"], true),
            &s
        ));
        assert!(!affects(
            &entry("cn=b,dc=example,dc=com", &["person"], true),
            &s
        ));
        let persons = SearchRequest::new(
            dn("dc=example,dc=com"),
            Scope::Subtree,
            Filter::eq("objectClass", "person"),
        );
        assert!(affects(
            &entry("uid=b,dc=example,dc=com", &["inetOrgPerson"], true),
            &persons
        ));
        // Unknown classes may match.
        assert!(affects(
            &entry("cn=b,dc=example,dc=com", &["noSuchClass"], true),
            &s
        ));
        // Outside the base, still: a listed entry renamed away is notified under its new DN.
        assert!(affects(
            &entry("uid=b,dc=other", &["inetOrgPerson"], true),
            &s
        ));
        // An entry added through this directory outside the base: no.
        let added = Change::Written {
            dn: dn("uid=b,dc=other"),
            classes: Some(vec!["inetOrgPerson".into()]),
            attributes: vec!["objectClass".into(), "uid".into()],
        };
        assert!(!affects(&added, &s));
    }

    #[test]
    fn listed_entries_and_branches_always_affect() {
        let s = people();
        // A listed entry notified (its attributes unknown).
        assert!(affects(&entry(JDOE, &["device"], true), &s));
        // A branch: its subtree may have moved (a rename), whatever its class.
        assert!(affects(
            &entry("ou=x,dc=other", &["organizationalUnit"], false),
            &s
        ));
        assert!(affects(&Change::Unknown, &s));
    }

    #[test]
    fn deletes_affect_only_listed_entries_unless_they_cascade() {
        let s = people();
        let other = "cn=s1,ou=sessions,ou=heracles,dc=example,dc=com";
        assert!(affects(
            &Change::Deleted {
                dn: dn(JDOE),
                cascade: false
            },
            &s
        ));
        assert!(!affects(
            &Change::Deleted {
                dn: dn(other),
                cascade: false
            },
            &s
        ));
        assert!(!affects(
            &Change::Deleted {
                dn: dn(other),
                cascade: true
            },
            &s
        ));
        let by_group = SearchRequest::new(
            dn("dc=example,dc=com"),
            Scope::Subtree,
            Filter::and([
                Filter::eq("objectClass", "inetOrgPerson"),
                Filter::eq("memberOf", "cn=g,dc=example,dc=com"),
            ]),
        );
        assert!(affects(
            &Change::Deleted {
                dn: dn(other),
                cascade: true
            },
            &by_group
        ));
    }

    #[test]
    fn deletes_of_listed_entries_only_remove_them() {
        let s = people();
        let schema = Schema::builtin();
        let listed = |d: &Dn| d == &dn(JDOE);
        let deleted = |cascade| Change::Deleted {
            dn: dn(JDOE),
            cascade,
        };
        assert_eq!(
            deleted(false).removed_from(&s, &listed, &schema),
            Some(&dn(JDOE))
        );
        // Through this directory: the server's overlays may change others' memberOf.
        assert_eq!(
            deleted(true).removed_from(&s, &listed, &schema),
            Some(&dn(JDOE))
        );
        let by_group = SearchRequest::new(
            dn("dc=example,dc=com"),
            Scope::Subtree,
            Filter::eq("memberOf", "cn=g,dc=example,dc=com"),
        );
        assert_eq!(
            deleted(true).removed_from(&by_group, &listed, &schema),
            None
        );
        assert_eq!(
            deleted(false).removed_from(&by_group, &listed, &schema),
            Some(&dn(JDOE))
        );
        // Anything else is not a mere removal.
        assert_eq!(
            entry(JDOE, &["inetOrgPerson"], true).removed_from(&s, &listed, &schema),
            None
        );
        assert_eq!(Change::Unknown.removed_from(&s, &listed, &schema), None);
        let other = Change::Deleted {
            dn: dn("uid=x,dc=example,dc=com"),
            cascade: false,
        };
        assert_eq!(other.removed_from(&s, &listed, &schema), None);
    }

    #[test]
    fn modifications_through_this_directory() {
        let s = people();
        // A listed entry: only the filter's and sort keys' attributes matter.
        assert!(!affects(
            &modified(JDOE, &["description", "userPassword"]),
            &s
        ));
        assert!(affects(&modified(JDOE, &["uid"]), &s));
        assert!(affects(&modified(JDOE, &["objectClass"]), &s));
        // Another entry: only the filter's attributes.
        let other = "cn=g,ou=groups,dc=example,dc=com";
        assert!(!affects(&modified(other, &["description"]), &s));
        assert!(affects(&modified(other, &["objectClass"]), &s));
        // Subtypes: a filter on `name` sees `cn`.
        let named = SearchRequest::new(
            dn("dc=example,dc=com"),
            Scope::Subtree,
            Filter::eq("name", "x"),
        );
        assert!(affects(&modified(other, &["cn"]), &named));
        // Members change memberOf elsewhere.
        let by_group = SearchRequest::new(
            dn("dc=example,dc=com"),
            Scope::Subtree,
            Filter::eq("memberOf", "cn=g,dc=example,dc=com"),
        );
        assert!(affects(&modified(other, &["member"]), &by_group));
        assert!(!affects(&modified(other, &["member"]), &s));
        // Attributes unknown to the schema count.
        assert!(affects(&modified(other, &["noSuchAttribute"]), &s));
    }

    #[test]
    fn scopes() {
        let one = SearchRequest::new(
            dn("ou=people,dc=example,dc=com"),
            Scope::One,
            Filter::present("objectClass"),
        );
        let added = |d: &str| Change::Written {
            dn: dn(d),
            classes: Some(vec!["device".into()]),
            attributes: vec!["objectClass".into(), "cn".into()],
        };
        assert!(affects(&added("cn=b,ou=people,dc=example,dc=com"), &one));
        assert!(!affects(
            &added("cn=b,ou=x,ou=people,dc=example,dc=com"),
            &one
        ));
        assert!(!affects(&added("ou=people,dc=example,dc=com"), &one));
        let base = SearchRequest {
            scope: Scope::Base,
            ..one.clone()
        };
        assert!(affects(&added("ou=people,dc=example,dc=com"), &base));
        assert!(!affects(&added("cn=b,ou=people,dc=example,dc=com"), &base));
        // A notification: it may be a rename from anywhere.
        assert!(affects(
            &entry("cn=b,ou=x,ou=people,dc=example,dc=com", &["device"], true),
            &one
        ));
    }

    #[test]
    fn the_log_forgets_and_markers_say_so() {
        let log = Arc::new(ChangeLog::default());
        let start = Marker::logged("e", &log);
        assert!(!Marker::logged("e", &log).changed_since(&start, |_| true));
        log.record(Change::Unknown);
        let one = Marker::logged("e", &log);
        assert!(one.changed_since(&start, |_| true));
        assert!(!one.changed_since(&start, |_| false));
        assert!(Marker::logged("f", &log).changed_since(&one, |_| false));
        assert!(Marker::opaque("e").changed_since(&Marker::opaque("d"), |_| false));
        assert!(!Marker::opaque("e").changed_since(&Marker::opaque("e"), |_| true));
        for _ in 0..LOG_CAPACITY {
            log.record(Change::Unknown);
        }
        // The change after `start` is no longer kept: changed, whatever `affects` says.
        assert!(Marker::logged("e", &log).changed_since(&start, |_| false));
        // The changes after `one` are all kept.
        assert!(!Marker::logged("e", &log).changed_since(&one, |_| false));
        assert_eq!(log.between(3, 2), None);
        assert_eq!(Marker::logged("e", &log).changes_since(&start), None);
        assert_eq!(
            Marker::logged("e", &log)
                .changes_since(&one)
                .map(|c| c.len()),
            Some(LOG_CAPACITY)
        );
        assert_eq!(one.changes_since(&one).map(|c| c.len()), Some(0));
        assert_eq!(
            Marker::opaque("e")
                .changes_since(&Marker::opaque("e"))
                .map(|c| c.len()),
            Some(0)
        );
        assert_eq!(
            Marker::opaque("f").changes_since(&Marker::opaque("e")),
            None
        );
        assert_eq!(log.between(1, 3).map(|c| c.len()), Some(2));
    }
}
