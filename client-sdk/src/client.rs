//! The sync client: a background thread that owns the engine and the local store, keeps a
//! connection to the regional server (reconnecting with exponential backoff and jitter), and
//! answers the app's calls.
//!
//! Every change the app makes is durable in the local store before the call returns; it is sent
//! when a connection exists, and the server's acknowledgement shows in
//! [`SyncClient::server_heads`].

use std::collections::HashMap;
use std::time::Duration;

use automerge::{Automerge, ChangeHash};
use futures::{SinkExt, StreamExt};
use sync_core::engine::{
    close_code, AllowAll, ConnId, Direction, Effect, Engine, EngineConfig, Event, Input, Millis,
    Principal,
};
use sync_core::storage::{execute, Storage};
use sync_core::wire;
use sync_core::{DocumentId, PeerId};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::error::SdkError;
use crate::transport::{self, ServerAddress};

type DocFn = Box<dyn FnOnce(&mut Automerge) + Send>;
type ReadFn = Box<dyn FnOnce(Option<&Automerge>) + Send>;

/// What the app can watch.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// Connected to the server (handshake done).
    Connected,
    /// Disconnected, with the reason in words.
    Disconnected(String),
    /// Something arrived from the server and was processed (a document may have changed).
    Synced,
    /// A document changed and the change is stored on this device.
    DocumentStored(DocumentId),
    /// The server does not have (or will not share) a document.
    Unavailable(DocumentId),
    /// Ephemeral data (presence) from another peer.
    Ephemeral {
        /// The document.
        document: DocumentId,
        /// Who sent it.
        sender: PeerId,
        /// The payload.
        data: Vec<u8>,
    },
    /// The server revoked this device.
    Revoked,
}

enum Cmd {
    Create(
        DocumentId,
        Box<Automerge>,
        oneshot::Sender<Result<(), SdkError>>,
    ),
    Change(DocumentId, DocFn, oneshot::Sender<Result<(), SdkError>>),
    Find(DocumentId),
    Read(DocumentId, ReadFn),
    ServerHeads(DocumentId, oneshot::Sender<Option<Vec<ChangeHash>>>),
    Broadcast(DocumentId, Vec<u8>),
    SetOnline(bool),
    Opened(u64, mpsc::UnboundedSender<WsMessage>),
    Frame(u64, Vec<u8>),
    Closed(u64, String),
    Shutdown(oneshot::Sender<()>),
}

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

/// A handle to the background sync client.
#[derive(Debug)]
pub struct SyncClient {
    tx: mpsc::UnboundedSender<Cmd>,
    events: broadcast::Sender<ClientEvent>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cmd")
    }
}

