//! The case workflow of the Model Kooperacji (K7.2 to 9.3): every operation, every stage move,
//! concurrent stage changes, validation of document states, the history API, and one family's
//! story from referral to hand-over with three institutions editing offline.

use std::collections::BTreeSet;

use automerge::transaction::Transactable;
use automerge::{ActorId, Automerge, ObjId, ObjType, ReadDoc, ROOT};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use sync_core::model::case::{
    self, CaseInit, ConsentEvent, ConsentState, ContactMode, DiagnosisSector, GoalPlan, GoalStatus,
    HandoverTarget, HouseholdMember, MonitoringNote, PzkDecision, Referral, ScreeningOutcome,
    ServiceStatus, Signature, SigningMode, Stage,
};
use sync_core::model::consultation::{Answer, ConsultationRequest};
use sync_core::model::pzk::{self, InstitutionSector, PzkInit, ServiceEntry};
use sync_core::model::{history, validate, workflow, Conflict, DocumentKind, Editor};
use sync_core::SchemaError;

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A fixed time in 2021: `day` of `month` at `hour`:00 UTC.
fn at(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, month, day, hour, 0, 0)
        .single()
        .expect("a valid fixed time")
}

/// A fixed time in March 2021 (winter time in Poland).
fn march(day: u32, hour: u32) -> DateTime<Utc> {
    at(3, day, hour)
}

fn date(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, month, day).expect("a valid fixed date")
}

fn editor(login: &str, institution: &str) -> Editor {
    Editor::new(login, institution).expect("a valid editor")
}

/// Anna, the social worker (*pracownik socjalny*) of the GOPS who owns the case.
fn anna() -> Editor {
    editor("anna", "gops")
}

/// Jan, the school's pedagogue (*pedagog szkolny*) of primary school no. 1.
fn jan() -> Editor {
    editor("jan", "sp-1")
}

/// Ola, the nurse of the health centre (*POZ*).
fn ola() -> Editor {
    editor("ola", "poz")
}

/// Marta, the animator of the PZK.
fn marta() -> Editor {
    editor("marta", "gops")
}

fn actor(name: &str) -> ActorId {
    ActorId::from(name.as_bytes())
}

/// A copy of `doc` for another device, editing as `name`.
fn fork_as(doc: &Automerge, name: &str) -> Automerge {
    doc.fork().with_actor(actor(name))
}

/// Merges a copy of `from` into `into`, as a sync would, and checks the result as the server
/// does after every merge.
fn merge(into: &mut Automerge, from: &Automerge) {
    into.merge(&mut from.clone())
        .expect("forks of one case merge");
    assert_eq!(
        validate(into).expect("a merge of valid states is valid"),
        DocumentKind::Case
    );
}

/// Two devices sync both ways.
fn sync(a: &mut Automerge, b: &mut Automerge) {
    merge(a, b);
    merge(b, a);
    assert_eq!(a.get_heads(), b.get_heads());
}

fn household() -> std::collections::BTreeMap<String, HouseholdMember> {
    [
        (
            "p1",
            HouseholdMember {
                name: "Maria Nowak".to_owned(),
                relation: "self".to_owned(),
                birth_date: Some(NaiveDate::from_ymd_opt(1988, 5, 2).expect("date")),
            },
        ),
        (
            "p2",
            HouseholdMember {
                name: "Kuba Nowak".to_owned(),
                relation: "son".to_owned(),
                birth_date: Some(NaiveDate::from_ymd_opt(2010, 9, 14).expect("date")),
            },
        ),
    ]
    .into_iter()
    .map(|(id, member)| (id.to_owned(), member))
    .collect()
}

/// The school refers the Nowak family; Anna of the GOPS enters the referral.
fn referral() -> Automerge {
    let init = CaseInit {
        actor: actor("anna-tablet"),
        owner: "anna".to_owned(),
        lead_institution: "gops".to_owned(),
        referral: Referral {
            by: "jan".to_owned(),
            institution: "sp-1".to_owned(),
            reason: "Kuba misses school often; his mother is ill.".to_owned(),
            at: march(1, 8),
        },
        household: household(),
    };
    case::new_case(&init, &anna(), march(1, 9)).expect("a new case")
}

fn goal(specific: &str, responsible: &str) -> GoalPlan {
    GoalPlan {
        specific: specific.to_owned(),
        measurable: "Absences under 10% a month".to_owned(),
        achievable: "Day centre after school, three days a week".to_owned(),
        relevant: "Kuba wants to pass the year with his class".to_owned(),
        deadline: date(6, 25),
        responsible: responsible.to_owned(),
        services: ["svc-day-centre".to_owned()].into(),
    }
}

fn in_person() -> Signature {
    Signature {
        signer: "p1".to_owned(),
        mode: SigningMode::InPerson,
        consent_note: String::new(),
    }
}

fn by_video() -> Signature {
    Signature {
        signer: "p1".to_owned(),
        mode: SigningMode::Video,
        consent_note: "Contract read aloud in a video call; Maria said she accepts it.".to_owned(),
    }
}

fn move_to(doc: &mut Automerge, to: Stage, hour: u32) {
    workflow::transition(doc, to, &anna(), march(2, hour))
        .unwrap_or_else(|err| panic!("move to {to}: {err}"));
}

