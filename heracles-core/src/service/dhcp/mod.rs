//! DHCP configuration in the directory, in the layout ISC dhcpd's LDAP back-end reads
//! (`ldap/schema/dhcp.ldif`; SPEC §3, §4).
//!
//! ```text
//! ou=dhcp
//! ├── ou=servers
//! │   └── cn=<server>            dhcpServer   dhcpServiceDN: <each service it serves>
//! └── cn=<service>               dhcpService  dhcpPrimaryDN: cn=<server>,ou=servers,ou=dhcp,...
//!     ├── cn=<shared network>    dhcpSharedNetwork
//!     │   └── cn=<network>       dhcpSubnet   dhcpNetMask: <prefix>
//!     │       └── cn=<a>-<b>     dhcpPool     dhcpRange: <a> <b>
//!     ├── cn=<network>           dhcpSubnet (not in a shared network)
//!     │   └── cn=<a>-<b>         dhcpPool
//!     └── cn=<host>              dhcpHost     dhcpHWAddress: ethernet <mac>
//!                                             dhcpStatements: fixed-address <address>
//! ```
//!
//! dhcpd finds its configuration through a `dhcpServer` entry whose `cn` is its host name
//! (or the `ldap-dhcp-server-cn` setting of dhcpd.conf): it reads the services that entry
//! lists in `dhcpServiceDN`, keeping those whose `dhcpPrimaryDN` (or secondary) points back
//! at it. So creating a service also creates (or extends) the server entry named by the
//! body's `server` (default: the service's `cn`) below `ou=servers` and fills
//! `dhcpPrimaryDN`; deleting the service removes it from that entry, and the entry itself
//! once it serves nothing.
//!
//! Every object keeps `dhcpStatements` and `dhcpOption` as lists (`statements`, `options`):
//! dhcpd pastes each statement into its configuration followed by `;`, and each option after
//! `option `. They are kept as given, after [`validate::check_line`]. `description` is
//! `dhcpComments`.
//!
//! Rules (besides the syntax of [`validate`]):
//!
//! * Subnets: the network address has no host bits; no two subnets of a service overlap
//!   (the same network: `ALREADY_EXISTS`; another overlapping one:
//!   `BUSINESS_RULE_VIOLATION`). A subnet lies directly below its service, or in one of its
//!   shared networks (chosen when it is created). A subnet is addressed by its network
//!   address wherever it lies.
//! * Pools: one range each, inside the usable addresses of their subnet (`VALIDATION_FAILED`),
//!   first ≤ last, not overlapping another pool of the subnet (`BUSINESS_RULE_VIOLATION`;
//!   the same range: `ALREADY_EXISTS`). The range names the pool (`cn` = `first-last`) and
//!   cannot change.
//! * Hosts: directly below the service; the name is unique in the service, and so is the
//!   MAC address (`ALREADY_EXISTS`); a fixed address must be a usable address of one of the
//!   service's subnets (`VALIDATION_FAILED`). Two hosts may share a fixed address (one
//!   machine with two network cards).
//! * Deleting a service, shared network or subnet that still holds entries is
//!   `BUSINESS_RULE_VIOLATION` unless `recursive`; a subnet holding the fixed address of a
//!   host cannot be deleted or shrunk until the host changes.
//!
//! Access: `dhcp:read`, `dhcp:create`, `dhcp:write`, `dhcp:delete`, checked on the DN of the
//! object concerned (a recursive delete needs `dhcp:delete` on everything it deletes). Every
//! write is audited with the object type `dhcp`.
//!
//! ```
//! use std::sync::Arc;
//! use heracles_core::directory::EmbeddedDirectory;
//! use heracles_core::dn::Dn;
//! use heracles_core::service::dhcp::{NewHost, NewPool, NewService, NewSubnet};
//! use heracles_core::service::{Heracles, Principal};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let folder = tempfile::tempdir().unwrap();
//! let base = Dn::parse("dc=example,dc=com")?;
//! let h = Heracles::new(Arc::new(EmbeddedDirectory::open(folder.path(), &base)?), base.clone());
//! h.bootstrap(None).await?;
//! let admin = Principal::system(&base);
//! let dhcp = h.dhcp();
//! dhcp.create_service(&admin, &NewService {
//!     cn: "dhcp1".into(),
//!     statements: vec!["default-lease-time 3600".into()],
//!     ..Default::default()
//! }).await?;
//! dhcp.create_subnet(&admin, "dhcp1", None, &NewSubnet {
//!     network: "192.168.1.0".into(), prefix: Some(24), ..Default::default()
//! }).await?;
//! dhcp.create_pool(&admin, "dhcp1", "192.168.1.0", &NewPool {
//!     range: "192.168.1.100 192.168.1.199".into(), ..Default::default()
//! }).await?;
//! let host = dhcp.create_host(&admin, "dhcp1", &NewHost {
//!     cn: "printer1".into(),
//!     mac_address: Some("00:11:22:33:44:66".into()),
//!     fixed_address: Some("192.168.1.50".into()),
//!     ..Default::default()
//! }).await?;
//! assert_eq!(host.subnet.as_deref(), Some("192.168.1.0"));
//! let tree = dhcp.get_service(&admin, "dhcp1").await?;
//! assert_eq!(tree.subnets[0].pools[0].range, "192.168.1.100 192.168.1.199");
//! assert_eq!(tree.service.server.as_deref(), Some("dhcp1"));
//! // Outside the subnet: refused.
//! assert!(dhcp.create_pool(&admin, "dhcp1", "192.168.1.0", &NewPool {
//!     range: "192.168.2.1 192.168.2.9".into(), ..Default::default()
//! }).await.is_err());
//! # Ok::<(), heracles_core::Error>(()) }).unwrap();
//! ```

