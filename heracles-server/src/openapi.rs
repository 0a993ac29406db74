//! The OpenAPI 3.0 document, built from the route table ([`crate::router::ROUTES`]) with the
//! `openapiv3` types, so the document and the router cannot drift.
//!
//! Every operation gets, besides the responses its route lists, the standard error
//! responses that can happen to it: 400 (it has parameters or a body), 401 and 403 (it needs
//! a token), 404 (it has path parameters), 413 and 415 (it takes a body), 500 and 503
//! (always: the directory may be down and every request has a time limit). They all use the
//! one error envelope schema `Error`, whose `code` enumerates every `ErrorCode`. Every
//! response documents the `X-Request-Id` header.

use bytes::Bytes;
use heracles_core::error::{Error, ErrorCode, Result};
use openapiv3::{
    Components, Info, MediaType, OpenAPI, Operation, PathItem, ReferenceOr, RequestBody, Response,
    SecurityRequirement, SecurityScheme, StatusCode, Tag,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::router::{Access, DocBody, ParamType, Route};

/// Name of the bearer token security scheme.
pub const BEARER: &str = "bearerAuth";
/// OpenAPI version of the document.
pub const OPENAPI_VERSION: &str = "3.0.3";

/// Tags, in display order, with their descriptions.
pub const TAGS: &[(&str, &str)] = &[
    (
        "auth",
        "Login, token refresh, logout and the current user (SPEC §2).",
    ),
    ("users", "People (inetOrgPerson, optionally POSIX)."),
    ("groups", "Groups: ldap, posix or mixed."),
    ("departments", "Organizational units."),
    ("templates", "Defaults for new users."),
    (
        "systems",
        "Servers, workstations, terminals, printers, components, phones, mobiles.",
    ),
    (
        "dns",
        "DNS zones and records (dNSZone entries below ou=dns, as bind reads them).",
    ),
    (
        "dhcp",
        "DHCP services, shared networks, subnets, pools and hosts, as ISC dhcpd's LDAP \
         back-end reads them.",
    ),
    (
        "sudo",
        "Sudo rules: sudoRole entries below ou=sudoers, as sudo and sssd read them.",
    ),
    (
        "acl",
        "Access control: policies, assignments, effective permissions, checks (SPEC §5).",
    ),
    ("settings", "Server settings stored in the directory."),
    (
        "audit",
        "The audit trail: every write and every login attempt (SPEC §6).",
    ),
    (
        "system",
        "Health, version, this document and the documentation page.",
    ),
];

fn reference<T>(kind: &str, name: &str) -> ReferenceOr<T> {
    ReferenceOr::Reference {
        reference: format!("#/components/{kind}/{name}"),
    }
}

fn from_json<T: DeserializeOwned>(what: &str, value: Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| Error::internal(format!("the OpenAPI {what} is invalid: {e}")))
}

/// The JSON schema of a page of `item` (a component schema name), as every list answers:
/// `{"data": [...], "pagination": {...}}`.
pub fn page_schema(item: &str) -> Value {
    json!({
        "type": "object",
        "required": ["data", "pagination"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}},
            "pagination": {"$ref": "#/components/schemas/Pagination"}
        }
    })
}

/// The component schemas, by name. Routes refer to them by name ([`DocBody::Json`],
/// `RouteDoc::request`).
pub fn schemas() -> Vec<(&'static str, Value)> {
    let mut all = base_schemas();
    all.extend(crate::handlers::users::schemas());
    all.extend(crate::handlers::groups::schemas());
    all.extend(crate::handlers::departments::schemas());
    all.extend(crate::handlers::templates::schemas());
    all.extend(crate::handlers::dns::schemas());
    all.extend(crate::handlers::dhcp::schemas());
    all.extend(crate::handlers::sudo::schemas());
    all.extend(crate::handlers::ssh_keys::schemas());
    all.extend(crate::handlers::settings::schemas());
    all.extend(crate::handlers::acl::schemas());
    all.extend(crate::handlers::systems::schemas());
    all.extend(crate::handlers::audit::schemas());
    all
}

