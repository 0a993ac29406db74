//! What changed in an entry, as audit events record it ([`diff`]), with secrets redacted.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::AttributeChange;
use crate::directory::{truncate, Entry};
use crate::password::scheme_of;

/// What a secret value is replaced with (see [`is_secret`]).
pub const REDACTED: &str = "[REDACTED]";

/// An attribute listing more values than this, before or after a change, is recorded by its
/// difference only (see [`AttributeChange::partial`]); a list of removed or added values
/// longer than this is cut, with a last element saying how many were left out.
pub const MAX_LISTED_VALUES: usize = 64;

/// A text value is recorded up to this many bytes (cut at a character boundary, with a
/// note of its full length).
pub const MAX_VALUE_BYTES: usize = 1024;

/// Secrets by name (besides any attribute whose name contains `password` or `secret`).
const SECRETS: &[&str] = &[
    "userPassword",
    "authPassword",
    "heraclesPasswordHistory",
    "heraclesRefreshTokenHash",
    "pwdHistory",
    "sambaNTPassword",
    "sambaLMPassword",
    "krbPrincipalKey",
    "userPKCS12",
];

/// Attributes the directory maintains itself: never recorded as changes.
const OPERATIONAL: &[&str] = &[
    "entryCSN",
    "entryUUID",
    "entryDN",
    "createTimestamp",
    "creatorsName",
    "modifyTimestamp",
    "modifiersName",
    "structuralObjectClass",
    "subschemaSubentry",
    "hasSubordinates",
    "numSubordinates",
    "contextCSN",
    "memberOf",
    "pwdChangedTime",
    "pwdFailureTime",
    "pwdGraceUseTime",
    "pwdLastSuccess",
    "pwdUpdateTime",
];

/// The attribute type of a description (`userPassword;x-foo` → `userPassword`).
fn base_name(attr: &str) -> &str {
    attr.split(';').next().unwrap_or(attr)
}

/// Whether the values of `attr` are secrets, always redacted in audit events: passwords and
/// their hashes and histories (`userPassword`, `heraclesPasswordHistory`, `pwdHistory`,
/// `authPassword`, Samba and Kerberos keys, `userPKCS12`), refresh token hashes
/// (`heraclesRefreshTokenHash`), and any attribute whose name contains `password` or
/// `secret` (ASCII case ignored).
///
/// ```
/// use heracles_core::audit::is_secret;
///
/// assert!(is_secret("userPassword"));
/// assert!(is_secret("HERACLESPASSWORDHISTORY"));
/// assert!(is_secret("myAppPasswordHash"));
/// assert!(!is_secret("pwdAccountLockedTime"));
/// assert!(!is_secret("mail"));
/// ```
pub fn is_secret(attr: &str) -> bool {
    let name = base_name(attr);
    let lower = name.to_ascii_lowercase();
    SECRETS.iter().any(|s| s.eq_ignore_ascii_case(name))
        || lower.contains("password")
        || lower.contains("secret")
}

/// Whether `attr` is maintained by the directory (`entryCSN`, `modifyTimestamp`,
/// `memberOf`, ppolicy's bookkeeping such as `pwdChangedTime`, ...) and so left out of
/// recorded changes. `pwdAccountLockedTime` is not: it is what a lock changes.
pub fn is_operational(attr: &str) -> bool {
    let name = base_name(attr);
    OPERATIONAL.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// How one value is recorded.
fn show(attr_is_secret: bool, value: &[u8]) -> String {
    if attr_is_secret {
        return match scheme_of(value) {
            Some(scheme) => format!("[REDACTED {{{}}}]", scheme.to_ascii_uppercase()),
            None => REDACTED.to_owned(),
        };
    }
    match std::str::from_utf8(value) {
        Ok(text) if text.len() <= MAX_VALUE_BYTES => text.to_owned(),
        Ok(text) => format!(
            "{} [{} bytes in all]",
            truncate(text, MAX_VALUE_BYTES),
            text.len()
        ),
        Err(_) => {
            let digest = Sha256::digest(value);
            let mut hex = String::with_capacity(16);
            for b in &digest[..8] {
                let _ = write!(hex, "{b:02x}");
            }
            format!("[binary: {} bytes, sha256 {hex}…]", value.len())
        }
    }
}

fn show_all<'a>(
    secret: bool,
    values: impl ExactSizeIterator<Item = &'a Vec<u8>>,
    cut: bool,
) -> Vec<String> {
    let total = values.len();
    let limit = if cut { MAX_LISTED_VALUES } else { usize::MAX };
    let mut out: Vec<String> = values.take(limit).map(|v| show(secret, v)).collect();
    if total > out.len() {
        out.push(format!("[… {} more values]", total - out.len()));
    }
    out
}

