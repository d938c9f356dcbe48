//! Attachments (issue #18): Anna photographs the family's signed contract at the kitchen table
//! and the scan reaches the regional server over a connection that keeps dropping; the server
//! keeps it sealed under the case's key, serves it to those who may read the case and to no one
//! else, refuses what is not a scan or a photo, and forgets it when the case is erased.

use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use sync_core::DocumentId;

/// A loopback server with the region's people and a case of Anna's on it.
async fn region_with_case(
    config: ServeConfig,
) -> (RunningServer, client_sdk::SyncClient, DocumentId) {
    let server = start_with(config).await;
    provision_region(&server);
    provision_strangers(&server);
    let anna = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    anna.create(case, new_family_case("anna"))
        .await
        .expect("created");
    wait_acknowledged(&anna, case).await;
    (server, anna, case)
}

fn loopback(dir: &std::path::Path) -> ServeConfig {
    ServeConfig::for_tests(dir, TlsMode::InsecureLoopback)
}

/// Waits (within [`WAIT`]) until the audit log holds a record of `kind` about `case`: the
/// server has finished with a request the test's side cut off.
async fn wait_audited(server: &RunningServer, case: DocumentId, kind: &str) {
    tokio::time::timeout(WAIT, async {
        while !kinds(server, case).iter().any(|k| k == kind) {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {kind} audited in time"));
}

fn kinds(server: &RunningServer, case: DocumentId) -> Vec<String> {
    audit_of(server, case).into_iter().map(|r| r.kind).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_cut_off_at_random_points_resumes_to_the_verified_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut server, anna, case) = region_with_case(loopback(dir.path())).await;
    let token = enroll(&server, "anna").token;
    anna.set_online(false)
        .expect("the tablet's sync is not part of this story");
    // Five pieces and a bit: cuts fall inside pieces and across their edges.
    let scan = pdf_file(5 * 256 * 1024 + 12_345);
    let sha = sha256_hex(&scan);
    let mut cuts = 0;
    while cuts < 6 {
        let from = received(server.addr, &token, case, &sha).await as usize;
        let left = scan.len() - from;
        let send = 1 + rand::random_range(0..left / 2);
        assert!(
            put_range(server.addr, &token, case, &scan, from, send)
                .await
                .is_none(),
            "cut off"
        );
        cuts += 1;
        if cuts == 3 {
            // The server stops too, and comes back over the same data directory.
            server.shutdown().await.expect("shutdown");
            server = start_with(loopback(dir.path())).await;
        }
    }
    let done = upload_rest(server.addr, &token, case, &scan).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let status = done.json();
    assert_eq!(status["complete"], true);
    assert_eq!(status["mime"], "application/pdf");
    assert_eq!(status["received"].as_u64(), Some(scan.len() as u64));

    // Whole, and a range across a piece's edge.
    let path = attachment_path(case, &sha, "");
    let whole = get_binary(server.addr, &token, &path, None).await;
    assert_eq!(whole.status, 200);
    assert!(
        whole.body == scan,
        "the downloaded file is the uploaded one"
    );
    let range = get_binary(server.addr, &token, &path, Some("bytes=262000-262999")).await;
    assert_eq!(range.status, 206);
    assert!(range.body == scan[262_000..263_000]);
    let tail = get_binary(server.addr, &token, &path, Some("bytes=-100")).await;
    assert!(tail.body == scan[scan.len() - 100..]);

    // Sending it again changes nothing: the upload is idempotent.
    let again = put_range(server.addr, &token, case, &scan, 0, usize::MAX)
        .await
        .expect("answer");
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["complete"], true);

    let audit = kinds(&server, case);
    assert!(
        audit.iter().any(|k| k == "attachment_uploaded"),
        "{audit:?}"
    );
    assert!(
        audit.iter().any(|k| k == "attachment_upload_part"),
        "{audit:?}"
    );
    assert_eq!(
        audit
            .iter()
            .filter(|k| *k == "attachment_downloaded")
            .count(),
        3
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_or_foreign_file_is_refused_and_nothing_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = loopback(dir.path());
    config.max_attachment = 1024 * 1024;
    let (server, _anna, case) = region_with_case(config).await;
    let token = enroll(&server, "anna").token;

    // A bit flipped on the way: the bytes do not hash to the name.
    let scan = pdf_file(300_000);
    let sha = sha256_hex(&scan);
    let mut corrupted = scan.clone();
    corrupted[200_000] ^= 1;
    let answer = put_named(server.addr, &token, case, &sha, &corrupted, 0, usize::MAX)
        .await
        .expect("answer");
    assert_eq!(answer.status, 422, "{}", answer.text());
    assert!(answer.text().contains("SHA-256"), "{}", answer.text());
    assert_eq!(received(server.addr, &token, case, &sha).await, 0);
    let path = attachment_path(case, &sha, "");
    assert_eq!(
        get_binary(server.addr, &token, &path, None).await.status,
        404
    );

    // A spreadsheet is not a scan: refused by its first bytes, in Polish.
    let mut zip = pdf_file(5_000);
    zip[..4].copy_from_slice(b"PK\x03\x04");
    let answer = put_range(server.addr, &token, case, &zip, 0, usize::MAX)
        .await
        .expect("answer");
    assert_eq!(answer.status, 415);
    assert!(
        answer.text().contains("Nieobsługiwany rodzaj pliku"),
        "{}",
        answer.text()
    );
    assert_eq!(
        received(server.addr, &token, case, &sha256_hex(&zip)).await,
        0
    );

    // Over the limit (1 MiB here): refused before a byte is kept.
    let big = pdf_file(1024 * 1024 + 1);
    let answer = put_range(server.addr, &token, case, &big, 0, usize::MAX)
        .await
        .expect("answer");
    assert_eq!(answer.status, 413);
    assert!(answer.text().contains("za duży"), "{}", answer.text());

    // A range that would leave a gap is told where to resume.
    let answer = put_range(server.addr, &token, case, &scan, 1000, usize::MAX)
        .await
        .expect("answer");
    assert_eq!(answer.status, 409);
    assert!(answer.text().contains("od bajtu 0"), "{}", answer.text());

    let audit = kinds(&server, case);
    assert_eq!(
        audit.iter().filter(|k| *k == "attachment_refused").count(),
        4,
        "{audit:?}"
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_download_is_answered_like_an_unknown_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _anna, case) = region_with_case(loopback(dir.path())).await;
    let anna = enroll(&server, "anna").token;
    let photo = pdf_file(40_000);
    let sha = sha256_hex(&photo);
    let done = upload_rest(server.addr, &anna, case, &photo).await;
    assert_eq!(done.status, 200, "{}", done.text());

    // A worker of another gmina asks for the real file, the real file's status, and an
    // attachment that does not exist: the same answers.
    let obca = enroll(&server, "obca").token;
    let real = attachment_path(case, &sha, "");
    let made_up = attachment_path(case, &sha256_hex(b"nothing"), "");
    let other_case = attachment_path(random_id(), &sha, "");
    let answers = [
        get_binary(server.addr, &obca, &real, None).await,
        get_binary(server.addr, &obca, &made_up, None).await,
        get_binary(server.addr, &obca, &other_case, None).await,
        get_binary(server.addr, &anna, &made_up, None).await,
        get_binary(server.addr, &obca, &format!("{real}/status"), None).await,
    ];
    for answer in &answers {
        assert_eq!(answer.status, 404, "{}", answer.text());
        assert_eq!(answer.body, answers[0].body);
    }
    // Nor can she write into the case.
    let upload = put_range(server.addr, &obca, case, &pdf_file(100), 0, usize::MAX)
        .await
        .expect("answer");
    assert_eq!(upload.status, 404);
    assert_eq!(upload.body, answers[0].body);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_lies_sealed_on_the_servers_disk_and_is_served_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _anna, case) = region_with_case(loopback(dir.path())).await;
    let anna = enroll(&server, "anna").token;
    // A scan of four pieces whose every 4 KiB carry words of the family's contract in clear.
    const WORDS: &[u8] = b"Kontrakt socjalny rodziny Kowalskich, ul. Lipowa 7";
    let mut scan = pdf_file(3 * 256 * 1024 + 1000);
    for at in (64..scan.len() - WORDS.len()).step_by(4096) {
        scan[at..at + WORDS.len()].copy_from_slice(WORDS);
    }
    let done = upload_rest(server.addr, &anna, case, &scan).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let path = attachment_path(case, &sha256_hex(&scan), "");
    assert!(get_binary(server.addr, &anna, &path, None).await.body == scan);
    server.shutdown().await.expect("shutdown");

    // Everything is on disk now: the blob's file is there, and no byte of the scan in clear
    // anywhere under the data directory (its pieces are sealed under the case's key).
    let blob_files = files_under(&dir.path().join("blobs"));
    assert_eq!(blob_files.len(), 1, "{blob_files:?}");
    assert!(bytes_under(&dir.path().join("blobs")) > scan.len() as u64);
    for needle in [WORDS, b"%PDF-1.7".as_slice()] {
        assert_eq!(
            files_containing_bytes(dir.path(), needle),
            Vec::<std::path::PathBuf>::new(),
            "{:?} in clear",
            String::from_utf8_lossy(needle)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_case_leaves_no_attachment_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _anna, case) = region_with_case(loopback(dir.path())).await;
    let anna = enroll(&server, "anna").token;
    let scan = pdf_file(700_000);
    let done = upload_rest(server.addr, &anna, case, &scan).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let half = pdf_file(600_000);
    assert!(put_range(server.addr, &anna, case, &half, 0, 300_000)
        .await
        .is_none());
    wait_audited(&server, case, "attachment_upload_part").await;
    assert!(!server
        .state
        .blobs
        .backend()
        .all_meta()
        .expect("list")
        .is_empty());

    let admin = admin_token(&server, "admin1");
    erase_via_api(&server, &admin, case).await;
    assert!(server
        .state
        .blobs
        .backend()
        .all_meta()
        .expect("list")
        .is_empty());
    let files = server
        .state
        .blobs
        .backend()
        .files()
        .expect("the embedded store's files");
    assert!(files.all().expect("listed").is_empty(), "no blob file left");
    assert!(
        !files.dir().join(case.to_string()).exists(),
        "the case's folder of blob files is gone"
    );
    let path = attachment_path(case, &sha256_hex(&scan), "");
    assert_eq!(
        get_binary(server.addr, &anna, &path, None).await.status,
        404
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_no_case_names_is_collected_after_the_grace_period() {
    use sync_core::model::case::{attach_file, Attachment, AttachmentKind};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = loopback(dir.path());
    config.attachment_grace = std::time::Duration::ZERO;
    let (server, anna, case) = region_with_case(config).await;
    let token = enroll(&server, "anna").token;
    let contract = pdf_file(90_000);
    let abandoned = pdf_file(80_000);
    for file in [&contract, &abandoned] {
        let done = upload_rest(server.addr, &token, case, file).await;
        assert_eq!(done.status, 200, "{}", done.text());
    }
    // The case names the contract's scan; the other file was never attached.
    let entry = Attachment {
        sha256: sha256_hex(&contract),
        mime: "application/pdf".into(),
        size: contract.len() as u64,
        kind: AttachmentKind::SignedContract,
        link: None,
        caption: "Kontrakt".into(),
    };
    anna.change(case, move |doc| {
        let by = case_story::editor("anna", "gops");
        attach_file(doc, "skan-1", &entry, &by, chrono::Utc::now())
    })
    .await
    .expect("changed")
    .expect("attached");
    wait_acknowledged(&anna, case).await;

    let admin = admin_token(&server, "admin1");
    let (status, body) = http_post(
        server.addr,
        "/api/v1/admin/attachments/collect",
        Some(&admin),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let collected: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(collected["removed"], 1, "{body}");
    let kept = attachment_path(case, &sha256_hex(&contract), "");
    assert!(get_binary(server.addr, &token, &kept, None).await.body == contract);
    let gone = attachment_path(case, &sha256_hex(&abandoned), "");
    assert_eq!(
        get_binary(server.addr, &token, &gone, None).await.status,
        404
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_backup_serves_the_attachments_it_was_taken_with() {
    use kooperacja_server::admin::{run, AdminCommand};
    let dir = tempfile::tempdir().expect("tempdir");
    let key = backup_key_file(&dir.path().join("operator"));
    let live = dir.path().join("live");
    let mut config = loopback(&live);
    config.backup_key_file = Some(key.clone());
    let secrets = config.secrets_dir.clone();
    let (server, anna, case) = region_with_case(config).await;
    let token = enroll(&server, "anna").token;
    let scan = pdf_file(600_000);
    let done = upload_rest(server.addr, &token, case, &scan).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let admin = enroll_admin(&server, "admin1");
    let file = online_backup(&server, &admin).await;
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");

    let restored = dir.path().join("restored");
    let command = AdminCommand::Restore {
        from: file,
        backup_key_file: Some(key),
    };
    run(&restored, &secrets, None, command).expect("restored");
    let mut config = loopback(&restored);
    config.secrets_dir = secrets;
    let server = start_with(config).await;
    let path = attachment_path(case, &sha256_hex(&scan), "");
    let answer = get_binary(server.addr, &token, &path, None).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.body == scan, "the scan came back with the backup");
    server.shutdown().await.expect("shutdown");
}

/// An attachment entry never leaves the case: an insider's tablet that deletes the entry of the
/// signed contract's scan below the model (so its file would be collected as an orphan) is
/// refused, and the server's copy still names the scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_entry_removed_from_a_case_is_refused() {
    use automerge::transaction::Transactable;
    use automerge::ReadDoc;
    use sync_core::model::case::{self, Attachment, AttachmentKind};
    use sync_core::model::editor::{self, Editor};

    let dir = tempfile::tempdir().expect("tempdir");
    let (server, anna, case) = region_with_case(loopback(dir.path())).await;
    let scan = Attachment {
        sha256: sha256_hex(&pdf_file(10_000)),
        mime: "application/pdf".to_owned(),
        size: 10_000,
        kind: AttachmentKind::SignedContract,
        link: None,
        caption: "Kontrakt".to_owned(),
    };
    let by = Editor::new("anna", "gops").expect("editor");
    let (entry, at) = (scan.clone(), chrono::Utc::now());
    anna.change(case, move |d| {
        case::attach_file(d, "a1", &entry, &by, at).expect("attached");
    })
    .await
    .expect("saved locally");
    wait_acknowledged(&anna, case).await;

    let mut events = anna.events();
    anna.change(case, |d| {
        let map = d
            .get(automerge::ROOT, "attachments")
            .expect("read")
            .map(|(_, m)| m)
            .expect("the attachments map");
        let by = Editor::new("anna", "gops").expect("editor");
        let mut tx = d.transaction();
        tx.delete(&map, "a1").expect("deleted");
        tx.commit_with(
            automerge::transaction::CommitOptions::default()
                .with_message(editor::message("attachments/a1: removed", &by)),
        );
    })
    .await
    .expect("saved locally");
    let reason = refusal_reason(&mut events).await;
    assert!(reason.contains("refusal.rule"), "{reason}");
    let held = stored_document(&server, case).expect("the server holds the case");
    let names = case::read_attachments(&held).expect("read");
    assert_eq!(
        names["a1"].attachment, scan,
        "the server still names the scan"
    );
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
}
