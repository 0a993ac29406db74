//! What a handler answers: a status, extra headers and a body. The server adds the common
//! headers (`Content-Type` of JSON bodies, `X-Request-Id`, ...) when it turns a [`Reply`]
//! into a response.

use bytes::Bytes;
use heracles_core::error::{Error, Result};
use heracles_core::page::Page;
use http::header::{HeaderName, CONTENT_TYPE, ETAG, LOCATION};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

/// The media type of every JSON answer (SPEC §1).
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The body of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Body {
    /// No body (204).
    Empty,
    /// Serialised JSON.
    Json(Bytes),
    /// Anything else, with its media type.
    Other(HeaderValue, Bytes),
}

/// A handler's answer.
#[derive(Debug, Clone)]
pub struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
}

impl Reply {
    /// A JSON answer with this status.
    pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Result<Reply> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::internal(format!("cannot serialise the answer: {e}")))?;
        Ok(Self::json_bytes(status, bytes.into()))
    }

    /// A JSON answer with this status and its `ETag` ([`etag_of`]), serialised once: the
    /// tag is computed from the body's own bytes.
    pub fn json_tagged<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Result<Reply> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| Error::internal(format!("cannot serialise the answer: {e}")))?;
        let etag = heracles_core::service::etag_of_json(&bytes);
        Ok(Self::json_bytes(status, bytes.into()).with_etag(&etag))
    }

    /// 200 with a JSON body.
    pub fn ok<T: Serialize + ?Sized>(value: &T) -> Result<Reply> {
        Self::json(StatusCode::OK, value)
    }

    /// 201 with a JSON body.
    pub fn created<T: Serialize + ?Sized>(value: &T) -> Result<Reply> {
        Self::json(StatusCode::CREATED, value)
    }

    /// 204 without a body.
    pub fn no_content() -> Reply {
        Reply {
            status: StatusCode::NO_CONTENT,
            headers: HeaderMap::new(),
            body: Body::Empty,
        }
    }

    /// Already serialised JSON.
    pub fn json_bytes(status: StatusCode, bytes: Bytes) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Body::Json(bytes),
        }
    }

    /// A non-JSON body (the docs page and its assets).
    pub fn other(status: StatusCode, content_type: &'static str, bytes: Bytes) -> Reply {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Body::Other(HeaderValue::from_static(content_type), bytes),
        }
    }

    /// Adds the `ETag` header (see [`etag_of`]).
    #[must_use]
    pub fn with_etag(self, etag: &str) -> Reply {
        match HeaderValue::from_str(etag) {
            Ok(v) => self.with_header(ETAG, v),
            Err(_) => self,
        }
    }

    /// Adds the `Location` header (a path; built from percent-encoded segments).
    #[must_use]
    pub fn with_location(self, path: &str) -> Reply {
        match HeaderValue::from_str(path) {
            Ok(v) => self.with_header(LOCATION, v),
            Err(_) => self,
        }
    }

    /// Adds (or replaces) a header.
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Reply {
        self.headers.insert(name, value);
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The extra headers set so far.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Mutable access to the headers.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body's bytes (empty for 204).
    pub fn body_bytes(&self) -> &[u8] {
        match &self.body {
            Body::Empty => &[],
            Body::Json(b) | Body::Other(_, b) => b,
        }
    }

    /// Whether the body is JSON.
    pub fn is_json(&self) -> bool {
        matches!(self.body, Body::Json(_))
    }

    /// Status, headers (with `Content-Type` set from the body) and body.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, Bytes) {
        let mut headers = self.headers;
        let bytes = match self.body {
            Body::Empty => Bytes::new(),
            Body::Json(b) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(JSON_CONTENT_TYPE));
                b
            }
            Body::Other(ct, b) => {
                headers.insert(CONTENT_TYPE, ct);
                b
            }
        };
        (self.status, headers, bytes)
    }
}

pub use heracles_core::service::etag_of;

/// Characters escaped in a path segment: everything but RFC 3986 unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path segment, percent-encoded (for `Location` headers).
pub fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

pub use heracles_core::page::project;

/// 200 with a list answer `{data, pagination}`, each item limited to `fields` (see
/// [`project`]).
pub fn page_reply<T: Serialize>(
    page: &Page<T>,
    fields: Option<&[String]>,
    aliases: &[(&str, &str)],
) -> Result<Reply> {
    let mut data = Vec::with_capacity(page.data.len());
    for item in &page.data {
        let v = serde_json::to_value(item)
            .map_err(|e| Error::internal(format!("cannot serialise the answer: {e}")))?;
        data.push(project(v, fields, aliases));
    }
    Reply::ok(&Page {
        data,
        pagination: page.pagination,
    })
}
