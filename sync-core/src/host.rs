//! Driving an engine in one thread: the loop that feeds an [`Engine`] its inputs and carries out
//! its storage effects at once, for the hosts that need no threads (the test harness, the
//! fuzzer, the benchmarks and the load generator's simulated tablets).
//!
//! [`carry_out`] answers one [`Effect::Storage`] request against a store whose futures finish
//! at once (the in-memory store) and gives the [`Input::StorageDone`] to feed back. [`Host`]
//! owns an engine and its store and runs the whole loop: an input, then the answers of every
//! storage task it leads to, first in first out, handing every other effect (messages to send,
//! connections to close, events) to the caller in the order the engine emitted them. Storage
//! can be held (a store that does not answer) and released later, task by task.
//!
//! The server and the tablet client keep their own threaded loops: they batch writes (group
//! commit) and run storage off the thread that owns the engine.
//!
//! ```
//! use sync_core::engine::{AllowAll, ConnId, Direction, Effect, Engine, EngineConfig, Input, Millis, Principal};
//! use sync_core::host::Host;
//! use sync_core::storage::MemoryStorage;
//! use sync_core::wire::{self, Join, Message, PeerMetadata};
//! use sync_core::PeerId;
//!
//! let server = Engine::new(EngineConfig::server(PeerId::new("server").unwrap()), AllowAll);
//! let mut host = Host::new(server, MemoryStorage::new());
//! host.handle(Millis(0), Input::Connected {
//!     conn: ConnId(1),
//!     direction: Direction::Inbound,
//!     principal: Principal::new("anna", "tablet-1"),
//! });
//! let join = Message::Join(Join {
//!     sender_id: PeerId::new("tablet-1").unwrap(),
//!     metadata: PeerMetadata::default(),
//!     supported_protocol_versions: vec!["1".into()],
//! });
//! let effects = host.handle(Millis(0), Input::Frame { conn: ConnId(1), bytes: wire::encode(&join) });
//! // The server answers the tablet's `join` with `peer`; storage effects never reach the caller.
//! assert!(effects.iter().any(|e| matches!(e, Effect::Send { message: Message::Peer(_), .. })));
//! assert!(!effects.iter().any(|e| matches!(e, Effect::Storage { .. })));
//! ```

use std::collections::VecDeque;
use std::fmt::Debug;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use crate::engine::{Effect, Engine, Input, Millis, Policy, TaskId};
use crate::error::StorageError;
use crate::storage::{self, MemoryStorage, Storage, StorageRequest};

/// Carries out one storage request against `store` and returns the answer to feed the engine.
///
/// The store's future is polled once: the in-memory store (and any store that does its work
/// before its first `await`) answers then. A store that would have to wait is answered as a
/// failed task instead of blocking the thread.
pub fn carry_out<S: Storage>(store: &S, task: TaskId, request: StorageRequest) -> Input {
    let mut done = pin!(storage::execute(store, request));
    let result = match done.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(StorageError::Io(
            "the store did not answer at once (a one-thread host needs an immediate store)".into(),
        )),
    };
    Input::StorageDone { task, result }
}

/// An engine with its store, driven in one thread: storage is carried out at once (or held).
#[derive(Debug)]
pub struct Host<P: Policy, S: Storage = MemoryStorage> {
    /// The engine (read its documents and statistics here; feed it through [`Host::handle`]).
    pub engine: Engine<P>,
    /// The store its storage tasks run against.
    pub store: S,
    /// Storage tasks wait in `held` while true.
    holding: bool,
    held: Vec<(TaskId, StorageRequest)>,
    queue: VecDeque<Input>,
}

impl<P: Policy + Debug, S: Storage> Host<P, S> {
    /// A host around `engine` whose storage runs against `store`.
    pub fn new(engine: Engine<P>, store: S) -> Self {
        Self {
            engine,
            store,
            holding: false,
            held: Vec::new(),
            queue: VecDeque::new(),
        }
    }