fn same_set(a: &[Vec<u8>], b: &[Vec<u8>]) -> bool {
    let mut a: Vec<&Vec<u8>> = a.iter().collect();
    let mut b: Vec<&Vec<u8>> = b.iter().collect();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

/// The attributes that differ between two states of an entry, with their old and new
/// values, for an audit event: `before` is `None` for a create (only new values), `after`
/// is `None` for a delete (only old values).
///
/// - Attribute names match ignoring ASCII case; the name shown is the new state's spelling
///   (else the old one's). Values are compared exactly, as sets (LDAP values have no
///   order). Changes are ordered by lower-cased attribute name.
/// - Attributes the directory maintains itself are left out ([`is_operational`]).
/// - Secrets ([`is_secret`]) are always redacted: each value becomes `[REDACTED]`, or
///   `[REDACTED {SCHEME}]` for a hash whose scheme is plausible (e.g. `{ARGON2}`) — so the
///   number of values and the hashing scheme show, never a password or a hash.
/// - Binary (non-UTF-8) values are shown as `[binary: N bytes, sha256 <16 hex digits>…]`;
///   text longer than [`MAX_VALUE_BYTES`] is cut.
/// - An attribute with more than [`MAX_LISTED_VALUES`] values (a large group's `member`)
///   records only the values removed (`old`) and added (`new`), and is marked `partial`.
///
/// ```
/// use heracles_core::audit::diff;
/// use heracles_core::directory::Entry;
/// use heracles_core::dn::Dn;
///
/// let dn = Dn::parse("uid=jdoe,ou=people,dc=example,dc=com")?;
/// let before = Entry::new(dn.clone())
///     .with("mail", ["old@example.com"])
///     .with("userPassword", ["{SSHA}abcdefgh"]);
/// let after = Entry::new(dn)
///     .with("MAIL", ["new@example.com"])
///     .with("userPassword", ["{ARGON2}$argon2id$v=19$..."]);
/// let changes = diff(Some(&before), Some(&after));
/// assert_eq!(changes[0].attribute, "MAIL");
/// assert_eq!(changes[0].old, ["old@example.com"]);
/// assert_eq!(changes[0].new, ["new@example.com"]);
/// assert_eq!(changes[1].old, ["[REDACTED {SSHA}]"]);
/// assert_eq!(changes[1].new, ["[REDACTED {ARGON2}]"]);
/// # Ok::<(), heracles_core::Error>(())
/// ```
pub fn diff(before: Option<&Entry>, after: Option<&Entry>) -> Vec<AttributeChange> {
    // lower-cased name -> (shown name, old values, new values)
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for e in before.iter().chain(after.iter()) {
        for a in e.attrs.iter() {
            // The new state's spelling wins: `after` comes last.
            names.insert(a.name().to_ascii_lowercase(), a.name().to_owned());
        }
    }
    let empty: &[Vec<u8>] = &[];
    let mut out = Vec::new();
    for name in names.into_values() {
        if is_operational(&name) {
            continue;
        }
        let old = before.map_or(empty, |e| e.get(&name));
        let new = after.map_or(empty, |e| e.get(&name));
        if same_set(old, new) {
            continue;
        }
        let secret = is_secret(&name);
        let change = if old.len().max(new.len()) > MAX_LISTED_VALUES {
            let removed: Vec<&Vec<u8>> = old.iter().filter(|v| !new.contains(v)).collect();
            let added: Vec<&Vec<u8>> = new.iter().filter(|v| !old.contains(v)).collect();
            AttributeChange {
                attribute: name,
                old: show_all(secret, removed.into_iter(), true),
                new: show_all(secret, added.into_iter(), true),
                partial: true,
            }
        } else {
            AttributeChange {
                attribute: name,
                old: show_all(secret, old.iter(), false),
                new: show_all(secret, new.iter(), false),
                partial: false,
            }
        };
        out.push(change);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dn::Dn;

    fn entry() -> Entry {
        Entry::new(Dn::parse("uid=jdoe,ou=people,dc=example,dc=com").unwrap())
    }

    #[test]
    fn create_modify_delete() {
        let created = entry()
            .with("objectClass", ["inetOrgPerson"])
            .with("uid", ["jdoe"])
            .with("cn", ["John"])
            .with("entryCSN", ["20250101000000.000000Z#000000#000#000000"]);
        let c = diff(None, Some(&created));
        let names: Vec<&str> = c.iter().map(|x| x.attribute.as_str()).collect();
        assert_eq!(names, ["cn", "objectClass", "uid"]);
        assert!(c.iter().all(|x| x.old.is_empty() && !x.partial));
        assert_eq!(c[0].new, ["John"]);

        let changed = entry()
            .with("objectclass", ["inetOrgPerson"])
            .with("uid", ["jdoe"])
            .with("cn", ["John Doe"])
            .with("mail", ["j@example.com"])
            .with("entryCSN", ["20250101000001.000000Z#000000#000#000000"])
            .with("modifyTimestamp", ["20250101000001Z"]);
        let c = diff(Some(&created), Some(&changed));
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(
            (c[0].attribute.as_str(), &c[0].old, &c[0].new),
            ("cn", &vec!["John".to_owned()], &vec!["John Doe".to_owned()])
        );
        assert_eq!(c[1].attribute, "mail");
        assert!(c[1].old.is_empty());

        let d = diff(Some(&changed), None);
        assert_eq!(d.len(), 4);
        assert!(d.iter().all(|x| x.new.is_empty()));
        assert!(diff(None, None).is_empty());
        assert!(diff(Some(&changed), Some(&changed)).is_empty());
    }

    #[test]
    fn names_are_case_insensitive_and_values_are_sets() {
        let a = entry().with("Mail", ["a@x", "b@x"]);
        let b = entry().with("mail", ["b@x", "a@x", "a@x"]);
        assert!(diff(Some(&a), Some(&b)).is_empty());
        let c = entry().with("MAIL", ["b@x"]);
        let d = diff(Some(&a), Some(&c));
        assert_eq!(d[0].attribute, "MAIL");
        assert_eq!(d[0].old, ["a@x", "b@x"]);
        assert_eq!(d[0].new, ["b@x"]);
    }

    #[test]
    fn secrets_are_always_redacted() {
        let before = entry()
            .with("userPassword", ["{SSHA}c2VjcmV0c2FsdA=="])
            .with("heraclesPasswordHistory", ["1#{SSHA}x", "2#{SSHA}y"])
            .with("heraclesRefreshTokenHash", ["abcdef"])
            .with(
                "pwdHistory",
                ["20250101000000Z#1.3.6.1.4.1.1466.115.121.1.40#5#{SSHA}zz"],
            )
            .with("myServiceSecret", ["s3cret"])
            .with("appPASSWORD", ["hunter2"]);
        let after = entry()
            .with("userPassword", ["cleartext-Passw0rd"])
            .with("heraclesPasswordHistory", ["3#{SSHA}z"]);
        let all = format!(
            "{:?}{:?}{:?}",
            diff(Some(&before), Some(&after)),
            diff(None, Some(&before)),
            diff(Some(&before), None)
        );
        for secret in [
            "c2VjcmV0",
            "cleartext",
            "1#",
            "abcdef",
            "zz",
            "s3cret",
            "hunter2",
        ] {
            assert!(!all.contains(secret), "{secret} leaked: {all}");
        }
        let c = diff(Some(&before), Some(&after));
        let pw = c.iter().find(|x| x.attribute == "userPassword").unwrap();
        assert_eq!(pw.old, ["[REDACTED {SSHA}]"]);
        assert_eq!(pw.new, [REDACTED]);
        let hist = c
            .iter()
            .find(|x| x.attribute == "heraclesPasswordHistory")
            .unwrap();
        assert_eq!(hist.old, [REDACTED, REDACTED], "the count shows");
        assert_eq!(hist.new, [REDACTED]);
        // An unchanged secret is not a change.
        let same = entry().with("userPassword", ["{SSHA}c2VjcmV0c2FsdA=="]);
        let other = entry().with("userPassword", ["{SSHA}c2VjcmV0c2FsdA=="]);
        assert!(diff(Some(&same), Some(&other)).is_empty());
        assert!(!is_secret("pwdAccountLockedTime"));
        assert!(is_secret("userPassword;binary"));
    }

    #[test]
    fn binary_long_and_large_values() {
        let photo = vec![0xffu8, 0xd8, 0xff, 0x00, 0x10];
        let long = "x".repeat(MAX_VALUE_BYTES + 10);
        let c = diff(
            None,
            Some(
                &entry()
                    .with("jpegPhoto", [photo.clone()])
                    .with("description", [long.as_str()]),
            ),
        );
        assert_eq!(c[0].attribute, "description");
        assert!(c[0].new[0].len() < MAX_VALUE_BYTES + 40);
        assert!(c[0].new[0].contains("1034 bytes in all"), "{}", c[0].new[0]);
        assert!(
            c[1].new[0].starts_with("[binary: 5 bytes, sha256 "),
            "{}",
            c[1].new[0]
        );

        // A large group: only the difference.
        let members: Vec<String> = (0..200).map(|i| format!("uid=u{i},dc=x")).collect();
        let mut more = members.clone();
        more.push("uid=new,dc=x".into());
        more.retain(|m| m != "uid=u7,dc=x");
        let c = diff(
            Some(&entry().with("member", &members)),
            Some(&entry().with("member", &more)),
        );
        assert!(c[0].partial);
        assert_eq!(c[0].old, ["uid=u7,dc=x"]);
        assert_eq!(c[0].new, ["uid=new,dc=x"]);
        // Created with 200 members: 64 listed and a note.
        let c = diff(None, Some(&entry().with("member", &members)));
        assert!(c[0].partial);
        assert_eq!(c[0].new.len(), MAX_LISTED_VALUES + 1);
        assert_eq!(c[0].new[MAX_LISTED_VALUES], "[… 136 more values]");
        let json = serde_json::to_value(&c[0]).unwrap();
        assert_eq!(json["partial"], true);
        let small = serde_json::to_value(&diff(None, Some(&entry().with("cn", ["x"])))[0]).unwrap();
        assert!(small.get("partial").is_none());
    }
}