mod list;
mod model;
mod objects;
pub mod validate;

use std::cmp::Reverse;

use self::model::{
    is_a, network_of, to_host, to_pool, to_service, to_shared_network, to_subnet, COMMENTS,
    HOST_CLASS, OPTION, POOL_CLASS, PRIMARY_DN, SERVER_CLASS, SERVICE_CLASS, SERVICE_DN,
    SHARED_NETWORK_CLASS, STATEMENTS, SUBNET_CLASS,
};
pub use self::model::{
    ConfigUpdate, DhcpService, DhcpServiceDetails, Host, HostUpdate, NewHost, NewPool, NewService,
    NewSharedNetwork, NewSubnet, Pool, PoolUpdate, SharedNetwork, Subnet, SubnetUpdate,
};
use self::validate::{check_description, check_host_name, check_lines, check_name, LineKind};
use super::common::written_attributes;
use super::version::{guard, IfMatch, CSN};
use super::{Container, Heracles, ListQuery, Principal};
use crate::acl::{Action, ObjectType, Permission};
use crate::audit::{action, object_type, Operation};
use crate::directory::{truncate, Entry, Modification, Scope, SearchRequest, SortKey};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;
use crate::page::Page;

const READ: Permission = Permission::new(ObjectType::Dhcp, Action::Read);
const WRITE: Permission = Permission::new(ObjectType::Dhcp, Action::Write);
const CREATE: Permission = Permission::new(ObjectType::Dhcp, Action::Create);
const DELETE: Permission = Permission::new(ObjectType::Dhcp, Action::Delete);

/// The `ou` below the DHCP container that holds the `dhcpServer` entries.
pub const SERVERS_OU: &str = "servers";
/// How many times a recursive delete re-reads a subtree that changed under it.
const DELETE_ATTEMPTS: usize = 3;

/// DHCP operations; get one with [`Heracles::dhcp`].
#[derive(Debug, Clone, Copy)]
pub struct Dhcp<'a> {
    h: &'a Heracles,
    if_match: Option<&'a IfMatch>,
}

/// `DHCP_NOT_FOUND` naming what was looked for (`details`: the given keys).
fn not_found(what: &str, keys: &[(&str, &str)]) -> Error {
    let mut e = Error::new(ErrorCode::DhcpNotFound, format!("{what} not found"));
    for (k, v) in keys {
        e = e.with_detail(*k, truncate(v, 80));
    }
    e
}

fn service_not_found(name: &str) -> Error {
    not_found(
        &format!("DHCP service '{}'", truncate(name, 80)),
        &[("service", name)],
    )
}

/// `ENTRY_NOT_FOUND` of a write turned into `not_found`.
fn or_not_found(e: Error, not_found: impl FnOnce() -> Error) -> Error {
    if e.code() == ErrorCode::EntryNotFound {
        not_found()
    } else {
        e
    }
}

