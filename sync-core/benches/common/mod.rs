//! What the engine benchmarks share: a server engine whose storage is carried out at once, in
//! memory, so that only the engine's own work (and automerge's) is measured.

use sync_core::engine::{
    AllowAll, ConnId, Direction, Effect, Engine, EngineConfig, Input, Millis, Principal,
};
use sync_core::storage::{MemoryStorage, StorageRequest, StorageResponse};
use sync_core::wire::{self, Join, Message, PeerMetadata};
use sync_core::PeerId;

/// A peer id from bench-made text.
pub fn peer(name: &str) -> PeerId {
    PeerId::new(name).expect("peer id")
}

/// A server engine whose storage tasks are carried out at once in memory.
pub struct Host {
    pub engine: Engine<AllowAll>,
    store: MemoryStorage,
    /// The messages the engine sent, not yet taken.
    pub sent: Vec<(ConnId, Message)>,
}

impl Host {
    pub fn new() -> Self {
        Self {
            engine: Engine::new(EngineConfig::server(peer("server")), AllowAll),
            store: MemoryStorage::new(),
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
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            for effect in self.engine.handle(Millis(0), input) {
                match effect {
                    Effect::Send { conn, message } => self.sent.push((conn, message)),
                    Effect::Storage { task, request } => {
                        let result = match request {
                            StorageRequest::Load { document } => {
                                self.store.load_now(document).map(StorageResponse::Loaded)
                            }
                            StorageRequest::Write(op) => self
                                .store
                                .write_now(vec![op])
                                .map(|()| StorageResponse::Written),
                        };
                        queue.push(Input::StorageDone { task, result });
                    }
                    Effect::Close { .. } | Effect::Event(_) => {}
                }
            }
        }
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
