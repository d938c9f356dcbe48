//! One simulated tablet: a sync-core [`Engine`] in client mode on its own tokio task, with one
//! WebSocket to the server and an in-memory store.
//!
//! The coordinator ([`super::run`]) sends it [`Cmd`]s (create documents, watch documents, start
//! editing, finish) and follows its [`Status`] on a watch channel; the task reports what the
//! server has acknowledged (the heads the server advertised for each owned document, read with
//! [`Engine::peer_heads`]) and, as a watcher, when each edit arrived.
//!
//! This file holds what the coordinator sees of a client; `tablet.rs` the task itself, whose
//! engine runs in a [`sync_core::host::Host`] (storage carried out at once, in memory).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::ChangeHash;
use client_sdk::transport::ServerAddress;
#[cfg(doc)]
use sync_core::engine::Engine;
use sync_core::{DocumentId, PeerId};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use super::document::same_heads;

mod tablet;

/// When each edit was made, shared by owners (who write) and watchers (who read): per document
/// and edit number, nanoseconds since the run's start plus one (0: not made yet).
#[derive(Debug, Default)]
pub struct Stamps(HashMap<DocumentId, Box<[AtomicU64]>>);

impl Stamps {
    /// Room for edits `1..=edits` of each document.
    pub fn new(documents: impl IntoIterator<Item = DocumentId>, edits: usize) -> Self {
        Self(
            documents
                .into_iter()
                .map(|d| (d, (0..=edits).map(|_| AtomicU64::new(0)).collect()))
                .collect(),
        )
    }

    fn set(&self, document: &DocumentId, edit: usize, nanos: u64) {
        if let Some(slot) = self.0.get(document).and_then(|s| s.get(edit)) {
            slot.store(nanos + 1, Ordering::Relaxed);
        }
    }

    fn get(&self, document: &DocumentId, edit: usize) -> Option<u64> {
        let v = self.0.get(document)?.get(edit)?.load(Ordering::Relaxed);
        (v > 0).then(|| v - 1)
    }
}

/// What every client of a run shares.
#[derive(Debug)]
pub struct Shared {
    /// The server, the token and the TLS trust.
    pub address: ServerAddress,
    /// Edits per owned document.
    pub edits: usize,
    /// Characters spliced into `notes` per edit.
    pub text_len: usize,
    /// Typing only: the splice without `n = e` ([`super::LoadConfig::typing`]).
    pub typing: bool,
    /// Time between two edit rounds (zero: flat out).
    pub interval: Duration,
    /// The run's start, the origin of [`Stamps`] and of the engines' clock.
    pub t0: Instant,
    /// Edit times.
    pub stamps: Arc<Stamps>,
}

/// A client's progress, as the coordinator sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// The handshake with the server is done.
    pub joined: bool,
    /// Owned documents whose heads on the server equal the local heads.
    pub owned_acked: usize,
    /// When the last edit round was made.
    pub edits_done_at: Option<Instant>,
    /// When, after the last edit round, the server first held every owned document's changes.
    pub all_acked_at: Option<Instant>,
    /// Watched documents that have arrived.
    pub watched_ready: usize,
    /// Watched documents in which the last edit has arrived.
    pub watched_complete: usize,
    /// Connections the server (or the network) dropped.
    pub dropped: u32,
    /// Why the client stopped working, if it did.
    pub error: Option<String>,
}

/// What the coordinator asks of a client.
#[derive(Debug)]
pub enum Cmd {
    /// Create these documents (id, title) and own them.
    Create(Vec<(DocumentId, String)>),
    /// Fetch these documents and follow them.
    Watch(Vec<DocumentId>),
    /// Start the edit rounds, the first one after this delay (paced runs may stagger clients).
    StartEdits(Duration),
    /// Report and close.
    Finish(oneshot::Sender<Outcome>),
}

/// A watched document at the end.
#[derive(Clone, Debug)]
pub struct Viewed {
    /// The document.
    pub document: DocumentId,
    /// Its heads (sorted); empty if it never arrived.
    pub heads: Vec<ChangeHash>,
    /// Its `n`.
    pub n: i64,
    /// The length of its `notes`.
    pub notes_len: usize,
    /// Its `title`.
    pub title: Option<String>,
}

/// What a client hands back when it finishes.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Owned documents and their final local heads (sorted).
    pub owned: Vec<(DocumentId, Vec<ChangeHash>)>,
    /// Watched documents as this client sees them.
    pub watched: Vec<Viewed>,
    /// Edit-to-arrival delays of the watched documents, in milliseconds.
    pub latencies_ms: Vec<f64>,
    /// Connections dropped.
    pub dropped: u32,
    /// Frames sent and received.
    pub frames_sent: u64,
    /// Frames received.
    pub frames_received: u64,
    /// Messages our engine refused (with the first reason).
    pub rejected: u64,
    /// The first refusal.
    pub first_rejection: Option<String>,
}

/// The coordinator's end of a client.
#[derive(Debug)]
pub struct Handle {
    /// `c0`, `c1`..., `verifier`.
    pub label: String,
    /// Commands to the client.
    pub commands: mpsc::UnboundedSender<Cmd>,
    /// Its status.
    pub status: watch::Receiver<Status>,
    /// Its task.
    pub task: JoinHandle<()>,
}

/// Starts a client: it connects at once.
pub fn spawn(label: String, peer_id: PeerId, shared: Arc<Shared>, seed: u64) -> Handle {
    let (tx, rx) = mpsc::unbounded_channel();
    let (status_tx, status_rx) = watch::channel(Status::default());
    let client = tablet::Client::new(peer_id, shared, seed, status_tx);
    let task = tokio::spawn(client.run(rx));
    Handle {
        label,
        commands: tx,
        status: status_rx,
        task,
    }
}
