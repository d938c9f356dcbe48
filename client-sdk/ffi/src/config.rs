//! [`TabletSettings`]: how an app opens a tablet: where its store is, the store key (bytes from
//! Android Keystore or iOS Keychain), who works on it, the server and how to trust it, and the
//! timing of commits, refreshes and reconnects. Neither `Debug` shows the key or the token.

use std::time::Duration;

use client_sdk::{ServerAddress, TabletConfig, TabletKey, Trust};
use sync_core::PeerId;

use crate::error::KooperacjaError;

/// How to trust the server's certificate.
#[derive(Clone, Debug, uniffi::Enum)]
pub enum TrustSettings {
    /// Plain `ws://` to a server on this machine's loopback (development only).
    PlainLoopback,
    /// Accept exactly the certificate with this SHA-256 fingerprint (hex), as the server
    /// prints it (`kooperacja-server serve --dev-tls`): certificate pinning.
    Pinned { sha256_fingerprint: String },
    /// Verify the certificate chain against these root certificates (DER bytes).
    Roots { der_certificates: Vec<Vec<u8>> },
}

/// Where and as whom to sync.
#[derive(Clone, uniffi::Record)]
pub struct ServerSettings {
    /// `wss://host:port/sync` (or `ws://127.0.0.1:port/sync` with [`TrustSettings::PlainLoopback`]).
    pub url: String,
    /// The device token from enrolment.
    pub token: String,
    /// How to trust TLS.
    pub trust: TrustSettings,
}

impl std::fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSettings")
            .field("url", &self.url)
            .field("token", &"…")
            .field("trust", &self.trust)
            .finish()
    }
}

/// How to open a tablet. The defaults are those of the Rust SDK (`TabletConfig::new`).
#[derive(Clone, uniffi::Record)]
pub struct TabletSettings {
    /// The app's data directory (its private files directory); the store is `data_dir/store`.
    pub data_dir: String,
    /// The 32-byte key the store is encrypted with, kept by the platform's key store.
    pub store_key: Vec<u8>,
    /// This device's peer id, stable per device (e.g. `tablet-7`).
    pub peer_id: String,
    /// The login of the user working on this tablet, recorded as the author of every edit.
    pub user: String,
    /// The institution the user acts for, recorded with every case edit.
    pub institution: String,
    /// The regional server; none: offline only.
    #[uniffi(default = None)]
    pub server: Option<ServerSettings>,
    /// Whether to connect at once (`false`: offline until `setOnline(true)`).
    #[uniffi(default = true)]
    pub online: bool,
    /// A text session commits after this many milliseconds without a keystroke.
    #[uniffi(default = 1000)]
    pub commit_after_idle_ms: u64,
    /// While connected, the documents the user may hold are fetched again this often
    /// (milliseconds); 0: only at each connection (they always are).
    #[uniffi(default = 60000)]
    pub refresh_documents_every_ms: u64,
    /// First reconnect delay (milliseconds); doubles up to `max_backoff_ms`, with jitter.
    #[uniffi(default = 200)]
    pub min_backoff_ms: u64,
    /// Longest reconnect delay (milliseconds).
    #[uniffi(default = 30000)]
    pub max_backoff_ms: u64,
}

impl std::fmt::Debug for TabletSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TabletSettings")
            .field("data_dir", &self.data_dir)
            .field("store_key", &"…")
            .field("peer_id", &self.peer_id)
            .field("user", &self.user)
            .field("institution", &self.institution)
            .field("server", &self.server)
            .field("online", &self.online)
            .finish_non_exhaustive()
    }
}

impl From<ServerSettings> for ServerAddress {
    fn from(server: ServerSettings) -> Self {
        ServerAddress {
            url: server.url,
            token: server.token,
            trust: match server.trust {
                TrustSettings::PlainLoopback => Trust::None,
                TrustSettings::Pinned { sha256_fingerprint } => Trust::Pinned(sha256_fingerprint),
                TrustSettings::Roots { der_certificates } => Trust::Roots(der_certificates),
            },
        }
    }
}

impl TryFrom<TabletSettings> for TabletConfig {
    type Error = KooperacjaError;

    fn try_from(settings: TabletSettings) -> Result<Self, KooperacjaError> {
        let key: [u8; 32] = settings.store_key.as_slice().try_into().map_err(|_| {
            KooperacjaError::invalid(&format!(
                "the store key must be 32 bytes, not {}",
                settings.store_key.len()
            ))
        })?;
        let peer_id = PeerId::new(settings.peer_id)
            .map_err(|e| KooperacjaError::invalid(&format!("peer id: {e}")))?;
        let mut config = TabletConfig::new(
            settings.data_dir,
            TabletKey::new(key),
            peer_id,
            settings.user,
            settings.institution,
        );
        config.server = settings.server.map(ServerAddress::from);
        config.online = settings.online;
        config.commit_after_idle = Duration::from_millis(settings.commit_after_idle_ms);
        config.refresh_documents_every = match settings.refresh_documents_every_ms {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        };
        config.min_backoff = Duration::from_millis(settings.min_backoff_ms);
        config.max_backoff = Duration::from_millis(settings.max_backoff_ms);
        Ok(config)
    }
}
