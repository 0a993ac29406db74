//! The RFC 4515 parser (string form to [`Filter`]).
//!
//! A recursive-descent parser over nom 8 primitives. It dispatches on one character of
//! lookahead, so it never backtracks, and every error is final (`nom::Err::Failure`) and
//! carries the place and the reason. The input length is checked first and the nesting depth
//! before each level of recursion, so hostile inputs end in an error, quickly.

use std::fmt;
use std::str::FromStr;

use nom::bytes::complete::{take_till, take_while_m_n};
use nom::character::complete::char;
use nom::error::{ErrorKind, ParseError};
use nom::sequence::preceded;
use nom::{IResult, Parser};

use crate::error::{Error, ErrorCode, Result};

use super::attr::{attribute_description, oid};
use super::{Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN};

/// Why a filter string was rejected (the `reason` detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reason {
    Syntax,
    Empty,
    TooLong,
    TooDeep,
    ExpectedOpen,
    ExpectedClose,
    ExpectedListItem,
    Unclosed,
    ExpectedFilterAfterNot,
    ExpectedAttr,
    ExpectedOperator,
    ExpectedRule,
    RuleNamedDn,
    ExpectedExtensibleEquals,
    MissingRule,
    BadEscape,
    Nul,
    UnescapedOpen,
    Asterisk,
    EmptySubstring,
    Trailing,
    TrailingClose,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Syntax => f.write_str("syntax error"),
            Reason::Empty => f.write_str("the filter is empty"),
            Reason::TooLong => write!(f, "the filter is longer than {MAX_FILTER_LEN} bytes"),
            Reason::TooDeep => write!(
                f,
                "the filter is nested deeper than {MAX_FILTER_DEPTH} levels"
            ),
            Reason::ExpectedOpen => f.write_str("expected '('"),
            Reason::ExpectedClose => f.write_str("expected ')'"),
            Reason::ExpectedListItem => {
                f.write_str("expected '(' (another filter) or ')' (end of the list)")
            }
            Reason::Unclosed => f.write_str("missing ')': the filter ends inside parentheses"),
            Reason::ExpectedFilterAfterNot => f.write_str("expected '(' after '!'"),
            Reason::ExpectedAttr => f.write_str(
                "expected an attribute description (a name like 'cn' or an OID like '2.5.4.3'), \
                 '&', '|' or '!'",
            ),
            Reason::ExpectedOperator => {
                f.write_str("expected '=', '~=', '>=', '<=' or ':' after the attribute description")
            }
            Reason::ExpectedRule => {
                f.write_str("expected a matching rule (a name or a numeric OID) after ':'")
            }
            Reason::RuleNamedDn => f.write_str("'dn' cannot name a matching rule"),
            Reason::ExpectedExtensibleEquals => {
                f.write_str("expected ':=' in the extensible match")
            }
            Reason::MissingRule => {
                f.write_str("an extensible match without an attribute needs a matching rule")
            }
            Reason::BadEscape => {
                f.write_str("invalid escape: '\\' must be followed by two hex digits")
            }
            Reason::Nul => f.write_str("NUL character in a value: write it as \\00"),
            Reason::UnescapedOpen => f.write_str("unescaped '(' in a value: write it as \\28"),
            Reason::Asterisk => {
                f.write_str("unescaped '*' in a value that cannot have wildcards: write it as \\2a")
            }
            Reason::EmptySubstring => f.write_str("empty substring between two '*'"),
            Reason::Trailing => f.write_str("unexpected characters after the end of the filter"),
            Reason::TrailingClose => {
                f.write_str("unbalanced ')': more closing than opening parentheses")
            }
        }
    }
}

/// The parser's error: where (the remaining input) and why.
#[derive(Debug)]
struct PError<'a> {
    at: &'a str,
    reason: Reason,
}

