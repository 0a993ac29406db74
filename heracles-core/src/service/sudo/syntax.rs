//! The syntax of `sudoRole` values, as sudo's LDAP backend reads them (sudoers.ldap(5)).
//!
//! Each check answers `VALIDATION_FAILED` with the details `field` (the attribute),
//! `value` (the bad value, cut at 80 bytes) and `reason`, and a message that names the
//! value. Every value of every attribute is first checked as an IA5 string (the schema's
//! syntax): not empty, at most 1024 bytes, ASCII only, no control characters, no blanks
//! at either end (`blank_after_negation` too: sudo does not allow `! name`).
//!
//! | attribute | accepted values (each may be negated with a leading `!` unless noted) |
//! |---|---|
//! | `sudoUser` | `ALL`, a user name, `#uid`, `%group`, `%#gid`, `%:group`, `%:#gid` (non-Unix groups), `+netgroup` |
//! | `sudoHost` | `ALL`, a host name (`*` and `?` wildcards allowed), an IPv4 or IPv6 address, a network `addr/prefix` or `a.b.c.d/m.m.m.m`, `+netgroup` |
//! | `sudoCommand` | `ALL`, an absolute path with optional arguments (`""` for none; a path ending in `/` is a directory and takes none), `sudoedit /absolute/file ...`, `list`; optionally preceded by a digest `sha224:`/`sha256:`/`sha384:`/`sha512:` in hex or base64 and a blank (the `!` goes before the digest) |
//! | `sudoRunAsUser` | `ALL`, a user name, `#uid`, `%group`, `%#gid`, `+netgroup` |
//! | `sudoRunAsGroup` | `ALL`, a group name, `#gid` |
//! | `sudoOption` | `name`, `!name`, `name=value`, `name+=value`, `name-=value` (no negation with a value) |
//! | `sudoOrder` | an integer ≥ 0 |
//! | `sudoNotBefore`, `sudoNotAfter` | `YYYYMMDDHHMMSSZ` (UTC), a real date; not before < not after |
//!
//! Names (users, groups) are printable ASCII without blanks that do not start with one of
//! `!#%+:-`; `sudoUser` names are further checked against the directory by the service
//! ([`Reference`]), so there a group name may hold inner blanks (`%Domain Admins`).
//!
//! ```
//! use heracles_core::service::sudo::syntax::{check_sudo_command, check_sudo_host};
//!
//! assert!(check_sudo_command("/usr/bin/systemctl restart nginx").is_ok());
//! assert!(check_sudo_command("!/usr/bin/su").is_ok());
//! let e = check_sudo_command("systemctl restart nginx").unwrap_err();
//! assert_eq!(e.details()["field"], "sudoCommand");
//! assert_eq!(e.details()["value"], "systemctl restart nginx");
//! assert!(check_sudo_host("192.168.1.0/24").is_ok());
//! assert!(check_sudo_host("192.168.1.0/33").is_err());
//! ```

use std::net::{Ipv4Addr, Ipv6Addr};

use base64ct::{Base64, Base64Unpadded, Encoding};

use crate::directory::truncate;
use crate::error::{Error, Result};

/// The longest value accepted, in bytes.
pub const MAX_VALUE_LEN: usize = 1024;
/// The most values of one attribute.
pub const MAX_VALUES: usize = 256;
/// The longest rule name.
pub const MAX_CN_LEN: usize = 64;
/// The name of the entry holding the global options (`Defaults`).
pub const DEFAULTS_CN: &str = "defaults";

