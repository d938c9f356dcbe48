//! Hostile peers against the real server, one row each: a slowloris WebSocket, an endless join
//! loop, a flood of document requests, a frame claiming a length of 1 GiB, deeply nested CBOR,
//! and an Automerge change with thousands of missing dependencies. Each gets a clear answer
//! (an `error` message and a close code with a reason) and limited resources, while a
//! well-behaved tablet keeps syncing through all of them.

use std::time::Duration;

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ROOT};
use futures::SinkExt;
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::raw_socket::{closed_with, join, joined, next_message, upgraded};
use kooperacja_test_support::*;
use sync_core::wire::{self, DocMessage, Message};
use sync_core::PeerId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

async fn hostile_server(dir: &std::path::Path) -> RunningServer {
    let mut config = ServeConfig::for_tests(dir, TlsMode::InsecureLoopback);
    config.max_frame = 1024 * 1024;
    config.ping_every = Duration::from_millis(200);
    config.idle_timeout = Duration::from_secs(1);
    start_with(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peers_get_clear_errors_and_limited_resources() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = hostile_server(dir.path()).await;
    let good = tablet(&server, "anna", "tablet-good");
    let case = random_id();
    good.create(case, new_case()).await.expect("created");
    wait_acknowledged(&good, case).await;
    let token = enroll(&server, "mallory").token;

    // 1. Slowloris: a frame trickled a byte at a time never completes; the idle timeout
    //    closes the socket and frees its slot.
    let mut slow = upgraded(&server, &token).await;
    let stream = slow.get_mut();
    // A masked binary frame header announcing 100 bytes, then the mask.
    stream
        .write_all(&[0x82, 0x80 | 100, 1, 2, 3, 4])
        .await
        .expect("header");
    let mut trickle = tokio::time::interval(Duration::from_millis(300));
    let closed = tokio::time::timeout(WAIT, async {
        let mut buf = [0u8; 64];
        loop {
            tokio::select! {
                _ = trickle.tick() => { let _ = stream.write_all(&[0x55]).await; }
                read = stream.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return None,
                    // The server's close frame: 0x88, length, then the code.
                    Ok(n) if n >= 4 && buf[0] == 0x88 => return Some(u16::from_be_bytes([buf[2], buf[3]])),
                    Ok(_) => {}
                },
            }
        }
    })
    .await
    .expect("the slowloris is cut off");
    assert_eq!(
        closed,
        Some(1001),
        "closed as gone away (no complete frame)"
    );
    still_works(&good, case, " 1").await;

    // 2. An endless join loop on one connection: the second join is a protocol error.
    let (mut looping, _) = joined(&server, &token, "mallory-1").await;
    for _ in 0..50 {
        if looping
            .send(WsMessage::Binary(join("mallory-1").into()))
            .await
            .is_err()
        {
            break;
        }
    }
    let (code, reason) = closed_with(&mut looping).await.expect("a close frame");
    assert_eq!(code, 1002, "{reason}");
    assert!(
        reason.contains("join"),
        "the reason names the join: {reason}"
    );
    //    And connecting, joining and leaving again and again leaves nothing behind.
    for round in 0..100 {
        let (mut s, _) = joined(&server, &token, &format!("mallory-loop-{round}")).await;
        s.close(None).await.expect("close");
    }
    still_works(&good, case, " 2").await;

    // 3. A flood of requests for documents that do not exist: each is answered unavailable,
    //    and none stays loaded.
    let (mut flood, server_peer) = joined(&server, &token, "mallory-flood").await;
    let empty = Automerge::new().generate_sync_message(&mut automerge::sync::State::new());
    let request_bytes = empty.map(|m| m.encode()).unwrap_or_default();
    const REQUESTS: usize = 3_000;
    let mut asked = std::collections::BTreeSet::new();
    for _ in 0..REQUESTS {
        let document = random_id();
        asked.insert(document);
        let frame = wire::encode(&Message::Request(DocMessage {
            sender_id: PeerId::new("mallory-flood").expect("peer id"),
            target_id: server_peer.clone(),
            document_id: document,
            data: request_bytes.clone(),
        }));
        flood
            .send(WsMessage::Binary(frame.into()))
            .await
            .expect("send");
    }
    let mut unavailable = 0;
    while unavailable < REQUESTS {
        let message = next_message(&mut flood, "doc-unavailable answers", |m| {
            matches!(m, Message::DocUnavailable { .. })
        })
        .await;
        if let Message::DocUnavailable { document_id, .. } = message {
            assert!(asked.contains(&document_id));
            unavailable += 1;
        }
    }
    let loaded = metric(&metrics_text(&server).await, "kooperacja_documents_loaded");
    assert!(
        loaded <= 1,
        "{loaded} documents stay loaded after the flood"
    );
    drop(flood);
    still_works(&good, case, " 3").await;

    // 4. A WebSocket frame claiming 1 GiB: refused from its header, nothing allocated.
    let before = resident_kib();
    let mut huge = upgraded(&server, &token).await;
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 30).to_be_bytes());
    header.extend_from_slice(&[9, 9, 9, 9, 0, 0, 0, 0]);
    huge.get_mut().write_all(&header).await.expect("header");
    let closed = closed_with(&mut huge).await;
    assert!(
        matches!(closed, Some((1009, _)) | None),
        "closed for size: {closed:?}"
    );
    //    And a small frame whose CBOR claims a 1 GiB byte string: malformed.
    let (mut claims, _) = joined(&server, &token, "mallory-cbor").await;
    let mut frame = vec![0xa1, 0x64];
    frame.extend_from_slice(b"data");
    frame.push(0x5a);
    frame.extend_from_slice(&(1u32 << 30).to_be_bytes());
    frame.extend_from_slice(b"only this");
    claims
        .send(WsMessage::Binary(frame.into()))
        .await
        .expect("send");
    let (code, reason) = closed_with(&mut claims).await.expect("a close frame");
    assert_eq!(code, 1002, "{reason}");
    let grown = resident_kib().saturating_sub(before);
    assert!(grown < 256 * 1024, "the server grew by {grown} KiB");
    still_works(&good, case, " 4").await;

    // 5. CBOR nested 100,000 deep: refused without recursing that deep.
    let (mut deep, _) = joined(&server, &token, "mallory-deep").await;
    let mut frame = vec![0x81; 100_000];
    frame.push(0x00);
    deep.send(WsMessage::Binary(frame.into()))
        .await
        .expect("send");
    let (code, reason) = closed_with(&mut deep).await.expect("a close frame");
    assert_eq!(code, 1002, "{reason}");
    still_works(&good, case, " 5").await;

    // 6. A change that depends on 5,000 changes nobody has: refused with the count, nothing
    //    of it stored, the document as it was.
    let (mut orphan, server_peer) = joined(&server, &token, "mallory-deps").await;
    let target = random_id();
    let mut doc = Automerge::new();
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, "x", 1))
        .expect("change");
    let real = doc
        .get_changes(&[])
        .into_iter()
        .next()
        .expect("one change")
        .clone();
    let mut expanded = real.decode();
    expanded.deps = (0..5_000u32)
        .map(|i| {
            let mut hash = [0u8; 32];
            hash[..4].copy_from_slice(&i.to_be_bytes());
            hash[4] = 0xee;
            ChangeHash(hash)
        })
        .collect();
    let orphan_change = automerge::Change::from(expanded);
    let message = automerge::sync::Message {
        heads: vec![orphan_change.hash()],
        need: Vec::new(),
        have: Vec::new(),
        changes: vec![orphan_change.raw_bytes().to_vec()].into(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    let frame = wire::encode(&Message::Sync(DocMessage {
        sender_id: PeerId::new("mallory-deps").expect("peer id"),
        target_id: server_peer,
        document_id: target,
        data: message.encode(),
    }));
    orphan
        .send(WsMessage::Binary(frame.into()))
        .await
        .expect("send");
    let (code, reason) = closed_with(&mut orphan).await.expect("a close frame");
    assert_eq!(code, 1008, "a policy violation: {reason}");
    assert!(reason.contains("depend"), "the reason says why: {reason}");
    assert_eq!(
        server.state.storage.load_now(target).expect("load"),
        None,
        "nothing of the orphan change is stored"
    );
    still_works(&good, case, " 6").await;

    good.shutdown().await;
    server.shutdown().await.expect("shutdown");
}
