//! Attacks on erasure and on the store at rest (#16, class 8), from the side of someone who
//! reads the server's data directory: a thief of the disk, an operator's stray copy, a process
//! that can read the files. Before an erasure they find no case's text (chunks are sealed under
//! per-document keys); after an erasure and a restart, not even the case's wrapped key is left
//! in any file, so the master key opens nothing of it. A well-behaved worker's other case keeps
//! syncing and survives the restart. An unencrypted store of an older version upgrades.

use std::path::Path;

use automerge::Automerge;
use client_sdk::SyncClient;
use kooperacja_server::admin::{self, AdminCommand};
use kooperacja_server::at_rest::{SealedStore, KEYS_TREE};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::secrets::Secrets;
use kooperacja_server::serve::{self, RunningServer};
use kooperacja_server::store::{store_path, DocStore};
use kooperacja_test_support::*;
use sync_core::storage::{ChunkKey, SledStorage, WriteOp};
use sync_core::DocumentId;

/// The erased case's text: a name, an address and a diagnosis, as a case file holds them.
const ERASED: &str = "Zofia Wrzosek, ul. Makowa 17, depresja poporodowa";
/// The other case's text, which must survive.
const KEPT: &str = "Jan Brzoza, wizyta domowa u rodziny";
/// What the well-behaved worker adds while the attacker works.
const LATER: &str = " Kolejna wizyta umowiona.";

/// The `notes` of `doc` as the server holds it (through its keys).
fn stored_notes(server: &RunningServer, doc: DocumentId) -> Option<String> {
    let stored = server.state.storage.load_now(doc).expect("load")?;
    Some(notes(
        &Automerge::load(&stored.concatenated()).expect("loads"),
    ))
}

/// `client` creates a case holding `text` and waits for the server's acknowledgement.
async fn case_with(client: &SyncClient, text: &'static str) -> DocumentId {
    let id = random_id();
    client.create(id, new_case()).await.expect("created");
    append_note(client, id, text).await;
    wait_acknowledged(client, id).await;
    id
}

/// The wrapped key of `doc` in the server's key tree.
fn wrapped_key(server: &RunningServer, doc: DocumentId) -> Option<Vec<u8>> {
    let tree = server.state.kv.open_tree(KEYS_TREE).expect("tree");
    tree.get(doc.as_bytes()).expect("get")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thief_of_the_data_directory_reads_no_case_and_nothing_of_an_erased_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = start_loopback_server(&data).await;
    let admin = admin_token(&server, "admin1");
    let anna = tablet(&server, "anna", "tablet-anna");
    let erased = case_with(&anna, ERASED).await;
    let bartek = tablet(&server, "bartek", "tablet-bartek");
    let kept = case_with(&bartek, KEPT).await;
    server.state.storage.make_durable().expect("durable");

    // The thief greps the data directory: both cases are stored, neither is readable.
    assert_eq!(stored_notes(&server, erased).as_deref(), Some(ERASED));
    assert!(
        files_containing(&data, ERASED).is_empty(),
        "plaintext at rest"
    );
    assert!(
        files_containing(&data, KEPT).is_empty(),
        "plaintext at rest"
    );
    let key = wrapped_key(&server, erased).expect("the case has a key");

    // The case is erased while Bartek keeps working on his.
    erase_via_api(&server, &admin, erased).await;
    append_note(&bartek, kept, LATER).await;
    wait_acknowledged(&bartek, kept).await;
    assert_eq!(wrapped_key(&server, erased), None, "key destroyed");
    server.shutdown().await.expect("shutdown");

    // After a restart the thief has the whole directory (the master key too: in tests it
    // lies inside it): the case's key is in no file, so no chunk of it can ever be opened.
    let server = start_loopback_server(&data).await;
    assert!(
        files_containing_bytes(&data, &key).is_empty(),
        "the erased case's wrapped key is still on disk"
    );
    assert!(files_containing(&data, ERASED).is_empty());
    assert_eq!(wrapped_key(&server, erased), None);
    assert!(!server
        .state
        .storage
        .keys()
        .has_key(erased)
        .await
        .expect("keys"));
    assert_eq!(
        server.state.storage.inner().load_now(erased).expect("load"),
        None
    );

    // Bartek's case survived, and his new tablet syncs it.
    let expected = format!("{KEPT}{LATER}");
    assert_eq!(stored_notes(&server, kept), Some(expected.clone()));
    let second = tablet(&server, "bartek", "tablet-bartek-2");
    second.find(kept).expect("find");
    second
        .wait_until("Bartek's case arrives", WAIT, || {
            let expected = expected.clone();
            let read = second.read(kept, |d| d.map(notes));
            async move { Ok(read.await?.as_deref() == Some(expected.as_str())) }
        })
        .await
        .expect("synced after the restart");
    assert!(files_containing(&data, KEPT).is_empty());
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_data_directory_does_not_start_with_another_master_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let server = start_loopback_server(&data).await;
    let anna = tablet(&server, "anna", "tablet-anna");
    let case = case_with(&anna, KEPT).await;
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");

    // The thief starts a server on the stolen directory with secrets of his own.
    let mut stolen = ServeConfig::for_tests(&data, TlsMode::InsecureLoopback);
    stolen.secrets_dir = dir.path().join("thief-secrets");
    let refused = serve::start(stolen).await.expect_err("refused");
    assert!(refused.to_string().contains("master key"), "{refused}");

    // The region's own server still serves the case.
    let server = start_loopback_server(&data).await;
    assert_eq!(stored_notes(&server, case).as_deref(), Some(KEPT));
    server.shutdown().await.expect("shutdown");
}

