//! HTTPS for the listener: rustls with the ring provider (the same TLS stack the LDAP
//! client uses; nothing links OpenSSL), TLS 1.2 and 1.3, HTTP/1.1 announced by ALPN.
//!
//! The certificate chain and key come from PEM files (`tls_cert_file`, `tls_key_file`),
//! read once at start: a missing, empty or mismatched file is an `INVALID_CONFIG` error and
//! the server does not start. To use a renewed certificate, restart the server (a graceful
//! restart drains in-flight requests).

use std::path::Path;
use std::sync::Arc;

use heracles_core::error::{Error, ErrorCode, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

fn bad(setting: &str, path: &Path, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::InvalidConfig,
        format!("cannot use {setting} '{}': {why}", path.display()),
    )
    .with_detail(setting, path.display().to_string())
}

/// The acceptor for the configured certificate and key.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor> {
    let cert_file = &files.cert_file;
    let key_file = &files.key_file;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_file)
        .map_err(|e| bad("tls_cert_file", cert_file, e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad("tls_cert_file", cert_file, e))?;
    if certs.is_empty() {
        return Err(bad(
            "tls_cert_file",
            cert_file,
            "it holds no PEM certificate",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| {
        bad(
            "tls_key_file",
            key_file,
            format!("no PEM private key could be read ({e})"),
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::internal(format!("cannot set up TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            bad(
                "tls_key_file",
                key_file,
                format!("it does not fit the certificate in tls_cert_file ({e})"),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_configuration_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TlsFiles {
            cert_file: dir.path().join("none.pem"),
            key_file: dir.path().join("none.key"),
        };
        let Err(e) = acceptor(&missing) else {
            panic!("a missing file was accepted")
        };
        assert_eq!(e.code(), ErrorCode::InvalidConfig);
        assert!(e.message().contains("tls_cert_file"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not PEM\n").unwrap();
        let Err(e) = acceptor(&TlsFiles {
            cert_file: empty.clone(),
            key_file: empty,
        }) else {
            panic!("a file without PEM was accepted")
        };
        assert_eq!(e.code(), ErrorCode::InvalidConfig);
        assert!(e.message().contains("no PEM certificate"), "{e}");
    }
}
