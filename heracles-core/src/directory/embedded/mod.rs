//! [`EmbeddedDirectory`]: an in-process, schema-aware, durable [`Directory`].
//!
//! It is the default directory of Heracles when no LDAP server is configured — for trying
//! Heracles, for testing code that uses the SDK, for Python scripts — and behaves like slapd
//! for everything Heracles does: the same schema files (see [`crate::schema`]), the same
//! checks with the same result codes (so the same [`ErrorCode`]s as [`LdapDirectory`]
//! produces for the same mistake), the same matching rules, and slapd's operational
//! attributes (`entryUUID`, `entryCSN`, `createTimestamp`, `modifyTimestamp`,
//! `creatorsName`, `modifiersName`, `structuralObjectClass`).
//!
//! Storage: one data file in the data folder (`data.redb`: entries, the DN order and the
//! equality indexes in copy-on-write B-trees, see `store.rs`), read through the kernel's
//! page cache, so the process's memory does not grow with the directory. Durability:
//! every write is one transaction, fsynced before the call returns; a crash leaves the
//! last committed state. Concurrency: any number of readers at once, each on the state of
//! the last commit; writers are serialised, and each operation is atomic — readers see it
//! whole or not at all.
//!
//! ```
//! use heracles_core::directory::{Directory, EmbeddedDirectory, Entry, Scope, SearchRequest};
//! use heracles_core::dn::{Dn, Rdn};
//! use heracles_core::filter::Filter;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let folder = tempfile::tempdir().unwrap();
//! let base = Dn::parse("dc=example,dc=com")?;
//! let dir = EmbeddedDirectory::open(folder.path(), &base)?;
//! dir.add(&Entry::new(base.clone())
//!     .with("objectClass", ["dcObject", "organization"])
//!     .with("dc", ["example"]).with("o", ["Example"])).await?;
//! let people = base.child(Rdn::new("ou", "people")?);
//! dir.add(&Entry::new(people.clone())
//!     .with("objectClass", ["organizationalUnit"]).with("ou", ["people"])).await?;
//! dir.add(&Entry::new(people.child(Rdn::new("uid", "jdoe")?))
//!     .with("objectClass", ["inetOrgPerson"])
//!     .with("uid", ["jdoe"]).with("cn", ["John Doe"]).with("sn", ["Doe"])).await?;
//!
//! // caseIgnoreMatch, like slapd:
//! let found = dir.search(&SearchRequest::new(people, Scope::One, Filter::eq("uid", "JDOE"))).await?;
//! assert_eq!(found.len(), 1);
//! # Ok::<(), heracles_core::Error>(()) }).unwrap();
//! ```
//!
//! [`LdapDirectory`]: crate::directory::LdapDirectory

mod eval;
mod log;
mod ops;
mod rules;
mod store;
mod time;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use async_trait::async_trait;

use self::log::{Log, LogOp};
use self::rules::Rules;
use self::store::{Id, Snapshot, Store, View, WriteTables};
use super::{
    check_attribute_name, sort, Change, ChangeLog, Directory, Entry, Marker, Modification, Scope,
    SearchRequest,
};
use crate::dn::{Dn, Rdn};
use crate::error::{Error, ErrorCode, LdapOperation, Result};
use crate::filter::Filter;
use crate::ldif::{LdifReader, LdifRecord, LdifWriter};
use crate::schema::Schema;

/// Changes made durable together by [`EmbeddedDirectory::import_ldif`].
pub const IMPORT_BATCH: usize = 2000;

/// The writer side: serialises every write.
#[derive(Debug)]
struct Writer {
    csn_counter: u32,
}

