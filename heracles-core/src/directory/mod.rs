//! The directory abstraction: what Heracles needs from an LDAP directory.
//!
//! [`Directory`] is implemented by [`LdapDirectory`] (a real server through `ldap3`, with a
//! pool of bound connections) and by [`EmbeddedDirectory`] (in-process, schema-aware,
//! durable; see its documentation for the storage format and crash behaviour). One
//! conformance suite runs against both; slapd is the reference. Every operation takes
//! parsed [`Dn`]s and [`Filter`]s, so no caller can build a DN or filter by string
//! formatting.
//!
//! ```no_run
//! use heracles_core::directory::{Directory, LdapConfig, LdapDirectory, Scope, SearchRequest};
//! use heracles_core::dn::Dn;
//! use heracles_core::filter::Filter;
//!
//! # async fn demo() -> heracles_core::Result<()> {
//! let config = LdapConfig::simple(
//!     "ldap://127.0.0.1:389",
//!     "cn=heracles-service,ou=heracles,dc=example,dc=com",
//!     "secret",
//! );
//! let dir = LdapDirectory::connect(config).await?;
//! let people = Dn::parse("ou=people,dc=example,dc=com")?;
//! let found = dir
//!     .search(&SearchRequest::new(people, Scope::One, Filter::eq("uid", "jdoe")))
//!     .await?;
//! println!("{} match(es)", found.len());
//! # Ok(()) }
//! ```

mod changes;
mod embedded;
mod entry;
pub mod ldap;
mod sort;
mod tri;

use async_trait::async_trait;

pub(crate) use self::changes::{is_dn_valued, is_membership, may_hold_members};
pub use self::changes::{net_changes, ByUuid, Change, ChangeLog, Marker, NetChanges, LOG_CAPACITY};
pub use self::embedded::{EmbeddedDirectory, EmbeddedStats};
pub use self::entry::{Attribute, Attributes, Entry};
pub use self::ldap::{Bind, LdapConfig, LdapDirectory};
#[cfg(test)]
pub(crate) use self::sort::sort_entries;
pub(crate) use self::sort::Order;
pub use self::sort::SortKey;

use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;

/// How deep a search goes below its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The base entry only.
    Base,
    /// The base's immediate children (not the base itself).
    One,
    /// The base and everything below it.
    Subtree,
}

impl Scope {
    /// Whether a search from `base` with this scope reaches `dn`.
    ///
    /// ```
    /// use heracles_core::directory::Scope;
    /// use heracles_core::dn::Dn;
    ///
    /// let people = Dn::parse("ou=people,dc=example,dc=com")?;
    /// let jdoe = Dn::parse("uid=jdoe,ou=people,dc=example,dc=com")?;
    /// assert!(Scope::One.includes(&people, &jdoe));
    /// assert!(!Scope::One.includes(&people, &people));
    /// assert!(Scope::Subtree.includes(&people, &people));
    /// assert!(!Scope::Base.includes(&people, &jdoe));
    /// # Ok::<(), heracles_core::Error>(())
    /// ```
    pub fn includes(self, base: &Dn, dn: &Dn) -> bool {
        match self {
            Scope::Base => dn == base,
            // Without building the parent DN (one allocation per candidate).
            Scope::One => dn.len() == base.len() + 1 && dn.is_descendant_of(base),
            Scope::Subtree => dn.is_descendant_or_self(base),
        }
    }
}

/// A search.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// Where the search starts.
    pub base: Dn,
    /// How deep it goes.
    pub scope: Scope,
    /// Which entries match.
    pub filter: Filter,
    /// Attributes to return; empty means all user attributes. `"+"` asks for operational
    /// attributes, `"1.1"` for none.
    pub attributes: Vec<String>,
    /// Return at most this many entries (`None`: all of them, however many).
    pub size_limit: Option<usize>,
    /// Page size used with the paged-results control (`None`: the backend's default).
    pub page_size: Option<u32>,
    /// Order of the results (empty: the backend's natural order). `size_limit` applies
    /// after sorting.
    pub sort: Vec<SortKey>,
}

