//! Tablets against a real server in-process: the status a UI shows, concurrent offline edits
//! converging, conflicts resolved, an app killed mid-sync, a network cut mid-upload,
//! revocation, and a case that stops being shared.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use client_sdk::{ClientEvent, SdkError, SyncState, SyncStatus, Tablet, TabletKey, TextField};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::fault_proxy::FrameProxy;
use kooperacja_test_support::{
    address, config, create_referred_case, enroll, files_under, goal_plan, no_household,
    online_tablet, referral, revoke, start_loopback_server, start_server, type_keystrokes,
    wait_converged, wait_event, wait_holds, wait_status, wait_up_to_date, Device, GOPS, WAIT,
};
use sync_core::model::case::{ContactMode, DiagnosisSector, GoalStatus, ServiceStatus};
use sync_core::DocumentId;
use tempfile::TempDir;

/// A new tablet `name` of `login` with a store of its own (kept as long as the directory is),
/// syncing with `server` as `device`.
async fn new_tablet(
    server: &RunningServer,
    device: &Device,
    login: &str,
    name: &str,
) -> (Tablet, TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let tablet = online_tablet(
        dir.path(),
        &TabletKey::random(),
        name,
        login,
        server,
        device,
        None,
    )
    .await;
    (tablet, dir)
}

/// Anna's tablet "tablet-a" in `dir`, opened offline, with the server (through `via`, when
/// given) to connect to later.
async fn offline_tablet(
    dir: &TempDir,
    server: &RunningServer,
    device: &Device,
    via: Option<SocketAddr>,
) -> Tablet {
    let mut settings = config(dir.path(), &TabletKey::random(), "tablet-a", "anna")
        .with_server(address(server, &device.token, via));
    settings.online = false;
    Tablet::open(settings).await.expect("opens")
}

/// A new tablet of Anna's ("tablet-b") that has been given `case` by the server and holds all
/// `tablet` holds of it.
async fn another_tablet_gets(
    server: &RunningServer,
    tablet: &Tablet,
    case: DocumentId,
) -> (Tablet, TempDir) {
    let (other, dir) = new_tablet(server, &enroll(server, "anna"), "anna", "tablet-b").await;
    wait_holds(&other, case).await;
    wait_converged(&[tablet, &other], case).await;
    (other, dir)
}

/// The next status a tablet reports, within the wait.
async fn next_status(changes: &mut tokio::sync::broadcast::Receiver<SyncStatus>) -> SyncStatus {
    tokio::time::timeout(WAIT, changes.recv())
        .await
        .expect("a status change within the wait")
        .expect("statuses")
}

/// A plain loopback server over `dir` (the fault proxy reads the WebSocket frames), a proxy in
/// front of it and a device of Anna's.
async fn server_behind_a_proxy(dir: &TempDir) -> (RunningServer, FrameProxy, Device) {
    let server = start_loopback_server(dir.path()).await;
    let proxy = FrameProxy::start(server.addr, 1).await;
    let device = enroll(&server, "anna");
    (server, proxy, device)
}

/// Anna's tablet "tablet-a", its store in `dir` opened with `key`, syncing with `server`
/// (through `via`, when given).
async fn annas_tablet(
    server: &RunningServer,
    device: &Device,
    (dir, key): (&TempDir, &TabletKey),
    via: Option<SocketAddr>,
) -> Tablet {
    online_tablet(dir.path(), key, "tablet-a", "anna", server, device, via).await
}

/// Anna's tablet (see [`annas_tablet`]) with a case of hers that the server has.
async fn anna_with_a_synced_case(
    server: &RunningServer,
    device: &Device,
    store: (&TempDir, &TabletKey),
    via: Option<SocketAddr>,
) -> (Tablet, DocumentId) {
    let tablet = annas_tablet(server, device, store, via).await;
    let case = create_referred_case(&tablet).await;
    wait_up_to_date(&tablet).await;
    (tablet, case)
}

