//! What only the embedded directory has: durability across reopen, LDIF import/export,
//! concurrent readers during writes. (Crash safety under SIGKILL is `tests/crash.rs`.)

use std::sync::Arc;

use heracles_core::directory::{
    Directory, EmbeddedDirectory, Entry, Modification, Scope, SearchRequest,
};
use heracles_core::dn::{Dn, Rdn};
use heracles_core::filter::Filter;
use heracles_core::ErrorCode;

use crate::fixture::person;

fn base() -> Dn {
    Dn::parse("dc=example,dc=com").unwrap()
}

async fn seeded(path: &std::path::Path) -> EmbeddedDirectory {
    let dir = EmbeddedDirectory::open(path, &base()).unwrap();
    dir.import_ldif(
        "dn: dc=example,dc=com\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: ex\n\n\
         dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n"
            .as_bytes(),
        |_| {},
    )
    .unwrap();
    dir
}

fn people() -> Dn {
    base().child(Rdn::new("ou", "people").unwrap())
}

#[tokio::test]
async fn writes_survive_reopen_and_compaction() {
    let folder = tempfile::tempdir().unwrap();
    {
        let dir = seeded(folder.path()).await;
        for i in 0..20 {
            dir.add(&person(&people(), &format!("u{i}"))).await.unwrap();
        }
        dir.compact().unwrap();
        dir.modify(
            &people().child(Rdn::new("uid", "u3").unwrap()),
            &[Modification::replace("mail", ["u3@example.com"])],
        )
        .await
        .unwrap();
        dir.delete(&people().child(Rdn::new("uid", "u4").unwrap()))
            .await
            .unwrap();
        // Opening the same folder twice at once is refused.
        let err = EmbeddedDirectory::open(folder.path(), &base()).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig);
    }
    // ... and so is opening it with another base DN.
    let err =
        EmbeddedDirectory::open(folder.path(), &Dn::parse("dc=other,dc=org").unwrap()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidConfig, "{err}");
    let dir = EmbeddedDirectory::open(folder.path(), &base()).unwrap();
    let all = dir
        .search(&SearchRequest::new(
            people(),
            Scope::One,
            Filter::present("uid"),
        ))
        .await
        .unwrap();
    assert_eq!(all.len(), 19);
    let u3 = dir
        .get(&people().child(Rdn::new("uid", "u3").unwrap()), &[])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u3.first_str("mail"), Some("u3@example.com"));
    // Operational attributes are kept and returned on request only.
    assert!(u3.first_str("entryUUID").is_none());
    let op = dir
        .get(&people().child(Rdn::new("uid", "u3").unwrap()), &["+"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(op.first_str("entryUUID").map(str::len), Some(36));
    assert!(op.first_str("entryCSN").is_some());
    assert!(op.first_str("modifyTimestamp").unwrap().ends_with('Z'));
    assert_eq!(op.first_str("structuralObjectClass"), Some("inetOrgPerson"));
}

#[tokio::test]
async fn ldif_export_reimports_identically() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let src = seeded(a.path()).await;
    for i in 0..5 {
        src.add(&person(&people(), &format!("p{i}")).with("jpegPhoto", [vec![0u8, 1, 2, 255]]))
            .await
            .unwrap();
    }
    let mut ldif = Vec::new();
    assert_eq!(src.export_ldif(&mut ldif).unwrap(), 7);
    let dst = EmbeddedDirectory::open(b.path(), &base()).unwrap();
    let mut seen = 0;
    assert_eq!(dst.import_ldif(&ldif[..], |n| seen = n).unwrap(), 7);
    assert_eq!(seen, 7, "progress reported");
    async fn all(d: &EmbeddedDirectory) -> Vec<Entry> {
        let req = SearchRequest::new(base(), Scope::Subtree, Filter::present("objectClass"))
            .attributes(["*", "+"]);
        let mut v = d.search(&req).await.unwrap();
        v.sort_by(|x, y| x.dn.cmp(&y.dn));
        v
    }
    assert_eq!(
        all(&src).await,
        all(&dst).await,
        "entryUUID, timestamps and binary values kept"
    );

    // A bad record stops the import and names it; the records before it stay.
    let c = tempfile::tempdir().unwrap();
    let dir = seeded(c.path()).await;
    let bad = "dn: uid=ok,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: ok\ncn: ok\nsn: ok\n\n\
               dn: uid=bad,ou=people,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: bad\ncn: bad\n";
    let err = dir.import_ldif(bad.as_bytes(), |_| {}).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SchemaViolation, "{err}");
    assert_eq!(err.details()["record"], 2);
    assert!(dir
        .get(&people().child(Rdn::new("uid", "ok").unwrap()), &[])
        .await
        .unwrap()
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_see_whole_operations() {
    let folder = tempfile::tempdir().unwrap();
    let dir = Arc::new(seeded(folder.path()).await);
    let team = base().child(Rdn::new("ou", "team").unwrap());
    dir.add(
        &Entry::new(team.clone())
            .with("objectClass", ["organizationalUnit"])
            .with("ou", ["team"]),
    )
    .await
    .unwrap();
    for i in 0..10 {
        dir.add(&person(&team, &format!("m{i}"))).await.unwrap();
    }
    // A writer renames the subtree back and forth; readers must always find all ten
    // members under exactly one of the two names.
    let writer = {
        let dir = dir.clone();
        tokio::spawn(async move {
            let mut current = team.clone();
            for round in 0..30 {
                let name = if round % 2 == 0 { "team2" } else { "team" };
                current = dir
                    .rename(&current, &Rdn::new("ou", name).unwrap(), true, None)
                    .await
                    .unwrap();
            }
        })
    };
    let mut readers = Vec::new();
    for _ in 0..2 {
        let dir = dir.clone();
        readers.push(tokio::spawn(async move {
            for _ in 0..200 {
                let found = dir
                    .search(&SearchRequest::new(
                        base(),
                        Scope::Subtree,
                        Filter::present("uid"),
                    ))
                    .await
                    .unwrap();
                let members: Vec<_> = found
                    .iter()
                    .filter(|e| e.dn.parent().is_some_and(|p| p != people()))
                    .collect();
                assert_eq!(members.len(), 10, "a rename was seen half done");
                let parents: std::collections::HashSet<String> = members
                    .iter()
                    .map(|e| e.dn.parent().unwrap().to_string())
                    .collect();
                assert_eq!(parents.len(), 1);
                tokio::task::yield_now().await;
            }
        }));
    }
    writer.await.unwrap();
    for r in readers {
        r.await.unwrap();
    }
}

#[tokio::test]
async fn indexed_and_scanned_answers_agree() {
    let folder = tempfile::tempdir().unwrap();
    let dir = seeded(folder.path()).await;
    for i in 0..50 {
        dir.add(
            &person(&people(), &format!("x{i:02}"))
                .with("objectClass", ["inetOrgPerson", "posixAccount"])
                .with("uidNumber", [format!("{}", 1000 + i)])
                .with("gidNumber", [if i % 2 == 0 { "100" } else { "200" }])
                .with("homeDirectory", [format!("/home/x{i}")]),
        )
        .await
        .unwrap();
    }
    for (indexed, scanned, want) in [
        ("(uid=X07)", "(uid=*07)", 1),
        ("(gidNumber=100)", "(gidNumber>=100)", 25), // gidNumber>=100 ... <=100 below
        (
            "(&(objectClass=posixAccount)(uidNumber=1010))",
            "(uidNumber>=1010)",
            1,
        ),
    ] {
        let a = dir
            .search(&SearchRequest::new(
                people(),
                Scope::One,
                Filter::parse(indexed).unwrap(),
            ))
            .await
            .unwrap();
        assert_eq!(a.len(), want, "{indexed}");
        let b = dir
            .search(&SearchRequest::new(
                people(),
                Scope::One,
                Filter::parse(scanned).unwrap(),
            ))
            .await
            .unwrap();
        assert!(b.len() >= a.len(), "{scanned}");
    }
    // After a modify the index follows.
    let x1 = people().child(Rdn::new("uid", "x01").unwrap());
    dir.modify(&x1, &[Modification::replace("gidNumber", ["100"])])
        .await
        .unwrap();
    let now = dir
        .search(&SearchRequest::new(
            people(),
            Scope::One,
            Filter::eq("gidNumber", "100"),
        ))
        .await
        .unwrap();
    assert_eq!(now.len(), 26);
    // Integer syntax, as slapd: a leading zero makes the assertion invalid (undefined), so
    // it matches nothing rather than being read as 100.
    let padded = dir
        .search(&SearchRequest::new(
            people(),
            Scope::One,
            Filter::eq("gidNumber", "0100"),
        ))
        .await
        .unwrap();
    assert!(padded.is_empty());
}

/// A list not asked for while more changes were logged than the log keeps (a busy spell
/// of logins) stays cached: the lists are checked against the log in the background.
#[tokio::test]
async fn lists_keep_up_with_a_busy_log() {
    use heracles_core::directory::LOG_CAPACITY;
    use heracles_core::page::PageRequest;
    use heracles_core::service::{Heracles, ListQuery, Principal};

    let folder = tempfile::tempdir().unwrap();
    let dir = Arc::new(EmbeddedDirectory::open(folder.path(), &base()).unwrap());
    let h = Heracles::new(dir.clone(), base());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    let admin = Principal::system(&base());
    for uid in ["ku1", "ku2"] {
        let body = serde_json::json!({"uid": uid, "cn": "K", "sn": "U"});
        h.users()
            .create(&admin, body.as_object().unwrap())
            .await
            .unwrap();
    }
    let q = ListQuery::default().page(PageRequest::new(10, 0).unwrap());
    let total = h.users().list(&admin, &q).await.unwrap().pagination.total;
    let scans = h.list_cache_scans();
    // Devices, in batches: more changes in all than the log keeps, none of them a user.
    let batch = LOG_CAPACITY * 2 / 3;
    for round in 0..2 {
        dir.import_ldif(devices(round, batch).as_bytes(), |_| {})
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    }
    assert_eq!(
        h.users().list(&admin, &q).await.unwrap().pagination.total,
        total
    );
    assert_eq!(h.list_cache_scans(), scans, "rescanned after a busy log");
    // A user among as many changes: seen.
    dir.import_ldif(devices(2, batch).as_bytes(), |_| {})
        .unwrap();
    h.users()
        .create(
            &admin,
            serde_json::json!({"uid": "ku3", "cn": "K", "sn": "U"})
                .as_object()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        h.users().list(&admin, &q).await.unwrap().pagination.total,
        total + 1
    );
}

/// LDIF of `n` device entries `cn=dev{round}-{i}` below the base: changes no user list sees.
fn devices(round: usize, n: usize) -> String {
    use std::fmt::Write as _;
    let mut ldif = String::new();
    for i in 0..n {
        write!(
            ldif,
            "dn: cn=dev{round}-{i},dc=example,dc=com\nobjectClass: device\ncn: dev{round}-{i}\n\n"
        )
        .unwrap();
    }
    ldif
}
