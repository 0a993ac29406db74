//! Departments: `organizationalUnit` trees below `ou=departments` (SPEC §3, §4).
//!
//! A department is addressed by its `ou` when that name is unique in the whole department
//! tree, by `ou` plus the DN of its parent, or by its full DN. Two departments with the same
//! name at different places make a bare `ou` ambiguous: `BUSINESS_RULE_VIOLATION` whose
//! `candidates` detail lists their DNs.
//!
//! Any `organizationalUnit` below `ou=departments` is a department, whoever wrote it — except
//! that the name of the container itself (`departments`) is reserved: no department may be
//! called that, at any depth, so that lists can tell the container from its contents by a
//! filter alone.
//!
//! Deleting a department that still holds entries (sub-departments, users, groups, ...) is
//! refused with `BUSINESS_RULE_VIOLATION` unless `recursive` is set, which deletes the whole
//! subtree, deepest entries first.
//!
//! Until fine-grained access control exists every operation needs an administrator
//! (`department:read`, `department:create`, `department:write`, `department:delete`).

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::common::{allow_list, list_entries};
use super::version::{guard, IfMatch, CSN};
use crate::acl::{Action, ObjectType, Permission};
use crate::audit::{action, object_type, Operation};

const READ: Permission = Permission::new(ObjectType::Department, Action::Read);
const WRITE: Permission = Permission::new(ObjectType::Department, Action::Write);
const CREATE: Permission = Permission::new(ObjectType::Department, Action::Create);
const DELETE: Permission = Permission::new(ObjectType::Department, Action::Delete);
use super::{Container, Heracles, ListQuery, Principal};
use crate::directory::{Entry, Modification, Scope, SearchRequest};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;
use crate::page::Page;

/// Fields of a department that lists may filter and sort on.
const FIELDS: &[&str] = &["ou", "description"];
/// Longest `ou` (the `{64}` bound of X.520's organizationalUnitName).
const MAX_OU_CHARS: usize = 64;
/// Longest description (the `{1024}` bound of X.520's description).
const MAX_DESCRIPTION_CHARS: usize = 1024;
/// How many times a recursive delete re-reads a subtree that changed under it.
const DELETE_ATTEMPTS: usize = 3;

/// A department, as answers show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Its DN.
    pub dn: Dn,
    /// Its name (the value of its RDN).
    pub ou: String,
    /// Free text; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The DN of the department it is in; `None` for a top-level department.
    pub parent: Option<Dn>,
    /// The number of its direct sub-departments.
    pub children_count: u64,
}

/// A department with its sub-departments (`GET /departments/tree`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartmentNode {
    /// The department.
    pub department: Department,
    /// Its direct sub-departments, ordered by `ou` (case-insensitively).
    pub children: Vec<DepartmentNode>,
}

/// The body of `POST /departments`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDepartment {
    /// Its name: 1 to 64 characters, no control characters, no leading or trailing space,
    /// not `departments`.
    pub ou: String,
    /// Free text (1 to 1024 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// The parent department: its DN, or its `ou` when unique. Absent or `null`: top level.
    #[serde(default)]
    pub parent: Option<String>,
}

/// The body of `PUT /departments/{ou}`: only the fields given change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepartmentUpdate {
    /// Absent: unchanged; `null`: removed; a string: replaced.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
}

/// Deserialises a field that distinguishes absent (`None`, through `#[serde(default)]`) from
/// `null` (`Some(None)`) and a value (`Some(Some(v))`).
#[allow(clippy::option_option)] // absent, null and a value are three cases
pub(crate) fn nullable<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Department operations; get one with [`Heracles::departments`].
#[derive(Debug, Clone, Copy)]
pub struct Departments<'a> {
    h: &'a Heracles,
    if_match: Option<&'a IfMatch>,
}

impl<'a> Departments<'a> {
    pub(super) fn new(h: &'a Heracles) -> Self {
        Departments { h, if_match: None }
    }

    /// The same operations, with `Some`: writing only while the department still has one of the
    /// expected versions (see [`version`](super::version)); otherwise `PRECONDITION_FAILED`.
    /// A recursive delete checks it before deleting anything.
    #[must_use]
    pub fn if_match(self, expected: Option<&'a IfMatch>) -> Self {
        Departments {
            if_match: expected,
            ..self
        }
    }

    /// The assertion a write of `entry` must carry under the expected version.
    async fn guard(&self, container: &Dn, entry: &Entry) -> Result<Option<Filter>> {
        if self.if_match.is_none() {
            return Ok(None);
        }
        let current = self.answer(container, entry).await?;
        guard(self.if_match, &current, entry)
    }

    fn container(self) -> Result<Dn> {
        self.h.container(Container::Departments)
    }

    /// Every `organizationalUnit` below the container except the container itself.
    fn object_filter(container: &Dn) -> Filter {
        let reserved = container
            .rdn()
            .map_or(Container::Departments.ou(), Rdn::value);
        Filter::and([
            Filter::eq("objectClass", "organizationalUnit"),
            Filter::not(Filter::eq("ou", reserved)),
        ])
    }

