//! LDIF (RFC 2849): reading and writing entries and change records.
//!
//! LDIF is the text format of `ldapsearch`, `ldapadd`/`ldapmodify` and `slapadd`/`slapcat`.
//! This module parses both kinds of LDIF file — *content* files (entries, as `ldapsearch`
//! prints them) and *change* files (`changetype: add`, `modify`, `delete`, `modrdn`/`moddn`)
//! — into [`LdifRecord`]s, and writes entries and records back in a form the OpenLDAP tools
//! read.
//!
//! ```
//! use heracles_core::directory::Entry;
//! use heracles_core::dn::Dn;
//! use heracles_core::ldif::{self, LdifRecord};
//!
//! let input = "\
//! version: 1
//!
//! ## a comment, which can be
//!  folded like any other line
//! dn: uid=jdoe,ou=people,dc=example,dc=com
//! objectClass: inetOrgPerson
//! cn: John
//!   Doe
//! sn:: RG/DqQ==
//! jpegPhoto:: /9j/4A==
//! ";
//! let records = ldif::parse(input)?;
//! let LdifRecord::Content(entry) = &records[0] else { unreachable!() };
//! assert_eq!(entry.first_str("cn"), Some("John Doe"));       // unfolded
//! assert_eq!(entry.first_str("sn"), Some("Doé"));            // base64, UTF-8
//! assert_eq!(entry.get("jpegPhoto"), &[vec![0xff, 0xd8, 0xff, 0xe0]]); // binary kept
//!
//! // Writing: non-ASCII and binary values are base64-encoded, long lines folded.
//! let out = ldif::to_string([entry])?;
//! assert!(out.starts_with("version: 1\n\ndn: uid=jdoe,ou=people,dc=example,dc=com\n"));
//! assert!(out.contains("objectClass: inetOrgPerson\n") && out.contains("sn:: RG/DqQ==\n"));
//! assert_eq!(ldif::parse_entries(&out)?, vec![entry.clone()]);
//!
//! // Errors say where and why.
//! let err = ldif::parse("dn: cn=x,dc=com\ncn:: not base64!\n").unwrap_err();
//! assert_eq!(err.code().as_str(), "VALIDATION_FAILED");
//! assert_eq!(err.details()["line"], 2);
//! assert_eq!(err.details()["reason"], "bad_base64");
//! # Ok::<(), heracles_core::Error>(())
//! ```
//!
//! # Reading
//!
//! [`parse`] reads a whole string; [`LdifReader`] reads records one at a time from any
//! [`BufRead`](std::io::BufRead), so a file of any number of entries is never held in memory
//! at once. What is accepted:
//!
//! * an optional `version: 1` line at the very start (any other version is an error);
//! * records separated by one or more empty lines; LF or CRLF line ends, a missing final
//!   line end, a UTF-8 byte order mark at the start;
//! * comments: lines starting with `#`, anywhere, folded or not;
//! * folding: a line starting with one space continues the previous line (the space is
//!   dropped);
//! * `attr: value` (leading spaces of the value are dropped, trailing ones kept),
//!   `attr:: base64` (decoded to bytes, binary kept intact; standard alphabet, padded) and
//!   `dn:: base64` (which must decode to UTF-8);
//! * attribute descriptions with options (`userCertificate;binary`, `cn;lang-en`); names and
//!   keywords (`dn`, `changetype`, `add`, ...) are case-insensitive;
//! * plain values are taken byte for byte. RFC 2849 restricts them to ASCII; UTF-8 text, as
//!   written by hand and by several tools, is accepted too. A NUL or CR byte is an error
//!   (they must be base64-encoded);
//! * change records: `changetype: add` (at least one attribute), `delete`, `modify` (any
//!   number of `add:`/`delete:`/`replace:` parts, each ended by a `-` line — the last `-`
//!   may be omitted), `modrdn`/`moddn` with `newrdn`, `deleteoldrdn: 0|1` (required) and an
//!   optional `newsuperior`, in that order;
//! * a content record with a `dn` line only (as `ldapsearch` prints an entry whose
//!   attributes were not requested) is an entry without attributes.
//!
//! What is refused, with an error:
//!
//! * URL values (`attr:< file:///etc/shadow`): reading local files named by untrusted input
//!   would disclose them. Inline the value as `attr:: base64` instead;
//! * controls (`control: 1.2.840...`) and `increment:` modifications (RFC 4525): the
//!   directory layer cannot carry them;
//! * content records and change records mixed in one file (RFC 2849 has a file be one or the
//!   other), and a `changetype` line anywhere but right after the `dn` line;
//! * a record larger than the reader's limit ([`DEFAULT_MAX_RECORD_SIZE`], adjustable with
//!   [`LdifReader::max_record_size`]).
//!
//! Every parse error is an [`Error`] with [`ErrorCode::ValidationFailed`] (or
//! [`ErrorCode::PayloadTooLarge`] for an oversized record), a message naming the problem,
//! and the details `line` (1-based number of the line where the faulty line — or, for a
//! problem of the whole record, the record — starts) and `reason` (a short `snake_case` word
//! such as `bad_base64`, `missing_dn`, `invalid_dn`, `url_not_supported`). Values are never
//! echoed in errors (they may be passwords). Hostile input never panics.
//!
//! # Writing
//!
//! [`write_entry`] and [`write_record`] write one record into any [`fmt::Write`]
//! (a `String`...); [`to_string`] and [`records_to_string`] write a whole file;
//! [`LdifWriter`] streams records into an [`io::Write`](std::io::Write). The output:
//!
//! * starts with `version: 1` (whole files only), each record is followed by an empty line;
//! * has the `dn` line first, then `objectClass`, then the other attributes in the entry's
//!   order;
//! * base64-encodes a value (or DN, or RDN) exactly when it is not an RFC 2849 SAFE-STRING:
//!   when it starts with a space, `:` or `<`, ends with a space, or contains a NUL, CR, LF
//!   or any non-ASCII byte (so UTF-8 text and binary values are base64, and the output is
//!   pure ASCII);
//! * folds lines longer than [`LINE_WIDTH`] (76) columns.
//!
//! Writing refuses (with a `VALIDATION_FAILED` error) what could not be read back as
//! written: an attribute name that is not a valid attribute description, an entry attribute
//! named `dn`, `changetype` or `control`, an add record without attributes, an `add`
//! modification without values, and content records mixed with change records in one file.
//! Everything the writer accepts parses back into the same records.

