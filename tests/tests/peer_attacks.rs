//! An insider with a valid account attacks the other peers, one story each, while a
//! well-behaved user keeps working: she signs a change with a colleague's name, floods a
//! document with ephemeral messages of huge and ever new session ids, and joins with the peer
//! id of a colleague's live tablet. (Posing as someone else in presence: `presence.rs`.)

use client_sdk::{ClientEvent, SyncClient};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::raw_socket::{self, closed_with, joined, next_message};
use kooperacja_test_support::*;
use sync_core::engine::{EngineConfig, DEFAULT_MAX_EPHEMERAL};
use sync_core::model::case::{self, HouseholdMember};
use sync_core::model::Editor;
use sync_core::wire::{Ephemeral, Message};
use sync_core::{DocumentId, PeerId};

/// A household member added to `doc` on `client`, signed by `by`.
async fn add_member(client: &SyncClient, doc: DocumentId, person: &'static str, by: Editor) {
    client
        .change(doc, move |d| {
            let member = HouseholdMember {
                name: "Jan Nowak".into(),
                relation: "ojciec".into(),
                birth_date: None,
            };
            case::add_household_member(d, person, &member, &by, chrono::Utc::now()).expect("edit");
        })
        .await
        .expect("saved locally");
}

/// What the server stored of a case: its household's person ids.
fn stored_household(server: &RunningServer, doc: DocumentId) -> Vec<String> {
    let stored = server
        .state
        .storage
        .load_now(doc)
        .expect("load")
        .expect("stored");
    let doc = sync_core::engine::load_stored(&stored).expect("loads");
    case::read_case(&doc)
        .expect("a case")
        .household
        .into_keys()
        .collect()
}

