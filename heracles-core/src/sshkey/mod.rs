//! OpenSSH public keys: the one-line format of `id_ed25519.pub` and `authorized_keys`
//! (`type base64 comment`), parsed and checked the way `ssh-keygen` reads them, with the
//! SHA-256 fingerprint `ssh-keygen -l` prints.
//!
//! What [`PublicKey::parse`] accepts:
//!
//! * one line `TYPE BASE64 [COMMENT]` (blanks around it, such as the line end of a `.pub`
//!   file, are dropped; the comment is everything after the key data and may hold spaces);
//! * the types `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ecdsa-sha2-nistp384`,
//!   `ecdsa-sha2-nistp521`, `ssh-rsa` (at least [`MIN_RSA_BITS`] bits, at most
//!   [`MAX_RSA_BITS`]), `sk-ssh-ed25519@openssh.com` and
//!   `sk-ecdsa-sha2-nistp256@openssh.com` (security-key backed);
//! * key data that is standard base64 of the SSH wire format (RFC 4253 §6.6), whose inner
//!   type is the declared one, with nothing left over; ECDSA points must lie on their
//!   curve (as `ssh-keygen` requires), RSA exponents and moduli must be odd.
//!
//! What it refuses (`VALIDATION_FAILED`, field `public_key`, a `reason` detail): several
//! lines, `authorized_keys` options before the type (`from="…"`, `command="…"`,
//! `no-pty`, …: `options_not_supported` — they would change what the key may do on every
//! server that reads it; put such restrictions in `sshd_config`), other types (DSA,
//! certificates), PEM or RFC 4716 files and private keys, bad base64, truncated or
//! inconsistent key data, RSA keys under 2048 bits, control characters in the comment.
//!
//! ```
//! use heracles_core::sshkey::{KeyType, PublicKey};
//!
//! let key = PublicKey::parse(
//!     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R \
//!      jdoe@laptop\n",
//! )?;
//! assert_eq!(key.key_type(), KeyType::Ed25519);
//! assert_eq!(key.bits(), 256);
//! assert_eq!(key.comment(), Some("jdoe@laptop"));
//! // What `ssh-keygen -l -f` prints for it:
//! assert_eq!(key.fingerprint(), "SHA256:RRt45AtypHTW+E4tmCXFI68jHWkMxUhNba5VeNZPm7Y");
//! // The same digest, URL-safe: the key's id in the REST API.
//! assert_eq!(key.id(), "RRt45AtypHTW-E4tmCXFI68jHWkMxUhNba5VeNZPm7Y");
//! assert!(key.to_line().starts_with("ssh-ed25519 AAAAC3Nza"));
//!
//! let e = PublicKey::parse("ssh-rsa AAAA").unwrap_err();
//! assert_eq!(e.details()["reason"], "truncated");
//! # Ok::<(), heracles_core::Error>(())
//! ```

mod ec;

use std::fmt;

use base64ct::{Base64, Base64Unpadded, Base64UrlUnpadded, Encoding};
use sha2::{Digest, Sha256};

use self::ec::Curve;
use crate::directory::truncate;
use crate::error::{Error, Result};

/// The smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: u32 = 2048;
/// The largest RSA modulus accepted, in bits (OpenSSH's own limit).
pub const MAX_RSA_BITS: u32 = 16384;
/// The longest key line accepted, in bytes.
pub const MAX_LINE_LEN: usize = 8192;
/// The longest comment accepted, in bytes.
pub const MAX_COMMENT_LEN: usize = 1024;

/// The key types Heracles stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `ssh-ed25519`.
    Ed25519,
    /// `ecdsa-sha2-nistp256`.
    EcdsaP256,
    /// `ecdsa-sha2-nistp384`.
    EcdsaP384,
    /// `ecdsa-sha2-nistp521`.
    EcdsaP521,
    /// `ssh-rsa`.
    Rsa,
    /// `sk-ssh-ed25519@openssh.com` (FIDO security key).
    SkEd25519,
    /// `sk-ecdsa-sha2-nistp256@openssh.com` (FIDO security key).
    SkEcdsaP256,
}

