//! Attachments on loopback (issue #18): the server runs in a process of its own (this
//! executable started again, pinned with `taskset -c 1` unless `ATTACHMENT_SERVER_CPU` says
//! otherwise, empty for no pinning) on sled in a temporary directory; this process (pin it to
//! another core) uploads `ATTACHMENT_RUNS` files (default 5) of `ATTACHMENT_MB` MiB (default 25;
//! the server's limit is set to match), one after another, each in one request, and downloads
//! each again. Per run it prints MB/s each way and the server process's memory from
//! `/proc/<pid>/status`: `VmRSS` before the upload, its peak during the upload (`VmHWM`, reset
//! through `clear_refs` before each upload) and `VmRSS` after it; then the medians and where the
//! blobs' bytes ended up (the files beside the store, sled's own folder).
//!
//! Then the tablet's path, `ATTACHMENT_RUNS` times: a tablet (client-sdk, in this process)
//! attaches a file of the same size from disk (stored sealed on the device), its queue uploads
//! it, it is evicted and downloaded again on demand; printed: MB/s of each step and this
//! process's peak `VmRSS` growth during attach and upload, and during the download (the
//! tablet's memory: large files streamed, never held whole). `docs/benchmarks.md` has the
//! figures.
//!
//! `taskset -c 0 target/release/examples/attachment-throughput`

use std::time::Instant;

use client_sdk::{AttachmentEvent, ServerAddress, Tablet, TabletConfig, TabletKey, Trust};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_test_support::*;
use sync_core::model::case::AttachmentKind;
use sync_core::PeerId;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mib = env_number("ATTACHMENT_MB", 25);
    if std::env::args().nth(1).as_deref() == Some(SERVE_ARG) {
        return serve(mib).await;
    }
    let cpu = std::env::var("ATTACHMENT_SERVER_CPU").unwrap_or_else(|_| "1".into());
    let server = ServerProcess::spawn_self((!cpu.is_empty()).then_some(cpu.as_str()), &[]);
    let token = server.tokens[0].clone();
    let anna = tablet_at(server.addr, &token, "tablet-anna");
    let case = random_id();
    anna.create(case, new_family_case("anna"))
        .await
        .expect("created");
    wait_acknowledged(&anna, case).await;
    anna.set_online(false).expect("offline");

    let runs = env_number("ATTACHMENT_RUNS", 5);
    let files: Vec<Vec<u8>> = (0..runs).map(|_| pdf_file(mib * 1024 * 1024)).collect();
    let started_with = server.memory();
    let (mut ups, mut downs, mut growths, mut kept) = (vec![], vec![], vec![], vec![]);
    for (run, file) in files.iter().enumerate() {
        let sha = sha256_hex(file);
        let before = server.memory();
        server.reset_peak();
        let started = Instant::now();
        let answer = put_range(server.addr, &token, case, file, 0, usize::MAX)
            .await
            .expect("answer");
        let upload = started.elapsed();
        let during = server.memory();
        assert_eq!(answer.status, 200, "{}", answer.text());

        let started = Instant::now();
        let path = attachment_path(case, &sha, "");
        let download = get_binary(server.addr, &token, &path, None).await;
        let download_time = started.elapsed();
        assert!(download.body == *file);
        drop(download);
        let after = server.memory();

        let mb = file.len() as f64 / 1e6;
        let growth = during.peak_kib.saturating_sub(before.rss_kib);
        ups.push(mb / upload.as_secs_f64());
        downs.push(mb / download_time.as_secs_f64());
        growths.push(growth as f64);
        kept.push(after.rss_kib.saturating_sub(started_with.rss_kib) as f64);
        println!(
            "run={run} upload_mb_s={:.1} download_mb_s={:.1} server_rss_before_kib={} \
             server_peak_during_upload_kib={} server_rss_after_upload_kib={} \
             server_rss_after_download_kib={} growth_during_upload_kib={growth} kept_since_start_kib={}",
            mb / upload.as_secs_f64(),
            mb / download_time.as_secs_f64(),
            before.rss_kib,
            during.peak_kib,
            during.rss_kib,
            after.rss_kib,
            after.rss_kib.saturating_sub(started_with.rss_kib),
        );
    }
    println!(
        "{mib} MiB x {runs}: median upload_mb_s={:.1} download_mb_s={:.1} \
         growth_during_upload_kib={:.0} kept_since_start_kib={:.0}; server rss at start {} KiB; \
         blob files {} KiB, sled store {} KiB",
        median(&mut ups),
        median(&mut downs),
        median(&mut growths),
        median(&mut kept),
        started_with.rss_kib,
        bytes_under(&server.data_dir.join("blobs")) / 1024,
        bytes_under(&server.data_dir.join("store")) / 1024,
    );
    drop(files);
    tablet_runs(&server, mib, runs).await;
    server.stop();
}

