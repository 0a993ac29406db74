//! LDAP syntaxes (RFC 4517 §3.3): which values are valid, the way slapd 2.5 decides it.
//!
//! [`validate_syntax`] answers without a schema. Two syntaxes depend on the schema in slapd
//! and are checked fully by [`Schema::validate_value`](super::Schema::validate_value):
//! DN (every attribute type must be defined and every RDN value valid for it) and the
//! values of `objectClass` (names of defined classes).
//!
//! What slapd 2.5 was seen to accept and refuse (and what this module does):
//!
//! | syntax | valid |
//! |---|---|
//! | Directory String `.15` | non-empty UTF-8 (a single space is fine) |
//! | IA5 String `.26` | ASCII, **empty allowed** |
//! | Integer `.27` | `-?(0\|[1-9][0-9]*)`, any length; no `+`, no leading zeros, no spaces, no `-0` |
//! | Boolean `.7` | exactly `TRUE` or `FALSE` |
//! | Numeric String `.36` | non-empty, digits and spaces |
//! | Printable String `.44`, Telephone Number `.50` | non-empty, `A-Za-z0-9'()+,-./:=?` and space |
//! | Country String `.11` | exactly two printable characters |
//! | Generalized Time `.24` | `YYYYMMDDHH[MM[SS]][(.\|,)frac](Z\|±HH[MM])`, real calendar dates, second 60 allowed |
//! | OID `.38` | a numeric OID only (`1` is fine, leading zeros are not) |
//! | DN `.12` | an RFC 4514 DN as [`Dn::parse`](crate::dn::Dn::parse) reads it (the empty DN too, `;` separators); empty values refused |
//! | Name and Optional UID `.34` | a DN, optionally followed by `#'0101'B` |
//! | Bit String `.6` | `'[01]*'B` |
//! | UUID `1.3.6.1.1.16.1` | `8-4-4-4-12` hex digits, either case |
//! | Postal Address `.41` | UTF-8 (empty allowed) |
//! | Delivery Method `.14` | `any`, `mhs`, `physical`, `telex`, `teletex`, `g3fax`, `g4fax`, `ia5`, `videotex`, `telephone`, separated by `$` |
//! | Octet String `.40`, JPEG `.28`, Binary `.5`, Audio `.4`, certificates | anything |
//!
//! A syntax this module does not know accepts every value (and is reported by
//! [`is_known_syntax`]). Known differences from slapd: DN values in RFC 1779 quotes
//! (`cn="a,b"`) are refused (slapd accepts them), and BER hex values of string types
//! (`cn=#04024869`) are accepted (slapd refuses some) — both come from the project's DN
//! parser, which the whole crate shares.

use std::fmt::Write as _;