impl<'a> ParseError<&'a str> for PError<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        PError {
            at: input,
            reason: Reason::Syntax,
        }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type PResult<'a, T> = IResult<&'a str, T, PError<'a>>;

fn fail<T>(at: &str, reason: Reason) -> PResult<'_, T> {
    Err(nom::Err::Failure(PError { at, reason }))
}

impl Filter {
    /// Parses the string form of RFC 4515, with the absolute true and false filters `(&)` and
    /// `(|)` of RFC 4526 (slapd accepts them). As ldapsearch does, a lone item may omit its
    /// parentheses: `uid=jdoe` is `(uid=jdoe)`.
    ///
    /// Strict where RFC 4515 is: no white space outside values, values escape `*`, `(`, `)`,
    /// `\` and NUL as `\xx` (two hex digits, any case; the decoded bytes need not be UTF-8),
    /// an extensible match `(attr:dn:rule:=value)` names an attribute or a rule. Two choices
    /// RFC 4515 leaves open: empty substring components (`(cn=a**b)`) are rejected, as slapd
    /// does, and `dn` (any case) after a colon is always the DN-attributes flag, never a rule.
    ///
    /// Errors are `INVALID_FILTER` with the details `position` (byte offset of the problem)
    /// and `reason`. Inputs over [`MAX_FILTER_LEN`] bytes or nested deeper than
    /// [`MAX_FILTER_DEPTH`] levels are rejected up front.
    ///
    /// ```
    /// use heracles_core::filter::Filter;
    ///
    /// let f = Filter::parse("(&(objectClass=person)(cn=J*n*e)(!(sn=\\2a)))")?;
    /// assert_eq!(
    ///     f,
    ///     Filter::and([
    ///         Filter::eq("objectClass", "person"),
    ///         Filter::substrings("cn", Some(b"J".to_vec()), vec![b"n".to_vec()], Some(b"e".to_vec())),
    ///         Filter::not(Filter::eq("sn", "*")),
    ///     ])
    /// );
    ///
    /// let err = Filter::parse("(&(uid=a)(cn=b)").unwrap_err();
    /// assert_eq!(err.code().as_str(), "INVALID_FILTER");
    /// assert_eq!(err.details()["position"], 15);
    /// # Ok::<(), heracles_core::Error>(())
    /// ```
    pub fn parse(s: &str) -> Result<Filter> {
        if s.len() > MAX_FILTER_LEN {
            return Err(error(MAX_FILTER_LEN, Reason::TooLong));
        }
        if s.is_empty() {
            return Err(error(0, Reason::Empty));
        }
        let parsed = if s.starts_with('(') {
            filter(s, 1)
        } else {
            item(s)
        };
        let offset = |rest: &str| s.len().saturating_sub(rest.len());
        match parsed {
            Ok(("", f)) => Ok(f),
            Ok((rest, _)) => {
                let reason = if rest.starts_with(')') {
                    Reason::TrailingClose
                } else {
                    Reason::Trailing
                };
                Err(error(offset(rest), reason))
            }
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(error(offset(e.at), e.reason)),
            Err(nom::Err::Incomplete(_)) => Err(error(s.len(), Reason::Syntax)),
        }
    }
}

impl FromStr for Filter {
    type Err = Error;

    /// Same as [`Filter::parse`].
    fn from_str(s: &str) -> Result<Filter> {
        Filter::parse(s)
    }
}

fn error(position: usize, reason: Reason) -> Error {
    let mut err = Error::new(
        ErrorCode::InvalidFilter,
        format!("invalid filter at byte {position}: {reason}"),
    )
    .with_detail("position", position)
    .with_detail("reason", reason.to_string());
    match reason {
        Reason::TooLong => err = err.with_detail("max_length", MAX_FILTER_LEN),
        Reason::TooDeep => err = err.with_detail("max_depth", MAX_FILTER_DEPTH),
        _ => {}
    }
    err
}