/// A case walked to `stage` along the workflow with what entering it needs, and no more: at
/// `screening` no decision yet, at `diagnosis` no sector written, at `ipp` no goal, at
/// `contract` no contract text, at `evaluation` no evaluation and no 9.2 decision.
fn walk_to(stage: Stage) -> Automerge {
    let mut doc = referral();
    let path = [
        Stage::Screening,
        Stage::Diagnosis,
        Stage::Ipp,
        Stage::Contract,
        Stage::Delivery,
        Stage::Evaluation,
    ];
    for (hour, next) in (1..).zip(path) {
        if stage < next {
            break;
        }
        prepare_for(&mut doc, next);
        move_to(&mut doc, next, hour);
    }
    match stage {
        Stage::Closed => {
            end_support(&mut doc);
            move_to(&mut doc, Stage::Closed, 20);
        }
        Stage::HandedOver => {
            end_support(&mut doc);
            set_target(&mut doc);
            move_to(&mut doc, Stage::HandedOver, 20);
        }
        _ => {}
    }
    assert_eq!(case::stage(&doc).expect("stage").value, stage);
    doc
}

/// Does what moving to `next` needs.
fn prepare_for(doc: &mut Automerge, next: Stage) {
    match next {
        Stage::Diagnosis => qualify(doc),
        Stage::Ipp => write_diagnosis(doc),
        Stage::Contract => add_goal(doc),
        Stage::Delivery => sign(doc),
        _ => {}
    }
}

fn qualify(doc: &mut Automerge) {
    case::set_screening(
        doc,
        ScreeningOutcome::Qualified,
        "Several needs; the family agrees to work with the PZK.",
        &anna(),
        march(1, 10),
    )
    .expect("screened");
}

fn not_qualify(doc: &mut Automerge) {
    case::set_screening(
        doc,
        ScreeningOutcome::NotQualified,
        "One need only, met by the school alone.",
        &anna(),
        march(1, 10),
    )
    .expect("screened");
}

fn write_diagnosis(doc: &mut Automerge) {
    case::set_diagnosis_section(
        doc,
        DiagnosisSector::Education,
        "Absent 30% of days.",
        &jan(),
        march(1, 11),
    )
    .expect("diagnosis written");
}

fn add_goal(doc: &mut Automerge) {
    case::upsert_goal(
        doc,
        "g-school",
        &goal("Regular school attendance", "sp-1"),
        &anna(),
        march(1, 12),
    )
    .expect("goal added");
}

fn sign(doc: &mut Automerge) {
    case::set_contract_text(
        doc,
        "Maria and Kuba: school every day.",
        &anna(),
        march(1, 13),
    )
    .expect("contract text");
    case::sign_contract(doc, &in_person(), &anna(), march(1, 14)).expect("signed");
}

fn evaluate(doc: &mut Automerge) {
    case::set_evaluation(doc, "Attendance goal met.", &anna(), march(3, 9)).expect("evaluated");
}

fn decide(doc: &mut Automerge, decision: PzkDecision) {
    case::set_pzk_decision(doc, decision, Some("m-12"), &marta(), march(3, 10)).expect("decided");
}

fn end_support(doc: &mut Automerge) {
    evaluate(doc);
    decide(doc, PzkDecision::End);
}

fn set_target(doc: &mut Automerge) {
    let target = HandoverTarget {
        institution: "pcpr".to_owned(),
        worker: Some("piotr".to_owned()),
    };
    case::set_handover(
        doc,
        &target,
        "PCPR continues family support.",
        &anna(),
        march(3, 11),
    )
    .expect("hand-over agreed");
}

fn amend_contract(doc: &mut Automerge) {
    case::set_contract_text(
        doc,
        "Maria and Kuba: school every day, day centre on Mondays.",
        &anna(),
        march(1, 15),
    )
    .expect("amended");
}

