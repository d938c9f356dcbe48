//! The doors an attacker with a valid account (or none) tries, one test each (issue #16, classes
//! 5, 6 and 10): connections that never finish their headers, on plain HTTP and TLS; one
//! account opening more WebSockets than its caps; a revoked token sent over and over; an audit
//! log rewritten without the audit key; answers without security headers; `/metrics` read by
//! whoever reaches the port. Each shows the attacker's moves, the refusal, and a well-behaved
//! user still working meanwhile.

use std::time::Duration;

use kooperacja_server::admin::{self, AdminCommand};
use kooperacja_server::audit::{AuditQuery, AuditRecord};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server with a short header timeout (so the tests wait little), tuned by `tune`.
async fn door_server(
    dir: &std::path::Path,
    tls: TlsMode,
    tune: impl FnOnce(&mut ServeConfig),
) -> RunningServer {
    let mut config = ServeConfig::for_tests(dir, tls);
    config.header_timeout = Duration::from_secs(1);
    tune(&mut config);
    start_with(config).await
}

/// Waits until the server closes `socket` (reading and dropping whatever it sends first).
async fn closed_by_server(socket: &mut TcpStream, what: &str) {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(WAIT, async {
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the server did not close {what}"));
}

/// The well-behaved user: a tablet of `login` gets a new document acknowledged.
async fn still_syncs(server: &RunningServer, login: &str) {
    let (client, _) = create_as(server, login, new_case()).await;
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_headers_on_plain_http_are_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = door_server(dir.path(), TlsMode::InsecureLoopback, |_| {}).await;

    // The attacker starts twenty requests and never finishes their headers, opens one socket
    // and says nothing, and keeps one finished request's connection open and idle.
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut socket = TcpStream::connect(server.addr).await.expect("tcp");
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: a")
            .await
            .expect("write");
        slow.push(socket);
    }
    slow.push(TcpStream::connect(server.addr).await.expect("tcp"));
    let mut idle = TcpStream::connect(server.addr).await.expect("tcp");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    slow.push(idle);

    // Meanwhile others are served.
    assert_eq!(http_get(server.addr, "/healthz", None).await.status, 200);
    still_syncs(&server, "anna").await;

    // Every one of the attacker's sockets is closed by the server.
    for (i, socket) in slow.iter_mut().enumerate() {
        closed_by_server(socket, &format!("slow socket {i}")).await;
    }
    assert_eq!(http_get(server.addr, "/healthz", None).await.status, 200);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_tls_handshakes_are_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = door_server(dir.path(), TlsMode::Dev, |_| {}).await;

    // The attacker opens TLS connections and never finishes the handshake: one silent, one
    // with the first bytes of a ClientHello.
    let mut silent = TcpStream::connect(server.addr).await.expect("tcp");
    let mut partial = TcpStream::connect(server.addr).await.expect("tcp");
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .expect("write");

    // Meanwhile a client with the pinned certificate is served.
    assert_eq!(https_get(&server, "/healthz", None).await.status, 200);
    still_syncs(&server, "anna").await;

    closed_by_server(&mut silent, "the silent TLS socket").await;
    closed_by_server(&mut partial, "the half-sent handshake").await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_pending_cap_are_closed_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = door_server(dir.path(), TlsMode::InsecureLoopback, |c| {
        c.max_pending_connections = 4;
        // Longer than the test's own steps, so the four stay pending while it checks.
        c.header_timeout = Duration::from_secs(3);
    })
    .await;

    // The attacker holds every pending slot with silent sockets, then opens one more.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(server.addr).await.expect("tcp"));
    }
    let mut extra = TcpStream::connect(server.addr).await.expect("tcp");
    closed_by_server(&mut extra, "the connection past the cap").await;
    assert!(
        metric(
            &server.state.metrics.render(),
            "kooperacja_rejected_total{reason=\"pending-connection-cap\"}"
        ) >= 1
    );

    // The held sockets time out, and the doors open again for everyone.
    for (i, socket) in held.iter_mut().enumerate() {
        closed_by_server(socket, &format!("held socket {i}")).await;
    }
    assert_eq!(http_get(server.addr, "/healthz", None).await.status, 200);
    still_syncs(&server, "anna").await;
    server.shutdown().await.expect("shutdown");
}

