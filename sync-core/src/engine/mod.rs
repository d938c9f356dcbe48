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
//!   as for an unknown document and after the same storage lookup.
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

mod document;
mod peer;
pub mod policy;
mod types;

use std::collections::{BTreeSet, HashMap, HashSet};

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ChangeHash};

use crate::error::{DecodeError, StorageError};
use crate::ids::{DocumentId, PeerId, StorageId};
use crate::storage::{ChunkKey, StorageRequest, StorageResponse, StoredDocument, WriteOp};
use crate::wire::{self, DocMessage, Ephemeral, Join, Message, PeerMetadata, PeerMsg};
use document::{Doc, DocState, Inbound};
use peer::{Peer, Phase};
pub use policy::{Access, AllowAll, ChangeSummary, Policy, Principal};
pub use types::{close_code, ConnId, Direction, Effect, Event, Input, Millis, Rejection, TaskId};

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

/// What a storage task was for.
#[derive(Debug)]
enum Task {
    Load(DocumentId),
    Append {
        document: DocumentId,
        heads: Vec<ChangeHash>,
        key: ChunkKey,
        len: usize,
    },
    Compact {
        document: DocumentId,
        key: ChunkKey,
        replaces: Vec<ChunkKey>,
        len: usize,
    },
}

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
    ephemeral_seen: HashMap<(PeerId, String), (u64, Millis)>,
    ephemeral_count: u64,
    /// Documents another writer changed in the shared store (another server node): reloaded
    /// at the next chance (not while a write of ours is in flight).
    stale: BTreeSet<DocumentId>,
    /// Documents being reloaded: once loaded, every follower gets a sync message.
    reloading: BTreeSet<DocumentId>,
    last_housekeeping: Millis,
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
            ephemeral_seen: HashMap::new(),
            ephemeral_count: 0,
            stale: BTreeSet::new(),
            reloading: BTreeSet::new(),
            last_housekeeping: Millis(0),
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
            Input::Received { conn, message } => self.received(conn, message),
            Input::StorageDone { task, result } => self.storage_done(task, result),
            Input::Find { document } => self.find(document),
            Input::Create { document, content } => self.create(document, *content),
            Input::Broadcast { document, data } => self.broadcast(document, data),
            Input::AccessChanged { document } => self.access_changed(document),
            Input::Forget { document } => self.forget(document),
            Input::Reload { document } => {
                if self.docs.contains_key(&document) {
                    self.stale.insert(document);
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

    /// A resident document.
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
        let doc = self.docs.get_mut(document)?;
        let result = f(doc.resident_mut()?);
        doc.exists = true;
        doc.last_used = self.now;
        self.dirty.insert(*document);
        Some(result)
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

    /// Ids of the documents resident in memory.
    pub fn resident_documents(&self) -> Vec<DocumentId> {
        self.docs
            .iter()
            .filter(|(_, d)| d.resident().is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    // ----- connections -----

    fn connected(&mut self, conn: ConnId, direction: Direction, principal: Principal) {
        let phase = match direction {
            Direction::Inbound => Phase::AwaitingJoin,
            Direction::Outbound => Phase::AwaitingPeer,
        };
        self.peers
            .insert(conn, Peer::new(direction, principal, phase));
        if direction == Direction::Outbound {
            self.send(
                conn,
                Message::Join(Join {
                    sender_id: self.config.peer_id.clone(),
                    metadata: self.metadata(),
                    supported_protocol_versions: vec![wire::PROTOCOL_VERSION.into()],
                }),
            );
        }
    }

    fn metadata(&self) -> PeerMetadata {
        PeerMetadata {
            storage_id: self.config.storage_id.clone(),
            is_ephemeral: false,
        }
    }

    fn disconnected(&mut self, conn: ConnId) {
        let Some(peer) = self.peers.remove(&conn) else {
            return;
        };
        if let Some(id) = &peer.remote_id {
            if self.peer_ids.get(id) == Some(&conn) {
                self.peer_ids.remove(id);
            }
        }
        for document in peer.docs.keys().chain(peer.waiting_for.iter()) {
            if let Some(doc) = self.docs.get_mut(document) {
                doc.subscribers.remove(&conn);
                doc.contributors.remove(&conn);
                doc.waiting.remove(&conn);
            }
        }
        self.event(Event::PeerLeft { conn });
    }

    /// Tells the peer why, closes its connection and forgets it.
    fn reject(&mut self, conn: ConnId, document: Option<DocumentId>, reason: Rejection, code: u16) {
        let text = rejection_text(&reason);
        // The host hears of it first (and audits it) before the peer is told and cut off: a
        // peer that has seen its refusal finds it in the audit log.
        self.event(Event::Rejected {
            conn,
            document,
            reason,
        });
        self.send(
            conn,
            Message::Error {
                message: text.clone(),
            },
        );
        self.out.push(Effect::Close {
            conn,
            code,
            reason: text,
        });
        self.disconnected(conn);
    }

    fn malformed(&mut self, conn: ConnId, error: DecodeError) {
        if !self.peers.contains_key(&conn) {
            return;
        }
        let code = match error {
            DecodeError::TooLarge { .. } => close_code::TOO_BIG,
            _ => close_code::PROTOCOL_ERROR,
        };
        self.reject(conn, None, Rejection::Malformed(error), code);
    }

    fn received(&mut self, conn: ConnId, message: Message) {
        let Some(peer) = self.peers.get(&conn) else {
            return;
        };
        let phase = peer.phase;
        match (phase, message) {
            (Phase::AwaitingJoin, Message::Join(join)) => self.join(conn, join),
            (Phase::AwaitingPeer, Message::Peer(p)) => self.peer_answered(conn, p),
            (_, Message::Error { message }) => {
                self.event(Event::Rejected {
                    conn,
                    document: None,
                    reason: Rejection::ProtocolViolation(format!("peer reported: {message}")),
                });
                self.out.push(Effect::Close {
                    conn,
                    code: close_code::PROTOCOL_ERROR,
                    reason: format!("the peer said: {message}"),
                });
                self.disconnected(conn);
            }
            (Phase::Ready, message) => {
                // Relayed ephemeral messages keep their original sender; they are checked there.
                let relayed = matches!(message, Message::Ephemeral(_));
                if !relayed
                    && message.sender_id()
                        != self.peers.get(&conn).and_then(|p| p.remote_id.as_ref())
                {
                    let reason = format!(
                        "{} message: senderId does not match the peer that joined",
                        message.type_name()
                    );
                    self.reject(
                        conn,
                        message.document_id().copied(),
                        Rejection::ProtocolViolation(reason),
                        close_code::PROTOCOL_ERROR,
                    );
                    return;
                }
                self.ready_message(conn, message);
            }
            (_, message) => {
                let reason = format!("unexpected {} before the handshake", message.type_name());
                self.reject(
                    conn,
                    None,
                    Rejection::ProtocolViolation(reason),
                    close_code::PROTOCOL_ERROR,
                );
            }
        }
    }

    fn join(&mut self, conn: ConnId, join: Join) {
        if !join
            .supported_protocol_versions
            .iter()
            .any(|v| v == wire::PROTOCOL_VERSION)
        {
            self.reject(
                conn,
                None,
                Rejection::UnsupportedVersion(join.supported_protocol_versions),
                close_code::PROTOCOL_ERROR,
            );
            return;
        }
        if let Some(old) = self.peer_ids.insert(join.sender_id.clone(), conn) {
            if old != conn {
                self.out.push(Effect::Close {
                    conn: old,
                    code: close_code::REPLACED,
                    reason: "replaced by a newer connection of the same peer".into(),
                });
                self.disconnected(old);
                self.peer_ids.insert(join.sender_id.clone(), conn);
            }
        }
        if let Some(peer) = self.peers.get_mut(&conn) {
            peer.phase = Phase::Ready;
            peer.remote_id = Some(join.sender_id.clone());
        }
        self.send(
            conn,
            Message::Peer(PeerMsg {
                sender_id: self.config.peer_id.clone(),
                metadata: self.metadata(),
                selected_protocol_version: wire::PROTOCOL_VERSION.into(),
                target_id: join.sender_id.clone(),
            }),
        );
        self.event(Event::PeerJoined {
            conn,
            peer_id: join.sender_id,
            metadata: join.metadata,
        });
    }

    fn peer_answered(&mut self, conn: ConnId, answer: PeerMsg) {
        if let Some(peer) = self.peers.get_mut(&conn) {
            peer.phase = Phase::Ready;
            peer.remote_id = Some(answer.sender_id.clone());
        }
        self.peer_ids.insert(answer.sender_id.clone(), conn);
        self.event(Event::PeerJoined {
            conn,
            peer_id: answer.sender_id,
            metadata: answer.metadata,
        });
        if self.config.announce {
            let wanted: Vec<DocumentId> = self
                .docs
                .iter()
                .filter(|(_, d)| d.wanted)
                .map(|(id, _)| *id)
                .collect();
            for document in wanted {
                self.follow(conn, document);
            }
        }
    }

    fn ready_message(&mut self, conn: ConnId, message: Message) {
        match message {
            Message::Request(m) | Message::Sync(m) => self.doc_message(conn, m),
            Message::DocUnavailable { document_id, .. } => self.unavailable(conn, document_id),
            Message::Ephemeral(e) => self.ephemeral(conn, e),
            Message::Join(_) | Message::Peer(_) => self.reject(
                conn,
                None,
                Rejection::ProtocolViolation("a second join (handshake) on one connection".into()),
                close_code::PROTOCOL_ERROR,
            ),
            // Heads gossip is optional in the protocol; we do not enable it. Leave is advisory.
            Message::RemoteSubscriptionChange { .. }
            | Message::RemoteHeadsChanged { .. }
            | Message::Leave { .. }
            | Message::Error { .. } => {}
        }
    }

    fn doc_message(&mut self, conn: ConnId, m: DocMessage) {
        let message = match sync::Message::decode(&m.data) {
            Ok(message) => message,
            Err(e) => {
                self.reject(
                    conn,
                    Some(m.document_id),
                    Rejection::BadSyncData(e.to_string()),
                    close_code::INVALID_DATA,
                );
                return;
            }
        };
        let now = self.now;
        let doc = self.docs.entry(m.document_id).or_insert_with(Doc::unloaded);
        doc.last_used = now;
        doc.inbox.push(Inbound { conn, message });
        self.ensure_loaded(m.document_id);
        self.dirty.insert(m.document_id);
    }

    fn unavailable(&mut self, conn: ConnId, document: DocumentId) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        doc.unavailable_from.insert(conn);
        let asked: BTreeSet<ConnId> = doc.subscribers.clone();
        // Also for a document we hold: the server will not take it (no right to create it).
        if asked.iter().all(|c| doc.unavailable_from.contains(c)) {
            self.event(Event::DocumentUnavailable { document });
        }
    }

    // ----- ephemeral -----

    fn ephemeral(&mut self, conn: ConnId, e: Ephemeral) {
        let Some(peer) = self.peers.get(&conn) else {
            return;
        };
        // A client may only speak for itself: what it sends on behalf of another peer is an echo
        // of our own relay (JS clients re-broadcast) or a forgery, and is dropped either way.
        if peer.direction == Direction::Inbound && peer.remote_id.as_ref() != Some(&e.sender_id) {
            return;
        }
        if self.policy.access(&peer.principal, &e.document_id, true) == Access::None {
            return;
        }
        let key = (e.sender_id.clone(), e.session_id.clone());
        match self.ephemeral_seen.get(&key) {
            Some((last, _)) if *last >= e.count => return,
            _ => {
                self.ephemeral_seen.insert(key, (e.count, self.now));
            }
        }
        self.event(Event::Ephemeral {
            conn,
            sender_id: e.sender_id.clone(),
            document: e.document_id,
            data: e.data.clone(),
        });
        let Some(doc) = self.docs.get(&e.document_id) else {
            return;
        };
        let targets: Vec<ConnId> = doc
            .subscribers
            .iter()
            .copied()
            .filter(|c| *c != conn)
            .collect();
        for target in targets {
            let Some(peer) = self.peers.get(&target) else {
                continue;
            };
            if peer.phase != Phase::Ready
                || peer.remote_id.as_ref() == Some(&e.sender_id)
                || self.policy.access(&peer.principal, &e.document_id, true) == Access::None
            {
                continue;
            }
            let Some(target_id) = peer.remote_id.clone() else {
                continue;
            };
            self.send(
                target,
                Message::Ephemeral(Ephemeral {
                    target_id,
                    ..e.clone()
                }),
            );
        }
    }

    fn broadcast(&mut self, document: DocumentId, data: Vec<u8>) {
        let Some(doc) = self.docs.get(&document) else {
            return;
        };
        let targets: Vec<ConnId> = doc.subscribers.iter().copied().collect();
        for target in targets {
            let Some(target_id) = self.peers.get(&target).and_then(|p| p.remote_id.clone()) else {
                continue;
            };
            self.ephemeral_count += 1;
            self.send(
                target,
                Message::Ephemeral(Ephemeral {
                    sender_id: self.config.peer_id.clone(),
                    target_id,
                    document_id: document,
                    count: self.ephemeral_count,
                    session_id: self.config.session_id.clone(),
                    data: data.clone(),
                }),
            );
        }
    }

    // ----- documents -----

    fn find(&mut self, document: DocumentId) {
        let now = self.now;
        let doc = self.docs.entry(document).or_insert_with(Doc::unloaded);
        doc.wanted = true;
        doc.last_used = now;
        if doc.resident().is_some() {
            self.offer(document);
        } else {
            self.ensure_loaded(document);
        }
    }

    fn create(&mut self, document: DocumentId, content: Automerge) {
        let doc = self.docs.entry(document).or_insert_with(Doc::unloaded);
        doc.state = DocState::Resident(Box::new(content));
        doc.exists = true;
        doc.wanted = true;
        doc.last_used = self.now;
        self.dirty.insert(document);
        self.offer(document);
    }

    /// As a client, offers a wanted resident document to every ready outbound peer.
    fn offer(&mut self, document: DocumentId) {
        if !self.config.announce {
            return;
        }
        let ready: Vec<ConnId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.phase == Phase::Ready && p.direction == Direction::Outbound)
            .map(|(c, _)| *c)
            .collect();
        for conn in ready {
            self.follow(conn, document);
        }
        self.dirty.insert(document);
    }

    /// Subscribes a peer to a document and owes it a sync message at the next tick.
    fn follow(&mut self, conn: ConnId, document: DocumentId) {
        self.subscribe(conn, document);
        if let Some(doc) = self.docs.get_mut(&document) {
            doc.needs_generate.insert(conn);
        }
        self.dirty.insert(document);
    }

    fn subscribe(&mut self, conn: ConnId, document: DocumentId) {
        let Some(peer) = self.peers.get_mut(&conn) else {
            return;
        };
        let first = !peer.docs.contains_key(&document);
        peer.docs.entry(document).or_default();
        if let Some(doc) = self.docs.get_mut(&document) {
            doc.subscribers.insert(conn);
        }
        if first {
            self.event(Event::DocumentOpened { conn, document });
        }
    }

    fn unsubscribe(&mut self, conn: ConnId, document: DocumentId) {
        if let Some(peer) = self.peers.get_mut(&conn) {
            peer.docs.remove(&document);
        }
        if let Some(doc) = self.docs.get_mut(&document) {
            doc.subscribers.remove(&conn);
        }
    }

    fn ensure_loaded(&mut self, document: DocumentId) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        if matches!(doc.state, DocState::Unloaded) {
            doc.state = DocState::Loading;
            let task = self.task(Task::Load(document));
            self.out.push(Effect::Storage {
                task,
                request: StorageRequest::Load { document },
            });
        }
    }

    fn task(&mut self, task: Task) -> TaskId {
        self.next_task += 1;
        let id = TaskId(self.next_task);
        self.tasks.insert(id, task);
        id
    }

    fn storage_done(&mut self, task: TaskId, result: Result<StorageResponse, StorageError>) {
        let Some(task) = self.tasks.remove(&task) else {
            return;
        };
        match task {
            Task::Load(document) => self.loaded(document, result),
            Task::Append {
                document,
                heads,
                key,
                len,
            } => self.appended(document, heads, key, len, result),
            Task::Compact {
                document,
                key,
                replaces,
                len,
            } => {
                let Some(doc) = self.docs.get_mut(&document) else {
                    return;
                };
                doc.compacting = false;
                if self.stale.contains(&document) {
                    self.dirty.insert(document);
                }
                match result {
                    Ok(_) => doc.compacted(key, &replaces, len),
                    Err(error) => self.event(Event::StorageFailed { document, error }),
                }
            }
        }
    }

    fn loaded(&mut self, document: DocumentId, result: Result<StorageResponse, StorageError>) {
        let stored = match result {
            Ok(StorageResponse::Loaded(stored)) => stored,
            Ok(StorageResponse::Written) => {
                self.load_failed(
                    document,
                    StorageError::Io("load answered as a write".into()),
                );
                return;
            }
            Err(error) => {
                self.load_failed(document, error);
                return;
            }
        };
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        match stored {
            None => {
                doc.state = DocState::Resident(Box::default());
                doc.exists = false;
                doc.durable_heads.clear();
                doc.stored.clear();
            }
            Some(stored) => match load_stored(&stored) {
                Ok(am) => {
                    doc.durable_heads = am.get_heads();
                    doc.state = DocState::Resident(Box::new(am));
                    doc.exists = true;
                    doc.set_stored(&stored);
                }
                Err(error) => {
                    self.load_failed(document, error);
                    return;
                }
            },
        }
        if self.reloading.remove(&document) {
            let followers: Vec<ConnId> = doc.subscribers.iter().copied().collect();
            doc.needs_generate.extend(followers);
        }
        if doc.wanted {
            self.offer(document);
        }
        self.dirty.insert(document);
    }

    /// A document that cannot be loaded: its waiting peers are told to retry later.
    fn load_failed(&mut self, document: DocumentId, error: StorageError) {
        self.event(Event::StorageFailed {
            document,
            error: error.clone(),
        });
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        doc.state = DocState::Unloaded;
        let waiting: BTreeSet<ConnId> = doc.inbox.drain(..).map(|i| i.conn).collect();
        for conn in waiting {
            self.send(
                conn,
                Message::Error {
                    message: "the server cannot read this document right now; retry later".into(),
                },
            );
            self.out.push(Effect::Close {
                conn,
                code: close_code::INTERNAL_ERROR,
                reason: "storage unavailable".into(),
            });
            self.disconnected(conn);
        }
    }

    fn appended(
        &mut self,
        document: DocumentId,
        heads: Vec<ChangeHash>,
        key: ChunkKey,
        len: usize,
        result: Result<StorageResponse, StorageError>,
    ) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        doc.flushing = false;
        if self.stale.contains(&document) {
            self.dirty.insert(document);
        }
        let contributors: Vec<ConnId> = std::mem::take(&mut doc.contributors).into_iter().collect();
        if let Err(error) = result {
            // Nothing of this write is acknowledged: drop the in-memory state so that memory
            // never runs ahead of the store, and make the contributors resend after reconnecting.
            doc.state = DocState::Unloaded;
            // The cause goes to the peer too (a full disk is worth telling a tablet's user).
            let cause = error.to_string();
            self.event(Event::StorageFailed { document, error });
            for conn in contributors {
                self.send(
                    conn,
                    Message::Error {
                        message: format!(
                            "the server could not store your changes ({cause}); they were not \
                             accepted and will be sent again after reconnecting"
                        ),
                    },
                );
                self.out.push(Effect::Close {
                    conn,
                    code: close_code::INTERNAL_ERROR,
                    reason: cause.clone(),
                });
                self.disconnected(conn);
            }
            if self
                .docs
                .get(&document)
                .is_some_and(|d| !d.inbox.is_empty())
            {
                self.ensure_loaded(document);
            }
            return;
        }
        doc.durable_heads = heads.clone();
        doc.exists = true;
        doc.appended(key, len);
        if !doc.waiting.is_empty() {
            // Peers that asked before it existed (the host has recorded its creation by now).
            self.serve_waiting(document);
        }
        let Some(doc) = self.docs.get(&document) else {
            return;
        };
        let subscribers: Vec<ConnId> = doc.subscribers.iter().copied().collect();
        self.event(Event::DocumentStored {
            document,
            heads,
            contributors,
        });
        for conn in subscribers {
            self.generate(conn, document);
        }
        self.maybe_compact(document);
        if self.docs.get(&document).is_some_and(|d| d.has_work()) {
            self.dirty.insert(document);
        }
    }

    fn maybe_compact(&mut self, document: DocumentId) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        if doc.compacting || doc.flushing || !doc.should_compact(&self.config) {
            return;
        }
        let Some(am) = doc.resident() else {
            return;
        };
        if am.get_heads() != doc.durable_heads {
            return;
        }
        let bytes = am.save();
        let key = ChunkKey::snapshot(&doc.durable_heads);
        let replaces: Vec<ChunkKey> = doc.stored.iter().map(|(k, _)| *k).collect();
        let len = bytes.len();
        doc.compacting = true;
        let task = self.task(Task::Compact {
            document,
            key,
            replaces: replaces.clone(),
            len,
        });
        self.out.push(Effect::Storage {
            task,
            request: StorageRequest::Write(WriteOp::Compact {
                document,
                key,
                bytes,
                replaces,
            }),
        });
    }

    fn access_changed(&mut self, document: Option<DocumentId>) {
        let targets: Vec<DocumentId> = match document {
            Some(d) => vec![d],
            None => self.docs.keys().copied().collect(),
        };
        for document in targets {
            let Some(doc) = self.docs.get(&document) else {
                continue;
            };
            let exists = doc.exists;
            let subscribers: Vec<ConnId> = doc.subscribers.iter().copied().collect();
            for conn in subscribers {
                let Some(peer) = self.peers.get(&conn) else {
                    continue;
                };
                if self.policy.access(&peer.principal, &document, exists) == Access::None {
                    self.answer_unavailable(conn, document);
                    self.event(Event::AccessRevoked { conn, document });
                }
            }
        }
    }

    fn forget(&mut self, document: DocumentId) {
        let Some(doc) = self.docs.remove(&document) else {
            return;
        };
        self.dirty.remove(&document);
        for conn in doc.waiting {
            if let Some(peer) = self.peers.get_mut(&conn) {
                peer.waiting_for.remove(&document);
            }
        }
        for conn in doc.subscribers {
            self.answer_unavailable(conn, document);
        }
    }

    // ----- the tick: batched processing -----

    fn tick(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        for document in dirty {
            self.process(document);
        }
        // Housekeeping looks at every document: at most once a second, not on every tick.
        if self.now.0 >= self.last_housekeeping.0 + 1_000 {
            self.last_housekeeping = self.now;
            self.evict();
            let horizon = self.now.0.saturating_sub(10 * 60_000);
            self.ephemeral_seen.retain(|_, (_, seen)| seen.0 >= horizon);
        }
    }

    /// Applies everything queued for one document in one batch, then persists or answers.
    fn process(&mut self, document: DocumentId) {
        let Some(doc) = self.docs.get_mut(&document) else {
            self.stale.remove(&document);
            return;
        };
        if self.stale.contains(&document) && !doc.flushing && !doc.compacting {
            match doc.state {
                DocState::Resident(_) => {
                    // Everything in the store is durable: load it again (ours and the other
                    // writer's changes), then tell every follower. What arrived meanwhile
                    // waits in the inbox and is applied to the fresh state.
                    self.stale.remove(&document);
                    doc.state = DocState::Unloaded;
                    self.reloading.insert(document);
                    self.ensure_loaded(document);
                    return;
                }
                // The next load reads everything.
                DocState::Unloaded => {
                    self.stale.remove(&document);
                }
                // The load under way may have read the store before the other writer: stay
                // stale, and the loaded document (marked dirty) is loaded again.
                DocState::Loading => {}
            }
        }
        if doc.flushing || !matches!(doc.state, DocState::Resident(_)) {
            return;
        }
        let inbox = std::mem::take(&mut doc.inbox);
        let mut responders: BTreeSet<ConnId> = std::mem::take(&mut doc.needs_generate);
        let mut accepted: Vec<(ConnId, sync::Message)> = Vec::with_capacity(inbox.len());
        let mut chunks: Vec<(ConnId, Vec<u8>)> = Vec::new();
        let inspects = self.policy.inspects_changes();

        for Inbound { conn, mut message } in inbox {
            let Some(principal) = self.peers.get(&conn).map(|p| p.principal.clone()) else {
                continue;
            };
            let exists = self.docs.get(&document).is_some_and(|d| d.exists);
            let access = self.policy.access(&principal, &document, exists);
            let has_changes = !message.changes.is_empty();
            let claims_content = has_changes || !message.heads.is_empty();
            let may_create = access == Access::ReadWrite;
            let may_engage = exists || (claims_content && may_create);
            if access == Access::None || !may_engage {
                // Exactly what a peer sees for a document that does not exist: to a peer that
                // says it has content, the answer of an empty document; otherwise doc-unavailable.
                if claims_content && !has_changes {
                    self.answer_as_empty(conn, document, message);
                } else {
                    self.answer_unavailable(conn, document);
                    if access != Access::None {
                        self.remember_waiting(conn, document);
                    }
                }
                continue;
            }
            if has_changes {
                if access != Access::ReadWrite {
                    self.reject(
                        conn,
                        Some(document),
                        Rejection::ReadOnly,
                        close_code::POLICY_VIOLATION,
                    );
                    continue;
                }
                let bytes: Vec<u8> = message.changes.iter().flatten().copied().collect();
                chunks.push((conn, bytes));
                message.changes = sync::ChunkList::empty();
            }
            self.subscribe(conn, document);
            accepted.push((conn, message));
        }

        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        if !doc.exists && !doc.wanted && accepted.is_empty() && chunks.is_empty() {
            // Everyone who asked was told it is unavailable: keep no empty document in memory
            // (a flood of requests for made-up ids must not fill it).
            if doc.subscribers.is_empty() && !doc.has_work() {
                doc.state = DocState::Unloaded;
                if doc.waiting.is_empty() {
                    self.docs.remove(&document);
                }
            }
            return;
        }
        let DocState::Resident(am) = &mut doc.state else {
            return;
        };
        let heads_before = am.get_heads();
        let was_empty = heads_before.is_empty();
        let mut refused: Vec<(ConnId, String)> = Vec::new();
        let stripped: BTreeSet<ConnId> = chunks.iter().map(|(c, _)| *c).collect();
        let mut offenders: Vec<(ConnId, String)> = Vec::new();
        // Every change new to the document in this batch, and each peer's bytes once applied
        // (when the policy looks at them; see `stored_as_received`).
        let mut new_changes: Vec<ChangeHash> = Vec::new();
        let mut received: Vec<Vec<u8>> = Vec::new();
        if !chunks.is_empty() && inspects {
            // Each peer's changes on their own, so that what is new can be checked against
            // who sent it (only changes new to us: a peer relays others' changes too).
            let mut per_peer: Vec<(ConnId, Vec<u8>)> = Vec::new();
            for (conn, bytes) in chunks {
                match per_peer.iter_mut().find(|(c, _)| *c == conn) {
                    Some((_, all)) => all.extend_from_slice(&bytes),
                    None => per_peer.push((conn, bytes)),
                }
            }
            for (conn, bytes) in per_peer {
                let before = am.get_heads();
                if let Err(e) = am.load_incremental(&bytes) {
                    offenders.push((conn, format!("sync data refused: {e}")));
                    continue;
                }
                if let Some(reason) = too_many_missing(am) {
                    offenders.push((conn, reason));
                    continue;
                }
                let fresh: Vec<ChangeSummary> = am
                    .get_changes_meta(&before)
                    .into_iter()
                    .map(|m| ChangeSummary {
                        hash: m.hash,
                        actor: m.actor.into_owned(),
                    })
                    .collect();
                doc.contributors.insert(conn);
                if fresh.is_empty() {
                    continue;
                }
                new_changes.extend(fresh.iter().map(|c| c.hash));
                received.push(bytes);
                let Some(peer) = self.peers.get(&conn) else {
                    continue;
                };
                if let Err(reason) = self
                    .policy
                    .check_changes(&peer.principal, &document, &fresh)
                {
                    offenders.push((conn, format!("changes refused: {reason}")));
                }
            }
        } else if !chunks.is_empty() {
            let all: Vec<u8> = chunks.iter().flat_map(|(_, b)| b.iter().copied()).collect();
            let loaded = am.load_incremental(&all);
            if let Some(reason) = too_many_missing(am) {
                // Whose changes they were is not known here: refuse the whole batch.
                offenders.extend(chunks.iter().map(|(c, _)| (*c, reason.clone())));
            } else if loaded.is_err() {
                // Find the culprit: apply each peer's changes on its own.
                for (conn, bytes) in &chunks {
                    if let Err(e) = am.load_incremental(bytes) {
                        refused.push((*conn, e.to_string()));
                    }
                }
            }
            for (conn, _) in &chunks {
                if !refused.iter().any(|(c, _)| c == conn) {
                    doc.contributors.insert(*conn);
                }
            }
        }
        if !offenders.is_empty() {
            // Nothing of this batch was stored or advertised: drop it from memory and refuse
            // it; whoever else sent part of it reconnects and sends it again.
            doc.state = DocState::Unloaded;
            let others: Vec<ConnId> = std::mem::take(&mut doc.contributors)
                .into_iter()
                .filter(|c| !offenders.iter().any(|(o, _)| o == c))
                .collect();
            if !doc.inbox.is_empty() {
                self.ensure_loaded(document);
            }
            for (conn, reason) in offenders {
                self.reject(
                    conn,
                    Some(document),
                    Rejection::ChangesRefused(reason),
                    close_code::POLICY_VIOLATION,
                );
            }
            for conn in others {
                self.send(
                    conn,
                    Message::Error {
                        message: "your changes arrived with refused ones and were not stored; \
                                  they will be sent again after reconnecting"
                            .into(),
                    },
                );
                self.out.push(Effect::Close {
                    conn,
                    code: close_code::INTERNAL_ERROR,
                    reason: "batch discarded".into(),
                });
                self.disconnected(conn);
            }
            return;
        }
        // One peer's later message supersedes its earlier ones for the sync state (the changes
        // were taken out above), and automerge's receive walks the whole history of the
        // message's heads: so only each peer's last message of the tick is received (and any
        // that asks for a sync reset).
        let mut last_of: HashMap<ConnId, usize> = HashMap::new();
        for (i, (conn, _)) in accepted.iter().enumerate() {
            last_of.insert(*conn, i);
        }
        for (i, (conn, message)) in accepted.into_iter().enumerate() {
            let resets = message
                .flags
                .is_some_and(|f| f.contains(sync::MessageFlags::SYNC_RESET));
            if last_of.get(&conn) != Some(&i) && !resets {
                continue;
            }
            if refused.iter().any(|(c, _)| *c == conn) {
                continue;
            }
            let Some(state) = self
                .peers
                .get_mut(&conn)
                .and_then(|p| p.docs.get_mut(&document))
            else {
                continue;
            };
            // The changes were applied above; automerge would take a message without changes
            // whose heads equal ours as proof that the peer already heard our heads, and would
            // then never acknowledge them. Keep what we really sent.
            let last_sent = state.last_sent_heads.clone();
            if let Err(e) = am.receive_sync_message(state, message) {
                refused.push((conn, e.to_string()));
                continue;
            }
            if stripped.contains(&conn) {
                state.last_sent_heads = last_sent;
            }
            responders.insert(conn);
        }
        let heads = am.get_heads();
        let created = was_empty && !heads.is_empty() && !doc.exists;
        let creator = doc.contributors.iter().next().copied();
        // The host's last word on what peers' changes made of the document (schema, rules).
        let verdict = if heads != heads_before && !doc.contributors.is_empty() {
            let creator = created
                .then(|| creator.and_then(|c| self.peers.get(&c)))
                .flatten()
                .map(|p| &p.principal);
            self.policy.check_document(&document, am, creator)
        } else {
            Ok(())
        };
        if let Err(reason) = verdict {
            // Nothing of this batch was stored or advertised: drop it from memory (the next
            // message reloads the durable state) and refuse it to everyone who sent part of it.
            doc.state = DocState::Unloaded;
            let contributors: Vec<ConnId> =
                std::mem::take(&mut doc.contributors).into_iter().collect();
            if !doc.inbox.is_empty() {
                self.ensure_loaded(document);
            }
            for conn in contributors {
                self.reject(
                    conn,
                    Some(document),
                    Rejection::ChangesRefused(reason.clone()),
                    close_code::POLICY_VIOLATION,
                );
            }
            for (conn, reason) in refused {
                self.reject(
                    conn,
                    Some(document),
                    Rejection::BadSyncData(reason),
                    close_code::INVALID_DATA,
                );
            }
            return;
        }
        if !heads.is_empty() {
            doc.exists = true;
        }
        let unsaved = heads != doc.durable_heads;
        // What is stored is either the bytes as received or, when they may not be exactly the
        // new changes, what automerge rebuilds from its op set.
        let as_received = (unsaved
            && refused.is_empty()
            && heads_before == doc.durable_heads
            && !doc.stored.is_empty())
        .then(|| stored_as_received(am, &received, &new_changes))
        .flatten();
        for (conn, reason) in refused {
            self.reject(
                conn,
                Some(document),
                Rejection::BadSyncData(reason),
                close_code::INVALID_DATA,
            );
        }
        if created {
            if let Some(conn) = creator {
                self.event(Event::DocumentCreated { conn, document });
            }
        }
        if unsaved {
            self.persist(document, as_received);
        } else {
            for conn in responders {
                self.generate(conn, document);
            }
        }
    }

    /// Emits the write of everything not yet durable; answers wait for its completion.
    /// `as_received`: the new changes exactly as peers sent them (see [`stored_as_received`]).
    fn persist(&mut self, document: DocumentId, as_received: Option<Vec<u8>>) {
        let Some(doc) = self.docs.get_mut(&document) else {
            return;
        };
        let Some(am) = doc.resident() else {
            return;
        };
        let heads = am.get_heads();
        let (bytes, key) = if let Some(bytes) = as_received {
            let key = ChunkKey::incremental(&bytes);
            (bytes, key)
        } else if doc.stored.is_empty() {
            // A new document: a snapshot. automerge rebuilds changes from its op set for
            // `save_after`, which for a whole document costs several times `save`.
            let bytes = am.save();
            (bytes, ChunkKey::snapshot(&heads))
        } else {
            let bytes = am.save_after(&doc.durable_heads);
            let key = ChunkKey::incremental(&bytes);
            (bytes, key)
        };
        let len = bytes.len();
        doc.flushing = true;
        let task = self.task(Task::Append {
            document,
            heads,
            key,
            len,
        });
        self.out.push(Effect::Storage {
            task,
            request: StorageRequest::Write(WriteOp::Put {
                document,
                key,
                bytes,
            }),
        });
    }

    fn remember_waiting(&mut self, conn: ConnId, document: DocumentId) {
        if let Some(peer) = self.peers.get_mut(&conn) {
            // A peer asking for ever more documents that do not exist is not remembered for
            // all of them: past the cap it has to ask again later.
            if peer.waiting_for.len() >= MAX_WAITING_PER_PEER
                && !peer.waiting_for.contains(&document)
            {
                return;
            }
            peer.waiting_for.insert(document);
        }
        if let Some(doc) = self.docs.get_mut(&document) {
            doc.waiting.insert(conn);
        }
    }

    /// A document that peers asked for now exists: those who may read it follow it from now
    /// on (they receive it once its first write is durable).
    fn serve_waiting(&mut self, document: DocumentId) {
        let waiting = self
            .docs
            .get_mut(&document)
            .map(|d| std::mem::take(&mut d.waiting))
            .unwrap_or_default();
        for conn in waiting {
            let Some(peer) = self.peers.get_mut(&conn) else {
                continue;
            };
            peer.waiting_for.remove(&document);
            let principal = peer.principal.clone();
            if self.policy.access(&principal, &document, true) != Access::None {
                self.follow(conn, document);
            }
        }
    }

    /// Answers a sync message as a document with no content would, keeping no state.
    fn answer_as_empty(&mut self, conn: ConnId, document: DocumentId, message: sync::Message) {
        let Some(target_id) = self.peers.get(&conn).and_then(|p| p.remote_id.clone()) else {
            return;
        };
        self.unsubscribe(conn, document);
        let mut empty = Automerge::new();
        let mut state = sync::State::new();
        if empty.receive_sync_message(&mut state, message).is_err() {
            self.answer_unavailable(conn, document);
            return;
        }
        if let Some(reply) = empty.generate_sync_message(&mut state) {
            self.send(
                conn,
                Message::Sync(DocMessage {
                    sender_id: self.config.peer_id.clone(),
                    target_id,
                    document_id: document,
                    data: reply.encode(),
                }),
            );
        }
    }

    fn answer_unavailable(&mut self, conn: ConnId, document: DocumentId) {
        let Some(target_id) = self.peers.get(&conn).and_then(|p| p.remote_id.clone()) else {
            return;
        };
        self.unsubscribe(conn, document);
        self.send(
            conn,
            Message::DocUnavailable {
                sender_id: self.config.peer_id.clone(),
                target_id,
                document_id: document,
            },
        );
    }

    /// Sends a peer what it lacks of a document, if anything (heads here are always durable).
    fn generate(&mut self, conn: ConnId, document: DocumentId) {
        let Some(doc) = self.docs.get(&document) else {
            return;
        };
        let Some(am) = doc.resident() else {
            return;
        };
        let exists = doc.exists;
        let Some(peer) = self.peers.get_mut(&conn) else {
            return;
        };
        if peer.phase != Phase::Ready
            || self.policy.access(&peer.principal, &document, exists) == Access::None
        {
            return;
        }
        let Some(target_id) = peer.remote_id.clone() else {
            return;
        };
        let state = peer.docs.entry(document).or_default();
        let Some(message) = am.generate_sync_message(state) else {
            return;
        };
        let msg = DocMessage {
            sender_id: self.config.peer_id.clone(),
            target_id,
            document_id: document,
            data: message.encode(),
        };
        // Only a client asks for a document it lacks; a server answers with `sync`.
        let message = if self.config.announce && am.get_heads().is_empty() {
            Message::Request(msg)
        } else {
            Message::Sync(msg)
        };
        self.send(conn, message);
    }

    fn evict(&mut self) {
        let Some(idle) = self.config.evict_idle_after else {
            return;
        };
        let now = self.now.0;
        let mut resident_bytes = 0usize;
        let mut candidates: Vec<(Millis, DocumentId, usize)> = Vec::new();
        let mut forget: Vec<DocumentId> = Vec::new();
        for (id, doc) in &mut self.docs {
            if doc.resident().is_none() {
                if doc.subscribers.is_empty()
                    && doc.waiting.is_empty()
                    && !doc.has_work()
                    && !doc.is_loading()
                {
                    forget.push(*id);
                }
                continue;
            }
            let size = doc.resident_size();
            resident_bytes += size;
            if doc.has_work() || doc.flushing || doc.compacting || self.dirty.contains(id) {
                continue;
            }
            if doc.last_used.0 + idle <= now || !doc.exists {
                doc.state = DocState::Unloaded;
                resident_bytes -= size;
                if doc.subscribers.is_empty() && doc.waiting.is_empty() {
                    forget.push(*id);
                }
            } else {
                candidates.push((doc.last_used, *id, size));
            }
        }
        if resident_bytes > self.config.memory_budget {
            candidates.sort();
            for (_, id, size) in candidates {
                if resident_bytes <= self.config.memory_budget {
                    break;
                }
                if let Some(doc) = self.docs.get_mut(&id) {
                    doc.state = DocState::Unloaded;
                    resident_bytes -= size;
                }
            }
        }
        for id in forget {
            self.docs.remove(&id);
        }
    }

    // ----- output -----

    fn send(&mut self, conn: ConnId, message: Message) {
        self.out.push(Effect::Send { conn, message });
    }

    fn event(&mut self, event: Event) {
        self.out.push(Effect::Event(event));
    }
}

