//! DNS zones and records in the directory, stored as bind reads them (the `dNSZone`
//! schema of `ldap/schema/dnszone.ldif`).
//!
//! # Layout
//!
//! ```text
//! ou=dns,<base>
//! └── zoneName=example.com                     dNSZone: zoneName, relativeDomainName=@ (no data)
//!     ├── relativeDomainName=@                 the apex: sOARecord, nSRecord, dNSTTL, dNSClass IN
//!     ├── relativeDomainName=www               aRecord, aAAARecord, ... (one entry per owner name)
//!     └── relativeDomainName=www+dNSTTL=300    records of the same name with another TTL
//! ```
//!
//! bind's LDAP readers (`ldap2zone`, the sdb/dlz `ldap` back-ends) do not look at the tree:
//! they search below a base for `(zoneName=<zone>)` — and `(&(zoneName=<zone>)
//! (relativeDomainName=<name>))` for one name — and turn every `<type>Record` value into a
//! record of that owner, with the entry's `dNSTTL`. So a zone is *every* `dNSZone` entry
//! below `ou=dns` with its `zoneName`, wherever it is; its SOA is on the entry whose
//! `relativeDomainName` is `@`. Heracles groups a zone below one entry `zoneName=<zone>`
//! (unique DNs across zones, the howto of the schema's authors; one subtree to delete, to
//! delegate with an ACL scope, or to point a reader at). That container entry must be a
//! `dNSZone` too (the only class allowing `zoneName`); it holds `relativeDomainName: @`
//! and no record, so readers see nothing from it. Entries written by other tools — the
//! apex as the container itself (GOsa), several names or zones in one entry — are read
//! the same way; Heracles does not change entries shared by several names or zones.
//!
//! Values are the presentation form of the RDATA, names absolute with the trailing dot
//! (`10 mail.example.com.`), so every reader gets the same data whatever origin it uses.
//! All records of one owner name and TTL share an entry (`dNSTTL` is per entry); an RRset
//! (name and type) has one TTL (RFC 2181 §5.2): a record without `ttl` joins its set's
//! TTL, or for a new set takes the zone's TTL (the apex's `dNSTTL`, 3600 by default).
//!
//! # Rules
//!
//! See [`validate`] for the syntax of names and values. On top of that: CNAME is exclusive
//! (no other data at its name, one CNAME per name, never at the apex); PTR only in reverse
//! zones, at complete addresses; SRV only at `_service._proto` names; an NS target inside
//! the zone needs an address record there (bind refuses the zone otherwise), so its last
//! address cannot be deleted; the apex keeps at least one NS. Every change increases the
//! zone's serial ([`serial`]).
//!
//! ```
//! use std::sync::Arc;
//! use heracles_core::directory::EmbeddedDirectory;
//! use heracles_core::dn::Dn;
//! use heracles_core::service::dns::{NewRecord, NewZone};
//! use heracles_core::service::{Heracles, ListQuery, Principal};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let folder = tempfile::tempdir().unwrap();
//! let base = Dn::parse("dc=example,dc=com")?;
//! let h = Heracles::new(Arc::new(EmbeddedDirectory::open(folder.path(), &base)?), base.clone());
//! h.bootstrap(Some("An-admin-passw0rd")).await?;
//! let admin = Principal::system(&base);
//! let zone = h.dns().create_zone(&admin, &NewZone::new("example.com", "ns1.example.com", "admin@example.com")
//!     .primary_ns_address("192.168.1.1")).await?;
//! let www = h.dns().create_record(&admin, "example.com", &NewRecord::new("www", "A", "192.168.1.10")).await?;
//! assert_eq!((www.name.as_str(), www.ttl), ("www", 3600));
//! let after = h.dns().get_zone(&admin, "example.com").await?;
//! assert!(after.serial > zone.serial);
//! assert_eq!(after.record_count, 3); // NS, ns1 A, www A
//! # Ok::<(), heracles_core::Error>(()) }).unwrap();
//! ```

pub mod serial;
pub mod validate;

use std::cmp::Ordering;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use self::serial::{Soa, SOA_ATTR};
use self::validate::{
    fqdn_host, invalid, is_full_address, is_service_name, mailbox, owner_name, record_value,
    seconds, type_of_attribute, zone_name, RecordType, ZoneName, ZoneType,
};
use super::version::{assertion, guard, IfMatch, CSN};
use super::{Container, Heracles, ListQuery, Principal};
use crate::acl::{Action, ObjectType, Permission};
use crate::audit::{action, object_type, Operation};
use crate::directory::{Entry, Modification, Scope, SearchRequest};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{Clause, Filter, Op, MAX_CLAUSES};
use crate::page::Page;

const READ: Permission = Permission::new(ObjectType::Dns, Action::Read);
const WRITE: Permission = Permission::new(ObjectType::Dns, Action::Write);
const CREATE: Permission = Permission::new(ObjectType::Dns, Action::Create);
const DELETE: Permission = Permission::new(ObjectType::Dns, Action::Delete);

/// TTL of records and zones when none is given.
pub const DEFAULT_TTL: u32 = 3600;
/// Default SOA refresh (1 hour).
pub const DEFAULT_REFRESH: u32 = 3600;
/// Default SOA retry (15 minutes).
pub const DEFAULT_RETRY: u32 = 900;
/// Default SOA expire (2 weeks).
pub const DEFAULT_EXPIRE: u32 = 1_209_600;
/// Default SOA minimum, the negative-caching TTL (1 hour, RFC 2308).
pub const DEFAULT_MINIMUM: u32 = 3600;

const CLASS: &str = "dNSZone";
const ZONE_ATTR: &str = "zoneName";
const NAME_ATTR: &str = "relativeDomainName";
const TTL_ATTR: &str = "dNSTTL";
const CLASS_ATTR: &str = "dNSClass";
/// Retries of a record write that lost a race (the entry changed between read and write).
const WRITE_ATTEMPTS: u32 = 16;

/// A zone as answered by every front.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Zone {
    /// The zone's entry (`zoneName=...,ou=dns,...`).
    pub dn: Dn,
    /// Its name, lower case, no trailing dot.
    pub zone_name: String,
    /// Forward or reverse.
    pub zone_type: ZoneType,
    /// SOA MNAME, with the trailing dot.
    pub primary_ns: String,
    /// SOA RNAME as an e-mail address.
    pub admin_email: String,
    /// SOA serial.
    pub serial: u32,
    /// SOA refresh (seconds).
    pub refresh: u32,
    /// SOA retry (seconds).
    pub retry: u32,
    /// SOA expire (seconds).
    pub expire: u32,
    /// SOA minimum: negative-caching TTL (seconds).
    pub minimum: u32,
    /// TTL of the apex records (and the zone's default).
    pub ttl: u32,
    /// Number of records (values) of the zone, the SOA not counted.
    pub record_count: u64,
}

/// The body of `POST /dns/zones`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewZone {
    /// `example.com`, `1.168.192.in-addr.arpa`, `8.b.d.0.1.0.0.2.ip6.arpa`.
    pub zone_name: String,
    /// `forward` or `reverse`; optional (follows from the name), checked when given.
    #[serde(default)]
    pub zone_type: Option<String>,
    /// Primary name server, a fully qualified host name (trailing dot optional); also the
    /// zone's first NS record.
    pub primary_ns: String,
    /// The zone's contact (`hostmaster@example.com`), stored as the SOA mailbox.
    pub admin_email: String,
    /// TTL of the apex (default 3600).
    #[serde(default)]
    pub ttl: Option<i64>,
    /// SOA refresh (default 3600).
    #[serde(default)]
    pub refresh: Option<i64>,
    /// SOA retry (default 900).
    #[serde(default)]
    pub retry: Option<i64>,
    /// SOA expire (default 1209600).
    #[serde(default)]
    pub expire: Option<i64>,
    /// SOA minimum (default 3600).
    #[serde(default)]
    pub minimum: Option<i64>,
    /// Address (IPv4 or IPv6) of the primary name server; required when it is inside the
    /// zone (`ns1.example.com` in `example.com`), where it becomes its A/AAAA record.
    #[serde(default)]
    pub primary_ns_address: Option<String>,
}