fn rule_reason(result: Result<impl std::fmt::Debug, SchemaError>) -> String {
    match result {
        Err(SchemaError::Rule(reason)) => reason,
        other => panic!("expected a broken rule, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Operations

#[test]
fn referral_records_who_why_when_and_the_household() {
    let doc = referral();
    let view = case::read_case(&doc).expect("reads");
    assert_eq!(view.stage, Conflict::settled(Stage::Referral));
    assert_eq!(
        (
            view.referral.by.as_str(),
            view.referral.institution.as_str()
        ),
        ("jan", "sp-1")
    );
    assert_eq!(
        view.referral.reason,
        "Kuba misses school often; his mother is ill."
    );
    assert_eq!(view.referral.at, march(1, 8));
    assert_eq!(view.household, household());
    assert_eq!(validate(&doc).expect("valid"), DocumentKind::Case);
}

#[test]
fn screening_records_the_decision_with_its_reason() {
    let mut doc = walk_to(Stage::Screening);
    let reason = rule_reason(case::set_screening(
        &mut doc,
        ScreeningOutcome::Qualified,
        "  ",
        &anna(),
        march(1, 10),
    ));
    assert!(reason.contains("reason"), "{reason}");
    qualify(&mut doc);
    let screening = case::read_case(&doc).expect("reads").screening;
    assert_eq!(
        screening.outcome,
        Some(Conflict::settled(ScreeningOutcome::Qualified))
    );
    assert_eq!(
        screening.notes,
        "Several needs; the family agrees to work with the PZK."
    );
    assert_eq!(
        (screening.by.as_deref(), screening.at),
        (Some("anna"), Some(march(1, 10)))
    );
}

#[test]
fn a_screening_decision_in_conflict_blocks_the_move_until_settled() {
    let base = walk_to(Stage::Screening);
    let mut gops = fork_as(&base, "anna-tablet-2");
    let mut school = fork_as(&base, "jan-tablet");
    qualify(&mut gops);
    case::set_screening(
        &mut school,
        ScreeningOutcome::NotQualified,
        "The school can help alone.",
        &jan(),
        march(1, 10),
    )
    .expect("screened");
    merge(&mut gops, &school);
    let reason = rule_reason(workflow::transition(
        &mut gops,
        Stage::Diagnosis,
        &anna(),
        march(1, 11),
    ));
    assert!(
        reason.contains("screening decision is in conflict"),
        "{reason}"
    );

    qualify(&mut gops);
    workflow::transition(&mut gops, Stage::Diagnosis, &anna(), march(1, 12)).expect("moved");
    validate(&gops).expect("valid");
}

#[test]
fn diagnosis_sections_are_written_concurrently_by_each_sector() {
    let base = walk_to(Stage::Diagnosis);
    let mut gops = fork_as(&base, "anna-tablet-2");
    let mut school = fork_as(&base, "jan-tablet");
    let mut health = fork_as(&base, "ola-tablet");
    case::set_diagnosis_section(
        &mut gops,
        DiagnosisSector::Family,
        "Single mother, one son.",
        &anna(),
        march(2, 9),
    )
    .expect("family");
    case::set_diagnosis_section(
        &mut school,
        DiagnosisSector::Education,
        "Absent 30% of days.",
        &jan(),
        march(2, 9),
    )
    .expect("education");
    case::set_diagnosis_section(
        &mut health,
        DiagnosisSector::Health,
        "Mother: chronic illness.",
        &ola(),
        march(2, 9),
    )
    .expect("health");
    merge(&mut gops, &school);
    merge(&mut gops, &health);
    let diagnosis = case::read_case(&gops).expect("reads").diagnosis;
    assert_eq!(
        diagnosis[&DiagnosisSector::Family],
        "Single mother, one son."
    );
    assert_eq!(
        diagnosis[&DiagnosisSector::Education],
        "Absent 30% of days."
    );
    assert_eq!(
        diagnosis[&DiagnosisSector::Health],
        "Mother: chronic illness."
    );
}

#[test]
fn ipp_goals_are_smart_with_responsible_status_and_services() {
    let mut doc = walk_to(Stage::Ipp);
    add_goal(&mut doc);
    case::set_goal_status(
        &mut doc,
        "g-school",
        GoalStatus::InProgress,
        &jan(),
        march(2, 9),
    )
    .expect("status");
    let goal_view = &case::read_case(&doc).expect("reads").goals["g-school"];
    assert_eq!(goal_view.plan, goal("Regular school attendance", "sp-1"));
    assert_eq!(goal_view.plan.deadline, date(6, 25));
    assert_eq!(goal_view.status, Conflict::settled(GoalStatus::InProgress));
    assert!(goal_view.plan.services.contains("svc-day-centre"));
}

#[test]
fn signing_needs_text_a_goal_and_for_remote_acceptance_the_consent() {
    let mut doc = walk_to(Stage::Ipp);
    let reason = rule_reason(case::sign_contract(
        &mut doc,
        &in_person(),
        &anna(),
        march(2, 9),
    ));
    assert!(reason.contains("without text"), "{reason}");
    case::set_contract_text(&mut doc, "School every day.", &anna(), march(2, 9)).expect("text");
    let reason = rule_reason(case::sign_contract(
        &mut doc,
        &in_person(),
        &anna(),
        march(2, 9),
    ));
    assert!(reason.contains("goal"), "{reason}");
    add_goal(&mut doc);
    let mut silent = by_video();
    silent.consent_note.clear();
    let reason = rule_reason(case::sign_contract(&mut doc, &silent, &anna(), march(2, 9)));
    assert!(reason.contains("recorded consent"), "{reason}");

    let heads = case::sign_contract(&mut doc, &by_video(), &anna(), march(2, 10)).expect("signed");
    let signing = &case::read_case(&doc).expect("reads").contract.signatures[0];
    assert_eq!(signing.signature, by_video());
    assert_eq!(
        (&signing.heads, signing.at, signing.recorded_by.as_str()),
        (&heads, march(2, 10), "anna")
    );
}

#[test]
fn a_contract_changed_after_signing_shows_and_the_signed_version_stays_readable() {
    let mut doc = walk_to(Stage::Contract);
    assert!(
        !case::contract_changed_since_signed(&doc).expect("reads"),
        "never signed"
    );
    case::set_contract_text(&mut doc, "School every day.", &anna(), march(2, 9)).expect("text");
    let signed =
        case::sign_contract(&mut doc, &in_person(), &anna(), march(2, 10)).expect("signed");
    assert!(!case::contract_changed_since_signed(&doc).expect("reads"));

    case::set_contract_text(
        &mut doc,
        "School every day; day centre too.",
        &anna(),
        march(2, 11),
    )
    .expect("amended");
    assert!(case::contract_changed_since_signed(&doc).expect("reads"));
    let reason = rule_reason(workflow::transition(
        &mut doc,
        Stage::Delivery,
        &anna(),
        march(2, 12),
    ));
    assert!(reason.contains("changed since it was signed"), "{reason}");

    let as_signed = history::case_at(&doc, &signed).expect("the signed version");
    assert_eq!(as_signed.contract.text, "School every day.");
    assert!(
        as_signed.contract.signatures.is_empty(),
        "the signing comes after its heads"
    );
    assert_eq!(
        case::signed_contract_text(&doc, 0).expect("signed text"),
        "School every day."
    );

    case::sign_contract(&mut doc, &by_video(), &anna(), march(2, 13)).expect("signed again");
    assert!(!case::contract_changed_since_signed(&doc).expect("reads"));
    workflow::transition(&mut doc, Stage::Delivery, &anna(), march(2, 14)).expect("delivery");
    validate(&doc).expect("valid");
}

fn pzk_with_services() -> Automerge {
    let init = PzkInit {
        actor: actor("marta-laptop"),
        name: "PZK Gminy Przykładowo".to_owned(),
        animator: "marta".to_owned(),
        agreement_text: "Porozumienie o współpracy.".to_owned(),
    };
    let mut pzk_doc = pzk::new_pzk(&init, march(1, 7)).expect("a PZK");
    for (id, provider) in [("svc-day-centre", "swietlica"), ("svc-tutor", "sp-1")] {
        let entry = ServiceEntry {
            description: format!("{id} for children"),
            provider: provider.to_owned(),
            sector: InstitutionSector::Education,
            capacity: Some(20),
            remote_capable: false,
        };
        pzk::upsert_service(
            &mut pzk_doc,
            id,
            &entry,
            &editor("marta", "gops"),
            march(1, 7),
        )
        .expect("listed");
    }
    pzk::retire_service(
        &mut pzk_doc,
        "svc-tutor",
        &editor("marta", "gops"),
        march(1, 8),
    )
    .expect("retired");
    pzk_doc
}

#[test]
fn the_service_basket_takes_listed_services_and_their_statuses() {
    let pzk_doc = pzk_with_services();
    let mut doc = walk_to(Stage::Delivery);
    case::add_listed_service(&mut doc, &pzk_doc, "svc-day-centre", &anna(), march(2, 9))
        .expect("listed service added");
    let reason = rule_reason(case::add_listed_service(
        &mut doc,
        &pzk_doc,
        "svc-boxing",
        &anna(),
        march(2, 9),
    ));
    assert!(reason.contains("not on the PZK's list"), "{reason}");
    let reason = rule_reason(case::add_listed_service(
        &mut doc,
        &pzk_doc,
        "svc-tutor",
        &anna(),
        march(2, 9),
    ));
    assert!(reason.contains("retired"), "{reason}");

    let service = &case::read_case(&doc).expect("reads").services["svc-day-centre"];
    assert_eq!(
        (service.provider.as_str(), service.status.value),
        ("swietlica", ServiceStatus::Planned)
    );
    for (hour, status) in (10..).zip([
        ServiceStatus::Active,
        ServiceStatus::Finished,
        ServiceStatus::Refused,
    ]) {
        case::set_service_status(&mut doc, "svc-day-centre", status, &anna(), march(2, hour))
            .expect("status");
        assert_eq!(
            case::service_status(&doc, "svc-day-centre").expect("status"),
            Conflict::settled(status)
        );
    }
}

fn note(author: &Editor, mode: ContactMode, text: &str) -> MonitoringNote {
    MonitoringNote {
        author: author.login().to_owned(),
        institution: author.institution().to_owned(),
        mode,
        text: text.to_owned(),
    }
}

#[test]
fn monitoring_notes_are_append_only_with_author_institution_time_and_mode() {
    let base = walk_to(Stage::Delivery);
    let mut gops = fork_as(&base, "anna-tablet-2");
    let mut school = fork_as(&base, "jan-tablet");
    let visit = note(
        &anna(),
        ContactMode::HomeVisit,
        "Flat heated; Kuba doing homework.",
    );
    let call = note(&jan(), ContactMode::Phone, "Kuba in school all week.");
    case::append_monitoring_note(&mut gops, "n-anna-1", &visit, march(4, 10)).expect("visit");
    case::append_monitoring_note(&mut school, "n-jan-1", &call, march(4, 9)).expect("call");
    merge(&mut gops, &school);
    let notes = case::read_case(&gops).expect("reads").monitoring;
    let seen: Vec<(&str, &MonitoringNote, DateTime<Utc>)> = notes
        .iter()
        .map(|n| (n.id.as_str(), &n.note, n.at))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("n-jan-1", &call, march(4, 9)),
            ("n-anna-1", &visit, march(4, 10))
        ]
    );
    let reason = rule_reason(case::append_monitoring_note(
        &mut gops,
        "n-jan-1",
        &call,
        march(4, 11),
    ));
    assert!(reason.contains("append-only"), "{reason}");
}

#[test]
fn consultations_collect_concurrent_answers_from_institutions() {
    let mut doc = walk_to(Stage::Delivery);
    let request = ConsultationRequest {
        asked_by: "anna".to_owned(),
        institution: "gops".to_owned(),
        question: "Is Kuba's absence linked to his mother's illness?".to_owned(),
    };
    case::open_consultation(&mut doc, "k1", &request, march(4, 9)).expect("asked");
    let mut school = fork_as(&doc, "jan-tablet");
    let mut health = fork_as(&doc, "ola-tablet");
    let from_school = Answer {
        by: "jan".to_owned(),
        institution: "sp-1".to_owned(),
        text: "Absences follow her hospital stays.".to_owned(),
    };
    let from_health = Answer {
        by: "ola".to_owned(),
        institution: "poz".to_owned(),
        text: "She was in hospital twice this term.".to_owned(),
    };
    case::answer_consultation(&mut school, "k1", "a-school", &from_school, march(4, 10))
        .expect("school answers");
    case::answer_consultation(&mut health, "k1", "a-health", &from_health, march(4, 10))
        .expect("health answers");
    merge(&mut doc, &school);
    merge(&mut doc, &health);
    let consultation = &case::read_case(&doc).expect("reads").consultations["k1"];
    assert_eq!(consultation.request, request);
    assert_eq!(consultation.answers["a-school"].answer, from_school);
    assert_eq!(consultation.answers["a-health"].answer, from_health);
}

#[test]
fn consent_records_are_given_and_withdrawn_by_whom_and_when() {
    let mut doc = referral();
    let consent = |state| ConsentEvent {
        institution: "poz".to_owned(),
        purpose: "health information for the diagnosis".to_owned(),
        state,
        by: "p1".to_owned(),
    };
    case::record_consent(
        &mut doc,
        "c1",
        &consent(ConsentState::Given),
        &anna(),
        march(1, 10),
    )
    .expect("given");
    let view = case::read_case(&doc).expect("reads");
    assert!(view.consent_in_force("poz", "health information for the diagnosis"));
    assert_eq!(
        (
            view.consents["c1"].at,
            view.consents["c1"].recorded_by.as_str()
        ),
        (march(1, 10), "anna")
    );
    case::record_consent(
        &mut doc,
        "c2",
        &consent(ConsentState::Withdrawn),
        &anna(),
        march(5, 10),
    )
    .expect("withdrawn");
    let view = case::read_case(&doc).expect("reads");
    assert!(!view.consent_in_force("poz", "health information for the diagnosis"));
    assert_eq!(view.consents["c2"].event, consent(ConsentState::Withdrawn));
}

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
// Stage rules

/// Every allowed move, as the workflow documents it.
const ALLOWED: &[(Stage, Stage)] = &[
    (Stage::Referral, Stage::Screening),
    (Stage::Screening, Stage::Diagnosis),
    (Stage::Screening, Stage::Closed),
    (Stage::Diagnosis, Stage::Ipp),
    (Stage::Ipp, Stage::Contract),
    (Stage::Ipp, Stage::Diagnosis),
    (Stage::Contract, Stage::Delivery),
    (Stage::Contract, Stage::Ipp),
    (Stage::Contract, Stage::Diagnosis),
    (Stage::Delivery, Stage::Evaluation),
    (Stage::Delivery, Stage::Diagnosis),
    (Stage::Evaluation, Stage::Closed),
    (Stage::Evaluation, Stage::HandedOver),
    (Stage::Evaluation, Stage::Delivery),
    (Stage::Evaluation, Stage::Diagnosis),
];

#[test]
fn the_table_of_allowed_moves_is_the_documented_one() {
    for from in Stage::ALL {
        for to in Stage::ALL {
            assert_eq!(
                workflow::is_allowed(*from, *to),
                ALLOWED.contains(&(*from, *to)),
                "{from} -> {to}"
            );
        }
    }
}

#[test]
fn every_move_the_table_does_not_allow_is_refused_and_writes_nothing() {
    let mut refused = 0;
    for from in Stage::ALL {
        let mut doc = walk_to(*from);
        let heads = doc.get_heads();
        for to in Stage::ALL {
            if ALLOWED.contains(&(*from, *to)) {
                continue;
            }
            let reason = rule_reason(workflow::transition(&mut doc, *to, &anna(), march(9, 9)));
            let expected = if from == to {
                "already at stage"
            } else if matches!(from, Stage::Closed | Stage::HandedOver) {
                "is final"
            } else {
                "cannot move"
            };
            assert!(reason.contains(expected), "{from} -> {to}: {reason}");
            assert_eq!(doc.get_heads(), heads, "{from} -> {to} wrote a change");
            refused += 1;
        }
    }
    assert_eq!(refused, 81 - ALLOWED.len());
}

/// A row of the table of allowed moves: the stage, what is done at it first, the move, and the
/// expected outcome (`Ok`, or `Err` with words of the reason).
type MoveRow = (Stage, fn(&mut Automerge), Stage, Result<(), &'static str>);

fn nothing(_: &mut Automerge) {}

fn sign_then_amend(doc: &mut Automerge) {
    sign(doc);
    amend_contract(doc);
}

fn evaluate_and_continue(doc: &mut Automerge) {
    evaluate(doc);
    decide(doc, PzkDecision::Continue);
}

#[test]
fn allowed_moves_check_what_they_need() {
    use Stage::*;
    let table: &[MoveRow] = &[
        (Referral, nothing, Screening, Ok(())),
        (Screening, nothing, Diagnosis, Err("decision to proceed")),
        (
            Screening,
            not_qualify,
            Diagnosis,
            Err("decision to proceed"),
        ),
        (Screening, qualify, Diagnosis, Ok(())),
        (Screening, nothing, Closed, Err("decision not to proceed")),
        (Screening, qualify, Closed, Err("decision not to proceed")),
        (Screening, not_qualify, Closed, Ok(())),
        (Diagnosis, nothing, Ipp, Err("diagnosis sector")),
        (Diagnosis, write_diagnosis, Ipp, Ok(())),
        (Ipp, nothing, Contract, Err("at least one goal")),
        (Ipp, add_goal, Contract, Ok(())),
        (Ipp, nothing, Diagnosis, Ok(())),
        (
            Contract,
            nothing,
            Delivery,
            Err("once the contract is signed"),
        ),
        (
            Contract,
            sign_then_amend,
            Delivery,
            Err("changed since it was signed"),
        ),
        (Contract, sign, Delivery, Ok(())),
        (Contract, nothing, Ipp, Ok(())),
        (Contract, nothing, Diagnosis, Ok(())),
        (Delivery, nothing, Evaluation, Ok(())),
        (Delivery, nothing, Diagnosis, Ok(())),
        (Evaluation, nothing, Delivery, Err("to continue")),
        (Evaluation, end_support, Delivery, Err("to continue")),
        (Evaluation, evaluate_and_continue, Delivery, Ok(())),
        (Evaluation, nothing, Closed, Err("evaluation (9.1)")),
        (Evaluation, evaluate, Closed, Err("to end")),
        (Evaluation, evaluate_and_continue, Closed, Err("to end")),
        (Evaluation, end_support, Closed, Ok(())),
        (Evaluation, end_support, HandedOver, Err("target")),
        (Evaluation, evaluate_and_continue, HandedOver, Err("to end")),
        (
            Evaluation,
            |d| {
                end_support(d);
                set_target(d)
            },
            HandedOver,
            Ok(()),
        ),
        (Evaluation, nothing, Diagnosis, Ok(())),
    ];
    for (from, setup, to, expected) in table {
        check_move(*from, *setup, *to, *expected);
    }
    let moves: BTreeSet<(Stage, Stage)> = table.iter().map(|(f, _, t, _)| (*f, *t)).collect();
    assert_eq!(moves.len(), ALLOWED.len(), "every allowed move has a row");
}

fn check_move(from: Stage, setup: fn(&mut Automerge), to: Stage, expected: Result<(), &str>) {
    let mut doc = walk_to(from);
    setup(&mut doc);
    let heads = doc.get_heads();
    let result = workflow::transition(&mut doc, to, &anna(), march(9, 9));
    match expected {
        Ok(()) => {
            result.unwrap_or_else(|err| panic!("{from} -> {to}: {err}"));
            assert_eq!(case::stage(&doc).expect("stage"), Conflict::settled(to));
            validate(&doc).unwrap_or_else(|err| panic!("{from} -> {to} is valid: {err}"));
        }
        Err(words) => {
            let reason = rule_reason(result);
            assert!(reason.contains(words), "{from} -> {to}: {reason}");
            assert_eq!(doc.get_heads(), heads, "{from} -> {to} wrote a change");
        }
    }
}

#[test]
fn a_move_names_both_stages_and_its_author_in_the_history() {
    let mut doc = walk_to(Stage::Delivery);
    let before = doc.get_heads();
    workflow::transition(&mut doc, Stage::Evaluation, &jan(), march(6, 9)).expect("moved");
    let entries = history::changes_between(&doc, &before, &doc.get_heads()).expect("history");
    let entry = entries.first().expect("one change");
    assert_eq!(entries.len(), 1);
    assert_eq!(entry.summary, "stage: delivery -> evaluation");
    assert_eq!(
        (entry.author.as_deref(), entry.institution.as_deref()),
        (Some("jan"), Some("sp-1"))
    );
    assert_eq!(
        (entry.at, entry.local_time.as_str()),
        (march(6, 9), "2021-03-06 10:00 CET")
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrent stage changes

/// Continue (9.2) on one device, re-diagnose on another, close on a third.
fn three_concurrent_moves() -> (Automerge, Automerge, Automerge) {
    let mut base = walk_to(Stage::Evaluation);
    end_support(&mut base);
    let mut close = fork_as(&base, "anna-tablet-2");
    let mut rediagnose = fork_as(&base, "jan-tablet");
    let mut cont = fork_as(&base, "marta-laptop");
    workflow::transition(&mut close, Stage::Closed, &anna(), march(4, 9)).expect("closed");
    workflow::transition(&mut rediagnose, Stage::Diagnosis, &jan(), march(4, 9))
        .expect("back to diagnosis");
    decide(&mut cont, PzkDecision::Continue);
    workflow::transition(&mut cont, Stage::Delivery, &marta(), march(4, 9)).expect("continued");
    (close, rediagnose, cont)
}

#[test]
fn concurrent_moves_show_the_furthest_stage_with_the_others_to_confirm() {
    let (close, rediagnose, cont) = three_concurrent_moves();
    let mut one = close.clone();
    merge(&mut one, &rediagnose);
    merge(&mut one, &cont);
    let mut two = cont.clone();
    merge(&mut two, &rediagnose);
    merge(&mut two, &close);
    let expected = Conflict {
        value: Stage::Closed,
        alternatives: vec![Stage::Delivery, Stage::Diagnosis],
    };
    for doc in [&one, &two] {
        assert_eq!(case::stage(doc).expect("stage"), expected);
        assert_eq!(case::read_case(doc).expect("reads").stage, expected);
        assert!(case::read_case(doc)
            .expect("reads")
            .conflicts()
            .contains(&"stage".to_owned()));
    }

    let reason = rule_reason(workflow::transition(
        &mut one,
        Stage::Evaluation,
        &anna(),
        march(5, 9),
    ));
    assert!(reason.contains("in conflict"), "{reason}");
    let reason = rule_reason(workflow::resolve_stage(
        &mut one,
        Stage::Ipp,
        &anna(),
        march(5, 9),
    ));
    assert!(
        reason.contains("not one of the concurrent stages"),
        "{reason}"
    );

    workflow::resolve_stage(&mut one, Stage::Diagnosis, &anna(), march(5, 9)).expect("confirmed");
    merge(&mut two, &one);
    for doc in [&one, &two] {
        assert_eq!(
            case::stage(doc).expect("stage"),
            Conflict::settled(Stage::Diagnosis)
        );
    }
    let reason = rule_reason(workflow::resolve_stage(
        &mut one,
        Stage::Diagnosis,
        &anna(),
        march(5, 10),
    ));
    assert!(reason.contains("not in conflict"), "{reason}");
}

/// A base case whose every stage value is a valid state: goals, a signed contract, the
/// evaluation, the decision to end and a hand-over target are all there.
fn base_for_any_stage() -> Automerge {
    let mut doc = walk_to(Stage::Evaluation);
    end_support(&mut doc);
    set_target(&mut doc);
    doc
}

fn stage_strategy() -> impl Strategy<Value = Stage> {
    proptest::sample::select(Stage::ALL.to_vec())
}

/// 2 to 4 forks, each writing 1 or 2 stages in a row; and for each replica the order in which
/// it merges the others.
fn forks_and_orders() -> impl Strategy<Value = (Vec<Vec<Stage>>, Vec<Vec<usize>>)> {
    proptest::collection::vec(proptest::collection::vec(stage_strategy(), 1..=2), 2..=4)
        .prop_flat_map(|writes| {
            let n = writes.len();
            let order = Just((0..n).collect::<Vec<usize>>()).prop_shuffle();
            (
                Just(writes),
                proptest::collection::vec(order, n + 1..=n + 1),
            )
        })
}

/// The stage values a merge of all forks holds: the last value of every fork that wrote one.
///
/// Writing the value a replica already shows adds no operation (Automerge skips it), so a fork
/// whose writes never differ from the base's value keeps nothing of its own; when no fork wrote
/// anything, the base's value stays.
fn surviving_values(base: Stage, writes: &[Vec<Stage>]) -> BTreeSet<Stage> {
    let written: BTreeSet<Stage> = writes
        .iter()
        .filter(|stages| stages.iter().any(|stage| *stage != base))
        .filter_map(|stages| stages.last().copied())
        .collect();
    if written.is_empty() {
        [base].into()
    } else {
        written
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_merge_order_shows_the_same_stage(
        (writes, orders) in forks_and_orders()
    ) {
        let base = base_for_any_stage();
        let forks: Vec<Automerge> = writes
            .iter()
            .enumerate()
            .map(|(i, stages)| {
                let mut fork = fork_as(&base, &format!("device-{i}"));
                for (hour, stage) in (1..).zip(stages) {
                    case::set_stage_raw(&mut fork, *stage, &anna(), march(10, hour))
                        .expect("stage written");
                }
                fork
            })
            .collect();

        let mut descending: Vec<Stage> = surviving_values(Stage::Evaluation, &writes)
            .into_iter()
            .rev()
            .collect();
        let furthest = descending.remove(0);
        let expected = Conflict { value: furthest, alternatives: descending };

        // Replica i starts from fork i (the last order starts from the base) and merges the
        // forks in its own order.
        let mut shown = Vec::new();
        for (i, order) in orders.iter().enumerate() {
            let mut replica = forks.get(i).cloned().unwrap_or_else(|| base.clone());
            for j in order {
                merge(&mut replica, &forks[*j]);
            }
            shown.push(case::stage(&replica).expect("stage"));
        }
        prop_assert!(shown.windows(2).all(|pair| pair[0] == pair[1]), "{:?}", shown);
        prop_assert_eq!(&shown[0], &expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Validation of document states

/// Writes a contract signing with raw Automerge operations, below the typed API.
fn raw_signing(doc: &mut Automerge, heads: Vec<String>, mode: &str, consent: &str) {
    let (_, contract) = doc
        .get(ROOT, "contract")
        .expect("readable")
        .expect("a contract");
    let (_, list) = doc
        .get(&contract, "signatures")
        .expect("readable")
        .expect("a signature list");
    let index = doc.length(&list);
    doc.transact(|tx| {
        let entry: ObjId = tx.insert_object(&list, index, ObjType::Map)?;
        let heads_list = tx.put_object(&entry, "heads", ObjType::List)?;
        for (i, head) in heads.iter().enumerate() {
            tx.insert(&heads_list, i, head.as_str())?;
        }
        tx.put(&entry, "signer", "p1")?;
        tx.put(&entry, "at", automerge::ScalarValue::Timestamp(0))?;
        tx.put(&entry, "mode", mode)?;
        tx.put(&entry, "consentNote", consent)?;
        tx.put(&entry, "recordedBy", "mallory")?;
        Ok::<_, automerge::AutomergeError>(())
    })
    .expect("raw signing written");
}

fn current_heads(doc: &Automerge) -> Vec<String> {
    doc.get_heads().iter().map(ToString::to_string).collect()
}

fn validation_reason(doc: &Automerge) -> String {
    match validate(doc) {
        Err(SchemaError::Rule(reason)) => reason,
        Err(SchemaError::Field { path, reason }) => format!("field {path}: {reason}"),
        other => panic!("expected an invalid state, got {other:?}"),
    }
}

/// A row of the table of invalid states: the stage to start from, a breaking edit below the
/// workflow's rules, and words of the reason `validate` gives.
type StateRow = (Stage, fn(&mut Automerge), &'static str);

fn force(doc: &mut Automerge, stage: Stage) {
    case::set_stage_raw(doc, stage, &anna(), march(9, 9)).expect("stage forced");
}

#[test]
fn invalid_states_are_refused_with_the_reason() {
    let table: &[StateRow] = &[
        (
            Stage::Ipp,
            |d| {
                case::set_contract_text(d, "School.", &anna(), march(9, 8)).expect("text");
                let heads = current_heads(d);
                raw_signing(d, heads, "in_person", "");
            },
            "without a plan",
        ),
        (
            Stage::Contract,
            |d| {
                let heads = current_heads(d);
                raw_signing(d, heads, "in_person", "");
            },
            "empty contract",
        ),
        (
            Stage::Contract,
            |d| {
                case::set_contract_text(d, "School.", &anna(), march(9, 8)).expect("text");
                let heads = current_heads(d);
                raw_signing(d, heads, "phone", "");
            },
            "without a recorded consent",
        ),
        (
            Stage::Contract,
            |d| raw_signing(d, vec!["ab".repeat(32)], "in_person", ""),
            "does not hold",
        ),
        (
            Stage::Ipp,
            |d| force(d, Stage::Contract),
            "contract has no IPP goal",
        ),
        (
            Stage::Diagnosis,
            |d| force(d, Stage::Evaluation),
            "evaluation has no IPP goal",
        ),
        (
            Stage::Contract,
            |d| force(d, Stage::Delivery),
            "delivery has no signed contract",
        ),
        (
            Stage::Evaluation,
            |d| force(d, Stage::HandedOver),
            "no hand-over target",
        ),
    ];
    for (from, breaker, words) in table {
        let mut doc = walk_to(*from);
        breaker(&mut doc);
        let reason = validation_reason(&doc);
        assert!(reason.contains(words), "{from}: {reason}");
    }
}

#[test]
fn every_state_on_the_way_validates() {
    for stage in Stage::ALL {
        let doc = walk_to(*stage);
        assert_eq!(
            validate(&doc).expect("valid"),
            DocumentKind::Case,
            "{stage}"
        );
    }
    let mut closed_early = walk_to(Stage::Screening);
    not_qualify(&mut closed_early);
    workflow::transition(&mut closed_early, Stage::Closed, &anna(), march(1, 11)).expect("closed");
    validate(&closed_early).expect("a case closed after screening is valid");
}

#[test]
fn an_invalid_value_hidden_in_a_stage_conflict_is_still_refused() {
    let base = walk_to(Stage::Screening);
    let mut valid = fork_as(&base, "anna-tablet-2");
    let mut broken = fork_as(&base, "mallory-tablet");
    not_qualify(&mut valid);
    workflow::transition(&mut valid, Stage::Closed, &anna(), march(1, 11)).expect("closed");
    force(&mut broken, Stage::Contract);
    valid.merge(&mut broken).expect("merges");
    assert_eq!(case::stage(&valid).expect("stage").value, Stage::Closed);
    let reason = validation_reason(&valid);
    assert!(reason.contains("contract has no IPP goal"), "{reason}");
}

// ---------------------------------------------------------------------------------------------
// History

#[test]
fn changes_between_two_versions_list_what_changed_who_and_when() {
    let mut gops = walk_to(Stage::Diagnosis);
    let last_visit = gops.get_heads();
    let mut school = fork_as(&gops, "jan-tablet");
    let mut health = fork_as(&gops, "ola-tablet");
    case::set_diagnosis_section(
        &mut school,
        DiagnosisSector::Education,
        "Absent 30% of days.",
        &jan(),
        at(4, 1, 8),
    )
    .expect("school");
    case::set_diagnosis_section(
        &mut health,
        DiagnosisSector::Health,
        "Mother: chronic illness.",
        &ola(),
        at(3, 31, 8),
    )
    .expect("health");
    merge(&mut gops, &school);
    merge(&mut gops, &health);
    workflow::transition(&mut gops, Stage::Ipp, &anna(), at(4, 2, 8)).expect("ipp");

    let since = history::changes_between(&gops, &last_visit, &gops.get_heads()).expect("history");
    let seen: Vec<(Option<&str>, Option<&str>, &str, &str)> = since
        .iter()
        .map(|e| {
            (
                e.author.as_deref(),
                e.institution.as_deref(),
                e.summary.as_str(),
                e.local_time.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                Some("ola"),
                Some("poz"),
                "diagnosis/health: updated",
                "2021-03-31 10:00 CEST"
            ),
            (
                Some("jan"),
                Some("sp-1"),
                "diagnosis/education: updated",
                "2021-04-01 10:00 CEST"
            ),
            (
                Some("anna"),
                Some("gops"),
                "stage: diagnosis -> ipp",
                "2021-04-02 10:00 CEST"
            ),
        ]
    );
    assert_eq!(since[1].actor, actor("jan-tablet"));
    assert_eq!(since[1].at, at(4, 1, 8));

    let whole = history::changes_between(&gops, &[], &gops.get_heads()).expect("history");
    assert_eq!(whole.len(), gops.get_changes(&[]).len());
    assert_eq!(whole[0].summary, "case created: referral from sp-1");
    assert!(
        history::changes_between(&gops, &gops.get_heads(), &last_visit)
            .expect("history")
            .is_empty()
    );
    let concurrent =
        history::changes_between(&gops, &school.get_heads(), &health.get_heads()).expect("history");
    assert_eq!(concurrent.len(), 1, "only the health change");
    assert_eq!(concurrent[0].author.as_deref(), Some("ola"));
}

#[test]
fn versions_a_document_does_not_hold_are_refused() {
    let doc = referral();
    let mut elsewhere = fork_as(&doc, "jan-tablet");
    workflow::transition(&mut elsewhere, Stage::Screening, &jan(), march(1, 10)).expect("moved");
    let unknown = elsewhere.get_heads();
    let reason = rule_reason(history::changes_between(&doc, &unknown, &doc.get_heads()));
    assert!(reason.contains("not in this document"), "{reason}");
    let reason = rule_reason(history::case_at(&doc, &unknown));
    assert!(reason.contains("not in this document"), "{reason}");
}

#[test]
fn changes_from_other_clients_are_listed_without_an_author() {
    let mut doc = referral();
    let before = doc.get_heads();
    doc.transact(|tx| tx.put(ROOT, "clientNote", "from a JS client"))
        .expect("a raw change");
    let since = history::changes_between(&doc, &before, &doc.get_heads()).expect("history");
    assert_eq!(since.len(), 1);
    assert_eq!(
        (since[0].author.as_deref(), since[0].summary.as_str()),
        (None, "")
    );
    assert_eq!(since[0].local_time, "1970-01-01 01:00 CET");
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
