//! Attachments on loopback (issue #18): 25 MiB scans uploaded one after another, each in one
//! request, and downloaded again from an in-process server on sled; prints MB/s each way and
//! this process's resident memory before and at its peak during each upload (the files are
//! allocated before the baseline), and what stayed since the first; then the medians over the
//! runs and where the blobs' bytes ended up (the files beside the store, sled's own folder).
//! `docs/benchmarks.md` has the figures.
//!
//! `taskset -c 0 cargo run --release -p kooperacja-tests --example attachment-throughput`

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_test_support::*;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    // `ATTACHMENT_MB` (default 25) sets the file's size, and the server's limit to match.
    let mib: usize = std::env::var("ATTACHMENT_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let mut config = ServeConfig::for_tests(dir.path(), TlsMode::InsecureLoopback);
    config.max_attachment = (mib * 1024 * 1024) as u64;
    let server = start_with(config).await;
    provision_region(&server);
    let token = enroll(&server, "anna").token;
    let anna = tablet_at(server.addr, &token, "tablet-anna");
    let case = random_id();
    anna.create(case, new_family_case("anna"))
        .await
        .expect("created");
    wait_acknowledged(&anna, case).await;
    anna.set_online(false).expect("offline");

    // `ATTACHMENT_RUNS` (default 3) files, one after another: memory that stays after an
    // upload shows as growth of the later runs.
    let runs: usize = std::env::var("ATTACHMENT_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let files: Vec<Vec<u8>> = (0..runs).map(|_| pdf_file(mib * 1024 * 1024)).collect();
    let first_baseline = resident_kib();
    let (mut ups, mut downs, mut growths) = (Vec::new(), Vec::new(), Vec::new());
    for (run, file) in files.iter().enumerate() {
        let sha = sha256_hex(file);
        let baseline = resident_kib();
        let peak = Arc::new(AtomicU64::new(baseline));
        let running = Arc::new(AtomicBool::new(true));
        let sampler = {
            let (peak, running) = (peak.clone(), running.clone());
            std::thread::spawn(move || {
                while running.load(Ordering::Relaxed) {
                    peak.fetch_max(resident_kib(), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(2));
                }
            })
        };
        let started = Instant::now();
        let answer = put_range(server.addr, &token, case, file, 0, usize::MAX)
            .await
            .expect("answer");
        let upload = started.elapsed();
        running.store(false, Ordering::Relaxed);
        sampler.join().expect("sampler");
        assert_eq!(answer.status, 200, "{}", answer.text());

        let started = Instant::now();
        let path = attachment_path(case, &sha, "");
        let download = get_binary(server.addr, &token, &path, None).await;
        let download_time = started.elapsed();
        assert!(download.body == *file);
        drop(download);

        let mb = file.len() as f64 / 1e6;
        let peak = peak.load(Ordering::Relaxed);
        ups.push(mb / upload.as_secs_f64());
        downs.push(mb / download_time.as_secs_f64());
        growths.push(peak.saturating_sub(baseline) as f64);
        println!(
            "run={run} upload_mb_s={:.1} download_mb_s={:.1} rss_before_kib={baseline} \
             rss_peak_upload_kib={peak} rss_growth_kib={} rss_growth_since_first_kib={}",
            mb / upload.as_secs_f64(),
            mb / download_time.as_secs_f64(),
            peak.saturating_sub(baseline),
            resident_kib().saturating_sub(first_baseline),
        );
    }
    println!(
        "median upload_mb_s={:.1} download_mb_s={:.1} rss_growth_kib={:.0}; blob files {} KiB, \
         sled store {} KiB",
        median(&mut ups),
        median(&mut downs),
        median(&mut growths),
        folder_kib(&dir.path().join("blobs")),
        folder_kib(&dir.path().join("store")),
    );
    server.shutdown().await.expect("shutdown");
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// The bytes of the files under `dir`, in KiB.
fn folder_kib(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        total += match entry.metadata() {
            Ok(m) if m.is_dir() => folder_kib(&path) * 1024,
            Ok(m) => m.len(),
            Err(_) => 0,
        };
    }
    total / 1024
}