/// The embedded directory: an in-process, schema-aware, durable [`Directory`] that behaves
/// like slapd for everything Heracles does. Share it behind an `Arc`.
///
/// - **Schema**: the built-in schema ([`Schema::builtin`]: equivalents of slapd's core,
///   cosine, inetorgperson, nis, misc plus the project's own), enforced with slapd's checks,
///   order and result codes, so errors carry the same [`ErrorCode`]s as [`LdapDirectory`]'s.
/// - **Matching**: each attribute's equality, ordering and substring rules; filter items
///   without a rule are undefined (no match), as in slapd.
/// - **Storage**: entries, the DN order and the indexes live in one data file
///   (`data.redb` in the data folder), read through the kernel's page cache: the
///   process holds a bounded cache of its pages (16 MiB), not the directory, so its memory
///   does not grow with the number of entries.
/// - **Indexes**: equality indexes on the attributes Heracles looks things up by; substring
///   filters on indexed attributes scan the index keys, not the entries. A search costs
///   what its most selective index costs: an `&` takes the smallest of its items' index
///   sets (sized, never copied), so `(&(objectClass=inetOrgPerson)(uid=x))` evaluates one
///   entry whatever the directory's size; the filter is prepared once per search
///   (attribute names resolved, assertions normalised), and an equality on an attribute
///   with many values (a group's `member`s) is answered from the index.
/// - **Durability**: every write is one transaction, fsynced before the call returns; a
///   crash leaves the last committed state.
/// - **Concurrency**: many readers at once, each on a consistent snapshot; writes are
///   serialised; each operation is atomic (readers see all of it or none).
/// - **Not emulated**: slapd overlays (memberof, refint, ppolicy lockout counting). Heracles'
///   services keep group membership consistent themselves and throttle logins themselves;
///   a `pwdAccountLockedTime` value does block password checks, as ppolicy's does.
///
/// [`ErrorCode`]: crate::ErrorCode
/// [`LdapDirectory`]: crate::directory::LdapDirectory
#[derive(Debug)]
pub struct EmbeddedDirectory {
    rules: Rules,
    /// Exclusive only to compact the data file.
    store: RwLock<Store>,
    writer: Mutex<Writer>,
    /// Every change since the directory was opened: the change marker is its position.
    changes: Arc<ChangeLog>,
    /// The tables as of the last commit, shared by every read until the next one (a read
    /// transaction and its tables cost more to open than most reads cost); `None` until a
    /// read opens them.
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    suffix: Dn,
    identity: Dn,
    path: PathBuf,
}

/// Statistics about an embedded directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedStats {
    /// Number of entries.
    pub entries: usize,
    /// Size of the data file, in bytes.
    pub file_bytes: u64,
}

/// An error as slapd would report it for the same mistake.
pub(super) fn ldap_error(op: LdapOperation, rc: u32, dn: &Dn, text: &str) -> Error {
    Error::from_ldap(op, rc, &dn.to_string(), text)
}

/// Applies one operation of a batch inside a write; returns the change, for the change log,
/// and the id of the entry it touched.
fn apply(
    rules: &Rules,
    t: &mut WriteTables<'_>,
    meta: &mut redb::Table<'_, &'static str, u64>,
    op: &LogOp,
) -> Result<(Change, Option<Id>)> {
    match op {
        LogOp::Put(e) => t.put(rules, meta, e).map(|(c, id)| (c, Some(id))),
        LogOp::Delete(dn) => t.remove(rules, dn),
    }
}

/// Legacy data files (a snapshot and a log, before the data file) a folder may hold.
const LEGACY_FILES: [&str; 2] = ["snapshot", "wal"];

impl EmbeddedDirectory {
    /// Opens (creating if needed) the directory stored in `folder`, holding the naming
    /// context `suffix`, with the built-in schema (the same files the test slapd loads).
    pub fn open(folder: impl AsRef<Path>, suffix: &Dn) -> Result<Self> {
        Self::open_with_schema(folder, suffix, Schema::builtin())
    }

