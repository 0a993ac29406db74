//! Password hashing, verification and policy, as OpenLDAP 2.5 writes and checks
//! `userPassword` values.
//!
//! Heracles never stores a cleartext password: [`hash`] turns it into a `{SCHEME}`-tagged value
//! that slapd verifies on bind (the directory stays the authority on passwords). The schemes it
//! writes are the [`Scheme`]s; [`verify`] checks a password against any value slapd 2.5 (with the
//! `argon2` and `pw-sha2` modules) would accept, so Heracles can check a value itself where it
//! needs to (password history, imports) and agree with the directory.
//!
//! | scheme | written as | slapd needs |
//! |---|---|---|
//! | [`Scheme::Argon2`] (default) | `{ARGON2}$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` | `olcModuleLoad: argon2` |
//! | [`Scheme::Ssha512`] | `{SSHA512}` base64(SHA-512(password ‖ salt) ‖ salt), 8-byte salt | `olcModuleLoad: pw-sha2` |
//! | [`Scheme::Ssha256`] | `{SSHA256}` base64(SHA-256(password ‖ salt) ‖ salt), 8-byte salt | `olcModuleLoad: pw-sha2` |
//! | [`Scheme::Ssha`] | `{SSHA}` base64(SHA-1(password ‖ salt) ‖ salt), 4-byte salt | built in |
//! | [`Scheme::Crypt`] | `{CRYPT}$6$<16-char salt>$<hash>` (sha512-crypt, 5000 rounds) | built in (system `crypt()`) |
//!
//! [`verify`] also accepts `{SSHA384}`, the unsalted `{SHA}`, `{SHA256}`, `{SHA384}`,
//! `{SHA512}`, `{MD5}` and `{SMD5}`, `{CRYPT}` values in the `$6$`, `$5$` (with or without
//! `rounds=`) and `$1$` (md5-crypt) formats, and cleartext values (no `{` prefix), compared in
//! constant time. Scheme prefixes are case-insensitive. A value whose scheme it does not know
//! (`{PBKDF2}`, `{CRYPT}$y$...`, ...) or that is malformed simply does not match, as in slapd.
//!
//! Argon2's working memory (19 MiB for the hashes Heracles writes) comes from the C
//! library's allocator, whatever the program's global allocator, and goes back to the
//! operating system after the hash: at once for a lone hash, within 1–2 s of the last one
//! during a burst, when up to four are kept for reuse.
//!
//! [`PasswordPolicy`] checks a new password before it is hashed (SPEC §4: by default at least
//! 12 characters and three of the four character classes).
//!
//! ```
//! use heracles_core::password::{self, PasswordPolicy, Scheme};
//!
//! let policy = PasswordPolicy::default();
//! assert!(policy.check("short").is_err());
//! policy.check("Correct-Horse-42")?;
//!
//! let stored = password::hash("Correct-Horse-42", Scheme::Ssha512)?;
//! assert!(stored.starts_with("{SSHA512}"));
//! assert!(password::verify("Correct-Horse-42", stored.as_bytes())?);
//! assert!(!password::verify("correct-horse-42", stored.as_bytes())?);
//! assert_eq!(password::scheme_of(stored.as_bytes()), Some("SSHA512"));
//!
//! // Values written by other tools verify too.
//! let from_slappasswd = b"{SSHA}e4IN9J5T/FEE+x45xxmSanZze+LjaYLP";
//! assert!(password::verify("secret", from_slappasswd)?);
//! # Ok::<(), heracles_core::Error>(())
//! ```

use std::alloc::System;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::Argon2;
use base64ct::{Base64, Base64Unpadded, Encoding};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};
use subtle::ConstantTimeEq;

use crate::error::{Error, ErrorCode, Result};

/// The longest password, in bytes (UTF-8), that [`hash`] accepts and [`verify`] checks.
///
/// Longer passwords are refused by [`hash`] and never match in [`verify`]: the cost of
/// sha-crypt grows with the password's length, so an unbounded length would let a caller burn
/// CPU.
pub const MAX_PASSWORD_BYTES: usize = 4096;

/// Argon2 memory cost of the hashes Heracles writes, in KiB (19 MiB; OWASP's baseline for
/// argon2id).
pub const ARGON2_M_COST: u32 = 19 * 1024;
/// Argon2 number of passes of the hashes Heracles writes.
pub const ARGON2_T_COST: u32 = 2;
/// Argon2 parallelism (lanes) of the hashes Heracles writes.
pub const ARGON2_P_COST: u32 = 1;
/// Salt length of the Argon2 hashes Heracles writes, in bytes (slapd's module uses 16 too).
const ARGON2_SALT_LEN: usize = 16;
/// Output length of the Argon2 hashes Heracles writes, in bytes (slapd's module uses 32 too).
const ARGON2_OUTPUT_LEN: usize = 32;

/// Largest Argon2 memory cost (KiB) [`verify`] accepts in a stored value: 256 MiB.
const ARGON2_MAX_VERIFY_M_COST: u32 = 256 * 1024;
/// Largest Argon2 memory cost × passes [`verify`] accepts in a stored value.
const ARGON2_MAX_VERIFY_WORK: u64 = 1024 * 1024;
/// Largest Argon2 parallelism [`verify`] accepts in a stored value.
const ARGON2_MAX_VERIFY_P_COST: u32 = 64;
/// Argon2's own lower bounds (libargon2 refuses less).
const ARGON2_MIN_SALT_LEN: usize = 8;
const ARGON2_MIN_OUTPUT_LEN: usize = 4;
const ARGON2_MAX_OUTPUT_LEN: usize = 1024;

/// sha-crypt rounds when the value does not say (`$6$salt$...`), as in glibc.
const SHA_CRYPT_DEFAULT_ROUNDS: u32 = 5000;
/// glibc clamps `rounds=` into this range.
const SHA_CRYPT_MIN_ROUNDS: u32 = 1000;
const SHA_CRYPT_MAX_ROUNDS: u32 = 999_999_999;
/// Largest `rounds=` [`verify`] computes; a stored value asking for more never matches.
const SHA_CRYPT_MAX_VERIFY_ROUNDS: u32 = 1_000_000;
/// sha-crypt salts are at most 16 characters, md5-crypt salts at most 8.
const SHA_CRYPT_MAX_SALT: usize = 16;
const MD5_CRYPT_MAX_SALT: usize = 8;

/// Salt lengths slapd uses: 4 bytes for `{SSHA}` (and `{SMD5}`), 8 for the pw-sha2 schemes.
const SSHA_SALT_LEN: usize = 4;
const SSHA2_SALT_LEN: usize = 8;

/// The alphabet of crypt(3)'s base64 encoding.
const CRYPT_ALPHABET: &[u8; 64] =
    b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A scheme Heracles can hash new passwords with.
///
/// The setting naming it uses the lower-case name of [`Scheme::as_str`] (`"argon2"`,
/// `"ssha512"`, `"ssha256"`, `"ssha"`, `"crypt"`); parsing ([`FromStr`], serde) also accepts
/// the LDAP prefix (`"{ARGON2}"`), both case-insensitively. The default is [`Scheme::Argon2`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// `{ARGON2}`: argon2id in the PHC string format (slapd's `argon2` module).
    #[default]
    Argon2,
    /// `{SSHA512}`: salted SHA-512 (slapd's `pw-sha2` module).
    Ssha512,
    /// `{SSHA256}`: salted SHA-256 (slapd's `pw-sha2` module).
    Ssha256,
    /// `{SSHA}`: salted SHA-1 (built into slapd; weak, for old clients only).
    Ssha,
    /// `{CRYPT}`: sha512-crypt (`$6$`), verified by slapd through the system's `crypt()`.
    Crypt,
}

