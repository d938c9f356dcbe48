//! How an engine behaves: [`EngineConfig`], with defaults for a server and for a client.

use crate::ids::{PeerId, StorageId};
use crate::wire;

/// The default [`EngineConfig::max_ephemeral`]: presence is a few fields (a member, a focus),
/// far below this.
pub const DEFAULT_MAX_EPHEMERAL: usize = 16 * 1024;

/// How an engine behaves.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Our peer id.
    pub peer_id: PeerId,
    /// Our storage id, sent in the handshake.
    pub storage_id: Option<StorageId>,
    /// Frames larger than this are refused.
    pub max_frame: usize,
    /// A client offers every document it holds to every server it connects to.
    pub announce: bool,
    /// Evict a resident document unused for this long (`None`: never, as on a tablet).
    pub evict_idle_after: Option<u64>,
    /// Evict least recently used documents while resident bytes exceed this.
    pub memory_budget: usize,
    /// Compact when incremental chunks exceed the snapshot and this many bytes.
    pub compact_min_bytes: usize,
    /// Or when a document has more than this many incremental chunks.
    pub compact_max_chunks: usize,
    /// Ephemeral session id for our own broadcasts.
    pub session_id: String,
    /// A peer's ephemeral message (presence) with more data than this is refused and the peer
    /// cut off: the data is copied to every follower of the document.
    pub max_ephemeral: usize,
    /// A peer's ephemeral session id longer than this is refused and the peer cut off.
    pub max_session_id: usize,
    /// Sustained ephemeral messages per second a peer may send; more are dropped, not relayed.
    pub ephemeral_per_second: u32,
    /// How many ephemeral messages a peer may send at once above that rate.
    pub ephemeral_burst: u32,
    /// The ephemeral de-duplication table (the last count seen per sender and session) keeps
    /// at most this many sessions, forgetting the least recently heard first...
    pub ephemeral_sessions: usize,
    /// ... and at most this many bytes of them.
    pub ephemeral_sessions_bytes: usize,
    /// Relay typing without re-materialising (issue #23): changes that only splice Text objects
    /// the policy names ([`Policy::relay_texts`](super::Policy::relay_texts)) are stored and
    /// forwarded from their bytes, and applied to the op set in batches when it is needed.
    pub relay: bool,
}

impl EngineConfig {
    /// Defaults for a server: no announcing, idle documents evicted after a minute.
    pub fn server(peer_id: PeerId) -> Self {
        Self {
            session_id: format!("{peer_id}-session"),
            peer_id,
            storage_id: None,
            max_frame: wire::DEFAULT_MAX_FRAME,
            announce: false,
            evict_idle_after: Some(60_000),
            memory_budget: 512 * 1024 * 1024,
            compact_min_bytes: 64 * 1024,
            compact_max_chunks: 512,
            max_ephemeral: DEFAULT_MAX_EPHEMERAL,
            max_session_id: 2 * crate::ids::MAX_PEER_ID,
            ephemeral_per_second: 20,
            ephemeral_burst: 60,
            ephemeral_sessions: 10_000,
            ephemeral_sessions_bytes: 4 * 1024 * 1024,
            relay: false,
        }
    }

    /// Defaults for a client (tablet, test peer): offers its documents, keeps them resident.
    pub fn client(peer_id: PeerId) -> Self {
        Self {
            announce: true,
            evict_idle_after: None,
            memory_budget: usize::MAX,
            ..Self::server(peer_id)
        }
    }
}
