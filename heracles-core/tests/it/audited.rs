//! Every kind of write through the services leaves an audit event, on both backends:
//! users (create, modify, password, lock, unlock, delete), groups (create, modify, members,
//! delete), departments, templates, settings, ACL policies and assignments — with the
//! actor, target, result, request id, client address and changed attributes, passwords
//! redacted; and a denied attempt is recorded with its error code.

use heracles_core::acl::{ScopeType, SubjectType};
use heracles_core::audit::{AuditEvent, REDACTED};
use heracles_core::service::acl::{NewAssignment, NewPolicy};
use heracles_core::service::departments::{DepartmentUpdate, NewDepartment};
use heracles_core::service::groups::{GroupType, NewGroup};
use heracles_core::service::templates::{NewTemplate, TemplateUpdate};
use heracles_core::service::{Heracles, ListQuery, Principal};
use heracles_core::ErrorCode;
use serde_json::{json, Map, Value};

use crate::fixture::Target;

fn body(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn unique(label: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{label}{}y{}",
        std::process::id() % 10_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The events of one request id, oldest first.
async fn events_of(h: &Heracles, rid: &str) -> Vec<AuditEvent> {
    let admin = Principal::system(h.base());
    let mut all = h
        .audit()
        .list(
            &admin,
            &ListQuery::default().filter(format!("request_id:eq:{rid}")),
            None,
            None,
        )
        .await
        .unwrap()
        .data;
    all.reverse();
    all
}

/// One write in its own request; answers its single event.
async fn one_event(h: &Heracles, rid: &str) -> AuditEvent {
    let mut e = events_of(h, rid).await;
    assert_eq!(e.len(), 1, "one event for request {rid}: {e:#?}");
    e.remove(0)
}

fn change<'e>(e: &'e AuditEvent, attr: &str) -> &'e heracles_core::audit::AttributeChange {
    e.changes
        .iter()
        .find(|c| c.attribute.eq_ignore_ascii_case(attr))
        .unwrap_or_else(|| panic!("no change of {attr} in {e:#?}"))
}

