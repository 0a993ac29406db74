//! `/api/v1/dhcp/services`: DHCP services and what they hold (SPEC §3), in the layout ISC
//! dhcpd's LDAP back-end reads (see `heracles_core::service::dhcp`).
//!
//! ```text
//! /dhcp/services                                          GET list   POST create
//! /dhcp/services/{name}                                   GET tree   PUT   DELETE (?recursive)
//! /dhcp/services/{name}/shared-networks                   GET list   POST create
//! /dhcp/services/{name}/shared-networks/{cn}              GET        PUT   DELETE (?recursive)
//! /dhcp/services/{name}/subnets                           GET list   POST create  (?shared_network)
//! /dhcp/services/{name}/subnets/{network}                 GET        PUT   DELETE (?recursive)
//! /dhcp/services/{name}/subnets/{network}/pools           GET list   POST create
//! /dhcp/services/{name}/subnets/{network}/pools/{id}      GET        PUT   DELETE
//! /dhcp/services/{name}/hosts                             GET list   POST create
//! /dhcp/services/{name}/hosts/{cn}                        GET        PUT   DELETE
//! ```
//!
//! A subnet is named by its network address wherever it lies (directly in the service or in
//! a shared network: `?shared_network=` picks the shared network when creating, and narrows
//! a list); a pool by its range, `first-last`; a host by its `cn`. Single objects answer
//! with an `ETag`; `PUT` and `DELETE` honour `If-Match`.

use heracles_core::error::Result;
use heracles_core::service::dhcp::{
    ConfigUpdate, HostUpdate, NewHost, NewPool, NewService, NewSharedNetwork, NewSubnet,
    PoolUpdate, SubnetUpdate,
};
use heracles_core::service::Principal;
use http::StatusCode;
use serde_json::{json, Value};

use crate::reply::{encode_segment, page_reply, Reply};
use crate::request::Ctx;
use crate::router::{
    with_principal, DocBody, DocResponse, HandlerFuture, ParamType, QueryParam, LIST_QUERY,
};

/// `?recursive=` of the deletes of services, shared networks and subnets.
pub const RECURSIVE: QueryParam = QueryParam {
    name: "recursive",
    description: "Also delete everything it holds (else a non-empty one is 422).",
    kind: ParamType::Boolean,
};

/// `?shared_network=` of `POST`/`GET .../subnets`.
pub const SHARED_NETWORK: QueryParam = QueryParam {
    name: "shared_network",
    description: "The shared network (its cn) a new subnet goes into; on a list, only the \
                  subnets of that shared network.",
    kind: ParamType::String,
};

/// The query of `GET .../subnets`: the list parameters and `shared_network`.
pub const SUBNET_LIST_QUERY: &[QueryParam] = &[
    LIST_QUERY[0],
    LIST_QUERY[1],
    LIST_QUERY[2],
    LIST_QUERY[3],
    LIST_QUERY[4],
    SHARED_NETWORK,
];

/// A documented success answer.
pub const fn answer_doc(
    status: u16,
    description: &'static str,
    schema: &'static str,
) -> DocResponse {
    DocResponse {
        status,
        description,
        body: DocBody::Json(schema),
    }
}

/// A documented error answer.
pub const fn error_doc(status: u16, description: &'static str) -> DocResponse {
    DocResponse {
        status,
        description,
        body: DocBody::Json("Error"),
    }
}

/// `204 Deleted.`
pub const DELETED: DocResponse = DocResponse {
    status: 204,
    description: "Deleted.",
    body: DocBody::Empty,
};

/// `412 PRECONDITION_FAILED`.
pub const PRECONDITION: DocResponse = error_doc(
    412,
    "`If-Match` does not match the current ETag (PRECONDITION_FAILED).",
);

// ---- handlers ---------------------------------------------------------------------------------

