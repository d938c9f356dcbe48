//! The [`Driver`]: the client's thread, which owns the sans-IO engine and the store, takes the
//! [`Cmd`]s in order, feeds the engine and carries out its effects, storage included.
//!
//! Its state is grouped by job, each group in its own module: the connection ([`Link`]), the
//! documents held and their status ([`Holdings`]), the text sessions ([`Sessions`]), and the
//! [`Duties`] a tablet adds. Its work is split the same way: this file holds the loop, the
//! dispatch of commands, local edits and the engine's effects; `link.rs` the connection's life
//! (attempts, closing, tokens, revocation), `texts.rs` the text sessions' commits, and
//! `listing.rs` what the server's document list changes.

mod link;
mod listing;
mod texts;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use automerge::{ActorId, ChangeHash};
use sync_core::engine::{AllowAll, ConnId, Effect, Engine, EngineConfig, Event, Input, Millis};
use sync_core::storage::{execute, Storage};
use sync_core::wire;
use sync_core::DocumentId;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::command::{Ack, Cmd, EditFn, Ready};
use super::config::{ClientConfig, Options};
use super::connection::Link;
use super::duties::Duties;
use super::events::ClientEvent;
use super::sessions::{carries_changes, Sessions};
use super::status::{Holdings, Publisher};
use crate::error::SdkError;
use crate::status::{SyncState, SyncStatus};
use crate::store::{Meta, ACTOR};

/// Where the driver's news goes: to the app, and back to its own thread (from the tasks it
/// starts).
#[derive(Debug)]
pub(super) struct Outlets {
    pub(super) tx: mpsc::UnboundedSender<Cmd>,
    pub(super) events: broadcast::Sender<ClientEvent>,
    pub(super) publisher: Publisher,
}

/// How the driver ended.
pub(super) struct Stopped {
    /// Whether it wiped the store (a revoked tablet).
    pub(super) wiped: bool,
    /// The status sender, which the thread drops last, so that watchers learn the client has
    /// stopped once it really has.
    pub(super) status: watch::Sender<SyncStatus>,
    /// The duties, for [`Duties::after_wipe`].
    pub(super) duties: Box<dyn Duties>,
}

/// The client's thread: see the [module documentation](self).
pub(super) struct Driver<S: Storage, M: Meta> {
    engine: Engine<AllowAll>,
    storage: S,
    meta: M,
    config: ClientConfig,
    duties: Box<dyn Duties>,
    out: Outlets,
    link: Link,
    docs: Holdings,
    sessions: Sessions,
    /// Calls waiting until their change to a document is stored.
    waiters: HashMap<DocumentId, Vec<Ack>>,
    /// This device's Automerge actor, when the store keeps one.
    actor: Option<ActorId>,
    started: std::time::Instant,
    revoked: bool,
    /// Leave the loop after this command (a revoked tablet).
    stop: bool,
}

impl<S: Storage + Clone, M: Meta> Driver<S, M> {
    /// A driver over an open store; nothing runs before [`Driver::start_and_run`].
    pub(super) fn new(
        config: ClientConfig,
        options: Options,
        duties: Box<dyn Duties>,
        (storage, meta): (S, M),
        out: Outlets,
    ) -> Self {
        Self {
            engine: new_engine(&config),
            storage,
            meta,
            config,
            duties,
            out,
            link: Link::new(options.online),
            docs: Holdings::default(),
            sessions: Sessions::new(options.author, options.idle_commit),
            waiters: HashMap::new(),
            actor: None,
            started: std::time::Instant::now(),
            revoked: false,
            stop: false,
        }
    }

    fn now(&self) -> Millis {
        Millis(self.started.elapsed().as_millis() as u64)
    }

