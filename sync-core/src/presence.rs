//! Presence: who is in a document right now, and where.
//!
//! PZK members meeting remotely want to see who else has the meeting open, in which section
//! (agenda, minutes, attendance...) and whether they are typing. That is ephemeral state: it
//! rides the protocol's `ephemeral` messages, the server relays it to the peers allowed to read
//! the document and never stores it.
//!
//! The format is automerge-repo 2.x's `Presence` (`@automerge/automerge-repo`,
//! `dist/presence`), so the official JS client and our SDK see each other. An ephemeral payload
//! is the CBOR map `{"__presence": message}` where `message` is one of:
//!
//! | message | meaning |
//! | --- | --- |
//! | `{"type": "snapshot", "state": {channel: value, ...}}` | the sender's whole state |
//! | `{"type": "update", "channel": c, "value": v}` | one channel changed |
//! | `{"type": "heartbeat"}` | still here (sent when nothing else was sent for a while) |
//! | `{"type": "goodbye"}` | leaving: forget me now |
//!
//! A peer not heard from (update, snapshot or heartbeat) within the TTL is pruned. When a
//! message arrives from a peer we do not know yet, we announce our own snapshot shortly after,
//! so that peers who join later learn about us without waiting for a heartbeat.
//!
//! A peer that comes back from offline [rejoins](Presence::rejoin): it says goodbye and sends
//! its snapshot again, so that the others forget the stale view of it, meet it as a new peer
//! and announce their current state to it (JS peers do the same on a stranger's snapshot);
//! what changed while it was away reaches it at once and without any message loop.
//!
//! Kooperacja's convention for the state (the meeting page and the SDK both use it): channel
//! [`MEMBER`] holds a [`Member`] (who), channel [`FOCUS`] a [`Focus`] (where, and whether
//! editing). Other channels pass through untouched. The server binds the member channel to the
//! sender's account ([`bind_member`]): a peer is always shown under its own name.
//!
//! [`Presence`] is the sans-IO tracker: it takes received payloads and the time, and returns
//! payloads to broadcast and events to show. The SDK runs it around a sync client.

use std::collections::BTreeMap;

use ciborium::Value as Cbor;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::Millis;
use crate::error::DecodeError;
use crate::PeerId;

/// The key that marks an ephemeral payload as presence.
pub const MARKER: &str = "__presence";
/// The channel that says who a peer is ([`Member`]).
pub const MEMBER: &str = "member";
/// The channel that says where a peer is ([`Focus`]).
pub const FOCUS: &str = "focus";
/// automerge-repo's default heartbeat interval.
pub const DEFAULT_HEARTBEAT: Millis = Millis(15_000);
/// automerge-repo's default time after which a silent peer is forgotten (three heartbeats).
pub const DEFAULT_PEER_TTL: Millis = Millis(45_000);
/// How long after hearing a new peer we announce ourselves (as automerge-repo does).
pub const ANNOUNCE_DELAY: Millis = Millis(500);
/// Presence payloads larger than this are ignored: presence is a few fields, not documents.
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// Nesting limit when reading a payload.
const RECURSION_LIMIT: usize = 32;

/// A presence state: channel name to value.
pub type State = BTreeMap<String, Value>;

/// Who a peer is (channel [`MEMBER`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The user's login.
    pub login: String,
    /// The name to show.
    pub name: String,
    /// The id of the user's institution.
    pub institution: String,
}

/// Where a peer is (channel [`FOCUS`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Focus {
    /// The section of the document: `agenda`, `minutes`, `attendance`, `decisions`,
    /// `services`, or a case section such as `diagnosis`.
    pub section: String,
    /// Whether the peer is typing there (not just looking).
    pub editing: bool,
}

/// One presence message, as automerge-repo 2.x sends it.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// The sender's whole state.
    Snapshot(State),
    /// One channel of the sender's state changed.
    Update {
        /// The channel.
        channel: String,
        /// Its new value.
        value: Value,
    },
    /// The sender is still here.
    Heartbeat,
    /// The sender is leaving.
    Goodbye,
}

impl Message {
    /// The ephemeral payload: CBOR `{"__presence": {...}}`.
    pub fn encode(&self) -> Vec<u8> {
        let text = |s: &str| Cbor::Text(s.to_string());
        let mut fields = Vec::new();
        match self {
            Message::Snapshot(state) => {
                fields.push((text("type"), text("snapshot")));
                fields.push((text("state"), state_to_cbor(state)));
            }
            Message::Update { channel, value } => {
                fields.push((text("type"), text("update")));
                fields.push((text("channel"), text(channel)));
                fields.push((text("value"), to_cbor(value)));
            }
            Message::Heartbeat => fields.push((text("type"), text("heartbeat"))),
            Message::Goodbye => fields.push((text("type"), text("goodbye"))),
        }
        let envelope = Cbor::Map(vec![(text(MARKER), Cbor::Map(fields))]);
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = ciborium::into_writer(&envelope, &mut out);
        out
    }

