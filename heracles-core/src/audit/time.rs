//! Times of audit events: microseconds since the Unix epoch, written as RFC 3339 in answers
//! (`2025-01-31T12:00:00.123456Z`) and as Generalized Time in the directory
//! (`20250131120000.123456Z`), both in UTC with exactly six fractional digits.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::directory::truncate;
use crate::error::{Error, Result};
use crate::schema::syntax::{civil_from_days, days_from_civil, parse_generalized_time};

const MICROS_PER_SEC: i64 = 1_000_000;

/// Nanoseconds since the Unix epoch (negative before it).
fn nanos_of(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_nanos()).unwrap_or(i128::MAX),
        Err(e) => -i128::try_from(e.duration().as_nanos()).unwrap_or(i128::MAX),
    }
}

fn clamp(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// Microseconds since the epoch, rounded down.
pub(crate) fn floor_micros(t: SystemTime) -> i64 {
    clamp(nanos_of(t).div_euclid(1000))
}

/// Microseconds since the epoch, rounded up.
pub(crate) fn ceil_micros(t: SystemTime) -> i64 {
    clamp(-(-nanos_of(t)).div_euclid(1000))
}

/// The current time in microseconds.
pub(crate) fn now_micros() -> i64 {
    floor_micros(SystemTime::now())
}

/// The date and time of an instant, in UTC.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
    micro: i64,
}

impl Civil {
    fn of(micros: i64) -> Civil {
        let secs = micros.div_euclid(MICROS_PER_SEC);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
            micro: micros.rem_euclid(MICROS_PER_SEC),
        }
    }

    /// `date_sep` between date parts, `mid` between date and time, `time_sep` between time
    /// parts, `frac` before the microseconds (none: no `Z` either).
    fn write(&self, date_sep: &str, mid: &str, time_sep: &str, frac: Option<&str>) -> String {
        let Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
            micro,
        } = self;
        let mut out = String::with_capacity(27);
        let _ = write!(
            out,
            "{year:04}{date_sep}{month:02}{date_sep}{day:02}{mid}\
             {hour:02}{time_sep}{minute:02}{time_sep}{second:02}"
        );
        match frac {
            Some(dot) => {
                let _ = write!(out, "{dot}{micro:06}Z");
            }
            None => {
                let _ = write!(out, "{micro:06}");
            }
        }
        out
    }
}

/// `2025-01-31T12:00:00.123456Z`.
pub(crate) fn rfc3339(micros: i64) -> String {
    Civil::of(micros).write("-", "T", ":", Some("."))
}

/// `20250131120000.123456Z` (Generalized Time, as stored in `heraclesTimestamp`).
pub(crate) fn generalized(micros: i64) -> String {
    Civil::of(micros).write("", "", "", Some("."))
}

/// `20250131120000123456`: the time part of an event id (sorts like the time).
pub(crate) fn compact(micros: i64) -> String {
    Civil::of(micros).write("", "", "", None)
}

/// A stored Generalized Time, in microseconds (rounded down).
pub(crate) fn from_generalized(value: &str) -> Option<i64> {
    let t = parse_generalized_time(value.as_bytes())?;
    t.secs
        .checked_mul(MICROS_PER_SEC)?
        .checked_add(i64::from(t.nanos / 1000))
}

fn system_time(secs: i64, nanos: u32) -> Option<SystemTime> {
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(u64::try_from(secs).ok()?, nanos))
    } else {
        // secs + nanos/1e9 < 0: go back from the epoch by the absolute value.
        let back = Duration::new(secs.unsigned_abs(), 0).checked_sub(Duration::new(0, nanos))?;
        UNIX_EPOCH.checked_sub(back)
    }
}

