//! The services (users, groups, bootstrap) on both backends.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use heracles_core::directory::{Directory, Entry, Modification, SearchRequest};
use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::Filter;

use heracles_core::service::groups::{GroupType, NewGroup};
use heracles_core::service::{Container, Heracles, ListQuery, Principal};
use heracles_core::ErrorCode;
use serde_json::{json, Map, Value};

use crate::fixture::{group as group_body, Target};

static N: AtomicU32 = AtomicU32::new(0);

/// A unique short prefix for names made by one test.
fn tag(name: &str) -> String {
    format!(
        "{name}{}x{}",
        std::process::id() % 10_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn body(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

async fn ready(t: &Target) -> (Heracles, Principal) {
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    let admin = Principal::system(&t.base);
    (h, admin)
}

pub async fn bootstrap_is_idempotent_and_admin_can_log_in(t: &Target) {
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    let again = h.bootstrap(Some("Other-Passw0rd-1")).await.unwrap();
    assert!(
        again.created.is_empty(),
        "second start creates nothing: {:?}",
        again.created
    );
    assert!(!again.admin_created);
    for c in Container::ALL {
        assert!(
            t.dir()
                .get(&h.container(*c).unwrap(), &[])
                .await
                .unwrap()
                .is_some(),
            "{c:?}"
        );
    }
    // Another test (or a server run) may have bootstrapped this directory with another
    // password: set a known one first.
    h.users()
        .set_password(
            &Principal::system(&t.base),
            "admin",
            None,
            "Bootstrap-Passw0rd",
        )
        .await
        .unwrap();
    let admin = h
        .users()
        .authenticate("admin", "Bootstrap-Passw0rd")
        .await
        .unwrap();
    let admin = admin.expect("the bootstrap administrator can log in");
    let p = h.principal(&admin.dn).await.unwrap();
    assert!(p.admin);
    assert!(h
        .users()
        .authenticate("admin", "wrong")
        .await
        .unwrap()
        .is_none());
    assert!(h
        .users()
        .authenticate("nobody-at-all", "wrong")
        .await
        .unwrap()
        .is_none());
}

pub async fn users_lifecycle(t: &Target) {
    let (h, admin) = ready(t).await;
    let uid = tag("jd");
    let user = h
        .users()
        .create(
            &admin,
            &body(json!({
                "uid": uid, "cn": "John Doe", "sn": "Doe", "givenName": "John",
                "mail": format!("{uid}@example.com"), "userPassword": "SecureP@ss123",
                "telephoneNumber": "+1 555 0100",
                "posix": {"uidNumber": null, "loginShell": "/bin/zsh"}
            })),
        )
        .await
        .unwrap();
    assert_eq!(user.uid, uid);
    assert_eq!(
        user.field("mail"),
        Some(json!(format!("{uid}@example.com")))
    );
    let uid_number = user
        .field("uidNumber")
        .and_then(|v| v.as_u64())
        .expect("allocated");
    assert!((10_000..60_000).contains(&uid_number));
    assert_eq!(
        user.field("gidNumber").and_then(|v| v.as_u64()),
        Some(uid_number)
    );
    assert_eq!(
        user.field("homeDirectory"),
        Some(json!(format!("/home/{uid}")))
    );
    assert_eq!(user.field("loginShell"), Some(json!("/bin/zsh")));
    assert!(user.field("userPassword").is_none(), "never returned");
    // The directory itself verifies the hash (a bind on slapd).
    assert!(t
        .dir()
        .check_password(&user.dn, "SecureP@ss123")
        .await
        .unwrap());

    // Duplicates, unknown fields, bad values.
    let dup = h
        .users()
        .create(&admin, &body(json!({"uid": uid, "cn": "x", "sn": "x"})))
        .await
        .unwrap_err();
    assert_eq!(dup.code(), ErrorCode::AlreadyExists);
    let unknown = h
        .users()
        .create(
            &admin,
            &body(json!({"uid": tag("u"), "cn": "x", "sn": "x", "shoeSize": 44})),
        )
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::ValidationFailed);
    assert_eq!(unknown.details()["field"], "shoeSize");
    let weak = h
        .users()
        .create(
            &admin,
            &body(json!({"uid": tag("u"), "cn": "x", "sn": "x", "userPassword": "short"})),
        )
        .await
        .unwrap_err();
    assert_eq!(weak.code(), ErrorCode::ValidationFailed);

    // Update: only what is given; null removes.
    let updated = h
        .users()
        .update(
            &admin,
            &uid,
            &body(json!({"mail": null, "title": "Engineer"})),
        )
        .await
        .unwrap();
    assert!(updated.field("mail").is_none());
    assert_eq!(updated.field("title"), Some(json!("Engineer")));
    assert_eq!(updated.field("telephoneNumber"), Some(json!("+1 555 0100")));

    // List with a filter, sorted, paged.
    let page = h
        .users()
        .list(
            &admin,
            &ListQuery::default().filter(format!("uid:eq:{uid}")),
        )
        .await
        .unwrap();
    assert_eq!(page.pagination.total, 1);
    assert_eq!(page.data[0].uid, uid);
    let bad = h
        .users()
        .list(
            &admin,
            &ListQuery::default().filter("loginShell:contains:zsh"),
        )
        .await
        .unwrap_err();
    assert_eq!(
        bad.code(),
        ErrorCode::InvalidFilter,
        "no SUBSTR rule on loginShell"
    );

    // Password change: own account needs the current password.
    let me = h.principal(&user.dn).await.unwrap();
    assert!(!me.admin);
    let err = h
        .users()
        .set_password(&me, &uid, None, "Another-Passw0rd")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);
    h.users()
        .set_password(&me, &uid, Some("SecureP@ss123"), "Another-Passw0rd")
        .await
        .unwrap();
    assert!(h
        .users()
        .authenticate(&uid, "Another-Passw0rd")
        .await
        .unwrap()
        .is_some());
    // ... sees only itself in lists (`self`), and may not change its uidNumber.
    let mine = h.users().list(&me, &ListQuery::default()).await.unwrap();
    assert_eq!(mine.pagination.total, 1);
    assert_eq!(mine.data[0].uid, uid);
    let denied = h
        .users()
        .update(&me, &uid, &body(json!({"uidNumber": 4242})))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), ErrorCode::AclDenied);
    assert_eq!(denied.details()["attribute"], "uidNumber");
    h.users()
        .update(&me, &uid, &body(json!({"telephoneNumber": "+1 555 0111"})))
        .await
        .unwrap();

    // Lock: no login, no bind; unlock restores it.
    let locked = h.users().lock(&admin, &uid).await.unwrap();
    assert!(locked.locked);
    assert!(h
        .users()
        .authenticate(&uid, "Another-Passw0rd")
        .await
        .unwrap()
        .is_none());
    assert!(!t
        .dir()
        .check_password(&user.dn, "Another-Passw0rd")
        .await
        .unwrap());
    let unlocked = h.users().unlock(&admin, &uid).await.unwrap();
    assert!(!unlocked.locked);
    assert!(t
        .dir()
        .check_password(&user.dn, "Another-Passw0rd")
        .await
        .unwrap());

    h.users().delete(&admin, &uid).await.unwrap();
    assert_eq!(
        h.users().get(&admin, &uid).await.unwrap_err().code(),
        ErrorCode::UserNotFound
    );
}