impl SearchRequest {
    /// A search for all user attributes of every match.
    pub fn new(base: Dn, scope: Scope, filter: Filter) -> Self {
        SearchRequest {
            base,
            scope,
            filter,
            attributes: Vec::new(),
            size_limit: None,
            page_size: None,
            sort: Vec::new(),
        }
    }

    /// Builder: sort by these keys.
    #[must_use]
    pub fn sort(mut self, keys: impl IntoIterator<Item = SortKey>) -> Self {
        self.sort = keys.into_iter().collect();
        self
    }

    /// Builder: only these attributes.
    #[must_use]
    pub fn attributes<S: AsRef<str>>(mut self, attrs: impl IntoIterator<Item = S>) -> Self {
        self.attributes = attrs.into_iter().map(|a| a.as_ref().to_owned()).collect();
        self
    }

    /// Builder: at most `n` entries.
    #[must_use]
    pub fn size_limit(mut self, n: usize) -> Self {
        self.size_limit = Some(n);
        self
    }

    /// Builder: page size for the paged-results control.
    #[must_use]
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }
}

/// One page of a sorted search and the number of all its matches (see
/// [`Directory::search_window`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Window {
    /// The entries of the page, in order.
    pub entries: Vec<Entry>,
    /// How many entries match the search in all.
    pub total: u64,
}

/// Every match of `req` as DNs in `req.sort` order, fetching no attribute but the sort keys:
/// what a list needs to count, page and check access without reading every entry.
pub async fn sorted_dns<D: Directory + ?Sized>(dir: &D, req: &SearchRequest) -> Result<Vec<Dn>> {
    Ok(sorted_matches(dir, req, &[])
        .await?
        .into_iter()
        .map(|e| e.dn)
        .collect())
}

/// Every match of `req` in `req.sort` order, with its sort keys' attributes and `extra`
/// only (see [`sorted_dns`]).
pub(crate) async fn sorted_matches<D: Directory + ?Sized>(
    dir: &D,
    req: &SearchRequest,
    extra: &[&str],
) -> Result<Vec<Entry>> {
    let mut scan = req.clone();
    scan.size_limit = None;
    scan.attributes = req
        .sort
        .iter()
        .map(|k| k.attr.clone())
        .chain(extra.iter().map(|a| (*a).to_owned()))
        .collect();
    if scan.attributes.is_empty() {
        scan.attributes.push("1.1".to_owned());
    }
    dir.search(&scan).await
}

/// [`Directory::search_window`] by a scan: the DNs and sort keys of every match (see
/// [`sorted_dns`]), then the attributes of the page's entries only. What the directories
/// do when they have nothing better; public so that other paths can be checked against it.
pub async fn scan_window<D: Directory + ?Sized>(
    dir: &D,
    req: &SearchRequest,
    offset: u64,
    limit: u32,
) -> Result<Window> {
    let dns = sorted_dns(dir, req).await?;
    let total = dns.len() as u64;
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(dns.len());
    let end = start.saturating_add(limit as usize).min(dns.len());
    let page = dns.get(start..end).unwrap_or_default();
    let entries = dir.fetch(page, &req.attributes).await?;
    Ok(Window { entries, total })
}

/// One change of a modify operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Modification {
    /// Add values (the attribute is created if absent).
    Add {
        /// Attribute name.
        attr: String,
        /// Values to add (at least one).
        values: Vec<Vec<u8>>,
    },
    /// Delete these values, or the whole attribute when `values` is empty.
    Delete {
        /// Attribute name.
        attr: String,
        /// Values to delete; empty deletes every value.
        values: Vec<Vec<u8>>,
    },
    /// Replace every value (an empty list removes the attribute).
    Replace {
        /// Attribute name.
        attr: String,
        /// New values.
        values: Vec<Vec<u8>>,
    },
}

fn values<V: AsRef<[u8]>>(v: impl IntoIterator<Item = V>) -> Vec<Vec<u8>> {
    v.into_iter().map(|x| x.as_ref().to_vec()).collect()
}

impl Modification {
    /// Adds values.
    pub fn add<V: AsRef<[u8]>>(attr: &str, v: impl IntoIterator<Item = V>) -> Self {
        Modification::Add {
            attr: attr.to_owned(),
            values: values(v),
        }
    }

