//! The audit trail (SPEC §6): every change to the directory and every login leaves an
//! event, stored in the directory itself.
//!
//! # Events
//!
//! An [`AuditEvent`] says who ([`actor`](AuditEvent::actor), a DN; empty for an anonymous
//! caller such as a failed login) did what ([`action`](AuditEvent::action), see [`action`])
//! to which object ([`object_type`](AuditEvent::object_type), see [`object_type`];
//! [`target`](AuditEvent::target), its DN — or, for a login with an unknown user name, that
//! name as given), when ([`timestamp`](AuditEvent::timestamp), RFC 3339 UTC with
//! microseconds), with what [`result`](AuditEvent::result) (`success`, `pending`, or the
//! [`ErrorCode`] of the failure, e.g. `ACL_DENIED`), in which request
//! ([`request_id`](AuditEvent::request_id), the `X-Request-Id` on the REST server;
//! [`client_address`](AuditEvent::client_address)), and for writes which attributes changed
//! ([`changes`](AuditEvent::changes), made by [`diff`]; secrets are always redacted).
//!
//! Each event is one entry `heraclesEventId=<id>,ou=audit,ou=heracles,<base>` of class
//! `heraclesAuditEvent` (attributes `heraclesTimestamp`, `heraclesActor`, `heraclesAction`,
//! `heraclesObjectType`, `heraclesTarget`, `heraclesResult`, `heraclesRequestId`,
//! `heraclesClientAddress`, `heraclesChanges` — the changes as one JSON array), readable
//! with `ldapsearch` like everything Heracles writes. The id is the UTC time to the
//! microsecond followed by 64 random bits (`20250131120000123456-9f3a0c1d2e4b5a69`): unique
//! across server instances, and ids sort like times.
//!
//! # The write protocol: a change is never left unaudited
//!
//! 1. [`Audit::begin`] writes the event with result `pending` *before* the change. It tries
//!    three times (after 50 ms, then 150 ms; a missing `ou=audit` is created). If the event
//!    still cannot be written, it fails with `AUDIT_UNAVAILABLE` (HTTP 503 with
//!    `Retry-After`) and the caller must **not** make the change.
//! 2. The caller makes the change.
//! 3. [`Audit::finish`] sets the final result (`success` or the error code) and the changed
//!    attributes, with the same retries. If that fails, the complete event is written to the
//!    log as JSON with `tracing::error!` (the log line is then the record) and the directory
//!    keeps the `pending` event, so the attempt stays visible; the caller's operation,
//!    already done, is not failed.
//!
//! [`Audit::audited`] does all three around a closure. An event left `pending` means the
//! outcome is unknown: the server crashed or the request was cancelled between 1 and 3, or
//! step 3 failed (then the log has the outcome). Events that change nothing (logins) are
//! written in one step by [`Audit::record`], with the same retries and the log as fallback;
//! a login is never refused because its event could not be written.
//!
//! # Reading and retention
//!
//! [`Audit::list`] pages through events, newest first, with `filter=` clauses on `actor`,
//! `action`, `target`, `object_type`, `result` and `request_id` and a time range. Events
//! older than the setting `audit_retention_days` (default 90) are deleted by
//! [`Audit::purge`] (the REST server runs it at start and then every hour).
//!
//! ```
//! use std::sync::Arc;
//! use heracles_core::audit::{action, diff, object_type, AuditContext};
//! use heracles_core::directory::{EmbeddedDirectory, Entry};
//! use heracles_core::dn::{Dn, Rdn};
//! use heracles_core::service::{Heracles, ListQuery, Principal};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let folder = tempfile::tempdir().unwrap();
//! let base = Dn::parse("dc=example,dc=com")?;
//! let h = Heracles::new(Arc::new(EmbeddedDirectory::open(folder.path(), &base)?), base.clone());
//! h.bootstrap(Some("An-admin-passw0rd")).await?;
//! let admin = Principal::system(&base);
//! let ctx = AuditContext::for_principal(&admin);
//!
//! // A change made through the protocol: the event is written first, then completed.
//! let dn = base.child(Rdn::new("ou", "lab")?);
//! let entry = Entry::new(dn.clone())
//!     .with("objectClass", ["organizationalUnit"])
//!     .with("ou", ["lab"]);
//! let created = h
//!     .audit()
//!     .audited(&ctx, action::CREATE, object_type::DEPARTMENT, &dn, || async {
//!         h.directory().add(&entry).await?;
//!         Ok((entry.dn.clone(), diff(None, Some(&entry))))
//!     })
//!     .await?;
//! assert_eq!(created, dn);
//!
//! let page = h.audit().list(&admin, &ListQuery::default().filter("action:eq:create"), None, None).await?;
//! let event = &page.data[0];
//! assert_eq!((event.result.as_str(), event.target.as_str()), ("success", "ou=lab,dc=example,dc=com"));
//! assert_eq!(event.changes[1].attribute, "ou");
//! # Ok::<(), heracles_core::Error>(()) }).unwrap();
//! ```

