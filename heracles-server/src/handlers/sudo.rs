//! `/api/v1/sudo`: sudo rules (`sudoRole` entries below `ou=sudoers`) — list, get, create,
//! update, delete (SPEC §3). Validation, lookups of the users and groups a rule names, ACL
//! and audit are the core's ([`heracles_core::service::sudo`]).

use heracles_core::error::Result;
use heracles_core::service::sudo::{NewSudoRule, SudoRuleUpdate};
use heracles_core::service::Principal;
use http::StatusCode;
use serde_json::{json, Value};

use crate::reply::{encode_segment, page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture};

/// `GET /api/v1/sudo`.
pub fn list(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_rules)
}

/// `POST /api/v1/sudo`.
pub fn create(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, create_rule)
}

/// `GET /api/v1/sudo/{cn}`.
pub fn get(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, get_rule)
}

/// `PUT /api/v1/sudo/{cn}`.
pub fn update(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, update_rule)
}

/// `DELETE /api/v1/sudo/{cn}`.
pub fn delete(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, delete_rule)
}

fn answer<T: serde::Serialize>(status: StatusCode, rule: &T) -> Result<Reply> {
    Reply::json_tagged(status, rule)
}

async fn list_rules(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let page = ctx.state().heracles().sudo().list(&p, &q).await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn get_rule(ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?;
    let rule = ctx.state().heracles().sudo().get(&p, cn).await?;
    answer(StatusCode::OK, &rule)
}

async fn create_rule(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let body: NewSudoRule = ctx.json().await?;
    let rule = ctx.state().heracles().sudo().create(&p, &body).await?;
    let location = format!("/api/v1/sudo/{}", encode_segment(&rule.cn));
    Ok(answer(StatusCode::CREATED, &rule)?.with_location(&location))
}

async fn update_rule(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?.to_owned();
    let body: SudoRuleUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let rule = ctx
        .state()
        .heracles()
        .sudo()
        .if_match(expected.as_ref())
        .update(&p, &cn, &body)
        .await?;
    answer(StatusCode::OK, &rule)
}

async fn delete_rule(ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .sudo()
        .if_match(expected.as_ref())
        .delete(&p, cn)
        .await?;
    Ok(Reply::no_content())
}

/// The OpenAPI component schemas of this area.
#[allow(clippy::too_many_lines)] // three JSON schemas, written out
pub fn schemas() -> Vec<(&'static str, Value)> {
    let list = |description: &str, example: Value| {
        json!({
            "description": format!("{description} A string or a list of strings."),
            "oneOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}}
            ],
            "example": example
        })
    };
    let nullable_list = |description: &str| {
        json!({
            "description": format!("{description} A string or a list of strings; `null` or \
                                    `[]` removes every value."),
            "nullable": true,
            "oneOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}}
            ]
        })
    };
    let user = "`ALL`, a uid of an existing user, `%cn` of an existing group, `#uid`, `%#gid`, \
                `%:group`, `+netgroup`; `!` negates.";
    let host = "`ALL`, a host name (`*`/`?` wildcards), an IP address, a network \
                (`addr/prefix` or `a.b.c.d/m.m.m.m`), `+netgroup`; `!` negates.";
    let command = "`ALL`, an absolute path with arguments, a directory ending in `/`, \
                   `sudoedit /file...`, `list`; optionally after `sha224:`/`sha256:`/\
                   `sha384:`/`sha512:` and a hex or base64 digest; `!` (first) negates.";
    let run_as_user = "`ALL`, a user name, `#uid`, `%group`, `%#gid`, `+netgroup`; `!` negates.";
    let run_as_group = "`ALL`, a group name, `#gid`; `!` negates.";
    let option = "sudoers options: `name`, `!name`, `name=value`, `name+=value`, `name-=value`.";
    let time = |d: &str| {
        json!({"type": "string", "pattern": "^[0-9]{14}Z$", "example": "20250101000000Z",
               "description": format!("{d} (LDAP generalized time, UTC).")})
    };
    let strings = json!({"type": "array", "items": {"type": "string"}});
    vec![
        (
            "SudoRule",
            json!({
                "type": "object",
                "description": "A sudoRole entry. Lists are sets: their order is not kept.",
                "required": ["dn", "cn", "sudoUser", "sudoHost", "sudoCommand",
                             "sudoRunAsUser", "sudoRunAsGroup", "sudoOption"],
                "properties": {
                    "dn": {"type": "string",
                           "example": "cn=web-admins,ou=sudoers,dc=example,dc=com"},
                    "cn": {"type": "string", "example": "web-admins"},
                    "description": {"type": "string"},
                    "sudoUser": strings.clone(),
                    "sudoHost": strings.clone(),
                    "sudoCommand": strings.clone(),
                    "sudoRunAsUser": strings.clone(),
                    "sudoRunAsGroup": strings.clone(),
                    "sudoOption": strings.clone(),
                    "sudoRunAs": {"type": "array", "items": {"type": "string"},
                                  "description": "Obsolete run-as values written by other \
                                                  tools (read-only; absent when none)."},
                    "sudoOrder": {"type": "integer", "minimum": 0},
                    "sudoNotBefore": {"type": "string"},
                    "sudoNotAfter": {"type": "string"}
                },
                "example": {
                    "dn": "cn=web-admins,ou=sudoers,dc=example,dc=com",
                    "cn": "web-admins",
                    "sudoUser": ["jdoe", "%webadmins"],
                    "sudoHost": ["ALL"],
                    "sudoCommand": ["/usr/bin/systemctl restart nginx"],
                    "sudoRunAsUser": [],
                    "sudoRunAsGroup": [],
                    "sudoOption": ["!authenticate"]
                }
            }),
        ),
        ("SudoRuleList", crate::openapi::page_schema("SudoRule")),
        (
            "SudoRuleCreate",
            json!({
                "type": "object",
                "description": "A rule needs sudoUser, sudoHost and sudoCommand, except \
                                `cn=defaults` (sudo's global Defaults), which holds only \
                                sudoOption. Errors name the field and the bad value.",
                "required": ["cn"],
                "properties": {
                    "cn": {"type": "string", "maxLength": 64, "example": "web-admins",
                           "description": "Letters, digits, `. _ @ % + -`."},
                    "description": {"type": "string"},
                    "sudoUser": list(user, json!(["jdoe", "%webadmins"])),
                    "sudoHost": list(host, json!(["ALL"])),
                    "sudoCommand": list(command, json!(["/usr/bin/systemctl restart nginx"])),
                    "sudoRunAsUser": list(run_as_user, json!(["root"])),
                    "sudoRunAsGroup": list(run_as_group, json!(["wheel"])),
                    "sudoOption": list(option, json!(["!authenticate"])),
                    "sudoOrder": {"type": "integer", "minimum": 0,
                                  "description": "The highest matching order wins."},
                    "sudoNotBefore": time("Valid from"),
                    "sudoNotAfter": time("Valid until; later than sudoNotBefore")
                },
                "additionalProperties": false
            }),
        ),
        (
            "SudoRuleUpdate",
            json!({
                "type": "object",
                "description": "Only the fields given change; a list replaces every value; \
                                `null` removes. The name cannot change; sudoUser, sudoHost \
                                and sudoCommand cannot be removed from a rule.",
                "properties": {
                    "description": {"type": "string", "nullable": true},
                    "sudoUser": nullable_list(user),
                    "sudoHost": nullable_list(host),
                    "sudoCommand": nullable_list(command),
                    "sudoRunAsUser": nullable_list(run_as_user),
                    "sudoRunAsGroup": nullable_list(run_as_group),
                    "sudoOption": nullable_list(option),
                    "sudoRunAs": {"nullable": true, "type": "array",
                                  "items": {"type": "string"},
                                  "description": "Only `null` (removes the obsolete values)."},
                    "sudoOrder": {"type": "integer", "minimum": 0, "nullable": true},
                    "sudoNotBefore": {"type": "string", "nullable": true},
                    "sudoNotAfter": {"type": "string", "nullable": true}
                },
                "additionalProperties": false
            }),
        ),
    ]
}
