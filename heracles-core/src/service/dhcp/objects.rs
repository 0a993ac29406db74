//! The objects inside a DHCP service: shared networks, subnets, pools and hosts.

use std::net::Ipv4Addr;

use super::model::{
    fixed_addr_of, is_a, mac_of, name_of, network_of, range_of, to_host, to_pool,
    to_shared_network, to_subnet, ETHERNET, FIXED_ADDRESS, HOST_CLASS, HWADDRESS, NETMASK, PERMIT,
    POOL_CLASS, RANGE, SHARED_NETWORK_CLASS, STATEMENTS, SUBNET_CLASS,
};
use super::validate::{
    check_host_name, check_lines, check_name, parse_ipv4, parse_mac, LineKind, Network, Range,
};
use super::{
    config_mods, list, not_found, or_not_found, set_config, Dhcp, CREATE, DELETE, READ, WRITE,
};
use super::{ConfigUpdate, SharedNetwork, Subnet, SubnetUpdate};
use super::{Host, HostUpdate, NewHost, NewPool, NewSharedNetwork, NewSubnet, Pool, PoolUpdate};
use crate::audit::{action, object_type, Operation};
use crate::directory::{truncate, Entry, Modification, Scope};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;
use crate::page::Page;
use crate::service::common::written_attributes;
use crate::service::version::guard;
use crate::service::{ListQuery, Principal};

fn shared_network_not_found(service: &str, cn: &str) -> Error {
    not_found(
        &format!(
            "shared network '{}' of DHCP service '{}'",
            truncate(cn, 80),
            truncate(service, 80)
        ),
        &[("service", service), ("sharedNetwork", cn)],
    )
}

fn subnet_not_found(service: &str, network: &str) -> Error {
    not_found(
        &format!(
            "subnet '{}' of DHCP service '{}'",
            truncate(network, 80),
            truncate(service, 80)
        ),
        &[("service", service), ("network", network)],
    )
}

fn pool_not_found(service: &str, network: &str, id: &str) -> Error {
    not_found(
        &format!(
            "pool '{}' of subnet '{}' of DHCP service '{}'",
            truncate(id, 80),
            truncate(network, 80),
            truncate(service, 80)
        ),
        &[("service", service), ("network", network), ("pool", id)],
    )
}

fn host_not_found(service: &str, cn: &str) -> Error {
    not_found(
        &format!(
            "host '{}' of DHCP service '{}'",
            truncate(cn, 80),
            truncate(service, 80)
        ),
        &[("service", service), ("host", cn)],
    )
}

fn conflict(message: String) -> Error {
    Error::new(ErrorCode::BusinessRuleViolation, message)
}

/// What kind of object an entry is, for messages.
fn kind_of(e: &Entry) -> &'static str {
    if is_a(e, HOST_CLASS) {
        "host"
    } else if is_a(e, SUBNET_CLASS) {
        "subnet"
    } else if is_a(e, SHARED_NETWORK_CLASS) {
        "shared network"
    } else if is_a(e, POOL_CLASS) {
        "pool"
    } else {
        "entry"
    }
}