/// What a `sudoUser` value refers to in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reference<'a> {
    /// A user, by uid.
    User(&'a str),
    /// A group, by cn.
    Group(&'a str),
    /// Nothing the directory holds (`ALL`, numeric ids, netgroups, non-Unix groups).
    Other,
}

pub(super) fn fail(field: &str, value: &str, reason: &str, message: String) -> Error {
    Error::validation(field, message)
        .with_detail("value", truncate(value, 80))
        .with_detail("reason", reason)
}

/// Whether `cn` names the `Defaults` entry (case-insensitively, as LDAP compares `cn`).
pub fn is_defaults(cn: &str) -> bool {
    cn.eq_ignore_ascii_case(DEFAULTS_CN)
}

/// Checks the name of a new rule: 1 to 64 characters, ASCII letters, digits and
/// `. _ @ % + -`, starting with a letter, digit, `_` or `%`.
pub fn check_cn(cn: &str) -> Result<()> {
    let f = |reason: &str, message: String| fail("cn", cn, reason, message);
    if cn.is_empty() {
        return Err(f("empty", "the rule name (cn) must not be empty".into()));
    }
    if cn.len() > MAX_CN_LEN {
        return Err(f(
            "too_long",
            format!("the rule name (cn) has at most {MAX_CN_LEN} characters"),
        ));
    }
    let first = cn
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'%'));
    let rest = cn
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'%' | b'+' | b'-'));
    if !first || !rest {
        return Err(f(
            "invalid_character",
            format!(
                "invalid rule name '{}': letters, digits, '.', '_', '@', '%', '+' and '-', \
                 starting with a letter, a digit, '_' or '%'",
                truncate(cn, 80)
            ),
        ));
    }
    Ok(())
}

/// The checks every value goes through (IA5 string, no blanks at the ends).
fn ia5(field: &str, v: &str) -> Result<()> {
    let f = |reason: &str, message: String| fail(field, v, reason, message);
    if v.is_empty() {
        return Err(f("empty", format!("{field} has an empty value")));
    }
    if v.len() > MAX_VALUE_LEN {
        return Err(f(
            "too_long",
            format!("a {field} value has at most {MAX_VALUE_LEN} bytes"),
        ));
    }
    if !v.is_ascii() {
        return Err(f(
            "not_ascii",
            format!(
                "{field} value '{}' is not ASCII (sudo attributes are IA5 strings)",
                truncate(v, 80)
            ),
        ));
    }
    if v.bytes().any(|b| b.is_ascii_control()) {
        return Err(f(
            "control_character",
            format!(
                "{field} value '{}' holds a control character",
                v.escape_debug()
            ),
        ));
    }
    if v.starts_with(' ') || v.ends_with(' ') {
        return Err(f(
            "surrounding_blanks",
            format!("{field} value '{v}' starts or ends with a blank"),
        ));
    }
    Ok(())
}

/// Strips one leading `!`; refuses `! x` and `!!x`.
fn negation<'v>(field: &str, v: &'v str) -> Result<&'v str> {
    let Some(rest) = v.strip_prefix('!') else {
        return Ok(v);
    };
    if rest.is_empty() {
        return Err(fail(
            field,
            v,
            "empty",
            format!("{field} value '!' negates nothing"),
        ));
    }
    if rest.starts_with([' ', '\t']) {
        return Err(fail(
            field,
            v,
            "blank_after_negation",
            format!("{field} value '{v}': sudo allows no blank after '!'"),
        ));
    }
    if rest.starts_with('!') {
        return Err(fail(
            field,
            v,
            "double_negation",
            format!("{field} value '{v}' is negated twice"),
        ));
    }
    Ok(rest)
}

/// `#123`-style numeric ids: digits only, a 32-bit id.
fn check_id(field: &str, whole: &str, digits: &str) -> Result<()> {
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.parse::<u32>().is_ok()
    {
        return Ok(());
    }
    Err(fail(
        field,
        whole,
        "invalid_id",
        format!("{field} value '{whole}': '#' must be followed by a numeric id (0 to 4294967295)"),
    ))
}

fn check_netgroup(field: &str, whole: &str, name: &str) -> Result<()> {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Ok(());
    }
    Err(fail(
        field,
        whole,
        "invalid_netgroup",
        format!(
            "{field} value '{whole}': a netgroup name (after '+') has letters, digits, '.', \
             '_' and '-' only"
        ),
    ))
}

