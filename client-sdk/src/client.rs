//! The sync client: a background thread that owns the engine and the local store, keeps a
//! connection to the regional server (reconnecting with exponential backoff and jitter), and
//! answers the app's calls.
//!
//! Every change the app makes is durable in the local store before the call returns; it is sent
//! when a connection exists, and the server's acknowledgement shows in
//! [`SyncClient::server_heads`] and in the [`SyncStatus`] the client publishes.
//!
//! On start the client loads every document in its store (the engine only knows the documents
//! it is told about), so documents kept on the device are offered to the server at once and
//! changes not yet acknowledged are sent again: nothing needs to be remembered across an app
//! kill beyond the store itself.
//!
//! A [`crate::Tablet`] runs the same client with more duties: before each connection it fetches
//! the documents its user may hold (`GET /api/v1/me/documents`), fetches those it lacks and
//! removes those it may no longer hold; on revocation it wipes the store; and it buffers
//! keystrokes of text sessions into few changes.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, Automerge, AutomergeError, ChangeHash, Cursor, ObjId, ObjType, ReadDoc, Value, ROOT,
};
use chrono::{DateTime, Utc};
use futures::{SinkExt, StreamExt};
use sha2::{Digest, Sha256};
use sync_core::engine::{
    close_code, AllowAll, ConnId, Direction, Effect, Engine, EngineConfig, Event, Input, Millis,
    Principal,
};
use sync_core::model::{self, DocumentKind, Editor};
use sync_core::storage::{execute, Storage};
use sync_core::wire::{self, Message};
use sync_core::{DocumentId, PeerId};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::AbortHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::error::SdkError;
use crate::http::Listed;
use crate::status::{SyncState, SyncStatus};
use crate::store::{MemoryMeta, Meta, ACTOR};
use crate::transport::{self, ServerAddress};

type Ack = oneshot::Sender<Result<(), SdkError>>;
/// An edit run on the client's thread; an error leaves the document unchanged.
pub(crate) type EditFn = Box<dyn FnOnce(&mut Automerge) -> Result<(), SdkError> + Send>;
type ReadFn = Box<dyn FnOnce(Option<&Automerge>) + Send>;

/// Names of the client's state entries (see [`crate::store`]).
mod key {
    /// Heads the server acknowledged, per document: `acked/<document id>`.
    pub(super) const ACKED: &str = "acked/";
    /// Documents created here and not yet acknowledged: `new/<document id>`.
    pub(super) const NEW: &str = "new/";
    /// SHA-256 of the token the server last accepted.
    pub(super) const TOKEN: &str = "token";
    /// When the client was last up to date (milliseconds since the epoch, big-endian).
    pub(super) const LAST_SYNC: &str = "last-sync";
}

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
    /// The server revoked this device (a tablet has wiped its store when this arrives).
    Revoked,
    /// A document was removed from this device: its user may no longer hold it.
    Removed(DocumentId),
}

/// A document held on this device, as [`SyncClient::documents`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalDocument {
    /// Its id.
    pub id: DocumentId,
    /// Its kind, once its content is here and names a known kind.
    pub kind: Option<DocumentKind>,
    /// Changes made here that the server has not acknowledged yet.
    pub pending_changes: usize,
    /// Whether the server has stored some version of it (false for a document created here
    /// and never acknowledged).
    pub on_server: bool,
    /// Whether the server lets this user only read it (edits are refused on the device).
    pub read_only: bool,
}

/// Where a text session writes: the map keys from the root to an Automerge Text, and the label
/// used in commit messages (`diagnosis/housing`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TextTarget {
    pub(crate) path: Vec<String>,
    pub(crate) label: String,
}

/// One keystroke-level edit of a text session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Inserts at the cursor and moves the cursor past the insertion.
    Type(String),
    /// Deletes up to this many characters before the cursor.
    Backspace(usize),
    /// Deletes `del` characters at `pos` and inserts `insert` there; the cursor follows.
    Splice {
        pos: usize,
        del: usize,
        insert: String,
    },
    /// Moves the cursor.
    MoveCursor(usize),
}

/// A text session's requests.
#[derive(Debug)]
pub(crate) enum SessionCmd {
    Open {
        document: DocumentId,
        target: TextTarget,
        ack: Ack,
    },
    Edit(Edit),
    Read(oneshot::Sender<Option<(String, usize)>>),
    Commit(Ack),
    Switch {
        target: TextTarget,
        ack: Ack,
    },
    Close(Option<Ack>),
}

/// How a connection ended.
#[derive(Debug)]
enum Ended {
    /// It never opened.
    Failed(SdkError),
    /// It closed, with the WebSocket close code when there was one.
    Closed { code: Option<u16>, reason: String },
}

enum Cmd {
    Create(DocumentId, Box<Automerge>, Ack),
    Change(DocumentId, EditFn, Ack),
    Find(DocumentId),
    Read(DocumentId, ReadFn),
    ServerHeads(DocumentId, oneshot::Sender<Option<Vec<ChangeHash>>>),
    Documents(oneshot::Sender<Vec<LocalDocument>>),
    Broadcast(DocumentId, Vec<u8>),
    SetOnline(bool),
    Session(u64, SessionCmd),
    Attempting(u64),
    Listed(u64, Result<Vec<Listed>, SdkError>),
    /// Fetch the server's document list again now (tablets, while connected).
    Refresh,
    /// The list fetched again while connection `u64` was open.
    Refreshed(u64, Result<Vec<Listed>, SdkError>),
    Opened(u64, mpsc::UnboundedSender<WsMessage>),
    Frame(u64, Vec<u8>),
    Closed(u64, Ended),
    Shutdown(oneshot::Sender<()>),
    /// The handle was dropped: stop at once, as if the app were killed.
    Stop,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cmd")
    }
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

/// The tablet's duties on top of plain syncing (see the [module documentation](self)).
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Fetch the document list before connecting, prune, wipe on revocation, stop on a token
    /// that was never accepted.
    pub(crate) tablet: bool,
    /// Connect at start.
    pub(crate) online: bool,
    /// Removed after a revocation wiped the store (directories and files).
    pub(crate) wipe_paths: Vec<PathBuf>,
    /// The user recorded as author of text-session commits.
    pub(crate) author: Option<Editor>,
    /// A text session commits after this long without a keystroke.
    pub(crate) idle_commit: Duration,
    /// While connected, fetch the server's document list again this often (tablets).
    pub(crate) refresh_every: Option<Duration>,
}

