//! Sudo rules: `sudoRole` entries (sudo's LDAP schema, sudoers.ldap(5)) below
//! `ou=sudoers`, where sudo's LDAP backend and sssd's sudo provider read them.
//!
//! * A rule is `cn=<name>,ou=sudoers,<base>`; its name follows [`syntax::check_cn`]. Rules
//!   are found by `cn` anywhere below the container (as sudo searches it), names compared
//!   case-insensitively (the `cn` matching rule), so two rules cannot differ only by case.
//! * Bodies use the attribute names: `cn`, `description`, `sudoUser`, `sudoHost`,
//!   `sudoCommand`, `sudoRunAsUser`, `sudoRunAsGroup`, `sudoOption` (each a string or a
//!   list of strings), `sudoOrder` (an integer), `sudoNotBefore`, `sudoNotAfter`
//!   (`YYYYMMDDHHMMSSZ`). Every value is checked by [`syntax`]; errors name the value.
//! * A rule needs at least one `sudoUser`, `sudoHost` and `sudoCommand` (sudo ignores a rule
//!   without them). The entry `cn=defaults` is sudo's global `Defaults`: it holds only
//!   `sudoOption` (and `description`).
//! * `sudoUser` names must exist: a plain name is the uid of a user of the directory, and
//!   `%name` the cn of a group, both spelt exactly (sudo compares names with their case;
//!   a value differing only by case is refused with the right spelling in the message).
//!   The lookups do not depend on the caller's right to read users or groups. Numeric ids
//!   (`#1000`, `%#1000`), netgroups (`+ops`), non-Unix groups (`%:name`) and `ALL` are
//!   checked for syntax only, as are `sudoRunAsUser`/`sudoRunAsGroup` (run-as accounts such
//!   as `root` are usually local, not in the directory).
//! * LDAP keeps attribute values as a set: the order of a list is not kept, and a value
//!   given twice is refused. The obsolete `sudoRunAs` attribute written by other tools is
//!   shown (read-only); `"sudoRunAs": null` removes it.
//! * `PUT` changes only the fields given (a list replaces all values of that attribute;
//!   `null` or `[]` removes it); the name cannot change.
//! * Access: `sudo:read`, `sudo:create`, `sudo:write`, `sudo:delete`; every write is
//!   audited with object type `sudo`. Writes honour [`Sudo::if_match`].
//!
//! ```
//! use heracles_core::service::sudo::NewSudoRule;
//! use serde_json::json;
//!
//! let rule: NewSudoRule = serde_json::from_value(json!({
//!     "cn": "web-admins",
//!     "sudoUser": ["jdoe", "%webadmins"],
//!     "sudoHost": "ALL",
//!     "sudoCommand": ["/usr/bin/systemctl restart nginx"],
//!     "sudoOption": ["!authenticate"],
//! })).unwrap();
//! assert_eq!(rule.sudo_host, ["ALL"]);
//! assert!(serde_json::from_value::<NewSudoRule>(json!({"cn": "x", "sudoUsers": []})).is_err());
//! ```

pub mod syntax;

use serde::{Deserialize, Serialize};

use self::syntax::{check_list, fail, is_defaults, Reference};
use super::attrs::{list, nullable_list};
use super::common::{allow_list_for_classes, list_entries};
use super::departments::{check_description, nullable};
use super::version::{guard, IfMatch, CSN};
use super::{Container, Heracles, ListQuery, Principal};
use crate::acl::{Action, ObjectType, Permission};
use crate::audit::{action, object_type, Operation};
use crate::directory::{truncate, Entry, Modification, Scope, SearchRequest};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{AllowList, Filter};
use crate::page::Page;

const READ: Permission = Permission::new(ObjectType::Sudo, Action::Read);
const WRITE: Permission = Permission::new(ObjectType::Sudo, Action::Write);
const CREATE: Permission = Permission::new(ObjectType::Sudo, Action::Create);
const DELETE: Permission = Permission::new(ObjectType::Sudo, Action::Delete);

const OBJECT_CLASS: &str = "sudoRole";
const USER: &str = "sudoUser";
const HOST: &str = "sudoHost";
const COMMAND: &str = "sudoCommand";
const RUN_AS_USER: &str = "sudoRunAsUser";
const RUN_AS_GROUP: &str = "sudoRunAsGroup";
const RUN_AS: &str = "sudoRunAs";
const OPTION: &str = "sudoOption";
const ORDER: &str = "sudoOrder";
const NOT_BEFORE: &str = "sudoNotBefore";
const NOT_AFTER: &str = "sudoNotAfter";

