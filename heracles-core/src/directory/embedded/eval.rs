//! Filter evaluation against an entry, with LDAP's three-valued logic (RFC 4511 §4.5.1.7):
//! a filter item on an attribute the schema does not know, or with a rule the attribute
//! does not have (a substring filter on `loginShell`, `>=` on `uid`), or with an assertion
//! value invalid for the rule (`(uidNumber>=abc)`) is *undefined*; `!` of undefined is still
//! undefined, and only *true* selects an entry — exactly as slapd.

use std::cmp::Ordering;

use super::rules::Rules;
use crate::directory::Entry;
use crate::filter::Filter;
use crate::schema::{MatchingRule, SubstringFilter};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Undefined,
}

impl From<bool> for Tri {
    fn from(b: bool) -> Self {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }
}

/// Whether `entry` matches `filter`.
pub(super) fn matches(rules: &Rules, filter: &Filter, entry: &Entry) -> bool {
    eval(rules, filter, entry) == Tri::True
}

/// The values of `attr` in `entry`, found by canonical name (so `commonName` finds `cn`).
fn values<'e>(rules: &Rules, entry: &'e Entry, attr: &str) -> Vec<&'e [u8]> {
    let want = rules.canonical(attr);
    entry
        .attrs
        .iter()
        .filter(|a| rules.canonical(a.name()) == want)
        .flat_map(|a| a.values().iter().map(Vec::as_slice))
        .collect()
}

/// True if some value matches; values invalid for the rule (never stored, since adds check
/// syntax) simply do not match.
fn any(vals: &[&[u8]], mut f: impl FnMut(&[u8]) -> Option<bool>) -> Tri {
    vals.iter().any(|v| f(v) == Some(true)).into()
}

fn eval(rules: &Rules, filter: &Filter, e: &Entry) -> Tri {
    match filter {
        Filter::And(items) => {
            let mut out = Tri::True;
            for f in items {
                match eval(rules, f, e) {
                    Tri::False => return Tri::False,
                    Tri::Undefined => out = Tri::Undefined,
                    Tri::True => {}
                }
            }
            out
        }
        Filter::Or(items) => {
            let mut out = Tri::False;
            for f in items {
                match eval(rules, f, e) {
                    Tri::True => return Tri::True,
                    Tri::Undefined => out = Tri::Undefined,
                    Tri::False => {}
                }
            }
            out
        }
        Filter::Not(f) => match eval(rules, f, e) {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Undefined => Tri::Undefined,
        },
        Filter::Present { attr } => {
            if !rules.is_known(attr) {
                return Tri::Undefined;
            }
            (!values(rules, e, attr).is_empty()).into()
        }
        Filter::Equality { attr, value } => {
            if rules.equality(attr).is_none() {
                return Tri::Undefined;
            }
            let Ok(assertion) = rules.normalize(attr, value) else {
                return Tri::Undefined;
            };
            let stored = values(rules, e, attr);
            // A value identical to the assertion matches under any equality rule: found
            // without normalising every value (a group's thousands of `member` DNs).
            if stored.contains(&value.as_slice()) {
                return Tri::True;
            }
            any(&stored, |v| {
                rules.normalize(attr, v).ok().map(|n| n == assertion)
            })
        }
        Filter::Approx { attr, value } => {
            let Some(rule) = rules.equality(attr) else {
                return Tri::Undefined;
            };
            let Ok(_) = rule.normalize(value) else {
                return Tri::Undefined;
            };
            any(&values(rules, e, attr), |v| rule.approx_match(v, value))
        }
        Filter::GreaterOrEqual { attr, value } => ordering(rules, e, attr, value, true),
        Filter::LessOrEqual { attr, value } => ordering(rules, e, attr, value, false),
        Filter::Substrings {
            attr,
            initial,
            any: parts,
            final_,
        } => {
            let Some(rule) = rules.substr(attr) else {
                return Tri::Undefined;
            };
            let assertion = SubstringFilter {
                initial: initial.as_deref(),
                any: parts.iter().map(Vec::as_slice).collect(),
                final_: final_.as_deref(),
            };
            let Ok(prepared) = rule.prepare_substrings(&assertion) else {
                return Tri::Undefined;
            };
            any(&values(rules, e, attr), |v| prepared.matches(v))
        }
        Filter::Extensible {
            attr,
            rule,
            dn_attributes,
            value,
        } => extensible(
            rules,
            e,
            attr.as_deref(),
            rule.as_deref(),
            *dn_attributes,
            value,
        ),
    }
}

fn ordering(rules: &Rules, e: &Entry, attr: &str, value: &[u8], want_ge: bool) -> Tri {
    let Some(rule) = rules.ordering(attr) else {
        return Tri::Undefined;
    };
    let Ok(assertion) = rule.normalize(value) else {
        return Tri::Undefined;
    };
    any(&values(rules, e, attr), |v| {
        let norm = rule.normalize(v).ok()?;
        let ord = rule.compare_normalized(&norm, &assertion)?;
        Some(if want_ge {
            ord != Ordering::Less
        } else {
            ord != Ordering::Greater
        })
    })
}

fn equality(rule: MatchingRule, vals: &[&[u8]], assertion: &[u8]) -> Tri {
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
            candidates.push((
                a.to_owned(),
                values(rules, e, a)
                    .into_iter()
                    .map(<[u8]>::to_vec)
                    .collect(),
            ));
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
        let refs: Vec<&[u8]> = vals.iter().map(Vec::as_slice).collect();
        match equality(r, &refs, value) {
            Tri::True => return Tri::True,
            Tri::Undefined if attr.is_some() => out = Tri::Undefined,
            _ => {}
        }
    }
    out
}