    /// Like [`EmbeddedDirectory::open`] with an explicit schema.
    ///
    /// A folder written by an earlier version (a `snapshot` and a `wal` file) is moved
    /// into the data file on its first open; the old files are then kept as
    /// `snapshot.migrated` and `wal.migrated`.
    pub fn open_with_schema(folder: impl AsRef<Path>, suffix: &Dn, schema: Schema) -> Result<Self> {
        let path = folder.as_ref().to_owned();
        if suffix.is_root() {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                "the embedded directory needs a non-empty base DN",
            ));
        }
        std::fs::create_dir_all(&path).map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("cannot create '{}': {e}", path.display()),
            )
            .with_detail("path", path.display().to_string())
        })?;
        let rules = Rules::new(Arc::new(schema));
        let store = Store::open(&path)?;
        migrate_legacy(&rules, &store, &path)?;
        // Entries sort root first: the first one must lie in this naming context, or the
        // folder belongs to another base DN.
        if let Some(first) = store.read()?.first()? {
            if !first.dn.is_descendant_or_self(suffix) {
                return Err(Error::new(
                    ErrorCode::InvalidConfig,
                    format!(
                        "the data folder '{}' holds '{}', which is not below the base DN '{suffix}'",
                        path.display(),
                        first.dn
                    ),
                )
                .with_detail("path", path.display().to_string()));
            }
        }
        let identity = suffix.child(Rdn::new("cn", "admin")?);
        Ok(EmbeddedDirectory {
            rules,
            store: RwLock::new(store),
            writer: Mutex::new(Writer { csn_counter: 0 }),
            changes: Arc::default(),
            snapshot: RwLock::new(None),
            suffix: suffix.clone(),
            identity,
            path,
        })
    }

    /// The naming context this directory holds.
    pub fn suffix(&self) -> &Dn {
        &self.suffix
    }

    /// The folder the directory is stored in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema in use.
    pub fn schema(&self) -> &Schema {
        self.rules.schema()
    }

    /// Number of entries and size of the data file.
    pub fn stats(&self) -> Result<EmbeddedStats> {
        let entries = self.tables()?.len()?;
        let file = self.path.join(store::DATA_FILE);
        let file_bytes = std::fs::metadata(&file)
            .map_err(|e| {
                Error::new(
                    ErrorCode::Internal,
                    format!("cannot read the size of '{}': {e}", file.display()),
                )
                .with_detail("path", file.display().to_string())
            })?
            .len();
        Ok(EmbeddedStats {
            entries,
            file_bytes,
        })
    }

    /// Gives back the data file's unused space (after deleting many entries, say). Waits
    /// for writes in progress; fails while searches are in progress.
    pub fn compact(&self) -> Result<()> {
        let _w = self.lock_writer();
        // The shared snapshot is a read in progress too.
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.store
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .compact()
    }

    /// The tables as of the last write.
    fn tables(&self) -> Result<Arc<Snapshot>> {
        let shared = self.snapshot.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(tables) = shared.as_ref() {
            return Ok(Arc::clone(tables));
        }
        drop(shared);
        let fresh = Arc::new(Snapshot::after(self.store().read()?, None, &[]));
        let mut shared = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // Only if no write has put a newer one meanwhile.
        if shared.is_none() {
            *shared = Some(Arc::clone(&fresh));
        }
        Ok(fresh)
    }

    /// After a commit (under the writer's lock): later reads see it.
    fn committed(&self, changes: Vec<(Change, Option<Id>)>) {
        let touched: Vec<Id> = changes.iter().filter_map(|(_, id)| *id).collect();
        let tables = self.store().read();
        let mut shared = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        // If the new tables cannot be opened, the next read tries again.
        *shared = tables
            .ok()
            .map(|t| Arc::new(Snapshot::after(t, shared.as_deref(), &touched)));
        drop(shared);
        for (c, _) in changes {
            self.changes.record(c);
        }
    }

    /// The data file (shared: only [`EmbeddedDirectory::compact`] takes it alone).
    fn store(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one write: `build` computes its operations from the current state, they are
    /// applied in one transaction, made durable, then logged as changes.
    fn write(
        &self,
        build: impl FnOnce(&dyn View, &mut ops::Stamp) -> Result<Vec<LogOp>>,
    ) -> Result<()> {
        let mut w = self.lock_writer();
        w.csn_counter = w.csn_counter.wrapping_add(1);
        let mut stamp = ops::Stamp::now(&self.identity, w.csn_counter);
        let txn = self.store().begin()?;
        let changes = txn.with_tables(|t, meta| {
            let batch = build(&*t, &mut stamp)?;
            batch
                .iter()
                .map(|op| apply(&self.rules, t, meta, op))
                .collect::<Result<Vec<_>>>()
        })?;
        if changes.is_empty() {
            return txn.abort();
        }
        txn.commit()?;
        self.committed(changes);
        Ok(())
    }

    /// Loads LDIF (content records are added; change records are applied), as `ldapadd` /
    /// `ldapmodify` would, except that operational attributes in the input (`entryUUID`,
    /// timestamps, ...) are kept, as `slapadd` does, so an export re-imports unchanged.
    ///
    /// Records are checked one by one like any write, and made durable in transactions of
    /// about `IMPORT_BATCH` (2000) changes (one fsync each, which is what makes bulk loads
    /// fast); a failing record stops the import with an error naming it, and the records
    /// before it stay. `progress` is called after every record with the number done so far.
    pub fn import_ldif(
        &self,
        input: impl BufRead,
        mut progress: impl FnMut(usize),
    ) -> Result<usize> {
        let mut done = 0usize;
        let mut reader = LdifReader::new(input);
        loop {
            let mut w = self.lock_writer();
            let txn = self.store().begin()?;
            let mut failure = None;
            let mut finished = true;
            let changes = txn.with_tables(|t, meta| {
                let mut changes = Vec::new();
                for record in reader.by_ref() {
                    let outcome = record.and_then(|record| {
                        let dn = record.dn().clone();
                        w.csn_counter = w.csn_counter.wrapping_add(1);
                        let mut stamp = ops::Stamp::now(&self.identity, w.csn_counter);
                        self.import_record(&*t, &mut stamp, &record).map_err(|e| {
                            e.with_detail("record", done + 1)
                                .with_detail("record_dn", dn.to_string())
                        })
                    });
                    match outcome {
                        Ok(ops) => {
                            for op in &ops {
                                changes.push(apply(&self.rules, t, meta, op)?);
                            }
                            done += 1;
                            progress(done);
                            if changes.len() >= IMPORT_BATCH {
                                finished = false;
                                break;
                            }
                        }
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    }
                }
                Ok(changes)
            })?;
            if changes.is_empty() {
                txn.abort()?;
            } else {
                txn.commit()?;
                self.committed(changes);
            }
            if let Some(e) = failure {
                return Err(e);
            }
            if finished {
                break;
            }
        }
        Ok(done)
    }

    /// The operations of one LDIF record.
    fn import_record(
        &self,
        st: &dyn View,
        stamp: &mut ops::Stamp,
        record: &LdifRecord,
    ) -> Result<Vec<LogOp>> {
        match record {
            LdifRecord::Content(e) | LdifRecord::Add(e) => {
                ops::add(&self.rules, st, stamp, &self.suffix, e, true)
            }
            LdifRecord::Modify { dn, changes } => ops::modify(&self.rules, st, stamp, dn, changes),
            LdifRecord::Delete { dn } => ops::delete(st, dn),
            LdifRecord::ModRdn {
                dn,
                new_rdn,
                delete_old_rdn,
                new_superior,
            } => ops::rename(
                &self.rules,
                st,
                stamp,
                dn,
                new_rdn,
                *delete_old_rdn,
                new_superior.as_ref(),
            )
            .map(|(ops, _)| ops),
        }
    }

    /// Writes every entry, parents first, with operational attributes, as LDIF (a backup
    /// that [`EmbeddedDirectory::import_ldif`] restores). Returns the number of entries.
    pub fn export_ldif(&self, out: impl std::io::Write) -> Result<usize> {
        let st = self.tables()?;
        let mut w = LdifWriter::new(out);
        let mut n = 0;
        st.for_each(|e| {
            w.write_entry(e)?;
            n += 1;
            Ok(())
        })?;
        Ok(n)
    }
    /// The entries of `st` that `req` selects (scope and filter), at most `limit`.
    fn matching(
        &self,
        st: &Snapshot,
        req: &SearchRequest,
        limit: usize,
        project: &ops::Projection<'_>,
    ) -> Result<Vec<Entry>> {
        let mut matched: Vec<Entry> = Vec::new();
        let matcher = eval::Matcher::with_index(&self.rules, &req.filter, st.tables());
        let mut consider = |id: Id, e: Arc<Entry>| {
            if matcher.matches_id(&e, id) {
                matched.push(project.apply(&e));
            }
            matched.len() < limit
        };
        // A base search looks at its one entry, whatever an index would offer.
        let plan = if req.scope == Scope::Base {
            None
        } else {
            matcher.plan()?
        };
        if let Some(ids) = plan {
            for id in ids.into_iter() {
                let id = id?;
                if let Some(e) = st.entry(id)? {
                    if req.scope.includes(&req.base, &e.dn) && !consider(id, e) {
                        break;
                    }
                }
            }
        } else {
            match req.scope {
                Scope::Base => {
                    if let Some(id) = st.id_of(&req.base)? {
                        if let Some(e) = st.entry(id)? {
                            consider(id, e);
                        }
                    }
                }
                Scope::One | Scope::Subtree => {
                    let depth = req.base.len() + 1;
                    st.for_subtree(&req.base, |d, id| {
                        if req.scope == Scope::One && d != depth {
                            return Ok(true);
                        }
                        Ok(match st.entry(id)? {
                            Some(e) => consider(id, e),
                            None => true,
                        })
                    })?;
                }
            }
        }
        if let Some(e) = matcher.failure() {
            return Err(e);
        }
        Ok(matched)
    }
}

