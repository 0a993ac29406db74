//! The DHCP objects as answers show them, the write bodies, and the mapping between them
//! and directory entries.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::validate::{Network, Range};
use crate::directory::Entry;
use crate::dn::Dn;
use crate::service::departments::nullable;

pub(super) const SERVICE_CLASS: &str = "dhcpService";
pub(super) const SERVER_CLASS: &str = "dhcpServer";
pub(super) const SHARED_NETWORK_CLASS: &str = "dhcpSharedNetwork";
pub(super) const SUBNET_CLASS: &str = "dhcpSubnet";
pub(super) const POOL_CLASS: &str = "dhcpPool";
pub(super) const HOST_CLASS: &str = "dhcpHost";

pub(super) const COMMENTS: &str = "dhcpComments";
pub(super) const STATEMENTS: &str = "dhcpStatements";
pub(super) const OPTION: &str = "dhcpOption";
pub(super) const PRIMARY_DN: &str = "dhcpPrimaryDN";
pub(super) const SERVICE_DN: &str = "dhcpServiceDN";
pub(super) const NETMASK: &str = "dhcpNetMask";
pub(super) const RANGE: &str = "dhcpRange";
pub(super) const PERMIT: &str = "dhcpPermitList";
pub(super) const HWADDRESS: &str = "dhcpHWAddress";

/// The hardware type written before a MAC address in `dhcpHWAddress`.
pub(super) const ETHERNET: &str = "ethernet";
/// The statement keyword of a host's fixed address.
pub(super) const FIXED_ADDRESS: &str = "fixed-address";

/// A DHCP service (`dhcpService`), as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DhcpService {
    /// Its DN.
    pub dn: Dn,
    /// Its name.
    pub cn: String,
    /// Free text (`dhcpComments`); absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Global dhcpd statements (`dhcpStatements`), e.g. `default-lease-time 3600`.
    #[serde(default)]
    pub statements: Vec<String>,
    /// Global options (`dhcpOption`, without the word `option`).
    #[serde(default)]
    pub options: Vec<String>,
    /// The name (`cn`) of the DHCP server entry that serves it: the host name dhcpd looks
    /// itself up by (or its `ldap-dhcp-server-cn`).
    #[serde(default)]
    pub server: Option<String>,
    /// The DN of that `dhcpServer` entry (`dhcpPrimaryDN`).
    #[serde(default, rename = "primaryDN")]
    pub primary_dn: Option<Dn>,
}

/// A service with everything below it (`GET /dhcp/services/{name}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DhcpServiceDetails {
    /// The service itself.
    #[serde(flatten)]
    pub service: DhcpService,
    /// Its shared networks.
    pub shared_networks: Vec<SharedNetwork>,
    /// Its subnets (directly below it or in a shared network), each with its pools.
    pub subnets: Vec<Subnet>,
    /// Its hosts.
    pub hosts: Vec<Host>,
}

/// A shared network (`dhcpSharedNetwork`): subnets on one physical link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SharedNetwork {
    /// Its DN.
    pub dn: Dn,
    /// Its name.
    pub cn: String,
    /// Free text; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// dhcpd statements.
    #[serde(default)]
    pub statements: Vec<String>,
    /// Options.
    #[serde(default)]
    pub options: Vec<String>,
}

/// A subnet (`dhcpSubnet`: `cn` is the network address, `dhcpNetMask` the prefix length).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subnet {
    /// Its DN.
    pub dn: Dn,
    /// The network address.
    pub network: String,
    /// The prefix length.
    pub prefix: u8,
    /// The netmask in dotted-quad form.
    pub netmask: String,
    /// The shared network it is in, if any.
    pub shared_network: Option<String>,
    /// Free text; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// dhcpd statements.
    #[serde(default)]
    pub statements: Vec<String>,
    /// Options.
    #[serde(default)]
    pub options: Vec<String>,
    /// Its address pools.
    #[serde(default)]
    pub pools: Vec<Pool>,
}

