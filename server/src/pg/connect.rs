//! How a node reaches its database: the connection string (with libpq's `sslmode` and
//! `sslrootcert`, which the Rust client does not know in full), TLS through rustls, and the
//! backoff between attempts while the database is away.
//!
//! `sslmode` as libpq reads it: `disable` (plain), `prefer` (the default: plain here, as no
//! certificate could be checked), `require` (encrypted; the certificate is checked against
//! `sslrootcert` when one is given, as libpq does, else not checked), `verify-ca` (signed by
//! `sslrootcert`) and `verify-full` (signed by it and naming the host).

use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::config::SslMode;
use postgres::{Client, NoTls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::ServerError;

/// Where and how to connect.
#[derive(Clone)]
pub struct PgSettings {
    config: postgres::Config,
    tls: Option<Arc<ClientConfig>>,
    /// `sslmode` as given (for logs).
    pub sslmode: String,
}

impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The configuration may hold a password: never printed.
        f.debug_struct("PgSettings")
            .field("sslmode", &self.sslmode)
            .finish()
    }
}

fn config_error(message: impl Into<String>) -> ServerError {
    ServerError::Config(message.into())
}

/// `%XX` escapes of a URL's query value.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(Ok(b)) = s.get(i + 1..i + 3).map(|h| u8::from_str_radix(h, 16)) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl PgSettings {
    /// Reads a `postgres://` URL.
    pub fn parse(url: &str) -> Result<Self, ServerError> {
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, query),
            None => (url, ""),
        };
        let mut kept = Vec::new();
        let (mut sslmode, mut root) = ("prefer".to_string(), None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => sslmode = percent_decode(value),
                "sslrootcert" => root = Some(percent_decode(value)),
                _ => kept.push(pair),
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config: postgres::Config = rest
            .parse()
            .map_err(|e| config_error(format!("the PostgreSQL URL: {e}")))?;
        let roots = root.as_deref().map(read_roots).transpose()?;
        let verifier = match (sslmode.as_str(), roots) {
            ("disable" | "prefer" | "allow", _) => None,
            ("require", None) => Some(Verify::Nothing),
            ("require" | "verify-ca", Some(roots)) => Some(Verify::Ca(roots)),
            ("verify-full", Some(roots)) => Some(Verify::Full(roots)),
            ("verify-ca" | "verify-full", None) => {
                return Err(config_error(format!(
                    "sslmode={sslmode} needs sslrootcert=<the CA certificate file> in the \
                     PostgreSQL URL"
                )))
            }
            (other, _) => {
                return Err(config_error(format!(
                    "unknown sslmode {other:?}: disable, prefer, require, verify-ca or verify-full"
                )))
            }
        };
        config.connect_timeout(Duration::from_secs(5));
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(30));
        let tls = match verifier {
            None => {
                config.ssl_mode(SslMode::Disable);
                None
            }
            Some(verify) => {
                config.ssl_mode(SslMode::Require);
                Some(Arc::new(verify.client_config()?))
            }
        };
        Ok(PgSettings {
            config,
            tls,
            sslmode,
        })
    }

    /// Whether connections are encrypted.
    pub fn encrypted(&self) -> bool {
        self.tls.is_some()
    }

    /// One connection, named `application_name` in `pg_stat_activity`.
    pub fn connect(&self, application_name: &str) -> Result<Client, postgres::Error> {
        let mut config = self.config.clone();
        config.application_name(application_name);
        match &self.tls {
            Some(tls) => config.connect(MakeRustlsConnect::new((**tls).clone())),
            None => config.connect(NoTls),
        }
    }
}

