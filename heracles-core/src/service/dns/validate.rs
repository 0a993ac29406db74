//! Validation and normalisation of DNS input: zone names, owner names, record values,
//! TTLs and SOA timers. Pure functions; every error is `VALIDATION_FAILED` with the details
//! `field`, `value` (the bad value as given) and `reason` (a stable word).
//!
//! ```
//! use heracles_core::service::dns::validate::{owner_name, record_value, zone_name, RecordType};
//!
//! let zone = zone_name("Example.COM.")?;
//! assert_eq!(zone.name(), "example.com");
//! assert_eq!(owner_name(&zone, "WWW")?, "www");
//! assert_eq!(owner_name(&zone, "www.example.com.")?, "www");
//! assert_eq!(owner_name(&zone, "example.com.")?, "@");
//! assert_eq!(record_value(&zone, RecordType::Mx, "10 mail")?, "10 mail.example.com.");
//! assert_eq!(record_value(&zone, RecordType::Txt, "v=spf1 -all")?, "\"v=spf1 -all\"");
//! assert!(record_value(&zone, RecordType::A, "192.168.1.300").is_err());
//! # Ok::<(), heracles_core::Error>(())
//! ```

use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Longest domain name in presentation form, without the trailing dot (RFC 1035: 255
/// octets on the wire).
pub const MAX_NAME_LEN: usize = 253;
/// Longest label (RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;
/// Longest character-string of a TXT record (RFC 1035 §3.3).
pub const MAX_TXT_STRING: usize = 255;
/// Longest TXT value as given (all its strings together, quoted).
pub const MAX_TXT_VALUE: usize = 4096;
/// Largest TTL and SOA timer (RFC 2181 §8: 2^31 - 1).
pub const MAX_TTL: i64 = 2_147_483_647;

/// A validation error on `field`, naming the bad `value`.
pub(crate) fn invalid(field: &str, value: &str, reason: &str, message: impl Into<String>) -> Error {
    Error::validation(field, message)
        .with_detail("value", value)
        .with_detail("reason", reason)
}

/// The record types Heracles writes (any `<type>Record` attribute is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    #[serde(rename = "AAAA")]
    Aaaa,
    /// Canonical name (alias).
    #[serde(rename = "CNAME")]
    Cname,
    /// Mail exchanger: `preference target`.
    #[serde(rename = "MX")]
    Mx,
    /// Name server.
    #[serde(rename = "NS")]
    Ns,
    /// Pointer (reverse zones).
    #[serde(rename = "PTR")]
    Ptr,
    /// Text strings.
    #[serde(rename = "TXT")]
    Txt,
    /// Service: `priority weight port target`.
    #[serde(rename = "SRV")]
    Srv,
}

impl RecordType {
    /// Every type Heracles writes.
    pub const ALL: &'static [RecordType] = &[
        RecordType::A,
        RecordType::Aaaa,
        RecordType::Cname,
        RecordType::Mx,
        RecordType::Ns,
        RecordType::Ptr,
        RecordType::Txt,
        RecordType::Srv,
    ];

    /// The type's mnemonic (`A`, `AAAA`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Mx => "MX",
            RecordType::Ns => "NS",
            RecordType::Ptr => "PTR",
            RecordType::Txt => "TXT",
            RecordType::Srv => "SRV",
        }
    }

    /// The dNSZone attribute holding records of this type.
    pub const fn attribute(self) -> &'static str {
        match self {
            RecordType::A => "aRecord",
            RecordType::Aaaa => "aAAARecord",
            RecordType::Cname => "cNAMERecord",
            RecordType::Mx => "mXRecord",
            RecordType::Ns => "nSRecord",
            RecordType::Ptr => "pTRRecord",
            RecordType::Txt => "tXTRecord",
            RecordType::Srv => "sRVRecord",
        }
    }

    /// Parses a mnemonic, ignoring case; `field` names the input in the error.
    pub fn parse(s: &str, field: &str) -> Result<RecordType> {
        RecordType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                invalid(
                    field,
                    s,
                    "unsupported_type",
                    format!(
                        "'{s}' is not a record type Heracles writes (one of A, AAAA, CNAME, MX, \
                         NS, PTR, TXT, SRV)"
                    ),
                )
            })
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type mnemonic of a dNSZone record attribute (`aRecord` → `A`, `LocRecord` → `LOC`),
/// `None` for any other attribute and for `sOARecord` (the zone's own).
pub fn type_of_attribute(attr: &str) -> Option<String> {
    let lower = attr.to_ascii_lowercase();
    let prefix = lower.strip_suffix("record")?;
    if prefix.is_empty() || prefix == "soa" {
        return None;
    }
    Some(prefix.to_ascii_uppercase())
}

/// Forward or reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ZoneType {
    /// Names to data.
    Forward,
    /// `in-addr.arpa` or `ip6.arpa`: addresses to names.
    Reverse,
}

impl ZoneType {
    /// `forward` or `reverse`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ZoneType::Forward => "forward",
            ZoneType::Reverse => "reverse",
        }
    }
}

/// Which reverse tree a zone is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reverse {
    V4,
    V6,
}

impl Reverse {
    /// Labels of a complete address below the tree (4 octets, 32 nibbles).
    const fn full(self) -> usize {
        match self {
            Reverse::V4 => 4,
            Reverse::V6 => 32,
        }
    }

    fn label_ok(self, l: &str) -> bool {
        match self {
            // An octet: 0-255 without leading zeros.
            Reverse::V4 => {
                !l.is_empty()
                    && l.len() <= 3
                    && l.bytes().all(|b| b.is_ascii_digit())
                    && (l == "0" || !l.starts_with('0'))
                    && l.parse::<u16>().is_ok_and(|n| n <= 255)
            }
            // One hex nibble.
            Reverse::V6 => l.len() == 1 && l.bytes().all(|b| b.is_ascii_hexdigit()),
        }
    }
}

