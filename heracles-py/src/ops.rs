//! Every operation the package offers, by name: `"users.get"`, `"groups.add_members"`, ...
//!
//! An operation takes its arguments as one JSON object (the path parameters of the REST
//! route by name, its body under `body`, its list query as `filter`/`limit`/`offset`/
//! `sort`/`attributes`, an expected version as `if_match`) and answers JSON, exactly what
//! the REST route reads and answers. Each arm is a call of a core service: the rules —
//! validation, ACL checks, audit — are all in the core.
//!
//! Adding an area is mechanical: one arm per route, with the helpers below.

use std::time::SystemTime;

use heracles_core::audit::parse_time;
use heracles_core::dn::Dn;
use heracles_core::error::{Error, ErrorCode, Result};
use heracles_core::page::{project, Page, PageRequest};
use heracles_core::service::{etag_of, Heracles, IfMatch, ListQuery, Principal};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// What an operation answers.
#[derive(Debug)]
pub enum Answer {
    /// Nothing (a delete).
    Unit,
    /// A value without a version (a decision, a tree, effective permissions).
    Value(Value),
    /// A single object and its entity tag (for `if_match`).
    Object(Value, String),
    /// A list page `{data, pagination}`, items projected to the requested attributes.
    Page(Value),
}

/// The arguments of one call.
#[derive(Debug)]
pub struct Args(Map<String, Value>);

impl Args {
    /// Wraps the JSON object given from Python.
    pub fn new(map: Map<String, Value>) -> Self {
        Args(map)
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A required string argument.
    fn str(&self, name: &str) -> Result<&str> {
        self.opt_str(name)?
            .ok_or_else(|| Error::validation(name, format!("'{name}' is required")))
    }

    /// An optional string argument (`None` when absent or null).
    fn opt_str(&self, name: &str) -> Result<Option<&str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(Error::validation(
                name,
                format!("'{name}' must be a string, got {other}"),
            )),
        }
    }

    fn flag(&self, name: &str) -> Result<bool> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(Error::validation(
                name,
                format!("'{name}' must be true or false, got {other}"),
            )),
        }
    }

    fn strings(&self, name: &str) -> Result<Vec<String>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => Ok(vec![s.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(Error::validation(
                        name,
                        format!("'{name}' must hold strings, got {other}"),
                    )),
                })
                .collect(),
            Some(other) => Err(Error::validation(
                name,
                format!("'{name}' must be a string or a list of strings, got {other}"),
            )),
        }
    }

    fn int(&self, name: &str, default: i64) -> Result<i64> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidPagination,
                    format!("{name} must be an integer, got {n}"),
                )
                .with_detail(name, n.to_string())
            }),
            Some(other) => Err(Error::new(
                ErrorCode::InvalidPagination,
                format!("{name} must be an integer, got {other}"),
            )
            .with_detail(name, other.to_string())),
        }
    }

    /// The request body: the `body` argument, a JSON object.
    fn body(&self) -> Result<Map<String, Value>> {
        match self.get("body") {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m.clone()),
            Some(other) => Err(Error::validation(
                "body",
                format!("the body must be an object, got {other}"),
            )),
        }
    }

    /// The body as the core's typed request (unknown fields and wrong types are
    /// `VALIDATION_FAILED`, as on the REST server).
    fn typed<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_value(Value::Object(self.body()?)).map_err(|e| {
            Error::new(
                ErrorCode::ValidationFailed,
                format!("invalid request body: {e}"),
            )
        })
    }

    /// The list query: `filter` (a clause or a list of them), `limit`, `offset`, `sort`,
    /// `attributes` (a list of field names).
    fn query(&self) -> Result<ListQuery> {
        let page = PageRequest::new(
            self.int("limit", i64::from(PageRequest::DEFAULT_LIMIT))?,
            self.int("offset", 0)?,
        )?;
        let attributes = if self.get("attributes").is_some() {
            let names: Vec<String> = self
                .strings("attributes")?
                .into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if names.is_empty() {
                return Err(Error::validation(
                    "attributes",
                    "attributes must name at least one field",
                ));
            }
            Some(names)
        } else {
            None
        };
        Ok(ListQuery {
            filters: self.strings("filter")?,
            page,
            sort: self.opt_str("sort")?.map(str::to_owned),
            attributes,
        })
    }

    fn if_match(&self) -> Result<Option<IfMatch>> {
        Ok(self.opt_str("if_match")?.map(IfMatch::parse))
    }

    fn dn(&self, name: &str) -> Result<Option<Dn>> {
        self.opt_str(name)?.map(Dn::parse).transpose()
    }

    fn time(&self, name: &str) -> Result<Option<SystemTime>> {
        self.opt_str(name)?.map(|v| parse_time(name, v)).transpose()
    }
}