/// The CA certificates of a PEM file.
fn read_roots(path: &str) -> Result<RootCertStore, ServerError> {
    let pem = std::fs::read(path)
        .map_err(|e| config_error(format!("sslrootcert {path}: cannot read it: {e}")))?;
    let mut roots = RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| config_error(format!("sslrootcert {path}: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| config_error(format!("sslrootcert {path}: {e}")))?;
    }
    if roots.is_empty() {
        return Err(config_error(format!(
            "sslrootcert {path}: no certificate in it"
        )));
    }
    Ok(roots)
}

/// What is checked of the database's certificate.
enum Verify {
    /// Nothing (`sslmode=require` without a CA file): encrypted, not authenticated.
    Nothing,
    /// Signed by the CA, whatever host it names (`verify-ca`).
    Ca(RootCertStore),
    /// Signed by the CA and naming the host (`verify-full`).
    Full(RootCertStore),
}

impl Verify {
    fn client_config(self) -> Result<ClientConfig, ServerError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error(format!("TLS to PostgreSQL: {e}")))?;
        Ok(match self {
            Verify::Full(roots) => builder.with_root_certificates(roots).with_no_client_auth(),
            Verify::Ca(roots) => {
                let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| config_error(format!("TLS to PostgreSQL: {e}")))?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyHost(inner)))
                    .with_no_client_auth()
            }
            Verify::Nothing => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Unchecked(provider)))
                .with_no_client_auth(),
        })
    }
}

/// `verify-ca`: the chain is checked, the name is not.
#[derive(Debug)]
struct AnyHost(Arc<rustls::client::WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHost {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `sslmode=require` without a CA file: libpq encrypts and checks nothing; so do we (the
/// handshake's signatures are still checked).
#[derive(Debug)]
struct Unchecked(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Exponential backoff with jitter between connection attempts: 100 ms, doubling, at most
/// two seconds, so service resumes within about two seconds of the database's return.
#[derive(Debug)]
pub struct Backoff {
    delay: Duration,
    next: Option<Instant>,
}

/// The first wait after a failed attempt.
const FIRST: Duration = Duration::from_millis(100);
/// The longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            delay: FIRST,
            next: None,
        }
    }
}

impl Backoff {
    /// Whether an attempt may be made now.
    pub fn may_try(&self, now: Instant) -> bool {
        self.next.is_none_or(|next| now >= next)
    }

    /// How long until the next attempt may be made.
    pub fn wait(&self, now: Instant) -> Duration {
        self.next
            .map(|next| next.saturating_duration_since(now))
            .unwrap_or_default()
    }

    /// An attempt failed: wait longer before the next.
    pub fn failed(&mut self, now: Instant) {
        let jitter = self.delay.mul_f64(rand::random::<f64>() * 0.25);
        self.next = Some(now + self.delay + jitter);
        self.delay = (self.delay * 2).min(MAX_BACKOFF);
    }

    /// Connected: the next failure starts again from the first wait.
    pub fn reset(&mut self) {
        *self = Backoff::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_ssl_parameters_are_read_and_removed() {
        let plain = PgSettings::parse("postgres://u@db:5432/region").expect("plain");
        assert!(!plain.encrypted());
        let required =
            PgSettings::parse("postgres://u@db/region?sslmode=require&application_name=x")
                .expect("require");
        assert!(required.encrypted());
        let err = PgSettings::parse("postgres://u@db/region?sslmode=verify-full")
            .expect_err("verify-full without a CA");
        assert!(err.to_string().contains("sslrootcert"), "{err}");
        let err = PgSettings::parse("postgres://u@db/region?sslmode=sometimes")
            .expect_err("unknown mode");
        assert!(err.to_string().contains("unknown sslmode"), "{err}");
        let err = PgSettings::parse(
            "postgres://u@db/region?sslmode=verify-full&sslrootcert=%2Fno%2Fsuch.pem",
        )
        .expect_err("missing CA file");
        assert!(err.to_string().contains("/no/such.pem"), "{err}");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_resets() {
        let mut b = Backoff::default();
        let now = Instant::now();
        assert!(b.may_try(now));
        for _ in 0..10 {
            b.failed(now);
        }
        assert!(!b.may_try(now));
        assert!(b.wait(now) <= MAX_BACKOFF.mul_f64(1.25));
        assert!(b.may_try(now + MAX_BACKOFF.mul_f64(1.3)));
        b.reset();
        assert!(b.may_try(now));
    }
}
