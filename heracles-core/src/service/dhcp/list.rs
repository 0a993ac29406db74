//! Lists of DHCP objects (SPEC §1): `filter=` clauses, `sort=`, `attributes=`, paging.
//!
//! A field of an answer is either an LDAP attribute (filtered and sorted by the directory,
//! with its matching rules: `contains` on an attribute without a substring rule is a 400),
//! a value computed from the entry (`server`, `macAddress`, `fixedAddress`: filtered and
//! sorted here, case-insensitively, addresses numerically), or only shown (`pools`,
//! `subnet`, ...: may be named in `attributes=` but not filtered or sorted on).

use std::cmp::Ordering;
use std::net::Ipv4Addr;

use super::model::{fixed_of, mac_of, to_service, COMMENTS, NETMASK, OPTION, PERMIT, RANGE};
use super::model::{HWADDRESS, PRIMARY_DN, STATEMENTS};
use super::validate::parse_mac;
use crate::acl::Permission;
use crate::directory::{Entry, Scope, SearchRequest, SortKey};
use crate::dn::Dn;
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{compile, AllowList, AllowedAttribute, Clause, Filter, Op, MAX_CLAUSES};
use crate::page::Page;
use crate::service::{Heracles, ListQuery, Principal};

/// Computes the values of a field from an entry.
pub(super) type Getter = fn(&Entry) -> Vec<String>;

/// How a field of an answer is found.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    /// The LDAP attribute.
    Ldap(&'static str),
    /// Computed from the entry; the attribute it comes from.
    Computed(&'static str, Getter),
    /// Only shown.
    Shown,
}

/// A field of an answer.
#[derive(Clone, Copy)]
pub(super) struct Field {
    pub name: &'static str,
    pub kind: Kind,
}

const fn ldap(name: &'static str, attr: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Ldap(attr),
    }
}

const fn shown(name: &'static str) -> Field {
    Field {
        name,
        kind: Kind::Shown,
    }
}

const DESCRIPTION: Field = ldap("description", COMMENTS);
const STATEMENT_LIST: Field = ldap("statements", STATEMENTS);
const OPTION_LIST: Field = ldap("options", OPTION);

fn server_of(e: &Entry) -> Vec<String> {
    to_service(e).server.into_iter().collect()
}

fn mac_values(e: &Entry) -> Vec<String> {
    mac_of(e).into_iter().collect()
}

fn fixed_values(e: &Entry) -> Vec<String> {
    fixed_of(e).into_iter().collect()
}

pub(super) const SERVICE_FIELDS: &[Field] = &[
    ldap("cn", "cn"),
    DESCRIPTION,
    STATEMENT_LIST,
    OPTION_LIST,
    Field {
        name: "server",
        kind: Kind::Computed(PRIMARY_DN, server_of),
    },
    ldap("primaryDN", PRIMARY_DN),
];

pub(super) const SHARED_NETWORK_FIELDS: &[Field] =
    &[ldap("cn", "cn"), DESCRIPTION, STATEMENT_LIST, OPTION_LIST];

pub(super) const SUBNET_FIELDS: &[Field] = &[
    ldap("network", "cn"),
    ldap("prefix", NETMASK),
    shown("netmask"),
    shown("sharedNetwork"),
    DESCRIPTION,
    STATEMENT_LIST,
    OPTION_LIST,
    shown("pools"),
];

pub(super) const POOL_FIELDS: &[Field] = &[
    ldap("id", "cn"),
    ldap("range", RANGE),
    shown("size"),
    DESCRIPTION,
    ldap("permitList", PERMIT),
    STATEMENT_LIST,
    OPTION_LIST,
];

pub(super) const HOST_FIELDS: &[Field] = &[
    ldap("cn", "cn"),
    Field {
        name: "macAddress",
        kind: Kind::Computed(HWADDRESS, mac_values),
    },
    Field {
        name: "fixedAddress",
        kind: Kind::Computed(STATEMENTS, fixed_values),
    },
    shown("subnet"),
    DESCRIPTION,
    STATEMENT_LIST,
    OPTION_LIST,
];

