//! The SSH public keys of users: values of `sshPublicKey` (auxiliary class
//! `ldapPublicKey`, the openssh-lpk schema) on the user's entry, one key per value in the
//! OpenSSH one-line format `type base64 comment` — exactly what an sshd
//! `AuthorizedKeysCommand` (an `ldapsearch … sshPublicKey`, or sssd's
//! `sss_ssh_authorizedkeys`) prints into `authorized_keys`.
//!
//! * Adding: the key is parsed and checked by [`PublicKey::parse`] (type, key data,
//!   RSA ≥ 2048 bits, no `authorized_keys` options) and stored in its canonical line. A key
//!   the user already has (the same key data, whatever the comment) is `ALREADY_EXISTS`.
//!   The first key adds the class `ldapPublicKey`; removing the last one removes it.
//! * A key's `id` is its SHA-256 fingerprint in URL-safe base64 (no padding); deleting
//!   takes the id or the fingerprint as `ssh-keygen -l` prints it (`SHA256:…`).
//! * Values written by other tools are listed too: with their `authorized_keys` options in
//!   `options`, and a value that is not a key this module reads with `type: "unknown"`, no
//!   fingerprint, and as id the URL-safe SHA-256 of the value (so it can be deleted).
//! * Access: listing needs `user:read` on the user and the right to read `sshPublicKey`;
//!   adding and deleting need `user:write` and the right to write `sshPublicKey` (the
//!   built-in `self` policy gives every user that on its own entry). The class change that
//!   goes with the first and last key is implied. Writes are audited as a `modify` of the
//!   user (object type `user`) with the changed values.
//! * Writes are atomic against concurrent changes of the user: each is conditional on the
//!   entry being unchanged since it was read (`entryCSN`), retried on a fresh read.
//!
//! ```
//! use heracles_core::service::ssh_keys::SshKey;
//!
//! let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R \
//!             jdoe@laptop";
//! let key = SshKey::from_value(line.as_bytes());
//! assert_eq!(key.key_type, "ssh-ed25519");
//! assert_eq!(key.fingerprint.as_deref(), Some("SHA256:RRt45AtypHTW+E4tmCXFI68jHWkMxUhNba5VeNZPm7Y"));
//! assert_eq!(key.id, "RRt45AtypHTW-E4tmCXFI68jHWkMxUhNba5VeNZPm7Y");
//! assert_eq!(key.bits, Some(256));
//! assert_eq!(key.comment.as_deref(), Some("jdoe@laptop"));
//! ```

use serde::{Deserialize, Serialize};

use super::common::{field, ListQuery, Principal};
use super::version::assertion;
use super::Heracles;
use crate::acl::{Action, ObjectType, Permission};
use crate::audit::{action, object_type, Operation};
use crate::directory::{truncate, Entry, Modification};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{AllowList, Clause, Op, MAX_CLAUSES};
use crate::page::Page;
use crate::sshkey::{id_of_fingerprint, id_of_value, PublicKey};

const READ: Permission = Permission::new(ObjectType::User, Action::Read);
const WRITE: Permission = Permission::new(ObjectType::User, Action::Write);

const ATTR: &str = "sshPublicKey";
const CLASS: &str = "ldapPublicKey";
/// Conditional writes tried before giving up under concurrent changes.
const ATTEMPTS: usize = 5;
/// The fields of a key answer (for `filter=`, `sort=` and `attributes=`).
const FIELDS: &[&str] = &[
    "id",
    "fingerprint",
    "type",
    "comment",
    "bits",
    "public_key",
    "options",
];

/// One SSH key of a user, as answered by every front.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshKey {
    /// The fingerprint in URL-safe form: the key's path segment.
    pub id: String,
    /// `SHA256:…` as `ssh-keygen -l` prints it (`None` for a stored value that is not a
    /// key).
    pub fingerprint: Option<String>,
    /// The key type (`ssh-ed25519`, ...; `unknown` for a value that is not a key).
    #[serde(rename = "type")]
    pub key_type: String,
    /// The comment of the line, if any.
    pub comment: Option<String>,
    /// The key size in bits.
    pub bits: Option<u32>,
    /// The stored value: the `authorized_keys` line.
    pub public_key: String,
    /// `authorized_keys` options of a value written by another tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<String>,
}

