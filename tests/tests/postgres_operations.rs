//! A region's database as it really behaves (issue #21): PostgreSQL restarted, with a fast and
//! with an immediate shutdown, under a stream of edits from several tablets; the same with two
//! nodes; the listening connection cut alone; a database that requires TLS; an erasure on one
//! node racing a write on the other; two processes writing one audit chain; `admin erase` on a
//! PostgreSQL store.
//!
//! Each test that stops the database or cuts its connections owns its cluster
//! (`TestPostgres::start_own`); the others use `KOOPERACJA_TEST_POSTGRES` when CI sets it.

use automerge::ChangeHash;
use client_sdk::{ClientEvent, SyncClient};
use kooperacja_server::kv::Kv;
use kooperacja_server::pg::{Pg, PgStorage};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::pg_cluster::TestPostgres;
use kooperacja_test_support::*;
use sync_core::storage::{ChunkKey, Storage, WriteOp};
use sync_core::{DocumentId, StorageError};
use tempfile::TempDir;

/// Social workers' tablets on `node`, each with a case of its own, created and acknowledged.
async fn writers_on(node: &RunningServer, n: usize) -> Vec<(SyncClient, DocumentId)> {
    let mut writers = Vec::new();
    for i in 0..n {
        let token = enroll(node, "anna").token;
        let tablet = tablet_at(node.addr, &token, &format!("tablet-{i}"));
        let case = random_id();
        tablet.create(case, new_case()).await.expect("created");
        wait_acknowledged(&tablet, case).await;
        writers.push((tablet, case));
    }
    writers
}

/// One round of the stream: every tablet appends a note; what the server had acknowledged
/// by then is kept.
async fn edit_round(writers: &[(SyncClient, DocumentId)], acknowledged: &mut [Vec<ChangeHash>]) {
    for (i, (tablet, case)) in writers.iter().enumerate() {
        append_note(tablet, *case, "w").await;
        acknowledged[i].extend(
            tablet
                .server_heads(*case)
                .await
                .expect("heads")
                .unwrap_or_default(),
        );
    }
}

/// A fresh tablet on `node` finds every change ever acknowledged to the writers.
async fn nothing_acknowledged_is_lost(
    node: &RunningServer,
    writers: &[(SyncClient, DocumentId)],
    acknowledged: &[Vec<ChangeHash>],
) {
    let checker = tablet_at(node.addr, &enroll(node, "anna").token, "tablet-checker");
    for ((tablet, case), acked) in writers.iter().zip(acknowledged) {
        checker.find(*case).expect("find");
        wait_same_heads(tablet, &checker, *case).await;
        assert!(
            holds_all(&checker, *case, acked).await.expect("read"),
            "every acknowledged change of {case} is in the store"
        );
    }
    checker.shutdown().await;
}

