//! Acknowledged-durable edits per second (`kooperacja-load URL --durable-rate`): the server's
//! write path at full speed, without the generator's own CRDT work in the way.
//!
//! Every change is made before the clock starts: N tablets, D documents each, E edits per
//! document (each edit one change: `n = e` and 10 characters spliced into `notes`), encoded as
//! automerge-repo `sync` frames of `batch` changes each (1: every edit its own frame, as a
//! tablet online sends them; more: a tablet back from a day offline). Then every tablet sends
//! all its frames as fast as its socket takes them, and the clock stops when the server has
//! acknowledged the last change of every document (its `sync` answer carries those heads; our
//! server answers only once the changes are durable). A fresh connection then reads every
//! document back and compares its heads.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use automerge::sync::{ChunkList, Message as SyncMessage, MessageVersion};
use automerge::transaction::Transactable;
use automerge::{ChangeHash, ReadDoc};
use client_sdk::transport::{ServerAddress, Trust};
use futures::StreamExt;
use serde::Serialize;
use sync_core::wire::{self, DocMessage, Join, Message, PeerMetadata};
use sync_core::{DocumentId, PeerId};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::address::{check_url, server_address};
use super::archive::{verify_heads, Stored};
use super::document::{new_document, same_heads};
use super::procfs;
use super::report::{mib, round, LoadGenerator};
use super::socket::writer;
use crate::error::LoadError;

/// The parameters of a durable-rate run.
#[derive(Clone, Debug)]
pub struct BlastConfig {
    /// `ws://` or `wss://` URL of the server (loopback only).
    pub url: String,
    /// A device token, appended as `?token=`.
    pub token: Option<String>,
    /// How to trust TLS.
    pub trust: Trust,
    /// Tablets, one connection each.
    pub clients: usize,
    /// Documents per tablet.
    pub docs: usize,
    /// Edits per document.
    pub edits: usize,
    /// Changes per `sync` frame.
    pub batch: usize,
    /// The server's process id, for its CPU seconds and RSS.
    pub server_pid: Option<u32>,
    /// Time limit of the run's phases.
    pub timeout: Duration,
    /// Progress lines on stderr.
    pub progress: bool,
}

/// The run's parameters, as reported.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlastParams {
    pub clients: usize,
    pub docs: usize,
    pub edits: usize,
    pub batch: usize,
    pub tls: bool,
}

/// What a durable-rate run measured.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlastReport {
    pub server: String,
    pub server_pid: Option<u32>,
    pub params: BlastParams,
    /// Changes sent (creation changes included).
    pub changes: usize,
    /// Frames sent.
    pub frames: usize,
    /// From the first frame to the last acknowledgement, ms.
    pub until_all_acknowledged_ms: f64,
    /// Acknowledged-durable changes per second.
    pub acknowledged_changes_per_sec: f64,
    /// automerge in this process, each document's changes loaded into a fresh document in one
    /// call (the bulk rate the server's group commit is compared with).
    pub automerge_bulk_changes_per_sec: f64,
    /// Acknowledged-durable rate / automerge's bulk rate.
    pub ratio_to_automerge_bulk: f64,
    /// The server's CPU seconds over that time, per change, ms.
    pub server_cpu_ms_per_change: Option<f64>,
    /// The server's peak RSS (`VmHWM`), MiB.
    #[serde(rename = "serverVmHWM_MiB")]
    pub server_vm_hwm_mib: Option<f64>,
    pub load_generator: LoadGenerator,
    /// Documents whose heads a fresh reader found different.
    pub mismatches: usize,
    /// Every document read back as acknowledged.
    pub verified: bool,
}

impl BlastReport {
    /// One line for a terminal.
    pub fn summary(&self) -> String {
        format!(
            "{}x{}x{} in frames of {}: {} changes acknowledged durable in {:.0} ms = {:.0} changes/s \
             ({:.0}% of automerge's in-process {:.0}/s), server cpu {} ms/change, peak rss {} MiB, generator cpu {:.2} s, verified {}",
            self.params.clients,
            self.params.docs,
            self.params.edits,
            self.params.batch,
            self.changes,
            self.until_all_acknowledged_ms,
            self.acknowledged_changes_per_sec,
            self.ratio_to_automerge_bulk * 100.0,
            self.automerge_bulk_changes_per_sec,
            self.server_cpu_ms_per_change
                .map_or("-".into(), |v| format!("{v:.4}")),
            self.server_vm_hwm_mib
                .map_or("-".into(), |v| format!("{v:.1}")),
            self.load_generator.cpu_seconds,
            self.verified,
        )
    }
}

