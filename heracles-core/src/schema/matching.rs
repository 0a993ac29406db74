//! Matching rules (RFC 4517 §4.2, RFC 4530, OpenLDAP's own): how values are normalised,
//! compared for equality, ordered, and matched against substring assertions — the way
//! slapd 2.5 does it, checked against a running slapd.
//!
//! # String preparation (RFC 4518 in the form slapd applies)
//!
//! * **Unicode**: values are brought to compatibility composed form (NFKC): a precomposed
//!   `é` and `e` + combining acute are equal, so are a full-width `Ａ` and `A`, `ﬁ` and
//!   `fi`, a no-break space and a space.
//!   Characters are *not* mapped to nothing (a soft hyphen stays significant), and
//!   accents are significant (`Ärger` ≠ `Arger`).
//! * **Case**: the `caseIgnore*` rules lower-case (Unicode simple lower case: `ß` does not
//!   become `ss`, `İ` becomes `i`, `ς` stays distinct from `σ`); the `caseExact*` rules
//!   keep case.
//! * **Insignificant spaces**: leading and trailing spaces are removed, inner runs of spaces
//!   become one (`"  John   Smith "` = `"john smith"`). A value of spaces only becomes one
//!   space. In substring assertions, the initial part loses its leading spaces, the final
//!   part its trailing spaces, and every part has its inner runs collapsed; spaces at the
//!   inner ends of the parts stay significant (`(cn=Robert *)` matches `Robert Knight`,
//!   not `RobertKnight`).
//! * `numericString*` rules drop every space; `telephoneNumber*` rules drop spaces and
//!   hyphens (case stays significant: slapd finds `A1` ≠ `a1`).
//! * slapd's Unicode tables are older than Rust's: a handful of exotic characters compare
//!   differently (slapd does not equate the Roman numeral `Ⅸ` with `ix`; Heracles does).
//!   Letters, digits, accents and the common compatibility forms (full-width letters,
//!   ligatures, NBSP) were all checked to agree.
//!
//! # Approximate matching (`~=`)
//!
//! slapd matches `~=` on Directory String and IA5 String attributes with a phonetic
//! comparison of words, and falls back to the equality rule for everything else. Heracles
//! does the same for the fallback and, for the string rules, matches when every word of
//! the assertion equals (case-insensitively, after normalisation) a word of the value, in
//! order; words are separated by spaces, `-` and `.`. So `(cn~=smith)` and
//! `(cn~=john smith)` match `John Smith` in both servers, but slapd's phonetic matches
//! (`Robart` for `Robert`) are not reproduced: every approximate match found here is one
//! slapd finds too, not the other way round. Do not build features on `~=`.
//!
//! # Rules without ordering or substrings
//!
//! An attribute whose type has no `ORDERING` rule never matches `>=`/`<=`, one without a
//! `SUBSTR` rule never matches a substring filter (not even `*x*` on a caseExactIA5
//! `loginShell`): slapd returns no entry and no error. Ask
//! [`Schema::has_ordering`](super::Schema::has_ordering) and
//! [`Schema::has_substr`](super::Schema::has_substr) before translating a filter.

use std::cmp::Ordering;
use std::fmt::Write as _;

use unicode_normalization::UnicodeNormalization;

use super::syntax::{
    format_generalized_time, is_bit_string, is_integer, parse_generalized_time, parse_uuid,
    split_unique_member,
};
use crate::error::{Error, ErrorCode, Result};

/// What a matching rule is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleKind {
    /// An `EQUALITY` rule (`=`, and the fallback of `~=`).
    Equality,
    /// An `ORDERING` rule (`>=`, `<=`, sorting).
    Ordering,
    /// A `SUBSTR` rule (`=a*b*c`).
    Substrings,
}

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = ($name:literal, $oid:literal, $kind:ident, $family:ident), )*) => {
        /// A matching rule known to Heracles (every rule the schemas of a Heracles
        /// directory use, and the other rules slapd 2.5 defines for the standard
        /// syntaxes).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum MatchingRule {
            $( $(#[$doc])* $variant, )*
        }

        impl MatchingRule {
            /// Every rule, in OID order of their standards.
            pub const ALL: &'static [MatchingRule] = &[ $( MatchingRule::$variant, )* ];

            /// The rule's name, e.g. `"caseIgnoreMatch"`.
            pub const fn name(self) -> &'static str {
                match self { $( MatchingRule::$variant => $name, )* }
            }

            /// The rule's OID, e.g. `"2.5.13.2"`.
            pub const fn oid(self) -> &'static str {
                match self { $( MatchingRule::$variant => $oid, )* }
            }

            /// Equality, ordering or substrings.
            pub const fn kind(self) -> RuleKind {
                match self { $( MatchingRule::$variant => RuleKind::$kind, )* }
            }

            const fn family(self) -> Family {
                match self { $( MatchingRule::$variant => Family::$family, )* }
            }
        }
    };
}

