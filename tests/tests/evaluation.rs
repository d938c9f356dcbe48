//! The region's evaluation while the server runs (`GET /api/v1/evaluation`): a ROPS coordinator
//! gets figures by PZK and by month as JSON and CSV; a figure about fewer than five cases is
//! suppressed (and, where it is the only one of its breakdown, its smallest neighbour too); a
//! social worker may not export; every export is audited. In a region of two gminas the figures
//! go by gmina and powiat too and may be scoped to one of them: a gmina of four families stays
//! hidden and of five is shown, and a server set to groups of ten hides nine.

use kooperacja_server::audit::AuditQuery;
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_test_support::evaluation_region::{
    enter_cases, place_region, GMINA_A, GMINA_B, POWIAT,
};
use kooperacja_test_support::nowak::{march, move_to, not_qualify};
use kooperacja_test_support::*;
use serde_json::Value;
use sync_core::model::case::Stage;

fn cell<'a>(
    figures: &'a Value,
    dimension: &str,
    group: &str,
    measure: &str,
    key: &str,
) -> &'a Value {
    figures["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| {
            c["dimension"] == dimension
                && c["group"] == group
                && c["measure"] == measure
                && c["key"] == key
        })
        .unwrap_or_else(|| panic!("no cell {dimension}/{group}/{measure}/{key} in {figures}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_sees_the_figures_and_small_groups_stay_hidden() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);
    let t = tablet(&server, "anna", "tablet-anna");
    // Six families referred this month, and one closed after its screening in March 2021.
    let mut docs: Vec<_> = (0..6)
        .map(|i| {
            CaseFixture::new("anna", "gops")
                .because(&format!("Rodzina {i}: zaległości w czynszu."))
                .build()
        })
        .collect();
    let mut closed = CaseFixture::new("anna", "gops")
        .created_at(march(1, 9))
        .build();
    move_to(&mut closed, Stage::Screening, 1);
    not_qualify(&mut closed);
    move_to(&mut closed, Stage::Closed, 20);
    docs.push(closed);
    for doc in docs {
        let id = random_id();
        t.create(id, doc).await.expect("created");
        wait_acknowledged(&t, id).await;
    }

    let coordinator = enroll(&server, "koordynator").token;
    let answer = https_get(&server, "/api/v1/evaluation", Some(&coordinator)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let figures: Value = serde_json::from_str(&answer.body).expect("json");
    assert_eq!(figures["min_group"], 5);
    assert_eq!(
        cell(&figures, "region", "region", "cases", "")["value"],
        7.0
    );
    assert_eq!(cell(&figures, "pzk", "pzk1", "cases", "")["value"], 7.0);
    // One closed case: its stage count is suppressed, and so is the only other count of the
    // breakdown, which would give it away (7 - 6).
    for stage in ["closed", "referral"] {
        let c = cell(&figures, "region", "region", "cases_by_stage", stage);
        assert_eq!(c["suppressed"], true, "{c}");
        assert!(c["value"].is_null(), "{c}");
    }
    // The month of 2021 has one case: nothing about it is shown.
    let march_2021 = cell(&figures, "month", "2021-03", "cases", "");
    assert_eq!(march_2021["suppressed"], true, "{march_2021}");
    let days = cell(&figures, "month", "2021-03", "days_in_stage", "screening");
    assert!(days["value"].is_null(), "{days}");
    // Seven referrals from the school (the education sector).
    let referrals = cell(
        &figures,
        "region",
        "region",
        "referrals_by_sector",
        "education",
    );
    assert_eq!(referrals["value"], 7.0, "{referrals}");

    // The same as CSV, without free text, names or days.
    let csv = https_get(&server, "/api/v1/evaluation?format=csv", Some(&coordinator)).await;
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv
        .body
        .starts_with("dimension,group,measure,key,value,suppressed\n"));
    assert!(
        csv.body
            .contains("region,region,cases_by_stage,closed,,true\n"),
        "{}",
        csv.body
    );
    for text in [&answer.body, &csv.body] {
        for secret in ["czynszu", "Rodzina", "anna", "2021-03-01", "2021-03-02"] {
            assert!(!text.contains(secret), "{secret:?} leaked: {text}");
        }
    }

    // A larger minimum may be asked for, never a smaller one.
    let strict = https_get(
        &server,
        "/api/v1/evaluation?min_group=8",
        Some(&coordinator),
    )
    .await;
    let strict: Value = serde_json::from_str(&strict.body).expect("json");
    assert_eq!(
        cell(&strict, "region", "region", "cases", "")["suppressed"],
        true
    );
    let lax = https_get(
        &server,
        "/api/v1/evaluation?min_group=1",
        Some(&coordinator),
    )
    .await;
    let lax: Value = serde_json::from_str(&lax.body).expect("json");
    assert_eq!(lax["min_group"], 5);

    // A social worker may not export; the coordinator's exports are in the audit log.
    let anna = enroll(&server, "anna").token;
    let refused = https_get(&server, "/api/v1/evaluation", Some(&anna)).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let audited = server
        .state
        .registry
        .audit()
        .query(&AuditQuery::default())
        .expect("audit");
    let exports = audited
        .iter()
        .filter(|r| r.kind == "evaluation-export")
        .count();
    assert_eq!(exports, 4, "{audited:?}");
    t.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

/// A typed server whose smallest group is `min_group`, over the region of two gminas with
/// five families' cases of the GOPS (gmina A, two at their screening) and four of `gops2`
/// (gmina B); and the coordinator's token.
async fn seeded_region(
    dir: &std::path::Path,
    min_group: usize,
) -> (kooperacja_server::serve::RunningServer, String) {
    let mut config = ServeConfig::for_tests(dir, TlsMode::Dev);
    config.allow_untyped = false;
    config.evaluation_min_group = min_group;
    let server = start_with(config).await;
    provision_region(&server);
    place_region(&server);
    enter_cases(&server, "anna", "gops", 5, 2).await;
    enter_cases(&server, "ewa", "gops2", 4, 0).await;
    let coordinator = enroll(&server, "koordynator").token;
    (server, coordinator)
}

async fn figures_at(
    server: &kooperacja_server::serve::RunningServer,
    token: &str,
    path: &str,
) -> Value {
    let answer = https_get(server, path, Some(token)).await;
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    serde_json::from_str(&answer.body).expect("json")
}

/// The value of a cell, or `None` when it is suppressed (which must leave it null).
fn shown(figures: &Value, dimension: &str, group: &str, measure: &str) -> Option<f64> {
    let c = cell(figures, dimension, group, measure, "");
    assert_eq!(c["suppressed"], c["value"].is_null(), "{c}");
    c["value"].as_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gmina_of_four_families_stays_hidden_and_of_five_is_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, coordinator) = seeded_region(dir.path(), 5).await;
    let all = figures_at(&server, &coordinator, "/api/v1/evaluation").await;
    assert_eq!(all["min_group"], 5);
    assert_eq!(shown(&all, "region", "region", "cases"), Some(9.0));
    assert_eq!(shown(&all, "powiat", POWIAT, "cases"), Some(9.0));
    assert_eq!(shown(&all, "gmina", GMINA_A, "cases"), Some(5.0));
    assert_eq!(shown(&all, "pzk", "pzk1", "cases"), Some(5.0));
    assert_eq!(shown(&all, "gmina", GMINA_B, "cases"), None);
    assert_eq!(shown(&all, "pzk", "pzk2", "cases"), None);
    let ipc = cell(&all, "gmina", GMINA_B, "institutions_per_case", "");
    assert!(ipc["value"].is_null() && ipc["suppressed"] == true, "{ipc}");

    // One gmina's scope: the other's cases are out of every figure.
    let a = figures_at(
        &server,
        &coordinator,
        &format!("/api/v1/evaluation?gmina={GMINA_A}"),
    )
    .await;
    assert_eq!(shown(&a, "region", "region", "cases"), Some(5.0));
    assert!(!a.to_string().contains(GMINA_B), "{a}");
    let b = figures_at(
        &server,
        &coordinator,
        &format!("/api/v1/evaluation?gmina={GMINA_B}"),
    )
    .await;
    assert_eq!(shown(&b, "region", "region", "cases"), None);
    let pzk1 = figures_at(&server, &coordinator, "/api/v1/evaluation?pzk=pzk1").await;
    assert_eq!(shown(&pzk1, "region", "region", "cases"), Some(5.0));
    // Months outside the cases' own: no case figure at all.
    let old = figures_at(
        &server,
        &coordinator,
        "/api/v1/evaluation?from=2020-01&to=2020-12",
    )
    .await;
    assert!(
        old["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .all(|c| c["measure"] != "cases"),
        "{old}"
    );
    // A bad scope is refused, never ignored.
    for bad in [
        "gmina=Wadowice",
        "powiat=12",
        "from=2026-13",
        "from=2026-05&to=2026-01",
    ] {
        let answer = https_get(
            &server,
            &format!("/api/v1/evaluation?{bad}"),
            Some(&coordinator),
        )
        .await;
        assert_eq!(answer.status, 400, "{bad}: {}", answer.body);
    }

    // The fifth family of gmina B: now its figures show.
    enter_cases(&server, "ewa", "gops2", 1, 0).await;
    let all = figures_at(&server, &coordinator, "/api/v1/evaluation").await;
    assert_eq!(shown(&all, "gmina", GMINA_B, "cases"), Some(5.0));
    assert_eq!(shown(&all, "pzk", "pzk2", "cases"), Some(5.0));
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_set_to_groups_of_ten_hides_nine() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, coordinator) = seeded_region(dir.path(), 10).await;
    // Nine cases: hidden, and a smaller minimum cannot be asked for.
    for path in ["/api/v1/evaluation", "/api/v1/evaluation?min_group=3"] {
        let figures = figures_at(&server, &coordinator, path).await;
        assert_eq!(figures["min_group"], 10, "{path}");
        assert_eq!(shown(&figures, "region", "region", "cases"), None, "{path}");
    }
    enter_cases(&server, "ewa", "gops2", 1, 0).await;
    let figures = figures_at(&server, &coordinator, "/api/v1/evaluation").await;
    assert_eq!(shown(&figures, "region", "region", "cases"), Some(10.0));
    assert_eq!(shown(&figures, "powiat", POWIAT, "cases"), Some(10.0));
    assert_eq!(shown(&figures, "gmina", GMINA_A, "cases"), None);
    assert_eq!(shown(&figures, "gmina", GMINA_B, "cases"), None);
    let csv = https_get(&server, "/api/v1/evaluation?format=csv", Some(&coordinator)).await;
    assert!(
        csv.body
            .contains(&format!("gmina,{GMINA_A},cases,,,true\n")),
        "{}",
        csv.body
    );
    server.shutdown().await.expect("shutdown");
}
