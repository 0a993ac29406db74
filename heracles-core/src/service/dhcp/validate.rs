//! Validation of DHCP values: names, IPv4 networks and ranges, MAC addresses, and the
//! `dhcpStatements` / `dhcpOption` lines dhcpd pastes into its configuration.
//!
//! Every check fails with `VALIDATION_FAILED` whose details name the `field`, a machine
//! `reason` and the offending `value`; nothing here panics on any input.
//!
//! ```
//! use heracles_core::service::dhcp::validate::{parse_mac, Network, Range};
//!
//! let net = Network::parse("192.168.1.0", Some(24))?;
//! assert_eq!(net.netmask().to_string(), "255.255.255.0");
//! assert!(Network::parse("192.168.1.7/24", None).is_err()); // host bits set
//! let range = Range::parse("192.168.1.100 192.168.1.199")?;
//! assert!(net.check_range(&range).is_ok());
//! assert_eq!(range.id(), "192.168.1.100-192.168.1.199");
//! assert_eq!(parse_mac("00-11-22-AA-BB-CC")?, "00:11:22:aa:bb:cc");
//! # Ok::<(), heracles_core::Error>(())
//! ```

use std::fmt;
use std::net::Ipv4Addr;

use crate::directory::truncate;
use crate::error::{Error, Result};

/// Longest service or shared-network name.
pub const MAX_NAME_LEN: usize = 64;
/// Longest host name (a DNS name).
pub const MAX_HOST_NAME_LEN: usize = 253;
/// Longest statement, option or permit line (bytes).
pub const MAX_LINE_LEN: usize = 1024;
/// Most lines in one list.
pub const MAX_LINES: usize = 100;
/// Longest description (`dhcpComments`).
pub const MAX_DESCRIPTION_LEN: usize = 1024;

fn fail(field: &str, reason: &str, value: &str, message: impl Into<String>) -> Error {
    Error::validation(field, message)
        .with_detail("reason", reason)
        .with_detail("value", truncate(value, 80))
}

