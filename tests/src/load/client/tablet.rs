//! The task of one simulated tablet: its engine (in a [`Host`], storage at once in memory), its
//! connection with reconnects, its edit rounds and what it observes of the watched documents.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ObjId, ReadDoc, ROOT};
use client_sdk::transport::Socket;
use futures::stream::SplitStream;
use futures::{FutureExt, StreamExt};
use sync_core::engine::{
    AllowAll, ConnId, Direction, Effect, Engine, EngineConfig, Event, Input, Millis, Principal,
};
use sync_core::host::Host;
use sync_core::storage::MemoryStorage;
use sync_core::{wire, DocumentId, PeerId};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

use super::{Cmd, Outcome, Shared, Status, Viewed};
use crate::load::document::{new_document, notes_len, read_n, read_title, same_heads};
use crate::load::socket::open;

/// How many times a dropped client tries to connect again before it gives up.
const RECONNECT_ATTEMPTS: u32 = 5;

struct Conn {
    id: ConnId,
    out: mpsc::UnboundedSender<WsMessage>,
    stream: SplitStream<Socket>,
    writer: JoinHandle<()>,
}

struct Owned {
    id: DocumentId,
    notes: ObjId,
}

#[derive(Default)]
struct Watched {
    ready: bool,
    seen: usize,
}

/// One tablet's state, owned by its task.
pub(super) struct Client {
    /// The engine in client mode with its in-memory store.
    host: Host<AllowAll>,
    conn: Option<Conn>,
    conn_seq: u64,
    joined: bool,
    owned: Vec<Owned>,
    watched: HashMap<DocumentId, Watched>,
    watched_ready: usize,
    watched_complete: usize,
    editing: bool,
    round: usize,
    next_round: Option<tokio::time::Instant>,
    edits_done_at: Option<Instant>,
    all_acked_at: Option<Instant>,
    finishing: bool,
    dropped: u32,
    error: Option<String>,
    latencies_ms: Vec<f64>,
    frames_sent: u64,
    frames_received: u64,
    rejected: u64,
    first_rejection: Option<String>,
    rng: u64,
    status: watch::Sender<Status>,
    shared: Arc<Shared>,
}

/// The next frame of the connection, or never when there is none.
async fn next_frame(conn: &mut Option<Conn>) -> Option<Result<WsMessage, WsError>> {
    match conn {
        Some(c) => c.stream.next().await,
        None => std::future::pending().await,
    }
}