    /// All departments at any depth, narrowed by `filter=` clauses on `ou` and
    /// `description`, sorted (default: by `ou`), one page of them.
    pub async fn list(&self, p: &Principal, q: &ListQuery) -> Result<Page<Department>> {
        let container = self.container()?;
        p.check_somewhere(READ, &container.to_string())?;
        let allow = allow_list(self.h.schema(), FIELDS);
        let page = match list_entries(
            self.h,
            (p, READ),
            &container,
            Self::object_filter(&container),
            &allow,
            q,
            "ou",
        )
        .await
        {
            Ok(page) => page,
            Err(e) if e.code() == ErrorCode::EntryNotFound => {
                // No container yet: no departments (the query was checked before the search).
                q.page.slice(Vec::new())
            }
            Err(e) => return Err(e),
        };
        let counts = self.child_counts(&container).await?;
        Ok(page.map(|e| to_department(&e, &container, &counts)))
    }

    /// The whole department forest: top-level departments, each with its sub-departments,
    /// every level ordered by `ou` (case-insensitively).
    pub async fn tree(&self, p: &Principal) -> Result<Vec<DepartmentNode>> {
        let container = self.container()?;
        p.check_somewhere(READ, &container.to_string())?;
        let mut all = self.all(&container, &[]).await?;
        // Only readable departments; one whose parent is hidden hangs from its nearest
        // readable ancestor (or the top).
        all.retain(|e| p.allows(READ, &e.dn));
        let shown: std::collections::HashSet<Dn> = all.iter().map(|e| e.dn.clone()).collect();
        let mut by_parent: HashMap<Dn, Vec<Entry>> = HashMap::new();
        for e in all {
            let mut parent = e.dn.parent();
            while let Some(d) = &parent {
                if shown.contains(d) || !d.is_descendant_of(&container) {
                    break;
                }
                parent = d.parent();
            }
            let parent = match parent {
                Some(d) if shown.contains(&d) => d,
                _ => container.clone(),
            };
            by_parent.entry(parent).or_default().push(e);
        }
        Ok(build_level(&container, &container, &mut by_parent))
    }

    /// One department: `ou` alone (unique name, or a DN below `ou=departments`), or `ou`
    /// below `parent` (a department's DN, or the container for a top-level one).
    /// `DEPARTMENT_NOT_FOUND` if there is none; `BUSINESS_RULE_VIOLATION` with `candidates`
    /// if `ou` alone names several.
    pub async fn get(&self, p: &Principal, ou: &str, parent: Option<&Dn>) -> Result<Department> {
        let container = self.container()?;
        p.check_somewhere(READ, &target(&container, ou, parent))?;
        let entry = self.locate(&container, ou, parent).await?;
        p.check(READ, &entry.dn)?;
        self.answer(&container, &entry).await
    }

    /// The DN of the department `key` names (a DN below `ou=departments`, or a unique `ou`),
    /// for services that create objects inside a department (the `department` field of a
    /// user or group body). Errors as [`Departments::get`].
    pub async fn resolve(&self, p: &Principal, key: &str) -> Result<Dn> {
        let container = self.container()?;
        p.check_somewhere(READ, &target(&container, key, None))?;
        let dn = self.locate(&container, key, None).await?.dn;
        p.check(READ, &dn)?;
        Ok(dn)
    }

