//! The load generator of issue #8, mirroring `../shared/bench/load.mjs`.
//!
//! N clients each own D documents `{title, n, notes: text, items: []}` and make E edits to each
//! (an edit is one change: `n = e` and `text_len` random characters spliced into `notes` at a
//! random position), flat out or one round every `interval`. For every document the next client
//! (`(i + 1) mod N`) watches it and records, per edit, the delay from the owner's change to its
//! arrival (one process: edits are stamped with a monotonic clock in a shared table).
//!
//! Phases: connect, create (until the server acknowledges every document), subscribe (watchers
//! fetch), edit (until the server holds every change: each owner's local heads equal the heads
//! the server advertised), settle (until every watcher has the last edit), verify (a fresh
//! client fetches every document; its heads and content must match the owner's).

pub mod archive;
pub mod blast;
pub mod client;
pub mod procfs;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::ChangeHash;
use client_sdk::transport::{ServerAddress, Trust};
use serde::Serialize;
use sync_core::{DocumentId, PeerId};
use tokio::sync::oneshot;

use crate::error::LoadError;
use client::{Cmd, Handle, Outcome, Shared, Stamps, Status};

/// The parameters of a run.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// `ws://` or `wss://` URL of the server's WebSocket endpoint (loopback only).
    pub url: String,
    /// A device token, appended as `?token=` (and sent as `Authorization: Bearer`).
    pub token: Option<String>,
    /// How to trust TLS (`Trust::None` for `ws://`).
    pub trust: Trust,
    /// Simulated tablets.
    pub clients: usize,
    /// Documents per tablet.
    pub docs: usize,
    /// Edits per document.
    pub edits: usize,
    /// Time between edit rounds of one client (each round edits each of its documents once);
    /// zero is flat out.
    pub interval: Duration,
    /// Characters spliced per edit.
    pub text_len: usize,
    /// The server's process id, for its peak RSS and CPU seconds.
    pub server_pid: Option<u32>,
    /// Time limit of each phase before the edits (connect, create, subscribe, verify).
    pub phase_timeout: Duration,
    /// How long to wait, after the last local edit, for the server and the watchers.
    pub settle_timeout: Duration,
    /// The 1,000-tablet scenario: report the server's RSS per idle connection.
    pub connect_only: bool,
    /// Paced runs: spread the clients' rounds evenly over the interval instead of starting them
    /// together (as load.mjs does), so that the server sees a steady rate rather than bursts.
    pub stagger: bool,
    /// Progress lines on stderr.
    pub progress: bool,
}

impl LoadConfig {
    /// The defaults of `load.mjs` for `url`.
    pub fn new(url: impl Into<String>, trust: Trust) -> Self {
        Self {
            url: url.into(),
            token: None,
            trust,
            clients: 10,
            docs: 10,
            edits: 50,
            interval: Duration::ZERO,
            text_len: 10,
            server_pid: None,
            phase_timeout: Duration::from_secs(300),
            settle_timeout: Duration::from_secs(60),
            connect_only: false,
            stagger: false,
            progress: false,
        }
    }
}

/// The run's parameters, as reported.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    /// Clients.
    pub clients: usize,
    /// Documents per client.
    pub docs: usize,
    /// Edits per document.
    pub edits: usize,
    /// Watchers per document.
    pub subscribers: usize,
    /// Pacing (0: flat out).
    pub interval_ms: u64,
    /// Characters per edit.
    pub text_len: usize,
    /// TLS or not.
    pub tls: bool,
    /// Connect-only mode.
    pub connect_only: bool,
    /// Paced rounds spread over the interval.
    pub stagger: bool,
}

/// The edit phase.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EditPhase {
    /// Clients × documents × edits.
    pub total_edits: usize,
    /// Until every client made its last edit locally.
    pub local_apply_ms: f64,
    /// Until the server held every change (`None`: it did not within the settle time).
    pub until_server_holds_all_ms: Option<f64>,
    /// `total_edits` over that time.
    pub edits_per_sec_to_server: Option<f64>,
    /// Until every watcher had the last edit of its document.
    pub until_all_subscribers_converged_ms: Option<f64>,
    /// The server's CPU seconds from the first edit until it held every change.
    pub server_cpu_seconds_until_ack: Option<f64>,
    /// The same per edit, in milliseconds.
    pub server_cpu_ms_per_edit: Option<f64>,
    /// The load generator's CPU seconds over the edit and settle phases.
    pub load_gen_cpu_seconds: f64,
}