/// A validated zone name: lower case, without the trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneName {
    name: String,
    reverse: Option<Reverse>,
    /// Labels below `in-addr.arpa` / `ip6.arpa`.
    reverse_labels: usize,
}

impl ZoneName {
    /// The name (`example.com`, `1.168.192.in-addr.arpa`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name with its trailing dot.
    pub fn fqdn(&self) -> String {
        format!("{}.", self.name)
    }

    /// Forward or reverse.
    pub fn zone_type(&self) -> ZoneType {
        if self.reverse.is_some() {
            ZoneType::Reverse
        } else {
            ZoneType::Forward
        }
    }

    /// Whether the absolute `name` (lower case, no trailing dot) is this zone or below it.
    pub fn contains(&self, name: &str) -> bool {
        name == self.name
            || name
                .strip_suffix(self.name.as_str())
                .is_some_and(|p| p.ends_with('.'))
    }

    /// The name relative to the zone of an absolute `name` inside it (`@` for the apex).
    fn relative(&self, name: &str) -> Option<String> {
        if name == self.name {
            return Some("@".to_owned());
        }
        name.strip_suffix(self.name.as_str())
            .and_then(|p| p.strip_suffix('.'))
            .map(str::to_owned)
    }

    /// The absolute name (no trailing dot) of a relative owner name.
    pub fn absolute(&self, relative: &str) -> String {
        if relative == "@" {
            self.name.clone()
        } else {
            format!("{relative}.{}", self.name)
        }
    }
}

impl fmt::Display for ZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// What the labels of a name may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Labels {
    /// Host names (RFC 952/1123 LDH): letters, digits, hyphens inside.
    Host,
    /// Domain names that are not host names: `_` allowed as well (`_sip._tcp`, `_dmarc`).
    Domain,
    /// Owner names: like `Domain`, and `*` as the whole leftmost label (a wildcard).
    Owner,
}

/// Checks the labels of `name` (lower case, no trailing dot, not empty); `Err(reason,
/// message)`.
fn check_labels(name: &str, kind: Labels) -> std::result::Result<(), (&'static str, String)> {
    if name.len() > MAX_NAME_LEN {
        return Err((
            "name_too_long",
            format!("a domain name has at most {MAX_NAME_LEN} characters"),
        ));
    }
    for (i, label) in name.split('.').enumerate() {
        if label.is_empty() {
            return Err(("empty_label", "a name has no empty labels ('..')".into()));
        }
        if label.len() > MAX_LABEL_LEN {
            return Err((
                "label_too_long",
                format!("the label '{label}' is longer than {MAX_LABEL_LEN} characters"),
            ));
        }
        if label == "*" && i == 0 && kind == Labels::Owner {
            continue;
        }
        let underscore = kind != Labels::Host;
        if let Some(bad) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || (underscore && *c == '_')))
        {
            return Err((
                "invalid_character",
                format!(
                    "the label '{label}' holds '{bad}': labels are letters, digits and hyphens{}",
                    if underscore { " (and underscores)" } else { "" }
                ),
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err((
                "hyphen_at_edge",
                format!("the label '{label}' starts or ends with a hyphen"),
            ));
        }
    }
    Ok(())
}

/// Validates a zone name: a domain name of LDH labels (trailing dot optional, case
/// ignored), or a reverse zone: 1–4 decimal octets below `in-addr.arpa`, 1–32 hex nibbles
/// below `ip6.arpa`.
pub fn zone_name(input: &str) -> Result<ZoneName> {
    let field = "zoneName";
    let name = input.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return Err(invalid(field, input, "empty", "the zone name is empty"));
    }
    if input.trim().ends_with("..") {
        return Err(invalid(
            field,
            input,
            "empty_label",
            format!("'{input}' is not a valid zone name: it has an empty label"),
        ));
    }
    check_labels(&name, Labels::Host).map_err(|(reason, msg)| {
        invalid(
            field,
            input,
            reason,
            format!("'{input}' is not a valid zone name: {msg}"),
        )
    })?;
    let (reverse, below) = if let Some(p) = name.strip_suffix("in-addr.arpa") {
        (Some(Reverse::V4), p)
    } else if let Some(p) = name.strip_suffix("ip6.arpa") {
        (Some(Reverse::V6), p)
    } else {
        (None, "")
    };
    let mut reverse_labels = 0;
    if let Some(kind) = reverse {
        // `xin-addr.arpa` is a forward name.
        if !below.is_empty() && !below.ends_with('.') {
            return Ok(ZoneName {
                name,
                reverse: None,
                reverse_labels: 0,
            });
        }
        let labels: Vec<&str> = below
            .trim_end_matches('.')
            .split('.')
            .filter(|l| !l.is_empty())
            .collect();
        let tree = if kind == Reverse::V4 {
            "in-addr.arpa"
        } else {
            "ip6.arpa"
        };
        if labels.is_empty() {
            return Err(invalid(
                field,
                input,
                "reverse_tree_root",
                format!("'{input}' is the root of the reverse tree, not a zone Heracles manages: name a network below {tree}"),
            ));
        }
        if labels.len() > kind.full() {
            return Err(invalid(
                field,
                input,
                "malformed_reverse",
                format!(
                    "'{input}' has {} labels below {tree}; at most {} are possible",
                    labels.len(),
                    kind.full()
                ),
            ));
        }
        if let Some(bad) = labels.iter().find(|l| !kind.label_ok(l)) {
            let what = if kind == Reverse::V4 {
                "a decimal octet 0-255 without leading zeros"
            } else {
                "one hexadecimal digit"
            };
            return Err(invalid(
                field,
                input,
                "malformed_reverse",
                format!("'{input}' is not a well-formed reverse zone: '{bad}' is not {what}"),
            ));
        }
        reverse_labels = labels.len();
    }
    Ok(ZoneName {
        name,
        reverse,
        reverse_labels,
    })
}

