//! Timestamps and identifiers for operational attributes, as slapd writes them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Civil date (year, month, day) of a count of days since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // m is 1..=12 and d 1..=31 by construction.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// `(YYYYMMDDHHMMSSZ, microseconds)` of a moment.
pub(super) fn generalized(t: SystemTime) -> (String, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let (y, mo, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    (
        format!(
            "{y:04}{mo:02}{day:02}{:02}{:02}{:02}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        ),
        d.subsec_micros(),
    )
}

/// An entryCSN like slapd's: `YYYYmmddHHMMSS.uuuuuuZ#counter#sid#mod`.
pub(super) fn csn(t: SystemTime, counter: u32) -> String {
    let (g, micros) = generalized(t);
    let stamp = g.trim_end_matches('Z');
    format!(
        "{stamp}.{micros:06}Z#{:06x}#000#000000",
        counter & 0x00ff_ffff
    )
}

/// A random (version 4) UUID in its text form.
pub(super) fn uuid_v4() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness: fall back to time-derived bytes (still unique per process).
        let n = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        b = n.to_le_bytes();
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = |r: std::ops::Range<usize>| {
        b[r].iter().fold(String::new(), |mut acc, x| {
            use std::fmt::Write as _;
            let _ = write!(acc, "{x:02x}");
            acc
        })
    };
    format!(
        "{}-{}-{}-{}-{}",
        h(0..4),
        h(4..6),
        h(6..8),
        h(8..10),
        h(10..16)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_like_slapd() {
        let t = UNIX_EPOCH + Duration::from_micros(1_733_332_530_123_456);
        assert_eq!(generalized(t).0, "20241204171530Z");
        assert_eq!(csn(t, 1), "20241204171530.123456Z#000001#000#000000");
        assert_eq!(generalized(UNIX_EPOCH).0, "19700101000000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&generalized(leap).0[..8], "20000229");
        let u = uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, uuid_v4());
    }
}
