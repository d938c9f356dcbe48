//! An online backup of a running server, encrypted with the operator's backup key, restored
//! into a new data directory with that key and the server's secrets: every case, user, device
//! and audit record is there. Without a key there is no backup.

use kooperacja_server::admin::{run, AdminCommand};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;

/// Restores `backup` into `restored_dir` with the admin command, the backup key and the live
/// server's secrets, then serves from it.
async fn restore_and_serve(
    restored_dir: &std::path::Path,
    secrets: std::path::PathBuf,
    backup: std::path::PathBuf,
    key: std::path::PathBuf,
    tls: TlsMode,
) -> RunningServer {
    let out = run(
        restored_dir,
        &secrets,
        None,
        AdminCommand::Restore {
            from: backup,
            backup_key_file: Some(key),
        },
    )
    .expect("restored");
    assert!(out.contains(r#""restored":true"#), "{out}");
    let mut config = ServeConfig::for_tests(restored_dir, tls);
    config.secrets_dir = secrets;
    start_with(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_restores_into_a_working_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = backup_key_file(&dir.path().join("operator"));
    let live_dir = dir.path().join("live");
    let secrets = ServeConfig::for_tests(&live_dir, TlsMode::InsecureLoopback).secrets_dir;
    let server = start_backing_up_server(&live_dir, &key).await;
    let admin = enroll_admin(&server, "admin1");
    let office = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    office.create(case, new_case()).await.expect("created");
    append_note(&office, case, "Przed kopią.").await;
    wait_acknowledged(&office, case).await;

    // The backup is taken while the server runs (and while the tablet is connected).
    let file = online_backup(&server, &admin).await;
    office.shutdown().await;
    server.shutdown().await.expect("shutdown");

    // Restore into a new data directory with the admin command, the backup key and the
    // server's secrets, then serve from it.
    let restored_dir = dir.path().join("restored");
    let server = restore_and_serve(&restored_dir, secrets, file, key, TlsMode::Dev).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_backup_key_no_backup_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = start_loopback_server(&data).await;
    let admin = enroll_admin(&server, "admin1");
    let (status, body) =
        http_post(server.addr, "/api/v1/admin/backup", Some(&admin.token), "").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("--backup-key-file"), "{body}");
    assert!(!data.join("backups").exists());
    let secrets = server.state.secrets.dir.clone();
    server.shutdown().await.expect("shutdown");

    let out = dir.path().join("copy.kbk");
    let refused = run(
        &data,
        &secrets,
        None,
        AdminCommand::Backup {
            out: out.clone(),
            backup_key_file: None,
        },
    )
    .expect_err("no key, no backup");
    assert!(
        refused.to_string().contains("--backup-key-file"),
        "{refused}"
    );
    assert!(!out.exists());

    // With a key, the stopped server's directory is backed up and restores elsewhere.
    let key = backup_key_file(&dir.path().join("operator"));
    let written = run(
        &data,
        &secrets,
        None,
        AdminCommand::Backup {
            out: out.clone(),
            backup_key_file: Some(key.clone()),
        },
    )
    .expect("backed up");
    assert!(written.contains(r#""entries""#), "{written}");
    let restored = run(
        &dir.path().join("restored"),
        &secrets,
        None,
        AdminCommand::Restore {
            from: out,
            backup_key_file: Some(key),
        },
    )
    .expect("restored");
    assert!(restored.contains(r#""restored":true"#), "{restored}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_carries_the_attachments_and_the_restored_server_serves_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = backup_key_file(&dir.path().join("operator"));
    let live_dir = dir.path().join("live");
    let secrets = ServeConfig::for_tests(&live_dir, TlsMode::InsecureLoopback).secrets_dir;
    let server = start_backing_up_server(&live_dir, &key).await;
    provision_region(&server);
    let admin = enroll_admin(&server, "admin1");
    let anna = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    anna.create(case, new_family_case("anna"))
        .await
        .expect("created");
    wait_acknowledged(&anna, case).await;
    let token = enroll(&server, "anna").token;
    // Three pieces, the last one short.
    let scan = pdf_file(700_000);
    let sha = sha256_hex(&scan);
    let done = upload_rest(server.addr, &token, case, &scan).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let file_of = |data: &std::path::Path| data.join("blobs").join(case.to_string()).join(&sha);
    assert!(
        file_of(&live_dir).is_file(),
        "the scan is a file beside the store"
    );

    let file = online_backup(&server, &admin).await;
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
    let restored_dir = dir.path().join("restored");
    let server =
        restore_and_serve(&restored_dir, secrets, file, key, TlsMode::InsecureLoopback).await;
    assert!(
        file_of(&restored_dir).is_file(),
        "the restored scan is a file of its own again"
    );
    let token = enroll(&server, "anna").token;
    let path = attachment_path(case, &sha, "");
    let got = get_binary(server.addr, &token, &path, None).await;
    assert_eq!(got.status, 200, "{}", got.text());
    assert!(got.body == scan, "the restored scan is the uploaded one");
    server.shutdown().await.expect("shutdown");
}
