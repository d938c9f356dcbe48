//! The case workflow's contract and what follows it (K7.5 to 8.x): signing in person or remotely,
//! a contract changed after signing, the PZK's service basket, append-only monitoring notes,
//! consultations answered by several institutions, and consent given and withdrawn.

use chrono::{DateTime, Utc};
use kooperacja_test_support::nowak::*;
use sync_core::model::case::{
    self, ConsentEvent, ConsentState, ContactMode, MonitoringNote, ServiceStatus, Stage,
};
use sync_core::model::consultation::{Answer, ConsultationRequest};
use sync_core::model::{history, validate, workflow, Conflict};

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