/// The body of `POST /users/{uid}/ssh-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSshKey {
    /// One key line, `type base64 [comment]`.
    pub public_key: String,
}

impl SshKey {
    /// The answer for a checked key.
    pub fn from_key(key: &PublicKey) -> SshKey {
        SshKey {
            id: key.id(),
            fingerprint: Some(key.fingerprint()),
            key_type: key.key_type().name().to_owned(),
            comment: key.comment().map(str::to_owned),
            bits: Some(key.bits()),
            public_key: key.to_line(),
            options: None,
        }
    }

    /// The answer for a stored `sshPublicKey` value (read leniently, see the
    /// [module docs](self)).
    pub fn from_value(value: &[u8]) -> SshKey {
        let parsed = std::str::from_utf8(value)
            .ok()
            .and_then(|s| PublicKey::parse_stored(s).ok());
        let public_key = String::from_utf8_lossy(value).into_owned();
        match parsed {
            Some((options, key)) => SshKey {
                public_key,
                options,
                ..SshKey::from_key(&key)
            },
            None => SshKey {
                id: id_of_value(value),
                fingerprint: None,
                key_type: "unknown".to_owned(),
                comment: None,
                bits: None,
                public_key,
                options: None,
            },
        }
    }

    /// A field as text, for filters and sorting.
    fn text(&self, name: &str) -> Option<String> {
        match name {
            "id" => Some(self.id.clone()),
            "fingerprint" => self.fingerprint.clone(),
            "type" => Some(self.key_type.clone()),
            "comment" => self.comment.clone(),
            "bits" => self.bits.map(|b| b.to_string()),
            "public_key" => Some(self.public_key.clone()),
            "options" => self.options.clone(),
            _ => None,
        }
    }
}

/// One `filter=` clause over key fields.
#[derive(Debug)]
struct Matcher {
    field: &'static str,
    op: Op,
    value: String,
}

impl Matcher {
    /// `type` and `comment` compare without regard to case; the others exactly.
    fn matches(&self, key: &SshKey) -> bool {
        let Some(text) = key.text(self.field) else {
            return false;
        };
        let fold = matches!(self.field, "type" | "comment");
        let (text, value) = if fold {
            (text.to_lowercase(), self.value.to_lowercase())
        } else {
            (text, self.value.clone())
        };
        match self.op {
            Op::Present => true,
            Op::Eq => text == value,
            Op::Contains => text.contains(&value),
            Op::Starts => text.starts_with(&value),
            Op::Ends => text.ends_with(&value),
        }
    }
}

fn known(name: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .copied()
        .find(|f| f.eq_ignore_ascii_case(name))
}

fn matchers(clauses: &[String]) -> Result<Vec<Matcher>> {
    if clauses.len() > MAX_CLAUSES {
        return Err(Error::new(
            ErrorCode::InvalidFilter,
            format!("at most {MAX_CLAUSES} filter clauses are allowed"),
        )
        .with_detail("max_clauses", MAX_CLAUSES));
    }
    let mut out = Vec::with_capacity(clauses.len());
    for (i, raw) in clauses.iter().enumerate() {
        let c = Clause::parse(raw).map_err(|e| e.with_detail("index", i))?;
        let Some(field) = known(c.attr) else {
            return Err(Error::new(
                ErrorCode::InvalidFilter,
                format!(
                    "invalid filter clause {i} '{raw}': unknown attribute '{}': allowed are {}",
                    c.attr,
                    FIELDS.join(", ")
                ),
            )
            .with_detail("clause", raw.as_str())
            .with_detail("index", i)
            .with_detail("allowed", FIELDS));
        };
        out.push(Matcher {
            field,
            op: c.op,
            value: c.value.unwrap_or_default().to_owned(),
        });
    }
    Ok(out)
}

/// Operations on users' SSH keys; get one with [`Heracles::ssh_keys`].
#[derive(Debug, Clone, Copy)]
pub struct SshKeys<'a> {
    h: &'a Heracles,
}

