//! A tablet on its own: the encrypted store, typed edits, documents loaded on open, and
//! keystrokes coalesced into few changes. No server is involved.

use std::collections::BTreeMap;

use client_sdk::{SdkError, SyncState, Tablet, TabletKey, TextField};
use kooperacja_test_support::{
    config, create_referred_case, files_containing, goal_plan, referral, snapshot, type_keystrokes,
    WAIT,
};
use sync_core::model::case::{ContactMode, DiagnosisSector, GoalStatus, HouseholdMember};
use sync_core::storage::{SledStorage, Storage};
use sync_core::DocumentId;

const NAME: &str = "Kowalska";
const NOTE: &str = "Matka opowiedziala o dlugach czynszowych i o pracy w sklepie.";
const DIAGNOSIS: &str = "Dwa wilgotne pokoje, grzyb na scianach.";

async fn open(dir: &std::path::Path, key: &TabletKey) -> Tablet {
    Tablet::open(config(dir, key, "tablet-1", "anna"))
        .await
        .expect("tablet opens")
}

/// A case holding a name, a monitoring note and a diagnosis, written through the tablet.
async fn write_personal_case(tablet: &Tablet) -> DocumentId {
    let mut household = BTreeMap::new();
    household.insert(
        "p1".to_owned(),
        HouseholdMember {
            name: format!("Anna {NAME}"),
            relation: "self".into(),
            birth_date: None,
        },
    );
    let case = tablet
        .create_case(kooperacja_test_support::GOPS, referral(), household)
        .await
        .expect("case created");
    tablet
        .append_monitoring_note(case, ContactMode::HomeVisit, NOTE)
        .await
        .expect("note appended");
    tablet
        .set_diagnosis(case, DiagnosisSector::Housing, DIAGNOSIS)
        .await
        .expect("diagnosis written");
    case
}

#[tokio::test]
async fn the_store_holds_no_plaintext_while_an_unencrypted_one_would() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = TabletKey::random();
    let tablet = open(dir.path(), &key).await;
    let case = write_personal_case(&tablet).await;
    let content = tablet
        .client()
        .read(case, |d| d.map(automerge::Automerge::save))
        .await
        .expect("read")
        .expect("the case");
    tablet.shutdown().await;

    for needle in [NAME, NOTE, DIAGNOSIS] {
        assert_eq!(
            files_containing(dir.path(), needle),
            Vec::<std::path::PathBuf>::new(),
            "{needle:?} is on disk in clear"
        );
    }

    // The same document in a store without encryption shows every needle: the grep above
    // would have found them.
    let control = tempfile::tempdir().expect("temp dir");
    let plain = SledStorage::open(control.path()).expect("plain store");
    plain
        .write(vec![sync_core::storage::WriteOp::Put {
            document: case,
            key: sync_core::storage::ChunkKey::incremental(&content),
            bytes: content,
        }])
        .await
        .expect("written");
    drop(plain);
    for needle in [NAME, NOTE, DIAGNOSIS] {
        assert!(
            !files_containing(control.path(), needle).is_empty(),
            "{needle:?} should be visible in an unencrypted store"
        );
    }
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_changes_nothing_on_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = TabletKey::random();
    let tablet = open(dir.path(), &key).await;
    let case = write_personal_case(&tablet).await;
    tablet.shutdown().await;

    let before = snapshot(dir.path());
    let refused = Tablet::open(config(dir.path(), &TabletKey::random(), "tablet-1", "anna")).await;
    assert!(matches!(refused, Err(SdkError::WrongKey(_))), "{refused:?}");
    assert_eq!(snapshot(dir.path()), before, "a refused open changed files");

    let tablet = open(dir.path(), &key).await;
    let view = tablet.case(case).await.expect("the case reads back");
    assert_eq!(view.monitoring[0].note.text, NOTE);
    tablet.shutdown().await;
}

