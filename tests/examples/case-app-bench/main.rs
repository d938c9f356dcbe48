//! The case app's benchmarks (issue #17), with figures in `docs/benchmarks.md`:
//!
//! 1. a worker's caseload of realistic cases (default 200) listed offline in Chromium: cold
//!    opens of the browser on its profile, PIN entered, time to the list (median, p95);
//! 2. typing into a diagnosis note that already holds 10,000 characters: per keystroke, the
//!    input handler's time and the time from the key event to the next frame (p50, p99);
//! 3. the first sync of the caseload: in the browser, from sign-in to every case stored on the
//!    device; with the Rust tablet SDK, from opening a new tablet to up to date; and the SDK's
//!    first sync when each case carries attachment entries (metadata only).
//!
//! One process: a TLS server in this process (sled, temporary directory) seeded through the
//! Rust SDK, the browser driven by `web/e2e/bench-case-app.mjs`. Prints what it measured and
//! one JSON line (`{"bench": ...}`); `bench/case-app.sh` runs it with the settings quoted.
//!
//! `cargo run --release -p kooperacja-tests --example case-app-bench -- [--cases 200]
//!  [--opens 7] [--keys 300] [--sdk-runs 3] [--attachments 3] [--skip-browser]`
//!
//! Needs what the browser tests need (Node, web/node_modules, /usr/bin/chromium, a built
//! web/dist).

mod seed;
mod stats;

use std::path::Path;
use std::time::{Duration, Instant};

use client_sdk::{Tablet, TabletConfig, TabletKey};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use serde_json::{json, Value as Json};
use sync_core::{DocumentId, PeerId};

use crate::stats::{numbers, summary};

/// Which case holds the long note (a case in delivery: every part of the card is shown).
const LONG_NOTE_CASE: usize = 4;

struct Args {
    cases: usize,
    opens: usize,
    keys: usize,
    sdk_runs: usize,
    attachments: usize,
    note_chars: usize,
    browser: bool,
}