/// A sudo rule as answered by every front.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SudoRule {
    /// Its DN.
    pub dn: Dn,
    /// Its name.
    pub cn: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who the rule applies to.
    #[serde(default)]
    pub sudo_user: Vec<String>,
    /// Where.
    #[serde(default)]
    pub sudo_host: Vec<String>,
    /// What may (or, negated, may not) be run.
    #[serde(default)]
    pub sudo_command: Vec<String>,
    /// As which users.
    #[serde(default)]
    pub sudo_run_as_user: Vec<String>,
    /// As which groups.
    #[serde(default)]
    pub sudo_run_as_group: Vec<String>,
    /// sudoers options.
    #[serde(default)]
    pub sudo_option: Vec<String>,
    /// The obsolete run-as attribute, when another tool wrote it (read-only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sudo_run_as: Vec<String>,
    /// Precedence (the highest matching rule wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo_order: Option<i64>,
    /// Valid from (`YYYYMMDDHHMMSSZ`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo_not_before: Option<String>,
    /// Valid until (`YYYYMMDDHHMMSSZ`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sudo_not_after: Option<String>,
}

/// The body of `POST /sudo` (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewSudoRule {
    /// The rule's name.
    pub cn: String,
    /// Free text (1 to 1024 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Users, `%groups`, `#uid`, `%#gid`, `+netgroups`, `ALL`.
    #[serde(default, deserialize_with = "list")]
    pub sudo_user: Vec<String>,
    /// Hosts, addresses, networks, `+netgroups`, `ALL`.
    #[serde(default, deserialize_with = "list")]
    pub sudo_host: Vec<String>,
    /// Absolute paths with arguments, `ALL`, `sudoedit`, `list`.
    #[serde(default, deserialize_with = "list")]
    pub sudo_command: Vec<String>,
    /// Run-as users.
    #[serde(default, deserialize_with = "list")]
    pub sudo_run_as_user: Vec<String>,
    /// Run-as groups.
    #[serde(default, deserialize_with = "list")]
    pub sudo_run_as_group: Vec<String>,
    /// Options (`!authenticate`, `env_keep+=X`, ...).
    #[serde(default, deserialize_with = "list")]
    pub sudo_option: Vec<String>,
    /// Precedence, ≥ 0.
    #[serde(default)]
    pub sudo_order: Option<i64>,
    /// Valid from.
    #[serde(default)]
    pub sudo_not_before: Option<String>,
    /// Valid until.
    #[serde(default)]
    pub sudo_not_after: Option<String>,
}

/// The body of `PUT /sudo/{cn}`: each field absent (unchanged), `null` (removed) or a value
/// (replacing every value of that attribute).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(clippy::option_option)] // absent / null / value
pub struct SudoRuleUpdate {
    /// Free text.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    /// Users.
    #[serde(
        default,
        deserialize_with = "nullable_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub sudo_user: Option<Option<Vec<String>>>,
    /// Hosts.
    #[serde(
        default,
        deserialize_with = "nullable_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub sudo_host: Option<Option<Vec<String>>>,
    /// Commands.
    #[serde(
        default,
        deserialize_with = "nullable_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub sudo_command: Option<Option<Vec<String>>>,
    /// Run-as users.
    #[serde(
        default,
        deserialize_with = "nullable_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub sudo_run_as_user: Option<Option<Vec<String>>>,
    /// Run-as groups.
    #[serde(
        default,
        deserialize_with = "nullable_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub sudo_run_as_group: Option<Option<Vec<String>>>,
    /// Options.
    #[serde(
        default,
        deserialize_with = "nullable_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub sudo_option: Option<Option<Vec<String>>>,
    /// The obsolete run-as attribute: only `null` (remove it) is accepted.
    #[serde(
        default,
        deserialize_with = "nullable_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub sudo_run_as: Option<Option<Vec<String>>>,
    /// Precedence.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub sudo_order: Option<Option<i64>>,
    /// Valid from.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub sudo_not_before: Option<Option<String>>,
    /// Valid until.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub sudo_not_after: Option<Option<String>>,
}

/// Sudo rule operations; get one with [`Heracles::sudo`].
#[derive(Debug, Clone, Copy)]
pub struct Sudo<'a> {
    h: &'a Heracles,
    if_match: Option<&'a IfMatch>,
}

