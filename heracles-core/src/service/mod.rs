//! Services: the business rules of Heracles over a [`Directory`].
//!
//! Every front (REST server, Python, Rust callers) goes through these, so validation, id
//! allocation, password hashing, membership consistency — and, with the ACL issue, access
//! decisions — are the same everywhere. A [`Heracles`] value is cheap to clone and holds the
//! directory, the base DN and the schema; each area has its own handle:
//! [`Heracles::users`], [`Heracles::groups`], [`Heracles::departments`],
//! [`Heracles::templates`], [`Heracles::systems`], [`Heracles::dns`], [`Heracles::dhcp`],
//! [`Heracles::sudo`], [`Heracles::ssh_keys`], [`Heracles::settings`], access control
//! [`Heracles::acl`], the audit trail [`Heracles::audit`], and
//! for the fronts' own use (no principal) the login sessions, [`Heracles::sessions`].
//!
//! ```
//! use std::sync::Arc;
//! use heracles_core::directory::EmbeddedDirectory;
//! use heracles_core::dn::Dn;
//! use heracles_core::service::Heracles;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let folder = tempfile::tempdir().unwrap();
//! let base = Dn::parse("dc=example,dc=com")?;
//! let dir = Arc::new(EmbeddedDirectory::open(folder.path(), &base)?);
//! let heracles = Heracles::new(dir, base);
//! let report = heracles.bootstrap(Some("An-admin-passw0rd")).await?;
//! assert!(report.admin_created);
//! # Ok::<(), heracles_core::Error>(()) }).unwrap();
//! ```

pub mod acl;
mod attrs;
mod bootstrap;
pub(crate) mod common;
pub mod departments;
pub mod dhcp;
pub mod dns;
pub mod groups;
mod ids;
pub mod lists;
pub mod memberships;
mod pack;
pub mod reads;
pub mod replica;
pub mod sessions;
pub mod settings;
pub mod ssh_keys;
pub mod sudo;
pub mod systems;
pub mod templates;
pub mod users;
pub mod version;

use std::sync::Arc;

pub use self::bootstrap::BootstrapReport;
pub use self::common::{ListQuery, Principal};
pub use self::version::{etag_of, etag_of_json, IfMatch};
use crate::directory::Directory;
use crate::dn::{Dn, Rdn};
use crate::error::Result;
use crate::schema::Schema;

/// The containers of SPEC §4, each below the base DN. Their names are settings
/// (`containers.<name>`); these are the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Container {
    /// `ou=people`: users.
    People,
    /// `ou=groups`: groups.
    Groups,
    /// `ou=departments`: department trees.
    Departments,
    /// `ou=dns`: DNS zones.
    Dns,
    /// `ou=dhcp`: DHCP services.
    Dhcp,
    /// `ou=systems`: systems, by type below it.
    Systems,
    /// `ou=sudoers`: sudo rules.
    Sudoers,
    /// `ou=heracles`: Heracles' own state.
    Heracles,
    /// `ou=aclpolicies,ou=heracles`.
    AclPolicies,
    /// `ou=aclassignments,ou=heracles`.
    AclAssignments,
    /// `ou=templates,ou=heracles`.
    Templates,
    /// `ou=settings,ou=heracles`.
    Settings,
    /// `ou=audit,ou=heracles`.
    Audit,
    /// `ou=sessions,ou=heracles`.
    Sessions,
}

impl Container {
    /// Every container, parents before children.
    pub const ALL: &'static [Container] = &[
        Container::People,
        Container::Groups,
        Container::Departments,
        Container::Dns,
        Container::Dhcp,
        Container::Systems,
        Container::Sudoers,
        Container::Heracles,
        Container::AclPolicies,
        Container::AclAssignments,
        Container::Templates,
        Container::Settings,
        Container::Audit,
        Container::Sessions,
    ];

    /// The `ou` value.
    pub const fn ou(self) -> &'static str {
        match self {
            Container::People => "people",
            Container::Groups => "groups",
            Container::Departments => "departments",
            Container::Dns => "dns",
            Container::Dhcp => "dhcp",
            Container::Systems => "systems",
            Container::Sudoers => "sudoers",
            Container::Heracles => "heracles",
            Container::AclPolicies => "aclpolicies",
            Container::AclAssignments => "aclassignments",
            Container::Templates => "templates",
            Container::Settings => "settings",
            Container::Audit => "audit",
            Container::Sessions => "sessions",
        }
    }

    /// The container this one lives in (`None`: directly below the base).
    pub const fn parent(self) -> Option<Container> {
        match self {
            Container::AclPolicies
            | Container::AclAssignments
            | Container::Templates
            | Container::Settings
            | Container::Audit
            | Container::Sessions => Some(Container::Heracles),
            _ => None,
        }
    }
}

/// The system types and their containers below `ou=systems`.
pub const SYSTEM_CONTAINERS: &[&str] = &[
    "servers",
    "workstations",
    "terminals",
    "printers",
    "components",
    "phones",
    "mobiles",
];

