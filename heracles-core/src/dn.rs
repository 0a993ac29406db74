//! Distinguished names (RFC 4514): parsing, escaping, normalisation, comparison, ancestry.
//!
//! A [`Dn`] is a sequence of [`Rdn`]s, most specific first (`uid=jdoe` in
//! `uid=jdoe,ou=people,dc=example,dc=com`). An [`Rdn`] is a non-empty set of [`Ava`]s
//! (attribute value assertions, `cn=a+sn=b` is multi-valued). Values are UTF-8 strings held
//! unescaped; escaping happens only when a DN is written out ([`Display`](fmt::Display)),
//! so a value coming from a user can never change the structure of a DN:
//!
//! ```
//! use heracles_core::dn::{Dn, Rdn};
//!
//! let people = Dn::parse("ou=People, dc=Example,dc=COM")?;
//! let user = people.child(Rdn::new("uid", "j,doe+x")?);
//! assert_eq!(user.to_string(), r"uid=j\,doe\+x,ou=People,dc=Example,dc=COM");
//! assert_eq!(user.rdn().map(Rdn::value), Some("j,doe+x"));
//!
//! // Comparison uses the normalised form: attribute types and (for most attributes) values
//! // are case-insensitive and insignificant spaces are ignored, never string suffixes.
//! let base = Dn::parse("DC=example,dc=com")?;
//! assert!(user.is_descendant_of(&base));
//! assert!(!Dn::parse("ou=xpeople,dc=example,dc=com")?.is_descendant_of(&people));
//! assert_eq!(user, Dn::parse(r"UID=J\2CDOE\2bX , ou=people,DC=example,dc=com")?);
//! assert_eq!(user.normalized(), r"uid=j\,doe\+x,ou=people,dc=example,dc=com");
//!
//! // Bad input is an INVALID_DN error saying what is wrong and where.
//! let err = Dn::parse(r"cn=a\zz,dc=com").unwrap_err();
//! assert_eq!(err.code().as_str(), "INVALID_DN");
//! assert_eq!(err.details()["position"], 4);
//! # Ok::<(), heracles_core::error::Error>(())
//! ```
//!
//! # Parsing (RFC 4514 §3)
//!
//! * `\` escapes one of `,+"\<>;=#` and space, or starts a hex pair `\XX`; hex pairs may
//!   form multi-byte UTF-8 sequences (`\C4\8D` is `č`); a sequence that is not valid UTF-8 is
//!   an error. `\00` is a NUL character in the value; a raw NUL byte is an error.
//! * Unescaped spaces around attribute types, `=`, `,` and `+` are insignificant; spaces
//!   inside a value are kept, and an escaped space (`\ `) is always significant.
//! * `"`, `<` and `>` must be escaped; `=` and a `#` that does not start the value may appear
//!   unescaped. Quoted values (RFC 1779) are not accepted.
//! * `;` is accepted as an RDN separator like `,` (RFC 2253 compatibility); it is always
//!   escaped on output.
//! * Attribute types are a `keystring` (a letter, then letters, digits and hyphens) or a
//!   numeric OID (at least two arcs, no leading zeros). An `oid.`/`OID.` prefix before a
//!   numeric OID (RFC 1779) is accepted and dropped. Attribute options (`cn;lang-en`) are
//!   not allowed in a DN.
//! * A value starting with an unescaped `#` is the hex form of a BER encoding. It is
//!   accepted when it is a primitive string type: OCTET STRING (0x04), UTF8String (0x0c),
//!   NumericString (0x12), PrintableString (0x13), TeletexString (0x14), IA5String (0x16),
//!   VisibleString (0x1a) — whose content must be valid UTF-8 —, BMPString (0x1e, UCS-2
//!   big-endian) and UniversalString (0x1c, UCS-4 big-endian). The value becomes the decoded
//!   string (and is written back in string form). Any other BER is an error.
//! * Empty values (`cn=`, or a BER string with no content) are errors: Heracles never names
//!   an entry with an empty value, and the directory string syntaxes forbid it.
//! * The same AVA twice in one RDN (`cn=a+CN=A`) is an error.
//! * The empty string (or only spaces) is the root DN, [`Dn::root`].
//! * Input is limited to [`MAX_DN_LEN`] bytes, [`MAX_RDNS`] RDNs and [`MAX_AVAS`] AVAs per
//!   RDN; the written (escaped) form of the result and its normalised form
//!   ([`Dn::normalized`], which lower-casing can make longer) must fit in [`MAX_DN_LEN`] too,
//!   so that every parsed DN writes back into strings that parse. The parser is an iterative byte-level state machine: no recursion, no panics.
//!
//! Every failure is an [`Error`] with [`ErrorCode::InvalidDn`], a message naming the problem
//! and the byte offset, and the details `position` (byte offset into the input, when the
//! error comes from parsing), `reason` (a short `snake_case` word such as `bad_escape`,
//! `invalid_utf8`, `missing_equals`, `empty_value`, `too_long`) and, for short inputs, `dn`.
//!
//! # Writing (RFC 4514 §2.4)
//!
//! `"+,;<>\=` are escaped with a backslash everywhere, `#` and space at the start of a value,
//! space at its end; control characters (NUL included) are written as hex pairs of their
//! UTF-8 bytes (`\0D`); every other character, non-ASCII included, is written as is. The
//! attribute type is written as it was given (without an `oid.` prefix). Parsing the written
//! form gives back the same types and values, and writing is idempotent.
//!
//! # Comparison
//!
//! `==`, [`Hash`] and [`Ord`] use the normalised form (also available as a string,
//! [`Dn::normalized`]):
//!
//! * attribute types are case-insensitive; well-known OIDs and alias names map to their
//!   short name (`2.5.4.3`, `commonName` → `cn`), see [`normalize_attribute_type`];
//! * values are compared by the attribute's equality matching rule, see [`normalize_value`]:
//!   `integerMatch` for `uidNumber`/`gidNumber`, `caseExactMatch` for the attributes of a
//!   small table, `caseIgnoreMatch` for every other attribute;
//! * the AVAs of a multi-valued RDN are compared as a set (order does not matter).
//!
//! DNs are ordered root first (`dc=com` < `dc=example,dc=com` < `ou=people,dc=example,dc=com`),
//! so in a `BTreeMap<Dn, _>` an entry is followed by its whole subtree, as one contiguous range.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorCode, Result};

/// The longest DN string accepted by the parser, in bytes (16 KiB). [`Rdn`] constructors
/// also refuse an RDN whose string form (written or normalised) is longer, and
/// [`Dn::from_rdns`] / [`Dn::checked_child`] a DN whose string form is longer.
pub const MAX_DN_LEN: usize = 16 * 1024;

/// The largest number of RDNs in a DN accepted by the parser, [`Dn::from_rdns`] and
/// [`Dn::checked_child`].
pub const MAX_RDNS: usize = 256;

/// The largest number of AVAs in one (multi-valued) RDN.
pub const MAX_AVAS: usize = 64;

/// Inputs up to this length are echoed (debug-escaped) in error messages and details.
const ECHO_LIMIT: usize = 256;

/// Alias names and well-known OIDs of attribute types, lower case, mapped to the lower-case
/// short name used in the normalised form (the names of OpenLDAP's core, cosine, inetorgperson
/// and nis schemas).
const ATTRIBUTE_ALIASES: &[(&str, &str)] = &[
    ("2.5.4.3", "cn"),
    ("commonname", "cn"),
    ("0.9.2342.19200300.100.1.1", "uid"),
    ("userid", "uid"),
    ("2.5.4.11", "ou"),
    ("organizationalunitname", "ou"),
    ("2.5.4.10", "o"),
    ("organizationname", "o"),
    ("0.9.2342.19200300.100.1.25", "dc"),
    ("domaincomponent", "dc"),
    ("2.5.4.6", "c"),
    ("countryname", "c"),
    ("2.5.4.7", "l"),
    ("localityname", "l"),
    ("2.5.4.8", "st"),
    ("stateorprovincename", "st"),
    ("2.5.4.9", "street"),
    ("streetaddress", "street"),
    ("2.5.4.4", "sn"),
    ("surname", "sn"),
    ("2.5.4.42", "givenname"),
    ("gn", "givenname"),
    ("2.5.4.12", "title"),
    ("2.5.4.5", "serialnumber"),
    ("2.5.4.43", "initials"),
    ("2.5.4.44", "generationqualifier"),
    ("2.5.4.46", "dnqualifier"),
    ("2.5.4.41", "name"),
    ("0.9.2342.19200300.100.1.3", "mail"),
    ("rfc822mailbox", "mail"),
    ("1.2.840.113549.1.9.1", "email"),
    ("emailaddress", "email"),
    ("pkcs9email", "email"),
    ("0.9.2342.19200300.100.1.37", "associateddomain"),
    ("1.3.6.1.1.1.1.0", "uidnumber"),
    ("1.3.6.1.1.1.1.1", "gidnumber"),
];

/// Attribute types (normalised names) whose equality rule is `integerMatch`.
const INTEGER_ATTRIBUTES: &[&str] = &["uidnumber", "gidnumber"];

/// Attribute types (normalised names) whose equality rule is `caseExactMatch` /
/// `caseExactIA5Match`: their values keep their case when compared (spaces are still
/// insignificant). This is the extension point for case-exact naming attributes; none of
/// Heracles' own naming attributes is case-exact. Listed: the autofs schema's naming
/// attributes (RFC 2307bis).
const CASE_EXACT_ATTRIBUTES: &[&str] = &["automountkey", "automountmapname"];

/// The equality matching rule used to normalise the values of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MatchingRule {
    CaseIgnore,
    CaseExact,
    Integer,
}

fn matching_rule(normalized_attr: &str) -> MatchingRule {
    if INTEGER_ATTRIBUTES.contains(&normalized_attr) {
        MatchingRule::Integer
    } else if CASE_EXACT_ATTRIBUTES.contains(&normalized_attr) {
        MatchingRule::CaseExact
    } else {
        MatchingRule::CaseIgnore
    }
}

/// The normalised form of an attribute type: ASCII lower case, without an `oid.` prefix,
/// with well-known OIDs and alias names replaced by the short name (`2.5.4.3`, `commonName`
/// → `cn`; `0.9.2342.19200300.100.1.1`, `userid` → `uid`, ...). Other types are only
/// lower-cased.
///
/// ```
/// use heracles_core::dn::normalize_attribute_type;
/// assert_eq!(normalize_attribute_type("commonName"), "cn");
/// assert_eq!(normalize_attribute_type("OID.2.5.4.11"), "ou");
/// assert_eq!(normalize_attribute_type("uidNumber"), "uidnumber");
/// ```
pub fn normalize_attribute_type(attr: &str) -> String {
    normalized_type(attr).into_owned()
}

/// Short names that are their own normalised form, borrowed instead of allocated (the
/// naming attributes of almost every DN).
const SHORT_NAMES: &[&str] = &["uid", "cn", "ou", "dc", "o", "c", "l", "st", "sn"];

/// [`normalize_attribute_type`], borrowing the well-known names.
fn normalized_type(attr: &str) -> Cow<'static, str> {
    let bare = strip_oid_prefix(attr).unwrap_or(attr);
    if let Some(name) = SHORT_NAMES.iter().find(|n| n.eq_ignore_ascii_case(bare)) {
        return Cow::Borrowed(name);
    }
    match ATTRIBUTE_ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(bare))
    {
        Some((_, name)) => Cow::Borrowed(name),
        None => Cow::Owned(bare.to_ascii_lowercase()),
    }
}

