//! Filter evaluation against an entry, with LDAP's three-valued logic (RFC 4511 §4.5.1.7):
//! a filter item on an attribute the schema does not know, or with a rule the attribute
//! does not have (a substring filter on `loginShell`, `>=` on `uid`), or with an assertion
//! value invalid for the rule (`(uidNumber>=abc)`) is *undefined*; `!` of undefined is still
//! undefined, and only *true* selects an entry — exactly as slapd.

use std::cell::RefCell;
use std::cmp::Ordering;

use super::rules::Rules;
use super::store::{Id, Ids, ReadTables};
use crate::directory::tri::Tri;
use crate::directory::Entry;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::schema::{MatchingRule, PreparedSubstrings, SubstringFilter};

/// Whether `entry` matches `filter` (one entry; a search prepares a [`Matcher`] once).
pub(super) fn matches(rules: &Rules, filter: &Filter, entry: &Entry) -> bool {
    Matcher::new(rules, filter).matches(entry)
}

/// A filter prepared for evaluation against many entries: each item's attribute resolved
/// once to the key entries store it under, its rule found and its assertion normalised
/// once, so evaluating an entry costs only the comparisons. With the directory's state, it
/// also plans the search ([`Matcher::plan`]) and answers equality items on attributes with
/// many values from the index.
#[derive(Debug)]
pub(super) struct Matcher<'a> {
    rules: &'a Rules,
    root: Node<'a>,
    state: Option<&'a ReadTables>,
    /// The first storage failure while answering an item from the index (the search
    /// reports it: see [`Matcher::failure`]).
    failed: RefCell<Option<Error>>,
}

#[derive(Debug)]
enum Node<'a> {
    And(Vec<Node<'a>>),
    Or(Vec<Node<'a>>),
    Not(Box<Node<'a>>),
    /// Undefined whatever the entry: an unknown attribute, a rule the attribute lacks, an
    /// assertion invalid for the rule.
    Undefined,
    Present {
        key: String,
    },
    Equality {
        key: String,
        /// Whether `key` has an equality index.
        indexed: bool,
        rule: MatchingRule,
        raw: &'a [u8],
        assertion: Vec<u8>,
    },
    Approx {
        key: String,
        rule: MatchingRule,
        value: &'a [u8],
    },
    Ordering {
        key: String,
        rule: MatchingRule,
        assertion: Vec<u8>,
        want_ge: bool,
    },
    Substrings {
        key: String,
        /// Whether the index keys of `key` can be matched against `prepared` directly.
        indexed: bool,
        prepared: PreparedSubstrings,
    },
    /// Rare enough to be evaluated from the filter itself.
    Extensible(&'a Filter),
}

/// Values an entry may hold for one attribute before an equality item is answered from the
/// index (a logarithmic lookup) rather than by comparing them (a group's `member`s).
const FEW_VALUES: usize = 4;

/// Candidates few enough that evaluating the filter on each costs less than building
/// another candidate list (a union, a scan of index keys) to narrow them further.
const FEW_CANDIDATES: usize = 32;

impl<'a> Matcher<'a> {
    pub(super) fn new(rules: &'a Rules, filter: &'a Filter) -> Self {
        Matcher {
            rules,
            root: prepare(rules, filter),
            state: None,
            failed: RefCell::new(None),
        }
    }

    /// A matcher for entries of `state`, using its indexes.
    pub(super) fn with_index(rules: &'a Rules, filter: &'a Filter, state: &'a ReadTables) -> Self {
        Matcher {
            state: Some(state),
            ..Matcher::new(rules, filter)
        }
    }

    /// Whether `entry` matches (only *true* selects, as in slapd).
    pub(super) fn matches(&self, entry: &Entry) -> bool {
        self.eval(&self.root, entry, None) == Tri::True
    }

    /// Whether `entry`, stored in the matcher's state under `id`, matches.
    pub(super) fn matches_id(&self, entry: &Entry, id: Id) -> bool {
        self.eval(&self.root, entry, Some(id)) == Tri::True
    }

    /// Candidate ids from the equality indexes, if the filter allows it: a superset of the
    /// entries the filter can match, in increasing id order; `None` without a state.
    ///
    /// An equality item borrows its index set, so sizing it costs nothing; for an `And`,
    /// the smallest candidate set of its items wins (`(&(objectClass=inetOrgPerson)(uid=x))`
    /// costs what `uid=x` costs, not a copy of the class's ids). Items that must build a
    /// list (a union for `Or`, a scan of index keys for substrings) are planned only when
    /// the lookups left more than [`FEW_CANDIDATES`] candidates. An item that is undefined
    /// for every entry selects none.
    pub(super) fn plan(&self) -> Result<Option<Ids<'a>>> {
        match self.state {
            Some(st) => plan(st, &self.root),
            None => Ok(None),
        }
    }

    /// A storage failure met while evaluating (an entry it hit counted as not matching):
    /// the search fails with it rather than answer from part of the data.
    pub(super) fn failure(&self) -> Option<Error> {
        self.failed.borrow_mut().take()
    }
    fn eval(&self, node: &Node<'_>, e: &Entry, id: Option<Id>) -> Tri {
        match node {
            Node::And(items) => Tri::all(items.iter().map(|f| self.eval(f, e, id))),
            Node::Or(items) => Tri::any(items.iter().map(|f| self.eval(f, e, id))),
            Node::Not(f) => self.eval(f, e, id).not(),
            Node::Undefined => Tri::Undefined,
            Node::Present { key } => (!values(e, key).is_empty()).into(),
            Node::Equality {
                key,
                indexed,
                rule,
                raw,
                assertion,
            } => {
                let stored = values(e, key);
                // The index holds the id under `assertion` exactly when some value
                // normalises to it (normal forms are normal forms of themselves).
                if let (true, Some(st), Some(id)) = (*indexed, self.state, id) {
                    if stored.len() > FEW_VALUES {
                        return match st.holds(key, assertion, id) {
                            Ok(held) => held.into(),
                            Err(e) => {
                                self.failed.borrow_mut().get_or_insert(e);
                                Tri::Undefined
                            }
                        };
                    }
                }
                // A value identical to the assertion matches under any equality rule: found
                // without normalising every value (a group's thousands of `member` DNs).
                if stored.iter().any(|v| v.as_slice() == *raw) {
                    return Tri::True;
                }
                let schema = self.rules.schema();
                any(stored, |v| {
                    schema
                        .normalize_with(*rule, v)
                        .ok()
                        .map(|n| n == *assertion)
                })
            }
            Node::Approx { key, rule, value } => {
                any(values(e, key), |v| rule.approx_match(v, value))
            }
            Node::Ordering {
                key,
                rule,
                assertion,
                want_ge,
            } => any(values(e, key), |v| {
                let norm = rule.normalize(v).ok()?;
                let ord = rule.compare_normalized(&norm, assertion)?;
                Some(if *want_ge {
                    ord != Ordering::Less
                } else {
                    ord != Ordering::Greater
                })
            }),
            Node::Substrings { key, prepared, .. } => any(values(e, key), |v| prepared.matches(v)),
            Node::Extensible(f) => match f {
                Filter::Extensible {
                    attr,
                    rule,
                    dn_attributes,
                    value,
                } => extensible(
                    self.rules,
                    e,
                    attr.as_deref(),
                    rule.as_deref(),
                    *dn_attributes,
                    value,
                ),
                _ => Tri::Undefined,
            },
        }
    }
}

/// The values of the attribute stored under `key` (see [`Rules::canonical`]): entries
/// carry the schema's names (`ops::add` stores every attribute under
/// [`Rules::display_name`], so aliases such as `commonName` are merged into `cn`), which
/// makes the canonical name of a filter's attribute the entry's own key for it.
fn values<'e>(e: &'e Entry, key: &str) -> &'e [Vec<u8>] {
    e.attrs.get(key).unwrap_or_default()
}

