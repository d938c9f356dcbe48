//! A deterministic in-memory network of engines: a regional server and tablets, with a seeded
//! fault model (delay, reorder, duplicate, drop) and stores that can fail or hang. Tests drive it
//! as stories: "the worker edits offline, the school edits the same section, both reconnect".

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ObjType, ReadDoc, ROOT};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sync_core::engine::{
    Access, ConnId, Direction, Effect, Engine, EngineConfig, Event, Input, Millis, Policy,
    Principal, TaskId,
};
use sync_core::host::carry_out;
use sync_core::storage::{MemoryStorage, StorageRequest};
use sync_core::wire;
use sync_core::{DocumentId, PeerId, Refusal};

/// Access rules for tests: `None` allows everything; otherwise (user, document) → access, and
/// creating an unknown document is allowed to everyone.
#[derive(Debug, Default, Clone)]
pub struct TestPolicy {
    pub rules: Option<HashMap<(String, DocumentId), Access>>,
    /// Documents whose root `status` is this value are invalid (a stand-in for schema rules).
    pub invalid_status: Option<&'static str>,
    /// Look at each writer's new changes, as the server does (all are accepted but those
    /// whose message contains `refuse_message`).
    pub inspect: bool,
    /// A change whose commit message contains this is refused (a stand-in for a forged
    /// author trailer).
    pub refuse_message: Option<&'static str>,
    /// Root keys of Text objects whose splices may be relayed (issue #23).
    pub relay_texts: Vec<&'static str>,
}

impl Policy for TestPolicy {
    fn inspects_changes(&self) -> bool {
        self.inspect
    }

    fn access(&self, principal: &Principal, document: &DocumentId, exists: bool) -> Access {
        match &self.rules {
            None => Access::ReadWrite,
            Some(rules) => match rules.get(&(principal.user.clone(), *document)) {
                Some(a) => *a,
                None if !exists => Access::ReadWrite,
                None => Access::None,
            },
        }
    }

    fn check_changes(
        &self,
        _: &Principal,
        _: &DocumentId,
        changes: &[sync_core::engine::ChangeSummary],
    ) -> Result<(), Refusal> {
        let Some(bad) = self.refuse_message else {
            return Ok(());
        };
        match changes
            .iter()
            .any(|c| c.message.as_deref().is_some_and(|m| m.contains(bad)))
        {
            true => Err(Refusal::Rule(format!("message {bad:?}"))),
            false => Ok(()),
        }
    }

    fn relay_texts(&self, _: &DocumentId, doc: &Automerge) -> Vec<automerge::ObjId> {
        self.relay_texts
            .iter()
            .filter_map(|key| match doc.get(ROOT, *key).ok().flatten() {
                Some((automerge::Value::Object(ObjType::Text), id)) => Some(id),
                _ => None,
            })
            .collect()
    }

    fn check_document(
        &self,
        _: &DocumentId,
        doc: &Automerge,
        _: Option<&Principal>,
    ) -> Result<(), Refusal> {
        let status = doc
            .get(ROOT, "status")
            .ok()
            .flatten()
            .and_then(|(v, _)| v.into_string().ok());
        match (self.invalid_status, status) {
            (Some(bad), Some(s)) if s == bad => {
                Err(Refusal::Rule(format!("status {bad:?} is not allowed")))
            }
            _ => Ok(()),
        }
    }
}

/// How the network misbehaves (probabilities per frame).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    pub drop: f64,
    pub duplicate: f64,
    pub reorder: f64,
    pub max_delay: u64,
}

pub struct Node {
    pub name: String,
    pub engine: Engine<TestPolicy>,
    pub store: MemoryStorage,
    /// Storage tasks are not carried out while true (a store that never answers).
    pub hold_storage: bool,
    pub held: Vec<(TaskId, StorageRequest)>,
    pub events: Vec<Event>,
    /// Every document this node asked its store to load, in order.
    pub loads: Vec<DocumentId>,
}

struct Link {
    a: usize,
    b: usize,
    conn_a: ConnId,
    conn_b: ConnId,
    /// Frames in flight: (deliver at, to node, on conn, bytes).
    queue: VecDeque<(u64, usize, ConnId, Vec<u8>)>,
    open: bool,
}

pub struct Net {
    pub now: u64,
    pub nodes: Vec<Node>,
    links: Vec<Link>,
    next_conn: u64,
    pub faults: Faults,
    rng: StdRng,
    /// Every frame that crossed the network, for tests that inspect traffic.
    pub log: Vec<(usize, usize, wire::Message)>,
}

impl Net {
    pub fn new(seed: u64) -> Self {
        Self {
            now: 1,
            nodes: Vec::new(),
            links: Vec::new(),
            next_conn: 0,
            faults: Faults::default(),
            rng: StdRng::seed_from_u64(seed),
            log: Vec::new(),
        }
    }

