//! Users: `inetOrgPerson` entries, optionally with `posixAccount` + `shadowAccount`.
//!
//! - `uid` is unique in the whole base; `/users/{uid}` finds a user wherever it lives (in
//!   `ou=people` or in a department).
//! - Bodies use LDAP attribute names; any attribute of the user's object classes is
//!   accepted, anything else is a 400. `userPassword` is hashed (scheme from the settings)
//!   after the password policy check, and never returned.
//! - `posix: {uidNumber: null}` allocates the next free number atomically
//!   (a directory-side compare-and-swap on `cn=counters,ou=heracles`); `gidNumber` defaults to the same number, `homeDirectory` to the
//!   configured pattern, `loginShell` to the configured shell, `gecos` to `cn`.
//! - An update sends only the attributes that changed; `null` removes one.
//! - Lock sets ppolicy's `pwdAccountLockedTime` (the account cannot bind; the hash is
//!   untouched); unlock removes it.
//! - Deleting a user removes it from every group (`member` and `memberUid`).

use serde::Serialize;
use serde_json::{Map, Value};

use super::attrs::{self, allowed_attributes, resolve_field, unknown_field, values_of};
use super::common::{
    allow_list_for_classes, list_entries_with, written_attributes, ListQuery, ListSpec, Principal,
};
use super::ids::{allocate, IdKind};
use super::memberships;
use super::reads::{self, Read};
use super::replica;
use super::settings::Settings;
use super::version::{guard, IfMatch, CSN};
use crate::acl::{Action, ObjectType, Permission};
use crate::audit::{action, object_type, Operation};

const READ: Permission = Permission::new(ObjectType::User, Action::Read);
const WRITE: Permission = Permission::new(ObjectType::User, Action::Write);
const CREATE: Permission = Permission::new(ObjectType::User, Action::Create);
const DELETE: Permission = Permission::new(ObjectType::User, Action::Delete);
const MANAGE: Permission = Permission::new(ObjectType::User, Action::Manage);
use super::{Container, Heracles};
use crate::audit::{AuditContext, AuditResult};
use crate::directory::{Entry, Modification, Scope, SearchRequest, SortKey};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;
use crate::page::Page;
use crate::password;

/// The object classes of a user, and with POSIX.
const CLASSES: &[&str] = &["inetOrgPerson"];
const POSIX_CLASSES: &[&str] = &["posixAccount", "shadowAccount"];
/// Fields handled by the service itself rather than as plain attributes.
const SPECIAL: &[&str] = &["department", "template", "posix", "userPassword"];
/// Value of `pwdAccountLockedTime` that locks an account until unlocked (ppolicy).
const LOCKED_FOREVER: &str = "000001010000Z";

/// A user as answered by every front.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    /// Its DN.
    pub dn: Dn,
    /// Login name (RDN).
    pub uid: String,
    /// Full name.
    pub cn: String,
    /// Surname.
    pub sn: String,
    /// Object classes.
    #[serde(rename = "objectClass")]
    pub object_class: Vec<String>,
    /// Groups it belongs to (their `cn`).
    pub groups: Vec<String>,
    /// Whether the account is locked.
    pub locked: bool,
    /// Every other attribute (`mail`, `givenName`, `uidNumber`, ...), never the password.
    #[serde(flatten)]
    pub attributes: Map<String, Value>,
}

impl User {
    /// A field by name (`uid`, `cn`, `mail`, ...), as in the JSON answer.
    pub fn field(&self, name: &str) -> Option<Value> {
        match name {
            "dn" => Some(Value::from(self.dn.to_string())),
            "uid" => Some(Value::from(self.uid.clone())),
            "cn" => Some(Value::from(self.cn.clone())),
            "sn" => Some(Value::from(self.sn.clone())),
            "groups" => Some(Value::from(self.groups.clone())),
            "locked" => Some(Value::from(self.locked)),
            "objectClass" => Some(Value::from(self.object_class.clone())),
            other => self.attributes.get(other).cloned(),
        }
    }
}

/// The user operations. Get it with [`Heracles::users`].
#[derive(Debug)]
pub struct Users<'a> {
    h: &'a Heracles,
    if_match: Option<&'a IfMatch>,
}

fn not_found(uid: &str, base: &Dn) -> Error {
    Error::new(
        ErrorCode::UserNotFound,
        format!("User with uid '{uid}' not found"),
    )
    .with_detail("uid", uid)
    .with_detail("search_base", base.to_string())
}

fn string_field(fields: &Map<String, Value>, name: &str) -> Result<Option<String>> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(_) => Err(Error::validation(
            name,
            format!("'{name}' must be a non-empty string"),
        )),
    }
}

fn expand_pattern(pattern: &str, uid: &str) -> String {
    pattern.replace("{{uid}}", uid)
}

impl<'a> Users<'a> {
    pub(super) fn new(h: &'a Heracles) -> Self {
        Users { h, if_match: None }
    }