macro_rules! handlers {
    ($($(#[$doc:meta])* $name:ident => $inner:ident;)*) => {
        $( $(#[$doc])* pub fn $name(ctx: Ctx) -> HandlerFuture {
            with_principal(ctx, $inner)
        } )*
    };
}

handlers! {
    /// `GET /api/v1/dhcp/services`.
    list_services => list_services_h;
    /// `POST /api/v1/dhcp/services`.
    create_service => create_service_h;
    /// `GET /api/v1/dhcp/services/{name}`.
    get_service => get_service_h;
    /// `PUT /api/v1/dhcp/services/{name}`.
    update_service => update_service_h;
    /// `DELETE /api/v1/dhcp/services/{name}`.
    delete_service => delete_service_h;
    /// `GET /api/v1/dhcp/services/{name}/shared-networks`.
    list_shared_networks => list_shared_networks_h;
    /// `POST /api/v1/dhcp/services/{name}/shared-networks`.
    create_shared_network => create_shared_network_h;
    /// `GET /api/v1/dhcp/services/{name}/shared-networks/{cn}`.
    get_shared_network => get_shared_network_h;
    /// `PUT /api/v1/dhcp/services/{name}/shared-networks/{cn}`.
    update_shared_network => update_shared_network_h;
    /// `DELETE /api/v1/dhcp/services/{name}/shared-networks/{cn}`.
    delete_shared_network => delete_shared_network_h;
    /// `GET /api/v1/dhcp/services/{name}/subnets`.
    list_subnets => list_subnets_h;
    /// `POST /api/v1/dhcp/services/{name}/subnets`.
    create_subnet => create_subnet_h;
    /// `GET /api/v1/dhcp/services/{name}/subnets/{network}`.
    get_subnet => get_subnet_h;
    /// `PUT /api/v1/dhcp/services/{name}/subnets/{network}`.
    update_subnet => update_subnet_h;
    /// `DELETE /api/v1/dhcp/services/{name}/subnets/{network}`.
    delete_subnet => delete_subnet_h;
    /// `GET /api/v1/dhcp/services/{name}/subnets/{network}/pools`.
    list_pools => list_pools_h;
    /// `POST /api/v1/dhcp/services/{name}/subnets/{network}/pools`.
    create_pool => create_pool_h;
    /// `GET /api/v1/dhcp/services/{name}/subnets/{network}/pools/{id}`.
    get_pool => get_pool_h;
    /// `PUT /api/v1/dhcp/services/{name}/subnets/{network}/pools/{id}`.
    update_pool => update_pool_h;
    /// `DELETE /api/v1/dhcp/services/{name}/subnets/{network}/pools/{id}`.
    delete_pool => delete_pool_h;
    /// `GET /api/v1/dhcp/services/{name}/hosts`.
    list_hosts => list_hosts_h;
    /// `POST /api/v1/dhcp/services/{name}/hosts`.
    create_host => create_host_h;
    /// `GET /api/v1/dhcp/services/{name}/hosts/{cn}`.
    get_host => get_host_h;
    /// `PUT /api/v1/dhcp/services/{name}/hosts/{cn}`.
    update_host => update_host_h;
    /// `DELETE /api/v1/dhcp/services/{name}/hosts/{cn}`.
    delete_host => delete_host_h;
}

fn answer<T: serde::Serialize>(status: StatusCode, object: &T) -> Result<Reply> {
    Reply::json_tagged(status, object)
}

fn created<T: serde::Serialize>(object: &T, location: &str) -> Result<Reply> {
    Ok(answer(StatusCode::CREATED, object)?.with_location(location))
}

/// `/api/v1/dhcp/services/{name}`, encoded.
fn service_path(name: &str) -> String {
    format!("/api/v1/dhcp/services/{}", encode_segment(name))
}

// ---- services -----------------------------------------------------------------------------

async fn list_services_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let q = ctx.list_query()?;
    let page = ctx.state().heracles().dhcp().list_services(&p, &q).await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn create_service_h(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let body: NewService = ctx.json().await?;
    let s = ctx
        .state()
        .heracles()
        .dhcp()
        .create_service(&p, &body)
        .await?;
    created(&s, &service_path(&s.service.cn))
}

async fn get_service_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?;
    let s = ctx.state().heracles().dhcp().get_service(&p, name).await?;
    answer(StatusCode::OK, &s)
}

async fn update_service_h(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?.to_owned();
    let body: ConfigUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let s = ctx
        .state()
        .heracles()
        .dhcp()
        .if_match(expected.as_ref())
        .update_service(&p, &name, &body)
        .await?;
    answer(StatusCode::OK, &s)
}

async fn delete_service_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?;
    let recursive = ctx.flag("recursive")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .dhcp()
        .if_match(expected.as_ref())
        .delete_service(&p, name, recursive)
        .await?;
    Ok(Reply::no_content())
}

// ---- shared networks ----------------------------------------------------------------------

