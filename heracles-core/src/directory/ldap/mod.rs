//! [`LdapDirectory`]: the [`Directory`] on a real LDAP server, through `ldap3`.
//!
//! - A pool of bound connections (see `pool.rs`), reconnecting by itself after the server
//!   went away; password checks use a separate pool, so user binds never change the
//!   identity of the service connections.
//! - A time limit on every operation (`operation_timeout`): a request never hangs.
//! - Searches use the paged-results control (RFC 2696), so results larger than the server's
//!   size limit for the service account are fetched whole.
//! - `ldap://` (optionally StartTLS), `ldaps://` and `ldapi://` URLs; TLS through rustls
//!   with a configured CA file.
//! - A read whose connection broke is retried once on a fresh connection; a write is retried
//!   only when it provably never reached the server.

mod config;
pub mod controls;
mod convert;
mod pool;
mod tls;
mod watch;
mod window;

use std::collections::HashSet;
use std::future::Future;

use async_trait::async_trait;
use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
use ldap3::controls::{Assertion, MakeCritical, RawControl};
use ldap3::exop::WhoAmI;
use ldap3::{Ldap, LdapError, Mod};
use tokio::time::timeout_at;

pub use self::config::{Bind, LdapConfig};
use self::convert::{entry_from_result, map_error, ConnState};
use self::pool::{Loan, Pool};
use super::{
    check_attribute_name, Change, Directory, Entry, Marker, Modification, Scope, SearchRequest,
    Window,
};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, LdapOperation, Result};
use crate::filter::Filter;
use crate::schema::Schema;

/// Size of the pool used for password checks.
const AUTH_POOL_SIZE: usize = 4;

/// Most operations one pooled service-account connection carries at once (see `pool.rs`).
const SHARE: usize = 4;

/// Failure inside one operation: either ldap3's or one of ours (e.g. a malformed entry).
enum OpError {
    Ldap(LdapError),
    Heracles(Error),
}

impl From<LdapError> for OpError {
    fn from(e: LdapError) -> Self {
        OpError::Ldap(e)
    }
}

impl From<Error> for OpError {
    fn from(e: Error) -> Self {
        OpError::Heracles(e)
    }
}

/// The [`Directory`] on an LDAP server.
#[derive(Debug)]
pub struct LdapDirectory {
    pool: Pool,
    auth: Pool,
    /// For sorting results the same way as the embedded directory.
    schema: Schema,
    /// What the server offers, read on first use.
    root_dse: window::RootDse,
    /// Change notifications, per naming context (see `watch.rs`).
    watches: watch::Watches,
}

