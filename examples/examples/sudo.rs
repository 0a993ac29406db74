//! Sudo rules: `sudoRole` entries below `ou=sudoers`, where sudo's LDAP backend and sssd
//! read them — a rule for a user and a group, the global `cn=defaults`, a refused value
//! (the error names it), a change under `If-Match`, a filtered list, and the rule as LDIF.
//!
//! ```sh
//! cargo run -p heracles-examples --example sudo
//! ```

use std::sync::Arc;

use heracles_core::directory::EmbeddedDirectory;
use heracles_core::dn::Dn;
use heracles_core::ldif;
use heracles_core::service::groups::{GroupType, NewGroup};
use heracles_core::service::sudo::{NewSudoRule, SudoRuleUpdate};
use heracles_core::service::{etag_of, Heracles, IfMatch, ListQuery, Principal};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::temp_dir().join(format!("heracles-sudo-{}", std::process::id()));
    let base = Dn::parse("dc=example,dc=com")?;
    let h = Heracles::new(
        Arc::new(EmbeddedDirectory::open(&folder, &base)?),
        base.clone(),
    );
    h.bootstrap(Some("Admin-Passw0rd-1")).await?;
    let admin = Principal::system(&base);

    // The people a rule names must exist: sudoUser `jdoe` is a uid, `%webadmins` a group.
    h.users()
        .create(
            &admin,
            json!({"uid": "jdoe", "cn": "John Doe", "sn": "Doe"})
                .as_object()
                .ok_or("not an object")?,
        )
        .await?;
    h.groups()
        .create(
            &admin,
            &NewGroup {
                cn: "webadmins".into(),
                group_type: Some(GroupType::Posix),
                ..NewGroup::default()
            },
        )
        .await?;

    let sudo = h.sudo();
    let rule: NewSudoRule = serde_json::from_value(json!({
        "cn": "web-admins",
        "sudoUser": ["jdoe", "%webadmins"],
        "sudoHost": ["ALL"],
        "sudoCommand": ["/usr/bin/systemctl restart nginx", "!/usr/bin/su"],
        "sudoRunAsUser": "root",
        "sudoOption": ["!authenticate"],
        "sudoNotAfter": "20351231235959Z"
    }))?;
    let created = sudo.create(&admin, &rule).await?;
    println!("created {} for {:?}", created.dn, created.sudo_user);

    // sudo's global options live in cn=defaults, which holds sudoOption only.
    let defaults: NewSudoRule = serde_json::from_value(
        json!({"cn": "defaults", "sudoOption": ["env_keep+=SSH_AUTH_SOCK"]}),
    )?;
    sudo.create(&admin, &defaults).await?;

    // Values sudo would not understand are refused, naming the value.
    for (field, value) in [
        ("sudoCommand", json!("systemctl restart nginx")),
        ("sudoUser", json!("jdeo")),
        ("sudoHost", json!("10.0.0.0/33")),
    ] {
        let mut body = json!({"cn": "bad", "sudoUser": "ALL", "sudoHost": "ALL",
                              "sudoCommand": "ALL"});
        body[field] = value;
        if let Err(e) = sudo.create(&admin, &serde_json::from_value(body)?).await {
            println!(
                "refused: {} {} ({})",
                e.code(),
                e.message(),
                e.details()["reason"]
            );
        }
    }

    // A change under If-Match: only the fields given change; null removes.
    let seen = IfMatch::parse(&etag_of(&created)?);
    let change: SudoRuleUpdate =
        serde_json::from_value(json!({"sudoHost": ["web1", "10.1.0.0/16"], "sudoNotAfter": null}))?;
    let changed = sudo
        .if_match(Some(&seen))
        .update(&admin, "web-admins", &change)
        .await?;
    println!("now on hosts {:?}", changed.sudo_host);
    if let Err(e) = sudo
        .if_match(Some(&seen))
        .update(&admin, "web-admins", &change)
        .await
    {
        println!("the same change with the old version: {}", e.code());
    }

    // Who may sudo as a member of webadmins?
    let page = sudo
        .list(
            &admin,
            &ListQuery::default().filter("sudoUser:eq:%webadmins"),
        )
        .await?;
    for r in &page.data {
        println!("rule {} commands {:?}", r.cn, r.sudo_command);
    }

    // The entry as sudo reads it (try: cvtsudoers -i ldif -f sudoers FILE).
    let entry = h
        .directory()
        .get(&changed.dn, &["*"])
        .await?
        .ok_or("the rule is gone")?;
    print!("{}", ldif::to_string([&entry])?);

    sudo.delete(&admin, "web-admins").await?;
    sudo.delete(&admin, "defaults").await?;
    drop(h);
    std::fs::remove_dir_all(&folder)?;
    Ok(())
}