/// The schemas of the framework itself (errors, pagination, system routes).
fn base_schemas() -> Vec<(&'static str, Value)> {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    vec![
        (
            "Error",
            json!({
                "type": "object",
                "description": "The envelope of every error answer.",
                "required": ["error"],
                "properties": {"error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {
                            "type": "string",
                            "description": "Stable machine-readable code.",
                            "enum": codes
                        },
                        "message": {"type": "string", "description": "Human-readable explanation."},
                        "details": {
                            "type": "object",
                            "description": "Structured context (field, uid, dn, ...).",
                            "additionalProperties": true
                        }
                    }
                }},
                "example": {"error": {
                    "code": "USER_NOT_FOUND",
                    "message": "User with uid 'jdoe' not found",
                    "details": {"uid": "jdoe"}
                }}
            }),
        ),
        (
            "Pagination",
            json!({
                "type": "object",
                "required": ["total", "limit", "offset", "has_more"],
                "properties": {
                    "total": {"type": "integer", "minimum": 0, "description": "Matches in all pages."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "offset": {"type": "integer", "minimum": 0},
                    "has_more": {"type": "boolean", "description": "Whether matches follow this page."}
                }
            }),
        ),
        (
            "Health",
            json!({
                "type": "object",
                "required": ["status", "version", "services"],
                "properties": {
                    "status": {"type": "string", "enum": ["healthy", "degraded"]},
                    "version": {"type": "string", "example": env!("CARGO_PKG_VERSION")},
                    "services": {
                        "type": "object",
                        "required": ["ldap"],
                        "properties": {"ldap": {"type": "string", "enum": ["connected", "unreachable"]}}
                    }
                }
            }),
        ),
        (
            "Version",
            json!({
                "type": "object",
                "required": ["name", "version", "api_version"],
                "properties": {
                    "name": {"type": "string", "example": "heracles"},
                    "version": {"type": "string", "example": env!("CARGO_PKG_VERSION")},
                    "api_version": {"type": "string", "example": "v1"}
                }
            }),
        ),
        (
            "OpenApiDocument",
            json!({
                "type": "object",
                "description": "An OpenAPI 3.0 document (this one).",
                "additionalProperties": true
            }),
        ),
    ]
    .into_iter()
    .chain(auth_schemas())
    .collect()
}

/// The schemas of the `/auth` routes and the password change.
fn auth_schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "LoginRequest",
            json!({
                "type": "object",
                "required": ["username", "password"],
                "additionalProperties": false,
                "properties": {
                    "username": {"type": "string", "description": "A uid, or a full DN.", "example": "admin"},
                    "password": {"type": "string", "format": "password"}
                }
            }),
        ),
        (
            "RefreshRequest",
            json!({
                "type": "object",
                "required": ["refresh_token"],
                "additionalProperties": false,
                "properties": {
                    "refresh_token": {"type": "string", "description": "The refresh token of the last login or refresh (single use)."}
                }
            }),
        ),
        (
            "TokenPair",
            json!({
                "type": "object",
                "required": ["access_token", "refresh_token", "token_type", "expires_in"],
                "properties": {
                    "access_token": {"type": "string", "description": "HS256 JWT; send it as `Authorization: Bearer <token>`."},
                    "refresh_token": {"type": "string", "description": "Single-use HS256 JWT for POST /api/v1/auth/refresh."},
                    "token_type": {"type": "string", "enum": ["bearer"]},
                    "expires_in": {"type": "integer", "description": "Seconds until the access token expires (setting access_token_ttl_seconds)."}
                }
            }),
        ),
        (
            "LoginResponse",
            json!({
                "type": "object",
                "required": ["access_token", "refresh_token", "token_type", "expires_in", "user"],
                "properties": {
                    "access_token": {"type": "string"},
                    "refresh_token": {"type": "string"},
                    "token_type": {"type": "string", "enum": ["bearer"]},
                    "expires_in": {"type": "integer"},
                    "user": {
                        "type": "object",
                        "required": ["dn", "uid", "cn"],
                        "properties": {
                            "dn": {"type": "string"},
                            "uid": {"type": "string"},
                            "cn": {"type": "string"}
                        }
                    }
                }
            }),
        ),
        (
            "Me",
            json!({
                "type": "object",
                "required": ["dn", "uid", "cn", "mail", "admin", "permissions"],
                "properties": {
                    "dn": {"type": "string"},
                    "uid": {"type": "string", "nullable": true},
                    "cn": {"type": "string", "nullable": true},
                    "mail": {"type": "string", "nullable": true},
                    "admin": {"type": "boolean", "description": "Whether the caller is a Heracles administrator."},
                    "permissions": {
                        "type": "array",
                        "items": {"type": "string", "example": "user:read"},
                        "description": "`object:action` permissions held. Interim rule: every permission of the catalogue for an administrator, `user:read` (own entry) for anyone else."
                    }
                }
            }),
        ),
        (
            "PasswordChange",
            json!({
                "type": "object",
                "required": ["new_password"],
                "additionalProperties": false,
                "properties": {
                    "current_password": {"type": "string", "format": "password", "description": "Needed to change one's own password."},
                    "new_password": {"type": "string", "format": "password", "description": "Checked against the password policy settings."}
                }
            }),
        ),
    ]
}