/// Edit-to-watcher delays.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Latency {
    /// Delays measured.
    pub samples: usize,
    /// Delays expected (edits × watchers).
    pub expected: usize,
    /// Median, ms.
    pub p50: f64,
    /// 90th percentile, ms.
    pub p90: f64,
    /// 99th percentile, ms.
    pub p99: f64,
    /// Largest, ms.
    pub max: f64,
    /// Mean, ms.
    pub mean: f64,
}

/// The server process, from `/proc`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServerProcess {
    /// Peak RSS since the server started (`VmHWM`), MiB.
    #[serde(rename = "vmHWM_MiB")]
    pub vm_hwm_mib: f64,
    /// RSS when the run started, MiB.
    #[serde(rename = "rssAtStart_MiB")]
    pub rss_at_start_mib: f64,
    /// RSS at the end, MiB.
    #[serde(rename = "rssAtEnd_MiB")]
    pub rss_at_end_mib: f64,
    /// Largest RSS sampled during the run (every 100 ms), MiB.
    #[serde(rename = "maxSampledRss_MiB")]
    pub max_sampled_rss_mib: f64,
    /// RSS once every client was connected and held its documents, before the edits, MiB.
    #[serde(rename = "rssIdle_MiB")]
    pub rss_idle_mib: f64,
    /// (idle RSS − RSS at start) / clients, KiB: the memory of one idle connection with its
    /// documents.
    #[serde(rename = "rssPerIdleConnection_KiB")]
    pub rss_per_idle_connection_kib: f64,
    /// CPU seconds over the whole run.
    #[serde(rename = "cpuSeconds")]
    pub cpu_seconds: f64,
}

/// The load generator's own process.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadGenerator {
    /// CPU seconds over the whole run.
    pub cpu_seconds: f64,
    /// Peak RSS, MiB.
    #[serde(rename = "maxRss_MiB")]
    pub max_rss_mib: f64,
}

/// Wire counts.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Wire {
    /// Frames the clients sent.
    pub client_frames_sent: u64,
    /// Frames the clients received.
    pub client_frames_received: u64,
    /// Messages the clients' engines refused.
    pub rejected_messages: u64,
    /// The first refusal.
    pub first_rejection: Option<String>,
}

/// The result of a run (`load.mjs`'s JSON, plus `verified`, `dropped` and `stale`).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    /// The URL (without the token).
    pub server: String,
    /// The server's pid.
    pub server_pid: Option<u32>,
    /// Parameters.
    pub params: Option<Params>,
    /// Milliseconds of the connect, create, subscribe and verify phases.
    pub phases: HashMap<String, f64>,
    /// The edit phase.
    pub edit: EditPhase,
    /// Edit-to-watcher delays.
    #[serde(rename = "latencyMs")]
    pub latency: Latency,
    /// The server process.
    pub server_process: Option<ServerProcess>,
    /// This process.
    pub load_generator: LoadGenerator,
    /// Frames.
    pub wire: Wire,
    /// Connections dropped during the run.
    pub dropped: u32,
    /// Owned documents the server had not acknowledged at the end of the settle time.
    pub unacked_docs: usize,
    /// Watchers whose heads differ from the owner's final heads.
    pub stale: usize,
    /// Documents the fresh client could not fetch or found different.
    pub mismatches: usize,
    /// Every document fetched by a fresh client matched.
    pub verified: bool,
    /// Wall time of the run.
    pub wall_seconds: f64,
}

impl LoadReport {
    /// One line for a terminal.
    pub fn summary(&self) -> String {
        let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0}"));
        let p = self.params.as_ref();
        let srv = self.server_process.as_ref();
        format!(
            "{}x{}x{} interval {} ms{}{}: {} edits/s, latency p50 {:.1} / p99 {:.1} / max {:.1} ms ({} samples), \
             server cpu {} ms/edit, peak rss {} MiB{}, generator cpu {:.2} s, dropped {}, stale {}, unacked {}, verified {}",
            p.map_or(0, |p| p.clients),
            p.map_or(0, |p| p.docs),
            p.map_or(0, |p| p.edits),
            p.map_or(0, |p| p.interval_ms),
            if p.is_some_and(|p| p.stagger) { " staggered" } else { "" },
            if p.is_some_and(|p| p.tls) { " (TLS)" } else { "" },
            f(self.edit.edits_per_sec_to_server),
            self.latency.p50,
            self.latency.p99,
            self.latency.max,
            self.latency.samples,
            self.edit
                .server_cpu_ms_per_edit
                .map_or("-".into(), |v| format!("{v:.3}")),
            srv.map_or("-".into(), |s| format!("{:.1}", s.vm_hwm_mib)),
            srv.filter(|_| p.is_some_and(|p| p.connect_only))
                .map_or(String::new(), |s| format!(
                    ", {:.1} KiB per idle connection",
                    s.rss_per_idle_connection_kib
                )),
            self.load_generator.cpu_seconds,
            self.dropped,
            self.stale,
            self.unacked_docs,
            self.verified,
        )
    }
}

