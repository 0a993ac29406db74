//! Server loss, stalls and recovery, on private slapd instances.

use std::time::{Duration, Instant};

use heracles_core::directory::{Change, Directory, LdapConfig, LdapDirectory, Marker};
use heracles_core::dn::Dn;
use heracles_core::ErrorCode;

use crate::fixture::{group, person, OwnSlapd};

fn quick(cfg: LdapConfig) -> LdapConfig {
    cfg.with_connect_timeout(Duration::from_secs(2))
        .with_operation_timeout(Duration::from_secs(3))
}

#[tokio::test]
async fn server_stopped_then_restarted() {
    let own = OwnSlapd::start();
    let base = own.env.base();
    let dir = LdapDirectory::connect(quick(own.env.service_config()))
        .await
        .unwrap();
    let people = base.child(heracles_core::dn::Rdn::new("ou", "people").unwrap());
    let kept = person(&people, "survivor");
    dir.add(&kept).await.unwrap();
    assert!(dir.idle_connections() >= 1);

    own.stop();
    let t = Instant::now();
    let err = dir.get(&kept.dn, &[]).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DirectoryUnavailable, "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    let err = dir.health().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DirectoryUnavailable, "{err}");
    let err = dir.add(&person(&people, "lost")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DirectoryUnavailable, "{err}");

    own.restart();
    // The same LdapDirectory works again, with no manual step; the data is still there.
    dir.health().await.unwrap();
    assert!(dir.get(&kept.dn, &[]).await.unwrap().is_some());
    dir.add(&person(&people, "after")).await.unwrap();
}

#[tokio::test]
async fn stalled_server_times_out_instead_of_hanging() {
    let own = OwnSlapd::start();
    let dir = LdapDirectory::connect(
        own.env
            .service_config()
            .with_connect_timeout(Duration::from_millis(800))
            .with_operation_timeout(Duration::from_millis(800)),
    )
    .await
    .unwrap();
    // Every thread of slapd stopped: the request below can only meet a stalled server.
    signal_slapd(&own, "-STOP");
    let t = Instant::now();
    let err = dir.get(&own.env.base(), &[]).await.unwrap_err();
    let took = t.elapsed();
    signal_slapd(&own, "-CONT");
    assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    // Once the server resumes, the directory recovers by itself.
    let mut ok = false;
    for _ in 0..20 {
        if dir.get(&own.env.base(), &[]).await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ok, "directory did not recover after SIGCONT");
}

