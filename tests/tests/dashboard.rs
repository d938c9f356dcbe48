//! The evaluation dashboard of the case app (`/app/#/ewaluacja`) in real headless Chromium
//! (`web/e2e/dashboard.mjs`; see the support crate's `browser` module), over a region of two
//! gminas: five families' cases of the GOPS (gmina A, two at their screening) and four of
//! `gops2` (gmina B, fewer than the server's minimum of five). A ROPS coordinator signs in and
//! opens the dashboard: every chart is drawn, the table shows the region's figures with gmina
//! B's hidden ("< 5 (ukryte)"); narrowed to gmina A the figures change to its own; the CSV of
//! that scope downloads. One of the GOPS's families was not taken in after the screening: the
//! retention schedule below the figures shows its closed case under a pseudonym, to be erased
//! ten years from 1 January after its closing, its owner not yet told. A social worker has no
//! dashboard: not in her navigation, refused at its address, and refused by the server.
//!
//! The app is the one in `web/dist`, which the server embeds: build it first (`npm run build`).

use std::time::Duration;

use kooperacja_test_support::evaluation_region::{
    enter_cases, place_region, GMINA_A, GMINA_B, POWIAT,
};
use kooperacja_test_support::nowak::not_qualify;
use kooperacja_test_support::*;
use serde_json::{json, Value as Json};
use sync_core::model::case::{workflow, Stage};

const BROWSER_DEADLINE: Duration = Duration::from_secs(240);

/// The text of the table's row for a figure without a breakdown key.
fn row<'a>(rows: &'a Json, dimension: &str, group: &str, measure: &str) -> &'a Json {
    rows.as_array()
        .expect("rows")
        .iter()
        .find(|r| {
            r["dimension"] == dimension
                && r["group"] == group
                && r["measure"] == measure
                && r["key"] == ""
        })
        .unwrap_or_else(|| panic!("no row {dimension}/{group}/{measure} in {rows}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_reads_the_dashboard_and_a_social_worker_is_refused() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    place_region(&server);
    enter_cases(&server, "anna", "gops", 4, 2).await;
    // The fifth family of the GOPS is not taken in after the screening: its case is closed,
    // and the retention sweep schedules it.
    let by = sync_core::model::Editor::new("anna", "gops").expect("editor");
    let mut closed = CaseFixture::new("anna", "gops").build();
    let now = chrono::Utc::now();
    workflow::transition(&mut closed, Stage::Screening, &by, now).expect("screening");
    not_qualify(&mut closed);
    workflow::transition(&mut closed, Stage::Closed, &by, now).expect("closed");
    let closed_id = random_id();
    let anna = tablet(&server, "anna", "tablet-anna-closing");
    anna.create(closed_id, closed).await.expect("created");
    wait_acknowledged(&anna, closed_id).await;
    anna.shutdown().await;
    let swept = kooperacja_server::retention::sweep(&server.state).await;
    assert_eq!(swept.scheduled, 1, "{swept:?}");
    enter_cases(&server, "ewa", "gops2", 4, 0).await;

    let spec = json!({
        "profiles": [dir.path().join("coordinator"), dir.path().join("worker")],
        "pin": "135790",
        "coordinator": { "login": "koordynator", "code": enrolment_code(&server, "koordynator") },
        "worker": { "login": "bartek", "code": enrolment_code(&server, "bartek") },
        "gmina": GMINA_A,
    });
    let script = BrowserScript {
        script: "dashboard.mjs",
        env: vec![("DASHBOARD_SPEC", spec.to_string())],
        deadline: BROWSER_DEADLINE,
    };
    let result = script
        .run(&server, &cert, |request| async move {
            panic!("dashboard.mjs asks nothing: {request}")
        })
        .await;
    eprintln!("dashboard: {result}");
    assert_eq!(result["problems"], json!([]), "{result}");

    // Every chart is drawn, among them the cases by stage and by gmina.
    let charts = &result["charts"];
    assert!(charts["charts"].as_u64() >= Some(4), "{charts}");
    assert_eq!(charts["painted"], charts["charts"], "{charts}");
    for id in ["cases_by_stage", "gmina-cases", "month-cases"] {
        assert!(
            charts["ids"].as_array().expect("ids").contains(&json!(id)),
            "{id}: {charts}"
        );
    }
    // The region's figures; gmina B's hidden.
    let region = &result["region"];
    assert_eq!(row(region, "region", "region", "cases")["text"], "9");
    assert_eq!(row(region, "powiat", POWIAT, "cases")["text"], "9");
    assert_eq!(row(region, "gmina", GMINA_A, "cases")["text"], "5");
    let hidden = row(region, "gmina", GMINA_B, "cases");
    assert_eq!(hidden["text"], "< 5 (ukryte)", "{hidden}");
    assert_eq!(hidden["suppressed"], true, "{hidden}");
    assert!(result["status"]
        .as_str()
        .is_some_and(|s| s.contains("cały region") && s.contains("< 5")));

    // The retention schedule: the closed case, under a pseudonym, due ten years from 1 January.
    let due = format!("{}-01-01", chrono::Datelike::year(&now) + 11);
    let retention = result["retention"].as_array().expect("retention rows");
    assert_eq!(retention.len(), 1, "{result}");
    assert_eq!(retention[0]["eraseOn"], due.as_str(), "{result}");
    assert_eq!(retention[0]["notified"], "false");
    assert!(!result.to_string().contains(&closed_id.to_string()));
    assert!(result["retentionPeriod"]
        .as_str()
        .is_some_and(|t| t.contains("10 lat")));

    // Narrowed to gmina A: its five cases are the region's figure, gmina B is gone.
    let gmina = &result["gmina"];
    assert_eq!(row(gmina, "region", "region", "cases")["text"], "5");
    assert!(!gmina.to_string().contains(GMINA_B), "{gmina}");
    assert_eq!(
        result["gminaCharts"]["painted"],
        result["gminaCharts"]["charts"]
    );

    // The CSV of that scope.
    assert_eq!(result["csvName"], "ewaluacja.csv");
    let csv = result["csv"].as_str().expect("csv");
    assert!(csv.starts_with("dimension,group,measure,key,value,suppressed\n"));
    assert!(csv.contains("region,region,cases,,5,false\n"), "{csv}");
    assert!(
        csv.contains(&format!("gmina,{GMINA_A},cases,,5,false\n")),
        "{csv}"
    );
    assert!(!csv.contains(GMINA_B), "{csv}");

    // The social worker: no link, a refusal at the address, and the server's own 403.
    assert!(
        !result["workerNav"]
            .as_array()
            .expect("nav")
            .contains(&json!("evaluation")),
        "{result}"
    );
    assert!(result["workerRefusal"]
        .as_str()
        .is_some_and(|t| t.contains("koordynatorów ROPS")));
    assert_eq!(result["workerTable"], 0);
    let bartek = enroll(&server, "bartek").token;
    let refused = https_get(&server, "/api/v1/evaluation", Some(&bartek)).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    server.shutdown().await.expect("shutdown");
}
