//! Parsing of schema definitions: RFC 4512 §4.1 `AttributeTypeDescription` and
//! `ObjectClassDescription`, and OpenLDAP's `objectIdentifier` OID macros.
//!
//! The grammar is applied the way slapd applies it: keywords may come in any order and in
//! any case, spaces around parentheses, `$` and quotes are optional (`NAME('a''b')`,
//! `SUP(top$person)`), and an element's OID and `SYNTAX` may use an OID macro
//! (`NisSchema:1.1`, `OMsDirectoryString`). Everything else is strict: an unknown keyword,
//! a keyword given twice, a malformed OID or name, or text after the closing parenthesis is
//! an error. Nothing here panics, whatever the input.

use std::collections::HashMap;

use nom::branch::alt;
use nom::bytes::complete::{take_while, take_while1};
use nom::character::complete::char;
use nom::combinator::{map, value};
use nom::sequence::delimited;
use nom::{IResult, Parser};

use super::types::{AttributeType, AttributeUsage, Extension, ObjectClass, ObjectClassKind};
use crate::error::{Error, ErrorCode, Result};

/// A definition could not be parsed: what is wrong and where (a byte offset into the
/// definition text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the offending token in the definition.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

impl ParseError {
    fn new(offset: usize, reason: impl Into<String>) -> Self {
        ParseError {
            offset,
            reason: reason.into(),
        }
    }

    /// This error as a crate [`Error`] (`INVALID_CONFIG`), with `source` and `line` details
    /// naming where the definition came from.
    pub fn into_error(self, source: &str, line: usize) -> Error {
        Error::new(
            ErrorCode::InvalidConfig,
            format!("schema {source}, line {line}: {}", self.reason),
        )
        .with_detail("source", source)
        .with_detail("line", line)
        .with_detail("offset", self.offset)
        .with_detail("reason", self.reason)
    }
}

/// OpenLDAP OID macros (`objectIdentifier NAME OID`), by case-insensitive name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OidMacros {
    map: HashMap<String, String>,
}

impl OidMacros {
    /// No macros.
    pub fn new() -> Self {
        OidMacros::default()
    }

    /// Defines a macro from the value of an `olcObjectIdentifier` (or the arguments of a
    /// `objectidentifier` line): `NAME OID`, where OID may itself use a macro
    /// (`NisSchema:1`). A leading `{N}` ordering prefix is ignored.
    pub fn define(&mut self, text: &str) -> Result<(), ParseError> {
        let text = strip_ordering_prefix(text);
        let mut parts = text.split_whitespace();
        let (Some(name), Some(oid), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ParseError::new(
                0,
                format!("objectIdentifier needs a name and an OID, got '{text}'"),
            ));
        };
        if !is_descr(name) {
            return Err(ParseError::new(
                0,
                format!("invalid objectIdentifier name '{name}'"),
            ));
        }
        let expanded = self
            .expand(oid)
            .ok_or_else(|| ParseError::new(0, format!("invalid OID or macro '{oid}'")))?;
        self.map.insert(name.to_ascii_lowercase(), expanded);
        Ok(())
    }

    /// The numeric OID a macro name stands for.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    /// Expands `word` (a numeric OID, a macro name, or `macro:suffix`) into a numeric OID.
    pub fn expand(&self, word: &str) -> Option<String> {
        if is_numericoid(word) {
            return Some(word.to_owned());
        }
        if let Some((prefix, suffix)) = word.split_once(':') {
            let base = self.get(prefix)?;
            let oid = format!("{base}.{suffix}");
            return is_numericoid(&oid).then_some(oid);
        }
        self.get(word).map(str::to_owned)
    }

    /// Number of macros defined.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// No macro defined.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Removes an OpenLDAP `{N}` ordering prefix (`{3}( 1.2.3 ... )`).
pub(crate) fn strip_ordering_prefix(text: &str) -> &str {
    let t = text.trim_start();
    if let Some(rest) = t.strip_prefix('{') {
        if let Some(end) = rest.find('}') {
            if end > 0 && rest[..end].bytes().all(|b| b.is_ascii_digit()) {
                return &rest[end + 1..];
            }
        }
    }
    t
}