    /// Loads the state and the stored documents, reports readiness, then serves until stopped.
    pub(super) async fn start_and_run(
        mut self,
        rx: mpsc::UnboundedReceiver<Cmd>,
        ready: oneshot::Sender<Result<Ready, SdkError>>,
    ) -> Stopped {
        let wiped = match self.load().await {
            Ok(()) => {
                let _ = ready.send(Ok(Ready {
                    actor: self.actor.clone(),
                }));
                self.run(rx).await
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                false
            }
        };
        Stopped {
            wiped,
            status: self.out.publisher.status,
            duties: self.duties,
        }
    }

    async fn load(&mut self) -> Result<(), SdkError> {
        self.actor = self.meta.get(ACTOR)?.map(ActorId::from);
        self.docs.load(&self.meta)?;
        for document in self.storage.list().await? {
            self.docs.hold(document);
            self.input(Input::Find { document }).await;
        }
        Ok(())
    }

    /// Serves commands until stopped; returns whether the store was wiped.
    async fn run(&mut self, mut rx: mpsc::UnboundedReceiver<Cmd>) -> bool {
        self.connect_later(Duration::ZERO);
        self.publish_status();
        loop {
            let deadline = self
                .sessions
                .next_deadline()
                .into_iter()
                .chain(self.link.next_refresh)
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
                .link
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
            Cmd::Create(document, content, ack) => self.create(document, content, ack).await,
            Cmd::Change(document, f, ack) => self.apply_change(document, f, Some(ack)).await,
            Cmd::Find(document) => {
                self.docs.hold(document);
                self.input(Input::Find { document }).await;
            }
            Cmd::Read(document, f) => f(self.engine.document(&document)),
            Cmd::ServerHeads(document, tx) => {
                let _ = tx.send(self.server_heads(&document));
            }
            Cmd::Documents(tx) => {
                let _ = tx.send(self.docs.local_documents(&self.engine));
            }
            Cmd::Broadcast(document, data) => self.input(Input::Broadcast { document, data }).await,
            Cmd::SetOnline(online) => self.set_online(online),
            Cmd::Session(id, cmd) => self.session(id, cmd).await,
            Cmd::Refresh => self.refresh(),
            Cmd::Refreshed(id, listed) => self.refreshed(id, listed).await,
            Cmd::Attempting(id) => {
                if self.link.attempt == Some(id) {
                    self.link.attempting = true;
                }
            }
            Cmd::Listed(id, listed) => self.listed_before_connecting(id, listed).await,
            Cmd::Opened(id, sink) => self.opened(id, sink).await,
            Cmd::Frame(id, bytes) => {
                if self.link.conn_id() == Some(id) {
                    self.frame(id, bytes).await;
                }
            }
            Cmd::Closed(id, ended) => self.closed(id, ended).await,
            Cmd::Shutdown(_) | Cmd::Stop => {}
        }
    }

    fn server_heads(&self, document: &DocumentId) -> Option<Vec<ChangeHash>> {
        let id = self.link.conn_id()?;
        self.engine.peer_heads(ConnId(id), document)
    }

    /// Adds a document created here: marked as such durably, then stored.
    async fn create(&mut self, document: DocumentId, content: Box<automerge::Automerge>, ack: Ack) {
        if self.revoked {
            let _ = ack.send(Err(SdkError::Revoked));
            return;
        }
        if let Err(e) = self.docs.created(document, &self.meta) {
            let _ = ack.send(Err(e.into()));
            return;
        }
        self.docs.hold(document);
        self.waiters.entry(document).or_default().push(ack);
        self.input(Input::Create { document, content }).await;
        self.input(Input::Tick).await;
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
            .filter(|d| self.sessions.edit_document(*d))
            .filter(|_| carries_changes(&message));
        if let Some(document) = remote_edit {
            self.before_remote_change(document).await;
        }
        self.input(Input::Received { conn, message }).await;
        self.input(Input::Tick).await;
        if let Some(document) = remote_edit {
            if let Some(doc) = self.engine.document(&document) {
                self.sessions.follow_remote(document, doc);
            }
        }
        if let Some(document) = document {
            self.docs.touch(document);
        }
        let _ = self.out.events.send(ClientEvent::Synced);
    }