fn key_not_found(uid: &str, id: &str) -> Error {
    Error::new(
        ErrorCode::SshKeyNotFound,
        format!("user '{uid}' has no SSH key '{}'", truncate(id, 100)),
    )
    .with_detail("uid", uid)
    .with_detail("id", truncate(id, 100))
}

impl<'a> SshKeys<'a> {
    pub(super) fn new(h: &'a Heracles) -> Self {
        SshKeys { h }
    }

    /// The user entry, once the caller may do `permission` with `sshPublicKey` on it.
    async fn user(self, p: &Principal, uid: &str, permission: Permission) -> Result<Entry> {
        p.check_somewhere(permission, uid)?;
        let e = self.h.users().find(uid).await?;
        p.check(permission, &e.dn)?;
        if permission.action == Action::Write {
            p.check_attributes(WRITE, &e.dn, [ATTR])?;
        } else if !p.acl().is_unrestricted()
            && !p
                .acl()
                .attributes(ObjectType::User, Action::Read, &e.dn)
                .allows(ATTR)
        {
            return Err(Error::new(
                ErrorCode::AclDenied,
                format!(
                    "'{}' may not read the attribute '{ATTR}' of '{}'",
                    p.dn, e.dn
                ),
            )
            .with_detail("permission", READ.to_string())
            .with_detail("target", e.dn.to_string())
            .with_detail("attribute", ATTR));
        }
        Ok(e)
    }

    /// The keys of user `uid`, narrowed by `filter=` clauses on the key fields (`id`,
    /// `fingerprint`, `type`, `comment`, `bits`, `public_key`, `options`), sorted (default:
    /// by comment, then id), one page of them.
    pub async fn list(&self, p: &Principal, uid: &str, q: &ListQuery) -> Result<Page<SshKey>> {
        let filters = matchers(&q.filters)?;
        let allow = AllowList::new(FIELDS.iter().map(|f| (*f, *f, true)));
        let sort = match q.sort.as_deref() {
            None => None,
            Some(s) => {
                let (name, descending) = match s.strip_prefix('-') {
                    Some(rest) => (rest, true),
                    None => (s.strip_prefix('+').unwrap_or(s), false),
                };
                field(&allow, name, "sort")?;
                Some((known(name).unwrap_or("id"), descending))
            }
        };
        if let Some(attrs) = &q.attributes {
            for a in attrs {
                field(&allow, a, "attributes")?;
            }
        }
        let e = self.user(p, uid, READ).await?;
        let mut keys: Vec<SshKey> = e
            .get(ATTR)
            .iter()
            .map(|v| SshKey::from_value(v))
            .filter(|k| filters.iter().all(|m| m.matches(k)))
            .collect();
        let (by, descending) = sort.unwrap_or(("comment", false));
        keys.sort_by(|a, b| {
            let order = if by == "bits" {
                a.bits.cmp(&b.bits)
            } else {
                let t = |k: &SshKey| k.text(by).unwrap_or_default().to_lowercase();
                t(a).cmp(&t(b))
            }
            .then_with(|| a.id.cmp(&b.id));
            if descending {
                order.reverse()
            } else {
                order
            }
        });
        Ok(q.page.slice(keys))
    }