/// The standard error responses: component name, status, description.
const STANDARD_ERRORS: &[(&str, u16, &str)] = &[
    (
        "BadRequest",
        400,
        "Invalid input: VALIDATION_FAILED, INVALID_JSON, INVALID_FILTER, INVALID_DN, \
         INVALID_PAGINATION, BAD_REQUEST, ...",
    ),
    (
        "Unauthorized",
        401,
        "Missing, invalid, expired or revoked token (UNAUTHENTICATED).",
    ),
    (
        "Forbidden",
        403,
        "The caller lacks the permission (ACL_DENIED).",
    ),
    (
        "NotFound",
        404,
        "No such resource, or an object the body names does not exist (*_NOT_FOUND).",
    ),
    (
        "Conflict",
        409,
        "An object of that name, or an object holding that unique value, exists already \
         (ALREADY_EXISTS, VALUE_ALREADY_EXISTS).",
    ),
    (
        "PayloadTooLarge",
        413,
        "The request body is over the configured limit (PAYLOAD_TOO_LARGE).",
    ),
    (
        "UnsupportedMediaType",
        415,
        "The body is not declared as application/json (UNSUPPORTED_MEDIA_TYPE).",
    ),
    (
        "UnprocessableEntity",
        422,
        "A rule of Heracles or of the directory forbids the change (BUSINESS_RULE_VIOLATION, \
         e.g. an administrator deleting or locking its own account, a department that still \
         holds entries, an exhausted id range; NOT_ALLOWED_ON_NON_LEAF, UNWILLING_TO_PERFORM), \
         or the directory's size limit stopped a search (SIZE_LIMIT_EXCEEDED).",
    ),
    ("InternalError", 500, "A fault in the server (INTERNAL)."),
    (
        "ServiceUnavailable",
        503,
        "The directory is unreachable or did not answer in time, or the request ran out of \
         time (DIRECTORY_UNAVAILABLE, TIMEOUT), or a change was not made because its audit \
         event could not be written (AUDIT_UNAVAILABLE). Retry after the Retry-After delay.",
    ),
];

fn request_id_header() -> Result<openapiv3::Header> {
    from_json(
        "X-Request-Id header",
        json!({
            "description": "The request's id: the client's X-Request-Id if it sent a sane one \
                            (at most 128 visible ASCII characters), else a generated UUID. \
                            On every response.",
            "required": true,
            "schema": {"type": "string"}
        }),
    )
}

fn retry_after_header() -> Result<openapiv3::Header> {
    from_json(
        "Retry-After header",
        json!({
            "description": "Seconds to wait before retrying.",
            "required": true,
            "schema": {"type": "integer", "minimum": 0}
        }),
    )
}

fn json_content(schema: &str) -> openapiv3::Content {
    let mut content = openapiv3::Content::default();
    content.insert(
        "application/json".to_owned(),
        MediaType {
            schema: Some(reference("schemas", schema)),
            ..MediaType::default()
        },
    );
    content
}