    /// Carries out a local edit: stored when this returns, waiters answered.
    async fn apply_change(&mut self, document: DocumentId, f: EditFn, ack: Option<Ack>) {
        let refused = if self.revoked {
            Some(SdkError::Revoked)
        } else if self.docs.read_only.contains(&document) {
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
        let failed = match outcome {
            None => Some(SdkError::UnknownDocument(document)),
            Some(Err(e)) => Some(e),
            Some(Ok(())) => None,
        };
        if let Some(failed) = failed {
            if let Some(ack) = ack {
                let _ = ack.send(Err(failed));
            }
            return;
        }
        self.docs.touch(document);
        if let Some(ack) = ack {
            self.waiters.entry(document).or_default().push(ack);
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

    /// Feeds an input and carries out every effect, storage included (synchronously: a change
    /// is on disk before its caller hears back).
    async fn input(&mut self, input: Input) {
        let mut queue = VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let now = self.now();
            for effect in self.engine.handle(now, input) {
                match effect {
                    Effect::Send { message, .. } => self.link.send(&message),
                    Effect::Close { code, reason, .. } => {
                        tracing::warn!(code, %reason, "the engine closed the connection");
                        self.close_connection(&reason);
                        self.docs.last_error = Some(reason);
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

    /// Answers the calls waiting on `document`.
    fn answer(&mut self, document: DocumentId, result: Result<(), SdkError>) {
        if let Some(waiters) = self.waiters.remove(&document) {
            for w in waiters {
                let r = match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(SdkError::Network(e.to_string())),
                };
                let _ = w.send(r);
            }
        }
    }

    /// Fails every call waiting on `document` with `error()`.
    fn fail_waiters(&mut self, document: DocumentId, error: impl Fn() -> SdkError) {
        if let Some(waiters) = self.waiters.remove(&document) {
            for w in waiters {
                let _ = w.send(Err(error()));
            }
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::PeerJoined { .. } => {
                self.link.joined = true;
                self.schedule_refresh();
                self.docs.touch_all();
                let _ = self.out.events.send(ClientEvent::Connected);
            }
            Event::DocumentStored { document, .. } => {
                // The status counts the change before its caller hears that it is stored.
                self.docs.touch(document);
                self.publish_status();
                self.answer(document, Ok(()));
                let _ = self.out.events.send(ClientEvent::DocumentStored(document));
            }
            Event::StorageFailed { document, error } => {
                self.docs.last_error = Some(error.to_string());
                self.fail_waiters(document, || SdkError::Storage(error.clone()));
            }
            Event::DocumentUnavailable { document } => {
                self.docs.unavailable.insert(document);
                let _ = self.out.events.send(ClientEvent::Unavailable(document));
            }
            Event::Ephemeral {
                sender_id,
                document,
                data,
                ..
            } => {
                let _ = self.out.events.send(ClientEvent::Ephemeral {
                    document,
                    sender: sender_id,
                    data,
                });
            }
            _ => {}
        }
    }

    fn state(&self) -> SyncState {
        if self.revoked {
            return SyncState::Revoked;
        }
        if self.config.server.is_none() || !self.link.online {
            return SyncState::Offline;
        }
        if self.link.joined_conn().is_some() {
            self.docs.progress()
        } else if self.link.attempting || self.link.is_open() {
            SyncState::Connecting
        } else {
            SyncState::Offline
        }
    }

    fn publish_status(&mut self) {
        self.docs
            .refresh_touched(&self.engine, self.link.joined_conn(), &self.meta);
        let state = self.state();
        self.docs.publish(state, &self.meta, &self.out.publisher);
    }
}

/// A fresh engine for this client (the engine cannot forget a document: removing one means
/// starting again).
fn new_engine(config: &ClientConfig) -> Engine<AllowAll> {
    Engine::new(EngineConfig::client(config.peer_id.clone()), AllowAll)
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