/// `numericoid = number 1*( DOT number )`, `number = DIGIT / ( LDIGIT 1*DIGIT )` (RFC 4512);
/// a single number (`1`) is accepted too, as slapd does.
pub fn is_numericoid(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|n| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n == "0" || !n.starts_with('0'))
        })
}

/// `descr = keystring = leadkeychar *keychar` (an ASCII letter, then letters, digits and
/// hyphens) (RFC 4512). Underscores are tolerated as OpenLDAP does.
pub fn is_descr(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `oid = descr / numericoid`.
pub fn is_oid(s: &str) -> bool {
    is_descr(s) || is_numericoid(s)
}

// ---------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    Open,
    Close,
    Dollar,
    Quoted(&'a str),
    Word(&'a str),
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '$' | '\'')
}

fn token(input: &str) -> IResult<&str, Tok<'_>> {
    alt((
        value(Tok::Open, char('(')),
        value(Tok::Close, char(')')),
        value(Tok::Dollar, char('$')),
        map(
            delimited(char('\''), take_while(|c| c != '\''), char('\'')),
            Tok::Quoted,
        ),
        map(take_while1(is_word_char), Tok::Word),
    ))
    .parse(input)
}

/// Splits a definition into tokens with their byte offsets.
fn tokenize(text: &str) -> Result<Vec<(usize, Tok<'_>)>, ParseError> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let offset = text.len() - rest.len();
        let Ok((r, t)) = token(rest) else {
            let reason = if rest.starts_with('\'') {
                "unterminated quoted string"
            } else {
                "unexpected character"
            };
            return Err(ParseError::new(offset, reason));
        };
        out.push((offset, t));
        rest = r.trim_start();
    }
    Ok(out)
}

/// Decodes the escapes of a `qdstring`: `\27` is `'`, `\5C`/`\5c` is `\` (RFC 4512); any
/// other `\XX` hex pair is decoded too, a lone backslash is kept.
pub fn unescape_qdstring(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex_val),
                bytes.get(i + 2).copied().and_then(hex_val),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Grammar over tokens

struct Cursor<'t, 'a> {
    toks: &'t [(usize, Tok<'a>)],
    pos: usize,
    end: usize,
}

