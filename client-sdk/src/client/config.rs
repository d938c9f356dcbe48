//! How a client is set up: [`ClientConfig`], which the app gives, and the crate's own
//! [`Options`] for a client run by a [`crate::Tablet`].

use std::time::Duration;

use sync_core::model::Editor;
use sync_core::PeerId;

use crate::transport::ServerAddress;

/// Settings of a client.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Our peer id (stable per device).
    pub peer_id: PeerId,
    /// The server, or `None` to work offline only.
    pub server: Option<ServerAddress>,
    /// First reconnect delay; doubles up to `max_backoff`, with jitter.
    pub min_backoff: Duration,
    /// Longest reconnect delay.
    pub max_backoff: Duration,
}

impl ClientConfig {
    /// Defaults: backoff from 200 ms to 30 s.
    pub fn new(peer_id: PeerId, server: Option<ServerAddress>) -> Self {
        Self {
            peer_id,
            server,
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// How the client's thread works beyond [`ClientConfig`]: what a tablet sets and a plain client
/// leaves at [`Options::plain`]. Duties beyond syncing are a [`super::Duties`], not options.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Connect at start.
    pub(crate) online: bool,
    /// The user recorded as author of text-session commits.
    pub(crate) author: Option<Editor>,
    /// A text session commits after this long without a keystroke.
    pub(crate) idle_commit: Duration,
}

impl Options {
    /// A plain client's: online at start, text sessions unsigned and committed after 1 s.
    pub(crate) fn plain() -> Self {
        Self {
            online: true,
            author: None,
            idle_commit: Duration::from_secs(1),
        }
    }
}
