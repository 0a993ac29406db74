//! The conformance suite: every `Directory` operation, written once and run against both
//! backends (slapd through `LdapDirectory`, and `EmbeddedDirectory`). Where they disagree,
//! slapd is right.

use heracles_core::directory::{Entry, Modification, Scope, SearchRequest, SortKey};
use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::Filter;

use crate::fixture::{person, sandbox, Target};

fn uids(entries: &[Entry]) -> Vec<String> {
    let mut v: Vec<String> = entries
        .iter()
        .map(|e| e.first_str("uid").unwrap_or_default().to_owned())
        .collect();
    v.sort();
    v
}

pub async fn add_get_modify_delete(t: &Target) {
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "crud").await;
    let photo: Vec<u8> = vec![0xff, 0xd8, 0x00, 0xfe, 0x80];
    let entry = person(&ou, "jdoe")
        .with("mail", ["jdoe@example.com"])
        .with("jpegPhoto", [photo.clone()]);
    dir.add(&entry).await.unwrap();

    let got = dir
        .get(&entry.dn, &[])
        .await
        .unwrap()
        .expect("entry exists");
    assert_eq!(got.dn, entry.dn);
    assert_eq!(got.first_str("CN"), Some("User jdoe"));
    assert_eq!(got.get("jpegphoto"), &[photo], "binary value kept intact");

    let only = dir.get(&entry.dn, &["mail"]).await.unwrap().unwrap();
    assert_eq!(only.first_str("mail"), Some("jdoe@example.com"));
    assert!(!only.attrs.contains("cn"), "attribute selection honoured");

    dir.modify(
        &entry.dn,
        &[
            Modification::add("mail", ["john@example.com"]),
            Modification::replace("sn", ["Doe"]),
            Modification::add("telephoneNumber", ["+1 555 0100"]),
        ],
    )
    .await
    .unwrap();
    let got = dir.get(&entry.dn, &[]).await.unwrap().unwrap();
    let mut mails = got.strs("mail");
    mails.sort_unstable();
    assert_eq!(mails, vec!["jdoe@example.com", "john@example.com"]);
    assert_eq!(got.first_str("sn"), Some("Doe"));

    dir.modify(
        &entry.dn,
        &[
            Modification::delete("mail", ["jdoe@example.com"]),
            Modification::delete_all("telephoneNumber"),
        ],
    )
    .await
    .unwrap();
    let got = dir.get(&entry.dn, &[]).await.unwrap().unwrap();
    assert_eq!(got.strs("mail"), vec!["john@example.com"]);
    assert!(!got.attrs.contains("telephoneNumber"));

    dir.delete(&entry.dn).await.unwrap();
    assert!(dir.get(&entry.dn, &[]).await.unwrap().is_none());
    dir.delete(&ou).await.unwrap();
}