impl LdapDirectory {
    /// A directory for `config`, without contacting the server yet (connections are opened
    /// on first use). Fails only on a configuration that cannot work (bad URL scheme,
    /// unreadable CA file).
    pub fn new(config: LdapConfig) -> Result<Self> {
        let scheme = config.url.split("://").next().unwrap_or_default();
        if !["ldap", "ldaps", "ldapi"].contains(&scheme.to_ascii_lowercase().as_str())
            || !config.url.contains("://")
        {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                format!(
                    "the directory URL must start with ldap://, ldaps:// or ldapi://, got '{}'",
                    config.url
                ),
            ));
        }
        let tls = match &config.ca_file {
            Some(path) => Some(tls::client_config(path)?),
            None => None,
        };
        let mut auth_config = config.clone();
        auth_config.bind = Bind::Anonymous;
        auth_config.pool_size = AUTH_POOL_SIZE.min(config.pool_size.max(1));
        Ok(LdapDirectory {
            pool: Pool::new(config, tls.clone(), SHARE),
            auth: Pool::new(auth_config, tls, 1),
            schema: Schema::builtin(),
            root_dse: window::RootDse::default(),
            watches: watch::Watches::default(),
        })
    }

    /// Like [`LdapDirectory::new`], then checks that the server answers and accepts the
    /// service account.
    pub async fn connect(config: LdapConfig) -> Result<Self> {
        let dir = Self::new(config)?;
        dir.health().await?;
        Ok(dir)
    }

    /// The configuration in use.
    pub fn config(&self) -> &LdapConfig {
        self.pool.config()
    }

    /// Number of idle pooled connections (for diagnostics and tests).
    pub fn idle_connections(&self) -> usize {
        self.pool.idle_count()
    }

    /// Checks an assertion without writing: a base search with it as the filter.
    async fn check_assertion(&self, dn: &Dn, op: LdapOperation, assertion: &Filter) -> Result<()> {
        let req =
            SearchRequest::new(dn.clone(), Scope::Base, assertion.clone()).attributes(["1.1"]);
        match self.search(&req).await {
            Ok(found) if found.is_empty() => Err(Error::from_ldap(
                op,
                122,
                &dn.to_string(),
                "assertion failed",
            )),
            Ok(_) => Ok(()),
            Err(e) if e.code() == ErrorCode::EntryNotFound => {
                Err(Error::from_ldap(op, 32, &dn.to_string(), ""))
            }
            Err(e) => Err(e),
        }
    }

    /// Runs a write ([`LdapDirectory::run`], never retried once sent) and logs `change`
    /// however it ends (see `watch.rs`): the caller's next list reads what it wrote even
    /// before the server's notification arrives, and a write that timed out may still
    /// have been made.
    async fn write<F, Fut>(&self, op: LdapOperation, dn: &str, change: Change, f: F) -> Result<()>
    where
        F: Fn(Ldap) -> Fut,
        Fut: Future<Output = Result<(), OpError>>,
    {
        // An add is logged before it is sent as well: whatever the server notifies of the
        // new entry comes after it in the log (`net_changes` relies on it), and again
        // once done, for reads made meanwhile.
        let adds = matches!(
            change,
            Change::Written {
                classes: Some(_),
                ..
            }
        );
        if adds {
            self.watches.changed(&change);
        }
        let outcome = self.run(op, dn, false, Loan::Shared, f).await;
        if outcome.is_err() && (adds || matches!(change, Change::Deleted { .. })) {
            // Not added or deleted — or, after a timeout, maybe: say nothing certain of
            // that entry.
            let maybe = change
                .dn()
                .map_or(Change::Unknown, |dn| Change::Attempted { dn: dn.clone() });
            self.watches.changed(&maybe);
        } else {
            self.watches.changed(&change);
        }
        outcome
    }

    /// Runs one operation on a pooled connection with the operation timeout, retrying once
    /// on a fresh connection when that is safe. The timeout bounds the whole: waiting for
    /// a connection, the operation and its retry.
    async fn run<T, F, Fut>(
        &self,
        op: LdapOperation,
        dn: &str,
        idempotent: bool,
        loan: Loan,
        f: F,
    ) -> Result<T>
    where
        F: Fn(Ldap) -> Fut,
        Fut: Future<Output = Result<T, OpError>>,
    {
        let limit = self.pool.config().operation_timeout;
        self.run_within(limit, op, dn, idempotent, loan, f).await
    }

    /// [`LdapDirectory::run`] with another time limit.
    async fn run_within<T, F, Fut>(
        &self,
        limit: std::time::Duration,
        op: LdapOperation,
        dn: &str,
        idempotent: bool,
        loan: Loan,
        f: F,
    ) -> Result<T>
    where
        F: Fn(Ldap) -> Fut,
        Fut: Future<Output = Result<T, OpError>>,
    {
        let deadline = tokio::time::Instant::now() + limit;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut conn = self.pool.get_by(deadline, loan).await?;
            let outcome = timeout_at(deadline, f(conn.ldap.clone())).await;
            let (err, state) = match outcome {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(OpError::Ldap(e))) => map_error(op, dn, e),
                Ok(Err(OpError::Heracles(e))) => (e, ConnState::Broken),
                Err(_) => (Error::timeout(op, limit), ConnState::Broken),
            };
            if state != ConnState::Healthy {
                conn.discard();
            }
            drop(conn);
            let retry = attempt == 1
                && err.code() == ErrorCode::DirectoryUnavailable
                && (state == ConnState::NotSent || (state == ConnState::Broken && idempotent));
            if !retry {
                return Err(err);
            }
            tracing::debug!(operation = op.as_str(), "retrying on a fresh connection");
        }
    }
}

