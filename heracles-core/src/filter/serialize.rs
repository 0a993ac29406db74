//! The RFC 4515 string form of a [`Filter`] (`Display`), and serde as that string.

use std::fmt::{self, Write as _};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::attr::{is_attribute_description, is_matching_rule};
use super::Filter;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `\xx` (lower-case hex) for one byte.
fn write_escaped_byte(f: &mut fmt::Formatter<'_>, b: u8) -> fmt::Result {
    f.write_char('\\')?;
    f.write_char(char::from(HEX[usize::from(b >> 4)]))?;
    f.write_char(char::from(HEX[usize::from(b & 0x0f)]))
}

/// Whether a character of a value must be written as `\xx` escapes: the five characters
/// RFC 4515 requires (`*`, `(`, `)`, `\`, NUL), and, for readable logs, the other control
/// characters (C0, DEL, C1).
fn must_escape(c: char) -> bool {
    matches!(c, '*' | '(' | ')' | '\\') || c.is_control()
}

/// Writes an assertion value: printable UTF-8 as is; the special characters, control
/// characters and every byte that is not part of valid UTF-8 as `\xx`.
fn write_value(f: &mut fmt::Formatter<'_>, value: &[u8]) -> fmt::Result {
    for chunk in value.utf8_chunks() {
        let valid = chunk.valid();
        let mut start = 0;
        for (at, c) in valid.char_indices() {
            if must_escape(c) {
                f.write_str(valid.get(start..at).unwrap_or_default())?;
                let mut buf = [0u8; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    write_escaped_byte(f, b)?;
                }
                start = at + c.len_utf8();
            }
        }
        f.write_str(valid.get(start..).unwrap_or_default())?;
        for &b in chunk.invalid() {
            write_escaped_byte(f, b)?;
        }
    }
    Ok(())
}

/// Writes an attribute description or a matching rule. A valid one is written as is. An
/// invalid one (possible only for ASTs built in code) is written as `\` followed by the hex of
/// its bytes: no RFC 4515 parser accepts a backslash there, so the filter is rejected (fails
/// closed) instead of taking a shape chosen by whoever picked the name.
fn write_name(f: &mut fmt::Formatter<'_>, name: &str, valid: bool) -> fmt::Result {
    if valid {
        return f.write_str(name);
    }
    f.write_char('\\')?;
    for &b in name.as_bytes() {
        f.write_char(char::from(HEX[usize::from(b >> 4)]))?;
        f.write_char(char::from(HEX[usize::from(b & 0x0f)]))?;
    }
    Ok(())
}

fn write_attr(f: &mut fmt::Formatter<'_>, attr: &str) -> fmt::Result {
    write_name(f, attr, is_attribute_description(attr))
}

fn write_simple(f: &mut fmt::Formatter<'_>, attr: &str, op: &str, value: &[u8]) -> fmt::Result {
    f.write_char('(')?;
    write_attr(f, attr)?;
    f.write_str(op)?;
    write_value(f, value)?;
    f.write_char(')')
}

fn write_list(f: &mut fmt::Formatter<'_>, op: char, list: &[Filter]) -> fmt::Result {
    f.write_char('(')?;
    f.write_char(op)?;
    for item in list {
        fmt::Display::fmt(item, f)?;
    }
    f.write_char(')')
}

/// The RFC 4515 string form.
///
/// Values are escaped: `*`, `(`, `)`, `\` and NUL as `\2a \28 \29 \5c \00`, control
/// characters and bytes that are not valid UTF-8 as `\xx` too; the rest of the UTF-8 text is
/// written as is. So no value can change the filter's shape. Empty components of a substring
/// filter are left out (a substring filter without components is written `(attr=*)`).
///
/// An attribute description or matching rule that is not valid (see [`Filter::validate`]) is
/// written as `\` plus the hex of its bytes, which every RFC 4515 parser rejects: an invalid
/// AST fails closed.
///
/// ```
/// use heracles_core::filter::Filter;
///
/// assert_eq!(Filter::eq("uid", "*)(uid=*").to_string(), r"(uid=\2a\29\28uid=\2a)");
/// assert_eq!(Filter::eq("bin", [0, 0xff, b'a']).to_string(), r"(bin=\00\ffa)");
/// assert_eq!(Filter::eq("sn", "Lučić").to_string(), "(sn=Lučić)");
/// assert_eq!(Filter::present("uid=*)(x").to_string(), r"(\7569643d2a292878=*)");
/// ```
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::And(list) => write_list(f, '&', list),
            Filter::Or(list) => write_list(f, '|', list),
            Filter::Not(inner) => {
                f.write_str("(!")?;
                fmt::Display::fmt(inner, f)?;
                f.write_char(')')
            }
            Filter::Equality { attr, value } => write_simple(f, attr, "=", value),
            Filter::GreaterOrEqual { attr, value } => write_simple(f, attr, ">=", value),
            Filter::LessOrEqual { attr, value } => write_simple(f, attr, "<=", value),
            Filter::Approx { attr, value } => write_simple(f, attr, "~=", value),
            Filter::Present { attr } => {
                f.write_char('(')?;
                write_attr(f, attr)?;
                f.write_str("=*)")
            }
            Filter::Substrings {
                attr,
                initial,
                any,
                final_,
            } => {
                f.write_char('(')?;
                write_attr(f, attr)?;
                f.write_char('=')?;
                if let Some(initial) = initial {
                    write_value(f, initial)?;
                }
                f.write_char('*')?;
                for part in any.iter().filter(|p| !p.is_empty()) {
                    write_value(f, part)?;
                    f.write_char('*')?;
                }
                if let Some(final_) = final_ {
                    write_value(f, final_)?;
                }
                f.write_char(')')
            }
            Filter::Extensible {
                attr,
                rule,
                dn_attributes,
                value,
            } => {
                f.write_char('(')?;
                if let Some(attr) = attr {
                    // An empty attribute would vanish and leave a valid `(:rule:=v)`.
                    write_name(f, attr, is_attribute_description(attr))?;
                }
                if *dn_attributes {
                    f.write_str(":dn")?;
                }
                if let Some(rule) = rule {
                    f.write_char(':')?;
                    write_name(f, rule, is_matching_rule(rule))?;
                }
                f.write_str(":=")?;
                write_value(f, value)?;
                f.write_char(')')
            }
        }
    }
}

