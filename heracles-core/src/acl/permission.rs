//! Permissions: `object:action` at stable bit positions.
//!
//! Eleven object types × five actions = 55 permissions, each one bit of a [`PermSet`]
//! (a `u64`). The bit of `object:action` is `object × 5 + action` with the discriminants
//! below — fixed numbers, independent of any load order, so a compiled set means the same
//! thing in every process and every version.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorCode, Result};

/// The object types permissions are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ObjectType {
    /// Users (`inetOrgPerson`).
    User = 0,
    /// Groups.
    Group = 1,
    /// Departments.
    Department = 2,
    /// User templates.
    Template = 3,
    /// DNS zones and records.
    Dns = 4,
    /// DHCP configuration.
    Dhcp = 5,
    /// Systems (servers, workstations, ...).
    System = 6,
    /// Sudo rules.
    Sudo = 7,
    /// ACL policies and assignments.
    Acl = 8,
    /// The audit log.
    Audit = 9,
    /// Heracles settings.
    Settings = 10,
}

impl ObjectType {
    /// Every object type, in bit order.
    pub const ALL: [ObjectType; 11] = [
        ObjectType::User,
        ObjectType::Group,
        ObjectType::Department,
        ObjectType::Template,
        ObjectType::Dns,
        ObjectType::Dhcp,
        ObjectType::System,
        ObjectType::Sudo,
        ObjectType::Acl,
        ObjectType::Audit,
        ObjectType::Settings,
    ];

    /// Its name (`user`, `group`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::User => "user",
            ObjectType::Group => "group",
            ObjectType::Department => "department",
            ObjectType::Template => "template",
            ObjectType::Dns => "dns",
            ObjectType::Dhcp => "dhcp",
            ObjectType::System => "system",
            ObjectType::Sudo => "sudo",
            ObjectType::Acl => "acl",
            ObjectType::Audit => "audit",
            ObjectType::Settings => "settings",
        }
    }

    /// By name (case-insensitive).
    pub fn from_name(name: &str) -> Option<ObjectType> {
        ObjectType::ALL
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is done to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Action {
    /// See it (get, list, search).
    Read = 0,
    /// Change it (update, members, password).
    Write = 1,
    /// Create it.
    Create = 2,
    /// Delete it.
    Delete = 3,
    /// Administrative operations beyond writing (lock and unlock accounts).
    Manage = 4,
}

impl Action {
    /// Every action, in bit order.
    pub const ALL: [Action; 5] = [
        Action::Read,
        Action::Write,
        Action::Create,
        Action::Delete,
        Action::Manage,
    ];

    /// Its name (`read`, `write`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
            Action::Create => "create",
            Action::Delete => "delete",
            Action::Manage => "manage",
        }
    }

    /// By name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One permission, `object:action`.
///
/// ```
/// use heracles_core::acl::{Action, ObjectType, Permission};
/// let p: Permission = "user:write".parse()?;
/// assert_eq!(p, Permission::new(ObjectType::User, Action::Write));
/// assert_eq!(p.bit(), 1);
/// assert_eq!(Permission::new(ObjectType::Settings, Action::Manage).bit(), 54);
/// # Ok::<(), heracles_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission {
    /// The object type.
    pub object: ObjectType,
    /// The action.
    pub action: Action,
}

impl Permission {
    /// `object:action`.
    pub const fn new(object: ObjectType, action: Action) -> Permission {
        Permission { object, action }
    }

    /// Its bit position (0..55).
    pub const fn bit(self) -> u32 {
        self.object as u32 * 5 + self.action as u32
    }

    /// Every permission, in bit order.
    pub fn all() -> impl Iterator<Item = Permission> {
        ObjectType::ALL
            .into_iter()
            .flat_map(|o| Action::ALL.into_iter().map(move |a| Permission::new(o, a)))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.object, self.action)
    }
}

impl FromStr for Permission {
    type Err = Error;

    /// `object:action`; anything else is `VALIDATION_FAILED` naming the catalogue.
    fn from_str(s: &str) -> Result<Permission> {
        let parsed = s.split_once(':').and_then(|(o, a)| {
            Some(Permission::new(
                ObjectType::from_name(o.trim())?,
                Action::from_name(a.trim())?,
            ))
        });
        parsed.ok_or_else(|| {
            Error::new(
                ErrorCode::ValidationFailed,
                format!(
                    "'{s}' is not a permission: expected object:action with object one of {} \
                     and action one of {}",
                    ObjectType::ALL.map(ObjectType::as_str).join(", "),
                    Action::ALL.map(Action::as_str).join(", ")
                ),
            )
            .with_detail("permission", s)
        })
    }
}

impl Serialize for Permission {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Permission, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e: Error| serde::de::Error::custom(e.message()))
    }
}

/// A set of permissions: one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermSet(pub u64);

impl PermSet {
    /// No permission.
    pub const EMPTY: PermSet = PermSet(0);
    /// Every permission of the catalogue.
    pub const ALL: PermSet = PermSet((1u64 << 55) - 1);

    /// Whether `p` is in the set.
    #[inline]
    pub const fn contains(self, p: Permission) -> bool {
        self.0 & (1u64 << p.bit()) != 0
    }

    /// The set with `p` added.
    #[must_use]
    pub const fn with(self, p: Permission) -> PermSet {
        PermSet(self.0 | (1u64 << p.bit()))
    }

    /// Every action on `object`.
    pub const fn object(object: ObjectType) -> PermSet {
        PermSet(0b11111 << (object as u32 * 5))
    }

    /// Union.
    #[must_use]
    pub const fn union(self, other: PermSet) -> PermSet {
        PermSet(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::all().filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Permission> for PermSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> PermSet {
        iter.into_iter().fold(PermSet::EMPTY, PermSet::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_are_stable_and_distinct() {
        let bits: Vec<u32> = Permission::all().map(Permission::bit).collect();
        assert_eq!(bits, (0..55).collect::<Vec<_>>());
        // Spot checks of the documented positions.
        assert_eq!("user:read".parse::<Permission>().unwrap().bit(), 0);
        assert_eq!("group:create".parse::<Permission>().unwrap().bit(), 7);
        assert_eq!("acl:manage".parse::<Permission>().unwrap().bit(), 44);
        assert_eq!(PermSet::ALL.iter().count(), 55);
    }

    #[test]
    fn parse_and_print() {
        for p in Permission::all() {
            assert_eq!(p.to_string().parse::<Permission>().unwrap(), p);
        }
        assert_eq!(
            " User : READ ".parse::<Permission>().unwrap(),
            Permission::new(ObjectType::User, Action::Read)
        );
        for bad in [
            "user",
            "user:",
            ":read",
            "user:fly",
            "printer:read",
            "user:read:x",
        ] {
            let e = bad.parse::<Permission>().unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{bad}");
        }
    }

    #[test]
    fn sets() {
        let s: PermSet = ["user:read", "group:write"]
            .iter()
            .map(|p| p.parse::<Permission>().unwrap())
            .collect();
        assert!(s.contains("user:read".parse().unwrap()));
        assert!(!s.contains("user:write".parse().unwrap()));
        assert_eq!(PermSet::object(ObjectType::Group).iter().count(), 5);
        assert!(PermSet::object(ObjectType::Settings)
            .iter()
            .all(|p| p.object == ObjectType::Settings));
    }
}