impl Scheme {
    /// Every scheme, strongest first.
    pub const ALL: &'static [Scheme] = &[
        Scheme::Argon2,
        Scheme::Ssha512,
        Scheme::Ssha256,
        Scheme::Ssha,
        Scheme::Crypt,
    ];

    /// The name used in settings: `"argon2"`, `"ssha512"`, `"ssha256"`, `"ssha"` or `"crypt"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Argon2 => "argon2",
            Scheme::Ssha512 => "ssha512",
            Scheme::Ssha256 => "ssha256",
            Scheme::Ssha => "ssha",
            Scheme::Crypt => "crypt",
        }
    }

    /// The prefix of the stored value, e.g. `"{ARGON2}"`.
    pub const fn prefix(self) -> &'static str {
        match self {
            Scheme::Argon2 => "{ARGON2}",
            Scheme::Ssha512 => "{SSHA512}",
            Scheme::Ssha256 => "{SSHA256}",
            Scheme::Ssha => "{SSHA}",
            Scheme::Crypt => "{CRYPT}",
        }
    }

    /// The slapd module (`olcModuleLoad`) slapd needs to verify this scheme, if any.
    pub const fn slapd_module(self) -> Option<&'static str> {
        match self {
            Scheme::Argon2 => Some("argon2"),
            Scheme::Ssha512 | Scheme::Ssha256 => Some("pw-sha2"),
            Scheme::Ssha | Scheme::Crypt => None,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scheme {
    type Err = Error;

    /// Parses `"argon2"` or `"{ARGON2}"` (any case); a `VALIDATION_FAILED` error otherwise.
    fn from_str(s: &str) -> Result<Self> {
        let trimmed = s.trim();
        let name = trimmed
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap_or(trimmed);
        Scheme::ALL
            .iter()
            .copied()
            .find(|scheme| scheme.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let allowed: Vec<&str> = Scheme::ALL.iter().map(|scheme| scheme.as_str()).collect();
                Error::new(
                    ErrorCode::ValidationFailed,
                    format!(
                        "unknown password scheme '{s}' (expected one of: {})",
                        allowed.join(", ")
                    ),
                )
                .with_detail("value", s)
                .with_detail("allowed", allowed)
            })
    }
}

impl Serialize for Scheme {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Scheme {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e: Error| serde::de::Error::custom(e.message()))
    }
}

/// Hashes `password` with `scheme` and a fresh random salt from the operating system, into a
/// `userPassword` value slapd verifies on bind (see the module documentation for the formats).
///
/// Refuses (`VALIDATION_FAILED`, field `userPassword`, `reason` `empty`, `invalid_character` or
/// `too_long`) an empty password (an LDAP simple bind with an empty password is an anonymous
/// bind, never a password check), one containing a NUL character (C clients cannot send it, and
/// slapd's `{CRYPT}` never matches it) and one longer than [`MAX_PASSWORD_BYTES`]. The password is not checked against a [`PasswordPolicy`]: call
/// [`PasswordPolicy::check`] first. `INTERNAL` if the OS random source fails.
///
/// ```
/// use heracles_core::password::{hash, verify, Scheme};
///
/// let stored = hash("Tr0ub4dor&3-xkcd", Scheme::Crypt)?;
/// assert!(stored.starts_with("{CRYPT}$6$"));
/// assert!(verify("Tr0ub4dor&3-xkcd", stored.as_bytes())?);
/// # Ok::<(), heracles_core::Error>(())
/// ```
pub fn hash(password: &str, scheme: Scheme) -> Result<String> {
    if password.is_empty() {
        return Err(Error::validation("userPassword", "the password is empty")
            .with_detail("reason", "empty"));
    }
    if password.contains('\0') {
        return Err(
            Error::validation("userPassword", "the password contains a NUL character")
                .with_detail("reason", "invalid_character"),
        );
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::validation(
            "userPassword",
            format!("the password is longer than {MAX_PASSWORD_BYTES} bytes"),
        )
        .with_detail("reason", "too_long")
        .with_detail("max_length", MAX_PASSWORD_BYTES));
    }
    let pw = password.as_bytes();
    let body = match scheme {
        Scheme::Argon2 => {
            let salt: [u8; ARGON2_SALT_LEN] = random_bytes()?;
            argon2_hash(pw, &salt)?
        }
        Scheme::Ssha512 => salted_digest::<Sha512>(pw, &random_bytes::<SSHA2_SALT_LEN>()?),
        Scheme::Ssha256 => salted_digest::<Sha256>(pw, &random_bytes::<SSHA2_SALT_LEN>()?),
        Scheme::Ssha => salted_digest::<Sha1>(pw, &random_bytes::<SSHA_SALT_LEN>()?),
        Scheme::Crypt => {
            // 16 characters of the crypt alphabet, as `slappasswd -c '$6$%.16s'` makes:
            // 64 divides 256, so masking keeps each character uniform.
            let mut salt: [u8; SHA_CRYPT_MAX_SALT] = random_bytes()?;
            for byte in &mut salt {
                *byte = CRYPT_ALPHABET[usize::from(*byte & 0x3f)];
            }
            let setting = ShaCryptSetting {
                variant: ShaCryptVariant::Sha512,
                rounds: SHA_CRYPT_DEFAULT_ROUNDS,
                explicit_rounds: false,
                salt: &salt,
            };
            // The salt is ASCII: the crypt string is too.
            String::from_utf8_lossy(&sha_crypt(pw, &setting)).into_owned()
        }
    };
    Ok(format!("{}{body}", scheme.prefix()))
}

/// Checks `password` against a stored `userPassword` value as slapd does on bind.
///
/// Returns `Ok(true)` on a match and `Ok(false)` otherwise: wrong password, unknown scheme,
/// malformed value (bad base64, wrong lengths, bad PHC or crypt string), an empty password, a
/// password longer than [`MAX_PASSWORD_BYTES`], or a stored value whose cost parameters are
/// beyond what Heracles agrees to compute (argon2 above 256 MiB or 1 GiB × passes in total,
/// sha-crypt above 1 000 000 rounds). It never panics on any input.
///
/// Values without a `{SCHEME}` prefix are cleartext and compared in constant time, as slapd
/// does; a value that starts with `{`, has a `}` after at least one character and names a
/// scheme this function does not know never matches (slapd's rule too).
///
/// Supported: `{ARGON2}` (argon2i, argon2d and argon2id PHC strings, v=16 and v=19),
/// `{SSHA512}`, `{SSHA384}`, `{SSHA256}`, `{SSHA}`, `{SMD5}`, `{SHA512}`, `{SHA384}`,
/// `{SHA256}`, `{SHA}`, `{MD5}`, and `{CRYPT}` with `$6$`, `$5$` or `$1$`.
///
/// The error case is reserved for internal failures; none is expected in practice.
pub fn verify(password: &str, stored: &[u8]) -> Result<bool> {
    let pw = password.as_bytes();
    if pw.is_empty() || pw.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let Some((name, body)) = split_scheme(stored) else {
        return Ok(cleartext_eq(pw, stored));
    };
    let is = |scheme: &str| name.eq_ignore_ascii_case(scheme.as_bytes());
    let matched = if is("ARGON2") {
        argon2_verify(pw, body)
    } else if is("SSHA512") {
        digest_verify::<Sha512>(pw, body, true)
    } else if is("SSHA384") {
        digest_verify::<Sha384>(pw, body, true)
    } else if is("SSHA256") {
        digest_verify::<Sha256>(pw, body, true)
    } else if is("SSHA") {
        digest_verify::<Sha1>(pw, body, true)
    } else if is("SMD5") {
        digest_verify::<md5::Md5>(pw, body, true)
    } else if is("SHA512") {
        digest_verify::<Sha512>(pw, body, false)
    } else if is("SHA384") {
        digest_verify::<Sha384>(pw, body, false)
    } else if is("SHA256") {
        digest_verify::<Sha256>(pw, body, false)
    } else if is("SHA") {
        digest_verify::<Sha1>(pw, body, false)
    } else if is("MD5") {
        digest_verify::<md5::Md5>(pw, body, false)
    } else if is("CRYPT") {
        crypt_verify(pw, body)
    } else {
        false
    };
    Ok(matched)
}

/// The schemes [`verify`] understands (upper-case, without braces).
const VERIFIABLE_SCHEMES: &[&str] = &[
    "ARGON2", "SSHA512", "SSHA384", "SSHA256", "SSHA", "SMD5", "SHA512", "SHA384", "SHA256", "SHA",
    "MD5", "CRYPT",
];