/// The modifications of `description`, `statements` and `options` changes.
#[allow(clippy::option_option)] // absent, null and a value are three cases
fn config_mods(
    description: Option<&Option<String>>,
    statements: Option<&Option<Vec<String>>>,
    options: Option<&Option<Vec<String>>>,
    statement_kind: LineKind,
) -> Result<Vec<Modification>> {
    let mut mods = Vec::new();
    match description {
        None => {}
        Some(None) => mods.push(Modification::replace(COMMENTS, Vec::<&str>::new())),
        Some(Some(d)) => mods.push(Modification::replace(COMMENTS, [check_description(d)?])),
    }
    for (field, attr, kind, list) in [
        ("statements", STATEMENTS, statement_kind, statements),
        ("options", OPTION, LineKind::Option, options),
    ] {
        if let Some(list) = list {
            let list = list.clone().unwrap_or_default();
            check_lines(field, kind, &list)?;
            mods.push(Modification::replace(attr, list));
        }
    }
    Ok(mods)
}

/// Sets `description`, `statements` and `options` on a new entry (after checking them).
fn set_config(
    entry: &mut Entry,
    description: Option<&str>,
    statements: &[String],
    options: &[String],
    statement_kind: LineKind,
) -> Result<()> {
    if let Some(d) = description {
        entry.set(COMMENTS, [check_description(d)?]);
    }
    check_lines("statements", statement_kind, statements)?;
    check_lines("options", LineKind::Option, options)?;
    if !statements.is_empty() {
        entry.set(STATEMENTS, statements);
    }
    if !options.is_empty() {
        entry.set(OPTION, options);
    }
    Ok(())
}

impl<'a> Dhcp<'a> {
    pub(in crate::service) fn new(h: &'a Heracles) -> Self {
        Dhcp { h, if_match: None }
    }

    /// The same operations, with `Some`: writing only while the object still has one of
    /// the expected versions (see [`version`](super::version)); otherwise
    /// `PRECONDITION_FAILED`. The version of a service is that of its whole tree as
    /// [`Dhcp::get_service`] answers it; a recursive delete checks it before deleting
    /// anything.
    #[must_use]
    pub fn if_match(self, expected: Option<&'a IfMatch>) -> Self {
        Dhcp {
            if_match: expected,
            ..self
        }
    }

    fn container(self) -> Result<Dn> {
        self.h.container(Container::Dhcp)
    }

    /// The DN of the service `name`; a name that cannot be an RDN value names none.
    fn service_dn(self, name: &str) -> Result<Dn> {
        let container = self.container()?;
        Rdn::new("cn", name)
            .ok()
            .and_then(|rdn| container.checked_child(rdn).ok())
            .ok_or_else(|| service_not_found(name))
    }

    /// The service entry `name` (with its `entryCSN`).
    async fn read_service(self, name: &str) -> Result<Entry> {
        let dn = self.service_dn(name)?;
        self.read_as(&dn, SERVICE_CLASS)
            .await?
            .ok_or_else(|| service_not_found(name))
    }

    /// The entry at `dn` if it is of `class` (with its `entryCSN`).
    async fn read_as(self, dn: &Dn, class: &str) -> Result<Option<Entry>> {
        Ok(self
            .h
            .directory()
            .get(dn, &["*", CSN])
            .await?
            .filter(|e| is_a(e, class)))
    }

