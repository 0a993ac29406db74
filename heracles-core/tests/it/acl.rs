//! Access control through the core API, on both backends: the matrix of every built-in
//! policy × object × action × scope (tree, subtree, entry, self) on targets inside and
//! outside the scope and the principal's own entry; nested groups with a cycle; deny
//! precedence; attribute rules on read and write; delegation of user management to a
//! department.

use heracles_core::acl::{
    builtin_policies, Action, ObjectType, Permission, ScopeType, SubjectType,
};
use heracles_core::dn::Dn;
use heracles_core::service::acl::{CheckRequest, NewAssignment, NewPolicy};
use heracles_core::service::departments::NewDepartment;
use heracles_core::service::groups::{GroupType, NewGroup};
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
        "{label}{}x{}",
        std::process::id() % 10_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The world of one test: two departments, a subject user, targets.
struct World {
    h: Heracles,
    admin: Principal,
    sales: Dn,
    other: Dn,
    subject_uid: String,
    subject: Dn,
    in_sales: Dn,
}

async fn world(t: &Target) -> World {
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    let admin = Principal::system(&t.base);
    let mut depts = Vec::new();
    for name in ["Sales", "Other"] {
        let d = h
            .departments()
            .create(
                &admin,
                &NewDepartment {
                    ou: unique(name),
                    description: None,
                    parent: None,
                },
            )
            .await
            .unwrap();
        depts.push(d.dn);
    }
    let subject_uid = unique("subj");
    let subject = h
        .users()
        .create(
            &admin,
            &body(json!({"uid": subject_uid, "cn": "Subject", "sn": "Subject",
                         "userPassword": "Subject-Passw0rd-1"})),
        )
        .await
        .unwrap()
        .dn;
    let in_uid = unique("tin");
    let in_sales = h
        .users()
        .create(
            &admin,
            &body(json!({"uid": in_uid, "cn": "In Sales", "sn": "Sales",
                         "mail": "in@example.com", "telephoneNumber": "+1 555 0001",
                         "department": depts[0].to_string()})),
        )
        .await
        .unwrap()
        .dn;
    World {
        h,
        admin,
        sales: depts[0].clone(),
        other: depts[1].clone(),
        subject_uid,
        subject,
        in_sales,
    }
}

async fn teardown(w: &World) {
    for d in [&w.sales, &w.other] {
        w.h.departments()
            .delete(&w.admin, &d.to_string(), None, true)
            .await
            .unwrap();
    }
    w.h.users().delete(&w.admin, &w.subject_uid).await.unwrap();
}

/// What the matrix expects: the policy grants the permission and the scope holds the
/// target — or the implicit `self` policy (user:read, user:write) on the subject's entry.
fn expected(policy: &str, scope: ScopeType, w: &World, perm: Permission, target: &Dn) -> bool {
    let p = builtin_policies()
        .into_iter()
        .find(|p| p.name == policy)
        .unwrap();
    let in_scope = match scope {
        ScopeType::Tree => true,
        ScopeType::Subtree => target.is_descendant_or_self(&w.sales),
        ScopeType::Entry => target == &w.in_sales,
        ScopeType::SelfEntry => target == &w.subject,
    };
    let by_self = target == &w.subject
        && perm.object == ObjectType::User
        && matches!(perm.action, Action::Read | Action::Write);
    (p.perm_set().contains(perm) && in_scope) || by_self
}

/// Every built-in policy × object × action × scope, on a target inside the scope, one
/// outside, and the subject's own entry; through `AclService::check` with the subject's
/// real principal (its assignment stored in the directory).
pub async fn acl_matrix_through_the_core(t: &Target) {
    let w = world(t).await;
    let targets = [
        w.in_sales.clone(),
        w.other
            .child(heracles_core::dn::Rdn::new("cn", "elsewhere").unwrap()),
        w.subject.clone(),
    ];
    let mut checked = 0;
    for policy in ["admin", "user-manager", "group-manager", "viewer", "self"] {
        for scope in [
            ScopeType::Tree,
            ScopeType::Subtree,
            ScopeType::Entry,
            ScopeType::SelfEntry,
        ] {
            let a =
                w.h.acl()
                    .create_assignment(
                        &w.admin,
                        &NewAssignment {
                            policy: policy.into(),
                            subject_type: SubjectType::User,
                            subject: w.subject_uid.clone(),
                            scope_type: scope,
                            scope: match scope {
                                ScopeType::Subtree => Some(w.sales.to_string()),
                                ScopeType::Entry => Some(w.in_sales.to_string()),
                                _ => None,
                            },
                            deny: false,
                        },
                    )
                    .await
                    .unwrap();
            let p = w.h.principal(&w.subject).await.unwrap();
            for perm in Permission::all() {
                for target in &targets {
                    let d =
                        w.h.acl()
                            .check(
                                &p,
                                &CheckRequest {
                                    action: perm.action.to_string(),
                                    object_type: perm.object.to_string(),
                                    object_dn: Some(target.to_string()),
                                    attribute: None,
                                },
                            )
                            .unwrap();
                    assert_eq!(
                        d.allowed,
                        expected(policy, scope, &w, perm, target),
                        "{policy} over {scope}: {perm} on {target} ({})",
                        d.reason
                    );
                    checked += 1;
                }
            }
            w.h.acl().delete_assignment(&w.admin, &a.id).await.unwrap();
        }
    }
    assert_eq!(checked, 5 * 4 * 55 * 3);
    teardown(&w).await;
}

