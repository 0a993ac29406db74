//! Cross-origin requests (CORS), off by default.
//!
//! Without `cors_origins`, answers carry no `Access-Control-*` header and a preflight
//! (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is routed like any other
//! request: no route answers `OPTIONS`, so it is refused (405 `METHOD_NOT_ALLOWED`, or 404
//! for an unknown path) and the browser does not send the real request.
//!
//! With `cors_origins`, a request whose `Origin` is one of the listed origins (compared
//! exactly, in the lower-case form browsers send) gets `Access-Control-Allow-Origin` naming
//! that origin, and its preflight is answered 204 with the allowed methods and headers.
//! Other origins get no CORS headers at all. Every answer then says `Vary: Origin`, so a
//! cache never serves one origin's answer to another.
//!
//! Credentials (`Access-Control-Allow-Credentials`) are never allowed: the API takes bearer
//! tokens in the `Authorization` header, which a script sets itself; no cookie authenticates
//! anything, so a page of another origin cannot act with a user's ambient credentials.

use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
    VARY,
};
use http::{HeaderMap, HeaderValue, Method};

use crate::reply::Reply;

/// Methods a listed origin may use.
pub const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
/// Request headers a listed origin may send.
pub const ALLOW_HEADERS: &str = "Authorization, Content-Type, If-Match, X-Request-Id";
/// Response headers a listed origin's scripts may read.
pub const EXPOSE_HEADERS: &str =
    "ETag, Location, Retry-After, WWW-Authenticate, Allow, X-Request-Id";
/// How long (seconds) a browser may cache a preflight's answer.
pub const MAX_AGE_SECS: &str = "600";

/// The request's `Origin` if it is one of `allowed`.
pub fn allowed_origin(allowed: &[String], headers: &HeaderMap) -> Option<HeaderValue> {
    if allowed.is_empty() {
        return None;
    }
    let origin = headers.get(ORIGIN)?;
    let text = origin.to_str().ok()?;
    allowed.iter().any(|a| a == text).then(|| origin.clone())
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(ORIGIN)
        && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to a preflight from an allowed origin: 204 with what may be sent.
pub fn preflight(origin: HeaderValue) -> Reply {
    Reply::no_content()
        .with_header(ACCESS_CONTROL_ALLOW_ORIGIN, origin)
        .with_header(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        )
        .with_header(
            ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        )
        .with_header(
            ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(MAX_AGE_SECS),
        )
}

/// Adds the CORS headers of an answer when CORS is on: `Vary: Origin` always, and for an
/// allowed origin
/// `Access-Control-Allow-Origin` and `Access-Control-Expose-Headers`.
pub fn decorate(headers: &mut HeaderMap, enabled: bool, origin: Option<HeaderValue>) {
    if !enabled {
        return;
    }
    headers.append(VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        if !headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        if !headers.contains_key(ACCESS_CONTROL_ALLOW_METHODS) {
            headers.insert(
                ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_matched_exactly() {
        let allowed = vec!["https://admin.example.com".to_owned()];
        let with = |o: &str| {
            let mut h = HeaderMap::new();
            h.insert(ORIGIN, HeaderValue::from_str(o).unwrap());
            h
        };
        assert!(allowed_origin(&allowed, &with("https://admin.example.com")).is_some());
        for other in [
            "https://admin.example.com.evil.test",
            "http://admin.example.com",
            "https://admin.example.co",
            "null",
        ] {
            assert!(allowed_origin(&allowed, &with(other)).is_none(), "{other}");
        }
        assert!(allowed_origin(&[], &with("https://admin.example.com")).is_none());
        assert!(allowed_origin(&allowed, &HeaderMap::new()).is_none());
        assert!(is_preflight(&Method::OPTIONS, &{
            let mut h = with("https://x");
            h.insert(
                ACCESS_CONTROL_REQUEST_METHOD,
                HeaderValue::from_static("GET"),
            );
            h
        }));
        assert!(!is_preflight(&Method::OPTIONS, &with("https://x")));
    }
}
