//! Transports: StartTLS and ldaps with a configured CA, ldapi with SASL EXTERNAL.

use std::time::Duration;

use heracles_core::directory::{Bind, Directory, LdapConfig, LdapDirectory};
use heracles_core::ErrorCode;

use crate::fixture::Slapd;

#[tokio::test]
async fn starttls_with_configured_ca() {
    let slapd = Slapd::shared();
    let cfg = slapd
        .service_config()
        .with_starttls(true)
        .with_ca_file(slapd.get("TLS_CA"));
    let dir = LdapDirectory::connect(cfg).await.unwrap();
    assert!(dir.get(&slapd.base(), &[]).await.unwrap().is_some());
}

#[tokio::test]
async fn ldaps_with_configured_ca() {
    let slapd = Slapd::shared();
    let cfg = LdapConfig::simple(
        slapd.get("LDAPS_URI"),
        slapd.get("SERVICE_DN"),
        slapd.get("SERVICE_PW"),
    )
    .with_ca_file(slapd.get("TLS_CA"));
    let dir = LdapDirectory::connect(cfg).await.unwrap();
    assert!(dir.get(&slapd.base(), &[]).await.unwrap().is_some());
}

#[tokio::test]
async fn tls_without_trusting_the_ca_fails_cleanly() {
    let slapd = Slapd::shared();
    let cfg = LdapConfig::simple(
        slapd.get("LDAPS_URI"),
        slapd.get("SERVICE_DN"),
        slapd.get("SERVICE_PW"),
    )
    .with_connect_timeout(Duration::from_secs(2));
    let err = LdapDirectory::connect(cfg).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DirectoryUnavailable, "{err}");
    // The message says what is wrong and what to configure.
    assert!(
        err.message().contains("TLS certificate was refused"),
        "{err}"
    );
    assert!(err.message().contains("ca_file"), "{err}");
    // StartTLS too, and a CA file holding another CA is no better.
    let other_ca = tempfile::NamedTempFile::new().unwrap();
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=Another CA", "-keyout", "/dev/null", "-out"])
        .arg(other_ca.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let cfg = slapd
        .service_config()
        .with_starttls(true)
        .with_ca_file(other_ca.path())
        .with_connect_timeout(Duration::from_secs(2));
    let err = LdapDirectory::connect(cfg).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DirectoryUnavailable, "{err}");
    assert!(
        err.message().contains("TLS certificate was refused"),
        "{err}"
    );
}

#[tokio::test]
async fn ldapi_with_sasl_external() {
    let slapd = Slapd::shared();
    let dir = LdapDirectory::connect(LdapConfig::new(slapd.get("LDAPI_URI"), Bind::SaslExternal))
        .await
        .unwrap();
    assert!(dir.get(&slapd.base(), &[]).await.unwrap().is_some());
}

#[tokio::test]
async fn wrong_service_password_is_a_configuration_error() {
    let slapd = Slapd::shared();
    let cfg = LdapConfig::simple(
        slapd.get("LDAP_URI"),
        slapd.get("SERVICE_DN"),
        "not-the-password",
    );
    let err = LdapDirectory::connect(cfg).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidConfig, "{err}");
}

/// A pool of two connections carries many operations at once: each connection is shared
/// by several (LDAP multiplexes by message id), with a failing write and a sorted window
/// (which takes a connection of its own and closes it) among them, and none of them
/// disturbs the others. Afterwards the pool still holds at most its two connections.
#[tokio::test]
async fn a_small_pool_carries_many_operations_at_once() {
    use heracles_core::directory::{Scope, SearchRequest, SortKey};
    use heracles_core::filter::Filter;

    let slapd = Slapd::shared();
    let base = slapd.base();
    let dir = std::sync::Arc::new(
        LdapDirectory::connect(slapd.service_config().with_pool_size(2))
            .await
            .unwrap(),
    );
    let ou = crate::fixture::sandbox(dir.as_ref(), &base, "pool-share").await;
    for i in 0..5 {
        dir.add(&crate::fixture::person(&ou, &format!("share{i}")))
            .await
            .unwrap();
    }
    let existing = crate::fixture::person(&ou, "share0");
    let listing = SearchRequest::new(ou.clone(), Scope::One, Filter::present("uid"))
        .attributes(["uid"])
        .sort(vec![SortKey::asc("uid")]);
    let gets: Vec<_> = (0..40)
        .map(|i| {
            let dir = std::sync::Arc::clone(&dir);
            let rdn = heracles_core::dn::Rdn::new("uid", &format!("share{}", i % 5)).unwrap();
            let dn = ou.child(rdn);
            tokio::spawn(async move { dir.get(&dn, &["uid"]).await })
        })
        .collect();
    let (refused, window) = tokio::join!(dir.add(&existing), dir.sorted_window(&listing, 1, 2));
    for (i, got) in gets.into_iter().enumerate() {
        let e = got.await.unwrap().unwrap().unwrap();
        assert_eq!(e.first_str("uid"), Some(format!("share{}", i % 5).as_str()));
    }
    assert_eq!(refused.unwrap_err().code(), ErrorCode::AlreadyExists);
    let window = window.unwrap().unwrap();
    let uids: Vec<_> = window
        .entries
        .iter()
        .map(|e| e.first_str("uid").unwrap().to_owned())
        .collect();
    assert_eq!(uids, ["share1", "share2"]);
    assert!(dir.idle_connections() <= 2, "{}", dir.idle_connections());
    assert!(dir.get(&ou, &[]).await.unwrap().is_some());

    // Paged searches keep their paging state on the connection in slapd: several at once,
    // each of several pages, on a pool of one connection, all come back whole.
    let one = std::sync::Arc::new(
        LdapDirectory::connect(slapd.service_config().with_pool_size(1))
            .await
            .unwrap(),
    );
    let paged: Vec<_> = (0..6)
        .map(|_| {
            let dir = std::sync::Arc::clone(&one);
            let req = SearchRequest::new(ou.clone(), Scope::One, Filter::present("uid"))
                .attributes(["uid"])
                .page_size(2);
            tokio::spawn(async move { dir.search(&req).await })
        })
        .collect();
    for p in paged {
        assert_eq!(p.await.unwrap().unwrap().len(), 5);
    }
}
