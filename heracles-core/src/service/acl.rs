//! Access control as a service: policies and assignments stored in the directory, the
//! per-principal ACL cache, and the checks behind `/acl/*`.
//!
//! ## Policies and assignments
//!
//! Policies are `heraclesAclPolicy` entries below `ou=aclpolicies`, assignments
//! `heraclesAclAssignment` entries below `ou=aclassignments` (both in `ou=heracles`). The
//! five built-in policies are defined in code ([`builtin_policies`]); the bootstrap writes
//! them as entries marked `heraclesBuiltin: TRUE` for LDAP tools to see, but Heracles
//! always uses its own definitions, and refuses to change or delete them.
//!
//! ## How fresh a principal's ACL is
//!
//! A principal's compiled ACL is cached. An entry of the cache is used for at most
//! [`ACL_TTL`] (800 ms) after the data it was compiled from was read — policies,
//! assignments, the `self_access` setting and the principal's groups (nested groups
//! resolved, cycles cut). So any change, made through any instance or directly in the
//! directory, takes effect within 1 s everywhere. Changes made through this instance
//! (policies, assignments, group memberships, user deletions, the `self_access` setting)
//! take effect at once: they invalidate the whole cache (deleting a user only forgets that
//! user's ACL, unless ACL assignments named it).
//!
//! Under load, an entry is read again by one request once it is [`REFRESH_AFTER`] old,
//! while the other requests keep using it until [`ACL_TTL`]: expiry never sends every
//! concurrent request of a principal to the directory at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::common::{list_entries, ListQuery, Principal};
use super::version::{guard, IfMatch, CSN};
use super::{Container, Heracles};
use crate::acl::{
    builtin_policies, is_builtin, Action, Assignment, AttributeRule, CompiledAcl, Decision, Grant,
    ObjectType, Permission, Policy, ScopeType, SubjectType, ASSIGNMENT_CLASS, ASSIGNMENT_ID_ATTR,
    POLICY_CLASS, POLICY_NAME_ATTR,
};
use crate::audit::{action, object_type, Operation};
use crate::directory::{Entry, Scope, SearchRequest};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{AllowList, Filter};
use crate::page::Page;

/// How long a compiled ACL (and the policies and assignments it came from) is used before
/// being read again.
pub const ACL_TTL: Duration = Duration::from_millis(800);
/// Age after which one request reads a cached ACL (or the policies and assignments) again
/// while the others keep using it until [`ACL_TTL`].
pub const REFRESH_AFTER: Duration = Duration::from_millis(500);
/// Most principals kept in the cache; beyond it, the cache starts over.
const MAX_CACHED: usize = 10_000;
/// Deepest group nesting followed.
const MAX_NESTING: usize = 32;

#[derive(Debug)]
struct Snapshot {
    read_at: Instant,
    generation: u64,
    policies: Vec<Arc<Policy>>,
    assignments: Arc<Vec<Assignment>>,
    self_policy: Option<Arc<Policy>>,
}

#[derive(Debug)]
struct Cached {
    read_at: Instant,
    generation: u64,
    /// The principal's uid as read with the ACL (`None`: no such user).
    uid: Option<String>,
    acl: Arc<CompiledAcl>,
    /// A request is reading it again (see [`REFRESH_AFTER`]).
    refreshing: bool,
}

/// The ACL cache of one [`Heracles`].
#[derive(Debug, Default)]
pub(crate) struct AclCache {
    generation: AtomicU64,
    snapshot: Mutex<Option<Arc<Snapshot>>>,
    /// A request is reading the snapshot again.
    snapshot_refreshing: AtomicBool,
    principals: Mutex<HashMap<Dn, Cached>>,
}

impl AclCache {
    /// Forgets everything: the next check reads the directory again.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Forgets the ACL of one principal (the user `dn` is gone): its next request reads
    /// it again; the other principals' ACLs do not depend on it.
    pub(crate) fn forget(&self, dn: &Dn) {
        self.principals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(dn);
    }
}

/// What the cache holds for a principal.
enum Lookup {
    /// Fresh: use it.
    Fresh(Option<String>, Arc<CompiledAcl>),
    /// Still valid, and this caller is the one to read it again (others keep using it).
    Refresh(Option<String>, Arc<CompiledAcl>),
    /// Nothing valid.
    Miss,
}

/// Clears a principal's `refreshing` mark when its refresh ends without storing a new
/// entry (it failed, or the request was cancelled).
struct RefreshMark<'a> {
    cache: &'a AclCache,
    dn: &'a Dn,
}

