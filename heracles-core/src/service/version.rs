//! Versions of objects and conditional writes (`ETag` / `If-Match`).
//!
//! Every object a service answers has an entity tag: a digest of its JSON form
//! ([`etag_of`]). A write may carry an [`IfMatch`]; the service then
//!
//! 1. reads the entry together with its `entryCSN` (the change sequence number slapd and
//!    the embedded directory stamp on every write),
//! 2. builds the object from that read and compares its tag with the expected ones — a
//!    mismatch is `PRECONDITION_FAILED` and nothing is written,
//! 3. writes with the assertion `(entryCSN=<the value read>)`, checked by the directory in
//!    the same operation (the LDAP assertion control on slapd, the write lock on the
//!    embedded directory).
//!
//! So a change that lands between the read and the write is also a `PRECONDITION_FAILED`:
//! no lost update, even with several server instances on one directory.
//!
//! ```
//! use heracles_core::service::version::{etag_of, IfMatch};
//!
//! let tag = etag_of(&serde_json::json!({"cn": "staff"}))?;
//! assert!(IfMatch::parse(&tag).matches(&tag));
//! assert!(IfMatch::parse("*").matches(&tag));
//! assert!(!IfMatch::parse("\"0000\", \"1111\"").matches(&tag));
//! # Ok::<(), heracles_core::Error>(())
//! ```

use std::fmt::Write as _;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::directory::Entry;
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;

/// The operational attribute that changes on every write of an entry.
pub(crate) const CSN: &str = "entryCSN";

/// The expected versions of an object (an HTTP `If-Match`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any existing version.
    Any,
    /// One of these entity tags (as given, quotes included).
    Tags(Vec<String>),
}

impl IfMatch {
    /// Parses an `If-Match` list: `*`, or comma-separated entity tags.
    pub fn parse(list: &str) -> IfMatch {
        let tags: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if tags.iter().any(|t| t == "*") {
            IfMatch::Any
        } else {
            IfMatch::Tags(tags)
        }
    }

    /// Whether `etag` is one of the expected versions.
    pub fn matches(&self, etag: &str) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|t| t == etag),
        }
    }

    /// `PRECONDITION_FAILED` unless `etag` matches.
    pub fn check(&self, etag: &str) -> Result<()> {
        if self.matches(etag) {
            return Ok(());
        }
        let given = match self {
            IfMatch::Any => "*".to_owned(),
            IfMatch::Tags(t) => t.join(", "),
        };
        Err(Error::new(
            ErrorCode::PreconditionFailed,
            "the resource has changed since it was read (If-Match does not match its ETag)",
        )
        .with_detail("if_match", given)
        .with_detail("etag", etag))
    }
}

/// The entity tag of an answer: a strong tag, the first 128 bits of the SHA-256 of its JSON
/// form, quoted (`"3f2a…"`).
pub fn etag_of<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let bytes = serde_json::to_vec(value)
        .map_err(|e| Error::internal(format!("cannot serialise the answer: {e}")))?;
    Ok(etag_of_json(&bytes))
}

/// [`etag_of`] of an answer already serialised (by `serde_json::to_vec`): a front that
/// has the body's bytes tags them without serialising the value a second time.
pub fn etag_of_json(json: &[u8]) -> String {
    let digest = Sha256::digest(json);
    let mut out = String::with_capacity(34);
    out.push('"');
    for b in &digest[..16] {
        let _ = write!(out, "{b:02x}");
    }
    out.push('"');
    out
}

/// Checks `if_match` against the object built from `entry` and returns the assertion the
/// write must carry: `None` without a precondition.
pub(crate) fn guard<T: Serialize + ?Sized>(
    if_match: Option<&IfMatch>,
    current: &T,
    entry: &Entry,
) -> Result<Option<Filter>> {
    let Some(m) = if_match else {
        return Ok(None);
    };
    m.check(&etag_of(current)?)?;
    Ok(Some(assertion(entry)))
}

/// The assertion that `entry` is unchanged since it was read: its `entryCSN` (or, for a
/// directory that keeps none, only that it still exists).
pub(crate) fn assertion(entry: &Entry) -> Filter {
    match entry.first_str(CSN) {
        Some(csn) => Filter::eq(CSN, csn),
        None => Filter::present("objectClass"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dn::Dn;

    #[test]
    fn parse_and_match() {
        assert_eq!(IfMatch::parse(" * "), IfMatch::Any);
        let m = IfMatch::parse("\"a\", \"b\"");
        assert!(m.matches("\"b\""));
        assert!(!m.matches("\"c\""));
        assert!(!IfMatch::parse("").matches("\"a\""));
        let e = m.check("\"c\"").unwrap_err();
        assert_eq!(e.code(), ErrorCode::PreconditionFailed);
    }

    #[test]
    fn tags_differ_with_content() {
        let a = etag_of(&serde_json::json!({"cn": "a"})).unwrap();
        let b = etag_of(&serde_json::json!({"cn": "b"})).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 34);
        assert!(a.starts_with('"') && a.ends_with('"'));
    }

    #[test]
    fn assertion_uses_the_csn() {
        let dn = Dn::parse("cn=x,dc=example,dc=com").unwrap();
        let e = Entry::new(dn.clone()).with(CSN, ["20261204000000.000000Z#000001#000#000000"]);
        assert_eq!(
            assertion(&e).to_string(),
            "(entryCSN=20261204000000.000000Z#000001#000#000000)"
        );
        assert_eq!(assertion(&Entry::new(dn)).to_string(), "(objectClass=*)");
        assert!(guard(None, &1, &e).unwrap().is_none());
        assert!(guard(Some(&IfMatch::Any), &1, &e).unwrap().is_some());
        assert!(guard(Some(&IfMatch::parse("\"x\"")), &1, &e).is_err());
    }
}