fn is_database_refusal(event: &ClientEvent) -> bool {
    matches!(event, ClientEvent::Disconnected(why)
        if why.contains("PostgreSQL") || why.contains("database is unreachable"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_fast_and_immediately_under_a_stream_of_edits_loses_nothing() {
    let pg = TestPostgres::start_own();
    let dir = tempfile::tempdir().expect("tempdir");
    let node = start_node(&pg, dir.path()).await;
    let writers = writers_on(&node, 3).await;
    let mut acknowledged = vec![Vec::new(); writers.len()];
    for mode in ["fast", "immediate"] {
        for _ in 0..5 {
            edit_round(&writers, &mut acknowledged).await;
        }
        // A case nobody edits during the outage, in the server's memory.
        let (keeper, reader) = (&writers[2].0, &writers[1].0);
        let quiet = random_id();
        keeper.create(quiet, new_case()).await.expect("created");
        append_note(keeper, quiet, "Spokojna sprawa. ").await;
        wait_acknowledged(keeper, quiet).await;
        // The database goes away in the middle of the stream.
        let mut events = writers[0].0.events();
        tokio::task::block_in_place(|| pg.stop(mode));
        let why = wait_readiness(&node, false).await;
        assert!(why.contains("not ready"), "{why}");
        // Reads from memory go on: a connected tablet opens the quiet case.
        reader.find(quiet).expect("find");
        wait_same_heads(keeper, reader, quiet).await;
        for _ in 0..5 {
            edit_round(&writers, &mut acknowledged).await;
        }
        // A write is refused with a clear error; the tablet keeps its change, unacknowledged.
        wait_event(&mut events, "the database's refusal", is_database_refusal).await;
        assert!(
            !writers[0]
                .0
                .is_acknowledged(writers[0].1)
                .await
                .expect("status"),
            "nothing is acknowledged while the database is away ({mode})"
        );
        // It comes back: the node reconnects by itself, acknowledgements resume.
        tokio::task::block_in_place(|| pg.start_again());
        wait_readiness(&node, true).await;
        for (tablet, case) in &writers {
            wait_acknowledged(tablet, *case).await;
        }
    }
    nothing_acknowledged_is_lost(&node, &writers, &acknowledged).await;
    let metrics = metrics_text(&node).await;
    assert!(
        metric(&metrics, "kooperacja_postgres_reconnects_total") >= 2,
        "{metrics}"
    );
    assert!(
        metric(&metrics, "kooperacja_postgres_listen_reconnects_total") >= 2,
        "{metrics}"
    );
    assert_eq!(
        metric(&metrics, "kooperacja_postgres_connections_up"),
        metric(&metrics, "kooperacja_postgres_pool_size"),
        "every worker connection is back"
    );
    for (tablet, _) in writers {
        tablet.shutdown().await;
    }
    node.shutdown().await.expect("shutdown");
}

fn two_dirs() -> (TempDir, TempDir) {
    (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_a_tablet_on_node_two_still_receives_node_ones_changes() {
    let pg = TestPostgres::start_own();
    let dirs = two_dirs();
    let node1 = start_node(&pg, dirs.0.path()).await;
    let node2 = start_node(&pg, dirs.1.path()).await;
    let writers = writers_on(&node1, 2).await;
    let follower = tablet_at(node2.addr, &enroll(&node1, "anna").token, "tablet-node2");
    for (_, case) in &writers {
        follower.find(*case).expect("find");
    }
    for (tablet, case) in &writers {
        wait_same_heads(tablet, &follower, *case).await;
    }
    let mut acknowledged = vec![Vec::new(); writers.len()];
    for _ in 0..3 {
        edit_round(&writers, &mut acknowledged).await;
    }
    tokio::task::block_in_place(|| pg.stop("fast"));
    wait_readiness(&node1, false).await;
    wait_readiness(&node2, false).await;
    for _ in 0..3 {
        edit_round(&writers, &mut acknowledged).await;
    }
    tokio::task::block_in_place(|| pg.start_again());
    wait_readiness(&node1, true).await;
    wait_readiness(&node2, true).await;
    // Node 1's later changes reach the tablet on node 2.
    for _ in 0..3 {
        edit_round(&writers, &mut acknowledged).await;
    }
    for (tablet, case) in &writers {
        wait_acknowledged(tablet, *case).await;
        wait_same_heads(tablet, &follower, *case).await;
    }
    nothing_acknowledged_is_lost(&node2, &writers, &acknowledged).await;
    follower.shutdown().await;
    for (tablet, _) in writers {
        tablet.shutdown().await;
    }
    node1.shutdown().await.expect("shutdown");
    node2.shutdown().await.expect("shutdown");
}

fn node_id(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("node-id"))
        .expect("node-id")
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listening_connection_cut_alone_comes_back_and_catches_up() {
    let pg = TestPostgres::start_own();
    let dirs = two_dirs();
    let node1 = start_node(&pg, dirs.0.path()).await;
    let node2 = start_node(&pg, dirs.1.path()).await;
    let writers = writers_on(&node1, 1).await;
    let (writer, case) = &writers[0];
    let follower = tablet_at(node2.addr, &enroll(&node1, "anna").token, "tablet-node2");
    follower.find(*case).expect("find");
    wait_same_heads(writer, &follower, *case).await;

    // Node 2's listening connection is cut, and may not come back for now (the database
    // accepts no new connection; the open ones work on).
    let database = pg.database().to_string();
    pg.sql(&format!(
        "ALTER DATABASE {database} WITH ALLOW_CONNECTIONS false"
    ));
    let cut = pg.sql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'kooperacja-listen {}'",
        node_id(dirs.1.path())
    ));
    assert_eq!(cut, vec!["t"], "node 2's listener is cut");
    let why = wait_readiness(&node2, false).await;
    assert!(why.contains("not listening"), "{why}");

    // Node 1 commits a change meanwhile; node 2 cannot have heard of it: still not listening.
    append_note(writer, *case, "Podczas przerwy. ").await;
    wait_acknowledged(writer, *case).await;
    wait_readiness(&node2, false).await;

    // The listener comes back by itself, reloads what it holds, and the tablet catches up.
    pg.sql(&format!(
        "ALTER DATABASE {database} WITH ALLOW_CONNECTIONS true"
    ));
    wait_readiness(&node2, true).await;
    wait_same_heads(writer, &follower, *case).await;
    let metrics = metrics_text(&node2).await;
    assert_eq!(
        metric(&metrics, "kooperacja_postgres_listen_reconnects_total"),
        1,
        "{metrics}"
    );
    follower.shutdown().await;
    for (tablet, _) in writers {
        tablet.shutdown().await;
    }
    node1.shutdown().await.expect("shutdown");
    node2.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_reaches_a_database_that_requires_tls() {
    let (pg, ca) = TestPostgres::start_own_tls();
    let ca_param = ca.display().to_string().replace('/', "%2F");
    // In plain text the database refuses.
    let plain = pg.url.clone() + "?sslmode=disable";
    let err = tokio::task::block_in_place(|| Pg::connect(&plain, 1, "plain"))
        .expect_err("refused without TLS");
    assert!(
        err.to_string().contains("pg_hba") || err.to_string().contains("encryption"),
        "{err}"
    );
    // Encrypted without checking the certificate (sslmode=require), as libpq does.
    let required = pg.url.clone() + "?sslmode=require";
    let db = tokio::task::block_in_place(|| Pg::connect(&required, 1, "require"))
        .expect("sslmode=require");
    let ssl: bool = db
        .run_async(|c| {
            c.query_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )?
            .try_get(0)
        })
        .await
        .expect("query");
    assert!(ssl, "the connection is encrypted");
    // A CA that did not sign the database's certificate is refused.
    let stranger = tempfile::tempdir().expect("tempdir");
    let foreign = kooperacja_test_support::pg_tls::foreign_ca(stranger.path());
    let wrong = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        pg.url,
        foreign.display().to_string().replace('/', "%2F")
    );
    let err = tokio::task::block_in_place(|| Pg::connect(&wrong, 1, "wrong-ca"))
        .expect_err("an unknown issuer");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    // verify-full with the region's CA: a node serves tablets over it.
    let full = format!("{}?sslmode=verify-full&sslrootcert={ca_param}", pg.url);
    let dir = tempfile::tempdir().expect("tempdir");
    let node = start_node_at(&pg, &full, dir.path()).await;
    let writers = writers_on(&node, 1).await;
    let (tablet, case) = &writers[0];
    append_note(tablet, *case, "Przez TLS. ").await;
    wait_acknowledged(tablet, *case).await;
    let metrics = metrics_text(&node).await;
    assert_eq!(metric(&metrics, "kooperacja_postgres_pool_size"), 4);
    for (tablet, _) in writers {
        tablet.shutdown().await;
    }
    node.shutdown().await.expect("shutdown");
}

fn change_bytes(doc: &mut automerge::Automerge, key: &str) -> Vec<u8> {
    use automerge::transaction::Transactable;
    let before = doc.get_heads();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(automerge::ROOT, key, 1))
        .expect("change");
    doc.save_after(&before)
}

fn put(document: DocumentId, doc: &mut automerge::Automerge, key: &str) -> WriteOp {
    let bytes = change_bytes(doc, key);
    WriteOp::Put {
        document,
        key: ChunkKey::incremental(&bytes),
        bytes,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_on_one_node_racing_a_write_on_the_other_stays_erased() {
    let pg = TestPostgres::start();
    let one = PgStorage::new(Pg::connect(&pg.url, 2, "node-1").expect("connect"));
    let two = PgStorage::new(Pg::connect(&pg.url, 2, "node-2").expect("connect"));
    let (mut written_first, mut refused) = (0, 0);
    for round in 0..20 {
        let id = random_id();
        let mut doc = new_case();
        one.write(vec![put(id, &mut doc, "first")])
            .await
            .expect("first chunk");
        // Node 1 erases while node 2 writes a change of it, at once.
        let erase = one.remove(id);
        let late = two.write(vec![put(id, &mut doc, &format!("late-{round}"))]);
        let (erased, wrote) = tokio::join!(erase, late);
        erased.expect("the erasure commits");
        match wrote {
            Ok(()) => written_first += 1,
            Err(StorageError::Tombstoned(d)) => {
                assert_eq!(d, id.to_string());
                refused += 1;
            }
            Err(other) => panic!("unexpected: {other}"),
        }
        assert_eq!(two.load(id).await.expect("load"), None, "round {round}");
        // Whatever the order, no node writes it again.
        let again = two.write(vec![put(id, &mut doc, "again")]).await;
        assert!(
            matches!(again, Err(StorageError::Tombstoned(_))),
            "{again:?}"
        );
        assert_eq!(one.load(id).await.expect("load"), None);
    }
    eprintln!("erasure races: the write committed first {written_first}×, was refused {refused}×");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_writing_one_audit_chain_are_detected() {
    let pg = TestPostgres::start();
    // A copied data directory: node 2 has node 1's node-id.
    let dirs = two_dirs();
    let node1 = start_node(&pg, dirs.0.path()).await;
    std::fs::copy(dirs.0.path().join("node-id"), dirs.1.path().join("node-id"))
        .expect("copied node-id");
    let node2 = start_node(&pg, dirs.1.path()).await;
    wait_readiness(&node1, true).await;
    wait_readiness(&node2, true).await;
    // Both append to the chain they both think ends where it ended when they started.
    let first = tablet_at(node1.addr, &enroll(&node1, "anna").token, "tablet-1");
    let case = random_id();
    first.create(case, new_case()).await.expect("created");
    wait_acknowledged(&first, case).await;
    tokio::task::block_in_place(|| node1.state.kv.flush()).expect("node 1's records are written");
    let second = tablet_at(node2.addr, &enroll(&node2, "anna").token, "tablet-2");
    let other = random_id();
    second.create(other, new_case()).await.expect("created");
    wait_acknowledged(&second, other).await;
    let err = tokio::task::block_in_place(|| node2.state.kv.flush())
        .expect_err("the second writer is found");
    assert!(err.to_string().contains("another writer"), "{err}");
    let why = wait_readiness(&node2, false).await;
    assert!(
        why.contains("another process writes the audit chain"),
        "{why}"
    );
    // Nothing was merged: the chain still verifies.
    assert!(node1.state.registry.audit().verify().expect("verifies") > 0);
    first.shutdown().await;
    second.shutdown().await;
    node1.shutdown().await.expect("shutdown");
    node2.shutdown().await.expect("shutdown");
}

#[test]
fn two_nodes_binding_one_actor_to_two_devices_are_detected() {
    let pg = TestPostgres::start();
    let one = Kv::Pg(Pg::connect(&pg.url, 1, "node-1").expect("connect"));
    let two = Kv::Pg(Pg::connect(&pg.url, 1, "node-2").expect("connect"));
    let actor = b"actor-of-a-tablet";
    one.open_tree("actors")
        .expect("tree")
        .claim(actor, b"device-1")
        .expect("handed over");
    one.flush().expect("bound");
    two.open_tree("actors")
        .expect("tree")
        .claim(actor, b"device-2")
        .expect("handed over");
    let err = two.flush().expect_err("a second binding is detected");
    assert!(err.to_string().contains("another writer"), "{err}");
    assert_eq!(
        one.open_tree("actors")
            .expect("tree")
            .get(actor)
            .expect("get"),
        Some(b"device-1".to_vec()),
        "the first binding stays"
    );
    // The same binding again (a retried batch) is no conflict.
    one.open_tree("actors")
        .expect("tree")
        .claim(actor, b"device-1")
        .expect("handed over");
    one.flush().expect("the same value again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_erase_on_a_postgres_store_reaches_a_running_node() {
    use kooperacja_server::admin::{run, AdminCommand};
    let pg = TestPostgres::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let node = start_node(&pg, dir.path()).await;
    let writers = writers_on(&node, 1).await;
    let case = &writers[0].1;
    let admin_dir = tempfile::tempdir().expect("tempdir");
    let (data, secrets, url, id) = (
        admin_dir.path().to_path_buf(),
        pg.secrets_dir(),
        pg.url.clone(),
        case.to_string(),
    );
    let out = tokio::task::spawn_blocking(move || {
        run(
            &data,
            &secrets,
            Some(&url),
            AdminCommand::Erase { document: id },
        )
    })
    .await
    .expect("runs")
    .expect("erased");
    assert!(out.contains(&case.to_string()), "{out}");
    // The running node hears of it from PostgreSQL.
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut every = tokio::time::interval(std::time::Duration::from_millis(20));
    while !node.state.registry.record(case).is_some_and(|r| r.erased) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node never heard of the erasure"
        );
        every.tick().await;
    }
    // A fresh tablet finds nothing; the store holds nothing of it.
    let fresh = tablet_at(node.addr, &enroll(&node, "anna").token, "tablet-fresh");
    let mut events = fresh.events();
    fresh.find(*case).expect("find");
    wait_event(&mut events, "the erased case is unavailable", |e| {
        *e == ClientEvent::Unavailable(*case)
    })
    .await;
    assert_eq!(node.state.storage.load(*case).await.expect("load"), None);
    let records = node
        .state
        .registry
        .audit()
        .query(&Default::default())
        .expect("audit");
    assert!(records
        .iter()
        .any(|r| r.kind == "erase" && r.document.as_deref() == Some(&case.to_string())));
    fresh.shutdown().await;
    for (tablet, _) in writers {
        tablet.shutdown().await;
    }
    node.shutdown().await.expect("shutdown");
}