    /// The entries of `class` below `base` (`scope`), ordered by `cn`; none when `base` does
    /// not exist.
    async fn search(self, base: &Dn, scope: Scope, filter: Filter) -> Result<Vec<Entry>> {
        let req = SearchRequest::new(base.clone(), scope, filter)
            .attributes(["*", CSN])
            .sort([SortKey::asc("cn")]);
        match self.h.directory().search(&req).await {
            Ok(found) => Ok(found),
            Err(e) if e.code() == ErrorCode::EntryNotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Every entry strictly below `dn`, ordered by `cn`.
    async fn below(self, dn: &Dn) -> Result<Vec<Entry>> {
        let mut all = self
            .search(dn, Scope::Subtree, Filter::present("objectClass"))
            .await?;
        all.retain(|e| e.dn != *dn);
        Ok(all)
    }

    /// The objects of `class` anywhere below the service `service`.
    async fn all_of(self, service: &Dn, class: &str) -> Result<Vec<Entry>> {
        self.search(service, Scope::Subtree, Filter::eq("objectClass", class))
            .await
    }

    /// The service's subnets as networks (entries whose `cn`/`dhcpNetMask` make none are
    /// left out), with their entries.
    async fn networks(self, service: &Dn) -> Result<Vec<(validate::Network, Entry)>> {
        Ok(self
            .all_of(service, SUBNET_CLASS)
            .await?
            .into_iter()
            .filter_map(|e| network_of(&e).map(|n| (n, e)))
            .collect())
    }

    /// The service `entry` with everything below it the caller may read.
    async fn details(self, p: &Principal, entry: &Entry) -> Result<DhcpServiceDetails> {
        let below = self.below(&entry.dn).await?;
        let readable: Vec<&Entry> = below.iter().filter(|e| p.allows(READ, &e.dn)).collect();
        let networks: Vec<validate::Network> = readable
            .iter()
            .filter(|e| is_a(e, SUBNET_CLASS))
            .filter_map(|e| network_of(e))
            .collect();
        let pools_of = |subnet: &Dn| -> Vec<Pool> {
            readable
                .iter()
                .filter(|e| is_a(e, POOL_CLASS) && e.dn.parent().as_ref() == Some(subnet))
                .map(|e| to_pool(e))
                .collect()
        };
        Ok(DhcpServiceDetails {
            service: to_service(entry),
            shared_networks: readable
                .iter()
                .filter(|e| is_a(e, SHARED_NETWORK_CLASS))
                .map(|e| to_shared_network(e))
                .collect(),
            subnets: readable
                .iter()
                .filter(|e| is_a(e, SUBNET_CLASS))
                .map(|e| to_subnet(e, &entry.dn, pools_of(&e.dn)))
                .collect(),
            hosts: readable
                .iter()
                .filter(|e| is_a(e, HOST_CLASS))
                .map(|e| to_host(e, &networks))
                .collect(),
        })
    }

    /// The assertion a write of the service `entry` must carry under the expected version.
    async fn service_guard(self, p: &Principal, entry: &Entry) -> Result<Option<Filter>> {
        if self.if_match.is_none() {
            return Ok(None);
        }
        let current = self.details(p, entry).await?;
        guard(self.if_match, &current, entry)
    }

    // ---- services -----------------------------------------------------------------------

    /// Services, narrowed by `filter=` clauses on `cn`, `description`, `statements`,
    /// `options`, `server`, `primaryDN`, sorted (default: by `cn`), one page of them.
    pub async fn list_services(&self, p: &Principal, q: &ListQuery) -> Result<Page<DhcpService>> {
        let container = self.container()?;
        p.check_somewhere(READ, &container.to_string())?;
        let page = list::list(
            self.h,
            p,
            READ,
            &container,
            Scope::One,
            SERVICE_CLASS,
            list::SERVICE_FIELDS,
            q,
        )
        .await?;
        Ok(page.map(|e| to_service(&e)))
    }

    /// One service with its shared networks, subnets (with their pools) and hosts;
    /// `DHCP_NOT_FOUND` if there is none.
    pub async fn get_service(&self, p: &Principal, name: &str) -> Result<DhcpServiceDetails> {
        let dn = self.service_dn(name)?;
        p.check(READ, &dn)?;
        let entry = self.read_service(name).await?;
        self.details(p, &entry).await
    }

    /// Creates a service and points the server entry of its `server` at it (see the
    /// [module docs](self)); `ALREADY_EXISTS` if one of that name exists.
    pub async fn create_service(
        &self,
        p: &Principal,
        body: &NewService,
    ) -> Result<DhcpServiceDetails> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::DHCP, &body.cn);
        let outcome = self.create_service_op(p, body, &mut op).await;
        op.done(outcome).await
    }

