//! `/api/v1/acl`: policies, assignments, effective permissions and checks (SPEC §5).
//!
//! Every rule lives in the core's ACL service; these handlers only map HTTP to it.

use heracles_core::service::acl::{CheckRequest, NewAssignment, NewPolicy, PolicyUpdate};
use heracles_core::service::Principal;
use http::StatusCode;
use serde_json::{json, Value};

use crate::reply::{encode_segment, page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture};

/// `GET /api/v1/acl/policies`.
pub fn list_policies(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, |ctx, p| async move {
        let q = ctx.list_query()?;
        let page = ctx.state().heracles().acl().policies(&p, &q).await?;
        page_reply(&page, q.attributes.as_deref(), &[])
    })
}

/// `POST /api/v1/acl/policies`.
pub fn create_policy(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, |mut ctx, p| async move {
        let body: NewPolicy = ctx.json().await?;
        let policy = ctx
            .state()
            .heracles()
            .acl()
            .create_policy(&p, &body)
            .await?;
        let location = format!("/api/v1/acl/policies/{}", encode_segment(&policy.name));
        Ok(Reply::json_tagged(StatusCode::CREATED, &policy)?.with_location(&location))
    })
}

/// `GET /api/v1/acl/policies/{name}`.
pub fn get_policy(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, |ctx, p| async move {
        let name = ctx.param("name")?;
        let policy = ctx.state().heracles().acl().policy(&p, name).await?;
        Reply::json_tagged(StatusCode::OK, &policy)
    })
}

/// `PUT /api/v1/acl/policies/{name}`.
pub fn update_policy(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, |mut ctx, p| async move {
        let name = ctx.param("name")?.to_owned();
        let body: PolicyUpdate = ctx.json().await?;
        let expected = ctx.if_match()?;
        let policy = ctx
            .state()
            .heracles()
            .acl()
            .if_match(expected.as_ref())
            .update_policy(&p, &name, &body)
            .await?;
        Reply::json_tagged(StatusCode::OK, &policy)
    })
}

/// `DELETE /api/v1/acl/policies/{name}`.
pub fn delete_policy(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, |ctx, p| async move {
        let name = ctx.param("name")?;
        ctx.state().heracles().acl().delete_policy(&p, name).await?;
        Ok(Reply::no_content())
    })
}

/// `GET /api/v1/acl/assignments`.
pub fn list_assignments(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, |ctx, p| async move {
        let q = ctx.list_query()?;
        let page = ctx.state().heracles().acl().assignments(&p, &q).await?;
        page_reply(&page, q.attributes.as_deref(), &[])
    })
}

/// `POST /api/v1/acl/assignments`.
pub fn create_assignment(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, |mut ctx, p| async move {
        let body: NewAssignment = ctx.json().await?;
        let a = ctx
            .state()
            .heracles()
            .acl()
            .create_assignment(&p, &body)
            .await?;
        Reply::json(StatusCode::CREATED, &a)
    })
}

/// `DELETE /api/v1/acl/assignments/{id}`.
pub fn delete_assignment(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, |ctx, p| async move {
        let id = ctx.param("id")?;
        ctx.state()
            .heracles()
            .acl()
            .delete_assignment(&p, id)
            .await?;
        Ok(Reply::no_content())
    })
}

/// `GET /api/v1/acl/permissions/{uid}`.
pub fn permissions(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, |ctx, p| async move {
        let uid = ctx.param("uid")?;
        let perms = ctx.state().heracles().acl().permissions_of(&p, uid).await?;
        Reply::ok(&perms)
    })
}

/// `POST /api/v1/acl/check`.
pub fn check(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, |mut ctx, p: Principal| async move {
        let body: CheckRequest = ctx.json().await?;
        let decision = ctx.state().heracles().acl().check(&p, &body)?;
        Reply::ok(&decision)
    })
}

