//! The remote PZK meeting page (`web/`, embedded in the server) in two real headless Chromium
//! sessions: two members of different institutions log in with one-time codes, see the agenda,
//! the services and each other, write the minutes together, one goes offline and comes back,
//! and both converge; then the server's copy of the document is checked.
//!
//! The browsers run in `web/e2e/meeting.mjs` (see `kooperacja_test_support::browser`: the
//! server's development certificate, and the tools the test needs, which it never skips
//! without). Each member signs in and chooses the PIN of the device's encrypted store, where
//! the page keeps the PZK document. `MEETING_LATENCY_SAMPLES` (default 20)
//! sets how many presence and keystroke latency samples are taken and printed (never asserted);
//! `MEETING_SCREENSHOT` saves a screenshot of the first member's page.

use std::path::Path;
use std::time::Duration;

use automerge::Automerge;
use chrono::Utc;
use kooperacja_server::identity::Role;
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use serde_json::{json, Value as Json};
use sync_core::model::editor;
use sync_core::model::pzk::{
    self, InstitutionSector, Member, MemberRole, PzkInit, Representative, ServiceEntry,
};
use sync_core::DocumentId;

/// How long the browsers may take in all (each of their waits times out sooner).
const BROWSER_DEADLINE: Duration = Duration::from_secs(240);

/// The region: a gmina's PZK with three member institutions, its animator, two members and a
/// coordinator (who may read the PZK document but not write it).
fn provision(server: &RunningServer) {
    let d = &server.state.directory;
    for (id, name, sector) in [
        ("gops-przykladowo", "GOPS Przykładowo", "social"),
        ("sp1-przykladowo", "Szkoła Podstawowa nr 1", "education"),
        ("kpp-przykladowo", "Komenda Powiatowa Policji", "police"),
    ] {
        d.add_institution(id, name, sector).expect("institution");
    }
    for (login, name, role, institution) in [
        ("ewa", "Ewa Nowak", Role::Animator, Some("gops-przykladowo")),
        (
            "jan",
            "Jan Wiśniewski",
            Role::PzkMember,
            Some("sp1-przykladowo"),
        ),
        (
            "marta",
            "Marta Zielińska",
            Role::PzkMember,
            Some("kpp-przykladowo"),
        ),
        ("koordynator", "Koordynator ROPS", Role::Coordinator, None),
    ] {
        d.add_user(login, name, vec![role]).expect("user");
        if let Some(i) = institution {
            d.set_institution(login, i).expect("institution");
        }
    }
    d.add_team("pzk-przykladowo", "PZK Gminy Przykładowo", "ewa")
        .expect("team");
    for i in ["gops-przykladowo", "sp1-przykladowo", "kpp-przykladowo"] {
        d.add_team_member("pzk-przykladowo", i).expect("member");
    }
    server.state.registry.reload_directory().expect("reload");
}

const AGENDA: [&str; 3] = [
    "Otwarcie i przyjęcie porządku",
    "Konsultacja sprawy R-2024/17",
    "Aktualizacja listy usług",
];
const SERVICES: [&str; 2] = [
    "Korepetycje z matematyki w świetlicy szkolnej.",
    "Dzielnicowy: wizyty w rodzinach objętych wsparciem.",
];

/// The team's document as the animator writes it: members with representatives, a services
/// list, and meeting `m1` with its agenda.
fn team_document() -> Automerge {
    let by = "ewa";
    let editor = editor::Editor::new(by, "gops-przykladowo").expect("the animator as editor");
    let at = Utc::now();
    let init = PzkInit {
        actor: automerge::ActorId::random(),
        name: "PZK Gminy Przykładowo".into(),
        animator: by.into(),
        agreement_text: "Porozumienie o współpracy.".into(),
    };
    let mut doc = pzk::new_pzk(&init, at).expect("pzk");
    for (id, name, sector, role, person, person_name) in [
        (
            "gops-przykladowo",
            "GOPS Przykładowo",
            InstitutionSector::SocialAssistance,
            MemberRole::Lead,
            "ewa",
            "Ewa Nowak",
        ),
        (
            "sp1-przykladowo",
            "Szkoła Podstawowa nr 1",
            InstitutionSector::Education,
            MemberRole::Member,
            "jan",
            "Jan Wiśniewski",
        ),
        (
            "kpp-przykladowo",
            "Komenda Powiatowa Policji",
            InstitutionSector::Police,
            MemberRole::Member,
            "marta",
            "Marta Zielińska",
        ),
    ] {
        let member = Member {
            name: name.into(),
            sector,
            role,
        };
        pzk::upsert_member(&mut doc, id, &member, &editor, at).expect("member");
        let rep = Representative {
            name: person_name.into(),
            function: "przedstawiciel w PZK".into(),
        };
        pzk::set_representative(&mut doc, id, person, &rep, &editor, at).expect("representative");
    }
    for (id, description, provider, sector, capacity, remote) in [
        (
            "korepetycje",
            SERVICES[0],
            "sp1-przykladowo",
            InstitutionSector::Education,
            Some(12),
            false,
        ),
        (
            "dzielnicowy",
            SERVICES[1],
            "kpp-przykladowo",
            InstitutionSector::Police,
            None,
            true,
        ),
    ] {
        let entry = ServiceEntry {
            description: description.into(),
            provider: provider.into(),
            sector,
            capacity,
            remote_capable: remote,
        };
        pzk::upsert_service(&mut doc, id, &entry, &editor, at).expect("service");
    }
    schedule_remote_meeting(&mut doc, &editor, "m1", (2025, 3, 12, 9), &AGENDA);
    doc
}

