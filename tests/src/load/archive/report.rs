//! What a stored-documents run reports, and its one-line summary.

use serde::Serialize;

use crate::load::report::{Latency, LoadGenerator};

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