rules! {
    /// `objectIdentifierMatch` (2.5.13.0).
    ObjectIdentifierMatch = ("objectIdentifierMatch", "2.5.13.0", Equality, Oid),
    /// `distinguishedNameMatch` (2.5.13.1).
    DistinguishedNameMatch = ("distinguishedNameMatch", "2.5.13.1", Equality, Dn),
    /// `caseIgnoreMatch` (2.5.13.2).
    CaseIgnoreMatch = ("caseIgnoreMatch", "2.5.13.2", Equality, CaseIgnore),
    /// `caseIgnoreOrderingMatch` (2.5.13.3).
    CaseIgnoreOrderingMatch = ("caseIgnoreOrderingMatch", "2.5.13.3", Ordering, CaseIgnore),
    /// `caseIgnoreSubstringsMatch` (2.5.13.4).
    CaseIgnoreSubstringsMatch = ("caseIgnoreSubstringsMatch", "2.5.13.4", Substrings, CaseIgnore),
    /// `caseExactMatch` (2.5.13.5).
    CaseExactMatch = ("caseExactMatch", "2.5.13.5", Equality, CaseExact),
    /// `caseExactOrderingMatch` (2.5.13.6).
    CaseExactOrderingMatch = ("caseExactOrderingMatch", "2.5.13.6", Ordering, CaseExact),
    /// `caseExactSubstringsMatch` (2.5.13.7).
    CaseExactSubstringsMatch = ("caseExactSubstringsMatch", "2.5.13.7", Substrings, CaseExact),
    /// `numericStringMatch` (2.5.13.8): spaces are insignificant.
    NumericStringMatch = ("numericStringMatch", "2.5.13.8", Equality, Numeric),
    /// `numericStringOrderingMatch` (2.5.13.9): character order, spaces removed.
    NumericStringOrderingMatch = ("numericStringOrderingMatch", "2.5.13.9", Ordering, Numeric),
    /// `numericStringSubstringsMatch` (2.5.13.10).
    NumericStringSubstringsMatch = ("numericStringSubstringsMatch", "2.5.13.10", Substrings, Numeric),
    /// `caseIgnoreListMatch` (2.5.13.11): each `$`-separated line compared as caseIgnore.
    CaseIgnoreListMatch = ("caseIgnoreListMatch", "2.5.13.11", Equality, CaseIgnoreList),
    /// `caseIgnoreListSubstringsMatch` (2.5.13.12).
    CaseIgnoreListSubstringsMatch = ("caseIgnoreListSubstringsMatch", "2.5.13.12", Substrings, CaseIgnoreList),
    /// `booleanMatch` (2.5.13.13).
    BooleanMatch = ("booleanMatch", "2.5.13.13", Equality, Boolean),
    /// `integerMatch` (2.5.13.14).
    IntegerMatch = ("integerMatch", "2.5.13.14", Equality, Integer),
    /// `integerOrderingMatch` (2.5.13.15): numeric order, any size.
    IntegerOrderingMatch = ("integerOrderingMatch", "2.5.13.15", Ordering, Integer),
    /// `bitStringMatch` (2.5.13.16).
    BitStringMatch = ("bitStringMatch", "2.5.13.16", Equality, BitString),
    /// `octetStringMatch` (2.5.13.17): byte for byte.
    OctetStringMatch = ("octetStringMatch", "2.5.13.17", Equality, Octet),
    /// `octetStringOrderingMatch` (2.5.13.18): byte order, a prefix first.
    OctetStringOrderingMatch = ("octetStringOrderingMatch", "2.5.13.18", Ordering, Octet),
    /// `octetStringSubstringsMatch` (2.5.13.19).
    OctetStringSubstringsMatch = ("octetStringSubstringsMatch", "2.5.13.19", Substrings, Octet),
    /// `telephoneNumberMatch` (2.5.13.20): spaces and hyphens insignificant (case is
    /// significant in slapd).
    TelephoneNumberMatch = ("telephoneNumberMatch", "2.5.13.20", Equality, Telephone),
    /// `telephoneNumberSubstringsMatch` (2.5.13.21).
    TelephoneNumberSubstringsMatch = ("telephoneNumberSubstringsMatch", "2.5.13.21", Substrings, Telephone),
    /// `presentationAddressMatch` (2.5.13.22); compared byte for byte.
    PresentationAddressMatch = ("presentationAddressMatch", "2.5.13.22", Equality, Octet),
    /// `uniqueMemberMatch` (2.5.13.23): the DN part as distinguishedNameMatch, the
    /// optional `#'bits'B` part exactly.
    UniqueMemberMatch = ("uniqueMemberMatch", "2.5.13.23", Equality, UniqueMember),
    /// `protocolInformationMatch` (2.5.13.24); compared byte for byte.
    ProtocolInformationMatch = ("protocolInformationMatch", "2.5.13.24", Equality, Octet),
    /// `generalizedTimeMatch` (2.5.13.27): the same instant.
    GeneralizedTimeMatch = ("generalizedTimeMatch", "2.5.13.27", Equality, Time),
    /// `generalizedTimeOrderingMatch` (2.5.13.28): instants in time order.
    GeneralizedTimeOrderingMatch = ("generalizedTimeOrderingMatch", "2.5.13.28", Ordering, Time),
    /// `integerFirstComponentMatch` (2.5.13.29).
    IntegerFirstComponentMatch = ("integerFirstComponentMatch", "2.5.13.29", Equality, IntegerFirst),
    /// `objectIdentifierFirstComponentMatch` (2.5.13.30).
    ObjectIdentifierFirstComponentMatch = ("objectIdentifierFirstComponentMatch", "2.5.13.30", Equality, OidFirst),
    /// `directoryStringFirstComponentMatch` (2.5.13.31).
    DirectoryStringFirstComponentMatch = ("directoryStringFirstComponentMatch", "2.5.13.31", Equality, StringFirst),
    /// `certificateExactMatch` (2.5.13.34); compared byte for byte.
    CertificateExactMatch = ("certificateExactMatch", "2.5.13.34", Equality, Octet),
    /// `certificateListExactMatch` (2.5.13.38); compared byte for byte.
    CertificateListExactMatch = ("certificateListExactMatch", "2.5.13.38", Equality, Octet),
    /// `caseExactIA5Match` (1.3.6.1.4.1.1466.109.114.1).
    CaseExactIA5Match = ("caseExactIA5Match", "1.3.6.1.4.1.1466.109.114.1", Equality, CaseExactIa5),
    /// `caseIgnoreIA5Match` (1.3.6.1.4.1.1466.109.114.2).
    CaseIgnoreIA5Match = ("caseIgnoreIA5Match", "1.3.6.1.4.1.1466.109.114.2", Equality, CaseIgnoreIa5),
    /// `caseIgnoreIA5SubstringsMatch` (1.3.6.1.4.1.1466.109.114.3).
    CaseIgnoreIA5SubstringsMatch = ("caseIgnoreIA5SubstringsMatch", "1.3.6.1.4.1.1466.109.114.3", Substrings, CaseIgnoreIa5),
    /// `caseExactIA5SubstringsMatch` (OpenLDAP, 1.3.6.1.4.1.4203.1.2.1).
    CaseExactIA5SubstringsMatch = ("caseExactIA5SubstringsMatch", "1.3.6.1.4.1.4203.1.2.1", Substrings, CaseExactIa5),
    /// `UUIDMatch` (RFC 4530, 1.3.6.1.1.16.2).
    UuidMatch = ("UUIDMatch", "1.3.6.1.1.16.2", Equality, Uuid),
    /// `UUIDOrderingMatch` (RFC 4530, 1.3.6.1.1.16.3).
    UuidOrderingMatch = ("UUIDOrderingMatch", "1.3.6.1.1.16.3", Ordering, Uuid),
    /// `CSNMatch` (OpenLDAP `entryCSN`, `contextCSN`); compared byte for byte.
    CsnMatch = ("CSNMatch", "1.3.6.1.4.1.4203.666.11.2.2", Equality, Octet),
    /// `CSNOrderingMatch` (OpenLDAP); CSN strings order by time, byte for byte.
    CsnOrderingMatch = ("CSNOrderingMatch", "1.3.6.1.4.1.4203.666.11.2.3", Ordering, Octet),
}

