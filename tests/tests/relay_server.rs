//! The relay path on the real server (issue #23, `serve --relay`): typing into a case's free
//! text is stored and forwarded without applying it to the document in memory, and counted at
//! `/metrics`; everything else, and everything the rules must see, takes the full path; the
//! access rules hold either way.

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, ReadDoc, ROOT};
use chrono::Utc;
use client_sdk::{ClientEvent, SyncClient};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use sync_core::model::case::{self, ConsentEvent, ConsentState, DiagnosisSector};
use sync_core::model::{pzk, Editor};
use sync_core::DocumentId;

const HOUSING: DiagnosisSector = DiagnosisSector::Housing;

/// A typed server on loopback (its `/metrics` read over plain HTTP) with the relay path on.
async fn relaying_server(dir: &std::path::Path) -> RunningServer {
    let mut config = ServeConfig::for_tests(dir, TlsMode::InsecureLoopback);
    config.allow_untyped = false;
    config.relay = true;
    start_with(config).await
}

/// The relay path's counters at `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Counts {
    relayed: u64,
    materialised: u64,
    batches_applied: u64,
    /// Relayed changes applied to the document in memory since, in batches.
    relayed_applied: u64,
}

async fn counts(server: &RunningServer) -> Counts {
    let text = metrics_text(server).await;
    Counts {
        relayed: metric(&text, "kooperacja_relay_changes_total"),
        materialised: metric(&text, "kooperacja_materialised_changes_total"),
        batches_applied: metric(&text, "kooperacja_relay_batches_applied_total"),
        relayed_applied: metric(&text, "kooperacja_relay_changes_applied_total"),
    }
}

/// The housing sector of the diagnosis, as `doc` holds it ("" while it has not arrived).
fn housing(doc: Option<&Automerge>) -> String {
    doc.and_then(|d| case::read_case(d).ok())
        .and_then(|v| v.diagnosis.get(&HOUSING).cloned())
        .unwrap_or_default()
}

/// `login` (of `gops`) types `words` at the end of the housing sector: one splice, one change.
async fn type_words(client: &SyncClient, id: DocumentId, login: &'static str, words: &str) {
    let words = words.to_owned();
    client
        .change(id, move |d| {
            let at = housing(Some(d)).chars().count();
            let by = Editor::new(login, "gops").expect("editor");
            case::splice_diagnosis(d, HOUSING, at, 0, &words, &by, Utc::now()).expect("typed");
        })
        .await
        .expect("saved locally");
}

/// Waits until `client` holds `want` in the housing sector.
async fn wait_housing(client: &SyncClient, id: DocumentId, want: &str) {
    let want = want.to_owned();
    client
        .wait_until("the diagnosis arrives", WAIT, || {
            let want = want.clone();
            async move { client.read(id, move |d| housing(d) == want).await }
        })
        .await
        .expect("the typed text arrives");
}

