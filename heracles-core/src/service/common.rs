//! What every service shares: the caller ([`Principal`]), list queries ([`ListQuery`]) and
//! the list machinery (filters against an allow-list, sorting, paging).

use std::sync::Arc;

use super::Heracles;
use crate::acl::{CompiledAcl, Permission};
use crate::directory::{Attribute, Entry, Scope, SearchRequest, SortKey};
use crate::dn::Dn;
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{compile, AllowList, AllowedAttribute, Filter};
use crate::page::{Page, PageRequest};
use crate::schema::Schema;

/// Who is calling. Every service call carries one; access decisions are made on its
/// compiled ACL (see [`crate::acl`]). Get one with [`Heracles::principal`].
#[derive(Debug, Clone)]
pub struct Principal {
    /// The caller's entry.
    pub dn: Dn,
    /// Its uid, when it is a user.
    pub uid: Option<String>,
    /// Whether it holds the `admin` policy over the whole tree.
    pub admin: bool,
    acl: Arc<CompiledAcl>,
    /// The request it acts in (id, client address), for the audit trail.
    request_id: Option<String>,
    client_address: Option<String>,
}

impl Principal {
    /// The server itself (bootstrap, maintenance, scripts run by the directory's owner):
    /// may do everything, has no entry.
    pub fn system(base: &Dn) -> Principal {
        Principal {
            dn: base.clone(),
            uid: None,
            admin: true,
            acl: Arc::new(CompiledAcl::allow_all(base.clone())),
            request_id: None,
            client_address: None,
        }
    }

    /// A principal with this compiled ACL.
    pub fn with_acl(dn: Dn, uid: Option<String>, acl: Arc<CompiledAcl>) -> Principal {
        Principal {
            admin: acl.holds_admin(),
            dn,
            uid,
            acl,
            request_id: None,
            client_address: None,
        }
    }

    /// The same principal acting in a request: its id and the client's address go into
    /// every audit event it causes.
    #[must_use]
    pub fn for_request(
        mut self,
        request_id: impl Into<String>,
        client_address: Option<String>,
    ) -> Principal {
        self.request_id = Some(request_id.into());
        self.client_address = client_address;
        self
    }

    /// The request id given with [`Principal::for_request`].
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The client address given with [`Principal::for_request`].
    pub fn client_address(&self) -> Option<&str> {
        self.client_address.as_deref()
    }

    /// Its compiled ACL.
    pub fn acl(&self) -> &CompiledAcl {
        &self.acl
    }

    /// Whether it may do `permission` on `target`.
    pub fn allows(&self, permission: Permission, target: &Dn) -> bool {
        self.acl.allows(permission, target)
    }

    /// `ACL_DENIED` (details: `permission`, `target`) unless it may do `permission` on
    /// `target`.
    pub fn check(&self, permission: Permission, target: &Dn) -> Result<()> {
        if self.acl.allows(permission, target) {
            return Ok(());
        }
        Err(denied(self, permission, &target.to_string()))
    }

    /// `ACL_DENIED` unless some assignment grants `permission` somewhere: checked before
    /// looking an object up, so a caller without any such right learns nothing about what
    /// exists. `target` names what was asked for.
    pub fn check_somewhere(&self, permission: Permission, target: &str) -> Result<()> {
        if self.acl.granted_somewhere(permission) {
            return Ok(());
        }
        Err(denied(self, permission, target))
    }

    /// `ACL_DENIED` (details: `permission`, `target`, `attribute`) unless every attribute
    /// of `attributes` may be written with `permission` (write or create) on `target`.
    pub fn check_attributes<'s>(
        &self,
        permission: Permission,
        target: &Dn,
        attributes: impl IntoIterator<Item = &'s str>,
    ) -> Result<()> {
        let filter = self
            .acl
            .attributes(permission.object, permission.action, target);
        for a in attributes {
            if !filter.allows(a) {
                return Err(Error::new(
                    ErrorCode::AclDenied,
                    format!(
                        "'{}' may not write the attribute '{a}' of '{target}'",
                        self.dn
                    ),
                )
                .with_detail("permission", permission.to_string())
                .with_detail("target", target.to_string())
                .with_detail("attribute", a));
            }
        }
        Ok(())
    }

    /// Whether this principal is the user `dn`.
    pub fn is(&self, dn: &Dn) -> bool {
        &self.dn == dn
    }
}

/// The attributes an entry about to be added writes (all but `objectClass`), for
/// [`Principal::check_attributes`].
pub(crate) fn written_attributes(e: &Entry) -> impl Iterator<Item = &str> {
    e.attrs
        .iter()
        .map(Attribute::name)
        .filter(|a| !a.eq_ignore_ascii_case("objectClass"))
}

fn denied(p: &Principal, permission: Permission, target: &str) -> Error {
    Error::new(
        ErrorCode::AclDenied,
        format!("'{}' may not {permission} on '{target}'", p.dn),
    )
    .with_detail("permission", permission.to_string())
    .with_detail("target", target)
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
/// query's filters and to those the principal may read (`visible_to`: it and the read
/// permission of the type), sorted (by `sort`, else by `rdn_attr`), one page of them.
pub(crate) async fn list_entries(
    h: &Heracles,
    visible_to: (&Principal, Permission),
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
    list_entries_with(h, visible_to, base, object_filter, &spec, q).await
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
    visible_to: (&Principal, Permission),
    base: &Dn,
    object_filter: Filter,
    spec: &ListSpec<'_>,
    q: &ListQuery,
) -> Result<Page<Entry>> {
    let filter = match compile(&q.filters, spec.filter_allow)? {
        Some(user) => Filter::and([object_filter, user]),
        None => object_filter,
    };
    let mut keys = match &q.sort {
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
        None => Vec::new(),
    };
    // The default order breaks ties of `sort=`, so the order is total (the RDN attribute
    // ends it) and the same on every backend and path (VLV or not).
    for k in &spec.default_sort {
        if !keys.iter().any(|x| x.attr.eq_ignore_ascii_case(&k.attr)) {
            keys.push(k.clone());
        }
    }
    if let Some(attrs) = &q.attributes {
        for a in attrs {
            field(spec.field_allow, a, "attributes")?;
        }
    }
    let mut req = SearchRequest::new(base.clone(), Scope::Subtree, filter).sort(keys);
    if !spec.fetch.is_empty() {
        req = req.attributes(spec.fetch);
    }
    // Only what the caller may read is listed, and counted in `total`.
    super::lists::page(h, visible_to, &req, q.page).await
}