pub async fn search_with_each_filter_kind(t: &Target) {
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "filters").await;
    for (uid, num, mail) in [
        ("alice", "1001", Some("alice@example.com")),
        ("bob", "1002", None),
        ("carol", "1010", Some("carol@example.org")),
    ] {
        let mut e = person(&ou, uid)
            .with("objectClass", ["inetOrgPerson", "posixAccount"])
            .with("uidNumber", [num])
            .with("gidNumber", ["100"])
            .with("homeDirectory", [format!("/home/{uid}")])
            .with("loginShell", ["/bin/bash"]);
        if let Some(m) = mail {
            e.set("mail", [m]);
        }
        dir.add(&e).await.unwrap();
    }
    let search = |f: &str| {
        SearchRequest::new(ou.clone(), Scope::One, Filter::parse(f).unwrap()).attributes(["uid"])
    };
    let cases: &[(&str, &[&str])] = &[
        ("(uid=ALICE)", &["alice"]),               // caseIgnore equality
        ("(uid=a*)", &["alice"]),                  // substring initial
        ("(mail=*example*)", &["alice", "carol"]), // substring any
        ("(mail=*.org)", &["carol"]),              // substring final
        ("(uidNumber>=1002)", &["bob", "carol"]),  // integer ordering, not string
        ("(uidNumber<=1002)", &["alice", "bob"]),
        ("(mail=*)", &["alice", "carol"]),       // present
        ("(cn~=User bob)", &["bob"]),            // approx
        ("(uid:caseExactMatch:=bob)", &["bob"]), // extensible
        (
            "(&(objectClass=posixAccount)(!(uid=bob)))",
            &["alice", "carol"],
        ),
        ("(|(uid=alice)(uid=carol))", &["alice", "carol"]),
        ("(uid=nobody)", &[]),
        ("(uidNumber=01001)", &[]),      // invalid integer: undefined
        ("(loginShell=*bash*)", &[]),    // no SUBSTR rule: undefined
        ("(!(loginShell=*bash*))", &[]), // and NOT undefined is undefined
        ("(uid>=a)", &[]),               // no ORDERING rule on uid
    ];
    for (f, want) in cases {
        let found = dir.search(&search(f)).await.unwrap();
        assert_eq!(uids(&found), *want, "filter {f}");
    }
    // A value with filter metacharacters is a value, never filter syntax.
    let hostile = Filter::eq("uid", "*)(uid=*");
    let found = dir
        .search(&SearchRequest::new(ou.clone(), Scope::One, hostile))
        .await
        .unwrap();
    assert!(found.is_empty());

    // Scopes: base sees only the ou, one-level only the people, subtree both.
    let any = Filter::present("objectClass");
    let base = dir
        .search(&SearchRequest::new(ou.clone(), Scope::Base, any.clone()))
        .await
        .unwrap();
    assert_eq!(base.len(), 1);
    assert_eq!(base[0].dn, ou);
    let one = dir
        .search(&SearchRequest::new(ou.clone(), Scope::One, any.clone()))
        .await
        .unwrap();
    assert_eq!(one.len(), 3);
    let sub = dir
        .search(&SearchRequest::new(ou.clone(), Scope::Subtree, any.clone()))
        .await
        .unwrap();
    assert_eq!(sub.len(), 4);
    let limited = dir
        .search(&SearchRequest::new(ou.clone(), Scope::One, any).size_limit(2))
        .await
        .unwrap();
    assert_eq!(limited.len(), 2, "client size limit honoured");
}

pub async fn rename_in_place_and_to_new_superior(t: &Target) {
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "rename").await;
    let other = sandbox(dir, &t.base, "rename-target").await;
    let e = person(&ou, "old");
    dir.add(&e).await.unwrap();

    let renamed = dir
        .rename(&e.dn, &Rdn::new("uid", "new").unwrap(), true, None)
        .await
        .unwrap();
    assert_eq!(renamed, ou.child(Rdn::new("uid", "new").unwrap()));
    assert!(dir.get(&e.dn, &[]).await.unwrap().is_none());
    let got = dir.get(&renamed, &[]).await.unwrap().unwrap();
    assert_eq!(got.strs("uid"), vec!["new"], "old RDN value deleted");

    let moved = dir
        .rename(
            &renamed,
            &Rdn::new("uid", "new").unwrap(),
            true,
            Some(&other),
        )
        .await
        .unwrap();
    assert!(moved.is_descendant_of(&other));
    assert!(dir.get(&moved, &[]).await.unwrap().is_some());
    assert!(dir.get(&renamed, &[]).await.unwrap().is_none());

    // Keep the old RDN value when asked.
    let kept = dir
        .rename(&moved, &Rdn::new("uid", "newer").unwrap(), false, None)
        .await
        .unwrap();
    let got = dir.get(&kept, &[]).await.unwrap().unwrap();
    let mut vals = got.strs("uid");
    vals.sort_unstable();
    assert_eq!(vals, vec!["new", "newer"]);
}

