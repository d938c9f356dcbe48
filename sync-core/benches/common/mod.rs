//! What the engine benchmarks share: a server engine whose storage is carried out at once, in
//! memory (by `sync_core::host::Host`), so that only the engine's own work (and automerge's) is
//! measured.

use automerge::{Automerge, ObjId};
use sync_core::engine::{
    Access, ConnId, Direction, Effect, Engine, EngineConfig, Input, Millis, Policy, Principal,
};
use sync_core::host;
use sync_core::storage::MemoryStorage;
use sync_core::wire::{self, Join, Message, PeerMetadata};
use sync_core::PeerId;

/// A peer id from bench-made text.
pub fn peer(name: &str) -> PeerId {
    PeerId::new(name).expect("peer id")
}

/// Everyone may do everything; with `BENCH_RELAY=1` every text is a relay text and the
/// engine's relay path (issue #23) is on.
#[derive(Debug)]
pub struct BenchPolicy;

impl Policy for BenchPolicy {
    fn access(&self, _: &Principal, _: &sync_core::DocumentId, _: bool) -> Access {
        Access::ReadWrite
    }

    fn relay_texts(&self, _: &sync_core::DocumentId, doc: &Automerge) -> Vec<ObjId> {
        sync_core::model::every_text(doc)
    }
}

/// A server engine whose storage tasks are carried out at once in memory.
pub struct Host {
    /// The engine with its in-memory store.
    pub host: host::Host<BenchPolicy>,
    /// The messages the engine sent, not yet taken.
    pub sent: Vec<(ConnId, Message)>,
}

impl Host {
    pub fn new() -> Self {
        let mut config = EngineConfig::server(peer("server"));
        config.relay = std::env::var("BENCH_RELAY").as_deref() == Ok("1");
        let engine = Engine::new(config, BenchPolicy);
        Self {
            host: host::Host::new(engine, MemoryStorage::new()),
            sent: Vec::new(),
        }
    }

    /// A tablet `id` connects as `conn` and joins.
    pub fn connect(&mut self, conn: ConnId, id: &PeerId) {
        self.run(Input::Connected {
            conn,
            direction: Direction::Inbound,
            principal: Principal::new("anna", id.as_str()),
        });
        let join = Message::Join(Join {
            sender_id: id.clone(),
            metadata: PeerMetadata::default(),
            supported_protocol_versions: vec!["1".into()],
        });
        self.run(Input::Frame {
            conn,
            bytes: wire::encode(&join),
        });
    }

    /// Handles `input` and every storage task it leads to.
    pub fn run(&mut self, input: Input) {
        let sent = &mut self.sent;
        self.host.drive(
            input,
            || Millis(0),
            |effect| {
                if let Effect::Send { conn, message } = effect {
                    sent.push((conn, message));
                }
            },
        );
    }

    /// Feeds `frames` from connection 1, `per_tick` of them before each tick; what the engine
    /// sends meanwhile is dropped.
    pub fn feed(&mut self, frames: &[Vec<u8>], per_tick: usize) {
        for chunk in frames.chunks(per_tick) {
            for bytes in chunk {
                self.run(Input::Frame {
                    conn: ConnId(1),
                    bytes: bytes.clone(),
                });
            }
            self.run(Input::Tick);
            self.sent.clear();
        }
    }
}