impl<'a> Cursor<'_, 'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(o, _)| *o)
    }

    fn next(&mut self) -> Option<Tok<'a>> {
        let t = self.toks.get(self.pos).map(|(_, t)| t.clone());
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn err(&self, reason: impl Into<String>) -> ParseError {
        ParseError::new(self.offset(), reason)
    }

    fn expect_open(&mut self) -> Result<(), ParseError> {
        if let Some(Tok::Open) = self.next() {
            Ok(())
        } else {
            Err(ParseError::new(
                self.toks
                    .get(self.pos.saturating_sub(1))
                    .map_or(0, |(o, _)| *o),
                "a definition must start with '('",
            ))
        }
    }

    /// A single word (or quoted string, tolerated), for OIDs and keywords' arguments.
    fn word(&mut self, what: &str) -> Result<&'a str, ParseError> {
        let at = self.offset();
        match self.next() {
            Some(Tok::Word(w) | Tok::Quoted(w)) => Ok(w),
            _ => Err(ParseError::new(at, format!("expected {what}"))),
        }
    }

    /// `qdescrs`: `'a'` or `( 'a' 'b' )`. Unquoted names are tolerated.
    fn qdescrs(&mut self) -> Result<Vec<String>, ParseError> {
        let at = self.offset();
        match self.next() {
            Some(Tok::Quoted(w) | Tok::Word(w)) => Ok(vec![check_descr(w, at)?]),
            Some(Tok::Open) => {
                let mut names = Vec::new();
                loop {
                    let at = self.offset();
                    match self.next() {
                        Some(Tok::Close) => break,
                        Some(Tok::Quoted(w) | Tok::Word(w)) => names.push(check_descr(w, at)?),
                        _ => return Err(ParseError::new(at, "expected a quoted name or ')'")),
                    }
                }
                if names.is_empty() {
                    return Err(ParseError::new(at, "empty NAME list"));
                }
                Ok(names)
            }
            _ => Err(ParseError::new(at, "expected a name after NAME")),
        }
    }

    /// `qdstrings`: `'x'` or `( 'x' 'y' )`, escapes decoded.
    fn qdstrings(&mut self) -> Result<Vec<String>, ParseError> {
        let at = self.offset();
        match self.next() {
            Some(Tok::Quoted(s)) => Ok(vec![unescape_qdstring(s)]),
            Some(Tok::Open) => {
                let mut out = Vec::new();
                loop {
                    let at = self.offset();
                    match self.next() {
                        Some(Tok::Close) => break,
                        Some(Tok::Quoted(s)) => out.push(unescape_qdstring(s)),
                        _ => return Err(ParseError::new(at, "expected a quoted string or ')'")),
                    }
                }
                Ok(out)
            }
            _ => Err(ParseError::new(at, "expected a quoted string")),
        }
    }

    /// `oids`: `oid` or `( oid $ oid ... )` (a missing `$` is tolerated).
    fn oids(&mut self) -> Result<Vec<String>, ParseError> {
        let at = self.offset();
        match self.next() {
            Some(Tok::Word(w) | Tok::Quoted(w)) => Ok(vec![check_oid(w, at)?]),
            Some(Tok::Open) => {
                let mut out = Vec::new();
                let mut want_item = true;
                loop {
                    let at = self.offset();
                    match self.next() {
                        Some(Tok::Close) if !out.is_empty() && !want_item => break,
                        Some(Tok::Dollar) if !want_item => want_item = true,
                        Some(Tok::Word(w) | Tok::Quoted(w)) => {
                            out.push(check_oid(w, at)?);
                            want_item = false;
                        }
                        _ => return Err(ParseError::new(at, "malformed list of OIDs")),
                    }
                }
                Ok(out)
            }
            _ => Err(ParseError::new(at, "expected an OID or a list of OIDs")),
        }
    }
}

fn check_descr(w: &str, at: usize) -> Result<String, ParseError> {
    if is_descr(w) {
        Ok(w.to_owned())
    } else {
        Err(ParseError::new(at, format!("invalid name '{w}'")))
    }
}

fn check_oid(w: &str, at: usize) -> Result<String, ParseError> {
    if is_oid(w) {
        Ok(w.to_owned())
    } else {
        Err(ParseError::new(at, format!("invalid OID or name '{w}'")))
    }
}

/// Opens a definition: tokenises, checks `(`, reads and expands the element's OID.
fn open<'t, 'a>(
    toks: &'t [(usize, Tok<'a>)],
    text_len: usize,
    macros: &OidMacros,
) -> Result<(Cursor<'t, 'a>, String), ParseError> {
    let mut c = Cursor {
        toks,
        pos: 0,
        end: text_len,
    };
    c.expect_open()?;
    let at = c.offset();
    let raw = c.word("the OID")?;
    let oid = macros.expand(raw).ok_or_else(|| {
        ParseError::new(
            at,
            format!("invalid OID '{raw}' (not numeric, no such OID macro)"),
        )
    })?;
    Ok((c, oid))
}

/// Reads the keyword after the OID; `None` at the closing parenthesis (which must end the
/// text).
fn keyword<'a>(c: &mut Cursor<'_, 'a>) -> Result<Option<(usize, &'a str)>, ParseError> {
    let at = c.offset();
    match c.next() {
        Some(Tok::Close) => {
            if c.peek().is_some() {
                return Err(c.err("unexpected text after the closing ')'"));
            }
            Ok(None)
        }
        Some(Tok::Word(w)) => Ok(Some((at, w))),
        Some(_) => Err(ParseError::new(at, "expected a keyword")),
        None => Err(ParseError::new(at, "missing closing ')'")),
    }
}