/// The reverse name of an address (`10.1.168.192.in-addr.arpa`), no trailing dot.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut out = String::with_capacity(72);
            for b in v6.octets().iter().rev() {
                let _ = write!(out, "{:x}.{:x}.", b & 0xf, b >> 4);
            }
            out.push_str("ip6.arpa");
            out
        }
    }
}

/// Validates the owner name of a record in `zone` and answers it relative to the zone
/// (lower case; `@` for the apex). Accepted: `@`; a relative name (`www`, `_sip._tcp`,
/// `*.dev`); an absolute name with its trailing dot inside the zone (`www.example.com.`);
/// in a reverse zone also an IP address inside it (`192.168.1.10`). In a reverse zone
/// every label must be an octet (`in-addr.arpa`) or a nibble (`ip6.arpa`).
pub fn owner_name(zone: &ZoneName, input: &str) -> Result<String> {
    let field = "name";
    let raw = input.trim();
    if raw.is_empty() {
        return Err(invalid(
            field,
            input,
            "empty",
            "the record name is empty (use '@' for the zone apex)",
        ));
    }
    if raw == "@" {
        return Ok("@".into());
    }
    let lower = raw.to_ascii_lowercase();
    if zone.reverse.is_some() {
        if let Ok(ip) = IpAddr::from_str(raw) {
            let full = reverse_name(ip);
            return zone.relative(&full).ok_or_else(|| {
                invalid(
                    field,
                    input,
                    "outside_zone",
                    format!("the address {ip} is not inside the zone {zone}"),
                )
            });
        }
    }
    let relative = if let Some(abs) = lower.strip_suffix('.') {
        if abs.is_empty() || abs.ends_with('.') {
            return Err(invalid(
                field,
                input,
                "empty_label",
                format!("'{input}' is not a valid name: it has an empty label"),
            ));
        }
        zone.relative(abs).ok_or_else(|| {
            invalid(
                field,
                input,
                "outside_zone",
                format!("'{input}' is not inside the zone {zone}"),
            )
        })?
    } else {
        lower
    };
    if relative == "@" {
        return Ok(relative);
    }
    check_labels(&relative, Labels::Owner).map_err(|(reason, msg)| {
        invalid(
            field,
            input,
            reason,
            format!("'{input}' is not a valid record name: {msg}"),
        )
    })?;
    let absolute_len = relative.len() + 1 + zone.name.len();
    if absolute_len > MAX_NAME_LEN {
        return Err(invalid(
            field,
            input,
            "name_too_long",
            format!(
                "'{input}' makes a name of {absolute_len} characters in {zone}; at most {MAX_NAME_LEN} are possible"
            ),
        ));
    }
    if let Some(kind) = zone.reverse {
        let labels: Vec<&str> = relative.split('.').collect();
        if labels.len() + zone.reverse_labels > kind.full() {
            return Err(invalid(
                field,
                input,
                "malformed_reverse",
                format!(
                    "'{input}' is too deep for the reverse zone {zone} (an address has {} labels)",
                    kind.full()
                ),
            ));
        }
        if let Some(bad) = labels.iter().find(|l| **l != "*" && !kind.label_ok(l)) {
            return Err(invalid(
                field,
                input,
                "malformed_reverse",
                format!(
                    "'{input}' is not a name in the reverse zone {zone}: '{bad}' is not {}",
                    if kind == Reverse::V4 {
                        "a decimal octet 0-255"
                    } else {
                        "a hexadecimal digit"
                    }
                ),
            ));
        }
    }
    Ok(relative)
}

/// Whether the relative owner `name` of a reverse `zone` names one complete address (what a
/// PTR record needs).
pub fn is_full_address(zone: &ZoneName, name: &str) -> bool {
    match zone.reverse {
        None => false,
        Some(kind) => {
            name != "@"
                && !name.contains('*')
                && name.split('.').count() + zone.reverse_labels == kind.full()
        }
    }
}

/// Whether the relative owner `name` starts with `_service._proto` (RFC 2782).
pub fn is_service_name(name: &str) -> bool {
    let mut labels = name.split('.');
    matches!((labels.next(), labels.next()), (Some(s), Some(p))
        if s.len() > 1 && s.starts_with('_') && p.len() > 1 && p.starts_with('_'))
}

/// A target name inside a record value: absolute with a trailing dot (`mail.example.com.`),
/// or relative to the zone (`mail` → `mail.<zone>.`), answered absolute in lower case.
/// `root_ok`: `.` (no target) is allowed. A relative name that already ends with the zone
/// name (`mail.example.com` in `example.com`) is refused: it would mean
/// `mail.example.com.example.com.` — the trailing dot is missing.
fn target(
    zone: &ZoneName,
    input: &str,
    kind: Labels,
    root_ok: bool,
    field: &str,
    whole: &str,
) -> Result<String> {
    let lower = input.to_ascii_lowercase();
    if lower == "." {
        return if root_ok {
            Ok(".".into())
        } else {
            Err(invalid(
                field,
                whole,
                "root_target",
                "'.' (no target) is not allowed here",
            ))
        };
    }
    let (name, absolute) = match lower.strip_suffix('.') {
        Some(n) => (n.to_owned(), true),
        None => (lower.clone(), false),
    };
    if name.is_empty() {
        return Err(invalid(field, whole, "empty", "the target name is empty"));
    }
    if !absolute && (name == zone.name || zone.contains(&name)) {
        return Err(invalid(
            field,
            whole,
            "ambiguous_relative_name",
            format!(
                "'{input}' has no trailing dot, so it is relative to the zone and would mean \
                 '{name}.{}.'; write '{name}.' for the absolute name",
                zone.name
            ),
        ));
    }
    let full = if absolute {
        name
    } else {
        format!("{name}.{}", zone.name)
    };
    check_labels(&full, kind).map_err(|(reason, msg)| {
        invalid(
            field,
            whole,
            reason,
            format!("'{input}' is not a valid target name: {msg}"),
        )
    })?;
    Ok(format!("{full}."))
}

