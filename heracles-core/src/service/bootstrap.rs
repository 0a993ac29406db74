//! First start: the SPEC §4 tree and the bootstrap administrator.
//!
//! Idempotent: every start creates whatever part of the tree is missing (the suffix entry
//! too, on an empty embedded directory) and, while no Heracles administrator exists, the
//! administrator `uid=admin` in `ou=people` with the `admin` policy assigned over the whole
//! tree (an entry under `ou=aclassignments`). Its password is the one given, or a generated
//! one reported once in [`BootstrapReport::generated_password`].

use super::{Container, Heracles, SYSTEM_CONTAINERS};
use crate::directory::{Entry, Scope, SearchRequest};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::Filter;
use crate::password;

/// `description` of the administrator entry Heracles creates (a bootstrap interrupted
/// before the assignment was written can then finish its own work, and only its own).
const ADMIN_MARKER: &str = "Heracles bootstrap administrator";

/// Id of the assignment that makes the bootstrap administrator an administrator.
pub const BOOTSTRAP_ASSIGNMENT: &str = "bootstrap-admin";

/// What a bootstrap did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootstrapReport {
    /// DNs of the entries created (containers, placeholder, administrator, assignment).
    pub created: Vec<Dn>,
    /// Whether the administrator `uid=admin` was created.
    pub admin_created: bool,
    /// The administrator's DN, when it was created or made administrator now.
    pub admin_dn: Option<Dn>,
    /// The generated password, when none was given (print it once).
    pub generated_password: Option<String>,
}

/// DN of the placeholder member that keeps empty `groupOfNames` groups valid (the same DN
/// the test slapd's refint overlay writes when a group's last member is deleted).
pub(crate) fn placeholder_dn(h: &Heracles) -> Result<Dn> {
    Ok(h.container(Container::Heracles)?
        .child(Rdn::new("cn", "placeholder")?))
}

fn ou_entry(dn: &Dn, ou: &str) -> Entry {
    Entry::new(dn.clone())
        .with("objectClass", ["top", "organizationalUnit"])
        .with("ou", [ou])
}

async fn ensure(h: &Heracles, entry: Entry, report: &mut BootstrapReport) -> Result<()> {
    if h.directory().get(&entry.dn, &["1.1"]).await?.is_some() {
        return Ok(());
    }
    match h.directory().add(&entry).await {
        Ok(()) => {
            report.created.push(entry.dn);
            Ok(())
        }
        // Another instance created it meanwhile.
        Err(e) if e.code() == ErrorCode::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::internal(format!("no randomness for a password: {e}")))?;
    let body: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    // Three character classes whatever the random draw: passes the default policy.
    Ok(format!("{body}-7a"))
}

/// Creates the containers (with the names in force) that are missing.
pub(crate) async fn ensure_containers(h: &Heracles, report: &mut BootstrapReport) -> Result<()> {
    for c in Container::ALL {
        let dn = h.container(*c)?;
        let ou = dn.rdn().map(|r| r.value().to_owned()).unwrap_or_default();
        ensure(h, ou_entry(&dn, &ou), report).await?;
    }
    let systems = h.container(Container::Systems)?;
    for s in SYSTEM_CONTAINERS {
        ensure(h, ou_entry(&systems.child(Rdn::new("ou", s)?), s), report).await?;
    }
    Ok(())
}

pub(super) async fn run(h: &Heracles, admin_password: Option<&str>) -> Result<BootstrapReport> {
    let mut report = BootstrapReport::default();
    // Container names are settings: use the stored ones (defaults on a new directory).
    if let Ok(settings) = h.settings().effective().await {
        h.set_containers(settings.containers);
    }
    let base = h.base().clone();
    if h.directory().get(&base, &["1.1"]).await?.is_none() {
        let rdn = base
            .rdn()
            .ok_or_else(|| Error::new(ErrorCode::InvalidConfig, "the base DN is empty"))?;
        let value = rdn.value().to_owned();
        let top = match rdn.attr().to_ascii_lowercase().as_str() {
            "dc" => Entry::new(base.clone())
                .with("objectClass", ["top", "dcObject", "organization"])
                .with("dc", [value.as_str()])
                .with("o", [value.as_str()]),
            "o" => Entry::new(base.clone())
                .with("objectClass", ["top", "organization"])
                .with("o", [value.as_str()]),
            "ou" => ou_entry(&base, &value),
            other => {
                return Err(Error::new(
                    ErrorCode::InvalidConfig,
                    format!("cannot create a base entry named by '{other}': use dc=, o= or ou="),
                ))
            }
        };
        ensure(h, top, &mut report).await?;
    }
    ensure_containers(h, &mut report).await?;
    let heracles = h.container(Container::Heracles)?;
    ensure(
        h,
        Entry::new(placeholder_dn(h)?)
            .with("objectClass", ["top", "organizationalRole"])
            .with("cn", ["placeholder"])
            .with(
                "description",
                ["Placeholder member of empty groups (groupOfNames requires a member)"],
            ),
        &mut report,
    )
    .await?;
    ensure(
        h,
        Entry::new(heracles.child(Rdn::new("cn", "counters")?))
            .with("objectClass", ["top", "heraclesCounter"])
            .with("cn", ["counters"]),
        &mut report,
    )
    .await?;
    super::acl::ensure_builtin_policies(h, &mut report).await?;
    bootstrap_admin(h, admin_password, &mut report).await?;
    h.acl_cache().invalidate();
    Ok(report)
}

