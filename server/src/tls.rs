//! TLS: a certificate from files, or a development certificate made on first start.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::error::ServerError;

/// A loaded server certificate.
#[derive(Debug)]
pub struct Certificate {
    /// The rustls configuration to serve with.
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the leaf certificate (DER), hex, for pinning by clients.
    pub fingerprint: String,
}

fn read(path: &Path) -> Result<Vec<u8>, ServerError> {
    std::fs::read(path).map_err(|e| ServerError::io(format!("reading {}", path.display()), e))
}

/// Loads a PEM certificate chain and key.
pub fn load(cert: &Path, key: &Path) -> Result<Certificate, ServerError> {
    let certs = CertificateDer::pem_slice_iter(&read(cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServerError::Tls(format!("{}: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_slice(&read(key)?)
        .map_err(|e| ServerError::Tls(format!("{}: {e}", key.display())))?;
    build(certs, key)
}

/// Makes (once) and loads the development certificate kept in `data_dir/tls/`.
pub fn dev(data_dir: &Path) -> Result<(Certificate, PathBuf), ServerError> {
    let dir = data_dir.join("tls");
    let cert_path = dir.join("dev-cert.pem");
    let key_path = dir.join("dev-key.pem");
    if !cert_path.exists() || !key_path.exists() {
        crate::secrets::create_private_dir(&dir)?;
        let names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        let made = rcgen::generate_simple_self_signed(names)
            .map_err(|e| ServerError::Tls(e.to_string()))?;
        crate::secrets::write_private_file(&cert_path, made.cert.pem().as_bytes())?;
        crate::secrets::write_private_file(&key_path, made.key_pair.serialize_pem().as_bytes())?;
    }
    Ok((load(&cert_path, &key_path)?, cert_path))
}

fn build(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Certificate, ServerError> {
    let leaf = certs
        .first()
        .ok_or_else(|| ServerError::Tls("the certificate file holds no certificate".into()))?;
    let fingerprint = hex::encode(Sha256::digest(leaf.as_ref()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Certificate {
        config: Arc::new(config),
        fingerprint,
    })
}