pub async fn compare_and_password_check(t: &Target) {
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "auth").await;
    let e = person(&ou, "pwuser").with("userPassword", ["Correct horse 1!"]);
    dir.add(&e).await.unwrap();

    assert!(dir.check_password(&e.dn, "Correct horse 1!").await.unwrap());
    assert!(!dir.check_password(&e.dn, "wrong").await.unwrap());
    assert!(
        !dir.check_password(&e.dn, "").await.unwrap(),
        "empty = unauthenticated bind"
    );
    let ghost = ou.child(Rdn::new("uid", "ghost").unwrap());
    assert!(!dir.check_password(&ghost, "whatever").await.unwrap());
    // The service connections are unaffected by user binds.
    assert!(dir.get(&e.dn, &[]).await.unwrap().is_some());

    assert!(dir.compare(&e.dn, "sn", b"pwuser").await.unwrap());
    assert!(
        dir.compare(&e.dn, "SN", b"PWUSER").await.unwrap(),
        "caseIgnore compare"
    );
    assert!(!dir.compare(&e.dn, "sn", b"other").await.unwrap());
    assert!(
        !dir.compare(&e.dn, "mail", b"x@y").await.unwrap(),
        "absent attribute"
    );
}

pub async fn paged_search_beyond_the_size_limit_as_service_account(t: &Target) {
    let dir = t.dir.clone();
    let ou = sandbox(&*dir, &t.base, "many").await;
    // The frontend's size limit for non-root DNs is 500; add more than that.
    let n = 620;
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in 0..8 {
        let dir = dir.clone();
        let ou = ou.clone();
        tasks.spawn(async move {
            for i in (chunk..n).step_by(8) {
                dir.add(&person(&ou, &format!("u{i:04}"))).await.unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let all = dir
        .search(
            &SearchRequest::new(ou.clone(), Scope::One, Filter::present("uid"))
                .attributes(["uid"])
                .page_size(200),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), n);
    let mut seen: Vec<_> = uids(&all);
    seen.dedup();
    assert_eq!(seen.len(), n, "no duplicates across pages");
}

pub async fn dn_values_are_escaped_end_to_end(t: &Target) {
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "escape").await;
    let tricky = "#1 Smith, John + \"Jr\" <x>; a\\b=c";
    let dn = ou.child(Rdn::new("cn", tricky).unwrap());
    dir.add(
        &Entry::new(dn.clone())
            .with("objectClass", ["organizationalRole"])
            .with("cn", [tricky]),
    )
    .await
    .unwrap();
    let found = dir
        .search(&SearchRequest::new(
            ou.clone(),
            Scope::One,
            Filter::eq("cn", tricky),
        ))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].dn, dn,
        "server's DN string parses back to the same DN"
    );
    assert_eq!(found[0].first_str("cn"), Some(tricky));
    let reparsed = Dn::parse(&dn.to_string()).unwrap();
    assert_eq!(reparsed, dn);
}

