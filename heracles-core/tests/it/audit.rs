//! The audit trail on both backends: the write protocol (begin → change → finish, and what
//! happens when the audit write fails), one-shot events, logins, listing with filters, time
//! ranges and pages, and retention.
//!
//! The shared slapd is shared by concurrent tests: every event a test writes carries a
//! request id of its own, lists filter on it, and the purges delete only those events.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use heracles_core::audit::{
    action, diff, format_time, object_type, parse_time, AuditContext, AuditEvent, AuditResult,
};
use heracles_core::directory::{Directory, Entry, Modification, SearchRequest};
use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::Filter;
use heracles_core::page::PageRequest;
use heracles_core::service::{Container, Heracles, ListQuery, Principal};
use heracles_core::{Error, ErrorCode};
use serde_json::{json, Map, Value};

use crate::fixture::{sandbox, Target};

static N: AtomicU32 = AtomicU32::new(0);

/// A request id (and name prefix) unique to one test run.
fn tag(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{name}{}x{}x{nanos:x}",
        std::process::id() % 10_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn ready(t: &Target) -> (Heracles, Principal) {
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    (h, Principal::system(&t.base))
}

fn nobody(t: &Target) -> Principal {
    let dn = t.base.child(Rdn::new("uid", "nobody").unwrap());
    let nothing = heracles_core::acl::CompiledAcl::compile(&dn, &[], &[], &[], None);
    Principal::with_acl(dn, Some("nobody".into()), Arc::new(nothing))
}

fn by_request(rid: &str) -> ListQuery {
    ListQuery::default().filter(format!("request_id:eq:{rid}"))
}

async fn events(h: &Heracles, admin: &Principal, q: &ListQuery) -> Vec<AuditEvent> {
    h.audit().list(admin, q, None, None).await.unwrap().data
}

/// Deletes this test's events: a purge "91 days from now" limited to its request id.
async fn forget(h: &Heracles, rid: &str) -> usize {
    let later = SystemTime::now() + Duration::from_secs(91 * 86_400);
    h.audit()
        .purge_matching(later, &[format!("request_id:eq:{rid}")])
        .await
        .unwrap()
}

fn body(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

/// begin → finish, record, `audited` with an error; listing with every filter field, time
/// ranges (both ends included), newest first, sort, pages, bad queries, access; purge.
pub async fn audit_round_trip_and_list(t: &Target) {
    let (h, admin) = ready(t).await;
    let rid = tag("rt");
    let ctx = AuditContext::new(Some(admin.dn.clone()), &rid, Some("192.0.2.7".into()));
    let audit = h.audit();
    let target = t
        .base
        .child(Rdn::new("ou", "people").unwrap())
        .child(Rdn::new("uid", &format!("{rid}u")).unwrap());

    // 1. begin: written as pending before the change.
    let pending = audit
        .begin(&ctx, action::CREATE, object_type::USER, &target)
        .await
        .unwrap();
    let id1 = pending.id().to_owned();
    let stored = audit.get(&admin, &id1).await.unwrap();
    assert_eq!(stored.result, "pending");
    assert_eq!(stored.actor, admin.dn.to_string());
    assert_eq!(stored.target, target.to_string());
    assert_eq!(stored.request_id, rid);
    assert_eq!(stored.client_address.as_deref(), Some("192.0.2.7"));
    assert_eq!(stored.timestamp, pending.event().timestamp);
    assert!(stored.timestamp.ends_with('Z') && stored.timestamp.len() == 27);
    // finish: the final result and the changes.
    let entry = Entry::new(target.clone())
        .with("uid", ["x"])
        .with("userPassword", ["{SSHA}secretsecret"]);
    audit
        .finish(pending, AuditResult::Success, diff(None, Some(&entry)))
        .await;
    let done = audit.get(&admin, &id1).await.unwrap();
    assert_eq!(done.result, "success");
    assert_eq!(done.changes.len(), 2);
    assert_eq!(done.changes[1].attribute, "userPassword");
    assert_eq!(done.changes[1].new, ["[REDACTED {SSHA}]"]);
    // Stored where standard tools see it.
    let raw = t
        .dir()
        .get(
            &h.container(Container::Audit)
                .unwrap()
                .child(Rdn::new("heraclesEventId", &id1).unwrap()),
            &[],
        )
        .await
        .unwrap()
        .unwrap();
    assert!(raw.has_value("objectClass", "heraclesAuditEvent"));
    assert!(raw.first_str("heraclesTimestamp").unwrap().ends_with('Z'));
    assert!(!raw.first_str("heraclesChanges").unwrap().contains("secret"));

    // 2. record: a failed login, anonymous, with a name as target.
    let anon = AuditContext::new(None, &rid, None);
    let ev2 = audit
        .record(
            &anon,
            action::LOGIN,
            object_type::SESSION,
            "no such user",
            ErrorCode::InvalidCredentials,
            Vec::new(),
        )
        .await;
    let got2 = audit.get(&admin, &ev2.id).await.unwrap();
    assert_eq!(got2, ev2);
    assert_eq!(got2.actor, "");
    assert_eq!(got2.client_address, None);

    // 3. audited: the operation's error is recorded and returned unchanged.
    let e = audit
        .audited(
            &ctx,
            action::MODIFY,
            object_type::GROUP,
            "cn=g,dc=x",
            || async {
                Err::<((), _), _>(
                    Error::new(ErrorCode::ValidationFailed, "bad").with_detail("x", 1),
                )
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationFailed);
    assert_eq!(e.details()["x"], 1);
    let value = audit
        .audited(
            &ctx,
            action::DELETE,
            object_type::GROUP,
            "cn=g,dc=x",
            || async { Ok((42, Vec::new())) },
        )
        .await
        .unwrap();
    assert_eq!(value, 42);

    // Newest first.
    let all = events(&h, &admin, &by_request(&rid)).await;
    let results: Vec<&str> = all.iter().map(|e| e.result.as_str()).collect();
    assert_eq!(
        results,
        [
            "success",
            "VALIDATION_FAILED",
            "INVALID_CREDENTIALS",
            "success"
        ]
    );
    assert_eq!(all[3].id, id1);
    assert!(all
        .windows(2)
        .all(|w| w[0].timestamp >= w[1].timestamp && w[0].id > w[1].id));
    let page = audit
        .list(&admin, &by_request(&rid), None, None)
        .await
        .unwrap();
    assert_eq!(page.pagination.total, 4);

    // Each filter field.
    let count = |q: ListQuery| {
        let h = h.clone();
        let admin = admin.clone();
        async move { events(&h, &admin, &q).await.len() }
    };
    let q = || by_request(&rid);
    assert_eq!(count(q().filter("action:eq:login")).await, 1);
    assert_eq!(count(q().filter("action:eq:LOGIN")).await, 1);
    assert_eq!(count(q().filter("result:eq:INVALID_CREDENTIALS")).await, 1);
    assert_eq!(count(q().filter("result:eq:success")).await, 2);
    assert_eq!(count(q().filter("object_type:eq:group")).await, 2);
    assert_eq!(count(q().filter("target:starts:cn=g,")).await, 2);
    assert_eq!(count(q().filter("target:eq:no such user")).await, 1);
    assert_eq!(count(q().filter("request_id:starts:rt")).await, 4);
    // A DN value matches however it is spaced; the actor is absent on the anonymous event.
    let spaced = admin.dn.to_string().replace(',', ", ");
    assert_eq!(count(q().filter(format!("actor:eq:{spaced}"))).await, 3);
    assert_eq!(count(q().filter("actor:present")).await, 3);
    assert_eq!(
        count(q().filter(format!("target:eq:{}", target.to_string().to_uppercase()))).await,
        1
    );
    assert_eq!(count(q().filter("action:eq:*)(objectClass=*")).await, 0);

    // Time ranges, both ends included, to the microsecond.
    let t2 = parse_time("from", &ev2.timestamp).unwrap();
    let range = |from: Option<SystemTime>, to: Option<SystemTime>| {
        let h = h.clone();
        let admin = admin.clone();
        let rid = rid.clone();
        async move {
            h.audit()
                .list(&admin, &by_request(&rid), from, to)
                .await
                .unwrap()
                .data
                .into_iter()
                .map(|e| e.result)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(range(Some(t2), Some(t2)).await, ["INVALID_CREDENTIALS"]);
    assert_eq!(
        range(None, Some(t2)).await,
        ["INVALID_CREDENTIALS", "success"]
    );
    assert_eq!(range(Some(t2), None).await.len(), 3);
    let just_after = t2 + Duration::from_micros(1);
    assert_eq!(range(Some(just_after), None).await.len(), 2);
    assert_eq!(
        range(None, Some(t2 - Duration::from_micros(1))).await,
        ["success"]
    );
    let e = audit
        .list(&admin, &q(), Some(just_after), Some(t2))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationFailed);

    // Sort and pages.
    let asc = events(&h, &admin, &q().sort("timestamp")).await;
    assert_eq!(asc[0].id, id1);
    let by_action = events(&h, &admin, &q().sort("-action")).await;
    assert_eq!(by_action[0].action, "modify");
    let p1 = audit
        .list(
            &admin,
            &q().page(PageRequest::new(3, 0).unwrap()),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(p1.data.len(), 3);
    assert!(p1.pagination.has_more);
    assert_eq!(p1.pagination.total, 4);
    let p2 = audit
        .list(
            &admin,
            &q().page(PageRequest::new(3, 3).unwrap()),
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!(p2.data.len(), 1);
    assert!(!p2.pagination.has_more);
    assert_eq!(p2.data[0].id, id1);
    let beyond = audit
        .list(
            &admin,
            &q().page(PageRequest::new(3, 9).unwrap()),
            None,
            None,
        )
        .await
        .unwrap();
    assert!(beyond.data.is_empty());

    // Bad queries.
    for (q, code) in [
        (q().filter("changes:eq:x"), ErrorCode::InvalidFilter),
        (q().filter("action:like:x"), ErrorCode::InvalidFilter),
        (q().filter("action:eq:"), ErrorCode::InvalidFilter),
        (q().sort("changes"), ErrorCode::ValidationFailed),
        (
            ListQuery {
                attributes: Some(vec!["nope".into()]),
                ..q()
            },
            ErrorCode::ValidationFailed,
        ),
    ] {
        let e = audit.list(&admin, &q, None, None).await.unwrap_err();
        assert_eq!(e.code(), code, "{q:?}: {e}");
    }
    let ok = ListQuery {
        attributes: Some(vec!["id".into(), "changes".into()]),
        ..q()
    };
    assert_eq!(
        audit
            .list(&admin, &ok, None, None)
            .await
            .unwrap()
            .data
            .len(),
        4
    );

    // Only administrators read the trail (for now).
    let u = nobody(t);
    let e = audit.list(&u, &q(), None, None).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AclDenied);
    assert_eq!(e.details()["permission"], "audit:read");
    assert_eq!(
        audit.get(&u, &id1).await.unwrap_err().code(),
        ErrorCode::AclDenied
    );
    assert_eq!(
        audit.get(&admin, "no-such-event").await.unwrap_err().code(),
        ErrorCode::NotFound
    );

    // Retention: nothing of ours is old yet; 91 days from now all four are.
    assert_eq!(
        audit
            .purge_matching(SystemTime::now(), &[format!("request_id:eq:{rid}")])
            .await
            .unwrap(),
        0
    );
    assert_eq!(forget(&h, &rid).await, 4);
    assert!(events(&h, &admin, &q()).await.is_empty());
}

/// Logins through the core: one event per attempt, the same answer for every failure.
pub async fn audit_records_logins(t: &Target) {
    let (h, admin) = ready(t).await;
    let rid = tag("login");
    let uid = format!("{}u", rid.replace('x', "").to_lowercase());
    let uid = uid.chars().take(30).collect::<String>();
    let user = h
        .users()
        .create(
            &admin,
            &body(json!({"uid": uid, "cn": "Login Test", "sn": "Test",
                         "userPassword": "Login-Passw0rd-1"})),
        )
        .await
        .unwrap();
    let ctx = AuditContext::new(None, &rid, Some("198.51.100.4".into()));
    let users = h.users();

    let ok = users.login(&ctx, &uid, "Login-Passw0rd-1").await.unwrap();
    assert_eq!(ok.dn, user.dn);
    let by_dn = users
        .login(&ctx, &user.dn.to_string(), "Login-Passw0rd-1")
        .await
        .unwrap();
    assert_eq!(by_dn.uid, uid);
    let wrong = users
        .login(&ctx, &uid, "Wrong-Passw0rd-1")
        .await
        .unwrap_err();
    let unknown = users
        .login(&ctx, &format!("{uid}-nobody"), "Login-Passw0rd-1")
        .await
        .unwrap_err();
    let not_a_dn = users.login(&ctx, "uid=,,,", "x").await.unwrap_err();
    h.users().lock(&admin, &uid).await.unwrap();
    let locked = users
        .login(&ctx, &uid, "Login-Passw0rd-1")
        .await
        .unwrap_err();
    for e in [&wrong, &unknown, &not_a_dn, &locked] {
        assert_eq!(e.code(), ErrorCode::InvalidCredentials);
        assert_eq!(e.message(), wrong.message(), "the same answer");
        assert!(e.details().is_empty());
    }

    let all = events(&h, &admin, &by_request(&rid)).await;
    let seen: Vec<(&str, &str, &str)> = all
        .iter()
        .rev()
        .map(|e| (e.result.as_str(), e.target.as_str(), e.actor.as_str()))
        .collect();
    let dn = user.dn.to_string();
    let unknown_name = format!("{uid}-nobody");
    assert_eq!(
        seen,
        [
            ("success", dn.as_str(), dn.as_str()),
            ("success", dn.as_str(), dn.as_str()),
            ("INVALID_CREDENTIALS", dn.as_str(), ""),
            ("INVALID_CREDENTIALS", unknown_name.as_str(), ""),
            ("INVALID_CREDENTIALS", "uid=,,,", ""),
            ("ACCOUNT_LOCKED", dn.as_str(), ""),
        ]
    );
    assert!(all
        .iter()
        .all(|e| e.action == "login" && e.object_type == "session"));
    assert!(all
        .iter()
        .all(|e| e.client_address.as_deref() == Some("198.51.100.4")));
    assert!(all.iter().all(|e| e.changes.is_empty()));

    assert_eq!(forget(&h, &rid).await, 6);
    h.users().delete(&admin, &uid).await.unwrap();
}

/// A directory that refuses adds and/or modifies below one DN (the audit container), and
/// counts the refusals. Everything else is the real directory underneath.
#[derive(Debug)]
struct Refusing {
    inner: Arc<dyn Directory>,
    below: Dn,
    adds: AtomicBool,
    modifies: AtomicBool,
    refused: AtomicUsize,
}

impl Refusing {
    fn new(inner: Arc<dyn Directory>, below: Dn) -> Refusing {
        Refusing {
            inner,
            below,
            adds: AtomicBool::new(false),
            modifies: AtomicBool::new(false),
            refused: AtomicUsize::new(0),
        }
    }

    fn refuse(&self) -> heracles_core::Result<()> {
        self.refused.fetch_add(1, Ordering::SeqCst);
        Err(Error::unavailable("refused by the test"))
    }
}

#[async_trait::async_trait]
impl Directory for Refusing {
    async fn search(&self, req: &SearchRequest) -> heracles_core::Result<Vec<Entry>> {
        self.inner.search(req).await
    }
    async fn get(&self, dn: &Dn, attributes: &[&str]) -> heracles_core::Result<Option<Entry>> {
        self.inner.get(dn, attributes).await
    }
    async fn add(&self, entry: &Entry) -> heracles_core::Result<()> {
        if self.adds.load(Ordering::SeqCst) && entry.dn.is_descendant_of(&self.below) {
            return self.refuse();
        }
        self.inner.add(entry).await
    }
    async fn modify_if(
        &self,
        dn: &Dn,
        changes: &[Modification],
        assertion: Option<&Filter>,
    ) -> heracles_core::Result<()> {
        if self.modifies.load(Ordering::SeqCst) && dn.is_descendant_of(&self.below) {
            return self.refuse();
        }
        self.inner.modify_if(dn, changes, assertion).await
    }
    async fn delete_if(&self, dn: &Dn, assertion: Option<&Filter>) -> heracles_core::Result<()> {
        self.inner.delete_if(dn, assertion).await
    }
    async fn rename(
        &self,
        dn: &Dn,
        new_rdn: &Rdn,
        delete_old_rdn: bool,
        new_superior: Option<&Dn>,
    ) -> heracles_core::Result<Dn> {
        self.inner
            .rename(dn, new_rdn, delete_old_rdn, new_superior)
            .await
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

/// The protocol when the audit write fails: no event, no change (`AUDIT_UNAVAILABLE`, after
/// three attempts); an event that cannot be completed stays `pending` and the operation's
/// result is still returned. One-shot events never fail their caller.
pub async fn audit_failures_follow_the_protocol(t: &Target) {
    let (real, admin) = ready(t).await;
    let audit_dn = real.container(Container::Audit).unwrap();
    let spy = Arc::new(Refusing::new(t.dir.clone(), audit_dn));
    let h = Heracles::new(spy.clone(), t.base.clone());
    let rid = tag("fail");
    let ctx = AuditContext::new(Some(admin.dn.clone()), &rid, None);
    let place = sandbox(t.dir(), &t.base, "audit").await;
    let entry = |name: &str| {
        Entry::new(place.child(Rdn::new("ou", name).unwrap()))
            .with("objectClass", ["organizationalUnit"])
            .with("ou", [name])
    };

    // The event cannot be written: the change is not made.
    spy.adds.store(true, Ordering::SeqCst);
    let ran = AtomicBool::new(false);
    let blocked = entry("blocked");
    let started = std::time::Instant::now();
    let e = h
        .audit()
        .audited(
            &ctx,
            action::CREATE,
            object_type::DEPARTMENT,
            &blocked.dn,
            || async {
                ran.store(true, Ordering::SeqCst);
                h.directory().add(&blocked).await?;
                Ok(((), diff(None, Some(&blocked))))
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuditUnavailable, "{e}");
    assert_eq!(e.details()["attempts"], 3);
    assert_eq!(e.details()["cause"], "DIRECTORY_UNAVAILABLE");
    assert_eq!(spy.refused.load(Ordering::SeqCst), 3, "three attempts");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "with pauses"
    );
    assert!(!ran.load(Ordering::SeqCst), "the change was not attempted");
    assert!(t.dir().get(&blocked.dn, &[]).await.unwrap().is_none());
    // begin alone says the same.
    let e = h
        .audit()
        .begin(&ctx, action::DELETE, object_type::USER, "uid=x")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AuditUnavailable);
    // A one-shot event (a login) does not fail its caller; it goes to the log.
    let ev = h
        .audit()
        .record(
            &ctx,
            action::LOGIN,
            object_type::SESSION,
            "x",
            AuditResult::Success,
            vec![],
        )
        .await;
    assert_eq!(ev.result, "success");
    assert!(events(&real, &admin, &by_request(&rid)).await.is_empty());

    // The event is written but cannot be completed: the change is made, its result
    // returned, and the event stays pending.
    spy.adds.store(false, Ordering::SeqCst);
    spy.modifies.store(true, Ordering::SeqCst);
    spy.refused.store(0, Ordering::SeqCst);
    let made = entry("made");
    let dn = h
        .audit()
        .audited(
            &ctx,
            action::CREATE,
            object_type::DEPARTMENT,
            &made.dn,
            || async {
                h.directory().add(&made).await?;
                Ok((made.dn.clone(), diff(None, Some(&made))))
            },
        )
        .await
        .unwrap();
    assert_eq!(dn, made.dn);
    assert!(t.dir().get(&made.dn, &[]).await.unwrap().is_some());
    assert_eq!(spy.refused.load(Ordering::SeqCst), 3);
    let left = events(&real, &admin, &by_request(&rid)).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].result, "pending");
    assert_eq!(left[0].target, made.dn.to_string());
    assert!(left[0].changes.is_empty());
    // An operation that fails is returned as it failed, too.
    let e = h
        .audit()
        .audited(
            &ctx,
            action::CREATE,
            object_type::DEPARTMENT,
            &made.dn,
            || async {
                h.directory().add(&made).await?;
                Ok(((), Vec::new()))
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AlreadyExists);
    let left = events(&real, &admin, &by_request(&rid)).await;
    assert!(left.iter().all(|e| e.result == "pending"));
    assert_eq!(left.len(), 2);

    // Once the directory takes writes again, events complete as usual.
    spy.modifies.store(false, Ordering::SeqCst);
    h.audit()
        .audited(
            &ctx,
            action::DELETE,
            object_type::DEPARTMENT,
            &made.dn,
            || async {
                h.directory().delete(&made.dn).await?;
                Ok(((), diff(Some(&made), None)))
            },
        )
        .await
        .unwrap();
    let last = &events(&real, &admin, &by_request(&rid)).await[0];
    assert_eq!(
        (last.action.as_str(), last.result.as_str()),
        ("delete", "success")
    );
    assert_eq!(last.changes.len(), 2);

    assert_eq!(forget(&real, &rid).await, 3);
    t.dir().delete(&place).await.unwrap();
}

/// On a directory without `ou=audit` (never bootstrapped), the first event creates it, and
/// reading or purging before that is no error.
#[tokio::test]
async fn the_container_is_created_by_the_first_event() {
    let t = Target::embedded().await;
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    let admin = Principal::system(&t.base);
    let audit_dn = h.container(Container::Audit).unwrap();
    assert!(t.dir().get(&audit_dn, &[]).await.unwrap().is_none());
    let page = h
        .audit()
        .list(&admin, &ListQuery::default(), None, None)
        .await
        .unwrap();
    assert_eq!(page.pagination.total, 0);
    let e = h
        .audit()
        .list(
            &admin,
            &ListQuery::default().filter("nope:eq:x"),
            None,
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidFilter);
    assert_eq!(h.audit().purge(SystemTime::now()).await.unwrap(), 0);

    let ctx = AuditContext::for_principal(&admin);
    let pending = h
        .audit()
        .begin(&ctx, action::MODIFY, object_type::SETTINGS, "x")
        .await
        .unwrap();
    assert!(t.dir().get(&audit_dn, &[]).await.unwrap().is_some());
    h.audit().finish(pending, &Ok::<_, Error>(()), vec![]).await;
    let all = events(&h, &admin, &ListQuery::default()).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].request_id, ctx.request_id);
    assert_eq!(ctx.request_id.len(), 32);
}

/// Retention follows the setting (changed here, so only on a private embedded directory):
/// events older than `audit_retention_days` go, younger ones stay.
#[tokio::test]
async fn purge_keeps_the_configured_number_of_days() {
    let t = Target::embedded().await;
    let (h, admin) = ready(&t).await;
    h.settings()
        .set(&admin, "audit_retention_days", json!(10))
        .await
        .unwrap();
    let container = h.container(Container::Audit).unwrap();
    // Events written by hand (as `ldapadd` could), 5, 9, 11 and 400 days old.
    let day = 86_400;
    let now = SystemTime::now();
    for (i, age) in [5u64, 9, 11, 400].into_iter().enumerate() {
        let ts = gtime(now - Duration::from_secs(age * day));
        let id = format!("old{i}");
        t.dir()
            .add(
                &Entry::new(container.child(Rdn::new("heraclesEventId", &id).unwrap()))
                    .with("objectClass", ["top", "heraclesAuditEvent"])
                    .with("heraclesEventId", [id.as_str()])
                    .with("heraclesTimestamp", [ts.as_str()])
                    .with("heraclesAction", ["modify"])
                    .with("heraclesResult", ["success"]),
            )
            .await
            .unwrap();
    }
    let ctx = AuditContext::for_principal(&admin);
    h.audit()
        .record(
            &ctx,
            action::LOGIN,
            object_type::SESSION,
            "x",
            AuditResult::Success,
            vec![],
        )
        .await;
    // Newest first, hand-written ones included (the two newest: the login, and the change
    // of the setting above, which is audited like every write).
    let ids: Vec<String> = events(&h, &admin, &ListQuery::default())
        .await
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(&ids[2..], ["old0", "old1", "old2", "old3"]);

    assert_eq!(h.audit().purge(SystemTime::now()).await.unwrap(), 2);
    let left: Vec<String> = events(&h, &admin, &ListQuery::default())
        .await
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(&left[2..], ["old0", "old1"]);
    // Six days later, the 5- and 9-day-old ones are past ten days too.
    let later = SystemTime::now() + Duration::from_secs(6 * day);
    assert_eq!(h.audit().purge(later).await.unwrap(), 2);
    assert_eq!(events(&h, &admin, &ListQuery::default()).await.len(), 2);
    // The setting is validated.
    let e = h
        .settings()
        .set(&admin, "audit_retention_days", json!(0))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ValidationFailed);
}

/// Generalized Time (`YYYYMMDDHHMMSS.ffffffZ`) of a time.
fn gtime(t: SystemTime) -> String {
    format_time(t).replace(['-', ':', 'T'], "")
}