async fn bootstrap_admin(
    h: &Heracles,
    admin_password: Option<&str>,
    report: &mut BootstrapReport,
) -> Result<()> {
    let assignments = h.container(Container::AclAssignments)?;
    let existing = h
        .directory()
        .search(
            &SearchRequest::new(
                assignments.clone(),
                Scope::One,
                Filter::and([
                    Filter::eq("objectClass", "heraclesAclAssignment"),
                    Filter::eq("heraclesPolicyName", "admin"),
                ]),
            )
            .attributes(["heraclesSubjectDN", "heraclesSubjectType"]),
        )
        .await?;
    // An administrator exists when an admin assignment names an entry that exists (a group
    // assignment counts as is). Dangling assignments (their user deleted) do not count.
    for a in &existing {
        let is_group = a
            .first_str("heraclesSubjectType")
            .is_some_and(|t| t.eq_ignore_ascii_case("group"));
        let subject = a
            .first_str("heraclesSubjectDN")
            .and_then(|d| Dn::parse(d).ok());
        match subject {
            Some(dn) if is_group || h.directory().get(&dn, &["1.1"]).await?.is_some() => {
                return Ok(());
            }
            _ => {}
        }
    }
    let admin = h
        .container(Container::People)?
        .child(Rdn::new("uid", "admin")?);
    if let Some(found) = h.directory().get(&admin, &["description"]).await? {
        // Never hand the administrator role to an entry Heracles did not create for it.
        if !found.strs("description").contains(&ADMIN_MARKER) {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                format!(
                    "no Heracles administrator exists, and '{admin}' exists but was not \
                     created by Heracles: remove or rename it, or assign it the admin \
                     policy yourself"
                ),
            )
            .with_detail("dn", admin.to_string()));
        }
    } else {
        let settings = h.settings().effective().await?;
        let (password, generated) = if let Some(p) = admin_password {
            (p.to_owned(), None)
        } else {
            let p = generate_password()?;
            (p.clone(), Some(p))
        };
        settings.password_policy.check(&password)?;
        let hashed = password::hash(&password, settings.password_hash)?;
        let entry = Entry::new(admin.clone())
            .with("objectClass", ["top", "inetOrgPerson"])
            .with("uid", ["admin"])
            .with("cn", ["Heracles Administrator"])
            .with("sn", ["Administrator"])
            .with("description", [ADMIN_MARKER])
            .with("userPassword", [hashed]);
        ensure(h, entry, report).await?;
        report.admin_created = true;
        report.generated_password = generated;
    }
    let assignment =
        Entry::new(assignments.child(Rdn::new("heraclesAssignmentId", BOOTSTRAP_ASSIGNMENT)?))
            .with("objectClass", ["top", "heraclesAclAssignment"])
            .with("heraclesAssignmentId", [BOOTSTRAP_ASSIGNMENT])
            .with("heraclesPolicyName", ["admin"])
            .with("heraclesSubjectDN", [admin.to_string()])
            .with("heraclesSubjectType", ["user"])
            .with("heraclesScopeType", ["tree"])
            .with("heraclesBuiltin", ["TRUE"])
            .with(
                "description",
                ["The bootstrap administrator (created on first start)"],
            );
    if h.directory().get(&assignment.dn, &["1.1"]).await?.is_some() {
        // A dangling bootstrap assignment (its user was deleted): point it at the admin.
        h.directory()
            .modify(
                &assignment.dn,
                &[crate::directory::Modification::replace(
                    "heraclesSubjectDN",
                    [admin.to_string()],
                )],
            )
            .await?;
    } else {
        ensure(h, assignment, report).await?;
    }
    report.admin_dn = Some(admin);
    Ok(())
}

/// Removes the ACL assignments whose subject is `dn` (when that user is deleted), so that
/// no later entry with the same DN inherits them; answers how many there were.
pub(crate) async fn remove_assignments_of(h: &Heracles, dn: &Dn) -> Result<usize> {
    let found = h
        .directory()
        .search(
            &SearchRequest::new(
                h.container(Container::AclAssignments)?,
                Scope::One,
                Filter::and([
                    Filter::eq("objectClass", "heraclesAclAssignment"),
                    Filter::eq("heraclesSubjectDN", dn.to_string()),
                ]),
            )
            .attributes(["1.1"]),
        )
        .await;
    let found = match found {
        Ok(f) => f,
        // No `ou=aclassignments` yet: nothing is assigned.
        Err(e) if e.code() == ErrorCode::EntryNotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let n = found.len();
    for a in found {
        match h.directory().delete(&a.dn).await {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::EntryNotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
