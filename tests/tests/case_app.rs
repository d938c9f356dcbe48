//! The case app (`/app/`, embedded in the server) in real headless Chromium, with profiles kept
//! on disk: a social worker signs in with a one-time code, goes offline, creates a case and
//! takes it from the referral through the diagnosis and the IPP to a signed contract, closes
//! the browser, opens it again offline and finds everything, comes online; a second device
//! (this test's Rust SDK client) then holds it. She shares the case with the school, whose
//! member's browser lists only that case and writes the school's diagnosis sector. The same
//! goal's status set on two of her devices while offline shows as a conflict on both, with who
//! set which value and when.
//!
//! The browsers run `web/e2e/case-app.mjs` (see the support crate's `browser` module for what
//! it needs); the app is the one in `web/dist`, which the server embeds: build it first
//! (`npm run build` in web/).

use std::time::Duration;

use automerge::Automerge;
use chrono::Utc;
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use serde_json::{json, Value as Json};
use sync_core::model::case::{self, CaseInit, ContactMode, SigningMode, Stage};
use sync_core::model::{editor, Editor};
use sync_core::DocumentId;

/// How long the browsers may take in all (each of their waits times out sooner).
const BROWSER_DEADLINE: Duration = Duration::from_secs(300);

const SCHOOL_TEXT: &str = "Szkoła: syn opuścił 30% lekcji w semestrze, ma zaległości z matematyki.";

/// A case of the worker's that is not shared with the school (made on her other tablet).
fn other_case() -> Automerge {
    let by = Editor::new("anna", "gops").expect("editor");
    let mut household = std::collections::BTreeMap::new();
    household.insert(
        "p1".to_owned(),
        case::HouseholdMember {
            name: "Jan Kowalski".into(),
            relation: "osoba zgłoszona".into(),
            birth_date: None,
        },
    );
    let init = CaseInit {
        actor: automerge::ActorId::random(),
        owner: "anna".into(),
        lead_institution: "gops".into(),
        referral: case::Referral {
            by: "anna".into(),
            institution: "gops".into(),
            reason: "Zadłużenie mieszkania.".into(),
            at: Utc::now(),
        },
        household,
    };
    case::new_case(&init, &by, Utc::now()).expect("a case")
}

