//! What a handler gets: the request context ([`Ctx`]) with its path parameters, query and
//! body, and the shared parsing of request bodies and query strings.
//!
//! JSON bodies go through one path, [`json_body`]: the `Content-Type` must be
//! `application/json` (415 `UNSUPPORTED_MEDIA_TYPE` otherwise), the body is read with a limit
//! (413 `PAYLOAD_TOO_LARGE`, never read unbounded), malformed JSON is a 400 `INVALID_JSON`
//! naming the line and column, and JSON of the wrong shape (unknown field, wrong type) is a
//! 400 `VALIDATION_FAILED`.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use heracles_core::audit::AuditContext;
use heracles_core::error::{Error, ErrorCode, Result};
use heracles_core::page::PageRequest;
use heracles_core::service::{IfMatch, ListQuery, Principal};
use http::header::{CONTENT_TYPE, IF_MATCH};
use http::request::Parts;
use http::{HeaderMap, Method, Uri};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use hyper::body::Body;
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

use crate::state::AppState;

/// Error type of request bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// The request body as handlers see it (hyper's, or a test's).
pub type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

/// Decoded path parameters, in template order.
pub type Params = Vec<(&'static str, String)>;

/// The client's socket address (a request extension set by the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

/// The session of the bearer token of a request (its `sid` claim; a request extension set
/// by the router's bearer check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionId(pub String);

/// The context of one request, handed to its handler.
pub struct Ctx {
    state: Arc<AppState>,
    parts: Parts,
    params: Params,
    request_id: String,
    body: Option<RequestBody>,
    principal: Option<Principal>,
}

impl fmt::Debug for Ctx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ctx")
            .field("method", &self.parts.method)
            .field("uri", &self.parts.uri)
            .field("params", &self.params)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl Ctx {
    /// A context (built by the router).
    pub fn new(
        state: Arc<AppState>,
        parts: Parts,
        params: Params,
        request_id: String,
        body: RequestBody,
    ) -> Ctx {
        Ctx {
            state,
            parts,
            params,
            request_id,
            body: Some(body),
            principal: None,
        }
    }

    /// The context with the authenticated caller attached (set by the router once the
    /// route's access check has passed).
    #[must_use]
    pub fn with_principal(mut self, principal: Principal) -> Ctx {
        self.principal = Some(principal);
        self
    }

    /// The authenticated caller, if the router attached one.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// The application state.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The request URI.
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The request id (echoed in `X-Request-Id`, logged, and recorded in audit events).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The client's address, when known.
    pub fn client_addr(&self) -> Option<SocketAddr> {
        self.parts.extensions.get::<ClientAddr>().map(|c| c.0)
    }

    /// The audit context of this request on behalf of `p`: the caller's DN as actor, the
    /// request id (`X-Request-Id`) and the client's IP address.
    pub fn audit_context(&self, p: &Principal) -> AuditContext {
        self.anonymous_audit_context()
            .with_actor(Some(p.dn.clone()))
    }

    /// The audit context of this request without an actor (before a login succeeds).
    pub fn anonymous_audit_context(&self) -> AuditContext {
        AuditContext::new(
            None,
            self.request_id.clone(),
            self.client_addr().map(|a| a.ip().to_string()),
        )
    }

    /// The session of the request's bearer token (`UNAUTHENTICATED` when the request was
    /// not authenticated by a token, e.g. on a public route or through `dispatch_as`).
    pub fn session_id(&self) -> Result<&str> {
        self.parts
            .extensions
            .get::<SessionId>()
            .map(|s| s.0.as_str())
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::Unauthenticated,
                    "this request carries no session token",
                )
            })
    }

    /// A path parameter of the route's template, percent-decoded.
    pub fn param(&self, name: &str) -> Result<&str> {
        self.params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| Error::internal(format!("the route has no path parameter '{name}'")))
    }

    /// The decoded query string.
    pub fn query(&self) -> Result<Query> {
        Query::parse(self.parts.uri.query())
    }

    /// The `limit`/`offset` page request of a list (SPEC §1).
    pub fn page(&self) -> Result<PageRequest> {
        let q = self.query()?;
        let one = |name: &str| -> Result<Option<String>> {
            let all = q.all(name);
            if all.len() > 1 {
                return Err(Error::new(
                    ErrorCode::InvalidPagination,
                    format!("{name} is given more than once"),
                )
                .with_detail(name, all.join(",")));
            }
            Ok(all.first().map(|s| (*s).to_owned()))
        };
        PageRequest::from_query(one("limit")?.as_deref(), one("offset")?.as_deref())
    }

    /// The list query of SPEC §1: `limit`/`offset` ([`Ctx::page`]), repeatable `filter=`,
    /// `sort=` and `attributes=a,b`. `sort` and `attributes` may be given once, and not
    /// empty (400 `VALIDATION_FAILED`); the fields they name are checked by the service.
    pub fn list_query(&self) -> Result<ListQuery> {
        let q = self.query()?;
        let page = self.page()?;
        let filters = q.all("filter").into_iter().map(str::to_owned).collect();
        let sort = single(&q, "sort")?;
        let attributes = match single(&q, "attributes")? {
            None => None,
            Some(list) => {
                let names: Vec<String> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                if names.is_empty() {
                    return Err(Error::validation(
                        "attributes",
                        "attributes must name at least one field",
                    ));
                }
                Some(names)
            }
        };
        Ok(ListQuery {
            filters,
            page,
            sort,
            attributes,
        })
    }

    /// A boolean query parameter (`true`/`false`, absent: `false`); anything else is a 400.
    pub fn flag(&self, name: &str) -> Result<bool> {
        let q = self.query()?;
        match single_raw(&q, name)?.as_deref() {
            None => Ok(false),
            Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(false),
            Some(v) => Err(Error::validation(
                name,
                format!("{name} must be true or false, got '{v}'"),
            )
            .with_detail("value", v)),
        }
    }

    /// A string query parameter given at most once; empty is a 400.
    pub fn query_param(&self, name: &str) -> Result<Option<String>> {
        single(&self.query()?, name)
    }

    /// The request's `If-Match` precondition, if any (see [`if_match`]).
    pub fn if_match(&self) -> Result<Option<IfMatch>> {
        if_match(self.headers())
    }
    /// Reads and parses the JSON body (once; a second call is an internal error).
    pub async fn json<T: DeserializeOwned>(&mut self) -> Result<T> {
        let body = self
            .body
            .take()
            .ok_or_else(|| Error::internal("the request body was already read"))?;
        json_body(
            &self.parts.headers,
            body,
            self.state.config().max_body_bytes,
        )
        .await
    }
}

