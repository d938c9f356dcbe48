//! Retention of finished cases (issue #22): the region keeps a closed case for the period it set
//! (here a year, counted from 1 January after the closing), tells the worker who owns it a month
//! before, and then erases it through the erasure path, leaving nothing but the audit trail. An
//! open case, and a case an administrator holds for a court, are kept; the ROPS coordinator sees
//! the schedule under pseudonyms, a social worker does not; a restart in between loses nothing.
//! Anna sees the notice in her case app's "Nowe" (Chromium, `web/e2e/retention-news.mjs`; build
//! the app first with `npm run build`). The server's clock is the test's: nothing waits for time
//! to pass.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use client_sdk::SyncClient;
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_server::retention::Clock;
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::nowak::{march, move_to, not_qualify};
use kooperacja_test_support::*;
use serde_json::Value;
use sync_core::model::case::Stage;
use sync_core::DocumentId;

/// The time the server reads, set by the test.
#[derive(Clone)]
struct Calendar(Arc<Mutex<DateTime<Utc>>>);

impl Calendar {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(noon(2021, 3, 3))))
    }

    /// Moves the server's clock to noon of that day.
    fn set(&self, y: i32, m: u32, d: u32) {
        *self.0.lock().expect("clock") = noon(y, m, d);
    }

    /// A server over `dir` with a year's retention, reading this calendar.
    async fn server(&self, dir: &std::path::Path) -> RunningServer {
        self.server_with(dir, TlsMode::InsecureLoopback).await
    }

    /// The same, serving `tls`.
    async fn server_with(&self, dir: &std::path::Path, tls: TlsMode) -> RunningServer {
        let mut config = ServeConfig::for_tests(dir, tls);
        config.allow_untyped = false;
        config.retention_months = 12;
        let now = self.0.clone();
        config.clock = Clock::from_fn(move || *now.lock().expect("clock"));
        start_with(config).await
    }
}

fn noon(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("a day")
        .and_utc()
}

/// A family referred on 1 March 2021 whom Anna's screening did not take in; returns the case
/// still open (in screening, the decision written), acknowledged by the server.
async fn screened_case(anna: &SyncClient) -> DocumentId {
    let mut doc = CaseFixture::new("anna", "gops")
        .created_at(march(1, 9))
        .build();
    move_to(&mut doc, Stage::Screening, 1);
    not_qualify(&mut doc);
    let id = random_id();
    anna.create(id, doc).await.expect("created");
    wait_acknowledged(anna, id).await;
    id
}

/// Anna closes the case (2 March 2021, 20:00).
async fn close(anna: &SyncClient, id: DocumentId) {
    anna.change(id, |d| move_to(d, Stage::Closed, 20))
        .await
        .expect("closed");
    wait_acknowledged(anna, id).await;
}