/// Moves the entries of a folder written by an earlier version (a snapshot plus a log)
/// into the data file, in one transaction, then renames the old files (`*.migrated`).
fn migrate_legacy(rules: &Rules, store: &Store, path: &Path) -> Result<()> {
    if !LEGACY_FILES.iter().any(|f| path.join(f).exists()) {
        return Ok(());
    }
    let (log, recovered) = Log::open(path)?;
    let txn = store.begin()?;
    let entries = recovered.snapshot.len();
    txn.with_tables(|t, meta| {
        for e in recovered.snapshot {
            t.put(rules, meta, &e)?;
        }
        for op in recovered.batches.iter().flatten() {
            apply(rules, t, meta, op)?;
        }
        Ok(())
    })?;
    txn.commit()?;
    drop(log);
    for f in LEGACY_FILES {
        let from = path.join(f);
        if from.exists() {
            let to = path.join(format!("{f}.migrated"));
            std::fs::rename(&from, &to).map_err(|e| {
                Error::new(
                    ErrorCode::Internal,
                    format!("cannot rename '{}': {e}", from.display()),
                )
                .with_detail("path", from.display().to_string())
            })?;
        }
    }
    tracing::info!(
        path = %path.display(),
        entries,
        "moved the embedded directory's snapshot and log into its data file"
    );
    Ok(())
}