/// OIDs of the syntaxes Heracles knows by name.
pub mod oids {
    /// Audio.
    pub const AUDIO: &str = "1.3.6.1.4.1.1466.115.121.1.4";
    /// Binary.
    pub const BINARY: &str = "1.3.6.1.4.1.1466.115.121.1.5";
    /// Bit String.
    pub const BIT_STRING: &str = "1.3.6.1.4.1.1466.115.121.1.6";
    /// Boolean.
    pub const BOOLEAN: &str = "1.3.6.1.4.1.1466.115.121.1.7";
    /// Certificate.
    pub const CERTIFICATE: &str = "1.3.6.1.4.1.1466.115.121.1.8";
    /// Certificate List.
    pub const CERTIFICATE_LIST: &str = "1.3.6.1.4.1.1466.115.121.1.9";
    /// Certificate Pair.
    pub const CERTIFICATE_PAIR: &str = "1.3.6.1.4.1.1466.115.121.1.10";
    /// Country String.
    pub const COUNTRY_STRING: &str = "1.3.6.1.4.1.1466.115.121.1.11";
    /// Distinguished Name.
    pub const DN: &str = "1.3.6.1.4.1.1466.115.121.1.12";
    /// Delivery Method.
    pub const DELIVERY_METHOD: &str = "1.3.6.1.4.1.1466.115.121.1.14";
    /// Directory String.
    pub const DIRECTORY_STRING: &str = "1.3.6.1.4.1.1466.115.121.1.15";
    /// Facsimile Telephone Number.
    pub const FACSIMILE: &str = "1.3.6.1.4.1.1466.115.121.1.22";
    /// Generalized Time.
    pub const GENERALIZED_TIME: &str = "1.3.6.1.4.1.1466.115.121.1.24";
    /// IA5 String.
    pub const IA5_STRING: &str = "1.3.6.1.4.1.1466.115.121.1.26";
    /// Integer.
    pub const INTEGER: &str = "1.3.6.1.4.1.1466.115.121.1.27";
    /// JPEG.
    pub const JPEG: &str = "1.3.6.1.4.1.1466.115.121.1.28";
    /// Name and Optional UID.
    pub const NAME_AND_OPTIONAL_UID: &str = "1.3.6.1.4.1.1466.115.121.1.34";
    /// Numeric String.
    pub const NUMERIC_STRING: &str = "1.3.6.1.4.1.1466.115.121.1.36";
    /// OID.
    pub const OID: &str = "1.3.6.1.4.1.1466.115.121.1.38";
    /// Other Mailbox.
    pub const OTHER_MAILBOX: &str = "1.3.6.1.4.1.1466.115.121.1.39";
    /// Octet String.
    pub const OCTET_STRING: &str = "1.3.6.1.4.1.1466.115.121.1.40";
    /// Postal Address.
    pub const POSTAL_ADDRESS: &str = "1.3.6.1.4.1.1466.115.121.1.41";
    /// Printable String.
    pub const PRINTABLE_STRING: &str = "1.3.6.1.4.1.1466.115.121.1.44";
    /// Supported Algorithm.
    pub const SUPPORTED_ALGORITHM: &str = "1.3.6.1.4.1.1466.115.121.1.49";
    /// Telephone Number.
    pub const TELEPHONE_NUMBER: &str = "1.3.6.1.4.1.1466.115.121.1.50";
    /// Telex Number.
    pub const TELEX_NUMBER: &str = "1.3.6.1.4.1.1466.115.121.1.52";
    /// UUID (RFC 4530).
    pub const UUID: &str = "1.3.6.1.1.16.1";
}

/// `true` if [`validate_syntax`] checks values of this syntax (rather than accepting all).
pub fn is_known_syntax(syntax_oid: &str) -> bool {
    use oids as o;
    matches!(
        syntax_oid,
        o::AUDIO
            | o::BINARY
            | o::BIT_STRING
            | o::BOOLEAN
            | o::CERTIFICATE
            | o::CERTIFICATE_LIST
            | o::CERTIFICATE_PAIR
            | o::COUNTRY_STRING
            | o::DN
            | o::DELIVERY_METHOD
            | o::DIRECTORY_STRING
            | o::FACSIMILE
            | o::GENERALIZED_TIME
            | o::IA5_STRING
            | o::INTEGER
            | o::JPEG
            | o::NAME_AND_OPTIONAL_UID
            | o::NUMERIC_STRING
            | o::OID
            | o::OTHER_MAILBOX
            | o::OCTET_STRING
            | o::POSTAL_ADDRESS
            | o::PRINTABLE_STRING
            | o::SUPPORTED_ALGORITHM
            | o::TELEPHONE_NUMBER
            | o::TELEX_NUMBER
            | o::UUID
    )
}