/// Runs the retention sweep now, as an administrator: what it did.
async fn sweep(server: &RunningServer, admin: &str) -> Value {
    let (status, body) = http_post(
        server.addr,
        "/api/v1/admin/retention/sweep",
        Some(admin),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

/// The schedule as `token`'s holder reads it.
async fn schedule(server: &RunningServer, token: &str) -> Value {
    let answer = http_get(server.addr, "/api/v1/retention", Some(token)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    serde_json::from_str(&answer.body).expect("json")
}

/// The day `/me/documents` tells `token`'s holder that `case` is to be erased.
async fn notice_to(server: &RunningServer, token: &str, case: DocumentId) -> Value {
    let answer = http_get(server.addr, "/api/v1/me/documents", Some(token)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let list: Value = serde_json::from_str(&answer.body).expect("json");
    list["documents"]
        .as_array()
        .expect("documents")
        .iter()
        .find(|d| d["document_id"] == case.to_string())
        .map(|d| d["erase_on"].clone())
        .unwrap_or_else(|| panic!("{case} is not listed: {list}"))
}

fn kinds(server: &RunningServer, case: DocumentId) -> Vec<String> {
    audit_of(server, case).into_iter().map(|r| r.kind).collect()
}

/// A region's server reading `calendar`, with its administrator, the ROPS coordinator and
/// Anna (a social worker of the GOPS) with her token and her tablet.
struct Region {
    server: RunningServer,
    admin: String,
    coordinator: String,
    anna_token: String,
    anna: SyncClient,
}

impl Region {
    async fn start(calendar: &Calendar, dir: &std::path::Path) -> Self {
        let server = calendar.server(dir).await;
        provision_region(&server);
        Self {
            admin: admin_token(&server, "admin1"),
            coordinator: enroll(&server, "koordynator").token,
            anna_token: enroll(&server, "anna").token,
            anna: tablet(&server, "anna", "tablet-anna"),
            server,
        }
    }

    /// Starts a region where Anna's case (closed in March 2021) was swept on 1 December 2022:
    /// scheduled for 1 January 2023 and Anna told.
    async fn with_a_told_case(calendar: &Calendar, dir: &std::path::Path) -> (Self, DocumentId) {
        let region = Self::start(calendar, dir).await;
        let case = screened_case(&region.anna).await;
        close(&region.anna, case).await;
        calendar.set(2022, 12, 1);
        let swept = sweep(&region.server, &region.admin).await;
        assert_eq!(swept["scheduled"], 1, "{swept}");
        assert_eq!(swept["notified"], 1, "{swept}");
        (region, case)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_case_is_announced_a_month_before_and_erased_on_its_day() {
    let dir = tempfile::tempdir().expect("tempdir");
    let calendar = Calendar::new();
    let Region {
        server,
        admin,
        coordinator,
        anna_token,
        anna,
    } = Region::start(&calendar, dir.path()).await;
    // The family's case, with the scan of a letter, is closed after the screening; another
    // family's case stays open.
    let case = screened_case(&anna).await;
    let scan = pdf_file(300_000);
    let uploaded = upload_rest(server.addr, &anna_token, case, &scan).await;
    assert_eq!(uploaded.status, 200, "{}", uploaded.text());
    close(&anna, case).await;
    let open = screened_case(&anna).await;

    // The sweep reads when it was closed: to be erased on 1 January 2023.
    let swept = sweep(&server, &admin).await;
    assert_eq!(swept["scheduled"], 1, "{swept}");
    assert_eq!(swept["notified"], 0, "{swept}");
    let seen = schedule(&server, &coordinator).await;
    assert_eq!(seen["months"], 12);
    let rows = seen["cases"].as_array().expect("cases");
    assert_eq!(rows.len(), 1, "only the closed case: {seen}");
    let row = &rows[0];
    assert_eq!(row["closed"], "2021-03");
    assert_eq!(row["erase_on"], "2023-01-01");
    assert_eq!(row["notified"], false);
    assert_eq!(row["held"], false);
    // Under a pseudonym: the coordinator is not given the id.
    assert!(row.get("document").is_none(), "{row}");
    assert!(!seen.to_string().contains(&case.to_string()));
    // A social worker does not see the region's schedule.
    let refused = http_get(server.addr, "/api/v1/retention", Some(&anna_token)).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(notice_to(&server, &anna_token, case).await, Value::Null);

    // 30 November 2022: not yet. 1 December: Anna is told.
    calendar.set(2022, 11, 30);
    assert_eq!(sweep(&server, &admin).await["notified"], 0);
    calendar.set(2022, 12, 1);
    assert_eq!(sweep(&server, &admin).await["notified"], 1);
    assert_eq!(notice_to(&server, &anna_token, case).await, "2023-01-01");
    assert_eq!(
        schedule(&server, &coordinator).await["cases"][0]["notified"],
        true
    );

    // The last day of the year it is still there; on 1 January it is erased.
    calendar.set(2022, 12, 31);
    assert_eq!(sweep(&server, &admin).await["erased"], 0);
    assert!(server.state.storage.load_now(case).expect("load").is_some());
    calendar.set(2023, 1, 1);
    let swept = sweep(&server, &admin).await;
    assert_eq!(swept["erased"], 1, "{swept}");

    // Nothing is left of it: not the history, not the scan; the open case is untouched.
    assert_eq!(server.state.storage.load_now(case).expect("load"), None);
    let backend = server.state.blobs.backend();
    assert!(
        backend.all_meta().expect("list").is_empty(),
        "no attachment left"
    );
    let files = backend.files().expect("the embedded store's files");
    assert!(files.all().expect("listed").is_empty(), "no blob file left");
    assert!(server.state.storage.load_now(open).expect("load").is_some());
    assert!(!server
        .state
        .registry
        .visible_to("anna")
        .iter()
        .any(|(id, _, _)| *id == case));
    let rows = schedule(&server, &coordinator).await;
    assert_eq!(rows["cases"].as_array().expect("cases").len(), 0, "{rows}");
    // Every step is in the audit trail, which still verifies.
    let steps = kinds(&server, case);
    for kind in [
        "retention-scheduled",
        "retention-notified",
        "erase",
        "retention-erased",
    ] {
        assert!(steps.iter().any(|k| k == kind), "{kind} in {steps:?}");
    }
    assert!(audit_of(&server, case)
        .iter()
        .any(|r| r.kind == "erase" && r.user.as_deref() == Some("retencja")));
    assert!(server.state.registry.audit().verify().expect("chain") > 0);
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_held_for_a_court_is_kept_until_the_hold_is_lifted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let calendar = Calendar::new();
    let (region, case) = Region::with_a_told_case(&calendar, dir.path()).await;
    let Region {
        server,
        admin,
        coordinator,
        anna_token,
        anna,
    } = region;

    // The family court asks for the file: the administrator holds it; a social worker may not.
    let hold = format!("/api/v1/admin/documents/{case}/retention-hold");
    let body = r#"{"reason": "Sąd Rejonowy w Przykładowie, III Nsm 12/22"}"#;
    let put = |token: &str| {
        let (addr, token, path) = (server.addr, token.to_owned(), hold.clone());
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.expect("tcp");
            http_exchange(tcp, "PUT", &path, Some(&token), body).await
        }
    };
    assert_eq!(put(&anna_token).await.status, 403);
    let held = put(&admin).await;
    assert_eq!(held.status, 200, "{}", held.body);
    let empty = {
        let tcp = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("tcp");
        http_exchange(tcp, "PUT", &hold, Some(&admin), r#"{"reason": " "}"#).await
    };
    assert_eq!(empty.status, 400, "a hold needs its reason: {}", empty.body);

    // Years pass: it is kept, and no one is told it will go.
    calendar.set(2025, 6, 1);
    let swept = sweep(&server, &admin).await;
    assert_eq!(swept["erased"], 0, "{swept}");
    assert!(server.state.storage.load_now(case).expect("load").is_some());
    assert_eq!(notice_to(&server, &anna_token, case).await, Value::Null);
    let row = schedule(&server, &coordinator).await["cases"][0].clone();
    assert_eq!(row["held"], true, "{row}");
    assert_eq!(row["erase_on"], Value::Null, "{row}");
    assert!(
        row.get("hold_reason").is_none(),
        "the coordinator is not told why: {row}"
    );
    let row = schedule(&server, &admin).await["cases"][0].clone();
    assert_eq!(row["document"], case.to_string());
    assert!(row["hold_reason"]
        .as_str()
        .is_some_and(|r| r.contains("III Nsm 12/22")));

    // The proceedings end: the hold is lifted, Anna is told again, and a month later it goes.
    let lifted = {
        let tcp = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("tcp");
        http_exchange(tcp, "DELETE", &hold, Some(&admin), "").await
    };
    assert_eq!(lifted.status, 200, "{}", lifted.body);
    assert_eq!(sweep(&server, &admin).await["notified"], 1);
    assert_eq!(notice_to(&server, &anna_token, case).await, "2025-07-01");
    calendar.set(2025, 6, 30);
    assert_eq!(
        sweep(&server, &admin).await["erased"],
        0,
        "a full month's notice"
    );
    calendar.set(2025, 7, 1);
    assert_eq!(sweep(&server, &admin).await["erased"], 1);
    assert_eq!(server.state.storage.load_now(case).expect("load"), None);
    let steps = kinds(&server, case);
    for kind in [
        "retention-hold",
        "retention-hold-lifted",
        "retention-erased",
    ] {
        assert!(steps.iter().any(|k| k == kind), "{kind} in {steps:?}");
    }
    anna.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_between_the_notice_and_the_day_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let calendar = Calendar::new();
    let (region, case) = Region::with_a_told_case(&calendar, dir.path()).await;
    let (admin, coordinator) = (region.admin.clone(), region.coordinator.clone());
    let before = schedule(&region.server, &coordinator).await;
    region.anna.shutdown().await;
    region.server.shutdown().await.expect("shutdown");

    // Started again after the new year: the same schedule, and the case goes at the next sweep
    // without a second notice.
    calendar.set(2023, 1, 2);
    let server = calendar.server(dir.path()).await;
    let after = schedule(&server, &coordinator).await;
    assert_eq!(before["cases"], after["cases"]);
    assert_eq!(after["cases"][0]["notified"], true, "{after}");
    let swept = sweep(&server, &admin).await;
    assert_eq!(swept["notified"], 0, "{swept}");
    assert_eq!(swept["erased"], 1, "{swept}");
    assert_eq!(server.state.storage.load_now(case).expect("load"), None);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anna_finds_the_notice_among_her_news_in_the_case_app() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let calendar = Calendar::new();
    let server = calendar.server_with(dir.path(), TlsMode::Dev).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    let anna = tablet(&server, "anna", "tablet-anna");
    let case = screened_case(&anna).await;
    close(&anna, case).await;
    anna.shutdown().await;
    calendar.set(2022, 12, 1);
    let swept = kooperacja_server::retention::sweep(&server.state).await;
    assert_eq!(swept.notified, 1, "{swept:?}");

    let spec = serde_json::json!({
        "profile": dir.path().join("anna-browser"),
        "pin": "135790",
        "worker": { "login": "anna", "code": enrolment_code(&server, "anna") },
        "case": case.to_string(),
    });
    let result = BrowserScript {
        script: "retention-news.mjs",
        env: vec![("RETENTION_SPEC", spec.to_string())],
        deadline: std::time::Duration::from_secs(180),
    }
    .run_alone(&server, &cert)
    .await;
    eprintln!("retention news: {result}");
    assert_eq!(result["problems"], serde_json::json!([]), "{result}");
    let items = result["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{result}");
    assert_eq!(items[0]["key"], format!("retention:{case}:2023-01-01"));
    assert!(items[0]["text"]
        .as_str()
        .is_some_and(|t| t.contains("usunięta 1.01.2023")));
    assert!(result["hash"]
        .as_str()
        .is_some_and(|h| h.contains(&case.to_string())));
    assert_eq!(result["after"], serde_json::json!([]), "seen once opened");
    server.shutdown().await.expect("shutdown");
}

/// A region on two nodes over one PostgreSQL database, both sweeping every hour: when their
/// sweeps meet, each step is still taken once (the record is changed by compare and swap on
/// the stored record, not on a node's copy): Anna is told once, and the case is erased once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_sweeping_at_once_tell_and_erase_a_case_once() {
    use kooperacja_test_support::pg_cluster::TestPostgres;
    let pg = TestPostgres::start();
    let calendar = Calendar::new();
    let node = |dir: std::path::PathBuf| {
        let mut config = ServeConfig::for_tests(&dir, TlsMode::InsecureLoopback);
        config.allow_untyped = false;
        config.retention_months = 12;
        config.store = Some(pg.url.clone());
        config.secrets_dir = pg.secrets_dir();
        let now = calendar.0.clone();
        config.clock = Clock::from_fn(move || *now.lock().expect("clock"));
        start_with(config)
    };
    let (dir1, dir2) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let node1 = node(dir1.path().to_path_buf()).await;
    let node2 = node(dir2.path().to_path_buf()).await;
    provision_region(&node1);
    let anna = tablet(&node1, "anna", "tablet-anna");
    let case = screened_case(&anna).await;
    close(&anna, case).await;
    // Node 2 reads the region afresh (as after its listener reconnected): it knows the case
    // is closed, so both sweeps take it up.
    node2.state.registry.refresh("all").expect("refresh");
    assert!(node2
        .state
        .registry
        .finished_cases()
        .iter()
        .any(|(id, _)| *id == case));

    // 1 December 2022, both nodes at once: scheduled once, told once.
    calendar.set(2022, 12, 1);
    let (one, two) = tokio::join!(
        kooperacja_server::retention::sweep(&node1.state),
        kooperacja_server::retention::sweep(&node2.state)
    );
    assert_eq!(one.scheduled + two.scheduled, 1, "{one:?} {two:?}");
    assert_eq!(one.notified + two.notified, 1, "{one:?} {two:?}");
    assert_eq!(one.failed + two.failed, 0, "{one:?} {two:?}");
    // What either node reads of the region's audit log (each sees its own writes at once,
    // the other's once written), each record once.
    let mut records = audit_of(&node1, case);
    records.extend(audit_of(&node2, case));
    let unique: std::collections::BTreeMap<String, String> =
        records.into_iter().map(|r| (r.hash, r.kind)).collect();
    let kinds: Vec<String> = unique.into_values().collect();
    let count = |kind: &str| kinds.iter().filter(|k| *k == kind).count();
    assert_eq!(
        (count("retention-scheduled"), count("retention-notified")),
        (1, 1),
        "{kinds:?}"
    );

    // 1 January 2023: node 1 erases it; node 2's sweep then finds it gone from the store.
    calendar.set(2023, 1, 1);
    let erased = kooperacja_server::retention::sweep(&node1.state).await;
    assert_eq!(erased.erased, 1, "{erased:?}");
    let after = kooperacja_server::retention::sweep(&node2.state).await;
    assert_eq!((after.erased, after.failed), (0, 0), "{after:?}");
    assert_eq!(node1.state.storage.load_now(case).expect("load"), None);
    anna.shutdown().await;
    node2.shutdown().await.expect("node 2 stops");
    node1.shutdown().await.expect("node 1 stops");
}