fn response(description: &str, body: DocBody, retry_after: bool) -> Response {
    let mut r = Response {
        description: description.to_owned(),
        ..Response::default()
    };
    r.headers.insert(
        "X-Request-Id".to_owned(),
        reference("headers", "X-Request-Id"),
    );
    if retry_after {
        r.headers.insert(
            "Retry-After".to_owned(),
            reference("headers", "Retry-After"),
        );
    }
    match body {
        DocBody::Json(schema) => r.content = json_content(schema),
        DocBody::Media(mime) => {
            r.content.insert(mime.to_owned(), MediaType::default());
        }
        DocBody::Empty => {}
    }
    r
}

/// Optional request-body fields that take `null`, by component schema: on creation `null`
/// is the same as leaving the field out; on updates it removes the value or leaves it
/// unchanged, as the field's description says. The document marks them `nullable`. Only
/// fields checked against the server are listed: the API fuzzing (`scripts/api-fuzz.py`,
/// run by the test command) finds a field whose `null` the server accepts but the document
/// does not allow; a listed field whose `null` is refused would stay unnoticed, so nothing
/// is listed on trust.
const NULLABLE_FIELDS: &[(&str, &[&str])] = &[
    ("AclCheck", &["attribute", "object_dn"]),
    ("AssignmentCreate", &["scope"]),
    ("DepartmentCreate", &["description"]),
    (
        "DhcpHostCreate",
        &["description", "fixedAddress", "macAddress"],
    ),
    ("DhcpPoolCreate", &["description"]),
    ("DhcpPoolUpdate", &["range"]),
    ("DhcpServiceCreate", &["description", "server"]),
    ("DhcpSharedNetworkCreate", &["description"]),
    ("DhcpSubnetCreate", &["description", "prefix"]),
    ("DhcpSubnetUpdate", &["prefix"]),
    ("DnsRecordCreate", &["ttl"]),
    (
        "DnsZoneCreate",
        &[
            "expire",
            "minimum",
            "primaryNsAddress",
            "refresh",
            "retry",
            "ttl",
            "zoneType",
        ],
    ),
    (
        "DnsZoneUpdate",
        &[
            "adminEmail",
            "expire",
            "minimum",
            "primaryNs",
            "refresh",
            "retry",
            "ttl",
        ],
    ),
    ("GroupCreate", &["department", "description", "groupType"]),
    ("GroupMembers", &["member", "members"]),
    ("PasswordChange", &["current_password"]),
    ("PolicyCreate", &["description"]),
    ("PolicyUpdate", &["attributes", "permissions"]),
    (
        "SudoRuleCreate",
        &[
            "description",
            "sudoCommand",
            "sudoHost",
            "sudoNotAfter",
            "sudoNotBefore",
            "sudoOption",
            "sudoOrder",
            "sudoRunAsGroup",
            "sudoRunAsUser",
            "sudoUser",
        ],
    ),
    (
        "SystemCreate",
        &["description", "dhcp", "dns", "ipAddress", "macAddress"],
    ),
    ("SystemUpdate", &["ipAddress", "macAddress"]),
    ("TemplateCreate", &["description"]),
    (
        "UserCreate",
        &[
            "department",
            "givenName",
            "mail",
            "posix",
            "template",
            "userPassword",
        ],
    ),
    ("UserUpdate", &["posix"]),
];

/// Marks the [`NULLABLE_FIELDS`] of one component schema `nullable`; a listed field the
/// schema does not have, or has as required, is an error (the list went stale).
fn mark_nullable(name: &str, schema: &mut Value) -> Result<()> {
    let Some((_, fields)) = NULLABLE_FIELDS.iter().find(|(n, _)| *n == name) else {
        return Ok(());
    };
    let required: Vec<Value> = schema
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for field in *fields {
        let stale = || {
            Error::internal(format!(
                "NULLABLE_FIELDS: {name} has no optional field {field}"
            ))
        };
        if required.iter().any(|r| r == field) {
            return Err(stale());
        }
        let property = schema
            .get_mut("properties")
            .and_then(|p| p.get_mut(*field))
            .and_then(Value::as_object_mut)
            .ok_or_else(stale)?;
        property.insert("nullable".to_owned(), Value::Bool(true));
    }
    Ok(())
}

