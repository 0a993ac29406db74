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