/// True if some value matches; values invalid for the rule (never stored, since adds check
/// syntax) simply do not match.
fn any(vals: &[Vec<u8>], mut f: impl FnMut(&[u8]) -> Option<bool>) -> Tri {
    vals.iter().any(|v| f(v) == Some(true)).into()
}

/// The prepared form of `filter`: everything that does not depend on the entry, done once.
fn prepare<'a>(rules: &Rules, filter: &'a Filter) -> Node<'a> {
    match filter {
        Filter::And(items) => Node::And(items.iter().map(|f| prepare(rules, f)).collect()),
        Filter::Or(items) => Node::Or(items.iter().map(|f| prepare(rules, f)).collect()),
        Filter::Not(f) => Node::Not(Box::new(prepare(rules, f))),
        Filter::Present { attr } => {
            if !rules.is_known(attr) {
                return Node::Undefined;
            }
            Node::Present {
                key: rules.canonical(attr),
            }
        }
        Filter::Equality { attr, value } => {
            let Some(rule) = rules.equality(attr) else {
                return Node::Undefined;
            };
            let Ok(assertion) = rules.normalize(attr, value) else {
                return Node::Undefined;
            };
            let key = rules.canonical(attr);
            Node::Equality {
                indexed: super::store::is_indexed(&key),
                key,
                rule,
                raw: value,
                assertion,
            }
        }
        Filter::Approx { attr, value } => {
            let Some(rule) = rules.equality(attr) else {
                return Node::Undefined;
            };
            if rule.normalize(value).is_err() {
                return Node::Undefined;
            }
            Node::Approx {
                key: rules.canonical(attr),
                rule,
                value,
            }
        }
        Filter::GreaterOrEqual { attr, value } => prepare_ordering(rules, attr, value, true),
        Filter::LessOrEqual { attr, value } => prepare_ordering(rules, attr, value, false),
        Filter::Substrings {
            attr,
            initial,
            any: parts,
            final_,
        } => {
            let Some(rule) = rules.substr(attr) else {
                return Node::Undefined;
            };
            let assertion = SubstringFilter {
                initial: initial.as_deref(),
                any: parts.iter().map(Vec::as_slice).collect(),
                final_: final_.as_deref(),
            };
            let Ok(prepared) = rule.prepare_substrings(&assertion) else {
                return Node::Undefined;
            };
            let key = rules.canonical(attr);
            // Index keys are normalised by the equality rule; they can be matched directly
            // where the substring rule normalises the same way.
            let indexed = super::store::is_indexed(&key)
                && rules
                    .equality(attr)
                    .is_some_and(|eq| same_normal_form(eq, rule));
            Node::Substrings {
                key,
                indexed,
                prepared,
            }
        }
        Filter::Extensible { .. } => Node::Extensible(filter),
    }
}

