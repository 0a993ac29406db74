//! Settings: typed, validated configuration stored in the directory (SPEC §3 `/settings`).
//!
//! Each setting that differs from its default is one `heraclesSetting` entry
//! `heraclesSettingKey=<key>` below `ou=settings,ou=heracles`, its value one JSON value in
//! `heraclesValue` (written in canonical form: objects complete, placeholders normalised).
//! A key without an entry — or without the `ou=settings` container at all — has its default;
//! deleting the entry (`DELETE /settings/{key}`) resets it.
//!
//! | key | type | default |
//! |---|---|---|
//! | `uid_range` | `{min, max}`, 1 ≤ min ≤ max ≤ 2147483647 | `{10000, 59999}` |
//! | `gid_range` | as `uid_range` | `{10000, 59999}` |
//! | `password_hash` | `argon2`, `ssha512`, `ssha256`, `ssha`, `crypt` | `argon2` |
//! | `password_policy` | `{min_length ≥ 1, min_classes 0–4, max_length min_length–4096}` | `{12, 3, 4096}` |
//! | `access_token_ttl_seconds` | 60–86400 | 1800 |
//! | `refresh_token_ttl_seconds` | 300–31536000 | 604800 |
//! | `self_access` | boolean | `true` |
//! | `uid_max_length` | 1–256 | 32 |
//! | `home_directory_pattern` | absolute path; placeholder `{{uid}}` only | `/home/{{uid}}` |
//! | `default_login_shell` | absolute path, no blanks | `/bin/bash` |
//! | `audit_retention_days` | 1–36500 | 90 |
//! | `login_throttle` | `{account_failures, account_window_seconds, address_failures, address_window_seconds}`, failures 1–1000000, windows 1–604800 s | `{5, 900, 30, 60}` |
//! | `containers` | container name → `ou` value | the names of SPEC §4 |
//!
//! In an object value, absent members take their *default* (not their current value);
//! unknown members are refused. The uid syntax itself is a fixed rule — a lower-case ASCII
//! letter or `_`, then lower-case letters, digits, `.`, `_` or `-` — and only its length is
//! a setting ([`Settings::check_uid`]). The `heracles` and `settings` containers cannot be
//! renamed: settings are read from them.
//!
//! Invalid values are `VALIDATION_FAILED` with details `{key, reason}`; an unknown key is
//! `SETTING_NOT_FOUND`. A stored value that is no longer valid (edited by hand with
//! `ldapmodify`) is ignored with a warning in the log, and the default applies.
//!
//! Until fine-grained access control exists, reading and changing settings needs an
//! administrator (`settings:read`, `settings:write`, `settings:delete`);
//! [`SettingsService::effective`] is for the services themselves and checks nothing.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::version::{etag_of, guard, IfMatch, CSN};
use crate::acl::{Action, ObjectType, Permission};
use crate::audit::{action, object_type, Operation};

const READ: Permission = Permission::new(ObjectType::Settings, Action::Read);
const WRITE: Permission = Permission::new(ObjectType::Settings, Action::Write);
const DELETE: Permission = Permission::new(ObjectType::Settings, Action::Delete);
use super::{Container, Heracles, ListQuery, Principal};
use crate::directory::{truncate, Entry, Modification, Scope, SearchRequest};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{Clause, Filter, Op, MAX_CLAUSES};
use crate::page::Page;
use crate::password::{PasswordPolicy, Scheme, MAX_PASSWORD_BYTES};

const OBJECT_CLASS: &str = "heraclesSetting";
const KEY_ATTR: &str = "heraclesSettingKey";
const VALUE_ATTR: &str = "heraclesValue";
/// Largest POSIX id a range may reach (ids are signed 32-bit on many systems).
const MAX_POSIX_ID: u32 = 2_147_483_647;

/// A range of POSIX ids, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdRange {
    /// Lowest id.
    pub min: u32,
    /// Highest id.
    pub max: u32,
}

impl Default for IdRange {
    fn default() -> Self {
        IdRange {
            min: 10_000,
            max: 59_999,
        }
    }
}

impl IdRange {
    /// Whether `id` lies in the range.
    pub fn contains(&self, id: u32) -> bool {
        (self.min..=self.max).contains(&id)
    }
}

/// Limits on failed logins (SPEC §2); counters may be per instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoginThrottle {
    /// Failures for one account ...
    pub account_failures: u32,
    /// ... within this many seconds, after which its logins are refused (429).
    pub account_window_seconds: u64,
    /// Failures from one client address ...
    pub address_failures: u32,
    /// ... within this many seconds, after which its logins are refused (429).
    pub address_window_seconds: u64,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            account_failures: 5,
            account_window_seconds: 900,
            address_failures: 30,
            address_window_seconds: 60,
        }
    }
}

/// The `ou` values of the containers of SPEC §4 (all but `heracles` and `settings`, which
/// are fixed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)] // each field is the container of that name
pub struct Containers {
    pub people: String,
    pub groups: String,
    pub departments: String,
    pub dns: String,
    pub dhcp: String,
    pub systems: String,
    pub sudoers: String,
    pub aclpolicies: String,
    pub aclassignments: String,
    pub templates: String,
    pub audit: String,
    pub sessions: String,
}

impl Default for Containers {
    fn default() -> Self {
        let ou = |c: Container| c.ou().to_owned();
        Containers {
            people: ou(Container::People),
            groups: ou(Container::Groups),
            departments: ou(Container::Departments),
            dns: ou(Container::Dns),
            dhcp: ou(Container::Dhcp),
            systems: ou(Container::Systems),
            sudoers: ou(Container::Sudoers),
            aclpolicies: ou(Container::AclPolicies),
            aclassignments: ou(Container::AclAssignments),
            templates: ou(Container::Templates),
            audit: ou(Container::Audit),
            sessions: ou(Container::Sessions),
        }
    }
}

impl Containers {
    /// The `ou` value of a container.
    pub fn ou(&self, c: Container) -> &str {
        match c {
            Container::People => &self.people,
            Container::Groups => &self.groups,
            Container::Departments => &self.departments,
            Container::Dns => &self.dns,
            Container::Dhcp => &self.dhcp,
            Container::Systems => &self.systems,
            Container::Sudoers => &self.sudoers,
            Container::AclPolicies => &self.aclpolicies,
            Container::AclAssignments => &self.aclassignments,
            Container::Templates => &self.templates,
            Container::Audit => &self.audit,
            Container::Sessions => &self.sessions,
            Container::Heracles | Container::Settings => c.ou(),
        }
    }
}

