//! `/api/v1/departments`: list, tree, get, create, update, delete (SPEC §3).
//!
//! `{ou}` is a department's name when unique, or its full DN; `?parent=<dn>` picks the one
//! below that parent. `DELETE` of a department that still holds entries is 422 unless
//! `?recursive=true`. The tree answers `{"data": [node, ...]}`, each node
//! `{"department": {...}, "children": [...]}`.

use heracles_core::dn::Dn;
use heracles_core::error::Result;
use heracles_core::service::departments::{DepartmentUpdate, NewDepartment};
use heracles_core::service::Principal;
use http::StatusCode;
use serde_json::{json, Value};

use crate::reply::{encode_segment, page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture, ParamType, QueryParam};

/// The `parent` query parameter of the single-department routes.
pub const PARENT: QueryParam = QueryParam {
    name: "parent",
    description: "DN of the parent department (to tell apart departments of the same name).",
    kind: ParamType::String,
};

/// The `recursive` query parameter of `DELETE`.
pub const RECURSIVE: QueryParam = QueryParam {
    name: "recursive",
    description: "Also delete everything the department holds (else a non-empty one is 422).",
    kind: ParamType::Boolean,
};

/// `GET /api/v1/departments`.
pub fn list(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_departments)
}

/// `GET /api/v1/departments/tree`.
pub fn tree(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, department_tree)
}

/// `POST /api/v1/departments`.
pub fn create(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, create_department)
}

/// `GET /api/v1/departments/{ou}`.
pub fn get(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, get_department)
}

/// `PUT /api/v1/departments/{ou}`.
pub fn update(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, update_department)
}

/// `DELETE /api/v1/departments/{ou}`.
pub fn delete(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, delete_department)
}

fn answer<T: serde::Serialize>(status: StatusCode, department: &T) -> Result<Reply> {
    Reply::json_tagged(status, department)
}

/// `?parent=`, parsed (a malformed DN is a 400 `INVALID_DN`).
fn parent(ctx: &Ctx) -> Result<Option<Dn>> {
    ctx.query_param("parent")?
        .map(|p| Dn::parse(&p))
        .transpose()
}

async fn list_departments(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let page = ctx.state().heracles().departments().list(&p, &q).await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn department_tree(ctx: Ctx, p: Principal) -> Result<Reply> {
    let tree = ctx.state().heracles().departments().tree(&p).await?;
    Reply::ok(&json!({ "data": tree }))
}

async fn get_department(ctx: Ctx, p: Principal) -> Result<Reply> {
    let ou = ctx.param("ou")?;
    let parent = parent(&ctx)?;
    let d = ctx
        .state()
        .heracles()
        .departments()
        .get(&p, ou, parent.as_ref())
        .await?;
    answer(StatusCode::OK, &d)
}

async fn create_department(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let body: NewDepartment = ctx.json().await?;
    let d = ctx
        .state()
        .heracles()
        .departments()
        .create(&p, &body)
        .await?;
    let location = format!("/api/v1/departments/{}", encode_segment(&d.dn.to_string()));
    Ok(answer(StatusCode::CREATED, &d)?.with_location(&location))
}

async fn update_department(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let ou = ctx.param("ou")?.to_owned();
    let parent = parent(&ctx)?;
    let body: DepartmentUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let d = ctx
        .state()
        .heracles()
        .departments()
        .if_match(expected.as_ref())
        .update(&p, &ou, parent.as_ref(), &body)
        .await?;
    answer(StatusCode::OK, &d)
}

async fn delete_department(ctx: Ctx, p: Principal) -> Result<Reply> {
    let ou = ctx.param("ou")?;
    let parent = parent(&ctx)?;
    let recursive = ctx.flag("recursive")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .departments()
        .if_match(expected.as_ref())
        .delete(&p, ou, parent.as_ref(), recursive)
        .await?;
    Ok(Reply::no_content())
}

/// The OpenAPI component schemas of this area.
pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Department",
            json!({
                "type": "object",
                "required": ["dn", "ou", "parent", "children_count"],
                "properties": {
                    "dn": {"type": "string", "example": "ou=Engineering,ou=departments,dc=example,dc=com"},
                    "ou": {"type": "string", "example": "Engineering"},
                    "description": {"type": "string"},
                    "parent": {"type": "string", "nullable": true,
                               "description": "DN of the parent department; null at top level."},
                    "children_count": {"type": "integer", "minimum": 0}
                }
            }),
        ),
        ("DepartmentList", crate::openapi::page_schema("Department")),
        (
            "DepartmentNode",
            json!({
                "type": "object",
                "required": ["department", "children"],
                "properties": {
                    "department": {"$ref": "#/components/schemas/Department"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/DepartmentNode"}}
                }
            }),
        ),
        (
            "DepartmentTree",
            json!({
                "type": "object",
                "required": ["data"],
                "properties": {
                    "data": {"type": "array", "items": {"$ref": "#/components/schemas/DepartmentNode"}}
                }
            }),
        ),
        (
            "DepartmentCreate",
            json!({
                "type": "object",
                "required": ["ou"],
                "properties": {
                    "ou": {"type": "string", "example": "Engineering", "maxLength": 64},
                    "description": {"type": "string", "maxLength": 1024},
                    "parent": {"type": "string", "nullable": true,
                               "description": "Parent department: DN, or unique ou; absent: top level."}
                },
                "additionalProperties": false
            }),
        ),
        (
            "DepartmentUpdate",
            json!({
                "type": "object",
                "properties": {
                    "description": {"type": "string", "nullable": true, "maxLength": 1024}
                },
                "additionalProperties": false
            }),
        ),
    ]
}