/// Runs the browsers to their end and returns their JSON line.
async fn run_browsers(server: &RunningServer, cert: &Path, spec: &Json) -> Json {
    let samples = std::env::var("MEETING_LATENCY_SAMPLES").unwrap_or_else(|_| "20".into());
    let script = BrowserScript {
        script: "meeting.mjs",
        env: vec![
            ("MEETING_SPEC", spec.to_string()),
            ("MEETING_LATENCY_SAMPLES", samples),
        ],
        deadline: BROWSER_DEADLINE,
    };
    script
        .run(server, cert, |request| async move {
            panic!("the meeting page asks nothing: {request}")
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_meet_on_the_page_and_converge_after_going_offline() {
    require_browser_tools();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    let cert = dir.path().join("tls").join("dev-cert.pem");
    assert!(
        cert.is_file(),
        "the dev certificate is at {}",
        cert.display()
    );
    provision(&server);

    // The animator's tablet makes the team's document; it stays connected and follows it.
    let animator = tablet(&server, "ewa", "tablet-ewa");
    let id: DocumentId = random_id();
    animator.create(id, team_document()).await.expect("created");
    wait_acknowledged(&animator, id).await;

    let spec = json!({
        "document": id.to_string(),
        "meeting": "m1",
        "a": { "code": enrolment_code(&server, "jan"), "login": "jan", "name": "Jan Wiśniewski",
               "institution_name": "Szkoła Podstawowa nr 1" },
        "b": { "code": enrolment_code(&server, "marta"), "login": "marta", "name": "Marta Zielińska",
               "institution_name": "Komenda Powiatowa Policji" },
        "reader": { "code": enrolment_code(&server, "koordynator"), "login": "koordynator" },
        "agenda": AGENDA,
        "services": SERVICES,
    });
    let result = run_browsers(&server, &cert, &spec).await;
    eprintln!("meeting page: {result}");
    if let Some(latency) = result.get("latency") {
        eprintln!("latency on loopback (ms): {latency}");
    }
    assert_eq!(
        result["offlineIsolated"],
        json!(true),
        "offline means offline"
    );
    assert_eq!(
        result["readerReadOnly"],
        json!(true),
        "a coordinator's page does not edit"
    );
    let minutes = result["minutes"].as_str().expect("minutes").to_owned();
    for piece in [
        "(A)",
        "Policja:",
        "[B offline: uzgodniono wizytę]",
        "[A w tym czasie",
    ] {
        assert!(
            minutes.contains(piece),
            "the minutes hold {piece:?}: {minutes:?}"
        );
    }
    let decision = result["decision"].as_str().expect("decision").to_owned();

    // The server holds what the browsers wrote: the animator's tablet gets it from there.
    let wanted = (minutes.clone(), decision.clone());
    animator
        .wait_until(
            "the browsers' minutes and decision on the server",
            WAIT,
            || {
                let (minutes, decision) = wanted.clone();
                let animator = &animator;
                async move {
                    animator
                        .read(id, move |doc| {
                            let Some(view) = doc.and_then(|d| pzk::read_pzk(d).ok()) else {
                                return false;
                            };
                            let meeting = &view.meetings["m1"];
                            meeting.minutes == minutes
                                && meeting.decisions.values().any(|d| d.text == decision)
                        })
                        .await
                }
            },
        )
        .await
        .expect("the server's document has the minutes and the decision");

    // Every change the browsers made is valid and names its author and institution.
    let (view, authors) = animator
        .read(id, |doc| {
            let doc = doc.expect("the document");
            let authors: Vec<editor::ParsedMessage> = doc
                .get_changes(&[])
                .into_iter()
                .filter_map(|c| c.message().map(str::to_owned))
                .filter(|m| m.starts_with("meetings/m1/") && !m.contains("agenda"))
                .map(|m| editor::parse(&m))
                .collect();
            (pzk::read_pzk(doc).expect("a valid PZK document"), authors)
        })
        .await
        .expect("read");
    let meeting = &view.meetings["m1"];
    let attendance = |p: &str| meeting.attendance.get(p).map(|a| a.value.as_str());
    assert_eq!(attendance("marta"), Some("video"));
    assert_eq!(attendance("jan"), Some("in_person"));
    let decision = meeting
        .decisions
        .values()
        .find(|d| d.text == result["decision"].as_str().unwrap_or_default())
        .expect("the decision");
    assert_eq!(decision.by, "marta");
    assert!(
        !authors.is_empty(),
        "the browsers' changes are in the history"
    );
    for parsed in &authors {
        let who = (parsed.author.as_deref(), parsed.institution.as_deref());
        assert!(
            matches!(
                who,
                (Some("jan"), Some("sp1-przykladowo")) | (Some("marta"), Some("kpp-przykladowo"))
            ),
            "a browser change names its author: {parsed:?}"
        );
    }
    for login in ["jan", "marta"] {
        assert!(
            authors.iter().any(|p| p.author.as_deref() == Some(login)),
            "{login} wrote the minutes"
        );
    }

    animator.shutdown().await;
    server.shutdown().await.expect("clean shutdown");
}