    /// Reads an ephemeral payload. `Ok(None)` when it is not presence (other ephemeral data
    /// passes by); an error when it claims to be presence and is malformed.
    pub fn decode(data: &[u8]) -> Result<Option<Message>, DecodeError> {
        if data.len() > MAX_PAYLOAD {
            return Err(DecodeError::TooLarge {
                size: data.len(),
                limit: MAX_PAYLOAD,
            });
        }
        let value: Cbor = ciborium::de::from_reader_with_recursion_limit(data, RECURSION_LIMIT)
            .map_err(|e| DecodeError::Cbor(e.to_string()))?;
        let Cbor::Map(entries) = value else {
            return Ok(None);
        };
        let Some(message) = field(&entries, MARKER) else {
            return Ok(None);
        };
        let Cbor::Map(message) = message else {
            return Err(wrong("__presence", "a map"));
        };
        let kind = match field(message, "type") {
            Some(Cbor::Text(t)) => t.as_str(),
            _ => return Err(wrong("type", "a text")),
        };
        Ok(Some(match kind {
            "snapshot" => match field(message, "state").map(from_cbor) {
                Some(Value::Object(state)) => Message::Snapshot(state.into_iter().collect()),
                // automerge-repo sends whatever the app gave as its initial state.
                Some(Value::Null) | None => Message::Snapshot(State::new()),
                Some(_) => return Err(wrong("state", "a map")),
            },
            "update" => {
                let Some(Cbor::Text(channel)) = field(message, "channel") else {
                    return Err(wrong("channel", "a text"));
                };
                Message::Update {
                    channel: channel.clone(),
                    value: field(message, "value")
                        .map(from_cbor)
                        .unwrap_or(Value::Null),
                }
            }
            "heartbeat" => Message::Heartbeat,
            "goodbye" => Message::Goodbye,
            other => return Err(DecodeError::UnknownType(format!("presence {other}"))),
        }))
    }
}

fn wrong(field: &'static str, expected: &'static str) -> DecodeError {
    DecodeError::WrongType { field, expected }
}

fn field<'a>(entries: &'a [(Cbor, Cbor)], name: &str) -> Option<&'a Cbor> {
    entries.iter().find_map(|(k, v)| match k {
        Cbor::Text(t) if t == name => Some(v),
        _ => None,
    })
}

fn state_to_cbor(state: &State) -> Cbor {
    Cbor::Map(
        state
            .iter()
            .map(|(k, v)| (Cbor::Text(k.clone()), to_cbor(v)))
            .collect(),
    )
}

/// JSON to CBOR as cbor-x encodes JS values: integers as integers, other numbers as floats.
fn to_cbor(value: &Value) -> Cbor {
    match value {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Cbor::Integer(i.into()),
            (None, Some(u), _) => Cbor::Integer(u.into()),
            (None, None, Some(f)) => Cbor::Float(f),
            (None, None, None) => Cbor::Null,
        },
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Array(items) => Cbor::Array(items.iter().map(to_cbor).collect()),
        Value::Object(map) => Cbor::Map(
            map.iter()
                .map(|(k, v)| (Cbor::Text(k.clone()), to_cbor(v)))
                .collect(),
        ),
    }
}

/// CBOR to JSON: byte strings become arrays of numbers, tags are looked through, map keys
/// that are numbers, booleans or null are written as text, and entries with any other key
/// (an array, a map, bytes) are dropped.
fn from_cbor(value: &Cbor) -> Value {
    match value {
        Cbor::Null => Value::Null,
        Cbor::Bool(b) => Value::Bool(*b),
        Cbor::Integer(i) => {
            let i = i128::from(*i);
            match (i64::try_from(i), u64::try_from(i)) {
                (Ok(i), _) => Value::from(i),
                (_, Ok(u)) => Value::from(u),
                _ => Value::from(i as f64),
            }
        }
        Cbor::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Cbor::Text(s) => Value::String(s.clone()),
        Cbor::Bytes(b) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
        Cbor::Array(items) => Value::Array(items.iter().map(from_cbor).collect()),
        Cbor::Map(entries) => Value::Object(
            entries
                .iter()
                .filter_map(|(k, v)| {
                    // Only scalar keys: writing a nested key as JSON text escapes it once per
                    // level, and a 500-byte payload became 150 KB (found by fuzzing).
                    let key = match k {
                        Cbor::Text(t) => t.clone(),
                        Cbor::Integer(_) | Cbor::Float(_) | Cbor::Bool(_) | Cbor::Null => {
                            from_cbor(k).to_string()
                        }
                        _ => return None,
                    };
                    Some((key, from_cbor(v)))
                })
                .collect(),
        ),
        Cbor::Tag(_, inner) => from_cbor(inner),
        _ => Value::Null,
    }
}