pub async fn sorted_searches(t: &Target) {
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "sort").await;
    for (uid, num, cn) in [
        ("delta", Some("20"), "Zed"),
        ("Alpha", Some("3"), "mike"),
        ("charlie", None, "Alice"),
        ("bravo", Some("100"), "bob"),
    ] {
        let mut e = person(&ou, uid).with("cn", [cn]);
        if let Some(n) = num {
            e = e
                .with("objectClass", ["inetOrgPerson", "posixAccount"])
                .with("uidNumber", [n])
                .with("gidNumber", ["1"])
                .with("homeDirectory", ["/home/x"]);
        }
        dir.add(&e).await.unwrap();
    }
    let order = |keys: Vec<SortKey>, limit: Option<usize>| {
        let mut req = SearchRequest::new(ou.clone(), Scope::One, Filter::present("uid"))
            .attributes(["uid"])
            .sort(keys);
        req.size_limit = limit;
        async move {
            let found = dir.search(&req).await.unwrap();
            for e in &found {
                assert!(
                    !e.attrs.contains("uidNumber"),
                    "sort key not requested: left out"
                );
            }
            found
                .iter()
                .map(|e| e.first_str("uid").unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };

    // Integer order (3 < 20 < 100), entries without the attribute last; descending
    // reverses the whole order, so they come first (as slapd's sssvlv sorts).
    assert_eq!(
        order(vec![SortKey::asc("uidNumber")], None).await,
        ["Alpha", "delta", "bravo", "charlie"]
    );
    assert_eq!(
        order(vec![SortKey::desc("uidNumber")], None).await,
        ["charlie", "bravo", "delta", "Alpha"]
    );
    // uid has no ORDERING rule: case-insensitive order all the same.
    assert_eq!(
        order(vec![SortKey::asc("uid")], None).await,
        ["Alpha", "bravo", "charlie", "delta"]
    );
    assert_eq!(
        order(vec!["-cn".parse().unwrap()], Some(2)).await,
        ["delta", "Alpha"],
        "limit applies after sorting"
    );
}

pub async fn matching_rules_follow_the_schema(t: &Target) {
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "rules").await;
    let a = person(&ou, "ma")
        .with("objectClass", ["inetOrgPerson", "posixAccount"])
        .with("uidNumber", ["7"])
        .with("gidNumber", ["7"])
        .with("homeDirectory", ["/home/Ma"])
        .with("x121Address", ["1234 5678"]);
    dir.add(&a).await.unwrap();
    let group = Entry::new(ou.child(Rdn::new("cn", "g").unwrap()))
        .with("objectClass", ["groupOfNames"])
        .with("cn", ["g"])
        .with("member", [a.dn.to_string()]);
    dir.add(&group).await.unwrap();
    for (stamp, id) in [
        ("20230101000000Z", "e1"),
        ("20240601120000Z", "e2"),
        ("20240101003000+0100", "e3"), // 2023-12-31T23:30Z
    ] {
        dir.add(
            &Entry::new(ou.child(Rdn::new("heraclesEventId", id).unwrap()))
                .with("objectClass", ["heraclesAuditEvent"])
                .with("heraclesEventId", [id])
                .with("heraclesTimestamp", [stamp])
                .with("heraclesAction", ["create"])
                .with("heraclesResult", ["success"]),
        )
        .await
        .unwrap();
    }
    let count = |f: &str| {
        let req = SearchRequest::new(ou.clone(), Scope::One, Filter::parse(f).unwrap());
        async move { dir.search(&req).await.unwrap().len() }
    };
    // caseExactIA5 (homeDirectory): case matters; caseIgnore (cn): it does not.
    assert_eq!(count("(homeDirectory=/home/Ma)").await, 1);
    assert_eq!(count("(homeDirectory=/home/ma)").await, 0);
    assert_eq!(count("(cn=USER MA)").await, 1);
    // numericString: spaces are insignificant.
    assert_eq!(count("(x121Address=12345678)").await, 1);
    assert_eq!(count("(x121Address=1234*)").await, 1);
    // distinguishedNameMatch: case and spacing of the DN do not matter.
    let shouty = a.dn.to_string().to_uppercase().replace(',', ", ");
    assert_eq!(count(&format!("(member={shouty})")).await, 1);
    // generalizedTime ordering compares instants, time zones included.
    assert_eq!(count("(heraclesTimestamp>=20240101000000Z)").await, 1);
    assert_eq!(count("(heraclesTimestamp<=20231231235959Z)").await, 2);
    // integer ordering.
    assert_eq!(count("(uidNumber>=10)").await, 0);
    assert_eq!(count("(uidNumber<=10)").await, 1);
}

/// `modify_if` / `delete_if`: the assertion is checked with the write, on `entryCSN` as the
/// services use it.
pub async fn conditional_writes(t: &Target) {
    use heracles_core::ErrorCode;
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "cond").await;
    let entry = person(&ou, "cas");
    dir.add(&entry).await.unwrap();
    let read = dir
        .get(&entry.dn, &["*", "entryCSN"])
        .await
        .unwrap()
        .unwrap();
    let csn = read
        .first_str("entryCSN")
        .expect("entryCSN kept")
        .to_owned();
    let same = Filter::eq("entryCSN", csn.as_str());

    // Unchanged since the read: the write happens.
    dir.modify_if(
        &entry.dn,
        &[Modification::replace("sn", ["One"])],
        Some(&same),
    )
    .await
    .unwrap();
    let now = dir
        .get(&entry.dn, &["sn", "entryCSN"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.first_str("sn"), Some("One"));
    assert_ne!(
        now.first_str("entryCSN"),
        Some(csn.as_str()),
        "every write moves the CSN"
    );

    // The old version no longer matches: nothing changes.
    let e = dir
        .modify_if(
            &entry.dn,
            &[Modification::replace("sn", ["Two"])],
            Some(&same),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed, "{e}");
    let e = dir.delete_if(&entry.dn, Some(&same)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::PreconditionFailed, "{e}");
    let e = dir
        .modify_if(&entry.dn, &[], Some(&same))
        .await
        .unwrap_err();
    assert_eq!(
        e.code(),
        ErrorCode::PreconditionFailed,
        "no changes still checks: {e}"
    );
    let kept = dir.get(&entry.dn, &["sn"]).await.unwrap().unwrap();
    assert_eq!(kept.first_str("sn"), Some("One"));

    // Any filter is an assertion; a missing entry is ENTRY_NOT_FOUND first.
    dir.modify_if(&entry.dn, &[], Some(&Filter::eq("sn", "one")))
        .await
        .unwrap();
    let missing = ou.child(Rdn::new("uid", "nobody").unwrap());
    let e = dir.delete_if(&missing, Some(&same)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::EntryNotFound, "{e}");

    let fresh = dir.get(&entry.dn, &["entryCSN"]).await.unwrap().unwrap();
    let current = Filter::eq("entryCSN", fresh.first_str("entryCSN").unwrap());
    dir.delete_if(&entry.dn, Some(&current)).await.unwrap();
    assert!(dir.get(&entry.dn, &[]).await.unwrap().is_none());
    dir.delete(&ou).await.unwrap();
}

