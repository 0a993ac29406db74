//! The embedded directory: a durable, schema-aware directory in a folder, no server needed.
//! Seeds it from LDIF, searches it with slapd's matching rules, shows a schema error with
//! slapd's result code, reopens it, shows its data file, and exports it as LDIF.
//!
//! ```sh
//! cargo run -p heracles-examples --example embedded_directory
//! ```

use heracles_core::directory::{Directory, EmbeddedDirectory, Entry, Scope, SearchRequest};
use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::Filter;

const SEED: &str = "\
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: uid=jdoe,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
objectClass: posixAccount
uid: jdoe
cn: John Doe
sn: Doe
uidNumber: 10001
gidNumber: 10000
homeDirectory: /home/jdoe
loginShell: /bin/zsh

dn: uid=asmith,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
objectClass: posixAccount
uid: asmith
cn: Alice Smith
sn: Smith
uidNumber: 10002
gidNumber: 10000
homeDirectory: /home/asmith
loginShell: /bin/bash
";

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = std::env::temp_dir().join(format!("heracles-example-{}", std::process::id()));
    let base = Dn::parse("dc=example,dc=com")?;
    let people = base.child(Rdn::new("ou", "people")?);
    {
        let dir = EmbeddedDirectory::open(&folder, &base)?;
        let n = dir.import_ldif(SEED.as_bytes(), |_| {})?;
        println!("imported {n} entries into {}", folder.display());

        let search = |f: &str| -> Result<SearchRequest, heracles_core::Error> {
            Ok(
                SearchRequest::new(people.clone(), Scope::One, Filter::parse(f)?)
                    .attributes(["uid"]),
            )
        };
        for f in [
            "(uid=JDOE)",
            "(uidNumber>=10002)",
            "(cn=*smith*)",
            "(loginShell=*zsh*)",
        ] {
            let found = dir.search(&search(f)?).await?;
            let uids: Vec<_> = found.iter().filter_map(|e| e.first_str("uid")).collect();
            println!("{f:<22} -> {uids:?}");
        }
        println!("(loginShell has no SUBSTR rule in the nis schema: like slapd, no match)");

        let bad = Entry::new(people.child(Rdn::new("uid", "nosn")?))
            .with("objectClass", ["inetOrgPerson"])
            .with("uid", ["nosn"])
            .with("cn", ["No Surname"]);
        if let Err(e) = dir.add(&bad).await {
            println!(
                "add without sn: {} — {} (ldap code {})",
                e.code(),
                e.message(),
                e.details()["ldap_result_code"]
            );
        }
    }
    // Every acknowledged write is on disk: reopen and look.
    let dir = EmbeddedDirectory::open(&folder, &base)?;
    let jdoe = dir
        .get(
            &people.child(Rdn::new("uid", "jdoe")?),
            &["cn", "entryUUID"],
        )
        .await?;
    println!(
        "after reopen: cn={:?} entryUUID={:?}",
        jdoe.as_ref().and_then(|e| e.first_str("cn")),
        jdoe.as_ref().and_then(|e| e.first_str("entryUUID"))
    );
    // Entries and indexes live in one data file, read through the page cache: the
    // process does not hold the directory in memory.
    let stats = dir.stats()?;
    println!(
        "data file: {} entries in {} bytes ({})",
        stats.entries,
        stats.file_bytes,
        folder.join("data.redb").display()
    );
    assert!(stats.entries >= 3 && stats.file_bytes > 0);
    let mut ldif = Vec::new();
    let n = dir.export_ldif(&mut ldif)?;
    assert_eq!(n, stats.entries);
    println!(
        "exported {n} entries, {} bytes of LDIF; first lines:",
        ldif.len()
    );
    for line in String::from_utf8_lossy(&ldif).lines().take(6) {
        println!("  {line}");
    }
    drop(dir);
    std::fs::remove_dir_all(&folder)?;
    Ok(())
}