async fn run_stories(server: &RunningServer, cert: &std::path::Path, spec: &Json) -> Json {
    let script = BrowserScript {
        script: "case-app.mjs",
        env: vec![("CASE_SPEC", spec.to_string())],
        deadline: BROWSER_DEADLINE,
    };
    script
        .run(server, cert, |request| async move {
            panic!("case-app.mjs asks nothing: {request}")
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_takes_a_case_to_a_contract_offline_and_shares_it_with_the_school() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    provision_region(&server);
    let (_other_tablet, other) = create_as(&server, "anna", other_case()).await;
    let (_team_tablet, _team) = create_as(&server, "animator1", app_team_document()).await;

    let profiles = dir.path().join("profiles");
    let spec = json!({
        "profiles": profiles,
        "pin": "246810",
        "worker": { "code": enrolment_code(&server, "anna"), "login": "anna" },
        "workerSecond": { "code": enrolment_code(&server, "anna"), "login": "anna" },
        "school": { "code": enrolment_code(&server, "szkola-rep"), "login": "szkola-rep",
                    "institution": "szkola", "sector": "education" },
        "family": { "title": "Maria Nowak", "person": "Maria Nowak",
                    "reason": "Syn często nieobecny w szkole; rodzina po eksmisji." },
        "goalDeadline": "2031-06-30",
        "schoolText": SCHOOL_TEXT,
    });
    let result = run_stories(&server, &cert, &spec).await;
    eprintln!("case app: {result}");

    // What the browsers saw.
    assert_eq!(result["stageAtStart"], json!("referral"));
    assert_eq!(result["movesAtReferral"], json!(["screening"]));
    for blocked in [
        "blockedBeforeScreening",
        "blockedBeforeDiagnosis",
        "blockedBeforeGoal",
        "blockedBeforeSigning",
    ] {
        let reason = result[blocked].as_str().unwrap_or_default();
        assert!(!reason.is_empty(), "{blocked}: the stage bar says why");
    }
    let refusal = result["remoteWithoutNote"].as_str().unwrap_or_default();
    assert!(
        !refusal.is_empty() && !refusal.contains("without"),
        "a remote acceptance without its note is refused in Polish: {refusal:?}"
    );
    // The card redrawn by an edit elsewhere left the unsent signing form as typed.
    assert_eq!(
        result["draftAfterRedraw"],
        json!({ "signer": "Maria Nowak", "mode": "phone" }),
        "a redraw keeps what was typed into a form not yet sent"
    );
    assert_eq!(result["afterReopen"]["stage"], json!("contract"));
    assert_eq!(result["afterReopen"]["signings"], json!(1));
    assert_eq!(result["afterReopen"]["notes"], json!(1));
    assert_eq!(
        result["schoolCaseload"],
        json!(["Maria Nowak"]),
        "the school lists only the case shared with it"
    );
    let read_only = &result["schoolReadOnly"];
    assert_eq!(read_only["diagnosis/education"], json!(false));
    assert_eq!(read_only["diagnosis/social"], json!(true));
    assert!(
        result["conflictShown"]
            .as_str()
            .unwrap_or_default()
            .contains("Zapisano naraz"),
        "the conflict is shown: {}",
        result["conflictShown"]
    );
    assert_eq!(result["problems"], json!([]), "no page errors");

    // The second device: a client of the worker's gets the case from the server.
    let id: DocumentId = result["document"]
        .as_str()
        .and_then(|s| DocumentId::parse(s).ok())
        .expect("the case's document id");
    let second = tablet(&server, "anna", "tablet-anna-second");
    second.find(id).expect("asks the server for the case");
    wait_holds_document(&second, id).await;
    // Holding all the server holds: the browsers had finished, so that is everything.
    wait_acknowledged(&second, id).await;
    let (view, authors) = second
        .read(id, |doc| {
            let doc = doc.expect("the case");
            let authors: Vec<editor::ParsedMessage> = doc
                .get_changes(&[])
                .into_iter()
                .filter_map(|c| c.message().map(editor::parse))
                .collect();
            (case::read_case(doc).expect("a valid case"), authors)
        })
        .await
        .expect("read");
    assert_eq!(view.stage.value, Stage::Contract);
    assert!(
        view.diagnosis.values().any(|t| t.contains(SCHOOL_TEXT)),
        "the school's sector: {:?}",
        view.diagnosis
    );
    assert_eq!(view.owner, "anna");
    assert_eq!(view.goals.len(), 1);
    let goal = view.goals.values().next().expect("the goal");
    // Settled with one tap on the value shown first: one value, no alternatives left.
    let chosen = result["conflictChosen"].as_str().unwrap_or_default();
    assert!(
        ["in_progress", "dropped"].contains(&chosen),
        "one of the two devices' statuses was kept: {chosen:?}"
    );
    assert_eq!(result["statusAfterSettling"], json!(chosen));
    assert_eq!(
        goal.status.value.as_str(),
        chosen,
        "the server holds the kept status"
    );
    assert!(
        goal.status.alternatives.is_empty(),
        "no conflict left: {:?}",
        goal.status.alternatives
    );
    assert_eq!(view.contract.signatures.len(), 1);
    assert_eq!(
        view.contract.signatures[0].signature.mode,
        SigningMode::InPerson
    );
    assert_eq!(view.monitoring.len(), 1);
    assert_eq!(view.monitoring[0].note.mode, ContactMode::HomeVisit);
    assert!(view.household.values().any(|p| p.name == "Maria Nowak"));
    for parsed in &authors {
        let who = (parsed.author.as_deref(), parsed.institution.as_deref());
        assert!(
            matches!(
                who,
                (Some("anna"), Some("gops")) | (Some("szkola-rep"), Some("szkola"))
            ),
            "every change names its author: {parsed:?}"
        );
    }
    assert!(
        authors
            .iter()
            .any(|p| p.author.as_deref() == Some("szkola-rep")),
        "the school wrote its sector"
    );
    // The worker's other case, never shared, stayed out of the school's browser (its caseload
    // above) and is still the worker's.
    second.find(other).expect("asks for the other case");
    wait_holds_document(&second, other).await;

    second.shutdown().await;
    server.shutdown().await.expect("clean shutdown");
}

/// Waits until `client` holds `id` (the server gave it).
async fn wait_holds_document(client: &client_sdk::SyncClient, id: DocumentId) {
    client
        .wait_until("the case on the device", WAIT, || async move {
            client.read(id, |doc| doc.is_some()).await
        })
        .await
        .expect("the case arrives");
}
