//! Sorting search results, identically on every backend (RFC 2891 semantics).
//!
//! Each key compares values with the attribute's ORDERING rule; where the attribute has
//! none (`uid`, `cn` in the stock schema), with the ordering rule that belongs to its
//! EQUALITY rule (`caseIgnoreMatch` → `caseIgnoreOrderingMatch`), as a server-side sort
//! request naming that rule would (pitfall 10 of the environment notes). As slapd's sssvlv
//! overlay does: a multi-valued attribute sorts by its smallest value; an entry without the
//! attribute sorts after every value; a descending key reverses that whole order (so those
//! entries come first). Ties are broken by the DN's normalised form, so the order is total
//! (slapd breaks them its own way: lists end their keys with the RDN attribute, which
//! leaves no ties in practice).
//!
//! ```
//! use heracles_core::directory::SortKey;
//!
//! let key: SortKey = "-uidNumber".parse()?;
//! assert!(key.descending);
//! assert_eq!(key.attr, "uidNumber");
//! # Ok::<(), heracles_core::Error>(())
//! ```

use std::cmp::Ordering;
use std::str::FromStr;

use super::{check_attribute_name, Entry};
use crate::error::{Error, Result};
use crate::schema::{MatchingRule, Schema};

/// One sort key: an attribute, ascending unless `descending`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SortKey {
    /// Attribute to sort by.
    pub attr: String,
    /// Largest first.
    pub descending: bool,
}

impl SortKey {
    /// Ascending by `attr`.
    pub fn asc(attr: &str) -> Self {
        SortKey {
            attr: attr.to_owned(),
            descending: false,
        }
    }

    /// Descending by `attr`.
    pub fn desc(attr: &str) -> Self {
        SortKey {
            attr: attr.to_owned(),
            descending: true,
        }
    }
}

impl FromStr for SortKey {
    type Err = Error;

    /// `cn` (ascending) or `-uidNumber` (descending), as in the API's `?sort=`.
    fn from_str(s: &str) -> Result<Self> {
        let (attr, descending) = match s.strip_prefix('-') {
            Some(rest) => (rest, true),
            None => (s.strip_prefix('+').unwrap_or(s), false),
        };
        check_attribute_name(attr)?;
        Ok(SortKey {
            attr: attr.to_owned(),
            descending,
        })
    }
}

/// The ordering rule used for `attr`.
pub(crate) fn ordering_rule(schema: &Schema, attr: &str) -> MatchingRule {
    if let Some(r) = schema.effective_ordering(attr) {
        return r;
    }
    match schema.effective_equality(attr) {
        Some(MatchingRule::CaseExactMatch | MatchingRule::CaseExactIA5Match) => {
            MatchingRule::CaseExactOrderingMatch
        }
        Some(MatchingRule::IntegerMatch) => MatchingRule::IntegerOrderingMatch,
        Some(MatchingRule::NumericStringMatch) => MatchingRule::NumericStringOrderingMatch,
        Some(MatchingRule::GeneralizedTimeMatch) => MatchingRule::GeneralizedTimeOrderingMatch,
        Some(MatchingRule::OctetStringMatch) => MatchingRule::OctetStringOrderingMatch,
        _ => MatchingRule::CaseIgnoreOrderingMatch,
    }
}

/// Removes the sort keys a search fetched only to sort by, when `requested` (not empty) did
/// not ask for them.
pub(crate) fn strip_unrequested(found: &mut [Entry], requested: &[String], keys: &[SortKey]) {
    let asked = |a: &str| {
        requested
            .iter()
            .any(|r| r.eq_ignore_ascii_case(a) || r == "*")
    };
    for e in found {
        for k in keys {
            if !asked(&k.attr) {
                e.attrs.remove(&k.attr);
            }
        }
    }
}

/// The order of a sorted search: each key's ordering rule, applied to entries' normalised
/// sort values ([`Order::values`]). Ties are left to the caller, which breaks them by the
/// normalised DN as [`sort_entries`] does.
#[derive(Debug)]
pub(crate) struct Order<'k> {
    keys: &'k [SortKey],
    rules: Vec<MatchingRule>,
}

impl<'k> Order<'k> {
    pub(crate) fn new(schema: &Schema, keys: &'k [SortKey]) -> Self {
        Order {
            keys,
            rules: keys
                .iter()
                .map(|k| ordering_rule(schema, &k.attr))
                .collect(),
        }
    }

