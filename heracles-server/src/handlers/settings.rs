//! `/api/v1/settings`: list, get, set, reset (SPEC §3).
//!
//! The list takes `filter=`, `sort=`, `attributes=` and paging like every other list; the
//! core applies them (`SettingsService::query`).
//!
//! `DELETE /settings/{key}` resets the setting to its default and answers 204, like every
//! DELETE (SPEC §1); a `GET` then shows the default.

use heracles_core::error::Result;
use heracles_core::service::settings::{SettingUpdate, SettingValue};
use heracles_core::service::Principal;
use http::StatusCode;
use serde_json::{json, Value};

use crate::reply::{page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture};

/// `GET /api/v1/settings`.
pub fn list(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_settings)
}

/// `GET /api/v1/settings/{key}`.
pub fn get(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, get_setting)
}

/// `PUT /api/v1/settings/{key}`.
pub fn update(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, set_setting)
}

/// `DELETE /api/v1/settings/{key}`.
pub fn delete(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, reset_setting)
}

fn answer(setting: &SettingValue) -> Result<Reply> {
    Reply::json_tagged(StatusCode::OK, setting)
}

async fn list_settings(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let page = ctx.state().heracles().settings().query(&p, &q).await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn get_setting(ctx: Ctx, p: Principal) -> Result<Reply> {
    let key = ctx.param("key")?;
    let s = ctx.state().heracles().settings().get(&p, key).await?;
    answer(&s)
}

async fn set_setting(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let key = ctx.param("key")?.to_owned();
    let body: SettingUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let s = ctx
        .state()
        .heracles()
        .settings()
        .if_match(expected.as_ref())
        .set(&p, &key, body.value)
        .await?;
    answer(&s)
}

async fn reset_setting(ctx: Ctx, p: Principal) -> Result<Reply> {
    let key = ctx.param("key")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .settings()
        .if_match(expected.as_ref())
        .reset(&p, key)
        .await?;
    Ok(Reply::no_content())
}

/// The OpenAPI component schemas of this area.
pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Setting",
            json!({
                "type": "object",
                "required": ["key", "value", "default", "description"],
                "properties": {
                    "key": {"type": "string", "example": "uid_range"},
                    "value": {"description": "The value in force (typed per key).",
                              "example": {"min": 10000, "max": 60000}},
                    "default": {"type": "boolean", "description": "Whether that is the default."},
                    "description": {"type": "string"}
                }
            }),
        ),
        ("SettingList", crate::openapi::page_schema("Setting")),
        (
            "SettingUpdate",
            json!({
                "type": "object",
                "required": ["value"],
                "properties": {"value": {"description": "The new value (validated per key)."}},
                "additionalProperties": false
            }),
        ),
    ]
}
