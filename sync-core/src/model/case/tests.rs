//! Tests of the case's edits and readers: each edit's change, concurrent edits and their merge,
//! and the rules an edit refuses to break.

use automerge::Automerge;

use super::*;
use crate::error::SchemaError;
use crate::model::consultation::{Answer, ConsultationRequest};
use crate::model::testing::{
    at, case_with_goal, day, editor, fork_as, goal_plan, merged, new_case, new_pzk,
};
use crate::model::validate;
use crate::model::Conflict;

fn view(doc: &Automerge) -> CaseView {
    read_case(doc).expect("the case reads back")
}

/// The message and time (seconds) of the last change made on this replica.
fn last_change(doc: &Automerge) -> (String, i64) {
    let change = doc.get_last_local_change().expect("a local change");
    (
        change.message().unwrap_or_default().to_owned(),
        change.timestamp(),
    )
}

fn note(author: &str, text: &str) -> MonitoringNote {
    MonitoringNote {
        author: author.to_owned(),
        institution: "gops".to_owned(),
        mode: ContactMode::HomeVisit,
        text: text.to_owned(),
    }
}

fn consent(id_state: ConsentState) -> ConsentEvent {
    ConsentEvent {
        institution: "sp-1".to_owned(),
        purpose: "school support".to_owned(),
        state: id_state,
        by: "p1".to_owned(),
    }
}

fn signature() -> Signature {
    Signature {
        signer: "p1".to_owned(),
        mode: SigningMode::Video,
        consent_note: "Read aloud and accepted in a video call.".to_owned(),
    }
}

#[test]
fn a_new_case_starts_at_referral_with_every_container() {
    let doc = new_case();
    let case = view(&doc);
    assert_eq!(case.schema_version, 1);
    assert_eq!(case.created_at, at(9));
    assert_eq!(case.stage, Conflict::settled(Stage::Referral));
    assert_eq!(
        (case.owner.as_str(), case.lead_institution.as_str()),
        ("anna", "gops")
    );
    assert_eq!(case.referral.reason, "Frequent absences at school.");
    assert_eq!(case.referral.at, at(8));
    assert_eq!(case.diagnosis.len(), DiagnosisSector::ALL.len());
    assert!(case.diagnosis.values().all(String::is_empty));
    assert!(case.goals.is_empty() && case.monitoring.is_empty() && case.consents.is_empty());
    assert_eq!((&case.pzk_decision, &case.handover), (&None, &None));
    assert!(case.conflicts().is_empty());
    let (message, time) = last_change(&doc);
    assert_eq!(
        (message.as_str(), time),
        (
            "case created: referral from sp-1\n\nAuthor: anna\nInstitution: gops",
            at(9).timestamp()
        )
    );
}

#[test]
fn wire_strings_round_trip() {
    for stage in Stage::ALL {
        assert_eq!(Stage::parse(stage.as_str()), Some(*stage));
    }
    for sector in DiagnosisSector::ALL {
        assert_eq!(DiagnosisSector::parse(&sector.to_string()), Some(*sector));
    }
    assert_eq!(
        GoalStatus::parse("in_progress"),
        Some(GoalStatus::InProgress)
    );
    assert_eq!(Stage::HandedOver.as_str(), "handed_over");
    assert_eq!(GoalStatus::parse("In_Progress"), None);
}

#[test]
fn set_stage_raw_sets_the_stage_in_one_change() {
    let mut doc = new_case();
    set_stage_raw(&mut doc, Stage::Diagnosis, &editor("anna"), at(10)).expect("stage set");
    assert_eq!(stage(&doc).expect("stage").value, Stage::Diagnosis);
    let (message, time) = last_change(&doc);
    assert_eq!(
        (message.as_str(), time),
        (
            "stage: diagnosis (set without rules)\n\nAuthor: anna\nInstitution: gops",
            at(10).timestamp()
        )
    );
}

#[test]
fn household_members_are_added_and_updated() {
    let mut doc = new_case();
    let mut mother = HouseholdMember {
        name: "Maria".to_owned(),
        relation: "self".to_owned(),
        birth_date: Some(day(1, 2)),
    };
    add_household_member(&mut doc, "p1", &mother, &editor("anna"), at(10)).expect("added");
    assert_eq!(view(&doc).household["p1"], mother);
    mother.relation = "mother".to_owned();
    mother.birth_date = None;
    add_household_member(&mut doc, "p1", &mother, &editor("anna"), at(11)).expect("updated");
    assert_eq!(view(&doc).household["p1"], mother);
    let err =
        add_household_member(&mut doc, "", &mother, &editor("anna"), at(11)).expect_err("empty id");
    assert!(matches!(err, SchemaError::Field { .. }), "{err:?}");
}

