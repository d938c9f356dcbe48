//! The `engine_input` target: a server engine driven by a hostile script.
//!
//! The input is a script for three connection slots and three documents. A step connects,
//! joins, disconnects, sends a raw frame (anything at all), sends a `sync`/`request` with raw
//! sync data or with a real change made by the slot's own replica, sends the other messages,
//! ticks the clock, holds, releases, reorders or fails storage, changes access or forgets a
//! document. Storage is a [`MemoryStorage`]. A flag turns the relay path on (issue #23: splices
//! into a document's texts stored and forwarded without applying them at once); a step splices
//! the slot's replica's text, so that relayed changes meet everything else.
//!
//! What must hold: the engine never panics; every `sync` it sends advertises only heads that
//! are durable in the store (the durable acknowledgement invariant); and afterwards, with
//! storage healthy again, a fresh well-behaved peer can join (it gets `peer`), create a
//! document, and receive an acknowledgement whose heads include its change.

use std::collections::HashMap;

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ChangeHash, ReadDoc, ROOT};

use super::bytes::Bytes;
use crate::engine::{
    load_stored, Access, ConnId, Direction, Effect, Engine, EngineConfig, Input, Millis, Policy,
    Principal,
};
use crate::host::{carry_out, Host};
use crate::model;
use crate::storage::MemoryStorage;
use crate::wire::{DocMessage, Ephemeral, Join, Message, PeerMetadata};
use crate::Refusal;
use crate::{DocumentId, PeerId, StorageId};

const SLOTS: usize = 3;
const DOCS: usize = 3;
/// The document the final liveness check creates.
const FRESH_DOC: [u8; 16] = [0xab; 16];
const FRESH_CONN: ConnId = ConnId(1_000_000);

fn doc_id(index: usize) -> DocumentId {
    // Index 1 is validated by the model when the policy validates.
    DocumentId::from_bytes([index as u8 + 1; 16])
}

pub(super) fn peer_id(slot: usize) -> PeerId {
    PeerId::new(format!("peer-{slot}")).unwrap_or_else(|_| unreachable_id())
}

fn unreachable_id() -> PeerId {
    panic!("a fixed peer id is invalid")
}

fn server_id() -> PeerId {
    PeerId::new("server").unwrap_or_else(|_| unreachable_id())
}

/// Slot 0 writes, slot 1 may only read, slot 2 may not see document 2; every change is
/// checked against the model for document 1 when `validates`. Every text is a relay text, but
/// the model's free texts alone in a validated document.
#[derive(Debug)]
struct FuzzPolicy {
    validates: bool,
    inspects: bool,
}

impl Policy for FuzzPolicy {
    fn access(&self, principal: &Principal, document: &DocumentId, _exists: bool) -> Access {
        match (principal.user.as_str(), document.as_bytes()[0]) {
            ("reader", _) => Access::Read,
            ("outsider", 3) => Access::None,
            _ => Access::ReadWrite,
        }
    }

    fn inspects_changes(&self) -> bool {
        self.inspects
    }

    fn check_changes(
        &self,
        _: &Principal,
        _: &DocumentId,
        changes: &[crate::engine::ChangeSummary],
    ) -> Result<(), Refusal> {
        // A forged actor: refused.
        match changes
            .iter()
            .find(|c| c.actor.to_bytes().starts_with(b"forged"))
        {
            Some(c) => Err(Refusal::ForgedActor {
                change: c.hash,
                actor: c.actor.clone(),
            }),
            None => Ok(()),
        }
    }

    fn check_document(
        &self,
        document: &DocumentId,
        doc: &Automerge,
        _: Option<&Principal>,
    ) -> Result<(), Refusal> {
        if self.validates && *document == doc_id(1) {
            model::validate(doc)
                .map(|_| ())
                .map_err(|e| Refusal::Rule(e.to_string()))
        } else {
            Ok(())
        }
    }

    fn relay_texts(&self, document: &DocumentId, doc: &Automerge) -> Vec<automerge::ObjId> {
        if self.validates && *document == doc_id(1) {
            model::free_texts(doc)
        } else {
            model::every_text(doc)
        }
    }
}

/// A client on one slot: its connection and its own replicas of the documents.
struct Slot {
    conn: Option<ConnId>,
    replicas: Vec<Automerge>,
    states: Vec<sync::State>,
}

struct Harness {
    /// The engine and its store, storage carried out at once unless held.
    host: Host<FuzzPolicy>,
    /// The same store as the host's (clones share their data), read by the checks.
    store: MemoryStorage,
    now: u64,
    next_conn: u64,
    slots: Vec<Slot>,
    /// Messages the engine sent, per connection, in order.
    sent: HashMap<ConnId, Vec<Message>>,
}