/// An address pool (`dhcpPool`) of a subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pool {
    /// Its DN.
    pub dn: Dn,
    /// Its id (`cn`): `first-last`, the path segment that names it.
    pub id: String,
    /// The range (`dhcpRange`): `first last`.
    pub range: String,
    /// Number of addresses in the range.
    pub size: u64,
    /// Free text; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Permit lines (`dhcpPermitList`), e.g. `deny unknown-clients`.
    #[serde(default)]
    pub permit_list: Vec<String>,
    /// dhcpd statements.
    #[serde(default)]
    pub statements: Vec<String>,
    /// Options.
    #[serde(default)]
    pub options: Vec<String>,
}

/// A host (`dhcpHost`): a client known by its MAC address, usually with a fixed address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Host {
    /// Its DN.
    pub dn: Dn,
    /// Its name.
    pub cn: String,
    /// Its Ethernet address (`dhcpHWAddress: ethernet <mac>`), lower-case.
    pub mac_address: Option<String>,
    /// Its fixed address (the `fixed-address` statement).
    pub fixed_address: Option<String>,
    /// The network address of the subnet its fixed address lies in.
    pub subnet: Option<String>,
    /// Free text; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other dhcpd statements.
    #[serde(default)]
    pub statements: Vec<String>,
    /// Options.
    #[serde(default)]
    pub options: Vec<String>,
}

/// The body of `POST /dhcp/services`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    /// Its name (1 to 64 letters, digits, `.`, `_`, `-`).
    pub cn: String,
    /// Free text (stored as `dhcpComments`).
    #[serde(default)]
    pub description: Option<String>,
    /// dhcpd statements, one per line.
    #[serde(default)]
    pub statements: Vec<String>,
    /// Options, without the word `option`.
    #[serde(default)]
    pub options: Vec<String>,
    /// The name of the DHCP server serving it (a host name; default: the service's `cn`).
    #[serde(default)]
    pub server: Option<String>,
}

/// The body of `POST /dhcp/services/{name}/shared-networks`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSharedNetwork {
    /// Its name (as a service name).
    pub cn: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// dhcpd statements.
    #[serde(default)]
    pub statements: Vec<String>,
    /// Options.
    #[serde(default)]
    pub options: Vec<String>,
}

/// The body of `POST /dhcp/services/{name}/subnets`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSubnet {
    /// The network address (`192.168.1.0`, or `192.168.1.0/24` without `prefix`).
    pub network: String,
    /// The prefix length (0 to 32).
    #[serde(default)]
    pub prefix: Option<i64>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// dhcpd statements.
    #[serde(default)]
    pub statements: Vec<String>,
    /// Options.
    #[serde(default)]
    pub options: Vec<String>,
}

/// The body of `POST /dhcp/services/{name}/subnets/{network}/pools`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewPool {
    /// `first last`.
    pub range: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Permit lines (`allow ...` / `deny ...`).
    #[serde(default)]
    pub permit_list: Vec<String>,
    /// dhcpd statements.
    #[serde(default)]
    pub statements: Vec<String>,
    /// Options.
    #[serde(default)]
    pub options: Vec<String>,
}

/// The body of `POST /dhcp/services/{name}/hosts`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewHost {
    /// Its name (a host name: dhcpd writes it unquoted).
    pub cn: String,
    /// Its Ethernet address.
    #[serde(default)]
    pub mac_address: Option<String>,
    /// Its fixed address: inside a subnet of the service.
    #[serde(default)]
    pub fixed_address: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Other dhcpd statements (not `fixed-address` or `hardware`).
    #[serde(default)]
    pub statements: Vec<String>,
    /// Options.
    #[serde(default)]
    pub options: Vec<String>,
}

/// The changes of a `PUT` to a service or shared network: only the fields given change;
/// `null` removes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigUpdate {
    /// Absent: unchanged; `null`: removed; a string: replaced.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    /// Absent: unchanged; `null` or `[]`: none; a list: replaces all.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub statements: Option<Option<Vec<String>>>,
    /// As `statements`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub options: Option<Option<Vec<String>>>,
}