impl Drop for RefreshMark<'_> {
    fn drop(&mut self) {
        if let Some(c) = self
            .cache
            .principals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(self.dn)
        {
            c.refreshing = false;
        }
    }
}

/// The body of `POST /acl/policies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    /// Its name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Granted permissions, `object:action`.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Attribute rules by object type.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, AttributeRule>,
}

/// The body of `PUT /acl/policies/{name}`: only the fields given change.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyUpdate {
    /// Absent: unchanged; `null`: removed.
    #[serde(
        default,
        deserialize_with = "super::departments::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    #[allow(clippy::option_option)] // absent, null and a value are three cases
    pub description: Option<Option<String>>,
    /// Replaces the permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<Permission>>,
    /// Replaces the attribute rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<std::collections::BTreeMap<String, AttributeRule>>,
}

/// The body of `POST /acl/assignments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAssignment {
    /// The policy's name.
    pub policy: String,
    /// `user` or `group`.
    pub subject_type: SubjectType,
    /// A uid (user) or cn (group), or a DN.
    pub subject: String,
    /// `tree`, `subtree`, `entry` or `self`.
    pub scope_type: ScopeType,
    /// The DN of a subtree or entry scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// Deny instead of granting.
    #[serde(default)]
    pub deny: bool,
}

/// The body of `POST /acl/check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// `read`, `write`, `create`, `delete` or `manage`.
    pub action: String,
    /// `user`, `group`, ...
    pub object_type: String,
    /// The object; absent: anywhere.
    #[serde(default)]
    pub object_dn: Option<String>,
    /// An attribute, to check the attribute rules too.
    #[serde(default)]
    pub attribute: Option<String>,
}

/// What a user may do (`GET /acl/permissions/{uid}`, `/auth/me`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectivePermissions {
    /// The user's uid.
    pub uid: String,
    /// Its DN.
    pub dn: Dn,
    /// Every permission some assignment grants it somewhere, `object:action`.
    pub permissions: Vec<Permission>,
    /// Each grant (and denial) with its policy, assignment and scope.
    pub grants: Vec<Grant>,
}

/// ACL operations; get one with [`Heracles::acl`].
#[derive(Debug, Clone, Copy)]
pub struct AclService<'a> {
    h: &'a Heracles,
    if_match: Option<&'a IfMatch>,
}

fn policy_not_found(name: &str) -> Error {
    Error::new(
        ErrorCode::PolicyNotFound,
        format!("Policy '{name}' not found"),
    )
    .with_detail("name", name)
}

fn assignment_not_found(id: &str) -> Error {
    Error::new(
        ErrorCode::AssignmentNotFound,
        format!("Assignment '{id}' not found"),
    )
    .with_detail("id", id)
}

fn builtin_untouchable(name: &str) -> Error {
    Error::new(
        ErrorCode::BusinessRuleViolation,
        format!("'{name}' is a built-in policy: it can be read, not changed or deleted"),
    )
    .with_detail("name", name)
    .with_detail("builtin", true)
}