fn components() -> Result<Components> {
    let mut c = Components::default();
    let all = schemas();
    if let Some((name, _)) = NULLABLE_FIELDS
        .iter()
        .find(|(n, _)| !all.iter().any(|(s, _)| s == n))
    {
        return Err(Error::internal(format!(
            "NULLABLE_FIELDS names the unknown schema {name}"
        )));
    }
    for (name, mut schema) in all {
        mark_nullable(name, &mut schema)?;
        c.schemas
            .insert(name.to_owned(), ReferenceOr::Item(from_json(name, schema)?));
    }
    for (name, status, description) in STANDARD_ERRORS {
        let retry = matches!(status, 503 | 429);
        c.responses.insert(
            (*name).to_owned(),
            ReferenceOr::Item(response(description, DocBody::Json("Error"), retry)),
        );
    }
    c.headers.insert(
        "X-Request-Id".to_owned(),
        ReferenceOr::Item(request_id_header()?),
    );
    c.headers.insert(
        "Retry-After".to_owned(),
        ReferenceOr::Item(retry_after_header()?),
    );
    c.security_schemes.insert(
        BEARER.to_owned(),
        ReferenceOr::Item(from_json::<SecurityScheme>(
            "security scheme",
            json!({
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The access token from POST /api/v1/auth/login or \
                                /api/v1/auth/refresh."
            }),
        )?),
    );
    Ok(c)
}

fn path_params(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn parameters(route: &Route) -> Result<Vec<ReferenceOr<openapiv3::Parameter>>> {
    let mut out = Vec::new();
    for name in path_params(route.path) {
        out.push(ReferenceOr::Item(from_json(
            "path parameter",
            json!({"in": "path", "name": name, "required": true, "schema": {"type": "string"}}),
        )?));
    }
    for q in route.doc.query {
        let (schema, explode) = match q.kind {
            ParamType::Integer { min, max, default } => {
                let mut s = json!({"type": "integer", "minimum": min, "default": default});
                if let Some(max) = max {
                    s["maximum"] = json!(max);
                }
                (s, None)
            }
            ParamType::String => (json!({"type": "string"}), None),
            ParamType::Boolean => (json!({"type": "boolean", "default": false}), None),
            ParamType::Repeated => (
                json!({"type": "array", "items": {"type": "string"}}),
                Some(true),
            ),
        };
        let mut p = json!({
            "in": "query",
            "name": q.name,
            "description": q.description,
            "required": false,
            "schema": schema
        });
        if let Some(explode) = explode {
            p["explode"] = json!(explode);
        }
        out.push(ReferenceOr::Item(from_json("query parameter", p)?));
    }
    Ok(out)
}

fn operation(route: &Route) -> Result<Operation> {
    let doc = &route.doc;
    let mut op = Operation {
        tags: vec![doc.tag.to_owned()],
        summary: Some(doc.summary.to_owned()),
        description: (!doc.description.is_empty()).then(|| doc.description.to_owned()),
        operation_id: Some(doc.operation_id.to_owned()),
        parameters: parameters(route)?,
        ..Operation::default()
    };
    if let Some(schema) = doc.request {
        op.request_body = Some(ReferenceOr::Item(RequestBody {
            content: json_content(schema),
            required: true,
            ..RequestBody::default()
        }));
    }
    for r in doc.responses {
        op.responses.responses.insert(
            StatusCode::Code(r.status),
            ReferenceOr::Item(response(
                r.description,
                r.body,
                matches!(r.status, 503 | 429),
            )),
        );
    }
    let has_params = !path_params(route.path).is_empty();
    let has_body = doc.request.is_some();
    let bearer = doc.access == Access::Bearer;
    let write = route.method != http::Method::GET;
    for (name, status, _) in STANDARD_ERRORS {
        let applies = match status {
            400 => has_params || has_body || !doc.query.is_empty(),
            401 | 403 => bearer,
            // A body names other objects: a template, a zone, a member, a department...
            404 => has_params || has_body,
            409 => bearer && has_body && write,
            // Writes meet business rules; searches (lists) the directory's size limit.
            422 => bearer && (write || !doc.query.is_empty()),
            413 | 415 => has_body,
            _ => true,
        };
        if applies {
            op.responses
                .responses
                .entry(StatusCode::Code(*status))
                .or_insert_with(|| reference("responses", name));
        }
    }
    let mut requirement = SecurityRequirement::default();
    if bearer {
        requirement.insert(BEARER.to_owned(), Vec::new());
        op.security = Some(vec![requirement]);
    } else {
        // Explicitly public.
        op.security = Some(Vec::new());
    }
    Ok(op)
}

fn slot<'a>(item: &'a mut PathItem, method: &http::Method) -> Result<&'a mut Option<Operation>> {
    Ok(match *method {
        http::Method::GET => &mut item.get,
        http::Method::PUT => &mut item.put,
        http::Method::POST => &mut item.post,
        http::Method::DELETE => &mut item.delete,
        http::Method::PATCH => &mut item.patch,
        http::Method::OPTIONS => &mut item.options,
        http::Method::HEAD => &mut item.head,
        http::Method::TRACE => &mut item.trace,
        _ => {
            return Err(Error::internal(format!(
                "the route table has a method OpenAPI cannot describe: {method}"
            )))
        }
    })
}