    async fn create_service_op(
        &self,
        p: &Principal,
        body: &NewService,
        op: &mut Operation<'_>,
    ) -> Result<DhcpServiceDetails> {
        let container = self.container()?;
        check_name("cn", &body.cn)?;
        let dn = container.checked_child(Rdn::new("cn", &body.cn)?)?;
        op.target(&dn);
        p.check(CREATE, &dn)?;
        let server = body.server.as_deref().unwrap_or(&body.cn);
        check_host_name("server", server)?;
        let server_dn = container
            .child(Rdn::new("ou", SERVERS_OU)?)
            .checked_child(Rdn::new("cn", server)?)?;
        let mut entry = Entry::new(dn.clone())
            .with("objectClass", ["top", SERVICE_CLASS])
            .with("cn", [body.cn.as_str()])
            .with(PRIMARY_DN, [server_dn.to_string()]);
        set_config(
            &mut entry,
            body.description.as_deref(),
            &body.statements,
            &body.options,
            LineKind::Statement,
        )?;
        p.check_attributes(CREATE, &dn, written_attributes(&entry))?;
        op.begin().await?;
        let mut added = self.h.directory().add(&entry).await;
        if matches!(&added, Err(e) if e.code() == ErrorCode::ParentNotFound) {
            super::settings::ensure_container(self.h, Container::Dhcp).await?;
            added = self.h.directory().add(&entry).await;
        }
        added.map_err(|e| {
            if e.code() == ErrorCode::AlreadyExists {
                e.with_message(format!("a DHCP service named '{}' already exists", body.cn))
                    .with_detail("service", body.cn.as_str())
            } else {
                e
            }
        })?;
        if let Err(e) = self.link_server(&server_dn, server, &dn).await {
            // Without its server entry dhcpd cannot find the service: undo.
            let _ = self.h.directory().delete(&dn).await;
            return Err(e);
        }
        let created = self
            .read_as(&dn, SERVICE_CLASS)
            .await?
            .ok_or_else(|| service_not_found(&body.cn))?;
        op.changes(None, Some(&created));
        self.details(p, &created).await
    }

