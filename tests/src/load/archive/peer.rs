//! One connection of the stored-documents run with its own client engine (in a [`Host`]:
//! storage at once, in memory): frames in, one engine tick per burst, until a condition holds.

use std::collections::HashSet;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use client_sdk::transport::{ServerAddress, Socket};
use futures::stream::SplitStream;
use futures::{FutureExt, StreamExt};
use sync_core::engine::{
    AllowAll, ConnId, Direction, Effect, Engine, EngineConfig, Event, Input, Millis, Principal,
};
use sync_core::host::Host;
use sync_core::storage::MemoryStorage;
use sync_core::{wire, DocumentId, PeerId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::load::document::same_heads;
use crate::load::socket::open;

/// What every connection of a run shares.
pub(super) struct Shared {
    pub(super) address: ServerAddress,
    pub(super) doc_text: usize,
    pub(super) wave: usize,
    pub(super) timeout: Duration,
    pub(super) t0: Instant,
    /// Documents acknowledged so far.
    pub(super) stored: AtomicUsize,
    /// Documents to store.
    pub(super) target: usize,
}

/// One connection with its own client engine and in-memory store.
pub(super) struct Peer {
    /// The engine in client mode with its in-memory store.
    pub(super) host: Host<AllowAll>,
    conn: ConnId,
    out: mpsc::UnboundedSender<WsMessage>,
    stream: SplitStream<Socket>,
    writer: JoinHandle<()>,
    t0: Instant,
    /// The handshake with the server is done.
    pub(super) joined: bool,
    /// Documents the server said it does not have.
    pub(super) unavailable: HashSet<DocumentId>,
    failure: Option<String>,
    /// Frames received.
    pub(super) frames: u64,
}

impl Peer {
    /// Connects and starts the handshake.
    pub(super) async fn connect(shared: &Shared, peer_id: PeerId) -> Result<Self, String> {
        let (out, stream, writer) = open(&shared.address).await?;
        let mut peer = Peer {
            host: Host::new(
                Engine::new(EngineConfig::client(peer_id), AllowAll),
                MemoryStorage::new(),
            ),
            conn: ConnId(1),
            out,
            stream,
            writer,
            t0: shared.t0,
            joined: false,
            unavailable: HashSet::new(),
            failure: None,
            frames: 0,
        };
        peer.input(Input::Connected {
            conn: peer.conn,
            direction: Direction::Outbound,
            principal: Principal::new("server", "server"),
        });
        Ok(peer)
    }

    /// Feeds an input and carries out every effect (storage at once, in memory).
    pub(super) fn input(&mut self, input: Input) {
        let t0 = self.t0;
        let now = || Millis(t0.elapsed().as_millis() as u64);
        for effect in self.host.handle_at(input, now) {
            match effect {
                Effect::Send { message, .. } => {
                    let _ = self
                        .out
                        .send(WsMessage::Binary(wire::encode(&message).into()));
                }
                Effect::Close { code, reason, .. } => {
                    self.failure.get_or_insert(format!(
                        "our engine closed the connection ({code}): {reason}"
                    ));
                }
                Effect::Storage { .. } => {}
                Effect::Event(Event::PeerJoined { .. }) => self.joined = true,
                Effect::Event(Event::DocumentUnavailable { document }) => {
                    self.unavailable.insert(document);
                }
                Effect::Event(Event::Rejected { reason, .. }) => {
                    self.failure
                        .get_or_insert(format!("a message was refused: {reason:?}"));
                }
                Effect::Event(Event::StorageFailed { document, error }) => {
                    self.failure
                        .get_or_insert(format!("storing {document}: {error}"));
                }
                Effect::Event(_) => {}
            }
        }
    }

    /// Receives frames (one engine tick per burst) until `done` holds or the deadline passes.
    pub(super) async fn until(
        &mut self,
        deadline: tokio::time::Instant,
        what: &str,
        done: impl Fn(&Self) -> bool,
    ) -> Result<(), String> {
        loop {
            if let Some(failure) = &self.failure {
                return Err(failure.clone());
            }
            if done(self) {
                return Ok(());
            }
            let first = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .map_err(|_| format!("timed out waiting for {what}"))?;
            let mut next = Some(first);
            let mut batch = 0;
            while let Some(item) = next.take() {
                match item {
                    Some(Ok(WsMessage::Binary(bytes))) => {
                        self.frames += 1;
                        let conn = self.conn;
                        match wire::decode(&bytes, wire::DEFAULT_MAX_FRAME) {
                            Ok(message) => self.input(Input::Received { conn, message }),
                            Err(_) => self.input(Input::Frame {
                                conn,
                                bytes: bytes.to_vec(),
                            }),
                        }
                    }
                    Some(Ok(WsMessage::Close(frame))) => {
                        return Err(format!(
                            "the server closed the connection waiting for {what}: {frame:?}"
                        ))
                    }
                    Some(Err(e)) => return Err(format!("socket error waiting for {what}: {e}")),
                    None => return Err(format!("the connection ended waiting for {what}")),
                    Some(Ok(_)) => {}
                }
                batch += 1;
                if batch < 256 {
                    next = self.stream.next().now_or_never();
                }
            }
            self.input(Input::Tick);
        }
    }

    /// The server advertised the document's current heads.
    pub(super) fn acked(&self, document: &DocumentId) -> bool {
        match (
            self.host.engine.document(document),
            self.host.engine.peer_heads(self.conn, document),
        ) {
            (Some(doc), Some(theirs)) => same_heads(theirs, doc.get_heads()),
            _ => false,
        }
    }

    /// A close frame; the writer sends it and ends.
    pub(super) fn close(self) {
        let _ = self.out.send(WsMessage::Close(None));
        drop(self.stream);
        drop(self.writer);
    }
}
