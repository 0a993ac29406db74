//! Directory entries: a DN plus multi-valued attributes with case-insensitive names.
//!
//! Values are bytes, so binary attributes (`jpegPhoto`, certificates) are kept intact;
//! [`Entry::first_str`] and [`Entry::strs`] give the UTF-8 view most callers want.
//!
//! An attribute's values are a *set* in LDAP: a server may return them in any order (slapd
//! does, and `LdapDirectory` sends them as a set). Code that needs an order must keep it
//! inside the values (as the password history does).
//!
//! ```
//! use heracles_core::directory::Entry;
//! use heracles_core::dn::Dn;
//!
//! let mut e = Entry::new(Dn::parse("uid=jdoe,ou=people,dc=example,dc=com")?)
//!     .with("objectClass", ["inetOrgPerson"])
//!     .with("CN", ["John Doe"]);
//! e.add_value("mail", "jdoe@example.com");
//! assert_eq!(e.first_str("cn"), Some("John Doe"));       // names are case-insensitive
//! assert!(e.has_value("objectclass", "inetOrgPerson"));
//! # Ok::<(), heracles_core::Error>(())
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;

use crate::dn::Dn;

/// One attribute: its name as first written, and its values in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Borrowed for the common names (see [`COMMON_NAMES`]): no allocation per attribute
    /// of each entry a directory keeps or returns.
    name: Cow<'static, str>,
    values: Vec<Vec<u8>>,
}

impl Attribute {
    /// The attribute's name as given by whoever set it (e.g. `"objectClass"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// All values, in order.
    pub fn values(&self) -> &[Vec<u8>] {
        &self.values
    }
}

/// The attributes of an entry, keyed case-insensitively.
///
/// A list sorted by lower-cased name (an entry has a few dozen attributes at most): one
/// allocation for all of them, no second copy of each name as a key, and look-ups compare
/// names case-insensitively in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    list: Vec<Attribute>,
}

/// Attribute names entries carry by the thousand, spelled as the schema spells them
/// (sorted, for a binary search): kept as `&'static str` rather than one allocation each.
const COMMON_NAMES: &[&str] = &[
    "cn",
    "createTimestamp",
    "creatorsName",
    "dc",
    "description",
    "displayName",
    "entryCSN",
    "entryUUID",
    "gecos",
    "gidNumber",
    "givenName",
    "homeDirectory",
    "loginShell",
    "mail",
    "member",
    "memberOf",
    "memberUid",
    "modifiersName",
    "modifyTimestamp",
    "o",
    "objectClass",
    "ou",
    "pwdAccountLockedTime",
    "shadowLastChange",
    "sn",
    "sshPublicKey",
    "structuralObjectClass",
    "telephoneNumber",
    "uid",
    "uidNumber",
    "userPassword",
];

/// `name` as an attribute keeps it: borrowed when it is one of [`COMMON_NAMES`].
fn name_of(name: &str) -> Cow<'static, str> {
    match COMMON_NAMES.binary_search(&name) {
        Ok(k) => COMMON_NAMES
            .get(k)
            .map_or_else(|| Cow::Owned(name.to_owned()), |n| Cow::Borrowed(*n)),
        Err(_) => Cow::Owned(name.to_owned()),
    }
}