/// A number of a record value in `0..=65535`.
fn u16_part(part: &str, what: &str, whole: &str) -> Result<u16> {
    part.parse::<u16>().map_err(|_| {
        invalid(
            "value",
            whole,
            &format!("invalid_{}", what.replace(' ', "_").to_lowercase()),
            format!("'{part}' is not a valid {what} (an integer 0-65535) in '{whole}'"),
        )
    })
}

/// Validates a record value of `kind` in `zone` and answers its normalised presentation
/// form, as stored (the `<type>Record` attribute value bind reads):
///
/// - A / AAAA: an IPv4 / IPv6 address (`std::net` syntax; IPv6 answered in RFC 5952 form).
/// - CNAME, PTR: a domain name; NS: a host name (LDH). MX: `preference host` (preference
///   0–65535; `0 .` is a null MX, RFC 7505). SRV: `priority weight port host` (each
///   0–65535; host `.` means no service). Names are absolute with a trailing dot or
///   relative to the zone; they are stored absolute.
/// - TXT: either plain text (one string, stored quoted), or one or more quoted strings
///   (`"a" "b"`, with `\"`, `\\` and `\DDD` escapes). Each string has at most 255 octets;
///   bytes outside printable ASCII are stored as `\DDD` escapes (the attribute is IA5).
pub fn record_value(zone: &ZoneName, kind: RecordType, input: &str) -> Result<String> {
    let field = "value";
    let v = input.trim();
    if v.is_empty() && kind != RecordType::Txt {
        return Err(invalid(
            field,
            input,
            "empty",
            format!("the {kind} record value is empty"),
        ));
    }
    match kind {
        RecordType::A => Ipv4Addr::from_str(v).map(|a| a.to_string()).map_err(|_| {
            invalid(
                field,
                input,
                "invalid_ipv4",
                format!("'{input}' is not an IPv4 address (like 192.168.1.10)"),
            )
        }),
        RecordType::Aaaa => Ipv6Addr::from_str(v).map(|a| a.to_string()).map_err(|_| {
            invalid(
                field,
                input,
                "invalid_ipv6",
                format!("'{input}' is not an IPv6 address (like 2001:db8::1)"),
            )
        }),
        RecordType::Cname | RecordType::Ptr => {
            one_part(v, input, kind)?;
            target(zone, v, Labels::Domain, false, field, input)
        }
        RecordType::Ns => {
            one_part(v, input, kind)?;
            target(zone, v, Labels::Host, false, field, input)
        }
        RecordType::Mx => {
            let parts: Vec<&str> = v.split_whitespace().collect();
            let [pref, host] = parts[..] else {
                return Err(invalid(
                    field,
                    input,
                    "malformed_mx",
                    format!("'{input}' is not an MX value: 'preference host' (like '10 mail.example.com.')"),
                ));
            };
            let pref = u16_part(pref, "MX preference", input)?;
            let host = target(zone, host, Labels::Host, true, field, input)?;
            if host == "." && pref != 0 {
                return Err(invalid(
                    field,
                    input,
                    "null_mx_preference",
                    "a null MX ('.') must have preference 0 (RFC 7505)",
                ));
            }
            Ok(format!("{pref} {host}"))
        }
        RecordType::Srv => {
            let parts: Vec<&str> = v.split_whitespace().collect();
            let [priority, weight, port, host] = parts[..] else {
                return Err(invalid(
                    field,
                    input,
                    "malformed_srv",
                    format!(
                        "'{input}' is not an SRV value: 'priority weight port host' (like \
                         '10 5 5060 sip.example.com.')"
                    ),
                ));
            };
            let priority = u16_part(priority, "SRV priority", input)?;
            let weight = u16_part(weight, "SRV weight", input)?;
            let port = u16_part(port, "SRV port", input)?;
            let host = target(zone, host, Labels::Host, true, field, input)?;
            Ok(format!("{priority} {weight} {port} {host}"))
        }
        RecordType::Txt => txt_strings(input).map(|s| render_txt(&s)),
    }
}

fn one_part(v: &str, input: &str, kind: RecordType) -> Result<()> {
    if v.split_whitespace().count() != 1 {
        return Err(invalid(
            "value",
            input,
            "malformed_name",
            format!("a {kind} value is one name; '{input}' has several words"),
        ));
    }
    Ok(())
}

