//! `/api/v1/systems`: servers, workstations, terminals, printers, components, phones,
//! mobiles (SPEC §3–4). The rules live in the core's systems service.

use heracles_core::error::Result;
use heracles_core::service::systems::{NewSystem, SystemUpdate};
use heracles_core::service::Principal;
use http::StatusCode;
use serde_json::{json, Value};

use crate::reply::{encode_segment, page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture, ParamType, QueryParam, LIST_QUERY};

/// The query of `GET /systems`: the list parameters and `type`.
pub static QUERY: [QueryParam; 6] = [
    LIST_QUERY[0],
    LIST_QUERY[1],
    LIST_QUERY[2],
    LIST_QUERY[3],
    LIST_QUERY[4],
    QueryParam {
        name: "type",
        description: "Only systems of this type: server, workstation, terminal, printer, \
                      component, phone or mobile.",
        kind: ParamType::String,
    },
];

/// `GET /api/v1/systems`.
pub fn list(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_systems)
}

/// `POST /api/v1/systems`.
pub fn create(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, create_system)
}

/// `GET /api/v1/systems/{cn}`.
pub fn get(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, get_system)
}

/// `PUT /api/v1/systems/{cn}`.
pub fn update(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, update_system)
}

/// `DELETE /api/v1/systems/{cn}`.
pub fn delete(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, delete_system)
}

fn answer<T: serde::Serialize>(status: StatusCode, system: &T) -> Result<Reply> {
    Reply::json_tagged(status, system)
}

async fn list_systems(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let kind = ctx.query_param("type")?;
    let page = ctx
        .state()
        .heracles()
        .systems()
        .list(&p, kind.as_deref(), &q)
        .await?;
    page_reply(
        &page,
        q.attributes.as_deref(),
        &[("ipHostNumber", "ipAddress")],
    )
}

async fn get_system(ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?;
    let system = ctx.state().heracles().systems().get(&p, cn).await?;
    answer(StatusCode::OK, &system)
}

async fn create_system(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let body: NewSystem = ctx.json().await?;
    let system = ctx.state().heracles().systems().create(&p, &body).await?;
    let location = format!("/api/v1/systems/{}", encode_segment(&system.cn));
    Ok(answer(StatusCode::CREATED, &system)?.with_location(&location))
}

async fn update_system(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?.to_owned();
    let body: SystemUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let system = ctx
        .state()
        .heracles()
        .systems()
        .if_match(expected.as_ref())
        .update(&p, &cn, &body)
        .await?;
    answer(StatusCode::OK, &system)
}

async fn delete_system(ctx: Ctx, p: Principal) -> Result<Reply> {
    let cn = ctx.param("cn")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .systems()
        .if_match(expected.as_ref())
        .delete(&p, cn)
        .await?;
    Ok(Reply::no_content())
}

/// The OpenAPI component schemas of this area.
pub fn schemas() -> Vec<(&'static str, Value)> {
    let kind = json!({"type": "string",
        "enum": ["server", "workstation", "terminal", "printer", "component", "phone", "mobile"]});
    let addresses = |example: &str| {
        json!({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
               "example": example})
    };
    vec![
        (
            "System",
            json!({
                "type": "object",
                "required": ["dn", "cn", "type", "ipAddress", "macAddress"],
                "properties": {
                    "dn": {"type": "string", "example": "cn=server1,ou=servers,ou=systems,dc=example,dc=com"},
                    "cn": {"type": "string", "example": "server1"},
                    "type": kind,
                    "ipAddress": {"type": "array", "items": {"type": "string"}, "example": ["192.168.1.10"]},
                    "macAddress": {"type": "array", "items": {"type": "string"}, "example": ["00:11:22:33:44:55"]},
                    "description": {"type": "string"}
                }
            }),
        ),
        ("SystemList", crate::openapi::page_schema("System")),
        (
            "SystemCreate",
            json!({
                "type": "object",
                "required": ["cn", "type"],
                "properties": {
                    "cn": {"type": "string", "example": "server1"},
                    "type": kind,
                    "ipAddress": addresses("192.168.1.10"),
                    "macAddress": addresses("00:11:22:33:44:55"),
                    "description": {"type": "string", "example": "Web server"},
                    "dns": {
                        "type": "object",
                        "description": "Also create an A/AAAA record per address in `zone` (owner `name`, default the cn) and, with `reverse_zone`, a PTR per address it covers.",
                        "required": ["zone"],
                        "properties": {
                            "zone": {"type": "string", "example": "example.com"},
                            "name": {"type": "string"},
                            "reverse_zone": {"type": "string", "example": "1.168.192.in-addr.arpa"}
                        },
                        "additionalProperties": false
                    },
                    "dhcp": {
                        "type": "object",
                        "description": "Also create a DHCP host in `service` (name `host`, default the cn) with the first MAC address and the first IPv4 address as its fixed address.",
                        "required": ["service"],
                        "properties": {
                            "service": {"type": "string", "example": "dhcp1"},
                            "host": {"type": "string"}
                        },
                        "additionalProperties": false
                    }
                },
                "additionalProperties": false
            }),
        ),
        (
            "SystemUpdate",
            json!({
                "type": "object",
                "description": "Only the fields given change; `null` removes addresses or the description. `cn` and `type` cannot change.",
                "properties": {
                    "ipAddress": addresses("192.168.1.11"),
                    "macAddress": addresses("00:11:22:33:44:56"),
                    "description": {"type": "string", "nullable": true}
                },
                "additionalProperties": false
            }),
        ),
    ]
}