/// The body of `PUT /dhcp/services/{name}/subnets/{network}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetUpdate {
    /// A new prefix length (the network address stays; it must have no host bits under the
    /// new prefix, and the pools and fixed addresses inside must stay inside).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<i64>,
    /// As [`ConfigUpdate::description`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    /// As [`ConfigUpdate::statements`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub statements: Option<Option<Vec<String>>>,
    /// As [`ConfigUpdate::options`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub options: Option<Option<Vec<String>>>,
}

/// The body of `PUT .../pools/{id}`. The range names the pool and cannot change (give it
/// unchanged or not at all).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolUpdate {
    /// The pool's range, unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// As [`ConfigUpdate::description`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    /// As [`ConfigUpdate::statements`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub permit_list: Option<Option<Vec<String>>>,
    /// As [`ConfigUpdate::statements`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub statements: Option<Option<Vec<String>>>,
    /// As [`ConfigUpdate::options`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub options: Option<Option<Vec<String>>>,
}

/// The body of `PUT /dhcp/services/{name}/hosts/{cn}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostUpdate {
    /// Absent: unchanged; `null`: removed; a string: replaced.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub mac_address: Option<Option<String>>,
    /// Absent: unchanged; `null`: removed; a string: replaced.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub fixed_address: Option<Option<String>>,
    /// As [`ConfigUpdate::description`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    /// As [`ConfigUpdate::statements`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub statements: Option<Option<Vec<String>>>,
    /// As [`ConfigUpdate::options`].
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Option::is_none"
    )]
    pub options: Option<Option<Vec<String>>>,
}

// ---- entries to answers ---------------------------------------------------------------------

/// The value of the entry's RDN (its `cn`), else its first `cn`.
pub(super) fn name_of(e: &Entry) -> String {
    e.dn.rdn()
        .and_then(|r| r.value_of("cn"))
        .or_else(|| e.first_str("cn"))
        .unwrap_or_default()
        .to_owned()
}

fn strings(e: &Entry, attr: &str) -> Vec<String> {
    e.strs(attr).into_iter().map(str::to_owned).collect()
}

fn description(e: &Entry) -> Option<String> {
    e.first_str(COMMENTS).map(str::to_owned)
}

pub(super) fn is_a(e: &Entry, class: &str) -> bool {
    e.has_value("objectClass", class)
}

pub(super) fn to_service(e: &Entry) -> DhcpService {
    let primary_dn = e.first_str(PRIMARY_DN).and_then(|s| Dn::parse(s).ok());
    let server = primary_dn
        .as_ref()
        .and_then(|d| d.rdn())
        .and_then(|r| r.value_of("cn"))
        .map(str::to_owned);
    DhcpService {
        dn: e.dn.clone(),
        cn: name_of(e),
        description: description(e),
        statements: strings(e, STATEMENTS),
        options: strings(e, OPTION),
        server,
        primary_dn,
    }
}

pub(super) fn to_shared_network(e: &Entry) -> SharedNetwork {
    SharedNetwork {
        dn: e.dn.clone(),
        cn: name_of(e),
        description: description(e),
        statements: strings(e, STATEMENTS),
        options: strings(e, OPTION),
    }
}

/// The network of a subnet entry, when its `cn` and `dhcpNetMask` make one.
pub(super) fn network_of(e: &Entry) -> Option<Network> {
    let address = name_of(e).parse::<Ipv4Addr>().ok()?;
    let prefix = e.first_str(NETMASK)?.trim().parse::<u8>().ok()?;
    (prefix <= 32).then_some(Network { address, prefix })
}

/// The shared network a subnet entry is in: the `cn` of its parent when that is not the
/// service.
pub(super) fn shared_network_of(e: &Entry, service: &Dn) -> Option<String> {
    let parent = e.dn.parent()?;
    if parent == *service {
        return None;
    }
    parent
        .rdn()
        .and_then(|r| r.value_of("cn"))
        .map(str::to_owned)
}

