//! The edit workload, phase by phase: connect, create, subscribe, edit, settle, verify (see the
//! [module documentation](super)); the coordinator's waits on its clients.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::ChangeHash;
use sync_core::{DocumentId, PeerId};
use tokio::sync::oneshot;

use super::address::server_address;
use super::client::{self, Cmd, Handle, Outcome, Shared, Stamps, Status};
use super::config::{check, LoadConfig};
use super::procfs;
use super::report::{mib, ms, ms_between, round, Latency, LoadGenerator};
use super::sampler::Sampler;
use super::workload_report::{EditPhase, LoadReport, Params, ServerProcess};
use crate::error::LoadError;

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
            typing: config.typing,
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
        address: server_address(&config.url, config.token.as_deref(), &config.trust),
        edits: e,
        text_len: config.text_len,
        typing: config.typing,
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
    report.latency = Latency::of(latencies, total * subscribers);
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
                || v.n != if config.typing { 0 } else { e as i64 }
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
    report.load_generator = LoadGenerator::since(gen_cpu0);
    report.wall_seconds = round(t0.elapsed().as_secs_f64(), 2);
    Ok(report)
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