    fn add(&mut self, name: &str, config: EngineConfig, policy: TestPolicy) -> usize {
        self.nodes.push(Node {
            name: name.into(),
            engine: Engine::new(config, policy),
            store: MemoryStorage::new(),
            hold_storage: false,
            held: Vec::new(),
            events: Vec::new(),
            loads: Vec::new(),
        });
        self.nodes.len() - 1
    }

    pub fn server(&mut self, name: &str, policy: TestPolicy) -> usize {
        let peer = PeerId::new(name).expect("peer id");
        self.add(name, EngineConfig::server(peer), policy)
    }

    /// A server with its engine configuration adjusted (compaction thresholds, budgets).
    pub fn server_with(
        &mut self,
        name: &str,
        policy: TestPolicy,
        adjust: impl FnOnce(&mut EngineConfig),
    ) -> usize {
        let mut config = EngineConfig::server(PeerId::new(name).expect("peer id"));
        adjust(&mut config);
        self.add(name, config, policy)
    }

    pub fn tablet(&mut self, name: &str) -> usize {
        let peer = PeerId::new(name).expect("peer id");
        self.add(name, EngineConfig::client(peer), TestPolicy::default())
    }

    /// Connects a tablet to the server as `user` (the server's view of who is on the link).
    pub fn connect(&mut self, client: usize, server: usize, user: &str) {
        self.next_conn += 1;
        let conn_a = ConnId(self.next_conn);
        self.next_conn += 1;
        let conn_b = ConnId(self.next_conn);
        self.links.push(Link {
            a: client,
            b: server,
            conn_a,
            conn_b,
            queue: VecDeque::new(),
            open: true,
        });
        let device = self.nodes[client].name.clone();
        self.input(
            server,
            Input::Connected {
                conn: conn_b,
                direction: Direction::Inbound,
                principal: Principal::new(user, device),
            },
        );
        self.input(
            client,
            Input::Connected {
                conn: conn_a,
                direction: Direction::Outbound,
                principal: Principal::new("server", "server"),
            },
        );
    }

    /// Cuts every link of a node (it goes offline); frames in flight are lost.
    pub fn disconnect(&mut self, node: usize) {
        let ids: Vec<usize> = (0..self.links.len())
            .filter(|i| {
                self.links[*i].open && (self.links[*i].a == node || self.links[*i].b == node)
            })
            .collect();
        for i in ids {
            self.close_link(i);
        }
    }

    fn close_link(&mut self, i: usize) {
        let (a, b, ca, cb) = {
            let l = &mut self.links[i];
            l.open = false;
            l.queue.clear();
            (l.a, l.b, l.conn_a, l.conn_b)
        };
        self.input(a, Input::Disconnected { conn: ca });
        self.input(b, Input::Disconnected { conn: cb });
    }

    /// The conn the server sees for a client's open link.
    pub fn server_conn_of(&self, client: usize) -> Option<ConnId> {
        self.links
            .iter()
            .find(|l| l.open && l.a == client)
            .map(|l| l.conn_b)
    }

    pub fn input(&mut self, node: usize, input: Input) {
        let effects = self.nodes[node].engine.handle(Millis(self.now), input);
        self.apply(node, effects);
    }

    /// Sends raw bytes to a node as if they came from a client's link.
    pub fn raw_frame(&mut self, client: usize, bytes: Vec<u8>) {
        if let Some(i) = self.links.iter().position(|l| l.open && l.a == client) {
            let (b, cb) = (self.links[i].b, self.links[i].conn_b);
            self.input(b, Input::Frame { conn: cb, bytes });
        }
    }

