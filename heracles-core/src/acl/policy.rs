//! Policies: a named set of permissions plus attribute rules per object type.
//!
//! An attribute rule restricts, for one object type, which attributes a policy lets its
//! holder read and write: `read` and `write` are lists of attribute names (`*`: all),
//! `deny` names attributes that are neither read nor written through the policy. A kind
//! that is absent is unrestricted. Secrets (`userPassword` and every password hash) are
//! never readable, whatever the rules say.
//!
//! In the directory a policy is a `heraclesAclPolicy` entry below `ou=aclpolicies`; its
//! rules are `heraclesAttributeRule` values `object:read|write|deny:attribute`.
//!
//! The built-in policies ([`builtin_policies`]) are defined here, in code: they are also
//! written to the directory at bootstrap (marked `heraclesBuiltin: TRUE`) so LDAP tools
//! show them, but the definitions below are what counts — editing those entries outside
//! Heracles changes nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::permission::{Action, ObjectType, PermSet, Permission};
use crate::directory::Entry;
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};

/// Object class of a policy entry.
pub const POLICY_CLASS: &str = "heraclesAclPolicy";
/// Naming attribute of a policy entry.
pub const POLICY_NAME_ATTR: &str = "heraclesPolicyName";

/// Attributes `self` may write on its own entry (SPEC §5).
pub const SELF_WRITABLE: &[&str] = &[
    "telephoneNumber",
    "mobile",
    "displayName",
    "postalAddress",
    "preferredLanguage",
    "jpegPhoto",
    "labeledURI",
    "sshPublicKey",
    "userPassword",
];

/// Which attributes of one object type a policy lets its holder read and write.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeRule {
    /// Readable attributes (`*`: all); absent: unrestricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<Vec<String>>,
    /// Writable attributes (`*`: all); absent: unrestricted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<Vec<String>>,
    /// Attributes neither read nor written through this policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

/// Reading or writing an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrAccess {
    /// Reading it.
    Read,
    /// Writing it.
    Write,
}

fn listed(list: &[String], attr: &str) -> bool {
    list.iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(attr))
}

impl AttributeRule {
    /// Whether this rule lets `attr` be read or written.
    pub fn allows(&self, access: AttrAccess, attr: &str) -> bool {
        if listed(&self.deny, attr) {
            return false;
        }
        let list = match access {
            AttrAccess::Read => &self.read,
            AttrAccess::Write => &self.write,
        };
        list.as_ref().is_none_or(|l| listed(l, attr))
    }
}

/// A policy as stored and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Its name: 1 to 64 of `a-z 0-9 . _ -`, starting with a letter or digit.
    pub name: String,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Granted permissions.
    pub permissions: Vec<Permission>,
    /// Attribute rules by object type name (`user`, `group`, ...).
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeRule>,
    /// Built-in: readable, never changed or deleted.
    #[serde(default)]
    pub builtin: bool,
}

impl Policy {
    /// The permissions as a set.
    pub fn perm_set(&self) -> PermSet {
        self.permissions.iter().copied().collect()
    }

    /// The rule of `object`, if the policy restricts it.
    pub fn rule(&self, object: ObjectType) -> Option<&AttributeRule> {
        self.attributes.get(object.as_str())
    }

    /// Whether the policy lets `attr` of an `object` be read or written (its attribute
    /// rule; no rule: yes).
    pub fn allows_attribute(&self, object: ObjectType, access: AttrAccess, attr: &str) -> bool {
        self.rule(object).is_none_or(|r| r.allows(access, attr))
    }

    /// Checks name, permissions and rules; sorts and deduplicates the permissions.
    pub fn validate(mut self) -> Result<Policy> {
        check_name(&self.name)?;
        if let Some(d) = &self.description {
            if d.chars().count() > 1024 || d.chars().any(char::is_control) {
                return Err(Error::validation(
                    "description",
                    "description: at most 1024 characters, no control characters",
                ));
            }
        }
        self.permissions.sort();
        self.permissions.dedup();
        for (object, rule) in &self.attributes {
            if ObjectType::from_name(object).is_none() {
                return Err(Error::validation(
                    "attributes",
                    format!("'{object}' is not an object type"),
                ));
            }
            let names = rule
                .read
                .iter()
                .flatten()
                .chain(rule.write.iter().flatten())
                .chain(&rule.deny);
            for a in names {
                if a != "*" {
                    crate::directory::check_attribute_name(a).map_err(|_| {
                        Error::validation(
                            "attributes",
                            format!("'{a}' in the rule of '{object}' is not an attribute name"),
                        )
                    })?;
                }
            }
        }
        self.attributes = self
            .attributes
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        Ok(self)
    }

