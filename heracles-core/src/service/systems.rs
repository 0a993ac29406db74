//! Systems: servers, workstations, terminals, printers, components, phones and mobiles.
//!
//! A system is a `device` entry (cn, description) in the container of its type below
//! `ou=systems` (`ou=servers`, `ou=workstations`, ...), with `ipHost` (`ipHostNumber`,
//! IPv4 or IPv6) when it has addresses and `ieee802Device` (`macAddress`) when it has MAC
//! addresses — the RFC 2307 classes NSS/`getent hosts` and ethers tools read.
//!
//! - `cn` is unique across every type (`/systems/{cn}` finds a system wherever it is);
//!   it is a host name: letters, digits and `-`, dot-separated labels of 1–63 characters.
//! - IP addresses are parsed (std) and stored in their canonical text form; MAC addresses
//!   are six hex octets separated by `:` or `-`, stored lower-case with `:`. Both are
//!   unique across all systems.
//!
//! ```
//! use heracles_core::service::systems::{canonical_ip, canonical_mac};
//! assert_eq!(canonical_ip("192.168.001.010").is_err(), true);
//! assert_eq!(canonical_ip("2001:DB8::1")?, "2001:db8::1");
//! assert_eq!(canonical_mac("00-11-22-AA-bb-CC")?, "00:11:22:aa:bb:cc");
//! # Ok::<(), heracles_core::Error>(())
//! ```

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::attrs::{list, nullable_list};
use super::common::{allow_list, list_entries, written_attributes, ListQuery, Principal};
use super::version::{guard, IfMatch, CSN};
use super::{Container, Heracles};
use crate::acl::{Action, ObjectType, Permission};
use crate::audit::{action, object_type, Operation};
use crate::directory::{Entry, Modification, Scope, SearchRequest};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;
use crate::page::Page;

const READ: Permission = Permission::new(ObjectType::System, Action::Read);
const WRITE: Permission = Permission::new(ObjectType::System, Action::Write);
const CREATE: Permission = Permission::new(ObjectType::System, Action::Create);
const DELETE: Permission = Permission::new(ObjectType::System, Action::Delete);

/// The kinds of system, each in its own container below `ou=systems`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SystemType {
    /// `ou=servers`.
    Server,
    /// `ou=workstations`.
    Workstation,
    /// `ou=terminals`.
    Terminal,
    /// `ou=printers`.
    Printer,
    /// `ou=components`.
    Component,
    /// `ou=phones`.
    Phone,
    /// `ou=mobiles`.
    Mobile,
}

impl SystemType {
    /// Every type.
    pub const ALL: [SystemType; 7] = [
        SystemType::Server,
        SystemType::Workstation,
        SystemType::Terminal,
        SystemType::Printer,
        SystemType::Component,
        SystemType::Phone,
        SystemType::Mobile,
    ];

    /// `server`, `workstation`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SystemType::Server => "server",
            SystemType::Workstation => "workstation",
            SystemType::Terminal => "terminal",
            SystemType::Printer => "printer",
            SystemType::Component => "component",
            SystemType::Phone => "phone",
            SystemType::Mobile => "mobile",
        }
    }

    /// The `ou` of its container.
    pub fn container_ou(self) -> &'static str {
        match self {
            SystemType::Server => "servers",
            SystemType::Workstation => "workstations",
            SystemType::Terminal => "terminals",
            SystemType::Printer => "printers",
            SystemType::Component => "components",
            SystemType::Phone => "phones",
            SystemType::Mobile => "mobiles",
        }
    }

    /// By name (`server`, or its container's `servers`), case-insensitive.
    pub fn from_name(s: &str) -> Result<SystemType> {
        SystemType::ALL
            .into_iter()
            .find(|t| {
                t.as_str().eq_ignore_ascii_case(s) || t.container_ou().eq_ignore_ascii_case(s)
            })
            .ok_or_else(|| {
                Error::validation(
                    "type",
                    format!(
                        "'{s}' is not a system type (one of {})",
                        SystemType::ALL.map(SystemType::as_str).join(", ")
                    ),
                )
                .with_detail("value", s)
            })
    }
}