impl NewZone {
    /// A zone with the defaults.
    pub fn new(zone_name: &str, primary_ns: &str, admin_email: &str) -> NewZone {
        NewZone {
            zone_name: zone_name.into(),
            primary_ns: primary_ns.into(),
            admin_email: admin_email.into(),
            ..NewZone::default()
        }
    }

    /// Builder: the primary name server's address.
    #[must_use]
    pub fn primary_ns_address(mut self, address: &str) -> NewZone {
        self.primary_ns_address = Some(address.into());
        self
    }
}

/// The body of `PUT /dns/zones/{zoneName}`: only the fields given change (the serial
/// increases).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ZoneUpdate {
    /// SOA MNAME (the NS records are records: change them separately).
    #[serde(default)]
    pub primary_ns: Option<String>,
    /// SOA mailbox.
    #[serde(default)]
    pub admin_email: Option<String>,
    /// TTL of the apex entry.
    #[serde(default)]
    pub ttl: Option<i64>,
    /// SOA refresh.
    #[serde(default)]
    pub refresh: Option<i64>,
    /// SOA retry.
    #[serde(default)]
    pub retry: Option<i64>,
    /// SOA expire.
    #[serde(default)]
    pub expire: Option<i64>,
    /// SOA minimum.
    #[serde(default)]
    pub minimum: Option<i64>,
}

/// One record (one value of a record set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The entry holding it.
    pub dn: Dn,
    /// Owner name relative to the zone (`@` for the apex).
    pub name: String,
    /// Type mnemonic (`A`, `MX`, ...; other types stored by other tools show as theirs).
    #[serde(rename = "type")]
    pub record_type: String,
    /// Presentation form of the data.
    pub value: String,
    /// TTL (seconds).
    pub ttl: u32,
}

/// The body of `POST /dns/zones/{zoneName}/records`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRecord {
    /// Owner name: `@`, relative (`www`), absolute in the zone (`www.example.com.`), or an
    /// address in a reverse zone.
    pub name: String,
    /// A, AAAA, CNAME, MX, NS, PTR, TXT or SRV.
    #[serde(rename = "type")]
    pub record_type: String,
    /// The data (see [`validate::record_value`]).
    pub value: String,
    /// TTL; default: the TTL of the record set when it exists, else the zone's TTL (3600
    /// unless the zone was given another).
    #[serde(default)]
    pub ttl: Option<i64>,
}

impl NewRecord {
    /// A record with the default TTL.
    pub fn new(name: &str, record_type: &str, value: &str) -> NewRecord {
        NewRecord {
            name: name.into(),
            record_type: record_type.into(),
            value: value.into(),
            ttl: None,
        }
    }

    /// Builder: the TTL.
    #[must_use]
    pub fn ttl(mut self, ttl: i64) -> NewRecord {
        self.ttl = Some(ttl);
        self
    }
}

/// All records of one name and type (`GET /dns/zones/{zone}/records/{name}/{type}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordSet {
    /// The entry holding them.
    pub dn: Dn,
    /// The zone.
    pub zone_name: String,
    /// Owner name relative to the zone.
    pub name: String,
    /// Type mnemonic.
    #[serde(rename = "type")]
    pub record_type: String,
    /// TTL.
    pub ttl: u32,
    /// The values, sorted.
    pub values: Vec<String>,
}

// ---- reading the directory ----------------------------------------------------------------

/// One `dNSZone` entry of a zone.
#[derive(Debug, Clone)]
struct Node {
    entry: Entry,
    /// Its owner names relative to the zone.
    names: Vec<String>,
    /// How many zones it belongs to.
    zones: usize,
    /// Its `dNSTTL`.
    ttl: Option<u32>,
    /// (type, attribute as stored, value) of every record it holds.
    records: Vec<(String, String, String)>,
}

impl Node {
    fn new(entry: Entry, zone: &ZoneName) -> Node {
        let names = entry
            .strs(NAME_ATTR)
            .into_iter()
            .filter_map(|n| relative_of(zone, n))
            .collect();
        let zones = entry.get(ZONE_ATTR).len();
        let ttl = entry
            .first_str(TTL_ATTR)
            .and_then(|t| t.trim().parse().ok());
        let mut records = Vec::new();
        for a in entry.attrs.iter() {
            if let Some(t) = type_of_attribute(a.name()) {
                for v in a.values() {
                    if let Ok(s) = std::str::from_utf8(v) {
                        records.push((t.clone(), a.name().to_owned(), s.to_owned()));
                    }
                }
            }
        }
        Node {
            entry,
            names,
            zones,
            ttl,
            records,
        }
    }

    fn has_name(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    fn is_soa(&self) -> bool {
        !self.entry.get(SOA_ATTR).is_empty()
    }

    /// Whether Heracles may change it: one name of one zone.
    fn writable(&self) -> bool {
        self.names.len() == 1 && self.zones == 1
    }

    fn of_type(&self, t: &str) -> impl Iterator<Item = &(String, String, String)> + '_ {
        let t = t.to_owned();
        self.records.iter().filter(move |(ty, _, _)| *ty == t)
    }
}

/// The relative form of a stored `relativeDomainName` value (`None`: outside the zone).
fn relative_of(zone: &ZoneName, stored: &str) -> Option<String> {
    let s = stored.trim().to_ascii_lowercase();
    if s == "@" {
        return Some(s);
    }
    match s.strip_suffix('.') {
        Some(abs) if abs == zone.name() => Some("@".into()),
        Some(abs) => abs
            .strip_suffix(zone.name())
            .and_then(|p| p.strip_suffix('.'))
            .map(str::to_owned),
        None => Some(s),
    }
}

/// A zone as read: its SOA entry and every entry of it.
#[derive(Debug, Clone)]
struct Loaded {
    zone: ZoneName,
    /// `zoneName=<zone>,ou=dns,<base>`.
    container: Dn,
    /// The zone's DN in answers and ACL checks.
    dn: Dn,
    soa_index: usize,
    soa: Soa,
    default_ttl: u32,
    nodes: Vec<Node>,
}

impl Loaded {
    fn soa_node(&self) -> &Node {
        &self.nodes[self.soa_index]
    }

    fn ttl_of(&self, n: &Node) -> u32 {
        n.ttl.unwrap_or(self.default_ttl)
    }

