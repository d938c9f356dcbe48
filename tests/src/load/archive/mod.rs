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

//!
//! The pieces: this file holds the parameters and the run; `report.rs` what it reports,
//! `phases.rs` the writers, the readers and the read-back check (which [`super::blast`] uses
//! too), `peer.rs` one connection with its engine.

mod peer;
mod phases;
mod report;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_sdk::transport::Trust;
use sync_core::DocumentId;
use tokio::task::JoinHandle;

use super::address::{check_url, server_address};
use super::procfs;
use super::report::{mib, round, Latency, LoadGenerator};
use super::sampler::Sampler;
use crate::error::LoadError;
use peer::Shared;
use phases::{joined, populate, read, Reads};
pub(super) use phases::{verify_heads, Stored};
pub use report::{ArchiveParams, ArchiveReport, ArchiveServer, PopulatePhase, ReadPhase};

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

/// Stores the documents, reads them at random, and measures both.
pub async fn run(config: ArchiveConfig) -> Result<ArchiveReport, LoadError> {
    check_url(&config.url)?;
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
        address: server_address(&config.url, config.token.as_deref(), &config.trust),
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
    let n = latencies.len();
    report.reads = ReadPhase {
        complete: n,
        unavailable,
        latency: Latency::of(latencies, config.reads),
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
    report.load_generator = LoadGenerator::since(gen_cpu0);
    report.verified = n == config.reads && unavailable == 0;
    report.wall_seconds = round(t0.elapsed().as_secs_f64(), 2);
    Ok(report)
}