pub(super) fn to_subnet(e: &Entry, service: &Dn, pools: Vec<Pool>) -> Subnet {
    let prefix = e
        .first_str(NETMASK)
        .and_then(|p| p.trim().parse::<u8>().ok())
        .unwrap_or_default()
        .min(32);
    let netmask = Network {
        address: Ipv4Addr::UNSPECIFIED,
        prefix,
    }
    .netmask();
    Subnet {
        dn: e.dn.clone(),
        network: name_of(e),
        prefix,
        netmask: netmask.to_string(),
        shared_network: shared_network_of(e, service),
        description: description(e),
        statements: strings(e, STATEMENTS),
        options: strings(e, OPTION),
        pools,
    }
}

/// The range of a pool entry, when its `dhcpRange` is one.
pub(super) fn range_of(e: &Entry) -> Option<Range> {
    e.first_str(RANGE).and_then(|r| Range::parse(r).ok())
}

pub(super) fn to_pool(e: &Entry) -> Pool {
    let range = e.first_str(RANGE).unwrap_or_default().to_owned();
    Pool {
        dn: e.dn.clone(),
        id: name_of(e),
        size: range_of(e).map_or(0, |r| r.size()),
        range,
        description: description(e),
        permit_list: strings(e, PERMIT),
        statements: strings(e, STATEMENTS),
        options: strings(e, OPTION),
    }
}

/// The MAC address of a host entry (`dhcpHWAddress` without its hardware type).
pub(super) fn mac_of(e: &Entry) -> Option<String> {
    e.first_str(HWADDRESS).map(|v| {
        let v = v.trim();
        match v.split_once(' ') {
            Some((kind, mac)) if kind.eq_ignore_ascii_case(ETHERNET) => mac.trim().to_owned(),
            _ => v.to_owned(),
        }
    })
}

/// Whether a statement is a `fixed-address` statement; its address text if so.
pub(super) fn fixed_address_in(statement: &str) -> Option<&str> {
    let s = statement.trim();
    let (keyword, rest) = s.split_once(|c: char| c.is_ascii_whitespace())?;
    keyword
        .eq_ignore_ascii_case(FIXED_ADDRESS)
        .then(|| rest.trim().trim_end_matches(';').trim())
}

/// The fixed address of a host entry (its first `fixed-address` statement).
pub(super) fn fixed_of(e: &Entry) -> Option<String> {
    e.strs(STATEMENTS)
        .into_iter()
        .find_map(fixed_address_in)
        .map(str::to_owned)
}

/// The fixed address of a host entry, parsed.
pub(super) fn fixed_addr_of(e: &Entry) -> Option<Ipv4Addr> {
    fixed_of(e).and_then(|a| a.parse().ok())
}