/// Samples the server's RSS every 100 ms until dropped.
struct Sampler {
    max_kib: Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(pid: String) -> Self {
        let max_kib = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let max = max_kib.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                if let Some(m) = procfs::memory(&pid) {
                    max.fetch_max(m.rss_kib, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
        Self { max_kib, task }
    }

    fn max_mib(&self) -> f64 {
        self.max_kib.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

fn round(v: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (v * k).round() / k
}

/// Waits until every client's status satisfies `done` (or one fails) within `timeout`.
async fn wait_all(
    what: &str,
    clients: &mut [Handle],
    timeout: Duration,
    done: impl Fn(&Status) -> bool,
) -> Result<(), LoadError> {
    let deadline = tokio::time::Instant::now() + timeout;
    for c in clients.iter_mut() {
        let waited = tokio::time::timeout_at(
            deadline,
            c.status.wait_for(|s| s.error.is_some() || done(s)),
        )
        .await;
        match waited {
            Err(_) => {
                return Err(LoadError::Timeout {
                    what: format!("{what} ({} not done)", c.label),
                    seconds: timeout.as_secs(),
                })
            }
            Ok(Err(_)) => {
                return Err(LoadError::Client {
                    client: c.label.clone(),
                    reason: "its task ended".into(),
                })
            }
            Ok(Ok(s)) => {
                if let Some(e) = &s.error {
                    return Err(LoadError::Client {
                        client: c.label.clone(),
                        reason: e.clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Waits like [`wait_all`], but a timeout is a result (how many clients were not done).
async fn settle(
    clients: &mut [Handle],
    deadline: tokio::time::Instant,
    done: impl Fn(&Status) -> bool,
) -> Result<usize, LoadError> {
    let mut left = 0;
    for c in clients.iter_mut() {
        match tokio::time::timeout_at(
            deadline,
            c.status.wait_for(|s| s.error.is_some() || done(s)),
        )
        .await
        {
            Ok(Ok(s)) => {
                if let Some(e) = &s.error {
                    return Err(LoadError::Client {
                        client: c.label.clone(),
                        reason: e.clone(),
                    });
                }
            }
            Ok(Err(_)) => {
                return Err(LoadError::Client {
                    client: c.label.clone(),
                    reason: "its task ended".into(),
                })
            }
            Err(_) => left += 1,
        }
    }
    Ok(left)
}

async fn finish(handle: &Handle) -> Result<Outcome, LoadError> {
    let (tx, rx) = oneshot::channel();
    let gone = || LoadError::Client {
        client: handle.label.clone(),
        reason: "its task ended before reporting".into(),
    };
    handle.commands.send(Cmd::Finish(tx)).map_err(|_| gone())?;
    rx.await.map_err(|_| gone())
}

fn send(handle: &Handle, cmd: Cmd) -> Result<(), LoadError> {
    handle.commands.send(cmd).map_err(|_| LoadError::Client {
        client: handle.label.clone(),
        reason: "its task ended".into(),
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[idx.saturating_sub(1).min(sorted.len() - 1)]
}

/// The URL with `token` appended as a query parameter.
fn with_token(url: &str, token: Option<&str>) -> String {
    match token {
        Some(t) if !t.is_empty() => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}token={t}")
        }
        _ => url.to_string(),
    }
}

fn check(config: &LoadConfig) -> Result<(), LoadError> {
    check_url(&config.url)?;
    let total = config.clients * config.docs * config.edits;
    if config.clients == 0 || config.docs == 0 || config.edits == 0 || total > 2_000_000 {
        return Err(LoadError::Config(
            "clients, docs and edits must be at least 1, and at most 2,000,000 edits in all".into(),
        ));
    }
    Ok(())
}

/// A `ws://` or `wss://` URL of a loopback host (the generator loads nothing else).
fn check_url(url: &str) -> Result<(), LoadError> {
    let rest = url
        .strip_prefix("ws://")
        .or_else(|| url.strip_prefix("wss://"))
        .ok_or_else(|| LoadError::Config(format!("not a ws:// or wss:// URL: {url}")))?;
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.rfind(':') {
        Some(i) if !host.ends_with(']') => &host[..i],
        _ => host,
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(LoadError::Config(format!(
            "refusing to load-test a non-loopback host ({host})"
        )));
    }
    Ok(())
}

/// Runs the workload and measures it. A failed verification, stale views or dropped
/// connections are results in the report; errors are what stopped the run.
pub async fn run(config: LoadConfig) -> Result<LoadReport, LoadError> {
    check(&config)?;
    let t0 = Instant::now();
    let say = |what: &str| {
        if config.progress {
            eprintln!("[{:.2}s] {what}", t0.elapsed().as_secs_f64());
        }
    };
    let n = config.clients;
    let d = config.docs;
    let e = config.edits;
    let subscribers = usize::from(n > 1);
    let tls = config.url.starts_with("wss://");
    let pid = config.server_pid.map(|p| p.to_string());
    let start_mem = match &pid {
        Some(p) => Some(procfs::memory(p).ok_or_else(|| {
            LoadError::Config(format!(
                "cannot read /proc/{p}/status (is the server running?)"
            ))
        })?),
        None => None,
    };
    let server_cpu0 = pid.as_deref().and_then(procfs::cpu_seconds);
    let gen_cpu0 = procfs::cpu_seconds("self").unwrap_or(0.0);
    let sampler = pid.clone().map(Sampler::start);

    let mut report = LoadReport {
        server: config.url.clone(),
        server_pid: config.server_pid,
        params: Some(Params {
            clients: n,
            docs: d,
            edits: e,
            subscribers,
            interval_ms: config.interval.as_millis() as u64,
            text_len: config.text_len,
            tls,
            connect_only: config.connect_only,
            stagger: config.stagger,
        }),
        ..LoadReport::default()
    };

    // The documents: ids drawn here, so that the edit-time table can be shared read-only.
    let tag: u32 = rand::random();
    let docs: Vec<Vec<DocumentId>> = (0..n)
        .map(|_| {
            (0..d)
                .map(|_| DocumentId::from_random(rand::random()))
                .collect()
        })
        .collect();
    let shared = Arc::new(Shared {
        address: ServerAddress {
            url: with_token(&config.url, config.token.as_deref()),
            token: config.token.clone().unwrap_or_default(),
            trust: config.trust.clone(),
        },
        edits: e,
        text_len: config.text_len,
        interval: config.interval,
        t0,
        stamps: Arc::new(Stamps::new(docs.iter().flatten().copied(), e)),
    });
    let peer = |name: String| {
        PeerId::new(name.clone()).map_err(|err| LoadError::Config(format!("peer id {name}: {err}")))
    };

    // ---- connect
    let t = Instant::now();
    let mut clients = Vec::with_capacity(n);
    for i in 0..n {
        clients.push(client::spawn(
            format!("c{i}"),
            peer(format!("load-{tag:08x}-c{i}"))?,
            shared.clone(),
            i as u64,
        ));
    }
    wait_all("connect", &mut clients, config.phase_timeout, |s| s.joined).await?;
    report.phases.insert("connectMs".into(), ms(t));
    say(&format!("connected {n} clients"));

    // ---- create
    let t = Instant::now();
    for (i, c) in clients.iter().enumerate() {
        let mine = docs[i]
            .iter()
            .enumerate()
            .map(|(j, id)| (*id, format!("c{i}-d{j}")))
            .collect();
        send(c, Cmd::Create(mine))?;
    }
    wait_all("create", &mut clients, config.phase_timeout, |s| {
        s.owned_acked == d
    })
    .await?;
    report.phases.insert("createMs".into(), ms(t));
    say(&format!("server acknowledged {} documents", n * d));

    // ---- subscribe
    let t = Instant::now();
    if subscribers > 0 {
        for (i, c) in clients.iter().enumerate() {
            send(c, Cmd::Watch(docs[(i + n - 1) % n].clone()))?;
        }
        wait_all("subscribe", &mut clients, config.phase_timeout, |s| {
            s.watched_ready == d
        })
        .await?;
    }
    report.phases.insert("subscribeMs".into(), ms(t));
    say("watchers hold their documents");
    let idle_mem = pid.as_deref().and_then(procfs::memory);

    // ---- edit
    let server_cpu_before = pid.as_deref().and_then(procfs::cpu_seconds);
    let gen_cpu_before = procfs::cpu_seconds("self").unwrap_or(0.0);
    let t_edit = Instant::now();
    for (i, c) in clients.iter().enumerate() {
        // Staggered, tablets edit at their own moments: their rounds are spread evenly over the
        // interval (otherwise every client starts at once, as in load.mjs).
        let delay = if config.stagger {
            config.interval.mul_f64(i as f64 / n as f64)
        } else {
            Duration::ZERO
        };
        send(c, Cmd::StartEdits(delay))?;
    }
    say("editing");
    // Every client's rounds take at most E intervals (with the stagger); then the settle time
    // starts.
    let paced = config.interval * u32::try_from(e).unwrap_or(u32::MAX);
    let deadline = tokio::time::Instant::now() + paced + config.settle_timeout;
    let not_acked = settle(&mut clients, deadline, |s| s.all_acked_at.is_some()).await?;
    let server_cpu_at_ack = pid.as_deref().and_then(procfs::cpu_seconds);
    let statuses: Vec<Status> = clients.iter().map(|c| c.status.borrow().clone()).collect();
    let local_done = statuses.iter().filter_map(|s| s.edits_done_at).max();
    let acked = statuses.iter().filter_map(|s| s.all_acked_at).max();
    report.unacked_docs = statuses.iter().map(|s| d - s.owned_acked.min(d)).sum();
    say(&format!(
        "server holds all changes: {}",
        if not_acked == 0 { "yes" } else { "NO" }
    ));
    // Watchers cannot converge on changes the server does not hold: a short look only then.
    let window = if not_acked == 0 {
        config.settle_timeout
    } else {
        config.settle_timeout.min(Duration::from_secs(10))
    };
    let deadline = tokio::time::Instant::now() + window;
    let not_converged = if subscribers > 0 {
        settle(&mut clients, deadline, |s| s.watched_complete == d).await?
    } else {
        0
    };
    let converged = (not_converged == 0).then(Instant::now);
    let gen_cpu_edit = procfs::cpu_seconds("self").unwrap_or(0.0) - gen_cpu_before;

    let total = n * d * e;
    let since = |at: Option<Instant>| at.map(|at| round(ms_between(t_edit, at), 1));
    let until_ack = if not_acked == 0 { since(acked) } else { None };
    let server_cpu = match (server_cpu_before, server_cpu_at_ack) {
        (Some(a), Some(b)) if until_ack.is_some() => Some(round(b - a, 2)),
        _ => None,
    };
    report.edit = EditPhase {
        total_edits: total,
        local_apply_ms: since(local_done).unwrap_or(f64::NAN),
        until_server_holds_all_ms: until_ack,
        edits_per_sec_to_server: until_ack.map(|ms| (total as f64 / (ms / 1000.0)).round()),
        until_all_subscribers_converged_ms: since(converged),
        server_cpu_seconds_until_ack: server_cpu,
        server_cpu_ms_per_edit: server_cpu.map(|s| round(s * 1000.0 / total as f64, 3)),
        load_gen_cpu_seconds: round(gen_cpu_edit, 2),
    };

    // ---- outcomes, stale views
    let mut outcomes = Vec::with_capacity(n);
    for c in &clients {
        outcomes.push(finish(c).await?);
    }
    let mut latencies: Vec<f64> = Vec::new();
    let mut final_heads: HashMap<DocumentId, Vec<ChangeHash>> = HashMap::new();
    for o in &mut outcomes {
        latencies.append(&mut o.latencies_ms);
        final_heads.extend(o.owned.iter().cloned());
        report.dropped += o.dropped;
        report.wire.client_frames_sent += o.frames_sent;
        report.wire.client_frames_received += o.frames_received;
        report.wire.rejected_messages += o.rejected;
        if report.wire.first_rejection.is_none() {
            report.wire.first_rejection = o.first_rejection.clone();
        }
    }
    report.stale = outcomes
        .iter()
        .flat_map(|o| &o.watched)
        .filter(|v| final_heads.get(&v.document) != Some(&v.heads))
        .count();
    latencies.sort_by(f64::total_cmp);
    report.latency = Latency {
        samples: latencies.len(),
        expected: total * subscribers,
        p50: round(percentile(&latencies, 50.0), 1),
        p90: round(percentile(&latencies, 90.0), 1),
        p99: round(percentile(&latencies, 99.0), 1),
        max: round(latencies.last().copied().unwrap_or(f64::NAN), 1),
        mean: round(
            latencies.iter().sum::<f64>() / latencies.len().max(1) as f64,
            1,
        ),
    };
    for c in clients {
        c.task.abort();
    }
    say(&report.summary());

    // ---- verify with a fresh client
    let t = Instant::now();
    let mut verifier = vec![client::spawn(
        "verifier".into(),
        peer(format!("load-{tag:08x}-verifier"))?,
        shared.clone(),
        u64::MAX,
    )];
    wait_all(
        "verifier connect",
        &mut verifier,
        config.phase_timeout,
        |s| s.joined,
    )
    .await?;
    send(
        &verifier[0],
        Cmd::Watch(docs.iter().flatten().copied().collect()),
    )?;
    let deadline = tokio::time::Instant::now() + config.phase_timeout;
    settle(&mut verifier, deadline, |s| s.watched_complete == n * d).await?;
    let seen = finish(&verifier[0]).await?;
    let titles: HashMap<DocumentId, String> = docs
        .iter()
        .enumerate()
        .flat_map(|(i, mine)| {
            mine.iter()
                .enumerate()
                .map(move |(j, id)| (*id, format!("c{i}-d{j}")))
        })
        .collect();
    report.mismatches = seen
        .watched
        .iter()
        .filter(|v| {
            final_heads.get(&v.document) != Some(&v.heads)
                || v.n != e as i64
                || v.notes_len != e * config.text_len
                || titles.get(&v.document) != v.title.as_ref()
        })
        .count()
        + (n * d).saturating_sub(seen.watched.len());
    report.verified = report.mismatches == 0 && report.unacked_docs == 0;
    report.phases.insert("verifyMs".into(), ms(t));
    for c in verifier {
        c.task.abort();
    }

    // ---- processes
    if let (Some(pid), Some(start)) = (&pid, start_mem) {
        let end = procfs::memory(pid).unwrap_or_default();
        let idle = idle_mem.unwrap_or_default();
        report.server_process = Some(ServerProcess {
            vm_hwm_mib: mib(end.hwm_kib),
            rss_at_start_mib: mib(start.rss_kib),
            rss_at_end_mib: mib(end.rss_kib),
            max_sampled_rss_mib: sampler.as_ref().map_or(0.0, |s| round(s.max_mib(), 1)),
            rss_idle_mib: mib(idle.rss_kib),
            rss_per_idle_connection_kib: round(
                idle.rss_kib.saturating_sub(start.rss_kib) as f64 / n as f64,
                1,
            ),
            cpu_seconds: round(
                procfs::cpu_seconds(pid).unwrap_or(0.0) - server_cpu0.unwrap_or(0.0),
                2,
            ),
        });
    }
    report.load_generator = LoadGenerator {
        cpu_seconds: round(procfs::cpu_seconds("self").unwrap_or(0.0) - gen_cpu0, 2),
        max_rss_mib: procfs::memory("self").map_or(0.0, |m| mib(m.hwm_kib)),
    };
    report.wall_seconds = round(t0.elapsed().as_secs_f64(), 2);
    Ok(report)
}

fn ms(since: Instant) -> f64 {
    round(since.elapsed().as_secs_f64() * 1000.0, 1)
}

fn ms_between(a: Instant, b: Instant) -> f64 {
    b.saturating_duration_since(a).as_secs_f64() * 1000.0
}

/// Reads a PEM file of CA certificates for [`Trust::Roots`].
pub fn trust_from_ca(path: &std::path::Path) -> Result<Trust, LoadError> {
    let io = |source| LoadError::Io {
        what: format!("reading {}", path.display()),
        source,
    };
    let pem = std::fs::read(path).map_err(io)?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    if certs.is_empty() {
        return Err(LoadError::Config(format!(
            "no certificate in {}",
            path.display()
        )));
    }
    Ok(Trust::Roots(certs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_goes_into_the_query() {
        assert_eq!(with_token("ws://h/sync", Some("t")), "ws://h/sync?token=t");
        assert_eq!(
            with_token("ws://h/s?a=1", Some("t")),
            "ws://h/s?a=1&token=t"
        );
        assert_eq!(with_token("ws://h/", None), "ws://h/");
    }

    #[test]
    fn only_loopback_hosts() {
        let ok = |u: &str| check(&LoadConfig::new(u, Trust::None)).is_ok();
        assert!(ok("ws://127.0.0.1:3030"));
        assert!(ok("wss://localhost:8443/sync"));
        assert!(ok("ws://[::1]:3030/"));
        assert!(!ok("ws://example.org:3030"));
        assert!(!ok("http://127.0.0.1:3030"));
    }

    #[test]
    fn percentiles_as_load_mjs() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