fn field<'f>(fields: &'f [Field], name: &str) -> Option<&'f Field> {
    fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

fn not_a_field(fields: &[Field], name: &str, param: &str, what: &str) -> Error {
    let allowed: Vec<&str> = fields
        .iter()
        .filter(|f| param != "sort" || !matches!(f.kind, Kind::Shown))
        .map(|f| f.name)
        .collect();
    Error::new(
        ErrorCode::ValidationFailed,
        format!(
            "'{name}' is not a field {what} (allowed: {})",
            allowed.join(", ")
        ),
    )
    .with_detail("field", param)
    .with_detail("value", name)
}

/// A value of a computed field, for comparisons: MAC addresses canonical, the rest
/// lower-case.
fn normalize(field: &str, value: &str) -> String {
    if field == "macAddress" {
        if let Ok(mac) = parse_mac(value) {
            return mac;
        }
        return value.to_ascii_lowercase().replace('-', ":");
    }
    value.trim().to_ascii_lowercase()
}

fn clause_matches(field: &str, values: &[String], op: Op, value: Option<&str>) -> bool {
    let want = value.map(|v| normalize(field, v)).unwrap_or_default();
    let mut have = values.iter().map(|v| normalize(field, v));
    match op {
        Op::Present => !values.is_empty(),
        Op::Eq => have.any(|v| v == want),
        Op::Contains => have.any(|v| v.contains(&want)),
        Op::Starts => have.any(|v| v.starts_with(&want)),
        Op::Ends => have.any(|v| v.ends_with(&want)),
    }
}

/// Orders two values: addresses numerically, other text case-insensitively; a missing
/// value last.
fn compare(a: Option<&String>, b: Option<&String>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => match (a.parse::<Ipv4Addr>(), b.parse::<Ipv4Addr>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
        },
    }
}