/// A decoded query string (`application/x-www-form-urlencoded`: `+` is a space).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Decodes a raw query string; bytes that are not UTF-8 once decoded are a 400.
    pub fn parse(raw: Option<&str>) -> Result<Query> {
        let mut pairs = Vec::new();
        for pair in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            pairs.push((decode_query_part(k)?, decode_query_part(v)?));
        }
        Ok(Query(pairs))
    }

    /// Every value of a parameter, in order (`filter=` is repeatable).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// A parameter given at most once (possibly empty).
fn single_raw(q: &Query, name: &str) -> Result<Option<String>> {
    let all = q.all(name);
    if all.len() > 1 {
        return Err(
            Error::validation(name, format!("{name} is given more than once"))
                .with_detail("value", all.join(",")),
        );
    }
    Ok(all.first().map(|s| (*s).to_owned()))
}

/// A parameter given at most once, not empty.
fn single(q: &Query, name: &str) -> Result<Option<String>> {
    match single_raw(q, name)? {
        Some(v) if v.trim().is_empty() => {
            Err(Error::validation(name, format!("{name} must not be empty")))
        }
        other => Ok(other),
    }
}

/// The `If-Match` precondition of a request, if it has one (several headers are one list).
pub fn if_match(headers: &HeaderMap) -> Result<Option<IfMatch>> {
    let mut lists = Vec::new();
    for value in headers.get_all(IF_MATCH) {
        let text = value
            .to_str()
            .map_err(|_| Error::new(ErrorCode::BadRequest, "the If-Match header is not ASCII"))?;
        lists.push(text);
    }
    if lists.is_empty() {
        return Ok(None);
    }
    Ok(Some(IfMatch::parse(&lists.join(","))))
}

fn decode_query_part(s: &str) -> Result<String> {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| {
            Error::new(
                ErrorCode::BadRequest,
                "the query string is not valid percent-encoded UTF-8",
            )
        })
}

/// Decodes one path segment (`%2F` stays inside the value); not UTF-8 is a 400.
pub fn decode_path_segment(name: &str, raw: &str) -> Result<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| {
            Error::new(
                ErrorCode::BadRequest,
                format!("the path parameter '{name}' is not valid percent-encoded UTF-8"),
            )
            .with_detail("parameter", name)
        })
}

