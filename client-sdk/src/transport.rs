//! Connecting to the regional server: TCP, TLS (a CA certificate, or a development certificate
//! pinned by its SHA-256 fingerprint), and the WebSocket upgrade with the device token.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Uri};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

use crate::error::SdkError;

/// How to trust the server's certificate.
#[derive(Clone, Debug)]
pub enum Trust {
    /// Plain `ws://` (loopback development only).
    None,
    /// Accept exactly the certificate with this SHA-256 fingerprint (hex), as printed by
    /// `kooperacja-server serve --dev-tls`.
    Pinned(String),
    /// Verify the chain against these root certificates (DER).
    Roots(Vec<Vec<u8>>),
}

/// Where and as whom to connect. Its `Debug` output never shows the token.
#[derive(Clone)]
pub struct ServerAddress {
    /// `wss://host:port/sync` or `ws://127.0.0.1:port/sync`.
    pub url: String,
    /// The device token.
    pub token: String,
    /// How to trust TLS.
    pub trust: Trust,
}

impl std::fmt::Debug for ServerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerAddress")
            .field("url", &self.url)
            .field("token", &"…")
            .field("trust", &self.trust)
            .finish()
    }
}

/// A byte stream: TCP, or TLS over TCP.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open WebSocket to the server.
pub type Socket = WebSocketStream<Box<dyn Io>>;

/// Opens the WebSocket (TLS as configured), sending the token as `Authorization: Bearer`.
pub async fn connect(server: &ServerAddress, max_frame: usize) -> Result<Socket, SdkError> {
    let mut request = server
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| SdkError::Url(e.to_string()))?;
    let bearer = bearer(&server.token)?;
    request.headers_mut().insert("authorization", bearer);
    let uri = request.uri().clone();
    let stream = open_stream(&uri, &server.trust).await?;
    let config = WebSocketConfig::default()
        .max_message_size(Some(max_frame))
        .max_frame_size(Some(max_frame));
    match tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response))
            if response.status().as_u16() == 401 =>
        {
            let body = response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err(SdkError::Unauthorized(body))
        }
        Err(e) => Err(SdkError::Network(format!("WebSocket: {e}"))),
    }
}

/// The `Authorization` header carrying a device token.
pub(crate) fn bearer(token: &str) -> Result<HeaderValue, SdkError> {
    HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| SdkError::Url("the token has characters a header cannot carry".into()))
}

/// Opens TCP to the URI's host and port, with TLS for `wss://` and `https://` as `trust` says.
pub async fn open_stream(uri: &Uri, trust: &Trust) -> Result<Box<dyn Io>, SdkError> {
    let host = uri
        .host()
        .ok_or_else(|| SdkError::Url("no host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let tls = matches!(uri.scheme_str(), Some("wss") | Some("https"));
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| SdkError::Network(format!("connecting to {host}:{port}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    if tls {
        let config = client_config(trust)?;
        let name = ServerName::try_from(host.clone())
            .map_err(|e| SdkError::Url(format!("server name {host}: {e}")))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| SdkError::Network(format!("TLS: {e}")))?;
        Ok(Box::new(tls) as Box<dyn Io>)
    } else {
        if !matches!(trust, Trust::None) {
            return Err(SdkError::Url(
                "a ws:// URL cannot use TLS trust settings".into(),
            ));
        }
        Ok(Box::new(tcp) as Box<dyn Io>)
    }
}

fn client_config(trust: &Trust) -> Result<rustls::ClientConfig, SdkError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| SdkError::Network(e.to_string()))?;
    let config = match trust {
        Trust::None => {
            return Err(SdkError::Url(
                "a wss:// URL needs a TLS trust setting".into(),
            ))
        }
        Trust::Pinned(fingerprint) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Pinned {
                fingerprint: fingerprint.to_ascii_lowercase(),
                provider,
            }))
            .with_no_client_auth(),
        Trust::Roots(roots) => {
            let mut store = rustls::RootCertStore::empty();
            for der in roots {
                store
                    .add(CertificateDer::from(der.clone()))
                    .map_err(|e| SdkError::Network(format!("root certificate: {e}")))?;
            }
            builder.with_root_certificates(store).with_no_client_auth()
        }
    };
    Ok(config)
}

/// Accepts one certificate, by fingerprint; signatures are still verified.
#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = hex::encode(Sha256::digest(end_entity.as_ref()));
        if got == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "server certificate fingerprint {got} does not match the pinned one"
            )))
        }
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