/// How a rule normalises values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    CaseIgnore,
    CaseExact,
    CaseIgnoreIa5,
    CaseExactIa5,
    CaseIgnoreList,
    Numeric,
    Integer,
    Dn,
    Octet,
    Time,
    Boolean,
    Oid,
    Telephone,
    UniqueMember,
    Uuid,
    BitString,
    IntegerFirst,
    OidFirst,
    StringFirst,
}

impl std::fmt::Display for MatchingRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A substring assertion (`initial*any*any*final`), as the raw bytes of its parts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubstringFilter<'a> {
    /// The part before the first `*`, if not empty.
    pub initial: Option<&'a [u8]>,
    /// The parts between stars, in order.
    pub any: Vec<&'a [u8]>,
    /// The part after the last `*`, if not empty.
    pub final_: Option<&'a [u8]>,
}

/// A substring assertion normalised for one rule, ready to be matched against many values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedSubstrings {
    rule: MatchingRule,
    initial: Option<Vec<u8>>,
    any: Vec<Vec<u8>>,
    final_: Option<Vec<u8>>,
}

impl PreparedSubstrings {
    /// The rule the assertion was prepared for.
    pub fn rule(&self) -> MatchingRule {
        self.rule
    }

    /// Matches a value already normalised with [`MatchingRule::normalize`] of the same rule.
    pub fn matches_normalized(&self, value: &[u8]) -> bool {
        let mut start = 0;
        let mut end = value.len();
        if let Some(i) = &self.initial {
            if !value.starts_with(i) {
                return false;
            }
            start = i.len();
        }
        if let Some(f) = &self.final_ {
            if end - start < f.len() || !value.ends_with(f) {
                return false;
            }
            end -= f.len();
        }
        for part in &self.any {
            if part.is_empty() {
                continue;
            }
            match find(&value[start..end], part) {
                Some(pos) => start += pos + part.len(),
                None => return false,
            }
        }
        true
    }

    /// Normalises `value` and matches it; `None` if the value is not valid for the rule
    /// (the filter is then *undefined* for it, which matches nothing).
    pub fn matches(&self, value: &[u8]) -> Option<bool> {
        let v = self.rule.normalize(value).ok()?;
        Some(self.matches_normalized(&v))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

fn invalid(rule: MatchingRule) -> Error {
    Error::new(
        ErrorCode::ValidationFailed,
        format!("value is not valid for the matching rule {}", rule.name()),
    )
    .with_detail("matching_rule", rule.name())
}

/// Which part of a substring assertion a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Whole,
    Initial,
    Any,
    Final,
}

/// Insignificant space handling: collapse inner runs to one space; trim the ends a part
/// position allows; a non-empty whole value of spaces only becomes one space.
fn fold_spaces(s: &str, part: Part) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c == ' ' {
            pending_space = true;
            continue;
        }
        if pending_space && (!out.is_empty() || matches!(part, Part::Any | Part::Final)) {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    if pending_space {
        match part {
            Part::Whole if out.is_empty() => out.push(' '),
            Part::Initial if !out.is_empty() => out.push(' '),
            Part::Any => out.push(' '),
            _ => {}
        }
    }
    out
}

fn prep_unicode(v: &[u8], lower: bool, part: Part) -> Option<String> {
    let s = std::str::from_utf8(v).ok()?;
    let n: String = if s.is_ascii() {
        if lower {
            s.to_ascii_lowercase()
        } else {
            s.to_owned()
        }
    } else if lower {
        s.nfkc().flat_map(simple_lowercase).nfkc().collect()
    } else {
        s.nfkc().collect()
    };
    Some(fold_spaces(&n, part))
}

/// Unicode lower case with the *simple* mappings, as slapd does: `İ` (U+0130) becomes a
/// plain `i` (the full mapping would add a combining dot).
fn simple_lowercase(c: char) -> std::char::ToLowercase {
    if c == '\u{130}' {
        'i'.to_lowercase()
    } else {
        c.to_lowercase()
    }
}

fn prep_ia5(v: &[u8], lower: bool, part: Part) -> Option<String> {
    if !v.is_ascii() {
        return None;
    }
    let s = std::str::from_utf8(v).ok()?;
    let s = if lower {
        s.to_ascii_lowercase()
    } else {
        s.to_owned()
    };
    Some(fold_spaces(&s, part))
}

fn prep_numeric(v: &[u8]) -> Option<Vec<u8>> {
    let out: Vec<u8> = v.iter().copied().filter(|b| *b != b' ').collect();
    out.iter().all(u8::is_ascii_digit).then_some(out)
}

fn prep_telephone(v: &[u8]) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(v).ok()?;
    let out: String = s.nfkc().filter(|c| *c != ' ' && *c != '-').collect();
    Some(out.into_bytes())
}