mod parse;
mod write;

#[cfg(test)]
mod tests;

use std::fmt;

pub use self::parse::{parse, parse_entries, LdifReader, DEFAULT_MAX_RECORD_SIZE};
pub use self::write::{records_to_string, to_string, write_entry, write_record, LdifWriter};
use crate::directory::{Entry, Modification};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode};

/// The longest line [`write_entry`] and friends produce, in columns (bytes: the output is
/// ASCII); longer lines are folded.
pub const LINE_WIDTH: usize = 76;

/// One LDIF record: an entry of a content file, or one change of a change file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LdifRecord {
    /// An entry of a content file (no `changetype`).
    Content(Entry),
    /// `changetype: add`: the entry to add (it has at least one attribute).
    Add(Entry),
    /// `changetype: modify`: the changes to apply, in order.
    Modify {
        /// The entry to modify.
        dn: Dn,
        /// The changes (possibly none).
        changes: Vec<Modification>,
    },
    /// `changetype: delete`.
    Delete {
        /// The entry to delete.
        dn: Dn,
    },
    /// `changetype: modrdn` (or its synonym `moddn`): rename and/or move an entry.
    ModRdn {
        /// The entry to rename.
        dn: Dn,
        /// Its new RDN.
        new_rdn: Rdn,
        /// Whether the values of the old RDN are removed from the entry.
        delete_old_rdn: bool,
        /// The new parent, if the entry moves.
        new_superior: Option<Dn>,
    },
}

impl LdifRecord {
    /// The DN the record is about.
    pub fn dn(&self) -> &Dn {
        match self {
            LdifRecord::Content(entry) | LdifRecord::Add(entry) => &entry.dn,
            LdifRecord::Modify { dn, .. }
            | LdifRecord::Delete { dn }
            | LdifRecord::ModRdn { dn, .. } => dn,
        }
    }

    /// Whether this is a change record (anything but [`LdifRecord::Content`]).
    pub fn is_change(&self) -> bool {
        !matches!(self, LdifRecord::Content(_))
    }

    fn kind(&self) -> Kind {
        if self.is_change() {
            Kind::Change
        } else {
            Kind::Content
        }
    }
}

/// The kind of an LDIF file, fixed by its first record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Content,
    Change,
}

/// A parse error at `line`.
fn syntax_error(line: usize, reason: &'static str, message: impl fmt::Display) -> Error {
    Error::new(
        ErrorCode::ValidationFailed,
        format!("invalid LDIF at line {line}: {message}"),
    )
    .with_detail("line", line)
    .with_detail("reason", reason)
}

/// Whether `name` is an attribute description (RFC 4512 §2.5): a `keystring` (a letter,
/// then letters, digits and hyphens) or a numeric OID, followed by `;option`s (letters,
/// digits and hyphens). At most 1024 bytes.
fn is_attribute_description(name: &[u8]) -> bool {
    let keychar = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-';
    let mut parts = name.split(|&b| b == b';');
    let base = parts.next().unwrap_or_default();
    let keystring = base.first().is_some_and(u8::is_ascii_alphabetic) && base.iter().all(keychar);
    let numericoid = base.contains(&b'.')
        && base.split(|&b| b == b'.').all(|arc| {
            !arc.is_empty()
                && arc.iter().all(u8::is_ascii_digit)
                && (arc.len() == 1 || arc.first() != Some(&b'0'))
        });
    name.len() <= 1024
        && (keystring || numericoid)
        && parts.all(|opt| !opt.is_empty() && opt.iter().all(keychar))
}

/// A name for messages: at most 64 bytes, debug-escaped.
fn shown(name: &[u8]) -> String {
    let cut = name.len().min(64);
    let head = String::from_utf8_lossy(name.get(..cut).unwrap_or_default());
    if cut < name.len() {
        format!("{head:?}…")
    } else {
        format!("{head:?}")
    }
}
