//! The SOA record and its serial number.
//!
//! Serials are date based, `YYYYMMDDnn`: the next serial after `old` on day `YYYYMMDD`
//! (UTC) is the larger of `old + 1` and `YYYYMMDD00` ([`next_serial`]). So the first change
//! of a day starts at `nn = 00`, later changes count up, and after `99` the count runs on
//! into the next day's numbers (`2025013199` → `2025020100`) — a serial never goes back,
//! and the next real day continues from there. Comparisons follow RFC 1982 serial
//! arithmetic: a stored serial that is "ahead" of the date (or not date based) simply
//! counts up by one.
//!
//! The serial is changed with a compare-and-swap done by the directory: one modify that
//! deletes the SOA value read and adds the new one ([`bump`]). If another writer (another
//! server instance) changed the SOA first, the delete fails (`NO_SUCH_ATTRIBUTE`), nothing
//! is written, and the bump reads again and retries — two writers never hand out the same
//! serial, on slapd and on the embedded directory alike.
//!
//! ```
//! use heracles_core::service::dns::serial::{next_serial, Soa};
//!
//! assert_eq!(next_serial(2025013105, 20250131), 2025013106);
//! assert_eq!(next_serial(2025013199, 20250131), 2025020100);
//! assert_eq!(next_serial(2025013005, 20250131), 2025013100);
//! let soa: Soa = "ns1.example.com. admin.example.com. 2025013100 3600 900 1209600 3600".parse()?;
//! assert_eq!(soa.with_serial(2025013101).to_string(),
//!            "ns1.example.com. admin.example.com. 2025013101 3600 900 1209600 3600");
//! # Ok::<(), heracles_core::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use crate::directory::{Directory, Modification};
use crate::dn::Dn;
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;

/// The attribute holding the SOA.
pub const SOA_ATTR: &str = "sOARecord";

/// The fields of an SOA record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Soa {
    /// Primary name server (MNAME), absolute with a trailing dot.
    pub mname: String,
    /// Responsible mailbox (RNAME), absolute with a trailing dot.
    pub rname: String,
    /// Serial number.
    pub serial: u32,
    /// Seconds between refreshes of secondaries.
    pub refresh: u32,
    /// Seconds between retries of a failed refresh.
    pub retry: u32,
    /// Seconds after which secondaries stop answering without a refresh.
    pub expire: u32,
    /// Negative caching TTL (RFC 2308).
    pub minimum: u32,
}

impl Soa {
    /// The same SOA with another serial.
    #[must_use]
    pub fn with_serial(&self, serial: u32) -> Soa {
        Soa {
            serial,
            ..self.clone()
        }
    }
}

impl fmt::Display for Soa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} {}",
            self.mname,
            self.rname,
            self.serial,
            self.refresh,
            self.retry,
            self.expire,
            self.minimum
        )
    }
}

impl FromStr for Soa {
    type Err = Error;

    /// Seven fields separated by blanks (parentheses, as some tools write them, are
    /// ignored).
    fn from_str(s: &str) -> Result<Soa> {
        let cleaned = s.replace(['(', ')'], " ");
        let parts: Vec<&str> = cleaned.split_whitespace().collect();
        let bad = || {
            Error::new(
                ErrorCode::BusinessRuleViolation,
                format!("the stored SOA record '{s}' is not 'mname rname serial refresh retry expire minimum'"),
            )
            .with_detail("soa", s)
        };
        let [mname, rname, serial, refresh, retry, expire, minimum] = parts[..] else {
            return Err(bad());
        };
        let n = |v: &str| v.parse::<u32>().map_err(|_| bad());
        Ok(Soa {
            mname: mname.to_owned(),
            rname: rname.to_owned(),
            serial: n(serial)?,
            refresh: n(refresh)?,
            retry: n(retry)?,
            expire: n(expire)?,
            minimum: n(minimum)?,
        })
    }
}

/// Whether `a` is after `b` in RFC 1982 serial arithmetic.
fn serial_gt(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < (1 << 31)
}

/// The serial after `old` on day `today` (`YYYYMMDD`): `max(old + 1, today * 100)` in
/// serial arithmetic (see the [module docs](self)).
pub fn next_serial(old: u32, today: u32) -> u32 {
    // After `nn = 99` the next day's first number, when `old` is a date-based serial.
    let bumped = match (old % 100, next_day(old / 100)) {
        (99, Some(day)) => day * 100,
        _ => old.wrapping_add(1),
    };
    let base = today.saturating_mul(100);
    if serial_gt(base, bumped) {
        base
    } else {
        bumped
    }
}