/// The tablet's path: attach from disk, upload by the queue, evict, download on demand.
async fn tablet_runs(server: &ServerProcess, mib: usize, runs: usize) {
    let work = tempfile::tempdir().expect("tempdir");
    let mut settings = TabletConfig::new(
        work.path().join("tablet"),
        TabletKey::random(),
        PeerId::new("tablet-pomiar").expect("peer id"),
        "anna",
        "gops",
    );
    settings.max_attachment_bytes = (mib * 1024 * 1024) as u64;
    settings.evict_attachments_after = None;
    let tablet = Tablet::open(settings.with_server(ServerAddress {
        url: format!("ws://{}/sync", server.addr),
        token: server.tokens[1].clone(),
        trust: Trust::None,
    }))
    .await
    .expect("tablet opens");
    let case = tablet
        .create_case("gops", referral(), no_household())
        .await
        .expect("case");
    wait_up_to_date(&tablet).await;
    let me = std::process::id();
    let (mut stores, mut ups, mut downs) = (vec![], vec![], vec![]);
    let (mut growths, mut download_growths) = (vec![], vec![]);
    for run in 0..runs {
        let path = work.path().join(format!("skan-{run}.pdf"));
        std::fs::write(&path, pdf_file(mib * 1024 * 1024)).expect("the scan written");
        let mb = (mib * 1024 * 1024) as f64 / 1e6;
        let mut events = tablet.attachment_events();
        let before = memory_of(me);
        reset_peak_of(me);
        server.reset_peak();
        let started = Instant::now();
        let attached = tablet
            .attach_file(case, &path, AttachmentKind::ExternalDocument, None, "skan")
            .await
            .expect("attached");
        let stored = started.elapsed();
        wait_event(
            &mut events,
            "the upload",
            |e| matches!(e, AttachmentEvent::Uploaded { sha256, .. } if *sha256 == attached.sha256),
        )
        .await;
        let uploaded = started.elapsed() - stored;
        let (during, server_during) = (memory_of(me), server.memory());
        let evicted = tablet
            .evict_attachments(chrono::Utc::now() + chrono::Duration::seconds(1))
            .await
            .expect("evicted");
        assert!(
            evicted.iter().any(|(_, sha)| *sha == attached.sha256),
            "the uploaded scan leaves the tablet"
        );
        let before_download = memory_of(me);
        reset_peak_of(me);
        let started = Instant::now();
        tablet
            .download_attachment(case, &attached.sha256)
            .await
            .expect("downloaded");
        let download = started.elapsed();
        let after = memory_of(me);
        let growth = during.peak_kib.saturating_sub(before.rss_kib);
        let download_growth = after.peak_kib.saturating_sub(before_download.rss_kib);
        stores.push(mb / stored.as_secs_f64());
        ups.push(mb / uploaded.as_secs_f64());
        downs.push(mb / download.as_secs_f64());
        growths.push(growth as f64);
        download_growths.push(download_growth as f64);
        println!(
            "tablet run={run} store_mb_s={:.1} upload_mb_s={:.1} download_mb_s={:.1} \
             tablet_rss_before_kib={} tablet_growth_attach_upload_kib={growth} \
             tablet_growth_download_kib={download_growth} server_peak_during_upload_kib={}",
            mb / stored.as_secs_f64(),
            mb / uploaded.as_secs_f64(),
            mb / download.as_secs_f64(),
            before.rss_kib,
            server_during.peak_kib,
        );
        std::fs::remove_file(&path).expect("the scan removed");
    }
    println!(
        "tablet {mib} MiB x {runs}: median store_mb_s={:.1} upload_mb_s={:.1} download_mb_s={:.1} \
         tablet_growth_attach_upload_kib={:.0} tablet_growth_download_kib={:.0}",
        median(&mut stores),
        median(&mut ups),
        median(&mut downs),
        median(&mut growths),
        median(&mut download_growths),
    );
    tablet.shutdown().await;
}

/// The child: a server on sled in a temporary directory whose attachment limit is `mib`, with
/// the region provisioned and two devices of `anna` enrolled (the uploader's, the tablet's).
async fn serve(mib: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ServeConfig::for_tests(dir.path(), TlsMode::InsecureLoopback);
    config.max_attachment = (mib * 1024 * 1024) as u64;
    let server = start_with(config).await;
    provision_region(&server);
    let tokens = [enroll(&server, "anna").token, enroll(&server, "anna").token];
    serve_until_stdin_closes(server, dir.path(), &tokens).await;
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}