fn seen_once(seen: &mut Vec<String>, kw: &str, at: usize) -> Result<(), ParseError> {
    let k = kw.to_ascii_uppercase();
    if seen.contains(&k) {
        return Err(ParseError::new(at, format!("{k} given twice")));
    }
    seen.push(k);
    Ok(())
}

/// Splits `1.2.3{64}` into the OID and the length bound.
fn split_noidlen(
    w: &str,
    at: usize,
    macros: &OidMacros,
) -> Result<(String, Option<u32>), ParseError> {
    let (oid, len) = match w.split_once('{') {
        Some((oid, rest)) => {
            let digits = rest
                .strip_suffix('}')
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| ParseError::new(at, format!("invalid syntax length in '{w}'")))?;
            let n = digits
                .parse::<u32>()
                .map_err(|_| ParseError::new(at, format!("syntax length too large in '{w}'")))?;
            (oid, Some(n))
        }
        None => (w, None),
    };
    let oid = macros
        .expand(oid)
        .ok_or_else(|| ParseError::new(at, format!("invalid syntax OID '{oid}'")))?;
    Ok((oid, len))
}

/// Parses one `AttributeTypeDescription`, expanding OID macros with `macros`.
pub fn parse_attribute_type_with(
    text: &str,
    macros: &OidMacros,
) -> Result<AttributeType, ParseError> {
    let text = strip_ordering_prefix(text);
    let toks = tokenize(text)?;
    let (mut c, oid) = open(&toks, text.len(), macros)?;
    let mut at = AttributeType {
        oid,
        ..AttributeType::default()
    };
    let mut seen = Vec::new();
    while let Some((pos, kw)) = keyword(&mut c)? {
        if kw.len() > 2 && kw.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("X-")) {
            let values = c.qdstrings()?;
            at.extensions.push(Extension {
                name: kw.to_owned(),
                values,
            });
            continue;
        }
        seen_once(&mut seen, kw, pos)?;
        match kw.to_ascii_uppercase().as_str() {
            "NAME" => at.names = c.qdescrs()?,
            "DESC" => at.desc = Some(c.qdstrings().and_then(|v| one(v, pos, "DESC"))?),
            "OBSOLETE" => at.obsolete = true,
            "SUP" => at.sup = Some(check_oid(c.word("a superior type")?, pos)?),
            "EQUALITY" => at.equality = Some(check_oid(c.word("a matching rule")?, pos)?),
            "ORDERING" => at.ordering = Some(check_oid(c.word("a matching rule")?, pos)?),
            "SUBSTR" => at.substr = Some(check_oid(c.word("a matching rule")?, pos)?),
            "SYNTAX" => {
                let w = c.word("a syntax OID")?;
                let (oid, len) = split_noidlen(w, pos, macros)?;
                at.syntax = Some(oid);
                at.syntax_len = len;
            }
            "SINGLE-VALUE" => at.single_value = true,
            "COLLECTIVE" => at.collective = true,
            "NO-USER-MODIFICATION" => at.no_user_modification = true,
            "USAGE" => {
                let w = c.word("a usage")?;
                at.usage = AttributeUsage::from_keyword(w)
                    .ok_or_else(|| ParseError::new(pos, format!("unknown USAGE '{w}'")))?;
            }
            _ => {
                return Err(ParseError::new(
                    pos,
                    format!("unknown keyword '{kw}' in an attribute type"),
                ))
            }
        }
    }
    Ok(at)
}

