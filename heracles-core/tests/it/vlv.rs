//! The sort and VLV control encodings against the project's slapd (sssvlv overlay): a
//! sorted window of a search, and the responses decoded.

use heracles_core::directory::ldap::controls::{
    decode_sort_response, decode_vlv_response, sort_request, SortKeySpec, VlvRequest,
    SORT_REQUEST_OID, SORT_RESPONSE_OID, VLV_REQUEST_OID, VLV_RESPONSE_OID,
};
use heracles_core::directory::{Directory, Entry};
use heracles_core::dn::Rdn;
use ldap3::controls::RawControl;
use ldap3::{LdapConnAsync, Scope, SearchEntry};

use crate::fixture::{sandbox, Slapd};

#[tokio::test]
async fn slapd_answers_our_sort_and_vlv_controls() {
    let slapd = Slapd::shared();
    let dir = slapd.service().await;
    let base = slapd.base();
    let ou = sandbox(&dir, &base, "vlv").await;
    for i in 0..30u32 {
        let uid = format!("v{:02}", (i * 7) % 30);
        dir.add(
            &Entry::new(ou.child(Rdn::new("uid", &uid).unwrap()))
                .with("objectClass", ["inetOrgPerson"])
                .with("uid", [uid.as_str()])
                .with("cn", [uid.as_str()])
                .with("sn", ["x"]),
        )
        .await
        .unwrap();
    }
    let (conn, mut ldap) = LdapConnAsync::new(slapd.get("LDAP_URI")).await.unwrap();
    ldap3::drive!(conn);
    ldap.simple_bind(slapd.get("SERVICE_DN"), slapd.get("SERVICE_PW"))
        .await
        .unwrap()
        .success()
        .unwrap();
    // Entries 11..15 (1-based offset 11, 5 of them) of the uids sorted descending.
    let controls = vec![
        RawControl {
            ctype: SORT_REQUEST_OID.into(),
            crit: true,
            // uid has no ORDERING rule of its own: name one (slapd: 18 otherwise).
            val: Some(sort_request(&[SortKeySpec::new("uid")
                .ordering_rule("caseIgnoreOrderingMatch")
                .reverse()])),
        },
        RawControl {
            ctype: VLV_REQUEST_OID.into(),
            crit: true,
            val: Some(VlvRequest::page(10, 5).encode()),
        },
    ];
    let (entries, result) = ldap
        .with_controls(controls)
        .search(
            &ou.to_string(),
            Scope::OneLevel,
            "(objectClass=inetOrgPerson)",
            vec!["uid"],
        )
        .await
        .unwrap()
        .success()
        .unwrap();
    let uids: Vec<String> = entries
        .into_iter()
        .map(|e| SearchEntry::construct(e).attrs["uid"][0].clone())
        .collect();
    assert_eq!(uids, ["v19", "v18", "v17", "v16", "v15"]);
    let sort = result
        .ctrls
        .iter()
        .find(|c| c.1.ctype == SORT_RESPONSE_OID)
        .and_then(|c| c.1.val.as_deref())
        .map(decode_sort_response)
        .expect("a sort response")
        .unwrap();
    assert_eq!(sort.result, 0);
    let vlv = result
        .ctrls
        .iter()
        .find(|c| c.1.ctype == VLV_RESPONSE_OID)
        .and_then(|c| c.1.val.as_deref())
        .map(decode_vlv_response)
        .expect("a VLV response")
        .unwrap();
    assert_eq!(
        (vlv.result, vlv.target_position, vlv.content_count),
        (0, 11, 30)
    );
    ldap.unbind().await.unwrap();
    for i in 0..30u32 {
        dir.delete(&ou.child(Rdn::new("uid", &format!("v{i:02}")).unwrap()))
            .await
            .unwrap();
    }
    dir.delete(&ou).await.unwrap();
}

/// Values with ties, case differences, accents and spaces, so that the orders of slapd's
/// sssvlv and of the project's sort must agree on more than ASCII.
const NAMES: &[&str] = &[
    "alpha",
    "Alpha",
    "ALPHA beta",
    "école",
    "Ecole",
    "Zeta",
    "zeta",
    "b",
    "B c",
    "Ödön",
    "omega",
    "  spaced   out ",
    "ärger",
    "Brücke",
    "mu",
];

fn numbered_person(parent: &heracles_core::dn::Dn, i: u32) -> Entry {
    let uid = format!("p{:05}", (i * 7919) % 10_000);
    let name = NAMES[(i as usize) % NAMES.len()];
    let mut e = Entry::new(parent.child(Rdn::new("uid", &uid).unwrap()))
        .with("objectClass", ["inetOrgPerson", "posixAccount"])
        .with("uid", [uid.as_str()])
        .with("cn", [format!("{name} {}", i % 13)])
        .with("sn", [name])
        .with("uidNumber", [((i * 31) % 4999).to_string()])
        .with("gidNumber", ["100"])
        .with("homeDirectory", [format!("/home/{uid}")]);
    // Some without mail, some with two (the smallest sorts), the rest with one.
    match i % 4 {
        0 => {}
        1 => e.set(
            "mail",
            [format!("m{}@x", (i * 37) % 1000), format!("a{i}@x")],
        ),
        _ => e.set("mail", [format!("m{}@x", (i * 37) % 1000)]),
    }
    e
}

