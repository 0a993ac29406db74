//! From the core's [`Error`] to an HTTP answer: the one place where an [`ErrorCode`] becomes
//! a status code ([`status_of`]), and the rendering of the SPEC §1 envelope
//! `{"error": {"code", "message", "details"?}}`.
//!
//! 503 answers (directory unavailable or timed out, request time limit, a change refused
//! because its audit event could not be written) carry
//! `Retry-After: 5`; 429 answers carry the `retry_after` detail (seconds) when the core gives
//! one, else 60.

use heracles_core::error::{Error, ErrorCode};
use http::{header, HeaderValue, StatusCode};

use crate::reply::Reply;

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_UNAVAILABLE: u64 = 5;
/// Seconds a client should wait before retrying after a 429 without a `retry_after` detail.
pub const RETRY_AFTER_RATE_LIMITED: u64 = 60;

/// The HTTP status of an error code (SPEC §1). The only such mapping of the server.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::EntryNotFound
        | C::ParentNotFound
        | C::UserNotFound
        | C::GroupNotFound
        | C::DepartmentNotFound
        | C::TemplateNotFound
        | C::SettingNotFound
        | C::ZoneNotFound
        | C::RecordNotFound
        | C::DhcpNotFound
        | C::SystemNotFound
        | C::SudoRuleNotFound
        | C::PolicyNotFound
        | C::AssignmentNotFound
        | C::SshKeyNotFound
        | C::NotFound => StatusCode::NOT_FOUND,
        C::AlreadyExists | C::ValueAlreadyExists => StatusCode::CONFLICT,
        C::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        C::InvalidFilter
        | C::InvalidDn
        | C::InvalidPagination
        | C::ValidationFailed
        | C::SchemaViolation
        | C::ConstraintViolation
        | C::NoSuchAttribute
        | C::InappropriateMatching
        | C::InvalidJson
        | C::BadRequest => StatusCode::BAD_REQUEST,
        C::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        C::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        C::NotAllowedOnNonLeaf
        | C::UnwillingToPerform
        | C::BusinessRuleViolation
        | C::SizeLimitExceeded => StatusCode::UNPROCESSABLE_ENTITY,
        C::InvalidCredentials | C::Unauthenticated | C::AccountLocked => StatusCode::UNAUTHORIZED,
        C::AclDenied => StatusCode::FORBIDDEN,
        C::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        // AUDIT_UNAVAILABLE: the change was not made because its audit event could not be
        // written; the client may retry.
        C::DirectoryUnavailable | C::Timeout | C::AuditUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        // DirectoryError, Internal, InvalidConfig, and any code added to the core later
        // without a mapping here (the test below fails until it gets one).
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The answer for an error: its status, the envelope, and `Retry-After` where it applies.
pub fn error_reply(err: &Error) -> Reply {
    let status = status_of(err.code());
    // A 500 says what failed inside, which is for the operator's log, not for the client
    // (directory diagnostics, DNs, configuration): the client gets the code only.
    let redacted;
    let shown = if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(code = %err.code(), error = %err, details = ?err.details(), "internal error");
        redacted = Error::new(
            err.code(),
            "an internal error occurred; the server log has the details (look up this X-Request-Id)",
        );
        &redacted
    } else {
        err
    };
    let body = serde_json::to_vec(&shown.to_envelope()).unwrap_or_else(|_| {
        br#"{"error":{"code":"INTERNAL","message":"the error could not be rendered"}}"#.to_vec()
    });
    let mut reply = Reply::json_bytes(status, body.into());
    let retry_after = match status {
        StatusCode::SERVICE_UNAVAILABLE => Some(RETRY_AFTER_UNAVAILABLE),
        StatusCode::TOO_MANY_REQUESTS => Some(
            err.details()
                .get("retry_after")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(RETRY_AFTER_RATE_LIMITED),
        ),
        _ => None,
    };
    if let Some(secs) = retry_after {
        reply = reply.with_header(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SPEC §1, code by code. A code added to the core fails this test until it is placed.
    fn expected(code: ErrorCode) -> Option<u16> {
        let name = code.as_str();
        if name == "NOT_FOUND" || name.ends_with("_NOT_FOUND") {
            return Some(404);
        }
        Some(match name {
            "INVALID_FILTER"
            | "INVALID_DN"
            | "INVALID_PAGINATION"
            | "VALIDATION_FAILED"
            | "SCHEMA_VIOLATION"
            | "CONSTRAINT_VIOLATION"
            | "NO_SUCH_ATTRIBUTE"
            | "INAPPROPRIATE_MATCHING"
            | "INVALID_JSON"
            | "BAD_REQUEST" => 400,
            "INVALID_CREDENTIALS" | "UNAUTHENTICATED" | "ACCOUNT_LOCKED" => 401,
            "ACL_DENIED" => 403,
            "METHOD_NOT_ALLOWED" => 405,
            "ALREADY_EXISTS" | "VALUE_ALREADY_EXISTS" => 409,
            "PRECONDITION_FAILED" => 412,
            "PAYLOAD_TOO_LARGE" => 413,
            "UNSUPPORTED_MEDIA_TYPE" => 415,
            "NOT_ALLOWED_ON_NON_LEAF"
            | "UNWILLING_TO_PERFORM"
            | "BUSINESS_RULE_VIOLATION"
            | "SIZE_LIMIT_EXCEEDED" => 422,
            "RATE_LIMITED" => 429,
            "INTERNAL" | "DIRECTORY_ERROR" | "INVALID_CONFIG" => 500,
            "DIRECTORY_UNAVAILABLE" | "TIMEOUT" | "AUDIT_UNAVAILABLE" => 503,
            _ => return None,
        })
    }

    #[test]
    fn internal_errors_do_not_leak_their_details() {
        let err = Error::new(
            ErrorCode::DirectoryError,
            "the directory failed: secret detail",
        )
        .with_detail("dn", "cn=secret,dc=example,dc=com");
        let reply = error_reply(&err);
        let body = String::from_utf8_lossy(reply.body_bytes()).into_owned();
        assert!(body.contains("DIRECTORY_ERROR"), "{body}");
        assert!(!body.contains("secret"), "{body}");
        let not_found = error_reply(&Error::new(ErrorCode::UserNotFound, "User with uid 'x'"));
        assert!(String::from_utf8_lossy(not_found.body_bytes()).contains("uid 'x'"));
    }

    #[test]
    fn every_code_has_its_spec_status() {
        for code in ErrorCode::ALL {
            let want = expected(*code).unwrap_or_else(|| {
                panic!("{code} has no HTTP status decided: add it to status_of and this test")
            });
            assert_eq!(status_of(*code).as_u16(), want, "{code}");
        }
    }

    #[test]
    fn envelope_and_retry_after() {
        let r = error_reply(&Error::new(ErrorCode::UserNotFound, "no").with_detail("uid", "x"));
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let v: serde_json::Value = serde_json::from_slice(r.body_bytes()).unwrap();
        assert_eq!(v["error"]["code"], "USER_NOT_FOUND");
        assert_eq!(v["error"]["details"]["uid"], "x");
        assert!(r.headers().get(header::RETRY_AFTER).is_none());

        let r = error_reply(&Error::unavailable("down"));
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "5");
        let r = error_reply(&Error::new(ErrorCode::AuditUnavailable, "no audit"));
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::RETRY_AFTER], "5");

        let r =
            error_reply(&Error::new(ErrorCode::RateLimited, "slow").with_detail("retry_after", 17));
        assert_eq!(r.headers()[header::RETRY_AFTER], "17");
        let r = error_reply(&Error::new(ErrorCode::RateLimited, "slow"));
        assert_eq!(r.headers()[header::RETRY_AFTER], "60");
    }
}
