//! Access control through the core: a helpdesk group manages the users of one department
//! and nothing else; a custom policy with attribute rules; deny precedence; the reasons
//! behind decisions; and the audit trail of it all.
//!
//! ```sh
//! cargo run -p heracles-examples --example acl
//! ```

use std::sync::Arc;

use heracles_core::acl::{ScopeType, SubjectType};
use heracles_core::directory::EmbeddedDirectory;
use heracles_core::dn::Dn;
use heracles_core::service::acl::{CheckRequest, NewAssignment, NewPolicy};
use heracles_core::service::departments::NewDepartment;
use heracles_core::service::groups::NewGroup;
use heracles_core::service::{Heracles, ListQuery, Principal};
use serde_json::{json, Map, Value};

fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn check(action: &str, object: &str, dn: Option<&Dn>, attribute: Option<&str>) -> CheckRequest {
    CheckRequest {
        action: action.into(),
        object_type: object.into(),
        object_dn: dn.map(ToString::to_string),
        attribute: attribute.map(str::to_owned),
    }
}

#[tokio::main(flavor = "current_thread")]
#[allow(clippy::too_many_lines)] // an example reads top to bottom, one step after the other
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::temp_dir().join(format!("heracles-acl-{}", std::process::id()));
    let base = Dn::parse("dc=example,dc=com")?;
    let h = Heracles::new(
        Arc::new(EmbeddedDirectory::open(&folder, &base)?),
        base.clone(),
    );
    h.bootstrap(Some("Admin-Passw0rd-1")).await?;
    let admin = Principal::system(&base);

    // A department, a user in it and one outside, and a helpdesk group with one member.
    let sales = h
        .departments()
        .create(
            &admin,
            &NewDepartment {
                ou: "Sales".into(),
                description: None,
                parent: None,
            },
        )
        .await?
        .dn;
    for (uid, dept) in [("alice", Some(sales.to_string())), ("bob", None)] {
        let mut body =
            json!({"uid": uid, "cn": uid, "sn": uid, "mail": format!("{uid}@example.com")});
        if let Some(d) = dept {
            body["department"] = json!(d);
        }
        h.users().create(&admin, &fields(body)).await?;
    }
    let helper = h
        .users()
        .create(
            &admin,
            &fields(json!({"uid": "helper", "cn": "Help Desk", "sn": "Desk"})),
        )
        .await?;
    h.groups()
        .create(
            &admin,
            &NewGroup {
                cn: "helpdesk".into(),
                members: vec!["helper".into()],
                ..NewGroup::default()
            },
        )
        .await?;
    h.acl()
        .create_assignment(
            &admin,
            &NewAssignment {
                policy: "user-manager".into(),
                subject_type: SubjectType::Group,
                subject: "helpdesk".into(),
                scope_type: ScopeType::Subtree,
                scope: Some(sales.to_string()),
                deny: false,
            },
        )
        .await?;

    // The helper's principal: its ACL compiled from the directory.
    let p = h.principal(&helper.dn).await?;
    h.users()
        .update(&p, "alice", &fields(json!({"title": "Account manager"})))
        .await?;
    println!("helper changed alice (in Sales)");
    match h
        .users()
        .update(&p, "bob", &fields(json!({"title": "x"})))
        .await
    {
        Err(e) => println!(
            "helper changing bob: {} {}",
            e.code(),
            serde_json::to_string(e.details())?
        ),
        Ok(_) => return Err("bob is outside the helpdesk's scope".into()),
    }
    let page = h.users().list(&p, &ListQuery::default()).await?;
    let seen: Vec<&str> = page.data.iter().map(|u| u.uid.as_str()).collect();
    println!(
        "helper's user list: {seen:?} (total {})",
        page.pagination.total
    );

    // A custom policy with attribute rules: phone numbers only.
    h.acl()
        .create_policy(
            &admin,
            &serde_json::from_value::<NewPolicy>(json!({
                "name": "phone-book",
                "permissions": ["user:read", "user:write"],
                "attributes": {"user": {"read": ["cn", "telephoneNumber"], "write": ["telephoneNumber"]}}
            }))?,
        )
        .await?;
    h.acl()
        .create_assignment(
            &admin,
            &NewAssignment {
                policy: "phone-book".into(),
                subject_type: SubjectType::User,
                subject: "helper".into(),
                scope_type: ScopeType::Tree,
                scope: None,
                deny: false,
            },
        )
        .await?;
    let p = h.principal(&helper.dn).await?;
    let bob = h.users().get(&p, "bob").await?;
    println!(
        "bob as the phone book shows him: mail {:?}, cn {:?}",
        bob.field("mail"),
        bob.cn
    );
    let bob_dn = bob.dn.clone();
    for (attr, what) in [("telephoneNumber", "write"), ("mail", "write")] {
        let d = h
            .acl()
            .check(&p, &check(what, "user", Some(&bob_dn), Some(attr)))?;
        println!("may {what} bob's {attr}? {} — {}", d.allowed, d.reason);
    }

    // A deny on the department beats the group's grant (equal specificity: deny wins).
    h.acl()
        .create_assignment(
            &admin,
            &NewAssignment {
                policy: "user-manager".into(),
                subject_type: SubjectType::User,
                subject: "helper".into(),
                scope_type: ScopeType::Subtree,
                scope: Some(sales.to_string()),
                deny: true,
            },
        )
        .await?;
    let p = h.principal(&helper.dn).await?;
    let alice = h.users().get(&admin, "alice").await?.dn;
    let d = h
        .acl()
        .check(&p, &check("write", "user", Some(&alice), None))?;
    println!(
        "after the deny, may helper write alice? {} — {}",
        d.allowed, d.reason
    );

    let perms = h.acl().permissions_of(&admin, "helper").await?;
    let names: Vec<String> = perms.permissions.iter().map(ToString::to_string).collect();
    println!(
        "helper's permissions: {names:?} ({} grants)",
        perms.grants.len()
    );

    // Everything above is in the audit trail.
    let trail = h
        .audit()
        .list(
            &admin,
            &ListQuery::default().filter(format!("actor:eq:{}", helper.dn)),
            None,
            None,
        )
        .await?;
    for e in trail.data.iter().rev() {
        println!(
            "audit: {} {} {} -> {}",
            e.actor, e.action, e.target, e.result
        );
    }
    drop(h);
    std::fs::remove_dir_all(&folder)?;
    Ok(())
}