fn json<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v)
        .map_err(|e| Error::internal(format!("cannot serialise the answer: {e}")))
}

/// A single object with its entity tag.
fn object<T: Serialize>(v: &T) -> Result<Answer> {
    Ok(Answer::Object(json(v)?, etag_of(v)?))
}

fn value<T: Serialize>(v: &T) -> Result<Answer> {
    Ok(Answer::Value(json(v)?))
}

/// A list page, each item limited to the requested fields (`aliases` as on the server).
fn page<T: Serialize>(p: &Page<T>, q: &ListQuery, aliases: &[(&str, &str)]) -> Result<Answer> {
    let mut data = Vec::with_capacity(p.data.len());
    for item in &p.data {
        data.push(project(json(item)?, q.attributes.as_deref(), aliases));
    }
    let mut out = Map::new();
    out.insert("data".into(), Value::Array(data));
    out.insert("pagination".into(), json(&p.pagination)?);
    Ok(Answer::Page(Value::Object(out)))
}

/// Group list fields shown under another name in answers (as on the REST server).
const GROUP_ALIASES: &[(&str, &str)] = &[("member", "members"), ("memberUid", "members")];
/// System list fields shown under another name in answers.
const SYSTEM_ALIASES: &[(&str, &str)] = &[("ipHostNumber", "ipAddress")];

/// Every operation name, for the error of an unknown one and for the package's tests.
pub const OPERATIONS: &[&str] = &[
    "users.list",
    "users.get",
    "users.create",
    "users.update",
    "users.delete",
    "users.set_password",
    "users.lock",
    "users.unlock",
    "users.move",
    "users.ssh_keys",
    "users.add_ssh_key",
    "users.delete_ssh_key",
    "groups.list",
    "groups.get",
    "groups.create",
    "groups.update",
    "groups.delete",
    "groups.add_members",
    "groups.remove_member",
    "departments.list",
    "departments.tree",
    "departments.get",
    "departments.create",
    "departments.update",
    "departments.delete",
    "templates.list",
    "templates.get",
    "templates.create",
    "templates.update",
    "templates.delete",
    "settings.list",
    "settings.get",
    "settings.set",
    "settings.reset",
    "acl.policies",
    "acl.policy",
    "acl.create_policy",
    "acl.update_policy",
    "acl.delete_policy",
    "acl.assignments",
    "acl.create_assignment",
    "acl.delete_assignment",
    "acl.permissions",
    "acl.check",
    "audit.list",
    "audit.get",
    "systems.list",
    "systems.get",
    "systems.create",
    "systems.update",
    "systems.delete",
    "dns.zones",
    "dns.zone",
    "dns.create_zone",
    "dns.update_zone",
    "dns.delete_zone",
    "dns.records",
    "dns.record_set",
    "dns.create_record",
    "dns.delete_records",
    "dhcp.services",
    "dhcp.service",
    "dhcp.create_service",
    "dhcp.update_service",
    "dhcp.delete_service",
    "dhcp.shared_networks",
    "dhcp.shared_network",
    "dhcp.create_shared_network",
    "dhcp.update_shared_network",
    "dhcp.delete_shared_network",
    "dhcp.subnets",
    "dhcp.subnet",
    "dhcp.create_subnet",
    "dhcp.update_subnet",
    "dhcp.delete_subnet",
    "dhcp.pools",
    "dhcp.pool",
    "dhcp.create_pool",
    "dhcp.update_pool",
    "dhcp.delete_pool",
    "dhcp.hosts",
    "dhcp.host",
    "dhcp.create_host",
    "dhcp.update_host",
    "dhcp.delete_host",
    "sudo.list",
    "sudo.get",
    "sudo.create",
    "sudo.update",
    "sudo.delete",
];