mod diff;
mod query;
mod time;

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use self::diff::{
    diff, is_operational, is_secret, MAX_LISTED_VALUES, MAX_VALUE_BYTES, REDACTED,
};
pub use self::time::{format_time, parse_time};
use crate::directory::{truncate, Entry, Modification};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, Result};
use crate::service::settings::ensure_container;
use crate::service::{Container, Heracles, Principal};

/// Actions recorded by Heracles (the field is free-form text; these are the words used).
pub mod action {
    /// An object was created.
    pub const CREATE: &str = "create";
    /// An object's attributes changed (group members included).
    pub const MODIFY: &str = "modify";
    /// An object was deleted.
    pub const DELETE: &str = "delete";
    /// An object was renamed or moved.
    pub const RENAME: &str = "rename";
    /// A login attempt (success or failure).
    pub const LOGIN: &str = "login";
    /// A logout (a session revoked by its owner).
    pub const LOGOUT: &str = "logout";
    /// A password was set or changed.
    pub const PASSWORD: &str = "password";
    /// An account was locked.
    pub const LOCK: &str = "lock";
    /// An account was unlocked.
    pub const UNLOCK: &str = "unlock";
    /// A setting was reset to its default.
    pub const RESET: &str = "reset";
    /// Expired audit events were deleted.
    pub const PURGE: &str = "purge";
}

/// Object types recorded by Heracles (free-form text; these are the words used, the same
/// as the objects of permissions, SPEC §5, plus `session`).
pub mod object_type {
    /// A user.
    pub const USER: &str = "user";
    /// A group.
    pub const GROUP: &str = "group";
    /// A department.
    pub const DEPARTMENT: &str = "department";
    /// A user template.
    pub const TEMPLATE: &str = "template";
    /// A setting.
    pub const SETTINGS: &str = "settings";
    /// An ACL policy or assignment.
    pub const ACL: &str = "acl";
    /// A login session (logins, logouts).
    pub const SESSION: &str = "session";
    /// The audit trail itself.
    pub const AUDIT: &str = "audit";
    /// A DNS zone or record.
    pub const DNS: &str = "dns";
    /// A DHCP object.
    pub const DHCP: &str = "dhcp";
    /// A system.
    pub const SYSTEM: &str = "system";
    /// A sudo rule.
    pub const SUDO: &str = "sudo";
}

/// The result of an event that succeeded.
pub const SUCCESS: &str = "success";
/// The result of an event whose outcome is not known (yet).
pub const PENDING: &str = "pending";

/// Attempts to write an event, and the pauses between them.
pub const RETRY_DELAYS: [Duration; 2] = [Duration::from_millis(50), Duration::from_millis(150)];

const CLASS: &str = "heraclesAuditEvent";
const ID: &str = "heraclesEventId";
const TIMESTAMP: &str = "heraclesTimestamp";
const ACTOR: &str = "heraclesActor";
const ACTION: &str = "heraclesAction";
const OBJECT_TYPE: &str = "heraclesObjectType";
const TARGET: &str = "heraclesTarget";
const RESULT: &str = "heraclesResult";
const REQUEST_ID: &str = "heraclesRequestId";
const CLIENT_ADDRESS: &str = "heraclesClientAddress";
const CHANGES: &str = "heraclesChanges";

/// Free-form texts (target, request id, ...) are stored up to this many bytes.
const MAX_TEXT_BYTES: usize = 1024;