/// `filter = "(" filtercomp ")"`, at nesting level `depth` (the outermost is 1).
fn filter(i: &str, depth: usize) -> PResult<'_, Filter> {
    let Some(inner) = i.strip_prefix('(') else {
        return fail(i, Reason::ExpectedOpen);
    };
    if depth > MAX_FILTER_DEPTH {
        return fail(i, Reason::TooDeep);
    }
    let (rest, f, in_list) = if let Some(r) = inner.strip_prefix('&') {
        let (r, list) = filter_list(r, depth)?;
        (r, Filter::And(list), true)
    } else if let Some(r) = inner.strip_prefix('|') {
        let (r, list) = filter_list(r, depth)?;
        (r, Filter::Or(list), true)
    } else if let Some(r) = inner.strip_prefix('!') {
        if !r.starts_with('(') {
            return fail(r, Reason::ExpectedFilterAfterNot);
        }
        let (r, f) = filter(r, depth + 1)?;
        (r, Filter::not(f), false)
    } else {
        let (r, f) = item(inner)?;
        (r, f, false)
    };
    match rest.strip_prefix(')') {
        Some(r) => Ok((r, f)),
        None if rest.is_empty() => fail(rest, Reason::Unclosed),
        None if in_list => fail(rest, Reason::ExpectedListItem),
        None => fail(rest, Reason::ExpectedClose),
    }
}

/// `filterlist = *filter` (RFC 4526 allows the empty list).
fn filter_list(mut i: &str, depth: usize) -> PResult<'_, Vec<Filter>> {
    let mut list = Vec::new();
    while i.starts_with('(') {
        let (rest, f) = filter(i, depth + 1)?;
        list.push(f);
        i = rest;
    }
    Ok((i, list))
}

/// `item = simple / present / substring / extensible`.
fn item(i: &str) -> PResult<'_, Filter> {
    if i.starts_with(':') {
        return extensible(i, None);
    }
    let Ok((rest, attr)) = attribute_description::<PError>(i) else {
        return fail(i, Reason::ExpectedAttr);
    };
    if let Some(r) = rest.strip_prefix("~=") {
        let (r, value) = value(r, false)?;
        let attr = attr.to_owned();
        Ok((r, Filter::Approx { attr, value }))
    } else if let Some(r) = rest.strip_prefix(">=") {
        let (r, value) = value(r, false)?;
        let attr = attr.to_owned();
        Ok((r, Filter::GreaterOrEqual { attr, value }))
    } else if let Some(r) = rest.strip_prefix("<=") {
        let (r, value) = value(r, false)?;
        let attr = attr.to_owned();
        Ok((r, Filter::LessOrEqual { attr, value }))
    } else if let Some(r) = rest.strip_prefix('=') {
        equality_or_substrings(r, attr)
    } else if rest.starts_with(':') {
        extensible(rest, Some(attr))
    } else {
        fail(rest, Reason::ExpectedOperator)
    }
}

/// After `attr=`: equality, presence (`*`) or substrings (`a*b*c`).
fn equality_or_substrings<'a>(i: &'a str, attr: &str) -> PResult<'a, Filter> {
    let (mut rest, initial) = value(i, true)?;
    if !rest.starts_with('*') {
        let attr = attr.to_owned();
        return Ok((
            rest,
            Filter::Equality {
                attr,
                value: initial,
            },
        ));
    }
    let mut any = Vec::new();
    while let Some(after_star) = rest.strip_prefix('*') {
        let (r, part) = value(after_star, true)?;
        rest = r;
        if !rest.starts_with('*') {
            // `part` is the final component (possibly empty).
            let attr = attr.to_owned();
            if initial.is_empty() && any.is_empty() && part.is_empty() {
                return Ok((rest, Filter::Present { attr }));
            }
            let non_empty = |v: Vec<u8>| (!v.is_empty()).then_some(v);
            let f = Filter::Substrings {
                attr,
                initial: non_empty(initial),
                any,
                final_: non_empty(part),
            };
            return Ok((rest, f));
        }
        if part.is_empty() {
            return fail(rest, Reason::EmptySubstring);
        }
        any.push(part);
    }
    // Not reached: the loop only ends by returning.
    fail(rest, Reason::Syntax)
}