/// Every setting, typed: what [`SettingsService::effective`] returns. Field names are the
/// setting keys; see the [module docs](self) for ranges and defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Range of automatically allocated `uidNumber`s.
    pub uid_range: IdRange,
    /// Range of automatically allocated `gidNumber`s.
    pub gid_range: IdRange,
    /// Scheme new passwords are hashed with.
    pub password_hash: Scheme,
    /// Rules new passwords must satisfy.
    pub password_policy: PasswordPolicy,
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_seconds: u64,
    /// Lifetime of refresh tokens, in seconds.
    pub refresh_token_ttl_seconds: u64,
    /// Whether every user holds the `self` policy on its own entry.
    pub self_access: bool,
    /// Longest uid, in characters.
    pub uid_max_length: u32,
    /// `homeDirectory` of new POSIX users; `{{uid}}` is replaced by the uid.
    pub home_directory_pattern: String,
    /// `loginShell` of new POSIX users.
    pub default_login_shell: String,
    /// Days audit events are kept.
    pub audit_retention_days: u32,
    /// Limits on failed logins.
    pub login_throttle: LoginThrottle,
    /// Names of the containers.
    pub containers: Containers,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            uid_range: IdRange::default(),
            gid_range: IdRange::default(),
            password_hash: Scheme::default(),
            password_policy: PasswordPolicy::default(),
            access_token_ttl_seconds: 1800,
            refresh_token_ttl_seconds: 604_800,
            self_access: true,
            uid_max_length: 32,
            home_directory_pattern: "/home/{{uid}}".to_owned(),
            default_login_shell: "/bin/bash".to_owned(),
            audit_retention_days: 90,
            login_throttle: LoginThrottle::default(),
            containers: Containers::default(),
        }
    }
}

impl Settings {
    /// The home directory of a new POSIX user: the pattern with `{{uid}}` replaced.
    pub fn home_directory(&self, uid: &str) -> String {
        self.home_directory_pattern.replace("{{uid}}", uid)
    }

    /// Checks a uid against the fixed rule (`^[a-z_][a-z0-9._-]*$`) and `uid_max_length`:
    /// `VALIDATION_FAILED` on field `uid` with a `reason` (`empty`, `too_long`,
    /// `invalid_character`).
    pub fn check_uid(&self, uid: &str) -> Result<()> {
        let fail = |reason: &str, message: String| {
            Error::validation("uid", message)
                .with_detail("reason", reason)
                .with_detail("value", truncate(uid, 80))
        };
        if uid.is_empty() {
            return Err(fail("empty", "the uid must not be empty".into()));
        }
        if uid.chars().count() > self.uid_max_length as usize {
            return Err(fail(
                "too_long",
                format!("the uid must be at most {} characters", self.uid_max_length),
            ));
        }
        let first = uid
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
        let rest = uid.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
        if !first || !rest {
            return Err(fail(
                "invalid_character",
                format!(
                    "invalid uid '{}': a lower-case letter or '_' first, then lower-case \
                     letters, digits, '.', '_' or '-'",
                    truncate(uid, 80)
                ),
            ));
        }
        Ok(())
    }
}

/// The key of a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)] // each variant is the key of the same name
pub enum SettingKey {
    UidRange,
    GidRange,
    PasswordHash,
    PasswordPolicy,
    AccessTokenTtlSeconds,
    RefreshTokenTtlSeconds,
    SelfAccess,
    UidMaxLength,
    HomeDirectoryPattern,
    DefaultLoginShell,
    AuditRetentionDays,
    LoginThrottle,
    Containers,
}

impl SettingKey {
    /// Every key, in the order lists show them.
    pub const ALL: &'static [SettingKey] = &[
        SettingKey::UidRange,
        SettingKey::GidRange,
        SettingKey::PasswordHash,
        SettingKey::PasswordPolicy,
        SettingKey::AccessTokenTtlSeconds,
        SettingKey::RefreshTokenTtlSeconds,
        SettingKey::SelfAccess,
        SettingKey::UidMaxLength,
        SettingKey::HomeDirectoryPattern,
        SettingKey::DefaultLoginShell,
        SettingKey::AuditRetentionDays,
        SettingKey::LoginThrottle,
        SettingKey::Containers,
    ];

    /// The key as written in URLs and in the directory, e.g. `"uid_range"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SettingKey::UidRange => "uid_range",
            SettingKey::GidRange => "gid_range",
            SettingKey::PasswordHash => "password_hash",
            SettingKey::PasswordPolicy => "password_policy",
            SettingKey::AccessTokenTtlSeconds => "access_token_ttl_seconds",
            SettingKey::RefreshTokenTtlSeconds => "refresh_token_ttl_seconds",
            SettingKey::SelfAccess => "self_access",
            SettingKey::UidMaxLength => "uid_max_length",
            SettingKey::HomeDirectoryPattern => "home_directory_pattern",
            SettingKey::DefaultLoginShell => "default_login_shell",
            SettingKey::AuditRetentionDays => "audit_retention_days",
            SettingKey::LoginThrottle => "login_throttle",
            SettingKey::Containers => "containers",
        }
    }

    /// What the setting does (shown in lists).
    pub const fn description(self) -> &'static str {
        match self {
            SettingKey::UidRange => "range of automatically allocated uidNumbers {min, max}",
            SettingKey::GidRange => "range of automatically allocated gidNumbers {min, max}",
            SettingKey::PasswordHash => {
                "scheme new passwords are hashed with: argon2, ssha512, ssha256, ssha or crypt"
            }
            SettingKey::PasswordPolicy => {
                "rules for new passwords {min_length, min_classes, max_length}"
            }
            SettingKey::AccessTokenTtlSeconds => "lifetime of access tokens in seconds",
            SettingKey::RefreshTokenTtlSeconds => "lifetime of refresh tokens in seconds",
            SettingKey::SelfAccess => "whether every user may read and edit its own entry",
            SettingKey::UidMaxLength => "longest uid in characters",
            SettingKey::HomeDirectoryPattern => {
                "homeDirectory of new POSIX users; {{uid}} is replaced by the uid"
            }
            SettingKey::DefaultLoginShell => "loginShell of new POSIX users",
            SettingKey::AuditRetentionDays => "days audit events are kept",
            SettingKey::LoginThrottle => {
                "failed logins allowed per account and per client address within a window"
            }
            SettingKey::Containers => "ou names of the containers below the base DN",
        }
    }

    /// The key named `name` (ignoring ASCII case); `SETTING_NOT_FOUND` otherwise.
    pub fn from_name(name: &str) -> Result<SettingKey> {
        SettingKey::ALL
            .iter()
            .copied()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::SettingNotFound,
                    format!("no setting '{}'", truncate(name, 80)),
                )
                .with_detail("key", truncate(name, 80))
                .with_detail(
                    "known",
                    SettingKey::ALL
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>(),
                )
            })
    }
}

impl fmt::Display for SettingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SettingKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        SettingKey::from_name(s)
    }
}

/// One setting as `GET /settings` and `GET /settings/{key}` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingValue {
    /// The key.
    pub key: String,
    /// Its value now (the default when none is stored).
    pub value: Value,
    /// Whether that is the default (no value stored).
    pub default: bool,
    /// What the setting does.
    pub description: String,
}

impl SettingValue {
    fn new(key: SettingKey, value: Value, default: bool) -> Self {
        SettingValue {
            key: key.as_str().to_owned(),
            value,
            default,
            description: key.description().to_owned(),
        }
    }
}

/// The body of `PUT /settings/{key}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingUpdate {
    /// The new value.
    pub value: Value,
}

