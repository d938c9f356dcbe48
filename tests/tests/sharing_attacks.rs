//! Attacks on a case's sharing, from the attacker's side. People with valid accounts and no tie
//! to the case (the animator of another gmina's PZK, a worker of another institution, a member
//! of another PZK, an unassigned colleague) know the case's id: they assign themselves, remove
//! the owner's assignment, reach the case through the other endpoints that take one document,
//! and time the server's answer to the sync request. Each is answered exactly as for an id
//! nobody used, and nothing of the case is loaded for them, while the owner keeps editing and
//! the animator of the case's own PZK shares it.

use std::sync::atomic::Ordering;

use client_sdk::{ClientEvent, SyncClient};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use sync_core::DocumentId;

/// A server over `dir` with the region and the strangers, and anna's family case on her tablet.
async fn anna_opens_a_case(dir: &std::path::Path) -> (RunningServer, SyncClient, DocumentId) {
    let server = start_loopback_server(dir).await;
    provision_region(&server);
    provision_strangers(&server);
    let (owner, case) = create_as(&server, "anna", new_family_case("anna")).await;
    (server, owner, case)
}

/// The owner keeps working: her next note is acknowledged.
async fn owner_still_edits(owner: &SyncClient, case: DocumentId) {
    append_visit_note(owner, case).await;
    wait_acknowledged(owner, case).await;
}

/// `login`'s new tablet asks for `case` and is told it is unavailable.
async fn told_unavailable(server: &RunningServer, login: &str, case: DocumentId) {
    let t = tablet(server, login, &format!("tablet-{login}-{}", random_id()));
    let mut events = t.events();
    t.find(case).expect("find");
    wait_event(&mut events, "doc-unavailable", |e| {
        *e == ClientEvent::Unavailable(case)
    })
    .await;
    t.shutdown().await;
}

/// `login`'s new tablet asks for `case` and receives it.
async fn opens(server: &RunningServer, login: &str, case: DocumentId) -> SyncClient {
    let t = tablet(server, login, &format!("tablet-{login}-{}", random_id()));
    t.find(case).expect("find");
    t.wait_until("the case arrives", WAIT, || async {
        Ok(!t.heads(case).await?.unwrap_or_default().is_empty())
    })
    .await
    .expect("the case arrives");
    t
}

/// What anna's case is shared with: (users, institutions).
fn shared_with(server: &RunningServer, case: DocumentId) -> (Vec<String>, Vec<String>) {
    let record = server
        .state
        .registry
        .record(&case)
        .expect("the case's record");
    (
        record.assigned_users.into_iter().collect(),
        record.assigned_institutions.into_iter().collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_who_know_a_case_id_get_what_an_unknown_id_gets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, owner, case) = anna_opens_a_case(dir.path()).await;
    // The owner shares the case with her own institution (her colleagues work on it).
    let anna = enroll(&server, "anna").token;
    let body = r#"{"institution":"gops"}"#;
    let (status, answer) = share(&server, &anna, &case.to_string(), "assign", body).await;
    assert_eq!(status, 200, "{answer}");
    let before = shared_with(&server, case);
    let unknown = random_id().to_string();

    let attackers = [
        "animator-obcy", // the animator of another gmina's PZK
        "obca",          // a social worker of another institution
        "inna",          // a member of another PZK
        "policja-rep",   // a member of the case's PZK with no consent
    ];
    let moves = [
        ("assign", "himself", r#"{"user":"ATTACKER"}"#),
        (
            "assign",
            "his institution",
            r#"{"institution":"mops-obcy"}"#,
        ),
        ("unassign", "the owner", r#"{"user":"anna"}"#),
        (
            "unassign",
            "the owner's institution",
            r#"{"institution":"gops"}"#,
        ),
        ("assign", "nobody (a bad body)", r#"{}"#),
    ];
    for attacker in attackers {
        let token = enroll(&server, attacker).token;
        for (verb, whom, body) in moves {
            let body = body.replace("ATTACKER", attacker);
            let on_case = share(&server, &token, &case.to_string(), verb, &body).await;
            let on_unknown = share(&server, &token, &unknown, verb, &body).await;
            assert_eq!(on_case.0, 404, "{attacker} {verb}s {whom}: {on_case:?}");
            assert_eq!(
                on_case, on_unknown,
                "{attacker} {verb}s {whom}: the case answers as an unknown id"
            );
        }
        // The other endpoint that acts on one document: erasure answers him the same for both.
        let erase = |id: String| format!("/api/v1/admin/documents/{id}/erase");
        let on_case = http_post(server.addr, &erase(case.to_string()), Some(&token), "").await;
        let on_unknown = http_post(server.addr, &erase(unknown.clone()), Some(&token), "").await;
        assert_eq!(on_case, on_unknown, "{attacker} erases");
        assert_eq!(
            shared_with(&server, case),
            before,
            "{attacker} changed nothing"
        );
        told_unavailable(&server, attacker, case).await;
        owner_still_edits(&owner, case).await;
    }
    assert!(server.state.storage.load_now(case).expect("load").is_some());

    // The animator of the PZK of the case's lead institution shares it: he assigns himself and
    // receives it.
    let animator = enroll(&server, "animator1").token;
    let body = r#"{"user":"animator1"}"#;
    let (status, answer) = share(&server, &animator, &case.to_string(), "assign", body).await;
    assert_eq!(status, 200, "{answer}");
    opens(&server, "animator1", case).await.shutdown().await;
    // Neither he nor an admin removes the owner's own assignment: only she does.
    let admin = enroll_admin(&server, "admin1").token;
    for (who, token) in [("animator1", &animator), ("admin1", &admin)] {
        for body in [r#"{"user":"anna"}"#, r#"{"institution":"gops"}"#] {
            let (status, answer) = share(&server, token, &case.to_string(), "unassign", body).await;
            assert_eq!(status, 403, "{who} unassigns {body}: {answer}");
        }
    }
    assert!(shared_with(&server, case).1.contains(&"gops".to_string()));
    opens(&server, "bartek", case).await.shutdown().await;
    owner_still_edits(&owner, case).await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_case_is_refused_without_being_loaded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, owner, case) = anna_opens_a_case(dir.path()).await;
    owner.shutdown().await;
    server.shutdown().await.expect("shutdown");
    // After a restart the case is in no one's memory: a load would take the time that tells a
    // stored case from an id nobody used.
    let server = start_loopback_server(dir.path()).await;
    let loads = || server.state.metrics.document_loads.load(Ordering::Relaxed);

    let before = loads();
    told_unavailable(&server, "obca", case).await;
    told_unavailable(&server, "animator-obcy", case).await;
    assert_eq!(loads(), before, "the forbidden case was not loaded");
    // An id nobody used is answered the same way.
    told_unavailable(&server, "obca", random_id()).await;

    // The owner opens her case on the restarted server: it is loaded for her.
    let before = loads();
    let owner = opens(&server, "anna", case).await;
    assert!(loads() > before, "loaded for its owner");
    owner_still_edits(&owner, case).await;
    owner.shutdown().await;
    server.shutdown().await.expect("shutdown");
}