async fn type_into(tablet: &Tablet, case: sync_core::DocumentId, at_start: bool, text: &str) {
    let session = tablet
        .edit_text(case, TextField::Diagnosis(DiagnosisSector::Housing))
        .await
        .expect("session");
    if at_start {
        session.move_cursor(0).expect("cursor");
    }
    type_keystrokes(&session, text);
    session.close().await.expect("committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_go_offline_connecting_syncing_up_to_date() {
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(server_dir.path()).await;
    let device = enroll(&server, "anna");
    let dir = tempfile::tempdir().expect("temp dir");
    let tablet = offline_tablet(&dir, &server, &device, None).await;
    create_referred_case(&tablet).await;

    let offline = tablet.status().borrow().clone();
    assert_eq!(offline.state, SyncState::Offline);
    assert!(offline.pending_changes > 0, "{offline:?}");
    assert_eq!((offline.last_sync, offline.last_error), (None, None));

    let mut changes = tablet.status_changes();
    tablet.set_online(true).expect("online");
    let mut seen = Vec::new();
    loop {
        let status = next_status(&mut changes).await;
        let done = status.state == SyncState::UpToDate;
        seen.push(status);
        if done {
            break;
        }
    }
    let mut states: Vec<SyncState> = seen.iter().map(|s| s.state).collect();
    states.dedup();
    assert_eq!(
        states,
        vec![
            SyncState::Connecting,
            SyncState::Syncing {
                synced: 0,
                total: 1
            },
            SyncState::UpToDate
        ]
    );
    let last = seen.last().expect("a status");
    assert_eq!(last.pending_changes, 0);
    assert!(last.last_sync.is_some());
    assert_eq!(last.last_error, None);
    assert!(tablet.documents().await.expect("documents")[0].on_server);
    tablet.shutdown().await;
    server.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_edit_offline_converge_and_settle_the_conflict() {
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(server_dir.path()).await;
    let (anna_device, jan_device) = (enroll(&server, "anna"), enroll(&server, "jan"));
    let (anna, _anna_dir) = new_tablet(&server, &anna_device, "anna", "tablet-anna").await;
    let case = create_referred_case(&anna).await;
    anna.upsert_goal(case, "g1", goal_plan())
        .await
        .expect("goal");
    anna.set_diagnosis(case, DiagnosisSector::Housing, "Dwa pokoje.")
        .await
        .expect("diagnosis");
    wait_up_to_date(&anna).await;
    anna.assign(case, "jan").await.expect("shared with jan");

    // Jan's tablet has never seen the case: the server's list brings it.
    let (jan, _jan_dir) = new_tablet(&server, &jan_device, "jan", "tablet-jan").await;
    wait_holds(&jan, case).await;
    wait_converged(&[&anna, &jan], case).await;

    for tablet in [&anna, &jan] {
        tablet.set_online(false).expect("offline");
        wait_status(tablet, "offline", |s| s.state == SyncState::Offline).await;
    }
    type_into(&anna, case, false, " Wilgoć w kuchni.").await;
    anna.set_goal_status(case, "g1", GoalStatus::Achieved)
        .await
        .expect("anna's status");
    type_into(&jan, case, true, "Mieszkanie: ").await;
    jan.set_goal_status(case, "g1", GoalStatus::Dropped)
        .await
        .expect("jan's status");
    assert!(jan.status().borrow().pending_changes >= 2);

    for tablet in [&anna, &jan] {
        tablet.set_online(true).expect("online");
    }
    wait_converged(&[&anna, &jan], case).await;
    let (a, j) = (
        anna.case(case).await.expect("a"),
        jan.case(case).await.expect("j"),
    );
    assert_eq!(a, j);
    assert_eq!(
        a.diagnosis[&DiagnosisSector::Housing],
        "Mieszkanie: Dwa pokoje. Wilgoć w kuchni."
    );

    let conflicts = anna.conflicts(case).await.expect("conflicts");
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].path, "goals/g1/status");
    let mut values: Vec<(String, Option<String>, bool)> = conflicts[0]
        .values
        .iter()
        .map(|v| (v.value.clone(), v.by.clone(), v.this_device))
        .collect();
    values.sort();
    assert_eq!(
        values,
        vec![
            ("achieved".into(), Some("anna".into()), true),
            ("dropped".into(), Some("jan".into()), false),
        ]
    );
    assert!(conflicts[0].values.iter().all(|v| v.at.is_some()));
    assert_eq!(jan.conflicts(case).await.expect("jan sees it too").len(), 1);

    anna.resolve(case, "goals/g1/status", "dropped")
        .await
        .expect("resolved");
    wait_converged(&[&anna, &jan], case).await;
    assert_eq!(jan.conflicts(case).await.expect("conflicts"), vec![]);
    assert_eq!(
        jan.case(case).await.expect("case").goals["g1"].status.value,
        GoalStatus::Dropped
    );
    anna.shutdown().await;
    jan.shutdown().await;
    server.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tablets_with_offline_edits_converge() {
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(server_dir.path()).await;
    let (first, first_dir) =
        new_tablet(&server, &enroll(&server, "anna"), "anna", "tablet-0").await;
    let case = create_referred_case(&first).await;
    first
        .add_service(case, "svc-swietlica", "swietlica")
        .await
        .expect("service");
    wait_up_to_date(&first).await;
    let (mut tablets, mut dirs) = (vec![first], vec![first_dir]);
    // The other tablets have never seen the case: the server's list brings it.
    for i in 1..3 {
        let device = enroll(&server, "anna");
        let (tablet, dir) = new_tablet(&server, &device, "anna", &format!("tablet-{i}")).await;
        tablets.push(tablet);
        dirs.push(dir);
    }
    for tablet in &tablets[1..] {
        wait_holds(tablet, case).await;
    }
    let all: Vec<&Tablet> = tablets.iter().collect();
    wait_converged(&all, case).await;

    for tablet in &tablets {
        tablet.set_online(false).expect("offline");
    }
    let statuses = [
        ServiceStatus::Active,
        ServiceStatus::Finished,
        ServiceStatus::Refused,
    ];
    for (i, tablet) in tablets.iter().enumerate() {
        tablet
            .append_monitoring_note(case, ContactMode::HomeVisit, &format!("Wizyta {i}."))
            .await
            .expect("note");
        type_into(tablet, case, false, &format!(" Zdanie {i}.")).await;
        tablet
            .set_service_status(case, "svc-swietlica", statuses[i])
            .await
            .expect("status");
    }
    for tablet in &tablets {
        tablet.set_online(true).expect("online");
    }
    wait_converged(&all, case).await;

    let view = tablets[2].case(case).await.expect("case");
    assert_eq!(view.monitoring.len(), 3);
    let housing = &view.diagnosis[&DiagnosisSector::Housing];
    for i in 0..3 {
        assert!(housing.contains(&format!(" Zdanie {i}.")), "{housing:?}");
    }
    for tablet in &tablets {
        assert_eq!(tablet.case(case).await.expect("case"), view);
        let conflicts = tablet.conflicts(case).await.expect("conflicts");
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].path, "services/svc-swietlica/status");
        assert_eq!(conflicts[0].values.len(), 3);
        assert_eq!(
            conflicts[0].values.iter().filter(|v| v.this_device).count(),
            1
        );
        assert!(conflicts[0]
            .values
            .iter()
            .all(|v| v.by.as_deref() == Some("anna")));
    }
    for tablet in tablets {
        tablet.shutdown().await;
    }
    server.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_killed_with_unacknowledged_changes_loses_nothing() {
    let server_dir = tempfile::tempdir().expect("temp dir");
    let (server, proxy, device) = server_behind_a_proxy(&server_dir).await;
    let (dir, key) = (tempfile::tempdir().expect("dir"), TabletKey::random());
    let store = (&dir, &key);
    let (tablet, case) = anna_with_a_synced_case(&server, &device, store, Some(proxy.addr)).await;

    // The server's answers stop arriving: edits go out, acknowledgements never come back.
    proxy.hold_server_data(true);
    for i in 0..10 {
        tablet
            .append_monitoring_note(case, ContactMode::Phone, &format!("Telefon {i}."))
            .await
            .expect("note");
    }
    type_into(&tablet, case, false, "Pokój dzienny bez ogrzewania.").await;
    let waiting = wait_status(&tablet, "changes waiting for the server", |s| {
        s.pending_changes >= 11 && matches!(s.state, SyncState::Syncing { .. })
    })
    .await;
    let expected = tablet.case(case).await.expect("case");
    // Killed: no shutdown, the connection dies with the process.
    drop(tablet);
    proxy.cut_all();
    proxy.hold_server_data(false);

    let tablet = annas_tablet(&server, &device, store, Some(proxy.addr)).await;
    assert_eq!(tablet.case(case).await.expect("case"), expected);
    let reopened = tablet.status().borrow().clone();
    assert!(reopened.pending_changes <= waiting.pending_changes);
    let done = wait_up_to_date(&tablet).await;
    assert_eq!(done.pending_changes, 0);

    // Everything reached the server: another tablet gets all of it.
    let (other, _other_dir) = another_tablet_gets(&server, &tablet, case).await;
    assert_eq!(other.case(case).await.expect("case"), expected);
    tablet.shutdown().await;
    other.shutdown().await;
    server.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_cut_mid_upload_resumes_and_delayed_acks_keep_changes_pending() {
    let server_dir = tempfile::tempdir().expect("temp dir");
    let (server, proxy, device) = server_behind_a_proxy(&server_dir).await;
    let dir = tempfile::tempdir().expect("dir");
    let tablet = offline_tablet(&dir, &server, &device, Some(proxy.addr)).await;
    let case = create_referred_case(&tablet).await;
    for i in 0..150 {
        let text = format!("Notatka {i}: rozmowa z rodziną o planie pomocy, postępach dziecka w szkole i o tym, co dalej. {}", "x".repeat(i));
        tablet
            .append_monitoring_note(case, ContactMode::HomeVisit, &text)
            .await
            .expect("note");
    }

    // The first connection that uploads more than 8 kB is cut there.
    proxy.cut_once_after_bytes(8 * 1024);
    let mut changes = tablet.status_changes();
    tablet.set_online(true).expect("online");
    let mut errors = Vec::new();
    loop {
        let status = next_status(&mut changes).await;
        errors.extend(status.last_error.clone());
        if status.state == SyncState::UpToDate {
            assert_eq!(status.pending_changes, 0);
            break;
        }
    }
    assert_eq!(
        proxy.counts().cuts.load(Ordering::SeqCst),
        1,
        "the upload was cut once"
    );
    assert!(!errors.is_empty(), "the cut was reported in words");
    assert!(
        proxy.counts().connections.load(Ordering::SeqCst) >= 3,
        "the list, the cut upload and the retry"
    );

    let (other, _other_dir) = another_tablet_gets(&server, &tablet, case).await;
    assert_eq!(other.case(case).await.expect("case").monitoring.len(), 150);

    // Acknowledgements delayed: the change stays pending until they arrive.
    proxy.hold_server_data(true);
    tablet
        .upsert_goal(case, "g1", goal_plan())
        .await
        .expect("goal");
    wait_status(&tablet, "a pending change", |s| {
        s.pending_changes == 1 && s.state != SyncState::UpToDate
    })
    .await;
    proxy.hold_server_data(false);
    let done = wait_up_to_date(&tablet).await;
    assert_eq!(done.pending_changes, 0);
    wait_converged(&[&tablet, &other], case).await;
    tablet.shutdown().await;
    other.shutdown().await;
    server.shutdown().await.expect("server stops");
}

/// Waits until the tablet reports its revocation and its sync thread has stopped (the thread
/// removes the store once it has stopped).
async fn wait_revoked_and_stopped(tablet: &Tablet) {
    wait_status(tablet, "revoked", |s| s.state == SyncState::Revoked).await;
    tokio::time::timeout(WAIT, tablet.until_stopped())
        .await
        .expect("the sync thread stops");
}

async fn assert_wiped(tablet: &Tablet, dir: &std::path::Path, key: &TabletKey) {
    let err = tablet
        .documents()
        .await
        .expect_err("a revoked tablet refuses");
    assert!(matches!(err, SdkError::Revoked), "{err:?}");
    let err = tablet
        .create_case(GOPS, referral(), no_household())
        .await
        .expect_err("a revoked tablet refuses");
    assert!(matches!(err, SdkError::Revoked), "{err:?}");
    assert_eq!(
        files_under(dir),
        Vec::<std::path::PathBuf>::new(),
        "the store is gone"
    );
    let fresh = Tablet::open(config(dir, key, "tablet-a", "anna"))
        .await
        .expect("a fresh store opens");
    assert_eq!(fresh.documents().await.expect("documents"), vec![]);
    fresh.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_tablet_wipes_its_store_when_told_while_connected() {
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(server_dir.path()).await;
    let device = enroll(&server, "anna");
    let (dir, key) = (tempfile::tempdir().expect("dir"), TabletKey::random());
    let (tablet, _case) = anna_with_a_synced_case(&server, &device, (&dir, &key), None).await;
    let mut events = tablet.events();
    revoke(&server, &device).await;
    wait_event(&mut events, "revocation", |e| *e == ClientEvent::Revoked).await;
    wait_revoked_and_stopped(&tablet).await;
    assert_wiped(&tablet, dir.path(), &key).await;
    server.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tablet_revoked_while_offline_wipes_at_its_next_contact() {
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(server_dir.path()).await;
    let device = enroll(&server, "anna");
    let (dir, key) = (tempfile::tempdir().expect("dir"), TabletKey::random());
    let (tablet, _case) = anna_with_a_synced_case(&server, &device, (&dir, &key), None).await;
    tablet.set_online(false).expect("offline");
    wait_status(&tablet, "offline", |s| s.state == SyncState::Offline).await;
    revoke(&server, &device).await;
    tablet.set_online(true).expect("online");
    wait_revoked_and_stopped(&tablet).await;
    assert_wiped(&tablet, dir.path(), &key).await;
    server.shutdown().await.expect("server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_shared_and_unshared_arrive_and_leave() {
    let server_dir = tempfile::tempdir().expect("temp dir");
    let server = start_server(server_dir.path()).await;
    let (anna_device, jan_device) = (enroll(&server, "anna"), enroll(&server, "jan"));
    let dir_b = tempfile::tempdir().expect("dir");
    let jan_key = TabletKey::random();
    let (anna, _anna_dir) = new_tablet(&server, &anna_device, "anna", "tablet-anna").await;
    let jan = online_tablet(
        dir_b.path(),
        &jan_key,
        "tablet-jan",
        "jan",
        &server,
        &jan_device,
        None,
    )
    .await;
    let case = create_referred_case(&anna).await;
    wait_up_to_date(&anna).await;
    wait_up_to_date(&jan).await;
    assert_eq!(jan.documents().await.expect("documents"), vec![]);

    // Shared while Jan's tablet is connected: a refresh of the list brings it.
    anna.assign(case, "jan").await.expect("shared");
    jan.refresh_documents().expect("refresh");
    wait_holds(&jan, case).await;
    wait_converged(&[&anna, &jan], case).await;

    // Unshared while Jan's tablet is connected: the next refresh removes it.
    let mut events = jan.events();
    anna.unassign(case, "jan").await.expect("unshared");
    jan.refresh_documents().expect("refresh");
    wait_event(&mut events, "the case's removal", |e| {
        *e == ClientEvent::Removed(case)
    })
    .await;
    wait_up_to_date(&jan).await;
    assert_eq!(jan.documents().await.expect("documents"), vec![]);

    // Shared again, then unshared while Jan's tablet is offline, where Jan opens a case of his
    // own: at the next connection the shared case leaves and his own case stays.
    anna.assign(case, "jan").await.expect("shared again");
    jan.refresh_documents().expect("refresh");
    wait_holds(&jan, case).await;
    wait_up_to_date(&jan).await;
    jan.set_online(false).expect("offline");
    wait_status(&jan, "offline", |s| s.state == SyncState::Offline).await;
    let own = jan
        .create_case(GOPS, referral(), no_household())
        .await
        .expect("jan's own case, created offline");
    anna.unassign(case, "jan").await.expect("no longer shared");

    let mut events = jan.events();
    jan.set_online(true).expect("online");
    wait_event(&mut events, "the case's removal", |e| {
        *e == ClientEvent::Removed(case)
    })
    .await;
    wait_up_to_date(&jan).await;
    let held: Vec<_> = jan
        .documents()
        .await
        .expect("documents")
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(held, vec![own]);
    let err = jan.case(case).await.expect_err("gone");
    assert!(matches!(err, SdkError::UnknownDocument(_)), "{err:?}");
    jan.shutdown().await;

    let reopened = Tablet::open(config(dir_b.path(), &jan_key, "tablet-jan", "jan"))
        .await
        .expect("reopens");
    let held: Vec<_> = reopened
        .documents()
        .await
        .expect("documents")
        .iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(
        held,
        vec![own],
        "removed from the store, not only from memory"
    );
    reopened.shutdown().await;
    anna.shutdown().await;
    server.shutdown().await.expect("server stops");
}
