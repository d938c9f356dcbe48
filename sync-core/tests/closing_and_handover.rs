//! The end of a case (K9.1 to 9.3): evaluation, the PZK's decision, closing and hand-over; and
//! one family's whole story from referral to hand-over with three institutions editing offline.

use std::collections::BTreeSet;

use kooperacja_test_support::nowak::*;
use sync_core::model::case::{
    self, ConsentEvent, ConsentState, ContactMode, DiagnosisSector, GoalStatus, HandoverTarget,
    PzkDecision, ServiceStatus, Signature, SigningMode, Stage,
};
use sync_core::model::consultation::{Answer, ConsultationRequest};
use sync_core::model::{history, validate, workflow, Conflict};

#[test]
fn evaluation_decision_closing_and_hand_over_are_recorded() {
    let mut doc = walk_to(Stage::Evaluation);
    end_support(&mut doc);
    set_target(&mut doc);
    workflow::transition(&mut doc, Stage::HandedOver, &anna(), march(3, 12)).expect("handed over");
    let view = case::read_case(&doc).expect("reads");
    assert_eq!(view.evaluation.text, "Attendance goal met.");
    let decision = view.pzk_decision.expect("the 9.2 decision");
    assert_eq!(
        (decision.decision.value, decision.meeting.as_deref()),
        (PzkDecision::End, Some("m-12"))
    );
    let handover = view.handover.expect("the hand-over");
    assert_eq!(
        (handover.target.as_str(), handover.target_worker.as_deref()),
        ("pcpr", Some("piotr"))
    );
    assert_eq!(handover.note, "PCPR continues family support.");
    assert_eq!(view.stage, Conflict::settled(Stage::HandedOver));
    validate(&doc).expect("valid");
}

// ---------------------------------------------------------------------------------------------
// The story

