//! The rest of a social worker's work with a family in the case app (`/app/`), in real headless
//! Chromium with profiles on disk (`web/e2e/case-app-stories.mjs`; see the support crate's
//! `browser` module). Anna's tablet has taken the Nowak family to the delivery of services: the
//! next visit is today, an IPP goal is past its deadline and no monitoring note was written for
//! forty days. In her browser, "Dziś" shows all three; she gives a new case a next-visit date
//! (it shows up too) and closes it after the screening; on the family's card she records the
//! address and phone (a wrong number refused in Polish), a service from the PZK list and its
//! status, the mother's consent to share with the school, shares the case with it and asks it a
//! question. The school's member answers in her own browser; Anna sees the answer, and her card's
//! history lists what changed since her last visit, by whom. She writes the evaluation, records
//! the PZK's decision to end the support and the hand-over to her colleague Bartek, shares the
//! case with him and hands it over; then takes it back from the school, whose browser loses it
//! from its list and from its device store. The server holds all of it (checked with the SDK),
//! and Bartek's device gets the case.
//!
//! The app is the one in `web/dist`, which the server embeds: build it first (`npm run build`).

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use serde_json::{json, Value as Json};
use sync_core::model::case::{self, CaseView, ConsentState, PzkDecision, ServiceStatus, Stage};
use sync_core::model::warsaw;
use sync_core::DocumentId;

/// How long the browsers may take in all (each of their waits times out sooner).
const BROWSER_DEADLINE: Duration = Duration::from_secs(300);

const FAMILY: &str = "Maria Nowak";
const GOAL: &str = "Rodzina spłaca zaległy czynsz w ratach.";
const QUESTION: &str = "Czy syn chodzi do szkoły regularnie od początku miesiąca?";
const ANSWER: &str = "Tak, od dwóch tygodni bez nieobecności.";
const EVALUATION: &str = "Zaległości spłacone, syn chodzi do szkoły; cele osiągnięte.";

async fn run_stories(server: &RunningServer, cert: &std::path::Path, spec: &Json) -> Json {
    let script = BrowserScript {
        script: "case-app-stories.mjs",
        env: vec![("STORIES_SPEC", spec.to_string())],
        deadline: BROWSER_DEADLINE,
    };
    script
        .run(server, cert, |request| async move {
            panic!("case-app-stories.mjs asks nothing: {request}")
        })
        .await
}

