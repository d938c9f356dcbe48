//! Who may see and change what, over the real server and WebSocket: the authorisation matrix
//! (roles × document kinds × operations × relationship), who may share a case, forged
//! authorship, revocation and consent withdrawal mid-session, probing, and the audit trail.

use std::time::Duration;

use automerge::Automerge;
use chrono::Utc;
use client_sdk::{ClientEvent, SyncClient};
use kooperacja_server::serve::RunningServer;
use kooperacja_test_support::*;
use sync_core::model::case::{self, ConsentEvent, ConsentState};
use sync_core::model::Editor;
use sync_core::DocumentId;

fn consent(doc: &mut Automerge, id: &str, institution: &str, state: ConsentState) {
    let event = ConsentEvent {
        institution: institution.into(),
        purpose: "pzk".into(),
        state,
        by: "matka".into(),
    };
    let anna = Editor::new("anna", "gops").expect("editor");
    case::record_consent(doc, id, &event, &anna, Utc::now()).expect("consent");
}

/// Assigns anna's case to her colleague bartek, as the registry's administrator would.
fn assign_to_bartek(server: &RunningServer, case_id: DocumentId) {
    server
        .state
        .registry
        .assign(case_id, Some("bartek"), None, "anna", false)
        .expect("assign");
}

/// Waits until the server closes the client's connection (a refused change).
async fn wait_disconnected(events: &mut tokio::sync::broadcast::Receiver<ClientEvent>) {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(ClientEvent::Disconnected(_)) = events.recv().await {
                return;
            }
        }
    })
    .await
    .expect("refused in time");
}

/// The client asks for `doc` and waits until it holds some of it (`what` names the wait).
async fn wait_case_arrives(client: &SyncClient, doc: DocumentId, what: &str) {
    client.find(doc).expect("find");
    client
        .wait_until("case arrives", WAIT, || async {
            Ok(!client.heads(doc).await?.unwrap_or_default().is_empty())
        })
        .await
        .expect(what);
}