/// Runs the operation `op` as `p`.
#[allow(clippy::too_many_lines)] // one arm per operation, each a core call
pub async fn dispatch(h: &Heracles, p: &Principal, op: &str, a: &Args) -> Result<Answer> {
    let im = a.if_match()?;
    let im = im.as_ref();
    match op {
        // ---- users ------------------------------------------------------------------
        "users.list" => {
            let q = a.query()?;
            page(&h.users().list(p, &q).await?, &q, &[])
        }
        "users.get" => object(&h.users().get(p, a.str("uid")?).await?),
        "users.create" => object(&h.users().create(p, &a.body()?).await?),
        "users.update" => object(
            &h.users()
                .if_match(im)
                .update(p, a.str("uid")?, &a.body()?)
                .await?,
        ),
        "users.delete" => {
            h.users().if_match(im).delete(p, a.str("uid")?).await?;
            Ok(Answer::Unit)
        }
        "users.set_password" => {
            h.users()
                .set_password(
                    p,
                    a.str("uid")?,
                    a.opt_str("current_password")?,
                    a.str("new_password")?,
                )
                .await?;
            Ok(Answer::Unit)
        }
        "users.lock" => object(&h.users().lock(p, a.str("uid")?).await?),
        "users.unlock" => object(&h.users().unlock(p, a.str("uid")?).await?),
        "users.move" => object(
            &h.users()
                .move_to(p, a.str("uid")?, a.opt_str("department")?)
                .await?,
        ),

        "users.ssh_keys" => {
            let q = a.query()?;
            page(&h.ssh_keys().list(p, a.str("uid")?, &q).await?, &q, &[])
        }
        "users.add_ssh_key" => object(&h.ssh_keys().add(p, a.str("uid")?, &a.typed()?).await?),
        "users.delete_ssh_key" => {
            h.ssh_keys().delete(p, a.str("uid")?, a.str("id")?).await?;
            Ok(Answer::Unit)
        }

        // ---- groups -----------------------------------------------------------------
        "groups.list" => {
            let q = a.query()?;
            page(&h.groups().list(p, &q).await?, &q, GROUP_ALIASES)
        }
        "groups.get" => object(&h.groups().get(p, a.str("cn")?).await?),
        "groups.create" => object(&h.groups().create(p, &a.typed()?).await?),
        "groups.update" => object(
            &h.groups()
                .if_match(im)
                .update(p, a.str("cn")?, &a.body()?)
                .await?,
        ),
        "groups.delete" => {
            h.groups().if_match(im).delete(p, a.str("cn")?).await?;
            Ok(Answer::Unit)
        }
        "groups.add_members" => {
            let members = a.strings("members")?;
            if members.is_empty() {
                return Err(Error::validation(
                    "members",
                    "give at least one member (uid or DN)",
                ));
            }
            object(
                &h.groups()
                    .if_match(im)
                    .add_members(p, a.str("cn")?, &members)
                    .await?,
            )
        }
        "groups.remove_member" => object(
            &h.groups()
                .if_match(im)
                .remove_member(p, a.str("cn")?, a.str("member")?)
                .await?,
        ),

        // ---- departments ------------------------------------------------------------
        "departments.list" => {
            let q = a.query()?;
            page(&h.departments().list(p, &q).await?, &q, &[])
        }
        "departments.tree" => value(&h.departments().tree(p).await?),
        "departments.get" => object(
            &h.departments()
                .get(p, a.str("ou")?, a.dn("parent")?.as_ref())
                .await?,
        ),
        "departments.create" => object(&h.departments().create(p, &a.typed()?).await?),
        "departments.update" => object(
            &h.departments()
                .if_match(im)
                .update(p, a.str("ou")?, a.dn("parent")?.as_ref(), &a.typed()?)
                .await?,
        ),
        "departments.delete" => {
            h.departments()
                .if_match(im)
                .delete(
                    p,
                    a.str("ou")?,
                    a.dn("parent")?.as_ref(),
                    a.flag("recursive")?,
                )
                .await?;
            Ok(Answer::Unit)
        }

        // ---- templates --------------------------------------------------------------
        "templates.list" => {
            let q = a.query()?;
            page(&h.templates().list(p, &q).await?, &q, &[])
        }
        "templates.get" => object(&h.templates().get(p, a.str("name")?).await?),
        "templates.create" => object(&h.templates().create(p, &a.typed()?).await?),
        "templates.update" => object(
            &h.templates()
                .if_match(im)
                .update(p, a.str("name")?, &a.typed()?)
                .await?,
        ),
        "templates.delete" => {
            h.templates().if_match(im).delete(p, a.str("name")?).await?;
            Ok(Answer::Unit)
        }

        // ---- settings ---------------------------------------------------------------
        "settings.list" => {
            let q = a.query()?;
            page(&h.settings().query(p, &q).await?, &q, &[])
        }
        "settings.get" => object(&h.settings().get(p, a.str("key")?).await?),
        "settings.set" => {
            let value = a.0.get("value").cloned().unwrap_or(Value::Null);
            object(
                &h.settings()
                    .if_match(im)
                    .set(p, a.str("key")?, value)
                    .await?,
            )
        }
        "settings.reset" => object(&h.settings().if_match(im).reset(p, a.str("key")?).await?),

        // ---- access control ---------------------------------------------------------
        "acl.policies" => {
            let q = a.query()?;
            page(&h.acl().policies(p, &q).await?, &q, &[])
        }
        "acl.policy" => object(&h.acl().policy(p, a.str("name")?).await?),
        "acl.create_policy" => object(&h.acl().create_policy(p, &a.typed()?).await?),
        "acl.update_policy" => object(
            &h.acl()
                .if_match(im)
                .update_policy(p, a.str("name")?, &a.typed()?)
                .await?,
        ),
        "acl.delete_policy" => {
            h.acl().delete_policy(p, a.str("name")?).await?;
            Ok(Answer::Unit)
        }
        "acl.assignments" => {
            let q = a.query()?;
            page(&h.acl().assignments(p, &q).await?, &q, &[])
        }
        "acl.create_assignment" => object(&h.acl().create_assignment(p, &a.typed()?).await?),
        "acl.delete_assignment" => {
            h.acl().delete_assignment(p, a.str("id")?).await?;
            Ok(Answer::Unit)
        }
        "acl.permissions" => value(&h.acl().permissions_of(p, a.str("uid")?).await?),
        "acl.check" => value(&h.acl().check(p, &a.typed()?)?),

        // ---- audit ------------------------------------------------------------------
        "audit.list" => {
            let q = a.query()?;
            let events = h
                .audit()
                .list(p, &q, a.time("from")?, a.time("to")?)
                .await?;
            page(&events, &q, &[])
        }
        "audit.get" => value(&h.audit().get(p, a.str("id")?).await?),

        // ---- systems ----------------------------------------------------------------
        "systems.list" => {
            let q = a.query()?;
            let systems = h.systems().list(p, a.opt_str("type")?, &q).await?;
            page(&systems, &q, SYSTEM_ALIASES)
        }
        "systems.get" => object(&h.systems().get(p, a.str("cn")?).await?),
        "systems.create" => object(&h.systems().create(p, &a.typed()?).await?),
        "systems.update" => object(
            &h.systems()
                .if_match(im)
                .update(p, a.str("cn")?, &a.typed()?)
                .await?,
        ),
        "systems.delete" => {
            h.systems().if_match(im).delete(p, a.str("cn")?).await?;
            Ok(Answer::Unit)
        }

        // ---- DNS --------------------------------------------------------------------
        "dns.zones" => {
            let q = a.query()?;
            page(&h.dns().list_zones(p, &q).await?, &q, &[])
        }
        "dns.zone" => object(&h.dns().get_zone(p, a.str("zone")?).await?),
        "dns.create_zone" => object(&h.dns().create_zone(p, &a.typed()?).await?),
        "dns.update_zone" => object(
            &h.dns()
                .if_match(im)
                .update_zone(p, a.str("zone")?, &a.typed()?)
                .await?,
        ),
        "dns.delete_zone" => {
            h.dns().if_match(im).delete_zone(p, a.str("zone")?).await?;
            Ok(Answer::Unit)
        }
        "dns.records" => {
            let q = a.query()?;
            page(&h.dns().list_records(p, a.str("zone")?, &q).await?, &q, &[])
        }
        "dns.record_set" => object(
            &h.dns()
                .get_record_set(p, a.str("zone")?, a.str("name")?, a.str("type")?)
                .await?,
        ),
        "dns.create_record" => object(
            &h.dns()
                .create_record(p, a.str("zone")?, &a.typed()?)
                .await?,
        ),
        "dns.delete_records" => {
            h.dns()
                .if_match(im)
                .delete_records(
                    p,
                    a.str("zone")?,
                    a.str("name")?,
                    a.str("type")?,
                    a.opt_str("value")?,
                )
                .await?;
            Ok(Answer::Unit)
        }

        // ---- DHCP -------------------------------------------------------------------
        "dhcp.services" => {
            let q = a.query()?;
            page(&h.dhcp().list_services(p, &q).await?, &q, &[])
        }
        "dhcp.service" => object(&h.dhcp().get_service(p, a.str("service")?).await?),
        "dhcp.create_service" => object(&h.dhcp().create_service(p, &a.typed()?).await?),
        "dhcp.update_service" => object(
            &h.dhcp()
                .if_match(im)
                .update_service(p, a.str("service")?, &a.typed()?)
                .await?,
        ),
        "dhcp.delete_service" => {
            h.dhcp()
                .if_match(im)
                .delete_service(p, a.str("service")?, a.flag("recursive")?)
                .await?;
            Ok(Answer::Unit)
        }
        "dhcp.shared_networks" => {
            let q = a.query()?;
            let found = h
                .dhcp()
                .list_shared_networks(p, a.str("service")?, &q)
                .await?;
            page(&found, &q, &[])
        }
        "dhcp.shared_network" => object(
            &h.dhcp()
                .get_shared_network(p, a.str("service")?, a.str("cn")?)
                .await?,
        ),
        "dhcp.create_shared_network" => object(
            &h.dhcp()
                .create_shared_network(p, a.str("service")?, &a.typed()?)
                .await?,
        ),
        "dhcp.update_shared_network" => object(
            &h.dhcp()
                .if_match(im)
                .update_shared_network(p, a.str("service")?, a.str("cn")?, &a.typed()?)
                .await?,
        ),
        "dhcp.delete_shared_network" => {
            h.dhcp()
                .if_match(im)
                .delete_shared_network(p, a.str("service")?, a.str("cn")?, a.flag("recursive")?)
                .await?;
            Ok(Answer::Unit)
        }
        "dhcp.subnets" => {
            let q = a.query()?;
            let found = h
                .dhcp()
                .list_subnets(p, a.str("service")?, a.opt_str("shared_network")?, &q)
                .await?;
            page(&found, &q, &[])
        }
        "dhcp.subnet" => object(
            &h.dhcp()
                .get_subnet(p, a.str("service")?, a.str("network")?)
                .await?,
        ),
        "dhcp.create_subnet" => object(
            &h.dhcp()
                .create_subnet(
                    p,
                    a.str("service")?,
                    a.opt_str("shared_network")?,
                    &a.typed()?,
                )
                .await?,
        ),
        "dhcp.update_subnet" => object(
            &h.dhcp()
                .if_match(im)
                .update_subnet(p, a.str("service")?, a.str("network")?, &a.typed()?)
                .await?,
        ),
        "dhcp.delete_subnet" => {
            h.dhcp()
                .if_match(im)
                .delete_subnet(
                    p,
                    a.str("service")?,
                    a.str("network")?,
                    a.flag("recursive")?,
                )
                .await?;
            Ok(Answer::Unit)
        }
        "dhcp.pools" => {
            let q = a.query()?;
            let found = h
                .dhcp()
                .list_pools(p, a.str("service")?, a.str("network")?, &q)
                .await?;
            page(&found, &q, &[])
        }
        "dhcp.pool" => object(
            &h.dhcp()
                .get_pool(p, a.str("service")?, a.str("network")?, a.str("id")?)
                .await?,
        ),
        "dhcp.create_pool" => object(
            &h.dhcp()
                .create_pool(p, a.str("service")?, a.str("network")?, &a.typed()?)
                .await?,
        ),
        "dhcp.update_pool" => object(
            &h.dhcp()
                .if_match(im)
                .update_pool(
                    p,
                    a.str("service")?,
                    a.str("network")?,
                    a.str("id")?,
                    &a.typed()?,
                )
                .await?,
        ),
        "dhcp.delete_pool" => {
            h.dhcp()
                .if_match(im)
                .delete_pool(p, a.str("service")?, a.str("network")?, a.str("id")?)
                .await?;
            Ok(Answer::Unit)
        }
        "dhcp.hosts" => {
            let q = a.query()?;
            page(
                &h.dhcp().list_hosts(p, a.str("service")?, &q).await?,
                &q,
                &[],
            )
        }
        "dhcp.host" => object(
            &h.dhcp()
                .get_host(p, a.str("service")?, a.str("cn")?)
                .await?,
        ),
        "dhcp.create_host" => object(
            &h.dhcp()
                .create_host(p, a.str("service")?, &a.typed()?)
                .await?,
        ),
        "dhcp.update_host" => object(
            &h.dhcp()
                .if_match(im)
                .update_host(p, a.str("service")?, a.str("cn")?, &a.typed()?)
                .await?,
        ),
        "dhcp.delete_host" => {
            h.dhcp()
                .if_match(im)
                .delete_host(p, a.str("service")?, a.str("cn")?)
                .await?;
            Ok(Answer::Unit)
        }

        // ---- sudo -------------------------------------------------------------------
        "sudo.list" => {
            let q = a.query()?;
            page(&h.sudo().list(p, &q).await?, &q, &[])
        }
        "sudo.get" => object(&h.sudo().get(p, a.str("cn")?).await?),
        "sudo.create" => object(&h.sudo().create(p, &a.typed()?).await?),
        "sudo.update" => object(
            &h.sudo()
                .if_match(im)
                .update(p, a.str("cn")?, &a.typed()?)
                .await?,
        ),
        "sudo.delete" => {
            h.sudo().if_match(im).delete(p, a.str("cn")?).await?;
            Ok(Answer::Unit)
        }

        other => Err(
            Error::new(ErrorCode::NotFound, format!("no operation '{other}'"))
                .with_detail("operation", other),
        ),
    }
}