/// Searches one container; a container that does not exist yet holds nothing.
async fn children(h: &Heracles, c: Container, class: &str) -> Result<Vec<Entry>> {
    let req = SearchRequest::new(
        h.container(c)?,
        Scope::One,
        Filter::eq("objectClass", class),
    );
    match h.directory().search(&req).await {
        Ok(v) => Ok(v),
        Err(e) if e.code() == ErrorCode::EntryNotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

impl<'a> AclService<'a> {
    pub(super) fn new(h: &'a Heracles) -> Self {
        AclService { h, if_match: None }
    }

    /// The same operations, with `Some`: a policy update writes only while the policy
    /// still has one of the expected versions (see [`version`](super::version)).
    #[must_use]
    pub fn if_match(self, expected: Option<&'a IfMatch>) -> Self {
        AclService {
            if_match: expected,
            ..self
        }
    }

    fn cache(self) -> &'a AclCache {
        self.h.acl_cache()
    }

    // ---- compiling -----------------------------------------------------------------------

    /// The policies, assignments and `self_access` in force (cached for [`ACL_TTL`]).
    async fn snapshot(self) -> Result<Arc<Snapshot>> {
        let generation = self.cache().generation.load(Ordering::SeqCst);
        let current = self
            .cache()
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(s) = current.filter(|s| s.generation == generation) {
            let age = s.read_at.elapsed();
            if age < REFRESH_AFTER {
                return Ok(s);
            }
            if age < ACL_TTL {
                let flag = &self.cache().snapshot_refreshing;
                if flag.swap(true, Ordering::SeqCst) {
                    return Ok(s); // another request is reading it again
                }
                let _clear = super::ClearOnDrop(flag);
                return match self.read_snapshot(generation).await {
                    Ok(fresh) => Ok(fresh),
                    Err(e) => {
                        tracing::debug!(code = %e.code(), "refreshing the ACL snapshot failed; still using the current one");
                        Ok(s)
                    }
                };
            }
        }
        self.read_snapshot(generation).await
    }

    /// Reads the policies, assignments and `self_access` and caches them.
    async fn read_snapshot(self, generation: u64) -> Result<Arc<Snapshot>> {
        let read_at = Instant::now();
        let mut policies: Vec<Arc<Policy>> = builtin_policies().into_iter().map(Arc::new).collect();
        for e in children(self.h, Container::AclPolicies, POLICY_CLASS).await? {
            if let Some(p) = Policy::from_entry(&e) {
                if !is_builtin(&p.name) {
                    policies.push(Arc::new(Policy {
                        builtin: false,
                        ..p
                    }));
                }
            }
        }
        let assignments: Vec<Assignment> =
            children(self.h, Container::AclAssignments, ASSIGNMENT_CLASS)
                .await?
                .iter()
                .filter_map(Assignment::from_entry)
                .collect();
        let self_access = self.h.settings().effective().await?.self_access;
        let self_policy = if self_access {
            policies.iter().find(|p| p.name == "self").cloned()
        } else {
            None
        };
        let snapshot = Arc::new(Snapshot {
            read_at,
            generation,
            policies,
            assignments: Arc::new(assignments),
            self_policy,
        });
        *self
            .cache()
            .snapshot
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// The groups `dn` belongs to, directly (by `member`, or `memberUid` = `uid`) or
    /// through nested groups; each once, cycles cut.
    pub(crate) async fn groups_of(self, dn: &Dn, uid: Option<&str>) -> Result<Vec<Dn>> {
        let group_class = Filter::or([
            Filter::eq("objectClass", "groupOfNames"),
            Filter::eq("objectClass", "posixGroup"),
        ]);
        let mut found: Vec<Dn> = Vec::new();
        let mut first = vec![Filter::eq("member", dn.to_string())];
        if let Some(uid) = uid {
            first.push(Filter::eq("memberUid", uid));
        }
        let mut filter = Filter::or(first);
        for _ in 0..MAX_NESTING {
            let req = SearchRequest::new(
                self.h.base().clone(),
                Scope::Subtree,
                Filter::and([group_class.clone(), filter]),
            )
            .attributes(["1.1"]);
            let mut next = Vec::new();
            for g in self.h.directory().search(&req).await? {
                if &g.dn != dn && !found.contains(&g.dn) {
                    found.push(g.dn.clone());
                    next.push(g.dn);
                }
            }
            if next.is_empty() {
                break;
            }
            filter = Filter::or(next.iter().map(|g| Filter::eq("member", g.to_string())));
        }
        Ok(found)
    }

    /// What the cache holds for `dn`; marks the entry as being refreshed when it answers
    /// [`Lookup::Refresh`].
    fn lookup(self, dn: &Dn) -> Lookup {
        let generation = self.cache().generation.load(Ordering::SeqCst);
        let mut principals = self
            .cache()
            .principals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(c) = principals.get_mut(dn) else {
            return Lookup::Miss;
        };
        let age = c.read_at.elapsed();
        if c.generation != generation || age >= ACL_TTL {
            return Lookup::Miss;
        }
        if age >= REFRESH_AFTER && !c.refreshing {
            c.refreshing = true;
            return Lookup::Refresh(c.uid.clone(), c.acl.clone());
        }
        Lookup::Fresh(c.uid.clone(), c.acl.clone())
    }

    /// The uid and compiled ACL of the user `dn` — from the cache when fresh, so an
    /// authenticated request costs no directory round trip for them (see the module docs
    /// for the staleness bound). `None` as uid: there is no such user.
    pub(crate) async fn principal_parts(
        self,
        dn: &Dn,
    ) -> Result<(Option<String>, Arc<CompiledAcl>)> {
        match self.lookup(dn) {
            Lookup::Fresh(uid, acl) => Ok((uid, acl)),
            Lookup::Refresh(uid, acl) => {
                let _mark = RefreshMark {
                    cache: self.cache(),
                    dn,
                };
                match self.read_principal(dn).await {
                    Ok(fresh) => Ok(fresh),
                    Err(e) => {
                        // What is cached is still within its bound: keep answering it.
                        tracing::debug!(code = %e.code(), principal = %dn, "refreshing an ACL failed; still using the cached one");
                        Ok((uid, acl))
                    }
                }
            }
            Lookup::Miss => self.read_principal(dn).await,
        }
    }

    /// Reads the uid of `dn` and compiles its ACL.
    async fn read_principal(self, dn: &Dn) -> Result<(Option<String>, Arc<CompiledAcl>)> {
        let read_at = Instant::now();
        let entry = self.h.directory().get(dn, &["uid"]).await?;
        let uid = entry.and_then(|e| e.first_str("uid").map(str::to_owned));
        let acl = self.compile(dn, uid.clone(), read_at).await?;
        Ok((uid, acl))
    }

    /// The compiled ACL of `dn` (from the cache when fresh).
    pub(crate) async fn compiled(self, dn: &Dn, uid: Option<&str>) -> Result<Arc<CompiledAcl>> {
        match self.lookup(dn) {
            Lookup::Fresh(_, acl) => Ok(acl),
            Lookup::Refresh(_, acl) => {
                let _mark = RefreshMark {
                    cache: self.cache(),
                    dn,
                };
                Ok(self
                    .compile(dn, uid.map(str::to_owned), Instant::now())
                    .await
                    .unwrap_or(acl))
            }
            Lookup::Miss => {
                self.compile(dn, uid.map(str::to_owned), Instant::now())
                    .await
            }
        }
    }

    /// Compiles the ACL of `dn` (whose uid is `uid`, read at `read_at`) and caches it.
    async fn compile(
        self,
        dn: &Dn,
        uid: Option<String>,
        read_at: Instant,
    ) -> Result<Arc<CompiledAcl>> {
        let snapshot = self.snapshot().await?;
        // Fresh until the oldest of what it was built from expires.
        let read_at = read_at.min(snapshot.read_at);
        let groups = self.groups_of(dn, uid.as_deref()).await?;
        let acl = Arc::new(CompiledAcl::compile(
            dn,
            &groups,
            &snapshot.assignments,
            &snapshot.policies,
            snapshot.self_policy.as_ref(),
        ));
        let mut principals = self
            .cache()
            .principals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if principals.len() >= MAX_CACHED {
            principals.clear();
        }
        principals.insert(
            dn.clone(),
            Cached {
                read_at,
                generation: snapshot.generation,
                uid,
                acl: acl.clone(),
                refreshing: false,
            },
        );
        Ok(acl)
    }

    // ---- policies ------------------------------------------------------------------------

    fn policy_allow(self) -> AllowList {
        let s = self.h.schema();
        AllowList::new([
            ("name", POLICY_NAME_ATTR, s.has_substr(POLICY_NAME_ATTR)),
            ("description", "description", s.has_substr("description")),
            (
                "permissions",
                "heraclesPermission",
                s.has_substr("heraclesPermission"),
            ),
        ])
    }

    fn policy_dn(self, name: &str) -> Result<Dn> {
        Ok(self
            .h
            .container(Container::AclPolicies)?
            .child(Rdn::new(POLICY_NAME_ATTR, name)?))
    }

    /// Policies (built-in and stored), narrowed by `filter=` on `name`, `description`,
    /// `permissions`; sorted by name; one page. Needs `acl:read`.
    pub async fn policies(&self, p: &Principal, q: &ListQuery) -> Result<Page<Policy>> {
        let container = self.h.container(Container::AclPolicies)?;
        p.check(Permission::new(ObjectType::Acl, Action::Read), &container)?;
        let page = match list_entries(
            self.h,
            (p, Permission::new(ObjectType::Acl, Action::Read)),
            &container,
            Filter::eq("objectClass", POLICY_CLASS),
            &self.policy_allow(),
            q,
            POLICY_NAME_ATTR,
        )
        .await
        {
            Ok(page) => page,
            Err(e) if e.code() == ErrorCode::EntryNotFound => q.page.slice(Vec::new()),
            Err(e) => return Err(e),
        };
        let builtins = builtin_policies();
        let data = page
            .data
            .iter()
            .filter_map(Policy::from_entry)
            .map(|p| {
                builtins
                    .iter()
                    .find(|b| b.name.eq_ignore_ascii_case(&p.name))
                    .cloned()
                    .unwrap_or(Policy {
                        builtin: false,
                        ..p
                    })
            })
            .collect();
        Ok(Page {
            data,
            pagination: page.pagination,
        })
    }

    /// One policy by name (case-insensitive). Needs `acl:read`.
    pub async fn policy(&self, p: &Principal, name: &str) -> Result<Policy> {
        let dn = self.policy_dn(name).map_err(|_| policy_not_found(name))?;
        p.check(Permission::new(ObjectType::Acl, Action::Read), &dn)?;
        if let Some(b) = builtin_policies()
            .into_iter()
            .find(|b| b.name.eq_ignore_ascii_case(name))
        {
            return Ok(b);
        }
        self.stored_policy(&dn, name).await
    }

    async fn stored_policy(self, dn: &Dn, name: &str) -> Result<Policy> {
        Ok(self.stored_policy_entry(dn, name).await?.0)
    }

    async fn stored_policy_entry(self, dn: &Dn, name: &str) -> Result<(Policy, Entry)> {
        let entry = self
            .h
            .directory()
            .get(dn, &["*", CSN])
            .await?
            .ok_or_else(|| policy_not_found(name))?;
        let policy = Policy::from_entry(&entry).ok_or_else(|| policy_not_found(name))?;
        Ok((policy, entry))
    }

    /// Creates a policy. Needs `acl:create`. Built-in names are taken.
    pub async fn create_policy(&self, p: &Principal, body: &NewPolicy) -> Result<Policy> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::ACL, &body.name);
        let outcome = self.create_policy_op(p, body, &mut op).await;
        op.done(outcome).await
    }

    async fn create_policy_op(
        &self,
        p: &Principal,
        body: &NewPolicy,
        op: &mut Operation<'_>,
    ) -> Result<Policy> {
        let policy = Policy {
            name: body.name.clone(),
            description: body.description.clone(),
            permissions: body.permissions.clone(),
            attributes: body.attributes.clone(),
            builtin: false,
        }
        .validate()?;
        let dn = self.policy_dn(&policy.name)?;
        p.check(Permission::new(ObjectType::Acl, Action::Create), &dn)?;
        if is_builtin(&policy.name) {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                format!("'{}' is the name of a built-in policy", policy.name),
            )
            .with_detail("name", policy.name.as_str()));
        }
        let entry = policy.to_entry(&self.h.container(Container::AclPolicies)?)?;
        op.target(&entry.dn);
        op.begin().await?;
        let mut added = self.h.directory().add(&entry).await;
        if matches!(&added, Err(e) if e.code() == ErrorCode::ParentNotFound) {
            super::settings::ensure_container(self.h, Container::AclPolicies).await?;
            added = self.h.directory().add(&entry).await;
        }
        added.map_err(|e| {
            if e.code() == ErrorCode::AlreadyExists {
                e.with_message(format!("a policy named '{}' already exists", policy.name))
                    .with_detail("name", policy.name.as_str())
            } else {
                e
            }
        })?;
        op.changes(None, Some(&entry));
        self.cache().invalidate();
        Ok(policy)
    }

    /// Changes a stored policy. Needs `acl:write`; built-ins cannot change.
    pub async fn update_policy(
        &self,
        p: &Principal,
        name: &str,
        changes: &PolicyUpdate,
    ) -> Result<Policy> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::ACL, name);
        let outcome = self.update_policy_op(p, name, changes, &mut op).await;
        op.done(outcome).await
    }

    async fn update_policy_op(
        &self,
        p: &Principal,
        name: &str,
        changes: &PolicyUpdate,
        op: &mut Operation<'_>,
    ) -> Result<Policy> {
        let dn = self.policy_dn(name).map_err(|_| policy_not_found(name))?;
        p.check(Permission::new(ObjectType::Acl, Action::Write), &dn)?;
        if is_builtin(name) {
            return Err(builtin_untouchable(name));
        }
        let (current, entry) = self.stored_policy_entry(&dn, name).await?;
        let assertion = guard(self.if_match, &current, &entry)?;
        let mut next = current.clone();
        if let Some(d) = &changes.description {
            next.description.clone_from(d);
        }
        if let Some(perms) = &changes.permissions {
            next.permissions.clone_from(perms);
        }
        if let Some(attrs) = &changes.attributes {
            next.attributes.clone_from(attrs);
        }
        let next = next.validate()?;
        let container = self.h.container(Container::AclPolicies)?;
        let old = current.to_entry(&container)?;
        let new = next.to_entry(&container)?;
        let mut mods = Vec::new();
        for attr in ["description", "heraclesPermission", "heraclesAttributeRule"] {
            if old.get(attr) != new.get(attr) {
                mods.push(crate::directory::Modification::replace(
                    attr,
                    new.get(attr).to_vec(),
                ));
            }
        }
        op.target(&dn);
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&dn, &mods, assertion.as_ref())
            .await?;
        op.changes(Some(&old), Some(&new));
        self.cache().invalidate();
        Ok(next)
    }

    /// Deletes a stored policy. Needs `acl:delete`; built-ins cannot go, nor a policy
    /// still assigned (`BUSINESS_RULE_VIOLATION` naming the assignments).
    pub async fn delete_policy(&self, p: &Principal, name: &str) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::ACL, name);
        let outcome = self.delete_policy_op(p, name, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_policy_op(
        &self,
        p: &Principal,
        name: &str,
        op: &mut Operation<'_>,
    ) -> Result<()> {
        let dn = self.policy_dn(name).map_err(|_| policy_not_found(name))?;
        p.check(Permission::new(ObjectType::Acl, Action::Delete), &dn)?;
        if is_builtin(name) {
            return Err(builtin_untouchable(name));
        }
        self.stored_policy(&dn, name).await?;
        let using: Vec<String> = self
            .all_assignments()
            .await?
            .into_iter()
            .filter(|a| a.policy.eq_ignore_ascii_case(name))
            .map(|a| a.id)
            .collect();
        if !using.is_empty() {
            return Err(Error::new(
                ErrorCode::BusinessRuleViolation,
                format!("policy '{name}' is still assigned; delete its assignments first"),
            )
            .with_detail("name", name)
            .with_detail("assignments", using));
        }
        op.target(&dn);
        op.begin().await?;
        self.h.directory().delete(&dn).await.map_err(|e| {
            if e.code() == ErrorCode::EntryNotFound {
                policy_not_found(name)
            } else {
                e
            }
        })?;
        self.cache().invalidate();
        Ok(())
    }

    // ---- assignments ---------------------------------------------------------------------

    async fn all_assignments(self) -> Result<Vec<Assignment>> {
        Ok(
            children(self.h, Container::AclAssignments, ASSIGNMENT_CLASS)
                .await?
                .iter()
                .filter_map(Assignment::from_entry)
                .collect(),
        )
    }

    fn assignment_allow(self) -> AllowList {
        let s = self.h.schema();
        AllowList::new([
            ("id", ASSIGNMENT_ID_ATTR, s.has_substr(ASSIGNMENT_ID_ATTR)),
            ("policy", "heraclesPolicyName", true),
            ("subject", "heraclesSubjectDN", false),
            ("subject_type", "heraclesSubjectType", false),
            ("scope_type", "heraclesScopeType", false),
            ("scope", "heraclesScopeDN", false),
            ("deny", "heraclesDeny", false),
        ])
    }

    /// Assignments, narrowed by `filter=` on `id`, `policy`, `subject`, `subject_type`,
    /// `scope_type`, `scope`, `deny`; one page. Needs `acl:read`.
    pub async fn assignments(&self, p: &Principal, q: &ListQuery) -> Result<Page<Assignment>> {
        let container = self.h.container(Container::AclAssignments)?;
        p.check(Permission::new(ObjectType::Acl, Action::Read), &container)?;
        let page = match list_entries(
            self.h,
            (p, Permission::new(ObjectType::Acl, Action::Read)),
            &container,
            Filter::eq("objectClass", ASSIGNMENT_CLASS),
            &self.assignment_allow(),
            q,
            ASSIGNMENT_ID_ATTR,
        )
        .await
        {
            Ok(page) => page,
            Err(e) if e.code() == ErrorCode::EntryNotFound => q.page.slice(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(Page {
            data: page
                .data
                .iter()
                .filter_map(Assignment::from_entry)
                .collect(),
            pagination: page.pagination,
        })
    }

    /// Creates an assignment. Needs `acl:create`. The policy must exist, the subject must
    /// be an existing user (uid or DN) or group (cn or DN), a subtree or entry scope an
    /// existing entry below the base.
    pub async fn create_assignment(
        &self,
        p: &Principal,
        body: &NewAssignment,
    ) -> Result<Assignment> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::ACL, &body.policy);
        let outcome = self.create_assignment_op(p, body, &mut op).await;
        op.done(outcome).await
    }

    async fn create_assignment_op(
        &self,
        p: &Principal,
        body: &NewAssignment,
        op: &mut Operation<'_>,
    ) -> Result<Assignment> {
        let container = self.h.container(Container::AclAssignments)?;
        p.check(Permission::new(ObjectType::Acl, Action::Create), &container)?;
        let policy = self.policy(p, &body.policy).await?;
        let subject = match body.subject_type {
            SubjectType::User => self.h.users().find_by_uid_or_dn(&body.subject).await?.dn,
            SubjectType::Group => self.h.groups().find_by_cn_or_dn(&body.subject).await?.dn,
        };
        let scope = match &body.scope {
            None => None,
            Some(s) => {
                let dn = Dn::parse(s).map_err(|e| e.with_detail("field", "scope"))?;
                if !dn.is_descendant_or_self(self.h.base()) {
                    return Err(Error::validation(
                        "scope",
                        format!("'{dn}' is not below the base '{}'", self.h.base()),
                    ));
                }
                if self.h.directory().get(&dn, &["1.1"]).await?.is_none() {
                    return Err(Error::new(
                        ErrorCode::EntryNotFound,
                        format!("the scope '{dn}' does not exist"),
                    )
                    .with_detail("field", "scope")
                    .with_detail("dn", dn.to_string()));
                }
                Some(dn)
            }
        };
        let assignment = Assignment {
            id: super::sessions::random_id()?,
            policy: policy.name,
            subject_type: body.subject_type,
            subject,
            scope_type: body.scope_type,
            scope,
            deny: body.deny,
            builtin: false,
        };
        assignment.validate()?;
        let entry = assignment.to_entry(&container)?;
        op.target(&entry.dn);
        op.begin().await?;
        let mut added = self.h.directory().add(&entry).await;
        if matches!(&added, Err(e) if e.code() == ErrorCode::ParentNotFound) {
            super::settings::ensure_container(self.h, Container::AclAssignments).await?;
            added = self.h.directory().add(&entry).await;
        }
        added?;
        op.changes(None, Some(&entry));
        self.cache().invalidate();
        Ok(assignment)
    }

    /// Deletes an assignment. Needs `acl:delete`. The bootstrap administrator's assignment
    /// cannot be deleted while it is the only `admin` grant over the tree.
    pub async fn delete_assignment(&self, p: &Principal, id: &str) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::ACL, id);
        let outcome = self.delete_assignment_op(p, id, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_assignment_op(
        &self,
        p: &Principal,
        id: &str,
        op: &mut Operation<'_>,
    ) -> Result<()> {
        let container = self.h.container(Container::AclAssignments)?;
        let dn = container
            .child(Rdn::new(ASSIGNMENT_ID_ATTR, id).map_err(|_| assignment_not_found(id))?);
        p.check(Permission::new(ObjectType::Acl, Action::Delete), &dn)?;
        let current = self
            .h
            .directory()
            .get(&dn, &["*"])
            .await?
            .as_ref()
            .and_then(Assignment::from_entry)
            .ok_or_else(|| assignment_not_found(id))?;
        let is_admin_grant = |a: &Assignment| {
            a.policy.eq_ignore_ascii_case("admin") && a.scope_type == ScopeType::Tree && !a.deny
        };
        if is_admin_grant(&current)
            && !self
                .all_assignments()
                .await?
                .iter()
                .any(|a| a.id != current.id && is_admin_grant(a))
        {
            return Err(Error::new(
                ErrorCode::BusinessRuleViolation,
                "this is the last assignment of the admin policy over the tree; assign it to \
                 someone else first",
            )
            .with_detail("id", id));
        }
        op.target(&dn);
        op.begin().await?;
        self.h.directory().delete(&dn).await.map_err(|e| {
            if e.code() == ErrorCode::EntryNotFound {
                assignment_not_found(id)
            } else {
                e
            }
        })?;
        self.cache().invalidate();
        Ok(())
    }

    // ---- questions -----------------------------------------------------------------------

    /// What the user `uid` may do. Needs `acl:read`, except for one's own.
    pub async fn permissions_of(&self, p: &Principal, uid: &str) -> Result<EffectivePermissions> {
        let own = p.uid.as_deref() == Some(uid);
        if !own {
            p.check(
                Permission::new(ObjectType::Acl, Action::Read),
                &self.h.container(Container::AclAssignments)?,
            )?;
        }
        let entry = self.h.users().find(uid).await?;
        let acl = self.compiled(&entry.dn, Some(uid)).await?;
        Ok(EffectivePermissions {
            uid: uid.to_owned(),
            dn: entry.dn.clone(),
            permissions: acl.granted().iter().collect(),
            grants: acl.grants(),
        })
    }

    /// Whether the caller may do `action` on an `object_type` (at `object_dn`, else
    /// anywhere), and, with `attribute`, read or write that attribute.
    pub fn check(&self, p: &Principal, req: &CheckRequest) -> Result<Decision> {
        let object = ObjectType::from_name(&req.object_type).ok_or_else(|| {
            Error::validation(
                "object_type",
                format!("'{}' is not an object type", req.object_type),
            )
        })?;
        let action = Action::from_name(&req.action).ok_or_else(|| {
            Error::validation("action", format!("'{}' is not an action", req.action))
        })?;
        let perm = Permission::new(object, action);
        let Some(raw) = &req.object_dn else {
            let allowed = p.acl().granted_somewhere(perm);
            return Ok(Decision {
                allowed,
                reason: if allowed {
                    format!("some assignment grants {perm}")
                } else {
                    format!("no assignment grants {perm} anywhere")
                },
            });
        };
        let target = Dn::parse(raw).map_err(|e| e.with_detail("field", "object_dn"))?;
        let decision = p.acl().explain(perm, &target);
        match &req.attribute {
            Some(attr) if decision.allowed => {
                crate::directory::check_attribute_name(attr)
                    .map_err(|e| e.with_detail("field", "attribute"))?;
                let ok = p.acl().attributes(object, action, &target).allows(attr);
                Ok(Decision {
                    allowed: ok,
                    reason: if ok {
                        format!("{}; the attribute rules allow '{attr}'", decision.reason)
                    } else {
                        format!(
                            "{}, but no granting policy's attribute rules allow '{attr}'",
                            decision.reason
                        )
                    },
                })
            }
            _ => Ok(decision),
        }
    }
}