    /// The entry of this policy below `container`.
    pub fn to_entry(&self, container: &Dn) -> Result<Entry> {
        let mut e = Entry::new(container.child(Rdn::new(POLICY_NAME_ATTR, &self.name)?))
            .with("objectClass", ["top", POLICY_CLASS])
            .with(POLICY_NAME_ATTR, [self.name.as_str()]);
        if let Some(d) = &self.description {
            e.set("description", [d.as_str()]);
        }
        let perms: Vec<String> = self.permissions.iter().map(ToString::to_string).collect();
        if !perms.is_empty() {
            e.set("heraclesPermission", perms);
        }
        let mut rules = Vec::new();
        for (object, rule) in &self.attributes {
            for a in rule.read.iter().flatten() {
                rules.push(format!("{object}:read:{a}"));
            }
            for a in rule.write.iter().flatten() {
                rules.push(format!("{object}:write:{a}"));
            }
            for a in &rule.deny {
                rules.push(format!("{object}:deny:{a}"));
            }
            // A restricted kind with an empty list still has to be stored.
            if rule.read.as_ref().is_some_and(Vec::is_empty) {
                rules.push(format!("{object}:read:"));
            }
            if rule.write.as_ref().is_some_and(Vec::is_empty) {
                rules.push(format!("{object}:write:"));
            }
        }
        if !rules.is_empty() {
            e.set("heraclesAttributeRule", rules);
        }
        if self.builtin {
            e.set("heraclesBuiltin", ["TRUE"]);
        }
        Ok(e)
    }

    /// A policy read from its entry; values that do not parse are skipped (logged).
    pub fn from_entry(e: &Entry) -> Option<Policy> {
        let name =
            e.dn.rdn()
                .and_then(|r| r.value_of(POLICY_NAME_ATTR))
                .or_else(|| e.first_str(POLICY_NAME_ATTR))?
                .to_owned();
        let mut permissions = Vec::new();
        for p in e.strs("heraclesPermission") {
            if let Ok(p) = p.parse::<Permission>() {
                permissions.push(p);
            } else {
                tracing::warn!(policy = %name, value = p, "unknown permission skipped");
            }
        }
        permissions.sort();
        permissions.dedup();
        let mut attributes: BTreeMap<String, AttributeRule> = BTreeMap::new();
        for r in e.strs("heraclesAttributeRule") {
            let mut parts = r.splitn(3, ':');
            let (Some(object), Some(kind), Some(attr)) = (parts.next(), parts.next(), parts.next())
            else {
                tracing::warn!(policy = %name, value = r, "malformed attribute rule skipped");
                continue;
            };
            let Some(object) = ObjectType::from_name(object) else {
                continue;
            };
            let rule = attributes.entry(object.as_str().to_owned()).or_default();
            let attr = attr.trim();
            match kind.to_ascii_lowercase().as_str() {
                "read" => {
                    let l = rule.read.get_or_insert_with(Vec::new);
                    if !attr.is_empty() {
                        l.push(attr.to_owned());
                    }
                }
                "write" => {
                    let l = rule.write.get_or_insert_with(Vec::new);
                    if !attr.is_empty() {
                        l.push(attr.to_owned());
                    }
                }
                "deny" if !attr.is_empty() => rule.deny.push(attr.to_owned()),
                _ => tracing::warn!(policy = %name, value = r, "malformed attribute rule skipped"),
            }
        }
        Some(Policy {
            name,
            description: e.first_str("description").map(str::to_owned),
            permissions,
            attributes,
            builtin: e
                .first_str("heraclesBuiltin")
                .is_some_and(|b| b.eq_ignore_ascii_case("TRUE")),
        })
    }
}

/// Checks a policy name.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::ValidationFailed,
            format!(
                "'{name}' is not a policy name: 1 to 64 letters, digits, '.', '_' or '-', \
                 starting with a letter or digit"
            ),
        )
        .with_detail("field", "name"))
    }
}

fn perms(object: ObjectType, actions: &[Action]) -> impl Iterator<Item = Permission> + '_ {
    actions.iter().map(move |a| Permission::new(object, *a))
}

