//! The route table and dispatch.
//!
//! [`ROUTES`] is the only list of routes: each [`Route`] has its method, path template
//! (`/api/v1/users/{uid}`), handler and OpenAPI description ([`RouteDoc`]). Dispatch
//! ([`dispatch`]) and the OpenAPI document ([`crate::openapi`]) are both built from it, so
//! they cannot drift.
//!
//! Matching: a `{name}` segment matches one non-empty path segment, percent-decoded (not
//! UTF-8: 400 `BAD_REQUEST`); a literal segment wins over a parameter (`/departments/tree`
//! before `/departments/{ou}`). No route: 404 `NOT_FOUND`. A route for the path but not the
//! method: 405 `METHOD_NOT_ALLOWED` with `Allow`. `HEAD` is served by the `GET` route.
//!
//! To add a route: write a handler `fn(Ctx) -> HandlerFuture` and add one entry to
//! [`ROUTES`]; the request and response schemas it names must exist in
//! [`crate::openapi::schemas`] (a test checks).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use heracles_core::dn::Dn;
use heracles_core::error::{Error, ErrorCode, Result};
use http::header::{ALLOW, AUTHORIZATION, CONTENT_LENGTH, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};

use crate::auth::TokenType;
use crate::error::error_reply;
use crate::handlers::{auth, docs, system};
use crate::reply::Reply;
use crate::request::{decode_path_segment, too_large, Authenticated, Ctx, Params, RequestBody};
use crate::state::AppState;

/// What a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Reply>> + Send>>;
/// A request handler.
pub type Handler = fn(Ctx) -> HandlerFuture;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (SPEC §2: health, version, login, refresh, docs, the OpenAPI document).
    Public,
    /// A valid bearer token is needed.
    Bearer,
}

/// The type of a query parameter, for the OpenAPI document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// An integer within bounds, with a default.
    Integer {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: Option<i64>,
        /// Value when absent.
        default: i64,
    },
    /// A string.
    String,
    /// A repeatable string parameter (`filter=...&filter=...`).
    Repeated,
    /// A boolean (`true`/`false`).
    Boolean,
}

/// A query parameter of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryParam {
    /// Name.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// Its type.
    pub kind: ParamType,
}

/// The body of a documented response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocBody {
    /// JSON of the named component schema.
    Json(&'static str),
    /// Another media type (a page, a script), without a schema.
    Media(&'static str),
    /// No body.
    Empty,
}

/// A documented response of a route (besides the standard error responses every route
/// gets, see [`crate::openapi`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocResponse {
    /// Status code.
    pub status: u16,
    /// What it means.
    pub description: &'static str,
    /// Its body.
    pub body: DocBody,
}

/// The OpenAPI description of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteDoc {
    /// Unique operation id (camelCase).
    pub operation_id: &'static str,
    /// One line.
    pub summary: &'static str,
    /// Longer text (Markdown), may be empty.
    pub description: &'static str,
    /// Group in the docs.
    pub tag: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Query parameters.
    pub query: &'static [QueryParam],
    /// Component schema of the JSON request body, if it takes one.
    pub request: Option<&'static str>,
    /// Success (and route-specific) responses.
    pub responses: &'static [DocResponse],
}

/// One route.
#[derive(Debug)]
pub struct Route {
    /// Method.
    pub method: Method,
    /// Path template, `{name}` for parameters.
    pub path: &'static str,
    /// Handler.
    pub handler: Handler,
    /// Its OpenAPI description.
    pub doc: RouteDoc,
}

/// The parameters every list endpoint takes (SPEC §1).
pub const LIST_QUERY: &[QueryParam] = &[
    QueryParam {
        name: "limit",
        description: "Page size (1–1000).",
        kind: ParamType::Integer {
            min: 1,
            max: Some(1000),
            default: 50,
        },
    },
    QueryParam {
        name: "offset",
        description: "Number of matches to skip.",
        kind: ParamType::Integer {
            min: 0,
            max: None,
            default: 0,
        },
    },
    QueryParam {
        name: "filter",
        description: "`ATTR:OP:VALUE` with OP one of eq, contains, starts, ends, present; \
                      repeatable, all clauses ANDed.",
        kind: ParamType::Repeated,
    },
    QueryParam {
        name: "attributes",
        description: "Comma-separated fields to return.",
        kind: ParamType::String,
    },
    QueryParam {
        name: "sort",
        description: "Field to order by; `-field` for descending.",
        kind: ParamType::String,
    },
];

