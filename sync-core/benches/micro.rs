//! Criterion micro-benchmarks of the engine's hot paths; throughput is per element (frame,
//! change or round).
//!
//! - `frame_decode`: `wire::decode` of a tablet's `sync` frame carrying one change (a
//!   10-character splice, with the have/bloom a real client sends), of a `request` frame and of
//!   a `join` frame.
//! - `apply`: 200 single-change `sync` frames into one document through the engine (with its
//!   in-memory store writes and replies), one tick per frame vs one tick for all 200; and plain
//!   automerge for reference, one `load_incremental` per change vs one for the 200 concatenated.
//! - `sync_generate`: `generate_sync_message` for a peer one change behind on a document of
//!   1,000 changes (what the server does for each watcher per edit), and the engine's whole round
//!   for one edit on such a document: peer A's frame in, the tick, the store write, the messages
//!   to A and B out and encoded (the peers' replies afterwards are not timed).
//!
//! Run pinned: `taskset -c 1 cargo bench -p sync-core --bench micro`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use automerge::sync::{self, ChunkList, Message as SyncMessage, MessageVersion, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, AutomergeError, Change, ObjType, ReadDoc, ROOT};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use sync_core::engine::{ConnId, Input};
use sync_core::wire::{self, DocMessage, Join, Message, PeerMetadata, DEFAULT_MAX_FRAME};
use sync_core::{DocumentId, PeerId};

mod common;
use common::{peer, Host};

/// Frames per document in `apply`.
const N: usize = 200;
/// Changes in the document of `sync_generate`.
const HISTORY: usize = 1_000;
/// Edits per fresh engine in the round bench, so that the document stays near `HISTORY`.
const ROUNDS_PER_HOST: u64 = 100;

fn doc_id() -> DocumentId {
    DocumentId::from_bytes([7; 16])
}

/// A document of `changes` changes: a 1,000-character text, then 10-character splices.
fn document(changes: usize) -> Automerge {
    let mut doc = Automerge::new().with_actor(ActorId::from(vec![1; 16]));
    doc.transact::<_, _, AutomergeError>(|tx| {
        let text = tx.put_object(ROOT, "notes", ObjType::Text)?;
        tx.splice_text(&text, 0, 0, &"a".repeat(1_000))
    })
    .expect("base");
    for _ in 1..changes {
        type10(&mut doc);
    }
    doc
}

/// Types 10 characters at the end of the text: one change, returned.
fn type10(doc: &mut Automerge) -> Change {
    let (_, text) = doc.get(ROOT, "notes").expect("read").expect("text");
    let end = doc.length(&text);
    doc.transact::<_, _, AutomergeError>(|tx| tx.splice_text(&text, end, 0, "kooperacja"))
        .expect("splice");
    doc.get_last_local_change().expect("change")
}

fn sync_frame(sender: &PeerId, data: Vec<u8>) -> Vec<u8> {
    wire::encode(&Message::Sync(DocMessage {
        sender_id: sender.clone(),
        target_id: peer("server"),
        document_id: doc_id(),
        data,
    }))
}

/// A frame with one change, built as `engine_throughput` builds them (no have, no bloom).
fn change_frame(change: &Change) -> Vec<u8> {
    let message = SyncMessage {
        heads: vec![change.hash()],
        need: vec![],
        have: vec![],
        changes: ChunkList::from(vec![change.raw_bytes().to_vec()]),
        flags: None,
        version: MessageVersion::V1,
    };
    sync_frame(&peer("tablet"), message.encode())
}

/// Exchanges sync messages between two documents until neither has anything to say.
fn sync_pair(a: &mut Automerge, sa: &mut sync::State, b: &mut Automerge, sb: &mut sync::State) {
    loop {
        let to_b = a.generate_sync_message(sa);
        let to_a = b.generate_sync_message(sb);
        if to_b.is_none() && to_a.is_none() {
            return;
        }
        if let Some(m) = to_b {
            b.receive_sync_message(sb, m).expect("receive");
        }
        if let Some(m) = to_a {
            a.receive_sync_message(sa, m).expect("receive");
        }
    }
}

/// Plain automerge: a server's document after A's edit, its sync state with B (who has not
/// seen the edit), and A's sync message with the edit.
fn one_behind(base: &Automerge) -> (Automerge, sync::State, SyncMessage) {
    let (mut server, mut a, mut b) = (base.clone(), base.clone(), base.clone());
    let (mut server_a, mut a_server) = (sync::State::new(), sync::State::new());
    let (mut server_b, mut b_server) = (sync::State::new(), sync::State::new());
    sync_pair(&mut server, &mut server_a, &mut a, &mut a_server);
    sync_pair(&mut server, &mut server_b, &mut b, &mut b_server);
    type10(&mut a);
    let edit = a.generate_sync_message(&mut a_server).expect("A's edit");
    server
        .receive_sync_message(&mut server_a, edit.clone())
        .expect("receive");
    (server, server_b, edit)
}

/// A peer of the engine: its copy of the document and its sync state with the server.
struct Tablet {
    conn: ConnId,
    id: PeerId,
    doc: Automerge,
    state: sync::State,
}

impl Tablet {
    fn frame(&mut self) -> Option<Vec<u8>> {
        let message = self.doc.generate_sync_message(&mut self.state)?;
        Some(sync_frame(&self.id, message.encode()))
    }

    fn receive(&mut self, message: Message) {
        if let Message::Sync(m) = message {
            let m = SyncMessage::decode(&m.data).expect("server's sync message");
            self.doc
                .receive_sync_message(&mut self.state, m)
                .expect("server's changes");
        }
    }
}

/// The engine with peers A (who types) and B (who watches), both in sync on one document.
struct Round {
    host: Host,
    a: Tablet,
    b: Tablet,
}