/// A chunk of a case holding `text`, as an older server stored it (plaintext).
fn legacy_chunk(text: &str) -> (ChunkKey, Vec<u8>) {
    use automerge::transaction::Transactable;
    use automerge::{ReadDoc, ROOT};
    let mut doc = new_case();
    let (_, id) = doc.get(ROOT, "notes").expect("get").expect("notes");
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.splice_text(&id, 0, 0, text))
        .expect("note");
    let bytes = doc.save();
    (ChunkKey::snapshot(&doc.get_heads()), bytes)
}

/// The `notes` of `doc` in the (closed) sled store of `data`, opened with `secrets`' master key.
fn notes_at_rest(data: &Path, secrets: &Path, doc: DocumentId) -> String {
    let master = Secrets::open_or_create(secrets).expect("secrets").master;
    let raw = DocStore::Sled(SledStorage::open(store_path(data)).expect("store"));
    let store = SealedStore::open(raw, &master).expect("sealed");
    let stored = store.load_now(doc).expect("load").expect("stored");
    notes(&Automerge::load(&stored.concatenated()).expect("load"))
}

fn upgrade(data: &Path, secrets: &Path) -> serde_json::Value {
    let out = admin::run(data, secrets, None, AdminCommand::EncryptAtRest).expect("upgraded");
    serde_json::from_str(&out).expect("json")
}

#[test]
fn a_store_written_before_encryption_at_rest_is_read_then_sealed_by_the_one_time_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (data, secrets) = (dir.path().join("data"), dir.path().join("secrets"));
    let case = random_id();
    {
        let old = SledStorage::open(store_path(&data)).expect("store");
        let (key, bytes) = legacy_chunk(ERASED);
        old.write_now(vec![WriteOp::Put {
            document: case,
            key,
            bytes,
        }])
        .expect("written");
    }
    assert!(
        !files_containing(&data, ERASED).is_empty(),
        "an older store holds plaintext (the search sees it)"
    );

    // The new version reads it as it is (lazy upgrade: no chunk is lost or refused).
    assert_eq!(notes_at_rest(&data, &secrets, case), ERASED);

    let report = upgrade(&data, &secrets);
    assert_eq!(report["sealed_chunks"], 1, "{report}");
    assert_eq!(upgrade(&data, &secrets)["sealed_chunks"], 0, "idempotent");
    assert!(
        files_containing(&data, ERASED).is_empty(),
        "plaintext left after the upgrade"
    );
    assert_eq!(notes_at_rest(&data, &secrets, case), ERASED);
}

/// A region on PostgreSQL: the same thief with the database's files or a `pg_dump`.
mod postgres {
    use kooperacja_server::pg::Pg;
    use kooperacja_test_support::pg_cluster::TestPostgres;

    use super::*;

    fn key_row(pg: &Pg, doc: DocumentId) -> Option<Vec<u8>> {
        let id = doc.to_string();
        pg.run(move |c| {
            c.query_opt(
                "SELECT wrapped FROM document_keys WHERE document = $1",
                &[&id],
            )?
            .map(|r| r.try_get(0))
            .transpose()
        })
        .expect("query")
    }