pub async fn every_write_is_audited(t: &Target) {
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    let system = Principal::system(&t.base);
    let tag = unique("aud");
    // A principal per request: its id and client address go into the events.
    let admin = |step: &str| {
        system
            .clone()
            .for_request(format!("{tag}-{step}"), Some("192.0.2.7".into()))
    };
    let rid = |step: &str| format!("{tag}-{step}");

    // Users.
    let uid = format!("{tag}u");
    let user = h
        .users()
        .create(
            &admin("ucreate"),
            &body(json!({"uid": uid, "cn": "Audit Me", "sn": "Me",
                         "userPassword": "Audit-Passw0rd-1"})),
        )
        .await
        .unwrap();
    let e = one_event(&h, &rid("ucreate")).await;
    assert_eq!(
        (e.action.as_str(), e.object_type.as_str(), e.result.as_str()),
        ("create", "user", "success")
    );
    assert_eq!(e.target, user.dn.to_string());
    assert_eq!(e.actor, t.base.to_string());
    assert_eq!(e.client_address.as_deref(), Some("192.0.2.7"));
    assert_eq!(change(&e, "cn").new, ["Audit Me"]);
    let pw = change(&e, "userPassword");
    assert!(
        pw.new
            .iter()
            .all(|v| v.starts_with(REDACTED.trim_end_matches(']'))),
        "{pw:?}"
    );
    assert!(!serde_json::to_string(&e)
        .unwrap()
        .contains("Audit-Passw0rd-1"));

    h.users()
        .update(&admin("umod"), &uid, &body(json!({"title": "Auditor"})))
        .await
        .unwrap();
    let e = one_event(&h, &rid("umod")).await;
    assert_eq!(
        (e.action.as_str(), e.result.as_str()),
        ("modify", "success")
    );
    let title = change(&e, "title");
    assert!(title.old.is_empty());
    assert_eq!(title.new, ["Auditor"]);

    h.users()
        .set_password(&admin("upw"), &uid, None, "Audit-Passw0rd-2")
        .await
        .unwrap();
    let e = one_event(&h, &rid("upw")).await;
    assert_eq!(e.action, "password");
    let text = serde_json::to_string(&e).unwrap();
    assert!(
        !text.contains("Audit-Passw0rd-2") && !text.contains("{ARGON2}$"),
        "{text}"
    );

    h.users().lock(&admin("ulock"), &uid).await.unwrap();
    assert_eq!(one_event(&h, &rid("ulock")).await.action, "lock");
    h.users().unlock(&admin("uunlock"), &uid).await.unwrap();
    assert_eq!(one_event(&h, &rid("uunlock")).await.action, "unlock");

    // A denied attempt: one event with the error code, nothing changed.
    let nobody = h
        .principal(&user.dn)
        .await
        .unwrap()
        .for_request(rid("denied"), None);
    let err = h
        .users()
        .update(&nobody, &uid, &body(json!({"uidNumber": 1})))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AclDenied);
    let e = one_event(&h, &rid("denied")).await;
    assert_eq!(
        (e.action.as_str(), e.result.as_str()),
        ("modify", "ACL_DENIED")
    );
    assert_eq!(e.actor, user.dn.to_string());

    // Departments, groups, templates.
    let dept = h
        .departments()
        .create(
            &admin("dcreate"),
            &NewDepartment {
                ou: format!("{tag}D"),
                description: None,
                parent: None,
            },
        )
        .await
        .unwrap();
    let e = one_event(&h, &rid("dcreate")).await;
    assert_eq!(
        (e.action.as_str(), e.object_type.as_str()),
        ("create", "department")
    );
    assert_eq!(e.target, dept.dn.to_string());
    h.departments()
        .update(
            &admin("dmod"),
            &dept.dn.to_string(),
            None,
            &DepartmentUpdate {
                description: Some(Some("Audited".into())),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        change(&one_event(&h, &rid("dmod")).await, "description").new,
        ["Audited"]
    );

    let cn = format!("{tag}g");
    h.groups()
        .create(
            &admin("gcreate"),
            &NewGroup {
                cn: cn.clone(),
                group_type: Some(GroupType::Posix),
                ..NewGroup::default()
            },
        )
        .await
        .unwrap();
    let e = one_event(&h, &rid("gcreate")).await;
    assert_eq!(
        (e.action.as_str(), e.object_type.as_str()),
        ("create", "group")
    );
    h.groups()
        .add_members(&admin("gadd"), &cn, std::slice::from_ref(&uid))
        .await
        .unwrap();
    assert_eq!(
        change(&one_event(&h, &rid("gadd")).await, "memberUid").new,
        [uid.as_str()]
    );
    h.groups()
        .remove_member(&admin("grm"), &cn, &uid)
        .await
        .unwrap();
    assert_eq!(
        change(&one_event(&h, &rid("grm")).await, "memberUid").old,
        [uid.as_str()]
    );
    h.groups()
        .update(
            &admin("gmod"),
            &cn,
            &body(json!({"description": "Audited"})),
        )
        .await
        .unwrap();
    assert_eq!(one_event(&h, &rid("gmod")).await.action, "modify");
    h.groups().delete(&admin("gdel"), &cn).await.unwrap();
    let e = one_event(&h, &rid("gdel")).await;
    assert_eq!(
        (e.action.as_str(), e.result.as_str()),
        ("delete", "success")
    );

    let name = format!("{tag}t");
    h.templates()
        .create(
            &admin("tcreate"),
            &NewTemplate {
                name: name.clone(),
                description: None,
                defaults: body(json!({"loginShell": "/bin/sh"})),
            },
        )
        .await
        .unwrap();
    assert_eq!(one_event(&h, &rid("tcreate")).await.object_type, "template");
    h.templates()
        .update(
            &admin("tmod"),
            &name,
            &TemplateUpdate {
                description: Some(Some("Audited".into())),
                defaults: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(one_event(&h, &rid("tmod")).await.action, "modify");
    h.templates().delete(&admin("tdel"), &name).await.unwrap();
    assert_eq!(one_event(&h, &rid("tdel")).await.action, "delete");

    // ACL: a policy and an assignment, created and deleted.
    let policy = format!("{tag}p");
    h.acl()
        .create_policy(
            &admin("pcreate"),
            &serde_json::from_value::<NewPolicy>(
                json!({"name": policy, "permissions": ["dns:read"]}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let e = one_event(&h, &rid("pcreate")).await;
    assert_eq!(
        (e.action.as_str(), e.object_type.as_str()),
        ("create", "acl")
    );
    let a = h
        .acl()
        .create_assignment(
            &admin("acreate"),
            &NewAssignment {
                policy: policy.clone(),
                subject_type: SubjectType::User,
                subject: uid.clone(),
                scope_type: ScopeType::Tree,
                scope: None,
                deny: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        change(&one_event(&h, &rid("acreate")).await, "heraclesPolicyName").new,
        [policy.as_str()]
    );
    h.acl()
        .delete_assignment(&admin("adel"), &a.id)
        .await
        .unwrap();
    assert_eq!(one_event(&h, &rid("adel")).await.action, "delete");
    h.acl()
        .delete_policy(&admin("pdel"), &policy)
        .await
        .unwrap();
    assert_eq!(one_event(&h, &rid("pdel")).await.action, "delete");

    // The user's deletion, and the department's (recursive).
    h.users().delete(&admin("udel"), &uid).await.unwrap();
    let e = one_event(&h, &rid("udel")).await;
    assert_eq!(
        (e.action.as_str(), e.target.as_str()),
        ("delete", user.dn.to_string().as_str())
    );
    assert_eq!(change(&e, "cn").old, ["Audit Me"]);
    h.departments()
        .delete(&admin("ddel"), &dept.dn.to_string(), None, true)
        .await
        .unwrap();
    assert_eq!(one_event(&h, &rid("ddel")).await.action, "delete");
}

/// Settings changes are audited too (on a private directory: they change settings).
#[tokio::test]
async fn settings_changes_are_audited() {
    let t = Target::embedded().await;
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    let admin = Principal::system(&t.base).for_request("set-1", None);
    h.settings()
        .set(&admin, "default_login_shell", json!("/bin/zsh"))
        .await
        .unwrap();
    let e = one_event(&h, "set-1").await;
    assert_eq!(
        (e.action.as_str(), e.object_type.as_str()),
        ("modify", "settings")
    );
    let admin = Principal::system(&t.base).for_request("reset-1", None);
    h.settings()
        .reset(&admin, "default_login_shell")
        .await
        .unwrap();
    assert_eq!(one_event(&h, "reset-1").await.action, "reset");
}
