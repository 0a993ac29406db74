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
//! [`crate::openapi::schemas`] (a test checks). A handler of a protected
//! ([`Access::Bearer`]) route is written as `async fn(Ctx, Principal) -> Result<Reply>` and
//! wrapped with [`with_principal`]; its caller comes from [`principal_of`], the only place
//! handlers learn who calls.
//!
//! Callers: [`dispatch`] (the HTTP server) authenticates protected routes from the request;
//! [`dispatch_as`] (in-process embedding and tests) runs the same table on behalf of a
//! principal the calling program established itself.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};

use heracles_core::dn::Dn;
use heracles_core::error::{Error, ErrorCode, Result};
use heracles_core::service::Principal;
use http::header::{ALLOW, AUTHORIZATION, CONTENT_LENGTH, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};

use crate::auth::TokenType;
use crate::error::error_reply;
use crate::handlers::dhcp;
use crate::handlers::{
    acl, audit, auth, departments, dns, docs, groups, settings, ssh_keys, sudo, system, systems,
    templates, users,
};
use crate::reply::Reply;
use crate::request::{decode_path_segment, too_large, Ctx, Params, RequestBody, SessionId};
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
    Route {
        method: Method::GET,
        path: "/api/v1/users",
        handler: users::list,
        doc: RouteDoc {
            operation_id: "listUsers",
            summary: "List users",
            description: "Filter on uid, cn, sn, givenName, mail, uidNumber, ... (`filter=ATTR:OP:VALUE`); `attributes` limits the fields of each user (`dn` is always kept).",
            tag: "users",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "A page of users.",
                    body: DocBody::Json("UserList"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/users",
        handler: users::create,
        doc: RouteDoc {
            operation_id: "createUser",
            summary: "Create a user",
            description: "Fields are LDAP attribute names; `template` applies a template's defaults, `department` creates the user in a department, `posix` with `uidNumber: null` allocates a number. Answers with `Location`.",
            tag: "users",
            access: Access::Bearer,
            query: &[],
            request: Some("UserCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The new user.",
                    body: DocBody::Json("User"),
                },
                DocResponse {
                    status: 404,
                    description: "The template or department does not exist.",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 409,
                    description: "A user with this uid already exists (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 422,
                    description: "A business rule refused it (e.g. the uid range is exhausted).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/users/{uid}",
        handler: users::get,
        doc: RouteDoc {
            operation_id: "getUser",
            summary: "Get a user",
            description: "Answers with an `ETag`.",
            tag: "users",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The user.",
                    body: DocBody::Json("User"),
                },
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/users/{uid}",
        handler: users::update,
        doc: RouteDoc {
            operation_id: "updateUser",
            summary: "Change a user",
            description: "Only the fields given change; `null` removes an attribute; unknown fields are a 400. Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "users",
            access: Access::Bearer,
            query: &[],
            request: Some("UserUpdate"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The changed user.",
                    body: DocBody::Json("User"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/users/{uid}",
        handler: users::delete,
        doc: RouteDoc {
            operation_id: "deleteUser",
            summary: "Delete a user",
            description: "Also removes it from every group. Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "users",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Deleted.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/users/{uid}/lock",
        handler: users::lock,
        doc: RouteDoc {
            operation_id: "lockUser",
            summary: "Lock an account",
            description: "A locked account cannot log in or bind.",
            tag: "users",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The locked user.",
                    body: DocBody::Json("User"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/users/{uid}/unlock",
        handler: users::unlock,
        doc: RouteDoc {
            operation_id: "unlockUser",
            summary: "Unlock an account",
            description: "",
            tag: "users",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The unlocked user.",
                    body: DocBody::Json("User"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/users/{uid}/move",
        handler: users::move_to,
        doc: RouteDoc {
            operation_id: "moveUser",
            summary: "Move a user to another department",
            description: "Renames the user's entry into `department` (its DN, or its `ou` when \
                          unique), or with `null` back into `ou=people`; uid, attributes and \
                          password stay. Its groups' `member` values and the ACL assignments \
                          naming it follow; its sessions end. Needs `user:delete` where it is \
                          and `user:create` where it goes.",
            tag: "users",
            access: Access::Bearer,
            query: &[],
            request: Some("UserMove"),
            responses: &[DocResponse {
                status: 200,
                description: "The moved user.",
                body: DocBody::Json("User"),
            }],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/users/{uid}/ssh-keys",
        handler: ssh_keys::list,
        doc: RouteDoc {
            operation_id: "listSshKeys",
            summary: "List a user's SSH public keys",
            description: "The values of the user's `sshPublicKey`, each with its id, \
                          fingerprint (as `ssh-keygen -l` prints it), type, comment and \
                          size. Filter and sort on id, fingerprint, type, comment, bits, \
                          public_key, options (default order: comment, then id). Needs \
                          `user:read` on the user and the right to read `sshPublicKey`.",
            tag: "users",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "A page of keys.",
                body: DocBody::Json("SshKeyList"),
            }],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/users/{uid}/ssh-keys",
        handler: ssh_keys::add,
        doc: RouteDoc {
            operation_id: "addSshKey",
            summary: "Add an SSH public key to a user",
            description: "The key line is parsed and checked (type, key data, RSA at least \
                          2048 bits, no authorized_keys options) and stored as \
                          `type base64 comment`; the first key adds the class \
                          `ldapPublicKey`. Needs `user:write` and the right to write \
                          `sshPublicKey` (every user may, on its own entry, through the \
                          built-in `self` policy). Audited as a modify of the user.",
            tag: "users",
            access: Access::Bearer,
            query: &[],
            request: Some("SshKeyCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The stored key.",
                    body: DocBody::Json("SshKey"),
                },
                DocResponse {
                    status: 409,
                    description: "The user already has this key, whatever its comment \
                                  (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/users/{uid}/ssh-keys/{id}",
        handler: ssh_keys::delete,
        doc: RouteDoc {
            operation_id: "deleteSshKey",
            summary: "Remove an SSH public key from a user",
            description: "`id` is the key's id, or its fingerprint `SHA256:...` \
                          (percent-encoded). The last key takes the class `ldapPublicKey` \
                          with it.",
            tag: "users",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[DocResponse {
                status: 204,
                description: "Removed.",
                body: DocBody::Empty,
            }],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/groups",
        handler: groups::list,
        doc: RouteDoc {
            operation_id: "listGroups",
            summary: "List groups",
            description: "Filter on cn, description, gidNumber, member, memberUid; `attributes=member` (or memberUid) keeps `members`.",
            tag: "groups",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "A page of groups.",
                    body: DocBody::Json("GroupList"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/groups",
        handler: groups::create,
        doc: RouteDoc {
            operation_id: "createGroup",
            summary: "Create a group",
            description: "`groupType` ldap (default), posix or mixed; `gidNumber` null or absent is allocated for posix and mixed groups. Answers with `Location`.",
            tag: "groups",
            access: Access::Bearer,
            query: &[],
            request: Some("GroupCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The new group.",
                    body: DocBody::Json("Group"),
                },
                DocResponse {
                    status: 404,
                    description: "A member or the department does not exist.",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 409,
                    description: "A group with this cn already exists (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 422,
                    description: "A business rule refused it (e.g. the gid range is exhausted).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/groups/{cn}",
        handler: groups::get,
        doc: RouteDoc {
            operation_id: "getGroup",
            summary: "Get a group",
            description: "Answers with an `ETag`.",
            tag: "groups",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The group.",
                    body: DocBody::Json("Group"),
                },
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/groups/{cn}",
        handler: groups::update,
        doc: RouteDoc {
            operation_id: "updateGroup",
            summary: "Change a group",
            description: "Changes `description` and/or `gidNumber`. Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "groups",
            access: Access::Bearer,
            query: &[],
            request: Some("GroupUpdate"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The changed group.",
                    body: DocBody::Json("Group"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/groups/{cn}",
        handler: groups::delete,
        doc: RouteDoc {
            operation_id: "deleteGroup",
            summary: "Delete a group",
            description: "Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "groups",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Deleted.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/groups/{cn}/members",
        handler: groups::add_members,
        doc: RouteDoc {
            operation_id: "addGroupMembers",
            summary: "Add members",
            description: "`{member}` or `{members: [...]}`, uids or DNs of users — or DNs of groups, nested in an ldap or mixed group (their members count as members for access control); members already present are skipped. Honours `If-Match` against the group (412 on mismatch, `*` matches any existing).",
            tag: "groups",
            access: Access::Bearer,
            query: &[],
            request: Some("GroupMembers"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The group with its new members.",
                    body: DocBody::Json("Group"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/groups/{cn}/members/{uid}",
        handler: groups::remove_member,
        doc: RouteDoc {
            operation_id: "removeGroupMember",
            summary: "Remove a member",
            description: "`uid` is a uid or a DN; 404 if it is not a member. Answers with the resulting group. Honours `If-Match` against the group (412 on mismatch, `*` matches any existing).",
            tag: "groups",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The group without that member.",
                    body: DocBody::Json("Group"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/departments",
        handler: departments::list,
        doc: RouteDoc {
            operation_id: "listDepartments",
            summary: "List departments",
            description: "All departments at any depth; filter and sort on ou, description.",
            tag: "departments",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "A page of departments.",
                    body: DocBody::Json("DepartmentList"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/departments",
        handler: departments::create,
        doc: RouteDoc {
            operation_id: "createDepartment",
            summary: "Create a department",
            description: "`parent`: DN or unique ou of the parent; absent: top level. Answers with `Location`.",
            tag: "departments",
            access: Access::Bearer,
            query: &[],
            request: Some("DepartmentCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The new department.",
                    body: DocBody::Json("Department"),
                },
                DocResponse {
                    status: 404,
                    description: "The parent does not exist.",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 409,
                    description: "An entry of this name in that parent already exists (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/departments/tree",
        handler: departments::tree,
        doc: RouteDoc {
            operation_id: "getDepartmentTree",
            summary: "The department tree",
            description: "Top-level departments with their sub-departments, each level ordered by ou.",
            tag: "departments",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The tree.",
                    body: DocBody::Json("DepartmentTree"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/departments/{ou}",
        handler: departments::get,
        doc: RouteDoc {
            operation_id: "getDepartment",
            summary: "Get a department",
            description: "`{ou}` is a unique name or a DN; `parent` narrows it. Answers with an `ETag`.",
            tag: "departments",
            access: Access::Bearer,
            query: &[departments::PARENT],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The department.",
                    body: DocBody::Json("Department"),
                },
                DocResponse {
                    status: 422,
                    description: "The name is ambiguous (details: candidates).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/departments/{ou}",
        handler: departments::update,
        doc: RouteDoc {
            operation_id: "updateDepartment",
            summary: "Change a department",
            description: "Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "departments",
            access: Access::Bearer,
            query: &[departments::PARENT],
            request: Some("DepartmentUpdate"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The changed department.",
                    body: DocBody::Json("Department"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/departments/{ou}",
        handler: departments::delete,
        doc: RouteDoc {
            operation_id: "deleteDepartment",
            summary: "Delete a department",
            description: "A department that still holds entries is 422 unless `recursive=true`. Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "departments",
            access: Access::Bearer,
            query: &[departments::PARENT, departments::RECURSIVE],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Deleted.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 422,
                    description: "The department is not empty (BUSINESS_RULE_VIOLATION).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/templates",
        handler: templates::list,
        doc: RouteDoc {
            operation_id: "listTemplates",
            summary: "List templates",
            description: "Filter and sort on name, description.",
            tag: "templates",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "A page of templates.",
                    body: DocBody::Json("TemplateList"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/templates",
        handler: templates::create,
        doc: RouteDoc {
            operation_id: "createTemplate",
            summary: "Create a template",
            description: "Answers with `Location`.",
            tag: "templates",
            access: Access::Bearer,
            query: &[],
            request: Some("TemplateCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The new template.",
                    body: DocBody::Json("Template"),
                },
                DocResponse {
                    status: 409,
                    description: "A template of this name already exists (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/templates/{name}",
        handler: templates::get,
        doc: RouteDoc {
            operation_id: "getTemplate",
            summary: "Get a template",
            description: "Answers with an `ETag`.",
            tag: "templates",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The template.",
                    body: DocBody::Json("Template"),
                },
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/templates/{name}",
        handler: templates::update,
        doc: RouteDoc {
            operation_id: "updateTemplate",
            summary: "Change a template",
            description: "Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "templates",
            access: Access::Bearer,
            query: &[],
            request: Some("TemplateUpdate"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The changed template.",
                    body: DocBody::Json("Template"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/templates/{name}",
        handler: templates::delete,
        doc: RouteDoc {
            operation_id: "deleteTemplate",
            summary: "Delete a template",
            description: "Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "templates",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Deleted.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/systems",
        handler: systems::list,
        doc: RouteDoc {
            operation_id: "listSystems",
            summary: "List systems",
            description: "`?type=` narrows to one type; filter and sort on cn, description, ipAddress (ipHostNumber), macAddress. Needs `system:read`.",
            tag: "systems",
            access: Access::Bearer,
            query: &systems::QUERY,
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "A page of systems.",
                    body: DocBody::Json("SystemList"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/systems",
        handler: systems::create,
        doc: RouteDoc {
            operation_id: "createSystem",
            summary: "Create a system",
            description: "In its type's container; IP and MAC addresses validated and unique across systems. With `dns` and `dhcp`, its DNS records and DHCP host are created in the same request, all or nothing (a failed step undoes the earlier ones; needs `dns:create`/`dhcp:create` too). Answers with `Location`. Needs `system:create`.",
            tag: "systems",
            access: Access::Bearer,
            query: &[],
            request: Some("SystemCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The new system.",
                    body: DocBody::Json("System"),
                },
                DocResponse {
                    status: 409,
                    description: "The name or an address is taken (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/systems/{cn}",
        handler: systems::get,
        doc: RouteDoc {
            operation_id: "getSystem",
            summary: "Get a system",
            description: "Answers with an `ETag`.",
            tag: "systems",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The system.",
                    body: DocBody::Json("System"),
                },
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/systems/{cn}",
        handler: systems::update,
        doc: RouteDoc {
            operation_id: "updateSystem",
            summary: "Change a system",
            description: "Only the fields given change; `null` removes. Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "systems",
            access: Access::Bearer,
            query: &[],
            request: Some("SystemUpdate"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The changed system.",
                    body: DocBody::Json("System"),
                },
                DocResponse {
                    status: 409,
                    description: "An address is taken (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/systems/{cn}",
        handler: systems::delete,
        doc: RouteDoc {
            operation_id: "deleteSystem",
            summary: "Delete a system",
            description: "Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "systems",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Deleted.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dns/zones",
        handler: dns::list_zones,
        doc: RouteDoc {
            operation_id: "listDnsZones",
            summary: "List DNS zones",
            description: "Zones with their SOA fields and record counts. Filter and sort on \
                          zoneName, zoneType, primaryNs, adminEmail, serial, refresh, retry, \
                          expire, minimum, ttl, recordCount. Needs `dns:read`.",
            tag: "dns",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "A page of zones.",
                body: DocBody::Json("DnsZoneList"),
            }],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/dns/zones",
        handler: dns::create_zone,
        doc: RouteDoc {
            operation_id: "createDnsZone",
            summary: "Create a DNS zone",
            description: "Forward or reverse (`1.168.192.in-addr.arpa`, `...ip6.arpa`). Writes \
                          `zoneName=<zone>,ou=dns` and its apex `relativeDomainName=@` with the \
                          SOA (serial `YYYYMMDD00`) and the primary NS record, as bind's LDAP \
                          readers expect. Answers with `Location` and `ETag`. Needs \
                          `dns:create`.",
            tag: "dns",
            access: Access::Bearer,
            query: &[],
            request: Some("DnsZoneCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The new zone.",
                    body: DocBody::Json("DnsZone"),
                },
                DocResponse {
                    status: 409,
                    description: "The zone exists (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dns/zones/{zoneName}",
        handler: dns::get_zone,
        doc: RouteDoc {
            operation_id: "getDnsZone",
            summary: "Get a DNS zone",
            description: "Answers with an `ETag`; it changes with every change of the zone \
                          (every change increases the serial).",
            tag: "dns",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "The zone.",
                body: DocBody::Json("DnsZone"),
            }],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/dns/zones/{zoneName}",
        handler: dns::update_zone,
        doc: RouteDoc {
            operation_id: "updateDnsZone",
            summary: "Change a zone's SOA fields or TTL",
            description: "Only the fields given change; the serial increases. Honours \
                          `If-Match`. Needs `dns:write`.",
            tag: "dns",
            access: Access::Bearer,
            query: &[],
            request: Some("DnsZoneUpdate"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The changed zone.",
                    body: DocBody::Json("DnsZone"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/dns/zones/{zoneName}",
        handler: dns::delete_zone,
        doc: RouteDoc {
            operation_id: "deleteDnsZone",
            summary: "Delete a DNS zone with all its records",
            description: "Honours `If-Match` (412 when the zone changed). Needs `dns:delete`.",
            tag: "dns",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Deleted.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dns/zones/{zoneName}/records",
        handler: dns::list_records,
        doc: RouteDoc {
            operation_id: "listDnsRecords",
            summary: "List the records of a zone",
            description: "One item per value. Filter and sort on name, type, value, ttl \
                          (`filter=name:eq:www&filter=type:eq:A`); default order: name (apex \
                          first), type, value. Needs `dns:read`.",
            tag: "dns",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "A page of records.",
                body: DocBody::Json("DnsRecordList"),
            }],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/dns/zones/{zoneName}/records",
        handler: dns::create_record,
        doc: RouteDoc {
            operation_id: "createDnsRecord",
            summary: "Add a record",
            description: "Validated per type (addresses, names, MX/SRV numbers, TXT strings); \
                          CNAME exclusive with other data and never at the apex; PTR only in \
                          reverse zones; an RRset keeps one TTL. The serial increases. Needs \
                          `dns:create`.",
            tag: "dns",
            access: Access::Bearer,
            query: &[],
            request: Some("DnsRecordCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The new record.",
                    body: DocBody::Json("DnsRecord"),
                },
                DocResponse {
                    status: 409,
                    description: "The record exists (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dns/zones/{zoneName}/records/{name}/{type}",
        handler: dns::get_record_set,
        doc: RouteDoc {
            operation_id: "getDnsRecordSet",
            summary: "Get the records of one name and type",
            description: "Answers with an `ETag` for `If-Match` on DELETE.",
            tag: "dns",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "The record set.",
                body: DocBody::Json("DnsRecordSet"),
            }],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/dns/zones/{zoneName}/records/{name}/{type}",
        handler: dns::delete_records,
        doc: RouteDoc {
            operation_id: "deleteDnsRecords",
            summary: "Delete the records of one name and type",
            description: "All of them, or with `?value=` one value. The apex keeps one NS and \
                          an in-zone name server its address (422). The serial increases. \
                          Honours `If-Match` (the record set's ETag). Needs `dns:delete`.",
            tag: "dns",
            access: Access::Bearer,
            query: &[QueryParam {
                name: "value",
                description: "Delete only this value (`192.168.1.10`, `10 mail.example.com.`).",
                kind: ParamType::String,
            }],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Deleted.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 422,
                    description: "The last apex NS, or the last address of an in-zone name server (BUSINESS_RULE_VIOLATION).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/sudo",
        handler: sudo::list,
        doc: RouteDoc {
            operation_id: "listSudoRules",
            summary: "List sudo rules",
            description: "The `sudoRole` entries below `ou=sudoers`. Filter and sort on any \
                          sudoRole attribute (`filter=sudoUser:eq:%webadmins`; sudoCommand \
                          has no substring rule, so only `eq` and `present` apply to it).",
            tag: "sudo",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "A page of sudo rules.",
                body: DocBody::Json("SudoRuleList"),
            }],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/sudo",
        handler: sudo::create,
        doc: RouteDoc {
            operation_id: "createSudoRule",
            summary: "Create a sudo rule",
            description: "Every value is validated; users and groups named in sudoUser must \
                          exist, spelt exactly. `cn=defaults` holds sudo's global options. \
                          Answers with `Location` and `ETag`.",
            tag: "sudo",
            access: Access::Bearer,
            query: &[],
            request: Some("SudoRuleCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The new rule.",
                    body: DocBody::Json("SudoRule"),
                },
                DocResponse {
                    status: 409,
                    description: "A rule of this name already exists (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/sudo/{cn}",
        handler: sudo::get,
        doc: RouteDoc {
            operation_id: "getSudoRule",
            summary: "Get a sudo rule",
            description: "By name, case-insensitively. Answers with an `ETag`.",
            tag: "sudo",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[DocResponse {
                status: 200,
                description: "The rule.",
                body: DocBody::Json("SudoRule"),
            }],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/sudo/{cn}",
        handler: sudo::update,
        doc: RouteDoc {
            operation_id: "updateSudoRule",
            summary: "Change a sudo rule",
            description: "Only the fields given change; `null` removes. Honours `If-Match` \
                          (412 on mismatch, `*` matches any existing).",
            tag: "sudo",
            access: Access::Bearer,
            query: &[],
            request: Some("SudoRuleUpdate"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The changed rule.",
                    body: DocBody::Json("SudoRule"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/sudo/{cn}",
        handler: sudo::delete,
        doc: RouteDoc {
            operation_id: "deleteSudoRule",
            summary: "Delete a sudo rule",
            description: "Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "sudo",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Deleted.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/acl/policies",
        handler: acl::list_policies,
        doc: RouteDoc {
            operation_id: "listPolicies",
            summary: "List policies",
            description: "Built-in and stored policies; filter and sort on name, description, permissions. Needs `acl:read`.",
            tag: "acl",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "A page of policies.",
                    body: DocBody::Json("PolicyList"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/acl/policies",
        handler: acl::create_policy,
        doc: RouteDoc {
            operation_id: "createPolicy",
            summary: "Create a policy",
            description: "Needs `acl:create`. Built-in names are taken.",
            tag: "acl",
            access: Access::Bearer,
            query: &[],
            request: Some("PolicyCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The new policy.",
                    body: DocBody::Json("Policy"),
                },
                DocResponse {
                    status: 409,
                    description: "A policy of this name exists, or it is a built-in's (ALREADY_EXISTS).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/acl/policies/{name}",
        handler: acl::get_policy,
        doc: RouteDoc {
            operation_id: "getPolicy",
            summary: "Get a policy",
            description: "Needs `acl:read`. Answers with an `ETag`.",
            tag: "acl",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The policy.",
                    body: DocBody::Json("Policy"),
                },
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/acl/policies/{name}",
        handler: acl::update_policy,
        doc: RouteDoc {
            operation_id: "updatePolicy",
            summary: "Change a policy",
            description: "Needs `acl:write`; built-ins cannot change (422). Takes effect at once on this instance, within 1 s on others. Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "acl",
            access: Access::Bearer,
            query: &[],
            request: Some("PolicyUpdate"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The changed policy.",
                    body: DocBody::Json("Policy"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
                DocResponse {
                    status: 422,
                    description: "A built-in policy (BUSINESS_RULE_VIOLATION).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/acl/policies/{name}",
        handler: acl::delete_policy,
        doc: RouteDoc {
            operation_id: "deletePolicy",
            summary: "Delete a policy",
            description: "Needs `acl:delete`; built-ins and policies still assigned cannot go (422).",
            tag: "acl",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Deleted.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 422,
                    description: "A built-in, or still assigned (BUSINESS_RULE_VIOLATION; details list the assignments).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/acl/assignments",
        handler: acl::list_assignments,
        doc: RouteDoc {
            operation_id: "listAssignments",
            summary: "List assignments",
            description: "Filter and sort on id, policy, subject, subject_type, scope_type, scope, deny. Needs `acl:read`.",
            tag: "acl",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "A page of assignments.",
                    body: DocBody::Json("AssignmentList"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/acl/assignments",
        handler: acl::create_assignment,
        doc: RouteDoc {
            operation_id: "createAssignment",
            summary: "Create an assignment",
            description: "Binds a policy to a user or group (every member, nested groups included) over a scope, granting or (`deny`) denying. Needs `acl:create`.",
            tag: "acl",
            access: Access::Bearer,
            query: &[],
            request: Some("AssignmentCreate"),
            responses: &[
                DocResponse {
                    status: 201,
                    description: "The assignment with its id.",
                    body: DocBody::Json("Assignment"),
                },
                DocResponse {
                    status: 404,
                    description: "Unknown policy, subject or scope entry.",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/acl/assignments/{id}",
        handler: acl::delete_assignment,
        doc: RouteDoc {
            operation_id: "deleteAssignment",
            summary: "Delete an assignment",
            description: "Needs `acl:delete`. The last `admin` assignment over the tree cannot go (422).",
            tag: "acl",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Deleted.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 422,
                    description: "The last admin assignment (BUSINESS_RULE_VIOLATION).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/acl/permissions/{uid}",
        handler: acl::permissions,
        doc: RouteDoc {
            operation_id: "getPermissions",
            summary: "Effective permissions",
            description: "What a user may do, with the assignments that grant it. Needs `acl:read` except for one's own.",
            tag: "acl",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "Permissions and grants.",
                    body: DocBody::Json("EffectivePermissions"),
                },
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/acl/check",
        handler: acl::check,
        doc: RouteDoc {
            operation_id: "checkPermission",
            summary: "Check a permission",
            description: "Whether the caller may do `action` on an `object_type` (at `object_dn`, else anywhere; with `attribute`, the attribute rules too), and why.",
            tag: "acl",
            access: Access::Bearer,
            query: &[],
            request: Some("AclCheck"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The decision.",
                    body: DocBody::Json("AclDecision"),
                },
            ],
        },
    },
    // ---- DHCP (handlers/dhcp.rs) ----------------------------------------------------------
    Route {
        method: Method::GET,
        path: "/api/v1/dhcp/services",
        handler: dhcp::list_services,
        doc: RouteDoc {
            operation_id: "listDhcpServices",
            summary: "List DHCP services",
            description: "Filter and sort on cn, description, statements, options, server, primaryDN.",
            tag: "dhcp",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                dhcp::answer_doc(200, "A page of services.", "DhcpServiceList"),
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/dhcp/services",
        handler: dhcp::create_service,
        doc: RouteDoc {
            operation_id: "createDhcpService",
            summary: "Create a DHCP service",
            description: "Creates the dhcpService entry below ou=dhcp and points the dhcpServer entry named by `server` (default: cn; created when missing, below ou=servers,ou=dhcp) at it, filling `dhcpPrimaryDN`: what ISC dhcpd's LDAP back-end needs to find it. Answers with `Location`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: Some("DhcpServiceCreate"),
            responses: &[
                dhcp::answer_doc(201, "The new service (empty tree).", "DhcpServiceDetails"),
                dhcp::error_doc(409, "A service of that name exists (ALREADY_EXISTS)."),
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dhcp/services/{name}",
        handler: dhcp::get_service,
        doc: RouteDoc {
            operation_id: "getDhcpService",
            summary: "Get a DHCP service with everything it holds",
            description: "The service with its shared networks, subnets (each with its pools) and hosts the caller may read. Answers with an `ETag` (of the whole tree).",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                dhcp::answer_doc(200, "The service tree.", "DhcpServiceDetails"),
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/dhcp/services/{name}",
        handler: dhcp::update_service,
        doc: RouteDoc {
            operation_id: "updateDhcpService",
            summary: "Change a DHCP service",
            description: "description, statements, options. Honours `If-Match` (the ETag of the tree; 412 on mismatch).",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: Some("DhcpConfigUpdate"),
            responses: &[
                dhcp::answer_doc(200, "The changed service tree.", "DhcpServiceDetails"),
                dhcp::PRECONDITION,
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/dhcp/services/{name}",
        handler: dhcp::delete_service,
        doc: RouteDoc {
            operation_id: "deleteDhcpService",
            summary: "Delete a DHCP service",
            description: "A service that still holds entries is 422 unless `recursive=true`, which deletes the whole tree (dhcp:delete needed on every entry). Its dhcpServer entry forgets it (and is deleted once it serves nothing). Honours `If-Match`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[dhcp::RECURSIVE],
            request: None,
            responses: &[
                dhcp::DELETED,
                dhcp::PRECONDITION,
                dhcp::error_doc(422, "The service is not empty (BUSINESS_RULE_VIOLATION)."),
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dhcp/services/{name}/shared-networks",
        handler: dhcp::list_shared_networks,
        doc: RouteDoc {
            operation_id: "listDhcpSharedNetworks",
            summary: "List the shared networks of a service",
            description: "Filter and sort on cn, description, statements, options.",
            tag: "dhcp",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                dhcp::answer_doc(200, "A page of shared networks.", "DhcpSharedNetworkList"),
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/dhcp/services/{name}/shared-networks",
        handler: dhcp::create_shared_network,
        doc: RouteDoc {
            operation_id: "createDhcpSharedNetwork",
            summary: "Create a shared network",
            description: "A dhcpSharedNetwork directly below the service; subnets go into it with `POST .../subnets?shared_network=`. Answers with `Location`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: Some("DhcpSharedNetworkCreate"),
            responses: &[
                dhcp::answer_doc(201, "The new shared network.", "DhcpSharedNetwork"),
                dhcp::error_doc(409, "An entry of that name exists in the service (ALREADY_EXISTS)."),
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dhcp/services/{name}/shared-networks/{cn}",
        handler: dhcp::get_shared_network,
        doc: RouteDoc {
            operation_id: "getDhcpSharedNetwork",
            summary: "Get a shared network",
            description: "Answers with an `ETag`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                dhcp::answer_doc(200, "The shared network.", "DhcpSharedNetwork"),
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/dhcp/services/{name}/shared-networks/{cn}",
        handler: dhcp::update_shared_network,
        doc: RouteDoc {
            operation_id: "updateDhcpSharedNetwork",
            summary: "Change a shared network",
            description: "description, statements, options. Honours `If-Match`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: Some("DhcpConfigUpdate"),
            responses: &[
                dhcp::answer_doc(200, "The changed shared network.", "DhcpSharedNetwork"),
                dhcp::PRECONDITION,
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/dhcp/services/{name}/shared-networks/{cn}",
        handler: dhcp::delete_shared_network,
        doc: RouteDoc {
            operation_id: "deleteDhcpSharedNetwork",
            summary: "Delete a shared network",
            description: "One that still holds subnets is 422 unless `recursive=true`. Honours `If-Match`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[dhcp::RECURSIVE],
            request: None,
            responses: &[
                dhcp::DELETED,
                dhcp::PRECONDITION,
                dhcp::error_doc(422, "It is not empty (BUSINESS_RULE_VIOLATION)."),
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dhcp/services/{name}/subnets",
        handler: dhcp::list_subnets,
        doc: RouteDoc {
            operation_id: "listDhcpSubnets",
            summary: "List the subnets of a service",
            description: "All subnets of the service (directly in it or in a shared network), or those of `shared_network`; each with its pools. Filter and sort on network, prefix, description, statements, options.",
            tag: "dhcp",
            access: Access::Bearer,
            query: dhcp::SUBNET_LIST_QUERY,
            request: None,
            responses: &[
                dhcp::answer_doc(200, "A page of subnets.", "DhcpSubnetList"),
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/dhcp/services/{name}/subnets",
        handler: dhcp::create_subnet,
        doc: RouteDoc {
            operation_id: "createDhcpSubnet",
            summary: "Create a subnet",
            description: "`network` without host bits and `prefix` (or `network` as a.b.c.d/len); stored as a dhcpSubnet with cn = network address and dhcpNetMask = prefix, directly below the service or in the shared network `shared_network`. Overlapping another subnet of the service is 422; the same network 409. Answers with `Location`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[dhcp::SHARED_NETWORK],
            request: Some("DhcpSubnetCreate"),
            responses: &[
                dhcp::answer_doc(201, "The new subnet.", "DhcpSubnet"),
                dhcp::error_doc(409, "The service has this subnet already (ALREADY_EXISTS)."),
                dhcp::error_doc(422, "It overlaps another subnet of the service (BUSINESS_RULE_VIOLATION)."),
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dhcp/services/{name}/subnets/{network}",
        handler: dhcp::get_subnet,
        doc: RouteDoc {
            operation_id: "getDhcpSubnet",
            summary: "Get a subnet",
            description: "By its network address, wherever it lies in the service; with its pools. Answers with an `ETag`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                dhcp::answer_doc(200, "The subnet.", "DhcpSubnet"),
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/dhcp/services/{name}/subnets/{network}",
        handler: dhcp::update_subnet,
        doc: RouteDoc {
            operation_id: "updateDhcpSubnet",
            summary: "Change a subnet",
            description: "prefix, description, statements, options. A new prefix must keep the network address valid, not overlap another subnet, and keep its pools and the fixed addresses inside it inside (422). Honours `If-Match`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: Some("DhcpSubnetUpdate"),
            responses: &[
                dhcp::answer_doc(200, "The changed subnet.", "DhcpSubnet"),
                dhcp::PRECONDITION,
                dhcp::error_doc(422, "The new prefix breaks a rule (BUSINESS_RULE_VIOLATION)."),
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/dhcp/services/{name}/subnets/{network}",
        handler: dhcp::delete_subnet,
        doc: RouteDoc {
            operation_id: "deleteDhcpSubnet",
            summary: "Delete a subnet",
            description: "One holding pools is 422 unless `recursive=true`; one holding the fixed address of a host is always 422 (details: hosts). Honours `If-Match`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[dhcp::RECURSIVE],
            request: None,
            responses: &[
                dhcp::DELETED,
                dhcp::PRECONDITION,
                dhcp::error_doc(422, "It holds pools or fixed addresses (BUSINESS_RULE_VIOLATION)."),
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dhcp/services/{name}/subnets/{network}/pools",
        handler: dhcp::list_pools,
        doc: RouteDoc {
            operation_id: "listDhcpPools",
            summary: "List the pools of a subnet",
            description: "Filter and sort on id, range, description, permitList, statements, options.",
            tag: "dhcp",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                dhcp::answer_doc(200, "A page of pools.", "DhcpPoolList"),
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/dhcp/services/{name}/subnets/{network}/pools",
        handler: dhcp::create_pool,
        doc: RouteDoc {
            operation_id: "createDhcpPool",
            summary: "Create a pool",
            description: "`range` \"first last\" (dhcpRange), inside the usable addresses of the subnet (400), not overlapping another pool of it (422; the same range 409). The pool's id is `first-last`. Answers with `Location`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: Some("DhcpPoolCreate"),
            responses: &[
                dhcp::answer_doc(201, "The new pool.", "DhcpPool"),
                dhcp::error_doc(409, "The subnet has this pool already (ALREADY_EXISTS)."),
                dhcp::error_doc(422, "It overlaps another pool (BUSINESS_RULE_VIOLATION)."),
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dhcp/services/{name}/subnets/{network}/pools/{id}",
        handler: dhcp::get_pool,
        doc: RouteDoc {
            operation_id: "getDhcpPool",
            summary: "Get a pool",
            description: "`{id}` is `first-last`. Answers with an `ETag`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                dhcp::answer_doc(200, "The pool.", "DhcpPool"),
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/dhcp/services/{name}/subnets/{network}/pools/{id}",
        handler: dhcp::update_pool,
        doc: RouteDoc {
            operation_id: "updateDhcpPool",
            summary: "Change a pool",
            description: "permitList, description, statements, options; the range cannot change. Honours `If-Match`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: Some("DhcpPoolUpdate"),
            responses: &[
                dhcp::answer_doc(200, "The changed pool.", "DhcpPool"),
                dhcp::PRECONDITION,
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/dhcp/services/{name}/subnets/{network}/pools/{id}",
        handler: dhcp::delete_pool,
        doc: RouteDoc {
            operation_id: "deleteDhcpPool",
            summary: "Delete a pool",
            description: "Honours `If-Match`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                dhcp::DELETED,
                dhcp::PRECONDITION,
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dhcp/services/{name}/hosts",
        handler: dhcp::list_hosts,
        doc: RouteDoc {
            operation_id: "listDhcpHosts",
            summary: "List the hosts of a service",
            description: "Filter and sort on cn, macAddress, fixedAddress (computed: all operators, addresses sorted numerically), description, statements, options.",
            tag: "dhcp",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                dhcp::answer_doc(200, "A page of hosts.", "DhcpHostList"),
            ],
        },
    },
    Route {
        method: Method::POST,
        path: "/api/v1/dhcp/services/{name}/hosts",
        handler: dhcp::create_host,
        doc: RouteDoc {
            operation_id: "createDhcpHost",
            summary: "Create a host",
            description: "A dhcpHost directly below the service: `macAddress` as dhcpHWAddress `ethernet aa:bb:..` (unique in the service: 409), `fixedAddress` as the statement `fixed-address a.b.c.d` (a usable address of a subnet of the service: else 400). Answers with `Location`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: Some("DhcpHostCreate"),
            responses: &[
                dhcp::answer_doc(201, "The new host.", "DhcpHost"),
                dhcp::error_doc(409, "A host of that name, or with that MAC address, exists in the service (ALREADY_EXISTS)."),
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/dhcp/services/{name}/hosts/{cn}",
        handler: dhcp::get_host,
        doc: RouteDoc {
            operation_id: "getDhcpHost",
            summary: "Get a host",
            description: "Answers with an `ETag`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                dhcp::answer_doc(200, "The host.", "DhcpHost"),
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/dhcp/services/{name}/hosts/{cn}",
        handler: dhcp::update_host,
        doc: RouteDoc {
            operation_id: "updateDhcpHost",
            summary: "Change a host",
            description: "macAddress, fixedAddress (null removes either), description, statements, options; the rules of creation apply. Honours `If-Match`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: Some("DhcpHostUpdate"),
            responses: &[
                dhcp::answer_doc(200, "The changed host.", "DhcpHost"),
                dhcp::PRECONDITION,
                dhcp::error_doc(409, "Another host has that MAC address (ALREADY_EXISTS)."),
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/dhcp/services/{name}/hosts/{cn}",
        handler: dhcp::delete_host,
        doc: RouteDoc {
            operation_id: "deleteDhcpHost",
            summary: "Delete a host",
            description: "Honours `If-Match`.",
            tag: "dhcp",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                dhcp::DELETED,
                dhcp::PRECONDITION,
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/settings",
        handler: settings::list,
        doc: RouteDoc {
            operation_id: "listSettings",
            summary: "List settings",
            description: "Every setting with its value in force; filter and sort on key, value, default, description.",
            tag: "settings",
            access: Access::Bearer,
            query: LIST_QUERY,
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "A page of settings.",
                    body: DocBody::Json("SettingList"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/settings/{key}",
        handler: settings::get,
        doc: RouteDoc {
            operation_id: "getSetting",
            summary: "Get a setting",
            description: "Answers with an `ETag`.",
            tag: "settings",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The setting.",
                    body: DocBody::Json("Setting"),
                },
            ],
        },
    },
    Route {
        method: Method::PUT,
        path: "/api/v1/settings/{key}",
        handler: settings::update,
        doc: RouteDoc {
            operation_id: "setSetting",
            summary: "Change a setting",
            description: "Body `{value}`, validated per key. Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "settings",
            access: Access::Bearer,
            query: &[],
            request: Some("SettingUpdate"),
            responses: &[
                DocResponse {
                    status: 200,
                    description: "The stored setting.",
                    body: DocBody::Json("Setting"),
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::DELETE,
        path: "/api/v1/settings/{key}",
        handler: settings::delete,
        doc: RouteDoc {
            operation_id: "resetSetting",
            summary: "Reset a setting to its default",
            description: "204 like every DELETE; `GET` then shows the default. Honours `If-Match` (412 on mismatch, `*` matches any existing).",
            tag: "settings",
            access: Access::Bearer,
            query: &[],
            request: None,
            responses: &[
                DocResponse {
                    status: 204,
                    description: "Back at its default.",
                    body: DocBody::Empty,
                },
                DocResponse {
                    status: 412,
                    description: "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
                    body: DocBody::Json("Error"),
                },
            ],
        },
    },
    Route {
        method: Method::GET,
        path: "/api/v1/audit",
        handler: audit::list,
        doc: RouteDoc {
            operation_id: "listAuditEvents",
            summary: "List audit events",
            description: "Every write and every login attempt, newest first (SPEC §6). \
                          Filter on actor, action, target, object_type, result and request_id \
                          (`filter=action:eq:login`); `from`/`to` (RFC 3339, both included) \
                          limit the time range. Needs `audit:read` (an administrator). Events \
                          are kept for `audit_retention_days` (setting, default 90). A \
                          `pending` result means the outcome is unknown (see the README).",
            tag: "audit",
            access: Access::Bearer,
            query: audit::QUERY,
            request: None,
            responses: &[
                DocResponse {
                    status: 200,
                    description: "A page of events.",
                    body: DocBody::Json("AuditEventList"),
                },
                DocResponse {
                    status: 400,
                    description: "A bad filter (INVALID_FILTER), `from`/`to` that are not RFC \
                                  3339 times or `from` after `to` (VALIDATION_FAILED), or bad \
                                  paging (INVALID_PAGINATION).",
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

/// One segment of a route template.
#[derive(Debug)]
enum Segment {
    /// Must be equal.
    Literal(&'static str),
    /// `{name}`: any non-empty segment.
    Param(&'static str),
}

/// The templates of a table, each split into its segments.
type Compiled = Vec<Vec<Segment>>;

/// The templates of `table` split into segments: once per table, then kept (tables are
/// `'static`, so one address is one table for the life of the process).
fn compiled(table: &'static [Route]) -> &'static Compiled {
    static CACHE: RwLock<Vec<(usize, usize, &'static Compiled)>> = RwLock::new(Vec::new());
    let key = (table.as_ptr().addr(), table.len());
    let find = |c: &[(usize, usize, &'static Compiled)]| {
        c.iter()
            .find(|(p, n, _)| (*p, *n) == key)
            .map(|(_, _, c)| *c)
    };
    if let Some(c) = find(&CACHE.read().unwrap_or_else(PoisonError::into_inner)) {
        return c;
    }
    let mut cache = CACHE.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(c) = find(&cache) {
        return c;
    }
    let split: Compiled = table
        .iter()
        .map(|r| {
            r.path
                .split('/')
                .map(
                    |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => Segment::Param(name),
                        None => Segment::Literal(seg),
                    },
                )
                .collect()
        })
        .collect();
    let c: &'static Compiled = Box::leak(Box::new(split));
    cache.push((key.0, key.1, c));
    c
}

/// The template's specificity if the path (split at `/`) matches it: one bit per segment,
/// set where the template has a literal.
fn score(template: &[Segment], path: &[&str]) -> Option<u64> {
    if template.len() != path.len() {
        return None;
    }
    let mut score = 0u64;
    for (t, p) in template.iter().zip(path) {
        score <<= 1;
        match t {
            Segment::Literal(l) if l == p => score |= 1,
            Segment::Literal(_) => return None,
            Segment::Param(_) if p.is_empty() => return None,
            Segment::Param(_) => {}
        }
    }
    Some(score)
}

/// Looks a method and path up in a table.
pub fn lookup(table: &'static [Route], method: &Method, path: &str) -> Lookup<'static> {
    let templates = compiled(table);
    let parts: Vec<&str> = path.split('/').collect();
    // The most specific template matching the path.
    let mut best: Option<(&'static str, u64)> = None;
    for (route, template) in table.iter().zip(templates) {
        if let Some(score) = score(template, &parts) {
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
    let candidates = table
        .iter()
        .zip(templates)
        .filter(|(r, _)| r.path == template);
    let Some((route, segments)) = candidates.clone().find(|(r, _)| r.method == *effective) else {
        let mut allowed: Vec<Method> = candidates.map(|(r, _)| r.method.clone()).collect();
        if allowed.contains(&Method::GET) {
            allowed.push(Method::HEAD);
        }
        return Lookup::MethodNotAllowed(allowed);
    };
    let mut params = Params::new();
    for (t, value) in segments.iter().zip(&parts) {
        if let Segment::Param(name) = t {
            match decode_path_segment(name, value) {
                Ok(v) => params.push((*name, v)),
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
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<(Principal, SessionId)> {
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
    Ok((principal, SessionId(claims.sid)))
}

/// The caller of a request, as the router established it: the one place handlers get their
/// [`Principal`] from. A handler of a [`Access::Bearer`] route always has one (the router
/// refuses the request otherwise); elsewhere this is 401 `UNAUTHENTICATED`.
pub fn principal_of(ctx: &Ctx) -> Result<Principal> {
    let p = ctx.principal().cloned().ok_or_else(|| {
        Error::new(
            ErrorCode::Unauthenticated,
            "this route needs an authenticated caller",
        )
    })?;
    // Its audit events carry this request's id and the client's address.
    Ok(p.for_request(
        ctx.request_id(),
        ctx.client_addr().map(|a| a.ip().to_string()),
    ))
}

/// Runs `f` with the caller of the request ([`principal_of`]): how the handlers of
/// protected routes are written, `fn(Ctx) -> HandlerFuture` around an
/// `async fn(Ctx, Principal) -> Result<Reply>`.
pub fn with_principal<F, Fut>(ctx: Ctx, f: F) -> HandlerFuture
where
    F: FnOnce(Ctx, Principal) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Reply>> + Send + 'static,
{
    Box::pin(async move {
        let principal = principal_of(&ctx)?;
        f(ctx, principal).await
    })
}

/// Who the caller of a dispatch is.
enum Caller {
    /// Whoever the request's credentials say ([`authenticate`]).
    FromRequest,
    /// Established by the embedding program itself (in-process calls, tests).
    Given(Principal),
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
    run(table, state, req, request_id, Caller::FromRequest).await
}

/// In-process dispatch on behalf of a principal the calling program has established
/// itself (embedding, tests): routing, body limits, handlers and error rendering as in
/// [`dispatch`], but the request's credentials are not looked at. The HTTP server never
/// calls this; it is a Rust API, like calling the core services with a `Principal`.
pub async fn dispatch_as(
    table: &'static [Route],
    state: Arc<AppState>,
    req: Request<RequestBody>,
    request_id: String,
    principal: Principal,
) -> Reply {
    run(table, state, req, request_id, Caller::Given(principal)).await
}

async fn run(
    table: &'static [Route],
    state: Arc<AppState>,
    req: Request<RequestBody>,
    request_id: String,
    caller: Caller,
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
    let principal = match caller {
        Caller::Given(p) => Some(p),
        Caller::FromRequest if route.doc.access == Access::Bearer => {
            match authenticate(&state, &parts.headers).await {
                Ok((p, session)) => {
                    parts.extensions.insert(session);
                    Some(p)
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
        Caller::FromRequest => None,
    };
    let mut ctx = Ctx::new(state, parts, params, request_id, body);
    if let Some(p) = principal {
        ctx = ctx.with_principal(p);
    }
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