/// Checks the name of a service or shared network: 1 to 64 characters, ASCII letters,
/// digits, `.`, `_` and `-`, starting with a letter or digit (dhcpd quotes shared-network
/// names; these never need escaping).
pub fn check_name(field: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(fail(
            field,
            "empty",
            name,
            format!("{field} must not be empty"),
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(fail(
            field,
            "too_long",
            name,
            format!("{field} must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    let first_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric());
    let rest_ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !first_ok || !rest_ok {
        return Err(fail(
            field,
            "invalid_character",
            name,
            format!(
                "invalid {field} '{}': letters, digits, '.', '_' and '-' only, starting with a \
                 letter or digit",
                truncate(name, 80)
            ),
        ));
    }
    Ok(())
}

/// Checks a host name as dhcpd reads it unquoted (`host NAME { ... }`) and as a DHCP
/// server's name: dot-separated labels of 1 to 63 ASCII letters, digits, `-` and `_`, each
/// starting with a letter or digit; at most 253 characters, no empty label.
pub fn check_host_name(field: &str, name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(fail(
            field,
            "empty",
            name,
            format!("{field} must not be empty"),
        ));
    }
    if name.len() > MAX_HOST_NAME_LEN {
        return Err(fail(
            field,
            "too_long",
            name,
            format!("{field} must be at most {MAX_HOST_NAME_LEN} characters"),
        ));
    }
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if !ok {
            return Err(fail(
                field,
                "invalid_host_name",
                name,
                format!(
                    "invalid {field} '{}': dot-separated labels of letters, digits, '-' and \
                     '_', each starting with a letter or digit (at most 63 characters each)",
                    truncate(name, 80)
                ),
            ));
        }
    }
    Ok(())
}

/// Parses a dotted-quad IPv4 address (`192.168.1.10`; no leading zeros, no CIDR suffix).
pub fn parse_ipv4(field: &str, s: &str) -> Result<Ipv4Addr> {
    s.parse::<Ipv4Addr>().map_err(|_| {
        fail(
            field,
            "invalid_address",
            s,
            format!(
                "'{}' is not an IPv4 address (dotted quad, e.g. 192.168.1.10)",
                truncate(s, 80)
            ),
        )
    })
}

/// An IPv4 network: its address (no host bits set) and prefix length (0 to 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network {
    /// The network address.
    pub address: Ipv4Addr,
    /// The prefix length (`dhcpNetMask`).
    pub prefix: u8,
}

impl Network {
    /// Parses `network` (`192.168.1.0`, or `192.168.1.0/24` when `prefix` is `None`) with
    /// `prefix`. Fails when the prefix is missing, given twice, out of 0–32, or when the
    /// address has bits set beyond the prefix (details `expected`: the network address).
    pub fn parse(network: &str, prefix: Option<i64>) -> Result<Network> {
        let (addr, cidr) = match network.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (network, None),
        };
        let address = parse_ipv4("network", addr)?;
        let prefix =
            match (cidr, prefix) {
                (Some(_), Some(_)) => {
                    return Err(fail(
                        "prefix",
                        "prefix_twice",
                        network,
                        "give the prefix either in network (a.b.c.d/len) or as prefix, not both",
                    ))
                }
                (None, None) => return Err(fail(
                    "prefix",
                    "missing",
                    network,
                    "the prefix length is missing: give prefix (0 to 32) or network as a.b.c.d/len",
                )),
                (Some(p), None) => {
                    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 2 {
                        return Err(fail(
                            "network",
                            "invalid_prefix",
                            network,
                            format!("'{}' has no valid prefix length", truncate(network, 80)),
                        ));
                    }
                    p.parse::<i64>().unwrap_or(-1)
                }
                (None, Some(p)) => p,
            };
        let prefix = u8::try_from(prefix)
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| {
                fail(
                    "prefix",
                    "out_of_range",
                    &prefix.to_string(),
                    format!("prefix must be 0 to 32, got {prefix}"),
                )
            })?;
        let net = Network { address, prefix };
        let expected = Ipv4Addr::from(u32::from(address) & net.mask_bits());
        if expected != address {
            return Err(fail(
                "network",
                "host_bits_set",
                &format!("{address}/{prefix}"),
                format!(
                    "{address} is not the network address of a /{prefix} network (host bits \
                     are set): the network is {expected}"
                ),
            )
            .with_detail("expected", expected.to_string()));
        }
        Ok(net)
    }

    fn mask_bits(self) -> u32 {
        match self.prefix {
            0 => 0,
            p => u32::MAX << (32 - u32::from(p.min(32))),
        }
    }

    /// The netmask in dotted-quad form (`255.255.255.0` for /24).
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask_bits())
    }

    /// The last address of the network (its broadcast address).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) | !self.mask_bits())
    }

    /// Whether `addr` lies in the network (network and broadcast addresses included).
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & self.mask_bits() == u32::from(self.address)
    }

    /// Whether `addr` may be given to a client: inside the network and, for networks of
    /// more than two addresses (prefix up to 30), neither the network nor the broadcast
    /// address.
    pub fn is_usable(&self, addr: Ipv4Addr) -> bool {
        self.contains(addr)
            && (self.prefix > 30 || (addr != self.address && addr != self.broadcast()))
    }

    /// Whether the two networks share an address.
    pub fn overlaps(&self, other: &Network) -> bool {
        self.contains(other.address) || other.contains(self.address)
    }

    /// Checks that every address of `range` may be given out in this network
    /// (`VALIDATION_FAILED`, field `range`, reason `outside_subnet`).
    pub fn check_range(&self, range: &Range) -> Result<()> {
        if self.is_usable(range.start) && self.is_usable(range.end) {
            return Ok(());
        }
        let (first, last) = if self.prefix > 30 {
            (self.address, self.broadcast())
        } else {
            (
                Ipv4Addr::from(u32::from(self.address) + 1),
                Ipv4Addr::from(u32::from(self.broadcast()) - 1),
            )
        };
        Err(fail(
            "range",
            "outside_subnet",
            &range.value(),
            format!(
                "the range {range} is not inside the usable addresses of the subnet {self} \
                 ({first} to {last})"
            ),
        )
        .with_detail("subnet", self.to_string()))
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix)
    }
}