impl KeyType {
    /// Every supported type.
    pub const ALL: &'static [KeyType] = &[
        KeyType::Ed25519,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Rsa,
        KeyType::SkEd25519,
        KeyType::SkEcdsaP256,
    ];

    /// The name in key lines and in the key data, e.g. `"ssh-ed25519"`.
    pub const fn name(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ssh-ed25519",
            KeyType::EcdsaP256 => "ecdsa-sha2-nistp256",
            KeyType::EcdsaP384 => "ecdsa-sha2-nistp384",
            KeyType::EcdsaP521 => "ecdsa-sha2-nistp521",
            KeyType::Rsa => "ssh-rsa",
            KeyType::SkEd25519 => "sk-ssh-ed25519@openssh.com",
            KeyType::SkEcdsaP256 => "sk-ecdsa-sha2-nistp256@openssh.com",
        }
    }

    /// The type of a name (exact, as OpenSSH compares them).
    pub fn from_name(name: &str) -> Option<KeyType> {
        KeyType::ALL.iter().copied().find(|t| t.name() == name)
    }

    fn curve(self) -> Option<(Curve, &'static str)> {
        match self {
            KeyType::EcdsaP256 | KeyType::SkEcdsaP256 => Some((Curve::P256, "nistp256")),
            KeyType::EcdsaP384 => Some((Curve::P384, "nistp384")),
            KeyType::EcdsaP521 => Some((Curve::P521, "nistp521")),
            _ => None,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A checked OpenSSH public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    key_type: KeyType,
    blob: Vec<u8>,
    bits: u32,
    comment: Option<String>,
}

fn invalid(reason: &str, message: impl Into<String>) -> Error {
    Error::validation("public_key", message).with_detail("reason", reason)
}

fn supported_list() -> String {
    KeyType::ALL
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn unsupported(name: &str) -> Error {
    invalid(
        "unsupported_type",
        format!(
            "'{}' is not a supported key type (supported: {})",
            truncate(name, 80),
            supported_list()
        ),
    )
    .with_detail("type", truncate(name, 80))
}

impl PublicKey {
    /// Parses and checks one key line (see the [module docs](self)).
    pub fn parse(line: &str) -> Result<PublicKey> {
        if line.len() > MAX_LINE_LEN {
            return Err(invalid(
                "too_long",
                format!("a public key line has at most {MAX_LINE_LEN} bytes"),
            ));
        }
        let line = line.trim_matches(|c: char| c.is_ascii_whitespace());
        if line.is_empty() {
            return Err(invalid("empty", "the public key is empty"));
        }
        if line.starts_with("-----BEGIN") && line.contains("PRIVATE KEY") {
            return Err(invalid(
                "private_key",
                "this is a private key: never send it anywhere; give the public key \
                 (the .pub file) instead",
            ));
        }
        if line.starts_with("-----BEGIN") || line.starts_with("---- BEGIN") {
            return Err(invalid(
                "wrong_format",
                "this is a PEM or RFC 4716 file; give the OpenSSH one-line format \
                 (`ssh-keygen -i -f FILE` converts it)",
            ));
        }
        if line.contains(['\n', '\r']) {
            return Err(invalid(
                "multiple_lines",
                "one key per request: the value holds several lines",
            ));
        }
        let (first, rest) = split_token(line);
        if KeyType::from_name(first).is_none() {
            // Options come before a type: `no-pty,from="…" ssh-ed25519 AAAA…`.
            let later = rest
                .split([' ', '\t'])
                .any(|t| KeyType::from_name(t).is_some());
            if later || first.contains('=') {
                return Err(invalid(
                    "options_not_supported",
                    format!(
                        "authorized_keys options ('{}') are not accepted: the line must start \
                         with the key type; put such restrictions in sshd_config",
                        truncate(first, 80)
                    ),
                ));
            }
            return Err(unsupported(first));
        }
        Self::parse_key(first, rest)
    }

    /// `TYPE` and what follows it (`BASE64 [COMMENT]`).
    fn parse_key(declared: &str, rest: &str) -> Result<PublicKey> {
        let (data, comment) = split_token(rest);
        if data.is_empty() {
            return Err(invalid(
                "missing_key_data",
                format!("the key data (base64) is missing after '{declared}'"),
            ));
        }
        let blob = Base64::decode_vec(data).map_err(|_| {
            invalid(
                "bad_base64",
                format!("the key data '{}' is not valid base64", truncate(data, 40)),
            )
        })?;
        let comment = comment.trim_matches(|c: char| c == ' ' || c == '\t');
        let comment = if comment.is_empty() {
            None
        } else {
            if comment.len() > MAX_COMMENT_LEN {
                return Err(invalid(
                    "comment_too_long",
                    format!("the comment has more than {MAX_COMMENT_LEN} bytes"),
                ));
            }
            if comment.chars().any(char::is_control) {
                return Err(invalid(
                    "invalid_comment",
                    "the comment must not contain control characters",
                ));
            }
            Some(comment.to_owned())
        };
        let (key_type, bits) = check_blob(declared, &blob)?;
        Ok(PublicKey {
            key_type,
            blob,
            bits,
            comment,
        })
    }

    /// Parses a value as stored in a directory, more leniently than [`PublicKey::parse`]:
    /// `authorized_keys` options before the type are allowed (and returned), as other
    /// tools may have written them.
    pub fn parse_stored(value: &str) -> Result<(Option<String>, PublicKey)> {
        let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
        let (first, _) = split_token(value);
        if KeyType::from_name(first).is_some() || value.contains(['\n', '\r']) {
            return Ok((None, Self::parse(value)?));
        }
        let end = options_end(value);
        let (options, rest) = value.split_at(end);
        let rest = rest.trim_start_matches([' ', '\t']);
        let (declared, after) = split_token(rest);
        if KeyType::from_name(declared).is_none() {
            return Err(unsupported(declared));
        }
        Ok((Some(options.to_owned()), Self::parse_key(declared, after)?))
    }

    /// Its type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The key data (SSH wire format).
    pub fn blob(&self) -> &[u8] {
        &self.blob
    }

    /// Its size in bits, as `ssh-keygen -l` prints it (256 for Ed25519, the curve size for
    /// ECDSA, the modulus size for RSA).
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// The comment, if the line had one.
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// `SHA256:` and the unpadded base64 of the SHA-256 of the key data: what
    /// `ssh-keygen -l` prints.
    pub fn fingerprint(&self) -> String {
        format!(
            "SHA256:{}",
            Base64Unpadded::encode_string(&Sha256::digest(&self.blob))
        )
    }

    /// The fingerprint in URL-safe form (base64url of the SHA-256, no padding): usable as
    /// one path segment.
    pub fn id(&self) -> String {
        Base64UrlUnpadded::encode_string(&Sha256::digest(&self.blob))
    }

    /// The canonical line: `TYPE BASE64` and, when there is one, ` COMMENT`.
    pub fn to_line(&self) -> String {
        let mut line = format!("{} {}", self.key_type, Base64::encode_string(&self.blob));
        if let Some(c) = &self.comment {
            line.push(' ');
            line.push_str(c);
        }
        line
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_line())
    }
}

/// The id ([`PublicKey::id`]) of a fingerprint written as `ssh-keygen` prints it
/// (`SHA256:…`); `None` if it is not one.
///
/// ```
/// use heracles_core::sshkey::id_of_fingerprint;
/// assert_eq!(
///     id_of_fingerprint("SHA256:RRt45AtypHTW+E4tmCXFI68jHWkMxUhNba5VeNZPm7Y").as_deref(),
///     Some("RRt45AtypHTW-E4tmCXFI68jHWkMxUhNba5VeNZPm7Y")
/// );
/// assert_eq!(id_of_fingerprint("MD5:00:11"), None);
/// ```
pub fn id_of_fingerprint(fingerprint: &str) -> Option<String> {
    let digest = Base64Unpadded::decode_vec(fingerprint.strip_prefix("SHA256:")?).ok()?;
    (digest.len() == 32).then(|| Base64UrlUnpadded::encode_string(&digest))
}

/// The id of a stored value that is not a key this module reads: the URL-safe SHA-256 of
/// the value itself (never equal to a key's id, which hashes the key data).
pub fn id_of_value(value: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(&Sha256::digest(value))
}

/// The first token of `s` (up to a space or tab) and the rest after the blanks.
fn split_token(s: &str) -> (&str, &str) {
    match s.find([' ', '\t']) {
        Some(i) => (&s[..i], s[i..].trim_start_matches([' ', '\t'])),
        None => (s, ""),
    }
}

/// Where the options of an `authorized_keys` line end: the first blank outside double
/// quotes (a backslash escapes a quote).
fn options_end(s: &str) -> usize {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => return i,
            _ => {}
        }
    }
    s.len()
}