/// `true` if `value` is valid for the syntax `syntax_oid` (see the module table). DN values
/// are checked for form only here (attribute types well formed, not necessarily defined).
///
/// ```
/// use heracles_core::schema::validate_syntax;
/// use heracles_core::schema::syntax::oids;
///
/// assert!(validate_syntax(oids::INTEGER, b"-42"));
/// assert!(!validate_syntax(oids::INTEGER, b"abc"));
/// assert!(!validate_syntax(oids::DIRECTORY_STRING, b""));
/// assert!(validate_syntax(oids::IA5_STRING, b""));
/// assert!(validate_syntax(oids::GENERALIZED_TIME, b"20240229123000Z"));
/// assert!(!validate_syntax(oids::GENERALIZED_TIME, b"20230229123000Z"));
/// ```
pub fn validate_syntax(syntax_oid: &str, value: &[u8]) -> bool {
    use oids as o;
    match syntax_oid {
        o::DIRECTORY_STRING => !value.is_empty() && std::str::from_utf8(value).is_ok(),
        o::IA5_STRING => value.is_ascii(),
        o::INTEGER => is_integer(value),
        o::BOOLEAN => value == b"TRUE" || value == b"FALSE",
        o::NUMERIC_STRING => {
            !value.is_empty() && value.iter().all(|b| b.is_ascii_digit() || *b == b' ')
        }
        o::PRINTABLE_STRING | o::TELEPHONE_NUMBER => {
            !value.is_empty() && value.iter().all(|b| is_printable(*b))
        }
        o::COUNTRY_STRING => value.len() == 2 && value.iter().all(|b| is_printable(*b)),
        o::GENERALIZED_TIME => parse_generalized_time(value).is_some(),
        o::OID => std::str::from_utf8(value).is_ok_and(super::parse::is_numericoid),
        o::DN => std::str::from_utf8(value).is_ok_and(|s| super::dnsyntax::split_dn(s).is_some()),
        o::NAME_AND_OPTIONAL_UID => std::str::from_utf8(value).is_ok_and(|s| {
            let (dn, _) = split_unique_member(s);
            super::dnsyntax::split_dn(dn).is_some()
        }),
        o::BIT_STRING => is_bit_string(value),
        o::UUID => parse_uuid(value).is_some(),
        o::POSTAL_ADDRESS => std::str::from_utf8(value).is_ok(),
        o::DELIVERY_METHOD => is_delivery_method(value),
        o::OTHER_MAILBOX | o::TELEX_NUMBER | o::FACSIMILE => {
            !value.is_empty() && std::str::from_utf8(value).is_ok()
        }
        _ => true,
    }
}

/// RFC 4517 `PrintableCharacter`: letters, digits, `'()+,-./:=?` and space.
pub(crate) fn is_printable(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'\'' | b'(' | b')' | b'+' | b',' | b'-' | b'.' | b'=' | b'/' | b':' | b'?' | b' '
        )
}

/// RFC 4517 Delivery Method: `pdm *( " $ " pdm )`, spaces around `$` optional, keywords
/// in any case.
fn is_delivery_method(value: &[u8]) -> bool {
    const PDM: [&str; 10] = [
        "any",
        "mhs",
        "physical",
        "telex",
        "teletex",
        "g3fax",
        "g4fax",
        "ia5",
        "videotex",
        "telephone",
    ];
    std::str::from_utf8(value).is_ok_and(|s| {
        s.split('$').all(|w| {
            let w = w.trim_matches(' ');
            PDM.iter().any(|p| p.eq_ignore_ascii_case(w))
        })
    })
}

/// `-?(0|[1-9][0-9]*)`, without `-0`.
pub(crate) fn is_integer(v: &[u8]) -> bool {
    let digits = v.strip_prefix(b"-").unwrap_or(v);
    !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits == b"0" && digits.len() == v.len() || digits[0] != b'0')
}

/// `'[01]*'B`.
pub(crate) fn is_bit_string(v: &[u8]) -> bool {
    v.len() >= 3
        && v.starts_with(b"'")
        && v.ends_with(b"'B")
        && v[1..v.len() - 2].iter().all(|b| matches!(b, b'0' | b'1'))
}

/// Splits a Name-and-Optional-UID value into the DN and the optional `#'bits'B` part.
/// The UID is split off at the last `#` when what follows is a bit string.
pub(crate) fn split_unique_member(s: &str) -> (&str, Option<&str>) {
    match s.rfind('#') {
        Some(pos) if is_bit_string(&s.as_bytes()[pos + 1..]) => (&s[..pos], Some(&s[pos + 1..])),
        _ => (s, None),
    }
}

