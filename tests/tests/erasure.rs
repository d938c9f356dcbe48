//! Erasure of a case (GDPR art. 17): its history leaves the server's store, its id can never be
//! used again, the devices following it are told it is gone, and the audit log keeps only that
//! an erasure happened.

use client_sdk::ClientEvent;
use kooperacja_server::identity::Role;
use kooperacja_test_support::*;
use sync_core::DocumentId;
use tokio::sync::broadcast::Receiver;

/// Waits until the client is told `case` is unavailable (`what` names the wait).
async fn wait_unavailable(events: &mut Receiver<ClientEvent>, case: DocumentId, what: &str) {
    tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(ClientEvent::Unavailable(d)) if d == case => return,
                Ok(_) => {}
                Err(e) => panic!("events ended: {e}"),
            }
        }
    })
    .await
    .expect(what);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_case_leaves_the_server_for_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let directory = &server.state.directory;
    directory
        .add_user("admin1", "Admin", vec![Role::Admin])
        .expect("admin");
    let mut random = [0u8; 48];
    rand::fill(&mut random[..]);
    let admin = directory.enroll("admin1", random).expect("enrol").token;

    let owner = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    owner.create(case, new_case()).await.expect("created");
    append_note(&owner, case, "Dane wrażliwe.").await;
    wait_acknowledged(&owner, case).await;
    assert!(server.state.storage.load_now(case).expect("load").is_some());
    let mut events = owner.events();

    let erase = format!("/api/v1/admin/documents/{case}/erase");
    let (status, body) = http_post(server.addr, &erase, Some(&admin), "").await;
    assert_eq!(status, 200, "{body}");
    // Gone from the store (the answer comes once the removal is durable).
    assert_eq!(server.state.storage.load_now(case).expect("load"), None);
    // The tablet that followed it is told it is unavailable.
    wait_unavailable(&mut events, case, "told in time").await;

    // The tablet still holds its copy and edits it: the server takes nothing back.
    let mut events = owner.events();
    append_note(&owner, case, " Jeszcze raz.").await;
    owner.set_online(false).expect("offline");
    owner.set_online(true).expect("online");
    wait_unavailable(&mut events, case, "refused again").await;
    assert_eq!(
        server.state.storage.load_now(case).expect("load"),
        None,
        "nothing re-uploaded"
    );
    assert!(server.state.registry.visible_to("anna").is_empty());

    // The audit log says an erasure happened, and still verifies.
    let audit = server.state.registry.audit();
    let records = audit_of(&server, case);
    assert!(records
        .iter()
        .any(|r| r.kind == "erase" && r.user.as_deref() == Some("admin1")));
    assert!(audit.verify().expect("chain") > 0);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_erase_works_on_a_stopped_servers_data_directory() {
    use kooperacja_server::admin::{run, AdminCommand};
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let token = enroll(&server, "anna").token;
    let owner = tablet_at(server.addr, &token, "tablet-anna");
    let case = random_id();
    owner.create(case, new_case()).await.expect("created");
    append_note(&owner, case, "Dane wrażliwe.").await;
    wait_acknowledged(&owner, case).await;
    owner.shutdown().await;
    server.shutdown().await.expect("shutdown");

    // The operator erases it with the server stopped.
    let erase = |document: String| {
        let (data, secrets) = (dir.path().to_path_buf(), dir.path().join("secrets"));
        tokio::task::spawn_blocking(move || {
            run(&data, &secrets, None, AdminCommand::Erase { document })
        })
    };
    let out = erase(case.to_string())
        .await
        .expect("runs")
        .expect("erased");
    assert!(out.contains(&case.to_string()), "{out}");
    let unknown = erase(random_id().to_string())
        .await
        .expect("runs")
        .expect_err("an unknown case");
    assert!(unknown.to_string().contains("no document"), "{unknown}");
    let malformed = erase("not-an-id".into())
        .await
        .expect("runs")
        .expect_err("a malformed id");
    assert!(malformed.to_string().contains("not-an-id"), "{malformed}");

    // Started again: nothing of it is left, a tablet is told it is unavailable, and the
    // audit log says an administrator erased it.
    let server = start_loopback_server(dir.path()).await;
    assert_eq!(server.state.storage.load_now(case).expect("load"), None);
    let again = tablet_at(server.addr, &token, "tablet-anna-again");
    let mut events = again.events();
    again.find(case).expect("find");
    wait_unavailable(&mut events, case, "the erased case is unavailable").await;
    let records = audit_of(&server, case);
    assert!(records
        .iter()
        .any(|r| r.kind == "erase" && r.user.as_deref() == Some("admin")));
    assert!(server.state.registry.audit().verify().expect("chain") > 0);
    again.shutdown().await;
    server.shutdown().await.expect("shutdown");
}