    /// The entries holding data of `name` (the bare container is not one).
    fn at<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Node> + 's {
        self.nodes
            .iter()
            .filter(move |n| n.has_name(name) && (n.entry.dn != self.container || n.is_soa()))
    }

    fn records(&self) -> Vec<Record> {
        let mut out = Vec::new();
        for n in &self.nodes {
            for name in &n.names {
                for (t, _, v) in &n.records {
                    out.push(Record {
                        dn: n.entry.dn.clone(),
                        name: name.clone(),
                        record_type: t.clone(),
                        value: v.clone(),
                        ttl: self.ttl_of(n),
                    });
                }
            }
        }
        out
    }

    fn answer(&self) -> Zone {
        Zone {
            dn: self.dn.clone(),
            zone_name: self.zone.name().to_owned(),
            zone_type: self.zone.zone_type(),
            primary_ns: self.soa.mname.clone(),
            admin_email: validate::email_of_mailbox(&self.soa.rname),
            serial: self.soa.serial,
            refresh: self.soa.refresh,
            retry: self.soa.retry,
            expire: self.soa.expire,
            minimum: self.soa.minimum,
            ttl: self.soa_node().ttl.unwrap_or(self.soa.minimum),
            record_count: self.records().len() as u64,
        }
    }

    /// Whether `name` has an A or AAAA record.
    fn has_address(&self, name: &str) -> bool {
        self.at(name)
            .any(|n| n.of_type("A").next().is_some() || n.of_type("AAAA").next().is_some())
    }

    /// The relative names inside the zone that NS records of the zone point to.
    fn ns_targets(&self) -> Vec<String> {
        let mut out = Vec::new();
        for n in &self.nodes {
            for (_, _, v) in n.of_type("NS") {
                if let Some(rel) = self.inside(v) {
                    out.push(rel);
                }
            }
        }
        out
    }

    /// The relative name of an absolute target (`ns1.example.com.`) inside the zone.
    fn inside(&self, target: &str) -> Option<String> {
        let abs = target.trim().to_ascii_lowercase();
        let abs = abs.strip_suffix('.')?;
        if self.zone.contains(abs) {
            relative_of(&self.zone, &format!("{abs}."))
        } else {
            None
        }
    }
}

fn zone_not_found(name: &str, base: &Dn) -> Error {
    Error::new(
        ErrorCode::ZoneNotFound,
        format!("DNS zone '{name}' not found"),
    )
    .with_detail("zoneName", name)
    .with_detail("search_base", base.to_string())
}

fn record_not_found(zone: &str, name: &str, t: &str, value: Option<&str>) -> Error {
    let mut e = Error::new(
        ErrorCode::RecordNotFound,
        match value {
            Some(v) => format!("no {t} record '{v}' at '{name}' in zone '{zone}'"),
            None => format!("no {t} records at '{name}' in zone '{zone}'"),
        },
    )
    .with_detail("zoneName", zone)
    .with_detail("name", name)
    .with_detail("type", t);
    if let Some(v) = value {
        e = e.with_detail("value", v);
    }
    e
}

fn shared(node: &Node) -> Error {
    Error::new(
        ErrorCode::BusinessRuleViolation,
        format!(
            "'{}' holds records of several names or zones; Heracles does not change shared \
             entries (edit it with LDAP tools)",
            node.entry.dn
        ),
    )
    .with_detail("dn", node.entry.dn.to_string())
}

/// DNS operations; get them with [`Heracles::dns`].
#[derive(Debug, Clone, Copy)]
pub struct Dns<'a> {
    h: &'a Heracles,
    if_match: Option<&'a IfMatch>,
}

// p (principal), q (query), z (zone name), l (the zone as read), t (type): the same names in
// every method.
#[allow(clippy::many_single_char_names)]
impl<'a> Dns<'a> {
    pub(in crate::service) fn new(h: &'a Heracles) -> Self {
        Dns { h, if_match: None }
    }

    /// The same operations, with `Some`: writing only while the zone (zone writes) or the
    /// record set (record deletes) still has one of the expected versions; otherwise
    /// `PRECONDITION_FAILED`.
    #[must_use]
    pub fn if_match(self, expected: Option<&'a IfMatch>) -> Self {
        Dns {
            if_match: expected,
            ..self
        }
    }

    fn base(self) -> Result<Dn> {
        self.h.container(Container::Dns)
    }

    fn container_of(self, zone: &ZoneName) -> Result<Dn> {
        Ok(self.base()?.child(Rdn::new(ZONE_ATTR, zone.name())?))
    }

    /// A zone name from a path: invalid names are simply not found.
    fn zone_from_path(self, name: &str) -> Result<ZoneName> {
        let base = self.base()?;
        zone_name(name).map_err(|_| zone_not_found(name, &base))
    }