#[tokio::test]
async fn documents_on_the_device_are_loaded_on_open_and_every_edit_is_durable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = TabletKey::random();
    let tablet = open(dir.path(), &key).await;
    assert_eq!(tablet.status().borrow().state, SyncState::Offline);
    let case = write_personal_case(&tablet).await;
    tablet
        .upsert_goal(case, "g1", goal_plan())
        .await
        .expect("goal");
    tablet
        .set_goal_status(case, "g1", GoalStatus::InProgress)
        .await
        .expect("status");
    // Dropped without a shutdown: like an app killed right after the edits returned.
    drop(tablet);

    let tablet = open(dir.path(), &key).await;
    let documents = tablet.documents().await.expect("documents");
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].id, case);
    assert_eq!(
        documents[0].kind,
        Some(sync_core::model::DocumentKind::Case)
    );
    assert!(!documents[0].on_server);
    assert!(documents[0].pending_changes >= 5, "{documents:?}");
    let view = tablet.case(case).await.expect("case");
    assert_eq!(view.goals["g1"].status.value, GoalStatus::InProgress);
    assert_eq!(view.diagnosis[&DiagnosisSector::Housing], DIAGNOSIS);
    assert_eq!(view.household["p1"].name, format!("Anna {NAME}"));
    assert_eq!(view.owner, "anna");
    assert_eq!(
        tablet.status().borrow().pending_changes,
        documents[0].pending_changes
    );

    let err = tablet
        .set_goal_status(case, "g9", GoalStatus::Achieved)
        .await
        .expect_err("no such goal");
    assert!(matches!(err, SdkError::Schema(_)), "{err:?}");
    let unknown = DocumentId::from_bytes([7; 16]);
    let err = tablet.case(unknown).await.expect_err("not here");
    assert!(matches!(err, SdkError::UnknownDocument(_)), "{err:?}");
    tablet.shutdown().await;
}

#[tokio::test]
async fn a_pzk_document_is_created_and_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tablet = open(dir.path(), &TabletKey::random()).await;
    let pzk = tablet
        .create_pzk("PZK Gminy Przykładowo", "Porozumienie o współpracy.")
        .await
        .expect("created");
    let view = tablet.pzk(pzk).await.expect("read");
    assert_eq!(view.name, "PZK Gminy Przykładowo");
    assert_eq!(view.animator, "anna");
    tablet
        .edit(pzk, |doc, by, at| {
            sync_core::model::pzk::set_agreement_text(doc, "Porozumienie, wersja 2.", by, at)
        })
        .await
        .expect("edited");
    assert_eq!(
        tablet.pzk(pzk).await.expect("read").agreement.text,
        "Porozumienie, wersja 2."
    );
    let err = tablet.case(pzk).await.expect_err("not a case");
    assert!(matches!(err, SdkError::Schema(_)), "{err:?}");
    tablet.shutdown().await;
}

async fn change_count(tablet: &Tablet, document: DocumentId) -> usize {
    tablet
        .client()
        .read(document, |d| d.map(|d| d.get_changes_meta(&[]).len()))
        .await
        .expect("read")
        .expect("the document")
}

#[tokio::test]
async fn two_hundred_keystrokes_are_one_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tablet = open(dir.path(), &TabletKey::random()).await;
    let case = create_referred_case(&tablet).await;
    let before = change_count(&tablet, case).await;
    let session = tablet
        .edit_text(case, TextField::Diagnosis(DiagnosisSector::Housing))
        .await
        .expect("session");
    let typed: String = "Mieszkanie dwupokojowe. "
        .chars()
        .cycle()
        .take(200)
        .collect();
    type_keystrokes(&session, &typed);
    session.backspace(1).expect("backspace");
    assert_eq!(session.text().await.expect("view"), &typed[..199]);
    assert_eq!(
        change_count(&tablet, case).await,
        before,
        "nothing committed yet"
    );
    session.commit().await.expect("committed");
    assert_eq!(change_count(&tablet, case).await, before + 1);
    let view = tablet.case(case).await.expect("case");
    assert_eq!(view.diagnosis[&DiagnosisSector::Housing], &typed[..199]);

    // The commit follows the model's message convention: the history names the author.
    let entries = tablet
        .read(case, |doc| {
            Ok(sync_core::model::history::changes_between(
                doc,
                &[],
                &doc.get_heads(),
            )?)
        })
        .await
        .expect("history");
    let last = entries.last().expect("a change");
    assert_eq!(last.summary, "diagnosis/housing: edited");
    assert_eq!(last.author.as_deref(), Some("anna"));
    assert_eq!(
        last.institution.as_deref(),
        Some(kooperacja_test_support::GOPS)
    );
    tablet.shutdown().await;
}

