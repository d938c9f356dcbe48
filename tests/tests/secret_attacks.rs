//! Attacks on the server's secrets (issue #16, class 7), from the attacker's side: a stolen
//! backup file, a token forged or kept past its life, an enrolment code guessed, files read by
//! another account of the machine. Each ends in a refusal while a well-behaved user keeps
//! working.

use hmac::Mac;
use kooperacja_server::admin::{run, AdminCommand};
use kooperacja_server::identity::{Authenticated, ACCESS_TOKEN_SECONDS};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;

const CASE_TEXT: &str = "Notatka poufna: ojciec pije, matka boi się zgłosić przemoc.";
const LATER_TEXT: &str = "Wizyta po kradzieży kopii.";
/// 2100-01-01T00:00:00Z.
const YEAR_2100: i64 = 4_102_444_800;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What the attacker does with a candidate key: signs an admin token valid until 2100, in the
/// server's format (key 1, issued now) and in the format before key ids.
fn forged_with(candidate: &[u8], device: &str) -> [String; 2] {
    let sign = |payload: &str| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(candidate).expect("any length");
        mac.update(payload.as_bytes());
        format!("kat_{payload}.{}", hex::encode(mac.finalize().into_bytes()))
    };
    [
        sign(&format!("v2.1.{}.{YEAR_2100}.{device}", now())),
        sign(&format!("{device}.{YEAR_2100}")),
    ]
}