/// What we know of one other peer.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerState {
    /// Its state, channel by channel.
    pub state: State,
    /// When it last sent a snapshot or an update.
    pub last_active_at: Millis,
    /// When it was last heard from at all.
    pub last_seen_at: Millis,
}

impl PeerState {
    /// Its [`Member`] channel, when present and well-formed.
    pub fn member(&self) -> Option<Member> {
        self.channel(MEMBER)
    }

    /// Its [`Focus`] channel, when present and well-formed.
    pub fn focus(&self) -> Option<Focus> {
        self.channel(FOCUS)
    }

    fn channel<T: for<'de> Deserialize<'de>>(&self, name: &str) -> Option<T> {
        self.state
            .get(name)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

/// What happened to another peer's presence.
#[derive(Clone, Debug, PartialEq)]
pub enum PresenceEvent {
    /// A peer sent its whole state.
    Snapshot {
        /// The peer.
        peer: PeerId,
        /// Its state.
        state: State,
    },
    /// A peer changed one channel.
    Update {
        /// The peer.
        peer: PeerId,
        /// The channel.
        channel: String,
        /// The value.
        value: Value,
    },
    /// A peer is still here.
    Heartbeat {
        /// The peer.
        peer: PeerId,
    },
    /// A peer left.
    Goodbye {
        /// The peer.
        peer: PeerId,
    },
    /// Peers not heard from within the TTL were forgotten.
    Pruned(Vec<PeerId>),
}

/// Timing of a [`Presence`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresenceConfig {
    /// A heartbeat goes out when nothing else was sent for this long.
    pub heartbeat: Millis,
    /// A peer not heard from for this long is forgotten.
    pub peer_ttl: Millis,
}

impl Default for PresenceConfig {
    fn default() -> Self {
        PresenceConfig {
            heartbeat: DEFAULT_HEARTBEAT,
            peer_ttl: DEFAULT_PEER_TTL,
        }
    }
}

/// What [`Presence::tick`] asks the host to do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tick {
    /// Payloads to broadcast on the document, in order.
    pub send: Vec<Vec<u8>>,
    /// Peers forgotten now.
    pub pruned: Vec<PeerId>,
}

/// The presence of one participant in one document: our state, and what we know of the others.
#[derive(Clone, Debug)]
pub struct Presence {
    config: PresenceConfig,
    local: State,
    peers: BTreeMap<PeerId, PeerState>,
    running: bool,
    last_sent: Millis,
    last_pruned: Millis,
    announce_at: Option<Millis>,
}

impl Presence {
    /// A stopped presence with an empty state.
    pub fn new(config: PresenceConfig) -> Self {
        Presence {
            config,
            local: State::new(),
            peers: BTreeMap::new(),
            running: false,
            last_sent: Millis(0),
            last_pruned: Millis(0),
            announce_at: None,
        }
    }

    /// Starts with this state; returns the snapshot to broadcast.
    pub fn start(&mut self, now: Millis, initial: State) -> Vec<u8> {
        self.running = true;
        self.local = initial;
        self.peers.clear();
        self.last_pruned = now;
        self.snapshot(now)
    }

    /// Whether started and not stopped.
    pub fn running(&self) -> bool {
        self.running
    }

    /// Our own state.
    pub fn local(&self) -> &State {
        &self.local
    }

    /// The other peers we know of.
    pub fn peers(&self) -> &BTreeMap<PeerId, PeerState> {
        &self.peers
    }

    /// Our whole state as a payload (sent at start, on announce, and after a reconnection).
    pub fn snapshot(&mut self, now: Millis) -> Vec<u8> {
        self.last_sent = now;
        Message::Snapshot(self.local.clone()).encode()
    }

