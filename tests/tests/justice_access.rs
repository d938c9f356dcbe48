//! Police and court information about a case (GDPR art. 10, issue #22), over the real server:
//! it lives in a justice document beside the case, read and written only by the case's owner
//! and users of the justice-sector institutions assigned to the case. A school assigned to the
//! case, a PZK member reading it by consent, a coordinator and a colleague assigned to it get
//! nothing; creating the part is refused to whoever is not allowed to keep it; unassigning the
//! police cuts it off at once; erasing the case erases the part; the de-identified export and
//! the evaluation never hold it, the access report does.

use automerge::Automerge;
use chrono::Utc;
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use sync_core::model::case::{self, ConsentEvent, ConsentState};
use sync_core::model::justice::{self, JusticeEntry, JusticeProcedure};
use sync_core::model::Editor;
use sync_core::DocumentId;

/// What the police told: a text no other document holds, to look for in what leaves the server.
const SECRET: &str = "Interwencja policji: przemoc wobec matki, sprawca oddalony.";

/// Anna's case: the school assigned, the police assigned, bartek assigned, and consent for
/// the counselling centre (`poradnia`, a member of the same PZK).
async fn case_with_partners(server: &RunningServer) -> DocumentId {
    let d = &server.state.directory;
    d.add_institution("poradnia", "poradnia", "health")
        .expect("institution");
    d.add_user(
        "poradnia-rep",
        "poradnia-rep",
        vec![kooperacja_server::identity::Role::PzkMember],
    )
    .expect("user");
    d.set_institution("poradnia-rep", "poradnia")
        .expect("institution");
    d.add_team_member("pzk1", "poradnia").expect("member");
    server.state.registry.reload_directory().expect("reload");
    let mut family = new_family_case("anna");
    let event = ConsentEvent {
        institution: "poradnia".into(),
        purpose: "pzk".into(),
        state: ConsentState::Given,
        by: "matka".into(),
    };
    let anna = Editor::new("anna", "gops").expect("editor");
    case::record_consent(&mut family, "c1", &event, &anna, Utc::now()).expect("consent");
    let (_owner, case_id) = create_as(server, "anna", family).await;
    let registry = &server.state.registry;
    for (user, institution) in [
        (None, Some("szkola")),
        (None, Some("policja")),
        (Some("bartek"), None),
    ] {
        registry
            .assign(case_id, user, institution, "anna", false)
            .expect("assigned");
    }
    case_id
}

/// A justice document for `case_id` with one entry, written by `login` of `institution`.
fn justice_part(case_id: DocumentId, login: &str, institution: &str) -> Automerge {
    let by = Editor::new(login, institution).expect("editor");
    let mut doc = justice::new_justice(
        &case_id.to_string(),
        automerge::ActorId::random(),
        &by,
        Utc::now(),
    )
    .expect("justice document");
    let entry = JusticeEntry {
        procedure: JusticeProcedure::BlueCard,
        number: "NK-7/2026".into(),
        informed_by: "policja".into(),
        date: Utc::now().date_naive(),
        content: SECRET.into(),
    };
    justice::add_justice_entry(&mut doc, "j1", &entry, &by, Utc::now()).expect("entry");
    doc
}