/// A system as answered by every front.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct System {
    /// Its DN.
    pub dn: Dn,
    /// Its name.
    pub cn: String,
    /// Its type.
    #[serde(rename = "type")]
    pub system_type: SystemType,
    /// IPv4/IPv6 addresses.
    #[serde(rename = "ipAddress")]
    pub ip_address: Vec<String>,
    /// MAC addresses.
    #[serde(rename = "macAddress")]
    pub mac_address: Vec<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The body of `POST /systems`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSystem {
    /// Its name.
    pub cn: String,
    /// Its type.
    #[serde(rename = "type")]
    pub system_type: String,
    /// IP address(es): one string or a list.
    #[serde(rename = "ipAddress", default, deserialize_with = "list")]
    pub ip_address: Vec<String>,
    /// MAC address(es): one string or a list.
    #[serde(rename = "macAddress", default, deserialize_with = "list")]
    pub mac_address: Vec<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// DNS records to create with it (A/AAAA, optionally PTR).
    #[serde(default)]
    pub dns: Option<DnsLink>,
    /// A DHCP host to create with it.
    #[serde(default)]
    pub dhcp: Option<DhcpLink>,
}

/// DNS records created with a system: an A (IPv4) or AAAA (IPv6) record per address in
/// `zone`, and with `reverse_zone` a PTR record per address that zone covers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsLink {
    /// The forward zone.
    pub zone: String,
    /// The owner name in it; default: the system's `cn`.
    #[serde(default)]
    pub name: Option<String>,
    /// A reverse zone for PTR records.
    #[serde(default)]
    pub reverse_zone: Option<String>,
}

/// A DHCP host created with a system: its first MAC address, and its first IPv4 address as
/// the fixed address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DhcpLink {
    /// The DHCP service.
    pub service: String,
    /// The host's name in it; default: the system's `cn`.
    #[serde(default)]
    pub host: Option<String>,
}

/// What a linked creation did, to undo it if a later step fails.
enum Done {
    Record {
        zone: String,
        name: String,
        kind: &'static str,
        value: String,
    },
    Host {
        service: String,
        cn: String,
    },
}

/// The body of `PUT /systems/{cn}`: only the fields given change; `null` removes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::option_option)] // absent, null and a value are three cases
pub struct SystemUpdate {
    /// New addresses (`null`: none).
    #[serde(
        rename = "ipAddress",
        default,
        deserialize_with = "nullable_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub ip_address: Option<Option<Vec<String>>>,
    /// New MAC addresses (`null`: none).
    #[serde(
        rename = "macAddress",
        default,
        deserialize_with = "nullable_list",
        skip_serializing_if = "Option::is_none"
    )]
    pub mac_address: Option<Option<Vec<String>>>,
    /// New description (`null`: none).
    #[serde(
        default,
        deserialize_with = "super::departments::nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    /// The type cannot change; given, it must be the current one.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub system_type: Option<String>,
    /// The name cannot change; given, it must be the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cn: Option<String>,
}

/// An IP address (v4 or v6) in canonical text form; `VALIDATION_FAILED` naming it
/// otherwise (leading zeros in IPv4 octets are refused, as std does).
pub fn canonical_ip(s: &str) -> Result<String> {
    s.trim()
        .parse::<IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| {
            Error::validation("ipAddress", format!("'{s}' is not an IPv4 or IPv6 address"))
                .with_detail("value", s)
        })
}

/// A MAC address: six hex octets separated by `:` or `-`, answered lower-case with `:`.
pub fn canonical_mac(s: &str) -> Result<String> {
    let bad = || {
        Error::validation(
            "macAddress",
            format!("'{s}' is not a MAC address (six hex octets, e.g. 00:11:22:aa:bb:cc)"),
        )
        .with_detail("value", s)
    };
    let t = s.trim();
    let sep = if t.contains('-') { '-' } else { ':' };
    let parts: Vec<&str> = t.split(sep).collect();
    if parts.len() != 6
        || parts
            .iter()
            .any(|p| p.len() != 2 || !p.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(bad());
    }
    Ok(parts.join(":").to_ascii_lowercase())
}