/// One row of the matrix: role, relationship, login, document, its heads, what is expected.
type Row<'a> = (
    &'a str,
    &'a str,
    &'a str,
    DocumentId,
    &'a [automerge::ChangeHash],
    Can,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorisation_matrix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);

    // A case of anna's, with bartek assigned and consent for the school (not the police).
    let mut family = new_family_case("anna");
    consent(&mut family, "c1", "szkola", ConsentState::Given);
    let (owner, case_id) = create_as(&server, "anna", family).await;
    assign_to_bartek(&server, case_id);
    let case_heads = owner.heads(case_id).await.expect("heads").expect("doc");

    // The PZK's document, made by its animator.
    let (animator, pzk_id) = create_as(&server, "animator1", new_team_doc()).await;
    let pzk_heads = animator.heads(pzk_id).await.expect("heads").expect("doc");

    // A referral from the school's member to the GOPS (both in pzk1).
    let (referrer, referral_id) = create_as(&server, "szkola-rep", school_referral()).await;
    let referral_heads = referrer
        .heads(referral_id)
        .await
        .expect("heads")
        .expect("doc");

    use Can::*;
    let table: &[Row] = &[
        (
            "social-worker",
            "owner",
            "anna",
            case_id,
            &case_heads,
            ReadWrite,
        ),
        (
            "social-worker",
            "assigned",
            "bartek",
            case_id,
            &case_heads,
            ReadWrite,
        ),
        (
            "pzk-member",
            "same PZK, consent",
            "szkola-rep",
            case_id,
            &case_heads,
            Read,
        ),
        (
            "pzk-member",
            "same PZK, no consent",
            "policja-rep",
            case_id,
            &case_heads,
            Nothing,
        ),
        (
            "pzk-member",
            "other PZK",
            "inna",
            case_id,
            &case_heads,
            Nothing,
        ),
        (
            "coordinator",
            "region",
            "koordynator",
            case_id,
            &case_heads,
            Nothing,
        ),
        (
            "animator",
            "not assigned",
            "animator1",
            case_id,
            &case_heads,
            Nothing,
        ),
        (
            "animator",
            "team's animator",
            "animator1",
            pzk_id,
            &pzk_heads,
            ReadWrite,
        ),
        (
            "pzk-member",
            "member institution",
            "szkola-rep",
            pzk_id,
            &pzk_heads,
            ReadWrite,
        ),
        (
            "pzk-member",
            "member institution",
            "policja-rep",
            pzk_id,
            &pzk_heads,
            ReadWrite,
        ),
        (
            "pzk-member",
            "other PZK",
            "inna",
            pzk_id,
            &pzk_heads,
            Nothing,
        ),
        (
            "coordinator",
            "region",
            "koordynator",
            pzk_id,
            &pzk_heads,
            Read,
        ),
        (
            "social-worker",
            "member institution",
            "bartek",
            pzk_id,
            &pzk_heads,
            ReadWrite,
        ),
        (
            "social-worker",
            "receiving institution",
            "anna",
            referral_id,
            &referral_heads,
            ReadWrite,
        ),
        (
            "animator",
            "receiving institution",
            "animator1",
            referral_id,
            &referral_heads,
            ReadWrite,
        ),
        (
            "pzk-member",
            "referrer",
            "szkola-rep",
            referral_id,
            &referral_heads,
            Read,
        ),
        (
            "pzk-member",
            "same PZK, not the referrer",
            "policja-rep",
            referral_id,
            &referral_heads,
            Nothing,
        ),
        (
            "pzk-member",
            "other PZK",
            "inna",
            referral_id,
            &referral_heads,
            Nothing,
        ),
        (
            "coordinator",
            "region",
            "koordynator",
            referral_id,
            &referral_heads,
            Nothing,
        ),
    ];
    let mut failures = Vec::new();
    for (role, relation, login, doc, heads, expected) in table {
        let got = probe(&server, login, *doc, heads).await;
        let kind = if *doc == case_id {
            "case"
        } else if *doc == pzk_id {
            "pzk"
        } else {
            "referral"
        };
        eprintln!("{role:<14} {relation:<22} {login:<12} {kind:<5} -> {got:?}");
        if got != *expected {
            failures.push(format!(
                "{role} {relation} {login} on {kind}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // Nobody without a role that opens cases creates one.
    let t = tablet(&server, "koordynator", "tablet-koord-new");
    let id = random_id();
    let mut ev = t.events();
    t.create(id, new_family_case("koordynator"))
        .await
        .expect("saved locally");
    let refused = tokio::time::timeout(WAIT, async {
        loop {
            match ev.recv().await {
                Ok(ClientEvent::Disconnected(r)) => return r,
                Ok(ClientEvent::Unavailable(d)) => return format!("unavailable {d}"),
                Ok(_) => {}
                Err(e) => return format!("{e}"),
            }
        }
    })
    .await
    .expect("refused");
    assert!(
        refused.contains("refused") || refused.contains("unavailable"),
        "{refused}"
    );
    assert!(server.state.registry.record(&id).is_none());
    let _ = (owner, animator, referrer);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sharing_matrix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_loopback_server(dir.path()).await;
    provision_region(&server);
    provision_strangers(&server);
    let (_owner, case_id) = create_as(&server, "anna", new_family_case("anna")).await;
    let admin = enroll_admin(&server, "admin1").token;
    let (case, unknown) = (case_id.to_string(), random_id().to_string());
    let colleague = r#"{"user":"policja-rep"}"#;
    let assigned = || {
        let record = server.state.registry.record(&case_id).expect("record");
        record.assigned_users.contains("policja-rep")
    };

    // Who may assign and unassign a worker to anna's case (lead institution: gops, in pzk1).
    let table: &[(&str, &str, &str, bool)] = &[
        ("social-worker", "owner", "anna", true),
        ("animator", "PZK of the lead institution", "animator1", true),
        ("admin", "any case", "admin1", true),
        ("animator", "unrelated PZK", "animator-obcy", false),
        ("social-worker", "other institution", "obca", false),
        (
            "social-worker",
            "lead institution, unassigned",
            "bartek",
            false,
        ),
        ("pzk-member", "other PZK", "inna", false),
        ("coordinator", "region", "koordynator", false),
    ];
    let mut failures = Vec::new();
    for (role, relation, login, may) in table {
        let token = match *login {
            "admin1" => admin.clone(),
            _ => enroll(&server, login).token,
        };
        for verb in ["assign", "unassign"] {
            let got = share(&server, &token, &case, verb, colleague).await;
            let as_unknown = share(&server, &token, &unknown, verb, colleague).await;
            let done = if *may {
                got.0 == 200 && assigned() == (verb == "assign")
            } else {
                got == as_unknown && !assigned()
            };
            eprintln!(
                "{role:<14} {relation:<30} {login:<14} {verb:<9} -> {}",
                got.0
            );
            if !done {
                failures.push(format!(
                    "{role} {relation} {login} {verb}: may={may}, got {got:?}, unknown id {as_unknown:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");

    // The owner's own assignment (herself, her institution) is removed by nobody else.
    let animator = enroll(&server, "animator1").token;
    for (who, token) in [("animator1", &animator), ("admin1", &admin)] {
        for body in [r#"{"user":"anna"}"#, r#"{"institution":"gops"}"#] {
            let (status, answer) = share(&server, token, &case, "unassign", body).await;
            assert_eq!(status, 403, "{who} unassigns {body}: {answer}");
        }
    }
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_authorship_is_refused_and_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    provision_region(&server);
    let family = new_family_case("anna");
    let anna_actor = family.get_actor().clone();
    let (_owner, case_id) = create_as(&server, "anna", family).await;
    assign_to_bartek(&server, case_id);

    // Bartek's tablet writes as if it were anna's device.
    let t = tablet(&server, "bartek", "tablet-bartek");
    wait_case_arrives(&t, case_id, "bartek reads the case").await;
    let mut events = t.events();
    t.change(case_id, move |d| {
        use automerge::transaction::Transactable;
        d.set_actor(anna_actor);
        d.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(automerge::ROOT, "forged", true))
            .expect("edit");
    })
    .await
    .expect("saved locally");
    // The server refuses and closes the connection (after writing the audit record).
    wait_disconnected(&mut events).await;
    let audit = server.state.registry.audit();
    let rejects = audit_of(&server, case_id);
    assert!(rejects
        .iter()
        .any(|r| r.kind == "reject" && r.user.as_deref() == Some("bartek")));
    assert!(rejects
        .iter()
        .any(|r| r.kind == "read" && r.user.as_deref() == Some("bartek")));
    assert!(rejects
        .iter()
        .any(|r| r.kind == "change" && r.user.as_deref() == Some("anna")));
    assert!(audit.verify().expect("the chain holds") > 0);
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_tablet_cuts_it_off_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    provision_region(&server);
    let (owner, case_id) = create_as(&server, "anna", new_family_case("anna")).await;
    let before = server.state.directory.devices_of("anna").expect("devices");
    let lost = tablet(&server, "anna", "tablet-lost");
    let mut events = lost.events();
    wait_case_arrives(&lost, case_id, "read").await;

    // The administrator revokes the lost tablet's device (the same steps as the admin API).
    let device = server
        .state
        .directory
        .devices_of("anna")
        .expect("devices")
        .into_iter()
        .find(|d| !before.contains(d))
        .expect("the lost tablet's device")
        .device_id;
    server.state.directory.revoke(&device).expect("revoke");
    let (ack, closed) = tokio::sync::oneshot::channel();
    server
        .state
        .hub
        .send(kooperacja_server::hub::Command::DropDevice(device, ack))
        .await;
    assert_eq!(
        closed.await.expect("answer"),
        1,
        "its open connection was closed"
    );
    let revoked = tokio::time::timeout(WAIT, async {
        loop {
            match events.recv().await {
                Ok(ClientEvent::Revoked) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .expect("told in time");
    assert!(revoked, "the tablet is told it was revoked");
    // The other tablet keeps working.
    append_visit_note(&owner, case_id).await;
    wait_acknowledged(&owner, case_id).await;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawn_consent_stops_the_school_receiving_the_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    provision_region(&server);
    let mut family = new_family_case("anna");
    consent(&mut family, "c1", "szkola", ConsentState::Given);
    let (owner, case_id) = create_as(&server, "anna", family).await;
    assign_to_bartek(&server, case_id);
    let school = tablet(&server, "szkola-rep", "tablet-szkola");
    let colleague = tablet(&server, "bartek", "tablet-bartek");
    for t in [&school, &colleague] {
        t.find(case_id).expect("find");
        wait_same_heads(&owner, t, case_id).await;
    }
    // The mother withdraws consent; the worker records it.
    owner
        .change(case_id, |d| {
            consent(d, "c2", "szkola", ConsentState::Withdrawn)
        })
        .await
        .expect("saved");
    wait_acknowledged(&owner, case_id).await;
    append_visit_note(&owner, case_id).await;
    wait_acknowledged(&owner, case_id).await;
    wait_same_heads(&owner, &colleague, case_id).await;
    let school_heads = school
        .heads(case_id)
        .await
        .expect("heads")
        .unwrap_or_default();
    let owner_heads = owner
        .heads(case_id)
        .await
        .expect("heads")
        .unwrap_or_default();
    assert!(
        owner_heads.iter().any(|h| !school_heads.contains(h)),
        "the school no longer receives the case after consent was withdrawn"
    );
    let _ = Duration::ZERO;
    server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_breaks_the_case_rules_is_refused_and_the_tablet_told_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_server(dir.path()).await;
    provision_region(&server);
    let (owner, case_id) = create_as(&server, "anna", new_family_case("anna")).await;
    let good = owner.heads(case_id).await.expect("heads").expect("doc");

    // A tablet with an old app skips the rules: the contract stage with no help plan (IPP).
    let mut events = owner.events();
    owner
        .change(case_id, |d| {
            let anna = Editor::new("anna", "gops").expect("editor");
            case::set_stage_raw(d, case::Stage::Contract, &anna, Utc::now()).expect("written");
        })
        .await
        .expect("saved locally");
    wait_disconnected(&mut events).await;
    let refusal = audit_of(&server, case_id)
        .into_iter()
        .find(|r| r.kind == "reject")
        .expect("the refusal is audited");
    assert!(
        refusal.detail.to_string().contains("not valid"),
        "{refusal:?}"
    );

    // The server still holds the valid case: a colleague fetching it gets the old version.
    assign_to_bartek(&server, case_id);
    let colleague = tablet(&server, "bartek", "tablet-bartek");
    colleague.find(case_id).expect("find");
    colleague
        .wait_until("the case arrives", WAIT, || async {
            Ok(colleague.heads(case_id).await?.unwrap_or_default() == good)
        })
        .await
        .expect("the valid version");
    let stage = colleague
        .read(case_id, |d| {
            d.and_then(|d| case::stage(d).ok()).map(|s| s.value)
        })
        .await
        .expect("read");
    assert_eq!(stage, Some(case::Stage::Referral));
    server.shutdown().await.expect("shutdown");
}

/// What `login`'s fresh tablet gets when it makes `edit` to PZK document `pzk`: acknowledged
/// (true) or refused (false).
async fn pzk_edit_accepted(
    server: &RunningServer,
    login: &str,
    pzk: DocumentId,
    edit: impl FnOnce(&mut Automerge) + Send + 'static,
) -> bool {
    let t = tablet(server, login, &format!("tablet-{login}-{}", random_id()));
    wait_case_arrives(&t, pzk, "the PZK document arrives").await;
    let mut events = t.events();
    t.change(pzk, edit).await.expect("saved locally");
    let accepted = acknowledged(&t, &mut events, pzk).await;
    t.shutdown().await;
    accepted
}

/// A consultation asked of the school through the PZK about anna's case, which the school may
/// not read: who may ask (the case's writers) and who may answer (the school's members, each
/// from their own device), row by row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_addressed_consultation_matrix() {
    use sync_core::model::addressed::ask_institution;
    use sync_core::model::consultation::{Answer, ConsultationRequest};
    use sync_core::model::pzk;

    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);
    let (owner, case_id) = create_as(&server, "anna", new_family_case("anna")).await;
    let case_heads = owner.heads(case_id).await.expect("heads").expect("doc");
    // The team's members: the GOPS, the school and the police.
    let (_animator, pzk_id) = create_as(&server, "animator1", app_team_document()).await;

    let ask = |id: &'static str, login: &'static str, institution: &'static str| {
        move |pzk: &mut Automerge| {
            let request = ConsultationRequest {
                asked_by: login.into(),
                institution: institution.into(),
                question: "Czy dziecko przychodzi na zajęcia?".into(),
            };
            // The case's side of the link goes nowhere here: only the PZK's side is probed.
            let mut case = new_family_case(login);
            ask_institution(
                &mut case,
                &case_id,
                pzk,
                &pzk_id,
                id,
                "szkola",
                &request,
                Utc::now(),
            )
            .expect("asked");
        }
    };
    let answer = |id: &'static str, login: &'static str| {
        move |pzk: &mut Automerge| {
            let answer = Answer {
                by: login.into(),
                institution: "szkola".into(),
                text: "Tak, codziennie.".into(),
            };
            pzk::answer_consultation(pzk, "k1", id, &answer, Utc::now()).expect("answered");
        }
    };
    let rows: Vec<(&str, bool, bool)> = vec![
        (
            "the case's owner asks the school",
            pzk_edit_accepted(&server, "anna", pzk_id, ask("k1", "anna", "gops")).await,
            true,
        ),
        (
            "a PZK member who cannot write the case asks about it",
            pzk_edit_accepted(
                &server,
                "policja-rep",
                pzk_id,
                ask("k2", "policja-rep", "policja"),
            )
            .await,
            false,
        ),
        (
            "the school's member answers for the school",
            pzk_edit_accepted(&server, "szkola-rep", pzk_id, answer("a1", "szkola-rep")).await,
            true,
        ),
        (
            "the police's member answers for the school",
            pzk_edit_accepted(&server, "policja-rep", pzk_id, answer("a2", "policja-rep")).await,
            false,
        ),
        (
            "a GOPS worker answers in the school's member's name",
            pzk_edit_accepted(&server, "bartek", pzk_id, |pzk: &mut Automerge| {
                // Written with no author trailers, so only the actor tells who wrote it.
                use automerge::transaction::Transactable;
                use automerge::ReadDoc;
                let answers = pzk
                    .get(automerge::ROOT, "consultations")
                    .ok()
                    .flatten()
                    .and_then(|(_, c)| pzk.get(&c, "k1").ok().flatten())
                    .and_then(|(_, k)| pzk.get(&k, "answers").ok().flatten())
                    .map(|(_, a)| a)
                    .expect("answers");
                pzk.transact::<_, _, automerge::AutomergeError>(|tx| {
                    let map = tx.put_object(&answers, "a3", automerge::ObjType::Map)?;
                    tx.put(&map, "by", "szkola-rep")?;
                    tx.put(&map, "institution", "szkola")?;
                    tx.put(&map, "at", automerge::ScalarValue::Timestamp(0))?;
                    let text = tx.put_object(&map, "text", automerge::ObjType::Text)?;
                    tx.splice_text(&text, 0, 0, "Nie.")?;
                    Ok(())
                })
                .expect("edit");
            })
            .await,
            false,
        ),
        (
            "the school reads the case it was asked about",
            probe(&server, "szkola-rep", case_id, &case_heads).await != Can::Nothing,
            false,
        ),
    ];
    let wrong: Vec<_> = rows.iter().filter(|(_, got, want)| got != want).collect();
    assert!(wrong.is_empty(), "rows not as expected: {wrong:?}");
    let record = server.state.registry.record(&pzk_id).expect("record");
    assert_eq!(
        record.addressed_checked.into_iter().collect::<Vec<_>>(),
        ["k1", "k1/a1"]
    );
    server.shutdown().await.expect("shutdown");
}

/// A user's "seen" document ("Co nowego", #19): its creator alone reads and writes it, whoever
/// else asks (a colleague of another institution, the case's worker, a coordinator); and one
/// naming another user as its owner is refused when it is created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seen_document_matrix() {
    use sync_core::model::seen;
    use Can::*;

    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);
    let mut doc = seen::new_seen("szkola-rep", automerge::ActorId::random(), Utc::now())
        .expect("a seen document");
    seen::mark_seen(&mut doc, &["case:x"], Utc::now()).expect("marked");
    let heads = doc.get_heads();
    let (_owner, seen_id) = create_as(&server, "szkola-rep", doc).await;
    let mut rows = Vec::new();
    for (login, want) in [
        ("szkola-rep", ReadWrite),
        ("policja-rep", Nothing),
        ("anna", Nothing),
        ("koordynator", Nothing),
    ] {
        rows.push((login, probe(&server, login, seen_id, &heads).await, want));
    }
    let wrong: Vec<_> = rows.iter().filter(|(_, got, want)| got != want).collect();
    assert!(wrong.is_empty(), "rows not as expected: {wrong:?}");

    // Anna creates a "seen" document in the pedagogue's name: refused, and nothing recorded.
    let forged = seen::new_seen("szkola-rep", automerge::ActorId::random(), Utc::now())
        .expect("a seen document");
    let t = tablet(&server, "anna", "tablet-anna-forger");
    let mut events = t.events();
    let id = random_id();
    t.create(id, forged).await.expect("saved locally");
    assert!(!acknowledged(&t, &mut events, id).await);
    assert!(server.state.registry.record(&id).is_none());
    t.shutdown().await;
    server.shutdown().await.expect("shutdown");
}

/// Approving a meeting's minutes (issue #19): the team's animator may; a member institution's
/// representative, who may write the team's document, may not (refused by the server's access
/// rules); and once approved, a member's change to that meeting, made past the model's own
/// edits, is refused by the model's rule that freezes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_approves_a_meetings_minutes() {
    use sync_core::model::pzk;
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start_typed_server(dir.path()).await;
    provision_region(&server);
    let mut team = new_team_doc();
    let animator = Editor::new("animator1", "gops").expect("editor");
    schedule_remote_meeting(&mut team, &animator, "s1", (2026, 3, 4, 10), &["Rodziny"]);
    pzk::set_minutes(
        &mut team,
        "s1",
        "Omówiono dwie rodziny.",
        &animator,
        Utc::now(),
    )
    .expect("minutes");
    let (owner, pzk_id) = create_as(&server, "animator1", team).await;

    let approve = |login: &'static str, institution: &'static str| {
        move |d: &mut Automerge| {
            let by = Editor::new(login, institution).expect("editor");
            pzk::approve_minutes(d, "s1", &by, Utc::now()).expect("written locally");
        }
    };
    // (role, relation, login, institution, may approve)
    let table = [
        (
            "pzk-member",
            "member institution",
            "szkola-rep",
            "szkola",
            false,
        ),
        ("social-worker", "member institution", "anna", "gops", false),
        ("animator", "the team's animator", "animator1", "gops", true),
    ];
    let mut failures = Vec::new();
    for (role, relation, login, institution, may) in table {
        let heads = owner.heads(pzk_id).await.expect("heads").expect("doc");
        let got = edit_outcome(&server, login, pzk_id, &heads, approve(login, institution)).await;
        eprintln!("{role:<14} {relation:<22} {login:<12} approve -> {got:?}");
        let expected_refusal = "[refusal.minutes-approval-not-allowed]";
        let right = match &got {
            Ok(()) => may,
            Err(reason) => !may && reason.contains(expected_refusal),
        };
        if !right {
            failures.push(format!("{role} {relation} {login}: may={may}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    let record = server.state.registry.record(&pzk_id).expect("record");
    assert!(record.approved_meetings.contains("s1"), "{record:?}");

    // After the approval the school's representative marks himself present anyway, writing the
    // attendance map directly (the model's edit refuses a frozen meeting on his own tablet).
    owner
        .wait_until(
            "the approval reaches the animator's first tablet",
            WAIT,
            || async {
                let approved = owner.read(pzk_id, |d| {
                    d.and_then(|d| pzk::read_pzk(d).ok())
                        .is_some_and(|v| v.meetings["s1"].minutes_approved.is_some())
                });
                approved.await
            },
        )
        .await
        .expect("approved");
    let heads = owner.heads(pzk_id).await.expect("heads").expect("doc");
    let late = edit_outcome(&server, "szkola-rep", pzk_id, &heads, |d| {
        use automerge::transaction::Transactable;
        use automerge::ReadDoc;
        let meetings = d.get(automerge::ROOT, "meetings").expect("read");
        let meetings = meetings.expect("meetings").1;
        let meeting = d.get(&meetings, "s1").expect("read").expect("s1").1;
        let attendance = d.get(&meeting, "attendance").expect("read");
        let attendance = attendance.expect("attendance").1;
        let message = "meetings/s1/attendance/szkola-rep: video\n\nAuthor: szkola-rep";
        let mut tx = d.transaction();
        tx.put(&attendance, "szkola-rep", "video").expect("written");
        tx.commit_with(automerge::transaction::CommitOptions::default().with_message(message));
    })
    .await;
    let reason = late.expect_err("a change to an approved meeting is refused");
    assert!(reason.contains("[meeting.frozen]"), "{reason}");
    server.shutdown().await.expect("shutdown");
}
