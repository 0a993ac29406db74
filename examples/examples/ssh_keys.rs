//! Users' SSH public keys: `sshPublicKey` values (class `ldapPublicKey`) in the OpenSSH
//! one-line format an sshd `AuthorizedKeysCommand` prints — a user adding its own key,
//! the fingerprint `ssh-keygen -l` shows, a duplicate and a weak key refused, the stored
//! values, and removal by id.
//!
//! ```sh
//! cargo run -p heracles-examples --example ssh_keys
//! ```

use std::sync::Arc;

use heracles_core::directory::EmbeddedDirectory;
use heracles_core::dn::Dn;
use heracles_core::service::ssh_keys::NewSshKey;
use heracles_core::service::{Heracles, ListQuery, Principal};
use heracles_core::sshkey::PublicKey;
use serde_json::json;

const LAPTOP: &str = "ssh-ed25519 \
    AAAAC3NzaC1lZDI1NTE5AAAAINhIL8LfQ/ZK9k1lPgjiPMTPAW7H89EOGHDVMGerbi8R jdoe@laptop";
const CI: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLeZ\
    Cp55ZCt9DLSrtSIGvT0dV7EsgHjkh+V7TM5/O0816hi5ZAAOYpuJZalpU4T3GKA9vWv/yJLq6Wgu8o1r1pA= ci@build";
const WEAK: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDFbHBSv9Zxz8KDaB2Vt8EwVU0cVMzLYa//gGDy\
    16IMw20xb3xRse64IQPcXa0J8Q4r40cQsxLXkbVzXpu4BZ2/UHGFSfiXcI4CEHjkfZHQRKSkkNQTwMMsf33x+DhUII5j\
    UGMK/f4XpkNzSh/3KnRdLAFJqG5ez20QfB340/Nriw== old@box";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::temp_dir().join(format!("heracles-ssh-{}", std::process::id()));
    let base = Dn::parse("dc=example,dc=com")?;
    let h = Heracles::new(
        Arc::new(EmbeddedDirectory::open(&folder, &base)?),
        base.clone(),
    );
    h.bootstrap(Some("Admin-Passw0rd-1")).await?;
    let admin = Principal::system(&base);
    let user = h
        .users()
        .create(
            &admin,
            json!({"uid": "jdoe", "cn": "John Doe", "sn": "Doe"})
                .as_object()
                .ok_or("not an object")?,
        )
        .await?;

    // The parser alone: what ssh-keygen -l -f id_ed25519.pub prints.
    let key = PublicKey::parse(LAPTOP)?;
    println!(
        "{} {} {} ({})",
        key.bits(),
        key.fingerprint(),
        key.comment().unwrap_or(""),
        key.key_type()
    );

    // The built-in `self` policy lets jdoe manage its own keys.
    let jdoe = h.principal(&user.dn).await?;
    let keys = h.ssh_keys();
    let added = keys
        .add(
            &jdoe,
            "jdoe",
            &NewSshKey {
                public_key: format!("{LAPTOP}\n"),
            },
        )
        .await?;
    println!("added {} (id {})", added.public_key, added.id);
    keys.add(
        &admin,
        "jdoe",
        &NewSshKey {
            public_key: CI.into(),
        },
    )
    .await?;
    for refused in [LAPTOP.replace("jdoe@laptop", "same key"), WEAK.to_owned()] {
        if let Err(e) = keys
            .add(
                &jdoe,
                "jdoe",
                &NewSshKey {
                    public_key: refused,
                },
            )
            .await
        {
            println!("refused: {} {}", e.code(), e.message());
        }
    }

    // What an AuthorizedKeysCommand (ldapsearch ... sshPublicKey) prints for jdoe.
    let entry = h
        .directory()
        .get(&user.dn, &["sshPublicKey"])
        .await?
        .ok_or("jdoe is gone")?;
    for line in entry.strs("sshPublicKey") {
        println!("authorized_keys: {line}");
    }

    let page = keys
        .list(
            &jdoe,
            "jdoe",
            &ListQuery::default().filter("type:starts:ecdsa"),
        )
        .await?;
    for k in &page.data {
        println!(
            "{} {:?} {:?} bits={:?}",
            k.key_type, k.comment, k.fingerprint, k.bits
        );
        keys.delete(&jdoe, "jdoe", &k.id).await?;
    }
    keys.delete(&jdoe, "jdoe", &added.id).await?;
    let left = h.users().get(&admin, "jdoe").await?;
    println!(
        "keys left: {:?}, classes: {:?}",
        left.field("sshPublicKey"),
        left.object_class
    );

    drop(h);
    std::fs::remove_dir_all(&folder)?;
    Ok(())
}