fn not_found(cn: &str) -> Error {
    Error::new(
        ErrorCode::SudoRuleNotFound,
        format!("sudo rule '{}' not found", truncate(cn, 80)),
    )
    .with_detail("cn", truncate(cn, 80))
}

/// The checked values of one list attribute of a body.
struct Field<'b> {
    attr: &'static str,
    values: &'b [String],
}

/// Checks the list attributes of a body: syntax, duplicates, and what `cn=defaults` may
/// hold.
fn check_fields(defaults: bool, fields: &[Field<'_>]) -> Result<()> {
    for f in fields {
        let check: fn(&str) -> Result<()> = match f.attr {
            USER => |v| syntax::check_sudo_user(v).map(|_| ()),
            HOST => syntax::check_sudo_host,
            COMMAND => syntax::check_sudo_command,
            RUN_AS_USER => syntax::check_run_as_user,
            RUN_AS_GROUP => syntax::check_run_as_group,
            _ => syntax::check_sudo_option,
        };
        check_list(f.attr, f.values, check)?;
        if defaults && f.attr != OPTION && !f.values.is_empty() {
            return Err(only_options(f.attr));
        }
    }
    Ok(())
}

fn only_options(attr: &str) -> Error {
    Error::validation(
        attr,
        format!("the defaults entry holds only sudoOption (and description), not {attr}"),
    )
    .with_detail("reason", "defaults_only_options")
}

fn required(attr: &str) -> Error {
    Error::validation(
        attr,
        format!("a sudo rule needs at least one {attr} value (sudo ignores a rule without)"),
    )
    .with_detail("reason", "required")
}

impl<'a> Sudo<'a> {
    pub(super) fn new(h: &'a Heracles) -> Self {
        Sudo { h, if_match: None }
    }

    /// The same operations, with `Some`: writing only while the rule still has one of the
    /// expected versions (see [`version`](super::version)); otherwise `PRECONDITION_FAILED`.
    #[must_use]
    pub fn if_match(self, expected: Option<&'a IfMatch>) -> Self {
        Sudo {
            if_match: expected,
            ..self
        }
    }

    fn guard(self, entry: &Entry) -> Result<Option<Filter>> {
        match self.if_match {
            None => Ok(None),
            Some(_) => guard(self.if_match, &to_rule(entry), entry),
        }
    }

    fn container(self) -> Result<Dn> {
        self.h.container(Container::Sudoers)
    }

    fn allow(self) -> AllowList {
        allow_list_for_classes(self.h.schema(), &[OBJECT_CLASS])
    }

    /// The entry of rule `cn`, anywhere below the container.
    async fn find(self, cn: &str) -> Result<Entry> {
        let container = self.container()?;
        let found = self
            .h
            .directory()
            .search(
                &SearchRequest::new(
                    container,
                    Scope::Subtree,
                    Filter::and([
                        Filter::eq("objectClass", OBJECT_CLASS),
                        Filter::eq("cn", cn),
                    ]),
                )
                .attributes(["*", CSN])
                .size_limit(2),
            )
            .await;
        let found = match found {
            Ok(f) => f,
            Err(e) if e.code() == ErrorCode::EntryNotFound => return Err(not_found(cn)),
            Err(e) => return Err(e),
        };
        let mut it = found.into_iter();
        match (it.next(), it.next()) {
            (Some(e), None) => Ok(e),
            (None, _) => Err(not_found(cn)),
            (Some(_), Some(_)) => Err(Error::new(
                ErrorCode::BusinessRuleViolation,
                format!("several sudo rules are named '{cn}'; fix the directory"),
            )
            .with_detail("cn", cn)),
        }
    }

    /// Sudo rules, narrowed by `filter=` clauses on any `sudoRole` attribute, sorted
    /// (default: by cn), one page of them; only the rules the caller may read.
    pub async fn list(&self, p: &Principal, q: &ListQuery) -> Result<Page<SudoRule>> {
        let container = self.container()?;
        p.check_somewhere(READ, &container.to_string())?;
        let page = match list_entries(
            self.h,
            (p, READ),
            &container,
            Filter::eq("objectClass", OBJECT_CLASS),
            &self.allow(),
            q,
            "cn",
        )
        .await
        {
            Ok(page) => page,
            Err(e) if e.code() == ErrorCode::EntryNotFound => q.page.slice(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(Page {
            data: page.data.iter().map(to_rule).collect(),
            pagination: page.pagination,
        })
    }

    /// One rule by name (case-insensitive); `SUDO_RULE_NOT_FOUND` if there is none.
    pub async fn get(&self, p: &Principal, cn: &str) -> Result<SudoRule> {
        p.check_somewhere(READ, cn)?;
        let e = self.find(cn).await?;
        p.check(READ, &e.dn)?;
        Ok(to_rule(&e))
    }

    /// Creates a rule; `ALREADY_EXISTS` if one of that name exists.
    pub async fn create(&self, p: &Principal, body: &NewSudoRule) -> Result<SudoRule> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::SUDO, &body.cn);
        let outcome = self.create_op(p, body, &mut op).await;
        op.done(outcome).await
    }

    async fn create_op(
        &self,
        p: &Principal,
        body: &NewSudoRule,
        op: &mut Operation<'_>,
    ) -> Result<SudoRule> {
        let container = self.container()?;
        syntax::check_cn(&body.cn)?;
        let dn = container.checked_child(Rdn::new("cn", &body.cn)?)?;
        p.check(CREATE, &dn)?;
        let defaults = is_defaults(&body.cn);
        let lists = [
            (USER, &body.sudo_user),
            (HOST, &body.sudo_host),
            (COMMAND, &body.sudo_command),
            (RUN_AS_USER, &body.sudo_run_as_user),
            (RUN_AS_GROUP, &body.sudo_run_as_group),
            (OPTION, &body.sudo_option),
        ];
        let fields: Vec<Field<'_>> = lists
            .iter()
            .map(|(attr, values)| Field { attr, values })
            .collect();
        check_fields(defaults, &fields)?;
        let mut entry = Entry::new(dn.clone())
            .with("objectClass", ["top", OBJECT_CLASS])
            .with("cn", [body.cn.as_str()]);
        if let Some(d) = &body.description {
            entry.set("description", [check_description(d)?]);
        }
        for (attr, values) in lists {
            if !values.is_empty() {
                entry.set(attr, values.iter());
            }
        }
        let singles = [
            (ORDER, body.sudo_order.map(|n| n.to_string())),
            (NOT_BEFORE, body.sudo_not_before.clone()),
            (NOT_AFTER, body.sudo_not_after.clone()),
        ];
        for (attr, value) in &singles {
            let Some(v) = value else { continue };
            if defaults {
                return Err(only_options(attr));
            }
            entry.set(attr, [v]);
        }
        check_singles(
            body.sudo_order,
            body.sudo_not_before.as_deref(),
            body.sudo_not_after.as_deref(),
        )?;
        if !defaults {
            for (attr, values) in &lists[..3] {
                if values.is_empty() {
                    return Err(required(attr));
                }
            }
        }
        self.check_references(&body.sudo_user).await?;
        match self.find(&body.cn).await {
            Ok(existing) => {
                return Err(Error::new(
                    ErrorCode::AlreadyExists,
                    format!("a sudo rule named '{}' already exists", body.cn),
                )
                .with_detail("cn", body.cn.as_str())
                .with_detail("dn", existing.dn.to_string()))
            }
            Err(e) if e.code() == ErrorCode::SudoRuleNotFound => {}
            Err(e) => return Err(e),
        }
        op.target(&dn);
        op.begin().await?;
        let mut added = self.h.directory().add(&entry).await;
        if matches!(&added, Err(e) if e.code() == ErrorCode::ParentNotFound) {
            super::settings::ensure_container(self.h, Container::Sudoers).await?;
            added = self.h.directory().add(&entry).await;
        }
        added.map_err(|e| {
            if e.code() == ErrorCode::AlreadyExists {
                e.with_message(format!("a sudo rule named '{}' already exists", body.cn))
                    .with_detail("cn", body.cn.as_str())
            } else {
                e
            }
        })?;
        op.changes(None, Some(&entry));
        Ok(to_rule(&self.find(&body.cn).await?))
    }

    /// Checks that the users and groups `sudoUser` values name exist, spelt exactly.
    async fn check_references(self, values: &[String]) -> Result<()> {
        for v in values {
            match syntax::check_sudo_user(v)? {
                Reference::User(uid) => {
                    let e = match self.h.users().find(uid).await {
                        Ok(e) => e,
                        Err(e) if e.code() == ErrorCode::UserNotFound => {
                            return Err(fail(
                                USER,
                                v,
                                "unknown_user",
                                format!("sudoUser value '{v}': no user has the uid '{uid}'"),
                            ))
                        }
                        Err(e) => return Err(e),
                    };
                    if !e.strs("uid").contains(&uid) {
                        let actual = e.first_str("uid").unwrap_or_default();
                        return Err(fail(
                            USER,
                            v,
                            "case_mismatch",
                            format!(
                                "sudoUser value '{v}': the user's uid is spelt '{actual}' \
                                 (sudo compares names exactly)"
                            ),
                        )
                        .with_detail("uid", actual));
                    }
                }
                Reference::Group(cn) => {
                    let e = match self.h.groups().find_by_cn_or_dn(cn).await {
                        Ok(e) => e,
                        Err(e) if e.code() == ErrorCode::GroupNotFound => {
                            return Err(fail(
                                USER,
                                v,
                                "unknown_group",
                                format!("sudoUser value '{v}': no group has the cn '{cn}'"),
                            ))
                        }
                        Err(e) => return Err(e),
                    };
                    if !e.strs("cn").contains(&cn) {
                        let actual = e.first_str("cn").unwrap_or_default();
                        return Err(fail(
                            USER,
                            v,
                            "case_mismatch",
                            format!(
                                "sudoUser value '{v}': the group's cn is spelt '{actual}' \
                                 (sudo compares names exactly)"
                            ),
                        )
                        .with_detail("cn", actual));
                    }
                }
                Reference::Other => {}
            }
        }
        Ok(())
    }

    /// Changes the fields given (see the [module docs](self)).
    pub async fn update(
        &self,
        p: &Principal,
        cn: &str,
        changes: &SudoRuleUpdate,
    ) -> Result<SudoRule> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::SUDO, cn);
        let outcome = self.update_op(p, cn, changes, &mut op).await;
        op.done(outcome).await
    }

    #[allow(clippy::too_many_lines)] // one body, checked field by field, in order
    async fn update_op(
        &self,
        p: &Principal,
        cn: &str,
        changes: &SudoRuleUpdate,
        op: &mut Operation<'_>,
    ) -> Result<SudoRule> {
        p.check_somewhere(WRITE, cn)?;
        let current = self.find(cn).await?;
        op.target(&current.dn);
        p.check(WRITE, &current.dn)?;
        let assertion = self.guard(&current)?;
        let defaults = is_defaults(current.first_str("cn").unwrap_or(cn));
        let empty = Vec::new();
        let lists = [
            (USER, &changes.sudo_user),
            (HOST, &changes.sudo_host),
            (COMMAND, &changes.sudo_command),
            (RUN_AS_USER, &changes.sudo_run_as_user),
            (RUN_AS_GROUP, &changes.sudo_run_as_group),
            (OPTION, &changes.sudo_option),
        ];
        let given: Vec<Field<'_>> = lists
            .iter()
            .filter_map(|(attr, v)| {
                v.as_ref().map(|v| Field {
                    attr,
                    values: v.as_ref().unwrap_or(&empty),
                })
            })
            .collect();
        check_fields(defaults, &given)?;
        if !defaults {
            if let Some(f) = given
                .iter()
                .find(|f| matches!(f.attr, USER | HOST | COMMAND) && f.values.is_empty())
            {
                return Err(required(f.attr));
            }
        }
        if let Some(Some(_)) = &changes.sudo_run_as {
            return Err(Error::validation(
                RUN_AS,
                "sudoRunAs is obsolete: use sudoRunAsUser (null removes sudoRunAs)",
            )
            .with_detail("reason", "obsolete"));
        }
        let mut mods: Vec<Modification> = Vec::new();
        let mut set = |attr: &str, values: Vec<String>| {
            let mut old: Vec<&str> = current.strs(attr);
            let mut new: Vec<&str> = values.iter().map(String::as_str).collect();
            old.sort_unstable();
            new.sort_unstable();
            if old != new {
                mods.push(Modification::replace(attr, values.clone()));
            }
        };
        for f in &given {
            set(f.attr, f.values.to_vec());
        }
        if changes.sudo_run_as.is_some() {
            set(RUN_AS, Vec::new());
        }
        if let Some(d) = &changes.description {
            let values = match d {
                Some(d) => vec![check_description(d)?.to_owned()],
                None => Vec::new(),
            };
            set("description", values);
        }
        // The single-valued fields, checked against what the rule keeps.
        let pick = |given: &Option<Option<String>>, attr: &str| match given {
            Some(v) => v.clone(),
            None => current.first_str(attr).map(str::to_owned),
        };
        let not_before = pick(&changes.sudo_not_before, NOT_BEFORE);
        let not_after = pick(&changes.sudo_not_after, NOT_AFTER);
        let order = changes.sudo_order.flatten();
        let singles = [
            (ORDER, changes.sudo_order.map(|o| o.map(|n| n.to_string()))),
            (NOT_BEFORE, changes.sudo_not_before.clone()),
            (NOT_AFTER, changes.sudo_not_after.clone()),
        ];
        for (attr, value) in singles {
            let Some(value) = value else { continue };
            if defaults && value.is_some() {
                return Err(only_options(attr));
            }
            set(attr, value.into_iter().collect());
        }
        if let Some(Some(t)) = &changes.sudo_not_before {
            syntax::check_time(NOT_BEFORE, t)?;
        }
        if let Some(Some(t)) = &changes.sudo_not_after {
            syntax::check_time(NOT_AFTER, t)?;
        }
        if changes.sudo_not_before.is_some() || changes.sudo_not_after.is_some() {
            syntax::check_period(not_before.as_deref(), not_after.as_deref())?;
        }
        check_singles(order, None, None)?;
        if let Some(Some(users)) = &changes.sudo_user {
            self.check_references(users).await?;
        }
        if mods.is_empty() {
            return Ok(to_rule(&current));
        }
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&current.dn, &mods, assertion.as_ref())
            .await
            .map_err(|e| {
                if e.code() == ErrorCode::EntryNotFound {
                    not_found(cn)
                } else {
                    e
                }
            })?;
        let after = self.find(cn).await?;
        op.changes(Some(&current), Some(&after));
        Ok(to_rule(&after))
    }

    /// Deletes a rule; `SUDO_RULE_NOT_FOUND` if there is none.
    pub async fn delete(&self, p: &Principal, cn: &str) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::SUDO, cn);
        let outcome = self.delete_op(p, cn, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_op(&self, p: &Principal, cn: &str, op: &mut Operation<'_>) -> Result<()> {
        p.check_somewhere(DELETE, cn)?;
        let current = self.find(cn).await?;
        op.target(&current.dn);
        p.check(DELETE, &current.dn)?;
        let assertion = self.guard(&current)?;
        op.begin().await?;
        self.h
            .directory()
            .delete_if(&current.dn, assertion.as_ref())
            .await
            .map_err(|e| {
                if e.code() == ErrorCode::EntryNotFound {
                    not_found(cn)
                } else {
                    e
                }
            })?;
        op.changes(Some(&current), None);
        Ok(())
    }
}