/// A user or group name: printable ASCII, no blanks (unless `blanks`), not starting with
/// one of `!#%+:-`, none of `,:=()"'\`.
fn check_name(field: &str, whole: &str, name: &str, what: &str, blanks: bool) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with(['!', '#', '%', '+', ':', '-', ' '])
        && !name.ends_with(' ')
        && name.bytes().all(|b| {
            (b.is_ascii_graphic() && !b",:=()\"'\\".contains(&b)) || (blanks && b == b' ')
        });
    if ok {
        return Ok(());
    }
    Err(fail(
        field,
        whole,
        "invalid_name",
        format!("{field} value '{whole}': '{name}' is not a valid {what} name"),
    ))
}

/// Checks a `sudoUser` value and says what it refers to (the service checks that users
/// and groups exist).
pub fn check_sudo_user(v: &str) -> Result<Reference<'_>> {
    const F: &str = "sudoUser";
    ia5(F, v)?;
    let item = negation(F, v)?;
    if item == "ALL" {
        return Ok(Reference::Other);
    }
    if let Some(id) = item.strip_prefix('#') {
        check_id(F, v, id)?;
        return Ok(Reference::Other);
    }
    if let Some(ng) = item.strip_prefix('+') {
        check_netgroup(F, v, ng)?;
        return Ok(Reference::Other);
    }
    if let Some(group) = item.strip_prefix('%') {
        if let Some(non_unix) = group.strip_prefix(':') {
            match non_unix.strip_prefix('#') {
                Some(id) => check_id(F, v, id)?,
                None => check_name(F, v, non_unix, "non-Unix group", true)?,
            }
            return Ok(Reference::Other);
        }
        if let Some(id) = group.strip_prefix('#') {
            check_id(F, v, id)?;
            return Ok(Reference::Other);
        }
        check_name(F, v, group, "group", true)?;
        return Ok(Reference::Group(group));
    }
    check_name(F, v, item, "user", false)?;
    Ok(Reference::User(item))
}

/// Checks a `sudoRunAsUser` value (names are not looked up: run-as users such as `root`
/// are usually local accounts).
pub fn check_run_as_user(v: &str) -> Result<()> {
    const F: &str = "sudoRunAsUser";
    ia5(F, v)?;
    let item = negation(F, v)?;
    if item == "ALL" {
        return Ok(());
    }
    if let Some(id) = item.strip_prefix('#') {
        return check_id(F, v, id);
    }
    if let Some(ng) = item.strip_prefix('+') {
        return check_netgroup(F, v, ng);
    }
    if let Some(group) = item.strip_prefix('%') {
        return match group.strip_prefix('#') {
            Some(id) => check_id(F, v, id),
            None => check_name(F, v, group, "group", false),
        };
    }
    check_name(F, v, item, "user", false)
}

/// Checks a `sudoRunAsGroup` value (not looked up, like run-as users).
pub fn check_run_as_group(v: &str) -> Result<()> {
    const F: &str = "sudoRunAsGroup";
    ia5(F, v)?;
    let item = negation(F, v)?;
    if item == "ALL" {
        return Ok(());
    }
    if let Some(id) = item.strip_prefix('#') {
        return check_id(F, v, id);
    }
    check_name(F, v, item, "group", false)
}

