//! DN values for the schema layer: splitting with the project's RFC 4514 parser
//! ([`crate::dn::Dn::parse`]) into (attribute type, value) pairs, which the schema then
//! validates and normalises attribute by attribute, and escaping for the canonical form.
//!
//! `Dn::parse` accepts what slapd accepts for DN-syntax values with two exceptions, both
//! rare in practice: slapd also accepts RFC 1779 quoted values (`cn="a,b"`), and slapd
//! refuses some BER hex values that `Dn::parse` decodes (`cn=#04024869`, an OCTET STRING).

use std::fmt::Write as _;

use crate::dn::Dn;

/// One attribute-value assertion of an RDN: the type as written and the value, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ava {
    pub attr: String,
    pub value: Vec<u8>,
}

/// Splits `dn` into RDNs (leftmost first), each a list of AVAs; the empty string is the
/// root DN (no RDN). `None` if [`Dn::parse`] refuses it.
pub(crate) fn split_dn(dn: &str) -> Option<Vec<Vec<Ava>>> {
    let dn = Dn::parse(dn).ok()?;
    Some(
        dn.rdns()
            .iter()
            .map(|rdn| {
                rdn.avas()
                    .iter()
                    .map(|ava| Ava {
                        attr: ava.attr().to_owned(),
                        value: ava.value().as_bytes().to_vec(),
                    })
                    .collect()
            })
            .collect(),
    )
}

/// Escapes a (normalised) value for the canonical string form of a DN: RFC 4514 special
/// characters, a leading `#` or space, a trailing space, and every byte that is not
/// printable ASCII or part of valid UTF-8, so distinct values stay distinct.
pub(crate) fn escape_value(value: &[u8], out: &mut String) {
    let text = String::from_utf8_lossy(value);
    let valid = matches!(text, std::borrow::Cow::Borrowed(_));
    if !valid {
        for b in value {
            let _ = write!(out, "\\{b:02x}");
        }
        return;
    }
    let n = text.chars().count();
    for (i, c) in text.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i + 1 == n => out.push_str("\\ "),
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\{b:02x}");
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(dn: &str) -> Option<Vec<Vec<(String, String)>>> {
        split_dn(dn).map(|rdns| {
            rdns.into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(|a| (a.attr, String::from_utf8_lossy(&a.value).into_owned()))
                        .collect()
                })
                .collect()
        })
    }

    #[test]
    fn splits_and_unescapes() {
        assert_eq!(s("").unwrap().len(), 0);
        let r = s("uid=jdoe,ou=people ,  dc=example;dc=com").unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(r[1][0], ("ou".into(), "people".into()));
        assert_eq!(r[3][0], ("dc".into(), "com".into()));
        let r = s("cn=a\\2cb\\,c\\ +uid=x,2.5.4.3=y").unwrap();
        assert_eq!(r[0][0].1, "a,b,c ");
        assert_eq!(r[0][1], ("uid".into(), "x".into()));
        assert_eq!(r[1][0].0, "2.5.4.3");
        assert_eq!(s("cn=\\ x").unwrap()[0][0].1, " x");
        assert_eq!(s("cn=a=b").unwrap()[0][0].1, "a=b");
    }

    #[test]
    fn rejects() {
        for bad in [
            " x",
            "cn",
            "=x",
            "cn=",
            "dc=a+dc=",
            "cn=x,,dc=e",
            "cn=x,",
            "cn=a\"b",
            "cn=a\\zz",
            "c n=x",
            "1cn=x",
            "cn=a<b",
            "cn=a\\",
        ] {
            assert!(split_dn(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn escaping() {
        let mut out = String::new();
        escape_value(b" a,b+c#\x01 ", &mut out);
        assert_eq!(out, "\\ a\\,b\\+c#\\01\\ ");
        let mut out = String::new();
        escape_value(b"#x", &mut out);
        assert_eq!(out, "\\#x");
        let mut out = String::new();
        escape_value(&[0xff, 0x41], &mut out);
        assert_eq!(out, "\\ff\\41");
    }
}
