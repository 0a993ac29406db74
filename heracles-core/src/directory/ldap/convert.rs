//! Conversions between ldap3's types and Heracles' — errors and search entries — written
//! so that nothing a server sends can make Heracles panic.

use ldap3::asn1::{StructureTag, PL};
use ldap3::{LdapError, ResultEntry};

use crate::directory::Entry;
use crate::dn::Dn;
use crate::error::{Error, ErrorCode, LdapOperation, Result};

/// What a failed operation says about the connection it ran on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ConnState {
    /// The server answered; the connection is fine.
    Healthy,
    /// The request never left: safe to retry any operation elsewhere.
    NotSent,
    /// The connection is unusable; the request may or may not have been applied.
    Broken,
}

/// Translates an ldap3 error; LDAP result codes go through [`Error::from_ldap`].
pub(super) fn map_error(op: LdapOperation, dn: &str, err: LdapError) -> (Error, ConnState) {
    match err {
        LdapError::LdapResult { result } => (
            Error::from_ldap(op, result.rc, dn, &result.text),
            ConnState::Healthy,
        ),
        LdapError::Timeout { .. } => (
            Error::new(
                ErrorCode::Timeout,
                format!("the directory did not answer the {} in time", op.as_str()),
            )
            .with_detail("operation", op.as_str()),
            ConnState::Broken,
        ),
        LdapError::OpSend { .. } => (
            Error::unavailable("the connection to the directory is closed"),
            ConnState::NotSent,
        ),
        LdapError::FilterParsing => (
            Error::new(ErrorCode::InvalidFilter, "the filter could not be encoded"),
            ConnState::Healthy,
        ),
        LdapError::AddNoValues => (
            Error::new(
                ErrorCode::ValidationFailed,
                "an attribute to add has no values",
            ),
            ConnState::Healthy,
        ),
        LdapError::UrlParsing { .. }
        | LdapError::UnknownScheme(_)
        | LdapError::EmptyUnixPath
        | LdapError::PortInUnixPath => (
            Error::new(
                ErrorCode::InvalidConfig,
                format!("invalid directory URL: {err}"),
            ),
            ConnState::NotSent,
        ),
        LdapError::Io { source } => match certificate_error(&source) {
            Some(refused) => (
                Error::new(
                    ErrorCode::DirectoryUnavailable,
                    format!(
                        "the directory's TLS certificate was refused ({refused}): it must be \
                         signed by a CA in ca_file (the PEM file of the CA that signed the LDAP \
                         server's certificate) or, without ca_file, by a CA the system trusts, \
                         and name the host of the URL"
                    ),
                )
                .with_detail("tls_error", refused.to_string()),
                ConnState::Broken,
            ),
            None => (
                Error::unavailable(LdapError::Io { source }),
                ConnState::Broken,
            ),
        },
        other => (Error::unavailable(other), ConnState::Broken),
    }
}

/// The certificate verification failure inside an I/O error of a TLS connection, if that
/// is what it is (rustls reports it as the error's inner value).
fn certificate_error(e: &std::io::Error) -> Option<&rustls::CertificateError> {
    match e.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::InvalidCertificate(c) => Some(c),
        _ => None,
    }
}

fn octets(tag: StructureTag) -> Option<Vec<u8>> {
    match tag.payload {
        PL::P(bytes) => Some(bytes),
        PL::C(_) => None,
    }
}

fn children(tag: StructureTag) -> Option<Vec<StructureTag>> {
    match tag.payload {
        PL::C(items) => Some(items),
        PL::P(_) => None,
    }
}

