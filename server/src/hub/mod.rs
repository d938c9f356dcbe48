//! The hub: one task that owns the sync engine and carries out its effects.
//!
//! Connections send it inputs over a bounded channel (back-pressure to slow readers of our
//! sockets); it answers through each connection's own bounded queue (a peer that does not read
//! is disconnected instead of growing our memory). Storage runs on two threads of its own, never
//! on the async executor: a *writer* that gathers every write queued while the previous group
//! commit ran into one batch with one fsync, and a *loader*. Their answers come back on a
//! channel the hub serves first.

mod close;
mod connection;
mod storage;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sync_core::engine::{
    ConnId, Direction, Effect, Engine, EngineConfig, Event, Input, Millis, Rejection, TaskId,
};
use sync_core::storage::{Storage, StorageRequest, StorageResponse, WriteOp};
use sync_core::StorageError;
use tokio::sync::{mpsc, oneshot};

pub use close::Closing;
pub use connection::{queued_size, Connection, ConnectionState, Limits, Outgoing};

use crate::access::{Registry, ServerPolicy};
use crate::metrics::Metrics;
use storage::{spawn_loader, spawn_writer, Done};

/// A connection as the hub keeps it.
#[derive(Debug)]
struct ConnHandle {
    device: String,
    tx: mpsc::Sender<Outgoing>,
    state: Arc<ConnectionState>,
}

/// Commands to the hub.
#[derive(Debug)]
pub enum Command {
    /// A connection was authenticated and upgraded.
    Connect(Connection),
    /// An engine input (frame, disconnect...).
    Input(Input),
    /// Ownership or access changed for a document (or all).
    AccessChanged(Option<sync_core::DocumentId>),
    /// Close every connection of a device (revocation).
    DropDevice(String, oneshot::Sender<usize>),
    /// Stop: close connections, finish storage work, then answer.
    Shutdown(oneshot::Sender<()>),
    /// Erase a document: forget it and remove its history from the store (in order with the
    /// writes before it); answers once that is durable.
    Erase(
        sync_core::DocumentId,
        oneshot::Sender<Result<(), StorageError>>,
    ),
    /// Load every resident document again (the PostgreSQL listener is back after a loss:
    /// other nodes' commits meanwhile were not heard).
    ReloadResident,
    /// Pause (answer on the first channel) until the second resolves: an online backup.
    Pause(oneshot::Sender<()>, oneshot::Receiver<()>),
}

/// Limits and tuning of the hub.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// The engine's configuration.
    pub engine: EngineConfig,
    /// Size of each connection's outgoing queue.
    pub outgoing_queue: usize,
    /// At most this many inputs are taken before a tick (latency bound under load).
    pub max_inputs_per_tick: usize,
    /// Refuses group commits while the disk is below its reserve.
    pub disk: Option<Arc<crate::disk::DiskGuard>>,
    /// A peer with more than this many bytes waiting to be written to it is dropped as a
    /// slow reader (the server's memory does not grow with peers that do not read).
    pub max_queued_bytes: usize,
}

/// A handle to the running hub.
#[derive(Clone, Debug)]
pub struct HubHandle {
    tx: mpsc::Sender<Command>,
}

impl HubHandle {
    /// Sends a command; `false` when the hub has stopped.
    pub async fn send(&self, command: Command) -> bool {
        self.tx.send(command).await.is_ok()
    }

    /// Sends a command from a thread outside the runtime (the PostgreSQL listener).
    pub fn send_blocking(&self, command: Command) -> bool {
        self.tx.blocking_send(command).is_ok()
    }
}

/// Starts the hub and its storage threads.
pub fn start<S: Storage + Clone>(
    config: HubConfig,
    storage: S,
    registry: Registry,
    metrics: Arc<Metrics>,
) -> HubHandle {
    let (tx, rx) = mpsc::channel(65_536);
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let (writer, writer_thread) = spawn_writer(
        storage.clone(),
        config.disk.clone(),
        done_tx.clone(),
        metrics.clone(),
    );
    let (loader, loader_thread) = spawn_loader(storage, done_tx);
    let engine = Engine::new(config.engine.clone(), ServerPolicy::new(registry.clone()));
    let hub = Hub {
        engine,
        config,
        conns: HashMap::new(),
        registry,
        who: HashMap::new(),
        metrics,
        writer,
        loader,
        threads: [writer_thread, loader_thread]
            .into_iter()
            .flatten()
            .collect(),
        erasures: HashMap::new(),
        next_erasure: 0,
        started: Instant::now(),
    };
    tokio::spawn(hub.run(rx, done_rx));
    HubHandle { tx }
}

struct Hub {
    engine: Engine<ServerPolicy>,
    config: HubConfig,
    conns: HashMap<ConnId, ConnHandle>,
    registry: Registry,
    /// Who is on each connection, until its socket is gone (for the audit log).
    who: HashMap<ConnId, (String, String)>,
    metrics: Arc<Metrics>,
    writer: std::sync::mpsc::Sender<(TaskId, WriteOp)>,
    loader: std::sync::mpsc::Sender<(TaskId, StorageRequest)>,
    threads: Vec<std::thread::JoinHandle<()>>,
    /// Erasures waiting for their durable write.
    erasures: HashMap<TaskId, oneshot::Sender<Result<(), StorageError>>>,
    next_erasure: u64,
    started: Instant,
}

