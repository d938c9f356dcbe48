//! The stored-documents scenario of issue #8: a regional server holding 100,000 cases, opened
//! at random (`kooperacja-load URL --stored 100000`).
//!
//! Populate: `writers` connections create the documents (`{title, n, notes, items}` with
//! `doc_text` characters of notes, in two changes), `wave` at a time per connection; once the
//! server has acknowledged a whole wave (its heads advertised for every document) the
//! connection closes and a new one takes the next wave, so that neither side keeps what it no
//! longer uses. Reads: `readers` connections each open documents drawn uniformly at random, one
//! at a time, and time the request until the whole document (the heads recorded when it was
//! created) has arrived. With many more documents than the server's memory budget holds,
//! nearly every read is a cold load from its store; the server's RSS is sampled throughout.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::ChangeHash;
use client_sdk::transport::{ServerAddress, Socket, Trust};
use futures::stream::SplitStream;
use futures::{FutureExt, StreamExt};
use serde::Serialize;
use sync_core::engine::{
    AllowAll, ConnId, Direction, Effect, Engine, EngineConfig, Event, Input, Principal,
};
use sync_core::storage::MemoryStorage;
use sync_core::{wire, DocumentId, PeerId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::client::{handle, new_document, open, same_heads};
use super::{mib, percentile, procfs, round, Latency, LoadGenerator, Sampler};
use crate::error::LoadError;

/// The parameters of a stored-documents run.
#[derive(Clone, Debug)]
pub struct ArchiveConfig {
    /// `ws://` or `wss://` URL of the server (loopback only).
    pub url: String,
    /// A device token, appended as `?token=`.
    pub token: Option<String>,
    /// How to trust TLS.
    pub trust: Trust,
    /// Documents to store.
    pub documents: usize,
    /// Characters of `notes` per document.
    pub doc_text: usize,
    /// Connections creating documents at once.
    pub writers: usize,
    /// Documents one connection creates before it closes.
    pub wave: usize,
    /// Random reads in all.
    pub reads: usize,
    /// Connections reading at once (each reads one document at a time).
    pub readers: usize,
    /// The server's process id, for its RSS and CPU seconds.
    pub server_pid: Option<u32>,
    /// Time limit of one wave, of the handshake and of one read.
    pub timeout: Duration,
    /// Progress lines on stderr.
    pub progress: bool,
}

impl ArchiveConfig {
    /// 100,000 documents of 2,000 characters, 20,000 reads by 4 readers.
    pub fn new(url: impl Into<String>, trust: Trust) -> Self {
        Self {
            url: url.into(),
            token: None,
            trust,
            documents: 100_000,
            doc_text: 2_000,
            writers: 8,
            wave: 500,
            reads: 20_000,
            readers: 4,
            server_pid: None,
            timeout: Duration::from_secs(300),
            progress: false,
        }
    }
}

/// The run's parameters, as reported.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveParams {
    pub documents: usize,
    pub doc_text: usize,
    pub writers: usize,
    pub wave: usize,
    pub reads: usize,
    pub readers: usize,
    pub tls: bool,
}

/// Storing the documents.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PopulatePhase {
    /// Documents the server acknowledged.
    pub documents: usize,
    /// Wall time until the last one was acknowledged.
    pub seconds: f64,
    /// Acknowledged documents per second.
    pub docs_per_sec: f64,
    /// The server's CPU seconds in this phase.
    pub server_cpu_seconds: Option<f64>,
    /// (documents stored, server RSS in MiB), every two seconds.
    #[serde(rename = "rssCurve_MiB")]
    pub rss_curve: Vec<(usize, f64)>,
}

/// The random reads.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadPhase {
    /// Reads that returned the whole document.
    pub complete: usize,
    /// Reads the server answered with "unavailable" (a lost document).
    pub unavailable: usize,
    /// Request → whole document, ms.
    pub latency: Latency,
    /// Reads per second, all readers together.
    pub reads_per_sec: f64,
    /// The server's CPU seconds in this phase, per read, ms.
    pub server_cpu_ms_per_read: Option<f64>,
}

