//! `/api/v1/groups`: list, get, create, update, delete, and membership (SPEC §3).
//!
//! Adding members (`{"member": "jdoe"}` or `{"members": [...]}`, uids or DNs) and removing
//! one answer 200 with the resulting group: the group is what changed, and it still exists.

use heracles_core::error::{Error, Result};
use heracles_core::service::groups::NewGroup;
use heracles_core::service::Principal;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::reply::{encode_segment, page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture};

/// List fields shown under another name in answers.
const ALIASES: &[(&str, &str)] = &[("member", "members"), ("memberUid", "members")];

/// The body of `POST /groups/{cn}/members`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersBody {
    #[serde(default)]
    member: Option<String>,
    #[serde(default)]
    members: Option<Vec<String>>,
}

/// `GET /api/v1/groups`.
pub fn list(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_groups)
}

/// `POST /api/v1/groups`.
pub fn create(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, create_group)
}

/// `GET /api/v1/groups/{cn}`.
pub fn get(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, get_group)
}

/// `PUT /api/v1/groups/{cn}`.
pub fn update(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, update_group)
}

/// `DELETE /api/v1/groups/{cn}`.
pub fn delete(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, delete_group)
}

/// `POST /api/v1/groups/{cn}/members`.
pub fn add_members(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, add_group_members)
}

/// `DELETE /api/v1/groups/{cn}/members/{uid}`.
pub fn remove_member(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, remove_group_member)
}

fn answer<T: serde::Serialize>(status: StatusCode, group: &T) -> Result<Reply> {
    Reply::json_tagged(status, group)
}

async fn list_groups(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let page = ctx.state().heracles().groups().list(&p, &q).await?;
    page_reply(&page, q.attributes.as_deref(), ALIASES)
}

async fn get_group(ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?;
    let group = ctx.state().heracles().groups().get(&p, cn).await?;
    answer(StatusCode::OK, &group)
}

async fn create_group(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let body: NewGroup = ctx.json().await?;
    let group = ctx.state().heracles().groups().create(&p, &body).await?;
    let location = format!("/api/v1/groups/{}", encode_segment(&group.cn));
    Ok(answer(StatusCode::CREATED, &group)?.with_location(&location))
}

async fn update_group(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?.to_owned();
    let body: Map<String, Value> = ctx.json().await?;
    let expected = ctx.if_match()?;
    let group = ctx
        .state()
        .heracles()
        .groups()
        .if_match(expected.as_ref())
        .update(&p, &cn, &body)
        .await?;
    answer(StatusCode::OK, &group)
}

async fn delete_group(ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .groups()
        .if_match(expected.as_ref())
        .delete(&p, cn)
        .await?;
    Ok(Reply::no_content())
}

async fn add_group_members(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?.to_owned();
    let body: MembersBody = ctx.json().await?;
    let members: Vec<String> = body
        .member
        .into_iter()
        .chain(body.members.unwrap_or_default())
        .collect();
    if members.is_empty() {
        return Err(Error::validation(
            "members",
            "give a member (uid or DN) as `member`, or a list of them as `members`",
        ));
    }
    let expected = ctx.if_match()?;
    let group = ctx
        .state()
        .heracles()
        .groups()
        .if_match(expected.as_ref())
        .add_members(&p, &cn, &members)
        .await?;
    answer(StatusCode::OK, &group)
}

async fn remove_group_member(ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?;
    let uid = ctx.param("uid")?;
    let expected = ctx.if_match()?;
    let group = ctx
        .state()
        .heracles()
        .groups()
        .if_match(expected.as_ref())
        .remove_member(&p, cn, uid)
        .await?;
    answer(StatusCode::OK, &group)
}

/// The OpenAPI component schemas of this area.
pub fn schemas() -> Vec<(&'static str, Value)> {
    let group_type = json!({"type": "string", "enum": ["ldap", "posix", "mixed"]});
    vec![
        (
            "Group",
            json!({
                "type": "object",
                "required": ["dn", "cn", "groupType", "members", "memberCount", "objectClass"],
                "properties": {
                    "dn": {"type": "string", "example": "cn=developers,ou=groups,dc=example,dc=com"},
                    "cn": {"type": "string", "example": "developers"},
                    "description": {"type": "string"},
                    "groupType": group_type,
                    "gidNumber": {"type": "integer"},
                    "members": {"type": "array", "items": {"type": "string"},
                                "description": "uids of member users (DNs of other members)."},
                    "memberCount": {"type": "integer", "minimum": 0},
                    "objectClass": {"type": "array", "items": {"type": "string"}}
                }
            }),
        ),
        ("GroupList", crate::openapi::page_schema("Group")),
        (
            "GroupCreate",
            json!({
                "type": "object",
                "required": ["cn"],
                "properties": {
                    "cn": {"type": "string", "example": "developers"},
                    "description": {"type": "string"},
                    "groupType": group_type,
                    "gidNumber": {"type": "integer", "nullable": true,
                                  "description": "Absent or null: allocated (posix, mixed)."},
                    "members": {"type": "array", "items": {"type": "string"},
                                "description": "uids or DNs of users."},
                    "department": {"type": "string", "description": "Department DN or unique ou."}
                },
                "additionalProperties": false
            }),
        ),
        (
            "GroupUpdate",
            json!({
                "type": "object",
                "description": "Only the fields given change; `null` removes the description.",
                "properties": {
                    "description": {"type": "string", "nullable": true},
                    "gidNumber": {"type": "integer", "description": "posix and mixed groups only."}
                },
                "additionalProperties": false
            }),
        ),
        (
            "GroupMembers",
            json!({
                "type": "object",
                "description": "One member or several (uids or DNs of users).",
                "properties": {
                    "member": {"type": "string", "example": "jdoe"},
                    "members": {"type": "array", "items": {"type": "string"}}
                },
                "additionalProperties": false
            }),
        ),
    ]
}