/// `fetch`: the entries of the DNs asked for, in their order, skipping DNs that do not
/// exist — also when other entries below the same ancestor share their RDNs (on slapd the
/// fetch is one search of the RDNs, limited to as many entries as DNs asked for: the
/// others must not take the place of the ones asked for).
pub async fn fetch_reads_the_dns_asked_for(t: &Target) {
    let dir = t.dir();
    let ou = sandbox(dir, &t.base, "fetch").await;
    let deeper = ou.child(Rdn::new("ou", "deeper").unwrap());
    dir.add(
        &Entry::new(deeper.clone())
            .with("objectClass", ["organizationalUnit"])
            .with("ou", ["deeper"]),
    )
    .await
    .unwrap();
    let mut added = Vec::new();
    for uid in ["f1", "f2", "f3", "f4"] {
        // The same uids twice: directly below `ou` and below `deeper`, added first.
        for parent in [&deeper, &ou] {
            let e = person(parent, uid).with("mail", [format!("{uid}@example.com")]);
            dir.add(&e).await.unwrap();
            added.push(e.dn);
        }
    }
    let dn = |parent: &Dn, uid: &str| parent.child(Rdn::new("uid", uid).unwrap());
    let attrs = vec!["mail".to_owned()];
    // Two that exist, one that does not, asked in this order.
    let asked = [dn(&ou, "f3"), dn(&ou, "nobody"), dn(&ou, "f1")];
    let got = dir.fetch(&asked, &attrs).await.unwrap();
    let dns: Vec<&Dn> = got.iter().map(|e| &e.dn).collect();
    assert_eq!(dns, [&asked[0], &asked[2]]);
    assert_eq!(got[0].first_str("mail"), Some("f3@example.com"));
    assert!(
        !got[0].attrs.contains("cn"),
        "only the attributes asked for"
    );
    // Every entry asked for, from both levels, mixed.
    let asked = [
        dn(&ou, "f2"),
        dn(&deeper, "f2"),
        dn(&deeper, "f4"),
        dn(&ou, "f4"),
    ];
    let got = dir.fetch(&asked, &attrs).await.unwrap();
    let dns: Vec<Dn> = got.into_iter().map(|e| e.dn).collect();
    assert_eq!(dns, asked);
    // Only the upper level, while the deeper one holds the same RDNs (slapd may return the
    // deeper ones first and reach the limit without the ones asked for).
    let asked = [dn(&ou, "f1"), dn(&ou, "f2"), dn(&ou, "f3"), dn(&ou, "f4")];
    let got = dir.fetch(&asked, &attrs).await.unwrap();
    let dns: Vec<Dn> = got.into_iter().map(|e| e.dn).collect();
    assert_eq!(dns, asked);
    assert!(dir.fetch(&[], &attrs).await.unwrap().is_empty());
    for d in added.iter().rev() {
        dir.delete(d).await.unwrap();
    }
    dir.delete(&deeper).await.unwrap();
    dir.delete(&ou).await.unwrap();
}