impl Dhcp<'_> {
    /// Adds `entry`; `ALREADY_EXISTS` naming what holds its DN already.
    async fn add_new(&self, entry: &Entry, what: &str, name: &str) -> Result<()> {
        match self.h.directory().add(entry).await {
            Ok(()) => Ok(()),
            Err(e) if e.code() == ErrorCode::AlreadyExists => {
                let existing = self.h.directory().get(&entry.dn, &["objectClass"]).await?;
                let kind = existing.as_ref().map_or("entry", kind_of);
                Err(e
                    .with_message(format!(
                        "cannot create the {what} '{name}': a {kind} of that name already \
                         exists at '{}'",
                        entry.dn
                    ))
                    .with_detail("dn", entry.dn.to_string()))
            }
            Err(e) => Err(e),
        }
    }

    /// Reads a written entry back.
    async fn reread(&self, dn: &Dn, class: &str, gone: impl FnOnce() -> Error) -> Result<Entry> {
        self.read_as(dn, class).await?.ok_or_else(gone)
    }

    // ---- shared networks ----------------------------------------------------------------

    async fn find_shared_network(&self, service: &str, cn: &str) -> Result<Entry> {
        let svc = self.read_service(service).await?;
        let Ok(rdn) = Rdn::new("cn", cn) else {
            return Err(shared_network_not_found(service, cn));
        };
        self.read_as(&svc.dn.child(rdn), SHARED_NETWORK_CLASS)
            .await?
            .ok_or_else(|| shared_network_not_found(service, cn))
    }

    fn shared_network_guard(&self, e: &Entry) -> Result<Option<Filter>> {
        guard(self.if_match, &to_shared_network(e), e)
    }

    /// The service's shared networks (filter and sort on `cn`, `description`,
    /// `statements`, `options`).
    pub async fn list_shared_networks(
        &self,
        p: &Principal,
        service: &str,
        q: &ListQuery,
    ) -> Result<Page<SharedNetwork>> {
        p.check_somewhere(READ, service)?;
        let svc = self.read_service(service).await?;
        let page = list::list(
            self.h,
            p,
            READ,
            &svc.dn,
            Scope::One,
            SHARED_NETWORK_CLASS,
            list::SHARED_NETWORK_FIELDS,
            q,
        )
        .await?;
        Ok(page.map(|e| to_shared_network(&e)))
    }

    /// One shared network.
    pub async fn get_shared_network(
        &self,
        p: &Principal,
        service: &str,
        cn: &str,
    ) -> Result<SharedNetwork> {
        p.check_somewhere(READ, cn)?;
        let e = self.find_shared_network(service, cn).await?;
        p.check(READ, &e.dn)?;
        Ok(to_shared_network(&e))
    }

    /// Creates a shared network in a service.
    pub async fn create_shared_network(
        &self,
        p: &Principal,
        service: &str,
        body: &NewSharedNetwork,
    ) -> Result<SharedNetwork> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::DHCP, &body.cn);
        let outcome = self
            .create_shared_network_op(p, service, body, &mut op)
            .await;
        op.done(outcome).await
    }

    async fn create_shared_network_op(
        &self,
        p: &Principal,
        service: &str,
        body: &NewSharedNetwork,
        op: &mut Operation<'_>,
    ) -> Result<SharedNetwork> {
        p.check_somewhere(CREATE, &body.cn)?;
        check_name("cn", &body.cn)?;
        let svc = self.read_service(service).await?;
        let dn = svc.dn.checked_child(Rdn::new("cn", &body.cn)?)?;
        op.target(&dn);
        p.check(CREATE, &dn)?;
        let mut entry = Entry::new(dn.clone())
            .with("objectClass", ["top", SHARED_NETWORK_CLASS])
            .with("cn", [body.cn.as_str()]);
        set_config(
            &mut entry,
            body.description.as_deref(),
            &body.statements,
            &body.options,
            LineKind::Statement,
        )?;
        p.check_attributes(CREATE, &dn, written_attributes(&entry))?;
        op.begin().await?;
        self.add_new(&entry, "shared network", &body.cn).await?;
        let created = self
            .reread(&dn, SHARED_NETWORK_CLASS, || {
                shared_network_not_found(service, &body.cn)
            })
            .await?;
        op.changes(None, Some(&created));
        Ok(to_shared_network(&created))
    }

    /// Changes a shared network's description, statements and/or options.
    pub async fn update_shared_network(
        &self,
        p: &Principal,
        service: &str,
        cn: &str,
        changes: &ConfigUpdate,
    ) -> Result<SharedNetwork> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::DHCP, cn);
        let outcome = async {
            p.check_somewhere(WRITE, cn)?;
            let current = self.find_shared_network(service, cn).await?;
            op.target(&current.dn);
            p.check(WRITE, &current.dn)?;
            let mods = config_mods(
                changes.description.as_ref(),
                changes.statements.as_ref(),
                changes.options.as_ref(),
                LineKind::Statement,
            )?;
            let after = self
                .modify_guarded(p, &current, &mods, &mut op, || {
                    shared_network_not_found(service, cn)
                })
                .await?;
            Ok(to_shared_network(&after))
        }
        .await;
        op.done(outcome).await
    }

    /// Deletes a shared network; one still holding subnets is `BUSINESS_RULE_VIOLATION`
    /// unless `recursive`.
    pub async fn delete_shared_network(
        &self,
        p: &Principal,
        service: &str,
        cn: &str,
        recursive: bool,
    ) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::DHCP, cn);
        let outcome = async {
            p.check_somewhere(DELETE, cn)?;
            let current = self.find_shared_network(service, cn).await?;
            op.target(&current.dn);
            p.check(DELETE, &current.dn)?;
            let assertion = self.shared_network_guard(&current)?;
            op.changes(Some(&current), None);
            self.delete_tree(
                p,
                &current.dn,
                assertion.as_ref(),
                recursive,
                &mut op,
                || shared_network_not_found(service, cn),
            )
            .await
        }
        .await;
        op.done(outcome).await
    }

    /// Modifies `current` with `mods` under the expected version (its guard is that of the
    /// answer `answer_of` builds); answers the entry after the change.
    async fn modify_guarded(
        &self,
        p: &Principal,
        current: &Entry,
        mods: &[Modification],
        op: &mut Operation<'_>,
        gone: impl Fn() -> Error,
    ) -> Result<Entry> {
        p.check_attributes(WRITE, &current.dn, mods.iter().map(Modification::attr))?;
        let assertion = self.guard_of(p, current).await?;
        if mods.is_empty() {
            return Ok(current.clone());
        }
        op.begin().await?;
        self.h
            .directory()
            .modify_if(&current.dn, mods, assertion.as_ref())
            .await
            .map_err(|e| or_not_found(e, &gone))?;
        let class = [SHARED_NETWORK_CLASS, SUBNET_CLASS, POOL_CLASS, HOST_CLASS]
            .into_iter()
            .find(|c| is_a(current, c))
            .unwrap_or("top");
        let after = self.reread(&current.dn, class, &gone).await?;
        op.changes(Some(current), Some(&after));
        Ok(after)
    }

    /// The assertion a write of `e` (a shared network, subnet, pool or host) must carry
    /// under the expected version: the version is that of its answer.
    async fn guard_of(&self, p: &Principal, e: &Entry) -> Result<Option<Filter>> {
        if self.if_match.is_none() {
            return Ok(None);
        }
        if is_a(e, SUBNET_CLASS) {
            let service = self.service_of(e)?;
            let answer = self.subnet_answer(p, &service, e).await?;
            guard(self.if_match, &answer, e)
        } else if is_a(e, HOST_CLASS) {
            let service = self.service_of(e)?;
            let answer = self.host_answer(p, &service, e).await?;
            guard(self.if_match, &answer, e)
        } else if is_a(e, POOL_CLASS) {
            guard(self.if_match, &to_pool(e), e)
        } else {
            self.shared_network_guard(e)
        }
    }

    /// The DN of the service an entry belongs to (the child of the container it is in).
    fn service_of(&self, e: &Entry) -> Result<Dn> {
        let container = self.container()?;
        let mut dn = e.dn.clone();
        while let Some(parent) = dn.parent() {
            if parent == container {
                return Ok(dn);
            }
            dn = parent;
        }
        Err(Error::internal(format!(
            "'{}' is not inside the DHCP container",
            e.dn
        )))
    }

    // ---- subnets ------------------------------------------------------------------------

    async fn find_subnet(&self, service: &str, network: &str) -> Result<(Entry, Entry)> {
        let svc = self.read_service(service).await?;
        if network.parse::<Ipv4Addr>().is_err() {
            return Err(subnet_not_found(service, network));
        }
        let filter = Filter::and([
            Filter::eq("objectClass", SUBNET_CLASS),
            Filter::eq("cn", network),
        ]);
        let rdn = Rdn::new("cn", network)?;
        let found = self.search(&svc.dn, Scope::Subtree, filter).await?;
        let subnet = found
            .into_iter()
            .find(|e| e.dn.rdn() == Some(&rdn))
            .ok_or_else(|| subnet_not_found(service, network))?;
        Ok((svc, subnet))
    }

    /// The answer for a subnet entry: with the pools the caller may read.
    async fn subnet_answer(&self, p: &Principal, service: &Dn, e: &Entry) -> Result<Subnet> {
        let pools = self
            .search(&e.dn, Scope::One, Filter::eq("objectClass", POOL_CLASS))
            .await?
            .iter()
            .filter(|pool| p.allows(READ, &pool.dn))
            .map(to_pool)
            .collect();
        Ok(to_subnet(e, service, pools))
    }

    /// The service's subnets, or those of one of its shared networks (filter and sort on
    /// `network`, `prefix`, `description`, `statements`, `options`); each with its pools.
    pub async fn list_subnets(
        &self,
        p: &Principal,
        service: &str,
        shared_network: Option<&str>,
        q: &ListQuery,
    ) -> Result<Page<Subnet>> {
        p.check_somewhere(READ, service)?;
        let svc = self.read_service(service).await?;
        let base = match shared_network {
            Some(cn) => self.find_shared_network(service, cn).await?.dn,
            None => svc.dn.clone(),
        };
        let page = list::list(
            self.h,
            p,
            READ,
            &base,
            Scope::Subtree,
            SUBNET_CLASS,
            list::SUBNET_FIELDS,
            q,
        )
        .await?;
        let pools: Vec<Entry> = self
            .all_of(&svc.dn, POOL_CLASS)
            .await?
            .into_iter()
            .filter(|e| p.allows(READ, &e.dn))
            .collect();
        Ok(page.map(|e| {
            let mine = pools
                .iter()
                .filter(|pool| pool.dn.parent().as_ref() == Some(&e.dn))
                .map(to_pool)
                .collect();
            to_subnet(&e, &svc.dn, mine)
        }))
    }

    /// One subnet, by its network address, with its pools.
    pub async fn get_subnet(&self, p: &Principal, service: &str, network: &str) -> Result<Subnet> {
        p.check_somewhere(READ, network)?;
        let (svc, e) = self.find_subnet(service, network).await?;
        p.check(READ, &e.dn)?;
        self.subnet_answer(p, &svc.dn, &e).await
    }

    /// Creates a subnet directly in the service, or in its shared network
    /// `shared_network`.
    pub async fn create_subnet(
        &self,
        p: &Principal,
        service: &str,
        shared_network: Option<&str>,
        body: &NewSubnet,
    ) -> Result<Subnet> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::DHCP, &body.network);
        let outcome = self
            .create_subnet_op(p, service, shared_network, body, &mut op)
            .await;
        op.done(outcome).await
    }

    async fn create_subnet_op(
        &self,
        p: &Principal,
        service: &str,
        shared_network: Option<&str>,
        body: &NewSubnet,
        op: &mut Operation<'_>,
    ) -> Result<Subnet> {
        p.check_somewhere(CREATE, &body.network)?;
        let net = Network::parse(&body.network, body.prefix)?;
        let svc = self.read_service(service).await?;
        let parent = match shared_network {
            Some(cn) => self.find_shared_network(service, cn).await?.dn,
            None => svc.dn.clone(),
        };
        let address = net.address.to_string();
        let dn = parent.checked_child(Rdn::new("cn", &address)?)?;
        op.target(&dn);
        p.check(CREATE, &dn)?;
        for (other, e) in self.networks(&svc.dn).await? {
            if other.address == net.address {
                return Err(Error::new(
                    ErrorCode::AlreadyExists,
                    format!("the service '{service}' already has the subnet {other}"),
                )
                .with_detail("network", address.as_str())
                .with_detail("dn", e.dn.to_string()));
            }
            if other.overlaps(&net) {
                return Err(conflict(format!(
                    "the subnet {net} overlaps the subnet {other} of the service '{service}'"
                ))
                .with_detail("network", net.to_string())
                .with_detail("overlaps", other.to_string())
                .with_detail("dn", e.dn.to_string()));
            }
        }
        let mut entry = Entry::new(dn.clone())
            .with("objectClass", ["top", SUBNET_CLASS])
            .with("cn", [address.as_str()])
            .with(NETMASK, [net.prefix.to_string()]);
        set_config(
            &mut entry,
            body.description.as_deref(),
            &body.statements,
            &body.options,
            LineKind::Statement,
        )?;
        p.check_attributes(CREATE, &dn, written_attributes(&entry))?;
        op.begin().await?;
        self.add_new(&entry, "subnet", &address).await?;
        let created = self
            .reread(&dn, SUBNET_CLASS, || subnet_not_found(service, &address))
            .await?;
        op.changes(None, Some(&created));
        Ok(to_subnet(&created, &svc.dn, Vec::new()))
    }

    /// Changes a subnet's prefix, description, statements and/or options. A new prefix
    /// keeps the network address (which must have no host bits under it), must not make the
    /// subnet overlap another, and must keep its pools and the fixed addresses inside it
    /// inside (`BUSINESS_RULE_VIOLATION`).
    pub async fn update_subnet(
        &self,
        p: &Principal,
        service: &str,
        network: &str,
        changes: &SubnetUpdate,
    ) -> Result<Subnet> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::DHCP, network);
        let outcome = self
            .update_subnet_op(p, service, network, changes, &mut op)
            .await;
        op.done(outcome).await
    }

    async fn update_subnet_op(
        &self,
        p: &Principal,
        service: &str,
        network: &str,
        changes: &SubnetUpdate,
        op: &mut Operation<'_>,
    ) -> Result<Subnet> {
        p.check_somewhere(WRITE, network)?;
        let (svc, current) = self.find_subnet(service, network).await?;
        op.target(&current.dn);
        p.check(WRITE, &current.dn)?;
        let mut mods = config_mods(
            changes.description.as_ref(),
            changes.statements.as_ref(),
            changes.options.as_ref(),
            LineKind::Statement,
        )?;
        if let Some(prefix) = changes.prefix {
            let old = network_of(&current).ok_or_else(|| {
                Error::internal(format!("'{}' is not a valid subnet entry", current.dn))
            })?;
            let new = Network::parse(&old.address.to_string(), Some(prefix))?;
            if new != old {
                self.check_resize(&svc.dn, &current, old, new).await?;
                mods.push(Modification::replace(NETMASK, [new.prefix.to_string()]));
            }
        }
        let after = self
            .modify_guarded(p, &current, &mods, op, || {
                subnet_not_found(service, network)
            })
            .await?;
        self.subnet_answer(p, &svc.dn, &after).await
    }

    /// Checks that the subnet `current` may become `new` (from `old`).
    async fn check_resize(
        &self,
        service: &Dn,
        current: &Entry,
        old: Network,
        new: Network,
    ) -> Result<()> {
        for (other, e) in self.networks(service).await? {
            if e.dn != current.dn && other.overlaps(&new) {
                return Err(conflict(format!(
                    "as {new} the subnet would overlap the subnet {other}"
                ))
                .with_detail("network", new.to_string())
                .with_detail("overlaps", other.to_string()));
            }
        }
        let pools = self
            .search(
                &current.dn,
                Scope::One,
                Filter::eq("objectClass", POOL_CLASS),
            )
            .await?;
        for pool in &pools {
            if let Some(range) = range_of(pool) {
                if new.check_range(&range).is_err() {
                    return Err(conflict(format!(
                        "as {new} the subnet would not hold its pool {range}"
                    ))
                    .with_detail("network", new.to_string())
                    .with_detail("pool", name_of(pool)));
                }
            }
        }
        let stranded: Vec<String> = self
            .all_of(service, HOST_CLASS)
            .await?
            .iter()
            .filter(|h| fixed_addr_of(h).is_some_and(|a| old.contains(a) && !new.is_usable(a)))
            .map(name_of)
            .collect();
        if !stranded.is_empty() {
            return Err(conflict(format!(
                "as {new} the subnet would not hold the fixed addresses of the hosts {}",
                stranded.join(", ")
            ))
            .with_detail("network", new.to_string())
            .with_detail("hosts", stranded));
        }
        Ok(())
    }

    /// Deletes a subnet; one holding pools is `BUSINESS_RULE_VIOLATION` unless `recursive`,
    /// and so is one holding a host's fixed address (always: change or delete the host
    /// first).
    pub async fn delete_subnet(
        &self,
        p: &Principal,
        service: &str,
        network: &str,
        recursive: bool,
    ) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::DHCP, network);
        let outcome = async {
            p.check_somewhere(DELETE, network)?;
            let (svc, current) = self.find_subnet(service, network).await?;
            op.target(&current.dn);
            p.check(DELETE, &current.dn)?;
            let assertion = self.guard_of(p, &current).await?;
            if let Some(net) = network_of(&current) {
                let users: Vec<String> = self
                    .all_of(&svc.dn, HOST_CLASS)
                    .await?
                    .iter()
                    .filter(|h| fixed_addr_of(h).is_some_and(|a| net.contains(a)))
                    .map(name_of)
                    .collect();
                if !users.is_empty() {
                    return Err(conflict(format!(
                        "the subnet {net} holds the fixed addresses of the hosts {}; change \
                         or delete them first",
                        users.join(", ")
                    ))
                    .with_detail("network", net.to_string())
                    .with_detail("hosts", users));
                }
            }
            op.changes(Some(&current), None);
            self.delete_tree(
                p,
                &current.dn,
                assertion.as_ref(),
                recursive,
                &mut op,
                || subnet_not_found(service, network),
            )
            .await
        }
        .await;
        op.done(outcome).await
    }

    // ---- pools --------------------------------------------------------------------------

    async fn find_pool(&self, service: &str, network: &str, id: &str) -> Result<Entry> {
        let (_, subnet) = self.find_subnet(service, network).await?;
        let Some(range) = Range::parse_id(id) else {
            return Err(pool_not_found(service, network, id));
        };
        let dn = subnet.dn.child(Rdn::new("cn", &range.id())?);
        self.read_as(&dn, POOL_CLASS)
            .await?
            .ok_or_else(|| pool_not_found(service, network, id))
    }

    /// The pools of a subnet (filter and sort on `id`, `range`, `description`,
    /// `permitList`, `statements`, `options`).
    pub async fn list_pools(
        &self,
        p: &Principal,
        service: &str,
        network: &str,
        q: &ListQuery,
    ) -> Result<Page<Pool>> {
        p.check_somewhere(READ, network)?;
        let (_, subnet) = self.find_subnet(service, network).await?;
        let page = list::list(
            self.h,
            p,
            READ,
            &subnet.dn,
            Scope::One,
            POOL_CLASS,
            list::POOL_FIELDS,
            q,
        )
        .await?;
        Ok(page.map(|e| to_pool(&e)))
    }

    /// One pool, by its id (`first-last`).
    pub async fn get_pool(
        &self,
        p: &Principal,
        service: &str,
        network: &str,
        id: &str,
    ) -> Result<Pool> {
        p.check_somewhere(READ, id)?;
        let e = self.find_pool(service, network, id).await?;
        p.check(READ, &e.dn)?;
        Ok(to_pool(&e))
    }

    /// Creates a pool in a subnet (see the [module docs](super) for the rules).
    pub async fn create_pool(
        &self,
        p: &Principal,
        service: &str,
        network: &str,
        body: &NewPool,
    ) -> Result<Pool> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::DHCP, &body.range);
        let outcome = self
            .create_pool_op(p, service, network, body, &mut op)
            .await;
        op.done(outcome).await
    }

    async fn create_pool_op(
        &self,
        p: &Principal,
        service: &str,
        network: &str,
        body: &NewPool,
        op: &mut Operation<'_>,
    ) -> Result<Pool> {
        p.check_somewhere(CREATE, &body.range)?;
        let range = Range::parse(&body.range)?;
        let (_, subnet) = self.find_subnet(service, network).await?;
        let net = network_of(&subnet).ok_or_else(|| {
            Error::internal(format!("'{}' is not a valid subnet entry", subnet.dn))
        })?;
        net.check_range(&range)?;
        let id = range.id();
        let dn = subnet.dn.checked_child(Rdn::new("cn", &id)?)?;
        op.target(&dn);
        p.check(CREATE, &dn)?;
        let siblings = self
            .search(
                &subnet.dn,
                Scope::One,
                Filter::eq("objectClass", POOL_CLASS),
            )
            .await?;
        for other in &siblings {
            let Some(r) = range_of(other) else { continue };
            if r == range {
                return Err(Error::new(
                    ErrorCode::AlreadyExists,
                    format!("the subnet {net} already has the pool {range}"),
                )
                .with_detail("pool", id.as_str())
                .with_detail("dn", other.dn.to_string()));
            }
            if r.overlaps(&range) {
                return Err(conflict(format!(
                    "the pool {range} overlaps the pool {r} of the subnet {net}"
                ))
                .with_detail("range", range.value())
                .with_detail("overlaps", r.value())
                .with_detail("dn", other.dn.to_string()));
            }
        }
        check_lines("permitList", LineKind::Permit, &body.permit_list)?;
        let mut entry = Entry::new(dn.clone())
            .with("objectClass", ["top", POOL_CLASS])
            .with("cn", [id.as_str()])
            .with(RANGE, [range.value()]);
        if !body.permit_list.is_empty() {
            entry.set(PERMIT, &body.permit_list);
        }
        set_config(
            &mut entry,
            body.description.as_deref(),
            &body.statements,
            &body.options,
            LineKind::Statement,
        )?;
        p.check_attributes(CREATE, &dn, written_attributes(&entry))?;
        op.begin().await?;
        self.add_new(&entry, "pool", &id).await?;
        let created = self
            .reread(&dn, POOL_CLASS, || pool_not_found(service, network, &id))
            .await?;
        op.changes(None, Some(&created));
        Ok(to_pool(&created))
    }

    /// Changes a pool's permit list, description, statements and/or options (its range
    /// names it and cannot change).
    pub async fn update_pool(
        &self,
        p: &Principal,
        service: &str,
        network: &str,
        id: &str,
        changes: &PoolUpdate,
    ) -> Result<Pool> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::DHCP, id);
        let outcome = async {
            p.check_somewhere(WRITE, id)?;
            let current = self.find_pool(service, network, id).await?;
            op.target(&current.dn);
            p.check(WRITE, &current.dn)?;
            if let Some(given) = &changes.range {
                let given = Range::parse(given)?;
                if Some(given) != range_of(&current) {
                    return Err(Error::validation(
                        "range",
                        "the range names the pool and cannot change: delete the pool and \
                         create one with the new range",
                    )
                    .with_detail("reason", "immutable")
                    .with_detail("value", given.value()));
                }
            }
            let mut mods = config_mods(
                changes.description.as_ref(),
                changes.statements.as_ref(),
                changes.options.as_ref(),
                LineKind::Statement,
            )?;
            if let Some(list) = &changes.permit_list {
                let list = list.clone().unwrap_or_default();
                check_lines("permitList", LineKind::Permit, &list)?;
                mods.push(Modification::replace(PERMIT, list));
            }
            let after = self
                .modify_guarded(p, &current, &mods, &mut op, || {
                    pool_not_found(service, network, id)
                })
                .await?;
            Ok(to_pool(&after))
        }
        .await;
        op.done(outcome).await
    }

    /// Deletes a pool.
    pub async fn delete_pool(
        &self,
        p: &Principal,
        service: &str,
        network: &str,
        id: &str,
    ) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::DHCP, id);
        let outcome = async {
            p.check_somewhere(DELETE, id)?;
            let current = self.find_pool(service, network, id).await?;
            op.target(&current.dn);
            p.check(DELETE, &current.dn)?;
            let assertion = self.guard_of(p, &current).await?;
            op.changes(Some(&current), None);
            self.delete_tree(p, &current.dn, assertion.as_ref(), false, &mut op, || {
                pool_not_found(service, network, id)
            })
            .await
        }
        .await;
        op.done(outcome).await
    }

    // ---- hosts --------------------------------------------------------------------------

    async fn find_host(&self, service: &str, cn: &str) -> Result<(Entry, Entry)> {
        let svc = self.read_service(service).await?;
        let Ok(rdn) = Rdn::new("cn", cn) else {
            return Err(host_not_found(service, cn));
        };
        let filter = Filter::and([Filter::eq("objectClass", HOST_CLASS), Filter::eq("cn", cn)]);
        let host = self
            .search(&svc.dn, Scope::Subtree, filter)
            .await?
            .into_iter()
            .find(|e| e.dn.rdn() == Some(&rdn))
            .ok_or_else(|| host_not_found(service, cn))?;
        Ok((svc, host))
    }

    /// The answer for a host entry: its subnet among those the caller may read.
    async fn host_answer(&self, p: &Principal, service: &Dn, e: &Entry) -> Result<Host> {
        let networks: Vec<Network> = self
            .networks(service)
            .await?
            .into_iter()
            .filter(|(_, s)| p.allows(READ, &s.dn))
            .map(|(n, _)| n)
            .collect();
        Ok(to_host(e, &networks))
    }

    /// The service's hosts (filter and sort on `cn`, `macAddress`, `fixedAddress`,
    /// `description`, `statements`, `options`).
    pub async fn list_hosts(
        &self,
        p: &Principal,
        service: &str,
        q: &ListQuery,
    ) -> Result<Page<Host>> {
        p.check_somewhere(READ, service)?;
        let svc = self.read_service(service).await?;
        let page = list::list(
            self.h,
            p,
            READ,
            &svc.dn,
            Scope::Subtree,
            HOST_CLASS,
            list::HOST_FIELDS,
            q,
        )
        .await?;
        let networks: Vec<Network> = self
            .networks(&svc.dn)
            .await?
            .into_iter()
            .filter(|(_, s)| p.allows(READ, &s.dn))
            .map(|(n, _)| n)
            .collect();
        Ok(page.map(|e| to_host(&e, &networks)))
    }

    /// One host.
    pub async fn get_host(&self, p: &Principal, service: &str, cn: &str) -> Result<Host> {
        p.check_somewhere(READ, cn)?;
        let (svc, e) = self.find_host(service, cn).await?;
        p.check(READ, &e.dn)?;
        self.host_answer(p, &svc.dn, &e).await
    }

    /// Checks a host's MAC address (canonical form; unique in the service but for `me`) and
    /// fixed address (a usable address of one of the service's subnets).
    async fn check_host_addresses(
        &self,
        service: &Dn,
        me: Option<&Dn>,
        mac: Option<&str>,
        fixed: Option<&str>,
    ) -> Result<(Option<String>, Option<Ipv4Addr>)> {
        let mac = mac.map(parse_mac).transpose()?;
        let fixed = fixed.map(|a| parse_ipv4("fixedAddress", a)).transpose()?;
        if let Some(mac) = &mac {
            let filter = Filter::and([
                Filter::eq("objectClass", HOST_CLASS),
                Filter::eq(HWADDRESS, format!("{ETHERNET} {mac}")),
            ]);
            let holders: Vec<Entry> = self
                .search(service, Scope::Subtree, filter)
                .await?
                .into_iter()
                .filter(|e| Some(&e.dn) != me)
                .collect();
            // Entries written elsewhere may spell the address differently.
            let others = self.all_of(service, HOST_CLASS).await?;
            let holder = holders.first().or_else(|| {
                others.iter().find(|e| {
                    Some(&e.dn) != me
                        && mac_of(e).and_then(|m| parse_mac(&m).ok()).as_ref() == Some(mac)
                })
            });
            if let Some(h) = holder {
                return Err(Error::new(
                    ErrorCode::AlreadyExists,
                    format!(
                        "the host '{}' of this service already has the MAC address {mac}",
                        name_of(h)
                    ),
                )
                .with_detail("macAddress", mac.as_str())
                .with_detail("host", name_of(h)));
            }
        }
        if let Some(addr) = fixed {
            let networks = self.networks(service).await?;
            if !networks.iter().any(|(n, _)| n.is_usable(addr)) {
                let known: Vec<String> = networks.iter().map(|(n, _)| n.to_string()).collect();
                return Err(Error::validation(
                    "fixedAddress",
                    format!(
                        "{addr} is not a usable address of a subnet of this service (subnets: \
                         {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                )
                .with_detail("reason", "not_in_a_subnet")
                .with_detail("value", addr.to_string())
                .with_detail("subnets", known));
            }
        }
        Ok((mac, fixed))
    }

    /// Creates a host directly in the service.
    pub async fn create_host(&self, p: &Principal, service: &str, body: &NewHost) -> Result<Host> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::DHCP, &body.cn);
        let outcome = self.create_host_op(p, service, body, &mut op).await;
        op.done(outcome).await
    }

    async fn create_host_op(
        &self,
        p: &Principal,
        service: &str,
        body: &NewHost,
        op: &mut Operation<'_>,
    ) -> Result<Host> {
        p.check_somewhere(CREATE, &body.cn)?;
        check_host_name("cn", &body.cn)?;
        let svc = self.read_service(service).await?;
        let dn = svc.dn.checked_child(Rdn::new("cn", &body.cn)?)?;
        op.target(&dn);
        p.check(CREATE, &dn)?;
        check_lines("statements", LineKind::HostStatement, &body.statements)?;
        match self.find_host(service, &body.cn).await {
            Ok((_, existing)) => {
                return Err(Error::new(
                    ErrorCode::AlreadyExists,
                    format!(
                        "the service '{service}' already has a host named '{}'",
                        body.cn
                    ),
                )
                .with_detail("host", body.cn.as_str())
                .with_detail("dn", existing.dn.to_string()))
            }
            Err(e) if e.code() == ErrorCode::DhcpNotFound => {}
            Err(e) => return Err(e),
        }
        let (mac, fixed) = self
            .check_host_addresses(
                &svc.dn,
                None,
                body.mac_address.as_deref(),
                body.fixed_address.as_deref(),
            )
            .await?;
        let mut entry = Entry::new(dn.clone())
            .with("objectClass", ["top", HOST_CLASS])
            .with("cn", [body.cn.as_str()]);
        if let Some(mac) = &mac {
            entry.set(HWADDRESS, [format!("{ETHERNET} {mac}")]);
        }
        let statements: Vec<String> = fixed
            .map(|a| format!("{FIXED_ADDRESS} {a}"))
            .into_iter()
            .chain(body.statements.iter().cloned())
            .collect();
        set_config(
            &mut entry,
            body.description.as_deref(),
            &statements,
            &body.options,
            LineKind::Statement,
        )?;
        p.check_attributes(CREATE, &dn, written_attributes(&entry))?;
        op.begin().await?;
        self.add_new(&entry, "host", &body.cn).await?;
        let created = self
            .reread(&dn, HOST_CLASS, || host_not_found(service, &body.cn))
            .await?;
        op.changes(None, Some(&created));
        self.host_answer(p, &svc.dn, &created).await
    }

    /// Changes a host: MAC address, fixed address (`null` removes either), description,
    /// statements, options; the rules of creation apply.
    pub async fn update_host(
        &self,
        p: &Principal,
        service: &str,
        cn: &str,
        changes: &HostUpdate,
    ) -> Result<Host> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::DHCP, cn);
        let outcome = self.update_host_op(p, service, cn, changes, &mut op).await;
        op.done(outcome).await
    }

    async fn update_host_op(
        &self,
        p: &Principal,
        service: &str,
        cn: &str,
        changes: &HostUpdate,
        op: &mut Operation<'_>,
    ) -> Result<Host> {
        p.check_somewhere(WRITE, cn)?;
        let (svc, current) = self.find_host(service, cn).await?;
        op.target(&current.dn);
        p.check(WRITE, &current.dn)?;
        let mut mods = config_mods(
            changes.description.as_ref(),
            None,
            changes.options.as_ref(),
            LineKind::Statement,
        )?;
        let (mac, fixed) = self
            .check_host_addresses(
                &svc.dn,
                Some(&current.dn),
                changes.mac_address.as_ref().and_then(Option::as_deref),
                changes.fixed_address.as_ref().and_then(Option::as_deref),
            )
            .await?;
        match &changes.mac_address {
            None => {}
            Some(None) => mods.push(Modification::replace(HWADDRESS, Vec::<&str>::new())),
            Some(Some(_)) => {
                let mac = mac.unwrap_or_default();
                mods.push(Modification::replace(
                    HWADDRESS,
                    [format!("{ETHERNET} {mac}")],
                ));
            }
        }
        if changes.fixed_address.is_some() || changes.statements.is_some() {
            let old = to_host(&current, &[]);
            let statements = match &changes.statements {
                Some(list) => list.clone().unwrap_or_default(),
                None => old.statements,
            };
            check_lines("statements", LineKind::HostStatement, &statements)?;
            let fixed = match &changes.fixed_address {
                None => old.fixed_address,
                Some(None) => None,
                Some(Some(_)) => fixed.map(|a| a.to_string()),
            };
            let all: Vec<String> = fixed
                .map(|a| format!("{FIXED_ADDRESS} {a}"))
                .into_iter()
                .chain(statements)
                .collect();
            check_lines("statements", LineKind::Statement, &all)?;
            mods.push(Modification::replace(STATEMENTS, all));
        }
        let after = self
            .modify_guarded(p, &current, &mods, op, || host_not_found(service, cn))
            .await?;
        self.host_answer(p, &svc.dn, &after).await
    }

    /// Deletes a host.
    pub async fn delete_host(&self, p: &Principal, service: &str, cn: &str) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::DHCP, cn);
        let outcome = async {
            p.check_somewhere(DELETE, cn)?;
            let (_, current) = self.find_host(service, cn).await?;
            op.target(&current.dn);
            p.check(DELETE, &current.dn)?;
            let assertion = self.guard_of(p, &current).await?;
            op.changes(Some(&current), None);
            self.delete_tree(p, &current.dn, assertion.as_ref(), false, &mut op, || {
                host_not_found(service, cn)
            })
            .await
        }
        .await;
        op.done(outcome).await
    }
}