fn accepted(server: &RunningServer, token: &str) -> bool {
    matches!(
        server.state.directory.authenticate(token).expect("checked"),
        Authenticated::Device(..)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_backup_gives_neither_case_text_nor_a_signing_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let backup_key = backup_key_file(&dir.path().join("operator"));
    let live = dir.path().join("live");
    let server = start_backing_up_server(&live, &backup_key).await;
    let admin = enroll_admin(&server, "admin1");
    let office = tablet(&server, "anna", "tablet-anna");
    let case = random_id();
    office.create(case, new_case()).await.expect("created");
    append_note(&office, case, CASE_TEXT).await;
    wait_acknowledged(&office, case).await;
    let backup = online_backup(&server, &admin).await;

    // The attacker copies the backup file and greps it: no case text, no login.
    let stolen = dir.path().join("stolen.kbk");
    std::fs::copy(&backup, &stolen).expect("copied");
    let bytes = std::fs::read(&stolen).expect("read");
    assert!(
        !contains(&bytes, CASE_TEXT.as_bytes()),
        "case text in the backup"
    );
    assert!(!contains(&bytes, b"anna"), "a login in the backup");

    // He cannot restore it: not without a key, not with his own, not once he has changed it.
    let target = dir.path().join("thief");
    let thief_secrets = dir.path().join("thief-secrets");
    let restore = |key: Option<std::path::PathBuf>, from: &std::path::Path| {
        run(
            &target,
            &thief_secrets,
            None,
            AdminCommand::Restore {
                from: from.to_path_buf(),
                backup_key_file: key,
            },
        )
        .expect_err("refused")
        .to_string()
    };
    assert!(restore(None, &stolen).contains("--backup-key-file"));
    let his_key = backup_key_file(&dir.path().join("thief-keys"));
    assert!(restore(Some(his_key), &stolen).contains("does not open with this backup key"));
    let mut changed = bytes.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 0x01;
    let tampered = dir.path().join("tampered.kbk");
    std::fs::write(&tampered, &changed).expect("written");
    let refused = restore(Some(backup_key.clone()), &tampered);
    assert!(refused.contains("nothing was restored"), "{refused}");
    assert!(!target.exists(), "a refused restore wrote {target:?}");
    // Even with the backup key, the store does not open without the server's master key.
    let refused = restore(Some(backup_key.clone()), &stolen);
    assert!(refused.contains("--secrets-dir"), "{refused}");
    assert!(!target.join("store").exists());

    // An insider holding the backup key and the decrypted store looks for the signing key:
    // no 32 bytes anywhere in it sign a token the server accepts.
    let secrets = server.state.secrets.dir.clone();
    let opened = dir.path().join("opened");
    run(
        &opened,
        &secrets,
        None,
        AdminCommand::Restore {
            from: stolen,
            backup_key_file: Some(backup_key),
        },
    )
    .expect("restored by the operator");
    let store = sync_core::storage::SledStorage::open(opened.join("store")).expect("store");
    let mut candidates = 0;
    for name in store.db().tree_names() {
        let tree = store.db().open_tree(&name).expect("tree");
        for item in tree.iter() {
            let (_, value) = item.expect("entry");
            for window in value.windows(32) {
                candidates += 1;
                for forged in forged_with(window, &admin.id) {
                    assert!(
                        !accepted(&server, &forged),
                        "a key in the backup signs tokens"
                    );
                }
            }
        }
    }
    assert!(candidates > 0);

    // Meanwhile the social worker goes on working.
    append_note(&office, case, LATER_TEXT).await;
    wait_acknowledged(&office, case).await;
    let text = office.read(case, |d| d.map(notes)).await.expect("read");
    assert!(
        text.as_deref().is_some_and(|t| t.contains(LATER_TEXT)),
        "{text:?}"
    );
    office.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_claiming_2100_dies_with_its_issued_lifetime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let admin = enroll_admin(&server, "admin1");
    let directory = &server.state.directory;
    let until_2100 = |issued: i64| YEAR_2100 - issued;

    // Signed with the real key, issued an hour ago, claiming to live until 2100: refused.
    let issued = now() - 3600;
    let kept = access_token_at(&server, &admin, issued, until_2100(issued));
    assert_eq!(
        directory.authenticate(&kept).expect("checked"),
        Authenticated::Expired
    );
    let body = r#"{"login":"mallory","name":"Mallory","roles":["admin"]}"#;
    let (status, answer) = http_post(server.addr, "/api/v1/admin/users", Some(&kept), body).await;
    assert_eq!(status, 401, "{answer}");

    // Issued now with the same claim: good now, refused once the issued lifetime has passed.
    let t0 = now();
    let fresh = access_token_at(&server, &admin, t0, until_2100(t0));
    assert!(matches!(
        directory.authenticate_at(&fresh, t0).expect("checked"),
        Authenticated::Device(..)
    ));
    assert_eq!(
        directory
            .authenticate_at(&fresh, t0 + ACCESS_TOKEN_SECONDS + 1)
            .expect("checked"),
        Authenticated::Expired
    );
    // Issued "next year" so as to live longer: not a token this server gave.
    let ahead = access_token_at(&server, &admin, t0 + 365 * 86_400, ACCESS_TOKEN_SECONDS);
    assert_eq!(
        directory.authenticate(&ahead).expect("checked"),
        Authenticated::Unknown
    );
    // Guessed keys sign nothing.
    for forged in forged_with(&[0u8; 32], &admin.id) {
        assert!(!accepted(&server, &forged));
    }
    let (status, _) = http_post(server.addr, "/api/v1/admin/users", Some(&kept), body).await;
    assert_eq!(status, 401);
    assert!(directory.user("mallory").expect("lookup").is_none());

    // The admin's own fresh token from /api/v1/token works.
    let (status, answer) = http_post(server.addr, "/api/v1/token", Some(&admin.token), "").await;
    assert_eq!(status, 200, "{answer}");
    let issued: serde_json::Value = serde_json::from_str(&answer).expect("json");
    let access = issued["access_token"].as_str().expect("token");
    let body = r#"{"login":"beata","name":"Beata","roles":["social-worker"]}"#;
    let (status, answer) = http_post(server.addr, "/api/v1/admin/users", Some(access), body).await;
    assert_eq!(status, 200, "{answer}");
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_an_enrolment_code_is_stopped() {
    use kooperacja_server::enrolment::{CODE_FAILURES, LOOKUP, SOURCE_FAILURES};
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    let directory = &server.state.directory;
    directory
        .add_user(
            "anna",
            "Anna Kowalska",
            vec![kooperacja_server::identity::Role::SocialWorker],
        )
        .expect("user");
    let code = directory
        .enrolment_code("anna", [3, 1, 4, 1, 5, 9, 2, 6, 5, 3])
        .expect("code")
        .code;

    // The code is kept only as a salted slow hash.
    let stored = server.state.kv.open_tree("codes").expect("tree");
    let stored = stored.entries().expect("entries");
    assert!(stored.iter().all(|(_, v)| !contains(v, code.as_bytes())));
    assert!(stored.iter().any(|(_, v)| contains(v, b"$argon2id$")));

    // The attacker saw the code's start over a shoulder and guesses the rest.
    let addr = server.addr;
    let enrol = |code: String| async move {
        http_post(
            addr,
            "/api/v1/enroll",
            None,
            &format!("{{\"code\":\"{code}\"}}"),
        )
        .await
    };
    let mut guesses = (0..).map(|i: u32| {
        let tail = format!("{:0>6}", (i % 1_000_000).to_string()).replace(['0', '1'], "Z");
        format!("{}{tail}", &code[..LOOKUP])
    });
    let mut failures = 0;
    for _ in 0..CODE_FAILURES {
        let guess = guesses.find(|g| *g != code).expect("a guess");
        let (status, body) = enrol(guess).await;
        assert_eq!(status, 400, "{body}");
        failures += 1;
    }
    // The code is burned: the worker typing it is told so, in Polish.
    let (status, body) = enrol(code.clone()).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("zablokowany"), "{body}");
    failures += 1;

    // He goes on with random codes from his address until it is refused outright.
    let mut random_codes = (0..).map(|i: u32| format!("XYZ{:0>7}", i).replace(['0', '1'], "W"));
    while failures < SOURCE_FAILURES {
        let (status, _) = enrol(random_codes.next().expect("code")).await;
        assert_eq!(status, 400);
        failures += 1;
    }
    let fresh = directory
        .enrolment_code("anna", [9, 9, 8, 7, 6, 5, 4, 3, 2, 1])
        .expect("code")
        .code;
    let (status, body) = enrol(fresh.clone()).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("Zbyt wiele"), "{body}");

    // The worker's tablet, at another address, enrols with the new code.
    let mut random = [0u8; 48];
    rand::fill(&mut random[..]);
    let enrolled = directory
        .redeem(&fresh, "192.0.2.10", random)
        .expect("enrolled from another address");
    assert_eq!(enrolled.user, "anna");
    server.shutdown().await.expect("shutdown");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_the_server_writes_are_for_its_account_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let backup_key = backup_key_file(&dir.path().join("operator"));
    let data = dir.path().join("data");
    let mut config = kooperacja_server::config::ServeConfig::for_tests(
        &data,
        kooperacja_server::config::TlsMode::Dev,
    );
    config.backup_key_file = Some(backup_key.clone());
    let server = start_with(config).await;
    let secrets = server.state.secrets.dir.clone();
    server.shutdown().await.expect("shutdown");
    let out = dir.path().join("offline.kbk");
    run(
        &data,
        &secrets,
        None,
        AdminCommand::Backup {
            out: out.clone(),
            backup_key_file: Some(backup_key),
        },
    )
    .expect("backed up");

    // Another account of the machine can list nothing and read nothing.
    for private_dir in [&data, &data.join("tls"), &secrets] {
        assert_eq!(mode(private_dir), 0o700, "{}", private_dir.display());
    }
    for private_file in [
        data.join("node-id"),
        data.join("tls/dev-key.pem"),
        data.join("tls/dev-cert.pem"),
        out,
    ] {
        assert_eq!(mode(&private_file), 0o600, "{}", private_file.display());
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_online_backup_is_private_too() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let backup_key = backup_key_file(&dir.path().join("operator"));
    let server = start_backing_up_server(&dir.path().join("data"), &backup_key).await;
    let admin = enroll_admin(&server, "admin1");
    let file = online_backup(&server, &admin).await;
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().expect("backups")), 0o700);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_of_the_database_finds_no_signing_key() {
    use kooperacja_server::config::{ServeConfig, TlsMode};
    let pg = kooperacja_test_support::pg_cluster::TestPostgres::start();
    // The region's database from before keys were wrapped: the signing key in clear.
    let old_key = [0x5a_u8; 32];
    let url = pg.url.clone();
    tokio::task::spawn_blocking(move || {
        let store =
            kooperacja_server::store::DocStore::postgres(&url, "old-node", 2).expect("store");
        let meta = store.kv().open_tree("meta").expect("meta");
        meta.insert("token-secret", old_key).expect("old key");
    })
    .await
    .expect("written");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ServeConfig::for_tests(dir.path(), TlsMode::InsecureLoopback);
    config.store = Some(pg.url.clone());
    config.secrets_dir = pg.secrets_dir();
    let server = start_with(config).await;
    let admin = enroll_admin(&server, "admin1");

    // The attacker reads every row of the `kv` table and tries every 32 bytes as the key, and
    // the key he remembers from before the upgrade.
    let kv = server.state.kv.clone();
    let rows = tokio::task::spawn_blocking(move || {
        let mut rows = Vec::new();
        for name in kv.tree_names("").expect("trees") {
            rows.extend(kv.open_tree(&name).expect("tree").entries().expect("rows"));
        }
        rows
    })
    .await
    .expect("dumped");
    assert!(!rows.is_empty());
    for (_, value) in &rows {
        assert!(
            !contains(value, &old_key),
            "the old key is still in the database"
        );
        for window in value.windows(32) {
            for forged in forged_with(window, &admin.id) {
                assert!(
                    !accepted(&server, &forged),
                    "a key in the database signs tokens"
                );
            }
        }
    }
    for forged in forged_with(&old_key, &admin.id) {
        assert!(
            !accepted(&server, &forged),
            "the old key still signs tokens"
        );
    }

    // The admin's own token from /api/v1/token works.
    let (status, answer) = http_post(server.addr, "/api/v1/token", Some(&admin.token), "").await;
    assert_eq!(status, 200, "{answer}");
    let issued: serde_json::Value = serde_json::from_str(&answer).expect("json");
    assert!(accepted(
        &server,
        issued["access_token"].as_str().expect("token")
    ));
    server.shutdown().await.expect("shutdown");
}
