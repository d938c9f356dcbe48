//! The sync engine: a sans-IO state machine that speaks the automerge-repo protocol.
//!
//! Inputs go in through [`Engine::handle`], effects come out: frames to send, connections to
//! close, storage tasks to carry out, events for the host. The engine reads no clock, opens no
//! socket and touches no disk. Its host (the server, the SDK, a test harness) does the IO.
//!
//! # Invariants
//! - **Durable acknowledgement.** Changes received are applied and a storage write is emitted;
//!   no sync message to anyone (the sender included) is generated for that document until the
//!   write has completed. While a write is in flight, further messages for the document wait in
//!   its inbox. So every head a peer learns from us is durable.
//! - **Batching per document.** Messages are queued on arrival and applied on [`Input::Tick`]:
//!   everything that arrived for one document since the last tick is applied in one
//!   `load_incremental` call, and sync messages are generated once per document per tick.
//! - **Fan-out per document.** Work on a message touches only the peers subscribed to its
//!   document, never all connections or all documents.
//! - **Authorisation on every message.** The host's [`Policy`] is asked for every request, sync
//!   and ephemeral message. A peer that may not read a document gets `doc-unavailable`, exactly
//!   as for an unknown document; a document the policy denies whatever the store holds
//!   ([`Policy::denies`]) is answered from memory and never loaded for that peer.
//!
//! ```
//! use sync_core::engine::{Engine, EngineConfig, Input, Effect, ConnId, Direction, Millis, Principal, AllowAll};
//! use sync_core::wire::{self, Message, Join, PeerMetadata};
//! use sync_core::PeerId;
//!
//! let mut server = Engine::new(EngineConfig::server(PeerId::new("server").unwrap()), AllowAll);
//! let conn = ConnId(1);
//! server.handle(Millis(0), Input::Connected { conn, direction: Direction::Inbound, principal: Principal::new("anna", "tablet-1") });
//! let join = Message::Join(Join {
//!     sender_id: PeerId::new("tablet-1").unwrap(),
//!     metadata: PeerMetadata::default(),
//!     supported_protocol_versions: vec!["1".into()],
//! });
//! let effects = server.handle(Millis(1), Input::Frame { conn, bytes: wire::encode(&join) });
//! assert!(matches!(&effects[0], Effect::Send { message: Message::Peer(_), .. }));
//! ```

//!
//! # Where things are
//! - `config.rs`: how an engine behaves; `types.rs`: inputs, effects, events;
//!   `rejection.rs`: why a message was refused; `policy.rs`: the host's access decision.
//! - `document.rs` holds one document's state (its life as one `DocState` value,
//!   its subscribers, inbox and durable heads), `peer.rs` one connection's.
//! - `connections.rs`: connecting, the handshake, refusing a peer, routing its messages;
//!   `ephemeral.rs`: presence relayed and broadcast (`seen.rs`: its bounded de-duplication); `following.rs`: who follows which
//!   document, what a peer is sent, documents found, created, forgotten.
//! - `process.rs`: the tick, and the per-document batch as named steps; `store.rs`: the
//!   storage tasks the engine asks for, `storage_done.rs` their answers; `eviction.rs`: what leaves memory;
//!   `chunks.rs`: changes in their stored form.

mod chunks;
mod config;
mod connections;
mod document;
mod ephemeral;
mod eviction;
mod following;
mod peer;
pub mod policy;
mod process;
mod rejection;
mod relay;
mod seen;
mod storage_done;
mod store;
mod types;

use std::collections::{BTreeSet, HashMap};

use automerge::{Automerge, ChangeHash};

use crate::ids::{DocumentId, PeerId};
use crate::wire::{self, Message};
use document::Doc;
use peer::Peer;
use store::Task;

pub use crate::error::Refusal;
pub use chunks::load_stored;
pub use config::{EngineConfig, DEFAULT_MAX_EPHEMERAL};
pub use following::MAX_WAITING_PER_PEER;
pub use policy::{Access, AllowAll, ChangeSummary, Policy, Principal};
pub use rejection::{BatchRefusal, Rejection, MAX_MISSING_DEPS};
pub use relay::RelayStats;
pub use types::{close_code, ConnId, Direction, Effect, Event, Input, Millis, TaskId};

/// The sync engine. See the [module documentation](self).
#[derive(Debug)]
pub struct Engine<P: Policy> {
    config: EngineConfig,
    policy: P,
    now: Millis,
    peers: HashMap<ConnId, Peer>,
    peer_ids: HashMap<PeerId, ConnId>,
    docs: HashMap<DocumentId, Doc>,
    dirty: BTreeSet<DocumentId>,
    tasks: HashMap<TaskId, Task>,
    next_task: u64,
    ephemeral_seen: seen::SeenSessions,
    ephemeral_count: u64,
    last_housekeeping: Millis,
    relay_stats: RelayStats,
    out: Vec<Effect>,
}

impl<P: Policy + std::fmt::Debug> Engine<P> {
    /// A new engine with no peers and no documents.
    pub fn new(config: EngineConfig, policy: P) -> Self {
        Self {
            config,
            policy,
            now: Millis(0),
            peers: HashMap::new(),
            peer_ids: HashMap::new(),
            docs: HashMap::new(),
            dirty: BTreeSet::new(),
            tasks: HashMap::new(),
            next_task: 0,
            ephemeral_seen: seen::SeenSessions::default(),
            ephemeral_count: 0,
            last_housekeeping: Millis(0),
            relay_stats: RelayStats::default(),
            out: Vec::new(),
        }
    }