/// Checks a `sudoHost` value.
pub fn check_sudo_host(v: &str) -> Result<()> {
    const F: &str = "sudoHost";
    ia5(F, v)?;
    let item = negation(F, v)?;
    if item == "ALL" {
        return Ok(());
    }
    if let Some(ng) = item.strip_prefix('+') {
        return check_netgroup(F, v, ng);
    }
    let bad = |reason: &str, what: &str| {
        fail(
            F,
            v,
            reason,
            format!("{F} value '{v}' is not a valid {what}"),
        )
    };
    if let Some((addr, mask)) = item.split_once('/') {
        let v6 = addr.contains(':');
        let max = if v6 { 128 } else { 32 };
        if v6 {
            addr.parse::<Ipv6Addr>()
                .map_err(|_| bad("invalid_network", "network (bad IPv6 address)"))?;
        } else {
            addr.parse::<Ipv4Addr>()
                .map_err(|_| bad("invalid_network", "network (bad IPv4 address)"))?;
        }
        if mask.bytes().all(|b| b.is_ascii_digit()) && !mask.is_empty() && mask.len() <= 3 {
            let bits: u32 = mask.parse().unwrap_or(u32::MAX);
            if bits > max {
                return Err(bad(
                    "invalid_network",
                    &format!("network (the prefix length is at most {max})"),
                ));
            }
            return Ok(());
        }
        if v6 {
            return Err(bad(
                "invalid_network",
                "network (an IPv6 network takes a prefix length)",
            ));
        }
        let m = u32::from(
            mask.parse::<Ipv4Addr>()
                .map_err(|_| bad("invalid_network", "network (bad netmask)"))?,
        );
        if m.leading_ones() + m.trailing_zeros() != 32 {
            return Err(bad(
                "invalid_network",
                "network (the netmask is not contiguous)",
            ));
        }
        return Ok(());
    }
    if item.contains(':') {
        item.parse::<Ipv6Addr>()
            .map_err(|_| bad("invalid_address", "IPv6 address"))?;
        return Ok(());
    }
    let labels: Vec<&str> = item.split('.').collect();
    if labels
        .iter()
        .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
    {
        item.parse::<Ipv4Addr>()
            .map_err(|_| bad("invalid_address", "IPv4 address"))?;
        return Ok(());
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'*' | b'?'))
    };
    if item.len() > 253 || !labels.iter().all(label_ok) {
        return Err(bad(
            "invalid_host",
            "host name, address, network, +netgroup or ALL",
        ));
    }
    Ok(())
}

/// The digest prefixes of commands and their digest sizes in bytes.
const DIGESTS: &[(&str, usize)] = &[
    ("sha224", 28),
    ("sha256", 32),
    ("sha384", 48),
    ("sha512", 64),
];

/// Checks a `sudoCommand` value.
pub fn check_sudo_command(v: &str) -> Result<()> {
    const F: &str = "sudoCommand";
    ia5(F, v)?;
    let mut item = negation(F, v)?;
    let bad = |reason: &str, message: String| fail(F, v, reason, message);
    if let Some((algo, size)) = DIGESTS
        .iter()
        .find(|(a, _)| item.strip_prefix(a).is_some_and(|r| r.starts_with(':')))
    {
        let rest = &item[algo.len() + 1..];
        let (digest, command) = rest.split_once(' ').unwrap_or((rest, ""));
        let hex_ok = digest.len() == 2 * size && digest.bytes().all(|b| b.is_ascii_hexdigit());
        let b64_ok = Base64::decode_vec(digest)
            .or_else(|_| Base64Unpadded::decode_vec(digest))
            .is_ok_and(|d| d.len() == *size);
        if !hex_ok && !b64_ok {
            return Err(bad(
                "invalid_digest",
                format!(
                    "{F} value '{}': the {algo} digest must be {} hex digits or the base64 \
                     of {size} bytes",
                    truncate(v, 80),
                    2 * size
                ),
            ));
        }
        item = command.trim_start_matches(' ');
        if item.starts_with('!') {
            return Err(bad(
                "misplaced_negation",
                format!(
                    "{F} value '{}': put the '!' before the digest",
                    truncate(v, 80)
                ),
            ));
        }
        if !item.starts_with('/') {
            return Err(bad(
                "digest_without_path",
                format!(
                    "{F} value '{}': a digest must be followed by a blank and an absolute path",
                    truncate(v, 80)
                ),
            ));
        }
    }
    if matches!(item, "ALL" | "list") {
        return Ok(());
    }
    let (program, args) = item.split_once(' ').unwrap_or((item, ""));
    let args = args.trim_start_matches(' ');
    if program == "sudoedit" {
        if args.is_empty() {
            return Err(bad(
                "sudoedit_without_files",
                format!("{F} value '{v}': sudoedit needs the files it may edit"),
            ));
        }
        if let Some(file) = args
            .split(' ')
            .find(|a| !a.is_empty() && !a.starts_with('/'))
        {
            return Err(bad(
                "relative_path",
                format!("{F} value '{v}': sudoedit file '{file}' is not an absolute path"),
            ));
        }
        return Ok(());
    }
    if !program.starts_with('/') {
        return Err(bad(
            "not_absolute",
            format!(
                "{F} value '{}' is not a command sudo accepts: an absolute path (with \
                 arguments), ALL, sudoedit with files, or list",
                truncate(v, 80)
            ),
        ));
    }
    if program.ends_with('/') && !args.is_empty() {
        return Err(bad(
            "directory_with_arguments",
            format!("{F} value '{v}': a directory ('{program}') takes no arguments"),
        ));
    }
    Ok(())
}