/// `e` as `PRECONDITION_FAILED` if it has code `code` (the entry changed under a
/// conditional write).
fn changed_if(e: Error, code: ErrorCode) -> Error {
    if e.code() == code {
        Error::new(
            ErrorCode::PreconditionFailed,
            "the setting has changed since it was read (If-Match does not match its ETag)",
        )
    } else {
        e
    }
}

/// How long [`SettingsService::effective`] reuses the settings it read: a change made
/// through another instance, or directly in the directory, takes effect within this (so
/// within 1 s, like ACL changes); a change made through this instance at once.
pub const SETTINGS_TTL: Duration = Duration::from_millis(800);
/// Age after which one caller reads the settings again while the others keep using them
/// until [`SETTINGS_TTL`].
pub const SETTINGS_REFRESH_AFTER: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct CachedSettings {
    read_at: Instant,
    generation: u64,
    settings: Arc<Settings>,
}

/// The settings in force, as last read (one per [`Heracles`] value and its clones).
#[derive(Debug, Default)]
pub(crate) struct SettingsCache {
    generation: AtomicU64,
    refreshing: AtomicBool,
    current: Mutex<Option<Arc<CachedSettings>>>,
}

impl SettingsCache {
    /// Forgets them: the next caller reads them again.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// Settings operations; get one with [`Heracles::settings`].
#[derive(Debug, Clone, Copy)]
pub struct SettingsService<'a> {
    h: &'a Heracles,
    if_match: Option<&'a IfMatch>,
}

impl<'a> SettingsService<'a> {
    pub(super) fn new(h: &'a Heracles) -> Self {
        SettingsService { h, if_match: None }
    }

    /// The same operations, with `Some`: writing only while the setting still has one of the expected
    /// versions (see [`version`](super::version)); otherwise `PRECONDITION_FAILED`. A
    /// setting still at its default has the version of its default answer; storing it
    /// then fails if another writer stored it first.
    #[must_use]
    pub fn if_match(self, expected: Option<&'a IfMatch>) -> Self {
        SettingsService {
            if_match: expected,
            ..self
        }
    }

    /// The stored entry of `key` (if any) and the setting as answered now.
    async fn current(self, key: SettingKey, dn: &Dn) -> Result<(Option<Entry>, SettingValue)> {
        let entry = self.h.directory().get(dn, &["*", CSN]).await?;
        let value = match entry.as_ref().and_then(|e| stored_value(e).map(|(_, v)| v)) {
            Some(v) => SettingValue::new(key, v, false),
            None => default_value(key)?,
        };
        Ok((entry, value))
    }

    /// Checks the expected version; the assertion for a write of the stored entry, if any.
    async fn guard(self, key: SettingKey, dn: &Dn) -> Result<Option<(bool, Option<Filter>)>> {
        if self.if_match.is_none() {
            return Ok(None);
        }
        let (entry, value) = self.current(key, dn).await?;
        if let Some(e) = entry {
            return Ok(Some((true, guard(self.if_match, &value, &e)?)));
        }
        if let Some(m) = self.if_match {
            m.check(&etag_of(&value)?)?;
        }
        Ok(Some((false, None)))
    }

    fn container(self) -> Result<Dn> {
        self.h.container(Container::Settings)
    }

    fn dn(self, key: SettingKey) -> Result<Dn> {
        Ok(self.container()?.child(Rdn::new(KEY_ATTR, key.as_str())?))
    }

    /// Every setting with its current value, in the order of [`SettingKey::ALL`].
    pub async fn list(&self, p: &Principal) -> Result<Vec<SettingValue>> {
        p.check(READ, &self.container()?)?;
        let stored = self.stored().await?;
        let defaults = defaults_map()?;
        Ok(SettingKey::ALL
            .iter()
            .map(|&k| match stored.get(&k) {
                Some(v) => SettingValue::new(k, v.clone(), false),
                None => SettingValue::new(
                    k,
                    defaults.get(k.as_str()).cloned().unwrap_or(Value::Null),
                    true,
                ),
            })
            .collect())
    }

    /// One setting; `SETTING_NOT_FOUND` for an unknown key.
    pub async fn get(&self, p: &Principal, key: &str) -> Result<SettingValue> {
        let key = SettingKey::from_name(key)?;
        let dn = self.dn(key)?;
        p.check(READ, &dn)?;
        let stored = self
            .h
            .directory()
            .get(&dn, &[])
            .await?
            .and_then(|e| stored_value(&e).map(|(_, v)| v));
        match stored {
            Some(v) => Ok(SettingValue::new(key, v, false)),
            None => default_value(key),
        }
    }

    /// Validates and stores a setting; returns it in canonical form. `SETTING_NOT_FOUND`
    /// for an unknown key, `VALIDATION_FAILED` (details `key`, `reason`) for a bad value.
    pub async fn set(&self, p: &Principal, key: &str, value: Value) -> Result<SettingValue> {
        let mut op = Operation::new(self.h, p, action::MODIFY, object_type::SETTINGS, key);
        let outcome = self.set_op(p, key, value, &mut op).await;
        // Whatever happened, this instance reads them again (a failed write may have landed).
        self.h.settings_cache().invalidate();
        op.done(outcome).await
    }