fn rejection_text(reason: &Rejection) -> String {
    match reason {
        Rejection::Malformed(e) => format!("malformed frame: {e}"),
        Rejection::BadSyncData(e) => format!("sync data refused: {e}"),
        Rejection::ProtocolViolation(e) => format!("protocol violation: {e}"),
        Rejection::UnsupportedVersion(v) => {
            format!("no common protocol version: you offer {v:?}, this server speaks [\"1\"]")
        }
        Rejection::ReadOnly => {
            "changes refused: you may read this document but not change it".into()
        }
        Rejection::ChangesRefused(e) => format!("changes refused: {e}"),
    }
}

/// How many changes a document may lack under changes a peer sent (automerge queues such
/// changes until their dependencies arrive). A few happen in honest sync (a Bloom filter's
/// false positive); thousands are an attack on the server's memory.
pub const MAX_MISSING_DEPS: usize = 256;

/// How many absent documents one peer is remembered to be waiting for.
pub const MAX_WAITING_PER_PEER: usize = 1_000;

/// The reason to refuse changes that leave too many dependencies missing.
fn too_many_missing(am: &Automerge) -> Option<String> {
    let missing = automerge::ReadDoc::get_missing_deps(am, &[]).len();
    (missing > MAX_MISSING_DEPS).then(|| {
        format!(
            "the changes depend on {missing} changes this server does not have \
             (at most {MAX_MISSING_DEPS} may be missing)"
        )
    })
}