pub async fn groups_keep_members_consistent(t: &Target) {
    let (h, admin) = ready(t).await;
    let (a, b) = (tag("ga"), tag("gb"));
    for uid in [&a, &b] {
        h.users()
            .create(&admin, &body(json!({"uid": uid, "cn": uid, "sn": uid})))
            .await
            .unwrap();
    }
    let cn = tag("devs");
    let g = h
        .groups()
        .create(
            &admin,
            &NewGroup {
                cn: cn.clone(),
                group_type: Some(GroupType::Mixed),
                members: vec![a.clone()],
                ..NewGroup::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(g.members, vec![a.clone()]);
    assert_eq!(g.member_count, 1);
    assert!(g.gid_number.is_some());
    let entry = t.dir().get(&g.dn, &[]).await.unwrap().unwrap();
    assert_eq!(entry.strs("memberUid"), vec![a.as_str()]);
    assert_eq!(entry.get("member").len(), 1);

    let user_b = h.users().get(&admin, &b).await.unwrap();
    let g = h
        .groups()
        .add_members(&admin, &cn, &[user_b.dn.to_string()])
        .await
        .unwrap();
    assert_eq!(g.member_count, 2);
    assert!(h
        .users()
        .get(&admin, &b)
        .await
        .unwrap()
        .groups
        .contains(&cn));
    let missing = h
        .groups()
        .add_members(&admin, &cn, &["no-such-user".to_owned()])
        .await
        .unwrap_err();
    assert_eq!(missing.code(), ErrorCode::UserNotFound);

    // Removing the last member leaves the placeholder, which never shows.
    h.groups().remove_member(&admin, &cn, &a).await.unwrap();
    let g = h.groups().remove_member(&admin, &cn, &b).await.unwrap();
    assert_eq!(g.member_count, 0);
    assert!(g.members.is_empty());
    let entry = t.dir().get(&g.dn, &[]).await.unwrap().unwrap();
    assert_eq!(
        entry.get("member").len(),
        1,
        "placeholder keeps groupOfNames valid"
    );
    assert!(entry.strs("memberUid").is_empty());

    // PUT members replaces the membership; the type cannot change.
    let g = h
        .groups()
        .update(
            &admin,
            &cn,
            &body(json!({"members": [a.clone(), b.clone()]})),
        )
        .await
        .unwrap();
    assert_eq!(g.member_count, 2, "{g:?}");
    let g = h
        .groups()
        .update(&admin, &cn, &body(json!({"members": [b.clone()]})))
        .await
        .unwrap();
    assert_eq!(g.members, vec![b.clone()]);
    let entry = t.dir().get(&g.dn, &[]).await.unwrap().unwrap();
    assert_eq!(entry.strs("memberUid"), vec![b.as_str()]);
    let g = h
        .groups()
        .update(&admin, &cn, &body(json!({"members": []})))
        .await
        .unwrap();
    assert_eq!(g.member_count, 0);
    let err = h
        .groups()
        .update(&admin, &cn, &body(json!({"groupType": "posix"})))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::ValidationFailed);

    // Deleting a user removes it from its groups.
    h.groups()
        .add_members(&admin, &cn, std::slice::from_ref(&a))
        .await
        .unwrap();
    h.users().delete(&admin, &a).await.unwrap();
    let g = h.groups().get(&admin, &cn).await.unwrap();
    assert_eq!(g.member_count, 0);
    let ldap = h
        .groups()
        .create(
            &admin,
            &NewGroup {
                cn: tag("plain"),
                ..NewGroup::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ldap.group_type, GroupType::Ldap);
    assert_eq!(ldap.member_count, 0);
}

pub async fn concurrent_uid_allocation_never_duplicates(t: &Target) {
    let (h, admin) = ready(t).await;
    // Two independent service instances on the same directory, creating at once.
    let h2 = Heracles::new(t.dir.clone(), t.base.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, hh) in [h.clone(), h2].into_iter().enumerate() {
        let admin = admin.clone();
        let prefix = tag(&format!("c{i}"));
        tasks.spawn(async move {
            let mut numbers = Vec::new();
            for n in 0..15 {
                let uid = format!("{prefix}n{n}");
                let u = hh
                    .users()
                    .create(
                        &admin,
                        &body(
                            json!({"uid": uid, "cn": uid, "sn": "x", "posix": {"uidNumber": null}}),
                        ),
                    )
                    .await
                    .unwrap();
                numbers.push(u.field("uidNumber").and_then(|v| v.as_u64()).unwrap());
            }
            numbers
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.unwrap());
    }
    let distinct: HashSet<_> = all.iter().collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "duplicate uidNumber allocated: {all:?}"
    );
}

/// Container names are settings: changing one places new entries in the new container
/// (on a private embedded directory: the shared slapd's containers stay as they are).
#[tokio::test]
async fn container_names_are_settings() {
    let t = Target::embedded().await;
    let (h, admin) = ready(&t).await;
    h.settings()
        .set(&admin, "containers", json!({"people": "staff"}))
        .await
        .unwrap();
    let uid = tag("st");
    let u = h
        .users()
        .create(&admin, &body(json!({"uid": uid, "cn": "S", "sn": "S"})))
        .await
        .unwrap();
    assert_eq!(u.dn.parent().unwrap().rdn().unwrap().value(), "staff");
    // A new instance on the same directory reads the setting at its bootstrap.
    let other = Heracles::new(t.dir.clone(), t.base.clone());
    other.bootstrap(None).await.unwrap();
    assert_eq!(
        other.container(Container::People).unwrap(),
        u.dn.parent().unwrap()
    );
    h.settings().reset(&admin, "containers").await.unwrap();
    assert_eq!(
        h.container(Container::People)
            .unwrap()
            .rdn()
            .unwrap()
            .value(),
        "people"
    );
}

pub async fn a_user_becomes_posix_by_update(t: &Target) {
    let (h, admin) = ready(t).await;
    let uid = tag("px");
    let u = h
        .users()
        .create(
            &admin,
            &body(json!({"uid": uid, "cn": "Pos Ix", "sn": "Ix"})),
        )
        .await
        .unwrap();
    assert!(u.field("uidNumber").is_none());
    let u = h
        .users()
        .update(
            &admin,
            &uid,
            &body(json!({"posix": {"uidNumber": null, "loginShell": "/bin/zsh"}})),
        )
        .await
        .unwrap();
    assert!(u.object_class.iter().any(|c| c == "posixAccount"));
    let n = u
        .field("uidNumber")
        .and_then(|v| v.as_u64())
        .expect("allocated");
    assert_eq!(u.field("gidNumber").and_then(|v| v.as_u64()), Some(n));
    assert_eq!(
        u.field("homeDirectory"),
        Some(json!(format!("/home/{uid}")))
    );
    assert_eq!(u.field("loginShell"), Some(json!("/bin/zsh")));
    // null does not remove the numbers of a POSIX account.
    let u = h
        .users()
        .update(&admin, &uid, &body(json!({"uidNumber": null})))
        .await
        .unwrap();
    assert_eq!(u.field("uidNumber").and_then(|v| v.as_u64()), Some(n));
    h.users().delete(&admin, &uid).await.unwrap();
}

pub async fn history_scenario(t: &Target) {
    let (h, admin) = ready(t).await;
    h.settings()
        .set(&admin, "password_policy", json!({"history": 2}))
        .await
        .unwrap();
    let uid = tag("hist");
    let u = h
        .users()
        .create(
            &admin,
            &body(json!({"uid": uid, "cn": "H", "sn": "H", "userPassword": "First-Passw0rd-1"})),
        )
        .await
        .unwrap();
    let me = h.principal(&u.dn).await.unwrap();
    let change = |from: &'static str, to: &'static str| {
        let (h, me, uid) = (h.clone(), me.clone(), uid.clone());
        async move { h.users().set_password(&me, &uid, Some(from), to).await }
    };
    change("First-Passw0rd-1", "Second-Passw0rd-2")
        .await
        .unwrap();
    let err = change("Second-Passw0rd-2", "First-Passw0rd-1")
        .await
        .unwrap_err();
    assert_eq!(err.details()["reason"], "in_history", "{err}");
    let err = change("Second-Passw0rd-2", "Second-Passw0rd-2")
        .await
        .unwrap_err();
    assert_eq!(err.details()["reason"], "in_history", "{err}");
    change("Second-Passw0rd-2", "Third-Passw0rd-3")
        .await
        .unwrap();
    change("Third-Passw0rd-3", "Fourth-Passw0rd-4")
        .await
        .unwrap();
    // Only the last two are remembered: the first may come back.
    change("Fourth-Passw0rd-4", "First-Passw0rd-1")
        .await
        .unwrap();
    assert!(t
        .dir()
        .check_password(&u.dn, "First-Passw0rd-1")
        .await
        .unwrap());
}

/// Password history (a setting, off by default), on private directories: the setting is
/// shared by everything using the directory.
#[tokio::test]
async fn password_history_is_a_setting() {
    history_scenario(&Target::embedded().await).await;
    let own = crate::fixture::OwnSlapd::start();
    let dir = Arc::new(own.env.service().await);
    let t = Target::over(dir, own.env.base());
    history_scenario(&t).await;
}

pub async fn recursive_department_delete_cleans_up_memberships(t: &Target) {
    use heracles_core::service::departments::NewDepartment;
    let (h, admin) = ready(t).await;
    let ou = tag("Dept");
    h.departments()
        .create(
            &admin,
            &NewDepartment {
                ou: ou.clone(),
                description: None,
                parent: None,
            },
        )
        .await
        .unwrap();
    let uid = tag("dm");
    h.users()
        .create(
            &admin,
            &body(json!({"uid": uid, "cn": "D", "sn": "M", "department": ou})),
        )
        .await
        .unwrap();
    let cn = tag("dgrp");
    h.groups()
        .create(
            &admin,
            &NewGroup {
                cn: cn.clone(),
                group_type: Some(GroupType::Mixed),
                members: vec![uid.clone()],
                ..NewGroup::default()
            },
        )
        .await
        .unwrap();
    h.departments()
        .delete(&admin, &ou, None, true)
        .await
        .unwrap();
    let g = h.groups().get(&admin, &cn).await.unwrap();
    assert_eq!(g.member_count, 0, "{g:?}");
    let entry = t.dir().get(&g.dn, &[]).await.unwrap().unwrap();
    assert!(entry.strs("memberUid").is_empty());
    h.groups().delete(&admin, &cn).await.unwrap();
}

/// A directory that lets another writer in at the worst moment: right before the first
/// conditional write, it applies `changes` to `dn` itself. Everything else is the real
/// directory underneath.
#[derive(Debug)]
struct Interloper {
    inner: Arc<dyn Directory>,
    pending: Mutex<Option<(Dn, Vec<Modification>)>>,
}

impl Interloper {
    fn arm(&self, dn: &Dn, changes: Vec<Modification>) {
        *self.pending.lock().unwrap() = Some((dn.clone(), changes));
    }

    async fn interfere(&self, assertion: Option<&Filter>) {
        if assertion.is_none() {
            return;
        }
        let pending = self.pending.lock().unwrap().take();
        if let Some((dn, changes)) = pending {
            self.inner.modify(&dn, &changes).await.unwrap();
        }
    }
}

#[async_trait::async_trait]
impl Directory for Interloper {
    async fn search(&self, req: &SearchRequest) -> heracles_core::Result<Vec<Entry>> {
        self.inner.search(req).await
    }
    async fn get(&self, dn: &Dn, attributes: &[&str]) -> heracles_core::Result<Option<Entry>> {
        self.inner.get(dn, attributes).await
    }
    async fn add(&self, entry: &Entry) -> heracles_core::Result<()> {
        self.inner.add(entry).await
    }
    async fn modify_if(
        &self,
        dn: &Dn,
        changes: &[Modification],
        assertion: Option<&Filter>,
    ) -> heracles_core::Result<()> {
        self.interfere(assertion).await;
        self.inner.modify_if(dn, changes, assertion).await
    }
    async fn delete_if(&self, dn: &Dn, assertion: Option<&Filter>) -> heracles_core::Result<()> {
        self.interfere(assertion).await;
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

/// `If-Match` in the services is atomic: a change landing between the service's read and
/// its write is a `PRECONDITION_FAILED` and the write does not happen; a current tag
/// writes; a stale one is refused before anything is written.
pub async fn conditional_writes_catch_a_change_between_read_and_write(t: &Target) {
    use heracles_core::service::{etag_of, IfMatch};
    let (_, admin) = ready(t).await;
    let spy = Arc::new(Interloper {
        inner: t.dir.clone(),
        pending: Mutex::new(None),
    });
    let h = Heracles::new(spy.clone(), t.base.clone());
    let uid = tag("race");
    let user = h
        .users()
        .create(
            &admin,
            &body(json!({"uid": uid, "cn": "Race Condition", "sn": "Condition"})),
        )
        .await
        .unwrap();
    let tag0 = IfMatch::parse(&etag_of(&user).unwrap());

    // Someone changes `mail` between our read and our write.
    spy.arm(
        &user.dn,
        vec![Modification::replace("mail", ["other@example.com"])],
    );
    let e = h
        .users()
        .if_match(Some(&tag0))
        .update(
            &admin,
            &uid,
            &body(json!({"telephoneNumber": "+1 555 0199"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed, "{e}");
    let now = h.users().get(&admin, &uid).await.unwrap();
    assert_eq!(now.field("mail"), Some(json!("other@example.com")));
    assert_eq!(
        now.field("telephoneNumber"),
        None,
        "our write did not happen"
    );

    // The stale tag is refused up front; the current one writes.
    let e = h
        .users()
        .if_match(Some(&tag0))
        .update(
            &admin,
            &uid,
            &body(json!({"telephoneNumber": "+1 555 0199"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed);
    let current = IfMatch::parse(&etag_of(&now).unwrap());
    let updated = h
        .users()
        .if_match(Some(&current))
        .update(
            &admin,
            &uid,
            &body(json!({"telephoneNumber": "+1 555 0199"})),
        )
        .await
        .unwrap();
    assert_eq!(updated.field("telephoneNumber"), Some(json!("+1 555 0199")));

    // A delete racing with a change is refused too, and the user stays.
    let current = IfMatch::parse(&etag_of(&updated).unwrap());
    spy.arm(&user.dn, vec![Modification::replace("sn", ["Changed"])]);
    let e = h
        .users()
        .if_match(Some(&current))
        .delete(&admin, &uid)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed, "{e}");
    assert!(h.users().get(&admin, &uid).await.is_ok());

    // Groups: a member added between read and write stops a conditional description change.
    let cn = tag("racegrp");
    let group = h
        .groups()
        .create(
            &admin,
            &NewGroup {
                cn: cn.clone(),
                group_type: Some(GroupType::Ldap),
                ..NewGroup::default()
            },
        )
        .await
        .unwrap();
    let gtag = IfMatch::parse(&etag_of(&group).unwrap());
    spy.arm(
        &group.dn,
        vec![Modification::replace("description", ["theirs"])],
    );
    let e = h
        .groups()
        .if_match(Some(&gtag))
        .update(&admin, &cn, &body(json!({"description": "ours"})))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed, "{e}");
    let g = h.groups().get(&admin, &cn).await.unwrap();
    assert_eq!(g.description.as_deref(), Some("theirs"));
    h.groups()
        .if_match(Some(&IfMatch::Any))
        .delete(&admin, &cn)
        .await
        .unwrap();

    // A conditional membership change keeps each member's groups right (slapd's memberof
    // overlay writes memberOf with a copy of the operation: the assertion must not stop it).
    let (ua, ub) = (tag("mofa"), tag("mofb"));
    for u in [&ua, &ub] {
        h.users()
            .create(&admin, &body(json!({"uid": u, "cn": u, "sn": "M"})))
            .await
            .unwrap();
    }
    let mixed = tag("mofg");
    let group = h
        .groups()
        .create(
            &admin,
            &NewGroup {
                cn: mixed.clone(),
                group_type: Some(GroupType::Mixed),
                members: vec![ua.clone()],
                ..NewGroup::default()
            },
        )
        .await
        .unwrap();
    let gtag = IfMatch::parse(&etag_of(&group).unwrap());
    h.groups()
        .if_match(Some(&gtag))
        .update(&admin, &mixed, &body(json!({"members": [ub]})))
        .await
        .unwrap();
    assert!(h.users().get(&admin, &ua).await.unwrap().groups.is_empty());
    assert_eq!(
        h.users().get(&admin, &ub).await.unwrap().groups,
        std::slice::from_ref(&mixed)
    );
    let group = h.groups().get(&admin, &mixed).await.unwrap();
    let gtag = IfMatch::parse(&etag_of(&group).unwrap());
    h.groups()
        .if_match(Some(&gtag))
        .update(&admin, &mixed, &body(json!({"members": [ua, ub]})))
        .await
        .unwrap();
    for u in [&ua, &ub] {
        assert_eq!(
            h.users().get(&admin, u).await.unwrap().groups,
            std::slice::from_ref(&mixed),
            "{u}"
        );
    }
    // A conditional delete of a member: the group drops it (slapd's refint overlay).
    let b = h.users().get(&admin, &ub).await.unwrap();
    h.users()
        .if_match(Some(&IfMatch::parse(&etag_of(&b).unwrap())))
        .delete(&admin, &ub)
        .await
        .unwrap();
    let group = h.groups().get(&admin, &mixed).await.unwrap();
    assert_eq!(group.members, std::slice::from_ref(&ua));
    h.groups()
        .if_match(Some(&IfMatch::Any))
        .delete(&admin, &mixed)
        .await
        .unwrap();
    assert!(h.users().get(&admin, &ua).await.unwrap().groups.is_empty());
    h.users().delete(&admin, &ua).await.unwrap();
    h.users().delete(&admin, &uid).await.unwrap();
}

/// Lists page from the cache of sorted DNs: a repeated list under the same change marker
/// makes no new scan, a write shows in the next list (never stale), deep pages and sorts
/// agree with the uncached path (sort + VLV controls on slapd, a scan on the embedded
/// directory), and each page's groups come with it.
pub async fn lists_are_cached_and_never_stale(t: &Target) {
    use heracles_core::page::PageRequest;

    let (h, admin) = ready(t).await;
    let tg = tag("lc");
    let group = tag("lcg");
    h.groups()
        .create(&admin, &group_body(&group, GroupType::Ldap, &[]))
        .await
        .unwrap();
    for i in 0..12 {
        let uid = format!("{tg}{i:02}");
        h.users()
            .create(
                &admin,
                &body(json!({"uid": uid, "cn": format!("C {}", i % 3), "sn": "S"})),
            )
            .await
            .unwrap();
        if i % 4 == 0 {
            h.groups()
                .add_members(&admin, &group, std::slice::from_ref(&uid))
                .await
                .unwrap();
        }
    }
    let posix = tag("lcp");
    h.groups()
        .create(
            &admin,
            &group_body(
                &posix,
                GroupType::Posix,
                &[&format!("{tg}01"), &format!("{tg}04")],
            ),
        )
        .await
        .unwrap();
    let q = |offset: i64, sort: Option<&str>| {
        let mut q = ListQuery::default()
            .filter(format!("uid:starts:{tg}"))
            .page(PageRequest::new(5, offset).unwrap());
        q.sort = sort.map(str::to_owned);
        q
    };
    let uids = |p: &heracles_core::page::Page<heracles_core::service::users::User>| {
        p.data.iter().map(|u| u.uid.clone()).collect::<Vec<_>>()
    };
    let marker = t.dir().change_marker(&t.base).await.unwrap();
    assert!(
        marker.is_some(),
        "both test directories have a change marker"
    );
    let scans = h.list_cache_scans();
    let first = h.users().list(&admin, &q(0, None)).await.unwrap();
    let again = h.users().list(&admin, &q(0, None)).await.unwrap();
    if t.dir().change_marker(&t.base).await.unwrap() == marker {
        // (On the shared slapd, other tests' writes may move the marker meanwhile.)
        assert_eq!(h.list_cache_scans(), scans + 1, "one scan, then the cache");
    }
    assert_eq!(uids(&first), uids(&again));
    assert_eq!(first.pagination.total, 12);
    assert_eq!(
        uids(&first),
        (0..5).map(|i| format!("{tg}{i:02}")).collect::<Vec<_>>()
    );
    // Groups of a page, found with one search for the page.
    let on_slapd = format!("{:?}", t.dir).starts_with("LdapDirectory");
    assert_eq!(h.member_of_maintained().await.unwrap(), on_slapd);
    // (memberOf plus one search for posix-only groups on slapd, whose memberof overlay
    // keeps memberOf; one search per user on the embedded directory.)
    for u in &first.data {
        let mut expect: Vec<String> = Vec::new();
        if u.uid.ends_with("00") || u.uid.ends_with("04") {
            expect.push(group.clone());
        }
        if u.uid.ends_with("01") || u.uid.ends_with("04") {
            expect.push(posix.clone());
        }
        assert_eq!(u.groups, expect, "{}", u.uid);
        let one = h.users().get(&admin, &u.uid).await.unwrap();
        assert_eq!(one.groups, u.groups, "list and get agree on {}", u.uid);
        assert!(one.attributes.get("memberOf").is_none());
        assert!(u.attributes.get("memberOf").is_none());
    }
    // Changes that cannot change the list (another group, a description) leave it
    // cached — asserted on the embedded directory, which no other test writes to.
    let scans = h.list_cache_scans();
    h.groups()
        .create(
            &admin,
            &NewGroup {
                description: Some("unrelated".into()),
                ..group_body(&tag("lco"), GroupType::Ldap, &[])
            },
        )
        .await
        .unwrap();
    // A user created and deleted again: in no page before or after.
    let temp = format!("{tg}99");
    h.users()
        .create(&admin, &body(json!({"uid": temp, "cn": "T", "sn": "S"})))
        .await
        .unwrap();
    h.users().delete(&admin, &temp).await.unwrap();
    let dn00 = h.users().get(&admin, &format!("{tg}00")).await.unwrap().dn;
    t.dir()
        .modify(&dn00, &[Modification::replace("description", ["changed"])])
        .await
        .unwrap();
    assert_eq!(
        uids(&h.users().list(&admin, &q(0, None)).await.unwrap()),
        uids(&first)
    );
    if !on_slapd {
        assert_eq!(
            h.list_cache_scans(),
            scans,
            "no rescan for unrelated changes"
        );
    }
    // A change of a sort key moves the user, at once.
    t.dir()
        .modify(&dn00, &[Modification::replace("cn", ["A first"])])
        .await
        .unwrap();
    let by_cn = h.users().list(&admin, &q(0, Some("cn"))).await.unwrap();
    assert_eq!(uids(&by_cn)[0], format!("{tg}00"));
    t.dir()
        .modify(&dn00, &[Modification::replace("cn", ["C 0"])])
        .await
        .unwrap();
    // A listed user modified on a list already cached: read again and put in its place
    // (no scan asserted on the embedded directory, which no other test writes to).
    let scans = h.list_cache_scans();
    let by_cn = |h: Heracles| {
        let (admin, q) = (admin.clone(), q(0, Some("cn")));
        async move { uids(&h.users().list(&admin, &q).await.unwrap()) }
    };
    let expect = |order: [u32; 5]| order.map(|i| format!("{tg}{i:02}")).to_vec();
    assert_eq!(by_cn(h.clone()).await, expect([0, 3, 6, 9, 1]));
    let dn01 = h.users().get(&admin, &format!("{tg}01")).await.unwrap().dn;
    for (cn, order) in [("A first", [1, 0, 3, 6, 9]), ("C 1", [0, 3, 6, 9, 1])] {
        t.dir()
            .modify(&dn01, &[Modification::replace("cn", [cn])])
            .await
            .unwrap();
        assert_eq!(by_cn(h.clone()).await, expect(order), "cn {cn}");
    }
    if !on_slapd {
        assert_eq!(h.list_cache_scans(), scans, "rescanned for a modification");
    }
    // Posix-only memberships are indexed under the marker: a change shows at once.
    let third = format!("{tg}02");
    h.groups()
        .add_members(&admin, &posix, std::slice::from_ref(&third))
        .await
        .unwrap();
    assert_eq!(
        h.users().get(&admin, &third).await.unwrap().groups,
        std::slice::from_ref(&posix)
    );
    let listed = h.users().list(&admin, &q(0, None)).await.unwrap();
    assert_eq!(listed.data[2].groups, std::slice::from_ref(&posix));
    let second = format!("{tg}01");
    h.groups()
        .remove_member(&admin, &posix, &second)
        .await
        .unwrap();
    assert!(h
        .users()
        .get(&admin, &second)
        .await
        .unwrap()
        .groups
        .is_empty());
    let listed = h.users().list(&admin, &q(0, None)).await.unwrap();
    assert!(listed.data[1].groups.is_empty());
    // A write shows at once.
    h.users()
        .create(
            &admin,
            &body(json!({"uid": format!("{tg}000"), "cn": "C 0", "sn": "S"})),
        )
        .await
        .unwrap();
    let after = h.users().list(&admin, &q(0, None)).await.unwrap();
    assert_eq!(after.pagination.total, 13);
    assert_eq!(uids(&after)[1], format!("{tg}000"));
    h.users().delete(&admin, &format!("{tg}05")).await.unwrap();
    let deep = h.users().list(&admin, &q(10, None)).await.unwrap();
    assert_eq!(deep.pagination.total, 12);
    assert_eq!(uids(&deep), [format!("{tg}10"), format!("{tg}11")]);
    assert!(!deep.pagination.has_more);
    // The same pages without the cache, with ties broken by uid.
    for sort in [None, Some("-cn"), Some("cn")] {
        for offset in [0, 5, 10, 12, 40] {
            h.set_list_cache(true);
            let cached = h.users().list(&admin, &q(offset, sort)).await.unwrap();
            h.set_list_cache(false);
            let direct = h.users().list(&admin, &q(offset, sort)).await.unwrap();
            assert_eq!(uids(&cached), uids(&direct), "{sort:?} at {offset}");
            assert_eq!(cached.pagination, direct.pagination, "{sort:?} at {offset}");
        }
    }
    h.set_list_cache(false);
    let by_cn = h.users().list(&admin, &q(0, Some("-cn"))).await.unwrap();
    assert_eq!(
        uids(&by_cn),
        [2, 8, 11]
            .iter()
            .map(|i| format!("{tg}{i:02}"))
            .chain([format!("{tg}01"), format!("{tg}04")])
            .collect::<Vec<_>>(),
        "C 2 first (descending), ties by uid"
    );
}

/// Gets and list pages are answered from the cache of reads while nothing they read
/// changed — and never stale: writes through Heracles, and straight through the directory,
/// show at once; other entries' changes leave them cached.
pub async fn reads_are_cached_and_never_stale(t: &Target) {
    use heracles_core::page::PageRequest;
    use heracles_core::service::reads::DEFAULT_READ_CACHE;

    let (h, admin) = ready(t).await;
    let on_slapd = format!("{:?}", t.dir).starts_with("LdapDirectory");
    let uid = tag("rc");
    h.users()
        .create(
            &admin,
            &body(json!({"uid": uid, "cn": "Read Cache", "sn": "S"})),
        )
        .await
        .unwrap();
    let group = tag("rcg");
    h.groups()
        .create(&admin, &group_body(&group, GroupType::Ldap, &[]))
        .await
        .unwrap();
    let get = || {
        let (h, admin, uid) = (h.clone(), admin.clone(), uid.clone());
        async move { h.users().get(&admin, &uid).await.unwrap() }
    };
    let description = |u: &heracles_core::service::users::User| {
        u.attributes
            .get("description")
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    let other = tag("rco");
    h.users()
        .create(&admin, &body(json!({"uid": other, "cn": "O", "sn": "S"})))
        .await
        .unwrap();
    let first = get().await;
    let (hits, misses) = h.read_cache_counts();
    let again = get().await;
    assert_eq!(
        serde_json::to_value(&first).unwrap(),
        serde_json::to_value(&again).unwrap()
    );
    // (On the shared slapd, other tests' writes may count, and the cache is used once the
    // change watch is live: the private slapd of `ldap_faults` checks the counts there.)
    if !on_slapd {
        let (h2, m2) = h.read_cache_counts();
        assert!(h2 > hits, "the second get is a hit");
        assert_eq!(m2, misses, "the second get reads nothing");
        // Another user's description: nothing the get read.
        let other_dn = h.users().get(&admin, &other).await.unwrap().dn;
        t.dir()
            .modify(&other_dn, &[Modification::replace("description", ["x"])])
            .await
            .unwrap();
        let (_, misses) = h.read_cache_counts();
        get().await;
        assert_eq!(h.read_cache_counts().1, misses, "still cached");
    }

    // A write through Heracles.
    h.users()
        .update(&admin, &uid, &body(json!({"description": "one"})))
        .await
        .unwrap();
    assert!(description(&get().await).contains("one"));
    // Membership through Heracles: memberOf (slapd) or a group search (embedded).
    h.groups()
        .add_members(&admin, &group, std::slice::from_ref(&uid))
        .await
        .unwrap();
    assert_eq!(get().await.groups, std::slice::from_ref(&group));
    // A write straight through the directory.
    let dn = first.dn.clone();
    t.dir()
        .modify(&dn, &[Modification::replace("description", ["two"])])
        .await
        .unwrap();
    assert!(description(&get().await).contains("two"));
    // A list page's entries: cached, and read again once one of them changed.
    let q = ListQuery::default()
        .filter(format!("uid:starts:{uid}"))
        .page(PageRequest::new(5, 0).unwrap());
    let page = h.users().list(&admin, &q).await.unwrap();
    assert_eq!(page.data.len(), 1);
    assert!(description(&page.data[0]).contains("two"));
    if !on_slapd {
        let (hits, _) = h.read_cache_counts();
        h.users().list(&admin, &q).await.unwrap();
        assert_eq!(h.read_cache_counts().0, hits + 1, "the page is a hit");
    }
    t.dir()
        .modify(&dn, &[Modification::replace("description", ["three"])])
        .await
        .unwrap();
    let page = h.users().list(&admin, &q).await.unwrap();
    assert!(description(&page.data[0]).contains("three"));
    // Removing the membership, and deleting the group, through Heracles.
    h.groups()
        .remove_member(&admin, &group, &uid)
        .await
        .unwrap();
    assert!(get().await.groups.is_empty());
    h.groups()
        .add_members(&admin, &group, std::slice::from_ref(&uid))
        .await
        .unwrap();
    assert_eq!(get().await.groups, std::slice::from_ref(&group));
    h.groups().delete(&admin, &group).await.unwrap();
    assert!(get().await.groups.is_empty());

    // Off (the cache of reads, and the copy of users on slapd, whose answers it counts,
    // turned on just before): every read goes to the directory.
    h.set_user_replica(heracles_core::service::replica::DEFAULT_USER_REPLICA);
    get().await;
    h.set_read_cache(0);
    h.set_user_replica(0);
    let counts = h.read_cache_counts();
    get().await;
    get().await;
    assert_eq!(h.read_cache_counts(), counts);
    assert_eq!(h.user_replica_stats().users, 0);
    h.set_read_cache(DEFAULT_READ_CACHE);
    h.set_user_replica(heracles_core::service::replica::DEFAULT_USER_REPLICA);
    h.users().delete(&admin, &uid).await.unwrap();
    let err = h.users().get(&admin, &uid).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::UserNotFound);
}