#[async_trait]
impl Directory for EmbeddedDirectory {
    async fn search(&self, req: &SearchRequest) -> Result<Vec<Entry>> {
        for a in &req.attributes {
            check_attribute_name(a)?;
        }
        req.filter.validate()?;
        let st = self.tables()?;
        if !st.contains(&req.base)? {
            return Err(ldap_error(LdapOperation::Search, 32, &req.base, ""));
        }
        if req.size_limit == Some(0) {
            return Ok(Vec::new());
        }
        for k in &req.sort {
            check_attribute_name(&k.attr)?;
        }
        // Sorting needs every match first; the limit then applies to the sorted list.
        let limit = if req.sort.is_empty() {
            req.size_limit.unwrap_or(usize::MAX)
        } else {
            usize::MAX
        };
        if req.sort.is_empty() {
            let project = ops::Projection::new(&self.rules, &req.attributes);
            return self.matching(&st, req, limit, &project);
        }
        // Sort projections carrying the sort keys, not whole entries (projected as they
        // are found); then drop the keys the caller did not ask for.
        let mut keyed = req.attributes.clone();
        if !keyed.is_empty() {
            keyed.extend(req.sort.iter().map(|k| k.attr.clone()));
        }
        let with_keys = ops::Projection::new(&self.rules, &keyed);
        let mut found = self.matching(&st, req, limit, &with_keys)?;
        drop(st);
        sort::sort_entries(self.rules.schema(), &mut found, &req.sort);
        found.truncate(req.size_limit.unwrap_or(usize::MAX));
        if !req.attributes.is_empty() {
            sort::strip_unrequested(&mut found, &req.attributes, &req.sort);
        }
        Ok(found)
    }

    fn keeps_member_of(&self) -> Option<bool> {
        Some(false)
    }

    async fn change_marker(&self, _base: &Dn) -> Result<Option<Marker>> {
        Ok(Some(Marker::logged("embedded", &self.changes)))
    }

    async fn get(&self, dn: &Dn, attributes: &[&str]) -> Result<Option<Entry>> {
        for a in attributes {
            check_attribute_name(a)?;
        }
        let found = self.tables()?.entry_at(dn)?;
        let attrs: Vec<String> = attributes.iter().map(|a| (*a).to_owned()).collect();
        let project = ops::Projection::new(&self.rules, &attrs);
        Ok(found.map(|e| project.apply(&e)))
    }

    async fn add(&self, entry: &Entry) -> Result<()> {
        self.write(|st, stamp| ops::add(&self.rules, st, stamp, &self.suffix, entry, false))
    }

    async fn modify_if(
        &self,
        dn: &Dn,
        changes: &[Modification],
        assertion: Option<&Filter>,
    ) -> Result<()> {
        if changes.is_empty() {
            return match assertion {
                Some(a) => ops::assert(
                    &self.rules,
                    self.tables()?.tables(),
                    LdapOperation::Modify,
                    dn,
                    a,
                ),
                None => Ok(()),
            };
        }
        self.write(|st, stamp| {
            if let Some(a) = assertion {
                ops::assert(&self.rules, st, LdapOperation::Modify, dn, a)?;
            }
            ops::modify(&self.rules, st, stamp, dn, changes)
        })
    }

    async fn delete_if(&self, dn: &Dn, assertion: Option<&Filter>) -> Result<()> {
        self.write(|st, _| {
            if let Some(a) = assertion {
                ops::assert(&self.rules, st, LdapOperation::Delete, dn, a)?;
            }
            ops::delete(st, dn)
        })
    }

    async fn rename(
        &self,
        dn: &Dn,
        new_rdn: &Rdn,
        delete_old_rdn: bool,
        new_superior: Option<&Dn>,
    ) -> Result<Dn> {
        let mut new_dn = None;
        self.write(|st, stamp| {
            let (ops, dn2) = ops::rename(
                &self.rules,
                st,
                stamp,
                dn,
                new_rdn,
                delete_old_rdn,
                new_superior,
            )?;
            new_dn = Some(dn2);
            Ok(ops)
        })?;
        new_dn.ok_or_else(|| Error::internal("rename produced no DN"))
    }