/// The normalised form of a value of the attribute `attr`, by the attribute's equality
/// matching rule; two values are equal for the directory iff their normalised forms are.
///
/// * `caseIgnoreMatch` (the default): white space (`char::is_whitespace`: tabs, line
///   breaks, no-break and other Unicode spaces) counts as a space; leading and trailing
///   spaces are removed and internal runs collapse to one space (RFC 4518 §2.6.1);
///   characters are lower-cased (Unicode, character by character). A value of only spaces
///   normalises to one space.
/// * `caseExactMatch` (the attributes of a small table, e.g. `automountKey`): the same
///   without lower-casing.
/// * `integerMatch` (`uidNumber`, `gidNumber`): surrounding spaces, a `+` sign and leading
///   zeros are insignificant (`007`, `+7` → `7`; `-0` → `0`). A value that is not an
///   integer is normalised by `caseIgnoreMatch` instead.
///
/// The RFC 4518 steps that map some characters to nothing (soft hyphens, zero-width and
/// control characters) and Unicode normalisation are not applied: such values stay
/// distinct.
///
/// ```
/// use heracles_core::dn::normalize_value;
/// assert_eq!(normalize_value("cn", "  John   SMITH "), "john smith");
/// assert_eq!(normalize_value("uidNumber", "+0042"), "42");
/// ```
pub fn normalize_value(attr: &str, value: &str) -> String {
    normalize_with(matching_rule(&normalize_attribute_type(attr)), value)
}

fn normalize_with(rule: MatchingRule, value: &str) -> String {
    normalized_value(rule, value).unwrap_or_else(|| value.to_owned())
}

/// The normalised form of `value` by `rule`; `None` when it is `value` itself (checked
/// quickly for printable ASCII, the common case: nothing to fold, no space to drop).
fn normalized_value(rule: MatchingRule, value: &str) -> Option<String> {
    let b = value.as_bytes();
    let plain = !b.is_empty()
        && b.first() != Some(&b' ')
        && b.last() != Some(&b' ')
        && !b.windows(2).any(|w| w == b"  ")
        && b.iter().all(|c| {
            (0x20..0x7f).contains(c)
                && (rule != MatchingRule::CaseIgnore || !c.is_ascii_uppercase())
        });
    let fold = match rule {
        MatchingRule::CaseIgnore | MatchingRule::CaseExact => plain,
        // An integer is normal without a sign and leading zeros ("0" alone is normal).
        MatchingRule::Integer => {
            plain && b.iter().all(u8::is_ascii_digit) && (b.first() != Some(&b'0') || b.len() == 1)
        }
    };
    if fold {
        return None;
    }
    Some(match rule {
        MatchingRule::CaseIgnore => fold_spaces(value, true),
        MatchingRule::CaseExact => fold_spaces(value, false),
        MatchingRule::Integer => {
            normalize_integer(value).unwrap_or_else(|| fold_spaces(value, true))
        }
    })
}

/// Insignificant space handling and (optionally) case folding.
fn fold_spaces(value: &str, fold_case: bool) -> String {
    let mut out = String::with_capacity(value.len());
    let mut pending_space = false;
    for c in value.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        if fold_case {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    if out.is_empty() && !value.is_empty() {
        out.push(' ');
    }
    out
}

fn normalize_integer(value: &str) -> Option<String> {
    let t = value.trim();
    let (negative, digits) = if let Some(rest) = t.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = t.strip_prefix('+') {
        (false, rest)
    } else {
        (false, t)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits.trim_start_matches('0');
    Some(if significant.is_empty() {
        "0".to_owned()
    } else if negative {
        format!("-{significant}")
    } else {
        significant.to_owned()
    })
}

/// The part after an `oid.` prefix (any case) when it is followed by a digit.
fn strip_oid_prefix(attr: &str) -> Option<&str> {
    let prefix = attr.get(..4)?;
    let rest = attr.get(4..)?;
    (prefix.eq_ignore_ascii_case("oid.") && rest.starts_with(|c: char| c.is_ascii_digit()))
        .then_some(rest)
}

/// A problem found in an attribute type: reason, message, byte offset inside the type.
type TypeProblem = (&'static str, String, usize);

/// Checks an attribute type (`keystring` or numeric OID, optionally `oid.`-prefixed) and
/// returns it without the prefix.
fn validate_attribute_type(attr: &str) -> std::result::Result<&str, TypeProblem> {
    if attr.is_empty() {
        return Err(("empty_attribute_type", "empty attribute type".into(), 0));
    }
    let (bare, offset) = match strip_oid_prefix(attr) {
        Some(rest) => (rest, 4),
        None => (attr, 0),
    };
    let bytes = bare.as_bytes();
    match bytes.first() {
        Some(b) if b.is_ascii_digit() => {
            let mut arc_start = 0;
            let mut arcs = 0;
            for (i, arc) in bare.split('.').enumerate() {
                let at = offset + arc_start;
                if arc.is_empty() {
                    return Err((
                        "invalid_attribute_type",
                        format!("empty arc in numeric OID {attr:?}"),
                        at,
                    ));
                }
                if let Some(j) = arc.bytes().position(|b| !b.is_ascii_digit()) {
                    return Err((
                        "invalid_attribute_type",
                        format!("invalid character in numeric OID {attr:?}"),
                        at + j,
                    ));
                }
                if arc.len() > 1 && arc.starts_with('0') {
                    return Err((
                        "invalid_attribute_type",
                        format!("leading zero in numeric OID {attr:?}"),
                        at,
                    ));
                }
                arc_start += arc.len() + 1;
                arcs = i + 1;
            }
            if arcs < 2 {
                return Err((
                    "invalid_attribute_type",
                    format!("numeric OID {attr:?} needs at least two arcs"),
                    offset,
                ));
            }
            Ok(bare)
        }
        Some(b) if b.is_ascii_alphabetic() => {
            if let Some(j) = bytes
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
            {
                return Err((
                    "invalid_attribute_type",
                    format!("invalid character in attribute type {attr:?}"),
                    offset + j,
                ));
            }
            Ok(bare)
        }
        _ => Err((
            "invalid_attribute_type",
            format!("attribute type {attr:?} must start with a letter or be a numeric OID"),
            offset,
        )),
    }
}

/// An error of an API constructor (no position in an input string).
fn construct_error(reason: &'static str, message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidDn, message).with_detail("reason", reason)
}

// ------------------------------------------------------------------------------------------
// Ava
// ------------------------------------------------------------------------------------------

/// One attribute value assertion of an RDN: an attribute type and a (non-empty) value.
///
/// Equality, hashing and ordering use the normalised type and value.
#[derive(Clone)]
pub struct Ava {
    attr: String,
    value: String,
    norm_attr: Cow<'static, str>,
    /// `None` when the normalised value is `value` itself (no second copy).
    norm_value: Option<String>,
    /// A hash of the normalised type and value (see [`Ava::fingerprint`]).
    fingerprint: u64,
}

impl Ava {
    /// A new AVA. The attribute type must be a `keystring` or a numeric OID (an `oid.`
    /// prefix is dropped); the value may be any non-empty string, it is escaped when
    /// written out.
    ///
    /// ```
    /// use heracles_core::dn::Ava;
    /// let ava = Ava::new("cn", "Smith, John")?;
    /// assert_eq!(ava.to_string(), r"cn=Smith\, John");
    /// assert!(Ava::new("c n", "x").is_err());
    /// assert!(Ava::new("cn", "").is_err());
    /// # Ok::<(), heracles_core::error::Error>(())
    /// ```
    pub fn new(attr: &str, value: &str) -> Result<Ava> {
        let bare = validate_attribute_type(attr).map_err(|(reason, message, _)| {
            construct_error(reason, format!("invalid DN: {message}")).with_detail("attribute", attr)
        })?;
        if value.is_empty() {
            return Err(construct_error(
                "empty_value",
                format!("invalid DN: empty value for attribute {bare:?}"),
            )
            .with_detail("attribute", bare));
        }
        Ok(Ava::from_parts(bare.to_owned(), value.to_owned()))
    }

    /// Builds from an already validated type and non-empty value.
    fn from_parts(attr: String, value: String) -> Ava {
        let norm_attr = normalized_type(&attr);
        let norm_value = normalized_value(matching_rule(&norm_attr), &value);
        let fingerprint = fingerprint_bytes(
            fingerprint_bytes(0x243f_6a88_85a3_08d3, norm_attr.as_bytes()),
            norm_value.as_deref().unwrap_or(&value).as_bytes(),
        );
        Ava {
            attr,
            value,
            norm_attr,
            norm_value,
            fingerprint,
        }
    }

    /// A fast 64-bit hash of the normalised type and value, computed once: equal AVAs have
    /// equal fingerprints, so unequal fingerprints prove inequality. Not keyed and not
    /// collision resistant — equal fingerprints prove nothing; compare the AVAs.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The attribute type as given (without an `oid.` prefix).
    pub fn attr(&self) -> &str {
        &self.attr
    }

    /// The value, unescaped.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The normalised attribute type (see [`normalize_attribute_type`]).
    pub fn normalized_attr(&self) -> &str {
        &self.norm_attr
    }

    /// The normalised value (see [`normalize_value`]).
    pub fn normalized_value(&self) -> &str {
        self.norm_value.as_deref().unwrap_or(&self.value)
    }

    fn key(&self) -> (&str, &str) {
        (&self.norm_attr, self.normalized_value())
    }
}

impl fmt::Display for Ava {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.attr)?;
        f.write_char('=')?;
        write_escaped(f, &self.value)
    }
}

impl fmt::Debug for Ava {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ava({:?})", self.to_string())
    }
}

impl PartialEq for Ava {
    fn eq(&self, other: &Ava) -> bool {
        self.fingerprint == other.fingerprint && self.key() == other.key()
    }
}

impl Eq for Ava {}

impl Hash for Ava {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl PartialOrd for Ava {
    fn partial_cmp(&self, other: &Ava) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ava {
    fn cmp(&self, other: &Ava) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// Mixes a word into a running hash (the multiply-rotate step of `FxHash`).
#[inline]
fn mix(h: u64, w: u64) -> u64 {
    (h.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95)
}

/// Hashes bytes into `h`, eight at a time (for [`Ava::fingerprint`]).
fn fingerprint_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = mix(h, u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    let mut w = [0u8; 8];
    w[..rest.len()].copy_from_slice(rest);
    mix(h, u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59))
}

/// Writes a value in RFC 4514 string form.
fn write_escaped<W: fmt::Write + ?Sized>(out: &mut W, value: &str) -> fmt::Result {
    for (i, c) in value.char_indices() {
        let first = i == 0;
        let last = i + c.len_utf8() == value.len();
        match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' | '=' => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
            '#' if first => out.write_str("\\#")?,
            ' ' if first || last => out.write_str("\\ ")?,
            c if c.is_control() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    write!(out, "\\{b:02X}")?;
                }
            }
            c => out.write_char(c)?,
        }
    }
    Ok(())
}

/// Counts the bytes of a string form without building it.
struct LenCounter(usize);

impl fmt::Write for LenCounter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 = self.0.saturating_add(s.len());
        Ok(())
    }
}

fn display_len(item: &impl fmt::Display) -> usize {
    let mut counter = LenCounter(0);
    // Writing into a LenCounter cannot fail.
    let _ = write!(counter, "{item}");
    counter.0
}

// ------------------------------------------------------------------------------------------
// Rdn
// ------------------------------------------------------------------------------------------

/// A relative distinguished name: a non-empty set of AVAs, usually one (`uid=jdoe`), several
/// in a multi-valued RDN (`cn=John+sn=Smith`).
///
/// The AVAs keep the order they were given in for display; equality, hashing and ordering
/// treat them as a set of normalised AVAs.
#[derive(Clone)]
pub struct Rdn {
    avas: Vec<Ava>,
    /// Indices of `avas` in normalised order; empty for a single AVA (no allocation for
    /// the RDNs of almost every DN).
    order: Vec<usize>,
}

