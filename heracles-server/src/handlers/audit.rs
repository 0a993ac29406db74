//! `GET /api/v1/audit`: the audit trail (SPEC §3, §6), newest first.
//!
//! Takes `filter=` (on `actor`, `action`, `target`, `object_type`, `result`, `request_id`),
//! `limit`/`offset`, `sort=`, `attributes=` like every list, plus `from` and `to`: RFC 3339
//! times, both included (a malformed one is 400 `VALIDATION_FAILED`). The core does the
//! work (`Audit::list`).

use heracles_core::audit::parse_time;
use heracles_core::error::Result;
use heracles_core::service::Principal;
use serde_json::{json, Value};

use crate::reply::{page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture, ParamType, QueryParam};

/// The query parameters of `GET /audit`: those of every list, plus `from` and `to`.
pub const QUERY: &[QueryParam] = &[
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
        description: "`FIELD:OP:VALUE` on actor, action, target, object_type, result or \
                      request_id, OP one of eq (case-insensitive), contains, starts, ends, \
                      present; repeatable, all clauses ANDed. E.g. `action:eq:login`, \
                      `result:eq:INVALID_CREDENTIALS`.",
        kind: ParamType::Repeated,
    },
    QueryParam {
        name: "from",
        description: "Only events at or after this RFC 3339 time (e.g. \
                      `2025-01-31T00:00:00Z`).",
        kind: ParamType::String,
    },
    QueryParam {
        name: "to",
        description: "Only events at or before this RFC 3339 time.",
        kind: ParamType::String,
    },
    QueryParam {
        name: "sort",
        description: "A filter field, `timestamp` or `id`; `-field` for descending. \
                      Default: newest first.",
        kind: ParamType::String,
    },
    QueryParam {
        name: "attributes",
        description: "Comma-separated fields to return.",
        kind: ParamType::String,
    },
];

/// `GET /api/v1/audit`.
pub fn list(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_events)
}

async fn list_events(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let from = ctx
        .query_param("from")?
        .map(|v| parse_time("from", &v))
        .transpose()?;
    let to = ctx
        .query_param("to")?
        .map(|v| parse_time("to", &v))
        .transpose()?;
    let page = ctx
        .state()
        .heracles()
        .audit()
        .list(&p, &q, from, to)
        .await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

/// The OpenAPI component schemas of this area.
pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "AuditEvent",
            json!({
                "type": "object",
                "description": "One audit event: a write (create, modify, delete, password, \
                                lock, ...) or a login attempt.",
                "required": ["id", "timestamp", "actor", "action", "object_type", "target",
                             "result", "request_id", "changes"],
                "properties": {
                    "id": {"type": "string", "description": "Unique; sorts like the time.",
                           "example": "20250131120000123456-9f3a0c1d2e4b5a69"},
                    "timestamp": {"type": "string", "format": "date-time",
                                  "description": "RFC 3339, UTC, microseconds.",
                                  "example": "2025-01-31T12:00:00.123456Z"},
                    "actor": {"type": "string",
                              "description": "DN of who acted; empty when anonymous (a failed login).",
                              "example": "uid=admin,ou=people,dc=example,dc=com"},
                    "action": {"type": "string",
                               "description": "create, modify, delete, rename, login, logout, password, lock, unlock, reset, ...",
                               "example": "modify"},
                    "object_type": {"type": "string",
                                    "description": "user, group, department, template, settings, acl, session, ...",
                                    "example": "user"},
                    "target": {"type": "string",
                               "description": "DN of the object (for a login with an unknown user: the name given).",
                               "example": "uid=jdoe,ou=people,dc=example,dc=com"},
                    "result": {"type": "string",
                               "description": "`success`, `pending` (outcome unknown: the change may or may not have happened), or the error code.",
                               "example": "success"},
                    "request_id": {"type": "string", "description": "The X-Request-Id of the request."},
                    "client_address": {"type": "string", "nullable": true,
                                       "description": "IP address of the client.", "example": "192.0.2.7"},
                    "changes": {
                        "type": "array",
                        "description": "Changed attributes with old and new values; secrets are always `[REDACTED]`.",
                        "items": {
                            "type": "object",
                            "required": ["attribute", "old", "new"],
                            "properties": {
                                "attribute": {"type": "string", "example": "mail"},
                                "old": {"type": "array", "items": {"type": "string"}},
                                "new": {"type": "array", "items": {"type": "string"}},
                                "partial": {"type": "boolean",
                                            "description": "Present and true when only removed (`old`) and added (`new`) values are listed (attributes with many values)."}
                            }
                        }
                    }
                }
            }),
        ),
        ("AuditEventList", crate::openapi::page_schema("AuditEvent")),
    ]
}