impl Options {
    fn plain() -> Self {
        Self {
            tablet: false,
            online: true,
            wipe_paths: Vec::new(),
            author: None,
            idle_commit: Duration::from_secs(1),
            refresh_every: None,
        }
    }
}

/// What the client's thread reports once its store is open and its documents are loaded.
#[derive(Debug)]
pub(crate) struct Ready {
    /// This device's Automerge actor, when the store keeps one.
    pub(crate) actor: Option<ActorId>,
}

/// A handle to the background sync client.
///
/// Dropping it without [`SyncClient::shutdown`] stops the client's thread at once, as if the
/// app had been killed: text-session keystrokes not yet committed are lost, everything else is
/// already on disk.
/// Sends ephemeral data through a [`SyncClient`] (see [`SyncClient::broadcast`]).
#[derive(Clone, Debug)]
pub(crate) struct EphemeralSender(mpsc::UnboundedSender<Cmd>);

impl EphemeralSender {
    pub(crate) fn send(&self, document: DocumentId, data: Vec<u8>) -> Result<(), SdkError> {
        self.0
            .send(Cmd::Broadcast(document, data))
            .map_err(|_| SdkError::Stopped)
    }
}

#[derive(Debug)]
pub struct SyncClient {
    tx: mpsc::UnboundedSender<Cmd>,
    events: broadcast::Sender<ClientEvent>,
    status: watch::Receiver<SyncStatus>,
    status_changes: broadcast::Sender<SyncStatus>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SyncClient {
    /// Starts the client's thread over a store (its documents are loaded and offered).
    pub fn start<S: Storage + Clone>(config: ClientConfig, storage: S) -> Result<Self, SdkError> {
        let (client, _ready) = spawn(config, Options::plain(), move || {
            Ok((storage, MemoryMeta::default()))
        })?;
        Ok(client)
    }

    /// Watches what happens.
    pub fn events(&self) -> broadcast::Receiver<ClientEvent> {
        self.events.subscribe()
    }

    /// The latest sync status (a UI binds to this).
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Every change of the sync status from now on, in order.
    pub fn status_changes(&self) -> broadcast::Receiver<SyncStatus> {
        self.status_changes.subscribe()
    }

    fn stopped(&self) -> SdkError {
        if self.status.borrow().state == SyncState::Revoked {
            SdkError::Revoked
        } else {
            SdkError::Stopped
        }
    }

    fn send(&self, cmd: Cmd) -> Result<(), SdkError> {
        self.tx.send(cmd).map_err(|_| self.stopped())
    }

    async fn ask<T>(&self, rx: oneshot::Receiver<T>) -> Result<T, SdkError> {
        rx.await.map_err(|_| self.stopped())
    }

    /// Adds a new document; it is durable on this device when this returns.
    pub async fn create(&self, document: DocumentId, content: Automerge) -> Result<(), SdkError> {
        let (ack, done) = oneshot::channel();
        self.send(Cmd::Create(document, Box::new(content), ack))?;
        self.ask(done).await?
    }

    /// Changes a document; the change is durable on this device when this returns.
    pub async fn change<R: Send + 'static>(
        &self,
        document: DocumentId,
        f: impl FnOnce(&mut Automerge) -> R + Send + 'static,
    ) -> Result<R, SdkError> {
        let (result_tx, result_rx) = oneshot::channel();
        self.edit(
            document,
            Box::new(move |doc| {
                let _ = result_tx.send(f(doc));
                Ok(())
            }),
        )
        .await?;
        self.ask(result_rx).await
    }

    /// Runs an edit that may fail (leaving the document unchanged); durable on return.
    pub(crate) async fn edit(&self, document: DocumentId, f: EditFn) -> Result<(), SdkError> {
        let (ack, done) = oneshot::channel();
        self.send(Cmd::Change(document, f, ack))?;
        self.ask(done).await?
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
        self.ask(rx).await
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
        self.ask(rx).await
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

    /// The documents on this device (and those the server listed that are still arriving).
    pub async fn documents(&self) -> Result<Vec<LocalDocument>, SdkError> {
        let (tx, rx) = oneshot::channel();
        self.send(Cmd::Documents(tx))?;
        self.ask(rx).await
    }

    /// Sends ephemeral data (presence) about a document.
    pub fn broadcast(&self, document: DocumentId, data: Vec<u8>) -> Result<(), SdkError> {
        self.send(Cmd::Broadcast(document, data))
    }

    /// A handle that sends ephemeral data through this client, for tasks that outlive a borrow.
    pub(crate) fn ephemeral_sender(&self) -> EphemeralSender {
        EphemeralSender(self.tx.clone())
    }

    /// Goes offline (closes the connection, stops reconnecting) or back online.
    pub fn set_online(&self, online: bool) -> Result<(), SdkError> {
        self.send(Cmd::SetOnline(online))
    }

    /// Fetches the server's document list again now (a tablet does it at every connection and
    /// periodically while connected): new documents are fetched, those no longer listed go.
    pub fn refresh_documents(&self) -> Result<(), SdkError> {
        self.send(Cmd::Refresh)
    }

    /// A sender for a text session's requests that outlives borrows of this handle.
    pub(crate) fn session_sender(&self) -> SessionSender {
        SessionSender {
            tx: self.tx.clone(),
        }
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
                Ok(Err(broadcast::error::RecvError::Closed)) => return Err(self.stopped()),
                Ok(_) => {}
            }
        }
    }

    /// Waits until the sync status satisfies `check`, up to `timeout`; returns that status.
    pub async fn wait_for_status(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&SyncStatus) -> bool,
    ) -> Result<SyncStatus, SdkError> {
        let mut status = self.status.clone();
        let waited = tokio::time::timeout(timeout, status.wait_for(|s| check(s))).await;
        match waited {
            Err(_) => Err(SdkError::Timeout(format!(
                "{what} (the status is: {})",
                *self.status.borrow()
            ))),
            Ok(Err(_)) => Err(self.stopped()),
            Ok(Ok(found)) => Ok(found.clone()),
        }
    }

    /// Waits until the client's thread has stopped (after a revocation it has also removed the
    /// store by then). Never returns while the client runs.
    pub async fn until_stopped(&self) {
        let mut status = self.status.clone();
        while status.changed().await.is_ok() {}
    }

    /// Stops the client: open text sessions are committed, the connection is closed, and
    /// everything acknowledged as saved stays in the store.
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

impl Drop for SyncClient {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = self.tx.send(Cmd::Stop);
            let _ = thread.join();
        }
    }
}

/// Sends a text session's requests to the client's thread.
#[derive(Clone, Debug)]
pub(crate) struct SessionSender {
    tx: mpsc::UnboundedSender<Cmd>,
}