/// One attribute changed by an audited operation (see [`diff`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    /// The attribute.
    pub attribute: String,
    /// Its values before (empty when it was added; secrets redacted).
    pub old: Vec<String>,
    /// Its values after (empty when it was removed; secrets redacted).
    pub new: Vec<String>,
    /// `true` when the attribute holds too many values to list: `old` and `new` then hold
    /// only the values removed and added (see [`MAX_LISTED_VALUES`]). Absent when `false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
}

/// One audit event, as stored and as answered by `GET /api/v1/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Unique id; sorts like the time (`20250131120000123456-9f3a0c1d2e4b5a69`).
    pub id: String,
    /// When the event began, RFC 3339 UTC with microseconds (`2025-01-31T12:00:00.123456Z`).
    pub timestamp: String,
    /// DN of who acted; empty for an anonymous caller (a failed login).
    pub actor: String,
    /// What was done: see [`action`].
    pub action: String,
    /// The kind of object: see [`object_type`].
    pub object_type: String,
    /// The object's DN (for a login with an unknown user name: the name as given).
    pub target: String,
    /// `success`, `pending` (outcome not known), or the error code of the failure.
    pub result: String,
    /// The request that caused it (`X-Request-Id` on the REST server).
    pub request_id: String,
    /// The client's address, when known.
    pub client_address: Option<String>,
    /// The attributes that changed, with old and new values (secrets redacted).
    pub changes: Vec<AttributeChange>,
}

/// Who acts, and in which request: what every audited call carries besides its principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    /// The acting user (`None`: anonymous, e.g. before a login succeeded).
    pub actor: Option<Dn>,
    /// The request id (on the REST server, its `X-Request-Id`).
    pub request_id: String,
    /// The client's address, when known.
    pub client_address: Option<String>,
}

impl AuditContext {
    /// A context from its parts.
    pub fn new(
        actor: Option<Dn>,
        request_id: impl Into<String>,
        client_address: Option<String>,
    ) -> Self {
        AuditContext {
            actor,
            request_id: request_id.into(),
            client_address,
        }
    }

    /// A context for a caller without a request of its own (Rust or Python code, background
    /// tasks): a fresh request id ([`new_request_id`]), no client address.
    pub fn generated(actor: Option<Dn>) -> Self {
        AuditContext::new(actor, new_request_id(), None)
    }

    /// The context of a principal: its request (see [`Principal::for_request`]), or a
    /// fresh request id when it has none.
    pub fn for_principal(p: &Principal) -> Self {
        AuditContext::new(
            Some(p.dn.clone()),
            p.request_id().map_or_else(new_request_id, str::to_owned),
            p.client_address().map(str::to_owned),
        )
    }

    /// Anonymous, with a fresh request id.
    pub fn anonymous() -> Self {
        AuditContext::generated(None)
    }

    /// The same request with another actor (e.g. the user a login succeeded for).
    #[must_use]
    pub fn with_actor(mut self, actor: Option<Dn>) -> Self {
        self.actor = actor;
        self
    }
}

/// 16 random bytes as 32 lower-case hex digits (unique within the process even without
/// randomness).
fn random_hex(bytes: usize) -> String {
    static FALLBACK: AtomicU64 = AtomicU64::new(0);
    let mut b = vec![0u8; bytes];
    if getrandom::fill(&mut b).is_err() {
        let n = FALLBACK.fetch_add(1, Ordering::Relaxed) ^ (u64::from(std::process::id()) << 32);
        for (dst, src) in b.iter_mut().zip(n.to_be_bytes().iter().cycle()) {
            *dst = *src;
        }
    }
    let mut out = String::with_capacity(bytes * 2);
    for byte in b {
        out.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(byte & 15), 16).unwrap_or('0'));
    }
    out
}

/// A fresh request id for callers outside the REST server: 32 random hex digits.
pub fn new_request_id() -> String {
    random_hex(16)
}

fn new_event_id(micros: i64) -> String {
    format!("{}-{}", time::compact(micros), random_hex(8))
}

/// The result recorded for an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditResult {
    /// `success`.
    Success,
    /// `pending`: the outcome is not known.
    Pending,
    /// The error code of the failure (`ACL_DENIED`, `INVALID_CREDENTIALS`, ...).
    Failed(ErrorCode),
}

impl AuditResult {
    /// The stored text: `success`, `pending` or the error code.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditResult::Success => SUCCESS,
            AuditResult::Pending => PENDING,
            AuditResult::Failed(code) => code.as_str(),
        }
    }
}