/// A reader of SSH wire-format fields.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn string(&mut self) -> Result<&'a [u8]> {
        let truncated = || invalid("truncated", "the key data is truncated");
        let (len, rest) = self.0.split_first_chunk::<4>().ok_or_else(truncated)?;
        let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| truncated())?;
        if rest.len() < len {
            return Err(truncated());
        }
        let (value, rest) = rest.split_at(len);
        self.0 = rest;
        Ok(value)
    }

    /// A positive multiple-precision integer (RFC 4251 §5), without its leading zeros.
    fn mpint(&mut self, what: &str) -> Result<&'a [u8]> {
        let v = self.string()?;
        if v.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(invalid(
                "invalid_key",
                format!("the RSA {what} is negative"),
            ));
        }
        let start = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        Ok(&v[start..])
    }

    fn end(&self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(invalid(
                "trailing_data",
                "the key data has bytes after the key",
            ))
        }
    }
}

fn bit_length(magnitude: &[u8]) -> u32 {
    match magnitude.first() {
        None => 0,
        Some(first) => {
            let len = u32::try_from(magnitude.len()).unwrap_or(u32::MAX / 8);
            (len - 1) * 8 + (8 - first.leading_zeros())
        }
    }
}

/// Checks the key data against the declared type; answers the type and the size in bits.
fn check_blob(declared: &str, blob: &[u8]) -> Result<(KeyType, u32)> {
    let mut f = Fields(blob);
    let inner = f.string()?;
    if inner != declared.as_bytes() {
        return Err(invalid(
            "type_mismatch",
            format!(
                "the line says '{declared}' but the key data is of type '{}'",
                truncate(&String::from_utf8_lossy(inner), 80)
            ),
        )
        .with_detail("type", declared));
    }
    let key_type = KeyType::from_name(declared).ok_or_else(|| unsupported(declared))?;
    let bits = match key_type {
        KeyType::Ed25519 | KeyType::SkEd25519 => {
            if f.string()?.len() != 32 {
                return Err(invalid("invalid_key", "an Ed25519 public key has 32 bytes"));
            }
            if key_type == KeyType::SkEd25519 {
                f.string()?; // application, e.g. "ssh:"
            }
            256
        }
        KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521 | KeyType::SkEcdsaP256 => {
            let Some((curve, curve_name)) = key_type.curve() else {
                return Err(unsupported(declared));
            };
            let named = f.string()?;
            if named != curve_name.as_bytes() {
                return Err(invalid(
                    "type_mismatch",
                    format!(
                        "the key data names the curve '{}', not {curve_name}",
                        truncate(&String::from_utf8_lossy(named), 40)
                    ),
                ));
            }
            if !curve.contains_uncompressed(f.string()?) {
                return Err(invalid(
                    "invalid_key",
                    format!("the ECDSA public key is not a point of {curve_name}"),
                ));
            }
            if key_type == KeyType::SkEcdsaP256 {
                f.string()?; // application
            }
            curve.bits()
        }
        KeyType::Rsa => {
            let e = f.mpint("exponent")?;
            let n = f.mpint("modulus")?;
            let odd = |m: &[u8]| m.last().is_some_and(|b| b & 1 == 1);
            if !odd(e) || bit_length(e) < 2 {
                return Err(invalid(
                    "invalid_key",
                    "the RSA public exponent must be odd and at least 3",
                ));
            }
            if !odd(n) {
                return Err(invalid("invalid_key", "the RSA modulus must be odd"));
            }
            let bits = bit_length(n);
            if bits < MIN_RSA_BITS {
                return Err(invalid(
                    "rsa_too_small",
                    format!("RSA keys need at least {MIN_RSA_BITS} bits; this one has {bits}"),
                )
                .with_detail("bits", bits));
            }
            if bits > MAX_RSA_BITS {
                return Err(invalid(
                    "rsa_too_large",
                    format!("RSA keys have at most {MAX_RSA_BITS} bits; this one has {bits}"),
                )
                .with_detail("bits", bits));
            }
            bits
        }
    };
    f.end()?;
    Ok((key_type, bits))
}

#[cfg(test)]
mod tests;
