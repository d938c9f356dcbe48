//! CI smoke run of the load generator (issue #8): our server in-process, 2 clients × 2 documents
//! × 5 edits, over TLS (a pinned development certificate) and over plain WebSocket on loopback.
//! Every edit must reach its watcher, the server must hold every change, and a fresh client must
//! fetch every document with the owner's heads and content. The stored-documents scenario and
//! the acknowledged-durable rate run with tiny numbers too, and the typing-only workload against
//! a server with the relay path on (#23): its splices are relayed.

use std::time::Duration;

use client_sdk::transport::Trust;
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::{enroll, metric, metrics_text, start_with};
use kooperacja_tests::load::archive::{self, ArchiveConfig};
use kooperacja_tests::load::blast::{self, BlastConfig};
use kooperacja_tests::load::{self, LoadConfig};

/// A server in this process, a device token for it, its URL and how to trust it.
async fn server(dir: &std::path::Path, tls: TlsMode) -> (RunningServer, String, String, Trust) {
    let server = start_with(ServeConfig::for_tests(dir, tls)).await;
    let token = enroll(&server, "load").token;
    let (url, trust) = match &server.fingerprint {
        Some(fp) => (
            format!("wss://{}/sync", server.addr),
            Trust::Pinned(fp.clone()),
        ),
        None => (format!("ws://{}/sync", server.addr), Trust::None),
    };
    (server, token, url, trust)
}

/// A 2 × 2 × 5 run against `server`; checks that it is verified and every edit was seen.
async fn smoke_run(token: String, url: String, trust: Trust) -> load::LoadReport {
    let mut config = LoadConfig::new(url, trust);
    config.token = Some(token);
    config.clients = 2;
    config.docs = 2;
    config.edits = 5;
    // The server runs in this process: its /proc figures are ours, which exercises the reading.
    config.server_pid = Some(std::process::id());
    config.phase_timeout = Duration::from_secs(60);
    config.settle_timeout = Duration::from_secs(60);
    let report = load::run(config).await.expect("the run completes");

    assert!(report.verified, "not verified: {report:#?}");
    assert_eq!(report.mismatches, 0, "{report:#?}");
    assert_eq!(report.dropped, 0, "{report:#?}");
    assert_eq!(report.stale, 0, "{report:#?}");
    assert_eq!(report.unacked_docs, 0, "{report:#?}");
    assert_eq!(report.edit.total_edits, 20);
    assert_eq!(report.latency.expected, 20);
    assert_eq!(report.latency.samples, 20, "every edit reached its watcher");
    assert!(report.edit.edits_per_sec_to_server.is_some_and(|r| r > 0.0));
    assert!(report
        .server_process
        .as_ref()
        .is_some_and(|p| p.vm_hwm_mib > 0.0));
    assert_eq!(report.wire.rejected_messages, 0, "{report:#?}");
    let json = serde_json::to_value(&report).expect("the report serialises");
    assert_eq!(json["verified"], true);
    report
}

async fn smoke(tls: TlsMode) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, token, url, trust) = server(dir.path(), tls).await;
    smoke_run(token, url, trust).await;
    server.shutdown().await.expect("server stops");
}

/// The side-by-side sitting of #23 drives servers with the typing-only workload: each edit is a
/// splice alone, which a relaying server stores and forwards without applying it at once. One
/// tablet typing forty times into one document, a round every 10 ms: no watcher's
/// acknowledgement shares a batch with its edits (a batch holding one the lag cannot receive
/// takes the full path), and once the document has a few changes automerge sends each edit as
/// a change, not as the whole document (which it does while the edits it sends are more than
/// a third of the document's changes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typing_workload_is_relayed_by_a_relaying_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = ServeConfig::for_tests(dir.path(), TlsMode::InsecureLoopback);
    config.relay = true;
    let server = start_with(config).await;
    let mut load = LoadConfig::new(format!("ws://{}/sync", server.addr), Trust::None);
    load.token = Some(enroll(&server, "load").token);
    (load.clients, load.docs, load.edits) = (1, 1, 40);
    load.interval = Duration::from_millis(10);
    load.typing = true;
    load.phase_timeout = Duration::from_secs(60);
    load.settle_timeout = Duration::from_secs(60);
    let before = metric(
        &metrics_text(&server).await,
        "kooperacja_relay_changes_total",
    );
    let report = load::run(load).await.expect("the run completes");
    assert!(report.verified, "not verified: {report:#?}");
    let json = serde_json::to_value(&report).expect("the report serialises");
    assert_eq!(json["params"]["typing"], true);
    let relayed = metric(
        &metrics_text(&server).await,
        "kooperacja_relay_changes_total",
    );
    assert!(relayed > before, "the splices reach the relay path");
    server.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_generator_smoke_over_tls() {
    smoke(TlsMode::Dev).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_generator_smoke_over_plain_websocket() {
    smoke(TlsMode::InsecureLoopback).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_stored_cases_read_back_at_random() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, token, url, trust) = server(dir.path(), TlsMode::InsecureLoopback).await;
    let mut config = ArchiveConfig::new(url, trust);
    config.token = Some(token);
    config.documents = 100;
    config.doc_text = 300;
    config.writers = 3;
    config.wave = 20;
    config.reads = 40;
    config.readers = 2;
    config.server_pid = Some(std::process::id());
    config.timeout = Duration::from_secs(60);
    let report = archive::run(config).await.expect("the run completes");

    assert!(report.verified, "not verified: {report:#?}");
    assert_eq!(report.populate.documents, 100);
    assert_eq!(report.reads.complete, 40, "{report:#?}");
    assert_eq!(report.reads.unavailable, 0);
    assert_eq!(report.reads.latency.samples, 40);
    assert!(report
        .server_process
        .as_ref()
        .is_some_and(|p| p.rss_after_populate_mib > 0.0));
    server.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_prepared_change_is_acknowledged_durable_and_read_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, token, url, trust) = server(dir.path(), TlsMode::InsecureLoopback).await;
    for batch in [1, 4] {
        let config = BlastConfig {
            url: url.clone(),
            token: Some(token.clone()),
            trust: trust.clone(),
            clients: 2,
            docs: 3,
            edits: 7,
            batch,
            server_pid: Some(std::process::id()),
            timeout: Duration::from_secs(60),
            progress: false,
        };
        let report = blast::run(config).await.expect("the run completes");
        assert!(report.verified, "not verified: {report:#?}");
        assert_eq!(report.changes, 2 * 3 * 8);
        assert_eq!(report.frames, 2 * 3 * 8_usize.div_ceil(batch));
        assert!(report.acknowledged_changes_per_sec > 0.0);
    }
    server.shutdown().await.expect("server stops");
}
