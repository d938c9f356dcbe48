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
