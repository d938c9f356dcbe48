//! A bad network between tablets and the server (the fault-injecting proxy of
//! `kooperacja-test-support`'s `fault_proxy.rs`): frames delayed, dropped, duplicated, connections cut in the middle
//! of a frame, a cut connection's last frames replayed on the next one. Two tablets editing one
//! case through it converge once the network heals, and nothing the server acknowledged is
//! lost. A tablet that stops reading is dropped as a slow reader instead of making the server
//! buffer for it, and catches up when it reads again.

use std::sync::atomic::Ordering;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ChangeHash, ObjType, ReadDoc, ScalarValue, ROOT};
use client_sdk::SyncClient;
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_test_support::fault_proxy::{Faults, FrameProxy};
use kooperacja_test_support::*;
use sync_core::DocumentId;

async fn append(client: &SyncClient, id: DocumentId, text: String) {
    client
        .change(id, move |d| {
            let (_, notes) = d.get(ROOT, "notes").expect("get").expect("notes");
            let len = d.text(&notes).expect("text").chars().count();
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.splice_text(&notes, len, 0, &text)
            })
            .expect("splice");
        })
        .await
        .expect("change saved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tablets_converge_through_a_bad_network_and_nothing_acknowledged_is_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_with(ServeConfig::for_tests(
        dir.path(),
        TlsMode::InsecureLoopback,
    ))
    .await;
    let proxy = FrameProxy::start(server.addr, 7).await;
    let a = tablet_at(proxy.addr, &enroll(&server, "anna").token, "tablet-a");
    let b = tablet_at(proxy.addr, &enroll(&server, "anna").token, "tablet-b");
    let case = random_id();
    a.create(case, new_case()).await.expect("created");
    wait_acknowledged(&a, case).await;
    b.find(case).expect("find");
    wait_same_heads(&a, &b, case).await;

    proxy.set_faults(Faults {
        max_delay: Duration::from_millis(10),
        drop_every: Some(7),
        duplicate_every: Some(5),
        cut_after: Some(12),
        replay: 3,
    });
    let mut acknowledged: Vec<ChangeHash> = Vec::new();
    const EDITS: usize = 60;
    for i in 0..EDITS {
        append(&a, case, format!("a{i}; ")).await;
        append(&b, case, format!("b{i}; ")).await;
        for t in [&a, &b] {
            acknowledged.extend(
                t.server_heads(case)
                    .await
                    .expect("heads")
                    .unwrap_or_default(),
            );
        }
    }

    // The network heals; the tablets reconnect and everything lands.
    proxy.set_faults(Faults::default());
    proxy.cut_all();
    wait_acknowledged(&a, case).await;
    wait_acknowledged(&b, case).await;
    wait_same_heads(&a, &b, case).await;

    let text = a
        .read(case, |d| d.map(notes).unwrap_or_default())
        .await
        .expect("read");
    for i in 0..EDITS {
        for who in ["a", "b"] {
            let piece = format!("{who}{i}; ");
            assert_eq!(
                text.matches(&piece).count(),
                1,
                "{piece:?} once in {text:?}"
            );
        }
    }
    // A fresh tablet straight to the server has everything ever acknowledged.
    let checker = tablet(&server, "anna", "tablet-checker");
    checker.find(case).expect("find");
    wait_same_heads(&a, &checker, case).await;
    assert!(
        holds_all(&checker, case, &acknowledged)
            .await
            .expect("read"),
        "every acknowledged change is on the server"
    );

    let counts = proxy.counts();
    for (what, n) in [
        ("dropped", counts.dropped.load(Ordering::SeqCst)),
        ("duplicated", counts.duplicated.load(Ordering::SeqCst)),
        ("cut", counts.cuts.load(Ordering::SeqCst)),
        ("replayed", counts.replayed.load(Ordering::SeqCst)),
    ] {
        assert!(
            n > 0,
            "the proxy {what} no frame: the test met no such fault"
        );
    }
    eprintln!(
        "faults: {} connections, {} frames dropped, {} duplicated, {} cuts, {} replayed",
        counts.connections.load(Ordering::SeqCst),
        counts.dropped.load(Ordering::SeqCst),
        counts.duplicated.load(Ordering::SeqCst),
        counts.cuts.load(Ordering::SeqCst),
        counts.replayed.load(Ordering::SeqCst),
    );
    for t in [a, b, checker] {
        t.shutdown().await;
    }
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_is_dropped_and_catches_up_when_it_reads_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ServeConfig::for_tests(dir.path(), TlsMode::InsecureLoopback);
    config.max_frame = 256 * 1024;
    config.max_queued_bytes = 512 * 1024;
    let server = start_with(config).await;
    let proxy = FrameProxy::start(server.addr, 11).await;
    let writer = tablet(&server, "anna", "tablet-writer");
    let reader = tablet_at(proxy.addr, &enroll(&server, "anna").token, "tablet-reader");
    let case = random_id();
    writer.create(case, new_case()).await.expect("created");
    wait_acknowledged(&writer, case).await;
    reader.find(case).expect("find");
    wait_same_heads(&writer, &reader, case).await;

    // The reader stops reading; the writer attaches 8 MiB of scans (incompressible bytes):
    // more than the server's socket buffer (at most 4 MiB here), the proxy's (64 KiB) and the
    // queue limit (512 KiB) together.
    proxy.stall(true);
    writer
        .change(case, |d| {
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put_object(ROOT, "scans", ObjType::Map).map(|_| ())
            })
            .expect("scans");
        })
        .await
        .expect("saved");
    // In 16 rounds of 512 KiB, each acknowledged before the next: however the server batches
    // what arrives at once, each round is at least one message owed to the reader.
    for round in 0..16 {
        for i in 0..32 {
            let mut scan = vec![0u8; 16 * 1024];
            rand::fill(&mut scan[..]);
            writer
                .change(case, move |d| {
                    let (_, scans) = d.get(ROOT, "scans").expect("get").expect("scans");
                    d.transact::<_, _, automerge::AutomergeError>(|tx| {
                        tx.put(
                            &scans,
                            format!("scan-{round}-{i}"),
                            ScalarValue::Bytes(scan),
                        )
                    })
                    .expect("put");
                })
                .await
                .expect("saved");
        }
        wait_acknowledged(&writer, case).await;
    }
    // The server hands the reader its share (after the writer's acknowledgement, or just
    // before): more than the queue limit, so the reader is dropped rather than buffered for.
    let slow_reader = "kooperacja_rejected_total{reason=\"slow-reader\"}";
    let dropped = tokio::time::timeout(WAIT, async {
        loop {
            if metric(&metrics_text(&server).await, slow_reader) >= 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        dropped.is_ok(),
        "the slow reader was not dropped:\n{}",
        metrics_text(&server).await
    );
    // It reads again: it reconnects and catches up.
    proxy.stall(false);
    wait_same_heads(&writer, &reader, case).await;
    writer.shutdown().await;
    reader.shutdown().await;
    server.shutdown().await.expect("shutdown");
}