#[test]
fn screening_records_outcome_and_notes() {
    let mut doc = new_case();
    set_screening(
        &mut doc,
        ScreeningOutcome::Qualified,
        "Fits the model.",
        &editor("anna"),
        at(10),
    )
    .expect("screened");
    let screening = view(&doc).screening;
    assert_eq!(
        screening.outcome,
        Some(Conflict::settled(ScreeningOutcome::Qualified))
    );
    assert_eq!(screening.notes, "Fits the model.");
    assert_eq!(
        (screening.by.as_deref(), screening.at),
        (Some("anna"), Some(at(10)))
    );
}

#[test]
fn diagnosis_sections_are_set_and_spliced() {
    let mut doc = new_case();
    set_diagnosis_section(
        &mut doc,
        DiagnosisSector::Health,
        "Asthma.",
        &editor("nurse"),
        at(10),
    )
    .expect("set");
    splice_diagnosis(
        &mut doc,
        DiagnosisSector::Health,
        6,
        1,
        ", treated.",
        &editor("nurse"),
        at(11),
    )
    .expect("spliced");
    let case = view(&doc);
    assert_eq!(case.diagnosis[&DiagnosisSector::Health], "Asthma, treated.");
    assert_eq!(case.diagnosis[&DiagnosisSector::Housing], "");
    let err = splice_diagnosis(
        &mut doc,
        DiagnosisSector::Health,
        10,
        50,
        "",
        &editor("nurse"),
        at(12),
    )
    .expect_err("outside the text");
    assert!(
        matches!(&err, SchemaError::Field { path, .. } if path == "diagnosis/health"),
        "{err:?}"
    );
}

#[test]
fn concurrent_edits_of_one_diagnosis_section_keep_both() {
    let mut base = new_case();
    let start = "Two rooms. The roof leaks.";
    set_diagnosis_section(
        &mut base,
        DiagnosisSector::Housing,
        start,
        &editor("anna"),
        at(10),
    )
    .expect("set");
    let mut anna = fork_as(&base, "anna-tablet-2");
    let mut jan = fork_as(&base, "jan-tablet");
    set_diagnosis_section(
        &mut anna,
        DiagnosisSector::Housing,
        "Two damp rooms. The roof leaks.",
        &editor("anna"),
        at(11),
    )
    .expect("anna edits");
    splice_diagnosis(
        &mut jan,
        DiagnosisSector::Housing,
        start.len(),
        0,
        " Rent arrears.",
        &editor("jan"),
        at(11),
    )
    .expect("jan edits");
    let expected = "Two damp rooms. The roof leaks. Rent arrears.";
    for doc in [merged(&anna, &jan), merged(&jan, &anna)] {
        assert_eq!(view(&doc).diagnosis[&DiagnosisSector::Housing], expected);
    }
}

#[test]
fn goals_are_created_planned_and_updated_field_by_field() {
    let mut doc = case_with_goal();
    let goal = &view(&doc).goals["g1"];
    assert_eq!(goal.plan, goal_plan("Regular school attendance"));
    assert_eq!(
        (goal.status.clone(), goal.created_at),
        (Conflict::settled(GoalStatus::Planned), at(10))
    );

    set_goal_status(
        &mut doc,
        "g1",
        GoalStatus::InProgress,
        &editor("anna"),
        at(11),
    )
    .expect("status");
    let mut plan = goal_plan("Attends school every day");
    plan.services = ["svc-tutor".to_owned()].into();
    plan.deadline = day(9, 1);
    upsert_goal(&mut doc, "g1", &plan, &editor("anna"), at(12)).expect("updated");
    let goal = &view(&doc).goals["g1"];
    assert_eq!(goal.plan, plan);
    assert_eq!(
        goal.status.value,
        GoalStatus::InProgress,
        "an upsert leaves the status alone"
    );
    assert_eq!(goal.created_at, at(10));
}

#[test]
fn an_unchanged_upsert_adds_no_operation() {
    let mut doc = case_with_goal();
    let heads = doc.get_heads();
    upsert_goal(
        &mut doc,
        "g1",
        &goal_plan("Regular school attendance"),
        &editor("anna"),
        at(11),
    )
    .expect("upsert");
    assert_eq!(doc.get_heads(), heads);
}

#[test]
fn goal_status_of_a_missing_goal_names_it() {
    let mut doc = case_with_goal();
    let err = set_goal_status(
        &mut doc,
        "g9",
        GoalStatus::Achieved,
        &editor("anna"),
        at(11),
    )
    .expect_err("no such goal");
    assert!(
        matches!(&err, SchemaError::Field { path, .. } if path == "goals/g9"),
        "{err:?}"
    );
    let err = goal_status(&doc, "g9").expect_err("no such goal");
    assert!(
        matches!(&err, SchemaError::Field { path, .. } if path == "goals/g9"),
        "{err:?}"
    );
}

