//! A consultation asked through the PZK and "Co nowego", in real headless Chromium with
//! profiles kept on disk: the GOPS worker asks the school about a case that is NOT shared with
//! it; the school's pedagogue sees it in "Nowe" on both her browsers, opens and answers it on
//! one, and it is gone from "Nowe" on the other; the worker sees the answer in the case; the
//! school is refused the case and never holds any of it.
//!
//! The browsers run `web/e2e/consultation-news.mjs` against the app in `web/dist` (build it
//! first: `npm run build` in web/). Screenshots go to `KOOPERACJA_SCREENS` (default
//! `/tmp/screens`).

use std::time::Duration;

use kooperacja_test_support::*;
use serde_json::json;
use sync_core::model::pzk;
use sync_core::model::seen;
use sync_core::DocumentId;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_school_answers_a_consultation_about_a_case_it_cannot_see_and_news_clears_on_all_its_devices(
) {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    let (_team_tablet, pzk_id) = create_as(&server, "animator1", app_team_document()).await;
    let (_case_tablet, case_id) = create_as(&server, "anna", new_family_case("anna")).await;
    let screens = screens_dir();

    let spec = json!({
        "profiles": dir.path().join("profiles"),
        "screens": screens,
        "pin": "246810",
        "case": case_id.to_string(),
        "worker": { "code": enrolment_code(&server, "anna"), "login": "anna" },
        "pedagogue": { "code": enrolment_code(&server, "szkola-rep"), "login": "szkola-rep" },
        "pedagogueSecond": { "code": enrolment_code(&server, "szkola-rep"), "login": "szkola-rep" },
        "question": "Czy Ola przychodzi do szkoły głodna i czy bywa na świetlicy?",
        "answer": "Od października zwykle bez śniadania; na świetlicy codziennie do 15:00.",
    });
    let script = BrowserScript {
        script: "consultation-news.mjs",
        env: vec![("CONSULTATION_SPEC", spec.to_string())],
        deadline: Duration::from_secs(240),
    };
    let result = script.run_alone(&server, &cert).await;
    eprintln!("consultation and news: {result}");

    let consultation = result["consultation"].as_str().expect("an id").to_owned();
    let item = format!("consultation:{pzk_id}:{consultation}");
    // The worker was offered the school, and the question says it goes through the PZK.
    assert!(result["askedOf"]
        .as_str()
        .unwrap_or_default()
        .contains("Szkoła Podstawowa nr 1"));
    // "Nowe": on both of the pedagogue's browsers, with a count on the tab; once opened on one,
    // gone from both.
    assert_eq!(
        result["tabs"],
        json!(["caseload", "referrals", "pzk", "news"])
    );
    assert!(result["badge"].as_u64().unwrap_or(0) >= 1, "{result}");
    assert!(result["secondBefore"]
        .as_array()
        .expect("keys")
        .contains(&json!(item)));
    assert!(!result["firstAfter"]
        .as_array()
        .expect("keys")
        .contains(&json!(item)));
    assert!(!result["secondAfter"]
        .as_array()
        .expect("keys")
        .contains(&json!(item)));
    let answer = "Od października zwykle bez śniadania";
    assert!(result["workerSees"]
        .as_str()
        .unwrap_or_default()
        .contains(answer));
    // The school never had the case: refused in the app, no chunk of it in either browser.
    assert!(!result["pedagogueCaseError"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
    assert_eq!(result["caseChunks"], 0);
    assert_eq!(result["problems"], json!([]));

    // On the server: the case is not the school's; the PZK document carries the question, by the
    // case's id only, and the school's answer; the pedagogue's "seen" document holds the item
    // and is hers alone.
    let listed = server.state.registry.visible_to("szkola-rep");
    assert!(listed.iter().all(|(id, ..)| *id != case_id));
    let record = server
        .state
        .registry
        .record(&pzk_id)
        .expect("the PZK document");
    assert!(record.addressed_checked.contains(&consultation));
    let check = tablet(&server, "szkola-rep", "szkola-check");
    check.find(pzk_id).expect("find");
    check
        .wait_until("the PZK document arrives", WAIT, || async {
            Ok(!check.heads(pzk_id).await?.unwrap_or_default().is_empty())
        })
        .await
        .expect("arrives");
    let wanted = consultation.clone();
    let (case_ref, answered_by) = check
        .read(pzk_id, move |doc| {
            let view = pzk::read_pzk(doc.expect("held")).expect("a PZK document");
            let c = &view.consultations[&wanted];
            let by: Vec<String> = c
                .consultation
                .answers
                .values()
                .map(|a| a.answer.by.clone())
                .collect();
            (c.case_ref.clone(), by)
        })
        .await
        .expect("read");
    assert_eq!(case_ref, case_id.to_string());
    assert_eq!(answered_by, ["szkola-rep"]);
    let seen_docs: Vec<DocumentId> = listed
        .iter()
        .filter(|(_, kind, _)| *kind == kooperacja_server::access::Kind::Seen)
        .map(|(id, ..)| *id)
        .collect();
    assert!(
        !seen_docs.is_empty(),
        "the pedagogue's seen document: {listed:?}"
    );
    let mut seen_items = Vec::new();
    for id in &seen_docs {
        check.find(*id).expect("find");
        check
            .wait_until("the seen document arrives", WAIT, || async {
                Ok(!check.heads(*id).await?.unwrap_or_default().is_empty())
            })
            .await
            .expect("arrives");
        let keys = check
            .read(*id, |doc| {
                seen::read_seen(doc.expect("held")).map(|v| v.seen.into_keys().collect::<Vec<_>>())
            })
            .await
            .expect("read")
            .expect("a seen document");
        seen_items.extend(keys);
        assert!(server
            .state
            .registry
            .visible_to("anna")
            .iter()
            .all(|(d, ..)| d != id));
    }
    assert!(seen_items.contains(&item), "{seen_items:?}");
    server.shutdown().await.expect("shutdown");
}
