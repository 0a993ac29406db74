//! `/api/v1/dns/zones...`: zones and their records (SPEC §3). The rules live in the core
//! ([`heracles_core::service::dns`]); these handlers only map HTTP to it.

use heracles_core::error::Result;
use heracles_core::service::dns::{NewRecord, NewZone, ZoneUpdate};
use heracles_core::service::Principal;
use http::StatusCode;
use serde_json::{json, Value};

use crate::reply::{encode_segment, page_reply, Reply};
use crate::request::Ctx;
use crate::router::{with_principal, HandlerFuture};

/// `GET /api/v1/dns/zones`.
pub fn list_zones(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_zones_)
}

/// `POST /api/v1/dns/zones`.
pub fn create_zone(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, create_zone_)
}

/// `GET /api/v1/dns/zones/{zoneName}`.
pub fn get_zone(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, get_zone_)
}

/// `PUT /api/v1/dns/zones/{zoneName}`.
pub fn update_zone(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, update_zone_)
}

/// `DELETE /api/v1/dns/zones/{zoneName}`.
pub fn delete_zone(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, delete_zone_)
}

/// `GET /api/v1/dns/zones/{zoneName}/records`.
pub fn list_records(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, list_records_)
}

/// `POST /api/v1/dns/zones/{zoneName}/records`.
pub fn create_record(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, create_record_)
}

/// `GET /api/v1/dns/zones/{zoneName}/records/{name}/{type}`.
pub fn get_record_set(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, get_record_set_)
}

/// `DELETE /api/v1/dns/zones/{zoneName}/records/{name}/{type}` (`?value=` for one value).
pub fn delete_records(ctx: Ctx) -> HandlerFuture {
    with_principal(ctx, delete_records_)
}

fn tagged<T: serde::Serialize>(status: StatusCode, value: &T) -> Result<Reply> {
    Reply::json_tagged(status, value)
}

