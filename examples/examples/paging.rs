//! Deep pages that cost what page 1 costs: sorted windows, the lists' cache, the cache of
//! reads (gets and pages answered without the directory while nothing they read changed),
//! and, on an LDAP server that keeps `memberOf`, the copy of users (every get from memory).
//!
//! On the embedded directory (always) and, when `HERACLES_LDAP_URL` & co. are set, on an LDAP
//! server too (sort + VLV controls where it advertises them):
//!
//! ```sh
//! cargo run -p heracles-examples --example paging
//! HERACLES_LDAP_URL=ldap://127.0.0.1:389 \
//! HERACLES_BIND_DN=cn=heracles-service,ou=heracles,dc=example,dc=com \
//! HERACLES_BIND_PASSWORD=... HERACLES_BASE_DN=dc=example,dc=com \
//!   cargo run -p heracles-examples --example paging
//! ```
//! (`scripts/test.sh` runs it against its throwaway slapd.)

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use heracles_core::directory::{
    Directory, EmbeddedDirectory, Entry, LdapConfig, LdapDirectory, Scope, SearchRequest, SortKey,
};
use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::Filter;
use heracles_core::page::PageRequest;
use heracles_core::service::{Heracles, ListQuery, Principal};

const USERS: usize = 3_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // An embedded directory with USERS users, loaded from LDIF in one import.
    let folder = std::env::temp_dir().join(format!("heracles-paging-{}", std::process::id()));
    let base = Dn::parse("dc=example,dc=com")?;
    let dir = Arc::new(EmbeddedDirectory::open(&folder, &base)?);
    let h = Heracles::new(dir.clone(), base.clone());
    h.bootstrap(Some("An example passw0rd!")).await?;
    let people = base.child(Rdn::new("ou", "people")?);
    let mut ldif = String::new();
    for i in 0..USERS {
        let uid = format!("user{i:05}");
        let e = Entry::new(people.child(Rdn::new("uid", &uid)?))
            .with("objectClass", ["inetOrgPerson"])
            .with("uid", [uid.as_str()])
            .with("cn", [format!("User {}", i % 97)])
            .with("sn", ["Example"]);
        heracles_core::ldif::write_entry(&mut ldif, &e)?;
        ldif.push('\n');
    }
    dir.import_ldif(ldif.as_bytes(), |n| {
        if n % 1000 == 0 {
            println!("imported {n}/{USERS}");
        }
    })?;

    // Lists through the services: the first one scans DNs and sort keys once; later pages,
    // however deep, come from the cache until the directory changes.
    let admin = Principal::system(&base);
    for (offset, sort) in [
        (0, None),
        (2_950, None),
        (2_950, Some("-cn")),
        (0, Some("-cn")),
    ] {
        let mut q = ListQuery::default().page(PageRequest::new(50, offset)?);
        q.sort = sort.map(str::to_owned);
        let started = Instant::now();
        let page = h.users().list(&admin, &q).await?;
        let first = page.data.first().map_or("-", |u| u.uid.as_str());
        println!(
            "users offset={offset:<5} sort={:<4} total={} first={first:<10} {:>7.2} ms  (scans so far: {})",
            sort.unwrap_or("uid"),
            page.pagination.total,
            started.elapsed().as_secs_f64() * 1000.0,
            h.list_cache_scans()
        );
    }
    only_relevant_writes_rescan(&h, &dir, &base, &admin).await?;
    reads_are_cached_until_they_change(&h, &dir, &admin).await?;
    let _ = std::fs::remove_dir_all(&folder);

    // The directory-level primitive: one sorted page and the total.
    let req = SearchRequest::new(
        people.clone(),
        Scope::One,
        Filter::eq("objectClass", "inetOrgPerson"),
    )
    .sort([SortKey::desc("cn"), SortKey::asc("uid")])
    .attributes(["uid", "cn"]);
    let w = dir.search_window(&req, 100, 3).await?;
    let mut line = String::new();
    for e in &w.entries {
        write!(line, " {}", e.first_str("uid").unwrap_or_default())?;
    }
    println!("embedded window at 100 of {}:{line}", w.total);

    if let (Ok(url), Ok(bind_dn), Ok(password), Ok(base)) = (
        std::env::var("HERACLES_LDAP_URL"),
        std::env::var("HERACLES_BIND_DN"),
        std::env::var("HERACLES_BIND_PASSWORD"),
        std::env::var("HERACLES_BASE_DN"),
    ) {
        let ldap = LdapDirectory::connect(LdapConfig::simple(&url, &bind_dn, &password)).await?;
        let base = Dn::parse(&base)?;
        println!(
            "LDAP server offers sort + VLV: {}; change marker: {:?}",
            ldap.supports_sorted_windows().await?,
            ldap.change_marker(&base).await?
        );
        let people = base.child(Rdn::new("ou", "people")?);
        let req = SearchRequest::new(
            people,
            Scope::Subtree,
            Filter::eq("objectClass", "inetOrgPerson"),
        )
        .sort([SortKey::asc("uid")])
        .attributes(["uid"]);
        let w = ldap.search_window(&req, 0, 5).await?;
        let uids: Vec<&str> = w
            .entries
            .iter()
            .filter_map(|e| e.first_str("uid"))
            .collect();
        println!("LDAP window: {uids:?} of {} users", w.total);
        user_copy(ldap, &base).await?;
    }
    Ok(())
}