/// The error of a body over the limit.
pub fn too_large(limit: usize) -> Error {
    Error::new(
        ErrorCode::PayloadTooLarge,
        format!("the request body is larger than the limit of {limit} bytes"),
    )
    .with_detail("max_body_bytes", limit)
}

/// Checks that a body is declared as JSON: `application/json`, with no charset other than
/// UTF-8.
pub fn require_json(headers: &HeaderMap) -> Result<()> {
    let unsupported = |got: &str| {
        Error::new(
            ErrorCode::UnsupportedMediaType,
            format!("expected a JSON body with Content-Type: application/json, got '{got}'"),
        )
        .with_detail("content_type", got)
    };
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Err(Error::new(
            ErrorCode::UnsupportedMediaType,
            "a JSON body needs the header Content-Type: application/json",
        ));
    };
    let text = value.to_str().map_err(|_| unsupported("<not ASCII>"))?;
    let mut parts = text.split(';');
    let mime = parts.next().unwrap_or_default().trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(unsupported(text));
    }
    for param in parts {
        if let Some((k, v)) = param.split_once('=') {
            let v = v.trim().trim_matches('"');
            if k.trim().eq_ignore_ascii_case("charset") && !v.eq_ignore_ascii_case("utf-8") {
                return Err(unsupported(text));
            }
        }
    }
    Ok(())
}