    /// Feeds one input; returns what the host must do, in order.
    pub fn handle(&mut self, now: Millis, input: Input) -> Vec<Effect> {
        self.now = self.now.max(now);
        match input {
            Input::Connected {
                conn,
                direction,
                principal,
            } => self.connected(conn, direction, principal),
            Input::Disconnected { conn } => self.disconnected(conn),
            Input::Frame { conn, bytes } => match wire::decode(&bytes, self.config.max_frame) {
                Ok(message) => self.received(conn, message),
                Err(e) => self.malformed(conn, e),
            },
            Input::Malformed { conn, error } => self.malformed(conn, error),
            Input::Received { conn, message } => self.received(conn, message),
            Input::StorageDone { task, result } => self.storage_done(task, result),
            Input::Find { document } => self.find(document),
            Input::Create { document, content } => self.create(document, *content),
            Input::Broadcast { document, data } => self.broadcast(document, data),
            Input::AccessChanged { document } => self.access_changed(document),
            Input::Forget { document } => self.forget(document),
            Input::Reload { document } => {
                if let Some(doc) = self.docs.get_mut(&document) {
                    doc.stale = true;
                    self.dirty.insert(document);
                }
            }
            Input::Tick => self.tick(),
        }
        std::mem::take(&mut self.out)
    }

    /// The policy, for hosts that update it in place.
    pub fn policy_mut(&mut self) -> &mut P {
        &mut self.policy
    }

    /// Our peer id.
    pub fn peer_id(&self) -> &PeerId {
        &self.config.peer_id
    }

    /// A resident document, as its op set holds it: with [`EngineConfig::relay`] on, call
    /// [`Engine::materialise_document`] first to read it with every relayed change.
    pub fn document(&self, document: &DocumentId) -> Option<&Automerge> {
        self.docs.get(document)?.resident()
    }

    /// Changes a resident document; the change is stored and synced from the next tick on.
    /// Returns `None` when the document is not resident.
    pub fn change_document<R>(
        &mut self,
        document: &DocumentId,
        f: impl FnOnce(&mut Automerge) -> R,
    ) -> Option<R> {
        self.materialise(*document, relay::Need::Host);
        let doc = self.docs.get_mut(document)?;
        let result = f(doc.resident_mut()?);
        doc.exists = true;
        doc.last_used = self.now;
        self.dirty.insert(*document);
        Some(result)
    }

    /// Applies a document's pending relay changes to its op set (see [`EngineConfig::relay`]),
    /// so that [`Engine::document`] reads them.
    pub fn materialise_document(&mut self, document: &DocumentId) {
        self.materialise(*document, relay::Need::Host);
    }

    /// Counts of the relay path (issue #23): changes relayed without the op set, batches of
    /// them applied.
    pub fn relay_stats(&self) -> RelayStats {
        self.relay_stats
    }

    /// The durable heads of a resident document.
    pub fn durable_heads(&self, document: &DocumentId) -> Option<&[ChangeHash]> {
        self.docs.get(document).map(|d| d.durable_heads.as_slice())
    }

    /// The heads a connected peer last told us it has for a document.
    pub fn peer_heads(&self, conn: ConnId, document: &DocumentId) -> Option<Vec<ChangeHash>> {
        self.peers
            .get(&conn)?
            .docs
            .get(document)?
            .their_heads
            .clone()
    }

    /// Whether a write is in flight or queued work is pending for any document.
    pub fn is_idle(&self) -> bool {
        self.dirty.is_empty() && self.tasks.is_empty()
    }

    /// Counts for metrics: (connections, resident documents, known documents).
    pub fn stats(&self) -> (usize, usize, usize) {
        let resident = self
            .docs
            .values()
            .filter(|d| d.resident().is_some())
            .count();
        (self.peers.len(), resident, self.docs.len())
    }

    /// The ephemeral de-duplication table's size: sessions, and the bytes they count for
    /// (bounded by [`EngineConfig::ephemeral_sessions`] and its `_bytes`).
    pub fn ephemeral_sessions(&self) -> (usize, usize) {
        self.ephemeral_seen.size()
    }

    /// Ids of the documents resident in memory.
    pub fn resident_documents(&self) -> Vec<DocumentId> {
        self.docs
            .iter()
            .filter(|(_, d)| d.resident().is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    /// Ids of the documents resident in memory or followed by a peer (a document whose load
    /// failed stays followed): what to load again when the store may have changed unheard.
    pub fn held_documents(&self) -> Vec<DocumentId> {
        self.docs
            .iter()
            .filter(|(_, d)| d.resident().is_some() || !d.subscribers.is_empty())
            .map(|(id, _)| *id)
            .collect()
    }

    // ----- output -----

    fn send(&mut self, conn: ConnId, message: Message) {
        self.out.push(Effect::Send { conn, message });
    }

    fn event(&mut self, event: Event) {
        self.out.push(Effect::Event(event));
    }
}

#[cfg(test)]
mod tests;
