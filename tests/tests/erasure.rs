//! Erasure of a case (GDPR art. 17): its history leaves the server's store, its id can never be
//! used again, the devices following it are told it is gone, and the audit log keeps only that
//! an erasure happened.

use client_sdk::ClientEvent;
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::identity::Role;
use kooperacja_test_support::*;

async fn post(addr: std::net::SocketAddr, path: &str, token: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.expect("read");
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (
        status,
        out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_case_leaves_the_server_for_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_with(ServeConfig::for_tests(
        dir.path(),
        TlsMode::InsecureLoopback,
    ))
    .await;
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

    let (status, body) = post(
        server.addr,
        &format!("/api/v1/admin/documents/{case}/erase"),
        &admin,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Gone from the store (the answer comes once the removal is durable).
    assert_eq!(server.state.storage.load_now(case).expect("load"), None);
    // The tablet that followed it is told it is unavailable.
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
    .expect("told in time");

    // The tablet still holds its copy and edits it: the server takes nothing back.
    let mut events = owner.events();
    append_note(&owner, case, " Jeszcze raz.").await;
    owner.set_online(false).expect("offline");
    owner.set_online(true).expect("online");
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
    .expect("refused again");
    assert_eq!(
        server.state.storage.load_now(case).expect("load"),
        None,
        "nothing re-uploaded"
    );
    assert!(server.state.registry.visible_to("anna").is_empty());

    // The audit log says an erasure happened, and still verifies.
    let audit = server.state.registry.audit();
    let records = audit
        .query(&kooperacja_server::audit::AuditQuery {
            document: Some(case.to_string()),
            ..Default::default()
        })
        .expect("query");
    assert!(records
        .iter()
        .any(|r| r.kind == "erase" && r.user.as_deref() == Some("admin1")));
    assert!(audit.verify().expect("chain") > 0);
    server.shutdown().await.expect("shutdown");
}