impl fmt::Display for AuditResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<T> From<&Result<T>> for AuditResult {
    fn from(r: &Result<T>) -> Self {
        match r {
            Ok(_) => AuditResult::Success,
            Err(e) => AuditResult::Failed(e.code()),
        }
    }
}

impl From<&Error> for AuditResult {
    fn from(e: &Error) -> Self {
        AuditResult::Failed(e.code())
    }
}

impl From<ErrorCode> for AuditResult {
    fn from(code: ErrorCode) -> Self {
        AuditResult::Failed(code)
    }
}

/// An event written as `pending` by [`Audit::begin`], to be completed by [`Audit::finish`].
/// Dropped without finishing, it stays `pending` in the directory.
#[derive(Debug)]
#[must_use = "finish the event with Audit::finish once the change is done"]
pub struct PendingEvent {
    dn: Dn,
    event: AuditEvent,
}

impl PendingEvent {
    /// The event's id.
    pub fn id(&self) -> &str {
        &self.event.id
    }

    /// The event as written.
    pub fn event(&self) -> &AuditEvent {
        &self.event
    }
}

fn text(s: &str) -> String {
    truncate(s, MAX_TEXT_BYTES)
}

fn changes_json(changes: &[AttributeChange]) -> String {
    serde_json::to_string(changes).unwrap_or_else(|_| "[]".to_owned())
}

fn event_json(e: &AuditEvent) -> String {
    serde_json::to_string(e).unwrap_or_else(|_| format!("{e:?}"))
}

/// The audit trail; get it with [`Heracles::audit`].
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    h: &'a Heracles,
}

impl<'a> Audit<'a> {
    pub(crate) fn new(h: &'a Heracles) -> Self {
        Audit { h }
    }

    fn container(self) -> Result<Dn> {
        self.h.container(Container::Audit)
    }

    fn dn(self, id: &str) -> Result<Dn> {
        Ok(self.container()?.child(Rdn::new(ID, id)?))
    }

    fn event(
        ctx: &AuditContext,
        action: &str,
        object_type: &str,
        target: &str,
        result: AuditResult,
        changes: Vec<AttributeChange>,
    ) -> Result<AuditEvent> {
        if action.trim().is_empty() {
            return Err(Error::internal("an audit event needs an action"));
        }
        let micros = time::now_micros();
        Ok(AuditEvent {
            id: new_event_id(micros),
            timestamp: time::rfc3339(micros),
            actor: ctx
                .actor
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            action: text(action),
            object_type: text(object_type),
            target: text(target),
            result: result.as_str().to_owned(),
            request_id: text(&ctx.request_id),
            client_address: ctx.client_address.as_deref().map(text),
            changes,
        })
    }

    fn entry(dn: &Dn, e: &AuditEvent) -> Entry {
        let micros = parse_time("timestamp", &e.timestamp)
            .map_or_else(|_| time::now_micros(), time::floor_micros);
        let mut entry = Entry::new(dn.clone())
            .with("objectClass", ["top", CLASS])
            .with(ID, [e.id.as_str()])
            .with(TIMESTAMP, [time::generalized(micros)])
            .with(ACTION, [e.action.as_str()])
            .with(RESULT, [e.result.as_str()]);
        // Empty texts are left out (a Directory String cannot be empty).
        for (attr, value) in [
            (ACTOR, e.actor.as_str()),
            (OBJECT_TYPE, e.object_type.as_str()),
            (TARGET, e.target.as_str()),
            (REQUEST_ID, e.request_id.as_str()),
            (
                CLIENT_ADDRESS,
                e.client_address.as_deref().unwrap_or_default(),
            ),
        ] {
            if !value.is_empty() {
                entry.set(attr, [value]);
            }
        }
        if !e.changes.is_empty() {
            entry.set(CHANGES, [changes_json(&e.changes)]);
        }
        entry
    }

