//! Talk to an LDAP server through `LdapDirectory`: add an entry, find it, change it, rename
//! it, check a password, delete it.
//!
//! ```sh
//! HERACLES_LDAP_URL=ldap://127.0.0.1:389 \
//! HERACLES_BIND_DN=cn=heracles-service,ou=heracles,dc=example,dc=com \
//! HERACLES_BIND_PASSWORD=... HERACLES_BASE_DN=dc=example,dc=com \
//!   cargo run -p heracles-examples --example ldap_directory
//! ```
//! (`scripts/test.sh` runs it against its throwaway slapd.)

use heracles_core::directory::{
    Directory, Entry, LdapConfig, LdapDirectory, Modification, Scope, SearchRequest,
};
use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::Filter;

fn setting(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name).map_err(|_| format!("set {name} (see the top of this file)").into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = LdapConfig::simple(
        &setting("HERACLES_LDAP_URL")?,
        &setting("HERACLES_BIND_DN")?,
        &setting("HERACLES_BIND_PASSWORD")?,
    );
    let dir = LdapDirectory::connect(config).await?;
    let base = Dn::parse(&setting("HERACLES_BASE_DN")?)?;
    let people = base.child(Rdn::new("ou", "people")?);

    // A uid from "user input": it goes into the DN through Rdn, escaped by construction.
    let uid = format!("example-{}", std::process::id());
    let dn = people.child(Rdn::new("uid", &uid)?);
    let entry = Entry::new(dn.clone())
        .with("objectClass", ["inetOrgPerson"])
        .with("uid", [uid.as_str()])
        .with("cn", ["Example User"])
        .with("sn", ["User"])
        .with("userPassword", ["An example passw0rd!"]);
    dir.add(&entry).await?;
    println!("added    {dn}");
    // Errors carry stable codes.
    if let Err(e) = dir.add(&entry).await {
        println!("adding it again: {} ({})", e.code(), e.message());
    }

    // Find it; the value enters the filter through Filter, escaped by construction.
    let found = dir
        .search(
            &SearchRequest::new(people.clone(), Scope::One, Filter::eq("uid", &uid))
                .attributes(["cn", "mail"]),
        )
        .await?;
    println!(
        "found    {} entry, cn = {:?}",
        found.len(),
        found[0].first_str("cn")
    );

    dir.modify(
        &dn,
        &[Modification::add("mail", [format!("{uid}@example.com")])],
    )
    .await?;
    let renamed = dir
        .rename(
            &dn,
            &Rdn::new("uid", &format!("{uid}-renamed"))?,
            false,
            None,
        )
        .await?;
    println!("renamed  to {renamed}");

    let ok = dir.check_password(&renamed, "An example passw0rd!").await?;
    let wrong = dir.check_password(&renamed, "guess").await?;
    println!("password right: {ok}, wrong: {wrong}");

    dir.delete(&renamed).await?;
    println!("deleted");
    Ok(())
}
