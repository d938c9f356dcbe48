//! What the edit workload reports (`load.mjs`'s JSON, plus `verified`, `dropped` and `stale`),
//! and its one-line summary.

use std::collections::HashMap;

use serde::Serialize;

use super::report::{Latency, LoadGenerator};

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
    /// Typing only (the splice without the counter).
    pub typing: bool,
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