/// The character-strings of a TXT value: quoted strings (escapes `\"`, `\\`, `\DDD`)
/// separated by blanks, or else the whole text as one string.
pub fn txt_strings(input: &str) -> Result<Vec<Vec<u8>>> {
    let field = "value";
    if input.len() > MAX_TXT_VALUE {
        return Err(invalid(
            field,
            &format!("{}...", crate::directory::truncate(input, 40)),
            "txt_too_long",
            format!("a TXT value has at most {MAX_TXT_VALUE} characters"),
        ));
    }
    let t = input.trim();
    let strings = if t.starts_with('"') {
        parse_quoted(t, input)?
    } else if t.is_empty() {
        return Err(invalid(
            field,
            input,
            "empty",
            "the TXT value is empty (write '\"\"' for one empty string)",
        ));
    } else {
        vec![t.as_bytes().to_vec()]
    };
    for (i, s) in strings.iter().enumerate() {
        if s.len() > MAX_TXT_STRING {
            return Err(invalid(
                field,
                input,
                "txt_string_too_long",
                format!(
                    "TXT string {} has {} octets; each string has at most {MAX_TXT_STRING} \
                     (split long text into several quoted strings: \"part1\" \"part2\")",
                    i + 1,
                    s.len()
                ),
            )
            .with_detail("index", i));
        }
    }
    Ok(strings)
}

fn parse_quoted(t: &str, input: &str) -> Result<Vec<Vec<u8>>> {
    let bad = |reason: &str, msg: String| invalid("value", input, reason, msg);
    let bytes = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if bytes[i] != b'"' {
            return Err(bad(
                "malformed_txt",
                format!(
                    "text outside quotes at position {i} of a quoted TXT value: quote every \
                     string (\"a\" \"b\"), or give plain text without leading quote"
                ),
            ));
        }
        i += 1;
        let mut s = Vec::new();
        let mut closed = false;
        while i < bytes.len() {
            match bytes[i] {
                b'"' => {
                    closed = true;
                    i += 1;
                    break;
                }
                b'\\' => {
                    let rest = &bytes[i + 1..];
                    if rest.len() >= 3 && rest[..3].iter().all(u8::is_ascii_digit) {
                        let n = u16::from(rest[0] - b'0') * 100
                            + u16::from(rest[1] - b'0') * 10
                            + u16::from(rest[2] - b'0');
                        let byte = u8::try_from(n).map_err(|_| {
                            bad("malformed_txt", format!("the escape \\{n} is beyond 255"))
                        })?;
                        s.push(byte);
                        i += 4;
                    } else if let Some(&c) = rest.first() {
                        s.push(c);
                        i += 2;
                    } else {
                        return Err(bad(
                            "malformed_txt",
                            "the TXT value ends in a lone backslash".into(),
                        ));
                    }
                }
                c => {
                    s.push(c);
                    i += 1;
                }
            }
        }
        if !closed {
            return Err(bad(
                "unterminated_quote",
                "a quoted TXT string is not closed".into(),
            ));
        }
        if i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            return Err(bad(
                "malformed_txt",
                "quoted TXT strings must be separated by blanks".into(),
            ));
        }
        out.push(s);
    }
    Ok(out)
}

/// The presentation form of TXT strings: each quoted, `"` and `\` escaped, bytes outside
/// printable ASCII as `\DDD`.
pub fn render_txt(strings: &[Vec<u8>]) -> String {
    let mut out = String::new();
    for (i, s) in strings.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push('"');
        for &b in s {
            match b {
                b'"' | b'\\' => {
                    out.push('\\');
                    out.push(char::from(b));
                }
                0x20..=0x7e => out.push(char::from(b)),
                _ => {
                    let _ = write!(out, "\\{b:03}");
                }
            }
        }
        out.push('"');
    }
    out
}

/// A TTL or SOA timer in `min..=2^31-1` (RFC 2181 §8).
pub fn seconds(field: &str, value: i64, min: i64) -> Result<u32> {
    if value < min || value > MAX_TTL {
        return Err(invalid(
            field,
            &value.to_string(),
            "out_of_range",
            format!("{field} must be between {min} and {MAX_TTL} seconds, not {value}"),
        ));
    }
    u32::try_from(value).map_err(|_| Error::internal("checked range"))
}

/// A name server or other host given as a fully qualified name (trailing dot optional),
/// answered with the trailing dot, lower case.
pub fn fqdn_host(field: &str, input: &str) -> Result<String> {
    let name = input.trim().to_ascii_lowercase();
    let name = name.strip_suffix('.').unwrap_or(&name);
    if name.is_empty() {
        return Err(invalid(field, input, "empty", format!("{field} is empty")));
    }
    check_labels(name, Labels::Host).map_err(|(reason, msg)| {
        invalid(
            field,
            input,
            reason,
            format!("'{input}' is not a valid host name: {msg}"),
        )
    })?;
    Ok(format!("{name}."))
}

/// The SOA mailbox (RNAME) of an e-mail address: `admin@example.com` →
/// `admin.example.com.`, dots of the local part escaped (`john\.doe.example.com.`).
pub fn mailbox(input: &str) -> Result<String> {
    let field = "adminEmail";
    let t = input.trim();
    let Some((local, domain)) = t.rsplit_once('@') else {
        return Err(invalid(
            field,
            input,
            "invalid_email",
            format!("'{input}' is not an e-mail address (like hostmaster@example.com)"),
        ));
    };
    if local.is_empty()
        || local.len() > MAX_LABEL_LEN
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
        || !local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
    {
        return Err(invalid(
            field,
            input,
            "invalid_email",
            format!(
                "the local part '{local}' of '{input}' must be 1-63 letters, digits, '.', '_', \
                 '-' or '+' (no leading, trailing or double dot)"
            ),
        ));
    }
    let domain = fqdn_host(field, domain).map_err(|e| {
        let msg = format!("'{input}' is not a valid e-mail address: {}", e.message());
        e.with_message(msg).with_detail("value", input)
    })?;
    let out = format!("{}.{domain}", local.replace('.', "\\."));
    if out.len() > MAX_NAME_LEN + 1 {
        return Err(invalid(
            field,
            input,
            "name_too_long",
            format!("'{input}' is too long for a DNS mailbox name"),
        ));
    }
    Ok(out)
}