/// Parses a UUID in its string form, returning the 16 bytes.
pub(crate) fn parse_uuid(value: &[u8]) -> Option<[u8; 16]> {
    if value.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut hex = value
        .iter()
        .enumerate()
        .filter(|(pos, _)| !matches!(pos, 8 | 13 | 18 | 23))
        .map(|(_, b)| super::parse::hex_val(*b));
    if [8, 13, 18, 23].iter().any(|&pos| value[pos] != b'-') {
        return None;
    }
    for byte in &mut out {
        let high = hex.next()??;
        let low = hex.next()??;
        *byte = high << 4 | low;
    }
    Some(out)
}

/// An instant parsed from a Generalized Time value: seconds since 0000-03-01 minus an
/// offset (any fixed epoch works for comparison) and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Instant {
    pub secs: i64,
    pub nanos: u32,
}

fn digits(v: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = v.get(at..at + n)?;
    s.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (negative before it).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Shift the year so it starts in March: the leap day is then the last day of a year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400; // 0..=399
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1; // 0..=365
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date (year, month, day) of a day count from 1970-01-01.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = u32::try_from(day_of_year - (153 * month_from_march + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    })
    .unwrap_or(1);
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses a Generalized Time value (RFC 4517 §3.3.13) into a UTC instant, with slapd's
/// rules: minutes and seconds optional, a fraction (`.` or `,`) of the last unit given,
/// a time zone required (`Z`, `±HH` or `±HHMM`), calendar dates checked, second 60
/// (a leap second) accepted. Fractions are kept to the nanosecond.
pub(crate) fn parse_generalized_time(value: &[u8]) -> Option<Instant> {
    let year = i64::from(digits(value, 0, 4)?);
    let month = digits(value, 4, 2)?;
    let day = digits(value, 6, 2)?;
    let hour = digits(value, 8, 2)?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) || hour > 23 {
        return None;
    }
    let mut pos = 10;
    let mut minute = 0;
    let mut second = 0;
    let mut unit: u64 = 3600;
    if let Some(mins) = digits(value, pos, 2) {
        if mins > 59 {
            return None;
        }
        minute = mins;
        unit = 60;
        pos += 2;
        if let Some(secs) = digits(value, pos, 2) {
            if secs > 60 {
                return None;
            }
            second = secs;
            unit = 1;
            pos += 2;
        }
    }
    let mut frac_nanos: u64 = 0;
    if matches!(value.get(pos), Some(b'.' | b',')) {
        pos += 1;
        let start = pos;
        while value.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        if pos == start {
            return None;
        }
        // the fraction is 0.<digits> of `unit` seconds; 18 digits are plenty for nanoseconds
        let kept = &value[start..pos.min(start + 18)];
        let num = kept
            .iter()
            .fold(0u128, |acc, b| acc * 10 + u128::from(b - b'0'));
        let den = 10u128.pow(u32::try_from(kept.len()).ok()?);
        frac_nanos = u64::try_from(num * u128::from(unit) * 1_000_000_000 / den).ok()?;
    }
    let offset: i64 = match value.get(pos) {
        Some(b'Z') if pos + 1 == value.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let tz_hours = digits(value, pos + 1, 2)?;
            let tz_minutes = match value.len() - (pos + 1) {
                2 => 0,
                4 => digits(value, pos + 3, 2)?,
                _ => return None,
            };
            if tz_hours > 23 || tz_minutes > 59 {
                return None;
            }
            let offset = i64::from(tz_hours * 3600 + tz_minutes * 60);
            if sign == b'+' {
                offset
            } else {
                -offset
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        + i64::try_from(frac_nanos / 1_000_000_000).ok()?
        - offset;
    let nanos = u32::try_from(frac_nanos % 1_000_000_000).ok()?;
    Some(Instant { secs, nanos })
}

/// The canonical form of an instant: `YYYYMMDDHHMMSS[.fraction]Z` in UTC, the fraction
/// without trailing zeros (and absent when zero). Years outside 0..=9999 (reachable only
/// through a time-zone offset at the ends of the range) are written with their sign.
pub(crate) fn format_generalized_time(t: Instant) -> String {
    let days = t.secs.div_euclid(86_400);
    let rem = t.secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut out = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else {
        format!("{year:+05}")
    };
    let _ = write!(
        out,
        "{month:02}{day:02}{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if t.nanos > 0 {
        let f = format!("{:09}", t.nanos);
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::oids as o;
    use super::*;

    #[test]
    #[allow(clippy::too_many_lines)] // one table of cases
    fn slapd_observed_validity() {
        // Each line was checked against slapd 2.5.13 (ldapadd; 21 = invalid syntax).
        let ok: &[(&str, &[u8])] = &[
            (o::DIRECTORY_STRING, b" "),
            (o::IA5_STRING, b""),
            (o::IA5_STRING, b"a b"),
            (o::INTEGER, b"0"),
            (o::INTEGER, b"-5"),
            (o::INTEGER, b"99999999999999999999999999"),
            (o::BOOLEAN, b"TRUE"),
            (o::TELEPHONE_NUMBER, b"abc"),
            (o::TELEPHONE_NUMBER, b"+1 (555) 123-4567"),
            (o::TELEPHONE_NUMBER, b" "),
            (o::COUNTRY_STRING, b"DE"),
            (o::PRINTABLE_STRING, b"a b"),
            (o::PRINTABLE_STRING, b"a=b?"),
            (o::NUMERIC_STRING, b"12 34"),
            (o::NUMERIC_STRING, b" "),
            (o::DN, b""),
            (o::DN, b"cn=x,dc=example,dc=com"),
            (o::DN, b"CN=x , DC=example"),
            (o::DN, b"2.5.4.3=x"),
            (o::DN, b"cn=x+uid=y,dc=e"),
            (o::DN, b"cn=\\41"),
            (o::DN, b"dc=e;dc=f"),
            (o::NAME_AND_OPTIONAL_UID, b"cn=x,dc=e#'0101'B"),
            (o::GENERALIZED_TIME, b"2020010112Z"),
            (o::GENERALIZED_TIME, b"202001011230Z"),
            (o::GENERALIZED_TIME, b"20200101123045Z"),
            (o::GENERALIZED_TIME, b"20200101123045.123Z"),
            (o::GENERALIZED_TIME, b"20200101123045,5Z"),
            (o::GENERALIZED_TIME, b"20200101123045+0200"),
            (o::GENERALIZED_TIME, b"20200101123045+02"),
            (o::GENERALIZED_TIME, b"20200101235960Z"),
            (o::GENERALIZED_TIME, b"202001011230.5Z"),
            (o::GENERALIZED_TIME, b"2020010112.5Z"),
            (o::GENERALIZED_TIME, b"20200229000000Z"),
            (o::GENERALIZED_TIME, b"20000229000000Z"),
            (o::GENERALIZED_TIME, b"00000101000000Z"),
            (o::OID, b"1.2"),
            (o::OID, b"1"),
            (o::OID, b"1.0"),
            (o::POSTAL_ADDRESS, b""),
            (o::POSTAL_ADDRESS, b"a$b"),
            (o::UUID, b"01234567-89ab-cdef-0123-456789ABCDEF"),
            (o::OCTET_STRING, b"\xff\x00"),
            (o::DELIVERY_METHOD, b"ANY"),
            (o::DELIVERY_METHOD, b"any $ mhs"),
            (o::DELIVERY_METHOD, b"any$mhs"),
        ];
        for (syn, v) in ok {
            assert!(
                validate_syntax(syn, v),
                "{syn} {:?}",
                String::from_utf8_lossy(v)
            );
        }
        let bad: &[(&str, &[u8])] = &[
            (o::DIRECTORY_STRING, b""),
            (o::DIRECTORY_STRING, b"\xc0"),
            (o::IA5_STRING, "\u{e9}".as_bytes()),
            (o::INTEGER, b"abc"),
            (o::INTEGER, b"+5"),
            (o::INTEGER, b"5 "),
            (o::INTEGER, b" 5"),
            (o::INTEGER, b"007"),
            (o::INTEGER, b"-0"),
            (o::INTEGER, b"-"),
            (o::INTEGER, b""),
            (o::BOOLEAN, b"True"),
            (o::BOOLEAN, b"yes"),
            (o::TELEPHONE_NUMBER, b"123@x"),
            (o::TELEPHONE_NUMBER, b""),
            (o::COUNTRY_STRING, b"DEU"),
            (o::COUNTRY_STRING, b"D"),
            (o::PRINTABLE_STRING, b"a_b"),
            (o::PRINTABLE_STRING, "\u{e9}".as_bytes()),
            (o::PRINTABLE_STRING, b""),
            (o::NUMERIC_STRING, b"12a"),
            (o::NUMERIC_STRING, b""),
            (o::DN, b"cn=x,,dc=e"),
            (o::DN, b"cn"),
            (o::DN, b"cn=a\"b,dc=e"),
            (o::DN, b"cn=a\\zz,dc=e"),
            (o::GENERALIZED_TIME, b"20200101123045"),
            (o::GENERALIZED_TIME, b"20201301123045Z"),
            (o::GENERALIZED_TIME, b"20200230123045Z"),
            (o::GENERALIZED_TIME, b"20210229000000Z"),
            (o::GENERALIZED_TIME, b"19000229000000Z"),
            (o::GENERALIZED_TIME, b"20200101246045Z"),
            (o::GENERALIZED_TIME, b"20200101123045.Z"),
            (o::GENERALIZED_TIME, b"20200101123045-2400"),
            (o::GENERALIZED_TIME, b"20200101123045+1260"),
            (o::GENERALIZED_TIME, b"20200101123045Zx"),
            (o::GENERALIZED_TIME, b"2020"),
            (o::OID, b"1..2"),
            (o::OID, b"01.2"),
            (o::OID, b"1.02"),
            (o::OID, b"fooBar"),
            (o::OID, b""),
            (o::UUID, b"x"),
            (o::BIT_STRING, b"'012'B"),
            (o::DELIVERY_METHOD, b"x"),
            (o::DELIVERY_METHOD, b""),
            (o::DN, b"dc="),
            (o::DN, b"dc=a+dc="),
            (o::DN, b"cn=\"a\"b"),
        ];
        for (syn, v) in bad {
            assert!(
                !validate_syntax(syn, v),
                "{syn} {:?}",
                String::from_utf8_lossy(v)
            );
        }
        assert!(validate_syntax("1.2.3.4.5", b"anything"));
        assert!(!is_known_syntax("1.2.3.4.5"));
        assert!(is_known_syntax(o::UUID));
    }

    #[test]
    fn generalized_time_instants() {
        let p = |s: &str| parse_generalized_time(s.as_bytes()).unwrap();
        assert_eq!(p("20200101000000Z"), p("20200101010000+0100"));
        assert_eq!(p("20200101000000Z"), p("202001010000Z"));
        assert_eq!(p("20200101000000Z"), p("2020010100Z"));
        assert_eq!(p("20200101000000.5Z"), p("20200101000000.50Z"));
        assert_eq!(p("202001011230.5Z"), p("20200101123030Z"));
        assert_eq!(p("2020010112.25Z"), p("20200101121500Z"));
        assert_eq!(p("20200101235960Z"), p("20200102000000Z"));
        assert!(p("20200101000000Z") < p("20200101000000.001Z"));
        assert!(p("19691231235959Z") < p("19700101000000Z"));
        assert_eq!(p("19700101000000Z").secs, 0);
        assert_eq!(
            format_generalized_time(p("20200101123045.1200+0130")),
            "20200101110045.12Z"
        );
        assert_eq!(format_generalized_time(p("2020022923Z")), "20200229230000Z");
        assert_eq!(
            format_generalized_time(p("00000101000000+0100")),
            "-00011231230000Z"
        );
        for d in [-1_000_000i64, -1, 0, 59, 365, 11_016, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn unique_member_split() {
        assert_eq!(
            split_unique_member("cn=x,dc=e#'01'B"),
            ("cn=x,dc=e", Some("'01'B"))
        );
        assert_eq!(split_unique_member("cn=x#a,dc=e"), ("cn=x#a,dc=e", None));
        assert_eq!(split_unique_member("cn=x"), ("cn=x", None));
    }
}