    /// Deletes these values (or, with none, the attribute).
    pub fn delete<V: AsRef<[u8]>>(attr: &str, v: impl IntoIterator<Item = V>) -> Self {
        Modification::Delete {
            attr: attr.to_owned(),
            values: values(v),
        }
    }

    /// Deletes the whole attribute.
    pub fn delete_all(attr: &str) -> Self {
        Modification::Delete {
            attr: attr.to_owned(),
            values: Vec::new(),
        }
    }

    /// Replaces every value.
    pub fn replace<V: AsRef<[u8]>>(attr: &str, v: impl IntoIterator<Item = V>) -> Self {
        Modification::Replace {
            attr: attr.to_owned(),
            values: values(v),
        }
    }

    /// The attribute this change is about.
    pub fn attr(&self) -> &str {
        match self {
            Modification::Add { attr, .. }
            | Modification::Delete { attr, .. }
            | Modification::Replace { attr, .. } => attr,
        }
    }
}

/// Checks an attribute description (`cn`, `userCertificate;binary`, `2.5.4.3`) before it
/// is sent anywhere.
pub fn check_attribute_name(name: &str) -> Result<()> {
    let invalid = || {
        Error::new(
            ErrorCode::ValidationFailed,
            format!("'{}' is not a valid attribute name", truncate(name, 64)),
        )
        .with_detail("attribute", truncate(name, 64))
    };
    let mut parts = name.split(';');
    let base = parts.next().unwrap_or_default();
    let is_keystring = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let is_oid = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|p| {
                !p.is_empty()
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && (p == "0" || !p.starts_with('0'))
            })
    };
    let special = matches!(base, "*" | "+" | "1.1");
    if name.len() > 256 || !(is_keystring(base) || is_oid(base) || special) {
        return Err(invalid());
    }
    if parts.any(|opt| !is_keystring(opt)) {
        return Err(invalid());
    }
    Ok(())
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// What Heracles needs from a directory. Implementations must be safe to share between
/// tasks; every method is one atomic directory operation.
///
/// Errors carry the same [`ErrorCode`]s whatever the backend: `ENTRY_NOT_FOUND`,
/// `PARENT_NOT_FOUND`, `ALREADY_EXISTS`, `NOT_ALLOWED_ON_NON_LEAF`, `SCHEMA_VIOLATION`,
/// `DIRECTORY_UNAVAILABLE`, `TIMEOUT`, ...
#[async_trait]
pub trait Directory: Send + Sync + std::fmt::Debug {
    /// Every entry matching the request (all pages of it).
    async fn search(&self, req: &SearchRequest) -> Result<Vec<Entry>>;

    /// Every entry matching the request, handed to `each` one at a time as the directory
    /// sends them, so that a large search (a copy of every user) never holds all of its
    /// answer at once. An error from `each` ends the search with that error. After a lost
    /// connection the search may start again from the beginning: `each` must take an entry
    /// seen before in its stride. By default [`Directory::search`], then `each` in turn.
    async fn search_each(
        &self,
        req: &SearchRequest,
        each: &mut (dyn FnMut(Entry) -> Result<()> + Send),
    ) -> Result<()> {
        for e in self.search(req).await? {
            each(e)?;
        }
        Ok(())
    }

    /// One entry by DN, or `None` if there is none. `attributes` as in [`SearchRequest`].
    async fn get(&self, dn: &Dn, attributes: &[&str]) -> Result<Option<Entry>>;

    /// `limit` matches of `req` from the 0-based position `offset` in `req.sort` order, and
    /// how many match in all (`req.size_limit` is ignored). An offset past the end is an
    /// empty page with the total. Ties beyond the sort keys are broken by DN, so give keys
    /// that make the order total (the lists end theirs with the RDN attribute) when the
    /// answer must not depend on the backend.
    ///
    /// By default a scan of DNs and sort keys ([`scan_window`]); [`LdapDirectory`] uses the
    /// server-side sort and virtual list view controls where the server offers them.
    async fn search_window(&self, req: &SearchRequest, offset: u64, limit: u32) -> Result<Window> {
        scan_window(self, req, offset, limit).await
    }