/// The server process over the run, from `/proc`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveServer {
    /// Peak RSS since the server started (`VmHWM`), MiB.
    #[serde(rename = "vmHWM_MiB")]
    pub vm_hwm_mib: f64,
    /// RSS before the run, MiB.
    #[serde(rename = "rssAtStart_MiB")]
    pub rss_at_start_mib: f64,
    /// RSS once every document is stored, MiB.
    #[serde(rename = "rssAfterPopulate_MiB")]
    pub rss_after_populate_mib: f64,
    /// Largest RSS sampled (every 100 ms) during the reads, MiB.
    #[serde(rename = "maxSampledRssDuringReads_MiB")]
    pub max_sampled_rss_during_reads_mib: f64,
    /// RSS at the end, MiB.
    #[serde(rename = "rssAtEnd_MiB")]
    pub rss_at_end_mib: f64,
}

/// What a stored-documents run measured.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveReport {
    pub server: String,
    pub server_pid: Option<u32>,
    pub params: ArchiveParams,
    pub populate: PopulatePhase,
    pub reads: ReadPhase,
    pub server_process: Option<ArchiveServer>,
    pub load_generator: LoadGenerator,
    /// Every read returned the document as it was stored.
    pub verified: bool,
    pub wall_seconds: f64,
}

impl ArchiveReport {
    /// One line for a terminal.
    pub fn summary(&self) -> String {
        let srv = self.server_process.as_ref();
        format!(
            "{} documents stored at {:.0}/s; {} random reads by {}: p50 {:.1} / p90 {:.1} / p99 {:.1} / max {:.1} ms, \
             {} unavailable; server rss after storing {} MiB, max during reads {} MiB, peak {} MiB; verified {}",
            self.populate.documents,
            self.populate.docs_per_sec,
            self.reads.latency.samples,
            self.params.readers,
            self.reads.latency.p50,
            self.reads.latency.p90,
            self.reads.latency.p99,
            self.reads.latency.max,
            self.reads.unavailable,
            srv.map_or("-".into(), |s| format!("{:.1}", s.rss_after_populate_mib)),
            srv.map_or("-".into(), |s| format!("{:.1}", s.max_sampled_rss_during_reads_mib)),
            srv.map_or("-".into(), |s| format!("{:.1}", s.vm_hwm_mib)),
            self.verified,
        )
    }
}

