//! Engine throughput against calling automerge directly, in one run.
//!
//! (a) 10k single-keystroke changes into one 10k-character text, one per frame (a tick each);
//! (b) the same 10k arriving 200 frames per tick; (c) 100 documents × 1k changes, batched.
//! Each engine figure includes CBOR decoding, sync-message handling and the (in-memory) store
//! writes. Run pinned: `taskset -c 1 cargo bench -p sync-core --bench engine_throughput`.

use std::time::Instant;

use automerge::sync::{ChunkList, Message as SyncMessage, MessageVersion};
use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, Change, ObjType, ReadDoc, ROOT};
use sync_core::engine::ConnId;
use sync_core::wire::{self, DocMessage, Message};
use sync_core::{DocumentId, PeerId};

mod common;
use common::{peer, Host};

const RUNS: usize = 3;

/// A document with a 10k-character text, then `n` single-character changes typed at the end.
fn keystrokes(n: usize, seed: u8) -> (Change, Vec<Change>) {
    let mut doc = Automerge::new().with_actor(ActorId::from(vec![seed; 16]));
    let text = doc
        .transact::<_, _, automerge::AutomergeError>(|tx| {
            let t = tx.put_object(ROOT, "notes", ObjType::Text)?;
            tx.splice_text(&t, 0, 0, &"a".repeat(10_000))?;
            Ok(t)
        })
        .expect("base")
        .result;
    let base = doc.get_last_local_change().expect("base change");
    let mut changes = Vec::with_capacity(n);
    for i in 0..n {
        let len = doc.length(&text);
        doc.transact::<_, _, automerge::AutomergeError>(|tx| {
            tx.splice_text(&text, len, 0, if i % 7 == 0 { " " } else { "x" })
        })
        .expect("keystroke");
        changes.push(doc.get_last_local_change().expect("change"));
    }
    (base, changes)
}

fn frame(doc: DocumentId, change: &Change) -> Vec<u8> {
    let message = SyncMessage {
        heads: vec![change.hash()],
        need: vec![],
        have: vec![],
        changes: ChunkList::from(vec![change.raw_bytes().to_vec()]),
        flags: None,
        version: MessageVersion::V1,
    };
    wire::encode(&Message::Sync(DocMessage {
        sender_id: PeerId::new("tablet").expect("id"),
        target_id: PeerId::new("server").expect("id"),
        document_id: doc,
        data: message.encode(),
    }))
}

