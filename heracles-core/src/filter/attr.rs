//! Attribute descriptions and OIDs (RFC 4512 §1.4 and §2.5), shared by the RFC 4515 parser,
//! the validation of ASTs built in code, and the allow-lists of the query syntax.
//!
//! ```text
//! attributedescription = attributetype options
//! attributetype        = oid
//! options              = *( SEMI option )
//! option               = 1*keychar
//! oid                  = descr / numericoid
//! descr                = keystring            ; leadkeychar *keychar, leadkeychar = ALPHA
//! numericoid           = number 1*( DOT number )
//! number               = DIGIT / ( LDIGIT 1*DIGIT )
//! ```
//!
//! A bare `number` (`(0=x)`) is accepted as an OID too, as slapd and ldap3 do.

use nom::branch::alt;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::{char, digit1, satisfy};
use nom::combinator::{recognize, verify};
use nom::error::ParseError;
use nom::multi::many0_count;
use nom::{IResult, Parser};

/// `keychar = ALPHA / DIGIT / HYPHEN`.
fn is_keychar(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// `keystring = leadkeychar *keychar`.
fn keystring<'a, E: ParseError<&'a str>>(i: &'a str) -> IResult<&'a str, &'a str, E> {
    recognize((satisfy(|c| c.is_ascii_alphabetic()), take_while(is_keychar))).parse(i)
}

/// `number = DIGIT / ( LDIGIT 1*DIGIT )`: no superfluous leading zero.
fn number<'a, E: ParseError<&'a str>>(i: &'a str) -> IResult<&'a str, &'a str, E> {
    verify(digit1, |d: &str| d.len() == 1 || !d.starts_with('0')).parse(i)
}

/// `numericoid = number *( DOT number )`.
fn numericoid<'a, E: ParseError<&'a str>>(i: &'a str) -> IResult<&'a str, &'a str, E> {
    recognize((number, many0_count((char('.'), number)))).parse(i)
}

/// `oid = descr / numericoid`: an attribute type or a matching rule.
pub(super) fn oid<'a, E: ParseError<&'a str>>(i: &'a str) -> IResult<&'a str, &'a str, E> {
    alt((keystring, numericoid)).parse(i)
}

/// `attributedescription = oid *( ";" 1*keychar )`.
pub(super) fn attribute_description<'a, E: ParseError<&'a str>>(
    i: &'a str,
) -> IResult<&'a str, &'a str, E> {
    recognize((oid, many0_count((char(';'), take_while1(is_keychar))))).parse(i)
}

/// Whether `s` is a valid attribute description (RFC 4512 §2.5): a descriptor such as `cn`
/// or a numeric OID such as `2.5.4.3`, optionally followed by `;options` (`cn;lang-de`).
///
/// ```
/// use heracles_core::filter::is_attribute_description;
///
/// assert!(is_attribute_description("userCertificate;binary"));
/// assert!(is_attribute_description("2.5.4.3"));
/// assert!(!is_attribute_description("uid=*)(uid"));
/// assert!(!is_attribute_description("2.05.4")); // leading zero
/// assert!(!is_attribute_description(""));
/// ```
pub fn is_attribute_description(s: &str) -> bool {
    matches!(attribute_description::<()>(s), Ok(("", _)))
}

/// Whether `s` is a valid OID (RFC 4512 §1.4): a descriptor (`caseExactMatch`) or a numeric
/// OID (`2.5.13.5`). Matching rules of extensible matches must be OIDs.
///
/// ```
/// use heracles_core::filter::is_oid;
///
/// assert!(is_oid("caseExactMatch"));
/// assert!(is_oid("2.5.13.5"));
/// assert!(!is_oid("cn;lang-de"));
/// ```
pub fn is_oid(s: &str) -> bool {
    matches!(oid::<()>(s), Ok(("", _)))
}

/// Whether `s` may name the matching rule of an extensible match. Everything [`is_oid`]
/// accepts except `dn` (in any case): `(cn:dn:=x)` always means "DN attributes, no rule", so a
/// rule named `dn` could not be written unambiguously.
pub(super) fn is_matching_rule(s: &str) -> bool {
    is_oid(s) && !s.eq_ignore_ascii_case("dn")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions() {
        for ok in [
            "cn",
            "CN",
            "objectClass",
            "x-custom-attr",
            "a1",
            "2.5.4.3",
            "0",
            "0.9.2342.19200300.100.1.1",
            "cn;lang-de",
            "userCertificate;binary;x-1",
            "1.2;3",
        ] {
            assert!(is_attribute_description(ok), "{ok}");
        }
        for bad in [
            "", "1cn", "-cn", "c_n", "cn;", "cn;;x", "cn;a_b", "2.5.", "2..5", "02.5", "2.5.04",
            ".2", "cn ", " cn", "cn=x", "cn*", "ç", "cn\0",
        ] {
            assert!(!is_attribute_description(bad), "{bad:?}");
        }
    }

    #[test]
    fn oids_and_rules() {
        assert!(is_oid("caseExactMatch"));
        assert!(is_oid("2.4.6.8.10"));
        assert!(!is_oid("cn;x"));
        assert!(!is_oid(""));
        assert!(is_matching_rule("dnQualifierMatch"));
        assert!(!is_matching_rule("dn"));
        assert!(!is_matching_rule("DN"));
    }
}