/// The assertion control (RFC 4528) on `dn`, critical: a server that does not know it
/// refuses the operation rather than ignoring the condition.
///
/// slapd's overlays (memberof, refint) make their own changes to other entries with a copy
/// of the operation — controls included — so the assertion would be evaluated on those
/// entries too, fail there, and their changes be dropped silently (a member's `memberOf`
/// left behind). The condition is therefore sent as `(|(A)(!(entryDN=dn)))`: `A` on the
/// entry itself, true on every other one.
fn assertion_control(dn: &Dn, filter: &Filter) -> Result<RawControl> {
    let scoped = Filter::or([
        filter.clone(),
        Filter::not(Filter::eq("entryDN", dn.to_string())),
    ]);
    let text = scoped.to_string();
    // `Assertion` encodes through ldap3's own parser; check it accepts the text first.
    if ldap3::parse_filter(&text).is_err() {
        return Err(Error::new(
            ErrorCode::InvalidFilter,
            "the assertion cannot be encoded for the directory",
        ));
    }
    Ok(Assertion { filter: text }.critical().into())
}

fn ldap_scope(scope: Scope) -> ldap3::Scope {
    match scope {
        Scope::Base => ldap3::Scope::Base,
        Scope::One => ldap3::Scope::OneLevel,
        Scope::Subtree => ldap3::Scope::Subtree,
    }
}

fn to_set(values: &[Vec<u8>]) -> HashSet<Vec<u8>> {
    values.iter().cloned().collect()
}

/// slapd refuses an attribute given the same value twice (result code 20); so do we, before
/// ldap3's set conversion could hide it.
fn reject_duplicates(dn: &Dn, attr: &str, values: &[Vec<u8>]) -> Result<()> {
    let mut seen = HashSet::new();
    for v in values {
        if !seen.insert(v.as_slice()) {
            return Err(Error::new(
                ErrorCode::ValueAlreadyExists,
                format!("attribute '{attr}' of '{dn}' is given the same value twice"),
            )
            .with_detail("dn", dn.to_string())
            .with_detail("attribute", attr));
        }
    }
    Ok(())
}

/// A search with the paged-results control (one page at a time, `page_size` entries each)
/// unless its scope is the base entry, of at most `limit` entries.
async fn paged_search(
    mut ldap: Ldap,
    base: &str,
    scope: ldap3::Scope,
    filter: &str,
    attrs: &[String],
    page_size: u32,
    limit: Option<usize>,
) -> Result<Vec<Entry>, OpError> {
    let page = i32::try_from(page_size).unwrap_or(i32::MAX);
    let adapters: Vec<Box<dyn Adapter<'_, &str, Vec<&str>>>> = if scope == ldap3::Scope::Base {
        vec![Box::new(EntriesOnly::new())]
    } else {
        vec![
            Box::new(EntriesOnly::new()),
            Box::new(PagedResults::new(page)),
        ]
    };
    let attr_refs: Vec<&str> = attrs.iter().map(String::as_str).collect();
    let mut stream = ldap
        .streaming_search_with(adapters, base, scope, filter, attr_refs)
        .await?;
    let mut entries = Vec::new();
    while let Some(re) = stream.next().await? {
        entries.push(entry_from_result(re)?);
        if limit.is_some_and(|n| entries.len() >= n) {
            // Stop early: abandon the rest of the search on the server.
            let handle = stream.ldap_handle();
            let id = handle.last_id();
            let _ = handle.abandon(id).await;
            let _ = stream.finish().await;
            return Ok(entries);
        }
    }
    let res = stream.finish().await;
    match res.rc {
        0 => Ok(entries),
        // noSuchObject on the base: an empty answer is not what callers expect; report it.
        _ => Err(OpError::Ldap(LdapError::from(res))),
    }
}