fn prep_list(v: &[u8], part: Part) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(v).ok()?;
    let lines: Option<Vec<String>> = s
        .split('$')
        .map(|l| prep_unicode(l.as_bytes(), true, part))
        .collect();
    Some(lines?.join("$").into_bytes())
}

/// First component of a `( first ... )` value, or the whole value when it has no parentheses
/// (then it is the assertion value itself).
fn first_component(v: &[u8]) -> Option<&[u8]> {
    let s = std::str::from_utf8(v).ok()?.trim();
    match s.strip_prefix('(') {
        Some(rest) => {
            let rest = rest.trim_start();
            if let Some(q) = rest.strip_prefix('\'') {
                let end = q.find('\'')?;
                Some(&q.as_bytes()[..end])
            } else {
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == ')')
                    .unwrap_or(rest.len());
                Some(&rest.as_bytes()[..end])
            }
        }
        None => Some(s.as_bytes()),
    }
}

/// Schema-less normalisation of a DN for `distinguishedNameMatch`: the project's
/// [`Dn::normalized`](crate::dn::Dn::normalized) (attribute types and aliases mapped to
/// short names by a fixed table, values by a table of rules). `None` if it is not a DN.
///
/// [`Schema::normalize_dn`](super::Schema::normalize_dn) is the schema-aware version the
/// embedded directory should use: it knows every attribute of the schema and normalises
/// each value with its attribute's own equality rule, as slapd does.
pub fn normalize_dn_schemaless(dn: &str) -> Option<String> {
    crate::dn::Dn::parse(dn).ok().map(|d| d.normalized())
}