fn digits(v: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = v.get(at..at + n)?;
    s.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

fn parse_rfc3339(value: &str) -> Option<SystemTime> {
    let v = value.as_bytes();
    let year = digits(v, 0, 4)?;
    let month = digits(v, 5, 2)?;
    let day = digits(v, 8, 2)?;
    let hour = digits(v, 11, 2)?;
    let minute = digits(v, 14, 2)?;
    let second = digits(v, 17, 2)?;
    if v.get(4) != Some(&b'-')
        || v.get(7) != Some(&b'-')
        || !matches!(v.get(10), Some(b'T' | b't' | b' '))
        || v.get(13) != Some(&b':')
        || v.get(16) != Some(&b':')
    {
        return None;
    }
    let year = i64::from(year);
    if !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if civil_from_days(days) != (year, month, day) {
        return None; // 31 April and the like
    }
    let mut pos = 19;
    let mut nanos: u32 = 0;
    if v.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        while v.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        if pos == start {
            return None;
        }
        // Nine digits at most are kept (nanoseconds); further digits are ignored.
        let kept = v.get(start..pos.min(start + 9))?;
        let mut n = kept
            .iter()
            .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
        for _ in kept.len()..9 {
            n *= 10;
        }
        nanos = n;
    }
    let offset: i64 = match v.get(pos) {
        Some(b'Z' | b'z') if pos + 1 == v.len() => 0,
        Some(&sign @ (b'+' | b'-')) if pos + 6 == v.len() && v.get(pos + 3) == Some(&b':') => {
            let h = digits(v, pos + 1, 2)?;
            let m = digits(v, pos + 4, 2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let o = i64::from(h * 3600 + m * 60);
            if sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset;
    system_time(secs, nanos)
}

/// Parses an RFC 3339 time (`2025-01-31T12:00:00Z`, `2025-01-31T13:00:00.5+01:00`; a
/// date-time with a time zone, `T`, `t` or a space between date and time). Anything else is
/// `VALIDATION_FAILED` naming `field`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use heracles_core::audit::{format_time, parse_time};
///
/// let t = parse_time("from", "2025-01-31T13:00:00.25+01:00")?;
/// assert_eq!(format_time(t), "2025-01-31T12:00:00.250000Z");
/// assert_eq!(parse_time("to", "1970-01-01T00:00:01Z")?, UNIX_EPOCH + Duration::from_secs(1));
/// assert!(parse_time("from", "yesterday").is_err());
/// # Ok::<(), heracles_core::Error>(())
/// ```
pub fn parse_time(field: &str, value: &str) -> Result<SystemTime> {
    parse_rfc3339(value.trim()).ok_or_else(|| {
        Error::validation(
            field,
            format!(
                "{field} must be an RFC 3339 time such as 2025-01-31T12:00:00Z, got '{}'",
                truncate(value, 80)
            ),
        )
        .with_detail("value", truncate(value, 80))
    })
}

/// An instant as audit events show it: RFC 3339 in UTC with microseconds
/// (`2025-01-31T12:00:00.123456Z`; rounded down to the microsecond).
pub fn format_time(t: SystemTime) -> String {
    rfc3339(floor_micros(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_round_trips() {
        let t = 1_738_324_800_123_456; // 2025-01-31T12:00:00.123456Z
        assert_eq!(rfc3339(t), "2025-01-31T12:00:00.123456Z");
        assert_eq!(generalized(t), "20250131120000.123456Z");
        assert_eq!(compact(t), "20250131120000123456");
        assert_eq!(from_generalized(&generalized(t)), Some(t));
        assert_eq!(from_generalized("20250131120000Z"), Some(t - 123_456));
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999Z");
        let parsed = parse_time("from", &rfc3339(t)).unwrap();
        assert_eq!(floor_micros(parsed), t);
    }

    #[test]
    fn parses_rfc3339() {
        let ok = [
            ("2025-01-31T12:00:00Z", "2025-01-31T12:00:00.000000Z"),
            ("2025-01-31t12:00:00z", "2025-01-31T12:00:00.000000Z"),
            ("2025-01-31 12:00:00Z", "2025-01-31T12:00:00.000000Z"),
            ("2025-01-31T13:30:00+01:30", "2025-01-31T12:00:00.000000Z"),
            ("2025-01-31T10:00:00.5-02:00", "2025-01-31T12:00:00.500000Z"),
            (
                "2025-01-31T12:00:00.1234567891Z",
                "2025-01-31T12:00:00.123456Z",
            ),
            ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000000Z"),
            ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500000Z"),
            ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000000Z"),
        ];
        for (input, want) in ok {
            assert_eq!(
                format_time(parse_time("from", input).unwrap()),
                want,
                "{input}"
            );
        }
        let bad = [
            "",
            "2025-01-31",
            "2025-01-31T12:00:00",
            "2025-01-31T12:00Z",
            "2025-02-30T12:00:00Z",
            "2025-13-01T12:00:00Z",
            "2025-01-31T24:00:00Z",
            "2025-01-31T12:60:00Z",
            "2025-01-31T12:00:00.Z",
            "2025-01-31T12:00:00+0100",
            "2025-01-31T12:00:00+24:00",
            "2025-01-31T12:00:00Zjunk",
            "20250131120000Z",
            "2025/01/31T12:00:00Z",
            "now",
        ];
        for input in bad {
            let e = parse_time("to", input).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::ValidationFailed, "{input}");
            assert_eq!(e.details()["field"], "to");
        }
    }

    #[test]
    fn rounding() {
        let t = UNIX_EPOCH + Duration::new(1, 1500);
        assert_eq!(floor_micros(t), 1_000_001);
        assert_eq!(ceil_micros(t), 1_000_002);
        let exact = UNIX_EPOCH + Duration::new(1, 2000);
        assert_eq!(floor_micros(exact), ceil_micros(exact));
        let before = UNIX_EPOCH - Duration::new(0, 1500);
        assert_eq!(floor_micros(before), -2);
        assert_eq!(ceil_micros(before), -1);
    }
}