/// How many operation timeouts a [`Directory::search_each`] may take in all.
const SEARCH_EACH_TIMEOUTS: u32 = 30;

/// A paged search handing each entry to `each` as it arrives (see
/// [`Directory::search_each`]).
async fn paged_each(
    mut ldap: Ldap,
    base: &str,
    scope: ldap3::Scope,
    filter: &str,
    attrs: &[String],
    page_size: u32,
    each: &std::sync::Mutex<&mut (dyn FnMut(Entry) -> Result<()> + Send)>,
) -> Result<(), OpError> {
    let page = i32::try_from(page_size).unwrap_or(i32::MAX);
    let adapters: Vec<Box<dyn Adapter<'_, &str, Vec<&str>>>> = vec![
        Box::new(EntriesOnly::new()),
        Box::new(PagedResults::new(page)),
    ];
    let attr_refs: Vec<&str> = attrs.iter().map(String::as_str).collect();
    let mut stream = ldap
        .streaming_search_with(adapters, base, scope, filter, attr_refs)
        .await?;
    while let Some(re) = stream.next().await? {
        let entry = entry_from_result(re)?;
        let taken = {
            let mut f = each
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(entry)
        };
        if let Err(e) = taken {
            let handle = stream.ldap_handle();
            let id = handle.last_id();
            let _ = handle.abandon(id).await;
            return Err(OpError::Heracles(e));
        }
    }
    let res = stream.finish().await;
    match res.rc {
        0 => Ok(()),
        _ => Err(OpError::Ldap(LdapError::from(res))),
    }
}

/// A search without paging, of at most `limit` entries; `None` when the server stopped it
/// with sizeLimitExceeded before `limit` entries (its own limit is lower) or, unless
/// `limit` entries are the `whole` answer asked for, at `limit` entries.
async fn plain_search(
    mut ldap: Ldap,
    base: &str,
    scope: ldap3::Scope,
    filter: &str,
    attrs: &[String],
    limit: usize,
    whole: bool,
) -> Result<Option<Vec<Entry>>, OpError> {
    let size = i32::try_from(limit).unwrap_or(i32::MAX);
    let attr_refs: Vec<&str> = attrs.iter().map(String::as_str).collect();
    let mut stream = ldap
        .with_search_options(ldap3::SearchOptions::new().sizelimit(size))
        .streaming_search_with(EntriesOnly::new(), base, scope, filter, attr_refs)
        .await?;
    let mut entries = Vec::new();
    while let Some(re) = stream.next().await? {
        entries.push(entry_from_result(re)?);
    }
    let res = stream.finish().await;
    match res.rc {
        0 => Ok(Some(entries)),
        // sizeLimitExceeded: ours (what was asked) or the server's.
        4 if whole && entries.len() >= limit => Ok(Some(entries)),
        4 => Ok(None),
        _ => Err(OpError::Ldap(LdapError::from(res))),
    }
}

#[async_trait]
impl Directory for LdapDirectory {
    async fn search_window(&self, req: &SearchRequest, offset: u64, limit: u32) -> Result<Window> {
        self.window(req, offset, limit).await
    }

    async fn fetch(&self, dns: &[Dn], attributes: &[String]) -> Result<Vec<Entry>> {
        self.fetch_many(dns, attributes).await
    }

    async fn change_marker(&self, base: &Dn) -> Result<Option<Marker>> {
        self.marker(base).await
    }