/// Checks a `sudoOption` value.
pub fn check_sudo_option(v: &str) -> Result<()> {
    const F: &str = "sudoOption";
    ia5(F, v)?;
    let item = negation(F, v)?;
    let negated = item.len() != v.len();
    let end = item
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(item.len());
    let (name, rest) = item.split_at(end);
    let name_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    if !name_ok {
        return Err(fail(
            F,
            v,
            "invalid_option",
            format!("{F} value '{v}' does not start with an option name"),
        ));
    }
    if rest.is_empty() {
        return Ok(());
    }
    let value = ["+=", "-=", "="]
        .iter()
        .find_map(|op| rest.strip_prefix(op))
        .ok_or_else(|| {
            fail(
                F,
                v,
                "invalid_option",
                format!(
                    "{F} value '{v}': expected name, !name, name=value, name+=value or name-=value"
                ),
            )
        })?;
    if negated {
        return Err(fail(
            F,
            v,
            "negated_with_value",
            format!("{F} value '{v}': a negated option takes no value"),
        ));
    }
    if value.is_empty() {
        return Err(fail(
            F,
            v,
            "empty_value",
            format!("{F} value '{v}' has an empty value after the operator"),
        ));
    }
    Ok(())
}

/// Checks a `sudoOrder` value.
pub fn check_sudo_order(n: i64) -> Result<()> {
    if n < 0 {
        return Err(fail(
            "sudoOrder",
            &n.to_string(),
            "negative",
            format!("sudoOrder must be a non-negative integer, not {n}"),
        ));
    }
    Ok(())
}

/// Checks a `sudoNotBefore` / `sudoNotAfter` value: `YYYYMMDDHHMMSSZ`, a real UTC time.
pub fn check_time(field: &str, v: &str) -> Result<()> {
    let bad = || {
        fail(
            field,
            v,
            "invalid_time",
            format!(
                "{field} value '{}' is not an LDAP generalized time YYYYMMDDHHMMSSZ (UTC)",
                truncate(v, 80)
            ),
        )
    };
    let b = v.as_bytes();
    if b.len() != 15 || b[14] != b'Z' || !b[..14].iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| v[r].parse::<u32>().unwrap_or(u32::MAX);
    let (year, month, day) = (num(0..4), num(4..6), num(6..8));
    let (hour, minute, second) = (num(8..10), num(10..12), num(12..14));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if year == 0 || day == 0 || day > days || hour > 23 || minute > 59 || second > 59 {
        return Err(bad());
    }
    Ok(())
}

/// Checks that a rule's validity period is not empty: `sudoNotBefore` < `sudoNotAfter`.
pub fn check_period(not_before: Option<&str>, not_after: Option<&str>) -> Result<()> {
    if let (Some(b), Some(a)) = (not_before, not_after) {
        // Same fixed-width format: text order is time order.
        if b >= a {
            return Err(fail(
                "sudoNotAfter",
                a,
                "invalid_period",
                format!("sudoNotAfter ({a}) must be later than sudoNotBefore ({b})"),
            )
            .with_detail("sudoNotBefore", b));
        }
    }
    Ok(())
}