/// Anna (on a second tablet) and Jan set goal g1's status at the same time, each on a replica
/// of a case with that goal: their two replicas.
fn statuses_set_at_once(by_anna: GoalStatus, by_jan: GoalStatus) -> (Automerge, Automerge) {
    let base = case_with_goal();
    let mut anna = fork_as(&base, "anna-tablet-2");
    let mut jan = fork_as(&base, "jan-tablet");
    set_goal_status(&mut anna, "g1", by_anna, &editor("anna"), at(11)).expect("anna");
    set_goal_status(&mut jan, "g1", by_jan, &editor("jan"), at(11)).expect("jan");
    (anna, jan)
}

#[test]
fn concurrent_goal_statuses_are_a_conflict_with_one_winner_everywhere() {
    let (anna, jan) = statuses_set_at_once(GoalStatus::Achieved, GoalStatus::Dropped);

    let one = merged(&anna, &jan);
    let two = merged(&jan, &anna);
    let (first, second) = (
        goal_status(&one, "g1").expect("status"),
        goal_status(&two, "g1").expect("status"),
    );
    assert_eq!(first, second, "every replica shows the same winner");
    assert!(first.is_conflicted());
    let mut values: Vec<GoalStatus> = first.all().copied().collect();
    values.sort();
    assert_eq!(values, vec![GoalStatus::Achieved, GoalStatus::Dropped]);
    assert_eq!(view(&one).conflicts(), vec!["goals/g1/status".to_owned()]);
    assert_eq!(
        crate::model::conflict_at::<GoalStatus>(&one, &["goals", "g1", "status"]).expect("read"),
        first
    );

    let mut settled = one;
    set_goal_status(
        &mut settled,
        "g1",
        GoalStatus::Achieved,
        &editor("anna"),
        at(12),
    )
    .expect("settle");
    assert_eq!(
        goal_status(&settled, "g1").expect("status"),
        Conflict::settled(GoalStatus::Achieved)
    );
}

#[test]
fn concurrent_identical_statuses_are_no_conflict() {
    let (anna, jan) = statuses_set_at_once(GoalStatus::Achieved, GoalStatus::Achieved);
    let status = goal_status(&merged(&anna, &jan), "g1").expect("status");
    assert_eq!(status, Conflict::settled(GoalStatus::Achieved));
}

#[test]
fn basket_services_are_added_once_and_change_status() {
    let mut doc = new_case();
    add_service(
        &mut doc,
        "svc-day-centre",
        "swietlica",
        &editor("anna"),
        at(10),
    )
    .expect("added");
    let err = add_service(
        &mut doc,
        "svc-day-centre",
        "swietlica",
        &editor("anna"),
        at(11),
    )
    .expect_err("already in the basket");
    assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
    set_service_status(
        &mut doc,
        "svc-day-centre",
        ServiceStatus::Active,
        &editor("anna"),
        at(12),
    )
    .expect("status");
    let service = &view(&doc).services["svc-day-centre"];
    assert_eq!(service.provider, "swietlica");
    assert_eq!(service.status, Conflict::settled(ServiceStatus::Active));
    assert_eq!(service.added_at, at(10));
    assert_eq!(
        service_status(&doc, "svc-day-centre")
            .expect("status")
            .value,
        ServiceStatus::Active
    );
}

#[test]
fn a_contract_is_signed_on_an_ipp_and_keeps_the_signed_text() {
    let mut doc = new_case();
    let err = sign_contract(&mut doc, &signature(), &editor("anna"), at(10)).expect_err("no text");
    assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
    set_contract_text(
        &mut doc,
        "Maria attends the day centre.",
        &editor("anna"),
        at(10),
    )
    .expect("text");
    let err = sign_contract(&mut doc, &signature(), &editor("anna"), at(10)).expect_err("no goals");
    assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");

    upsert_goal(
        &mut doc,
        "g1",
        &goal_plan("School"),
        &editor("anna"),
        at(11),
    )
    .expect("goal");
    let heads = sign_contract(&mut doc, &signature(), &editor("anna"), at(12)).expect("signed");
    set_contract_text(
        &mut doc,
        "Maria attends the day centre twice a week.",
        &editor("anna"),
        at(13),
    )
    .expect("amended");

    let contract = view(&doc).contract;
    assert_eq!(contract.text, "Maria attends the day centre twice a week.");
    assert_eq!(contract.signatures.len(), 1);
    assert_eq!(contract.signatures[0].signature, signature());
    assert_eq!(
        (
            contract.signatures[0].heads.clone(),
            contract.signatures[0].at
        ),
        (heads, at(12))
    );
    assert_eq!(
        signed_contract_text(&doc, 0).expect("signed version"),
        "Maria attends the day centre."
    );
    assert!(signed_contract_text(&doc, 1).is_err());
    validate(&doc).expect("a signed case is valid");
}