/// Whether slapd would read `value` as a `{SCHEME}`-tagged hash rather than as a cleartext
/// password: it starts with `{` and has a `}` after at least one character.
///
/// Such a value is never compared as cleartext, whether or not the scheme is known (see
/// [`is_supported_scheme`]).
pub fn is_hashed(value: &[u8]) -> bool {
    split_scheme(value).is_some()
}

/// The scheme name of a hashed value, as written between the braces (e.g. `"SSHA512"`,
/// possibly in another case: compare with `eq_ignore_ascii_case`).
///
/// `None` for a cleartext value, and for a value whose braces hold anything but 1 to 32 ASCII
/// letters, digits, `-`, `_` or `.` — so that, used to label a redacted value in the audit, it
/// can never reveal part of a cleartext password that happens to start with `{`.
///
/// ```
/// use heracles_core::password::scheme_of;
///
/// assert_eq!(scheme_of(b"{ssha}e4IN9J5T/FEE+x45xxmSanZze+LjaYLP"), Some("ssha"));
/// assert_eq!(scheme_of(b"secret"), None);
/// ```
pub fn scheme_of(value: &[u8]) -> Option<&str> {
    let (name, _) = split_scheme(value)?;
    let plausible = name.len() <= 32
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if plausible {
        std::str::from_utf8(name).ok()
    } else {
        None
    }
}

/// Whether [`verify`] understands the scheme `name` (without braces, any case), e.g. to accept
/// a pre-hashed `userPassword` on import only if Heracles can check it too.
pub fn is_supported_scheme(name: &str) -> bool {
    let name = name
        .strip_prefix('{')
        .and_then(|rest| rest.strip_suffix('}'))
        .unwrap_or(name);
    VERIFIABLE_SCHEMES
        .iter()
        .any(|known| known.eq_ignore_ascii_case(name))
}

/// The rules a new password must satisfy before it is hashed (SPEC §4).
///
/// Lengths: `min_length` counts Unicode characters (scalar values); `max_length` counts bytes
/// of UTF-8 and bounds the work of hashing. Character classes: lower-case letters, upper-case
/// letters, digits (each in the Unicode sense) and everything else (punctuation, symbols,
/// spaces, letters without case).
///
/// ```
/// use heracles_core::password::PasswordPolicy;
///
/// let policy = PasswordPolicy::default(); // 12 characters, 3 of 4 classes
/// assert!(policy.check("SecureP@ss123").is_ok());
/// let err = policy.check("alllowercaseletters").unwrap_err();
/// assert_eq!(err.details()["reason"], "too_few_classes");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    /// Fewest characters (Unicode scalar values). Default 12.
    pub min_length: usize,
    /// Fewest character classes (0 to 4) among lower-case, upper-case, digit and other.
    /// Default 3. A value above 4 can never be satisfied.
    pub min_classes: u8,
    /// Most bytes (UTF-8). Default and ceiling: [`MAX_PASSWORD_BYTES`] ([`hash`] refuses more
    /// whatever the policy says).
    pub max_length: usize,
    /// How many previous passwords a new one may not repeat (0: no history). Default 0.
    pub history: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 12,
            min_classes: 3,
            max_length: MAX_PASSWORD_BYTES,
            history: 0,
        }
    }
}

impl PasswordPolicy {
    /// Checks a candidate password. On failure: `VALIDATION_FAILED` with details
    /// `{field: "userPassword", reason, min_length, min_classes}` (plus `max_length` when the
    /// reason is `too_long`), where `reason` is `too_long`, `too_short` or `too_few_classes`
    /// (checked in that order). The password itself never appears in the error.
    pub fn check(&self, password: &str) -> Result<()> {
        let max_length = self.max_length.min(MAX_PASSWORD_BYTES);
        let fail = |reason: &str, message: String| {
            Error::validation("userPassword", message)
                .with_detail("reason", reason)
                .with_detail("min_length", self.min_length)
                .with_detail("min_classes", self.min_classes)
        };
        if password.len() > max_length {
            return Err(fail(
                "too_long",
                format!("the password must be at most {max_length} bytes long"),
            )
            .with_detail("max_length", max_length));
        }
        if password.chars().count() < self.min_length {
            return Err(fail(
                "too_short",
                format!(
                    "the password must be at least {} characters long",
                    self.min_length
                ),
            ));
        }
        if character_classes(password) < self.min_classes {
            return Err(fail(
                "too_few_classes",
                format!(
                    "the password must contain at least {} of the four character classes \
                     (lower-case letters, upper-case letters, digits, other characters)",
                    self.min_classes
                ),
            ));
        }
        Ok(())
    }
}

/// How many of the four classes (lower, upper, digit, other) occur in `password`.
fn character_classes(password: &str) -> u8 {
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    for c in password.chars() {
        if c.is_lowercase() {
            lower = true;
        } else if c.is_uppercase() {
            upper = true;
        } else if c.is_numeric() {
            digit = true;
        } else {
            other = true;
        }
    }
    u8::from(lower) + u8::from(upper) + u8::from(digit) + u8::from(other)
}

// ---- helpers -----------------------------------------------------------------------------

/// Splits `{NAME}body` into `(NAME, body)` by slapd's rule: a leading `{` and a first `}` after
/// at least one character. `None` means cleartext.
fn split_scheme(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = value.strip_prefix(b"{")?;
    let close = rest.iter().position(|&b| b == b'}')?;
    if close == 0 {
        return None;
    }
    Some((&rest[..close], &rest[close + 1..]))
}

/// `N` bytes from the operating system's random source.
fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf)
        .map_err(|e| Error::internal(format!("the system random source failed: {e}")))?;
    Ok(buf)
}

/// Constant-time equality of two byte strings of any lengths: compares their SHA-256 digests,
/// so neither the content nor the length of the stored value leaks through timing.
fn cleartext_eq(given: &[u8], stored: &[u8]) -> bool {
    let a = Sha256::digest(given);
    let b = Sha256::digest(stored);
    a.as_slice().ct_eq(b.as_slice()).into()
}

/// `base64(D(password ‖ salt) ‖ salt)`.
fn salted_digest<D: Digest>(password: &[u8], salt: &[u8]) -> String {
    let mut hasher = D::new();
    hasher.update(password);
    hasher.update(salt);
    let mut raw = hasher.finalize().to_vec();
    raw.extend_from_slice(salt);
    Base64::encode_string(&raw)
}

/// Checks `body` = base64(D(password ‖ salt) ‖ salt), or base64(D(password)) when unsalted.
/// slapd requires a salt of at least one byte for the salted schemes, and an exact digest
/// length for the unsalted ones.
fn digest_verify<D: Digest>(password: &[u8], body: &[u8], salted: bool) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let Ok(raw) = Base64::decode_vec(text) else {
        return false;
    };
    let size = <D as Digest>::output_size();
    let well_formed = if salted {
        raw.len() > size
    } else {
        raw.len() == size
    };
    if !well_formed {
        return false;
    }
    let (expected, salt) = raw.split_at(size);
    let mut hasher = D::new();
    hasher.update(password);
    hasher.update(salt);
    hasher.finalize().as_slice().ct_eq(expected).into()
}

// ---- argon2 ------------------------------------------------------------------------------

/// The PHC string (without `{ARGON2}`) of argon2id v=19 with Heracles' parameters.
fn argon2_hash(password: &[u8], salt: &[u8]) -> Result<String> {
    let params = argon2::Params::new(
        ARGON2_M_COST,
        ARGON2_T_COST,
        ARGON2_P_COST,
        Some(ARGON2_OUTPUT_LEN),
    )
    .map_err(|e| Error::internal(format!("invalid argon2 parameters: {e}")))?;
    let mut memory = Argon2Memory::take(&ARGON2_SPARES, params.block_count())
        .ok_or_else(|| Error::internal("cannot allocate the argon2 working memory (19 MiB)"))?;
    let ctx = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; ARGON2_OUTPUT_LEN];
    let hashed = ctx.hash_password_into_with_memory(password, salt, &mut out, memory.blocks());
    memory.release(&ARGON2_SPARES);
    hashed.map_err(|e| Error::internal(format!("argon2 hashing failed: {e}")))?;
    Ok(format!(
        "$argon2id$v=19$m={ARGON2_M_COST},t={ARGON2_T_COST},p={ARGON2_P_COST}${}${}",
        Base64Unpadded::encode_string(salt),
        Base64Unpadded::encode_string(&out),
    ))
}

