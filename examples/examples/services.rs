//! The core services — the same rules the REST server and Python use: bootstrap, users with
//! POSIX allocation and password policy, groups kept consistent, departments, templates,
//! settings, lists with `attr:op:value` filters, and conditional writes (`If-Match`).
//!
//! ```sh
//! cargo run -p heracles-examples --example services
//! ```

use std::sync::Arc;

use heracles_core::directory::EmbeddedDirectory;
use heracles_core::dn::Dn;
use heracles_core::service::departments::NewDepartment;
use heracles_core::service::groups::{GroupType, NewGroup};
use heracles_core::service::{etag_of, Heracles, IfMatch, ListQuery, Principal};
use heracles_core::ErrorCode;
use serde_json::{json, Map, Value};

/// A JSON object literal as the field map the services take.
fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Writes only if nobody changed the user since it was read (the REST `If-Match`).
async fn conditional_update(
    h: &Heracles,
    admin: &Principal,
) -> Result<(), Box<dyn std::error::Error>> {
    // (The user read at creation is already stale: joining `developers` changed its groups.)
    let seen = IfMatch::parse(&etag_of(&h.users().get(admin, "jdoe").await?)?);
    h.users()
        .if_match(Some(&seen))
        .update(admin, "jdoe", &fields(json!({"title": "Engineer"})))
        .await?;
    match h
        .users()
        .if_match(Some(&seen))
        .update(admin, "jdoe", &fields(json!({"title": "Architect"})))
        .await
    {
        Err(e) if e.code() == ErrorCode::PreconditionFailed => {
            println!("second write with the old version: {}", e.code());
        }
        other => return Err(format!("a stale version must be refused: {other:?}").into()),
    }

    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::temp_dir().join(format!("heracles-services-{}", std::process::id()));
    let base = Dn::parse("dc=example,dc=com")?;
    let h = Heracles::new(
        Arc::new(EmbeddedDirectory::open(&folder, &base)?),
        base.clone(),
    );
    let report = h.bootstrap(Some("Admin-Passw0rd-1")).await?;
    println!(
        "bootstrap created {} entries; administrator: {:?}",
        report.created.len(),
        report.admin_dn.map(|d| d.to_string())
    );

    // Log in as the administrator: the directory checks the password.
    let admin_user = h
        .users()
        .authenticate("admin", "Admin-Passw0rd-1")
        .await?
        .ok_or("login failed")?;
    let admin: Principal = h.principal(&admin_user.dn).await?;
    println!("logged in as {} (administrator: {})", admin.dn, admin.admin);

    h.departments()
        .create(
            &admin,
            &NewDepartment {
                ou: "Engineering".into(),
                description: Some("R&D".into()),
                parent: None,
            },
        )
        .await?;
    let jdoe = h
        .users()
        .create(
            &admin,
            &fields(
                json!({"uid": "jdoe", "cn": "John Doe", "sn": "Doe", "mail": "jdoe@example.com",
                   "userPassword": "SecureP@ss123", "department": "Engineering",
                   "posix": {"uidNumber": null}}),
            ),
        )
        .await?;
    println!(
        "created {} uidNumber={:?} home={:?}",
        jdoe.dn,
        jdoe.field("uidNumber"),
        jdoe.field("homeDirectory")
    );

    let weak = h
        .users()
        .create(
            &admin,
            &fields(json!({"uid": "weak", "cn": "W", "sn": "W", "userPassword": "short"})),
        )
        .await;
    if let Err(e) = weak {
        println!("weak password: {} ({})", e.code(), e.message());
    }

    let devs = h
        .groups()
        .create(
            &admin,
            &NewGroup {
                cn: "developers".into(),
                group_type: Some(GroupType::Mixed),
                members: vec!["jdoe".into()],
                ..NewGroup::default()
            },
        )
        .await?;
    println!(
        "group {} ({:?}) gidNumber={:?} members={:?}",
        devs.cn, devs.group_type, devs.gid_number, devs.members
    );

    let page = h
        .users()
        .list(
            &admin,
            &ListQuery::default().filter("cn:contains:doe").sort("-uid"),
        )
        .await?;
    println!(
        "users matching cn:contains:doe: {} of {}",
        page.data.len(),
        page.pagination.total
    );

    conditional_update(&h, &admin).await?;

    // A user may change its own password, and nothing more (until access control policies).
    let me = h.principal(&jdoe.dn).await?;
    h.users()
        .set_password(&me, "jdoe", Some("SecureP@ss123"), "Even-Better-Pass-2")
        .await?;
    if let Err(e) = h.users().list(&me, &ListQuery::default()).await {
        println!("jdoe listing users: {}", e.code());
    }

    h.users().delete(&admin, "jdoe").await?;
    println!(
        "after deleting jdoe, developers has {} members",
        h.groups().get(&admin, "developers").await?.member_count
    );
    drop(h);
    std::fs::remove_dir_all(&folder)?;
    Ok(())
}