    /// What the thief searches in a dump: the text, and bytea's hex form of it.
    fn dump_holds(dump: &[u8], needle: &[u8]) -> bool {
        let hex = hex::encode(needle).into_bytes();
        [needle, hex.as_slice()]
            .iter()
            .any(|n| dump.windows(n.len()).any(|w| w == *n))
    }

    #[test]
    fn a_database_written_before_encryption_at_rest_is_sealed_by_the_one_time_command() {
        use sync_core::storage::Storage;
        let pg = TestPostgres::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Pg::connect(&pg.url, 1, "old-version").expect("connect");
        let case = random_id();
        let (key, bytes) = legacy_chunk(ERASED);
        futures::executor::block_on(
            kooperacja_server::pg::PgStorage::new(db.clone()).write(vec![WriteOp::Put {
                document: case,
                key,
                bytes,
            }]),
        )
        .expect("written");
        assert!(
            dump_holds(&pg.dump(), ERASED.as_bytes()),
            "plaintext before"
        );

        let out = admin::run(
            dir.path(),
            &pg.secrets_dir(),
            Some(&pg.url),
            AdminCommand::EncryptAtRest,
        )
        .expect("upgraded");
        assert!(out.contains(r#""sealed_chunks":1"#), "{out}");
        db.run(|c| c.batch_execute("CHECKPOINT"))
            .expect("checkpoint");
        assert!(
            !dump_holds(&pg.dump(), ERASED.as_bytes()),
            "plaintext after"
        );
        if let Some(files) = pg.data_files() {
            assert!(files_containing(&files.join("base"), ERASED).is_empty());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_database_reader_reads_no_case_and_an_erased_case_loses_its_key_row() {
        let pg = TestPostgres::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = ServeConfig::for_tests(dir.path(), TlsMode::InsecureLoopback);
        config.store = Some(pg.url.clone());
        config.secrets_dir = pg.secrets_dir().to_path_buf();
        let server = start_with(config).await;
        let thief = Pg::connect(&pg.url, 1, "thief").expect("connect");
        let admin = admin_token(&server, "admin1");
        let anna = tablet(&server, "anna", "tablet-anna");
        let erased = case_with(&anna, ERASED).await;
        let bartek = tablet(&server, "bartek", "tablet-bartek");
        let kept = case_with(&bartek, KEPT).await;
        thief
            .run(|c| c.batch_execute("CHECKPOINT"))
            .expect("checkpoint");

        // The thief dumps the database and reads its files: no case's text.
        assert_eq!(stored_notes(&server, erased).as_deref(), Some(ERASED));
        let dump = pg.dump();
        assert!(
            dump_holds(&dump, b"document_keys"),
            "the dump has the tables"
        );
        for text in [ERASED, KEPT] {
            assert!(!dump_holds(&dump, text.as_bytes()), "{text} in the dump");
            if let Some(files) = pg.data_files() {
                assert!(files_containing(&files, text).is_empty(), "{text} in files");
            }
        }
        let key = key_row(&thief, erased).expect("the case has a key row");
        if let Some(files) = pg.data_files() {
            let found = files_containing_bytes(&files.join("base"), &key);
            assert!(
                !found.is_empty(),
                "the search sees the key row before erasure"
            );
        }

        // Erased while Bartek keeps working.
        erase_via_api(&server, &admin, erased).await;
        append_note(&bartek, kept, LATER).await;
        wait_acknowledged(&bartek, kept).await;
        thief
            .run(|c| c.batch_execute("CHECKPOINT"))
            .expect("checkpoint");

        // The key row is gone, from the table and from its files (rewritten); a dump no longer
        // holds it either. (The write-ahead log is a backup: see README.)
        assert_eq!(key_row(&thief, erased), None);
        assert!(!dump_holds(&pg.dump(), &key), "the key is in a new dump");
        if let Some(files) = pg.data_files() {
            assert!(
                files_containing_bytes(&files.join("base"), &key).is_empty(),
                "the erased case's key is still in the database's files"
            );
        }
        assert_eq!(server.state.storage.load_now(erased).expect("load"), None);
        assert_eq!(stored_notes(&server, kept), Some(format!("{KEPT}{LATER}")));
        server.shutdown().await.expect("shutdown");
    }
}