    async fn check_password(&self, dn: &Dn, password: &str) -> Result<bool> {
        if password.is_empty() {
            return Ok(false);
        }
        let Some(entry) = self.tables()?.entry_at(dn)? else {
            return Ok(false);
        };
        // ppolicy: a locked account cannot bind.
        if !entry.get("pwdAccountLockedTime").is_empty() {
            return Ok(false);
        }
        // Hash verification is deliberately slow (argon2: tens of ms): keep it off the
        // async workers.
        let stored: Vec<Vec<u8>> = entry.get("userPassword").to_vec();
        let password = password.to_owned();
        let verify = move || -> Result<bool> {
            for s in &stored {
                if crate::password::verify(&password, s)? {
                    return Ok(true);
                }
            }
            Ok(false)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => handle
                .spawn_blocking(verify)
                .await
                .map_err(|e| Error::internal(format!("password check failed: {e}")))?,
            Err(_) => verify(),
        }
    }

    async fn compare(&self, dn: &Dn, attr: &str, value: &[u8]) -> Result<bool> {
        check_attribute_name(attr)?;
        let Some(entry) = self.tables()?.entry_at(dn)? else {
            return Err(ldap_error(LdapOperation::Compare, 32, dn, ""));
        };
        if !self.rules.is_known(attr) {
            return Err(ldap_error(LdapOperation::Compare, 17, dn, attr));
        }
        let Some(_) = self.rules.equality(attr) else {
            return Err(ldap_error(LdapOperation::Compare, 18, dn, attr));
        };
        Ok(eval::matches(&self.rules, &Filter::eq(attr, value), &entry))
    }