/// Checks the values of one list attribute with `check`: at most [`MAX_VALUES`], no value
/// twice (sudo attributes compare exactly).
pub(super) fn check_list(
    field: &str,
    values: &[String],
    check: impl Fn(&str) -> Result<()>,
) -> Result<()> {
    if values.len() > MAX_VALUES {
        return Err(
            Error::validation(field, format!("{field} has at most {MAX_VALUES} values"))
                .with_detail("reason", "too_many_values"),
        );
    }
    for (i, v) in values.iter().enumerate() {
        check(v)?;
        if values[..i].contains(v) {
            return Err(fail(
                field,
                v,
                "duplicate",
                format!("{field} value '{v}' is given twice"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn reason(r: Result<impl std::fmt::Debug>, field: &str, value: &str) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);
        assert_eq!(e.details()["field"], field, "{e:?}");
        assert_eq!(e.details()["value"], truncate(value, 80), "{e:?}");
        e.details()["reason"].as_str().unwrap().to_owned()
    }

    #[test]
    fn rule_names() {
        for ok in [
            "web-admins",
            "a",
            "%wheel",
            "_x",
            "db.ops@site+2",
            &"a".repeat(64),
        ] {
            check_cn(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, why) in [
            ("", "empty"),
            (&"a".repeat(65) as &str, "too_long"),
            ("-x", "invalid_character"),
            ("a b", "invalid_character"),
            ("a,b", "invalid_character"),
            ("é", "invalid_character"),
            ("a=b", "invalid_character"),
        ] {
            assert_eq!(reason(check_cn(bad), "cn", bad), why, "{bad}");
        }
        assert!(is_defaults("Defaults"));
        assert!(!is_defaults("defaults2"));
    }

    #[test]
    fn values_are_ia5() {
        for (bad, why) in [
            ("", "empty"),
            ("jöhn", "not_ascii"),
            ("a\tb", "control_character"),
            ("a\nb", "control_character"),
            (" jdoe", "surrounding_blanks"),
            ("jdoe ", "surrounding_blanks"),
            ("!", "empty"),
            ("! jdoe", "blank_after_negation"),
            ("!!jdoe", "double_negation"),
        ] {
            assert_eq!(
                reason(check_sudo_user(bad), "sudoUser", bad),
                why,
                "{bad:?}"
            );
        }
        let long = format!("/bin/{}", "x".repeat(MAX_VALUE_LEN));
        assert_eq!(
            reason(check_sudo_command(&long), "sudoCommand", &long),
            "too_long"
        );
    }

    #[test]
    fn sudo_users() {
        use Reference::{Group, Other, User};
        for (v, r) in [
            ("jdoe", User("jdoe")),
            ("!jdoe", User("jdoe")),
            ("svc$", User("svc$")),
            ("jdoe@example.com", User("jdoe@example.com")),
            ("%webadmins", Group("webadmins")),
            ("!%webadmins", Group("webadmins")),
            ("%Domain Admins", Group("Domain Admins")),
            ("%#1000", Other),
            ("%:AD group", Other),
            ("%:#5000", Other),
            ("#0", Other),
            ("#4294967295", Other),
            ("+admins", Other),
            ("ALL", Other),
            ("!ALL", Other),
        ] {
            assert_eq!(check_sudo_user(v).unwrap_or_else(|e| panic!("{v}: {e}")), r);
        }
        for (bad, why) in [
            ("#", "invalid_id"),
            ("#-1", "invalid_id"),
            ("#4294967296", "invalid_id"),
            ("#12a", "invalid_id"),
            ("%#x", "invalid_id"),
            ("%:#", "invalid_id"),
            ("+", "invalid_netgroup"),
            ("+net group", "invalid_netgroup"),
            ("%", "invalid_name"),
            ("%:", "invalid_name"),
            ("john doe", "invalid_name"),
            ("-jdoe", "invalid_name"),
            ("a,b", "invalid_name"),
            ("uid=jdoe", "invalid_name"),
            ("%cn=x", "invalid_name"),
            ("%%x", "invalid_name"),
            (":x", "invalid_name"),
        ] {
            assert_eq!(reason(check_sudo_user(bad), "sudoUser", bad), why, "{bad}");
        }
    }

    #[test]
    fn run_as() {
        for ok in [
            "root", "ALL", "#0", "!#0", "%wheel", "%#10", "+ops", "!nobody", "www-data",
        ] {
            check_run_as_user(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, why) in [
            ("%Domain Admins", "invalid_name"),
            ("a b", "invalid_name"),
            ("#x", "invalid_id"),
            ("+", "invalid_netgroup"),
            ("%:x", "invalid_name"),
        ] {
            assert_eq!(
                reason(check_run_as_user(bad), "sudoRunAsUser", bad),
                why,
                "{bad}"
            );
        }
        for ok in ["wheel", "ALL", "#0", "!adm"] {
            check_run_as_group(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, why) in [
            ("%wheel", "invalid_name"),
            ("+ng", "invalid_name"),
            ("#", "invalid_id"),
            ("", "empty"),
        ] {
            assert_eq!(
                reason(check_run_as_group(bad), "sudoRunAsGroup", bad),
                why,
                "{bad}"
            );
        }
    }

    #[test]
    fn hosts() {
        for ok in [
            "ALL",
            "!ALL",
            "web1",
            "web1.example.com",
            "*.example.com",
            "web?",
            "db_1",
            "10.0.0.1",
            "!10.0.0.1",
            "192.168.1.0/24",
            "192.168.1.0/255.255.255.0",
            "10.0.0.0/0",
            "::1",
            "2001:db8::1",
            "2001:db8::/32",
            "+webservers",
            "!db1",
        ] {
            check_sudo_host(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, why) in [
            ("300.1.1.1", "invalid_address"),
            ("10.0.0", "invalid_address"),
            ("1.2.3.4.5", "invalid_address"),
            ("2001:db8::zz", "invalid_address"),
            ("10.0.0.0/33", "invalid_network"),
            ("10.0.0.0/", "invalid_network"),
            ("10.0.0.0/255.0.255.0", "invalid_network"),
            ("10.0.0.0/x", "invalid_network"),
            ("300.0.0.0/8", "invalid_network"),
            ("2001:db8::/129", "invalid_network"),
            ("2001:db8::/255.255.0.0", "invalid_network"),
            ("web 1", "invalid_host"),
            ("-web", "invalid_host"),
            ("web..example", "invalid_host"),
            ("web.", "invalid_host"),
            ("a/b", "invalid_network"),
            ("+", "invalid_netgroup"),
            (&"a".repeat(64) as &str, "invalid_host"),
        ] {
            assert_eq!(reason(check_sudo_host(bad), "sudoHost", bad), why, "{bad}");
        }
    }

    #[test]
    fn commands() {
        let hex256 = "0123456789abcdef".repeat(4);
        let b64_256 = "ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8=";
        let hex512 = "ab".repeat(64);
        for ok in [
            "ALL".to_owned(),
            "!ALL".to_owned(),
            "list".to_owned(),
            "/usr/bin/systemctl restart nginx".to_owned(),
            "/usr/bin/systemctl  restart nginx".to_owned(),
            "!/usr/bin/su".to_owned(),
            "/bin/ls \"\"".to_owned(),
            "/usr/bin/".to_owned(),
            "/usr/bin/*".to_owned(),
            "sudoedit /etc/nginx/nginx.conf".to_owned(),
            "sudoedit /etc/a /etc/b".to_owned(),
            format!("sha256:{hex256} /bin/ls"),
            format!("!sha256:{hex256} /bin/ls -l"),
            format!("sha256:{b64_256} /bin/ls"),
            format!("sha256:{} /bin/ls", b64_256.trim_end_matches('=')),
            format!("sha512:{hex512} /usr/bin/id"),
            format!("sha224:{} /bin/true", "0".repeat(56)),
            format!("sha384:{} /bin/true", "F".repeat(96)),
        ] {
            check_sudo_command(&ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, why) in [
            ("systemctl restart nginx".to_owned(), "not_absolute"),
            ("relative/cmd".to_owned(), "not_absolute"),
            ("all".to_owned(), "not_absolute"),
            ("^/usr/bin/.*$".to_owned(), "not_absolute"),
            ("/usr/bin/ -l".to_owned(), "directory_with_arguments"),
            ("sudoedit".to_owned(), "sudoedit_without_files"),
            ("sudoedit etc/hosts".to_owned(), "relative_path"),
            ("sudoedit /etc/a b".to_owned(), "relative_path"),
            (format!("sha256:{} /bin/ls", &hex256[1..]), "invalid_digest"),
            (format!("sha256:{hex512} /bin/ls"), "invalid_digest"),
            (format!("sha256:{hex256}"), "digest_without_path"),
            (format!("sha256:{hex256} ALL"), "digest_without_path"),
            (format!("sha256:{hex256} !/bin/ls"), "misplaced_negation"),
            ("sha256:zz /bin/ls".to_owned(), "invalid_digest"),
            ("md5:abc /bin/ls".to_owned(), "not_absolute"),
            ("! /bin/ls".to_owned(), "blank_after_negation"),
        ] {
            assert_eq!(
                reason(check_sudo_command(&bad), "sudoCommand", &bad),
                why,
                "{bad}"
            );
        }
    }

    #[test]
    fn options() {
        for ok in [
            "!authenticate",
            "authenticate",
            "env_keep+=SSH_AUTH_SOCK",
            "env_keep-=HOME",
            "secure_path=/usr/sbin:/usr/bin",
            "env_keep+=\"A B\"",
            "passwd_tries=5",
            "_x",
        ] {
            check_sudo_option(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (bad, why) in [
            ("=x", "invalid_option"),
            ("1x", "invalid_option"),
            ("env keep", "invalid_option"),
            ("a*=b", "invalid_option"),
            ("!env_keep=A", "negated_with_value"),
            ("secure_path=", "empty_value"),
            ("a\u{1b}b", "control_character"),
        ] {
            assert_eq!(
                reason(check_sudo_option(bad), "sudoOption", bad),
                why,
                "{bad}"
            );
        }
    }

    #[test]
    fn order_and_times() {
        check_sudo_order(0).unwrap();
        check_sudo_order(1_000_000).unwrap();
        assert_eq!(
            reason(check_sudo_order(-1).map(|()| 0), "sudoOrder", "-1"),
            "negative"
        );
        for ok in ["20250101000000Z", "20240229235959Z", "20001231120000Z"] {
            check_time("sudoNotBefore", ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "20250101000000",
            "2025010100000Z",
            "20250101000000z",
            "202501010000000Z",
            "20251301000000Z",
            "20250132000000Z",
            "20230229000000Z",
            "21000229000000Z",
            "20250101240000Z",
            "20250101006000Z",
            "20250101000060Z",
            "00000101000000Z",
            "2025-01-01T00:00:00Z",
            "2025010100000+Z",
        ] {
            assert_eq!(
                reason(
                    check_time("sudoNotAfter", bad).map(|()| 0),
                    "sudoNotAfter",
                    bad
                ),
                "invalid_time",
                "{bad}"
            );
        }
        check_period(Some("20250101000000Z"), Some("20250101000001Z")).unwrap();
        check_period(None, Some("20250101000000Z")).unwrap();
        check_period(Some("20250101000000Z"), None).unwrap();
        let e = check_period(Some("20250101000000Z"), Some("20250101000000Z")).unwrap_err();
        assert_eq!(e.details()["reason"], "invalid_period");
        assert_eq!(e.details()["field"], "sudoNotAfter");
        assert!(check_period(Some("20260101000000Z"), Some("20250101000000Z")).is_err());
    }

    #[test]
    fn lists() {
        let vals = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        check_list("sudoHost", &vals(&["ALL", "web1"]), check_sudo_host).unwrap();
        let e =
            check_list("sudoHost", &vals(&["web1", "ALL", "web1"]), check_sudo_host).unwrap_err();
        assert_eq!(e.details()["reason"], "duplicate");
        assert_eq!(e.details()["value"], "web1");
        // Exact comparison: case differs, so both stay.
        check_list("sudoHost", &vals(&["web1", "WEB1"]), check_sudo_host).unwrap();
        let many: Vec<String> = (0..=MAX_VALUES).map(|i| format!("h{i}")).collect();
        let e = check_list("sudoHost", &many, check_sudo_host).unwrap_err();
        assert_eq!(e.details()["reason"], "too_many_values");
        let e = check_list("sudoHost", &vals(&["ok", "bad host"]), check_sudo_host).unwrap_err();
        assert_eq!(e.details()["value"], "bad host");
    }
}