    async fn set_op(
        &self,
        p: &Principal,
        key: &str,
        value: Value,
        op: &mut Operation<'_>,
    ) -> Result<SettingValue> {
        let key = SettingKey::from_name(key)?;
        let dn = self.dn(key)?;
        p.check(WRITE, &dn)?;
        let value = canonical(key, value)?;
        let json = value.to_string();
        let dir = self.h.directory();
        let replace = [Modification::replace(VALUE_ATTR, [json.as_str()])];
        let entry = Entry::new(dn.clone())
            .with("objectClass", ["top", OBJECT_CLASS])
            .with(KEY_ATTR, [key.as_str()])
            .with(VALUE_ATTR, [json.as_str()]);
        let condition = self.guard(key, &dn).await?;
        let before = dir.get(&dn, &["*"]).await?;
        op.target(&dn);
        op.begin().await?;
        let first = match &condition {
            // Expected to exist: modify under the assertion (missing now = changed).
            Some((true, assertion)) => dir
                .modify_if(&dn, &replace, assertion.as_ref())
                .await
                .map_err(|e| changed_if(e, ErrorCode::EntryNotFound)),
            // Expected at its default: only an add may store it.
            Some((false, _)) => Err(Error::new(ErrorCode::EntryNotFound, "not stored yet")),
            None => dir.modify(&dn, &replace).await,
        };
        let conditional = condition.is_some();
        match first {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::EntryNotFound => {
                let mut added = dir.add(&entry).await;
                if matches!(&added, Err(e) if e.code() == ErrorCode::ParentNotFound) {
                    ensure_container(self.h, Container::Settings).await?;
                    added = dir.add(&entry).await;
                }
                match added {
                    Ok(()) => {}
                    Err(e) if e.code() == ErrorCode::AlreadyExists && conditional => {
                        return Err(changed_if(e, ErrorCode::AlreadyExists));
                    }
                    // Stored concurrently by someone else: ours is the later write.
                    Err(e) if e.code() == ErrorCode::AlreadyExists => {
                        dir.modify(&dn, &replace).await?;
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
        op.changes(before.as_ref(), Some(&entry));
        self.h.settings_cache().invalidate();
        if key == SettingKey::SelfAccess {
            self.h.acl_cache().invalidate();
        }
        if key == SettingKey::Containers {
            self.apply_containers().await?;
        }
        Ok(SettingValue::new(key, value, false))
    }

    /// Makes this instance use the stored container names and creates the containers that
    /// are missing. Other instances pick a change up at their next start; entries already
    /// in the old containers are not moved.
    async fn apply_containers(&self) -> Result<()> {
        let settings = self.effective().await?;
        self.h.set_containers(settings.containers);
        super::bootstrap::ensure_containers(self.h, &mut super::BootstrapReport::default()).await
    }

    /// Resets a setting to its default (deletes its entry, if any); returns the default.
    pub async fn reset(&self, p: &Principal, key: &str) -> Result<SettingValue> {
        let mut op = Operation::new(self.h, p, action::RESET, object_type::SETTINGS, key);
        let outcome = self.reset_op(p, key, &mut op).await;
        self.h.settings_cache().invalidate();
        op.done(outcome).await
    }

    async fn reset_op(
        &self,
        p: &Principal,
        key: &str,
        op: &mut Operation<'_>,
    ) -> Result<SettingValue> {
        let key = SettingKey::from_name(key)?;
        let dn = self.dn(key)?;
        p.check(DELETE, &dn)?;
        let condition = self.guard(key, &dn).await?;
        let before = self.h.directory().get(&dn, &["*"]).await?;
        op.target(&dn);
        op.begin().await?;
        op.changes(before.as_ref(), None);
        let deleted = match condition {
            None => self.h.directory().delete(&dn).await,
            Some((true, assertion)) => self
                .h
                .directory()
                .delete_if(&dn, assertion.as_ref())
                .await
                .map_err(|e| changed_if(e, ErrorCode::EntryNotFound)),
            Some((false, _)) => Ok(()),
        };
        match deleted {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::EntryNotFound => {}
            Err(e) => return Err(e),
        }
        self.h.settings_cache().invalidate();
        if key == SettingKey::SelfAccess {
            self.h.acl_cache().invalidate();
        }
        if key == SettingKey::Containers {
            self.apply_containers().await?;
        }
        default_value(key)
    }

    /// The settings in force, for the services themselves (no access check): one search of
    /// `ou=settings`, reused for at most [`SETTINGS_TTL`]; keys without a valid stored
    /// value, or no `ou=settings` at all, have their defaults.
    pub async fn effective(&self) -> Result<Settings> {
        let cache = self.h.settings_cache();
        let generation = cache.generation.load(Ordering::SeqCst);
        let current = cache
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .filter(|c| c.generation == generation);
        if let Some(c) = current {
            let age = c.read_at.elapsed();
            if age < SETTINGS_REFRESH_AFTER {
                return Ok((*c.settings).clone());
            }
            if age < SETTINGS_TTL {
                if cache.refreshing.swap(true, Ordering::SeqCst) {
                    return Ok((*c.settings).clone()); // another caller reads them again
                }
                let _clear = super::ClearOnDrop(&cache.refreshing);
                return match self.read_effective(generation).await {
                    Ok(s) => Ok(s),
                    Err(e) => {
                        tracing::debug!(code = %e.code(), "refreshing the settings failed; still using the cached ones");
                        Ok((*c.settings).clone())
                    }
                };
            }
        }
        self.read_effective(generation).await
    }

    /// Reads the settings in force and caches them (unless they were invalidated meanwhile).
    async fn read_effective(&self, generation: u64) -> Result<Settings> {
        let read_at = Instant::now();
        let stored = self.stored().await?;
        let mut map = defaults_map()?;
        for (k, v) in stored {
            map.insert(k.as_str().to_owned(), v);
        }
        let settings: Settings = serde_json::from_value(Value::Object(map)).map_err(|e| {
            Error::internal(format!(
                "the stored settings do not form a valid whole: {e}"
            ))
        })?;
        let cache = self.h.settings_cache();
        let mut current = cache.current.lock().unwrap_or_else(PoisonError::into_inner);
        if cache.generation.load(Ordering::SeqCst) == generation {
            *current = Some(Arc::new(CachedSettings {
                read_at,
                generation,
                settings: Arc::new(settings.clone()),
            }));
        }
        Ok(settings)
    }

    /// Every valid stored value, by key.
    async fn stored(&self) -> Result<HashMap<SettingKey, Value>> {
        let req = SearchRequest::new(
            self.container()?,
            Scope::One,
            Filter::eq("objectClass", OBJECT_CLASS),
        );
        let entries = match self.h.directory().search(&req).await {
            Ok(entries) => entries,
            Err(e) if e.code() == ErrorCode::EntryNotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(entries.iter().filter_map(stored_value).collect())
    }
}

/// The key and canonical value an entry stores; `None` (with a warning) for an unknown key
/// or a value that is not valid any more.
fn stored_value(e: &Entry) -> Option<(SettingKey, Value)> {
    let name = e.first_str(KEY_ATTR)?;
    let Ok(key) = SettingKey::from_name(name) else {
        tracing::debug!(dn = %e.dn, "ignoring a setting of unknown key");
        return None;
    };
    let parsed = e
        .first_str(VALUE_ATTR)
        .and_then(|json| serde_json::from_str::<Value>(json).ok());
    match parsed.map(|v| canonical(key, v)) {
        Some(Ok(v)) => Some((key, v)),
        Some(Err(err)) => {
            tracing::warn!(dn = %e.dn, error = %err, "ignoring an invalid stored setting; its default applies");
            None
        }
        None => {
            tracing::warn!(dn = %e.dn, "ignoring a stored setting that is not JSON; its default applies");
            None
        }
    }
}

fn defaults_map() -> Result<Map<String, Value>> {
    match serde_json::to_value(Settings::default()) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Error::internal("the default settings do not serialise")),
    }
}

fn default_value(key: SettingKey) -> Result<SettingValue> {
    let value = defaults_map()?
        .remove(key.as_str())
        .ok_or_else(|| Error::internal(format!("no default for setting '{key}'")))?;
    Ok(SettingValue::new(key, value, true))
}

/// Creates the container `c` and its parents where missing (the base must exist).
pub(crate) async fn ensure_container(h: &Heracles, c: Container) -> Result<()> {
    let mut chain = vec![c];
    while let Some(parent) = chain.last().and_then(|c| c.parent()) {
        chain.push(parent);
    }
    for c in chain.into_iter().rev() {
        let dn = h.container(c)?;
        if h.directory().get(&dn, &["1.1"]).await?.is_some() {
            continue;
        }
        // The `ou` value of the DN: a renamed container (setting `containers`) keeps the
        // name it has there.
        let ou = dn
            .rdn()
            .map_or_else(|| c.ou().to_owned(), |r| r.value().to_owned());
        let entry = Entry::new(dn)
            .with("objectClass", ["top", "organizationalUnit"])
            .with("ou", [ou]);
        match h.directory().add(&entry).await {
            Ok(()) => {}
            Err(e) if e.code() == ErrorCode::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

// ---- validation ----------------------------------------------------------------------------

fn invalid(key: SettingKey, reason: impl Into<String>) -> Error {
    let reason = reason.into();
    Error::new(
        ErrorCode::ValidationFailed,
        format!("invalid value for setting '{key}': {reason}"),
    )
    .with_detail("field", "value")
    .with_detail("key", key.as_str())
    .with_detail("reason", reason)
}

fn typed<T: DeserializeOwned>(key: SettingKey, value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| invalid(key, e.to_string()))
}

/// Refuses members of an object value other than `allowed` (with a clear reason).
fn known_members(key: SettingKey, value: &Value, allowed: &[&str]) -> Result<()> {
    if let Value::Object(m) = value {
        if let Some(unknown) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(invalid(
                key,
                format!(
                    "unknown member '{}' (expected: {})",
                    truncate(unknown, 80),
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn in_range<T: PartialOrd + fmt::Display + Copy>(
    key: SettingKey,
    what: &str,
    v: T,
    min: T,
    max: T,
) -> Result<()> {
    if v < min || v > max {
        return Err(invalid(
            key,
            format!("{what} must be between {min} and {max}, got {v}"),
        ));
    }
    Ok(())
}

fn to_json<T: Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::internal(format!("setting does not serialise: {e}")))
}

/// Validates `value` for `key`; returns its canonical form.
fn canonical(key: SettingKey, value: Value) -> Result<Value> {
    use SettingKey as K;
    match key {
        K::UidRange | K::GidRange => canonical_range(key, value),
        K::PasswordHash => {
            let Value::String(s) = &value else {
                return Err(invalid(key, "expected a string"));
            };
            let scheme = Scheme::from_str(s).map_err(|e| invalid(key, e.message()))?;
            to_json(&scheme)
        }
        K::PasswordPolicy => canonical_policy(key, value),
        K::AccessTokenTtlSeconds => canonical_number::<u64>(key, value, "the lifetime", 60, 86_400),
        K::RefreshTokenTtlSeconds => {
            canonical_number::<u64>(key, value, "the lifetime", 300, 31_536_000)
        }
        K::SelfAccess => to_json(&typed::<bool>(key, value)?),
        K::UidMaxLength => canonical_number::<u32>(key, value, "the length", 1, 256),
        K::HomeDirectoryPattern => canonical_home(key, value),
        K::DefaultLoginShell => {
            let v: String = typed(key, value)?;
            check_path(key, &v, 256, false)?;
            to_json(&v)
        }
        K::AuditRetentionDays => {
            canonical_number::<u32>(key, value, "the number of days", 1, 36_500)
        }
        K::LoginThrottle => canonical_throttle(key, value),
        K::Containers => canonical_containers(key, value),
    }
}

fn canonical_number<T>(key: SettingKey, value: Value, what: &str, min: T, max: T) -> Result<Value>
where
    T: DeserializeOwned + Serialize + PartialOrd + fmt::Display + Copy,
{
    let v: T = typed(key, value)?;
    in_range(key, what, v, min, max)?;
    to_json(&v)
}

fn canonical_range(key: SettingKey, value: Value) -> Result<Value> {
    if !value.is_object() {
        return Err(invalid(key, "expected an object {min, max}"));
    }
    known_members(key, &value, &["min", "max"])?;
    let r: IdRange = typed(key, value)?;
    in_range(key, "min", r.min, 1, MAX_POSIX_ID)?;
    in_range(key, "max", r.max, 1, MAX_POSIX_ID)?;
    if r.min > r.max {
        return Err(invalid(
            key,
            format!("min ({}) must not exceed max ({})", r.min, r.max),
        ));
    }
    to_json(&r)
}

fn canonical_policy(key: SettingKey, value: Value) -> Result<Value> {
    if !value.is_object() {
        return Err(invalid(key, "expected an object"));
    }
    known_members(
        key,
        &value,
        &["min_length", "min_classes", "max_length", "history"],
    )?;
    let policy: PasswordPolicy = typed(key, value)?;
    in_range(key, "min_length", policy.min_length, 1, MAX_PASSWORD_BYTES)?;
    in_range(key, "min_classes", policy.min_classes, 0, 4)?;
    in_range(
        key,
        "max_length",
        policy.max_length,
        policy.min_length,
        MAX_PASSWORD_BYTES,
    )?;
    in_range(key, "history", policy.history, 0, 24)?;
    to_json(&policy)
}

fn canonical_home(key: SettingKey, value: Value) -> Result<Value> {
    let v: String = typed(key, value)?;
    check_path(key, &v, 1024, true)?;
    let used = super::templates::placeholders_in(&v).map_err(|e| invalid(key, e.message()))?;
    if let Some(other) = used.iter().find(|p| **p != "uid") {
        return Err(invalid(
            key,
            format!("only the placeholder {{{{uid}}}} is allowed, not {{{{{other}}}}}"),
        ));
    }
    let v = super::templates::normalize_placeholders(&v).map_err(|e| invalid(key, e.message()))?;
    to_json(&v)
}

fn canonical_throttle(key: SettingKey, value: Value) -> Result<Value> {
    if !value.is_object() {
        return Err(invalid(key, "expected an object"));
    }
    let t: LoginThrottle = typed(key, value)?;
    in_range(key, "account_failures", t.account_failures, 1, 1_000_000)?;
    in_range(key, "address_failures", t.address_failures, 1, 1_000_000)?;
    in_range(
        key,
        "account_window_seconds",
        t.account_window_seconds,
        1,
        604_800,
    )?;
    in_range(
        key,
        "address_window_seconds",
        t.address_window_seconds,
        1,
        604_800,
    )?;
    to_json(&t)
}

fn canonical_containers(key: SettingKey, value: Value) -> Result<Value> {
    let Value::Object(m) = &value else {
        return Err(invalid(key, "expected an object"));
    };
    if let Some(fixed) = m.keys().find(|k| {
        k.eq_ignore_ascii_case(Container::Heracles.ou())
            || k.eq_ignore_ascii_case(Container::Settings.ou())
    }) {
        return Err(invalid(
            key,
            format!("the '{fixed}' container cannot be renamed: settings are read from it"),
        ));
    }
    let c: Containers = typed(key, value)?;
    check_containers(key, &c)?;
    to_json(&c)
}

/// An absolute path: starts with `/`, no control characters (and, unless `blanks`, no
/// white space), at most `max` bytes.
fn check_path(key: SettingKey, v: &str, max: usize, blanks: bool) -> Result<()> {
    if !v.starts_with('/') {
        return Err(invalid(key, "must be an absolute path (start with '/')"));
    }
    if v.len() > max {
        return Err(invalid(key, format!("must be at most {max} bytes")));
    }
    if v.chars()
        .any(|c| c.is_control() || (!blanks && c.is_whitespace()))
    {
        return Err(invalid(
            key,
            if blanks {
                "must not contain control characters"
            } else {
                "must not contain white space or control characters"
            },
        ));
    }
    Ok(())
}

fn check_containers(key: SettingKey, c: &Containers) -> Result<()> {
    let named: Vec<(Container, &str)> = Container::ALL
        .iter()
        .filter(|x| !matches!(x, Container::Heracles | Container::Settings))
        .map(|&x| (x, c.ou(x)))
        .collect();
    for (x, ou) in &named {
        let name = x.ou();
        if ou.is_empty() || ou.trim() != *ou || ou.chars().count() > 64 {
            return Err(invalid(
                key,
                format!(
                    "the name of '{name}' must be 1 to 64 characters without surrounding \
                     white space"
                ),
            ));
        }
        if ou.chars().any(char::is_control) || Rdn::new("ou", ou).is_err() {
            return Err(invalid(
                key,
                format!("the name of '{name}' is not a valid RDN value"),
            ));
        }
    }
    // Siblings (containers with the same parent, the fixed ones included) must differ.
    let all: Vec<(Container, &str)> = Container::ALL.iter().map(|&x| (x, c.ou(x))).collect();
    for (i, (a, a_ou)) in all.iter().enumerate() {
        for (b, b_ou) in &all[i + 1..] {
            if a.parent() == b.parent() && a_ou.eq_ignore_ascii_case(b_ou) {
                return Err(invalid(
                    key,
                    format!("'{}' and '{}' would both be named '{a_ou}'", a.ou(), b.ou()),
                ));
            }
        }
    }
    Ok(())
}

// ---- lists of settings --------------------------------------------------------------------
//
// The list is small and fixed (one entry per known key), so `filter=`, `sort=`,
// `attributes=` and paging are applied over the answers, with the same syntax and errors as
// every other list. Its fields are `key`, `value`, `default` and `description`; text
// comparisons ignore case (like the directory's `caseIgnoreMatch`), `value` compares its
// JSON text (strings without quotes). Without `sort`, settings are ordered by key.

/// The fields of a setting answer.
const FIELDS: &[&str] = &["key", "value", "default", "description"];

/// The field name as written in [`FIELDS`], if it is one (ignoring case).
fn known_field(name: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .copied()
        .find(|f| f.eq_ignore_ascii_case(name))
}

fn unknown_field(name: &str, param: &str) -> Error {
    Error::new(
        ErrorCode::ValidationFailed,
        format!(
            "'{name}' is not a field of this object type (allowed: {})",
            FIELDS.join(", ")
        ),
    )
    .with_detail("field", param)
    .with_detail("value", name)
}

/// The text of a field, as filters and sorting see it.
fn text(s: &SettingValue, field: &str) -> String {
    match field {
        "key" => s.key.clone(),
        "description" => s.description.clone(),
        "default" => s.default.to_string(),
        _ => match &s.value {
            Value::String(v) => v.clone(),
            other => other.to_string(),
        },
    }
}

/// One parsed `filter=` clause.
struct Matcher {
    field: &'static str,
    op: Op,
    value: String,
}

impl Matcher {
    fn matches(&self, s: &SettingValue) -> bool {
        if self.op == Op::Present {
            return !(self.field == "value" && s.value.is_null());
        }
        let have = text(s, self.field).to_lowercase();
        let want = self.value.as_str();
        match self.op {
            Op::Eq => have == want,
            Op::Contains => have.contains(want),
            Op::Starts => have.starts_with(want),
            Op::Ends => have.ends_with(want),
            Op::Present => true,
        }
    }
}

fn matchers(clauses: &[String]) -> Result<Vec<Matcher>> {
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
        let Some(field) = known_field(c.attr) else {
            return Err(Error::new(
                ErrorCode::InvalidFilter,
                format!(
                    "invalid filter clause {i} '{raw}': unknown attribute '{}': allowed are {}",
                    c.attr,
                    FIELDS.join(", ")
                ),
            )
            .with_detail("clause", raw.as_str())
            .with_detail("index", i)
            .with_detail("allowed", FIELDS));
        };
        out.push(Matcher {
            field,
            op: c.op,
            value: c.value.unwrap_or_default().to_lowercase(),
        });
    }
    Ok(out)
}

impl SettingsService<'_> {
    /// A page of settings with the query of any list (filters, sort, attributes checked).
    pub async fn query(&self, p: &Principal, q: &ListQuery) -> Result<Page<SettingValue>> {
        let filters = matchers(&q.filters)?;
        let (sort_field, descending) = match q.sort.as_deref() {
            None => ("key", false),
            Some(s) => {
                let (name, descending) = match s.strip_prefix('-') {
                    Some(rest) => (rest, true),
                    None => (s.strip_prefix('+').unwrap_or(s), false),
                };
                (
                    known_field(name).ok_or_else(|| unknown_field(name, "sort"))?,
                    descending,
                )
            }
        };
        if let Some(attrs) = &q.attributes {
            for a in attrs {
                known_field(a).ok_or_else(|| unknown_field(a, "attributes"))?;
            }
        }
        let mut all: Vec<SettingValue> = self
            .list(p)
            .await?
            .into_iter()
            .filter(|s| filters.iter().all(|m| m.matches(s)))
            .collect();
        all.sort_by(|a, b| {
            let order = text(a, sort_field)
                .to_lowercase()
                .cmp(&text(b, sort_field).to_lowercase())
                .then_with(|| a.key.cmp(&b.key));
            if descending {
                order.reverse()
            } else {
                order
            }
        });
        Ok(q.page.slice(all))
    }
}

/// A seeded embedded directory for the tests of the services in this file's siblings.
#[cfg(test)]
pub(super) mod testing {
    use std::sync::Arc;

    use super::super::{Heracles, Principal};
    use crate::directory::EmbeddedDirectory;
    use crate::dn::Dn;

    const SEED: &str = "\
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=departments,dc=example,dc=com
objectClass: organizationalUnit
ou: departments

dn: ou=heracles,dc=example,dc=com
objectClass: organizationalUnit
ou: heracles

dn: ou=templates,ou=heracles,dc=example,dc=com
objectClass: organizationalUnit
ou: templates

dn: ou=settings,ou=heracles,dc=example,dc=com
objectClass: organizationalUnit
ou: settings
";

    /// A directory holding the base tree (with `ou=settings` unless `without_settings`).
    pub fn fixture_with(without_settings: bool) -> (tempfile::TempDir, Heracles) {
        let folder = tempfile::tempdir().unwrap();
        let base = Dn::parse("dc=example,dc=com").unwrap();
        let dir = EmbeddedDirectory::open(folder.path(), &base).unwrap();
        let seed = if without_settings {
            SEED.split("\n\n")
                .filter(|r| !r.starts_with("dn: ou=settings"))
                .collect::<Vec<_>>()
                .join("\n\n")
        } else {
            SEED.to_owned()
        };
        dir.import_ldif(seed.as_bytes(), |_| {}).unwrap();
        (folder, Heracles::new(Arc::new(dir), base))
    }

    /// [`fixture_with`] the whole base tree.
    pub fn fixture() -> (tempfile::TempDir, Heracles) {
        fixture_with(false)
    }

    /// An administrator.
    pub fn admin(h: &Heracles) -> Principal {
        Principal::system(h.base())
    }

    /// A user who is not an administrator.
    pub fn user() -> Principal {
        let dn = Dn::parse("uid=jdoe,ou=people,dc=example,dc=com").unwrap();
        let nothing = crate::acl::CompiledAcl::compile(&dn, &[], &[], &[], None);
        Principal::with_acl(dn, Some("jdoe".into()), Arc::new(nothing))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::testing::{admin, fixture, fixture_with, user};
    use super::*;

    fn reason(e: &Error) -> String {
        e.details()["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = Settings::default();
        assert_eq!((s.uid_range.min, s.uid_range.max), (10_000, 59_999));
        assert_eq!(s.gid_range, IdRange::default());
        assert_eq!(s.password_hash, Scheme::Argon2);
        assert_eq!(s.password_policy, PasswordPolicy::default());
        assert_eq!(s.access_token_ttl_seconds, 1800);
        assert_eq!(s.refresh_token_ttl_seconds, 604_800);
        assert!(s.self_access);
        assert_eq!(s.uid_max_length, 32);
        assert_eq!(s.home_directory("jdoe"), "/home/jdoe");
        assert_eq!(s.default_login_shell, "/bin/bash");
        assert_eq!(s.audit_retention_days, 90);
        assert_eq!(s.login_throttle.account_failures, 5);
        assert_eq!(s.login_throttle.account_window_seconds, 900);
        assert_eq!(s.login_throttle.address_failures, 30);
        assert_eq!(s.login_throttle.address_window_seconds, 60);
        assert_eq!(s.containers.ou(Container::People), "people");
        assert_eq!(s.containers.ou(Container::Settings), "settings");
        // Every default is valid and already canonical.
        let map = defaults_map().unwrap();
        for &k in SettingKey::ALL {
            let v = map[k.as_str()].clone();
            assert_eq!(canonical(k, v.clone()).unwrap(), v, "{k}");
        }
        assert_eq!(map.len(), SettingKey::ALL.len());
    }

    #[test]
    fn keys_round_trip() {
        for &k in SettingKey::ALL {
            assert_eq!(SettingKey::from_name(k.as_str()).unwrap(), k);
            assert_eq!(k.as_str().to_uppercase().parse::<SettingKey>().unwrap(), k);
        }
        let e = SettingKey::from_name("nope").unwrap_err();
        assert_eq!(e.code(), ErrorCode::SettingNotFound);
    }

    #[test]
    fn validation() {
        use SettingKey as K;
        let ok = [
            (
                K::UidRange,
                json!({"min": 1000, "max": 1000}),
                json!({"min": 1000, "max": 1000}),
            ),
            (
                K::UidRange,
                json!({"max": 70000}),
                json!({"min": 10000, "max": 70000}),
            ),
            (K::PasswordHash, json!("{SSHA512}"), json!("ssha512")),
            (
                K::PasswordPolicy,
                json!({"min_length": 8}),
                json!({"min_length": 8, "min_classes": 3, "max_length": 4096, "history": 0}),
            ),
            (K::AccessTokenTtlSeconds, json!(60), json!(60)),
            (K::SelfAccess, json!(false), json!(false)),
            (K::UidMaxLength, json!(8), json!(8)),
            (
                K::HomeDirectoryPattern,
                json!("/srv/home/{{ UID }}"),
                json!("/srv/home/{{uid}}"),
            ),
            (
                K::HomeDirectoryPattern,
                json!("/home/shared dir"),
                json!("/home/shared dir"),
            ),
            (K::DefaultLoginShell, json!("/bin/zsh"), json!("/bin/zsh")),
            (K::AuditRetentionDays, json!(365), json!(365)),
        ];
        for (k, v, want) in ok {
            assert_eq!(canonical(k, v.clone()).unwrap(), want, "{k} {v}");
        }
        let bad = [
            (K::UidRange, json!({"min": 5, "max": 4})),
            (K::UidRange, json!({"min": 0, "max": 4})),
            (K::UidRange, json!({"min": 1, "max": 4_294_967_295u64})),
            (K::UidRange, json!({"min": -1, "max": 4})),
            (K::UidRange, json!({"min": 1, "max": 4, "step": 1})),
            (K::UidRange, json!([1, 4])),
            (K::GidRange, json!("10000-20000")),
            (K::PasswordHash, json!("md5")),
            (K::PasswordHash, json!(1)),
            (K::PasswordPolicy, json!({"min_lenght": 8})),
            (K::PasswordPolicy, json!({"min_length": 0})),
            (K::PasswordPolicy, json!({"min_classes": 5})),
            (
                K::PasswordPolicy,
                json!({"min_length": 20, "max_length": 10}),
            ),
            (K::PasswordPolicy, json!({"max_length": 5000})),
            (K::PasswordPolicy, json!(12)),
            (K::AccessTokenTtlSeconds, json!(59)),
            (K::AccessTokenTtlSeconds, json!(1800.5)),
            (K::AccessTokenTtlSeconds, json!("1800")),
            (K::RefreshTokenTtlSeconds, json!(31_536_001)),
            (K::SelfAccess, json!("yes")),
            (K::UidMaxLength, json!(0)),
            (K::HomeDirectoryPattern, json!("home/{{uid}}")),
            (K::HomeDirectoryPattern, json!("/home/{{cn}}")),
            (K::HomeDirectoryPattern, json!("/home/{{nope}}")),
            (K::HomeDirectoryPattern, json!("/home/{{uid")),
            (K::HomeDirectoryPattern, json!("/home/\n{{uid}}")),
            (K::DefaultLoginShell, json!("bash")),
            (K::DefaultLoginShell, json!("/bin/ba sh")),
            (K::DefaultLoginShell, Value::Null),
            (K::AuditRetentionDays, json!(0)),
            (K::LoginThrottle, json!({"account_failures": 0})),
            (K::LoginThrottle, json!({"account_window_seconds": 604_801})),
            (K::LoginThrottle, json!({"burst": 1})),
            (K::Containers, json!({"people": ""})),
            (K::Containers, json!({"people": " staff"})),
            (K::Containers, json!({"people": "groups"})),
            (K::Containers, json!({"audit": "Sessions"})),
            (K::Containers, json!({"people": "heracles"})),
            (K::Containers, json!({"settings": "config"})),
            (K::Containers, json!({"printers": "p"})),
            (K::Containers, json!("people")),
        ];
        for (k, v) in bad {
            let e = canonical(k, v.clone()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{k} {v}");
            assert_eq!(e.details()["key"], k.as_str(), "{k} {v}");
            assert!(!reason(&e).is_empty(), "{k} {v}");
        }
        // Containers below ou=heracles may reuse a name used directly below the base.
        let c = canonical(K::Containers, json!({"people": "staff", "audit": "people"})).unwrap();
        assert_eq!(c["people"], "staff");
        assert_eq!(c["groups"], "groups");
    }

    #[test]
    fn uid_rule() {
        let s = Settings::default();
        for ok in ["jdoe", "_svc", "a.b-c_d9", &"a".repeat(32)] {
            assert!(s.check_uid(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Jdoe", "9lives", "-x", "j doe", "jdoé", &"a".repeat(33)] {
            let e = s.check_uid(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::ValidationFailed, "{bad}");
            assert_eq!(e.details()["field"], "uid");
        }
        let short = Settings {
            uid_max_length: 4,
            ..Settings::default()
        };
        assert_eq!(reason(&short.check_uid("abcde").unwrap_err()), "too_long");
    }

    #[tokio::test]
    async fn non_admins_are_denied() {
        let (_dir, h) = fixture();
        let s = h.settings();
        let u = user();
        for e in [
            s.list(&u).await.unwrap_err(),
            s.get(&u, "uid_range").await.unwrap_err(),
            s.set(&u, "uid_range", json!({"min": 1, "max": 2}))
                .await
                .unwrap_err(),
            s.reset(&u, "uid_range").await.unwrap_err(),
        ] {
            assert_eq!(e.code(), ErrorCode::AclDenied);
            assert!(e.details()["permission"]
                .as_str()
                .unwrap()
                .starts_with("settings:"));
        }
        // Nothing was written.
        assert_eq!(s.effective().await.unwrap(), Settings::default());
    }

    #[tokio::test]
    async fn set_get_list_reset() {
        let (_dir, h) = fixture();
        let s = h.settings();
        let adm = admin(&h);
        let all = s.list(&adm).await.unwrap();
        assert_eq!(all.len(), SettingKey::ALL.len());
        assert!(all.iter().all(|v| v.default));
        assert_eq!(all[0].key, "uid_range");
        assert_eq!(all[0].value, json!({"min": 10000, "max": 59999}));

        let v = s
            .set(&adm, "uid_range", json!({"min": 20000, "max": 29999}))
            .await
            .unwrap();
        assert!(!v.default);
        assert_eq!(v.value, json!({"min": 20000, "max": 29999}));
        // Stored where standard tools see it, as JSON.
        let dn =
            Dn::parse("heraclesSettingKey=uid_range,ou=settings,ou=heracles,dc=example,dc=com")
                .unwrap();
        let e = h.directory().get(&dn, &[]).await.unwrap().unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(e.first_str("heraclesValue").unwrap()).unwrap(),
            json!({"min": 20000, "max": 29999})
        );
        // Set again (modify path), keys are case-insensitive.
        s.set(&adm, "UID_RANGE", json!({"min": 20000, "max": 39999}))
            .await
            .unwrap();
        s.set(&adm, "password_hash", json!("SSHA")).await.unwrap();
        s.set(&adm, "home_directory_pattern", json!("/u/{{ uid }}"))
            .await
            .unwrap();

        let got = s.get(&adm, "uid_range").await.unwrap();
        assert_eq!(got.value["max"], 39999);
        assert!(!got.default);
        assert!(s.get(&adm, "gid_range").await.unwrap().default);

        let eff = s.effective().await.unwrap();
        assert_eq!(
            eff.uid_range,
            IdRange {
                min: 20000,
                max: 39999
            }
        );
        assert_eq!(eff.password_hash, Scheme::Ssha);
        assert_eq!(eff.home_directory("jdoe"), "/u/jdoe");
        assert_eq!(eff.gid_range, IdRange::default());

        let list = s.list(&adm).await.unwrap();
        assert_eq!(list.iter().filter(|v| !v.default).count(), 3);

        let back = s.reset(&adm, "uid_range").await.unwrap();
        assert!(back.default);
        assert_eq!(back.value, json!({"min": 10000, "max": 59999}));
        assert!(h.directory().get(&dn, &[]).await.unwrap().is_none());
        assert_eq!(s.effective().await.unwrap().uid_range, IdRange::default());
        // Resetting a default is fine.
        assert!(s.reset(&adm, "uid_range").await.unwrap().default);
    }

    #[tokio::test]
    async fn errors() {
        let (_dir, h) = fixture();
        let s = h.settings();
        let adm = admin(&h);
        for e in [
            s.get(&adm, "nope").await.unwrap_err(),
            s.set(&adm, "nope", json!(1)).await.unwrap_err(),
            s.reset(&adm, "nope").await.unwrap_err(),
        ] {
            assert_eq!(e.code(), ErrorCode::SettingNotFound);
            assert_eq!(e.details()["key"], "nope");
        }
        let e = s
            .set(&adm, "gid_range", json!({"min": 9, "max": 1}))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);
        assert_eq!(e.details()["key"], "gid_range");
        assert!(reason(&e).contains("must not exceed"), "{e}");
        let e = s
            .set(&adm, "password_hash", json!("md5"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::ValidationFailed);
        assert!(s.get(&adm, "gid_range").await.unwrap().default);
        // The body type refuses unknown fields.
        let e = serde_json::from_value::<SettingUpdate>(json!({"value": 1, "x": 2})).unwrap_err();
        assert!(e.to_string().contains('x'));
    }

    #[tokio::test]
    async fn invalid_stored_values_fall_back_to_defaults() {
        let (_dir, h) = fixture();
        let container = h.container(Container::Settings).unwrap();
        for (key, value) in [
            ("uid_range", "{\"min\": 5, \"max\": 1}"),
            ("gid_range", "not json"),
        ] {
            let entry = Entry::new(container.child(Rdn::new(KEY_ATTR, key).unwrap()))
                .with("objectClass", ["top", OBJECT_CLASS])
                .with(KEY_ATTR, [key])
                .with(VALUE_ATTR, [value]);
            h.directory().add(&entry).await.unwrap();
        }
        let unknown = Entry::new(container.child(Rdn::new(KEY_ATTR, "future").unwrap()))
            .with("objectClass", ["top", OBJECT_CLASS])
            .with(KEY_ATTR, ["future"])
            .with(VALUE_ATTR, ["1"]);
        h.directory().add(&unknown).await.unwrap();
        assert_eq!(h.settings().effective().await.unwrap(), Settings::default());
        let adm = admin(&h);
        assert!(h.settings().get(&adm, "uid_range").await.unwrap().default);
    }

    #[tokio::test]
    async fn missing_container_means_defaults_and_is_created_on_write() {
        let (_dir, h) = fixture_with(true);
        let s = h.settings();
        let adm = admin(&h);
        assert_eq!(s.effective().await.unwrap(), Settings::default());
        assert!(s.list(&adm).await.unwrap().iter().all(|v| v.default));
        assert!(s.get(&adm, "self_access").await.unwrap().default);
        assert!(s.reset(&adm, "self_access").await.unwrap().default);
        s.set(&adm, "self_access", json!(false)).await.unwrap();
        assert!(!s.effective().await.unwrap().self_access);
    }
}
