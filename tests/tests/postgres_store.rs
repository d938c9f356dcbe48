//! A region on PostgreSQL, served by two server nodes: the store itself (chunks, concurrent
//! compaction by two nodes), tablets on node 1 and node 2 editing one case concurrently and
//! converging, and a node killed mid-stream whose tablets move to the other node with nothing
//! acknowledged lost.
//!
//! Needs PostgreSQL's server binaries (see `kooperacja-test-support`'s `pg_cluster.rs`; CI installs them).

use std::time::Instant;

use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ReadDoc, ROOT};
use client_sdk::SyncClient;
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::pg::{Pg, PgStorage};
use kooperacja_test_support::fault_proxy::FrameProxy;
use kooperacja_test_support::pg_cluster::TestPostgres;
use kooperacja_test_support::*;
use sync_core::storage::{ChunkKey, Storage, WriteOp};
use sync_core::DocumentId;
use tempfile::TempDir;

/// A data directory for each of two nodes.
fn node_dirs() -> (TempDir, TempDir) {
    (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    )
}

fn change_bytes(doc: &mut Automerge, key: &str) -> Vec<u8> {
    let before = doc.get_heads();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, key, 1))
        .expect("change");
    doc.save_after(&before)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_compacting_one_document_at_once_lose_nothing() {
    let pg = TestPostgres::start();
    let one = PgStorage::new(Pg::connect(&pg.url, 2, "node-1").expect("connect"));
    let two = PgStorage::new(Pg::connect(&pg.url, 2, "node-2").expect("connect"));
    let id = random_id();
    let mut doc = Automerge::new();
    let mut keys = Vec::new();
    for i in 0..3 {
        let bytes = change_bytes(&mut doc, &format!("k{i}"));
        let key = ChunkKey::incremental(&bytes);
        keys.push(key);
        one.write(vec![WriteOp::Put {
            document: id,
            key,
            bytes,
        }])
        .await
        .expect("put");
    }
    // Node 1 compacts what it knows (three chunks) while node 2 appends a fourth change and
    // compacts the four: both at once.
    let snapshot_one = doc.save();
    let late = change_bytes(&mut doc, "k3");
    let late_key = ChunkKey::incremental(&late);
    let snapshot_two = doc.save();
    let mut replaces_two = keys.clone();
    replaces_two.push(late_key);
    let first = one.write(vec![WriteOp::Compact {
        document: id,
        key: ChunkKey::snapshot(&Automerge::load(&snapshot_one).expect("load").get_heads()),
        bytes: snapshot_one,
        replaces: keys.clone(),
    }]);
    let second = two.write(vec![
        WriteOp::Put {
            document: id,
            key: late_key,
            bytes: late,
        },
        WriteOp::Compact {
            document: id,
            key: ChunkKey::snapshot(&doc.get_heads()),
            bytes: snapshot_two,
            replaces: replaces_two,
        },
    ]);
    let (a, b) = tokio::join!(first, second);
    a.expect("node 1 compacts");
    b.expect("node 2 compacts");
    let stored = one.load(id).await.expect("load").expect("stored");
    let loaded = sync_core::engine::load_stored(&stored).expect("loads");
    for i in 0..4 {
        assert!(
            loaded.get(ROOT, format!("k{i}")).expect("get").is_some(),
            "change k{i} survives concurrent compaction"
        );
    }
    assert_eq!(one.list().await.expect("list"), vec![id]);
    one.remove(id).await.expect("erase");
    assert_eq!(two.load(id).await.expect("load"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tablets_on_two_nodes_edit_one_case_and_converge() {
    let pg = TestPostgres::start();
    let dirs = node_dirs();
    let (node1, node2) = (
        start_node(&pg, dirs.0.path()).await,
        start_node(&pg, dirs.1.path()).await,
    );
    // Identity is shared: a device enrolled through node 1 is known to node 2.
    let worker = tablet_at(node1.addr, &enroll(&node1, "anna").token, "tablet-node1");
    let colleague = tablet_at(node2.addr, &enroll(&node1, "anna").token, "tablet-node2");
    let case = random_id();
    worker.create(case, new_case()).await.expect("created");
    wait_acknowledged(&worker, case).await;
    colleague.find(case).expect("find");
    wait_same_heads(&worker, &colleague, case).await;

    // Both write at once, on different nodes.
    append_note(&worker, case, "Z węzła pierwszego. ").await;
    append_note(&colleague, case, "Z węzła drugiego. ").await;
    wait_acknowledged(&worker, case).await;
    wait_acknowledged(&colleague, case).await;
    wait_same_heads(&worker, &colleague, case).await;
    let text = colleague
        .read(case, |d| d.map(notes).unwrap_or_default())
        .await
        .expect("read");
    assert!(
        text.contains("Z węzła pierwszego.") && text.contains("Z węzła drugiego."),
        "{text}"
    );

    // Edit on node 1 → seen by the tablet on node 2 (figures for the notes, not asserted).
    let mut latencies = Vec::new();
    for i in 0..20 {
        let mut events = colleague.events();
        let started = Instant::now();
        append_note(&worker, case, "x").await;
        let want = worker.heads(case).await.expect("heads");
        loop {
            if colleague.heads(case).await.expect("heads") == want {
                break;
            }
            tokio::time::timeout(WAIT, events.recv())
                .await
                .expect("the change reaches the other node's tablet")
                .expect("events");
        }
        latencies.push(started.elapsed());
        let _ = i;
    }
    latencies.sort();
    eprintln!(
        "edit on node 1 -> tablet on node 2: p50 {:?}, p99 {:?} ({} samples)",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 99 / 100],
        latencies.len()
    );
    // The audit log is one log for the region: both nodes' records are found.
    let records = node2
        .state
        .registry
        .audit()
        .query(&Default::default())
        .expect("audit");
    // One tablet logged in on each node; node 2 reads both logins.
    let logins: std::collections::BTreeSet<_> = records
        .iter()
        .filter(|r| r.kind == "login")
        .filter_map(|r| r.device.clone())
        .collect();
    assert_eq!(
        logins.len(),
        2,
        "both nodes' logins are in the region's log"
    );
    assert_eq!(
        node1
            .state
            .registry
            .audit()
            .verify()
            .expect("every chain verifies"),
        records.len() as u64
    );
    worker.shutdown().await;
    colleague.shutdown().await;
    node1.shutdown().await.expect("shutdown");
    node2.shutdown().await.expect("shutdown");
}

/// Node 1 as a real process, on the same database, ready to be killed with SIGKILL.
async fn spawn_node(
    pg: &TestPostgres,
    dir: &std::path::Path,
) -> (tokio::process::Child, std::net::SocketAddr) {
    use tokio::io::AsyncBufReadExt;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut child =
        tokio::process::Command::new(env!("CARGO_BIN_EXE_kooperacja-server-under-test"))
            .args([
                "serve",
                "--insecure-http",
                "--allow-untyped-documents",
                "--disk-reserve-mb",
                "16",
            ])
            .args(["--listen", &format!("127.0.0.1:{port}"), "--store", &pg.url])
            .arg("--data-dir")
            .arg(dir)
            .arg("--secrets-dir")
            .arg(pg.secrets_dir())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node 1 starts");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::time::timeout(WAIT, tokio::io::BufReader::new(stdout).lines().next_line())
        .await
        .expect("ready in time")
        .expect("read")
        .expect("a line");
    assert!(line.contains("\"ready\":true"), "{line}");
    (child, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_stream_loses_nothing_its_tablets_move_to_the_other() {
    let pg = TestPostgres::start();
    let dirs = node_dirs();
    let node2 = start_node(&pg, dirs.1.path()).await;
    let (mut node1, node1_addr) = spawn_node(&pg, dirs.0.path()).await;
    // The tablets reach the region through a load balancer, which sends them to node 1.
    let balancer = FrameProxy::start(node1_addr, 1).await;
    let writers: Vec<(SyncClient, DocumentId)> = (0..3)
        .map(|i| {
            let token = enroll(&node2, "anna").token;
            (
                tablet_at(balancer.addr, &token, &format!("tablet-{i}")),
                random_id(),
            )
        })
        .collect();
    for (t, case) in &writers {
        t.create(*case, new_case()).await.expect("created");
        wait_acknowledged(t, *case).await;
    }
    let mut acknowledged: Vec<Vec<ChangeHash>> = vec![Vec::new(); writers.len()];
    for round in 0..30 {
        if round == 15 {
            // kill -9 mid-stream; the balancer sends new connections to node 2.
            node1.kill().await.expect("SIGKILL");
            balancer.set_upstream(node2.addr);
            balancer.cut_all();
        }
        for (i, (t, case)) in writers.iter().enumerate() {
            append_note(t, *case, "y").await;
            acknowledged[i].extend(
                t.server_heads(*case)
                    .await
                    .expect("heads")
                    .unwrap_or_default(),
            );
        }
    }
    for (t, case) in &writers {
        wait_acknowledged(t, *case).await;
    }
    // A fresh tablet on node 2 finds every change ever acknowledged, by either node.
    let checker = tablet_at(node2.addr, &enroll(&node2, "anna").token, "tablet-checker");
    for ((t, case), acked) in writers.iter().zip(&acknowledged) {
        checker.find(*case).expect("find");
        wait_same_heads(t, &checker, *case).await;
        assert!(
            holds_all(&checker, *case, acked).await.expect("read"),
            "nothing acknowledged by node 1 was lost"
        );
    }
    for (t, _) in writers {
        t.shutdown().await;
    }
    checker.shutdown().await;
    node2.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_region_moves_to_postgres_and_its_tablets_carry_on() {
    use kooperacja_server::admin::{run, AdminCommand};
    let pg = TestPostgres::start();
    let sled_dir = tempfile::tempdir().expect("tempdir");
    // The sled server's keys become the region's: the migration carries its wrapped keys.
    let mut config = ServeConfig::for_tests(sled_dir.path(), TlsMode::InsecureLoopback);
    config.secrets_dir = pg.secrets_dir();
    let server = start_with(config).await;
    let token = enroll(&server, "anna").token;
    let tablet = tablet_at(server.addr, &token, "tablet-anna");
    let case = random_id();
    tablet.create(case, new_case()).await.expect("created");
    append_note(&tablet, case, "Przed migracją. ").await;
    wait_acknowledged(&tablet, case).await;
    // More documents, written straight into the store (the figure in the notes).
    let mut ops = Vec::new();
    for i in 0..300 {
        let mut doc = new_case();
        let bytes = change_bytes(&mut doc, &format!("n{i}"));
        ops.push(WriteOp::Put {
            document: random_id(),
            key: ChunkKey::incremental(&bytes),
            bytes,
        });
    }
    server.state.storage.write(ops).await.expect("written");
    tablet.set_online(false).expect("offline");
    server.shutdown().await.expect("shutdown");

    let (dir, url, secrets) = (
        sled_dir.path().to_path_buf(),
        pg.url.clone(),
        pg.secrets_dir(),
    );
    let out = tokio::task::spawn_blocking(move || {
        run(
            &dir,
            &secrets,
            None,
            AdminCommand::MigrateToPostgres { to: url },
        )
    })
    .await
    .expect("runs")
    .expect("migrated");
    let report: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(report["documents"], 301, "{report}");
    eprintln!("migration: {report}");

    // The region now runs on PostgreSQL; the tablet's token still works, its case is there,
    // and the audit chain carried over verifies.
    let pg_dir = tempfile::tempdir().expect("tempdir");
    let node = start_node(&pg, pg_dir.path()).await;
    let moved = tablet_at(node.addr, &token, "tablet-anna-again");
    moved.find(case).expect("find");
    wait_same_heads(&tablet, &moved, case).await;
    let text = moved
        .read(case, |d| d.map(notes).unwrap_or_default())
        .await
        .expect("read");
    assert_eq!(text, "Przed migracją. ");
    assert!(node.state.registry.audit().verify().expect("verifies") > 0);
    moved.shutdown().await;
    tablet.shutdown().await;
    node.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_granted_or_revoked_on_one_node_holds_on_the_other() {
    use client_sdk::ClientEvent;
    let pg = TestPostgres::start();
    let dirs = node_dirs();
    let (node1, node2) = (
        start_node(&pg, dirs.0.path()).await,
        start_node(&pg, dirs.1.path()).await,
    );
    provision_region(&node1);
    node2.state.registry.reload_directory().expect("reload");
    let anna = tablet_at(node1.addr, &enroll(&node1, "anna").token, "tablet-anna");
    let case = random_id();
    anna.create(case, new_family_case("anna"))
        .await
        .expect("created");
    wait_acknowledged(&anna, case).await;

    // Bartek, a colleague on node 2, may not read anna's case.
    let mut random = [0u8; 48];
    rand::fill(&mut random[..]);
    let device = node1
        .state
        .directory
        .enroll("bartek", random)
        .expect("enrolled");
    let bartek = tablet_at(node2.addr, &device.token, "tablet-bartek");
    let mut events = bartek.events();
    bartek.find(case).expect("find");
    wait_event(&mut events, "bartek refused", |e| {
        *e == ClientEvent::Unavailable(case)
    })
    .await;

    // Bartek also has a notebook of his own, open on a second device on node 1.
    let own = tablet_at(
        node1.addr,
        &enroll(&node1, "bartek").token,
        "tablet-bartek-office",
    );
    let notebook = random_id();
    own.create(notebook, new_case()).await.expect("created");
    wait_acknowledged(&own, notebook).await;
    bartek.find(notebook).expect("find");
    wait_same_heads(&own, &bartek, notebook).await;

    // Anna assigns him through node 1. Node 2 hears of it from PostgreSQL; notifications come
    // in commit order, so once a later edit of his notebook on node 1 reaches him on node 2,
    // node 2 knows of the assignment too.
    node1
        .state
        .registry
        .assign(case, Some("bartek"), None, "anna", false)
        .expect("assign");
    append_note(&own, notebook, "Po przydzieleniu. ").await;
    wait_same_heads(&own, &bartek, notebook).await;
    // His tablet asks again (as it does when its document list changes) and gets the case.
    let again = tablet_at(node2.addr, &device.token, "tablet-bartek-2");
    again.find(case).expect("find");
    wait_same_heads(&anna, &again, case).await;
    again.shutdown().await;
    own.shutdown().await;

    // His tablet is lost: revoked through node 1, it is cut off on node 2 and wipes itself.
    node1
        .state
        .directory
        .revoke(&device.device_id)
        .expect("revoked");
    wait_event(&mut events, "bartek's tablet revoked", |e| {
        *e == ClientEvent::Revoked
    })
    .await;
    anna.shutdown().await;
    bartek.shutdown().await;
    node1.shutdown().await.expect("shutdown");
    node2.shutdown().await.expect("shutdown");
}