/// On an LDAP server that keeps `memberOf`: the first get of a user makes the copy of
/// users in the background; then gets are answered from memory, and a change is read
/// again, alone, by the next get.
async fn user_copy(ldap: LdapDirectory, base: &Dn) -> Result<(), Box<dyn std::error::Error>> {
    let h = Heracles::new(Arc::new(ldap), base.clone());
    // Off in the library until asked for (the server turns it on with this default).
    h.set_user_replica(heracles_core::service::replica::DEFAULT_USER_REPLICA);
    h.bootstrap(None).await?;
    let admin = Principal::system(base);
    let uid = format!("copied-{}", std::process::id());
    let body = serde_json::json!({"uid": uid, "cn": "Copied User", "sn": "User"});
    h.users()
        .create(&admin, body.as_object().ok_or("not an object")?)
        .await?;
    // A group with the user in it: slapd's memberof overlay shows on the user's entry.
    let group = heracles_core::service::groups::NewGroup {
        cn: format!("{uid}-group"),
        members: vec![uid.clone()],
        ..Default::default()
    };
    h.groups().create(&admin, &group).await?;
    if h.member_of_maintained().await? {
        h.users().get(&admin, &uid).await?; // starts the copy
        let started = Instant::now();
        while h.user_replica_stats().users == 0 {
            if started.elapsed().as_secs() > 30 {
                return Err("the copy of users was not made in 30 s".into());
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let before = h.user_replica_stats();
        for _ in 0..100 {
            h.users().get(&admin, &uid).await?;
        }
        let after = h.user_replica_stats();
        println!(
            "copy of users: {} users, made in {:.0} ms; 100 gets: {} answered from memory, {} entries read again",
            after.users,
            started.elapsed().as_secs_f64() * 1000.0,
            after.answered - before.answered,
            after.reread - before.reread
        );
        assert_eq!(
            after.answered - before.answered,
            100,
            "every get from memory"
        );
        let body = serde_json::json!({"description": "changed"});
        h.users()
            .update(&admin, &uid, body.as_object().ok_or("not an object")?)
            .await?;
        let fresh = h.users().get(&admin, &uid).await?;
        let reread = h.user_replica_stats().reread - after.reread;
        println!(
            "after a change: description={} ({reread} entry read again)",
            fresh.attributes["description"]
        );
        assert_eq!(reread, 1, "only the changed user is read again");
    } else {
        println!("the LDAP server does not keep memberOf: no copy of users");
    }
    h.groups().delete(&admin, &group.cn).await?;
    h.users().delete(&admin, &uid).await?;
    Ok(())
}

/// Writes that cannot change the list leave it cached (the directory logs what each write
/// changed: here a device, not a person); a new user is read and put in its place.
async fn only_relevant_writes_rescan(
    h: &Heracles,
    dir: &EmbeddedDirectory,
    base: &Dn,
    admin: &Principal,
) -> Result<(), Box<dyn std::error::Error>> {
    let q = ListQuery::default().page(PageRequest::new(50, 0)?);
    let before = h.list_cache_scans();
    dir.add(
        &Entry::new(base.child(Rdn::new("cn", "printer-1")?))
            .with("objectClass", ["device"])
            .with("cn", ["printer-1"]),
    )
    .await?;
    let total = h.users().list(admin, &q).await?.pagination.total;
    let devices_total = total;
    println!(
        "after adding a device: total={total}, new scans: {}",
        h.list_cache_scans() - before
    );
    assert_eq!(
        h.list_cache_scans(),
        before,
        "a device does not change a user list"
    );
    h.users()
        .create(
            admin,
            serde_json::json!({"uid": "newcomer", "cn": "New", "sn": "Comer"})
                .as_object()
                .ok_or("not an object")?,
        )
        .await?;
    let patches = h.list_cache_patches();
    let page = h.users().list(admin, &q).await?;
    let total = page.pagination.total;
    println!(
        "after adding a user: total={total}, new scans: {}, lists patched: {}",
        h.list_cache_scans() - before,
        h.list_cache_patches() - patches
    );
    // The new user was read once and put in its place: no scan.
    assert_eq!(total, devices_total + 1, "listed");
    assert_eq!(
        h.list_cache_scans(),
        before,
        "a new user is read, not scanned"
    );
    assert_eq!(h.list_cache_patches(), patches + 1);
    Ok(())
}

/// A get read twice reads the directory once; a write to that user (here straight through
/// the directory, as another program would) is seen by the next get.
async fn reads_are_cached_until_they_change(
    h: &Heracles,
    dir: &EmbeddedDirectory,
    admin: &Principal,
) -> Result<(), Box<dyn std::error::Error>> {
    let (hits, misses) = h.read_cache_counts();
    let user = h.users().get(admin, "user00042").await?;
    h.users().get(admin, "user00042").await?;
    let (hits2, misses2) = h.read_cache_counts();
    println!(
        "two gets of user00042: {} reads answered by the cache, {} by the directory",
        hits2 - hits,
        misses2 - misses
    );
    assert!(hits2 > hits, "the second get comes from the cache");
    dir.modify(
        &user.dn,
        &[heracles_core::directory::Modification::replace(
            "cn",
            ["Renamed Person"],
        )],
    )
    .await?;
    let fresh = h.users().get(admin, "user00042").await?;
    println!("after a change: cn={}", fresh.cn);
    assert_eq!(fresh.cn, "Renamed Person", "never stale");
    Ok(())
}
