//! An online backup of a running server, restored into a new data directory: every case, user,
//! device and audit record is there.

use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::identity::Role;
use kooperacja_test_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_restores_into_a_working_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let live = ServeConfig::for_tests(&dir.path().join("live"), TlsMode::InsecureLoopback);
    let server = start_with(live).await;
    server
        .state
        .directory
        .add_user("admin1", "Admin", vec![Role::Admin])
        .expect("admin");
    let mut random = [0u8; 48];
    rand::fill(&mut random[..]);
    let admin_token = server
        .state
        .directory
        .enroll("admin1", random)
        .expect("enrol")
        .token;
    let office = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    office.create(case, new_case()).await.expect("created");
    append_note(&office, case, "Przed kopią.").await;
    wait_acknowledged(&office, case).await;

    // The backup is taken while the server runs (and while the tablet is connected).
    let response = http_post(&server, "/api/v1/admin/backup", &admin_token).await;
    let value: serde_json::Value = serde_json::from_str(&response).expect("json answer");
    let file = std::path::PathBuf::from(value["backup"].as_str().expect("backup path"));
    assert!(value["entries"].as_u64().expect("entries") > 0);
    office.shutdown().await;
    server.shutdown().await.expect("shutdown");

    // Restore into a new data directory with the admin command, then serve from it, with the
    // region's secrets directory (its master key opens the backup's documents).
    let restored_dir = dir.path().join("restored");
    let secrets = dir.path().join("live").join("secrets");
    let out = kooperacja_server::admin::run(
        &restored_dir,
        &secrets,
        None,
        kooperacja_server::admin::AdminCommand::Restore { from: file },
    )
    .expect("restored");
    assert!(out.contains(r#""restored":true"#), "{out}");
    let mut restored = ServeConfig::for_tests(&restored_dir, TlsMode::Dev);
    restored.secrets_dir = secrets;
    let server = start_with(restored).await;
    let fresh = tablet(&server, "anna", "tablet-new");
    fresh.find(case).expect("find");
    fresh
        .wait_until("the case from the backup", WAIT, || async {
            Ok(fresh.read(case, |d| d.map(notes)).await?.as_deref() == Some("Przed kopią."))
        })
        .await
        .expect("the case is in the restored server");
    assert!(
        server
            .state
            .registry
            .audit()
            .verify()
            .expect("the audit chain holds")
            > 0
    );
    server.shutdown().await.expect("shutdown");
}

/// A plain HTTP POST on loopback; returns the body of a 200 answer.
async fn http_post(
    server: &kooperacja_server::serve::RunningServer,
    path: &str,
    token: &str,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("tcp");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    tcp.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text.split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}