#[tokio::test]
async fn moving_to_another_section_and_dropping_the_session_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tablet = open(dir.path(), &TabletKey::random()).await;
    let case = create_referred_case(&tablet).await;
    let before = change_count(&tablet, case).await;
    let mut session = tablet
        .edit_text(case, TextField::Diagnosis(DiagnosisSector::Housing))
        .await
        .expect("session");
    type_keystrokes(&session, "Dwa pokoje.");
    session
        .switch_to(TextField::Diagnosis(DiagnosisSector::Health))
        .await
        .expect("switched");
    assert_eq!(change_count(&tablet, case).await, before + 1);
    assert_eq!(
        tablet.case(case).await.expect("case").diagnosis[&DiagnosisSector::Housing],
        "Dwa pokoje."
    );
    session.type_text("Astma.").expect("typed");
    session.move_cursor(0).expect("cursor");
    session.type_text("Dziecko: ").expect("typed");

    // A session opened on another section commits this one's keystrokes.
    let other = tablet
        .edit_text(case, TextField::ContractText)
        .await
        .expect("another session");
    assert_eq!(change_count(&tablet, case).await, before + 2);
    assert_eq!(
        tablet.case(case).await.expect("case").diagnosis[&DiagnosisSector::Health],
        "Dziecko: Astma."
    );

    let mut events = tablet.events();
    other.type_text("Kontrakt.").expect("typed");
    drop(other);
    kooperacja_test_support::wait_event(
        &mut events,
        "the dropped session's commit",
        |e| matches!(e, client_sdk::ClientEvent::DocumentStored(d) if *d == case),
    )
    .await;
    assert_eq!(
        tablet.case(case).await.expect("case").contract.text,
        "Kontrakt."
    );
    assert_eq!(change_count(&tablet, case).await, before + 3);
    drop(session);
    tablet.shutdown().await;
}

#[tokio::test]
async fn a_pause_in_typing_commits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = config(dir.path(), &TabletKey::random(), "tablet-1", "anna");
    settings.commit_after_idle = std::time::Duration::from_millis(100);
    let tablet = Tablet::open(settings).await.expect("opens");
    let case = create_referred_case(&tablet).await;
    let before = change_count(&tablet, case).await;
    let session = tablet
        .edit_text(case, TextField::Evaluation)
        .await
        .expect("session");
    let mut events = tablet.events();
    let typed = "Cele w większości osiągnięte.";
    type_keystrokes(&session, typed);
    let deadline = tokio::time::Instant::now() + WAIT;
    while tablet.case(case).await.expect("case").evaluation.text != typed {
        tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("the idle commit within the wait")
            .expect("events");
    }
    let added = change_count(&tablet, case).await - before;
    assert!(
        (1..typed.chars().count()).contains(&added),
        "{added} changes for {} keystrokes",
        typed.chars().count()
    );
    drop(session);
    tablet.shutdown().await;
}

#[tokio::test]
async fn a_text_session_on_a_field_that_is_not_text_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tablet = open(dir.path(), &TabletKey::random()).await;
    let case = create_referred_case(&tablet).await;
    let err = tablet
        .edit_text(case, TextField::Path(vec!["stage".into()]))
        .await
        .expect_err("not text");
    assert!(matches!(err, SdkError::Invalid(_)), "{err:?}");
    let err = tablet
        .edit_text(DocumentId::from_bytes([1; 16]), TextField::ContractText)
        .await
        .expect_err("not here");
    assert!(matches!(err, SdkError::UnknownDocument(_)), "{err:?}");
    tablet.shutdown().await;
}
