//! What every service shares: the caller ([`Principal`]), list queries ([`ListQuery`]) and
//! the list machinery (filters against an allow-list, sorting, paging).

use serde::{Deserialize, Serialize};

use super::Heracles;
use crate::directory::{Entry, Scope, SearchRequest, SortKey};
use crate::dn::Dn;
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{compile, AllowList, AllowedAttribute, Filter};
use crate::page::{Page, PageRequest};
use crate::schema::Schema;

/// Who is calling. Every service call carries one; access decisions are made on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The caller's entry.
    pub dn: Dn,
    /// Its uid, when it is a user.
    pub uid: Option<String>,
    /// Whether it is a Heracles administrator.
    pub admin: bool,
}

impl Principal {
    /// The server itself (bootstrap, maintenance): an administrator without an entry.
    pub fn system(base: &Dn) -> Principal {
        Principal {
            dn: base.clone(),
            uid: None,
            admin: true,
        }
    }

    /// Until fine-grained access control exists, only administrators may do more than
    /// read their own entry and change their own password: `ACL_DENIED` otherwise.
    pub fn require_admin(&self, permission: &str, target: &str) -> Result<()> {
        if self.admin {
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::AclDenied,
            format!("'{}' may not {permission} on '{target}'", self.dn),
        )
        .with_detail("permission", permission)
        .with_detail("target", target))
    }

    /// Whether this principal is the user `dn`.
    pub fn is(&self, dn: &Dn) -> bool {
        &self.dn == dn
    }
}

/// The query of a list (SPEC §1): `filter=` clauses (ANDed), paging, `sort=`,
/// `attributes=`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// `attr:op:value` clauses.
    pub filters: Vec<String>,
    /// Page.
    pub page: PageRequest,
    /// `cn` or `-uidNumber`; `None`: by RDN value, ascending, case-insensitive.
    pub sort: Option<String>,
    /// Fields to return; `None`: all.
    pub attributes: Option<Vec<String>>,
}

impl ListQuery {
    /// Builder: one more filter clause.
    #[must_use]
    pub fn filter(mut self, clause: impl Into<String>) -> Self {
        self.filters.push(clause.into());
        self
    }

    /// Builder: sort key.
    #[must_use]
    pub fn sort(mut self, key: impl Into<String>) -> Self {
        self.sort = Some(key.into());
        self
    }

    /// Builder: page.
    #[must_use]
    pub fn page(mut self, page: PageRequest) -> Self {
        self.page = page;
        self
    }
}

/// The allow-list of an object type: its fields are LDAP attributes, substring operators
/// allowed where the schema gives the attribute a SUBSTR rule.
pub(crate) fn allow_list(schema: &Schema, fields: &[&str]) -> AllowList {
    AllowList::new(
        fields
            .iter()
            .map(|f| AllowedAttribute::new(*f, *f, schema.has_substr(f))),
    )
}

/// The allow-list of an object type given by its object classes: every attribute they
/// allow (SPEC §1: a filter's ATTR must be an attribute of that object type), except
/// secrets such as `userPassword`.
pub(crate) fn allow_list_for_classes(schema: &Schema, classes: &[&str]) -> AllowList {
    let names = super::attrs::allowed_attributes(schema, classes);
    let fields: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| {
            !super::attrs::SECRET
                .iter()
                .any(|s| s.eq_ignore_ascii_case(n))
                && !n.eq_ignore_ascii_case("objectClass")
        })
        .collect();
    allow_list(schema, &fields)
}

/// Checks a field name against the allow-list (for `sort` and `attributes`); returns the
/// LDAP attribute.
pub(crate) fn field<'a>(allow: &'a AllowList, name: &str, param: &str) -> Result<&'a str> {
    allow.get(name).map(|a| a.ldap.as_str()).ok_or_else(|| {
        Error::new(
            ErrorCode::ValidationFailed,
            format!(
                "'{name}' is not a field of this object type (allowed: {})",
                allow.fields().collect::<Vec<_>>().join(", ")
            ),
        )
        .with_detail("field", param)
        .with_detail("value", name)
    })
}

/// Runs a list: entries of the object type (`object_filter`) below `base`, narrowed by the
/// query's filters, sorted (by `sort`, else by `rdn_attr`), one page of them.
pub(crate) async fn list_entries(
    h: &Heracles,
    base: &Dn,
    object_filter: Filter,
    allow: &AllowList,
    q: &ListQuery,
    rdn_attr: &str,
) -> Result<Page<Entry>> {
    let spec = ListSpec {
        filter_allow: allow,
        field_allow: allow,
        default_sort: vec![SortKey::asc(rdn_attr)],
        fetch: &[],
    };
    list_entries_with(h, base, object_filter, &spec, q).await
}

/// How [`list_entries_with`] reads a query.
pub(crate) struct ListSpec<'a> {
    /// The fields `filter=` clauses may name.
    pub filter_allow: &'a AllowList,
    /// The fields `sort=` and `attributes=` may name.
    pub field_allow: &'a AllowList,
    /// The order without `sort=`.
    pub default_sort: Vec<SortKey>,
    /// The attributes to read of each entry (empty: all user attributes).
    pub fetch: &'a [&'a str],
}

/// [`list_entries`] with separate allow-lists for filters and for sort/attributes, a
/// default order of several keys, and a choice of attributes to read.
pub(crate) async fn list_entries_with(
    h: &Heracles,
    base: &Dn,
    object_filter: Filter,
    spec: &ListSpec<'_>,
    q: &ListQuery,
) -> Result<Page<Entry>> {
    let filter = match compile(&q.filters, spec.filter_allow)? {
        Some(user) => Filter::and([object_filter, user]),
        None => object_filter,
    };
    let keys = match &q.sort {
        Some(s) => {
            let parsed: SortKey = s.parse().map_err(|_| {
                Error::new(
                    ErrorCode::ValidationFailed,
                    format!("invalid sort key '{s}'"),
                )
                .with_detail("field", "sort")
            })?;
            vec![SortKey {
                attr: field(spec.field_allow, &parsed.attr, "sort")?.to_owned(),
                descending: parsed.descending,
            }]
        }
        None => spec.default_sort.clone(),
    };
    if let Some(attrs) = &q.attributes {
        for a in attrs {
            field(spec.field_allow, a, "attributes")?;
        }
    }
    let mut req = SearchRequest::new(base.clone(), Scope::Subtree, filter).sort(keys);
    if !spec.fetch.is_empty() {
        req = req.attributes(spec.fetch);
    }
    let all = h.directory().search(&req).await?;
    Ok(q.page.slice(all))
}
