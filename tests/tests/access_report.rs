//! The access report (GDPR art. 15): Maria Kowalska asks the region what it holds about her
//! family; the administrator makes the report on their case and it holds exactly the case's
//! contents and history and the audit log's records about it, as JSON and as a readable page.

use kooperacja_test_support::*;
use serde_json::Value;
use sync_core::model::case::{self, HouseholdMember, Rectification, RectifiedField};
use sync_core::model::history;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_report_holds_exactly_the_case_and_its_audit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);
    let t = tablet(&server, "anna", "tablet-anna");
    let mut doc = CaseFixture::new("anna", "gops")
        .because("Rodzina Kowalskich: zaległości w czynszu <pilne>.")
        .member(
            "p1",
            HouseholdMember {
                name: "Maria Kowalska".into(),
                relation: "matka".into(),
                birth_date: None,
            },
        )
        .build();
    // Her name was misspelt: corrected as a rectification, with its reason.
    let rectification = Rectification {
        field: RectifiedField::MemberName("p1".into()),
        new: Some("Maria Kowalska-Nowak".into()),
        reason: "Nazwisko według dowodu <osobistego>".into(),
    };
    let anna_at_gops = sync_core::model::Editor::new("anna", "gops").expect("editor");
    case::rectify(
        &mut doc,
        "r1",
        &rectification,
        &anna_at_gops,
        chrono::Utc::now(),
    )
    .expect("rectified");
    let id = random_id();
    t.create(id, doc).await.expect("created");
    wait_acknowledged(&t, id).await;
    let admin = admin_token(&server, "admin");
    let path = format!("/api/v1/admin/documents/{id}/access-report");

    let answer = https_get(&server, &path, Some(&admin)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let report: Value = serde_json::from_str(&answer.body).expect("json");

    // The case as the server holds it: its contents and its whole history.
    let stored = server
        .state
        .storage
        .load_now(id)
        .expect("load")
        .expect("held");
    let held = sync_core::engine::load_stored(&stored).expect("document");
    let contents = serde_json::to_value(automerge::AutoSerde::from(&held)).expect("json");
    assert_eq!(report["contents"], contents);
    assert_eq!(
        report["contents"]["household"]["p1"]["name"],
        "Maria Kowalska-Nowak"
    );
    let corrected = &report["rectifications"]["r1"];
    assert_eq!(corrected["field"], "household/p1/name");
    assert_eq!(corrected["old"], "Maria Kowalska");
    assert_eq!(corrected["new"], "Maria Kowalska-Nowak");
    assert_eq!(corrected["reason"], "Nazwisko według dowodu <osobistego>");
    assert_eq!(corrected["by"], "anna");
    assert_eq!(corrected["institution"], "gops");
    let changes = history::changes_between(&held, &[], &held.get_heads()).expect("history");
    let summaries: Vec<&str> = report["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|c| c["summary"].as_str().expect("summary"))
        .collect();
    let expected: Vec<&str> = changes.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(summaries, expected);
    assert!(!summaries.is_empty());

    // The audit log's records about the case, as they were when the report was made; making
    // the report is recorded after them.
    let audit = audit_of(&server, id);
    let (last, before) = audit.split_last().expect("records");
    assert_eq!(last.kind, "access-report");
    assert_eq!(last.user.as_deref(), Some("admin"));
    assert_eq!(report["audit"], serde_json::to_value(before).expect("json"));
    assert!(!before.is_empty(), "the case's upload is audited");

    // The readable page: the same facts, escaped.
    let page = https_get(&server, &format!("{path}?format=html"), Some(&admin)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("Raport dostępu do danych (art. 15 RODO)"));
    assert!(page.body.contains("Maria Kowalska"));
    assert!(page.body.contains("&lt;pilne&gt;"), "escaped free text");
    assert!(!page.body.contains("<pilne>"));
    assert!(page.body.contains("Sprostowania (art. 16 RODO)"));
    assert!(page
        .body
        .contains("Nazwisko według dowodu &lt;osobistego&gt;"));
    for record in before {
        assert!(
            page.body.contains(&record.kind),
            "{} on the page",
            record.kind
        );
    }

    // Only an administrator makes it; an unknown case is not found.
    let anna = enroll(&server, "anna").token;
    assert_eq!(https_get(&server, &path, Some(&anna)).await.status, 403);
    let unknown = format!("/api/v1/admin/documents/{}/access-report", random_id());
    assert_eq!(https_get(&server, &unknown, Some(&admin)).await.status, 404);
    t.shutdown().await;
    server.shutdown().await.expect("shutdown");

    // The same report from the admin command on the stopped server's data directory.
    let page = kooperacja_server::admin::run(
        dir.path(),
        &dir.path().join("secrets"),
        None,
        kooperacja_server::admin::AdminCommand::AccessReport {
            document: id.to_string(),
            format: "html".into(),
        },
    )
    .expect("report");
    assert!(page.contains("Maria Kowalska"), "{page}");
    assert!(
        page.contains("access-report"),
        "the API's report is on the record: {page}"
    );
}