/// Whether the server takes a new document from `login`'s fresh tablet (false: refused, and
/// nothing of it recorded).
async fn created(server: &RunningServer, login: &str, doc: Automerge) -> bool {
    let t = tablet(server, login, &format!("tablet-{login}-{}", random_id()));
    let mut events = t.events();
    let id = random_id();
    t.create(id, doc).await.expect("saved locally");
    let taken = acknowledged(&t, &mut events, id).await;
    assert_eq!(
        taken,
        server.state.registry.record(&id).is_some(),
        "{login}"
    );
    t.shutdown().await;
    taken
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_and_the_assigned_police_keep_the_justice_part() {
    use Can::*;
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);
    let case_id = case_with_partners(&server).await;
    let case_heads = stored_document(&server, case_id).expect("held").get_heads();
    let doc = justice_part(case_id, "anna", "gops");
    let heads = doc.get_heads();
    let (_anna, justice_id) = create_as(&server, "anna", doc).await;

    let mut rows = Vec::new();
    for (login, on, want) in [
        ("anna", justice_id, ReadWrite),
        ("policja-rep", justice_id, ReadWrite),
        ("szkola-rep", case_id, ReadWrite),
        ("szkola-rep", justice_id, Nothing),
        ("poradnia-rep", case_id, Read),
        ("poradnia-rep", justice_id, Nothing),
        ("bartek", justice_id, Nothing),
        ("koordynator", justice_id, Nothing),
        ("inna", justice_id, Nothing),
    ] {
        let wanted = if on == case_id { &case_heads } else { &heads };
        rows.push((
            login,
            on == justice_id,
            probe(&server, login, on, wanted).await,
            want,
        ));
    }
    let wrong: Vec<_> = rows
        .iter()
        .filter(|(_, _, got, want)| got != want)
        .collect();
    assert!(
        wrong.is_empty(),
        "rows (login, justice part?, got, want) not as expected: {wrong:?}"
    );

    // Creating a part: the assigned police may; the assigned school, who writes the case, and a
    // stranger to the case may not; nor may anyone for a document that is not a case.
    assert!(
        created(
            &server,
            "policja-rep",
            justice_part(case_id, "policja-rep", "policja")
        )
        .await
    );
    assert!(
        !created(
            &server,
            "szkola-rep",
            justice_part(case_id, "szkola-rep", "szkola")
        )
        .await
    );
    assert!(!created(&server, "inna", justice_part(case_id, "inna", "gops2")).await);
    assert!(!created(&server, "anna", justice_part(justice_id, "anna", "gops")).await);

    // Unassigning the police cuts it off at once.
    server
        .state
        .registry
        .assign(case_id, None, Some("policja"), "anna", true)
        .expect("unassigned");
    assert_eq!(
        probe(&server, "policja-rep", justice_id, &heads).await,
        Nothing
    );
    assert_eq!(server.state.registry.justice_parts_of(&case_id).len(), 2);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_report_holds_the_justice_part_and_the_evaluation_never_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);
    let case_id = case_with_partners(&server).await;
    let (_anna, justice_id) =
        create_as(&server, "anna", justice_part(case_id, "anna", "gops")).await;

    let admin = admin_token(&server, "admin");
    let path = format!("/api/v1/admin/documents/{case_id}/access-report");
    let answer = https_get(&server, &path, Some(&admin)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let report: serde_json::Value = serde_json::from_str(&answer.body).expect("json");
    let part = &report["justice"][0];
    assert_eq!(part["document"], justice_id.to_string());
    assert_eq!(part["entries"]["j1"]["content"], SECRET);
    assert_eq!(part["entries"]["j1"]["procedure"], "blue_card");
    assert_eq!(part["entries"]["j1"]["author"], "anna");
    assert!(!part["history"].as_array().expect("history").is_empty());
    // The case itself holds none of it.
    assert!(!report["contents"].to_string().contains(SECRET));
    let html = https_get(&server, &format!("{path}?format=html"), Some(&admin)).await;
    assert!(
        html.body
            .contains("Informacje z procedur prawnych (art. 10 RODO)"),
        "{}",
        html.body
    );
    assert!(
        html.body.contains("procedura „Niebieskie Karty”"),
        "{}",
        html.body
    );

    let coordinator = enroll(&server, "koordynator").token;
    let figures = https_get(
        &server,
        "/api/v1/evaluation?min_group=1",
        Some(&coordinator),
    )
    .await;
    assert_eq!(figures.status, 200, "{}", figures.body);
    let export = kooperacja_server::export::cases(
        &server.state.storage,
        &server.state.registry,
        b"salt",
        Utc::now(),
    )
    .expect("export");
    assert_eq!(export.cases.len(), 1, "only the case is exported");
    let exported = serde_json::to_string(&export).expect("json");
    for text in [&figures.body, &exported] {
        for secret in [SECRET, "NK-7/2026", &justice_id.to_string()] {
            assert!(!text.contains(secret), "{secret:?} left the server: {text}");
        }
    }
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_the_case_erases_its_justice_part() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Plain HTTP on loopback, as `erase_via_api` speaks.
    let mut config = kooperacja_server::config::ServeConfig::for_tests(
        dir.path(),
        kooperacja_server::config::TlsMode::InsecureLoopback,
    );
    config.allow_untyped = false;
    let server = start_with(config).await;
    provision_region(&server);
    let case_id = case_with_partners(&server).await;
    let doc = justice_part(case_id, "anna", "gops");
    let heads = doc.get_heads();
    let (anna, justice_id) = create_as(&server, "anna", doc).await;
    anna.shutdown().await;
    assert!(server
        .state
        .storage
        .load_now(justice_id)
        .expect("load")
        .is_some());

    let admin = admin_token(&server, "admin");
    erase_via_api(&server, &admin, case_id).await;
    let record = server
        .state
        .registry
        .record(&justice_id)
        .expect("record kept");
    assert!(record.erased, "the part is tombstoned with its case");
    assert_eq!(
        server.state.storage.load_now(justice_id).expect("load"),
        None
    );
    assert_eq!(
        probe(&server, "anna", justice_id, &heads).await,
        Can::Nothing
    );
    server.shutdown().await.expect("shutdown");
}