pub(super) fn to_host(e: &Entry, subnets: &[Network]) -> Host {
    let fixed = fixed_of(e);
    let subnet = fixed
        .as_deref()
        .and_then(|a| a.parse::<Ipv4Addr>().ok())
        .and_then(|a| {
            subnets
                .iter()
                .filter(|n| n.contains(a))
                .max_by_key(|n| n.prefix)
        })
        .map(|n| n.address.to_string());
    Host {
        dn: e.dn.clone(),
        cn: name_of(e),
        mac_address: mac_of(e),
        fixed_address: fixed,
        subnet,
        description: description(e),
        statements: e
            .strs(STATEMENTS)
            .into_iter()
            .filter(|s| fixed_address_in(s).is_none())
            .map(str::to_owned)
            .collect(),
        options: strings(e, OPTION),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn host_entries_map_to_fields() {
        let dn = Dn::parse("cn=printer1,cn=dhcp1,ou=dhcp,dc=example,dc=com").unwrap();
        let e = Entry::new(dn)
            .with("objectClass", ["top", HOST_CLASS])
            .with("cn", ["printer1"])
            .with(HWADDRESS, ["ethernet 00:11:22:33:44:66"])
            .with(STATEMENTS, ["filename \"x\"", "fixed-address 192.168.1.50"])
            .with(COMMENTS, ["the printer"]);
        let nets = [
            Network::parse("192.168.0.0/16", None).unwrap(),
            Network::parse("192.168.1.0/24", None).unwrap(),
        ];
        let h = to_host(&e, &nets);
        assert_eq!(h.cn, "printer1");
        assert_eq!(h.mac_address.as_deref(), Some("00:11:22:33:44:66"));
        assert_eq!(h.fixed_address.as_deref(), Some("192.168.1.50"));
        assert_eq!(h.subnet.as_deref(), Some("192.168.1.0"));
        assert_eq!(h.statements, ["filename \"x\""]);
        let v = serde_json::to_value(&h).unwrap();
        assert_eq!(v["macAddress"], "00:11:22:33:44:66");
        assert_eq!(v["fixedAddress"], "192.168.1.50");
        assert_eq!(v["description"], "the printer");
        assert_eq!(
            fixed_address_in("FIXED-ADDRESS  10.0.0.1;"),
            Some("10.0.0.1")
        );
        assert_eq!(fixed_address_in("fixed-address6 ::1"), None);
    }

    #[test]
    fn subnet_and_pool_entries_map_to_fields() {
        let service = Dn::parse("cn=dhcp1,ou=dhcp,dc=example,dc=com").unwrap();
        let dn = Dn::parse("cn=10.0.0.0,cn=lan,cn=dhcp1,ou=dhcp,dc=example,dc=com").unwrap();
        let e = Entry::new(dn.clone())
            .with("cn", ["10.0.0.0"])
            .with(NETMASK, ["8"]);
        let pool = Entry::new(dn.child(crate::dn::Rdn::new("cn", "10.0.0.10-10.0.0.19").unwrap()))
            .with(RANGE, ["10.0.0.10 10.0.0.19"])
            .with(PERMIT, ["deny unknown-clients"]);
        let s = to_subnet(&e, &service, vec![to_pool(&pool)]);
        assert_eq!(network_of(&e), Network::parse("10.0.0.0/8", None).ok());
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["network"], "10.0.0.0");
        assert_eq!(v["prefix"], 8);
        assert_eq!(v["netmask"], "255.0.0.0");
        assert_eq!(v["sharedNetwork"], "lan");
        assert_eq!(v["pools"][0]["id"], "10.0.0.10-10.0.0.19");
        assert_eq!(v["pools"][0]["size"], 10);
        assert_eq!(v["pools"][0]["permitList"], json!(["deny unknown-clients"]));
    }

    #[test]
    fn bodies_refuse_unknown_fields_and_tell_null_from_absent() {
        let e =
            serde_json::from_value::<NewService>(json!({"cn": "a", "server_dn": "x"})).unwrap_err();
        assert!(e.to_string().contains("server_dn"), "{e}");
        let e = serde_json::from_value::<NewHost>(json!({"cn": "a", "mac": "x"})).unwrap_err();
        assert!(e.to_string().contains("mac"), "{e}");
        let h: NewHost = serde_json::from_value(
            json!({"cn": "p", "macAddress": "00:11:22:33:44:66", "fixedAddress": "10.0.0.5"}),
        )
        .unwrap();
        assert_eq!(h.fixed_address.as_deref(), Some("10.0.0.5"));
        let u: HostUpdate =
            serde_json::from_value(json!({"fixedAddress": null, "statements": []})).unwrap();
        assert_eq!(u.fixed_address, Some(None));
        assert_eq!(u.mac_address, None);
        assert_eq!(u.statements, Some(Some(vec![])));
        let u: ConfigUpdate = serde_json::from_value(json!({"options": null})).unwrap();
        assert_eq!(u.options, Some(None));
        assert!(serde_json::from_value::<ConfigUpdate>(json!({"cn": "x"})).is_err());
        assert!(serde_json::from_value::<SubnetUpdate>(json!({"network": "x"})).is_err());
    }
}
