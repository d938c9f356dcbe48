//! A server in this process on 127.0.0.1:0 with a temporary data directory (TLS with a
//! development certificate, or plain loopback), and what tests do to it as an administrator
//! would: users and enrolled devices, revocation, the PZK region, its audit trail and metrics,
//! plain HTTP requests.

use std::path::Path;

use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::hub::Command;
use kooperacja_server::identity::Role;
use kooperacja_server::serve::{self, RunningServer};
use tokio::sync::oneshot;

use crate::WAIT;

/// A TLS server (development certificate) over `dir`.
pub async fn start_server(dir: &Path) -> RunningServer {
    start_with(ServeConfig::for_tests(dir, TlsMode::Dev)).await
}

/// A plain-HTTP server on loopback (`TlsMode::InsecureLoopback`) over `dir`: what a proxy that
/// reads WebSocket frames can stand in front of.
pub async fn start_loopback_server(dir: &Path) -> RunningServer {
    start_with(ServeConfig::for_tests(dir, TlsMode::InsecureLoopback)).await
}

/// A TLS server that refuses documents of no known type (as production does).
pub async fn start_typed_server(dir: &Path) -> RunningServer {
    let mut config = ServeConfig::for_tests(dir, TlsMode::Dev);
    config.allow_untyped = false;
    start_with(config).await
}

/// A server with these settings (logging to the test's output as `RUST_LOG` says).
pub async fn start_with(config: ServeConfig) -> RunningServer {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    serve::start(config).await.expect("server starts")
}

/// A device enrolled on the server.
#[derive(Clone, Debug)]
pub struct Device {
    /// The device's id in the directory.
    pub id: String,
    /// Its bearer token.
    pub token: String,
}

/// Adds a social worker (if new; the access registry then reloads the directory) and enrols a
/// device for them.
pub fn enroll(server: &RunningServer, login: &str) -> Device {
    let directory = &server.state.directory;
    if directory.user(login).expect("lookup").is_none() {
        directory
            .add_user(login, &format!("User {login}"), vec![Role::SocialWorker])
            .expect("user added");
        server
            .state
            .registry
            .reload_directory()
            .expect("directory reloaded");
    }
    let mut random = [0u8; 48];
    rand::fill(&mut random[..]);
    let enrolment = directory.enroll(login, random).expect("enrolled");
    Device {
        id: enrolment.device_id,
        token: enrolment.token,
    }
}

/// Revokes a device as the admin API does: in the directory, and its open connections.
pub async fn revoke(server: &RunningServer, device: &Device) {
    server
        .state
        .directory
        .revoke(&device.id)
        .expect("device revoked");
    let (ack, closed) = oneshot::channel();
    server
        .state
        .hub
        .send(Command::DropDevice(device.id.clone(), ack))
        .await;
    let _ = tokio::time::timeout(WAIT, closed).await;
}

/// The region: two PZK teams, their institutions and people.
pub fn provision_region(server: &RunningServer) {
    let d = &server.state.directory;
    for (id, sector) in [
        ("gops", "social"),
        ("szkola", "education"),
        ("policja", "police"),
        ("gops2", "social"),
    ] {
        d.add_institution(id, id, sector).expect("institution");
    }
    let people = [
        ("anna", Role::SocialWorker, Some("gops")),
        ("bartek", Role::SocialWorker, Some("gops")),
        ("szkola-rep", Role::PzkMember, Some("szkola")),
        ("policja-rep", Role::PzkMember, Some("policja")),
        ("inna", Role::PzkMember, Some("gops2")),
        ("koordynator", Role::Coordinator, None),
        ("animator1", Role::Animator, Some("gops")),
    ];
    for (login, role, institution) in people {
        d.add_user(login, login, vec![role]).expect("user");
        if let Some(i) = institution {
            d.set_institution(login, i).expect("institution");
        }
    }
    d.add_team("pzk1", "PZK Gminy Przykładowo", "animator1")
        .expect("team");
    for i in ["gops", "szkola", "policja"] {
        d.add_team_member("pzk1", i).expect("member");
    }
    d.add_team("pzk2", "PZK Gminy Inne", "animator1")
        .expect("team");
    d.add_team_member("pzk2", "gops2").expect("member");
    server.state.registry.reload_directory().expect("reload");
}

/// A token of a new administrator `login` (a device enrolled for them).
pub fn admin_token(server: &RunningServer, login: &str) -> String {
    let directory = &server.state.directory;
    directory
        .add_user(login, "Admin", vec![Role::Admin])
        .expect("admin");
    let mut random = [0u8; 48];
    rand::fill(&mut random[..]);
    directory.enroll(login, random).expect("enrol").token
}

/// Erases `doc` through the admin API (the answer comes once the erasure is durable).
pub async fn erase_via_api(server: &RunningServer, admin: &str, doc: sync_core::DocumentId) {
    let path = format!("/api/v1/admin/documents/{doc}/erase");
    let (status, body) = http_post(server.addr, &path, Some(admin), "").await;
    assert_eq!(status, 200, "erase answered {body}");
}

/// The records of the server's audit trail about `doc`.
pub fn audit_of(
    server: &RunningServer,
    doc: sync_core::DocumentId,
) -> Vec<kooperacja_server::audit::AuditRecord> {
    server
        .state
        .registry
        .audit()
        .query(&kooperacja_server::audit::AuditQuery {
            document: Some(doc.to_string()),
            ..Default::default()
        })
        .expect("query")
}

/// A plain HTTP/1.1 POST of a JSON `body` (servers started with `TlsMode::InsecureLoopback`),
/// with a bearer token when given: the answer's status and body.
pub async fn http_post(
    addr: std::net::SocketAddr,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    tcp.read_to_string(&mut out).await.expect("read");
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    (status, body)
}

/// `GET /metrics` over plain HTTP (servers started with `TlsMode::InsecureLoopback`).
pub async fn metrics_text(server: &RunningServer) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("tcp");
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut body = String::new();
    tcp.read_to_string(&mut body).await.expect("read");
    body
}

/// The value of one metric line (`name` with its labels, as printed).
pub fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