/// Writes the built-in policies as entries (for LDAP tools to see), replacing stale ones.
pub(crate) async fn ensure_builtin_policies(
    h: &Heracles,
    report: &mut super::BootstrapReport,
) -> Result<()> {
    let container = h.container(Container::AclPolicies)?;
    for policy in builtin_policies() {
        let entry = policy.to_entry(&container)?;
        match h.directory().get(&entry.dn, &["*"]).await? {
            None => {
                h.directory().add(&entry).await?;
                report.created.push(entry.dn);
            }
            Some(current) => {
                let mut mods = Vec::new();
                for attr in [
                    "description",
                    "heraclesPermission",
                    "heraclesAttributeRule",
                    "heraclesBuiltin",
                ] {
                    let mut a: Vec<&str> = current.strs(attr);
                    let mut b: Vec<&str> = entry.strs(attr);
                    a.sort_unstable();
                    b.sort_unstable();
                    if a != b {
                        mods.push(crate::directory::Modification::replace(
                            attr,
                            entry.get(attr).to_vec(),
                        ));
                    }
                }
                h.directory().modify(&entry.dn, &mods).await?;
            }
        }
    }
    Ok(())
}

/// After the entry `old` was renamed to `new` (a user moved to another department): the
/// assignments naming `old` as their subject or as their entry scope name `new`.
pub(crate) async fn rename_subject(h: &Heracles, old: &Dn, new: &Dn) -> Result<()> {
    let found = match h
        .directory()
        .search(
            &SearchRequest::new(
                h.container(Container::AclAssignments)?,
                Scope::One,
                Filter::and([
                    Filter::eq("objectClass", ASSIGNMENT_CLASS),
                    Filter::or([
                        Filter::eq("heraclesSubjectDN", old.to_string()),
                        Filter::eq("heraclesScopeDN", old.to_string()),
                    ]),
                ]),
            )
            .attributes(["heraclesSubjectDN", "heraclesScopeDN"]),
        )
        .await
    {
        Ok(found) => found,
        // No `ou=aclassignments` yet: nothing is assigned.
        Err(e) if e.code() == ErrorCode::EntryNotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for a in found {
        let names_old = |attr: &str| {
            a.first_str(attr)
                .and_then(|v| Dn::parse(v).ok())
                .is_some_and(|d| &d == old)
        };
        let changes: Vec<crate::directory::Modification> = ["heraclesSubjectDN", "heraclesScopeDN"]
            .into_iter()
            .filter(|attr| names_old(attr))
            .map(|attr| crate::directory::Modification::replace(attr, [new.to_string()]))
            .collect();
        if changes.is_empty() {
            continue;
        }
        match h.directory().modify(&a.dn, &changes).await {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::EntryNotFound => {}
            Err(e) => return Err(e),
        }
    }
    h.acl_cache().invalidate();
    Ok(())
}