/// Why a list of AVAs is not an RDN: reason and message.
type RdnProblem = (&'static str, String);

impl Rdn {
    /// A single-valued RDN `attr=value`. The attribute type must be a `keystring` or a
    /// numeric OID; the value may be any non-empty string (it is escaped when written out).
    ///
    /// ```
    /// use heracles_core::dn::Rdn;
    /// let rdn = Rdn::new("cn", "#1 admin ")?;
    /// assert_eq!(rdn.to_string(), r"cn=\#1 admin\ ");
    /// assert_eq!(rdn.value(), "#1 admin ");
    /// # Ok::<(), heracles_core::error::Error>(())
    /// ```
    pub fn new(attr: &str, value: &str) -> Result<Rdn> {
        Rdn::from_avas(vec![Ava::new(attr, value)?])
    }

    /// A (possibly multi-valued) RDN from its AVAs: at least one, at most [`MAX_AVAS`], no
    /// AVA twice, and a string form of at most [`MAX_DN_LEN`] bytes.
    pub fn from_avas(avas: Vec<Ava>) -> Result<Rdn> {
        Rdn::build(avas)
            .map_err(|(reason, message)| construct_error(reason, format!("invalid DN: {message}")))
    }

    /// This RDN with one more AVA, to build a multi-valued RDN.
    ///
    /// ```
    /// use heracles_core::dn::Rdn;
    /// let rdn = Rdn::new("cn", "John")?.with("sn", "Smith")?;
    /// assert_eq!(rdn.to_string(), "cn=John+sn=Smith");
    /// assert_eq!(rdn, "SN=smith+CN=john".parse()?);
    /// # Ok::<(), heracles_core::error::Error>(())
    /// ```
    pub fn with(self, attr: &str, value: &str) -> Result<Rdn> {
        let mut avas = self.avas;
        avas.push(Ava::new(attr, value)?);
        Rdn::from_avas(avas)
    }

    fn build(mut avas: Vec<Ava>) -> std::result::Result<Rdn, RdnProblem> {
        avas.shrink_to_fit();
        if avas.is_empty() {
            return Err(("empty_rdn", "an RDN needs at least one AVA".into()));
        }
        if avas.len() > MAX_AVAS {
            return Err((
                "too_many_avas",
                format!("more than {MAX_AVAS} AVAs in one RDN"),
            ));
        }
        let mut order: Vec<usize> = if avas.len() > 1 {
            (0..avas.len()).collect()
        } else {
            Vec::new()
        };
        order.sort_by(|&a, &b| match (avas.get(a), avas.get(b)) {
            (Some(x), Some(y)) => x.cmp(y),
            _ => Ordering::Equal,
        });
        for pair in order.windows(2) {
            if let [a, b] = pair {
                if let (Some(x), Some(y)) = (avas.get(*a), avas.get(*b)) {
                    if x == y {
                        return Err((
                            "duplicate_ava",
                            format!("the AVA {:?} appears twice in one RDN", y.to_string()),
                        ));
                    }
                }
            }
        }
        let rdn = Rdn { avas, order };
        // Escaping writes at most 3 bytes per byte of a value: below that bound the exact
        // lengths need not be computed (they cost two formatting passes per RDN).
        // (Per AVA: type, `=`, escaped value; `+` between AVAs.)
        let bound = rdn.avas.iter().fold(2 * rdn.avas.len(), |n, a| {
            n.saturating_add(a.attr.len().max(a.norm_attr.len()))
                .saturating_add(
                    a.value
                        .len()
                        .max(a.normalized_value().len())
                        .saturating_mul(3),
                )
        });
        if bound <= MAX_DN_LEN {
            return Ok(rdn);
        }
        let len = display_len(&rdn);
        if len > MAX_DN_LEN {
            return Err((
                "too_long",
                format!("the RDN is {len} bytes long, more than {MAX_DN_LEN}"),
            ));
        }
        let len = rdn.normalized_len();
        if len > MAX_DN_LEN {
            return Err((
                "too_long",
                format!("the normalised RDN is {len} bytes long, more than {MAX_DN_LEN}"),
            ));
        }
        Ok(rdn)
    }

    /// Parses the string form of one RDN (`cn=a+sn=b`); see the [module docs](self) for the
    /// syntax. A string with several RDNs is an error.
    pub fn parse(s: &str) -> Result<Rdn> {
        let mut rdns = Parser::new(s)?.parse_rdns(true)?;
        match rdns.pop() {
            Some(rdn) if rdns.is_empty() => Ok(rdn),
            _ => Err(syntax_error(
                s,
                0,
                "empty_rdn",
                "expected an RDN, found nothing",
            )),
        }
    }

    /// The attribute type of the first AVA.
    pub fn attr(&self) -> &str {
        self.avas.first().map_or("", Ava::attr)
    }

    /// The value of the first AVA.
    pub fn value(&self) -> &str {
        self.avas.first().map_or("", Ava::value)
    }

    /// All AVAs, in the order they were given.
    pub fn avas(&self) -> &[Ava] {
        &self.avas
    }

    /// Whether this RDN has more than one AVA.
    pub fn is_multi_valued(&self) -> bool {
        self.avas.len() > 1
    }

    /// The value of the first AVA whose attribute type is `attr` (compared normalised, so
    /// `commonName` finds `cn`).
    pub fn value_of(&self, attr: &str) -> Option<&str> {
        let wanted = normalized_type(attr);
        self.avas
            .iter()
            .find(|a| *a.norm_attr == *wanted)
            .map(Ava::value)
    }

    /// The normalised string form: AVAs sorted, normalised types and values.
    pub fn normalized(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = self.write_normalized(&mut out);
        out
    }

    fn write_normalized<W: fmt::Write + ?Sized>(&self, out: &mut W) -> fmt::Result {
        for (i, ava) in self.sorted().enumerate() {
            if i > 0 {
                out.write_char('+')?;
            }
            out.write_str(&ava.norm_attr)?;
            out.write_char('=')?;
            write_escaped(out, ava.normalized_value())?;
        }
        Ok(())
    }

    /// The length of [`Rdn::normalized`], without building it.
    fn normalized_len(&self) -> usize {
        let mut counter = LenCounter(0);
        // Writing into a LenCounter cannot fail.
        let _ = self.write_normalized(&mut counter);
        counter.0
    }

    fn sorted(&self) -> impl Iterator<Item = &Ava> + '_ {
        (0..self.avas.len()).filter_map(|k| self.avas.get(self.order.get(k).copied().unwrap_or(k)))
    }
}

impl fmt::Display for Rdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, ava) in self.avas.iter().enumerate() {
            if i > 0 {
                f.write_char('+')?;
            }
            write!(f, "{ava}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Rdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rdn({:?})", self.to_string())
    }
}

impl PartialEq for Rdn {
    fn eq(&self, other: &Rdn) -> bool {
        self.avas.len() == other.avas.len() && self.sorted().eq(other.sorted())
    }
}

impl Eq for Rdn {}

impl Hash for Rdn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.avas.len());
        for ava in self.sorted() {
            ava.hash(state);
        }
    }
}

impl PartialOrd for Rdn {
    fn partial_cmp(&self, other: &Rdn) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rdn {
    fn cmp(&self, other: &Rdn) -> Ordering {
        self.sorted().cmp(other.sorted())
    }
}

impl FromStr for Rdn {
    type Err = Error;

    fn from_str(s: &str) -> Result<Rdn> {
        Rdn::parse(s)
    }
}

impl Serialize for Rdn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rdn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Rdn, D::Error> {
        let s = String::deserialize(deserializer)?;
        Rdn::parse(&s).map_err(serde::de::Error::custom)
    }
}

// ------------------------------------------------------------------------------------------
// Dn
// ------------------------------------------------------------------------------------------

/// A distinguished name: RDNs, most specific first. The root DN has none.
///
/// Equality, hashing and ordering use the normalised form (see the [module docs](self));
/// the order is root first, so a subtree is a contiguous range of a `BTreeMap<Dn, _>`.
#[derive(Clone, Default)]
pub struct Dn {
    rdns: Vec<Rdn>,
}

impl Dn {
    /// The root DN (no RDNs; the empty string).
    pub fn root() -> Dn {
        Dn::default()
    }

    /// Parses the RFC 4514 string form; see the [module docs](self) for the syntax and the
    /// limits. The empty string is the root DN.
    pub fn parse(s: &str) -> Result<Dn> {
        let dn = Dn {
            rdns: Parser::new(s)?.parse_rdns(false)?,
        };
        // Escaping can make the written form up to three times as long as the input
        // (`=` becomes `\=`, a raw control character `\XX`), and lower-casing makes the
        // normalised form up to 1.5 times longer still ('Ⱥ', 2 bytes, becomes 'ⱥ', 3 bytes):
        // every parsed DN must write back into strings (written and normalised) that parse.
        if s.len() > MAX_DN_LEN * 2 / 9 {
            let len = display_len(&dn);
            if len > MAX_DN_LEN {
                return Err(syntax_error(
                    s,
                    0,
                    "too_long",
                    format_args!("the escaped DN would be {len} bytes, more than {MAX_DN_LEN}"),
                ));
            }
            let len = dn.normalized_len();
            if len > MAX_DN_LEN {
                return Err(syntax_error(
                    s,
                    0,
                    "too_long",
                    format_args!("the normalised DN would be {len} bytes, more than {MAX_DN_LEN}"),
                ));
            }
        }
        Ok(dn)
    }

    /// A DN from its RDNs (most specific first): at most [`MAX_RDNS`], with a string form of
    /// at most [`MAX_DN_LEN`] bytes.
    pub fn from_rdns(rdns: Vec<Rdn>) -> Result<Dn> {
        let dn = Dn { rdns };
        dn.check_limits()?;
        Ok(dn)
    }

    /// Checks the limits a parsed DN has: at most [`MAX_RDNS`] RDNs and [`MAX_DN_LEN`] bytes
    /// of string form (a DN built with [`Dn::child`] may exceed them).
    pub fn check_limits(&self) -> Result<()> {
        if self.rdns.len() > MAX_RDNS {
            return Err(construct_error(
                "too_many_rdns",
                format!("invalid DN: more than {MAX_RDNS} RDNs"),
            ));
        }
        let len = display_len(self);
        if len > MAX_DN_LEN {
            return Err(construct_error(
                "too_long",
                format!("invalid DN: {len} bytes long, more than {MAX_DN_LEN}"),
            ));
        }
        let len = self.normalized_len();
        if len > MAX_DN_LEN {
            return Err(construct_error(
                "too_long",
                format!(
                    "invalid DN: its normalised form is {len} bytes long, more than {MAX_DN_LEN}"
                ),
            ));
        }
        Ok(())
    }

    /// The RDNs, most specific first.
    pub fn rdns(&self) -> &[Rdn] {
        &self.rdns
    }

    /// The number of RDNs (0 for the root DN): the depth below the root.
    pub fn len(&self) -> usize {
        self.rdns.len()
    }

    /// Whether this is the root DN (same as [`Dn::is_root`]).
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    /// Whether this is the root DN.
    pub fn is_root(&self) -> bool {
        self.rdns.is_empty()
    }

    /// The most specific RDN, `None` for the root DN.
    pub fn rdn(&self) -> Option<&Rdn> {
        self.rdns.first()
    }

    /// The DN without its first RDN, `None` for the root DN (the parent of a one-RDN DN is
    /// the root DN).
    pub fn parent(&self) -> Option<Dn> {
        self.rdns.split_first().map(|(_, rest)| Dn {
            rdns: rest.to_vec(),
        })
    }

    /// The DN of a child entry: `rdn` followed by this DN. Does not check the limits (see
    /// [`Dn::checked_child`]); a DN beyond them is still usable but its string form does not
    /// parse back.
    #[must_use]
    pub fn child(&self, rdn: Rdn) -> Dn {
        let mut rdns = Vec::with_capacity(self.rdns.len() + 1);
        rdns.push(rdn);
        rdns.extend_from_slice(&self.rdns);
        Dn { rdns }
    }

    /// [`Dn::child`], failing when the result is beyond [`MAX_RDNS`] or [`MAX_DN_LEN`].
    pub fn checked_child(&self, rdn: Rdn) -> Result<Dn> {
        let dn = self.child(rdn);
        dn.check_limits()?;
        Ok(dn)
    }

    /// Whether `ancestor` is a proper ancestor of this DN (strict: a DN is not its own
    /// descendant). The root DN is an ancestor of every other DN. Compares normalised RDNs,
    /// never strings: `ou=xpeople,dc=com` is not below `ou=people,dc=com`, `uid=a,OU=People`
    /// is below `ou=people`.
    pub fn is_descendant_of(&self, ancestor: &Dn) -> bool {
        self.strip_suffix(ancestor)
            .is_some_and(|prefix| !prefix.is_empty())
    }