    /// Adds a key to user `uid` (see the [module docs](self)); answers the stored key.
    pub async fn add(&self, p: &Principal, uid: &str, body: &NewSshKey) -> Result<SshKey> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::USER, uid);
        let outcome = self.add_op(p, uid, body, &mut op).await;
        op.done(outcome).await
    }

    async fn add_op(
        &self,
        p: &Principal,
        uid: &str,
        body: &NewSshKey,
        op: &mut Operation<'_>,
    ) -> Result<SshKey> {
        let mut e = self.user(p, uid, WRITE).await?;
        op.target(&e.dn);
        let key = PublicKey::parse(&body.public_key)?;
        let answer = SshKey::from_key(&key);
        for attempt in 1..=ATTEMPTS {
            if let Some(existing) = e
                .get(ATTR)
                .iter()
                .map(|v| SshKey::from_value(v))
                .find(|k| k.id == answer.id)
            {
                return Err(Error::new(
                    ErrorCode::AlreadyExists,
                    format!(
                        "user '{uid}' already has the key {}",
                        existing.fingerprint.as_deref().unwrap_or(&existing.id)
                    ),
                )
                .with_detail("uid", uid)
                .with_detail("id", existing.id)
                .with_detail("fingerprint", answer.fingerprint.clone()));
            }
            let mut mods = Vec::with_capacity(2);
            if !e.has_value("objectClass", CLASS) {
                mods.push(Modification::add("objectClass", [CLASS]));
            }
            mods.push(Modification::add(ATTR, [answer.public_key.as_str()]));
            op.begin().await?;
            match self
                .h
                .directory()
                .modify_if(&e.dn, &mods, Some(&assertion(&e)))
                .await
            {
                Ok(()) => {
                    let after = self.h.users().find(uid).await?;
                    op.changes(Some(&e), Some(&after));
                    return Ok(answer);
                }
                Err(err) if err.code() == ErrorCode::PreconditionFailed && attempt < ATTEMPTS => {
                    e = self.user(p, uid, WRITE).await?;
                    op.target(&e.dn);
                }
                Err(err) => return Err(err),
            }
        }
        Err(Error::new(
            ErrorCode::PreconditionFailed,
            "the user kept changing while the key was added; try again",
        ))
    }

    /// Removes key `id` (the id, or the fingerprint `SHA256:…`) from user `uid`;
    /// `SSH_KEY_NOT_FOUND` if the user has no such key.
    pub async fn delete(&self, p: &Principal, uid: &str, id: &str) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::USER, uid);
        let outcome = self.delete_op(p, uid, id, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_op(
        &self,
        p: &Principal,
        uid: &str,
        id: &str,
        op: &mut Operation<'_>,
    ) -> Result<()> {
        let wanted = if id.starts_with("SHA256:") {
            id_of_fingerprint(id).ok_or_else(|| key_not_found(uid, id))?
        } else {
            id.to_owned()
        };
        let mut e = self.user(p, uid, WRITE).await?;
        op.target(&e.dn);
        for attempt in 1..=ATTEMPTS {
            let all = e.get(ATTR);
            let matching: Vec<&Vec<u8>> = all
                .iter()
                .filter(|v| SshKey::from_value(v).id == wanted)
                .collect();
            if matching.is_empty() {
                return Err(key_not_found(uid, id));
            }
            let mut mods = vec![Modification::delete(ATTR, matching.iter().copied())];
            if matching.len() == all.len() && e.has_value("objectClass", CLASS) {
                mods.push(Modification::delete("objectClass", [CLASS]));
            }
            op.begin().await?;
            match self
                .h
                .directory()
                .modify_if(&e.dn, &mods, Some(&assertion(&e)))
                .await
            {
                Ok(()) => {
                    let after = self.h.users().find(uid).await?;
                    op.changes(Some(&e), Some(&after));
                    return Ok(());
                }
                Err(err) if err.code() == ErrorCode::PreconditionFailed && attempt < ATTEMPTS => {
                    e = self.user(p, uid, WRITE).await?;
                    op.target(&e.dn);
                }
                Err(err) => return Err(err),
            }
        }
        Err(Error::new(
            ErrorCode::PreconditionFailed,
            "the user kept changing while the key was removed; try again",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::settings::testing::{admin, fixture, user};
    use serde_json::json;

    const ED25519: &str = "ssh-ed25519 \
        AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R jdoe@laptop";
    const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBB\
        LeZCp55ZCt9DLSrtSIGvT0dV7EsgHjkh+V7TM5/O0816hi5ZAAOYpuJZalpU4T3GKA9vWv/yJLq6Wgu8o1r1pA= \
        ci@build";

    #[test]
    fn stored_values_become_answers() {
        let k = SshKey::from_value(format!("no-pty,from=\"10.0.0.1\" {ED25519}").as_bytes());
        assert_eq!(k.options.as_deref(), Some("no-pty,from=\"10.0.0.1\""));
        assert_eq!(k.key_type, "ssh-ed25519");
        let junk = SshKey::from_value(b"not a key at all");
        assert_eq!(junk.key_type, "unknown");
        assert_eq!(junk.fingerprint, None);
        assert_eq!(junk.id, id_of_value(b"not a key at all"));
        let binary = SshKey::from_value(&[0xff, 0xfe]);
        assert_eq!(binary.key_type, "unknown");
        let v = serde_json::to_value(SshKey::from_value(ED25519.as_bytes())).unwrap();
        assert_eq!(v["type"], "ssh-ed25519");
        assert!(v.get("options").is_none());
        assert!(serde_json::from_value::<NewSshKey>(json!({"public_key": "x", "k": 1})).is_err());
    }

    #[test]
    fn key_filters() {
        let k = SshKey::from_value(ED25519.as_bytes());
        let m = |c: &str| matchers(&[c.to_owned()]).unwrap().remove(0).matches(&k);
        assert!(m("type:eq:SSH-ED25519"));
        assert!(m("comment:contains:LAPTOP"));
        assert!(m("bits:eq:256"));
        assert!(m("fingerprint:starts:SHA256:RRt"));
        assert!(!m("fingerprint:starts:sha256:RRt"));
        assert!(!m("options:present"));
        assert!(m("comment:present"));
        let e = matchers(&["color:eq:x".to_owned()]).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidFilter);
        assert!(matchers(&["type:like:x".to_owned()]).is_err());
    }

    #[tokio::test]
    #[allow(clippy::many_single_char_names)]
    async fn add_list_delete_on_the_embedded_directory() {
        let (_dir, h) = fixture();
        let adm = admin(&h);
        let body = json!({"uid": "kim", "cn": "Kim", "sn": "K"});
        h.users()
            .create(&adm, body.as_object().unwrap())
            .await
            .unwrap();
        let keys = h.ssh_keys();
        let new = |k: &str| NewSshKey {
            public_key: k.to_owned(),
        };
        let a = keys.add(&adm, "kim", &new(ED25519)).await.unwrap();
        assert_eq!(a.public_key, ED25519);
        let e = h.users().find("kim").await.unwrap();
        assert!(e.has_value("objectClass", CLASS));
        // The same key with another comment is a duplicate.
        let other = ED25519.replace("jdoe@laptop", "other");
        let err = keys.add(&adm, "kim", &new(&other)).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::AlreadyExists);
        let b = keys.add(&adm, "kim", &new(ECDSA)).await.unwrap();
        let page = keys.list(&adm, "kim", &ListQuery::default()).await.unwrap();
        let comments: Vec<_> = page
            .data
            .iter()
            .map(|k| k.comment.clone().unwrap())
            .collect();
        assert_eq!(comments, ["ci@build", "jdoe@laptop"]);
        let page = keys
            .list(
                &adm,
                "kim",
                &ListQuery::default().filter("type:starts:ecdsa"),
            )
            .await
            .unwrap();
        assert_eq!(page.data, vec![b.clone()]);
        let err = keys
            .list(&adm, "kim", &ListQuery::default().sort("colour"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        // Others may not touch them.
        let u = user();
        for err in [
            keys.list(&u, "kim", &ListQuery::default())
                .await
                .unwrap_err(),
            keys.add(&u, "kim", &new(ED25519)).await.unwrap_err(),
            keys.delete(&u, "kim", &a.id).await.unwrap_err(),
        ] {
            assert_eq!(err.code(), ErrorCode::AclDenied);
        }
        // Delete by id and by fingerprint; the class goes with the last key.
        keys.delete(&adm, "kim", &a.id).await.unwrap();
        let err = keys.delete(&adm, "kim", &a.id).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::SshKeyNotFound);
        assert_eq!(err.details()["id"], a.id);
        keys.delete(&adm, "kim", b.fingerprint.as_deref().unwrap())
            .await
            .unwrap();
        let e = h.users().find("kim").await.unwrap();
        assert!(!e.has_value("objectClass", CLASS));
        assert!(e.get(ATTR).is_empty());
        let err = keys.add(&adm, "nobody", &new(ED25519)).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::UserNotFound);
        let err = keys
            .add(&adm, "kim", &new("ssh-rsa AAAA"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
    }
}