/// Serialised as its RFC 4515 string.
impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Deserialised from an RFC 4515 string, with [`Filter::parse`].
impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Filter::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_specials_and_non_utf8() {
        let f = Filter::eq("cn", b"a*b(c)d\\e\0f\xff\xc4g\x7f\n\xc2\x85h");
        assert_eq!(
            f.to_string(),
            r"(cn=a\2ab\28c\29d\5ce\00f\ff\c4g\7f\0a\c2\85h)"
        );
    }

    #[test]
    fn injection_is_escaped() {
        assert_eq!(
            Filter::eq("uid", "*)(uid=*").to_string(),
            r"(uid=\2a\29\28uid=\2a)"
        );
        assert_eq!(
            Filter::contains("cn", "*)(|(cn=*").to_string(),
            r"(cn=*\2a\29\28|\28cn=\2a*)"
        );
    }

    #[test]
    fn every_kind() {
        let cases: [(Filter, &str); 12] = [
            (Filter::eq("cn", "Babs Jensen"), "(cn=Babs Jensen)"),
            (Filter::present("objectClass"), "(objectClass=*)"),
            (Filter::ge("uidNumber", "1000"), "(uidNumber>=1000)"),
            (Filter::le("uidNumber", "2000"), "(uidNumber<=2000)"),
            (Filter::approx("sn", "Jensn"), "(sn~=Jensn)"),
            (Filter::starts_with("cn", "Ba"), "(cn=Ba*)"),
            (Filter::ends_with("cn", "en"), "(cn=*en)"),
            (Filter::contains("cn", "bs"), "(cn=*bs*)"),
            (
                Filter::substrings(
                    "cn",
                    Some(b"a".to_vec()),
                    vec![b"b".to_vec(), b"c".to_vec()],
                    Some(b"d".to_vec()),
                ),
                "(cn=a*b*c*d)",
            ),
            (
                Filter::extensible(Some("o"), None, true, "Ace Industry"),
                "(o:dn:=Ace Industry)",
            ),
            (Filter::and([]), "(&)"),
            (Filter::not(Filter::or([])), "(!(|))"),
        ];
        for (f, s) in cases {
            assert_eq!(f.to_string(), s);
        }
    }

    #[test]
    fn invalid_names_fail_closed() {
        assert_eq!(Filter::eq("", "x").to_string(), r"(\=x)");
        assert_eq!(
            Filter::extensible(Some(""), Some("caseExactMatch"), false, "x").to_string(),
            r"(\:caseExactMatch:=x)"
        );
        assert_eq!(
            Filter::extensible(Some("cn"), Some("dn"), false, "x").to_string(),
            r"(cn:\646e:=x)"
        );
        for f in [
            Filter::eq("", "x"),
            Filter::present("a)(b"),
            Filter::extensible(Some(""), Some("caseExactMatch"), false, "x"),
            Filter::extensible(Some("cn"), Some("dn"), false, "x"),
            Filter::extensible(None, None, false, "x"),
            Filter::extensible(None, None, true, "x"),
        ] {
            assert!(Filter::parse(&f.to_string()).is_err(), "{f}");
            assert!(ldap3::parse_filter(f.to_string()).is_err(), "{f}");
        }
    }

    #[test]
    fn serde_as_string() {
        let f = Filter::and([Filter::eq("uid", "a*"), Filter::present("mail")]);
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#""(&(uid=a\\2a)(mail=*))""#);
        let back: Filter = serde_json::from_str(&json).unwrap();
        assert_eq!(back, f);
        assert!(serde_json::from_str::<Filter>(r#""(uid=""#).is_err());
    }
}
