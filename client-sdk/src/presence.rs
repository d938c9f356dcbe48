//! Presence in a document: publish where this user is, see who else is there.
//!
//! [`SyncClient::presence`] starts a small task around `sync_core::presence::Presence` (the
//! sans-IO tracker of automerge-repo 2.x's presence format): it feeds the tracker the
//! ephemeral messages the client receives for the document, sends what the tracker asks for
//! (snapshot, updates, heartbeats, goodbye), [rejoins](sync_core::presence::Presence::rejoin)
//! after every reconnection, and publishes the peers it knows. Nothing of it is stored.
//!
//! ```no_run
//! # async fn run(client: client_sdk::SyncClient, meeting: sync_core::DocumentId) -> Result<(), client_sdk::SdkError> {
//! use client_sdk::PresenceOptions;
//! use sync_core::presence::{Focus, Member};
//! let me = Member { login: "anna".into(), name: "Anna Kowalska".into(), institution: "gops".into() };
//! let presence = client.presence(meeting, PresenceOptions::member(&me))?;
//! presence.set_focus(&Focus { section: "minutes".into(), editing: true })?;
//! let mut peers = presence.peers();
//! peers.changed().await.ok();
//! for (peer, state) in peers.borrow().iter() {
//!     println!("{peer}: {:?} in {:?}", state.member(), state.focus());
//! }
//! presence.stop().await; // says goodbye
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use sync_core::engine::Millis;
use sync_core::presence::{
    self, Focus, Member, PeerState, Presence, PresenceConfig, PresenceEvent, State,
};
use sync_core::{DocumentId, PeerId};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::client::{ClientEvent, EphemeralSender, SyncClient};
use crate::error::SdkError;

/// How to start presence in a document.
#[derive(Clone, Debug, Default)]
pub struct PresenceOptions {
    /// Our state at start.
    pub initial: State,
    /// Heartbeat interval and peer TTL (automerge-repo's defaults: 15 s and 45 s).
    pub config: PresenceConfig,
}

impl PresenceOptions {
    /// Starts with who we are ([`presence::MEMBER`]) and nothing else.
    pub fn member(member: &Member) -> Self {
        let mut initial = State::new();
        initial.insert(presence::MEMBER.into(), to_value(member));
        PresenceOptions {
            initial,
            config: PresenceConfig::default(),
        }
    }