/// The route table.
pub static ROUTES: &[Route] = &[
    Route {
        method: Method::POST,
        path: "/api/v1/auth/login",
        handler: auth::login,
        doc: RouteDoc {
            operation_id: "login",
            summary: "Log in: an access and a refresh token",
            description: "`username` is a uid or a full DN; the password is checked by a bind \
                          as that user. Wrong password, unknown user and locked account all \
                          answer the same 401 `INVALID_CREDENTIALS`. Failed logins are \
                          throttled per account and per client address (settings \
                          `login_throttle`, counted per server instance): past the limit, 429 \
                          `RATE_LIMITED` with `Retry-After`, even for the right password. \
                          Opens a session (an entry under `ou=sessions`).",
            tag: "auth",
            access: Access::Public,
            query: &[],
            request: Some("LoginRequest"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "Logged in.",
                    body: DocBody::Json("LoginResponse"),
                },
                DocResponse {
                    status: 401,
                    description: "Wrong credentials, unknown or locked user \
                                  (INVALID_CREDENTIALS).",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 429,
                    description: "Too many failed logins for this account or client address \
                                  (RATE_LIMITED); retry after Retry-After seconds.",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/auth/refresh",
        handler: auth::refresh,
        doc: RouteDoc {
            operation_id: "refreshToken",
            summary: "Exchange a refresh token for a new token pair",
            description: "Refresh tokens are single use: the answer carries the next one. \
                          Presenting a spent refresh token again revokes the whole session \
                          (both tokens stop working on every instance).",
            tag: "auth",
            access: Access::Public,
            query: &[],
            request: Some("RefreshRequest"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "A new access and refresh token.",
                    body: DocBody::Json("TokenPair"),
                },
                DocResponse {
                    status: 401,
                    description: "Invalid, expired or spent refresh token, or the session was \
                                  revoked (UNAUTHENTICATED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/auth/logout",
        handler: auth::logout,
        doc: RouteDoc {
            operation_id: "logout",
            summary: "Log out: revoke the bearer token's session",
            description: "Both tokens of the session stop working, on every instance within \
                          1 s.",
            tag: "auth",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[DocResponse {
                status: 204,
                description: "Logged out.",
                body: DocBody::Empty,
            }],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/auth/me",
        handler: auth::me,
        doc: RouteDoc {
            operation_id: "getMe",
            summary: "The current user and its permissions",
            description: "Interim rule until fine-grained access control: an administrator \
                          holds every `object:action` permission of the catalogue; anyone \
                          else holds `user:read` (its own entry) and may change its own \
                          password.",
            tag: "auth",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "The caller.",
                body: DocBody::Json("Me"),
            }],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/users/{uid}/password",
        handler: auth::change_password,
        doc: RouteDoc {
            operation_id: "changePassword",
            summary: "Change a user's password",
            description: "One's own password needs `current_password` (a wrong one is 401 \
                          `INVALID_CREDENTIALS` and counts as a failed login); another user's \
                          needs an administrator (403 `ACL_DENIED` otherwise). The new \
                          password must pass the password policy (400) and is hashed in the \
                          configured scheme.",
            tag: "users",
            access: Access::Bearer,
            query: &[],
            request: Some("PasswordChange"),
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Changed.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 401,
                    description: "Missing or invalid token (UNAUTHENTICATED), or a wrong \
                                  current password (INVALID_CREDENTIALS).",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 429,
                    description: "Too many wrong current passwords (RATE_LIMITED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/health",
        handler: system::health,
        doc: RouteDoc {
            operation_id: "getHealth",
            summary: "Health of the server and its directory",
            description: "`healthy` with 200 when the directory answers within 2 s, \
                          otherwise `degraded` with 503.",
            tag: "system",
            access: Access::Public,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The server and its directory are healthy.",
                    body: DocBody::Json("Health"),
                },
                DocResponse {
                    status: 503,
                    description: "The directory does not answer.",
                    body: DocBody::Json("Health"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/version",
        handler: system::version,
        doc: RouteDoc {
            operation_id: "getVersion",
            summary: "Server version",
            description: "",
            tag: "system",
            access: Access::Public,
            query: &[],
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "The version.",
                body: DocBody::Json("Version"),
            }],
        },
    },
    Route {
        method: Method::GET,
        path: "/openapi.json",
        handler: system::openapi,
        doc: RouteDoc {
            operation_id: "getOpenApi",
            summary: "This OpenAPI document",
            description: "",
            tag: "system",
            access: Access::Public,
            query: &[],
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "The OpenAPI 3.0 document.",
                body: DocBody::Json("OpenApiDocument"),
            }],
        },
    },
    Route {
        method: Method::GET,
        path: "/docs",
        handler: docs::index,
        doc: RouteDoc {
            operation_id: "getDocs",
            summary: "Interactive API documentation (Swagger UI)",
            description: "Served from the binary; needs no network access.",
            tag: "system",
            access: Access::Public,
            query: &[],
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "The Swagger UI page.",
                body: DocBody::Media("text/html"),
            }],
        },
    },
    Route {
        method: Method::GET,
        path: "/docs/{file}",
        handler: docs::asset,
        doc: RouteDoc {
            operation_id: "getDocsAsset",
            summary: "A file of the documentation page",
            description: "`swagger-ui.css`, `swagger-ui-bundle.js` or `heracles-docs.js`.",
            tag: "system",
            access: Access::Public,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The file.",
                    body: DocBody::Media("text/javascript"),
                },
                DocResponse {
                    status: 404,
                    description: "No such file.",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
];

/// The result of looking a request up in a table.
#[derive(Debug)]
pub enum Lookup<'t> {
    /// A route, with its decoded parameters.
    Found(&'t Route, Params),
    /// The path exists with other methods.
    MethodNotAllowed(Vec<Method>),
    /// No route has this path.
    NotFound,
    /// The path matched but a parameter is not valid UTF-8.
    BadParam(Error),
}

/// The raw (still encoded) parameters if `path` matches `template`, with the template's
/// specificity: one bit per segment, set where the template has a literal.
fn match_template<'p>(
    template: &'static str,
    path: &'p str,
) -> Option<(Vec<(&'static str, &'p str)>, u64)> {
    let mut t = template.split('/');
    let mut p = path.split('/');
    let mut params = Vec::new();
    let mut score = 0u64;
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some((params, score)),
            (Some(ts), Some(ps)) => {
                score <<= 1;
                if let Some(name) = ts.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    if ps.is_empty() {
                        return None;
                    }
                    params.push((name, ps));
                } else if ts == ps {
                    score |= 1;
                } else {
                    return None;
                }
            }
            _ => return None,
        }
    }
}