impl Round {
    fn new(base: &Automerge) -> Self {
        let tablet = |n: u64, name: &str| Tablet {
            conn: ConnId(n),
            id: peer(name),
            doc: base.clone(),
            state: sync::State::new(),
        };
        let mut round = Self {
            host: Host::new(),
            a: tablet(1, "a"),
            b: tablet(2, "b"),
        };
        for t in [&round.a, &round.b] {
            round.host.connect(t.conn, &t.id);
        }
        round.settle();
        round
    }

    fn deliver(&mut self) {
        for (conn, message) in std::mem::take(&mut self.host.sent) {
            let to = if conn == self.a.conn {
                &mut self.a
            } else {
                &mut self.b
            };
            to.receive(message);
        }
    }

    /// Lets the peers and the engine talk until nobody has anything to send.
    fn settle(&mut self) {
        loop {
            let mut quiet = true;
            for t in [&mut self.a, &mut self.b] {
                if let Some(bytes) = t.frame() {
                    quiet = false;
                    self.host.run(Input::Frame {
                        conn: t.conn,
                        bytes,
                    });
                }
            }
            self.host.run(Input::Tick);
            quiet &= self.host.sent.is_empty();
            self.deliver();
            if quiet {
                return;
            }
        }
    }

    /// A types 10 characters; returns how long the engine took from A's frame to B's message.
    fn edit(&mut self) -> Duration {
        type10(&mut self.a.doc);
        let bytes = self.a.frame().expect("A's edit");
        let start = Instant::now();
        self.host.run(Input::Frame {
            conn: self.a.conn,
            bytes,
        });
        self.host.run(Input::Tick);
        for (_, message) in &self.host.sent {
            black_box(wire::encode(message));
        }
        let took = start.elapsed();
        let b = self.b.conn;
        assert!(
            self.host
                .sent
                .iter()
                .any(|(c, m)| *c == b && matches!(m, Message::Sync(_))),
            "B is sent the edit"
        );
        self.deliver();
        self.settle();
        took
    }
}

fn frame_decode(c: &mut Criterion) {
    let (_, _, edit) = one_behind(&document(HISTORY));
    let sync = sync_frame(&peer("a"), edit.encode());
    let nothing = Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .expect("a first message");
    let request = wire::encode(&Message::Request(DocMessage {
        sender_id: peer("tablet"),
        target_id: peer("server"),
        document_id: doc_id(),
        data: nothing.encode(),
    }));
    let join = wire::encode(&Message::Join(Join {
        sender_id: peer("tablet"),
        metadata: PeerMetadata::default(),
        supported_protocol_versions: vec!["1".into()],
    }));

    let mut group = c.benchmark_group("frame_decode");
    group.throughput(Throughput::Elements(1));
    for (name, frame) in [
        ("sync_one_change", &sync),
        ("request", &request),
        ("join", &join),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| wire::decode(black_box(frame), DEFAULT_MAX_FRAME).expect("decodes"))
        });
    }
    group.finish();
}

fn apply(c: &mut Criterion) {
    let mut doc = document(1);
    let base = doc.get_last_local_change().expect("base");
    let changes: Vec<Change> = (0..N).map(|_| type10(&mut doc)).collect();
    let frames: Vec<Vec<u8>> = changes.iter().map(change_frame).collect();
    let all: Vec<u8> = changes
        .iter()
        .flat_map(|c| c.raw_bytes().to_vec())
        .collect();
    let base_frame = change_frame(&base);
    let fresh_host = || {
        let mut host = Host::new();
        host.connect(ConnId(1), &peer("tablet"));
        host.feed(std::slice::from_ref(&base_frame), 1);
        host
    };
    let mut base_doc = Automerge::new();
    base_doc.load_incremental(base.raw_bytes()).expect("base");

    let mut group = c.benchmark_group("apply");
    group.throughput(Throughput::Elements(N as u64));
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    for (name, per_tick) in [("engine_per_frame", 1), ("engine_batched", N)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                fresh_host,
                |mut host| {
                    host.feed(&frames, per_tick);
                    host
                },
                BatchSize::LargeInput,
            )
        });
    }
    let per_change: Vec<&[u8]> = changes.iter().map(Change::raw_bytes).collect();
    for (name, loads) in [
        ("automerge_per_change", per_change),
        ("automerge_batched", vec![all.as_slice()]),
    ] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || base_doc.clone(),
                |mut doc| {
                    for bytes in &loads {
                        doc.load_incremental(bytes).expect("apply");
                    }
                    doc
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn sync_generate(c: &mut Criterion) {
    let base = document(HISTORY);
    let (server, behind, _) = one_behind(&base);
    let check = server
        .generate_sync_message(&mut behind.clone())
        .expect("a message for B");
    assert_eq!(check.changes.len(), 1, "B is one change behind");

    let mut group = c.benchmark_group("sync_generate");
    group.throughput(Throughput::Elements(1));
    group.bench_function("automerge_one_behind", |b| {
        b.iter_batched(
            || behind.clone(),
            |mut state| server.generate_sync_message(&mut state),
            BatchSize::SmallInput,
        )
    });
    group.sampling_mode(SamplingMode::Flat).sample_size(20);
    group.bench_function("engine_round", |b| {
        b.iter_custom(|iters| {
            let (mut took, mut left) = (Duration::ZERO, iters);
            while left > 0 {
                let mut round = Round::new(&base);
                for _ in 0..left.min(ROUNDS_PER_HOST) {
                    took += round.edit();
                }
                left = left.saturating_sub(ROUNDS_PER_HOST);
            }
            took
        })
    });
    group.finish();
}

criterion_group!(benches, frame_decode, apply, sync_generate);
criterion_main!(benches);