/// Clears a "someone is refreshing this" flag when that refresh ends, however it ends
/// (done, failed, or its request cancelled).
pub(crate) struct ClearOnDrop<'a>(pub(crate) &'a std::sync::atomic::AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

#[derive(Debug)]
struct Inner {
    dir: Arc<dyn Directory>,
    base: Dn,
    schema: Schema,
    /// Container names in force (the `containers` setting; read by the bootstrap and
    /// whenever this instance changes the setting).
    containers: std::sync::RwLock<settings::Containers>,
    sessions: sessions::ActivityCache,
    acl: acl::AclCache,
    lists: lists::ListCache,
    reads: reads::ReadCache,
    replica: replica::Replica,
    /// The posix-only groups' members (see the `memberships` module).
    posix_only: memberships::PosixOnlyIndex,
    group_names: memberships::GroupNames,
    /// Whether the directory keeps `memberOf` on group members (probed; see groups.rs).
    member_of: groups::MemberOfProbe,
    settings: settings::SettingsCache,
    /// One allocation of each id kind at a time per instance (see the `ids` module).
    id_turns: [tokio::sync::Mutex<()>; 2],
}

/// The core of Heracles over one directory. Clone it freely.
#[derive(Debug, Clone)]
pub struct Heracles {
    inner: Arc<Inner>,
}

impl Heracles {
    /// Services over `dir`, whose naming context is `base`.
    pub fn new(dir: Arc<dyn Directory>, base: Dn) -> Self {
        Heracles {
            inner: Arc::new(Inner {
                dir,
                base,
                schema: Schema::builtin(),
                containers: std::sync::RwLock::new(settings::Containers::default()),
                sessions: sessions::ActivityCache::default(),
                acl: acl::AclCache::default(),
                lists: lists::ListCache::default(),
                reads: reads::ReadCache::default(),
                replica: replica::Replica::default(),
                posix_only: memberships::PosixOnlyIndex::default(),
                group_names: memberships::GroupNames::default(),
                member_of: groups::MemberOfProbe::default(),
                settings: settings::SettingsCache::default(),
                id_turns: [tokio::sync::Mutex::new(()), tokio::sync::Mutex::new(())],
            }),
        }
    }

    /// The directory.
    pub fn directory(&self) -> &dyn Directory {
        &*self.inner.dir
    }

    /// Turns the lists' cache of sorted DNs on (the default) or off (see [`lists`]): off,
    /// every list asks the directory for its page and total (sort + VLV controls where the
    /// server offers them, else a scan of DNs).
    pub fn set_list_cache(&self, on: bool) {
        self.inner.lists.set_enabled(on);
    }

    /// How many scans the lists' cache has made (each cache miss is one).
    pub fn list_cache_scans(&self) -> u64 {
        self.inner.lists.scans()
    }

    /// How many times the lists' cache has followed changes without a scan: deleted
    /// entries taken out, entries added or modified read again and put in their places
    /// (see [`lists`]).
    pub fn list_cache_patches(&self) -> u64 {
        self.inner.lists.patches()
    }

    pub(crate) fn list_cache(&self) -> &lists::ListCache {
        &self.inner.lists
    }

    /// Sets how many entries the cache of reads holds in all (see [`reads`]; default
    /// [`reads::DEFAULT_READ_CACHE`]); 0 turns it off: every read-only request asks the
    /// directory.
    pub fn set_read_cache(&self, entries: usize) {
        self.inner.reads.set_capacity(entries);
    }

    /// How many reads the cache of reads answered (gets the copy of users answered
    /// included, see [`replica`]), and how many it passed to the directory (while it is on
    /// and the directory has a change log).
    pub fn read_cache_counts(&self) -> (u64, u64) {
        let (hits, misses) = self.inner.reads.counts();
        (hits + self.inner.replica.stats().answered, misses)
    }

    pub(crate) fn read_cache(&self) -> &reads::ReadCache {
        &self.inner.reads
    }

    /// Sets how many users the in-memory copy of users may hold (see [`replica`]; off — 0 —
    /// until set; the server's default is [`replica::DEFAULT_USER_REPLICA`]): with more
    /// users below the base it is not made. 0 turns it off.
    pub fn set_user_replica(&self, users: usize) {
        self.inner.replica.set_limit(users);
    }

    /// What the copy of users holds and has done so far.
    pub fn user_replica_stats(&self) -> replica::ReplicaStats {
        self.inner.replica.stats()
    }

    pub(crate) fn replica(&self) -> &replica::Replica {
        &self.inner.replica
    }

    /// Whether the directory keeps `memberOf` on the members of `groupOfNames` groups
    /// (slapd's memberof overlay), found by looking at one member of one group; asked
    /// again after a minute while no group has a member to look at.
    pub async fn member_of_maintained(&self) -> Result<bool> {
        groups::member_of_maintained(self, &self.inner.member_of).await
    }