    /// After a reconnection: forgets the peers (their state is as stale as theirs of us) and
    /// returns the goodbye and snapshot to broadcast, in this order. The others meet us as a
    /// new peer and announce themselves. Returns the peers forgotten too.
    pub fn rejoin(&mut self, now: Millis) -> (Vec<Vec<u8>>, Vec<PeerId>) {
        if !self.running {
            return (Vec::new(), Vec::new());
        }
        let forgotten = std::mem::take(&mut self.peers).into_keys().collect();
        self.announce_at = None;
        let send = vec![Message::Goodbye.encode(), self.snapshot(now)];
        (send, forgotten)
    }

    /// Sets one channel of our state; returns the update to broadcast (`None` when stopped).
    pub fn set(&mut self, now: Millis, channel: &str, value: Value) -> Option<Vec<u8>> {
        self.local.insert(channel.to_string(), value.clone());
        if !self.running {
            return None;
        }
        self.last_sent = now;
        Some(
            Message::Update {
                channel: channel.to_string(),
                value,
            }
            .encode(),
        )
    }

    /// Takes an ephemeral payload from `sender`. Returns the event to show, `Ok(None)` for
    /// ephemeral data that is not presence (or when stopped), and an error for a malformed
    /// presence payload (which changes nothing).
    pub fn receive(
        &mut self,
        now: Millis,
        sender: &PeerId,
        data: &[u8],
    ) -> Result<Option<PresenceEvent>, DecodeError> {
        if !self.running {
            return Ok(None);
        }
        let Some(message) = Message::decode(data)? else {
            return Ok(None);
        };
        if !self.peers.contains_key(sender) && self.announce_at.is_none() {
            self.announce_at = Some(Millis(now.0 + ANNOUNCE_DELAY.0));
        }
        let peer = sender.clone();
        Ok(Some(match message {
            Message::Heartbeat => {
                // A heartbeat from a stranger adds nothing: it will send a snapshot.
                let Some(known) = self.peers.get_mut(sender) else {
                    return Ok(None);
                };
                known.last_seen_at = now;
                PresenceEvent::Heartbeat { peer }
            }
            Message::Goodbye => {
                self.peers.remove(sender);
                PresenceEvent::Goodbye { peer }
            }
            Message::Update { channel, value } => {
                self.merge(now, sender, [(channel.clone(), value.clone())].into());
                PresenceEvent::Update {
                    peer,
                    channel,
                    value,
                }
            }
            Message::Snapshot(state) => {
                self.merge(now, sender, state.clone());
                PresenceEvent::Snapshot { peer, state }
            }
        }))
    }

    fn merge(&mut self, now: Millis, sender: &PeerId, state: State) {
        let entry = self.peers.entry(sender.clone()).or_insert(PeerState {
            state: State::new(),
            last_active_at: now,
            last_seen_at: now,
        });
        entry.state.extend(state);
        entry.last_active_at = now;
        entry.last_seen_at = now;
    }

    /// Sends what is due (an announcement, a heartbeat) and forgets silent peers.
    pub fn tick(&mut self, now: Millis) -> Tick {
        let mut tick = Tick::default();
        if !self.running {
            return tick;
        }
        if self.announce_at.is_some_and(|at| now >= at) {
            self.announce_at = None;
            tick.send.push(self.snapshot(now));
        }
        if now.0 >= self.last_sent.0 + self.config.heartbeat.0 {
            self.last_sent = now;
            tick.send.push(Message::Heartbeat.encode());
        }
        if now.0 >= self.last_pruned.0 + self.config.heartbeat.0 {
            self.last_pruned = now;
            let horizon = now.0.saturating_sub(self.config.peer_ttl.0);
            let silent: Vec<PeerId> = self
                .peers
                .iter()
                .filter(|(_, p)| p.last_seen_at.0 < horizon)
                .map(|(id, _)| id.clone())
                .collect();
            for id in &silent {
                self.peers.remove(id);
            }
            tick.pruned = silent;
        }
        tick
    }

    /// When [`Presence::tick`] has something to do next (`None` when stopped).
    pub fn next_deadline(&self) -> Option<Millis> {
        if !self.running {
            return None;
        }
        let heartbeat = self.last_sent.0 + self.config.heartbeat.0;
        let prune = self.last_pruned.0 + self.config.heartbeat.0;
        let mut next = heartbeat.min(prune);
        if let Some(at) = self.announce_at {
            next = next.min(at.0);
        }
        Some(Millis(next))
    }

    /// Stops; returns the goodbye to broadcast (`None` when already stopped).
    pub fn stop(&mut self) -> Option<Vec<u8>> {
        if !self.running {
            return None;
        }
        self.running = false;
        self.peers.clear();
        self.announce_at = None;
        Some(Message::Goodbye.encode())
    }
}

mod binding;
pub use binding::{bind_member, Bound};

#[cfg(test)]
mod tests;