/// glibc's largest `M_MMAP_THRESHOLD` (its dynamic upper limit on 64-bit targets, see
/// `mallopt(3)`): a larger allocation is always its own `mmap`, unmapped by `free`.
const SYSTEM_MMAP_THRESHOLD_MAX: usize = 32 * 1024 * 1024;
/// Capacity, in blocks, of every [`Argon2Memory`] of up to that many blocks: just over
/// [`SYSTEM_MMAP_THRESHOLD_MAX`].
const ARGON2_MEMORY_CAPACITY: usize = SYSTEM_MMAP_THRESHOLD_MAX / size_of::<argon2::Block>() + 1;
/// How long the working memory of a hash is kept for the next one during a burst (logins,
/// password changes, an import) before it goes back to the operating system.
const ARGON2_MEMORY_KEEP: Duration = Duration::from_secs(1);
/// At most this many working memories are kept (one per hash running at once).
const ARGON2_MEMORY_SPARES: usize = 4;

/// Argon2's working memory (`m_cost` KiB: 19 MiB for the hashes Heracles writes), taken
/// from the system allocator and given back to the operating system when dropped.
///
/// `Argon2::hash_password_into` allocates it from the global allocator. In
/// `heracles-server` that is mimalloc, which keeps a freed block this large committed until
/// a later allocation or free purges it (100 ms after the free in mimalloc 2), and an idle
/// server makes none: after the bootstrap's hash of the administrator's password, 19 MiB
/// stayed resident for good (idle RSS 36 MB instead of 15 MB after a first start), and
/// concurrent logins on the embedded directory left one such block per thread. This buffer
/// comes from the C library's `malloc` instead, with a capacity above glibc's largest mmap
/// threshold, so it is always a mapping of its own and `free` unmaps it (musl maps large
/// allocations too); pages past `len` are never touched and cost no memory.
///
/// A fresh mapping costs page faults on every hash (it made a hash ~1.4-1.6× slower), so
/// during a burst the memory is reused: [`Argon2Memory::release`] keeps up to
/// [`ARGON2_MEMORY_SPARES`] of them when another hash finished less than
/// [`ARGON2_MEMORY_KEEP`] before, and a short-lived thread drops them once no hash has
/// finished for that long. A lone hash (the bootstrap's) gives its memory back at once.
/// Argon2 overwrites every block before reading it, so reused memory needs no clearing.
struct Argon2Memory(allocator_api2::vec::Vec<argon2::Block, System>);

/// The kept working memories and when a hash last finished.
struct Argon2Spares {
    memories: Vec<Argon2Memory>,
    last_release: Option<Instant>,
    /// Whether a thread is waiting to drop `memories`.
    reaper: bool,
}

type Spares = Mutex<Argon2Spares>;

/// The working memories kept by [`hash`] and [`verify`].
static ARGON2_SPARES: Spares = Argon2Spares::none();

impl Argon2Spares {
    const fn none() -> Spares {
        Mutex::new(Argon2Spares {
            memories: Vec::new(),
            last_release: None,
            reaper: false,
        })
    }
}

fn lock(spares: &Spares) -> MutexGuard<'_, Argon2Spares> {
    // The data stays consistent whatever panicked while holding the lock.
    spares.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Argon2Memory {
    /// `blocks` 1 KiB blocks (a kept memory, or a new zeroed one); `None` if the memory
    /// cannot be had.
    fn take(spares: &Spares, blocks: usize) -> Option<Self> {
        let kept = {
            let mut kept = lock(spares);
            let large_enough = kept.memories.iter().position(|m| m.0.capacity() >= blocks);
            large_enough.map(|i| kept.memories.swap_remove(i))
        };
        let mut memory = if let Some(kept) = kept {
            kept.0
        } else {
            let mut memory = allocator_api2::vec::Vec::new_in(System);
            memory
                .try_reserve_exact(blocks.max(ARGON2_MEMORY_CAPACITY))
                .ok()?;
            memory
        };
        memory.resize(blocks, argon2::Block::default());
        Some(Self(memory))
    }

    fn blocks(&mut self) -> &mut [argon2::Block] {
        &mut self.0
    }

    /// Done with it: kept for the next hash during a burst, else dropped (unmapped; as a
    /// parameter, `self` is dropped after the lock guard, so never under the lock).
    fn release(self, spares: &'static Spares) {
        let now = Instant::now();
        let mut kept = lock(spares);
        let burst = kept
            .last_release
            .is_some_and(|last| now.saturating_duration_since(last) < ARGON2_MEMORY_KEEP);
        kept.last_release = Some(now);
        if !burst
            || kept.memories.len() >= ARGON2_MEMORY_SPARES
            || self.0.capacity() > ARGON2_MEMORY_CAPACITY
        {
            return;
        }
        if !kept.reaper {
            let spawned = std::thread::Builder::new()
                .name("heracles-argon2-memory".into())
                .spawn(move || drop_spares_when_idle(spares));
            if spawned.is_err() {
                // Without the thread nothing would ever drop it.
                return;
            }
            kept.reaper = true;
        }
        kept.memories.push(self);
    }
}

/// Drops the kept working memories once no hash has finished for [`ARGON2_MEMORY_KEEP`].
fn drop_spares_when_idle(spares: &Spares) {
    loop {
        std::thread::sleep(ARGON2_MEMORY_KEEP);
        let mut kept = lock(spares);
        let idle = kept
            .last_release
            .is_none_or(|last| last.elapsed() >= ARGON2_MEMORY_KEEP);
        if idle {
            let memories = std::mem::take(&mut kept.memories);
            kept.reaper = false;
            drop(kept);
            drop(memories);
            return;
        }
    }
}