    async fn search(&self, req: &SearchRequest) -> Result<Vec<Entry>> {
        for a in &req.attributes {
            check_attribute_name(a)?;
        }
        req.filter.validate()?;
        if req.size_limit == Some(0) {
            return Ok(Vec::new());
        }
        let base = req.base.to_string();
        let filter = req.filter.to_string();
        let scope = ldap_scope(req.scope);
        // Sorting needs every match first; the limit then applies to the sorted list.
        let fetch_limit = if req.sort.is_empty() {
            req.size_limit
        } else {
            None
        };
        let mut page = req.page_size.unwrap_or(self.pool.config().page_size).max(1);
        if let Some(n) = fetch_limit {
            page = page.min(u32::try_from(n).unwrap_or(u32::MAX));
        }
        // Sort keys must be fetched even when the caller did not ask for them.
        let mut attrs = req.attributes.clone();
        if !attrs.is_empty() {
            for k in &req.sort {
                check_attribute_name(&k.attr)?;
                attrs.push(k.attr.clone());
            }
        }
        let (base_ref, filter_ref, attrs_ref) = (base.as_str(), filter.as_str(), &attrs);
        // First a plain search, on a shared connection, of at most one page: enough for a
        // search limited to one page (sizeLimitExceeded then ends it), and for most others,
        // which match fewer entries than a page. Only a search with more matches (or an
        // account whose own size limit is lower) is done again with paging, which needs a
        // connection alone. A large scan wastes a page's worth of work; most searches save
        // the paging control and the exclusive connection.
        let (n, whole) = match fetch_limit {
            Some(n) if n <= page as usize => (n, true),
            _ => (page as usize, false),
        };
        let plain = self
            .run(LdapOperation::Search, &base, true, Loan::Shared, |ldap| {
                plain_search(ldap, base_ref, scope, filter_ref, attrs_ref, n, whole)
            })
            .await?;
        let mut found = if let Some(found) = plain {
            found
        } else {
            // slapd keeps one paging state per connection: a paged search runs alone.
            let loan = if scope == ldap3::Scope::Base {
                Loan::Shared
            } else {
                Loan::Alone
            };
            self.run(LdapOperation::Search, &base, true, loan, |ldap| {
                paged_search(
                    ldap,
                    base_ref,
                    scope,
                    filter_ref,
                    attrs_ref,
                    page,
                    fetch_limit,
                )
            })
            .await?
        };
        if !req.sort.is_empty() {
            super::sort::sort_entries(&self.schema, &mut found, &req.sort);
            if let Some(n) = req.size_limit {
                found.truncate(n);
            }
            if !req.attributes.is_empty() {
                super::sort::strip_unrequested(&mut found, &req.attributes, &req.sort);
            }
        }
        Ok(found)
    }

    async fn search_each(
        &self,
        req: &SearchRequest,
        each: &mut (dyn FnMut(Entry) -> Result<()> + Send),
    ) -> Result<()> {
        if !req.sort.is_empty() || req.size_limit.is_some() || req.scope == Scope::Base {
            for e in self.search(req).await? {
                each(e)?;
            }
            return Ok(());
        }
        for a in &req.attributes {
            check_attribute_name(a)?;
        }
        req.filter.validate()?;
        let base = req.base.to_string();
        let filter = req.filter.to_string();
        let scope = ldap_scope(req.scope);
        let page = req.page_size.unwrap_or(self.pool.config().page_size).max(1);
        let each = std::sync::Mutex::new(each);
        let (base_ref, filter_ref, attrs_ref, each_ref) =
            (base.as_str(), filter.as_str(), &req.attributes, &each);
        // slapd keeps one paging state per connection: a paged search runs alone. Made to
        // stream many entries (a copy of every user), it may take up to 30 operation
        // timeouts in all.
        let limit = self.pool.config().operation_timeout * SEARCH_EACH_TIMEOUTS;
        self.run_within(
            limit,
            LdapOperation::Search,
            &base,
            true,
            Loan::Alone,
            |ldap| paged_each(ldap, base_ref, scope, filter_ref, attrs_ref, page, each_ref),
        )
        .await
    }

