//! The de-identified export for the ROPS evaluation holds stages, services and durations, and
//! no names, free text or document ids.

use kooperacja_server::admin::{run, AdminCommand};
use kooperacja_server::config::{ServeConfig, TlsMode};
use kooperacja_test_support::*;
use sync_core::model::case::HouseholdMember;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_has_no_names_and_no_free_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ServeConfig::for_tests(dir.path(), TlsMode::Dev);
    config.allow_untyped = false;
    let server = start_with(config).await;
    let t = tablet(&server, "anna", "tablet-anna");
    let mut ids = Vec::new();
    for name in ["Kowalska", "Nowak"] {
        let doc = CaseFixture::new("anna", "gops")
            .because(&format!("Rodzina {name}: zaległości w czynszu."))
            .member(
                "p1",
                HouseholdMember {
                    name: format!("Maria {name}"),
                    relation: "matka".into(),
                    birth_date: None,
                },
            )
            .build();
        let id = random_id();
        t.create(id, doc).await.expect("created");
        wait_acknowledged(&t, id).await;
        ids.push(id);
    }
    t.shutdown().await;
    server.shutdown().await.expect("shutdown");

    let json = run(
        dir.path(),
        &dir.path().join("secrets"),
        None,
        AdminCommand::Export {
            format: "json".into(),
        },
    )
    .expect("export");
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["cases"].as_array().expect("rows").len(), 2);
    assert_eq!(value["per_stage"]["referral"], 2);
    let csv = run(
        dir.path(),
        &dir.path().join("secrets"),
        None,
        AdminCommand::Export {
            format: "csv".into(),
        },
    )
    .expect("export");
    assert_eq!(csv.lines().count(), 3, "{csv}");
    for text in [&json, &csv] {
        for secret in ["Kowalska", "Nowak", "czynszu", "anna", "pedagog"] {
            assert!(
                !text.contains(secret),
                "{secret:?} leaked into the export: {text}"
            );
        }
        for id in &ids {
            assert!(!text.contains(&id.to_string()), "a document id leaked");
        }
    }
}

/// A case closed after the screening counts its days to its closing: the export run years
/// later still says one day (created 1 March 2021 at 9:00, closed 2 March at 20:00), while a case
/// opened the same morning and still open counts to today.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_case_counts_its_days_to_its_closing() {
    use kooperacja_test_support::nowak::{march, move_to, not_qualify};
    use sync_core::model::case::Stage;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = ServeConfig::for_tests(dir.path(), TlsMode::Dev);
    config.allow_untyped = false;
    let server = start_with(config).await;
    let t = tablet(&server, "anna", "tablet-anna");
    let mut closed = CaseFixture::new("anna", "gops")
        .created_at(march(1, 9))
        .build();
    move_to(&mut closed, Stage::Screening, 1);
    not_qualify(&mut closed);
    move_to(&mut closed, Stage::Closed, 20);
    let open = CaseFixture::new("anna", "gops")
        .created_at(march(1, 9))
        .build();
    for doc in [closed, open] {
        let id = random_id();
        t.create(id, doc).await.expect("created");
        wait_acknowledged(&t, id).await;
    }
    t.shutdown().await;
    server.shutdown().await.expect("shutdown");

    let json = run(
        dir.path(),
        &dir.path().join("secrets"),
        None,
        AdminCommand::Export {
            format: "json".into(),
        },
    )
    .expect("export");
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    let rows = value["cases"].as_array().expect("rows");
    let closed = rows
        .iter()
        .find(|r| r["stage"] == "closed")
        .expect("the closed case");
    assert_eq!(closed["days_open"], 1, "{closed}");
    assert_eq!(closed["closed"], "2021-03", "{closed}");
    assert_eq!(closed["opened"], "2021-03", "{closed}");
    let open = rows
        .iter()
        .find(|r| r["stage"] == "referral")
        .expect("the open case");
    let expected = (chrono::Utc::now() - march(1, 9)).num_days();
    let days = open["days_open"].as_i64().expect("days");
    assert!(
        days == expected || days + 1 == expected,
        "an open case counts to today: {open}, expected about {expected}"
    );
    assert!(open["closed"].is_null(), "{open}");
}