/// A system name: a host name (dot-separated labels of letters, digits and `-`, 1–63
/// characters each, not starting or ending with `-`; at most 253 characters).
pub fn check_system_name(cn: &str) -> Result<()> {
    let ok = !cn.is_empty()
        && cn.len() <= 253
        && cn.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "cn",
            format!("'{cn}' is not a valid system name (a host name: letters, digits, '-', '.')"),
        )
        .with_detail("value", cn))
    }
}

/// Whether the reverse zone `zone` holds the PTR name of `ip`.
fn covers(zone: &str, ip: IpAddr) -> bool {
    let zone = zone.trim_end_matches('.').to_ascii_lowercase();
    super::dns::validate::reverse_name(ip).ends_with(&format!(".{zone}"))
}

fn description(d: &str) -> Result<String> {
    super::departments::check_description(d).map(str::to_owned)
}

fn not_found(cn: &str) -> Error {
    Error::new(
        ErrorCode::SystemNotFound,
        format!("System '{cn}' not found"),
    )
    .with_detail("cn", cn)
}

/// System operations; get one with [`Heracles::systems`].
#[derive(Debug, Clone, Copy)]
pub struct Systems<'a> {
    h: &'a Heracles,
    if_match: Option<&'a IfMatch>,
}

impl<'a> Systems<'a> {
    pub(super) fn new(h: &'a Heracles) -> Self {
        Systems { h, if_match: None }
    }

    /// The same operations, with `Some`: writing only while the system still has one of
    /// the expected versions (see [`version`](super::version)).
    #[must_use]
    pub fn if_match(self, expected: Option<&'a IfMatch>) -> Self {
        Systems {
            if_match: expected,
            ..self
        }
    }

    fn root(self) -> Result<Dn> {
        self.h.container(Container::Systems)
    }

    fn container_of(self, t: SystemType) -> Result<Dn> {
        Ok(self.root()?.child(Rdn::new("ou", t.container_ou())?))
    }

    fn type_of(self, e: &Entry) -> Option<SystemType> {
        let root = self.root().ok()?;
        let rdns = e.dn.strip_suffix(&root)?;
        // uid=.. , ou=<type> | the last RDN above the root names the container.
        let container = rdns.last()?;
        SystemType::ALL.into_iter().find(|t| {
            container.attr().eq_ignore_ascii_case("ou")
                && container.value().eq_ignore_ascii_case(t.container_ou())
        })
    }

    fn to_system(self, e: &Entry) -> Result<System> {
        let system_type = self.type_of(e).ok_or_else(|| {
            Error::internal(format!("'{}' is not in a system type's container", e.dn))
        })?;
        Ok(System {
            dn: e.dn.clone(),
            cn: e.first_str("cn").unwrap_or_default().to_owned(),
            system_type,
            ip_address: e
                .strs("ipHostNumber")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            mac_address: e
                .strs("macAddress")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            description: e.first_str("description").map(str::to_owned),
        })
    }

    fn object_filter() -> Filter {
        Filter::eq("objectClass", "device")
    }

