//! Who may change which part of a PZK document (issue #19), over the real server and WebSocket:
//! the team's animator and the ROPS advisers assigned to it (`admin pzk adviser`) write every
//! part; representatives of member institutions write the same document but only answer
//! consultations: a member with a valid account who writes the agreement or a recommendation
//! is refused with `refusal.pzk-part-not-editable` and nothing of it is kept; coordinators and
//! advisers of other teams read; a member of another team sees nothing. The administrator
//! assigns an adviser with `admin pzk adviser`.

use automerge::Automerge;
use chrono::Utc;
use client_sdk::ClientEvent;
use kooperacja_server::admin::{AdminCommand, PzkCommand};
use kooperacja_server::identity::Role;
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use sync_core::model::consultation::{Answer, ConsultationRequest};
use sync_core::model::pzk::{self, Recommendation, RecommendationCategory};
use sync_core::model::Editor;
use sync_core::DocumentId;

/// What a user does to the PZK document.
#[derive(Clone, Copy, Debug)]
enum Action {
    /// Rewrites the agreement's text.
    Agreement,
    /// Adds a recommendation.
    Recommendation,
    /// Answers the open consultation `k1`.
    Answer,
}

/// What came of it.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// The document never arrived.
    Unseen,
    /// The server acknowledged the change.
    Written,
    /// The server refused the change, with this reason.
    Refused(String),
}

impl Outcome {
    /// Whether this is `expected`: the same, or a refusal whose reason names the expected code.
    fn is(&self, expected: &Outcome) -> bool {
        match (self, expected) {
            (Outcome::Refused(reason), Outcome::Refused(code)) => {
                reason.contains(&format!("[{code}]"))
            }
            _ => self == expected,
        }
    }
}

fn edit(doc: &mut Automerge, action: Action, login: &str, institution: &str) {
    let editor = Editor::new(login, institution).expect("editor");
    let at = Utc::now();
    let id = random_id().to_string();
    match action {
        Action::Agreement => {
            pzk::set_agreement_text(doc, &format!("Porozumienie wg {login}."), &editor, at)
        }
        Action::Recommendation => {
            let recommendation = Recommendation {
                text: format!("Rekomendacja {login}"),
                category: RecommendationCategory::Legal,
                decision_9_2: false,
            };
            pzk::add_recommendation(doc, &id, &recommendation, &editor, at)
        }
        Action::Answer => {
            let answer = Answer {
                by: login.into(),
                institution: institution.into(),
                text: format!("Odpowiedź {login}"),
            };
            pzk::answer_consultation(doc, "k1", &id, &answer, at)
        }
    }
    .expect("the model takes the edit");
}

/// A fresh device of `login` (of `institution`) opens the document and, when it arrives, makes
/// the edit; the server's answer.
async fn attempt(
    server: &RunningServer,
    login: &str,
    institution: &str,
    doc: DocumentId,
    action: Action,
) -> Outcome {
    let t = tablet(server, login, &format!("tablet-{login}-{}", random_id()));
    let mut events = t.events();
    t.find(doc).expect("find");
    let arrived = arrives(&t, &mut events, doc, |d| pzk::read_pzk(d).is_ok()).await;
    if !arrived {
        t.shutdown().await;
        return Outcome::Unseen;
    }
    let mut events = t.events();
    let (who, from) = (login.to_owned(), institution.to_owned());
    t.change(doc, move |d| edit(d, action, &who, &from))
        .await
        .expect("saved locally");
    let outcome = tokio::time::timeout(WAIT, async {
        loop {
            if t.is_acknowledged(doc).await.expect("ack") {
                return Outcome::Written;
            }
            match events.recv().await {
                Ok(ClientEvent::Disconnected(reason)) if reason.contains("refus") => {
                    return Outcome::Refused(reason)
                }
                Ok(_) => {}
                Err(e) => return Outcome::Refused(e.to_string()),
            }
        }
    })
    .await
    .expect("acknowledged or refused");
    t.shutdown().await;
    outcome
}