/// A parsed argon2 PHC string.
struct Argon2Encoded {
    algorithm: argon2::Algorithm,
    version: argon2::Version,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// Parses `$argon2{i,d,id}[$v=N]$m=M,t=T,p=P$<salt>$<hash>` exactly as libargon2 (which
/// slapd's module uses) decodes it: fixed parameter order, unpadded standard base64, version
/// 16 when absent.
fn parse_argon2(text: &str) -> Option<Argon2Encoded> {
    let mut fields = text.strip_prefix('$')?.split('$');
    let algorithm = match fields.next()? {
        "argon2i" => argon2::Algorithm::Argon2i,
        "argon2d" => argon2::Algorithm::Argon2d,
        "argon2id" => argon2::Algorithm::Argon2id,
        _ => return None,
    };
    let mut field = fields.next()?;
    let version = match field.strip_prefix("v=") {
        Some(v) => {
            field = fields.next()?;
            match decimal(v)? {
                0x10 => argon2::Version::V0x10,
                0x13 => argon2::Version::V0x13,
                _ => return None,
            }
        }
        None => argon2::Version::V0x10,
    };
    let params = field.strip_prefix("m=")?;
    let (m, params) = params.split_once(",t=")?;
    let (t, p) = params.split_once(",p=")?;
    let salt = Base64Unpadded::decode_vec(fields.next()?).ok()?;
    let hash = Base64Unpadded::decode_vec(fields.next()?).ok()?;
    if fields.next().is_some() {
        return None;
    }
    Some(Argon2Encoded {
        algorithm,
        version,
        m_cost: decimal(m)?,
        t_cost: decimal(t)?,
        p_cost: decimal(p)?,
        salt,
        hash,
    })
}

/// A non-empty run of ASCII digits as a `u32` (no sign, no spaces, no overflow).
fn decimal(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn argon2_verify(password: &[u8], body: &[u8]) -> bool {
    let Some(encoded) = std::str::from_utf8(body).ok().and_then(parse_argon2) else {
        return false;
    };
    let acceptable = encoded.salt.len() >= ARGON2_MIN_SALT_LEN
        && (ARGON2_MIN_OUTPUT_LEN..=ARGON2_MAX_OUTPUT_LEN).contains(&encoded.hash.len())
        && encoded.m_cost <= ARGON2_MAX_VERIFY_M_COST
        && encoded.p_cost <= ARGON2_MAX_VERIFY_P_COST
        && u64::from(encoded.m_cost) * u64::from(encoded.t_cost) <= ARGON2_MAX_VERIFY_WORK;
    if !acceptable {
        return false;
    }
    // Invalid combinations (t = 0, m < 8 p, ...) are malformed values, not errors.
    let Ok(params) = argon2::Params::new(
        encoded.m_cost,
        encoded.t_cost,
        encoded.p_cost,
        Some(encoded.hash.len()),
    ) else {
        return false;
    };
    // Too little memory left is a value that does not match, as in slapd.
    let Some(mut memory) = Argon2Memory::take(&ARGON2_SPARES, params.block_count()) else {
        return false;
    };
    let ctx = Argon2::new(encoded.algorithm, encoded.version, params);
    let mut out = vec![0u8; encoded.hash.len()];
    let hashed =
        ctx.hash_password_into_with_memory(password, &encoded.salt, &mut out, memory.blocks());
    memory.release(&ARGON2_SPARES);
    if hashed.is_err() {
        return false;
    }
    out.ct_eq(&encoded.hash).into()
}

// ---- crypt(3) ----------------------------------------------------------------------------

/// Checks a `{CRYPT}` body the way `crypt(password, stored) == stored` does with glibc /
/// libxcrypt, for `$6$`, `$5$` and `$1$`; other crypt formats never match.
fn crypt_verify(password: &[u8], stored: &[u8]) -> bool {
    // crypt() takes C strings: slapd refuses a password with a NUL byte for {CRYPT}.
    if password.contains(&0) {
        return false;
    }
    let computed = match stored.get(..3) {
        Some(b"$6$") => parse_sha_crypt(ShaCryptVariant::Sha512, &stored[3..])
            .map(|setting| sha_crypt(password, &setting)),
        Some(b"$5$") => parse_sha_crypt(ShaCryptVariant::Sha256, &stored[3..])
            .map(|setting| sha_crypt(password, &setting)),
        Some(b"$1$") => Some(md5_crypt(
            password,
            crypt_salt(&stored[3..], MD5_CRYPT_MAX_SALT),
        )),
        _ => None,
    };
    match computed {
        Some(computed) => computed.ct_eq(stored).into(),
        None => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ShaCryptVariant {
    Sha256,
    Sha512,
}

/// The setting part of a sha-crypt string: rounds and salt.
struct ShaCryptSetting<'a> {
    variant: ShaCryptVariant,
    rounds: u32,
    /// Whether the string carries `rounds=N$` (glibc then writes it back, even for 5000).
    explicit_rounds: bool,
    salt: &'a [u8],
}

/// Reads the setting after `$6$` / `$5$` as glibc does: an optional `rounds=N$` (clamped into
/// 1000..=999999999), then a salt of at most 16 bytes up to the next `$`. `None` when the
/// rounds exceed what [`verify`] agrees to compute.
fn parse_sha_crypt(variant: ShaCryptVariant, rest: &[u8]) -> Option<ShaCryptSetting<'_>> {
    let mut rounds = SHA_CRYPT_DEFAULT_ROUNDS;
    let mut explicit_rounds = false;
    let mut rest = rest;
    if let Some(after) = rest.strip_prefix(b"rounds=") {
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 && after.get(digits) == Some(&b'$') {
            // All digits: only overflow can fail, and glibc saturates too.
            let n = std::str::from_utf8(&after[..digits])
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(u64::MAX);
            let clamped = n.clamp(
                u64::from(SHA_CRYPT_MIN_ROUNDS),
                u64::from(SHA_CRYPT_MAX_ROUNDS),
            );
            rounds = u32::try_from(clamped).unwrap_or(SHA_CRYPT_MAX_ROUNDS);
            explicit_rounds = true;
            rest = &after[digits + 1..];
        }
    }
    if rounds > SHA_CRYPT_MAX_VERIFY_ROUNDS {
        return None;
    }
    Some(ShaCryptSetting {
        variant,
        rounds,
        explicit_rounds,
        salt: crypt_salt(rest, SHA_CRYPT_MAX_SALT),
    })
}

/// The salt of a crypt setting: the bytes up to the first `$`, at most `max` of them.
fn crypt_salt(rest: &[u8], max: usize) -> &[u8] {
    let end = rest
        .iter()
        .position(|&b| b == b'$')
        .unwrap_or(rest.len())
        .min(max);
    &rest[..end]
}

/// The full crypt string (`$6$[rounds=N$]salt$hash`) of `password` under `setting`.
fn sha_crypt(password: &[u8], setting: &ShaCryptSetting<'_>) -> Vec<u8> {
    let ident: &[u8] = match setting.variant {
        ShaCryptVariant::Sha256 => b"$5$",
        ShaCryptVariant::Sha512 => b"$6$",
    };
    let mut out = ident.to_vec();
    if setting.explicit_rounds {
        out.extend_from_slice(format!("rounds={}$", setting.rounds).as_bytes());
    }
    out.extend_from_slice(setting.salt);
    out.push(b'$');
    // `rounds` is within sha-crypt's accepted range by construction (clamped, or the default).
    let Ok(params) = sha_crypt::Params::new(setting.rounds) else {
        return Vec::new();
    };
    match setting.variant {
        ShaCryptVariant::Sha512 => {
            let b = sha_crypt::sha512_crypt(password, setting.salt, params);
            // Byte order of the final encoding, from the SHA-crypt specification.
            for i in 0..21 {
                let t = [b[i], b[i + 21], b[i + 42]];
                let r = i % 3;
                crypt_b64(&mut out, t[r], t[(r + 1) % 3], t[(r + 2) % 3], 4);
            }
            crypt_b64(&mut out, 0, 0, b[63], 2);
        }
        ShaCryptVariant::Sha256 => {
            let b = sha_crypt::sha256_crypt(password, setting.salt, params);
            for i in 0..10 {
                let t = [b[i], b[i + 10], b[i + 20]];
                let r = (3 - i % 3) % 3;
                crypt_b64(&mut out, t[r], t[(r + 1) % 3], t[(r + 2) % 3], 4);
            }
            crypt_b64(&mut out, 0, b[31], b[30], 3);
        }
    }
    out
}

/// md5-crypt (`$1$salt$hash`, Poul-Henning Kamp's algorithm), verify only.
fn md5_crypt(password: &[u8], salt: &[u8]) -> Vec<u8> {
    use md5::Md5;

    let alternate = Md5::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize();
    let mut ctx = Md5::new()
        .chain_update(password)
        .chain_update(b"$1$")
        .chain_update(salt);
    let mut remaining = password.len();
    while remaining > 0 {
        let n = remaining.min(16);
        ctx.update(&alternate[..n]);
        remaining -= n;
    }
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            ctx.update([0u8]);
        } else {
            ctx.update(&password[..1]);
        }
        bits >>= 1;
    }
    let mut digest = ctx.finalize();
    for i in 0..1000 {
        let mut round = Md5::new();
        if i % 2 == 1 {
            round.update(password);
        } else {
            round.update(digest);
        }
        if i % 3 != 0 {
            round.update(salt);
        }
        if i % 7 != 0 {
            round.update(password);
        }
        if i % 2 == 1 {
            round.update(digest);
        } else {
            round.update(password);
        }
        digest = round.finalize();
    }
    let d = digest;
    let mut out = b"$1$".to_vec();
    out.extend_from_slice(salt);
    out.push(b'$');
    for i in 0..5 {
        let last = if i == 4 { 5 } else { i + 12 };
        crypt_b64(&mut out, d[i], d[i + 6], d[last], 4);
    }
    crypt_b64(&mut out, 0, 0, d[11], 2);
    out
}