/// Converts a search result entry (`SearchResultEntry ::= [APPLICATION 4] SEQUENCE {
/// objectName LDAPDN, attributes PartialAttributeList }`) into an [`Entry`]; a malformed
/// one is an error, never a panic.
pub(super) fn entry_from_result(re: ResultEntry) -> Result<Entry> {
    let malformed = |what: &str| {
        Error::new(
            ErrorCode::DirectoryError,
            format!("the directory sent a malformed search entry ({what})"),
        )
    };
    let tag = re.0;
    if tag.id != 4 {
        return Err(malformed("unexpected tag"));
    }
    let mut parts = children(tag)
        .ok_or_else(|| malformed("not constructed"))?
        .into_iter();
    let dn_bytes = parts
        .next()
        .and_then(octets)
        .ok_or_else(|| malformed("no DN"))?;
    let dn_text = String::from_utf8(dn_bytes).map_err(|_| malformed("DN is not UTF-8"))?;
    let dn = Dn::parse(&dn_text)?;
    let mut entry = Entry::new(dn);
    let attrs = parts
        .next()
        .and_then(children)
        .ok_or_else(|| malformed("no attribute list"))?;
    for attr in attrs {
        let mut pa = children(attr)
            .ok_or_else(|| malformed("attribute not constructed"))?
            .into_iter();
        let name = pa
            .next()
            .and_then(octets)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| malformed("attribute name"))?;
        let vals = pa
            .next()
            .and_then(children)
            .ok_or_else(|| malformed("attribute values"))?;
        if vals.is_empty() {
            // typesOnly answers, or "1.1": keep the attribute name with no values out.
            continue;
        }
        let values = vals
            .into_iter()
            .map(|v| octets(v).ok_or_else(|| malformed("attribute value")))
            .collect::<Result<Vec<_>>>()?;
        entry.attrs.push_values(name, values);
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap3::asn1::{ASNTag, OctetString, Sequence, Set, Tag, TagClass};

    #[test]
    fn refused_certificates_say_so_other_io_errors_stay_generic() {
        let refused = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let (e, state) = map_error(LdapOperation::Connect, "", LdapError::from(refused));
        assert_eq!(e.code(), ErrorCode::DirectoryUnavailable);
        assert_eq!(state, ConnState::Broken);
        assert!(e.message().contains("TLS certificate was refused"), "{e}");
        assert!(e.message().contains("ca_file"), "{e}");
        assert_eq!(e.details()["tls_error"], "UnknownIssuer");
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let (e, _) = map_error(LdapOperation::Connect, "", LdapError::from(reset));
        assert_eq!(e.code(), ErrorCode::DirectoryUnavailable);
        assert!(!e.message().contains("certificate"), "{e}");
    }

    fn os(b: &[u8]) -> Tag {
        Tag::OctetString(OctetString {
            inner: b.to_vec(),
            ..Default::default()
        })
    }

    fn entry_tag(dn: &[u8], attrs: Vec<(&[u8], Vec<&[u8]>)>) -> StructureTag {
        let list = attrs
            .into_iter()
            .map(|(n, vs)| {
                Tag::Sequence(Sequence {
                    inner: vec![
                        os(n),
                        Tag::Set(Set {
                            inner: vs.into_iter().map(os).collect(),
                            ..Default::default()
                        }),
                    ],
                    ..Default::default()
                })
            })
            .collect();
        Tag::Sequence(Sequence {
            id: 4,
            class: TagClass::Application,
            inner: vec![
                os(dn),
                Tag::Sequence(Sequence {
                    inner: list,
                    ..Default::default()
                }),
            ],
        })
        .into_structure()
    }

    #[test]
    fn parses_entries_with_binary_values() {
        let tag = entry_tag(
            b"uid=jdoe,ou=people,dc=example,dc=com",
            vec![
                (b"uid", vec![b"jdoe"]),
                (b"jpegPhoto", vec![&[0xff, 0x00, 0xfe]]),
                (b"empty", vec![]),
            ],
        );
        let e = entry_from_result(ResultEntry::new(tag)).unwrap();
        assert_eq!(e.first_str("UID"), Some("jdoe"));
        assert_eq!(e.get("jpegphoto"), &[vec![0xff, 0x00, 0xfe]]);
        assert!(!e.attrs.contains("empty"));
    }

    #[test]
    fn malformed_entries_are_errors() {
        let bad_dn = entry_tag(&[0xff, 0xfe], vec![]);
        assert_eq!(
            entry_from_result(ResultEntry::new(bad_dn))
                .unwrap_err()
                .code(),
            ErrorCode::DirectoryError
        );
        let wrong = os(b"x").into_structure();
        assert!(entry_from_result(ResultEntry::new(wrong)).is_err());
    }

    #[test]
    fn result_codes_keep_the_connection() {
        let res = ldap3::LdapResult {
            rc: 68,
            matched: String::new(),
            text: String::new(),
            refs: vec![],
            ctrls: vec![],
        };
        let (e, state) = map_error(LdapOperation::Add, "cn=x", LdapError::from(res));
        assert_eq!(e.code(), ErrorCode::AlreadyExists);
        assert_eq!(state, ConnState::Healthy);
        let (e, state) = map_error(LdapOperation::Search, "", LdapError::EndOfStream);
        assert_eq!(e.code(), ErrorCode::DirectoryUnavailable);
        assert_eq!(state, ConnState::Broken);
    }
}