    async fn search(self, filter: Filter) -> Result<Vec<Entry>> {
        let req = SearchRequest::new(self.base()?, Scope::Subtree, filter)
            .attributes(["*", CSN])
            .sort([crate::directory::SortKey::asc(NAME_ATTR)]);
        match self.h.directory().search(&req).await {
            Ok(found) => Ok(found),
            Err(e) if e.code() == ErrorCode::EntryNotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Reads a zone: every `dNSZone` entry of it below `ou=dns`.
    async fn load(self, zone: &ZoneName) -> Result<Loaded> {
        let entries = self
            .search(Filter::and([
                Filter::eq("objectClass", CLASS),
                Filter::eq(ZONE_ATTR, zone.name()),
            ]))
            .await?;
        let mut nodes: Vec<Node> = entries.into_iter().map(|e| Node::new(e, zone)).collect();
        // A stable order: by DN depth, then DN text.
        nodes.sort_by(|a, b| {
            a.entry
                .dn
                .len()
                .cmp(&b.entry.dn.len())
                .then_with(|| a.entry.dn.to_string().cmp(&b.entry.dn.to_string()))
        });
        let base = self.base()?;
        let soa_index = nodes
            .iter()
            .position(|n| n.is_soa() && n.has_name("@"))
            .ok_or_else(|| zone_not_found(zone.name(), &base))?;
        let raw = nodes[soa_index]
            .entry
            .first_str(SOA_ATTR)
            .unwrap_or_default();
        let soa: Soa = raw.parse()?;
        let container = self.container_of(zone)?;
        let soa_dn = &nodes[soa_index].entry.dn;
        let dn = if *soa_dn == container || soa_dn.parent().as_ref() == Some(&container) {
            container.clone()
        } else {
            soa_dn.clone()
        };
        let default_ttl = nodes[soa_index].ttl.unwrap_or(soa.minimum);
        Ok(Loaded {
            zone: zone.clone(),
            container,
            dn,
            soa_index,
            soa,
            default_ttl,
            nodes,
        })
    }

    // ---- zones ------------------------------------------------------------------------------

    /// Zones, narrowed by `filter=` clauses on the zone fields ([`ZONE_FIELDS`]), sorted
    /// (default: by name), one page of them.
    pub async fn list_zones(&self, p: &Principal, q: &ListQuery) -> Result<Page<Zone>> {
        let base = self.base()?;
        p.check_somewhere(READ, &base.to_string())?;
        let matchers = matchers(&q.filters, ZONE_FIELDS)?;
        let sort = sort_of(q, ZONE_FIELDS)?;
        check_attributes(q, ZONE_FIELDS)?;
        let holders = self
            .search(Filter::and([
                Filter::eq("objectClass", CLASS),
                Filter::eq(NAME_ATTR, "@"),
                Filter::present(SOA_ATTR),
            ]))
            .await?;
        let mut names: Vec<ZoneName> = Vec::new();
        for e in &holders {
            for z in e.strs(ZONE_ATTR) {
                if let Ok(z) = zone_name(z) {
                    if !names.contains(&z) {
                        names.push(z);
                    }
                }
            }
        }
        let mut zones = Vec::with_capacity(names.len());
        for z in &names {
            match self.load(z).await {
                Ok(l) if p.allows(READ, &l.dn) => zones.push(l.answer()),
                Ok(_) => {}
                Err(e) if e.code() == ErrorCode::ZoneNotFound => {}
                Err(e) => return Err(e),
            }
        }
        zones.retain(|z| matchers.iter().all(|m| m.matches(z)));
        sort_items(&mut zones, sort.unwrap_or(("zoneName", false)), |z| {
            z.zone_name.clone()
        });
        Ok(q.page.slice(zones))
    }

    /// One zone (name case-insensitive, trailing dot optional); `ZONE_NOT_FOUND`.
    pub async fn get_zone(&self, p: &Principal, name: &str) -> Result<Zone> {
        p.check_somewhere(READ, name)?;
        let zone = self.zone_from_path(name)?;
        let l = self.load(&zone).await?;
        p.check(READ, &l.dn)?;
        Ok(l.answer())
    }

    /// Creates a zone: the container entry, the apex with the SOA (serial `YYYYMMDD00`) and
    /// the primary NS record, and the name server's address record when it is inside the
    /// zone. `ALREADY_EXISTS` if the zone exists.
    pub async fn create_zone(&self, p: &Principal, body: &NewZone) -> Result<Zone> {
        let mut op = Operation::new(self.h, p, action::CREATE, object_type::DNS, &body.zone_name);
        let outcome = self.create_zone_op(p, body, &mut op).await;
        op.done(outcome).await
    }

    #[allow(clippy::too_many_lines)] // the checks, in order
    async fn create_zone_op(
        &self,
        p: &Principal,
        body: &NewZone,
        op: &mut Operation<'_>,
    ) -> Result<Zone> {
        let zone = zone_name(&body.zone_name)?;
        let container = self.container_of(&zone)?;
        op.target(&container);
        p.check(CREATE, &container)?;
        if let Some(t) = &body.zone_type {
            let want = zone.zone_type().as_str();
            if !t.eq_ignore_ascii_case(want) {
                let reason =
                    if t.eq_ignore_ascii_case("forward") || t.eq_ignore_ascii_case("reverse") {
                        "zone_type_mismatch"
                    } else {
                        "invalid_zone_type"
                    };
                return Err(invalid(
                    "zoneType",
                    t,
                    reason,
                    format!(
                        "zoneType '{t}' does not fit '{zone}': it is a {want} zone (reverse zones \
                         end in in-addr.arpa or ip6.arpa)"
                    ),
                ));
            }
        }
        let mname = fqdn_host("primaryNs", &body.primary_ns)?;
        let rname = mailbox(&body.admin_email)?;
        let ttl = seconds("ttl", body.ttl.unwrap_or(i64::from(DEFAULT_TTL)), 0)?;
        let refresh = seconds(
            "refresh",
            body.refresh.unwrap_or(i64::from(DEFAULT_REFRESH)),
            1,
        )?;
        let retry = seconds("retry", body.retry.unwrap_or(i64::from(DEFAULT_RETRY)), 1)?;
        let expire = seconds(
            "expire",
            body.expire.unwrap_or(i64::from(DEFAULT_EXPIRE)),
            1,
        )?;
        let minimum = seconds(
            "minimum",
            body.minimum.unwrap_or(i64::from(DEFAULT_MINIMUM)),
            0,
        )?;
        if expire < refresh || expire < retry {
            return Err(invalid(
                "expire",
                &expire.to_string(),
                "expire_too_short",
                format!("expire ({expire}) must not be shorter than refresh ({refresh}) and retry ({retry})"),
            ));
        }
        let ns_abs = mname.trim_end_matches('.');
        let glue = if zone.contains(ns_abs) {
            let rel = relative_of(&zone, &mname).unwrap_or_else(|| "@".into());
            let Some(addr) = &body.primary_ns_address else {
                return Err(invalid(
                    "primaryNsAddress",
                    "",
                    "ns_target_without_address",
                    format!(
                        "the primary name server '{mname}' is inside the zone: give its address \
                         in primaryNsAddress (bind refuses a zone whose in-zone name server has \
                         no A/AAAA record)"
                    ),
                ));
            };
            let (kind, value) = address_record(&zone, addr, "primaryNsAddress")?;
            Some((rel, kind, value))
        } else {
            if let Some(addr) = &body.primary_ns_address {
                address_record(&zone, addr, "primaryNsAddress")?;
                return Err(invalid(
                    "primaryNsAddress",
                    addr,
                    "ns_outside_zone",
                    format!(
                        "'{mname}' is outside the zone {zone}: its address belongs in its own zone"
                    ),
                ));
            }
            None
        };
        // One zone per name: also one written by another tool elsewhere below ou=dns.
        if self.load(&zone).await.is_ok() {
            return Err(exists(&zone));
        }
        let soa = Soa {
            mname: mname.clone(),
            rname,
            serial: serial::next_serial(0, serial::today()),
            refresh,
            retry,
            expire,
            minimum,
        };
        let top = Entry::new(container.clone())
            .with("objectClass", ["top", CLASS])
            .with(ZONE_ATTR, [zone.name()])
            .with(NAME_ATTR, ["@"]);
        let apex_dn = container.child(Rdn::new(NAME_ATTR, "@")?);
        let apex = Entry::new(apex_dn.clone())
            .with("objectClass", ["top", CLASS])
            .with(ZONE_ATTR, [zone.name()])
            .with(NAME_ATTR, ["@"])
            .with(CLASS_ATTR, ["IN"])
            .with(TTL_ATTR, [ttl.to_string()])
            .with(SOA_ATTR, [soa.to_string()])
            .with(RecordType::Ns.attribute(), [mname.as_str()]);
        op.begin().await?;
        let dir = self.h.directory();
        let mut added = dir.add(&top).await;
        if matches!(&added, Err(e) if e.code() == ErrorCode::ParentNotFound) {
            super::settings::ensure_container(self.h, Container::Dns).await?;
            added = dir.add(&top).await;
        }
        added.map_err(|e| {
            if e.code() == ErrorCode::AlreadyExists {
                exists(&zone)
            } else {
                e
            }
        })?;
        let rest = async {
            dir.add(&apex).await?;
            if let Some((rel, kind, value)) = &glue {
                let e = Entry::new(container.child(Rdn::new(NAME_ATTR, rel)?))
                    .with("objectClass", ["top", CLASS])
                    .with(ZONE_ATTR, [zone.name()])
                    .with(NAME_ATTR, [rel.as_str()])
                    .with(CLASS_ATTR, ["IN"])
                    .with(TTL_ATTR, [ttl.to_string()])
                    .with(kind.attribute(), [value.as_str()]);
                if rel == "@" {
                    dir.modify(&apex_dn, &[Modification::add(kind.attribute(), [value])])
                        .await?;
                } else {
                    dir.add(&e).await?;
                }
            }
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = rest {
            // Leave nothing half made.
            let _ = self.remove_subtree(&container).await;
            return Err(e);
        }
        let l = self.load(&zone).await?;
        op.changes(None, Some(&l.soa_node().entry));
        Ok(l.answer())
    }

    /// Changes the SOA fields and/or the apex TTL; the serial increases.
    pub async fn update_zone(&self, p: &Principal, name: &str, body: &ZoneUpdate) -> Result<Zone> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::DNS, name);
        let outcome = self.update_zone_op(p, name, body, &mut op).await;
        op.done(outcome).await
    }

    async fn update_zone_op(
        &self,
        p: &Principal,
        name: &str,
        body: &ZoneUpdate,
        op: &mut Operation<'_>,
    ) -> Result<Zone> {
        p.check_somewhere(WRITE, name)?;
        let zone = self.zone_from_path(name)?;
        let l = self.load(&zone).await?;
        op.target(&l.dn);
        p.check(WRITE, &l.dn)?;
        let mname = body
            .primary_ns
            .as_deref()
            .map(|v| fqdn_host("primaryNs", v))
            .transpose()?;
        let rname = body.admin_email.as_deref().map(mailbox).transpose()?;
        let num =
            |field: &str, v: Option<i64>, min: i64| v.map(|v| seconds(field, v, min)).transpose();
        let ttl = num("ttl", body.ttl, 0)?;
        let refresh = num("refresh", body.refresh, 1)?;
        let retry = num("retry", body.retry, 1)?;
        let expire = num("expire", body.expire, 1)?;
        let minimum = num("minimum", body.minimum, 0)?;
        let (r, t, x) = (
            refresh.unwrap_or(l.soa.refresh),
            retry.unwrap_or(l.soa.retry),
            expire.unwrap_or(l.soa.expire),
        );
        if x < r || x < t {
            return Err(invalid(
                "expire",
                &x.to_string(),
                "expire_too_short",
                format!("expire ({x}) must not be shorter than refresh ({r}) and retry ({t})"),
            ));
        }
        let soa_node = l.soa_node();
        let assertion = guard(self.if_match, &l.answer(), &soa_node.entry)?;
        let extra: Vec<Modification> = ttl
            .map(|t| vec![Modification::replace(TTL_ATTR, [t.to_string()])])
            .unwrap_or_default();
        let change = move |s: &Soa| Soa {
            mname: mname.clone().unwrap_or_else(|| s.mname.clone()),
            rname: rname.clone().unwrap_or_else(|| s.rname.clone()),
            serial: s.serial,
            refresh: refresh.unwrap_or(s.refresh),
            retry: retry.unwrap_or(s.retry),
            expire: expire.unwrap_or(s.expire),
            minimum: minimum.unwrap_or(s.minimum),
        };
        op.begin().await?;
        let written = serial::bump(
            self.h.directory(),
            &soa_node.entry.dn,
            &extra,
            &change,
            assertion.as_ref(),
        )
        .await?;
        let after = self.load(&zone).await?;
        op.changes(Some(&soa_node.entry), Some(&after.soa_node().entry));
        // The SOA as this change wrote it (a concurrent change may already have moved the
        // serial on; the answer is this change's result, not the next one's).
        let mut answer = after.answer();
        answer.primary_ns.clone_from(&written.mname);
        answer.admin_email = validate::email_of_mailbox(&written.rname);
        answer.serial = written.serial;
        answer.refresh = written.refresh;
        answer.retry = written.retry;
        answer.expire = written.expire;
        answer.minimum = written.minimum;
        Ok(answer)
    }

    /// Deletes a zone with all its records (every entry of it below `ou=dns`).
    pub async fn delete_zone(&self, p: &Principal, name: &str) -> Result<()> {
        let mut op = Operation::new(self.h, p, action::DELETE, object_type::DNS, name);
        let outcome = self.delete_zone_op(p, name, &mut op).await;
        op.done(outcome).await
    }

    async fn delete_zone_op(
        &self,
        p: &Principal,
        name: &str,
        op: &mut Operation<'_>,
    ) -> Result<()> {
        p.check_somewhere(DELETE, name)?;
        let zone = self.zone_from_path(name)?;
        let l = self.load(&zone).await?;
        op.target(&l.dn);
        p.check(DELETE, &l.dn)?;
        let soa_node = l.soa_node();
        let assertion = guard(self.if_match, &l.answer(), &soa_node.entry)?;
        op.begin().await?;
        let dir = self.h.directory();
        if let Some(a) = &assertion {
            // The version check, atomic with a write: nothing changed since the zone was
            // read (every change of a zone changes its SOA entry).
            dir.modify_if(&soa_node.entry.dn, &[], Some(a)).await?;
        }
        for n in l.nodes.iter().rev() {
            if n.zones > 1 {
                // Shared with other zones: only this zone's name goes.
                dir.modify(
                    &n.entry.dn,
                    &[Modification::delete(ZONE_ATTR, [zone.name()])],
                )
                .await
                .or_else(ignore_gone)?;
            }
        }
        let mut dns: Vec<Dn> = l
            .nodes
            .iter()
            .filter(|n| n.zones <= 1)
            .map(|n| n.entry.dn.clone())
            .collect();
        dns.sort_by_key(|d| std::cmp::Reverse(d.len()));
        for d in &dns {
            if d == &l.container || d.is_descendant_of(&l.container) {
                continue; // below: the container's subtree goes as a whole
            }
            match dir.delete(d).await {
                Ok(()) => {}
                Err(e) if e.code() == ErrorCode::EntryNotFound => {}
                Err(e) if e.code() == ErrorCode::NotAllowedOnNonLeaf => {
                    self.remove_subtree(d).await?;
                }
                Err(e) => return Err(e),
            }
        }
        self.remove_subtree(&l.container).await?;
        op.changes(Some(&soa_node.entry), None);
        Ok(())
    }

    /// Deletes `top` and everything below it (children first; retried when entries
    /// appear meanwhile). A missing `top` is fine.
    async fn remove_subtree(self, top: &Dn) -> Result<()> {
        let dir = self.h.directory();
        for _ in 0..8 {
            let req =
                SearchRequest::new(top.clone(), Scope::Subtree, Filter::present("objectClass"))
                    .attributes(["1.1"]);
            let mut found = match dir.search(&req).await {
                Ok(f) => f,
                Err(e) if e.code() == ErrorCode::EntryNotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            found.sort_by_key(|e| std::cmp::Reverse(e.dn.len()));
            let mut again = false;
            for e in &found {
                match dir.delete(&e.dn).await {
                    Ok(()) => {}
                    Err(err) if err.code() == ErrorCode::EntryNotFound => {}
                    Err(err) if err.code() == ErrorCode::NotAllowedOnNonLeaf => again = true,
                    Err(err) => return Err(err),
                }
            }
            if !again {
                return Ok(());
            }
        }
        Err(Error::new(
            ErrorCode::Timeout,
            format!("'{top}' kept getting new entries while it was deleted"),
        ))
    }

    // ---- records ----------------------------------------------------------------------------

    /// The records of a zone (the SOA is part of the zone), narrowed by `filter=` clauses
    /// on `name`, `type`, `value`, `ttl`, sorted (default: by name — the apex first — then
    /// type and value), one page of them.
    pub async fn list_records(
        &self,
        p: &Principal,
        zone: &str,
        q: &ListQuery,
    ) -> Result<Page<Record>> {
        p.check_somewhere(READ, zone)?;
        let z = self.zone_from_path(zone)?;
        let matchers = matchers(&q.filters, RECORD_FIELDS)?;
        let sort = sort_of(q, RECORD_FIELDS)?;
        check_attributes(q, RECORD_FIELDS)?;
        let l = self.load(&z).await?;
        p.check(READ, &l.dn)?;
        let mut records: Vec<Record> = l
            .records()
            .into_iter()
            .filter(|r| p.allows(READ, &r.dn))
            .filter(|r| matchers.iter().all(|m| m.matches(r)))
            .collect();
        match sort {
            Some(s) => sort_items(&mut records, s, default_record_key),
            None => records.sort_by(record_order),
        }
        Ok(q.page.slice(records))
    }

    /// The records of one name and type; `RECORD_NOT_FOUND` when there are none.
    pub async fn get_record_set(
        &self,
        p: &Principal,
        zone: &str,
        name: &str,
        record_type: &str,
    ) -> Result<RecordSet> {
        p.check_somewhere(READ, zone)?;
        let z = self.zone_from_path(zone)?;
        let owner = owner_name(&z, name)?;
        let kind = RecordType::parse(record_type, "type")?;
        let l = self.load(&z).await?;
        p.check(READ, &l.dn)?;
        let set = record_set(&l, &owner, kind)
            .ok_or_else(|| record_not_found(z.name(), &owner, kind.as_str(), None))?;
        p.check(READ, &set.dn)?;
        Ok(set)
    }

    /// Adds one record (see the [module docs](self) for the rules); the serial increases.
    pub async fn create_record(
        &self,
        p: &Principal,
        zone: &str,
        body: &NewRecord,
    ) -> Result<Record> {
        let mut op = Operation::new(
            self.h,
            p,
            action::CREATE,
            object_type::DNS,
            format!("{} {} in {zone}", body.name, body.record_type),
        );
        let outcome = self.create_record_op(p, zone, body, &mut op).await;
        op.done(outcome).await
    }

    #[allow(clippy::too_many_lines)] // the rules, in order
    async fn create_record_op(
        &self,
        p: &Principal,
        zone: &str,
        body: &NewRecord,
        op: &mut Operation<'_>,
    ) -> Result<Record> {
        p.check_somewhere(CREATE, zone)?;
        let z = self.zone_from_path(zone)?;
        let kind = RecordType::parse(&body.record_type, "type")?;
        let name = owner_name(&z, &body.name)?;
        let value = record_value(&z, kind, &body.value)?;
        let ttl = body.ttl.map(|t| seconds("ttl", t, 0)).transpose()?;
        match kind {
            RecordType::Ptr if z.zone_type() == ZoneType::Forward => {
                return Err(invalid(
                    "type",
                    &body.record_type,
                    "ptr_in_forward_zone",
                    format!("PTR records belong in reverse zones; '{z}' is a forward zone"),
                ));
            }
            RecordType::Ptr if !is_full_address(&z, &name) => {
                return Err(invalid(
                    "name",
                    &body.name,
                    "ptr_not_an_address",
                    format!(
                        "a PTR record's name must be a complete address in '{z}', not '{name}'"
                    ),
                ));
            }
            RecordType::Cname if name == "@" => {
                return Err(invalid(
                    "name",
                    &body.name,
                    "cname_at_apex",
                    "the zone apex cannot be an alias (it holds the SOA and NS records)",
                ));
            }
            RecordType::Srv if !is_service_name(&name) => {
                return Err(invalid(
                    "name",
                    &body.name,
                    "srv_name",
                    format!("an SRV record's name starts with _service._proto (like _sip._tcp), not '{name}'"),
                ));
            }
            _ => {}
        }
        let t = kind.as_str();
        let dir = self.h.directory();
        for attempt in 0..WRITE_ATTEMPTS {
            let l = self.load(&z).await?;
            p.check(CREATE, &l.dn)?;
            let existing: Vec<&(String, String, String)> =
                l.at(&name).flat_map(|n| n.records.iter()).collect();
            if existing
                .iter()
                .any(|(ty, _, v)| ty == t && v.eq_ignore_ascii_case(&value))
            {
                return Err(Error::new(
                    ErrorCode::AlreadyExists,
                    format!("the {t} record '{value}' at '{name}' already exists in '{z}'"),
                )
                .with_detail("zoneName", z.name())
                .with_detail("name", name.as_str())
                .with_detail("type", t)
                .with_detail("value", value.as_str()));
            }
            if kind == RecordType::Cname {
                if existing.iter().any(|(ty, _, _)| ty == "CNAME") {
                    return Err(invalid(
                        "value",
                        &body.value,
                        "single_cname",
                        format!("'{name}' already is an alias (CNAME); a name has one CNAME"),
                    ));
                }
                if let Some((other, _, _)) = existing.first() {
                    return Err(invalid(
                        "type",
                        &body.record_type,
                        "cname_not_exclusive",
                        format!("'{name}' already has {other} records; a CNAME cannot share its name with other data"),
                    ));
                }
                if l.ns_targets().contains(&name) {
                    return Err(invalid(
                        "name",
                        &body.name,
                        "cname_not_exclusive",
                        format!("'{name}' is a name server of the zone; it cannot be an alias"),
                    ));
                }
            } else if existing.iter().any(|(ty, _, _)| ty == "CNAME") {
                return Err(invalid(
                    "type",
                    &body.record_type,
                    "cname_not_exclusive",
                    format!("'{name}' is an alias (CNAME); it cannot have {t} records as well"),
                ));
            }
            if kind == RecordType::Ns {
                if let Some(rel) = l.inside(&value) {
                    if !l.has_address(&rel) {
                        return Err(invalid(
                            "value",
                            &body.value,
                            "ns_target_without_address",
                            format!(
                                "the name server '{value}' is inside the zone but '{rel}' has no \
                                 A/AAAA record (bind refuses such a zone): add its address first"
                            ),
                        ));
                    }
                }
            }
            // The record set's entry and TTL, if the set exists.
            let holder = l.at(&name).find(|n| n.of_type(t).next().is_some());
            let rr_ttl = holder.map(|n| l.ttl_of(n));
            if let (Some(have), Some(want)) = (rr_ttl, ttl) {
                if have != want {
                    return Err(invalid(
                        "ttl",
                        &want.to_string(),
                        "rrset_ttl_mismatch",
                        format!(
                            "the {t} records of '{name}' have TTL {have}; all records of one \
                             name and type share one TTL (RFC 2181): give {have} or none"
                        ),
                    ));
                }
            }
            let ttl = rr_ttl.or(ttl).unwrap_or(l.default_ttl);
            let target = match holder {
                Some(n) if !n.writable() => return Err(shared(n)),
                Some(n) => Some(n),
                None => l.at(&name).find(|n| n.writable() && l.ttl_of(n) == ttl),
            };
            let attr = kind.attribute();
            let written = if let Some(n) = target {
                op.target(&n.entry.dn);
                op.begin().await?;
                let r = dir
                    .modify_if(
                        &n.entry.dn,
                        &[Modification::add(attr, [value.as_str()])],
                        Some(&assertion(&n.entry)),
                    )
                    .await;
                match r {
                    Ok(()) => Some((n.entry.dn.clone(), Some(n.entry.clone()))),
                    Err(e)
                        if matches!(
                            e.code(),
                            ErrorCode::PreconditionFailed | ErrorCode::EntryNotFound
                        ) =>
                    {
                        None
                    }
                    Err(e) if e.code() == ErrorCode::ValueAlreadyExists => {
                        return Err(Error::new(
                            ErrorCode::AlreadyExists,
                            format!("the {t} record '{value}' at '{name}' already exists in '{z}' (the directory compares it ignoring case)"),
                        )
                        .with_detail("zoneName", z.name())
                        .with_detail("name", name.as_str())
                        .with_detail("type", t)
                        .with_detail("value", value.as_str()));
                    }
                    Err(e) => return Err(e),
                }
            } else {
                let plain = l.container.child(Rdn::new(NAME_ATTR, &name)?);
                let taken = l.nodes.iter().any(|n| n.entry.dn == plain);
                let dn = if taken {
                    l.container
                        .child(Rdn::new(NAME_ATTR, &name)?.with(TTL_ATTR, &ttl.to_string())?)
                } else {
                    plain
                };
                dn.check_limits()?;
                let entry = Entry::new(dn.clone())
                    .with("objectClass", ["top", CLASS])
                    .with(ZONE_ATTR, [z.name()])
                    .with(NAME_ATTR, [name.as_str()])
                    .with(CLASS_ATTR, ["IN"])
                    .with(TTL_ATTR, [ttl.to_string()])
                    .with(attr, [value.as_str()]);
                op.target(&dn);
                op.begin().await?;
                let mut r = dir.add(&entry).await;
                if matches!(&r, Err(e) if e.code() == ErrorCode::ParentNotFound) {
                    // A zone written by another tool, without Heracles' container.
                    self.ensure_zone_container(&z).await?;
                    r = dir.add(&entry).await;
                }
                match r {
                    Ok(()) => Some((dn, None)),
                    Err(e) if e.code() == ErrorCode::AlreadyExists => None,
                    Err(e) => return Err(e),
                }
            };
            let Some((dn, before)) = written else {
                // Lost a race with another writer: read again and re-check the rules.
                tokio::time::sleep(Duration::from_millis(u64::from(attempt % 8) * 3 + 1)).await;
                continue;
            };
            let after = dir.get(&dn, &["*"]).await?;
            op.changes(before.as_ref(), after.as_ref());
            serial::bump(dir, &l.soa_node().entry.dn, &[], &Soa::clone, None).await?;
            return Ok(Record {
                dn,
                name,
                record_type: t.to_owned(),
                value,
                ttl,
            });
        }
        Err(Error::new(
            ErrorCode::Timeout,
            format!(
                "could not add the record to '{z}' after {WRITE_ATTEMPTS} attempts (contention)"
            ),
        ))
    }

    async fn ensure_zone_container(self, z: &ZoneName) -> Result<()> {
        let top = Entry::new(self.container_of(z)?)
            .with("objectClass", ["top", CLASS])
            .with(ZONE_ATTR, [z.name()])
            .with(NAME_ATTR, ["@"]);
        let dir = self.h.directory();
        let mut r = dir.add(&top).await;
        if matches!(&r, Err(e) if e.code() == ErrorCode::ParentNotFound) {
            super::settings::ensure_container(self.h, Container::Dns).await?;
            r = dir.add(&top).await;
        }
        r.or_else(|e| {
            if e.code() == ErrorCode::AlreadyExists {
                Ok(())
            } else {
                Err(e)
            }
        })
    }

    /// Deletes the records of one name and type — or, with `value`, only that one value;
    /// the serial increases. `RECORD_NOT_FOUND` when there is nothing to delete.
    pub async fn delete_records(
        &self,
        p: &Principal,
        zone: &str,
        name: &str,
        record_type: &str,
        value: Option<&str>,
    ) -> Result<()> {
        let mut op = Operation::new(
            self.h,
            p,
            action::DELETE,
            object_type::DNS,
            format!("{name} {record_type} in {zone}"),
        );
        let outcome = self
            .delete_records_op(p, zone, name, record_type, value, &mut op)
            .await;
        op.done(outcome).await
    }

    #[allow(clippy::too_many_lines)] // the rules, in order
    async fn delete_records_op(
        &self,
        p: &Principal,
        zone: &str,
        name: &str,
        record_type: &str,
        value: Option<&str>,
        op: &mut Operation<'_>,
    ) -> Result<()> {
        p.check_somewhere(DELETE, zone)?;
        let z = self.zone_from_path(zone)?;
        let owner = owner_name(&z, name)?;
        let kind = RecordType::parse(record_type, "type")?;
        let t = kind.as_str();
        // The value as given and normalised (a value stored by another tool may not be).
        let wanted: Option<(String, Option<String>)> =
            value.map(|v| (v.trim().to_owned(), record_value(&z, kind, v).ok()));
        let matches = |stored: &str| match &wanted {
            None => true,
            Some((raw, norm)) => {
                stored.eq_ignore_ascii_case(raw)
                    || norm
                        .as_deref()
                        .is_some_and(|n| stored.eq_ignore_ascii_case(n))
            }
        };
        let dir = self.h.directory();
        for attempt in 0..WRITE_ATTEMPTS {
            let l = self.load(&z).await?;
            p.check(DELETE, &l.dn)?;
            let holders: Vec<&Node> = l
                .at(&owner)
                .filter(|n| n.of_type(t).any(|(_, _, v)| matches(v)))
                .collect();
            let Some(first) = holders.first() else {
                return Err(record_not_found(z.name(), &owner, t, value));
            };
            let set = record_set(&l, &owner, kind)
                .ok_or_else(|| record_not_found(z.name(), &owner, t, value))?;
            let user_assertion = guard(self.if_match, &set, &first.entry)?;
            for n in &holders {
                p.check(DELETE, &n.entry.dn)?;
                if !n.writable() {
                    return Err(shared(n));
                }
            }
            let removed: usize = holders
                .iter()
                .map(|n| n.of_type(t).filter(|(_, _, v)| matches(v)).count())
                .sum();
            let total: usize = l.at(&owner).map(|n| n.of_type(t).count()).sum();
            if kind == RecordType::Ns && owner == "@" && removed == total {
                return Err(Error::new(
                    ErrorCode::BusinessRuleViolation,
                    format!("'{z}' needs at least one NS record at its apex; add another before deleting the last"),
                )
                .with_detail("zoneName", z.name())
                .with_detail("type", t));
            }
            if matches!(kind, RecordType::A | RecordType::Aaaa) {
                let addresses: usize = l
                    .at(&owner)
                    .map(|n| n.of_type("A").count() + n.of_type("AAAA").count())
                    .sum();
                if removed == addresses && l.ns_targets().contains(&owner) {
                    return Err(Error::new(
                        ErrorCode::BusinessRuleViolation,
                        format!("'{owner}' is a name server of '{z}' and needs an address record (bind refuses the zone otherwise); change the NS records first"),
                    )
                    .with_detail("zoneName", z.name())
                    .with_detail("name", owner.as_str()));
                }
            }
            op.target(&first.entry.dn);
            op.begin().await?;
            let mut lost = false;
            for n in &holders {
                let check = match &user_assertion {
                    Some(a) if n.entry.dn == first.entry.dn => a.clone(),
                    _ => assertion(&n.entry),
                };
                let gone: Vec<&str> = n
                    .of_type(t)
                    .filter(|(_, _, v)| matches(v))
                    .map(|(_, _, v)| v.as_str())
                    .collect();
                let left = n.records.len() - gone.len();
                let r = if left == 0 && !n.is_soa() && n.entry.dn != l.container {
                    dir.delete_if(&n.entry.dn, Some(&check)).await
                } else {
                    let attr = n
                        .of_type(t)
                        .next()
                        .map_or(kind.attribute(), |(_, a, _)| a.as_str());
                    dir.modify_if(
                        &n.entry.dn,
                        &[Modification::delete(attr, gone)],
                        Some(&check),
                    )
                    .await
                };
                match r {
                    Ok(()) => {}
                    Err(e)
                        if e.code() == ErrorCode::PreconditionFailed
                            && user_assertion.is_some() =>
                    {
                        return Err(e)
                    }
                    Err(e)
                        if matches!(
                            e.code(),
                            ErrorCode::PreconditionFailed
                                | ErrorCode::EntryNotFound
                                | ErrorCode::NoSuchAttribute
                        ) =>
                    {
                        lost = true;
                        break;
                    }
                    Err(e) => return Err(e),
                }
            }
            if lost {
                tokio::time::sleep(Duration::from_millis(u64::from(attempt % 8) * 3 + 1)).await;
                continue;
            }
            let after = dir.get(&first.entry.dn, &["*"]).await?;
            op.changes(Some(&first.entry), after.as_ref());
            serial::bump(dir, &l.soa_node().entry.dn, &[], &Soa::clone, None).await?;
            return Ok(());
        }
        Err(Error::new(
            ErrorCode::Timeout,
            format!("could not delete from '{z}' after {WRITE_ATTEMPTS} attempts (contention)"),
        ))
    }
}

fn exists(zone: &ZoneName) -> Error {
    Error::new(
        ErrorCode::AlreadyExists,
        format!("the DNS zone '{zone}' already exists"),
    )
    .with_detail("zoneName", zone.name())
}

fn ignore_gone(e: Error) -> Result<()> {
    if matches!(
        e.code(),
        ErrorCode::EntryNotFound | ErrorCode::NoSuchAttribute
    ) {
        Ok(())
    } else {
        Err(e)
    }
}

/// An A or AAAA record for an address.
fn address_record(zone: &ZoneName, addr: &str, field: &str) -> Result<(RecordType, String)> {
    let kind = if addr.contains(':') {
        RecordType::Aaaa
    } else {
        RecordType::A
    };
    record_value(zone, kind, addr)
        .map(|v| (kind, v))
        .map_err(|e| e.with_detail("field", field))
}

fn record_set(l: &Loaded, name: &str, kind: RecordType) -> Option<RecordSet> {
    let t = kind.as_str();
    let holders: Vec<&Node> = l
        .at(name)
        .filter(|n| n.of_type(t).next().is_some())
        .collect();
    let first = holders.first()?;
    let mut values: Vec<String> = holders
        .iter()
        .flat_map(|n| n.of_type(t).map(|(_, _, v)| v.clone()))
        .collect();
    values.sort();
    Some(RecordSet {
        dn: first.entry.dn.clone(),
        zone_name: l.zone.name().to_owned(),
        name: name.to_owned(),
        record_type: t.to_owned(),
        ttl: l.ttl_of(first),
        values,
    })
}

// ---- lists: filters and sorting over answers ------------------------------------------------

/// The fields of a zone answer that `filter=`, `sort=` and `attributes=` may name.
pub const ZONE_FIELDS: &[&str] = &[
    "zoneName",
    "zoneType",
    "primaryNs",
    "adminEmail",
    "serial",
    "refresh",
    "retry",
    "expire",
    "minimum",
    "ttl",
    "recordCount",
];

/// The fields of a record answer that `filter=`, `sort=` and `attributes=` may name.
pub const RECORD_FIELDS: &[&str] = &["name", "type", "value", "ttl"];

const NUMERIC: &[&str] = &[
    "serial",
    "refresh",
    "retry",
    "expire",
    "minimum",
    "ttl",
    "recordCount",
];

/// A field of an answer, as text (`None`: absent).
trait Fields {
    fn field(&self, name: &str) -> Option<String>;
}

impl Fields for Zone {
    fn field(&self, name: &str) -> Option<String> {
        Some(match name {
            "zoneName" => self.zone_name.clone(),
            "zoneType" => self.zone_type.as_str().to_owned(),
            "primaryNs" => self.primary_ns.clone(),
            "adminEmail" => self.admin_email.clone(),
            "serial" => self.serial.to_string(),
            "refresh" => self.refresh.to_string(),
            "retry" => self.retry.to_string(),
            "expire" => self.expire.to_string(),
            "minimum" => self.minimum.to_string(),
            "ttl" => self.ttl.to_string(),
            "recordCount" => self.record_count.to_string(),
            _ => return None,
        })
    }
}

impl Fields for Record {
    fn field(&self, name: &str) -> Option<String> {
        Some(match name {
            "name" => self.name.clone(),
            "type" => self.record_type.clone(),
            "value" => self.value.clone(),
            "ttl" => self.ttl.to_string(),
            _ => return None,
        })
    }
}

fn known(fields: &[&'static str], name: &str) -> Option<&'static str> {
    fields
        .iter()
        .copied()
        .find(|f| f.eq_ignore_ascii_case(name))
}

fn unknown_field(fields: &[&str], name: &str, param: &str) -> Error {
    Error::new(
        ErrorCode::ValidationFailed,
        format!(
            "'{name}' is not a field of this object type (allowed: {})",
            fields.join(", ")
        ),
    )
    .with_detail("field", param)
    .with_detail("value", name)
}

/// One `filter=` clause; text comparisons ignore case (like the directory's IA5 rules).
struct Matcher {
    field: &'static str,
    op: Op,
    value: String,
}

impl Matcher {
    fn matches(&self, item: &impl Fields) -> bool {
        let Some(have) = item.field(self.field) else {
            return false;
        };
        let have = have.to_lowercase();
        let want = self.value.as_str();
        match self.op {
            Op::Present => !have.is_empty(),
            Op::Eq => have == want,
            Op::Contains => have.contains(want),
            Op::Starts => have.starts_with(want),
            Op::Ends => have.ends_with(want),
        }
    }
}

fn matchers(clauses: &[String], fields: &[&'static str]) -> Result<Vec<Matcher>> {
    if clauses.len() > MAX_CLAUSES {
        return Err(Error::new(
            ErrorCode::InvalidFilter,
            format!("at most {MAX_CLAUSES} filter clauses are allowed"),
        )
        .with_detail("max_clauses", MAX_CLAUSES));
    }
    let mut out = Vec::with_capacity(clauses.len());
    for (i, raw) in clauses.iter().enumerate() {
        let c = Clause::parse(raw).map_err(|e| e.with_detail("index", i))?;
        let Some(field) = known(fields, c.attr) else {
            return Err(Error::new(
                ErrorCode::InvalidFilter,
                format!(
                    "invalid filter clause {i} '{raw}': unknown attribute '{}': allowed are {}",
                    c.attr,
                    fields.join(", ")
                ),
            )
            .with_detail("clause", raw.as_str())
            .with_detail("index", i)
            .with_detail("allowed", fields));
        };
        out.push(Matcher {
            field,
            op: c.op,
            value: c.value.unwrap_or_default().to_lowercase(),
        });
    }
    Ok(out)
}

fn sort_of(q: &ListQuery, fields: &[&'static str]) -> Result<Option<(&'static str, bool)>> {
    let Some(s) = q.sort.as_deref() else {
        return Ok(None);
    };
    let (name, descending) = match s.strip_prefix('-') {
        Some(rest) => (rest, true),
        None => (s.strip_prefix('+').unwrap_or(s), false),
    };
    let field = known(fields, name).ok_or_else(|| unknown_field(fields, name, "sort"))?;
    Ok(Some((field, descending)))
}

fn check_attributes(q: &ListQuery, fields: &[&'static str]) -> Result<()> {
    for a in q.attributes.iter().flatten() {
        known(fields, a).ok_or_else(|| unknown_field(fields, a, "attributes"))?;
    }
    Ok(())
}

fn compare_field(a: &impl Fields, b: &impl Fields, field: &str) -> Ordering {
    let left = a.field(field).unwrap_or_default();
    let right = b.field(field).unwrap_or_default();
    if NUMERIC.contains(&field) {
        let number = |text: &str| text.parse::<u64>().unwrap_or(0);
        number(&left).cmp(&number(&right))
    } else {
        left.to_lowercase().cmp(&right.to_lowercase())
    }
}

fn sort_items<T: Fields>(
    items: &mut [T],
    (field, descending): (&str, bool),
    tie: impl Fn(&T) -> String,
) {
    items.sort_by(|a, b| {
        let o = compare_field(a, b, field).then_with(|| tie(a).cmp(&tie(b)));
        if descending {
            o.reverse()
        } else {
            o
        }
    });
}

fn default_record_key(r: &Record) -> String {
    format!(
        "{}\u{0}{}\u{0}{}",
        name_key(&r.name),
        r.record_type,
        r.value
    )
}

/// Sort key of an owner name: the apex first, then by name.
fn name_key(name: &str) -> String {
    if name == "@" {
        String::new()
    } else {
        name.to_lowercase()
    }
}

fn record_order(a: &Record, b: &Record) -> Ordering {
    name_key(&a.name)
        .cmp(&name_key(&b.name))
        .then_with(|| a.record_type.cmp(&b.record_type))
        .then_with(|| a.value.cmp(&b.value))
}

#[cfg(test)]
mod tests;
