//! `/api/v1/users`: list, get, create, update, delete, lock and unlock (SPEC §3).
//!
//! Bodies are JSON objects handed to the core's user service as they are (the service
//! knows which fields a user may have: unknown ones are a 400). A single user answers with
//! an `ETag`; `PUT` and `DELETE` honour `If-Match` against it.

use heracles_core::error::Result;
use heracles_core::service::Principal;
use http::StatusCode;
use serde_json::{json, Map, Value};

use crate::reply::{encode_segment, page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture};

/// `GET /api/v1/users`.
pub fn list(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_users)
}

/// `POST /api/v1/users`.
pub fn create(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, create_user)
}

/// `GET /api/v1/users/{uid}`.
pub fn get(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, get_user)
}

/// `PUT /api/v1/users/{uid}`.
pub fn update(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, update_user)
}

/// `DELETE /api/v1/users/{uid}`.
pub fn delete(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, delete_user)
}

/// `POST /api/v1/users/{uid}/lock`.
pub fn lock(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, lock_user)
}

/// `POST /api/v1/users/{uid}/unlock`.
pub fn unlock(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, unlock_user)
}

/// `POST /api/v1/users/{uid}/move`.
pub fn move_to(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, move_user)
}

/// The body of `POST /users/{uid}/move`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    /// The department (DN or unique ou); `null`: the people container.
    department: Option<String>,
}

/// The path of a user.
pub fn location(uid: &str) -> String {
    format!("/api/v1/users/{}", encode_segment(uid))
}

/// A user answer with its `ETag`.
fn answer<T: serde::Serialize>(status: StatusCode, user: &T) -> Result<Reply> {
    Reply::json_tagged(status, user)
}

async fn list_users(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let page = ctx.state().heracles().users().list(&p, &q).await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn get_user(ctx: Ctx, p: Principal) -> Result<Reply> {
    let uid = ctx.param("uid")?;
    let user = ctx.state().heracles().users().get(&p, uid).await?;
    answer(StatusCode::OK, &user)
}

async fn create_user(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let body: Map<String, Value> = ctx.json().await?;
    let user = ctx.state().heracles().users().create(&p, &body).await?;
    Ok(answer(StatusCode::CREATED, &user)?.with_location(&location(&user.uid)))
}

async fn update_user(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let uid = ctx.param("uid")?.to_owned();
    let body: Map<String, Value> = ctx.json().await?;
    let expected = ctx.if_match()?;
    let user = ctx
        .state()
        .heracles()
        .users()
        .if_match(expected.as_ref())
        .update(&p, &uid, &body)
        .await?;
    answer(StatusCode::OK, &user)
}

async fn delete_user(ctx: Ctx, p: Principal) -> Result<Reply> {
    let uid = ctx.param("uid")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .users()
        .if_match(expected.as_ref())
        .delete(&p, uid)
        .await?;
    Ok(Reply::no_content())
}

async fn lock_user(ctx: Ctx, p: Principal) -> Result<Reply> {
    let uid = ctx.param("uid")?;
    let user = ctx.state().heracles().users().lock(&p, uid).await?;
    answer(StatusCode::OK, &user)
}

async fn unlock_user(ctx: Ctx, p: Principal) -> Result<Reply> {
    let uid = ctx.param("uid")?;
    let user = ctx.state().heracles().users().unlock(&p, uid).await?;
    answer(StatusCode::OK, &user)
}

async fn move_user(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let uid = ctx.param("uid")?.to_owned();
    let body: MoveBody = ctx.json().await?;
    let user = ctx
        .state()
        .heracles()
        .users()
        .move_to(&p, &uid, body.department.as_deref())
        .await?;
    Ok(answer(StatusCode::OK, &user)?.with_location(&location(&user.uid)))
}

/// The OpenAPI component schemas of this area.
pub fn schemas() -> Vec<(&'static str, Value)> {
    let posix = json!({
        "type": "object",
        "description": "POSIX account fields; `uidNumber: null` allocates the next free number.",
        "properties": {
            "uidNumber": {"type": "integer", "nullable": true},
            "gidNumber": {"type": "integer", "nullable": true},
            "homeDirectory": {"type": "string"},
            "loginShell": {"type": "string"},
            "gecos": {"type": "string"}
        },
        "additionalProperties": false
    });
    vec![
        (
            "User",
            json!({
                "type": "object",
                "description": "A user. Every attribute of its object classes appears under its \
                                LDAP name; POSIX fields are flattened; never `userPassword`.",
                "required": ["dn", "uid", "cn", "sn", "objectClass", "groups", "locked"],
                "properties": {
                    "dn": {"type": "string", "example": "uid=jdoe,ou=people,dc=example,dc=com"},
                    "uid": {"type": "string", "example": "jdoe"},
                    "cn": {"type": "string", "example": "John Doe"},
                    "sn": {"type": "string", "example": "Doe"},
                    "givenName": {"type": "string", "example": "John"},
                    "mail": {"type": "string", "example": "jdoe@example.com"},
                    "objectClass": {"type": "array", "items": {"type": "string"}},
                    "groups": {"type": "array", "items": {"type": "string"},
                               "description": "cn of every group it belongs to."},
                    "locked": {"type": "boolean"},
                    "uidNumber": {"type": "integer"},
                    "gidNumber": {"type": "integer"},
                    "homeDirectory": {"type": "string"},
                    "loginShell": {"type": "string"}
                },
                "additionalProperties": true
            }),
        ),
        ("UserList", crate::openapi::page_schema("User")),
        (
            "UserMove",
            json!({
                "type": "object",
                "description": "Where the user goes (absent: as null).",
                "properties": {
                    "department": {"type": "string", "nullable": true,
                                   "description": "Department DN or unique ou; null: ou=people.",
                                   "example": "ou=Sales,ou=departments,dc=example,dc=com"}
                },
                "additionalProperties": false
            }),
        ),
        (
            "UserCreate",
            json!({
                "type": "object",
                "description": "A new user: LDAP attribute names of inetOrgPerson (and, with \
                                POSIX, posixAccount/shadowAccount); other fields are a 400.",
                "required": ["uid", "cn", "sn"],
                "properties": {
                    "uid": {"type": "string", "example": "jdoe"},
                    "cn": {"type": "string", "example": "John Doe"},
                    "sn": {"type": "string", "example": "Doe"},
                    "givenName": {"type": "string", "example": "John"},
                    "mail": {"type": "string", "example": "jdoe@example.com"},
                    "userPassword": {"type": "string", "format": "password"},
                    "department": {"type": "string", "description": "Department DN or unique ou."},
                    "template": {"type": "string", "description": "Template whose defaults apply."},
                    "posix": posix
                },
                "additionalProperties": true
            }),
        ),
        (
            "UserUpdate",
            json!({
                "type": "object",
                "description": "Only the fields given change; `null` removes an attribute. POSIX \
                                fields flattened or in a `posix` block. Passwords change through \
                                `POST /users/{uid}/password`.",
                "properties": {
                    "cn": {"type": "string"},
                    "sn": {"type": "string"},
                    "givenName": {"type": "string", "nullable": true},
                    "mail": {"type": "string", "nullable": true},
                    "posix": posix
                },
                "additionalProperties": true
            }),
        ),
    ]
}