/// Sends a signal to a slapd by pid (the shell's built-in kill) and, for SIGSTOP, waits
/// until every thread of it is stopped.
fn signal_slapd(own: &OwnSlapd, sig: &str) {
    let pid: i32 = own.env.get("SLAPD_PID").parse().unwrap();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("slapd"),
        "SLAPD_PID {pid} is not a slapd"
    );
    let ok = std::process::Command::new("sh")
        .args(["-c", &format!("kill {sig} {pid}")])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
    if sig != "-STOP" {
        return;
    }
    let t = Instant::now();
    loop {
        let stopped = std::fs::read_dir(format!("/proc/{pid}/task"))
            .unwrap()
            .filter_map(Result::ok)
            .all(|task| {
                let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
                stat.rsplit(')')
                    .next()
                    .is_some_and(|rest| rest.trim_start().starts_with('T'))
            });
        if stopped {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "slapd {pid} did not stop"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Regression (issue 9, faults): with several pooled connections idle past
/// `health_check_after`, a stalled server made one operation probe each of them in turn
/// (`connect_timeout` apiece) and then spend `connect_timeout` on the TCP connect and again
/// on the bind: many times the operation timeout. One operation, pool wait and connection
/// set-up included, now ends within `operation_timeout`; a password check too.
#[tokio::test]
async fn stall_with_stale_idle_connections_keeps_the_operation_timeout() {
    let own = OwnSlapd::start();
    let base = own.env.base();
    let mut cfg = own
        .env
        .service_config()
        .with_pool_size(4)
        .with_connect_timeout(Duration::from_millis(600))
        .with_operation_timeout(Duration::from_millis(800));
    cfg.health_check_after = Duration::from_millis(100);
    let dir = LdapDirectory::connect(cfg).await.unwrap();
    // Four connections in the pool, all idle past the health check age.
    let (a, b, c, d) = tokio::join!(
        dir.get(&base, &[]),
        dir.get(&base, &[]),
        dir.get(&base, &[]),
        dir.get(&base, &[])
    );
    for r in [a, b, c, d] {
        r.unwrap();
    }
    assert_eq!(dir.idle_connections(), 4);
    tokio::time::sleep(Duration::from_millis(300)).await;

    signal_slapd(&own, "-STOP");
    let t = Instant::now();
    let err = dir.get(&base, &[]).await.unwrap_err();
    let took = t.elapsed();
    let t = Instant::now();
    let checked = dir
        .check_password(&Dn::parse(own.env.get("SERVICE_DN")).unwrap(), "x")
        .await;
    let check_took = t.elapsed();
    signal_slapd(&own, "-CONT");
    assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
    assert!(took < Duration::from_millis(1300), "get took {took:?}");
    assert!(checked.is_err(), "{checked:?}");
    assert!(
        check_took < Duration::from_millis(1300),
        "check_password took {check_took:?}"
    );
    // And it serves again once the server resumes.
    let t = Instant::now();
    while dir.get(&base, &[]).await.is_err() {
        assert!(t.elapsed() < Duration::from_secs(5), "no recovery");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn unresponsive_endpoint_times_out_on_connect() {
    // A listener that accepts and never answers: connect+bind must give up in time.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let cfg = LdapConfig::simple(&format!("ldap://{addr}"), "cn=x,dc=example,dc=com", "pw")
        .with_connect_timeout(Duration::from_millis(500))
        .with_operation_timeout(Duration::from_millis(500));
    let t = Instant::now();
    let err = LdapDirectory::connect(cfg).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
    assert!(t.elapsed() < Duration::from_secs(2));
    holder.abort();

    // Nothing listening at all: unavailable, at once.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let cfg = LdapConfig::simple(&format!("ldap://{closed}"), "cn=x,dc=example,dc=com", "pw");
    let err = LdapDirectory::connect(cfg).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DirectoryUnavailable, "{err}");
}

#[tokio::test]
async fn bad_configuration_is_reported() {
    let err = LdapDirectory::new(LdapConfig::simple("http://x", "cn=x", "pw")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidConfig);
    let err = LdapDirectory::new(
        LdapConfig::simple("ldaps://127.0.0.1:1", "cn=x", "pw").with_ca_file("/nonexistent/ca.pem"),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidConfig);
}

/// The change marker comes from the server's notifications (a persistent search) once the
/// watch is live: writes by another client move it without a read of `contextCSN`, writes
/// through the directory move it at once, and after the server went away and came back the
/// marker is read from `contextCSN` again until a new watch is live.
#[tokio::test]
async fn change_watch_sees_other_clients_and_recovers() {
    let own = OwnSlapd::start();
    let base = own.env.base();
    let people = base.child(heracles_core::dn::Rdn::new("ou", "people").unwrap());
    let (dir, other) = two_clients(&own).await;
    let first = dir.change_marker(&base).await.unwrap().unwrap();
    assert!(!first.epoch().starts_with("watch:"), "{first}");
    let m1 = live_within(&dir, &base, Duration::from_secs(5)).await;
    assert!(m1.epoch().starts_with("watch:"), "{m1}");
    // Nothing changes: the marker stays.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(dir.change_marker(&base).await.unwrap().unwrap(), m1);

    // Another client's write: notified.
    other.add(&person(&people, "watched")).await.unwrap();
    let t = Instant::now();
    let m2 = loop {
        let m = dir.change_marker(&base).await.unwrap().unwrap();
        if m != m1 {
            break m;
        }
        assert!(t.elapsed() < Duration::from_secs(2), "not notified");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    // The notification says which entry, of which classes, and that it is a leaf.
    let watched = person(&people, "watched").dn;
    assert!(m2.changed_since(&m1, |c| matches!(
        c,
        Change::Entry { dn, classes, leaf: true, uuid: Some(_) }
            if dn == &watched && classes.iter().any(|c| c.eq_ignore_ascii_case("inetOrgPerson"))
    )));
    assert!(!m2.changed_since(&m1, |c| matches!(c, Change::Unknown)));
    // A write through the directory itself: the marker moves before it returns, and its
    // notification follows.
    dir.delete(&watched).await.unwrap();
    let m3 = dir.change_marker(&base).await.unwrap().unwrap();
    assert_ne!(m3, m2);
    assert!(m3.changed_since(&m2, |c| matches!(
        c,
        Change::Deleted { dn, cascade: true } if dn == &watched
    )));
    let t = Instant::now();
    loop {
        let m = dir.change_marker(&base).await.unwrap().unwrap();
        // The notification (after or even before the write's own record): a delete
        // that may cascade too (the server's overlays do not notify what they change).
        let deletes = m
            .changes_since(&m2)
            .unwrap()
            .iter()
            .filter(|c| matches!(&***c, Change::Deleted { dn, cascade: true } if dn == &watched))
            .count();
        if deletes == 2 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(2), "delete not notified");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let m3 = dir.change_marker(&base).await.unwrap().unwrap();

    // The server goes away: the watch ends, markers fail like any read.
    own.stop();
    let t = Instant::now();
    while dir.watching_changes() {
        assert!(t.elapsed() < Duration::from_secs(15), "watch still live");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(dir.change_marker(&base).await.is_err());
    own.restart();
    // Back: contextCSN first, then a new watch, with a marker never seen before.
    let back = dir.change_marker(&base).await.unwrap().unwrap();
    assert!(!back.epoch().starts_with("watch:"), "{back}");
    let m4 = live_within(&dir, &base, Duration::from_secs(25)).await;
    assert!(![m1, m2, m3].contains(&m4), "{m4}");
    other.add(&person(&people, "after")).await.unwrap();
    let t = Instant::now();
    while dir.change_marker(&base).await.unwrap().unwrap() == m4 {
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "not notified after recovery"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Two directories on `own` as the service account: the one under test and another client.
async fn two_clients(own: &OwnSlapd) -> (LdapDirectory, LdapDirectory) {
    let connect = || LdapDirectory::connect(quick(own.env.service_config()));
    (connect().await.unwrap(), connect().await.unwrap())
}

/// Services over `own` with the change watch live, bootstrapped, acting as the owner; and
/// another client of the same slapd.
async fn watched_services(
    own: &OwnSlapd,
) -> (
    heracles_core::service::Heracles,
    LdapDirectory,
    heracles_core::service::Principal,
) {
    let base = own.env.base();
    let (dir, other) = two_clients(own).await;
    live_within(&dir, &base, Duration::from_secs(5)).await;
    let h = heracles_core::service::Heracles::new(std::sync::Arc::new(dir), base.clone());
    h.bootstrap(Some("Bootstrap-Passw0rd")).await.unwrap();
    (h, other, heracles_core::service::Principal::system(&base))
}

/// Waits (2 s at most) until the get of `uid` — `None`: no such user — satisfies `ok`.
async fn until_user(
    h: &heracles_core::service::Heracles,
    admin: &heracles_core::service::Principal,
    uid: &str,
    what: &str,
    ok: impl Fn(Option<&heracles_core::service::users::User>) -> bool,
) {
    let t = Instant::now();
    loop {
        let u = match h.users().get(admin, uid).await {
            Ok(u) => Some(u),
            Err(e) if e.code() == ErrorCode::UserNotFound => None,
            Err(e) => panic!("{what}: {e}"),
        };
        if ok(u.as_ref()) {
            return;
        }
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{what} not seen: {u:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Changes no user list or user read shows: a login of `uid` (a session, an audit event),
/// a failed login of a user that does not exist, a new posix group `cn`.
async fn changes_of_no_user(
    h: &heracles_core::service::Heracles,
    admin: &heracles_core::service::Principal,
    uid: &str,
    cn: &str,
) {
    use heracles_core::service::groups::GroupType;
    let ctx = heracles_core::audit::AuditContext::new(None, "unrelated-changes", None);
    h.users()
        .login(&ctx, uid, "Login-Passw0rd-1")
        .await
        .unwrap();
    // (A wrong password for an existing user would count: slapd's ppolicy records the
    // failure in the user's entry.)
    h.users()
        .login(&ctx, "nobody-here", "wrong")
        .await
        .unwrap_err();
    h.groups()
        .create(admin, &group(cn, GroupType::Posix, &[]))
        .await
        .unwrap();
}

/// The marker once `dir`'s change watch is live (asking for markers starts it).
async fn live_within(dir: &LdapDirectory, base: &Dn, limit: Duration) -> Marker {
    let t = Instant::now();
    loop {
        let m = dir.change_marker(base).await.unwrap().unwrap();
        if dir.watching_changes() {
            return dir.change_marker(base).await.unwrap().unwrap();
        }
        assert!(t.elapsed() < limit, "the change watch is not live: {m}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A size-limited search is one plain search; where the server's own limit for the account
/// (500 on the test slapd) is below the one asked, it pages instead and still answers the
/// number asked for, and a limit above the matches answers them all.
#[tokio::test]
async fn size_limited_searches_beyond_the_server_limit() {
    use heracles_core::directory::{Scope, SearchRequest};
    use heracles_core::filter::Filter;

    let own = OwnSlapd::start();
    let base = own.env.base();
    let people = base.child(heracles_core::dn::Rdn::new("ou", "people").unwrap());
    let dir = LdapDirectory::connect(quick(own.env.service_config()).with_page_size(2000))
        .await
        .unwrap();
    for i in 0..620 {
        dir.add(&person(&people, &format!("lim{i:03}")))
            .await
            .unwrap();
    }
    let req = |n: usize| {
        SearchRequest::new(people.clone(), Scope::One, Filter::present("uid"))
            .attributes(["uid"])
            .size_limit(n)
    };
    for (asked, got) in [(3, 3), (500, 500), (600, 600), (700, 620)] {
        let found = dir.search(&req(asked)).await.unwrap();
        assert_eq!(found.len(), got, "size limit {asked}");
    }
}

/// Lists are scanned again only for changes that may change them: logins (audit events,
/// sessions), groups and other entries leave a user list cached, while users added,
/// changed, renamed or deleted by another client are in the very next page.
#[tokio::test]
async fn lists_rescan_only_for_changes_that_matter() {
    use heracles_core::page::PageRequest;
    use heracles_core::service::{Heracles, ListQuery};

    let own = OwnSlapd::start();
    let base = own.env.base();
    let people = base.child(heracles_core::dn::Rdn::new("ou", "people").unwrap());
    let (h, other, admin) = watched_services(&own).await;
    for uid in ["lr1", "lr2", "lr3"] {
        let body = serde_json::json!({"uid": uid, "cn": "C", "sn": "S",
                                      "userPassword": "Login-Passw0rd-1"});
        h.users()
            .create(&admin, body.as_object().unwrap())
            .await
            .unwrap();
    }
    let q = ListQuery::default()
        .filter("uid:starts:lr")
        .page(PageRequest::new(10, 0).unwrap());
    let uids = |h: &Heracles| {
        let h = h.clone();
        let q = q.clone();
        let admin = admin.clone();
        async move {
            let p = h.users().list(&admin, &q).await.unwrap();
            let mut u: Vec<String> = p.data.into_iter().map(|u| u.uid).collect();
            u.push(format!("total {}", p.pagination.total));
            u
        }
    };
    assert_eq!(uids(&h).await, ["lr1", "lr2", "lr3", "total 3"]);
    let scans = h.list_cache_scans();

    // Logins, a group, a session: nothing a user list shows.
    changes_of_no_user(&h, &admin, "lr1", "lrgroup").await;
    // A user created and deleted again through Heracles (as the load benchmark does): in
    // no page before or after.
    let temp = serde_json::json!({"uid": "lrtmp", "cn": "C", "sn": "S"});
    h.users()
        .create(&admin, temp.as_object().unwrap())
        .await
        .unwrap();
    h.users().delete(&admin, "lrtmp").await.unwrap();
    // Their notifications arrive too.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(uids(&h).await, ["lr1", "lr2", "lr3", "total 3"]);
    assert_eq!(
        h.list_cache_scans(),
        scans,
        "rescanned for unrelated changes"
    );

    // Another client's changes to users: seen in the next page.
    let until = |want: Vec<&'static str>| {
        let h = h.clone();
        let uids = &uids;
        async move {
            let t = Instant::now();
            loop {
                let got = uids(&h).await;
                if got == want {
                    return;
                }
                assert!(t.elapsed() < Duration::from_secs(2), "{got:?} != {want:?}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    // Their notifications carry each entry's entryUUID, and the list knows its entries':
    // a new entry and a rename are read again, not scanned.
    other.add(&person(&people, "lr0")).await.unwrap();
    until(vec!["lr0", "lr1", "lr2", "lr3", "total 4"]).await;
    other
        .rename(
            &person(&people, "lr2").dn,
            &heracles_core::dn::Rdn::new("uid", "lr9").unwrap(),
            true,
            None,
        )
        .await
        .unwrap();
    until(vec!["lr0", "lr1", "lr3", "lr9", "total 4"]).await;
    assert_eq!(
        h.list_cache_scans(),
        scans,
        "rescanned for a new entry or a rename"
    );
    // Deletes of listed users, by another client or through Heracles: the list without
    // them, no scan.
    let scans = h.list_cache_scans();
    other.delete(&person(&people, "lr3").dn).await.unwrap();
    until(vec!["lr0", "lr1", "lr9", "total 3"]).await;
    h.users().delete(&admin, "lr1").await.unwrap();
    assert_eq!(uids(&h).await, ["lr0", "lr9", "total 2"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(uids(&h).await, ["lr0", "lr9", "total 2"]);
    assert_eq!(h.list_cache_scans(), scans, "rescanned for deletes");
    // A change of a listed user's sort key through another client.
    let sorted = ListQuery {
        sort: Some("-cn".into()),
        ..q.clone()
    };
    let by_cn = |h: &Heracles| {
        let (h, sorted, admin) = (h.clone(), sorted.clone(), admin.clone());
        async move {
            let p = h.users().list(&admin, &sorted).await.unwrap();
            p.data.into_iter().map(|u| u.uid).collect::<Vec<_>>()
        }
    };
    assert_eq!(
        by_cn(&h).await[0],
        "lr0",
        "cn 'User lr0' sorts before 'C' descending"
    );
    other
        .modify(
            &person(&people, "lr9").dn,
            &[heracles_core::directory::Modification::replace(
                "cn",
                ["Zed"],
            )],
        )
        .await
        .unwrap();
    let t = Instant::now();
    while by_cn(&h).await[0] != "lr9" {
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "sort key change not seen"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // A user created and kept, and a listed user's sort key changed, through Heracles:
    // each is read again and put in its place, without a scan — also once slapd's
    // notifications of those writes arrive.
    uids(&h).await;
    let (scans, patches) = (h.list_cache_scans(), h.list_cache_patches());
    let kept = serde_json::json!({"uid": "lr5", "cn": "Mid", "sn": "S"});
    h.users()
        .create(&admin, kept.as_object().unwrap())
        .await
        .unwrap();
    assert_eq!(uids(&h).await, ["lr0", "lr5", "lr9", "total 3"]);
    assert_eq!(by_cn(&h).await, ["lr9", "lr0", "lr5"]);
    let cn = serde_json::json!({"cn": "Zz Top"});
    h.users()
        .update(&admin, "lr5", cn.as_object().unwrap())
        .await
        .unwrap();
    assert_eq!(by_cn(&h).await, ["lr5", "lr9", "lr0"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(uids(&h).await, ["lr0", "lr5", "lr9", "total 3"]);
    assert_eq!(by_cn(&h).await, ["lr5", "lr9", "lr0"]);
    assert_eq!(
        h.list_cache_scans(),
        scans,
        "rescanned for a user created or modified here"
    );
    assert!(h.list_cache_patches() >= patches + 2);
    // The lists agree with a scan.
    h.set_list_cache(false);
    assert_eq!(uids(&h).await, ["lr0", "lr5", "lr9", "total 3"]);
    assert_eq!(by_cn(&h).await, ["lr5", "lr9", "lr0"]);
}

/// Users created concurrently, each followed by a list page (as a script creating users
/// and listing them does): every new user is in the next page, the cached list follows
/// them without a scan — also as slapd's notifications of them arrive —, and ends equal
/// to a scan.
#[tokio::test]
async fn lists_follow_concurrent_creates_without_scans() {
    use heracles_core::page::PageRequest;
    use heracles_core::service::ListQuery;

    let own = OwnSlapd::start();
    let (h, _other, admin) = watched_services(&own).await;
    let q = ListQuery::default()
        .filter("uid:starts:cc")
        .page(PageRequest::new(100, 0).unwrap());
    async fn listed(
        h: &heracles_core::service::Heracles,
        admin: &heracles_core::service::Principal,
        q: &ListQuery,
    ) -> Vec<String> {
        let p = h.users().list(admin, q).await.unwrap();
        let uids: Vec<String> = p.data.into_iter().map(|u| u.uid).collect();
        assert_eq!(uids.len() as u64, p.pagination.total);
        uids
    }
    assert!(listed(&h, &admin, &q).await.is_empty());
    let scans = h.list_cache_scans();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (h, admin, q) = (h.clone(), admin.clone(), q.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..8 {
                let uid = format!("cc{w}x{i}");
                let body = serde_json::json!({"uid": uid, "cn": "C", "sn": "S"});
                h.users()
                    .create(&admin, body.as_object().unwrap())
                    .await
                    .unwrap();
                let uids = listed(&h, &admin, &q).await;
                assert!(uids.contains(&uid), "{uid} not in {uids:?}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cached = listed(&h, &admin, &q).await;
    assert_eq!(cached.len(), 64);
    assert_eq!(
        h.list_cache_scans(),
        scans,
        "rescanned for users created here"
    );
    h.set_list_cache(false);
    assert_eq!(
        listed(&h, &admin, &q).await,
        cached,
        "the cached list is a scan's"
    );
}

/// On slapd with its change watch live, a get and a list page are read once and then
/// answered from the cache of reads; logins and other entries' changes leave them cached,
/// and another client's change to the entry — directly, or through slapd's memberof when
/// the user joins a group — shows within moments.
#[tokio::test]
async fn reads_stay_cached_until_their_entries_change() {
    use heracles_core::directory::Modification;
    use heracles_core::page::PageRequest;
    use heracles_core::service::groups::GroupType;
    use heracles_core::service::ListQuery;

    let own = OwnSlapd::start();
    let (h, other, admin) = watched_services(&own).await;
    let body = serde_json::json!({"uid": "rc1", "cn": "Read Cache", "sn": "S",
                                  "userPassword": "Login-Passw0rd-1"});
    h.users()
        .create(&admin, body.as_object().unwrap())
        .await
        .unwrap();
    // A group with the user in it: slapd is seen to keep memberOf, and a get is one read.
    h.groups()
        .create(&admin, &group("rcg", GroupType::Ldap, &["rc1"]))
        .await
        .unwrap();
    let group_dn = h
        .groups()
        .create(&admin, &group("rcg2", GroupType::Ldap, &[]))
        .await
        .unwrap()
        .dn;
    assert!(h.member_of_maintained().await.unwrap());
    let get = || async { h.users().get(&admin, "rc1").await.unwrap() };
    let dn = get().await.dn;
    let (hits, misses) = h.read_cache_counts();
    get().await;
    assert_eq!(h.read_cache_counts(), (hits + 1, misses), "a hit");

    // A login (a session, an audit event), a failed one for nobody, a posix group: the
    // entry is still what was read.
    changes_of_no_user(&h, &admin, "rc1", "rcp").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, misses) = h.read_cache_counts();
    get().await;
    assert_eq!(
        h.read_cache_counts().1,
        misses,
        "read again for unrelated changes"
    );

    // Another client's changes to the user: seen within moments.
    other
        .modify(&dn, &[Modification::replace("description", ["theirs"])])
        .await
        .unwrap();
    until_user(&h, &admin, "rc1", "another client's description", |u| {
        u.is_some_and(|u| {
            u.attributes
                .get("description")
                .is_some_and(|d| d.to_string().contains("theirs"))
        })
    })
    .await;
    // memberOf, written by slapd's memberof overlay on the user's entry.
    other
        .modify(
            &group_dn,
            &[Modification::Add {
                attr: "member".into(),
                values: vec![dn.to_string().into_bytes()],
            }],
        )
        .await
        .unwrap();
    until_user(
        &h,
        &admin,
        "rc1",
        "a group joined through another client",
        |u| u.is_some_and(|u| u.groups == ["rcg", "rcg2"]),
    )
    .await;
    // The group deleted by another client: memberof takes memberOf away, unnotified too.
    other.delete(&group_dn).await.unwrap();
    until_user(
        &h,
        &admin,
        "rc1",
        "a group deleted by another client",
        |u| u.is_some_and(|u| u.groups == ["rcg"]),
    )
    .await;

    // A list page likewise.
    let q = ListQuery::default()
        .filter("uid:starts:rc")
        .page(PageRequest::new(5, 0).unwrap());
    let list = || async { h.users().list(&admin, &q).await.unwrap() };
    list().await;
    let (hits, misses) = h.read_cache_counts();
    list().await;
    assert_eq!(h.read_cache_counts(), (hits + 1, misses), "a cached page");
    other
        .modify(&dn, &[Modification::replace("description", ["again"])])
        .await
        .unwrap();
    let t = Instant::now();
    while !list().await.data[0]
        .attributes
        .get("description")
        .is_some_and(|d| d.to_string().contains("again"))
    {
        assert!(t.elapsed() < Duration::from_secs(2), "the page is stale");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The copy of users: once made, gets are answered from memory, each change — through
/// Heracles at once, another client's within moments — is followed by reading again only
/// what it changed, and the copy is never made twice for ordinary writes.
#[tokio::test]
async fn the_user_copy_follows_every_change() {
    use heracles_core::directory::{Entry, Modification};
    use heracles_core::dn::Rdn;
    use heracles_core::error::ErrorCode;
    use heracles_core::service::groups::GroupType;
    use heracles_core::service::Heracles;
    use std::sync::Arc;

    let own = OwnSlapd::start();
    let base = own.env.base();
    let (h, other, admin) = watched_services(&own).await;
    h.set_user_replica(heracles_core::service::replica::DEFAULT_USER_REPLICA);
    for uid in ["cp1", "cp2"] {
        let body = serde_json::json!({"uid": uid, "cn": "Copied", "sn": "S",
                                      "userPassword": "Login-Passw0rd-1"});
        h.users()
            .create(&admin, body.as_object().unwrap())
            .await
            .unwrap();
    }
    h.groups()
        .create(&admin, &group("cpg1", GroupType::Ldap, &["cp1", "cp2"]))
        .await
        .unwrap();
    let g2 = h
        .groups()
        .create(&admin, &group("cpg2", GroupType::Ldap, &[]))
        .await
        .unwrap()
        .dn;
    assert!(h.member_of_maintained().await.unwrap());
    // The first get starts the copy; it holds every user (the administrator too).
    let dn = h.users().get(&admin, "cp1").await.unwrap().dn;
    let t = Instant::now();
    while h.user_replica_stats().users == 0 {
        assert!(t.elapsed() < Duration::from_secs(5), "the copy is not made");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.user_replica_stats().users, 3);
    let get = |uid: &'static str| {
        let (h, admin) = (&h, &admin);
        async move { h.users().get(admin, uid).await }
    };
    let before = h.user_replica_stats();
    assert_eq!(get("cp1").await.unwrap().groups, ["cpg1"]);
    assert_eq!(
        get("nobody").await.unwrap_err().code(),
        ErrorCode::UserNotFound
    );
    let s = h.user_replica_stats();
    assert_eq!(s.answered, before.answered + 2, "answered from the copy");
    assert_eq!(s.reread, before.reread);

    // Unrelated changes (a login, a session, an audit event, a posix group) read nothing
    // again; a write through Heracles shows at once.
    changes_of_no_user(&h, &admin, "cp2", "cpp").await;
    let body = serde_json::json!({"description": "ours"});
    h.users()
        .update(&admin, "cp1", body.as_object().unwrap())
        .await
        .unwrap();
    let u = get("cp1").await.unwrap();
    assert!(u.attributes["description"].to_string().contains("ours"));

    // Another client's writes.
    other
        .modify(&dn, &[Modification::replace("description", ["theirs"])])
        .await
        .unwrap();
    until_user(&h, &admin, "cp1", "a description", |u| {
        u.is_some_and(|u| u.attributes["description"].to_string().contains("theirs"))
    })
    .await;
    let member = |op: fn(&str, Vec<Vec<u8>>) -> Modification| {
        vec![op("member", vec![dn.to_string().into_bytes()])]
    };
    other
        .modify(
            &g2,
            &member(|a, v| Modification::Add {
                attr: a.into(),
                values: v,
            }),
        )
        .await
        .unwrap();
    until_user(&h, &admin, "cp1", "a group joined", |u| {
        u.is_some_and(|u| u.groups == ["cpg1", "cpg2"])
    })
    .await;
    let g1 = h.groups().get(&admin, "cpg1").await.unwrap().dn;
    other
        .modify(
            &g1,
            &member(|a, v| Modification::Delete {
                attr: a.into(),
                values: v,
            }),
        )
        .await
        .unwrap();
    until_user(&h, &admin, "cp1", "a group left", |u| {
        u.is_some_and(|u| u.groups == ["cpg2"])
    })
    .await;
    other.delete(&g2).await.unwrap();
    until_user(&h, &admin, "cp1", "a group deleted", |u| {
        u.is_some_and(|u| u.groups.is_empty())
    })
    .await;
    // A user added, renamed and deleted by another client.
    let people = dn.parent().unwrap();
    let theirs = people.child(Rdn::new("uid", "cp3").unwrap());
    other
        .add(
            &Entry::new(theirs.clone())
                .with("objectClass", ["inetOrgPerson"])
                .with("uid", ["cp3"])
                .with("cn", ["Theirs"])
                .with("sn", ["T"]),
        )
        .await
        .unwrap();
    until_user(&h, &admin, "cp3", "a user added", |u| u.is_some()).await;
    let renamed = other
        .rename(&theirs, &Rdn::new("uid", "cp4").unwrap(), true, None)
        .await
        .unwrap();
    until_user(&h, &admin, "cp4", "a user renamed", |u| u.is_some()).await;
    until_user(&h, &admin, "cp3", "the old uid gone", |u| u.is_none()).await;
    other.delete(&renamed).await.unwrap();
    until_user(&h, &admin, "cp4", "a user deleted", |u| u.is_none()).await;
    // Created and deleted through Heracles: at once.
    let body = serde_json::json!({"uid": "cp5", "cn": "Made", "sn": "M"});
    h.users()
        .create(&admin, body.as_object().unwrap())
        .await
        .unwrap();
    assert_eq!(get("cp5").await.unwrap().uid, "cp5");
    h.users().delete(&admin, "cp5").await.unwrap();
    assert_eq!(
        get("cp5").await.unwrap_err().code(),
        ErrorCode::UserNotFound
    );
    // A user with a manager: refint may rewrite it later, unnotified; read each time.
    other
        .modify(&dn, &[Modification::replace("manager", [g1.to_string()])])
        .await
        .unwrap();
    until_user(&h, &admin, "cp1", "a manager", |u| {
        u.is_some_and(|u| u.attributes.contains_key("manager"))
    })
    .await;
    let answered = h.user_replica_stats().answered;
    get("cp1").await.unwrap();
    assert_eq!(
        h.user_replica_stats().answered,
        answered,
        "read from the directory"
    );
    let cp2 = get("cp2").await.unwrap();
    assert_eq!(h.user_replica_stats().answered, answered + 1);
    // slapd's password policy locks cp2 after five failed binds: its own writes to the
    // entry, notified like any other.
    assert!(!cp2.locked);
    for _ in 0..5 {
        assert!(!other
            .check_password(&cp2.dn, "Wrong-Passw0rd")
            .await
            .unwrap());
    }
    until_user(
        &h,
        &admin,
        "cp2",
        "a lock-out by the password policy",
        |u| u.is_some_and(|u| u.locked),
    )
    .await;
    let s = h.user_replica_stats();
    assert_eq!(s.builds, 1, "followed, never made again: {s:?}");
    assert_eq!(s.users, 3);
    // Only what each change touched was read again (a few entries per change).
    assert!(s.reread < 20, "{s:?}");

    // A copy capped below the users there are is not made; gets read the directory.
    live_within(&other, &base, Duration::from_secs(5)).await;
    let capped = Heracles::new(Arc::new(other), base.clone());
    capped.set_user_replica(2);
    assert!(capped.member_of_maintained().await.unwrap());
    for _ in 0..2 {
        assert_eq!(capped.users().get(&admin, "cp2").await.unwrap().uid, "cp2");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        capped.user_replica_stats(),
        heracles_core::service::replica::ReplicaStats::default()
    );
}