/// The Nowak family, from the school's referral to the hand-over to the PCPR. Anna (GOPS),
/// Jan (school) and Ola (health centre) each work on their own tablet, mostly offline, and
/// sync now and then; every merge is validated as the server would.
#[test]
fn one_family_from_referral_to_hand_over_with_three_institutions() {
    // 7.2.1 Referral: Jan of the school refers the family; Anna of the GOPS enters it.
    let mut anna_tab = referral();
    let mut jan_tab = fork_as(&anna_tab, "jan-tablet");
    let mut ola_tab = fork_as(&anna_tab, "ola-tablet");

    // 7.2.2 Screening by the GOPS, then the case goes to the diagnosis.
    workflow::transition(&mut anna_tab, Stage::Screening, &anna(), march(1, 10))
        .expect("screening");
    qualify(&mut anna_tab);
    workflow::transition(&mut anna_tab, Stage::Diagnosis, &anna(), march(1, 11))
        .expect("diagnosis");
    sync(&mut anna_tab, &mut jan_tab);
    sync(&mut anna_tab, &mut ola_tab);

    // 7.2.3 Diagnosis: each institution writes its sector offline, the same day.
    case::set_diagnosis_section(
        &mut anna_tab,
        DiagnosisSector::Family,
        "Single mother, one son.",
        &anna(),
        march(2, 9),
    )
    .expect("family");
    case::set_diagnosis_section(
        &mut jan_tab,
        DiagnosisSector::Education,
        "Absent 30% of days.",
        &jan(),
        march(2, 9),
    )
    .expect("education");
    case::set_diagnosis_section(
        &mut ola_tab,
        DiagnosisSector::Health,
        "Mother: chronic illness.",
        &ola(),
        march(2, 9),
    )
    .expect("health");
    let consent = ConsentEvent {
        institution: "poz".to_owned(),
        purpose: "health information for the diagnosis".to_owned(),
        state: ConsentState::Given,
        by: "p1".to_owned(),
    };
    case::record_consent(&mut anna_tab, "c-poz", &consent, &anna(), march(2, 8)).expect("consent");
    sync(&mut anna_tab, &mut jan_tab);
    sync(&mut anna_tab, &mut ola_tab);
    sync(&mut anna_tab, &mut jan_tab);

    // 7.2.4 The IPP: goals written concurrently by the GOPS and the health centre.
    workflow::transition(&mut anna_tab, Stage::Ipp, &anna(), march(3, 9)).expect("ipp");
    case::upsert_goal(
        &mut anna_tab,
        "g-school",
        &goal("Regular school attendance", "sp-1"),
        &anna(),
        march(3, 10),
    )
    .expect("school goal");
    let mut health_goal = goal("Mother's treatment followed", "poz");
    health_goal.services = ["svc-nurse-visits".to_owned()].into();
    case::upsert_goal(&mut ola_tab, "g-health", &health_goal, &ola(), march(3, 10))
        .expect("health goal");
    sync(&mut anna_tab, &mut ola_tab);

    // 7.2.5 The contract, accepted by video (remote cooperation), then delivery.
    workflow::transition(&mut anna_tab, Stage::Contract, &anna(), march(4, 9)).expect("contract");
    case::set_contract_text(
        &mut anna_tab,
        "Maria and Kuba: school every day; treatment followed.",
        &anna(),
        march(4, 10),
    )
    .expect("contract text");
    let signed =
        case::sign_contract(&mut anna_tab, &by_video(), &anna(), march(4, 11)).expect("signed");
    workflow::transition(&mut anna_tab, Stage::Delivery, &anna(), march(4, 12)).expect("delivery");
    let pzk_doc = pzk_with_services();
    case::add_listed_service(
        &mut anna_tab,
        &pzk_doc,
        "svc-day-centre",
        &anna(),
        march(4, 12),
    )
    .expect("service");
    sync(&mut anna_tab, &mut jan_tab);
    sync(&mut anna_tab, &mut ola_tab);

    // 7.2.6–7.2.8 Delivery, monitoring and a consultation, all offline.
    case::set_service_status(
        &mut anna_tab,
        "svc-day-centre",
        ServiceStatus::Active,
        &anna(),
        march(5, 9),
    )
    .expect("active");
    case::append_monitoring_note(
        &mut anna_tab,
        "n-1",
        &note(&anna(), ContactMode::HomeVisit, "All well at home."),
        march(8, 9),
    )
    .expect("visit");
    case::append_monitoring_note(
        &mut jan_tab,
        "n-2",
        &note(&jan(), ContactMode::Office, "Kuba in school all week."),
        march(8, 10),
    )
    .expect("school note");
    case::set_goal_status(
        &mut jan_tab,
        "g-school",
        GoalStatus::InProgress,
        &jan(),
        march(8, 10),
    )
    .expect("progress");
    let request = ConsultationRequest {
        asked_by: "ola".to_owned(),
        institution: "poz".to_owned(),
        question: "Can the day centre keep Kuba on hospital days?".to_owned(),
    };
    case::open_consultation(&mut ola_tab, "k-1", &request, march(8, 11)).expect("asked");
    sync(&mut anna_tab, &mut ola_tab);
    sync(&mut anna_tab, &mut jan_tab);
    let answer = Answer {
        by: "jan".to_owned(),
        institution: "sp-1".to_owned(),
        text: "Yes, the school's day centre is open till 17:00.".to_owned(),
    };
    case::answer_consultation(&mut jan_tab, "k-1", "a-1", &answer, march(9, 9)).expect("answered");

    // A crisis: Jan sends the case back to the diagnosis while Anna, unaware, moves it on.
    let visit_before_crisis = anna_tab.get_heads();
    workflow::transition(&mut jan_tab, Stage::Diagnosis, &jan(), march(10, 9))
        .expect("re-diagnose");
    workflow::transition(&mut anna_tab, Stage::Evaluation, &anna(), march(10, 10))
        .expect("evaluate");
    sync(&mut anna_tab, &mut jan_tab);
    let shown = case::stage(&anna_tab).expect("stage");
    assert_eq!(
        shown,
        Conflict {
            value: Stage::Evaluation,
            alternatives: vec![Stage::Diagnosis]
        }
    );
    workflow::resolve_stage(&mut anna_tab, Stage::Diagnosis, &anna(), march(10, 11))
        .expect("confirmed");
    sync(&mut anna_tab, &mut jan_tab);
    sync(&mut anna_tab, &mut ola_tab);

    // The plan is reworked: new health findings, the contract amended and signed again.
    case::set_diagnosis_section(
        &mut ola_tab,
        DiagnosisSector::Health,
        "Mother: chronic illness; hospital in April.",
        &ola(),
        march(11, 9),
    )
    .expect("health update");
    sync(&mut anna_tab, &mut ola_tab);
    for (hour, stage) in (9..).zip([Stage::Ipp, Stage::Contract]) {
        workflow::transition(&mut anna_tab, stage, &anna(), march(12, hour)).expect("forward");
    }
    case::set_contract_text(
        &mut anna_tab,
        "Maria and Kuba: school every day; day centre on hospital days.",
        &anna(),
        march(12, 11),
    )
    .expect("amended");
    assert!(case::contract_changed_since_signed(&anna_tab).expect("reads"));
    let phone = Signature {
        signer: "p1".to_owned(),
        mode: SigningMode::Phone,
        consent_note: "Read out by phone from hospital; Maria accepted the change.".to_owned(),
    };
    case::sign_contract(&mut anna_tab, &phone, &anna(), march(12, 12)).expect("signed again");
    assert!(!case::contract_changed_since_signed(&anna_tab).expect("reads"));
    workflow::transition(&mut anna_tab, Stage::Delivery, &anna(), march(12, 13))
        .expect("delivery again");
    sync(&mut anna_tab, &mut jan_tab);
    sync(&mut anna_tab, &mut ola_tab);

    // Progress: goals achieved, reported by the responsible institutions.
    case::set_goal_status(
        &mut jan_tab,
        "g-school",
        GoalStatus::Achieved,
        &jan(),
        at(6, 20, 9),
    )
    .expect("achieved");
    case::set_goal_status(
        &mut ola_tab,
        "g-health",
        GoalStatus::Achieved,
        &ola(),
        at(6, 20, 9),
    )
    .expect("achieved");
    sync(&mut anna_tab, &mut jan_tab);
    sync(&mut anna_tab, &mut ola_tab);

    // 9.1 Evaluation, 9.2 the PZK ends support, 9.3 hand-over to the PCPR.
    workflow::transition(&mut anna_tab, Stage::Evaluation, &anna(), at(6, 25, 9))
        .expect("evaluation");
    case::set_evaluation(
        &mut anna_tab,
        "Both goals achieved; the family needs lighter support.",
        &anna(),
        at(6, 26, 9),
    )
    .expect("evaluated");
    case::set_pzk_decision(
        &mut anna_tab,
        PzkDecision::End,
        Some("m-18"),
        &marta(),
        at(6, 28, 9),
    )
    .expect("decided");
    let target = HandoverTarget {
        institution: "pcpr".to_owned(),
        worker: Some("piotr".to_owned()),
    };
    case::set_handover(
        &mut anna_tab,
        &target,
        "PCPR's family assistant takes over.",
        &anna(),
        at(6, 29, 9),
    )
    .expect("hand-over agreed");
    workflow::transition(&mut anna_tab, Stage::HandedOver, &anna(), at(6, 30, 9))
        .expect("handed over");
    sync(&mut anna_tab, &mut jan_tab);
    sync(&mut anna_tab, &mut ola_tab);

    // Every tablet shows the same, valid, finished case.
    for tablet in [&anna_tab, &jan_tab, &ola_tab] {
        let view = case::read_case(tablet).expect("reads");
        assert_eq!(view.stage, Conflict::settled(Stage::HandedOver));
        assert!(view.conflicts().is_empty(), "{:?}", view.conflicts());
        assert_eq!(view.goals.len(), 2);
        assert!(view
            .goals
            .values()
            .all(|g| g.status.value == GoalStatus::Achieved));
        assert_eq!(view.contract.signatures.len(), 2);
        assert_eq!(view.monitoring.len(), 2);
        assert_eq!(view.consultations["k-1"].answers.len(), 1);
        assert_eq!(
            view.diagnosis[&DiagnosisSector::Health],
            "Mother: chronic illness; hospital in April."
        );
        let handover = view.handover.as_ref().expect("the hand-over");
        assert_eq!(
            (handover.target.as_str(), handover.target_worker.as_ref()),
            (target.institution.as_str(), target.worker.as_ref())
        );
    }
    let rule_moves = workflow::allowed_moves(Stage::HandedOver);
    assert!(rule_moves.is_empty(), "a handed-over case is final");

    // The first contract as it was signed, and what happened since the crisis.
    let as_signed = history::case_at(&anna_tab, &signed).expect("the signed version");
    assert_eq!(
        as_signed.contract.text,
        "Maria and Kuba: school every day; treatment followed."
    );
    assert_eq!(as_signed.stage.value, Stage::Contract);
    let since = history::changes_between(&anna_tab, &visit_before_crisis, &anna_tab.get_heads())
        .expect("history");
    let institutions: BTreeSet<&str> = since
        .iter()
        .filter_map(|e| e.institution.as_deref())
        .collect();
    assert_eq!(institutions, ["gops", "poz", "sp-1"].into());
    let summaries: Vec<&str> = since.iter().map(|e| e.summary.as_str()).collect();
    assert!(
        summaries.contains(&"stage: delivery -> diagnosis"),
        "{summaries:?}"
    );
    assert!(
        summaries.contains(&"stage: diagnosis confirmed (concurrent: evaluation)"),
        "{summaries:?}"
    );
    assert_eq!(summaries.last(), Some(&"stage: evaluation -> handed_over"));
    assert_eq!(
        since.last().map(|e| e.local_time.as_str()),
        Some("2021-06-30 11:00 CEST")
    );
}