/// Sorted windows (sort + VLV controls on slapd) give page by page what the scan of DNs and
/// sort keys gives, over 10,000 entries, with filters and several sort orders; the embedded
/// directory gives the same order and totals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorted_windows_equal_the_scan_over_10k_entries() {
    use heracles_core::directory::{
        scan_window, sorted_dns, EmbeddedDirectory, Scope, SearchRequest, SortKey,
    };
    use heracles_core::filter::Filter;
    use std::sync::Arc;

    let slapd = Slapd::shared();
    let dir = Arc::new(slapd.service().await);
    assert!(dir.supports_sorted_windows().await.unwrap());
    let base = slapd.base();
    let ou = sandbox(&*dir, &base, "vlv10k").await;
    let folder = tempfile::tempdir().unwrap();
    let emb = EmbeddedDirectory::open(folder.path(), &base).unwrap();
    let mut ldif = String::new();
    for dn in [&base, &ou] {
        let e = if dn == &base {
            Entry::new(base.clone())
                .with("objectClass", ["top", "dcObject", "organization"])
                .with("dc", ["example"])
                .with("o", ["example"])
        } else {
            Entry::new(ou.clone())
                .with("objectClass", ["organizationalUnit"])
                .with("ou", [ou.rdn().unwrap().value()])
        };
        emb.add(&e).await.unwrap();
    }
    const N: u32 = 10_000;
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8u32 {
        let (dir, ou) = (Arc::clone(&dir), ou.clone());
        tasks.spawn(async move {
            for i in (t..N).step_by(8) {
                dir.add(&numbered_person(&ou, i)).await.unwrap();
            }
        });
    }
    for i in 0..N {
        let e = numbered_person(&ou, i);
        heracles_core::ldif::write_entry(&mut ldif, &e).unwrap();
        ldif.push('\n');
    }
    emb.import_ldif(ldif.as_bytes(), |_| {}).unwrap();
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }

    let people = Filter::eq("objectClass", "inetOrgPerson");
    // Pages stay within the service account's size limit (500 on the test slapd): a larger
    // page is refused by slapd (sizeLimitExceeded) and scanned instead.
    let cases: Vec<(Filter, Vec<SortKey>, u32)> = vec![
        (people.clone(), vec![SortKey::asc("uid")], 50),
        (
            people.clone(),
            vec![SortKey::desc("uidNumber"), SortKey::asc("uid")],
            500,
        ),
        (
            Filter::and([people.clone(), Filter::starts_with("cn", "a")]),
            vec![SortKey::asc("cn"), SortKey::asc("uid")],
            500,
        ),
        (
            people.clone(),
            vec![SortKey::asc("mail"), SortKey::asc("uid")],
            500,
        ),
        (
            people.clone(),
            vec![SortKey::desc("mail"), SortKey::desc("uid")],
            500,
        ),
        (
            Filter::or([Filter::eq("sn", "zeta"), Filter::ge("uidNumber", "4000")]),
            vec![SortKey::desc("sn"), SortKey::asc("uid")],
            500,
        ),
        (
            people.clone(),
            vec![SortKey::asc("sn"), SortKey::desc("cn"), SortKey::asc("uid")],
            500,
        ),
    ];
    for (filter, keys, limit) in cases {
        let req = SearchRequest::new(ou.clone(), Scope::Subtree, filter.clone())
            .sort(keys.clone())
            .attributes(["uid", "cn"]);
        let what = format!("{filter} sorted by {keys:?}");
        let scanned = sorted_dns(&*dir, &req).await.unwrap();
        let embedded = sorted_dns(&emb, &req).await.unwrap();
        assert!(!scanned.is_empty(), "{what}");
        assert_eq!(
            embedded.iter().map(ToString::to_string).collect::<Vec<_>>(),
            scanned.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "embedded and slapd orders differ: {what}"
        );
        let total = scanned.len() as u64;
        let mut offset = 0u64;
        while offset < total + u64::from(limit) {
            // The controls themselves (no silent fallback to the scan).
            let w = dir
                .sorted_window(&req, offset, limit)
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("slapd refused a sorted window: {what}"));
            assert_eq!(w.total, total, "{what} at {offset}");
            let start = usize::try_from(offset).unwrap().min(scanned.len());
            let end = (start + limit as usize).min(scanned.len());
            let got: Vec<String> = w.entries.iter().map(|e| e.dn.to_string()).collect();
            let want: Vec<String> = scanned[start..end]
                .iter()
                .map(ToString::to_string)
                .collect();
            assert_eq!(got, want, "{what}: page at {offset}");
            // Only the attributes asked for.
            assert!(w
                .entries
                .iter()
                .all(|e| e.attrs.contains("cn") && !e.attrs.contains("sn")));
            offset += u64::from(limit);
        }
        // The scan path and the embedded directory answer a deep page the same way.
        let deep = total.saturating_sub(7);
        let by_vlv = dir.sorted_window(&req, deep, limit).await.unwrap().unwrap();
        assert_eq!(dir.search_window(&req, deep, limit).await.unwrap(), by_vlv);
        assert_eq!(scan_window(&*dir, &req, deep, limit).await.unwrap(), by_vlv);
        let on_emb = emb.search_window(&req, deep, limit).await.unwrap();
        assert_eq!(on_emb.total, total);
        assert_eq!(
            on_emb
                .entries
                .iter()
                .map(|e| e.dn.to_string())
                .collect::<Vec<_>>(),
            by_vlv
                .entries
                .iter()
                .map(|e| e.dn.to_string())
                .collect::<Vec<_>>()
        );
    }

    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..8u32 {
        let (dir, ou) = (Arc::clone(&dir), ou.clone());
        tasks.spawn(async move {
            for i in (t..N).step_by(8) {
                let uid = format!("p{:05}", (i * 7919) % 10_000);
                dir.delete(&ou.child(Rdn::new("uid", &uid).unwrap()))
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    dir.delete(&ou).await.unwrap();
}