/// Stores the documents, reads them at random, and measures both.
pub async fn run(config: ArchiveConfig) -> Result<ArchiveReport, LoadError> {
    super::check_url(&config.url)?;
    if config.documents == 0 || config.writers == 0 || config.wave == 0 || config.readers == 0 {
        return Err(LoadError::Config(
            "documents, writers, wave and readers must be at least 1".into(),
        ));
    }
    if config.reads.div_ceil(config.readers) > config.documents {
        // Each reader opens a document once; more reads than documents would never end.
        return Err(LoadError::Config(format!(
            "{} reads by {} readers: at most {} per reader ({} documents)",
            config.reads, config.readers, config.documents, config.documents
        )));
    }
    let t0 = Instant::now();
    let say = |what: &str| {
        if config.progress {
            eprintln!("[{:.2}s] {what}", t0.elapsed().as_secs_f64());
        }
    };
    let pid = config.server_pid.map(|p| p.to_string());
    let memory = |pid: &Option<String>| -> Result<Option<procfs::Memory>, LoadError> {
        match pid {
            Some(p) => procfs::memory(p).map(Some).ok_or_else(|| {
                LoadError::Config(format!(
                    "cannot read /proc/{p}/status (is the server running?)"
                ))
            }),
            None => Ok(None),
        }
    };
    let cpu = |pid: &Option<String>| pid.as_deref().and_then(procfs::cpu_seconds);
    let start_mem = memory(&pid)?;
    let gen_cpu0 = procfs::cpu_seconds("self").unwrap_or(0.0);
    let shared = Arc::new(Shared {
        address: ServerAddress {
            url: super::with_token(&config.url, config.token.as_deref()),
            token: config.token.clone().unwrap_or_default(),
            trust: config.trust.clone(),
        },
        doc_text: config.doc_text,
        wave: config.wave,
        timeout: config.timeout,
        t0,
        stored: AtomicUsize::new(0),
        target: config.documents,
    });
    let mut report = ArchiveReport {
        server: config.url.clone(),
        server_pid: config.server_pid,
        params: ArchiveParams {
            documents: config.documents,
            doc_text: config.doc_text,
            writers: config.writers,
            wave: config.wave,
            reads: config.reads,
            readers: config.readers,
            tls: config.url.starts_with("wss://"),
        },
        ..ArchiveReport::default()
    };

    // Populate.
    say(&format!(
        "storing {} documents through {} connections",
        config.documents, config.writers
    ));
    let ids: Vec<DocumentId> = (0..config.documents)
        .map(|_| DocumentId::from_random(rand::random()))
        .collect();
    let per_writer = config.documents.div_ceil(config.writers);
    let cpu0 = cpu(&pid);
    let started = Instant::now();
    let curve = pid.clone().map(|p| {
        let shared = shared.clone();
        tokio::spawn(async move {
            // The server's RSS against the documents it holds, every two seconds.
            let mut points: Vec<(usize, f64)> = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tick.tick().await;
                let stored = shared.stored.load(Ordering::Relaxed);
                if let Some(m) = procfs::memory(&p) {
                    points.push((stored, mib(m.rss_kib)));
                }
                if stored >= shared.target {
                    return points;
                }
            }
        })
    });
    let writers: Vec<JoinHandle<Result<Vec<Stored>, LoadError>>> = ids
        .chunks(per_writer)
        .enumerate()
        .map(|(i, chunk)| {
            tokio::spawn(populate(
                shared.clone(),
                chunk.to_vec(),
                format!("w{i}"),
                i as u64,
            ))
        })
        .collect();
    let mut stored: Vec<Stored> = Vec::with_capacity(config.documents);
    for writer in writers {
        stored.extend(joined(writer, "a writer").await?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let rss_curve = match curve {
        Some(task) => task.await.unwrap_or_default(),
        None => Vec::new(),
    };
    report.populate = PopulatePhase {
        documents: stored.len(),
        seconds: round(seconds, 2),
        docs_per_sec: round(stored.len() as f64 / seconds, 0),
        server_cpu_seconds: cpu(&pid).zip(cpu0).map(|(b, a)| round(b - a, 2)),
        rss_curve,
    };
    let after_populate = memory(&pid)?;
    say(&format!(
        "stored {} documents in {seconds:.1} s",
        stored.len()
    ));

    // Random reads.
    say(&format!(
        "{} random reads by {} connections",
        config.reads, config.readers
    ));
    let stored = Arc::new(stored);
    let sampler = pid.clone().map(Sampler::start);
    let cpu1 = cpu(&pid);
    let started = Instant::now();
    let per_reader = config.reads.div_ceil(config.readers);
    let readers: Vec<JoinHandle<Result<Reads, LoadError>>> = (0..config.readers)
        .map(|i| {
            let count = per_reader.min(config.reads.saturating_sub(i * per_reader));
            tokio::spawn(read(
                shared.clone(),
                stored.clone(),
                count,
                format!("r{i}"),
                0x5eed_0000 + i as u64,
            ))
        })
        .collect();
    let mut latencies = Vec::with_capacity(config.reads);
    let mut unavailable = 0;
    for reader in readers {
        let r = joined(reader, "a reader").await?;
        latencies.extend(r.latencies_ms);
        unavailable += r.unavailable;
    }
    let seconds = started.elapsed().as_secs_f64();
    let read_cpu = cpu(&pid).zip(cpu1).map(|(b, a)| b - a);
    latencies.sort_by(f64::total_cmp);
    let n = latencies.len();
    report.reads = ReadPhase {
        complete: n,
        unavailable,
        latency: Latency {
            samples: n,
            expected: config.reads,
            p50: round(percentile(&latencies, 50.0), 1),
            p90: round(percentile(&latencies, 90.0), 1),
            p99: round(percentile(&latencies, 99.0), 1),
            max: round(latencies.last().copied().unwrap_or(f64::NAN), 1),
            mean: round(latencies.iter().sum::<f64>() / n.max(1) as f64, 1),
        },
        reads_per_sec: round(n as f64 / seconds, 0),
        server_cpu_ms_per_read: read_cpu
            .filter(|_| n > 0)
            .map(|c| round(c * 1000.0 / n as f64, 3)),
    };
    let end_mem = memory(&pid)?;
    if let (Some(start), Some(after), Some(end), Some(sampler)) =
        (start_mem, after_populate, end_mem, sampler.as_ref())
    {
        report.server_process = Some(ArchiveServer {
            vm_hwm_mib: mib(end.hwm_kib),
            rss_at_start_mib: mib(start.rss_kib),
            rss_after_populate_mib: mib(after.rss_kib),
            max_sampled_rss_during_reads_mib: round(sampler.max_mib().max(mib(end.rss_kib)), 1),
            rss_at_end_mib: mib(end.rss_kib),
        });
    }
    drop(sampler);
    report.load_generator = LoadGenerator {
        cpu_seconds: round(procfs::cpu_seconds("self").unwrap_or(0.0) - gen_cpu0, 2),
        max_rss_mib: procfs::memory("self").map_or(0.0, |m| mib(m.hwm_kib)),
    };
    report.verified = n == config.reads && unavailable == 0;
    report.wall_seconds = round(t0.elapsed().as_secs_f64(), 2);
    Ok(report)
}

/// What every connection of a run shares.
struct Shared {
    address: ServerAddress,
    doc_text: usize,
    wave: usize,
    timeout: Duration,
    t0: Instant,
    /// Documents acknowledged so far.
    stored: AtomicUsize,
    /// Documents to store.
    target: usize,
}

/// A stored document and its heads when the server acknowledged it.
pub(super) type Stored = (DocumentId, Vec<ChangeHash>);

/// One reader's results.
struct Reads {
    latencies_ms: Vec<f64>,
    unavailable: usize,
}

async fn joined<T>(task: JoinHandle<Result<T, LoadError>>, what: &str) -> Result<T, LoadError> {
    task.await.map_err(|e| LoadError::Client {
        client: what.into(),
        reason: format!("its task failed: {e}"),
    })?
}

/// Creates `ids`, a wave per connection, and returns their acknowledged heads.
async fn populate(
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
            })
            .await;
        }
        peer.input(Input::Tick).await;
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
async fn read(
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
        peer.input(Input::Find { document: *id }).await;
        peer.input(Input::Tick).await;
        let deadline = tokio::time::Instant::now() + shared.timeout;
        peer.until(deadline, "a document", |p| {
            p.unavailable.contains(id)
                || p.engine
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
pub(super) async fn verify_heads(
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
        peer.input(Input::Find { document: *id }).await;
    }
    peer.input(Input::Tick).await;
    let arrived = |p: &Peer, (id, heads): &Stored| {
        p.unavailable.contains(id)
            || p.engine
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
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z % n.max(1) as u64) as usize
    }
}

/// One connection with its own client engine and in-memory store.
struct Peer {
    engine: Engine<AllowAll>,
    storage: MemoryStorage,
    conn: ConnId,
    out: mpsc::UnboundedSender<WsMessage>,
    stream: SplitStream<Socket>,
    writer: JoinHandle<()>,
    t0: Instant,
    joined: bool,
    unavailable: HashSet<DocumentId>,
    failure: Option<String>,
    /// Frames received.
    frames: u64,
}

impl Peer {
    async fn connect(shared: &Shared, peer_id: PeerId) -> Result<Self, String> {
        let (out, stream, writer) = open(&shared.address).await?;
        let mut peer = Peer {
            engine: Engine::new(EngineConfig::client(peer_id), AllowAll),
            storage: MemoryStorage::new(),
            conn: ConnId(1),
            out,
            stream,
            writer,
            t0: shared.t0,
            joined: false,
            unavailable: HashSet::new(),
            failure: None,
            frames: 0,
        };
        peer.input(Input::Connected {
            conn: peer.conn,
            direction: Direction::Outbound,
            principal: Principal::new("server", "server"),
        })
        .await;
        Ok(peer)
    }

    /// Feeds an input and carries out every effect (storage at once, in memory).
    async fn input(&mut self, input: Input) {
        for effect in handle(&mut self.engine, &self.storage, self.t0, input).await {
            match effect {
                Effect::Send { message, .. } => {
                    let _ = self
                        .out
                        .send(WsMessage::Binary(wire::encode(&message).into()));
                }
                Effect::Close { code, reason, .. } => {
                    self.failure.get_or_insert(format!(
                        "our engine closed the connection ({code}): {reason}"
                    ));
                }
                Effect::Storage { .. } => {}
                Effect::Event(Event::PeerJoined { .. }) => self.joined = true,
                Effect::Event(Event::DocumentUnavailable { document }) => {
                    self.unavailable.insert(document);
                }
                Effect::Event(Event::Rejected { reason, .. }) => {
                    self.failure
                        .get_or_insert(format!("a message was refused: {reason:?}"));
                }
                Effect::Event(Event::StorageFailed { document, error }) => {
                    self.failure
                        .get_or_insert(format!("storing {document}: {error}"));
                }
                Effect::Event(_) => {}
            }
        }
    }

    /// Receives frames (one engine tick per burst) until `done` holds or the deadline passes.
    async fn until(
        &mut self,
        deadline: tokio::time::Instant,
        what: &str,
        done: impl Fn(&Self) -> bool,
    ) -> Result<(), String> {
        loop {
            if let Some(failure) = &self.failure {
                return Err(failure.clone());
            }
            if done(self) {
                return Ok(());
            }
            let first = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .map_err(|_| format!("timed out waiting for {what}"))?;
            let mut next = Some(first);
            let mut batch = 0;
            while let Some(item) = next.take() {
                match item {
                    Some(Ok(WsMessage::Binary(bytes))) => {
                        self.frames += 1;
                        let conn = self.conn;
                        match wire::decode(&bytes, wire::DEFAULT_MAX_FRAME) {
                            Ok(message) => self.input(Input::Received { conn, message }).await,
                            Err(_) => {
                                self.input(Input::Frame {
                                    conn,
                                    bytes: bytes.to_vec(),
                                })
                                .await
                            }
                        }
                    }
                    Some(Ok(WsMessage::Close(frame))) => {
                        return Err(format!(
                            "the server closed the connection waiting for {what}: {frame:?}"
                        ))
                    }
                    Some(Err(e)) => return Err(format!("socket error waiting for {what}: {e}")),
                    None => return Err(format!("the connection ended waiting for {what}")),
                    Some(Ok(_)) => {}
                }
                batch += 1;
                if batch < 256 {
                    next = self.stream.next().now_or_never();
                }
            }
            self.input(Input::Tick).await;
        }
    }

    /// The server advertised the document's current heads.
    fn acked(&self, document: &DocumentId) -> bool {
        match (
            self.engine.document(document),
            self.engine.peer_heads(self.conn, document),
        ) {
            (Some(doc), Some(theirs)) => same_heads(theirs, doc.get_heads()),
            _ => false,
        }
    }

    /// A close frame; the writer sends it and ends.
    fn close(self) {
        let _ = self.out.send(WsMessage::Close(None));
        drop(self.stream);
        drop(self.writer);
    }
}