/// See [`Matcher::plan`].
fn plan<'s>(st: &'s ReadTables, node: &Node<'_>) -> Result<Option<Ids<'s>>> {
    Ok(match node {
        Node::Undefined => Some(Ids::none()),
        Node::Equality {
            key,
            indexed: true,
            assertion,
            ..
        } => st.lookup(key, assertion)?,
        Node::Substrings {
            key,
            indexed: true,
            prepared,
        } => st.scan_keys(key, |k| prepared.matches_normalized(k))?,
        Node::And(items) => {
            let mut best: Option<Ids<'s>> = None;
            let is_lookup = |n: &&Node<'_>| matches!(n, Node::Equality { .. } | Node::Undefined);
            for lookups in [true, false] {
                if !lookups && best.as_ref().is_some_and(|b| b.len() <= FEW_CANDIDATES) {
                    break;
                }
                for item in items.iter().filter(|n| is_lookup(n) == lookups) {
                    if let Some(ids) = plan(st, item)? {
                        if best.as_ref().is_none_or(|b| ids.len() < b.len()) {
                            best = Some(ids);
                        }
                    }
                }
            }
            best
        }
        Node::Or(items) if !items.is_empty() => {
            let mut all = Vec::new();
            for item in items {
                match plan(st, item)? {
                    Some(ids) => all.extend(ids.collect()?),
                    None => return Ok(None),
                }
            }
            all.sort_unstable();
            all.dedup();
            Some(Ids::List(all))
        }
        _ => None,
    })
}

/// Whether values normalised by `eq` are in the form `sub` matches substrings against.
fn same_normal_form(eq: MatchingRule, sub: MatchingRule) -> bool {
    use MatchingRule as M;
    matches!(
        (eq, sub),
        (M::CaseIgnoreMatch, M::CaseIgnoreSubstringsMatch)
            | (M::CaseExactMatch, M::CaseExactSubstringsMatch)
            | (M::CaseIgnoreIA5Match, M::CaseIgnoreIA5SubstringsMatch)
            | (M::CaseExactIA5Match, M::CaseExactIA5SubstringsMatch)
    )
}

fn prepare_ordering<'a>(rules: &Rules, attr: &str, value: &[u8], want_ge: bool) -> Node<'a> {
    let Some(rule) = rules.ordering(attr) else {
        return Node::Undefined;
    };
    let Ok(assertion) = rule.normalize(value) else {
        return Node::Undefined;
    };
    Node::Ordering {
        key: rules.canonical(attr),
        rule,
        assertion,
        want_ge,
    }
}

fn equality(rule: MatchingRule, vals: &[Vec<u8>], assertion: &[u8]) -> Tri {
    let Ok(a) = rule.normalize(assertion) else {
        return Tri::Undefined;
    };
    any(vals, |v| rule.normalize(v).ok().map(|n| n == a))
}

fn extensible(
    rules: &Rules,
    e: &Entry,
    attr: Option<&str>,
    rule: Option<&str>,
    dn_attributes: bool,
    value: &[u8],
) -> Tri {
    let explicit = match rule {
        Some(name) => match MatchingRule::from_name(name) {
            Some(r) => Some(r),
            None => return Tri::Undefined,
        },
        None => None,
    };
    // Pairs of (attribute, values) the assertion applies to.
    let mut candidates: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    match attr {
        Some(a) => {
            candidates.push((a.to_owned(), values(e, &rules.canonical(a)).to_vec()));
        }
        None => {
            for a in e.attrs.iter() {
                candidates.push((a.name().to_owned(), a.values().to_vec()));
            }
        }
    }
    if dn_attributes {
        for rdn in e.dn.rdns() {
            for ava in rdn.avas() {
                if attr.is_none_or(|a| rules.canonical(a) == rules.canonical(ava.attr())) {
                    candidates.push((ava.attr().to_owned(), vec![ava.value().as_bytes().to_vec()]));
                }
            }
        }
    }
    let mut out = Tri::False;
    for (name, vals) in &candidates {
        let Some(r) = explicit.or_else(|| rules.equality(name)) else {
            if attr.is_some() {
                out = Tri::Undefined;
            }
            continue;
        };
        match equality(r, vals, value) {
            Tri::True => return Tri::True,
            Tri::Undefined if attr.is_some() => out = Tri::Undefined,
            _ => {}
        }
    }
    out
}