/// Parses one `ObjectClassDescription`, expanding OID macros with `macros`.
pub fn parse_object_class_with(text: &str, macros: &OidMacros) -> Result<ObjectClass, ParseError> {
    let text = strip_ordering_prefix(text);
    let toks = tokenize(text)?;
    let (mut c, oid) = open(&toks, text.len(), macros)?;
    let mut oc = ObjectClass {
        oid,
        ..ObjectClass::default()
    };
    let mut seen = Vec::new();
    let mut kind_seen = false;
    while let Some((pos, kw)) = keyword(&mut c)? {
        if kw.len() > 2 && kw.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("X-")) {
            let values = c.qdstrings()?;
            oc.extensions.push(Extension {
                name: kw.to_owned(),
                values,
            });
            continue;
        }
        let upper = kw.to_ascii_uppercase();
        let kind = match upper.as_str() {
            "ABSTRACT" => Some(ObjectClassKind::Abstract),
            "STRUCTURAL" => Some(ObjectClassKind::Structural),
            "AUXILIARY" => Some(ObjectClassKind::Auxiliary),
            _ => None,
        };
        if let Some(kind) = kind {
            if kind_seen {
                return Err(ParseError::new(
                    pos,
                    "only one of ABSTRACT, STRUCTURAL, AUXILIARY may be given",
                ));
            }
            kind_seen = true;
            oc.kind = kind;
            continue;
        }
        seen_once(&mut seen, kw, pos)?;
        match upper.as_str() {
            "NAME" => oc.names = c.qdescrs()?,
            "DESC" => oc.desc = Some(c.qdstrings().and_then(|v| one(v, pos, "DESC"))?),
            "OBSOLETE" => oc.obsolete = true,
            "SUP" => oc.sup = c.oids()?,
            "MUST" => oc.must = c.oids()?,
            "MAY" => oc.may = c.oids()?,
            _ => {
                return Err(ParseError::new(
                    pos,
                    format!("unknown keyword '{kw}' in an object class"),
                ))
            }
        }
    }
    Ok(oc)
}

fn one(mut v: Vec<String>, at: usize, what: &str) -> Result<String, ParseError> {
    if v.len() == 1 {
        Ok(v.pop().unwrap_or_default())
    } else {
        Err(ParseError::new(
            at,
            format!("{what} takes exactly one quoted string"),
        ))
    }
}

/// Parses one attribute type definition (no OID macros), e.g.
/// `( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )`.
///
/// ```
/// use heracles_core::schema::parse_attribute_type;
///
/// let at = parse_attribute_type(
///     "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) DESC 'user id\\27s' \
///      EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch \
///      SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} X-ORIGIN 'RFC 4519' )",
/// )?;
/// assert_eq!(at.names(), ["uid", "userid"]);
/// assert_eq!(at.desc(), Some("user id's"));
/// assert_eq!(at.syntax_len(), Some(256));
/// # Ok::<(), heracles_core::Error>(())
/// ```
pub fn parse_attribute_type(text: &str) -> Result<AttributeType> {
    parse_attribute_type_with(text, &OidMacros::new()).map_err(|e| e.into_error("(inline)", 1))
}