impl SessionSender {
    /// Sends; `false` when the client has stopped.
    pub(crate) fn send(&self, id: u64, cmd: SessionCmd) -> bool {
        self.tx.send(Cmd::Session(id, cmd)).is_ok()
    }
}

/// Starts the client's thread: `open` runs there (opening a store blocks), then the documents
/// in the store are loaded and the returned receiver hears [`Ready`] (or why it failed).
pub(crate) fn spawn<S, M, F>(
    config: ClientConfig,
    options: Options,
    open: F,
) -> Result<(SyncClient, oneshot::Receiver<Result<Ready, SdkError>>), SdkError>
where
    S: Storage + Clone,
    M: Meta,
    F: FnOnce() -> Result<(S, M), SdkError> + Send + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel();
    let (events, _) = broadcast::channel(4096);
    let (status_tx, status_rx) = watch::channel(SyncStatus::offline());
    let (status_changes, _) = broadcast::channel(1024);
    let (ready_tx, ready_rx) = oneshot::channel();
    let driver_tx = tx.clone();
    let driver_events = events.clone();
    let driver_changes = status_changes.clone();
    let thread = std::thread::Builder::new()
        .name("kooperacja-sync".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(SdkError::Network(format!("no runtime: {e}"))));
                    return;
                }
            };
            let (storage, meta) = match open() {
                Ok(opened) => opened,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let wipe_paths = options.wipe_paths.clone();
            let driver = Driver {
                engine: Engine::new(EngineConfig::client(config.peer_id.clone()), AllowAll),
                storage,
                meta,
                online: options.online,
                config,
                options,
                events: driver_events,
                status: status_tx,
                status_changes: driver_changes,
                tx: driver_tx,
                conn: None,
                joined: false,
                conn_task: None,
                next_conn: 0,
                attempt: None,
                attempting: false,
                failures: 0,
                pending: HashMap::new(),
                started: std::time::Instant::now(),
                revoked: false,
                stop: false,
                actor: None,
                known: BTreeSet::new(),
                unavailable: BTreeSet::new(),
                local_new: BTreeSet::new(),
                read_only: BTreeSet::new(),
                acked: HashMap::new(),
                in_sync: BTreeSet::new(),
                pending_changes: HashMap::new(),
                touched: BTreeSet::new(),
                last_sync: None,
                last_error: None,
                sessions: HashMap::new(),
                next_refresh: None,
            };
            let (wiped, status) = runtime.block_on(driver.start_and_run(rx, ready_tx));
            drop(runtime);
            for path in wipe_paths.iter().filter(|_| wiped) {
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(path)
                } else {
                    std::fs::remove_file(path)
                };
                if let Err(e) = removed {
                    tracing::warn!(error = %e, path = %path.display(), "removing the wiped store");
                }
            }
            // Watchers of the status learn now that the client has stopped (and wiped).
            drop(status);
        })
        .map_err(|e| SdkError::Network(e.to_string()))?;
    Ok((
        SyncClient {
            tx,
            events,
            status: status_rx,
            status_changes,
            thread: Some(thread),
        },
        ready_rx,
    ))
}

/// An open text session on the client's thread.
struct Session {
    document: DocumentId,
    target: TextTarget,
    /// The text as the user sees it: the document's text with the buffered edits applied.
    text: Vec<char>,
    cursor: usize,
    /// Buffered splices `(pos, del, insert)`, each relative to the text after the previous.
    ops: Vec<(usize, usize, String)>,
    /// When to commit if no keystroke comes first.
    deadline: Option<tokio::time::Instant>,
    /// The cursor as an Automerge cursor while a remote change is applied.
    mark: Option<Cursor>,
}

impl Session {
    fn splice(&mut self, pos: usize, del: usize, insert: &str) {
        let pos = pos.min(self.text.len());
        let del = del.min(self.text.len() - pos);
        if del == 0 && insert.is_empty() {
            return;
        }
        self.text.splice(pos..pos + del, insert.chars());
        let inserted = insert.chars().count();
        self.cursor = pos + inserted;
        // Consecutive typing becomes one splice.
        if let Some((last_pos, 0, last_insert)) = self.ops.last_mut() {
            if del == 0 && pos == *last_pos + last_insert.chars().count() {
                last_insert.push_str(insert);
                return;
            }
        }
        self.ops.push((pos, del, insert.to_owned()));
    }

    fn edit(&mut self, edit: Edit) {
        match edit {
            Edit::Type(text) => self.splice(self.cursor, 0, &text),
            Edit::Backspace(n) => {
                let n = n.min(self.cursor);
                self.splice(self.cursor - n, n, "");
            }
            Edit::Splice { pos, del, insert } => self.splice(pos, del, &insert),
            Edit::MoveCursor(pos) => self.cursor = pos.min(self.text.len()),
        }
    }
}

/// The Text object at `path` (map keys from the root).
pub(crate) fn text_object(doc: &Automerge, path: &[String]) -> Result<ObjId, SdkError> {
    let shown = path.join("/");
    let mut obj = ROOT;
    for (i, key) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        match doc.get(&obj, key.as_str())? {
            Some((Value::Object(ObjType::Text), id)) if last => return Ok(id),
            Some((Value::Object(ObjType::Map), id)) if !last => obj = id,
            _ => {
                return Err(SdkError::Invalid(format!(
                    "{shown} is not a text field of this document"
                )))
            }
        }
    }
    Err(SdkError::Invalid(
        "an empty path names no text field".into(),
    ))
}

fn heads_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

fn heads_from_bytes(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes
        .chunks_exact(32)
        .filter_map(|c| ChangeHash::try_from(c).ok())
        .collect()
}