    async fn health(&self) -> Result<()> {
        self.tables().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::fmt::Write as _;

    use super::{eval, EmbeddedDirectory};
    use crate::directory::{Directory, Scope, SearchRequest};
    use crate::dn::Dn;
    use crate::filter::Filter;

    const USERS: usize = 300;

    /// `USERS` people (mail on even ones only), three more one level deeper, and groups.
    fn directory() -> (tempfile::TempDir, EmbeddedDirectory) {
        let folder = tempfile::tempdir().unwrap();
        let base = Dn::parse("dc=example,dc=com").unwrap();
        let dir = EmbeddedDirectory::open(folder.path(), &base).unwrap();
        let mut ldif = String::from(
            "dn: dc=example,dc=com\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
             dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n\
             dn: ou=sub,ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: sub\n\n\
             dn: ou=groups,dc=example,dc=com\nobjectClass: organizationalUnit\nou: groups\n\n",
        );
        let person = |ldif: &mut String, uid: &str, parent: &str, i: usize| {
            write!(
                ldif,
                "dn: uid={uid},{parent}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n\
                 uid: {uid}\ncn: User {i}\nsn: {i}\nuidNumber: {}\ngidNumber: 100\n\
                 homeDirectory: /home/{uid}\n",
                10_000 + i
            )
            .unwrap();
            if i.is_multiple_of(2) {
                writeln!(ldif, "mail: {uid}@example.com").unwrap();
            }
            ldif.push('\n');
        };
        for i in 0..USERS {
            person(
                &mut ldif,
                &format!("u{i}"),
                "ou=people,dc=example,dc=com",
                i,
            );
        }
        for i in 0..3 {
            person(
                &mut ldif,
                &format!("s{i}"),
                "ou=sub,ou=people,dc=example,dc=com",
                i,
            );
        }
        for g in 0..5 {
            write!(
                ldif,
                "dn: cn=g{g},ou=groups,dc=example,dc=com\nobjectClass: groupOfNames\ncn: g{g}\n"
            )
            .unwrap();
            for i in (g..USERS).step_by(7) {
                writeln!(ldif, "member: uid=u{i},ou=people,dc=example,dc=com").unwrap();
            }
            ldif.push('\n');
        }
        dir.import_ldif(ldif.as_bytes(), |_| {}).unwrap();
        (folder, dir)
    }

    fn dns(entries: impl IntoIterator<Item = Dn>) -> BTreeSet<String> {
        entries.into_iter().map(|dn| dn.to_string()).collect()
    }

    /// What a scan of every entry, without indexes, selects.
    fn scanned(
        dir: &EmbeddedDirectory,
        base: &Dn,
        scope: Scope,
        filter: &Filter,
    ) -> BTreeSet<String> {
        let st = dir.tables().unwrap();
        let mut out = Vec::new();
        st.for_each(|e| {
            if scope.includes(base, &e.dn) && eval::matches(&dir.rules, filter, e) {
                out.push(e.dn.clone());
            }
            Ok(())
        })
        .unwrap();
        dns(out)
    }

    #[test]
    fn an_and_costs_what_its_most_selective_item_costs() {
        let (_folder, dir) = directory();
        let st = dir.tables().unwrap();
        let size = |f: &str| {
            let filter = Filter::parse(f).unwrap();
            eval::Matcher::with_index(&dir.rules, &filter, &st)
                .plan()
                .unwrap()
                .map(|ids| ids.len())
        };
        assert_eq!(size("(objectClass=inetOrgPerson)"), Some(USERS + 3));
        // The class's set is sized, not copied; the unique uid wins whatever the order.
        assert_eq!(size("(&(objectClass=inetOrgPerson)(uid=u7))"), Some(1));
        assert_eq!(size("(&(uid=U7)(objectClass=inetOrgPerson))"), Some(1));
        assert_eq!(size("(&(objectClass=inetOrgPerson)(uid=nobody))"), Some(0));
        // A union is built only when the lookups leave many candidates.
        assert_eq!(
            size("(&(objectClass=inetOrgPerson)(|(uid=u1)(uid=u2)(uid=nobody)))"),
            Some(2)
        );
        assert_eq!(
            size("(&(objectClass=inetOrgPerson)(cn=User 29*))"),
            Some(11)
        );
        // Items without an index do not narrow; an And of them alone cannot be planned.
        assert_eq!(
            size("(&(objectClass=inetOrgPerson)(!(uid=u7))(description=x))"),
            Some(USERS + 3)
        );
        assert_eq!(size("(&(description=x)(!(uid=u7)))"), None);
        // An item undefined for every entry (unknown attribute) leaves nothing to evaluate.
        assert_eq!(
            size("(&(objectClass=inetOrgPerson)(noSuchAttribute=x))"),
            Some(0)
        );
        assert_eq!(
            size("(|(member=uid=u3,ou=people,dc=example,dc=com)(noSuchAttribute=x))"),
            Some(1)
        );
    }

    #[tokio::test]
    async fn planned_searches_select_what_a_full_scan_selects() {
        let (_folder, dir) = directory();
        let base = Dn::parse("dc=example,dc=com").unwrap();
        let people = Dn::parse("ou=people,dc=example,dc=com").unwrap();
        let u7 = Dn::parse("uid=u7,ou=people,dc=example,dc=com").unwrap();
        let half = USERS / 2;
        // (filter, expected number of matches in the subtree of the base)
        let cases: &[(&str, usize)] = &[
            ("(&(objectClass=inetOrgPerson)(uid=u7))", 1),
            ("(&(objectClass=inetOrgPerson)(uid=U7))", 1),
            ("(&(objectClass=inetOrgPerson)(!(uid=u7)))", USERS + 2),
            (
                "(&(objectClass=inetOrgPerson)(|(uid=u1)(uid=u2)(uid=nobody)))",
                2,
            ),
            ("(&(objectClass=inetOrgPerson)(mail=*))", half + 2),
            ("(&(objectClass=inetOrgPerson)(!(mail=*)))", half + 1),
            ("(&(objectClass=inetOrgPerson)(mail=u8@EXAMPLE.com))", 1),
            ("(&(objectClass=inetOrgPerson)(mail=u7@example.com))", 0),
            ("(&(objectClass=inetOrgPerson)(description=x))", 0),
            (
                "(&(objectClass=inetOrgPerson)(!(description=x)))",
                USERS + 3,
            ),
            // Undefined (unknown attribute; no ordering rule on uid) never selects, even
            // negated: only the 9 entries that are not people (the And is false) do.
            ("(&(objectClass=inetOrgPerson)(noSuchAttribute=x))", 0),
            ("(!(&(objectClass=inetOrgPerson)(noSuchAttribute=x)))", 9),
            ("(!(noSuchAttribute=x))", 0),
            ("(&(objectClass=inetOrgPerson)(|(uid=u3)(uid>=u)))", 1),
            ("(&(uid=u7)(uid=u8))", 0),
            ("(&(objectClass=inetOrgPerson)(cn=user 29*))", 11),
            ("(&(objectClass=inetOrgPerson)(uidNumber>=10290))", 10),
            (
                "(&(objectClass=posixAccount)(uidNumber<=10001)(commonName=User 1))",
                2,
            ),
            (
                "(|(member=UID=u3,ou=people,dc=example,dc=com)(memberUid=u3))",
                1,
            ),
            (
                "(&(objectClass=groupOfNames)(member=uid=u7,ou=people,dc=example,dc=com))",
                1,
            ),
            (
                "(&(objectClass=groupOfNames)(!(member=uid=u7,ou=people,dc=example,dc=com)))",
                4,
            ),
        ];
        for (text, expected) in cases {
            let filter = Filter::parse(text).unwrap();
            // (A base search looks at its entry only, never at an index's candidates.)
            for (at, scope) in [
                (&base, Scope::Subtree),
                (&people, Scope::One),
                (&u7, Scope::Base),
            ] {
                let found = dir
                    .search(&SearchRequest::new(at.clone(), scope, filter.clone()))
                    .await
                    .unwrap();
                let found = dns(found.into_iter().map(|e| e.dn));
                assert_eq!(found, scanned(&dir, at, scope, &filter), "{text} {scope:?}");
                if scope == Scope::Subtree {
                    assert_eq!(found.len(), *expected, "{text}: {found:?}");
                }
            }
        }
        // One level: the people one level deeper are out of scope.
        let sub = Filter::parse("(&(objectClass=inetOrgPerson)(uid=s1))").unwrap();
        let one = dir
            .search(&SearchRequest::new(people.clone(), Scope::One, sub.clone()))
            .await
            .unwrap();
        assert!(one.is_empty());
        let all = dir
            .search(&SearchRequest::new(people, Scope::Subtree, sub))
            .await
            .unwrap();
        assert_eq!(all.len(), 1);
    }

    #[tokio::test]
    async fn a_folder_of_the_earlier_format_is_moved_into_the_data_file() {
        use super::log::{Log, LogOp};
        use crate::directory::Entry;

        let folder = tempfile::tempdir().unwrap();
        let base = Dn::parse("dc=example,dc=com").unwrap();
        let person = |uid: &str| {
            Entry::new(Dn::parse(&format!("uid={uid},dc=example,dc=com")).unwrap())
                .with("objectClass", ["inetOrgPerson"])
                .with("uid", [uid])
                .with("cn", [uid])
                .with("sn", [uid])
        };
        let top = Entry::new(base.clone())
            .with("objectClass", ["dcObject", "organization"])
            .with("dc", ["example"])
            .with("o", ["Example"]);
        {
            // A snapshot holding the base and `a`, then a log adding `b` and `c` and
            // deleting `a`.
            let (mut log, _) = Log::open(folder.path()).unwrap();
            let (t, a) = (top.clone(), person("a"));
            log.compact([&t, &a].into_iter()).unwrap();
            log.append(&[LogOp::Put(person("b")), LogOp::Put(person("c"))])
                .unwrap();
            log.append(&[LogOp::Delete(person("a").dn)]).unwrap();
        }
        let uids = |dir: &EmbeddedDirectory| {
            let found = people_below(dir, &base);
            let mut uids: Vec<String> = found
                .iter()
                .filter_map(|e| e.first_str("uid").map(str::to_owned))
                .collect();
            uids.sort();
            uids
        };
        {
            let dir = EmbeddedDirectory::open(folder.path(), &base).unwrap();
            assert_eq!(uids(&dir), ["b", "c"]);
            // Indexed like any entry.
            let found = dir
                .search(&SearchRequest::new(
                    base.clone(),
                    Scope::Subtree,
                    Filter::eq("uid", "C"),
                ))
                .await
                .unwrap();
            assert_eq!(found.len(), 1);
            assert_eq!(dir.stats().unwrap().entries, 3);
        }
        assert!(!folder.path().join("snapshot").exists());
        assert!(folder.path().join("wal.migrated").exists());
        // Reopened: read from the data file alone.
        let dir = EmbeddedDirectory::open(folder.path(), &base).unwrap();
        assert_eq!(uids(&dir), ["b", "c"]);
        // A second opener of the same folder is refused while this one holds it.
        let err = EmbeddedDirectory::open(folder.path(), &base).unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidConfig);
    }

    /// Every entry with a `uid` below `base`, read without a runtime.
    fn people_below(dir: &EmbeddedDirectory, base: &Dn) -> Vec<crate::directory::Entry> {
        let req = SearchRequest::new(base.clone(), Scope::Subtree, Filter::present("uid"));
        let st = dir.tables().unwrap();
        let all = super::ops::Projection::new(&dir.rules, &[]);
        dir.matching(&st, &req, usize::MAX, &all).unwrap()
    }
}