/// One page of the entries of `class` below `base` (`scope`) that the principal may read
/// (`read`), narrowed by the query's filters, sorted (default: by `cn`).
#[allow(clippy::too_many_arguments)]
pub(super) async fn list(
    h: &Heracles,
    p: &Principal,
    read: Permission,
    base: &Dn,
    scope: Scope,
    class: &str,
    fields: &[Field],
    q: &ListQuery,
) -> Result<Page<Entry>> {
    let schema = h.schema();
    let allow = AllowList::new(fields.iter().filter_map(|f| match f.kind {
        Kind::Ldap(attr) => Some(AllowedAttribute::new(f.name, attr, schema.has_substr(attr))),
        Kind::Computed(attr, _) => Some(AllowedAttribute::new(f.name, attr, true)),
        Kind::Shown => None,
    }));
    if q.filters.len() > MAX_CLAUSES {
        // The standard error for too many clauses.
        compile(&q.filters, &allow)?;
    }
    let mut ldap_clauses: Vec<&str> = Vec::new();
    let mut computed: Vec<(&'static str, Getter, Op, Option<&str>)> = Vec::new();
    for text in &q.filters {
        let clause = Clause::parse(text)?;
        match field(fields, clause.attr) {
            Some(Field {
                name,
                kind: Kind::Computed(_, get),
            }) => computed.push((name, *get, clause.op, clause.value)),
            _ => ldap_clauses.push(text),
        }
    }
    let object = Filter::eq("objectClass", class);
    let filter = match compile(&ldap_clauses, &allow)? {
        Some(user) => Filter::and([object, user]),
        None => object,
    };
    let mut sort_here: Option<(Getter, bool)> = None;
    let keys = match &q.sort {
        None => vec![SortKey::asc("cn")],
        Some(s) => {
            let key: SortKey = s.parse().map_err(|_| {
                Error::new(
                    ErrorCode::ValidationFailed,
                    format!("invalid sort key '{s}'"),
                )
                .with_detail("field", "sort")
            })?;
            match field(fields, &key.attr).map(|f| f.kind) {
                Some(Kind::Ldap(attr)) => vec![SortKey {
                    attr: attr.to_owned(),
                    descending: key.descending,
                }],
                Some(Kind::Computed(_, get)) => {
                    sort_here = Some((get, key.descending));
                    vec![SortKey::asc("cn")]
                }
                _ => return Err(not_a_field(fields, &key.attr, "sort", "to sort on")),
            }
        }
    };
    if let Some(names) = &q.attributes {
        for name in names {
            if field(fields, name).is_none() && !name.eq_ignore_ascii_case("dn") {
                return Err(not_a_field(
                    fields,
                    name,
                    "attributes",
                    "of this object type",
                ));
            }
        }
    }
    let req = SearchRequest::new(base.clone(), scope, filter).sort(keys);
    let mut all = match h.directory().search(&req).await {
        Ok(all) => all,
        Err(e) if e.code() == ErrorCode::EntryNotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    if !p.acl().is_unrestricted() {
        all.retain(|e| p.allows(read, &e.dn));
    }
    all.retain(|e| {
        computed
            .iter()
            .all(|(name, get, op, value)| clause_matches(name, &get(e), *op, *value))
    });
    if let Some((get, descending)) = sort_here {
        all.sort_by(|a, b| {
            let (va, vb) = (get(a), get(b));
            let ord = compare(va.first(), vb.first());
            if descending && !va.is_empty() && !vb.is_empty() {
                ord.reverse()
            } else {
                ord
            }
        });
    }
    Ok(q.page.slice(all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_clauses() {
        let macs = vec!["00:11:22:33:44:66".to_owned()];
        assert!(clause_matches(
            "macAddress",
            &macs,
            Op::Eq,
            Some("00-11-22-33-44-66")
        ));
        assert!(clause_matches(
            "macAddress",
            &macs,
            Op::Eq,
            Some("001122334466")
        ));
        assert!(clause_matches(
            "macAddress",
            &macs,
            Op::Starts,
            Some("00-11-22")
        ));
        assert!(clause_matches("macAddress", &macs, Op::Ends, Some("44:66")));
        assert!(!clause_matches(
            "macAddress",
            &macs,
            Op::Eq,
            Some("00:11:22:33:44:67")
        ));
        assert!(clause_matches("macAddress", &macs, Op::Present, None));
        assert!(!clause_matches("macAddress", &[], Op::Present, None));
        let addr = vec!["192.168.1.50".to_owned()];
        assert!(clause_matches(
            "fixedAddress",
            &addr,
            Op::Contains,
            Some("168.1")
        ));
        assert!(!clause_matches(
            "fixedAddress",
            &addr,
            Op::Eq,
            Some("192.168.1.5")
        ));
    }

    #[test]
    fn ordering() {
        let (a, b, c) = ("9.0.0.1".to_owned(), "10.0.0.1".to_owned(), "x".to_owned());
        assert_eq!(compare(Some(&a), Some(&b)), Ordering::Less);
        assert_eq!(compare(Some(&c), None), Ordering::Less);
        assert_eq!(compare(None, Some(&c)), Ordering::Greater);
        assert_eq!(
            compare(Some(&"B".to_owned()), Some(&"a".to_owned())),
            Ordering::Greater
        );
    }

    #[test]
    fn field_tables_are_well_formed() {
        for fields in [
            SERVICE_FIELDS,
            SHARED_NETWORK_FIELDS,
            SUBNET_FIELDS,
            POOL_FIELDS,
            HOST_FIELDS,
        ] {
            let schema = crate::schema::Schema::builtin();
            let allow = AllowList::new(fields.iter().filter_map(|f| match f.kind {
                Kind::Ldap(a) | Kind::Computed(a, _) => {
                    Some(AllowedAttribute::new(f.name, a, schema.has_substr(a)))
                }
                Kind::Shown => None,
            }));
            allow.validate().unwrap();
        }
    }
}