    async fn get(&self, dn: &Dn, attributes: &[&str]) -> Result<Option<Entry>> {
        let req = SearchRequest::new(dn.clone(), Scope::Base, Filter::present("objectClass"))
            .attributes(attributes.iter().copied());
        match self.search(&req).await {
            Ok(mut found) => Ok(found.pop()),
            Err(e) if e.code() == ErrorCode::EntryNotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn add(&self, entry: &Entry) -> Result<()> {
        let mut attrs = Vec::with_capacity(entry.attrs.len());
        for a in entry.attrs.iter() {
            check_attribute_name(a.name())?;
            reject_duplicates(&entry.dn, a.name(), a.values())?;
            attrs.push((a.name().as_bytes().to_vec(), to_set(a.values())));
        }
        let dn = entry.dn.to_string();
        let dn_ref = dn.as_str();
        self.write(
            LdapOperation::Add,
            dn_ref,
            Change::added(entry),
            |mut ldap| {
                let attrs = attrs.clone();
                async move {
                    ldap.add(dn_ref, attrs).await?.success()?;
                    Ok(())
                }
            },
        )
        .await
    }

    async fn modify_if(
        &self,
        dn: &Dn,
        changes: &[Modification],
        assertion: Option<&Filter>,
    ) -> Result<()> {
        let control = assertion.map(|a| assertion_control(dn, a)).transpose()?;
        if changes.is_empty() {
            // Nothing to write: the assertion alone is a read of the entry.
            return match assertion {
                None => Ok(()),
                Some(a) => self.check_assertion(dn, LdapOperation::Modify, a).await,
            };
        }
        let mut mods = Vec::with_capacity(changes.len());
        for c in changes {
            check_attribute_name(c.attr())?;
            mods.push(match c {
                Modification::Add { attr, values } => {
                    reject_duplicates(dn, attr, values)?;
                    Mod::Add(attr.as_bytes().to_vec(), to_set(values))
                }
                Modification::Delete { attr, values } => {
                    Mod::Delete(attr.as_bytes().to_vec(), to_set(values))
                }
                Modification::Replace { attr, values } => {
                    reject_duplicates(dn, attr, values)?;
                    Mod::Replace(attr.as_bytes().to_vec(), to_set(values))
                }
            });
        }
        let dn_s = dn.to_string();
        let dn_ref = dn_s.as_str();
        let control = control.as_ref();
        let change = Change::Written {
            dn: dn.clone(),
            classes: None,
            attributes: changes.iter().map(|c| c.attr().to_owned()).collect(),
        };
        self.write(LdapOperation::Modify, dn_ref, change, |mut ldap| {
            let mods = mods.clone();
            async move {
                if let Some(c) = control {
                    ldap.with_controls(vec![c.clone()]);
                }
                ldap.modify(dn_ref, mods).await?.success()?;
                Ok(())
            }
        })
        .await
    }

    async fn delete_if(&self, dn: &Dn, assertion: Option<&Filter>) -> Result<()> {
        let control = assertion.map(|a| assertion_control(dn, a)).transpose()?;
        let control = control.as_ref();
        let dn_s = dn.to_string();
        let dn_ref = dn_s.as_str();
        let change = Change::Deleted {
            dn: dn.clone(),
            cascade: true,
        };
        self.write(
            LdapOperation::Delete,
            dn_ref,
            change,
            |mut ldap| async move {
                if let Some(c) = control {
                    ldap.with_controls(vec![c.clone()]);
                }
                ldap.delete(dn_ref).await?.success()?;
                Ok(())
            },
        )
        .await
    }

    async fn rename(
        &self,
        dn: &Dn,
        new_rdn: &Rdn,
        delete_old_rdn: bool,
        new_superior: Option<&Dn>,
    ) -> Result<Dn> {
        let parent = match new_superior {
            Some(p) => p.clone(),
            None => dn.parent().ok_or_else(|| {
                Error::new(ErrorCode::InvalidDn, "the root DSE cannot be renamed")
            })?,
        };
        let new_dn = parent.child(new_rdn.clone());
        let dn_s = dn.to_string();
        let rdn_s = new_rdn.to_string();
        let sup_s = new_superior.map(ToString::to_string);
        let (dn_ref, rdn_ref, sup_ref) = (dn_s.as_str(), rdn_s.as_str(), sup_s.as_deref());
        let renamed = self
            .write(
                LdapOperation::Rename,
                dn_ref,
                Change::Unknown,
                |mut ldap| async move {
                    ldap.modifydn(dn_ref, rdn_ref, delete_old_rdn, sup_ref)
                        .await?
                        .success()?;
                    Ok(())
                },
            )
            .await;
        match renamed {
            Ok(()) => Ok(new_dn),
            // noSuchObject names either the entry or the new superior: tell which.
            Err(e) if e.code() == ErrorCode::EntryNotFound && new_superior.is_some() => {
                if self.get(dn, &["1.1"]).await?.is_some() {
                    Err(e
                        .with_code(ErrorCode::ParentNotFound)
                        .with_message(format!("the new superior '{parent}' does not exist")))
                } else {
                    Err(e)
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn check_password(&self, dn: &Dn, password: &str) -> Result<bool> {
        if password.is_empty() || dn.is_root() {
            return Ok(false);
        }
        let dn_s = dn.to_string();
        let limit = self.auth.config().operation_timeout;
        let deadline = tokio::time::Instant::now() + limit;
        // One retry on a fresh connection when the pooled one turned out dead (e.g. the
        // first login after the server restarted): a bind changes nothing, so it is safe.
        for attempt in 0..2 {
            let mut conn = self.auth.get_by(deadline, Loan::Shared).await?;
            let err = match timeout_at(deadline, conn.ldap.simple_bind(&dn_s, password)).await {
                Ok(Ok(res)) => {
                    return match res.rc {
                        0 => Ok(true),
                        // invalidCredentials: wrong password, unknown DN or locked account.
                        49 => Ok(false),
                        rc => Err(Error::from_ldap(
                            LdapOperation::CheckPassword,
                            rc,
                            &dn_s,
                            &res.text,
                        )),
                    };
                }
                Ok(Err(e)) => map_error(LdapOperation::CheckPassword, &dn_s, e).0,
                Err(_) => Error::timeout(LdapOperation::CheckPassword, limit),
            };
            conn.discard();
            if attempt > 0 || err.code() != ErrorCode::DirectoryUnavailable {
                return Err(err);
            }
        }
        Err(Error::unavailable("the password check could not be sent"))
    }

    async fn compare(&self, dn: &Dn, attr: &str, value: &[u8]) -> Result<bool> {
        check_attribute_name(attr)?;
        let dn_s = dn.to_string();
        let dn_ref = dn_s.as_str();
        self.run(
            LdapOperation::Compare,
            dn_ref,
            true,
            Loan::Shared,
            |mut ldap| async move {
                let res = ldap.compare(dn_ref, attr, value).await?.0;
                match res.rc {
                    6 => Ok(true),
                    // compareFalse, or noSuchAttribute: the entry lacks the attribute.
                    5 | 16 => Ok(false),
                    _ => Err(OpError::Ldap(LdapError::from(res))),
                }
            },
        )
        .await
    }

    async fn health(&self) -> Result<()> {
        self.run(
            LdapOperation::Search,
            "",
            true,
            Loan::Shared,
            |mut ldap| async move {
                ldap.extended(WhoAmI).await?.success()?;
                Ok(())
            },
        )
        .await
    }
}