impl Harness {
    fn new(flags: u8) -> Self {
        let mut config = EngineConfig::server(server_id());
        config.storage_id = StorageId::new("server-storage").ok();
        if flags & 4 != 0 {
            // Compact early and often, and evict under a tiny memory budget.
            config.compact_min_bytes = 64;
            config.compact_max_chunks = 2;
            config.memory_budget = 4 * 1024;
            config.evict_idle_after = Some(1_000);
        }
        config.relay = flags & 8 != 0;
        let policy = FuzzPolicy {
            validates: flags & 1 != 0,
            inspects: flags & 2 != 0,
        };
        let slots = (0..SLOTS)
            .map(|slot| Slot {
                conn: None,
                replicas: (0..DOCS)
                    .map(|d| {
                        let actor = ActorId::from(format!("slot{slot}-doc{d}").as_bytes());
                        Automerge::new().with_actor(actor)
                    })
                    .collect(),
                states: (0..DOCS).map(|_| sync::State::new()).collect(),
            })
            .collect();
        let store = MemoryStorage::new();
        Self {
            host: Host::new(Engine::new(config, policy), store.clone()),
            store,
            now: 1,
            next_conn: 1,
            slots,
            sent: HashMap::new(),
        }
    }

    /// Feeds an input and everything it leads to (storage answered unless held); every
    /// message is checked against the store as it is when the engine sends it.
    fn input(&mut self, input: Input) {
        let now = Millis(self.now);
        let Self {
            host,
            store,
            slots,
            sent,
            ..
        } = self;
        host.drive(
            input,
            || now,
            |effect| match effect {
                Effect::Send { conn, message } => {
                    check_durable(store, &message);
                    sent.entry(conn).or_default().push(message);
                }
                Effect::Close { conn, .. } => {
                    for slot in slots.iter_mut() {
                        if slot.conn == Some(conn) {
                            slot.conn = None;
                        }
                    }
                }
                Effect::Storage { .. } | Effect::Event(_) => {}
            },
        );
    }

    fn connect(&mut self, slot: usize, user: &str) {
        if let Some(old) = self.slots[slot].conn.take() {
            self.input(Input::Disconnected { conn: old });
        }
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        self.slots[slot].conn = Some(conn);
        self.slots[slot].states = (0..DOCS).map(|_| sync::State::new()).collect();
        self.input(Input::Connected {
            conn,
            direction: Direction::Inbound,
            principal: Principal::new(user, format!("device-{slot}")),
        });
    }

    fn send(&mut self, slot: usize, message: Message) {
        if let Some(conn) = self.slots[slot].conn {
            self.input(Input::Received { conn, message });
        }
    }

    fn doc_message(&self, slot: usize, doc: usize, data: Vec<u8>) -> DocMessage {
        DocMessage {
            sender_id: peer_id(slot),
            target_id: server_id(),
            document_id: doc_id(doc),
            data,
        }
    }

    /// The slot's replica takes what the server sent it, then says what it has.
    fn sync_replica(&mut self, slot: usize, doc: usize) {
        let Some(conn) = self.slots[slot].conn else {
            return;
        };
        let received = self.sent.remove(&conn).unwrap_or_default();
        let s = &mut self.slots[slot];
        for message in received {
            if let Message::Sync(m) = message {
                if let Some(d) = (0..DOCS).find(|d| doc_id(*d) == m.document_id) {
                    if let Ok(decoded) = sync::Message::decode(&m.data) {
                        // A replica that cannot apply it only falls behind.
                        let _ = s.replicas[d].receive_sync_message(&mut s.states[d], decoded);
                    }
                }
            }
        }
        if let Some(out) = s.replicas[doc].generate_sync_message(&mut s.states[doc]) {
            let message = Message::Sync(self.doc_message(slot, doc, out.encode()));
            self.send(slot, message);
        }
    }