/// The OpenAPI component schemas of this area.
#[allow(clippy::too_many_lines)] // one JSON schema after the other
pub fn schemas() -> Vec<(&'static str, Value)> {
    let permission = json!({
        "type": "string",
        "description": "object:action; objects user, group, department, template, dns, dhcp, \
                        system, sudo, acl, audit, settings; actions read, write, create, \
                        delete, manage.",
        "example": "user:write"
    });
    let rules = json!({
        "type": "object",
        "description": "Attribute rules by object type. `read`/`write`: attribute names or `*` \
                        (absent: unrestricted); `deny`: neither read nor written.",
        "additionalProperties": {
            "type": "object",
            "properties": {
                "read": {"type": "array", "items": {"type": "string"}},
                "write": {"type": "array", "items": {"type": "string"}},
                "deny": {"type": "array", "items": {"type": "string"}}
            },
            "additionalProperties": false
        },
        "example": {"user": {"read": ["*"], "write": ["telephoneNumber"], "deny": ["homeDirectory"]}}
    });
    vec![
        (
            "Policy",
            json!({
                "type": "object",
                "required": ["name", "permissions", "attributes", "builtin"],
                "properties": {
                    "name": {"type": "string", "example": "helpdesk"},
                    "description": {"type": "string"},
                    "permissions": {"type": "array", "items": permission},
                    "attributes": rules,
                    "builtin": {"type": "boolean", "description": "Built-ins are read-only."}
                }
            }),
        ),
        ("PolicyList", crate::openapi::page_schema("Policy")),
        (
            "PolicyCreate",
            json!({
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "example": "helpdesk"},
                    "description": {"type": "string"},
                    "permissions": {"type": "array", "items": permission},
                    "attributes": rules
                },
                "additionalProperties": false
            }),
        ),
        (
            "PolicyUpdate",
            json!({
                "type": "object",
                "description": "Only the fields given change; `description: null` removes it.",
                "properties": {
                    "description": {"type": "string", "nullable": true},
                    "permissions": {"type": "array", "items": permission},
                    "attributes": rules
                },
                "additionalProperties": false
            }),
        ),
        (
            "Assignment",
            json!({
                "type": "object",
                "required": ["id", "policy", "subject_type", "subject", "scope_type", "deny"],
                "properties": {
                    "id": {"type": "string"},
                    "policy": {"type": "string", "example": "user-manager"},
                    "subject_type": {"type": "string", "enum": ["user", "group"]},
                    "subject": {"type": "string", "description": "DN of the user or group."},
                    "scope_type": {"type": "string", "enum": ["tree", "subtree", "entry", "self"]},
                    "scope": {"type": "string", "description": "DN, for subtree and entry scopes."},
                    "deny": {"type": "boolean"},
                    "builtin": {"type": "boolean"}
                }
            }),
        ),
        ("AssignmentList", crate::openapi::page_schema("Assignment")),
        (
            "AssignmentCreate",
            json!({
                "type": "object",
                "required": ["policy", "subject_type", "subject", "scope_type"],
                "properties": {
                    "policy": {"type": "string", "example": "user-manager"},
                    "subject_type": {"type": "string", "enum": ["user", "group"]},
                    "subject": {"type": "string", "description": "uid / cn, or a DN.", "example": "helpdesk"},
                    "scope_type": {"type": "string", "enum": ["tree", "subtree", "entry", "self"]},
                    "scope": {"type": "string", "example": "ou=sales,ou=departments,dc=example,dc=com"},
                    "deny": {"type": "boolean", "default": false}
                },
                "additionalProperties": false
            }),
        ),
        (
            "EffectivePermissions",
            json!({
                "type": "object",
                "required": ["uid", "dn", "permissions", "grants"],
                "properties": {
                    "uid": {"type": "string"},
                    "dn": {"type": "string"},
                    "permissions": {"type": "array", "items": permission,
                                    "description": "Granted somewhere by some assignment."},
                    "grants": {"type": "array", "items": {
                        "type": "object",
                        "properties": {
                            "permission": permission,
                            "policy": {"type": "string"},
                            "assignment": {"type": "string", "description": "`self` for the implicit one."},
                            "scope": {"type": "string", "example": "subtree:ou=sales,ou=departments,dc=example,dc=com"},
                            "deny": {"type": "boolean"}
                        }
                    }}
                }
            }),
        ),
        (
            "AclCheck",
            json!({
                "type": "object",
                "required": ["action", "object_type"],
                "properties": {
                    "action": {"type": "string", "enum": ["read", "write", "create", "delete", "manage"]},
                    "object_type": {"type": "string", "example": "user"},
                    "object_dn": {"type": "string", "description": "Absent: anywhere."},
                    "attribute": {"type": "string"}
                },
                "additionalProperties": false
            }),
        ),
        (
            "AclDecision",
            json!({
                "type": "object",
                "required": ["allowed", "reason"],
                "properties": {
                    "allowed": {"type": "boolean"},
                    "reason": {"type": "string"}
                }
            }),
        ),
    ]
}