/// The reasons `events` was refused with, until it has seen one.
async fn refusal(events: &mut tokio::sync::broadcast::Receiver<ClientEvent>) -> String {
    match wait_event(events, "the refusal", |e| {
        matches!(e, ClientEvent::Disconnected(_))
    })
    .await
    {
        ClientEvent::Disconnected(reason) => reason,
        _ => unreachable!("matched above"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_cannot_sign_a_change_with_a_colleagues_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    provision_region(&server);
    let (anna, anna_case) = create_as(&server, "anna", new_family_case("anna")).await;

    // Bartek, a writer of his own case, adds a household member signed "Author: anna".
    let (bartek, case_id) = create_as(&server, "bartek", new_family_case("bartek")).await;
    let mut events = bartek.events();
    let as_anna = Editor::new("anna", "gops").expect("editor");
    add_member(&bartek, case_id, "p-anna", as_anna).await;
    let reason = refusal(&mut events).await;
    assert!(reason.contains("Author: anna"), "{reason}");
    bartek.shutdown().await;

    // Then, on a fresh tablet, one signed with his own name for another institution.
    let bartek = tablet(&server, "bartek", "tablet-bartek-2");
    let mut events = bartek.events();
    bartek.find(case_id).expect("find");
    bartek
        .wait_until("his case", WAIT, || async {
            Ok(!bartek.heads(case_id).await?.unwrap_or_default().is_empty())
        })
        .await
        .expect("bartek's case arrives");
    let as_police = Editor::new("bartek", "policja").expect("editor");
    add_member(&bartek, case_id, "p-policja", as_police).await;
    let reason = refusal(&mut events).await;
    assert!(reason.contains("Institution: policja"), "{reason}");

    // Both were refused and audited as his; the case history names no one who did not write.
    let rejects: Vec<String> = audit_of(&server, case_id)
        .into_iter()
        .filter(|r| r.kind == "reject" && r.user.as_deref() == Some("bartek"))
        .map(|r| r.detail.to_string())
        .collect();
    assert!(
        rejects.iter().any(|r| r.contains("Author: anna")),
        "{rejects:?}"
    );
    assert!(
        rejects.iter().any(|r| r.contains("Institution: policja")),
        "{rejects:?}"
    );
    assert!(stored_household(&server, case_id).is_empty());

    // Anna, meanwhile, signs her own edit: accepted.
    let as_herself = Editor::new("anna", "gops").expect("editor");
    add_member(&anna, anna_case, "p-1", as_herself).await;
    wait_acknowledged(&anna, anna_case).await;
    assert_eq!(
        stored_household(&server, anna_case),
        vec!["p-1".to_string()]
    );

    for t in [anna, bartek] {
        t.shutdown().await;
    }
    server.shutdown().await.expect("shutdown");
}

/// An ephemeral message from `sender` about `doc` with this session id and data.
fn ephemeral(
    sender: &str,
    server: &PeerId,
    doc: DocumentId,
    session: String,
    data: usize,
) -> Message {
    Message::Ephemeral(Ephemeral {
        sender_id: PeerId::new(sender).expect("peer id"),
        target_id: server.clone(),
        document_id: doc,
        count: 1,
        session_id: session,
        data: vec![0xf6; data],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_flooding_ephemeral_sessions_cannot_grow_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let good = tablet(&server, "anna", "tablet-good");
    let case = random_id();
    good.create(case, new_case()).await.expect("created");
    wait_acknowledged(&good, case).await;

    // Mallory reads a document of her own, so her ephemeral messages about it are relayed.
    let (mallory_tablet, own) = create_as(&server, "mallory", new_case()).await;
    let token = enroll(&server, "mallory").token;
    let mut before = 0;

    // 1. 400 frames, each with a new session id of 1 MiB: each is refused and cut off, and the
    //    last 300 (300 MiB of ids) leave the server's memory where it was.
    for round in 0..400 {
        let (mut socket, server_peer) = joined(&server, &token, "mallory-flood").await;
        let session = format!("{round}{}", "x".repeat(1024 * 1024));
        raw_socket::send(
            &mut socket,
            &ephemeral("mallory-flood", &server_peer, own, session, 16),
        )
        .await;
        let (code, reason) = closed_with(&mut socket).await.expect("a close frame");
        assert_eq!(code, 1009, "{reason}");
        assert!(reason.contains("session id"), "{reason}");
        if round == 99 {
            // The allocator has warmed up to frames of this size: measure from here.
            before = resident_kib();
        }
    }
    let grown = resident_kib().saturating_sub(before);
    assert!(grown < 64 * 1024, "the server grew by {grown} KiB");
    still_works(&good, case, " 1").await;

    // 2. Data over the cap: refused and cut off.
    let (mut socket, server_peer) = joined(&server, &token, "mallory-flood").await;
    let huge = ephemeral(
        "mallory-flood",
        &server_peer,
        own,
        "s".into(),
        DEFAULT_MAX_EPHEMERAL + 1,
    );
    raw_socket::send(&mut socket, &huge).await;
    let (code, reason) = closed_with(&mut socket).await.expect("a close frame");
    assert_eq!(code, 1009, "{reason}");
    still_works(&good, case, " 2").await;

    // 3. 5,000 new session ids of the longest length allowed on one connection: over her rate
    //    they are dropped, and what reaches the de-duplication table stays within its bound.
    let (mut socket, server_peer) = joined(&server, &token, "mallory-flood").await;
    let longest = EngineConfig::server(server_peer.clone()).max_session_id;
    for n in 0..5_000 {
        let session = format!("{n:0>longest$}");
        raw_socket::send(
            &mut socket,
            &ephemeral("mallory-flood", &server_peer, own, session, 512),
        )
        .await;
    }
    // Frames of one connection are handled in order: once a request sent after the flood is
    // answered, the flood has been handled.
    raw_socket::send(
        &mut socket,
        &Message::Request(sync_core::wire::DocMessage {
            sender_id: PeerId::new("mallory-flood").expect("peer id"),
            target_id: server_peer.clone(),
            document_id: random_id(),
            data: empty_request(),
        }),
    )
    .await;
    next_message(&mut socket, "the answer after the flood", |m| {
        matches!(m, Message::DocUnavailable { .. })
    })
    .await;
    still_works(&good, case, " 3").await;
    let table = metric(
        &metrics_text(&server).await,
        "kooperacja_ephemeral_sessions_bytes",
    );
    let bound = EngineConfig::server(server_peer).ephemeral_sessions_bytes as u64;
    assert!(
        table <= bound,
        "the table holds {table} bytes, over {bound}"
    );
    assert!(table > 0, "the flood's first sessions reached the table");
    for t in [good, mallory_tablet] {
        t.shutdown().await;
    }
    server.shutdown().await.expect("shutdown");
}

/// A sync message that asks for a document and offers nothing.
fn empty_request() -> Vec<u8> {
    use automerge::sync::SyncDoc;
    automerge::Automerge::new()
        .generate_sync_message(&mut automerge::sync::State::new())
        .map(|m| m.encode())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_id_in_use_by_another_device_is_refused_and_the_incumbent_keeps_working() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let anna = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    anna.create(case, new_case()).await.expect("created");
    wait_acknowledged(&anna, case).await;
    let mut anna_events = anna.events();

    // Mallory joins with the peer id of Anna's live tablet: refused, told why.
    let token = enroll(&server, "mallory").token;
    let mut socket = raw_socket::upgraded(&server, &token).await;
    futures::SinkExt::send(
        &mut socket,
        tokio_tungstenite::tungstenite::Message::Binary(raw_socket::join("tablet-anna").into()),
    )
    .await
    .expect("send join");
    let Message::Error { message } = next_message(&mut socket, "the refusal", |m| {
        matches!(m, Message::Error { .. })
    })
    .await
    else {
        unreachable!("matched above")
    };
    assert!(message.contains("in use by another device"), "{message}");
    let (code, reason) = closed_with(&mut socket).await.expect("a close frame");
    assert_eq!(code, 1008, "{reason}");

    // Anna's tablet was never cut off and keeps syncing.
    still_works(&anna, case, " after the theft").await;
    while let Ok(event) = anna_events.try_recv() {
        assert!(
            !matches!(event, ClientEvent::Disconnected(_)),
            "Anna's tablet was disconnected: {event:?}"
        );
    }
    let refused = server
        .state
        .registry
        .audit()
        .query(&kooperacja_server::audit::AuditQuery {
            user: Some("mallory".into()),
            ..Default::default()
        })
        .expect("query");
    assert!(refused.iter().any(|r| r.kind == "reject"), "{refused:?}");

    // One device reconnecting replaces its own stale connection, as before.
    let device = enroll(&server, "bartek");
    let (mut stale, _) = joined(&server, &device.token, "tablet-bartek").await;
    let (_fresh, _) = joined(&server, &device.token, "tablet-bartek").await;
    let (code, _) = closed_with(&mut stale).await.expect("a close frame");
    assert_eq!(code, 4000);

    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
}