    /// The same operations, with `Some`: writing only while the user still has one of the expected
    /// versions (see [`version`](super::version)); otherwise `PRECONDITION_FAILED`.
    #[must_use]
    pub fn if_match(self, expected: Option<&'a IfMatch>) -> Self {
        Users {
            if_match: expected,
            ..self
        }
    }

    /// The assertion a write of `e` must carry under the expected version.
    async fn guard(&self, e: &Entry) -> Result<Option<Filter>> {
        if self.if_match.is_none() {
            return Ok(None);
        }
        let current = self.to_user(e.clone()).await?;
        guard(self.if_match, &current, e)
    }

    fn allowed(&self, posix: bool) -> std::collections::BTreeSet<String> {
        let mut classes: Vec<&str> = CLASSES.to_vec();
        if posix {
            classes.extend(POSIX_CLASSES);
        }
        allowed_attributes(self.h.schema(), &classes)
    }

    /// Finds the entry of `uid` anywhere below the base.
    pub(crate) async fn find(&self, uid: &str) -> Result<Entry> {
        self.find_with(uid, &[], Read::Directory).await
    }

    /// `req`'s entries: from the directory, or through the cache of reads (read-only
    /// requests only).
    async fn read(&self, req: &SearchRequest, how: Read) -> Result<Vec<Entry>> {
        match how {
            Read::Directory => self.h.directory().search(req).await,
            Read::Cached => reads::search(self.h, req).await,
        }
    }

    /// [`Users::find`], reading `extra` attributes too.
    async fn find_with(&self, uid: &str, extra: &[&str], how: Read) -> Result<Entry> {
        let base = self.h.base();
        let mut attrs = replica::GET_ATTRS[..3].to_vec();
        attrs.extend_from_slice(extra);
        let found = self
            .read(
                &SearchRequest::new(
                    base.clone(),
                    Scope::Subtree,
                    Filter::and([
                        Filter::eq("objectClass", "inetOrgPerson"),
                        Filter::eq("uid", uid),
                    ]),
                )
                .attributes(attrs)
                .size_limit(2),
                how,
            )
            .await?;
        self.one(found, uid)
    }

    /// The one user a search by uid found.
    fn one(&self, found: Vec<Entry>, uid: &str) -> Result<Entry> {
        let mut it = found.into_iter();
        match (it.next(), it.next()) {
            (Some(e), None) => Ok(e),
            (None, _) => Err(not_found(uid, self.h.base())),
            (Some(_), Some(_)) => Err(Error::new(
                ErrorCode::BusinessRuleViolation,
                format!("several users have uid '{uid}'; fix the directory"),
            )
            .with_detail("uid", uid)),
        }
    }

    /// Finds a user by uid or DN (for group membership and logins).
    pub(crate) async fn find_by_uid_or_dn(&self, key: &str) -> Result<Entry> {
        if key.contains('=') {
            let dn = Dn::parse(key)?;
            return match self
                .h
                .directory()
                .get(&dn, &["*", "pwdAccountLockedTime", CSN])
                .await?
            {
                Some(e) if e.has_value("objectClass", "inetOrgPerson") => Ok(e),
                _ => Err(
                    Error::new(ErrorCode::UserNotFound, format!("User '{dn}' not found"))
                        .with_detail("dn", dn.to_string()),
                ),
            };
        }
        self.find(key).await
    }

    async fn groups_of(&self, e: &Entry) -> Result<Vec<String>> {
        self.groups_by(
            &e.dn,
            e.first_str("uid").unwrap_or_default(),
            Read::Directory,
        )
        .await
    }

    /// The groups (their `cn`) holding `dn` as a `member` or `uid` as a `memberUid`.
    async fn groups_by(&self, dn: &Dn, uid: &str, how: Read) -> Result<Vec<String>> {
        let found = self
            .read(
                &SearchRequest::new(
                    self.h.base().clone(),
                    Scope::Subtree,
                    Filter::or([
                        Filter::eq("member", dn.to_string()),
                        Filter::eq("memberUid", uid),
                    ]),
                )
                .attributes(["cn"]),
                how,
            )
            .await?;
        let mut names: Vec<String> = found
            .iter()
            .filter_map(|g| g.first_str("cn").map(str::to_owned))
            .collect();
        names.sort_by_key(|n| n.to_lowercase());
        Ok(names)
    }