    /// Creates a department. Its parent (a DN or a unique `ou`) must be a department:
    /// `DEPARTMENT_NOT_FOUND` otherwise; `ALREADY_EXISTS` if the parent already holds an
    /// entry of that name.
    pub async fn create(&self, p: &Principal, body: &NewDepartment) -> Result<Department> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::DEPARTMENT, &body.ou);
        let outcome = self.create_op(p, body, &mut op).await;
        op.done(outcome).await
    }

    async fn create_op(
        &self,
        p: &Principal,
        body: &NewDepartment,
        op: &mut Operation<'_>,
    ) -> Result<Department> {
        let container = self.container()?;
        let target = match body.parent.as_deref() {
            None => target(&container, &body.ou, Some(&container)),
            Some(parent) => match Dn::parse(parent) {
                Ok(parent) => target(&container, &body.ou, Some(&parent)),
                Err(_) => container.to_string(),
            },
        };
        p.check_somewhere(CREATE, &target)?;
        check_ou(&body.ou, &container)?;
        let description = match body.description.as_deref() {
            Some(d) => Some(check_description(d)?),
            None => None,
        };
        let parent = match body.parent.as_deref() {
            None => container.clone(),
            Some(key) => self.parent_dn(&container, key).await?,
        };
        let dn = parent.checked_child(Rdn::new("ou", &body.ou)?)?;
        p.check(CREATE, &dn)?;
        let mut entry = Entry::new(dn.clone())
            .with("objectClass", ["top", "organizationalUnit"])
            .with("ou", [body.ou.as_str()]);
        if let Some(d) = description {
            entry.set("description", [d]);
        }
        op.target(&dn);
        op.begin().await?;
        let mut added = self.h.directory().add(&entry).await;
        if parent == container && matches!(&added, Err(e) if e.code() == ErrorCode::ParentNotFound)
        {
            super::settings::ensure_container(self.h, Container::Departments).await?;
            added = self.h.directory().add(&entry).await;
        }
        added.map_err(|e| match e.code() {
            ErrorCode::AlreadyExists => e.with_message(format!(
                "an entry named '{}' already exists in '{parent}'",
                body.ou
            )),
            ErrorCode::ParentNotFound => not_found(&parent.to_string()),
            _ => e,
        })?;
        op.changes(None, Some(&entry));
        self.answer(&container, &entry).await
    }

    /// Changes a department's description (`Some(None)` removes it). The department is
    /// addressed as in [`Departments::get`].
    pub async fn update(
        &self,
        p: &Principal,
        ou: &str,
        parent: Option<&Dn>,
        changes: &DepartmentUpdate,
    ) -> Result<Department> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::DEPARTMENT, ou);
        let outcome = self.update_op(p, ou, parent, changes, &mut op).await;
        op.done(outcome).await
    }

    async fn update_op(
        &self,
        p: &Principal,
        ou: &str,
        parent: Option<&Dn>,
        changes: &DepartmentUpdate,
        op: &mut Operation<'_>,
    ) -> Result<Department> {
        let container = self.container()?;
        p.check_somewhere(WRITE, &target(&container, ou, parent))?;
        let mods = match &changes.description {
            None => Vec::new(),
            Some(None) => vec![Modification::replace("description", Vec::<&str>::new())],
            Some(Some(d)) => vec![Modification::replace(
                "description",
                [check_description(d)?],
            )],
        };
        let entry = self.locate(&container, ou, parent).await?;
        op.target(&entry.dn);
        p.check(WRITE, &entry.dn)?;
        p.check_attributes(WRITE, &entry.dn, mods.iter().map(Modification::attr))?;
        let assertion = self.guard(&container, &entry).await?;
        op.target(&entry.dn);
        if mods.is_empty() {
            return self.answer(&container, &entry).await;
        }
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&entry.dn, &mods, assertion.as_ref())
            .await
            .map_err(|e| not_found_as_department(e, &entry.dn))?;
        let updated = self
            .h
            .directory()
            .get(&entry.dn, &[])
            .await?
            .ok_or_else(|| not_found(&entry.dn.to_string()))?;
        op.changes(Some(&entry), Some(&updated));
        self.answer(&container, &updated).await
    }

    /// Deletes a department, addressed as in [`Departments::get`]. One that still holds
    /// entries is `BUSINESS_RULE_VIOLATION` (details: `dn`, `entries` — how many it holds at
    /// any depth) unless `recursive`, which deletes the whole subtree, deepest first; users
    /// in it are removed from their groups and lose their sessions and assignments, as with
    /// [`Users::delete`](super::users::Users::delete).
    pub async fn delete(
        &self,
        p: &Principal,
        ou: &str,
        parent: Option<&Dn>,
        recursive: bool,
    ) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::DEPARTMENT, ou);
        let outcome = self.delete_op(p, ou, parent, recursive, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_op(
        &self,
        p: &Principal,
        ou: &str,
        parent: Option<&Dn>,
        recursive: bool,
        op: &mut Operation<'_>,
    ) -> Result<()> {
        let container = self.container()?;
        p.check_somewhere(DELETE, &target(&container, ou, parent))?;
        let entry = self.locate(&container, ou, parent).await?;
        op.target(&entry.dn);
        p.check(DELETE, &entry.dn)?;
        let assertion = self.guard(&container, &entry).await?;
        op.target(&entry.dn);
        op.changes(Some(&entry), None);
        let dn = entry.dn;
        for _ in 0..DELETE_ATTEMPTS {
            let mut below = self.subtree_dns(&dn).await?;
            if !recursive && !below.is_empty() {
                return Err(Error::new(
                    ErrorCode::BusinessRuleViolation,
                    format!(
                        "department '{dn}' still holds {} entr{}; delete them first or \
                         delete recursively",
                        below.len(),
                        if below.len() == 1 { "y" } else { "ies" }
                    ),
                )
                .with_detail("dn", dn.to_string())
                .with_detail("entries", below.len()));
            }
            // Everything inside must be deletable by the caller, each as what it is.
            if !below.is_empty() {
                self.check_deletable(p, &dn).await?;
            }
            op.begin().await?;
            // Users inside go the way every deleted user goes (groups, sessions, assignments).
            if !below.is_empty() {
                let users = self
                    .h
                    .directory()
                    .search(&SearchRequest::new(
                        dn.clone(),
                        Scope::Subtree,
                        Filter::eq("objectClass", "inetOrgPerson"),
                    ))
                    .await?;
                for u in &users {
                    self.h.users().forget(u).await?;
                }
            }
            // Deepest first, so every delete is of a leaf.
            below.sort_by_key(|d| std::cmp::Reverse(d.len()));
            for d in below.iter().chain(std::iter::once(&dn)) {
                let condition = if *d == dn { assertion.as_ref() } else { None };
                match self.h.directory().delete_if(d, condition).await {
                    Ok(()) => {}
                    // Someone else deleted it meanwhile: fine.
                    Err(e) if e.code() == ErrorCode::EntryNotFound && *d != dn => {}
                    Err(e) if e.code() == ErrorCode::EntryNotFound => {
                        return Err(not_found_as_department(e, &dn));
                    }
                    // Someone added below it meanwhile: look again.
                    Err(e) if e.code() == ErrorCode::NotAllowedOnNonLeaf => break,
                    Err(e) => return Err(e),
                }
                if *d == dn {
                    return Ok(());
                }
            }
        }
        Err(Error::new(
            ErrorCode::BusinessRuleViolation,
            format!("department '{dn}' kept receiving new entries while being deleted"),
        )
        .with_detail("dn", dn.to_string()))
    }

    // ---- helpers ------------------------------------------------------------------------

    /// The department entry `key` (with `parent`) names.
    async fn locate(&self, container: &Dn, key: &str, parent: Option<&Dn>) -> Result<Entry> {
        if let Some(parent) = parent {
            if !parent.is_descendant_or_self(container) {
                return Err(not_found(key).with_detail("parent", parent.to_string()));
            }
            let Ok(rdn) = Rdn::new("ou", key) else {
                return Err(not_found(key));
            };
            let dn = parent.child(rdn);
            return self
                .read(&dn)
                .await?
                .ok_or_else(|| not_found(key).with_detail("parent", parent.to_string()));
        }
        if let Ok(dn) = Dn::parse(key) {
            if dn.is_descendant_of(container) {
                return self.read(&dn).await?.ok_or_else(|| not_found(key));
            }
        }
        let Ok(rdn) = Rdn::new("ou", key) else {
            return Err(not_found(key));
        };
        let filter = Filter::and([Self::object_filter(container), Filter::eq("ou", key)]);
        let req =
            SearchRequest::new(container.clone(), Scope::Subtree, filter).attributes(["*", CSN]);
        let mut found: Vec<Entry> = match self.h.directory().search(&req).await {
            Ok(found) => found,
            Err(e) if e.code() == ErrorCode::EntryNotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        // `ou` is multi-valued: only the entries *named* `key` count.
        found.retain(|e| e.dn.rdn() == Some(&rdn) && e.dn.is_descendant_of(container));
        found.sort_by(|a, b| a.dn.cmp(&b.dn));
        match found.len() {
            0 => Err(not_found(key)),
            1 => Ok(found.remove(0)),
            n => Err(Error::new(
                ErrorCode::BusinessRuleViolation,
                format!("{n} departments are named '{key}': give the parent or the full DN"),
            )
            .with_detail("ou", key)
            .with_detail(
                "candidates",
                found.iter().map(|e| e.dn.to_string()).collect::<Vec<_>>(),
            )),
        }
    }

    /// The entry at `dn` if it is a department.
    async fn read(&self, dn: &Dn) -> Result<Option<Entry>> {
        let entry = self.h.directory().get(dn, &["*", CSN]).await?;
        Ok(entry.filter(|e| e.has_value("objectClass", "organizationalUnit")))
    }

    /// The DN a new department goes below: the container, or the department `key` names.
    async fn parent_dn(&self, container: &Dn, key: &str) -> Result<Dn> {
        if let Ok(dn) = Dn::parse(key) {
            if dn == *container {
                return Ok(dn);
            }
        }
        self.locate(container, key, None)
            .await
            .map(|e| e.dn)
            .map_err(|e| {
                if e.code() == ErrorCode::DepartmentNotFound {
                    e.with_message(format!("parent department '{key}' not found"))
                        .with_detail("parent", key)
                } else {
                    e
                }
            })
    }

    /// Every department below `container` (at any depth).
    async fn all(&self, container: &Dn, attributes: &[&str]) -> Result<Vec<Entry>> {
        let req = SearchRequest::new(
            container.clone(),
            Scope::Subtree,
            Self::object_filter(container),
        )
        .attributes(attributes);
        match self.h.directory().search(&req).await {
            Ok(all) => Ok(all
                .into_iter()
                .filter(|e| e.dn.is_descendant_of(container))
                .collect()),
            Err(e) if e.code() == ErrorCode::EntryNotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// `ACL_DENIED` naming the first entry below `dn` the caller may not delete: users
    /// need `user:delete`, groups `group:delete`, anything else `department:delete`.
    async fn check_deletable(&self, p: &Principal, dn: &Dn) -> Result<()> {
        if p.acl().is_unrestricted() {
            return Ok(());
        }
        let req = SearchRequest::new(dn.clone(), Scope::Subtree, Filter::present("objectClass"))
            .attributes(["objectClass"]);
        for e in self.h.directory().search(&req).await? {
            let object = if e.has_value("objectClass", "inetOrgPerson") {
                ObjectType::User
            } else if e.has_value("objectClass", "groupOfNames")
                || e.has_value("objectClass", "posixGroup")
            {
                ObjectType::Group
            } else {
                ObjectType::Department
            };
            p.check(Permission::new(object, Action::Delete), &e.dn)?;
        }
        Ok(())
    }

    /// Number of direct sub-departments of every department that has some, by DN.
    async fn child_counts(&self, container: &Dn) -> Result<HashMap<Dn, u64>> {
        let mut counts = HashMap::new();
        for e in self.all(container, &["1.1"]).await? {
            if let Some(parent) = e.dn.parent() {
                *counts.entry(parent).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    /// The DNs of every entry below `dn` (not `dn` itself).
    async fn subtree_dns(&self, dn: &Dn) -> Result<Vec<Dn>> {
        let req = SearchRequest::new(dn.clone(), Scope::Subtree, Filter::present("objectClass"))
            .attributes(["1.1"]);
        let found = self
            .h
            .directory()
            .search(&req)
            .await
            .map_err(|e| not_found_as_department(e, dn))?;
        Ok(found
            .into_iter()
            .map(|e| e.dn)
            .filter(|d| d.is_descendant_of(dn))
            .collect())
    }

    /// The answer for one department entry (counting its sub-departments).
    async fn answer(&self, container: &Dn, entry: &Entry) -> Result<Department> {
        let req = SearchRequest::new(entry.dn.clone(), Scope::One, Self::object_filter(container))
            .attributes(["1.1"]);
        let children = self.h.directory().search(&req).await?.len() as u64;
        let mut counts = HashMap::new();
        counts.insert(entry.dn.clone(), children);
        Ok(to_department(entry, container, &counts))
    }
}

/// The target named in an access decision, known before touching the directory.
fn target(container: &Dn, key: &str, parent: Option<&Dn>) -> String {
    let rdn = Rdn::new("ou", key);
    match (parent, rdn) {
        (Some(parent), Ok(rdn)) => parent.child(rdn).to_string(),
        (None, _) => match Dn::parse(key) {
            Ok(dn) if dn.is_descendant_of(container) => dn.to_string(),
            _ => container.to_string(),
        },
        (Some(_), Err(_)) => container.to_string(),
    }
}

fn to_department(e: &Entry, container: &Dn, counts: &HashMap<Dn, u64>) -> Department {
    let ou =
        e.dn.rdn()
            .and_then(|r| r.value_of("ou"))
            .or_else(|| e.first_str("ou"))
            .unwrap_or_default()
            .to_owned();
    Department {
        ou,
        description: e.first_str("description").map(str::to_owned),
        parent: e.dn.parent().filter(|p| p != container),
        children_count: counts.get(&e.dn).copied().unwrap_or(0),
        dn: e.dn.clone(),
    }
}

fn build_level(
    container: &Dn,
    parent: &Dn,
    by_parent: &mut HashMap<Dn, Vec<Entry>>,
) -> Vec<DepartmentNode> {
    let mut entries = by_parent.remove(parent).unwrap_or_default();
    entries.sort_by_cached_key(|e| {
        (
            e.dn.rdn().map(|r| r.value().to_lowercase()),
            e.dn.normalized(),
        )
    });
    entries
        .into_iter()
        .map(|e| {
            let children = build_level(container, &e.dn, by_parent);
            let mut counts = HashMap::new();
            counts.insert(e.dn.clone(), children.len() as u64);
            DepartmentNode {
                department: to_department(&e, container, &counts),
                children,
            }
        })
        .collect()
}

fn not_found(key: &str) -> Error {
    Error::new(
        ErrorCode::DepartmentNotFound,
        format!("department '{key}' not found"),
    )
    .with_detail("department", key)
}

fn not_found_as_department(e: Error, dn: &Dn) -> Error {
    if e.code() == ErrorCode::EntryNotFound {
        not_found(&dn.to_string())
    } else {
        e
    }
}

/// Checks a new department's name.
fn check_ou(ou: &str, container: &Dn) -> Result<()> {
    let fail = |reason: &str, message: String| {
        Error::validation("ou", message)
            .with_detail("reason", reason)
            .with_detail("value", crate::directory::truncate(ou, 80))
    };
    if ou.is_empty() {
        return Err(fail("empty", "ou must not be empty".to_owned()));
    }
    if ou.chars().count() > MAX_OU_CHARS {
        return Err(fail(
            "too_long",
            format!("ou must be at most {MAX_OU_CHARS} characters"),
        ));
    }
    if ou.chars().any(char::is_control) {
        return Err(fail(
            "invalid_character",
            "ou must not contain control characters".to_owned(),
        ));
    }
    if ou.trim() != ou {
        return Err(fail(
            "surrounding_space",
            "ou must not begin or end with white space".to_owned(),
        ));
    }
    let reserved = container
        .rdn()
        .map_or(Container::Departments.ou(), Rdn::value);
    if ou.eq_ignore_ascii_case(reserved) {
        return Err(fail(
            "reserved",
            format!("'{reserved}' is the name of the departments container"),
        ));
    }
    Ok(())
}

/// Checks a description; returns it.
pub(super) fn check_description(d: &str) -> Result<&str> {
    let fail = |reason: &str, message: &str| {
        Error::validation("description", message).with_detail("reason", reason)
    };
    if d.is_empty() {
        return Err(fail(
            "empty",
            "description must not be empty (use null to remove it)",
        ));
    }
    if d.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(fail(
            "too_long",
            "description must be at most 1024 characters",
        ));
    }
    if d.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(fail(
            "invalid_character",
            "description must not contain control characters",
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::settings::testing::{admin, fixture, user};
    use super::*;
    use crate::page::PageRequest;

    fn body(ou: &str, parent: Option<&str>) -> NewDepartment {
        NewDepartment {
            ou: ou.into(),
            description: Some(format!("{ou} department")),
            parent: parent.map(str::to_owned),
        }
    }

    fn dn(s: &str) -> Dn {
        Dn::parse(s).unwrap()
    }

    /// Engineering > {Backend > Platform, Frontend}, Sales > Backend, Marketing.
    async fn seed(h: &Heracles) {
        let d = h.departments();
        let adm = admin(h);
        d.create(&adm, &body("Engineering", None)).await.unwrap();
        d.create(&adm, &body("Sales", None)).await.unwrap();
        d.create(&adm, &body("Marketing", None)).await.unwrap();
        d.create(&adm, &body("Backend", Some("Engineering")))
            .await
            .unwrap();
        d.create(
            &adm,
            &body(
                "Frontend",
                Some("ou=Engineering,ou=departments,dc=example,dc=com"),
            ),
        )
        .await
        .unwrap();
        d.create(
            &adm,
            &body(
                "Platform",
                Some("ou=Backend,ou=Engineering,ou=departments,dc=example,dc=com"),
            ),
        )
        .await
        .unwrap();
        d.create(&adm, &body("Backend", Some("Sales")))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn non_admins_are_denied() {
        let (_dir, h) = fixture();
        seed(&h).await;
        let d = h.departments();
        let u = user();
        for e in [
            d.list(&u, &ListQuery::default()).await.unwrap_err(),
            d.tree(&u).await.unwrap_err(),
            d.get(&u, "Sales", None).await.unwrap_err(),
            d.resolve(&u, "Sales").await.unwrap_err(),
            d.create(&u, &body("X", None)).await.unwrap_err(),
            d.update(&u, "Sales", None, &DepartmentUpdate::default())
                .await
                .unwrap_err(),
            d.delete(&u, "Marketing", None, false).await.unwrap_err(),
        ] {
            assert_eq!(e.code(), ErrorCode::AclDenied);
            assert!(e.details()["permission"]
                .as_str()
                .unwrap()
                .starts_with("department:"));
        }
        assert!(d.get(&admin(&h), "Marketing", None).await.is_ok());
    }

    #[tokio::test]
    async fn create_get_and_addressing() {
        let (_dir, h) = fixture();
        seed(&h).await;
        let d = h.departments();
        let adm = admin(&h);
        let eng = d.get(&adm, "engineering", None).await.unwrap();
        assert_eq!(eng.ou, "Engineering");
        assert_eq!(
            eng.dn,
            dn("ou=Engineering,ou=departments,dc=example,dc=com")
        );
        assert_eq!(eng.parent, None);
        assert_eq!(eng.children_count, 2);
        assert_eq!(eng.description.as_deref(), Some("Engineering department"));
        let json = serde_json::to_value(&eng).unwrap();
        assert_eq!(json["parent"], serde_json::Value::Null);
        assert_eq!(
            json["dn"],
            "ou=Engineering,ou=departments,dc=example,dc=com"
        );

        let platform = d.get(&adm, "Platform", None).await.unwrap();
        assert_eq!(
            platform.parent,
            Some(dn(
                "ou=Backend,ou=Engineering,ou=departments,dc=example,dc=com"
            ))
        );
        assert_eq!(platform.children_count, 0);

        // Ambiguous name: 422 naming the candidates.
        let e = d.get(&adm, "Backend", None).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
        assert_eq!(
            e.details()["candidates"],
            json!([
                "ou=Backend,ou=Engineering,ou=departments,dc=example,dc=com",
                "ou=Backend,ou=Sales,ou=departments,dc=example,dc=com"
            ])
        );
        // ... resolved by the parent or the DN.
        let sales = dn("ou=Sales,ou=departments,dc=example,dc=com");
        let b = d.get(&adm, "Backend", Some(&sales)).await.unwrap();
        assert_eq!(b.parent, Some(sales.clone()));
        let by_dn = d
            .get(
                &adm,
                "ou=Backend,ou=Sales,ou=departments,dc=example,dc=com",
                None,
            )
            .await
            .unwrap();
        assert_eq!(by_dn, b);
        assert_eq!(d.resolve(&adm, "Platform").await.unwrap(), platform.dn);
        assert_eq!(d.resolve(&adm, &sales.to_string()).await.unwrap(), sales);
        let e = d.resolve(&adm, "Backend").await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
        // The container itself is a valid parent for top-level lookups.
        let top = h.container(Container::Departments).unwrap();
        assert_eq!(d.get(&adm, "Sales", Some(&top)).await.unwrap().dn, sales);

        // Not found.
        for e in [
            d.get(&adm, "Nope", None).await.unwrap_err(),
            d.get(&adm, "Platform", Some(&sales)).await.unwrap_err(),
            d.get(&adm, "people", Some(h.base())).await.unwrap_err(),
            d.get(&adm, "ou=people,dc=example,dc=com", None)
                .await
                .unwrap_err(),
            d.get(&adm, "ou=departments,dc=example,dc=com", None)
                .await
                .unwrap_err(),
            d.get(&adm, "departments", None).await.unwrap_err(),
            d.get(&adm, "", None).await.unwrap_err(),
            d.resolve(&adm, "ou=Nope,ou=departments,dc=example,dc=com")
                .await
                .unwrap_err(),
        ] {
            assert_eq!(e.code(), ErrorCode::DepartmentNotFound, "{e}");
        }
    }

    #[tokio::test]
    async fn create_errors() {
        let (_dir, h) = fixture();
        seed(&h).await;
        let d = h.departments();
        let adm = admin(&h);
        let e = d.create(&adm, &body("Sales", None)).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::AlreadyExists);
        let e = d.create(&adm, &body("SALES", None)).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::AlreadyExists);
        let e = d
            .create(
                &adm,
                &body(
                    "Platform",
                    Some("ou=Backend,ou=Engineering,ou=departments,dc=example,dc=com"),
                ),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::AlreadyExists);
        for parent in [
            "Nope",
            "ou=Nope,ou=departments,dc=example,dc=com",
            "ou=people,dc=example,dc=com",
        ] {
            let e = d.create(&adm, &body("X", Some(parent))).await.unwrap_err();
            assert_eq!(e.code(), ErrorCode::DepartmentNotFound, "{parent}");
            assert_eq!(e.details()["parent"], parent);
        }
        // An ambiguous parent name is the 422 of get.
        let e = d
            .create(&adm, &body("X", Some("Backend")))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
        for bad in [
            "",
            " Lead",
            "Trail ",
            "a\nb",
            "departments",
            "DEPARTMENTS",
            &"x".repeat(65),
        ] {
            let e = d.create(&adm, &body(bad, None)).await.unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{bad:?}");
            assert_eq!(e.details()["field"], "ou");
        }
        let e = d
            .create(
                &adm,
                &NewDepartment {
                    description: Some(String::new()),
                    ..body("X", None)
                },
            )
            .await
            .unwrap_err();
        assert_eq!(e.details()["field"], "description");
        // Special characters are escaped into the DN and kept in the name.
        let odd = d
            .create(&adm, &body("R&D, \"Labs\"+1", None))
            .await
            .unwrap();
        assert_eq!(odd.ou, "R&D, \"Labs\"+1");
        assert_eq!(d.resolve(&adm, "R&D, \"Labs\"+1").await.unwrap(), odd.dn);
        let top = d
            .create(&adm, &body("Top", Some("ou=departments,dc=example,dc=com")))
            .await
            .unwrap();
        assert_eq!(top.parent, None);
        // Bodies refuse unknown fields.
        let e =
            serde_json::from_value::<NewDepartment>(json!({"ou": "x", "name": "y"})).unwrap_err();
        assert!(e.to_string().contains("name"));
        let e = serde_json::from_value::<DepartmentUpdate>(json!({"ou": "x"})).unwrap_err();
        assert!(e.to_string().contains("ou"));
    }

    #[tokio::test]
    async fn a_missing_container_is_empty_and_created_on_write() {
        let (_dir, h) = fixture();
        let adm = admin(&h);
        let container = h.container(Container::Departments).unwrap();
        h.directory().delete(&container).await.unwrap();
        let d = h.departments();
        assert!(d.tree(&adm).await.unwrap().is_empty());
        let page = d.list(&adm, &ListQuery::default()).await.unwrap();
        assert_eq!(page.pagination.total, 0);
        let e = d.get(&adm, "Sales", None).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::DepartmentNotFound);
        let sales = d.create(&adm, &body("Sales", None)).await.unwrap();
        assert_eq!(sales.dn, container.child(Rdn::new("ou", "Sales").unwrap()));
    }

    #[tokio::test]
    async fn list_and_tree() {
        let (_dir, h) = fixture();
        let d = h.departments();
        let adm = admin(&h);
        assert!(d.tree(&adm).await.unwrap().is_empty());
        assert_eq!(
            d.list(&adm, &ListQuery::default())
                .await
                .unwrap()
                .pagination
                .total,
            0
        );
        seed(&h).await;
        let page = d.list(&adm, &ListQuery::default()).await.unwrap();
        assert_eq!(page.pagination.total, 7);
        let names: Vec<_> = page.data.iter().map(|d| d.ou.as_str()).collect();
        assert_eq!(
            names,
            [
                "Backend",
                "Backend",
                "Engineering",
                "Frontend",
                "Marketing",
                "Platform",
                "Sales"
            ]
        );
        let eng = page.data.iter().find(|d| d.ou == "Engineering").unwrap();
        assert_eq!(eng.children_count, 2);
        let page = d
            .list(
                &adm,
                &ListQuery::default()
                    .filter("ou:starts:b")
                    .page(PageRequest::new(1, 1).unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(page.pagination.total, 2);
        assert_eq!(page.data.len(), 1);
        assert!(!page.pagination.has_more);
        let page = d
            .list(
                &adm,
                &ListQuery::default()
                    .filter("description:contains:ket")
                    .sort("-ou"),
            )
            .await
            .unwrap();
        assert_eq!(page.data.len(), 1);
        assert_eq!(page.data[0].ou, "Marketing");
        let e = d
            .list(&adm, &ListQuery::default().filter("uid:eq:x"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidFilter);
        let e = d
            .list(&adm, &ListQuery::default().sort("cn"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);

        let tree = d.tree(&adm).await.unwrap();
        let top: Vec<_> = tree.iter().map(|n| n.department.ou.as_str()).collect();
        assert_eq!(top, ["Engineering", "Marketing", "Sales"]);
        let eng = &tree[0];
        assert_eq!(eng.department.children_count, 2);
        let kids: Vec<_> = eng
            .children
            .iter()
            .map(|n| n.department.ou.as_str())
            .collect();
        assert_eq!(kids, ["Backend", "Frontend"]);
        assert_eq!(eng.children[0].children[0].department.ou, "Platform");
        assert_eq!(
            eng.children[0].children[0].department.parent,
            Some(eng.children[0].department.dn.clone())
        );
        assert_eq!(tree[2].children[0].department.ou, "Backend");
    }

    #[tokio::test]
    async fn update() {
        let (_dir, h) = fixture();
        seed(&h).await;
        let d = h.departments();
        let adm = admin(&h);
        let up: DepartmentUpdate =
            serde_json::from_value(json!({"description": "Sellers"})).unwrap();
        let s = d.update(&adm, "Sales", None, &up).await.unwrap();
        assert_eq!(s.description.as_deref(), Some("Sellers"));
        assert_eq!(s.children_count, 1);
        let unchanged = d
            .update(&adm, "Sales", None, &DepartmentUpdate::default())
            .await
            .unwrap();
        assert_eq!(unchanged, s);
        let up: DepartmentUpdate = serde_json::from_value(json!({"description": null})).unwrap();
        let s = d.update(&adm, "Sales", None, &up).await.unwrap();
        assert_eq!(s.description, None);
        assert!(serde_json::to_value(&s)
            .unwrap()
            .get("description")
            .is_none());
        // Removing an absent description is fine.
        d.update(&adm, "Sales", None, &up).await.unwrap();
        let e = d.update(&adm, "Nope", None, &up).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::DepartmentNotFound);
        let e = d.update(&adm, "Backend", None, &up).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
        let bad = DepartmentUpdate {
            description: Some(Some("x".repeat(1025))),
        };
        let e = d.update(&adm, "Sales", None, &bad).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);
    }

    #[tokio::test]
    async fn delete() {
        let (_dir, h) = fixture();
        seed(&h).await;
        let d = h.departments();
        let adm = admin(&h);
        // A user inside a sub-department makes Engineering non-empty twice over.
        let backend = d.resolve(&adm, "Platform").await.unwrap().parent().unwrap();
        let person = Entry::new(backend.child(Rdn::new("uid", "jdoe").unwrap()))
            .with("objectClass", ["inetOrgPerson"])
            .with("uid", ["jdoe"])
            .with("cn", ["John Doe"])
            .with("sn", ["Doe"]);
        h.directory().add(&person).await.unwrap();

        let e = d
            .delete(&adm, "Engineering", None, false)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
        assert_eq!(e.details()["entries"], 4);
        let sales = dn("ou=Sales,ou=departments,dc=example,dc=com");
        let e = d.delete(&adm, "Sales", None, false).await.unwrap_err();
        assert_eq!(e.details()["entries"], 1);

        d.delete(&adm, "Marketing", None, false).await.unwrap();
        let e = d.get(&adm, "Marketing", None).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::DepartmentNotFound);
        let e = d.delete(&adm, "Marketing", None, false).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::DepartmentNotFound);

        d.delete(&adm, "Backend", Some(&sales), false)
            .await
            .unwrap();
        d.delete(&adm, "Sales", None, false).await.unwrap();

        d.delete(&adm, "Engineering", None, true).await.unwrap();
        assert!(h.directory().get(&person.dn, &[]).await.unwrap().is_none());
        assert!(d.tree(&adm).await.unwrap().is_empty());
        assert_eq!(
            d.list(&adm, &ListQuery::default())
                .await
                .unwrap()
                .pagination
                .total,
            0
        );
        // The container and the rest of the tree are untouched.
        let container = h.container(Container::Departments).unwrap();
        assert!(h.directory().get(&container, &[]).await.unwrap().is_some());
        assert!(h
            .directory()
            .get(&dn("ou=people,dc=example,dc=com"), &[])
            .await
            .unwrap()
            .is_some());
    }
}