impl SyncClient {
    /// Starts the client's thread over a store.
    pub fn start<S: Storage + Clone>(config: ClientConfig, storage: S) -> Result<Self, SdkError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(4096);
        let driver = Driver {
            engine: Engine::new(EngineConfig::client(config.peer_id.clone()), AllowAll),
            storage,
            config,
            events: events.clone(),
            tx: tx.clone(),
            conn: None,
            next_conn: 0,
            pending: HashMap::new(),
            started: std::time::Instant::now(),
            online: true,
            attempt: 0,
        };
        let thread = std::thread::Builder::new()
            .name("kooperacja-sync".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match runtime {
                    Ok(rt) => rt.block_on(driver.run(rx)),
                    Err(e) => tracing::error!(error = %e, "no runtime for the sync client"),
                }
            })
            .map_err(|e| SdkError::Network(e.to_string()))?;
        Ok(Self {
            tx,
            events,
            thread: Some(thread),
        })
    }

    /// Watches what happens.
    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.events.subscribe()
    }

    fn send(&self, cmd: Cmd) -> Result<(), SdkError> {
        self.tx.send(cmd).map_err(|_| SdkError::Stopped)
    }

    /// Adds a new document; it is durable on this device when this returns.
    pub async fn create(&self, document: DocumentId, content: Automerge) -> Result<(), SdkError> {
        let (ack, done) = oneshot::channel();
        self.send(Cmd::Create(document, Box::new(content), ack))?;
        done.await.map_err(|_| SdkError::Stopped)?
    }

    /// Changes a document; the change is durable on this device when this returns.
    pub async fn change<R: Send + 'static>(
        &self,
        document: DocumentId,
        f: impl FnOnce(&mut Automerge) -> R + Send + 'static,
    ) -> Result<R, SdkError> {
        let (result_tx, result_rx) = oneshot::channel();
        let (ack, done) = oneshot::channel();
        let f: DocFn = Box::new(move |doc| {
            let _ = result_tx.send(f(doc));
        });
        self.send(Cmd::Change(document, f, ack))?;
        done.await.map_err(|_| SdkError::Stopped)??;
        result_rx.await.map_err(|_| SdkError::Stopped)
    }

    /// Opens a document from the local store and fetches it from the server.
    pub fn find(&self, document: DocumentId) -> Result<(), SdkError> {
        self.send(Cmd::Find(document))
    }

    /// Reads a document (`None` if it is not on this device).
    pub async fn read<R: Send + 'static>(
        &self,
        document: DocumentId,
        f: impl FnOnce(Option<&Automerge>) -> R + Send + 'static,
    ) -> Result<R, SdkError> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Read(
            document,
            Box::new(move |doc| {
                let _ = tx.send(f(doc));
            }),
        ))?;
        rx.await.map_err(|_| SdkError::Stopped)
    }

    /// This device's heads of a document.
    pub async fn heads(&self, document: DocumentId) -> Result<Option<Vec<ChangeHash>>, SdkError> {
        self.read(document, |d| d.map(|d| d.get_heads())).await
    }

    /// The heads the server last said it holds durably (its acknowledgement).
    pub async fn server_heads(
        &self,
        document: DocumentId,
    ) -> Result<Option<Vec<ChangeHash>>, SdkError> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::ServerHeads(document, tx))?;
        rx.await.map_err(|_| SdkError::Stopped)
    }

    /// Whether the server has acknowledged every change this device has of a document.
    pub async fn is_acknowledged(&self, document: DocumentId) -> Result<bool, SdkError> {
        let mine = self.heads(document).await?;
        let theirs = self.server_heads(document).await?;
        Ok(match (mine, theirs) {
            (Some(mut a), Some(mut b)) => {
                a.sort();
                b.sort();
                a == b
            }
            _ => false,
        })
    }

    /// Sends ephemeral data (presence) about a document.
    pub fn broadcast(&self, document: DocumentId, data: Vec<u8>) -> Result<(), SdkError> {
        self.send(Cmd::Broadcast(document, data))
    }

    /// Goes offline (closes the connection, stops reconnecting) or back online.
    pub fn set_online(&self, online: bool) -> Result<(), SdkError> {
        self.send(Cmd::SetOnline(online))
    }

    /// Waits until `check` holds, re-checking after every event, up to `timeout`.
    pub async fn wait_until<F, Fut>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: F,
    ) -> Result<(), SdkError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<bool, SdkError>>,
    {
        let mut events = self.events();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if check().await? {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Err(_) => return Err(SdkError::Timeout(what.to_string())),
                Ok(Err(broadcast::error::RecvError::Closed)) => return Err(SdkError::Stopped),
                Ok(_) => {}
            }
        }
    }

    /// Stops the client; everything acknowledged as saved stays in the store.
    pub async fn shutdown(mut self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Cmd::Shutdown(ack)).is_ok() {
            let _ = done.await;
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

struct Driver<S: Storage> {
    engine: Engine<AllowAll>,
    storage: S,
    config: ClientConfig,
    events: broadcast::Sender<ClientEvent>,
    tx: mpsc::UnboundedSender<Cmd>,
    conn: Option<(u64, mpsc::UnboundedSender<WsMessage>)>,
    next_conn: u64,
    pending: HashMap<DocumentId, Vec<oneshot::Sender<Result<(), SdkError>>>>,
    started: std::time::Instant,
    online: bool,
    attempt: u32,
}

impl<S: Storage + Clone> Driver<S> {
    fn now(&self) -> Millis {
        Millis(self.started.elapsed().as_millis() as u64)
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Cmd>) {
        self.connect_later(Duration::ZERO);
        while let Some(cmd) = rx.recv().await {
            let mut cmds = vec![cmd];
            while let Ok(more) = rx.try_recv() {
                cmds.push(more);
            }
            for cmd in cmds {
                if let Cmd::Shutdown(ack) = cmd {
                    self.close_connection();
                    let _ = ack.send(());
                    return;
                }
                self.command(cmd).await;
            }
            self.input(Input::Tick).await;
        }
    }

    async fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Create(document, content, ack) => {
                self.pending.entry(document).or_default().push(ack);
                self.input(Input::Create { document, content }).await;
                self.input(Input::Tick).await;
            }
            Cmd::Change(document, f, ack) => {
                if self.engine.change_document(&document, f).is_none() {
                    let _ = ack.send(Err(SdkError::UnknownDocument(document)));
                    return;
                }
                self.pending.entry(document).or_default().push(ack);
                self.input(Input::Tick).await;
                // Nothing to store (an empty change): answer at once.
                if !self.engine.durable_heads(&document).is_some_and(|h| {
                    self.engine
                        .document(&document)
                        .map(|d| d.get_heads())
                        .as_deref()
                        != Some(h)
                }) {
                    self.answer(document, Ok(()));
                }
            }
            Cmd::Find(document) => self.input(Input::Find { document }).await,
            Cmd::Read(document, f) => f(self.engine.document(&document)),
            Cmd::ServerHeads(document, tx) => {
                let heads = self
                    .conn
                    .as_ref()
                    .and_then(|(id, _)| self.engine.peer_heads(ConnId(*id), &document));
                let _ = tx.send(heads);
            }
            Cmd::Broadcast(document, data) => self.input(Input::Broadcast { document, data }).await,
            Cmd::SetOnline(online) => {
                self.online = online;
                if online {
                    self.attempt = 0;
                    self.connect_later(Duration::ZERO);
                } else {
                    self.close_connection();
                }
            }
            Cmd::Opened(id, sink) => {
                if !self.online {
                    return;
                }
                self.attempt = 0;
                self.conn = Some((id, sink));
                self.input(Input::Connected {
                    conn: ConnId(id),
                    direction: Direction::Outbound,
                    principal: Principal::new("server", "server"),
                })
                .await;
            }
            Cmd::Frame(id, bytes) => {
                if self.conn.as_ref().map(|(c, _)| *c) == Some(id) {
                    self.input(Input::Frame {
                        conn: ConnId(id),
                        bytes,
                    })
                    .await;
                    self.input(Input::Tick).await;
                    let _ = self.events.send(ClientEvent::Synced);
                }
            }
            Cmd::Closed(id, reason) => {
                if self.conn.as_ref().map(|(c, _)| *c) == Some(id) {
                    self.conn = None;
                    self.input(Input::Disconnected { conn: ConnId(id) }).await;
                    let _ = self.events.send(ClientEvent::Disconnected(reason.clone()));
                    if reason.starts_with(&close_code::REVOKED.to_string()) {
                        let _ = self.events.send(ClientEvent::Revoked);
                        self.online = false;
                        return;
                    }
                    self.reconnect_with_backoff();
                } else if self.conn.is_none() {
                    // A connection attempt failed.
                    let _ = self.events.send(ClientEvent::Disconnected(reason));
                    self.reconnect_with_backoff();
                }
            }
            Cmd::Shutdown(_) => {}
        }
    }

    fn reconnect_with_backoff(&mut self) {
        if !self.online {
            return;
        }
        self.attempt = self.attempt.saturating_add(1);
        let base = self.config.min_backoff.as_millis() as u64;
        let max = self.config.max_backoff.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << self.attempt.min(16)).min(max);
        let jittered = rand::random_range(exp / 2..=exp.max(1));
        self.connect_later(Duration::from_millis(jittered));
    }

    fn connect_later(&mut self, delay: Duration) {
        let Some(server) = self.config.server.clone() else {
            return;
        };
        if self.conn.is_some() || !self.online {
            return;
        }
        self.next_conn += 1;
        let id = self.next_conn;
        let tx = self.tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            match transport::connect(&server, wire::DEFAULT_MAX_FRAME).await {
                Ok(socket) => pump(id, socket, tx).await,
                Err(e) => {
                    let _ = tx.send(Cmd::Closed(id, e.to_string()));
                }
            }
        });
    }

    fn close_connection(&mut self) {
        if let Some((id, sink)) = self.conn.take() {
            let _ = sink.send(WsMessage::Close(None));
            let effects = self
                .engine
                .handle(self.now(), Input::Disconnected { conn: ConnId(id) });
            drop(effects);
            let _ = self
                .events
                .send(ClientEvent::Disconnected("went offline".into()));
        }
    }

    /// Feeds an input and carries out every effect, storage included (synchronously: a change
    /// is on disk before its caller hears back).
    async fn input(&mut self, input: Input) {
        let mut queue = std::collections::VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let now = self.now();
            for effect in self.engine.handle(now, input) {
                match effect {
                    Effect::Send { message, .. } => {
                        if let Some((_, sink)) = &self.conn {
                            let _ = sink.send(WsMessage::Binary(wire::encode(&message).into()));
                        }
                    }
                    Effect::Close { code, reason, .. } => {
                        let _ = code;
                        tracing::warn!(%reason, "the engine closed the connection");
                        self.close_connection();
                        self.reconnect_with_backoff();
                    }
                    Effect::Storage { task, request } => {
                        let result = execute(&self.storage, request).await;
                        queue.push_back(Input::StorageDone { task, result });
                    }
                    Effect::Event(event) => self.event(event),
                }
            }
        }
    }

    fn answer(&mut self, document: DocumentId, result: Result<(), SdkError>) {
        if let Some(waiters) = self.pending.remove(&document) {
            for w in waiters {
                let r = match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(SdkError::Network(e.to_string())),
                };
                let _ = w.send(r);
            }
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::PeerJoined { .. } => {
                let _ = self.events.send(ClientEvent::Connected);
            }
            Event::DocumentStored { document, .. } => {
                self.answer(document, Ok(()));
                let _ = self.events.send(ClientEvent::DocumentStored(document));
            }
            Event::StorageFailed { document, error } => {
                if let Some(waiters) = self.pending.remove(&document) {
                    for w in waiters {
                        let _ = w.send(Err(SdkError::Storage(error.clone())));
                    }
                }
            }
            Event::DocumentUnavailable { document } => {
                let _ = self.events.send(ClientEvent::Unavailable(document));
            }
            Event::Ephemeral {
                sender_id,
                document,
                data,
                ..
            } => {
                let _ = self.events.send(ClientEvent::Ephemeral {
                    document,
                    sender: sender_id,
                    data,
                });
            }
            _ => {}
        }
    }
}

/// Moves frames between the socket and the driver until either side ends.
async fn pump(id: u64, socket: transport::Socket, tx: mpsc::UnboundedSender<Cmd>) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<WsMessage>();
    if tx.send(Cmd::Opened(id, out_tx)).is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(message) = out_rx.recv().await {
            let closing = matches!(message, WsMessage::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
    });
    let reason = loop {
        match stream.next().await {
            Some(Ok(WsMessage::Binary(bytes))) => {
                if tx.send(Cmd::Frame(id, bytes.to_vec())).is_err() {
                    break "client stopped".to_string();
                }
            }
            Some(Ok(WsMessage::Close(frame))) => {
                break frame
                    .map(|f| format!("{} {}", u16::from(f.code), f.reason))
                    .unwrap_or_else(|| "closed".into());
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => break e.to_string(),
            None => break "connection ended".to_string(),
        }
    };
    writer.abort();
    let _ = tx.send(Cmd::Closed(id, reason));
}
