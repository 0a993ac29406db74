//! Groups: `ldap` (groupOfNames, members by DN), `posix` (posixGroup, members by uid) and
//! `mixed` (groupOfNames + the Heracles auxiliary class `posixGroupAux`: both `member` and
//! `memberUid`, kept consistent on every change).
//!
//! `groupOfNames` requires a member: an empty `ldap` or `mixed` group holds the placeholder
//! `cn=placeholder,ou=heracles,<base>` — the value the test slapd's refint overlay writes
//! when a group's last member is deleted — which never shows in `members` or `memberCount`.
//! `cn` is unique in the whole base. Adding a member that does not exist is
//! `USER_NOT_FOUND`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::attrs;
use super::bootstrap::placeholder_dn;
use super::common::{
    allow_list_for_classes, list_entries, written_attributes, ListQuery, Principal,
};
use super::ids::{allocate, IdKind};
use super::version::{guard, IfMatch, CSN};
use crate::acl::{Action, ObjectType, Permission};
use crate::audit::{action, object_type, Operation};

const READ: Permission = Permission::new(ObjectType::Group, Action::Read);
const WRITE: Permission = Permission::new(ObjectType::Group, Action::Write);
const CREATE: Permission = Permission::new(ObjectType::Group, Action::Create);
const DELETE: Permission = Permission::new(ObjectType::Group, Action::Delete);
use super::{Container, Heracles};
use crate::directory::{Entry, Modification, Scope, SearchRequest};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;
use crate::page::Page;

/// The longest group name, in bytes (slapd's mdb backend refuses RDNs of about 250 bytes
/// and more with an unspecific error).
const MAX_CN_BYTES: usize = 200;

/// The kind of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupType {
    /// `groupOfNames`: members by DN.
    Ldap,
    /// `posixGroup`: members by uid, with a gidNumber.
    Posix,
    /// `groupOfNames` + `posixGroupAux`: both.
    Mixed,
}

impl GroupType {
    fn has_dns(self) -> bool {
        matches!(self, GroupType::Ldap | GroupType::Mixed)
    }
    fn has_uids(self) -> bool {
        matches!(self, GroupType::Posix | GroupType::Mixed)
    }
    fn classes(self) -> &'static [&'static str] {
        match self {
            GroupType::Ldap => &["top", "groupOfNames"],
            GroupType::Posix => &["top", "posixGroup"],
            GroupType::Mixed => &["top", "groupOfNames", "posixGroupAux"],
        }
    }
    fn of(e: &Entry) -> GroupType {
        if e.has_value("objectClass", "posixGroup") {
            GroupType::Posix
        } else if e.has_value("objectClass", "posixGroupAux") {
            GroupType::Mixed
        } else {
            GroupType::Ldap
        }
    }
}

/// A group as answered by every front.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// Its DN.
    pub dn: Dn,
    /// Name (RDN).
    pub cn: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Kind.
    #[serde(rename = "groupType")]
    pub group_type: GroupType,
    /// POSIX group number.
    #[serde(rename = "gidNumber", skip_serializing_if = "Option::is_none")]
    pub gid_number: Option<u32>,
    /// Members: uids of users (and DNs of members that are not users).
    pub members: Vec<String>,
    /// Number of members.
    #[serde(rename = "memberCount")]
    pub member_count: usize,
    /// Object classes.
    #[serde(rename = "objectClass")]
    pub object_class: Vec<String>,
}

/// Body of a group creation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// Name.
    pub cn: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Kind (default `ldap`).
    #[serde(rename = "groupType", default)]
    pub group_type: Option<GroupType>,
    /// POSIX number (`null`/absent: allocated for posix and mixed groups).
    #[serde(rename = "gidNumber", default)]
    pub gid_number: Option<u32>,
    /// Initial members (uids or DNs).
    #[serde(default)]
    pub members: Vec<String>,
    /// Department (ou, or DN) to create it in.
    #[serde(default)]
    pub department: Option<String>,
}

/// A member named in a request (see [`Groups::add_members`]).
enum Member {
    User(Entry),
    Group(Dn),
}

/// The group operations. Get it with [`Heracles::groups`].
#[derive(Debug)]
pub struct Groups<'a> {
    h: &'a Heracles,
    if_match: Option<&'a IfMatch>,
}

