//! Moving a user between departments (`Users::move_to`), on both backends: the entry is
//! renamed with its password, and what names it by DN follows — group members (ldap and
//! mixed groups), ACL assignments (subject and entry scope); the move needs `user:delete`
//! where it is and `user:create` where it goes; it is audited as a rename.

use heracles_core::acl::{Action, ObjectType, Permission, ScopeType, SubjectType};
use heracles_core::dn::Dn;
use heracles_core::service::acl::NewAssignment;
use heracles_core::service::departments::NewDepartment;
use heracles_core::service::groups::{GroupType, NewGroup};
use heracles_core::service::{Heracles, ListQuery, Principal};
use heracles_core::ErrorCode;
use serde_json::{json, Map, Value};

use crate::fixture::Target;

fn unique(label: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{label}{}m{}",
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

async fn department(h: &Heracles, admin: &Principal, name: &str) -> Dn {
    h.departments()
        .create(
            admin,
            &NewDepartment {
                ou: unique(name),
                description: None,
                parent: None,
            },
        )
        .await
        .unwrap()
        .dn
}

pub async fn users_move_between_departments(t: &Target) {
    let h = Heracles::new(t.dir.clone(), t.base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    let admin = Principal::system(&t.base);
    let (a, b) = (
        department(&h, &admin, "MoveA").await,
        department(&h, &admin, "MoveB").await,
    );
    let (uid, helper) = (unique("mover"), unique("helper"));
    let user = h
        .users()
        .create(
            &admin,
            &body(
                json!({"uid": uid, "cn": "Mover", "sn": "M", "department": a.to_string(),
                          "userPassword": "Mover-Passw0rd-1", "posix": {"uidNumber": null}}),
            ),
        )
        .await
        .unwrap();
    h.users()
        .create(
            &admin,
            &body(json!({"uid": helper, "cn": "Helper", "sn": "H"})),
        )
        .await
        .unwrap();
    let (ldap_group, mixed_group) = (unique("mvl"), unique("mvm"));
    for (cn, kind) in [
        (&ldap_group, GroupType::Ldap),
        (&mixed_group, GroupType::Mixed),
    ] {
        h.groups()
            .create(
                &admin,
                &NewGroup {
                    cn: cn.clone(),
                    group_type: Some(kind),
                    members: vec![user.dn.to_string()],
                    ..NewGroup::default()
                },
            )
            .await
            .unwrap();
    }
    // An assignment naming the user as subject, one naming it as the entry scope.
    let as_subject = h
        .acl()
        .create_assignment(
            &admin,
            &NewAssignment {
                policy: "viewer".into(),
                subject_type: SubjectType::User,
                subject: uid.clone(),
                scope_type: ScopeType::Tree,
                scope: None,
                deny: false,
            },
        )
        .await
        .unwrap();
    let as_scope = h
        .acl()
        .create_assignment(
            &admin,
            &NewAssignment {
                policy: "user-manager".into(),
                subject_type: SubjectType::User,
                subject: helper.clone(),
                scope_type: ScopeType::Entry,
                scope: Some(user.dn.to_string()),
                deny: false,
            },
        )
        .await
        .unwrap();

    // Someone who may manage only the user itself cannot move it into B (it may neither
    // read B nor create users there), and nothing changes.
    let helper_dn = h.users().get(&admin, &helper).await.unwrap().dn;
    let hp = h.principal(&helper_dn).await.unwrap();
    let err = h
        .users()
        .move_to(&hp, &uid, Some(&b.to_string()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AclDenied);
    assert_eq!(h.users().get(&admin, &uid).await.unwrap().dn, user.dn);

    // The owner moves it (B named by its ou).
    let ou_b = b.rdn().unwrap().value().to_owned();
    let moved = h.users().move_to(&admin, &uid, Some(&ou_b)).await.unwrap();
    assert_eq!(moved.dn.parent().unwrap(), b);
    assert_eq!(moved.dn.rdn(), user.dn.rdn());
    assert_eq!(moved.attributes["uidNumber"], user.attributes["uidNumber"]);
    let mut groups = moved.groups.clone();
    groups.sort();
    let mut expected = vec![ldap_group.clone(), mixed_group.clone()];
    expected.sort();
    assert_eq!(groups, expected);
    for cn in [&ldap_group, &mixed_group] {
        let g = h.groups().get(&admin, cn).await.unwrap();
        assert_eq!(g.members, vec![uid.clone()], "{cn}");
        assert_eq!(g.member_count, 1, "{cn}");
        // The stored member value is the new DN (refint on slapd may have raced us).
        let e = h
            .directory()
            .get(&g.dn, &["member"])
            .await
            .unwrap()
            .unwrap();
        let members: Vec<Dn> = e
            .strs("member")
            .iter()
            .map(|m| Dn::parse(m).unwrap())
            .collect();
        assert!(members.contains(&moved.dn), "{cn}: {members:?}");
        assert!(!members.contains(&user.dn), "{cn}: {members:?}");
    }
    // The password came along; the assignments name the new DN.
    let logged = h
        .users()
        .authenticate(&uid, "Mover-Passw0rd-1")
        .await
        .unwrap();
    assert_eq!(logged.map(|u| u.dn), Some(moved.dn.clone()));
    let assignments = h
        .acl()
        .assignments(&admin, &ListQuery::default().filter("policy:eq:viewer"))
        .await
        .unwrap();
    let mine = assignments
        .data
        .iter()
        .find(|x| x.id == as_subject.id)
        .unwrap();
    assert_eq!(mine.subject, moved.dn);
    let scoped = h
        .acl()
        .assignments(
            &admin,
            &ListQuery::default().filter(format!("id:eq:{}", as_scope.id)),
        )
        .await
        .unwrap();
    assert_eq!(scoped.data[0].scope.as_ref(), Some(&moved.dn));
    let p = h.principal(&moved.dn).await.unwrap();
    assert!(p.allows(Permission::new(ObjectType::Group, Action::Read), &t.base));
    // The helper still manages the user at its new place.
    let hp = h.principal(&helper_dn).await.unwrap();
    assert!(hp.allows(Permission::new(ObjectType::User, Action::Write), &moved.dn));

    // Audited as a rename, with the DN change.
    let events = h
        .audit()
        .list(
            &admin,
            &ListQuery::default()
                .filter("action:eq:rename")
                .filter(format!("target:eq:{}", user.dn)),
            None,
            None,
        )
        .await
        .unwrap();
    let ok = events
        .data
        .iter()
        .find(|e| e.result == "success")
        .expect("a successful rename event");
    assert_eq!(ok.changes[0].attribute, "dn");
    assert_eq!(ok.changes[0].new, vec![moved.dn.to_string()]);
    assert!(events.data.iter().any(|e| e.result == "ACL_DENIED"));

    // Back to the people container; moving where it is changes nothing.
    let back = h.users().move_to(&admin, &uid, None).await.unwrap();
    assert_eq!(
        back.dn.parent().unwrap(),
        Dn::parse(&format!("ou=people,{}", t.base)).unwrap()
    );
    assert_eq!(h.users().move_to(&admin, &uid, None).await.unwrap(), back);
    let err = h
        .users()
        .move_to(&admin, &uid, Some("no-such-department-anywhere"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::DepartmentNotFound);
    let err = h
        .users()
        .move_to(&admin, "no-such-user-anywhere", None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::UserNotFound);

    // Clean up.
    for cn in [&ldap_group, &mixed_group] {
        h.groups().delete(&admin, cn).await.unwrap();
    }
    h.users().delete(&admin, &uid).await.unwrap();
    h.users().delete(&admin, &helper).await.unwrap();
    for d in [&a, &b] {
        h.departments()
            .delete(&admin, &d.to_string(), None, true)
            .await
            .unwrap();
    }
}
