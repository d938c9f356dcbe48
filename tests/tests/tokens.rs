//! Tablets enrol with a one-time code, and trade their device token for short-lived access
//! tokens; expired and revoked tokens get a clear refusal.

use client_sdk::{ClientConfig, ServerAddress, SyncClient, Trust};
use kooperacja_server::identity::Role;
use kooperacja_test_support::*;
use sync_core::storage::MemoryStorage;
use sync_core::PeerId;

fn client_with(
    server: &kooperacja_server::serve::RunningServer,
    token: &str,
    name: &str,
) -> SyncClient {
    let address = ServerAddress {
        url: format!("ws://{}/sync", server.addr),
        token: token.into(),
        trust: Trust::None,
    };
    SyncClient::start(
        ClientConfig::new(PeerId::new(name).expect("id"), Some(address)),
        MemoryStorage::new(),
    )
    .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tablet_enrols_once_with_a_code_then_uses_short_lived_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let directory = &server.state.directory;
    directory
        .add_user("anna", "Anna Kowalska", vec![Role::SocialWorker])
        .expect("user");
    let code = directory
        .enrolment_code("anna", [7, 1, 2, 3, 4, 5, 6, 9, 11, 200])
        .expect("code")
        .code;

    // The tablet redeems the code (typed by the worker; case does not matter).
    let (status, body) = http_post(
        server.addr,
        "/api/v1/enroll",
        None,
        &format!("{{\"code\":\"{}\"}}", code.to_lowercase()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let enrolled: serde_json::Value = serde_json::from_str(&body).expect("json");
    let device_token = enrolled["token"].as_str().expect("token").to_string();
    assert_eq!(enrolled["user"], "anna");

    // A code works once.
    let (status, body) = http_post(
        server.addr,
        "/api/v1/enroll",
        None,
        &format!("{{\"code\":\"{code}\"}}"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("enrolment code"), "{body}");

    // The device token buys a short-lived access token, which works on /sync.
    let (status, body) = http_post(server.addr, "/api/v1/token", Some(&device_token), "").await;
    assert_eq!(status, 200, "{body}");
    let issued: serde_json::Value = serde_json::from_str(&body).expect("json");
    let access = issued["access_token"]
        .as_str()
        .expect("access token")
        .to_string();
    assert!(access.starts_with("kat_"));
    assert_eq!(issued["expires_in"], 900);
    let tablet = client_with(&server, &access, "tablet-access");
    let case = random_id();
    tablet.create(case, new_case()).await.expect("created");
    wait_acknowledged(&tablet, case).await;
    tablet.shutdown().await;

    // An access token does not buy another one; a forged one is unknown.
    let (status, _) = http_post(server.addr, "/api/v1/token", Some(&access), "").await;
    assert_eq!(status, 401);
    let mut forged = access.clone();
    forged.replace_range(forged.len() - 2.., "00");
    assert!(matches!(
        directory.authenticate(&forged).expect("checked"),
        kooperacja_server::identity::Authenticated::Unknown
    ));

    // An expired access token is refused with a clear reason.
    let expired = directory
        .access_token(&device_token, -1)
        .expect("issued")
        .expect("a device token")
        .access_token;
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(format!(
            "ws://{}/sync",
            server.addr
        ))
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {expired}").parse().expect("header"),
    );
    let tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("tcp");
    match tokio_tungstenite::client_async(request, tcp).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), 401);
            let body = String::from_utf8_lossy(r.body().as_deref().unwrap_or_default()).to_string();
            assert!(body.contains("expired"), "{body}");
        }
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }

    // Revoking the device ends its access tokens too.
    let device = enrolled["device_id"].as_str().expect("device");
    directory.revoke(device).expect("revoke");
    assert!(matches!(
        directory.authenticate(&access).expect("checked"),
        kooperacja_server::identity::Authenticated::Revoked(_)
    ));
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_signing_key_keeps_live_tokens_working() {
    use kooperacja_server::identity::{Authenticated, ACCESS_TOKEN_SECONDS};
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let admin = enroll_admin(&server, "admin1");
    let anna = enroll(&server, "anna");
    let issue = |server: &kooperacja_server::serve::RunningServer| {
        access_token_at(
            server,
            &anna,
            chrono::Utc::now().timestamp(),
            ACCESS_TOKEN_SECONDS,
        )
    };
    let before = issue(&server);
    assert!(before.starts_with("kat_v2.1."), "{before}");

    // Only an admin rotates; the token signed before keeps working, new ones use key 2.
    let rotate = "/api/v1/admin/token-keys/rotate";
    let (status, _) = http_post(server.addr, rotate, Some(&anna.token), "").await;
    assert_eq!(status, 403);
    let (status, body) = http_post(server.addr, rotate, Some(&admin.token), "").await;
    assert_eq!(status, 200, "{body}");
    let rotation: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(rotation["key_id"], 2);
    assert_eq!(rotation["still_accepted"], serde_json::json!([1]));
    let authenticated = |server: &kooperacja_server::serve::RunningServer, token: &str| {
        matches!(
            server.state.directory.authenticate(token).expect("checked"),
            Authenticated::Device(..)
        )
    };
    assert!(authenticated(&server, &before));
    let after = issue(&server);
    assert!(after.starts_with("kat_v2.2."), "{after}");
    assert!(authenticated(&server, &after));
    let secrets = server.state.secrets.dir.clone();
    server.shutdown().await.expect("shutdown");

    // The admin command rotates on a stopped server; after a restart both keys still check.
    let out = kooperacja_server::admin::run(
        dir.path(),
        &secrets,
        None,
        kooperacja_server::admin::AdminCommand::Token {
            command: kooperacja_server::admin::TokenCommand::RotateKey,
        },
    )
    .expect("rotated");
    assert!(out.contains(r#""key_id":3"#), "{out}");
    let server = start_loopback_server(dir.path()).await;
    assert!(authenticated(&server, &before));
    assert!(authenticated(&server, &after));
    assert!(issue(&server).starts_with("kat_v2.3."));
    server.shutdown().await.expect("shutdown");
}