fn args() -> Args {
    let all: Vec<String> = std::env::args().collect();
    let number = |name: &str, default: usize| {
        all.iter()
            .position(|a| a == name)
            .and_then(|i| all.get(i + 1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    Args {
        cases: number("--cases", 200),
        opens: number("--opens", 7),
        keys: number("--keys", 300),
        sdk_runs: number("--sdk-runs", 3),
        attachments: number("--attachments", 3),
        note_chars: number("--note-chars", 10_000),
        browser: !all.iter().any(|a| a == "--skip-browser"),
    }
}

/// Puts `cases` realistic cases of Anna's on the server through one SDK client; returns their
/// ids (in the seed's order) and the documents' total size in bytes.
async fn seed_caseload(
    server: &RunningServer,
    cases: usize,
    attachments: usize,
    note_chars: usize,
    name: &str,
) -> (Vec<DocumentId>, usize) {
    let office = tablet(server, "anna", name);
    let mut ids = Vec::with_capacity(cases);
    let mut bytes = 0;
    for i in 0..cases {
        let long = (i == LONG_NOTE_CASE).then_some(note_chars);
        let doc = seed::realistic_case(i, attachments, long);
        bytes += doc.save().len();
        let id = random_id();
        office.create(id, doc).await.expect("case created");
        ids.push(id);
    }
    for id in &ids {
        wait_acknowledged(&office, *id).await;
    }
    office.shutdown().await;
    (ids, bytes)
}

/// A new tablet of Anna's, opened and synced until up to date, `runs` times (each a fresh
/// device and store): seconds per run and the store's size of the last.
async fn sdk_first_sync(server: &RunningServer, dir: &Path, expect: usize, runs: usize) -> Json {
    let mut seconds = Vec::new();
    let mut store_kib = 0.0;
    for run in 0..runs {
        let device = enroll(server, "anna");
        let folder = dir.join(format!("tablet-{run}"));
        let config = TabletConfig::new(
            &folder,
            TabletKey::new([7; 32]),
            PeerId::new(format!("tablet-field-{run}")).expect("peer id"),
            "anna",
            "gops",
        )
        .with_server(address(server, &device.token, None));
        let started = Instant::now();
        let field = Tablet::open(config).await.expect("tablet opens");
        field
            .wait_until_up_to_date(Duration::from_secs(300))
            .await
            .expect("up to date");
        let elapsed = started.elapsed().as_secs_f64();
        let held = field.documents().await.expect("documents").len();
        field.shutdown().await;
        assert!(held >= expect, "the tablet holds {held} of {expect}");
        seconds.push(elapsed);
        store_kib = bytes_under(&folder) as f64 / 1024.0;
    }
    json!({ "seconds": seconds, "median_s": stats::percentile(&seconds, 50.0),
            "store_kib": store_kib, "store_kib_per_case": store_kib / expect.max(1) as f64 })
}

async fn browser(server: &RunningServer, dir: &Path, ids: &[DocumentId], a: &Args) -> Json {
    require_browser_tools();
    let spec = json!({
        "profile": dir.join("profile"),
        "pin": "246810",
        "worker": { "code": enrolment_code(server, "anna"), "login": "anna" },
        "documents": ids.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
        "opens": a.opens,
        "keys": a.keys,
        "noteCase": ids[LONG_NOTE_CASE].to_string(),
        "noteBind": "diagnosis/social",
    });
    let script = BrowserScript {
        script: "bench-case-app.mjs",
        env: vec![("BENCH_SPEC", spec.to_string())],
        deadline: Duration::from_secs(1800),
    };
    let cert = dir.join("server").join("tls").join("dev-cert.pem");
    script
        .run(server, &cert, |request| async move {
            panic!("bench-case-app.mjs asks nothing: {request}")
        })
        .await
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(&dir.path().join("server")).await;
    provision_region(&server);

    let started = Instant::now();
    let (ids, bytes) = seed_caseload(&server, a.cases, 0, a.note_chars, "tablet-office").await;
    println!(
        "seeded {} cases ({:.1} KiB of Automerge documents, {:.1} KiB per case) in {:.1} s",
        ids.len(),
        bytes as f64 / 1024.0,
        bytes as f64 / 1024.0 / ids.len().max(1) as f64,
        started.elapsed().as_secs_f64()
    );
    let mut report =
        json!({ "cases": a.cases, "case_kib": bytes as f64 / 1024.0 / a.cases.max(1) as f64 });

    if a.browser {
        let result = browser(&server, dir.path(), &ids, &a).await;
        let opens = numbers(&result["listedInMs"]);
        let to_list = numbers(&result["unlockToListMs"]);
        let report_browser = json!({
            "first_sync_ms": result["firstSync"],
            "caseload_screen_ms": summary(&opens),
            "unlock_to_list_ms": summary(&to_list),
            "shell_ms": summary(&numbers(&result["shellMs"])),
            "documents_read_ms": summary(&numbers(&result["readInMs"])),
            "from_index": result["fromIndex"],
            "rows": result["rows"],
            "typing": {
                "note_chars": result["noteChars"],
                "end": {
                    "handler_ms": summary(&numbers(&result["typing"]["end"]["handler"])),
                    "to_next_frame_ms": summary(&numbers(&result["typing"]["end"]["frame"])),
                },
                "middle": {
                    "handler_ms": summary(&numbers(&result["typing"]["middle"]["handler"])),
                    "to_next_frame_ms": summary(&numbers(&result["typing"]["middle"]["frame"])),
                },
                "card_draw_after_pause_ms": summary(&numbers(&result["typing"]["cardDrawMs"])),
                "online_end": {
                    "handler_ms": summary(&numbers(&result["typing"]["online"]["handler"])),
                    "to_next_frame_ms": summary(&numbers(&result["typing"]["online"]["frame"])),
                },
            },
        });
        println!("browser: {report_browser:#}");
        report["browser"] = report_browser;
    }

    let sdk = sdk_first_sync(&server, dir.path(), ids.len(), a.sdk_runs).await;
    println!("tablet SDK first sync of {} cases: {sdk}", ids.len());
    report["sdk_first_sync"] = sdk;

    if a.attachments > 0 {
        // A second worker's caseload of the same cases, each with attachment entries.
        let other = tempfile::tempdir().expect("tempdir");
        let server2 = start_typed_server(&other.path().join("server")).await;
        provision_region(&server2);
        let (ids2, bytes2) = seed_caseload(
            &server2,
            a.cases,
            a.attachments,
            a.note_chars,
            "tablet-office",
        )
        .await;
        let sdk2 = sdk_first_sync(&server2, other.path(), ids2.len(), a.sdk_runs).await;
        println!(
            "tablet SDK first sync of {} cases with {} attachment entries each ({:.1} KiB per case): {sdk2}",
            ids2.len(),
            a.attachments,
            bytes2 as f64 / 1024.0 / ids2.len().max(1) as f64
        );
        report["sdk_first_sync_with_attachments"] = json!({
            "attachments_per_case": a.attachments,
            "case_kib": bytes2 as f64 / 1024.0 / ids2.len().max(1) as f64,
            "sync": sdk2,
        });
        server2.shutdown().await.expect("shutdown");
    }
    println!("{}", json!({ "bench": report }));
    server.shutdown().await.expect("shutdown");
}