/// Checks `sudoOrder` and the validity period.
fn check_singles(
    order: Option<i64>,
    not_before: Option<&str>,
    not_after: Option<&str>,
) -> Result<()> {
    if let Some(n) = order {
        syntax::check_sudo_order(n)?;
    }
    if let Some(t) = not_before {
        syntax::check_time(NOT_BEFORE, t)?;
    }
    if let Some(t) = not_after {
        syntax::check_time(NOT_AFTER, t)?;
    }
    syntax::check_period(not_before, not_after)
}

/// The answer for a `sudoRole` entry.
fn to_rule(e: &Entry) -> SudoRule {
    let owned =
        |attr: &str| -> Vec<String> { e.strs(attr).into_iter().map(str::to_owned).collect() };
    let first = |attr: &str| e.first_str(attr).map(str::to_owned);
    let cn =
        e.dn.rdn()
            .and_then(|r| r.value_of("cn"))
            .or_else(|| e.first_str("cn"))
            .unwrap_or_default()
            .to_owned();
    SudoRule {
        dn: e.dn.clone(),
        cn,
        description: first("description"),
        sudo_user: owned(USER),
        sudo_host: owned(HOST),
        sudo_command: owned(COMMAND),
        sudo_run_as_user: owned(RUN_AS_USER),
        sudo_run_as_group: owned(RUN_AS_GROUP),
        sudo_option: owned(OPTION),
        sudo_run_as: owned(RUN_AS),
        sudo_order: e.first_str(ORDER).and_then(|n| n.parse().ok()),
        sudo_not_before: first(NOT_BEFORE),
        sudo_not_after: first(NOT_AFTER),
    }
}