    /// The entry of system `cn`, wherever it is.
    async fn find(self, cn: &str) -> Result<Entry> {
        let req = SearchRequest::new(
            self.root()?,
            Scope::Subtree,
            Filter::and([Self::object_filter(), Filter::eq("cn", cn)]),
        )
        .attributes(["*", CSN])
        .size_limit(2);
        let found = match self.h.directory().search(&req).await {
            Ok(f) => f,
            Err(e) if e.code() == ErrorCode::EntryNotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut it = found.into_iter().filter(|e| self.type_of(e).is_some());
        match (it.next(), it.next()) {
            (Some(e), None) => Ok(e),
            (None, _) => Err(not_found(cn)),
            (Some(_), Some(_)) => Err(Error::new(
                ErrorCode::BusinessRuleViolation,
                format!("several systems are named '{cn}'; fix the directory"),
            )
            .with_detail("cn", cn)),
        }
    }

    /// `ALREADY_EXISTS` naming the system that already has one of these addresses.
    async fn check_unique(
        self,
        ips: &[String],
        macs: &[String],
        except: Option<&Dn>,
    ) -> Result<()> {
        let clauses: Vec<Filter> = ips
            .iter()
            .map(|ip| Filter::eq("ipHostNumber", ip.as_str()))
            .chain(macs.iter().map(|m| Filter::eq("macAddress", m.as_str())))
            .collect();
        if clauses.is_empty() {
            return Ok(());
        }
        let req = SearchRequest::new(
            self.root()?,
            Scope::Subtree,
            Filter::and([Self::object_filter(), Filter::or(clauses)]),
        )
        .attributes(["cn", "ipHostNumber", "macAddress"]);
        let found = match self.h.directory().search(&req).await {
            Ok(f) => f,
            Err(e) if e.code() == ErrorCode::EntryNotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        for e in found.iter().filter(|e| Some(&e.dn) != except) {
            let other = e.first_str("cn").unwrap_or_default();
            if let Some(ip) = ips
                .iter()
                .find(|ip| e.strs("ipHostNumber").contains(&ip.as_str()))
            {
                return Err(Error::new(
                    ErrorCode::AlreadyExists,
                    format!("the address {ip} belongs to system '{other}'"),
                )
                .with_detail("field", "ipAddress")
                .with_detail("value", ip.as_str())
                .with_detail("system", other));
            }
            if let Some(m) = macs.iter().find(|m| {
                e.strs("macAddress")
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(m))
            }) {
                return Err(Error::new(
                    ErrorCode::AlreadyExists,
                    format!("the MAC address {m} belongs to system '{other}'"),
                )
                .with_detail("field", "macAddress")
                .with_detail("value", m.as_str())
                .with_detail("system", other));
            }
        }
        Ok(())
    }

    /// Systems, `?type=` narrowing to one type; `filter=` on `cn`, `description`,
    /// `ipHostNumber` (also as `ipAddress`), `macAddress`; sorted by cn; one page.
    pub async fn list(
        &self,
        p: &Principal,
        system_type: Option<&str>,
        q: &ListQuery,
    ) -> Result<Page<System>> {
        let root = self.root()?;
        p.check_somewhere(READ, &root.to_string())?;
        let base = match system_type {
            Some(t) => self.container_of(SystemType::from_name(t)?)?,
            None => root,
        };
        let allow = allow_list(
            self.h.schema(),
            &["cn", "description", "ipHostNumber", "macAddress"],
        );
        let mut q = q.clone();
        // The answer's field names work in filters too.
        for f in &mut q.filters {
            if let Some(rest) = f.strip_prefix("ipAddress:") {
                *f = format!("ipHostNumber:{rest}");
            }
        }
        let page = match list_entries(
            self.h,
            (p, READ),
            &base,
            Self::object_filter(),
            &allow,
            &q,
            "cn",
        )
        .await
        {
            Ok(page) => page,
            Err(e) if e.code() == ErrorCode::EntryNotFound => q.page.slice(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut data = Vec::with_capacity(page.data.len());
        for e in page.data.iter().filter(|e| self.type_of(e).is_some()) {
            data.push(self.to_system(e)?);
        }
        Ok(Page {
            data,
            pagination: page.pagination,
        })
    }

    /// One system by cn.
    pub async fn get(&self, p: &Principal, cn: &str) -> Result<System> {
        p.check_somewhere(READ, cn)?;
        let e = self.find(cn).await?;
        p.check(READ, &e.dn)?;
        self.to_system(&e)
    }

    /// Creates a system in its type's container — with `dns` and `dhcp`, also its DNS
    /// records and DHCP host, all or nothing: when a later step fails, the earlier ones are
    /// undone (by the server, in the same request: the audit trail shows both) and the
    /// error of the failed step is returned.
    pub async fn create(&self, p: &Principal, body: &NewSystem) -> Result<System> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::SYSTEM, &body.cn);
        let outcome = self.create_op(p, body, &mut op).await;
        let system = op.done(outcome).await?;
        let mut done = Vec::new();
        match self.link(p, &system, body, &mut done).await {
            Ok(()) => Ok(system),
            Err(e) => {
                self.undo(p, &system, done).await;
                Err(e)
            }
        }
    }

    /// The DNS records and DHCP host of a new system (see [`Systems::create`]).
    async fn link(
        &self,
        p: &Principal,
        system: &System,
        body: &NewSystem,
        done: &mut Vec<Done>,
    ) -> Result<()> {
        let addresses: Vec<IpAddr> = system
            .ip_address
            .iter()
            .filter_map(|ip| ip.parse().ok())
            .collect();
        if let Some(link) = &body.dns {
            if addresses.is_empty() {
                return Err(Error::validation(
                    "dns",
                    "DNS records need at least one ipAddress",
                ));
            }
            let name = link.name.clone().unwrap_or_else(|| system.cn.clone());
            for ip in &addresses {
                let kind = if ip.is_ipv4() { "A" } else { "AAAA" };
                let value = ip.to_string();
                self.h
                    .dns()
                    .create_record(
                        p,
                        &link.zone,
                        &super::dns::NewRecord::new(&name, kind, &value),
                    )
                    .await?;
                done.push(Done::Record {
                    zone: link.zone.clone(),
                    name: name.clone(),
                    kind,
                    value,
                });
            }
            if let Some(reverse) = &link.reverse_zone {
                let target = if name.ends_with('.') {
                    name.clone()
                } else {
                    format!("{name}.{}.", link.zone.trim_end_matches('.'))
                };
                let mut any = false;
                for ip in &addresses {
                    if !covers(reverse, *ip) {
                        continue;
                    }
                    any = true;
                    let owner = ip.to_string();
                    self.h
                        .dns()
                        .create_record(
                            p,
                            reverse,
                            &super::dns::NewRecord::new(&owner, "PTR", &target),
                        )
                        .await?;
                    done.push(Done::Record {
                        zone: reverse.clone(),
                        name: owner,
                        kind: "PTR",
                        value: target.clone(),
                    });
                }
                if !any {
                    return Err(Error::validation(
                        "dns.reverse_zone",
                        format!(
                            "the reverse zone '{reverse}' covers none of the system's addresses"
                        ),
                    )
                    .with_detail("value", reverse.as_str()));
                }
            }
        }
        if let Some(link) = &body.dhcp {
            let cn = link.host.clone().unwrap_or_else(|| system.cn.clone());
            let host = super::dhcp::NewHost {
                cn: cn.clone(),
                mac_address: system.mac_address.first().cloned(),
                fixed_address: addresses
                    .iter()
                    .find(|ip| ip.is_ipv4())
                    .map(ToString::to_string),
                ..super::dhcp::NewHost::default()
            };
            self.h.dhcp().create_host(p, &link.service, &host).await?;
            done.push(Done::Host {
                service: link.service.clone(),
                cn,
            });
        }
        Ok(())
    }

    /// Undoes the steps of a failed linked creation, newest first, then the system itself.
    /// The server acts here (the caller may create without being allowed to delete);
    /// failures are logged, the original error is what the caller gets.
    async fn undo(&self, p: &Principal, system: &System, done: Vec<Done>) {
        let server = Principal::system(self.h.base()).for_request(
            p.request_id()
                .map_or_else(crate::audit::new_request_id, str::to_owned),
            p.client_address().map(str::to_owned),
        );
        for step in done.into_iter().rev() {
            let r = match &step {
                Done::Record {
                    zone,
                    name,
                    kind,
                    value,
                } => {
                    self.h
                        .dns()
                        .delete_records(&server, zone, name, kind, Some(value))
                        .await
                }
                Done::Host { service, cn } => self.h.dhcp().delete_host(&server, service, cn).await,
            };
            if let Err(e) = r {
                tracing::error!(system = %system.dn, error = %e, "undoing a linked creation failed");
            }
        }
        if let Err(e) = self.delete(&server, &system.cn).await {
            tracing::error!(system = %system.dn, error = %e, "undoing a system creation failed");
        }
    }

    async fn create_op(
        &self,
        p: &Principal,
        body: &NewSystem,
        op: &mut Operation<'_>,
    ) -> Result<System> {
        p.check_somewhere(CREATE, &body.cn)?;
        check_system_name(&body.cn)?;
        let system_type = SystemType::from_name(&body.system_type)?;
        let ips = body
            .ip_address
            .iter()
            .map(|ip| canonical_ip(ip))
            .collect::<Result<Vec<_>>>()?;
        let macs = body
            .mac_address
            .iter()
            .map(|m| canonical_mac(m))
            .collect::<Result<Vec<_>>>()?;
        let container = self.container_of(system_type)?;
        let dn = container.child(Rdn::new("cn", &body.cn)?);
        p.check(CREATE, &dn)?;
        let mut classes = vec!["top", "device"];
        let mut entry = Entry::new(dn.clone()).with("cn", [body.cn.as_str()]);
        if !ips.is_empty() {
            classes.push("ipHost");
            entry.set("ipHostNumber", ips.iter().map(String::as_str));
        }
        if !macs.is_empty() {
            classes.push("ieee802Device");
            entry.set("macAddress", macs.iter().map(String::as_str));
        }
        if let Some(d) = &body.description {
            entry.set("description", [description(d)?]);
        }
        entry.set("objectClass", classes);
        p.check_attributes(CREATE, &dn, written_attributes(&entry))?;
        if self.find(&body.cn).await.is_ok() {
            return Err(Error::new(
                ErrorCode::AlreadyExists,
                format!("a system named '{}' already exists", body.cn),
            )
            .with_detail("cn", body.cn.as_str()));
        }
        self.check_unique(&ips, &macs, None).await?;
        op.target(&dn);
        op.begin().await?;
        let mut added = self.h.directory().add(&entry).await;
        if matches!(&added, Err(e) if e.code() == ErrorCode::ParentNotFound) {
            super::settings::ensure_container(self.h, Container::Systems).await?;
            let c = Entry::new(container.clone())
                .with("objectClass", ["top", "organizationalUnit"])
                .with("ou", [system_type.container_ou()]);
            match self.h.directory().add(&c).await {
                Ok(()) => {}
                Err(e) if e.code() == ErrorCode::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            added = self.h.directory().add(&entry).await;
        }
        added?;
        op.changes(None, Some(&entry));
        self.to_system(&entry)
    }

    /// Changes the fields given (`null` removes addresses or the description).
    pub async fn update(&self, p: &Principal, cn: &str, changes: &SystemUpdate) -> Result<System> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::SYSTEM, cn);
        let outcome = self.update_op(p, cn, changes, &mut op).await;
        op.done(outcome).await
    }

