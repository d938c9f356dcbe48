//! [`TabletConfig`]: how an app opens a [`super::Tablet`]: where its store is, the key, who
//! works on it, the server, and the timing of commits, refreshes and reconnects.

use std::path::PathBuf;
use std::time::Duration;

use sync_core::PeerId;

use crate::crypto::TabletKey;
use crate::transport::ServerAddress;

/// How to open a tablet.
#[derive(Clone, Debug)]
pub struct TabletConfig {
    /// The app's data directory; the store is `data_dir/store`, attachments' bytes are in
    /// `data_dir/attachments`.
    pub data_dir: PathBuf,
    /// The key the store is encrypted with (from the platform's key store).
    pub key: TabletKey,
    /// This device's peer id (stable per device).
    pub peer_id: PeerId,
    /// The login of the user working on this tablet, recorded as the author of every edit.
    pub user: String,
    /// The id of the institution the user acts for, recorded with every case edit.
    pub institution: String,
    /// The regional server, or `None` to work offline only.
    pub server: Option<ServerAddress>,
    /// Whether to connect at once (`false`: offline until [`super::Tablet::set_online`]).
    pub online: bool,
    /// A text session commits after this long without a keystroke.
    pub commit_after_idle: Duration,
    /// While connected, the documents the user may hold are fetched again this often (they are
    /// always fetched at each connection); `None`: only then.
    pub refresh_documents_every: Option<Duration>,
    /// First reconnect delay; doubles up to `max_backoff`, with jitter.
    pub min_backoff: Duration,
    /// Longest reconnect delay.
    pub max_backoff: Duration,
    /// The largest file an attachment may be (the server has its own limit, 25 MiB by
    /// default); a larger one is refused before anything is stored.
    pub max_attachment_bytes: u64,
    /// Attachments the server holds that were not opened (nor stored) for this long are
    /// removed from the device (checked at start and hourly); `None`: kept. A file not yet
    /// uploaded is never removed.
    pub evict_attachments_after: Option<Duration>,
}

impl TabletConfig {
    /// Offline-only defaults for `user` acting for `institution`: no server, text committed
    /// after 1 s of quiet, the document list fetched again every minute while connected,
    /// reconnects backing off from 200 ms to 30 s (attachments' uploads too), attachments up
    /// to 25 MiB, evicted after 30 days unused.
    pub fn new(
        data_dir: impl Into<PathBuf>,
        key: TabletKey,
        peer_id: PeerId,
        user: impl Into<String>,
        institution: impl Into<String>,
    ) -> Self {
        Self {
            data_dir: data_dir.into(),
            key,
            peer_id,
            user: user.into(),
            institution: institution.into(),
            server: None,
            online: true,
            commit_after_idle: Duration::from_secs(1),
            refresh_documents_every: Some(Duration::from_secs(60)),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
            max_attachment_bytes: 25 * 1024 * 1024,
            evict_attachments_after: Some(Duration::from_secs(30 * 24 * 60 * 60)),
        }
    }

    /// The same settings syncing with `server`.
    pub fn with_server(mut self, server: ServerAddress) -> Self {
        self.server = Some(server);
        self
    }
}