/// Anna's case (consent for the school) with bartek assigned and following it.
async fn case_with_bartek(server: &RunningServer) -> (SyncClient, SyncClient, DocumentId) {
    provision_region(server);
    let mut family = new_family_case("anna");
    let event = ConsentEvent {
        institution: "szkola".into(),
        purpose: "pzk".into(),
        state: ConsentState::Given,
        by: "matka".into(),
    };
    let anna = Editor::new("anna", "gops").expect("editor");
    case::record_consent(&mut family, "c1", &event, &anna, Utc::now()).expect("consent");
    let (owner, id) = create_as(server, "anna", family).await;
    server
        .state
        .registry
        .assign(id, Some("bartek"), None, "anna", false)
        .expect("assign");
    let bartek = tablet(server, "bartek", "tablet-bartek");
    bartek.find(id).expect("find");
    wait_same_heads(&owner, &bartek, id).await;
    (owner, bartek, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_into_a_case_is_relayed_stored_and_reaches_everyone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = relaying_server(dir.path()).await;
    let (anna, bartek, id) = case_with_bartek(&server).await;
    let before = counts(&server).await;

    // Bartek's tablet is away while Anna types: a peer that is not in step would need a sync
    // message made from the op set (a batch applied), and when that happens depends on the
    // network's timing. With Anna alone, nothing but her typing reaches the server.
    bartek.set_online(false).expect("offline");
    tokio::time::timeout(WAIT, async {
        while metric(&metrics_text(&server).await, "kooperacja_connections") != 1 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("bartek's connection closed in time");
    let words = ["Dwa pokoje, ", "wilgoć ", "w kuchni, ", "piec ", "kaflowy."];
    for word in words {
        type_words(&anna, id, "anna", word).await;
        wait_acknowledged(&anna, id).await;
    }
    let after = counts(&server).await;
    assert_eq!(after.relayed - before.relayed, 5, "{before:?} -> {after:?}");
    assert_eq!(
        (after.materialised, after.batches_applied),
        (before.materialised, before.batches_applied),
        "nothing was applied to the document in memory: {before:?} -> {after:?}"
    );
    bartek.set_online(true).expect("online");
    let typed = words.concat();
    wait_housing(&bartek, id, &typed).await;
    wait_same_heads(&anna, &bartek, id).await;

    // Bartek types too: both directions relay.
    type_words(&bartek, id, "bartek", " Okna do wymiany.").await;
    let typed = format!("{typed} Okna do wymiany.");
    wait_housing(&anna, id, &typed).await;
    wait_acknowledged(&bartek, id).await;
    assert_eq!(counts(&server).await.relayed - before.relayed, 6);

    // A change to anything else takes the full path: what was relayed is applied first.
    let relayed = counts(&server).await;
    append_visit_note(&anna, id).await;
    wait_acknowledged(&anna, id).await;
    wait_same_heads(&anna, &bartek, id).await;
    let full = counts(&server).await;
    assert_eq!(full.relayed, relayed.relayed, "{relayed:?} -> {full:?}");
    assert!(full.materialised > relayed.materialised, "{full:?}");
    // Whatever was still pending (a peer out of step may have had it applied already) is
    // applied before the change: every relayed change is in the document in memory.
    assert_eq!(full.relayed_applied, full.relayed, "{full:?}");

    // Acknowledged means durable: after a restart the store has every relayed change.
    let heads = anna.heads(id).await.expect("heads").expect("doc");
    anna.shutdown().await;
    bartek.shutdown().await;
    server.shutdown().await.expect("shutdown");
    let server = relaying_server(dir.path()).await;
    let fresh = tablet(&server, "bartek", "tablet-bartek-2");
    fresh.find(id).expect("find");
    wait_housing(&fresh, id, &typed).await;
    let mut got = fresh.heads(id).await.expect("heads").expect("doc");
    let mut want = heads;
    got.sort();
    want.sort();
    assert_eq!(got, want);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_out_of_step_gets_a_correct_sync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = relaying_server(dir.path()).await;
    let (anna, bartek, id) = case_with_bartek(&server).await;
    type_words(&anna, id, "anna", "Przed. ").await;
    wait_housing(&bartek, id, "Przed. ").await;
    // Bartek goes away; anna types on; bartek comes back on another device with nothing, and
    // a school reader with consent opens the case for the first time.
    bartek.shutdown().await;
    for word in ["W trakcie ", "nieobecności. "] {
        type_words(&anna, id, "anna", word).await;
        wait_acknowledged(&anna, id).await;
    }
    let relayed = counts(&server).await.relayed;
    assert!(relayed >= 3, "{:?}", counts(&server).await);
    let bartek = tablet(&server, "bartek", "tablet-bartek-2");
    bartek.find(id).expect("find");
    let reader = tablet(&server, "szkola-rep", "tablet-szkola");
    reader.find(id).expect("find");
    let want = "Przed. W trakcie nieobecności. ";
    wait_housing(&bartek, id, want).await;
    wait_housing(&reader, id, want).await;
    wait_same_heads(&anna, &bartek, id).await;
    wait_same_heads(&anna, &reader, id).await;
    // Typing goes on after the catch-up, and reaches both.
    type_words(&bartek, id, "bartek", "Po.").await;
    let want = format!("{want}Po.");
    wait_housing(&anna, id, &want).await;
    wait_housing(&reader, id, &want).await;
    server.shutdown().await.expect("shutdown");
}

/// `edit` on a fresh tablet of `login` holding the case, refused: the reason it was told.
async fn refused(
    server: &RunningServer,
    login: &str,
    owner: &SyncClient,
    id: DocumentId,
    edit: impl FnOnce(&mut Automerge) + Send + 'static,
) -> String {
    let heads = owner.heads(id).await.expect("heads").expect("doc");
    edit_outcome(server, login, id, &heads, edit)
        .await
        .expect_err("refused")
}

/// A splice at the start of the housing sector, as raw Automerge with `message`.
fn raw_splice(d: &mut Automerge, text: &str, message: Option<&str>) {
    let diagnosis = d
        .get(ROOT, "diagnosis")
        .expect("read")
        .expect("diagnosis")
        .1;
    let sector = d
        .get(&diagnosis, HOUSING.as_str())
        .expect("read")
        .expect("sector")
        .1;
    let mut tx = d.transaction();
    tx.splice_text(&sector, 0, 0, text).expect("splice");
    let options = CommitOptions::default();
    tx.commit_with(match message {
        Some(m) => options.with_message(m.to_owned()),
        None => options,
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_rules_hold_on_the_relay_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = relaying_server(dir.path()).await;
    let (anna, bartek, id) = case_with_bartek(&server).await;
    type_words(&anna, id, "anna", "Tekst anny.").await;
    wait_housing(&bartek, id, "Tekst anny.").await;
    let before = counts(&server).await;

    // A reader (the school, with consent) cannot write through the relay path.
    let reason = refused(&server, "szkola-rep", &anna, id, |d| {
        raw_splice(d, "szkoła ", None)
    })
    .await;
    assert!(reason.contains("refused"), "{reason}");
    // A splice of anna's actor from bartek's device, and one whose trailer names anna.
    let anna_actor = anna
        .read(id, |d| d.map(|d| d.get_actor().clone()))
        .await
        .expect("read")
        .expect("doc");
    let reason = refused(&server, "bartek", &anna, id, move |d| {
        d.set_actor(anna_actor);
        raw_splice(d, "podrobione ", None)
    })
    .await;
    assert!(reason.contains("refused"), "{reason}");
    let reason = refused(&server, "bartek", &anna, id, |d| {
        let as_anna = Editor::new("anna", "gops").expect("editor");
        let message = sync_core::model::editor::message(format_args!("diagnosis"), &as_anna);
        raw_splice(d, "w imieniu anny ", Some(&message))
    })
    .await;
    assert!(reason.contains("refused"), "{reason}");
    assert_eq!(
        counts(&server).await.relayed,
        before.relayed,
        "none relayed"
    );

    // A revoked device is cut off: its open connection closes and the tablet is told.
    let before_devices = server
        .state
        .directory
        .devices_of("bartek")
        .expect("devices");
    let lost = tablet(&server, "bartek", "tablet-lost");
    let mut events = lost.events();
    lost.find(id).expect("find");
    wait_housing(&lost, id, "Tekst anny.").await;
    type_words(&lost, id, "bartek", " Z zagubionego.").await;
    wait_acknowledged(&lost, id).await;
    let device = server
        .state
        .directory
        .devices_of("bartek")
        .expect("devices")
        .into_iter()
        .find(|d| !before_devices.contains(d))
        .expect("the lost tablet's device");
    server
        .state
        .directory
        .revoke(&device.device_id)
        .expect("revoke");
    let (ack, closed) = tokio::sync::oneshot::channel();
    server
        .state
        .hub
        .send(kooperacja_server::hub::Command::DropDevice(
            device.device_id.clone(),
            ack,
        ))
        .await;
    assert_eq!(closed.await.expect("answer"), 1, "its connection closed");
    tokio::time::timeout(WAIT, async {
        while !matches!(events.recv().await, Ok(ClientEvent::Revoked) | Err(_)) {}
    })
    .await
    .expect("told in time");
    // The others type on, relayed.
    type_words(&anna, id, "anna", " Dalej.").await;
    wait_acknowledged(&anna, id).await;
    let want = "Tekst anny. Z zagubionego. Dalej.";
    wait_housing(&bartek, id, want).await;
    assert_eq!(
        housing(anna.read(id, |d| d.cloned()).await.expect("read").as_ref()),
        want
    );
    server.shutdown().await.expect("shutdown");
}

/// The minutes of meeting `s1`, spliced at their end by `login` with a trailer naming them.
fn minutes_splice(login: &'static str, text: &'static str) -> impl FnOnce(&mut Automerge) {
    move |d: &mut Automerge| {
        let meetings = d.get(ROOT, "meetings").expect("read").expect("meetings").1;
        let meeting = d.get(&meetings, "s1").expect("read").expect("s1").1;
        let minutes = d
            .get(&meeting, "minutes")
            .expect("read")
            .expect("minutes")
            .1;
        let at = d.text(&minutes).expect("text").chars().count();
        let message = format!("meetings/s1/minutes: edited\n\nAuthor: {login}");
        let mut tx = d.transaction();
        tx.splice_text(&minutes, at, 0, text).expect("splice");
        tx.commit_with(CommitOptions::default().with_message(message));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_meeting_and_the_guarded_pzk_parts_are_never_relayed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = relaying_server(dir.path()).await;
    provision_region(&server);
    let mut team = new_team_doc();
    let animator = Editor::new("animator1", "gops").expect("editor");
    schedule_remote_meeting(&mut team, &animator, "s1", (2026, 3, 4, 10), &["Rodziny"]);
    let (owner, pzk_id) = create_as(&server, "animator1", team).await;
    let before = counts(&server).await;

    // The school's representative writes the minutes of a meeting not yet approved: relayed.
    let heads = owner.heads(pzk_id).await.expect("heads").expect("doc");
    let typed = minutes_splice("szkola-rep", "Omówiono dwie rodziny.");
    edit_outcome(&server, "szkola-rep", pzk_id, &heads, typed)
        .await
        .expect("accepted");
    assert_eq!(counts(&server).await.relayed, before.relayed + 1);

    // A member's splice into the agreement (a part only the animator changes) is refused.
    let heads = owner.heads(pzk_id).await.expect("heads").expect("doc");
    let agreement = edit_outcome(&server, "szkola-rep", pzk_id, &heads, |d| {
        let agreement = d.get(ROOT, "agreement").expect("read").expect("a").1;
        let text = d.get(&agreement, "text").expect("read").expect("text").1;
        let mut tx = d.transaction();
        tx.splice_text(&text, 0, 0, "Nie ").expect("splice");
        let message = "agreement/text: edited\n\nAuthor: szkola-rep";
        tx.commit_with(CommitOptions::default().with_message(message));
    })
    .await;
    let reason = agreement.expect_err("refused");
    assert!(
        reason.contains("[refusal.pzk-part-not-editable]"),
        "{reason}"
    );

    // The animator approves the minutes; a later splice into them is refused as frozen.
    owner
        .wait_until("the minutes arrive", WAIT, || async {
            owner
                .read(pzk_id, |d| {
                    d.and_then(|d| pzk::read_pzk(d).ok())
                        .is_some_and(|v| !v.meetings["s1"].minutes.is_empty())
                })
                .await
        })
        .await
        .expect("minutes");
    owner
        .change(pzk_id, move |d| {
            pzk::approve_minutes(d, "s1", &animator, Utc::now()).expect("approved");
        })
        .await
        .expect("saved");
    wait_acknowledged(&owner, pzk_id).await;
    let relayed = counts(&server).await.relayed;
    let heads = owner.heads(pzk_id).await.expect("heads").expect("doc");
    let late = minutes_splice("szkola-rep", " Dopisek.");
    let reason = edit_outcome(&server, "szkola-rep", pzk_id, &heads, late)
        .await
        .expect_err("refused");
    assert!(reason.contains("[meeting.frozen]"), "{reason}");
    assert_eq!(counts(&server).await.relayed, relayed);
    server.shutdown().await.expect("shutdown");
}

/// An operator turns the relay path on in the service's environment, as `KOOPERACJA_RELAY=1`
/// (the form the test suites' second run uses too): the switches read `1`/`0` and `yes`/`no`,
/// not only `true`/`false`. Without a way to serve chosen, the server stops at that choice,
/// after reading the switches.
#[test]
fn the_switches_read_1_0_yes_and_no_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kooperacja-server-under-test"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("KOOPERACJA_RELAY", "1")
        .env("KOOPERACJA_ALLOW_UNTYPED_DOCUMENTS", "yes")
        .env("KOOPERACJA_INSECURE_HTTP", "0")
        .env("KOOPERACJA_DEV_TLS", "no")
        .output()
        .expect("the server runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("invalid value"), "{stderr}");
    assert!(
        stderr.contains("choose how to serve"),
        "the switches were read, and 0 / no left TLS unchosen: {stderr}"
    );
    assert!(!out.status.success());
}