/// Waits for the next edit round: at once when flat out.
async fn pace(at: Option<tokio::time::Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

impl Client {
    /// A tablet named `peer_id` that reports on `status`; `seed` picks its random edits.
    pub(super) fn new(
        peer_id: PeerId,
        shared: Arc<Shared>,
        seed: u64,
        status: watch::Sender<Status>,
    ) -> Self {
        Self {
            host: Host::new(
                Engine::new(EngineConfig::client(peer_id), AllowAll),
                MemoryStorage::new(),
            ),
            conn: None,
            conn_seq: 0,
            joined: false,
            owned: Vec::new(),
            watched: HashMap::new(),
            watched_ready: 0,
            watched_complete: 0,
            editing: false,
            round: 0,
            next_round: None,
            edits_done_at: None,
            all_acked_at: None,
            finishing: false,
            dropped: 0,
            error: None,
            latencies_ms: Vec::new(),
            frames_sent: 0,
            frames_received: 0,
            rejected: 0,
            first_rejection: None,
            rng: seed.wrapping_mul(2_654_435_761).wrapping_add(12_345),
            status,
            shared,
        }
    }

    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Cmd>) {
        if let Err(e) = self.connect().await {
            self.error = Some(e);
        }
        self.publish();
        loop {
            let editing = self.editing && self.round < self.shared.edits;
            tokio::select! {
                biased;
                item = next_frame(&mut self.conn) => self.socket_item(item).await,
                cmd = commands.recv() => match cmd {
                    Some(Cmd::Finish(reply)) => {
                        let _ = reply.send(self.outcome());
                        self.close();
                        return;
                    }
                    Some(cmd) => self.command(cmd).await,
                    None => {
                        self.close();
                        return;
                    }
                },
                () = pace(self.next_round), if editing => {
                    self.edit_round().await;
                    if self.next_round.is_none() {
                        // Flat out: let the sockets and the other clients run, as the JS
                        // generator's `setImmediate` does.
                        tokio::task::yield_now().await;
                    }
                }
            }
            self.publish();
        }
    }

    fn nanos(&self) -> u64 {
        self.shared.t0.elapsed().as_nanos() as u64
    }

    async fn connect(&mut self) -> Result<(), String> {
        let (out, stream, writer) = open(&self.shared.address).await?;
        self.conn_seq += 1;
        let id = ConnId(self.conn_seq);
        self.conn = Some(Conn {
            id,
            out,
            stream,
            writer,
        });
        self.input(Input::Connected {
            conn: id,
            direction: Direction::Outbound,
            principal: Principal::new("server", "server"),
        });
        Ok(())
    }

    /// Closes the connection (a close frame, then the writer ends).
    fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = conn.out.send(WsMessage::Close(None));
            drop(conn.stream);
            drop(conn.writer);
        }
    }

    /// A frame, or the end of the socket; further frames already waiting are taken in the same
    /// batch, then the engine ticks once.
    async fn socket_item(&mut self, item: Option<Result<WsMessage, WsError>>) {
        let mut touched = Vec::new();
        let mut next = Some(item);
        let mut batch = 0;
        while let Some(item) = next.take() {
            match item {
                Some(Ok(WsMessage::Binary(bytes))) => {
                    self.frames_received += 1;
                    self.frame(bytes.to_vec(), &mut touched).await;
                }
                Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => {
                    self.dropped_connection().await;
                    return;
                }
                Some(Ok(_)) => {}
            }
            batch += 1;
            if batch < 256 {
                if let Some(conn) = self.conn.as_mut() {
                    next = conn.stream.next().now_or_never();
                }
            }
        }
        self.input(Input::Tick);
        for document in touched {
            self.observe(document);
        }
    }

    async fn frame(&mut self, bytes: Vec<u8>, touched: &mut Vec<DocumentId>) {
        let Some(conn) = self.conn.as_ref().map(|c| c.id) else {
            return;
        };
        match wire::decode(&bytes, wire::DEFAULT_MAX_FRAME) {
            Ok(message) => {
                if let Some(document) = message.document_id() {
                    if self.watched.contains_key(document) && !touched.contains(document) {
                        touched.push(*document);
                    }
                }
                self.input(Input::Received { conn, message });
            }
            // The engine answers a malformed frame (it closes the connection).
            Err(_) => self.input(Input::Frame { conn, bytes }),
        }
    }

    /// The server (or the network) ended the connection: count it, connect again.
    async fn dropped_connection(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        conn.writer.abort();
        self.joined = false;
        self.input(Input::Disconnected { conn: conn.id });
        if self.finishing {
            return;
        }
        self.dropped += 1;
        let mut last = String::new();
        for attempt in 1..=RECONNECT_ATTEMPTS {
            // A backoff between attempts (not a synchronisation: the server may be overloaded).
            tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
            match self.connect().await {
                Ok(()) => return,
                Err(e) => last = e,
            }
        }
        self.error = Some(format!(
            "dropped, and {RECONNECT_ATTEMPTS} reconnection attempts failed: {last}"
        ));
    }

    async fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Create(documents) => {
                for (id, title) in documents {
                    match new_document(&title) {
                        Ok((doc, notes)) => {
                            self.owned.push(Owned { id, notes });
                            self.input(Input::Create {
                                document: id,
                                content: Box::new(doc),
                            });
                        }
                        Err(e) => self.error = Some(format!("creating {id}: {e}")),
                    }
                }
                self.input(Input::Tick);
            }
            Cmd::Watch(documents) => {
                for document in documents {
                    self.watched.insert(document, Watched::default());
                    self.input(Input::Find { document });
                }
                self.input(Input::Tick);
            }
            Cmd::StartEdits(delay) => {
                self.editing = true;
                self.next_round =
                    (!self.shared.interval.is_zero()).then(|| tokio::time::Instant::now() + delay);
            }
            Cmd::Finish(_) => {}
        }
    }

    /// One round: one edit (one change) to each owned document.
    async fn edit_round(&mut self) {
        self.round += 1;
        let edit = self.round;
        let (text_len, typing) = (self.shared.text_len, self.shared.typing);
        for i in 0..self.owned.len() {
            let pos = self.rnd((edit - 1) * text_len + 1);
            let text = self.rnd_text(text_len);
            let id = self.owned[i].id;
            let notes = self.owned[i].notes.clone();
            self.shared.stamps.set(&id, edit, self.nanos());
            let done = self
                .host
                .engine
                .change_document(&id, |doc| -> Result<(), AutomergeError> {
                    let mut tx = doc.transaction();
                    if !typing {
                        tx.put(ROOT, "n", edit as i64)?;
                    }
                    tx.splice_text(&notes, pos, 0, &text)?;
                    tx.commit();
                    Ok(())
                });
            match done {
                Some(Ok(())) => {}
                Some(Err(e)) => self.error = Some(format!("edit {edit} of {id}: {e}")),
                None => self.error = Some(format!("edit {edit}: {id} is not resident")),
            }
        }
        if edit == self.shared.edits {
            self.edits_done_at = Some(Instant::now());
        }
        if let Some(at) = self.next_round.as_mut() {
            *at += self.shared.interval;
        }
        self.input(Input::Tick);
    }

    /// A watched document may have moved: record the delays of the edits that arrived.
    fn observe(&mut self, document: DocumentId) {
        let Some(w) = self.watched.get_mut(&document) else {
            return;
        };
        let Some(doc) = self.host.engine.document(&document) else {
            return;
        };
        if !w.ready && doc.get(ROOT, "title").ok().flatten().is_some() {
            w.ready = true;
            self.watched_ready += 1;
        }
        // Typing only, `notes` grows by `text_len` per edit (each document has one writer).
        let n = if self.shared.typing {
            notes_len(doc) / self.shared.text_len.max(1)
        } else {
            usize::try_from(read_n(doc)).unwrap_or(0)
        };
        if n > w.seen {
            let now = self.shared.t0.elapsed().as_nanos() as u64;
            for e in w.seen + 1..=n {
                if let Some(at) = self.shared.stamps.get(&document, e) {
                    self.latencies_ms
                        .push(now.saturating_sub(at) as f64 / 1_000_000.0);
                }
            }
            if w.seen < self.shared.edits && n >= self.shared.edits {
                self.watched_complete += 1;
            }
            w.seen = n;
        }
    }

    /// Feeds an input and carries out every effect (storage at once, in memory).
    fn input(&mut self, input: Input) {
        let t0 = self.shared.t0;
        let now = || Millis(t0.elapsed().as_millis() as u64);
        for effect in self.host.handle_at(input, now) {
            match effect {
                Effect::Send { message, .. } => {
                    if let Some(conn) = &self.conn {
                        self.frames_sent += 1;
                        let _ = conn
                            .out
                            .send(WsMessage::Binary(wire::encode(&message).into()));
                    }
                }
                Effect::Close { code, reason, .. } => {
                    self.error = Some(format!(
                        "our engine closed the connection ({code}): {reason}"
                    ));
                    self.close();
                }
                Effect::Storage { .. } => {}
                Effect::Event(Event::PeerJoined { .. }) => self.joined = true,
                Effect::Event(Event::Rejected { reason, .. }) => {
                    self.rejected += 1;
                    self.first_rejection
                        .get_or_insert_with(|| format!("{reason:?}"));
                }
                Effect::Event(Event::StorageFailed { document, error }) => {
                    self.error = Some(format!("storing {document}: {error}"));
                }
                Effect::Event(_) => {}
            }
        }
    }

    fn owned_acked(&self) -> usize {
        let Some(conn) = self.conn.as_ref().map(|c| c.id) else {
            return 0;
        };
        self.owned
            .iter()
            .filter(|o| {
                let (Some(doc), Some(theirs)) = (
                    self.host.engine.document(&o.id),
                    self.host.engine.peer_heads(conn, &o.id),
                ) else {
                    return false;
                };
                same_heads(theirs, doc.get_heads())
            })
            .count()
    }

    fn publish(&mut self) {
        let owned_acked = self.owned_acked();
        if self.all_acked_at.is_none()
            && self.edits_done_at.is_some()
            && owned_acked == self.owned.len()
        {
            self.all_acked_at = Some(Instant::now());
        }
        let status = Status {
            joined: self.joined,
            owned_acked,
            edits_done_at: self.edits_done_at,
            all_acked_at: self.all_acked_at,
            watched_ready: self.watched_ready,
            watched_complete: self.watched_complete,
            dropped: self.dropped,
            error: self.error.clone(),
        };
        self.status.send_if_modified(|s| {
            let changed = *s != status;
            if changed {
                *s = status;
            }
            changed
        });
    }

    fn outcome(&mut self) -> Outcome {
        self.finishing = true;
        let heads = |engine: &Engine<AllowAll>, id: &DocumentId| {
            let mut h = engine
                .document(id)
                .map(|d| d.get_heads())
                .unwrap_or_default();
            h.sort();
            h
        };
        let owned = self
            .owned
            .iter()
            .map(|o| (o.id, heads(&self.host.engine, &o.id)))
            .collect();
        let watched = self
            .watched
            .keys()
            .map(|id| {
                let doc = self.host.engine.document(id);
                Viewed {
                    document: *id,
                    heads: heads(&self.host.engine, id),
                    n: doc.map(read_n).unwrap_or(0),
                    notes_len: doc.map(notes_len).unwrap_or(0),
                    title: doc.and_then(read_title),
                }
            })
            .collect();
        Outcome {
            owned,
            watched,
            latencies_ms: std::mem::take(&mut self.latencies_ms),
            dropped: self.dropped,
            frames_sent: self.frames_sent,
            frames_received: self.frames_received,
            rejected: self.rejected,
            first_rejection: self.first_rejection.clone(),
        }
    }

    /// The JS generator's linear congruential generator (one per client).
    fn rnd(&mut self, n: usize) -> usize {
        self.rng = (self.rng.wrapping_mul(1_103_515_245).wrapping_add(12_345)) & 0x7fff_ffff;
        (self.rng as usize) % n.max(1)
    }

    fn rnd_text(&mut self, len: usize) -> String {
        const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| char::from(ALPHA[self.rnd(ALPHA.len())]))
            .collect()
    }
}
