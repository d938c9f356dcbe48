//! One simulated tablet: a sync-core [`Engine`] in client mode on its own tokio task, with one
//! WebSocket to the server and an in-memory store.
//!
//! The coordinator ([`super::run`]) sends it [`Cmd`]s (create documents, watch documents, start
//! editing, finish) and follows its [`Status`] on a watch channel; the task reports what the
//! server has acknowledged (the heads the server advertised for each owned document, read with
//! [`Engine::peer_heads`]) and, as a watcher, when each edit arrived.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ChangeHash, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use client_sdk::transport::{self, ServerAddress, Socket};
use futures::stream::SplitStream;
use futures::{FutureExt, SinkExt, StreamExt};
use sync_core::engine::{
    AllowAll, ConnId, Direction, Effect, Engine, EngineConfig, Event, Input, Millis, Principal,
};
use sync_core::storage::{execute, MemoryStorage};
use sync_core::{wire, DocumentId, PeerId};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

/// How many times a dropped client tries to connect again before it gives up.
const RECONNECT_ATTEMPTS: u32 = 5;

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
    let client = Client {
        engine: Engine::new(EngineConfig::client(peer_id), AllowAll),
        storage: MemoryStorage::new(),
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
        status: status_tx,
        shared,
    };
    let task = tokio::spawn(client.run(rx));
    Handle {
        label,
        commands: tx,
        status: status_rx,
        task,
    }
}

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

struct Client {
    engine: Engine<AllowAll>,
    storage: MemoryStorage,
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

/// Opens a WebSocket to the server: frames to send go into the returned sender (a writer task
/// feeds them to the socket, flushing once per burst), frames received come from the stream.
pub(super) async fn open(
    address: &ServerAddress,
) -> Result<
    (
        mpsc::UnboundedSender<WsMessage>,
        SplitStream<Socket>,
        JoinHandle<()>,
    ),
    String,
> {
    let socket = transport::connect(address, wire::DEFAULT_MAX_FRAME)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    let (sink, stream) = socket.split();
    let (out, writer) = writer(sink);
    Ok((out, stream, writer))
}

/// Feeds `input` to a client engine and carries out its storage effects at once in `storage`
/// (in memory), feeding their results back; returns every other effect, in order.
pub(super) async fn handle(
    engine: &mut Engine<AllowAll>,
    storage: &MemoryStorage,
    t0: Instant,
    input: Input,
) -> Vec<Effect> {
    let mut out = Vec::new();
    let mut queue = VecDeque::from([input]);
    while let Some(input) = queue.pop_front() {
        let now = Millis(t0.elapsed().as_millis() as u64);
        for effect in engine.handle(now, input) {
            match effect {
                Effect::Storage { task, request } => {
                    let result = execute(storage, request).await;
                    queue.push_back(Input::StorageDone { task, result });
                }
                other => out.push(other),
            }
        }
    }
    out
}

/// A task feeding frames from the returned sender to `sink`, flushing once per burst; it ends
/// after a close frame or when the socket fails.
pub(super) fn writer(
    mut sink: futures::stream::SplitSink<Socket, WsMessage>,
) -> (mpsc::UnboundedSender<WsMessage>, JoinHandle<()>) {
    let (out, mut rx) = mpsc::unbounded_channel::<WsMessage>();
    let task = tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut closing = matches!(first, WsMessage::Close(_));
            if sink.feed(first).await.is_err() {
                return;
            }
            while let Ok(more) = rx.try_recv() {
                closing |= matches!(more, WsMessage::Close(_));
                if sink.feed(more).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() || closing {
                return;
            }
        }
    });
    (out, task)
}

impl Client {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Cmd>) {
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
        })
        .await;
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
        self.input(Input::Tick).await;
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
                self.input(Input::Received { conn, message }).await;
            }
            // The engine answers a malformed frame (it closes the connection).
            Err(_) => self.input(Input::Frame { conn, bytes }).await,
        }
    }

    /// The server (or the network) ended the connection: count it, connect again.
    async fn dropped_connection(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        conn.writer.abort();
        self.joined = false;
        self.input(Input::Disconnected { conn: conn.id }).await;
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
                            })
                            .await;
                        }
                        Err(e) => self.error = Some(format!("creating {id}: {e}")),
                    }
                }
                self.input(Input::Tick).await;
            }
            Cmd::Watch(documents) => {
                for document in documents {
                    self.watched.insert(document, Watched::default());
                    self.input(Input::Find { document }).await;
                }
                self.input(Input::Tick).await;
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
        let text_len = self.shared.text_len;
        for i in 0..self.owned.len() {
            let pos = self.rnd((edit - 1) * text_len + 1);
            let text = self.rnd_text(text_len);
            let id = self.owned[i].id;
            let notes = self.owned[i].notes.clone();
            self.shared.stamps.set(&id, edit, self.nanos());
            let done = self
                .engine
                .change_document(&id, |doc| -> Result<(), AutomergeError> {
                    let mut tx = doc.transaction();
                    tx.put(ROOT, "n", edit as i64)?;
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
        self.input(Input::Tick).await;
    }

    /// A watched document may have moved: record the delays of the edits that arrived.
    fn observe(&mut self, document: DocumentId) {
        let Some(w) = self.watched.get_mut(&document) else {
            return;
        };
        let Some(doc) = self.engine.document(&document) else {
            return;
        };
        if !w.ready && doc.get(ROOT, "title").ok().flatten().is_some() {
            w.ready = true;
            self.watched_ready += 1;
        }
        let n = usize::try_from(read_n(doc)).unwrap_or(0);
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
    async fn input(&mut self, input: Input) {
        let t0 = self.shared.t0;
        for effect in handle(&mut self.engine, &self.storage, t0, input).await {
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
                    self.engine.document(&o.id),
                    self.engine.peer_heads(conn, &o.id),
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
            .map(|o| (o.id, heads(&self.engine, &o.id)))
            .collect();
        let watched = self
            .watched
            .keys()
            .map(|id| {
                let doc = self.engine.document(id);
                Viewed {
                    document: *id,
                    heads: heads(&self.engine, id),
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

/// `{title, n: 0, notes: "", items: []}` and the id of `notes`.
pub(super) fn new_document(title: &str) -> Result<(automerge::Automerge, ObjId), AutomergeError> {
    let mut doc = automerge::Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "title", title)?;
    tx.put(ROOT, "n", 0_i64)?;
    let notes = tx.put_object(ROOT, "notes", ObjType::Text)?;
    tx.put_object(ROOT, "items", ObjType::List)?;
    tx.commit();
    Ok((doc, notes))
}

fn read_n(doc: &automerge::Automerge) -> i64 {
    match doc.get(ROOT, "n") {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Int(i) => *i,
            ScalarValue::Uint(u) => i64::try_from(*u).unwrap_or(i64::MAX),
            ScalarValue::F64(f) => *f as i64,
            _ => 0,
        },
        _ => 0,
    }
}

fn read_title(doc: &automerge::Automerge) -> Option<String> {
    match doc.get(ROOT, "title") {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(t) => Some(t.to_string()),
            _ => None,
        },
        _ => None,
    }
}

fn notes_len(doc: &automerge::Automerge) -> usize {
    match doc.get(ROOT, "notes") {
        Ok(Some((Value::Object(ObjType::Text), id))) => doc.length(&id),
        _ => 0,
    }
}

/// Whether two sets of heads are equal.
pub fn same_heads(mut a: Vec<ChangeHash>, mut b: Vec<ChangeHash>) -> bool {
    a.sort();
    b.sort();
    a == b
}