/// Nested groups (with a cycle), deny precedence, attribute rules and delegation — with
/// real operations, not only checks.
pub async fn acl_groups_denies_attributes_and_delegation(t: &Target) {
    let w = world(t).await;
    let (h, admin) = (&w.h, &w.admin);
    let user_write = Permission::new(ObjectType::User, Action::Write);

    // Nested groups: subject ∈ inner ∈ outer ∈ inner (a cycle). The helpdesk policy is
    // assigned to `outer` over Sales.
    let inner = unique("inner");
    let outer = unique("outer");
    for (cn, members) in [(&inner, vec![w.subject_uid.clone()]), (&outer, vec![])] {
        h.groups()
            .create(
                admin,
                &NewGroup {
                    cn: cn.clone(),
                    group_type: Some(GroupType::Ldap),
                    members,
                    ..NewGroup::default()
                },
            )
            .await
            .unwrap();
    }
    let inner_dn = h.groups().get(admin, &inner).await.unwrap().dn;
    let outer_dn = h.groups().get(admin, &outer).await.unwrap().dn;
    // Groups as members of groups: written directly (the API adds users only).
    t.dir()
        .modify(
            &outer_dn,
            &[heracles_core::directory::Modification::add(
                "member",
                [inner_dn.to_string()],
            )],
        )
        .await
        .unwrap();
    t.dir()
        .modify(
            &inner_dn,
            &[heracles_core::directory::Modification::add(
                "member",
                [outer_dn.to_string()],
            )],
        )
        .await
        .unwrap();
    let p = h.principal(&w.subject).await.unwrap();
    assert!(!p.allows(user_write, &w.in_sales));
    let grant = h
        .acl()
        .create_assignment(
            admin,
            &NewAssignment {
                policy: "user-manager".into(),
                subject_type: SubjectType::Group,
                subject: outer.clone(),
                scope_type: ScopeType::Subtree,
                scope: Some(w.sales.to_string()),
                deny: false,
            },
        )
        .await
        .unwrap();
    let p = h.principal(&w.subject).await.unwrap();
    assert!(p.allows(user_write, &w.in_sales), "through inner ⊂ outer");
    assert!(!p.allows(user_write, &w.other));

    // Delegation with real operations: manage users in Sales, nowhere else.
    let in_uid = h
        .users()
        .get(admin, w.in_sales.rdn().unwrap().value())
        .await
        .unwrap()
        .uid;
    h.users()
        .update(&p, &in_uid, &body(json!({"title": "Rep"})))
        .await
        .unwrap();
    let made = unique("made");
    h.users()
        .create(
            &p,
            &body(json!({"uid": made, "cn": "Made", "sn": "Made",
                         "department": w.sales.to_string()})),
        )
        .await
        .unwrap();
    let e = h
        .users()
        .create(
            &p,
            &body(json!({"uid": unique("nope"), "cn": "N", "sn": "N"})),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AclDenied);
    assert_eq!(e.details()["permission"], "user:create");
    // Lists: only Sales users and itself, and `total` counts only those.
    let page = h.users().list(&p, &ListQuery::default()).await.unwrap();
    let mut uids: Vec<String> = page.data.iter().map(|u| u.uid.clone()).collect();
    uids.sort();
    let mut want = vec![in_uid.clone(), made.clone(), w.subject_uid.clone()];
    // (`outside` is created below; the list is taken before.)
    want.sort();
    assert_eq!(uids, want);
    assert_eq!(page.pagination.total, 3);
    let outside = unique("out");
    h.users()
        .create(
            admin,
            &body(json!({"uid": outside, "cn": "Out", "sn": "Out",
                         "department": w.other.to_string()})),
        )
        .await
        .unwrap();
    let e = h
        .users()
        .update(&p, &outside, &body(json!({"title": "x"})))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AclDenied);
    assert_eq!(e.details()["permission"], "user:write");
    h.users().delete(&p, &made).await.unwrap();

    // Deny precedence: a deny on a deeper subtree beats the grant; at equal specificity
    // deny wins; an entry grant beats the deny.
    let deny = h
        .acl()
        .create_assignment(
            admin,
            &NewAssignment {
                policy: "user-manager".into(),
                subject_type: SubjectType::User,
                subject: w.subject_uid.clone(),
                scope_type: ScopeType::Subtree,
                scope: Some(w.sales.to_string()),
                deny: true,
            },
        )
        .await
        .unwrap();
    let p = h.principal(&w.subject).await.unwrap();
    assert!(
        !p.allows(user_write, &w.in_sales),
        "equal specificity: deny wins"
    );
    let e = h
        .users()
        .update(&p, &in_uid, &body(json!({"title": "Denied"})))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AclDenied);
    let entry = h
        .acl()
        .create_assignment(
            admin,
            &NewAssignment {
                policy: "user-manager".into(),
                subject_type: SubjectType::User,
                subject: w.subject_uid.clone(),
                scope_type: ScopeType::Entry,
                scope: Some(w.in_sales.to_string()),
                deny: false,
            },
        )
        .await
        .unwrap();
    let p = h.principal(&w.subject).await.unwrap();
    assert!(
        p.allows(user_write, &w.in_sales),
        "the entry grant is more specific"
    );
    for a in [&deny, &entry, &grant] {
        h.acl().delete_assignment(admin, &a.id).await.unwrap();
    }

    // Attribute rules: read cn and telephoneNumber, write telephoneNumber only.
    let policy = unique("phone");
    h.acl()
        .create_policy(
            admin,
            &serde_json::from_value::<NewPolicy>(json!({
                "name": policy,
                "permissions": ["user:read", "user:write"],
                "attributes": {"user": {"read": ["cn", "telephoneNumber"],
                                        "write": ["telephoneNumber"]}}
            }))
            .unwrap(),
        )
        .await
        .unwrap();
    let phone = h
        .acl()
        .create_assignment(
            admin,
            &NewAssignment {
                policy: policy.clone(),
                subject_type: SubjectType::User,
                subject: w.subject_uid.clone(),
                scope_type: ScopeType::Subtree,
                scope: Some(w.sales.to_string()),
                deny: false,
            },
        )
        .await
        .unwrap();
    let p = h.principal(&w.subject).await.unwrap();
    let seen = h.users().get(&p, &in_uid).await.unwrap();
    assert!(seen.field("telephoneNumber").is_some());
    assert!(
        seen.field("mail").is_none(),
        "mail is not readable: {seen:?}"
    );
    let full = h.users().get(admin, &in_uid).await.unwrap();
    assert!(full.field("mail").is_some());
    h.users()
        .update(
            &p,
            &in_uid,
            &body(json!({"telephoneNumber": "+1 555 0002"})),
        )
        .await
        .unwrap();
    let e = h
        .users()
        .update(&p, &in_uid, &body(json!({"mail": "x@example.com"})))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AclDenied);
    assert_eq!(e.details()["attribute"], "mail");
    let d = h
        .acl()
        .check(
            &p,
            &CheckRequest {
                action: "write".into(),
                object_type: "user".into(),
                object_dn: Some(w.in_sales.to_string()),
                attribute: Some("mail".into()),
            },
        )
        .unwrap();
    assert!(!d.allowed, "{}", d.reason);
    // Built-ins are read-only; a policy in use cannot be deleted.
    let e = h.acl().delete_policy(admin, "viewer").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
    let e = h.acl().delete_policy(admin, &policy).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::BusinessRuleViolation);
    h.acl().delete_assignment(admin, &phone.id).await.unwrap();
    h.acl().delete_policy(admin, &policy).await.unwrap();

    // The subject reading its own permissions; someone else's needs acl:read.
    let mine = h.acl().permissions_of(&p, &w.subject_uid).await.unwrap();
    assert_eq!(
        mine.permissions,
        vec![
            Permission::new(ObjectType::User, Action::Read),
            Permission::new(ObjectType::User, Action::Write)
        ]
    );
    let e = h.acl().permissions_of(&p, &in_uid).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AclDenied);

    // A deleted group leaves the groups it was nested in.
    h.groups().delete(admin, &inner).await.unwrap();
    let left = t.dir().get(&outer_dn, &["member"]).await.unwrap().unwrap();
    let members: Vec<Dn> = left
        .strs("member")
        .iter()
        .map(|m| Dn::parse(m).unwrap())
        .collect();
    assert!(!members.contains(&inner_dn), "{members:?}");
    assert!(
        !members.is_empty(),
        "the placeholder keeps groupOfNames valid"
    );
    h.groups().delete(admin, &outer).await.unwrap();
    teardown(&w).await;
}

/// The implicit `self` policy follows the `self_access` setting (changed here, so on a
/// private embedded directory), and the change takes effect at once on this instance.
#[tokio::test]
async fn self_access_can_be_turned_off() {
    let t = Target::embedded().await;
    let w = world(&t).await;
    let me = w.h.principal(&w.subject).await.unwrap();
    w.h.users().get(&me, &w.subject_uid).await.unwrap();
    w.h.settings()
        .set(&w.admin, "self_access", json!(false))
        .await
        .unwrap();
    let me = w.h.principal(&w.subject).await.unwrap();
    let e = w.h.users().get(&me, &w.subject_uid).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::AclDenied);
    let e =
        w.h.users()
            .set_password(
                &me,
                &w.subject_uid,
                Some("Subject-Passw0rd-1"),
                "Subject-Passw0rd-2",
            )
            .await
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::AclDenied);
    w.h.settings().reset(&w.admin, "self_access").await.unwrap();
    let me = w.h.principal(&w.subject).await.unwrap();
    w.h.users().get(&me, &w.subject_uid).await.unwrap();
}