/// A `request` of a tablet that has nothing of `doc` yet.
fn request(doc: DocumentId) -> Vec<u8> {
    let message = SyncMessage {
        heads: vec![],
        need: vec![],
        have: vec![],
        changes: ChunkList::empty(),
        flags: None,
        version: MessageVersion::V1,
    };
    wire::encode(&Message::Request(DocMessage {
        sender_id: PeerId::new("follower").expect("id"),
        target_id: PeerId::new("server").expect("id"),
        document_id: doc,
        data: message.encode(),
    }))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn rate(label: &str, changes: usize, secs: Vec<f64>) -> f64 {
    let m = median(secs);
    let r = changes as f64 / m;
    println!(
        "{label:<58} {r:>12.0} changes/s  ({:.1} ms median of {RUNS})",
        m * 1e3
    );
    r
}

fn doc_id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

fn main() {
    let n: usize = std::env::var("BENCH_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let t = Instant::now();
    let (base, changes) = keystrokes(n, 1);
    println!(
        "generated {n} keystroke changes in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let id = doc_id(1);
    let base_frame = frame(id, &base);
    let frames: Vec<Vec<u8>> = changes.iter().map(|c| frame(id, c)).collect();

    // `BENCH_ONLY=a` runs the one-frame-per-tick case alone (the writer answered after each
    // frame; `BENCH_FOLLOWER=1` adds a tablet that follows and never answers), for callgrind;
    // `BENCH_RELAY=1` turns the relay path on.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("a") {
        let mut host = Host::new();
        host.connect(ConnId(1), &peer("tablet"));
        host.feed(std::slice::from_ref(&base_frame), 1);
        if std::env::var("BENCH_FOLLOWER").as_deref() == Ok("1") {
            // A follower that never answers falls out of step at once.
            host.connect(ConnId(2), &peer("follower"));
            host.run(sync_core::engine::Input::Frame {
                conn: ConnId(2),
                bytes: request(id),
            });
            host.run(sync_core::engine::Input::Tick);
        }
        host.sent.clear();
        let t = Instant::now();
        host.feed(&frames, 1);
        println!(
            "engine one frame per tick: {:.0} changes/s; {:?}",
            n as f64 / t.elapsed().as_secs_f64(),
            host.host.engine.relay_stats()
        );
        return;
    }
    // `BENCH_ONLY=b` profiles the batched case alone.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("b") {
        let mut host = Host::new();
        host.connect(ConnId(1), &peer("tablet"));
        host.feed(std::slice::from_ref(&base_frame), 1);
        let t = Instant::now();
        host.feed(&frames, 200);
        println!(
            "engine batched: {:.0} changes/s",
            n as f64 / t.elapsed().as_secs_f64()
        );
        return;
    }
    // Direct automerge: one apply per change, and batches of 200.
    let direct_one = rate(
        "(a) automerge directly, one apply per change",
        n,
        (0..RUNS)
            .map(|_| {
                let mut doc = Automerge::new();
                doc.apply_changes(vec![base.clone()]).expect("base");
                let t = Instant::now();
                for c in &changes {
                    doc.apply_changes(vec![c.clone()]).expect("apply");
                }
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let engine_one = rate(
        "(a) engine, one frame per tick",
        n,
        (0..RUNS)
            .map(|_| {
                let mut host = Host::new();
                host.connect(ConnId(1), &peer("tablet"));
                host.feed(std::slice::from_ref(&base_frame), 1);
                let t = Instant::now();
                host.feed(&frames, 1);
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let direct_batch = rate(
        "(b) automerge directly, 200 changes per apply",
        n,
        (0..RUNS)
            .map(|_| {
                let mut doc = Automerge::new();
                doc.apply_changes(vec![base.clone()]).expect("base");
                let t = Instant::now();
                for chunk in changes.chunks(200) {
                    doc.apply_changes(chunk.to_vec()).expect("apply");
                }
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let engine_batch = rate(
        "(b) engine, 200 frames per tick",
        n,
        (0..RUNS)
            .map(|_| {
                let mut host = Host::new();
                host.connect(ConnId(1), &peer("tablet"));
                host.feed(std::slice::from_ref(&base_frame), 1);
                let t = Instant::now();
                host.feed(&frames, 200);
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );

    // (c) 100 documents × 1k changes, interleaved as they would arrive from 100 tablets.
    let docs: Vec<(DocumentId, Change, Vec<Change>)> = (0..100u8)
        .map(|i| {
            let (b, cs) = keystrokes(1_000, i.wrapping_add(2));
            (doc_id(i.wrapping_add(2)), b, cs)
        })
        .collect();
    let mut interleaved = Vec::with_capacity(100_000);
    for k in 0..1_000 {
        for (id, _, cs) in &docs {
            interleaved.push(frame(*id, &cs[k]));
        }
    }
    let bases: Vec<Vec<u8>> = docs.iter().map(|(id, b, _)| frame(*id, b)).collect();
    // The same grouping the engine sees: 2,000 frames per tick = 20 changes per document.
    let direct_many = rate(
        "(c) automerge directly, 100 docs x 1k, 20 changes per apply",
        100_000,
        (0..RUNS)
            .map(|_| {
                let mut ams: Vec<Automerge> = docs
                    .iter()
                    .map(|(_, b, _)| {
                        let mut d = Automerge::new();
                        d.apply_changes(vec![b.clone()]).expect("base");
                        d
                    })
                    .collect();
                let t = Instant::now();
                for k in (0..1_000).step_by(20) {
                    for (d, (_, _, cs)) in ams.iter_mut().zip(&docs) {
                        d.apply_changes(cs[k..k + 20].to_vec()).expect("apply");
                    }
                }
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let engine_many = rate(
        "(c) engine, 100 docs x 1k, 2,000 frames per tick",
        100_000,
        (0..RUNS)
            .map(|_| {
                let mut host = Host::new();
                host.connect(ConnId(1), &peer("tablet"));
                host.feed(&bases, 100);
                let t = Instant::now();
                host.feed(&interleaved, 2_000);
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );

    println!();
    println!(
        "engine/direct (a) per frame: {:.2}",
        engine_one / direct_one
    );
    println!(
        "engine/direct (b) batched:   {:.2}",
        engine_batch / direct_batch
    );
    println!(
        "engine batched / per frame:  {:.1}x",
        engine_batch / engine_one
    );
    println!(
        "engine/direct (c) 100 docs:  {:.2}",
        engine_many / direct_many
    );
}