/// The day after `date` (`YYYYMMDD`), `None` if `date` is not a valid date.
fn next_day(date: u32) -> Option<u32> {
    let (y, m, d) = (
        i64::from(date / 10_000),
        i64::from(date / 100 % 100),
        i64::from(date % 100),
    );
    if !(1..=12).contains(&m) || d < 1 || y < 1970 {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // Not a real date (31 February) if it does not come back the same.
    if civil_of_days(days) != date {
        return None;
    }
    let next = civil_of_days(days + 1);
    (next <= u32::MAX / 100).then_some(next)
}

/// Days since 1970-01-01 of a date (proleptic Gregorian calendar).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Today's date as `YYYYMMDD` (UTC).
pub fn today() -> u32 {
    date_of(SystemTime::now())
}

/// The UTC date of `t` as `YYYYMMDD`.
pub fn date_of(t: SystemTime) -> u32 {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_of_days(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// `YYYYMMDD` of a day number (days since 1970-01-01).
fn civil_of_days(days: i64) -> u32 {
    // Civil date from days since 1970-01-01 (proleptic Gregorian calendar).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    u32::try_from(y * 10_000 + m * 100 + d).unwrap_or(0)
}

const MAX_ATTEMPTS: u32 = 64;

/// Increases the serial of the SOA held by `dn` (compare-and-swap, retried on conflict),
/// writing `extra` changes in the same operation. `change` may alter the other SOA fields
/// (the serial it sets is replaced by the next one). With `assertion` (an `If-Match`) the
/// operation fails with `PRECONDITION_FAILED` instead of retrying once the entry changed.
/// Answers the new SOA.
pub(crate) async fn bump(
    dir: &dyn Directory,
    dn: &Dn,
    extra: &[Modification],
    change: &(dyn Fn(&Soa) -> Soa + Sync),
    assertion: Option<&Filter>,
) -> Result<Soa> {
    for attempt in 0..MAX_ATTEMPTS {
        let entry = dir.get(dn, &[SOA_ATTR]).await?.ok_or_else(|| {
            Error::new(
                ErrorCode::ZoneNotFound,
                format!("the SOA entry '{dn}' is gone"),
            )
            .with_detail("dn", dn.to_string())
        })?;
        let raw = entry
            .first_str(SOA_ATTR)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::ZoneNotFound,
                    format!("'{dn}' holds no SOA record any more"),
                )
                .with_detail("dn", dn.to_string())
            })?
            .to_owned();
        let old: Soa = raw.parse()?;
        let changed = change(&old);
        let new = changed.with_serial(next_serial(old.serial, today()));
        let mut mods = extra.to_vec();
        mods.push(Modification::delete(SOA_ATTR, [raw.as_str()]));
        mods.push(Modification::add(SOA_ATTR, [new.to_string()]));
        match dir.modify_if(dn, &mods, assertion).await {
            Ok(()) => return Ok(new),
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::NoSuchAttribute
                        | ErrorCode::ValueAlreadyExists
                        | ErrorCode::ConstraintViolation
                ) =>
            {
                // Another writer changed the SOA first: read it again.
                let backoff = u64::from(attempt % 8) * 3 + 1;
                tokio::time::sleep(Duration::from_millis(backoff)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::new(
        ErrorCode::Timeout,
        format!(
            "could not increase the serial of '{dn}' after {MAX_ATTEMPTS} attempts (contention)"
        ),
    ))
}

#[cfg(test)]
#[allow(clippy::unreadable_literal)] // dates and serials read as YYYYMMDD(nn)
mod tests {
    use super::*;

    #[test]
    fn serials_never_go_back() {
        assert_eq!(next_serial(1, 20250131), 2025013100);
        assert_eq!(next_serial(2025013100, 20250131), 2025013101);
        assert_eq!(next_serial(2025013198, 20250131), 2025013199);
        // Past 99: into the next day's numbers, then on from there.
        assert_eq!(next_serial(2025013199, 20250131), 2025020100);
        assert_eq!(next_serial(2025020100, 20250131), 2025020101);
        assert_eq!(next_serial(2025020101, 20250201), 2025020102);
        // A new day starts at 00.
        assert_eq!(next_serial(2025013105, 20250201), 2025020100);
        // A serial ahead of the date just counts up.
        assert_eq!(next_serial(4_000_000_000, 20250131), 4_000_000_001);
        assert_eq!(next_serial(2025123199, 20251231), 2026010100);
        assert_eq!(next_serial(2024022899, 20240228), 2024022900);
        assert_eq!(next_serial(2023022899, 20230228), 2023030100);
        // Not date based: plain counting.
        assert_eq!(next_serial(1234599, 20250131), 2025013100);
        assert_eq!(next_serial(4_000_000_099, 20250131), 4_000_000_100);
        assert_eq!(next_day(20250231), None);
        assert_eq!(next_day(20251301), None);
        // RFC 1982 wrap-around: still "after".
        assert!(serial_gt(next_serial(u32::MAX, 20250131), u32::MAX));
        let mut s = 2025013090;
        for _ in 0..500 {
            let n = next_serial(s, 20250131);
            assert!(serial_gt(n, s));
            s = n;
        }
    }

    #[test]
    fn dates() {
        let t = |secs: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(date_of(t(0)), 19700101);
        assert_eq!(date_of(t(951_782_400)), 20000229);
        assert_eq!(date_of(t(1_738_324_800)), 20250131);
        assert_eq!(date_of(t(1_738_367_999)), 20250131);
        assert_eq!(date_of(t(1_738_368_000)), 20250201);
        assert_eq!(date_of(t(4_102_444_800)), 21000101);
        let today = today();
        assert!(today > 20240101 && today < 30000101);
    }

    #[test]
    fn soa_text() {
        let soa: Soa = "ns1.example.com. admin.example.com. 2025013100 3600 900 1209600 3600"
            .parse()
            .unwrap();
        assert_eq!(soa.serial, 2025013100);
        assert_eq!(soa.minimum, 3600);
        let odd: Soa = "ns1. admin. ( 5 1 2 3 4 )".parse().unwrap();
        assert_eq!(odd.to_string(), "ns1. admin. 5 1 2 3 4");
        for bad in [
            "",
            "ns1. admin. 1 2 3 4",
            "ns1. admin. x 1 2 3 4",
            "a b 1 2 3 4 5 6",
        ] {
            let e = bad.parse::<Soa>().unwrap_err();
            assert_eq!(e.code(), ErrorCode::BusinessRuleViolation, "{bad}");
        }
    }
}