fn not_found(cn: &str) -> Error {
    Error::new(
        ErrorCode::GroupNotFound,
        format!("Group with cn '{cn}' not found"),
    )
    .with_detail("cn", cn)
}

fn group_filter() -> Filter {
    Filter::or([
        Filter::eq("objectClass", "groupOfNames"),
        Filter::eq("objectClass", "posixGroup"),
    ])
}

impl<'a> Groups<'a> {
    pub(super) fn new(h: &'a Heracles) -> Self {
        Groups { h, if_match: None }
    }

    /// The same operations, with `Some`: writing only while the group still has one of the expected
    /// versions (see [`version`](super::version)); otherwise `PRECONDITION_FAILED`.
    #[must_use]
    pub fn if_match(self, expected: Option<&'a IfMatch>) -> Self {
        Groups {
            if_match: expected,
            ..self
        }
    }

    /// The assertion a write of `e` must carry under the expected version.
    fn guard(&self, e: &Entry) -> Result<Option<Filter>> {
        match self.if_match {
            None => Ok(None),
            Some(_) => guard(self.if_match, &self.to_group(e)?, e),
        }
    }

    async fn find(&self, cn: &str) -> Result<Entry> {
        let found = self
            .h
            .directory()
            .search(
                &SearchRequest::new(
                    self.h.base().clone(),
                    Scope::Subtree,
                    Filter::and([group_filter(), Filter::eq("cn", cn)]),
                )
                .attributes(["*", CSN])
                .size_limit(2),
            )
            .await?;
        let mut it = found.into_iter();
        match (it.next(), it.next()) {
            (Some(e), None) => Ok(e),
            (None, _) => Err(not_found(cn)),
            (Some(_), Some(_)) => Err(Error::new(
                ErrorCode::BusinessRuleViolation,
                format!("several groups are named '{cn}'; fix the directory"),
            )),
        }
    }

    fn to_group(&self, e: &Entry) -> Result<Group> {
        let placeholder = placeholder_dn(self.h)?;
        let kind = GroupType::of(e);
        let mut members: Vec<String> = Vec::new();
        if kind.has_uids() {
            members.extend(e.strs("memberUid").into_iter().map(str::to_owned));
        }
        if kind.has_dns() {
            for m in e.strs("member") {
                let Ok(dn) = Dn::parse(m) else { continue };
                if dn == placeholder {
                    continue;
                }
                let shown = match dn.rdn() {
                    Some(r) if r.attr().eq_ignore_ascii_case("uid") => r.value().to_owned(),
                    _ => dn.to_string(),
                };
                if !members.iter().any(|x| x == &shown) {
                    members.push(shown);
                }
            }
        }
        members.sort_by_key(|m| m.to_lowercase());
        Ok(Group {
            dn: e.dn.clone(),
            cn: e.first_str("cn").unwrap_or_default().to_owned(),
            description: e.first_str("description").map(str::to_owned),
            group_type: kind,
            gid_number: e.first_str("gidNumber").and_then(|g| g.parse().ok()),
            member_count: members.len(),
            members,
            object_class: e
                .strs("objectClass")
                .into_iter()
                .map(str::to_owned)
                .collect(),
        })
    }

    /// One group.
    pub async fn get(&self, p: &Principal, cn: &str) -> Result<Group> {
        p.check_somewhere(READ, cn)?;
        let e = self.find(cn).await?;
        p.check(READ, &e.dn)?;
        self.to_group(&e)
    }

    /// A page of groups.
    pub async fn list(&self, p: &Principal, q: &ListQuery) -> Result<Page<Group>> {
        p.check_somewhere(READ, &self.h.base().to_string())?;
        let allow = allow_list_for_classes(
            self.h.schema(),
            &["groupOfNames", "posixGroup", "posixGroupAux"],
        );
        let page = list_entries(
            self.h,
            (p, READ),
            self.h.base(),
            group_filter(),
            &allow,
            q,
            "cn",
        )
        .await?;
        let mut data = Vec::with_capacity(page.data.len());
        for e in &page.data {
            data.push(self.to_group(e)?);
        }
        Ok(Page {
            data,
            pagination: page.pagination,
        })
    }