    /// With other timing.
    pub fn with_timing(mut self, heartbeat: Duration, peer_ttl: Duration) -> Self {
        self.config = PresenceConfig {
            heartbeat: Millis(heartbeat.as_millis().min(u64::MAX as u128) as u64),
            peer_ttl: Millis(peer_ttl.as_millis().min(u64::MAX as u128) as u64),
        };
        self
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Value {
    // Member and Focus are plain structs of strings and booleans: serialising cannot fail.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// The peers known in a document, by peer id.
pub type Peers = BTreeMap<PeerId, PeerState>;

#[derive(Debug)]
enum Request {
    Set(String, Value),
    Stop(oneshot::Sender<()>),
}

/// Presence in one document; dropping it stops the task without a goodbye (peers forget us
/// after their TTL), [`DocumentPresence::stop`] says goodbye first.
#[derive(Debug)]
pub struct DocumentPresence {
    document: DocumentId,
    requests: mpsc::UnboundedSender<Request>,
    peers: watch::Receiver<Peers>,
    events: broadcast::Sender<PresenceEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl SyncClient {
    /// Starts presence in `document` (which the client should be syncing: presence travels
    /// only to peers of the documents we sync). Needs a Tokio runtime.
    pub fn presence(
        &self,
        document: DocumentId,
        options: PresenceOptions,
    ) -> Result<DocumentPresence, SdkError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| SdkError::Invalid("presence needs a Tokio runtime".into()))?;
        let (requests, requests_rx) = mpsc::unbounded_channel();
        let (peers_tx, peers) = watch::channel(Peers::new());
        let (events, _) = broadcast::channel(256);
        let mut tracker = Presence::new(options.config);
        let first = tracker.start(now(), options.initial);
        self.broadcast(document, first)?;
        let task = runtime.spawn(run(
            self.ephemeral_sender(),
            self.events(),
            document,
            tracker,
            requests_rx,
            peers_tx,
            events.clone(),
        ));
        Ok(DocumentPresence {
            document,
            requests,
            peers,
            events,
            task,
        })
    }
}

impl DocumentPresence {
    /// The document.
    pub fn document(&self) -> DocumentId {
        self.document
    }

    /// Sets one channel of our state and tells the others.
    pub fn set(&self, channel: &str, value: Value) -> Result<(), SdkError> {
        self.requests
            .send(Request::Set(channel.to_string(), value))
            .map_err(|_| SdkError::Stopped)
    }

    /// Says where we are ([`presence::FOCUS`]).
    pub fn set_focus(&self, focus: &Focus) -> Result<(), SdkError> {
        self.set(presence::FOCUS, to_value(focus))
    }

    /// The peers we know, updated as they come, change and go.
    pub fn peers(&self) -> watch::Receiver<Peers> {
        self.peers.clone()
    }

    /// Every presence event, as it arrives.
    pub fn events(&self) -> broadcast::Receiver<PresenceEvent> {
        self.events.subscribe()
    }

    /// Says goodbye and stops.
    pub async fn stop(self) {
        let (done, said) = oneshot::channel();
        if self.requests.send(Request::Stop(done)).is_ok() {
            let _ = said.await;
        }
    }
}

impl Drop for DocumentPresence {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Wall-clock milliseconds, as automerge-repo stamps `lastSeenAt`.
fn now() -> Millis {
    Millis(chrono::Utc::now().timestamp_millis().max(0) as u64)
}

async fn run(
    client: EphemeralSender,
    mut incoming: broadcast::Receiver<ClientEvent>,
    document: DocumentId,
    mut tracker: Presence,
    mut requests: mpsc::UnboundedReceiver<Request>,
    peers: watch::Sender<Peers>,
    events: broadcast::Sender<PresenceEvent>,
) {
    loop {
        let wait = tracker
            .next_deadline()
            .map(|at| Duration::from_millis(at.0.saturating_sub(now().0)))
            .unwrap_or(Duration::from_secs(3600));
        // Events go out after the peers are published, so a listener sees them up to date.
        let mut happened = Vec::new();
        tokio::select! {
            request = requests.recv() => match request {
                Some(Request::Set(channel, value)) => {
                    if let Some(update) = tracker.set(now(), &channel, value) {
                        let _ = client.send(document, update);
                    }
                }
                Some(Request::Stop(done)) => {
                    if let Some(goodbye) = tracker.stop() {
                        let _ = client.send(document, goodbye);
                    }
                    peers.send_replace(Peers::new());
                    let _ = done.send(());
                    return;
                }
                None => return,
            },
            event = incoming.recv() => match event {
                Ok(ClientEvent::Ephemeral { document: d, sender, data }) if d == document => {
                    // Malformed presence from a peer changes nothing; other peers go on.
                    if let Ok(Some(event)) = tracker.receive(now(), &sender, &data) {
                        happened.push(event);
                    }
                }
                // Back from offline: the others' view of us is stale and ours of them.
                Ok(ClientEvent::Connected) => {
                    let (send, forgotten) = tracker.rejoin(now());
                    for payload in send {
                        let _ = client.send(document, payload);
                    }
                    if !forgotten.is_empty() {
                        happened.push(PresenceEvent::Pruned(forgotten));
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
            () = tokio::time::sleep(wait) => {
                let tick = tracker.tick(now());
                for payload in tick.send {
                    let _ = client.send(document, payload);
                }
                if !tick.pruned.is_empty() {
                    happened.push(PresenceEvent::Pruned(tick.pruned));
                }
            }
        }
        if !happened.is_empty() {
            peers.send_replace(tracker.peers().clone());
        }
        for event in happened {
            let _ = events.send(event);
        }
    }
}