    /// The group names of each of `users` (in that order): one small indexed search per
    /// user, run side by side. (One search for the whole page would return every member of
    /// each group a page user is in — 10,000 values for a department of 10,000 people.)
    async fn groups_of_page(&self, users: &[Entry]) -> Result<Vec<Vec<String>>> {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, e) in users.iter().enumerate() {
            let h = self.h.clone();
            let e = Entry::new(e.dn.clone()).with("uid", e.get("uid"));
            tasks.spawn(async move { (i, Users::new(&h).groups_of(&e).await) });
        }
        let mut names: Vec<Vec<String>> = vec![Vec::new(); users.len()];
        while let Some(done) = tasks.join_next().await {
            let (i, found) =
                done.map_err(|e| Error::internal(format!("a group lookup failed: {e}")))?;
            if let Some(slot) = names.get_mut(i) {
                *slot = found?;
            }
        }
        Ok(names)
    }

    /// The group names of each of `users` from their `memberOf` values (removed from the
    /// entries), plus the posix-only groups (`memberUid` without `member`, which memberOf
    /// does not cover) found with one search for the page.
    async fn groups_by_member_of(&self, users: &mut [Entry]) -> Result<Vec<Vec<String>>> {
        let mine: Vec<Vec<String>> = users
            .iter_mut()
            .map(|e| memberships::member_of_names(self.h, e))
            .collect();
        let uids: Vec<&str> = users
            .iter()
            .map(|e| e.first_str("uid").unwrap_or_default())
            .collect();
        let posix = memberships::posix_only_groups(self.h, &uids).await?;
        Ok(mine
            .into_iter()
            .zip(posix)
            .map(|(a, b)| memberships::merge(a, b))
            .collect())
    }

    async fn to_user(&self, e: Entry) -> Result<User> {
        let groups = self.groups_of(&e).await?;
        Ok(self.shape(e, groups))
    }

    fn shape(&self, e: Entry, groups: Vec<String>) -> User {
        let schema = self.h.schema();
        User {
            uid: e.first_str("uid").unwrap_or_default().to_owned(),
            cn: e.first_str("cn").unwrap_or_default().to_owned(),
            sn: e.first_str("sn").unwrap_or_default().to_owned(),
            object_class: e
                .strs("objectClass")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            groups,
            locked: !e.get("pwdAccountLockedTime").is_empty(),
            attributes: attrs::other_fields(schema, &e, &["uid", "cn", "sn", "objectClass"]),
            dn: e.dn,
        }
    }

    /// The answer for `e` as `p` may see it: attributes its policies do not let it read
    /// are left out (the identity fields `dn`, `uid`, `cn`, `sn`, `objectClass`, `groups`,
    /// `locked` are shown to whoever may read the user at all).
    fn visible(p: &Principal, mut user: User) -> User {
        if !p.acl().is_unrestricted() {
            let filter = p.acl().attributes(ObjectType::User, Action::Read, &user.dn);
            user.attributes.retain(|k, _| filter.allows(k));
        }
        user
    }

    /// `e` answered to `p` (see [`Users::visible`]).
    async fn answer(&self, p: &Principal, e: Entry) -> Result<User> {
        Ok(Self::visible(p, self.to_user(e).await?))
    }

    /// One user.
    ///
    /// Most users live in the people container, so their groups are looked up at the same
    /// time as their entry, with the DN they would have there: one round trip instead of
    /// two. A user found elsewhere (in a department) has its groups looked up again with
    /// its real DN; the answer is the same either way.
    pub async fn get(&self, p: &Principal, uid: &str) -> Result<User> {
        // Checked before the lookup, so a caller without any right to read users cannot
        // tell which uids exist.
        p.check_somewhere(READ, uid)?;
        // With memberOf kept by the directory, the groups come with the entry (and the
        // posix-only ones from their index): one search.
        if self.h.member_of_maintained().await? {
            let mut e = match replica::users_by_uid(self.h, uid).await {
                Some(found) => self.one(found, uid)?,
                None => self.find_with(uid, &["memberOf"], Read::Cached).await?,
            };
            p.check(READ, &e.dn)?;
            let mine = memberships::member_of_names(self.h, &mut e);
            let uid = e.first_str("uid").unwrap_or_default().to_owned();
            let posix = memberships::posix_only_groups(self.h, &[&uid]).await?;
            let groups = memberships::merge(mine, posix.into_iter().next().unwrap_or_default());
            return Ok(Self::visible(p, self.shape(e, groups)));
        }
        let Some(guess) = self.people_dn(uid) else {
            let e = self.find_with(uid, &[], Read::Cached).await?;
            p.check(READ, &e.dn)?;
            return self.answer(p, e).await;
        };
        let (found, groups) = tokio::join!(
            self.find_with(uid, &[], Read::Cached),
            self.groups_by(&guess, uid, Read::Cached)
        );
        let e = found?;
        p.check(READ, &e.dn)?;
        let groups = match groups {
            Ok(g) if e.dn == guess => g,
            _ => self.groups_of(&e).await?,
        };
        Ok(Self::visible(p, self.shape(e, groups)))
    }

    /// The DN `uid` has when it lives in the people container (`None` if no DN can be made
    /// of it).
    fn people_dn(&self, uid: &str) -> Option<Dn> {
        let people = self.h.container(Container::People).ok()?;
        Some(people.child(Rdn::new("uid", uid).ok()?))
    }

    /// A page of users (filters on the user fields, sort, paging).
    pub async fn list(&self, p: &Principal, q: &ListQuery) -> Result<Page<User>> {
        p.check_somewhere(READ, &self.h.base().to_string())?;
        let allow = allow_list_for_classes(
            self.h.schema(),
            // ldapPublicKey: `filter=sshPublicKey:present` finds users with SSH keys.
            &[
                "inetOrgPerson",
                "posixAccount",
                "shadowAccount",
                "ldapPublicKey",
            ],
        );
        // With memberOf kept by the directory, each user's groupOfNames groups come with
        // the entry: no search per user.
        let member_of = self.h.member_of_maintained().await?;
        let fetch: &[&str] = if member_of { &["*", "memberOf"] } else { &[] };
        let spec = ListSpec {
            filter_allow: &allow,
            field_allow: &allow,
            default_sort: vec![SortKey::asc("uid")],
            fetch,
        };
        let mut page = list_entries_with(
            self.h,
            (p, READ),
            self.h.base(),
            Filter::eq("objectClass", "inetOrgPerson"),
            &spec,
            q,
        )
        .await?;
        let mut groups = if member_of {
            self.groups_by_member_of(&mut page.data).await?
        } else {
            self.groups_of_page(&page.data).await?
        }
        .into_iter();
        let mut data = Vec::with_capacity(page.data.len());
        for e in page.data {
            let names = groups.next().unwrap_or_default();
            data.push(Self::visible(p, self.shape(e, names)));
        }
        Ok(Page {
            data,
            pagination: page.pagination,
        })
    }

    /// Creates a user from API fields (SPEC §3 body: `uid`, `cn`, `sn`, any attribute of
    /// the user's classes, `userPassword`, `department`, `template`, `posix`).
    #[allow(clippy::too_many_lines)] // one body, checked field by field, in order
    pub async fn create(&self, p: &Principal, body: &Map<String, Value>) -> Result<User> {
        let mut op = Operation::new(
            self.h,
            p,
            action::CREATE,
            object_type::USER,
            body.get("uid").and_then(Value::as_str).unwrap_or("?"),
        );
        let outcome = self.create_op(p, body, &mut op).await;
        op.done(outcome).await
    }

    async fn create_op(
        &self,
        p: &Principal,
        body: &Map<String, Value>,
        op: &mut Operation<'_>,
    ) -> Result<User> {
        p.check_somewhere(CREATE, &self.h.base().to_string())?;
        let settings = self.h.settings().effective().await?;
        let mut fields = body.clone();
        if let Some(name) = string_field(&fields, "template")? {
            let template = self.h.templates().get(p, &name).await?;
            fields = self.h.templates().apply(&template, &fields)?;
        }
        let uid = string_field(&fields, "uid")?
            .ok_or_else(|| Error::validation("uid", "uid is required"))?;
        settings.check_uid(&uid)?;
        for required in ["cn", "sn"] {
            if string_field(&fields, required)?.is_none() {
                return Err(Error::validation(
                    required,
                    format!("{required} is required"),
                ));
            }
        }
        let parent = match string_field(&fields, "department")? {
            Some(d) => self.h.departments().resolve(p, &d).await?,
            None => self.h.container(Container::People)?,
        };
        let posix_block = match fields.get("posix") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(_) => return Err(Error::validation("posix", "posix must be an object")),
        };
        let flattened_posix = ["uidNumber", "gidNumber", "homeDirectory", "loginShell"]
            .iter()
            .any(|f| fields.contains_key(*f));
        let posix = posix_block.is_some() || flattened_posix;
        let allowed = self.allowed(posix);
        let dn = parent.child(Rdn::new("uid", &uid)?);
        p.check(CREATE, &dn)?;
        let mut entry = Entry::new(dn.clone());
        let mut classes: Vec<&str> = vec!["top", "inetOrgPerson"];
        if posix {
            classes.extend(POSIX_CLASSES);
        }
        entry.set("objectClass", classes);
        let mut all = fields.clone();
        if let Some(block) = &posix_block {
            for (k, v) in block {
                if !matches!(
                    k.as_str(),
                    "uidNumber" | "gidNumber" | "homeDirectory" | "loginShell" | "gecos"
                ) {
                    return Err(unknown_field(&format!("posix.{k}")));
                }
                all.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in &all {
            if SPECIAL.contains(&k.as_str()) {
                continue;
            }
            if matches!(k.as_str(), "uidNumber" | "gidNumber") && v.is_null() {
                continue; // allocated below
            }
            let Some(name) = resolve_field(self.h.schema(), &allowed, k) else {
                return Err(unknown_field(k));
            };
            if name.eq_ignore_ascii_case("objectClass") {
                return Err(unknown_field(k));
            }
            if let Some(vals) = values_of(k, v)? {
                entry.set(&name, vals);
            }
        }
        if posix {
            self.fill_posix(&mut entry, &settings, &uid).await?;
        }
        if let Some(pw) = string_field(&fields, "userPassword")? {
            settings.password_policy.check(&pw)?;
            entry.set(
                "userPassword",
                [password::hash(&pw, settings.password_hash)?],
            );
        }
        p.check_attributes(CREATE, &dn, written_attributes(&entry))?;
        if self.find(&uid).await.is_ok() {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                format!("a user with uid '{uid}' already exists"),
            )
            .with_detail("uid", uid.as_str()));
        }
        op.target(&dn);
        op.begin().await?;
        self.h.directory().add(&entry).await.map_err(|e| {
            if e.code() == ErrorCode::AlreadyExists {
                e.with_detail("uid", uid.as_str())
            } else {
                e
            }
        })?;
        op.changes(None, Some(&entry));
        self.answer(p, self.find(&uid).await?).await
    }

    /// The POSIX defaults of a new user: allocated uidNumber, gidNumber = uidNumber, home
    /// from the pattern, the default shell, gecos from cn.
    async fn fill_posix(&self, entry: &mut Entry, settings: &Settings, uid: &str) -> Result<()> {
        let uid_number = match entry.first_str("uidNumber") {
            Some(n) => n.to_owned(),
            None => allocate(
                self.h,
                IdKind::Uid,
                settings.uid_range.min,
                settings.uid_range.max,
            )
            .await?
            .to_string(),
        };
        entry.set("uidNumber", [uid_number.as_str()]);
        if entry.first_str("gidNumber").is_none() {
            entry.set("gidNumber", [uid_number.as_str()]);
        }
        if entry.first_str("homeDirectory").is_none() {
            entry.set(
                "homeDirectory",
                [expand_pattern(&settings.home_directory_pattern, uid)],
            );
        }
        if entry.first_str("loginShell").is_none() {
            entry.set("loginShell", [settings.default_login_shell.as_str()]);
        }
        if entry.first_str("gecos").is_none() {
            let cn = entry.first_str("cn").unwrap_or_default().to_owned();
            // gecos is IA5: keep it ASCII.
            let ascii: String = cn.chars().filter(char::is_ascii).collect();
            if !ascii.is_empty() {
                entry.set("gecos", [ascii]);
            }
        }
        Ok(())
    }

    /// Changes the given fields only (`null` removes one); the POSIX fields may be flat or in
    /// a `posix` block. The password has its own operation.
    pub async fn update(
        &self,
        p: &Principal,
        uid: &str,
        body: &Map<String, Value>,
    ) -> Result<User> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::USER, uid);
        let outcome = self.update_op(p, uid, body, &mut op).await;
        op.done(outcome).await
    }

    #[allow(clippy::too_many_lines)] // one body, checked field by field, in order
    async fn update_op(
        &self,
        p: &Principal,
        uid: &str,
        body: &Map<String, Value>,
        op: &mut Operation<'_>,
    ) -> Result<User> {
        p.check_somewhere(WRITE, uid)?;
        let e = self.find(uid).await?;
        op.target(&e.dn);
        p.check(WRITE, &e.dn)?;
        let assertion = self.guard(&e).await?;
        let mut fields = body.clone();
        if let Some(block) = fields.remove("posix") {
            match block {
                Value::Object(m) => fields.extend(m),
                Value::Null => {}
                _ => return Err(Error::validation("posix", "posix must be an object")),
            }
        }
        let has_posix = e.has_value("objectClass", "posixAccount");
        let wants_posix = body.get("posix").is_some_and(Value::is_object)
            || ["uidNumber", "gidNumber", "homeDirectory", "loginShell"]
                .iter()
                .any(|f| fields.get(*f).is_some_and(|v| !v.is_null()));
        let allowed = self.allowed(has_posix || wants_posix);
        let mut changes = Vec::new();
        if wants_posix && !has_posix {
            // Becoming a POSIX account: the same defaults as at creation (an allocated
            // uidNumber unless one is given, gidNumber, home, shell, gecos).
            changes.push(Modification::add(
                "objectClass",
                POSIX_CLASSES.iter().copied(),
            ));
            let mut tmp = Entry::new(e.dn.clone()).with("cn", e.strs("cn"));
            for f in [
                "uidNumber",
                "gidNumber",
                "homeDirectory",
                "loginShell",
                "gecos",
            ] {
                if let Some(vals) = fields
                    .get(f)
                    .map(|v| values_of(f, v))
                    .transpose()?
                    .flatten()
                {
                    tmp.set(f, vals);
                }
            }
            let settings = self.h.settings().effective().await?;
            self.fill_posix(&mut tmp, &settings, uid).await?;
            for f in [
                "uidNumber",
                "gidNumber",
                "homeDirectory",
                "loginShell",
                "gecos",
            ] {
                if fields.get(f).is_none_or(Value::is_null) && !tmp.get(f).is_empty() {
                    changes.push(Modification::replace(f, tmp.get(f).to_vec()));
                    fields.remove(f);
                }
            }
        }
        for (k, v) in &fields {
            // A POSIX account keeps its numbers: `null` cannot remove them.
            if matches!(k.as_str(), "uidNumber" | "gidNumber") && v.is_null() {
                continue;
            }
            match k.as_str() {
                "uid" => {
                    if v.as_str() != Some(uid) {
                        return Err(Error::validation("uid", "uid cannot be changed"));
                    }
                    continue;
                }
                "userPassword" => {
                    return Err(Error::validation(
                        "userPassword",
                        "change passwords with POST /users/{uid}/password",
                    ))
                }
                "dn" | "groups" | "locked" | "objectClass" | "department" | "template" => {
                    return Err(unknown_field(k))
                }
                _ => {}
            }
            let Some(name) = resolve_field(self.h.schema(), &allowed, k) else {
                return Err(unknown_field(k));
            };
            let new = values_of(k, v)?.unwrap_or_default();
            let old: Vec<&str> = e.strs(&name);
            if old == new.iter().map(String::as_str).collect::<Vec<_>>() {
                continue; // unchanged: not sent
            }
            if new.is_empty() && old.is_empty() {
                continue;
            }
            changes.push(Modification::replace(&name, new));
        }
        // A refusal names an attribute the caller asked for before one the change implies
        // (objectClass and the POSIX defaults when becoming POSIX).
        let asked = |a: &str| {
            body.keys().any(|k| k.eq_ignore_ascii_case(a))
                || body
                    .get("posix")
                    .and_then(Value::as_object)
                    .is_some_and(|m| m.keys().any(|k| k.eq_ignore_ascii_case(a)))
        };
        let named = changes.iter().map(Modification::attr);
        p.check_attributes(
            WRITE,
            &e.dn,
            named
                .clone()
                .filter(|a| asked(a))
                .chain(named.filter(|a| !asked(a))),
        )?;
        op.target(&e.dn);
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&e.dn, &changes, assertion.as_ref())
            .await?;
        let after = self.find(uid).await?;
        op.changes(Some(&e), Some(&after));
        self.answer(p, after).await
    }

    /// Deletes a user, removes it from every group and ends its sessions.
    pub async fn delete(&self, p: &Principal, uid: &str) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::USER, uid);
        let outcome = self.delete_op(p, uid, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_op(&self, p: &Principal, uid: &str, op: &mut Operation<'_>) -> Result<()> {
        p.check_somewhere(DELETE, uid)?;
        let e = self.find(uid).await?;
        op.target(&e.dn);
        p.check(DELETE, &e.dn)?;
        if p.is(&e.dn) {
            return Err(Error::new(
                ErrorCode::BusinessRuleViolation,
                "an administrator cannot delete its own account",
            )
            .with_detail("uid", uid));
        }
        let assertion = self.guard(&e).await?;
        op.target(&e.dn);
        op.begin().await?;
        self.h
            .directory()
            .delete_if(&e.dn, assertion.as_ref())
            .await?;
        op.changes(Some(&e), None);
        self.forget(&e).await
    }

    /// What deleting a user entry entails beyond the entry itself, wherever it is deleted
    /// from (here, or with a department deleted recursively): it leaves every group, its
    /// tokens stop working on every instance, and its ACL assignments go.
    ///
    /// The cached ACLs of other principals do not depend on the user (a user is no group,
    /// so nobody's group memberships change): only its own is forgotten — unless
    /// assignments named it, which every ACL is compiled from.
    pub(crate) async fn forget(&self, e: &Entry) -> Result<()> {
        self.h.groups().remove_everywhere(e).await?;
        self.h.sessions().revoke_all(&e.dn).await?;
        let assignments = super::bootstrap::remove_assignments_of(self.h, &e.dn).await?;
        if assignments > 0 {
            self.h.acl_cache().invalidate();
        } else {
            self.h.acl_cache().forget(&e.dn);
        }
        Ok(())
    }

    /// Sets a password: the caller's own needs `current`; the policy of the settings applies;
    /// the hash scheme is the configured one.
    pub async fn set_password(
        &self,
        p: &Principal,
        uid: &str,
        current: Option<&str>,
        new: &str,
    ) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::PASSWORD, object_type::USER, uid);
        let outcome = self.set_password_op(p, uid, current, new, &mut op).await;
        op.done(outcome).await
    }

    async fn set_password_op(
        &self,
        p: &Principal,
        uid: &str,
        current: Option<&str>,
        new: &str,
        op: &mut Operation<'_>,
    ) -> Result<()> {
        p.check_somewhere(WRITE, uid)?;
        let e = self.find(uid).await?;
        op.target(&e.dn);
        // Setting a password is writing `userPassword` (the `self` policy allows it on
        // one's own entry).
        p.check(WRITE, &e.dn)?;
        p.check_attributes(WRITE, &e.dn, ["userPassword"])?;
        if p.is(&e.dn) {
            let Some(current) = current else {
                return Err(Error::validation(
                    "current_password",
                    "the current password is needed to change one's own",
                ));
            };
            if !self.h.directory().check_password(&e.dn, current).await? {
                return Err(Error::new(
                    ErrorCode::InvalidCredentials,
                    "the current password is wrong",
                ));
            }
        }
        let settings = self.h.settings().effective().await?;
        let policy = &settings.password_policy;
        policy.check(new)?;
        let hashed = password::hash(new, settings.password_hash)?;
        let mut changes = vec![Modification::replace("userPassword", [hashed])];
        if policy.history > 0 {
            // The current password and the last `history - 1` ones may not come back.
            let full = self
                .h
                .directory()
                .get(
                    &e.dn,
                    &["userPassword", "heraclesPasswordHistory", "objectClass"],
                )
                .await?
                .ok_or_else(|| not_found(uid, self.h.base()))?;
            // History values are `<microseconds since the epoch, 20 digits>#<hash>`: LDAP
            // keeps no order among values, so the order is in the values themselves.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros();
            let mut previous: Vec<(u128, Vec<u8>)> = full
                .get("userPassword")
                .iter()
                .map(|h| (now, h.clone()))
                .collect();
            for v in full.get("heraclesPasswordHistory") {
                let Some(pos) = v.iter().position(|b| *b == b'#') else {
                    continue;
                };
                let stamp = std::str::from_utf8(&v[..pos])
                    .ok()
                    .and_then(|t| t.parse::<u128>().ok())
                    .unwrap_or(0);
                previous.push((stamp, v[pos + 1..].to_vec()));
            }
            previous.sort_by_key(|e| std::cmp::Reverse(e.0));
            previous.truncate(policy.history);
            for (_, old) in &previous {
                if password::verify(new, old)? {
                    return Err(Error::validation(
                        "new_password",
                        format!(
                            "the password was used recently (the last {} may not be reused)",
                            policy.history
                        ),
                    )
                    .with_detail("reason", "in_history"));
                }
            }
            let previous: Vec<Vec<u8>> = previous
                .into_iter()
                .enumerate()
                .map(|(i, (stamp, hash))| {
                    // Distinct stamps even for values read in the same microsecond.
                    let stamp = stamp.saturating_sub(i as u128);
                    let mut v = format!("{stamp:020}#").into_bytes();
                    v.extend_from_slice(&hash);
                    v
                })
                .collect();
            if !full.has_value("objectClass", "heraclesAccount") {
                changes.push(Modification::add("objectClass", ["heraclesAccount"]));
            }
            changes.push(Modification::replace("heraclesPasswordHistory", previous));
        }
        op.target(&e.dn);
        op.begin().await?;
        self.h.directory().modify(&e.dn, &changes).await?;
        // The values are secrets: the diff shows them redacted.
        op.changes(
            Some(&Entry::new(e.dn.clone()).with("userPassword", ["old"])),
            Some(&Entry::new(e.dn.clone()).with("userPassword", ["new"])),
        );
        Ok(())
    }

    /// Locks the account: it can no longer bind (nor log in), and its sessions end.
    pub async fn lock(&self, p: &Principal, uid: &str) -> Result<User> {
        let mut op = Operation::new(self.h, p, action::LOCK, object_type::USER, uid);
        let outcome = self.lock_op(p, uid, &mut op).await;
        op.done(outcome).await
    }

    async fn lock_op(&self, p: &Principal, uid: &str, op: &mut Operation<'_>) -> Result<User> {
        p.check_somewhere(MANAGE, uid)?;
        let e = self.find(uid).await?;
        op.target(&e.dn);
        p.check(MANAGE, &e.dn)?;
        if p.is(&e.dn) {
            return Err(Error::new(
                ErrorCode::BusinessRuleViolation,
                "an administrator cannot lock its own account",
            )
            .with_detail("uid", uid));
        }
        op.target(&e.dn);
        op.begin().await?;
        self.h
            .directory()
            .modify(
                &e.dn,
                &[Modification::replace(
                    "pwdAccountLockedTime",
                    [LOCKED_FOREVER],
                )],
            )
            .await?;
        self.h.sessions().revoke_all(&e.dn).await?;
        let after = self.find(uid).await?;
        op.changes(Some(&e), Some(&after));
        self.answer(p, after).await
    }

    /// Unlocks the account.
    pub async fn unlock(&self, p: &Principal, uid: &str) -> Result<User> {
        let mut op = Operation::new(self.h, p, action::UNLOCK, object_type::USER, uid);
        let outcome = self.unlock_op(p, uid, &mut op).await;
        op.done(outcome).await
    }

    async fn unlock_op(&self, p: &Principal, uid: &str, op: &mut Operation<'_>) -> Result<User> {
        p.check_somewhere(MANAGE, uid)?;
        let e = self.find(uid).await?;
        op.target(&e.dn);
        p.check(MANAGE, &e.dn)?;
        op.target(&e.dn);
        if !e.get("pwdAccountLockedTime").is_empty() {
            op.begin().await?;
            self.h
                .directory()
                .modify(&e.dn, &[Modification::delete_all("pwdAccountLockedTime")])
                .await?;
        }
        let after = self.find(uid).await?;
        op.changes(Some(&e), Some(&after));
        self.answer(p, after).await
    }

    /// Moves a user into the department `department` (its DN, or its `ou` when unique) or,
    /// with `None`, back into the people container. The entry is renamed — its DN changes;
    /// its uid, attributes and password stay — and whatever names it by DN follows: the
    /// `member` values of its groups and the ACL assignments naming it (as subject, or as
    /// entry scope). Its sessions end (tokens carry the DN). Needs `user:delete` where it
    /// is and `user:create` where it goes. Moving to where it already is changes nothing.
    pub async fn move_to(
        &self,
        p: &Principal,
        uid: &str,
        department: Option<&str>,
    ) -> Result<User> {
        let mut op = Operation::new(self.h, p, action::RENAME, object_type::USER, uid);
        let outcome = self.move_op(p, uid, department, &mut op).await;
        op.done(outcome).await
    }

    async fn move_op(
        &self,
        p: &Principal,
        uid: &str,
        department: Option<&str>,
        op: &mut Operation<'_>,
    ) -> Result<User> {
        p.check_somewhere(DELETE, uid)?;
        let e = self.find(uid).await?;
        op.target(&e.dn);
        p.check(DELETE, &e.dn)?;
        let parent = match department {
            Some(d) if !d.trim().is_empty() => self.h.departments().resolve(p, d).await?,
            _ => self.h.container(Container::People)?,
        };
        let rdn =
            e.dn.rdn()
                .cloned()
                .ok_or_else(|| Error::internal("a user entry without an RDN"))?;
        let target = parent.checked_child(rdn.clone())?;
        if target == e.dn {
            return self.answer(p, e).await;
        }
        p.check(CREATE, &target)?;
        op.begin().await?;
        let moved = self
            .h
            .directory()
            .rename(&e.dn, &rdn, false, Some(&parent))
            .await?;
        self.h.groups().rename_member(&e.dn, &moved).await?;
        super::acl::rename_subject(self.h, &e.dn, &moved).await?;
        self.h.sessions().revoke_all(&e.dn).await?;
        self.h.acl_cache().invalidate();
        let after = self.find(uid).await?;
        op.changes(Some(&e), Some(&after));
        op.moved(&e.dn, &after.dn);
        self.answer(p, after).await
    }

    /// Checks a login (uid or DN + password) by a bind as that user; `None` when the
    /// credentials are wrong, the user is unknown or locked — deliberately the same answer.
    pub async fn authenticate(&self, login: &str, password: &str) -> Result<Option<User>> {
        let entry = match self.find_by_uid_or_dn(login).await {
            Ok(e) => e,
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::UserNotFound
                        | ErrorCode::InvalidDn
                        | ErrorCode::ValidationFailed
                        | ErrorCode::BusinessRuleViolation
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        if !entry.get("pwdAccountLockedTime").is_empty() {
            return Ok(None);
        }
        if !self
            .h
            .directory()
            .check_password(&entry.dn, password)
            .await?
        {
            return Ok(None);
        }
        Ok(Some(self.to_user(entry).await?))
    }

    /// A login attempt (uid or DN + password, checked by a bind as that user), recorded in
    /// the audit trail whatever its outcome: an event with action `login`, object type
    /// `session`, target the user's DN (or, for an unknown user, `login` as given), actor
    /// the user on success (else none), and result `success`, `INVALID_CREDENTIALS` (wrong
    /// password, unknown user), `ACCOUNT_LOCKED`, or the code of a directory failure.
    ///
    /// The answer does not tell the failures apart: wrong password, unknown user and locked
    /// account are all `INVALID_CREDENTIALS` (SPEC §2); only the audit event says which. A
    /// directory failure is returned as it is. The event is written with
    /// [`Audit::record`](crate::audit::Audit::record): a login never fails because of the
    /// audit trail.
    pub async fn login(&self, ctx: &AuditContext, login: &str, password: &str) -> Result<User> {
        let audit = self.h.audit();
        let record = |target: String, result: AuditResult, actor: Option<Dn>| {
            let ctx = ctx.clone().with_actor(actor);
            async move {
                audit
                    .record(
                        &ctx,
                        action::LOGIN,
                        object_type::SESSION,
                        target,
                        result,
                        Vec::new(),
                    )
                    .await;
            }
        };
        let invalid = || {
            Error::new(
                ErrorCode::InvalidCredentials,
                "invalid username or password",
            )
        };
        let entry = match self.find_by_uid_or_dn(login).await {
            Ok(e) => e,
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::UserNotFound
                        | ErrorCode::InvalidDn
                        | ErrorCode::ValidationFailed
                        | ErrorCode::BusinessRuleViolation
                ) =>
            {
                let result = AuditResult::Failed(ErrorCode::InvalidCredentials);
                record(login.to_owned(), result, None).await;
                return Err(invalid());
            }
            Err(e) => {
                record(login.to_owned(), AuditResult::from(&e), None).await;
                return Err(e);
            }
        };
        let target = entry.dn.to_string();
        if !entry.get("pwdAccountLockedTime").is_empty() {
            record(target, ErrorCode::AccountLocked.into(), None).await;
            return Err(invalid());
        }
        // The groups of the answer are read while the directory checks the password (and
        // thrown away if it is wrong): one round trip instead of two.
        let (checked, groups) = tokio::join!(
            self.h.directory().check_password(&entry.dn, password),
            self.groups_of(&entry)
        );
        match checked {
            Ok(true) => {}
            Ok(false) => {
                record(target, ErrorCode::InvalidCredentials.into(), None).await;
                return Err(invalid());
            }
            Err(e) => {
                record(target, AuditResult::from(&e), None).await;
                return Err(e);
            }
        }
        let dn = entry.dn.clone();
        let user = groups.map(|g| self.shape(entry, g));
        record(target, AuditResult::from(&user), Some(dn)).await;
        user
    }
}
