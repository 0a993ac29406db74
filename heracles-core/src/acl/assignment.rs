//! Assignments: a policy bound to a subject over a scope, granting or denying.
//!
//! In the directory an assignment is a `heraclesAclAssignment` entry below
//! `ou=aclassignments` named by its id.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::directory::Entry;
use crate::dn::{Dn, Rdn};
use crate::error::{Error, Result};

/// Object class of an assignment entry.
pub const ASSIGNMENT_CLASS: &str = "heraclesAclAssignment";
/// Naming attribute of an assignment entry.
pub const ASSIGNMENT_ID_ATTR: &str = "heraclesAssignmentId";

/// Who an assignment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubjectType {
    /// One user.
    User,
    /// Every member of a group, also through nested groups.
    Group,
}

impl SubjectType {
    /// `user` or `group`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectType::User => "user",
            SubjectType::Group => "group",
        }
    }
}

/// Where an assignment applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeType {
    /// The whole tree.
    Tree,
    /// An entry and everything below it.
    Subtree,
    /// One entry.
    Entry,
    /// The subject's own entry (each member's own, for a group).
    #[serde(rename = "self")]
    SelfEntry,
}

impl ScopeType {
    /// `tree`, `subtree`, `entry` or `self`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeType::Tree => "tree",
            ScopeType::Subtree => "subtree",
            ScopeType::Entry => "entry",
            ScopeType::SelfEntry => "self",
        }
    }

    fn from_name(s: &str) -> Option<ScopeType> {
        [
            ScopeType::Tree,
            ScopeType::Subtree,
            ScopeType::Entry,
            ScopeType::SelfEntry,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for ScopeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An assignment as stored and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Its id.
    pub id: String,
    /// The policy's name.
    pub policy: String,
    /// User or group.
    pub subject_type: SubjectType,
    /// The DN of the user or group.
    pub subject: Dn,
    /// Tree, subtree, entry or self.
    pub scope_type: ScopeType,
    /// The base of a subtree or entry scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Dn>,
    /// Denies instead of granting.
    #[serde(default)]
    pub deny: bool,
    /// Created by Heracles itself (the bootstrap administrator's).
    #[serde(default)]
    pub builtin: bool,
}

impl Assignment {
    /// Checks that subtree and entry scopes have a DN and the others none.
    pub fn validate(&self) -> Result<()> {
        match (self.scope_type, &self.scope) {
            (ScopeType::Subtree | ScopeType::Entry, None) => Err(Error::validation(
                "scope",
                format!("a {} scope needs a DN in 'scope'", self.scope_type),
            )),
            (ScopeType::Tree | ScopeType::SelfEntry, Some(_)) => Err(Error::validation(
                "scope",
                format!("a {} scope takes no 'scope' DN", self.scope_type),
            )),
            _ => Ok(()),
        }
    }

    /// The entry of this assignment below `container`.
    pub fn to_entry(&self, container: &Dn) -> Result<Entry> {
        let mut e = Entry::new(container.child(Rdn::new(ASSIGNMENT_ID_ATTR, &self.id)?))
            .with("objectClass", ["top", ASSIGNMENT_CLASS])
            .with(ASSIGNMENT_ID_ATTR, [self.id.as_str()])
            .with("heraclesPolicyName", [self.policy.as_str()])
            .with("heraclesSubjectDN", [self.subject.to_string()])
            .with("heraclesSubjectType", [self.subject_type.as_str()])
            .with("heraclesScopeType", [self.scope_type.as_str()]);
        if let Some(s) = &self.scope {
            e.set("heraclesScopeDN", [s.to_string()]);
        }
        if self.deny {
            e.set("heraclesDeny", ["TRUE"]);
        }
        if self.builtin {
            e.set("heraclesBuiltin", ["TRUE"]);
        }
        Ok(e)
    }

    /// An assignment read from its entry; `None` (logged) when it is malformed.
    pub fn from_entry(e: &Entry) -> Option<Assignment> {
        let parsed = (|| {
            let id =
                e.dn.rdn()
                    .and_then(|r| r.value_of(ASSIGNMENT_ID_ATTR))
                    .or_else(|| e.first_str(ASSIGNMENT_ID_ATTR))?
                    .to_owned();
            let subject_type = match e.first_str("heraclesSubjectType")? {
                t if t.eq_ignore_ascii_case("user") => SubjectType::User,
                t if t.eq_ignore_ascii_case("group") => SubjectType::Group,
                _ => return None,
            };
            let a = Assignment {
                id,
                policy: e.first_str("heraclesPolicyName")?.to_owned(),
                subject_type,
                subject: Dn::parse(e.first_str("heraclesSubjectDN")?).ok()?,
                scope_type: ScopeType::from_name(e.first_str("heraclesScopeType")?)?,
                scope: match e.first_str("heraclesScopeDN") {
                    Some(s) => Some(Dn::parse(s).ok()?),
                    None => None,
                },
                deny: e
                    .first_str("heraclesDeny")
                    .is_some_and(|d| d.eq_ignore_ascii_case("TRUE")),
                builtin: e
                    .first_str("heraclesBuiltin")
                    .is_some_and(|d| d.eq_ignore_ascii_case("TRUE")),
            };
            a.validate().ok()?;
            Some(a)
        })();
        if parsed.is_none() {
            tracing::warn!(dn = %e.dn, "malformed ACL assignment ignored");
        }
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_round_trip_and_validation() {
        let c = Dn::parse("ou=aclassignments,ou=heracles,dc=example,dc=com").unwrap();
        let a = Assignment {
            id: "a1".into(),
            policy: "user-manager".into(),
            subject_type: SubjectType::Group,
            subject: Dn::parse("cn=helpdesk,ou=groups,dc=example,dc=com").unwrap(),
            scope_type: ScopeType::Subtree,
            scope: Some(Dn::parse("ou=sales,ou=departments,dc=example,dc=com").unwrap()),
            deny: true,
            builtin: false,
        };
        a.validate().unwrap();
        assert_eq!(
            Assignment::from_entry(&a.to_entry(&c).unwrap()),
            Some(a.clone())
        );
        let bad = Assignment {
            scope: None,
            ..a.clone()
        };
        assert!(bad.validate().is_err());
        let bad = Assignment {
            scope_type: ScopeType::Tree,
            ..a
        };
        assert!(bad.validate().is_err());
        assert_eq!(
            serde_json::to_value(ScopeType::SelfEntry).unwrap(),
            serde_json::json!("self")
        );
    }
}