/// crypt(3)'s base64: the 24-bit group `b2 b1 b0` as `n` characters, least significant first.
fn crypt_b64(out: &mut Vec<u8>, b2: u8, b1: u8, b0: u8, n: usize) {
    let mut w = (u32::from(b2) << 16) | (u32::from(b1) << 8) | u32::from(b0);
    for _ in 0..n {
        out.push(CRYPT_ALPHABET[(w & 0x3f) as usize]);
        w >>= 6;
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    #[test]
    fn argon2_memory_is_reused_in_a_burst_and_dropped_when_idle() {
        static SPARES: Spares = Argon2Spares::none();
        let blocks = usize::try_from(ARGON2_M_COST).unwrap();
        let kept = || lock(&SPARES).memories.len();
        // A lone hash gives its memory back at once.
        let first = Argon2Memory::take(&SPARES, blocks).unwrap();
        assert_eq!(first.0.len(), blocks);
        assert!(first.0.capacity() * size_of::<argon2::Block>() > SYSTEM_MMAP_THRESHOLD_MAX);
        first.release(&SPARES);
        assert_eq!(kept(), 0);
        // The next one, within ARGON2_MEMORY_KEEP, is a burst: its memory is kept...
        let mut second = Argon2Memory::take(&SPARES, blocks).unwrap();
        let address = second.blocks().as_ptr();
        second.release(&SPARES);
        assert_eq!(kept(), 1);
        assert!(lock(&SPARES).reaper);
        // ...and reused, for a smaller or an equal memory cost.
        let mut third = Argon2Memory::take(&SPARES, 4096).unwrap();
        assert_eq!(third.blocks().len(), 4096);
        assert_eq!(third.blocks().as_ptr(), address);
        assert_eq!(kept(), 0);
        third.release(&SPARES);
        // A memory larger than the usual capacity is never kept.
        let huge = Argon2Memory::take(&SPARES, ARGON2_MEMORY_CAPACITY + 1).unwrap();
        huge.release(&SPARES);
        assert_eq!(kept(), 1);
        // No hash for ARGON2_MEMORY_KEEP: the thread drops what is kept.
        let deadline = Instant::now() + 4 * ARGON2_MEMORY_KEEP;
        while kept() > 0 || lock(&SPARES).reaper {
            assert!(Instant::now() < deadline, "the kept memory was not dropped");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[test]
    fn argon2_results_do_not_depend_on_reused_memory() {
        // Back to back, the later checks reuse the memory the earlier ones wrote.
        let known = b"{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8";
        for _ in 0..3 {
            let stored = hash("Correct-Horse-42", Scheme::Argon2).unwrap();
            assert!(verify("Correct-Horse-42", stored.as_bytes()).unwrap());
            assert!(!verify("Correct-Horse-43", stored.as_bytes()).unwrap());
            assert!(verify("secret", known).unwrap());
            assert!(!verify("Secret", known).unwrap());
        }
    }

    /// Runs the real `slappasswd` (from Debian's `slapd` package) and returns the value it
    /// prints. Fails the test when it is missing: the cross-checks must never be skipped.
    fn slappasswd(password: &str, args: &[&str]) -> String {
        let program = if std::path::Path::new("/usr/sbin/slappasswd").exists() {
            "/usr/sbin/slappasswd"
        } else {
            "slappasswd"
        };
        let output = Command::new(program)
            .arg("-s")
            .arg(password)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run slappasswd ({e}): install OpenLDAP with \
                     `apt-get install -y slapd ldap-utils` (scripts/test.sh does it)"
                )
            });
        assert!(
            output.status.success(),
            "slappasswd {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let value = String::from_utf8(output.stdout).expect("slappasswd prints ASCII");
        value.trim_end().to_owned()
    }

    /// A `{CRYPT}$6$` value for a password `hash` refuses (NUL inside), built directly.
    fn slappasswd_free_crypt(password: &str) -> String {
        let setting = ShaCryptSetting {
            variant: ShaCryptVariant::Sha512,
            rounds: SHA_CRYPT_DEFAULT_ROUNDS,
            explicit_rounds: false,
            salt: b"saltsalt",
        };
        format!(
            "{{CRYPT}}{}",
            String::from_utf8(sha_crypt(password.as_bytes(), &setting)).unwrap()
        )
    }

    const PASSWORDS: &[&str] = &["secret", "Correct-Horse-42", "pâsswörd ünïcödé 🔑", "a"];

    #[test]
    fn round_trip_every_scheme() {
        for &scheme in Scheme::ALL {
            for pw in ["Correct-Horse-42", "pâsswörd ünïcödé 🔑", "x"] {
                let stored = hash(pw, scheme).unwrap();
                assert!(stored.starts_with(scheme.prefix()), "{stored}");
                assert!(is_hashed(stored.as_bytes()));
                assert!(verify(pw, stored.as_bytes()).unwrap(), "{scheme}: {stored}");
                assert!(!verify("wrong password", stored.as_bytes()).unwrap());
                assert!(!verify(&format!("{pw}x"), stored.as_bytes()).unwrap());
            }
        }
    }

    #[test]
    fn hashes_have_the_shape_slapd_writes() {
        let argon = hash("secret", Scheme::Argon2).unwrap();
        let body = argon.strip_prefix("{ARGON2}").unwrap();
        let parts: Vec<&str> = body.split('$').collect();
        assert_eq!(parts[..4], ["", "argon2id", "v=19", "m=19456,t=2,p=1"]);
        assert_eq!(parts[4].len(), 22); // 16-byte salt, unpadded base64
        assert_eq!(parts[5].len(), 43); // 32-byte hash
                                        // Same lengths as slappasswd: SSHA 4-byte salt, SSHA256/512 8-byte salt.
        assert_eq!(hash("secret", Scheme::Ssha).unwrap().len(), 6 + 32);
        assert_eq!(hash("secret", Scheme::Ssha256).unwrap().len(), 9 + 56);
        assert_eq!(hash("secret", Scheme::Ssha512).unwrap().len(), 9 + 96);
        let crypt = hash("secret", Scheme::Crypt).unwrap();
        let parts: Vec<&str> = crypt.split('$').collect();
        assert_eq!(parts[0], "{CRYPT}");
        assert_eq!(parts[1], "6");
        assert_eq!(parts[2].len(), 16);
        assert!(parts[2].bytes().all(|b| CRYPT_ALPHABET.contains(&b)));
        assert_eq!(parts[3].len(), 86);
        // Fresh salt every time.
        assert_ne!(
            hash("secret", Scheme::Ssha512).unwrap(),
            hash("secret", Scheme::Ssha512).unwrap()
        );
    }

    #[test]
    fn hash_refuses_empty_and_oversized_passwords() {
        let err = hash("", Scheme::Ssha).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        assert_eq!(err.details()["field"], "userPassword");
        let long = "a".repeat(MAX_PASSWORD_BYTES + 1);
        let err = hash(&long, Scheme::Argon2).unwrap_err();
        assert_eq!(err.details()["reason"], "too_long");
        assert!(hash(&"a".repeat(MAX_PASSWORD_BYTES), Scheme::Ssha).is_ok());
        let err = hash("sec\0ret-password", Scheme::Ssha512).unwrap_err();
        assert_eq!(err.details()["reason"], "invalid_character");
        // slapd's {CRYPT} refuses NUL bytes; the other schemes hash bytes.
        let crypt = slappasswd_free_crypt("sec\0ret");
        assert!(!verify("sec\0ret", crypt.as_bytes()).unwrap());
        assert!(verify("sec\0ret", b"{SSHA}5u9uk/z528j1Wwm/xH1acjbrRVBhYmNk").unwrap());
        // verify never matches them either.
        assert!(!verify("", b"").unwrap());
        assert!(!verify(&long, long.as_bytes()).unwrap());
    }

    #[test]
    fn known_vectors() {
        let cases: &[(&str, &str)] = &[
            // slappasswd 2.5.13 on Debian 12.
            ("secret", "{SSHA}e4IN9J5T/FEE+x45xxmSanZze+LjaYLP"),
            ("secret", "{SSHA512}nX3LTt6ora6DbQHd7GreWZgEJ8R4opY8kQiVD538HKEDYpNr4TGbg2Wyr6nWMBYUV0HxmbJ/cg3Gu9eYPe62iwG9ubPSaojm"),
            ("secret", "{SSHA256}AJGKjDDO/U1MS42u0C/tCr0bGHZriMA7rICoWbi2aL2NVxAqYrPhlw=="),
            ("secret", "{SSHA384}VO2XhSifFafQ12kyFUDjqtAcz1UysbUW9EJvQmhKTv8AAJZW7tbk1/09/Fwmk6pCGDFOFlx345w="),
            ("secret", "{SHA512}vSsar3708Jvp9Szi2NWZZ02Bqp1qRCFpbcTZPdBhnWgs5WtNZKnvCXdhztmeD2cmW192CF5bDufKRpayrW/isg=="),
            ("secret", "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="),
            ("secret", "{SMD5}NbDCnvLBmtyr27Ce1q5w20VRN5E="),
            ("secret", "{MD5}Xr4ilOzQ4PCOq3aQ0qbuaQ=="),
            ("secret", "{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8"),
            ("secret", "{CRYPT}$6$8Me9165WsE5PMjPi$jxr1H5szXPmwm8Sw0Ohwt1Ppa7diH277Gh6751KPRDwfWOSKbIykI/bIHxXMR5/.VrZGsQvQs.n00RbFHMlGq/"),
            // Well-known digests.
            ("password", "{SHA256}XohImNooBHFR0OVvjcYpJ3NgPQ1qq73WKhHvch0VQtg="),
            // The SHA-crypt specification's test vectors and libxcrypt (Debian 12) output.
            ("Hello world!", "{CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
            ("Hello world!", "{CRYPT}$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"),
            ("secret", "{CRYPT}$6$ab$2lDVylRMp48hlYZZFOCx/xnhJEsGPynJ17rt2um9Gb8wX6ygI4uDxg3Bg43pp/Hv397hwWfT8mciHws9eE4sR/"),
            ("secret", "{CRYPT}$6$rounds=10000$abc$3DDOWZMNRRKDT142bUtYQRY52ycK/xshRXOQgIyt2QRXzLDnoPq6v4lO9bA3f/JhGz1mHrAh.QUDGHmaE5RxP."),
            ("secret", "{CRYPT}$6$rounds=5000$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG."),
            ("secret", "{CRYPT}$6$0123456789abcdef$8CGkKDSyVpVlVNcs5PssRw/Tb8EgfecuA6D/zsRQFumJaU.s8KgTWWc2HfgkB7h2n1qIKiJFeSyUFrwvhILXy."),
            ("x", "{CRYPT}$6$a_b-c$4erCIJawWvYT0ym0mv67/Q7z5bLLonqiooy0L3v25ZdhjmeFxGwU8UTucpqyvVVndBWJWazB3WvaBL3OYQ0fq0"),
            ("secret", "{CRYPT}$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA"),
            ("pppppppppppppppppppppppppppppppppppppppp", "{CRYPT}$5$x$XJ8EA1NLtYbdLcgDMpWIsetVm/YdjuBzKEVahOK2GN9"),
            ("secret", "{CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//"),
            ("a much longer password with ünïcödé chars", "{CRYPT}$1$abc$nWbX1BV/b7HUblgvO59w2/"),
            // Cleartext.
            ("secret", "secret"),
            ("{}x", "{}x"),
        ];
        for (pw, stored) in cases {
            assert!(verify(pw, stored.as_bytes()).unwrap(), "{pw} vs {stored}");
            assert!(!verify("Secret", stored.as_bytes()).unwrap(), "{stored}");
        }
    }

    #[test]
    fn sha_crypt_without_rounds_matches_glibc_output_for_our_salt() {
        // The salt truncation to 16 characters is part of the string glibc returns: a stored
        // value with a longer salt can never be a crypt() output, so it never matches.
        assert!(!verify(
            "secret",
            b"{CRYPT}$6$0123456789abcdefXYZ$8CGkKDSyVpVlVNcs5PssRw/Tb8EgfecuA6D/zsRQFumJaU.s8KgTWWc2HfgkB7h2n1qIKiJFeSyUFrwvhILXy."
        )
        .unwrap());
        // libxcrypt refuses rounds below 1000 ("*0"): no match here either.
        assert!(!verify("secret", b"{CRYPT}$6$rounds=100$short$AAAA").unwrap());
    }

    #[test]
    fn scheme_prefixes_are_case_insensitive() {
        let cases = [
            "{ssha}e4IN9J5T/FEE+x45xxmSanZze+LjaYLP",
            "{SsHa}e4IN9J5T/FEE+x45xxmSanZze+LjaYLP",
            "{md5}Xr4ilOzQ4PCOq3aQ0qbuaQ==",
            "{argon2}$argon2i$v=19$m=4096,t=3,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            "{crypt}$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA",
        ];
        for stored in cases {
            assert!(verify("secret", stored.as_bytes()).unwrap(), "{stored}");
        }
        let ours = hash("Correct-Horse-42", Scheme::Ssha512).unwrap();
        let lower = ours.replacen("{SSHA512}", "{ssha512}", 1);
        assert!(verify("Correct-Horse-42", lower.as_bytes()).unwrap());
    }

    #[test]
    fn malformed_values_never_match_and_never_panic() {
        let cases: &[&[u8]] = &[
            b"{SSHA}",
            b"{SSHA}!!!!",
            b"{SSHA}e4IN9J5T/FEE+x45xxmSanZze+LjaYL",  // truncated base64
            b"{SSHA}e4IN9J5T/FEE+x45xxmSanZze+Lj",     // wrong padding
            b"{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",     // a digest without salt
            b"{SHA}e4IN9J5T/FEE+x45xxmSanZze+LjaYLP",  // a digest with a salt
            b"{SHA}5en6G6MezRroT3XKqkdPOmY/BfR=",      // non-canonical trailing bits
            b"{SSHA512}AAAA",
            b"{SHA256}\xff\xfe",
            b"{ARGON2}",
            b"{ARGON2}$",
            b"{ARGON2}$argon2id",
            b"{ARGON2}$argon2x$v=19$m=4096,t=3,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=20$m=4096,t=3,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$t=3,m=4096,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$m=4096,t=0,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$m=1,t=1,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$m=4096,t=3,p=0$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$m=+4096,t=3,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$m=99999999999,t=3,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$m=4194304,t=1,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$m=65536,t=1000,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$J64IdQ$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$J64IdQVa0UpgGY83iBqOBw$MFi",
            b"{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$J64IdQVa0UpgGY83iBqOBw==$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8",
            b"{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8$",
            b"{ARGON2}$argon2i$v=19$m=4096,t=3,p=1$J64IdQVa0UpgGY83iBqOBw$MFi9F+9TfkrfTKVG5FeI1I8aHY9uJGMKyGQGGuc9gU8 ",
            b"{CRYPT}",
            b"{CRYPT}$6$",
            b"{CRYPT}$6$$",
            b"{CRYPT}$6$rounds=",
            b"{CRYPT}$6$rounds=99999999999999999999999$salt$x",
            b"{CRYPT}$6$rounds=999999999$salt$x",
            b"{CRYPT}$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5s",
            b"{CRYPT}$1$",
            b"{CRYPT}$y$j9T$abc$def",
            b"{CRYPT}$2b$10$abcdefghijklmnopqrstuv",
            b"{CRYPT}abJnggxhB/yWI",
            b"{CRYPT}\xff\xff\xff",
            b"{UNKNOWN}secret",
            b"{CLEARTEXT}secret",
            b"{ }secret",
            b"{secret}",
            b"",
            b"\xff",
        ];
        for stored in cases {
            for pw in PASSWORDS {
                assert!(
                    !verify(pw, stored).unwrap(),
                    "{pw} vs {}",
                    String::from_utf8_lossy(stored)
                );
            }
        }
    }

    #[test]
    fn cleartext_follows_slapds_rule() {
        assert!(verify("secret", b"secret").unwrap());
        assert!(!verify("secret", b"secret ").unwrap());
        assert!(!verify("secret", b"Secret").unwrap());
        // A value starting with '{' with a '}' after at least one character is a scheme:
        assert!(!verify("{x}secret", b"{x}secret").unwrap());
        // ... otherwise it is cleartext.
        assert!(verify("{secret", b"{secret").unwrap());
        assert!(verify("{}secret", b"{}secret").unwrap());
    }

    #[test]
    fn is_hashed_and_scheme_of() {
        assert!(is_hashed(b"{SSHA}abc"));
        assert!(is_hashed(b"{x}"));
        assert!(is_hashed(b"{two words}x"));
        assert!(!is_hashed(b"secret"));
        assert!(!is_hashed(b"{}secret"));
        assert!(!is_hashed(b"{secret"));
        assert!(!is_hashed(b""));
        assert_eq!(scheme_of(b"{SSHA512}abc"), Some("SSHA512"));
        assert_eq!(scheme_of(b"{crypt}$6$"), Some("crypt"));
        assert_eq!(scheme_of(b"{PBKDF2-SHA512}x"), Some("PBKDF2-SHA512"));
        assert_eq!(scheme_of(b"{two words}x"), None);
        assert_eq!(scheme_of(b"{\xff}x"), None);
        assert_eq!(scheme_of(b"{A}"), Some("A"));
        assert_eq!(
            scheme_of(format!("{{{}}}", "A".repeat(33)).as_bytes()),
            None
        );
        assert_eq!(scheme_of(b"secret"), None);
        assert!(is_supported_scheme("ssha512"));
        assert!(is_supported_scheme("{ARGON2}"));
        assert!(is_supported_scheme("SMD5"));
        assert!(!is_supported_scheme("PBKDF2"));
        assert!(!is_supported_scheme("CLEARTEXT"));
    }

    #[test]
    fn scheme_names_parse_and_serialize() {
        for &scheme in Scheme::ALL {
            assert_eq!(scheme.as_str().parse::<Scheme>().unwrap(), scheme);
            assert_eq!(scheme.prefix().parse::<Scheme>().unwrap(), scheme);
            assert_eq!(
                scheme.prefix().to_lowercase().parse::<Scheme>().unwrap(),
                scheme
            );
            assert_eq!(
                scheme.as_str().to_uppercase().parse::<Scheme>().unwrap(),
                scheme
            );
            let json = serde_json::to_string(&scheme).unwrap();
            assert_eq!(json, format!("\"{}\"", scheme.as_str()));
            assert_eq!(serde_json::from_str::<Scheme>(&json).unwrap(), scheme);
        }
        assert_eq!(Scheme::default(), Scheme::Argon2);
        assert_eq!(
            serde_json::from_str::<Scheme>("\"{SSHA512}\"").unwrap(),
            Scheme::Ssha512
        );
        let err = "md5".parse::<Scheme>().unwrap_err();
        assert_eq!(err.code(), ErrorCode::ValidationFailed);
        assert!(serde_json::from_str::<Scheme>("\"sha\"").is_err());
        assert_eq!(Scheme::Argon2.slapd_module(), Some("argon2"));
        assert_eq!(Scheme::Ssha512.slapd_module(), Some("pw-sha2"));
        assert_eq!(Scheme::Crypt.slapd_module(), None);
    }

    #[test]
    fn policy_defaults_and_reasons() {
        let policy = PasswordPolicy::default();
        assert_eq!(policy.min_length, 12);
        assert_eq!(policy.min_classes, 3);
        assert_eq!(policy.max_length, MAX_PASSWORD_BYTES);
        for ok in [
            "SecureP@ss123",
            "abcdefghijK1",
            "abcdefghij!K",
            "ABCDEFGHIJ1!",
            "pâsswörd ÜNÏ",
            "Ünïcödé-pässwörd",
        ] {
            policy.check(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        let cases = [
            ("Short1!a", "too_short"),
            ("Ab1!Ab1!Ab1", "too_short"), // 11 chars
            ("äöüäöüäöüÄ1", "too_short"), // 11 chars, 22 bytes
            ("alllowercaseletters", "too_few_classes"),
            ("lowercase12345", "too_few_classes"),
            ("UPPERCASE!!!!!", "too_few_classes"),
        ];
        for (pw, reason) in cases {
            let err = policy.check(pw).unwrap_err();
            assert_eq!(err.code(), ErrorCode::ValidationFailed, "{pw}");
            assert_eq!(err.details()["field"], "userPassword");
            assert_eq!(err.details()["reason"], reason, "{pw}");
            assert_eq!(err.details()["min_length"], 12);
            assert_eq!(err.details()["min_classes"], 3);
            assert!(!err.message().contains(pw));
        }
        let err = policy.check(&"Aa1!".repeat(1025)).unwrap_err();
        assert_eq!(err.details()["reason"], "too_long");
        assert_eq!(err.details()["max_length"], MAX_PASSWORD_BYTES);
        // 12 characters counted as characters, not bytes.
        assert!(policy.check("äöüäöüäöüÄ1!").is_ok());
        let relaxed = PasswordPolicy {
            min_length: 0,
            min_classes: 0,
            max_length: 10,
            history: 0,
        };
        assert!(relaxed.check("").is_ok());
        assert_eq!(
            relaxed.check("01234567890").unwrap_err().details()["reason"],
            "too_long"
        );
        // A ceiling above MAX_PASSWORD_BYTES is capped.
        let huge = PasswordPolicy {
            max_length: usize::MAX,
            ..PasswordPolicy::default()
        };
        assert!(huge.check(&"Aa1!".repeat(2000)).is_err());
        assert_eq!(character_classes("aA1!"), 4);
        assert_eq!(character_classes("日本語"), 1);
        assert_eq!(character_classes(""), 0);
    }

    // ---- cross-checks with the real OpenLDAP tools ------------------------------------------

    #[test]
    fn verifies_slappasswd_ssha() {
        for pw in PASSWORDS {
            let stored = slappasswd(pw, &["-h", "{SSHA}"]);
            assert!(stored.starts_with("{SSHA}"), "{stored}");
            assert!(verify(pw, stored.as_bytes()).unwrap(), "{pw}: {stored}");
            assert!(!verify("nope", stored.as_bytes()).unwrap());
        }
    }

    #[test]
    fn verifies_slappasswd_sha2_module() {
        for scheme in [
            "{SSHA512}",
            "{SSHA384}",
            "{SSHA256}",
            "{SHA512}",
            "{SHA256}",
        ] {
            for pw in PASSWORDS {
                let stored = slappasswd(pw, &["-o", "module-load=pw-sha2", "-h", scheme]);
                assert!(stored.starts_with(scheme), "{stored}");
                assert!(verify(pw, stored.as_bytes()).unwrap(), "{pw}: {stored}");
                assert!(!verify("nope", stored.as_bytes()).unwrap());
            }
        }
    }

    #[test]
    fn verifies_slappasswd_argon2_module() {
        for pw in PASSWORDS {
            let stored = slappasswd(pw, &["-o", "module-load=argon2", "-h", "{ARGON2}"]);
            assert!(stored.starts_with("{ARGON2}$argon2"), "{stored}");
            assert!(verify(pw, stored.as_bytes()).unwrap(), "{pw}: {stored}");
            assert!(!verify("nope", stored.as_bytes()).unwrap());
        }
    }

    #[test]
    fn verifies_slappasswd_crypt() {
        for format in ["$6$%.16s", "$5$%.16s", "$1$%.8s", "$6$rounds=10000$%.16s"] {
            for pw in PASSWORDS {
                let stored = slappasswd(pw, &["-h", "{CRYPT}", "-c", format]);
                assert!(stored.starts_with("{CRYPT}$"), "{stored}");
                assert!(verify(pw, stored.as_bytes()).unwrap(), "{pw}: {stored}");
                assert!(!verify("nope", stored.as_bytes()).unwrap());
            }
        }
    }

    #[test]
    fn verifies_slappasswd_builtin_legacy() {
        for scheme in ["{SHA}", "{SMD5}", "{MD5}"] {
            for pw in PASSWORDS {
                let stored = slappasswd(pw, &["-h", scheme]);
                assert!(verify(pw, stored.as_bytes()).unwrap(), "{pw}: {stored}");
                assert!(!verify("nope", stored.as_bytes()).unwrap());
            }
        }
    }
}