/// An address range of a pool: first and last address, first ≤ last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Range {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address.
    pub end: Ipv4Addr,
}

impl Range {
    /// Parses `"first last"` (one or more blanks between; a single address is a range of
    /// one). Fails unless both are IPv4 addresses and first ≤ last.
    pub fn parse(s: &str) -> Result<Range> {
        let parts: Vec<&str> = s.split_ascii_whitespace().collect();
        let (a, b) = match parts.as_slice() {
            [a] => (*a, *a),
            [a, b] => (*a, *b),
            _ => {
                return Err(fail(
                    "range",
                    "invalid_range",
                    s,
                    format!(
                        "'{}' is not a range: give the first and the last address separated \
                         by a space (e.g. 192.168.1.100 192.168.1.199)",
                        truncate(s, 80)
                    ),
                ))
            }
        };
        let start = parse_ipv4("range", a)?;
        let end = parse_ipv4("range", b)?;
        if start > end {
            return Err(fail(
                "range",
                "start_after_end",
                s,
                format!("the range starts at {start}, after its end {end}"),
            ));
        }
        Ok(Range { start, end })
    }

    /// The range a pool id names: `first-last` (or the `dhcpRange` form `first last`).
    pub fn parse_id(id: &str) -> Option<Range> {
        let (a, b) = id.split_once('-').or_else(|| id.trim().split_once(' '))?;
        let start = a.trim().parse::<Ipv4Addr>().ok()?;
        let end = b.trim().parse::<Ipv4Addr>().ok()?;
        (start <= end).then_some(Range { start, end })
    }

    /// The pool id (its `cn`): `first-last`.
    pub fn id(&self) -> String {
        format!("{}-{}", self.start, self.end)
    }

    /// The `dhcpRange` value: `first last`.
    pub fn value(&self) -> String {
        format!("{} {}", self.start, self.end)
    }

    /// Number of addresses.
    pub fn size(&self) -> u64 {
        u64::from(u32::from(self.end)) - u64::from(u32::from(self.start)) + 1
    }

    /// Whether the two ranges share an address.
    pub fn overlaps(&self, other: &Range) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Whether `addr` is in the range.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.start <= addr && addr <= self.end
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.start, self.end)
    }
}

/// Parses an Ethernet MAC address and answers it in the form dhcpd looks it up:
/// lower-case, colon-separated (`00:11:22:aa:bb:cc`). Accepted: six pairs of hex digits
/// separated by `:` or `-`, three groups of four separated by `.` (`0011.22aa.bbcc`), or 12
/// hex digits. Group (multicast, broadcast) and all-zero addresses name no network card and
/// are refused.
pub fn parse_mac(s: &str) -> Result<String> {
    let bad = |reason: &str, message: String| fail("macAddress", reason, s, message);
    let hex: Option<Vec<u8>> = {
        let groups: Vec<&str> = if s.contains(':') {
            s.split(':').collect()
        } else if s.contains('-') {
            s.split('-').collect()
        } else if s.contains('.') {
            s.split('.').collect()
        } else {
            vec![s]
        };
        let shape_ok = match groups.len() {
            6 => groups.iter().all(|g| g.len() == 2),
            3 => groups.iter().all(|g| g.len() == 4) && s.contains('.'),
            1 => s.len() == 12,
            _ => false,
        };
        let digits: String = groups.concat();
        if shape_ok && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..6)
                .map(|i| {
                    digits
                        .get(2 * i..2 * i + 2)
                        .and_then(|p| u8::from_str_radix(p, 16).ok())
                })
                .collect()
        } else {
            None
        }
    };
    let Some(bytes) = hex.filter(|b| b.len() == 6) else {
        return Err(bad(
            "invalid_mac",
            format!(
                "'{}' is not a MAC address (six hex pairs, e.g. 00:11:22:33:44:55)",
                truncate(s, 80)
            ),
        ));
    };
    if bytes.iter().all(|b| *b == 0) {
        return Err(bad(
            "zero_mac",
            "00:00:00:00:00:00 is not the address of a network card".into(),
        ));
    }
    if bytes[0] & 1 == 1 {
        return Err(bad(
            "group_mac",
            format!(
                "'{}' is a group (multicast or broadcast) address, not the address of a \
                 network card",
                truncate(s, 80)
            ),
        ));
    }
    Ok(bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":"))
}