/// One tablet's prepared work.
struct Prepared {
    peer_id: PeerId,
    /// Each document's changes, concatenated (for automerge's in-process rate).
    bulk: Vec<Vec<u8>>,
    frames: Vec<(DocumentId, Vec<u8>, Option<ChangeHash>)>,
    last: Vec<Stored>,
}

/// Makes every change and frame of one tablet (the server's peer id is filled in later: the
/// frames name it `server`, which automerge-repo servers do not check).
fn prepare(tablet: usize, config: &BlastConfig, ids: &[DocumentId]) -> Result<Prepared, LoadError> {
    let peer_id = PeerId::new(format!("durable-{tablet}-{:08x}", rand::random::<u32>()))
        .map_err(|e| LoadError::Config(format!("peer id: {e}")))?;
    let server = PeerId::new("server").map_err(|e| LoadError::Config(format!("peer id: {e}")))?;
    // Per document, its changes (creation first) and the heads after each.
    let mut per_doc: Vec<Vec<(Vec<u8>, ChangeHash)>> = Vec::with_capacity(ids.len());
    for d in 0..ids.len() {
        // A new document has an actor of its own (random): one per document, as on tablets.
        let (mut doc, notes) = new_document(&format!("tablet {tablet} case {d}"))?;
        let mut changes = Vec::with_capacity(config.edits + 1);
        let mut push = |doc: &mut automerge::Automerge| -> Result<(), LoadError> {
            let change = doc
                .get_last_local_change()
                .ok_or_else(|| LoadError::Config("no change was made".into()))?;
            changes.push((change.raw_bytes().to_vec(), change.hash()));
            Ok(())
        };
        push(&mut doc)?;
        let mut seed = (tablet as u64) << 32 | d as u64;
        for e in 1..=config.edits {
            let mut tx = doc.transaction();
            tx.put(automerge::ROOT, "n", e as i64)?;
            let len = tx.length(&notes);
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let at = if len == 0 {
                0
            } else {
                (seed >> 33) as usize % (len + 1)
            };
            tx.splice_text(&notes, at, 0, "abcdefghij")?;
            tx.commit();
            push(&mut doc)?;
        }
        per_doc.push(changes);
    }
    // Frames, round-robin over the documents: batch b of every document, then batch b + 1.
    let mut frames = Vec::new();
    let batches = (config.edits + 1).div_ceil(config.batch);
    for b in 0..batches {
        for (d, changes) in per_doc.iter().enumerate() {
            let start = b * config.batch;
            let end = (start + config.batch).min(changes.len());
            if start >= end {
                continue;
            }
            let slice = &changes[start..end];
            let head = slice.last().map(|(_, h)| *h);
            let message = SyncMessage {
                heads: head.into_iter().collect(),
                need: vec![],
                have: vec![],
                changes: ChunkList::from(slice.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>()),
                flags: None,
                version: MessageVersion::V1,
            };
            let bytes = wire::encode(&Message::Sync(DocMessage {
                sender_id: peer_id.clone(),
                target_id: server.clone(),
                document_id: ids[d],
                data: message.encode(),
            }));
            frames.push((ids[d], bytes, head));
        }
    }
    let last = ids
        .iter()
        .zip(&per_doc)
        .map(|(id, changes)| {
            (
                *id,
                changes.last().map(|(_, h)| vec![*h]).unwrap_or_default(),
            )
        })
        .collect();
    let bulk = per_doc
        .iter()
        .map(|changes| {
            changes
                .iter()
                .flat_map(|(c, _)| c.iter().copied())
                .collect()
        })
        .collect();
    Ok(Prepared {
        peer_id,
        bulk,
        frames,
        last,
    })
}