/// The received chunks, concatenated, if they can be stored as the increment instead of what
/// `save_after` would rebuild (12 % of the server's instructions under load, callgrind).
///
/// Only when they are certainly sound and complete: the bytes split exactly into uncompressed
/// change chunks whose checksums hold ([`change_hashes`]), every one of them is now part of the
/// document (automerge applies the good prefix of a damaged batch and carries on; a damaged
/// chunk hashes to nothing the document holds, and such bytes must never reach the store),
/// nothing waits in automerge's queue for a dependency, and every change new to the document is
/// among them (one that waited in the queue came in an earlier batch). Duplicates of known
/// changes are harmless on load.
fn stored_as_received(
    am: &Automerge,
    received: &[Vec<u8>],
    new_changes: &[ChangeHash],
) -> Option<Vec<u8>> {
    if received.is_empty() || new_changes.is_empty() {
        return None;
    }
    let mut hashes = Vec::with_capacity(received.len());
    for chunk in received {
        hashes.extend(change_hashes(chunk)?);
    }
    if !automerge::ReadDoc::get_missing_deps(am, &hashes).is_empty() {
        return None;
    }
    let sent: HashSet<&ChangeHash> = hashes.iter().collect();
    if !new_changes.iter().all(|h| sent.contains(h)) {
        return None;
    }
    Some(received.concat())
}

