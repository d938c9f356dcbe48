//! Rectification in the case app (`/app/`, issue #22, GDPR art. 16), in real headless Chromium
//! (`web/e2e/case-app-rectify.mjs`): Anna corrects the mother's misspelt name with "Sprostuj"
//! (refused in Polish without a reason); the card shows the new name and lists the correction
//! with who, when, why and old → new; the server holds it as a rectification of the case.
//!
//! The app is the one in `web/dist`, which the server embeds: build it first (`npm run build`).

use std::time::Duration;

use kooperacja_test_support::*;
use serde_json::json;
use sync_core::model::case::{self, HouseholdMember, RectifiedField};

const REASON: &str = "Nazwisko według dowodu osobistego.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_rectifies_a_misspelt_name_and_the_card_lists_it() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    let mother = HouseholdMember {
        name: "Maria Nowk".into(),
        relation: "matka".into(),
        birth_date: None,
    };
    let family = CaseFixture::new("anna", "gops")
        .member("p1", mother)
        .build();
    let (_anna, case_id) = create_as(&server, "anna", family).await;
    let spec = json!({
        "profiles": dir.path().join("profiles"),
        "pin": "246810",
        "case": case_id.to_string(),
        "owner": { "code": enrolment_code(&server, "anna"), "login": "anna" },
        "field": "household/p1/name",
        "value": "Maria Nowak",
        "reason": REASON,
    });
    let script = BrowserScript {
        script: "case-app-rectify.mjs",
        env: vec![("RECTIFY_SPEC", spec.to_string())],
        deadline: Duration::from_secs(180),
    };
    let result = script.run_alone(&server, &cert).await;
    eprintln!("rectification in the case app: {result}");

    let text = |key: &str| result[key].as_str().unwrap_or_default().to_owned();
    assert!(text("before").contains("Maria Nowk"), "{result}");
    assert!(
        text("noReason").contains("Sprostowanie wymaga uzasadnienia"),
        "{result}"
    );
    let listed = text("listed");
    for part in [
        "„Maria Nowk” → „Maria Nowak”",
        REASON,
        "anna",
        "imię i nazwisko",
    ] {
        assert!(listed.contains(part), "{part:?} not in {listed:?}");
    }
    assert!(text("after").contains("Maria Nowak") && !text("after").contains("Nowk"));
    assert_eq!(result["problems"], json!([]));

    // The server holds the correction as such.
    let held = stored_document(&server, case_id).expect("held");
    let corrections = case::read_rectifications(&held).expect("rectifications");
    let (_, only) = corrections.iter().next().expect("one rectification");
    assert_eq!(corrections.len(), 1);
    assert_eq!(only.field, RectifiedField::MemberName("p1".into()));
    assert_eq!(
        (
            only.old.as_deref(),
            only.new.as_deref(),
            only.reason.as_str(),
            only.by.as_str()
        ),
        (Some("Maria Nowk"), Some("Maria Nowak"), REASON, "anna")
    );
    assert_eq!(
        case::read_case(&held).expect("case").household["p1"].name,
        "Maria Nowak"
    );
    server.shutdown().await.expect("shutdown");
}