struct Driver<S: Storage, M: Meta> {
    engine: Engine<AllowAll>,
    storage: S,
    meta: M,
    config: ClientConfig,
    options: Options,
    events: broadcast::Sender<ClientEvent>,
    status: watch::Sender<SyncStatus>,
    status_changes: broadcast::Sender<SyncStatus>,
    tx: mpsc::UnboundedSender<Cmd>,
    conn: Option<(u64, mpsc::UnboundedSender<WsMessage>)>,
    /// The handshake on `conn` is done.
    joined: bool,
    /// The task of the connection attempt (and then of the connection).
    conn_task: Option<AbortHandle>,
    next_conn: u64,
    /// The connection attempt scheduled or under way.
    attempt: Option<u64>,
    /// The attempt has started (its delay is over).
    attempting: bool,
    /// Consecutive failures, for the backoff.
    failures: u32,
    pending: HashMap<DocumentId, Vec<Ack>>,
    started: std::time::Instant,
    online: bool,
    revoked: bool,
    /// Leave the loop after this command (a revoked tablet).
    stop: bool,
    actor: Option<ActorId>,
    /// The documents this device holds or is fetching.
    known: BTreeSet<DocumentId>,
    /// Documents the server said it does not have.
    unavailable: BTreeSet<DocumentId>,
    /// Documents created here and not yet acknowledged by the server.
    local_new: BTreeSet<DocumentId>,
    /// Documents the server lets this user only read.
    read_only: BTreeSet<DocumentId>,
    /// The heads the server last acknowledged, per document (sorted).
    acked: HashMap<DocumentId, Vec<ChangeHash>>,
    /// Documents whose heads equal the server's on the current connection.
    in_sync: BTreeSet<DocumentId>,
    /// Unacknowledged changes per document.
    pending_changes: HashMap<DocumentId, usize>,
    /// Documents whose status must be recomputed.
    touched: BTreeSet<DocumentId>,
    last_sync: Option<DateTime<Utc>>,
    last_error: Option<String>,
    sessions: HashMap<u64, Session>,
    /// When to fetch the server's document list again.
    next_refresh: Option<tokio::time::Instant>,
}

impl<S: Storage + Clone, M: Meta> Driver<S, M> {
    fn now(&self) -> Millis {
        Millis(self.started.elapsed().as_millis() as u64)
    }

    /// Loads the state and the stored documents, reports readiness, then serves until stopped.
    /// Returns whether the store was wiped (revocation), and the status sender, which the
    /// thread drops last so that watchers learn the client has stopped once it really has.
    async fn start_and_run(
        mut self,
        rx: mpsc::UnboundedReceiver<Cmd>,
        ready: oneshot::Sender<Result<Ready, SdkError>>,
    ) -> (bool, watch::Sender<SyncStatus>) {
        match self.load().await {
            Ok(()) => {
                let _ = ready.send(Ok(Ready {
                    actor: self.actor.clone(),
                }));
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return (false, self.status);
            }
        }
        let wiped = self.run(rx).await;
        (wiped, self.status)
    }

    async fn load(&mut self) -> Result<(), SdkError> {
        self.actor = self.meta.get(ACTOR)?.map(ActorId::from);
        for name in self.meta.keys(key::NEW)? {
            if let Ok(id) = DocumentId::parse(&name[key::NEW.len()..]) {
                self.local_new.insert(id);
            }
        }
        for name in self.meta.keys(key::ACKED)? {
            if let (Ok(id), Some(bytes)) = (
                DocumentId::parse(&name[key::ACKED.len()..]),
                self.meta.get(&name)?,
            ) {
                self.acked.insert(id, heads_from_bytes(&bytes));
            }
        }
        if let Some(bytes) = self.meta.get(key::LAST_SYNC)? {
            if let Ok(millis) = <[u8; 8]>::try_from(bytes.as_slice()) {
                self.last_sync = DateTime::from_timestamp_millis(i64::from_be_bytes(millis));
            }
        }
        for document in self.storage.list().await? {
            self.known.insert(document);
            self.touched.insert(document);
            self.input(Input::Find { document }).await;
        }
        Ok(())
    }

