//! The region's evaluation while the server runs (`GET /api/v1/evaluation`): a ROPS coordinator
//! gets figures by PZK and by month as JSON and CSV; a figure about fewer than five cases is
//! suppressed (and, where it is the only one of its breakdown, its smallest neighbour too); a
//! social worker may not export; every export is audited.

use kooperacja_server::audit::AuditQuery;
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
