//! DNs, filters and pages — the values that guard every request.
//!
//! ```sh
//! cargo run -p heracles-examples --example dn_and_filters
//! ```

use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::{compile, AllowList, Filter};
use heracles_core::page::{Page, PageRequest};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // --- DNs (RFC 4514) ------------------------------------------------------------------
    let people = Dn::parse("ou=People,dc=Example,dc=com")?;
    // A value from user input enters a DN only through Rdn, escaped by construction.
    let user = people.child(Rdn::new("cn", "Smith, John #2")?);
    println!("dn:          {user}");
    println!("parent:      {}", user.parent().unwrap_or_default());
    // Comparison is by normalised form: attribute types and caseIgnore values fold case.
    let same = Dn::parse("CN=smith\\, john #2,OU=people,DC=example,DC=COM")?;
    println!("equal:       {}", user == same);
    println!(
        "descendant:  {}",
        user.is_descendant_of(&Dn::parse("dc=example,dc=com")?)
    );
    // ... and never by string suffix: ou=xpeople is not below ou=people.
    let sibling = Dn::parse("uid=a,ou=xpeople,dc=example,dc=com")?;
    println!(
        "ou=xpeople under ou=people? {}",
        sibling.is_descendant_of(&people)
    );
    for bad in ["cn=a,=b", "cn=\\zz", "uid"] {
        let err = Dn::parse(bad)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        println!("parse {bad:?}: {err}");
    }

    // --- RFC 4515 filters ----------------------------------------------------------------
    let f = Filter::parse("(&(objectClass=inetOrgPerson)(|(uid=j*)(mail=*@example.com)))")?;
    println!("filter:      {f}");
    let hostile = Filter::eq("uid", "*)(uid=*");
    println!("escaped:     {hostile}");

    // --- The API's attr:op:value syntax, against an allow-list ----------------------------
    let users = AllowList::new([
        ("uid", "uid", true),
        ("cn", "cn", true),
        ("mail", "mail", true),
        ("loginShell", "loginShell", false), // no SUBSTR rule in the nis schema
    ]);
    let query = ["cn:contains:john", "mail:present", "uid:starts:j"];
    if let Some(compiled) = compile(query, &users)? {
        println!("query:       {query:?}\n  compiles to {compiled}");
    }
    for bad in [
        "loginShell:contains:zsh",
        "password:eq:x",
        "uid:like:j",
        "uid:eq:",
    ] {
        if let Err(err) = compile([bad], &users) {
            println!("{bad:<24} -> {} ({})", err.code(), err.message());
        }
    }

    // --- Pages -----------------------------------------------------------------------------
    let req = PageRequest::from_query(Some("2"), Some("1"))?;
    let page: Page<&str> = req.slice(vec!["alice", "bob", "carol", "dave"]);
    println!("page:        {}", serde_json::to_string(&page)?);
    if let Err(err) = PageRequest::from_query(Some("5000"), None) {
        println!("limit=5000:  {} ({})", err.code(), err.message());
    }
    Ok(())
}