#[test]
fn monitoring_notes_are_append_only_and_merge() {
    let base = new_case();
    let mut anna = fork_as(&base, "anna-tablet-2");
    let mut jan = fork_as(&base, "jan-tablet");
    append_monitoring_note(
        &mut anna,
        "n-anna-1",
        &note("anna", "Visit went well."),
        at(12),
    )
    .expect("anna's note");
    append_monitoring_note(
        &mut jan,
        "n-jan-1",
        &note("jan", "Called the school."),
        at(11),
    )
    .expect("jan's note");
    let mut doc = merged(&anna, &jan);
    let notes = view(&doc).monitoring;
    let ids: Vec<&str> = notes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["n-jan-1", "n-anna-1"], "oldest first");
    assert_eq!(notes[1].note, note("anna", "Visit went well."));
    let err = append_monitoring_note(&mut doc, "n-jan-1", &note("jan", "Again"), at(13))
        .expect_err("append-only");
    assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
}

#[test]
fn consultations_collect_answers() {
    let mut doc = new_case();
    let request = ConsultationRequest {
        asked_by: "anna".to_owned(),
        institution: "gops".to_owned(),
        question: "Does the school see progress?".to_owned(),
    };
    open_consultation(&mut doc, "k1", &request, at(10)).expect("opened");
    let answer = Answer {
        by: "pedagog".to_owned(),
        institution: "sp-1".to_owned(),
        text: "Yes, fewer absences.".to_owned(),
    };
    answer_consultation(&mut doc, "k1", "a1", &answer, at(11)).expect("answered");
    assert!(answer_consultation(&mut doc, "k1", "a1", &answer, at(12)).is_err());
    assert!(answer_consultation(&mut doc, "k9", "a1", &answer, at(12)).is_err());
    let consultation = &view(&doc).consultations["k1"];
    assert_eq!((&consultation.request, consultation.at), (&request, at(10)));
    assert_eq!(consultation.answers["a1"].answer, answer);
}

#[test]
fn consent_events_are_logged_and_the_latest_counts() {
    let mut doc = new_case();
    record_consent(
        &mut doc,
        "c1",
        &consent(ConsentState::Given),
        &editor("anna"),
        at(10),
    )
    .expect("given");
    assert!(view(&doc).consent_in_force("sp-1", "school support"));
    record_consent(
        &mut doc,
        "c2",
        &consent(ConsentState::Withdrawn),
        &editor("anna"),
        at(11),
    )
    .expect("withdrawn");
    let case = view(&doc);
    assert!(!case.consent_in_force("sp-1", "school support"));
    assert!(!case.consent_in_force("police", "school support"));
    assert_eq!(case.consents["c1"].event, consent(ConsentState::Given));
    assert!(record_consent(
        &mut doc,
        "c1",
        &consent(ConsentState::Given),
        &editor("anna"),
        at(12)
    )
    .is_err());
}

#[test]
fn evaluation_decision_and_handover_are_recorded() {
    let mut doc = new_case();
    set_evaluation(&mut doc, "Goals mostly achieved.", &editor("anna"), at(10)).expect("evaluated");
    set_pzk_decision(
        &mut doc,
        PzkDecision::End,
        Some("m7"),
        &editor("ewa"),
        at(11),
    )
    .expect("decided");
    let target = HandoverTarget {
        institution: "pcpr".to_owned(),
        worker: Some("marek".to_owned()),
    };
    set_handover(
        &mut doc,
        &target,
        "Foster-care support goes on.",
        &editor("anna"),
        at(12),
    )
    .expect("handed over");
    let case = view(&doc);
    assert_eq!(case.evaluation.text, "Goals mostly achieved.");
    assert_eq!(
        (case.evaluation.by.as_deref(), case.evaluation.at),
        (Some("anna"), Some(at(10)))
    );
    let decision = case.pzk_decision.expect("a decision");
    assert_eq!(decision.decision, Conflict::settled(PzkDecision::End));
    assert_eq!(
        (decision.meeting.as_deref(), decision.by.as_str()),
        (Some("m7"), "ewa")
    );
    let handover = case.handover.expect("a hand-over");
    assert_eq!(
        (
            handover.target.as_str(),
            handover.target_worker.as_deref(),
            handover.note.as_str()
        ),
        ("pcpr", Some("marek"), "Foster-care support goes on.")
    );
    assert_eq!(handover.at, at(12));
}

#[test]
fn case_edits_refuse_a_pzk_document() {
    let mut doc = new_pzk();
    let err = upsert_goal(&mut doc, "g1", &goal_plan("x"), &editor("anna"), at(10))
        .expect_err("not a case");
    assert!(matches!(err, SchemaError::Rule(_)), "{err:?}");
    assert!(read_case(&doc).is_err());
}
