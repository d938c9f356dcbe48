//! The regional server over real WebSockets with TLS: tablets of social workers create, fetch
//! and edit cases through it.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_test_support::*;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tablets_of_one_worker_share_a_case_and_converge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    let office = tablet(&server, "anna", "tablet-office");
    let field = tablet(&server, "anna", "tablet-field");
    let case = random_id();

    office.create(case, new_case()).await.expect("created");
    append_note(&office, case, "Zgłoszenie ze szkoły. ").await;
    wait_acknowledged(&office, case).await;

    field.find(case).expect("find");
    wait_same_heads(&office, &field, case).await;

    // Both write at once; both see both notes.
    append_note(&office, case, "Biuro. ").await;
    append_note(&field, case, "Wizyta domowa. ").await;
    wait_same_heads(&office, &field, case).await;
    let text = field
        .read(case, |d| d.map(notes))
        .await
        .expect("read")
        .expect("doc");
    assert!(
        text.contains("Biuro") && text.contains("Wizyta domowa"),
        "{text}"
    );
    office.shutdown().await;
    field.shutdown().await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_workers_case_is_unavailable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    let anna = tablet(&server, "anna", "tablet-anna");
    let eve = tablet(&server, "eve", "tablet-eve");
    let case = random_id();
    anna.create(case, new_case()).await.expect("created");
    wait_acknowledged(&anna, case).await;

    let mut events = eve.events();
    eve.find(case).expect("find");
    let unavailable = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(client_sdk::ClientEvent::Unavailable(d)) if d == case => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .expect("an answer comes");
    assert!(unavailable);
    let heads = eve.heads(case).await.expect("read");
    assert!(
        heads.unwrap_or_default().is_empty(),
        "eve got nothing of the case"
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let case = random_id();
    let token;
    {
        let server = start_server(dir.path()).await;
        token = enroll(&server, "anna").token;
        let t = tablet(&server, "anna", "tablet-1");
        t.create(case, new_case()).await.expect("created");
        append_note(&t, case, "Przed restartem.").await;
        wait_acknowledged(&t, case).await;
        t.shutdown().await;
        server.shutdown().await.expect("clean shutdown");
    }
    let server = start_server(dir.path()).await;
    let config = client_sdk::ClientConfig::new(
        sync_core::PeerId::new("tablet-new").expect("id"),
        Some(address(&server, &token, None)),
    );
    let fresh = client_sdk::SyncClient::start(config, sync_core::storage::MemoryStorage::new())
        .expect("client");
    fresh.find(case).expect("find");
    fresh
        .wait_until("case fetched", WAIT, || async {
            Ok(fresh.read(case, |d| d.map(notes)).await?.as_deref() == Some("Przed restartem."))
        })
        .await
        .expect("the case is intact after the restart");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_mebibyte_case_syncs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    let a = tablet(&server, "anna", "tablet-a");
    let b = tablet(&server, "anna", "tablet-b");
    let case = random_id();
    a.create(case, new_case()).await.expect("created");
    let big: String = (0..1024 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    a.change(case, move |d| {
        use automerge::transaction::Transactable;
        use automerge::ReadDoc;
        let (_, notes) = d
            .get(automerge::ROOT, "notes")
            .expect("get")
            .expect("notes");
        d.transact::<_, _, automerge::AutomergeError>(|tx| tx.splice_text(&notes, 0, 0, &big))
            .expect("splice");
    })
    .await
    .expect("saved");
    wait_acknowledged(&a, case).await;
    b.find(case).expect("find");
    wait_same_heads(&a, &b, case).await;
    let len = b
        .read(case, |d| d.map(|d| notes(d).len()))
        .await
        .expect("read");
    assert_eq!(len, Some(1024 * 1024));
    server.shutdown().await.expect("clean shutdown");
}

/// Opens a raw WebSocket (no SDK) to send hostile frames.
async fn raw_socket(
    server: &kooperacja_server::serve::RunningServer,
    token: Option<&str>,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    tokio_tungstenite::tungstenite::Error,
> {
    let mut request = format!("ws://{}/sync", server.addr)
        .into_client_request()
        .expect("request");
    if let Some(token) = token {
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    let tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("tcp");
    tokio_tungstenite::client_async(request, tcp)
        .await
        .map(|(s, _)| s)
}

async fn close_code_of(
    socket: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) -> Option<u16> {
    tokio::time::timeout(WAIT, async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(WsMessage::Close(frame)) => return frame.map(|f| u16::from(f.code)),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .expect("closed in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_answer_and_harms_no_one_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ServeConfig::for_tests(dir.path(), TlsMode::InsecureLoopback);
    config.max_frame = 1024 * 1024;
    let server = start_with(config).await;

    // No token, or a wrong one: 401 before the upgrade.
    for token in [None, Some("kt_not-a-real-token")] {
        match raw_socket(&server, token).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
            other => panic!("expected 401, got {:?}", other.map(|_| ())),
        }
    }

    // A working tablet keeps working throughout.
    let good = tablet(&server, "anna", "tablet-good");
    let case = random_id();
    good.create(case, new_case()).await.expect("created");
    wait_acknowledged(&good, case).await;

    let token = enroll(&server, "mallory").token;
    // A garbage frame: an error message, then a protocol-error close.
    let mut bad = raw_socket(&server, Some(&token)).await.expect("upgrade");
    bad.send(WsMessage::Binary(vec![0xff, 0x00, 0x13].into()))
        .await
        .expect("send");
    assert_eq!(close_code_of(&mut bad).await, Some(1002));

    // A text frame (the protocol is binary CBOR): closed with a protocol error.
    let mut bad = raw_socket(&server, Some(&token)).await.expect("upgrade");
    bad.send(WsMessage::Text("{\"type\":\"join\"}".into()))
        .await
        .expect("send");
    assert_eq!(close_code_of(&mut bad).await, Some(1002));

    // A frame over the limit: closed with "message too big".
    let mut bad = raw_socket(&server, Some(&token)).await.expect("upgrade");
    let _ = bad
        .send(WsMessage::Binary(vec![0u8; 2 * 1024 * 1024].into()))
        .await;
    let code = close_code_of(&mut bad).await;
    assert!(
        matches!(code, Some(1009) | None),
        "closed for size, got {code:?}"
    );

    append_note(&good, case, "still here").await;
    wait_acknowledged(&good, case).await;
    let metrics = reqwest_free_get(server.addr, "/metrics").await;
    assert!(
        metrics.contains("kooperacja_rejected_total{reason=\"malformed\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("reason=\"bad-token\""), "{metrics}");
    let _ = Duration::ZERO;
    server.shutdown().await.expect("clean shutdown");
}

/// A plain HTTP GET over TCP (the test needs no HTTP client crate for this).
async fn reqwest_free_get(addr: std::net::SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    tcp.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .expect("write");
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.expect("read");
    out
}

/// A short CBOR text (under 24 bytes).
fn cbor_text(s: &str) -> Vec<u8> {
    assert!(s.len() < 24);
    let mut out = vec![0x60 | s.len() as u8];
    out.extend_from_slice(s.as_bytes());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_client_that_names_no_protocol_version_is_accepted_as_version_one() {
    use kooperacja_test_support::raw_socket::{next_message, upgraded};
    use sync_core::wire::Message;
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let token = enroll(&server, "anna").token;
    let mut socket = upgraded(&server, &token).await;
    // An older automerge-repo client's join: no `supportedProtocolVersions` at all.
    let mut join = vec![0xa3];
    for part in ["type", "join", "senderId", "older-client", "peerMetadata"] {
        join.extend(cbor_text(part));
    }
    join.push(0xa0);
    socket
        .send(WsMessage::Binary(join.into()))
        .await
        .expect("send");
    let Message::Peer(answer) = next_message(&mut socket, "the server's answer", |m| {
        matches!(m, Message::Peer(_) | Message::Error { .. })
    })
    .await
    else {
        panic!("the join is refused")
    };
    assert_eq!(answer.selected_protocol_version, "1");
    assert_eq!(answer.target_id.as_str(), "older-client");
    server.shutdown().await.expect("shutdown");
}