/// Parses one object class definition (no OID macros), e.g.
/// `( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) MAY description )`.
pub fn parse_object_class(text: &str) -> Result<ObjectClass> {
    parse_object_class_with(text, &OidMacros::new()).map_err(|e| e.into_error("(inline)", 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> AttributeType {
        parse_attribute_type_with(s, &OidMacros::new()).unwrap()
    }

    fn oc(s: &str) -> ObjectClass {
        parse_object_class_with(s, &OidMacros::new()).unwrap()
    }

    #[test]
    fn non_ascii_keywords_are_errors_not_panics() {
        for text in [
            "( 1.2.3 aé 'x' )",
            "( 1.2.3 NAME 'a' éé )",
            "( 1.2.3 \u{e9}\u{e9}\u{e9} )",
        ] {
            assert!(parse_attribute_type(text).is_err(), "{text}");
            assert!(parse_object_class(text).is_err(), "{text}");
        }
    }

    #[test]
    fn attribute_type_full() {
        let a = at("( 2.5.4.41 NAME 'name' DESC 'x' EQUALITY caseIgnoreMatch \
             SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{32768} )");
        assert_eq!(a.oid(), "2.5.4.41");
        assert_eq!(a.names(), ["name"]);
        assert_eq!(a.equality(), Some("caseIgnoreMatch"));
        assert_eq!(a.substr(), Some("caseIgnoreSubstringsMatch"));
        assert_eq!(a.ordering(), None);
        assert_eq!(a.syntax(), Some("1.3.6.1.4.1.1466.115.121.1.15"));
        assert_eq!(a.syntax_len(), Some(32768));
        assert!(!a.is_single_value());
        assert_eq!(a.usage(), AttributeUsage::UserApplications);
    }

    #[test]
    fn flags_usage_and_extensions() {
        let a = at(
            "( 2.5.18.1 NAME 'createTimestamp' EQUALITY generalizedTimeMatch \
             ORDERING generalizedTimeOrderingMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.24 \
             SINGLE-VALUE NO-USER-MODIFICATION USAGE directoryOperation \
             X-ORIGIN 'RFC 4512' X-SCHEMA-FILE ( 'a' 'b\\27c' ) )",
        );
        assert!(a.is_single_value() && a.is_no_user_modification() && a.is_operational());
        assert_eq!(a.usage(), AttributeUsage::DirectoryOperation);
        assert_eq!(a.extensions().len(), 2);
        assert_eq!(a.extensions()[0].name, "X-ORIGIN");
        assert_eq!(a.extensions()[1].values, ["a", "b'c"]);
        let b = at("( 1.2 NAME 'x' SUP name COLLECTIVE OBSOLETE USAGE dsaoperation )");
        assert!(b.is_collective() && b.is_obsolete());
        assert_eq!(b.usage(), AttributeUsage::DsaOperation);
    }

    #[test]
    fn multiple_names_and_missing_spaces() {
        let a = at("(2.5.4.3 NAME('cn''commonName')SUP name)");
        assert_eq!(a.names(), ["cn", "commonName"]);
        assert_eq!(a.sup(), Some("name"));
        let o = oc("(2.5.6.6 NAME'person'SUP top STRUCTURAL MUST(sn$cn)MAY(userPassword$ telephoneNumber $seeAlso $ description))");
        assert_eq!(o.must(), ["sn", "cn"]);
        assert_eq!(o.may().len(), 4);
        assert_eq!(o.kind(), ObjectClassKind::Structural);
    }

    #[test]
    fn escapes_in_desc() {
        let a = at(r"( 1.2.3 NAME 'x' DESC 'it\27s a back\5Cslash \5c and \zz' SYNTAX 1.2 )");
        assert_eq!(a.desc(), Some(r"it's a back\slash \ and \zz"));
        let b = at("( 1.2.3 NAME 'x' DESC 'Gr\u{fc}n' SYNTAX 1.2 )");
        assert_eq!(b.desc(), Some("Gr\u{fc}n"));
    }

    #[test]
    fn object_class_kinds_and_sup_lists() {
        let o = oc("( 0.9.2342.19200300.100.4.20 NAME 'pilotOrganization' SUP ( organization $ organizationalUnit ) STRUCTURAL MAY buildingName )");
        assert_eq!(o.sup(), ["organization", "organizationalUnit"]);
        assert_eq!(o.may(), ["buildingName"]);
        let o = oc("( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )");
        assert_eq!(o.kind(), ObjectClassKind::Abstract);
        let o = oc("( 1.3.6.1.1.1.2.0 NAME 'posixAccount' SUP top AUXILIARY MUST ( cn $ uid ) )");
        assert_eq!(o.kind(), ObjectClassKind::Auxiliary);
        let o = oc("( 1.2.3 NAME 'noKind' )");
        assert_eq!(o.kind(), ObjectClassKind::Structural);
        let o = oc("( 1.2.3 NAME 'lower' sup top auxiliary must cn )");
        assert_eq!(o.kind(), ObjectClassKind::Auxiliary);
        assert_eq!(o.must(), ["cn"]);
    }

    #[test]
    fn ordering_prefix_is_ignored() {
        let a = at("{12}( 1.2.3 NAME 'x' SYNTAX 1.2 )");
        assert_eq!(a.oid(), "1.2.3");
    }

    #[test]
    fn oid_macros() {
        let mut m = OidMacros::new();
        m.define("NisSchema 1.3.6.1.1.1").unwrap();
        m.define("{1}NisAttr NisSchema:1").unwrap();
        m.define("MyString 1.3.6.1.4.1.1466.115.121.1.15").unwrap();
        assert_eq!(m.get("nisattr"), Some("1.3.6.1.1.1.1"));
        let a = parse_attribute_type_with("( NisAttr:2 NAME 'gecos' SYNTAX MyString{64} )", &m)
            .unwrap();
        assert_eq!(a.oid(), "1.3.6.1.1.1.1.2");
        assert_eq!(a.syntax(), Some("1.3.6.1.4.1.1466.115.121.1.15"));
        assert_eq!(a.syntax_len(), Some(64));
        let o =
            parse_object_class_with("( NisSchema:2.0 NAME 'posixAccount' AUXILIARY )", &m).unwrap();
        assert_eq!(o.oid(), "1.3.6.1.1.1.2.0");
        assert!(parse_attribute_type_with("( Nope:1 NAME 'x' SYNTAX 1.2 )", &m).is_err());
        assert!(m.define("bad").is_err());
        assert!(m.define("1bad 1.2").is_err());
        assert!(m.define("x nope:1").is_err());
    }

    #[test]
    fn errors_have_offsets() {
        let cases = [
            ("", "start with"),
            ("1.2.3 NAME 'x'", "start with"),
            ("( 1.2.3 NAME 'x' SYNTAX 1.2", "missing closing"),
            ("( 1.2.3 NAME 'x SYNTAX 1.2 )", "unterminated"),
            ("( 1.2.3 NAME 'x' FOO 1.2 )", "unknown keyword"),
            ("( 1.2.3 NAME 'x' NAME 'y' )", "given twice"),
            ("( 1.02.3 NAME 'x' )", "invalid OID"),
            ("( 1.2.3 NAME '1x' )", "invalid name"),
            ("( 1.2.3 NAME () )", "empty NAME"),
            ("( 1.2.3 NAME 'x' SYNTAX 1.2{x} )", "syntax length"),
            ("( 1.2.3 NAME 'x' USAGE nope )", "unknown USAGE"),
            ("( 1.2.3 NAME 'x' ) trailing", "after the closing"),
            ("( 1.2.3 NAME 'x' DESC ( 'a' 'b' ) )", "exactly one"),
            ("( 1.2.3 NAME 'x' SUP ( a $ b ) )", "expected a superior"),
        ];
        for (text, want) in cases {
            let e = parse_attribute_type_with(text, &OidMacros::new()).unwrap_err();
            assert!(e.reason.contains(want), "{text}: {e:?}");
            assert!(e.offset <= text.len());
        }
        for (text, want) in [
            ("( 1.2 NAME 'x' STRUCTURAL AUXILIARY )", "only one of"),
            ("( 1.2 NAME 'x' MUST ( a $ ) )", "malformed"),
            ("( 1.2 NAME 'x' MUST ( a $$ b ) )", "malformed"),
            ("( 1.2 NAME 'x' MUST () )", "malformed"),
            ("( 1.2 NAME 'x' SYNTAX 1.2 )", "unknown keyword"),
        ] {
            let e = parse_object_class_with(text, &OidMacros::new()).unwrap_err();
            assert!(e.reason.contains(want), "{text}: {e:?}");
        }
    }

    #[test]
    fn public_wrappers_give_invalid_config() {
        let e = parse_attribute_type("( x").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidConfig);
        assert_eq!(e.details()["source"], "(inline)");
        assert!(parse_object_class("( 2.5.6.0 NAME 'top' ABSTRACT MUST objectClass )").is_ok());
    }

    #[test]
    fn oid_and_descr_predicates() {
        assert!(
            is_numericoid("0")
                && is_numericoid("1.0.22")
                && is_numericoid("2.25.335636915788143228400105024760892454020")
        );
        assert!(
            !is_numericoid("")
                && !is_numericoid("1.")
                && !is_numericoid(".1")
                && !is_numericoid("01")
                && !is_numericoid("1..2")
        );
        assert!(
            is_descr("certificationAuthority-V2")
                && is_descr("RFC822localPart")
                && !is_descr("1abc")
                && !is_descr("a b")
                && !is_descr("")
        );
    }
}