/// The built-in policies: `admin`, `user-manager`, `group-manager`, `viewer`, `self`.
///
/// - `admin`: every permission.
/// - `user-manager`: everything on users; reads groups, departments and templates.
/// - `group-manager`: everything on groups; reads users and departments.
/// - `viewer`: reads every directory object (users, groups, departments, templates, DNS,
///   DHCP, systems, sudo) — secrets are never readable; not audit, ACL or settings.
/// - `self`: reads its holder's entry; writes its contact fields, SSH keys and password.
pub fn builtin_policies() -> Vec<Policy> {
    use Action::{Create, Delete, Manage, Read, Write};
    let all = [Read, Write, Create, Delete, Manage];
    let viewer: Vec<Permission> = [
        ObjectType::User,
        ObjectType::Group,
        ObjectType::Department,
        ObjectType::Template,
        ObjectType::Dns,
        ObjectType::Dhcp,
        ObjectType::System,
        ObjectType::Sudo,
    ]
    .into_iter()
    .map(|o| Permission::new(o, Read))
    .collect();
    let mut self_rules = BTreeMap::new();
    self_rules.insert(
        "user".to_owned(),
        AttributeRule {
            read: None,
            write: Some(SELF_WRITABLE.iter().map(|s| (*s).to_owned()).collect()),
            deny: Vec::new(),
        },
    );
    let builtin = |name: &str, description: &str, permissions: Vec<Permission>| Policy {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        permissions,
        attributes: BTreeMap::new(),
        builtin: true,
    };
    vec![
        builtin("admin", "Every permission", Permission::all().collect()),
        builtin(
            "user-manager",
            "Manage users; read groups, departments and templates",
            perms(ObjectType::User, &all)
                .chain(perms(ObjectType::Group, &[Read]))
                .chain(perms(ObjectType::Department, &[Read]))
                .chain(perms(ObjectType::Template, &[Read]))
                .collect(),
        ),
        builtin(
            "group-manager",
            "Manage groups; read users and departments",
            perms(ObjectType::Group, &all)
                .chain(perms(ObjectType::User, &[Read]))
                .chain(perms(ObjectType::Department, &[Read]))
                .collect(),
        ),
        builtin(
            "viewer",
            "Read every directory object except secrets; not audit, ACL or settings",
            viewer,
        ),
        Policy {
            attributes: self_rules,
            ..builtin(
                "self",
                "Read one's own entry; write its contact fields, SSH keys and password",
                perms(ObjectType::User, &[Read, Write]).collect(),
            )
        },
    ]
}

/// Whether `name` is a built-in policy's name.
pub fn is_builtin(name: &str) -> bool {
    ["admin", "user-manager", "group-manager", "viewer", "self"]
        .iter()
        .any(|b| b.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let r = AttributeRule {
            read: Some(vec!["*".into()]),
            write: Some(vec!["telephoneNumber".into()]),
            deny: vec!["userPassword".into()],
        };
        assert!(r.allows(AttrAccess::Read, "mail"));
        assert!(!r.allows(AttrAccess::Read, "USERPASSWORD"));
        assert!(r.allows(AttrAccess::Write, "telephonenumber"));
        assert!(!r.allows(AttrAccess::Write, "uidNumber"));
        assert!(AttributeRule::default().allows(AttrAccess::Write, "anything"));
    }

    #[test]
    fn entry_round_trip() {
        let container = Dn::parse("ou=aclpolicies,ou=heracles,dc=example,dc=com").unwrap();
        for p in builtin_policies().into_iter().chain([Policy {
            name: "helpdesk".into(),
            description: None,
            permissions: vec!["user:read".parse().unwrap(), "user:write".parse().unwrap()],
            attributes: [(
                "user".to_owned(),
                AttributeRule {
                    read: Some(vec!["*".into()]),
                    write: Some(vec![]),
                    deny: vec!["homeDirectory".into()],
                },
            )]
            .into_iter()
            .collect(),
            builtin: false,
        }]) {
            let p = p.validate().unwrap();
            let back = Policy::from_entry(&p.to_entry(&container).unwrap()).unwrap();
            assert_eq!(back, p);
        }
    }

    #[test]
    fn builtins() {
        let b = builtin_policies();
        assert_eq!(b.len(), 5);
        assert!(b.iter().all(|p| p.builtin && is_builtin(&p.name)));
        let admin = &b[0];
        assert_eq!(admin.perm_set(), PermSet::ALL);
        let viewer = b.iter().find(|p| p.name == "viewer").unwrap();
        assert!(!viewer.perm_set().contains("audit:read".parse().unwrap()));
        assert!(viewer.perm_set().contains("sudo:read".parse().unwrap()));
        let me = b.iter().find(|p| p.name == "self").unwrap();
        assert!(me.allows_attribute(ObjectType::User, AttrAccess::Write, "mobile"));
        assert!(!me.allows_attribute(ObjectType::User, AttrAccess::Write, "uidNumber"));
    }

    #[test]
    fn names() {
        for ok in ["helpdesk", "a", "dns-admins_2.0"] {
            check_name(ok).unwrap();
        }
        for bad in ["", "-x", "has space", "é", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
