//! TLS client configuration (rustls with the ring provider; nothing links OpenSSL).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use crate::error::{Error, ErrorCode, Result};

/// A client configuration trusting exactly the certificates in `ca_file` (PEM).
pub(super) fn client_config(ca_file: &Path) -> Result<Arc<ClientConfig>> {
    let bad = |why: String| {
        Error::new(
            ErrorCode::InvalidConfig,
            format!("cannot use CA file '{}': {why}", ca_file.display()),
        )
        .with_detail("ca_file", ca_file.display().to_string())
    };
    let mut roots = RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file).map_err(|e| bad(e.to_string()))?;
    for cert in certs {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots.add(cert).map_err(|e| bad(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(bad("it holds no certificate".to_owned()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ca_files_are_config_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert_eq!(
            client_config(&missing).unwrap_err().code(),
            ErrorCode::InvalidConfig
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let err = client_config(&empty).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig);
        assert!(err.message().contains("no certificate"), "{err}");
    }
}