async fn list_zones_(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let page = ctx.state().heracles().dns().list_zones(&p, &q).await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn create_zone_(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let body: NewZone = ctx.json().await?;
    let z = ctx.state().heracles().dns().create_zone(&p, &body).await?;
    let location = format!("/api/v1/dns/zones/{}", encode_segment(&z.zone_name));
    Ok(tagged(StatusCode::CREATED, &z)?.with_location(&location))
}

async fn get_zone_(ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("zoneName")?;
    let z = ctx.state().heracles().dns().get_zone(&p, name).await?;
    tagged(StatusCode::OK, &z)
}

async fn update_zone_(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("zoneName")?.to_owned();
    let body: ZoneUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let z = ctx
        .state()
        .heracles()
        .dns()
        .if_match(expected.as_ref())
        .update_zone(&p, &name, &body)
        .await?;
    tagged(StatusCode::OK, &z)
}

async fn delete_zone_(ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("zoneName")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .dns()
        .if_match(expected.as_ref())
        .delete_zone(&p, name)
        .await?;
    Ok(Reply::no_content())
}

async fn list_records_(ctx: Ctx, p: Principal) -> Result<Reply> {
    let zone = ctx.param("zoneName")?;
    let q = ctx.list_query()?;
    let page = ctx
        .state()
        .heracles()
        .dns()
        .list_records(&p, zone, &q)
        .await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn create_record_(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let zone = ctx.param("zoneName")?.to_owned();
    let body: NewRecord = ctx.json().await?;
    let r = ctx
        .state()
        .heracles()
        .dns()
        .create_record(&p, &zone, &body)
        .await?;
    let location = format!(
        "/api/v1/dns/zones/{}/records/{}/{}",
        encode_segment(&zone.to_ascii_lowercase()),
        encode_segment(&r.name),
        encode_segment(&r.record_type)
    );
    Ok(Reply::json(StatusCode::CREATED, &r)?.with_location(&location))
}

async fn get_record_set_(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (zone, name, kind) = (
        ctx.param("zoneName")?,
        ctx.param("name")?,
        ctx.param("type")?,
    );
    let set = ctx
        .state()
        .heracles()
        .dns()
        .get_record_set(&p, zone, name, kind)
        .await?;
    tagged(StatusCode::OK, &set)
}

async fn delete_records_(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (zone, name, kind) = (
        ctx.param("zoneName")?,
        ctx.param("name")?,
        ctx.param("type")?,
    );
    let value = ctx.query_param("value")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .dns()
        .if_match(expected.as_ref())
        .delete_records(&p, zone, name, kind, value.as_deref())
        .await?;
    Ok(Reply::no_content())
}

/// The OpenAPI component schemas of this area.
#[allow(clippy::too_many_lines)] // one JSON schema after the other
pub fn schemas() -> Vec<(&'static str, Value)> {
    let seconds = |d: &str| json!({"type": "integer", "minimum": 0, "maximum": 2_147_483_647, "description": d});
    vec![
        (
            "DnsZone",
            json!({
                "type": "object",
                "required": ["dn", "zoneName", "zoneType", "primaryNs", "adminEmail", "serial",
                             "refresh", "retry", "expire", "minimum", "ttl", "recordCount"],
                "properties": {
                    "dn": {"type": "string", "example": "zoneName=example.com,ou=dns,dc=example,dc=com"},
                    "zoneName": {"type": "string", "example": "example.com"},
                    "zoneType": {"type": "string", "enum": ["forward", "reverse"]},
                    "primaryNs": {"type": "string", "example": "ns1.example.com."},
                    "adminEmail": {"type": "string", "example": "hostmaster@example.com"},
                    "serial": {"type": "integer", "description": "YYYYMMDDnn; increases on every change", "example": 2_025_013_100_u64},
                    "refresh": seconds("SOA refresh (s)"),
                    "retry": seconds("SOA retry (s)"),
                    "expire": seconds("SOA expire (s)"),
                    "minimum": seconds("SOA minimum: negative-caching TTL (s)"),
                    "ttl": seconds("TTL of the apex records (s)"),
                    "recordCount": {"type": "integer", "description": "Records of the zone (values), the SOA not counted"}
                }
            }),
        ),
        ("DnsZoneList", crate::openapi::page_schema("DnsZone")),
        (
            "DnsZoneCreate",
            json!({
                "type": "object",
                "required": ["zoneName", "primaryNs", "adminEmail"],
                "properties": {
                    "zoneName": {"type": "string", "example": "example.com",
                                 "description": "Forward (LDH labels) or reverse (1-4 octets below in-addr.arpa, 1-32 nibbles below ip6.arpa)."},
                    "zoneType": {"type": "string", "enum": ["forward", "reverse"], "description": "Optional; must fit the name."},
                    "primaryNs": {"type": "string", "example": "ns1.example.com", "description": "Fully qualified; also the first NS record."},
                    "adminEmail": {"type": "string", "example": "hostmaster@example.com"},
                    "ttl": seconds("Default 3600."),
                    "refresh": seconds("Default 3600."),
                    "retry": seconds("Default 900."),
                    "expire": seconds("Default 1209600."),
                    "minimum": seconds("Default 3600."),
                    "primaryNsAddress": {"type": "string", "example": "192.168.1.1",
                                         "description": "IPv4/IPv6 address of primaryNs; required when it is inside the zone."}
                },
                "additionalProperties": false
            }),
        ),
        (
            "DnsZoneUpdate",
            json!({
                "type": "object",
                "description": "Only the fields given change; the serial increases.",
                "properties": {
                    "primaryNs": {"type": "string"},
                    "adminEmail": {"type": "string"},
                    "ttl": seconds("TTL of the apex."),
                    "refresh": seconds(""),
                    "retry": seconds(""),
                    "expire": seconds(""),
                    "minimum": seconds("")
                },
                "additionalProperties": false
            }),
        ),
        (
            "DnsRecord",
            json!({
                "type": "object",
                "required": ["dn", "name", "type", "value", "ttl"],
                "properties": {
                    "dn": {"type": "string", "description": "The entry holding the record."},
                    "name": {"type": "string", "example": "www", "description": "Relative to the zone; @ for the apex."},
                    "type": {"type": "string", "example": "A"},
                    "value": {"type": "string", "example": "192.168.1.10"},
                    "ttl": {"type": "integer", "example": 3600}
                }
            }),
        ),
        ("DnsRecordList", crate::openapi::page_schema("DnsRecord")),
        (
            "DnsRecordCreate",
            json!({
                "type": "object",
                "required": ["name", "type", "value"],
                "properties": {
                    "name": {"type": "string", "example": "www",
                             "description": "@, a relative name, an absolute name in the zone (trailing dot), or an address in a reverse zone."},
                    "type": {"type": "string", "enum": ["A", "AAAA", "CNAME", "MX", "NS", "PTR", "TXT", "SRV"]},
                    "value": {"type": "string", "example": "192.168.1.10",
                              "description": "MX `10 mail.example.com.`, SRV `10 5 5060 sip.example.com.`, TXT plain text or quoted strings. Names without a trailing dot are relative to the zone."},
                    "ttl": {"type": "integer", "minimum": 0, "maximum": 2_147_483_647,
                            "description": "Default: the record set's TTL when it exists, else the zone's TTL (3600 by default)."}
                },
                "additionalProperties": false
            }),
        ),
        (
            "DnsRecordSet",
            json!({
                "type": "object",
                "required": ["dn", "zoneName", "name", "type", "ttl", "values"],
                "properties": {
                    "dn": {"type": "string"},
                    "zoneName": {"type": "string"},
                    "name": {"type": "string"},
                    "type": {"type": "string"},
                    "ttl": {"type": "integer"},
                    "values": {"type": "array", "items": {"type": "string"}}
                }
            }),
        ),
    ]
}