async fn list_shared_networks_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?;
    let q = ctx.list_query()?;
    let page = ctx
        .state()
        .heracles()
        .dhcp()
        .list_shared_networks(&p, name, &q)
        .await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn create_shared_network_h(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?.to_owned();
    let body: NewSharedNetwork = ctx.json().await?;
    let s = ctx
        .state()
        .heracles()
        .dhcp()
        .create_shared_network(&p, &name, &body)
        .await?;
    let location = format!(
        "{}/shared-networks/{}",
        service_path(&name),
        encode_segment(&s.cn)
    );
    created(&s, &location)
}

async fn get_shared_network_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (name, cn) = (ctx.param("name")?, ctx.param("cn")?);
    let s = ctx
        .state()
        .heracles()
        .dhcp()
        .get_shared_network(&p, name, cn)
        .await?;
    answer(StatusCode::OK, &s)
}

async fn update_shared_network_h(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?.to_owned();
    let cn = ctx.param("cn")?.to_owned();
    let body: ConfigUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let s = ctx
        .state()
        .heracles()
        .dhcp()
        .if_match(expected.as_ref())
        .update_shared_network(&p, &name, &cn, &body)
        .await?;
    answer(StatusCode::OK, &s)
}

async fn delete_shared_network_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (name, cn) = (ctx.param("name")?, ctx.param("cn")?);
    let recursive = ctx.flag("recursive")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .dhcp()
        .if_match(expected.as_ref())
        .delete_shared_network(&p, name, cn, recursive)
        .await?;
    Ok(Reply::no_content())
}

// ---- subnets ------------------------------------------------------------------------------

async fn list_subnets_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?;
    let q = ctx.list_query()?;
    let shared = ctx.query_param("shared_network")?;
    let page = ctx
        .state()
        .heracles()
        .dhcp()
        .list_subnets(&p, name, shared.as_deref(), &q)
        .await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn create_subnet_h(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?.to_owned();
    let shared = ctx.query_param("shared_network")?;
    let body: NewSubnet = ctx.json().await?;
    let s = ctx
        .state()
        .heracles()
        .dhcp()
        .create_subnet(&p, &name, shared.as_deref(), &body)
        .await?;
    let location = format!(
        "{}/subnets/{}",
        service_path(&name),
        encode_segment(&s.network)
    );
    created(&s, &location)
}

async fn get_subnet_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (name, network) = (ctx.param("name")?, ctx.param("network")?);
    let s = ctx
        .state()
        .heracles()
        .dhcp()
        .get_subnet(&p, name, network)
        .await?;
    answer(StatusCode::OK, &s)
}

async fn update_subnet_h(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?.to_owned();
    let network = ctx.param("network")?.to_owned();
    let body: SubnetUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let s = ctx
        .state()
        .heracles()
        .dhcp()
        .if_match(expected.as_ref())
        .update_subnet(&p, &name, &network, &body)
        .await?;
    answer(StatusCode::OK, &s)
}

async fn delete_subnet_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (name, network) = (ctx.param("name")?, ctx.param("network")?);
    let recursive = ctx.flag("recursive")?;
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .dhcp()
        .if_match(expected.as_ref())
        .delete_subnet(&p, name, network, recursive)
        .await?;
    Ok(Reply::no_content())
}

// ---- pools --------------------------------------------------------------------------------

async fn list_pools_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (name, network) = (ctx.param("name")?, ctx.param("network")?);
    let q = ctx.list_query()?;
    let page = ctx
        .state()
        .heracles()
        .dhcp()
        .list_pools(&p, name, network, &q)
        .await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn create_pool_h(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?.to_owned();
    let network = ctx.param("network")?.to_owned();
    let body: NewPool = ctx.json().await?;
    let pool = ctx
        .state()
        .heracles()
        .dhcp()
        .create_pool(&p, &name, &network, &body)
        .await?;
    let location = format!(
        "{}/subnets/{}/pools/{}",
        service_path(&name),
        encode_segment(&network),
        encode_segment(&pool.id)
    );
    created(&pool, &location)
}

async fn get_pool_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (name, network, id) = (ctx.param("name")?, ctx.param("network")?, ctx.param("id")?);
    let pool = ctx
        .state()
        .heracles()
        .dhcp()
        .get_pool(&p, name, network, id)
        .await?;
    answer(StatusCode::OK, &pool)
}