    /// `e`'s normalised sort value per key: its smallest value, `None` without one.
    pub(crate) fn values(&self, e: &Entry) -> Vec<Option<Vec<u8>>> {
        self.keys
            .iter()
            .zip(&self.rules)
            .map(|(k, rule)| {
                e.get(&k.attr)
                    .iter()
                    .filter_map(|v| rule.normalize(v).ok())
                    .min_by(|a, b| rule.compare_normalized(a, b).unwrap_or_else(|| a.cmp(b)))
            })
            .collect()
    }

    /// Compares two entries' sort values (from [`Order::values`]).
    pub(crate) fn compare<A: AsRef<[u8]>, B: AsRef<[u8]>>(
        &self,
        a: &[Option<A>],
        b: &[Option<B>],
    ) -> Ordering {
        for ((k, rule), (va, vb)) in self.keys.iter().zip(&self.rules).zip(a.iter().zip(b)) {
            let ord = match (va, vb) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let (x, y) = (x.as_ref(), y.as_ref());
                    rule.compare_normalized(x, y).unwrap_or_else(|| x.cmp(y))
                }
            };
            let ord = if k.descending { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        Ordering::Equal
    }
}

/// An entry's normalised sort value per key, its normalised DN, and its position.
type Decorated = (Vec<Option<Vec<u8>>>, String, usize);

/// Sorts `entries` by `keys` (no-op without keys).
pub(crate) fn sort_entries(schema: &Schema, entries: &mut Vec<Entry>, keys: &[SortKey]) {
    if keys.is_empty() {
        return;
    }
    let order = Order::new(schema, keys);
    // Precompute each entry's normalised sort value per key and its DN key.
    let mut decorated: Vec<Decorated> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (order.values(e), e.dn.normalized(), i))
        .collect();
    decorated.sort_by(|a, b| order.compare(&a.0, &b.0).then_with(|| a.1.cmp(&b.1)));
    let mut slots: Vec<Option<Entry>> = std::mem::take(entries).into_iter().map(Some).collect();
    *entries = decorated
        .into_iter()
        .filter_map(|d| slots.get_mut(d.2).and_then(Option::take))
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dn::Dn;

    fn e(uid: &str, num: Option<&str>) -> Entry {
        let mut x = Entry::new(Dn::parse(&format!("uid={uid},dc=x")).unwrap()).with("uid", [uid]);
        if let Some(n) = num {
            x.set("uidNumber", [n]);
        }
        x
    }

    fn uids(v: &[Entry]) -> Vec<&str> {
        v.iter().map(|x| x.first_str("uid").unwrap()).collect()
    }

    #[test]
    fn integer_and_case_insensitive_orders() {
        let schema = Schema::builtin();
        let mut v = vec![
            e("b", Some("10")),
            e("A", Some("9")),
            e("c", None),
            e("d", Some("100")),
        ];
        sort_entries(&schema, &mut v, &[SortKey::asc("uidNumber")]);
        assert_eq!(uids(&v), ["A", "b", "d", "c"], "integers, missing last");
        sort_entries(&schema, &mut v, &[SortKey::desc("uidNumber")]);
        assert_eq!(
            uids(&v),
            ["c", "d", "b", "A"],
            "descending reverses everything: missing first (as slapd)"
        );
        sort_entries(&schema, &mut v, &[SortKey::asc("uid")]);
        assert_eq!(
            uids(&v),
            ["A", "b", "c", "d"],
            "uid has no ORDERING: caseIgnoreOrdering"
        );
        // Multi-valued: the smallest value, in both directions (sssvlv does the same).
        let mut m = vec![
            e("x", None).with("mail", ["m@x", "a@x"]),
            e("y", None).with("mail", ["b@x"]),
        ];
        sort_entries(&schema, &mut m, &[SortKey::asc("mail")]);
        assert_eq!(uids(&m), ["x", "y"]);
        sort_entries(&schema, &mut m, &[SortKey::desc("mail")]);
        assert_eq!(uids(&m), ["y", "x"]);
        assert!("bad key".parse::<SortKey>().is_err());
        assert_eq!("+cn".parse::<SortKey>().unwrap(), SortKey::asc("cn"));
    }
}