    /// Adds `service` to the `dhcpServiceDN` of the server entry `server_dn`, creating it
    /// (and `ou=servers`) when missing.
    async fn link_server(&self, server_dn: &Dn, server: &str, service: &Dn) -> Result<()> {
        let entry = Entry::new(server_dn.clone())
            .with("objectClass", ["top", SERVER_CLASS])
            .with("cn", [server])
            .with(SERVICE_DN, [service.to_string()]);
        let dir = self.h.directory();
        for _ in 0..3 {
            match dir.add(&entry).await {
                Ok(()) => return Ok(()),
                Err(e) if e.code() == ErrorCode::ParentNotFound => {
                    let Some(ou) = server_dn.parent() else {
                        return Err(e);
                    };
                    let ou_entry = Entry::new(ou)
                        .with("objectClass", ["top", "organizationalUnit"])
                        .with("ou", [SERVERS_OU]);
                    match dir.add(&ou_entry).await {
                        Ok(()) => {}
                        Err(e) if e.code() == ErrorCode::AlreadyExists => {}
                        Err(e) => return Err(e),
                    }
                }
                Err(e) if e.code() == ErrorCode::AlreadyExists => {
                    match dir
                        .modify(
                            server_dn,
                            &[Modification::add(SERVICE_DN, [service.to_string()])],
                        )
                        .await
                    {
                        Ok(()) => return Ok(()),
                        Err(e) if e.code() == ErrorCode::ValueAlreadyExists => return Ok(()),
                        // Deleted meanwhile: add it again.
                        Err(e) if e.code() == ErrorCode::EntryNotFound => {}
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::new(
            ErrorCode::DirectoryError,
            format!("the DHCP server entry '{server_dn}' kept changing while being linked"),
        ))
    }

    /// Removes the deleted service `service` from its server entry, and deletes that entry
    /// when it serves nothing any more (unless something was added meanwhile).
    async fn unlink_server(&self, service: &Entry) -> Result<()> {
        let Some(server_dn) = service
            .first_str(PRIMARY_DN)
            .and_then(|s| Dn::parse(s).ok())
        else {
            return Ok(());
        };
        let servers = self.container()?.child(Rdn::new("ou", SERVERS_OU)?);
        if server_dn.parent().as_ref() != Some(&servers) {
            return Ok(()); // not an entry Heracles manages
        }
        let dir = self.h.directory();
        match dir
            .modify(
                &server_dn,
                &[Modification::delete(SERVICE_DN, [service.dn.to_string()])],
            )
            .await
        {
            Ok(()) => {}
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::EntryNotFound | ErrorCode::NoSuchAttribute
                ) => {}
            Err(e) => return Err(e),
        }
        let unused = Filter::and([
            Filter::eq("objectClass", SERVER_CLASS),
            Filter::not(Filter::present(SERVICE_DN)),
        ]);
        match dir.delete_if(&server_dn, Some(&unused)).await {
            Ok(()) => Ok(()),
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::EntryNotFound
                        | ErrorCode::PreconditionFailed
                        | ErrorCode::NotAllowedOnNonLeaf
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Changes a service's description, statements and/or options.
    pub async fn update_service(
        &self,
        p: &Principal,
        name: &str,
        changes: &ConfigUpdate,
    ) -> Result<DhcpServiceDetails> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::DHCP, name);
        let outcome = self.update_service_op(p, name, changes, &mut op).await;
        op.done(outcome).await
    }

    async fn update_service_op(
        &self,
        p: &Principal,
        name: &str,
        changes: &ConfigUpdate,
        op: &mut Operation<'_>,
    ) -> Result<DhcpServiceDetails> {
        let dn = self.service_dn(name)?;
        op.target(&dn);
        p.check(WRITE, &dn)?;
        let mods = config_mods(
            changes.description.as_ref(),
            changes.statements.as_ref(),
            changes.options.as_ref(),
            LineKind::Statement,
        )?;
        p.check_attributes(WRITE, &dn, mods.iter().map(Modification::attr))?;
        let current = self.read_service(name).await?;
        let assertion = self.service_guard(p, &current).await?;
        if mods.is_empty() {
            return self.details(p, &current).await;
        }
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&current.dn, &mods, assertion.as_ref())
            .await
            .map_err(|e| or_not_found(e, || service_not_found(name)))?;
        let after = self.read_service(name).await?;
        op.changes(Some(&current), Some(&after));
        self.details(p, &after).await
    }

    /// Deletes a service. One that still holds entries is `BUSINESS_RULE_VIOLATION`
    /// (details: `service`, `entries`) unless `recursive`, which deletes everything below it
    /// first (deepest first). Its server entry forgets it.
    pub async fn delete_service(&self, p: &Principal, name: &str, recursive: bool) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::DHCP, name);
        let outcome = self.delete_service_op(p, name, recursive, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_service_op(
        &self,
        p: &Principal,
        name: &str,
        recursive: bool,
        op: &mut Operation<'_>,
    ) -> Result<()> {
        let dn = self.service_dn(name)?;
        op.target(&dn);
        p.check(DELETE, &dn)?;
        let current = self.read_service(name).await?;
        let assertion = self.service_guard(p, &current).await?;
        op.changes(Some(&current), None);
        self.delete_tree(p, &current.dn, assertion.as_ref(), recursive, op, || {
            service_not_found(name)
        })
        .await?;
        // The service is gone; a server entry left pointing at it only makes dhcpd log
        // that it cannot find it.
        if let Err(e) = self.unlink_server(&current).await {
            tracing::warn!(service = %current.dn, error = %e, "cannot unlink the DHCP server entry");
        }
        Ok(())
    }

    /// Deletes `dn` and, when `recursive`, everything below it (deepest first; each needs
    /// `dhcp:delete`). Without `recursive` an entry with children is
    /// `BUSINESS_RULE_VIOLATION`. `assertion` guards `dn` itself.
    async fn delete_tree(
        &self,
        p: &Principal,
        dn: &Dn,
        assertion: Option<&Filter>,
        recursive: bool,
        op: &mut Operation<'_>,
        not_found: impl Fn() -> Error,
    ) -> Result<()> {
        for _ in 0..DELETE_ATTEMPTS {
            let mut below: Vec<Dn> = self.below(dn).await?.into_iter().map(|e| e.dn).collect();
            if !recursive && !below.is_empty() {
                return Err(Error::new(
                    ErrorCode::BusinessRuleViolation,
                    format!(
                        "'{dn}' still holds {} entr{}; delete them first or delete recursively",
                        below.len(),
                        if below.len() == 1 { "y" } else { "ies" }
                    ),
                )
                .with_detail("dn", dn.to_string())
                .with_detail("entries", below.len()));
            }
            for d in &below {
                p.check(DELETE, d)?;
            }
            op.begin().await?;
            below.sort_by_key(|d| Reverse(d.len()));
            for d in below.iter().chain(std::iter::once(dn)) {
                let condition = if d == dn { assertion } else { None };
                match self.h.directory().delete_if(d, condition).await {
                    Ok(()) => {}
                    Err(e) if e.code() == ErrorCode::EntryNotFound && d != dn => {}
                    Err(e) if e.code() == ErrorCode::EntryNotFound => return Err(not_found()),
                    Err(e) if e.code() == ErrorCode::NotAllowedOnNonLeaf => break,
                    Err(e) => return Err(e),
                }
                if d == dn {
                    return Ok(());
                }
            }
        }
        Err(Error::new(
            ErrorCode::BusinessRuleViolation,
            format!("'{dn}' kept receiving new entries while being deleted"),
        )
        .with_detail("dn", dn.to_string()))
    }
}

#[cfg(test)]
mod tests;
