//! `kill -9` during a stream of edits: every change the server acknowledged before the kill is
//! there after the restart. Runs the real binary as a child process.
//!
//! CI runs 4 rounds; `KOOPERACJA_CRASH_ROUNDS=N` runs N (`scripts/crash-long.sh` runs hundreds
//! in release mode). Each round kills the server at a random point of the edit stream.

use std::path::Path;
use std::process::Stdio;

use automerge::ChangeHash;
use client_sdk::SyncClient;
use kooperacja_test_support::{append_note, holds_all, new_case, random_id, tablet_at, WAIT};
use sync_core::DocumentId;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_kooperacja-server-under-test");

fn admin(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(BIN)
        .arg("admin")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("admin runs");
    assert!(
        out.status.success(),
        "admin failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Starts the server and waits for its JSON "ready" line.
async fn start(dir: &Path, port: u16) -> Child {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--insecure-http",
            "--allow-untyped-documents",
            "--disk-reserve-mb",
            "16",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("server starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("ready in time")
        .expect("read")
        .expect("a line");
    assert!(line.contains("\"ready\":true"), "{line}");
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_changes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    admin(
        dir.path(),
        &[
            "user",
            "add",
            "--login",
            "anna",
            "--name",
            "Anna",
            "--role",
            "social-worker",
        ],
    );
    let enrolled: serde_json::Value =
        serde_json::from_str(&admin(dir.path(), &["device", "enroll", "--user", "anna"]))
            .expect("json");
    let token = enrolled["token"].as_str().expect("token").to_string();
    let port = free_port();
    let mut server = start(dir.path(), port).await;

    let writers: Vec<(SyncClient, DocumentId)> = (0..3)
        .map(|i| {
            (
                tablet_at(
                    std::net::SocketAddr::from(([127, 0, 0, 1], port)),
                    &token,
                    &format!("tablet-{i}"),
                ),
                random_id(),
            )
        })
        .collect();
    for (c, doc) in &writers {
        c.create(*doc, new_case()).await.expect("created");
    }
    let rounds: usize = std::env::var("KOOPERACJA_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(4);
    let mut acked: Vec<Vec<ChangeHash>> = vec![Vec::new(); writers.len()];
    for _ in 0..rounds {
        // A stream of edits; note what the server acknowledges as it goes. The kill comes at
        // a random edit after the halfway acknowledgement, while the stream goes on.
        let edits = rand::random_range(10..40usize);
        let kill_at = rand::random_range(edits / 2 + 1..=edits);
        let mut killed = false;
        for e in 0..edits {
            if e == kill_at {
                server.kill().await.expect("SIGKILL");
                killed = true;
            }
            for (i, (c, doc)) in writers.iter().enumerate() {
                append_note(c, *doc, "x").await;
                if let Some(heads) = c.server_heads(*doc).await.expect("ask") {
                    acked[i].extend(heads);
                }
            }
            if e == edits / 2 {
                // Halfway: make sure the server has acknowledged something this round.
                let (c, doc) = &writers[0];
                c.wait_until("an acknowledgement", WAIT, || c.is_acknowledged(*doc))
                    .await
                    .expect("acknowledged");
                acked[0].extend(c.server_heads(*doc).await.expect("ask").unwrap_or_default());
            }
        }
        // Kill without warning (if the stream ended first) and start again on the same dir.
        if !killed {
            server.kill().await.expect("SIGKILL");
        }
        server = start(dir.path(), port).await;
    }
    let acked_count: usize = acked.iter().map(Vec::len).sum();
    assert!(
        acked_count > 0,
        "the server acknowledged something before the kills"
    );

    // A fresh tablet fetches every case: everything acknowledged before any kill is there.
    let checker = tablet_at(
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        &token,
        "tablet-checker",
    );
    for ((_, doc), acked) in writers.iter().zip(&acked) {
        checker.find(*doc).expect("find");
        checker
            .wait_until("acknowledged changes present", WAIT, || {
                holds_all(&checker, *doc, acked)
            })
            .await
            .expect("no acknowledged change was lost");
    }
    // And the writers, reconnected, get everything else acknowledged too.
    for (c, doc) in &writers {
        c.wait_until("all acknowledged", WAIT, || c.is_acknowledged(*doc))
            .await
            .expect("the rest is resent and stored");
    }
    let distinct: std::collections::BTreeSet<&ChangeHash> = acked.iter().flatten().collect();
    eprintln!(
        "crash: {rounds} rounds of kill -9, {} acknowledged heads checked, 0 lost",
        distinct.len()
    );
    server.kill().await.expect("stop");
}
