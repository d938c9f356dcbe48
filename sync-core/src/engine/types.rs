//! The engine's inputs, effects and events: everything that crosses its boundary.

use automerge::{Automerge, ChangeHash};

use super::rejection::Rejection;
use crate::engine::policy::Principal;
use crate::error::StorageError;
use crate::ids::{DocumentId, PeerId};
use crate::storage::{StorageRequest, StorageResponse};
use crate::wire::{Message, PeerMetadata};
use crate::DecodeError;

/// A connection, numbered by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// A storage task, numbered by the engine and answered by the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub u64);

/// Monotonic time in milliseconds, from the host's clock (the engine reads no clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Millis(pub u64);

/// Who opened a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// A client connected to us; it speaks first (`join`).
    Inbound,
    /// We connected to a server; we speak first.
    Outbound,
}

/// WebSocket close codes the engine uses.
pub mod close_code {
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A frame that is not a valid message.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A valid frame with data that does not decode (sync payload).
    pub const INVALID_DATA: u16 = 1007;
    /// The peer broke a rule (wrote without write access, forged authorship).
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A frame over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// The server failed (storage); the peer should retry later.
    pub const INTERNAL_ERROR: u16 = 1011;
    /// Replaced by a newer connection of the same peer.
    pub const REPLACED: u16 = 4000;
    /// The device was revoked: it must wipe its local data.
    pub const REVOKED: u16 = 4001;
    /// The connection sent more than its rate allows.
    pub const RATE_LIMITED: u16 = 4002;
}

/// What happens to the engine.
#[derive(Debug)]
pub enum Input {
    /// A connection opened and was authenticated as `principal`.
    Connected {
        /// The connection.
        conn: ConnId,
        /// Who opened it.
        direction: Direction,
        /// Who is on the other side.
        principal: Principal,
    },
    /// A connection closed.
    Disconnected {
        /// The connection.
        conn: ConnId,
    },
    /// A raw binary frame arrived.
    Frame {
        /// From which connection.
        conn: ConnId,
        /// The frame.
        bytes: Vec<u8>,
    },
    /// A frame arrived that the host already tried to decode and could not (e.g. on the
    /// connection's own task): the engine refuses it as it refuses a malformed [`Input::Frame`],
    /// without decoding the bytes a second time.
    Malformed {
        /// From which connection.
        conn: ConnId,
        /// Why the frame does not decode.
        error: DecodeError,
    },
    /// A message arrived that the host already decoded (e.g. on the connection's own task).
    Received {
        /// From which connection.
        conn: ConnId,
        /// The message.
        message: Message,
    },
    /// A storage task finished.
    StorageDone {
        /// Which task.
        task: TaskId,
        /// Its outcome.
        result: Result<StorageResponse, StorageError>,
    },
    /// The host wants a document: load it, and (as a client) fetch it from peers.
    Find {
        /// Which.
        document: DocumentId,
    },
    /// The host created a new document.
    Create {
        /// Its id.
        document: DocumentId,
        /// Its first content.
        content: Box<Automerge>,
    },
    /// Send ephemeral data (presence) about a document to the peers that hold it.
    Broadcast {
        /// The document.
        document: DocumentId,
        /// The payload.
        data: Vec<u8>,
    },
    /// Access rules changed (for one document, or for all): re-check subscribed peers.
    AccessChanged {
        /// The document, or `None` for every document.
        document: Option<DocumentId>,
    },
    /// Forget a document at once (erasure): its state is dropped, and the peers that follow it
    /// are told it is unavailable.
    Forget {
        /// The document.
        document: DocumentId,
    },
    /// Another writer (another server node sharing the store) stored changes of a document:
    /// reload it from the store and sync its followers. Nothing happens for a document that is
    /// not in memory (its next load reads everything).
    Reload {
        /// The document.
        document: DocumentId,
    },
    /// Time passed: process what arrived since the last tick (per document, in one batch).
    Tick,
}

/// What the host must do.
#[derive(Debug, PartialEq)]
pub enum Effect {
    /// Send a message on a connection.
    Send {
        /// The connection.
        conn: ConnId,
        /// The message.
        message: Message,
    },
    /// Close a connection (after sending what was queued before).
    Close {
        /// The connection.
        conn: ConnId,
        /// A WebSocket close code (see [`close_code`]).
        code: u16,
        /// Why, in words.
        reason: String,
    },
    /// Carry out a storage task and answer with [`Input::StorageDone`].
    Storage {
        /// The task's id.
        task: TaskId,
        /// What to do.
        request: StorageRequest,
    },
    /// Something the host may want to know (audit, UI, metrics).
    Event(Event),
}

/// Events for the host.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A peer finished the handshake.
    PeerJoined {
        /// The connection.
        conn: ConnId,
        /// Its peer id.
        peer_id: PeerId,
        /// Its metadata.
        metadata: PeerMetadata,
    },
    /// A peer's connection is gone.
    PeerLeft {
        /// The connection.
        conn: ConnId,
    },
    /// A peer started receiving a document in this session (its first read, for the audit log).
    DocumentOpened {
        /// The connection.
        conn: ConnId,
        /// The document.
        document: DocumentId,
    },
    /// A peer created a document that did not exist.
    DocumentCreated {
        /// The connection it came from.
        conn: ConnId,
        /// The document.
        document: DocumentId,
    },
    /// New changes of a document are durable; `heads` are now advertised.
    DocumentStored {
        /// The document.
        document: DocumentId,
        /// Its durable heads.
        heads: Vec<ChangeHash>,
        /// The connections whose changes this write made durable (empty for local changes).
        contributors: Vec<ConnId>,
    },
    /// Every peer asked says it does not have the document (client side).
    DocumentUnavailable {
        /// The document.
        document: DocumentId,
    },
    /// A peer lost access to a document mid-session; it no longer syncs.
    AccessRevoked {
        /// The connection.
        conn: ConnId,
        /// The document.
        document: DocumentId,
    },
    /// Ephemeral data arrived (presence).
    Ephemeral {
        /// From which connection.
        conn: ConnId,
        /// The original sender.
        sender_id: PeerId,
        /// The document.
        document: DocumentId,
        /// The payload.
        data: Vec<u8>,
    },
    /// A peer's message was refused; the peer was told why.
    Rejected {
        /// The connection.
        conn: ConnId,
        /// The document concerned, if any.
        document: Option<DocumentId>,
        /// Why.
        reason: Rejection,
    },
    /// A storage task failed; nothing of it is acknowledged.
    StorageFailed {
        /// The document concerned.
        document: DocumentId,
        /// The error.
        error: StorageError,
    },
}