    /// Whether this DN is `base` or below it (the scope `subtree` of a search at `base`).
    pub fn is_descendant_or_self(&self, base: &Dn) -> bool {
        self.strip_suffix(base).is_some()
    }

    /// The RDNs of this DN above `base` (most specific first) if this DN is `base` or below
    /// it, else `None`; empty when this DN is `base`.
    ///
    /// ```
    /// use heracles_core::dn::Dn;
    /// let dn = Dn::parse("uid=a,ou=people,dc=example,dc=com")?;
    /// let base = Dn::parse("dc=example,dc=com")?;
    /// let rel = dn.strip_suffix(&base).map(|r| r.len());
    /// assert_eq!(rel, Some(2));
    /// # Ok::<(), heracles_core::error::Error>(())
    /// ```
    pub fn strip_suffix(&self, base: &Dn) -> Option<&[Rdn]> {
        let keep = self.rdns.len().checked_sub(base.rdns.len())?;
        let (prefix, suffix) = self.rdns.split_at_checked(keep)?;
        (suffix == base.rdns.as_slice()).then_some(prefix)
    }

    /// This DN moved from below `old_base` to below `new_base` (for renaming a subtree), or
    /// `None` if it is not `old_base` or below it. Does not check the limits.
    #[must_use]
    pub fn replace_suffix(&self, old_base: &Dn, new_base: &Dn) -> Option<Dn> {
        let prefix = self.strip_suffix(old_base)?;
        let mut rdns = Vec::with_capacity(prefix.len() + new_base.rdns.len());
        rdns.extend_from_slice(prefix);
        rdns.extend_from_slice(&new_base.rdns);
        Some(Dn { rdns })
    }

    /// The canonical string form: normalised attribute types and values (see
    /// [`normalize_value`]), the AVAs of multi-valued RDNs sorted, escaped like the string
    /// form. Two DNs are equal iff their normalised strings are, so it can serve as a map
    /// key; it also parses back into an equal DN.
    ///
    /// ```
    /// use heracles_core::dn::Dn;
    /// let dn = Dn::parse("UID=JDoe + 2.5.4.3=John  Doe, OU=People,uidNumber=007")?;
    /// assert_eq!(dn.normalized(), "cn=john doe+uid=jdoe,ou=people,uidnumber=7");
    /// # Ok::<(), heracles_core::error::Error>(())
    /// ```
    pub fn normalized(&self) -> String {
        let mut out = String::new();
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            // Writing into a String cannot fail.
            let _ = rdn.write_normalized(&mut out);
        }
        out
    }
}

impl Dn {
    /// The length of [`Dn::normalized`], without building it.
    fn normalized_len(&self) -> usize {
        self.rdns
            .iter()
            .map(Rdn::normalized_len)
            .fold(self.rdns.len().saturating_sub(1), usize::saturating_add)
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            write!(f, "{rdn}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dn({:?})", self.to_string())
    }
}

impl PartialEq for Dn {
    fn eq(&self, other: &Dn) -> bool {
        self.rdns == other.rdns
    }
}

impl Eq for Dn {}

impl Hash for Dn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rdns.hash(state);
    }
}

impl PartialOrd for Dn {
    fn partial_cmp(&self, other: &Dn) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Dn {
    /// Root first: compares the RDNs from the root down, a DN sorts right before its
    /// descendants.
    fn cmp(&self, other: &Dn) -> Ordering {
        self.rdns.iter().rev().cmp(other.rdns.iter().rev())
    }
}

impl FromStr for Dn {
    type Err = Error;

    fn from_str(s: &str) -> Result<Dn> {
        Dn::parse(s)
    }
}

impl Serialize for Dn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Dn, D::Error> {
        let s = String::deserialize(deserializer)?;
        Dn::parse(&s).map_err(serde::de::Error::custom)
    }
}

// ------------------------------------------------------------------------------------------
// Parser
// ------------------------------------------------------------------------------------------

/// A syntax error at byte `pos` of `input`.
fn syntax_error(input: &str, pos: usize, reason: &'static str, what: impl fmt::Display) -> Error {
    let message = if input.len() <= ECHO_LIMIT {
        format!("invalid DN {input:?}: {what} at byte {pos}")
    } else {
        format!("invalid DN ({} bytes): {what} at byte {pos}", input.len())
    };
    let mut err = Error::new(ErrorCode::InvalidDn, message)
        .with_detail("position", pos)
        .with_detail("reason", reason);
    if input.len() <= ECHO_LIMIT {
        err = err.with_detail("dn", input);
    }
    err
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The characters that may follow a `\` as themselves.
fn is_escapable(b: u8) -> bool {
    matches!(
        b,
        b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';' | b'=' | b'#' | b' '
    )
}

/// An iterative parser over the bytes of a DN string; `pos` is always a byte offset into
/// `input`, on a character boundary whenever an error is reported.
struct Parser<'a> {
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Result<Parser<'a>> {
        if input.len() > MAX_DN_LEN {
            return Err(syntax_error(
                input,
                MAX_DN_LEN,
                "too_long",
                format_args!("input longer than {MAX_DN_LEN} bytes"),
            ));
        }
        Ok(Parser {
            input,
            bytes: input.as_bytes(),
            pos: 0,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn char_at(&self, pos: usize) -> char {
        self.input
            .get(pos..)
            .and_then(|s| s.chars().next())
            .unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    fn error(&self, pos: usize, reason: &'static str, what: impl fmt::Display) -> Error {
        syntax_error(self.input, pos, reason, what)
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    /// `distinguishedName`; with `single`, exactly one RDN.
    fn parse_rdns(mut self, single: bool) -> Result<Vec<Rdn>> {
        let mut rdns = Vec::new();
        self.skip_spaces();
        if self.peek().is_none() && !single {
            return Ok(rdns);
        }
        loop {
            if rdns.len() >= MAX_RDNS {
                return Err(self.error(
                    self.pos,
                    "too_many_rdns",
                    format_args!("more than {MAX_RDNS} RDNs"),
                ));
            }
            rdns.push(self.parse_rdn()?);
            match self.peek() {
                None => {
                    // Kept by the embedded directory and the caches for every entry: no
                    // spare capacity (a DN of four RDNs was ~2 KiB with it, ~0.8 without).
                    rdns.shrink_to_fit();
                    return Ok(rdns);
                }
                Some(b',' | b';') if single => {
                    return Err(self.error(
                        self.pos,
                        "unexpected_separator",
                        format_args!(
                            "expected a single RDN, found {:?} (escape it as '\\{}')",
                            self.char_at(self.pos),
                            self.char_at(self.pos)
                        ),
                    ));
                }
                Some(b',' | b';') => self.pos += 1,
                Some(_) => {
                    return Err(self.error(
                        self.pos,
                        "unexpected_character",
                        format_args!("unexpected character {:?}", self.char_at(self.pos)),
                    ));
                }
            }
        }
    }

    /// `relativeDistinguishedName`.
    fn parse_rdn(&mut self) -> Result<Rdn> {
        let start = self.pos;
        let first = self.parse_ava()?;
        if self.peek() != Some(b'+') {
            // Almost every RDN: one AVA, in a vector of exactly one.
            return Rdn::build(vec![first])
                .map_err(|(reason, message)| self.error(start, reason, message));
        }
        self.pos += 1;
        let mut avas = vec![first];
        loop {
            if avas.len() >= MAX_AVAS {
                return Err(self.error(
                    self.pos,
                    "too_many_avas",
                    format_args!("more than {MAX_AVAS} AVAs in one RDN"),
                ));
            }
            avas.push(self.parse_ava()?);
            if self.peek() == Some(b'+') {
                self.pos += 1;
            } else {
                break;
            }
        }
        Rdn::build(avas).map_err(|(reason, message)| self.error(start, reason, message))
    }

    /// `attributeTypeAndValue`, with insignificant spaces around it.
    fn parse_ava(&mut self) -> Result<Ava> {
        self.skip_spaces();
        let attr_start = self.pos;
        while matches!(self.peek(), Some(b) if b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            self.pos += 1;
        }
        let raw_attr = self.input.get(attr_start..self.pos).unwrap_or("");
        if raw_attr.is_empty() {
            return Err(match self.peek() {
                None => self.error(
                    self.pos,
                    "empty_rdn",
                    "expected an attribute type, found the end of the input",
                ),
                Some(b'=') => self.error(self.pos, "empty_attribute_type", "empty attribute type"),
                Some(b',' | b';' | b'+') => self.error(
                    self.pos,
                    "empty_rdn",
                    format_args!(
                        "expected an attribute type, found {:?}",
                        self.char_at(self.pos)
                    ),
                ),
                Some(_) => self.error(
                    self.pos,
                    "invalid_attribute_type",
                    format_args!(
                        "invalid character {:?} in attribute type",
                        self.char_at(self.pos)
                    ),
                ),
            });
        }
        let attr = validate_attribute_type(raw_attr).map_err(|(reason, message, offset)| {
            self.error(attr_start + offset, reason, message)
        })?;
        match self.peek() {
            Some(b' ' | b'=') => {}
            None => {
                return Err(self.error(
                    self.pos,
                    "missing_equals",
                    format_args!("missing '=' after attribute type {raw_attr:?}"),
                ));
            }
            Some(_) => {
                return Err(self.error(
                    self.pos,
                    "invalid_attribute_type",
                    format_args!(
                        "invalid character {:?} in attribute type",
                        self.char_at(self.pos)
                    ),
                ));
            }
        }
        self.skip_spaces();
        if self.peek() != Some(b'=') {
            return Err(self.error(
                self.pos,
                "missing_equals",
                format_args!("missing '=' after attribute type {raw_attr:?}"),
            ));
        }
        self.pos += 1;
        self.skip_spaces();
        let value_start = self.pos;
        let value = if self.peek() == Some(b'#') {
            self.parse_hexstring()?
        } else {
            self.parse_string()?
        };
        if value.is_empty() {
            return Err(self.error(
                value_start,
                "empty_value",
                format_args!("empty value for attribute {raw_attr:?}"),
            ));
        }
        Ok(Ava::from_parts(attr.to_owned(), value))
    }

    /// `string` (RFC 4514), up to an unescaped `,`, `;`, `+` or the end; trailing unescaped
    /// spaces are dropped.
    fn parse_string(&mut self) -> Result<String> {
        let value_start = self.pos;
        let mut buf: Vec<u8> = Vec::new();
        // Length of `buf` up to its last significant byte (not an unescaped space).
        let mut significant = 0;
        // A run of consecutive hex escapes: (input position, start in `buf`).
        let mut run: Option<(usize, usize)> = None;
        while let Some(b) = self.peek() {
            match b {
                b',' | b'+' | b';' => break,
                b'\\' => {
                    let escape = self.pos;
                    match self.bytes.get(escape + 1).copied() {
                        None => {
                            return Err(self.error(
                                escape,
                                "bad_escape",
                                "'\\' at the end of the input",
                            ));
                        }
                        Some(h) if hex_value(h).is_some() => {
                            let byte = match (
                                hex_value(h),
                                self.bytes.get(escape + 2).copied().and_then(hex_value),
                            ) {
                                (Some(hi), Some(lo)) => (hi << 4) | lo,
                                _ => {
                                    return Err(self.error(
                                        escape,
                                        "bad_escape",
                                        "'\\' followed by a single hex digit (a hex escape needs two)",
                                    ));
                                }
                            };
                            if run.is_none() {
                                run = Some((escape, buf.len()));
                            }
                            buf.push(byte);
                            significant = buf.len();
                            self.pos += 3;
                        }
                        Some(c) if is_escapable(c) => {
                            self.check_run(&buf, &mut run)?;
                            buf.push(c);
                            significant = buf.len();
                            self.pos += 2;
                        }
                        Some(_) => {
                            return Err(self.error(
                                escape,
                                "bad_escape",
                                format_args!(
                                    "invalid escape '\\{}' (escape only ,+\"\\<>;=# and space, \
                                     or write two hex digits)",
                                    self.char_at(escape + 1)
                                ),
                            ));
                        }
                    }
                }
                b'"' | b'<' | b'>' => {
                    return Err(self.error(
                        self.pos,
                        "unescaped_special",
                        format_args!("unescaped '{}' (escape it as '\\{}')", b as char, b as char),
                    ));
                }
                0 => {
                    return Err(self.error(
                        self.pos,
                        "unescaped_nul",
                        "unescaped NUL byte (write it as '\\00')",
                    ));
                }
                b' ' => {
                    self.check_run(&buf, &mut run)?;
                    buf.push(b);
                    self.pos += 1;
                }
                _ => {
                    self.check_run(&buf, &mut run)?;
                    buf.push(b);
                    significant = buf.len();
                    self.pos += 1;
                }
            }
        }
        self.check_run(&buf, &mut run)?;
        buf.truncate(significant);
        String::from_utf8(buf).map_err(|_| {
            self.error(
                value_start,
                "invalid_utf8",
                "the value is not valid UTF-8 after unescaping",
            )
        })
    }

    /// Ends a run of hex escapes, which must be valid UTF-8 on its own (it is surrounded
    /// by whole characters).
    fn check_run(&self, buf: &[u8], run: &mut Option<(usize, usize)>) -> Result<()> {
        if let Some((input_start, buf_start)) = run.take() {
            if let Err(e) = std::str::from_utf8(buf.get(buf_start..).unwrap_or_default()) {
                return Err(self.error(
                    input_start + 3 * e.valid_up_to(),
                    "invalid_utf8",
                    "hex escapes do not form valid UTF-8",
                ));
            }
        }
        Ok(())
    }

    /// `hexstring`: `#` and the hex form of a BER-encoded string.
    fn parse_hexstring(&mut self) -> Result<String> {
        let start = self.pos;
        self.pos += 1;
        let hex_start = self.pos;
        while self.peek().and_then(hex_value).is_some() {
            self.pos += 1;
        }
        let hex = self.bytes.get(hex_start..self.pos).unwrap_or_default();
        if hex.is_empty() || hex.len() % 2 != 0 {
            return Err(self.error(
                start,
                "bad_hexstring",
                "'#' must start an even number of hex digits (a BER value), or be escaped as '\\#'",
            ));
        }
        self.skip_spaces();
        match self.peek() {
            None | Some(b',' | b'+' | b';') => {}
            Some(_) => {
                return Err(self.error(
                    self.pos,
                    "bad_hexstring",
                    format_args!(
                        "unexpected character {:?} after a '#' hex value",
                        self.char_at(self.pos)
                    ),
                ));
            }
        }
        let ber: Vec<u8> = hex
            .chunks_exact(2)
            .filter_map(|pair| match pair {
                [hi, lo] => Some((hex_value(*hi)? << 4) | hex_value(*lo)?),
                _ => None,
            })
            .collect();
        decode_ber_string(&ber).map_err(|what| self.error(start, "unsupported_ber", what))
    }
}

