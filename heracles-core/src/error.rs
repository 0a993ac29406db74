//! The one error type of Heracles.
//!
//! Every fallible operation of the core returns [`Result<T>`], whose error is an [`Error`]:
//! a stable, machine-readable [`ErrorCode`], a human-readable message, and structured
//! `details` (a JSON object). The fronts render it as they need: the REST server maps the code
//! to an HTTP status in exactly one place and renders the SPEC envelope
//! `{"error": {"code", "message", "details"}}`; the Python package raises an exception
//! carrying the same three fields. The core knows nothing of HTTP.
//!
//! LDAP result codes are translated into error codes in one place, [`Error::from_ldap`].
//!
//! ```
//! use heracles_core::error::{Error, ErrorCode};
//!
//! let err = Error::new(ErrorCode::UserNotFound, "User with uid 'jdoe' not found")
//!     .with_detail("uid", "jdoe");
//! assert_eq!(err.code().as_str(), "USER_NOT_FOUND");
//! assert_eq!(err.details()["uid"], "jdoe");
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Result type of the whole core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal, )*) => {
        /// A stable identifier of what went wrong. Its text form (`as_str`, serde) is
        /// SCREAMING_SNAKE_CASE and never changes once released: clients match on it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The stable text form, e.g. `"USER_NOT_FOUND"`.
            pub const fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $text, )* }
            }

            /// Parses the text form back into a code.
            pub fn from_name(name: &str) -> Option<ErrorCode> {
                match name { $( $text => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

error_codes! {
    // ---- not found ---------------------------------------------------------------------
    /// No entry at the given DN (LDAP 32 on read, modify, delete, rename, compare).
    EntryNotFound = "ENTRY_NOT_FOUND",
    /// The parent of an entry being added (or the new superior of a rename) does not exist
    /// (LDAP 32 on add; on a rename, when the entry itself exists).
    ParentNotFound = "PARENT_NOT_FOUND",
    /// No user with that uid.
    UserNotFound = "USER_NOT_FOUND",
    /// No group with that cn.
    GroupNotFound = "GROUP_NOT_FOUND",
    /// No department with that ou / DN.
    DepartmentNotFound = "DEPARTMENT_NOT_FOUND",
    /// No template with that name.
    TemplateNotFound = "TEMPLATE_NOT_FOUND",
    /// No setting with that key.
    SettingNotFound = "SETTING_NOT_FOUND",
    /// No DNS zone with that name.
    ZoneNotFound = "ZONE_NOT_FOUND",
    /// No DNS record with that name and type.
    RecordNotFound = "RECORD_NOT_FOUND",
    /// No DHCP object (service, subnet, pool, host) with that name.
    DhcpNotFound = "DHCP_NOT_FOUND",
    /// No system with that cn.
    SystemNotFound = "SYSTEM_NOT_FOUND",
    /// No sudo rule with that cn.
    SudoRuleNotFound = "SUDO_RULE_NOT_FOUND",
    /// No ACL policy with that name.
    PolicyNotFound = "POLICY_NOT_FOUND",
    /// No ACL assignment with that id.
    AssignmentNotFound = "ASSIGNMENT_NOT_FOUND",
    /// No SSH key with that id on the user.
    SshKeyNotFound = "SSH_KEY_NOT_FOUND",
    /// A generic "no such resource" for routes without a more specific code.
    NotFound = "NOT_FOUND",

    // ---- conflicts ---------------------------------------------------------------------
    /// An entry with that DN (or that unique key) already exists (LDAP 68).
    AlreadyExists = "ALREADY_EXISTS",
    /// A value being added is already present on the attribute (LDAP 20).
    ValueAlreadyExists = "VALUE_ALREADY_EXISTS",
    /// The entry changed since the client read it (`If-Match` mismatch).
    PreconditionFailed = "PRECONDITION_FAILED",

    // ---- bad input ---------------------------------------------------------------------
    /// A filter (RFC 4515 or `attr:op:value`) could not be parsed or is not allowed.
    InvalidFilter = "INVALID_FILTER",
    /// A distinguished name could not be parsed (RFC 4514) or is not acceptable here
    /// (LDAP 34).
    InvalidDn = "INVALID_DN",
    /// A `limit`/`offset` outside the allowed range.
    InvalidPagination = "INVALID_PAGINATION",
    /// A request body is not well-formed JSON (the message names the line and column).
    InvalidJson = "INVALID_JSON",
    /// A request that cannot be read or understood as a whole: an unreadable body, a path
    /// or query string that is not valid percent-encoded UTF-8.
    BadRequest = "BAD_REQUEST",
    /// A request body in a media type the operation does not accept (JSON bodies need
    /// `Content-Type: application/json`).
    UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE",
    /// The resource exists but does not support this method (the REST server adds the
    /// methods it supports).
    MethodNotAllowed = "METHOD_NOT_ALLOWED",
    /// A field failed validation (syntax, length, range; LDAP 21 invalid attribute syntax).
    ValidationFailed = "VALIDATION_FAILED",
    /// The entry would violate the directory schema: missing structural object class,
    /// missing required attribute, attribute not allowed or unknown, RDN not in the entry
    /// (LDAP 17, 64, 65, 67, 69). (slapd reports an unknown object class as invalid syntax,
    /// 21 → `VALIDATION_FAILED`.)
    SchemaViolation = "SCHEMA_VIOLATION",
    /// The directory refused a value because of a constraint (LDAP 19: a second value of a
    /// SINGLE-VALUE attribute, password quality or history from ppolicy, a unique-attribute
    /// overlay).
    ConstraintViolation = "CONSTRAINT_VIOLATION",
    /// The value or attribute to delete is not present (LDAP 16).
    NoSuchAttribute = "NO_SUCH_ATTRIBUTE",
    /// An inappropriate matching rule was requested (LDAP 18).
    InappropriateMatching = "INAPPROPRIATE_MATCHING",

    // ---- business rules ----------------------------------------------------------------
    /// The entry still has children (LDAP 66).
    NotAllowedOnNonLeaf = "NOT_ALLOWED_ON_NON_LEAF",
    /// The directory will not perform the operation (LDAP 53; 71 for a rename that would
    /// move an entry between naming contexts, such as renaming the suffix).
    UnwillingToPerform = "UNWILLING_TO_PERFORM",
    /// A business rule was violated (id range exhausted, non-empty department, ...).
    BusinessRuleViolation = "BUSINESS_RULE_VIOLATION",
    /// The directory limits the request (LDAP 4 size limit, 11 admin limit exceeded).
    SizeLimitExceeded = "SIZE_LIMIT_EXCEEDED",

    // ---- authentication and authorisation ---------------------------------------------
    /// Wrong user name or password (LDAP 49). Deliberately says nothing about which.
    InvalidCredentials = "INVALID_CREDENTIALS",
    /// No valid token: missing, malformed, expired or revoked.
    Unauthenticated = "UNAUTHENTICATED",
    /// The caller lacks the permission (Heracles ACL, or LDAP 50 from the directory).
    AclDenied = "ACL_DENIED",
    /// Too many attempts; retry later.
    RateLimited = "RATE_LIMITED",
    /// The account is locked. Recorded as the result of the audit event of a failed login;
    /// the login itself answers `INVALID_CREDENTIALS`, the same as for a wrong password or
    /// an unknown user (SPEC §2).
    AccountLocked = "ACCOUNT_LOCKED",

    // ---- the directory itself -----------------------------------------------------------
    /// The directory cannot be reached, the connection was lost, or it is busy/unavailable
    /// (LDAP 51, 52, connection errors).
    DirectoryUnavailable = "DIRECTORY_UNAVAILABLE",
    /// The directory did not answer in time (client timeout, LDAP 3).
    Timeout = "TIMEOUT",
    /// The directory answered with an error Heracles does not translate more precisely.
    DirectoryError = "DIRECTORY_ERROR",
    /// The audit event of a change could not be written (after retries), so the change was
    /// not made: a change to the directory is never left unaudited. Retry later.
    AuditUnavailable = "AUDIT_UNAVAILABLE",
    /// The request is too large (body size, filter length).
    PayloadTooLarge = "PAYLOAD_TOO_LARGE",
    /// A fault inside Heracles: a bug, or a configuration that cannot work.
    Internal = "INTERNAL",
    /// The configuration is invalid (bad URL, unreadable CA file, ...).
    InvalidConfig = "INVALID_CONFIG",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ErrorCode::from_name(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown error code '{s}'")))
    }
}

/// The LDAP operation during which a result code was received; the same code means
/// different things for different operations (32 on add is a missing parent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LdapOperation {
    /// Connect and bind of the service account.
    Connect,
    /// Bind as a user to check a password.
    CheckPassword,
    /// Search or read.
    Search,
    /// Add.
    Add,
    /// Modify.
    Modify,
    /// Delete.
    Delete,
    /// Modify DN.
    Rename,
    /// Compare.
    Compare,
}

impl LdapOperation {
    /// Lower-case name used in error details.
    pub const fn as_str(self) -> &'static str {
        match self {
            LdapOperation::Connect => "connect",
            LdapOperation::CheckPassword => "bind",
            LdapOperation::Search => "search",
            LdapOperation::Add => "add",
            LdapOperation::Modify => "modify",
            LdapOperation::Delete => "delete",
            LdapOperation::Rename => "rename",
            LdapOperation::Compare => "compare",
        }
    }
}

/// The error of every fallible core operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    code: ErrorCode,
    message: String,
    details: Map<String, Value>,
}

