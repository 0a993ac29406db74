//! The audit trail: logins recorded by the core, a change made under the write protocol
//! (event written first, completed after), secrets redacted in the recorded changes, what
//! happens when the audit trail cannot be written (no event, no change), listing with
//! filters and a time range, and retention.
//!
//! ```sh
//! cargo run -p heracles-examples --example audit
//! ```

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use heracles_core::audit::{action, diff, format_time, object_type, AuditContext};
use heracles_core::directory::{Directory, EmbeddedDirectory, Entry, Modification, SearchRequest};
use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::Filter;
use heracles_core::service::{Container, Heracles, ListQuery, Principal};
use heracles_core::ErrorCode;
use serde_json::{json, Map, Value};

/// A JSON object literal as the field map the services take.
fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A directory whose audit container refuses every write, as a full or broken audit
/// backend would; everything else goes to the real directory.
#[derive(Debug)]
struct NoAudit {
    inner: Arc<dyn Directory>,
    audit: Dn,
}

impl NoAudit {
    fn check(&self, dn: &Dn) -> heracles_core::Result<()> {
        if dn.is_descendant_of(&self.audit) {
            return Err(heracles_core::Error::unavailable("the audit store is down"));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Directory for NoAudit {
    async fn search(&self, req: &SearchRequest) -> heracles_core::Result<Vec<Entry>> {
        self.inner.search(req).await
    }
    async fn get(&self, dn: &Dn, attrs: &[&str]) -> heracles_core::Result<Option<Entry>> {
        self.inner.get(dn, attrs).await
    }
    async fn add(&self, entry: &Entry) -> heracles_core::Result<()> {
        self.check(&entry.dn)?;
        self.inner.add(entry).await
    }
    async fn modify_if(
        &self,
        dn: &Dn,
        changes: &[Modification],
        assertion: Option<&Filter>,
    ) -> heracles_core::Result<()> {
        self.check(dn)?;
        self.inner.modify_if(dn, changes, assertion).await
    }
    async fn delete_if(&self, dn: &Dn, assertion: Option<&Filter>) -> heracles_core::Result<()> {
        self.inner.delete_if(dn, assertion).await
    }
    async fn rename(
        &self,
        dn: &Dn,
        rdn: &Rdn,
        delete_old: bool,
        superior: Option<&Dn>,
    ) -> heracles_core::Result<Dn> {
        self.inner.rename(dn, rdn, delete_old, superior).await
    }
    async fn check_password(&self, dn: &Dn, password: &str) -> heracles_core::Result<bool> {
        self.inner.check_password(dn, password).await
    }
    async fn compare(&self, dn: &Dn, attr: &str, value: &[u8]) -> heracles_core::Result<bool> {
        self.inner.compare(dn, attr, value).await
    }
    async fn health(&self) -> heracles_core::Result<()> {
        self.inner.health().await
    }
}

/// Changes jdoe's mail under the write protocol: the event is written (pending) before the
/// change and completed with the changed attributes after it.
async fn audited_change(
    h: &Heracles,
    admin: &Principal,
    ctx: &AuditContext,
    dn: &Dn,
    mail: &str,
) -> heracles_core::Result<()> {
    h.audit()
        .audited(ctx, action::MODIFY, object_type::USER, dn, || async {
            let before = h.directory().get(dn, &[]).await?;
            h.users()
                .update(admin, "jdoe", &fields(json!({"mail": mail})))
                .await?;
            h.users()
                .set_password(admin, "jdoe", None, "Another-Passw0rd-2")
                .await?;
            let after = h.directory().get(dn, &[]).await?;
            Ok(((), diff(before.as_ref(), after.as_ref())))
        })
        .await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::temp_dir().join(format!("heracles-audit-{}", std::process::id()));
    let base = Dn::parse("dc=example,dc=com")?;
    let dir: Arc<dyn Directory> = Arc::new(EmbeddedDirectory::open(&folder, &base)?);
    let h = Heracles::new(dir.clone(), base.clone());
    h.bootstrap(Some("Admin-Passw0rd-1")).await?;
    let admin = Principal::system(&base);
    let started = SystemTime::now();

    // Logins: every attempt is an event; failures all answer INVALID_CREDENTIALS, the
    // trail says why.
    let jdoe = h
        .users()
        .create(
            &admin,
            &fields(json!({"uid": "jdoe", "cn": "John Doe", "sn": "Doe",
                           "mail": "jdoe@example.com", "userPassword": "SecureP@ss123"})),
        )
        .await?;
    let web = AuditContext::new(None, "req-login-1", Some("192.0.2.10".into()));
    h.users().login(&web, "jdoe", "SecureP@ss123").await?;
    for (who, password) in [("jdoe", "wrong-password"), ("ghost", "whatever")] {
        match h.users().login(&web, who, password).await {
            Err(e) => println!("login {who}: {}", e.code()),
            Ok(_) => return Err(format!("{who} must not log in").into()),
        }
    }

    // A change under the protocol; the password change shows, redacted.
    let ctx = AuditContext::new(Some(admin.dn.clone()), "req-change-1", None);
    audited_change(&h, &admin, &ctx, &jdoe.dn, "john.doe@example.com").await?;

    // The audit store refuses writes: the change is refused too, and nothing changes.
    let broken = Heracles::new(
        Arc::new(NoAudit {
            inner: dir.clone(),
            audit: h.container(Container::Audit)?,
        }),
        base.clone(),
    );
    let code = match audited_change(&broken, &admin, &ctx, &jdoe.dn, "lost@example.com").await {
        Err(e) if e.code() == ErrorCode::AuditUnavailable => e.code(),
        other => return Err(format!("the change must be refused: {other:?}").into()),
    };
    let mail = h.users().get(&admin, "jdoe").await?.field("mail");
    println!("with the audit store down: {code} — mail still {mail:?}");

    // Reading the trail: newest first, filtered like every list, within a time range.
    let all = h
        .audit()
        .list(&admin, &ListQuery::default(), Some(started), None)
        .await?;
    println!(
        "{} events since {}:",
        all.pagination.total,
        format_time(started)
    );
    for e in &all.data {
        println!(
            "  {} {:6} {:8} {:40} {:20} by {:?}",
            e.timestamp, e.action, e.object_type, e.target, e.result, e.actor
        );
        for c in &e.changes {
            println!("      {}: {:?} -> {:?}", c.attribute, c.old, c.new);
        }
    }
    let failed = h
        .audit()
        .list(
            &admin,
            &ListQuery::default()
                .filter("action:eq:login")
                .filter("result:eq:INVALID_CREDENTIALS"),
            None,
            None,
        )
        .await?;
    let targets: Vec<&str> = failed.data.iter().map(|e| e.target.as_str()).collect();
    println!("failed logins: {targets:?}");

    // Retention: events older than `audit_retention_days` (here 30) are purged; the server
    // does it every hour. Seen from 31 days ahead, all of today's events are too old.
    h.settings()
        .set(&admin, "audit_retention_days", json!(30))
        .await?;
    let now = h.audit().purge(SystemTime::now()).await?;
    let later = SystemTime::now() + Duration::from_secs(31 * 86_400);
    let then = h.audit().purge(later).await?;
    println!("purged now: {now}; 31 days from now: {then}");

    drop((h, broken, dir));
    std::fs::remove_dir_all(&folder)?;
    Ok(())
}