/// The e-mail address of an SOA mailbox (the inverse of [`mailbox`]).
pub fn email_of_mailbox(rname: &str) -> String {
    let name = rname.strip_suffix('.').unwrap_or(rname);
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'.' => {
                let local = name[..i].replace("\\.", ".");
                return format!("{local}@{}", &name[i + 1..]);
            }
            _ => i += 1,
        }
    }
    name.replace("\\.", ".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn reason(e: &Error) -> String {
        assert_eq!(e.code(), ErrorCode::ValidationFailed, "{e}");
        e.details()["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn fwd() -> ZoneName {
        zone_name("example.com").unwrap()
    }

    #[test]
    fn zone_names() {
        for (input, name, ty) in [
            ("example.com", "example.com", ZoneType::Forward),
            ("Example.COM.", "example.com", ZoneType::Forward),
            ("lan", "lan", ZoneType::Forward),
            ("home.arpa", "home.arpa", ZoneType::Forward),
            ("a-b.c0.example", "a-b.c0.example", ZoneType::Forward),
            (
                "1.168.192.in-addr.arpa",
                "1.168.192.in-addr.arpa",
                ZoneType::Reverse,
            ),
            ("10.in-addr.arpa.", "10.in-addr.arpa", ZoneType::Reverse),
            (
                "0.0.10.10.in-addr.arpa",
                "0.0.10.10.in-addr.arpa",
                ZoneType::Reverse,
            ),
            (
                "8.b.d.0.1.0.0.2.ip6.arpa",
                "8.b.d.0.1.0.0.2.ip6.arpa",
                ZoneType::Reverse,
            ),
            ("xin-addr.arpa", "xin-addr.arpa", ZoneType::Forward),
        ] {
            let z = zone_name(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((z.name(), z.zone_type()), (name, ty), "{input}");
        }
        let long_label = format!("{}.com", "a".repeat(64));
        let long_name = vec!["abcdefghi"; 26].join(".");
        for (bad, why) in [
            ("", "empty"),
            (".", "empty"),
            ("exa mple.com", "invalid_character"),
            ("ex_ample.com", "invalid_character"),
            ("-example.com", "hyphen_at_edge"),
            ("example-.com", "hyphen_at_edge"),
            ("example..com", "empty_label"),
            ("example.com..", "empty_label"),
            ("bücher.de", "invalid_character"),
            (long_label.as_str(), "label_too_long"),
            (long_name.as_str(), "name_too_long"),
            ("in-addr.arpa", "reverse_tree_root"),
            ("ip6.arpa", "reverse_tree_root"),
            ("256.168.192.in-addr.arpa", "malformed_reverse"),
            ("01.168.192.in-addr.arpa", "malformed_reverse"),
            ("a.168.192.in-addr.arpa", "malformed_reverse"),
            ("1.1.1.1.1.in-addr.arpa", "malformed_reverse"),
            ("ab.8.b.d.0.1.0.0.2.ip6.arpa", "malformed_reverse"),
            ("g.ip6.arpa", "malformed_reverse"),
        ] {
            let e = zone_name(bad).unwrap_err();
            assert_eq!(reason(&e), why, "{bad}");
            assert_eq!(e.details()["field"], "zoneName");
            assert_eq!(e.details()["value"], bad);
        }
        let deep = format!("{}ip6.arpa", "0.".repeat(33));
        assert_eq!(reason(&zone_name(&deep).unwrap_err()), "malformed_reverse");
        assert!(zone_name(&format!("{}ip6.arpa", "f.".repeat(32))).is_ok());
    }

    #[test]
    fn owner_names() {
        let z = fwd();
        for (input, want) in [
            ("@", "@"),
            ("www", "www"),
            ("WWW", "www"),
            ("a.b", "a.b"),
            ("_sip._tcp", "_sip._tcp"),
            ("*", "*"),
            ("*.dev", "*.dev"),
            ("www.example.com.", "www"),
            ("EXAMPLE.com.", "@"),
            ("x-1", "x-1"),
        ] {
            assert_eq!(owner_name(&z, input).unwrap(), want, "{input}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("www.other.org.", "outside_zone"),
            ("www..x", "empty_label"),
            ("..", "empty_label"),
            ("a*", "invalid_character"),
            ("a.*", "invalid_character"),
            ("-www", "hyphen_at_edge"),
            ("w w", "invalid_character"),
            ("é", "invalid_character"),
        ] {
            let e = owner_name(&z, bad).unwrap_err();
            assert_eq!(reason(&e), why, "{bad}");
            assert_eq!(e.details()["field"], "name");
        }
        let long = vec!["a".repeat(60); 4].join(".");
        assert_eq!(reason(&owner_name(&z, &long).unwrap_err()), "name_too_long");
    }

    #[test]
    fn reverse_owner_names() {
        let z = zone_name("1.168.192.in-addr.arpa").unwrap();
        assert_eq!(owner_name(&z, "10").unwrap(), "10");
        assert_eq!(owner_name(&z, "192.168.1.10").unwrap(), "10");
        assert_eq!(owner_name(&z, "10.1.168.192.in-addr.arpa.").unwrap(), "10");
        assert!(is_full_address(&z, "10"));
        assert!(!is_full_address(&z, "@"));
        for bad in ["256", "a", "1.2", "010", "192.168.2.10"] {
            assert!(owner_name(&z, bad).is_err(), "{bad}");
        }
        let z16 = zone_name("168.192.in-addr.arpa").unwrap();
        assert_eq!(owner_name(&z16, "10.1").unwrap(), "10.1");
        assert!(is_full_address(&z16, "10.1"));
        assert!(!is_full_address(&z16, "1"));
        let z6 = zone_name("8.b.d.0.1.0.0.2.ip6.arpa").unwrap();
        let name = owner_name(&z6, "2001:db8::1").unwrap();
        assert_eq!(name, format!("1.{}", "0.".repeat(23).trim_end_matches('.')));
        assert!(is_full_address(&z6, &name));
        assert!(owner_name(&z6, "2001:db9::1").is_err());
        assert!(owner_name(&z6, "g").is_err());
        assert!(owner_name(&z6, "10").is_err());
        assert_eq!(
            reverse_name("2001:db8::1".parse().unwrap()),
            format!("1.{}8.b.d.0.1.0.0.2.ip6.arpa", "0.".repeat(23))
        );
    }

    #[test]
    fn addresses() {
        let z = fwd();
        assert_eq!(
            record_value(&z, RecordType::A, " 192.168.1.10 ").unwrap(),
            "192.168.1.10"
        );
        for bad in [
            "192.168.1.300",
            "192.168.1",
            "1.2.3.4.5",
            "01.2.3.4",
            "::1",
            "a",
            "1.2.3.4 5",
        ] {
            let e = record_value(&z, RecordType::A, bad).unwrap_err();
            assert_eq!(reason(&e), "invalid_ipv4", "{bad}");
            assert_eq!(e.details()["value"], bad);
        }
        assert_eq!(
            record_value(&z, RecordType::Aaaa, "2001:DB8:0:0:0:0:0:1").unwrap(),
            "2001:db8::1"
        );
        assert_eq!(
            record_value(&z, RecordType::Aaaa, "::ffff:1.2.3.4").unwrap(),
            "::ffff:1.2.3.4"
        );
        for bad in ["2001:db8::g", "1.2.3.4", "2001:db8:::1", "12345::1", ""] {
            assert!(record_value(&z, RecordType::Aaaa, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_in_values() {
        let z = fwd();
        for (ty, input, want) in [
            (RecordType::Cname, "www", "www.example.com."),
            (RecordType::Cname, "host.other.org.", "host.other.org."),
            (
                RecordType::Cname,
                "_x._domainkey.other.org.",
                "_x._domainkey.other.org.",
            ),
            (RecordType::Cname, "Example.COM.", "example.com."),
            (RecordType::Ns, "ns1.example.com.", "ns1.example.com."),
            (RecordType::Ns, "ns2", "ns2.example.com."),
            (RecordType::Ptr, "host.example.com.", "host.example.com."),
        ] {
            assert_eq!(record_value(&z, ty, input).unwrap(), want, "{ty} {input}");
        }
        for (ty, bad, why) in [
            (
                RecordType::Cname,
                "www.example.com",
                "ambiguous_relative_name",
            ),
            (RecordType::Cname, "a b", "malformed_name"),
            (RecordType::Cname, ".", "root_target"),
            (RecordType::Cname, "bad..name.", "empty_label"),
            (RecordType::Ns, "_ns.example.com.", "invalid_character"),
            (RecordType::Ns, "ns-.example.com.", "hyphen_at_edge"),
            (RecordType::Ptr, "a/b.", "invalid_character"),
        ] {
            assert_eq!(
                reason(&record_value(&z, ty, bad).unwrap_err()),
                why,
                "{ty} {bad}"
            );
        }
    }

    #[test]
    fn mx_values() {
        let z = fwd();
        for (input, want) in [
            ("10 mail.example.com.", "10 mail.example.com."),
            ("  0   mail ", "0 mail.example.com."),
            ("65535 mx.other.org.", "65535 mx.other.org."),
            ("0 .", "0 ."),
        ] {
            assert_eq!(record_value(&z, RecordType::Mx, input).unwrap(), want);
        }
        for (bad, why) in [
            ("mail.example.com.", "malformed_mx"),
            ("10", "malformed_mx"),
            ("10 a b", "malformed_mx"),
            ("65536 mail.example.com.", "invalid_mx_preference"),
            ("-1 mail.example.com.", "invalid_mx_preference"),
            ("x mail.example.com.", "invalid_mx_preference"),
            ("10 .", "null_mx_preference"),
            ("10 mail_x.example.com.", "invalid_character"),
        ] {
            let e = record_value(&z, RecordType::Mx, bad).unwrap_err();
            assert_eq!(reason(&e), why, "{bad}");
            assert_eq!(e.details()["value"], bad);
        }
    }

    #[test]
    fn srv_values() {
        let z = fwd();
        assert_eq!(
            record_value(&z, RecordType::Srv, "10 5 5060 sip.example.com.").unwrap(),
            "10 5 5060 sip.example.com."
        );
        assert_eq!(
            record_value(&z, RecordType::Srv, "0 0 0 .").unwrap(),
            "0 0 0 ."
        );
        assert_eq!(
            record_value(&z, RecordType::Srv, "1 2 3 sip").unwrap(),
            "1 2 3 sip.example.com."
        );
        for (bad, why) in [
            ("10 5 sip.example.com.", "malformed_srv"),
            ("10 5 5060 sip.example.com. x", "malformed_srv"),
            ("70000 5 5060 sip.example.com.", "invalid_srv_priority"),
            ("10 -5 5060 sip.example.com.", "invalid_srv_weight"),
            ("10 5 65536 sip.example.com.", "invalid_srv_port"),
            ("10 5 http sip.example.com.", "invalid_srv_port"),
        ] {
            assert_eq!(
                reason(&record_value(&z, RecordType::Srv, bad).unwrap_err()),
                why,
                "{bad}"
            );
        }
        assert!(is_service_name("_sip._tcp"));
        assert!(is_service_name("_ldap._tcp.dc"));
        assert!(!is_service_name("sip._tcp"));
        assert!(!is_service_name("_sip"));
        assert!(!is_service_name("_._tcp"));
    }

    #[test]
    fn txt_values() {
        let z = fwd();
        let txt = |v: &str| record_value(&z, RecordType::Txt, v);
        assert_eq!(txt("v=spf1 mx -all").unwrap(), "\"v=spf1 mx -all\"");
        assert_eq!(txt("\"a b\" \"c\"").unwrap(), "\"a b\" \"c\"");
        assert_eq!(txt("\"say \\\"hi\\\"\"").unwrap(), "\"say \\\"hi\\\"\"");
        assert_eq!(txt("back\\slash").unwrap(), "\"back\\\\slash\"");
        assert_eq!(txt("\"\"").unwrap(), "\"\"");
        assert_eq!(txt("\"\\065\"").unwrap(), "\"A\"");
        assert_eq!(txt("\"\\a\"").unwrap(), "\"a\"");
        // Non-ASCII text is kept as escaped UTF-8 octets (the attribute is IA5).
        assert_eq!(txt("café").unwrap(), "\"caf\\195\\169\"");
        assert_eq!(txt(&"a".repeat(255)).unwrap().len(), 257);
        let two = format!("\"{}\" \"{}\"", "a".repeat(255), "b".repeat(255));
        assert_eq!(txt(&two).unwrap(), two);
        for (bad, why) in [
            ("", "empty"),
            ("   ", "empty"),
            ("\"open", "unterminated_quote"),
            ("\"a\"b", "malformed_txt"),
            ("\"a\" b", "malformed_txt"),
            ("\"\\256\"", "malformed_txt"),
            ("\"a\\", "malformed_txt"),
        ] {
            assert_eq!(reason(&txt(bad).unwrap_err()), why, "{bad}");
        }
        let e = txt(&"a".repeat(256)).unwrap_err();
        assert_eq!(reason(&e), "txt_string_too_long");
        let e = txt(&format!("\"a\" \"{}\"", "b".repeat(256))).unwrap_err();
        assert_eq!(e.details()["index"], 1);
        assert_eq!(reason(&txt(&"a".repeat(5000)).unwrap_err()), "txt_too_long");
        // Round trip: the stored form parses back to the same strings.
        for v in ["plain", "\"x\\\"y\" \"\\\\\"", "tab\there"] {
            let stored = txt(v).unwrap();
            assert_eq!(txt(&stored).unwrap(), stored, "{v}");
        }
    }

    #[test]
    fn types() {
        assert_eq!(RecordType::parse("aaaa", "type").unwrap(), RecordType::Aaaa);
        assert_eq!(RecordType::parse(" Srv ", "type").unwrap(), RecordType::Srv);
        for bad in ["SOA", "HINFO", "", "A A"] {
            let e = RecordType::parse(bad, "type").unwrap_err();
            assert_eq!(reason(&e), "unsupported_type", "{bad}");
        }
        assert_eq!(type_of_attribute("aRecord").as_deref(), Some("A"));
        assert_eq!(type_of_attribute("AAAARECORD").as_deref(), Some("AAAA"));
        assert_eq!(type_of_attribute("LocRecord").as_deref(), Some("LOC"));
        assert_eq!(type_of_attribute("sOARecord"), None);
        assert_eq!(type_of_attribute("Record"), None);
        assert_eq!(type_of_attribute("dNSTTL"), None);
        for t in RecordType::ALL {
            assert_eq!(
                type_of_attribute(t.attribute()).as_deref(),
                Some(t.as_str())
            );
        }
        assert_eq!(serde_json::to_value(RecordType::Aaaa).unwrap(), "AAAA");
    }

    #[test]
    fn timers_hosts_and_mailboxes() {
        assert_eq!(seconds("ttl", 3600, 0).unwrap(), 3600);
        assert_eq!(seconds("ttl", 0, 0).unwrap(), 0);
        assert_eq!(seconds("ttl", MAX_TTL, 0).unwrap(), 2_147_483_647);
        for (v, min) in [(-1, 0), (MAX_TTL + 1, 0), (0, 1)] {
            let e = seconds("refresh", v, min).unwrap_err();
            assert_eq!(reason(&e), "out_of_range");
            assert_eq!(e.details()["field"], "refresh");
            assert_eq!(e.details()["value"], v.to_string());
        }
        assert_eq!(
            fqdn_host("primaryNs", "NS1.example.com").unwrap(),
            "ns1.example.com."
        );
        assert_eq!(
            fqdn_host("primaryNs", "ns1.example.com.").unwrap(),
            "ns1.example.com."
        );
        for bad in [
            "",
            "ns_1.example.com",
            "ns1..example.com",
            "-ns.example.com",
        ] {
            assert!(fqdn_host("primaryNs", bad).is_err(), "{bad}");
        }
        assert_eq!(mailbox("admin@example.com").unwrap(), "admin.example.com.");
        assert_eq!(
            mailbox("john.doe@Example.com").unwrap(),
            "john\\.doe.example.com."
        );
        assert_eq!(email_of_mailbox("admin.example.com."), "admin@example.com");
        assert_eq!(
            email_of_mailbox("john\\.doe.example.com."),
            "john.doe@example.com"
        );
        for bad in [
            "admin",
            "@example.com",
            "a b@example.com",
            "admin@",
            "a..b@example.com",
            ".a@x.org",
            "admin@exa_mple.com",
        ] {
            let e = mailbox(bad).unwrap_err();
            assert_eq!(e.details()["field"], "adminEmail", "{bad}");
            assert_eq!(e.details()["value"], bad, "{bad}");
        }
    }
}
