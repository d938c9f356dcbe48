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

/// Revokes every device of `login` (as the admin API does: its live connections close at once).
pub async fn revoke_all(server: &RunningServer, login: &str) {
    let devices = server.state.directory.devices_of(login).expect("devices");
    assert!(!devices.is_empty(), "{login} has a device");
    for device in devices {
        let device = Device {
            id: device.device_id,
            token: String::new(),
        };
        revoke(server, &device).await;
    }
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

/// Beside [`provision_region`], people related to none of its cases: another gmina's PZK
/// (`pzk-obca`, of the institution `mops-obcy`) with its animator `animator-obcy`, and a social
/// worker of that institution, `obca`.
pub fn provision_strangers(server: &RunningServer) {
    let d = &server.state.directory;
    d.add_institution("mops-obcy", "mops-obcy", "social")
        .expect("institution");
    for (login, role) in [
        ("animator-obcy", Role::Animator),
        ("obca", Role::SocialWorker),
    ] {
        d.add_user(login, login, vec![role]).expect("user");
        d.set_institution(login, "mops-obcy").expect("institution");
    }
    d.add_team("pzk-obca", "PZK Gminy Obcej", "animator-obcy")
        .expect("team");
    d.add_team_member("pzk-obca", "mops-obcy").expect("member");
    server.state.registry.reload_directory().expect("reload");
}

/// `POST /api/v1/documents/{document}/{verb}` (`assign` or `unassign`) with a JSON `body`, as
/// the holder of `token` (servers started with `TlsMode::InsecureLoopback`): status and body.
pub async fn share(
    server: &RunningServer,
    token: &str,
    document: &str,
    verb: &str,
    body: &str,
) -> (u16, String) {
    let path = format!("/api/v1/documents/{document}/{verb}");
    http_post(server.addr, &path, Some(token), body).await
}

/// A token of a new administrator `login` (a device enrolled for them).
pub fn admin_token(server: &RunningServer, login: &str) -> String {
    enroll_admin(server, login).token
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

/// An HTTP answer.
#[derive(Clone, Debug)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// The header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl HttpAnswer {
    /// The value of header `name` (lower case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request (`Connection: close`) over `stream`, with a bearer token and a JSON
/// body when given, and its answer.
pub async fn http_exchange(
    mut stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> HttpAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    // A TLS peer may end without close_notify: what was read is the answer.
    let _ = stream.read_to_end(&mut out).await;
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((out.as_str(), ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {out:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    HttpAnswer {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A plain HTTP/1.1 GET (servers started with `TlsMode::InsecureLoopback`), with a bearer token
/// when given.
pub async fn http_get(addr: std::net::SocketAddr, path: &str, bearer: Option<&str>) -> HttpAnswer {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    http_exchange(tcp, "GET", path, bearer, "").await
}

/// A plain HTTP/1.1 POST of a JSON `body` (servers started with `TlsMode::InsecureLoopback`),
/// with a bearer token when given: the answer's status and body.
pub async fn http_post(
    addr: std::net::SocketAddr,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> (u16, String) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    let answer = http_exchange(tcp, "POST", path, bearer, body).await;
    (answer.status, answer.body)
}

/// A raw WebSocket to `/sync` with `token` (plain loopback servers), not yet joined; a refusal
/// as its status and body.
pub async fn websocket_attempt(
    addr: std::net::SocketAddr,
    token: &str,
) -> Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, (u16, String)> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Error;
    let mut request = format!("ws://{addr}/sync")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
    match tokio_tungstenite::client_async(request, tcp).await {
        Ok((socket, _)) => Ok(socket),
        Err(Error::Http(response)) => Err((
            response.status().as_u16(),
            response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
        )),
        Err(e) => panic!("the WebSocket handshake failed: {e}"),
    }
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

/// A backup key file in `dir` as an operator makes one (`openssl rand -hex 32`, mode `0600`).
pub fn backup_key_file(dir: &Path) -> std::path::PathBuf {
    kooperacja_server::secrets::create_private_dir(dir).expect("key folder");
    let path = dir.join(format!("backup-{}.key", rand::random::<u32>()));
    let key = kooperacja_server::secrets::Key::random();
    kooperacja_server::secrets::write_private_file(&path, key.to_hex().as_bytes())
        .expect("backup key written");
    path
}

/// A plain-loopback server over `dir` whose online backups are encrypted with `backup_key`.
pub async fn start_backing_up_server(dir: &Path, backup_key: &Path) -> RunningServer {
    let mut config = ServeConfig::for_tests(dir, TlsMode::InsecureLoopback);
    config.backup_key_file = Some(backup_key.to_path_buf());
    start_with(config).await
}

/// Adds an administrator (the access registry then reloads the directory) and enrols a device
/// for them.
pub fn enroll_admin(server: &RunningServer, login: &str) -> Device {
    let directory = &server.state.directory;
    if directory.user(login).expect("lookup").is_none() {
        directory
            .add_user(login, &format!("Admin {login}"), vec![Role::Admin])
            .expect("admin added");
        server
            .state
            .registry
            .reload_directory()
            .expect("directory reloaded");
    }
    enroll(server, login)
}

/// `POST /api/v1/admin/backup` as `admin`: the backup file the server wrote.
pub async fn online_backup(server: &RunningServer, admin: &Device) -> std::path::PathBuf {
    let (status, body) =
        http_post(server.addr, "/api/v1/admin/backup", Some(&admin.token), "").await;
    assert_eq!(status, 200, "{body}");
    let value: serde_json::Value = serde_json::from_str(&body).expect("json answer");
    std::path::PathBuf::from(value["backup"].as_str().expect("backup path"))
}

/// An access token for `device` as `POST /api/v1/token` issues one, issued at `issued` (Unix
/// seconds) claiming to live `ttl` seconds.
pub fn access_token_at(server: &RunningServer, device: &Device, issued: i64, ttl: i64) -> String {
    server
        .state
        .directory
        .access_token_at(&device.token, issued, ttl)
        .expect("issued")
        .expect("a device token")
        .access_token
}

/// This process's resident memory (`VmRSS`), in KiB; 0 where `/proc` does not tell. The
/// in-process server's share of it is what an attack on its memory grows.
pub fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// A node of the region on `pg`'s database over data directory `dir`, with the region's
/// secrets (every node of a region shares the keys: the master key unwraps what is in the
/// store, the audit chains are keyed with the one audit key).
pub async fn start_node(pg: &crate::pg_cluster::TestPostgres, dir: &Path) -> RunningServer {
    start_node_at(pg, &pg.url, dir).await
}

/// [`start_node`] with a connection string of its own (TLS parameters, another host).
pub async fn start_node_at(
    pg: &crate::pg_cluster::TestPostgres,
    url: &str,
    dir: &Path,
) -> RunningServer {
    let mut config = ServeConfig::for_tests(dir, TlsMode::InsecureLoopback);
    config.store = Some(url.to_string());
    config.secrets_dir = pg.secrets_dir();
    start_with(config).await
}

/// Waits until `/readyz` of a plain-HTTP server answers ready (`true`, 200) or not ready
/// (`false`, 503), asking again every 20 ms up to [`WAIT`]; returns the last answer's body.
pub async fn wait_readiness(server: &RunningServer, ready: bool) -> String {
    let want = if ready { 200 } else { 503 };
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut every = tokio::time::interval(std::time::Duration::from_millis(20));
    loop {
        every.tick().await;
        let answer = http_get(server.addr, "/readyz", None).await;
        if answer.status == want {
            return answer.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz still answers {} {:?}, not {want}",
            answer.status,
            answer.body
        );
    }
}

/// The document `id` as the server's store holds it now, if it holds it.
pub fn stored_document(
    server: &RunningServer,
    id: sync_core::DocumentId,
) -> Option<automerge::Automerge> {
    let stored = server
        .state
        .storage
        .load_now(id)
        .expect("the store answers")?;
    Some(sync_core::engine::load_stored(&stored).expect("a stored document loads"))
}