    /// Adds the event, with the retries of the protocol. A missing container is created;
    /// an id taken by another event gets a new id.
    async fn write_new(self, event: &mut AuditEvent) -> Result<Dn> {
        let mut last = None;
        for attempt in 0..=RETRY_DELAYS.len() {
            let outcome = match self.dn(&event.id) {
                Ok(dn) => self
                    .h
                    .directory()
                    .add(&Self::entry(&dn, event))
                    .await
                    .map(|()| dn),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(dn) => return Ok(dn),
                // An earlier attempt did land (its answer was lost).
                Err(e) if e.code() == ErrorCode::AlreadyExists && attempt > 0 => {
                    return self.dn(&event.id);
                }
                Err(e) => {
                    if e.code() == ErrorCode::AlreadyExists {
                        let micros = time::now_micros();
                        event.id = new_event_id(micros);
                    }
                    if e.code() == ErrorCode::ParentNotFound {
                        if let Err(c) = ensure_container(self.h, Container::Audit).await {
                            tracing::warn!(code = %c.code(), error = %c.message(), "audit: cannot create the audit container");
                        }
                    }
                    tracing::warn!(attempt = attempt + 1, code = %e.code(), error = %e.message(), event = %event.id, "audit: writing an event failed");
                    last = Some(e);
                }
            }
            if let Some(delay) = RETRY_DELAYS.get(attempt) {
                tokio::time::sleep(*delay).await;
            }
        }
        Err(last.unwrap_or_else(|| Error::internal("the audit event was not written")))
    }

    /// Writes the event of a change with result `pending`, **before** the change (see the
    /// [module docs](self)). `target` is the DN (or name) of the object changed.
    ///
    /// Fails with `AUDIT_UNAVAILABLE` when the event cannot be written after three attempts
    /// (details: `attempts`, `cause` — the last error's code): the caller must then not make
    /// the change.
    pub async fn begin(
        &self,
        ctx: &AuditContext,
        action: &str,
        object_type: &str,
        target: impl fmt::Display,
    ) -> Result<PendingEvent> {
        let target = target.to_string();
        let mut event = Self::event(
            ctx,
            action,
            object_type,
            &target,
            AuditResult::Pending,
            Vec::new(),
        )?;
        match self.write_new(&mut event).await {
            Ok(dn) => Ok(PendingEvent { dn, event }),
            Err(e) => {
                tracing::error!(audit_event = %event_json(&event), code = %e.code(), error = %e.message(), "audit: the event of a change could not be written; the change is refused");
                Err(Error::new(
                    ErrorCode::AuditUnavailable,
                    "the audit trail cannot be written, so the change was not made; retry later",
                )
                .with_detail("attempts", RETRY_DELAYS.len() + 1)
                .with_detail("cause", e.code().as_str())
                .with_detail("action", event.action.as_str())
                .with_detail("target", event.target.as_str()))
            }
        }
    }