/// The case as `client` holds it once `ready` says it has what the browsers wrote.
async fn case_when(
    client: &client_sdk::SyncClient,
    id: DocumentId,
    what: &str,
    ready: fn(&CaseView) -> bool,
) -> CaseView {
    client
        .wait_until(what, WAIT, || async move {
            client
                .read(id, move |doc| {
                    doc.and_then(|d| case::read_case(d).ok())
                        .is_some_and(|v| ready(&v))
                })
                .await
        })
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    client
        .read(id, |doc| {
            case::read_case(doc.expect("the case")).expect("a valid case")
        })
        .await
        .expect("read")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_plans_her_day_records_a_familys_work_with_the_school_and_hands_the_case_over() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    let (_team_tablet, _team) = create_as(&server, "animator1", app_team_document()).await;
    let today = warsaw::local(Utc::now()).date_naive();
    let family = case_in_delivery(
        "anna",
        FAMILY,
        GOAL,
        today - Days::days(10),
        Some(today),
        40,
    );
    let (anna, id) = create_as(&server, "anna", family).await;

    let spec = json!({
        "profiles": dir.path().join("profiles"),
        "pin": "975310",
        "worker": { "code": enrolment_code(&server, "anna"), "login": "anna" },
        "school": { "code": enrolment_code(&server, "szkola-rep"), "login": "szkola-rep" },
        "family": { "document": id.to_string(), "title": FAMILY },
        "colleague": "bartek",
        "service": TUTORING,
        "newFamily": { "person": "Jan Wiśniewski", "reason": "Sąsiedzi zgłaszają awantury." },
        "contact": {
            "address": "ul. Lipowa 5 m. 3, 00-001 Przykładowo",
            "badPhone": "60123456",
            "phone": "601-234-567",
            "phoneShown": "+48 601 234 567",
        },
        "question": QUESTION,
        "answer": ANSWER,
        "evaluation": EVALUATION,
    });
    let result = run_stories(&server, &cert, &spec).await;
    eprintln!("case app stories: {result}");

    // Dziś, from the case documents on the device.
    for kind in ["visit", "goal", "monitoring"] {
        let listed = result["today"][kind]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            listed.contains(&json!(id.to_string())),
            "Dziś lists the family under {kind}: {}",
            result["today"]
        );
    }
    assert_eq!(result["today"]["day"], json!(today.to_string()));
    let fresh = result["newCase"].as_str().expect("the new case's id");
    assert!(result["todayAfter"]["visit"]
        .as_array()
        .is_some_and(|v| v.contains(&json!(fresh))));
    assert_eq!(result["newCaseStage"], json!("closed"));
    // The card.
    let refusal = result["phoneRefusal"].as_str().unwrap_or_default();
    assert!(
        refusal.contains("nie jest numerem telefonu"),
        "refused in Polish: {refusal:?}"
    );
    assert_eq!(
        result["contact"],
        json!({ "address": "ul. Lipowa 5 m. 3, 00-001 Przykładowo",
                "phone": "+48 601 234 567", "tel": "tel:+48601234567" })
    );
    assert_eq!(
        result["schoolHeld"],
        json!(true),
        "the school's device held the case"
    );
    assert!(result["answerSeen"]
        .as_str()
        .is_some_and(|t| t.contains(ANSWER) && t.contains("szkola-rep")));
    // What changed since the worker's last visit: the school's answer, by whom; nothing of hers.
    assert!(result["historyHeading"]
        .as_str()
        .is_some_and(|t| t.starts_with("Zmiany od Twojej ostatniej wizyty")));
    let since: Vec<String> = serde_json::from_value(result["historySince"].clone()).expect("list");
    assert!(
        since
            .iter()
            .any(|l| l.contains("szkola-rep") && l.contains("odpowiedź na konsultację")),
        "{since:?}"
    );
    assert!(since.iter().all(|l| !l.contains("anna")), "{since:?}");
    assert!(!result["blockedBeforeDecision"]
        .as_str()
        .unwrap_or_default()
        .is_empty());
    assert_eq!(result["finalStage"], json!("handed_over"));
    assert!(
        !result["schoolCaseloadAfter"]["titles"]
            .as_array()
            .is_some_and(|t| t.contains(&json!(FAMILY))),
        "unshared: not in the school's list"
    );
    assert_eq!(result["schoolStoreCleared"], json!(true));
    assert_eq!(result["problems"], json!([]), "no page errors");

    // The server holds what the browsers wrote (Anna's tablet follows the case).
    let view = case_when(&anna, id, "the case handed over", |v| {
        v.stage.value == Stage::HandedOver
    })
    .await;
    assert_eq!(
        view.address.as_deref(),
        Some("ul. Lipowa 5 m. 3, 00-001 Przykładowo")
    );
    assert_eq!(view.phone.as_deref(), Some("+48601234567"));
    assert_eq!(view.services[TUTORING].status.value, ServiceStatus::Active);
    assert_eq!(view.services[TUTORING].provider, "szkola");
    assert!(view.consent_in_force("szkola", "pzk"));
    assert!(view
        .consents
        .values()
        .any(|c| c.event.state == ConsentState::Given && c.recorded_by == "anna"));
    let consultation = view.consultations.values().next().expect("a consultation");
    assert_eq!(consultation.request.question, QUESTION);
    let answer = consultation.answers.values().next().expect("an answer");
    assert_eq!(
        (
            answer.answer.by.as_str(),
            answer.answer.institution.as_str()
        ),
        ("szkola-rep", "szkola")
    );
    assert_eq!(answer.answer.text, ANSWER);
    assert!(view.evaluation.text.contains(EVALUATION));
    let decision = view.pzk_decision.as_ref().expect("the 9.2 decision");
    assert_eq!(decision.decision.value, PzkDecision::End);
    let handover = view.handover.as_ref().expect("the hand-over");
    assert_eq!(
        (handover.target.as_str(), handover.target_worker.as_deref()),
        ("gops", Some("bartek"))
    );

    // The colleague's device gets the case handed over to him.
    let bartek = tablet(&server, "bartek", "tablet-bartek");
    bartek.find(id).expect("asks for the case");
    let his = case_when(&bartek, id, "the case on Bartek's device", |v| {
        v.stage.value == Stage::HandedOver
    })
    .await;
    assert_eq!(his.handover, view.handover);
    // The new case, closed after the screening, with its next visit.
    let fresh = DocumentId::parse(fresh).expect("an id");
    let second = tablet(&server, "anna", "tablet-anna-second");
    second.find(fresh).expect("asks for the new case");
    let closed = case_when(&second, fresh, "the new case closed", |v| {
        v.stage.value == Stage::Closed
    })
    .await;
    assert_eq!(closed.next_visit, Some(today));

    for client in [anna, bartek, second] {
        client.shutdown().await;
    }
    server.shutdown().await.expect("clean shutdown");
}
