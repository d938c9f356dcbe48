//! Partners in the case app (`/app/`), in real headless Chromium with profiles kept on disk:
//! the school's pedagogue refers a family while offline, comes online; the GOPS social worker
//! finds the referral in "Zgłoszenia", accepts it, and the case it opens names the referrer
//! and links the referral; the pedagogue sees the outcome and its date and cannot open the case.
//!
//! The browsers run `web/e2e/partners-referral.mjs` against the app in `web/dist` (build it
//! first: `npm run build` in web/). Screenshots go to `KOOPERACJA_SCREENS` (default
//! `/tmp/screens`).

use std::time::Duration;

use automerge::Automerge;
use chrono::Utc;
use kooperacja_test_support::*;
use serde_json::json;
use sync_core::model::case;
use sync_core::model::pzk::{self, InstitutionSector, Member, MemberRole};
use sync_core::model::Editor;
use sync_core::DocumentId;

/// pzk1's document as its animator keeps it: the GOPS (which takes referrals) and the school.
fn team_document() -> Automerge {
    let mut doc = new_team_doc();
    let by = Editor::new("animator1", "gops").expect("editor");
    for (id, name, sector, role) in [
        (
            "gops",
            "GOPS Przykładowo",
            InstitutionSector::SocialAssistance,
            MemberRole::Lead,
        ),
        (
            "szkola",
            "Szkoła Podstawowa nr 1",
            InstitutionSector::Education,
            MemberRole::Member,
        ),
    ] {
        let member = Member {
            name: name.into(),
            sector,
            role,
        };
        pzk::upsert_member(&mut doc, id, &member, &by, Utc::now()).expect("member");
    }
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pedagogue_refers_a_family_offline_and_the_gops_worker_opens_a_case() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    let (_team_tablet, _team) = create_as(&server, "animator1", team_document()).await;
    let screens = screens_dir();

    let spec = json!({
        "profiles": dir.path().join("profiles"),
        "screens": screens,
        "pin": "246810",
        "pedagogue": { "code": enrolment_code(&server, "szkola-rep"), "login": "szkola-rep" },
        "worker": { "code": enrolment_code(&server, "anna"), "login": "anna" },
        "family": {
            "name": "Rodzina Wiśniewskich",
            "reason": "Ola (kl. 2) od października przychodzi bez śniadania; matka nie odbiera telefonów.",
            "contact": "ul. Polna 3, tel. 600 200 300 (matka)",
            "basisNote": "Zgoda ustna matki przy odbiorze dziecka, 3 grudnia.",
        },
    });
    let script = BrowserScript {
        script: "partners-referral.mjs",
        env: vec![("REFERRAL_SPEC", spec.to_string())],
        deadline: Duration::from_secs(240),
    };
    let result = script.run_alone(&server, &cert).await;
    eprintln!("partners referral: {result}");

    // A partner sees no "Dziś" or "Nowa sprawa" (the server refuses a partner's case); the
    // worker does.
    assert_eq!(
        result["pedagogueTabs"],
        json!(["caseload", "referrals", "pzk", "news"])
    );
    assert_eq!(
        result["workerTabs"],
        json!(["caseload", "today", "new-case", "referrals", "pzk", "news"])
    );
    // The pedagogue's form suggested the GOPS of their PZK, and refused a referral without why.
    assert_eq!(result["suggestedTo"], "gops");
    let incomplete = result["incomplete"].as_str().unwrap_or_default();
    assert!(incomplete.contains("powód zgłoszenia"), "{incomplete}");
    assert_eq!(result["statusOffline"], "submitted");
    // The worker saw who referred, how urgent and on what basis, and accepted.
    assert!(result["workerSees"]["by"]
        .as_str()
        .unwrap_or_default()
        .contains("szkola-rep"));
    assert_eq!(result["workerSees"]["urgency"], "pilne");
    assert!(result["caseText"]
        .as_str()
        .unwrap_or_default()
        .contains("szkola-rep"));
    // The pedagogue read the outcome, with no way into the case.
    let outcome = result["pedagogueOutcome"].as_str().unwrap_or_default();
    assert!(outcome.contains("przyjęte"), "{outcome}");
    assert_eq!(result["pedagogueCaseLink"], false);
    assert!(!result["pedagogueCaseError"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
    assert_eq!(result["problems"], json!([]));

    // On the server: the referral accepted, the case the worker's, linked and naming the referrer.
    let referral: DocumentId = result["referral"]
        .as_str()
        .expect("id")
        .parse()
        .expect("doc id");
    let case_id: DocumentId = result["case"]
        .as_str()
        .expect("id")
        .parse()
        .expect("doc id");
    let record = server.state.registry.record(&referral).expect("referral");
    assert_eq!(record.referral_status.as_deref(), Some("accepted"));
    assert_eq!(
        server.state.registry.record(&case_id).expect("case").owner,
        "anna"
    );
    let check = tablet(&server, "anna", "anna-check");
    check.find(case_id).expect("find");
    check
        .wait_until("the case arrives", WAIT, || async {
            Ok(!check.heads(case_id).await?.unwrap_or_default().is_empty())
        })
        .await
        .expect("the case arrives");
    let (by, linked) = check
        .read(case_id, |doc| {
            let doc = doc.expect("held");
            let view = case::read_case(doc).expect("a case");
            (
                view.referral.by,
                case::referral_document(doc).expect("reads"),
            )
        })
        .await
        .expect("read");
    assert_eq!(by, "szkola-rep");
    assert_eq!(linked, Some(referral.to_string()));
    let listed = server.state.registry.visible_to("szkola-rep");
    assert!(listed.iter().all(|(id, ..)| *id != case_id));
    server.shutdown().await.expect("shutdown");
}