/// Looks a method and path up in a table.
pub fn lookup<'t>(table: &'t [Route], method: &Method, path: &str) -> Lookup<'t> {
    // The most specific template matching the path.
    let mut best: Option<(&'static str, u64)> = None;
    for route in table {
        if let Some((_, score)) = match_template(route.path, path) {
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((route.path, score));
            }
        }
    }
    let Some((template, _)) = best else {
        return Lookup::NotFound;
    };
    let effective = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    let candidates = table.iter().filter(|r| r.path == template);
    let Some(route) = candidates.clone().find(|r| r.method == *effective) else {
        let mut allowed: Vec<Method> = candidates.map(|r| r.method.clone()).collect();
        if allowed.contains(&Method::GET) {
            allowed.push(Method::HEAD);
        }
        return Lookup::MethodNotAllowed(allowed);
    };
    let mut params = Params::new();
    if let Some((raw, _)) = match_template(route.path, path) {
        for (name, value) in raw {
            match decode_path_segment(name, value) {
                Ok(v) => params.push((name, v)),
                Err(e) => return Lookup::BadParam(e),
            }
        }
    }
    Lookup::Found(route, params)
}

fn unauthenticated(message: &str) -> Error {
    Error::new(ErrorCode::Unauthenticated, message)
}

/// Checks the caller of a route that needs a bearer token: `Authorization: Bearer <access
/// token>` whose signature, lifetime, issuer, audience and type check out
/// ([`crate::auth::Tokens::verify`]), whose session is still active (not logged out,
/// revoked or expired; seen within 1 s on every instance), and whose user still exists.
/// Answers the caller as the core's `Principal`.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Authenticated> {
    let header = headers.get(AUTHORIZATION).ok_or_else(|| {
        unauthenticated("this route needs the header Authorization: Bearer <token>")
    })?;
    let text = header
        .to_str()
        .map_err(|_| unauthenticated("the Authorization header is not a bearer token"))?;
    let (scheme, token) = text
        .trim()
        .split_once(' ')
        .ok_or_else(|| unauthenticated("the Authorization header is not a bearer token"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthenticated(
            "the Authorization header is not a bearer token",
        ));
    }
    let claims = state.tokens().verify(token.trim(), TokenType::Access)?;
    if !state.heracles().sessions().is_active(&claims.sid).await? {
        return Err(unauthenticated(
            "the token's session has ended (logged out, revoked or expired)",
        ));
    }
    let dn = Dn::parse(&claims.sub).map_err(|_| unauthenticated("the token is invalid"))?;
    let principal = state.heracles().principal(&dn).await?;
    if principal.uid.is_none() {
        return Err(unauthenticated("the token's user no longer exists"));
    }
    Ok(Authenticated {
        principal,
        session_id: claims.sid,
    })
}