fn integer_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let (na, ma) = a.strip_prefix(b"-").map_or((false, a), |m| (true, m));
    let (nb, mb) = b.strip_prefix(b"-").map_or((false, b), |m| (true, m));
    let mag = ma.len().cmp(&mb.len()).then_with(|| ma.cmp(mb));
    match (na, nb) {
        (false, false) => mag,
        (true, true) => mag.reverse(),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

impl MatchingRule {
    /// Finds a rule by name (case-insensitively) or OID.
    pub fn from_name(name: &str) -> Option<MatchingRule> {
        MatchingRule::ALL
            .iter()
            .copied()
            .find(|r| r.oid() == name || r.name().eq_ignore_ascii_case(name))
    }

    /// The normal form of `value` for this rule: two values match for an equality rule iff
    /// their normal forms are equal; ordering and substring rules compare normal forms too.
    /// An error (`VALIDATION_FAILED`) if the value is not valid for the rule, e.g.
    /// `integerMatch` on `"abc"` — a filter with such an assertion is *undefined*.
    ///
    /// `distinguishedNameMatch` and `uniqueMemberMatch` use the schema-less
    /// [`normalize_dn_schemaless`] here; [`Schema::normalize_value`](super::Schema::normalize_value)
    /// is the schema-aware entry point. `objectIdentifierMatch` lower-cases names here;
    /// the schema maps them to OIDs.
    ///
    /// ```
    /// use heracles_core::schema::MatchingRule;
    ///
    /// let ci = MatchingRule::CaseIgnoreMatch;
    /// assert_eq!(ci.normalize("  John   SMITH ".as_bytes())?, b"john smith");
    /// assert!(MatchingRule::IntegerMatch.normalize(b"abc").is_err());
    /// assert_eq!(MatchingRule::TelephoneNumberMatch.normalize(b"+1 555-123")?, b"+1555123");
    /// # Ok::<(), heracles_core::Error>(())
    /// ```
    pub fn normalize(self, value: &[u8]) -> Result<Vec<u8>> {
        self.normalize_part(value, Part::Whole)
            .ok_or_else(|| invalid(self))
    }

    fn normalize_part(self, value: &[u8], part: Part) -> Option<Vec<u8>> {
        Some(match self.family() {
            Family::CaseIgnore => prep_unicode(value, true, part)?.into_bytes(),
            Family::CaseExact => prep_unicode(value, false, part)?.into_bytes(),
            Family::CaseIgnoreIa5 => prep_ia5(value, true, part)?.into_bytes(),
            Family::CaseExactIa5 => prep_ia5(value, false, part)?.into_bytes(),
            Family::CaseIgnoreList => prep_list(value, part)?,
            Family::Numeric => prep_numeric(value)?,
            Family::Telephone => prep_telephone(value)?,
            Family::Octet => value.to_vec(),
            Family::Integer => {
                if !is_integer(value) {
                    return None;
                }
                value.to_vec()
            }
            Family::Boolean => {
                if value != b"TRUE" && value != b"FALSE" {
                    return None;
                }
                value.to_vec()
            }
            Family::Time => format_generalized_time(parse_generalized_time(value)?).into_bytes(),
            Family::Oid => {
                let s = std::str::from_utf8(value).ok()?;
                if super::parse::is_numericoid(s) {
                    value.to_vec()
                } else if super::parse::is_descr(s) {
                    s.to_ascii_lowercase().into_bytes()
                } else {
                    return None;
                }
            }
            Family::Dn => normalize_dn_schemaless(std::str::from_utf8(value).ok()?)?.into_bytes(),
            Family::UniqueMember => {
                let s = std::str::from_utf8(value).ok()?;
                let (dn, uid) = split_unique_member(s);
                let mut out = normalize_dn_schemaless(dn)?;
                if let Some(uid) = uid {
                    out.push('#');
                    out.push_str(uid);
                }
                out.into_bytes()
            }
            Family::Uuid => {
                let bytes = parse_uuid(value)?;
                let mut out = String::with_capacity(36);
                for (i, b) in bytes.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        out.push('-');
                    }
                    let _ = write!(out, "{b:02x}");
                }
                out.into_bytes()
            }
            Family::BitString => {
                if !is_bit_string(value) {
                    return None;
                }
                value.to_vec()
            }
            Family::IntegerFirst => {
                let c = first_component(value)?;
                if !is_integer(c) {
                    return None;
                }
                c.to_vec()
            }
            Family::OidFirst => MatchingRule::ObjectIdentifierMatch
                .normalize_part(first_component(value)?, Part::Whole)?,
            Family::StringFirst => {
                // A normal form that opened with '(' would read as a sequence the next
                // time (not idempotent): such a first component is not a valid value.
                let n = prep_unicode(first_component(value)?, true, Part::Whole)?;
                if n.starts_with('(') {
                    return None;
                }
                n.into_bytes()
            }
        })
    }

    /// Equality of two values under this rule: `Some(true)`/`Some(false)`, or `None` when
    /// either value is not valid for the rule (undefined).
    pub fn equal(self, a: &[u8], b: &[u8]) -> Option<bool> {
        Some(self.normalize(a).ok()? == self.normalize(b).ok()?)
    }

    /// Order of two values under this *ordering* rule; `None` for a rule that is not an
    /// ordering rule or when either value is invalid (the filter is then undefined).
    ///
    /// ```
    /// use std::cmp::Ordering;
    /// use heracles_core::schema::MatchingRule;
    ///
    /// let int = MatchingRule::IntegerOrderingMatch;
    /// assert_eq!(int.compare(b"-10", b"9"), Some(Ordering::Less));
    /// assert_eq!(int.compare(b"10", b"9"), Some(Ordering::Greater));
    /// let t = MatchingRule::GeneralizedTimeOrderingMatch;
    /// assert_eq!(t.compare(b"20240101000000Z", b"20240101003000+0100"), Some(Ordering::Greater));
    /// assert_eq!(MatchingRule::CaseIgnoreMatch.compare(b"a", b"b"), None);
    /// ```
    pub fn compare(self, a: &[u8], b: &[u8]) -> Option<Ordering> {
        if self.kind() != RuleKind::Ordering {
            return None;
        }
        let na = self.normalize(a).ok()?;
        let nb = self.normalize(b).ok()?;
        self.compare_normalized(&na, &nb)
    }

    /// Order of two values already normalised with [`normalize`](Self::normalize) of this
    /// ordering rule; `None` for a rule that is not an ordering rule.
    pub fn compare_normalized(self, a: &[u8], b: &[u8]) -> Option<Ordering> {
        if self.kind() != RuleKind::Ordering {
            return None;
        }
        Some(match self.family() {
            Family::Integer => integer_cmp(a, b),
            Family::Time => {
                let ta = parse_generalized_time(a)?;
                let tb = parse_generalized_time(b)?;
                ta.cmp(&tb)
            }
            _ => a.cmp(b),
        })
    }

    /// Normalises the parts of a substring assertion for this *substrings* rule; an error
    /// for another kind of rule or an invalid part.
    pub fn prepare_substrings(self, filter: &SubstringFilter<'_>) -> Result<PreparedSubstrings> {
        if self.kind() != RuleKind::Substrings {
            return Err(Error::new(
                ErrorCode::InappropriateMatching,
                format!("{} is not a substrings matching rule", self.name()),
            )
            .with_detail("matching_rule", self.name()));
        }
        let norm = |v: &[u8], part| self.normalize_part(v, part).ok_or_else(|| invalid(self));
        Ok(PreparedSubstrings {
            rule: self,
            initial: filter.initial.map(|v| norm(v, Part::Initial)).transpose()?,
            any: filter
                .any
                .iter()
                .map(|v| norm(v, Part::Any))
                .collect::<Result<_>>()?,
            final_: filter.final_.map(|v| norm(v, Part::Final)).transpose()?,
        })
    }

    /// Matches `value` against a substring assertion with this *substrings* rule; `None`
    /// if the rule is not a substrings rule or a value is invalid (undefined).
    ///
    /// ```
    /// use heracles_core::schema::{MatchingRule, SubstringFilter};
    ///
    /// let rule = MatchingRule::CaseIgnoreSubstringsMatch;
    /// let f = SubstringFilter { initial: Some(b"JOHN"), any: vec![b"  sm"], final_: None };
    /// assert_eq!(rule.substrings_match(b"John Smith", &f), Some(true));
    /// ```
    pub fn substrings_match(self, value: &[u8], filter: &SubstringFilter<'_>) -> Option<bool> {
        self.prepare_substrings(filter).ok()?.matches(value)
    }

    /// Approximate match (`~=`) of `value` against `assertion` where this rule is the
    /// attribute's *equality* rule (see the module documentation); `None` if undefined.
    pub fn approx_match(self, value: &[u8], assertion: &[u8]) -> Option<bool> {
        let words = |v: &[u8]| -> Option<Vec<String>> {
            let s = match self.family() {
                Family::CaseIgnore | Family::CaseExact | Family::CaseIgnoreList => {
                    prep_unicode(v, true, Part::Whole)?
                }
                _ => prep_ia5(v, true, Part::Whole)?,
            };
            Some(
                s.split([' ', '-', '.'])
                    .filter(|w| !w.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        };
        match self.family() {
            Family::CaseIgnore
            | Family::CaseExact
            | Family::CaseIgnoreIa5
            | Family::CaseExactIa5
            | Family::CaseIgnoreList => {
                let have = words(value)?;
                let want = words(assertion)?;
                if want.is_empty() {
                    return Some(have.is_empty());
                }
                let mut it = have.iter();
                Some(want.iter().all(|w| it.any(|h| h == w)))
            }
            _ => self.equal(value, assertion),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MatchingRule as R;
    use super::*;

    fn n(rule: R, v: &str) -> String {
        String::from_utf8(rule.normalize(v.as_bytes()).unwrap()).unwrap()
    }

    fn sub(rule: R, value: &str, pattern: &str) -> Option<bool> {
        let parts: Vec<&str> = pattern.split('*').collect();
        let last = parts.len() - 1;
        let f = SubstringFilter {
            initial: Some(parts[0].as_bytes()).filter(|p| !p.is_empty()),
            any: parts[1..last]
                .iter()
                .map(|p| p.as_bytes())
                .filter(|p| !p.is_empty())
                .collect(),
            final_: Some(parts[last].as_bytes()).filter(|p| !p.is_empty()),
        };
        rule.substrings_match(value.as_bytes(), &f)
    }

    #[test]
    fn lookup_by_name_and_oid() {
        assert_eq!(R::from_name("caseignorematch"), Some(R::CaseIgnoreMatch));
        assert_eq!(R::from_name("2.5.13.2"), Some(R::CaseIgnoreMatch));
        assert_eq!(R::from_name("uuidMatch"), Some(R::UuidMatch));
        assert_eq!(R::from_name("nope"), None);
        let mut names = std::collections::HashSet::new();
        let mut oids = std::collections::HashSet::new();
        for r in R::ALL {
            assert!(names.insert(r.name().to_ascii_lowercase()), "{r}");
            assert!(oids.insert(r.oid()), "{r}");
            assert_eq!(R::from_name(r.oid()), Some(*r));
            let suffix_ok = match r.kind() {
                RuleKind::Ordering => r.name().contains("Ordering"),
                RuleKind::Substrings => r.name().contains("Substrings"),
                RuleKind::Equality => {
                    !r.name().contains("Ordering") && !r.name().contains("Substrings")
                }
            };
            assert!(suffix_ok, "{r}");
        }
    }

    #[test]
    fn string_preparation_as_slapd() {
        // All pairs were checked against slapd 2.5 (duplicate value => equal).
        assert_eq!(n(R::CaseIgnoreMatch, " John   SMITH  "), "john smith");
        assert_eq!(n(R::CaseIgnoreMatch, "   "), " ");
        assert_eq!(n(R::CaseIgnoreMatch, ""), "");
        assert_eq!(n(R::CaseExactMatch, " A  b "), "A b");
        assert!(R::CaseIgnoreMatch.equal(b"x", b"X").unwrap());
        assert!(R::CaseIgnoreMatch.equal(b"a  b", b" a b").unwrap());
        // composed vs decomposed, full-width vs ASCII: equal; accents and sharp s: not
        assert!(R::CaseIgnoreMatch
            .equal("\u{e9}c".as_bytes(), "e\u{301}c".as_bytes())
            .unwrap());
        assert!(R::CaseIgnoreMatch
            .equal("\u{c9}C".as_bytes(), "\u{e9}c".as_bytes())
            .unwrap());
        assert!(R::CaseIgnoreMatch
            .equal("\u{ff21}".as_bytes(), b"a")
            .unwrap());
        assert!(!R::CaseIgnoreMatch
            .equal("\u{c4}rger".as_bytes(), b"arger")
            .unwrap());
        assert!(!R::CaseIgnoreMatch
            .equal("\u{df}e".as_bytes(), b"sse")
            .unwrap());
        assert!(R::CaseIgnoreMatch
            .equal("\u{130}".as_bytes(), b"i")
            .unwrap());
        assert!(R::CaseIgnoreMatch
            .equal("\u{1c5}".as_bytes(), "\u{1c6}".as_bytes())
            .unwrap());
        assert!(R::CaseIgnoreMatch
            .equal("\u{fb01}".as_bytes(), b"fi")
            .unwrap());
        assert!(R::CaseIgnoreMatch
            .equal("a\u{a0}b".as_bytes(), b"a b")
            .unwrap());
        assert!(R::CaseIgnoreMatch
            .equal("\u{212a}".as_bytes(), b"k")
            .unwrap());
        assert!(R::CaseIgnoreMatch
            .equal("\u{c5}".as_bytes(), "\u{212b}".as_bytes())
            .unwrap());
        assert!(!R::CaseIgnoreMatch
            .equal("\u{3c2}".as_bytes(), "\u{3c3}".as_bytes())
            .unwrap());
        assert!(!R::CaseIgnoreMatch.equal(b"a\tb", b"a b").unwrap());
        assert!(!R::CaseIgnoreMatch
            .equal("a\u{200b}b".as_bytes(), b"ab")
            .unwrap());
        assert!(!R::CaseIgnoreMatch
            .equal("\u{e9}\u{ad}c".as_bytes(), "\u{e9}c".as_bytes())
            .unwrap());
        assert!(R::CaseIgnoreMatch.normalize(b"\xc0").is_err());
        // IA5
        assert_eq!(
            n(R::CaseIgnoreIA5Match, "John.Smith@Example.COM"),
            "john.smith@example.com"
        );
        assert!(R::CaseExactIA5Match.equal(b"Ab  Cd", b"Ab Cd").unwrap());
        assert!(!R::CaseExactIA5Match.equal(b"A", b"a").unwrap());
        assert!(!R::CaseExactIA5Match
            .equal(b"/bin/zsh", b"/BIN/zsh")
            .unwrap());
        assert!(R::CaseIgnoreIA5Match
            .normalize("\u{e9}".as_bytes())
            .is_err());
        assert_eq!(n(R::CaseIgnoreIA5Match, ""), "");
    }

    #[test]
    fn numbers_phones_times_and_more() {
        assert!(R::NumericStringMatch.equal(b"12 34", b"1234").unwrap());
        assert!(R::NumericStringMatch.normalize(b"12a").is_err());
        assert!(R::TelephoneNumberMatch
            .equal(b"+1 555-123 4567", b"+15551234567")
            .unwrap());
        assert!(R::TelephoneNumberMatch.equal(b"12-34", b"1234").unwrap());
        assert!(R::TelephoneNumberMatch.equal(b"(1) 2", b"(1)2").unwrap());
        assert!(!R::TelephoneNumberMatch.equal(b"A1", b"a1").unwrap());
        assert_eq!(n(R::IntegerMatch, "-42"), "-42");
        assert!(R::IntegerMatch.normalize(b"01").is_err());
        assert!(R::IntegerMatch.equal(b"1", b"abc").is_none());
        assert_eq!(n(R::BooleanMatch, "TRUE"), "TRUE");
        assert!(R::BooleanMatch.normalize(b"true").is_err());
        assert!(R::GeneralizedTimeMatch
            .equal(b"20200101000000Z", b"20200101010000+0100")
            .unwrap());
        assert!(R::GeneralizedTimeMatch
            .equal(b"20200101000000.5Z", b"20200101000000.50Z")
            .unwrap());
        assert!(R::GeneralizedTimeMatch
            .equal(b"20200101000000Z", b"202001010000Z")
            .unwrap());
        assert_eq!(
            n(R::GeneralizedTimeMatch, "20200101123045.100+0100"),
            "20200101113045.1Z"
        );
        assert_eq!(
            n(R::UuidMatch, "01234567-89AB-cdef-0123-456789ABCDEF"),
            "01234567-89ab-cdef-0123-456789abcdef"
        );
        assert!(R::UuidMatch.normalize(b"x").is_err());
        assert_eq!(
            n(R::ObjectIdentifierMatch, "inetOrgPerson"),
            "inetorgperson"
        );
        assert_eq!(n(R::ObjectIdentifierMatch, "2.5.6.6"), "2.5.6.6");
        assert!(R::ObjectIdentifierMatch.normalize(b"1..2").is_err());
        assert!(R::OctetStringMatch.equal(b"a", b"A") == Some(false));
        assert!(R::BitStringMatch.normalize(b"'0101'B").is_ok());
        assert!(R::BitStringMatch.normalize(b"'2'B").is_err());
        assert_eq!(n(R::CaseIgnoreListMatch, "A  St$ 12 Town "), "a st$12 town");
        assert_eq!(
            n(
                R::ObjectIdentifierFirstComponentMatch,
                "( 2.5.4.3 NAME 'cn' )"
            ),
            "2.5.4.3"
        );
        assert_eq!(
            n(R::ObjectIdentifierFirstComponentMatch, "2.5.4.3"),
            "2.5.4.3"
        );
        assert_eq!(n(R::IntegerFirstComponentMatch, "(5 x)"), "5");
        assert_eq!(
            n(R::DirectoryStringFirstComponentMatch, "( 'A  b' x )"),
            "a b"
        );
        // A first component that is itself an opening parenthesis is not a value (its
        // normal form would be read as a sequence again).
        for bad in ["((", "( '(a' x )", "( '  (a' )"] {
            assert!(
                R::DirectoryStringFirstComponentMatch
                    .normalize(bad.as_bytes())
                    .is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn dn_schemaless() {
        let dn = R::DistinguishedNameMatch;
        assert!(dn
            .equal(b"cn=x,dc=example,dc=com", b"CN=X, DC=Example,DC=COM")
            .unwrap());
        assert!(dn
            .equal(b"cn=x+uid=y,dc=com", b"uid=Y+cn=X,dc=com")
            .unwrap());
        assert!(dn.equal(b"cn=a  b,dc=com", b"cn=a b,dc=com").unwrap());
        assert!(dn.equal(b"cn=x\\2cy,dc=com", b"cn=x\\,y,dc=com").unwrap());
        assert!(dn.equal(b"cn=x;dc=com", b"cn=x,dc=com").unwrap());
        assert!(dn
            .equal(b"commonName=x,dc=com", b"2.5.4.3=X,dc=com")
            .unwrap());
        assert!(dn.equal(b"", b"").unwrap());
        assert!(dn.normalize(b"cn").is_err());
        assert!(dn.normalize(b"\xff").is_err());
        let um = R::UniqueMemberMatch;
        assert!(um
            .equal(b"cn=x,dc=com#'01'B", b"CN=X,dc=com#'01'B")
            .unwrap());
        assert!(!um.equal(b"cn=x,dc=com#'01'B", b"CN=X,dc=com").unwrap());
    }

    #[test]
    fn ordering() {
        use Ordering::{Equal, Greater, Less};
        let int = R::IntegerOrderingMatch;
        assert_eq!(int.compare(b"1500", b"1000"), Some(Greater));
        assert_eq!(int.compare(b"-1", b"1500"), Some(Less));
        assert_eq!(int.compare(b"-20", b"-3"), Some(Less));
        assert_eq!(
            int.compare(b"99999999999999999999999999", b"1"),
            Some(Greater)
        );
        assert_eq!(int.compare(b"0", b"0"), Some(Equal));
        assert_eq!(int.compare(b"abc", b"1"), None);
        let ci = R::CaseIgnoreOrderingMatch;
        assert_eq!(ci.compare(b"Beta", b"alpha"), Some(Greater));
        assert_eq!(ci.compare(b"Beta", b"BETA"), Some(Equal));
        assert_eq!(ci.compare(b"Beta", b"bet"), Some(Greater));
        assert_eq!(R::CaseExactOrderingMatch.compare(b"B", b"a"), Some(Less));
        let t = R::GeneralizedTimeOrderingMatch;
        assert_eq!(t.compare(b"20000101000000Z", b"2000010100Z"), Some(Equal));
        assert_eq!(
            t.compare(b"20000101000000+0100", b"20000101000000Z"),
            Some(Less)
        );
        assert_eq!(t.compare(b"garbage", b"20000101000000Z"), None);
        assert_eq!(
            R::NumericStringOrderingMatch.compare(b"9", b"10"),
            Some(Greater)
        );
        assert_eq!(
            R::OctetStringOrderingMatch.compare(b"ab", b"abc"),
            Some(Less)
        );
        assert_eq!(
            R::UuidOrderingMatch.compare(
                b"00000000-0000-0000-0000-00000000000A",
                b"00000000-0000-0000-0000-000000000009"
            ),
            Some(Greater)
        );
        assert_eq!(R::IntegerMatch.compare(b"1", b"2"), None);
        assert_eq!(R::IntegerMatch.compare_normalized(b"1", b"2"), None);
    }

    #[test]
    fn substrings_as_slapd() {
        // Every line was checked against slapd 2.5 with the same value and filter.
        let ci = R::CaseIgnoreSubstringsMatch;
        assert_eq!(sub(ci, "John  Smith", "*ohn  sm*"), Some(true));
        assert_eq!(sub(ci, "John  Smith", "*ohn sm*"), Some(true));
        assert_eq!(sub(ci, "John  Smith", "JOHN*"), Some(true));
        assert_eq!(sub(ci, "Robert Knight", "Robert *"), Some(true));
        assert_eq!(sub(ci, "RobertKnight", "Robert *"), Some(false));
        assert_eq!(sub(ci, "RobertKnight", " Robert*"), Some(true));
        assert_eq!(sub(ci, "RobertKnight", "*Knight "), Some(true));
        assert_eq!(sub(ci, "Robert Knight", "*t  K*"), Some(true));
        assert_eq!(sub(ci, "RobertKnight", "*t  K*"), Some(false));
        assert_eq!(sub(ci, "Robert Knight", "*  Knight"), Some(true));
        assert_eq!(sub(ci, "RobertKnight", "*  Knight"), Some(false));
        assert_eq!(sub(ci, "Robert Knight", "Robert  *"), Some(true));
        assert_eq!(sub(ci, "RobertKnight", "robert*knight"), Some(true));
        assert_eq!(sub(ci, "RobertKnight", "robertknigh*ght"), Some(false));
        assert_eq!(sub(ci, "Robert Knight", "Rob*ert *Kni*"), Some(true));
        assert_eq!(sub(ci, "Robert Knight", "*ert *"), Some(true));
        assert_eq!(sub(ci, "Robert Knight", "*ert * Kni*"), Some(false));
        assert_eq!(sub(ci, " ", "* *"), Some(true));
        assert_eq!(sub(ci, "x", "* *"), Some(false));
        assert_eq!(sub(ci, "\u{c4}rger \u{d6}l", "ARGER*"), Some(false));
        let ce5 = R::CaseExactIA5SubstringsMatch;
        assert_eq!(sub(ce5, "Ab  Cd", "ab*"), Some(false));
        assert_eq!(sub(ce5, "Ab  Cd", "Ab C*"), Some(true));
        assert_eq!(sub(ce5, "Ab  Cd", "*b  C*"), Some(true));
        assert_eq!(
            sub(
                R::CaseIgnoreIA5SubstringsMatch,
                "John.Smith@Example.COM",
                "*smith@*"
            ),
            Some(true)
        );
        let num = R::NumericStringSubstringsMatch;
        assert_eq!(sub(num, "12 34 56", "*3 4*"), Some(true));
        assert_eq!(sub(num, "12 34 56", "*34*"), Some(true));
        let tel = R::TelephoneNumberSubstringsMatch;
        assert_eq!(sub(tel, "+1 555-123 4567", "*5551*"), Some(true));
        assert_eq!(sub(tel, "+1 555-123 4567", "*555 1*"), Some(true));
        assert_eq!(sub(R::OctetStringSubstringsMatch, "aXb", "a*b"), Some(true));
        // not a substrings rule, or invalid input: undefined
        assert_eq!(sub(R::CaseIgnoreMatch, "x", "x*"), None);
        assert_eq!(sub(R::CaseIgnoreIA5SubstringsMatch, "x", "\u{e9}*"), None);
        let e = R::CaseIgnoreMatch
            .prepare_substrings(&SubstringFilter::default())
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::InappropriateMatching);
        let p = ci.prepare_substrings(&SubstringFilter::default()).unwrap();
        assert_eq!(p.rule(), ci);
        assert!(p.matches_normalized(b"anything"));
    }

    #[test]
    fn approx() {
        let ci = R::CaseIgnoreMatch;
        assert_eq!(ci.approx_match(b"John  Smith", b"john smith"), Some(true));
        assert_eq!(ci.approx_match(b"John  Smith", b"smith"), Some(true));
        assert_eq!(
            ci.approx_match(b"Robert Knight", b"Knight Robert"),
            Some(false)
        );
        assert_eq!(
            ci.approx_match(b"Robert Knight", b"Robert Knight Smith"),
            Some(false)
        );
        assert_eq!(
            ci.approx_match(b"Robert Knight", b"Robert-Knight"),
            Some(true)
        );
        assert_eq!(ci.approx_match(b"Robert Knight", b"Rob"), Some(false));
        assert_eq!(
            R::CaseExactIA5Match.approx_match(b"Tymczak", b"tymczak"),
            Some(true)
        );
        assert_eq!(R::IntegerMatch.approx_match(b"1500", b"1500"), Some(true));
        assert_eq!(R::IntegerMatch.approx_match(b"1500", b"x"), None);
    }

    #[test]
    fn space_folding_parts() {
        assert_eq!(fold_spaces("  a  b  ", Part::Whole), "a b");
        assert_eq!(fold_spaces("  a  b  ", Part::Initial), "a b ");
        assert_eq!(fold_spaces("  a  b  ", Part::Any), " a b ");
        assert_eq!(fold_spaces("  a  b  ", Part::Final), " a b");
        assert_eq!(fold_spaces("   ", Part::Any), " ");
        assert_eq!(fold_spaces("   ", Part::Initial), "");
        assert_eq!(fold_spaces("   ", Part::Final), "");
    }
}
