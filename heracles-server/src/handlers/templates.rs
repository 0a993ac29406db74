//! `/api/v1/templates`: list, get, create, update, delete (SPEC §3). `POST /users` with
//! `"template": "name"` applies one (the user service does).

use heracles_core::error::Result;
use heracles_core::service::templates::{NewTemplate, TemplateUpdate};
use heracles_core::service::Principal;
use http::StatusCode;
use serde_json::{json, Value};

use crate::reply::{encode_segment, page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture};

/// `GET /api/v1/templates`.
pub fn list(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_templates)
}

/// `POST /api/v1/templates`.
pub fn create(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, create_template)
}

/// `GET /api/v1/templates/{name}`.
pub fn get(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, get_template)
}

/// `PUT /api/v1/templates/{name}`.
pub fn update(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, update_template)
}

/// `DELETE /api/v1/templates/{name}`.
pub fn delete(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, delete_template)
}

fn answer<T: serde::Serialize>(status: StatusCode, template: &T) -> Result<Reply> {
    Reply::json_tagged(status, template)
}

async fn list_templates(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let page = ctx.state().heracles().templates().list(&p, &q).await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn get_template(ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?;
    let t = ctx.state().heracles().templates().get(&p, name).await?;
    answer(StatusCode::OK, &t)
}

async fn create_template(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let body: NewTemplate = ctx.json().await?;
    let t = ctx.state().heracles().templates().create(&p, &body).await?;
    let location = format!("/api/v1/templates/{}", encode_segment(&t.name));
    Ok(answer(StatusCode::CREATED, &t)?.with_location(&location))
}

async fn update_template(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?.to_owned();
    let body: TemplateUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let t = ctx
        .state()
        .heracles()
        .templates()
        .if_match(expected.as_ref())
        .update(&p, &name, &body)
        .await?;
    answer(StatusCode::OK, &t)
}

async fn delete_template(ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .templates()
        .if_match(expected.as_ref())
        .delete(&p, name)
        .await?;
    Ok(Reply::no_content())
}

/// The OpenAPI component schemas of this area.
pub fn schemas() -> Vec<(&'static str, Value)> {
    let defaults = json!({
        "type": "object",
        "description": "Default user fields; strings may hold placeholders {{uid}}, {{cn}}, \
                        {{givenName}}, {{sn}}, {{mail}}.",
        "additionalProperties": true,
        "example": {"loginShell": "/bin/bash", "homeDirectory": "/home/{{uid}}"}
    });
    vec![
        (
            "Template",
            json!({
                "type": "object",
                "required": ["dn", "name", "defaults"],
                "properties": {
                    "dn": {"type": "string"},
                    "name": {"type": "string", "example": "staff"},
                    "description": {"type": "string"},
                    "defaults": defaults
                }
            }),
        ),
        ("TemplateList", crate::openapi::page_schema("Template")),
        (
            "TemplateCreate",
            json!({
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "example": "staff", "maxLength": 64},
                    "description": {"type": "string"},
                    "defaults": defaults
                },
                "additionalProperties": false
            }),
        ),
        (
            "TemplateUpdate",
            json!({
                "type": "object",
                "description": "Only the fields given change; `defaults` replaces all defaults; \
                                `null` removes.",
                "properties": {
                    "description": {"type": "string", "nullable": true},
                    "defaults": {"type": "object", "nullable": true, "additionalProperties": true}
                },
                "additionalProperties": false
            }),
        ),
    ]
}