    /// The base DN.
    pub fn base(&self) -> &Dn {
        &self.inner.base
    }

    /// The schema (the same files the directory uses).
    pub fn schema(&self) -> &Schema {
        &self.inner.schema
    }

    /// The DN of a container, with the names of the `containers` setting (`ou=heracles` and
    /// `ou=settings` keep their names: the settings live there).
    pub fn container(&self, c: Container) -> Result<Dn> {
        let parent = match c.parent() {
            Some(p) => self.container(p)?,
            None => self.inner.base.clone(),
        };
        let ou = match c {
            Container::Heracles | Container::Settings => c.ou().to_owned(),
            other => self
                .inner
                .containers
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .ou(other)
                .to_owned(),
        };
        Ok(parent.child(Rdn::new("ou", &ou)?))
    }

    /// Uses these container names from now on (see [`Heracles::container`]).
    pub(crate) fn set_containers(&self, c: settings::Containers) {
        *self
            .inner
            .containers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = c;
    }

    /// Creates whatever part of the SPEC §4 tree is missing and, while no Heracles
    /// administrator exists, the administrator `uid=admin` in `ou=people`.
    pub async fn bootstrap(&self, admin_password: Option<&str>) -> Result<BootstrapReport> {
        bootstrap::run(self, admin_password).await
    }

    /// Reads the stored settings this instance needs before its first call (the
    /// `containers` names), without writing anything: for a front joining a directory that
    /// another instance bootstrapped (the Python client on an LDAP server); a directory
    /// without stored settings keeps the defaults. [`Heracles::bootstrap`] does this too.
    pub async fn attach(&self) -> Result<()> {
        let settings = self.settings().effective().await?;
        self.set_containers(settings.containers);
        Ok(())
    }

    /// The principal of the user `dn`, with its compiled ACL (cached; see
    /// [`acl`](self::acl) for how fresh it is).
    pub async fn principal(&self, dn: &Dn) -> Result<Principal> {
        let (uid, compiled) = self.acl().principal_parts(dn).await?;
        Ok(Principal::with_acl(dn.clone(), uid, compiled))
    }

    /// Systems (servers, workstations, printers, ...).
    pub fn systems(&self) -> systems::Systems<'_> {
        systems::Systems::new(self)
    }

    /// Access control: policies, assignments, effective permissions, checks.
    pub fn acl(&self) -> acl::AclService<'_> {
        acl::AclService::new(self)
    }

    /// The turn of this instance's allocations of one id kind.
    pub(crate) fn id_turn(&self, kind: ids::IdKind) -> &tokio::sync::Mutex<()> {
        &self.inner.id_turns[kind.index()]
    }

    /// The settings cache (invalidated by every settings change this instance makes).
    pub(crate) fn settings_cache(&self) -> &settings::SettingsCache {
        &self.inner.settings
    }

    /// The ACL cache (invalidated by every change this instance makes to what ACLs are
    /// compiled from).
    pub(crate) fn acl_cache(&self) -> &acl::AclCache {
        &self.inner.acl
    }

    /// User operations.
    pub fn users(&self) -> users::Users<'_> {
        users::Users::new(self)
    }

    /// Group operations.
    pub fn groups(&self) -> groups::Groups<'_> {
        groups::Groups::new(self)
    }

    /// Department operations.
    pub fn departments(&self) -> departments::Departments<'_> {
        departments::Departments::new(self)
    }

    /// DNS zones and records.
    pub fn dns(&self) -> dns::Dns<'_> {
        dns::Dns::new(self)
    }

    /// DHCP services, shared networks, subnets, pools and hosts.
    pub fn dhcp(&self) -> dhcp::Dhcp<'_> {
        dhcp::Dhcp::new(self)
    }

    /// Template operations.
    pub fn templates(&self) -> templates::Templates<'_> {
        templates::Templates::new(self)
    }

    /// Sudo rules (`sudoRole` entries below `ou=sudoers`).
    pub fn sudo(&self) -> sudo::Sudo<'_> {
        sudo::Sudo::new(self)
    }

    /// The SSH public keys of users (`sshPublicKey` of `ldapPublicKey`).
    pub fn ssh_keys(&self) -> ssh_keys::SshKeys<'_> {
        ssh_keys::SshKeys::new(self)
    }

    /// Settings.
    pub fn settings(&self) -> settings::SettingsService<'_> {
        settings::SettingsService::new(self)
    }

    /// The audit trail: writing events around changes and logins, listing, retention.
    pub fn audit(&self) -> crate::audit::Audit<'_> {
        crate::audit::Audit::new(self)
    }

    /// Login sessions (an internal API of the fronts: no principal).
    pub fn sessions(&self) -> sessions::SessionsService<'_> {
        sessions::SessionsService::new(self)
    }

    pub(crate) fn sessions_cache(&self) -> &sessions::ActivityCache {
        &self.inner.sessions
    }
}