/// Two ROPS advisers, `doradca` assigned to pzk1 and `doradca-inny` to no team.
fn provision_advisers(server: &RunningServer) {
    let d = &server.state.directory;
    for login in ["doradca", "doradca-inny"] {
        d.add_user(login, login, vec![Role::RopsAdviser])
            .expect("user");
    }
    d.assign_adviser("pzk1", "doradca").expect("assigned");
    // Only advisers are assigned as advisers.
    assert!(d.assign_adviser("pzk1", "koordynator").is_err());
    server.state.registry.reload_directory().expect("reload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_writes_which_part_of_a_pzk_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);
    provision_advisers(&server);

    // The animator creates the team's document with a consultation open to answer.
    let mut team = new_team_doc();
    let request = ConsultationRequest {
        asked_by: "animator1".into(),
        institution: "gops".into(),
        question: "Czy szkoła może objąć rodzinę zajęciami?".into(),
    };
    pzk::open_consultation(&mut team, "k1", "SPR-2026/7", None, &request, Utc::now())
        .expect("consultation");
    let (animator, pzk_id) = create_as(&server, "animator1", team).await;

    use Action::*;
    let written = || Outcome::Written;
    let refused = || Outcome::Refused("refusal.pzk-part-not-editable".into());
    let read_only = || Outcome::Refused("rejection.read-only".into());
    let table: Vec<(&str, &str, &str, &str, Action, Outcome)> = vec![
        (
            "animator",
            "team's",
            "animator1",
            "gops",
            Agreement,
            written(),
        ),
        (
            "animator",
            "team's",
            "animator1",
            "gops",
            Recommendation,
            written(),
        ),
        (
            "rops-adviser",
            "assigned",
            "doradca",
            "rops",
            Agreement,
            written(),
        ),
        (
            "rops-adviser",
            "assigned",
            "doradca",
            "rops",
            Recommendation,
            written(),
        ),
        (
            "rops-adviser",
            "not assigned",
            "doradca-inny",
            "rops",
            Recommendation,
            read_only(),
        ),
        (
            "pzk-member",
            "member institution",
            "szkola-rep",
            "szkola",
            Agreement,
            refused(),
        ),
        (
            "pzk-member",
            "member institution",
            "szkola-rep",
            "szkola",
            Recommendation,
            refused(),
        ),
        (
            "pzk-member",
            "member institution",
            "policja-rep",
            "policja",
            Answer,
            written(),
        ),
        (
            "social-worker",
            "member institution",
            "bartek",
            "gops",
            Recommendation,
            refused(),
        ),
        (
            "coordinator",
            "region",
            "koordynator",
            "rops",
            Agreement,
            read_only(),
        ),
        (
            "pzk-member",
            "other PZK",
            "inna",
            "gops2",
            Answer,
            Outcome::Unseen,
        ),
    ];
    let mut failures = Vec::new();
    for (role, relation, login, institution, action, expected) in &table {
        let got = attempt(&server, login, institution, pzk_id, *action).await;
        eprintln!("{role:<14} {relation:<19} {login:<13} {action:<15?} -> {got:?}");
        if !got.is(expected) {
            failures.push(format!(
                "{role} {relation} {login} {action:?}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // What the refused members wrote is nowhere: the server's document holds the animator's
    // and the adviser's recommendations and the police's answer, and the adviser's text.
    let check = tablet(&server, "animator1", "tablet-animator-check");
    check.find(pzk_id).expect("find");
    let accepted = |v: &pzk::PzkView| {
        v.recommendations.len() == 2
            && v.consultations
                .get("k1")
                .is_some_and(|k| k.consultation.answers.len() == 1)
    };
    check
        .wait_until("every accepted edit arrives", WAIT, || async {
            let view = check
                .read(pzk_id, |d| d.and_then(|d| pzk::read_pzk(d).ok()))
                .await?;
            Ok(view.is_some_and(|v| accepted(&v)))
        })
        .await
        .expect("the document as the server keeps it");
    let view = check
        .read(pzk_id, |d| d.and_then(|d| pzk::read_pzk(d).ok()))
        .await
        .expect("read")
        .expect("held");
    let authors: Vec<&str> = view
        .recommendations
        .values()
        .map(|r| r.entry.by.as_str())
        .collect();
    assert!(
        authors.contains(&"animator1") && authors.contains(&"doradca"),
        "{authors:?}"
    );
    assert_eq!(view.agreement.text, "Porozumienie wg doradca.");
    check.shutdown().await;
    animator.shutdown().await;
    server.shutdown().await.expect("shutdown");

    // The region's administrator assigns the other adviser with the admin command on the
    // stopped server's data directory (a coordinator is no adviser); he writes from then on.
    let assign = |login: &str| {
        kooperacja_server::admin::run(
            dir.path(),
            &dir.path().join("secrets"),
            None,
            AdminCommand::Pzk {
                command: PzkCommand::Adviser {
                    pzk: "pzk1".into(),
                    login: login.into(),
                },
            },
        )
    };
    assert!(assign("koordynator").is_err());
    let team = assign("doradca-inny").expect("assigned");
    assert!(team.contains("doradca-inny"), "{team}");
    let server = start_typed_server(dir.path()).await;
    let got = attempt(&server, "doradca-inny", "rops", pzk_id, Recommendation).await;
    assert_eq!(got, Outcome::Written);
    server.shutdown().await.expect("shutdown");
}