/// Builds the document from a route table.
pub fn document(routes: &[Route]) -> Result<OpenAPI> {
    let mut doc = OpenAPI {
        openapi: OPENAPI_VERSION.to_owned(),
        info: Info {
            title: "Heracles API".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: Some(
                "Manage an LDAP directory: people, groups, departments and more, with access \
                 control and audit. Every error uses one envelope, `{\"error\": {\"code\", \
                 \"message\", \"details\"}}`; lists take `limit`/`offset`, `filter=ATTR:OP:VALUE`, \
                 `attributes` and `sort`; every response carries `X-Request-Id`."
                    .to_owned(),
            ),
            ..Info::default()
        },
        components: Some(components()?),
        ..OpenAPI::default()
    };
    for (name, description) in TAGS {
        if routes.iter().any(|r| r.doc.tag == *name) {
            doc.tags.push(Tag {
                name: (*name).to_owned(),
                description: Some((*description).to_owned()),
                ..Tag::default()
            });
        }
    }
    for route in routes {
        if !TAGS.iter().any(|(t, _)| *t == route.doc.tag) {
            return Err(Error::internal(format!(
                "route {} {} has the unknown tag '{}'",
                route.method, route.path, route.doc.tag
            )));
        }
        let entry = doc
            .paths
            .paths
            .entry(route.path.to_owned())
            .or_insert_with(|| ReferenceOr::Item(PathItem::default()));
        let ReferenceOr::Item(item) = entry else {
            return Err(Error::internal("a path item is a reference"));
        };
        let slot = slot(item, &route.method)?;
        if slot.is_some() {
            return Err(Error::internal(format!(
                "the route {} {} is in the table twice",
                route.method, route.path
            )));
        }
        *slot = Some(operation(route)?);
    }
    Ok(doc)
}