/// What a list of configuration lines is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// `dhcpStatements` of a service, shared network, subnet or pool.
    Statement,
    /// `dhcpStatements` of a host: not `fixed-address` or `hardware`, which have fields.
    HostStatement,
    /// `dhcpOption`: dhcpd writes `option ` before each.
    Option,
    /// `dhcpPermitList` of a pool: `allow ...` or `deny ...`.
    Permit,
}

/// Checks one statement, option or permit line: 1 to 1024 printable ASCII characters (the
/// attributes are IA5 strings), no control characters (a line break would end it early),
/// double quotes balanced (`\"` inside a string does not count), braces balanced outside
/// strings, and no `#` outside strings (dhcpd would read the rest of the line — with the
/// `;` it appends — as a comment). Otherwise the text is kept as given.
pub fn check_line(field: &str, kind: LineKind, line: &str) -> Result<()> {
    let bad = |reason: &str, message: String| fail(field, reason, line, message);
    if line.trim().is_empty() {
        return Err(bad("empty", format!("{field} must not hold an empty line")));
    }
    if line.len() > MAX_LINE_LEN {
        return Err(bad(
            "too_long",
            format!("a {field} line must be at most {MAX_LINE_LEN} characters"),
        ));
    }
    if let Some(c) = line.chars().find(|c| c.is_control()) {
        return Err(bad(
            "control_character",
            format!(
                "'{}' contains the control character U+{:04X}",
                truncate(line, 80),
                u32::from(c)
            ),
        ));
    }
    if !line.is_ascii() {
        return Err(bad(
            "not_ascii",
            format!(
                "'{}' contains a non-ASCII character (the directory stores these lines as \
                 IA5 strings)",
                truncate(line, 80)
            ),
        ));
    }
    if let Some((reason, message)) = structure_error(line) {
        return Err(bad(reason, message));
    }
    let first = line
        .split_ascii_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match kind {
        LineKind::Option if first == "option" => Err(bad(
            "option_keyword",
            format!(
                "write options without the word 'option' (dhcpd adds it): '{}'",
                truncate(line, 80)
            ),
        )),
        LineKind::HostStatement if first == "fixed-address" || first == "hardware" => Err(bad(
            "use_field",
            format!(
                "give a host's {} in the field {}, not as a statement",
                if first == "hardware" {
                    "MAC address"
                } else {
                    "fixed address"
                },
                if first == "hardware" {
                    "macAddress"
                } else {
                    "fixedAddress"
                }
            ),
        )),
        LineKind::Permit if first != "allow" && first != "deny" => Err(bad(
            "invalid_permit",
            format!(
                "a permit line starts with 'allow' or 'deny' (e.g. deny unknown-clients): '{}'",
                truncate(line, 80)
            ),
        )),
        _ => Ok(()),
    }
}

