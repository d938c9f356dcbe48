//! [`AppState`]: what every HTTP and WebSocket handler shares.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::access::Registry;
use crate::at_rest::SealedStore;
use crate::hub::{HubHandle, Limits};
use crate::identity::Directory;
use crate::kv::Kv;
use crate::metrics::Metrics;

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The engine's task.
    pub hub: HubHandle,
    /// Users, devices, tokens.
    pub directory: Directory,
    /// Documents' access records and the audit log.
    pub registry: Registry,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Caps open WebSocket connections.
    pub connection_slots: Arc<Semaphore>,
    /// Per-connection limits.
    pub limits: Limits,
    /// Size of each connection's outgoing queue.
    pub outgoing_queue: usize,
    /// The identity, access and audit trees.
    pub kv: Kv,
    /// The document store, encrypted at rest (readiness, online backups, exports).
    pub storage: SealedStore,
    /// The keys kept outside the store.
    pub secrets: crate::secrets::Secrets,
    /// The key online backups are encrypted with (`--backup-key-file`); none: no backups.
    pub backup_key: Option<crate::secrets::Key>,
    /// The data directory.
    pub data_dir: std::path::PathBuf,
    /// Attachments' bytes.
    pub blobs: crate::blobs::Blobs,
    /// Per-user and per-device WebSocket caps, `/metrics` access.
    pub doors: Arc<crate::doors::Doors>,
    /// The evaluation's smallest group (`--evaluation-min-group`).
    pub evaluation_min_group: usize,
    /// How long finished cases are kept, in months (`--retention-months`).
    pub retention_months: u32,
    /// The clock retention reads ([`crate::retention::Clock`]; tests set it).
    pub clock: crate::retention::Clock,
}