    /// The entries at `dns`, in that order, with `attributes` (as in [`SearchRequest`]);
    /// DNs without an entry are left out.
    async fn fetch(&self, dns: &[Dn], attributes: &[String]) -> Result<Vec<Entry>> {
        let attrs: Vec<&str> = attributes.iter().map(String::as_str).collect();
        let mut out = Vec::with_capacity(dns.len());
        for dn in dns {
            if let Some(e) = self.get(dn, &attrs).await? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// The current state of the directory below `base` (see [`Marker`]), so that what was
    /// computed from the directory under one marker can be reused until a later marker
    /// says something that matters changed (the lists' sorted-DN cache). `None`: the
    /// directory has none (an LDAP server without `contextCSN`, i.e. without the syncprov
    /// overlay), and nothing may be cached.
    ///
    /// On an LDAP server with syncprov this costs no round trip once the change watch is
    /// live: a persistent search (RFC 4533) logs every change as the server notifies it
    /// (DN, object classes), and writes through this directory are logged at once (with
    /// the attributes they wrote); until then, and whenever that search is down, the
    /// marker is the naming context's `contextCSN` and tells nothing of what changed.
    async fn change_marker(&self, base: &Dn) -> Result<Option<Marker>> {
        let _ = base;
        Ok(None)
    }

    /// Whether the directory itself keeps `memberOf` on the members of `groupOfNames`
    /// groups: `Some(false)` when it certainly does not (the embedded directory, even if
    /// imported entries carry `memberOf` values), `None` when only looking can tell (an
    /// LDAP server, with or without the memberof overlay).
    fn keeps_member_of(&self) -> Option<bool> {
        None
    }

    /// Adds an entry; its parent must exist.
    async fn add(&self, entry: &Entry) -> Result<()>;

    /// Applies the changes to one entry, all or nothing.
    async fn modify(&self, dn: &Dn, changes: &[Modification]) -> Result<()> {
        self.modify_if(dn, changes, None).await
    }

    /// Like [`Directory::modify`], but only while the entry matches `assertion`, checked in
    /// the same operation as the write (the LDAP assertion control of RFC 4528, critical;
    /// under the write lock on the embedded directory). An entry that no longer matches is
    /// `PRECONDITION_FAILED` and nothing changes. With no changes the assertion is still
    /// checked.
    async fn modify_if(
        &self,
        dn: &Dn,
        changes: &[Modification],
        assertion: Option<&Filter>,
    ) -> Result<()>;

    /// Deletes a leaf entry.
    async fn delete(&self, dn: &Dn) -> Result<()> {
        self.delete_if(dn, None).await
    }

    /// Like [`Directory::delete`], but only while the entry matches `assertion` (see
    /// [`Directory::modify_if`]).
    async fn delete_if(&self, dn: &Dn, assertion: Option<&Filter>) -> Result<()>;

    /// Renames an entry and/or moves it under `new_superior`; returns the new DN.
    async fn rename(
        &self,
        dn: &Dn,
        new_rdn: &Rdn,
        delete_old_rdn: bool,
        new_superior: Option<&Dn>,
    ) -> Result<Dn>;

    /// Whether `password` is the password of `dn`, checked by the directory (a bind).
    /// Wrong password, unknown DN and locked account are all `Ok(false)`; an empty password
    /// is always `Ok(false)` (it would be an unauthenticated bind).
    async fn check_password(&self, dn: &Dn, password: &str) -> Result<bool>;

    /// Whether `attr` of `dn` holds `value` under the attribute's equality rule. An absent
    /// attribute compares false; an absent entry is `ENTRY_NOT_FOUND`.
    async fn compare(&self, dn: &Dn, attr: &str, value: &[u8]) -> Result<bool>;

    /// Whether the directory answers.
    async fn health(&self) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names() {
        for ok in [
            "cn",
            "objectClass",
            "userCertificate;binary",
            "2.5.4.3",
            "*",
            "+",
            "1.1",
        ] {
            assert!(check_attribute_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1cn", "cn=x", "c n", "cn;", "01.2", "cn)(x", "é"] {
            let e = check_attribute_name(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{bad}");
        }
        assert!(check_attribute_name(&"a".repeat(1000)).is_err());
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("ééé", 3), "é…");
    }
}