/// `extensible`, starting at the first ':' (after the attribute, if any):
/// `[":dn"] [":" rule] ":=" value`.
fn extensible<'a>(i: &'a str, attr: Option<&str>) -> PResult<'a, Filter> {
    let mut rest = i;
    let mut dn_attributes = false;
    if let Some(r) = strip_prefix_ignore_case(rest, ":dn") {
        if r.starts_with(':') {
            dn_attributes = true;
            rest = r;
        }
    }
    let rule = if let Some(r) = rest.strip_prefix(":=") {
        rest = r;
        None
    } else if let Some(r) = rest.strip_prefix(':') {
        let Ok((after_rule, rule)) = oid::<PError>(r) else {
            return fail(r, Reason::ExpectedRule);
        };
        let Some(after_equals) = after_rule.strip_prefix(":=") else {
            return fail(after_rule, Reason::ExpectedExtensibleEquals);
        };
        if rule.eq_ignore_ascii_case("dn") {
            return fail(r, Reason::RuleNamedDn);
        }
        rest = after_equals;
        Some(rule.to_owned())
    } else {
        return fail(rest, Reason::ExpectedExtensibleEquals);
    };
    if attr.is_none() && rule.is_none() {
        return fail(i, Reason::MissingRule);
    }
    let (rest, value) = value(rest, false)?;
    let f = Filter::Extensible {
        attr: attr.map(str::to_owned),
        rule,
        dn_attributes,
        value,
    };
    Ok((rest, f))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// `assertionvalue`: up to the next `)` (or `*` where wildcards may follow), decoding `\xx`.
fn value(mut i: &str, wildcards: bool) -> PResult<'_, Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let (rest, run) = take_till(|c| matches!(c, '(' | ')' | '*' | '\\' | '\0')).parse(i)?;
        out.extend_from_slice(run.as_bytes());
        match rest.as_bytes().first() {
            None | Some(b')') => return Ok((rest, out)),
            Some(b'*') if wildcards => return Ok((rest, out)),
            Some(b'*') => return fail(rest, Reason::Asterisk),
            Some(b'(') => return fail(rest, Reason::UnescapedOpen),
            Some(0) => return fail(rest, Reason::Nul),
            Some(_) => {
                let (r, byte) = escaped(rest)?;
                out.push(byte);
                i = r;
            }
        }
    }
}