    fn step(&mut self, input: &mut Bytes<'_>) {
        let op = input.byte();
        let slot = usize::from(input.byte()) % SLOTS;
        let doc = usize::from(input.byte()) % DOCS;
        match op % 16 {
            0 => {
                let user = ["writer", "reader", "outsider"][slot];
                self.connect(slot, user);
            }
            1 => {
                let versions = match input.byte() % 4 {
                    0 => vec!["0".to_owned()],
                    1 => Vec::new(),
                    _ => vec!["1".to_owned()],
                };
                self.send(
                    slot,
                    Message::Join(Join {
                        sender_id: peer_id(slot),
                        metadata: PeerMetadata::default(),
                        supported_protocol_versions: versions,
                    }),
                );
            }
            2 => {
                if let Some(conn) = self.slots[slot].conn {
                    let bytes = input.chunk().to_vec();
                    self.input(Input::Frame { conn, bytes });
                }
            }
            3 | 4 => {
                let data = input.chunk().to_vec();
                let m = self.doc_message(slot, doc, data);
                let message = if op % 16 == 3 {
                    Message::Sync(m)
                } else {
                    Message::Request(m)
                };
                self.send(slot, message);
            }
            5 => {
                let count = u64::from(input.byte());
                let data = input.chunk().to_vec();
                let sender_id = if input.byte() % 4 == 0 {
                    peer_id((slot + 1) % SLOTS)
                } else {
                    peer_id(slot)
                };
                self.send(
                    slot,
                    Message::Ephemeral(Ephemeral {
                        sender_id,
                        target_id: server_id(),
                        document_id: doc_id(doc),
                        count,
                        session_id: format!("session-{}", input.byte() % 2),
                        data,
                    }),
                );
            }
            6 => {
                let message = match input.byte() % 5 {
                    0 => Message::DocUnavailable {
                        sender_id: peer_id(slot),
                        target_id: server_id(),
                        document_id: doc_id(doc),
                    },
                    1 => Message::Leave {
                        sender_id: peer_id(slot),
                    },
                    2 => Message::Error {
                        message: "bye".into(),
                    },
                    3 => Message::RemoteSubscriptionChange {
                        sender_id: peer_id(slot),
                        target_id: server_id(),
                        add: StorageId::new("server-storage").into_iter().collect(),
                        remove: Vec::new(),
                    },
                    // Someone else's sender id.
                    _ => Message::Leave {
                        sender_id: peer_id((slot + 1) % SLOTS),
                    },
                };
                self.send(slot, message);
            }
            7 => {
                self.now += u64::from(input.byte()) * 50;
                self.input(Input::Tick);
            }
            8 => {
                if let Some(conn) = self.slots[slot].conn.take() {
                    self.input(Input::Disconnected { conn });
                }
            }
            9 => match input.byte() % 5 {
                0 => self.host.hold_storage(true),
                1 => self.release(false),
                2 => self.release(true),
                3 => self.store.fail_writes(true),
                _ => self.store.fail_writes(false),
            },
            10 => {
                let document = (input.byte() % 2 == 0).then(|| doc_id(doc));
                self.input(Input::AccessChanged { document });
            }
            11 => self.input(Input::Forget {
                document: doc_id(doc),
            }),
            12 => {
                // A real change by the slot's replica, then a sync round from it.
                let key = format!("k{}", input.byte() % 8);
                let value = i64::from(input.byte());
                let forged = input.byte() % 8 == 7;
                let replica = &mut self.slots[slot].replicas[doc];
                if forged {
                    replica.set_actor(ActorId::from(format!("forged{slot}").as_bytes()));
                }
                let mut tx = replica.transaction();
                let _ = tx.put(ROOT, key, value);
                tx.commit();
                self.sync_replica(slot, doc);
            }
            13 => {
                // Typing: a splice into the replica's text (made first when it has none), then
                // a sync round from it.
                let at = usize::from(input.byte());
                let insert = ["a", "ż", "tekst ", ""][usize::from(input.byte() % 4)];
                let delete = usize::from(input.byte() % 3);
                let forged = input.byte() % 8 == 7;
                let replica = &mut self.slots[slot].replicas[doc];
                if forged {
                    replica.set_actor(ActorId::from(format!("forged{slot}").as_bytes()));
                }
                splice(replica, at, delete, insert);
                self.sync_replica(slot, doc);
            }
            14 => self.sync_replica(slot, doc),
            _ => {
                self.input(Input::Find {
                    document: doc_id(doc),
                });
            }
        }
    }

    /// Answers the held storage tasks, in order or the last first, each against the store as it
    /// is after the answers before it.
    fn release(&mut self, reversed: bool) {
        self.host.hold_storage(false);
        let mut held = self.host.take_held();
        if reversed {
            held.reverse();
        }
        for (task, request) in held {
            let answer = carry_out(&self.store, task, request);
            self.input(answer);
        }
    }

