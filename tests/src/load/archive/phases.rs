//! The stored-documents run's connections at work: writers that store a wave per connection,
//! readers that open documents at random, and the fresh connection that reads every document
//! back ([`verify_heads`], shared with the durable-rate run).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::ChangeHash;
use client_sdk::transport::ServerAddress;
use sync_core::engine::Input;
use sync_core::{DocumentId, PeerId};
use tokio::task::JoinHandle;

use super::peer::{Peer, Shared};
use crate::error::LoadError;
use crate::load::document::{new_document, same_heads};

/// A stored document and its heads when the server acknowledged it.
pub(in crate::load) type Stored = (DocumentId, Vec<ChangeHash>);

/// One reader's results.
pub(super) struct Reads {
    pub(super) latencies_ms: Vec<f64>,
    pub(super) unavailable: usize,
}

pub(super) async fn joined<T>(
    task: JoinHandle<Result<T, LoadError>>,
    what: &str,
) -> Result<T, LoadError> {
    task.await.map_err(|e| LoadError::Client {
        client: what.into(),
        reason: format!("its task failed: {e}"),
    })?
}

/// Creates `ids`, a wave per connection, and returns their acknowledged heads.
pub(super) async fn populate(
    shared: Arc<Shared>,
    ids: Vec<DocumentId>,
    label: String,
    seed: u64,
) -> Result<Vec<Stored>, LoadError> {
    let failed = |reason: String| LoadError::Client {
        client: label.clone(),
        reason,
    };
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut stored = Vec::with_capacity(ids.len());
    for (w, wave) in ids.chunks(shared.wave).enumerate() {
        let deadline = tokio::time::Instant::now() + shared.timeout;
        let id = peer_id(&label, w).map_err(&failed)?;
        let mut peer = Peer::connect(&shared, id).await.map_err(&failed)?;
        peer.until(deadline, "the handshake", |p| p.joined)
            .await
            .map_err(&failed)?;
        for (k, id) in wave.iter().enumerate() {
            let doc = stored_document(&format!("{label} {w} {k}"), shared.doc_text, &mut rng)?;
            peer.input(Input::Create {
                document: *id,
                content: Box::new(doc),
            });
        }
        peer.input(Input::Tick);
        let mut pending: Vec<DocumentId> = wave.to_vec();
        while !pending.is_empty() {
            pending.retain(|id| !peer.acked(id));
            if pending.is_empty() {
                break;
            }
            // Until the next burst of frames has been taken in.
            let before = peer.frames;
            peer.until(deadline, "the server to acknowledge a wave", |p| {
                p.frames > before
            })
            .await
            .map_err(&failed)?;
        }
        shared.stored.fetch_add(wave.len(), Ordering::Relaxed);
        for id in wave {
            let heads = peer
                .host
                .engine
                .document(id)
                .map(|d| d.get_heads())
                .unwrap_or_default();
            stored.push((*id, heads));
        }
        peer.close();
    }
    Ok(stored)
}

/// Opens `count` documents of `stored` at random, one at a time, on one connection.
pub(super) async fn read(
    shared: Arc<Shared>,
    stored: Arc<Vec<Stored>>,
    count: usize,
    label: String,
    seed: u64,
) -> Result<Reads, LoadError> {
    let failed = |reason: String| LoadError::Client {
        client: label.clone(),
        reason,
    };
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let id = peer_id(&label, 0).map_err(&failed)?;
    let mut peer = Peer::connect(&shared, id).await.map_err(&failed)?;
    let deadline = tokio::time::Instant::now() + shared.timeout;
    peer.until(deadline, "the handshake", |p| p.joined)
        .await
        .map_err(&failed)?;
    let mut out = Reads {
        latencies_ms: Vec::with_capacity(count),
        unavailable: 0,
    };
    let mut opened: HashSet<DocumentId> = HashSet::new();
    while out.latencies_ms.len() + out.unavailable < count {
        let (id, heads) = &stored[rng.below(stored.len())];
        if !opened.insert(*id) {
            // Already open on this connection: not a cold read.
            continue;
        }
        let started = Instant::now();
        peer.input(Input::Find { document: *id });
        peer.input(Input::Tick);
        let deadline = tokio::time::Instant::now() + shared.timeout;
        peer.until(deadline, "a document", |p| {
            p.unavailable.contains(id)
                || p.host
                    .engine
                    .document(id)
                    .is_some_and(|d| same_heads(d.get_heads(), heads.clone()))
        })
        .await
        .map_err(&failed)?;
        if peer.unavailable.contains(id) {
            out.unavailable += 1;
        } else {
            out.latencies_ms
                .push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    peer.close();
    Ok(out)
}

/// Reads every document of `expected` on one fresh connection; returns how many arrived with
/// other heads than expected (or were unavailable).
pub(in crate::load) async fn verify_heads(
    address: &ServerAddress,
    expected: &[Stored],
    timeout: Duration,
) -> Result<usize, LoadError> {
    let failed = |reason: String| LoadError::Client {
        client: "verifier".into(),
        reason,
    };
    let shared = Shared {
        address: address.clone(),
        doc_text: 0,
        wave: 0,
        timeout,
        t0: Instant::now(),
        stored: AtomicUsize::new(0),
        target: 0,
    };
    let id = peer_id("verifier", 0).map_err(&failed)?;
    let mut peer = Peer::connect(&shared, id).await.map_err(&failed)?;
    let deadline = tokio::time::Instant::now() + timeout;
    peer.until(deadline, "the handshake", |p| p.joined)
        .await
        .map_err(&failed)?;
    for (id, _) in expected {
        peer.input(Input::Find { document: *id });
    }
    peer.input(Input::Tick);
    let arrived = |p: &Peer, (id, heads): &Stored| {
        p.unavailable.contains(id)
            || p.host
                .engine
                .document(id)
                .is_some_and(|d| same_heads(d.get_heads(), heads.clone()))
    };
    let mut pending: Vec<&Stored> = expected.iter().collect();
    while !pending.is_empty() {
        pending.retain(|s| !arrived(&peer, s));
        if pending.is_empty() {
            break;
        }
        let before = peer.frames;
        if peer
            .until(deadline, "the documents", |p| p.frames > before)
            .await
            .is_err()
        {
            break;
        }
    }
    let wrong = expected
        .iter()
        .filter(|(id, heads)| {
            peer.unavailable.contains(id)
                || !peer
                    .host
                    .engine
                    .document(id)
                    .is_some_and(|d| same_heads(d.get_heads(), heads.clone()))
        })
        .count();
    peer.close();
    Ok(wrong)
}

/// A document as stored: `{title, n, notes, items}`, then `text` characters of notes.
fn stored_document(
    title: &str,
    text: usize,
    rng: &mut Rng,
) -> Result<automerge::Automerge, LoadError> {
    let (mut doc, notes) = new_document(title)?;
    let words: String = (0..text)
        .map(|i| {
            if i % 8 == 7 {
                ' '
            } else {
                char::from(b'a' + rng.below(26) as u8)
            }
        })
        .collect();
    let mut tx = doc.transaction();
    tx.splice_text(&notes, 0, 0, &words)?;
    tx.commit();
    Ok(doc)
}

fn peer_id(label: &str, n: usize) -> Result<PeerId, String> {
    let name = format!("archive-{label}-{n}-{:08x}", rand::random::<u32>());
    PeerId::new(name.clone()).map_err(|e| format!("peer id {name}: {e}"))
}

/// splitmix64: reproducible draws per connection.
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z % n.max(1) as u64) as usize
    }
}
