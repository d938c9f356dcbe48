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
//! A [`crate::Tablet`] runs the same client with more duties (see `duties.rs`): before each
//! connection it fetches the documents its user may hold (`GET /api/v1/me/documents`), fetches
//! those it lacks and removes those it may no longer hold; on revocation it wipes the store.
//! Its text sessions buffer keystrokes into few changes.
//!
//! ```no_run
//! use client_sdk::{ClientConfig, ClientEvent, SyncClient};
//! use sync_core::storage::MemoryStorage;
//! use sync_core::{DocumentId, PeerId};
//! # async fn run(document: DocumentId) -> Result<(), Box<dyn std::error::Error>> {
//! let client = SyncClient::start(ClientConfig::new(PeerId::new("tablet-7")?, None), MemoryStorage::default())?;
//! let mut events = client.events();
//! client.create(document, automerge::Automerge::new()).await?;   // durable on return
//! client.change(document, |doc| {
//!     use automerge::transaction::Transactable;
//!     doc.transact(|tx| tx.put(automerge::ROOT, "stage", "referral")).map(|_| ())
//! }).await?;
//! let stored: ClientEvent = events.recv().await?;                 // DocumentStored(document)
//! println!("{stored:?}");
//! client.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The pieces, one job each:
//! - this file: [`SyncClient`], the handle the app holds, and the thread's start;
//! - `config.rs`, `events.rs`: what the app gives ([`ClientConfig`]) and sees ([`ClientEvent`],
//!   [`LocalDocument`]);
//! - `command.rs`: the messages the handle, the text sessions and the connection tasks send to
//!   the thread;
//! - `driver/`: the thread itself: the loop around the engine, the connection's life, text
//!   sessions' commits, the server's document list;
//! - `connection.rs`: the connection state, backoff with jitter, the socket's reader and writer;
//! - `sessions.rs`: the open text sessions and their buffered keystrokes;
//! - `status.rs`, `keys.rs`: what is known of each document held, the [`SyncStatus`], and the
//!   state entries that keep it across restarts;
//! - `duties.rs`: the hook for work beyond plain syncing (`Duties`), which a tablet fills.

mod command;
mod config;
mod connection;
mod driver;
mod duties;
mod events;
mod keys;
mod sessions;
mod status;

use std::time::Duration;

use automerge::{Automerge, ChangeHash};
use sync_core::storage::Storage;
use sync_core::DocumentId;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

pub(crate) use command::{Edit, EditFn, Ready, SessionCmd, TextTarget};
pub use config::ClientConfig;
pub(crate) use config::Options;
pub(crate) use duties::{AfterRefusal, AfterRevocation, Duties, ListFetch};
pub use events::{ClientEvent, LocalDocument};

use command::Cmd;
use driver::{Driver, Outlets};
use duties::Plain;
use status::Publisher;

use crate::error::SdkError;
use crate::status::{SyncState, SyncStatus};
use crate::store::{MemoryMeta, Meta};

/// A handle to the background sync client: the app's calls go to the client's thread, which
/// answers each once its effect is durable on this device.
///
/// Dropping it without [`SyncClient::shutdown`] stops the client's thread at once, as if the
/// app had been killed: text-session keystrokes not yet committed are lost, everything else is
/// already on disk.
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
        let (client, _ready) = spawn(config, Options::plain(), Box::new(Plain), move || {
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
    duties: Box<dyn Duties>,
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
    let out = Outlets {
        tx: tx.clone(),
        events: events.clone(),
        publisher: Publisher {
            status: status_tx,
            changes: status_changes.clone(),
        },
    };
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
            let opened = match open() {
                Ok(opened) => opened,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let driver = Driver::new(config, options, duties, opened, out);
            let stopped = runtime.block_on(driver.start_and_run(rx, ready_tx));
            drop(runtime);
            if stopped.wiped {
                stopped.duties.after_wipe();
            }
            // Watchers of the status learn now that the client has stopped (and wiped).
            drop(stopped.status);
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