/// Changes per second of automerge alone on the prepared changes: each document's changes
/// loaded into a fresh document in one call (median of three passes).
fn automerge_bulk_rate(prepared: &[Prepared], changes: usize) -> Result<f64, LoadError> {
    let mut rates = Vec::with_capacity(3);
    for _ in 0..3 {
        let started = Instant::now();
        for bytes in prepared.iter().flat_map(|p| &p.bulk) {
            let mut doc = automerge::Automerge::new();
            doc.load_incremental(bytes)?;
            std::hint::black_box(&doc);
        }
        rates.push(changes as f64 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    Ok(rates[1])
}

/// Prepares, sends, waits for every acknowledgement, verifies.
pub async fn run(config: BlastConfig) -> Result<BlastReport, LoadError> {
    check_url(&config.url)?;
    if config.clients == 0 || config.docs == 0 || config.edits == 0 || config.batch == 0 {
        return Err(LoadError::Config(
            "clients, docs, edits and batch must be at least 1".into(),
        ));
    }
    let say = |what: &str| {
        if config.progress {
            eprintln!("{what}");
        }
    };
    let address = server_address(&config.url, config.token.as_deref(), &config.trust);
    say("making every change and frame");
    let mut prepared = Vec::with_capacity(config.clients);
    for tablet in 0..config.clients {
        let ids: Vec<DocumentId> = (0..config.docs)
            .map(|_| DocumentId::from_random(rand::random()))
            .collect();
        prepared.push(prepare(tablet, &config, &ids)?);
    }
    let changes = config.clients * config.docs * (config.edits + 1);
    let frames: usize = prepared.iter().map(|p| p.frames.len()).sum();
    let expected: Vec<Stored> = prepared.iter().flat_map(|p| p.last.clone()).collect();
    say("automerge's in-process rate on the same changes");
    let bulk_rate = automerge_bulk_rate(&prepared, changes)?;

    say("connecting");
    let mut sockets = Vec::with_capacity(config.clients);
    for p in &prepared {
        sockets.push(handshake(&address, &p.peer_id, config.timeout).await?);
    }
    let pid = config.server_pid.map(|p| p.to_string());
    let cpu0 = pid.as_deref().and_then(procfs::cpu_seconds);
    let gen_cpu0 = procfs::cpu_seconds("self").unwrap_or(0.0);
    say(&format!("sending {frames} frames ({changes} changes)"));
    let started = Instant::now();
    let tasks: Vec<JoinHandle<Result<(), LoadError>>> = prepared
        .into_iter()
        .zip(sockets)
        .enumerate()
        .map(|(i, (p, socket))| tokio::spawn(send_all(format!("t{i}"), p, socket, config.timeout)))
        .collect();
    for task in tasks {
        task.await.map_err(|e| LoadError::Client {
            client: "a tablet".into(),
            reason: format!("its task failed: {e}"),
        })??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let server_cpu = pid
        .as_deref()
        .and_then(procfs::cpu_seconds)
        .zip(cpu0)
        .map(|(b, a)| b - a);
    let gen_cpu = procfs::cpu_seconds("self").unwrap_or(0.0) - gen_cpu0;
    say("reading every document back");
    let mismatches = verify_heads(&address, &expected, config.timeout).await?;
    Ok(BlastReport {
        server: config.url.clone(),
        server_pid: config.server_pid,
        params: BlastParams {
            clients: config.clients,
            docs: config.docs,
            edits: config.edits,
            batch: config.batch,
            tls: config.url.starts_with("wss://"),
        },
        changes,
        frames,
        until_all_acknowledged_ms: round(elapsed * 1000.0, 1),
        acknowledged_changes_per_sec: round(changes as f64 / elapsed, 0),
        automerge_bulk_changes_per_sec: round(bulk_rate, 0),
        ratio_to_automerge_bulk: round(changes as f64 / elapsed / bulk_rate, 3),
        server_cpu_ms_per_change: server_cpu.map(|c| round(c * 1000.0 / changes as f64, 4)),
        server_vm_hwm_mib: pid
            .as_deref()
            .and_then(procfs::memory)
            .map(|m| mib(m.hwm_kib)),
        load_generator: LoadGenerator::used(gen_cpu),
        mismatches,
        verified: mismatches == 0,
    })
}

type Socket = client_sdk::transport::Socket;

/// Connects and joins; returns the socket once the server has answered with `peer`.
async fn handshake(
    address: &ServerAddress,
    peer_id: &PeerId,
    timeout: Duration,
) -> Result<Socket, LoadError> {
    let failed = |reason: String| LoadError::Client {
        client: peer_id.to_string(),
        reason,
    };
    let mut socket = client_sdk::transport::connect(address, wire::DEFAULT_MAX_FRAME)
        .await
        .map_err(|e| failed(format!("connecting: {e}")))?;
    let join = wire::encode(&Message::Join(Join {
        sender_id: peer_id.clone(),
        metadata: PeerMetadata::default(),
        supported_protocol_versions: vec!["1".into()],
    }));
    futures::SinkExt::send(&mut socket, WsMessage::Binary(join.into()))
        .await
        .map_err(|e| failed(format!("sending join: {e}")))?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let item = tokio::time::timeout_at(deadline, socket.next())
            .await
            .map_err(|_| failed("no answer to join".into()))?;
        match item {
            Some(Ok(WsMessage::Binary(bytes))) => {
                match wire::decode(&bytes, wire::DEFAULT_MAX_FRAME) {
                    Ok(Message::Peer(_)) => return Ok(socket),
                    Ok(Message::Error { message }) => return Err(failed(message)),
                    _ => {}
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(failed(format!("socket: {e}"))),
            None => return Err(failed("the server closed the connection".into())),
        }
    }
}

/// Sends every frame of one tablet and waits until the server has acknowledged the last change
/// of each of its documents.
async fn send_all(
    label: String,
    prepared: Prepared,
    socket: Socket,
    timeout: Duration,
) -> Result<(), LoadError> {
    let failed = |reason: String| LoadError::Client {
        client: label.clone(),
        reason,
    };
    let (out, mut stream, writer) = open_split(socket);
    let mut pending: HashMap<DocumentId, Vec<ChangeHash>> = prepared.last.iter().cloned().collect();
    for (_, bytes, _) in prepared.frames {
        if out.send(WsMessage::Binary(bytes.into())).is_err() {
            return Err(failed("the connection's writer ended".into()));
        }
    }
    let deadline = tokio::time::Instant::now() + timeout;
    while !pending.is_empty() {
        let item = tokio::time::timeout_at(deadline, stream.next())
            .await
            .map_err(|_| {
                failed(format!(
                    "{} documents not acknowledged after {} s",
                    pending.len(),
                    timeout.as_secs()
                ))
            })?;
        match item {
            Some(Ok(WsMessage::Binary(bytes))) => {
                match wire::decode(&bytes, wire::DEFAULT_MAX_FRAME) {
                    Ok(Message::Sync(m)) => {
                        let Some(want) = pending.get(&m.document_id) else {
                            continue;
                        };
                        let heads = SyncMessage::decode(&m.data)
                            .map(|s| s.heads)
                            .map_err(|e| failed(format!("a sync message from the server: {e}")))?;
                        if same_heads(heads, want.clone()) {
                            pending.remove(&m.document_id);
                        }
                    }
                    Ok(Message::Error { message }) => {
                        return Err(failed(format!("the server: {message}")))
                    }
                    Ok(Message::DocUnavailable { document_id, .. }) => {
                        return Err(failed(format!("the server: {document_id} unavailable")))
                    }
                    Ok(_) => {}
                    Err(e) => return Err(failed(format!("a frame from the server: {e}"))),
                }
            }
            Some(Ok(WsMessage::Close(frame))) => {
                return Err(failed(format!(
                    "the server closed the connection: {frame:?}"
                )))
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(failed(format!("socket: {e}"))),
            None => return Err(failed("the connection ended".into())),
        }
    }
    let _ = out.send(WsMessage::Close(None));
    drop(writer);
    Ok(())
}

/// The writer task of [`open`] around an already joined socket.
fn open_split(
    socket: Socket,
) -> (
    tokio::sync::mpsc::UnboundedSender<WsMessage>,
    futures::stream::SplitStream<Socket>,
    JoinHandle<()>,
) {
    let (sink, stream) = socket.split();
    let (out, writer) = writer(sink);
    (out, stream, writer)
}