    /// A fresh, well-behaved peer joins, creates a document, and gets it acknowledged.
    fn check_alive(&mut self) {
        self.release(false);
        self.store.fail_writes(false);
        self.input(Input::Connected {
            conn: FRESH_CONN,
            direction: Direction::Inbound,
            principal: Principal::new("writer", "fresh-device"),
        });
        let fresh = PeerId::new("fresh-peer").unwrap_or_else(|_| unreachable_id());
        self.input(Input::Received {
            conn: FRESH_CONN,
            message: Message::Join(Join {
                sender_id: fresh.clone(),
                metadata: PeerMetadata::default(),
                supported_protocol_versions: vec!["1".into()],
            }),
        });
        let answered = self.sent.get(&FRESH_CONN).is_some_and(|sent| {
            sent.iter()
                .any(|m| matches!(m, Message::Peer(p) if p.target_id == fresh))
        });
        assert!(answered, "a fresh peer's join got no peer answer");

        let document = DocumentId::from_bytes(FRESH_DOC);
        let mut replica = Automerge::new().with_actor(ActorId::from(b"fresh".as_slice()));
        let mut tx = replica.transaction();
        let _ = tx.put(ROOT, "fresh", true);
        tx.commit();
        let ours: Vec<ChangeHash> = replica.get_heads();
        let mut state = sync::State::new();
        let mut acknowledged = false;
        for _ in 0..20 {
            let received = self.sent.remove(&FRESH_CONN).unwrap_or_default();
            for message in received {
                if let Message::Sync(m) = message {
                    if m.document_id != document {
                        continue;
                    }
                    let Ok(decoded) = sync::Message::decode(&m.data) else {
                        continue;
                    };
                    let heads = decoded.heads.clone();
                    let _ = replica.receive_sync_message(&mut state, decoded);
                    if self.includes(document, &heads, &ours) {
                        acknowledged = true;
                    }
                }
            }
            if acknowledged {
                break;
            }
            if let Some(out) = replica.generate_sync_message(&mut state) {
                self.input(Input::Received {
                    conn: FRESH_CONN,
                    message: Message::Sync(DocMessage {
                        sender_id: fresh.clone(),
                        target_id: server_id(),
                        document_id: document,
                        data: out.encode(),
                    }),
                });
            }
            self.now += 10;
            self.input(Input::Tick);
        }
        assert!(
            acknowledged,
            "a fresh peer's new document was never acknowledged"
        );
    }

    /// Whether the stored document at `heads` contains every change of `ours`.
    fn includes(&self, document: DocumentId, heads: &[ChangeHash], ours: &[ChangeHash]) -> bool {
        let Ok(Some(stored)) = self.store.load_now(document) else {
            return false;
        };
        let Ok(doc) = load_stored(&stored) else {
            return false;
        };
        let at = doc.fork_at(heads);
        at.is_ok_and(|at| ours.iter().all(|h| at.get_change_by_hash(h).is_some()))
    }
}

/// Splices `insert` into the replica's text `text` at `at` (within its length), deleting up to
/// `delete` characters; the text is made first when the replica has none.
fn splice(replica: &mut Automerge, at: usize, delete: usize, insert: &str) {
    let text = match replica.get(ROOT, "text") {
        Ok(Some((automerge::Value::Object(automerge::ObjType::Text), id))) => id,
        _ => {
            let mut tx = replica.transaction();
            let made = tx.put_object(ROOT, "text", automerge::ObjType::Text);
            tx.commit();
            match made {
                Ok(id) => id,
                Err(_) => return,
            }
        }
    };
    let len = replica.length(&text);
    let pos = at % (len + 1);
    let delete = isize::try_from(delete.min(len - pos)).unwrap_or(0);
    let mut tx = replica.transaction();
    let _ = tx.splice_text(&text, pos, delete, insert);
    tx.commit();
}

/// Every head a `sync` advertises is in the store.
fn check_durable(store: &MemoryStorage, message: &Message) {
    let Message::Sync(m) = message else {
        return;
    };
    let decoded = match sync::Message::decode(&m.data) {
        Ok(decoded) => decoded,
        Err(e) => panic!("the engine sent sync data that does not decode: {e}"),
    };
    if decoded.heads.is_empty() {
        return;
    }
    let stored = match store.load_now(m.document_id) {
        Ok(Some(stored)) => match load_stored(&stored) {
            Ok(doc) => doc,
            Err(e) => panic!("the engine stored a document that does not load: {e}"),
        },
        Ok(None) => Automerge::new(),
        Err(e) => panic!("the memory store failed: {e}"),
    };
    for head in &decoded.heads {
        assert!(
            stored.get_change_by_hash(head).is_some(),
            "the engine advertised head {head} of {} that is not durable",
            m.document_id
        );
    }
}

/// Runs a hostile script against a server engine; see the [module documentation](self).
pub fn engine_input(data: &[u8]) {
    engine_script(data);
}

/// [`engine_input`], returning what the engine counted of the relay path (so that a campaign
/// can tell that it took it).
pub fn engine_script(data: &[u8]) -> crate::engine::RelayStats {
    let mut input = Bytes::new(data);
    let mut harness = Harness::new(input.byte());
    let mut steps = 0;
    while !input.is_empty() && steps < 200 {
        steps += 1;
        harness.step(&mut input);
    }
    harness.check_alive();
    harness.host.engine.relay_stats()
}
