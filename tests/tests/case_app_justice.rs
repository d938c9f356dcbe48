//! Police and court information in the case app (`/app/`, issue #22, GDPR art. 10), in real
//! headless Chromium with profiles on disk (`web/e2e/case-app-justice.mjs`): Anna, who runs the
//! Nowak family's case, writes down on its card what the police told her from the Niebieska
//! Karta procedure (an entry without its content refused in Polish); the police officer
//! assigned to the case reads it on the same card; the school, assigned to the case too, sees
//! the card without any trace of it and its device never holds the document. The server holds
//! the entry in the case's justice document, linked from the case, and the school may not hold
//! it.
//!
//! The app is the one in `web/dist`, which the server embeds: build it first (`npm run build`).

use std::time::Duration;

use kooperacja_test_support::*;
use serde_json::json;
use sync_core::model::case;
use sync_core::model::justice::{self, JusticeProcedure};

const CONTENT: &str = "Interwencja domowa 2 marca: wszczęto procedurę „Niebieskie Karty”.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_and_the_police_see_the_justice_part_and_the_school_does_not() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    let (_anna, case_id) = create_as(&server, "anna", new_family_case("anna")).await;
    for institution in ["szkola", "policja"] {
        server
            .state
            .registry
            .assign(case_id, None, Some(institution), "anna", false)
            .expect("assigned");
    }
    let who = |login: &str| json!({ "code": enrolment_code(&server, login), "login": login });
    let spec = json!({
        "profiles": dir.path().join("profiles"),
        "pin": "246810",
        "case": case_id.to_string(),
        "owner": who("anna"),
        "police": who("policja-rep"),
        "school": who("szkola-rep"),
        "entry": { "number": "NK-12/2026", "informedBy": "Komisariat Policji", "content": CONTENT },
    });
    let script = BrowserScript {
        script: "case-app-justice.mjs",
        env: vec![("JUSTICE_SPEC", spec.to_string())],
        deadline: Duration::from_secs(240),
    };
    let result = script.run_alone(&server, &cert).await;
    eprintln!("justice in the case app: {result}");

    assert_eq!(
        result["ownerTitle"],
        "Informacje z procedur prawnych (art. 10 RODO)"
    );
    let incomplete = result["incomplete"].as_str().unwrap_or_default();
    assert!(incomplete.contains("treść informacji"), "{incomplete}");
    for seen in [&result["ownerEntry"], &result["policeEntry"]] {
        let text = seen.as_str().unwrap_or_default();
        assert!(
            text.contains(CONTENT) && text.contains("NK-12/2026"),
            "{text}"
        );
        assert!(text.contains("procedura „Niebieskie Karty”"), "{text}");
    }
    assert_eq!(result["schoolSection"], 0);
    let school_card = result["schoolCardText"].as_str().unwrap_or_default();
    assert!(!school_card.contains("procedur prawnych") && !school_card.contains(CONTENT));
    assert_eq!(result["problems"], json!([]));

    // On the server: one justice document of the case, linked from it, with Anna's entry, which
    // the school may not hold and its device never got.
    let parts = server.state.registry.justice_parts_of(&case_id);
    assert_eq!(parts.len(), 1, "one justice document");
    let part = parts[0];
    let held = |id| stored_document(&server, id).expect("held");
    let view = justice::read_justice(&held(part)).expect("a justice document");
    assert_eq!(view.case, case_id.to_string());
    let entry = view.entries.values().next().expect("an entry");
    assert_eq!(
        (
            entry.entry.procedure,
            entry.entry.content.as_str(),
            entry.author.as_str()
        ),
        (JusticeProcedure::BlueCard, CONTENT, "anna")
    );
    assert_eq!(
        case::justice_document(&held(case_id)).expect("read"),
        Some(part.to_string())
    );
    let school_holds = result["schoolDocuments"].as_array().expect("keys");
    assert!(
        school_holds
            .iter()
            .any(|d| d == &json!(case_id.to_string())),
        "{school_holds:?}"
    );
    assert!(
        school_holds.iter().all(|d| d != &json!(part.to_string())),
        "{school_holds:?}"
    );
    let listed = server.state.registry.visible_to("szkola-rep");
    assert!(listed.iter().all(|(id, ..)| *id != part));
    server.shutdown().await.expect("shutdown");
}