    /// Completes an event written by [`Audit::begin`]: its final result (`&Result<T>` of the
    /// operation, an [`ErrorCode`], an [`AuditResult`]) and the changed attributes (see
    /// [`diff`]; empty when nothing changed).
    ///
    /// Never fails: when the event cannot be updated after three attempts, the complete
    /// event is logged as JSON with `tracing::error!` and the directory keeps it `pending`.
    pub async fn finish(
        &self,
        pending: PendingEvent,
        result: impl Into<AuditResult>,
        changes: Vec<AttributeChange>,
    ) {
        let result = result.into();
        let PendingEvent { dn, mut event } = pending;
        result.as_str().clone_into(&mut event.result);
        event.changes = changes;
        let mut mods = vec![Modification::replace(RESULT, [event.result.as_str()])];
        if !event.changes.is_empty() {
            mods.push(Modification::replace(
                CHANGES,
                [changes_json(&event.changes)],
            ));
        }
        let mut last = None;
        for attempt in 0..=RETRY_DELAYS.len() {
            let outcome = match self.h.directory().modify(&dn, &mods).await {
                // Gone meanwhile (deleted by hand, or an earlier attempt's answer was lost
                // after a purge): write it whole.
                Err(e) if e.code() == ErrorCode::EntryNotFound => {
                    self.h.directory().add(&Self::entry(&dn, &event)).await
                }
                other => other,
            };
            match outcome {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(attempt = attempt + 1, code = %e.code(), error = %e.message(), event = %event.id, "audit: completing an event failed");
                    last = Some(e);
                }
            }
            if let Some(delay) = RETRY_DELAYS.get(attempt) {
                tokio::time::sleep(*delay).await;
            }
        }
        let code = last.map(|e| e.code().as_str()).unwrap_or_default();
        tracing::error!(audit_event = %event_json(&event), code, "audit: the outcome of an event could not be written to the directory (it stays pending there); this log line is its record");
    }

    /// Writes a complete event in one step — for what changes nothing, such as a login
    /// attempt. Retries as [`Audit::begin`] does; when the event still cannot be written it
    /// is logged as JSON with `tracing::error!` instead. Never fails; answers the event (as
    /// written or logged).
    pub async fn record(
        &self,
        ctx: &AuditContext,
        action: &str,
        object_type: &str,
        target: impl fmt::Display,
        result: impl Into<AuditResult>,
        changes: Vec<AttributeChange>,
    ) -> AuditEvent {
        let target = target.to_string();
        let result = result.into();
        let mut event = match Self::event(ctx, action, object_type, &target, result, changes) {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(code = %e.code(), error = %e.message(), action, target, "audit: an event could not be built");
                return AuditEvent {
                    id: String::new(),
                    timestamp: time::rfc3339(time::now_micros()),
                    actor: String::new(),
                    action: action.to_owned(),
                    object_type: object_type.to_owned(),
                    target,
                    result: result.as_str().to_owned(),
                    request_id: ctx.request_id.clone(),
                    client_address: ctx.client_address.clone(),
                    changes: Vec::new(),
                };
            }
        };
        if let Err(e) = self.write_new(&mut event).await {
            tracing::error!(audit_event = %event_json(&event), code = %e.code(), error = %e.message(), "audit: an event could not be written to the directory; this log line is its record");
        }
        event
    }

    /// Runs `f` under the write protocol: [`Audit::begin`], then `f` (only if the event was
    /// written), then [`Audit::finish`] with `f`'s result and changes.
    ///
    /// `f` answers its value and the changed attributes (see [`diff`]). An error of `f` is
    /// recorded with its code (and no changes) and returned unchanged; an event that cannot
    /// be written is `AUDIT_UNAVAILABLE` and `f` is not run.
    pub async fn audited<T, F, Fut>(
        &self,
        ctx: &AuditContext,
        action: &str,
        object_type: &str,
        target: impl fmt::Display,
        f: F,
    ) -> Result<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(T, Vec<AttributeChange>)>>,
    {
        let pending = self.begin(ctx, action, object_type, target).await?;
        match f().await {
            Ok((value, changes)) => {
                self.finish(pending, AuditResult::Success, changes).await;
                Ok(value)
            }
            Err(e) => {
                self.finish(pending, &e, Vec::new()).await;
                Err(e)
            }
        }
    }
}

/// One audited service operation, from its call to its outcome.
///
/// The services use it so that every write through any front leaves exactly one event:
///
/// - [`Operation::begin`] right before the directory is changed writes the event as
///   `pending` (no change without it: `AUDIT_UNAVAILABLE` stops the operation);
/// - [`Operation::done`] at the end finishes that event with the outcome and the changed
///   attributes — or, when the operation failed before changing anything (a denied access,
///   a bad value, an unknown object), records a one-shot event with the error code.
pub(crate) struct Operation<'a> {
    audit: Audit<'a>,
    ctx: AuditContext,
    action: &'static str,
    object_type: &'static str,
    target: String,
    pending: Option<PendingEvent>,
    changes: Vec<AttributeChange>,
}

impl<'a> Operation<'a> {
    /// An operation of `p` on `target` (a DN, or the name given until the DN is known).
    pub(crate) fn new(
        h: &'a Heracles,
        p: &Principal,
        action: &'static str,
        object_type: &'static str,
        target: impl fmt::Display,
    ) -> Self {
        Operation {
            audit: h.audit(),
            ctx: AuditContext::for_principal(p),
            action,
            object_type,
            target: target.to_string(),
            pending: None,
            changes: Vec::new(),
        }
    }

    /// The target, once its DN is known.
    pub(crate) fn target(&mut self, dn: &Dn) {
        self.target = dn.to_string();
    }

    /// Writes the `pending` event: call right before changing the directory.
    pub(crate) async fn begin(&mut self) -> Result<()> {
        if self.pending.is_none() {
            let pending = self
                .audit
                .begin(&self.ctx, self.action, self.object_type, &self.target)
                .await?;
            self.pending = Some(pending);
        }
        Ok(())
    }