    /// Feeds `input`, then the answer of every storage task it leads to (first in, first out),
    /// each at the time `now` reads just before the engine takes it. Every other effect goes to
    /// `effect` as soon as the engine emits it, so that the caller sees the store as it was
    /// when the engine spoke.
    pub fn drive(
        &mut self,
        input: Input,
        mut now: impl FnMut() -> Millis,
        mut effect: impl FnMut(Effect),
    ) {
        self.queue.push_back(input);
        while let Some(input) = self.queue.pop_front() {
            for e in self.engine.handle(now(), input) {
                match e {
                    Effect::Storage { task, request } if self.holding => {
                        self.held.push((task, request));
                    }
                    Effect::Storage { task, request } => {
                        self.queue.push_back(carry_out(&self.store, task, request));
                    }
                    other => effect(other),
                }
            }
        }
    }

    /// [`Host::drive`] with a fixed time, returning the effects other than storage, in order.
    pub fn handle(&mut self, now: Millis, input: Input) -> Vec<Effect> {
        self.handle_at(input, || now)
    }

    /// [`Host::drive`] with a clock, returning the effects other than storage, in order.
    pub fn handle_at(&mut self, input: Input, now: impl FnMut() -> Millis) -> Vec<Effect> {
        let mut out = Vec::new();
        self.drive(input, now, |e| out.push(e));
        out
    }

    /// Holds storage tasks from now on (a store that does not answer), or stops holding new
    /// ones; the tasks already held wait for [`Host::take_held`].
    pub fn hold_storage(&mut self, hold: bool) {
        self.holding = hold;
    }

    /// Whether storage tasks are being held.
    pub fn is_holding(&self) -> bool {
        self.holding
    }

    /// How many storage tasks are held.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// The held storage tasks, in the order the engine asked for them; answer each with
    /// [`carry_out`] (against the store as it is then) and feed the answer back.
    pub fn take_held(&mut self) -> Vec<(TaskId, StorageRequest)> {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{AllowAll, ConnId, Direction, EngineConfig, Event, Principal};
    use crate::storage::StorageResponse;
    use crate::{DocumentId, PeerId};

    fn tablet() -> Host<AllowAll> {
        let peer = PeerId::new("tablet").expect("peer id");
        Host::new(
            Engine::new(EngineConfig::client(peer), AllowAll),
            MemoryStorage::new(),
        )
    }

    #[test]
    fn a_load_is_answered_from_the_store() {
        let store = MemoryStorage::new();
        let document = DocumentId::from_bytes([7; 16]);
        let answer = carry_out(&store, TaskId(3), StorageRequest::Load { document });
        assert!(matches!(
            answer,
            Input::StorageDone {
                task: TaskId(3),
                result: Ok(StorageResponse::Loaded(None))
            }
        ));
    }

    #[test]
    fn a_created_document_is_written_and_held_writes_wait() {
        let mut host = tablet();
        host.handle(
            Millis(0),
            Input::Connected {
                conn: ConnId(1),
                direction: Direction::Outbound,
                principal: Principal::new("server", "server"),
            },
        );
        host.hold_storage(true);
        let document = DocumentId::from_bytes([9; 16]);
        let mut content = automerge::Automerge::new();
        let mut tx = content.transaction();
        automerge::transaction::Transactable::put(&mut tx, automerge::ROOT, "n", 1_i64)
            .expect("put");
        tx.commit();
        let effects = host.handle(
            Millis(1),
            Input::Create {
                document,
                content: Box::new(content),
            },
        );
        assert!(!effects
            .iter()
            .any(|e| matches!(e, Effect::Event(Event::StorageFailed { .. }))));
        host.handle(Millis(2), Input::Tick);
        assert!(host.held() > 0, "the new document's write waits");
        assert_eq!(host.store.load_now(document).ok().flatten(), None);

        host.hold_storage(false);
        for (task, request) in host.take_held() {
            let answer = carry_out(&host.store, task, request);
            host.handle(Millis(3), answer);
        }
        assert_eq!(host.held(), 0);
        assert!(host.store.load_now(document).ok().flatten().is_some());
    }
}