/// What is wrong with the quotes, braces or comments of `line`, if anything.
fn structure_error(line: &str) -> Option<(&'static str, String)> {
    let mut in_string = false;
    let mut escaped = false;
    let mut depth: i64 = 0;
    for c in line.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth < 0 {
                    break;
                }
            }
            '#' => {
                return Some((
                    "comment",
                    format!(
                        "'{}' contains '#' outside a quoted string: dhcpd would read the rest \
                         as a comment",
                        truncate(line, 80)
                    ),
                ))
            }
            _ => {}
        }
    }
    if in_string {
        return Some((
            "unbalanced_quotes",
            format!("'{}' has an unterminated quoted string", truncate(line, 80)),
        ));
    }
    if depth != 0 {
        return Some((
            "unbalanced_braces",
            format!("'{}' has unbalanced braces", truncate(line, 80)),
        ));
    }
    None
}

/// Checks a list of lines ([`check_line`] each): at most 100, none given twice (the
/// directory compares them ignoring case).
pub fn check_lines(field: &str, kind: LineKind, lines: &[String]) -> Result<()> {
    if lines.len() > MAX_LINES {
        return Err(
            Error::validation(field, format!("{field} holds at most {MAX_LINES} lines"))
                .with_detail("reason", "too_many"),
        );
    }
    let mut seen: Vec<String> = Vec::with_capacity(lines.len());
    for line in lines {
        check_line(field, kind, line)?;
        let key = line.to_ascii_lowercase();
        if seen.contains(&key) {
            return Err(fail(
                field,
                "duplicate",
                line,
                format!(
                    "'{}' is given twice in {field} (compared ignoring case)",
                    truncate(line, 80)
                ),
            ));
        }
        seen.push(key);
    }
    Ok(())
}