/// Decodes a BER-encoded primitive string type into a string.
fn decode_ber_string(ber: &[u8]) -> std::result::Result<String, String> {
    let [tag, first_len, rest @ ..] = ber else {
        return Err("BER value too short".into());
    };
    let (len, content) = if *first_len < 0x80 {
        (usize::from(*first_len), rest)
    } else {
        let n = usize::from(first_len & 0x7f);
        if n == 0 {
            return Err("indefinite BER length in a primitive value".into());
        }
        if n > 4 {
            return Err("BER length too long".into());
        }
        let Some((len_bytes, content)) = rest.split_at_checked(n) else {
            return Err("truncated BER length".into());
        };
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, content)
    };
    if content.len() != len {
        return Err(format!(
            "BER length {len} does not match the {} content bytes",
            content.len()
        ));
    }
    let utf8 = |content: &[u8]| {
        String::from_utf8(content.to_vec())
            .map_err(|_| "BER string content is not valid UTF-8".to_owned())
    };
    match tag {
        // OCTET STRING, UTF8String, NumericString, PrintableString, TeletexString,
        // IA5String, VisibleString
        0x04 | 0x0c | 0x12 | 0x13 | 0x14 | 0x16 | 0x1a => utf8(content),
        // BMPString: UCS-2 big-endian
        0x1e => {
            if content.len() % 2 != 0 {
                return Err("BMPString content has an odd length".into());
            }
            content
                .chunks_exact(2)
                .map(|c| match c {
                    [hi, lo] => char::from_u32(u32::from(*hi) << 8 | u32::from(*lo)),
                    _ => None,
                })
                .collect::<Option<String>>()
                .ok_or_else(|| "BMPString holds an invalid character".to_owned())
        }
        // UniversalString: UCS-4 big-endian
        0x1c => {
            if content.len() % 4 != 0 {
                return Err("UniversalString content length is not a multiple of 4".into());
            }
            content
                .chunks_exact(4)
                .map(|c| match c {
                    [a, b, c, d] => char::from_u32(u32::from_be_bytes([*a, *b, *c, *d])),
                    _ => None,
                })
                .collect::<Option<String>>()
                .ok_or_else(|| "UniversalString holds an invalid character".to_owned())
        }
        _ => Err(format!(
            "BER tag 0x{tag:02x} is not a supported primitive string type"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};
    use std::time::{Duration, Instant};

    use proptest::prelude::*;

    use super::*;

    fn dn(s: &str) -> Dn {
        Dn::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    #[test]
    fn types_and_values_in_normal_form_compare_like_the_others() {
        for (a, b) in [
            (
                "uid=jdoe,ou=people,dc=example,dc=com",
                "UID=JDoe,OU=People,DC=Example,DC=COM",
            ),
            ("uidNumber=7,dc=x", "uidnumber=007,dc=x"),
            ("cn=a b,dc=x", "commonName= A  B ,dc=x"),
            ("gn=x,dc=x", "givenName=X,dc=x"),
            ("automountKey=K,dc=x", "automountkey=K,dc=x"),
        ] {
            assert_eq!(dn(a), dn(b), "{a} / {b}");
            assert_eq!(dn(a).normalized(), dn(b).normalized(), "{a} / {b}");
            let fa = dn(a).rdn().map(|r| r.avas()[0].fingerprint());
            let fb = dn(b).rdn().map(|r| r.avas()[0].fingerprint());
            assert_eq!(fa, fb, "{a} / {b}");
        }
        assert_ne!(dn("automountKey=K,dc=x"), dn("automountKey=k,dc=x"));
        let ava = Ava::new("UID", "jdoe").unwrap();
        assert_eq!(
            (ava.normalized_attr(), ava.normalized_value()),
            ("uid", "jdoe")
        );
        let ava = Ava::new("oid.2.5.4.3", "John").unwrap();
        assert_eq!(
            (ava.normalized_attr(), ava.normalized_value()),
            ("cn", "john")
        );
        assert_eq!(
            dn("cn=John,dc=x")
                .rdn()
                .and_then(|r| r.value_of("CommonName")),
            Some("John")
        );
    }

    /// The (type, value) pairs of every RDN, as given: structural identity.
    fn structure(dn: &Dn) -> Vec<Vec<(String, String)>> {
        dn.rdns()
            .iter()
            .map(|r| {
                r.avas()
                    .iter()
                    .map(|a| (a.attr().to_owned(), a.value().to_owned()))
                    .collect()
            })
            .collect()
    }

    fn pairs(list: &[&[(&str, &str)]]) -> Vec<Vec<(String, String)>> {
        list.iter()
            .map(|r| {
                r.iter()
                    .map(|(a, v)| ((*a).to_owned(), (*v).to_owned()))
                    .collect()
            })
            .collect()
    }

    /// Parses `s`, expecting an INVALID_DN error with the given reason; returns the position.
    fn bad(s: &str, reason: &str) -> Option<u64> {
        let err = match Dn::parse(s) {
            Ok(d) => panic!("{s:?} should not parse, got {d:?}"),
            Err(e) => e,
        };
        assert_eq!(err.code(), ErrorCode::InvalidDn, "{s:?}");
        assert_eq!(err.details()["reason"], reason, "{s:?}: {err}");
        err.details()
            .get("position")
            .and_then(serde_json::Value::as_u64)
    }

    // ---- RFC 4514 §4 examples ------------------------------------------------------------

    #[test]
    fn rfc4514_examples() {
        let d = dn("CN=Steve Kille,O=Isode Limited,C=GB");
        assert_eq!(
            structure(&d),
            pairs(&[
                &[("CN", "Steve Kille")],
                &[("O", "Isode Limited")],
                &[("C", "GB")]
            ])
        );
        assert_eq!(d.to_string(), "CN=Steve Kille,O=Isode Limited,C=GB");

        let d = dn("OU=Sales+CN=J.  Smith,DC=example,DC=net");
        assert_eq!(
            structure(&d),
            pairs(&[
                &[("OU", "Sales"), ("CN", "J.  Smith")],
                &[("DC", "example")],
                &[("DC", "net")]
            ])
        );
        assert!(d.rdn().is_some_and(Rdn::is_multi_valued));
        assert_eq!(d.to_string(), "OU=Sales+CN=J.  Smith,DC=example,DC=net");

        let d = dn(r#"CN=James \"Jim\" Smith\, III,DC=example,DC=net"#);
        assert_eq!(d.rdns()[0].value(), r#"James "Jim" Smith, III"#);
        assert_eq!(
            d.to_string(),
            r#"CN=James \"Jim\" Smith\, III,DC=example,DC=net"#
        );

        let d = dn(r"CN=Before\0dAfter,DC=example,DC=net");
        assert_eq!(d.rdns()[0].value(), "Before\rAfter");
        assert_eq!(d.to_string(), r"CN=Before\0DAfter,DC=example,DC=net");

        let d = dn("1.3.6.1.4.1.1466.0=#04024869,DC=example,DC=com");
        assert_eq!(d.rdns()[0].attr(), "1.3.6.1.4.1.1466.0");
        assert_eq!(d.rdns()[0].value(), "Hi");
        assert_eq!(d.to_string(), "1.3.6.1.4.1.1466.0=Hi,DC=example,DC=com");

        let d = dn(r"CN=Lu\C4\8Di\C4\87");
        assert_eq!(d.rdns()[0].value(), "Lučić");
        assert_eq!(d.to_string(), "CN=Lučić");
    }

    // ---- escaping ------------------------------------------------------------------------

    #[test]
    fn every_special_escape_parses() {
        for c in [',', '+', '"', '\\', '<', '>', ';', '=', '#', ' '] {
            let d = dn(&format!("cn=a\\{c}b"));
            assert_eq!(d.rdns()[0].value(), format!("a{c}b"), "escape {c:?}");
            assert_eq!(
                Dn::parse(&d.to_string()).map(|x| structure(&x)),
                Ok(structure(&d))
            );
        }
    }

    #[test]
    fn hex_escapes() {
        assert_eq!(dn(r"cn=\41\62c").rdns()[0].value(), "Abc");
        assert_eq!(dn(r"cn=\2c\2C").rdns()[0].value(), ",,");
        assert_eq!(dn(r"cn=a\00b").rdns()[0].value(), "a\0b");
        assert_eq!(dn(r"cn=a\00b").to_string(), r"cn=a\00b");
        // a 4-byte sequence, and hex escapes mixed with raw multi-byte characters
        assert_eq!(dn(r"cn=\F0\9F\98\80é\C3\A9").rdns()[0].value(), "😀éé");
        // escaped and raw spaces
        assert_eq!(dn(r"cn=\20a\20").rdns()[0].value(), " a ");
    }

    #[test]
    fn leading_and_trailing_spaces_and_sharp() {
        // unescaped spaces around components are insignificant
        let d = dn("  cn = a b  ,  dc = com  ");
        assert_eq!(structure(&d), pairs(&[&[("cn", "a b")], &[("dc", "com")]]));
        assert_eq!(d.to_string(), "cn=a b,dc=com");
        // escaped ones are kept
        assert_eq!(dn(r"cn=\ a\ ").rdns()[0].value(), " a ");
        assert_eq!(dn(r"cn=a\ ,dc=com").rdns()[0].value(), "a ");
        assert_eq!(dn(r"cn=a\  ,dc=com").rdns()[0].value(), "a ");
        assert_eq!(dn(r"cn=a \ ").rdns()[0].value(), "a  ");
        assert_eq!(dn(r"cn=\  a").rdns()[0].value(), "  a");
        assert_eq!(dn(r"cn=\ ").rdns()[0].value(), " ");
        assert_eq!(dn(r"cn=\#1").rdns()[0].value(), "#1");
        assert_eq!(dn(r"cn=a#1").rdns()[0].value(), "a#1");
        assert_eq!(dn("cn=a=b").rdns()[0].value(), "a=b");

        let rdn = |v: &str| Rdn::new("cn", v).map(|r| r.to_string());
        assert_eq!(rdn(" a "), Ok(r"cn=\ a\ ".to_owned()));
        assert_eq!(rdn("  "), Ok(r"cn=\ \ ".to_owned()));
        assert_eq!(rdn("   "), Ok(r"cn=\  \ ".to_owned()));
        assert_eq!(rdn(" "), Ok(r"cn=\ ".to_owned()));
        assert_eq!(rdn("#a#"), Ok(r"cn=\#a#".to_owned()));
        assert_eq!(rdn("a b"), Ok("cn=a b".to_owned()));
        for v in [" a ", "  ", "   ", " ", "#a#", "a  b "] {
            let r = Rdn::new("cn", v).unwrap();
            assert_eq!(Rdn::parse(&r.to_string()).unwrap().value(), v);
        }
    }

    #[test]
    fn display_escapes() {
        let r = Rdn::new("cn", "a\"b+c,d;e<f>g\\h=i").unwrap();
        assert_eq!(r.to_string(), r#"cn=a\"b\+c\,d\;e\<f\>g\\h\=i"#);
        let r = Rdn::new("cn", "tab\there\u{7f}\u{85}\0").unwrap();
        assert_eq!(r.to_string(), r"cn=tab\09here\7F\C2\85\00");
        let r = Rdn::new("cn", "Ünïcödé 東京 😀").unwrap();
        assert_eq!(r.to_string(), "cn=Ünïcödé 東京 😀");
        assert_eq!(
            Rdn::parse(&r.to_string()).unwrap().value(),
            "Ünïcödé 東京 😀"
        );
    }

    #[test]
    fn semicolon_separates_rdns() {
        let d = dn("cn=a;dc=com");
        assert_eq!(structure(&d), pairs(&[&[("cn", "a")], &[("dc", "com")]]));
        assert_eq!(d.to_string(), "cn=a,dc=com");
    }

    #[test]
    fn ber_values() {
        let ok = |hex: &str, expected: &str| {
            let d = dn(&format!("cn=#{hex},dc=com"));
            assert_eq!(d.rdns()[0].value(), expected, "#{hex}");
        };
        ok("04024869", "Hi");
        ok("0c024869", "Hi");
        ok("0C03C3A961", "éa");
        ok("13024869", "Hi");
        ok("14024869", "Hi");
        ok("16024869", "Hi");
        ok("1a024869", "Hi");
        ok("12023432", "42");
        ok("1e0400480069", "Hi");
        ok("1e02010d", "č");
        ok("1c080000004800000069", "Hi");
        ok("0481024869", "Hi"); // long-form length
        ok("0484000000024869", "Hi");
        ok("04024869  ", "Hi");
        assert_eq!(dn("cn=#04024869+sn=x").rdns()[0].avas().len(), 2);

        let err = |hex: &str, reason: &str| {
            bad(&format!("cn=#{hex},dc=com"), reason);
        };
        err("", "bad_hexstring");
        err("0", "bad_hexstring");
        err("040248696", "bad_hexstring");
        err("0402Hi", "bad_hexstring");
        err("04024869 x", "bad_hexstring");
        err("0402zz", "bad_hexstring");
        err("04", "unsupported_ber");
        err("040348", "unsupported_ber"); // length mismatch
        err("04024869FF", "unsupported_ber");
        err("0480", "unsupported_ber"); // indefinite
        err("0485000000000148", "unsupported_ber");
        err("0481", "unsupported_ber");
        err("0201FF", "unsupported_ber"); // INTEGER
        err("2404040148", "unsupported_ber"); // constructed OCTET STRING
        err("0c02C328", "unsupported_ber"); // invalid UTF-8
        err("1e03004800", "unsupported_ber");
        err("1e02D800", "unsupported_ber"); // surrogate
        err("1c0400110000", "unsupported_ber"); // beyond Unicode
        err("0400", "empty_value");
        // the hex value is decoded, then written in string form
        assert_eq!(dn("cn=#04022320").to_string(), r"cn=\#\ ");
        assert_eq!(dn("cn=#0403202320").to_string(), r"cn=\ #\ ");
    }

    // ---- attribute types -----------------------------------------------------------------

    #[test]
    fn attribute_types() {
        assert_eq!(dn("cn-2=a").rdns()[0].attr(), "cn-2");
        assert_eq!(dn("2.5.4.3=a").rdns()[0].attr(), "2.5.4.3");
        assert_eq!(dn("OID.2.5.4.3=a").rdns()[0].attr(), "2.5.4.3");
        assert_eq!(dn("oid.0.9=a").rdns()[0].attr(), "0.9");
        assert_eq!(dn("oid=a").rdns()[0].attr(), "oid");
        assert_eq!(dn("oid.2.5.4.3=a"), dn("cn=A"));
        assert_eq!(Rdn::new("OID.2.5.4.3", "x").unwrap().attr(), "2.5.4.3");

        assert_eq!(bad("=a", "empty_attribute_type"), Some(0));
        assert_eq!(bad("cn=a, =b", "empty_attribute_type"), Some(6));
        assert_eq!(bad("c_n=a", "invalid_attribute_type"), Some(1));
        assert_eq!(bad("cn;lang-en=a", "invalid_attribute_type"), Some(2));
        assert_eq!(bad("1cn=a", "invalid_attribute_type"), Some(1));
        assert_eq!(bad("-cn=a", "invalid_attribute_type"), Some(0));
        assert_eq!(bad("c.n=a", "invalid_attribute_type"), Some(1));
        assert_eq!(bad("2.05.4=a", "invalid_attribute_type"), Some(2));
        assert_eq!(bad("2=a", "invalid_attribute_type"), Some(0));
        assert_eq!(bad("2.5.=a", "invalid_attribute_type"), Some(4));
        assert_eq!(bad("2..5=a", "invalid_attribute_type"), Some(2));
        assert_eq!(bad("oid.2=a", "invalid_attribute_type"), Some(4));
        assert_eq!(bad("ćn=a", "invalid_attribute_type"), Some(0));
        assert_eq!(bad("cn x=a", "missing_equals"), Some(3));
        assert_eq!(bad("cn", "missing_equals"), Some(2));
        assert_eq!(bad("cn  ", "missing_equals"), Some(4));
        assert_eq!(bad("cn=a,dc", "missing_equals"), Some(7));

        for attr in ["", " cn", "c n", "1", "cn;x", "2.05", "é"] {
            let e = Rdn::new(attr, "x").unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidDn, "{attr:?}");
            assert!(e.details().contains_key("reason"));
        }
    }

    // ---- empty values and structure errors -----------------------------------------------

    #[test]
    fn empty_values_are_rejected() {
        assert_eq!(bad("cn=", "empty_value"), Some(3));
        assert_eq!(bad("cn=  ", "empty_value"), Some(5));
        assert_eq!(bad("cn=,dc=com", "empty_value"), Some(3));
        assert_eq!(bad("cn=a+sn=,dc=com", "empty_value"), Some(8));
        for e in [
            Rdn::new("cn", "").unwrap_err(),
            Ava::new("cn", "").unwrap_err(),
            Rdn::new("cn", "a").unwrap().with("sn", "").unwrap_err(),
        ] {
            assert_eq!(e.code(), ErrorCode::InvalidDn);
            assert_eq!(e.details()["reason"], "empty_value");
        }
    }

    #[test]
    fn structural_errors() {
        assert_eq!(bad(",", "empty_rdn"), Some(0));
        assert_eq!(bad("cn=a,", "empty_rdn"), Some(5));
        assert_eq!(bad("cn=a,,dc=com", "empty_rdn"), Some(5));
        assert_eq!(bad("cn=a+", "empty_rdn"), Some(5));
        assert_eq!(bad("+cn=a", "empty_rdn"), Some(0));
        assert_eq!(bad("cn=a+cn=A", "duplicate_ava"), Some(0));
        assert_eq!(bad("dc=x,cn=a+CN=a ", "duplicate_ava"), Some(5));
        assert!(dn("cn=a+cn=b").rdn().is_some_and(Rdn::is_multi_valued));
        let e = Rdn::new("cn", "a")
            .unwrap()
            .with("2.5.4.3", "A")
            .unwrap_err();
        assert_eq!(e.details()["reason"], "duplicate_ava");
        assert_eq!(
            Rdn::from_avas(vec![]).unwrap_err().details()["reason"],
            "empty_rdn"
        );
    }

    #[test]
    fn root_dn() {
        assert!(dn("").is_root());
        assert!(dn("   ").is_root());
        assert_eq!(dn(""), Dn::root());
        assert_eq!(Dn::root().to_string(), "");
        assert_eq!(Dn::root().len(), 0);
        assert!(Dn::root().is_empty());
        assert_eq!(Dn::root().rdn(), None);
        assert_eq!(Dn::root().parent(), None);
        assert_eq!(Dn::root().normalized(), "");
        assert!(Rdn::parse("").is_err());
        assert!(Rdn::parse("  ").is_err());
    }

    #[test]
    fn rdn_parse() {
        let r = Rdn::parse(" cn = a + sn=b ").unwrap();
        assert_eq!(r.attr(), "cn");
        assert_eq!(r.value(), "a");
        assert_eq!(r.value_of("surname"), Some("b"));
        assert_eq!(r.value_of("uid"), None);
        assert_eq!(r.to_string(), "cn=a+sn=b");
        let parsed: Rdn = "uid=x".parse().unwrap();
        assert_eq!(parsed, Rdn::new("UID", "X").unwrap());
        let e = Rdn::parse("cn=a,dc=com").unwrap_err();
        assert_eq!(e.details()["reason"], "unexpected_separator");
        assert_eq!(e.details()["position"], 4);
        let parsed: Dn = "uid=x,dc=com".parse().unwrap();
        assert_eq!(parsed.len(), 2);
    }

    // ---- normalised comparison -----------------------------------------------------------

    #[test]
    fn normalized_equality() {
        let a = dn("UID=JDoe, OU=People,dc=Example,dc=COM");
        let b = dn("uid=jdoe,ou=people,dc=example,dc=com");
        assert_eq!(a, b);
        assert_eq!(a.normalized(), "uid=jdoe,ou=people,dc=example,dc=com");
        assert_eq!(a.to_string(), "UID=JDoe,OU=People,dc=Example,dc=COM");

        assert_eq!(dn("uidNumber=007"), dn("uidNumber=7"));
        assert_eq!(dn(r"uidNumber=\+7"), dn("UIDNUMBER= 7 "));
        assert_eq!(dn("gidNumber=-0"), dn("gidNumber=0"));
        assert_ne!(dn("uidNumber=7"), dn("uidNumber=70"));
        assert_ne!(dn("uidNumber=-7"), dn("uidNumber=7"));
        assert_eq!(dn("1.3.6.1.1.1.1.0=010"), dn("uidNumber=10"));
        // the integer rule applies only to integer attributes
        assert_ne!(dn("cn=007"), dn("cn=7"));

        assert_eq!(dn("cn=a+sn=b,dc=com"), dn("SN=B+CN=A,dc=com"));
        assert_ne!(dn("cn=a+sn=b"), dn("cn=a"));
        assert_ne!(dn("cn=a+sn=b"), dn("cn=a+sn=c"));

        assert_eq!(dn("cn=John   Smith"), dn(r"cn=\20john smith\20"));
        assert_eq!(dn("cn=John\tSmith"), dn("cn=john smith"));
        assert_eq!(dn("cn=ÉCOLE"), dn("cn=école"));
        assert_ne!(dn("cn=a b"), dn("cn=ab"));
        assert_eq!(dn(r"cn=\ "), dn(r"cn=\ \ "));
        assert_ne!(dn(r"cn=\ "), dn("cn=a"));

        assert_eq!(dn("2.5.4.3=Foo"), dn("cn=foo"));
        assert_eq!(dn("commonName=Foo"), dn("CN=foo"));
        assert_eq!(
            dn("0.9.2342.19200300.100.1.1=x,2.5.4.11=y"),
            dn("uid=X,ou=Y")
        );
        assert_eq!(dn("userid=a"), dn("uid=a"));
        assert_ne!(dn("cn=a"), dn("sn=a"));
        assert_ne!(dn("cn=a,dc=com"), dn("cn=a"));

        // case-exact attributes keep the case but not insignificant spaces
        assert_ne!(dn("automountKey=Foo"), dn("automountKey=foo"));
        assert_eq!(dn("automountKey= Foo  Bar"), dn("AUTOMOUNTKEY=Foo Bar"));
        assert_eq!(normalize_value("automountMapName", "A  B "), "A B");
    }

    #[test]
    fn normalize_functions() {
        assert_eq!(normalize_attribute_type("GivenName"), "givenname");
        assert_eq!(normalize_attribute_type("gn"), "givenname");
        assert_eq!(normalize_attribute_type("2.5.4.42"), "givenname");
        assert_eq!(normalize_attribute_type("1.2.3"), "1.2.3");
        assert_eq!(normalize_value("cn", " A\u{a0} B\n"), "a b");
        assert_eq!(normalize_value("cn", "   "), " ");
        assert_eq!(normalize_value("cn", ""), "");
        assert_eq!(normalize_value("gidNumber", "000"), "0");
        assert_eq!(normalize_value("gidNumber", "-012"), "-12");
        assert_eq!(normalize_value("gidNumber", "12a"), "12a");
        assert_eq!(normalize_value("gidNumber", "+"), "+");
        let a = Ava::new("CommonName", " X ").unwrap();
        assert_eq!(a.normalized_attr(), "cn");
        assert_eq!(a.normalized_value(), "x");
        assert_eq!(a.attr(), "CommonName");
        assert_eq!(a.value(), " X ");
        assert_eq!(a, Ava::new("cn", "x").unwrap());
    }

    #[test]
    fn normalized_string_is_a_key() {
        let d = dn(r"CN=\#Foo  Bar\ +UID=X\2c,DC=Com");
        let n = d.normalized();
        assert_eq!(n, r"cn=\#foo bar+uid=x\,,dc=com");
        assert_eq!(dn(&n), d);
        assert_eq!(dn(&n).normalized(), n);
    }

    #[test]
    fn hash_and_ord_follow_normalisation() {
        let mut set = HashSet::new();
        set.insert(dn("UID=JDoe,dc=Example"));
        assert!(set.contains(&dn("uid=jdoe,DC=example")));
        assert!(set.contains(&dn("0.9.2342.19200300.100.1.1=JDOE,dc=example")));
        assert!(!set.contains(&dn("uid=jdoe2,dc=example")));
        let mut rdns = HashSet::new();
        rdns.insert(Rdn::parse("cn=a+sn=b").unwrap());
        assert!(rdns.contains(&Rdn::parse("SN=B+cn=A").unwrap()));

        assert_eq!(dn("cn=A,dc=x").cmp(&dn("cn=a,DC=X")), Ordering::Equal);
        // root first: a subtree is one contiguous range
        let mut map = BTreeMap::new();
        for s in [
            "uid=b,ou=people,dc=example,dc=com",
            "dc=com",
            "ou=groups,dc=example,dc=com",
            "ou=people,dc=example,dc=com",
            "uid=a,ou=people,dc=example,dc=com",
            "dc=example,dc=com",
            "ou=zzz,dc=example,dc=com",
            "cn=x,ou=groups,dc=example,dc=com",
            "",
            "dc=org",
        ] {
            map.insert(dn(s), s);
        }
        let order: Vec<&str> = map.values().copied().collect();
        assert_eq!(
            order,
            [
                "",
                "dc=com",
                "dc=example,dc=com",
                "ou=groups,dc=example,dc=com",
                "cn=x,ou=groups,dc=example,dc=com",
                "ou=people,dc=example,dc=com",
                "uid=a,ou=people,dc=example,dc=com",
                "uid=b,ou=people,dc=example,dc=com",
                "ou=zzz,dc=example,dc=com",
                "dc=org",
            ]
        );
        let people = dn("OU=People,dc=example,dc=com");
        let subtree: Vec<&str> = map
            .range(people.clone()..)
            .take_while(|(k, _)| k.is_descendant_or_self(&people))
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(subtree.len(), 3);
    }

    // ---- tree ----------------------------------------------------------------------------

    #[test]
    fn ancestry() {
        let base = dn("dc=example,dc=com");
        let people = dn("ou=people,dc=example,dc=com");
        let user = dn("uid=jdoe,OU=People,DC=Example,dc=com");
        assert!(user.is_descendant_of(&people));
        assert!(user.is_descendant_of(&base));
        assert!(user.is_descendant_of(&Dn::root()));
        assert!(people.is_descendant_of(&dn("DC=COM")));
        assert!(!user.is_descendant_of(&user));
        assert!(!people.is_descendant_of(&user));
        assert!(!Dn::root().is_descendant_of(&Dn::root()));
        assert!(Dn::root().is_descendant_or_self(&Dn::root()));
        assert!(user.is_descendant_or_self(&user));
        assert!(user.is_descendant_or_self(&people));
        assert!(!people.is_descendant_or_self(&user));

        // common string suffix is not ancestry
        let xpeople = dn("uid=jdoe,ou=xpeople,dc=example,dc=com");
        assert!(!xpeople.is_descendant_of(&people));
        assert!(!dn("ou=xpeople,dc=example,dc=com").is_descendant_of(&people));
        assert!(!dn("dc=myexample,dc=com").is_descendant_of(&base));
        assert!(!dn(r"uid=a\,ou=people,dc=example,dc=com").is_descendant_of(&people));
        assert!(dn(r"uid=a\,ou=people,dc=example,dc=com").is_descendant_of(&base));
        assert!(!dn("ou=people,dc=example,dc=org").is_descendant_of(&people));

        assert_eq!(user.strip_suffix(&base).map(<[Rdn]>::len), Some(2));
        assert_eq!(user.strip_suffix(&user).map(<[Rdn]>::len), Some(0));
        assert_eq!(base.strip_suffix(&user), None);
        assert_eq!(xpeople.strip_suffix(&people), None);
        assert_eq!(
            user.replace_suffix(&people, &dn("ou=staff,dc=example,dc=com")),
            Some(dn("uid=jdoe,ou=staff,dc=example,dc=com"))
        );
        assert_eq!(user.replace_suffix(&user, &Dn::root()), Some(Dn::root()));
        assert_eq!(xpeople.replace_suffix(&people, &base), None);
    }

    #[test]
    fn parent_and_child() {
        let d = dn("uid=jdoe,ou=people,dc=example,dc=com");
        assert_eq!(d.len(), 4);
        assert_eq!(d.rdn().map(Rdn::attr), Some("uid"));
        assert_eq!(d.rdn().map(Rdn::value), Some("jdoe"));
        let parent = d.parent().unwrap();
        assert_eq!(parent, dn("ou=people,dc=example,dc=com"));
        assert_eq!(parent.child(Rdn::new("uid", "JDOE").unwrap()), d);
        assert_eq!(dn("dc=com").parent(), Some(Dn::root()));
        let c = Dn::root().child(Rdn::new("dc", "com").unwrap());
        assert_eq!(c.to_string(), "dc=com");
        let c = c.child(Rdn::new("uid", "j,doe").unwrap());
        assert_eq!(c.to_string(), r"uid=j\,doe,dc=com");
        assert_eq!(c.rdn().map(Rdn::value), Some("j,doe"));
        assert_eq!(c.rdns().len(), 2);
        let built = Dn::from_rdns(vec![
            Rdn::new("uid", "a").unwrap(),
            Rdn::new("dc", "com").unwrap(),
        ])
        .unwrap();
        assert_eq!(built, dn("uid=a,dc=com"));
    }

    #[test]
    fn construction_limits() {
        let rdn = Rdn::new("dc", "x").unwrap();
        let mut d = Dn::root();
        for _ in 0..MAX_RDNS {
            d = d.checked_child(rdn.clone()).unwrap();
        }
        assert_eq!(dn(&d.to_string()), d);
        let e = d.checked_child(rdn.clone()).unwrap_err();
        assert_eq!(e.details()["reason"], "too_many_rdns");
        assert!(Dn::from_rdns(vec![rdn; MAX_RDNS + 1]).is_err());

        let long = "x".repeat(MAX_DN_LEN);
        assert_eq!(
            Rdn::new("cn", &long).unwrap_err().details()["reason"],
            "too_long"
        );
        let half = Rdn::new("cn", &"x".repeat(MAX_DN_LEN / 2)).unwrap();
        let e = Dn::root()
            .child(half.clone())
            .checked_child(half)
            .unwrap_err();
        assert_eq!(e.details()["reason"], "too_long");
        let avas: Vec<Ava> = (0..=MAX_AVAS)
            .map(|i| Ava::new("cn", &i.to_string()).unwrap())
            .collect();
        assert_eq!(
            Rdn::from_avas(avas).unwrap_err().details()["reason"],
            "too_many_avas"
        );
    }

    // ---- hostile input -------------------------------------------------------------------

    #[test]
    fn bad_escapes() {
        assert_eq!(bad(r"cn=a\4", "bad_escape"), Some(4));
        assert_eq!(bad(r"cn=a\4,dc=com", "bad_escape"), Some(4));
        assert_eq!(bad(r"cn=a\4g", "bad_escape"), Some(4));
        assert_eq!(bad(r"cn=a\zz", "bad_escape"), Some(4));
        assert_eq!(bad(r"cn=a\", "bad_escape"), Some(4));
        assert_eq!(bad(r"cn=\é", "bad_escape"), Some(3));
        assert_eq!(bad("cn=\\\n", "bad_escape"), Some(3));
        assert_eq!(bad(r"cn=\\\", "bad_escape"), Some(5));
        assert_eq!(bad(r"cn=a\C4", "invalid_utf8"), Some(4));
        assert_eq!(bad(r"cn=ab\C4\8D\C4", "invalid_utf8"), Some(11));
        assert_eq!(bad(r"cn=a\C4b", "invalid_utf8"), Some(4));
        assert_eq!(bad(r"cn=a\C4\,", "invalid_utf8"), Some(4));
        assert_eq!(bad(r"cn=\8D", "invalid_utf8"), Some(3));
        assert_eq!(bad(r"cn=\FF\FE", "invalid_utf8"), Some(3));
        assert_eq!(bad(r"cn=\C0\80", "invalid_utf8"), Some(3)); // overlong NUL
        assert_eq!(bad(r"cn=\ED\A0\80", "invalid_utf8"), Some(3)); // surrogate
    }

    #[test]
    fn unescaped_specials_and_nul() {
        assert_eq!(bad(r#"cn="a,b""#, "unescaped_special"), Some(3));
        assert_eq!(bad(r#"cn=a"b"#, "unescaped_special"), Some(4));
        assert_eq!(bad("cn=a<b", "unescaped_special"), Some(4));
        assert_eq!(bad("cn=a>b", "unescaped_special"), Some(4));
        assert_eq!(bad("cn=a\0b", "unescaped_nul"), Some(4));
        assert_eq!(bad("c\0n=a", "invalid_attribute_type"), Some(1));
        assert_eq!(bad("cn=a,\0", "invalid_attribute_type"), Some(5));
        // raw control characters other than NUL are allowed in values (RFC 4514 LUTF1)
        assert_eq!(dn("cn=a\nb").rdns()[0].value(), "a\nb");
    }

    #[test]
    fn error_messages_say_what_and_where() {
        let e = Dn::parse(r"uid=a\zz,dc=com").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidDn);
        assert_eq!(e.details()["position"], 5);
        assert_eq!(e.details()["reason"], "bad_escape");
        assert_eq!(e.details()["dn"], r"uid=a\zz,dc=com");
        assert!(e.message().contains("at byte 5"), "{}", e.message());
        assert!(e.message().contains(r"'\z'"), "{}", e.message());
        let long = format!("cn={},", "a".repeat(1000));
        let e = Dn::parse(&long).unwrap_err();
        assert!(e.details().get("dn").is_none());
        assert!(e.message().len() < 200);
        assert_eq!(e.details()["position"], 1004);
    }

    #[test]
    fn hostile_inputs_fail_fast() {
        let start = Instant::now();
        let cases: Vec<(String, &str)> = vec![
            ("a".repeat(1 << 20), "too_long"),
            ("\\".repeat(100_000), "too_long"),
            ("\"".repeat(100_000), "too_long"),
            ("(".repeat(100_000), "too_long"),
            ("cn=a,".repeat(100_000), "too_long"),
            ("+".repeat(MAX_DN_LEN), "empty_rdn"),
            (",".repeat(MAX_DN_LEN), "empty_rdn"),
            ("=".repeat(MAX_DN_LEN), "empty_attribute_type"),
            (format!("cn={}", "\\".repeat(MAX_DN_LEN - 3)), "bad_escape"),
            (
                format!("cn={}\\", "\\\\".repeat(MAX_DN_LEN / 2 - 2)),
                "bad_escape",
            ),
            (format!("cn={}", "\\C4".repeat(5000)), "invalid_utf8"),
            (
                format!("cn={}", "\"".repeat(MAX_DN_LEN - 3)),
                "unescaped_special",
            ),
            (
                format!("cn=#{}", "0".repeat(MAX_DN_LEN - 4)),
                "unsupported_ber",
            ),
            ("dc=x,".repeat(MAX_RDNS + 1), "too_many_rdns"),
            (format!("{}cn=x", "cn=a+".repeat(MAX_AVAS)), "too_many_avas"),
            (
                format!("{}x", "1.".repeat(MAX_DN_LEN / 2 - 1)),
                "invalid_attribute_type",
            ),
            ("a".repeat(MAX_DN_LEN), "missing_equals"),
        ];
        for (i, (input, reason)) in cases.iter().enumerate() {
            let Err(e) = Dn::parse(input) else {
                panic!("hostile case {i} parsed");
            };
            assert_eq!(e.code(), ErrorCode::InvalidDn);
            assert_eq!(e.details()["reason"], *reason, "{}", e.message());
            assert!(e.details().contains_key("position"));
        }
        // inputs whose escaped form would exceed the limit
        let eq = format!("cn={}", "=".repeat(MAX_DN_LEN - 3));
        assert_eq!(bad(&eq, "too_long"), Some(0));
        let nl = format!("cn=a{}", "\n".repeat(MAX_DN_LEN / 2));
        assert_eq!(bad(&nl, "too_long"), Some(0));
        let many = format!("cn={},", "\n".repeat(100)).repeat(MAX_DN_LEN / 104);
        assert_eq!(bad(&many[..many.len() - 1], "too_long"), Some(0));
        // a maximal valid DN parses too
        let big = format!("cn={}", "\\,".repeat(MAX_DN_LEN / 2 - 2));
        assert_eq!(dn(&big).rdns()[0].value().len(), MAX_DN_LEN / 2 - 2);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    // ---- serde and Debug -----------------------------------------------------------------

    #[test]
    fn serde_as_string() {
        let d = dn(r"uid=j\,doe,dc=com");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#""uid=j\\,doe,dc=com""#);
        let back: Dn = serde_json::from_str(&json).unwrap();
        assert_eq!(structure(&back), structure(&d));
        let rdn: Rdn = serde_json::from_str(r#""cn=a+sn=b""#).unwrap();
        assert_eq!(serde_json::to_string(&rdn).unwrap(), r#""cn=a+sn=b""#);
        let root: Dn = serde_json::from_str(r#""""#).unwrap();
        assert!(root.is_root());
        let err = serde_json::from_str::<Dn>(r#""cn=a\\zz""#).unwrap_err();
        assert!(err.to_string().contains("INVALID_DN"), "{err}");
        assert!(serde_json::from_str::<Rdn>(r#""cn=a,dc=b""#).is_err());
        assert!(serde_json::from_str::<Dn>("42").is_err());
    }

    #[test]
    fn debug_shows_string_form() {
        let d = dn(r"cn=a\,b+sn=c,dc=com");
        assert_eq!(format!("{d:?}"), r#"Dn("cn=a\\,b+sn=c,dc=com")"#);
        assert_eq!(format!("{:?}", d.rdns()[0]), r#"Rdn("cn=a\\,b+sn=c")"#);
        assert_eq!(format!("{:?}", d.rdns()[0].avas()[1]), r#"Ava("sn=c")"#);
    }

    // ---- properties ----------------------------------------------------------------------

    fn attr_type() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z][a-zA-Z0-9-]{0,12}",
            "(0|[1-9][0-9]{0,4})(\\.(0|[1-9][0-9]{0,4})){1,5}",
            Just("cn".to_owned()),
            Just("uidNumber".to_owned()),
            Just("automountKey".to_owned()),
            Just("2.5.4.3".to_owned()),
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        let special = prop::sample::select(vec![
            ',', '+', '"', '\\', '<', '>', ';', '=', '#', ' ', '\0', '\t', '\n', '\r', '\u{7f}',
            '\u{85}', '\u{a0}', '\u{200b}', 'é', 'Σ', '😀', '0', '7', '-',
        ]);
        prop::collection::vec(prop_oneof![any::<char>(), special], 1..16)
            .prop_map(|chars| chars.into_iter().collect())
    }

    fn rdn_strategy() -> impl Strategy<Value = Rdn> {
        prop::collection::vec((attr_type(), value()), 1..4).prop_filter_map(
            "duplicate AVA",
            |avas| {
                let avas = avas
                    .iter()
                    .map(|(a, v)| Ava::new(a, v))
                    .collect::<Result<Vec<_>>>()
                    .ok()?;
                Rdn::from_avas(avas).ok()
            },
        )
    }

    fn dn_strategy() -> impl Strategy<Value = Dn> {
        prop::collection::vec(rdn_strategy(), 0..6).prop_map(|rdns| Dn::from_rdns(rdns).unwrap())
    }

    proptest! {
        #[test]
        fn prop_round_trip(d in dn_strategy()) {
            let s = d.to_string();
            let back = Dn::parse(&s).unwrap();
            prop_assert_eq!(structure(&back), structure(&d));
            prop_assert_eq!(&back, &d);
            prop_assert_eq!(back.to_string(), s);
        }

        #[test]
        fn prop_rdn_round_trip(r in rdn_strategy()) {
            let back = Rdn::parse(&r.to_string()).unwrap();
            prop_assert_eq!(back.to_string(), r.to_string());
            prop_assert_eq!(back, r);
        }

        #[test]
        fn prop_normalized_is_canonical(d in dn_strategy()) {
            let n = d.normalized();
            let reparsed = Dn::parse(&n).unwrap();
            prop_assert_eq!(&reparsed, &d);
            prop_assert_eq!(reparsed.normalized(), n);
            prop_assert_eq!(d.cmp(&reparsed), Ordering::Equal);
        }

        #[test]
        fn prop_quick_normal_form_is_the_full_one(
            v in "[ a-zA-Z0-9+\\-é\t]{0,12}",
        ) {
            // The shortcut that keeps a value already in normal form must agree with the
            // full normalisation for every rule.
            for rule in [MatchingRule::CaseIgnore, MatchingRule::CaseExact, MatchingRule::Integer] {
                let full = match rule {
                    MatchingRule::CaseIgnore => fold_spaces(&v, true),
                    MatchingRule::CaseExact => fold_spaces(&v, false),
                    MatchingRule::Integer => {
                        normalize_integer(&v).unwrap_or_else(|| fold_spaces(&v, true))
                    }
                };
                prop_assert_eq!(normalize_with(rule, &v), full);
            }
        }

        #[test]
        fn prop_normalize_value_idempotent(a in attr_type(), v in value()) {
            let n = normalize_value(&a, &v);
            prop_assert_eq!(normalize_value(&a, &n), n);
        }

        #[test]
        fn prop_parse_never_panics(s in "\\PC{0,64}") {
            let _ = Dn::parse(&s);
            let _ = Rdn::parse(&s);
        }

        #[test]
        fn prop_parse_dn_alphabet_never_panics(
            s in "[a-cA-C0-9=,+;#\\\\ \"<>.\\x00é-]{0,48}"
        ) {
            if let Ok(d) = Dn::parse(&s) {
                let again = Dn::parse(&d.to_string()).unwrap();
                prop_assert_eq!(structure(&again), structure(&d));
            } else if let Err(e) = Dn::parse(&s) {
                prop_assert_eq!(e.code(), ErrorCode::InvalidDn);
                let pos = e.details()["position"].as_u64().unwrap();
                prop_assert!(usize::try_from(pos).unwrap() <= s.len());
            }
        }

        #[test]
        fn prop_eq_consistent_with_ord_and_normalized(a in dn_strategy(), b in dn_strategy()) {
            prop_assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
            prop_assert_eq!(a == b, a.normalized() == b.normalized());
        }
    }
}

/// Regression tests for what the `dn` fuzz target (`fuzz/fuzz_targets/dn.rs`) checks.
#[cfg(test)]
mod fuzz_regressions {
    use super::*;

    /// 'Ⱥ' (U+023A, 2 bytes) lower-cases to 'ⱥ' (U+2C65, 3 bytes): the normalised form of a
    /// DN can be 1.5 times as long as its written form. A parsed DN whose normalised form was
    /// over [`MAX_DN_LEN`] used to be accepted, and its `normalized()` did not parse.
    #[test]
    fn normalized_form_over_the_limit_is_refused() {
        let value = "\u{23a}".repeat(6000); // 12000 bytes written, 18000 normalised
        for input in [format!("cn={value}"), format!("cn={value},dc=com")] {
            let err = Dn::parse(&input).unwrap_err();
            assert_eq!(err.details()["reason"], "too_long", "{err}");
            assert!(err.message().contains("normalised"), "{err}");
            let err = Rdn::parse(&format!("cn={value}")).unwrap_err();
            assert_eq!(err.details()["reason"], "too_long", "{err}");
        }
        let err = Rdn::new("cn", &value).unwrap_err();
        assert_eq!(err.details()["reason"], "too_long", "{err}");

        // Built from short RDNs, a DN over the limit is refused by the checked constructors.
        // Each RDN: 2803 bytes written, 4203 normalised.
        let rdn = Rdn::new("cn", &"\u{23a}".repeat(1400)).unwrap();
        let five = vec![rdn.clone(); 5];
        assert!(display_len(&Dn { rdns: five.clone() }) <= MAX_DN_LEN);
        assert!(Dn::from_rdns(five).is_err());
        let three = Dn::from_rdns(vec![rdn.clone(); 3]).unwrap();
        assert!(three.checked_child(rdn).is_err());
    }

    /// Just under the limit, the normalised form parses back into an equal DN, as
    /// [`Dn::normalized`] promises.
    #[test]
    fn normalized_form_just_under_the_limit_parses_back() {
        let input = format!("cn={},dc=com", "\u{23a}".repeat(5000));
        let dn = Dn::parse(&input).unwrap();
        let norm = dn.normalized();
        assert!(norm.len() > input.len() && norm.len() <= MAX_DN_LEN);
        assert_eq!(norm.len(), dn.normalized_len());
        assert_eq!(Dn::parse(&norm).unwrap(), dn);
        let rdn = dn.rdn().unwrap();
        assert_eq!(Rdn::parse(&rdn.normalized()).unwrap(), *rdn);
        assert_eq!(rdn.normalized().len(), rdn.normalized_len());
    }
}