/// Reads a whole body, failing with 413 as soon as it is known to exceed `limit` bytes
/// (by its declared length, or while streaming).
pub async fn read_limited<B>(body: B, limit: usize) -> Result<Bytes>
where
    B: Body<Data = Bytes>,
    B::Error: fmt::Display,
{
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large(limit));
    }
    let mut body = std::pin::pin!(body);
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            Error::new(
                ErrorCode::BadRequest,
                format!("the request body could not be read: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len().saturating_add(data.len()) > limit {
                return Err(too_large(limit));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Parses JSON bytes into `T`, a request body — always a JSON object: malformed JSON is
/// `INVALID_JSON` (400) naming the line and column; well-formed JSON of the wrong shape is
/// `VALIDATION_FAILED` (400) — another top-level value than an object (serde would
/// otherwise fill a struct's fields from an array, in order), or a field of the wrong type
/// (serde reports some of those, e.g. `null` for an enum, as syntax errors).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(Error::new(
            ErrorCode::InvalidJson,
            "the request body is empty: expected a JSON document",
        ));
    };
    let located = |code: ErrorCode, what: &str, e: &serde_json::Error| {
        Error::new(code, format!("{what}: {e}"))
            .with_detail("line", e.line())
            .with_detail("column", e.column())
    };
    // Whether the bytes are one well-formed JSON document, whatever its shape.
    let well_formed = || serde_json::from_slice::<serde::de::IgnoredAny>(bytes);
    if *first != b'{' {
        return Err(match well_formed() {
            Err(e) => located(ErrorCode::InvalidJson, "malformed JSON", &e),
            Ok(_) => Error::new(
                ErrorCode::ValidationFailed,
                "invalid request body: expected a JSON object",
            ),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| {
        let wrong_shape = match e.classify() {
            serde_json::error::Category::Data => true,
            _ => well_formed().is_ok(),
        };
        if wrong_shape {
            located(ErrorCode::ValidationFailed, "invalid request body", &e)
        } else {
            located(ErrorCode::InvalidJson, "malformed JSON", &e)
        }
    })
}

/// The one way a handler gets a JSON body: content type, limit, parse.
pub async fn json_body<T, B>(headers: &HeaderMap, body: B, limit: usize) -> Result<T>
where
    T: DeserializeOwned,
    B: Body<Data = Bytes>,
    B::Error: fmt::Display,
{
    require_json(headers)?;
    let bytes = read_limited(body, limit).await?;
    parse_json(&bytes)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http::HeaderValue;
    use http_body_util::Full;
    use hyper::body::Frame;
    use serde::Deserialize;

    use super::*;

    /// A body that arrives in chunks without a declared length (like chunked encoding).
    struct Chunked(VecDeque<Bytes>);

    impl Body for Chunked {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    fn chunked(n: usize, size: usize) -> Chunked {
        Chunked((0..n).map(|_| Bytes::from(vec![b' '; size])).collect())
    }

    fn json_headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Login {
        username: String,
        password: String,
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn body_limit_by_declared_and_streamed_size() {
        // Declared (Content-Length) over the limit: refused before reading.
        let e = block_on(read_limited(Full::new(Bytes::from(vec![0u8; 11])), 10)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::PayloadTooLarge);
        assert_eq!(e.details()["max_body_bytes"], 10);
        // Exactly the limit is fine.
        let b = block_on(read_limited(Full::new(Bytes::from(vec![0u8; 10])), 10)).unwrap();
        assert_eq!(b.len(), 10);
        // Streamed without a length: stops once past the limit.
        let e = block_on(read_limited(chunked(5, 4), 10)).unwrap_err();
        assert_eq!(e.code(), ErrorCode::PayloadTooLarge);
        let b = block_on(read_limited(chunked(2, 4), 10)).unwrap();
        assert_eq!(b.len(), 8);
    }

    #[test]
    fn content_type_is_checked() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
        ] {
            require_json(&json_headers(ok)).unwrap();
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/json; charset=latin1",
            "application/jsonp",
        ] {
            let e = require_json(&json_headers(bad)).unwrap_err();
            assert_eq!(e.code(), ErrorCode::UnsupportedMediaType, "{bad}");
        }
        let e = require_json(&HeaderMap::new()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::UnsupportedMediaType);
        // Through the one entry point: 415 before the body is even read.
        let e = block_on(json_body::<Login, _>(
            &json_headers("text/plain"),
            chunked(1, 4),
            100,
        ))
        .unwrap_err();
        assert_eq!(e.code(), ErrorCode::UnsupportedMediaType);
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let e = parse_json::<Login>(b"{\n  \"username\": \"a\",\n  \"password\": }").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidJson);
        assert_eq!(e.details()["line"], 3);
        assert_eq!(e.details()["column"], 15);
        assert!(e.message().contains("line 3"), "{}", e.message());
        let e = parse_json::<Login>(b"   ").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidJson);
        let e = parse_json::<Login>(b"{\"username\": \"a\"").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidJson);
        // Deep nesting is refused, not a stack overflow.
        let deep = "[".repeat(100_000);
        let e = parse_json::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidJson);
    }

    #[test]
    fn wrong_shape_is_a_validation_error() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        enum Kind {
            A,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct WithKind {
            kind: Kind,
        }
        let e = parse_json::<Login>(br#"{"username": "a", "password": "b", "x": 1}"#).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);
        assert!(e.message().contains("unknown field `x`"), "{}", e.message());
        let e = parse_json::<Login>(br#"{"username": 1, "password": "b"}"#).unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);
        // serde would fill a struct from an array, field by field: a body is an object.
        for body in [
            &br#"["a", "b"]"#[..],
            b"[null, null]",
            b" \"a\"",
            b"null",
            b"1",
        ] {
            let e = parse_json::<Login>(body).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{body:?}");
            assert!(e.message().contains("JSON object"), "{}", e.message());
        }
        let e = parse_json::<Login>(b"[1, ").unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidJson);
        // A null (or a number) where an enum is expected is a wrong shape too, though serde
        // classifies it as a syntax error.
        for body in [&br#"{"kind": null}"#[..], br#"{"kind": 1}"#] {
            let e = parse_json::<WithKind>(body).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{body:?}");
        }
        let ok: Login = block_on(json_body(
            &json_headers("application/json"),
            Full::new(Bytes::from_static(br#"{"username": "a", "password": "b"}"#)),
            100,
        ))
        .unwrap();
        assert_eq!(ok.username, "a");
    }

    #[test]
    fn query_strings_decode() {
        let q = Query::parse(Some("filter=cn:eq:a%20b&filter=mail:present&x=1+2&flag&=v")).unwrap();
        assert_eq!(q.all("filter"), vec!["cn:eq:a b", "mail:present"]);
        assert_eq!(q.get("x"), Some("1 2"));
        assert_eq!(q.get("flag"), Some(""));
        assert_eq!(q.get("nope"), None);
        let e = Query::parse(Some("a=%ff")).unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadRequest);
        assert_eq!(Query::parse(None).unwrap().pairs().len(), 0);
    }

    #[test]
    fn path_segments_decode() {
        assert_eq!(decode_path_segment("uid", "j%2Cdoe").unwrap(), "j,doe");
        assert_eq!(decode_path_segment("uid", "%C3%A9").unwrap(), "é");
        let e = decode_path_segment("uid", "%C3").unwrap_err();
        assert_eq!(e.code(), ErrorCode::BadRequest);
        assert_eq!(e.details()["parameter"], "uid");
    }
}