/// A WebSocket attempt of `device` refused with 429 and a message that says `why`.
async fn refused_with(server: &RunningServer, device: &Device, why: &str) {
    let (status, body) = websocket_attempt(server.addr, &device.token)
        .await
        .expect_err("past a cap");
    assert_eq!(status, 429, "{body}");
    assert!(body.contains(why), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_cannot_take_every_websocket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = door_server(dir.path(), TlsMode::InsecureLoopback, |c| {
        c.max_sockets_per_device = 2;
        c.max_sockets_per_user = 3;
    })
    .await;
    let first = enroll(&server, "mallory");
    let second = enroll(&server, "mallory");

    // Mallory opens sockets on one device until refused...
    let mut open = Vec::new();
    for _ in 0..2 {
        open.push(
            websocket_attempt(server.addr, &first.token)
                .await
                .expect("within the device's cap"),
        );
    }
    refused_with(&server, &first, "To urządzenie ma już otwartych 2 połączeń").await;

    // ...then on a second device until the account's cap.
    open.push(
        websocket_attempt(server.addr, &second.token)
            .await
            .expect("within the user's cap"),
    );
    refused_with(&server, &second, "To konto ma już otwartych 3 połączeń").await;

    // Another user still connects and syncs.
    still_syncs(&server, "anna").await;

    // A socket closed gives its slot back (once the server has seen it close).
    drop(open.pop());
    let again = tokio::time::timeout(WAIT, async {
        loop {
            match websocket_attempt(server.addr, &second.token).await {
                Ok(socket) => return socket,
                Err((429, _)) => continue,
                Err((status, body)) => panic!("{status}: {body}"),
            }
        }
    })
    .await
    .expect("the closed socket's slot comes back");
    open.push(again);
    drop(open);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_flood_leaves_a_bounded_audit_trail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = door_server(dir.path(), TlsMode::InsecureLoopback, |_| {}).await;
    let stolen = enroll(&server, "mallory");
    revoke(&server, &stolen).await;
    let audit = server.state.registry.audit();
    let before = audit.query(&AuditQuery::default()).expect("query").len();

    // The attacker sends the revoked token as plain GET /sync, over and over...
    for _ in 0..1000 {
        let answer = http_get(server.addr, "/sync", Some(&stolen.token)).await;
        assert_eq!(answer.status, 401);
        assert!(answer.body.contains("revoked"), "{}", answer.body);
    }
    // ...and as real WebSocket attempts.
    for _ in 0..50 {
        let (status, _) = websocket_attempt(server.addr, &stolen.token)
            .await
            .expect_err("a revoked device is refused");
        assert_eq!(status, 401);
    }
    // Meanwhile a well-behaved user syncs.
    still_syncs(&server, "anna").await;

    // The plain requests left no record; the WebSocket attempts one, counting the others later.
    let of_mallory = audit
        .query(&AuditQuery {
            user: Some("mallory".into()),
            ..AuditQuery::default()
        })
        .expect("query");
    let contacts: Vec<_> = of_mallory
        .iter()
        .filter(|r| r.kind == "revoked-contact")
        .collect();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(contacts[0].device.as_deref(), Some(stolen.id.as_str()));
    let after = audit.query(&AuditQuery::default()).expect("query").len();
    // Anna's session adds its own few records (login, read, change); nothing near 1,050.
    assert!(after - before < 20, "{before} -> {after}");
    assert!(audit.verify().expect("the chain holds") > 0);
    server.shutdown().await.expect("shutdown");
}

/// `admin audit --verify` on a stopped server's data directory, with its keys.
fn verify(dir: &std::path::Path) -> Result<String, kooperacja_server::ServerError> {
    admin::run(
        dir,
        &dir.join("secrets"),
        None,
        AdminCommand::Audit {
            user: None,
            document: None,
            since: None,
            until: None,
            verify: true,
        },
    )
}

/// The attacker's rewrite of the stored log: record `drop` removed, the rest renumbered and
/// re-chained, sealed with `key` (`None`: plain SHA-256).
fn rewrite_without(
    dir: &std::path::Path,
    drop: u64,
    key: Option<&kooperacja_server::secrets::Key>,
) {
    let path = kooperacja_server::store::store_path(dir);
    let store = kooperacja_server::store::open_store(None, &path, "attacker").expect("store");
    let tree = store.kv().open_tree("audit").expect("tree");
    let mut records: Vec<AuditRecord> = tree
        .values()
        .expect("values")
        .iter()
        .map(|v| serde_json::from_slice(v).expect("record"))
        .collect();
    records.retain(|r| r.seq != drop);
    let last = records.len() as u64;
    let mut prev = "0".repeat(64);
    for (seq, record) in records.iter_mut().enumerate() {
        record.seq = seq as u64;
        record.prev = prev;
        record.seal(key);
        prev = record.hash.clone();
        tree.insert(
            record.seq.to_be_bytes(),
            serde_json::to_vec(record).expect("json"),
        )
        .expect("insert");
    }
    let kooperacja_server::store::DocStore::Sled(sled) = &store else {
        unreachable!("a sled store")
    };
    let raw = sled.db().open_tree("audit").expect("tree");
    raw.remove(last.to_be_bytes()).expect("remove");
    store.make_durable().expect("durable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_log_rewritten_without_the_key_fails_verification() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = door_server(dir.path(), TlsMode::InsecureLoopback, |_| {}).await;
    still_syncs(&server, "anna").await;
    still_syncs(&server, "bartek").await;
    server.shutdown().await.expect("shutdown");

    // The legitimate log verifies.
    let out = verify(dir.path()).expect("the log verifies");
    assert!(out.contains(r#""verified":true"#), "{out}");

    // Someone with write access to the store (not to the keys) drops a record and re-chains
    // the rest with plain hashes...
    rewrite_without(dir.path(), 1, None);
    let err = verify(dir.path()).expect_err("a plain re-chain is found");
    assert!(
        err.to_string().contains("rewritten without the audit key"),
        "{err}"
    );

    // ...or with a key of their own.
    rewrite_without(
        dir.path(),
        1,
        Some(&kooperacja_server::secrets::Key::random()),
    );
    let err = verify(dir.path()).expect_err("a re-chain with another key is found");
    assert!(err.to_string().contains("was altered"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_answers_are_not_cached_nor_sniffed_and_hsts_needs_a_real_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = door_server(&dir.path().join("plain"), TlsMode::InsecureLoopback, |_| {}).await;
    let device = enroll(&plain, "anna");
    let me = http_get(plain.addr, "/api/v1/me", Some(&device.token)).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let refused = http_get(plain.addr, "/api/v1/me", None).await;
    assert_eq!(refused.status, 401);
    for answer in [&me, &refused] {
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("strict-transport-security"), None);
    }
    // The page keeps its own caching.
    let page = http_get(plain.addr, "/", None).await;
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    plain.shutdown().await.expect("shutdown");

    // A development certificate: no HSTS (a browser would pin the host to it for a year).
    let dev_dir = dir.path().join("dev");
    let dev = door_server(&dev_dir, TlsMode::Dev, |_| {}).await;
    let answer = https_get(&dev, "/healthz", None).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("strict-transport-security"), None);
    dev.shutdown().await.expect("shutdown");

    // The same certificate given as files, as a real one is: HSTS on every answer.
    let files = TlsMode::Files {
        cert: dev_dir.join("tls/dev-cert.pem"),
        key: dev_dir.join("tls/dev-key.pem"),
    };
    let real = door_server(&dir.path().join("real"), files, |_| {}).await;
    for path in ["/healthz", "/", "/api/v1/me"] {
        let answer = https_get(&real, path, None).await;
        assert_eq!(
            answer.header("strict-transport-security"),
            Some("max-age=31536000"),
            "{path}"
        );
    }
    real.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_the_token_or_a_listener_of_their_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = door_server(&dir.path().join("token"), TlsMode::InsecureLoopback, |c| {
        c.metrics_token = Some("scrape-me".into());
    })
    .await;
    // Without the token (even from loopback) or with another, refused.
    assert_eq!(http_get(server.addr, "/metrics", None).await.status, 401);
    assert_eq!(
        http_get(server.addr, "/metrics", Some("guess"))
            .await
            .status,
        401
    );
    let scraped = http_get(server.addr, "/metrics", Some("scrape-me")).await;
    assert_eq!(scraped.status, 200);
    assert!(scraped.body.contains("kooperacja_connections"));
    server.shutdown().await.expect("shutdown");

    // With a listener of its own, /metrics is there and not on the main port.
    let server = door_server(&dir.path().join("own"), TlsMode::InsecureLoopback, |c| {
        c.metrics_listen = Some("127.0.0.1:0".parse().expect("addr"));
    })
    .await;
    let own = server.metrics_addr.expect("the metrics listener");
    assert_eq!(http_get(server.addr, "/metrics", None).await.status, 404);
    let scraped = http_get(own, "/metrics", None).await;
    assert_eq!(scraped.status, 200);
    assert!(scraped.body.contains("kooperacja_connections"));
    assert_eq!(http_get(own, "/healthz", None).await.status, 404);
    still_syncs(&server, "anna").await;
    server.shutdown().await.expect("shutdown");
}