/// Routes one request and runs its handler; every failure becomes an error envelope.
pub async fn dispatch(
    state: Arc<AppState>,
    req: Request<RequestBody>,
    request_id: String,
) -> Reply {
    dispatch_in(ROUTES, state, req, request_id).await
}

/// [`dispatch`] over any table (tests use their own).
pub async fn dispatch_in(
    table: &'static [Route],
    state: Arc<AppState>,
    req: Request<RequestBody>,
    request_id: String,
) -> Reply {
    let limit = state.config().max_body_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return error_reply(&too_large(limit));
    }
    let path = req.uri().path().to_owned();
    let (route, params) = match lookup(table, req.method(), &path) {
        Lookup::Found(route, params) => (route, params),
        Lookup::NotFound => {
            return error_reply(
                &Error::new(
                    ErrorCode::NotFound,
                    format!("no route for {} {path}", req.method()),
                )
                .with_detail("path", path),
            )
        }
        Lookup::MethodNotAllowed(allowed) => {
            let list: Vec<&str> = allowed.iter().map(Method::as_str).collect();
            let list = list.join(", ");
            let err = Error::new(
                ErrorCode::MethodNotAllowed,
                format!("{} is not allowed on {path}; allowed: {list}", req.method()),
            )
            .with_detail("method", req.method().as_str())
            .with_detail(
                "allowed",
                allowed.iter().map(Method::as_str).collect::<Vec<_>>(),
            );
            let mut reply = error_reply(&err);
            if let Ok(v) = HeaderValue::from_str(&list) {
                reply.headers_mut().insert(ALLOW, v);
            }
            return reply;
        }
        Lookup::BadParam(e) => return error_reply(&e),
    };
    let (mut parts, body) = req.into_parts();
    if route.doc.access == Access::Bearer {
        match authenticate(&state, &parts.headers).await {
            Ok(auth) => {
                parts.extensions.insert(auth);
            }
            Err(e) => {
                let mut reply = error_reply(&e);
                if reply.status() == StatusCode::UNAUTHORIZED {
                    let challenge = if parts.headers.contains_key(AUTHORIZATION) {
                        "Bearer realm=\"heracles\", error=\"invalid_token\""
                    } else {
                        "Bearer realm=\"heracles\""
                    };
                    reply
                        .headers_mut()
                        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
                }
                return reply;
            }
        }
    }
    let ctx = Ctx::new(state, parts, params, request_id, body);
    match (route.handler)(ctx).await {
        Ok(reply) => reply,
        Err(e) => {
            if crate::error::status_of(e.code()).is_server_error() {
                tracing::warn!(code = %e.code(), error = %e.message(), "request failed");
            }
            error_reply(&e)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn noop(_: Ctx) -> HandlerFuture {
        Box::pin(async { Ok(Reply::no_content()) })
    }

    const DOC: RouteDoc = RouteDoc {
        operation_id: "x",
        summary: "x",
        description: "",
        tag: "t",
        access: Access::Public,
        query: &[],
        request: None,
        responses: &[],
    };

    static TABLE: &[Route] = &[
        Route {
            method: Method::GET,
            path: "/api/v1/departments/{ou}",
            handler: noop,
            doc: DOC,
        },
        Route {
            method: Method::DELETE,
            path: "/api/v1/departments/{ou}",
            handler: noop,
            doc: DOC,
        },
        Route {
            method: Method::GET,
            path: "/api/v1/departments/tree",
            handler: noop,
            doc: DOC,
        },
        Route {
            method: Method::POST,
            path: "/api/v1/users/{uid}/ssh-keys",
            handler: noop,
            doc: DOC,
        },
    ];

    #[test]
    fn literal_beats_parameter_and_params_decode() {
        match lookup(TABLE, &Method::GET, "/api/v1/departments/tree") {
            Lookup::Found(r, p) => {
                assert_eq!(r.path, "/api/v1/departments/tree");
                assert!(p.is_empty());
            }
            other => panic!("{other:?}"),
        }
        match lookup(TABLE, &Method::GET, "/api/v1/departments/R%26D%2Fx") {
            Lookup::Found(r, p) => {
                assert_eq!(r.path, "/api/v1/departments/{ou}");
                assert_eq!(p, vec![("ou", "R&D/x".to_owned())]);
            }
            other => panic!("{other:?}"),
        }
        // DELETE is not allowed on the literal route, even though {ou} has it.
        match lookup(TABLE, &Method::DELETE, "/api/v1/departments/tree") {
            Lookup::MethodNotAllowed(m) => assert_eq!(m, vec![Method::GET, Method::HEAD]),
            other => panic!("{other:?}"),
        }
        match lookup(TABLE, &Method::GET, "/api/v1/users/jdoe/ssh-keys") {
            Lookup::MethodNotAllowed(m) => assert_eq!(m, vec![Method::POST]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            lookup(TABLE, &Method::HEAD, "/api/v1/departments/x"),
            Lookup::Found(..)
        ));
        assert!(matches!(
            lookup(TABLE, &Method::GET, "/api/v1/departments/%ff"),
            Lookup::BadParam(_)
        ));
        for missing in [
            "/api/v1/departments/",
            "/api/v1/departments",
            "/api/v1/departments/x/y",
            "/api/v1/users//ssh-keys",
            "/",
            "",
        ] {
            assert!(
                matches!(lookup(TABLE, &Method::GET, missing), Lookup::NotFound),
                "{missing}"
            );
        }
    }

    #[test]
    fn the_table_is_well_formed() {
        let mut seen = HashSet::new();
        let mut ids = HashSet::new();
        for r in ROUTES {
            assert!(
                seen.insert((r.method.clone(), r.path)),
                "duplicate {} {}",
                r.method,
                r.path
            );
            assert!(
                ids.insert(r.doc.operation_id),
                "duplicate id {}",
                r.doc.operation_id
            );
            assert!(r.path.starts_with('/'), "{}", r.path);
            assert!(
                r.path.starts_with("/api/v1/")
                    || r.path == "/openapi.json"
                    || r.path.starts_with("/docs"),
                "{}",
                r.path
            );
            let mut names = HashSet::new();
            for seg in r.path.split('/').skip(1) {
                assert!(!seg.is_empty(), "empty segment in {}", r.path);
                if let Some(inner) = seg.strip_prefix('{') {
                    let name = inner.strip_suffix('}').expect("closed parameter");
                    assert!(names.insert(name), "parameter {name} twice in {}", r.path);
                } else {
                    assert!(!seg.contains(['{', '}']), "{}", r.path);
                }
            }
            assert!(!r.doc.responses.is_empty(), "{} has no responses", r.path);
        }
    }
}