/// `escaped = "\" HEX HEX`.
fn escaped(i: &str) -> PResult<'_, u8> {
    let Ok((rest, hex)) = preceded(
        char::<_, PError>('\\'),
        take_while_m_n(2, 2, |c: char| c.is_ascii_hexdigit()),
    )
    .parse(i) else {
        return fail(i, Reason::BadEscape);
    };
    match u8::from_str_radix(hex, 16) {
        Ok(b) => Ok((rest, b)),
        Err(_) => fail(i, Reason::BadEscape),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn ok(s: &str) -> Filter {
        match Filter::parse(s) {
            Ok(f) => f,
            Err(e) => panic!("{s:?}: {e} {:?}", e.details()),
        }
    }

    fn err(s: &str) -> (usize, String) {
        let e = Filter::parse(s).expect_err(s);
        assert_eq!(e.code(), ErrorCode::InvalidFilter, "{s:?}");
        let pos = e.details()["position"].as_u64().unwrap();
        let reason = e.details()["reason"].as_str().unwrap().to_owned();
        (usize::try_from(pos).unwrap(), reason)
    }

    fn roundtrip(s: &str) -> Filter {
        let f = ok(s);
        assert_eq!(ok(&f.to_string()), f, "{s:?} -> {f}");
        assert!(f.is_valid(), "{s:?}");
        f
    }

    #[test]
    fn rfc4515_section4_examples() {
        let examples = [
            "(cn=Babs Jensen)",
            "(!(cn=Tim Howes))",
            "(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))",
            "(o=univ*of*mich*)",
            "(seeAlso=)",
            "(cn:caseExactMatch:=Fred Flintstone)",
            "(cn:=Betty Rubble)",
            "(sn:dn:2.4.6.8.10:=Barney Rubble)",
            "(o:dn:=Ace Industry)",
            "(:1.2.3:=Wilma Flintstone)",
            "(:DN:2.4.6.8.10:=Dino)",
            "(o=Parens R Us \\28for all your parenthetical needs\\29)",
            "(cn=*\\2A*)",
            "(filename=C:\\5cMyFile)",
            "(bin=\\00\\00\\00\\04)",
            "(sn=Lu\\c4\\8di\\c4\\87)",
            "(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)",
        ];
        for s in examples {
            roundtrip(s);
            assert!(ldap3::parse_filter(ok(s).to_string()).is_ok(), "{s}");
        }
        assert_eq!(
            ok("(&(objectClass=Person)(|(sn=Jensen)(cn=Babs J*)))"),
            Filter::and([
                Filter::eq("objectClass", "Person"),
                Filter::or([
                    Filter::eq("sn", "Jensen"),
                    Filter::starts_with("cn", "Babs J")
                ]),
            ])
        );
        assert_eq!(
            ok("(o=univ*of*mich*)"),
            Filter::substrings(
                "o",
                Some(b"univ".to_vec()),
                vec![b"of".to_vec(), b"mich".to_vec()],
                None
            )
        );
        assert_eq!(ok("(seeAlso=)"), Filter::eq("seeAlso", ""));
        assert_eq!(
            ok("(cn:caseExactMatch:=Fred Flintstone)"),
            Filter::extensible(Some("cn"), Some("caseExactMatch"), false, "Fred Flintstone")
        );
        assert_eq!(
            ok("(cn:=Betty Rubble)"),
            Filter::extensible(Some("cn"), None, false, "Betty Rubble")
        );
        assert_eq!(
            ok("(sn:dn:2.4.6.8.10:=Barney Rubble)"),
            Filter::extensible(Some("sn"), Some("2.4.6.8.10"), true, "Barney Rubble")
        );
        assert_eq!(
            ok("(o:dn:=Ace Industry)"),
            Filter::extensible(Some("o"), None, true, "Ace Industry")
        );
        assert_eq!(
            ok("(:1.2.3:=Wilma Flintstone)"),
            Filter::extensible(None, Some("1.2.3"), false, "Wilma Flintstone")
        );
        assert_eq!(
            ok("(:DN:2.4.6.8.10:=Dino)"),
            Filter::extensible(None, Some("2.4.6.8.10"), true, "Dino")
        );
        assert_eq!(
            ok("(o=Parens R Us \\28for all your parenthetical needs\\29)"),
            Filter::eq("o", "Parens R Us (for all your parenthetical needs)")
        );
        assert_eq!(ok("(cn=*\\2A*)"), Filter::contains("cn", "*"));
        assert_eq!(ok("(cn=*\\2a*)"), Filter::contains("cn", "*"));
        assert_eq!(
            ok("(filename=C:\\5cMyFile)"),
            Filter::eq("filename", "C:\\MyFile")
        );
        assert_eq!(
            ok("(bin=\\00\\00\\00\\04)"),
            Filter::eq("bin", [0, 0, 0, 4])
        );
        assert_eq!(ok("(sn=Lu\\c4\\8di\\c4\\87)"), Filter::eq("sn", "Lučić"));
        assert_eq!(
            ok("(1.3.6.1.4.1.1466.0=\\04\\02\\48\\69)"),
            Filter::eq("1.3.6.1.4.1.1466.0", [4, 2, 0x48, 0x69])
        );
    }

    #[test]
    fn each_kind() {
        assert_eq!(roundtrip("(cn=x)"), Filter::eq("cn", "x"));
        assert_eq!(roundtrip("(cn=*)"), Filter::present("cn"));
        assert_eq!(roundtrip("(n>=5)"), Filter::ge("n", "5"));
        assert_eq!(roundtrip("(n<=5)"), Filter::le("n", "5"));
        assert_eq!(roundtrip("(sn~=jensn)"), Filter::approx("sn", "jensn"));
        assert_eq!(roundtrip("(cn=a*)"), Filter::starts_with("cn", "a"));
        assert_eq!(roundtrip("(cn=*a)"), Filter::ends_with("cn", "a"));
        assert_eq!(roundtrip("(cn=*a*)"), Filter::contains("cn", "a"));
        assert_eq!(
            roundtrip("(cn=a*b*c)"),
            Filter::substrings(
                "cn",
                Some(b"a".to_vec()),
                vec![b"b".to_vec()],
                Some(b"c".to_vec())
            )
        );
        assert_eq!(roundtrip("(!(cn=x))"), Filter::not(Filter::eq("cn", "x")));
        assert_eq!(roundtrip("(&)"), Filter::and([]));
        assert_eq!(roundtrip("(|)"), Filter::or([]));
        assert_eq!(roundtrip("(!(&))"), Filter::not(Filter::and([])));
        assert_eq!(roundtrip("(cn;lang-de=x)"), Filter::eq("cn;lang-de", "x"));
        assert_eq!(roundtrip("(2.5.4.3=x)"), Filter::eq("2.5.4.3", "x"));
        assert_eq!(
            roundtrip("(cn:dnQualifierMatch:=x)"),
            Filter::extensible(Some("cn"), Some("dnQualifierMatch"), false, "x")
        );
        assert_eq!(
            roundtrip("(cn:Dn:=x)"),
            Filter::extensible(Some("cn"), None, true, "x")
        );
        assert_eq!(
            roundtrip("(cn:=\\2a)"),
            Filter::extensible(Some("cn"), None, false, "*")
        );
        // A lone item without parentheses, as ldapsearch accepts it.
        assert_eq!(ok("uid=jdoe"), Filter::eq("uid", "jdoe"));
        assert_eq!(ok("cn=a*"), Filter::starts_with("cn", "a"));
        // Values keep their spaces; `=` and other characters are plain data.
        assert_eq!(ok("(cn= a=b )"), Filter::eq("cn", " a=b "));
        assert_eq!("(cn=x)".parse::<Filter>().unwrap(), Filter::eq("cn", "x"));
    }

    #[test]
    fn escapes() {
        assert_eq!(ok("(cn=\\ff\\FE)"), Filter::eq("cn", [0xff, 0xfe]));
        assert_eq!(
            ok("(cn=\\5c\\2a\\28\\29\\00)"),
            Filter::eq("cn", b"\\*()\0")
        );
        for s in [
            "(cn=\\4)",
            "(cn=\\zz)",
            "(cn=\\4g)",
            "(cn=\\)",
            "(cn=a\\",
            "(cn=\\é0)",
        ] {
            let (pos, reason) = err(s);
            assert!(reason.contains("escape"), "{s}: {reason}");
            assert_eq!(s.as_bytes()[pos], b'\\', "{s}");
        }
    }

    #[test]
    fn errors_have_positions_and_reasons() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty"),
            ("(", 1, "attribute"),
            ("(cn=x", 5, "missing ')'"),
            ("(&(cn=x)", 8, "missing ')'"),
            ("(cn=x))", 6, "unbalanced"),
            ("(cn=x)(cn=y)", 6, "after the end"),
            ("(cn=x) ", 6, "after the end"),
            (" (cn=x)", 0, "attribute"),
            ("(cn=x(y))", 5, "'('"),
            ("(cn=a**b)", 6, "empty substring"),
            ("(cn=**)", 5, "empty substring"),
            ("(cn>=a*)", 6, "'*'"),
            ("(cn~=*)", 5, "'*'"),
            ("(cn:=*)", 5, "'*'"),
            ("(cn=a\0b)", 5, "NUL"),
            ("(=x)", 1, "attribute"),
            ("(1cn=x)", 2, "after the attribute"),
            ("(02.5=x)", 1, "attribute"),
            ("(cn x)", 3, "after the attribute"),
            ("(cn;=x)", 3, "after the attribute"),
            ("(cn)", 3, "after the attribute"),
            ("(!cn=x)", 2, "after '!'"),
            ("(!(a=b)(c=d))", 7, "expected ')'"),
            ("(&(a=b)x)", 7, "another filter"),
            ("(&(a=b)", 7, "missing ')'"),
            ("(:=x)", 1, "needs a matching rule"),
            ("(:dn:=x)", 1, "needs a matching rule"),
            ("(cn:dn:dn:=x)", 7, "'dn'"),
            ("(cn:dn)", 6, "':='"),
            ("(cn:1.:=x)", 5, "':='"),
            ("(cn::=x)", 4, "matching rule"),
            ("(cn:caseExactMatch=x)", 18, "':='"),
            ("((cn=x))", 1, "attribute"),
            ("cn=x)", 4, "unbalanced"),
        ];
        for &(s, pos, reason) in cases {
            let (p, r) = err(s);
            assert_eq!(p, pos, "{s:?}: {r}");
            assert!(r.contains(reason), "{s:?}: {r}");
        }
    }

    #[test]
    fn hostile_inputs_fail_fast() {
        let started = Instant::now();
        let deep_open = "(".repeat(100_000);
        assert!(Filter::parse(&deep_open).is_err());
        let deep_and = "(&".repeat(30_000);
        let (pos, reason) = err(&deep_and);
        assert_eq!(pos, 2 * MAX_FILTER_DEPTH);
        assert!(reason.contains("nested"), "{reason}");
        let deep_not = format!("{}(a=b){}", "(!".repeat(20_000), ")".repeat(20_000));
        assert!(err(&deep_not).1.contains("nested"));
        let huge = format!("(cn={})", "x".repeat(1 << 20));
        let e = Filter::parse(&huge).unwrap_err();
        assert_eq!(e.details()["position"], MAX_FILTER_LEN);
        assert_eq!(e.details()["max_length"], MAX_FILTER_LEN);
        let wide = format!("(|{})", "(a=b)".repeat(13_000));
        assert!(Filter::parse(&wide).is_ok());
        let bad_tail = format!("(|{}(a=\\zz))", "(a=b)".repeat(10_000));
        assert!(Filter::parse(&bad_tail).is_err());
        // Debug builds included, all of that is far below a second.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn depth_limit_is_exact() {
        let at_limit = format!(
            "{}(a=b){}",
            "(!".repeat(MAX_FILTER_DEPTH - 1),
            ")".repeat(MAX_FILTER_DEPTH - 1)
        );
        assert!(roundtrip(&at_limit).is_valid());
        let over = format!(
            "{}(a=b){}",
            "(!".repeat(MAX_FILTER_DEPTH),
            ")".repeat(MAX_FILTER_DEPTH)
        );
        assert!(err(&over).1.contains("nested"));
    }

    #[test]
    fn non_utf8_values_round_trip() {
        let f = Filter::substrings(
            "x",
            Some(vec![0xff]),
            vec![vec![0xc4], b"*".to_vec()],
            Some(vec![0x80, 0]),
        );
        assert_eq!(f.to_string(), "(x=\\ff*\\c4*\\2a*\\80\\00)");
        assert_eq!(ok(&f.to_string()), f);
    }
}