async fn update_pool_h(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?.to_owned();
    let network = ctx.param("network")?.to_owned();
    let id = ctx.param("id")?.to_owned();
    let body: PoolUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let pool = ctx
        .state()
        .heracles()
        .dhcp()
        .if_match(expected.as_ref())
        .update_pool(&p, &name, &network, &id, &body)
        .await?;
    answer(StatusCode::OK, &pool)
}

async fn delete_pool_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (name, network, id) = (ctx.param("name")?, ctx.param("network")?, ctx.param("id")?);
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .dhcp()
        .if_match(expected.as_ref())
        .delete_pool(&p, name, network, id)
        .await?;
    Ok(Reply::no_content())
}

// ---- hosts --------------------------------------------------------------------------------

async fn list_hosts_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?;
    let q = ctx.list_query()?;
    let page = ctx
        .state()
        .heracles()
        .dhcp()
        .list_hosts(&p, name, &q)
        .await?;
    page_reply(&page, q.attributes.as_deref(), &[])
}

async fn create_host_h(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?.to_owned();
    let body: NewHost = ctx.json().await?;
    let h = ctx
        .state()
        .heracles()
        .dhcp()
        .create_host(&p, &name, &body)
        .await?;
    let location = format!("{}/hosts/{}", service_path(&name), encode_segment(&h.cn));
    created(&h, &location)
}

async fn get_host_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (name, cn) = (ctx.param("name")?, ctx.param("cn")?);
    let h = ctx.state().heracles().dhcp().get_host(&p, name, cn).await?;
    answer(StatusCode::OK, &h)
}

async fn update_host_h(mut ctx: Ctx, p: Principal) -> Result<Reply> {
    let name = ctx.param("name")?.to_owned();
    let cn = ctx.param("cn")?.to_owned();
    let body: HostUpdate = ctx.json().await?;
    let expected = ctx.if_match()?;
    let h = ctx
        .state()
        .heracles()
        .dhcp()
        .if_match(expected.as_ref())
        .update_host(&p, &name, &cn, &body)
        .await?;
    answer(StatusCode::OK, &h)
}

async fn delete_host_h(ctx: Ctx, p: Principal) -> Result<Reply> {
    let (name, cn) = (ctx.param("name")?, ctx.param("cn")?);
    let expected = ctx.if_match()?;
    ctx.state()
        .heracles()
        .dhcp()
        .if_match(expected.as_ref())
        .delete_host(&p, name, cn)
        .await?;
    Ok(Reply::no_content())
}

// ---- OpenAPI ------------------------------------------------------------------------------

fn lines(description: &str, example: &Value) -> Value {
    json!({
        "type": "array",
        "items": {"type": "string", "maxLength": 1024},
        "maxItems": 100,
        "description": description,
        "example": example
    })
}

fn nullable_lines(description: &str) -> Value {
    json!({
        "type": "array",
        "nullable": true,
        "items": {"type": "string", "maxLength": 1024},
        "maxItems": 100,
        "description": description
    })
}

const STATEMENTS_DOC: &str = "dhcpd statements (dhcpStatements), one per item, kept as given: \
    printable ASCII, no control characters, balanced double quotes and braces, no '#' outside \
    quotes; dhcpd appends ';'.";
const OPTIONS_DOC: &str = "Options (dhcpOption), one per item, without the word 'option' \
    (dhcpd adds it); the same rules as statements.";
const DESCRIPTION_DOC: &str = "Free text, stored as dhcpComments (printable ASCII, 1–1024).";