/// The document serialised as JSON.
pub fn render(routes: &[Route]) -> Result<Bytes> {
    let doc = document(routes)?;
    serde_json::to_vec(&doc)
        .map(Bytes::from)
        .map_err(|e| Error::internal(format!("cannot serialise the OpenAPI document: {e}")))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::router::ROUTES;

    fn operations(doc: &OpenAPI) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            let ReferenceOr::Item(item) = item else {
                panic!("reference")
            };
            for (method, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
                ("OPTIONS", &item.options),
                ("HEAD", &item.head),
                ("TRACE", &item.trace),
            ] {
                if op.is_some() {
                    out.insert((method.to_owned(), path.clone()));
                }
            }
        }
        out
    }

    #[test]
    fn document_and_router_have_the_same_routes() {
        let doc = document(ROUTES).unwrap();
        let in_doc = operations(&doc);
        let in_router: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_string(), r.path.to_owned()))
            .collect();
        let missing: Vec<_> = in_router.difference(&in_doc).collect();
        let extra: Vec<_> = in_doc.difference(&in_router).collect();
        assert!(
            missing.is_empty(),
            "routes missing from the document: {missing:?}"
        );
        assert!(extra.is_empty(), "operations without a route: {extra:?}");
        // And the path sets, as the router matches them.
        let doc_paths: BTreeSet<&str> = doc.paths.paths.keys().map(String::as_str).collect();
        let router_paths: BTreeSet<&str> = ROUTES.iter().map(|r| r.path).collect();
        assert_eq!(doc_paths, router_paths);
        for needed in [
            "/api/v1/health",
            "/api/v1/version",
            "/openapi.json",
            "/docs",
        ] {
            assert!(doc_paths.contains(needed), "{needed}");
        }
    }

    /// Every `$ref` in the document points at something that exists.
    #[test]
    fn every_reference_resolves() {
        fn walk(v: &Value, root: &Value, seen: &mut usize) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        let pointer = r.strip_prefix('#').expect("local reference");
                        assert!(root.pointer(pointer).is_some(), "dangling {r}");
                        *seen += 1;
                    }
                    m.values().for_each(|x| walk(x, root, seen));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, root, seen)),
                _ => {}
            }
        }
        let value = serde_json::to_value(document(ROUTES).unwrap()).unwrap();
        let mut seen = 0;
        walk(&value, &value, &mut seen);
        assert!(seen > 10);
        // The page helper is valid against the same components.
        let page: openapiv3::Schema = serde_json::from_value(page_schema("Health")).unwrap();
        let page = serde_json::to_value(page).unwrap();
        walk(&page, &value, &mut seen);
    }

    #[test]
    fn operations_carry_the_standard_errors_and_security() {
        let doc = document(ROUTES).unwrap();
        let value = serde_json::to_value(&doc).unwrap();
        assert_eq!(value["openapi"], "3.0.3");
        let health = &value["paths"]["/api/v1/health"]["get"];
        assert_eq!(
            health["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Health"
        );
        // The route's own 503 wins over the standard one.
        assert_eq!(
            health["responses"]["503"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Health"
        );
        assert_eq!(
            health["responses"]["500"]["$ref"],
            "#/components/responses/InternalError"
        );
        assert_eq!(health["security"], json!([]));
        let asset = &value["paths"]["/docs/{file}"]["get"];
        assert_eq!(asset["parameters"][0]["in"], "path");
        assert_eq!(
            asset["responses"]["400"]["$ref"],
            "#/components/responses/BadRequest"
        );
        let codes = &value["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
            ["code"]["enum"];
        assert_eq!(codes.as_array().unwrap().len(), ErrorCode::ALL.len());
        assert_eq!(
            value["components"]["securitySchemes"][BEARER]["scheme"],
            "bearer"
        );
    }

    #[test]
    fn a_protected_route_with_a_body_is_described_fully() {
        fn noop(_: crate::request::Ctx) -> crate::router::HandlerFuture {
            Box::pin(async { Ok(crate::reply::Reply::no_content()) })
        }
        static TABLE: &[Route] = &[Route {
            method: http::Method::POST,
            path: "/api/v1/groups/{cn}/members",
            handler: noop,
            doc: crate::router::RouteDoc {
                operation_id: "addMember",
                summary: "Add a member",
                description: "",
                tag: "groups",
                access: Access::Bearer,
                query: crate::router::LIST_QUERY,
                request: Some("Version"),
                responses: &[crate::router::DocResponse {
                    status: 200,
                    description: "ok",
                    body: DocBody::Json("Version"),
                }],
            },
        }];
        let value = serde_json::to_value(document(TABLE).unwrap()).unwrap();
        let op = &value["paths"]["/api/v1/groups/{cn}/members"]["post"];
        for status in [
            "200", "400", "401", "403", "404", "409", "413", "415", "422", "500", "503",
        ] {
            assert!(op["responses"].get(status).is_some(), "{status}");
        }
        assert_eq!(op["security"][0][BEARER], json!([]));
        assert_eq!(op["requestBody"]["required"], true);
        assert_eq!(
            op["parameters"].as_array().unwrap().len(),
            1 + crate::router::LIST_QUERY.len()
        );
        let filter = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "filter")
            .unwrap();
        assert_eq!(filter["schema"]["type"], "array");
    }
}