/// Checks a description (`dhcpComments`, an IA5 string): 1 to 1024 printable ASCII
/// characters.
pub fn check_description(d: &str) -> Result<&str> {
    if d.is_empty() {
        return Err(fail(
            "description",
            "empty",
            d,
            "description must not be empty (use null to remove it)",
        ));
    }
    if d.len() > MAX_DESCRIPTION_LEN {
        return Err(fail(
            "description",
            "too_long",
            d,
            format!("description must be at most {MAX_DESCRIPTION_LEN} characters"),
        ));
    }
    if d.chars().any(char::is_control) {
        return Err(fail(
            "description",
            "control_character",
            d,
            "description must not contain control characters",
        ));
    }
    if !d.is_ascii() {
        return Err(fail(
            "description",
            "not_ascii",
            d,
            "description must be ASCII (the directory stores it as an IA5 string)",
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn reason(e: &Error) -> &str {
        assert_eq!(e.code(), ErrorCode::ValidationFailed, "{e}");
        e.details()["reason"].as_str().unwrap_or_default()
    }

    #[test]
    fn names() {
        for ok in ["dhcp1", "a", "Main-DHCP_2.x", &"a".repeat(64)] {
            assert!(check_name("cn", ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("-a", "invalid_character"),
            ("a b", "invalid_character"),
            ("a\"b", "invalid_character"),
            ("é", "invalid_character"),
            ("a,b", "invalid_character"),
            (&"a".repeat(65), "too_long"),
        ] {
            let e = check_name("cn", bad).unwrap_err();
            assert_eq!(reason(&e), why, "{bad}");
            assert_eq!(e.details()["field"], "cn");
        }
    }

    #[test]
    fn host_names() {
        for ok in [
            "printer1", "1printer", "web_01", "a.b-c", "x.123", "A", "a-",
        ] {
            assert!(check_host_name("cn", ok).is_ok(), "{ok}");
        }
        let long_label = "a".repeat(64);
        let long_name = ["a"; 128].join(".");
        for bad in [
            "",
            "a..b",
            "a.",
            ".a",
            "_a",
            "-a",
            "a b",
            "a:b",
            "a/b",
            "ä",
            long_label.as_str(),
            long_name.as_str(),
        ] {
            assert!(check_host_name("cn", bad).is_err(), "{bad}");
        }
        assert_eq!(reason(&check_host_name("cn", "").unwrap_err()), "empty");
        assert_eq!(
            reason(&check_host_name("cn", &long_name).unwrap_err()),
            "too_long"
        );
    }

    #[test]
    fn addresses() {
        assert_eq!(
            parse_ipv4("x", "192.168.1.10").unwrap(),
            Ipv4Addr::new(192, 168, 1, 10)
        );
        for bad in [
            "",
            "192.168.1",
            "192.168.1.256",
            "192.168.01.1",
            "192.168.1.1/24",
            " 192.168.1.1",
            "::1",
            "a.b.c.d",
        ] {
            let e = parse_ipv4("fixedAddress", bad).unwrap_err();
            assert_eq!(reason(&e), "invalid_address", "{bad}");
            assert_eq!(e.details()["field"], "fixedAddress");
        }
    }

    #[test]
    fn networks() {
        let n = Network::parse("192.168.1.0", Some(24)).unwrap();
        assert_eq!(n.to_string(), "192.168.1.0/24");
        assert_eq!(n.netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(n.broadcast(), Ipv4Addr::new(192, 168, 1, 255));
        assert_eq!(Network::parse("10.0.0.0/8", None).unwrap().prefix, 8);
        let all = Network::parse("0.0.0.0", Some(0)).unwrap();
        assert_eq!(all.netmask(), Ipv4Addr::UNSPECIFIED);
        assert!(all.contains(Ipv4Addr::new(8, 8, 8, 8)));
        let host = Network::parse("10.1.2.3", Some(32)).unwrap();
        assert_eq!(host.netmask(), Ipv4Addr::BROADCAST);
        assert!(host.is_usable(Ipv4Addr::new(10, 1, 2, 3)));
        let p2p = Network::parse("10.0.0.0/31", None).unwrap();
        assert!(p2p.is_usable(Ipv4Addr::new(10, 0, 0, 0)));
        assert!(p2p.is_usable(Ipv4Addr::new(10, 0, 0, 1)));
        // Usable addresses exclude the network and broadcast addresses.
        assert!(!n.is_usable(Ipv4Addr::new(192, 168, 1, 0)));
        assert!(!n.is_usable(Ipv4Addr::new(192, 168, 1, 255)));
        assert!(n.is_usable(Ipv4Addr::new(192, 168, 1, 1)));
        assert!(!n.is_usable(Ipv4Addr::new(192, 168, 2, 1)));
        // Overlaps.
        let big = Network::parse("192.168.0.0/16", None).unwrap();
        let other = Network::parse("192.168.2.0/24", None).unwrap();
        assert!(big.overlaps(&n) && n.overlaps(&big));
        assert!(!n.overlaps(&other));

        let e = Network::parse("192.168.1.7", Some(24)).unwrap_err();
        assert_eq!(reason(&e), "host_bits_set");
        assert_eq!(e.details()["expected"], "192.168.1.0");
        assert_eq!(e.details()["field"], "network");
        for (net, prefix, why) in [
            ("192.168.1.0", None, "missing"),
            ("192.168.1.0/24", Some(24), "prefix_twice"),
            ("192.168.1.0", Some(33), "out_of_range"),
            ("192.168.1.0", Some(-1), "out_of_range"),
            ("192.168.1.0/", None, "invalid_prefix"),
            ("192.168.1.0/x", None, "invalid_prefix"),
            ("192.168.1.0/333", None, "invalid_prefix"),
            ("192.168.1.0/33", None, "out_of_range"),
            ("192.168.1", Some(24), "invalid_address"),
            ("fe80::", Some(64), "invalid_address"),
        ] {
            let e = Network::parse(net, prefix).unwrap_err();
            assert_eq!(reason(&e), why, "{net} {prefix:?}");
        }
    }

    #[test]
    fn ranges() {
        let r = Range::parse("192.168.1.100 192.168.1.199").unwrap();
        assert_eq!(r.size(), 100);
        assert_eq!(r.id(), "192.168.1.100-192.168.1.199");
        assert_eq!(r.value(), "192.168.1.100 192.168.1.199");
        assert_eq!(Range::parse("  10.0.0.1   10.0.0.2 ").unwrap().size(), 2);
        let single = Range::parse("10.0.0.5").unwrap();
        assert_eq!(
            (single.start, single.end, single.size()),
            (single.start, single.start, 1)
        );
        assert_eq!(Range::parse_id(&r.id()), Some(r));
        assert_eq!(Range::parse_id(&r.value()), Some(r));
        assert_eq!(Range::parse_id("10.0.0.9-10.0.0.1"), None);
        assert_eq!(Range::parse_id("x-y"), None);
        assert_eq!(Range::parse_id("10.0.0.1"), None);
        let wide = Range::parse("192.168.1.150 192.168.1.250").unwrap();
        let narrow = Range::parse("192.168.1.200 192.168.1.210").unwrap();
        assert!(r.overlaps(&wide) && wide.overlaps(&r) && wide.overlaps(&narrow));
        assert!(!r.overlaps(&narrow));
        assert!(r.contains(Ipv4Addr::new(192, 168, 1, 100)));
        assert!(!r.contains(Ipv4Addr::new(192, 168, 1, 200)));
        for (bad, why) in [
            ("", "invalid_range"),
            ("1.2.3.4 1.2.3.5 1.2.3.6", "invalid_range"),
            ("1.2.3.4-1.2.3.5", "invalid_address"),
            ("1.2.3.9 1.2.3.5", "start_after_end"),
            ("1.2.3.4 x", "invalid_address"),
        ] {
            assert_eq!(reason(&Range::parse(bad).unwrap_err()), why, "{bad}");
        }
        let net = Network::parse("192.168.1.0/24", None).unwrap();
        assert!(net.check_range(&r).is_ok());
        for bad in [
            "192.168.1.0 192.168.1.10",
            "192.168.1.250 192.168.1.255",
            "192.168.1.200 192.168.2.10",
            "10.0.0.1 10.0.0.2",
        ] {
            let e = net.check_range(&Range::parse(bad).unwrap()).unwrap_err();
            assert_eq!(reason(&e), "outside_subnet", "{bad}");
            assert_eq!(e.details()["subnet"], "192.168.1.0/24");
        }
    }

    #[test]
    fn macs() {
        for (given, canonical) in [
            ("00:11:22:33:44:66", "00:11:22:33:44:66"),
            ("00-11-22-AA-BB-CC", "00:11:22:aa:bb:cc"),
            ("0011.22aa.bbcc", "00:11:22:aa:bb:cc"),
            ("001122AABBCC", "00:11:22:aa:bb:cc"),
            ("02:00:00:00:00:01", "02:00:00:00:00:01"),
        ] {
            assert_eq!(parse_mac(given).unwrap(), canonical, "{given}");
        }
        for (bad, why) in [
            ("", "invalid_mac"),
            ("00:11:22:33:44", "invalid_mac"),
            ("00:11:22:33:44:55:66", "invalid_mac"),
            ("0:11:22:33:44:55", "invalid_mac"),
            ("00:11:22:33:44:gg", "invalid_mac"),
            ("00:11-22:33:44:55", "invalid_mac"),
            ("0011.2233.44", "invalid_mac"),
            ("ethernet 00:11:22:33:44:55", "invalid_mac"),
            ("00:00:00:00:00:00", "zero_mac"),
            ("ff:ff:ff:ff:ff:ff", "group_mac"),
            ("01:00:5e:00:00:01", "group_mac"),
            ("+0:11:22:33:44:55", "invalid_mac"),
        ] {
            let e = parse_mac(bad).unwrap_err();
            assert_eq!(reason(&e), why, "{bad}");
            assert_eq!(e.details()["field"], "macAddress");
        }
    }

    #[test]
    fn lines() {
        for ok in [
            "default-lease-time 3600",
            "default-lease-time 3600;",
            "domain-name \"example.com\"",
            "domain-name \"a \\\" # { b\"",
            "zone example.com. { primary 10.0.0.1; }",
            "authoritative",
            "filename \"pxelinux.0\"",
        ] {
            check_line("statements", LineKind::Statement, ok).unwrap();
        }
        for (bad, why) in [
            ("", "empty"),
            ("   ", "empty"),
            ("a\nb", "control_character"),
            ("a\tb", "control_character"),
            ("a\u{7f}", "control_character"),
            ("domain-name \"example.com", "unbalanced_quotes"),
            ("domain-name \"a\\\"", "unbalanced_quotes"),
            ("zone x { primary 1.2.3.4;", "unbalanced_braces"),
            ("} x {", "unbalanced_braces"),
            ("default-lease-time 3600 # one hour", "comment"),
            ("domain-name \"exämple.com\"", "not_ascii"),
        ] {
            let e = check_line("statements", LineKind::Statement, bad).unwrap_err();
            assert_eq!(reason(&e), why, "{bad:?}");
        }
        let long = "a".repeat(MAX_LINE_LEN + 1);
        assert_eq!(
            reason(&check_line("options", LineKind::Option, &long).unwrap_err()),
            "too_long"
        );
        // Kind-specific rules.
        check_line("options", LineKind::Option, "routers 10.0.0.1").unwrap();
        let e = check_line("options", LineKind::Option, "option routers 10.0.0.1").unwrap_err();
        assert_eq!(reason(&e), "option_keyword");
        assert_eq!(e.details()["field"], "options");
        check_line("statements", LineKind::HostStatement, "filename \"x\"").unwrap();
        for bad in [
            "fixed-address 10.0.0.1",
            "Hardware ethernet 00:11:22:33:44:55",
        ] {
            let e = check_line("statements", LineKind::HostStatement, bad).unwrap_err();
            assert_eq!(reason(&e), "use_field", "{bad}");
        }
        check_line("statements", LineKind::Statement, "fixed-address 10.0.0.1").unwrap();
        check_line("permitList", LineKind::Permit, "deny unknown-clients").unwrap();
        check_line("permitList", LineKind::Permit, "allow members of \"x\"").unwrap();
        let e = check_line("permitList", LineKind::Permit, "unknown-clients").unwrap_err();
        assert_eq!(reason(&e), "invalid_permit");
    }

    #[test]
    fn line_lists() {
        let ok: Vec<String> = vec!["a 1".into(), "b 2".into()];
        check_lines("statements", LineKind::Statement, &ok).unwrap();
        check_lines("statements", LineKind::Statement, &[]).unwrap();
        let dup: Vec<String> = vec!["routers 10.0.0.1".into(), "ROUTERS 10.0.0.1".into()];
        let e = check_lines("options", LineKind::Option, &dup).unwrap_err();
        assert_eq!(reason(&e), "duplicate");
        let many: Vec<String> = (0..=MAX_LINES).map(|i| format!("x {i}")).collect();
        let e = check_lines("options", LineKind::Option, &many).unwrap_err();
        assert_eq!(e.details()["reason"], "too_many");
        let bad: Vec<String> = vec!["a 1".into(), "b \"2".into()];
        let e = check_lines("options", LineKind::Option, &bad).unwrap_err();
        assert_eq!(reason(&e), "unbalanced_quotes");
    }

    #[test]
    fn descriptions() {
        assert_eq!(check_description("main").unwrap(), "main");
        for (bad, why) in [
            ("", "empty"),
            ("a\nb", "control_character"),
            ("Café", "not_ascii"),
            (&"a".repeat(MAX_DESCRIPTION_LEN + 1), "too_long"),
        ] {
            assert_eq!(reason(&check_description(bad).unwrap_err()), why, "{bad}");
        }
    }
}