    async fn run(&mut self, mut rx: mpsc::UnboundedReceiver<Cmd>) -> bool {
        self.connect_later(Duration::ZERO);
        self.publish_status();
        loop {
            let deadline = self
                .sessions
                .values()
                .filter_map(|s| s.deadline)
                .chain(self.next_refresh)
                .min();
            let first = tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => Some(cmd),
                    None => return false,
                },
                () = sleep_until(deadline), if deadline.is_some() => None,
            };
            let mut cmds: Vec<Cmd> = first.into_iter().collect();
            if self
                .next_refresh
                .is_some_and(|at| at <= tokio::time::Instant::now())
            {
                cmds.push(Cmd::Refresh);
            }
            while let Ok(more) = rx.try_recv() {
                cmds.push(more);
            }
            for cmd in cmds {
                match cmd {
                    Cmd::Stop => return false,
                    Cmd::Shutdown(ack) => {
                        self.commit_all_sessions().await;
                        self.close_connection("the app shut the client down");
                        let _ = ack.send(());
                        return false;
                    }
                    cmd => self.command(cmd).await,
                }
                if self.stop {
                    self.publish_status();
                    return true;
                }
            }
            self.commit_idle_sessions().await;
            self.input(Input::Tick).await;
            self.publish_status();
        }
    }

    async fn command(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Create(document, content, ack) => {
                if self.revoked {
                    let _ = ack.send(Err(SdkError::Revoked));
                    return;
                }
                self.local_new.insert(document);
                let marked = self
                    .meta
                    .put(&format!("{}{document}", key::NEW), &[])
                    .and_then(|()| self.meta.flush());
                if let Err(e) = marked {
                    let _ = ack.send(Err(e.into()));
                    return;
                }
                self.known.insert(document);
                self.touched.insert(document);
                self.pending.entry(document).or_default().push(ack);
                self.input(Input::Create { document, content }).await;
                self.input(Input::Tick).await;
            }
            Cmd::Change(document, f, ack) => self.apply_change(document, f, Some(ack)).await,
            Cmd::Find(document) => {
                self.known.insert(document);
                self.touched.insert(document);
                self.input(Input::Find { document }).await;
            }
            Cmd::Read(document, f) => f(self.engine.document(&document)),
            Cmd::ServerHeads(document, tx) => {
                let _ = tx.send(self.server_heads(&document));
            }
            Cmd::Documents(tx) => {
                let _ = tx.send(self.local_documents());
            }
            Cmd::Broadcast(document, data) => self.input(Input::Broadcast { document, data }).await,
            Cmd::SetOnline(online) => {
                if self.revoked {
                    return;
                }
                self.online = online;
                if online {
                    self.failures = 0;
                    self.connect_later(Duration::ZERO);
                } else {
                    self.close_connection("went offline");
                    self.abort_attempt();
                }
            }
            Cmd::Session(id, cmd) => self.session(id, cmd).await,
            Cmd::Refresh => self.refresh(),
            Cmd::Refreshed(id, listed) => {
                if self.conn_id() != Some(id) {
                    return;
                }
                match listed {
                    Ok(list) => self.refreshed(list).await,
                    Err(SdkError::Unauthorized(why)) => {
                        self.close_connection("the server refused the token");
                        self.unauthorized(why).await;
                    }
                    Err(e) => tracing::info!(error = %e, "refreshing the document list"),
                }
            }
            Cmd::Attempting(id) => {
                if self.attempt == Some(id) {
                    self.attempting = true;
                }
            }
            Cmd::Listed(id, listed) => {
                if self.attempt != Some(id) {
                    return;
                }
                match listed {
                    Ok(list) => {
                        self.token_accepted();
                        self.listed(list).await;
                    }
                    Err(e) => self.attempt_failed(e).await,
                }
            }
            Cmd::Opened(id, sink) => {
                if self.attempt != Some(id) || !self.online {
                    let _ = sink.send(WsMessage::Close(None));
                    return;
                }
                self.attempt = None;
                self.attempting = false;
                self.failures = 0;
                self.token_accepted();
                self.conn = Some((id, sink));
                self.input(Input::Connected {
                    conn: ConnId(id),
                    direction: Direction::Outbound,
                    principal: Principal::new("server", "server"),
                })
                .await;
            }
            Cmd::Frame(id, bytes) => {
                if self.conn_id() == Some(id) {
                    self.frame(id, bytes).await;
                }
            }
            Cmd::Closed(id, ended) => {
                if self.conn_id() == Some(id) {
                    self.conn = None;
                    self.conn_task = None;
                    self.joined = false;
                    self.next_refresh = None;
                    self.in_sync.clear();
                    self.input(Input::Disconnected { conn: ConnId(id) }).await;
                    match ended {
                        Ended::Closed {
                            code: Some(close_code::REVOKED),
                            reason,
                        } => {
                            let _ = self
                                .events
                                .send(ClientEvent::Disconnected(format!("4001 {reason}")));
                            self.revoke().await;
                        }
                        Ended::Closed { code, reason } => {
                            let words = match code {
                                Some(code) => {
                                    format!("the server closed the connection ({code}): {reason}")
                                }
                                None => format!("the connection ended: {reason}"),
                            };
                            self.last_error = Some(words.clone());
                            let _ = self.events.send(ClientEvent::Disconnected(words));
                            self.reconnect_with_backoff();
                        }
                        Ended::Failed(e) => {
                            self.last_error = Some(e.to_string());
                            let _ = self.events.send(ClientEvent::Disconnected(e.to_string()));
                            self.reconnect_with_backoff();
                        }
                    }
                } else if self.attempt == Some(id) {
                    let error = match ended {
                        Ended::Failed(e) => e,
                        Ended::Closed { reason, .. } => SdkError::Network(reason),
                    };
                    self.attempt_failed(error).await;
                }
            }
            Cmd::Shutdown(_) | Cmd::Stop => {}
        }
    }

    fn conn_id(&self) -> Option<u64> {
        self.conn.as_ref().map(|(id, _)| *id)
    }

    fn server_heads(&self, document: &DocumentId) -> Option<Vec<ChangeHash>> {
        let id = self.conn_id()?;
        self.engine.peer_heads(ConnId(id), document)
    }

    async fn frame(&mut self, id: u64, bytes: Vec<u8>) {
        let conn = ConnId(id);
        let message = match wire::decode(&bytes, wire::DEFAULT_MAX_FRAME) {
            Ok(message) => message,
            Err(_) => {
                // The engine answers a malformed frame.
                self.input(Input::Frame { conn, bytes }).await;
                return;
            }
        };
        let document = message.document_id().copied();
        let remote_edit = document
            .filter(|d| self.sessions.values().any(|s| s.document == *d))
            .filter(|_| carries_changes(&message));
        if let Some(document) = remote_edit {
            self.before_remote_change(document).await;
        }
        self.input(Input::Received { conn, message }).await;
        self.input(Input::Tick).await;
        if let Some(document) = remote_edit {
            self.after_remote_change(document);
        }
        if let Some(document) = document {
            self.touched.insert(document);
        }
        let _ = self.events.send(ClientEvent::Synced);
    }

    /// Carries out a local edit: stored when this returns, waiters answered.
    async fn apply_change(&mut self, document: DocumentId, f: EditFn, ack: Option<Ack>) {
        let refused = if self.revoked {
            Some(SdkError::Revoked)
        } else if self.read_only.contains(&document) {
            Some(SdkError::ReadOnly(document))
        } else {
            None
        };
        if let Some(refused) = refused {
            if let Some(ack) = ack {
                let _ = ack.send(Err(refused));
            }
            return;
        }
        let actor = self.actor.clone();
        let outcome = self.engine.change_document(&document, move |doc| {
            if let Some(actor) = actor {
                doc.set_actor(actor);
            }
            f(doc)
        });
        match outcome {
            None => {
                if let Some(ack) = ack {
                    let _ = ack.send(Err(SdkError::UnknownDocument(document)));
                }
                return;
            }
            Some(Err(e)) => {
                if let Some(ack) = ack {
                    let _ = ack.send(Err(e));
                }
                return;
            }
            Some(Ok(())) => {}
        }
        self.touched.insert(document);
        if let Some(ack) = ack {
            self.pending.entry(document).or_default().push(ack);
        }
        self.input(Input::Tick).await;
        // Nothing to store (an empty change), or stored already: answer at once.
        let current = self.engine.document(&document).map(|d| d.get_heads());
        if self
            .engine
            .durable_heads(&document)
            .map(<[ChangeHash]>::to_vec)
            == current
        {
            self.publish_status();
            self.answer(document, Ok(()));
        }
    }

    // ----- text sessions -----

    async fn session(&mut self, id: u64, cmd: SessionCmd) {
        match cmd {
            SessionCmd::Open {
                document,
                target,
                ack,
            } => {
                self.commit_document_sessions(document, Some(id)).await;
                let opened = self.open_session(document, target);
                let _ = ack.send(opened.map(|session| {
                    self.sessions.insert(id, session);
                }));
            }
            SessionCmd::Edit(edit) => {
                let idle = self.options.idle_commit;
                if let Some(session) = self.sessions.get_mut(&id) {
                    let typed = !matches!(edit, Edit::MoveCursor(_));
                    session.edit(edit);
                    if typed && !session.ops.is_empty() {
                        session.deadline = Some(tokio::time::Instant::now() + idle);
                    }
                }
            }
            SessionCmd::Read(tx) => {
                let _ = tx.send(
                    self.sessions
                        .get(&id)
                        .map(|s| (s.text.iter().collect(), s.cursor)),
                );
            }
            SessionCmd::Commit(ack) => self.commit_session(id, Some(ack)).await,
            SessionCmd::Switch { target, ack } => {
                self.commit_session(id, None).await;
                let Some(document) = self.sessions.get(&id).map(|s| s.document) else {
                    let _ = ack.send(Err(SdkError::Invalid("the text session is closed".into())));
                    return;
                };
                self.commit_document_sessions(document, Some(id)).await;
                let switched = self.open_session(document, target).map(|session| {
                    self.sessions.insert(id, session);
                });
                let _ = ack.send(switched);
            }
            SessionCmd::Close(ack) => {
                self.commit_session(id, ack).await;
                self.sessions.remove(&id);
            }
        }
    }

    fn open_session(&self, document: DocumentId, target: TextTarget) -> Result<Session, SdkError> {
        if self.read_only.contains(&document) {
            return Err(SdkError::ReadOnly(document));
        }
        let doc = self
            .engine
            .document(&document)
            .ok_or(SdkError::UnknownDocument(document))?;
        let obj = text_object(doc, &target.path)?;
        let text: Vec<char> = doc.text(&obj)?.chars().collect();
        Ok(Session {
            document,
            target,
            cursor: text.len(),
            text,
            ops: Vec::new(),
            deadline: None,
            mark: None,
        })
    }

    /// Commits a session's buffered keystrokes as one change (durable when `ack` hears back).
    async fn commit_session(&mut self, id: u64, ack: Option<Ack>) {
        let Some(session) = self.sessions.get_mut(&id) else {
            if let Some(ack) = ack {
                let _ = ack.send(Ok(()));
            }
            return;
        };
        session.deadline = None;
        if session.ops.is_empty() {
            if let Some(ack) = ack {
                let _ = ack.send(Ok(()));
            }
            return;
        }
        let ops = std::mem::take(&mut session.ops);
        let document = session.document;
        let path = session.target.path.clone();
        let message = commit_message(
            &format!("{}: edited", session.target.label),
            self.options.author.as_ref(),
        );
        let at = Utc::now().timestamp();
        let edit: EditFn = Box::new(move |doc| {
            let obj = text_object(doc, &path)?;
            doc.transact_with(
                |_| CommitOptions::default().with_message(message).with_time(at),
                |tx| {
                    for (pos, del, insert) in &ops {
                        let len = tx.length(&obj);
                        let pos = (*pos).min(len);
                        let del = (*del).min(len - pos);
                        tx.splice_text(&obj, pos, del as isize, insert)?;
                    }
                    Ok::<(), AutomergeError>(())
                },
            )
            .map(|_| ())
            .map_err(|failure| SdkError::Automerge(failure.error))
        });
        self.apply_change(document, edit, ack).await;
    }

    /// Commits every other session of a document (the user moved to another section).
    async fn commit_document_sessions(&mut self, document: DocumentId, except: Option<u64>) {
        let ids: Vec<u64> = self
            .sessions
            .iter()
            .filter(|(id, s)| s.document == document && Some(**id) != except && !s.ops.is_empty())
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.commit_session(id, None).await;
        }
    }

    async fn commit_all_sessions(&mut self) {
        let ids: Vec<u64> = self.sessions.keys().copied().collect();
        for id in ids {
            self.commit_session(id, None).await;
        }
    }

    async fn commit_idle_sessions(&mut self) {
        let now = tokio::time::Instant::now();
        let due: Vec<u64> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.commit_session(id, None).await;
        }
    }

    /// Before a remote change to `document` is applied: commit what its sessions buffered (so
    /// positions still mean what the user saw) and mark their cursors.
    async fn before_remote_change(&mut self, document: DocumentId) {
        self.commit_document_sessions(document, None).await;
        let Some(doc) = self.engine.document(&document) else {
            return;
        };
        for session in self.sessions.values_mut() {
            if session.document != document {
                continue;
            }
            session.mark = text_object(doc, &session.target.path).ok().and_then(|obj| {
                if session.cursor >= session.text.len() {
                    doc.get_cursor(&obj, automerge::CursorPosition::End, None)
                } else {
                    doc.get_cursor(&obj, session.cursor, None)
                }
                .ok()
            });
        }
    }

    /// After a remote change: every session of the document shows the merged text, its cursor
    /// where the user left it.
    fn after_remote_change(&mut self, document: DocumentId) {
        let Some(doc) = self.engine.document(&document) else {
            return;
        };
        for session in self.sessions.values_mut() {
            if session.document != document {
                continue;
            }
            let Ok(obj) = text_object(doc, &session.target.path) else {
                continue;
            };
            if let Ok(text) = doc.text(&obj) {
                session.text = text.chars().collect();
            }
            let mark = session.mark.take();
            session.cursor = mark
                .and_then(|m| doc.get_cursor_position(&obj, &m, None).ok())
                .unwrap_or(session.cursor)
                .min(session.text.len());
        }
    }

    // ----- the server's document list -----

    /// The server listed what this user may hold: fetch what is missing, remove what is neither
    /// listed nor created here and unacknowledged.
    async fn listed(&mut self, list: Vec<Listed>) {
        self.read_only = list.iter().filter(|l| l.read_only).map(|l| l.id).collect();
        let listed: BTreeSet<DocumentId> = list.into_iter().map(|l| l.id).collect();
        let mut held = self.known.clone();
        match self.storage.list().await {
            Ok(stored) => held.extend(stored),
            Err(e) => {
                tracing::warn!(error = %e, "listing the store; nothing is removed this time");
                return;
            }
        }
        let gone: Vec<DocumentId> = held
            .into_iter()
            .filter(|d| !listed.contains(d) && !self.local_new.contains(d))
            .collect();
        let mut removed = false;
        for document in gone {
            if let Err(e) = self.storage.remove(document).await {
                tracing::warn!(error = %e, %document, "removing a document no longer held");
                continue;
            }
            self.forget(document);
            removed = true;
            let _ = self.events.send(ClientEvent::Removed(document));
        }
        if removed {
            // The engine cannot forget a document; a fresh one is told about the rest. No
            // connection is open: the list is fetched before the WebSocket.
            self.engine = Engine::new(EngineConfig::client(self.config.peer_id.clone()), AllowAll);
            for document in self.known.clone() {
                self.input(Input::Find { document }).await;
            }
        }
        for document in listed {
            if self.known.insert(document) {
                self.touched.insert(document);
                self.input(Input::Find { document }).await;
            }
        }
    }

    /// Fetches the server's document list again, on the open connection's behalf.
    fn refresh(&mut self) {
        self.next_refresh = None;
        let (Some(id), Some(server), true) = (
            self.conn_id(),
            self.config.server.clone(),
            self.options.tablet,
        ) else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let listed = crate::http::my_documents(&server).await;
            let _ = tx.send(Cmd::Refreshed(id, listed));
        });
    }

    /// The list fetched while connected: documents newly listed are fetched at once; when some
    /// must go, the client reconnects, and the connection sequence removes them.
    async fn refreshed(&mut self, list: Vec<Listed>) {
        self.next_refresh = self
            .options
            .refresh_every
            .map(|every| tokio::time::Instant::now() + every);
        self.read_only = list.iter().filter(|l| l.read_only).map(|l| l.id).collect();
        let listed: BTreeSet<DocumentId> = list.into_iter().map(|l| l.id).collect();
        let must_go = self
            .known
            .iter()
            .any(|d| !listed.contains(d) && !self.local_new.contains(d));
        if must_go {
            self.close_connection("documents must be removed");
            self.connect_later(Duration::ZERO);
            return;
        }
        for document in listed {
            if self.known.insert(document) {
                self.touched.insert(document);
                self.input(Input::Find { document }).await;
            }
        }
    }

    /// Drops everything the client knows of a document (its chunks are removed by the caller).
    fn forget(&mut self, document: DocumentId) {
        let _ = self.meta.remove(&format!("{}{document}", key::ACKED));
        let _ = self.meta.remove(&format!("{}{document}", key::NEW));
        self.acked.remove(&document);
        self.known.remove(&document);
        self.unavailable.remove(&document);
        self.local_new.remove(&document);
        self.read_only.remove(&document);
        self.in_sync.remove(&document);
        self.pending_changes.remove(&document);
        self.sessions.retain(|_, s| s.document != document);
        if let Some(waiters) = self.pending.remove(&document) {
            for w in waiters {
                let _ = w.send(Err(SdkError::UnknownDocument(document)));
            }
        }
    }

    // ----- tokens and revocation -----

    fn token_hash(&self) -> Option<Vec<u8>> {
        let server = self.config.server.as_ref()?;
        Some(Sha256::digest(server.token.as_bytes()).to_vec())
    }

    fn token_accepted(&mut self) {
        let Some(hash) = self.token_hash() else {
            return;
        };
        if self.meta.get(key::TOKEN).ok().flatten() != Some(hash.clone()) {
            if let Err(e) = self.meta.put(key::TOKEN, &hash) {
                tracing::warn!(error = %e, "recording the accepted token");
            }
        }
    }

    async fn attempt_failed(&mut self, error: SdkError) {
        self.attempt = None;
        self.attempting = false;
        self.conn_task = None;
        match error {
            SdkError::Unauthorized(why) => self.unauthorized(why).await,
            error => {
                self.last_error = Some(error.to_string());
                let _ = self
                    .events
                    .send(ClientEvent::Disconnected(error.to_string()));
                self.reconnect_with_backoff();
            }
        }
    }

    /// The server refused the token: revocation if it accepted it before, else a setup error.
    async fn unauthorized(&mut self, why: String) {
        // A token the server accepted before, or one it says is revoked (the server tells a
        // revoked device so in the 401's body), means this device was revoked.
        let accepted = self.token_hash().is_some_and(|hash| {
            self.meta.get(key::TOKEN).ok().flatten().as_deref() == Some(hash.as_slice())
        });
        let accepted = accepted || why.contains("revoked");
        let words = format!("the server refused this device's token: {why}");
        self.last_error = Some(words.clone());
        let _ = self.events.send(ClientEvent::Disconnected(words));
        if accepted {
            self.revoke().await;
        } else if self.options.tablet {
            // A token that never worked will not start working: stop until the app acts.
            self.online = false;
        } else {
            self.reconnect_with_backoff();
        }
    }

    /// The device is revoked: stop syncing and, on a tablet, wipe everything stored.
    async fn revoke(&mut self) {
        self.close_connection("revoked");
        self.abort_attempt();
        self.online = false;
        self.revoked = true;
        if self.options.tablet {
            let mut documents = std::mem::take(&mut self.known);
            if let Ok(stored) = self.storage.list().await {
                documents.extend(stored);
            }
            for document in documents {
                if let Err(e) = self.storage.remove(document).await {
                    tracing::error!(error = %e, %document, "wiping a revoked device");
                }
                self.forget(document);
            }
            if let Err(e) = self.meta.clear() {
                tracing::error!(error = %e, "wiping a revoked device's state");
            }
            self.engine = Engine::new(EngineConfig::client(self.config.peer_id.clone()), AllowAll);
            self.sessions.clear();
            for (_, waiters) in self.pending.drain() {
                for w in waiters {
                    let _ = w.send(Err(SdkError::Revoked));
                }
            }
            self.stop = true;
        }
        let _ = self.events.send(ClientEvent::Revoked);
    }

    // ----- connections -----

    fn reconnect_with_backoff(&mut self) {
        if !self.online {
            return;
        }
        self.failures = self.failures.saturating_add(1);
        let base = self.config.min_backoff.as_millis() as u64;
        let max = self.config.max_backoff.as_millis() as u64;
        let exp = base.saturating_mul(1u64 << self.failures.min(16)).min(max);
        let jittered = rand::random_range(exp / 2..=exp.max(1));
        self.connect_later(Duration::from_millis(jittered));
    }

    fn connect_later(&mut self, delay: Duration) {
        let Some(server) = self.config.server.clone() else {
            return;
        };
        if self.conn.is_some() || self.attempt.is_some() || !self.online || self.revoked {
            return;
        }
        self.next_conn += 1;
        let id = self.next_conn;
        self.attempt = Some(id);
        let tx = self.tx.clone();
        let list_first = self.options.tablet;
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if tx.send(Cmd::Attempting(id)).is_err() {
                return;
            }
            if list_first {
                let listed = crate::http::my_documents(&server).await;
                let ok = listed.is_ok();
                if tx.send(Cmd::Listed(id, listed)).is_err() || !ok {
                    return;
                }
            }
            match transport::connect(&server, wire::DEFAULT_MAX_FRAME).await {
                Ok(socket) => pump(id, socket, tx).await,
                Err(e) => {
                    let _ = tx.send(Cmd::Closed(id, Ended::Failed(e)));
                }
            }
        });
        self.conn_task = Some(task.abort_handle());
    }

    fn abort_attempt(&mut self) {
        if self.attempt.take().is_some() {
            if let Some(task) = self.conn_task.take() {
                task.abort();
            }
        }
        self.attempting = false;
    }

    /// Closes the connection (if any) and tells the app why.
    fn close_connection(&mut self, why: &str) {
        if let Some((id, sink)) = self.conn.take() {
            let _ = sink.send(WsMessage::Close(None));
            let effects = self
                .engine
                .handle(self.now(), Input::Disconnected { conn: ConnId(id) });
            drop(effects);
            self.joined = false;
            self.next_refresh = None;
            self.in_sync.clear();
            self.conn_task = None;
            let _ = self.events.send(ClientEvent::Disconnected(why.to_owned()));
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
                        tracing::warn!(code, %reason, "the engine closed the connection");
                        self.close_connection(&reason);
                        self.last_error = Some(reason);
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
                self.joined = true;
                self.next_refresh = self
                    .options
                    .refresh_every
                    .map(|every| tokio::time::Instant::now() + every);
                self.touched.extend(self.known.iter().copied());
                let _ = self.events.send(ClientEvent::Connected);
            }
            Event::DocumentStored { document, .. } => {
                // The status counts the change before its caller hears that it is stored.
                self.touched.insert(document);
                self.publish_status();
                self.answer(document, Ok(()));
                let _ = self.events.send(ClientEvent::DocumentStored(document));
            }
            Event::StorageFailed { document, error } => {
                self.last_error = Some(error.to_string());
                if let Some(waiters) = self.pending.remove(&document) {
                    for w in waiters {
                        let _ = w.send(Err(SdkError::Storage(error.clone())));
                    }
                }
            }
            Event::DocumentUnavailable { document } => {
                self.unavailable.insert(document);
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

    // ----- status -----

    /// Recomputes what changed for a document: acknowledgement, sync, pending changes.
    fn refresh_document(&mut self, document: DocumentId) {
        if !self.known.contains(&document) {
            self.in_sync.remove(&document);
            self.pending_changes.remove(&document);
            return;
        }
        let server = if self.joined {
            self.server_heads(&document).map(|mut h| {
                h.sort();
                h
            })
        } else {
            None
        };
        if let Some(heads) = &server {
            if self.acked.get(&document) != Some(heads) {
                let name = format!("{}{document}", key::ACKED);
                if let Err(e) = self.meta.put(&name, &heads_bytes(heads)) {
                    tracing::warn!(error = %e, "recording an acknowledgement");
                }
                self.acked.insert(document, heads.clone());
            }
            if !heads.is_empty() && self.local_new.remove(&document) {
                let _ = self.meta.remove(&format!("{}{document}", key::NEW));
            }
        }
        let Some(doc) = self.engine.document(&document) else {
            self.in_sync.remove(&document);
            self.pending_changes.remove(&document);
            return;
        };
        let mut local = doc.get_heads();
        local.sort();
        let acked: Vec<ChangeHash> = self
            .acked
            .get(&document)
            .map(|heads| {
                heads
                    .iter()
                    .filter(|h| doc.get_change_meta_by_hash(h).is_some())
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        let pending = doc.get_changes_meta(&acked).len();
        self.pending_changes.insert(document, pending);
        if server.as_ref() == Some(&local) {
            self.in_sync.insert(document);
        } else {
            self.in_sync.remove(&document);
        }
    }

    fn state(&self) -> SyncState {
        if self.revoked {
            return SyncState::Revoked;
        }
        if self.config.server.is_none() || !self.online {
            return SyncState::Offline;
        }
        if self.conn.is_some() && self.joined {
            let counted = self.known.iter().filter(|d| !self.unavailable.contains(d));
            let (mut synced, mut total) = (0, 0);
            for document in counted {
                total += 1;
                if self.in_sync.contains(document) {
                    synced += 1;
                }
            }
            if synced == total {
                SyncState::UpToDate
            } else {
                SyncState::Syncing { synced, total }
            }
        } else if self.attempting || self.conn.is_some() {
            SyncState::Connecting
        } else {
            SyncState::Offline
        }
    }

    fn publish_status(&mut self) {
        for document in std::mem::take(&mut self.touched) {
            self.refresh_document(document);
        }
        let state = self.state();
        let was_up_to_date = self.status.borrow().state == SyncState::UpToDate;
        if state == SyncState::UpToDate && !was_up_to_date {
            let now = Utc::now();
            self.last_sync = Some(now);
            self.last_error = None;
            let _ = self
                .meta
                .put(key::LAST_SYNC, &now.timestamp_millis().to_be_bytes());
        }
        let status = SyncStatus {
            state,
            pending_changes: self.pending_changes.values().sum(),
            last_sync: self.last_sync,
            last_error: self.last_error.clone(),
        };
        let changed = self.status.send_if_modified(|current| {
            if *current == status {
                false
            } else {
                *current = status.clone();
                true
            }
        });
        if changed {
            let _ = self.status_changes.send(status);
        }
    }

    fn local_documents(&self) -> Vec<LocalDocument> {
        self.known
            .iter()
            .map(|id| {
                let doc = self.engine.document(id);
                LocalDocument {
                    id: *id,
                    kind: doc
                        .filter(|d| !d.get_heads().is_empty())
                        .and_then(|d| model::kind_of(d).ok()),
                    pending_changes: self.pending_changes.get(id).copied().unwrap_or(0),
                    on_server: !self.local_new.contains(id),
                    read_only: self.read_only.contains(id),
                }
            })
            .collect()
    }
}

/// A commit message in the model's convention: the summary, then `Author` and `Institution`
/// trailers (written by `sync_core::model::editor::message`, which the history reader parses).
pub(crate) fn commit_message(summary: &str, by: Option<&Editor>) -> String {
    match by {
        Some(by) => sync_core::model::editor::message(summary, by),
        None => summary.to_owned(),
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Whether a sync message carries changes (and so may move text under a session's cursor).
fn carries_changes(message: &Message) -> bool {
    match message {
        Message::Sync(m) | Message::Request(m) => automerge::sync::Message::decode(&m.data)
            .map(|s| !s.changes.is_empty())
            .unwrap_or(false),
        _ => false,
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
    let ended = loop {
        match stream.next().await {
            Some(Ok(WsMessage::Binary(bytes))) => {
                if tx.send(Cmd::Frame(id, bytes.to_vec())).is_err() {
                    return;
                }
            }
            Some(Ok(WsMessage::Close(frame))) => {
                break match frame {
                    Some(f) => Ended::Closed {
                        code: Some(u16::from(f.code)),
                        reason: f.reason.to_string(),
                    },
                    None => Ended::Closed {
                        code: None,
                        reason: "closed".into(),
                    },
                };
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                break Ended::Closed {
                    code: None,
                    reason: e.to_string(),
                }
            }
            None => {
                break Ended::Closed {
                    code: None,
                    reason: "connection ended".into(),
                }
            }
        }
    };
    writer.abort();
    let _ = tx.send(Cmd::Closed(id, ended));
}