/// The OpenAPI component schemas of this area.
#[allow(clippy::too_many_lines)] // one schema per object and body, side by side
pub fn schemas() -> Vec<(&'static str, Value)> {
    let statements = lines(STATEMENTS_DOC, &json!(["default-lease-time 3600"]));
    let options = lines(OPTIONS_DOC, &json!(["domain-name \"example.com\""]));
    let description = json!({"type": "string", "maxLength": 1024, "description": DESCRIPTION_DOC});
    let nullable_description = json!({"type": "string", "nullable": true, "maxLength": 1024, "description": DESCRIPTION_DOC});
    let service = json!({
        "type": "object",
        "required": ["dn", "cn", "statements", "options", "server", "primaryDN"],
        "properties": {
            "dn": {"type": "string", "example": "cn=dhcp1,ou=dhcp,dc=example,dc=com"},
            "cn": {"type": "string", "example": "dhcp1"},
            "description": description,
            "statements": statements,
            "options": options,
            "server": {"type": "string", "nullable": true, "example": "dhcp1",
                       "description": "cn of the dhcpServer entry dhcpd finds itself by (its host \
                                       name, or ldap-dhcp-server-cn)."},
            "primaryDN": {"type": "string", "nullable": true,
                          "example": "cn=dhcp1,ou=servers,ou=dhcp,dc=example,dc=com",
                          "description": "dhcpPrimaryDN: that dhcpServer entry."}
        }
    });
    let mut details = service.clone();
    details["required"] = json!([
        "dn",
        "cn",
        "statements",
        "options",
        "server",
        "primaryDN",
        "sharedNetworks",
        "subnets",
        "hosts"
    ]);
    details["properties"]["sharedNetworks"] =
        json!({"type": "array", "items": {"$ref": "#/components/schemas/DhcpSharedNetwork"}});
    details["properties"]["subnets"] =
        json!({"type": "array", "items": {"$ref": "#/components/schemas/DhcpSubnet"}});
    details["properties"]["hosts"] =
        json!({"type": "array", "items": {"$ref": "#/components/schemas/DhcpHost"}});
    let config_update = json!({
        "type": "object",
        "description": "Only the fields given change; null removes (statements/options: null \
                        or [] removes all, a list replaces all).",
        "properties": {
            "description": nullable_description,
            "statements": nullable_lines(STATEMENTS_DOC),
            "options": nullable_lines(OPTIONS_DOC)
        },
        "additionalProperties": false
    });
    let ipv4 = |example: &str| json!({"type": "string", "format": "ipv4", "example": example});
    vec![
        ("DhcpService", service),
        (
            "DhcpServiceList",
            crate::openapi::page_schema("DhcpService"),
        ),
        ("DhcpServiceDetails", details),
        (
            "DhcpServiceCreate",
            json!({
                "type": "object",
                "required": ["cn"],
                "properties": {
                    "cn": {"type": "string", "maxLength": 64, "example": "dhcp1",
                           "description": "Letters, digits, '.', '_', '-'; starts with a letter or digit."},
                    "description": description,
                    "statements": statements,
                    "options": options,
                    "server": {"type": "string", "maxLength": 253, "example": "dhcp-host1",
                               "description": "Host name of the DHCP server serving it (its \
                                               dhcpServer entry is created or extended); \
                                               default: cn."}
                },
                "additionalProperties": false
            }),
        ),
        ("DhcpConfigUpdate", config_update.clone()),
        (
            "DhcpSharedNetwork",
            json!({
                "type": "object",
                "required": ["dn", "cn", "statements", "options"],
                "properties": {
                    "dn": {"type": "string"},
                    "cn": {"type": "string", "example": "lan"},
                    "description": description,
                    "statements": statements,
                    "options": options
                }
            }),
        ),
        (
            "DhcpSharedNetworkList",
            crate::openapi::page_schema("DhcpSharedNetwork"),
        ),
        (
            "DhcpSharedNetworkCreate",
            json!({
                "type": "object",
                "required": ["cn"],
                "properties": {
                    "cn": {"type": "string", "maxLength": 64, "example": "lan"},
                    "description": description,
                    "statements": statements,
                    "options": options
                },
                "additionalProperties": false
            }),
        ),
        (
            "DhcpSubnet",
            json!({
                "type": "object",
                "required": ["dn", "network", "prefix", "netmask", "sharedNetwork", "statements",
                             "options", "pools"],
                "properties": {
                    "dn": {"type": "string"},
                    "network": ipv4("192.168.1.0"),
                    "prefix": {"type": "integer", "minimum": 0, "maximum": 32, "example": 24},
                    "netmask": ipv4("255.255.255.0"),
                    "sharedNetwork": {"type": "string", "nullable": true},
                    "description": description,
                    "statements": statements,
                    "options": options,
                    "pools": {"type": "array", "items": {"$ref": "#/components/schemas/DhcpPool"}}
                }
            }),
        ),
        ("DhcpSubnetList", crate::openapi::page_schema("DhcpSubnet")),
        (
            "DhcpSubnetCreate",
            json!({
                "type": "object",
                "required": ["network"],
                "properties": {
                    "network": {"type": "string", "example": "192.168.1.0",
                                "description": "Network address (no host bits), or a.b.c.d/len \
                                                without prefix."},
                    "prefix": {"type": "integer", "minimum": 0, "maximum": 32, "example": 24},
                    "description": description,
                    "statements": statements,
                    "options": options
                },
                "additionalProperties": false
            }),
        ),
        (
            "DhcpSubnetUpdate",
            json!({
                "type": "object",
                "description": "Only the fields given change. A new prefix keeps the network \
                                address; pools and fixed addresses inside must stay inside.",
                "properties": {
                    "prefix": {"type": "integer", "minimum": 0, "maximum": 32},
                    "description": nullable_description,
                    "statements": nullable_lines(STATEMENTS_DOC),
                    "options": nullable_lines(OPTIONS_DOC)
                },
                "additionalProperties": false
            }),
        ),
        (
            "DhcpPool",
            json!({
                "type": "object",
                "required": ["dn", "id", "range", "size", "permitList", "statements", "options"],
                "properties": {
                    "dn": {"type": "string"},
                    "id": {"type": "string", "example": "192.168.1.100-192.168.1.199",
                           "description": "first-last: names the pool in paths."},
                    "range": {"type": "string", "example": "192.168.1.100 192.168.1.199"},
                    "size": {"type": "integer", "example": 100},
                    "description": description,
                    "permitList": {"type": "array", "items": {"type": "string"},
                                   "example": ["deny unknown-clients"]},
                    "statements": statements,
                    "options": options
                }
            }),
        ),
        ("DhcpPoolList", crate::openapi::page_schema("DhcpPool")),
        (
            "DhcpPoolCreate",
            json!({
                "type": "object",
                "required": ["range"],
                "properties": {
                    "range": {"type": "string", "example": "192.168.1.100 192.168.1.199",
                              "description": "First and last address, inside the usable \
                                              addresses of the subnet, not overlapping another \
                                              pool."},
                    "description": description,
                    "permitList": {"type": "array", "items": {"type": "string"},
                                   "description": "'allow ...' / 'deny ...' lines."},
                    "statements": statements,
                    "options": options
                },
                "additionalProperties": false
            }),
        ),
        (
            "DhcpPoolUpdate",
            json!({
                "type": "object",
                "description": "Only the fields given change; the range names the pool and \
                                cannot change (give it unchanged or not at all).",
                "properties": {
                    "range": {"type": "string"},
                    "description": nullable_description,
                    "permitList": {"type": "array", "nullable": true, "items": {"type": "string"}},
                    "statements": nullable_lines(STATEMENTS_DOC),
                    "options": nullable_lines(OPTIONS_DOC)
                },
                "additionalProperties": false
            }),
        ),
        (
            "DhcpHost",
            json!({
                "type": "object",
                "required": ["dn", "cn", "macAddress", "fixedAddress", "subnet", "statements",
                             "options"],
                "properties": {
                    "dn": {"type": "string"},
                    "cn": {"type": "string", "example": "printer1"},
                    "macAddress": {"type": "string", "nullable": true, "example": "00:11:22:33:44:66"},
                    "fixedAddress": {"type": "string", "nullable": true, "example": "192.168.1.50"},
                    "subnet": {"type": "string", "nullable": true, "example": "192.168.1.0",
                               "description": "Network address of the subnet holding the fixed address."},
                    "description": description,
                    "statements": statements,
                    "options": options
                }
            }),
        ),
        ("DhcpHostList", crate::openapi::page_schema("DhcpHost")),
        (
            "DhcpHostCreate",
            json!({
                "type": "object",
                "required": ["cn"],
                "properties": {
                    "cn": {"type": "string", "example": "printer1",
                           "description": "Host name: dot-separated labels of letters, digits, \
                                           '-', '_'."},
                    "macAddress": {"type": "string", "example": "00:11:22:33:44:66",
                                   "description": "aa:bb:cc:dd:ee:ff, aa-bb-..., aabb.ccdd.eeff \
                                                   or 12 hex digits; unique in the service."},
                    "fixedAddress": {"type": "string", "format": "ipv4", "example": "192.168.1.50",
                                     "description": "A usable address of a subnet of the service."},
                    "description": description,
                    "statements": statements,
                    "options": options
                },
                "additionalProperties": false
            }),
        ),
        (
            "DhcpHostUpdate",
            json!({
                "type": "object",
                "description": "Only the fields given change; null removes.",
                "properties": {
                    "macAddress": {"type": "string", "nullable": true},
                    "fixedAddress": {"type": "string", "nullable": true},
                    "description": nullable_description,
                    "statements": nullable_lines(STATEMENTS_DOC),
                    "options": nullable_lines(OPTIONS_DOC)
                },
                "additionalProperties": false
            }),
        ),
    ]
}