    /// The changed attributes, from the entry before and after.
    pub(crate) fn changes(&mut self, before: Option<&Entry>, after: Option<&Entry>) {
        self.changes = diff(before, after);
    }

    /// Records a rename: a `dn` change from `from` to `to`, first among the changes.
    pub(crate) fn moved(&mut self, from: &Dn, to: &Dn) {
        self.changes.insert(
            0,
            AttributeChange {
                attribute: "dn".to_owned(),
                old: vec![from.to_string()],
                new: vec![to.to_string()],
                partial: false,
            },
        );
    }

    /// Records the outcome (see the type's docs) and hands it back.
    pub(crate) async fn done<T>(self, outcome: Result<T>) -> Result<T> {
        match self.pending {
            Some(pending) => self.audit.finish(pending, &outcome, self.changes).await,
            None => {
                // An unavailable audit log is not recorded in the audit log.
                if !matches!(&outcome, Err(e) if e.code() == ErrorCode::AuditUnavailable) {
                    self.audit
                        .record(
                            &self.ctx,
                            self.action,
                            self.object_type,
                            &self.target,
                            &outcome,
                            self.changes,
                        )
                        .await;
                }
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_like_times_and_are_unique() {
        let a = new_event_id(1_738_324_800_123_456);
        let b = new_event_id(1_738_324_800_123_457);
        assert!(a < b);
        assert_eq!(a.len(), 20 + 1 + 16);
        assert!(a.starts_with("20250131120000123456-"));
        assert_ne!(new_event_id(1), new_event_id(1));
        assert_eq!(new_request_id().len(), 32);
        assert!(Rdn::new(ID, &a).is_ok());
    }

    #[test]
    fn results() {
        assert_eq!(AuditResult::Success.as_str(), "success");
        assert_eq!(AuditResult::Pending.to_string(), "pending");
        let r: Result<()> = Err(Error::new(ErrorCode::AclDenied, "no"));
        assert_eq!(AuditResult::from(&r).as_str(), "ACL_DENIED");
        assert_eq!(AuditResult::from(&Ok::<_, Error>(1)), AuditResult::Success);
        assert_eq!(
            AuditResult::from(ErrorCode::InvalidCredentials).as_str(),
            "INVALID_CREDENTIALS"
        );
    }

    #[test]
    fn events_serialise_in_snake_case() {
        let e = AuditEvent {
            id: "x".into(),
            timestamp: "2025-01-31T12:00:00.000000Z".into(),
            actor: String::new(),
            action: action::LOGIN.into(),
            object_type: object_type::SESSION.into(),
            target: "jdoe".into(),
            result: "INVALID_CREDENTIALS".into(),
            request_id: "r".into(),
            client_address: Some("127.0.0.1".into()),
            changes: vec![AttributeChange {
                attribute: "cn".into(),
                old: vec![],
                new: vec!["x".into()],
                partial: false,
            }],
        };
        let v = serde_json::to_value(&e).unwrap();
        for k in [
            "id",
            "timestamp",
            "actor",
            "action",
            "object_type",
            "target",
            "result",
            "request_id",
            "client_address",
            "changes",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["changes"][0]["attribute"], "cn");
        let back: AuditEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn entries_leave_empty_texts_out() {
        let dn = Dn::parse("heraclesEventId=x,ou=audit,dc=example,dc=com").unwrap();
        let ctx = AuditContext::new(None, "", None);
        let e = Audit::event(&ctx, "login", "", "jdoe", AuditResult::Success, vec![]).unwrap();
        let entry = Audit::entry(&dn, &e);
        assert!(entry.get(ACTOR).is_empty());
        assert!(entry.get(OBJECT_TYPE).is_empty());
        assert!(entry.get(REQUEST_ID).is_empty());
        assert!(entry.get(CHANGES).is_empty());
        assert_eq!(entry.first_str(TARGET), Some("jdoe"));
        let ts = entry.first_str(TIMESTAMP).unwrap();
        assert_eq!(ts.len(), 22, "{ts}");
        assert!(Audit::event(&ctx, " ", "user", "x", AuditResult::Success, vec![]).is_err());
        let long = "x".repeat(5000);
        let e = Audit::event(&ctx, "login", "user", &long, AuditResult::Success, vec![]).unwrap();
        assert!(e.target.len() < MAX_TEXT_BYTES + 4);
    }
}