impl Hub {
    fn now(&self) -> Millis {
        Millis(self.started.elapsed().as_millis() as u64)
    }

    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        mut done_rx: mpsc::UnboundedReceiver<Done>,
    ) {
        let mut housekeeping = tokio::time::interval(Duration::from_millis(500));
        let mut shutdown: Option<oneshot::Sender<()>> = None;
        loop {
            tokio::select! {
                biased;
                Some((task, result)) = done_rx.recv() => {
                    self.storage_done(task, result);
                }
                command = rx.recv(), if shutdown.is_none() => match command {
                    Some(Command::Shutdown(ack)) => {
                        self.close_all();
                        shutdown = Some(ack);
                    }
                    Some(Command::Pause(paused, resume)) => {
                        // Nothing new is applied or written until the backup is done.
                        let _ = paused.send(());
                        let _ = resume.await;
                    }
                    Some(command) => self.command(command),
                    None => return,
                },
                _ = housekeeping.tick() => {}
            }
            // Take what else is waiting, storage answers first, then inputs, up to a bound.
            while let Ok((task, result)) = done_rx.try_recv() {
                self.storage_done(task, result);
            }
            let mut taken = 0;
            while shutdown.is_none() && taken < self.config.max_inputs_per_tick {
                match rx.try_recv() {
                    Ok(Command::Shutdown(ack)) => {
                        self.close_all();
                        shutdown = Some(ack);
                    }
                    Ok(Command::Pause(paused, resume)) => {
                        let _ = paused.send(());
                        let _ = resume.await;
                    }
                    Ok(command) => self.command(command),
                    Err(_) => break,
                }
                taken += 1;
            }
            let started = Instant::now();
            self.input(Input::Tick);
            self.metrics
                .apply_seconds
                .observe(started.elapsed().as_secs_f64());
            let (_, resident, _) = self.engine.stats();
            self.metrics
                .documents_loaded
                .store(resident as u64, Ordering::Relaxed);
            self.metrics
                .ephemeral_sessions_bytes
                .store(self.engine.ephemeral_sessions().1 as u64, Ordering::Relaxed);
            self.metrics.relay.store(self.engine.relay_stats());
            if shutdown.is_some() && self.engine.is_idle() {
                let relay = self.engine.relay_stats();
                tracing::info!(
                    relayed = relay.relayed,
                    materialised = relay.full_path,
                    relay_batches_applied = relay.batches_applied,
                    "changes this run: relayed without applying them, applied as they arrived"
                );
                // Every write is done: stop the storage threads (they hold the store open).
                let Hub {
                    writer,
                    loader,
                    threads,
                    ..
                } = self;
                drop((writer, loader));
                let _ = tokio::task::spawn_blocking(move || {
                    for thread in threads {
                        let _ = thread.join();
                    }
                })
                .await;
                if let Some(ack) = shutdown.take() {
                    let _ = ack.send(());
                }
                return;
            }
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Connect(Connection {
                conn,
                principal,
                tx,
                state,
            }) => {
                self.conns.insert(
                    conn,
                    ConnHandle {
                        device: principal.device.clone(),
                        tx,
                        state,
                    },
                );
                self.metrics
                    .connections
                    .store(self.conns.len() as u64, Ordering::Relaxed);
                self.who
                    .insert(conn, (principal.user.clone(), principal.device.clone()));
                self.registry.audit().note(
                    "login",
                    Some(&principal.user),
                    Some(&principal.device),
                    None,
                    serde_json::json!({ "conn": conn.0 }),
                );
                self.input(Input::Connected {
                    conn,
                    direction: Direction::Inbound,
                    principal,
                });
            }
            Command::Input(input) => {
                if let Input::Disconnected { conn } = &input {
                    self.conns.remove(conn);
                    self.who.remove(conn);
                    self.metrics
                        .connections
                        .store(self.conns.len() as u64, Ordering::Relaxed);
                }
                self.input(input);
            }
            Command::AccessChanged(document) => self.input(Input::AccessChanged { document }),
            Command::DropDevice(device, ack) => {
                let conns: Vec<ConnId> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| c.device == device)
                    .map(|(id, _)| *id)
                    .collect();
                for conn in &conns {
                    self.close(*conn, Closing::Revoked);
                    self.input(Input::Disconnected { conn: *conn });
                }
                let _ = ack.send(conns.len());
            }
            Command::Erase(document, ack) => {
                self.input(Input::Forget { document });
                self.next_erasure += 1;
                let task = TaskId(u64::MAX - self.next_erasure);
                if self
                    .writer
                    .send((task, WriteOp::Erase { document }))
                    .is_ok()
                {
                    self.erasures.insert(task, ack);
                } else {
                    let _ = ack.send(Err(StorageError::Io("storage threads are gone".into())));
                }
            }
            Command::ReloadResident => {
                let resident = self.engine.held_documents();
                tracing::debug!(documents = resident.len(), "reloading resident documents");
                for document in resident {
                    self.input(Input::Reload { document });
                }
            }
            Command::Shutdown(_) | Command::Pause(..) => {}
        }
    }

    fn storage_done(&mut self, task: TaskId, result: Result<StorageResponse, StorageError>) {
        match self.erasures.remove(&task) {
            Some(ack) => {
                let _ = ack.send(result.map(|_| ()));
            }
            None => self.input(Input::StorageDone { task, result }),
        }
    }

    fn close_all(&mut self) {
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            self.close(conn, Closing::ShuttingDown);
            self.input(Input::Disconnected { conn });
        }
    }

    fn input(&mut self, input: Input) {
        let now = self.now();
        let effects = self.engine.handle(now, input);
        self.dispatch(effects);
        // Access that changed (assignment, consent, closing) applies at once to connected peers.
        for document in self.registry.take_changed() {
            let effects = self.engine.handle(
                now,
                Input::AccessChanged {
                    document: Some(document),
                },
            );
            self.dispatch(effects);
        }
    }

    fn dispatch(&mut self, effects: Vec<Effect>) {
        let mut dropped = Vec::new();
        for effect in effects {
            match effect {
                Effect::Send { conn, message } => {
                    let Some(handle) = self.conns.get(&conn) else {
                        continue;
                    };
                    let size = queued_size(&message);
                    let waiting = handle.state.queued();
                    // What is already waiting counts: one message larger than the limit (a
                    // first sync of a big document) still goes to a peer that keeps up.
                    let over = waiting > self.config.max_queued_bytes;
                    if !over {
                        handle.state.add_queued(size);
                    }
                    if over || handle.tx.try_send(Outgoing::Message(message)).is_err() {
                        // The peer does not read what we send: drop it rather than buffer.
                        handle.state.end(Some(Closing::SlowReader));
                        self.metrics.reject("slow-reader");
                        dropped.push(conn);
                    }
                }
                Effect::Close { conn, code, reason } => {
                    self.close(conn, Closing::Engine { code, reason })
                }
                Effect::Storage { task, request } => {
                    let sent = match request {
                        StorageRequest::Write(op) => self.writer.send((task, op)).is_ok(),
                        load => {
                            self.metrics.document_loads.fetch_add(1, Ordering::Relaxed);
                            self.loader.send((task, load)).is_ok()
                        }
                    };
                    if !sent {
                        tracing::error!("storage threads are gone");
                    }
                }
                Effect::Event(event) => self.event(event),
            }
        }
        for conn in dropped {
            self.conns.remove(&conn);
            self.input(Input::Disconnected { conn });
        }
    }

    /// Asks the connection's writer to close it; with its queue full, ends it at once.
    fn close(&mut self, conn: ConnId, why: Closing) {
        if let Some(handle) = self.conns.remove(&conn) {
            if let Err(e) = handle.tx.try_send(Outgoing::Close(why)) {
                if let Outgoing::Close(why) = e.into_inner() {
                    handle.state.end(Some(why));
                }
            }
        }
        self.metrics
            .connections
            .store(self.conns.len() as u64, Ordering::Relaxed);
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::DocumentCreated { conn, document } => {
                tracing::info!(conn = conn.0, %document, "document created");
            }
            Event::DocumentOpened { conn, document } => {
                if let Some(c) = self.who.get(&conn) {
                    self.registry.audit().note(
                        "read",
                        Some(&c.0),
                        Some(&c.1),
                        Some(document.to_string()),
                        serde_json::json!({}),
                    );
                }
            }
            Event::AccessRevoked { conn, document } => {
                if let Some(c) = self.who.get(&conn) {
                    self.registry.audit().note(
                        "access-ended",
                        Some(&c.0),
                        Some(&c.1),
                        Some(document.to_string()),
                        serde_json::json!({}),
                    );
                }
            }
            Event::Rejected {
                conn,
                reason,
                document,
            } => {
                if let Some(c) = self.who.get(&conn) {
                    self.registry.audit().note(
                        "reject",
                        Some(&c.0),
                        Some(&c.1),
                        document.map(|d| d.to_string()),
                        serde_json::json!({ "reason": format!("{reason:?}") }),
                    );
                }
                let label = match &reason {
                    Rejection::Malformed(_) => "malformed",
                    Rejection::BadSyncData(_) => "bad-sync-data",
                    Rejection::ProtocolViolation(_) => "protocol-violation",
                    Rejection::UnsupportedVersion(_) => "unsupported-version",
                    Rejection::ReadOnly => "read-only",
                    Rejection::ChangesRefused(_) => "changes-refused",
                };
                self.metrics.reject(label);
                tracing::warn!(conn = conn.0, reason = label, "message refused");
            }
            Event::StorageFailed { document, error } => {
                tracing::error!(%document, %error, "storage failed");
            }
            Event::PeerJoined { conn, .. } => tracing::debug!(conn = conn.0, "peer joined"),
            Event::PeerLeft { conn } => tracing::debug!(conn = conn.0, "peer left"),
            _ => {}
        }
    }
}