/// The hashes of the change chunks `bytes` consists of, or `None` if it is anything else
/// (a document or compressed chunk, a bad checksum, a truncated or trailing piece).
///
/// automerge's storage format: each chunk is the magic bytes `85 6f 4a 83`, a 4-byte checksum,
/// a type byte (1: change), a ULEB128 length and that many bytes; the change's hash is the
/// SHA-256 of the type byte, the length and the bytes, and the checksum its first four bytes.
fn change_hashes(mut bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    use sha2::{Digest, Sha256};
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    const CHANGE: u8 = 1;
    let mut hashes = Vec::new();
    while !bytes.is_empty() {
        let (magic, rest) = bytes.split_at_checked(4)?;
        let (checksum, hashed_from) = rest.split_at_checked(4)?;
        let (kind, mut rest) = hashed_from.split_first()?;
        if magic != MAGIC || *kind != CHANGE {
            return None;
        }
        let mut len: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (byte, after) = rest.split_first()?;
            rest = after;
            len |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            if shift >= 63 {
                return None;
            }
        }
        // Type, length and body as they arrived: a length written other than automerge
        // writes it hashes to nothing the document holds.
        let header = hashed_from.len() - rest.len();
        let (hashed, after) =
            hashed_from.split_at_checked(header.checked_add(usize::try_from(len).ok()?)?)?;
        let digest: [u8; 32] = Sha256::digest(hashed).into();
        if digest[..4] != *checksum {
            return None;
        }
        hashes.push(ChangeHash(digest));
        bytes = after;
    }
    Some(hashes)
}

/// Loads a stored document from its chunks (snapshots first, then increments).
pub fn load_stored(stored: &StoredDocument) -> Result<Automerge, StorageError> {
    Automerge::load(&stored.concatenated()).map_err(|e| StorageError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests;