/// Compares names as their ASCII-lower-cased forms would compare.
fn cmp_names(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

impl Attributes {
    /// Where `name` is, or where it would go.
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.list.binary_search_by(|a| cmp_names(&a.name, name))
    }

    /// The values of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&[Vec<u8>]> {
        self.find(name)
            .ok()
            .and_then(|i| self.list.get(i))
            .map(|a| a.values.as_slice())
    }

    /// Replaces every value of `name` (an empty list removes the attribute).
    pub fn set<V: AsRef<[u8]>>(&mut self, name: &str, values: impl IntoIterator<Item = V>) {
        let values: Vec<Vec<u8>> = values.into_iter().map(|v| v.as_ref().to_vec()).collect();
        match self.find(name) {
            Ok(i) if values.is_empty() => {
                self.list.remove(i);
            }
            Err(_) if values.is_empty() => {}
            Ok(i) => {
                if let Some(a) = self.list.get_mut(i) {
                    *a = Attribute {
                        name: name_of(name),
                        values,
                    };
                }
            }
            Err(i) => self.list.insert(
                i,
                Attribute {
                    name: name_of(name),
                    values,
                },
            ),
        }
    }

    /// Appends one value to `name`.
    pub fn add_value(&mut self, name: &str, value: impl AsRef<[u8]>) {
        self.push_value(name, value.as_ref().to_vec());
    }

    /// [`Attributes::add_value`] of a value already owned (not copied).
    pub fn push_value(&mut self, name: &str, value: Vec<u8>) {
        match self.find(name) {
            Ok(i) => {
                if let Some(a) = self.list.get_mut(i) {
                    a.values.push(value);
                }
            }
            Err(i) => self.list.insert(
                i,
                Attribute {
                    name: name_of(name),
                    values: vec![value],
                },
            ),
        }
    }

    /// Adds values already owned to `name`, taking the name too (no copy of either when
    /// the attribute is new: how a directory's answer becomes an entry).
    pub fn push_values(&mut self, name: String, values: Vec<Vec<u8>>) {
        match self.find(&name) {
            Ok(i) => {
                if let Some(a) = self.list.get_mut(i) {
                    a.values.extend(values);
                }
            }
            Err(i) => {
                let name = match COMMON_NAMES.binary_search(&name.as_str()) {
                    Ok(k) => COMMON_NAMES
                        .get(k)
                        .map_or(Cow::Owned(name), |n| Cow::Borrowed(*n)),
                    Err(_) => Cow::Owned(name),
                };
                self.list.insert(i, Attribute { name, values });
            }
        }
    }

    /// Removes `name` and returns its values.
    pub fn remove(&mut self, name: &str) -> Option<Vec<Vec<u8>>> {
        self.find(name).ok().map(|i| self.list.remove(i).values)
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Every attribute, ordered by lower-cased name.
    pub fn iter(&self) -> impl Iterator<Item = &Attribute> {
        self.list.iter()
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Gives back spare capacity (for entries kept for long, as a directory's own copy).
    pub fn shrink_to_fit(&mut self) {
        self.list.shrink_to_fit();
        for a in &mut self.list {
            a.values.shrink_to_fit();
            for v in &mut a.values {
                v.shrink_to_fit();
            }
        }
    }
}

/// A directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry's distinguished name.
    pub dn: Dn,
    /// Its attributes.
    pub attrs: Attributes,
}

impl Entry {
    /// An entry without attributes.
    pub fn new(dn: Dn) -> Self {
        Entry {
            dn,
            attrs: Attributes::default(),
        }
    }

    /// Builder: sets `name` to `values`.
    #[must_use]
    pub fn with<V: AsRef<[u8]>>(mut self, name: &str, values: impl IntoIterator<Item = V>) -> Self {
        self.attrs.set(name, values);
        self
    }

    /// The values of `name` (empty if absent).
    pub fn get(&self, name: &str) -> &[Vec<u8>] {
        self.attrs.get(name).unwrap_or(&[])
    }

    /// The first value of `name` as UTF-8, if present and valid.
    pub fn first_str(&self, name: &str) -> Option<&str> {
        self.get(name)
            .first()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every UTF-8 value of `name` (non-UTF-8 values are skipped).
    pub fn strs(&self, name: &str) -> Vec<&str> {
        self.get(name)
            .iter()
            .filter_map(|v| std::str::from_utf8(v).ok())
            .collect()
    }

    /// Whether `name` has `value`; compares ASCII case-insensitively (enough for object
    /// classes and other caseIgnore keywords; exact matching rules live in the schema).
    pub fn has_value(&self, name: &str, value: &str) -> bool {
        self.get(name)
            .iter()
            .any(|v| v.eq_ignore_ascii_case(value.as_bytes()))
    }

    /// Replaces every value of `name`.
    pub fn set<V: AsRef<[u8]>>(&mut self, name: &str, values: impl IntoIterator<Item = V>) {
        self.attrs.set(name, values);
    }

    /// Appends a value to `name`.
    pub fn add_value(&mut self, name: &str, value: impl AsRef<[u8]>) {
        self.attrs.add_value(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn() -> Dn {
        Dn::parse("cn=x,dc=example,dc=com").unwrap()
    }

    #[test]
    fn names_are_case_insensitive_and_binary_kept() {
        let mut e = Entry::new(dn()).with("jpegPhoto", [vec![0u8, 0xff, 0xfe]]);
        assert_eq!(e.get("JPEGPHOTO"), &[vec![0u8, 0xff, 0xfe]]);
        assert_eq!(e.first_str("jpegphoto"), None);
        e.add_value("Mail", "a@x");
        e.add_value("mail", "b@x");
        assert_eq!(e.strs("MAIL"), vec!["a@x", "b@x"]);
        assert_eq!(
            e.attrs
                .iter()
                .find(|a| a.name() == "Mail")
                .unwrap()
                .values()
                .len(),
            2
        );
        e.set("mail", Vec::<&str>::new());
        assert!(!e.attrs.contains("mail"));
        assert_eq!(e.attrs.remove("jpegphoto").unwrap().len(), 1);
        assert!(e.attrs.is_empty());
    }

    #[test]
    fn common_names_are_borrowed_and_every_name_keeps_its_spelling() {
        assert!(COMMON_NAMES.windows(2).all(|w| w[0] < w[1]));
        let mut e = Entry::new(dn()).with("objectClass", ["top"]);
        e.attrs
            .push_values("uidNumber".to_owned(), vec![b"1".to_vec()]);
        e.add_value("OBJECTCLASS", "person");
        e.add_value("carLicense", "x");
        let names: Vec<(&str, bool)> = e
            .attrs
            .iter()
            .map(|a| (a.name(), matches!(a.name, Cow::Borrowed(_))))
            .collect();
        assert_eq!(
            names,
            [
                ("carLicense", false),
                ("objectClass", true),
                ("uidNumber", true)
            ]
        );
        assert_eq!(e.strs("objectclass"), ["top", "person"]);
    }
}
