//! `/docs`: Swagger UI, served from files embedded in the binary (no CDN).
//!
//! `assets/swagger-ui/` holds the unmodified `swagger-ui.css` and `swagger-ui-bundle.js` of
//! the npm package `swagger-ui-dist` (Apache-2.0; see its `README.md` for the version), and
//! our own `index.html` and `heracles-docs.js`, which start Swagger UI on `/openapi.json`.
//! All links are relative, so the page also works behind a path prefix.

use bytes::Bytes;
use heracles_core::error::{Error, ErrorCode};
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use http::{HeaderValue, StatusCode};

use crate::reply::Reply;
use crate::request::Ctx;
use crate::router::HandlerFuture;

const INDEX_HTML: &[u8] = include_bytes!("../../assets/swagger-ui/index.html");

/// Content-Security-Policy of the docs page: everything from this server only.
const DOCS_CSP: &str =
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                        script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/// The files under `/docs/`: name, media type, content.
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "swagger-ui.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui.css"),
    ),
    (
        "swagger-ui-bundle.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    (
        "heracles-docs.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/swagger-ui/heracles-docs.js"),
    ),
];

/// `GET /docs`.
pub fn index(_ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        Ok(Reply::other(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Bytes::from_static(INDEX_HTML),
        )
        .with_header(CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP))
        .with_header(CACHE_CONTROL, HeaderValue::from_static("no-cache")))
    })
}

/// `GET /docs/{file}`.
pub fn asset(ctx: Ctx) -> HandlerFuture {
    Box::pin(async move {
        let name = ctx.param("file")?;
        let (_, content_type, bytes) =
            ASSETS.iter().find(|(n, _, _)| *n == name).ok_or_else(|| {
                Error::new(
                    ErrorCode::NotFound,
                    format!("no documentation file '{name}'"),
                )
                .with_detail("file", name)
            })?;
        Ok(
            Reply::other(StatusCode::OK, content_type, Bytes::from_static(bytes)).with_header(
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        )
    })
}