    fn apply(&mut self, node: usize, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Send { conn, message } => {
                    let Some(i) = self.link_of(node, conn) else {
                        continue;
                    };
                    let (to, to_conn) = if self.links[i].a == node {
                        (self.links[i].b, self.links[i].conn_b)
                    } else {
                        (self.links[i].a, self.links[i].conn_a)
                    };
                    self.log.push((node, to, message.clone()));
                    let bytes = wire::encode(&message);
                    self.enqueue(i, to, to_conn, bytes);
                }
                Effect::Close { conn, .. } => {
                    if let Some(i) = self.link_of(node, conn) {
                        self.close_link(i);
                    }
                }
                Effect::Storage { task, request } => {
                    if let StorageRequest::Load { document } = &request {
                        self.nodes[node].loads.push(*document);
                    }
                    if self.nodes[node].hold_storage {
                        self.nodes[node].held.push((task, request));
                    } else {
                        self.run_storage(node, task, request);
                    }
                }
                Effect::Event(e) => self.nodes[node].events.push(e),
            }
        }
    }

    /// Carries out a storage task at once and feeds the answer back (depth first: its effects
    /// are applied before the rest of the effects that asked for it).
    fn run_storage(&mut self, node: usize, task: TaskId, request: StorageRequest) {
        let answer = carry_out(&self.nodes[node].store, task, request);
        self.input(node, answer);
    }

    /// Lets a held store answer everything it was asked.
    pub fn release_storage(&mut self, node: usize) {
        self.nodes[node].hold_storage = false;
        let held = std::mem::take(&mut self.nodes[node].held);
        for (task, request) in held {
            self.run_storage(node, task, request);
        }
    }

    fn link_of(&self, node: usize, conn: ConnId) -> Option<usize> {
        self.links.iter().position(|l| {
            l.open && ((l.a == node && l.conn_a == conn) || (l.b == node && l.conn_b == conn))
        })
    }

    fn enqueue(&mut self, link: usize, to: usize, conn: ConnId, bytes: Vec<u8>) {
        let f = self.faults;
        if f.drop > 0.0 && self.rng.random_bool(f.drop) {
            return;
        }
        let delay = if f.max_delay > 0 {
            self.rng.random_range(0..=f.max_delay)
        } else {
            0
        };
        let at = self.now + delay;
        let copies = if f.duplicate > 0.0 && self.rng.random_bool(f.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let q = &mut self.links[link].queue;
            if f.reorder > 0.0 && !q.is_empty() && self.rng.random_bool(f.reorder) {
                let pos = self.rng.random_range(0..q.len());
                q.insert(pos, (at, to, conn, bytes.clone()));
            } else {
                q.push_back((at, to, conn, bytes.clone()));
            }
        }
    }

    /// One step: deliver what is due, then tick every node. Returns whether anything happened.
    pub fn step(&mut self) -> bool {
        self.now += 1;
        let mut delivered = false;
        for i in 0..self.links.len() {
            loop {
                let due = matches!(self.links[i].queue.front(), Some((at, ..)) if *at <= self.now);
                if !due || !self.links[i].open {
                    break;
                }
                let Some((_, to, conn, bytes)) = self.links[i].queue.pop_front() else {
                    break;
                };
                self.input(to, Input::Frame { conn, bytes });
                delivered = true;
            }
        }
        for n in 0..self.nodes.len() {
            self.input(n, Input::Tick);
        }
        delivered || self.links.iter().any(|l| l.open && !l.queue.is_empty())
    }

    /// Runs until nothing is in flight (bounded).
    pub fn run(&mut self) {
        for _ in 0..100_000 {
            let busy = self.step();
            let idle = self
                .nodes
                .iter()
                .all(|n| n.engine.is_idle() || n.hold_storage);
            if !busy && idle {
                // One more round lets ticks emit what the last delivery queued.
                if !self.step() {
                    return;
                }
            }
        }
        panic!("the network did not settle");
    }

    // ----- documents -----

    pub fn create(&mut self, node: usize, id: DocumentId, f: impl FnOnce(&mut Automerge)) {
        let mut doc = Automerge::new();
        f(&mut doc);
        self.input(
            node,
            Input::Create {
                document: id,
                content: Box::new(doc),
            },
        );
    }

    pub fn find(&mut self, node: usize, id: DocumentId) {
        self.input(node, Input::Find { document: id });
    }

    pub fn edit(&mut self, node: usize, id: &DocumentId, f: impl FnOnce(&mut Automerge)) {
        self.nodes[node]
            .engine
            .change_document(id, f)
            .expect("the document is resident on this node");
    }

    pub fn doc(&self, node: usize, id: &DocumentId) -> &Automerge {
        self.nodes[node]
            .engine
            .document(id)
            .expect("resident document")
    }

    pub fn heads(&self, node: usize, id: &DocumentId) -> Vec<ChangeHash> {
        let mut h = self.nodes[node]
            .engine
            .document(id)
            .map(|d| d.get_heads())
            .unwrap_or_default();
        h.sort();
        h
    }

    pub fn events(&mut self, node: usize) -> Vec<Event> {
        std::mem::take(&mut self.nodes[node].events)
    }
}

/// A small case-like document: a `notes` text, a `fields` map, an `items` list, a `status`.
pub fn seed_doc(doc: &mut Automerge) {
    let mut tx = doc.transaction();
    tx.put(ROOT, "status", "referral").expect("put");
    tx.put_object(ROOT, "notes", ObjType::Text).expect("text");
    tx.put_object(ROOT, "fields", ObjType::Map).expect("map");
    tx.put_object(ROOT, "items", ObjType::List).expect("list");
    tx.commit();
}

pub fn text_of(doc: &Automerge, key: &str) -> String {
    let Some((_, obj)) = doc.get(ROOT, key).expect("get") else {
        return String::new();
    };
    doc.text(&obj).expect("text")
}

pub fn obj(doc: &Automerge, key: &str) -> automerge::ObjId {
    doc.get(ROOT, key).expect("get").expect("present").1
}