    /// Creates a group.
    pub async fn create(&self, p: &Principal, g: &NewGroup) -> Result<Group> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::GROUP, &g.cn);
        let outcome = self.create_op(p, g, &mut op).await;
        op.done(outcome).await
    }

    async fn create_op(
        &self,
        p: &Principal,
        g: &NewGroup,
        op: &mut Operation<'_>,
    ) -> Result<Group> {
        p.check_somewhere(CREATE, &self.h.base().to_string())?;
        if g.cn.trim().is_empty() {
            return Err(Error::validation("cn", "cn is required"));
        }
        // slapd's mdb refuses longer RDNs with a bare "other error" (80): a 400 here.
        if g.cn.len() > MAX_CN_BYTES {
            return Err(Error::validation(
                "cn",
                format!("cn must be at most {MAX_CN_BYTES} bytes long"),
            ));
        }
        if g.cn.chars().any(char::is_control) {
            return Err(Error::validation(
                "cn",
                "cn must not contain control characters",
            ));
        }
        let kind = g.group_type.unwrap_or(GroupType::Ldap);
        let parent = match &g.department {
            Some(d) => self.h.departments().resolve(p, d).await?,
            None => self.h.container(Container::Groups)?,
        };
        if self.find(&g.cn).await.is_ok() {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                format!("a group named '{}' already exists", g.cn),
            )
            .with_detail("cn", g.cn.as_str()));
        }
        let mut dns = Vec::new();
        let mut uids = Vec::new();
        for m in &g.members {
            let user = self.h.users().find_by_uid_or_dn(m).await?;
            let uid = user.first_str("uid").unwrap_or_default().to_owned();
            if !dns.contains(&user.dn) {
                dns.push(user.dn);
                uids.push(uid);
            }
        }
        let dn = parent.child(Rdn::new("cn", &g.cn)?);
        p.check(CREATE, &dn)?;
        let mut entry = Entry::new(dn)
            .with("objectClass", kind.classes().iter().copied())
            .with("cn", [g.cn.as_str()]);
        if let Some(d) = &g.description {
            entry.set("description", [d.as_str()]);
        }
        if kind.has_uids() {
            let settings = self.h.settings().effective().await?;
            let gid = match g.gid_number {
                Some(n) => n,
                None => {
                    allocate(
                        self.h,
                        IdKind::Gid,
                        settings.gid_range.min,
                        settings.gid_range.max,
                    )
                    .await?
                }
            };
            entry.set("gidNumber", [gid.to_string()]);
            if !uids.is_empty() {
                entry.set("memberUid", uids.iter().map(String::as_str));
            }
        } else if g.gid_number.is_some() {
            return Err(Error::validation(
                "gidNumber",
                "only posix and mixed groups have a gidNumber",
            ));
        }
        if kind.has_dns() {
            if dns.is_empty() {
                entry.set("member", [placeholder_dn(self.h)?.to_string()]);
            } else {
                entry.set("member", dns.iter().map(ToString::to_string));
            }
        }
        p.check_attributes(CREATE, &entry.dn, written_attributes(&entry))?;
        op.target(&entry.dn);
        op.begin().await?;
        self.h.directory().add(&entry).await?;
        op.changes(None, Some(&entry));
        self.h.acl_cache().invalidate();
        self.to_group(&self.find(&g.cn).await?)
    }

    /// Changes `description` and/or `gidNumber` (`null` removes the description).
    pub async fn update(
        &self,
        p: &Principal,
        cn: &str,
        body: &Map<String, Value>,
    ) -> Result<Group> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::GROUP, cn);
        let outcome = self.update_op(p, cn, body, &mut op).await;
        op.done(outcome).await
    }

    async fn update_op(
        &self,
        p: &Principal,
        cn: &str,
        body: &Map<String, Value>,
        op: &mut Operation<'_>,
    ) -> Result<Group> {
        p.check_somewhere(WRITE, cn)?;
        let e = self.find(cn).await?;
        op.target(&e.dn);
        p.check(WRITE, &e.dn)?;
        let kind = GroupType::of(&e);
        let mut changes = Vec::new();
        let mut members: Option<Vec<String>> = None;
        for (k, v) in body {
            match k.as_str() {
                "members" => {
                    members = Some(attrs::values_of(k, v)?.unwrap_or_default());
                }
                "groupType" => {
                    let wanted: GroupType = serde_json::from_value(v.clone()).map_err(|_| {
                        Error::validation("groupType", "groupType is ldap, posix or mixed")
                    })?;
                    if wanted != kind {
                        return Err(Error::validation(
                            "groupType",
                            "the type of an existing group cannot be changed",
                        ));
                    }
                }
                "description" => {
                    // One text, as documented (and as POST takes it): not a number or a list.
                    let vals = match v {
                        Value::Null => Vec::new(),
                        Value::String(text) if !text.is_empty() => vec![text.clone()],
                        _ => {
                            return Err(Error::validation(
                                "description",
                                "description must be a non-empty string, or null to remove it",
                            ))
                        }
                    };
                    if e.strs("description") != vals.iter().map(String::as_str).collect::<Vec<_>>()
                    {
                        changes.push(Modification::replace("description", vals));
                    }
                }
                "gidNumber" if kind.has_uids() => {
                    let vals = attrs::values_of(k, v)?.ok_or_else(|| {
                        Error::validation("gidNumber", "a posix group needs a gidNumber")
                    })?;
                    changes.push(Modification::replace("gidNumber", vals));
                }
                "cn" if v.as_str() == Some(cn) => {}
                "cn" => return Err(Error::validation("cn", "cn cannot be changed")),
                other => return Err(attrs::unknown_field(other)),
            }
        }
        if let Some(wanted) = members {
            changes.extend(self.membership(&e, &wanted).await?);
        }
        p.check_attributes(WRITE, &e.dn, changes.iter().map(Modification::attr))?;
        let assertion = self.guard(&e)?;
        op.target(&e.dn);
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&e.dn, &changes, assertion.as_ref())
            .await?;
        self.h.acl_cache().invalidate();
        let after = self.find(cn).await?;
        op.changes(Some(&e), Some(&after));
        self.to_group(&after)
    }

    /// Deletes a group.
    pub async fn delete(&self, p: &Principal, cn: &str) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::GROUP, cn);
        let outcome = self.delete_op(p, cn, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_op(&self, p: &Principal, cn: &str, op: &mut Operation<'_>) -> Result<()> {
        p.check_somewhere(DELETE, cn)?;
        let e = self.find(cn).await?;
        op.target(&e.dn);
        p.check(DELETE, &e.dn)?;
        let assertion = self.guard(&e)?;
        op.target(&e.dn);
        op.begin().await?;
        self.h
            .directory()
            .delete_if(&e.dn, assertion.as_ref())
            .await?;
        op.changes(Some(&e), None);
        // Nested in other groups: it leaves them (slapd's refint overlay would do the same;
        // the embedded directory has none, and other servers may not either).
        self.remove_everywhere(&e).await?;
        self.h.acl_cache().invalidate();
        Ok(())
    }

    /// Adds members (uids or DNs of users, or DNs of groups to nest in an ldap or mixed
    /// group); already present ones are skipped.
    pub async fn add_members(&self, p: &Principal, cn: &str, members: &[String]) -> Result<Group> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::GROUP, cn);
        let outcome = self.add_members_op(p, cn, members, &mut op).await;
        op.done(outcome).await
    }

    async fn add_members_op(
        &self,
        p: &Principal,
        cn: &str,
        members: &[String],
        op: &mut Operation<'_>,
    ) -> Result<Group> {
        p.check_somewhere(WRITE, cn)?;
        let e = self.find(cn).await?;
        op.target(&e.dn);
        p.check(WRITE, &e.dn)?;
        let kind = GroupType::of(&e);
        let placeholder = placeholder_dn(self.h)?;
        let mut add_dns = Vec::new();
        let mut add_uids = Vec::new();
        for m in members {
            let user = match self.resolve_member(&e, m).await? {
                Member::User(u) => u,
                Member::Group(g) => {
                    let dn = g.to_string();
                    let has = e
                        .strs("member")
                        .iter()
                        .any(|x| Dn::parse(x).is_ok_and(|d| d == g));
                    if !has && !add_dns.contains(&dn) {
                        add_dns.push(dn);
                    }
                    continue;
                }
            };
            let uid = user.first_str("uid").unwrap_or_default().to_owned();
            let dn = user.dn.to_string();
            let has_dn = e
                .strs("member")
                .iter()
                .any(|x| Dn::parse(x).is_ok_and(|d| d == user.dn));
            if kind.has_dns() && !has_dn && !add_dns.contains(&dn) {
                add_dns.push(dn);
            }
            if kind.has_uids()
                && !e.strs("memberUid").contains(&uid.as_str())
                && !add_uids.contains(&uid)
            {
                add_uids.push(uid);
            }
        }
        let mut changes = Vec::new();
        if !add_dns.is_empty() {
            changes.push(Modification::add("member", add_dns.iter()));
            if e.strs("member")
                .iter()
                .any(|x| Dn::parse(x).is_ok_and(|d| d == placeholder))
            {
                changes.push(Modification::delete("member", [placeholder.to_string()]));
            }
        }
        if !add_uids.is_empty() {
            changes.push(Modification::add("memberUid", add_uids.iter()));
        }
        p.check_attributes(WRITE, &e.dn, changes.iter().map(Modification::attr))?;
        let assertion = self.guard(&e)?;
        op.target(&e.dn);
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&e.dn, &changes, assertion.as_ref())
            .await?;
        self.h.acl_cache().invalidate();
        let after = self.find(cn).await?;
        op.changes(Some(&e), Some(&after));
        self.to_group(&after)
    }

    /// Removes a member (uid or DN); 404 `USER_NOT_FOUND` if it is not a member.
    pub async fn remove_member(&self, p: &Principal, cn: &str, member: &str) -> Result<Group> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::GROUP, cn);
        let outcome = self.remove_member_op(p, cn, member, &mut op).await;
        op.done(outcome).await
    }

    async fn remove_member_op(
        &self,
        p: &Principal,
        cn: &str,
        member: &str,
        op: &mut Operation<'_>,
    ) -> Result<Group> {
        p.check_somewhere(WRITE, cn)?;
        let e = self.find(cn).await?;
        op.target(&e.dn);
        p.check(WRITE, &e.dn)?;
        let changes = self.removal(&e, member, None).await?;
        if changes.is_empty() {
            return Err(Error::new(
                ErrorCode::UserNotFound,
                format!("'{member}' is not a member of group '{cn}'"),
            )
            .with_detail("member", member)
            .with_detail("cn", cn));
        }
        p.check_attributes(WRITE, &e.dn, changes.iter().map(Modification::attr))?;
        let assertion = self.guard(&e)?;
        op.target(&e.dn);
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&e.dn, &changes, assertion.as_ref())
            .await?;
        self.h.acl_cache().invalidate();
        let after = self.find(cn).await?;
        op.changes(Some(&e), Some(&after));
        self.to_group(&after)
    }

    /// A group by cn or DN (for ACL assignments to groups).
    pub(crate) async fn find_by_cn_or_dn(&self, key: &str) -> Result<Entry> {
        if key.contains('=') {
            let dn = Dn::parse(key)?;
            return match self.h.directory().get(&dn, &["*"]).await? {
                Some(e)
                    if e.has_value("objectClass", "groupOfNames")
                        || e.has_value("objectClass", "posixGroup") =>
                {
                    Ok(e)
                }
                _ => Err(
                    Error::new(ErrorCode::GroupNotFound, format!("Group '{dn}' not found"))
                        .with_detail("dn", dn.to_string()),
                ),
            };
        }
        self.find(key).await
    }

    /// A member named in a request: a user (uid or DN), or — by DN, for ldap and mixed
    /// groups — another group, nested (its members are members for access control; it
    /// shows in `members` by its DN). A group cannot contain itself.
    async fn resolve_member(&self, group: &Entry, m: &str) -> Result<Member> {
        match self.h.users().find_by_uid_or_dn(m).await {
            Ok(u) => Ok(Member::User(u)),
            Err(err) if err.code() == ErrorCode::UserNotFound && m.contains('=') => {
                let Ok(g) = self.find_by_cn_or_dn(m).await else {
                    return Err(err);
                };
                if !GroupType::of(group).has_dns() {
                    return Err(Error::validation(
                        "members",
                        format!("'{m}' is a group: only ldap and mixed groups hold groups"),
                    )
                    .with_detail("value", m));
                }
                if g.dn == group.dn {
                    return Err(Error::new(
                        ErrorCode::BusinessRuleViolation,
                        "a group cannot be a member of itself",
                    )
                    .with_detail("member", m));
                }
                Ok(Member::Group(g.dn))
            }
            Err(e) => Err(e),
        }
    }

    /// The changes that make the members of group entry `e` exactly `wanted` (uids or DNs
    /// of users), in one modification: `member` and `memberUid` replaced as the type needs,
    /// the placeholder standing in for an empty `groupOfNames`.
    async fn membership(&self, e: &Entry, wanted: &[String]) -> Result<Vec<Modification>> {
        let kind = GroupType::of(e);
        let mut dns: Vec<Dn> = Vec::with_capacity(wanted.len());
        let mut uids: Vec<String> = Vec::with_capacity(wanted.len());
        for m in wanted {
            let user = match self.resolve_member(e, m).await? {
                Member::User(u) => u,
                Member::Group(g) => {
                    if !dns.contains(&g) {
                        dns.push(g);
                    }
                    continue;
                }
            };
            if let Some(uid) = user.first_str("uid") {
                if !uids.iter().any(|u| u == uid) {
                    uids.push(uid.to_owned());
                }
            }
            if !dns.contains(&user.dn) {
                dns.push(user.dn);
            }
        }
        let mut changes = Vec::new();
        if kind.has_dns() {
            if dns.is_empty() {
                dns.push(placeholder_dn(self.h)?);
            }
            let raw = e.strs("member");
            let mut current: Vec<Dn> = raw.iter().filter_map(|m| Dn::parse(m).ok()).collect();
            current.sort();
            current.dedup();
            let mut target = dns.clone();
            target.sort();
            if current != target || current.len() != raw.len() {
                changes.push(Modification::replace(
                    "member",
                    dns.iter().map(ToString::to_string).collect::<Vec<_>>(),
                ));
            }
        }
        if kind.has_uids() {
            let mut current: Vec<&str> = e.strs("memberUid");
            current.sort_unstable();
            let mut target: Vec<&str> = uids.iter().map(String::as_str).collect();
            target.sort_unstable();
            if current != target {
                changes.push(Modification::replace("memberUid", uids));
            }
        }
        Ok(changes)
    }

    /// The changes that remove `member` (a uid or a DN) from group entry `e`.
    async fn removal(
        &self,
        e: &Entry,
        member: &str,
        user: Option<&Entry>,
    ) -> Result<Vec<Modification>> {
        let kind = GroupType::of(e);
        let (dn, uid) = match user {
            Some(u) => (Some(u.dn.clone()), u.first_str("uid").map(str::to_owned)),
            None => match self.h.users().find_by_uid_or_dn(member).await {
                Ok(u) => (Some(u.dn.clone()), u.first_str("uid").map(str::to_owned)),
                Err(err) if err.code() == ErrorCode::UserNotFound => {
                    // Not (or no longer) a user: remove by the given form.
                    match Dn::parse(member) {
                        Ok(d) if member.contains('=') => (Some(d), None),
                        _ => (None, Some(member.to_owned())),
                    }
                }
                Err(err) => return Err(err),
            },
        };
        let mut changes = Vec::new();
        if kind.has_dns() {
            if let Some(dn) = &dn {
                let current: Vec<&str> = e.strs("member");
                let matching: Vec<&str> = current
                    .iter()
                    .copied()
                    .filter(|x| Dn::parse(x).is_ok_and(|d| &d == dn))
                    .collect();
                if !matching.is_empty() {
                    changes.push(Modification::delete("member", matching.iter().copied()));
                    if matching.len() == current.len() {
                        changes.push(Modification::add(
                            "member",
                            [placeholder_dn(self.h)?.to_string()],
                        ));
                    }
                }
            }
        }
        if kind.has_uids() {
            if let Some(uid) = &uid {
                if e.strs("memberUid").contains(&uid.as_str()) {
                    changes.push(Modification::delete("memberUid", [uid.as_str()]));
                }
            }
        }
        Ok(changes)
    }

    /// After the entry `old` was renamed to `new`: every group holding `old` as a `member`
    /// holds `new` instead (`memberUid` holds uids, which do not change). slapd's refint
    /// overlay may be doing the same concurrently, in the background: a value already
    /// replaced means read again.
    pub(crate) async fn rename_member(&self, old: &Dn, new: &Dn) -> Result<()> {
        let found = self
            .h
            .directory()
            .search(
                &SearchRequest::new(
                    self.h.base().clone(),
                    Scope::Subtree,
                    Filter::and([group_filter(), Filter::eq("member", old.to_string())]),
                )
                .attributes(["member"]),
            )
            .await?;
        for g in found {
            let mut g = g;
            for attempt in 0..3 {
                let holds = |e: &Entry, dn: &Dn| {
                    e.strs("member")
                        .iter()
                        .any(|m| Dn::parse(m).is_ok_and(|m| &m == dn))
                };
                let mut changes = Vec::new();
                if holds(&g, old) {
                    changes.push(Modification::delete("member", [old.to_string()]));
                }
                if !holds(&g, new) {
                    changes.push(Modification::add("member", [new.to_string()]));
                }
                if changes.is_empty() {
                    break;
                }
                match self.h.directory().modify(&g.dn, &changes).await {
                    Ok(()) => break,
                    Err(e)
                        if attempt < 2
                            && matches!(
                                e.code(),
                                ErrorCode::NoSuchAttribute | ErrorCode::ValueAlreadyExists
                            ) =>
                    {
                        match self.h.directory().get(&g.dn, &["member"]).await? {
                            Some(fresh) => g = fresh,
                            None => break,
                        }
                    }
                    Err(e) if e.code() == ErrorCode::EntryNotFound => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
    /// Removes a user (or a nested group) from every group holding it (used when it is
    /// deleted).
    pub(crate) async fn remove_everywhere(&self, user: &Entry) -> Result<()> {
        let uid = user.first_str("uid").unwrap_or_default();
        // A user leaves by DN and by uid; a nested group by DN.
        let mut held_by = vec![Filter::eq("member", user.dn.to_string())];
        if !uid.is_empty() {
            held_by.push(Filter::eq("memberUid", uid));
        }
        let found = self
            .h
            .directory()
            .search(&SearchRequest::new(
                self.h.base().clone(),
                Scope::Subtree,
                Filter::and([group_filter(), Filter::or(held_by)]),
            ))
            .await?;
        for g in found {
            let mut g = g;
            // slapd's refint overlay may be removing the same values concurrently (it runs
            // after the delete, in the background): a value gone meanwhile means read again.
            for attempt in 0..3 {
                let changes = self.removal(&g, uid, Some(user)).await?;
                match self.h.directory().modify(&g.dn, &changes).await {
                    Ok(()) => break,
                    Err(e)
                        if attempt < 2
                            && matches!(
                                e.code(),
                                ErrorCode::NoSuchAttribute | ErrorCode::ValueAlreadyExists
                            ) =>
                    {
                        match self.h.directory().get(&g.dn, &["*"]).await? {
                            Some(fresh) => g = fresh,
                            None => break,
                        }
                    }
                    Err(e) if e.code() == ErrorCode::EntryNotFound => break,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

/// What is known about `memberOf` (see [`Heracles::member_of_maintained`]).
#[derive(Debug, Default)]
pub(crate) struct MemberOfProbe {
    /// The answer, once one group member showed it.
    known: tokio::sync::OnceCell<bool>,
    /// When a probe last found no member to look at.
    inconclusive_at: std::sync::Mutex<Option<std::time::Instant>>,
}

/// How long an inconclusive probe (no group with a member yet) is trusted.
const PROBE_AGAIN_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

pub(crate) async fn member_of_maintained(h: &Heracles, probe: &MemberOfProbe) -> Result<bool> {
    if let Some(known) = probe.known.get() {
        return Ok(*known);
    }
    if let Some(known) = h.directory().keeps_member_of() {
        return Ok(known);
    }
    {
        let at = probe
            .inconclusive_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if at.is_some_and(|t| t.elapsed() < PROBE_AGAIN_AFTER) {
            return Ok(false);
        }
    }
    let dir = h.directory();
    let placeholder = placeholder_dn(h)?;
    let with_members = dir
        .search(
            &SearchRequest::new(
                h.base().clone(),
                Scope::Subtree,
                Filter::and([
                    Filter::eq("objectClass", "groupOfNames"),
                    Filter::present("member"),
                ]),
            )
            .attributes(["member"])
            .size_limit(20),
        )
        .await?;
    for g in &with_members {
        for v in g.strs("member") {
            let Ok(m) = Dn::parse(v) else { continue };
            if m == placeholder || !m.is_descendant_of(h.base()) {
                continue;
            }
            if let Some(e) = dir.get(&m, &["memberOf"]).await? {
                let answer = e
                    .strs("memberOf")
                    .iter()
                    .filter_map(|s| Dn::parse(s).ok())
                    .any(|d| d == g.dn);
                let _ = probe.known.set(answer);
                return Ok(answer);
            }
        }
    }
    *probe
        .inconclusive_at
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(std::time::Instant::now());
    Ok(false)
}