    async fn update_op(
        &self,
        p: &Principal,
        cn: &str,
        changes: &SystemUpdate,
        op: &mut Operation<'_>,
    ) -> Result<System> {
        p.check_somewhere(WRITE, cn)?;
        let e = self.find(cn).await?;
        op.target(&e.dn);
        p.check(WRITE, &e.dn)?;
        let current = self.to_system(&e)?;
        if let Some(t) = &changes.system_type {
            if SystemType::from_name(t)? != current.system_type {
                return Err(Error::validation(
                    "type",
                    "the type of a system cannot change",
                ));
            }
        }
        if let Some(name) = &changes.cn {
            if name != cn {
                return Err(Error::validation("cn", "cn cannot be changed"));
            }
        }
        let canon = |v: &Option<Vec<String>>,
                     f: fn(&str) -> Result<String>|
         -> Result<Vec<String>> { v.iter().flatten().map(|x| f(x)).collect() };
        let ips = match &changes.ip_address {
            None => current.ip_address.clone(),
            Some(v) => canon(v, canonical_ip)?,
        };
        let macs = match &changes.mac_address {
            None => current.mac_address.clone(),
            Some(v) => canon(v, canonical_mac)?,
        };
        self.check_unique(&ips, &macs, Some(&e.dn)).await?;
        let mut mods = Vec::new();
        let has = |c: &str| e.has_value("objectClass", c);
        if ips != current.ip_address {
            if !ips.is_empty() && !has("ipHost") {
                mods.push(Modification::add("objectClass", ["ipHost"]));
            }
            mods.push(Modification::replace("ipHostNumber", ips.clone()));
            if ips.is_empty() && has("ipHost") {
                mods.push(Modification::delete("objectClass", ["ipHost"]));
            }
        }
        if macs != current.mac_address {
            if !macs.is_empty() && !has("ieee802Device") {
                mods.push(Modification::add("objectClass", ["ieee802Device"]));
            }
            mods.push(Modification::replace("macAddress", macs.clone()));
            if macs.is_empty() && has("ieee802Device") {
                mods.push(Modification::delete("objectClass", ["ieee802Device"]));
            }
        }
        match &changes.description {
            None => {}
            Some(None) => mods.push(Modification::replace("description", Vec::<String>::new())),
            Some(Some(d)) => mods.push(Modification::replace("description", [description(d)?])),
        }
        p.check_attributes(
            WRITE,
            &e.dn,
            mods.iter()
                .map(Modification::attr)
                .filter(|a| !a.eq_ignore_ascii_case("objectClass")),
        )?;
        let assertion = guard(self.if_match, &current, &e)?;
        if mods.is_empty() {
            return Ok(current);
        }
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&e.dn, &mods, assertion.as_ref())
            .await?;
        let after = self.find(cn).await?;
        op.changes(Some(&e), Some(&after));
        self.to_system(&after)
    }

    /// Deletes a system.
    pub async fn delete(&self, p: &Principal, cn: &str) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::SYSTEM, cn);
        let outcome = self.delete_op(p, cn, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_op(&self, p: &Principal, cn: &str, op: &mut Operation<'_>) -> Result<()> {
        p.check_somewhere(DELETE, cn)?;
        let e = self.find(cn).await?;
        op.target(&e.dn);
        p.check(DELETE, &e.dn)?;
        let assertion = guard(self.if_match, &self.to_system(&e)?, &e)?;
        op.begin().await?;
        self.h
            .directory()
            .delete_if(&e.dn, assertion.as_ref())
            .await?;
        op.changes(Some(&e), None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for (given, want) in [
            ("10.0.0.1", "10.0.0.1"),
            (" 192.168.1.50 ", "192.168.1.50"),
            ("2001:DB8:0:0::1", "2001:db8::1"),
            ("::1", "::1"),
        ] {
            assert_eq!(canonical_ip(given).unwrap(), want);
        }
        for bad in [
            "",
            "10.0.0",
            "10.0.0.256",
            "010.0.0.1",
            "fe80::1%eth0",
            "host",
            "1.2.3.4/24",
        ] {
            let e = canonical_ip(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{bad}");
            assert_eq!(e.details()["value"], bad);
        }
        assert_eq!(
            canonical_mac("00:11:22:AA:BB:CC").unwrap(),
            "00:11:22:aa:bb:cc"
        );
        assert_eq!(
            canonical_mac("00-11-22-aa-bb-cc").unwrap(),
            "00:11:22:aa:bb:cc"
        );
        for bad in [
            "",
            "00:11:22:aa:bb",
            "00:11:22:aa:bb:cc:dd",
            "0:11:22:aa:bb:cc",
            "00:11:22:aa:bb:gg",
            "00:11-22:aa:bb:cc",
        ] {
            assert!(canonical_mac(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_types() {
        for ok in ["server1", "web-01", "db.example.com", "a"] {
            check_system_name(ok).unwrap();
        }
        for bad in [
            "",
            "-web",
            "web-",
            "we b",
            "a..b",
            "ünicode",
            &"x".repeat(64),
        ] {
            assert!(check_system_name(bad).is_err(), "{bad}");
        }
        assert_eq!(SystemType::from_name("Server").unwrap(), SystemType::Server);
        assert_eq!(
            SystemType::from_name("printers").unwrap(),
            SystemType::Printer
        );
        assert_eq!(
            SystemType::from_name("toaster").unwrap_err().code(),
            ErrorCode::ValidationFailed
        );
    }
}