impl Error {
    /// A new error with a code and a message, without details.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            details: Map::new(),
        }
    }

    /// Adds (or replaces) one structured detail.
    #[must_use]
    pub fn with_detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }

    /// Replaces the code, keeping message and details (e.g. a service turning
    /// `ENTRY_NOT_FOUND` into `USER_NOT_FOUND`).
    #[must_use]
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = code;
        self
    }

    /// Replaces the message.
    #[must_use]
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Structured details (a JSON object, possibly empty).
    pub fn details(&self) -> &Map<String, Value> {
        &self.details
    }

    /// The envelope of SPEC §1: `{"error": {"code", "message", "details"?}}`.
    pub fn to_envelope(&self) -> Value {
        let mut inner = Map::new();
        inner.insert("code".into(), Value::from(self.code.as_str()));
        inner.insert("message".into(), Value::from(self.message.clone()));
        if !self.details.is_empty() {
            inner.insert("details".into(), Value::Object(self.details.clone()));
        }
        let mut outer = Map::new();
        outer.insert("error".into(), Value::Object(inner));
        Value::Object(outer)
    }

    /// Shorthand for a `VALIDATION_FAILED` error on one field.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Error::new(ErrorCode::ValidationFailed, message).with_detail("field", field)
    }

    /// Shorthand for an `INTERNAL` error.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorCode::Internal, message)
    }

    /// Translates an LDAP result code into an error. This is the only place where LDAP
    /// result codes (RFC 4511 §4.1.9) become Heracles error codes.
    ///
    /// `dn` is the entry the operation was about, `text` the server's diagnostic message.
    pub fn from_ldap(op: LdapOperation, rc: u32, dn: &str, text: &str) -> Self {
        use ErrorCode as C;
        let (code, message) = match rc {
            3 => (
                C::Timeout,
                "the directory's time limit was exceeded".to_owned(),
            ),
            4 | 11 => (
                C::SizeLimitExceeded,
                "the directory's size or administrative limit was exceeded".to_owned(),
            ),
            16 => (
                C::NoSuchAttribute,
                format!("attribute or value not present on '{dn}'"),
            ),
            17 | 64 | 65 | 67 | 69 => (C::SchemaViolation, format!("schema violation on '{dn}'")),
            18 => (
                C::InappropriateMatching,
                "inappropriate matching rule for this attribute".to_owned(),
            ),
            19 => (
                C::ConstraintViolation,
                format!("constraint violation on '{dn}'"),
            ),
            20 => (
                C::ValueAlreadyExists,
                format!("value already present on '{dn}'"),
            ),
            21 => (
                C::ValidationFailed,
                format!("invalid attribute syntax on '{dn}'"),
            ),
            32 if op == LdapOperation::Add => (
                C::ParentNotFound,
                format!("the parent of '{dn}' does not exist"),
            ),
            32 => (C::EntryNotFound, format!("no entry '{dn}'")),
            34 => (C::InvalidDn, format!("invalid DN syntax: '{dn}'")),
            48 | 49 if op == LdapOperation::Connect => (
                C::InvalidConfig,
                "the directory refused the service account's credentials".to_owned(),
            ),
            48 | 49 => (C::InvalidCredentials, "invalid credentials".to_owned()),
            50 => (
                C::AclDenied,
                format!("the directory denied the {} of '{dn}'", op.as_str()),
            ),
            51 | 52 => (
                C::DirectoryUnavailable,
                "the directory is busy or unavailable".to_owned(),
            ),
            53 | 71 => (
                C::UnwillingToPerform,
                format!("the directory is unwilling to perform the {}", op.as_str()),
            ),
            66 => (
                C::NotAllowedOnNonLeaf,
                format!("'{dn}' has children and cannot be deleted or renamed"),
            ),
            68 => (C::AlreadyExists, format!("entry '{dn}' already exists")),
            122 => (
                C::PreconditionFailed,
                format!("'{dn}' has changed since it was read (assertion failed)"),
            ),
            87 => (
                C::InvalidFilter,
                "the directory rejected the filter".to_owned(),
            ),
            _ => (
                C::DirectoryError,
                format!(
                    "the directory failed the {} (result code {rc})",
                    op.as_str()
                ),
            ),
        };
        // The server's diagnostic says what exactly was wrong (e.g. which attribute is
        // missing); keep it in the message as well as in the details.
        let message = if text.is_empty() || matches!(code, C::InvalidCredentials) {
            message
        } else {
            format!("{message}: {}", text.trim_end_matches('\0').trim())
        };
        let mut err = Error::new(code, message)
            .with_detail("ldap_result_code", rc)
            .with_detail("operation", op.as_str());
        if !dn.is_empty() {
            err = err.with_detail("dn", dn);
        }
        if !text.is_empty() {
            err = err.with_detail("ldap_message", text);
        }
        err
    }

    /// The directory could not be reached or the connection broke.
    pub fn unavailable(reason: impl fmt::Display) -> Self {
        Error::new(
            ErrorCode::DirectoryUnavailable,
            format!("the directory is unreachable: {reason}"),
        )
    }

    /// An operation did not complete within its time limit.
    pub fn timeout(op: LdapOperation, after: std::time::Duration) -> Self {
        Error::new(
            ErrorCode::Timeout,
            format!(
                "the directory did not answer the {} within {} ms",
                op.as_str(),
                after.as_millis()
            ),
        )
        .with_detail("operation", op.as_str())
        .with_detail(
            "timeout_ms",
            u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(*code));
            let s = code.as_str();
            assert!(s
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit()));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            let back: ErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *code);
        }
        assert_eq!(ErrorCode::from_name("NOPE"), None);
    }

    #[test]
    fn ldap_codes_map_in_one_place() {
        use LdapOperation as O;
        let cases = [
            (O::Search, 32, ErrorCode::EntryNotFound),
            (O::Add, 32, ErrorCode::ParentNotFound),
            (O::Rename, 32, ErrorCode::EntryNotFound),
            (O::Add, 68, ErrorCode::AlreadyExists),
            (O::Modify, 50, ErrorCode::AclDenied),
            (O::Add, 65, ErrorCode::SchemaViolation),
            (O::Modify, 19, ErrorCode::ConstraintViolation),
            (O::Delete, 66, ErrorCode::NotAllowedOnNonLeaf),
            (O::Delete, 53, ErrorCode::UnwillingToPerform),
            (O::Search, 11, ErrorCode::SizeLimitExceeded),
            (O::Search, 4, ErrorCode::SizeLimitExceeded),
            (O::CheckPassword, 49, ErrorCode::InvalidCredentials),
            (O::Search, 52, ErrorCode::DirectoryUnavailable),
            (O::Search, 3, ErrorCode::Timeout),
            (O::Search, 80, ErrorCode::DirectoryError),
        ];
        for (op, rc, code) in cases {
            let e = Error::from_ldap(op, rc, "uid=x,dc=example,dc=com", "diag");
            assert_eq!(e.code(), code, "rc {rc} op {op:?}");
            assert_eq!(e.details()["ldap_result_code"], rc);
            assert_eq!(e.details()["ldap_message"], "diag");
        }
    }

    #[test]
    fn envelope_shape() {
        let e = Error::new(ErrorCode::UserNotFound, "User with uid 'jdoe' not found")
            .with_detail("uid", "jdoe");
        let v = e.to_envelope();
        assert_eq!(v["error"]["code"], "USER_NOT_FOUND");
        assert_eq!(v["error"]["message"], "User with uid 'jdoe' not found");
        assert_eq!(v["error"]["details"]["uid"], "jdoe");
        let bare = Error::new(ErrorCode::Internal, "x").to_envelope();
        assert!(bare["error"].get("details").is_none());
    }
}
